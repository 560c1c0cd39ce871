//! The raw replies of one probe ([`RawNode`]) and the one function that turns them into what
//! the model reads ([`interpret`]). The live probe and the replay of a recording both go
//! through [`interpret`], so a recording made by an older slotscope is diagnosed by today's
//! parser, model and diagnosis.
//!
//! A [`Capture`] installed on the [`super::Connector`] keeps the last raw replies of every
//! endpoint, so that a recorder can pair each observation of a published snapshot with the
//! replies it was made from (by endpoint and completion time). While nothing records, it
//! keeps no `CLUSTER NODES` text (the largest reply by far: about 100 kB per node at 1000
//! nodes): [`Capture::raw_of`] then writes the text back from the observation's parsed view
//! ([`crate::cluster::fold::to_text`]). Nothing here does I/O.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::conn::CommandError;
use super::probe::{cluster_nodes_error, not_cluster};
use crate::cluster::access::Access;
use crate::cluster::parse::{parse_cluster_info, parse_cluster_nodes, parse_info};
use crate::cluster::types::{
    ClusterInfo, ClusterNodes, Endpoint, NodeConfig, NodeObservation, NodeReport, ProbeError,
    ServerInfo,
};

/// The parameters the probe reads with `CONFIG GET`, in this order.
pub const CONFIG_PARAMS: [&str; 4] = [
    "cluster-require-full-coverage",
    "cluster-node-timeout",
    "save",
    "appendonly",
];

/// A [`CommandError`] as data (it is recorded and read back).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RawError {
    /// [`CommandError::ReadOnlyRefused`].
    ReadOnlyRefused { command: String },
    /// [`CommandError::Connect`].
    Connect { error: ProbeError },
    /// [`CommandError::Timeout`].
    Timeout { command: String },
    /// [`CommandError::Io`].
    Io { message: String },
    /// [`CommandError::Server`].
    Server { code: String, message: String },
    /// [`CommandError::Protocol`].
    Protocol { message: String },
}

impl From<&CommandError> for RawError {
    fn from(e: &CommandError) -> Self {
        match e {
            CommandError::ReadOnlyRefused { command } => Self::ReadOnlyRefused {
                command: command.clone(),
            },
            CommandError::Connect(p) => Self::Connect { error: p.clone() },
            CommandError::Timeout { command } => Self::Timeout {
                command: command.clone(),
            },
            CommandError::Io(m) => Self::Io { message: m.clone() },
            CommandError::Server { code, message } => Self::Server {
                code: code.clone(),
                message: message.clone(),
            },
            CommandError::Protocol(m) => Self::Protocol { message: m.clone() },
            CommandError::Oversized { .. } => Self::Io {
                message: e.to_string(),
            },
        }
    }
}

impl From<&RawError> for CommandError {
    fn from(e: &RawError) -> Self {
        match e {
            RawError::ReadOnlyRefused { command } => Self::ReadOnlyRefused {
                command: command.clone(),
            },
            RawError::Connect { error } => Self::Connect(error.clone()),
            RawError::Timeout { command } => Self::Timeout {
                command: command.clone(),
            },
            RawError::Io { message } => Self::Io(message.clone()),
            RawError::Server { code, message } => Self::Server {
                code: code.clone(),
                message: message.clone(),
            },
            RawError::Protocol { message } => Self::Protocol(message.clone()),
        }
    }
}

/// A text reply, or why there is none.
pub type RawText = Result<String, RawError>;

/// One `CONFIG GET` parameter: its value, `None` when the server does not know it.
pub type RawConfig = Result<Option<String>, RawError>;

/// Everything one node answered after its `PING`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawReplies {
    /// `CLUSTER NODES`.
    pub cluster_nodes: RawText,
    /// `CLUSTER INFO`.
    pub cluster_info: RawText,
    /// `INFO` (the sections of [`super::probe::INFO_SECTIONS`], or all of them).
    pub info: RawText,
    /// `CONFIG GET` per parameter of [`CONFIG_PARAMS`].
    pub config: Vec<(String, RawConfig)>,
    /// `CLUSTER GETSLOTMIGRATIONS` (Valkey 9+): one list of field/value pairs per job; `None`
    /// when not asked or not answered.
    pub slot_migrations: Option<Vec<Vec<(String, String)>>>,
    /// The commands this node refused, carried from probe to probe (not recorded: a replay
    /// starts with none).
    pub access: Access,
}

impl RawReplies {
    /// From the command results of a probe.
    #[must_use]
    pub fn new(
        cluster_nodes: &Result<String, CommandError>,
        cluster_info: &Result<String, CommandError>,
        info: &Result<String, CommandError>,
        config: Vec<(String, Result<Option<String>, CommandError>)>,
    ) -> Self {
        let text = |r: &Result<String, CommandError>| r.clone().map_err(|e| RawError::from(&e));
        Self {
            cluster_nodes: text(cluster_nodes),
            cluster_info: text(cluster_info),
            info: text(info),
            config: config
                .into_iter()
                .map(|(k, v)| (k, v.map_err(|e| RawError::from(&e))))
                .collect(),
            slot_migrations: None,
            access: Access::default(),
        }
    }
}

/// One probe of one node, as it came off the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawNode {
    /// The endpoint connected to.
    pub endpoint: Endpoint,
    /// Unix ms when the probe completed (or failed).
    pub observed_at_ms: u64,
    /// Round-trip time of `PING`, in microseconds.
    pub rtt_us: Option<u64>,
    /// The replies, or why the connection or `PING` failed.
    pub replies: Result<RawReplies, ProbeError>,
}

impl RawNode {
    /// The observation the probe made of these replies (no key counts: those are counted
    /// after the probes and live in the snapshot).
    #[must_use]
    pub fn observation(&self) -> NodeObservation {
        NodeObservation {
            endpoint: self.endpoint.clone(),
            observed_at_ms: self.observed_at_ms,
            rtt_us: self.rtt_us,
            result: self
                .replies
                .as_ref()
                .map_err(Clone::clone)
                .and_then(interpret),
        }
    }
}

/// Turn a node's replies into its report: the parse and the error classification of a probe.
///
/// # Errors
/// The per-node error the replies mean (not a cluster node, loading, a reply that does not
/// parse, a failed `CLUSTER NODES`).
pub fn interpret(raw: &RawReplies) -> Result<NodeReport, ProbeError> {
    let info: Result<ServerInfo, CommandError> = raw
        .info
        .as_ref()
        .map(|t| parse_info(t))
        .map_err(CommandError::from);
    let nodes = match &raw.cluster_nodes {
        Ok(t) => t,
        Err(e) => return Err(cluster_nodes_error(&e.into(), info.as_ref().ok())),
    };
    let info = info.unwrap_or_else(|e| {
        tracing::debug!(error = %e, "INFO failed; continuing without it");
        ServerInfo::default()
    });
    if info.cluster_enabled == Some(false) {
        return Err(not_cluster(Some(&info)));
    }
    let nodes: ClusterNodes = parse_cluster_nodes(nodes)
        .map_err(|e| ProbeError::Protocol(format!("CLUSTER NODES: {e}")))?;
    let cluster_info: Option<ClusterInfo> = match &raw.cluster_info {
        Ok(t) => match parse_cluster_info(t) {
            Ok(ci) => Some(ci),
            Err(e) => {
                tracing::debug!(error = %e, "CLUSTER INFO did not parse");
                None
            }
        },
        Err(e) => {
            tracing::debug!(error = ?e, "CLUSTER INFO failed");
            None
        }
    };
    Ok(NodeReport {
        nodes,
        cluster_info,
        info,
        config: config_of(&raw.config),
        slot_keys: std::collections::BTreeMap::new(),
        census: None,
        slot_migrations: raw
            .slot_migrations
            .as_deref()
            .map(crate::cluster::slot_migrations::parse_jobs),
        access: raw.access.clone(),
        slot_stats: None,
    })
}

/// The configuration the `CONFIG GET` replies say. A renamed or refused `CONFIG` ends up in
/// [`NodeConfig::error`], never as a probe failure.
#[must_use]
pub fn config_of(replies: &[(String, RawConfig)]) -> NodeConfig {
    let mut cfg = NodeConfig::default();
    let mut errors: Vec<String> = Vec::new();
    for (param, reply) in replies {
        let v = match reply {
            Ok(v) => v,
            Err(e) => {
                errors.push(CommandError::from(e).to_string());
                continue;
            }
        };
        match param.as_str() {
            "save" => cfg.save.clone_from(v),
            _ if v.is_none() => {}
            "cluster-require-full-coverage" | "appendonly" => {
                let s = v.as_deref().unwrap_or_default();
                let b = match s.to_ascii_lowercase().as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    other => {
                        errors.push(format!("{param} = {other:?}"));
                        None
                    }
                };
                if param == "appendonly" {
                    cfg.appendonly = b.or(cfg.appendonly);
                } else {
                    cfg.require_full_coverage = b.or(cfg.require_full_coverage);
                }
            }
            "cluster-node-timeout" => {
                let s = v.as_deref().unwrap_or_default();
                match s.parse::<u64>() {
                    Ok(ms) => cfg.node_timeout_ms = Some(ms),
                    Err(_) => errors.push(format!("cluster-node-timeout = {s:?}")),
                }
            }
            _ => {}
        }
    }
    errors.dedup();
    if !errors.is_empty() {
        cfg.error = Some(format!("CONFIG GET: {}", errors.join("; ")));
    }
    cfg
}

/// Raw probes kept per endpoint: the last refresh's and one more (a repair observation that
/// may interleave with it, or the refresh on screen while the next one probes). While
/// recording, each holds a whole `CLUSTER NODES` text (about 100 kB per node at 1000 nodes),
/// so every one kept costs about 100 MB at that size.
const KEEP_PER_ENDPOINT: usize = 2;

/// The last raw replies of every endpoint, for a recorder to pick up.
#[derive(Debug)]
pub struct Capture {
    recent: Mutex<HashMap<Endpoint, VecDeque<Kept>>>,
    /// Whether whole `CLUSTER NODES` texts are kept (see the module docs).
    recording: AtomicBool,
}

/// A probe's raw replies; `elided`: its `CLUSTER NODES` text was dropped (it parsed, and
/// nothing was recording).
#[derive(Debug)]
struct Kept {
    raw: Arc<RawNode>,
    elided: bool,
}

impl Default for Capture {
    fn default() -> Self {
        Self {
            recent: Mutex::default(),
            recording: AtomicBool::new(true),
        }
    }
}

impl Capture {
    /// An empty capture, shared, that keeps every reply until told that nothing records
    /// ([`Self::set_recording`]).
    #[must_use]
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Whether a recorder wants the probes' whole replies from now on. Off, a parsed
    /// `CLUSTER NODES` text is not kept.
    pub fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::Relaxed);
    }

    /// Keep a probe's raw replies; `parsed`: its observation was made from them (so that
    /// its view can stand for its `CLUSTER NODES` text).
    pub fn offer(&self, mut raw: RawNode, parsed: bool) {
        let recording = self.recording.load(Ordering::Relaxed);
        let mut elided = false;
        if !recording
            && parsed
            && let Ok(r) = raw.replies.as_mut()
            && let Ok(text) = r.cluster_nodes.as_mut()
        {
            *text = String::new();
            elided = true;
        }
        let mut map = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let q = map.entry(raw.endpoint.clone()).or_default();
        q.push_back(Kept {
            raw: Arc::new(raw),
            elided,
        });
        while q.len() > KEEP_PER_ENDPOINT {
            q.pop_front();
        }
    }

    /// The raw replies an observation was made from, if they are still kept. A `CLUSTER
    /// NODES` text that was not kept is written back from the observation's view.
    #[must_use]
    pub fn raw_of(&self, obs: &NodeObservation) -> Option<Arc<RawNode>> {
        let kept = {
            let map = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            let k = map
                .get(&obs.endpoint)?
                .iter()
                .rev()
                .find(|k| k.raw.observed_at_ms == obs.observed_at_ms)?;
            (Arc::clone(&k.raw), k.elided)
        };
        match kept {
            (raw, false) => Some(raw),
            (raw, true) => {
                let view = &obs.report()?.nodes;
                let mut raw = RawNode::clone(&raw);
                if let Ok(r) = raw.replies.as_mut() {
                    r.cluster_nodes = Ok(crate::cluster::fold::to_text(view));
                }
                Some(Arc::new(raw))
            }
        }
    }

    /// Forget endpoints no longer probed.
    pub fn retain(&self, keep: impl Fn(&Endpoint) -> bool) {
        let mut map = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|ep, _| keep(ep));
    }
}

#[cfg(test)]
mod tests;
