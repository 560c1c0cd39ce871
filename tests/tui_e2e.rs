//! End to end: the real binary in a real terminal (tmux) against a real broken local cluster.
//! The verdict line must name the master that was killed; `q` must end the program.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use slotscope::lab::{LabOptions, Scenario};

use common::tmux::Tmux;

#[test]
fn verdict_names_the_killed_master_in_a_real_terminal() {
    let (lab, report) = Scenario::DeadMasterNoReplica
        .start(LabOptions {
            replicas_per_master: 0,
            keys: 200,
            ..LabOptions::default()
        })
        .expect("lab cluster starts and breaks");
    let victim = *report.affected.first().expect("a victim");
    let dead = lab.endpoint(victim).to_string();
    let alive = lab
        .master_indices()
        .into_iter()
        .find(|i| *i != victim)
        .expect("a live master");
    let seed = lab.endpoint(alive).to_string();
    let bin = common::BIN;
    let session = format!("slotscope-e2e-{}", std::process::id());
    let t = Tmux::start(&session, 120, 40, &format!("{bin} {seed} --interval 1"));

    let screen = t.wait_for(
        "the verdict naming the dead master",
        Duration::from_secs(40),
        |s| s.lines().next().is_some_and(|l| l.contains(&dead)),
    );
    let verdict = screen.lines().next().unwrap_or_default();
    assert!(
        verdict.contains("CLUSTER DOWN") || verdict.contains("CRITICAL"),
        "verdict: {verdict}"
    );
    // The node table marks it, the heatmap pane and the footer are drawn.
    assert!(screen.contains("1 Slots"), "{screen}");
    assert!(screen.contains("?:help"), "{screen}");
    let row = screen
        .lines()
        .find(|l| l.contains(&dead) && (l.contains("FAIL") || l.contains("DOWN")))
        .unwrap_or_else(|| panic!("no failing row for {dead}:\n{screen}"));
    assert!(row.contains("master"), "{row}");

    // Keys work: `:slot N` moves the cursor onto the dead master's slots.
    let slot = report.slots.first().map_or(0, |r| r.start + 100);
    t.keys(":");
    t.keys(&format!("slot {slot}"));
    t.keys("Enter");
    t.wait_for(
        "the cursor line on the dead master's slot",
        Duration::from_secs(5),
        |s| s.lines().any(|l| l.contains('▸') && l.contains(&dead)),
    );

    // q quits and the program ends (tmux closes the session with it).
    t.keys("q");
    assert!(
        t.wait_exit(Duration::from_secs(5)),
        "slotscope did not exit on q"
    );
    drop(lab);
}

/// The dashboard flags (`--color`, `--interval`) are accepted by `slotscope demo` too, and
/// reach it: an out-of-range interval is refused by the demo itself (before any node starts),
/// not by the argument parser.
#[test]
fn demo_takes_the_dashboard_flags() {
    let bin = common::BIN;
    let out = Command::new(bin)
        .args(["demo", "--list", "--color", "never", "--interval", "2"])
        .output()
        .expect("slotscope runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("dead-master-no-replica"));
    let out = Command::new(bin)
        .args([
            "demo",
            "--scenario",
            "healthy",
            "--color",
            "never",
            "--interval",
            "0.01",
        ])
        .output()
        .expect("slotscope runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("--interval 0.01 is out of range"), "{err}");
    assert!(!err.contains("unexpected argument"), "{err}");
}

/// Every key is answered, not left waiting for a refresh: `?` toggles the help overlay six
/// times with a 30 s refresh interval. How fast (a lost wake-up once made it 0.4-0.7 s, the
/// clock period) is measured by `cargo bench --bench key_latency`.
#[test]
fn keys_are_answered_at_once_not_at_the_next_tick() {
    let lab = slotscope::lab::Lab::start(LabOptions {
        masters: 3,
        replicas_per_master: 0,
        keys: 10,
        ..LabOptions::default()
    })
    .expect("lab cluster starts");
    let seed = lab.endpoint(0).to_string();
    let bin = common::BIN;
    let session = format!("slotscope-keys-{}", std::process::id());
    // Refreshes every 30 s: only the 1 s clock could wake a loop that missed a key.
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
    for i in 0..6 {
        std::thread::sleep(Duration::from_millis(300));
        let want_help = i % 2 == 0;
        let start = Instant::now();
        t.keys("?");
        loop {
            let shown = t.capture().contains("Everywhere");
            if shown == want_help {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "`?` was never answered:\n{}",
                t.capture()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies.push(start.elapsed());
    }
    // Every key was answered (each within 5 s above); how fast is measured by
    // `cargo bench --bench key_latency`, not asserted here.
    assert_eq!(latencies.len(), 6);
    t.keys("q");
    drop(lab);
}

/// A seed that is down at launch gives a waiting screen that names the error and retries
/// every interval (not an exit); once the node is back, the dashboard comes up by itself, and
/// `q` ends it with exit code 0.
#[test]
fn a_seed_down_at_launch_waits_and_the_dashboard_comes_up_when_it_answers() {
    let mut lab = slotscope::lab::Lab::start(LabOptions {
        masters: 3,
        replicas_per_master: 0,
        keys: 10,
        ..LabOptions::default()
    })
    .expect("lab cluster starts");
    lab.kill(0).expect("node 0 killed");
    let seed = lab.endpoint(0).to_string();
    let bin = common::BIN;
    let dir = tempfile::tempdir().expect("temp dir");
    let code_file = dir.path().join("exit-code");
    let session = format!("slotscope-wait-{}", std::process::id());
    let t = Tmux::start(
        &session,
        120,
        40,
        &format!(
            "sh -c '{bin} {seed} --interval 1; echo $? > {}; sleep 30'",
            code_file.display()
        ),
    );
    let screen = t.wait_for("the waiting screen", Duration::from_secs(20), |s| {
        s.contains("WAITING FOR THE CLUSTER") && s.contains("attempts)")
    });
    assert!(
        screen.contains(&format!("{seed}: connection refused")),
        "{screen}"
    );
    assert!(screen.contains("Retrying every 1s"), "{screen}");
    assert!(screen.contains("q quits"), "{screen}");

    lab.restart(0).expect("node 0 restarts on its port");
    let screen = t.wait_for(
        "the dashboard on the cluster",
        Duration::from_secs(40),
        |s| {
            s.contains("1 Slots")
                && s.contains("2 Nodes")
                && s.contains(&seed)
                && !s.contains("WAITING FOR THE CLUSTER")
        },
    );
    assert!(screen.contains(&seed), "{screen}");

    t.keys("q");
    let start = Instant::now();
    let code = loop {
        if let Ok(c) = std::fs::read_to_string(&code_file) {
            break c;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "slotscope did not exit on q:\n{}",
            t.capture()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code.trim(), "0");
    drop(lab);
}
