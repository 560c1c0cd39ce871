//! `MasterDown`: a slot-owning master that is down, why none of its replicas took over, and
//! the probe error and peer flags that show it (shared with the other node findings).

use super::ctx::{Ctx, Nodes};
use super::ranges::slots_phrase;
use super::words::{EVIDENCE_NODES, SUMMARY_NODES, count_nodes, human_ms, label, plural};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::Reachability;
use crate::cluster::types::NodeId;

/// Why a slot-owning master is down and why no failover happened.
#[derive(Clone, Debug, Default)]
pub(super) struct DownReason {
    /// Follows "master 127.0.0.1:7000 (abcd1234) ", e.g. "failed and has no replica".
    pub(super) short: String,
    pub(super) evidence: Vec<String>,
}

/// The replicas of a down master, sorted by what they can do for it.
struct ReplicaSet<'r> {
    all: &'r [usize],
    dead: Vec<usize>,
    alive: Vec<usize>,
    /// Alive, with `cluster-replica-no-failover yes`.
    nofailover: Vec<usize>,
    /// Alive and allowed to fail over.
    candidates: Vec<usize>,
}

impl Ctx<'_> {
    /// Why master `i` is down and why none of its replicas took over.
    pub(super) fn down_reason(&self, i: usize) -> DownReason {
        let Some(n) = self.node(i) else {
            return DownReason::default();
        };
        let reps = self.replica_set(i);
        let short = self.down_short(i, &reps, n.peers.max_pong_age_ms);
        let evidence = self.down_evidence(&reps, n.peers.max_pong_age_ms);
        DownReason { short, evidence }
    }

    /// The replicas of master `i`, sorted by what they can do for it.
    fn replica_set(&self, i: usize) -> ReplicaSet<'_> {
        let all = self.replicas_of(i);
        let dead: Vec<usize> = all.iter().copied().filter(|&r| self.fact(r).down).collect();
        let alive: Vec<usize> = all
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
        ReplicaSet {
            all,
            dead,
            alive,
            nofailover,
            candidates,
        }
    }

    /// Past the grace period of a failover: twice `cluster-node-timeout` plus 3 s.
    fn failover_grace_ms(&self) -> u64 {
        self.node_timeout_ms.saturating_mul(2).saturating_add(3000)
    }

    /// The first of `idx`, labelled (empty when there is none).
    fn first_name(&self, idx: &[usize]) -> String {
        self.names_idx(idx.get(..1).unwrap_or(&[]), 1)
    }

    /// Follows "master 127.0.0.1:7000 (abcd1234) ": what happened and why no replica took over.
    fn down_short(&self, i: usize, reps: &ReplicaSet<'_>, age: Option<u64>) -> String {
        let fact = self.fact(i);
        let verb = if fact.agreed_fail {
            "failed"
        } else {
            "is unreachable"
        };
        let grace = self.failover_grace_ms();
        if reps.all.is_empty() {
            format!("{verb} and has no replica")
        } else if reps.alive.is_empty() {
            format!(
                "{verb} and its {} {} down too",
                plural(reps.dead.len(), "replica", "replicas"),
                if reps.dead.len() == 1 {
                    format!("{} is", self.names_idx(&reps.dead, SUMMARY_NODES))
                } else {
                    format!("{} are", self.names_idx(&reps.dead, SUMMARY_NODES))
                }
            )
        } else if self.majority_lost() {
            format!(
                "{verb}; no majority of masters to elect its replica {}",
                self.first_name(&reps.alive)
            )
        } else if reps.candidates.is_empty() {
            format!(
                "{verb}; its replica {} has nofailover set (cluster-replica-no-failover yes)",
                self.first_name(&reps.nofailover)
            )
        } else if !fact.agreed_fail {
            if age.is_none_or(|a| a <= grace) {
                format!(
                    "{verb}; failure not agreed yet, failover of {} may be in progress",
                    self.first_name(&reps.candidates)
                )
            } else {
                format!(
                    "{verb}; its peers have not agreed it failed, so replica {} cannot take over",
                    self.first_name(&reps.candidates)
                )
            }
        } else if age.is_some_and(|a| a <= grace) {
            format!(
                "{verb}; failover in progress, replica {} should take over",
                self.first_name(&reps.candidates)
            )
        } else {
            format!(
                "{verb}; its replica {} has not taken over",
                self.first_name(&reps.candidates)
            )
        }
    }

    /// Evidence of a down master: its replicas' states, what to run, votes, last contact.
    fn down_evidence(&self, reps: &ReplicaSet<'_>, age: Option<u64>) -> Vec<String> {
        let mut evidence = Vec::new();
        if reps.all.is_empty() {
            evidence.push(
                "no replica: nothing can take over its slots; restart it (its nodes.conf keeps \
                 its slots) or, if it is gone for good, reassign them (its keys are lost)"
                    .to_owned(),
            );
        } else {
            evidence.push(format!("replicas: {}", self.replica_states(reps.all)));
            if !reps.candidates.is_empty() && !self.majority_lost() {
                evidence.push(format!(
                    "if it does not happen on its own, run CLUSTER FAILOVER FORCE on {} (or \
                     TAKEOVER if the masters cannot agree)",
                    self.first_name(&reps.candidates)
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
                human_ms(self.node_timeout_ms)
            ));
        }
        evidence
    }

    /// `127.0.0.1:7010 (0a0a0a0a) (alive), …` for the given replicas.
    fn replica_states(&self, reps: &[usize]) -> String {
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
        states.join(", ")
    }

    pub(super) fn master_down_finding(&self, i: usize, reason: &DownReason) -> Finding {
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
    pub(super) fn status_evidence(&self, i: usize) -> Vec<String> {
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
}

#[cfg(test)]
mod tests;
