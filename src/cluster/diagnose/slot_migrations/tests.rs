use crate::cluster::diagnose::tests::kit::*;
use crate::cluster::slot_migrations::sample_migration;

const T: u64 = 1_000;

fn with_job(b: ModelBuilder, state: &str, ack: u64, now: u64) -> ClusterModel {
    let mut m = b.build();
    m.slot_migrations = vec![sample_migration(
        &id(0u16),
        &id(1u16),
        SlotRange::new(0, 99),
        state,
        (T, ack, now),
    )];
    m
}

#[test]
fn a_job_that_acknowledges_is_progress_and_nothing_else() {
    let m = with_job(ModelBuilder::healthy(3, 1), "snapshotting", T + 2, T + 3);
    let f = diagnose(&m);
    assert_eq!(
        kinds(&f),
        vec![(K::SlotMigrationInProgress, Severity::Info)],
        "{f:#?}"
    );
    assert_eq!(
        f[0].summary,
        "Atomic slot migration of 100 slots (0-99) from 127.0.0.1:7000 (00000000) to 127.0.0.1:7001 \
         (01010101) in progress: snapshotting"
    );
    assert!(verdict(&m, &f).starts_with("OK: "));
}

#[test]
fn a_silent_job_is_stalled() {
    let m = with_job(ModelBuilder::healthy(3, 1), "snapshotting", T, T + 25);
    let f = find(&diagnose(&m), K::SlotMigrationStalled).clone();
    assert_eq!(f.severity, W);
    assert!(
        f.summary
            .ends_with("is stalled: no acknowledgement between source and target for 25 s"),
        "{}",
        f.summary
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("CLUSTER CANCELSLOTMIGRATIONS"))
    );
    assert_eq!(f.nodes, vec![id(0u16), id(1u16)]);
}

#[test]
fn a_job_whose_target_is_down_is_stalled_at_once() {
    let m = with_job(
        ModelBuilder::healthy(3, 1).kill(1u16),
        "snapshotting",
        T,
        T + 1,
    );
    let f = find(&diagnose(&m), K::SlotMigrationStalled).clone();
    assert!(
        f.summary.ends_with(
            "is stalled: the target 127.0.0.1:7001 (01010101) is marked failed by its peers"
        ),
        "{}",
        f.summary
    );
}

#[test]
fn a_failed_job_that_left_nothing_is_a_note() {
    let m = with_job(ModelBuilder::healthy(3, 1), "failed", T, T + 70);
    let f = diagnose(&m);
    assert_eq!(kinds(&f), vec![(K::SlotMigrationFailed, Severity::Info)]);
    assert!(
        f[0].summary
            .ends_with("failed: nothing moved, the slots stay on 127.0.0.1:7000 (00000000)"),
        "{}",
        f[0].summary
    );
    // An hour later it is history.
    let old = with_job(ModelBuilder::healthy(3, 1), "failed", T, T + 4000);
    assert!(diagnose(&old).is_empty());
    // A successful job is no finding at all.
    let ok = with_job(ModelBuilder::healthy(3, 1), "success", T, T + 5);
    assert!(diagnose(&ok).is_empty());
}

#[test]
fn a_failed_job_that_split_its_slots_asks_for_the_classic_repair() {
    let mut m = with_job(ModelBuilder::healthy(3, 1), "cancelled", T, T + 5);
    let b = u32::try_from(m.nodes.iter().position(|n| n.id == Some(id(1u16))).unwrap()).unwrap();
    for e in &mut m.slots[50..100] {
        e.owner = Some(b);
    }
    let f = find(&diagnose(&m), K::SlotMigrationFailed).clone();
    assert_eq!(f.severity, W);
    assert!(
        f.summary.contains("was cancelled and left its slots in a bad state: split ownership: 50 slots (0-49) on the source, 50 slots (50-99) on the target"),
        "{}",
        f.summary
    );
    assert!(f.evidence.iter().any(|e| e.contains("classic repair")));
    m.slots[10].owner = None;
    m.slots[10].state = SlotState::Uncovered;
    assert_eq!(find(&diagnose(&m), K::SlotMigrationFailed).severity, C);
}

#[test]
fn only_the_newest_job_of_a_slot_counts() {
    let mut m = with_job(ModelBuilder::healthy(3, 1), "snapshotting", T + 9, T + 10);
    let mut old = m.slot_migrations[0].clone();
    old.name = "older".into();
    for h in [&mut old.export, &mut old.import].into_iter().flatten() {
        h.state = "failed".into();
        h.create_time_s = Some(T - 100);
    }
    m.slot_migrations.push(old);
    assert_eq!(
        kinds(&diagnose(&m)),
        vec![(K::SlotMigrationInProgress, Severity::Info)]
    );
}
