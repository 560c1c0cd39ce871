use super::*;
use crate::refresh::capture::{RawError, RawReplies};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn node(port: u16, at: u64, nodes: &str, info: &str) -> RecordedNode {
    RecordedNode {
        raw: Arc::new(RawNode {
            endpoint: Endpoint::new("127.0.0.1", port),
            observed_at_ms: at,
            rtt_us: Some(100),
            replies: Ok(RawReplies {
                cluster_nodes: Ok(nodes.to_owned()),
                cluster_info: Err(RawError::Timeout {
                    command: "CLUSTER INFO".into(),
                }),
                info: Ok(info.to_owned()),
                config: vec![("save".into(), Ok(Some(String::new())))],
                slot_migrations: Some(vec![vec![
                    ("name".into(), "job-1".into()),
                    ("state".into(), "snapshotting".into()),
                ]]),
                access: crate::cluster::access::Access::default(),
            }),
        }),
        slot_keys: BTreeMap::from([(5, 3)]),
        census: Some(NodeCensus {
            db_keys: 3,
            ..NodeCensus::default()
        }),
    }
}

fn refresh(at: u64, info: &str) -> RecordedRefresh {
    let a = fixture("open_slots_nodes_31000");
    RecordedRefresh {
        started_at_ms: at,
        finished_at_ms: at + 5,
        seeds: vec![Endpoint::new("127.0.0.1", 31000)],
        nodes: vec![
            node(31000, at + 3, &a, info),
            RecordedNode {
                raw: Arc::new(RawNode {
                    endpoint: Endpoint::new("127.0.0.1", 31001),
                    observed_at_ms: at + 4,
                    rtt_us: None,
                    replies: Err(ProbeError::ConnectFailed("connection refused".into())),
                }),
                slot_keys: BTreeMap::new(),
                census: None,
            },
        ],
    }
}

fn info(uptime: u64) -> String {
    let mut s = String::from("# Server\r\nredis_version:7.0.15\r\n");
    for i in 0..20 {
        s.push_str(&format!("field_{i}:{i}\r\n"));
    }
    s.push_str(&format!(
        "uptime_in_seconds:{uptime}\r\ncluster_enabled:1\r\n"
    ));
    s
}

fn write_all(refreshes: &[RecordedRefresh]) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), &Header::new(1, "test")).unwrap();
    for r in refreshes {
        w.write(r).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn a_recording_reads_back_as_written() {
    let rs = vec![
        refresh(1000, &info(1)),
        refresh(2000, &info(1)),
        refresh(3000, &info(2)),
    ];
    let bytes = write_all(&rs);
    let rec = read(bytes.as_slice()).unwrap();
    assert_eq!(rec.header.version, format::VERSION);
    assert_eq!(rec.header.source, "test");
    assert_eq!(rec.refreshes, rs);
}

#[test]
fn unchanged_replies_are_references() {
    let rs = vec![
        refresh(1000, &info(1)),
        refresh(2000, &info(1)),
        refresh(3000, &info(2)),
    ];
    let bytes = write_all(&rs);
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(bytes.as_slice()),
        &mut text,
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[1].contains("\"text\""));
    assert!(
        lines[2].contains("\"cluster_nodes\":\"same\""),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("\"info\":\"same\""));
    assert!(lines[2].contains("\"config\":\"same\""));
    assert!(lines[2].contains("\"census\":\"same\""));
    assert!(lines[3].contains("\"lines\""), "{}", lines[3]);
    assert!(lines[3].contains("uptime_in_seconds:2"));
    assert!(
        lines[3].len() < lines[1].len() / 2,
        "{} vs {}",
        lines[3].len(),
        lines[1].len()
    );
}

#[test]
fn replayed_snapshots_are_what_the_probe_made() {
    let rs = vec![refresh(1000, &info(1)), refresh(2000, &info(1))];
    let rec = read(write_all(&rs).as_slice()).unwrap();
    let outcomes = rec.outcomes();
    assert_eq!(outcomes.len(), 2);
    let s = &outcomes[1].snapshot;
    assert_eq!(s.generation, 2);
    let o = &s.observations[0];
    let r = o.report().unwrap();
    assert_eq!(r.info.uptime_s, Some(1));
    assert_eq!(r.slot_keys.get(&5), Some(&3));
    assert_eq!(r.census.as_ref().map(|c| c.db_keys), Some(3));
    assert_eq!(r.config.save.as_deref(), Some(""));
    assert!(r.cluster_info.is_none());
    assert!(s.observations[1].result.is_err());
    let check = rec.check_outcome(1).unwrap();
    assert_eq!(check.snapshot.progress, Progress::default());
    assert_eq!(rec.index_of(&At::Index(2)), Ok(1));
}

#[test]
fn broken_streams_are_errors_not_panics() {
    let bytes = write_all(&[refresh(1000, &info(1)), refresh(2000, &info(2))]);
    for cut in [0, 5, 20, bytes.len() / 2, bytes.len() - 3] {
        assert!(read(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    assert!(read(flipped.as_slice()).is_err());
    assert!(matches!(
        read(&b"plain text"[..]),
        Err(RecordError::NotRecording(_))
    ));
}
