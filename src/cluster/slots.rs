//! Hash slots and slot ranges: the slot number type, [`SlotRange`], and the helpers that
//! build, merge, search, count and print lists of ranges.
//!
//! Every list of ranges these helpers build is sorted and has no two ranges that overlap or
//! touch, unless a helper says otherwise.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Number of hash slots in a Redis Cluster.
pub const SLOT_COUNT: usize = 16384;

/// A hash slot number, `0..SLOT_COUNT`.
pub type Slot = u16;

/// An inclusive range of slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotRange {
    pub start: Slot,
    pub end: Slot,
}

impl SlotRange {
    #[must_use]
    pub fn new(start: Slot, end: Slot) -> Self {
        Self { start, end }
    }

    #[must_use]
    pub fn single(slot: Slot) -> Self {
        Self {
            start: slot,
            end: slot,
        }
    }

    /// Number of slots in the range.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.end) - usize::from(self.start) + 1
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    #[must_use]
    pub fn contains(&self, slot: Slot) -> bool {
        self.start <= slot && slot <= self.end
    }

    /// Whether the two ranges share at least one slot.
    #[must_use]
    pub fn overlaps(&self, other: &SlotRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    pub fn iter(&self) -> impl Iterator<Item = Slot> + use<> {
        self.start..=self.end
    }
}

impl fmt::Display for SlotRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// Compress a sorted list of slots into ranges.
#[must_use]
pub fn slots_to_ranges(slots: impl IntoIterator<Item = Slot>) -> Vec<SlotRange> {
    let mut out: Vec<SlotRange> = Vec::new();
    for s in slots {
        push_slot(&mut out, s);
    }
    out
}

/// Every slot of the ranges, in the ranges' order (the inverse of [`slots_to_ranges`]).
pub fn ranges_to_slots(ranges: &[SlotRange]) -> impl Iterator<Item = Slot> + '_ {
    ranges.iter().flat_map(SlotRange::iter)
}

/// Append a slot to ranges built in ascending order (a slot already in the last range is
/// ignored).
pub fn push_slot(ranges: &mut Vec<SlotRange>, slot: Slot) {
    match ranges.last_mut() {
        Some(r) if u32::from(r.end) + 1 == u32::from(slot) => r.end = slot,
        Some(r) if r.contains(slot) => {}
        _ => ranges.push(SlotRange::single(slot)),
    }
}

/// Append a range that starts after every range in `ranges`, merging it with the last one
/// when they touch.
pub fn push_range(ranges: &mut Vec<SlotRange>, range: SlotRange) {
    match ranges.last_mut() {
        Some(r) if u32::from(r.end) + 1 == u32::from(range.start) => r.end = range.end,
        _ => ranges.push(range),
    }
}

/// Sort and merge overlapping or adjacent ranges.
#[must_use]
pub fn merge_ranges(mut ranges: Vec<SlotRange>) -> Vec<SlotRange> {
    ranges.sort();
    let mut out: Vec<SlotRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if u32::from(r.start) <= u32::from(last.end) + 1 => {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r),
        }
    }
    out
}

/// Whether `slot` is inside one of the sorted `ranges` (binary search).
#[must_use]
pub fn ranges_contain(ranges: &[SlotRange], slot: Slot) -> bool {
    let i = ranges.partition_point(|r| r.end < slot);
    ranges.get(i).is_some_and(|r| r.start <= slot)
}

/// Format ranges as `0-5460,5462` (no spaces), or `none`.
#[must_use]
pub fn format_ranges(ranges: &[SlotRange]) -> String {
    if ranges.is_empty() {
        return "none".to_owned();
    }
    ranges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Total number of slots in a list of ranges.
#[must_use]
pub fn ranges_len(ranges: &[SlotRange]) -> usize {
    ranges.iter().map(SlotRange::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_compress() {
        let r = slots_to_ranges([0, 1, 2, 5, 7, 8]);
        assert_eq!(format_ranges(&r), "0-2,5,7-8");
        assert_eq!(ranges_len(&r), 6);
        assert_eq!(format_ranges(&[]), "none");
    }
}
