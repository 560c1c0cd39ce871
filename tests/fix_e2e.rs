//! End to end: break a real local cluster, take slotscope's plan, execute it, and prove the
//! cluster is whole again — every node `cluster_state:ok`, 16384 slots served, no open slot,
//! all views agree, and every key written before the fault reads back (except losses the plan
//! declared and the user accepted, counted exactly).
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use common::cluster::runtime;
use std::sync::Arc;
use std::time::Duration;

use slotscope::cluster::diagnose;
use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::slots::{SLOT_COUNT, SlotRange};
use slotscope::fix::audit::AuditLog;
use slotscope::fix::executor::{Executor, FixEvent, FixOutcome};
use slotscope::fix::{FixPlan, PlanKind, plan_fixes};
use slotscope::lab::{Lab, LabOptions, Scenario, ScenarioReport};
use slotscope::refresh::{ConnectOptions, Connector, observe_once};
use tokio::sync::mpsc;

fn options(lab: &Lab, read_only: bool) -> ConnectOptions {
    let mut o = common::cluster::options(lab);
    o.read_only = read_only;
    o
}

fn start(s: Scenario) -> (Lab, ScenarioReport) {
    start_with(s, LabOptions::default().replicas_per_master)
}

fn start_with(s: Scenario, replicas_per_master: usize) -> (Lab, ScenarioReport) {
    let base = LabOptions {
        keys: 300,
        node_timeout_ms: 1500,
        replicas_per_master,
        ..LabOptions::default()
    };
    s.start(base)
        .unwrap_or_else(|e| panic!("scenario {s} did not start: {e}"))
}

async fn model_of(connector: &Connector) -> ClusterModel {
    let snap = observe_once(connector, None).await.unwrap();
    ClusterModel::build(&snap)
}

async fn plan_all(connector: &Connector) -> (ClusterModel, Vec<FixPlan>) {
    let m = model_of(connector).await;
    let f = diagnose(&m);
    let p = plan_fixes(&m, &f);
    (m, p)
}

fn pick(plans: &[FixPlan], pred: impl Fn(&FixPlan) -> bool) -> &FixPlan {
    plans.iter().find(|p| pred(p)).unwrap_or_else(|| {
        panic!(
            "no matching plan among {:?}",
            plans.iter().map(|p| &p.id).collect::<Vec<_>>()
        )
    })
}

/// Execute and collect every event.
async fn run(executor: &Executor, plan: &FixPlan) -> (FixOutcome, Vec<FixEvent>) {
    let (tx, mut rx) = mpsc::channel(16);
    let collector = tokio::spawn(async move {
        let mut v = Vec::new();
        while let Some(e) = rx.recv().await {
            v.push(e);
        }
        v
    });
    let outcome = executor.execute(plan, &tx).await;
    drop(tx);
    (outcome, collector.await.unwrap())
}

/// Every running node ok, every slot served, nothing open, views agree.
async fn assert_whole(lab: &Lab, connector: &Connector) {
    lab.wait_until(
        "cluster_state:ok on every running node",
        Duration::from_secs(30),
        |lab| {
            for i in lab.running() {
                let s = lab.cluster_state(i)?;
                if s != "ok" {
                    return Ok(Err(format!("node {i}: {s}")));
                }
            }
            Ok(Ok(()))
        },
    )
    .unwrap();
    let mut last = String::new();
    for _ in 0..60 {
        let m = model_of(connector).await;
        let served = m
            .slots
            .iter()
            .filter(|e| e.state == slotscope::cluster::SlotState::Served)
            .count();
        if served == SLOT_COUNT && m.open_slots.is_empty() && m.disagreements.is_empty() {
            return;
        }
        last = format!(
            "served {served}, open {:?}, disagreements {:?}",
            m.open_slots, m.disagreements
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("cluster not whole: {last}");
}

/// Plan, execute, verify, for scenarios where no key may be lost.
fn repair_without_loss(s: Scenario, choose: impl Fn(&FixPlan) -> bool) -> FixPlan {
    repair_without_loss_events(s, LabOptions::default().replicas_per_master, choose).0
}

/// [`repair_without_loss`], also returning the executor's events.
fn repair_without_loss_events(
    s: Scenario,
    replicas_per_master: usize,
    choose: impl Fn(&FixPlan) -> bool,
) -> (FixPlan, Vec<FixEvent>) {
    let (lab, report) = start_with(s, replicas_per_master);
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let (_, plans) = plan_all(&connector).await;
        let plan = pick(&plans, &choose).clone();
        let executor = Executor::new(Arc::clone(&connector), Some(audit.clone()));
        let (outcome, events) = run(&executor, &plan).await;
        assert!(
            outcome.is_success(),
            "{s}: plan {} ended {outcome:?}\nreport: {report}\nevents: {events:#?}",
            plan.id
        );
        assert!(matches!(events.last(), Some(FixEvent::Finished(_))));
        assert_whole(&lab, &connector).await;
        let back = lab.read_back();
        assert!(back.all_readable(), "{s}: keys lost: {:?}", back.missing);
        let records = audit.read_all().unwrap();
        assert!(
            records.len() >= plan.write_steps(),
            "{} audit records for {} write steps",
            records.len(),
            plan.write_steps()
        );
        assert!(records.iter().all(|r| r.plan == plan.id));
        (plan, events)
    })
}

#[test]
fn interrupted_reshard_completed() {
    // No replicas: every master has a "no replica" finding whose slots change with the move.
    let (plan, events) = repair_without_loss_events(Scenario::InterruptedReshard, 0, |p| {
        p.kind == PlanKind::CompleteMigration
    });
    assert!(plan.recommended, "the markers' intent is to complete");
    assert!(plan.risk.keys_to_move > 0);
    // Findings whose text changed only because slot counts moved (e.g. "no replica" of the
    // two masters) are the same findings, not new ones.
    let new: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            FixEvent::Verified { new_findings, .. } => Some(new_findings),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(new.is_empty(), "reported as new: {new:?}");
}

#[test]
fn both_markers_without_moved_keys_completed_by_default() {
    // An operator ran both SETSLOT IMPORTING and MIGRATING, then nothing: no key moved yet.
    let (lab, _) = start(Scenario::Healthy);
    let masters = lab.master_indices();
    let (src, dst) = (masters[0], masters[1]);
    let range = lab.initial_slots(src).unwrap();
    let key = lab
        .written()
        .keys()
        .find(|k| range.contains(slotscope::cluster::keyslot::key_slot(k.as_bytes())))
        .unwrap()
        .clone();
    let slot = slotscope::cluster::keyslot::key_slot(key.as_bytes());
    let in_slot = lab.written_in_slot(slot).len();
    let s = slot.to_string();
    lab.query(
        dst,
        &["CLUSTER", "SETSLOT", &s, "IMPORTING", lab.node_id(src)],
    )
    .unwrap();
    lab.query(
        src,
        &["CLUSTER", "SETSLOT", &s, "MIGRATING", lab.node_id(dst)],
    )
    .unwrap();
    let rt = runtime();
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let (_, plans) = plan_all(&connector).await;
        let complete = pick(&plans, |p| p.id == format!("complete-migration-{slot}")).clone();
        let close = pick(&plans, |p| p.id == format!("stabilise-slot-{slot}"));
        assert!(complete.recommended && !close.recommended);
        assert_eq!(complete.group, close.group);
        assert_eq!(complete.risk.keys_to_move, u64::try_from(in_slot).unwrap());
        assert!(!plans.iter().any(|p| p.kind == PlanKind::RollBackMigration));
        let executor = Executor::new(Arc::clone(&connector), None);
        let (outcome, events) = run(&executor, &complete).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        assert_whole(&lab, &connector).await;
    });
    // Every key of the slot now lives on the target, and every key reads back.
    assert_eq!(
        lab.query(dst, &["CLUSTER", "COUNTKEYSINSLOT", &s]).unwrap(),
        in_slot.to_string()
    );
    let back = lab.read_back();
    assert!(back.all_readable(), "{:?}", back.missing);
}

#[test]
fn interrupted_reshard_rolled_back() {
    repair_without_loss(Scenario::InterruptedReshard, |p| {
        p.kind == PlanKind::RollBackMigration
    });
}

#[test]
fn migrating_only_stabilised() {
    repair_without_loss(Scenario::MigratingOnly, |p| {
        p.kind == PlanKind::StabiliseSlot
    });
}

#[test]
fn importing_only_stabilised() {
    repair_without_loss(Scenario::ImportingOnly, |p| {
        p.kind == PlanKind::StabiliseSlot
    });
}

#[test]
fn deleted_slots_reclaimed_by_their_key_holder() {
    let plan = repair_without_loss(Scenario::DeletedSlots, |p| {
        p.kind == PlanKind::ReclaimUncovered && !p.steps.is_empty()
    });
    assert!(!plan.risk.loses_data);
}

#[test]
fn forgotten_master_rejoins_with_meet() {
    repair_without_loss(Scenario::NodeMustRejoin, |p| p.kind == PlanKind::Meet);
}

#[test]
fn dead_master_slots_reassigned_with_exact_loss() {
    let (lab, report) = start(Scenario::DeadMasterNoReplica);
    let dead = report.affected[0];
    let lost_expected = lab
        .written()
        .keys()
        .filter(|k| {
            let slot = slotscope::cluster::keyslot::key_slot(k.as_bytes());
            report.slots.iter().any(|r| r.contains(slot))
        })
        .count();
    assert!(lost_expected > 0);
    let rt = runtime();
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let (_, plans) = plan_all(&connector).await;
        let plan = pick(&plans, |p| p.kind == PlanKind::ReassignSlots).clone();
        assert!(plan.risk.loses_data);
        let n = report.slots.iter().map(SlotRange::len).sum::<usize>();
        // The dead master's key count cannot be read: unknown, never 0, with an estimate from
        // the live masters' keys per slot (they hold every other written key).
        assert_eq!(plan.risk.keys_at_risk.known(), None, "{:?}", plan.risk);
        let estimate = plan
            .risk
            .keys_at_risk
            .estimate()
            .unwrap_or_else(|| panic!("no estimate: {:?}", plan.risk))
            .keys;
        let live_keys = lab.written().len() - lost_expected;
        let live_slots = 16384 - n;
        assert_eq!(
            estimate,
            u64::try_from((live_keys * n + live_slots / 2) / live_slots).unwrap(),
            "{:?}",
            plan.risk
        );
        assert!(
            estimate.abs_diff(u64::try_from(lost_expected).unwrap()) * 4
                <= u64::try_from(lost_expected).unwrap(),
            "estimate {estimate} vs {lost_expected} keys really lost"
        );
        assert_eq!(
            plan.confirmation,
            slotscope::fix::Confirmation::TypeWord(format!("lose-{n}-slots"))
        );
        // Ranges are contiguous: one ADDSLOTSRANGE pair per live master.
        for st in &plan.steps {
            if let slotscope::fix::StepAction::Command { args, .. } = &st.action
                && args.get(1).map(String::as_str) == Some("ADDSLOTSRANGE")
            {
                assert_eq!(args.len(), 4, "{args:?}");
            }
        }
        let executor = Executor::new(Arc::clone(&connector), None);
        let (outcome, events) = run(&executor, &plan).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        // The dead node stays in the tables as failed and slot-less: forget it too.
        let (_, plans) = plan_all(&connector).await;
        let forget = pick(&plans, |p| p.kind == PlanKind::Forget).clone();
        assert!(
            forget
                .nodes
                .iter()
                .any(|id| id.as_str() == lab.node_id(dead))
        );
        let (outcome, events) = run(&executor, &forget).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        assert_whole(&lab, &connector).await;
    });
    let back = lab.read_back();
    assert_eq!(
        back.missing.len(),
        lost_expected,
        "exactly the keys of the dead master's slots are lost: {:?}",
        back.missing.iter().take(5).collect::<Vec<_>>()
    );
}

#[test]
fn failed_over_master_is_forgotten() {
    repair_without_loss(Scenario::DeadMasterFailover, |p| p.kind == PlanKind::Forget);
}

#[test]
fn cluster_changed_after_planning_stops_without_writing() {
    let (lab, report) = start(Scenario::InterruptedReshard);
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let (_, plans) = plan_all(&connector).await;
        let plan = pick(&plans, |p| p.kind == PlanKind::CompleteMigration).clone();
        let slot = plan.slots[0].start.to_string();
        // Someone else closes the slot on the source meanwhile.
        let src = report.affected[0];
        lab.cmd(src, &["CLUSTER", "SETSLOT", &slot, "STABLE"])
            .unwrap();
        // Keys of the slot on both sides of the move (the masters; replicas may be resyncing
        // under load, which is not what this test is about).
        let sides = [report.affected[0], report.affected[1]];
        let before: Vec<u64> = sides
            .iter()
            .map(|&i| lab.count_keys_in_slot(i, plan.slots[0].start).unwrap())
            .collect();
        let executor = Executor::new(Arc::clone(&connector), Some(audit.clone()));
        let (outcome, _) = run(&executor, &plan).await;
        let FixOutcome::Changed { changes } = &outcome else {
            panic!("expected Changed, got {outcome:?}");
        };
        assert!(
            changes.iter().any(|c| c.contains("no longer migrating")),
            "{changes:?}"
        );
        assert!(
            audit.read_all().unwrap().is_empty(),
            "nothing may be written"
        );
        let after: Vec<u64> = sides
            .iter()
            .map(|&i| lab.count_keys_in_slot(i, plan.slots[0].start).unwrap())
            .collect();
        assert_eq!(before, after);
        assert!(
            before.iter().all(|&n| n > 0),
            "keys on both sides: {before:?}"
        );
        // The target keeps its importing marker: nothing else was touched.
        let dst = report.affected[1];
        let line = lab.query(dst, &["CLUSTER", "NODES"]).unwrap();
        assert!(line.contains(&format!("[{slot}-<-")), "{line}");
    });
}

#[test]
fn read_only_mode_sends_no_write() {
    let (lab, report) = start(Scenario::MigratingOnly);
    let rt = runtime();
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, true));
        let (_, plans) = plan_all(&connector).await;
        let plan = pick(&plans, |p| p.kind == PlanKind::StabiliseSlot).clone();
        let executor = Executor::new(Arc::clone(&connector), None);
        let (outcome, events) = run(&executor, &plan).await;
        assert!(matches!(outcome, FixOutcome::Refused { .. }), "{outcome:?}");
        assert_eq!(events.len(), 1, "no step may start: {events:?}");
        // The central guard refuses the write itself too.
        let slot = plan.slots[0].start.to_string();
        let args: Vec<String> = ["CLUSTER", "SETSLOT", &slot, "STABLE"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let r = connector
            .command(&lab.endpoint(report.affected[0]), &args)
            .await;
        assert!(
            matches!(
                r,
                Err(slotscope::refresh::CommandError::ReadOnlyRefused { .. })
            ),
            "{r:?}"
        );
        let nodes = lab
            .query(report.affected[0], &["CLUSTER", "NODES"])
            .unwrap();
        assert!(
            nodes.contains(&format!("[{slot}->-")),
            "marker must still be there"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// Repairs that need a fault built by hand.

fn lab_with(replicas_per_master: usize, keys: usize) -> Lab {
    Lab::start(LabOptions {
        keys,
        replicas_per_master,
        node_timeout_ms: 1500,
        ..LabOptions::default()
    })
    .unwrap()
}

fn wait_long() -> Duration {
    Duration::from_secs(40)
}

/// Wait until replica `r` holds as many keys as its master `m`.
fn wait_replicated(lab: &Lab, m: usize, r: usize) {
    lab.wait_until("replica caught up", wait_long(), |lab| {
        let (a, b) = (lab.dbsize(m)?, lab.dbsize(r)?);
        Ok(if a == b {
            Ok(())
        } else {
            Err(format!("master {a} keys, replica {b}"))
        })
    })
    .unwrap();
}

/// Wait until every running node reports `cluster_state:<want>`.
fn wait_state(lab: &Lab, want: &str) {
    lab.wait_until(&format!("cluster_state:{want}"), wait_long(), |lab| {
        for i in lab.running() {
            let s = lab.cluster_state(i)?;
            if s != want {
                return Ok(Err(format!("node {i}: {s}")));
            }
        }
        Ok(Ok(()))
    })
    .unwrap();
}

/// Wait until every running node shows `flag` (e.g. `fail`, `fail?`) on `target`; `flag`
/// `"down"` accepts either.
fn wait_flag(lab: &Lab, target: usize, flag: &str) {
    lab.wait_until(
        &format!("node {target} flagged {flag}"),
        wait_long(),
        |lab| {
            for i in lab.running() {
                let f = lab.flags_seen_by(i, target)?;
                let hit = if flag == "down" {
                    f.iter().any(|x| x == "fail" || x == "fail?")
                } else {
                    f.iter().any(|x| x == flag)
                };
                if !hit {
                    return Ok(Err(format!("node {i} shows {f:?}")));
                }
            }
            Ok(Ok(()))
        },
    )
    .unwrap();
}

fn step_args(plan: &FixPlan) -> Vec<Vec<String>> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.action {
            slotscope::fix::StepAction::Command { args, .. } => Some(args.clone()),
            _ => None,
        })
        .collect()
}

/// The failover plan that runs on replica `r`.
fn failover_on<'a>(lab: &Lab, plans: &'a [FixPlan], r: usize) -> &'a FixPlan {
    pick(plans, |p| {
        p.kind == PlanKind::Failover
            && p.steps
                .first()
                .is_some_and(|s| s.endpoint == lab.endpoint(r))
    })
}

#[test]
fn failover_force_on_a_replica_that_did_not_fail_over() {
    let mut lab = lab_with(1, 300);
    let m = lab.master_indices()[2];
    let r = lab.replicas_of(m)[0];
    lab.cmd(r, &["CONFIG", "SET", "cluster-replica-no-failover", "yes"])
        .unwrap();
    wait_replicated(&lab, m, r);
    lab.kill(m).unwrap();
    wait_flag(&lab, m, "fail");
    wait_state(&lab, "fail");
    // No automatic failover happened: the replica is still a replica, flagged nofailover.
    assert_eq!(lab.current_role(r).unwrap(), "slave");
    assert!(
        lab.flags_seen_by(0, r)
            .unwrap()
            .iter()
            .any(|f| f == "nofailover")
    );
    let rt = runtime();
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let (_, plans) = plan_all(&connector).await;
        let plan = failover_on(&lab, &plans, r).clone();
        assert_eq!(
            step_args(&plan)[0],
            ["CLUSTER", "FAILOVER", "FORCE"],
            "2 of 3 masters are alive: a vote can pass"
        );
        // The whole repair (fail over, then forget the old master) is the recommended plan;
        // the failover alone stays offered, and is what this test runs.
        let whole = pick(&plans, |p| p.kind == PlanKind::FailoverAndForget);
        assert!(whole.recommended && !plan.recommended);
        assert_eq!(whole.steps.first(), plan.steps.first());
        assert!(!plan.risk.loses_data);
        let executor = Executor::new(Arc::clone(&connector), None);
        let (outcome, events) = run(&executor, &plan).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        assert_whole(&lab, &connector).await;
    });
    assert_eq!(lab.current_role(r).unwrap(), "master");
    let back = lab.read_back();
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
}

#[test]
fn failover_takeover_without_a_majority_then_force() {
    let mut lab = lab_with(1, 300);
    let masters = lab.master_indices();
    let dead = [masters[1], masters[2]];
    let reps: Vec<usize> = dead.iter().map(|&m| lab.replicas_of(m)[0]).collect();
    for (&m, &r) in dead.iter().zip(&reps) {
        lab.cmd(r, &["CONFIG", "SET", "cluster-replica-no-failover", "yes"])
            .unwrap();
        wait_replicated(&lab, m, r);
    }
    for &m in &dead {
        lab.kill(m).unwrap();
    }
    // One master of three left: FAIL can never be agreed, the survivors stay down.
    for &m in &dead {
        wait_flag(&lab, m, "down");
    }
    wait_state(&lab, "fail");
    let rt = runtime();
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let executor = Executor::new(Arc::clone(&connector), None);
        let (_, plans) = plan_all(&connector).await;
        let first = failover_on(&lab, &plans, reps[0]).clone();
        assert_eq!(step_args(&first)[0], ["CLUSTER", "FAILOVER", "TAKEOVER"]);
        assert!(
            first
                .risk
                .notes
                .iter()
                .any(|n| n.contains("no vote can pass")),
            "the risk of TAKEOVER is explained: {:?}",
            first.risk.notes
        );
        let other = failover_on(&lab, &plans, reps[1]);
        assert_eq!(step_args(other)[0], ["CLUSTER", "FAILOVER", "TAKEOVER"]);
        let (outcome, events) = run(&executor, &first).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        // Two of three masters are alive now: the second promotion can be voted on.
        let (_, plans) = plan_all(&connector).await;
        let second = failover_on(&lab, &plans, reps[1]).clone();
        assert_eq!(step_args(&second)[0], ["CLUSTER", "FAILOVER", "FORCE"]);
        let (outcome, events) = run(&executor, &second).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        assert_whole(&lab, &connector).await;
    });
    let back = lab.read_back();
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
}

#[test]
fn full_coverage_off_serves_the_rest_and_is_reverted() {
    let (lab, report) = start(Scenario::DeletedSlots);
    let deleted = report.slots[0];
    let rt = runtime();
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let executor = Executor::new(Arc::clone(&connector), None);
        let (_, plans) = plan_all(&connector).await;
        let off = pick(&plans, |p| p.kind == PlanKind::CoverageOff).clone();
        assert!(!off.risk.loses_data);
        let (outcome, events) = run(&executor, &off).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        // Served slots answer again; the deleted ones still do not.
        wait_state(&lab, "ok");
        for i in lab.running() {
            let v = format!(
                "{:?}",
                lab.cmd(i, &["CONFIG", "GET", "cluster-require-full-coverage"])
                    .unwrap()
            );
            assert!(v.contains("no"), "node {i}: {v}");
        }
        let back = lab.read_back();
        let in_deleted =
            |k: &str| deleted.contains(slotscope::cluster::keyslot::key_slot(k.as_bytes()));
        let expected_missing = lab.written().keys().filter(|k| in_deleted(k)).count();
        assert!(expected_missing > 0);
        assert_eq!(
            back.missing.len(),
            expected_missing,
            "{:?}",
            back.missing.first()
        );
        assert!(back.missing.iter().all(|(k, _)| in_deleted(k)));
        // The revert is offered while the setting is off; fix the root cause first, then revert.
        let (_, plans) = plan_all(&connector).await;
        assert!(plans.iter().any(|p| p.kind == PlanKind::CoverageOn));
        let reclaim = pick(&plans, |p| {
            p.kind == PlanKind::ReclaimUncovered && !p.steps.is_empty()
        })
        .clone();
        let (outcome, events) = run(&executor, &reclaim).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        let (_, plans) = plan_all(&connector).await;
        let on = pick(&plans, |p| p.kind == PlanKind::CoverageOn).clone();
        assert!(on.recommended, "nothing is unserved any more");
        let (outcome, events) = run(&executor, &on).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        assert_whole(&lab, &connector).await;
        let (_, plans) = plan_all(&connector).await;
        assert!(
            !plans
                .iter()
                .any(|p| matches!(p.kind, PlanKind::CoverageOn | PlanKind::CoverageOff)),
            "{:?}",
            plans.iter().map(|p| &p.id).collect::<Vec<_>>()
        );
    });
    for i in lab.running() {
        let v = format!(
            "{:?}",
            lab.cmd(i, &["CONFIG", "GET", "cluster-require-full-coverage"])
                .unwrap()
        );
        assert!(v.contains("yes"), "node {i}: {v}");
    }
    let back = lab.read_back();
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
}

/// Put a copy of `key` with `value` on node `i` for a slot it is importing (ASKING first).
fn set_on_importing(lab: &Lab, i: usize, key: &str, value: &str) {
    let mut con = lab.connect(i).unwrap();
    let mut pipe = redis::pipe();
    pipe.cmd("ASKING").cmd("SET").arg(key).arg(value);
    let _: redis::Value = pipe.query(&mut con).unwrap();
}

/// The value of `key` stored on node `i` itself (`None` if absent; ASKING so an importing
/// node answers, and an ASK redirect from a migrating node means "not here").
fn get_on(lab: &Lab, i: usize, key: &str) -> Option<String> {
    let mut con = lab.connect(i).unwrap();
    let mut pipe = redis::pipe();
    pipe.cmd("ASKING").cmd("GET").arg(key);
    match pipe.query::<(redis::Value, Option<String>)>(&mut con) {
        Ok((_, v)) => v,
        Err(e) if e.to_string().contains("Ask") => None,
        Err(e) => panic!("GET {key} on node {i}: {e}"),
    }
}

/// A key of the open slot that is still on the source.
fn key_left_on_source(lab: &Lab, report: &ScenarioReport) -> (String, String) {
    let src = report.affected[0];
    let slot = report.slots[0].start;
    let key = lab
        .written_in_slot(slot)
        .into_iter()
        .find(|k| get_on(lab, src, k).is_some())
        .unwrap();
    let value = lab.written()[&key].clone();
    (key, value)
}

#[test]
fn busykey_with_different_values_stops_and_overwrites_nothing() {
    let (lab, report) = start(Scenario::InterruptedReshard);
    let (src, dst) = (report.affected[0], report.affected[1]);
    let (key, value) = key_left_on_source(&lab, &report);
    set_on_importing(&lab, dst, &key, "a different value");
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let executor = Executor::new(Arc::clone(&connector), Some(audit.clone()));
        let (_, plans) = plan_all(&connector).await;
        let plan = pick(&plans, |p| p.kind == PlanKind::CompleteMigration).clone();
        let (outcome, events) = run(&executor, &plan).await;
        let FixOutcome::Failed {
            error,
            done,
            not_done,
            ..
        } = &outcome
        else {
            panic!("expected a stop, got {outcome:?} {events:#?}");
        };
        assert!(error.contains("BUSYKEY") && error.contains(&key), "{error}");
        assert!(error.contains("nothing was overwritten"), "{error}");
        assert!(
            not_done.iter().any(|l| l.contains("failed")),
            "{not_done:?}"
        );
        assert!(
            not_done.iter().any(|l| l.contains("SETSLOT")),
            "binding is not done: {not_done:?}"
        );
        let _ = done;
        assert!(
            events
                .iter()
                .any(|e| matches!(e, FixEvent::StepFailed { .. }))
        );
        // Both copies are intact, and no REPLACE was ever sent.
        assert_eq!(get_on(&lab, src, &key).as_deref(), Some(value.as_str()));
        assert_eq!(
            get_on(&lab, dst, &key).as_deref(),
            Some("a different value")
        );
        let records = audit.read_all().unwrap();
        assert!(
            records.iter().all(|r| !r.command.contains("REPLACE")),
            "{records:#?}"
        );
        assert!(
            records.iter().any(|r| r.result.contains("BUSYKEY")),
            "{records:#?}"
        );

        // The engineer decides the source's copy is right and deletes the other; run again.
        let mut con = lab.connect(dst).unwrap();
        let mut pipe = redis::pipe();
        pipe.cmd("ASKING").cmd("DEL").arg(&key);
        let _: redis::Value = pipe.query(&mut con).unwrap();
        let (_, plans) = plan_all(&connector).await;
        let plan = pick(&plans, |p| p.kind == PlanKind::CompleteMigration).clone();
        let (outcome, events) = run(&executor, &plan).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        assert_whole(&lab, &connector).await;
    });
    let back = lab.read_back();
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
}

#[test]
fn busykey_with_identical_values_is_moved_with_replace() {
    let (lab, report) = start(Scenario::InterruptedReshard);
    let dst = report.affected[1];
    let (key, value) = key_left_on_source(&lab, &report);
    set_on_importing(&lab, dst, &key, &value);
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let executor = Executor::new(Arc::clone(&connector), Some(audit.clone()));
        let (_, plans) = plan_all(&connector).await;
        let plan = pick(&plans, |p| p.kind == PlanKind::CompleteMigration).clone();
        let (outcome, events) = run(&executor, &plan).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        let records = audit.read_all().unwrap();
        assert!(
            records.iter().any(|r| r.result.contains("BUSYKEY")),
            "{records:#?}"
        );
        let replaced: Vec<_> = records
            .iter()
            .filter(|r| r.command.contains("REPLACE"))
            .collect();
        assert_eq!(replaced.len(), 1, "{records:#?}");
        assert!(
            replaced[0].command.contains(&key),
            "{}",
            replaced[0].command
        );
        assert!(replaced[0].result.starts_with("ok"));
        assert_whole(&lab, &connector).await;
    });
    let back = lab.read_back();
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
    assert_eq!(
        lab.count_keys_in_slot(report.affected[0], report.slots[0].start)
            .unwrap(),
        0
    );
}

#[test]
fn ownership_dispute_resolved() {
    let mut lab = lab_with(0, 300);
    let m = lab.master_indices();
    let (a, b, c) = (m[0], m[1], m[2]);
    let slot = lab.initial_slots(a).unwrap().start + 42;
    lab.write_keys_in_slot(slot, 5).unwrap();
    let s = slot.to_string();
    let (a_id, b_id) = (lab.node_id(a).to_owned(), lab.node_id(b).to_owned());
    // Node c's view is frozen on a wrong owner: gossip never rebinds a slot that the receiver
    // imports, so c keeps believing b owns the slot.
    lab.cmd(c, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &a_id])
        .unwrap();
    lab.cmd(c, &["CLUSTER", "SETSLOT", &s, "NODE", &b_id])
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let owner_in_c = |lab: &Lab| {
        lab.cluster_nodes(c)
            .unwrap()
            .into_iter()
            .find(|p| p.owns(slot))
            .map(|p| p.id)
    };
    assert_eq!(
        owner_in_c(&lab).as_deref(),
        Some(b_id.as_str()),
        "the dispute persists"
    );
    assert_eq!(
        lab.cluster_nodes(a)
            .unwrap()
            .into_iter()
            .find(|p| p.owns(slot))
            .map(|p| p.id),
        Some(a_id.clone())
    );
    let rt = runtime();
    rt.block_on(async {
        let connector = Connector::shared(options(&lab, false));
        let executor = Executor::new(Arc::clone(&connector), None);
        let (model, plans) = plan_all(&connector).await;
        assert!(
            model
                .disagreements
                .iter()
                .any(|d| d.node.as_str() == lab.node_id(c)),
            "{:?}",
            model.disagreements
        );
        let plan = pick(&plans, |p| p.kind == PlanKind::ResolveDispute).clone();
        assert!(
            plan.nodes.iter().any(|n| n.as_str() == a_id),
            "owner listed"
        );
        assert!(
            plan.nodes.iter().any(|n| n.as_str() == lab.node_id(c)),
            "dissenter listed"
        );
        assert!(
            plan.risk
                .notes
                .iter()
                .any(|n| n.contains(&format!("slots {slot}"))),
            "{:?}",
            plan.risk.notes
        );
        // The stale importing marker that freezes c's view is cleared before the rebind.
        let args = step_args(&plan);
        let stable = args
            .iter()
            .position(|a| a == &["CLUSTER", "SETSLOT", s.as_str(), "STABLE"])
            .unwrap_or_else(|| panic!("{args:?}"));
        let bind = args
            .iter()
            .position(|a| a == &["CLUSTER", "SETSLOT", s.as_str(), "NODE", a_id.as_str()])
            .unwrap_or_else(|| panic!("{args:?}"));
        assert!(stable < bind, "{args:?}");
        let (outcome, events) = run(&executor, &plan).await;
        assert!(
            outcome.is_success(),
            "{outcome:?} {events:#?}\nplans: {plans:#?}"
        );
        assert_whole(&lab, &connector).await;
    });
    assert_eq!(owner_in_c(&lab).as_deref(), Some(a_id.as_str()));
    let back = lab.read_back();
    assert!(back.all_readable(), "keys lost: {:?}", back.missing);
}

#[test]
fn node_dying_mid_migration_leaves_a_clear_report() {
    let mut lab = lab_with(0, 200);
    let masters = lab.master_indices();
    let (src, dst) = (masters[0], masters[1]);
    let slot = lab.initial_slots(src).unwrap().start + 500;
    lab.write_keys_in_slot(slot, 3000).unwrap();
    let s = slot.to_string();
    let (src_id, dst_id) = (lab.node_id(src).to_owned(), lab.node_id(dst).to_owned());
    lab.cmd(dst, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &src_id])
        .unwrap();
    lab.cmd(src, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &dst_id])
        .unwrap();
    // The reshard had started: a first batch of keys is on the target already.
    let first: Vec<String> = lab.written_in_slot(slot).into_iter().take(10).collect();
    let port = lab.endpoint(dst).port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
    args.extend(first.iter().map(String::as_str));
    lab.cmd(src, &args).unwrap();
    let dst_range = lab.initial_slots(dst).unwrap();
    let lab = Arc::new(std::sync::Mutex::new(lab));
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    let connector = Connector::shared(options(&lab.lock().unwrap(), false));
    let executor = Executor::new(Arc::clone(&connector), Some(audit.clone()));
    let plan = rt.block_on(async {
        let (_, plans) = plan_all(&connector).await;
        pick(&plans, |p| p.kind == PlanKind::CompleteMigration).clone()
    });
    assert!(plan.risk.keys_to_move >= 2900, "{:?}", plan.risk);
    let mig_step = plan
        .steps
        .iter()
        .position(|s| matches!(s.action, slotscope::fix::StepAction::MigrateSlotKeys { .. }))
        .unwrap()
        + 1;
    // Kill the target as soon as the first batch has moved (capacity 1: the executor cannot
    // run far ahead of this observer).
    let (outcome, events) = rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        let killer = Arc::clone(&lab);
        let collector = tokio::spawn(async move {
            let mut v = Vec::new();
            let mut killed = false;
            while let Some(e) = rx.recv().await {
                if !killed && matches!(e, FixEvent::KeysMoved { .. }) {
                    killer.lock().unwrap().kill(dst).unwrap();
                    killed = true;
                }
                v.push(e);
            }
            v
        });
        let outcome = executor.execute(&plan, &tx).await;
        drop(tx);
        (outcome, collector.await.unwrap())
    });
    let FixOutcome::Failed {
        step,
        error,
        done,
        not_done,
    } = &outcome
    else {
        panic!("expected a failed step, got {outcome:?}");
    };
    // The report says which step failed, why, how many keys had moved, and what is left.
    assert_eq!(*step, mig_step, "{error}");
    assert!(
        error.contains("MIGRATE") && error.contains("key(s) moved before"),
        "{error}"
    );
    assert_eq!(done.len(), mig_step - 1, "{done:?}");
    assert!(not_done[0].contains("failed:"), "{not_done:?}");
    assert_eq!(
        not_done.len(),
        plan.steps.len() - mig_step + 1,
        "{not_done:?}"
    );
    assert!(
        not_done
            .iter()
            .any(|l| l.contains("SETSLOT") && l.contains("NODE")),
        "{not_done:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, FixEvent::StepFailed { .. }))
    );
    let moved_events: u64 = events
        .iter()
        .filter_map(|e| match e {
            FixEvent::KeysMoved { batch, .. } => Some(*batch),
            _ => None,
        })
        .sum();
    assert!(moved_events > 0 && moved_events < 3000, "{moved_events}");
    let records = audit.read_all().unwrap();
    assert!(
        records
            .last()
            .is_some_and(|r| r.result.starts_with("error")),
        "{records:#?}"
    );

    // Bring the target back (empty: the lab keeps no data on disk) and finish the move.
    let mut guard = lab.lock().unwrap();
    let in_slot = guard.written_in_slot(slot).len();
    let left_on_src = usize::try_from(guard.count_keys_in_slot(src, slot).unwrap()).unwrap();
    let moved_and_lost = in_slot - left_on_src;
    let lost_expected = guard
        .written()
        .keys()
        .filter(|k| dst_range.contains(slotscope::cluster::keyslot::key_slot(k.as_bytes())))
        .count()
        + moved_and_lost;
    assert!(moved_and_lost > 0);
    guard.restart(dst).unwrap();
    let lab = guard;
    lab.wait_until("every node ok again", wait_long(), |lab| {
        for i in lab.running() {
            let st = lab.cluster_state(i)?;
            if st != "ok" {
                return Ok(Err(format!("node {i}: {st}")));
            }
        }
        Ok(Ok(()))
    })
    .unwrap();
    rt.block_on(async {
        let (_, plans) = plan_all(&connector).await;
        // The target lost what it had, so no key may be split any more: closing the slot
        // on the source (or completing, if offered) keeps every surviving key.
        let plan = pick(&plans, |p| {
            matches!(
                p.kind,
                PlanKind::CompleteMigration | PlanKind::StabiliseSlot
            )
        })
        .clone();
        let (outcome, events) = run(&executor, &plan).await;
        assert!(outcome.is_success(), "{outcome:?} {events:#?}");
        assert_whole(&lab, &connector).await;
    });
    let back = lab.read_back();
    assert_eq!(
        back.missing.len(),
        lost_expected,
        "{:?}",
        back.missing.first()
    );
}
