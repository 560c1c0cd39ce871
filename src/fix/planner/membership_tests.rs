//! Tests of the membership plans: not a cluster node, CLUSTER MEET and CLUSTER FORGET.

use crate::cluster::model::{Reachability, Role};
use crate::cluster::types::ProbeError;

use super::plan_fixes;
use super::test_kit::{ModelBuilder, commands, id, plan, three};

#[test]
fn isolated_node_gets_meet_from_a_healthy_master() {
    let mut b = three().node('d', Role::Master, &[], true).everyone_knows();
    b.get('d').isolated = true;
    let m = b.build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("meet-{}", id('d').short()));
    assert_eq!(commands(p)[0], "7000 CLUSTER MEET 127.0.0.1 7003");
    assert!(!p.risk.loses_data);
}

#[test]
fn lingering_failed_node_is_forgotten_everywhere() {
    let mut b = three().node('d', Role::Master, &[], false).everyone_knows();
    let ids = vec![id('a'), id('b'), id('c')];
    b.get('d').peers.known_by = ids.into();
    let m = b.build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("forget-{}", id('d').short()));
    let d = id('d').0;
    assert_eq!(
        commands(p)[..3],
        [
            format!("7000 CLUSTER FORGET {d}"),
            format!("7001 CLUSTER FORGET {d}"),
            format!("7002 CLUSTER FORGET {d}"),
        ]
    );
    assert!(crate::fix::failed_checks(&p.preconditions, &m).is_empty());
    // Once nobody lists it, the expectation holds.
    let mut after = m.clone();
    after.nodes.retain(|n| n.id != Some(id('d')));
    assert!(crate::fix::failed_checks(&p.expected, &after).is_empty());
}

#[test]
fn not_cluster_is_advice_only() {
    let mut b = ModelBuilder::new().node('a', Role::Unknown, &[], true);
    let n = b.get('a');
    n.reachability = Reachability::Failed(ProbeError::NotCluster {
        version: Some("7.0.15".into()),
    });
    n.own_line = None;
    let m = b.build();
    let plans = plan_fixes(&m, &[]);
    assert_eq!(plans.len(), 1);
    assert!(plans[0].is_advice_only());
    assert!(
        plans[0]
            .advice
            .iter()
            .any(|l| l.contains("cluster-enabled yes"))
    );
}

/// A master forgotten together with its replica: one plan meets both, and expects both known.
#[test]
fn a_forgotten_shard_is_met_in_one_plan() {
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
    let m = b.build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("meet-{}", id('c').short()));
    let cmds = commands(p).join("\n");
    assert!(cmds.contains("MEET 127.0.0.1 7002"), "{cmds}");
    assert!(cmds.contains("MEET 127.0.0.1 7003"), "{cmds}");
    assert_eq!(p.nodes, vec![id('c'), id('d')]);
    assert_eq!(p.expected.len(), 2);
    assert!(!p.risk.loses_data);
}
