//! Tests of the per-node status findings, `NoReplica` and `DataAnomaly`.

use crate::cluster::diagnose::tests::kit::*;
use crate::cluster::diagnose::tests::scenarios::*;

#[rstest]
#[case::no_replicas(no_replicas(), vec![(K::NoReplica, W), (K::NoReplica, W), (K::NoReplica, W)])]
#[case::failed_over(dead_master_failed_over(), vec![(K::LingeringFailedNode, W), (K::NoReplica, W)])]
#[case::not_joined(not_joined(), vec![(K::NodeNotJoined, W)])]
#[case::not_cluster(not_cluster(), vec![(K::NotCluster, C)])]
#[case::replica_refused(replica_refused(), vec![(K::NodeUnreachable, W)])]
#[case::master_auth(master_auth_failed(), vec![(K::NodeUnreachable, C)])]
#[case::master_hung(master_hung_just_now(), vec![(K::NodeUnreachable, C)])]
#[case::replica_loading(replica_loading(), vec![(K::NodeUnreachable, W)])]
#[case::other_db(keys_in_other_db(), vec![(K::DataAnomaly, W)])]
#[case::bus_partition(bus_partitioned_replica(), vec![(K::NodeDown, W)])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    assert_findings(&model, &expected);
}

#[rstest]
#[case::not_joined(
    not_joined(),
    K::NodeNotJoined,
    "127.0.0.1:7040 (28282828) runs in cluster mode but is not part of the cluster (it knows only itself and owns no slots): run CLUSTER MEET 127.0.0.1 7000 on it"
)]
#[case::lingering(
    dead_master_failed_over(),
    K::LingeringFailedNode,
    "127.0.0.1:7001 (01010101) is a failed node with no slots still listed by"
)]
#[case::not_cluster(
    not_cluster(),
    K::NotCluster,
    "127.0.0.1:6379 is a standalone Redis 7.0.15 (cluster_enabled:0), not a cluster node: start it with `cluster-enabled yes` in redis.conf"
)]
#[case::refused(
    replica_refused(),
    K::NodeUnreachable,
    "replica of 127.0.0.1:7001 (01010101) 127.0.0.1:7020 (14141414) cannot be reached: connection failed (Connection refused)"
)]
#[case::auth(
    master_auth_failed(),
    K::NodeUnreachable,
    "master of 5461 slots (0-5460) 127.0.0.1:7000 (00000000) rejected the credentials (WRONGPASS"
)]
#[case::hung(
    master_hung_just_now(),
    K::NodeUnreachable,
    "accepts connections but does not answer (PING): hung or stopped"
)]
#[case::loading(
    replica_loading(),
    K::NodeUnreachable,
    "is loading its dataset (LOADING)"
)]
#[case::db(
    keys_in_other_db(),
    K::DataAnomaly,
    "127.0.0.1:7001 (01010101) holds 12 keys outside db0"
)]
#[case::bus(
    bus_partitioned_replica(),
    K::NodeDown,
    "answers slotscope but its peers flag it fail"
)]
#[case::no_replica(
    no_replicas(),
    K::NoReplica,
    "master 127.0.0.1:7000 (00000000) serves 5461 slots (0-5460) with no replica"
)]
fn summaries_name_real_things(
    #[case] model: ClusterModel,
    #[case] kind: FindingKind,
    #[case] needle: &str,
) {
    assert_summary(&model, kind, needle);
}

#[test]
fn captured_after_failover() {
    let (m, f) = run(&[
        (A, Ok(fixture!("failover_nodes_31000.txt"))),
        (C2, Ok(fixture!("failover_nodes_31005.txt"))),
        ("127.0.0.1:31002", Err(refused())),
    ]);
    assert_eq!(worst(&f), Some(W), "{f:#?}");
    with_summary(
        &f,
        K::LingeringFailedNode,
        "127.0.0.1:31002 (0a63eccd) is a failed node with no slots",
    );
    with_summary(
        &f,
        K::NoReplica,
        "master 127.0.0.1:31005 (3f3fd9e9) serves 5461 slots (10923-16383) with no replica",
    );
    assert_eq!(count(&f, K::MasterDown) + count(&f, K::ClusterDown), 0);
    assert!(verdict(&m, &f).starts_with("DEGRADED: "));
}

#[test]
fn not_a_cluster_through_build() {
    let (m, f) = run(&[(
        "127.0.0.1:6379",
        Err(ProbeError::NotCluster {
            version: Some("7.0.15".into()),
        }),
    )]);
    assert_eq!(kinds(&f), vec![(K::NotCluster, C)], "{f:#?}");
    assert!(f[0].summary.starts_with(
        "127.0.0.1:6379 is a standalone Redis 7.0.15 (cluster_enabled:0), not a cluster node"
    ));
    assert!(verdict(&m, &f).starts_with("CRITICAL: 127.0.0.1:6379 is a standalone Redis"));
}

#[test]
fn wrong_password_everywhere_through_build() {
    let (_, f) = run(&[
        (
            A,
            Err(ProbeError::AuthFailed(
                "WRONGPASS invalid username-password pair".into(),
            )),
        ),
        (
            "127.0.0.1:31001",
            Err(ProbeError::AuthFailed(
                "WRONGPASS invalid username-password pair".into(),
            )),
        ),
    ]);
    assert_eq!(count(&f, K::NodeUnreachable), 2, "{f:#?}");
    assert!(
        f.iter()
            .all(|x| x.summary.contains("rejected the credentials"))
    );
}

#[test]
fn dead_endpoint_nobody_lists_is_a_note_once_the_cluster_answers() {
    // Every node of a healthy cluster answers; a seed (a node the cluster forgot, or a wrong
    // address) refuses connections and no node lists it.
    let mut entries: Vec<(&str, Result<&str, ProbeError>)> = vec![
        (A, Ok(fixture!("healthy_nodes_31000.txt"))),
        ("127.0.0.1:40659", Err(refused())),
    ];
    let (m, f) = run(&entries);
    assert_eq!(worst(&f), Some(Severity::Info), "{f:#?}");
    let note = with_summary(&f, K::NodeUnreachable, "127.0.0.1:40659 does not answer");
    assert!(note.summary.contains("left out of the verdict"), "{note:?}");
    assert!(
        verdict(&m, &f).starts_with("OK: 16384/16384 slots served"),
        "{}",
        verdict(&m, &f)
    );
    // A timeout and a hung server are the same; a password error is not (it answered).
    for e in [
        ProbeError::ConnectTimeout,
        ProbeError::Unresponsive("PING".into()),
    ] {
        entries[1].1 = Err(e);
        let (_, f) = run(&entries);
        assert_eq!(worst(&f), Some(Severity::Info), "{f:#?}");
    }
    entries[1].1 = Err(ProbeError::AuthRequired);
    let (_, f) = run(&entries);
    assert_eq!(worst(&f), Some(W), "{f:#?}");
    // Nothing answered: the seed's failure is all there is to say.
    let (_, f) = run(&[("127.0.0.1:40659", Err(refused()))]);
    assert_eq!(worst(&f), Some(W), "{f:#?}");
}
