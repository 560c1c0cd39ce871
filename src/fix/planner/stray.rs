//! Stray keys: keys stored on a master that does not own their slot go back to the owner.
//!
//! A non-owner answers `MOVED` for those keys, so `MIGRATE` cannot be run there as is. An
//! importing marker on the holder makes it run `MIGRATE` locally (a node serves `MIGRATE`
//! itself for an open slot), so per slot: `SETSLOT s IMPORTING <owner>` on the holder, move
//! the keys batch by batch (a key present on both sides is compared with `DUMP`, never
//! overwritten), then `SETSLOT s STABLE` on the holder. Nothing changes owner; the keys become
//! readable as they arrive on the owner.

use std::collections::BTreeMap;

use crate::cluster::FindingKind;
use crate::cluster::slots::{Slot, SlotRange};
use crate::cluster::types::{Endpoint, NodeId};
use crate::fix::marker::setslot_args;
use crate::fix::{
    Condition, Confirmation, DEFAULT_MIGRATE_BATCH, DEFAULT_MIGRATE_TIMEOUT_MS, FixPlan, FixStep,
    KeysAtRisk, PlanKind, Requirement as Check, Risk, StepAction,
};

use super::{Planner, cmd_step, endpoint_of, is_live};

/// The stray keys of one holder that go to one owner.
struct Owner {
    id: NodeId,
    ep: Endpoint,
    slots: Vec<(Slot, u64)>,
}

impl Planner<'_> {
    /// One plan per holder of stray keys whose owners are live.
    pub(super) fn stray_keys(&mut self) {
        let holders: Vec<NodeId> = self
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::StrayKeys)
            .filter_map(|f| f.nodes.first().cloned())
            .collect();
        for holder in holders {
            if let Some(plan) = self.return_stray_plan(&holder) {
                self.plans.push(plan);
            }
        }
    }

    fn stray_owners(&self, holder: &NodeId) -> Vec<Owner> {
        let Some(census) = self.model.node(holder).and_then(|n| n.census.as_ref()) else {
            return Vec::new();
        };
        let mut by_owner: BTreeMap<NodeId, Owner> = BTreeMap::new();
        for (&slot, &keys) in &census.stray {
            let Some(owner) = self
                .model
                .slots
                .get(usize::from(slot))
                .and_then(|e| e.owner)
                .and_then(|i| self.model.nodes.get(i as usize))
            else {
                continue;
            };
            let (Some(id), Some(ep)) = (owner.id.as_ref(), endpoint_of(owner)) else {
                continue;
            };
            if id == holder || !is_live(owner) {
                continue;
            }
            by_owner
                .entry(id.clone())
                .or_insert_with(|| Owner {
                    id: id.clone(),
                    ep,
                    slots: Vec::new(),
                })
                .slots
                .push((slot, keys));
        }
        by_owner.into_values().collect()
    }

    fn return_stray_plan(&self, holder: &NodeId) -> Option<FixPlan> {
        let node = self.model.node(holder)?;
        if !is_live(node) {
            return None;
        }
        let ep = endpoint_of(node)?;
        let owners = self.stray_owners(holder);
        if owners.is_empty() {
            return None;
        }
        let mut steps = Vec::new();
        let mut pre = vec![Check::new(
            format!("{} answers and is a master", self.label(holder)),
            Condition::NodeIsMaster {
                node: holder.clone(),
            },
        )];
        let mut all: Vec<SlotRange> = Vec::new();
        let mut keys = 0_u64;
        for o in &owners {
            let ranges = crate::cluster::slots::slots_to_ranges(o.slots.iter().map(|(s, _)| *s));
            pre.push(Check::new(
                format!(
                    "{} still owns slot(s) {}",
                    self.label(&o.id),
                    crate::cluster::slots::format_ranges(&ranges)
                ),
                Condition::SlotsOwnedBy {
                    slots: ranges.clone(),
                    node: o.id.clone(),
                },
            ));
            for &(slot, n) in &o.slots {
                keys += n;
                all.push(SlotRange::single(slot));
                pre.push(Check::new(
                    format!("{} has no marker for slot {slot}", self.label(holder)),
                    Condition::SlotNotMarkedOn {
                        slot,
                        node: holder.clone(),
                    },
                ));
                steps.extend(self.return_slot_steps(slot, n, holder, &ep, o));
            }
        }
        let slots = crate::cluster::slots::slots_to_ranges(all.iter().map(|r| r.start));
        let shown = crate::cluster::slots::format_ranges(&slots);
        let mut nodes = vec![holder.clone()];
        nodes.extend(owners.iter().map(|o| o.id.clone()));
        let why = self
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::StrayKeys && f.nodes.first() == Some(holder))
            .map_or_else(String::new, |f| f.summary.clone());
        Some(FixPlan {
            id: format!("return-stray-keys-{}", holder.short()),
            kind: PlanKind::ReturnStrayKeys,
            title: format!(
                "Return {keys} stray key(s) in slot(s) {shown} from {} to their owner",
                self.label(holder)
            ),
            why,
            finding: Some(FindingKind::StrayKeys),
            group: Some(format!("stray-{}", holder.short())),
            recommended: true,
            slots: slots.clone(),
            nodes,
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: keys,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: 0,
                loses_data: false,
                notes: vec![
                    format!(
                        "{keys} key(s) move to the owner of their slot, {DEFAULT_MIGRATE_BATCH} \
                         per MIGRATE; no slot changes owner"
                    ),
                    "a key present on both sides is never overwritten: both copies are \
                     compared with DUMP and the run stops if they differ"
                        .to_owned(),
                ],
            },
            preconditions: pre,
            expected: vec![Check::new(
                format!("{} stores no key in slot(s) {shown}", self.label(holder)),
                Condition::NoKeysStoredOn {
                    slots,
                    node: holder.clone(),
                },
            )],
            confirmation: Confirmation::Simple,
        })
    }

    /// Open the slot on the holder, move its keys to the owner, close it again.
    fn return_slot_steps(
        &self,
        slot: Slot,
        keys: u64,
        holder: &NodeId,
        ep: &Endpoint,
        owner: &Owner,
    ) -> [FixStep; 3] {
        [
            cmd_step(
                ep.clone(),
                Some(holder.clone()),
                setslot_args(slot, &["IMPORTING", owner.id.as_str()]),
                format!(
                    "open slot {slot} on {} so it may send the keys (MIGRATE runs locally for an \
                     open slot)",
                    self.label(holder)
                ),
            ),
            FixStep {
                endpoint: ep.clone(),
                node_id: Some(holder.clone()),
                action: StepAction::MigrateSlotKeys {
                    slot,
                    from: holder.clone(),
                    to: owner.id.clone(),
                    to_endpoint: owner.ep.clone(),
                    batch: DEFAULT_MIGRATE_BATCH,
                    timeout_ms: DEFAULT_MIGRATE_TIMEOUT_MS,
                },
                description: format!(
                    "move the {keys} key(s) of slot {slot} to its owner {}",
                    self.label(&owner.id)
                ),
            },
            cmd_step(
                ep.clone(),
                Some(holder.clone()),
                setslot_args(slot, &["STABLE"]),
                format!("close slot {slot} on {} again", self.label(holder)),
            ),
        ]
    }
}
