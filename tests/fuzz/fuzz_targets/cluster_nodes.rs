//! `CLUSTER NODES` text: never a panic; a parsed table holds only valid slots.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::parse::{parse_cluster_nodes, parse_node_line};
use slotscope::cluster::slots::SLOT_COUNT;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(nodes) = parse_cluster_nodes(&text) {
        for l in nodes.lines() {
            for r in &l.slots {
                assert!(r.start <= r.end && usize::from(r.end) < SLOT_COUNT);
            }
            for m in &l.markers {
                assert!(usize::from(m.slot) < SLOT_COUNT);
            }
        }
    }
    for line in text.lines().take(4) {
        let _ = parse_node_line(line);
    }
});
