//! Nothing a node sends can stall or bloat slotscope: a bulk reply that claims 4 GB and never
//! ends, a `CLUSTER NODES` of 200,000 entries, and a node that knows only a few commands. The
//! nodes are simulated on 127.0.0.1 (`tests/common/sim.rs`). Bounds are hang margins of
//! seconds; timings belong in `cargo bench`.

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::BIN;
use common::sim::{Mode, Sim};
use common::tmux::Tmux;

/// Run `slotscope` under `/usr/bin/time -f %M` (peak RSS in KiB, printed last on stderr).
fn run_measured(args: &[&str]) -> (Output, Duration, Option<u64>) {
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "peak-rss-kib:%M", BIN])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run slotscope");
    let rss = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("peak-rss-kib:"))
        .next_back()
        .and_then(|v| v.trim().parse().ok());
    (out, t.elapsed(), rss)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn endless_bulk_reply_is_cut_at_the_limit_and_reported() {
    let sim = Sim::start(1, Mode::EndlessBulk);
    let seed = sim.seed();
    let (out, took, rss) = run_measured(&["check", "--timeout", "5000", &seed]);
    let all = text(&out);
    assert!(!all.contains("panicked"), "{all}");
    assert!(
        all.contains("sending an oversized reply (>8388608 bytes)"),
        "{all}"
    );
    assert_ne!(out.status.code(), Some(0), "{all}");
    // Cut at the limit, long before the 5 s timeout (a hang margin, not a timing).
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let rss = rss.expect("peak RSS printed");
    assert!(rss < 100 * 1024, "peak RSS {rss} KiB");

    // A smaller limit is honoured and named.
    let (out, _, _) = run_measured(&["check", "--max-reply-bytes", "100000", &seed]);
    assert!(
        text(&out).contains("oversized reply (>100000 bytes)"),
        "{}",
        text(&out)
    );
}

#[test]
fn two_hundred_thousand_entries_check_finishes() {
    let sim = Sim::start(6, Mode::HugeNodes(200_000));
    let seed = sim.seed();
    // 200,000 entries are about 14 MB: over the default limit, so the nodes are reported...
    let (out, took, _) = run_measured(&["check", "--timeout", "3000", &seed]);
    let all = text(&out);
    assert!(!all.contains("panicked"), "{all}");
    assert!(all.contains("oversized reply"), "{all}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Read, modelled and diagnosed in time linear in the entries: tests/scale.rs; timed by
    // `cargo bench --bench core -- huge`.
}

#[test]
fn a_node_that_knows_few_commands_is_shown() {
    let sim = Sim::start(6, Mode::Healthy);
    let (out, _, _) = run_measured(&["check", &sim.seed()]);
    let all = text(&out);
    assert!(!all.contains("panicked"), "{all}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("healthy"), "{all}");
    assert_eq!(all.matches(" ok [").count(), 6, "{all}");
}

#[test]
fn dashboard_quits_on_q_while_a_node_streams_forever() {
    let sim = Sim::start(1, Mode::EndlessBulk);
    let cmd = format!("{BIN} --timeout 5000 --interval 1 {}", sim.seed());
    let t = Tmux::start("hostile-endless-q", 100, 30, &cmd);
    std::thread::sleep(Duration::from_millis(1500));
    t.keys("q");
    assert!(
        t.wait_exit(Duration::from_secs(3)),
        "still running after q:\n{}",
        t.capture()
    );
}

/// A large cluster is probed a budget of replies at a time (`refresh::gate`): every node is
/// still observed, and the replies waiting to be folded never pile up. Probing all 600 nodes
/// at once held about 600 lines × 600 bytes per node, over 200 MB; now at most 34 nodes are
/// asked at once, and a connection that carried a view over 64 KiB is not kept.
#[test]
fn a_large_cluster_is_probed_within_the_reply_budget() {
    let sim = Sim::start(600, Mode::Healthy);
    // A debug build decodes 600 replies of 600 lines slowly on a busy machine: a long reply
    // timeout keeps this test about memory, not speed.
    let (out, took, rss) = run_measured(&["check", "--timeout", "20000", &sim.seed()]);
    let all = text(&out);
    assert!(!all.contains("panicked"), "{all}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("600 node(s) (600 reachable)"), "{all}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    // 34 probes in flight, plus connections whose close the simulation has not yet seen.
    let open = sim.max_open_connections();
    assert!(open <= 100, "{open} connections open at once");
    let rss = rss.expect("peak RSS printed");
    assert!(rss < 100 * 1024, "peak RSS {rss} KiB");
}
