//! End to end, against real local clusters: one writer at a time. Two repairs of one slot
//! started together never both write; a repair refuses to start while something else is
//! moving the slot's keys; every write is in the audit log before it is sent.
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use common::cluster::{options, runtime};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use slotscope::cluster::diagnose;
use slotscope::cluster::model::ClusterModel;
use slotscope::fix::audit::{AuditLog, AuditPhase};
use slotscope::fix::executor::{Executor, FixOutcome};
use slotscope::fix::{FixPlan, PlanKind, plan_fixes};
use slotscope::lab::{Lab, LabOptions, Scenario, ScenarioReport};
use slotscope::refresh::{Connector, observe_once};
use tokio::sync::mpsc;

fn start(s: Scenario) -> (Lab, ScenarioReport) {
    let base = LabOptions {
        keys: 300,
        node_timeout_ms: 1500,
        replicas_per_master: 0,
        ..LabOptions::default()
    };
    s.start(base)
        .unwrap_or_else(|e| panic!("scenario {s} did not start: {e}"))
}

async fn plans(connector: &Connector) -> Vec<FixPlan> {
    let snap = observe_once(connector, None).await.unwrap();
    let m = ClusterModel::build(&snap);
    plan_fixes(&m, &diagnose(&m))
}

fn pick(plans: &[FixPlan], kind: PlanKind) -> FixPlan {
    plans
        .iter()
        .find(|p| p.kind == kind)
        .unwrap_or_else(|| {
            panic!(
                "no {kind:?} plan among {:?}",
                plans.iter().map(|p| &p.id).collect::<Vec<_>>()
            )
        })
        .clone()
}

async fn execute(executor: &Executor, plan: &FixPlan) -> FixOutcome {
    let (tx, mut rx) = mpsc::channel(64);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let outcome = executor.execute(plan, &tx).await;
    drop(tx);
    drain.await.unwrap();
    outcome
}

#[test]
fn complete_and_rollback_started_together_never_both_write() {
    let (lab, report) = start(Scenario::InterruptedReshard);
    let dir = tempfile::tempdir().unwrap();
    let locks = dir.path().join("locks");
    let rt = runtime();
    rt.block_on(async {
        // Two separate slotscope runs: own connections, own audit logs, one lock directory
        // (the host's).
        let c1 = Connector::shared(options(&lab));
        let c2 = Connector::shared(options(&lab));
        let all = plans(&c1).await;
        let complete = pick(&all, PlanKind::CompleteMigration);
        let rollback = pick(&all, PlanKind::RollBackMigration);
        let a1 = AuditLog::new(dir.path().join("a1.jsonl"));
        let a2 = AuditLog::new(dir.path().join("a2.jsonl"));
        let e1 = Executor::new(Arc::clone(&c1), Some(a1.clone())).with_lock_dir(&locks);
        let e2 = Executor::new(Arc::clone(&c2), Some(a2.clone())).with_lock_dir(&locks);
        let (o1, o2) = tokio::join!(execute(&e1, &complete), execute(&e2, &rollback));
        let wrote1 = !a1.read_lines().unwrap().is_empty();
        let wrote2 = !a2.read_lines().unwrap().is_empty();
        assert!(
            wrote1 ^ wrote2,
            "exactly one run may write: complete {o1:?}, roll back {o2:?}"
        );
        let (winner, loser) = if wrote1 { (&o1, &o2) } else { (&o2, &o1) };
        assert!(winner.is_success(), "{winner:?}");
        match loser {
            FixOutcome::Refused { reason } => {
                assert!(reason.contains("another slotscope"), "{reason}");
                assert!(reason.contains("pid "), "the holder is named: {reason}");
            }
            other => panic!("the second run must be refused, got {other:?}"),
        }
    });
    let back = lab.read_back();
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
    // The slot is closed on both sides of the move.
    let slot = report.slots[0].start;
    for &i in &report.affected {
        let nodes = lab.query(i, &["CLUSTER", "NODES"]).unwrap();
        assert!(!nodes.contains(&format!("[{slot}-")), "{nodes}");
    }
}

#[test]
fn a_repair_refuses_to_start_while_another_tool_moves_the_slot() {
    let (lab, report) = start(Scenario::InterruptedReshard);
    let (src, dst) = (report.affected[0], report.affected[1]);
    let slot = report.slots[0].start;
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    let rt = runtime();
    let plan = rt.block_on(async {
        let c = Connector::shared(options(&lab));
        pick(&plans(&c).await, PlanKind::RollBackMigration)
    });
    // Another tool carries on with the reshard: one key at a time, as `redis-cli --cluster
    // reshard` does in batches.
    let keys_left = lab.count_keys_in_slot(src, slot).unwrap();
    assert!(
        keys_left >= 5,
        "the source must still hold keys: {keys_left}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mover = {
        let stop = Arc::clone(&stop);
        let to = lab.endpoint(dst);
        let mut conn = lab.connect(src).unwrap();
        std::thread::spawn(move || {
            let mut moved = 0_u64;
            while !stop.load(Ordering::SeqCst) {
                let keys: Vec<String> = redis::cmd("CLUSTER")
                    .arg("GETKEYSINSLOT")
                    .arg(slot)
                    .arg(1)
                    .query(&mut conn)
                    .unwrap();
                let Some(key) = keys.first() else { break };
                let _: redis::Value = redis::cmd("MIGRATE")
                    .arg(&to.host)
                    .arg(to.port)
                    .arg(key)
                    .arg(0)
                    .arg(5000)
                    .query(&mut conn)
                    .unwrap();
                moved += 1;
                std::thread::sleep(Duration::from_millis(60));
            }
            moved
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let outcome = rt.block_on(async {
        let c = Connector::shared(options(&lab));
        let e = Executor::new(c, Some(audit.clone())).with_lock_dir(dir.path().join("locks"));
        execute(&e, &plan).await
    });
    stop.store(true, Ordering::SeqCst);
    let moved = mover.join().unwrap();
    assert!(moved > 0, "the other tool moved keys meanwhile");
    let FixOutcome::Changed { changes } = &outcome else {
        panic!("expected Changed (keys moving), got {outcome:?}");
    };
    assert!(
        changes
            .iter()
            .any(|c| c.contains(&format!("keys of slot {slot} are moving"))),
        "{changes:?}"
    );
    assert!(
        audit.read_lines().unwrap().is_empty(),
        "nothing may be sent"
    );
    let back = lab.read_back();
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
}

#[test]
fn every_write_is_announced_in_the_audit_log_before_its_result() {
    let (lab, _) = start(Scenario::MigratingOnly);
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    let rt = runtime();
    rt.block_on(async {
        let c = Connector::shared(options(&lab));
        let plan = pick(&plans(&c).await, PlanKind::StabiliseSlot);
        let e = Executor::new(c, Some(audit.clone())).with_lock_dir(dir.path().join("locks"));
        let outcome = execute(&e, &plan).await;
        assert!(outcome.is_success(), "{outcome:?}");
    });
    let lines = audit.read_lines().unwrap();
    assert!(!lines.is_empty());
    assert_eq!(lines.len() % 2, 0, "{lines:#?}");
    for pair in lines.chunks(2) {
        assert_eq!(pair[0].phase, AuditPhase::Sending, "{pair:#?}");
        assert_eq!(pair[0].result, "pending");
        assert_eq!(pair[1].phase, AuditPhase::Done, "{pair:#?}");
        assert_eq!(pair[0].command, pair[1].command);
        assert!(pair[0].time_ms <= pair[1].time_ms);
        assert!(pair[1].result.starts_with("ok"), "{pair:#?}");
    }
    assert_eq!(audit.read_all().unwrap().len(), lines.len() / 2);
}

/// `slotscope SUBCOMMAND ARGS... SEEDS...` with no password and no colour.
fn slotscope(args: &[&str], seeds: &[String]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_slotscope"))
        .args(args)
        .args(["--timeout", "2000", "--connect-timeout", "1000"])
        .args(seeds)
        .env_remove("REDISCLI_AUTH")
        .env_remove("SLOTSCOPE_AUDIT_LOG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn seeds_of_two_clusters_are_refused_and_nothing_is_planned_across_them() {
    let opts = LabOptions {
        keys: 100,
        replicas_per_master: 0,
        ..LabOptions::default()
    };
    let a = Lab::start(opts.clone()).unwrap();
    let b = Lab::start(opts).unwrap();
    let seeds = vec![a.endpoint(0).to_string(), b.endpoint(0).to_string()];
    let dbsize = |lab: &Lab| -> Vec<String> {
        lab.running()
            .into_iter()
            .map(|i| lab.query(i, &["DBSIZE"]).unwrap())
            .collect()
    };
    let (keys_a, keys_b) = (dbsize(&a), dbsize(&b));

    let o = slotscope(&["check"], &seeds);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(3), "stdout:\n{out}\nstderr:\n{err}");
    let text = format!("{out}{err}");
    assert!(text.contains("2 different clusters"), "{text}");
    assert!(
        text.contains(&seeds[0]) && text.contains(&seeds[1]),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap();
    let o = slotscope(&["fix", "--json"], &seeds);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // Even asked for a plan by id with --yes, nothing is sent.
    let o = slotscope(
        &[
            "fix",
            "--apply",
            "meet-any",
            "--yes",
            "--audit-log",
            audit_arg,
        ],
        &seeds,
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(!audit.exists() || std::fs::read_to_string(&audit).unwrap().is_empty());
    assert_eq!((dbsize(&a), dbsize(&b)), (keys_a, keys_b));
    assert!(a.read_back().all_readable() && b.read_back().all_readable());
}

/// Keys written straight into `holder` for a slot that `owner` serves: the holder imports the
/// slot for a moment (`ASKING` writes), then closes it again. Returns the keys and values.
fn plant_stray_keys(
    lab: &Lab,
    holder: usize,
    owner: usize,
    n: usize,
) -> (u16, Vec<(String, String)>) {
    let range = lab.initial_slots(owner).unwrap();
    let slot = range.start + 7;
    let keys: Vec<(String, String)> = (0..)
        .map(|i| format!("stray:{i}"))
        .filter(|k| slotscope::cluster::keyslot::key_slot(k.as_bytes()) == slot)
        .take(n)
        .map(|k| {
            let v = format!("value of {k}");
            (k, v)
        })
        .collect();
    let s = slot.to_string();
    lab.query(
        holder,
        &["CLUSTER", "SETSLOT", &s, "IMPORTING", lab.node_id(owner)],
    )
    .unwrap();
    let mut conn = lab.connect(holder).unwrap();
    for (k, v) in &keys {
        let _: () = redis::pipe()
            .cmd("ASKING")
            .ignore()
            .cmd("SET")
            .arg(k)
            .arg(v)
            .ignore()
            .query(&mut conn)
            .unwrap();
    }
    lab.query(holder, &["CLUSTER", "SETSLOT", &s, "STABLE"])
        .unwrap();
    (slot, keys)
}

/// One stray key in each of `n` slots that `owner` serves, stored on `holder`.
fn plant_stray_slots(lab: &Lab, holder: usize, owner: usize, n: u16) -> Vec<u16> {
    let range = lab.initial_slots(owner).unwrap();
    let slots: Vec<u16> = (range.start + 1..=range.end).take(usize::from(n)).collect();
    let mut conn = lab.connect(holder).unwrap();
    for &slot in &slots {
        let key = (0..)
            .map(|i| format!("stray:{i}"))
            .find(|k| slotscope::cluster::keyslot::key_slot(k.as_bytes()) == slot)
            .unwrap();
        let s = slot.to_string();
        lab.query(
            holder,
            &["CLUSTER", "SETSLOT", &s, "IMPORTING", lab.node_id(owner)],
        )
        .unwrap();
        let _: () = redis::pipe()
            .cmd("ASKING")
            .ignore()
            .cmd("SET")
            .arg(&key)
            .arg("v")
            .ignore()
            .query(&mut conn)
            .unwrap();
        lab.query(holder, &["CLUSTER", "SETSLOT", &s, "STABLE"])
            .unwrap();
    }
    slots
}

fn json_of(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

#[test]
fn keys_on_a_node_that_does_not_own_their_slot_are_found_and_returned() {
    let lab = Lab::start(LabOptions {
        keys: 100,
        replicas_per_master: 0,
        ..LabOptions::default()
    })
    .unwrap();
    let masters = lab.master_indices();
    let (owner, holder) = (masters[0], masters[1]);
    let (slot, stray) = plant_stray_keys(&lab, holder, owner, 25);
    let seeds = vec![lab.endpoint(holder).to_string()];
    let slot_arg = slot.to_string();
    let count = |i: usize| -> u64 {
        lab.query(i, &["CLUSTER", "COUNTKEYSINSLOT", &slot_arg])
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(count(holder), 25);

    // check finds them: critical (only the holder has them), naming holder, slot and count.
    let o = slotscope(&["check", "--json"], &seeds);
    let doc = json_of(&o);
    assert_eq!(o.status.code(), Some(2), "{doc:#}");
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "stray_keys")
        .unwrap_or_else(|| panic!("no stray_keys finding: {doc:#}"));
    assert_eq!(finding["severity"], "critical");
    let summary = finding["summary"].as_str().unwrap();
    assert!(
        summary.contains(&lab.endpoint(holder).to_string()),
        "{summary}"
    );
    assert!(summary.contains("25 keys"), "{summary}");
    assert!(
        summary.contains(&format!("slot {slot}")) || summary.contains(&slot_arg),
        "{summary}"
    );
    assert!(
        summary.contains(&lab.endpoint(owner).to_string()),
        "{summary}"
    );

    // A lossless repair is offered with a plain yes.
    let o = slotscope(&["fix", "--json"], &seeds);
    let plans = json_of(&o);
    let plan = plans["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "return_stray_keys")
        .unwrap_or_else(|| panic!("no return_stray_keys plan: {plans:#}"))
        .clone();
    assert_eq!(plan["risk"]["loses_data"], false, "{plan:#}");
    assert_eq!(plan["risk"]["keys_at_risk"], 0, "{plan:#}");
    assert_eq!(plan["risk"]["keys_to_move"], 25, "{plan:#}");
    let id = plan["id"].as_str().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let o = slotscope(
        &[
            "fix",
            "--apply",
            id,
            "--yes",
            "--audit-log",
            audit.to_str().unwrap(),
        ],
        &seeds,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(count(holder), 0);
    // Every planted key now reads back through the cluster, from its owner.
    let mut conn = lab.connect(owner).unwrap();
    for (k, v) in &stray {
        let got: Option<String> = redis::cmd("GET").arg(k).query(&mut conn).unwrap();
        assert_eq!(got.as_deref(), Some(v.as_str()), "{k}");
    }
    assert!(lab.read_back().all_readable());
    // Nothing stray is left (the masters have no replica, so check still warns about that).
    let o = slotscope(&["check", "--json"], &seeds);
    let doc = json_of(&o);
    assert_eq!(o.status.code(), Some(1), "{doc:#}");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] == "no_replica"),
        "{doc:#}"
    );
}

/// `slotscope fix --json` plans, polled until `until` holds (at most 40 s).
fn plans_until(
    seeds: &[String],
    until: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let o = slotscope(&["fix", "--json"], seeds);
        let plans = json_of(&o)["plans"].as_array().cloned().unwrap_or_default();
        if until(&plans) || std::time::Instant::now() > deadline {
            return plans;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_paused_node_is_never_offered_for_forget() {
    let (lab, report) = Scenario::StoppedNode
        .start(LabOptions {
            keys: 100,
            node_timeout_ms: 1500,
            ..LabOptions::default()
        })
        .unwrap();
    let victim = report.affected[0];
    let short = &lab.node_id(victim)[..8];
    let seeds = vec![lab.endpoint(lab.running()[0]).to_string()];
    // Once its replica has taken over, the paused master owns no slot.
    let plans = plans_until(&seeds, |p| {
        p.iter().any(|p| p["id"] == format!("resume-{short}"))
    });
    let ids: Vec<&str> = plans.iter().filter_map(|p| p["id"].as_str()).collect();
    assert!(ids.contains(&format!("resume-{short}").as_str()), "{ids:?}");
    assert!(
        !ids.contains(&format!("forget-{short}").as_str()),
        "a live (paused) node must not be offered for FORGET: {ids:?}"
    );
    let resume = plans
        .iter()
        .find(|p| p["id"] == format!("resume-{short}"))
        .unwrap();
    let advice = resume["advice"].to_string();
    assert!(advice.contains("kill -CONT"), "{advice}");
    assert!(advice.contains("Do not CLUSTER FORGET"), "{advice}");
}

#[test]
fn forgetting_the_last_copy_of_a_dead_master_needs_the_typed_word() {
    let mut lab = Lab::start(LabOptions {
        keys: 200,
        node_timeout_ms: 1500,
        replicas_per_master: 1,
        ..LabOptions::default()
    })
    .unwrap();
    let master = lab.master_indices()[0];
    let replica = lab.replicas_of(master)[0];
    let short = lab.node_id(replica)[..8].to_owned();
    // The replica dies first (no failover to it), then its master: the replica's files are
    // the last copy of the master's slots.
    lab.kill(replica).unwrap();
    lab.wait_until("replica flagged fail", Duration::from_secs(20), |lab| {
        let others: Vec<usize> = lab.running();
        for i in others {
            if !lab.flags_seen_by(i, replica)?.contains(&"fail".to_owned()) {
                return Ok(Err(format!("node {i} does not flag it yet")));
            }
        }
        Ok(Ok(()))
    })
    .unwrap();
    lab.kill(master).unwrap();
    let seeds = vec![lab.endpoint(lab.running()[0]).to_string()];
    let plans = plans_until(&seeds, |p| {
        p.iter().any(|p| p["id"] == format!("forget-{short}"))
    });
    let forget = plans
        .iter()
        .find(|p| p["id"] == format!("forget-{short}"))
        .unwrap_or_else(|| panic!("no forget plan: {plans:#?}"));
    assert_eq!(forget["risk"]["loses_data"], true, "{forget:#}");
    assert_eq!(forget["recommended"], false, "{forget:#}");
    assert_eq!(forget["confirmation"]["kind"], "type_word", "{forget:#}");
    assert!(
        forget["risk"]["notes"].to_string().contains("last copy"),
        "{forget:#}"
    );
    // --yes alone refuses it, and nothing is sent.
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let o = slotscope(
        &[
            "fix",
            "--apply",
            &format!("forget-{short}"),
            "--yes",
            "--audit-log",
            audit.to_str().unwrap(),
        ],
        &seeds,
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(!audit.exists() || std::fs::read_to_string(&audit).unwrap().is_empty());
}

/// A master forgotten by every peer (it keeps its keys and the higher config epoch), and
/// another master that claimed its slots, empty: two masters claim them. Returns the lab, the
/// forgotten master, the claimant and the slots.
fn forgotten_master_and_an_empty_claimant()
-> (Lab, usize, usize, slotscope::cluster::slots::SlotRange) {
    let (lab, report) = Scenario::NodeMustRejoin
        .start(LabOptions {
            keys: 300,
            node_timeout_ms: 1500,
            ..LabOptions::default()
        })
        .unwrap();
    let victim = report.affected[0];
    let range = lab.initial_slots(victim).unwrap();
    let other = lab
        .master_indices()
        .into_iter()
        .find(|&m| m != victim)
        .unwrap();
    // The forgotten master's slots, unbound for the rest, handed to another (empty) master.
    lab.query(
        other,
        &[
            "CLUSTER",
            "ADDSLOTSRANGE",
            &range.start.to_string(),
            &range.end.to_string(),
        ],
    )
    .unwrap();
    (lab, victim, other, range)
}

#[test]
fn a_dispute_counts_both_sides_and_recommends_the_side_that_keeps_the_keys() {
    let (lab, victim, other, range) = forgotten_master_and_an_empty_claimant();
    let seeds = vec![
        lab.endpoint(victim).to_string(),
        lab.endpoint(other).to_string(),
    ];
    let victim_keys: u64 = (range.start..=range.end)
        .map(|s| {
            lab.query(victim, &["CLUSTER", "COUNTKEYSINSLOT", &s.to_string()])
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert!(victim_keys > 0);
    let plans = plans_until(&seeds, |p| p.iter().any(|p| p["kind"] == "meet"));
    let find = |kind: &str| {
        plans
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} plan: {plans:#?}"))
            .clone()
    };
    // Joining the forgotten master back keeps every key: its config epoch is the higher one,
    // so the empty claimant gives the slots up. Measured on both sides, it needs a plain yes.
    let meet = find("meet");
    assert_eq!(meet["risk"]["loses_data"], false, "{meet:#}");
    assert_eq!(meet["risk"]["keys_at_risk"], 0, "{meet:#}");
    assert_eq!(meet["confirmation"]["kind"], "simple", "{meet:#}");
    assert_eq!(meet["recommended"], true, "{meet:#}");
    // Making the empty claimant win deletes the forgotten master's keys: counted, typed word.
    let dispute = find("resolve_dispute");
    assert_eq!(dispute["risk"]["loses_data"], true, "{dispute:#}");
    assert_eq!(dispute["risk"]["keys_at_risk"], victim_keys, "{dispute:#}");
    assert_eq!(dispute["confirmation"]["kind"], "type_word", "{dispute:#}");
    assert_eq!(dispute["recommended"], false, "{dispute:#}");

    // Applied with --yes alone, the recommended plan keeps every key.
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let o = slotscope(
        &[
            "fix",
            "--apply",
            meet["id"].as_str().unwrap(),
            "--yes",
            "--audit-log",
            audit.to_str().unwrap(),
        ],
        &seeds,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
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
    // cluster_state:ok comes before every view has dropped the empty claimant: read until the
    // views converge (bounded); a key that is really gone stays missing and fails here.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut back = lab.read_back();
    while !back.all_readable() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        back = lab.read_back();
    }
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
}

#[test]
fn the_first_interrupt_stops_a_cli_fix_after_its_current_step_and_says_what_ran() {
    use std::io::{BufRead, BufReader};
    let lab = Lab::start(LabOptions {
        keys: 50,
        replicas_per_master: 0,
        ..LabOptions::default()
    })
    .unwrap();
    let masters = lab.master_indices();
    let (owner, holder) = (masters[0], masters[1]);
    plant_stray_slots(&lab, holder, owner, 150);
    let seeds = vec![lab.endpoint(holder).to_string()];
    let id = format!("return-stray-keys-{}", &lab.node_id(holder)[..8]);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_slotscope"))
        .args(["fix", "--apply", &id, "--yes", "--audit-log"])
        .arg(&audit)
        .args(&seeds)
        .env_remove("REDISCLI_AUTH")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let started = line.starts_with("[1/");
        seen.push(line);
        if started {
            break;
        }
    }
    assert!(seen.iter().any(|l| l.starts_with("[1/")), "{seen:#?}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    let out = seen.join("\n");
    assert_eq!(status.code(), Some(130), "{out}");
    assert!(
        out.contains("interrupted: stopped before the next step"),
        "{out}"
    );
    assert!(
        out.contains("  done:") && out.contains("  not done:"),
        "{out}"
    );
    // Every write that went out is in the audit log with its result; none is left pending.
    let log = AuditLog::new(&audit);
    let lines = log.read_lines().unwrap();
    let joined = log.read_all().unwrap();
    assert!(!joined.is_empty(), "the first step ran");
    assert!(
        joined.len() < 450,
        "the run stopped early: {} writes",
        joined.len()
    );
    assert_eq!(
        lines.len(),
        2 * joined.len(),
        "a result for every announced write"
    );
}

/// The invariant, on a real cluster: apply every plan that `--yes` alone accepts (it writes
/// and does not declare data loss), one after the other, re-planning after each, in `order`;
/// no key that clients could read before may be unreadable after. Returns the ids applied.
fn apply_every_plain_yes_plan(lab: &Lab, reverse: bool) -> Vec<String> {
    let before: std::collections::BTreeSet<String> = lab
        .read_back()
        .missing
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut applied: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    rt.block_on(async {
        let c = Connector::shared(options(lab));
        for _ in 0..8 {
            let mut candidates: Vec<FixPlan> = plans(&c)
                .await
                .into_iter()
                .filter(|p| !p.risk.loses_data && !p.is_advice_only())
                .filter(|p| !ids.contains(&p.id))
                .collect();
            if reverse {
                candidates.reverse();
            }
            let Some(plan) = candidates.into_iter().next() else {
                break;
            };
            let e = Executor::new(Arc::clone(&c), None).with_lock_dir(dir.path());
            let outcome = execute(&e, &plan).await;
            ids.push(plan.id.clone());
            applied.push(format!("{} -> {outcome:?}", plan.id));
            // Let gossip settle before the next plan is made.
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
    });
    eprintln!("applied with a plain yes: {applied:#?}");
    let after = lab.read_back();
    let lost: Vec<&String> = after
        .missing
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !before.contains(*k))
        .collect();
    assert!(
        lost.is_empty(),
        "plain-yes plans made {} key(s) unreadable (e.g. {:?}); applied: {applied:#?}",
        lost.len(),
        lost.iter().take(5).collect::<Vec<_>>()
    );
    applied
}

#[rstest::rstest]
#[case::interrupted_reshard(Scenario::InterruptedReshard, false)]
#[case::interrupted_reshard_reversed(Scenario::InterruptedReshard, true)]
#[case::migrating_only(Scenario::MigratingOnly, false)]
#[case::importing_only(Scenario::ImportingOnly, true)]
#[case::deleted_slots(Scenario::DeletedSlots, false)]
#[case::full_coverage_off(Scenario::FullCoverageOff, false)]
#[case::dead_master_failover(Scenario::DeadMasterFailover, false)]
#[case::dead_master_no_replica(Scenario::DeadMasterNoReplica, false)]
#[case::node_must_rejoin(Scenario::NodeMustRejoin, true)]
#[case::stopped_node(Scenario::StoppedNode, false)]
#[case::majority_lost(Scenario::MajorityLost, false)]
fn no_plain_yes_plan_makes_a_key_unreadable(#[case] s: Scenario, #[case] reverse: bool) {
    let (lab, _) = s
        .start(LabOptions {
            keys: 300,
            node_timeout_ms: 1500,
            ..LabOptions::default()
        })
        .unwrap_or_else(|e| panic!("scenario {s} did not start: {e}"));
    apply_every_plain_yes_plan(&lab, reverse);
}

#[test]
fn keys_stranded_by_a_source_killed_mid_migration_stay_readable_or_are_returned() {
    // A half-moved slot whose source master is killed: its replica takes over the slot without
    // the migrating marker, so the keys already moved to the target cannot be read.
    let (mut lab, report) = Scenario::InterruptedReshard
        .start(LabOptions {
            keys: 300,
            node_timeout_ms: 1500,
            replicas_per_master: 1,
            ..LabOptions::default()
        })
        .unwrap();
    let (src, dst) = (report.affected[0], report.affected[1]);
    let slot = report.slots[0].start;
    let on_target = lab.count_keys_in_slot(dst, slot).unwrap();
    assert!(on_target > 0, "keys already moved to the target");
    let replica = lab.replicas_of(src)[0];
    lab.kill(src).unwrap();
    lab.wait_until("the replica took over", Duration::from_secs(30), |lab| {
        Ok(if lab.current_role(replica)? == "master" {
            Ok(())
        } else {
            Err("still a replica".to_owned())
        })
    })
    .unwrap();
    // The keys on the target are reported (unreadable, critical), never silently.
    let seeds = vec![lab.endpoint(dst).to_string()];
    let o = slotscope(&["check", "--json"], &seeds);
    let doc = json_of(&o);
    let open = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "open_slot" || f["kind"] == "stray_keys")
        .unwrap_or_else(|| panic!("the stranded keys are not reported: {doc:#}"))
        .clone();
    assert_eq!(open["severity"], "critical", "{open:#}");
    // Every plan --yes accepts, applied in turn, loses nothing more; the slot's keys on the
    // target end up readable again.
    let applied = apply_every_plain_yes_plan(&lab, false);
    let back = lab.read_back();
    let in_slot: Vec<&String> = back
        .missing
        .iter()
        .map(|(k, _)| k)
        .filter(|k| slotscope::cluster::keyslot::key_slot(k.as_bytes()) == slot)
        .collect();
    assert!(
        in_slot.is_empty(),
        "{} key(s) of slot {slot} still unreadable after {applied:#?}",
        in_slot.len()
    );
}

#[test]
fn a_data_losing_plan_loses_exactly_the_keys_it_states() {
    let (lab, victim, other, range) = forgotten_master_and_an_empty_claimant();
    let seeds = vec![
        lab.endpoint(victim).to_string(),
        lab.endpoint(other).to_string(),
    ];
    // Once every peer's view binds the slots to the new claimant, the dispute plan makes it
    // win (before that, the forgotten master's higher epoch may win the vote).
    let want = format!("resolve-dispute-{}", &lab.node_id(other)[..8]);
    let plans = plans_until(&seeds, |p| p.iter().any(|p| p["id"] == want));
    let dispute = plans
        .iter()
        .find(|p| p["id"] == want)
        .unwrap_or_else(|| panic!("no dispute plan: {plans:#?}"))
        .clone();
    let stated = dispute["risk"]["keys_at_risk"].as_u64().unwrap();
    // Keys stored on the masters, whether clients can read them or not.
    let stored = |lab: &Lab| -> u64 {
        lab.running()
            .into_iter()
            .filter(|&i| lab.current_role(i).is_ok_and(|r| r == "master"))
            .map(|i| lab.query(i, &["DBSIZE"]).unwrap().parse::<u64>().unwrap())
            .sum()
    };
    let stored_before = stored(&lab);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let id = dispute["id"].as_str().unwrap();
    let args = [
        "fix",
        "--apply",
        id,
        "--yes",
        "--audit-log",
        audit.to_str().unwrap(),
    ];
    // --yes alone refuses it.
    let o = slotscope(&args, &seeds);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut with_accept = args.to_vec();
    with_accept.push("--accept-data-loss");
    let o = slotscope(&with_accept, &seeds);
    eprintln!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // The owner's claim won: the forgotten master deleted its keys in those slots.
    lab.wait_until(
        "the victim gave its keys up",
        Duration::from_secs(30),
        |lab| {
            let left: u64 = (range.start..=range.end)
                .map(|s| {
                    lab.query(victim, &["CLUSTER", "COUNTKEYSINSLOT", &s.to_string()])
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                })
                .sum();
            Ok(if left == 0 {
                Ok(())
            } else {
                Err(format!("{left} keys still there"))
            })
        },
    )
    .unwrap();
    // Measured on the servers: exactly the stated number of keys is gone.
    let lost = stored_before - stored(&lab);
    assert_eq!(lost, stated, "stated {stated}, lost {lost}");
    assert!(stated > 0);
}
