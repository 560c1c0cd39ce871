//! Parsers for `CLUSTER NODES`, `CLUSTER INFO` and `INFO` text. Pure; never panic on any input.
//!
//! `CLUSTER NODES` is one line per known node (id, `ip:port@cport[,hostname]`, flags, master id,
//! ping sent, pong received, config epoch, link state, slots, and open-slot markers on the
//! `myself` line only); `CLUSTER INFO` and `INFO` are `key:value` lines. The parsers are strict
//! about what they understand (numbers, slot ranges, markers) and lenient about what may
//! legitimately vary between versions and forks (unknown flags, unknown `INFO`/`CLUSTER INFO`
//! fields, trailing whitespace, CRLF line ends, blank lines).

use std::collections::BTreeMap;

use super::slots::{SLOT_COUNT, Slot, SlotRange};
use super::types::{
    ClusterInfo, ClusterNodes, ClusterState, MarkerKind, NodeAddr, NodeFlags, NodeId, NodeLine,
    OpenMarker, ReplicaLink, ServerInfo,
};

/// A reply that could not be parsed: which line and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
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
    Ok(ClusterNodes::new(lines))
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
    // `fold` rather than `all`: no early exit, so the check over the 40 bytes vectorises.
    let valid = tok
        .bytes()
        .fold(true, |ok, b| ok & b.is_ascii_alphanumeric());
    if tok.is_empty() || tok.len() > 64 || !valid {
        return Err(format!("invalid node id `{}`", clip(tok)));
    }
    Ok(NodeId::from(tok))
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
            "server_name" => s.server_name = Some(value.to_owned()),
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
            "master_sync_in_progress" => s.master_sync_in_progress = parse_flag01(value),
            "master_link_down_since_seconds" => {
                s.master_link_down_since_s = value.parse().ok();
                s.master_link_never_up = value == "-1";
            }
            "master_last_io_seconds_ago" => s.master_last_io_s = value.parse().ok(),
            "connected_slaves" => s.connected_slaves = value.parse().ok(),
            k if is_replica_key(k) => s.replicas.extend(parse_replica_link(value)),
            "cluster_enabled" => s.cluster_enabled = parse_flag01(value),
            "loading" => s.loading = parse_flag01(value),
            "aof_enabled" => s.aof_enabled = parse_flag01(value),
            "rdb_changes_since_last_save" => s.rdb_changes_since_last_save = value.parse().ok(),
            "rdb_last_save_time" => s.rdb_last_save_time = value.parse().ok(),
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

/// The `# Server` section of an `INFO` reply (servers send it first), for a reader that needs
/// only the server's name and version; the whole text when it does not start with that section.
#[must_use]
pub fn info_server_section(text: &str) -> &str {
    if !text.starts_with("# Server") {
        return text;
    }
    text.get(1..)
        .and_then(|rest| rest.find("\n#"))
        .and_then(|i| text.get(..=i + 1))
        .unwrap_or(text)
}

fn parse_flag01(v: &str) -> Option<bool> {
    match v {
        "1" | "yes" => Some(true),
        "0" | "no" => Some(false),
        _ => None,
    }
}

/// `slave` followed by digits (a master's replica lines).
fn is_replica_key(k: &str) -> bool {
    k.strip_prefix("slave")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// `ip=127.0.0.1,port=31003,state=online,offset=3555,lag=0`; `None` without an ip and port.
fn parse_replica_link(v: &str) -> Option<ReplicaLink> {
    let mut r = ReplicaLink::default();
    let mut port = None;
    for kv in v.split(',') {
        let Some((k, val)) = kv.split_once('=') else {
            continue;
        };
        match k {
            "ip" => val.clone_into(&mut r.ip),
            "port" => port = val.parse().ok(),
            "state" => val.clone_into(&mut r.state),
            "offset" => r.offset = val.parse().unwrap_or(0),
            "lag" => r.lag_s = val.parse().ok(),
            _ => {}
        }
    }
    r.port = port?;
    (!r.ip.is_empty()).then_some(r)
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

#[cfg(test)]
// `rstest` cases take one argument per column of their table; an allow on the case itself is lost
// in the macro's expansion.
#[allow(clippy::too_many_arguments)]
mod tests {
    use super::*;
    use crate::cluster::slots::SlotRange;
    use crate::cluster::types::{ClusterState, MarkerKind, NodeId};
    use proptest::prelude::*;

    #[test]
    fn the_server_section_of_info_is_its_first() {
        let info = "# Server\r\nredis_version:7.0.15\r\nvalkey_version:9.0.0\r\n\r\n\
                    # Replication\r\nrole:master\r\n";
        let server = info_server_section(info);
        assert_eq!(
            server,
            "# Server\r\nredis_version:7.0.15\r\nvalkey_version:9.0.0\r\n\r\n"
        );
        assert_eq!(parse_info(server).valkey_version.as_deref(), Some("9.0.0"));
        assert_eq!(parse_info(server).role, None);
        // Only a server section: all of it. Not first: the whole reply, never a wrong part.
        assert_eq!(info_server_section("# Server\nx:1\n"), "# Server\nx:1\n");
        let odd = "# Replication\nrole:master\n# Server\nredis_version:7.2.4\n";
        assert_eq!(info_server_section(odd), odd);
    }
    use rstest::rstest;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/",
                $name
            ))
        };
    }

    const A: &str = "d756d11319b867dd3bbb9ad9da006a1933db47bc";
    const B: &str = "0b596eb3fc5fc3d613ab4aa15de855b7628f005d";
    const C: &str = "0a63eccdde112d339111f24cef3020a0432998fe";

    fn id(s: &str) -> NodeId {
        NodeId::from(s)
    }

    /// (fixture text, lines, myself id prefix, slots claimed by myself, markers on myself)
    #[rstest]
    #[case::healthy_master(fixture!("healthy_nodes_31000.txt"), 6, "d756d113", 5461, 0)]
    #[case::healthy_replica(fixture!("healthy_nodes_31003.txt"), 6, "239f1fdb", 0, 0)]
    #[case::hostnames(fixture!("hostnames_nodes_31001.txt"), 6, "0b596eb3", 5462, 0)]
    #[case::open_a(fixture!("open_slots_nodes_31000.txt"), 6, "d756d113", 5461, 2)]
    #[case::open_b(fixture!("open_slots_nodes_31001.txt"), 6, "0b596eb3", 5462, 1)]
    #[case::open_c(fixture!("open_slots_nodes_31002.txt"), 6, "0a63eccd", 5461, 1)]
    #[case::replica_marker(fixture!("replica_marker_nodes_31003.txt"), 6, "239f1fdb", 0, 1)]
    #[case::handshake(fixture!("handshake_nodes_31000.txt"), 7, "d756d113", 5461, 2)]
    #[case::pfail(fixture!("pfail_nodes_31000.txt"), 6, "d756d113", 5461, 2)]
    #[case::failover(fixture!("failover_nodes_31000.txt"), 6, "d756d113", 5461, 2)]
    #[case::failover_new_master(fixture!("failover_nodes_31005.txt"), 6, "3f3fd9e9", 5461, 0)]
    #[case::master_down(fixture!("master_down_nodes_31000.txt"), 6, "d756d113", 5461, 2)]
    #[case::master_down_replica(fixture!("master_down_nodes_31003.txt"), 6, "239f1fdb", 0, 1)]
    #[case::isolated(fixture!("isolated_nodes_31001.txt"), 1, "613d8165", 0, 0)]
    #[case::noaddr(fixture!("noaddr_nodes_31000.txt"), 6, "d756d113", 5461, 2)]
    #[case::delslots_self(fixture!("delslots_nodes_31005.txt"), 6, "3f3fd9e9", 5077, 0)]
    #[case::delslots_peer(fixture!("delslots_nodes_31000.txt"), 6, "d756d113", 5461, 2)]
    fn parses_captured_cluster_nodes(
        #[case] text: &str,
        #[case] lines: usize,
        #[case] myself: &str,
        #[case] slots: usize,
        #[case] markers: usize,
    ) {
        let nodes = parse_cluster_nodes(text).unwrap();
        assert_eq!(nodes.len(), lines);
        let me = nodes.myself().unwrap();
        assert!(me.id.0.starts_with(myself), "{}", me.id);
        assert_eq!(me.slot_count(), slots);
        assert_eq!(me.markers.len(), markers);
        assert_eq!(nodes.lines().filter(|l| l.flags.myself).count(), 1);
        // Markers only ever on the myself line.
        assert!(
            nodes
                .lines()
                .filter(|l| !l.flags.myself)
                .all(|l| l.markers.is_empty())
        );
    }

    #[test]
    fn healthy_lines_have_all_fields() {
        let nodes = parse_cluster_nodes(fixture!("healthy_nodes_31000.txt")).unwrap();
        let a = nodes.get(&id(A)).unwrap();
        assert!(a.flags.myself && a.flags.master && !a.flags.replica);
        assert_eq!(a.addr.ip, "127.0.0.1");
        assert_eq!((a.addr.port, a.addr.cport), (31000, 41000));
        assert_eq!(a.addr.hostname, None);
        assert_eq!(a.master_id, None);
        assert_eq!(a.config_epoch, 1);
        assert!(a.link_connected);
        assert_eq!(a.slots, vec![SlotRange::new(0, 5460)]);
        let replica = &nodes.to_lines()[0];
        assert!(replica.flags.replica && !replica.flags.master);
        assert_eq!(replica.master_id, Some(id(A)));
        assert_eq!(replica.pong_recv_ms, 1_795_605_242_042);
        assert!(replica.slots.is_empty());
    }

    #[test]
    fn markers_and_hostnames() {
        let a = parse_cluster_nodes(fixture!("open_slots_nodes_31000.txt")).unwrap();
        let me = a.myself().unwrap();
        assert_eq!(
            me.markers,
            vec![
                OpenMarker {
                    slot: 100,
                    kind: MarkerKind::Migrating,
                    peer: id(B)
                },
                OpenMarker {
                    slot: 200,
                    kind: MarkerKind::Migrating,
                    peer: id(C)
                },
            ]
        );
        let b = parse_cluster_nodes(fixture!("open_slots_nodes_31001.txt")).unwrap();
        let me = b.myself().unwrap();
        assert_eq!(
            me.markers,
            vec![OpenMarker {
                slot: 100,
                kind: MarkerKind::Importing,
                peer: id(A)
            }]
        );
        let h = parse_cluster_nodes(fixture!("hostnames_nodes_31001.txt")).unwrap();
        assert!(h.lines().all(|l| l.addr.hostname.as_deref()
            == Some(format!("node-{}.example.test", l.addr.port).as_str())));
    }

    #[test]
    fn failure_flags_handshake_and_noaddr() {
        let p = parse_cluster_nodes(fixture!("pfail_nodes_31000.txt")).unwrap();
        let c = p.get(&id(C)).unwrap();
        assert!(c.flags.pfail && !c.flags.fail && c.flags.master);
        assert!(c.ping_sent_ms > 0);
        let d = parse_cluster_nodes(fixture!("master_down_nodes_31000.txt")).unwrap();
        let b = d.get(&id(B)).unwrap();
        assert!(b.flags.fail && !b.flags.pfail && !b.link_connected);
        assert_eq!(b.slots, vec![SlotRange::new(5461, 10922)]);
        let h = parse_cluster_nodes(fixture!("handshake_nodes_31000.txt")).unwrap();
        let hs = h.lines().find(|l| l.flags.handshake).unwrap();
        assert_eq!(
            (hs.addr.port, hs.pong_recv_ms, hs.config_epoch),
            (31009, 0, 0)
        );
        assert!(!hs.flags.master && !hs.flags.replica);
        let n = parse_cluster_nodes(fixture!("noaddr_nodes_31000.txt")).unwrap();
        let b = n.get(&id(B)).unwrap();
        assert!(b.flags.noaddr && b.flags.fail && b.addr.is_unknown());
        assert_eq!((b.addr.ip.as_str(), b.addr.port, b.addr.cport), ("", 0, 0));
        assert_eq!(b.addr.endpoint(), None);
    }

    /// (address token, ip, port, cport, hostname)
    #[rstest]
    #[case("127.0.0.1:7000@17000", "127.0.0.1", 7000, 17000, None)]
    #[case("::1:7000@17000", "::1", 7000, 17000, None)]
    #[case("[::1]:7000@17000", "::1", 7000, 17000, None)]
    #[case("fe80::1:2:6379@16379,db-1", "fe80::1:2", 6379, 16379, Some("db-1"))]
    #[case(":0@0", "", 0, 0, None)]
    #[case(
        "10.0.0.1:6379@16379,redis-0.svc",
        "10.0.0.1",
        6379,
        16379,
        Some("redis-0.svc")
    )]
    #[case("10.0.0.1:6379@16379,", "10.0.0.1", 6379, 16379, None)]
    #[case("10.0.0.1:6379@16379,,shard-id=abc", "10.0.0.1", 6379, 16379, None)]
    #[case(
        "10.0.0.1:6379@16379,h1,shard-id=abc",
        "10.0.0.1",
        6379,
        16379,
        Some("h1")
    )]
    #[case("10.0.0.1:6379", "10.0.0.1", 6379, 0, None)]
    fn addresses_parse_from_the_right(
        #[case] tok: &str,
        #[case] ip: &str,
        #[case] port: u16,
        #[case] cport: u16,
        #[case] hostname: Option<&str>,
    ) {
        let a = parse_addr(tok).unwrap();
        assert_eq!(a.ip, ip);
        assert_eq!(a.port, port);
        assert_eq!(a.cport, cport);
        assert_eq!(a.hostname.as_deref(), hostname);
    }

    #[rstest]
    #[case("noflags", NodeFlags::default())]
    #[case("myself,master", NodeFlags { myself: true, master: true, ..NodeFlags::default() })]
    #[case("replica,nofailover", NodeFlags { replica: true, nofailover: true, ..NodeFlags::default() })]
    #[case("slave,fail?,somethingnew", NodeFlags { replica: true, pfail: true, ..NodeFlags::default() })]
    #[case("master,fail,noaddr,handshake", NodeFlags { master: true, fail: true, noaddr: true, handshake: true, ..NodeFlags::default() })]
    fn flags(#[case] tok: &str, #[case] want: NodeFlags) {
        assert_eq!(parse_flags(tok), want);
    }

    const GOOD: &str = "d756d11319b867dd3bbb9ad9da006a1933db47bc 127.0.0.1:31000@41000 myself,master - 0 1795605242000 1 connected 0-5460 7000 [100->-0b596eb3fc5fc3d613ab4aa15de855b7628f005d] [16383-<-0a63eccdde112d339111f24cef3020a0432998fe]";

    #[test]
    fn slot_tokens_and_markers() {
        let l = parse_node_line(GOOD).unwrap();
        assert_eq!(
            l.slots,
            vec![SlotRange::new(0, 5460), SlotRange::single(7000)]
        );
        assert_eq!(
            l.markers[1],
            OpenMarker {
                slot: 16383,
                kind: MarkerKind::Importing,
                peer: id(C)
            }
        );
        assert_eq!(l.slot_count(), 5462);
    }

    /// Each case replaces GOOD's token at the index by garbage and must be rejected.
    #[rstest]
    #[case::bad_id(0, "zz!z")]
    #[case::no_port(1, "127.0.0.1@41000")]
    #[case::bad_port(1, "127.0.0.1:99999@41000")]
    #[case::bad_cport(1, "127.0.0.1:7000@x")]
    #[case::bad_master(3, "not-an-id!")]
    #[case::bad_ping(4, "-1")]
    #[case::bad_pong(5, "12a")]
    #[case::bad_epoch(6, "one")]
    #[case::bad_link(7, "half-connected")]
    #[case::slot_too_big(8, "16384")]
    #[case::range_too_big(8, "0-16384")]
    #[case::range_reversed(8, "5460-0")]
    #[case::range_open(8, "5-")]
    #[case::slot_not_number(8, "abc")]
    #[case::signed_slot(8, "+5")]
    #[case::marker_unclosed(10, "[100->-abc")]
    #[case::marker_bad_arrow(10, "[100-->-abc]")]
    #[case::marker_bad_slot(10, "[99999->-abc]")]
    #[case::marker_no_peer(10, "[100->-]")]
    fn rejects_garbage(#[case] field: usize, #[case] replacement: &str) {
        let mut toks: Vec<&str> = GOOD.split(' ').collect();
        toks[field] = replacement;
        let line = toks.join(" ");
        let e = parse_node_line(&line).unwrap_err();
        assert!(!e.message.is_empty());
    }

    #[test]
    fn rejects_short_lines_with_line_number() {
        let text = format!("{GOOD}\n\nabc 127.0.0.1:1@2 master -\n");
        let e = parse_cluster_nodes(&text).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("missing field"), "{e}");
        assert!(e.to_string().starts_with("line 3: "));
    }

    #[test]
    fn tolerates_crlf_blank_lines_and_trailing_spaces() {
        let raw = fixture!("healthy_nodes_31000.txt");
        let messy = format!("\r\n{}\r\n\r\n   \n", raw.replace('\n', "  \r\n"));
        assert_eq!(
            parse_cluster_nodes(&messy).unwrap(),
            parse_cluster_nodes(raw).unwrap()
        );
        assert!(parse_cluster_nodes("").unwrap().is_empty());
    }

    #[rstest]
    #[case::healthy(fixture!("healthy_cluster_info.txt"), ClusterState::Ok, 16384, 16384, 6, 3, 6, 1)]
    #[case::failover(fixture!("failover_cluster_info_31005.txt"), ClusterState::Ok, 16384, 16384, 6, 3, 7, 7)]
    #[case::master_down(fixture!("master_down_cluster_info_31000.txt"), ClusterState::Fail, 16384, 10922, 6, 3, 7, 1)]
    #[case::isolated(fixture!("isolated_cluster_info_31001.txt"), ClusterState::Fail, 0, 0, 1, 0, 0, 0)]
    fn parses_captured_cluster_info(
        #[case] text: &str,
        #[case] state: ClusterState,
        #[case] assigned: u32,
        #[case] ok: u32,
        #[case] known: u32,
        #[case] size: u32,
        #[case] current_epoch: u64,
        #[case] my_epoch: u64,
    ) {
        let i = parse_cluster_info(text).unwrap();
        assert_eq!(i.state, state);
        assert_eq!((i.slots_assigned, i.slots_ok), (assigned, ok));
        assert_eq!((i.known_nodes, i.size), (known, size));
        assert_eq!((i.current_epoch, i.my_epoch), (current_epoch, my_epoch));
        assert!(i.other.contains_key("cluster_stats_messages_sent"));
    }

    #[test]
    fn cluster_info_errors_and_unknown_keys() {
        assert_eq!(
            parse_cluster_info("cluster_size:3\r\n").unwrap_err().line,
            0
        );
        let e = parse_cluster_info("cluster_state:ok\r\ncluster_size:three\r\n").unwrap_err();
        assert_eq!(e.line, 2);
        let i = parse_cluster_info("cluster_state:weird\r\ncluster_new_thing:1\r\n").unwrap();
        assert_eq!(i.state, ClusterState::Other("weird".into()));
        assert_eq!(
            i.other.get("cluster_new_thing").map(String::as_str),
            Some("1")
        );
    }

    #[test]
    fn info_master_and_replica() {
        let m = parse_info(fixture!("healthy_info_master.txt"));
        assert_eq!(m.redis_version.as_deref(), Some("7.0.15"));
        assert_eq!(m.valkey_version, None);
        assert_eq!(m.role.as_deref(), Some("master"));
        assert_eq!(m.connected_slaves, Some(1));
        assert_eq!(m.used_memory, Some(1_966_824));
        assert_eq!(m.maxmemory, Some(0));
        assert_eq!(m.ops_per_sec, Some(1));
        assert_eq!(m.keys, Some(100));
        assert_eq!(m.keys_other_dbs, 0);
        assert_eq!(m.cluster_enabled, Some(true));
        assert_eq!(m.loading, Some(false));
        assert!(m.uptime_s.is_some() && m.connected_clients.is_some());
        let r = parse_info(fixture!("healthy_info_replica.txt"));
        assert_eq!(r.role.as_deref(), Some("slave"));
        assert_eq!(r.master_host.as_deref(), Some("127.0.0.1"));
        assert_eq!(r.master_port, Some(31000));
        assert_eq!(r.master_link_status.as_deref(), Some("up"));
        assert_eq!(r.slave_repl_offset, Some(3555));
        assert_eq!(r.master_repl_offset, Some(3555));
        assert_eq!(r.master_sync_in_progress, Some(false));
        assert_eq!(r.master_link_down_since_s, None);
        assert_eq!(r.master_last_io_s, Some(2));
        assert!(r.replicas.is_empty());
        assert_eq!(
            m.replicas,
            vec![ReplicaLink {
                ip: "127.0.0.1".into(),
                port: 31003,
                state: "online".into(),
                offset: 3555,
                lag_s: Some(0),
            }]
        );
        // A line without a port is skipped, not guessed.
        let odd = parse_info("slave0:ip=10.0.0.1,state=online\r\nslave1:garbage\r\n");
        assert!(odd.replicas.is_empty());
    }

    #[test]
    fn info_valkey_and_other_dbs() {
        let v = parse_info(fixture!("valkey_info.txt"));
        assert_eq!(v.valkey_version.as_deref(), Some("8.0.1"));
        assert_eq!(v.redis_version.as_deref(), Some("7.2.4"));
        assert_eq!(v.keys, Some(12));
        assert_eq!(v.keys_other_dbs, 7);
        assert_eq!(v.uptime_s, Some(42));
        assert_eq!(v.ops_per_sec, Some(17));
        // A keyspace section without db0 means 0 keys; no keyspace section means unknown.
        assert_eq!(parse_info("# Keyspace\r\n").keys, Some(0));
        assert_eq!(parse_info("# Server\r\nredis_version:7.0.0\r\n").keys, None);
        assert_eq!(parse_info("garbage\n:::\nrole\n").role, None);
    }

    #[test]
    fn server_identity_names_the_server_and_its_own_version() {
        let v = parse_info(fixture!("valkey8_info_21611.txt"));
        assert_eq!(v.server_name.as_deref(), Some("valkey"));
        assert_eq!(v.identity().as_deref(), Some("valkey 8.1.8"));
        assert_eq!(
            (v.server_binary(), v.cli()),
            ("valkey-server", "valkey-cli")
        );
        let r = parse_info(fixture!("healthy_info_master.txt"));
        assert_eq!(r.identity().as_deref(), Some("redis 7.0.15"));
        assert_eq!((r.server_binary(), r.cli()), ("redis-server", "redis-cli"));
        // Valkey 7.2 sends server_name but no valkey_version.
        let old = parse_info("# Server\r\nredis_version:7.2.5\r\nserver_name:valkey\r\n");
        assert_eq!(old.identity().as_deref(), Some("valkey 7.2.5"));
        assert_eq!(ServerInfo::default().identity(), None);
    }

    fn mutate(base: &str, ops: &[(usize, u8, char)]) -> String {
        let mut s: Vec<char> = base.chars().collect();
        for &(pos, op, c) in ops {
            if s.is_empty() {
                s.push(c);
                continue;
            }
            let i = pos % s.len();
            match op % 3 {
                0 => s[i] = c,
                1 => s.insert(i, c),
                _ => {
                    s.remove(i);
                }
            }
        }
        s.into_iter().collect()
    }

    proptest! {
        #![proptest_config(crate::cluster::proptest_config(256, "tests/proptest-regressions/cluster-parse.txt"))]
        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let _ = parse_cluster_nodes(&s);
            let _ = parse_node_line(&s);
            let _ = parse_cluster_info(&s);
            let _ = parse_info(&s);
        }

        #[test]
        fn mutated_valid_lines_never_panic(
            ops in proptest::collection::vec((any::<usize>(), any::<u8>(),
                prop::sample::select(vec!['0', '9', '-', '>', '<', '[', ']', ':', '@', ',', ' ', '\n', 'é', 'a', '?'])), 1..8),
            which in 0usize..3,
        ) {
            let base = [GOOD, fixture!("noaddr_nodes_31000.txt"), fixture!("healthy_cluster_info.txt")][which];
            let text = mutate(base, &ops);
            if let Ok(nodes) = parse_cluster_nodes(&text) {
                for l in nodes.lines() {
                    prop_assert!(l.slots.iter().all(|r| r.start <= r.end && usize::from(r.end) < SLOT_COUNT));
                }
            }
            let _ = parse_cluster_info(&text);
            let _ = parse_info(&text);
        }

        #[test]
        fn generated_lines_round_trip(
            ranges in proptest::collection::vec((0u16..16384, 0u16..200), 0..6),
            epoch in any::<u64>(),
            port in 1u16..,
            replica in any::<bool>(),
        ) {
            let slots: Vec<String> = ranges.iter().map(|&(s, w)| {
                let e = s.saturating_add(w).min(16383);
                if e == s { s.to_string() } else { format!("{s}-{e}") }
            }).collect();
            let (flags, master) = if replica { ("slave", B) } else { ("master", "-") };
            let line = format!("{A} 10.1.2.3:{port}@1{} {flags} {master} 0 7 {epoch} connected {}", port % 10000, slots.join(" "));
            let l = parse_node_line(&line).unwrap();
            prop_assert_eq!(l.config_epoch, epoch);
            prop_assert_eq!(l.addr.port, port);
            prop_assert_eq!(l.slots.len(), slots.len());
            prop_assert_eq!(l.flags.replica, replica);
            prop_assert_eq!(l.master_id.is_some(), replica);
        }
    }
}
