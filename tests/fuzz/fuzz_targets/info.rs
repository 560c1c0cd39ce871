//! `INFO` and `CLUSTER INFO` text: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::parse::{parse_cluster_info, parse_info};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let info = parse_info(&text);
    let _ = info.identity();
    let _ = info.server();
    let _ = parse_cluster_info(&text);
});
