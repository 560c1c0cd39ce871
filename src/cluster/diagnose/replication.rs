//! Replica relations: `ReplicaNotSyncing` (the link to a live master is down, or a full sync
//! is still running), `ReplicaMasterFailing` and `ReplicaOfUnknownMaster`.

use super::ctx::{Ctx, Nodes};
use super::ranges::slots_phrase;
use super::words::{label, plural};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::{NodeSummary, Reachability, Role};
use crate::cluster::types::ServerInfo;

/// How long a replica that has never connected to its master (`master_link_down_since_seconds:
/// -1`) is only info: a new replica needs a few seconds to connect and start its first full
/// sync. The replica's own uptime is the clock, so a node that was started (or restarted) less
/// than this long ago gets the grace; one assigned later in its life does not.
pub const REPLICA_START_GRACE_S: u64 = 60;

/// A replica that started recently and has not connected to its master yet.
fn starting(info: &ServerInfo) -> bool {
    info.master_link_never_up && info.uptime_s.is_some_and(|u| u < REPLICA_START_GRACE_S)
}

impl Ctx<'_> {
    /// A reachable replica whose own `INFO replication` says its link to a live, reachable
    /// master is not up. (A replica of a failing master is `ReplicaMasterFailing` or part of
    /// the master's own finding.)
    pub(super) fn replica_not_syncing(&self, i: usize, n: &NodeSummary) -> Option<Finding> {
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
        let consequence = if owned.is_empty() {
            String::new()
        } else {
            match self.other_replicas_in_sync(mi, i) {
                0 => format!(
                    "; {} has no replica in sync, so losing it loses {}",
                    label(master),
                    slots_phrase(owned)
                ),
                in_sync => format!(
                    "; {} still has {} in sync",
                    label(master),
                    plural(in_sync, "other replica", "other replicas")
                ),
            }
        };
        let syncing = info.master_sync_in_progress == Some(true);
        let (severity, summary) = if starting(info) {
            (
                Severity::Info,
                format!(
                    "replica {} has not connected to its master {} yet (started {} s ago, \
                     master_link_status:{status}); it becomes a warning if it has not \
                     connected {REPLICA_START_GRACE_S} s after it started{consequence}",
                    label(n),
                    label(master),
                    info.uptime_s.unwrap_or(0)
                ),
            )
        } else if syncing {
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
        f.evidence = link_evidence(n, info, master, status);
        let mut b = Nodes::default();
        b.add(Some(n));
        b.add(Some(master));
        b.finish(&mut f);
        Some(f)
    }

    /// How many replicas of master `mi` other than `i` report their link up.
    fn other_replicas_in_sync(&self, mi: usize, i: usize) -> usize {
        self.replicas_of(mi)
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
            .count()
    }

    /// A replica whose master is failed and slot-less, or known to no node. `None` when its
    /// master is fine (or is reported by its own finding).
    pub(super) fn replica_relation(&self, n: &NodeSummary) -> Option<Finding> {
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
                Some(f)
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
                Some(f)
            }
        }
    }
}

/// Evidence of a replica link that is not up: the replica's own view, how long, how far behind.
fn link_evidence(
    n: &NodeSummary,
    info: &ServerInfo,
    master: &NodeSummary,
    status: &str,
) -> Vec<String> {
    let mut evidence = vec![format!(
        "INFO replication of {}: master_host:{} master_port:{} master_link_status:{status}",
        label(n),
        info.master_host.as_deref().unwrap_or("?"),
        info.master_port
            .map_or_else(|| "?".to_owned(), |p| p.to_string()),
    )];
    if let Some(secs) = info.master_link_down_since_s {
        evidence.push(format!("link down for {secs} s"));
    }
    if let (Some(mo), Some(ro)) = (
        master.info.as_ref().and_then(|mi| mi.master_repl_offset),
        info.slave_repl_offset,
    ) {
        evidence.push(format!(
            "replication offsets: master {mo}, replica {ro} ({} bytes behind)",
            mo.saturating_sub(ro).max(0)
        ));
    }
    if info.master_sync_in_progress != Some(true) {
        evidence.push(
            "common causes: masterauth / ACL user of the replica no longer accepted by the \
             master, the master unreachable from the replica's host, or a full sync that \
             keeps failing (see both nodes' logs)"
                .to_owned(),
        );
    }
    evidence
}

#[cfg(test)]
mod tests;
