//! Valkey 9 `CLUSTER GETSLOTMIGRATIONS` entries (a `redis-cli` capture): never a panic, and
//! every parsed job's slot ranges are valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::slot_migrations::parse_jobs;

#[path = "../slotmig_text.rs"]
mod slotmig_text;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for job in parse_jobs(&slotmig_text::entries(&text)) {
        let _ = job.phase();
    }
});
