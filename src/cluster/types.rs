//! Domain types shared by the parser, the model, the diagnosis, the UI and the fixes.
//!
//! Everything here is plain data: no I/O, no terminal.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::slots::{Slot, SlotRange};

/// A 40-hex-character node id (handshake nodes carry a temporary random one).
///
/// Shared (`Arc<str>`): a 1000-node cluster names every id in every node's view, so the model
/// copies ids a million times per refresh; a clone is a reference count, not an allocation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub Arc<str>);

impl NodeId {
    /// The first eight characters, as `redis-cli` prints them.
    #[must_use]
    pub fn short(&self) -> &str {
        self.0.get(..8).unwrap_or(&self.0)
    }

    /// The whole id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<String> for NodeId {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where slotscope connects to a node: host (IP or name) and client port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    #[must_use]
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The address field of a `CLUSTER NODES` line: `ip:port@cport[,hostname]`.
/// A `noaddr` node is printed as `:0@0` (empty ip, port 0).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct NodeAddr {
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    pub hostname: Option<String>,
}

impl NodeAddr {
    /// True for the `:0@0` form (address unknown).
    #[must_use]
    pub fn is_unknown(&self) -> bool {
        self.ip.is_empty() || self.port == 0
    }

    /// The client endpoint, if the address is known.
    #[must_use]
    pub fn endpoint(&self) -> Option<Endpoint> {
        (!self.is_unknown()).then(|| Endpoint::new(self.ip.clone(), self.port))
    }
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.endpoint() {
            Some(ep) => write!(f, "{ep}"),
            None => f.write_str("(no address)"),
        }
    }
}

/// The flags field of a `CLUSTER NODES` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct NodeFlags {
    pub myself: bool,
    pub master: bool,
    pub replica: bool,
    /// `fail?`: this node suspects the peer (PFAIL).
    pub pfail: bool,
    /// `fail`: failure agreed by a majority of masters.
    pub fail: bool,
    pub handshake: bool,
    pub noaddr: bool,
    pub nofailover: bool,
}

impl NodeFlags {
    /// The flags as `CLUSTER NODES` prints them, in its fixed order (`myself` first).
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.myself, "myself"),
            (self.master, "master"),
            (self.replica, "slave"),
            (self.pfail, "fail?"),
            (self.fail, "fail"),
            (self.handshake, "handshake"),
            (self.noaddr, "noaddr"),
            (self.nofailover, "nofailover"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// Direction of an open-slot marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    /// `[S->-ID]`: this node is migrating slot S to ID.
    Migrating,
    /// `[S-<-ID]`: this node is importing slot S from ID.
    Importing,
}

/// An open-slot marker from a node's own `myself` line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpenMarker {
    pub slot: Slot,
    pub kind: MarkerKind,
    /// The target (migrating) or source (importing) node id.
    pub peer: NodeId,
}

/// One line of `CLUSTER NODES`, as one node sees one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLine {
    pub id: NodeId,
    pub addr: NodeAddr,
    pub flags: NodeFlags,
    /// The master's id for a replica; `None` for masters (and for replicas of an unknown master).
    pub master_id: Option<NodeId>,
    pub ping_sent_ms: u64,
    pub pong_recv_ms: u64,
    pub config_epoch: u64,
    pub link_connected: bool,
    /// Slots this line claims, ascending.
    pub slots: Vec<SlotRange>,
    /// Open-slot markers (only ever present on the `myself` line).
    pub markers: Vec<OpenMarker>,
}

impl NodeLine {
    /// Number of slots claimed by this line.
    #[must_use]
    pub fn slot_count(&self) -> usize {
        self.slots.iter().map(SlotRange::len).sum()
    }
}

/// A whole `CLUSTER NODES` reply: one node's view of the cluster, as parsed or folded into
/// a refresh's table of distinct lines (see [`super::fold`], which holds its methods). It
/// compares, prints and serializes as its lines.
#[derive(Clone, Default)]
pub struct ClusterNodes {
    pub(crate) repr: super::fold::Repr,
}

/// `cluster_state` from `CLUSTER INFO`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterState {
    Ok,
    Fail,
    Other(String),
}

/// A parsed `CLUSTER INFO` reply. Unknown fields are kept in `other`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    pub state: ClusterState,
    pub slots_assigned: u32,
    pub slots_ok: u32,
    pub slots_pfail: u32,
    pub slots_fail: u32,
    pub known_nodes: u32,
    pub size: u32,
    pub current_epoch: u64,
    pub my_epoch: u64,
    pub other: BTreeMap<String, String>,
}

/// Typed subset of an `INFO` reply (sections server, replication, memory, stats, clients,
/// keyspace, cluster). Every field is optional: later versions and forks may differ.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerInfo {
    /// `server_name` (`valkey` on Valkey; Redis does not send it).
    pub server_name: Option<String>,
    /// `redis_version` (Valkey reports the Redis version it is compatible with here).
    pub redis_version: Option<String>,
    /// `valkey_version` when the server is Valkey.
    pub valkey_version: Option<String>,
    pub uptime_s: Option<u64>,
    /// `master` or `slave`.
    pub role: Option<String>,
    pub used_memory: Option<u64>,
    pub maxmemory: Option<u64>,
    pub ops_per_sec: Option<u64>,
    pub connected_clients: Option<u64>,
    pub master_repl_offset: Option<i64>,
    /// `master_link_status` on a replica (`up` / `down`).
    pub master_link_status: Option<String>,
    /// `master_host:master_port` on a replica.
    pub master_host: Option<String>,
    pub master_port: Option<u16>,
    /// Replica's own processed offset (`slave_repl_offset`).
    pub slave_repl_offset: Option<i64>,
    /// `master_sync_in_progress` on a replica: a full sync from its master is under way.
    pub master_sync_in_progress: Option<bool>,
    /// `master_link_down_since_seconds` on a replica whose link is down.
    pub master_link_down_since_s: Option<u64>,
    /// `master_link_down_since_seconds:-1`: the replica has not connected to its master since
    /// it was assigned (or since it started).
    #[serde(default)]
    pub master_link_never_up: bool,
    /// `master_last_io_seconds_ago` on a replica: seconds since it last heard from its master.
    #[serde(default)]
    pub master_last_io_s: Option<u64>,
    /// The `slaveN:` lines of a master: each replica as the master sees it.
    #[serde(default)]
    pub replicas: Vec<ReplicaLink>,
    pub connected_slaves: Option<u64>,
    /// Keys in db0.
    pub keys: Option<u64>,
    /// Keys in databases other than 0 (cluster mode only serves db0).
    pub keys_other_dbs: u64,
    pub cluster_enabled: Option<bool>,
    pub loading: Option<bool>,
    /// `aof_enabled` (INFO persistence).
    pub aof_enabled: Option<bool>,
    /// `rdb_changes_since_last_save` (INFO persistence): writes a restart from the RDB loses.
    pub rdb_changes_since_last_save: Option<u64>,
    /// `rdb_last_save_time` (INFO persistence), Unix seconds.
    pub rdb_last_save_time: Option<u64>,
}

/// One `slaveN:ip=…,port=…,state=…,offset=…,lag=…` line of a master's INFO replication.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReplicaLink {
    /// The replica's address as it announced it.
    pub ip: String,
    /// The replica's port.
    pub port: u16,
    /// `online`, `wait_bgsave`, `send_bulk`, …
    pub state: String,
    /// The replication offset the replica acknowledged.
    pub offset: i64,
    /// Seconds since the replica's last acknowledgement (`lag`).
    pub lag_s: Option<u64>,
}

impl ServerInfo {
    /// True for Valkey (`server_name:valkey`, or a `valkey_version` field).
    #[must_use]
    pub fn is_valkey(&self) -> bool {
        self.server_name.as_deref() == Some("valkey") || self.valkey_version.is_some()
    }

    /// `valkey` or `redis`.
    #[must_use]
    pub fn server(&self) -> &'static str {
        if self.is_valkey() { "valkey" } else { "redis" }
    }

    /// The server's own version: `valkey_version` on Valkey, else `redis_version`.
    #[must_use]
    pub fn version(&self) -> Option<&str> {
        self.valkey_version
            .as_deref()
            .or(self.redis_version.as_deref())
    }

    /// Whether the server has `CLUSTER SLOT-STATS` with a key count (Valkey 8.0+, Redis 8.2+);
    /// `None` when INFO gave no version.
    #[must_use]
    pub fn has_slot_stats(&self) -> Option<bool> {
        let mut parts = self
            .version()?
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        Some(if self.is_valkey() {
            major >= 8
        } else {
            (major, minor) >= (8, 2)
        })
    }

    /// `valkey 9.1.2`, `redis 8.2.3`; `None` when INFO gave no version.
    #[must_use]
    pub fn identity(&self) -> Option<String> {
        self.version().map(|v| format!("{} {v}", self.server()))
    }

    /// The server binary to name in advice: `valkey-server` or `redis-server`.
    #[must_use]
    pub fn server_binary(&self) -> &'static str {
        if self.is_valkey() {
            "valkey-server"
        } else {
            "redis-server"
        }
    }

    /// The command-line client to name in advice: `valkey-cli` or `redis-cli`.
    #[must_use]
    pub fn cli(&self) -> &'static str {
        if self.is_valkey() {
            "valkey-cli"
        } else {
            "redis-cli"
        }
    }
}

/// Configuration read with `CONFIG GET` (absent when CONFIG is renamed or refused).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NodeConfig {
    pub require_full_coverage: Option<bool>,
    pub node_timeout_ms: Option<u64>,
    /// `save` (RDB snapshot rules; empty: no automatic snapshot).
    #[serde(default)]
    pub save: Option<String>,
    /// `appendonly`.
    #[serde(default)]
    pub appendonly: Option<bool>,
    /// Why CONFIG GET could not be read, if it could not.
    pub error: Option<String>,
}

/// Whether a node's keys survive a restart, from `CONFIG GET save|appendonly` and
/// `INFO persistence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Persistence {
    /// AOF on: a restart reloads every acknowledged write (up to `appendfsync`).
    AppendOnly,
    /// RDB snapshots only: a restart loses the writes since the last snapshot.
    Snapshots,
    /// `save ""` and `appendonly no`: a restart comes back empty.
    None,
}

impl Persistence {
    /// From what was read; `None` when it could not be told.
    #[must_use]
    pub fn of(info: Option<&ServerInfo>, config: Option<&NodeConfig>) -> Option<Self> {
        let aof = config
            .and_then(|c| c.appendonly)
            .or_else(|| info.and_then(|i| i.aof_enabled));
        if aof == Some(true) {
            return Some(Self::AppendOnly);
        }
        let save = config.and_then(|c| c.save.as_deref())?;
        match (aof, save.trim().is_empty()) {
            (Some(false), true) => Some(Self::None),
            (_, false) => Some(Self::Snapshots),
            (None | Some(true), true) => None,
        }
    }

    /// Plain words: `AOF on`, `RDB snapshots only`, `no persistence (save "", appendonly no)`.
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Self::AppendOnly => "AOF on",
            Self::Snapshots => "RDB snapshots only",
            Self::None => "no persistence (save \"\", appendonly no)",
        }
    }
}

/// Why a node could not be observed. Per-node failures are data, never fatal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ProbeError {
    /// TCP connection refused or failed (node down, wrong port).
    ConnectFailed(String),
    /// TCP connect did not complete within the connect timeout.
    ConnectTimeout,
    /// Connected but a command got no reply within the command timeout (hung node).
    Unresponsive(String),
    /// The server wants a password and none was given (`NOAUTH`).
    AuthRequired,
    /// The password or user was rejected (`WRONGPASS` / `ERR invalid password`).
    AuthFailed(String),
    /// The server is loading its dataset (`LOADING`).
    Loading,
    /// The server answered but is not in cluster mode (`cluster_enabled:0`).
    NotCluster { version: Option<String> },
    /// A reply could not be understood.
    Protocol(String),
    /// Anything else the server said.
    Other(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectFailed(e) => write!(f, "connection failed: {e}"),
            Self::ConnectTimeout => f.write_str("connect timed out"),
            Self::Unresponsive(stage) => write!(f, "no reply to {stage} (node hung?)"),
            Self::AuthRequired => f.write_str("password required (NOAUTH)"),
            Self::AuthFailed(e) => write!(f, "authentication failed: {e}"),
            Self::Loading => f.write_str("loading its dataset (LOADING)"),
            Self::NotCluster { version } => match version {
                Some(v) => write!(f, "not a cluster node (Redis {v}, cluster_enabled:0)"),
                None => f.write_str("not a cluster node (cluster_enabled:0)"),
            },
            Self::Protocol(e) => write!(
                f,
                "unexpected reply (is this a Redis server?): {}",
                one_line(e)
            ),
            Self::Other(e) => f.write_str(&one_line(e)),
        }
    }
}

/// Collapse a multi-line message (parser errors carry newlines) into one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl ProbeError {
    /// True when the node answered and is a Redis server whose state we could read (it is
    /// not in cluster mode, or it is loading): an observation, not a failure to observe.
    #[must_use]
    pub fn is_observation(&self) -> bool {
        matches!(self, Self::NotCluster { .. } | Self::Loading)
    }
}

/// What one probe of one node returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeReport {
    /// The node's own `CLUSTER NODES` view.
    pub nodes: ClusterNodes,
    /// `CLUSTER INFO`, if it could be read.
    pub cluster_info: Option<ClusterInfo>,
    pub info: ServerInfo,
    pub config: NodeConfig,
    /// `CLUSTER COUNTKEYSINSLOT` for the slots that needed it (open or uncovered).
    pub slot_keys: BTreeMap<Slot, u64>,
    /// The key census of a master (see [`crate::cluster::census`]); `None` when not counted
    /// (a replica, or the count failed: unknown, never zero).
    #[serde(default)]
    pub census: Option<crate::cluster::census::NodeCensus>,
    /// `CLUSTER GETSLOTMIGRATIONS` (Valkey 9+); `None` when not asked or not answered.
    #[serde(default)]
    pub slot_migrations: Option<Vec<crate::cluster::slot_migrations::SlotMigrationJob>>,
    /// Commands this node refused (or would refuse), remembered across refreshes.
    #[serde(default)]
    pub access: crate::cluster::access::Access,
    /// `CLUSTER SLOT-STATS` of a master, when fetched (see [`crate::cluster::slot_stats`]).
    #[serde(default)]
    pub slot_stats: Option<crate::cluster::slot_stats::NodeSlotStats>,
}

/// One node's observation in one refresh cycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeObservation {
    /// The endpoint we connected to.
    pub endpoint: Endpoint,
    /// Unix time in ms when the observation completed (or failed).
    pub observed_at_ms: u64,
    /// Round-trip time of our own `PING`, in microseconds.
    pub rtt_us: Option<u64>,
    pub result: Result<NodeReport, ProbeError>,
}

impl NodeObservation {
    #[must_use]
    pub fn report(&self) -> Option<&NodeReport> {
        self.result.as_ref().ok()
    }

    /// The id of the observed node (from its `myself` line), if it answered.
    #[must_use]
    pub fn node_id(&self) -> Option<&NodeId> {
        self.report().and_then(|r| r.nodes.myself()).map(|l| &l.id)
    }
}

/// A complete refresh cycle: every node that was probed.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    /// Increases by one per published snapshot.
    pub generation: u64,
    /// Unix ms when the cycle started.
    pub started_at_ms: u64,
    /// Unix ms when the cycle finished.
    pub finished_at_ms: u64,
    /// The seeds the user gave.
    pub seeds: Vec<Endpoint>,
    /// One entry per probed endpoint, sorted by endpoint.
    pub observations: Vec<NodeObservation>,
    /// What moved since the previous snapshot of the same refresher (empty for a single
    /// observation): see [`crate::cluster::progress`].
    #[serde(default)]
    pub progress: super::progress::Progress,
}

impl ClusterSnapshot {
    /// True if at least one node answered with a state we can diagnose (a cluster view, or a
    /// clear "not a cluster" / "loading").
    #[must_use]
    pub fn observed_anything(&self) -> bool {
        self.observations.iter().any(|o| match &o.result {
            Ok(_) => true,
            Err(e) => e.is_observation(),
        })
    }

    /// "endpoint: error" for every failed observation, joined with "; ".
    #[must_use]
    pub fn failure_summary(&self) -> String {
        self.observations
            .iter()
            .filter_map(|o| {
                o.result
                    .as_ref()
                    .err()
                    .map(|e| format!("{}: {e}", o.endpoint))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_display_brackets_ipv6() {
        assert_eq!(Endpoint::new("::1", 7000).to_string(), "[::1]:7000");
        assert_eq!(
            Endpoint::new("127.0.0.1", 7000).to_string(),
            "127.0.0.1:7000"
        );
    }

    #[test]
    fn short_id() {
        assert_eq!(NodeId("0123456789abcdef".into()).short(), "01234567");
        assert_eq!(NodeId("abc".into()).short(), "abc");
    }
}
