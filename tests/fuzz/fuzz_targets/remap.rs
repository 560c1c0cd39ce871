//! `--remap` rules, one per line: never a panic; a table parses only when every rule does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::refresh::conn::remap::{RemapTable, parse_remap};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let rules: Vec<&str> = text.lines().collect();
    let each_ok = rules.iter().all(|r| parse_remap(r).is_ok());
    if RemapTable::parse(&rules).is_ok() {
        assert!(
            each_ok,
            "a table accepted a rule that alone is refused: {rules:?}"
        );
    }
});
