//! A node's raw replies (as a recording holds them) interpreted into a report: never a panic.
//! Input: CLUSTER NODES, CLUSTER INFO, INFO, CONFIG GET lines (`name value`) and a
//! `redis-cli` GETSLOTMIGRATIONS capture, separated by `----` lines; missing parts are empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::slot_migrations::entries_from_capture;
use slotscope::refresh::capture::{RawReplies, interpret};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split("\n----\n");
    let mut next = || parts.next().unwrap_or("").to_owned();
    let (nodes, cluster_info, info, config, migrations) = (next(), next(), next(), next(), next());
    let config = config
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap_or((l, ""));
            (k.to_owned(), Ok((!v.is_empty()).then(|| v.to_owned())))
        })
        .collect();
    let mut raw = RawReplies::new(&Ok(nodes), &Ok(cluster_info), &Ok(info), config);
    if !migrations.is_empty() {
        raw.slot_migrations = Some(entries_from_capture(&migrations));
    }
    let _ = interpret(&raw);
});
