use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn replies(nodes: RawText) -> RawReplies {
    RawReplies {
        cluster_nodes: nodes,
        cluster_info: Ok(fixture("failover_cluster_info_31005")),
        info: Ok("# Server\r\nredis_version:7.0.15\r\ncluster_enabled:1\r\n".into()),
        config: vec![
            (
                "cluster-require-full-coverage".into(),
                Ok(Some("no".into())),
            ),
            ("cluster-node-timeout".into(), Ok(Some("2000".into()))),
            ("save".into(), Ok(Some(String::new()))),
            ("appendonly".into(), Ok(None)),
        ],
        slot_migrations: None,
        access: crate::cluster::access::Access::default(),
    }
}

#[test]
fn interpret_parses_what_the_probe_read() {
    let r = interpret(&replies(Ok(fixture("failover_nodes_31005")))).unwrap();
    assert!(r.nodes.myself().is_some());
    assert!(r.cluster_info.is_some());
    assert_eq!(r.info.redis_version.as_deref(), Some("7.0.15"));
    assert_eq!(r.config.require_full_coverage, Some(false));
    assert_eq!(r.config.node_timeout_ms, Some(2000));
    assert_eq!(r.config.save.as_deref(), Some(""));
    assert_eq!(r.config.appendonly, None);
    assert_eq!(r.config.error, None);
}

#[test]
fn interpret_classifies_failures_as_the_probe_did() {
    let refused = RawError::Server {
        code: "ERR".into(),
        message: "This instance has cluster support disabled".into(),
    };
    let mut r = replies(Err(refused));
    r.info = Ok("redis_version:7.0.15\r\ncluster_enabled:0\r\n".into());
    assert_eq!(
        interpret(&r),
        Err(ProbeError::NotCluster {
            version: Some("7.0.15".into())
        })
    );
    let r = replies(Ok("garbage".into()));
    assert!(matches!(interpret(&r), Err(ProbeError::Protocol(_))));
    let r = replies(Err(RawError::Timeout {
        command: "CLUSTER NODES".into(),
    }));
    assert_eq!(
        interpret(&r),
        Err(ProbeError::Unresponsive("CLUSTER NODES".into()))
    );
}

#[test]
fn config_errors_are_kept_in_words() {
    let cfg = config_of(&[
        (
            "cluster-require-full-coverage".into(),
            Err(RawError::Server {
                code: "ERR".into(),
                message: "unknown command 'CONFIG'".into(),
            }),
        ),
        ("cluster-node-timeout".into(), Ok(Some("soon".into()))),
        ("appendonly".into(), Ok(Some("maybe".into()))),
    ]);
    assert_eq!(
        cfg.error.as_deref(),
        Some(
            "CONFIG GET: ERR unknown command 'CONFIG'; cluster-node-timeout = \"soon\"; \
             appendonly = \"maybe\""
        )
    );
}

#[test]
fn raw_errors_round_trip_to_command_errors() {
    let all = [
        CommandError::ReadOnlyRefused {
            command: "SET".into(),
        },
        CommandError::Connect(ProbeError::ConnectTimeout),
        CommandError::Timeout {
            command: "INFO".into(),
        },
        CommandError::Io("reset".into()),
        CommandError::Server {
            code: "NOAUTH".into(),
            message: "Authentication required.".into(),
        },
        CommandError::Protocol("?".into()),
    ];
    for e in all {
        let raw = RawError::from(&e);
        let json = serde_json::to_string(&raw).unwrap();
        let back: RawError = serde_json::from_str(&json).unwrap();
        assert_eq!(CommandError::from(&back), e);
    }
}

#[test]
fn capture_pairs_an_observation_with_its_replies() {
    let c = Capture::default();
    let ep = Endpoint::new("127.0.0.1", 7000);
    for at in 1..=6 {
        c.offer(
            RawNode {
                endpoint: ep.clone(),
                observed_at_ms: at,
                rtt_us: Some(at),
                replies: Err(ProbeError::ConnectTimeout),
            },
            false,
        );
    }
    let obs = |at| NodeObservation {
        endpoint: ep.clone(),
        observed_at_ms: at,
        rtt_us: None,
        result: Err(ProbeError::ConnectTimeout),
    };
    assert_eq!(c.raw_of(&obs(5)).map(|r| r.rtt_us), Some(Some(5)));
    assert!(c.raw_of(&obs(1)).is_none(), "only the last few are kept");
    c.retain(|_| false);
    assert!(c.raw_of(&obs(6)).is_none());
}

#[test]
fn without_a_recording_the_cluster_nodes_text_is_not_kept_but_written_back() {
    let c = Capture::default();
    let ep = Endpoint::new("127.0.0.1", 7000);
    let raw = |at| RawNode {
        endpoint: ep.clone(),
        observed_at_ms: at,
        rtt_us: Some(100),
        replies: Ok(replies(Ok(fixture("failover_nodes_31005")))),
    };
    // Recording (the default): the text as read.
    c.offer(raw(1), true);
    let obs1 = raw(1).observation();
    assert_eq!(c.raw_of(&obs1).as_deref(), Some(&raw(1)));

    c.set_recording(false);
    c.offer(raw(2), true);
    {
        let map = c.recent.lock().unwrap();
        let q = &map[&ep];
        let kept = q[1].raw.replies.as_ref().unwrap();
        assert_eq!(kept.cluster_nodes.as_deref(), Ok(""), "text dropped");
    }
    let obs2 = raw(2).observation();
    let back = c.raw_of(&obs2).expect("kept");
    assert_eq!(
        back.observation(),
        obs2,
        "and reads as the same observation"
    );

    // A text that did not give an observation is kept as read.
    let bad = RawNode {
        replies: Ok(replies(Ok("garbage".into()))),
        ..raw(3)
    };
    c.offer(bad.clone(), false);
    assert_eq!(c.raw_of(&bad.observation()).as_deref(), Some(&bad));
}
