//! End to end: after a successful repair, the dashboard's header reaches `OK` within two
//! refreshes whenever `slotscope check` exits 0 on the same cluster.
//!
//! Each test breaks a real local cluster, observes it the way the dashboard does (every lab
//! node given as a seed, as `slotscope demo` does, each cycle fed the previous snapshot),
//! applies the plans through the library's executor on the dashboard's own connection pool,
//! then waits until a fresh `check` (one live node as seed, no previous snapshot) exits 0 and
//! runs two more dashboard cycles: the second one's verdict must start with `OK`.
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use common::cluster::{options_with_seeds as options, runtime};
use std::sync::Arc;
use std::time::Duration;

use slotscope::cluster::diagnose::{self, Finding, verdict};
use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::types::ClusterSnapshot;
use slotscope::commands::ExitCode;
use slotscope::commands::check::exit_code;
use slotscope::fix::audit::AuditLog;
use slotscope::fix::executor::Executor;
use slotscope::fix::{FixPlan, PlanKind, plan_fixes};
use slotscope::lab::{Lab, LabOptions, Scenario};
use slotscope::refresh::{Connector, observe_once};
use tokio::sync::mpsc;

/// How long `check` may take to exit 0 after the repair (gossip settling), at most.
const SETTLE: Duration = Duration::from_secs(45);

/// The dashboard's refresh cycles: one pool, each cycle fed the previous snapshot.
struct Dashboard {
    connector: Arc<Connector>,
    previous: Option<ClusterSnapshot>,
}

/// What one cycle put on screen.
struct Screen {
    model: ClusterModel,
    findings: Vec<Finding>,
    verdict: String,
}

impl Dashboard {
    fn new(lab: &Lab) -> Self {
        Self {
            connector: Connector::shared(options(lab, lab.endpoints())),
            previous: None,
        }
    }

    async fn cycle(&mut self) -> Screen {
        let snap = match observe_once(&self.connector, self.previous.as_ref()).await {
            Ok(s) => s,
            Err(e) => e.snapshot,
        };
        let model = ClusterModel::build(&snap);
        let findings = diagnose::diagnose(&model);
        let verdict = verdict(&model, &findings);
        self.previous = Some(snap);
        Screen {
            model,
            findings,
            verdict,
        }
    }
}

/// `slotscope check` with one running node as the seed: its exit code and its findings.
async fn check(lab: &Lab) -> (ExitCode, Vec<String>) {
    let seed = lab.running()[0];
    let connector = Connector::new(options(lab, vec![lab.endpoint(seed)]));
    let Ok(snap) = observe_once(&connector, None).await else {
        return (ExitCode::UNOBSERVABLE, Vec::new());
    };
    let model = ClusterModel::build(&snap);
    let findings = diagnose::diagnose(&model);
    let words = findings
        .iter()
        .map(|f| format!("{}: {}", f.severity.label(), f.summary))
        .collect();
    (exit_code(&findings), words)
}

async fn execute(dash: &Dashboard, plan: &FixPlan) {
    let (tx, mut rx) = mpsc::channel(64);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("audit.jsonl"));
    let executor = Executor::new(Arc::clone(&dash.connector), Some(audit));
    let outcome = executor.execute(plan, &tx).await;
    drop(tx);
    drain.await.unwrap();
    assert!(outcome.is_success(), "plan {} ended {outcome:?}", plan.id);
}

/// The plan of `kind` the dashboard offers now (the recommended one when there are several).
async fn offered(dash: &mut Dashboard, kind: PlanKind) -> FixPlan {
    let screen = dash.cycle().await;
    let plans = plan_fixes(&screen.model, &screen.findings);
    let mut matching: Vec<&FixPlan> = plans.iter().filter(|p| p.kind == kind).collect();
    matching.sort_by_key(|p| !p.recommended);
    matching.first().map_or_else(
        || {
            panic!(
                "no {kind:?} plan among {:?}; verdict {}",
                plans.iter().map(|p| &p.id).collect::<Vec<_>>(),
                screen.verdict
            )
        },
        |p| (*p).clone(),
    )
}

/// Break `scenario`, apply the plans of `kinds` in order as the dashboard offers them, then
/// assert convergence.
fn repair_then_converge(scenario: Scenario, replicas: usize, kinds: &[PlanKind]) {
    let base = LabOptions {
        keys: 300,
        node_timeout_ms: 1500,
        replicas_per_master: replicas,
        ..LabOptions::default()
    };
    let (lab, report) = scenario
        .start(base)
        .unwrap_or_else(|e| panic!("scenario {scenario} did not start: {e}"));
    runtime().block_on(async {
        let mut dash = Dashboard::new(&lab);
        let before = dash.cycle().await;
        assert!(
            !before.verdict.starts_with("OK"),
            "{report}: nothing to repair? {}",
            before.verdict
        );
        for kind in kinds {
            let plan = offered(&mut dash, *kind).await;
            execute(&dash, &plan).await;
        }
        assert_converges(&lab, &mut dash, &report.to_string()).await;
    });
}

/// Once `check` has settled (it exits 0, or all it still reports is a master left without a
/// replica by the scenario itself), the dashboard's second refresh says what `check` says: the
/// same warnings and criticals, and `OK` when `check` exits 0.
async fn assert_converges(lab: &Lab, dash: &mut Dashboard, what: &str) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    let (code, words) = loop {
        let (code, words) = check(lab).await;
        let settled = words
            .iter()
            .all(|w| w.starts_with("info") || w.contains("with no replica"));
        if code == ExitCode::OK || settled {
            break (code, words);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: check did not settle after the repair: {words:#?}"
        );
        // The dashboard keeps refreshing meanwhile.
        let _ = dash.cycle().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let first = dash.cycle().await;
    let second = dash.cycle().await;
    let serious = |w: &[String]| {
        let mut v: Vec<String> = w
            .iter()
            .filter(|w| !w.starts_with("info"))
            .cloned()
            .collect();
        v.sort();
        v
    };
    let shown: Vec<String> = second
        .findings
        .iter()
        .map(|f| format!("{}: {}", f.severity.label(), f.summary))
        .collect();
    assert_eq!(
        serious(&shown),
        serious(&words),
        "{what}: after two refreshes the dashboard says {:?} (first: {:?}) while check says \
         {words:#?}",
        second.verdict,
        first.verdict,
    );
    if code == ExitCode::OK {
        assert!(
            second.verdict.starts_with("OK"),
            "{what}: check exits 0 but the dashboard says {:?} after two refreshes (first: \
             {:?})",
            second.verdict,
            first.verdict
        );
    }
}

#[test]
fn forget_after_failover_turns_green() {
    // Two replicas: the promoted one still has a replica, so `check` exits 0.
    repair_then_converge(Scenario::DeadMasterFailover, 2, &[PlanKind::Forget]);
}

#[test]
fn reassign_then_forget_of_a_dead_master_turns_green() {
    repair_then_converge(
        Scenario::DeadMasterNoReplica,
        1,
        &[PlanKind::ReassignSlots, PlanKind::Forget],
    );
}

#[test]
fn completed_migration_turns_green() {
    repair_then_converge(
        Scenario::InterruptedReshard,
        1,
        &[PlanKind::CompleteMigration],
    );
}

#[test]
fn rolled_back_migration_turns_green() {
    repair_then_converge(
        Scenario::InterruptedReshard,
        1,
        &[PlanKind::RollBackMigration],
    );
}

#[test]
fn stabilised_slot_turns_green() {
    repair_then_converge(Scenario::MigratingOnly, 1, &[PlanKind::StabiliseSlot]);
    repair_then_converge(Scenario::ImportingOnly, 1, &[PlanKind::StabiliseSlot]);
}

#[test]
fn reclaimed_slots_turn_green() {
    repair_then_converge(Scenario::DeletedSlots, 1, &[PlanKind::ReclaimUncovered]);
}

/// The forgotten master has no replica (the scenario's topology): `check` keeps that warning,
/// and so does the dashboard, nothing more.
#[test]
fn met_node_converges() {
    repair_then_converge(Scenario::NodeMustRejoin, 1, &[PlanKind::Meet]);
}
