//! Slot-range helpers of the diagnosis: building ranges in ascending order, merging them, and
//! the short phrases that name them (`slot 42`, `5461 slots (0-5460)`).

use crate::cluster::types::{Slot, SlotRange, format_ranges, ranges_len};

/// Slot ranges spelled out in a one-line summary before the rest is elided.
const SUMMARY_RANGES: usize = 4;

/// Append a range that starts after every range in `ranges`, merging it with the last one
/// when they touch.
pub(super) fn push_range(ranges: &mut Vec<SlotRange>, range: SlotRange) {
    match ranges.last_mut() {
        Some(r) if u32::from(r.end) + 1 == u32::from(range.start) => r.end = range.end,
        _ => ranges.push(range),
    }
}

/// Append a slot to ranges built in ascending order (a slot already in the last range is
/// ignored).
pub(super) fn push_slot(ranges: &mut Vec<SlotRange>, slot: Slot) {
    match ranges.last_mut() {
        Some(r) if u32::from(r.end) + 1 == u32::from(slot) => r.end = slot,
        Some(r) if r.contains(slot) => {}
        _ => ranges.push(SlotRange::single(slot)),
    }
}

/// Sort and merge overlapping or adjacent ranges.
pub(super) fn merge_ranges(mut ranges: Vec<SlotRange>) -> Vec<SlotRange> {
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

/// `0-5460,5462` or, for many ranges, the first few and `… +N more ranges`.
pub(super) fn brief_ranges(ranges: &[SlotRange]) -> String {
    if ranges.len() <= SUMMARY_RANGES {
        format_ranges(ranges)
    } else {
        let shown = SUMMARY_RANGES - 1;
        format!(
            "{},… +{} more ranges",
            format_ranges(ranges.get(..shown).unwrap_or(ranges)),
            ranges.len() - shown
        )
    }
}

/// `slot 42` or `5461 slots (0-5460)`.
pub(super) fn slots_phrase(ranges: &[SlotRange]) -> String {
    match ranges_len(ranges) {
        0 => "no slots".to_owned(),
        1 => format!("slot {}", brief_ranges(ranges)),
        n => format!("{n} slots ({})", brief_ranges(ranges)),
    }
}
