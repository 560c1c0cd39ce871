//! The diagnosis: findings with severity, plain words, affected slots and nodes, evidence.
//! Pure code over a [`ClusterModel`]; the same findings feed the TUI, `check` and the fixes.
//!
//! # How it decides
//!
//! * A node is **down** when its peers agree it failed (`fail`), or when slotscope cannot
//!   observe it *and* at least one peer suspects it (`fail?`). A `fail?` from a peer about a node
//!   that answers slotscope is only a suspicion and is never reported on its own
//!   (`redis-cluster.md` §1.1). A node only slotscope cannot reach is *unreachable*, not down.
//! * Slots are **not served** when no master owns them (consensus map) or when their consensus
//!   owner is down.
//! * Every node gets at most one "node status" finding (the most specific one); further facts
//!   about it become evidence lines of that finding, so a dead master yields one `MasterDown`
//!   plus one `ClusterDown`, not five findings.
//! * Findings are sorted by severity (critical first), then by kind (causes before symptoms:
//!   `ClusterDown` first), then by first slot, then by first address, and deduplicated.
//!
//! The work is linear in nodes plus one walk over the 16384-slot map; peer lists are only
//! iterated for nodes that have something to report.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fasthash::{FxMap, IdKey};
use super::model::{
    ClusterModel, NodeSummary, OpenSlot, Reachability, Role, SlotState, ViewDisagreement,
};
use super::types::{NodeId, ProbeError, Slot, SlotRange, format_ranges, ranges_len};

#[cfg(test)]
mod tests;

/// `cluster-node-timeout` assumed when no node let us read it (the Redis default).
const DEFAULT_NODE_TIMEOUT: Duration = Duration::from_secs(15);
/// Slot ranges spelled out in a one-line summary before the rest is elided.
const SUMMARY_RANGES: usize = 4;
/// Nodes named in a one-line summary before the rest is elided.
const SUMMARY_NODES: usize = 3;
/// Nodes named in an evidence line before the rest is elided.
const EVIDENCE_NODES: usize = 8;

/// How bad a finding is. Ordered: `Critical` is the greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Notable but fine.
    Info,
    /// Degraded redundancy or stale membership: nothing is unavailable yet.
    Warning,
    /// Slots are unavailable or data is at risk now.
    Critical,
}

impl Severity {
    /// Lower-case name, as in the JSON document.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// Stable machine-readable kind of a finding (part of the JSON schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Why nodes report `cluster_state:fail`.
    ClusterDown,
    /// Slots bound to no master.
    UncoveredSlots,
    /// A master that is failed or unreachable, with its slots.
    MasterDown,
    /// A replica or slot-less node that is failed or unreachable.
    NodeDown,
    /// Fewer than a majority of slot-owning masters reachable.
    MajorityLost,
    /// Open slots (migrating / importing markers).
    OpenSlot,
    /// Nodes disagree about slot ownership.
    SlotOwnershipDispute,
    /// Two masters with the same config epoch.
    ConfigEpochCollision,
    /// A node some peers do not know.
    PartiallyKnownNode,
    /// A node in handshake or without address.
    HandshakeOrNoaddr,
    /// A running node that is not part of the cluster (needs CLUSTER MEET).
    NodeNotJoined,
    /// A replica whose master is unknown.
    ReplicaOfUnknownMaster,
    /// A failed node still listed in the table.
    LingeringFailedNode,
    /// A master without a replica.
    NoReplica,
    /// A replica whose master is failing.
    ReplicaMasterFailing,
    /// A replica whose replication link to its live master is down: it does not have the
    /// master's data, so a failover to it would lose writes.
    ReplicaNotSyncing,
    /// `cluster-require-full-coverage no` while slots are uncovered.
    FullCoverageOff,
    /// The server is not in cluster mode.
    NotCluster,
    /// A node could not be observed (refused, timeout, auth, loading).
    NodeUnreachable,
    /// Keys stored in databases other than 0, or other anomalies of data.
    DataAnomaly,
}

impl FindingKind {
    /// Sort rank among findings of equal severity: causes and headlines before symptoms.
    fn rank(self) -> u8 {
        match self {
            Self::ClusterDown => 0,
            Self::MajorityLost => 1,
            Self::FullCoverageOff => 2,
            Self::NotCluster => 3,
            Self::MasterDown => 4,
            Self::UncoveredSlots => 5,
            Self::SlotOwnershipDispute => 6,
            Self::OpenSlot => 7,
            Self::NodeUnreachable => 8,
            Self::NodeDown => 9,
            Self::LingeringFailedNode => 10,
            Self::NodeNotJoined => 11,
            Self::PartiallyKnownNode => 12,
            Self::HandshakeOrNoaddr => 13,
            Self::ReplicaOfUnknownMaster => 14,
            Self::ReplicaMasterFailing => 15,
            Self::ReplicaNotSyncing => 16,
            Self::ConfigEpochCollision => 17,
            Self::NoReplica => 18,
            Self::DataAnomaly => 19,
        }
    }
}

/// One finding of the diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    /// What class of problem this is.
    pub kind: FindingKind,
    /// How bad it is.
    pub severity: Severity,
    /// One line in plain words naming real things (addresses, short ids, slot ranges).
    pub summary: String,
    /// Affected slots.
    pub slots: Vec<SlotRange>,
    /// Affected nodes (ids).
    pub nodes: Vec<NodeId>,
    /// Affected nodes as `ip:port` for readers (same order as `nodes`; nodes whose id is unknown
    /// come last).
    pub addresses: Vec<String>,
    /// Evidence and explanation, one line each.
    pub evidence: Vec<String>,
}

impl Finding {
    fn new(kind: FindingKind, severity: Severity, summary: String) -> Self {
        Self {
            kind,
            severity,
            summary,
            slots: Vec::new(),
            nodes: Vec::new(),
            addresses: Vec::new(),
            evidence: Vec::new(),
        }
    }

    /// The key findings are sorted by: severity (worst first), kind, first slot, first address.
    fn sort_key(&self) -> (Reverse<Severity>, u8, u32, &str, &str) {
        (
            Reverse(self.severity),
            self.kind.rank(),
            self.slots.first().map_or(u32::MAX, |r| u32::from(r.start)),
            self.addresses.first().map_or("", String::as_str),
            self.summary.as_str(),
        )
    }
}

/// The whole diagnosis, most severe first.
#[must_use]
pub fn diagnose(model: &ClusterModel) -> Vec<Finding> {
    let ctx = Ctx::new(model);
    let mut out = Vec::new();
    ctx.slot_findings(&mut out);
    ctx.node_findings(&mut out);
    ctx.open_slot_findings(&mut out);
    ctx.dispute_findings(&mut out);
    ctx.epoch_findings(&mut out);
    sort_findings(&mut out);
    out
}

/// Sort findings into their canonical order and drop exact duplicates.
fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
}

/// Overall verdict: the worst severity, or `None` when healthy.
#[must_use]
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

/// The one-line verdict for the dashboard header and `check`: `CLUSTER DOWN: …`,
/// `CRITICAL: …`, `DEGRADED: …` or `OK: 16384/16384 slots served by 3 masters, 3 replicas`.
#[must_use]
pub fn verdict(model: &ClusterModel, findings: &[Finding]) -> String {
    let top = findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .min_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let more = |sev: Severity| {
        let n = findings.iter().filter(|f| f.severity >= sev).count();
        if n > 1 {
            format!(" (+{} more)", n - 1)
        } else {
            String::new()
        }
    };
    match top {
        Some(f) if f.severity == Severity::Critical => {
            if f.kind == FindingKind::ClusterDown {
                format!("{}{}", f.summary, more(Severity::Critical))
            } else {
                format!("CRITICAL: {}{}", f.summary, more(Severity::Critical))
            }
        }
        Some(f) => format!("DEGRADED: {}{}", f.summary, more(Severity::Warning)),
        None => ok_verdict(model, findings.len()),
    }
}

fn ok_verdict(model: &ClusterModel, notes: usize) -> String {
    if !model
        .nodes
        .iter()
        .any(|n| matches!(n.reachability, Reachability::Ok))
    {
        return "UNKNOWN: no cluster node could be observed".to_owned();
    }
    let mut owners = HashSet::new();
    let mut served = 0usize;
    for e in &model.slots {
        if let Some(o) = e.owner {
            owners.insert(o);
            // A disputed slot is not plainly served (some member views bind it elsewhere).
            served += usize::from(e.state != SlotState::Disputed);
        }
    }
    let replicas = model
        .nodes
        .iter()
        .filter(|n| n.role == Role::Replica)
        .count();
    let total = model.slots.len();
    let notes = match notes {
        0 => String::new(),
        1 => " (1 note)".to_owned(),
        n => format!(" ({n} notes)"),
    };
    format!(
        "OK: {served}/{total} slots served by {} {}, {replicas} {}{notes}",
        owners.len(),
        plural(owners.len(), "master", "masters"),
        plural(replicas, "replica", "replicas"),
    )
}

// ---------------------------------------------------------------------------------------------
// Context: everything derived once from the model.

/// Per-node facts derived once.
#[derive(Clone, Copy, Debug, Default)]
struct Facts {
    /// Peers agree it failed (`fail`).
    agreed_fail: bool,
    /// Agreed failed, or unobservable and suspected.
    down: bool,
}

struct Ctx<'a> {
    model: &'a ClusterModel,
    by_id: FxMap<IdKey<'a>, usize>,
    facts: Vec<Facts>,
    /// Consensus-owned ranges per node index.
    owned: Vec<Vec<SlotRange>>,
    /// Replica indices per master index.
    replicas: Vec<Vec<usize>>,
    /// Slots bound to no master.
    uncovered: Vec<SlotRange>,
    /// Uncovered slots plus slots whose owner is down, merged.
    unserved: Vec<SlotRange>,
    /// Masters owning at least one slot in the consensus map.
    slot_masters: Vec<usize>,
    /// Of those, how many are not down.
    live_slot_masters: usize,
    /// At least one node answered as a cluster node.
    observed_any: bool,
    /// Ids of nodes that are not part of the cluster (their tables prove nothing).
    isolated: HashSet<&'a NodeId>,
    node_timeout_ms: u64,
}

impl<'a> Ctx<'a> {
    fn new(model: &'a ClusterModel) -> Self {
        let n = model.nodes.len();
        let mut by_id: FxMap<IdKey<'a>, usize> = FxMap::default();
        by_id.reserve(n);
        for (i, node) in model.nodes.iter().enumerate() {
            if let Some(id) = &node.id {
                by_id.entry(IdKey(id)).or_insert(i);
            }
        }
        let facts: Vec<Facts> = model.nodes.iter().map(node_facts).collect();

        // One walk over the slot map.
        let mut owned: Vec<Vec<SlotRange>> = vec![Vec::new(); n];
        let mut uncovered = Vec::new();
        // Run by run of slots with the same owner, not slot by slot.
        let mut start = 0usize;
        while let Some(entry) = model.slots.get(start) {
            let len = model.slots[start..]
                .iter()
                .position(|e| e.owner != entry.owner)
                .unwrap_or(model.slots.len() - start);
            let (Ok(first), Ok(last)) = (Slot::try_from(start), Slot::try_from(start + len - 1))
            else {
                break;
            };
            let range = SlotRange::new(first, last);
            match entry.owner.and_then(|o| owned.get_mut(o as usize)) {
                Some(ranges) => push_range(ranges, range),
                None => push_range(&mut uncovered, range),
            }
            start += len;
        }

        let mut replicas: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, node) in model.nodes.iter().enumerate() {
            if node.role == Role::Replica
                && let Some(m) = node.master_id.as_ref().and_then(|m| by_id.get(&IdKey(m)))
                && let Some(list) = replicas.get_mut(*m)
                && *m != i
            {
                list.push(i);
            }
        }

        let slot_masters: Vec<usize> = (0..n)
            .filter(|&i| owned.get(i).is_some_and(|r| !r.is_empty()))
            .collect();
        let live_slot_masters = slot_masters
            .iter()
            .filter(|&&i| facts.get(i).is_some_and(|f| !f.down))
            .count();

        let mut unserved = uncovered.clone();
        for &i in &slot_masters {
            if facts.get(i).is_some_and(|f| f.down)
                && let Some(r) = owned.get(i)
            {
                unserved.extend_from_slice(r);
            }
        }
        let unserved = merge_ranges(unserved);

        let observed_any = model
            .nodes
            .iter()
            .any(|n| matches!(n.reachability, Reachability::Ok));
        let isolated = model
            .nodes
            .iter()
            .filter(|n| n.isolated)
            .filter_map(|n| n.id.as_ref())
            .collect();
        let node_timeout_ms = most_common(
            model
                .nodes
                .iter()
                .filter_map(|n| n.config.as_ref().and_then(|c| c.node_timeout_ms)),
        )
        .unwrap_or_else(|| u64::try_from(DEFAULT_NODE_TIMEOUT.as_millis()).unwrap_or(15_000));

        Self {
            model,
            by_id,
            facts,
            owned,
            replicas,
            uncovered,
            unserved,
            slot_masters,
            live_slot_masters,
            observed_any,
            isolated,
            node_timeout_ms,
        }
    }

    fn node(&self, i: usize) -> Option<&'a NodeSummary> {
        self.model.nodes.get(i)
    }

    fn fact(&self, i: usize) -> Facts {
        self.facts.get(i).copied().unwrap_or_default()
    }

    fn owned(&self, i: usize) -> &[SlotRange] {
        self.owned.get(i).map_or(&[], Vec::as_slice)
    }

    fn replicas_of(&self, i: usize) -> &[usize] {
        self.replicas.get(i).map_or(&[], Vec::as_slice)
    }

    fn index(&self, id: &NodeId) -> Option<usize> {
        self.by_id.get(&IdKey(id)).copied()
    }

    /// `addr (shortid)` for an id, or `unknown node shortid`.
    fn id_label(&self, id: &NodeId) -> String {
        match self.index(id).and_then(|i| self.node(i)) {
            Some(n) => label(n),
            None => format!("unknown node {}", id.short()),
        }
    }

    /// Address for an id (for `Finding::addresses`).
    fn id_addr(&self, id: &NodeId) -> String {
        match self.index(id).and_then(|i| self.node(i)) {
            Some(n) => addr_of(n),
            None => "(unknown)".to_owned(),
        }
    }

    /// Labels of up to `max` ids, then `+N more`.
    fn names(&self, ids: &[NodeId], max: usize) -> String {
        let mut parts: Vec<String> = ids.iter().take(max).map(|id| self.id_label(id)).collect();
        if ids.len() > max {
            parts.push(format!("+{} more", ids.len() - max));
        }
        parts.join(", ")
    }

    /// Labels of up to `max` node indices, then `+N more`.
    fn names_idx(&self, idx: &[usize], max: usize) -> String {
        let mut parts: Vec<String> = idx
            .iter()
            .take(max)
            .filter_map(|&i| self.node(i))
            .map(label)
            .collect();
        if idx.len() > max {
            parts.push(format!("+{} more", idx.len() - max));
        }
        parts.join(", ")
    }

    fn majority_needed(&self) -> usize {
        self.slot_masters.len() / 2 + 1
    }

    fn majority_lost(&self) -> bool {
        !self.slot_masters.is_empty() && self.live_slot_masters < self.majority_needed()
    }

    /// Nodes that answered as members of the cluster (not isolated, not failed probes).
    fn members_observed(&self) -> impl Iterator<Item = (usize, &'a NodeSummary)> + '_ {
        self.model
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.reachability, Reachability::Ok) && !n.isolated)
    }

    // -----------------------------------------------------------------------------------------
    // Slot-level findings: ClusterDown, MajorityLost, UncoveredSlots, FullCoverageOff.

    fn slot_findings(&self, out: &mut Vec<Finding>) {
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

    #[allow(clippy::too_many_lines)]
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
        // Per-node causes: a minority partition, or slots unbound in its own view.
        let unreachable_from = self.unreachable_masters_per_observer();
        let unbound_in_view = self.unbound_in_own_view();
        // Nodes that see the same ranges unbound are one cause, not one per node.
        let mut unbound_groups: Vec<(&[SlotRange], Vec<usize>)> = Vec::new();
        for &i in &failing {
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
        if causes.is_empty() {
            causes.push(
                "no cause visible: a node stays in fail for about 2 s after boot and after \
                 rejoining a majority; if it persists, read its log"
                    .to_owned(),
            );
        }

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
        for &i in &failing {
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
            self.names_idx(&failing, EVIDENCE_NODES)
        ));
        if !ok.is_empty() {
            f.evidence.push(format!(
                "cluster_state:ok on: {}",
                self.names_idx(&ok, EVIDENCE_NODES)
            ));
        }
        for c in &causes {
            f.evidence.push(format!("cause: {c}"));
        }
        f.evidence.push(
            "clients asking the failing nodes get \"CLUSTERDOWN The cluster is down\"".to_owned(),
        );
        out.push(f);
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

    // -----------------------------------------------------------------------------------------
    // MasterDown.

    #[allow(clippy::too_many_lines)]
    fn down_reason(&self, i: usize) -> DownReason {
        let Some(n) = self.node(i) else {
            return DownReason::default();
        };
        let fact = self.fact(i);
        let verb = if fact.agreed_fail {
            "failed"
        } else {
            "is unreachable"
        };
        let reps = self.replicas_of(i);
        let dead: Vec<usize> = reps
            .iter()
            .copied()
            .filter(|&r| self.fact(r).down)
            .collect();
        let alive: Vec<usize> = reps
            .iter()
            .copied()
            .filter(|&r| !self.fact(r).down)
            .collect();
        let nofailover: Vec<usize> = alive
            .iter()
            .copied()
            .filter(|&r| self.node(r).is_some_and(|n| n.flags.nofailover))
            .collect();
        let candidates: Vec<usize> = alive
            .iter()
            .copied()
            .filter(|r| !nofailover.contains(r))
            .collect();
        let nt = self.node_timeout_ms;
        let age = n.peers.max_pong_age_ms;
        let grace = nt.saturating_mul(2).saturating_add(3000);
        let mut evidence = Vec::new();

        let short = if reps.is_empty() {
            format!("{verb} and has no replica")
        } else if alive.is_empty() {
            format!(
                "{verb} and its {} {} down too",
                plural(dead.len(), "replica", "replicas"),
                if dead.len() == 1 {
                    format!("{} is", self.names_idx(&dead, SUMMARY_NODES))
                } else {
                    format!("{} are", self.names_idx(&dead, SUMMARY_NODES))
                }
            )
        } else if self.majority_lost() {
            format!(
                "{verb}; no majority of masters to elect its replica {}",
                self.names_idx(alive.get(..1).unwrap_or(&[]), 1)
            )
        } else if candidates.is_empty() {
            format!(
                "{verb}; its replica {} has nofailover set (cluster-replica-no-failover yes)",
                self.names_idx(nofailover.get(..1).unwrap_or(&[]), 1)
            )
        } else if !fact.agreed_fail {
            if age.is_none_or(|a| a <= grace) {
                format!(
                    "{verb}; failure not agreed yet, failover of {} may be in progress",
                    self.names_idx(candidates.get(..1).unwrap_or(&[]), 1)
                )
            } else {
                format!(
                    "{verb}; its peers have not agreed it failed, so replica {} cannot take over",
                    self.names_idx(candidates.get(..1).unwrap_or(&[]), 1)
                )
            }
        } else if age.is_some_and(|a| a <= grace) {
            format!(
                "{verb}; failover in progress, replica {} should take over",
                self.names_idx(candidates.get(..1).unwrap_or(&[]), 1)
            )
        } else {
            format!(
                "{verb}; its replica {} has not taken over",
                self.names_idx(candidates.get(..1).unwrap_or(&[]), 1)
            )
        };

        if reps.is_empty() {
            evidence.push(
                "no replica: nothing can take over its slots; restart it (its nodes.conf keeps \
                 its slots) or, if it is gone for good, reassign them (its keys are lost)"
                    .to_owned(),
            );
        } else {
            let states: Vec<String> = reps
                .iter()
                .filter_map(|&r| self.node(r).map(|n| (r, n)))
                .map(|(r, rn)| {
                    let state = if self.fact(r).down {
                        "down"
                    } else if rn.flags.nofailover {
                        "alive, nofailover"
                    } else if matches!(rn.reachability, Reachability::Ok) {
                        "alive"
                    } else {
                        "not observed"
                    };
                    format!("{} ({state})", label(rn))
                })
                .collect();
            evidence.push(format!("replicas: {}", states.join(", ")));
            if !candidates.is_empty() && !self.majority_lost() {
                evidence.push(format!(
                    "if it does not happen on its own, run CLUSTER FAILOVER FORCE on {} (or \
                     TAKEOVER if the masters cannot agree)",
                    self.names_idx(candidates.get(..1).unwrap_or(&[]), 1)
                ));
            }
        }
        if self.majority_lost() {
            evidence.push(format!(
                "only {} of {} slot-owning masters reachable: a failover needs {} votes",
                self.live_slot_masters,
                self.slot_masters.len(),
                self.majority_needed()
            ));
        }
        if let Some(a) = age {
            evidence.push(format!(
                "last heard by a peer {} ago; cluster-node-timeout {}",
                human_ms(a),
                human_ms(nt)
            ));
        }
        DownReason { short, evidence }
    }

    fn master_down_finding(&self, i: usize, reason: &DownReason) -> Finding {
        let Some(n) = self.node(i) else {
            return Finding::new(FindingKind::MasterDown, Severity::Critical, String::new());
        };
        let owned = self.owned(i);
        let summary = format!(
            "master {} {}: {} not served",
            label(n),
            reason.short,
            slots_phrase(owned)
        );
        let mut f = Finding::new(FindingKind::MasterDown, Severity::Critical, summary);
        f.slots = owned.to_vec();
        let mut b = Nodes::default();
        b.add(Some(n));
        b.finish(&mut f);
        f.evidence.extend(self.status_evidence(i));
        f.evidence.extend(reason.evidence.iter().cloned());
        f.evidence.extend(self.membership_notes(i));
        f.evidence.extend(self.restarted_as(i));
        f
    }

    /// Probe error and peer flags for a node, one line each.
    fn status_evidence(&self, i: usize) -> Vec<String> {
        let Some(n) = self.node(i) else {
            return Vec::new();
        };
        let mut ev = Vec::new();
        match &n.reachability {
            Reachability::Ok => {
                if self.fact(i).agreed_fail {
                    ev.push(format!(
                        "it answers slotscope, but its peers flag it fail: its cluster bus (port {}) \
                         is blocked or partitioned from them",
                        n.addr.cport
                    ));
                }
            }
            Reachability::Failed(e) => ev.push(format!("slotscope: {e}")),
            Reachability::NotProbed => ev.push("slotscope: not probed (no usable address)".into()),
        }
        if !n.peers.fail_by.is_empty() {
            ev.push(format!(
                "flagged fail by {}: {}",
                count_nodes(n.peers.fail_by.len()),
                self.names(&n.peers.fail_by, EVIDENCE_NODES)
            ));
        }
        if !n.peers.pfail_by.is_empty() {
            ev.push(format!(
                "flagged fail? (suspected) by {}: {}",
                count_nodes(n.peers.pfail_by.len()),
                self.names(&n.peers.pfail_by, EVIDENCE_NODES)
            ));
        }
        if matches!(n.reachability, Reachability::Failed(_))
            && n.peers.fail_by.is_empty()
            && n.peers.pfail_by.is_empty()
            && !n.peers.known_by.is_empty()
        {
            ev.push(format!(
                "its peers still see it alive ({} list it without fail flags)",
                count_nodes(n.peers.known_by.len())
            ));
        }
        ev
    }

    /// A node that now answers at this node's address with another id (lost nodes.conf).
    fn restarted_as(&self, i: usize) -> Option<String> {
        let n = self.node(i)?;
        let ep = n.addr.endpoint().or_else(|| n.endpoint.clone())?;
        self.model
            .nodes
            .iter()
            .filter(|o| o.id != n.id && o.isolated)
            .find(|o| o.endpoint.as_ref() == Some(&ep) || o.addr.endpoint().as_ref() == Some(&ep))
            .map(|o| {
                format!(
                    "{} now answers as a new node {} that is not part of the cluster: it was \
                     restarted without its nodes.conf",
                    ep,
                    o.id.as_ref().map_or("(id unknown)", NodeId::short)
                )
            })
    }

    // -----------------------------------------------------------------------------------------
    // Node findings: one status finding per node, plus NoReplica and DataAnomaly.

    fn node_findings(&self, out: &mut Vec<Finding>) {
        let meet_target = self
            .members_observed()
            .find_map(|(_, n)| n.addr.endpoint().or_else(|| n.endpoint.clone()));
        for (i, n) in self.model.nodes.iter().enumerate() {
            let fact = self.fact(i);
            let owned = self.owned(i);
            if owned.is_empty() || !fact.down {
                // Slot owners that are down are reported by `MasterDown` already.
                if let Some(f) = self.node_status(i, n, fact, meet_target.as_ref()) {
                    out.push(f);
                }
            }
            if n.role == Role::Master
                && !owned.is_empty()
                && !fact.down
                && self.replicas_of(i).is_empty()
            {
                out.push(self.no_replica(i, n));
            }
            if let Some(f) = self.replica_not_syncing(i, n) {
                out.push(f);
            }
            if let Some(info) = &n.info
                && matches!(n.reachability, Reachability::Ok)
                && info.keys_other_dbs > 0
            {
                let mut f = Finding::new(
                    FindingKind::DataAnomaly,
                    Severity::Warning,
                    format!(
                        "{} holds {} keys outside db0: cluster mode serves only db0, and a node \
                         with such keys refuses to start in cluster mode",
                        label(n),
                        info.keys_other_dbs
                    ),
                );
                let mut b = Nodes::default();
                b.add(Some(n));
                b.finish(&mut f);
                f.evidence.push(format!(
                    "INFO keyspace: {} keys in databases other than 0",
                    info.keys_other_dbs
                ));
                f.evidence.push(
                    "move them to db0 under keys of the right slot, or delete them, before the \
                     next restart"
                        .to_owned(),
                );
                out.push(f);
            }
        }
    }

    fn no_replica(&self, i: usize, n: &NodeSummary) -> Finding {
        let owned = self.owned(i);
        let mut f = Finding::new(
            FindingKind::NoReplica,
            Severity::Warning,
            format!(
                "master {} serves {} with no replica: one failure takes them down",
                label(n),
                slots_phrase(owned)
            ),
        );
        f.slots = owned.to_vec();
        let mut b = Nodes::default();
        b.add(Some(n));
        b.finish(&mut f);
        f.evidence.push(
            "no node lists it as its master; add one with CLUSTER REPLICATE on a spare node"
                .to_owned(),
        );
        f
    }

    /// The single most specific status finding for a node, with its other facts as evidence.
    #[allow(clippy::too_many_lines)]
    fn node_status(
        &self,
        i: usize,
        n: &NodeSummary,
        fact: Facts,
        meet_target: Option<&super::types::Endpoint>,
    ) -> Option<Finding> {
        let owned = self.owned(i);
        // Labels are built only for nodes that get a finding (this runs for every node).
        let role = || self.role_phrase(i, n);
        let lbl = || label(n);
        let mut f = match &n.reachability {
            Reachability::Failed(ProbeError::NotCluster { version }) => {
                let what = match version {
                    Some(v) => format!("a standalone Redis {v}"),
                    None => "a standalone Redis".to_owned(),
                };
                let mut f = Finding::new(
                    FindingKind::NotCluster,
                    Severity::Critical,
                    format!(
                        "{} is {what} (cluster_enabled:0), not a cluster node: start it with \
                         `cluster-enabled yes` in redis.conf, then add it with CLUSTER MEET / \
                         redis-cli --cluster add-node",
                        addr_of(n)
                    ),
                );
                f.evidence.push(
                    "INFO cluster says cluster_enabled:0: CLUSTER commands are refused, it holds \
                     no slots and serves all keys itself"
                        .to_owned(),
                );
                f.evidence.push(
                    "if you meant to inspect a cluster, point slotscope at one of its nodes"
                        .to_owned(),
                );
                f
            }
            Reachability::Failed(e)
                if fact.agreed_fail && n.role != Role::Replica && owned.is_empty() =>
            {
                self.lingering(n, Some(e))
            }
            Reachability::NotProbed
                if fact.agreed_fail && n.role != Role::Replica && owned.is_empty() =>
            {
                self.lingering(n, None)
            }
            Reachability::Failed(e) => {
                let severity = if owned.is_empty() {
                    Severity::Warning
                } else {
                    Severity::Critical
                };
                let mut f = Finding::new(
                    FindingKind::NodeUnreachable,
                    severity,
                    format!("{} {} {}", role(), lbl(), unreachable_phrase(e)),
                );
                f.slots = owned.to_vec();
                f.evidence.extend(self.status_evidence(i));
                f.evidence.extend(self.replica_consequence(i, n));
                f
            }
            Reachability::Ok if n.info.as_ref().and_then(|x| x.loading) == Some(true) => {
                let severity = if owned.is_empty() {
                    Severity::Warning
                } else {
                    Severity::Critical
                };
                let mut f = Finding::new(
                    FindingKind::NodeUnreachable,
                    severity,
                    format!(
                        "{} {} {}",
                        role(),
                        lbl(),
                        unreachable_phrase(&ProbeError::Loading)
                    ),
                );
                f.slots = owned.to_vec();
                f
            }
            Reachability::Ok if fact.agreed_fail => {
                let mut f = Finding::new(
                    FindingKind::NodeDown,
                    Severity::Warning,
                    format!(
                        "{} {} answers slotscope but its peers flag it fail: its cluster \
                         bus port {} is blocked or it is partitioned from them",
                        role(),
                        lbl(),
                        n.addr.cport
                    ),
                );
                f.evidence.extend(self.status_evidence(i));
                f.evidence.extend(self.replica_consequence(i, n));
                f
            }
            _ if n.isolated => {
                let hint = match meet_target {
                    Some(ep) => format!("run CLUSTER MEET {} {} on it", ep.host, ep.port),
                    None => "run CLUSTER MEET <ip> <port> of a cluster node on it".to_owned(),
                };
                let alone = if n.claimed_slots.is_empty() {
                    "it knows only itself and owns no slots".to_owned()
                } else {
                    format!(
                        "it knows only itself and claims {}",
                        slots_phrase(&n.claimed_slots)
                    )
                };
                let mut f = Finding::new(
                    FindingKind::NodeNotJoined,
                    Severity::Warning,
                    format!(
                        "{} runs in cluster mode but is not part of the cluster ({alone}): \
                         {hint}",
                        lbl()
                    ),
                );
                if let Some(keys) = n.info.as_ref().and_then(|x| x.keys)
                    && keys > 0
                {
                    f.evidence.push(format!(
                        "it holds {keys} keys in db0 that no client of the cluster can reach"
                    ));
                }
                f.evidence.push(
                    "a node restarted without its nodes.conf, or never added, looks like this"
                        .to_owned(),
                );
                f
            }
            _ => return self.membership_status(i, n),
        };
        let mut b = Nodes::default();
        b.add(Some(n));
        b.finish(&mut f);
        if f.kind != FindingKind::NodeNotJoined && f.kind != FindingKind::NotCluster {
            f.evidence.extend(self.membership_notes(i));
        }
        Some(f)
    }

    fn lingering(&self, n: &NodeSummary, err: Option<&ProbeError>) -> Finding {
        if let Some(e @ (ProbeError::Unresponsive(_) | ProbeError::Loading)) = err {
            return self.hung_failed_over(n, e);
        }
        let listed = n.peers.known_by.len();
        let forget = n.id.as_ref().map_or_else(
            || "CLUSTER FORGET <id>".to_owned(),
            |id| format!("CLUSTER FORGET {id}"),
        );
        let mut f = Finding::new(
            FindingKind::LingeringFailedNode,
            Severity::Warning,
            format!(
                "{} is a failed node with no slots still listed by {}: left over after a failover? \
                 Restart it to rejoin as a replica, or run {forget} on every node",
                label(n),
                count_nodes(listed)
            ),
        );
        if let Some(e) = err {
            f.evidence.push(format!("slotscope: {e}"));
        }
        if !n.peers.fail_by.is_empty() {
            f.evidence.push(format!(
                "flagged fail by: {}",
                self.names(&n.peers.fail_by, EVIDENCE_NODES)
            ));
        }
        f.evidence.push(
            "redis-cli --cluster fix refuses to run while a failed master is listed (unless \
             --cluster-fix-with-unreachable-masters)"
                .to_owned(),
        );
        f
    }

    /// A failed, slot-less ex-master whose process is alive but does not answer (paused,
    /// swapping, stuck in a long command) or is loading: its slots were failed over, and it
    /// must not be forgotten (it will come back).
    fn hung_failed_over(&self, n: &NodeSummary, e: &ProbeError) -> Finding {
        let what = if matches!(e, ProbeError::Loading) {
            "is loading its dataset"
        } else {
            "accepts connections but does not answer (hung, paused or swapping)"
        };
        let mut f = Finding::new(
            FindingKind::NodeUnreachable,
            Severity::Warning,
            format!(
                "{} {what}; its peers flag it fail and its slots were failed over to a replica",
                label(n)
            ),
        );
        f.evidence.push(format!("slotscope: {e}"));
        if !n.peers.fail_by.is_empty() {
            f.evidence.push(format!(
                "flagged fail by: {}",
                self.names(&n.peers.fail_by, EVIDENCE_NODES)
            ));
        }
        f.evidence.push(
            "when it answers again it rejoins as a replica of the new master; do not \
             CLUSTER FORGET it while it is alive"
                .to_owned(),
        );
        f
    }

    /// For a failing replica: what its master is left with.
    fn replica_consequence(&self, i: usize, n: &NodeSummary) -> Option<String> {
        if n.role != Role::Replica {
            return None;
        }
        let m = n.master_id.as_ref().and_then(|m| self.index(m))?;
        let master = self.node(m)?;
        let others = self
            .replicas_of(m)
            .iter()
            .filter(|&&r| r != i && !self.fact(r).down)
            .count();
        Some(if others == 0 {
            format!(
                "its master {} has no other working replica: one more failure takes {} down",
                label(master),
                slots_phrase(self.owned(m))
            )
        } else {
            format!(
                "its master {} still has {others} working {}",
                label(master),
                plural(others, "replica", "replicas")
            )
        })
    }

    /// Membership and replica-relation findings for a node with no worse status.
    #[allow(clippy::too_many_lines)]
    fn membership_status(&self, i: usize, n: &NodeSummary) -> Option<Finding> {
        let handshake = n.flags.handshake || !n.peers.handshake_by.is_empty();
        let noaddr = n.flags.noaddr || !n.peers.noaddr_by.is_empty();
        let unknown_to = self.unknown_to(n);
        let mut f = if handshake || noaddr {
            let summary = if handshake {
                format!(
                    "{} is stuck in handshake in the table of {}: a CLUSTER MEET that did not \
                     complete (is bus port {} reachable?)",
                    addr_of(n),
                    self.names(&n.peers.handshake_by, SUMMARY_NODES),
                    n.addr.cport
                )
            } else {
                format!(
                    "node {} has no address (noaddr) in the table of {}: a PONG from its address \
                     carried another id (restarted with a new nodes.conf?)",
                    n.id.as_ref().map_or("(id unknown)", NodeId::short),
                    self.names(&n.peers.noaddr_by, SUMMARY_NODES)
                )
            };
            Finding::new(FindingKind::HandshakeOrNoaddr, Severity::Warning, summary)
        } else if !unknown_to.is_empty() {
            let others = n
                .peers
                .known_by
                .iter()
                .filter(|k| Some(*k) != n.id.as_ref())
                .count()
                + unknown_to.len();
            let who = if unknown_to.len() == others {
                format!("all {} other nodes", unknown_to.len())
            } else {
                format!(
                    "{} of {others} nodes ({})",
                    unknown_to.len(),
                    self.names(&unknown_to, SUMMARY_NODES)
                )
            };
            let hint = match n.addr.endpoint() {
                Some(ep) => format!("CLUSTER MEET {} {} on one of them", ep.host, ep.port),
                None => "CLUSTER MEET it from one of them".to_owned(),
            };
            let unknown_to_all = unknown_to.len() == others;
            let claimed = &n.claimed_slots;
            let mut f = if unknown_to_all {
                // Running, in cluster mode, but no other node has it in its table: it left or
                // was forgotten, and only CLUSTER MEET brings it (and its slots) back.
                let (severity, what) = if claimed.is_empty() {
                    (Severity::Warning, String::new())
                } else {
                    (
                        Severity::Critical,
                        format!("; its {} are unbound in their view", slots_phrase(claimed)),
                    )
                };
                Finding::new(
                    FindingKind::NodeNotJoined,
                    severity,
                    format!(
                        "{} {} is not part of the cluster: {who} have forgotten it or never met \
                         it{what}; run {hint}",
                        self.role_phrase(i, n),
                        label(n)
                    ),
                )
            } else {
                Finding::new(
                    FindingKind::PartiallyKnownNode,
                    Severity::Warning,
                    format!(
                        "{} {} is unknown to {who}: forgotten or never met; {hint}",
                        self.role_phrase(i, n),
                        label(n)
                    ),
                )
            };
            f.slots.clone_from(claimed);
            f.evidence.push(format!(
                "not in the table of: {}",
                self.names(&unknown_to, EVIDENCE_NODES)
            ));
            f
        } else if n.role == Role::Replica {
            match n.master_id.as_ref() {
                Some(m) if self.index(m).is_some() => {
                    let mi = self.index(m)?;
                    let master = self.node(mi)?;
                    let mf = self.fact(mi);
                    if !(mf.down || mf.agreed_fail) || !self.owned(mi).is_empty() {
                        return None;
                    }
                    let mut f = Finding::new(
                        FindingKind::ReplicaMasterFailing,
                        Severity::Warning,
                        format!(
                            "replica {} replicates {}, which is failed and serves no slots: it \
                             protects nothing; CLUSTER REPLICATE it to a master that needs a replica",
                            label(n),
                            label(master)
                        ),
                    );
                    f.evidence.extend(self.status_evidence(mi));
                    f
                }
                other => {
                    let master = other.map_or_else(
                        || "a master no node knows ('-' in its table)".to_owned(),
                        |m| format!("{}, which no node knows", m.short()),
                    );
                    let mut f = Finding::new(
                        FindingKind::ReplicaOfUnknownMaster,
                        Severity::Warning,
                        format!(
                            "replica {} replicates {master}: it protects nothing; CLUSTER \
                             REPLICATE it to a live master",
                            label(n)
                        ),
                    );
                    if let Some(info) = &n.info
                        && let (Some(h), Some(p)) = (&info.master_host, info.master_port)
                    {
                        f.evidence.push(format!(
                            "INFO replication: master_host:{h} master_port:{p} master_link_status:{}",
                            info.master_link_status.as_deref().unwrap_or("?")
                        ));
                    }
                    f
                }
            }
        } else {
            return None;
        };
        let mut b = Nodes::default();
        b.add(Some(n));
        b.finish(&mut f);
        if f.kind != FindingKind::PartiallyKnownNode && !unknown_to.is_empty() {
            f.evidence.push(format!(
                "unknown to: {}",
                self.names(&unknown_to, EVIDENCE_NODES)
            ));
        }
        if f.kind != FindingKind::HandshakeOrNoaddr {
            f.evidence.extend(self.handshake_notes(n));
        }
        Some(f)
    }

    /// A reachable replica whose own `INFO replication` says its link to a live, reachable
    /// master is not up. (A replica of a failing master is `ReplicaMasterFailing` or part of
    /// the master's own finding.)
    fn replica_not_syncing(&self, i: usize, n: &NodeSummary) -> Option<Finding> {
        if n.role != Role::Replica || !matches!(n.reachability, Reachability::Ok) {
            return None;
        }
        let info = n.info.as_ref()?;
        let status = info.master_link_status.as_deref()?;
        if status == "up" {
            return None;
        }
        let mi = self.index(n.master_id.as_ref()?)?;
        let master = self.node(mi)?;
        if self.fact(mi).down || !matches!(master.reachability, Reachability::Ok) || mi == i {
            return None;
        }
        let owned = self.owned(mi);
        let in_sync = self
            .replicas_of(mi)
            .iter()
            .filter(|&&r| {
                r != i
                    && self.node(r).is_some_and(|rn| {
                        rn.info
                            .as_ref()
                            .and_then(|ri| ri.master_link_status.as_deref())
                            == Some("up")
                    })
            })
            .count();
        let consequence = if owned.is_empty() {
            String::new()
        } else if in_sync == 0 {
            format!(
                "; {} has no replica in sync, so losing it loses {}",
                label(master),
                slots_phrase(owned)
            )
        } else {
            format!(
                "; {} still has {} in sync",
                label(master),
                plural(in_sync, "other replica", "other replicas")
            )
        };
        let syncing = info.master_sync_in_progress == Some(true);
        let (severity, summary) = if syncing {
            (
                Severity::Info,
                format!(
                    "replica {} is still copying its master {} (full sync in progress, \
                     master_link_status:{status}): until it finishes, a failover to it would \
                     lose data{consequence}",
                    label(n),
                    label(master)
                ),
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "replica {} is not replicating from its master {} \
                     (master_link_status:{status}): a failover to it would lose the writes \
                     since the link broke{consequence}",
                    label(n),
                    label(master)
                ),
            )
        };
        let mut f = Finding::new(FindingKind::ReplicaNotSyncing, severity, summary);
        f.slots = owned.to_vec();
        f.evidence.push(format!(
            "INFO replication of {}: master_host:{} master_port:{} master_link_status:{status}",
            label(n),
            info.master_host.as_deref().unwrap_or("?"),
            info.master_port
                .map_or_else(|| "?".to_owned(), |p| p.to_string()),
        ));
        if let Some(secs) = info.master_link_down_since_s {
            f.evidence.push(format!("link down for {secs} s"));
        }
        if let (Some(mo), Some(ro)) = (
            master.info.as_ref().and_then(|mi| mi.master_repl_offset),
            info.slave_repl_offset,
        ) {
            f.evidence.push(format!(
                "replication offsets: master {mo}, replica {ro} ({} bytes behind)",
                mo.saturating_sub(ro).max(0)
            ));
        }
        if !syncing {
            f.evidence.push(
                "common causes: masterauth / ACL user of the replica no longer accepted by the \
                 master, the master unreachable from the replica's host, or a full sync that \
                 keeps failing (see both nodes' logs)"
                    .to_owned(),
            );
        }
        let mut b = Nodes::default();
        b.add(Some(n));
        b.add(Some(master));
        b.finish(&mut f);
        Some(f)
    }

    /// Observers that do not know the node (self and isolated nodes excluded).
    fn unknown_to(&self, n: &NodeSummary) -> Vec<NodeId> {
        if n.peers.unknown_to.is_empty() || n.isolated {
            return Vec::new();
        }
        n.peers
            .unknown_to
            .iter()
            .filter(|o| Some(*o) != n.id.as_ref() && !self.isolated.contains(o))
            .cloned()
            .collect()
    }

    fn handshake_notes(&self, n: &NodeSummary) -> Vec<String> {
        let mut ev = Vec::new();
        if !n.peers.noaddr_by.is_empty() {
            ev.push(format!(
                "listed as noaddr by: {}",
                self.names(&n.peers.noaddr_by, EVIDENCE_NODES)
            ));
        }
        if !n.peers.handshake_by.is_empty() {
            ev.push(format!(
                "listed in handshake by: {}",
                self.names(&n.peers.handshake_by, EVIDENCE_NODES)
            ));
        }
        ev
    }

    /// Membership facts about a node, as evidence lines for whichever finding reports it.
    fn membership_notes(&self, i: usize) -> Vec<String> {
        let Some(n) = self.node(i) else {
            return Vec::new();
        };
        let mut ev = self.handshake_notes(n);
        let unknown = self.unknown_to(n);
        if !unknown.is_empty() {
            ev.push(format!(
                "unknown to: {}",
                self.names(&unknown, EVIDENCE_NODES)
            ));
        }
        ev
    }

    /// "master of 5461 slots (0-5460)", "replica of 127.0.0.1:7000 (abcd1234)", …
    fn role_phrase(&self, i: usize, n: &NodeSummary) -> String {
        let owned = self.owned(i);
        match n.role {
            Role::Master if owned.is_empty() => "slot-less master".to_owned(),
            Role::Master => format!("master of {}", slots_phrase(owned)),
            Role::Replica => match n.master_id.as_ref() {
                Some(m) => format!("replica of {}", self.id_label(m)),
                None => "replica".to_owned(),
            },
            Role::Unknown => "node".to_owned(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Open slots.

    fn open_slot_findings(&self, out: &mut Vec<Finding>) {
        let mut groups: BTreeMap<OpenKey, OpenGroup> = BTreeMap::new();
        for o in &self.model.open_slots {
            let key = OpenKey::of(o);
            let g = groups.entry(key).or_default();
            push_slot(&mut g.slots, o.slot);
            for (id, k) in &o.keys {
                *g.keys.entry(id.clone()).or_insert(0) += k;
            }
        }
        for (key, group) in groups {
            out.push(self.open_finding(&key, &group));
        }
    }

    /// `, 6 keys on A, 4 keys on B` for the nodes whose counts are known; empty if none is.
    fn keys_part(&self, g: &OpenGroup, ids: &[&NodeId]) -> String {
        let parts: Vec<String> = ids
            .iter()
            .filter_map(|id| {
                g.keys.get(*id).map(|k| {
                    format!(
                        "{k} {} on {}",
                        plural_u64(*k, "key", "keys"),
                        self.id_label(id)
                    )
                })
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(": {}", parts.join(", "))
        }
    }

    fn observed(&self, id: &NodeId) -> bool {
        self.index(id)
            .and_then(|i| self.node(i))
            .is_some_and(|n| matches!(n.reachability, Reachability::Ok))
    }

    #[allow(clippy::too_many_lines)]
    fn open_finding(&self, key: &OpenKey, g: &OpenGroup) -> Finding {
        let what = slots_phrase(&g.slots);
        let matched = |a: &NodeId, b: &NodeId| key.importing.iter().any(|(x, y)| x == b && y == a);
        let all_matched = !key.migrating.is_empty()
            && key.migrating.iter().all(|(a, b)| matched(a, b))
            && key.importing.len() == key.migrating.len();
        let mut involved: Vec<NodeId> = Vec::new();
        for (a, b) in key.migrating.iter().chain(&key.importing) {
            involved.push(a.clone());
            involved.push(b.clone());
        }
        involved.extend(key.on_replicas.iter().cloned());
        dedup_keep_order(&mut involved);

        let (summary, mut evidence) = if all_matched {
            let moves: Vec<String> = key
                .migrating
                .iter()
                .map(|(a, b)| {
                    format!(
                        "from {} to {} (both sides marked)",
                        self.id_label(a),
                        self.id_label(b)
                    )
                })
                .collect();
            let sides: Vec<&NodeId> = key.migrating.iter().flat_map(|(a, b)| [a, b]).collect();
            let with_keys = sides
                .iter()
                .filter(|id| g.keys.get(**id).is_some_and(|k| *k > 0))
                .count();
            (
                format!(
                    "{what} half-moved {}{}",
                    moves.join("; "),
                    self.keys_part(g, &sides)
                ),
                vec![
                    if with_keys >= 2 {
                        "keys are on both sides: clients follow ASK redirects, multi-key commands \
                         get TRYAGAIN"
                            .to_owned()
                    } else {
                        "clients follow ASK redirects for keys already moved".to_owned()
                    },
                    "an interrupted reshard: finish it (MIGRATE the remaining keys, then CLUSTER \
                     SETSLOT NODE on the target first) or roll it back"
                        .to_owned(),
                ],
            )
        } else if !key.migrating.is_empty() && key.importing.is_empty() {
            let parts: Vec<String> = key
                .migrating
                .iter()
                .map(|(a, b)| format!("{} to {}", self.id_label(a), self.id_label(b)))
                .collect();
            let sources: Vec<&NodeId> = key.migrating.iter().map(|(a, _)| a).collect();
            let seen = key.migrating.iter().all(|(_, b)| self.observed(b));
            (
                format!(
                    "{what} marked migrating ({}) {}{}",
                    parts.join("; "),
                    if seen {
                        "but the target is not importing"
                    } else {
                        "with no importing side in view (target not observed)"
                    },
                    self.keys_part(g, &sources)
                ),
                vec![
                    "keys missing on the source are redirected with ASK to the target, which \
                     answers MOVED back unless it is importing; reshard/rebalance refuse to run"
                        .to_owned(),
                    "close it with CLUSTER SETSLOT <slot> STABLE on the source if no key moved"
                        .to_owned(),
                ],
            )
        } else if key.migrating.is_empty() && !key.importing.is_empty() {
            let parts: Vec<String> = key
                .importing
                .iter()
                .map(|(b, a)| format!("{} from {}", self.id_label(b), self.id_label(a)))
                .collect();
            let targets: Vec<&NodeId> = key.importing.iter().map(|(b, _)| b).collect();
            let seen = key.importing.iter().all(|(_, a)| self.observed(a));
            (
                format!(
                    "{what} marked importing ({}) {}{}",
                    parts.join("; "),
                    if seen {
                        "but the source is not migrating"
                    } else {
                        "with no migrating side in view (source not observed)"
                    },
                    self.keys_part(g, &targets)
                ),
                vec![
                    "no client symptom, but reshard/rebalance refuse to run, and gossip cannot \
                     rebind these slots on the importing node (its view is frozen)"
                        .to_owned(),
                    "close it with CLUSTER SETSLOT <slot> STABLE on the importing node once its \
                     keys are accounted for"
                        .to_owned(),
                ],
            )
        } else if key.migrating.is_empty() && key.importing.is_empty() {
            (
                format!(
                    "{what} open only on {} {}: redis-cli cannot fix this; on 7.0 the marker clears \
                     only when the replica is restarted without it or promoted",
                    plural(key.on_replicas.len(), "replica", "replicas"),
                    self.names(&key.on_replicas, SUMMARY_NODES)
                ),
                vec!["SETSLOT is refused on replicas".to_owned()],
            )
        } else {
            let m: Vec<String> = key
                .migrating
                .iter()
                .map(|(a, b)| format!("{} -> {}", self.id_label(a), self.id_label(b)))
                .collect();
            let i: Vec<String> = key
                .importing
                .iter()
                .map(|(b, a)| format!("{} <- {}", self.id_label(b), self.id_label(a)))
                .collect();
            (
                format!(
                    "{what} has inconsistent markers: migrating {}; importing {}",
                    m.join(", "),
                    i.join(", ")
                ),
                vec![
                    "the markers do not describe one move; close the stray ones with CLUSTER \
                      SETSLOT <slot> STABLE"
                        .to_owned(),
                ],
            )
        };
        let masters_open = !key.migrating.is_empty() || !key.importing.is_empty();
        if !key.on_replicas.is_empty() && masters_open {
            evidence.push(format!(
                "markers also on replicas: {}",
                self.names(&key.on_replicas, EVIDENCE_NODES)
            ));
        }
        for (id, k) in &g.keys {
            evidence.push(format!(
                "{} holds {k} keys in these slots",
                self.id_label(id)
            ));
        }
        if let Some(owner) = &key.owner {
            evidence.push(format!("consensus owner: {}", self.id_label(owner)));
        }
        let broken: Vec<NodeId> = involved
            .iter()
            .filter(|id| self.index(id).is_none_or(|i| self.fact(i).down))
            .cloned()
            .collect();
        // Critical when data in these slots is out of reach: a down node owns them, holds keys
        // in them, or is the importing side of a real move (moved keys live there).
        let importing_side = |id: &NodeId| key.importing.iter().any(|(b, _)| b == id);
        let critical = broken.iter().any(|id| {
            key.owner.as_ref() == Some(id)
                || g.keys.get(id).is_some_and(|k| *k > 0)
                || (all_matched && importing_side(id))
        });
        if !broken.is_empty() {
            evidence.push(format!(
                "involved node down or unknown: {}",
                self.names(&broken, EVIDENCE_NODES)
            ));
        }
        let severity = if critical {
            evidence.push("keys that live on the down node are unavailable".to_owned());
            Severity::Critical
        } else {
            Severity::Warning
        };
        let mut f = Finding::new(FindingKind::OpenSlot, severity, capitalize(&summary));
        f.slots.clone_from(&g.slots);
        let mut b = Nodes::default();
        for id in &involved {
            b.add_id(self, id);
        }
        b.finish(&mut f);
        f.evidence = evidence;
        f
    }

    // -----------------------------------------------------------------------------------------
    // Disputes and epochs.

    fn dispute_findings(&self, out: &mut Vec<Finding>) {
        type DisputeKey<'k> = (
            Option<&'k NodeId>,
            Option<&'k NodeId>,
            &'k [SlotRange],
            bool,
        );
        let mut groups: BTreeMap<DisputeKey<'a>, Vec<&'a ViewDisagreement>> = BTreeMap::new();
        for d in &self.model.disagreements {
            if d.slots.is_empty() {
                continue;
            }
            // A node claiming slots itself, or dropping its own, is reported alone.
            let personal = d.its_owner.as_ref() == Some(&d.node)
                || d.consensus_owner.as_ref() == Some(&d.node);
            groups
                .entry((
                    d.its_owner.as_ref(),
                    d.consensus_owner.as_ref(),
                    d.slots.as_slice(),
                    personal,
                ))
                .or_default()
                .push(d);
        }
        for ((its, cons, slots, personal), ds) in groups {
            if personal {
                for d in ds {
                    out.push(self.dispute_finding(its, cons, slots, &[d]));
                }
            } else {
                out.push(self.dispute_finding(its, cons, slots, &ds));
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn dispute_finding(
        &self,
        its: Option<&NodeId>,
        cons: Option<&NodeId>,
        slots: &[SlotRange],
        ds: &[&ViewDisagreement],
    ) -> Finding {
        let who: Vec<NodeId> = ds.iter().map(|d| d.node.clone()).collect();
        let whos = self.names(&who, SUMMARY_NODES);
        let first = ds.first();
        let its_epoch = first.and_then(|d| d.its_owner_epoch);
        let cons_epoch = first.and_then(|d| d.consensus_owner_epoch);
        let epoch = |e: Option<u64>| e.map_or_else(String::new, |e| format!(", epoch {e}"));
        let what = slots_phrase(slots);
        let single = who.len() == 1;
        // The viewers do not even list the owner: a membership problem, not a stale view.
        let forgotten_owner = cons
            .and_then(|c| self.index(c))
            .and_then(|i| self.node(i))
            .is_some_and(|c| who.iter().all(|w| c.peers.unknown_to.contains(w)));
        let (think, see) = if single {
            ("thinks", "sees")
        } else {
            ("think", "see")
        };
        let (severity, summary) = match (its, cons) {
            (Some(o), Some(c)) if single && who.first() == Some(o) => (
                Severity::Critical,
                format!(
                    "{whos} claims {what} that the cluster gives to {} ({} vs its {}): two masters \
                     claim them; the higher epoch wins and the loser deletes its keys there",
                    self.id_label(c),
                    cons_epoch.map_or_else(|| "epoch ?".to_owned(), |e| format!("epoch {e}")),
                    its_epoch.map_or_else(|| "epoch ?".to_owned(), |e| format!("epoch {e}")),
                ),
            ),
            (None, Some(c)) if single && who.first() == Some(c) => (
                Severity::Critical,
                format!(
                    "{whos} no longer claims {what} in its own view (CLUSTER DELSLOTS?) while its \
                     peers still bind them to it: it answers CLUSTERDOWN for them"
                ),
            ),
            (None, Some(c)) if forgotten_owner => (
                Severity::Warning,
                format!(
                    "{whos} {see} {what} as unbound because {} not know their owner {} at all \
                     (it must rejoin the cluster)",
                    if single { "it does" } else { "they do" },
                    self.id_label(c),
                ),
            ),
            (None, Some(c)) => (
                Severity::Warning,
                format!(
                    "{whos} {see} {what} as unbound, while the others bind them to {}{}",
                    self.id_label(c),
                    epoch(cons_epoch)
                ),
            ),
            (Some(o), None)
                if !who.contains(o)
                    && self
                        .index(o)
                        .and_then(|i| self.node(i))
                        .is_some_and(|n| matches!(n.reachability, Reachability::Ok)) =>
            {
                (
                    Severity::Warning,
                    format!(
                        "{whos} still {} {what} to {}{}, but it no longer claims them itself \
                         (CLUSTER DELSLOTS?): it answers CLUSTERDOWN Hash slot not served for them",
                        if single { "binds" } else { "bind" },
                        self.id_label(o),
                        epoch(its_epoch)
                    ),
                )
            }
            (Some(o), None) => (
                Severity::Warning,
                format!(
                    "{whos} {think} {what} belong to {}{}, while the others see them unbound",
                    self.id_label(o),
                    epoch(its_epoch)
                ),
            ),
            (Some(o), Some(c)) => (
                Severity::Warning,
                format!(
                    "{whos} {think} {what} belong to {}{}, but the consensus owner is {}{}",
                    self.id_label(o),
                    epoch(its_epoch),
                    self.id_label(c),
                    epoch(cons_epoch)
                ),
            ),
            (None, None) => (Severity::Warning, format!("{whos} disagree about {what}")),
        };
        let mut f = Finding::new(FindingKind::SlotOwnershipDispute, severity, summary);
        f.slots = slots.to_vec();
        let mut b = Nodes::default();
        for id in &who {
            b.add_id(self, id);
        }
        for id in its.into_iter().chain(cons) {
            b.add_id(self, id);
        }
        b.finish(&mut f);
        f.evidence.push(format!(
            "view of {}: owner {}{}",
            self.names(&who, EVIDENCE_NODES),
            its.map_or_else(|| "none".to_owned(), |o| self.id_label(o)),
            epoch(its_epoch)
        ));
        f.evidence.push(format!(
            "consensus: owner {}{}",
            cons.map_or_else(|| "none".to_owned(), |c| self.id_label(c)),
            epoch(cons_epoch)
        ));
        if forgotten_owner {
            f.evidence.push(format!(
                "{} is missing from the CLUSTER NODES of {}",
                cons.map_or_else(String::new, |c| self.id_label(c)),
                self.names(&who, EVIDENCE_NODES)
            ));
        } else {
            f.evidence.push(
                "a node keeps a stale view while it imports the slot (gossip cannot rebind it) \
                 or while its bus link is down; the higher config epoch wins once they talk"
                    .to_owned(),
            );
        }
        f
    }

    fn epoch_findings(&self, out: &mut Vec<Finding>) {
        // (epoch, master) sorted by epoch, stable: masters keep their order within an epoch.
        let mut by_epoch: Vec<(u64, usize)> = self
            .slot_masters
            .iter()
            .filter_map(|&i| self.node(i).map(|n| (n, i)))
            .filter(|(n, _)| n.role == Role::Master)
            .map(|(n, i)| (n.config_epoch, i))
            .collect();
        by_epoch.sort_by_key(|&(e, _)| e);
        for group in by_epoch.chunk_by(|a, b| a.0 == b.0) {
            if group.len() < 2 {
                continue;
            }
            let epoch = group[0].0;
            let idx: Vec<usize> = group.iter().map(|&(_, i)| i).collect();
            let mut f = Finding::new(
                FindingKind::ConfigEpochCollision,
                Severity::Warning,
                format!(
                    "masters {} share config epoch {epoch}: a conflict over their slots cannot be \
                     settled by epoch",
                    self.names_idx(&idx, SUMMARY_NODES)
                ),
            );
            let mut b = Nodes::default();
            for &i in &idx {
                b.add(self.node(i));
            }
            b.finish(&mut f);
            f.evidence.push(
                "Redis resolves a collision by bumping one epoch within seconds; if it persists, \
                 run CLUSTER BUMPEPOCH on one of them"
                    .to_owned(),
            );
            out.push(f);
        }
    }
}

/// Why a slot-owning master is down and why no failover happened.
#[derive(Clone, Debug, Default)]
struct DownReason {
    /// Follows "master 127.0.0.1:7000 (abcd1234) ", e.g. "failed and has no replica".
    short: String,
    evidence: Vec<String>,
}

/// Open slots with the same markers are reported together.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct OpenKey {
    owner: Option<NodeId>,
    migrating: Vec<(NodeId, NodeId)>,
    importing: Vec<(NodeId, NodeId)>,
    on_replicas: Vec<NodeId>,
}

impl OpenKey {
    fn of(o: &OpenSlot) -> Self {
        let mut migrating = o.migrating.clone();
        migrating.sort();
        migrating.dedup();
        let mut importing = o.importing.clone();
        importing.sort();
        importing.dedup();
        let mut on_replicas = o.on_replicas.clone();
        on_replicas.sort();
        on_replicas.dedup();
        // A replica's marker shows up in its own line, not as a master's move.
        migrating.retain(|(a, _)| !on_replicas.contains(a));
        importing.retain(|(b, _)| !on_replicas.contains(b));
        Self {
            owner: o.owner.clone(),
            migrating,
            importing,
            on_replicas,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct OpenGroup {
    slots: Vec<SlotRange>,
    keys: BTreeMap<NodeId, u64>,
}

/// Collects the affected nodes of a finding: ids and addresses in the same order, id-less
/// nodes' addresses last, no duplicates.
#[derive(Default)]
struct Nodes {
    with_id: Vec<(NodeId, String)>,
    without_id: Vec<String>,
}

impl Nodes {
    fn add(&mut self, n: Option<&NodeSummary>) {
        let Some(n) = n else { return };
        if let Some(id) = &n.id {
            if !self.with_id.iter().any(|(x, _)| x == id) {
                self.with_id.push((id.clone(), addr_of(n)));
            }
        } else {
            let a = addr_of(n);
            if !self.without_id.contains(&a) {
                self.without_id.push(a);
            }
        }
    }

    fn add_id(&mut self, ctx: &Ctx<'_>, id: &NodeId) {
        if !self.with_id.iter().any(|(x, _)| x == id) {
            self.with_id.push((id.clone(), ctx.id_addr(id)));
        }
    }

    fn finish(self, f: &mut Finding) {
        for (id, a) in self.with_id {
            f.nodes.push(id);
            f.addresses.push(a);
        }
        f.addresses.extend(self.without_id);
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

fn node_facts(n: &NodeSummary) -> Facts {
    let reachable = matches!(n.reachability, Reachability::Ok);
    let agreed_fail = !n.peers.fail_by.is_empty() || (!reachable && n.flags.fail);
    let suspected = !n.peers.pfail_by.is_empty() || (!reachable && n.flags.pfail);
    let not_cluster = matches!(
        n.reachability,
        Reachability::Failed(ProbeError::NotCluster { .. })
    );
    // A node we could not even try is judged by its peers alone: a `fail?` counts only when
    // most of the nodes listing it agree.
    let suspected_enough = match n.reachability {
        Reachability::Ok => false,
        Reachability::Failed(_) => suspected,
        Reachability::NotProbed => n.peers.pfail_by.len() * 2 > n.peers.known_by.len(),
    };
    let down = !not_cluster && (agreed_fail || suspected_enough);
    Facts { agreed_fail, down }
}

/// Best address for display: its cluster address, else the endpoint we probed.
fn addr_of(n: &NodeSummary) -> String {
    if !n.addr.is_unknown() {
        n.addr.to_string()
    } else if let Some(ep) = &n.endpoint {
        ep.to_string()
    } else {
        "(no address)".to_owned()
    }
}

/// `127.0.0.1:7000 (3f2a9c1d)`, or the address alone when the id is unknown.
fn label(n: &NodeSummary) -> String {
    match &n.id {
        Some(id) => format!("{} ({})", addr_of(n), id.short()),
        None => addr_of(n),
    }
}

fn unreachable_phrase(e: &ProbeError) -> String {
    match e {
        ProbeError::ConnectFailed(d) => {
            format!("cannot be reached: connection failed ({d}): not running, or wrong port")
        }
        ProbeError::ConnectTimeout => {
            "cannot be reached: connect timed out (host down or firewalled)".to_owned()
        }
        ProbeError::Unresponsive(stage) => {
            format!("accepts connections but does not answer ({stage}): hung or stopped (SIGSTOP?)")
        }
        ProbeError::AuthRequired => {
            "requires a password (NOAUTH): give one with REDISCLI_AUTH or --askpass".to_owned()
        }
        ProbeError::AuthFailed(d) => {
            format!("rejected the credentials ({d}): check --user and the password")
        }
        ProbeError::Loading => {
            "is loading its dataset (LOADING): it serves nothing until done".to_owned()
        }
        ProbeError::NotCluster { .. } => "is not a cluster node (cluster_enabled:0)".to_owned(),
        ProbeError::Protocol(d) => format!("answered unexpectedly: {d}"),
        ProbeError::Other(d) => format!("could not be observed: {d}"),
    }
}

/// Append a range that starts after every range in `ranges`, merging it with the last one
/// when they touch.
fn push_range(ranges: &mut Vec<SlotRange>, range: SlotRange) {
    match ranges.last_mut() {
        Some(r) if u32::from(r.end) + 1 == u32::from(range.start) => r.end = range.end,
        _ => ranges.push(range),
    }
}

/// Append a slot to ranges built in ascending order (a slot already in the last range is
/// ignored).
fn push_slot(ranges: &mut Vec<SlotRange>, slot: Slot) {
    match ranges.last_mut() {
        Some(r) if u32::from(r.end) + 1 == u32::from(slot) => r.end = slot,
        Some(r) if r.contains(slot) => {}
        _ => ranges.push(SlotRange::single(slot)),
    }
}

/// Sort and merge overlapping or adjacent ranges.
fn merge_ranges(mut ranges: Vec<SlotRange>) -> Vec<SlotRange> {
    ranges.sort();
    let mut out: Vec<SlotRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if u32::from(r.start) <= u32::from(last.end) + 1 => {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r),
        }
    }
    out
}

/// `0-5460,5462` or, for many ranges, the first few and `… +N more ranges`.
fn brief_ranges(ranges: &[SlotRange]) -> String {
    if ranges.len() <= SUMMARY_RANGES {
        format_ranges(ranges)
    } else {
        let shown = SUMMARY_RANGES - 1;
        format!(
            "{},… +{} more ranges",
            format_ranges(ranges.get(..shown).unwrap_or(ranges)),
            ranges.len() - shown
        )
    }
}

/// `slot 42` or `5461 slots (0-5460)`.
fn slots_phrase(ranges: &[SlotRange]) -> String {
    match ranges_len(ranges) {
        0 => "no slots".to_owned(),
        1 => format!("slot {}", brief_ranges(ranges)),
        n => format!("{n} slots ({})", brief_ranges(ranges)),
    }
}

fn plural<'s>(n: usize, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

fn plural_u64<'s>(n: u64, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

fn count_nodes(n: usize) -> String {
    format!("{n} {}", plural(n, "node", "nodes"))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `850 ms`, `2.0 s`, `3 min 5 s`.
fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

fn most_common(values: impl Iterator<Item = u64>) -> Option<u64> {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(v, c)| (c, Reverse(v)))
        .map(|(v, _)| v)
}

fn dedup_keep_order(ids: &mut Vec<NodeId>) {
    let mut seen = HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
}
