//! Tests of the open-slot findings (migrating / importing markers).

use crate::cluster::diagnose::tests::kit::*;
use crate::cluster::diagnose::tests::scenarios::*;

#[rstest]
#[case::open_both(open_both_sides(), vec![(K::OpenSlot, W)])]
// 100 keys on the importing node and no migrating source: nobody can read them.
#[case::open_many(open_many_slots(), vec![(K::OpenSlot, C)])]
#[case::open_migrating(open_migrating_only(), vec![(K::OpenSlot, W)])]
#[case::open_importing(open_importing_only(), vec![(K::OpenSlot, W)])]
#[case::open_replica(open_on_replica(), vec![(K::OpenSlot, W)])]
#[case::open_target_dead(open_target_dead(), vec![
    (K::OpenSlot, C), (K::LingeringFailedNode, W), (K::NoReplica, W)])]
fn findings_per_scenario(
    #[case] model: ClusterModel,
    #[case] expected: Vec<(FindingKind, Severity)>,
) {
    assert_findings(&model, &expected);
}

#[rstest]
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
fn summaries_name_real_things(
    #[case] model: ClusterModel,
    #[case] kind: FindingKind,
    #[case] needle: &str,
) {
    assert_summary(&model, kind, needle);
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
        both.summary
            .contains("6 keys on 127.0.0.1:31000 (d756d113), 4 keys on 127.0.0.1:31001 (0b596eb3)"),
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
fn keys_on_an_importing_node_without_a_migrating_source_are_said_unreadable() {
    let m = open_many_slots();
    let f = diagnose(&m);
    let open = f.iter().find(|f| f.kind == K::OpenSlot).unwrap();
    let text = open.evidence.join("\n");
    assert!(
        text.contains("clients cannot read the 100 keys on the importing node"),
        "{text}"
    );
    assert!(!text.contains("no client symptom"), "{text}");
}
