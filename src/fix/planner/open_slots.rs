//! Open slots: a slot with a migrating marker on its source, an importing marker on its target,
//! or both. When exactly one source and one target are involved, the slot is closed where no
//! key would be orphaned, or the move is completed or rolled back (see `migration`); any other
//! shape gets advice. Both sides of the move are one [`Side`] type, told apart by their
//! [`MarkerKind`].

use crate::cluster::FindingKind;
use crate::cluster::model::OpenSlot;
use crate::cluster::slots::{Slot, SlotRange};
use crate::cluster::types::{Endpoint, MarkerKind, NodeId, NodeLine};
use crate::fix::marker::{MarkerSide, setslot_args};
use crate::fix::{
    Condition, Confirmation, FixPlan, FixStep, KeysAtRisk, PlanKind, Requirement, Risk,
};

use super::{Planner, cmd_step, endpoint_of, is_live_master};

/// The markers of `kind` in an open slot: `(node, peer)` for every node holding one.
fn markers_of(o: &OpenSlot, kind: MarkerKind) -> &[(NodeId, NodeId)] {
    match kind {
        MarkerKind::Migrating => &o.migrating,
        MarkerKind::Importing => &o.importing,
    }
}

/// One side of a half-moved slot: the source (which holds, or would hold, a migrating marker)
/// or the target (an importing marker).
pub(super) struct Side {
    /// The marker this side holds or would hold.
    pub(super) kind: MarkerKind,
    pub(super) id: NodeId,
    pub(super) ep: Endpoint,
    /// Keys of the slot on this node (0 when not counted).
    pub(super) keys: u64,
    /// Whether `COUNTKEYSINSLOT` answered on this node.
    counted: bool,
    /// Whether it holds its marker now.
    pub(super) marked: bool,
}

impl Side {
    fn new(o: &OpenSlot, kind: MarkerKind, id: NodeId, ep: Endpoint) -> Self {
        Self {
            kind,
            marked: markers_of(o, kind).iter().any(|(n, _)| n == &id),
            keys: o.keys.get(&id).copied().unwrap_or(0),
            counted: o.keys.contains_key(&id),
            id,
            ep,
        }
    }
}

/// An open slot with exactly one source and one target, both known with an endpoint: what
/// every plan for it shares.
pub(super) struct OpenMove {
    pub(super) s: Slot,
    pub(super) slots: Vec<SlotRange>,
    pub(super) why: String,
    pub(super) group: String,
    pub(super) nodes: Vec<NodeId>,
    pub(super) src: Side,
    pub(super) dst: Side,
    /// The consensus owner.
    owner: Option<NodeId>,
    /// Keys on any other master (not source, not target) in this slot: a different problem.
    stray: u64,
    both_live: bool,
    /// Slots the source owns in its own view.
    pub(super) src_slot_count: usize,
    /// Preconditions shared by every plan for this slot: markers exactly as observed.
    pub(super) pre: Vec<Requirement>,
}

impl OpenMove {
    fn owned_by(&self, side: &Side) -> bool {
        self.owner.as_ref() == Some(&side.id)
    }
}

impl Planner<'_> {
    /// Plans for every open slot.
    pub(super) fn open_slots(&mut self) {
        // A slot moving in a live reshard gets no plan: another tool is writing to it.
        for o in self
            .model
            .open_slots
            .iter()
            .filter(|o| !self.model.progress.is_moving(o.slot))
        {
            self.open_slot(o);
        }
    }

    /// Close, complete or roll back one open slot, or advise when it is not that simple.
    fn open_slot(&mut self, o: &OpenSlot) {
        let why = self
            .why(&[FindingKind::OpenSlot], &[SlotRange::single(o.slot)], None)
            .unwrap_or_else(|| self.describe_open(o));

        // Only replicas carry markers: nothing to run on masters.
        if o.migrating.is_empty() && o.importing.is_empty() {
            if !o.on_replicas.is_empty() {
                self.replica_marker_advice(o, why);
            }
            return;
        }
        let Some(mut mv) = self.open_move(o, &why) else {
            self.complex_open_advice(o, why);
            return;
        };

        // Both markers name the same pair and both nodes are healthy: someone meant to move the
        // slot. With no key moved yet, closing is safe but completing follows that intent, so
        // both are offered and completing is the default.
        let move_intended = mv.src.marked && mv.dst.marked && mv.both_live;
        // The close plan when it is offered beside "complete" (pushed after it).
        let mut close_alternative: Option<FixPlan> = None;

        // 1. No key split: the target holds none of the slot's keys → close the markers, where
        // the source that keeps the slot answers (a dead source gets advice).
        let src_up = Condition::NodeReachable {
            node: mv.src.id.clone(),
        }
        .check(self.model)
        .is_ok();
        if mv.dst.keys == 0 && mv.stray == 0 && mv.owned_by(&mv.src) && src_up {
            let close = self.close_at_source(&mv, move_intended);
            if !move_intended {
                self.plans.push(close);
                return;
            }
            close_alternative = Some(close);
        }
        // 1b. Every key already on the target and the owner is the target: close the markers too.
        if mv.src.keys == 0 && mv.stray == 0 && mv.owned_by(&mv.dst) {
            let close = self.close_at_target(&mv);
            self.plans.push(close);
            return;
        }
        if !mv.both_live || mv.stray > 0 || !mv.owned_by(&mv.src) {
            self.complex_open_advice(o, why);
            return;
        }

        // 2. Half-moved slot: complete (forward) or roll back.
        self.require_both_sides(&mut mv);
        let complete = self.complete_plan(&mv);
        self.plans.push(complete);
        // Nothing to roll back when no key moved: closing is the alternative.
        if let Some(close) = close_alternative {
            self.plans.push(close);
            return;
        }
        let roll_back = self.roll_back_plan(&mv);
        self.plans.push(roll_back);
    }

    /// The source and target of an open slot, when there is exactly one pair and both are
    /// known with an endpoint.
    fn open_move(&self, o: &OpenSlot, why: &str) -> Option<OpenMove> {
        let s = o.slot;
        let (src, dst) = match (o.migrating.as_slice(), o.importing.as_slice()) {
            ([(src, dst)], []) | ([], [(dst, src)]) => (src.clone(), dst.clone()),
            ([(src, dst)], [(idst, isrc)]) if src == isrc && dst == idst => {
                (src.clone(), dst.clone())
            }
            _ => return None,
        };
        let (src_n, dst_n) = (self.model.node(&src)?, self.model.node(&dst)?);
        let (src_ep, dst_ep) = (endpoint_of(src_n)?, endpoint_of(dst_n)?);
        let stray: u64 = o
            .keys
            .iter()
            .filter(|(id, _)| **id != src && **id != dst)
            .map(|(_, c)| *c)
            .sum();
        let src = Side::new(o, MarkerKind::Migrating, src, src_ep);
        let dst = Side::new(o, MarkerKind::Importing, dst, dst_ep);
        let mut pre = vec![
            self.marker_check(s, &src, &dst.id),
            self.marker_check(s, &dst, &src.id),
        ];
        let slots = vec![SlotRange::single(s)];
        if let Some(ow) = &o.owner {
            pre.push(Requirement::new(
                format!("slot {s} still owned by {}", self.label(ow)),
                Condition::SlotsOwnedBy {
                    slots: slots.clone(),
                    node: ow.clone(),
                },
            ));
        }
        let mut nodes = vec![src.id.clone(), dst.id.clone()];
        nodes.dedup();
        Some(OpenMove {
            s,
            slots,
            why: why.to_owned(),
            group: format!("open-slot-{s}"),
            nodes,
            owner: o.owner.clone(),
            stray,
            both_live: is_live_master(src_n) && is_live_master(dst_n),
            src_slot_count: src_n.own_line.as_ref().map_or(0, NodeLine::slot_count),
            src,
            dst,
            pre,
        })
    }

    /// The side still holds its marker with `peer` exactly as observed, or still has none.
    fn marker_check(&self, s: Slot, side: &Side, peer: &NodeId) -> Requirement {
        if side.marked {
            self.marker_held(side.kind, s, &side.id, peer)
        } else {
            Requirement::new(
                format!("slot {s} still has no marker on {}", self.label(&side.id)),
                Condition::SlotNotMarkedOn {
                    slot: s,
                    node: side.id.clone(),
                },
            )
        }
    }

    /// Before moving keys either way: both sides still reachable, the target still a master.
    fn require_both_sides(&self, mv: &mut OpenMove) {
        for side in [&mv.src, &mv.dst] {
            mv.pre.push(Requirement::new(
                format!("{} still reachable", self.label(&side.id)),
                Condition::NodeReachable {
                    node: side.id.clone(),
                },
            ));
        }
        mv.pre.push(Requirement::new(
            format!("{} still a master", self.label(&mv.dst.id)),
            Condition::NodeIsMaster {
                node: mv.dst.id.clone(),
            },
        ));
    }

    /// Keys a close plan would orphan on `side` (the node that loses the slot's keys):
    /// unknown, never 0, when `COUNTKEYSINSLOT` did not answer there.
    fn orphan_risk(&self, s: Slot, side: &Side) -> KeysAtRisk {
        if side.counted {
            KeysAtRisk::Known(0)
        } else {
            KeysAtRisk::unknown(
                format!(
                    "the key count of slot {s} on {} could not be read",
                    self.label(&side.id)
                ),
                None,
            )
        }
    }

    /// `SETSLOT s STABLE` on each side that holds a marker, in the given order.
    fn clear_markers(&self, s: Slot, sides: [&Side; 2]) -> Vec<FixStep> {
        sides
            .into_iter()
            .filter(|side| side.marked)
            .map(|side| {
                cmd_step(
                    side.ep.clone(),
                    Some(side.id.clone()),
                    setslot_args(s, &["STABLE"]),
                    format!("clear the marker of slot {s} on {}", self.label(&side.id)),
                )
            })
            .collect()
    }

    /// The expected end state of every plan for an open slot: closed, and served by `side`.
    pub(super) fn closed_and_served_by(&self, mv: &OpenMove, side: &Side) -> Vec<Requirement> {
        let s = mv.s;
        vec![
            Requirement::new(
                format!("slot {s} is no longer open"),
                Condition::SlotsClosed {
                    slots: mv.slots.clone(),
                },
            ),
            Requirement::new(
                format!("slot {s} served by {}", self.label(&side.id)),
                Condition::SlotsServedBy {
                    slots: mv.slots.clone(),
                    node: side.id.clone(),
                },
            ),
        ]
    }

    /// Close the slot where the source keeps it: the target holds none of its keys.
    fn close_at_source(&self, mv: &OpenMove, move_intended: bool) -> FixPlan {
        let (s, src, dst) = (mv.s, &mv.src, &mv.dst);
        let mut pre = mv.pre.clone();
        pre.push(Requirement::new(
            format!("{} still reachable", self.label(&src.id)),
            Condition::NodeReachable {
                node: src.id.clone(),
            },
        ));
        let at_risk = self.orphan_risk(s, dst);
        let mut notes = vec![if at_risk.may_lose_keys() {
            format!(
                "the keys of slot {s} on {} could not be counted: any key it holds there \
                 is orphaned when its marker is cleared",
                self.label(&dst.id)
            )
        } else {
            format!(
                "{} keys stay on {}; {} holds none of them, so no key is orphaned.",
                src.keys,
                self.label(&src.id),
                self.label(&dst.id)
            )
        }];
        if move_intended {
            notes.push(format!(
                "both markers say slot {s} was meant to move to {}: closing abandons that \
                 move (completing it is the default)",
                self.label(&dst.id)
            ));
        }
        FixPlan {
            id: format!("stabilise-slot-{s}"),
            kind: PlanKind::StabiliseSlot,
            title: format!(
                "Close slot {s}: no key was moved to {} yet, {} stays the owner",
                self.label(&dst.id),
                self.label(&src.id)
            ),
            why: mv.why.clone(),
            finding: Some(FindingKind::OpenSlot),
            group: Some(mv.group.clone()),
            recommended: !move_intended,
            slots: mv.slots.clone(),
            nodes: mv.nodes.clone(),
            steps: self.clear_markers(s, [src, dst]),
            advice: Vec::new(),
            risk: Risk {
                keys_at_risk: at_risk,
                notes,
                ..Risk::default()
            },
            preconditions: pre,
            expected: self.closed_and_served_by(mv, src),
            confirmation: Confirmation::Simple,
        }
    }

    /// Close the slot where the target already owns it with every key.
    fn close_at_target(&self, mv: &OpenMove) -> FixPlan {
        let (s, src, dst) = (mv.s, &mv.src, &mv.dst);
        FixPlan {
            id: format!("stabilise-slot-{s}"),
            kind: PlanKind::StabiliseSlot,
            title: format!(
                "Close slot {s}: it already belongs to {} with all its keys",
                self.label(&dst.id)
            ),
            why: mv.why.clone(),
            finding: Some(FindingKind::OpenSlot),
            group: Some(mv.group.clone()),
            recommended: true,
            slots: mv.slots.clone(),
            nodes: mv.nodes.clone(),
            steps: self.clear_markers(s, [dst, src]),
            advice: Vec::new(),
            risk: Risk {
                keys_at_risk: self.orphan_risk(s, src),
                ..Risk::default()
            },
            preconditions: mv.pre.clone(),
            expected: self.closed_and_served_by(mv, dst),
            confirmation: Confirmation::Simple,
        }
    }

    /// The finding's words when there is none: the markers and the key counts.
    fn describe_open(&self, o: &OpenSlot) -> String {
        let mut parts = Vec::new();
        for kind in [MarkerKind::Migrating, MarkerKind::Importing] {
            for (n, peer) in markers_of(o, kind) {
                parts.push(format!(
                    "{} on {} {} {}",
                    kind.verb(),
                    self.label(n),
                    kind.preposition(),
                    self.label(peer)
                ));
            }
        }
        for n in &o.on_replicas {
            parts.push(format!("marker on replica {}", self.label(n)));
        }
        let keys: Vec<String> = o
            .keys
            .iter()
            .map(|(n, c)| format!("{c} on {}", self.label(n)))
            .collect();
        format!(
            "slot {} is open ({}); keys: {}",
            o.slot,
            parts.join(", "),
            if keys.is_empty() {
                "none".to_owned()
            } else {
                keys.join(", ")
            }
        )
    }

    /// Advice for an open slot with several markers, an unreachable side or keys on a third
    /// master.
    fn complex_open_advice(&mut self, o: &OpenSlot, why: String) {
        let s = o.slot;
        let mut nodes: Vec<NodeId> = o
            .migrating
            .iter()
            .chain(o.importing.iter())
            .flat_map(|(a, b)| [a.clone(), b.clone()])
            .collect();
        nodes.sort();
        nodes.dedup();
        self.plans.push(FixPlan {
            id: format!("open-slot-advice-{s}"),
            kind: PlanKind::StabiliseSlot,
            title: format!("Slot {s} is open in a way slotscope will not repair automatically"),
            why: why.clone(),
            finding: Some(FindingKind::OpenSlot),
            group: Some(format!("open-slot-{s}")),
            recommended: true,
            slots: vec![SlotRange::single(s)],
            nodes,
            steps: Vec::new(),
            advice: vec![
                why,
                "Several nodes are marked, a side is unreachable, or keys sit on a third \
                 master: bring every involved node back, then re-run slotscope; it offers \
                 complete / roll back once exactly one source and one target remain."
                    .to_owned(),
            ],
            risk: Risk::default(),
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: Confirmation::Simple,
        });
    }

    /// Advice for markers found only on replicas, which refuse `CLUSTER SETSLOT`.
    fn replica_marker_advice(&mut self, o: &OpenSlot, why: String) {
        let s = o.slot;
        let names: Vec<String> = o.on_replicas.iter().map(|n| self.label(n)).collect();
        self.plans.push(FixPlan {
            id: format!("replica-marker-{s}"),
            kind: PlanKind::StabiliseSlot,
            title: format!(
                "Slot {s} is marked open only on replica(s) {}",
                names.join(", ")
            ),
            why,
            finding: Some(FindingKind::OpenSlot),
            group: None,
            recommended: true,
            slots: vec![SlotRange::single(s)],
            nodes: o.on_replicas.clone(),
            steps: Vec::new(),
            advice: vec![
                "Replicas refuse CLUSTER SETSLOT and on Redis 7.0 keep markers loaded from \
                 nodes.conf. No client is affected, but reshard tools refuse to run."
                    .to_owned(),
                "To clear it: stop the replica, remove the [slot->-id] / [slot-<-id] marker \
                 from its nodes.conf (or delete nodes.conf and re-add it with CLUSTER MEET + \
                 CLUSTER REPLICATE), and start it again."
                    .to_owned(),
            ],
            risk: Risk::default(),
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: Confirmation::Simple,
        });
    }
}
