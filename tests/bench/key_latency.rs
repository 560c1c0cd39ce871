//! Key latency in a real terminal: the dashboard on a local 3-master cluster in tmux, with a
//! 30 s refresh interval so that only the 1 s clock could wake a loop that missed a key; `?`
//! toggles the help overlay 20 times, 300 ms apart, and the time until the screen shows the
//! change is printed (min, median, max). A lost wake-up shows as a median near half a second.
//!
//! Run: `cargo bench --bench key_latency` (needs redis-server and tmux on PATH).

// The tests' tmux driver; the bench uses only part of it.
#[allow(dead_code)]
#[path = "../common/tmux.rs"]
mod tmux;

use std::time::{Duration, Instant};

use slotscope::lab::{Lab, LabOptions};
use tmux::Tmux;

const PRESSES: usize = 20;

fn main() {
    let Ok(lab) = Lab::start(LabOptions {
        masters: 3,
        replicas_per_master: 0,
        keys: 10,
        ..LabOptions::default()
    }) else {
        eprintln!("key_latency: the lab cluster did not start (redis-server on PATH?)");
        return;
    };
    let bin = env!("CARGO_BIN_EXE_slotscope");
    let seed = lab.endpoint(0).to_string();
    let session = format!("slotscope-key-latency-{}", std::process::id());
    let t = Tmux::start(
        &session,
        100,
        30,
        &format!("{bin} {seed} --interval 30 --color never"),
    );
    t.wait_for("the first picture", Duration::from_secs(30), |s| {
        s.contains("slots served 16384/16384")
    });
    let mut latencies = Vec::new();
    for i in 0..PRESSES {
        std::thread::sleep(Duration::from_millis(300));
        let want_help = i % 2 == 0;
        let start = Instant::now();
        t.keys("?");
        while (t.capture().contains("Everywhere")) != want_help {
            if start.elapsed() > Duration::from_secs(5) {
                eprintln!("key_latency: `?` was not answered within 5 s");
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "key latency over {PRESSES} presses: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(latencies[0]),
        ms(latencies[PRESSES / 2]),
        ms(latencies[PRESSES - 1])
    );
    t.keys("q");
}
