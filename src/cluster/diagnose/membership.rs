//! Membership findings: nodes that some or all peers do not know (`PartiallyKnownNode`,
//! `NodeNotJoined`), nodes stuck in handshake or without address (`HandshakeOrNoaddr`), and
//! the membership notes other findings carry as evidence.

use super::ctx::{Ctx, Nodes};
use super::ranges::slots_phrase;
use super::words::{EVIDENCE_NODES, SUMMARY_NODES, addr_of, label};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::{NodeSummary, Role};
use crate::cluster::types::NodeId;

impl Ctx<'_> {
    /// Membership and replica-relation findings for a node with no worse status.
    pub(super) fn membership_status(&self, i: usize, n: &NodeSummary) -> Option<Finding> {
        let handshake = n.flags.handshake || !n.peers.handshake_by.is_empty();
        let noaddr = n.flags.noaddr || !n.peers.noaddr_by.is_empty();
        let unknown_to = self.unknown_to(n);
        let mut f = if handshake || noaddr {
            self.handshake_or_noaddr(n, handshake)
        } else if !unknown_to.is_empty() {
            self.unknown_to_finding(i, n, &unknown_to)
        } else if n.role == Role::Replica {
            self.replica_relation(n)?
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

    /// A node stuck in handshake, or listed without address, in some peers' tables.
    fn handshake_or_noaddr(&self, n: &NodeSummary, handshake: bool) -> Finding {
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
    }

    /// A node some (`PartiallyKnownNode`) or all (`NodeNotJoined`) other nodes do not know.
    fn unknown_to_finding(&self, i: usize, n: &NodeSummary, unknown_to: &[NodeId]) -> Finding {
        // Its own shard (its master, its replicas) knowing it does not make it a member: a
        // master forgotten by the cluster together with its replica is still not part of it.
        let shard: Vec<&NodeId> = n
            .master_id
            .iter()
            .chain(
                self.replicas_of(i)
                    .iter()
                    .filter_map(|&r| self.node(r).and_then(|x| x.id.as_ref())),
            )
            .collect();
        let known: Vec<&NodeId> = n
            .peers
            .known_by
            .iter()
            .filter(|k| Some(*k) != n.id.as_ref())
            .collect();
        let known_outside = known.iter().filter(|k| !shard.contains(k)).count();
        let others = known.len() + unknown_to.len();
        let who = if known_outside == 0 && known_outside < known.len() {
            format!("all {} nodes outside its shard", unknown_to.len())
        } else if unknown_to.len() == others {
            format!("all {} other nodes", unknown_to.len())
        } else {
            format!(
                "{} of {others} nodes ({})",
                unknown_to.len(),
                self.names(unknown_to, SUMMARY_NODES)
            )
        };
        let hint = match n.addr.endpoint() {
            Some(ep) => format!("CLUSTER MEET {} {} on one of them", ep.host, ep.port),
            None => "CLUSTER MEET it from one of them".to_owned(),
        };
        let unknown_to_all = known_outside == 0;
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
            self.names(unknown_to, EVIDENCE_NODES)
        ));
        f
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

    /// Which peers list the node as noaddr or in handshake.
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
    pub(super) fn membership_notes(&self, i: usize) -> Vec<String> {
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
}

#[cfg(test)]
mod tests;
