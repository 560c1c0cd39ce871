//! Fix flows in the app: no terminal, no Redis. Captured `CLUSTER NODES` texts go through the
//! real parser, model, diagnosis and planner; keys are pressed; modes, effects, the typed-word
//! gate and the dialog's text are asserted.

use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::color::ColorDepth;
use crate::app::*;
use crate::cluster::synthetic::snapshot_from_texts;
use crate::cluster::{ClusterSnapshot, FindingKind, ProbeError};
use crate::fix::{Confirmation, FixEvent, FixOutcome, PlanKind};
use crate::ui::screen;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn refused() -> ProbeError {
    ProbeError::ConnectFailed("Connection refused (os error 111)".into())
}

/// Slot 100 half-moved (both sides marked), slot 200 migrating only, slot 6000 importing only.
/// Every node of `s` counted, holding no key (a plain "yes" needs measured counts).
fn counted(mut s: ClusterSnapshot) -> ClusterSnapshot {
    for o in &mut s.observations {
        if let Ok(r) = &mut o.result {
            r.census = Some(crate::cluster::census::NodeCensus::default());
        }
    }
    s
}

fn open_slots() -> ClusterSnapshot {
    let (a, b, c) = (
        fixture("open_slots_nodes_31000"),
        fixture("open_slots_nodes_31001"),
        fixture("open_slots_nodes_31002"),
    );
    counted(snapshot_from_texts(&[
        ("127.0.0.1:31000", Ok(a.as_str())),
        ("127.0.0.1:31001", Ok(b.as_str())),
        ("127.0.0.1:31002", Ok(c.as_str())),
    ]))
}

/// Master 127.0.0.1:31001 and its replica are down: restart advice vs reassigning its slots.
fn master_down() -> ClusterSnapshot {
    let (a, a2, c2) = (
        fixture("master_down_nodes_31000"),
        fixture("master_down_nodes_31003"),
        fixture("master_down_nodes_31005"),
    );
    snapshot_from_texts(&[
        ("127.0.0.1:31000", Ok(a.as_str())),
        ("127.0.0.1:31001", Err(refused())),
        ("127.0.0.1:31003", Ok(a2.as_str())),
        ("127.0.0.1:31004", Err(refused())),
        ("127.0.0.1:31005", Ok(c2.as_str())),
    ])
}

fn app(snap: ClusterSnapshot, read_only: bool) -> App {
    let at = snap.finished_at_ms;
    let mut a = App::new(ColorDepth::Ansi16, Duration::from_secs(1), read_only, None);
    a.on_resize(80, 24);
    a.on_snapshot(Arc::new(snap));
    a.on_tick(at + 1000);
    a
}

fn key(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(app: &mut App, c: char) -> Option<Effect> {
    key(app, KeyCode::Char(c))
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        assert_eq!(ch(app, c), None, "typing {c:?} must not act");
    }
}

fn dialog(app: &App) -> &FixDialog {
    app.fix.as_ref().expect("the fix dialog is open")
}

fn select_finding(app: &mut App, kind: FindingKind) {
    ch(app, '3');
    let i = app
        .findings()
        .iter()
        .position(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} finding"));
    for _ in 0..i {
        key(app, KeyCode::Down);
    }
    assert_eq!(app.findings()[app.finding_cursor].kind, kind);
}

#[test]
fn x_on_a_slot_opens_its_plan_with_focus_on_cancel() {
    let mut a = app(open_slots(), false);
    a.jump_to_slot(200);
    assert_eq!(ch(&mut a, 'x'), None);
    assert_eq!(a.mode, Mode::Fix);
    let d = dialog(&a);
    assert_eq!(
        d.stage,
        FixStage::Choose,
        "x always opens the chooser, even for one plan"
    );
    assert_eq!(d.plan().map(|p| p.id.as_str()), Some("stabilise-slot-200"));
    assert!(d.plan().is_some_and(|p| p.recommended));
    assert!(screen(&a).contains("FIX · Slot 200"), "{}", screen(&a));
    // Enter shows the plan, focus on Cancel.
    assert_eq!(key(&mut a, KeyCode::Enter), None);
    let d = dialog(&a);
    assert_eq!(d.stage, FixStage::Confirm);
    assert_eq!(d.focus, DialogButton::Cancel);
    let s = screen(&a);
    assert!(
        s.contains("redis-cli -h 127.0.0.1 -p 31000 CLUSTER SETSLOT 200 STABLE"),
        "{s}"
    );
    assert!(s.contains("RISK"), "{s}");
    assert!(s.contains("▸[ Cancel ]◂"), "{s}");
    // Enter on Cancel goes back to the chooser, nothing runs; Esc there closes.
    assert_eq!(key(&mut a, KeyCode::Enter), None);
    assert_eq!(dialog(&a).stage, FixStage::Choose);
    assert_eq!(key(&mut a, KeyCode::Esc), None);
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.fix.is_none());
}

#[test]
fn esc_goes_back_one_level() {
    let mut a = app(open_slots(), false);
    a.jump_to_slot(200);
    ch(&mut a, 'x');
    key(&mut a, KeyCode::Enter);
    typed(&mut a, "");
    assert_eq!(dialog(&a).stage, FixStage::Confirm);
    // Esc in a plan: back to the chooser, the cursor still on that plan.
    assert_eq!(key(&mut a, KeyCode::Esc), None);
    assert_eq!(a.mode, Mode::Fix);
    assert_eq!(dialog(&a).stage, FixStage::Choose);
    assert_eq!(
        dialog(&a).plan().map(|p| p.id.as_str()),
        Some("stabilise-slot-200")
    );
    // Esc in the chooser: back to the dashboard.
    assert_eq!(key(&mut a, KeyCode::Esc), None);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn x_from_any_pane_opens_the_most_severe_finding_with_one_recommendation() {
    let snap = master_down();
    let mut seen = Vec::new();
    for pane in ['1', '2', '3', '4', '5'] {
        let mut a = app(snap.clone(), false);
        ch(&mut a, pane);
        assert_eq!(ch(&mut a, 'x'), None);
        assert_eq!(a.mode, Mode::Fix, "x in pane {pane}");
        let d = dialog(&a);
        assert_eq!(d.stage, FixStage::Choose);
        assert_eq!(
            d.plans.iter().filter(|p| p.recommended).count(),
            1,
            "exactly one recommended plan: {:?}",
            d.plans
                .iter()
                .map(|p| (&p.id, p.recommended))
                .collect::<Vec<_>>()
        );
        assert!(d.plan().is_some_and(|p| p.recommended), "selected");
        let ids: Vec<String> = d.plans.iter().map(|p| p.id.clone()).collect();
        seen.push((d.target.clone(), ids));
    }
    let most_severe = {
        let a = app(snap.clone(), false);
        a.findings()
            .iter()
            .max_by_key(|f| f.severity)
            .map(|f| f.severity)
    };
    assert_eq!(most_severe, Some(crate::cluster::Severity::Critical));
    // Heatmap (slot 0 is served), findings (cursor on the first), node table and timeline:
    // the most severe finding. The same finding offers the same plans from every pane.
    for s in &seen {
        if s.0 == seen[0].0 {
            assert_eq!(s.1, seen[0].1, "the same plans whichever pane: {seen:#?}");
        }
    }
    assert!(seen[0].0.starts_with("CLUSTER DOWN"), "{seen:#?}");
    assert_eq!(seen[0].0, seen[2].0);
    assert_eq!(seen[0].0, seen[4].0);
}

#[test]
fn the_dialog_captures_every_key() {
    let mut a = app(open_slots(), false);
    a.jump_to_slot(200);
    ch(&mut a, 'x');
    key(&mut a, KeyCode::Enter);
    for c in ['q', '1', '2', '/', ':', 'f', 'z', 'x', '?'] {
        assert_eq!(ch(&mut a, c), None, "{c:?}");
        assert_eq!(a.mode, Mode::Fix, "{c:?} left the dialog");
    }
    assert_eq!(a.focus, Pane::Heatmap);
    assert!(!a.frozen);
    assert_eq!(key(&mut a, KeyCode::Esc), None);
    assert_eq!(key(&mut a, KeyCode::Esc), None);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn run_reports_progress_then_verification_and_refreshes() {
    let mut a = app(open_slots(), false);
    a.jump_to_slot(200);
    ch(&mut a, 'x');
    key(&mut a, KeyCode::Enter); // the chooser: Enter shows the plan
    key(&mut a, KeyCode::Tab);
    assert_eq!(dialog(&a).focus, DialogButton::Run);
    let eff = key(&mut a, KeyCode::Enter);
    let Some(Effect::ExecuteFix(plan)) = eff else {
        panic!("Run must execute the plan: {eff:?}");
    };
    assert_eq!(plan.id, "stabilise-slot-200");
    assert_eq!(dialog(&a).stage, FixStage::Running);
    // A running fix cannot be dismissed, nor run twice.
    assert_eq!(key(&mut a, KeyCode::Esc), None);
    assert_eq!(a.mode, Mode::Fix);
    assert_eq!(key(&mut a, KeyCode::Enter), None);
    for ev in [
        FixEvent::CheckingPreconditions,
        FixEvent::PreconditionsHold,
        FixEvent::StepStarted {
            n: 1,
            of: 1,
            node: "127.0.0.1:31000".into(),
            command: "CLUSTER SETSLOT 200 STABLE".into(),
            description: "clear the marker".into(),
        },
    ] {
        assert_eq!(a.on_fix_event(ev), None);
    }
    let s = screen(&a);
    assert!(s.contains("RUNNING… step 1/1"), "{s}");
    a.on_fix_event(FixEvent::StepDone {
        n: 1,
        of: 1,
        reply: "OK".into(),
    });
    a.on_fix_event(FixEvent::Verified {
        finding_gone: true,
        unmet: Vec::new(),
        new_findings: Vec::new(),
    });
    let eff = a.on_fix_event(FixEvent::Finished(FixOutcome::Completed {
        verified: true,
        unmet: Vec::new(),
        new_findings: Vec::new(),
    }));
    assert_eq!(
        eff,
        Some(Effect::RequestRefresh),
        "a finished run refreshes at once"
    );
    assert_eq!(dialog(&a).stage, FixStage::Done);
    let s = screen(&a);
    assert!(s.contains("✓ DONE AND VERIFIED"), "{s}");
    assert!(s.contains("the finding is gone"), "{s}");
    assert!(s.contains("no new finding appeared"), "{s}");
    // The result has its own keys: the footer offers closing, not Cancel/Run.
    assert_eq!(a.scopes(), vec![crate::app::keymap::Scope::Result]);
    assert!(s.contains("Enter:close"), "{s}");
    assert!(!s.contains("Tab:switch"), "{s}");
    assert_eq!(key(&mut a, KeyCode::Enter), None);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn a_failed_step_shows_what_was_and_was_not_done() {
    let mut a = app(open_slots(), false);
    a.jump_to_slot(200);
    ch(&mut a, 'x');
    key(&mut a, KeyCode::Enter); // the chooser: Enter shows the plan
    key(&mut a, KeyCode::Right);
    assert!(matches!(
        key(&mut a, KeyCode::Enter),
        Some(Effect::ExecuteFix(_))
    ));
    a.on_fix_event(FixEvent::StepFailed {
        n: 2,
        of: 3,
        error: "ERR I/O error".into(),
        done: vec!["127.0.0.1:31000: CLUSTER SETSLOT 200 STABLE".into()],
        not_done: vec!["127.0.0.1:31001: CLUSTER BUMPEPOCH".into()],
    });
    a.on_fix_event(FixEvent::Finished(FixOutcome::Failed {
        step: 2,
        error: "ERR I/O error".into(),
        done: vec!["127.0.0.1:31000: CLUSTER SETSLOT 200 STABLE".into()],
        not_done: vec!["127.0.0.1:31001: CLUSTER BUMPEPOCH".into()],
    }));
    let s = screen(&a);
    assert!(s.contains("✗ stopped at step 2: ERR I/O error"), "{s}");
    assert!(s.contains("DONE (1)"), "{s}");
    assert!(s.contains("NOT DONE (1)"), "{s}");
    assert!(s.contains("CLUSTER BUMPEPOCH"), "{s}");
}

#[test]
fn data_losing_plan_needs_the_exact_word() {
    let mut a = app(master_down(), false);
    select_finding(&mut a, FindingKind::MasterDown);
    ch(&mut a, 'x');
    let d = dialog(&a);
    assert_eq!(
        d.stage,
        FixStage::Choose,
        "restart advice vs reassign: a chooser"
    );
    let rec = d.plan().expect("a plan");
    assert!(rec.recommended, "the cursor starts on the recommended plan");
    assert!(screen(&a).contains("★"));
    // Move to the reassign plan and open it.
    let target = d
        .plans
        .iter()
        .position(|p| p.kind == PlanKind::ReassignSlots)
        .expect("a reassign plan");
    while dialog(&a).chosen < target {
        key(&mut a, KeyCode::Down);
    }
    key(&mut a, KeyCode::Enter);
    let d = dialog(&a);
    assert_eq!(d.stage, FixStage::Confirm);
    assert_eq!(d.focus, DialogButton::Cancel, "focus starts on Cancel");
    let Some(Confirmation::TypeWord(word)) = d.plan().map(|p| p.confirmation.clone()) else {
        panic!("reassigning a dead master's slots needs a typed word");
    };
    assert!(screen(&a).contains(&format!("Type {word} to enable Run")));
    // Run focused but the word not typed: Enter does nothing.
    key(&mut a, KeyCode::Tab);
    assert_eq!(dialog(&a).focus, DialogButton::Run);
    assert_eq!(key(&mut a, KeyCode::Enter), None);
    // Letters are typed, not dispatched (the word contains keys like l, o, s, e…).
    let almost = &word[..word.len() - 1];
    typed(&mut a, almost);
    assert_eq!(a.mode, Mode::Fix);
    assert_eq!(dialog(&a).typed, almost);
    assert!(!dialog(&a).run_enabled());
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        None,
        "a prefix is not the word"
    );
    typed(&mut a, "X");
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        None,
        "a wrong word is not the word"
    );
    key(&mut a, KeyCode::Backspace);
    typed(&mut a, &word[word.len() - 1..]);
    assert!(dialog(&a).run_enabled());
    assert!(screen(&a).contains("✓ matches"));
    let eff = key(&mut a, KeyCode::Enter);
    assert!(
        matches!(&eff, Some(Effect::ExecuteFix(p)) if p.kind == PlanKind::ReassignSlots),
        "{eff:?}"
    );
}

#[test]
fn cancel_in_a_chooser_goes_back_to_the_list_and_esc_leaves() {
    let mut a = app(master_down(), false);
    select_finding(&mut a, FindingKind::MasterDown);
    ch(&mut a, 'x');
    key(&mut a, KeyCode::Enter);
    assert_eq!(dialog(&a).stage, FixStage::Confirm);
    key(&mut a, KeyCode::Enter); // Cancel (focused): back to the list
    assert_eq!(dialog(&a).stage, FixStage::Choose);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn advice_only_plans_offer_no_run() {
    let mut a = app(master_down(), false);
    select_finding(&mut a, FindingKind::MasterDown);
    ch(&mut a, 'x');
    let i = dialog(&a)
        .plans
        .iter()
        .position(|p| p.kind == PlanKind::RestartAdvice)
        .expect("restart advice");
    a.fix.as_mut().expect("dialog").chosen = i;
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Tab);
    assert_eq!(
        dialog(&a).focus,
        DialogButton::Cancel,
        "Run cannot be focused"
    );
    let s = screen(&a);
    assert!(!s.contains("[ Run ]"), "{s}");
    assert!(s.contains("advice only"), "{s}");
}

#[test]
fn read_only_hides_every_fix() {
    let mut a = app(open_slots(), true);
    a.jump_to_slot(200);
    assert_eq!(ch(&mut a, 'x'), None);
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.fix.is_none());
    assert!(
        a.message
            .as_deref()
            .is_some_and(|m| m.contains("read-only")),
        "{:?}",
        a.message
    );
    let s = screen(&a);
    assert!(
        s.contains("fixes are disabled in read-only mode")
            || s.contains("read-only mode: fixes are disabled"),
        "{s}"
    );
    // Even a dialog forced open offers no Run.
    let (label, plans) = fix::plans_for(
        a.model().expect("model"),
        a.findings(),
        &FixTarget::Slot(200),
    );
    a.fix = Some(FixDialog::new(label, plans));
    a.mode = Mode::Fix;
    key(&mut a, KeyCode::Tab);
    assert_eq!(key(&mut a, KeyCode::Enter), None);
    assert!(!screen(&a).contains("[ Run ]"));
}

#[test]
fn x_on_a_slot_without_finding_offers_the_most_severe_finding() {
    let mut a = app(open_slots(), false);
    a.jump_to_slot(9000);
    ch(&mut a, 'x');
    assert_eq!(a.mode, Mode::Fix);
    let d = dialog(&a);
    assert!(d.plan().is_some_and(|p| p.recommended));
    let first = a
        .findings()
        .iter()
        .max_by_key(|f| f.severity)
        .map(|f| f.summary.clone());
    assert!(first.is_some());
}

#[test]
fn node_table_selection_scopes_the_plans() {
    let mut a = app(master_down(), false);
    ch(&mut a, '2');
    let want = a
        .model()
        .and_then(|m| m.nodes.iter().position(|n| n.addr.port == 31001))
        .expect("node 31001");
    let pos = a.node_order.iter().position(|i| *i == want).expect("row");
    a.node_cursor = pos;
    ch(&mut a, 'x');
    let d = dialog(&a);
    assert!(d.target.contains("127.0.0.1:31001"), "{}", d.target);
    let id = a
        .model()
        .and_then(|m| m.nodes[want].id.clone())
        .expect("id");
    // The node's own finding (the most severe that names it), with the same plans as from
    // the findings pane.
    let own = a
        .findings()
        .iter()
        .filter(|f| f.nodes.contains(&id))
        .min_by_key(|f| std::cmp::Reverse(f.severity))
        .cloned()
        .expect("a finding about the dead master");
    assert_eq!(d.target, own.summary);
    let (_, from_findings) = fix::plans_for(
        a.model().expect("model"),
        a.findings(),
        &FixTarget::Finding(own),
    );
    assert_eq!(d.plans, from_findings);
    assert!(d.plans.iter().any(|p| p.nodes.contains(&id)));
}

#[test]
fn full_coverage_off_keeps_a_banner_and_offers_the_revert() {
    let mut snap = open_slots();
    for o in &mut snap.observations {
        if let Ok(r) = o.result.as_mut() {
            r.config.require_full_coverage = Some(false);
        }
    }
    let mut a = app(snap, false);
    let s = screen(&a);
    assert!(
        s.contains("cluster-require-full-coverage is OFF on 3 node(s)"),
        "{s}"
    );
    // The banner stays whatever the focus and mode.
    ch(&mut a, '3');
    a.jump_to_slot(200);
    ch(&mut a, 'x');
    let d = dialog(&a);
    assert!(
        d.plans.iter().any(|p| p.kind == PlanKind::CoverageOn),
        "{:?}",
        d.plans.iter().map(|p| &p.id).collect::<Vec<_>>()
    );
    assert!(screen(&a).contains("full-coverage is OFF") || screen(&a).contains("coverage OFF"));
}

fn ctrl_c(app: &mut App) -> Option<Effect> {
    app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
}

/// An app whose fix for slot 200 runs, reported at step 1 of 3.
fn running_fix() -> App {
    let mut a = app(open_slots(), false);
    a.jump_to_slot(200);
    ch(&mut a, 'x');
    key(&mut a, KeyCode::Enter); // the chooser: Enter shows the plan
    key(&mut a, KeyCode::Tab);
    assert!(matches!(
        key(&mut a, KeyCode::Enter),
        Some(Effect::ExecuteFix(_))
    ));
    a.on_fix_event(FixEvent::StepStarted {
        n: 1,
        of: 3,
        node: "127.0.0.1:31000".into(),
        command: "CLUSTER SETSLOT 200 STABLE".into(),
        description: String::new(),
    });
    assert!(a.fix_running());
    a
}

#[test]
fn ctrl_c_while_a_fix_runs_warns_then_abandons_after_the_step() {
    let mut a = running_fix();
    // A signal now ends the dashboard with the fix unfinished: exit code INTERRUPTED.
    assert!(super::run::fix_interrupted(&a));
    assert_eq!(ctrl_c(&mut a), None, "the first Ctrl-C does not quit");
    assert!(!a.should_quit);
    let m = a.message.clone().unwrap_or_default();
    assert!(
        m.contains("a fix is running (step 1/3)") && m.contains("Ctrl-C again within 3 s"),
        "{m}"
    );
    assert!(screen(&a).contains("a fix is running (step 1/3)"));
    // A scroll in between keeps the warning armed.
    key(&mut a, KeyCode::Down);
    a.now_ms += 2_000;
    assert_eq!(ctrl_c(&mut a), Some(Effect::AbandonFixAndQuit));
    assert!(a.abandoning_fix);
    assert!(!a.should_quit, "the loop leaves once the executor stopped");
    // More presses while it stops do nothing more.
    assert_eq!(ctrl_c(&mut a), None);
    assert_eq!(ch(&mut a, 'q'), None);
    // The executor stops before step 2; the outcome is told after the terminal is restored.
    a.on_fix_event(FixEvent::Finished(FixOutcome::Failed {
        step: 2,
        error: "abandoned by the user before this step".into(),
        done: vec!["127.0.0.1:31000: CLUSTER SETSLOT 200 STABLE".into()],
        not_done: vec!["127.0.0.1:31001: CLUSTER SETSLOT 200 STABLE".into()],
    }));
    assert!(super::run::fix_interrupted(&a), "abandoned: not finished");
    let note = super::run::exit_note(&a).expect("an exit note");
    assert!(
        note.contains("abandoned") && note.contains("not done:"),
        "{note}"
    );
    assert!(
        note.contains("127.0.0.1:31001: CLUSTER SETSLOT 200 STABLE"),
        "{note}"
    );
}

#[test]
fn the_quit_warning_expires_after_three_seconds_and_q_counts_like_ctrl_c() {
    let mut a = running_fix();
    assert_eq!(
        ch(&mut a, 'q'),
        None,
        "q warns like Ctrl-C while a fix runs"
    );
    assert!(
        a.message
            .as_deref()
            .unwrap_or_default()
            .contains("a fix is running")
    );
    let armed = a.now_ms;
    assert!(a.on_tick(armed + 3_500), "the expiry redraws");
    assert_eq!(a.message, None, "the warning goes away");
    assert_eq!(
        ctrl_c(&mut a),
        None,
        "too late: this press only warns again"
    );
    assert_eq!(ch(&mut a, 'q'), Some(Effect::AbandonFixAndQuit));
    // Without a running fix, Ctrl-C quits at once as before.
    let mut b = app(open_slots(), false);
    assert_eq!(ctrl_c(&mut b), Some(Effect::Quit));
    assert_eq!(super::run::exit_note(&b), None);
    assert!(!super::run::fix_interrupted(&b), "no fix: exit code 0");
}

fn kinds(app: &App) -> Vec<PlanKind> {
    dialog(app).plans.iter().map(|p| p.kind).collect()
}

#[test]
fn a_down_finding_offers_every_plan_for_its_slots_with_coverage_off_last() {
    for kind in [FindingKind::ClusterDown, FindingKind::MasterDown] {
        let mut a = app(master_down(), false);
        select_finding(&mut a, kind);
        ch(&mut a, 'x');
        let d = dialog(&a);
        assert_eq!(
            d.stage,
            FixStage::Choose,
            "{kind:?}: a chooser, not one plan"
        );
        let k = kinds(&a);
        for want in [
            PlanKind::RestartAdvice,
            PlanKind::ReassignSlots,
            PlanKind::CoverageOff,
        ] {
            assert!(k.contains(&want), "{kind:?}: {want:?} missing from {k:?}");
        }
        assert_eq!(
            k.last(),
            Some(&PlanKind::CoverageOff),
            "{kind:?}: temporary relief comes last: {k:?}"
        );
        let first = d.plans.first().expect("plans");
        assert!(first.recommended, "{kind:?}: recommended first: {k:?}");
        assert_eq!(
            first.kind,
            PlanKind::RestartAdvice,
            "{kind:?}: no replica left, so restarting is the answer: {k:?}"
        );
        // The open slots elsewhere (slot 100 towards the dead master) are not answers to
        // "these slots are down".
        assert!(
            !k.contains(&PlanKind::StabiliseSlot)
                && !k.contains(&PlanKind::CompleteMigration)
                && !k.contains(&PlanKind::RollBackMigration),
            "{kind:?}: {k:?}"
        );
        assert_eq!(d.chosen, 0, "the cursor starts on the recommended plan");
        let s = screen(&a);
        assert!(s.contains("★"), "{s}");
    }
}

#[test]
fn an_open_slot_finding_still_offers_only_its_own_plans() {
    let mut a = app(open_slots(), false);
    select_finding(&mut a, FindingKind::OpenSlot);
    ch(&mut a, 'x');
    let k = kinds(&a);
    assert!(!k.contains(&PlanKind::CoverageOff), "{k:?}");
    assert!(!k.is_empty());
}

#[test]
fn an_estimate_of_zero_keys_is_plain_unknown() {
    use crate::fix::{KeyEstimate, KeysAtRisk};
    let zero = KeysAtRisk::unknown(
        "master unreachable",
        Some(KeyEstimate {
            keys: 0,
            basis: "if it held as many keys per slot as the live masters (0 keys)".to_owned(),
        }),
    );
    assert_eq!(zero.to_string(), "unknown");
    let some = KeysAtRisk::unknown(
        "master unreachable",
        Some(KeyEstimate {
            keys: 332,
            basis: String::new(),
        }),
    );
    assert_eq!(some.to_string(), "unknown (about 332)");
    assert_eq!(KeysAtRisk::unknown("x", None).to_string(), "unknown");
    assert_eq!(KeysAtRisk::Known(0).to_string(), "0");
}

#[test]
fn the_risk_header_claims_data_loss_only_for_data_losing_plans() {
    use crate::fix::{KeysAtRisk, RiskLevel};
    use crate::ui::dialog::risk_headline;
    let mut a = app(master_down(), false);
    select_finding(&mut a, FindingKind::MasterDown);
    ch(&mut a, 'x');
    let plans = dialog(&a).plans.clone();
    let reassign = plans
        .iter()
        .find(|p| p.kind == PlanKind::ReassignSlots)
        .expect("reassign");
    assert!(matches!(reassign.confirmation, Confirmation::TypeWord(_)));
    assert_eq!(risk_headline(reassign), "HIGH: CAN LOSE DATA");
    // The same plan, high only because a key count could not be read, with a plain yes/no.
    let mut unknown = reassign.clone();
    unknown.confirmation = Confirmation::Simple;
    unknown.risk.loses_data = false;
    unknown.risk.keys_at_risk = KeysAtRisk::unknown("master unreachable", None);
    assert_eq!(unknown.risk.level(), RiskLevel::High);
    assert_eq!(risk_headline(&unknown), "HIGH: key count unknown");
    unknown.risk.keys_at_risk = KeysAtRisk::Known(12);
    assert_eq!(risk_headline(&unknown), "HIGH: 12 keys at risk");
    // On screen: the dialog header of a plain-confirmation plan.
    let d = a.fix.as_mut().expect("dialog");
    d.plans = vec![{
        let mut p = unknown.clone();
        p.risk.keys_at_risk = KeysAtRisk::unknown("master unreachable", None);
        p
    }];
    d.chosen = 0;
    d.stage = FixStage::Confirm;
    let s = screen(&a);
    assert!(s.contains("risk HIGH: key count unknown"), "{s}");
    assert!(!s.contains("CAN LOSE DATA"), "{s}");
}
