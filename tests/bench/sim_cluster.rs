//! A simulated cluster for measurements with the real binary: `SIM_NODES` nodes (default
//! 1000) served by this one process on 127.0.0.1 (`tests/common/sim.rs`), for `SIM_SECONDS`
//! (default 600). Prints `seed: 127.0.0.1:PORT` and keeps serving.
//!
//! ```sh
//! cargo bench --bench sim_cluster &           # prints the seed
//! target/release/slotscope --interval 1 127.0.0.1:PORT   # in tmux; read VmHWM in /proc
//! ```

#[path = "../common/sim.rs"]
mod sim;

use std::io::Write as _;
use std::time::Duration;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let nodes = usize::try_from(env_or("SIM_NODES", 1000)).unwrap_or(1000);
    let s = sim::Sim::start(nodes, sim::Mode::Healthy);
    println!("seed: {} ({nodes} nodes)", s.seed());
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_secs(env_or("SIM_SECONDS", 600)));
}
