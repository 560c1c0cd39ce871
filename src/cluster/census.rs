//! The key census: how many keys each reachable master stores, and where.
//!
//! Repairs are only as safe as the key counts they are judged by. For every answering master,
//! the refresher counts the keys of every slot the master serves or imports
//! (`CLUSTER COUNTKEYSINSLOT`, pipelined) and its `DBSIZE`. When the two agree, the master
//! stores no key outside its slots. When they do not, the slots it does not serve are swept
//! too, so that keys stored on a node that does not own their slot (stranded by an
//! interrupted migration, a FORGET that cleared an importing marker, a manual `ADDSLOTS` on
//! the wrong node) are found, per slot. A full sweep is done in one go by `check` and spread
//! over several refreshes by the dashboard ([`SWEEP_BUDGET`] slots per master per refresh).
//!
//! This module holds the data and the pure rules; `refresh/census.rs` does the counting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::slots::{SLOT_COUNT, Slot, SlotRange};

/// Slots of the sweep counted per master per dashboard refresh.
pub const SWEEP_BUDGET: usize = 4096;

/// One master's key census.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCensus {
    /// `DBSIZE` when counted.
    pub db_keys: u64,
    /// Keys in the slots the node serves or imports (its own view), summed.
    pub owned_keys: u64,
    /// Keys per slot the node serves or imports (non-zero counts only).
    pub slots: BTreeMap<Slot, u64>,
    /// Keys in slots the node neither serves nor imports, per slot (non-zero counts only),
    /// as far as the sweep got.
    pub stray: BTreeMap<Slot, u64>,
    /// The sweep of the other slots: `None` when none is needed (`owned_keys` is the whole
    /// of `db_keys`), else the next slot to count.
    pub sweep_next: Option<u32>,
    /// Every slot has been swept at least once since the counts stopped agreeing.
    pub sweep_complete: bool,
    /// Unix ms of the count.
    pub at_ms: u64,
}

impl NodeCensus {
    /// True when `stray` is known for every slot (no sweep needed, or a full one done).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.sweep_next.is_none() || self.sweep_complete
    }

    /// Keys stored outside the node's slots, as far as counted.
    #[must_use]
    pub fn stray_total(&self) -> u64 {
        self.stray.values().sum()
    }

    /// Keys the node stores in `slot`, served or stray: `None` when the slot is stray-unknown
    /// (outside its slots and not swept yet).
    #[must_use]
    pub fn keys_in(&self, slot: Slot) -> Option<u64> {
        if let Some(n) = self.slots.get(&slot).or_else(|| self.stray.get(&slot)) {
            return Some(*n);
        }
        if self.db_keys == 0 || self.is_complete() {
            return Some(0);
        }
        // Not counted: a served slot with 0 keys is absent from `slots` too, so only a
        // stray slot the sweep has not reached is unknown.
        None
    }
}

/// The slots a master is expected to hold keys in: those it claims plus those it imports.
#[must_use]
pub fn expected_slots(claimed: &[SlotRange], importing: &[Slot]) -> Vec<bool> {
    let mut out = vec![false; SLOT_COUNT];
    for r in claimed {
        for s in r.iter() {
            if let Some(b) = out.get_mut(usize::from(s)) {
                *b = true;
            }
        }
    }
    for s in importing {
        if let Some(b) = out.get_mut(usize::from(*s)) {
            *b = true;
        }
    }
    out
}

/// The next `budget` slots of the sweep from `next` (wrapping at the end) that are not
/// `expected`; returns them and where the sweep goes on (`SLOT_COUNT` when it reached the end).
#[must_use]
pub fn sweep_chunk(expected: &[bool], next: u32, budget: usize) -> (Vec<Slot>, u32) {
    let mut out = Vec::new();
    let mut s = next.min(u32::try_from(SLOT_COUNT).unwrap_or(u32::MAX));
    while (s as usize) < SLOT_COUNT && out.len() < budget {
        if !expected.get(s as usize).copied().unwrap_or(false)
            && let Ok(slot) = Slot::try_from(s)
        {
            out.push(slot);
        }
        s += 1;
    }
    (out, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_skips_expected_slots_and_stops_at_the_budget() {
        let expected = expected_slots(&[SlotRange::new(0, 9)], &[12]);
        let (chunk, next) = sweep_chunk(&expected, 0, 3);
        assert_eq!(chunk, vec![10, 11, 13]);
        assert_eq!(next, 14);
        let (chunk, next) = sweep_chunk(&expected, 16380, 100);
        assert_eq!(chunk, vec![16380, 16381, 16382, 16383]);
        assert_eq!(next, u32::try_from(SLOT_COUNT).unwrap());
        let (all, _) = sweep_chunk(&expected, 0, usize::MAX);
        assert_eq!(all.len(), SLOT_COUNT - 11);
    }

    #[test]
    fn completeness() {
        let mut c = NodeCensus::default();
        assert!(c.is_complete());
        c.sweep_next = Some(100);
        assert!(!c.is_complete());
        c.sweep_complete = true;
        assert!(c.is_complete());
        c.stray.insert(5, 3);
        c.stray.insert(9, 4);
        assert_eq!(c.stray_total(), 7);
    }
}
