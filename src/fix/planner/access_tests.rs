//! Tests of plans turned into advice when a node refuses one of their commands.

use crate::cluster::access::{Refusal, RefusalKind};
use crate::cluster::types::NodeConfig;

use super::plan_fixes;
use super::test_kit::{plan, three};

fn refusal(command: &str, kind: RefusalKind, dry_run: bool) -> Refusal {
    Refusal {
        command: command.to_owned(),
        kind,
        message: "NOPERM".to_owned(),
        since_ms: 1,
        dry_run,
    }
}

#[test]
fn a_renamed_config_makes_coverage_plans_advice_that_says_why() {
    let mut b = three().everyone_knows();
    b.get('a').config = Some(NodeConfig {
        require_full_coverage: Some(false),
        ..NodeConfig::default()
    });
    b.get('b')
        .access
        .record(refusal("config", RefusalKind::Unknown, false));
    let m = b.build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "coverage-on");
    assert!(p.is_advice_only(), "{p:?}");
    assert!(p.steps.is_empty());
    assert_eq!(
        p.advice[0],
        "Not runnable: CONFIG is unknown on 127.0.0.1:7001 (renamed or disabled)."
    );
    // The steps are still there to read, as redis-cli lines.
    assert!(
        p.advice
            .iter()
            .any(|l| l.contains("-p 7000 CONFIG SET cluster-require-full-coverage yes")),
        "{:?}",
        p.advice
    );
}

#[test]
fn a_command_the_user_may_not_run_names_the_user_and_node() {
    let mut b = three().everyone_knows();
    b.get('a').config = Some(NodeConfig {
        require_full_coverage: Some(false),
        ..NodeConfig::default()
    });
    let c = b.get('c');
    c.access.user = Some("ops".into());
    c.access
        .record(refusal("config|set", RefusalKind::NotAllowed, true));
    // A refused read (CONFIG GET) says nothing about CONFIG SET.
    b.get('a')
        .access
        .record(refusal("config|get", RefusalKind::NotAllowed, false));
    let m = b.build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "coverage-on");
    assert_eq!(
        p.advice[0],
        "Not runnable: CONFIG SET is not allowed for user ops on 127.0.0.1:7002."
    );
    assert_eq!(
        p.advice
            .iter()
            .filter(|l| l.starts_with("Not runnable"))
            .count(),
        1
    );
}

#[test]
fn plans_on_nodes_that_refuse_nothing_stay_runnable() {
    let mut b = three().everyone_knows();
    b.get('a').config = Some(NodeConfig {
        require_full_coverage: Some(false),
        ..NodeConfig::default()
    });
    b.get('a')
        .access
        .record(refusal("info", RefusalKind::NotAllowed, false));
    let m = b.build();
    let p = plan(&plan_fixes(&m, &[]), "coverage-on").clone();
    assert_eq!(p.steps.len(), 3);
    assert!(!p.is_advice_only());
}

#[test]
fn a_refused_recommended_plan_hands_the_star_to_a_runnable_alternative() {
    let build = |refuse: Option<(&str, RefusalKind)>| {
        let mut b = three()
            .open(100, 'a', 'b', true, true, &[('a', 10), ('b', 0)])
            .everyone_knows();
        if let Some((cmd, kind)) = refuse {
            b.get('a').access.record(refusal(cmd, kind, false));
        }
        plan_fixes(&b.build(), &[])
    };
    let plans = build(None);
    assert!(plan(&plans, "complete-migration-100").recommended);
    assert!(!plan(&plans, "stabilise-slot-100").recommended);
    // MIGRATE is refused on the source: completing is advice, closing the slot still runs.
    let plans = build(Some(("migrate", RefusalKind::NotAllowed)));
    let complete = plan(&plans, "complete-migration-100");
    let close = plan(&plans, "stabilise-slot-100");
    assert!(
        complete.is_advice_only() && !complete.recommended,
        "{complete:?}"
    );
    assert!(!close.is_advice_only() && close.recommended, "{close:?}");
    assert_eq!(plans.iter().filter(|p| p.recommended).count(), 1);
}

#[test]
fn when_every_plan_is_refused_the_star_stays_on_one_advice() {
    let mut b = three()
        .open(100, 'a', 'b', true, true, &[('a', 10), ('b', 0)])
        .everyone_knows();
    b.get('a')
        .access
        .record(refusal("cluster|setslot", RefusalKind::Unknown, false));
    let plans = plan_fixes(&b.build(), &[]);
    assert!(plans.iter().all(super::super::FixPlan::is_advice_only));
    let rec: Vec<&str> = plans
        .iter()
        .filter(|p| p.recommended)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(rec, ["complete-migration-100"]);
}
