//! The served slots' key counts of a census from one `CLUSTER SLOT-STATS` (Valkey 8+, Redis
//! 8.2+) instead of one `CLUSTER COUNTKEYSINSLOT` per slot.
//!
//! `CLUSTER SLOT-STATS SLOTSRANGE 0 16383` answers a `key-count` for every slot the node
//! serves: the same number `COUNTKEYSINSLOT` gives. It goes in the census's one pipeline
//! between the two `DBSIZE`s, with a `COUNTKEYSINSLOT` for each importing slot, so the
//! counts are exactly as precise as the per-slot ones. Any doubt (an error reply, a served slot
//! missing from the answer, an answer that does not parse) falls back to the per-slot counts.

use std::collections::BTreeMap;

use crate::cluster::access::Access;
use crate::cluster::slot_stats::parse;
use crate::cluster::slots::Slot;
use crate::cluster::types::{Endpoint, ServerInfo};

use super::census::{count_cmd, pipeline_chunks};
use super::conn::{self, Connector};

const COMMAND: [&str; 5] = ["CLUSTER", "SLOT-STATS", "SLOTSRANGE", "0", "16383"];

/// Whether the server has `CLUSTER SLOT-STATS` with a key count (Valkey 8.0+, Redis 8.2+)
/// and has not refused it.
#[must_use]
pub fn usable(info: &ServerInfo, access: &Access) -> bool {
    if access.refuses("cluster|slot-stats") {
        return false;
    }
    let Some(v) = info.version() else {
        return false;
    };
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if info.is_valkey() {
        major >= 8
    } else {
        (major, minor) >= (8, 2)
    }
}

/// `DBSIZE`, `CLUSTER SLOT-STATS`, `COUNTKEYSINSLOT` per importing slot, `DBSIZE`, in one
/// pipeline: (keys, non-zero counts of the expected slots, whether they add up with no write
/// in between), as the per-slot count gives them; `None` when the answer leaves any doubt.
pub async fn count_owned(
    connector: &Connector,
    ep: &Endpoint,
    expected: &[bool],
    importing: &[Slot],
) -> Option<(u64, BTreeMap<Slot, u64>, bool)> {
    let dbsize = vec!["DBSIZE".to_owned()];
    let mut cmds = vec![dbsize.clone(), COMMAND.map(str::to_owned).to_vec()];
    cmds.extend(importing.iter().map(|s| count_cmd(*s)));
    cmds.push(dbsize);
    let values = pipeline_chunks(connector, ep, &cmds)
        .await
        .inspect_err(|e| tracing::debug!(endpoint = %ep, error = %e, "census by SLOT-STATS failed"))
        .ok()?;
    let int = |v: &redis::Value| -> Option<u64> {
        if conn::value_error(v).is_some() {
            return None;
        }
        conn::value_int(v)
            .ok()
            .map(|n| u64::try_from(n).unwrap_or(0))
    };
    let (first, rest) = values.split_first()?;
    let (last, middle) = rest.split_last()?;
    let (stats, imported) = middle.split_first()?;
    let (before, after) = (int(first)?, int(last)?);
    if conn::value_error(stats).is_some() {
        return None;
    }
    let reported = parse(&super::slot_stats::reply(stats)).ok()?;
    let mut counts: BTreeMap<Slot, u64> = BTreeMap::new();
    let mut seen = vec![false; expected.len()];
    for s in reported {
        let i = usize::from(s.slot);
        if expected.get(i).copied().unwrap_or(false) {
            counts.insert(s.slot, s.keys?);
            if let Some(x) = seen.get_mut(i) {
                *x = true;
            }
        }
    }
    for (slot, v) in importing.iter().zip(imported) {
        counts.insert(*slot, int(v)?);
        if let Some(x) = seen.get_mut(usize::from(*slot)) {
            *x = true;
        }
    }
    if expected.iter().zip(&seen).any(|(e, s)| *e && !*s) {
        return None;
    }
    counts.retain(|_, n| *n > 0);
    let owned: u64 = counts.values().sum();
    Some((after, counts, before == after && owned == after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(server: &str, version: &str) -> ServerInfo {
        let mut i = ServerInfo {
            redis_version: Some(version.into()),
            ..ServerInfo::default()
        };
        if server == "valkey" {
            i.valkey_version = Some(version.into());
            i.server_name = Some("valkey".into());
        }
        i
    }

    #[test]
    fn slot_stats_only_where_the_server_has_it() {
        let a = Access::default();
        assert!(usable(&info("valkey", "8.1.8"), &a));
        assert!(usable(&info("valkey", "9.1.2"), &a));
        assert!(usable(&info("redis", "8.2.3"), &a));
        assert!(!usable(&info("redis", "8.0.1"), &a));
        assert!(!usable(&info("redis", "7.0.15"), &a));
        assert!(!usable(&info("valkey", "7.2.5"), &a));
        assert!(!usable(&ServerInfo::default(), &a));
    }
}
