//! Tests of slot-ownership disputes and config epoch collisions.

use crate::cluster::diagnose::tests::kit::*;
use crate::cluster::diagnose::tests::scenarios::*;

#[rstest]
#[case::double_claim(dispute_double_claim(), vec![(K::SlotOwnershipDispute, C)])]
#[case::stale_views(dispute_stale_views(), vec![(K::SlotOwnershipDispute, W)])]
#[case::deleted_slots(deleted_slots_on_owner(), vec![
    (K::ClusterDown, C), (K::UncoveredSlots, C), (K::SlotOwnershipDispute, W)])]
#[case::epoch_collision(epoch_collision(), vec![(K::ConfigEpochCollision, W)])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    assert_findings(&model, &expected);
}

#[rstest]
#[case::double_claim(
    dispute_double_claim(),
    K::SlotOwnershipDispute,
    "127.0.0.1:7001 (01010101) claims 10 slots (0-9) that the cluster gives to 127.0.0.1:7000 (00000000) (epoch 1 vs its epoch 2)"
)]
#[case::stale(
    dispute_stale_views(),
    K::SlotOwnershipDispute,
    "127.0.0.1:7010 (0a0a0a0a), 127.0.0.1:7020 (14141414) think 10 slots (0-9) belong to 127.0.0.1:7002 (02020202), epoch 3, but the consensus owner is 127.0.0.1:7000 (00000000), epoch 7"
)]
#[case::deleted(
    deleted_slots_on_owner(),
    K::SlotOwnershipDispute,
    "but it no longer claims them itself (CLUSTER DELSLOTS?)"
)]
#[case::epoch(
    epoch_collision(),
    K::ConfigEpochCollision,
    "masters 127.0.0.1:7000 (00000000), 127.0.0.1:7001 (01010101) share config epoch 1"
)]
fn summaries_name_real_things(
    #[case] model: ClusterModel,
    #[case] kind: FindingKind,
    #[case] needle: &str,
) {
    assert_summary(&model, kind, needle);
}

#[test]
fn captured_deleted_slots_on_owner() {
    let (_, f) = run(&[
        (A, Ok(fixture!("delslots_nodes_31000.txt"))),
        (A2, Ok(fixture!("delslots_nodes_31003.txt"))),
        (C2, Ok(fixture!("delslots_nodes_31005.txt"))),
    ]);
    let u = with_summary(
        &f,
        K::UncoveredSlots,
        "384 slots (16000-16383) bound to no master",
    );
    assert_eq!(u.severity, C);
    let d = with_summary(
        &f,
        K::SlotOwnershipDispute,
        "still bind 384 slots (16000-16383) to 127.0.0.1:31005 (3f3fd9e9)",
    );
    assert!(d.summary.contains("no longer claims them itself"));
}
