//! Tests of `MasterDown`: why a master is down, why no replica took over, and its evidence.

use crate::cluster::diagnose::tests::kit::*;
use crate::cluster::diagnose::tests::scenarios::*;

#[rstest]
#[case::dead_master_no_replica(dead_master_no_replica(), vec![
    (K::ClusterDown, C), (K::MasterDown, C), (K::NoReplica, W), (K::NoReplica, W)])]
#[case::failover_pending(dead_master_failover_pending(), vec![(K::ClusterDown, C), (K::MasterDown, C)])]
#[case::replica_dead_too(dead_master_replica_dead_too(), vec![
    (K::ClusterDown, C), (K::MasterDown, C), (K::NodeUnreachable, W)])]
#[case::nofailover(dead_master_nofailover(), vec![(K::ClusterDown, C), (K::MasterDown, C)])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    assert_findings(&model, &expected);
}

#[rstest]
#[case::master_down_text(
    dead_master_no_replica(),
    K::MasterDown,
    "master 127.0.0.1:7002 (02020202) failed and has no replica: 5462 slots (10922-16383) not served"
)]
#[case::pending(
    dead_master_failover_pending(),
    K::MasterDown,
    "failover of 127.0.0.1:7020 (14141414) may be in progress"
)]
#[case::replica_dead(
    dead_master_replica_dead_too(),
    K::MasterDown,
    "failed and its replica 127.0.0.1:7020 (14141414) is down too"
)]
#[case::nofailover(dead_master_nofailover(), K::MasterDown, "has nofailover set")]
#[case::majority_master(
    majority_lost(),
    K::MasterDown,
    "no majority of masters to elect its replica"
)]
fn summaries_name_real_things(
    #[case] model: ClusterModel,
    #[case] kind: FindingKind,
    #[case] needle: &str,
) {
    assert_summary(&model, kind, needle);
}

#[test]
fn one_master_down_is_two_findings_not_five() {
    let f = diagnose(&dead_master_no_replica());
    let about_dead: Vec<_> = f.iter().filter(|x| x.nodes.contains(&id(2))).collect();
    assert_eq!(about_dead.len(), 2, "{about_dead:#?}");
    let md = find(&f, K::MasterDown);
    assert_eq!(md.slots, vec![SlotRange::new(10922, 16383)]);
    assert_eq!(md.addresses, vec!["127.0.0.1:7002".to_owned()]);
    assert!(md.evidence.iter().any(|e| e.contains("Connection refused")));
    assert!(
        md.evidence
            .iter()
            .any(|e| e.contains("flagged fail by 2 nodes"))
    );
}

#[test]
fn pfail_suspicion_on_a_live_master_is_not_a_finding() {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(0).peers.pfail_by = vec![id(10)].into();
    let f = diagnose(&lab.build());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn restarted_without_nodes_conf_is_linked() {
    // Master 1 lost its nodes.conf: the old id is failed (and failed over), a new id answers
    // at the same address, alone.
    let mut lab = ModelBuilder::healthy(3, 1).failover(1, 20);
    let mut x = new_node(41, Role::Master);
    x.addr.port = 7001;
    x.endpoint = Some(Endpoint::new("127.0.0.1", 7001));
    x.isolated = true;
    lab.model.nodes.push(x);
    let mut m = lab.build();
    // The old master 1 still owns slots in this variant (no replica took over).
    let i1 = m
        .nodes
        .iter()
        .position(|n| n.id == Some(id(1)))
        .unwrap_or(0);
    let i1 = u32::try_from(i1).unwrap_or(0);
    m.slots[6000].owner = Some(i1);
    let f = diagnose(&m);
    let md = find(&f, K::MasterDown);
    assert!(
        md.evidence
            .iter()
            .any(|e| e.contains("127.0.0.1:7001 now answers as a new node 29292929")),
        "{md:#?}"
    );
    find(&f, K::NodeNotJoined);
}

#[test]
fn captured_pfail_of_a_hung_master() {
    let (_, f) = run(&[
        (A, Ok(fixture!("pfail_nodes_31000.txt"))),
        (
            "127.0.0.1:31002",
            Err(ProbeError::Unresponsive("PING".into())),
        ),
    ]);
    let md = with_summary(
        &f,
        K::MasterDown,
        "master 127.0.0.1:31002 (0a63eccd) is unreachable; failure not agreed yet",
    );
    assert_eq!(md.slots, vec![SlotRange::new(10923, 16383)]);
    assert!(md.evidence.iter().any(|e| e.contains("no reply to PING")));
    assert_eq!(count(&f, K::NodeUnreachable), 0, "{f:#?}");
}

#[test]
fn captured_master_down_with_dead_replica() {
    let (m, f) = run(&[
        (A, Ok(fixture!("master_down_nodes_31000.txt"))),
        (A2, Ok(fixture!("master_down_nodes_31003.txt"))),
        (C2, Ok(fixture!("master_down_nodes_31005.txt"))),
        ("127.0.0.1:31001", Err(refused())),
        ("127.0.0.1:31004", Err(refused())),
    ]);
    assert_eq!(f[0].kind, K::ClusterDown, "{f:#?}");
    let expected = "CLUSTER DOWN: 5462 slots (5461-10922) not served: master 127.0.0.1:31001 (0b596eb3) failed and its replica 127.0.0.1:31004 (ebeee39c) is down too";
    assert_eq!(f[0].summary, expected);
    assert_eq!(count(&f, K::MasterDown), 1);
    // The dead master itself is not reported a third time as unreachable.
    let b = NodeId("0b596eb3fc5fc3d613ab4aa15de855b7628f005d".into());
    assert!(
        !f.iter()
            .any(|x| x.kind == K::NodeUnreachable && x.nodes.contains(&b))
    );
    with_summary(
        &f,
        K::NodeUnreachable,
        "replica of 127.0.0.1:31001 (0b596eb3) 127.0.0.1:31004 (ebeee39c) cannot be reached",
    );
    assert!(verdict(&m, &f).starts_with(expected));
}
