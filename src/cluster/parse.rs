//! Parsers for `CLUSTER NODES`, `CLUSTER INFO` and `INFO` text. Pure; never panic on any input.
//!
//! The formats are described in `redis-cluster.md` §1.1 and §1.2. The parsers are strict about
//! what they understand (numbers, slot ranges, markers) and lenient about what may legitimately
//! vary between versions and forks (unknown flags, unknown `INFO`/`CLUSTER INFO` fields,
//! trailing whitespace, CRLF line ends, blank lines).

use std::collections::BTreeMap;
use std::fmt;

use super::types::{
    ClusterInfo, ClusterNodes, ClusterState, MarkerKind, NodeAddr, NodeFlags, NodeId, NodeLine,
    OpenMarker, SLOT_COUNT, ServerInfo, Slot, SlotRange,
};

/// A reply that could not be parsed: which line and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number in the reply (0 when the error concerns the reply as a whole).
    pub line: usize,
    /// What was wrong, in plain words.
    pub message: String,
}

impl ParseError {
    fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Iterate over the non-blank lines of a reply with their 1-based line numbers, without the
/// line terminator (`\n` or `\r\n`) and surrounding whitespace.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

/// Parse a whole `CLUSTER NODES` reply.
///
/// Blank lines, trailing spaces and CRLF line ends are tolerated. An empty reply yields an
/// empty table (the caller decides whether that is acceptable).
///
/// # Errors
/// Any malformed line; the error carries its 1-based line number.
pub fn parse_cluster_nodes(text: &str) -> Result<ClusterNodes, ParseError> {
    let mut lines = Vec::with_capacity(text.len() / 96 + 1);
    for (no, line) in content_lines(text) {
        let parsed = parse_node_line(line).map_err(|e| ParseError::new(no, e.message))?;
        lines.push(parsed);
    }
    Ok(ClusterNodes { lines })
}

/// Parse one `CLUSTER NODES` line.
///
/// # Errors
/// A malformed line (the error's `line` is 1; [`parse_cluster_nodes`] fills in the real one).
pub fn parse_node_line(line: &str) -> Result<NodeLine, ParseError> {
    let err = |m: String| ParseError::new(1, m);
    let mut fields = line.split_ascii_whitespace();
    let mut next = |name: &str| {
        fields.next().ok_or_else(|| {
            err(format!(
                "missing field `{name}` (a node line has at least 8 fields)"
            ))
        })
    };
    let id = parse_node_id(next("node id")?).map_err(err)?;
    let addr = parse_addr(next("address")?).map_err(err)?;
    let flags = parse_flags(next("flags")?);
    let master_tok = next("master id")?;
    let master_id = if master_tok == "-" {
        None
    } else {
        Some(parse_node_id(master_tok).map_err(err)?)
    };
    let ping_sent_ms = parse_u64(next("ping_sent")?, "ping_sent").map_err(err)?;
    let pong_recv_ms = parse_u64(next("pong_recv")?, "pong_recv").map_err(err)?;
    let config_epoch = parse_u64(next("config epoch")?, "config epoch").map_err(err)?;
    let link_connected = match next("link state")? {
        "connected" => true,
        "disconnected" => false,
        other => return Err(err(format!("unknown link state `{other}`"))),
    };
    let mut slots = Vec::new();
    let mut markers = Vec::new();
    for tok in fields {
        if tok.starts_with('[') {
            markers.push(parse_marker(tok).map_err(err)?);
        } else {
            slots.push(parse_slot_range(tok).map_err(err)?);
        }
    }
    if !slots.is_sorted() {
        slots.sort_unstable();
    }
    Ok(NodeLine {
        id,
        addr,
        flags,
        master_id,
        ping_sent_ms,
        pong_recv_ms,
        config_epoch,
        link_connected,
        slots,
        markers,
    })
}

/// A node id: 40 hex characters in practice; any non-empty run of ASCII alphanumerics is
/// accepted so that hand-written tables with short ids still parse.
fn parse_node_id(tok: &str) -> Result<NodeId, String> {
    if tok.is_empty() || tok.len() > 64 || !tok.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("invalid node id `{}`", clip(tok)));
    }
    Ok(NodeId(tok.to_owned()))
}

/// `ip:port@cport[,hostname[,aux=value…]]`, parsed from the right of the `@`.
fn parse_addr(tok: &str) -> Result<NodeAddr, String> {
    let bad = |why: &str| format!("invalid address `{}`: {why}", clip(tok));
    let (hostport, rest) = match tok.rfind('@') {
        Some(at) => (&tok[..at], Some(&tok[at + 1..])),
        // Pre-4.0 servers print no bus port.
        None => match tok.find(',') {
            Some(c) => (&tok[..c], None),
            None => (tok, None),
        },
    };
    let (cport, hostname) = match rest {
        Some(rest) => {
            let mut parts = rest.split(',');
            let cport_tok = parts.next().unwrap_or_default();
            let cport = cport_tok
                .parse::<u16>()
                .map_err(|_| bad("bus port is not a port number"))?;
            // The first comma item is the hostname unless it is a `key=value` aux field
            // (7.2+ nodes.conf form); an empty one means "no hostname".
            let hostname = parts
                .next()
                .filter(|h| !h.is_empty() && !h.contains('='))
                .map(str::to_owned);
            (cport, hostname)
        }
        None => (
            0,
            tok.find(',')
                .map(|c| &tok[c + 1..])
                .filter(|h| !h.is_empty() && !h.contains('='))
                .map(str::to_owned),
        ),
    };
    let colon = hostport.rfind(':').ok_or_else(|| bad("no `:port`"))?;
    let port = hostport[colon + 1..]
        .parse::<u16>()
        .map_err(|_| bad("port is not a port number"))?;
    let mut ip = &hostport[..colon];
    if let Some(inner) = ip.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        ip = inner;
    }
    if ip
        .chars()
        .any(|c| c.is_whitespace() || c == '@' || c == ',')
    {
        return Err(bad("malformed host"));
    }
    Ok(NodeAddr {
        ip: ip.to_owned(),
        port,
        cport,
        hostname,
    })
}

/// The flags field; unknown flags are ignored (forward compatibility).
fn parse_flags(tok: &str) -> NodeFlags {
    let mut f = NodeFlags::default();
    for flag in tok.split(',') {
        match flag {
            "myself" => f.myself = true,
            "master" | "primary" => f.master = true,
            "slave" | "replica" => f.replica = true,
            "fail?" => f.pfail = true,
            "fail" => f.fail = true,
            "handshake" => f.handshake = true,
            "noaddr" => f.noaddr = true,
            "nofailover" => f.nofailover = true,
            _ => {}
        }
    }
    f
}

fn parse_u64(tok: &str, what: &str) -> Result<u64, String> {
    tok.parse::<u64>()
        .map_err(|_| format!("{what} `{}` is not a non-negative integer", clip(tok)))
}

fn parse_slot(tok: &str) -> Result<Slot, String> {
    if tok.is_empty() || !tok.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{}` is not a slot number", clip(tok)));
    }
    tok.parse::<u32>()
        .ok()
        .and_then(|n| Slot::try_from(n).ok())
        .filter(|&s| usize::from(s) < SLOT_COUNT)
        .ok_or_else(|| {
            format!(
                "slot `{}` is out of range (0-{})",
                clip(tok),
                SLOT_COUNT - 1
            )
        })
}

/// `N` or `A-B`.
fn parse_slot_range(tok: &str) -> Result<SlotRange, String> {
    match tok.split_once('-') {
        Some((a, b)) => {
            let start = parse_slot(a)?;
            let end = parse_slot(b)?;
            if start > end {
                return Err(format!("slot range `{tok}` has start after end"));
            }
            Ok(SlotRange::new(start, end))
        }
        None => parse_slot(tok).map(SlotRange::single),
    }
}

/// `[S->-ID]` (migrating to ID) or `[S-<-ID]` (importing from ID).
fn parse_marker(tok: &str) -> Result<OpenMarker, String> {
    let bad = || format!("invalid open-slot marker `{}`", clip(tok));
    let inner = tok
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(bad)?;
    let (slot_tok, kind, peer_tok) = if let Some((s, p)) = inner.split_once("->-") {
        (s, MarkerKind::Migrating, p)
    } else if let Some((s, p)) = inner.split_once("-<-") {
        (s, MarkerKind::Importing, p)
    } else {
        return Err(bad());
    };
    let slot = parse_slot(slot_tok)?;
    let peer = parse_node_id(peer_tok)?;
    Ok(OpenMarker { slot, kind, peer })
}

/// At most 40 characters of a token, for error messages.
fn clip(tok: &str) -> &str {
    match tok.char_indices().nth(40) {
        Some((i, _)) => &tok[..i],
        None => tok,
    }
}

/// Iterate `key:value` pairs of an `INFO`-style reply, skipping blank and `#` lines.
fn key_values(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    content_lines(text)
        .filter(|(_, l)| !l.starts_with('#'))
        .filter_map(|(no, l)| l.split_once(':').map(|(k, v)| (no, k.trim(), v.trim())))
}

/// Parse a `CLUSTER INFO` reply. Unknown keys (later versions, bus counters) are kept in
/// `other`; absent numeric fields are 0.
///
/// # Errors
/// Missing `cluster_state`, or a known numeric field that is not a number.
pub fn parse_cluster_info(text: &str) -> Result<ClusterInfo, ParseError> {
    let mut info = ClusterInfo {
        state: ClusterState::Other(String::new()),
        slots_assigned: 0,
        slots_ok: 0,
        slots_pfail: 0,
        slots_fail: 0,
        known_nodes: 0,
        size: 0,
        current_epoch: 0,
        my_epoch: 0,
        other: BTreeMap::new(),
    };
    let mut saw_state = false;
    for (no, key, value) in key_values(text) {
        let num32 = |v: &str| {
            v.parse::<u32>()
                .map_err(|_| ParseError::new(no, format!("`{key}` is not a number: `{}`", clip(v))))
        };
        let num64 = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| ParseError::new(no, format!("`{key}` is not a number: `{}`", clip(v))))
        };
        match key {
            "cluster_state" => {
                saw_state = true;
                info.state = match value {
                    "ok" => ClusterState::Ok,
                    "fail" => ClusterState::Fail,
                    other => ClusterState::Other(other.to_owned()),
                };
            }
            "cluster_slots_assigned" => info.slots_assigned = num32(value)?,
            "cluster_slots_ok" => info.slots_ok = num32(value)?,
            "cluster_slots_pfail" => info.slots_pfail = num32(value)?,
            "cluster_slots_fail" => info.slots_fail = num32(value)?,
            "cluster_known_nodes" => info.known_nodes = num32(value)?,
            "cluster_size" => info.size = num32(value)?,
            "cluster_current_epoch" => info.current_epoch = num64(value)?,
            "cluster_my_epoch" => info.my_epoch = num64(value)?,
            _ => {
                info.other.insert(key.to_owned(), value.to_owned());
            }
        }
    }
    if !saw_state {
        return Err(ParseError::new(0, "no `cluster_state` field"));
    }
    Ok(info)
}

/// Parse an `INFO` reply (any sections). Unknown fields and sections are ignored, and so are
/// known fields whose value does not parse (they stay `None`).
#[must_use]
pub fn parse_info(text: &str) -> ServerInfo {
    let mut s = ServerInfo::default();
    let mut keys_db0: Option<u64> = None;
    for (_, key, value) in key_values(text) {
        match key {
            "redis_version" => s.redis_version = Some(value.to_owned()),
            "valkey_version" => s.valkey_version = Some(value.to_owned()),
            "uptime_in_seconds" => s.uptime_s = value.parse().ok(),
            "role" => s.role = Some(value.to_owned()),
            "used_memory" => s.used_memory = value.parse().ok(),
            "maxmemory" => s.maxmemory = value.parse().ok(),
            "instantaneous_ops_per_sec" => s.ops_per_sec = value.parse().ok(),
            "connected_clients" => s.connected_clients = value.parse().ok(),
            "master_repl_offset" => s.master_repl_offset = value.parse().ok(),
            "master_link_status" => s.master_link_status = Some(value.to_owned()),
            "master_host" => s.master_host = Some(value.to_owned()),
            "master_port" => s.master_port = value.parse().ok(),
            "slave_repl_offset" => s.slave_repl_offset = value.parse().ok(),
            "connected_slaves" => s.connected_slaves = value.parse().ok(),
            "cluster_enabled" => s.cluster_enabled = parse_flag01(value),
            "loading" => s.loading = parse_flag01(value),
            k if is_db_key(k) => {
                let n = keyspace_keys(value);
                if k == "db0" {
                    keys_db0 = Some(keys_db0.unwrap_or(0).saturating_add(n));
                } else {
                    s.keys_other_dbs = s.keys_other_dbs.saturating_add(n);
                }
            }
            _ => {}
        }
    }
    // A server that has a keyspace section but no db0 line holds 0 keys in db0; we only know
    // that if the reply had a keyspace section at all.
    s.keys = keys_db0.or_else(|| text.contains("# Keyspace").then_some(0));
    s
}

fn parse_flag01(v: &str) -> Option<bool> {
    match v {
        "1" | "yes" => Some(true),
        "0" | "no" => Some(false),
        _ => None,
    }
}

/// `db` followed by digits.
fn is_db_key(k: &str) -> bool {
    k.strip_prefix("db")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The `keys=` count of a keyspace value `keys=1,expires=0,avg_ttl=0`.
fn keyspace_keys(v: &str) -> u64 {
    v.split(',')
        .find_map(|kv| kv.strip_prefix("keys="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
