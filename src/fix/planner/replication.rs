//! Replication links: advice for a replica whose link to its master is down or still in a
//! full sync.

use crate::cluster::FindingKind;
use crate::cluster::types::ServerInfo;

use super::{Planner, endpoint_of};
use crate::fix::{Confirmation, FixPlan, PlanKind, Risk};

impl Planner<'_> {
    /// Advice for each replica whose replication link is down or still in a full sync. Nothing
    /// is sent: the fix (the master's password, the network, the sync limits) is outside the
    /// cluster bus, and slotscope does not know the right password for the replica.
    pub(super) fn replica_links(&mut self) {
        for f in self
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ReplicaNotSyncing)
        {
            let (Some(rid), Some(mid)) = (f.nodes.first(), f.nodes.get(1)) else {
                continue;
            };
            let (Some(r), Some(m)) = (self.model.node(rid), self.model.node(mid)) else {
                continue;
            };
            let (Some(rep), Some(mas)) = (endpoint_of(r), endpoint_of(m)) else {
                continue;
            };
            let program = self
                .model
                .server_info_of(r)
                .map_or("redis-cli", ServerInfo::cli);
            let cli = |args: &str| format!("    {program} -h {} -p {} {args}", rep.host, rep.port);
            let syncing = r.info.as_ref().and_then(|i| i.master_sync_in_progress) == Some(true);
            let advice = if syncing {
                vec![
                    format!(
                        "{rep} is copying {mas} (full sync). Nothing to do while it progresses; \
                         slotscope shows master_link_status:up once it has caught up."
                    ),
                    "If the sync keeps restarting, the replica's log and the master's log say \
                     why: most often the master's client-output-buffer-limit for replicas or \
                     repl-backlog-size is too small for the write rate, or the replica runs out \
                     of memory or disk while loading."
                        .to_owned(),
                    "Watch it with:".to_owned(),
                    cli("INFO replication"),
                ]
            } else {
                vec![
                    format!(
                        "{rep} cannot replicate from {mas}. Its log says why (e.g. \
                         \"Unable to AUTH to MASTER\", \"Error condition on socket for SYNC\")."
                    ),
                    format!(
                        "If {mas} requires a password (requirepass or an ACL user), give the \
                         replica that password:"
                    ),
                    cli("CONFIG SET masterauth <password of the master>"),
                    "and, only when the master uses an ACL user for replicas:".to_owned(),
                    cli("CONFIG SET masteruser <ACL user>"),
                    "then keep it across restarts:".to_owned(),
                    cli("CONFIG REWRITE"),
                    format!(
                        "Otherwise check that the replica's host reaches {mas} (the address in \
                         CLUSTER NODES). The replica retries every second on its own; slotscope \
                         shows master_link_status:up once it is back."
                    ),
                ]
            };
            self.plans.push(FixPlan {
                id: format!("replica-link-{}", rid.short()),
                kind: PlanKind::ReplicaLinkAdvice,
                title: if syncing {
                    format!("Let {rep} finish its full sync from {mas}")
                } else {
                    format!("Restore replication of {rep} from {mas}")
                },
                why: f.summary.clone(),
                finding: Some(FindingKind::ReplicaNotSyncing),
                group: None,
                recommended: true,
                slots: Vec::new(),
                nodes: vec![rid.clone(), mid.clone()],
                steps: Vec::new(),
                advice,
                risk: Risk::default(),
                preconditions: Vec::new(),
                expected: Vec::new(),
                confirmation: Confirmation::Simple,
            });
        }
    }
}
