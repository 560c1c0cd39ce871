//! Synthetic snapshots for tests, benches and UI work: turn captured or hand-written
//! `CLUSTER NODES` texts into a [`ClusterSnapshot`], or generate a consistent N-node cluster.
//!
//! Everything here is deterministic (no clock, no randomness) so that snapshots built from it
//! can be compared and rendered reproducibly.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::parse::parse_cluster_nodes;
use super::slots::{SLOT_COUNT, Slot, SlotRange};
use super::types::{
    ClusterInfo, ClusterNodes, ClusterSnapshot, ClusterState, Endpoint, NodeAddr, NodeConfig,
    NodeFlags, NodeId, NodeLine, NodeObservation, NodeReport, ProbeError, ServerInfo,
};

/// Time stamp used by [`synthetic_cluster`] views (`observed_at_ms`, pongs).
pub const SYNTHETIC_NOW_MS: u64 = 1_700_000_000_000;

/// Parse `host:port` or `[v6]:port` (also a bare IPv6 `::1:7000`, split at the last `:`).
/// Unparsable text yields port 0 and the whole text as host.
#[must_use]
pub fn parse_endpoint(text: &str) -> Endpoint {
    let split = text
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)));
    match split {
        Some((host, port)) => {
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            Endpoint::new(host, port)
        }
        None => Endpoint::new(text, 0),
    }
}

/// A `CLUSTER INFO` consistent with one node's table, following the rules each server applies
/// to itself under the default `cluster-require-full-coverage yes`: `fail` if a slot is unbound
/// or bound to a `fail` node, or if fewer than a majority of slot-owning masters are free of
/// `fail?`/`fail`.
#[must_use]
pub fn cluster_info_for(nodes: &ClusterNodes) -> ClusterInfo {
    let mut assigned = 0u32;
    let mut ok = 0u32;
    let mut pfail = 0u32;
    let mut fail = 0u32;
    let mut size = 0u32;
    let mut healthy_owners = 0u32;
    for l in nodes.lines() {
        let n = u32::try_from(l.slot_count()).unwrap_or(u32::MAX);
        if n == 0 || !l.flags.master {
            continue;
        }
        size += 1;
        assigned = assigned.saturating_add(n);
        if l.flags.fail {
            fail = fail.saturating_add(n);
        } else if l.flags.pfail {
            pfail = pfail.saturating_add(n);
        } else {
            ok = ok.saturating_add(n);
            healthy_owners += 1;
        }
    }
    let full = usize::try_from(assigned).is_ok_and(|a| a >= SLOT_COUNT) && fail == 0;
    let majority = size > 0 && healthy_owners > size / 2;
    let me = nodes.myself();
    ClusterInfo {
        state: if full && majority {
            ClusterState::Ok
        } else {
            ClusterState::Fail
        },
        slots_assigned: assigned,
        slots_ok: ok,
        slots_pfail: pfail,
        slots_fail: fail,
        known_nodes: u32::try_from(nodes.len()).unwrap_or(u32::MAX),
        size,
        current_epoch: nodes.lines().map(|l| l.config_epoch).max().unwrap_or(0),
        my_epoch: me.map_or(0, |m| m.config_epoch),
        other: BTreeMap::new(),
    }
}

/// A plausible `INFO` for a node, from its own line.
fn server_info_for(me: Option<&NodeLine>) -> ServerInfo {
    let replica = me.is_some_and(|m| m.flags.replica);
    ServerInfo {
        redis_version: Some("7.0.15".into()),
        role: Some(if replica { "slave" } else { "master" }.into()),
        cluster_enabled: Some(true),
        loading: Some(false),
        keys: Some(0),
        master_link_status: replica.then(|| "up".into()),
        ..ServerInfo::default()
    }
}

fn report_for(nodes: ClusterNodes) -> NodeReport {
    NodeReport {
        cluster_info: Some(cluster_info_for(&nodes)),
        info: server_info_for(nodes.myself()),
        config: NodeConfig {
            require_full_coverage: Some(true),
            node_timeout_ms: Some(15_000),
            save: None,
            appendonly: None,
            error: None,
        },
        slot_keys: BTreeMap::new(),
        census: None,
        slot_migrations: None,
        access: crate::cluster::access::Access::default(),
        slot_stats: None,
        nodes,
    }
}

/// Build a snapshot from `(endpoint, CLUSTER NODES text or probe error)` pairs.
///
/// Each text is parsed (a parse failure becomes `ProbeError::Protocol`); `CLUSTER INFO` is
/// derived with [`cluster_info_for`], `INFO` is a plausible 7.0.15 one. Observations are
/// stamped with the newest `ping_sent`/`pong_recv` found in the texts (so pong ages come out
/// as they were at capture time), and sorted by endpoint like the refresher's.
#[must_use]
pub fn snapshot_from_texts(entries: &[(&str, Result<&str, ProbeError>)]) -> ClusterSnapshot {
    let parsed: Vec<(Endpoint, Result<ClusterNodes, ProbeError>)> = entries
        .iter()
        .map(|(ep, r)| {
            let nodes = match r {
                Ok(text) => parse_cluster_nodes(text)
                    .map_err(|e| ProbeError::Protocol(format!("CLUSTER NODES: {e}"))),
                Err(e) => Err(e.clone()),
            };
            (parse_endpoint(ep), nodes)
        })
        .collect();
    let now = parsed
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flat_map(ClusterNodes::lines)
        .map(|l| l.pong_recv_ms.max(l.ping_sent_ms))
        .max()
        .unwrap_or(SYNTHETIC_NOW_MS);
    let mut observations: Vec<NodeObservation> = parsed
        .into_iter()
        .map(|(endpoint, r)| NodeObservation {
            endpoint,
            observed_at_ms: now,
            rtt_us: r.is_ok().then_some(150),
            result: r.map(report_for),
        })
        .collect();
    observations.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    ClusterSnapshot {
        generation: 1,
        started_at_ms: now.saturating_sub(5),
        finished_at_ms: now,
        seeds: observations
            .first()
            .map(|o| o.endpoint.clone())
            .into_iter()
            .collect(),
        observations,
        progress: super::progress::Progress::default(),
    }
}

/// Record `COUNTKEYSINSLOT` results on the observation of `endpoint`. Returns false if there
/// is no successful observation for it.
pub fn set_slot_keys(
    snapshot: &mut ClusterSnapshot,
    endpoint: &str,
    counts: &[(Slot, u64)],
) -> bool {
    let ep = parse_endpoint(endpoint);
    let Some(report) = snapshot
        .observations
        .iter_mut()
        .find(|o| o.endpoint == ep)
        .and_then(|o| o.result.as_mut().ok())
    else {
        return false;
    };
    report.slot_keys.extend(counts.iter().copied());
    true
}

/// Deterministic 40-hex-char id of synthetic node `i`.
#[must_use]
pub fn synthetic_id(i: usize) -> NodeId {
    // splitmix64, twice, for 32 hex chars of spread plus the index for uniqueness.
    let mut x = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut mix = || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    NodeId::from(format!("{:016x}{:016x}{:08x}", mix(), mix(), i))
}

/// Endpoint of synthetic node `i`: 10.0.x.y:7000+…, one node per address.
#[must_use]
pub fn synthetic_endpoint(i: usize) -> Endpoint {
    let hi = (i / 250) % 250;
    let lo = i % 250 + 1;
    Endpoint::new(format!("10.0.{hi}.{lo}"), 6379)
}

/// The nodes table of a healthy synthetic cluster: `masters` masters sharing the 16384 slots
/// evenly, each with `replicas_per_master` replicas. Node `i < masters` is a master; replica
/// `r` of master `m` is node `masters + m * replicas_per_master + r`. No `myself` flag set.
#[must_use]
pub fn synthetic_lines(masters: usize, replicas_per_master: usize) -> Vec<NodeLine> {
    let masters = masters.clamp(1, SLOT_COUNT);
    let total = masters + masters * replicas_per_master;
    let mut out = Vec::with_capacity(total);
    for i in 0..total {
        let ep = synthetic_endpoint(i);
        let (flags, master_id, slots, epoch) = if i < masters {
            let start = i * SLOT_COUNT / masters;
            let end = (i + 1) * SLOT_COUNT / masters - 1;
            let r = SlotRange::new(
                Slot::try_from(start).unwrap_or(0),
                Slot::try_from(end).unwrap_or(0),
            );
            let f = NodeFlags {
                master: true,
                ..NodeFlags::default()
            };
            (f, None, vec![r], (i + 1) as u64)
        } else {
            let m = (i - masters) / replicas_per_master.max(1);
            let f = NodeFlags {
                replica: true,
                ..NodeFlags::default()
            };
            (f, Some(synthetic_id(m)), Vec::new(), (m + 1) as u64)
        };
        out.push(NodeLine {
            id: synthetic_id(i),
            addr: NodeAddr {
                ip: ep.host,
                port: ep.port,
                cport: ep.port + 10000,
                hostname: None,
            },
            flags,
            master_id,
            ping_sent_ms: 0,
            pong_recv_ms: SYNTHETIC_NOW_MS - 500,
            config_epoch: epoch,
            link_connected: true,
            slots,
            markers: Vec::new(),
        });
    }
    out
}

/// `CLUSTER NODES` text of a synthetic cluster as node `myself` sees it.
#[must_use]
pub fn synthetic_nodes_text(masters: usize, replicas_per_master: usize, myself: usize) -> String {
    let mut s = String::new();
    for (i, l) in synthetic_lines(masters, replicas_per_master)
        .iter()
        .enumerate()
    {
        let mut flags = Vec::new();
        if i == myself {
            flags.push("myself");
        }
        flags.push(if l.flags.master { "master" } else { "slave" });
        let master = l.master_id.as_ref().map_or("-", |m| m.as_str());
        let _ = write!(
            s,
            "{} {}:{}@{} {} {} {} {} {} connected",
            l.id,
            l.addr.ip,
            l.addr.port,
            l.addr.cport,
            flags.join(","),
            master,
            l.ping_sent_ms,
            if i == myself {
                SYNTHETIC_NOW_MS - 1000
            } else {
                l.pong_recv_ms
            },
            l.config_epoch
        );
        for r in &l.slots {
            let _ = write!(s, " {r}");
        }
        s.push('\n');
    }
    s
}

/// A snapshot of a healthy synthetic cluster in which every node answered and every view is
/// consistent (N views of N lines: the worst case for the model).
#[must_use]
pub fn synthetic_cluster(masters: usize, replicas_per_master: usize) -> ClusterSnapshot {
    let lines = synthetic_lines(masters, replicas_per_master);
    let observations = (0..lines.len())
        .map(|i| {
            let mut view = lines.clone();
            if let Some(me) = view.get_mut(i) {
                me.flags.myself = true;
            }
            NodeObservation {
                endpoint: synthetic_endpoint(i),
                observed_at_ms: SYNTHETIC_NOW_MS,
                rtt_us: Some(150),
                result: Ok(report_for(ClusterNodes::new(view))),
            }
        })
        .collect();
    finish(observations)
}

/// [`synthetic_cluster`] with each view folded as it is made, as the refresher folds what
/// it reads (see [`super::fold`]): never more than one full view at a time.
#[must_use]
pub fn synthetic_cluster_folded(masters: usize, replicas_per_master: usize) -> ClusterSnapshot {
    let lines = synthetic_lines(masters, replicas_per_master);
    let mut folder = super::fold::Folder::new();
    let observations = (0..lines.len())
        .map(|i| {
            let mut view = lines.clone();
            if let Some(me) = view.get_mut(i) {
                me.flags.myself = true;
            }
            let mut report = report_for(ClusterNodes::new(view));
            report.nodes = folder.fold(std::mem::take(&mut report.nodes));
            NodeObservation {
                endpoint: synthetic_endpoint(i),
                observed_at_ms: SYNTHETIC_NOW_MS,
                rtt_us: Some(150),
                result: Ok(report),
            }
        })
        .collect();
    folder.finish();
    finish(observations)
}

/// A snapshot of the same synthetic cluster where only node `reachable` answered and every
/// other probe failed with a refused connection: the model is built from one full view.
#[must_use]
pub fn synthetic_single_view(
    masters: usize,
    replicas_per_master: usize,
    reachable: usize,
) -> ClusterSnapshot {
    let mut lines = synthetic_lines(masters, replicas_per_master);
    let n = lines.len();
    if let Some(me) = lines.get_mut(reachable) {
        me.flags.myself = true;
    }
    let mut nodes = Some(ClusterNodes::new(lines));
    let observations = (0..n)
        .map(|i| NodeObservation {
            endpoint: synthetic_endpoint(i),
            observed_at_ms: SYNTHETIC_NOW_MS,
            rtt_us: (i == reachable).then_some(150),
            result: match nodes.take_if(|_| i == reachable) {
                Some(nodes) => Ok(report_for(nodes)),
                None => Err(ProbeError::ConnectFailed("Connection refused".into())),
            },
        })
        .collect();
    finish(observations)
}

/// A snapshot of the same healthy synthetic cluster seen through one seed only: node `seed`
/// answered with its full table and no other node was probed (they are known from the table
/// alone, as `slotscope check` sees a cluster from one seed before fanning out). This is the
/// "parse + model + diagnose one 1000-line `CLUSTER NODES`" case of the benchmarks.
#[must_use]
pub fn synthetic_seed_view(
    masters: usize,
    replicas_per_master: usize,
    seed: usize,
) -> ClusterSnapshot {
    let mut lines = synthetic_lines(masters, replicas_per_master);
    let seed = seed.min(lines.len().saturating_sub(1));
    if let Some(me) = lines.get_mut(seed) {
        me.flags.myself = true;
    }
    finish(vec![NodeObservation {
        endpoint: synthetic_endpoint(seed),
        observed_at_ms: SYNTHETIC_NOW_MS,
        rtt_us: Some(150),
        result: Ok(report_for(ClusterNodes::new(lines))),
    }])
}

fn finish(mut observations: Vec<NodeObservation>) -> ClusterSnapshot {
    observations.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    ClusterSnapshot {
        generation: 1,
        started_at_ms: SYNTHETIC_NOW_MS - 20,
        finished_at_ms: SYNTHETIC_NOW_MS,
        seeds: observations
            .first()
            .map(|o| o.endpoint.clone())
            .into_iter()
            .collect(),
        observations,
        progress: super::progress::Progress::default(),
    }
}
