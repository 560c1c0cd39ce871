//! The short phrases the diagnosis uses to name slot ranges (`slot 42`, `5461 slots (0-5460)`);
//! building and merging ranges is in [`crate::cluster::slots`].

use crate::cluster::slots::{SlotRange, format_ranges, ranges_len};

/// Slot ranges spelled out in a one-line summary before the rest is elided.
const SUMMARY_RANGES: usize = 4;

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
