//! The TOML config file (contexts): never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::commands::contexts::parse_config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_config(&text);
});
