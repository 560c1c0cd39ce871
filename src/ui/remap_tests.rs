//! The screen names both the announced and the connected address under `--remap`, and the
//! `redis-cli` lines of plans in the fix dialog are the ones `slotscope fix` prints.

use crate::app::sample::{self, SampleCase};
use crate::cluster::types::Endpoint;
use crate::fix::{CliAuth, FixStep, plan_fixes};
use crate::refresh::conn::remap::RemapTable;

fn text(lines: &[ratatui::text::Line<'_>]) -> String {
    lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn remapped_app(case: SampleCase, rule: &str) -> crate::app::App {
    let mut app = sample::app(case, 120, 40);
    app.cli_auth = CliAuth {
        user: Some("ops".into()),
        password: true,
        program: None,
        tls: Some("--tls --cacert ca.pem".into()),
        remap: RemapTable::parse(&[rule]).expect("rule"),
        ..CliAuth::default()
    };
    app
}

#[test]
fn the_node_detail_names_the_announced_and_the_connected_address() {
    let app = remapped_app(SampleCase::Healthy, "127.0.0.1:7000=10.9.9.9:17000");
    let model = app.model().expect("a model");
    let idx = model
        .nodes
        .iter()
        .position(|n| n.addr.port == 7000)
        .expect("node 7000");
    let other = model
        .nodes
        .iter()
        .position(|n| n.addr.port != 7000)
        .expect("another node");
    let shown = text(&super::detail::detail_lines(&app, idx, 100));
    assert!(
        shown.contains("connected to")
            && shown.contains("127.0.0.1:7000")
            && shown.contains("→ 10.9.9.9:17000"),
        "{shown}"
    );
    let plain = text(&super::detail::detail_lines(&app, other, 100));
    assert!(!plain.contains("connected to"), "{plain}");
}

#[test]
fn plan_lines_in_the_dialog_match_slotscope_fix() {
    let app = remapped_app(SampleCase::Uncovered, "127.0.0.1=10.9.9.9");
    let p = app.shown.as_ref().expect("shown");
    let mut plan = plan_fixes(&p.model, &p.findings)
        .into_iter()
        .next()
        .expect("a plan");
    plan.steps = vec![FixStep::command(
        Endpoint::new("127.0.0.1", 7002),
        None,
        &["CLUSTER", "ADDSLOTS", "5"],
        "bind slot 5",
    )];
    let plan = &plan;
    let shown = text(&super::dialog::plan_lines(&app, plan, 400));
    let auth = app.plan_cli_auth();
    for step in &plan.steps {
        let line = step.redis_cli_line_with(&auth);
        assert!(shown.contains(&line), "{line} not in\n{shown}");
    }
    assert!(
        shown.contains("-h 10.9.9.9 -p 7")
            && shown.contains(" --tls --cacert ca.pem --user ops -a *** "),
        "{shown}"
    );
    assert!(!shown.contains("-h 127.0.0.1"), "{shown}");
}

#[test]
fn plan_lines_name_the_announced_hostname_when_preferred() {
    let step = FixStep::command(
        Endpoint::new("10.0.0.5", 7000),
        None,
        &["CLUSTER", "SETSLOT", "5", "STABLE"],
        "close slot 5",
    );
    let mut auth = CliAuth {
        prefer_hostname: true,
        ..CliAuth::default()
    };
    auth.hostnames
        .insert(Endpoint::new("10.0.0.5", 7000), "node-0.redis.test".into());
    assert!(
        step.redis_cli_line_with(&auth)
            .starts_with("redis-cli -h node-0.redis.test -p 7000 "),
        "{}",
        step.redis_cli_line_with(&auth)
    );
    // --remap applies to the hostname.
    auth.remap = RemapTable::parse(&["node-0.redis.test=127.0.0.1"]).expect("rule");
    assert!(
        step.redis_cli_line_with(&auth)
            .starts_with("redis-cli -h 127.0.0.1 -p 7000 ")
    );
    // Not asked for: the announced address.
    auth.prefer_hostname = false;
    auth.remap = RemapTable::default();
    assert_eq!(
        auth.connected(&Endpoint::new("10.0.0.5", 7000), Some("node-0.redis.test")),
        Endpoint::new("10.0.0.5", 7000)
    );
}
