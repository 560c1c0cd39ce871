//! Tests of the replica relations: `ReplicaNotSyncing`, `ReplicaMasterFailing`, `ReplicaOfUnknownMaster`.

use crate::cluster::diagnose::replication::REPLICA_START_GRACE_S;
use crate::cluster::diagnose::tests::kit::*;
use crate::cluster::diagnose::tests::scenarios::*;

#[rstest]
#[case::replica_of_unknown(replica_of_unknown(), vec![(K::ReplicaOfUnknownMaster, W), (K::NoReplica, W)])]
#[case::replica_of_slotless(replica_of_slotless_failed(), vec![
    (K::LingeringFailedNode, W), (K::ReplicaMasterFailing, W)])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    assert_findings(&model, &expected);
}

#[rstest]
#[case::unknown_master(
    replica_of_unknown(),
    K::ReplicaOfUnknownMaster,
    "replica 127.0.0.1:7030 (1e1e1e1e) replicates 63636363, which no node knows"
)]
#[case::slotless_master(
    replica_of_slotless_failed(),
    K::ReplicaMasterFailing,
    "replica 127.0.0.1:7021 (15151515) replicates 127.0.0.1:7001 (01010101), which is failed and serves no slots"
)]
#[case::replica_not_syncing(
    replica_link_down(),
    K::ReplicaNotSyncing,
    "replica 127.0.0.1:7010 (0a0a0a0a) is not replicating from its master 127.0.0.1:7000 (00000000) (master_link_status:down): a failover to it would lose the writes since the link broke; 127.0.0.1:7000 (00000000) has no replica in sync, so losing it loses 5461 slots (0-5460)"
)]
fn summaries_name_real_things(
    #[case] model: ClusterModel,
    #[case] kind: FindingKind,
    #[case] needle: &str,
) {
    assert_summary(&model, kind, needle);
}

#[test]
fn replica_link_down_names_both_nodes_and_the_offsets() {
    let f = diagnose(&replica_link_down());
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.kind, K::ReplicaNotSyncing);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.nodes, vec![id(10), id(0)]);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("master 5000, replica 1200 (3800 bytes behind)")),
        "{:#?}",
        f.evidence
    );
}

#[test]
fn replica_in_full_sync_is_info_not_a_warning() {
    let mut lab = ModelBuilder::healthy(3, 1);
    if let Some(i) = &mut lab.get(20).info {
        i.master_link_status = Some("down".into());
        i.master_sync_in_progress = Some(true);
        i.master_link_down_since_s = Some(4);
    }
    let f = diagnose(&lab.build());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, K::ReplicaNotSyncing);
    assert_eq!(f[0].severity, Severity::Info);
    assert!(
        f[0].summary.contains("full sync in progress"),
        "{}",
        f[0].summary
    );
    assert!(f[0].evidence.iter().any(|e| e == "link down for 4 s"));
}

#[test]
fn replica_of_a_down_master_is_not_reported_as_not_syncing() {
    // The master is the problem there (its own finding says so), not the replica's link.
    let mut lab = ModelBuilder::healthy(3, 1).kill(0).all_fail();
    if let Some(i) = &mut lab.get(10).info {
        i.master_link_status = Some("down".into());
    }
    let f = diagnose(&lab.build());
    assert!(!f.iter().any(|x| x.kind == K::ReplicaNotSyncing), "{f:#?}");
}

#[test]
fn fresh_replicas_with_zero_offset_are_not_an_incident() {
    let mut lab = ModelBuilder::healthy(3, 1);
    for n in [10, 20, 30] {
        if let Some(i) = &mut lab.get(n).info {
            i.slave_repl_offset = Some(0);
            i.master_repl_offset = Some(0);
            i.master_link_status = Some("up".into());
        }
    }
    assert!(diagnose(&lab.build()).is_empty());
}

#[test]
fn a_replica_that_never_connected_is_info_during_its_grace_then_a_warning() {
    let build = |uptime: u64, never_up: bool| {
        let mut lab = ModelBuilder::healthy(3, 1);
        if let Some(i) = &mut lab.get(20).info {
            i.master_link_status = Some("down".into());
            i.master_link_never_up = never_up;
            i.uptime_s = Some(uptime);
        }
        diagnose(&lab.build())
    };
    let f = build(5, true);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, K::ReplicaNotSyncing);
    assert_eq!(f[0].severity, Severity::Info);
    assert!(
        f[0].summary.contains("has not connected to its master"),
        "{}",
        f[0].summary
    );
    assert!(f[0].summary.contains("started 5 s ago"), "{}", f[0].summary);
    // After the grace period: a warning.
    let f = build(REPLICA_START_GRACE_S, true);
    assert_eq!(f[0].severity, Severity::Warning, "{f:#?}");
    // A link that was up once and broke is a warning at once, however young the node.
    let f = build(5, false);
    assert_eq!(f[0].severity, Severity::Warning, "{f:#?}");
}
