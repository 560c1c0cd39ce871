//! End-to-end tests of the connection layer and the refresher against real `redis-server`
//! processes started here (127.0.0.1 only), stopped by pid on drop even when a test panics.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Value;
use slotscope::cluster::types::{Endpoint, NodeObservation, ProbeError};
use slotscope::lab::{Lab, LabOptions, unused_port};
use slotscope::refresh::{
    CommandError, ConnectOptions, Connector, Refresher, Secret, observe_once,
};

use common::must;

/// A cluster of three masters (slots split evenly), no replicas, no keys.
/// How far past its timeout a cycle may finish before the test calls it a hang (generous:
/// the exact figures are in `cargo bench --bench e2e_check`).
const HANG_MARGIN: Duration = Duration::from_secs(3);

fn cluster(password: Option<&str>) -> Lab {
    must(Lab::start(LabOptions {
        masters: 3,
        replicas_per_master: 0,
        keys: 0,
        node_timeout_ms: 2000,
        password: password.map(str::to_owned),
        ..LabOptions::default()
    }))
}

/// Connect options with node `seed` of the lab as the only seed.
fn seed_opts(lab: &Lab, seed: usize) -> ConnectOptions {
    ConnectOptions::new(vec![lab.endpoint(seed)])
}

/// Run a command on node `i` and read the reply as text.
fn text(lab: &Lab, i: usize, args: &[&str]) -> String {
    must(lab.query(i, args))
}

/// Client port of node `i`.
fn port(lab: &Lab, i: usize) -> u16 {
    lab.nodes()[i].port
}

fn ports_ok(obs: &[NodeObservation]) -> Vec<u16> {
    obs.iter()
        .filter(|o| o.result.is_ok())
        .map(|o| o.endpoint.port)
        .collect()
}

fn sorted_ports(lab: &Lab) -> Vec<u16> {
    let mut v: Vec<u16> = lab.nodes().iter().map(|n| n.port).collect();
    v.sort_unstable();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovers_every_node_from_one_seed() {
    let c = cluster(None);
    let conn = Connector::new(seed_opts(&c, 1));
    let snap = observe_once(&conn, None).await.unwrap();
    assert_eq!(snap.generation, 1);
    assert_eq!(ports_ok(&snap.observations), sorted_ports(&c));
    for o in &snap.observations {
        let r = o.report().unwrap();
        assert_eq!(r.nodes.len(), 3, "{:?}", o.endpoint);
        assert!(r.nodes.myself().is_some());
        assert!(o.rtt_us.is_some());
        assert!(r.cluster_info.is_some());
        assert_eq!(r.config.require_full_coverage, Some(true));
        assert_eq!(r.config.node_timeout_ms, Some(2000));
        assert!(r.config.error.is_none());
        assert!(r.slot_keys.is_empty(), "healthy: no suspect slots");
    }
    // The connections are kept for the next cycle.
    assert_eq!(conn.connected().len(), 3);
    let again = observe_once(&conn, Some(&snap)).await.unwrap();
    assert_eq!(again.generation, 2);
    assert_eq!(ports_ok(&again.observations), sorted_ports(&c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_seed_changes_nothing() {
    let mut c = cluster(None);
    let seed_port = port(&c, 0);
    let h = Refresher::spawn(Connector::shared(seed_opts(&c, 0)), Duration::from_secs(60));
    let first = h.control.refresh_now().await.unwrap();
    assert!(first.error.is_none());
    assert_eq!(ports_ok(&first.snapshot.observations).len(), 3);

    must(c.kill(0));
    let next = h.control.refresh_now().await.unwrap();
    assert!(next.generation() > first.generation());
    assert!(next.error.is_none(), "{:?}", next.error);
    let seed = next
        .snapshot
        .observations
        .iter()
        .find(|o| o.endpoint.port == seed_port)
        .unwrap();
    assert!(
        matches!(&seed.result, Err(ProbeError::ConnectFailed(m)) if m == "connection refused"),
        "{:?}",
        seed.result
    );
    let others: Vec<u16> = ports_ok(&next.snapshot.observations);
    assert_eq!(others.len(), 2);
    assert!(!others.contains(&seed_port));
    // The watch channel carries the same outcome.
    let latest = h.updates.borrow().clone().unwrap();
    assert_eq!(latest.generation(), next.generation());
    h.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_node_is_unresponsive_after_the_timeout_and_the_rest_is_on_time() {
    let mut c = cluster(None);
    let timeout = Duration::from_secs(1);
    let opts = ConnectOptions {
        connect_timeout: timeout,
        command_timeout: timeout,
        ..seed_opts(&c, 0)
    };
    let conn = Connector::new(opts.clone());
    let first = observe_once(&conn, None).await.unwrap();
    assert_eq!(ports_ok(&first.observations).len(), 3);

    let stopped = port(&c, 2);
    must(c.stop(2));
    let result = std::panic::AssertUnwindSafe(async {
        // With the long-lived connection already open.
        let t0 = Instant::now();
        let snap = observe_once(&conn, Some(&first)).await.unwrap();
        let elapsed = t0.elapsed();
        assert!(elapsed < timeout + HANG_MARGIN, "{elapsed:?}");
        assert!(
            elapsed >= timeout.saturating_sub(Duration::from_millis(50)),
            "{elapsed:?}"
        );
        let hung = snap
            .observations
            .iter()
            .find(|o| o.endpoint.port == stopped)
            .unwrap();
        assert!(
            matches!(&hung.result, Err(ProbeError::Unresponsive(_))),
            "{:?}",
            hung.result
        );
        assert_eq!(ports_ok(&snap.observations).len(), 2);

        // From scratch: the hung node is discovered from the seed's view, accepts TCP
        // (kernel backlog), and never answers.
        let fresh = Connector::new(opts.clone());
        let t0 = Instant::now();
        let snap = observe_once(&fresh, None).await.unwrap();
        let elapsed = t0.elapsed();
        assert!(elapsed < timeout + HANG_MARGIN, "{elapsed:?}");
        let hung = snap
            .observations
            .iter()
            .find(|o| o.endpoint.port == stopped)
            .unwrap();
        assert!(
            matches!(&hung.result, Err(ProbeError::Unresponsive(_))),
            "{:?}",
            hung.result
        );
        assert_eq!(ports_ok(&snap.observations).len(), 2);
    });
    let outcome = futures::FutureExt::catch_unwind(result).await;
    let _ = c.cont(2);
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
    // After SIGCONT the node answers again on the next cycle (the broken connection was
    // dropped and is re-made).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let snap = observe_once(&conn, None).await.unwrap();
    assert_eq!(ports_ok(&snap.observations).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_auth_failed_and_never_shown() {
    let c = cluster(Some("right-horse"));
    let secret = "hunter2-battery-staple";
    let opts = ConnectOptions {
        password: Some(Secret::new(secret)),
        ..seed_opts(&c, 0)
    };
    let err = observe_once(&Connector::new(opts), None).await.unwrap_err();
    assert!(err.is_auth());
    let msg = err.to_string();
    assert_eq!(
        msg,
        format!(
            "authentication failed at 127.0.0.1:{} (WRONGPASS)",
            port(&c, 0)
        )
    );
    assert!(matches!(&err.failures[0].1, ProbeError::AuthFailed(m) if m.starts_with("WRONGPASS")));
    for text in [
        msg,
        format!("{err:?}"),
        serde_json::to_string(&err.snapshot).unwrap(),
    ] {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("right-horse"), "{text}");
    }

    // With a user: ACL user does not exist → WRONGPASS too.
    let opts = ConnectOptions {
        user: Some("nobody".into()),
        password: Some(Secret::new(secret)),
        ..seed_opts(&c, 0)
    };
    let err = observe_once(&Connector::new(opts), None).await.unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert!(!format!("{err:?}").contains(secret));

    // The right password works, as the default user and as `default` explicitly.
    for user in [None, Some("default".to_owned())] {
        let opts = ConnectOptions {
            user,
            password: Some(Secret::new("right-horse")),
            ..seed_opts(&c, 0)
        };
        let snap = observe_once(&Connector::new(opts), None).await.unwrap();
        assert_eq!(ports_ok(&snap.observations), sorted_ports(&c));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_against_a_protected_node_is_noauth() {
    let s = must(Lab::start_unjoined(
        1,
        LabOptions {
            password: Some("sesame".to_owned()),
            ..LabOptions::default()
        },
    ));
    let err = observe_once(&Connector::new(seed_opts(&s, 0)), None)
        .await
        .unwrap_err();
    assert_eq!(err.failures.len(), 1);
    assert_eq!(err.failures[0].1, ProbeError::AuthRequired);
    assert!(err.to_string().contains("NOAUTH"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_redis_is_not_a_cluster() {
    let s = must(Lab::start_standalone(None));
    let snap = observe_once(&Connector::new(seed_opts(&s, 0)), None)
        .await
        .expect("a server that answers is an observation, not an ObserveError");
    assert_eq!(snap.observations.len(), 1);
    match &snap.observations[0].result {
        Err(ProbeError::NotCluster { version }) => {
            assert_eq!(version.as_deref(), Some("7.0.15"));
        }
        other => panic!("expected NotCluster, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_seed_is_an_observe_error() {
    let port = must(unused_port()); // nothing listens there
    let err = observe_once(
        &Connector::new(ConnectOptions::new(vec![Endpoint::new("127.0.0.1", port)])),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("could not reach any seed: 127.0.0.1:{port}: connection refused")
    );
    assert!(!err.is_auth());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_refuses_writes_before_sending() {
    let c = cluster(None);
    // Find the owner of key `guarded` so a write would succeed there if it were sent.
    let slot: u16 = text(&c, 0, &["CLUSTER", "KEYSLOT", "guarded"])
        .parse()
        .unwrap();
    let owner = (usize::from(slot) / (16384 / 3)).min(2);
    let ro = Connector::new(ConnectOptions {
        read_only: true,
        ..seed_opts(&c, 0)
    });
    let ep = c.endpoint(owner);
    let r = ro.command_strs(&ep, &["SET", "guarded", "x"]).await;
    assert_eq!(
        r,
        Err(CommandError::ReadOnlyRefused {
            command: "SET".into()
        })
    );
    let r = ro
        .command_strs(&ep, &["CLUSTER", "SETSLOT", &slot.to_string(), "STABLE"])
        .await;
    assert!(matches!(r, Err(CommandError::ReadOnlyRefused { .. })));
    assert_eq!(
        text(&c, owner, &["EXISTS", "guarded"]),
        "0",
        "the key must not have been written"
    );
    // Reads still work in read-only mode.
    assert_eq!(
        ro.command_strs(&ep, &["GET", "guarded"]).await,
        Ok(Value::Nil)
    );

    // The same write without read-only goes through, and the error reply of a bad command
    // comes back as a server error (the connection stays).
    let rw = Connector::new(seed_opts(&c, 0));
    assert_eq!(
        rw.command_strs(&ep, &["SET", "guarded", "x"]).await,
        Ok(Value::Okay)
    );
    assert_eq!(text(&c, owner, &["GET", "guarded"]), "x");
    let r = rw.command_strs(&ep, &["CLUSTER", "NOSUCHSUB"]).await;
    assert!(
        matches!(&r, Err(CommandError::Server { code, .. }) if code == "ERR"),
        "{r:?}"
    );
    assert_eq!(rw.connected(), vec![ep]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_counts_are_fetched_for_open_and_uncovered_slots() {
    let c = cluster(None);
    // Slot of `{tag}`: write three keys there on its owner, then open it towards another node.
    let slot: u16 = text(&c, 0, &["CLUSTER", "KEYSLOT", "{tag}"])
        .parse()
        .unwrap();
    let src = usize::from(slot) / (16384 / 3);
    let src = src.min(2);
    let dst = (src + 1) % 3;
    for k in ["{tag}1", "{tag}2", "{tag}3"] {
        assert_eq!(text(&c, src, &["SET", k, "v"]), "OK");
    }
    let s = slot.to_string();
    assert_eq!(
        text(
            &c,
            dst,
            &["CLUSTER", "SETSLOT", &s, "IMPORTING", c.node_id(src)]
        ),
        "OK"
    );
    assert_eq!(
        text(
            &c,
            src,
            &["CLUSTER", "SETSLOT", &s, "MIGRATING", c.node_id(dst)]
        ),
        "OK"
    );
    // Uncovered: slot 0 deleted everywhere.
    for n in 0..c.nodes().len() {
        assert_eq!(text(&c, n, &["CLUSTER", "DELSLOTS", "0"]), "OK");
    }

    let conn = Arc::new(Connector::new(ConnectOptions {
        read_only: true, // COUNTKEYSINSLOT is a read
        ..seed_opts(&c, 0)
    }));
    let snap = observe_once(&conn, None).await.unwrap();
    for o in &snap.observations {
        let r = o.report().unwrap();
        let idx = c
            .nodes()
            .iter()
            .position(|n| n.port == o.endpoint.port)
            .unwrap();
        let want_keys = if idx == src { 3 } else { 0 };
        assert_eq!(r.slot_keys.get(&slot), Some(&want_keys), "{}", o.endpoint);
        assert_eq!(r.slot_keys.get(&0), Some(&0), "{}", o.endpoint);
        assert_eq!(r.slot_keys.len(), 2, "{}: {:?}", o.endpoint, r.slot_keys);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipv6_seed_alias_is_merged_with_the_advertised_address() {
    let s = must(Lab::start_unjoined(
        1,
        LabOptions {
            listen_ipv6: true,
            ..LabOptions::default()
        },
    ));
    let s_port = port(&s, 0);
    assert_eq!(
        text(&s, 0, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]),
        "OK"
    );
    // The node learns its own address only from a peer; MEET it with a second node.
    let peer = must(Lab::start_unjoined(1, LabOptions::default()));
    assert_eq!(
        text(
            &peer,
            0,
            &["CLUSTER", "MEET", "127.0.0.1", &s_port.to_string()]
        ),
        "OK"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text(&s, 0, &["CLUSTER", "NODES"]).contains(&format!("127.0.0.1:{s_port}@")) {
        assert!(Instant::now() < deadline, "node never learnt its address");
        std::thread::sleep(Duration::from_millis(50));
    }
    let seed = slotscope::refresh::parse_seed(&format!("[::1]:{s_port}"))
        .unwrap()
        .0;
    let snap = observe_once(&Connector::new(ConnectOptions::new(vec![seed])), None)
        .await
        .unwrap();
    let mut got: Vec<String> = snap
        .observations
        .iter()
        .map(|o| o.endpoint.to_string())
        .collect();
    got.sort();
    let mut want = vec![
        format!("127.0.0.1:{s_port}"),
        format!("127.0.0.1:{}", port(&peer, 0)),
    ];
    want.sort();
    assert_eq!(
        got, want,
        "the [::1] alias is merged into the advertised address"
    );
    assert!(snap.observations.iter().all(|o| o.result.is_ok()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresher_ticks_publishes_increasing_generations_and_stops_when_unwatched() {
    let c = cluster(None);
    let h = Refresher::spawn(
        Connector::shared(seed_opts(&c, 0)),
        Duration::from_millis(200),
    );
    let slotscope::refresh::RefreshHandle {
        mut updates,
        control,
        task,
    } = h;
    let mut gens = Vec::new();
    let t0 = Instant::now();
    while gens.len() < 3 {
        tokio::time::timeout(Duration::from_secs(5), updates.changed())
            .await
            .unwrap()
            .unwrap();
        let o = updates.borrow_and_update().clone().unwrap();
        assert!(o.error.is_none());
        assert_eq!(ports_ok(&o.snapshot.observations).len(), 3);
        gens.push(o.generation());
    }
    assert!(gens.windows(2).all(|w| w[1] > w[0]), "{gens:?}");
    // Three cycles at 200 ms: the first is immediate, so about 400 ms.
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    control.request();
    let latest = control.latest().unwrap();
    assert!(latest.generation() >= gens[2]);
    assert_eq!(control.connector().connected().len(), 3);
    drop(updates);
    drop(control);
    tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .expect("the loop ends once nobody watches")
        .unwrap();
}

/// Calls of `command` (as `INFO commandstats` names it) on node `i` since `CONFIG RESETSTAT`.
fn calls(lab: &Lab, i: usize, command: &str) -> u64 {
    text(lab, i, &["INFO", "commandstats"])
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().expect("a call count"))
}

/// Where the masters hold fewer keys than slots (Redis 7: no `SLOT-STATS`), each master's
/// census is one `SCAN` instead of a `COUNTKEYSINSLOT` per served slot: in the probe for the
/// nodes the seed lists, after its probe for the seed. It counts exactly what the per-slot
/// counts say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sparse_master_is_counted_by_one_scan_exactly() {
    let lab = must(Lab::start(LabOptions {
        masters: 3,
        replicas_per_master: 0,
        keys: 300,
        ..LabOptions::default()
    }));
    for i in lab.running() {
        text(&lab, i, &["CONFIG", "RESETSTAT"]);
    }
    let conn = Connector::new(seed_opts(&lab, 0));
    let snap = observe_once(&conn, None).await.unwrap();
    // Every node: one INFO and one CONFIG GET (all four parameters at once on 7.0+).
    for i in lab.running() {
        assert_eq!(
            (calls(&lab, i, "info"), calls(&lab, i, "config|get")),
            (1, 1),
            "node {i}: INFO and CONFIG GET calls"
        );
    }
    let config = snap.observations[0].report().map(|r| r.config.clone());
    assert_eq!(config.as_ref().and_then(|c| c.appendonly), Some(false));
    assert!(config.and_then(|c| c.node_timeout_ms).is_some());
    for m in lab.master_indices() {
        let (scans, counts) = (
            calls(&lab, m, "scan"),
            calls(&lab, m, "cluster|countkeysinslot"),
        );
        assert_eq!(
            (scans, counts),
            (1, 0),
            "node {m}: SCAN and COUNTKEYSINSLOT calls"
        );
        let census = snap
            .observations
            .iter()
            .find(|o| o.endpoint == lab.endpoint(m))
            .and_then(|o| o.report())
            .and_then(|r| r.census.clone())
            .unwrap_or_else(|| panic!("node {m}: no census"));
        let mut want = std::collections::BTreeMap::new();
        for slot in lab.initial_slots(m).unwrap().iter() {
            let n: u64 = text(&lab, m, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()])
                .parse()
                .unwrap();
            if n > 0 {
                want.insert(slot, n);
            }
        }
        assert!(!want.is_empty(), "node {m} holds keys");
        assert_eq!(census.slots, want, "node {m}: census per slot");
        assert_eq!(census.db_keys, want.values().sum::<u64>(), "node {m}");
        assert!(census.is_complete() && census.stray.is_empty(), "node {m}");
    }

    // A named user is never sent SCAN: the same cluster counted per slot, the same census.
    for i in lab.running() {
        text(
            &lab,
            i,
            &[
                "ACL", "SETUSER", "counter", "on", ">pw", "~*", "&*", "+@all",
            ],
        );
        text(&lab, i, &["CONFIG", "RESETSTAT"]);
    }
    let mut opts = seed_opts(&lab, 0);
    opts.user = Some("counter".into());
    opts.password = Some(Secret::new("pw".to_owned()));
    let per_slot = observe_once(&Connector::new(opts), None).await.unwrap();
    let census_of = |snap: &slotscope::cluster::types::ClusterSnapshot, m: usize| {
        snap.observations
            .iter()
            .find(|o| o.endpoint == lab.endpoint(m))
            .and_then(|o| o.report())
            .and_then(|r| r.census.clone())
            .map(|c| (c.db_keys, c.slots, c.stray))
    };
    for m in lab.master_indices() {
        let served = lab.initial_slots(m).unwrap().len() as u64;
        assert_eq!(
            (
                calls(&lab, m, "scan"),
                calls(&lab, m, "cluster|countkeysinslot")
            ),
            (0, served),
            "node {m}: SCAN and COUNTKEYSINSLOT calls as a named user"
        );
        assert!(census_of(&per_slot, m).is_some(), "node {m}: no census");
        assert_eq!(census_of(&per_slot, m), census_of(&snap, m), "node {m}");
    }
}

/// `check` leaves the node table's vitals out of `INFO` (`vitals: false`); the dashboard reads
/// them. Everything else read from `INFO` is the same either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_without_vitals_reads_everything_but_the_vitals() {
    let lab = cluster(None);
    let with = observe_once(&Connector::new(seed_opts(&lab, 0)), None)
        .await
        .unwrap();
    let mut opts = seed_opts(&lab, 0);
    opts.vitals = false;
    let without = observe_once(&Connector::new(opts), None).await.unwrap();
    assert_eq!(with.observations.len(), without.observations.len());
    for (a, b) in with.observations.iter().zip(&without.observations) {
        let (a, b) = (&a.report().unwrap().info, &b.report().unwrap().info);
        assert!(
            a.used_memory.is_some() && a.connected_clients.is_some(),
            "{a:?}"
        );
        assert_eq!(
            (b.used_memory, b.ops_per_sec, b.connected_clients),
            (None, None, None)
        );
        assert_eq!(
            (
                &a.role,
                &a.redis_version,
                a.keys,
                a.cluster_enabled,
                a.aof_enabled
            ),
            (
                &b.role,
                &b.redis_version,
                b.keys,
                b.cluster_enabled,
                b.aof_enabled
            ),
        );
    }
}
