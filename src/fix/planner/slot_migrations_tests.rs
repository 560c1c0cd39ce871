use super::test_kit::*;
use crate::cluster::diagnose;
use crate::cluster::slot_migrations::sample_migration;
use crate::cluster::slots::SlotRange;
use crate::fix::{Confirmation, PlanKind, plan_fixes};

const T: u64 = 1_000;

fn with_job(b: ModelBuilder, state: &str, ack: u64, now: u64) -> crate::cluster::ClusterModel {
    let mut m = b.build();
    m.slot_migrations = vec![sample_migration(
        &id('a'),
        &id('b'),
        SlotRange::new(0, 99),
        state,
        (T, ack, now),
    )];
    m
}

fn plans_of(m: &crate::cluster::ClusterModel) -> Vec<crate::fix::FixPlan> {
    plan_fixes(m, &diagnose(m))
}

#[test]
fn a_progressing_job_gets_no_plan() {
    let m = with_job(three(), "snapshotting", T + 1, T + 2);
    assert!(plans_of(&m).is_empty(), "{:#?}", plans_of(&m));
}

#[test]
fn a_stalled_job_is_cancelled_on_its_source_without_a_typed_word() {
    let m = with_job(three(), "snapshotting", T, T + 30);
    let plans = plans_of(&m);
    let p = plan(&plans, "cancel-slot-migration-job-0-99");
    assert_eq!(p.kind, PlanKind::CancelSlotMigration);
    assert_eq!(commands(p), vec!["7000 CLUSTER CANCELSLOTMIGRATIONS"]);
    assert_eq!(p.steps[0].node_id, Some(id('a')));
    assert!(p.recommended);
    assert_eq!(p.confirmation, Confirmation::Simple);
    assert!(!p.risk.loses_data);
    assert!(
        p.preconditions
            .iter()
            .all(|c| c.condition.check(&m).is_ok()),
        "{:#?}",
        p.preconditions
    );
    // The expected end state does not hold yet: the job still runs.
    assert!(p.expected[0].condition.check(&m).is_err());
}

#[test]
fn a_cleanly_failed_job_is_retried_and_the_keys_move_with_their_slots() {
    let m = with_job(three(), "failed", T, T + 70);
    let plans = plans_of(&m);
    let p = plan(&plans, "retry-slot-migration-job-0-99");
    assert_eq!(p.kind, PlanKind::RetrySlotMigration);
    assert_eq!(
        commands(p)[0],
        format!("7000 CLUSTER MIGRATESLOTS SLOTSRANGE 0 99 NODE {}", id('b'))
    );
    assert_eq!(p.risk.slots_changing_owner, 100);
    assert_eq!(p.confirmation, Confirmation::Simple);
    assert!(!p.risk.loses_data, "{:#?}", p.risk);
    let a = crate::fix::effects::assess(p, &m);
    assert!(a.is_safe(), "{a:?}");
}

#[test]
fn a_job_that_split_its_slots_leaves_the_repair_to_the_classic_plans() {
    let mut m = with_job(three(), "failed", T, T + 70);
    let b = u32::try_from(m.nodes.iter().position(|n| n.id == Some(id('b'))).unwrap()).unwrap();
    for e in &mut m.slots[50..100] {
        e.owner = Some(b);
    }
    assert!(plans_of(&m).iter().all(|p| !matches!(
        p.kind,
        PlanKind::RetrySlotMigration | PlanKind::CancelSlotMigration
    )));
}
