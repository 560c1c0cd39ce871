//! Whole-screen snapshots of the dashboard (TestBackend + insta) for each failure class, built
//! from captured `CLUSTER NODES` texts through the real parser, model and diagnosis, at 80x24,
//! 120x40 and 200x60, in 16 colours and in mono (NO_COLOR).

use std::sync::Arc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use slotscope::app::{App, DialogButton};
use slotscope::cluster::ClusterSnapshot;
use slotscope::cluster::FindingKind;
use slotscope::cluster::ProbeError;
use slotscope::cluster::synthetic::{snapshot_from_texts, synthetic_cluster};
use slotscope::fix::{FixEvent, FixOutcome, PlanKind};
use slotscope::ui::theme::ColorDepth;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn refused() -> ProbeError {
    ProbeError::ConnectFailed("Connection refused (os error 111)".into())
}

/// The failure classes, each as the refresher would have seen it.
fn scenario(name: &str) -> ClusterSnapshot {
    let f = |n: &str| fixture(n);
    match name {
        "healthy" => synthetic_cluster(3, 1),
        "master_down" => {
            let (a, a2, c2) = (
                f("master_down_nodes_31000"),
                f("master_down_nodes_31003"),
                f("master_down_nodes_31005"),
            );
            snapshot_from_texts(&[
                ("127.0.0.1:31000", Ok(a.as_str())),
                ("127.0.0.1:31001", Err(refused())),
                ("127.0.0.1:31003", Ok(a2.as_str())),
                ("127.0.0.1:31004", Err(refused())),
                ("127.0.0.1:31005", Ok(c2.as_str())),
            ])
        }
        "open_slots" => {
            let (a, b, c) = (
                f("open_slots_nodes_31000"),
                f("open_slots_nodes_31001"),
                f("open_slots_nodes_31002"),
            );
            snapshot_from_texts(&[
                ("127.0.0.1:31000", Ok(a.as_str())),
                ("127.0.0.1:31001", Ok(b.as_str())),
                ("127.0.0.1:31002", Ok(c.as_str())),
            ])
        }
        "pfail" => {
            let a = f("pfail_nodes_31000");
            snapshot_from_texts(&[
                ("127.0.0.1:31000", Ok(a.as_str())),
                (
                    "127.0.0.1:31002",
                    Err(ProbeError::Unresponsive("PING".into())),
                ),
            ])
        }
        "failover" => {
            let (a, c2) = (f("failover_nodes_31000"), f("failover_nodes_31005"));
            snapshot_from_texts(&[
                ("127.0.0.1:31000", Ok(a.as_str())),
                ("127.0.0.1:31002", Err(refused())),
                ("127.0.0.1:31005", Ok(c2.as_str())),
            ])
        }
        "delslots" => {
            let (a, a2, c2) = (
                f("delslots_nodes_31000"),
                f("delslots_nodes_31003"),
                f("delslots_nodes_31005"),
            );
            snapshot_from_texts(&[
                ("127.0.0.1:31000", Ok(a.as_str())),
                ("127.0.0.1:31003", Ok(a2.as_str())),
                ("127.0.0.1:31005", Ok(c2.as_str())),
            ])
        }
        other => panic!("unknown scenario {other}"),
    }
}

const SCENARIOS: [&str; 6] = [
    "healthy",
    "master_down",
    "open_slots",
    "pfail",
    "failover",
    "delslots",
];
const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

fn app_for(name: &str, depth: ColorDepth, w: u16, h: u16) -> App {
    let snap = scenario(name);
    let at = snap.finished_at_ms;
    let mut app = App::new(depth, Duration::from_secs(1), false, None);
    app.on_resize(w, h);
    app.on_snapshot(Arc::new(snap));
    app.on_tick(at + 1000);
    app
}

fn draw(app: &App) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("terminal");
    t.draw(|f| slotscope::ui::draw(f, app)).expect("draw");
    t.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut s = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// Run-length digest of the styles of each row (colour carries meaning in the heatmap).
fn style_digest(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut runs: Vec<(String, usize)> = Vec::new();
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            let k = format!("{:?}/{:?}/{:?}", c.fg, c.bg, c.modifier);
            match runs.last_mut() {
                Some((last, n)) if *last == k => *n += 1,
                _ => runs.push((k, 1)),
            }
        }
        let row: Vec<String> = runs.iter().map(|(k, n)| format!("{n}×{k}")).collect();
        out.push_str(&format!("{y:2}: {}\n", row.join(" ")));
    }
    out
}

#[test]
fn screens_text_every_class_size_and_depth() {
    for name in SCENARIOS {
        for (w, h) in SIZES {
            for (depth, tag) in [(ColorDepth::Ansi16, "color"), (ColorDepth::Mono, "mono")] {
                let app = app_for(name, depth, w, h);
                let buf = draw(&app);
                insta::assert_snapshot!(format!("{name}_{w}x{h}_{tag}"), text(&buf));
            }
        }
    }
}

#[test]
fn colour_digest_at_80x24() {
    for name in SCENARIOS {
        let app = app_for(name, ColorDepth::Ansi16, 80, 24);
        insta::assert_snapshot!(format!("{name}_80x24_styles"), style_digest(&draw(&app)));
    }
}

#[test]
fn mono_never_emits_a_colour() {
    for name in SCENARIOS {
        for (w, h) in SIZES {
            let buf = draw(&app_for(name, ColorDepth::Mono, w, h));
            for c in &buf.content {
                assert_eq!(c.fg, Color::Reset, "{name} {w}x{h}: {c:?}");
                assert_eq!(c.bg, Color::Reset, "{name} {w}x{h}: {c:?}");
            }
        }
    }
}

#[test]
fn verdict_names_what_is_wrong() {
    let first = |name: &str| {
        let t = text(&draw(&app_for(name, ColorDepth::Ansi16, 80, 24)));
        t.lines().next().unwrap_or_default().to_owned()
    };
    let md = first("master_down");
    assert!(md.contains("127.0.0.1:31001"), "{md}");
    assert!(first("healthy").contains("OK"), "{}", first("healthy"));
}

#[test]
fn every_size_is_usable() {
    // Header, heatmap, findings, nodes and the footer hints are on screen at every size.
    for (w, h) in SIZES {
        let t = text(&draw(&app_for("master_down", ColorDepth::Ansi16, w, h)));
        for needle in [
            "1 Slots",
            "3 Findings",
            "2 Nodes",
            "?:help",
            "127.0.0.1:31001",
            "data",
        ] {
            assert!(t.contains(needle), "{w}x{h} lacks {needle:?}:\n{t}");
        }
    }
}

// ------------------------------------------------------------------------------------------
// The fix dialog (issue 4): chooser, confirmation with every command, typed-word gate, result.

fn press(app: &mut App, code: KeyCode) {
    let _ = app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// The app with the fix dialog open in a given stage.
fn fix_app(stage: &str, depth: ColorDepth, w: u16, h: u16) -> App {
    let mut app = match stage {
        "confirm" | "done" | "failed" => {
            let mut a = app_for("open_slots", depth, w, h);
            a.jump_to_slot(100);
            a
        }
        _ => {
            let mut a = app_for("master_down", depth, w, h);
            press(&mut a, KeyCode::Char('3'));
            let i = a
                .findings()
                .iter()
                .position(|f| f.kind == FindingKind::MasterDown)
                .expect("a master-down finding");
            a.finding_cursor = i;
            a
        }
    };
    press(&mut app, KeyCode::Char('x'));
    assert!(app.fix.is_some(), "x opens the dialog for {stage}");
    match stage {
        "chooser" | "confirm" => {}
        "typeword" => {
            let d = app.fix.as_ref().expect("dialog");
            let target = d
                .plans
                .iter()
                .position(|p| p.kind == PlanKind::ReassignSlots)
                .expect("reassign plan");
            while app.fix.as_ref().is_some_and(|d| d.chosen < target) {
                press(&mut app, KeyCode::Down);
            }
            press(&mut app, KeyCode::Enter);
            for c in "lose-54".chars() {
                press(&mut app, KeyCode::Char(c));
            }
        }
        "done" | "failed" => {
            press(&mut app, KeyCode::Tab);
            press(&mut app, KeyCode::Enter);
            let evs = if stage == "done" {
                vec![
                    FixEvent::CheckingPreconditions,
                    FixEvent::PreconditionsHold,
                    FixEvent::StepStarted {
                        n: 1,
                        of: 2,
                        node: "127.0.0.1:31001".into(),
                        command: "CLUSTER SETSLOT 100 STABLE".into(),
                        description: String::new(),
                    },
                    FixEvent::StepDone {
                        n: 1,
                        of: 2,
                        reply: "OK".into(),
                    },
                    FixEvent::StepStarted {
                        n: 2,
                        of: 2,
                        node: "127.0.0.1:31000".into(),
                        command: "CLUSTER SETSLOT 100 STABLE".into(),
                        description: String::new(),
                    },
                    FixEvent::StepDone {
                        n: 2,
                        of: 2,
                        reply: "OK".into(),
                    },
                    FixEvent::Verifying,
                    FixEvent::Verified {
                        finding_gone: true,
                        unmet: vec![],
                        new_findings: vec![],
                    },
                    FixEvent::Finished(FixOutcome::Completed {
                        verified: true,
                        unmet: vec![],
                        new_findings: vec![],
                    }),
                ]
            } else {
                let done = vec!["127.0.0.1:31001: CLUSTER SETSLOT 100 STABLE".to_owned()];
                let not_done = vec!["127.0.0.1:31000: CLUSTER SETSLOT 100 STABLE".to_owned()];
                vec![
                    FixEvent::CheckingPreconditions,
                    FixEvent::PreconditionsHold,
                    FixEvent::StepStarted {
                        n: 1,
                        of: 2,
                        node: "127.0.0.1:31001".into(),
                        command: "CLUSTER SETSLOT 100 STABLE".into(),
                        description: String::new(),
                    },
                    FixEvent::StepDone {
                        n: 1,
                        of: 2,
                        reply: "OK".into(),
                    },
                    FixEvent::StepStarted {
                        n: 2,
                        of: 2,
                        node: "127.0.0.1:31000".into(),
                        command: "CLUSTER SETSLOT 100 STABLE".into(),
                        description: String::new(),
                    },
                    FixEvent::StepFailed {
                        n: 2,
                        of: 2,
                        error: "connection refused (os error 111)".into(),
                        done: done.clone(),
                        not_done: not_done.clone(),
                    },
                    FixEvent::Finished(FixOutcome::Failed {
                        step: 2,
                        error: "connection refused (os error 111)".into(),
                        done,
                        not_done,
                    }),
                ]
            };
            for ev in evs {
                let _ = app.on_fix_event(ev);
            }
        }
        other => panic!("unknown stage {other}"),
    }
    app
}

#[test]
fn fix_dialog_screens() {
    for stage in ["chooser", "confirm", "typeword", "done", "failed"] {
        for (w, h) in [(80, 24), (120, 40)] {
            for (depth, tag) in [(ColorDepth::Ansi16, "color"), (ColorDepth::Mono, "mono")] {
                let buf = draw(&fix_app(stage, depth, w, h));
                insta::assert_snapshot!(format!("fix_{stage}_{w}x{h}_{tag}"), text(&buf));
                if depth == ColorDepth::Mono {
                    for c in &buf.content {
                        assert_eq!(c.fg, Color::Reset, "{stage} {w}x{h}: {c:?}");
                        assert_eq!(c.bg, Color::Reset, "{stage} {w}x{h}: {c:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn fix_dialog_colour_digest_at_80x24() {
    for stage in ["confirm", "typeword"] {
        let app = fix_app(stage, ColorDepth::Ansi16, 80, 24);
        insta::assert_snapshot!(
            format!("fix_{stage}_80x24_styles"),
            style_digest(&draw(&app))
        );
    }
}

#[test]
fn fix_dialog_shows_every_command_and_starts_on_cancel() {
    for (w, h) in [(80, 24), (120, 40)] {
        let app = fix_app("confirm", ColorDepth::Ansi16, w, h);
        let d = app.fix.as_ref().expect("dialog");
        assert_eq!(d.focus, DialogButton::Cancel);
        let plan = d.plan().expect("plan");
        let t = text(&draw(&app));
        for s in &plan.steps {
            assert!(
                t.contains(&s.redis_cli_line()),
                "{w}x{h} lacks {}:\n{t}",
                s.redis_cli_line()
            );
        }
        assert!(t.contains("▸[ Cancel ]◂"), "{t}");
    }
}
