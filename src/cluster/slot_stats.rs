//! Per-slot statistics from `CLUSTER SLOT-STATS` (Valkey 8+, Redis 8.2+): keys, CPU time and
//! network bytes per slot, for hot-slot triage. Pure: [`parse`] reads a reply given as a
//! [`Reply`] tree (the network edge converts its client's values), [`ClusterSlotStats::of`]
//! joins every master's answer into one table of 16384 slots, or says why it cannot.
//!
//! `CLUSTER SLOT-STATS SLOTSRANGE 0 16383` answers for the slots the node owns only, one
//! entry per slot: `[slot, [key-count, n, cpu-usec, n, network-bytes-in, n,
//! network-bytes-out, n]]` (a map in RESP3). `cpu-usec` and the network counters are there
//! only with `cluster-slot-stats-enabled yes`; they count from when that was enabled (or the
//! last `CONFIG RESETSTAT`). A server without the command answers `ERR unknown subcommand
//! 'SLOT-STATS'`.

use serde::{Deserialize, Serialize};

use super::model::{ClusterModel, Reachability, Role};
use super::slots::{SLOT_COUNT, Slot};

/// A reply value, as much of RESP as a `CLUSTER SLOT-STATS` reply uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Int(i64),
    Text(String),
    List(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
}

/// One slot's statistics; a metric the server did not send is `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotStat {
    pub slot: Slot,
    pub keys: Option<u64>,
    pub cpu_usec: Option<u64>,
    pub net_in: Option<u64>,
    pub net_out: Option<u64>,
}

impl SlotStat {
    /// Network bytes in and out, when both were sent.
    #[must_use]
    pub fn net_bytes(&self) -> Option<u64> {
        Some(self.net_in?.saturating_add(self.net_out?))
    }
}

/// One node's answer and when it was fetched.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSlotStats {
    /// Unix ms of the fetch.
    pub at_ms: u64,
    /// One entry per slot the node answered for, by slot.
    pub slots: Vec<SlotStat>,
}

impl NodeSlotStats {
    /// True when the CPU and network metrics were sent (`cluster-slot-stats-enabled yes`).
    #[must_use]
    pub fn has_usage(&self) -> bool {
        self.slots
            .first()
            .is_some_and(|s| s.cpu_usec.is_some() && s.net_in.is_some())
    }
}

fn int(r: &Reply) -> Option<i64> {
    match r {
        Reply::Int(n) => Some(*n),
        Reply::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn text(r: &Reply) -> Option<&str> {
    match r {
        Reply::Text(t) => Some(t),
        _ => None,
    }
}

/// The `(name, value)` pairs of a metrics list or map.
fn metrics(r: &Reply) -> Result<Vec<(&str, u64)>, String> {
    let pairs: Vec<(&Reply, &Reply)> = match r {
        Reply::List(items) => {
            if items.len() % 2 != 0 {
                return Err("odd number of metric fields".into());
            }
            items.chunks(2).map(|p| (&p[0], &p[1])).collect()
        }
        Reply::Map(items) => items.iter().map(|(k, v)| (k, v)).collect(),
        other => return Err(format!("metrics are not a list: {other:?}")),
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            let name = text(k).ok_or_else(|| format!("metric name {k:?}"))?;
            let n = int(v).ok_or_else(|| format!("metric {name} = {v:?}"))?;
            Ok((name, u64::try_from(n).unwrap_or(0)))
        })
        .collect()
}

/// Parse a `CLUSTER SLOT-STATS` reply (RESP2 list of `[slot, metrics]`, or a RESP3 map of
/// slot → metrics). Unknown metrics are ignored; entries come back sorted by slot.
///
/// # Errors
/// A reply of another shape, a slot out of range.
pub fn parse(reply: &Reply) -> Result<Vec<SlotStat>, String> {
    let entries: Vec<(&Reply, &Reply)> = match reply {
        Reply::List(items) => items
            .iter()
            .map(|e| match e {
                Reply::List(p) if p.len() == 2 => Ok((&p[0], &p[1])),
                other => Err(format!("entry is not [slot, metrics]: {other:?}")),
            })
            .collect::<Result<_, String>>()?,
        Reply::Map(items) => items.iter().map(|(k, v)| (k, v)).collect(),
        other => return Err(format!("CLUSTER SLOT-STATS: unexpected reply {other:?}")),
    };
    let mut out = Vec::with_capacity(entries.len());
    for (slot, m) in entries {
        let slot = int(slot)
            .and_then(|s| Slot::try_from(s).ok())
            .filter(|&s| usize::from(s) < SLOT_COUNT)
            .ok_or_else(|| format!("slot {slot:?}"))?;
        let mut stat = SlotStat {
            slot,
            ..SlotStat::default()
        };
        for (name, n) in metrics(m)? {
            match name {
                "key-count" => stat.keys = Some(n),
                "cpu-usec" => stat.cpu_usec = Some(n),
                "network-bytes-in" => stat.net_in = Some(n),
                "network-bytes-out" => stat.net_out = Some(n),
                _ => {}
            }
        }
        out.push(stat);
    }
    out.sort_by_key(|s| s.slot);
    Ok(out)
}

/// A per-slot metric the heatmap can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Keys,
    Cpu,
    Net,
}

/// Every slot's value of one metric, joined from the masters' answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSlotStats {
    /// One value per slot (`None`: no master answered for it).
    pub values: Vec<Option<u64>>,
    /// The greatest value.
    pub max: u64,
}

impl ClusterSlotStats {
    /// The table of `metric`, when every answering master with slots sent its statistics
    /// (with the CPU and network metrics for those); else why not, in words for the heatmap.
    ///
    /// # Errors
    /// The reason the metric is unavailable.
    pub fn of(model: &ClusterModel, metric: Metric) -> Result<Self, String> {
        let masters: Vec<_> = model
            .nodes
            .iter()
            .filter(|n| n.role == Role::Master && !n.claimed_slots.is_empty())
            .filter(|n| matches!(n.reachability, Reachability::Ok))
            .collect();
        if masters.is_empty() {
            return Err("no master answered".into());
        }
        // A server whose version has no SLOT-STATS is not asked (`refresh::slot_stats`).
        if let Some(n) = masters.iter().find(|n| {
            n.access.refuses("cluster|slot-stats")
                || n.info
                    .as_ref()
                    .and_then(super::types::ServerInfo::has_slot_stats)
                    == Some(false)
        }) {
            let server = n
                .info
                .as_ref()
                .and_then(super::types::ServerInfo::identity)
                .map_or_else(String::new, |s| format!(" ({s})"));
            return Err(format!(
                "per-slot stats need CLUSTER SLOT-STATS (Valkey 8+, Redis 8.2+): not on \
                 {}{server}",
                n.addr
            ));
        }
        let Some(all) = masters
            .iter()
            .map(|n| n.slot_stats.as_ref())
            .collect::<Option<Vec<_>>>()
        else {
            return Err("per-slot stats not fetched yet (every 30 s in the dashboard)".into());
        };
        if metric != Metric::Keys && all.iter().any(|s| !s.has_usage()) {
            return Err(
                "CPU and network per slot need cluster-slot-stats-enabled yes on every master"
                    .into(),
            );
        }
        let mut values = vec![None; SLOT_COUNT];
        for s in all.iter().flat_map(|n| n.slots.iter()) {
            let v = match metric {
                Metric::Keys => s.keys,
                Metric::Cpu => s.cpu_usec,
                Metric::Net => s.net_bytes(),
            };
            if let Some(slot) = values.get_mut(usize::from(s.slot)) {
                *slot = v;
            }
        }
        let max = values.iter().flatten().copied().max().unwrap_or(0);
        Ok(Self { values, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Reply {
        Reply::Text(s.into())
    }

    /// `CLUSTER SLOT-STATS SLOTSRANGE 12182 12183` on Valkey 8.1.8 / 9.1.2 and Redis 8.2.3 with
    /// `cluster-slot-stats-enabled yes` (RESP2).
    fn enabled() -> Reply {
        Reply::List(vec![
            Reply::List(vec![
                Reply::Int(12182),
                Reply::List(vec![
                    t("key-count"),
                    Reply::Int(1),
                    t("cpu-usec"),
                    Reply::Int(49),
                    t("network-bytes-in"),
                    Reply::Int(51),
                    t("network-bytes-out"),
                    Reply::Int(12),
                ]),
            ]),
            Reply::List(vec![
                Reply::Int(12183),
                Reply::List(vec![
                    t("key-count"),
                    Reply::Int(0),
                    t("cpu-usec"),
                    Reply::Int(0),
                    t("network-bytes-in"),
                    Reply::Int(0),
                    t("network-bytes-out"),
                    Reply::Int(0),
                ]),
            ]),
        ])
    }

    #[test]
    fn resp2_reply_with_usage() {
        let s = parse(&enabled()).unwrap();
        assert_eq!(
            s[0],
            SlotStat {
                slot: 12182,
                keys: Some(1),
                cpu_usec: Some(49),
                net_in: Some(51),
                net_out: Some(12),
            }
        );
        assert_eq!(s[0].net_bytes(), Some(63));
        let n = NodeSlotStats { at_ms: 1, slots: s };
        assert!(n.has_usage());
    }

    #[test]
    fn key_count_only_when_usage_is_off_and_resp3_maps() {
        // cluster-slot-stats-enabled no (the default): key-count alone.
        let off = Reply::Map(vec![(
            Reply::Int(7),
            Reply::Map(vec![(t("key-count"), Reply::Int(3))]),
        )]);
        let s = parse(&off).unwrap();
        assert_eq!(
            s,
            vec![SlotStat {
                slot: 7,
                keys: Some(3),
                ..SlotStat::default()
            }]
        );
        assert!(!NodeSlotStats { at_ms: 0, slots: s }.has_usage());
        assert_eq!(parse(&Reply::List(vec![])).unwrap(), vec![]);
    }

    #[test]
    fn bad_replies_are_errors() {
        assert!(parse(&Reply::Int(3)).is_err());
        assert!(parse(&Reply::List(vec![Reply::Int(1)])).is_err());
        let bad_slot = Reply::List(vec![Reply::List(vec![
            Reply::Int(16384),
            Reply::List(vec![]),
        ])]);
        assert!(parse(&bad_slot).is_err());
        let odd = Reply::List(vec![Reply::List(vec![
            Reply::Int(1),
            Reply::List(vec![t("key-count")]),
        ])]);
        assert!(parse(&odd).is_err());
    }
}
