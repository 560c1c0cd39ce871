//! End-to-end timing: `slotscope check` against `redis-cli --cluster check` on the same local
//! cluster of 60 nodes (30 masters, 30 replicas), alternating runs; then with one node stopped
//! (SIGSTOP), where `slotscope check` must finish within its timeout plus half a second.
//!
//! Run: `cargo bench --bench e2e_check` (needs redis-server and redis-cli on PATH).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use slotscope::lab::{Lab, LabOptions};

const RUNS: usize = 11;

fn time(cmd: &mut Command) -> (Duration, Option<i32>) {
    let t = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .and_then(|s| s.code());
    (t.elapsed(), status)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if Command::new("redis-cli").arg("--version").output().is_err() {
        eprintln!("e2e_check: redis-cli not found; install redis-tools");
        return;
    }
    let masters = std::env::var("E2E_MASTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let opts = LabOptions {
        masters,
        replicas_per_master: 1,
        keys: 2000,
        node_timeout_ms: 5000,
        ..LabOptions::default()
    };
    eprintln!("starting a {}-node cluster...", masters * 2);
    let mut lab = Lab::start(opts).expect("lab starts");
    let seed = lab.endpoint(0).to_string();
    let bin = env!("CARGO_BIN_EXE_slotscope");

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut ratios = Vec::new();
    for _ in 0..RUNS {
        let (a, code_a) = time(Command::new(bin).args(["check", &seed]));
        let (b, code_b) =
            time(
                Command::new("redis-cli")
                    .env("TERM", "dumb")
                    .args(["--cluster", "check", &seed]),
            );
        assert_eq!(
            code_a,
            Some(0),
            "slotscope check on a healthy cluster exits 0"
        );
        assert_eq!(
            code_b,
            Some(0),
            "redis-cli check on a healthy cluster exits 0"
        );
        ours.push(a.as_secs_f64() * 1000.0);
        theirs.push(b.as_secs_f64() * 1000.0);
        ratios.push(a.as_secs_f64() / b.as_secs_f64());
    }
    println!(
        "healthy {} nodes, {RUNS} alternating runs: slotscope check median {:.1} ms, redis-cli --cluster check median {:.1} ms, median ratio slotscope/redis-cli {:.2}",
        lab.nodes().len(),
        median(&mut ours),
        median(&mut theirs),
        median(&mut ratios)
    );

    // One node paused: accepts TCP, never answers.
    let victim = lab.master_indices()[1];
    lab.stop(victim).expect("SIGSTOP");
    let timeout_ms = 1000;
    let (a, code_a) = time(Command::new(bin).args([
        "check",
        "--timeout",
        &timeout_ms.to_string(),
        "--connect-timeout",
        &timeout_ms.to_string(),
        &seed,
    ]));
    println!(
        "one node stopped (SIGSTOP): slotscope check finished in {:.0} ms (exit {:?}); limit {} ms",
        a.as_secs_f64() * 1000.0,
        code_a,
        timeout_ms + 500
    );
    assert!(
        a < Duration::from_millis(timeout_ms + 500),
        "check must not hang"
    );
    let (b, _) = time(
        Command::new("timeout")
            .args(["15", "redis-cli", "--cluster", "check", &seed])
            .env("TERM", "dumb"),
    );
    println!(
        "one node stopped (SIGSTOP): redis-cli --cluster check still running after {:.1} s (killed by timeout 15)",
        b.as_secs_f64()
    );
    lab.cont(victim).expect("SIGCONT");
}
