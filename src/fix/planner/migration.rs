//! Completing or rolling back a half-moved slot: mark the side that lacks its marker, move the
//! keys batch by batch, then bind the slot on every master (complete) or clear the markers
//! (roll back). Both directions use the same [`Side`] steps with source and target swapped.

use crate::cluster::FindingKind;
use crate::cluster::slots::Slot;
use crate::cluster::types::{Endpoint, NodeId};
use crate::fix::marker::{MarkerSide, set_marker_args, setslot_args};
use crate::fix::{
    Confirmation, DEFAULT_MIGRATE_BATCH, DEFAULT_MIGRATE_TIMEOUT_MS, FixPlan, FixStep, KeysAtRisk,
    PlanKind, Risk, StepAction,
};

use super::open_slots::{OpenMove, Side};
use super::{Planner, cmd_step, endpoint_of};

/// Never overwrite a key present on both sides.
const BUSY_NOTE: &str = "a key present on both sides is never overwritten: both copies are \
                         compared with DUMP and the run stops if they differ";

impl Planner<'_> {
    /// The key counts on both sides, for the notes of either direction.
    fn split_note(&self, mv: &OpenMove) -> String {
        format!(
            "keys in slot {}: {} on {} (source), {} on {} (target)",
            mv.s,
            mv.src.keys,
            self.label(&mv.src.id),
            mv.dst.keys,
            self.label(&mv.dst.id)
        )
    }

    /// Set the marker `side` lacks, with the other side as its peer.
    fn mark_step(s: Slot, side: &Side, peer: &Side, description: String) -> FixStep {
        cmd_step(
            side.ep.clone(),
            Some(side.id.clone()),
            set_marker_args(side.kind, s, &peer.id),
            description,
        )
    }

    /// `SETSLOT s STABLE` on `side`.
    fn stable_step(s: Slot, side: &Side, description: String) -> FixStep {
        cmd_step(
            side.ep.clone(),
            Some(side.id.clone()),
            setslot_args(s, &["STABLE"]),
            description,
        )
    }

    /// Move every key of slot `s` from `from` to `to`, batch by batch.
    fn move_keys_step(s: Slot, from: &Side, to: &Side, description: String) -> FixStep {
        FixStep {
            endpoint: from.ep.clone(),
            node_id: Some(from.id.clone()),
            action: StepAction::MigrateSlotKeys {
                slot: s,
                from: from.id.clone(),
                to: to.id.clone(),
                to_endpoint: to.ep.clone(),
                batch: DEFAULT_MIGRATE_BATCH,
                timeout_ms: DEFAULT_MIGRATE_TIMEOUT_MS,
            },
            description,
        }
    }

    /// Complete: mark the target importing and the source migrating (where missing), move the
    /// keys, then `SETSLOT NODE` on the target first, then the source, then every other master.
    pub(super) fn complete_plan(&self, mv: &OpenMove) -> FixPlan {
        let (s, src, dst) = (mv.s, &mv.src, &mv.dst);
        let mut steps = Vec::new();
        for (side, peer) in [(dst, src), (src, dst)] {
            if !side.marked {
                steps.push(Self::mark_step(
                    s,
                    side,
                    peer,
                    format!(
                        "mark slot {s} {} on the {} {}",
                        side.kind.verb(),
                        side.kind.role(),
                        self.label(&side.id)
                    ),
                ));
            }
        }
        steps.push(Self::move_keys_step(
            s,
            src,
            dst,
            format!(
                "move the remaining keys of slot {s} (about {}) from {} to {}",
                src.keys,
                self.label(&src.id),
                self.label(&dst.id)
            ),
        ));
        steps.extend(self.bind_everywhere(s, &dst.id, &dst.ep, &src.id, &src.ep));
        let mut notes = vec![self.split_note(mv), BUSY_NOTE.to_owned()];
        if mv.src_slot_count == 1 {
            notes.push(format!(
                "{} owns no other slot: it becomes a replica of {} when it loses this one \
                 (cluster-allow-replica-migration).",
                self.label(&src.id),
                self.label(&dst.id)
            ));
        }
        if dst.keys == 0 {
            notes.push(format!(
                "no key has moved yet: all {} key(s) of slot {s} go to {}",
                src.keys,
                self.label(&dst.id)
            ));
        }
        FixPlan {
            id: format!("complete-migration-{s}"),
            kind: PlanKind::CompleteMigration,
            title: format!(
                "Complete the move of slot {s}: {} keys from {} to {}",
                src.keys,
                self.label(&src.id),
                self.label(&dst.id)
            ),
            why: mv.why.clone(),
            finding: Some(FindingKind::OpenSlot),
            group: Some(mv.group.clone()),
            recommended: intent_forward(mv),
            slots: mv.slots.clone(),
            nodes: mv.nodes.clone(),
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: src.keys,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: 1,
                loses_data: false,
                notes,
            },
            preconditions: mv.pre.clone(),
            expected: self.closed_and_served_by(mv, dst),
            confirmation: Confirmation::Simple,
        }
    }

    /// Roll back: the source must stop redirecting (a migrating source answers ASK even to the
    /// target's RESTORE), so close it first, then let the target (kept open, so it may MIGRATE
    /// a slot it does not own) send its keys back, then close the target.
    pub(super) fn roll_back_plan(&self, mv: &OpenMove) -> FixPlan {
        let (s, src, dst) = (mv.s, &mv.src, &mv.dst);
        let mut steps = Vec::new();
        if !dst.marked {
            steps.push(Self::mark_step(
                s,
                dst,
                src,
                format!(
                    "open slot {s} on {} so it may send its keys back",
                    self.label(&dst.id)
                ),
            ));
        }
        if src.marked {
            steps.push(Self::stable_step(
                s,
                src,
                format!(
                    "clear the {} marker on {} (it serves the slot alone again)",
                    src.kind.verb(),
                    self.label(&src.id)
                ),
            ));
        }
        steps.push(Self::move_keys_step(
            s,
            dst,
            src,
            format!(
                "move the {} key(s) of slot {s} back from {} to {}",
                dst.keys,
                self.label(&dst.id),
                self.label(&src.id)
            ),
        ));
        steps.push(Self::stable_step(
            s,
            dst,
            format!(
                "clear the {} marker on {}",
                dst.kind.verb(),
                self.label(&dst.id)
            ),
        ));
        let dst_keys = dst.keys;
        FixPlan {
            id: format!("rollback-migration-{s}"),
            kind: PlanKind::RollBackMigration,
            title: format!(
                "Roll back the move of slot {s}: {} keys from {} back to {}",
                dst_keys,
                self.label(&dst.id),
                self.label(&src.id)
            ),
            why: mv.why.clone(),
            finding: Some(FindingKind::OpenSlot),
            group: Some(mv.group.clone()),
            recommended: !intent_forward(mv),
            slots: mv.slots.clone(),
            nodes: mv.nodes.clone(),
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: dst_keys,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: 0,
                loses_data: false,
                notes: vec![
                    self.split_note(mv),
                    BUSY_NOTE.to_owned(),
                    format!(
                        "until the move ends (one MIGRATE per {DEFAULT_MIGRATE_BATCH} keys), reads \
                         of the {dst_keys} key(s) still on the target miss on the source; a key \
                         written meanwhile on both sides stops the run (BUSYKEY, compared by DUMP)"
                    ),
                ],
            },
            preconditions: mv.pre.clone(),
            expected: self.closed_and_served_by(mv, src),
            confirmation: Confirmation::Simple,
        }
    }

    /// `SETSLOT s NODE new` on the new owner first, then the old one, then every other live
    /// master (the order of redis/redis#10381).
    fn bind_everywhere(
        &self,
        s: Slot,
        new: &NodeId,
        new_ep: &Endpoint,
        old: &NodeId,
        old_ep: &Endpoint,
    ) -> Vec<FixStep> {
        let setslot = |ep: &Endpoint, id: &NodeId, desc: String, tolerate: Vec<String>| FixStep {
            endpoint: ep.clone(),
            node_id: Some(id.clone()),
            action: StepAction::Command {
                args: vec![
                    "CLUSTER".into(),
                    "SETSLOT".into(),
                    s.to_string(),
                    "NODE".into(),
                    new.0.to_string(),
                ],
                tolerate,
            },
            description: desc,
        };
        let mut steps = vec![
            setslot(
                new_ep,
                new,
                format!(
                    "give slot {s} to {} (target first; bumps its epoch)",
                    self.label(new)
                ),
                Vec::new(),
            ),
            setslot(
                old_ep,
                old,
                format!("tell the source {} that slot {s} moved", self.label(old)),
                vec!["only with masters".to_owned()],
            ),
        ];
        for m in self.live_masters() {
            let Some(id) = m.id.as_ref() else { continue };
            if id == new || id == old {
                continue;
            }
            let Some(ep) = endpoint_of(m) else { continue };
            steps.push(setslot(
                &ep,
                id,
                format!("tell {} that slot {s} moved", self.label(id)),
                Vec::new(),
            ));
        }
        steps
    }
}

/// A marker on either side says the slot was meant to move forward.
fn intent_forward(mv: &OpenMove) -> bool {
    mv.src.marked || mv.dst.marked
}
