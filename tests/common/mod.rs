//! The test kit shared by the integration tests (each includes it with `mod common;`): a tmux
//! driver for the real binary in a real terminal, fake loopback servers that are not Redis,
//! and small helpers. Servers, ports and clusters come from `slotscope::lab`.

// Each test crate uses only part of the kit; the rest would warn as dead code in that crate.
#![allow(dead_code)]

pub mod cli_check;
pub mod cluster;
pub mod fake_server;
pub mod formats;
pub mod sim;
pub mod tmux;

use slotscope::lab::LabError;

/// The `slotscope` binary built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_slotscope");

/// The value of a lab call, or a panic that prints the lab's error (its `Display` carries the
/// server's log tail, which `unwrap` would hide behind `Debug`).
pub fn must<T>(r: Result<T, LabError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("lab error: {e}"),
    }
}
