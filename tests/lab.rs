//! The cluster lab against real `redis-server` processes: creation, data, node control,
//! every scenario, and cleanup (no process or directory outlives a `Lab`).

mod common;

use std::path::{Path, PathBuf};

use slotscope::cluster::keyslot::key_slot;
use slotscope::lab::{KeyError, Lab, LabOptions, ProcessState, Scenario};

use common::must;

fn base() -> LabOptions {
    LabOptions {
        node_timeout_ms: 1000,
        keys: 300,
        ..LabOptions::default()
    }
}

/// What a lab leaves behind: `(pid, port)` of each process and the directory.
fn footprint(lab: &Lab) -> (Vec<(u32, u16)>, PathBuf) {
    let procs = lab.nodes().iter().map(|n| (n.pid, n.port)).collect();
    (procs, lab.dir().to_path_buf())
}

/// True if `pid` is a live redis-server serving `port` (a reused pid of another program, or of
/// another lab's server on another port, does not count).
fn alive(pid: u32, port: u16) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let zombie = status
        .lines()
        .any(|l| l.starts_with("State:") && l.contains('Z'));
    !zombie && String::from_utf8_lossy(&cmdline).contains(&format!(":{port}"))
}

fn assert_gone(procs: &[(u32, u16)], dir: &Path) {
    for &(pid, port) in procs {
        assert!(
            !alive(pid, port),
            "redis-server pid {pid} (port {port}) survived"
        );
    }
    assert!(!dir.exists(), "{} survived", dir.display());
}

fn text(lab: &Lab, i: usize, args: &[&str]) -> String {
    must(lab.query(i, args))
}

fn assert_keyslot_matches_the_server(lab: &Lab) {
    let keys = [
        "foo",
        "bar",
        "",
        "key:0",
        "key:999",
        "{user1000}.following",
        "foo{}{bar}",
        "foo{{bar}}zap",
        "foo{bar}{zap}",
        "{t42}:k3",
        "ü-utf8",
    ];
    for k in keys {
        let server = text(lab, 0, &["CLUSTER", "KEYSLOT", k]);
        assert_eq!(server, key_slot(k.as_bytes()).to_string(), "key {k:?}");
    }
    for i in 0..500 {
        let k = format!("sample-{i}-{{tag{}}}", i % 7);
        let server = text(lab, 0, &["CLUSTER", "KEYSLOT", &k]);
        assert_eq!(server, key_slot(k.as_bytes()).to_string(), "key {k:?}");
    }
}

fn marker_line(lab: &Lab, i: usize) -> String {
    let peers = must(lab.cluster_nodes(i));
    peers
        .iter()
        .find(|p| p.has_flag("myself"))
        .map(|p| p.markers.join(" "))
        .unwrap_or_default()
}

#[test]
fn cluster_starts_serves_keys_and_cleans_up() {
    let lab = must(Lab::start(base()));
    assert_eq!(lab.nodes().len(), 6);
    assert_eq!(lab.master_indices(), vec![0, 1, 2]);
    for m in 0..3 {
        assert_eq!(lab.replicas_of(m).len(), 1);
        assert_eq!(must(lab.cluster_state(m)), "ok");
        assert_eq!(must(lab.current_role(m)), "master");
    }
    for r in 3..6 {
        assert_eq!(must(lab.current_role(r)), "slave");
    }
    // Every node knows every node; slot ranges are contiguous and complete.
    let info = text(&lab, 4, &["CLUSTER", "INFO"]);
    assert!(info.contains("cluster_known_nodes:6"), "{info}");
    assert!(info.contains("cluster_slots_assigned:16384"), "{info}");
    assert!(info.contains("cluster_size:3"), "{info}");

    assert_keyslot_matches_the_server(&lab);

    let rb = lab.read_back();
    assert_eq!(rb.written, 300);
    assert!(rb.all_readable(), "{:?}", rb.missing);
    // Keys really are spread over all masters.
    for m in 0..3 {
        assert!(must(lab.dbsize(m)) > 50, "master {m} holds too few keys");
    }

    let (procs, dir) = footprint(&lab);
    assert!(procs.iter().all(|&(pid, port)| alive(pid, port)));
    assert!(
        dir.join(format!("node-{}", lab.nodes()[0].port))
            .join("nodes.conf")
            .exists()
    );
    drop(lab);
    assert_gone(&procs, &dir);
}

#[test]
fn standalone_is_not_a_cluster_and_password_is_enforced() {
    let lab = must(Lab::start_standalone(Some("s3cret")));
    let info = text(&lab, 0, &["INFO", "cluster"]);
    assert!(info.contains("cluster_enabled:0"), "{info}");
    let err = lab.query(0, &["CLUSTER", "INFO"]);
    assert!(err.is_err(), "CLUSTER INFO should be refused: {err:?}");
    // Without the password the server refuses.
    let port = lab.endpoint(0).port;
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"));
    let denied = client
        .and_then(|c| c.get_connection_with_timeout(std::time::Duration::from_secs(1)))
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
    let msg = denied.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("NOAUTH"), "{msg}");
    let (procs, dir) = footprint(&lab);
    drop(lab);
    assert_gone(&procs, &dir);
}

#[test]
fn password_cluster_and_restart_keep_identity() {
    let opts = LabOptions {
        password: Some("pw-lab".into()),
        replicas_per_master: 0,
        keys: 100,
        ..base()
    };
    let mut lab = must(Lab::start(opts));
    assert!(lab.read_back().all_readable());
    let id = lab.node_id(1).to_owned();
    must(lab.kill(1));
    assert_eq!(lab.nodes()[1].state, ProcessState::Dead);
    assert!(lab.query(1, &["PING"]).is_err());
    must(lab.restart(1));
    assert_eq!(text(&lab, 1, &["CLUSTER", "MYID"]), id);
    must(lab.wait_until(
        "the restarted master to rejoin",
        std::time::Duration::from_secs(30),
        |lab| {
            for i in 0..3 {
                if lab.cluster_state(i)? != "ok" {
                    return Ok(Err(format!("node {i} not ok")));
                }
            }
            Ok(Ok(()))
        },
    ));
    // No persistence: the restarted master lost its keys, and read_back says so.
    let rb = lab.read_back();
    assert_eq!(rb.written, 100);
    assert!(!rb.missing.is_empty() && rb.readable < 100, "{rb:?}");
}

#[test]
fn panic_inside_a_test_still_cleans_up() {
    let footprint_cell = std::sync::Mutex::new(None);
    let result = std::panic::catch_unwind(|| {
        let lab = must(Lab::start(LabOptions {
            replicas_per_master: 0,
            keys: 0,
            ..base()
        }));
        if let Ok(mut f) = footprint_cell.lock() {
            *f = Some(footprint(&lab));
        }
        panic!("simulated test failure");
    });
    assert!(result.is_err());
    let fp = footprint_cell.into_inner().ok().flatten();
    let Some((procs, dir)) = fp else {
        panic!("lab did not start");
    };
    assert_eq!(procs.len(), 3);
    assert_gone(&procs, &dir);
}

#[test]
fn two_labs_do_not_collide_and_stop_cont_work() {
    let opts = LabOptions {
        replicas_per_master: 0,
        keys: 0,
        ..base()
    };
    let a = must(Lab::start(opts.clone()));
    let mut b = must(Lab::start(opts));
    let pa: Vec<u16> = a.nodes().iter().map(|n| n.port).collect();
    for n in b.nodes() {
        assert!(!pa.contains(&n.port));
        assert!(!pa.contains(&(n.port + 10000)) && !pa.contains(&(n.port - 10000)));
    }
    assert_ne!(a.dir(), b.dir());
    // A paused node times out instead of hanging the caller.
    must(b.stop(2));
    let t = std::time::Instant::now();
    assert!(b.query(2, &["PING"]).is_err());
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    must(b.cont(2));
    assert_eq!(text(&b, 2, &["PING"]), "PONG");
    // A paused node is still stopped (SIGCONT, SIGKILL) on drop.
    must(b.stop(1));
    let (procs, dir) = footprint(&b);
    drop(b);
    assert_gone(&procs, &dir);
}

#[test]
fn scenario_names_round_trip() {
    let mut names = std::collections::HashSet::new();
    for &s in Scenario::all() {
        assert_eq!(Scenario::from_name(s.name()), Some(s));
        assert!(!s.description().is_empty());
        assert!(names.insert(s.name()));
    }
    assert_eq!(Scenario::from_name("nope"), None);
    assert_eq!(names.len(), 12);
}

fn run(s: Scenario) -> (Lab, slotscope::lab::ScenarioReport) {
    must(s.start(base()))
}

#[test]
fn scenario_healthy() {
    let (lab, r) = run(Scenario::Healthy);
    assert!(r.affected.is_empty());
    for i in lab.running() {
        assert_eq!(must(lab.cluster_state(i)), "ok");
    }
    assert!(lab.read_back().all_readable());
}

#[test]
fn scenario_dead_master_no_replica() {
    let (lab, r) = run(Scenario::DeadMasterNoReplica);
    let victim = r.affected[0];
    assert!(lab.replicas_of(victim).is_empty());
    assert_eq!(lab.nodes()[victim].state, ProcessState::Dead);
    assert!(r.keys_by_node[&victim] > 0);
    for i in lab.running() {
        assert_eq!(must(lab.cluster_state(i)), "fail");
        assert!(must(lab.flags_seen_by(i, victim)).contains(&"fail".to_owned()));
    }
    let rb = lab.read_back();
    assert!(rb.readable < rb.written);
    assert!(
        rb.missing
            .iter()
            .any(|(_, why)| matches!(why, KeyError::ClusterDown(m) if m.contains("CLUSTERDOWN"))),
        "{:?}",
        &rb.missing[..rb.missing.len().min(3)]
    );
}

#[test]
fn scenario_dead_master_failover() {
    let (lab, r) = run(Scenario::DeadMasterFailover);
    let victim = r.affected[0];
    let promoted = r.promoted.unwrap_or(usize::MAX);
    assert!(lab.replicas_of(victim).contains(&promoted));
    assert_eq!(must(lab.current_role(promoted)), "master");
    for i in lab.running() {
        assert_eq!(must(lab.cluster_state(i)), "ok");
        let peers = must(lab.cluster_nodes(i));
        let old = peers.iter().find(|p| p.id == lab.node_id(victim));
        assert!(old.is_some_and(|p| p.has_flag("fail") && p.slots.is_empty()));
    }
    // The replica had every key: nothing lost.
    let rb = lab.read_back();
    assert!(rb.all_readable(), "{:?}", rb.missing);
}

#[test]
fn scenario_majority_lost() {
    let (lab, r) = run(Scenario::MajorityLost);
    assert_eq!(r.affected.len(), 2);
    // One master survives, with its replica.
    assert_eq!(lab.running().len(), 2);
    for i in lab.running() {
        assert_eq!(must(lab.cluster_state(i)), "fail");
    }
}

#[test]
fn scenario_interrupted_reshard() {
    let (lab, r) = run(Scenario::InterruptedReshard);
    let (src, dst) = (r.affected[0], r.affected[1]);
    let slot = r.slots[0].start;
    let (on_src, on_dst) = (r.keys_by_node[&src], r.keys_by_node[&dst]);
    assert!(on_src > 0 && on_dst > 0, "{r:?}");
    assert_eq!(
        on_src + on_dst,
        lab.written_in_slot(slot).len() as u64,
        "no key lost or duplicated"
    );
    assert_eq!(must(lab.count_keys_in_slot(dst, slot)), on_dst);
    assert!(marker_line(&lab, src).contains(&format!("[{slot}->-{}]", lab.node_id(dst))));
    assert!(marker_line(&lab, dst).contains(&format!("[{slot}-<-{}]", lab.node_id(src))));
    // Clients still reach every key through ASK redirects.
    assert!(lab.read_back().all_readable());
}

#[test]
fn scenario_migrating_only() {
    let (lab, r) = run(Scenario::MigratingOnly);
    let (src, dst) = (r.affected[0], r.affected[1]);
    let slot = r.slots[0].start;
    assert!(marker_line(&lab, src).contains(&format!("[{slot}->-")));
    assert_eq!(marker_line(&lab, dst), "");
    assert!(r.keys_by_node[&src] >= 10);
    assert_eq!(r.keys_by_node[&dst], 0);
}

#[test]
fn scenario_importing_only() {
    let (lab, r) = run(Scenario::ImportingOnly);
    let (src, dst) = (r.affected[0], r.affected[1]);
    let slot = r.slots[0].start;
    assert_eq!(marker_line(&lab, src), "");
    assert!(marker_line(&lab, dst).contains(&format!("[{slot}-<-")));
    assert!(lab.read_back().all_readable());
}

fn assert_unbound_everywhere(lab: &Lab, first: u16, last: u16) {
    for i in lab.running() {
        for p in must(lab.cluster_nodes(i)) {
            assert!(
                !(first..=last).any(|s| p.owns(s)),
                "node {i} still binds deleted slots to {}",
                p.id
            );
        }
    }
}

#[test]
fn scenario_deleted_slots() {
    let (lab, r) = run(Scenario::DeletedSlots);
    let range = r.slots[0];
    assert_eq!(range.len(), 100);
    assert_unbound_everywhere(&lab, range.start, range.end);
    for i in lab.running() {
        assert_eq!(must(lab.cluster_state(i)), "fail");
    }
    // The keys are still stored on the old owner.
    let owner = r.affected[0];
    let stored: u64 = range
        .iter()
        .map(|s| must(lab.count_keys_in_slot(owner, s)))
        .sum();
    assert_eq!(stored, r.keys_by_node[&owner]);
}

#[test]
fn scenario_full_coverage_off() {
    let (lab, r) = run(Scenario::FullCoverageOff);
    let range = r.slots[0];
    assert_unbound_everywhere(&lab, range.start, range.end);
    for i in lab.running() {
        assert_eq!(must(lab.cluster_state(i)), "ok");
        let cfg = must(lab.cmd(i, &["CONFIG", "GET", "cluster-require-full-coverage"]));
        let cfg: Vec<String> = redis::from_redis_value(cfg).unwrap_or_default();
        assert_eq!(cfg, ["cluster-require-full-coverage", "no"]);
    }
    // Keys in the deleted slots are unreachable, the others are fine.
    let rb = lab.read_back();
    let in_range = |k: &str| range.contains(key_slot(k.as_bytes()));
    assert!(
        rb.missing.iter().all(|(k, _)| in_range(k)),
        "{:?}",
        rb.missing
    );
    let expected_missing = lab.written().keys().filter(|k| in_range(k)).count();
    assert_eq!(rb.missing.len(), expected_missing);
}

#[test]
fn scenario_node_must_rejoin() {
    let (lab, r) = run(Scenario::NodeMustRejoin);
    let victim = r.affected[0];
    let id = lab.node_id(victim).to_owned();
    assert_eq!(lab.nodes()[victim].state, ProcessState::Running);
    // The rest of the cluster forgot the master and its replica, which still know each other.
    assert_eq!(r.affected.len(), 2, "{r:?}");
    let replica = r.affected[1];
    assert!(must(lab.cluster_nodes(replica)).iter().any(|p| p.id == id));
    for i in lab
        .running()
        .into_iter()
        .filter(|i| !r.affected.contains(i))
    {
        assert!(must(lab.cluster_nodes(i)).iter().all(|p| p.id != id));
        assert_eq!(must(lab.cluster_state(i)), "fail");
    }
    // The forgotten master still has its slots and keys.
    assert!(must(lab.dbsize(victim)) > 0);
    let mine = must(lab.cluster_nodes(victim));
    assert!(
        mine.iter()
            .any(|p| p.has_flag("myself") && !p.slots.is_empty())
    );
}

#[test]
fn scenario_stopped_node() {
    let (lab, r) = run(Scenario::StoppedNode);
    let victim = r.affected[0];
    assert_eq!(lab.nodes()[victim].state, ProcessState::Stopped);
    let t = std::time::Instant::now();
    assert!(lab.query(victim, &["PING"]).is_err());
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    for i in lab.running() {
        assert!(must(lab.flags_seen_by(i, victim)).contains(&"fail".to_owned()));
    }
}

#[test]
fn scenario_replica_not_syncing() {
    let (lab, r) = run(Scenario::ReplicaNotSyncing);
    let (replica, master) = (r.affected[0], r.affected[1]);
    assert_eq!(lab.replicas_of(master), vec![replica]);
    let info = text(&lab, replica, &["INFO", "replication"]);
    assert!(info.contains("master_link_status:down"), "{info}");
    // The cluster itself still says ok, and every key still reads.
    for i in lab.running() {
        assert_eq!(must(lab.cluster_state(i)), "ok");
    }
    assert!(lab.read_back().all_readable());
}
