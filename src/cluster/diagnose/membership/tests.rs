//! Tests of the membership findings: partially known, not joined, handshake and noaddr.

use crate::cluster::diagnose::tests::kit::*;
use crate::cluster::diagnose::tests::scenarios::*;

#[rstest]
#[case::partially_known(partially_known(), vec![(K::PartiallyKnownNode, W)])]
#[case::forgotten(forgotten_everywhere(), vec![(K::NodeNotJoined, W)])]
#[case::handshake(handshake(), vec![(K::HandshakeOrNoaddr, W)])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    assert_findings(&model, &expected);
}

#[rstest]
#[case::partial(
    partially_known(),
    K::PartiallyKnownNode,
    "replica of 127.0.0.1:7002 (02020202) 127.0.0.1:7030 (1e1e1e1e) is unknown to 3 of 5 nodes"
)]
#[case::forgotten(
    forgotten_everywhere(),
    K::NodeNotJoined,
    "is not part of the cluster: all 5 other nodes have forgotten it or never met it; run CLUSTER MEET 127.0.0.1 7030 on one of them"
)]
#[case::handshake(
    handshake(),
    K::HandshakeOrNoaddr,
    "127.0.0.1:7040 is stuck in handshake in the table of 127.0.0.1:7000 (00000000)"
)]
fn summaries_name_real_things(
    #[case] model: ClusterModel,
    #[case] kind: FindingKind,
    #[case] needle: &str,
) {
    assert_summary(&model, kind, needle);
}

#[test]
fn captured_handshake() {
    let (_, f) = run(&[(A, Ok(fixture!("handshake_nodes_31000.txt")))]);
    let h = with_summary(
        &f,
        K::HandshakeOrNoaddr,
        "127.0.0.1:31009 is stuck in handshake in the table of 127.0.0.1:31000 (d756d113)",
    );
    assert_eq!(h.severity, W);
    assert_eq!(count(&f, K::HandshakeOrNoaddr), 1);
    assert!(worst(&f) == Some(W), "{f:#?}");
}

#[test]
fn captured_restart_without_nodes_conf() {
    let (_, f) = run(&[
        (A, Ok(fixture!("noaddr_nodes_31000.txt"))),
        (A2, Ok(fixture!("noaddr_nodes_31003.txt"))),
        (C2, Ok(fixture!("noaddr_nodes_31005.txt"))),
        ("127.0.0.1:31001", Ok(fixture!("isolated_nodes_31001.txt"))),
        ("127.0.0.1:31004", Err(refused())),
    ]);
    with_summary(
        &f,
        K::NodeNotJoined,
        "127.0.0.1:31001 (613d8165) runs in cluster mode but is not part of the cluster",
    );
    let md = with_summary(&f, K::MasterDown, "(0b596eb3) failed");
    assert!(
        md.evidence
            .iter()
            .any(|e| e.starts_with("listed as noaddr by"))
    );
    assert_eq!(count(&f, K::ClusterDown), 1);
    // The isolated node's empty table does not make everyone "partially known".
    assert_eq!(count(&f, K::PartiallyKnownNode), 0, "{f:#?}");
}

mod forgotten_master {
    //! Captured on Redis 7.0.15: a 4-master cluster where 32103 was forgotten (CLUSTER FORGET)
    //! by the three other nodes (the lab scenario `node-must-rejoin`).

    use crate::cluster::diagnose::tests::kit::*;

    fn run() -> (ClusterModel, Vec<Finding>) {
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:32100", Ok(fixture!("forgotten_nodes_32100.txt"))),
            ("127.0.0.1:32101", Ok(fixture!("forgotten_nodes_32101.txt"))),
            ("127.0.0.1:32102", Ok(fixture!("forgotten_nodes_32102.txt"))),
            ("127.0.0.1:32103", Ok(fixture!("forgotten_nodes_32103.txt"))),
        ]));
        let f = diagnose(&m);
        (m, f)
    }

    #[test]
    fn not_joined_and_cluster_down_with_one_cause_for_three_views() {
        let (m, f) = run();
        assert_eq!(
            m.state_counts().get(&SlotState::Disputed),
            Some(&4096),
            "{:?}",
            m.state_counts()
        );
        let nj = f
            .iter()
            .find(|x| x.kind == K::NodeNotJoined)
            .unwrap_or_else(|| panic!("{f:#?}"));
        assert_eq!(nj.severity, C);
        assert!(
            nj.summary
                .contains("4096 slots (12288-16383) are unbound in their view")
                && nj.summary.contains("CLUSTER MEET 127.0.0.1 32103"),
            "{}",
            nj.summary
        );
        let down = f
            .iter()
            .find(|x| x.kind == K::ClusterDown)
            .unwrap_or_else(|| panic!("{f:#?}"));
        assert_eq!(down.severity, C);
        assert!(down.summary.starts_with(
            "CLUSTER PARTLY DOWN: 3 of 4 nodes report cluster_state:fail: in the view of 3 nodes \
             (127.0.0.1:32100 (5e5f731b), 127.0.0.1:32101 (9b31c322), 127.0.0.1:32102 (c87afe44)), \
             4096 slots (12288-16383) are bound to no master"
        ), "{}", down.summary);
        let causes = down
            .evidence
            .iter()
            .filter(|e| e.starts_with("cause:"))
            .count();
        assert_eq!(causes, 1, "{:#?}", down.evidence);
        // The dispute is explained by membership, not by a stale view.
        let d = f
            .iter()
            .find(|x| x.kind == K::SlotOwnershipDispute)
            .unwrap_or_else(|| panic!("{f:#?}"));
        assert!(
            d.summary
                .contains("because they do not know their owner 127.0.0.1:32103 (20d0b2eb)"),
            "{}",
            d.summary
        );
        assert!(!d.evidence.iter().any(|e| e.contains("stale view")));
        // Nothing calls the forgotten master down: it answers and nobody flags it.
        assert!(!f.iter().any(|x| x.kind == K::MasterDown), "{f:#?}");
        assert!(!verdict(&m, &f).contains("16384/16384"));
    }
}

#[test]
fn a_master_whose_own_view_claims_slots_the_cluster_gives_away_is_not_slot_less() {
    // x was forgotten, and b took over x's slots: the consensus gives them to b, but x still
    // claims them (with its keys).
    let a = "aaaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n\
             bbbb 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n";
    let b = "aaaa 127.0.0.1:7000@17000 master - 0 0 1 connected 0-8191\n\
             bbbb 127.0.0.1:7001@17001 myself,master - 0 0 2 connected 8192-16383\n";
    let x = "xxxx 127.0.0.1:7002@17002 myself,master - 0 0 3 connected 8192-16383\n\
             aaaa 127.0.0.1:7000@17000 master - 0 0 1 connected 0-8191\n";
    let m = ClusterModel::build(&snapshot_from_texts(&[
        ("127.0.0.1:7000", Ok(a)),
        ("127.0.0.1:7001", Ok(b)),
        ("127.0.0.1:7002", Ok(x)),
    ]));
    let f = diagnose(&m);
    let about_x: Vec<&Finding> = f
        .iter()
        .filter(|f| f.summary.contains("127.0.0.1:7002"))
        .collect();
    assert!(!about_x.is_empty(), "{f:#?}");
    for finding in about_x {
        assert!(
            !finding.summary.contains("slot-less"),
            "{}",
            finding.summary
        );
    }
}

/// A master forgotten by the cluster together with its replica: the replica still knowing it
/// does not make it a member; only CLUSTER MEET brings the shard back.
#[test]
fn a_master_known_only_by_its_own_replica_is_not_joined() {
    use crate::cluster::model::Role;
    use crate::cluster::testkit::{ModelBuilder, id};
    let mut b = ModelBuilder::new()
        .node('a', Role::Master, &[(0, 5460)], true)
        .node('b', Role::Master, &[(5461, 10922)], true)
        .node('c', Role::Master, &[(10923, 16383)], true)
        .replica_of('d', 'c', true)
        .everyone_knows();
    for (n, shard) in [('c', 'd'), ('d', 'c')] {
        let node = b.get(n);
        node.peers.known_by = vec![id(shard)].into();
        node.peers.unknown_to = vec![id('a'), id('b')].into();
    }
    let f = crate::cluster::diagnose(&b.build());
    let nj: Vec<_> = f.iter().filter(|x| x.kind == K::NodeNotJoined).collect();
    assert!(
        nj.iter().any(|x| x.nodes.contains(&id('c'))
            && x.severity == C
            && x.summary.contains("outside its shard")),
        "{f:#?}"
    );
    assert_eq!(count(&f, K::PartiallyKnownNode), 0, "{f:#?}");
}
