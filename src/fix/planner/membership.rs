//! Cluster membership: a plain Redis server where a cluster node was expected, a running node
//! to join with `CLUSTER MEET`, and a failed or ghost node to remove with `CLUSTER FORGET`.

use crate::cluster::FindingKind;
use crate::cluster::model::{ClusterModel, NodeSummary, Reachability};
use crate::cluster::slots::{Slot, SlotRange, format_ranges, ranges_len, slots_to_ranges};
use crate::cluster::types::{Endpoint, NodeId, ProbeError};
use crate::fix::{
    Condition, Confirmation, FixPlan, FixStep, KeysAtRisk, PlanKind, Requirement, Risk,
};

use super::{Planner, cmd_step, endpoint_of, is_live, plural, short, wait_step};

/// The healthy master that introduces an isolated node to the cluster.
struct Introducer<'m> {
    node: &'m NodeSummary,
    id: NodeId,
    ep: Endpoint,
}

impl<'m> Introducer<'m> {
    fn of(node: &'m NodeSummary) -> Option<Self> {
        Some(Self {
            node,
            id: node.id.clone()?,
            ep: endpoint_of(node)?,
        })
    }
}

impl Planner<'_> {
    /// Advice for a server that answers with `cluster_enabled:0`.
    pub(super) fn not_cluster(&mut self) {
        for n in &self.model.nodes {
            let Reachability::Failed(ProbeError::NotCluster { version }) = &n.reachability else {
                continue;
            };
            let Some(ep) = endpoint_of(n) else { continue };
            let ver = version.as_deref().unwrap_or("unknown version");
            self.plans.push(FixPlan {
                id: format!("not-cluster-{}-{}", ep.host, ep.port),
                kind: PlanKind::NotClusterAdvice,
                title: format!("{ep} is a plain Redis server, not a cluster node"),
                why: self
                    .why(&[FindingKind::NotCluster], &[], n.id.as_ref())
                    .unwrap_or_else(|| {
                        format!("{ep} (Redis {ver}) answers with cluster_enabled:0")
                    }),
                finding: Some(FindingKind::NotCluster),
                group: None,
                recommended: true,
                slots: Vec::new(),
                nodes: n.id.iter().cloned().collect(),
                steps: Vec::new(),
                advice: vec![
                    "This server runs without cluster support, so it has no slots, no \
                     CLUSTER commands and no CLUSTERDOWN state of its own."
                        .to_owned(),
                    "If it should be a cluster node: add to its redis.conf".to_owned(),
                    "    cluster-enabled yes".to_owned(),
                    format!("    cluster-config-file nodes-{}.conf", ep.port),
                    "    cluster-node-timeout 5000".to_owned(),
                    "then restart it (its database must be empty or only use db 0), and join \
                     it with CLUSTER MEET from a cluster node or create the cluster with \
                     redis-cli --cluster create."
                        .to_owned(),
                    "If you pointed slotscope at the wrong port, give it a seed of the cluster."
                        .to_owned(),
                ],
                risk: Risk::default(),
                preconditions: Vec::new(),
                expected: Vec::new(),
                confirmation: Confirmation::Simple,
            });
        }
    }

    /// `CLUSTER MEET` for each reachable node that knows only itself (sent by a healthy
    /// master) or that some nodes do not know yet (sent by each of those).
    pub(super) fn meet(&mut self) {
        let masters = self.live_masters();
        let Some(healthy) = masters
            .iter()
            .find(|m| !m.isolated && !m.claimed_slots.is_empty())
            .or_else(|| masters.iter().find(|m| !m.isolated))
        else {
            return;
        };
        let Some(introducer) = Introducer::of(healthy) else {
            return;
        };
        let plans: Vec<FixPlan> = self
            .model
            .nodes
            .iter()
            .filter_map(|n| self.meet_plan(n, &introducer))
            .collect();
        self.plans.extend(plans);
    }

    /// The meet plan for `n`, if it needs one.
    fn meet_plan(&self, n: &NodeSummary, introducer: &Introducer<'_>) -> Option<FixPlan> {
        let id = n.id.clone()?;
        if !matches!(n.reachability, Reachability::Ok) || id == introducer.id {
            return None;
        }
        let partially = !n.peers.unknown_to.is_empty() && !n.isolated;
        if !n.isolated && !partially {
            return None;
        }
        let ep = endpoint_of(n)?;
        let mut steps = self.meet_steps(n, &ep, introducer);
        if steps.is_empty() {
            return None;
        }
        steps.push(wait_step(
            introducer.ep.clone(),
            Condition::NodeJoined { node: id.clone() },
            format!("wait until every node knows {}", n.label()),
        ));
        // Its replicas that the cluster does not know either (a shard forgotten together)
        // join in the same plan: one incident, one plan.
        let mut shard = Vec::new();
        for r in self.model.nodes.iter().filter(|r| {
            r.master_id.as_ref() == Some(&id)
                && matches!(r.reachability, Reachability::Ok)
                && !r.isolated
                && !r.peers.unknown_to.is_empty()
        }) {
            let (Some(rid), Some(rep)) = (r.id.clone(), endpoint_of(r)) else {
                continue;
            };
            steps.extend(self.meet_steps(r, &rep, introducer));
            steps.push(wait_step(
                introducer.ep.clone(),
                Condition::NodeJoined { node: rid.clone() },
                format!("wait until every node knows {}", r.label()),
            ));
            shard.push((rid, r.label()));
        }
        let own = n
            .own_line
            .as_ref()
            .map(|l| l.slots.clone())
            .unwrap_or_default();
        let risk = self.meet_risk(n, &id, &own);
        let loses = risk.loses_data;
        let mut pre = vec![Requirement::new(
            format!("{} still reachable", n.label()),
            Condition::NodeReachable { node: id.clone() },
        )];
        if n.isolated {
            pre.push(Requirement::new(
                format!("{} still outside the cluster", n.label()),
                Condition::NodeIsolated { node: id.clone() },
            ));
        }
        Some(FixPlan {
            id: format!("meet-{}", short(&id)),
            kind: PlanKind::Meet,
            title: format!("Join {} to the cluster with CLUSTER MEET", n.label()),
            why: self
                .why(
                    &[FindingKind::NodeNotJoined, FindingKind::PartiallyKnownNode],
                    &[],
                    Some(&id),
                )
                .unwrap_or_else(|| {
                    if n.isolated {
                        format!("{} runs but knows only itself", n.label())
                    } else {
                        format!("{} is unknown to some nodes", n.label())
                    }
                }),
            finding: Some(if n.isolated {
                FindingKind::NodeNotJoined
            } else {
                FindingKind::PartiallyKnownNode
            }),
            group: None,
            recommended: true,
            slots: own.clone(),
            nodes: std::iter::once(id.clone())
                .chain(shard.iter().map(|(r, _)| r.clone()))
                .collect(),
            steps,
            advice: if own.is_empty() {
                vec![
                    "Once it joined, make it a replica (CLUSTER REPLICATE <master-id>) or give \
                     it slots."
                        .to_owned(),
                ]
            } else {
                Vec::new()
            },
            risk,
            preconditions: pre,
            expected: std::iter::once(Requirement::new(
                format!("every node knows {}", n.label()),
                Condition::NodeJoined { node: id.clone() },
            ))
            .chain(shard.into_iter().map(|(r, label)| {
                Requirement::new(
                    format!("every node knows {label}"),
                    Condition::NodeJoined { node: r },
                )
            }))
            .collect(),
            confirmation: if loses {
                Confirmation::TypeWord(format!("meet-{}", short(&id)))
            } else {
                Confirmation::Simple
            },
        })
    }

    /// The MEETs: from the introducer for a node that knows only itself, otherwise from each
    /// live node that does not know it yet.
    fn meet_steps(
        &self,
        n: &NodeSummary,
        ep: &Endpoint,
        introducer: &Introducer<'_>,
    ) -> Vec<FixStep> {
        let meet_args = || {
            let mut a = vec![
                "CLUSTER".to_owned(),
                "MEET".to_owned(),
                ep.host.clone(),
                ep.port.to_string(),
            ];
            if n.addr.cport != 0 && u32::from(n.addr.cport) != u32::from(ep.port) + 10000 {
                a.push(n.addr.cport.to_string());
            }
            a
        };
        if n.isolated {
            return vec![cmd_step(
                introducer.ep.clone(),
                Some(introducer.id.clone()),
                meet_args(),
                format!(
                    "{} introduces {} to the cluster",
                    introducer.node.label(),
                    n.label()
                ),
            )];
        }
        let mut steps = Vec::new();
        for u in &n.peers.unknown_to {
            let Some(un) = self.model.node(u) else {
                continue;
            };
            let Some(uep) = endpoint_of(un) else { continue };
            if !is_live(un) {
                continue;
            }
            steps.push(cmd_step(
                uep,
                Some(u.clone()),
                meet_args(),
                format!("{} meets {}", un.label(), n.label()),
            ));
        }
        steps
    }

    /// What joining `n` risks: slots it claims (`own`) that the cluster gives to someone else
    /// are lost, with their keys.
    fn meet_risk(&self, n: &NodeSummary, id: &NodeId, own: &[SlotRange]) -> Risk {
        let contested: Vec<Slot> = own
            .iter()
            .flat_map(SlotRange::iter)
            .filter(|s| {
                self.model
                    .owner_of(*s)
                    .and_then(|o| o.id.as_ref())
                    .is_some_and(|o| o != id)
            })
            .collect();
        let keys = n.info.as_ref().and_then(|i| i.keys);
        let mut notes = vec![format!(
            "{} has {} and claims {} slot(s) in its own view",
            n.label(),
            keys.map_or_else(
                || "an unknown number of keys".to_owned(),
                |k| plural(k, "key", "keys")
            ),
            ranges_len(own)
        )];
        // An unknown key count may hide keys in the contested slots.
        let loses = !contested.is_empty() && keys != Some(0);
        if loses {
            notes.push(format!(
                "it claims slots {} that the cluster gives to others: if their epoch is \
                 higher it deletes its keys in them",
                format_ranges(&slots_to_ranges(contested.iter().copied()))
            ));
        }
        Risk {
            keys_to_move: 0,
            keys_at_risk: match (loses, keys) {
                (false, _) => KeysAtRisk::Known(0),
                (true, Some(k)) => KeysAtRisk::Known(k),
                (true, None) => KeysAtRisk::unknown("its key count was not reported", None),
            },
            slots_changing_owner: 0,
            loses_data: loses,
            notes,
        }
    }

    /// `CLUSTER FORGET` on every live node for a failed or ghost node that owns no slot (and
    /// has no live replica, which would refuse to forget its master).
    pub(super) fn forget(&mut self) {
        let mut plans = Vec::new();
        for n in &self.model.nodes {
            let Some(id) = n.id.clone() else { continue };
            let ghost = matches!(n.reachability, Reachability::NotProbed)
                && (n.flags.noaddr || n.flags.handshake || n.addr.is_unknown());
            let dead = !matches!(n.reachability, Reachability::Ok) && n.is_failing();
            if !(ghost || dead) || !n.claimed_slots.is_empty() {
                continue;
            }
            // It accepts connections but answers nothing: it is alive (paused, swapping,
            // stuck). A FORGET would not stick, and the node would still hold its data.
            if let Reachability::Failed(ProbeError::Unresponsive(_)) = &n.reachability {
                plans.push(resume_advice(n, &id));
                continue;
            }
            // Replicas of it that are alive would refuse to forget their master.
            let has_live_replicas = self
                .model
                .nodes
                .iter()
                .any(|r| r.master_id.as_ref() == Some(&id) && is_live(r));
            if has_live_replicas {
                continue;
            }
            let mut steps = forget_steps(self.model, n, &id);
            let mut pre = vec![Requirement::new(
                format!("{} still unreachable and owns no slot", n.label()),
                Condition::NodeUnreachable { node: id.clone() },
            )];
            if steps.is_empty() {
                continue;
            }
            pre.push(Requirement::new(
                format!("{} still owns no slot", n.label()),
                Condition::NodeOwnsNoSlot { node: id.clone() },
            ));
            let anchor = steps.first().map(|s| s.endpoint.clone());
            if let Some(ep) = anchor {
                steps.push(wait_step(
                    ep,
                    Condition::NodeForgotten { node: id.clone() },
                    format!("check that {} did not come back through gossip", n.label()),
                ));
            }
            plans.push(FixPlan {
                id: format!("forget-{}", short(&id)),
                kind: PlanKind::Forget,
                title: format!(
                    "Remove {} from every node's table (CLUSTER FORGET)",
                    n.label()
                ),
                why: self
                    .why(
                        &[
                            FindingKind::LingeringFailedNode,
                            FindingKind::HandshakeOrNoaddr,
                            FindingKind::NodeDown,
                        ],
                        &[],
                        Some(&id),
                    )
                    .unwrap_or_else(|| format!("{} is failed and owns no slot", n.label())),
                finding: Some(if ghost {
                    FindingKind::HandshakeOrNoaddr
                } else {
                    FindingKind::LingeringFailedNode
                }),
                group: None,
                recommended: true,
                slots: Vec::new(),
                nodes: vec![id.clone()],
                steps,
                advice: vec![format!(
                    "Every node must forget it within 60 s, or gossip brings it back; \
                     slotscope sends the FORGETs back to back. If {} is started again it must \
                     be reset (CLUSTER RESET) before it can rejoin.",
                    n.label()
                )],
                risk: Risk {
                    notes: vec![
                        "it owns no slot; what forgetting it does to keys is replayed on the \
                         key census below"
                            .to_owned(),
                    ],
                    ..Risk::default()
                },
                preconditions: pre,
                expected: vec![Requirement::new(
                    format!("no node lists {}", n.label()),
                    Condition::NodeForgotten { node: id.clone() },
                )],
                confirmation: Confirmation::Simple,
            });
        }
        self.plans.extend(plans);
    }
}

/// `CLUSTER FORGET id` on every live node that lists `n` (sent back to back: every node must
/// forget it within the 60 s ban window, or gossip brings it back).
pub(super) fn forget_steps(model: &ClusterModel, n: &NodeSummary, id: &NodeId) -> Vec<FixStep> {
    let mut steps = Vec::new();
    for k in &n.peers.known_by {
        let Some(kn) = model.node(k) else {
            continue;
        };
        if !is_live(kn) || k == id {
            continue;
        }
        let Some(kep) = endpoint_of(kn) else { continue };
        steps.push(cmd_step(
            kep,
            Some(k.clone()),
            vec!["CLUSTER".into(), "FORGET".into(), id.0.to_string()],
            format!("{} forgets {}", kn.label(), n.label()),
        ));
    }
    steps
}

/// Advice for a node that accepts connections and answers nothing: resume or restart it;
/// never forget a live node.
fn resume_advice(n: &NodeSummary, id: &NodeId) -> FixPlan {
    let ep = endpoint_of(n).map_or_else(|| n.addr.to_string(), |e| e.to_string());
    FixPlan {
        id: format!("resume-{}", short(id)),
        kind: PlanKind::RestartAdvice,
        title: format!(
            "Resume or restart {} (it accepts connections, answers nothing)",
            n.label()
        ),
        why: format!(
            "{} accepts TCP connections but answers no command: it is alive but stopped \
             (SIGSTOP, a debugger, a swap storm) or overloaded",
            n.label()
        ),
        finding: Some(FindingKind::NodeUnreachable),
        group: None,
        recommended: true,
        slots: Vec::new(),
        nodes: vec![id.clone()],
        steps: Vec::new(),
        advice: vec![
            format!(
                "On the host of {ep}: find the process (ss -ltnp 'sport = :{}') and resume \
                 it with kill -CONT <pid> if it was stopped; if it is stuck, restart it with \
                 its data and nodes.conf intact.",
                n.addr.port
            ),
            "Do not CLUSTER FORGET it while it is alive: it still holds its data and would \
             come back through gossip."
                .to_owned(),
        ],
        risk: Risk::default(),
        preconditions: Vec::new(),
        expected: Vec::new(),
        confirmation: Confirmation::Simple,
    }
}
