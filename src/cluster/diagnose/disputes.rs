//! Disputes and epochs: nodes whose view of slot ownership differs from the consensus
//! (`SlotOwnershipDispute`), and masters sharing a config epoch (`ConfigEpochCollision`).

use std::collections::BTreeMap;

use super::ctx::{Ctx, Nodes};
use super::ranges::slots_phrase;
use super::words::{EVIDENCE_NODES, SUMMARY_NODES};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::{Reachability, Role, ViewDisagreement};
use crate::cluster::slots::SlotRange;
use crate::cluster::types::NodeId;

/// One group of nodes that agree with each other about some slots but not with the consensus.
#[derive(Clone, Copy)]
struct Dispute<'d> {
    /// The owner in their view.
    its: Option<&'d NodeId>,
    /// The consensus owner.
    cons: Option<&'d NodeId>,
    slots: &'d [SlotRange],
    /// The nodes holding this view.
    who: &'d [NodeId],
    its_epoch: Option<u64>,
    cons_epoch: Option<u64>,
    /// The viewers do not list the consensus owner at all.
    forgotten_owner: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn dispute_findings(&self, out: &mut Vec<Finding>) {
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

    fn dispute_finding(
        &self,
        its: Option<&NodeId>,
        cons: Option<&NodeId>,
        slots: &[SlotRange],
        ds: &[&ViewDisagreement],
    ) -> Finding {
        let who: Vec<NodeId> = ds.iter().map(|d| d.node.clone()).collect();
        let first = ds.first();
        let its_epoch = first.and_then(|d| d.its_owner_epoch);
        let cons_epoch = first.and_then(|d| d.consensus_owner_epoch);
        // The viewers do not even list the owner: a membership problem, not a stale view.
        let forgotten_owner = cons
            .and_then(|c| self.index(c))
            .and_then(|i| self.node(i))
            .is_some_and(|c| who.iter().all(|w| c.peers.unknown_to.contains(w)));
        let (severity, summary) = self.dispute_summary(&Dispute {
            its,
            cons,
            slots,
            who: &who,
            its_epoch,
            cons_epoch,
            forgotten_owner,
        });
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
            epoch_part(its_epoch)
        ));
        f.evidence.push(format!(
            "consensus: owner {}{}",
            cons.map_or_else(|| "none".to_owned(), |c| self.id_label(c)),
            epoch_part(cons_epoch)
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

    /// Severity and summary of a dispute, from who disagrees with whom.
    fn dispute_summary(&self, d: &Dispute<'_>) -> (Severity, String) {
        let Dispute {
            its,
            cons,
            slots,
            who,
            its_epoch,
            cons_epoch,
            forgotten_owner,
        } = *d;
        let whos = self.names(who, SUMMARY_NODES);
        let what = slots_phrase(slots);
        let single = who.len() == 1;
        let (think, see) = if single {
            ("thinks", "sees")
        } else {
            ("think", "see")
        };
        match (its, cons) {
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
                    epoch_part(cons_epoch)
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
                        epoch_part(its_epoch)
                    ),
                )
            }
            (Some(o), None) => (
                Severity::Warning,
                format!(
                    "{whos} {think} {what} belong to {}{}, while the others see them unbound",
                    self.id_label(o),
                    epoch_part(its_epoch)
                ),
            ),
            (Some(o), Some(c)) => (
                Severity::Warning,
                format!(
                    "{whos} {think} {what} belong to {}{}, but the consensus owner is {}{}",
                    self.id_label(o),
                    epoch_part(its_epoch),
                    self.id_label(c),
                    epoch_part(cons_epoch)
                ),
            ),
            (None, None) => (Severity::Warning, format!("{whos} disagree about {what}")),
        }
    }

    pub(super) fn epoch_findings(&self, out: &mut Vec<Finding>) {
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

/// `, epoch 7`, or nothing when the epoch is unknown.
fn epoch_part(e: Option<u64>) -> String {
    e.map_or_else(String::new, |e| format!(", epoch {e}"))
}

#[cfg(test)]
mod tests;
