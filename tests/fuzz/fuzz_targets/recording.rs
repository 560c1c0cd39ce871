//! The recording reader (gzip or plain JSON lines): an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = slotscope::record::read(data);
});
