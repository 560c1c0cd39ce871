use super::*;
use crate::cluster::types::{ClusterNodes, NodeObservation, NodeReport, ServerInfo};

fn fixture(name: &str) -> Vec<SlotMigrationJob> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_jobs(&entries_from_capture(&text))
}

const SRC: &str = "b09717c353df325ca27cdc1439f4f01ee55b1c7e";
const DST: &str = "6d0540f637c591f5aebf17a79f1d81317899a290";

#[test]
fn a_stalled_export_parses_with_every_field() {
    let jobs = fixture("valkey9_slotmig_stalled_export_27102.txt");
    let j = &jobs[0];
    assert_eq!(j.name, "f6b0f0d643d3db76ba600fb27d9d13ad2990c549");
    assert_eq!(j.side, Some(JobSide::Export));
    assert_eq!(j.slots, vec![SlotRange::new(0, 99)]);
    assert_eq!(j.source.as_ref().map(NodeId::as_str), Some(SRC));
    assert_eq!(j.target.as_ref().map(NodeId::as_str), Some(DST));
    assert_eq!(j.state, "snapshotting");
    assert_eq!(j.phase(), JobPhase::Running);
    assert_eq!(j.create_time_s, Some(1_796_324_606));
    assert_eq!(j.last_ack_time_s, Some(1_796_324_606));
    assert_eq!(j.remaining_repl_size, Some(0));
    assert!(j.other.is_empty(), "{:?}", j.other);
    // The server keeps finished jobs: newest first.
    assert!(jobs.len() >= 3);
    assert_eq!(jobs[1].phase(), JobPhase::Success);
}

#[test]
fn final_states_parse_from_the_captures() {
    let failed = fixture("valkey9_slotmig_failed_export_27101.txt");
    assert_eq!(failed[0].phase(), JobPhase::Failed);
    assert_eq!(
        failed[0].message,
        "Timed out after too long with no interaction"
    );
    let imp = fixture("valkey9_slotmig_failed_import_27102.txt");
    assert_eq!(imp[0].side, Some(JobSide::Import));
    assert_eq!(imp[0].phase(), JobPhase::Failed);
    let cancelled = fixture("valkey9_slotmig_cancelled_export_27102.txt");
    assert_eq!(cancelled[0].phase(), JobPhase::Cancelled);
    let cancelled_import = fixture("valkey9_slotmig_cancelled_import_27101.txt");
    assert_eq!(cancelled_import[0].phase(), JobPhase::Failed);
    assert!(
        cancelled_import[0]
            .message
            .contains("Connection lost to source")
    );
    let ok = fixture("valkey9_slotmig_success_export_27101.txt");
    assert_eq!(ok[0].phase(), JobPhase::Success);
    let running = fixture("valkey9_slotmig_running_import_27101.txt");
    assert_eq!(running[0].state, "waiting-for-ack");
    assert_eq!(running[0].phase(), JobPhase::Running);
    assert!(fixture("valkey9_slotmig_empty_27103.txt").is_empty());
}

#[test]
fn garbage_and_unknown_fields_never_panic() {
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    let jobs = parse_jobs(&[
        pairs(&[("operation", "EXPORT")]),
        pairs(&[
            ("name", "x"),
            ("operation", "SIDEWAYS"),
            ("slot_ranges", "9-3 70000 a-b 5 10-12,20-21"),
            ("create_time", "-4"),
            ("last_ack_time", "soon"),
            ("shiny_new_field", "42"),
            ("state", ""),
        ]),
        pairs(&[("name", "y"), ("name", "z"), ("source_node", "  ")]),
        vec![],
    ]);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].side, None);
    assert_eq!(
        jobs[0].slots,
        vec![
            SlotRange::new(5, 5),
            SlotRange::new(10, 12),
            SlotRange::new(20, 21)
        ]
    );
    assert_eq!(jobs[0].create_time_s, None);
    assert_eq!(jobs[0].last_ack_time_s, None);
    assert_eq!(
        jobs[0].other.get("shiny_new_field").map(String::as_str),
        Some("42")
    );
    assert_eq!(jobs[1].name, "z");
    assert_eq!(jobs[1].source, None);
    let m = AtomicMigration {
        name: "x".into(),
        slots: vec![],
        source: None,
        target: None,
        export: Some(jobs[0].clone()),
        import: None,
        observed_at_s: 0,
    };
    assert_eq!(m.health(), Some(JobHealth::Progressing));
    assert_eq!(m.age_s(), None);
    let _ = m.progress_words();
}

fn observation(port: u16, at_s: u64, jobs: Vec<SlotMigrationJob>) -> NodeObservation {
    NodeObservation {
        endpoint: crate::cluster::types::Endpoint::new("127.0.0.1", port),
        observed_at_ms: at_s * 1000,
        rtt_us: Some(1),
        result: Ok(NodeReport {
            nodes: ClusterNodes::default(),
            cluster_info: None,
            info: ServerInfo::default(),
            config: crate::cluster::types::NodeConfig::default(),
            slot_keys: BTreeMap::new(),
            census: None,
            slot_migrations: Some(jobs),
            access: crate::cluster::access::Access::default(),
            slot_stats: None,
        }),
    }
}

#[test]
fn both_halves_join_and_a_silent_job_is_stalled() {
    let export = fixture("valkey9_slotmig_stalled_export_27102.txt");
    let import = fixture("valkey9_slotmig_cancelled_import_27101.txt");
    let snap = ClusterSnapshot {
        observations: vec![
            observation(27102, 1_796_324_613, export),
            observation(27101, 1_796_324_613, import),
        ],
        ..ClusterSnapshot::default()
    };
    let all = collect(&snap);
    let job = all
        .iter()
        .find(|m| m.name == "f6b0f0d643d3db76ba600fb27d9d13ad2990c549")
        .expect("joined");
    assert!(job.export.is_some() && job.import.is_some());
    // The import already failed but the export still runs: running, silent for 7 s.
    assert_eq!(job.phase(), JobPhase::Running);
    assert_eq!(job.silent_s(), Some(7));
    assert_eq!(job.health(), Some(JobHealth::Progressing));
    assert_eq!(job.age_s(), Some(7));
    let later = AtomicMigration {
        observed_at_s: 1_796_324_606 + STALL_AFTER_S,
        ..job.clone()
    };
    assert_eq!(
        later.health(),
        Some(JobHealth::Stalled {
            silent_s: STALL_AFTER_S
        })
    );
    assert!(
        later
            .progress_words()
            .starts_with("snapshotting, 10 s old, last ack 10 s ago")
    );
    // Newest first.
    assert_eq!(all[0].name, job.name);
}
