//! Table-driven tests of the planner on constructed models.

use std::collections::BTreeMap;

use rstest::rstest;

use super::*;
use crate::cluster::model::{PeerOpinion, SlotEntry, ViewDisagreement};
use crate::cluster::types::{
    MarkerKind, NodeAddr, NodeConfig, NodeFlags, NodeLine, OpenMarker, ServerInfo,
};
use crate::fix::{Condition, Confirmation, FixPlan, KeysAtRisk, PlanKind, StepAction};

fn id(c: char) -> NodeId {
    NodeId::from(std::iter::repeat_n(c, 40).collect::<String>())
}

fn port(c: char) -> u16 {
    7000 + u16::try_from(u32::from(c) - u32::from('a')).unwrap()
}

/// A small builder for models: nodes by letter, ports 7000 + letter index.
struct M {
    model: ClusterModel,
}

impl M {
    fn new() -> Self {
        Self {
            model: ClusterModel {
                generation: 1,
                taken_at_ms: 0,
                nodes: Vec::new(),
                slots: vec![
                    SlotEntry {
                        owner: None,
                        state: SlotState::Uncovered
                    };
                    SLOT_COUNT
                ],
                open_slots: Vec::new(),
                disagreements: Vec::new(),
                uncovered_keys: BTreeMap::new(),
            },
        }
    }

    fn node(mut self, c: char, role: Role, slots: &[(Slot, Slot)], up: bool) -> Self {
        let ranges: Vec<SlotRange> = slots.iter().map(|(a, b)| SlotRange::new(*a, *b)).collect();
        let p = port(c);
        let addr = NodeAddr {
            ip: "127.0.0.1".into(),
            port: p,
            cport: p + 10000,
            hostname: None,
        };
        let flags = NodeFlags {
            master: role == Role::Master,
            replica: role == Role::Replica,
            fail: !up,
            ..NodeFlags::default()
        };
        let line = NodeLine {
            id: id(c),
            addr: addr.clone(),
            flags: NodeFlags {
                myself: true,
                ..flags
            },
            master_id: None,
            ping_sent_ms: 0,
            pong_recv_ms: 0,
            config_epoch: 1,
            link_connected: true,
            slots: ranges.clone(),
            markers: Vec::new(),
        };
        let idx = u32::try_from(self.model.nodes.len()).unwrap();
        for r in &ranges {
            for s in r.iter() {
                self.model.slots[usize::from(s)] = SlotEntry {
                    owner: Some(idx),
                    state: if up {
                        SlotState::Served
                    } else {
                        SlotState::OwnerFailing
                    },
                };
            }
        }
        self.model.nodes.push(NodeSummary {
            id: Some(id(c)),
            addr: addr.clone(),
            endpoint: addr.endpoint(),
            role,
            master_id: None,
            flags,
            reachability: if up {
                Reachability::Ok
            } else {
                Reachability::Failed(ProbeError::ConnectFailed("refused".into()))
            },
            own_line: up.then_some(line),
            claimed_slots: ranges,
            config_epoch: 1,
            peers: PeerOpinion::default(),
            info: Some(ServerInfo {
                keys: Some(100),
                ..ServerInfo::default()
            }),
            config: Some(NodeConfig {
                require_full_coverage: Some(true),
                ..NodeConfig::default()
            }),
            cluster_state_ok: Some(up),
            rtt_us: None,
            observed_at_ms: None,
            observation: None,
            isolated: false,
        });
        self
    }

    fn replica_of(mut self, c: char, master: char, up: bool) -> Self {
        self = self.node(c, Role::Replica, &[], up);
        if let Some(n) = self.model.nodes.last_mut() {
            n.master_id = Some(id(master));
        }
        self
    }

    fn get(&mut self, c: char) -> &mut NodeSummary {
        self.model
            .nodes
            .iter_mut()
            .find(|n| n.id == Some(id(c)))
            .unwrap()
    }

    /// Every live node knows every other node.
    fn everyone_knows(mut self) -> Self {
        let ids: Vec<NodeId> = self
            .model
            .nodes
            .iter()
            .filter(|n| matches!(n.reachability, Reachability::Ok))
            .filter_map(|n| n.id.clone())
            .collect();
        for n in &mut self.model.nodes {
            n.peers.known_by = ids
                .iter()
                .filter(|i| Some(*i) != n.id.as_ref())
                .cloned()
                .collect();
        }
        self
    }

    fn open(
        mut self,
        slot: Slot,
        src: char,
        dst: char,
        mig: bool,
        imp: bool,
        keys: &[(char, u64)],
    ) -> Self {
        if mig {
            self.get(src)
                .own_line
                .as_mut()
                .unwrap()
                .markers
                .push(OpenMarker {
                    slot,
                    kind: MarkerKind::Migrating,
                    peer: id(dst),
                });
        }
        if imp {
            self.get(dst)
                .own_line
                .as_mut()
                .unwrap()
                .markers
                .push(OpenMarker {
                    slot,
                    kind: MarkerKind::Importing,
                    peer: id(src),
                });
        }
        self.model.slots[usize::from(slot)].state = SlotState::Migrating;
        self.model.open_slots.push(OpenSlot {
            slot,
            owner: Some(id(src)),
            migrating: if mig {
                vec![(id(src), id(dst))]
            } else {
                Vec::new()
            },
            importing: if imp {
                vec![(id(dst), id(src))]
            } else {
                Vec::new()
            },
            on_replicas: Vec::new(),
            keys: keys.iter().map(|(c, k)| (id(*c), *k)).collect(),
        });
        self
    }

    fn uncover(mut self, from: Slot, to: Slot, keys_on: Option<char>) -> Self {
        for s in from..=to {
            self.model.slots[usize::from(s)] = SlotEntry {
                owner: None,
                state: SlotState::Uncovered,
            };
            if let Some(c) = keys_on {
                self.model
                    .uncovered_keys
                    .entry(s)
                    .or_default()
                    .insert(id(c), 2);
            }
        }
        for n in &mut self.model.nodes {
            for line in n.own_line.iter_mut() {
                line.slots = strip(&line.slots, from, to);
            }
            n.claimed_slots = strip(&n.claimed_slots, from, to);
        }
        self
    }

    fn build(self) -> ClusterModel {
        self.model
    }
}

fn strip(ranges: &[SlotRange], from: Slot, to: Slot) -> Vec<SlotRange> {
    slots_to_ranges(
        ranges
            .iter()
            .flat_map(SlotRange::iter)
            .filter(|s| *s < from || *s > to),
    )
}

fn three() -> M {
    M::new()
        .node('a', Role::Master, &[(0, 5460)], true)
        .node('b', Role::Master, &[(5461, 10922)], true)
        .node('c', Role::Master, &[(10923, 16383)], true)
}

fn plan<'a>(plans: &'a [FixPlan], id: &str) -> &'a FixPlan {
    plans.iter().find(|p| p.id == id).unwrap_or_else(|| {
        panic!(
            "no plan {id} in {:?}",
            plans.iter().map(|p| &p.id).collect::<Vec<_>>()
        )
    })
}

fn commands(p: &FixPlan) -> Vec<String> {
    p.steps
        .iter()
        .map(|s| format!("{} {}", s.endpoint.port, s.command_text()))
        .collect()
}

#[test]
fn healthy_cluster_has_no_plan() {
    let m = three().replica_of('d', 'a', true).everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    assert!(
        plans.is_empty(),
        "{:?}",
        plans.iter().map(|p| &p.id).collect::<Vec<_>>()
    );
}

#[rstest]
// (migrating marker, importing marker, keys on a, keys on b) -> expected plan ids
#[case(true, true, 10, 0, &["complete-migration-100", "stabilise-slot-100"])]
#[case(true, true, 0, 0, &["complete-migration-100", "stabilise-slot-100"])]
#[case(true, false, 10, 0, &["stabilise-slot-100"])]
#[case(false, true, 10, 0, &["stabilise-slot-100"])]
#[case(true, true, 6, 4, &["complete-migration-100", "rollback-migration-100"])]
#[case(true, true, 0, 4, &["complete-migration-100", "rollback-migration-100"])]
#[case(false, true, 6, 4, &["complete-migration-100", "rollback-migration-100"])]
#[case(true, false, 6, 4, &["complete-migration-100", "rollback-migration-100"])]
fn open_slot_plans(
    #[case] mig: bool,
    #[case] imp: bool,
    #[case] on_a: u64,
    #[case] on_b: u64,
    #[case] expected: &[&str],
) {
    let m = three()
        .open(100, 'a', 'b', mig, imp, &[('a', on_a), ('b', on_b)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, expected);
}

#[test]
fn stabilise_clears_only_marked_nodes() {
    let m = three()
        .open(100, 'a', 'b', true, false, &[('a', 10)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "stabilise-slot-100");
    assert_eq!(commands(p), ["7000 CLUSTER SETSLOT 100 STABLE"]);
    assert!(!p.risk.loses_data);
    assert_eq!(p.confirmation, Confirmation::Simple);
    // Preconditions hold on the model the plan came from.
    assert!(crate::fix::failed_checks(&p.preconditions, &m).is_empty());
}

#[test]
fn both_markers_no_key_moved_offers_complete_by_default_and_close() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 10), ('b', 0)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let complete = plan(&plans, "complete-migration-100");
    let close = plan(&plans, "stabilise-slot-100");
    assert!(
        complete.recommended && !close.recommended,
        "both markers agree on a -> b: the intent is to move the slot"
    );
    assert_eq!(complete.group, close.group);
    assert!(complete.group.is_some());
    let b = id('b').0;
    // Move every key, then SETSLOT NODE on the target first, the source, every other master.
    assert_eq!(
        commands(complete),
        [
            "7000 MIGRATE keys of slot 100 to 127.0.0.1:7001 in batches of 100 (GETKEYSINSLOT + MIGRATE)".to_owned(),
            format!("7001 CLUSTER SETSLOT 100 NODE {b}"),
            format!("7000 CLUSTER SETSLOT 100 NODE {b}"),
            format!("7002 CLUSTER SETSLOT 100 NODE {b}"),
        ]
    );
    assert_eq!(complete.risk.keys_to_move, 10);
    assert_eq!(complete.risk.keys_at_risk, KeysAtRisk::Known(0));
    assert!(
        complete
            .risk
            .notes
            .iter()
            .any(|n| n.contains("no key has moved yet")),
        "{:?}",
        complete.risk.notes
    );
    // Closing: STABLE on both sides, nothing moves.
    assert_eq!(
        commands(close),
        [
            "7000 CLUSTER SETSLOT 100 STABLE",
            "7001 CLUSTER SETSLOT 100 STABLE"
        ]
    );
    assert_eq!(close.risk.keys_to_move, 0);
    assert!(
        close.risk.notes.iter().any(|n| n.contains("abandons")),
        "{:?}",
        close.risk.notes
    );
    // Nothing to roll back.
    assert!(!plans.iter().any(|p| p.kind == PlanKind::RollBackMigration));
    for p in [complete, close] {
        assert!(
            crate::fix::failed_checks(&p.preconditions, &m).is_empty(),
            "{}",
            p.id
        );
    }
}

#[test]
fn both_markers_no_key_moved_with_a_failing_target_only_closes() {
    let mut b = three()
        .open(100, 'a', 'b', true, true, &[('a', 10), ('b', 0)])
        .everyone_knows();
    b.get('b').peers.fail_by = vec![id('a'), id('c')];
    let m = b.build();
    let plans = plan_fixes_for(&m, &[], &Scope::Slot(100));
    let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["stabilise-slot-100"]);
    assert!(plans[0].recommended);
}

#[test]
fn close_with_an_uncounted_target_has_unknown_keys_at_risk() {
    // COUNTKEYSINSLOT answered on a (10 keys) but not on b: b may hold keys that closing
    // would orphan. Unknown, never 0.
    let m = three()
        .open(100, 'a', 'b', true, false, &[('a', 10)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "stabilise-slot-100");
    assert_eq!(p.risk.keys_at_risk.known(), None);
    assert_eq!(p.risk.keys_at_risk.to_string(), "unknown");
    assert_eq!(p.risk.level(), crate::fix::RiskLevel::High);
    assert!(
        p.risk.notes[0].contains("could not be counted"),
        "{:?}",
        p.risk.notes
    );
    // Counted on both sides: nothing at risk.
    let m = three()
        .open(100, 'a', 'b', true, false, &[('a', 10), ('b', 0)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "stabilise-slot-100");
    assert_eq!(p.risk.keys_at_risk, KeysAtRisk::Known(0));
    assert_eq!(p.risk.level(), crate::fix::RiskLevel::Low);
}

#[test]
fn complete_migration_orders_steps_target_first() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "complete-migration-100");
    assert!(
        p.recommended,
        "markers say a -> b: completing is the default"
    );
    assert!(!plan(&plans, "rollback-migration-100").recommended);
    let b = id('b').0;
    assert_eq!(
        commands(p),
        [
            "7000 MIGRATE keys of slot 100 to 127.0.0.1:7001 in batches of 100 (GETKEYSINSLOT + MIGRATE)".to_owned(),
            format!("7001 CLUSTER SETSLOT 100 NODE {b}"),
            format!("7000 CLUSTER SETSLOT 100 NODE {b}"),
            format!("7002 CLUSTER SETSLOT 100 NODE {b}"),
        ]
    );
    assert_eq!(p.risk.keys_to_move, 6);
    assert_eq!(p.risk.slots_changing_owner, 1);
    // The source's SETSLOT tolerates having become a replica.
    let StepAction::Command { tolerate, .. } = &p.steps[2].action else {
        panic!()
    };
    assert_eq!(tolerate, &["only with masters".to_owned()]);
    assert!(crate::fix::failed_checks(&p.preconditions, &m).is_empty());
}

#[test]
fn complete_sets_missing_markers_first() {
    let m = three()
        .open(100, 'a', 'b', false, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "complete-migration-100");
    let b = id('b').0;
    assert_eq!(
        commands(p)[0],
        format!("7000 CLUSTER SETSLOT 100 MIGRATING {b}")
    );
}

#[test]
fn rollback_closes_source_then_moves_keys_back() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "rollback-migration-100");
    let cmds = commands(p);
    assert_eq!(cmds.len(), 3, "{cmds:?}");
    assert_eq!(cmds[0], "7000 CLUSTER SETSLOT 100 STABLE");
    assert!(cmds[1].starts_with("7001 MIGRATE keys of slot 100 to 127.0.0.1:7000"));
    assert_eq!(cmds[2], "7001 CLUSTER SETSLOT 100 STABLE");
    assert_eq!(p.risk.keys_to_move, 4);
}

#[test]
fn precondition_fails_when_marker_cleared() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "complete-migration-100");
    let mut fresh = m.clone();
    fresh.nodes[0].own_line.as_mut().unwrap().markers.clear();
    let failed = crate::fix::failed_checks(&p.preconditions, &fresh);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("no longer migrating"), "{failed:?}");
}

#[test]
fn failed_master_with_replica_offers_failover_restart_and_reassign() {
    let m = three()
        .replica_of('d', 'c', true)
        .replica_of('e', 'c', true)
        .build();
    let m = {
        let mut b = M { model: m };
        let c = b.get('c');
        c.reachability = Reachability::Failed(ProbeError::ConnectFailed("refused".into()));
        c.own_line = None;
        c.info = None;
        c.flags.fail = true;
        for s in 10923..=16383usize {
            b.model.slots[s].state = SlotState::OwnerFailing;
        }
        b.everyone_knows().build()
    };
    let plans = plan_fixes(&m, &[]);
    let f = plan(&plans, &format!("failover-{}", id('d').short()));
    assert!(f.recommended);
    assert_eq!(commands(f)[0], "7003 CLUSTER FAILOVER FORCE");
    assert!(!plan(&plans, &format!("failover-{}", id('e').short())).recommended);
    let restart = plan(&plans, &format!("restart-{}", id('c').short()));
    assert!(restart.steps.is_empty() && !restart.recommended);
    let r = plan(&plans, &format!("reassign-slots-{}", id('c').short()));
    assert_eq!(
        r.confirmation,
        Confirmation::TypeWord("lose-5461-slots".into())
    );
    assert!(r.risk.loses_data);
    assert_eq!(r.risk.slots_changing_owner, 5461);
    // c is unreachable: its key count is unknown, never 0. The live masters hold 100 keys
    // each in 5461 and 5462 slots: about 100 keys for c's 5461 slots.
    assert_eq!(r.risk.keys_at_risk.known(), None);
    assert!(r.risk.keys_at_risk.may_lose_keys());
    let KeysAtRisk::Unknown { reason, estimate } = &r.risk.keys_at_risk else {
        panic!("{:?}", r.risk.keys_at_risk)
    };
    assert_eq!(reason, "master unreachable");
    let e = estimate.as_ref().unwrap();
    assert_eq!(e.keys, 100);
    assert!(e.basis.contains("200 keys in 10923 slots"), "{}", e.basis);
    assert_eq!(r.risk.keys_at_risk.to_string(), "unknown (about 100)");
    let note = &r.risk.notes[0];
    assert!(
        note.contains("How many is unknown (master unreachable): about 100 keys if it held"),
        "{note}"
    );
    assert!(!note.contains("the an "), "{note}");
    // Contiguous halves: a gets 10923-13653, b gets 13654-16383.
    let cmds = commands(r);
    assert!(
        cmds.contains(&"7000 CLUSTER ADDSLOTSRANGE 10923 13653".to_owned()),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"7001 CLUSTER ADDSLOTSRANGE 13654 16383".to_owned()),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"7000 CLUSTER DELSLOTSRANGE 10923 13653".to_owned()),
        "{cmds:?}"
    );
    assert!(
        crate::fix::failed_checks(&r.preconditions, &m).is_empty(),
        "{:?}",
        crate::fix::failed_checks(&r.preconditions, &m)
    );
    // The coverage-off plan is offered (slots of a failing owner, majority still there).
    assert!(plans.iter().any(|p| p.id == "coverage-off"));
}

#[test]
fn failover_uses_takeover_without_majority() {
    let mut b = three().replica_of('d', 'c', true);
    for c in ['b', 'c'] {
        let n = b.get(c);
        n.reachability = Reachability::Failed(ProbeError::ConnectTimeout);
        n.own_line = None;
    }
    let m = b.everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    let f = plan(&plans, &format!("failover-{}", id('d').short()));
    assert_eq!(commands(f)[0], "7003 CLUSTER FAILOVER TAKEOVER");
    assert!(
        f.risk.notes.iter().any(|n| n.contains("only 1 of 3")),
        "{:?}",
        f.risk.notes
    );
    // No coverage-off without a majority: it would not bring the cluster back.
    assert!(!plans.iter().any(|p| p.id == "coverage-off"));
}

#[test]
fn deleted_slots_are_reclaimed_by_the_key_holder() {
    let m = three()
        .uncover(0, 99, Some('a'))
        .uncover(200, 200, Some('a'))
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("reclaim-slots-{}", id('a').short()));
    assert_eq!(
        commands(p)[..2],
        [
            "7000 CLUSTER ADDSLOTSRANGE 0 99 200 200".to_owned(),
            "7000 CLUSTER BUMPEPOCH".to_owned()
        ]
    );
    assert!(!p.risk.loses_data);
    assert!(!plans.iter().any(|p| p.kind == PlanKind::CoverEmptySlots));
}

#[test]
fn empty_slots_inside_a_holders_run_go_to_the_holder() {
    // 0-99 uncovered, keys only in slot 50 on b: the whole run goes back to b, unfragmented.
    let mut b = three().uncover(0, 99, None);
    b.model
        .uncovered_keys
        .entry(50)
        .or_default()
        .insert(id('b'), 3);
    let m = b.everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("reclaim-slots-{}", id('b').short()));
    assert_eq!(commands(p)[0], "7001 CLUSTER ADDSLOTSRANGE 0 99");
    assert!(!plans.iter().any(|p| p.kind == PlanKind::CoverEmptySlots));
}

#[test]
fn empty_uncovered_slots_are_spread_contiguously() {
    let m = three().uncover(0, 5460, None).everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "cover-empty-slots-0");
    let cmds: Vec<String> = commands(p)
        .into_iter()
        .filter(|c| c.contains("ADDSLOTS"))
        .collect();
    // a lost its only slots but still answers as a master: three live masters share 5461.
    assert_eq!(
        cmds,
        [
            "7000 CLUSTER ADDSLOTSRANGE 0 1820",
            "7001 CLUSTER ADDSLOTSRANGE 1821 3640",
            "7002 CLUSTER ADDSLOTSRANGE 3641 5460",
        ]
    );
    assert_eq!(p.confirmation, Confirmation::Simple);
}

#[test]
fn ownership_dispute_bumps_owner_and_corrects_dissenters() {
    let mut m = three().everyone_knows().build();
    m.disagreements.push(ViewDisagreement {
        node: id('c'),
        slots: vec![SlotRange::new(5, 6)],
        its_owner: Some(id('b')),
        consensus_owner: Some(id('a')),
        its_owner_epoch: Some(3),
        consensus_owner_epoch: Some(2),
    });
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("resolve-dispute-{}", id('a').short()));
    let a = id('a').0;
    assert_eq!(
        commands(p)[..3],
        [
            "7000 CLUSTER BUMPEPOCH".to_owned(),
            format!("7002 CLUSTER SETSLOT 5 NODE {a}"),
            format!("7002 CLUSTER SETSLOT 6 NODE {a}"),
        ]
    );
    assert!(matches!(
        p.steps.last().map(|s| &s.action),
        Some(StepAction::WaitFor {
            condition: Condition::AllViewsAgree,
            ..
        })
    ));
}

#[test]
fn dispute_clears_a_stale_importing_marker_before_setslot_node() {
    // c believes slots 5-6 belong to b and still imports slot 5 from b, holding no key there:
    // gossip never rebinds a slot a node imports, so STABLE must come before SETSLOT NODE.
    let mut b = three().everyone_knows();
    b.get('c')
        .own_line
        .as_mut()
        .unwrap()
        .markers
        .push(OpenMarker {
            slot: 5,
            kind: MarkerKind::Importing,
            peer: id('b'),
        });
    let mut m = b.build();
    m.open_slots.push(OpenSlot {
        slot: 5,
        owner: Some(id('a')),
        migrating: Vec::new(),
        importing: vec![(id('c'), id('b'))],
        on_replicas: Vec::new(),
        keys: [(id('a'), 3), (id('c'), 0)].into_iter().collect(),
    });
    m.disagreements.push(ViewDisagreement {
        node: id('c'),
        slots: vec![SlotRange::new(5, 6)],
        its_owner: Some(id('b')),
        consensus_owner: Some(id('a')),
        its_owner_epoch: Some(3),
        consensus_owner_epoch: Some(2),
    });
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("resolve-dispute-{}", id('a').short()));
    let a = id('a').0;
    assert_eq!(
        commands(p)[..4],
        [
            "7000 CLUSTER BUMPEPOCH".to_owned(),
            "7002 CLUSTER SETSLOT 5 STABLE".to_owned(),
            format!("7002 CLUSTER SETSLOT 5 NODE {a}"),
            format!("7002 CLUSTER SETSLOT 6 NODE {a}"),
        ]
    );
    // The marker is a precondition: if someone cleared or changed it, nothing runs.
    assert!(p.preconditions.iter().any(|c| c.condition
        == Condition::SlotImporting {
            slot: 5,
            node: id('c'),
            from: id('b'),
        }));
    assert!(crate::fix::failed_checks(&p.preconditions, &m).is_empty());
    let mut fresh = m.clone();
    fresh.nodes[2].own_line.as_mut().unwrap().markers.clear();
    assert_eq!(crate::fix::failed_checks(&p.preconditions, &fresh).len(), 1);
    assert!(!p.risk.loses_data);

    // Where the dissenter holds keys of that slot it is a half-moved slot: no STABLE here.
    let mut with_keys = m.clone();
    with_keys.open_slots[0].keys.insert(id('c'), 2);
    let plans = plan_fixes(&with_keys, &[]);
    let p = plan(&plans, &format!("resolve-dispute-{}", id('a').short()));
    assert!(
        !commands(p).iter().any(|c| c.contains("STABLE")),
        "{:?}",
        commands(p)
    );
}

#[test]
fn self_claiming_dissenter_has_unknown_keys_at_risk_with_an_estimate() {
    // c claims slots 5-6 itself (its 100 keys over 5463 slots): accepting a's claim deletes
    // its keys there, which were not counted.
    let mut m = three().everyone_knows().build();
    m.disagreements.push(ViewDisagreement {
        node: id('c'),
        slots: vec![SlotRange::new(5, 6)],
        its_owner: Some(id('c')),
        consensus_owner: Some(id('a')),
        its_owner_epoch: Some(3),
        consensus_owner_epoch: Some(2),
    });
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("resolve-dispute-{}", id('a').short()));
    assert!(p.risk.loses_data);
    assert_eq!(p.risk.keys_at_risk.known(), None);
    assert_eq!(p.risk.keys_at_risk.estimate().map(|e| e.keys), Some(0));
    assert_eq!(p.risk.keys_at_risk.to_string(), "unknown");
}

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
    b.get('d').peers.known_by = ids;
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
    let mut b = M::new().node('a', Role::Unknown, &[], true);
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

#[test]
fn coverage_on_offered_when_off() {
    let mut b = three().everyone_knows();
    b.get('a').config = Some(NodeConfig {
        require_full_coverage: Some(false),
        ..NodeConfig::default()
    });
    let m = b.build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "coverage-on");
    assert_eq!(p.steps.len(), 3);
    assert!(p.recommended);
}

#[test]
fn scope_filters_by_slot_and_node() {
    let m = three()
        .open(100, 'a', 'b', true, false, &[('a', 1)])
        .open(9000, 'b', 'c', true, false, &[('b', 1)])
        .everyone_knows()
        .build();
    let only = plan_fixes_for(&m, &[], &Scope::Slot(9000));
    assert_eq!(
        only.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["stabilise-slot-9000"]
    );
    let by_node = plan_fixes_for(&m, &[], &Scope::Node(id('a')));
    assert_eq!(
        by_node.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["stabilise-slot-100"]
    );
}

#[test]
fn plans_serialize_to_json() {
    let m = three()
        .open(100, 'a', 'b', true, true, &[('a', 6), ('b', 4)])
        .everyone_knows()
        .build();
    let plans = plan_fixes(&m, &[]);
    let v = serde_json::to_value(&plans).unwrap();
    assert_eq!(v[0]["id"], "complete-migration-100");
    assert_eq!(v[0]["risk"]["keys_to_move"], 6);
}

#[test]
fn replica_with_a_broken_link_gets_advice_with_the_exact_commands_and_no_write() {
    let mut b = three().replica_of('d', 'a', true).everyone_knows();
    if let Some(i) = b.get('d').info.as_mut() {
        i.master_link_status = Some("down".into());
    }
    let m = b.build();
    let findings = crate::cluster::diagnose(&m);
    assert!(
        findings
            .iter()
            .any(|f| f.kind == FindingKind::ReplicaNotSyncing),
        "{findings:#?}"
    );
    let plans = plan_fixes(&m, &findings);
    let p = plan(&plans, &format!("replica-link-{}", id('d').short()));
    assert_eq!(p.kind, PlanKind::ReplicaLinkAdvice);
    assert!(p.is_advice_only() && p.steps.is_empty());
    assert_eq!(p.nodes, vec![id('d'), id('a')]);
    assert!(
        p.title.starts_with("Restore replication of 127.0.0.1:7003"),
        "{}",
        p.title
    );
    let text = p.advice.join("\n");
    assert!(
        text.contains("redis-cli -h 127.0.0.1 -p 7003 CONFIG SET masterauth"),
        "{text}"
    );
    // A replica in a full sync is told to wait, not to change its password.
    let mut b = three().replica_of('d', 'a', true).everyone_knows();
    if let Some(i) = b.get('d').info.as_mut() {
        i.master_link_status = Some("down".into());
        i.master_sync_in_progress = Some(true);
    }
    let m = b.build();
    let plans = plan_fixes(&m, &crate::cluster::diagnose(&m));
    let p = plan(&plans, &format!("replica-link-{}", id('d').short()));
    assert!(
        p.title.starts_with("Let 127.0.0.1:7003 finish"),
        "{}",
        p.title
    );
    assert!(!p.advice.join("\n").contains("masterauth"));
}
