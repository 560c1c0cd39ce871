//! Seeds and URLs (`host:port`, `[v6]:port`, `redis://user:pass@host:port`), one per line:
//! never a panic; an accepted seed has a host.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::synthetic::parse_endpoint;
use slotscope::refresh::{ConnectOptions, parse_seed};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let seeds: Vec<&str> = text.lines().take(8).collect();
    for s in &seeds {
        if let Ok((ep, _user, _pass)) = parse_seed(s) {
            assert!(!ep.host.is_empty(), "seed {s:?} accepted without a host");
        }
        let _ = parse_endpoint(s);
    }
    let _ = ConnectOptions::from_seed_strs(&seeds);
});
