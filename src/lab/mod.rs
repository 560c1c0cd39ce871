//! Throwaway local Redis Clusters for the demo and the tests: real `redis-server` processes on
//! free 127.0.0.1 ports in a temporary directory, broken the way production breaks.
//!
//! Everything here is blocking and bounded by short timeouts, so a hung (`SIGSTOP`ped) node can
//! never hang the caller. A [`Lab`] owns its processes: dropping it (also while a test panics)
//! kills every server it started, by pid, and removes the directory.
//!
//! ```no_run
//! use slotscope::lab::{Lab, LabOptions, Scenario};
//! # fn main() -> Result<(), slotscope::lab::LabError> {
//! let (lab, report) = Scenario::DeadMasterFailover.start(LabOptions::default())?;
//! println!("{}: {}", report.scenario.name(), report.actions.join("; "));
//! println!("seed: {}", lab.endpoint(0));
//! # Ok(()) }
//! ```

mod conn;
mod data;
mod process;
mod scenario;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cluster::slots::{SLOT_COUNT, SlotRange};
use crate::cluster::types::Endpoint;

pub use conn::{PeerLine, parse_peers};
pub use data::{KeyError, ReadBack};
pub use process::{REDIS_SERVER_ENV, find_redis_server, unused_port};
pub use scenario::{Scenario, ScenarioReport};

/// How a lab cluster is laid out and configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabOptions {
    /// Number of masters that own slots (at least 3).
    pub masters: usize,
    /// Replicas for each master, except the last `unreplicated_masters` masters.
    pub replicas_per_master: usize,
    /// The last this-many masters get no replica (a "one failure from CLUSTERDOWN" shard).
    pub unreplicated_masters: usize,
    /// `cluster-node-timeout` in milliseconds.
    pub node_timeout_ms: u64,
    /// `requirepass` and `masterauth` for every node.
    pub password: Option<String>,
    /// Sample keys written after the cluster is created (`key:<i>` = `value-<i>`).
    pub keys: usize,
    /// `cluster-require-full-coverage`.
    pub require_full_coverage: bool,
    /// Path of `redis-server`; `None` = `$REDIS_SERVER`, else `PATH`.
    pub redis_server: Option<PathBuf>,
    /// Also listen on the IPv6 loopback `::1` (the lab itself always talks to 127.0.0.1).
    pub listen_ipv6: bool,
    /// Lines added to every node's configuration file, e.g. `rename-command CONFIG ""` for a
    /// managed-style cluster.
    pub extra_conf: Vec<String>,
    /// TLS only: every node listens with TLS on its port (`port 0`, `tls-port`), with TLS on
    /// the cluster bus and for replication; the lab's own connections use TLS too.
    pub tls: Option<LabTls>,
    /// Every node announces another port (`cluster-announce-port`) on which nobody listens
    /// (reserved by the lab): clients must remap the announced addresses. `CLUSTER NODES`
    /// tells which node announces which.
    pub announce_unused_ports: bool,
    /// Every node announces the hostname `<prefix><index>` (`cluster-announce-hostname`) and
    /// prefers it as its endpoint (`cluster-preferred-endpoint-type hostname`).
    pub announce_hostname_prefix: Option<String>,
}

/// Certificate files (PEM) for a TLS lab: the server's certificate and key, and the CA that
/// signed it (also used to verify client certificates, which are optional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabTls {
    /// The server certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// The CA certificate.
    pub ca: PathBuf,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            masters: 3,
            replicas_per_master: 1,
            unreplicated_masters: 0,
            node_timeout_ms: 2000,
            password: None,
            keys: 1000,
            require_full_coverage: true,
            redis_server: None,
            listen_ipv6: false,
            extra_conf: Vec::new(),
            tls: None,
            announce_unused_ports: false,
            announce_hostname_prefix: None,
        }
    }
}

/// Why a lab could not be started or driven.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// No `redis-server` binary was found.
    #[error(
        "redis-server not found (looked for {looked_for}). Install it: \
         Debian/Ubuntu `sudo apt-get install redis-server`, macOS `brew install redis`, \
         or point ${REDIS_SERVER_ENV} at the binary"
    )]
    ServerNotFound {
        /// What was searched.
        looked_for: String,
    },
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A server did not come up.
    #[error("redis-server on port {port} did not start: {why}\n{log_tail}")]
    StartFailed {
        /// Its client port.
        port: u16,
        /// What went wrong.
        why: String,
        /// The end of its log files.
        log_tail: String,
    },
    /// A command to a node failed.
    #[error("{context}: {message}")]
    Redis {
        /// What was being done, and on which node.
        context: String,
        /// The error text.
        message: String,
    },
    /// A condition was not reached in time.
    #[error("timed out waiting for {what} (last: {last})")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The last observation, for diagnosis.
        last: String,
    },
    /// A request that does not fit this lab (bad index, bad options, unknown scenario).
    #[error("{0}")]
    Invalid(String),
}

/// The role a node was given when the lab created the cluster (failovers may change it later;
/// ask the node for its current role with [`Lab::current_role`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabRole {
    /// A slot-owning master.
    Master,
    /// A replica of the master with this node index.
    Replica {
        /// Index of its master in [`Lab::nodes`].
        of: usize,
    },
    /// A server that is not in cluster mode.
    Standalone,
    /// A cluster-mode node that was never joined to a cluster: no slots, no peers.
    Unjoined,
}

/// Whether a node's process is running, paused or gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    /// Running normally.
    Running,
    /// Paused with SIGSTOP: accepts TCP connections but never answers.
    Stopped,
    /// Killed (or exited); [`Lab::restart`] brings it back with the same port and nodes.conf.
    Dead,
}

/// One `redis-server` process of a lab.
#[derive(Debug)]
pub struct LabNode {
    /// Client port on 127.0.0.1 (the bus port is `port + 10000`).
    pub port: u16,
    /// Process id of the current (or last) process.
    pub pid: u32,
    /// Cluster node id (empty for a standalone server).
    pub id: String,
    /// Role at creation time.
    pub role: LabRole,
    /// The node's own directory (config, log, nodes.conf).
    pub dir: PathBuf,
    /// Process state as far as the lab knows.
    pub state: ProcessState,
    child: Option<Child>,
}

/// A running local cluster (or standalone server). Dropping it stops every process by pid and
/// removes its directory.
#[derive(Debug)]
pub struct Lab {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    server: PathBuf,
    /// `valkey` or `redis`, from `--version` of the binary.
    server_name: &'static str,
    opts: LabOptions,
    nodes: Vec<LabNode>,
    cluster: bool,
    /// Keys written through the lab and their values.
    written: BTreeMap<String, String>,
}

/// What [`Lab::keep`] leaves running: enough to reach and stop it by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptLab {
    /// The lab directory (not removed).
    pub dir: PathBuf,
    /// `(port, pid)` of every process that was still running or paused.
    pub nodes: Vec<(u16, u32)>,
}

fn node_dir_name(port: u16) -> String {
    format!("node-{port}")
}

impl Lab {
    /// Start a cluster: spawn the nodes, assign slots, meet, attach replicas, wait until every
    /// node says `cluster_state:ok` and agrees, then write `opts.keys` sample keys.
    ///
    /// # Errors
    /// Missing `redis-server`, invalid options, a server that does not start, or a cluster that
    /// does not converge in time. Processes already started are stopped before returning.
    pub fn start(opts: LabOptions) -> Result<Self, LabError> {
        if opts.masters < 3 {
            return Err(LabError::Invalid(format!(
                "a lab cluster needs at least 3 masters (got {})",
                opts.masters
            )));
        }
        if opts.unreplicated_masters > opts.masters {
            return Err(LabError::Invalid(
                "unreplicated_masters cannot exceed masters".into(),
            ));
        }
        let mut lab = Self::prepare(opts, true)?;
        let masters = lab.opts.masters;
        let replicated = masters - lab.opts.unreplicated_masters;
        for _ in 0..masters {
            lab.spawn_new(LabRole::Master)?;
        }
        for m in 0..replicated {
            for _ in 0..lab.opts.replicas_per_master {
                lab.spawn_new(LabRole::Replica { of: m })?;
            }
        }
        lab.create_cluster()?;
        if lab.opts.keys > 0 {
            lab.write_keys(lab.opts.keys)?;
            lab.wait_replicas_caught_up()?;
        }
        Ok(lab)
    }

    /// Start one plain (non-cluster) `redis-server`, for "this is not a cluster" checks.
    ///
    /// # Errors
    /// Missing `redis-server` or a server that does not start.
    pub fn start_standalone(password: Option<&str>) -> Result<Self, LabError> {
        let opts = LabOptions {
            masters: 1,
            replicas_per_master: 0,
            keys: 0,
            password: password.map(str::to_owned),
            ..LabOptions::default()
        };
        let mut lab = Self::prepare(opts, false)?;
        lab.spawn_new(LabRole::Standalone)?;
        Ok(lab)
    }

    /// Start `count` cluster-mode nodes that are not joined into a cluster: no slots, no MEET,
    /// each knows only itself. For tests that build a cluster (or a half of one) by hand. The
    /// layout options (`masters`, replicas, `keys`) are ignored; the rest apply to every node.
    ///
    /// # Errors
    /// Missing `redis-server` or a server that does not start.
    pub fn start_unjoined(count: usize, opts: LabOptions) -> Result<Self, LabError> {
        let mut lab = Self::prepare(opts, true)?;
        for _ in 0..count {
            let i = lab.spawn_new(LabRole::Unjoined)?;
            lab.nodes[i].id = lab.query(i, &["CLUSTER", "MYID"])?;
        }
        Ok(lab)
    }

    fn prepare(opts: LabOptions, cluster: bool) -> Result<Self, LabError> {
        let server = find_redis_server(opts.redis_server.as_deref())?;
        let server_name = process::server_name(&server);
        let dir = tempfile::Builder::new()
            .prefix("slotscope-lab-")
            .tempdir()
            .map_err(|e| LabError::Io {
                context: "creating the lab directory".into(),
                source: e,
            })?;
        Ok(Self {
            root: dir.path().to_path_buf(),
            dir: Some(dir),
            server,
            server_name,
            opts,
            nodes: Vec::new(),
            cluster,
            written: BTreeMap::new(),
        })
    }

    fn conf<'a>(&'a self, port: u16, dir: &'a Path) -> process::NodeConf<'a> {
        process::NodeConf {
            port,
            dir,
            cluster: self.cluster,
            node_timeout_ms: self.opts.node_timeout_ms,
            require_full_coverage: self.opts.require_full_coverage,
            password: self.opts.password.as_deref(),
            listen_ipv6: self.opts.listen_ipv6,
            extra: &self.opts.extra_conf,
            tls: self.opts.tls.as_ref(),
            announce_port: if self.opts.announce_unused_ports {
                process::reserve_port().ok()
            } else {
                None
            },
            announce_hostname: self
                .opts
                .announce_hostname_prefix
                .as_ref()
                .map(|p| format!("{p}{}", self.nodes.len())),
        }
    }

    /// Spawn a new node on a fresh port, retrying on another port if the server cannot bind.
    fn spawn_new(&mut self, role: LabRole) -> Result<usize, LabError> {
        let mut last = None;
        for _ in 0..5 {
            let port = process::reserve_port()?;
            let dir = self.root.join(node_dir_name(port));
            match process::spawn_server(&self.server, &self.conf(port, &dir)) {
                Ok(child) => {
                    self.nodes.push(LabNode {
                        port,
                        pid: child.id(),
                        id: String::new(),
                        role,
                        dir,
                        state: ProcessState::Running,
                        child: Some(child),
                    });
                    return Ok(self.nodes.len() - 1);
                }
                Err(e) => {
                    process::release_port(port);
                    let _ = std::fs::remove_dir_all(&dir);
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| LabError::Invalid("no port attempt made".into())))
    }

    fn create_cluster(&mut self) -> Result<(), LabError> {
        let masters = self.opts.masters;
        let per = SLOT_COUNT / masters;
        for m in 0..masters {
            let start = m * per;
            let end = if m + 1 == masters {
                SLOT_COUNT - 1
            } else {
                (m + 1) * per - 1
            };
            self.cmd_ok(
                m,
                &[
                    "CLUSTER",
                    "ADDSLOTSRANGE",
                    &start.to_string(),
                    &end.to_string(),
                ],
            )?;
        }
        for i in 0..self.nodes.len() {
            self.cmd_ok(i, &["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()])?;
            let id = self.query(i, &["CLUSTER", "MYID"])?;
            self.nodes[i].id = id;
        }
        let first = self.nodes[0].port.to_string();
        for i in 1..self.nodes.len() {
            self.cmd_ok(i, &["CLUSTER", "MEET", "127.0.0.1", &first])?;
        }
        let n = self.nodes.len();
        self.wait_until(
            "every node to know every node",
            Duration::from_secs(30),
            |lab| {
                for i in 0..n {
                    let peers = lab.cluster_nodes(i)?;
                    let complete = peers.len() == n
                        && peers
                            .iter()
                            .all(|p| !p.has_flag("handshake") && !p.has_flag("noaddr"));
                    if !complete {
                        return Ok(Err(format!("node {i} knows {} of {n}", peers.len())));
                    }
                }
                Ok(Ok(()))
            },
        )?;
        for i in 0..n {
            if let LabRole::Replica { of } = self.nodes[i].role {
                let master_id = self.nodes[of].id.clone();
                self.cmd_ok(i, &["CLUSTER", "REPLICATE", &master_id])?;
            }
        }
        self.wait_converged(Duration::from_secs(60))
    }

    /// Wait until every node says `cluster_state:ok`, every view agrees on slot owners and
    /// replica relations, and every replica's link to its master is up.
    fn wait_converged(&self, timeout: Duration) -> Result<(), LabError> {
        let expected_master: Vec<Option<String>> = self
            .nodes
            .iter()
            .map(|n| match n.role {
                LabRole::Replica { of } => Some(self.nodes[of].id.clone()),
                _ => None,
            })
            .collect();
        self.wait_until("the new cluster to converge", timeout, |lab| {
            let mut signature: Option<String> = None;
            for i in 0..lab.nodes.len() {
                let state = lab.cluster_state(i)?;
                if state != "ok" {
                    return Ok(Err(format!("node {i} cluster_state:{state}")));
                }
                let peers = lab.cluster_nodes(i)?;
                for (j, node) in lab.nodes.iter().enumerate() {
                    let Some(line) = peers.iter().find(|p| p.id == node.id) else {
                        return Ok(Err(format!("node {i} does not know node {j}")));
                    };
                    if line.master_id != expected_master[j] {
                        return Ok(Err(format!("node {i} has not seen node {j}'s role yet")));
                    }
                }
                let mut sig: Vec<String> = peers
                    .iter()
                    .filter(|p| !p.slots.is_empty())
                    .map(|p| format!("{}:{:?}", p.id, p.slots))
                    .collect();
                sig.sort();
                let sig = sig.join("|");
                match &signature {
                    None => signature = Some(sig),
                    Some(s) if *s != sig => {
                        return Ok(Err(format!("node {i} disagrees about slots")));
                    }
                    Some(_) => {}
                }
                if expected_master[i].is_some() {
                    let info = lab.query(i, &["INFO", "replication"])?;
                    let link = conn::info_field(&info, "master_link_status").unwrap_or_default();
                    if link != "up" {
                        return Ok(Err(format!("replica {i} master_link_status:{link}")));
                    }
                }
            }
            Ok(Ok(()))
        })
    }

    /// Poll `probe` every 100 ms until it returns `Ok(Ok(()))`, or fail after `timeout`.
    /// `Ok(Err(why))` means "not yet" and `why` is kept for the timeout message; an `Err` from
    /// the probe is also treated as "not yet" (nodes are often briefly unreachable).
    ///
    /// # Errors
    /// [`LabError::Timeout`] with the last reason.
    pub fn wait_until<F>(&self, what: &str, timeout: Duration, mut probe: F) -> Result<(), LabError>
    where
        F: FnMut(&Self) -> Result<Result<(), String>, LabError>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match probe(self) {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(why)) => why,
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(LabError::Timeout {
                    what: what.to_owned(),
                    last,
                });
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn node(&self, i: usize) -> Result<&LabNode, LabError> {
        self.nodes
            .get(i)
            .ok_or_else(|| LabError::Invalid(format!("no node {i} (lab has {})", self.nodes.len())))
    }

    /// All nodes, in creation order: masters first, then replicas.
    #[must_use]
    pub fn nodes(&self) -> &[LabNode] {
        &self.nodes
    }

    /// The options the lab was started with.
    #[must_use]
    pub fn options(&self) -> &LabOptions {
        &self.opts
    }

    /// The server binary every node runs.
    #[must_use]
    pub fn server_binary(&self) -> &Path {
        &self.server
    }

    /// `valkey` or `redis`: which server the binary is (from its `--version`).
    #[must_use]
    pub fn server_name(&self) -> &'static str {
        self.server_name
    }

    /// The lab directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// The password every node requires, if any.
    #[must_use]
    pub fn password(&self) -> Option<&str> {
        self.opts.password.as_deref()
    }

    /// Client endpoint of node `i` (`127.0.0.1:port`). Panics never: an unknown index gives
    /// port 0.
    #[must_use]
    pub fn endpoint(&self, i: usize) -> Endpoint {
        Endpoint::new("127.0.0.1", self.nodes.get(i).map_or(0, |n| n.port))
    }

    /// Endpoints of every node, in index order.
    #[must_use]
    pub fn endpoints(&self) -> Vec<Endpoint> {
        (0..self.nodes.len()).map(|i| self.endpoint(i)).collect()
    }

    /// Node id of node `i` (empty for a standalone server or an unknown index).
    #[must_use]
    pub fn node_id(&self, i: usize) -> &str {
        self.nodes.get(i).map_or("", |n| n.id.as_str())
    }

    /// Index of the node with this id.
    #[must_use]
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Indices of the nodes created as masters.
    #[must_use]
    pub fn master_indices(&self) -> Vec<usize> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.role == LabRole::Master)
            .map(|(i, _)| i)
            .collect()
    }

    /// Indices of the nodes created as replicas of master `i`.
    #[must_use]
    pub fn replicas_of(&self, i: usize) -> Vec<usize> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.role == LabRole::Replica { of: i })
            .map(|(j, _)| j)
            .collect()
    }

    /// The slot range master `i` was given at creation.
    #[must_use]
    pub fn initial_slots(&self, i: usize) -> Option<SlotRange> {
        let masters = self.opts.masters;
        let created_master = self.nodes.get(i).map(|n| n.role) == Some(LabRole::Master);
        if !self.cluster || i >= masters || !created_master {
            return None;
        }
        let per = SLOT_COUNT / masters;
        let end = if i + 1 == masters {
            SLOT_COUNT - 1
        } else {
            (i + 1) * per - 1
        };
        Some(SlotRange::new(
            u16::try_from(i * per).ok()?,
            u16::try_from(end).ok()?,
        ))
    }

    /// Pids of every process the lab still has running or paused (for signal handlers).
    #[must_use]
    pub fn pids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .filter(|n| n.state != ProcessState::Dead)
            .map(|n| n.pid)
            .collect()
    }

    /// Open a connection to node `i` with the lab's password and short timeouts.
    ///
    /// # Errors
    /// Unknown index, or the node refuses / does not answer.
    pub fn connect(&self, i: usize) -> Result<redis::Connection, LabError> {
        let node = self.node(i)?;
        conn::connect(node.port, self.password(), conn::SHORT).map_err(|e| LabError::Redis {
            context: format!("connecting to node {i} (port {})", node.port),
            message: conn::describe(&e),
        })
    }

    /// Run a raw command on node `i` and return its reply.
    ///
    /// # Errors
    /// Connection failure or an error reply.
    pub fn cmd(&self, i: usize, args: &[&str]) -> Result<redis::Value, LabError> {
        self.cmd_with_timeout(i, args, conn::SHORT)
    }

    fn cmd_with_timeout(
        &self,
        i: usize,
        args: &[&str],
        timeout: Duration,
    ) -> Result<redis::Value, LabError> {
        let node = self.node(i)?;
        let mut con =
            conn::connect(node.port, self.password(), timeout).map_err(|e| LabError::Redis {
                context: format!("connecting to node {i} (port {})", node.port),
                message: conn::describe(&e),
            })?;
        conn::command(args)
            .query::<redis::Value>(&mut con)
            .map_err(|e| LabError::Redis {
                context: format!("{} on node {i} (port {})", args.join(" "), node.port),
                message: conn::describe(&e),
            })
    }

    fn cmd_ok(&self, i: usize, args: &[&str]) -> Result<(), LabError> {
        self.cmd(i, args).map(|_| ())
    }

    /// Run a raw command on node `i` and read the reply as text.
    ///
    /// # Errors
    /// Connection failure, an error reply, or a reply that is not text.
    pub fn query(&self, i: usize, args: &[&str]) -> Result<String, LabError> {
        let node = self.node(i)?;
        let mut con = self.connect(i)?;
        conn::query_string(&mut con, args).map_err(|e| LabError::Redis {
            context: format!("{} on node {i} (port {})", args.join(" "), node.port),
            message: conn::describe(&e),
        })
    }

    /// `cluster_state` (`ok` / `fail`) as node `i` reports it.
    ///
    /// # Errors
    /// Node unreachable or not a cluster node.
    pub fn cluster_state(&self, i: usize) -> Result<String, LabError> {
        let info = self.query(i, &["CLUSTER", "INFO"])?;
        conn::info_field(&info, "cluster_state").ok_or_else(|| LabError::Redis {
            context: format!("CLUSTER INFO on node {i}"),
            message: "no cluster_state field".into(),
        })
    }

    /// Node `i`'s `CLUSTER NODES` view.
    ///
    /// # Errors
    /// Node unreachable or not a cluster node.
    pub fn cluster_nodes(&self, i: usize) -> Result<Vec<PeerLine>, LabError> {
        Ok(parse_peers(&self.query(i, &["CLUSTER", "NODES"])?))
    }

    /// The flags node `observer` shows for node `target` (empty if it does not know it).
    ///
    /// # Errors
    /// `observer` unreachable.
    pub fn flags_seen_by(&self, observer: usize, target: usize) -> Result<Vec<String>, LabError> {
        let id = self.node(target)?.id.clone();
        Ok(self
            .cluster_nodes(observer)?
            .into_iter()
            .find(|p| p.id == id)
            .map(|p| p.flags)
            .unwrap_or_default())
    }

    /// The role node `i` reports now (`master` / `slave`), from `INFO replication`.
    ///
    /// # Errors
    /// Node unreachable.
    pub fn current_role(&self, i: usize) -> Result<String, LabError> {
        let info = self.query(i, &["INFO", "replication"])?;
        Ok(conn::info_field(&info, "role").unwrap_or_default())
    }

    /// Indices of the nodes that are running (not killed, not paused).
    #[must_use]
    pub fn running(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].state == ProcessState::Running)
            .collect()
    }

    fn signal(&self, i: usize, sig: Signal) -> Result<(), LabError> {
        let node = self.node(i)?;
        let pid = i32::try_from(node.pid)
            .map_err(|_| LabError::Invalid(format!("pid {} out of range", node.pid)))?;
        kill(Pid::from_raw(pid), sig).map_err(|e| LabError::Io {
            context: format!("sending {sig} to node {i} (pid {pid})"),
            source: std::io::Error::from(e),
        })
    }

    /// Kill node `i` with SIGKILL and reap it.
    ///
    /// # Errors
    /// Unknown index or the node is already dead.
    pub fn kill(&mut self, i: usize) -> Result<(), LabError> {
        if self.node(i)?.state == ProcessState::Dead {
            return Err(LabError::Invalid(format!("node {i} is already dead")));
        }
        self.signal(i, Signal::SIGKILL)?;
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.wait();
        }
        self.nodes[i].state = ProcessState::Dead;
        Ok(())
    }

    /// Pause node `i` with SIGSTOP: its sockets stay open but it answers nothing.
    ///
    /// # Errors
    /// Unknown index or the node is not running.
    pub fn stop(&mut self, i: usize) -> Result<(), LabError> {
        if self.node(i)?.state != ProcessState::Running {
            return Err(LabError::Invalid(format!("node {i} is not running")));
        }
        self.signal(i, Signal::SIGSTOP)?;
        self.nodes[i].state = ProcessState::Stopped;
        Ok(())
    }

    /// Resume a node paused with [`Lab::stop`].
    ///
    /// # Errors
    /// Unknown index or the node is not paused.
    pub fn cont(&mut self, i: usize) -> Result<(), LabError> {
        if self.node(i)?.state != ProcessState::Stopped {
            return Err(LabError::Invalid(format!("node {i} is not paused")));
        }
        self.signal(i, Signal::SIGCONT)?;
        self.nodes[i].state = ProcessState::Running;
        Ok(())
    }

    /// Start a killed node again on the same port with the same directory and nodes.conf.
    ///
    /// # Errors
    /// The node is not dead, or the server does not start (e.g. its port was taken meanwhile).
    pub fn restart(&mut self, i: usize) -> Result<(), LabError> {
        if self.node(i)?.state != ProcessState::Dead {
            return Err(LabError::Invalid(format!("node {i} is not dead")));
        }
        let (port, dir) = (self.nodes[i].port, self.nodes[i].dir.clone());
        let child = process::spawn_server(&self.server, &self.conf(port, &dir))?;
        self.nodes[i].pid = child.id();
        self.nodes[i].child = Some(child);
        self.nodes[i].state = ProcessState::Running;
        Ok(())
    }

    /// Stop every process now (SIGCONT, then SIGKILL, then reap) and release the ports.
    /// Idempotent; [`Drop`] calls it. The directory is removed when the lab is dropped.
    pub fn shutdown(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                if let Ok(pid) = i32::try_from(node.pid) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            node.state = ProcessState::Dead;
            process::release_port(node.port);
        }
    }

    /// Leave the cluster running after this value is gone: nothing is stopped or removed.
    /// Returns where it lives and which pids to stop later.
    #[must_use]
    pub fn keep(mut self) -> KeptLab {
        let nodes = self
            .nodes
            .iter_mut()
            .filter(|n| n.state != ProcessState::Dead)
            .map(|n| {
                // Forget the child handle: the process outlives us on purpose.
                n.child = None;
                (n.port, n.pid)
            })
            .collect();
        let dir = match self.dir.take() {
            Some(d) => d.keep(),
            None => self.root.clone(),
        };
        KeptLab { dir, nodes }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.shutdown();
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}
