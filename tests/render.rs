//! Whole-screen snapshots of the dashboard (`TestBackend` + insta) for each failure class, built
//! from captured `CLUSTER NODES` texts through the real parser, model and diagnosis, at 80x24,
//! 120x40 and 200x60, in 16 colours and in mono (`NO_COLOR`).

use std::sync::Arc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rstest::rstest;
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

fn app_for(name: &str, depth: ColorDepth, w: u16, h: u16) -> App {
    app_of(scenario(name), depth, w, h)
}

/// The scenario with every node's keys counted (none held): what a plain "yes" needs.
fn counted_app_for(name: &str, depth: ColorDepth, w: u16, h: u16) -> App {
    let mut snap = scenario(name);
    for o in &mut snap.observations {
        if let Ok(r) = &mut o.result {
            r.census = Some(slotscope::cluster::census::NodeCensus::default());
        }
    }
    app_of(snap, depth, w, h)
}

fn app_of(snap: ClusterSnapshot, depth: ColorDepth, w: u16, h: u16) -> App {
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

/// The word a colour depth has in snapshot names.
fn tag(depth: ColorDepth) -> &'static str {
    match depth {
        ColorDepth::Mono => "mono",
        _ => "color",
    }
}

#[rstest]
fn screens_text_every_class_size_and_depth(
    #[values(
        "healthy",
        "master_down",
        "open_slots",
        "pfail",
        "failover",
        "delslots"
    )]
    name: &str,
    #[values((80, 24), (120, 40), (200, 60))] size: (u16, u16),
    #[values(ColorDepth::Ansi16, ColorDepth::Mono)] depth: ColorDepth,
) {
    let (w, h) = size;
    let tag = tag(depth);
    let app = app_for(name, depth, w, h);
    let buf = draw(&app);
    insta::assert_snapshot!(format!("{name}_{w}x{h}_{tag}"), text(&buf));
}

#[rstest]
fn colour_digest_at_80x24(
    #[values(
        "healthy",
        "master_down",
        "open_slots",
        "pfail",
        "failover",
        "delslots"
    )]
    name: &str,
) {
    let app = app_for(name, ColorDepth::Ansi16, 80, 24);
    insta::assert_snapshot!(format!("{name}_80x24_styles"), style_digest(&draw(&app)));
}

#[rstest]
fn mono_never_emits_a_colour(
    #[values(
        "healthy",
        "master_down",
        "open_slots",
        "pfail",
        "failover",
        "delslots"
    )]
    name: &str,
    #[values((80, 24), (120, 40), (200, 60))] size: (u16, u16),
) {
    let (w, h) = size;
    let buf = draw(&app_for(name, ColorDepth::Mono, w, h));
    for c in &buf.content {
        assert_eq!(c.fg, Color::Reset, "{name} {w}x{h}: {c:?}");
        assert_eq!(c.bg, Color::Reset, "{name} {w}x{h}: {c:?}");
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

#[rstest]
fn every_size_is_usable(#[values((80, 24), (120, 40), (200, 60))] size: (u16, u16)) {
    // Header, heatmap, findings, nodes and the footer hints are on screen at every size.
    let (w, h) = size;
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

// ------------------------------------------------------------------------------------------
// The fix dialog (issue 4): chooser, confirmation with every command, typed-word gate, result.

fn press(app: &mut App, code: KeyCode) {
    let _ = app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// The app with the fix dialog open in a given stage.
fn fix_app(stage: &str, depth: ColorDepth, w: u16, h: u16) -> App {
    let mut app = match stage {
        "confirm" | "done" | "failed" => {
            let mut a = counted_app_for("open_slots", depth, w, h);
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
    if matches!(stage, "confirm" | "done" | "failed") {
        // Slot 100 has both markers and no key moved: complete (recommended) or close. These
        // screens show the close plan.
        let d = app.fix.as_ref().expect("dialog");
        let target = d
            .plans
            .iter()
            .position(|p| p.kind == PlanKind::StabiliseSlot)
            .expect("close plan");
        while app.fix.as_ref().is_some_and(|d| d.chosen < target) {
            press(&mut app, KeyCode::Down);
        }
        press(&mut app, KeyCode::Enter);
    }
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

#[rstest]
fn fix_dialog_screens(
    #[values("chooser", "confirm", "typeword", "done", "failed")] stage: &str,
    #[values((80, 24), (120, 40))] size: (u16, u16),
    #[values(ColorDepth::Ansi16, ColorDepth::Mono)] depth: ColorDepth,
) {
    let (w, h) = size;
    let tag = tag(depth);
    let buf = draw(&fix_app(stage, depth, w, h));
    insta::assert_snapshot!(format!("fix_{stage}_{w}x{h}_{tag}"), text(&buf));
    if depth == ColorDepth::Mono {
        for c in &buf.content {
            assert_eq!(c.fg, Color::Reset, "{stage} {w}x{h}: {c:?}");
            assert_eq!(c.bg, Color::Reset, "{stage} {w}x{h}: {c:?}");
        }
    }
}

#[rstest]
fn fix_dialog_colour_digest_at_80x24(#[values("confirm", "typeword")] stage: &str) {
    let app = fix_app(stage, ColorDepth::Ansi16, 80, 24);
    insta::assert_snapshot!(
        format!("fix_{stage}_80x24_styles"),
        style_digest(&draw(&app))
    );
}

#[rstest]
fn fix_dialog_shows_every_command_and_starts_on_cancel(
    #[values((80, 24), (120, 40))] size: (u16, u16),
) {
    let (w, h) = size;
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

// ------------------------------------------------------------------------------------------
// On-call polish: what must stay readable at 80x24.

fn key(app: &mut App, code: KeyCode) {
    let _ = app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Every word of `s` appears on screen, in order, allowing line breaks between words.
fn shows_every_word(screen: &str, s: &str) -> bool {
    let flat: Vec<&str> = screen.split_whitespace().collect();
    let flat = flat.join(" ");
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut rest = flat.as_str();
    for w in words {
        match rest.find(w) {
            Some(i) => rest = &rest[i + w.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn expanded_finding_wraps_its_summary_and_evidence_at_80_columns() {
    for depth in [ColorDepth::Ansi16, ColorDepth::Mono] {
        let mut app = app_for("master_down", depth, 80, 24);
        key(&mut app, KeyCode::Char('3'));
        let i = app
            .findings()
            .iter()
            .position(|f| f.kind == FindingKind::MasterDown)
            .expect("a master-down finding");
        for _ in 0..i {
            key(&mut app, KeyCode::Down);
        }
        key(&mut app, KeyCode::Enter);
        assert!(app.finding_expanded);
        let f = app.findings()[app.finding_cursor].clone();
        let t = text(&draw(&app));
        let body: String = t.lines().skip(3).collect::<Vec<_>>().join("\n");
        assert!(shows_every_word(&body, &f.summary), "summary cut:\n{t}");
        for e in &f.evidence {
            assert!(shows_every_word(&body, e), "evidence {e:?} cut:\n{t}");
        }
        // The expanded lines carry no cut mark; the node table keeps its minimum.
        let start = t
            .lines()
            .position(|l| l.contains("3 Findings"))
            .unwrap_or(0);
        let end = t.lines().position(|l| l.contains("2 Nodes")).unwrap_or(0);
        assert!(end > start, "{t}");
        // The table keeps title, header and the row of the node the finding names.
        assert!(t.lines().count() - end >= 4, "{t}");
        assert!(
            t.lines().skip(end).any(|l| l.contains("127.0.0.1:31001")),
            "the selected node stays in view:\n{t}"
        );
    }
}

#[test]
fn findings_get_rows_before_the_node_table_gets_blank_ones() {
    // master_down: 8 findings, 6 nodes. At 80x24 the selected finding is wrapped in full (never
    // cut with `…`), the others get a row each as far as the node table's minimum allows, and
    // the title counts those below.
    let app = app_for("master_down", ColorDepth::Mono, 80, 24);
    let t = text(&draw(&app));
    let n = app.findings().len();
    let shown = t
        .lines()
        .filter(|l| l.starts_with("!! ") || l.starts_with("!  ") || l.starts_with("i  "))
        .count();
    let below: usize = t
        .lines()
        .find(|l| l.contains("Findings"))
        .and_then(|l| l.split('↓').nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    assert_eq!(shown + below, n, "every finding is shown or counted:\n{t}");
    assert!(shown >= n - 1, "{t}");
    let pane: String = t
        .lines()
        .skip_while(|l| !l.contains("Findings"))
        .take_while(|l| !l.contains("2 Nodes"))
        .collect::<Vec<_>>()
        .join("\n");
    let first = &app.findings()[0].summary;
    assert!(
        shows_every_word(&pane, first),
        "selected finding in full:\n{t}"
    );
    assert!(!pane.lines().nth(1).unwrap_or("").ends_with('…'), "{t}");
    // pfail: 3 findings; no blank row between the findings and the node table.
    let app = app_for("pfail", ColorDepth::Mono, 80, 24);
    let t = text(&draw(&app));
    let lines: Vec<&str> = t.lines().collect();
    let f = lines
        .iter()
        .position(|l| l.contains("3 Findings"))
        .unwrap_or(0);
    let nodes = lines
        .iter()
        .position(|l| l.contains("2 Nodes"))
        .unwrap_or(0);
    // With room to spare, every finding is wrapped in full.
    let pane = lines[f + 1..nodes].join("\n");
    assert!(
        lines[f + 1..nodes].iter().all(|l| !l.trim().is_empty()),
        "{t}"
    );
    for finding in app.findings() {
        assert!(shows_every_word(&pane, &finding.summary), "{t}");
    }
    assert!(!pane.contains('…'), "{t}");
}

#[test]
fn the_focused_pane_is_marked_in_every_colour_mode() {
    for depth in [ColorDepth::Ansi16, ColorDepth::Mono] {
        let mut app = app_for("open_slots", depth, 80, 24);
        for (k, title) in [
            ('1', "▶ 1 Slots"),
            ('3', "▶ 3 Findings"),
            ('2', "▶ 2 Nodes"),
            ('4', "▶ 4 Migrations"),
            ('5', "▶ 5 Timeline"),
        ] {
            key(&mut app, KeyCode::Char(k));
            let buf = draw(&app);
            let t = text(&buf);
            assert!(t.contains(title), "{depth:?} {title}:\n{t}");
            assert_eq!(t.matches('▶').count(), 1, "one focus mark:\n{t}");
            // The mark itself is reversed and bold, and not dimmed.
            let (x, y) = (0..buf.area.height)
                .find_map(|y| {
                    (0..buf.area.width)
                        .find(|x| buf[(*x, y)].symbol() == "▶")
                        .map(|x| (x, y))
                })
                .expect("the mark");
            let m = buf[(x, y)].modifier;
            assert!(
                m.contains(Modifier::REVERSED | Modifier::BOLD) && !m.contains(Modifier::DIM),
                "{depth:?}: {m:?}"
            );
        }
    }
}

#[test]
fn a_long_verdict_gets_a_second_line_before_it_is_cut() {
    let app = app_for("master_down", ColorDepth::Mono, 80, 24);
    let verdict = app.shown.as_ref().expect("shown").verdict.clone();
    assert!(
        verdict.len() > 80,
        "the fixture's verdict is long: {verdict}"
    );
    let t = text(&draw(&app));
    let head: Vec<&str> = t.lines().take(2).collect();
    assert!(
        head[0].contains("127.0.0.1:31001") && !head[0].ends_with('…'),
        "first line breaks at a word:\n{t}"
    );
    // Up to the cut (if any), the two lines hold the verdict's words in order.
    let two = head.join(" ");
    let kept = two.trim_end_matches('…');
    let kept_words: Vec<&str> = kept.split_whitespace().collect();
    let n = kept_words.len().saturating_sub(1);
    let want: Vec<&str> = verdict.split_whitespace().take(n).collect();
    assert_eq!(&kept_words[..n], &want[..], "{t}");
    // The counts line follows on the third row, and fits.
    assert!(
        t.lines().nth(2).is_some_and(|l| l.starts_with("data ")),
        "{t}"
    );
    // At 200 columns it fits on one line.
    let wide = text(&draw(&app_for("master_down", ColorDepth::Mono, 200, 60)));
    assert!(
        wide.lines().nth(1).is_some_and(|l| l.starts_with("data ")),
        "{wide}"
    );
}

#[test]
fn help_scrolls_at_80x24_and_says_more_below() {
    let mut app = app_for("healthy", ColorDepth::Mono, 80, 24);
    key(&mut app, KeyCode::Char('?'));
    let first = text(&draw(&app));
    assert!(first.contains("more below"), "{first}");
    assert!(
        !first.contains("cycle sort column"),
        "sort keys are below the fold:\n{first}"
    );
    // Page through: every part of the help comes into view, and the end says so.
    let mut seen = first.clone();
    let mut last = usize::MAX;
    while app.help_scroll != last {
        last = app.help_scroll;
        key(&mut app, KeyCode::PageDown);
        seen.push_str(&text(&draw(&app)));
    }
    for needle in [
        "cycle sort column",
        "colour by health",
        "Ctrl-C",
        "Slot states",
        "Node status",
    ] {
        assert!(seen.contains(needle), "{needle:?} never shown");
    }
    let end = text(&draw(&app));
    assert!(
        end.contains("more above") && !end.contains("more below"),
        "{end}"
    );
    // Scrolling stops at the end: one step up moves at once.
    let bottom = app.help_scroll;
    key(&mut app, KeyCode::Char('G'));
    assert_eq!(app.help_scroll, bottom);
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(app.help_scroll, bottom - 1);
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.help_scroll, 0);
    // Help keys do not move the panes underneath.
    assert_eq!(app.heat_cursor, 0);
}

#[test]
fn node_detail_shows_markers_what_it_flags_and_probe_errors() {
    // open_slots: 127.0.0.1:31000 migrates slot 100 and 200.
    let mut app = app_for("open_slots", ColorDepth::Mono, 120, 40);
    assert!(app.run_command("node 127.0.0.1:31000").is_none());
    key(&mut app, KeyCode::Enter);
    let t = text(&draw(&app));
    assert!(t.contains("open slots"), "{t}");
    assert!(t.contains("[100->-"), "{t}");
    assert!(t.contains("migrating slot 100 to 127.0.0.1:31001"), "{t}");
    // master_down: 127.0.0.1:31000 flags the dead master and its replica.
    let mut app = app_for("master_down", ColorDepth::Mono, 120, 40);
    assert!(app.run_command("node 127.0.0.1:31000").is_none());
    key(&mut app, KeyCode::Enter);
    let t = text(&draw(&app));
    assert!(t.contains("it flags"), "{t}");
    assert!(t.contains("127.0.0.1:31001"), "{t}");
    // And an unreachable node shows its probe error.
    key(&mut app, KeyCode::Esc);
    assert!(app.run_command("node 127.0.0.1:31001").is_none());
    key(&mut app, KeyCode::Enter);
    let t = text(&draw(&app));
    assert!(t.contains("probe error"), "{t}");
    assert!(t.contains("Connection refused"), "{t}");
}

/// Colour adds to the glyphs, never replaces them: in 16 colours as in mono, the slots of the
/// failed master read `F` (black on the critical red in colour, the header's red), moving
/// slots read `M`, and at 120x40 a legend row under the map names every glyph.
#[rstest]
fn every_state_keeps_its_glyph_and_the_legend_is_under_the_map(
    #[values(ColorDepth::Ansi16, ColorDepth::Mono)] depth: ColorDepth,
    #[values((80, 24), (120, 40))] size: (u16, u16),
) {
    let app = app_for("master_down", depth, size.0, size.1);
    let buf = draw(&app);
    let t = text(&buf);
    let map_rows: Vec<&str> = t
        .lines()
        .skip_while(|l| !l.contains("1 Slots"))
        .skip(1)
        .take_while(|l| !l.contains('▸'))
        .collect();
    let map = map_rows.join("\n");
    assert!(map.contains("FFFF"), "owner-failing slots read F:\n{t}");
    assert!(map.contains('M'), "moving slots read M:\n{t}");
    let legend = "served  M moving  D disputed  F owner failing  U uncovered";
    if size == (120, 40) {
        assert!(
            map_rows.last().is_some_and(|l| l.contains(legend)),
            "a legend row under the map:\n{t}"
        );
    }
    if depth == ColorDepth::Ansi16 {
        let header = buf[(0, 0)].fg;
        let f = (0..buf.area.height)
            .flat_map(|y| (0..buf.area.width).map(move |x| (x, y)))
            .map(|p| &buf[p])
            .find(|c| c.symbol() == "F" && c.bg != Color::Reset)
            .expect("an F cell of the map");
        assert_eq!(f.bg, header, "failing slots in the header's red");
        assert_eq!(f.bg, Color::LightRed);
        assert_eq!(f.fg, Color::Black);
    }
}

/// At 80x24 the heatmap has no room for its legend: the `?` overlay shows it first, without
/// scrolling.
#[rstest]
fn the_help_overlay_starts_with_the_legend_at_80x24(
    #[values(ColorDepth::Ansi16, ColorDepth::Mono)] depth: ColorDepth,
) {
    let mut app = app_for("master_down", depth, 80, 24);
    press(&mut app, KeyCode::Char('?'));
    let t = text(&draw(&app));
    assert!(t.contains("Slot states (heatmap)"), "{t}");
    let words = [
        "served",
        "M moving",
        "D disputed",
        "F owner failing",
        "U uncovered",
    ];
    for w in words {
        assert!(shows_every_word(&t, w), "{w}:\n{t}");
    }
    insta::assert_snapshot!(format!("help_80x24_{}", tag(depth)), t);
}

/// A seed that does not answer at launch: the waiting screen names the error, the retry
/// interval and `q`, at both sizes and in both colour modes.
#[rstest]
fn the_waiting_screen_says_what_failed_and_that_it_retries(
    #[values(ColorDepth::Ansi16, ColorDepth::Mono)] depth: ColorDepth,
    #[values((80, 24), (120, 40))] size: (u16, u16),
) {
    let mut app = App::new(depth, Duration::from_secs(2), false, None);
    app.on_resize(size.0, size.1);
    app.observe_error = Some("could not reach any seed: 127.0.0.1:7000: connection refused".into());
    app.observe_failures = 3;
    let t = text(&draw(&app));
    assert!(t.starts_with("WAITING FOR THE CLUSTER"), "{t}");
    assert!(t.contains("127.0.0.1:7000: connection refused"), "{t}");
    assert!(t.contains("Retrying every 2s"), "{t}");
    assert!(t.contains("3 attempts"), "{t}");
    assert!(t.contains("q quits"), "{t}");
    insta::assert_snapshot!(format!("waiting_{}x{}_{}", size.0, size.1, tag(depth)), t);
}
