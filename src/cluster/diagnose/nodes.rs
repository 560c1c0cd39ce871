//! Node findings: one status finding per node (not a cluster node, unreachable, loading,
//! bus blocked, lingering after a failover, not joined), plus `NoReplica` and `DataAnomaly`.
//! A node with none of these gets its membership status instead (see `membership`).

use super::ctx::{Ctx, Facts, Nodes};
use super::ranges::slots_phrase;
use super::words::{EVIDENCE_NODES, addr_of, count_nodes, label, plural, unreachable_phrase};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::{NodeSummary, Reachability, Role};
use crate::cluster::types::{Endpoint, ProbeError};

impl Ctx<'_> {
    pub(super) fn node_findings(&self, out: &mut Vec<Finding>) {
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
            if let Some(f) = data_anomaly(n) {
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
    fn node_status(
        &self,
        i: usize,
        n: &NodeSummary,
        fact: Facts,
        meet_target: Option<&Endpoint>,
    ) -> Option<Finding> {
        let slotless_failed_master =
            fact.agreed_fail && n.role != Role::Replica && self.owned(i).is_empty();
        let mut f = match &n.reachability {
            Reachability::Failed(ProbeError::NotCluster { version }) => {
                not_cluster(n, version.as_deref())
            }
            Reachability::Failed(e) if slotless_failed_master => self.lingering(n, Some(e)),
            Reachability::Failed(e) if self.departed(n, e) => departed(n, e),
            Reachability::NotProbed if slotless_failed_master => self.lingering(n, None),
            Reachability::Failed(e) => self.unreachable(i, n, e),
            Reachability::Ok if n.info.as_ref().and_then(|x| x.loading) == Some(true) => {
                self.loading(i, n)
            }
            Reachability::Ok if fact.agreed_fail => self.bus_blocked(i, n),
            _ if n.isolated => not_joined(n, meet_target),
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

    /// A probed endpoint that does not answer, whose address no cluster node lists, while
    /// other nodes of the cluster answered: not a member (a node the cluster forgot, or a
    /// wrong seed). It is a note, not part of the verdict.
    fn departed(&self, n: &NodeSummary, e: &ProbeError) -> bool {
        n.id.is_none()
            && n.peers.known_by.is_empty()
            && matches!(
                e,
                ProbeError::ConnectFailed(_)
                    | ProbeError::ConnectTimeout
                    | ProbeError::Unresponsive(_)
            )
            && self.members_observed().next().is_some()
    }

    /// Critical when the node owns slots (they are out of reach), a warning otherwise.
    fn unreachable_severity(&self, i: usize) -> Severity {
        if self.owned(i).is_empty() {
            Severity::Warning
        } else {
            Severity::Critical
        }
    }

    /// A node slotscope could not observe.
    fn unreachable(&self, i: usize, n: &NodeSummary, e: &ProbeError) -> Finding {
        let mut f = Finding::new(
            FindingKind::NodeUnreachable,
            self.unreachable_severity(i),
            format!(
                "{} {} {}",
                self.role_phrase(i, n),
                label(n),
                unreachable_phrase(e)
            ),
        );
        f.slots = self.owned(i).to_vec();
        f.evidence.extend(self.status_evidence(i));
        f.evidence.extend(self.replica_consequence(i, n));
        f
    }

    /// A node that answers but is still loading its dataset.
    fn loading(&self, i: usize, n: &NodeSummary) -> Finding {
        let mut f = Finding::new(
            FindingKind::NodeUnreachable,
            self.unreachable_severity(i),
            format!(
                "{} {} {}",
                self.role_phrase(i, n),
                label(n),
                unreachable_phrase(&ProbeError::Loading)
            ),
        );
        f.slots = self.owned(i).to_vec();
        f
    }

    /// A node that answers slotscope while its peers agree it failed.
    fn bus_blocked(&self, i: usize, n: &NodeSummary) -> Finding {
        let mut f = Finding::new(
            FindingKind::NodeDown,
            Severity::Warning,
            format!(
                "{} {} answers slotscope but its peers flag it fail: its cluster \
                 bus port {} is blocked or it is partitioned from them",
                self.role_phrase(i, n),
                label(n),
                n.addr.cport
            ),
        );
        f.evidence.extend(self.status_evidence(i));
        f.evidence.extend(self.replica_consequence(i, n));
        f
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

    /// "master of 5461 slots (0-5460)", "replica of 127.0.0.1:7000 (abcd1234)", …
    pub(super) fn role_phrase(&self, i: usize, n: &NodeSummary) -> String {
        let owned = self.owned(i);
        match n.role {
            // Its own view may still claim slots the others bind elsewhere (or to nobody):
            // it is not slot-less, the finding says which slots.
            Role::Master if owned.is_empty() && !n.claimed_slots.is_empty() => "master".to_owned(),
            Role::Master if owned.is_empty() => "slot-less master".to_owned(),
            Role::Master => format!("master of {}", slots_phrase(owned)),
            Role::Replica => match n.master_id.as_ref() {
                Some(m) => format!("replica of {}", self.id_label(m)),
                None => "replica".to_owned(),
            },
            Role::Unknown => "node".to_owned(),
        }
    }
}

/// An endpoint that does not answer and that no cluster node lists (see `Ctx::departed`).
fn departed(n: &NodeSummary, e: &ProbeError) -> Finding {
    let mut f = Finding::new(
        FindingKind::NodeUnreachable,
        Severity::Info,
        format!(
            "{} does not answer and no cluster node lists it: not a member (forgotten by the \
             cluster, or a wrong seed), left out of the verdict",
            addr_of(n)
        ),
    );
    f.evidence.push(format!("slotscope: {e}"));
    f.evidence.push(
        "if it is started again and met, it is probed and judged like every other node".to_owned(),
    );
    f
}

/// A running server that is not in cluster mode.
fn not_cluster(n: &NodeSummary, version: Option<&str>) -> Finding {
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
    f.evidence
        .push("if you meant to inspect a cluster, point slotscope at one of its nodes".to_owned());
    f
}

/// A node in cluster mode that knows only itself; `meet_target` is a member to meet.
fn not_joined(n: &NodeSummary, meet_target: Option<&Endpoint>) -> Finding {
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
            "{} runs in cluster mode but is not part of the cluster ({alone}): {hint}",
            label(n)
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
        "a node restarted without its nodes.conf, or never added, looks like this".to_owned(),
    );
    f
}

/// Keys in databases other than 0 on a reachable node.
fn data_anomaly(n: &NodeSummary) -> Option<Finding> {
    let info = n.info.as_ref()?;
    if !matches!(n.reachability, Reachability::Ok) || info.keys_other_dbs == 0 {
        return None;
    }
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
    Some(f)
}

#[cfg(test)]
mod tests;
