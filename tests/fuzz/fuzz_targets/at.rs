//! `--at` (refresh index, `last`, a time): parse and resolve against recorded starts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::record::At;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    let (spec, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(at) = spec.parse::<At>() else { return };
    let mut starts: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    starts.sort_unstable();
    if let Ok(i) = at.resolve(&starts) {
        assert!(
            i < starts.len(),
            "{spec:?} resolved to {i} of {}",
            starts.len()
        );
    }
});
