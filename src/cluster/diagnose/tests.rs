//! Unit tests of the diagnosis on hand-built models (table-driven with rstest).

use std::collections::BTreeMap;
use std::time::Instant;

use rstest::rstest;

use super::*;
use crate::cluster::model::{PeerOpinion, SlotEntry, SlotState};
use crate::cluster::types::{Endpoint, NodeAddr, NodeConfig, NodeFlags, SLOT_COUNT, ServerInfo};

// ---------------------------------------------------------------------------------------------
// A tiny builder of `ClusterModel` values. Node `n` has id `nn` repeated (short id `nnnnnnnn`)
// and address 127.0.0.1:(7000+n).

fn nid(n: u16) -> NodeId {
    NodeId::from(format!("{n:02x}").repeat(20))
}

fn new_node(n: u16, role: Role) -> NodeSummary {
    NodeSummary {
        id: Some(nid(n)),
        addr: NodeAddr {
            ip: "127.0.0.1".into(),
            port: 7000 + n,
            cport: 17000 + n,
            hostname: None,
        },
        endpoint: Some(Endpoint::new("127.0.0.1", 7000 + n)),
        role,
        master_id: None,
        flags: NodeFlags {
            master: role == Role::Master,
            replica: role == Role::Replica,
            ..NodeFlags::default()
        },
        reachability: Reachability::Ok,
        own_line: None,
        claimed_slots: Vec::new(),
        config_epoch: 0,
        peers: PeerOpinion::default(),
        info: Some(ServerInfo::default()),
        config: Some(NodeConfig {
            require_full_coverage: Some(true),
            node_timeout_ms: Some(2000),
            error: None,
        }),
        cluster_state_ok: Some(true),
        rtt_us: Some(100),
        observed_at_ms: Some(1_000_000),
        observation: None,
        isolated: false,
    }
}

struct Lab {
    m: ClusterModel,
}

impl Lab {
    /// `masters` masters splitting the slots evenly, each with `replicas` replicas.
    /// Masters are nodes 0.., replicas of master k are nodes 10*(k+1)+r.
    fn healthy(masters: u16, replicas: u16) -> Self {
        let mut nodes = Vec::new();
        let mut slots = vec![
            SlotEntry {
                owner: None,
                state: SlotState::Uncovered
            };
            SLOT_COUNT
        ];
        let per = SLOT_COUNT / usize::from(masters);
        for k in 0..masters {
            let mut m = new_node(k, Role::Master);
            m.config_epoch = u64::from(k) + 1;
            let start = usize::from(k) * per;
            let end = if k + 1 == masters {
                SLOT_COUNT - 1
            } else {
                start + per - 1
            };
            m.claimed_slots = vec![SlotRange::new(
                Slot::try_from(start).unwrap_or(0),
                Slot::try_from(end).unwrap_or(0),
            )];
            let idx = u32::try_from(nodes.len()).unwrap_or(0);
            for e in &mut slots[start..=end] {
                *e = SlotEntry {
                    owner: Some(idx),
                    state: SlotState::Served,
                };
            }
            nodes.push(m);
            for r in 0..replicas {
                let mut rep = new_node(10 * (k + 1) + r, Role::Replica);
                rep.master_id = Some(nid(k));
                rep.config_epoch = u64::from(k) + 1;
                nodes.push(rep);
            }
        }
        Self {
            m: ClusterModel {
                generation: 1,
                taken_at_ms: 1_000_000,
                nodes,
                slots,
                open_slots: Vec::new(),
                disagreements: Vec::new(),
                uncovered_keys: BTreeMap::new(),
            },
        }
    }

    fn idx(&self, n: u16) -> usize {
        self.m
            .nodes
            .iter()
            .position(|x| x.id == Some(nid(n)))
            .unwrap_or(usize::MAX)
    }

    fn node(&mut self, n: u16) -> &mut NodeSummary {
        let i = self.idx(n);
        &mut self.m.nodes[i]
    }

    fn ids_except(&self, skip: &[u16]) -> Vec<NodeId> {
        self.m
            .nodes
            .iter()
            .filter(|x| matches!(x.reachability, Reachability::Ok))
            .filter_map(|x| x.id.clone())
            .filter(|id| !skip.iter().any(|s| nid(*s) == *id))
            .collect()
    }

    /// Node `n` stops; its peers agree it failed.
    fn kill(mut self, n: u16) -> Self {
        let others = self.ids_except(&[n]);
        let node = self.node(n);
        node.reachability =
            Reachability::Failed(ProbeError::ConnectFailed("Connection refused".into()));
        node.info = None;
        node.config = None;
        node.cluster_state_ok = None;
        node.flags.fail = true;
        node.peers.fail_by = others;
        node.peers.max_pong_age_ms = Some(60_000);
        self
    }

    /// Node `n` stops; its peers only suspect it (`fail?`), heard from `age_ms` ago.
    fn suspect(mut self, n: u16, age_ms: u64) -> Self {
        let others = self.ids_except(&[n]);
        let node = self.node(n);
        node.reachability =
            Reachability::Failed(ProbeError::ConnectFailed("Connection refused".into()));
        node.info = None;
        node.config = None;
        node.cluster_state_ok = None;
        node.flags.pfail = true;
        node.peers.pfail_by = others;
        node.peers.max_pong_age_ms = Some(age_ms);
        self
    }

    /// Every reachable node reports `cluster_state:fail`.
    fn all_fail(mut self) -> Self {
        for x in &mut self.m.nodes {
            if matches!(x.reachability, Reachability::Ok) {
                x.cluster_state_ok = Some(false);
            }
        }
        self
    }

    /// Replica `rep` took over the slots of `old` (which stays failed, slot-less).
    fn failover(mut self, old: u16, rep: u16) -> Self {
        self = self.kill(old);
        let old_i = self.idx(old);
        let new_i = u32::try_from(self.idx(rep)).unwrap_or(0);
        let old_u = u32::try_from(old_i).unwrap_or(0);
        for e in &mut self.m.slots {
            if e.owner == Some(old_u) {
                e.owner = Some(new_i);
            }
        }
        let slots = std::mem::take(&mut self.m.nodes[old_i].claimed_slots);
        let r = self.node(rep);
        r.role = Role::Master;
        r.master_id = None;
        r.flags.master = true;
        r.flags.replica = false;
        r.claimed_slots = slots;
        r.config_epoch = 9;
        self
    }

    fn uncover(mut self, start: Slot, end: Slot) -> Self {
        for s in start..=end {
            self.m.slots[usize::from(s)] = SlotEntry {
                owner: None,
                state: SlotState::Uncovered,
            };
        }
        self
    }

    fn finish(self) -> ClusterModel {
        self.m
    }
}

fn kinds(f: &[Finding]) -> Vec<(FindingKind, Severity)> {
    f.iter().map(|x| (x.kind, x.severity)).collect()
}

fn find(f: &[Finding], kind: FindingKind) -> &Finding {
    f.iter()
        .find(|x| x.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {:#?}", kinds(f)))
}

use FindingKind as K;
use Severity::{Critical as C, Warning as W};

// ---------------------------------------------------------------------------------------------
// Scenarios.

fn healthy() -> ClusterModel {
    Lab::healthy(3, 1).finish()
}

fn no_replicas() -> ClusterModel {
    Lab::healthy(3, 0).finish()
}

fn dead_master_no_replica() -> ClusterModel {
    Lab::healthy(3, 0).kill(2).all_fail().finish()
}

fn dead_master_failed_over() -> ClusterModel {
    Lab::healthy(3, 1).failover(1, 20).finish()
}

fn dead_master_failover_pending() -> ClusterModel {
    Lab::healthy(3, 1).suspect(1, 1500).all_fail().finish()
}

fn dead_master_replica_dead_too() -> ClusterModel {
    Lab::healthy(3, 1).kill(20).kill(1).all_fail().finish()
}

fn dead_master_nofailover() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(20).flags.nofailover = true;
    lab.kill(1).all_fail().finish()
}

fn majority_lost() -> ClusterModel {
    Lab::healthy(3, 1)
        .suspect(0, 60_000)
        .suspect(1, 60_000)
        .all_fail()
        .finish()
}

fn uncovered_with_keys() -> ClusterModel {
    let mut m = Lab::healthy(3, 1).uncover(0, 99).all_fail().finish();
    m.uncovered_keys
        .insert(5, BTreeMap::from([(nid(0), 30u64)]));
    m.uncovered_keys
        .insert(6, BTreeMap::from([(nid(0), 10u64)]));
    m
}

fn full_coverage_off() -> ClusterModel {
    let mut m = Lab::healthy(3, 1).uncover(0, 99).finish();
    for n in &mut m.nodes {
        if let Some(c) = &mut n.config {
            c.require_full_coverage = Some(false);
        }
    }
    m
}

fn open_both_sides() -> ClusterModel {
    let mut m = healthy();
    m.slots[100].state = SlotState::Migrating;
    m.open_slots.push(OpenSlot {
        slot: 100,
        owner: Some(nid(0)),
        migrating: vec![(nid(0), nid(1))],
        importing: vec![(nid(1), nid(0))],
        on_replicas: vec![],
        keys: BTreeMap::from([(nid(0), 60), (nid(1), 40)]),
    });
    m
}

fn open_many_slots() -> ClusterModel {
    let mut m = healthy();
    for s in 100..=199 {
        m.open_slots.push(OpenSlot {
            slot: s,
            owner: Some(nid(0)),
            migrating: vec![],
            importing: vec![(nid(1), nid(0))],
            on_replicas: vec![],
            keys: BTreeMap::from([(nid(1), 1)]),
        });
    }
    m
}

fn open_migrating_only() -> ClusterModel {
    let mut m = healthy();
    m.open_slots.push(OpenSlot {
        slot: 7,
        owner: Some(nid(0)),
        migrating: vec![(nid(0), nid(1))],
        importing: vec![],
        on_replicas: vec![],
        keys: BTreeMap::from([(nid(0), 5)]),
    });
    m
}

fn open_importing_only() -> ClusterModel {
    let mut m = healthy();
    m.open_slots.push(OpenSlot {
        slot: 7,
        owner: Some(nid(0)),
        migrating: vec![],
        importing: vec![(nid(1), nid(0))],
        on_replicas: vec![],
        keys: BTreeMap::from([(nid(0), 5), (nid(1), 0)]),
    });
    m
}

fn open_on_replica() -> ClusterModel {
    let mut m = healthy();
    m.open_slots.push(OpenSlot {
        slot: 7,
        owner: Some(nid(0)),
        migrating: vec![],
        importing: vec![(nid(10), nid(1))],
        on_replicas: vec![nid(10)],
        keys: BTreeMap::new(),
    });
    m
}

fn open_target_dead() -> ClusterModel {
    let mut m = Lab::healthy(3, 1).failover(1, 20).finish();
    m.open_slots.push(OpenSlot {
        slot: 100,
        owner: Some(nid(0)),
        migrating: vec![(nid(0), nid(1))],
        importing: vec![(nid(1), nid(0))],
        on_replicas: vec![],
        keys: BTreeMap::from([(nid(0), 60)]),
    });
    m
}

fn dispute_double_claim() -> ClusterModel {
    let mut m = healthy();
    m.disagreements.push(ViewDisagreement {
        node: nid(1),
        slots: vec![SlotRange::new(0, 9)],
        its_owner: Some(nid(1)),
        consensus_owner: Some(nid(0)),
        its_owner_epoch: Some(2),
        consensus_owner_epoch: Some(1),
    });
    m
}

fn dispute_stale_views() -> ClusterModel {
    let mut m = healthy();
    for n in [10, 20] {
        m.disagreements.push(ViewDisagreement {
            node: nid(n),
            slots: vec![SlotRange::new(0, 9)],
            its_owner: Some(nid(2)),
            consensus_owner: Some(nid(0)),
            its_owner_epoch: Some(3),
            consensus_owner_epoch: Some(7),
        });
    }
    m
}

fn deleted_slots_on_owner() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1).uncover(0, 99);
    lab.node(0).cluster_state_ok = Some(false);
    let mut m = lab.finish();
    for n in [1, 2, 10, 20, 30] {
        m.disagreements.push(ViewDisagreement {
            node: nid(n),
            slots: vec![SlotRange::new(0, 99)],
            its_owner: Some(nid(0)),
            consensus_owner: None,
            its_owner_epoch: Some(1),
            consensus_owner_epoch: None,
        });
    }
    m.uncovered_keys
        .insert(3, BTreeMap::from([(nid(0), 12u64)]));
    m
}

fn epoch_collision() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(1).config_epoch = 1;
    lab.finish()
}

fn partially_known() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(30).peers.known_by = vec![nid(0), nid(2)];
    lab.node(30).peers.unknown_to = vec![nid(1), nid(10), nid(20)];
    lab.finish()
}

fn forgotten_everywhere() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(30).peers.known_by = vec![nid(30)];
    lab.node(30).peers.unknown_to = vec![nid(0), nid(1), nid(2), nid(10), nid(20)];
    lab.finish()
}

fn handshake() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    let mut h = new_node(40, Role::Unknown);
    h.reachability = Reachability::NotProbed;
    h.flags.handshake = true;
    h.peers.handshake_by = vec![nid(0)];
    h.info = None;
    h.config = None;
    h.cluster_state_ok = None;
    lab.m.nodes.push(h);
    lab.finish()
}

fn not_joined() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    let mut x = new_node(40, Role::Master);
    x.isolated = true;
    // An isolated node knows nobody: it does not know the others either.
    x.peers.unknown_to = lab.ids_except(&[]);
    lab.m.nodes.push(x);
    for n in lab.ids_except(&[40]) {
        let i = lab
            .m
            .nodes
            .iter()
            .position(|y| y.id == Some(n.clone()))
            .unwrap_or(0);
        lab.m.nodes[i].peers.unknown_to = vec![nid(40)];
    }
    lab.finish()
}

fn replica_of_unknown() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(30).master_id = Some(nid(99));
    lab.finish()
}

fn replica_of_slotless_failed() -> ClusterModel {
    // 1 failed over to 20; another replica 21 still follows the dead 1.
    let mut lab = Lab::healthy(3, 1);
    let mut r = new_node(21, Role::Replica);
    r.master_id = Some(nid(1));
    lab.m.nodes.push(r);
    let mut lab = lab.failover(1, 20);
    // 20 has a replica now, so only 21's problem and the lingering node remain.
    let mut r2 = new_node(22, Role::Replica);
    r2.master_id = Some(nid(20));
    lab.m.nodes.push(r2);
    lab.finish()
}

fn replica_link_down() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    if let Some(i) = &mut lab.node(0).info {
        i.master_repl_offset = Some(5000);
    }
    if let Some(i) = &mut lab.node(10).info {
        i.master_link_status = Some("down".into());
        i.master_host = Some("127.0.0.1".into());
        i.master_port = Some(7000);
        i.slave_repl_offset = Some(1200);
    }
    lab.finish()
}

fn not_cluster() -> ClusterModel {
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

fn replica_refused() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(20).reachability =
        Reachability::Failed(ProbeError::ConnectFailed("Connection refused".into()));
    lab.node(20).peers.pfail_by = vec![nid(0)];
    lab.finish()
}

fn master_auth_failed() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(0).reachability = Reachability::Failed(ProbeError::AuthFailed(
        "WRONGPASS invalid username-password".into(),
    ));
    lab.node(0).peers.known_by = vec![nid(1), nid(2)];
    lab.finish()
}

fn master_hung_just_now() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(2).reachability = Reachability::Failed(ProbeError::Unresponsive("PING".into()));
    lab.finish()
}

fn replica_loading() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(10).reachability = Reachability::Failed(ProbeError::Loading);
    lab.finish()
}

fn keys_in_other_db() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    if let Some(i) = &mut lab.node(1).info {
        i.keys_other_dbs = 12;
    }
    lab.finish()
}

fn bus_partitioned_replica() -> ClusterModel {
    let mut lab = Lab::healthy(3, 1);
    lab.node(30).peers.fail_by = vec![nid(0), nid(1), nid(2)];
    lab.finish()
}

fn minority_node() -> ClusterModel {
    // Node 30 cannot reach masters 0 and 1 (its view), everyone else is fine.
    let mut lab = Lab::healthy(3, 1);
    lab.node(0).peers.pfail_by = vec![nid(30)];
    lab.node(1).peers.pfail_by = vec![nid(30)];
    lab.node(30).cluster_state_ok = Some(false);
    lab.finish()
}

fn fresh_boot_fail() -> ClusterModel {
    Lab::healthy(3, 1).all_fail().finish()
}

#[rstest]
#[case::healthy(healthy(), vec![])]
#[case::no_replicas(no_replicas(), vec![(K::NoReplica, W), (K::NoReplica, W), (K::NoReplica, W)])]
#[case::dead_master_no_replica(dead_master_no_replica(), vec![
    (K::ClusterDown, C), (K::MasterDown, C), (K::NoReplica, W), (K::NoReplica, W)])]
#[case::failed_over(dead_master_failed_over(), vec![(K::LingeringFailedNode, W), (K::NoReplica, W)])]
#[case::failover_pending(dead_master_failover_pending(), vec![(K::ClusterDown, C), (K::MasterDown, C)])]
#[case::replica_dead_too(dead_master_replica_dead_too(), vec![
    (K::ClusterDown, C), (K::MasterDown, C), (K::NodeUnreachable, W)])]
#[case::nofailover(dead_master_nofailover(), vec![(K::ClusterDown, C), (K::MasterDown, C)])]
#[case::majority_lost(majority_lost(), vec![
    (K::ClusterDown, C), (K::MajorityLost, C), (K::MasterDown, C), (K::MasterDown, C)])]
#[case::uncovered(uncovered_with_keys(), vec![(K::ClusterDown, C), (K::UncoveredSlots, C)])]
#[case::full_coverage_off(full_coverage_off(), vec![(K::FullCoverageOff, C), (K::UncoveredSlots, C)])]
#[case::open_both(open_both_sides(), vec![(K::OpenSlot, W)])]
#[case::open_many(open_many_slots(), vec![(K::OpenSlot, W)])]
#[case::open_migrating(open_migrating_only(), vec![(K::OpenSlot, W)])]
#[case::open_importing(open_importing_only(), vec![(K::OpenSlot, W)])]
#[case::open_replica(open_on_replica(), vec![(K::OpenSlot, W)])]
#[case::open_target_dead(open_target_dead(), vec![
    (K::OpenSlot, C), (K::LingeringFailedNode, W), (K::NoReplica, W)])]
#[case::double_claim(dispute_double_claim(), vec![(K::SlotOwnershipDispute, C)])]
#[case::stale_views(dispute_stale_views(), vec![(K::SlotOwnershipDispute, W)])]
#[case::deleted_slots(deleted_slots_on_owner(), vec![
    (K::ClusterDown, C), (K::UncoveredSlots, C), (K::SlotOwnershipDispute, W)])]
#[case::epoch_collision(epoch_collision(), vec![(K::ConfigEpochCollision, W)])]
#[case::partially_known(partially_known(), vec![(K::PartiallyKnownNode, W)])]
#[case::forgotten(forgotten_everywhere(), vec![(K::NodeNotJoined, W)])]
#[case::handshake(handshake(), vec![(K::HandshakeOrNoaddr, W)])]
#[case::not_joined(not_joined(), vec![(K::NodeNotJoined, W)])]
#[case::replica_of_unknown(replica_of_unknown(), vec![(K::ReplicaOfUnknownMaster, W), (K::NoReplica, W)])]
#[case::replica_of_slotless(replica_of_slotless_failed(), vec![
    (K::LingeringFailedNode, W), (K::ReplicaMasterFailing, W)])]
#[case::not_cluster(not_cluster(), vec![(K::NotCluster, C)])]
#[case::replica_refused(replica_refused(), vec![(K::NodeUnreachable, W)])]
#[case::master_auth(master_auth_failed(), vec![(K::NodeUnreachable, C)])]
#[case::master_hung(master_hung_just_now(), vec![(K::NodeUnreachable, C)])]
#[case::replica_loading(replica_loading(), vec![(K::NodeUnreachable, W)])]
#[case::other_db(keys_in_other_db(), vec![(K::DataAnomaly, W)])]
#[case::bus_partition(bus_partitioned_replica(), vec![(K::NodeDown, W)])]
#[case::minority(minority_node(), vec![(K::ClusterDown, C)])]
#[case::fresh_boot(fresh_boot_fail(), vec![(K::ClusterDown, C)])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    let f = diagnose(&model);
    assert_eq!(kinds(&f), expected, "{f:#?}");
    for x in &f {
        assert!(!x.summary.is_empty());
        assert!(!x.summary.contains('\n'), "one line: {}", x.summary);
        assert!(
            !x.addresses.is_empty() || !x.slots.is_empty(),
            "every finding names nodes or slots: {}",
            x.summary
        );
        assert!(x.addresses.len() >= x.nodes.len());
    }
    // Diagnosing is deterministic and already in canonical order.
    let mut again = diagnose(&model);
    assert_eq!(again, f);
    sort_findings(&mut again);
    assert_eq!(again, f);
}

#[rstest]
#[case::dead_master_no_replica(
    dead_master_no_replica(),
    K::ClusterDown,
    "CLUSTER DOWN: 5462 slots (10922-16383) not served: master 127.0.0.1:7002 (02020202) failed and has no replica"
)]
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
#[case::majority(
    majority_lost(),
    K::ClusterDown,
    "only 1 of 3 slot-owning masters are reachable (2 needed)"
)]
#[case::majority_master(
    majority_lost(),
    K::MasterDown,
    "no majority of masters to elect its replica"
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
#[case::open_both(
    open_both_sides(),
    K::OpenSlot,
    "Slot 100 half-moved from 127.0.0.1:7000 (00000000) to 127.0.0.1:7001 (01010101) (both sides marked): 60 keys on 127.0.0.1:7000 (00000000), 40 keys on 127.0.0.1:7001 (01010101)"
)]
#[case::open_many(
    open_many_slots(),
    K::OpenSlot,
    "100 slots (100-199) marked importing (127.0.0.1:7001 (01010101) from 127.0.0.1:7000 (00000000)) but the source is not migrating: 100 keys on 127.0.0.1:7001"
)]
#[case::open_migrating(
    open_migrating_only(),
    K::OpenSlot,
    "Slot 7 marked migrating (127.0.0.1:7000 (00000000) to 127.0.0.1:7001 (01010101)) but the target is not importing: 5 keys on 127.0.0.1:7000"
)]
#[case::open_replica(
    open_on_replica(),
    K::OpenSlot,
    "Slot 7 open only on replica 127.0.0.1:7010 (0a0a0a0a)"
)]
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
#[case::epoch(
    epoch_collision(),
    K::ConfigEpochCollision,
    "masters 127.0.0.1:7000 (00000000), 127.0.0.1:7001 (01010101) share config epoch 1"
)]
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
#[case::not_joined(
    not_joined(),
    K::NodeNotJoined,
    "127.0.0.1:7040 (28282828) runs in cluster mode but is not part of the cluster (it knows only itself and owns no slots): run CLUSTER MEET 127.0.0.1 7000 on it"
)]
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
#[case::minority(
    minority_node(),
    K::ClusterDown,
    "127.0.0.1:7030 (1e1e1e1e) reaches only 1 of 3 slot-owning masters (minority side of a partition)"
)]
#[case::fresh(fresh_boot_fail(), K::ClusterDown, "no cause visible")]
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
    let f = diagnose(&model);
    let x = find(&f, kind);
    assert!(
        x.summary.contains(needle),
        "summary {:?} lacks {needle:?}",
        x.summary
    );
}

#[test]
fn one_master_down_is_two_findings_not_five() {
    let f = diagnose(&dead_master_no_replica());
    let about_dead: Vec<_> = f.iter().filter(|x| x.nodes.contains(&nid(2))).collect();
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
fn cluster_down_lists_failing_nodes_and_unserved_slots() {
    let f = diagnose(&dead_master_no_replica());
    let cd = find(&f, K::ClusterDown);
    assert_eq!(cd.slots, vec![SlotRange::new(10922, 16383)]);
    // The nodes reporting fail, then the cause.
    assert_eq!(cd.nodes, vec![nid(0), nid(1), nid(2)]);
    assert!(
        cd.evidence
            .iter()
            .any(|e| e.starts_with("cluster_state:fail on 2 of 2 nodes"))
    );
}

#[test]
fn ordering_is_severity_then_kind_then_slot() {
    let mut lab = Lab::healthy(4, 0).kill(3).all_fail();
    lab.m.open_slots.push(OpenSlot {
        slot: 9,
        owner: Some(nid(0)),
        migrating: vec![(nid(0), nid(1))],
        importing: vec![],
        on_replicas: vec![],
        keys: BTreeMap::new(),
    });
    let f = diagnose(&lab.finish());
    let sev: Vec<Severity> = f.iter().map(|x| x.severity).collect();
    let mut sorted = sev.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(sev, sorted);
    assert_eq!(f[0].kind, K::ClusterDown);
    // The NoReplica warnings come in slot order.
    let firsts: Vec<u16> = f
        .iter()
        .filter(|x| x.kind == K::NoReplica)
        .map(|x| x.slots[0].start)
        .collect();
    assert_eq!(firsts, vec![0, 4096, 8192]);
    // Causes before symptoms within a severity.
    let kinds_w: Vec<FindingKind> = f
        .iter()
        .filter(|x| x.severity == W)
        .map(|x| x.kind)
        .collect();
    assert_eq!(kinds_w.first(), Some(&K::OpenSlot));
}

#[test]
fn duplicates_are_dropped() {
    let mut f = diagnose(&no_replicas());
    let n = f.len();
    f.extend(f.clone());
    sort_findings(&mut f);
    assert_eq!(f.len(), n);
}

#[rstest]
#[case::healthy(healthy(), "OK: 16384/16384 slots served by 3 masters, 3 replicas")]
#[case::no_replicas(
    no_replicas(),
    "DEGRADED: master 127.0.0.1:7000 (00000000) serves 5461 slots (0-5460) with no replica: one failure takes them down (+2 more)"
)]
#[case::down(
    dead_master_no_replica(),
    "CLUSTER DOWN: 5462 slots (10922-16383) not served: master 127.0.0.1:7002 (02020202) failed and has no replica (+1 more)"
)]
#[case::not_cluster(not_cluster(), "CRITICAL: 127.0.0.1:6379 is a standalone Redis 7.0.15")]
#[case::fco(
    full_coverage_off(),
    "CRITICAL: cluster_state is ok but 100 slots (0-99) are not served"
)]
fn verdict_line(#[case] model: ClusterModel, #[case] expected: &str) {
    let f = diagnose(&model);
    let v = verdict(&model, &f);
    assert!(
        v.starts_with(expected),
        "{v:?} does not start with {expected:?}"
    );
    assert!(!v.contains('\n'));
}

#[test]
fn verdict_without_any_observation() {
    let mut m = not_cluster();
    m.nodes[0].reachability =
        Reachability::Failed(ProbeError::ConnectFailed("Connection refused".into()));
    let f = diagnose(&m);
    // Nothing is known about slots: no slot findings, just the unreachable seed.
    assert_eq!(kinds(&f), vec![(K::NodeUnreachable, W)]);
    assert!(
        f[0].summary
            .starts_with("node 127.0.0.1:6379 cannot be reached")
    );
    assert!(verdict(&m, &f).starts_with("DEGRADED: node 127.0.0.1:6379"));
    let empty = ClusterModel {
        nodes: vec![],
        ..healthy()
    };
    assert_eq!(
        verdict(&empty, &[]),
        "UNKNOWN: no cluster node could be observed"
    );
}

#[test]
fn empty_or_short_model_does_not_panic() {
    let mut m = healthy();
    m.slots.truncate(10);
    m.slots.push(SlotEntry {
        owner: Some(9999),
        state: SlotState::Served,
    });
    let _ = diagnose(&m);
    let empty = ClusterModel {
        nodes: vec![],
        slots: vec![],
        ..healthy()
    };
    assert!(diagnose(&empty).is_empty());
}

#[test]
fn fails_findings_serialize_with_snake_case_kinds() {
    let f = diagnose(&dead_master_no_replica());
    let json = serde_json::to_string(&f).unwrap_or_default();
    assert!(json.contains("\"kind\":\"cluster_down\""));
    assert!(json.contains("\"severity\":\"critical\""));
}

#[test]
fn pfail_suspicion_on_a_live_master_is_not_a_finding() {
    let mut lab = Lab::healthy(3, 1);
    lab.node(0).peers.pfail_by = vec![nid(10)];
    let f = diagnose(&lab.finish());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn replica_link_down_names_both_nodes_and_the_offsets() {
    let f = diagnose(&replica_link_down());
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.kind, K::ReplicaNotSyncing);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.nodes, vec![nid(10), nid(0)]);
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
    let mut lab = Lab::healthy(3, 1);
    if let Some(i) = &mut lab.node(20).info {
        i.master_link_status = Some("down".into());
        i.master_sync_in_progress = Some(true);
        i.master_link_down_since_s = Some(4);
    }
    let f = diagnose(&lab.finish());
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
    let mut lab = Lab::healthy(3, 1).kill(0).all_fail();
    if let Some(i) = &mut lab.node(10).info {
        i.master_link_status = Some("down".into());
    }
    let f = diagnose(&lab.finish());
    assert!(!f.iter().any(|x| x.kind == K::ReplicaNotSyncing), "{f:#?}");
}

#[test]
fn fresh_replicas_with_zero_offset_are_not_an_incident() {
    let mut lab = Lab::healthy(3, 1);
    for n in [10, 20, 30] {
        if let Some(i) = &mut lab.node(n).info {
            i.slave_repl_offset = Some(0);
            i.master_repl_offset = Some(0);
            i.master_link_status = Some("up".into());
        }
    }
    assert!(diagnose(&lab.finish()).is_empty());
}

#[test]
fn restarted_without_nodes_conf_is_linked() {
    // Master 1 lost its nodes.conf: the old id is failed (and failed over), a new id answers
    // at the same address, alone.
    let mut lab = Lab::healthy(3, 1).failover(1, 20);
    let mut x = new_node(41, Role::Master);
    x.addr.port = 7001;
    x.endpoint = Some(Endpoint::new("127.0.0.1", 7001));
    x.isolated = true;
    lab.m.nodes.push(x);
    let mut m = lab.finish();
    // The old master 1 still owns slots in this variant (no replica took over).
    let i1 = m
        .nodes
        .iter()
        .position(|n| n.id == Some(nid(1)))
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

fn big_model(masters: u16, replicas: u16) -> ClusterModel {
    let mut nodes = Vec::new();
    let mut slots = Vec::with_capacity(SLOT_COUNT);
    let per = SLOT_COUNT / usize::from(masters);
    for k in 0..masters {
        let mut m = new_node(k, Role::Master);
        m.id = Some(NodeId::from(format!("{k:040x}")));
        m.config_epoch = u64::from(k) + 1;
        let idx = u32::try_from(nodes.len()).unwrap_or(0);
        let count = if k + 1 == masters {
            SLOT_COUNT - per * usize::from(k)
        } else {
            per
        };
        for _ in 0..count {
            slots.push(SlotEntry {
                owner: Some(idx),
                state: SlotState::Served,
            });
        }
        nodes.push(m);
        for r in 0..replicas {
            let mut rep = new_node(k, Role::Replica);
            rep.id = Some(NodeId::from(format!(
                "{:040x}",
                100_000 + u32::from(k) * 10 + u32::from(r)
            )));
            rep.master_id = Some(NodeId::from(format!("{k:040x}")));
            nodes.push(rep);
        }
    }
    ClusterModel {
        generation: 1,
        taken_at_ms: 0,
        nodes,
        slots,
        open_slots: vec![],
        disagreements: vec![],
        uncovered_keys: BTreeMap::new(),
    }
}

#[test]
fn thousand_nodes_is_fast() {
    let m = big_model(500, 1);
    assert_eq!(m.nodes.len(), 1000);
    let start = Instant::now();
    let f = diagnose(&m);
    let took = start.elapsed();
    assert!(f.is_empty(), "{:#?}", f.first());
    // Generous bound for unoptimized test builds; release is far below 1 ms.
    assert!(took.as_millis() < 50, "took {took:?}");
}

#[test]
fn thousand_masters_without_replicas_one_finding_each() {
    let m = big_model(1000, 0);
    let f = diagnose(&m);
    assert_eq!(f.len(), 1000);
    assert!(f.iter().all(|x| x.kind == K::NoReplica));
}

mod prop {
    use proptest::prelude::*;

    use super::*;

    fn arb_error() -> impl Strategy<Value = Reachability> {
        prop_oneof![
            Just(Reachability::Ok),
            Just(Reachability::NotProbed),
            Just(Reachability::Failed(ProbeError::ConnectTimeout)),
            Just(Reachability::Failed(ProbeError::Loading)),
            Just(Reachability::Failed(ProbeError::NotCluster {
                version: None
            })),
            ".{0,8}".prop_map(|s| Reachability::Failed(ProbeError::Other(s))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
        /// Whatever the model holds, the diagnosis never panics and is well ordered.
        #[test]
        fn never_panics(
            nodes in proptest::collection::vec(
                (0u16..12, 0u8..3, arb_error(), any::<bool>(), any::<bool>(), 0u16..12,
                 proptest::collection::vec(0u16..12, 0..4), proptest::option::of(any::<bool>()),
                 0u64..4),
                0..12),
            owners in proptest::collection::vec(proptest::option::of(0u32..14), 1..64),
            opens in proptest::collection::vec((0u16..20, 0u16..12, 0u16..12, any::<bool>()), 0..4),
        ) {
            let mut m = healthy();
            m.nodes = nodes.iter().map(|(n, role, reach, fail, iso, master, pf, ok, epoch)| {
                let role = match role { 0 => Role::Master, 1 => Role::Replica, _ => Role::Unknown };
                let mut x = new_node(*n, role);
                x.reachability = reach.clone();
                x.flags.fail = *fail;
                x.isolated = *iso;
                x.master_id = Some(nid(*master));
                x.peers.pfail_by = pf.iter().map(|p| nid(*p)).collect();
                x.peers.fail_by = if *fail { vec![nid(0)] } else { vec![] };
                x.peers.unknown_to = pf.iter().map(|p| nid(*p + 1)).collect();
                x.cluster_state_ok = *ok;
                x.config_epoch = *epoch;
                x
            }).collect();
            m.slots = (0..SLOT_COUNT)
                .map(|s| {
                    let owner = owners[s % owners.len()];
                    SlotEntry { owner, state: if owner.is_some() { SlotState::Served } else { SlotState::Uncovered } }
                })
                .collect();
            m.open_slots = opens.iter().map(|(slot, a, b, mig)| OpenSlot {
                slot: *slot,
                owner: Some(nid(*a)),
                migrating: if *mig { vec![(nid(*a), nid(*b))] } else { vec![] },
                importing: vec![(nid(*b), nid(*a))],
                on_replicas: vec![],
                keys: BTreeMap::from([(nid(*a), 1)]),
            }).collect();
            m.disagreements = opens.iter().map(|(slot, a, b, mig)| ViewDisagreement {
                node: nid(*a),
                slots: vec![SlotRange::single(*slot)],
                its_owner: mig.then(|| nid(*b)),
                consensus_owner: Some(nid(*a)),
                its_owner_epoch: None,
                consensus_owner_epoch: Some(1),
            }).collect();
            let f = diagnose(&m);
            for w in f.windows(2) {
                prop_assert!(w[0].severity >= w[1].severity);
            }
            let v = verdict(&m, &f);
            prop_assert!(!v.is_empty());
        }
    }
}

mod from_snapshots {
    //! Through `ClusterModel::build`, on captured Redis 7.0.15 replies (tests/fixtures).

    use super::*;
    use crate::cluster::synthetic::{snapshot_from_texts, synthetic_cluster};

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/", $name))
        };
    }

    fn refused() -> ProbeError {
        ProbeError::ConnectFailed("Connection refused (os error 111)".into())
    }

    fn run(entries: &[(&str, Result<&str, ProbeError>)]) -> (ClusterModel, Vec<Finding>) {
        let m = ClusterModel::build(&snapshot_from_texts(entries));
        let f = diagnose(&m);
        (m, f)
    }

    const A: &str = "127.0.0.1:31000";
    const A2: &str = "127.0.0.1:31003";
    const C2: &str = "127.0.0.1:31005";

    fn count(f: &[Finding], kind: FindingKind) -> usize {
        f.iter().filter(|x| x.kind == kind).count()
    }

    fn with_summary<'f>(f: &'f [Finding], kind: FindingKind, needle: &str) -> &'f Finding {
        f.iter()
            .find(|x| x.kind == kind && x.summary.contains(needle))
            .unwrap_or_else(|| panic!("no {kind:?} containing {needle:?} in {f:#?}"))
    }

    #[rstest]
    #[case(3, 1, 0)]
    #[case(3, 0, 3)]
    #[case(50, 2, 0)]
    fn synthetic_clusters(
        #[case] masters: usize,
        #[case] replicas: usize,
        #[case] warnings: usize,
    ) {
        let m = ClusterModel::build(&synthetic_cluster(masters, replicas));
        let f = diagnose(&m);
        assert_eq!(f.len(), warnings, "{f:#?}");
        assert!(f.iter().all(|x| x.kind == K::NoReplica && x.severity == W));
        if warnings == 0 {
            assert_eq!(
                verdict(&m, &f),
                format!(
                    "OK: 16384/16384 slots served by {masters} masters, {} replicas",
                    masters * replicas
                )
            );
        }
    }

    #[test]
    fn captured_healthy_has_no_findings() {
        let (m, f) = run(&[
            (A, Ok(fixture!("healthy_nodes_31000.txt"))),
            (A2, Ok(fixture!("healthy_nodes_31003.txt"))),
        ]);
        assert!(f.is_empty(), "{f:#?}");
        assert_eq!(
            verdict(&m, &f),
            "OK: 16384/16384 slots served by 3 masters, 3 replicas"
        );
    }

    #[test]
    fn captured_open_slots() {
        let mut snap = snapshot_from_texts(&[
            (A, Ok(fixture!("open_slots_nodes_31000.txt"))),
            (
                "127.0.0.1:31001",
                Ok(fixture!("open_slots_nodes_31001.txt")),
            ),
            (
                "127.0.0.1:31002",
                Ok(fixture!("open_slots_nodes_31002.txt")),
            ),
        ]);
        assert!(crate::cluster::synthetic::set_slot_keys(
            &mut snap,
            A,
            &[(100, 6), (200, 3)]
        ));
        assert!(crate::cluster::synthetic::set_slot_keys(
            &mut snap,
            "127.0.0.1:31001",
            &[(100, 4), (6000, 0)]
        ));
        let m = ClusterModel::build(&snap);
        let f = diagnose(&m);
        assert_eq!(kinds(&f), vec![(K::OpenSlot, W); 3], "{f:#?}");
        let both = with_summary(
            &f,
            K::OpenSlot,
            "Slot 100 half-moved from 127.0.0.1:31000 (d756d113) to 127.0.0.1:31001 (0b596eb3) (both sides marked)",
        );
        assert_eq!(both.slots, vec![SlotRange::single(100)]);
        assert!(
            both.summary.contains(
                "6 keys on 127.0.0.1:31000 (d756d113), 4 keys on 127.0.0.1:31001 (0b596eb3)"
            ),
            "{both:#?}"
        );
        assert!(both.evidence.iter().any(|e| e.contains("TRYAGAIN")));
        with_summary(
            &f,
            K::OpenSlot,
            "Slot 200 marked migrating (127.0.0.1:31000 (d756d113) to 127.0.0.1:31002 (0a63eccd)) but the target is not importing",
        );
        with_summary(
            &f,
            K::OpenSlot,
            "Slot 6000 marked importing (127.0.0.1:31002 (0a63eccd) from 127.0.0.1:31001 (0b596eb3)) but the source is not migrating",
        );
        assert!(verdict(&m, &f).starts_with("DEGRADED: Slot 100 half-moved"));
    }

    #[test]
    fn captured_replica_marker() {
        let (_, f) = run(&[
            (A, Ok(fixture!("healthy_nodes_31000.txt"))),
            (A2, Ok(fixture!("replica_marker_nodes_31003.txt"))),
        ]);
        assert_eq!(kinds(&f), vec![(K::OpenSlot, W)], "{f:#?}");
        assert!(
            f[0].summary
                .starts_with("Slot 300 open only on replica 127.0.0.1:31003 (239f1fdb)")
        );
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
}

mod forgotten_master {
    //! Captured on Redis 7.0.15: a 4-master cluster where 32103 was forgotten (CLUSTER FORGET)
    //! by the three other nodes (the lab scenario `node-must-rejoin`).

    use super::*;
    use crate::cluster::synthetic::snapshot_from_texts;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/", $name))
        };
    }

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
