//! Taking the password out of the command line (NUL-separated arguments): never a panic.
#![no_main]

use std::ffi::OsString;

use libfuzzer_sys::fuzz_target;
use slotscope::commands::argv::scrub;
use slotscope::commands::typos::{misspelt_subcommand, misspelt_subcommand_message};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let args: Vec<OsString> = text.split('\0').map(OsString::from).collect();
    if let Some(s) = scrub(&args) {
        assert!(
            s.args.len() <= args.len(),
            "scrubbing added arguments: {args:?}"
        );
    }
    for word in text.split('\0') {
        if let Some(meant) = misspelt_subcommand(word) {
            let _ = misspelt_subcommand_message(word, meant);
        }
    }
});
