//! Flows: sample models + key presses → mode, focus, selection, effects, screen text.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use crate::app::color::ColorDepth;
use crate::app::sample::{self, SampleCase};
use crate::app::*;
use crate::cluster::NodeSummary;
use crate::cluster::slots::SLOT_COUNT;
use crate::ui::screen;

fn press(app: &mut App, c: char) -> Option<Effect> {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn press_code(app: &mut App, c: KeyCode) -> Option<Effect> {
    app.on_key(KeyEvent::new(c, KeyModifiers::NONE))
}

#[test]
fn dump_screens() {
    for (w, h) in [(80, 24), (120, 40)] {
        for sc in [SampleCase::MasterDown, SampleCase::OpenSlot] {
            println!("{}", screen(&sample::app(sc, w, h)));
        }
    }
    let mut a = sample::app(SampleCase::MasterDown, 80, 24);
    a.depth = ColorDepth::Mono;
    println!("{}", screen(&a));
}

#[test]
fn quit_keys() {
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    assert_eq!(press(&mut a, 'q'), Some(Effect::Quit));
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    a.mode = Mode::Help;
    assert_eq!(a.on_key(ctrl_c), Some(Effect::Quit));
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    press(&mut a, ':');
    press(&mut a, 'q');
    assert_eq!(
        a.mode,
        Mode::Command,
        "q is typed, not quit, in the command line"
    );
    assert_eq!(press_code(&mut a, KeyCode::Enter), Some(Effect::Quit));
}

#[test]
fn verdict_names_the_failed_master() {
    let a = sample::app(SampleCase::MasterDown, 80, 24);
    let s = screen(&a);
    let first = s.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("CLUSTER DOWN: 5462 slots not served"),
        "{first}"
    );
    assert!(first.contains("127.0.0.1:7004"), "{first}");
}

#[test]
fn command_slot_moves_cursor_and_selects_owner() {
    let mut a = sample::app(SampleCase::MasterDown, 120, 40);
    a.run_command("slot 12000");
    assert_eq!(a.heat_cursor, 12000);
    let owner = a
        .selected_node()
        .and_then(|i| a.model().and_then(|m| m.nodes.get(i)));
    assert_eq!(owner.map(|n| n.addr.port), Some(7004));
    let s = screen(&a);
    assert!(s.contains("127.0.0.1:7004"), "{s}");
    assert!(s.contains("F owner failing"), "{s}");
    a.run_command("slot 99999");
    assert!(a.message.as_deref().unwrap_or("").contains("not a slot"));
}

#[test]
fn command_node_selects_and_unknown_reports() {
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    a.run_command("node 7003");
    assert_eq!(a.focus, Pane::Nodes);
    let n = a
        .selected_node()
        .and_then(|i| a.model().and_then(|m| m.nodes.get(i)));
    assert_eq!(n.map(|n| n.addr.port), Some(7003));
    a.run_command("node 9.9.9.9");
    assert!(
        a.message
            .as_deref()
            .unwrap_or("")
            .contains("no node matches")
    );
    a.run_command("bogus");
    assert!(
        a.message
            .as_deref()
            .unwrap_or("")
            .contains("unknown command")
    );
}

#[test]
fn filter_narrows_table_and_esc_clears() {
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    assert_eq!(a.node_order.len(), 6);
    press(&mut a, '/');
    for c in "replica".chars() {
        press(&mut a, c);
    }
    assert_eq!(a.node_order.len(), 3);
    press_code(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.filter, "replica");
    assert!(screen(&a).contains("/replica"));
    press_code(&mut a, KeyCode::Esc);
    assert_eq!(a.node_order.len(), 6);
}

#[test]
fn heatmap_cursor_zoom_and_bounds() {
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    let _ = screen(&a);
    let g = a.heat_grid();
    press(&mut a, 'l');
    assert_eq!(a.heat_cursor, g.bucket);
    press(&mut a, 'j');
    assert_eq!(a.heat_cursor, g.bucket + g.bucket * g.cols());
    press(&mut a, 'G');
    assert_eq!(a.heat_cursor, SLOT_COUNT - 1);
    press(&mut a, 'l');
    assert_eq!(a.heat_cursor, SLOT_COUNT - 1, "cursor stays inside the map");
    press(&mut a, 'g');
    assert_eq!(a.heat_cursor, 0);
    // Zoom until one slot per pixel, then further zooming is refused.
    for _ in 0..10 {
        press(&mut a, '+');
    }
    assert_eq!(a.heat_grid().bucket, 1);
    assert!(a.heat_len < SLOT_COUNT);
    assert!(a.message.is_some());
    press(&mut a, 'l');
    assert_eq!(a.heat_cursor, 1, "one slot per step when fully zoomed");
    for _ in 0..10 {
        press(&mut a, '-');
    }
    assert_eq!(a.heat_len, SLOT_COUNT);
}

#[test]
fn map_modes_cycle_and_show_legend() {
    let mut a = sample::app(SampleCase::MasterDown, 120, 40);
    press(&mut a, 'm');
    let s = screen(&a);
    assert!(s.contains("owner"), "{s}");
    assert!(s.contains("A:7000"), "{s}");
    press(&mut a, 'm');
    assert!(screen(&a).contains("many (est.)"));
    // Without CLUSTER SLOT-STATS answers, cpu and net say why.
    press(&mut a, 'm');
    let s = screen(&a);
    assert!(
        s.contains("cpu") && s.contains("unavailable: per-slot stats"),
        "{s}"
    );
    press(&mut a, 'm');
    assert!(screen(&a).contains("net"));
    press(&mut a, 'm');
    assert!(screen(&a).contains("health"));
}

#[test]
fn finding_enter_moves_cursor_and_selection() {
    let mut a = sample::app(SampleCase::MasterDown, 120, 40);
    press(&mut a, '3');
    assert_eq!(a.focus, Pane::Findings);
    press_code(&mut a, KeyCode::Enter);
    assert!(a.finding_expanded);
    assert_eq!(a.heat_cursor, 10922);
    let n = a
        .selected_node()
        .and_then(|i| a.model().and_then(|m| m.nodes.get(i)));
    assert_eq!(n.map(|n| n.addr.port), Some(7004));
    assert!(screen(&a).contains("connection refused"));
}

#[test]
fn freeze_holds_the_picture() {
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    press(&mut a, 'f');
    assert!(a.frozen);
    a.on_presented(sample::presented(3, 1, SampleCase::MasterDown));
    assert!(!screen(&a).contains("CLUSTER DOWN"));
    assert!(screen(&a).contains("FROZEN +1"));
    press(&mut a, 'f');
    assert!(screen(&a).contains("CLUSTER DOWN"));
}

#[test]
fn stale_data_is_flagged() {
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    assert!(!screen(&a).contains("STALE"));
    assert!(a.on_tick(sample::T0_MS + 10_000));
    let s = screen(&a);
    assert!(s.contains("STALE"), "{s}");
    assert!(s.contains("10s old"), "{s}");
    a.on_refresher_stopped();
    assert!(screen(&a).contains("NOT REFRESHING"));
}

#[test]
fn too_small_says_so() {
    let a = sample::app(SampleCase::Healthy, 70, 20);
    let s = screen(&a);
    assert!(s.contains("have 70x20, need 80x24"), "{s}");
}

#[test]
fn help_lists_keymap_and_esc_closes() {
    let mut a = sample::app(SampleCase::Healthy, 80, 24);
    press(&mut a, '?');
    assert_eq!(a.mode, Mode::Help);
    let s = screen(&a);
    assert!(s.contains("The incident contract"), "{s}");
    assert!(s.contains("Tab Enter runs"), "{s}");
    for _ in 0..12 {
        press(&mut a, 'j');
    }
    let s = screen(&a);
    assert!(s.contains("freeze / unfreeze"), "{s}");
    press_code(&mut a, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn node_detail_opens_on_enter() {
    let mut a = sample::app(SampleCase::MasterDown, 120, 40);
    a.run_command("node 7004");
    press_code(&mut a, KeyCode::Enter);
    assert!(matches!(a.mode, Mode::NodeDetail(_)));
    let s = screen(&a);
    assert!(s.contains("node detail"), "{s}");
    assert!(s.contains("FAIL by"), "{s}");
    press_code(&mut a, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn sort_cycles() {
    let mut a = sample::app(SampleCase::MasterDown, 120, 40);
    press(&mut a, '2');
    press(&mut a, 's');
    assert_eq!(a.node_sort, NodeSort::Health);
    let first = a
        .node_order
        .first()
        .and_then(|i| a.model().and_then(|m| m.nodes.get(*i)));
    assert!(first.is_some_and(NodeSummary::is_failing), "failing first");
}

#[test]
fn timeline_records_failure_and_recovery() {
    let mut a = sample::app(SampleCase::Healthy, 120, 40);
    a.on_presented(sample::presented(3, 1, SampleCase::MasterDown));
    a.on_presented(sample::presented(3, 1, SampleCase::Healthy));
    let texts: Vec<&str> = a.timeline.iter().map(|e| e.text.as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("ok → FAIL")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("FAIL → ok")), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("cluster_state:fail")),
        "{texts:?}"
    );
    let newest = a.timeline.front().map(|e| e.kind);
    assert!(
        matches!(
            newest,
            Some(ChangeKind::ClusterState | ChangeKind::NodeRecovered)
        ),
        "newest first: {newest:?}"
    );
}

#[test]
fn migration_rate_and_eta() {
    let mut a = sample::app(SampleCase::OpenSlot, 120, 40);
    let (s, mut m, f) = sample::model(3, 1, SampleCase::OpenSlot);
    let mut s2 = s.clone();
    s2.finished_at_ms += 2000;
    if let Some(o) = m.open_slots.first_mut() {
        for v in o.keys.values_mut() {
            if *v == 40 {
                *v = 20;
            }
        }
    }
    a.on_presented(Presented::from_parts(std::sync::Arc::new(s2), m, f));
    let p = a.migrations.get(&100).copied();
    assert_eq!(p.and_then(|p| p.rate_per_s), Some(10.0));
    press(&mut a, '4');
    let sc = screen(&a);
    assert!(sc.contains("10/s"), "{sc}");
    assert!(sc.contains("2s"), "{sc}");
}

#[test]
fn an_age_change_rewrites_only_the_age_digits() {
    let render = |age_ms: u64| {
        let mut a = sample::app(SampleCase::Healthy, 120, 40);
        let at = a.shown.as_ref().expect("shown").snapshot.finished_at_ms;
        a.on_tick(at + age_ms);
        let area = Rect::new(0, 0, 120, 40);
        let mut buf = Buffer::empty(area);
        crate::ui::render(&mut buf, area, &a);
        buf
    };
    // Pairs on the same side of the staleness limit (3 s), which restyles the label.
    for (from, to, max_cells) in [
        (300, 2_000, 2),
        (1_000, 2_000, 1),
        (9_000, 12_000, 2),
        (12_000, 59_000, 2),
    ] {
        let (before, after) = (render(from), render(to));
        let changed = before.diff(&after);
        assert!(
            !changed.is_empty() && changed.len() <= max_cells,
            "{from} ms -> {to} ms changed {} cells: {:?}",
            changed.len(),
            changed
                .iter()
                .map(|(x, y, c)| (*x, *y, c.symbol()))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(crate::ui::header::age_label(300), "<1s");
    assert_eq!(crate::ui::header::age_label(2_500), " 2s");
    assert_eq!(crate::ui::header::age_label(59_999), "59s");
    assert_eq!(crate::ui::header::age_label(65_000), "1m05s");
}
