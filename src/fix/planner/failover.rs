//! Failed masters that still own slots: promote a live replica (`CLUSTER FAILOVER FORCE`, or
//! `TAKEOVER` without a majority), restart the master with its data (advice), or hand its slots
//! to the live masters, empty (typed confirmation: its keys are lost).

use crate::cluster::FindingKind;
use crate::cluster::model::{NodeSummary, Reachability, Role};
use crate::cluster::slots::{Slot, SlotRange, format_ranges, ranges_len, slots_to_ranges};
use crate::cluster::types::{NodeId, Persistence, ServerInfo};
use crate::fix::{
    Condition, Confirmation, FixPlan, FixStep, KeysAtRisk, PlanKind, Requirement, Risk,
};

use super::{
    Planner, cmd_step, endpoint_of, even_chunks, is_live, plural, range_args, short, u64_of,
    view_owner, wait_step,
};

/// A master that owns slots and is not live: what every plan for it shares.
struct DeadMaster<'m> {
    node: &'m NodeSummary,
    id: NodeId,
    /// The slots it claims.
    ranges: Vec<SlotRange>,
    nslots: u64,
    /// Plans for the same master are alternatives.
    group: String,
    why: String,
}

/// How many slot-owning masters are live, which decides the failover mode.
#[derive(Clone, Copy)]
struct Majority {
    live: usize,
    total: usize,
}

impl Majority {
    fn holds(self) -> bool {
        self.live > self.total / 2
    }
}

/// The steps and checks that hand a dead master's slots to the live masters.
struct Handout {
    steps: Vec<FixStep>,
    pre: Vec<Requirement>,
    expected: Vec<Requirement>,
    /// The dead master, then every receiving master.
    nodes: Vec<NodeId>,
}

impl Planner<'_> {
    /// For each failed master that owns slots: a failover per live replica (the first one is
    /// recommended), restart advice, and reassigning its slots.
    pub(super) fn failed_masters(&mut self) {
        let (live, total) = self.master_majority();
        let majority = Majority { live, total };
        for dead in &self.model.nodes {
            let Some(dead) = self.dead_master(dead) else {
                continue;
            };
            let replicas: Vec<&NodeSummary> = self
                .model
                .nodes
                .iter()
                .filter(|n| n.role == Role::Replica && n.master_id.as_ref() == Some(&dead.id))
                .filter(|n| is_live(n))
                .collect();
            let mut first = true;
            for r in &replicas {
                if let Some(plan) = Self::failover_plan(&dead, r, majority, first) {
                    self.plans.push(plan);
                    first = false;
                }
            }
            let restart = self.restart_advice(&dead, replicas.is_empty());
            // With no replica and a restart that would come back empty, handing the slots out
            // is what restores service; its data loss is the same either way.
            let reassign_first = replicas.is_empty() && !restart.recommended;
            self.plans.push(restart);
            if let Some(mut reassign) = self.reassign_plan(&dead, !replicas.is_empty()) {
                reassign.recommended = reassign_first;
                self.plans.push(reassign);
            }
        }
    }

    /// `n` as a dead master, when it is a master that owns slots and is not live.
    fn dead_master<'m>(&self, n: &'m NodeSummary) -> Option<DeadMaster<'m>> {
        if n.role != Role::Master || n.claimed_slots.is_empty() || is_live(n) {
            return None;
        }
        let id = n.id.clone()?;
        let ranges = n.claimed_slots.clone();
        // Slots another master also claims and won in the consensus: the dispute is resolved
        // first (its own plan); taking over or handing out these slots would decide it blindly.
        let bound = Condition::SlotsOwnedBy {
            slots: ranges.clone(),
            node: id.clone(),
        };
        if bound.check(self.model).is_err() {
            return None;
        }
        let nslots = u64_of(ranges_len(&ranges));
        let why = self
            .why(
                &[
                    FindingKind::MasterDown,
                    FindingKind::MajorityLost,
                    FindingKind::ClusterDown,
                ],
                &ranges,
                Some(&id),
            )
            .unwrap_or_else(|| {
                format!(
                    "master {} holding slots {} ({nslots}) is down",
                    n.label(),
                    format_ranges(&ranges)
                )
            });
        Some(DeadMaster {
            node: n,
            group: format!("master-down-{}", short(&id)),
            id,
            ranges,
            nslots,
            why,
        })
    }

    /// (a) Promote the live replica `r` in place of the dead master.
    fn failover_plan(
        dead: &DeadMaster<'_>,
        r: &NodeSummary,
        majority: Majority,
        first: bool,
    ) -> Option<FixPlan> {
        let (rid, rep) = (r.id.clone()?, endpoint_of(r)?);
        let (dl, ranges) = (dead.node.label(), &dead.ranges);
        let mode = if majority.holds() {
            "FORCE"
        } else {
            "TAKEOVER"
        };
        let lag = match (
            r.info.as_ref().and_then(|i| i.slave_repl_offset),
            r.info.as_ref().and_then(|i| i.master_link_status.clone()),
        ) {
            (Some(off), Some(link)) => format!("replication offset {off}, link {link}"),
            (Some(off), None) => format!("replication offset {off}"),
            _ => "replication offset unknown".to_owned(),
        };
        let mut notes = vec![format!(
            "writes the old master took after its last replication to {} are lost \
             ({lag})",
            r.label()
        )];
        if majority.holds() {
            notes.push(
                "FAILOVER FORCE skips the handshake with the dead master but still asks \
                 the other masters to agree."
                    .to_owned(),
            );
        } else {
            let Majority { live, total } = majority;
            notes.push(format!(
                "only {live} of {total} slot-owning masters are reachable, so no vote can \
                 pass: FAILOVER TAKEOVER promotes the replica on its own authority \
                 (epoch bump without agreement). If the old master comes back it \
                 becomes a replica of the new one."
            ));
        }
        let served_by_replica = Condition::SlotsServedBy {
            slots: ranges.clone(),
            node: rid.clone(),
        };
        Some(FixPlan {
            id: format!("failover-{}", short(&rid)),
            kind: PlanKind::Failover,
            title: format!(
                "Promote replica {} to replace {dl} (CLUSTER FAILOVER {mode})",
                r.label()
            ),
            why: dead.why.clone(),
            finding: Some(FindingKind::MasterDown),
            group: Some(dead.group.clone()),
            recommended: first,
            slots: ranges.clone(),
            nodes: vec![dead.id.clone(), rid.clone()],
            steps: vec![
                cmd_step(
                    rep.clone(),
                    Some(rid.clone()),
                    vec!["CLUSTER".into(), "FAILOVER".into(), mode.into()],
                    format!("promote {} in place of {dl}", r.label()),
                ),
                wait_step(
                    rep,
                    served_by_replica.clone(),
                    format!(
                        "wait until {} serves slots {}",
                        r.label(),
                        format_ranges(ranges)
                    ),
                ),
            ],
            advice: vec![format!(
                "Afterwards restart {dl} with its data: it rejoins as a replica."
            )],
            risk: Risk {
                keys_to_move: 0,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: dead.nslots,
                loses_data: false,
                notes,
            },
            preconditions: vec![
                Requirement::new(
                    format!("{dl} still down"),
                    Condition::NodeFailing {
                        node: dead.id.clone(),
                    },
                ),
                Self::still_bound(dead),
                Requirement::new(
                    format!("{} still a replica of {dl}", r.label()),
                    Condition::NodeIsReplicaOf {
                        node: rid.clone(),
                        master: dead.id.clone(),
                    },
                ),
            ],
            expected: vec![
                Requirement::new(
                    format!("{} is a master", r.label()),
                    Condition::NodeIsMaster { node: rid.clone() },
                ),
                Requirement::new(
                    format!("slots {} served by {}", format_ranges(ranges), r.label()),
                    served_by_replica,
                ),
            ],
            confirmation: Confirmation::Simple,
        })
    }

    /// The dead master's slots are still bound to it.
    fn still_bound(dead: &DeadMaster<'_>) -> Requirement {
        Requirement::new(
            format!(
                "slots {} still bound to {}",
                format_ranges(&dead.ranges),
                dead.node.label()
            ),
            Condition::SlotsOwnedBy {
                slots: dead.ranges.clone(),
                node: dead.id.clone(),
            },
        )
    }

    /// (b) Restart advice, always; recommended when no replica can take over and a restart
    /// can bring the keys back: never when the master ran without persistence (it would come
    /// back empty), as far as its own last reading or, while it is down, the live masters'
    /// settings tell.
    fn restart_advice(&self, dead: &DeadMaster<'_>, no_replica: bool) -> FixPlan {
        let dl = dead.node.label();
        let dead_ep =
            endpoint_of(dead.node).map_or_else(|| dead.node.addr.to_string(), |e| e.to_string());
        let (own, peers) = self.persistence_of(dead.node);
        let judged = own.or(peers);
        let ranges = format_ranges(&dead.ranges);
        let (outcome, loses) = match (own, judged) {
            (Some(Persistence::AppendOnly), _) => (
                format!(
                    "It keeps its id, reloads its keys from its AOF and serves slots {ranges} \
                     again; the cluster returns to ok without any key lost."
                ),
                false,
            ),
            (Some(Persistence::Snapshots), _) => (
                format!(
                    "It keeps its id, reloads its keys from its last RDB snapshot and serves \
                     slots {ranges} again; writes since that snapshot are lost."
                ),
                true,
            ),
            (Some(Persistence::None), _) => (
                format!(
                    "It ran with {}: it comes back EMPTY, and every key of slots {ranges} is \
                     lost. Restarting restores service, not data.",
                    Persistence::None.words()
                ),
                true,
            ),
            (None, Some(Persistence::None)) => (
                format!(
                    "Its persistence cannot be read while it is down, and the live masters run \
                     with {}: if it did too, it comes back EMPTY and every key of slots \
                     {ranges} is lost. Check its redis.conf (save, appendonly) before counting \
                     on a restart.",
                    Persistence::None.words()
                ),
                true,
            ),
            (None, Some(p)) => (
                format!(
                    "Its persistence cannot be read while it is down; the live masters run \
                     with {}. If it did too, it reloads its keys and serves slots {ranges} \
                     again{}.",
                    p.words(),
                    if p == Persistence::Snapshots {
                        ", losing the writes since its last snapshot"
                    } else {
                        " without any key lost"
                    }
                ),
                p == Persistence::Snapshots,
            ),
            (None, None) => (
                format!(
                    "It keeps its id and serves slots {ranges} again; whether its keys come \
                     back depends on its persistence (RDB or AOF), which slotscope cannot read \
                     while it is down."
                ),
                false,
            ),
        };
        let empty = matches!(judged, Some(Persistence::None));
        let mut risk = Risk::default();
        if loses {
            risk.keys_at_risk = KeysAtRisk::unknown(
                if empty {
                    "a master without persistence comes back empty"
                } else {
                    "writes since the last snapshot"
                },
                None,
            );
            risk.loses_data = empty;
            risk.notes.push(outcome.clone());
        }
        let server = self
            .model
            .node(&dead.id)
            .and_then(|n| self.model.server_info_of(n))
            .map_or("redis-server", ServerInfo::server_binary);
        FixPlan {
            id: format!("restart-{}", short(&dead.id)),
            kind: PlanKind::RestartAdvice,
            title: if empty {
                format!("Restart {dl} (it comes back empty: no persistence)")
            } else {
                format!("Restart {dl} with its data and nodes.conf intact")
            },
            why: dead.why.clone(),
            finding: Some(FindingKind::MasterDown),
            group: Some(dead.group.clone()),
            recommended: no_replica && !empty,
            slots: dead.ranges.clone(),
            nodes: vec![dead.id.clone()],
            steps: Vec::new(),
            advice: vec![
                format!(
                    "Start {server} for {dead_ep} again from the same directory, with \
                     the same nodes.conf, RDB/AOF files and port; do not delete nodes.conf."
                ),
                outcome,
                "If the machine is gone for good, use the failover or reassign plan.".to_owned(),
            ],
            risk,
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: Confirmation::Simple,
        }
    }

    /// A node's own persistence (when it was read), and what the live masters agree on.
    fn persistence_of(&self, node: &NodeSummary) -> (Option<Persistence>, Option<Persistence>) {
        let own = Persistence::of(node.info.as_ref(), node.config.as_ref());
        let mut seen: Vec<Option<Persistence>> = self
            .live_masters()
            .into_iter()
            .filter(|m| m.id != node.id)
            .map(|m| Persistence::of(m.info.as_ref(), m.config.as_ref()))
            .collect();
        seen.dedup();
        let peers = match seen.as_slice() {
            [Some(p)] => Some(*p),
            _ => None,
        };
        (own, peers)
    }

    /// (c) Reassign the dead master's slots to the live masters, contiguous and even.
    fn reassign_plan(&self, dead: &DeadMaster<'_>, has_replica: bool) -> Option<FixPlan> {
        let masters = self.live_masters();
        if masters.is_empty() {
            return None;
        }
        let Handout {
            steps,
            pre,
            expected,
            nodes,
        } = self.hand_out(dead, &masters);
        let (nslots, dl) = (dead.nslots, dead.node.label());
        let (at_risk, loss_note) = self.dead_keys_at_risk(dead);
        Some(FixPlan {
            id: format!("reassign-slots-{}", short(&dead.id)),
            kind: PlanKind::ReassignSlots,
            title: format!(
                "Hand the {nslots} slots of {dl} to {} live master(s), empty",
                nodes.len().saturating_sub(1)
            ),
            why: dead.why.clone(),
            finding: Some(FindingKind::MasterDown),
            group: Some(dead.group.clone()),
            recommended: false,
            slots: dead.ranges.clone(),
            nodes,
            steps,
            advice: vec![format!(
                "Run the forget plan for {dl} afterwards, and never restart it with its old \
                 nodes.conf: it would drop its data when it learns the new owners."
            )],
            risk: Risk {
                keys_to_move: 0,
                keys_at_risk: at_risk,
                slots_changing_owner: nslots,
                loses_data: true,
                notes: vec![
                    loss_note,
                    if has_replica {
                        "A replica exists: promoting it keeps the data; prefer the failover plan."
                            .to_owned()
                    } else {
                        "No live replica holds a copy of these keys.".to_owned()
                    },
                ],
            },
            preconditions: pre,
            expected,
            confirmation: Confirmation::TypeWord(format!("lose-{nslots}-slots")),
        })
    }

    /// One contiguous chunk of the dead master's slots per live master: each drops the dead
    /// binding where it sees one, claims its chunk and bumps its epoch; then wait until every
    /// node serves them.
    fn hand_out(&self, dead: &DeadMaster<'_>, masters: &[&NodeSummary]) -> Handout {
        let dl = dead.node.label();
        let slots: Vec<Slot> = dead.ranges.iter().flat_map(SlotRange::iter).collect();
        let chunks = even_chunks(&slots, masters.len());
        let mut out = Handout {
            steps: Vec::new(),
            pre: vec![
                Requirement::new(
                    format!("{dl} still down"),
                    Condition::NodeUnreachable {
                        node: dead.id.clone(),
                    },
                ),
                Self::still_bound(dead),
            ],
            expected: Vec::new(),
            nodes: vec![dead.id.clone()],
        };
        for (m, chunk) in masters.iter().zip(chunks) {
            if chunk.is_empty() {
                continue;
            }
            let (Some(mid), Some(ep)) = (m.id.clone(), endpoint_of(m)) else {
                continue;
            };
            let part = slots_to_ranges(chunk.iter().copied());
            // DELSLOTSRANGE needs every slot bound in the receiver's own view.
            let bound_elsewhere = chunk
                .iter()
                .any(|s| view_owner(self.model, &mid, *s).as_ref() != Some(&dead.id));
            out.pre.push(Requirement::new(
                format!("{} still answers as a master", m.label()),
                Condition::NodeIsMaster { node: mid.clone() },
            ));
            let claim = cmd_step(
                ep.clone(),
                Some(mid.clone()),
                range_args("ADDSLOTSRANGE", &part),
                format!("{} claims slots {}", m.label(), format_ranges(&part)),
            );
            if !bound_elsewhere {
                out.steps.push(cmd_step(
                    ep.clone(),
                    Some(mid.clone()),
                    range_args("DELSLOTSRANGE", &part),
                    format!(
                        "{} forgets that {dl} owned slots {}",
                        m.label(),
                        format_ranges(&part)
                    ),
                ));
            }
            out.steps.push(claim);
            out.steps.push(cmd_step(
                ep,
                Some(mid.clone()),
                vec!["CLUSTER".into(), "BUMPEPOCH".into()],
                format!(
                    "make the claim of {} win over the dead master's epoch",
                    m.label()
                ),
            ));
            out.expected.push(Requirement::new(
                format!("slots {} served by {}", format_ranges(&part), m.label()),
                Condition::SlotsServedBy {
                    slots: part,
                    node: mid.clone(),
                },
            ));
            out.nodes.push(mid);
        }
        if let Some(ep) = masters.first().and_then(|m| endpoint_of(m)) {
            out.steps.push(wait_step(
                ep,
                Condition::SlotsServed {
                    slots: dead.ranges.clone(),
                },
                format!(
                    "wait until every node serves slots {}",
                    format_ranges(&dead.ranges)
                ),
            ));
        }
        out
    }

    /// The keys lost with the dead master's slots (counted, or unknown with an estimate), and
    /// the note that says so.
    fn dead_keys_at_risk(&self, dead: &DeadMaster<'_>) -> (KeysAtRisk, String) {
        let (nslots, dl) = (dead.nslots, dead.node.label());
        let at_risk = match dead.node.info.as_ref().and_then(|i| i.keys) {
            Some(k) => KeysAtRisk::Known(k),
            None => KeysAtRisk::unknown(
                if matches!(dead.node.reachability, Reachability::Ok) {
                    "its key count was not reported"
                } else {
                    "master unreachable"
                },
                self.keys_per_slot_estimate(nslots),
            ),
        };
        let loss_note = match &at_risk {
            KeysAtRisk::Known(k) => format!(
                "The {nslots} slots start empty on their new owners: the {} stored on {dl} are \
                 lost for good if it comes back (it deletes them when it sees the newer owners).",
                plural(*k, "key", "keys"),
            ),
            KeysAtRisk::Unknown { reason, estimate } => format!(
                "The {nslots} slots start empty on their new owners: every key stored on {dl} is \
                 lost for good if it comes back (it deletes them when it sees the newer owners). \
                 How many is unknown ({reason}){}.",
                estimate.as_ref().map_or_else(String::new, |e| format!(
                    ": about {} {}",
                    plural(e.keys, "key", "keys"),
                    e.basis
                ))
            ),
        };
        (at_risk, loss_note)
    }
}
