//! Stray keys: keys the census ([`crate::cluster::census`]) found on a master that neither
//! owns nor imports their slot. Every client is redirected to the owner, so these keys cannot
//! be read; they are left behind by an interrupted migration whose markers were cleared (a
//! `CLUSTER FORGET` of the other side clears them), by a manual `SETSLOT … NODE`, or by an
//! `ADDSLOTS` on the wrong node. Slots bound to no master are left to the uncovered-slots
//! finding, which counts their keys too.

use std::collections::BTreeMap;

use super::ctx::{Ctx, Nodes};
use super::ranges::brief_ranges;
use super::words::{label, plural_u64};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::NodeSummary;
use crate::cluster::slots::{Slot, SlotRange, push_slot};
use crate::cluster::types::NodeId;

/// The stray keys of one node that belong to one owner.
struct ToOwner {
    slots: Vec<SlotRange>,
    keys: u64,
    /// Keys of those slots the owner holds itself, when counted in every one of them.
    owner_keys: Option<u64>,
}

impl ToOwner {
    fn new() -> Self {
        Self {
            slots: Vec::new(),
            keys: 0,
            owner_keys: Some(0),
        }
    }
}

impl Ctx<'_> {
    /// One finding per master holding keys in slots owned by another master.
    pub(super) fn stray_key_findings(&self, out: &mut Vec<Finding>) {
        for n in &self.model.nodes {
            if let Some(f) = self.stray_finding(n) {
                out.push(f);
            }
        }
    }

    fn stray_finding(&self, n: &NodeSummary) -> Option<Finding> {
        let census = n.census.as_ref()?;
        let holder = n.id.as_ref()?;
        if census.stray.is_empty() {
            return None;
        }
        let by_owner = self.group_by_owner(holder, &census.stray);
        if by_owner.is_empty() {
            return None;
        }
        let keys: u64 = by_owner.values().map(|g| g.keys).sum();
        let mut slots: Vec<SlotRange> = Vec::new();
        for g in by_owner.values() {
            for r in &g.slots {
                for s in r.iter() {
                    push_slot(&mut slots, s);
                }
            }
        }
        slots.sort();
        // Copies: the owner holds at least as many keys of those slots (e.g. a move that
        // completed but left the source's keys). Otherwise some keys exist only here.
        let only_here = by_owner
            .values()
            .any(|g| g.owner_keys.is_none_or(|o| o < g.keys));
        let owners: Vec<String> = by_owner.keys().map(|id| self.id_label(id)).collect();
        let mut f = Finding::new(
            FindingKind::StrayKeys,
            if only_here {
                Severity::Critical
            } else {
                Severity::Warning
            },
            format!(
                "{} stores {keys} {} in {} {} it does not own (owner {}): clients are sent \
                 to the owner and cannot read {}",
                label(n),
                plural_u64(keys, "key", "keys"),
                plural_u64(u64::try_from(slots.len()).unwrap_or(0), "range", "ranges"),
                brief_ranges(&slots),
                owners.join(", "),
                if keys == 1 { "it" } else { "them" }
            ),
        );
        f.slots = slots;
        let mut b = Nodes::default();
        b.add(Some(n));
        for id in by_owner.keys() {
            b.add_id(self, id);
        }
        b.finish(&mut f);
        self.stray_evidence(&mut f, census, &by_owner, only_here);
        Some(f)
    }

    fn group_by_owner(
        &self,
        holder: &NodeId,
        stray: &BTreeMap<Slot, u64>,
    ) -> BTreeMap<NodeId, ToOwner> {
        let mut out: BTreeMap<NodeId, ToOwner> = BTreeMap::new();
        for (&slot, &keys) in stray {
            let owner = self
                .model
                .slots
                .get(usize::from(slot))
                .and_then(|e| e.owner)
                .and_then(|i| self.model.nodes.get(i as usize));
            let Some(owner) = owner else { continue };
            let Some(owner_id) = owner.id.as_ref() else {
                continue;
            };
            if owner_id == holder {
                continue;
            }
            let g = out.entry(owner_id.clone()).or_insert_with(ToOwner::new);
            push_slot(&mut g.slots, slot);
            g.keys += keys;
            let theirs = owner.census.as_ref().and_then(|c| c.keys_in(slot));
            g.owner_keys = g.owner_keys.zip(theirs).map(|(a, b)| a + b);
        }
        out
    }

    fn stray_evidence(
        &self,
        f: &mut Finding,
        census: &crate::cluster::census::NodeCensus,
        by_owner: &BTreeMap<NodeId, ToOwner>,
        only_here: bool,
    ) {
        for (owner, g) in by_owner {
            let theirs = match g.owner_keys {
                Some(o) => format!("the owner holds {o} key(s) in those slots"),
                None => "the owner's keys in those slots were not counted".to_owned(),
            };
            f.evidence.push(format!(
                "{} key(s) in slot(s) {} belong to {}; {theirs}",
                g.keys,
                brief_ranges(&g.slots),
                self.id_label(owner)
            ));
        }
        f.evidence.push(format!(
            "counted with CLUSTER COUNTKEYSINSLOT: {} key(s) in all, {} in the slots it serves",
            census.db_keys, census.owned_keys
        ));
        if !census.is_complete() {
            f.evidence.push(
                "the sweep of the other slots is not complete yet: more may be found".to_owned(),
            );
        }
        if only_here {
            f.evidence.push(
                "some of these keys exist only on this node: a node that learns a newer owner \
                 for a slot it serves deletes its keys there, and a restart of this node would \
                 mark the slot importing; return them to the owner before anything else"
                    .to_owned(),
            );
        }
    }
}
