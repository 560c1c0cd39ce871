//! End to end: the fix flow of the dashboard. The real binary runs in a real terminal (tmux,
//! 80x24) against a real local cluster with a slot move interrupted halfway. The test presses
//! the keys an engineer would (`:slot N`, `x`, Enter on the recommended plan, Tab to Run,
//! Enter), then proves on the servers themselves that the slot is no longer open anywhere and
//! that every key written before the fault reads back, and that the screen shows the
//! verification.

mod common;

use std::time::Duration;

use slotscope::lab::{LabOptions, Scenario};

use common::tmux::Tmux;

#[test]
fn interrupted_reshard_is_fixed_from_the_dashboard() {
    let (lab, report) = Scenario::InterruptedReshard
        .start(LabOptions {
            replicas_per_master: 0,
            keys: 300,
            node_timeout_ms: 1500,
            ..LabOptions::default()
        })
        .expect("lab cluster starts and breaks");
    let slot = report.slots.first().expect("the open slot").start;
    let before = lab.read_back();
    assert!(
        before.written > 0,
        "the lab wrote keys before the fault: {before:?}"
    );
    let open_on = |lab: &slotscope::lab::Lab| -> Vec<String> {
        lab.running()
            .into_iter()
            .flat_map(|i| {
                lab.cluster_nodes(i)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|l| l.has_flag("myself"))
                    .flat_map(|l| l.markers)
                    .map(move |m| format!("node {i}: {m}"))
            })
            .collect()
    };
    assert!(!open_on(&lab).is_empty(), "the slot is open before the fix");

    let state = tempfile::tempdir().expect("temp dir");
    let seed = lab.endpoint(lab.master_indices()[0]).to_string();
    let bin = common::BIN;
    let session = format!("slotscope-fix-e2e-{}", std::process::id());
    let t = Tmux::start(
        &session,
        80,
        24,
        &format!(
            "env XDG_STATE_HOME={} {bin} {seed} --interval 1",
            state.path().display()
        ),
    );
    t.wait_for(
        "the dashboard to report the open slot",
        Duration::from_secs(30),
        |s| s.contains(&format!("lot {slot}")),
    );

    // Select the slot on the heatmap and ask for its fixes.
    t.keys(":");
    t.literal(&format!("slot {slot}"));
    t.keys("Enter");
    t.keys("x");
    // The chooser of the slot's own finding.
    let screen = t.wait_for("the fix dialog", Duration::from_secs(5), |s| {
        s.contains(&format!("FIX · Slot {slot}"))
    });
    // Complete vs roll back: a chooser with the recommended plan marked; Enter shows it.
    if screen.contains("★ = recommended") {
        assert!(screen.contains('★'), "{screen}");
        t.keys("Enter");
    }
    let screen = t.wait_for("the confirmation", Duration::from_secs(5), |s| {
        s.contains("redis-cli -h 127.0.0.1 -p ")
    });
    println!("confirmation at 80x24:\n{screen}");
    assert!(
        screen.contains("▸[ Cancel ]◂"),
        "focus starts on Cancel:\n{screen}"
    );
    assert!(screen.contains("RISK"), "{screen}");
    t.keys("Tab");
    t.wait_for("Run focused", Duration::from_secs(5), |s| {
        s.contains("▸[ Run ]◂")
    });
    t.keys("Enter");
    let screen = t.wait_for("the verification result", Duration::from_secs(90), |s| {
        s.contains("VERIFIED") || s.contains('✗')
    });
    println!("result at 80x24:\n{screen}");
    assert!(
        screen.contains("DONE AND VERIFIED") && screen.contains("the finding is gone"),
        "the fix did not verify:\n{screen}"
    );

    // On the servers themselves: no marker anywhere, every key reads back.
    let markers = open_on(&lab);
    assert!(markers.is_empty(), "slot still open: {markers:?}");
    let after = lab.read_back();
    assert!(after.all_readable(), "keys lost or unreadable: {after:?}");
    assert_eq!(after.written, before.written);
    for i in lab.running() {
        assert_eq!(
            lab.cluster_state(i).ok().as_deref(),
            Some("ok"),
            "node {i} is not ok"
        );
    }
    // Every write went to the audit log under the state directory.
    let audit = state.path().join("slotscope").join("audit.jsonl");
    let log = std::fs::read_to_string(&audit).unwrap_or_default();
    assert!(
        log.lines().count() >= 2,
        "audit log {} has too few records:\n{log}",
        audit.display()
    );

    // The dialog closes and the dashboard is live again; q quits.
    t.keys("Enter");
    t.wait_for("the dialog to close", Duration::from_secs(5), |s| {
        !s.contains("FIX ·")
    });
    t.keys("q");
    assert!(
        t.wait_exit(Duration::from_secs(5)),
        "slotscope did not exit on q"
    );
    drop(lab);
}

/// Quitting the dashboard while a fix runs abandons it *after the step under way*: on a real
/// cluster with a slot move interrupted halfway, the completion plan is stopped while its
/// first step runs. The first step finishes, no later step reaches any server (the slot stays
/// open, the audit log holds only step 1's writes), and the outcome lists what ran and what
/// did not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoning_a_fix_stops_it_before_its_next_step() {
    use std::sync::Arc;

    use slotscope::cluster::{ClusterModel, diagnose};
    use slotscope::fix::executor::StopRequest;
    use slotscope::fix::{AuditLog, Executor, FixEvent, FixOutcome, PlanKind, plan_fixes};
    use slotscope::refresh::{ConnectOptions, Connector, observe_once};

    let (lab, report) = tokio::task::spawn_blocking(|| {
        Scenario::InterruptedReshard
            .start(LabOptions {
                replicas_per_master: 0,
                keys: 300,
                node_timeout_ms: 1500,
                ..LabOptions::default()
            })
            .expect("lab cluster starts and breaks")
    })
    .await
    .expect("join");
    let slot = report.slots.first().expect("the open slot").start;
    let connector = Arc::new(Connector::new(ConnectOptions::new(lab.endpoints())));
    let snap = observe_once(&connector, None).await.expect("observe");
    let model = ClusterModel::build(&snap);
    let plan = plan_fixes(&model, &diagnose(&model))
        .into_iter()
        .find(|p| p.kind == PlanKind::CompleteMigration && p.slots.iter().any(|r| r.contains(slot)))
        .expect("a plan completing the move");
    assert!(plan.steps.len() >= 3, "a multi-step plan: {plan:#?}");

    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.jsonl");
    let ex = Arc::new(Executor::new(
        Arc::clone(&connector),
        Some(AuditLog::new(&audit)),
    ));
    // Capacity 1: the executor cannot run ahead of what this test has read.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let stop = StopRequest::default();
    let run = {
        let (ex, plan, stop) = (Arc::clone(&ex), plan.clone(), stop.clone());
        tokio::spawn(async move { ex.execute_stoppable(&plan, &tx, &stop).await })
    };
    loop {
        match rx.recv().await {
            Some(FixEvent::PreconditionsHold) => break,
            Some(FixEvent::Finished(o)) => panic!("finished before any step: {o:?}"),
            Some(_) => {}
            None => panic!("the executor went away"),
        }
    }
    // Once step 1 has been announced (its event waits in the channel), the executor is past
    // its check for step 1: stop now, as a second Ctrl-C would.
    while rx.is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    stop.request();
    let mut events = Vec::new();
    while let Some(ev) = rx.recv().await {
        events.push(ev);
    }
    let outcome = run.await.expect("the executor task");
    let FixOutcome::Failed {
        step,
        error,
        done,
        not_done,
    } = &outcome
    else {
        panic!("expected an abandoned run, got {outcome:?}\nevents: {events:#?}");
    };
    assert_eq!(*step, 2, "{outcome:?}");
    assert!(error.contains("abandoned"), "{error}");
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(not_done.len(), plan.steps.len() - 1, "{not_done:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, FixEvent::StepDone { n: 1, .. })),
        "step 1 finished: {events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, FixEvent::StepStarted { n: 2, .. })),
        "step 2 never started: {events:#?}"
    );
    // On the servers: the slot is still open (the SETSLOT steps were not sent), and every
    // audited write belongs to step 1.
    let lab = Arc::new(lab);
    let l2 = Arc::clone(&lab);
    let still_open = tokio::task::spawn_blocking(move || {
        l2.running().into_iter().any(|i| {
            l2.cluster_nodes(i)
                .unwrap_or_default()
                .into_iter()
                .filter(|l| l.has_flag("myself"))
                .any(|l| !l.markers.is_empty())
        })
    })
    .await
    .expect("join");
    assert!(still_open, "the later steps must not have run");
    let log = AuditLog::new(&audit).read_all().unwrap_or_default();
    let step1 = &plan.steps[0];
    for r in &log {
        assert_eq!(r.step, 1, "only step 1 wrote: {r:?}");
        assert_eq!(r.node, step1.endpoint.to_string(), "{r:?}");
    }
    drop(tokio::task::spawn_blocking(move || drop(lab)).await);
}
