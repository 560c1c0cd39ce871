//! End to end for `slotscope fix` as a user runs it: the real binary against broken local
//! clusters (real `redis-server` processes started by the lab).
//!
//! Covers: `--json` plan list, `--dry-run` (prints commands, changes nothing), `--apply --yes`
//! (repairs, exit 0, one audit line per write, no secret anywhere), refusal of a data-losing
//! plan without `--accept-data-loss`, unknown ids, and `--read-only`.
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value as Json;
use slotscope::fix::AuditLog;
use slotscope::lab::{Lab, LabOptions, Scenario, ScenarioReport};

use common::fake_server::{FakeServer, http};

/// A password nobody would print by accident: it must never reach stdout, stderr or the log.
const PASSWORD: &str = "Pw-e2e-7f3a91c";

fn start(s: Scenario, password: bool) -> (Lab, ScenarioReport) {
    let base = LabOptions {
        keys: 200,
        node_timeout_ms: 1500,
        password: password.then(|| PASSWORD.to_owned()),
        ..LabOptions::default()
    };
    s.start(base)
        .unwrap_or_else(|e| panic!("scenario {s} did not start: {e}"))
}

/// Run `slotscope fix <args> <seed>` with the lab's password in `REDISCLI_AUTH` (never argv).
fn fix(lab: &Lab, args: &[&str]) -> Output {
    let seed = lab.endpoint(lab.running()[0]).to_string();
    let mut cmd = Command::new(common::BIN);
    cmd.arg("fix")
        .args(["--timeout", "2000", "--connect-timeout", "1000"])
        .args(args)
        .arg(&seed)
        .env_remove("SLOTSCOPE_AUDIT_LOG")
        .env("NO_COLOR", "1");
    match lab.password() {
        Some(pw) => cmd.env("REDISCLI_AUTH", pw),
        None => cmd.env_remove("REDISCLI_AUTH"),
    };
    cmd.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn assert_no_secret(o: &Output) {
    let (out, err) = text(o);
    assert!(!out.contains(PASSWORD), "password on stdout:\n{out}");
    assert!(!err.contains(PASSWORD), "password on stderr:\n{err}");
}

fn plans_json(lab: &Lab, extra: &[&str]) -> Vec<Json> {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let o = fix(lab, &args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert_no_secret(&o);
    let doc: Json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    doc["plans"]
        .as_array()
        .unwrap_or_else(|| panic!("no plans array: {out}"))
        .clone()
}

/// Every node's `CLUSTER NODES` line for itself plus the key count of every slot involved:
/// a fingerprint that any write the tests care about would change.
fn fingerprint(lab: &Lab, report: &ScenarioReport) -> Vec<String> {
    let mut v = Vec::new();
    for i in lab.running() {
        let nodes = lab.query(i, &["CLUSTER", "NODES"]).unwrap();
        let mine = nodes
            .lines()
            .find(|l| l.contains("myself"))
            .unwrap_or_default()
            .split_whitespace()
            .enumerate()
            .filter(|(k, _)| *k != 4 && *k != 5) // ping_sent / pong_recv change by themselves
            .map(|(_, w)| w)
            .collect::<Vec<_>>()
            .join(" ");
        v.push(mine);
        for r in &report.slots {
            if r.len() <= 10 {
                for s in r.iter() {
                    v.push(format!("{i}:{s}:{}", lab.count_keys_in_slot(i, s).unwrap()));
                }
            }
        }
        let cov = lab
            .cmd(i, &["CONFIG", "GET", "cluster-require-full-coverage"])
            .unwrap();
        v.push(format!("{cov:?}"));
    }
    v
}

fn audit_lines(path: &Path) -> Vec<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => s.lines().map(str::to_owned).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn list_dry_run_apply_with_password_and_audit() {
    let (lab, report) = start(Scenario::InterruptedReshard, true);
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit_arg = audit_path.to_str().unwrap();

    // 1. The list: an object with a `plans` array of objects with id, title, risk, steps.
    let plans = plans_json(&lab, &[]);
    assert!(!plans.is_empty());
    for p in &plans {
        assert!(p["id"].as_str().is_some_and(|s| !s.is_empty()), "{p}");
        assert!(p["title"].as_str().is_some_and(|s| !s.is_empty()), "{p}");
        assert!(p["risk"].is_object(), "{p}");
        assert!(p["risk"]["level"].is_string(), "{p}");
        assert!(p["steps"].is_array(), "{p}");
    }
    let complete = plans
        .iter()
        .find(|p| p["kind"] == "complete_migration")
        .unwrap_or_else(|| panic!("no complete_migration plan: {plans:#?}"));
    let id = complete["id"].as_str().unwrap().to_owned();
    let steps = complete["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["command"].as_str().unwrap().starts_with("MIGRATE"))
    );
    for s in steps {
        let line = s["redis_cli"].as_str().unwrap();
        assert!(line.starts_with("# ") || line.contains("-a ***"), "{line}");
    }

    // 2. Dry run: the commands, as redis-cli lines, and nothing changes.
    let before = fingerprint(&lab, &report);
    let o = fix(&lab, &["--dry-run", &id]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_no_secret(&o);
    assert!(out.contains(&id), "{out}");
    assert!(out.contains("redis-cli -h 127.0.0.1 -p "), "{out}");
    assert!(out.contains("CLUSTER SETSLOT"), "{out}");
    assert!(out.contains("MIGRATE") && out.contains("AUTH ***"), "{out}");
    let o = fix(&lab, &["--json", "--dry-run", &id]);
    let doc: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["id"], id.as_str());
    assert_no_secret(&o);
    assert_eq!(
        fingerprint(&lab, &report),
        before,
        "the dry run changed something"
    );
    assert!(audit_lines(&audit_path).is_empty());

    // 3. An unknown id is a clear error, nothing sent.
    let o = fix(
        &lab,
        &["--apply", "no-such-plan", "--yes", "--audit-log", audit_arg],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("no plan \"no-such-plan\""), "{err}");
    assert!(
        err.contains(&id),
        "the error lists the available ids: {err}"
    );
    assert!(audit_lines(&audit_path).is_empty());
    let o = fix(&lab, &["--dry-run", "no-such-plan"]);
    assert_eq!(o.status.code(), Some(2));

    // 4. Read-only: no fix listed, nothing written even when asked to apply.
    let o = fix(&lab, &["--read-only", "--json"]);
    let doc: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["plans"].as_array().map(Vec::len), Some(0), "{doc}");
    assert_eq!(doc["read_only"], true);
    let o = fix(&lab, &["--read-only"]);
    let (out, _) = text(&o);
    assert!(out.contains("read-only"), "{out}");
    let o = fix(
        &lab,
        &[
            "--read-only",
            "--apply",
            &id,
            "--yes",
            "--audit-log",
            audit_arg,
        ],
    );
    assert_ne!(o.status.code(), Some(0));
    assert_no_secret(&o);
    assert_eq!(
        fingerprint(&lab, &report),
        before,
        "read-only changed something"
    );
    assert!(audit_lines(&audit_path).is_empty());

    // 5. Apply: repaired, exit 0, one audit line per write, no secret anywhere.
    let o = fix(&lab, &["--apply", &id, "--yes", "--audit-log", audit_arg]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert_no_secret(&o);
    assert!(out.contains("verified"), "{out}");
    let lines = audit_lines(&audit_path);
    let raw = std::fs::read_to_string(&audit_path).unwrap();
    assert!(!raw.contains(PASSWORD), "password in the audit log:\n{raw}");
    let records = AuditLog::new(audit_path.clone()).read_all().unwrap();
    // Write-ahead: each write is one line before it is sent and one with its result.
    assert_eq!(
        lines.len(),
        2 * records.len(),
        "two JSON lines per write:\n{raw}"
    );
    // The keys fit in one MIGRATE batch, so every write step is exactly one audited command.
    let writes: Vec<&Json> = steps.iter().filter(|s| s["writes"] == true).collect();
    let commands: Vec<&Json> = writes
        .iter()
        .copied()
        .filter(|s| !s["command"].as_str().unwrap().starts_with("(wait)"))
        .collect();
    assert_eq!(
        records.len(),
        commands.len(),
        "audit:\n{raw}\nsteps: {commands:#?}"
    );
    for r in &records {
        assert_eq!(r.plan, id);
        assert!(r.result.starts_with("ok"), "{r:?}");
        assert!(!r.user.is_empty() && !r.time.is_empty() && !r.node.is_empty());
    }
    let migrate = records
        .iter()
        .find(|r| r.command.starts_with("MIGRATE"))
        .unwrap_or_else(|| panic!("no MIGRATE in the audit log:\n{raw}"));
    assert!(migrate.command.contains("AUTH ***"), "{}", migrate.command);

    // The cluster is whole and every key reads back.
    lab.wait_until("every node ok", Duration::from_secs(30), |lab| {
        for i in lab.running() {
            let s = lab.cluster_state(i)?;
            if s != "ok" {
                return Ok(Err(format!("node {i}: {s}")));
            }
        }
        Ok(Ok(()))
    })
    .unwrap();
    let back = lab.read_back();
    assert!(back.all_readable(), "{:?}", back.missing);
    // Nothing left to repair for that slot.
    let slot = report.slots[0].start.to_string();
    let left = plans_json(&lab, &["--slot", &slot]);
    assert!(left.is_empty(), "{left:#?}");
}

#[test]
fn data_losing_plan_needs_accept_data_loss() {
    let (lab, report) = start(Scenario::DeadMasterNoReplica, true);
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit_arg = audit_path.to_str().unwrap();
    let plans = plans_json(&lab, &[]);
    let reassign = plans
        .iter()
        .find(|p| p["kind"] == "reassign_slots")
        .unwrap_or_else(|| panic!("no reassign plan: {plans:#?}"));
    assert_eq!(reassign["risk"]["loses_data"], true);
    assert_eq!(reassign["risk"]["level"], "high");
    // The dead master's key count is unknown: null, flagged, with an estimate and its reason.
    assert_eq!(reassign["risk"]["keys_at_risk"], Json::Null, "{reassign:#}");
    assert_eq!(reassign["risk"]["keys_at_risk_known"], false);
    assert_eq!(
        reassign["risk"]["keys_at_risk_unknown_reason"],
        "master unreachable"
    );
    assert!(
        reassign["risk"]["keys_at_risk_estimate"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{reassign:#}"
    );
    // The text says so too, never "0 key(s) at risk".
    let listed = fix(&lab, &[]);
    let (out, _) = text(&listed);
    assert!(
        out.contains(
            "CAN LOSE DATA (an unknown number of keys at risk (master unreachable; about "
        ),
        "{out}"
    );
    assert!(!out.contains("(0 key(s) at risk"), "{out}");
    assert!(!out.contains("the an unknown"), "{out}");
    let id = reassign["id"].as_str().unwrap();
    let before = fingerprint(&lab, &report);

    let o = fix(&lab, &["--apply", id, "--yes", "--audit-log", audit_arg]);
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(err.contains("--accept-data-loss"), "{err}");
    assert_no_secret(&o);
    assert!(
        audit_lines(&audit_path).is_empty(),
        "nothing may be written"
    );
    assert_eq!(fingerprint(&lab, &report), before);
    // Still down: nothing was handed out.
    for i in lab.running() {
        assert_eq!(lab.cluster_state(i).unwrap(), "fail");
    }

    // Without --yes, a wrong typed word (stdin) refuses too.
    let seed = lab.endpoint(lab.running()[0]).to_string();
    let mut child = Command::new(common::BIN)
        .args(["fix", "--apply", id, "--audit-log", audit_arg, &seed])
        .env("REDISCLI_AUTH", PASSWORD)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"yes\n").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("Type lose-"), "{err}");
    assert!(audit_lines(&audit_path).is_empty());
    assert_eq!(fingerprint(&lab, &report), before);
}

#[test]
fn no_redis_answering_exits_3_like_check() {
    let server = FakeServer::start(http);
    let seed = server.seed();
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit_arg = audit_path.to_str().unwrap();
    for args in [
        vec!["fix"],
        vec!["fix", "--json"],
        vec!["fix", "--dry-run", "some-plan"],
        vec!["fix", "--apply", "some-plan", "--yes"],
    ] {
        let o = Command::new(common::BIN)
            .args(&args)
            .args(["--timeout", "500", "--audit-log", audit_arg, &seed])
            .env("NO_COLOR", "1")
            .env_remove("REDISCLI_AUTH")
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{args:?}\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(
            err.contains("could not observe the cluster: ") && err.contains(&seed),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.contains("No repair to offer"), "{out}");
        assert!(!out.contains("\"plans\""), "{out}");
    }
    assert!(audit_lines(&audit_path).is_empty());
    drop(server);
}

/// The ids of every node `check --json` lists, as the executor sees the cluster before a fix.
fn cluster_id(lab: &Lab) -> String {
    let seed = lab.endpoint(lab.running()[0]).to_string();
    let o = Command::new(common::BIN)
        .args(["check", "--json", &seed])
        .env("REDISCLI_AUTH", lab.password().unwrap_or_default())
        .output()
        .unwrap();
    let doc: Json = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<slotscope::cluster::types::NodeId> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_str())
        .map(slotscope::cluster::types::NodeId::from)
        .collect();
    slotscope::cluster::digest::cluster_id(&ids)
}

#[test]
fn every_audit_record_names_the_plan_the_confirmation_and_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("audit-{cluster}.jsonl");
    let template = template.to_str().unwrap();

    // A plain yes typed at the prompt, into one file per cluster.
    let (lab, _report) = start(Scenario::InterruptedReshard, false);
    let id_of_cluster = cluster_id(&lab);
    let plans = plans_json(&lab, &[]);
    let plan = plans
        .iter()
        .find(|p| p["recommended"] == true && p["confirmation"]["kind"] == "simple")
        .unwrap_or_else(|| panic!("no plain-yes plan: {plans:#?}"));
    let seed = lab.endpoint(lab.running()[0]).to_string();
    let mut child = Command::new(common::BIN)
        .args(["fix", "--apply", plan["id"].as_str().unwrap()])
        .args(["--audit-log", template, &seed])
        .env_remove("REDISCLI_AUTH")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        !dir.path().join("audit-{cluster}.jsonl").exists(),
        "the placeholder must not become a file name"
    );
    let file = dir.path().join(format!("audit-{id_of_cluster}.jsonl"));
    let records = AuditLog::new(file.clone()).read_all().unwrap();
    assert!(!records.is_empty(), "no records in {}", file.display());
    for r in &records {
        assert_eq!(r.plan, plan["id"].as_str().unwrap());
        assert_eq!(r.plan_title, plan["title"].as_str().unwrap());
        assert_eq!(
            r.confirmation,
            Some(slotscope::fix::audit::ConfirmationGiven::Plain)
        );
        assert_eq!(r.cluster_id.as_deref(), Some(id_of_cluster.as_str()));
    }
    let raw = std::fs::read_to_string(&file).unwrap();
    assert!(raw.contains("\"confirmation\":\"plain\""), "{raw}");

    // --yes --accept-data-loss on another cluster: its own file.
    let (other, _report) = start(Scenario::DeadMasterNoReplica, false);
    let other_id = cluster_id(&other);
    assert_ne!(other_id, id_of_cluster);
    let plans = plans_json(&other, &[]);
    let reassign = plans
        .iter()
        .find(|p| p["kind"] == "reassign_slots")
        .unwrap_or_else(|| panic!("no reassign plan: {plans:#?}"));
    let id = reassign["id"].as_str().unwrap();
    let o = fix(
        &other,
        &[
            "--apply",
            id,
            "--yes",
            "--accept-data-loss",
            "--audit-log",
            template,
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let records = AuditLog::new(dir.path().join(format!("audit-{other_id}.jsonl")))
        .read_all()
        .unwrap();
    assert!(!records.is_empty());
    for r in &records {
        assert_eq!(
            r.confirmation,
            Some(slotscope::fix::audit::ConfirmationGiven::YesAcceptDataLoss)
        );
        assert_eq!(r.cluster_id.as_deref(), Some(other_id.as_str()));
        assert_eq!(r.plan_title, reassign["title"].as_str().unwrap());
    }
    // The first cluster's file did not change.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), raw);
}
