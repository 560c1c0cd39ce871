//! Overrides on ranges of slots: what the replay has changed, stored as a step function so
//! that a step touching thousands of slots writes one entry, not thousands.

use std::collections::BTreeMap;

use crate::cluster::slots::{Slot, SlotRange};

/// A value per slot where one was set, `None` elsewhere. Each key starts a run that lasts up
/// to the next key; a run of `None` is "no override". Boundaries are `u32` so that the end of
/// slot 65535 has a key too.
#[derive(Clone, Debug)]
pub(super) struct Overlay<V> {
    runs: BTreeMap<u32, Option<V>>,
}

impl<V> Default for Overlay<V> {
    fn default() -> Self {
        Self {
            runs: BTreeMap::new(),
        }
    }
}

impl<V: Clone> Overlay<V> {
    /// The override of `slot`, if one was set.
    pub(super) fn get(&self, slot: Slot) -> Option<&V> {
        self.runs
            .range(..=u32::from(slot))
            .next_back()
            .and_then(|(_, v)| v.as_ref())
    }

    /// Override every slot of `r` with `v`.
    pub(super) fn set(&mut self, r: SlotRange, v: V) {
        let (a, b) = (u32::from(r.start), u32::from(r.end) + 1);
        if a >= b {
            return;
        }
        let after = self
            .runs
            .range(..=b)
            .next_back()
            .and_then(|(_, v)| v.clone());
        let inside: Vec<u32> = self.runs.range(a..=b).map(|(k, _)| *k).collect();
        for k in inside {
            self.runs.remove(&k);
        }
        self.runs.insert(a, Some(v));
        self.runs.insert(b, after);
    }

    /// Slots of `r` (other than its first) where the override may change.
    pub(super) fn cuts(&self, r: SlotRange) -> impl Iterator<Item = u32> + '_ {
        use std::ops::Bound::{Excluded, Included};
        let (a, b) = (u32::from(r.start), u32::from(r.end).max(u32::from(r.start)));
        self.runs.range((Excluded(a), Included(b))).map(|(k, _)| *k)
    }

    /// Every overridden range with its value.
    pub(super) fn ranges(&self) -> impl Iterator<Item = (SlotRange, &V)> + '_ {
        let mut it = self.runs.iter().peekable();
        std::iter::from_fn(move || {
            loop {
                let (start, v) = it.next()?;
                let end = it.peek().map_or(u32::from(Slot::MAX), |(k, _)| **k - 1);
                if let (Some(v), Ok(start), Ok(end)) =
                    (v, Slot::try_from(*start), Slot::try_from(end))
                {
                    return Some((SlotRange::new(start, end), v));
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_ranges_behave_like_a_map_per_slot() {
        let mut o: Overlay<u8> = Overlay::default();
        o.set(SlotRange::new(10, 20), 1);
        o.set(SlotRange::new(15, 16), 2);
        o.set(SlotRange::single(Slot::MAX), 3);
        assert_eq!(o.get(9), None);
        assert_eq!(o.get(10), Some(&1));
        assert_eq!(o.get(15), Some(&2));
        assert_eq!(o.get(17), Some(&1));
        assert_eq!(o.get(21), None);
        assert_eq!(o.get(Slot::MAX), Some(&3));
        let r: Vec<(SlotRange, u8)> = o.ranges().map(|(r, v)| (r, *v)).collect();
        assert_eq!(
            r,
            vec![
                (SlotRange::new(10, 14), 1),
                (SlotRange::new(15, 16), 2),
                (SlotRange::new(17, 20), 1),
                (SlotRange::single(Slot::MAX), 3),
            ]
        );
        let cuts: Vec<u32> = o.cuts(SlotRange::new(0, 100)).collect();
        assert_eq!(cuts, vec![10, 15, 17, 21]);
        o.set(SlotRange::new(0, 100), 4);
        assert_eq!(o.ranges().count(), 2);
    }
}
