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
    assert!(lines[3].contains("\"edits\""), "{}", lines[3]);
    assert!(!lines[3].contains("uptime_in_seconds"), "{}", lines[3]);
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

mod generated {
    //! Writer → reader over generated `CLUSTER NODES` texts that change between refreshes as a
    //! real cluster's do (ping and pong times, flags, slots, epochs, nodes joining, leaving,
    //! reordered), and replies that fail now and then: every refresh reads back as written.

    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    struct Node {
        id: String,
        port: u16,
        flags: String,
        master: String,
        ping: u64,
        pong: u64,
        epoch: u64,
        link: &'static str,
        slots: String,
    }

    #[derive(Clone, Debug)]
    enum Op {
        Pong(usize, u64),
        Ping(usize, u64),
        Flags(usize, &'static str),
        Slots(usize, u16, u16),
        Epoch(usize, u64),
        Link(usize),
        Remove(usize),
        Add(Node),
        Swap(usize, usize),
        Fail,
    }

    fn node() -> impl Strategy<Value = Node> {
        (
            "[0-9a-f]{40}",
            1024u16..65000,
            prop::sample::select(vec![
                "master",
                "slave",
                "master,fail?",
                "slave,fail",
                "master,nofailover",
            ]),
            prop::option::of("[0-9a-f]{40}"),
            prop_oneof![Just(0u64), 1_700_000_000_000u64..1_800_000_000_000],
            1_700_000_000_000u64..1_800_000_000_000,
            0u64..40,
            prop::bool::ANY,
            prop::collection::vec((0u16..16384, 0u16..200), 0..3),
        )
            .prop_map(
                |(id, port, flags, master, ping, pong, epoch, up, ranges)| Node {
                    id,
                    port,
                    flags: flags.to_owned(),
                    master: master.unwrap_or_else(|| "-".into()),
                    ping,
                    pong,
                    epoch,
                    link: if up { "connected" } else { "disconnected" },
                    slots: ranges
                        .iter()
                        .map(|&(a, n)| {
                            if n == 0 {
                                format!(" {a}")
                            } else {
                                format!(" {a}-{}", a.saturating_add(n).min(16383))
                            }
                        })
                        .collect(),
                },
            )
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (0usize..64, 0u64..20_000).prop_map(|(i, d)| Op::Pong(i, d)),
            2 => (0usize..64, prop_oneof![Just(0u64), 1_700_000_000_000u64..1_800_000_000_000]).prop_map(|(i, v)| Op::Ping(i, v)),
            1 => (0usize..64, prop::sample::select(vec!["master", "slave", "master,fail?", "myself,master", "master,fail,noaddr"])).prop_map(|(i, f)| Op::Flags(i, f)),
            1 => (0usize..64, 0u16..16384, 0u16..16384).prop_map(|(i, a, b)| Op::Slots(i, a, b)),
            1 => (0usize..64, 0u64..1000).prop_map(|(i, e)| Op::Epoch(i, e)),
            1 => (0usize..64).prop_map(Op::Link),
            1 => (0usize..64).prop_map(Op::Remove),
            1 => node().prop_map(Op::Add),
            1 => (0usize..64, 0usize..64).prop_map(|(i, j)| Op::Swap(i, j)),
            1 => Just(Op::Fail),
        ]
    }

    fn apply(nodes: &mut Vec<Node>, op: &Op) -> bool {
        let n = nodes.len().max(1);
        match op.clone() {
            Op::Pong(i, d) => {
                if let Some(x) = nodes.get_mut(i % n) {
                    x.pong += d;
                }
            }
            Op::Ping(i, v) => {
                if let Some(x) = nodes.get_mut(i % n) {
                    x.ping = v;
                }
            }
            Op::Flags(i, f) => {
                if let Some(x) = nodes.get_mut(i % n) {
                    f.clone_into(&mut x.flags);
                }
            }
            Op::Slots(i, a, b) => {
                if let Some(x) = nodes.get_mut(i % n) {
                    x.slots = format!(" {}-{} [{a}->-{}]", a.min(b), a.max(b), x.id);
                }
            }
            Op::Epoch(i, e) => {
                if let Some(x) = nodes.get_mut(i % n) {
                    x.epoch = e;
                }
            }
            Op::Link(i) => {
                if let Some(x) = nodes.get_mut(i % n) {
                    x.link = if x.link == "connected" {
                        "disconnected"
                    } else {
                        "connected"
                    };
                }
            }
            Op::Remove(i) => {
                if nodes.len() > 1 {
                    nodes.remove(i % n);
                }
            }
            Op::Add(x) => nodes.push(x),
            Op::Swap(i, j) => nodes.swap(i % n, j % n),
            Op::Fail => return true,
        }
        false
    }

    fn text(nodes: &[Node], me: usize) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for (i, x) in nodes.iter().enumerate() {
            let flags = if i == me {
                format!("myself,{}", x.flags)
            } else {
                x.flags.clone()
            };
            let _ = writeln!(
                out,
                "{} 127.0.0.1:{}@{} {flags} {} {} {} {} {}{}",
                x.id,
                x.port,
                u32::from(x.port) + 10000,
                x.master,
                x.ping,
                x.pong,
                x.epoch,
                x.link,
                x.slots
            );
        }
        out
    }

    fn recorded(port: u16, at: u64, nodes: RawText, uptime: u64) -> RecordedNode {
        RecordedNode {
            raw: Arc::new(RawNode {
                endpoint: Endpoint::new("127.0.0.1", port),
                observed_at_ms: at,
                rtt_us: Some(120),
                replies: Ok(RawReplies {
                    cluster_nodes: nodes,
                    cluster_info: Ok(format!(
                        "cluster_state:ok\r\ncluster_stats_messages_sent:{}\r\n",
                        uptime * 7
                    )),
                    info: Ok(info(uptime)),
                    config: Vec::new(),
                    slot_migrations: None,
                    access: crate::cluster::access::Access::default(),
                }),
            }),
            slot_keys: BTreeMap::new(),
            census: None,
        }
    }

    use crate::refresh::capture::RawText;

    proptest! {
        #![proptest_config(crate::cluster::proptest_config(128, "tests/proptest-regressions/record.txt"))]

        #[test]
        fn generated_refreshes_read_back_as_written(
            start in prop::collection::vec(node(), 1..12),
            observers in 1u16..4,
            steps in prop::collection::vec(prop::collection::vec(op(), 0..24), 1..6),
        ) {
            let mut nodes = start;
            let mut rs = Vec::new();
            for (step, ops) in steps.iter().enumerate() {
                let mut fail = false;
                for op in ops {
                    fail |= apply(&mut nodes, op);
                }
                let at = 1_750_000_000_000 + 1_000 * step as u64;
                let per_node = (0..observers)
                    .map(|o| {
                        let reply = if fail && o == 0 {
                            Err(RawError::Timeout { command: "CLUSTER NODES".into() })
                        } else {
                            let mut view = nodes.clone();
                            let me = usize::from(o) % view.len();
                            view.rotate_left(me);
                            Ok(text(&view, me))
                        };
                        recorded(7000 + o, at + u64::from(o), reply, step as u64 * 3)
                    })
                    .collect();
                rs.push(RecordedRefresh {
                    started_at_ms: at,
                    finished_at_ms: at + 9,
                    seeds: vec![Endpoint::new("127.0.0.1", 7000)],
                    nodes: per_node,
                });
            }
            let rec = read(write_all(&rs).as_slice()).expect("reads back");
            prop_assert_eq!(rec.refreshes, rs);
        }
    }
}
