//! Tests of the whole diagnosis: canonical order, the verdict line, scale, and that no model
//! makes it panic. The helpers (over the model builder of `cluster::testkit`) and the named
//! scenarios every family shares are in `kit` and `scenarios`; each family's own tests sit
//! beside it (`coverage/tests.rs`, …).

pub(super) mod kit;
pub(super) mod scenarios;

use std::time::{Duration, Instant};

use kit::*;
use scenarios::*;

use super::sort_findings;

/// How long a test may let one diagnosis run before calling it hung.
const HANG_BOUND: Duration = Duration::from_secs(5);

#[rstest]
#[case::healthy(healthy(), vec![])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    assert_findings(&model, &expected);
}

#[test]
fn ordering_is_severity_then_kind_then_slot() {
    let mut lab = ModelBuilder::healthy(4, 0).kill(3).all_fail();
    lab.model.open_slots.push(OpenSlot {
        slot: 9,
        owner: Some(id(0)),
        migrating: vec![(id(0), id(1))],
        importing: vec![],
        on_replicas: vec![],
        keys: BTreeMap::new(),
    });
    let f = diagnose(&lab.build());
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
        progress: crate::cluster::progress::Progress::default(),
        slot_migrations: Vec::new(),
    }
}

/// A guard against hangs, not a timing: the timings of the diagnosis at 1000 nodes are the
/// benchmarks' (`diagnose/*_1000` in tests/bench/core.rs). The bound is seconds so that a busy
/// machine running a debug build never fails it, while a diagnosis gone quadratic still does.
#[test]
fn thousand_nodes_do_not_hang() {
    let m = big_model(500, 1);
    assert_eq!(m.nodes.len(), 1000);
    let start = Instant::now();
    let f = diagnose(&m);
    let took = start.elapsed();
    assert!(f.is_empty(), "{:#?}", f.first());
    assert!(took < HANG_BOUND, "took {took:?}");
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
        #![proptest_config(crate::cluster::proptest_config(128, "tests/proptest-regressions/cluster-diagnose.txt"))]
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
                x.master_id = Some(id(*master));
                x.peers.pfail_by = pf.iter().map(|p| id(*p)).collect();
                x.peers.fail_by = (if *fail { vec![id(0)] } else { vec![] }).into();
                x.peers.unknown_to = pf.iter().map(|p| id(*p + 1)).collect();
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
                owner: Some(id(*a)),
                migrating: if *mig { vec![(id(*a), id(*b))] } else { vec![] },
                importing: vec![(id(*b), id(*a))],
                on_replicas: vec![],
                keys: BTreeMap::from([(id(*a), 1)]),
            }).collect();
            m.disagreements = opens.iter().map(|(slot, a, b, mig)| ViewDisagreement {
                node: id(*a),
                slots: vec![SlotRange::single(*slot)],
                its_owner: mig.then(|| id(*b)),
                consensus_owner: Some(id(*a)),
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

#[rstest]
#[case(3, 1, 0)]
#[case(3, 0, 3)]
#[case(50, 2, 0)]
fn synthetic_clusters(#[case] masters: usize, #[case] replicas: usize, #[case] warnings: usize) {
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
