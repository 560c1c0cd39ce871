//! End-to-end tests of the connection layer and the refresher against real `redis-server`
//! processes started here (127.0.0.1 only), stopped by pid on drop even when a test panics.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use redis::Value;
use slotscope::cluster::types::{Endpoint, NodeObservation, ProbeError};
use slotscope::refresh::{
    CommandError, ConnectOptions, Connector, Refresher, Secret, observe_once,
};

const REDIS_SERVER: &str = "redis-server";
const REDIS_CLI: &str = "redis-cli";

/// One `redis-server` process; killed (by pid) and reaped on drop.
struct Server {
    port: u16,
    child: Child,
    password: Option<String>,
}

impl Server {
    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap())
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint::new("127.0.0.1", self.port)
    }

    fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(REDIS_CLI);
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(pw) = &self.password {
            cmd.env("REDISCLI_AUTH", pw);
        }
        let out = cmd.args(args).stderr(Stdio::null()).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn kill(&mut self) {
        let _ = kill(self.pid(), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port P such that P and P+10000 (the cluster bus) are free right now.
fn free_port() -> u16 {
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p < 55000 && TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
    panic!("no free port pair");
}

struct Dir(tempfile::TempDir);

fn start_server(dir: &Dir, cluster: bool, password: Option<&str>) -> Server {
    start_server_bind(dir, cluster, password, "127.0.0.1")
}

fn start_server_bind(dir: &Dir, cluster: bool, password: Option<&str>, bind: &str) -> Server {
    for _attempt in 0..5 {
        let port = free_port();
        let path: PathBuf = dir.0.path().to_owned();
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.args(["--port", &port.to_string()])
            .args(["--bind", bind])
            .args(["--dir", path.to_str().unwrap()])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--logfile", &format!("{port}.log")])
            .args(["--dbfilename", &format!("{port}.rdb")]);
        if cluster {
            cmd.args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--cluster-node-timeout", "2000"]);
        }
        if let Some(pw) = password {
            cmd.args(["--requirepass", pw, "--masterauth", pw]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut s = Server {
            port,
            child,
            password: password.map(str::to_owned),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if s.cli(&["PING"]) == "PONG" {
                return s;
            }
            if s.child.try_wait().unwrap().is_some() {
                break; // port taken meanwhile: try another
            }
            thread::sleep(Duration::from_millis(20));
        }
        s.kill();
    }
    panic!("could not start redis-server");
}

/// A cluster of `n` masters (slots split evenly), created with ADDSLOTSRANGE + MEET.
struct Cluster {
    nodes: Vec<Server>,
    _dir: Dir,
}

impl Cluster {
    fn start(n: usize, password: Option<&str>) -> Self {
        let dir = Dir(tempfile::tempdir().unwrap());
        let nodes: Vec<Server> = (0..n).map(|_| start_server(&dir, true, password)).collect();
        let per = 16384 / n;
        for (i, s) in nodes.iter().enumerate() {
            let start = i * per;
            let end = if i + 1 == n { 16383 } else { (i + 1) * per - 1 };
            assert_eq!(
                s.cli(&[
                    "CLUSTER",
                    "ADDSLOTSRANGE",
                    &start.to_string(),
                    &end.to_string()
                ]),
                "OK"
            );
        }
        for s in &nodes[1..] {
            assert_eq!(
                s.cli(&["CLUSTER", "MEET", "127.0.0.1", &nodes[0].port.to_string()]),
                "OK"
            );
        }
        let c = Self { nodes, _dir: dir };
        c.wait_ok();
        c
    }

    fn wait_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let n = self.nodes.len();
        loop {
            let ok = self.nodes.iter().all(|s| {
                let info = s.cli(&["CLUSTER", "INFO"]);
                let lines: Vec<&str> = info.lines().map(str::trim).collect();
                lines.contains(&"cluster_state:ok")
                    && lines.contains(&format!("cluster_known_nodes:{n}").as_str())
            });
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "cluster did not become ok");
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn opts(&self, seed: usize) -> ConnectOptions {
        ConnectOptions::new(vec![self.nodes[seed].endpoint()])
    }

    fn node_id(&self, i: usize) -> String {
        self.nodes[i].cli(&["CLUSTER", "MYID"])
    }
}

fn ports_ok(obs: &[NodeObservation]) -> Vec<u16> {
    obs.iter()
        .filter(|o| o.result.is_ok())
        .map(|o| o.endpoint.port)
        .collect()
}

fn sorted_ports(c: &Cluster) -> Vec<u16> {
    let mut v: Vec<u16> = c.nodes.iter().map(|s| s.port).collect();
    v.sort_unstable();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovers_every_node_from_one_seed() {
    let c = Cluster::start(3, None);
    let conn = Connector::new(c.opts(1));
    let snap = observe_once(&conn, None).await.unwrap();
    assert_eq!(snap.generation, 1);
    assert_eq!(ports_ok(&snap.observations), sorted_ports(&c));
    for o in &snap.observations {
        let r = o.report().unwrap();
        assert_eq!(r.nodes.lines.len(), 3, "{:?}", o.endpoint);
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
    let mut c = Cluster::start(3, None);
    let seed_port = c.nodes[0].port;
    let h = Refresher::spawn(Connector::shared(c.opts(0)), Duration::from_secs(60));
    let first = h.control.refresh_now().await.unwrap();
    assert!(first.error.is_none());
    assert_eq!(ports_ok(&first.snapshot.observations).len(), 3);

    c.nodes[0].kill();
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
    let c = Cluster::start(3, None);
    let timeout = Duration::from_millis(1000);
    let opts = ConnectOptions {
        connect_timeout: timeout,
        command_timeout: timeout,
        ..c.opts(0)
    };
    let conn = Connector::new(opts.clone());
    let first = observe_once(&conn, None).await.unwrap();
    assert_eq!(ports_ok(&first.observations).len(), 3);

    let stopped = &c.nodes[2];
    kill(stopped.pid(), Signal::SIGSTOP).unwrap();
    let result = std::panic::AssertUnwindSafe(async {
        // With the long-lived connection already open.
        let t0 = Instant::now();
        let snap = observe_once(&conn, Some(&first)).await.unwrap();
        let elapsed = t0.elapsed();
        assert!(
            elapsed < timeout + Duration::from_millis(500),
            "{elapsed:?}"
        );
        assert!(
            elapsed >= timeout - Duration::from_millis(50),
            "{elapsed:?}"
        );
        let hung = snap
            .observations
            .iter()
            .find(|o| o.endpoint.port == stopped.port)
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
        assert!(
            elapsed < timeout + Duration::from_millis(500),
            "{elapsed:?}"
        );
        let hung = snap
            .observations
            .iter()
            .find(|o| o.endpoint.port == stopped.port)
            .unwrap();
        assert!(
            matches!(&hung.result, Err(ProbeError::Unresponsive(_))),
            "{:?}",
            hung.result
        );
        assert_eq!(ports_ok(&snap.observations).len(), 2);
    });
    let outcome = futures::FutureExt::catch_unwind(result).await;
    let _ = kill(stopped.pid(), Signal::SIGCONT);
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
    let c = Cluster::start(3, Some("right-horse"));
    let secret = "hunter2-battery-staple";
    let opts = ConnectOptions {
        password: Some(Secret::new(secret)),
        ..c.opts(0)
    };
    let err = observe_once(&Connector::new(opts), None).await.unwrap_err();
    assert!(err.is_auth());
    let msg = err.to_string();
    assert_eq!(
        msg,
        format!(
            "authentication failed at 127.0.0.1:{} (WRONGPASS)",
            c.nodes[0].port
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
        ..c.opts(0)
    };
    let err = observe_once(&Connector::new(opts), None).await.unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert!(!format!("{err:?}").contains(secret));

    // The right password works, as the default user and as `default` explicitly.
    for user in [None, Some("default".to_owned())] {
        let opts = ConnectOptions {
            user,
            password: Some(Secret::new("right-horse")),
            ..c.opts(0)
        };
        let snap = observe_once(&Connector::new(opts), None).await.unwrap();
        assert_eq!(ports_ok(&snap.observations), sorted_ports(&c));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_against_a_protected_node_is_noauth() {
    let dir = Dir(tempfile::tempdir().unwrap());
    let s = start_server(&dir, true, Some("sesame"));
    let err = observe_once(
        &Connector::new(ConnectOptions::new(vec![s.endpoint()])),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.failures.len(), 1);
    assert_eq!(err.failures[0].1, ProbeError::AuthRequired);
    assert!(err.to_string().contains("NOAUTH"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_redis_is_not_a_cluster() {
    let dir = Dir(tempfile::tempdir().unwrap());
    let s = start_server(&dir, false, None);
    let snap = observe_once(
        &Connector::new(ConnectOptions::new(vec![s.endpoint()])),
        None,
    )
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
    let port = free_port(); // nothing listens there
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
    let c = Cluster::start(3, None);
    // Find the owner of key `guarded` so a write would succeed there if it were sent.
    let slot: u16 = c.nodes[0]
        .cli(&["CLUSTER", "KEYSLOT", "guarded"])
        .parse()
        .unwrap();
    let owner = &c.nodes[(usize::from(slot) / (16384 / 3)).min(2)];
    let ro = Connector::new(ConnectOptions {
        read_only: true,
        ..c.opts(0)
    });
    let ep = owner.endpoint();
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
        owner.cli(&["EXISTS", "guarded"]),
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
    let rw = Connector::new(c.opts(0));
    assert_eq!(
        rw.command_strs(&ep, &["SET", "guarded", "x"]).await,
        Ok(Value::Okay)
    );
    assert_eq!(owner.cli(&["GET", "guarded"]), "x");
    let r = rw.command_strs(&ep, &["CLUSTER", "NOSUCHSUB"]).await;
    assert!(
        matches!(&r, Err(CommandError::Server { code, .. }) if code == "ERR"),
        "{r:?}"
    );
    assert_eq!(rw.connected(), vec![ep]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_counts_are_fetched_for_open_and_uncovered_slots() {
    let c = Cluster::start(3, None);
    // Slot of `{tag}`: write three keys there on its owner, then open it towards another node.
    let slot: u16 = c.nodes[0]
        .cli(&["CLUSTER", "KEYSLOT", "{tag}"])
        .parse()
        .unwrap();
    let src = usize::from(slot) / (16384 / 3);
    let src = src.min(2);
    let dst = (src + 1) % 3;
    for k in ["{tag}1", "{tag}2", "{tag}3"] {
        assert_eq!(c.nodes[src].cli(&["SET", k, "v"]), "OK");
    }
    let s = slot.to_string();
    assert_eq!(
        c.nodes[dst].cli(&["CLUSTER", "SETSLOT", &s, "IMPORTING", &c.node_id(src)]),
        "OK"
    );
    assert_eq!(
        c.nodes[src].cli(&["CLUSTER", "SETSLOT", &s, "MIGRATING", &c.node_id(dst)]),
        "OK"
    );
    // Uncovered: slot 0 deleted everywhere.
    for n in &c.nodes {
        assert_eq!(n.cli(&["CLUSTER", "DELSLOTS", "0"]), "OK");
    }

    let conn = Arc::new(Connector::new(ConnectOptions {
        read_only: true, // COUNTKEYSINSLOT is a read
        ..c.opts(0)
    }));
    let snap = observe_once(&conn, None).await.unwrap();
    for o in &snap.observations {
        let r = o.report().unwrap();
        let idx = c
            .nodes
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
    let dir = Dir(tempfile::tempdir().unwrap());
    let s = start_server_bind(&dir, true, None, "127.0.0.1 ::1");
    assert_eq!(s.cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]), "OK");
    // The node learns its own address only from a peer; MEET it with a second node.
    let peer = start_server(&dir, true, None);
    assert_eq!(
        peer.cli(&["CLUSTER", "MEET", "127.0.0.1", &s.port.to_string()]),
        "OK"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s
        .cli(&["CLUSTER", "NODES"])
        .contains(&format!("127.0.0.1:{}@", s.port))
    {
        assert!(Instant::now() < deadline, "node never learnt its address");
        thread::sleep(Duration::from_millis(50));
    }
    let seed = slotscope::refresh::parse_seed(&format!("[::1]:{}", s.port))
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
        format!("127.0.0.1:{}", s.port),
        format!("127.0.0.1:{}", peer.port),
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
    let c = Cluster::start(3, None);
    let h = Refresher::spawn(Connector::shared(c.opts(0)), Duration::from_millis(200));
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
