//! End to end: break a real local cluster with the lab, run the built `slotscope check --json`
//! on it, and assert the finding kinds and the exit code (0 healthy, 1 warnings only,
//! 2 critical, 3 could not observe).

mod common;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use slotscope::lab::{Lab, LabOptions, Scenario, ScenarioReport};

use common::{BIN, must};

/// Longest a `check` may take, even with a hung node.
const CHECK_DEADLINE: Duration = Duration::from_secs(20);

/// The outcome of one `slotscope check --json` run.
#[derive(Debug)]
struct Check {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Check {
    fn kinds(&self) -> Vec<String> {
        self.json["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["kind"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn has(&self, kind: &str) -> bool {
        self.kinds().iter().any(|k| k == kind)
    }

    fn findings_of(&self, kind: &str) -> Vec<&Value> {
        self.json["findings"]
            .as_array()
            .map(|a| a.iter().filter(|f| f["kind"] == kind).collect())
            .unwrap_or_default()
    }

    fn severities(&self) -> Vec<String> {
        self.json["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["severity"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Everything needed to understand a failed assertion.
    fn why(&self) -> String {
        format!(
            "exit {} after {:?}; kinds {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.took,
            self.kinds(),
            self.stdout,
            self.stderr
        )
    }
}

/// Run `slotscope check --json SEEDS…` with a hard deadline.
fn check(seeds: &[String], env: &[(&str, &str)]) -> Check {
    let mut cmd = Command::new(BIN);
    cmd.arg("check").arg("--json").args(seeds);
    cmd.env_remove("REDISCLI_AUTH").env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run slotscope: {e}"),
    };
    // Drain the pipes on threads so a large report cannot block the child.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > CHECK_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "slotscope check did not finish within {CHECK_DEADLINE:?} (seeds {seeds:?})"
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for slotscope: {e}"),
        }
    };
    let took = start.elapsed();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    Check {
        code: status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stdout,
        stderr,
        took,
    }
}

fn base() -> LabOptions {
    LabOptions {
        node_timeout_ms: 1000,
        keys: 200,
        ..LabOptions::default()
    }
}

/// Start the scenario's lab, inject it, and check it through one seed (a running node the
/// scenario did not break), or through every node's endpoint if `all_seeds`.
fn scenario(s: Scenario, all_seeds: bool) -> (Lab, ScenarioReport, Check) {
    let (lab, report) = must(s.start(base()));
    let seeds: Vec<String> = if all_seeds {
        lab.endpoints().iter().map(ToString::to_string).collect()
    } else {
        let seed = lab
            .running()
            .into_iter()
            .find(|i| !report.affected.contains(i))
            .unwrap_or(0);
        vec![lab.endpoint(seed).to_string()]
    };
    let c = check(&seeds, &[]);
    assert!(c.json.is_object(), "no JSON document: {}", c.why());
    (lab, report, c)
}

fn assert_has(c: &Check, kinds: &[&str]) {
    for k in kinds {
        assert!(c.has(k), "expected finding {k}: {}", c.why());
    }
}

#[test]
fn healthy_cluster_exits_zero() {
    let (_lab, _r, c) = scenario(Scenario::Healthy, false);
    assert_eq!(c.code, 0, "{}", c.why());
    assert!(
        c.severities().iter().all(|s| s == "info"),
        "only info findings on a healthy cluster: {}",
        c.why()
    );
    assert_eq!(c.json["summary"]["nodes"], 6, "{}", c.why());
}

#[test]
fn dead_master_without_replica_is_critical() {
    let (lab, r, c) = scenario(Scenario::DeadMasterNoReplica, false);
    assert_eq!(c.code, 2, "{}", c.why());
    assert_has(&c, &["master_down", "cluster_down"]);
    let victim = lab.endpoint(r.affected[0]).to_string();
    assert!(
        c.findings_of("master_down")
            .iter()
            .any(|f| f.to_string().contains(&victim)),
        "master_down should name {victim}: {}",
        c.why()
    );
}

#[test]
fn dead_master_after_failover_is_a_warning() {
    let (_lab, _r, c) = scenario(Scenario::DeadMasterFailover, false);
    assert_eq!(c.code, 1, "{}", c.why());
    assert!(
        !c.has("cluster_down") && !c.has("master_down"),
        "{}",
        c.why()
    );
    assert!(
        c.has("lingering_failed_node") || c.has("node_down"),
        "the failed old master must be reported: {}",
        c.why()
    );
}

#[test]
fn majority_lost_is_critical() {
    let (_lab, _r, c) = scenario(Scenario::MajorityLost, false);
    assert_eq!(c.code, 2, "{}", c.why());
    assert_has(&c, &["majority_lost"]);
}

#[test]
fn interrupted_reshard_reports_the_open_slot() {
    let (_lab, r, c) = scenario(Scenario::InterruptedReshard, false);
    assert!(c.code >= 1 && c.code <= 2, "{}", c.why());
    assert_has(&c, &["open_slot"]);
    let slot = u64::from(r.slots[0].start);
    let names_slot = c.findings_of("open_slot").iter().any(|f| {
        f["slots"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s["start"] == slot))
    });
    assert!(names_slot, "open_slot should name slot {slot}: {}", c.why());
}

#[test]
fn migrating_only_reports_the_open_slot() {
    let (_lab, _r, c) = scenario(Scenario::MigratingOnly, false);
    assert!(c.code >= 1, "{}", c.why());
    assert_has(&c, &["open_slot"]);
}

#[test]
fn importing_only_reports_the_open_slot() {
    let (_lab, _r, c) = scenario(Scenario::ImportingOnly, false);
    assert!(c.code >= 1, "{}", c.why());
    assert_has(&c, &["open_slot"]);
}

#[test]
fn deleted_slots_are_uncovered() {
    let (_lab, r, c) = scenario(Scenario::DeletedSlots, false);
    assert_eq!(c.code, 2, "{}", c.why());
    assert_has(&c, &["uncovered_slots", "cluster_down"]);
    let range = r.slots[0];
    let names_range = c.findings_of("uncovered_slots").iter().any(|f| {
        f["slots"].as_array().is_some_and(|a| {
            a.iter()
                .any(|s| s["start"] == u64::from(range.start) && s["end"] == u64::from(range.end))
        })
    });
    assert!(
        names_range,
        "uncovered_slots should name {range}: {}",
        c.why()
    );
}

#[test]
fn full_coverage_off_is_reported() {
    let (_lab, _r, c) = scenario(Scenario::FullCoverageOff, false);
    assert_eq!(c.code, 2, "{}", c.why());
    assert_has(&c, &["full_coverage_off"]);
    assert!(
        !c.has("cluster_down"),
        "state is ok everywhere: {}",
        c.why()
    );
}

#[test]
fn forgotten_master_must_rejoin() {
    // Seen through every node: the forgotten master still claims its slots, no peer lists it.
    let (lab, r, c) = scenario(Scenario::NodeMustRejoin, true);
    assert_eq!(c.code, 2, "{}", c.why());
    assert_has(&c, &["node_not_joined", "cluster_down"]);
    let victim = lab.endpoint(r.affected[0]);
    let hint = format!("CLUSTER MEET {} {}", victim.host, victim.port);
    assert!(
        c.findings_of("node_not_joined")
            .iter()
            .any(|f| f["summary"].as_str().is_some_and(|s| s.contains(&hint))),
        "the finding should say `{hint}`: {}",
        c.why()
    );
}

#[test]
fn forgotten_master_seen_from_one_seed_leaves_slots_uncovered() {
    let (_lab, _r, c) = scenario(Scenario::NodeMustRejoin, false);
    assert_eq!(c.code, 2, "{}", c.why());
    assert_has(&c, &["uncovered_slots"]);
}

#[test]
fn stopped_node_is_unreachable_and_check_does_not_hang() {
    let (lab, r, c) = scenario(Scenario::StoppedNode, false);
    assert!(c.took < Duration::from_secs(10), "{}", c.why());
    assert!(c.code >= 1, "{}", c.why());
    let victim = lab.endpoint(r.affected[0]).to_string();
    let node = c.json["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|n| n["address"] == victim.as_str()));
    assert!(
        node.is_some_and(|n| n["reachable"] == false),
        "{victim} should be listed unreachable: {}",
        c.why()
    );
    assert!(
        c.has("node_unreachable") || c.has("node_down") || c.has("lingering_failed_node"),
        "{}",
        c.why()
    );
}

#[test]
fn plain_redis_is_not_a_cluster() {
    // The server answered, so this is a critical finding (2), not "could not observe" (3).
    let lab = must(Lab::start_standalone(None));
    let c = check(&[lab.endpoint(0).to_string()], &[]);
    assert_eq!(c.code, 2, "{}", c.why());
    assert_has(&c, &["not_cluster"]);
    assert!(
        c.findings_of("not_cluster")
            .iter()
            .all(|f| f["severity"] == "critical"),
        "{}",
        c.why()
    );
}

#[test]
fn wrong_password_cannot_observe() {
    let opts = LabOptions {
        password: Some("right-pw".into()),
        replicas_per_master: 0,
        keys: 10,
        ..base()
    };
    let lab = must(Lab::start(opts));
    let seed = lab.endpoint(0).to_string();

    let wrong = check(
        std::slice::from_ref(&seed),
        &[("REDISCLI_AUTH", "wrong-pw")],
    );
    assert_eq!(wrong.code, 3, "{}", wrong.why());
    assert!(
        wrong.stdout.contains("auth") || wrong.stderr.contains("auth"),
        "the reason should mention authentication: {}",
        wrong.why()
    );

    let none = check(std::slice::from_ref(&seed), &[]);
    assert_eq!(none.code, 3, "{}", none.why());

    let right = check(&[seed], &[("REDISCLI_AUTH", "right-pw")]);
    assert_eq!(
        right.code,
        1,
        "masters without replicas is a warning: {}",
        right.why()
    );
    assert_has(&right, &["no_replica"]);
}

/// A replica whose replication link is broken (its `masterauth` no longer accepted) looks fine
/// in `CLUSTER NODES`; only its own `INFO replication` tells. The check names it and its master.
#[test]
fn replica_with_a_broken_replication_link_is_a_warning() {
    let (lab, r, c) = scenario(Scenario::ReplicaNotSyncing, true);
    let (replica, master) = (r.affected[0], r.affected[1]);
    let seeds: Vec<String> = lab.endpoints().iter().map(ToString::to_string).collect();
    assert_eq!(c.code, 1, "a warning, not an outage: {}", c.why());
    let found = c.findings_of("replica_not_syncing");
    assert_eq!(found.len(), 1, "{}", c.why());
    let text = found[0].to_string();
    for who in [lab.endpoint(replica), lab.endpoint(master)] {
        assert!(text.contains(&who.to_string()), "names {who}: {}", c.why());
    }
    assert!(text.contains("master_link_status:down"), "{}", c.why());

    // `slotscope fix` offers advice with the exact commands, and nothing to run.
    let out = Command::new(BIN)
        .arg("fix")
        .arg("--json")
        .args(&seeds)
        .output()
        .expect("slotscope fix runs");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fix --json printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let plans = doc["plans"].as_array().cloned().unwrap_or_default();
    let advice = plans
        .iter()
        .find(|p| p["kind"] == "replica_link_advice")
        .unwrap_or_else(|| panic!("no replica_link_advice plan: {doc:#}"));
    assert!(
        advice["steps"].as_array().is_some_and(Vec::is_empty),
        "{advice:#}"
    );
    assert!(
        advice.to_string().contains("CONFIG SET masterauth"),
        "{advice:#}"
    );
}
