//! Counting the key census ([`crate::cluster::census`]) on every answering master.
//!
//! Per master, one pipeline (one round trip up to 4094 slots): `DBSIZE`, `CLUSTER
//! COUNTKEYSINSLOT` for every slot it serves or imports, `DBSIZE` again. When both `DBSIZE`s
//! agree with the sum, the master stores nothing elsewhere and no sweep is needed. Otherwise
//! the other slots are swept with more pipelined `COUNTKEYSINSLOT`s: all of them when there
//! is no previous snapshot (`check`, `fix`), or [`SWEEP_BUDGET`] per refresh, carried on from
//! the previous snapshot's census, in the dashboard. The dashboard counts a master again once
//! its census is [`CENSUS_PERIOD_MS`] old. A master with no key (`INFO keyspace`) costs
//! nothing. A master with no more keys than slots it serves, on a server without `CLUSTER
//! SLOT-STATS`, is counted by one `SCAN` pass instead (see [`scanned`]): every key in its slot,
//! stray keys included, so no sweep; any doubt falls back to the per-slot count. A failed count
//! leaves the census absent: unknown, never zero.

use std::collections::BTreeMap;
use std::time::Duration;

use redis::Value;

use crate::cluster::census::{NodeCensus, SWEEP_BUDGET, expected_slots, sweep_chunk};
use crate::cluster::keyslot::key_slot;
use crate::cluster::slots::{SLOT_COUNT, Slot, SlotRange};
use crate::cluster::types::{ClusterSnapshot, MarkerKind, NodeId, NodeObservation};

use super::conn::{self, CommandError, Connector};
use super::{now_ms, refusals};

/// Commands per pipeline.
pub(super) const CHUNK: usize = 4096;

/// In the dashboard, how old a complete census may be before it is counted again.
pub const CENSUS_PERIOD_MS: u64 = 30_000;

/// Count the census of every answering master, concurrently. `previous` carries a sweep on.
pub async fn take_census(
    connector: &Connector,
    observations: &mut [NodeObservation],
    previous: Option<&ClusterSnapshot>,
) {
    let budget = if previous.is_some() {
        SWEEP_BUDGET
    } else {
        usize::MAX
    };
    let may_scan = super::census_stats::may_scan(connector.options());
    let jobs: Vec<(usize, Job)> = observations
        .iter()
        .enumerate()
        .filter_map(|(i, o)| Job::of(o, previous, may_scan).map(|j| (i, j)))
        .collect();
    let results = super::gate::follow_ups(observations.len(), jobs, |(i, job)| {
        let ep = observations[i].endpoint.clone();
        async move { (i, job.count_logged(connector, &ep, budget).await) }
    })
    .await;
    for (i, census) in results {
        if let Some(obs) = observations.get_mut(i) {
            keep(obs, census);
        }
    }
}

/// A first look's census of one master whose probe did not count it in its batch (a seed on
/// a server without `CLUSTER SLOT-STATS`), counted as soon as its probe is in rather than
/// after every other probe: `None` when there is nothing to count (a replica, a refusal, or
/// already counted). Its result goes to [`keep`].
pub(super) fn count_now<'a>(
    connector: &'a Connector,
    obs: &NodeObservation,
    may_scan: bool,
) -> Option<impl std::future::Future<Output = Result<NodeCensus, CommandError>> + 'a> {
    let job = Job::of(obs, None, may_scan)?;
    let ep = obs.endpoint.clone();
    Some(async move { job.count_logged(connector, &ep, usize::MAX).await })
}

/// Store a census count in its observation; a failure leaves the census absent.
pub(super) fn keep(obs: &mut NodeObservation, census: Result<NodeCensus, CommandError>) {
    if let Ok(report) = obs.result.as_mut() {
        match census {
            Ok(c) => report.census = Some(c),
            // A refused DBSIZE or COUNTKEYSINSLOT is not sent again for a while.
            Err(e) => {
                refusals::learn(&mut report.access, &["DBSIZE"], &e, now_ms());
            }
        }
    }
}

/// What to count on one master.
struct Job {
    /// The slots the master serves (its own view). What it is expected to store (these and the
    /// importing ones) is worked out only when it is counted: 16 KB a master, and a refresh of a
    /// large cluster holds every job at once.
    claimed: Vec<SlotRange>,
    /// Keys known to be 0 from `INFO keyspace`: nothing to count.
    empty: bool,
    /// The previous census of the same node, to carry a sweep on.
    previous: Option<NodeCensus>,
    /// The served slots' counts come from one `CLUSTER SLOT-STATS` (see [`super::census_stats`]).
    slot_stats: bool,
    importing: Vec<Slot>,
    /// The `COUNT` of one `SCAN` that counts every key in its slot, where the master holds
    /// no more keys than it serves slots (`INFO keyspace`) and the census may scan
    /// ([`super::census_stats::may_scan`]): cheaper than a count per slot, and it finds stray
    /// keys without a sweep. `None`: count per slot.
    scan: Option<u32>,
}

impl Job {
    fn of(o: &NodeObservation, previous: Option<&ClusterSnapshot>, may_scan: bool) -> Option<Self> {
        let report = o.report()?;
        if report.census.is_some() {
            // Counted by the probe already (see `probe::EarlyCensus`).
            return None;
        }
        let me = report.nodes.myself()?;
        let refused = ["dbsize", "cluster|countkeysinslot"];
        if !me.flags.master || refused.iter().any(|c| report.access.refuses(c)) {
            return None;
        }
        let importing: Vec<Slot> = me
            .markers
            .iter()
            .filter(|m| m.kind == MarkerKind::Importing)
            .map(|m| m.slot)
            .collect();
        let slot_stats = super::census_stats::usable(&report.info, &report.access);
        let scan = report
            .info
            .keys
            .filter(|_| may_scan && !slot_stats && !report.access.refuses("scan"))
            .and_then(|k| scan_count(k, me.slot_count() + importing.len()));
        Some(Self {
            claimed: me.slots.clone(),
            empty: report.info.keys == Some(0),
            previous: previous.and_then(|p| previous_census(p, &o.endpoint, &me.id)),
            slot_stats,
            importing,
            scan,
        })
    }

    /// [`Self::count`], a failure logged (the census is then absent: unknown, never zero).
    async fn count_logged(
        &self,
        connector: &Connector,
        ep: &crate::cluster::types::Endpoint,
        budget: usize,
    ) -> Result<NodeCensus, CommandError> {
        let r = self.count(connector, ep, budget).await;
        if let Err(e) = &r {
            tracing::debug!(endpoint = %ep, error = %e, "key census failed");
        }
        r
    }

    async fn count(
        &self,
        connector: &Connector,
        ep: &crate::cluster::types::Endpoint,
        budget: usize,
    ) -> Result<NodeCensus, CommandError> {
        let at_ms = now_ms();
        if self.empty {
            return Ok(NodeCensus {
                at_ms,
                ..NodeCensus::default()
            });
        }
        // In the dashboard a recent census is carried over, so that counting every served
        // slot costs each master one pass per CENSUS_PERIOD, not one per refresh. A sweep under
        // way carries on every refresh until it is complete. A repair never relies on this:
        // the executor observes afresh (full census) and replays the plan on it first.
        if budget != usize::MAX
            && let Some(p) = &self.previous
            && at_ms.saturating_sub(p.at_ms) < CENSUS_PERIOD_MS
            && p.is_complete()
        {
            return Ok(p.clone());
        }
        let expected = expected_slots(&self.claimed, &self.importing);
        if let Some(count) = self.scan
            && let Some(s) = scan_all(connector, ep, count, &expected).await
        {
            let stray = !s.stray.is_empty();
            return Ok(NodeCensus {
                db_keys: s.db_keys,
                owned_keys: s.slots.values().sum(),
                slots: s.slots,
                stray: s.stray,
                // Every key was seen: the stray keys are known without a sweep.
                sweep_next: stray.then_some(0),
                sweep_complete: stray,
                at_ms,
            });
        }
        let counted = if self.slot_stats {
            super::census_stats::count_owned(connector, ep, &expected, &self.importing).await
        } else {
            None
        };
        let (db_keys, slots, agree) = match counted {
            Some(c) => c,
            None => count_owned(connector, ep, &expected).await?,
        };
        let mut census = NodeCensus {
            db_keys,
            owned_keys: slots.values().sum(),
            slots,
            at_ms,
            ..NodeCensus::default()
        };
        if agree {
            return Ok(census);
        }
        // Carry on the previous sweep, if there was one.
        let (mut next, mut complete) = (0_u32, false);
        if let Some(p) = &self.previous
            && let Some(n) = p.sweep_next
        {
            census.stray.clone_from(&p.stray);
            next = n;
            complete = p.sweep_complete;
        }
        let (slots, after) = sweep_chunk(&expected, next, budget);
        let counts = count_slots(connector, ep, &slots).await?;
        for (slot, n) in slots.iter().zip(counts) {
            if n > 0 {
                census.stray.insert(*slot, n);
            } else {
                census.stray.remove(slot);
            }
        }
        // A slot that became expected (claimed meanwhile) is not stray any more.
        census
            .stray
            .retain(|s, _| !expected.get(usize::from(*s)).copied().unwrap_or(false));
        if after as usize >= SLOT_COUNT {
            complete = true;
            next = 0;
        } else {
            next = after;
        }
        census.sweep_next = Some(next);
        census.sweep_complete = complete;
        Ok(census)
    }
}

/// `DBSIZE`, the expected slots' counts, `DBSIZE`: (keys, non-zero counts of expected
/// slots, whether they add up with no write in between).
async fn count_owned(
    connector: &Connector,
    ep: &crate::cluster::types::Endpoint,
    expected: &[bool],
) -> Result<(u64, BTreeMap<Slot, u64>, bool), CommandError> {
    let expected_list: Vec<Slot> = expected
        .iter()
        .enumerate()
        .filter(|(_, e)| **e)
        .filter_map(|(s, _)| Slot::try_from(s).ok())
        .collect();
    // One pipeline (a round trip) for most masters: DBSIZE, the counts, DBSIZE.
    let queries: Vec<Query> = counted_between_dbsizes(&expected_list).collect();
    let values = pipeline_chunks(connector, ep, &queries).await?;
    let ints = values
        .iter()
        .map(|v| {
            if let Some(e) = conn::value_error(v) {
                return Err(e);
            }
            conn::value_int(v).map(|n| u64::try_from(n).unwrap_or(0))
        })
        .collect::<Result<Vec<u64>, CommandError>>()?;
    let (Some(&before), Some(&after)) = (ints.first(), ints.last()) else {
        return Err(CommandError::Protocol("no reply to DBSIZE".to_owned()));
    };
    let counts = ints.get(1..ints.len().saturating_sub(1)).unwrap_or(&[]);
    Ok(counted_between(&expected_list, before, counts, after))
}

/// The counts of `slots` (one each, in order) read between two `DBSIZE`s: (keys, the non-zero
/// counts, whether they add up with no write in between).
pub(super) fn counted_between(
    slots: &[Slot],
    before: u64,
    counts: &[u64],
    after: u64,
) -> (u64, BTreeMap<Slot, u64>, bool) {
    let slots: BTreeMap<Slot, u64> = slots
        .iter()
        .copied()
        .zip(counts.iter().copied())
        .filter(|(_, n)| *n > 0)
        .collect();
    let owned: u64 = slots.values().sum();
    (after, slots, before == after && owned == after)
}

/// A reply as a count; `None` for an error reply or anything else.
pub(super) fn int(v: &Value) -> Option<u64> {
    if conn::value_error(v).is_some() {
        return None;
    }
    conn::value_int(v)
        .ok()
        .map(|n| u64::try_from(n).unwrap_or(0))
}

/// The `COUNT` of a census `SCAN` of a master that serves (or imports) `serves` slots and
/// holds, or is expected to hold, `keys` keys: `None` (count per slot instead) unless that is
/// at most one key per slot, where one pass costs less than a count per slot. Twice the slots
/// plus 128 lets one pass return every key the rule allows and walk the buckets between them.
pub(super) fn scan_count(keys: u64, serves: usize) -> Option<u32> {
    let serves = u64::try_from(serves).ok().filter(|n| *n > 0)?;
    if keys > serves {
        return None;
    }
    u32::try_from(serves.saturating_mul(2).saturating_add(128)).ok()
}

/// `DBSIZE`, `SCAN 0 COUNT count`, `DBSIZE` in one pipeline, read by [`scanned`]; `None`
/// when it failed or leaves any doubt (the census then counts per slot).
async fn scan_all(
    connector: &Connector,
    ep: &crate::cluster::types::Endpoint,
    count: u32,
    expected: &[bool],
) -> Option<Scanned> {
    let queries = [Query::DbSize, Query::Scan(count), Query::DbSize];
    let values = pipeline_chunks(connector, ep, &queries)
        .await
        .inspect_err(|e| tracing::debug!(endpoint = %ep, error = %e, "census by SCAN failed"))
        .ok()?;
    scanned(&values, expected)
}

fn previous_census(
    p: &ClusterSnapshot,
    ep: &crate::cluster::types::Endpoint,
    id: &NodeId,
) -> Option<NodeCensus> {
    p.observations
        .iter()
        .find(|o| &o.endpoint == ep && o.node_id() == Some(id))
        .and_then(|o| o.report())
        .and_then(|r| r.census.clone())
}

/// One command of a census pipeline. The census sends thousands of these per master, so they
/// are packed straight into a [`redis::Pipeline`] (see [`pipe`]), never spelled out as strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Query {
    /// `DBSIZE`.
    DbSize,
    /// `CLUSTER COUNTKEYSINSLOT <slot>`.
    Count(Slot),
    /// `CLUSTER SLOT-STATS SLOTSRANGE 0 16383`.
    SlotStats,
    /// `SCAN 0 COUNT <n>`: one pass over at most about `n` keys.
    Scan(u32),
}

impl Query {
    /// The command's arguments.
    #[cfg(test)]
    pub(super) fn args(self) -> Vec<String> {
        conn::cmd_words(&self.cmd())
    }

    fn cmd(self) -> redis::Cmd {
        match self {
            Self::DbSize => redis::cmd("DBSIZE"),
            Self::Count(slot) => {
                // "CLUSTER" + "COUNTKEYSINSLOT" + at most 5 digits.
                let mut c = redis::Cmd::with_capacity(3, 27);
                c.arg(b"CLUSTER".as_slice())
                    .arg(b"COUNTKEYSINSLOT".as_slice())
                    .arg(slot);
                c
            }
            Self::SlotStats => {
                let mut c = redis::Cmd::with_capacity(5, 36);
                for a in ["CLUSTER", "SLOT-STATS", "SLOTSRANGE", "0", "16383"] {
                    c.arg(a.as_bytes());
                }
                c
            }
            Self::Scan(n) => {
                let mut c = redis::Cmd::with_capacity(4, 20);
                c.arg(b"SCAN".as_slice())
                    .arg(b"0".as_slice())
                    .arg(b"COUNT".as_slice())
                    .arg(n);
                c
            }
        }
    }
}

/// `queries` as one pipeline.
pub(super) fn pipe(queries: impl ExactSizeIterator<Item = Query>) -> redis::Pipeline {
    let mut p = redis::Pipeline::with_capacity(queries.len());
    for q in queries {
        p.add_command(q.cmd());
    }
    p
}

/// Every key of a master, counted in its slot from one `SCAN` pass (see [`scanned`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Scanned {
    /// `DBSIZE`, the same before and after the pass, and the distinct keys it returned.
    pub db_keys: u64,
    /// Non-zero counts of the expected slots.
    pub slots: BTreeMap<Slot, u64>,
    /// Non-zero counts of every other slot.
    pub stray: BTreeMap<Slot, u64>,
}

/// The replies of `DBSIZE`, `SCAN 0 COUNT n`, `DBSIZE` as a count of every key in its slot:
/// `None` unless the pass went round (cursor `0`) and its distinct keys number both
/// `DBSIZE`s, which then agree. A key that expired but was not yet reclaimed, or a write in
/// between, leaves the numbers apart: the census then counts per slot.
pub(super) fn scanned(values: &[Value], expected: &[bool]) -> Option<Scanned> {
    let [first, scan, last] = values else {
        return None;
    };
    let (before, after) = (int(first)?, int(last)?);
    let mut keys = scanned_keys(scan)?;
    // A pass may return a key twice (the server rehashing meanwhile).
    keys.sort_unstable();
    keys.dedup();
    if before != after || u64::try_from(keys.len()).ok()? != after {
        return None;
    }
    let mut out = Scanned {
        db_keys: after,
        ..Scanned::default()
    };
    for k in keys {
        let slot = key_slot(k);
        let into = if expected.get(usize::from(slot)).copied().unwrap_or(false) {
            &mut out.slots
        } else {
            &mut out.stray
        };
        *into.entry(slot).or_default() += 1;
    }
    Some(out)
}

/// The keys of a `SCAN` reply that went round (cursor `0`); `None` for anything else.
fn scanned_keys(v: &Value) -> Option<Vec<&[u8]>> {
    let Value::Array(parts) = v else {
        return None;
    };
    let [cursor, Value::Array(keys)] = parts.as_slice() else {
        return None;
    };
    let round = match cursor {
        Value::BulkString(b) => b.as_slice() == b"0",
        Value::SimpleString(s) => s == "0",
        _ => false,
    };
    if !round {
        return None;
    }
    keys.iter()
        .map(|k| match k {
            Value::BulkString(b) => Some(b.as_slice()),
            _ => None,
        })
        .collect()
}

/// `DBSIZE`, a count for each slot, `DBSIZE`.
pub(super) fn counted_between_dbsizes(
    slots: &[Slot],
) -> impl ExactSizeIterator<Item = Query> + Clone + '_ {
    let n = slots.len() + 2;
    (0..n).map(move |i| match i {
        0 => Query::DbSize,
        i if i + 1 == n => Query::DbSize,
        i => slots.get(i - 1).map_or(Query::DbSize, |s| Query::Count(*s)),
    })
}

/// Send `queries` as pipelines of at most [`CHUNK`] commands, one after the other; one reply
/// per command, in order.
pub(super) async fn pipeline_chunks(
    connector: &Connector,
    ep: &crate::cluster::types::Endpoint,
    queries: &[Query],
) -> Result<Vec<redis::Value>, CommandError> {
    // A big pipeline gets a longer reply timeout than one command (a zero one is the pool's).
    let per_chunk = connector
        .options()
        .command_timeout
        .max(Duration::from_secs(1));
    let mut out = Vec::with_capacity(queries.len());
    for chunk in queries.chunks(CHUNK) {
        let values = connector
            .pipe_with_timeout(ep, &pipe(chunk.iter().copied()), per_chunk)
            .await?;
        if values.len() != chunk.len() {
            return Err(CommandError::Protocol(format!(
                "{} replies to {} commands",
                values.len(),
                chunk.len()
            )));
        }
        if out.is_empty() {
            out = values;
        } else {
            out.extend(values);
        }
    }
    Ok(out)
}

/// `CLUSTER COUNTKEYSINSLOT` for each slot, pipelined in chunks; one count per slot.
async fn count_slots(
    connector: &Connector,
    ep: &crate::cluster::types::Endpoint,
    slots: &[Slot],
) -> Result<Vec<u64>, CommandError> {
    let queries: Vec<Query> = slots.iter().map(|s| Query::Count(*s)).collect();
    let mut out = Vec::with_capacity(slots.len());
    for v in &pipeline_chunks(connector, ep, &queries).await? {
        if let Some(e) = conn::value_error(v) {
            return Err(e);
        }
        out.push(u64::try_from(conn::value_int(v)?).unwrap_or(0));
    }
    Ok(out)
}
