//! Tests of the uncovered-slot plans: reclaim by the key holder and cover empty slots.

use crate::fix::{Confirmation, PlanKind};

use super::plan_fixes;
use super::test_kit::{commands, id, plan, three};

#[test]
fn deleted_slots_are_reclaimed_by_the_key_holder() {
    let m = three()
        .uncover(0, 99, Some('a'))
        .uncover(200, 200, Some('a'))
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("reclaim-slots-{}", id('a').short()));
    assert_eq!(
        commands(p)[..2],
        [
            "7000 CLUSTER ADDSLOTSRANGE 0 99 200 200".to_owned(),
            "7000 CLUSTER BUMPEPOCH".to_owned()
        ]
    );
    assert!(!p.risk.loses_data);
    assert!(!plans.iter().any(|p| p.kind == PlanKind::CoverEmptySlots));
}

#[test]
fn empty_slots_inside_a_holders_run_go_to_the_holder() {
    // 0-99 uncovered, keys only in slot 50 on b: the whole run goes back to b, unfragmented.
    let mut b = three().uncover(0, 99, None);
    b.model
        .uncovered_keys
        .entry(50)
        .or_default()
        .insert(id('b'), 3);
    let m = b.everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("reclaim-slots-{}", id('b').short()));
    assert_eq!(commands(p)[0], "7001 CLUSTER ADDSLOTSRANGE 0 99");
    assert!(!plans.iter().any(|p| p.kind == PlanKind::CoverEmptySlots));
}

#[test]
fn empty_uncovered_slots_are_spread_contiguously() {
    let m = three().uncover(0, 5460, None).everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "cover-empty-slots-0");
    let cmds: Vec<String> = commands(p)
        .into_iter()
        .filter(|c| c.contains("ADDSLOTS"))
        .collect();
    // a lost its only slots but still answers as a master: three live masters share 5461.
    assert_eq!(
        cmds,
        [
            "7000 CLUSTER ADDSLOTSRANGE 0 1820",
            "7001 CLUSTER ADDSLOTSRANGE 1821 3640",
            "7002 CLUSTER ADDSLOTSRANGE 3641 5460",
        ]
    );
    assert_eq!(p.confirmation, Confirmation::Simple);
}
