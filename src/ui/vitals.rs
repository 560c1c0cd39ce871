//! A node's vitals from the INFO already fetched: memory against its limit, ops/sec, clients,
//! and for a replica its replication link and lag. Pure; the node table and the node detail
//! word them.

use crate::cluster::{ClusterModel, NodeSummary, ReplicaLink, Role, ServerInfo};

use super::text::human_bytes;

/// A replica's replication link as far as the INFO of it and of its master tell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicationView {
    /// `master_link_status` is `down`.
    pub link_down: bool,
    /// `master_link_down_since_seconds`, while the link is down.
    pub down_since_s: Option<u64>,
    /// A full sync from the master is under way (`master_sync_in_progress:1`).
    pub syncing: bool,
    /// Bytes the replica is behind: the master's offset minus the replica's.
    pub lag_bytes: Option<u64>,
    /// Seconds since the replica last acknowledged, as its master reports (`lag=`).
    pub lag_s: Option<u64>,
    /// Seconds since the replica last heard from its master.
    pub last_io_s: Option<u64>,
}

/// The replica's entry in its master's `slaveN:` lines, matched by address.
fn master_entry<'a>(
    model: &'a ClusterModel,
    n: &NodeSummary,
) -> (Option<&'a ServerInfo>, Option<&'a ReplicaLink>) {
    let master = n
        .master_id
        .as_ref()
        .and_then(|m| model.node(m))
        .and_then(|m| m.info.as_ref());
    let entry = master.and_then(|mi| {
        mi.replicas
            .iter()
            .find(|r| r.port == n.addr.port && r.ip == n.addr.ip)
    });
    (master, entry)
}

/// The replication view of a replica that answered INFO; `None` for masters and for nodes
/// without INFO.
#[must_use]
pub fn replication(model: &ClusterModel, n: &NodeSummary) -> Option<ReplicationView> {
    let info = n.info.as_ref()?;
    let is_replica = n.role == Role::Replica || info.role.as_deref() == Some("slave");
    if !is_replica {
        return None;
    }
    let (master, entry) = master_entry(model, n);
    let link_down = info.master_link_status.as_deref() == Some("down");
    let lag_bytes = match (
        master.and_then(|m| m.master_repl_offset),
        info.slave_repl_offset,
    ) {
        (Some(m), Some(r)) if !link_down => Some(m.saturating_sub(r).max(0).unsigned_abs()),
        _ => None,
    };
    Some(ReplicationView {
        link_down,
        down_since_s: info.master_link_down_since_s.filter(|_| link_down),
        syncing: info.master_sync_in_progress == Some(true),
        lag_bytes,
        lag_s: entry.and_then(|e| e.lag_s).filter(|_| !link_down),
        last_io_s: info.master_last_io_s,
    })
}

/// True when the node is a replica whose replication link is down: its data goes stale and
/// a failover to it loses the writes since. Shown as a problem, never as `ok`.
#[must_use]
pub fn replica_link_down(model: &ClusterModel, n: &NodeSummary) -> bool {
    replication(model, n).is_some_and(|r| r.link_down)
}

/// `1.9M/4.0G` (used / maxmemory), `1.9M` without a limit, `None` without INFO.
#[must_use]
pub fn memory_short(info: &ServerInfo) -> Option<String> {
    let used = info.used_memory?;
    Some(match info.maxmemory {
        Some(max) if max > 0 => format!("{}/{}", human_bytes(used), human_bytes(max)),
        _ => human_bytes(used),
    })
}

/// `1.9M of 4.0G (47%)`, or `1.9M (no maxmemory)`.
#[must_use]
pub fn memory_long(info: &ServerInfo) -> Option<String> {
    let used = info.used_memory?;
    Some(match info.maxmemory {
        Some(max) if max > 0 => format!(
            "{} of {} maxmemory ({}%)",
            human_bytes(used),
            human_bytes(max),
            used.saturating_mul(100) / max
        ),
        _ => format!("{} (no maxmemory limit)", human_bytes(used)),
    })
}

/// The replication cell of the node table: `down 35s`, `sync`, `12K 0s` (bytes and seconds
/// behind), `-` when nothing is known.
#[must_use]
pub fn replication_short(r: &ReplicationView) -> String {
    if r.link_down {
        return r
            .down_since_s
            .map_or_else(|| "down".to_owned(), |s| format!("down {s}s"));
    }
    if r.syncing {
        return "sync".to_owned();
    }
    match (r.lag_bytes, r.lag_s) {
        (Some(b), Some(s)) => format!("{} {s}s", human_bytes(b)),
        (Some(b), None) => human_bytes(b),
        (None, Some(s)) => format!("{s}s"),
        (None, None) => "-".to_owned(),
    }
}

/// The replication line of the node detail; `master` names the master (its address).
#[must_use]
pub fn replication_long(r: &ReplicationView, master: &str) -> String {
    let heard = r
        .last_io_s
        .map(|s| format!("; last heard from its master {s}s ago"))
        .unwrap_or_default();
    if r.link_down {
        let since = r
            .down_since_s
            .map(|s| format!(" for {s}s"))
            .unwrap_or_default();
        return format!(
            "link to its master {master} DOWN{since}: its data is going stale (a failover to \
             it loses the writes since){heard}"
        );
    }
    let sync = if r.syncing {
        ", full sync in progress"
    } else {
        ""
    };
    let bytes = r
        .lag_bytes
        .map_or_else(|| "? bytes".to_owned(), human_bytes);
    let secs = r.lag_s.map_or_else(|| "?".to_owned(), |s| s.to_string());
    format!("link to {master} up{sync}; behind by {bytes}, last ack {secs}s ago{heard}")
}

/// What a master's INFO says of its replicas: `127.0.0.1:7003 online lag 0s`, one per replica.
#[must_use]
pub fn replicas_of_master(info: &ServerInfo) -> Vec<String> {
    info.replicas
        .iter()
        .map(|r| {
            let behind = info
                .master_repl_offset
                .map(|m| {
                    format!(
                        ", {} behind",
                        human_bytes(m.saturating_sub(r.offset).max(0).unsigned_abs())
                    )
                })
                .unwrap_or_default();
            let lag = r.lag_s.map(|s| format!(" lag {s}s")).unwrap_or_default();
            format!("{}:{} {}{lag}{behind}", r.ip, r.port, r.state)
        })
        .collect()
}
