//! Named models of the diagnosis tests, one per situation, shared by the per-family tables.

use super::kit::*;

pub(crate) fn healthy() -> ClusterModel {
    ModelBuilder::healthy(3, 1).build()
}

pub(crate) fn no_replicas() -> ClusterModel {
    ModelBuilder::healthy(3, 0).build()
}

pub(crate) fn dead_master_no_replica() -> ClusterModel {
    ModelBuilder::healthy(3, 0).kill(2).all_fail().build()
}

pub(crate) fn dead_master_failed_over() -> ClusterModel {
    ModelBuilder::healthy(3, 1).failover(1, 20).build()
}

pub(crate) fn dead_master_failover_pending() -> ClusterModel {
    ModelBuilder::healthy(3, 1)
        .suspect(1, 1500)
        .all_fail()
        .build()
}

pub(crate) fn dead_master_replica_dead_too() -> ClusterModel {
    ModelBuilder::healthy(3, 1)
        .kill(20)
        .kill(1)
        .all_fail()
        .build()
}

pub(crate) fn dead_master_nofailover() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(20).flags.nofailover = true;
    lab.kill(1).all_fail().build()
}

pub(crate) fn majority_lost() -> ClusterModel {
    ModelBuilder::healthy(3, 1)
        .suspect(0, 60_000)
        .suspect(1, 60_000)
        .all_fail()
        .build()
}

pub(crate) fn uncovered_with_keys() -> ClusterModel {
    let mut m = ModelBuilder::healthy(3, 1)
        .uncover_in_table(0, 99)
        .all_fail()
        .build();
    m.uncovered_keys.insert(5, BTreeMap::from([(id(0), 30u64)]));
    m.uncovered_keys.insert(6, BTreeMap::from([(id(0), 10u64)]));
    m
}

pub(crate) fn full_coverage_off() -> ClusterModel {
    let mut m = ModelBuilder::healthy(3, 1).uncover_in_table(0, 99).build();
    for n in &mut m.nodes {
        if let Some(c) = &mut n.config {
            c.require_full_coverage = Some(false);
        }
    }
    m
}

pub(crate) fn open_both_sides() -> ClusterModel {
    let mut m = healthy();
    m.slots[100].state = SlotState::Migrating;
    m.open_slots.push(OpenSlot {
        slot: 100,
        owner: Some(id(0)),
        migrating: vec![(id(0), id(1))],
        importing: vec![(id(1), id(0))],
        on_replicas: vec![],
        keys: BTreeMap::from([(id(0), 60), (id(1), 40)]),
    });
    m
}

pub(crate) fn open_many_slots() -> ClusterModel {
    let mut m = healthy();
    for s in 100..=199 {
        m.open_slots.push(OpenSlot {
            slot: s,
            owner: Some(id(0)),
            migrating: vec![],
            importing: vec![(id(1), id(0))],
            on_replicas: vec![],
            keys: BTreeMap::from([(id(1), 1)]),
        });
    }
    m
}

pub(crate) fn open_migrating_only() -> ClusterModel {
    let mut m = healthy();
    m.open_slots.push(OpenSlot {
        slot: 7,
        owner: Some(id(0)),
        migrating: vec![(id(0), id(1))],
        importing: vec![],
        on_replicas: vec![],
        keys: BTreeMap::from([(id(0), 5)]),
    });
    m
}

pub(crate) fn open_importing_only() -> ClusterModel {
    let mut m = healthy();
    m.open_slots.push(OpenSlot {
        slot: 7,
        owner: Some(id(0)),
        migrating: vec![],
        importing: vec![(id(1), id(0))],
        on_replicas: vec![],
        keys: BTreeMap::from([(id(0), 5), (id(1), 0)]),
    });
    m
}

pub(crate) fn open_on_replica() -> ClusterModel {
    let mut m = healthy();
    m.open_slots.push(OpenSlot {
        slot: 7,
        owner: Some(id(0)),
        migrating: vec![],
        importing: vec![(id(10), id(1))],
        on_replicas: vec![id(10)],
        keys: BTreeMap::new(),
    });
    m
}

pub(crate) fn open_target_dead() -> ClusterModel {
    let mut m = ModelBuilder::healthy(3, 1).failover(1, 20).build();
    m.open_slots.push(OpenSlot {
        slot: 100,
        owner: Some(id(0)),
        migrating: vec![(id(0), id(1))],
        importing: vec![(id(1), id(0))],
        on_replicas: vec![],
        keys: BTreeMap::from([(id(0), 60)]),
    });
    m
}

pub(crate) fn dispute_double_claim() -> ClusterModel {
    let mut m = healthy();
    m.disagreements.push(ViewDisagreement {
        node: id(1),
        slots: vec![SlotRange::new(0, 9)],
        its_owner: Some(id(1)),
        consensus_owner: Some(id(0)),
        its_owner_epoch: Some(2),
        consensus_owner_epoch: Some(1),
    });
    m
}

pub(crate) fn dispute_stale_views() -> ClusterModel {
    let mut m = healthy();
    for n in [10, 20] {
        m.disagreements.push(ViewDisagreement {
            node: id(n),
            slots: vec![SlotRange::new(0, 9)],
            its_owner: Some(id(2)),
            consensus_owner: Some(id(0)),
            its_owner_epoch: Some(3),
            consensus_owner_epoch: Some(7),
        });
    }
    m
}

pub(crate) fn deleted_slots_on_owner() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1).uncover_in_table(0, 99);
    lab.get(0).cluster_state_ok = Some(false);
    let mut m = lab.build();
    for n in [1, 2, 10, 20, 30] {
        m.disagreements.push(ViewDisagreement {
            node: id(n),
            slots: vec![SlotRange::new(0, 99)],
            its_owner: Some(id(0)),
            consensus_owner: None,
            its_owner_epoch: Some(1),
            consensus_owner_epoch: None,
        });
    }
    m.uncovered_keys.insert(3, BTreeMap::from([(id(0), 12u64)]));
    m
}

pub(crate) fn epoch_collision() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(1).config_epoch = 1;
    lab.build()
}

pub(crate) fn partially_known() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(30).peers.known_by = vec![id(0), id(2)].into();
    lab.get(30).peers.unknown_to = vec![id(1), id(10), id(20)].into();
    lab.build()
}

pub(crate) fn forgotten_everywhere() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(30).peers.known_by = vec![id(30)].into();
    lab.get(30).peers.unknown_to = vec![id(0), id(1), id(2), id(10), id(20)].into();
    lab.build()
}

pub(crate) fn handshake() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    let mut h = new_node(40, Role::Unknown);
    h.reachability = Reachability::NotProbed;
    h.flags.handshake = true;
    h.peers.handshake_by = vec![id(0)].into();
    h.info = None;
    h.config = None;
    h.cluster_state_ok = None;
    lab.model.nodes.push(h);
    lab.build()
}

pub(crate) fn not_joined() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    let mut x = new_node(40, Role::Master);
    x.isolated = true;
    // An isolated node knows nobody: it does not know the others either.
    x.peers.unknown_to = lab.live_ids().into();
    lab.model.nodes.push(x);
    for n in lab.ids_except(&[40]) {
        let i = lab
            .model
            .nodes
            .iter()
            .position(|y| y.id == Some(n.clone()))
            .unwrap_or(0);
        lab.model.nodes[i].peers.unknown_to = vec![id(40)].into();
    }
    lab.build()
}

pub(crate) fn replica_of_unknown() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(30).master_id = Some(id(99));
    lab.build()
}

pub(crate) fn replica_of_slotless_failed() -> ClusterModel {
    // 1 failed over to 20; another replica 21 still follows the dead 1.
    let mut lab = ModelBuilder::healthy(3, 1);
    let mut r = new_node(21, Role::Replica);
    r.master_id = Some(id(1));
    lab.model.nodes.push(r);
    let mut lab = lab.failover(1, 20);
    // 20 has a replica now, so only 21's problem and the lingering node remain.
    let mut r2 = new_node(22, Role::Replica);
    r2.master_id = Some(id(20));
    lab.model.nodes.push(r2);
    lab.build()
}

pub(crate) fn replica_link_down() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    if let Some(i) = &mut lab.get(0).info {
        i.master_repl_offset = Some(5000);
    }
    if let Some(i) = &mut lab.get(10).info {
        i.master_link_status = Some("down".into());
        i.master_host = Some("127.0.0.1".into());
        i.master_port = Some(7000);
        i.slave_repl_offset = Some(1200);
    }
    lab.build()
}

pub(crate) fn not_cluster() -> ClusterModel {
    let mut x = new_node(0, Role::Unknown);
    x.id = None;
    x.addr = NodeAddr::default();
    x.endpoint = Some(Endpoint::new("127.0.0.1", 6379));
    x.reachability = Reachability::Failed(ProbeError::NotCluster {
        version: Some("7.0.15".into()),
    });
    x.info = None;
    x.cluster_state_ok = None;
    let mut m = healthy();
    m.nodes = vec![x];
    for e in &mut m.slots {
        *e = SlotEntry {
            owner: None,
            state: SlotState::Uncovered,
        };
    }
    m
}

pub(crate) fn replica_refused() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(20).reachability =
        Reachability::Failed(ProbeError::ConnectFailed("Connection refused".into()));
    lab.get(20).peers.pfail_by = vec![id(0)].into();
    lab.build()
}

pub(crate) fn master_auth_failed() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(0).reachability = Reachability::Failed(ProbeError::AuthFailed(
        "WRONGPASS invalid username-password".into(),
    ));
    lab.get(0).peers.known_by = vec![id(1), id(2)].into();
    lab.build()
}

pub(crate) fn master_hung_just_now() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(2).reachability = Reachability::Failed(ProbeError::Unresponsive("PING".into()));
    lab.build()
}

pub(crate) fn replica_loading() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(10).reachability = Reachability::Failed(ProbeError::Loading);
    lab.build()
}

pub(crate) fn keys_in_other_db() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    if let Some(i) = &mut lab.get(1).info {
        i.keys_other_dbs = 12;
    }
    lab.build()
}

pub(crate) fn bus_partitioned_replica() -> ClusterModel {
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(30).peers.fail_by = vec![id(0), id(1), id(2)].into();
    lab.build()
}

pub(crate) fn minority_node() -> ClusterModel {
    // Node 30 cannot reach masters 0 and 1 (its view), everyone else is fine.
    let mut lab = ModelBuilder::healthy(3, 1);
    lab.get(0).peers.pfail_by = vec![id(30)].into();
    lab.get(1).peers.pfail_by = vec![id(30)].into();
    lab.get(30).cluster_state_ok = Some(false);
    lab.build()
}

pub(crate) fn fresh_boot_fail() -> ClusterModel {
    ModelBuilder::healthy(3, 1).all_fail().build()
}
