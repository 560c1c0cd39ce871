//! Fetching `CLUSTER SLOT-STATS` ([`crate::cluster::slot_stats`]) from every answering master,
//! at the census cadence: only in refreshes that follow another (the dashboard; `check` and
//! `fix` never ask), and per master at most once per [`SLOT_STATS_PERIOD_MS`] (the previous
//! answer is carried meanwhile). One command per master; a server without the command refuses
//! it once and is not asked again for a while (see [`super::refusals`]).

use redis::Value;

use crate::cluster::slot_stats::{NodeSlotStats, Reply, parse};
use crate::cluster::types::{ClusterSnapshot, NodeObservation};

use super::conn::{CommandError, Connector};
use super::{now_ms, refusals};

/// How old a master's per-slot stats may get before they are fetched again.
pub const SLOT_STATS_PERIOD_MS: u64 = 30_000;

const COMMAND: [&str; 5] = ["CLUSTER", "SLOT-STATS", "SLOTSRANGE", "0", "16383"];

/// Fetch (or carry) the per-slot stats of every answering master with slots.
pub async fn fetch_slot_stats(
    connector: &Connector,
    observations: &mut [NodeObservation],
    previous: Option<&ClusterSnapshot>,
) {
    let Some(previous) = previous else {
        return;
    };
    let now = now_ms();
    let mut jobs = Vec::new();
    for (i, o) in observations.iter_mut().enumerate() {
        let ep = o.endpoint.clone();
        let Ok(report) = o.result.as_mut() else {
            continue;
        };
        let master = report
            .nodes
            .myself()
            .is_some_and(|me| me.flags.master && !me.slots.is_empty());
        // A server without the command (Redis before 8.2, Valkey before 8) is not asked.
        if !master || !super::census_stats::usable(&report.info, &report.access) {
            continue;
        }
        let carried = previous
            .observations
            .iter()
            .find(|p| p.endpoint == ep)
            .and_then(NodeObservation::report)
            .and_then(|r| r.slot_stats.clone())
            .filter(|s| now.saturating_sub(s.at_ms) < SLOT_STATS_PERIOD_MS);
        if carried.is_some() {
            report.slot_stats = carried;
        } else {
            jobs.push((i, ep));
        }
    }
    let results = super::gate::follow_ups(observations.len(), jobs, |(i, ep)| async move {
        (i, connector.command_strs(&ep, &COMMAND).await)
    })
    .await;
    for (i, r) in results {
        let Some(Ok(report)) = observations.get_mut(i).map(|o| o.result.as_mut()) else {
            continue;
        };
        match r.and_then(|v| parse(&reply(&v)).map_err(CommandError::Protocol)) {
            Ok(slots) => report.slot_stats = Some(NodeSlotStats { at_ms: now, slots }),
            Err(e) => {
                if !refusals::learn(&mut report.access, &COMMAND, &e, now) {
                    tracing::debug!(error = %e, "CLUSTER SLOT-STATS failed");
                }
            }
        }
    }
}

/// A client value as the pure parser's [`Reply`].
pub(super) fn reply(v: &Value) -> Reply {
    match v {
        Value::Int(n) => Reply::Int(*n),
        Value::BulkString(b) => Reply::Text(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) | Value::VerbatimString { text: s, .. } => Reply::Text(s.clone()),
        Value::Okay => Reply::Text("OK".into()),
        Value::Array(items) | Value::Set(items) => Reply::List(items.iter().map(reply).collect()),
        Value::Map(items) => Reply::Map(items.iter().map(|(k, v)| (reply(k), reply(v))).collect()),
        other => Reply::Text(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_values_become_replies() {
        let v = Value::Array(vec![Value::Array(vec![
            Value::Int(5),
            Value::Array(vec![
                Value::BulkString(b"key-count".to_vec()),
                Value::Int(2),
            ]),
        ])]);
        let s = parse(&reply(&v)).unwrap();
        assert_eq!((s[0].slot, s[0].keys), (5, Some(2)));
    }
}
