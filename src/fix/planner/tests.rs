//! Tests of the planner as a whole: a healthy cluster, scopes, and the JSON of plans.

use super::test_kit::{id, three};
use super::{PlanScope, plan_fixes, plan_fixes_for};

#[test]
fn healthy_cluster_has_no_plan() {
    let m = three().replica_of('d', 'a', true).everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    assert!(
        plans.is_empty(),
        "{:?}",
        plans.iter().map(|p| &p.id).collect::<Vec<_>>()
    );
}

#[test]
fn scope_filters_by_slot_and_node() {
    let m = three()
        .open(100, 'a', 'b', true, false, &[('a', 1)])
        .open(9000, 'b', 'c', true, false, &[('b', 1)])
        .everyone_knows()
        .build();
    let only = plan_fixes_for(&m, &[], &PlanScope::Slot(9000));
    assert_eq!(
        only.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["stabilise-slot-9000"]
    );
    let by_node = plan_fixes_for(&m, &[], &PlanScope::Node(id('a')));
    assert_eq!(
        by_node.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["stabilise-slot-100"]
    );
}

#[test]
fn plans_serialize_to_json() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let v = serde_json::to_value(&plans).unwrap();
    assert_eq!(v[0]["id"], "complete-migration-100");
    assert_eq!(v[0]["risk"]["keys_to_move"], 6);
}
