//! Tests of the slot-level findings: `ClusterDown`, `MajorityLost`, `UncoveredSlots`, `FullCoverageOff`.

use crate::cluster::diagnose::tests::kit::*;
use crate::cluster::diagnose::tests::scenarios::*;

#[rstest]
#[case::majority_lost(majority_lost(), vec![
    (K::ClusterDown, C), (K::MajorityLost, C), (K::MasterDown, C), (K::MasterDown, C)])]
#[case::uncovered(uncovered_with_keys(), vec![(K::ClusterDown, C), (K::UncoveredSlots, C)])]
#[case::full_coverage_off(full_coverage_off(), vec![(K::FullCoverageOff, C), (K::UncoveredSlots, C)])]
#[case::minority(minority_node(), vec![(K::ClusterDown, C)])]
#[case::fresh_boot(fresh_boot_fail(), vec![(K::ClusterDown, C)])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    assert_findings(&model, &expected);
}

#[rstest]
#[case::dead_master_no_replica(
    dead_master_no_replica(),
    K::ClusterDown,
    "CLUSTER DOWN: 5462 slots (10922-16383) not served: master 127.0.0.1:7002 (02020202) failed and has no replica"
)]
#[case::majority(
    majority_lost(),
    K::ClusterDown,
    "only 1 of 3 slot-owning masters are reachable (2 needed)"
)]
#[case::majority_lost(
    majority_lost(),
    K::MajorityLost,
    "down: 127.0.0.1:7000 (00000000), 127.0.0.1:7001 (01010101)"
)]
#[case::uncovered(
    uncovered_with_keys(),
    K::UncoveredSlots,
    "100 slots (0-99) bound to no master; 40 keys on 127.0.0.1:7000 (00000000) in 2 slots (5-6)"
)]
#[case::uncovered_down(
    uncovered_with_keys(),
    K::ClusterDown,
    "CLUSTER DOWN: 100 slots (0-99) not served: 100 slots (0-99) bound to no master"
)]
#[case::fco(
    full_coverage_off(),
    K::FullCoverageOff,
    "CLUSTERDOWN Hash slot not served"
)]
#[case::deleted_down(
    deleted_slots_on_owner(),
    K::ClusterDown,
    "CLUSTER PARTLY DOWN: 1 of 6 nodes report cluster_state:fail: 100 slots (0-99) not served"
)]
#[case::deleted_keys(
    deleted_slots_on_owner(),
    K::UncoveredSlots,
    "12 keys on 127.0.0.1:7000 (00000000) in slot 3"
)]
#[case::minority(
    minority_node(),
    K::ClusterDown,
    "127.0.0.1:7030 (1e1e1e1e) reaches only 1 of 3 slot-owning masters (minority side of a partition)"
)]
#[case::fresh(fresh_boot_fail(), K::ClusterDown, "no cause visible")]
fn summaries_name_real_things(
    #[case] model: ClusterModel,
    #[case] kind: FindingKind,
    #[case] needle: &str,
) {
    assert_summary(&model, kind, needle);
}

#[test]
fn cluster_down_lists_failing_nodes_and_unserved_slots() {
    let f = diagnose(&dead_master_no_replica());
    let cd = find(&f, K::ClusterDown);
    assert_eq!(cd.slots, vec![SlotRange::new(10922, 16383)]);
    // The nodes reporting fail, then the cause.
    assert_eq!(cd.nodes, vec![id(0), id(1), id(2)]);
    assert!(
        cd.evidence
            .iter()
            .any(|e| e.starts_with("cluster_state:fail on 2 of 2 nodes"))
    );
}
