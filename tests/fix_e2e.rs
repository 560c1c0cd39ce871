//! End to end: break a real local cluster, take slotscope's plan, execute it, and prove the
//! cluster is whole again — every node `cluster_state:ok`, 16384 slots served, no open slot,
//! all views agree, and every key written before the fault reads back (except losses the plan
//! declared and the user accepted, counted exactly).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::{SLOT_COUNT, diagnose};
use slotscope::fix::audit::AuditLog;
use slotscope::fix::executor::{Executor, FixEvent, FixOutcome};
use slotscope::fix::{FixPlan, PlanKind, plan_fixes};
use slotscope::lab::{Lab, LabOptions, Scenario, ScenarioReport};
use slotscope::refresh::{ConnectOptions, Connector, Secret, observe_once};
use tokio::sync::mpsc;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn options(lab: &Lab, read_only: bool) -> ConnectOptions {
    let mut o = ConnectOptions::new(lab.endpoints());
    o.password = lab.password().map(Secret::new);
    o.command_timeout = Duration::from_secs(3);
    o.read_only = read_only;
    o
}

fn start(s: Scenario) -> (Lab, ScenarioReport) {
    let base = LabOptions {
        keys: 300,
        node_timeout_ms: 1500,
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

fn pick<'a>(plans: &'a [FixPlan], pred: impl Fn(&FixPlan) -> bool) -> &'a FixPlan {
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
    let (lab, report) = start(s);
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
        plan
    })
}

#[test]
fn interrupted_reshard_completed() {
    let plan = repair_without_loss(Scenario::InterruptedReshard, |p| {
        p.kind == PlanKind::CompleteMigration
    });
    assert!(plan.recommended, "the markers' intent is to complete");
    assert!(plan.risk.keys_to_move > 0);
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
            let slot = slotscope::lab::keyslot::key_slot(k.as_bytes());
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
        let n = report.slots.iter().map(|r| r.len()).sum::<usize>();
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
        assert!(forget.nodes.iter().any(|id| id.0 == lab.node_id(dead)));
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
        let before: Vec<u64> = lab
            .running()
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
        let after: Vec<u64> = lab
            .running()
            .iter()
            .map(|&i| lab.count_keys_in_slot(i, plan.slots[0].start).unwrap())
            .collect();
        assert_eq!(before, after);
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
