//! Tests of the open-slot plans: close, complete and roll back a half-moved slot.

use rstest::rstest;

use crate::fix::{Confirmation, KeysAtRisk, PlanKind, StepAction};

use super::test_kit::{commands, id, plan, three};
use super::{PlanScope, plan_fixes, plan_fixes_for};

#[rstest]
// (migrating marker, importing marker, keys on a, keys on b) -> expected plan ids
#[case(true, true, 10, 0, &["complete-migration-100", "stabilise-slot-100"])]
#[case(true, true, 0, 0, &["complete-migration-100", "stabilise-slot-100"])]
#[case(true, false, 10, 0, &["stabilise-slot-100"])]
#[case(false, true, 10, 0, &["stabilise-slot-100"])]
#[case(true, true, 6, 4, &["complete-migration-100", "rollback-migration-100"])]
#[case(true, true, 0, 4, &["complete-migration-100", "rollback-migration-100"])]
#[case(false, true, 6, 4, &["complete-migration-100", "rollback-migration-100"])]
#[case(true, false, 6, 4, &["complete-migration-100", "rollback-migration-100"])]
fn open_slot_plans(
    #[case] mig: bool,
    #[case] imp: bool,
    #[case] on_a: u64,
    #[case] on_b: u64,
    #[case] expected: &[&str],
) {
    let m = three()
        .open(100, 'a', 'b', mig, imp, &[('a', on_a), ('b', on_b)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, expected);
}

#[test]
fn stabilise_clears_only_marked_nodes() {
    let m = three()
        .open(100, 'a', 'b', true, false, &[('a', 10), ('b', 0)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "stabilise-slot-100");
    assert_eq!(commands(p), ["7000 CLUSTER SETSLOT 100 STABLE"]);
    assert!(!p.risk.loses_data);
    assert_eq!(p.confirmation, Confirmation::Simple);
    // Preconditions hold on the model the plan came from.
    assert!(crate::fix::failed_checks(&p.preconditions, &m).is_empty());
}

#[test]
fn both_markers_no_key_moved_offers_complete_by_default_and_close() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 10), ('b', 0)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let complete = plan(&plans, "complete-migration-100");
    let close = plan(&plans, "stabilise-slot-100");
    assert!(
        complete.recommended && !close.recommended,
        "both markers agree on a -> b: the intent is to move the slot"
    );
    assert_eq!(complete.group, close.group);
    assert!(complete.group.is_some());
    let b = id('b').0;
    // Move every key, then SETSLOT NODE on the target first, the source, every other master.
    assert_eq!(
        commands(complete),
        [
            "7000 MIGRATE keys of slot 100 to 127.0.0.1:7001 in batches of 100 (GETKEYSINSLOT + MIGRATE)".to_owned(),
            format!("7001 CLUSTER SETSLOT 100 NODE {b}"),
            format!("7000 CLUSTER SETSLOT 100 NODE {b}"),
            format!("7002 CLUSTER SETSLOT 100 NODE {b}"),
        ]
    );
    assert_eq!(complete.risk.keys_to_move, 10);
    assert_eq!(complete.risk.keys_at_risk, KeysAtRisk::Known(0));
    assert!(
        complete
            .risk
            .notes
            .iter()
            .any(|n| n.contains("no key has moved yet")),
        "{:?}",
        complete.risk.notes
    );
    // Closing: STABLE on both sides, nothing moves.
    assert_eq!(
        commands(close),
        [
            "7000 CLUSTER SETSLOT 100 STABLE",
            "7001 CLUSTER SETSLOT 100 STABLE"
        ]
    );
    assert_eq!(close.risk.keys_to_move, 0);
    assert!(
        close.risk.notes.iter().any(|n| n.contains("abandons")),
        "{:?}",
        close.risk.notes
    );
    // Nothing to roll back.
    assert!(!plans.iter().any(|p| p.kind == PlanKind::RollBackMigration));
    for p in [complete, close] {
        assert!(
            crate::fix::failed_checks(&p.preconditions, &m).is_empty(),
            "{}",
            p.id
        );
    }
}

#[test]
fn both_markers_no_key_moved_with_a_failing_target_only_closes() {
    let mut b = three()
        .open(100, 'a', 'b', true, true, &[('a', 10), ('b', 0)])
        .everyone_knows();
    b.get('b').peers.fail_by = vec![id('a'), id('c')].into();
    let m = b.build();
    let plans = plan_fixes_for(&m, &[], &PlanScope::Slot(100));
    let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["stabilise-slot-100"]);
    assert!(plans[0].recommended);
}

#[test]
fn close_with_an_uncounted_target_has_unknown_keys_at_risk() {
    // COUNTKEYSINSLOT answered on a (10 keys) but not on b: b may hold keys that closing
    // would orphan. Unknown, never 0.
    let m = three()
        .open(100, 'a', 'b', true, false, &[('a', 10)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "stabilise-slot-100");
    assert_eq!(p.risk.keys_at_risk.known(), None);
    assert_eq!(p.risk.keys_at_risk.to_string(), "unknown");
    assert_eq!(p.risk.level(), crate::fix::RiskLevel::High);
    assert!(
        p.risk.notes[0].contains("could not be counted"),
        "{:?}",
        p.risk.notes
    );
    // What cannot be measured needs the typed word.
    assert_eq!(
        p.confirmation,
        Confirmation::TypeWord("lose-unknown-keys".into())
    );
    // Counted on both sides: nothing at risk.
    let m = three()
        .open(100, 'a', 'b', true, false, &[('a', 10), ('b', 0)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "stabilise-slot-100");
    assert_eq!(p.risk.keys_at_risk, KeysAtRisk::Known(0));
    assert_eq!(p.risk.level(), crate::fix::RiskLevel::Low);
}

#[test]
fn complete_migration_orders_steps_target_first() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "complete-migration-100");
    assert!(
        p.recommended,
        "markers say a -> b: completing is the default"
    );
    assert!(!plan(&plans, "rollback-migration-100").recommended);
    let b = id('b').0;
    assert_eq!(
        commands(p),
        [
            "7000 MIGRATE keys of slot 100 to 127.0.0.1:7001 in batches of 100 (GETKEYSINSLOT + MIGRATE)".to_owned(),
            format!("7001 CLUSTER SETSLOT 100 NODE {b}"),
            format!("7000 CLUSTER SETSLOT 100 NODE {b}"),
            format!("7002 CLUSTER SETSLOT 100 NODE {b}"),
        ]
    );
    assert_eq!(p.risk.keys_to_move, 6);
    assert_eq!(p.risk.slots_changing_owner, 1);
    // The source's SETSLOT tolerates having become a replica.
    let StepAction::Command { tolerate, .. } = &p.steps[2].action else {
        panic!()
    };
    assert_eq!(tolerate, &["only with masters".to_owned()]);
    assert!(crate::fix::failed_checks(&p.preconditions, &m).is_empty());
}

#[test]
fn complete_sets_missing_markers_first() {
    let m = three()
        .open(100, 'a', 'b', false, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "complete-migration-100");
    let b = id('b').0;
    assert_eq!(
        commands(p)[0],
        format!("7000 CLUSTER SETSLOT 100 MIGRATING {b}")
    );
}

#[test]
fn rollback_closes_source_then_moves_keys_back() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "rollback-migration-100");
    let cmds = commands(p);
    assert_eq!(cmds.len(), 3, "{cmds:?}");
    assert_eq!(cmds[0], "7000 CLUSTER SETSLOT 100 STABLE");
    assert!(cmds[1].starts_with("7001 MIGRATE keys of slot 100 to 127.0.0.1:7000"));
    assert_eq!(cmds[2], "7001 CLUSTER SETSLOT 100 STABLE");
    assert_eq!(p.risk.keys_to_move, 4);
}

#[test]
fn precondition_fails_when_marker_cleared() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "complete-migration-100");
    let mut fresh = m.clone();
    fresh.nodes[0].own_line.as_mut().unwrap().markers.clear();
    let failed = crate::fix::failed_checks(&p.preconditions, &fresh);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("no longer migrating"), "{failed:?}");
}

/// Valkey 8 copies SETSLOT markers to replicas (captured: `tests/fixtures/valkey8_open_*`).
/// The copies are recorded as markers on replicas, never as extra sides, so the move is one
/// source and one target and is repaired as on Redis 7.
#[test]
fn valkey_replica_copies_of_markers_are_not_sides_of_the_move() {
    use crate::cluster::diagnose;
    use crate::cluster::model::ClusterModel;
    use crate::cluster::synthetic::{set_slot_keys, snapshot_from_texts};
    use crate::cluster::types::NodeId;
    macro_rules! valkey {
        ($port:literal) => {
            (
                concat!("127.0.0.1:", $port),
                Ok(include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/valkey8_open_nodes_",
                    $port,
                    ".txt"
                ))),
            )
        };
    }
    let mut snap = snapshot_from_texts(&[
        valkey!(21611),
        valkey!(21612),
        valkey!(21613),
        valkey!(21614),
        valkey!(21615),
        valkey!(21616),
    ]);
    for (ep, n) in [
        ("127.0.0.1:21611", 6),
        ("127.0.0.1:21612", 4),
        ("127.0.0.1:21613", 0),
    ] {
        assert!(set_slot_keys(&mut snap, ep, &[(100, n)]));
    }
    let m = ClusterModel::build(&snap);
    let a = NodeId::from("7a0d3c5529d9c560fac0dc3915d3e9f3ec67f91d");
    let b = NodeId::from("b848b08a724f40303e695b616b18ae0dcd6d90ec");
    let o = &m.open_slots[0];
    assert_eq!(o.migrating, vec![(a.clone(), b.clone())]);
    assert_eq!(o.importing, vec![(b.clone(), a.clone())]);
    let mut copies: Vec<&str> = o.on_replicas.iter().map(|n| &n.as_str()[..8]).collect();
    copies.sort_unstable();
    assert_eq!(copies, ["b84d6799", "f080a804"]);
    let findings = diagnose(&m);
    let f = findings
        .iter()
        .find(|f| f.kind == crate::cluster::FindingKind::OpenSlot)
        .unwrap_or_else(|| panic!("{findings:?}"));
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("replicas hold copies of their masters' markers")),
        "{:?}",
        f.evidence
    );
    let plans = plan_fixes(&m, &findings);
    let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["complete-migration-100", "rollback-migration-100"]);
    // No step goes to a replica: SETSLOT is refused there.
    for p in &plans {
        for st in &p.steps {
            assert!(
                ![21614, 21615, 21616].contains(&st.endpoint.port),
                "{} sent to a replica",
                st.description
            );
        }
    }
}

#[test]
fn no_plan_for_a_slot_moving_in_a_live_reshard() {
    use crate::cluster::progress::{Flow, Progress};
    let mut m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    assert!(!plan_fixes(&m, &[]).is_empty());
    m.progress = Progress {
        flows: vec![Flow {
            source: id('a'),
            target: id('b'),
            started_at_ms: 0,
            last_active_ms: 500,
            active: true,
            slots_moved: 3,
            keys_moved: 40,
            open: vec![100],
            moved_now: vec![],
            moved_before: vec![],
        }],
    };
    let plans = plan_fixes(&m, &[]);
    assert!(
        plans.is_empty(),
        "{:?}",
        plans.iter().map(|p| &p.id).collect::<Vec<_>>()
    );
}

#[test]
fn a_range_of_open_slots_between_the_same_nodes_gets_one_plan() {
    let mut b = three();
    for s in 100..=199 {
        b = b.open(s, 'a', 'b', true, true, &[('a', 3), ('b', 2)]);
    }
    let m = b.everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["complete-migration-100-199", "rollback-migration-100-199"],
        "one plan per direction, not one per slot"
    );
    let complete = plan(&plans, "complete-migration-100-199");
    assert!(
        complete.title.contains("100 slots 100-199"),
        "{}",
        complete.title
    );
    assert_eq!(complete.risk.keys_to_move, 300);
    assert!(complete.recommended && !complete.risk.loses_data);
    // The steps loop over the slots, in order.
    let cmds = commands(complete);
    assert!(cmds.iter().any(|c| c.contains("slot 100 ")), "{cmds:?}");
    assert!(
        cmds.iter().any(|c| c.contains("SETSLOT 199 NODE")),
        "{cmds:?}"
    );
    assert!(crate::fix::failed_checks(&complete.preconditions, &m).is_empty());
    // Rolling back loses the keys already moved, one typed word for all of them.
    let back = plan(&plans, "rollback-migration-100-199");
    assert!(back.risk.loses_data && !back.recommended);
    assert_eq!(back.group, complete.group);
    assert_eq!(
        back.confirmation,
        Confirmation::TypeWord(format!(
            "lose-{}-keys",
            back.risk.keys_at_risk.known().unwrap_or(0)
        ))
    );
}
