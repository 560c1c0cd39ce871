//! End to end: a healthy live reshard (`redis-cli --cluster reshard`, the system's redis-cli,
//! against a lab cluster on 127.0.0.1) is progress, not an incident. Observed the way the
//! dashboard observes (each cycle fed the previous snapshot) twice a second while it runs: no
//! observation gives a warning or critical `OpenSlot` finding for a moving slot or a verdict
//! other than `OK`, a `ReshardInProgress` finding appears, and no complete / roll back / close
//! plan is offered for a moving slot.
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use slotscope::cluster::diagnose::{self, FindingKind, Severity, verdict};
use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::types::ClusterSnapshot;
use slotscope::fix::{PlanKind, plan_fixes};
use slotscope::lab::{Lab, LabOptions};
use slotscope::refresh::{ConnectOptions, Connector, observe_once};

/// Slots the reshard moves.
const SLOTS: usize = 2000;

/// Observations of the cluster while `redis-cli` moves slots.
#[derive(Default)]
struct Seen {
    observations: usize,
    /// Observations with a slot open that the progress calls moving.
    with_moving_slot: usize,
    progress_findings: usize,
    /// Every problem found: warning or critical open-slot findings for moving slots, plans
    /// offered for moving slots, verdicts other than `OK`.
    problems: Vec<String>,
    verdicts: Vec<String>,
}

fn look(snap: &ClusterSnapshot, seen: &mut Seen) {
    let model = ClusterModel::build(snap);
    let findings = diagnose::diagnose(&model);
    let plans = plan_fixes(&model, &findings);
    let v = verdict(&model, &findings);
    seen.observations += 1;
    let moving: Vec<u16> = model
        .open_slots
        .iter()
        .map(|o| o.slot)
        .filter(|s| model.progress.is_moving(*s))
        .collect();
    if !moving.is_empty() {
        seen.with_moving_slot += 1;
    }
    for f in &findings {
        if f.kind == FindingKind::ReshardInProgress {
            seen.progress_findings += 1;
        }
        let on_moving = f
            .slots
            .iter()
            .any(|r| moving.iter().any(|s| r.contains(*s)));
        if f.kind == FindingKind::OpenSlot && f.severity > Severity::Info && on_moving {
            seen.problems.push(format!("finding: {}", f.summary));
        }
    }
    for p in &plans {
        let slot_plan = matches!(
            p.kind,
            PlanKind::CompleteMigration | PlanKind::RollBackMigration | PlanKind::StabiliseSlot
        );
        if slot_plan
            && p.slots
                .iter()
                .any(|r| moving.iter().any(|s| r.contains(*s)))
        {
            seen.problems.push(format!("plan offered: {}", p.id));
        }
    }
    if v.contains("half-moved") {
        seen.problems.push(format!("verdict: {v}"));
    }
    if !v.starts_with("OK") {
        seen.problems.push(format!(
            "verdict: {v}; findings {:?}",
            findings
                .iter()
                .map(|f| (f.kind, f.severity, &f.slots))
                .collect::<Vec<_>>()
        ));
    }
    seen.verdicts.push(v);
}

#[test]
fn a_live_reshard_is_progress_not_an_incident() {
    let lab = Lab::start(LabOptions {
        keys: 20_000,
        ..LabOptions::default()
    })
    .unwrap();
    let masters = lab.master_indices();
    let (from, to) = (masters[0], masters[1]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut opts = ConnectOptions::new(lab.endpoints());
        opts.command_timeout = Duration::from_secs(3);
        let connector = Arc::new(Connector::new(opts));
        let mut previous = observe_once(&connector, None).await.unwrap();
        let before = ClusterModel::build(&previous);
        let v = verdict(&before, &diagnose::diagnose(&before));
        assert!(v.starts_with("OK"), "{v}");

        let ep = lab.endpoint(from);
        let mut child = Command::new("redis-cli")
            .args([
                "--cluster",
                "reshard",
                &ep.to_string(),
                "--cluster-from",
                lab.node_id(from),
                "--cluster-to",
                lab.node_id(to),
                "--cluster-slots",
                &SLOTS.to_string(),
                "--cluster-yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("redis-cli runs");
        let mut seen = Seen::default();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the reshard did not end"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
            let snap = match observe_once(&connector, Some(&previous)).await {
                Ok(s) => s,
                Err(e) => e.snapshot,
            };
            look(&snap, &mut seen);
            previous = snap;
        };
        assert!(status.success(), "redis-cli --cluster reshard failed");

        assert!(
            seen.problems.is_empty(),
            "during the reshard ({} observations): {:#?}",
            seen.observations,
            seen.problems
        );
        assert!(
            seen.progress_findings > 0,
            "no progress finding in {} observations ({} with a moving slot); verdicts: {:#?}",
            seen.observations,
            seen.with_moving_slot,
            seen.verdicts
        );

        // After it: the slots are where redis-cli put them, nothing is open, the flow is done.
        let after = observe_once(&connector, Some(&previous)).await.unwrap();
        let m = ClusterModel::build(&after);
        assert!(m.open_slots.is_empty(), "{:?}", m.open_slots);
        let flow = m
            .progress
            .flows
            .iter()
            .find(|f| f.source.as_str() == lab.node_id(from))
            .unwrap_or_else(|| panic!("no flow in {:?}", m.progress));
        assert_eq!(flow.target.as_str(), lab.node_id(to));
        assert!(
            flow.slots_moved >= (SLOTS as u64) * 9 / 10,
            "{} slots counted of {SLOTS}",
            flow.slots_moved
        );
        assert!(flow.keys_moved > 0);
    });
}
