//! Flows of the `:` node commands, `y` and role changes: keys → effects → screen text.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::console::NodeReply;
use crate::app::sample::{self, SampleCase};
use crate::app::*;
use crate::cluster::Role;
use crate::ui::screen;

fn type_line(app: &mut App, line: &str) -> Option<Effect> {
    app.on_key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE));
    for c in line.chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
}

#[test]
fn info_opens_the_overlay_and_shows_the_reply() {
    let mut a = sample::app(SampleCase::MasterDown, 120, 40);
    let addr = a.model().expect("model").nodes[0].addr.to_string();
    let Some(Effect::NodeCommand(req)) = type_line(&mut a, &format!("info {addr} replication"))
    else {
        panic!("no node command: {:?}", a.message);
    };
    assert_eq!(req.endpoint.to_string(), addr);
    assert_eq!(req.commands, vec![vec!["INFO", "replication"]]);
    assert_eq!(a.mode, Mode::Output);
    let s = screen(&a);
    assert!(s.contains(&format!("{addr} · INFO replication")), "{s}");
    assert!(s.contains("waiting for the node"), "{s}");
    let lines: Vec<String> = (0..80).map(|i| format!("line{i}:x")).collect();
    assert!(a.on_node_reply(NodeReply {
        id: req.id,
        result: Ok(lines),
    }));
    assert!(!a.on_node_reply(NodeReply {
        id: req.id + 1,
        result: Ok(vec![]),
    }));
    let s = screen(&a);
    assert!(s.contains("line0:x") && !s.contains("line79:x"), "{s}");
    assert!(s.contains("more below"), "{s}");
    a.on_key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE));
    let s = screen(&a);
    assert!(s.contains("line79:x") && !s.contains("line0:x"), "{s}");
    // `y` copies the output; Esc closes; ↑ in the prompt brings the line back.
    let Some(Effect::Copy(text)) = a.on_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE))
    else {
        panic!("no copy");
    };
    assert!(text.starts_with("line0:x\n"));
    a.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(a.mode, Mode::Normal);
    a.on_key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE));
    a.on_key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE));
    assert_eq!(a.input, format!("info {addr} replication"));
}

#[test]
fn a_write_is_refused_on_the_status_line_in_every_mode() {
    for read_only in [false, true] {
        let mut a = sample::app(SampleCase::MasterDown, 80, 24);
        a.read_only = read_only;
        assert_eq!(type_line(&mut a, "cmd FLUSHALL"), None);
        assert_eq!(a.mode, Mode::Normal);
        let s = screen(&a);
        let footer = s.lines().last().unwrap_or_default();
        assert!(
            footer.starts_with("refused: FLUSHALL is a dangerous"),
            "{s}"
        );
        let e = type_line(&mut a, "cmd CLUSTER COUNTKEYSINSLOT 5");
        assert!(matches!(e, Some(Effect::NodeCommand(_))), "{:?}", a.message);
    }
}

#[test]
fn y_copies_the_finding_with_its_plan_and_the_plan_in_view() {
    let mut a = sample::app(SampleCase::MasterDown, 120, 40);
    a.focus = Pane::Findings;
    let Some(Effect::Copy(text)) = a.on_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE))
    else {
        panic!("no copy: {:?}", a.message);
    };
    let f = &a.findings()[0];
    assert!(text.contains(&f.summary), "{text}");
    let msg = a.message.clone().unwrap_or_default();
    assert!(
        msg.starts_with("copied the finding") && msg.ends_with("bytes) to the clipboard"),
        "{msg}"
    );
    assert!(msg.contains(&format!("({} bytes)", text.len())), "{msg}");
    // In the chooser: the commands of the plan under the cursor, as the plan shows them.
    a.on_key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
    assert_eq!(a.mode, Mode::Fix);
    let plan = a
        .fix
        .as_ref()
        .and_then(FixDialog::plan)
        .cloned()
        .expect("plan");
    let e = a.on_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE));
    if plan.steps.is_empty() {
        assert_eq!(e, None);
    } else {
        let Some(Effect::Copy(text)) = e else {
            panic!("no copy")
        };
        assert_eq!(text.lines().count(), plan.steps.len());
        assert_eq!(
            text.lines().next(),
            Some(plan.steps[0].redis_cli_line().as_str())
        );
        let msg = a.message.clone().unwrap_or_default();
        assert!(msg.contains(&format!("of plan {}", plan.id)), "{msg}");
    }
    // In the healthy dashboard, outside the findings, `y` says what it copies.
    let mut h = sample::app(SampleCase::Healthy, 80, 24);
    assert_eq!(
        h.on_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)),
        None
    );
    assert!(h.message.as_deref().unwrap_or("").starts_with("y copies"));
}

#[test]
fn a_failover_shows_as_role_changes_in_the_detail_and_the_timeline() {
    let mut a = sample::app(SampleCase::Healthy, 200, 60);
    let p = a.shown.clone().expect("shown");
    let mut m = (*p.model).clone();
    let (mi, ri) = {
        let ri = m
            .nodes
            .iter()
            .position(|n| n.role == Role::Replica)
            .expect("a replica");
        let mi = m
            .nodes
            .iter()
            .position(|n| n.id.is_some() && n.id == m.nodes[ri].master_id)
            .expect("its master");
        (mi, ri)
    };
    m.nodes[ri].role = Role::Master;
    m.nodes[mi].role = Role::Replica;
    let mut snap = (*p.snapshot).clone();
    snap.finished_at_ms += 1000;
    a.on_presented(Presented::from_parts(
        Arc::new(snap),
        m.clone(),
        p.findings.clone(),
    ));
    assert_eq!(a.role_changes.total(), 2);
    let promoted = m.nodes[ri].clone();
    assert_eq!(a.role_changes.of(&promoted).map(|h| h.count), Some(1));
    let s = screen(&a);
    assert!(s.contains("promoted to master"), "{s}");
    assert!(s.contains("flips"), "the wide table has the column:\n{s}");
    a.run_command(&format!("node {}", promoted.addr));
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let s = screen(&a);
    assert!(
        s.contains("role changes 1 flip since slotscope started"),
        "{s}"
    );
}
