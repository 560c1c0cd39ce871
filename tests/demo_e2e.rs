//! End to end through the real binary: `slotscope demo --scenario S --no-dashboard` starts a
//! real cluster and breaks it; `slotscope check --json` on it reports the expected finding; a
//! signal stops the demo, and every process it started is gone and its directory removed.

mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rstest::rstest;
use serde_json::Value;

use common::BIN;

/// A running `slotscope demo --no-dashboard`, killed on drop if a test fails half way.
struct Demo {
    child: Child,
    endpoints: Vec<String>,
    pids: Vec<i32>,
    dir: PathBuf,
    stderr: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Demo {
    fn start(scenario: &str) -> Demo {
        let mut child = Command::new(BIN)
            .args([
                "demo",
                "--no-dashboard",
                "--keys",
                "200",
                "--scenario",
                scenario,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn demo");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut demo = Demo {
            child,
            endpoints: vec![],
            pids: vec![],
            dir: PathBuf::new(),
            stderr: rx,
            log: vec![],
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = demo
                .stderr
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("demo {scenario} did not get ready: {:?}", demo.log));
            demo.log.push(line.clone());
            if let Some(rest) = line.strip_prefix("nodes: ") {
                demo.endpoints = rest.split_whitespace().map(str::to_owned).collect();
            } else if let Some(rest) = line.strip_prefix("pids: ") {
                demo.pids = rest
                    .split_whitespace()
                    .map(|p| p.parse().expect("pid"))
                    .collect();
            } else if let Some(rest) = line.strip_prefix("demo cluster: ") {
                let dir = rest.split(" nodes in ").nth(1).expect("dir");
                demo.dir = PathBuf::from(dir);
            } else if line.contains("press Ctrl-C") {
                break;
            }
        }
        assert!(!demo.endpoints.is_empty(), "{:?}", demo.log);
        assert_eq!(demo.endpoints.len(), demo.pids.len(), "{:?}", demo.log);
        assert!(demo.dir.is_dir(), "lab dir exists while running");
        demo
    }

    fn check(&self) -> (i32, Value) {
        let mut args = vec![
            "check",
            "--json",
            "--timeout",
            "500",
            "--connect-timeout",
            "500",
        ];
        args.extend(self.endpoints.iter().map(String::as_str));
        let out = Command::new(BIN).args(&args).output().expect("run check");
        let code = out.status.code().expect("exit code");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "check --json printed no JSON ({e}); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, json)
    }

    /// Send `sig`, wait for the demo to exit, assert nothing is left behind; returns what the
    /// demo printed on stdout.
    fn stop_with(mut self, sig: Signal) -> String {
        kill(
            Pid::from_raw(i32::try_from(self.child.id()).expect("pid")),
            sig,
        )
        .expect("signal");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(
                    status.code().is_some(),
                    "demo exited by itself, not killed: {status:?}"
                );
                break;
            }
            assert!(Instant::now() < deadline, "demo did not exit after {sig:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        for pid in &self.pids {
            let gone = kill(Pid::from_raw(*pid), None).is_err();
            assert!(gone, "redis-server pid {pid} still running after {sig:?}");
        }
        assert!(!self.dir.exists(), "{} still exists", self.dir.display());
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut stdout).expect("read stdout");
        }
        stdout
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = kill(
                Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0)),
                Signal::SIGTERM,
            );
            let _ = self.child.wait();
        }
    }
}

fn kinds(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[rstest]
#[case::healthy("healthy", &[], 0, Signal::SIGINT)]
#[case::dead_master_no_replica("dead-master-no-replica", &["master_down", "cluster_down"], 2, Signal::SIGTERM)]
#[case::dead_master_failover("dead-master-failover", &["no_replica"], 1, Signal::SIGHUP)]
#[case::interrupted_reshard("interrupted-reshard", &["open_slot"], -1, Signal::SIGINT)]
#[case::migrating_only("migrating-only", &["open_slot"], -1, Signal::SIGTERM)]
#[case::importing_only("importing-only", &["open_slot"], -1, Signal::SIGHUP)]
#[case::deleted_slots("deleted-slots", &["uncovered_slots"], 2, Signal::SIGINT)]
#[case::full_coverage_off("full-coverage-off", &["full_coverage_off"], 2, Signal::SIGTERM)]
#[case::node_must_rejoin("node-must-rejoin", &["node_not_joined"], 2, Signal::SIGHUP)]
#[case::stopped_node("stopped-node", &["node_unreachable"], 1, Signal::SIGINT)]
#[case::majority_lost("majority-lost", &["majority_lost"], 2, Signal::SIGTERM)]
#[case::replica_not_syncing("replica-not-syncing", &["replica_not_syncing"], 1, Signal::SIGINT)]
fn scenario_shows_finding_and_cleans_up(
    #[case] scenario: &str,
    #[case] expected: &[&str],
    #[case] exit: i32,
    #[case] sig: Signal,
) {
    let demo = Demo::start(scenario);
    let (code, json) = demo.check();
    let found = kinds(&json);
    for kind in expected {
        assert!(
            found.iter().any(|k| k == kind),
            "{scenario}: expected finding {kind}, got {found:?}\n{json:#}"
        );
    }
    if exit >= 0 {
        assert_eq!(code, exit, "{scenario}: exit code\n{json:#}");
    } else {
        assert!(
            code >= 1,
            "{scenario}: an open slot is at least a warning\n{json:#}"
        );
    }
    assert_eq!(json["exit_code"].as_i64(), Some(i64::from(code)));
    let stdout = demo.stop_with(sig);
    assert!(
        stdout.contains("keys written before the fault: "),
        "{scenario}: {stdout}"
    );
}

/// After the drill, the demo says how many keys survived, and tells "refused because the
/// cluster is down" apart from "gone": a third of the keys died with the master, the rest
/// are still stored on the live masters.
#[test]
fn survival_report_splits_refused_from_lost_keys() {
    let demo = Demo::start("dead-master-no-replica");
    let stdout = demo.stop_with(Signal::SIGINT);
    assert!(
        stdout.contains("readable now with the right value: 0"),
        "{stdout}"
    );
    // Live masters refuse with CLUSTERDOWN; the dead master's keys cannot even be asked for.
    assert!(stdout.contains(" refused with CLUSTERDOWN"), "{stdout}");
    assert!(stdout.contains(" owner unreachable"), "{stdout}");
    let stored: usize = stdout
        .split("still stored on a running node: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no stored count: {stdout}"));
    assert!(
        (100..190).contains(&stored),
        "two of three masters live: {stored}\n{stdout}"
    );
    assert!(
        stdout.contains(&format!("{} on no running node", 200 - stored)),
        "{stdout}"
    );
}

#[test]
fn list_prints_every_scenario_name_first() {
    let out = Command::new(BIN)
        .args(["demo", "--list"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for want in [
        "healthy",
        "dead-master-no-replica",
        "dead-master-failover",
        "interrupted-reshard",
        "deleted-slots",
        "node-must-rejoin",
        "stopped-node",
        "majority-lost",
        "full-coverage-off",
    ] {
        assert!(names.contains(&want), "{want} missing from {text}");
    }
}

#[test]
fn missing_redis_server_is_a_clear_error() {
    let out = Command::new(BIN)
        .args(["demo", "--no-dashboard", "--scenario", "healthy"])
        .env("REDIS_SERVER", "/nonexistent/redis-server")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("redis-server"), "{err}");
    assert!(err.contains("apt-get install redis-server"), "{err}");
}

#[test]
fn unknown_scenario_exits_non_zero_with_the_list() {
    let out = Command::new(BIN)
        .args(["demo", "--scenario", "nope"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown scenario 'nope'") && err.contains("healthy"),
        "{err}"
    );
}

#[test]
fn keep_leaves_the_cluster_running_and_says_how_to_stop_it() {
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--no-dashboard",
            "--keep",
            "--keys",
            "50",
            "--scenario",
            "healthy",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn demo");
    let stderr = child.stderr.take().expect("stderr");
    let mut pids: Vec<i32> = vec![];
    let mut dir = PathBuf::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix("pids: ") {
            pids = rest
                .split_whitespace()
                .map(|p| p.parse().expect("pid"))
                .collect();
        } else if let Some(rest) = line.strip_prefix("demo cluster: ") {
            dir = PathBuf::from(rest.split(" nodes in ").nth(1).expect("dir"));
        } else if line.contains("press Ctrl-C") {
            break;
        }
    }
    assert!(!pids.is_empty());
    kill(
        Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        Signal::SIGINT,
    )
    .expect("signal");
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // Everything is still there, and the output says how to reach and stop it.
    let alive = pids
        .iter()
        .filter(|p| kill(Pid::from_raw(**p), None).is_ok())
        .count();
    let stop_line = stdout
        .lines()
        .find(|l| l.contains("stop it:"))
        .map(str::to_owned);
    let reach = stdout.contains("reach it:  slotscope 127.0.0.1:");
    // Clean up before asserting, by the PIDs the demo printed.
    for p in &pids {
        let _ = kill(Pid::from_raw(*p), Signal::SIGKILL);
    }
    std::thread::sleep(Duration::from_millis(200));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        alive,
        pids.len(),
        "--keep must leave every node running: {stdout}"
    );
    assert!(reach, "{stdout}");
    let stop_line = stop_line.unwrap_or_default();
    for p in &pids {
        assert!(stop_line.contains(&p.to_string()), "{stop_line}");
    }
    assert!(
        stop_line.contains(&dir.display().to_string()),
        "{stop_line}"
    );
}
