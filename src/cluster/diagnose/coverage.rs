//! Slot-level findings: `ClusterDown` (why nodes report `cluster_state:fail`),
//! `MajorityLost`, `UncoveredSlots` and `FullCoverageOff`.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::ctx::{Ctx, Nodes};
use super::masters::DownReason;
use super::ranges::{brief_ranges, slots_phrase};
use super::words::{EVIDENCE_NODES, SUMMARY_NODES, capitalize, label, plural};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::NodeSummary;
use crate::cluster::slots::{SlotRange, merge_ranges, push_slot};
use crate::cluster::types::NodeId;

impl<'a> Ctx<'a> {
    pub(super) fn slot_findings(&self, out: &mut Vec<Finding>) {
        if !self.observed_any {
            return;
        }
        let down_masters: Vec<(usize, DownReason)> = self
            .slot_masters
            .iter()
            .filter(|&&i| self.fact(i).down)
            .map(|&i| (i, self.down_reason(i)))
            .collect();
        self.cluster_down(&down_masters, out);
        if self.majority_lost() {
            out.push(self.majority_lost_finding(&down_masters));
        }
        if !self.uncovered.is_empty() {
            out.push(self.uncovered_finding());
        }
        self.full_coverage_off(out);
        for (i, reason) in &down_masters {
            out.push(self.master_down_finding(*i, reason));
        }
    }

    /// Why nodes report `cluster_state:fail`, with every cause in view.
    fn cluster_down(&self, down_masters: &[(usize, DownReason)], out: &mut Vec<Finding>) {
        let members: Vec<(usize, &NodeSummary)> = self.members_observed().collect();
        let failing: Vec<usize> = members
            .iter()
            .filter(|(_, n)| n.cluster_state_ok == Some(false))
            .map(|(i, _)| *i)
            .collect();
        if failing.is_empty() {
            return;
        }
        let ok: Vec<usize> = members
            .iter()
            .filter(|(_, n)| n.cluster_state_ok == Some(true))
            .map(|(i, _)| *i)
            .collect();
        let mut causes = self.cluster_wide_causes(down_masters);
        causes.extend(self.per_node_causes(&failing));
        if causes.is_empty() {
            causes.push(
                "no cause visible: a node stays in fail for about 2 s after boot and after \
                 rejoining a majority; if it persists, read its log"
                    .to_owned(),
            );
        }
        out.push(self.cluster_down_finding(down_masters, &failing, &ok, &causes));
    }

    /// Causes that hold for the whole cluster: lost majority, down masters, unbound slots.
    fn cluster_wide_causes(&self, down_masters: &[(usize, DownReason)]) -> Vec<String> {
        let mut causes: Vec<String> = Vec::new();
        if self.majority_lost() {
            causes.push(format!(
                "only {} of {} slot-owning masters are reachable ({} needed)",
                self.live_slot_masters,
                self.slot_masters.len(),
                self.majority_needed()
            ));
        }
        for (i, reason) in down_masters {
            if let Some(n) = self.node(*i) {
                causes.push(format!("master {} {}", label(n), reason.short));
            }
        }
        if !self.uncovered.is_empty() {
            causes.push(format!(
                "{} bound to no master",
                slots_phrase(&self.uncovered)
            ));
        }
        causes
    }

    /// Per-node causes of the failing nodes: a minority partition, or slots unbound in its
    /// own view (nodes that see the same ranges unbound are one cause, not one per node).
    fn per_node_causes(&self, failing: &[usize]) -> Vec<String> {
        let mut causes: Vec<String> = Vec::new();
        let unreachable_from = self.unreachable_masters_per_observer();
        let unbound_in_view = self.unbound_in_own_view();
        let mut unbound_groups: Vec<(&[SlotRange], Vec<usize>)> = Vec::new();
        for &i in failing {
            let Some(n) = self.node(i) else { continue };
            let Some(id) = &n.id else { continue };
            if !self.majority_lost() && !self.slot_masters.is_empty() {
                let lost = unreachable_from.get(id).copied().unwrap_or(0);
                let reach = self.slot_masters.len().saturating_sub(lost);
                if reach < self.majority_needed() {
                    causes.push(format!(
                        "{} reaches only {reach} of {} slot-owning masters (minority side of a partition)",
                        label(n),
                        self.slot_masters.len()
                    ));
                }
            }
            if let Some(r) = unbound_in_view.get(id) {
                match unbound_groups.iter_mut().find(|(g, _)| *g == r.as_slice()) {
                    Some((_, who)) => who.push(i),
                    None => unbound_groups.push((r.as_slice(), vec![i])),
                }
            }
        }
        for (r, who) in &unbound_groups {
            let whose = if who.len() == 1 {
                self.names_idx(who, SUMMARY_NODES)
            } else {
                format!(
                    "{} nodes ({})",
                    who.len(),
                    self.names_idx(who, SUMMARY_NODES)
                )
            };
            causes.push(format!(
                "in the view of {whose}, {} are bound to no master",
                slots_phrase(r)
            ));
        }
        causes
    }

    /// The `ClusterDown` finding: headline from the first cause, every cause as evidence.
    fn cluster_down_finding(
        &self,
        down_masters: &[(usize, DownReason)],
        failing: &[usize],
        ok: &[usize],
        causes: &[String],
    ) -> Finding {
        let first = causes.first().cloned().unwrap_or_default();
        let head = if self.unserved.is_empty() {
            first
        } else {
            format!("{} not served: {first}", slots_phrase(&self.unserved))
        };
        let summary = if ok.is_empty() {
            format!("CLUSTER DOWN: {head}")
        } else {
            format!(
                "CLUSTER PARTLY DOWN: {} of {} nodes report cluster_state:fail: {head}",
                failing.len(),
                failing.len() + ok.len()
            )
        };
        let mut f = Finding::new(FindingKind::ClusterDown, Severity::Critical, summary);
        f.slots.clone_from(&self.unserved);
        let mut b = Nodes::default();
        for &i in failing {
            b.add(self.node(i));
        }
        for (i, _) in down_masters {
            b.add(self.node(*i));
        }
        b.finish(&mut f);
        f.evidence.push(format!(
            "cluster_state:fail on {} of {} nodes: {}",
            failing.len(),
            failing.len() + ok.len(),
            self.names_idx(failing, EVIDENCE_NODES)
        ));
        if !ok.is_empty() {
            f.evidence.push(format!(
                "cluster_state:ok on: {}",
                self.names_idx(ok, EVIDENCE_NODES)
            ));
        }
        for c in causes {
            f.evidence.push(format!("cause: {c}"));
        }
        f.evidence.push(
            "clients asking the failing nodes get \"CLUSTERDOWN The cluster is down\"".to_owned(),
        );
        f
    }

    /// For every observer id: how many slot-owning masters it flags `fail?` or `fail`.
    fn unreachable_masters_per_observer(&self) -> HashMap<&'a NodeId, usize> {
        let mut out: HashMap<&NodeId, usize> = HashMap::new();
        for &i in &self.slot_masters {
            let Some(n) = self.node(i) else { continue };
            let mut seen: HashSet<&NodeId> = HashSet::new();
            for obs in n.peers.pfail_by.iter().chain(&n.peers.fail_by) {
                if seen.insert(obs) {
                    *out.entry(obs).or_insert(0) += 1;
                }
            }
        }
        out
    }

    /// Slots each node sees unbound in its own view while the consensus binds them.
    fn unbound_in_own_view(&self) -> HashMap<&'a NodeId, Vec<SlotRange>> {
        let mut out: HashMap<&NodeId, Vec<SlotRange>> = HashMap::new();
        for d in &self.model.disagreements {
            if d.its_owner.is_none() && d.consensus_owner.is_some() {
                out.entry(&d.node).or_default().extend_from_slice(&d.slots);
            }
        }
        for r in out.values_mut() {
            *r = merge_ranges(std::mem::take(r));
        }
        out
    }

    fn majority_lost_finding(&self, down_masters: &[(usize, DownReason)]) -> Finding {
        let down: Vec<usize> = down_masters.iter().map(|(i, _)| *i).collect();
        let summary = format!(
            "MAJORITY LOST: only {} of {} slot-owning masters are reachable ({} needed): no failover \
             can be authorized; down: {}",
            self.live_slot_masters,
            self.slot_masters.len(),
            self.majority_needed(),
            self.names_idx(&down, SUMMARY_NODES)
        );
        let mut f = Finding::new(FindingKind::MajorityLost, Severity::Critical, summary);
        f.slots = merge_ranges(
            down.iter()
                .flat_map(|&i| self.owned(i).iter().copied())
                .collect(),
        );
        let mut b = Nodes::default();
        for &i in &down {
            b.add(self.node(i));
        }
        b.finish(&mut f);
        let live: Vec<usize> = self
            .slot_masters
            .iter()
            .copied()
            .filter(|&i| !self.fact(i).down)
            .collect();
        f.evidence.push(format!(
            "reachable slot-owning masters: {}",
            if live.is_empty() {
                "none".to_owned()
            } else {
                self.names_idx(&live, EVIDENCE_NODES)
            }
        ));
        f.evidence
            .push(format!("down: {}", self.names_idx(&down, EVIDENCE_NODES)));
        f.evidence.push(
            "a failure is only agreed (fail) and a replica only elected with votes from a majority \
             of slot-owning masters; every node on the minority side reports cluster_state:fail"
                .to_owned(),
        );
        f.evidence.push(
            "bring the stopped masters back; if they are gone for good, run CLUSTER FAILOVER \
             TAKEOVER on one replica of each (no agreement needed)"
                .to_owned(),
        );
        f
    }

    fn uncovered_finding(&self) -> Finding {
        // Keys per reachable master in uncovered slots.
        let mut holders: BTreeMap<&NodeId, (u64, Vec<SlotRange>)> = BTreeMap::new();
        for (slot, per_node) in &self.model.uncovered_keys {
            for (id, &keys) in per_node {
                if keys == 0 {
                    continue;
                }
                let e = holders.entry(id).or_default();
                e.0 += keys;
                push_slot(&mut e.1, *slot);
            }
        }
        let keys_part = if holders.is_empty() {
            "no reachable master holds keys in them".to_owned()
        } else {
            let parts: Vec<String> = holders
                .iter()
                .take(SUMMARY_NODES)
                .map(|(id, (k, r))| {
                    format!(
                        "{k} {} on {} in {}",
                        plural(usize::try_from(*k).unwrap_or(usize::MAX), "key", "keys"),
                        self.id_label(id),
                        slots_phrase(r)
                    )
                })
                .collect();
            let mut s = parts.join(", ");
            if holders.len() > SUMMARY_NODES {
                s = format!("{s}, +{} more nodes", holders.len() - SUMMARY_NODES);
            }
            s
        };
        let summary = format!(
            "{} bound to no master; {keys_part}",
            capitalize(&slots_phrase(&self.uncovered))
        );
        let mut f = Finding::new(FindingKind::UncoveredSlots, Severity::Critical, summary);
        f.slots.clone_from(&self.uncovered);
        let mut b = Nodes::default();
        for id in holders.keys() {
            b.add_id(self, id);
        }
        b.finish(&mut f);
        for (id, (k, r)) in &holders {
            f.evidence.push(format!(
                "{} holds {k} keys in slots {}",
                self.id_label(id),
                brief_ranges(r)
            ));
        }
        if holders.is_empty() {
            f.evidence.push(
                "no reachable master holds keys in these slots: their data, if any, is on an \
                 unreachable or forgotten node, or lost"
                    .to_owned(),
            );
            f.evidence.push(
                "assign them with CLUSTER ADDSLOTSRANGE on a master (after making sure no \
                 stopped node still owns their data)"
                    .to_owned(),
            );
        } else {
            f.evidence.push(
                "assign each range to the master that holds its keys (CLUSTER ADDSLOTSRANGE on \
                 it), so no data is lost"
                    .to_owned(),
            );
        }
        f
    }

    fn full_coverage_off(&self, out: &mut Vec<Finding>) {
        if self.unserved.is_empty() {
            return;
        }
        let off: Vec<usize> = self
            .members_observed()
            .filter(|(_, n)| {
                n.cluster_state_ok == Some(true)
                    && n.config.as_ref().and_then(|c| c.require_full_coverage) == Some(false)
            })
            .map(|(i, _)| i)
            .collect();
        if off.is_empty() {
            return;
        }
        let symptom = if self.uncovered.is_empty() {
            "clients are redirected to the failed owner"
        } else {
            "keys in them fail with \"CLUSTERDOWN Hash slot not served\""
        };
        let summary = format!(
            "cluster_state is ok but {} are not served: cluster-require-full-coverage is no on {}, \
             so {symptom}",
            slots_phrase(&self.unserved),
            self.names_idx(&off, SUMMARY_NODES)
        );
        let mut f = Finding::new(FindingKind::FullCoverageOff, Severity::Critical, summary);
        f.slots.clone_from(&self.unserved);
        let mut b = Nodes::default();
        for &i in &off {
            b.add(self.node(i));
        }
        b.finish(&mut f);
        f.evidence.push(format!(
            "cluster-require-full-coverage no and cluster_state:ok on: {}",
            self.names_idx(&off, EVIDENCE_NODES)
        ));
        if !self.uncovered.is_empty() {
            f.evidence.push(format!(
                "bound to no master: {}",
                brief_ranges(&self.uncovered)
            ));
        }
        f.evidence.push(
            "monitoring that watches cluster_state sees nothing wrong; only the keys in these \
             slots fail"
                .to_owned(),
        );
        out.push(f);
    }
}

#[cfg(test)]
mod tests;
