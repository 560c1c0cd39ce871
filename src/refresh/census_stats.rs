//! The served slots' key counts of a census from one `CLUSTER SLOT-STATS` (Valkey 8+, Redis
//! 8.2+) instead of one `CLUSTER COUNTKEYSINSLOT` per slot.
//!
//! `CLUSTER SLOT-STATS SLOTSRANGE 0 16383` answers a `key-count` for every slot the node
//! serves: the same number `COUNTKEYSINSLOT` gives. It goes in the census's one pipeline
//! between the two `DBSIZE`s, with a `COUNTKEYSINSLOT` for each importing slot, so the
//! counts are exactly as precise as the per-slot ones. Any doubt (an error reply, a served slot
//! missing from the answer, an answer that does not parse) falls back to the per-slot counts.

use std::collections::BTreeMap;

use redis::Value;

use crate::cluster::access::Access;
use crate::cluster::census::{NodeCensus, expected_slots};
use crate::cluster::slot_stats::parse;
use crate::cluster::slots::{Slot, SlotRange};
use crate::cluster::types::{Endpoint, MarkerKind, NodeLine, NodeReport, ServerInfo};

use super::census::{
    CHUNK, Query, counted_between, counted_between_dbsizes, int, pipe, pipeline_chunks, scan_count,
    scanned,
};
use super::conn::{self, Connector};
use super::target::ConnectOptions;

/// Whether the server has `CLUSTER SLOT-STATS` with a key count (Valkey 8.0+, Redis 8.2+)
/// and has not refused it.
#[must_use]
pub fn usable(info: &ServerInfo, access: &Access) -> bool {
    !access.refuses("cluster|slot-stats") && info.has_slot_stats() == Some(true)
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
    let mut queries = vec![Query::DbSize, Query::SlotStats];
    queries.extend(importing.iter().map(|s| Query::Count(*s)));
    queries.push(Query::DbSize);
    let values = pipeline_chunks(connector, ep, &queries)
        .await
        .inspect_err(|e| tracing::debug!(endpoint = %ep, error = %e, "census by SLOT-STATS failed"))
        .ok()?;
    from_stats(&values, expected, importing)
}

/// Read the replies of [`count_owned`]'s pipeline (`DBSIZE`, `SLOT-STATS`, one count per
/// importing slot, `DBSIZE`); `None` when they leave any doubt.
fn from_stats(
    values: &[Value],
    expected: &[bool],
    importing: &[Slot],
) -> Option<(u64, BTreeMap<Slot, u64>, bool)> {
    let (first, rest) = values.split_first()?;
    let (last, middle) = rest.split_last()?;
    let (stats, imported) = middle.split_first()?;
    let (before, after) = (int(first)?, int(last)?);
    if conn::value_error(stats).is_some() || imported.len() != importing.len() {
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

/// How a probe may count a node's census in its own batch, in the same round trip as
/// `CLUSTER NODES` (`check`, `fix`, a repair's fresh observation, the dashboard's first
/// refresh): the node's view is not known yet, so the count is a guess that
/// [`settle_early`] keeps only when the node's own view confirms it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EarlyCensus {
    /// `DBSIZE`, `CLUSTER SLOT-STATS SLOTSRANGE 0 16383`, `DBSIZE`: answers for whatever the
    /// node serves, on a server that has the command (an error reply elsewhere, ignored).
    Stats,
    /// `DBSIZE`, `COUNTKEYSINSLOT` for each of these slots (what a peer's view says the node
    /// serves), `DBSIZE`.
    Slots(Vec<Slot>),
    /// `DBSIZE`, `SCAN 0 COUNT <count>`, `DBSIZE`, where the node is expected to hold fewer
    /// keys than it serves slots (see [`Lister::scan_count`]): one pass that returns every key, each
    /// counted in its slot, instead of a count per slot. Kept only when the pass went round
    /// (cursor 0) and its distinct keys number both `DBSIZE`s.
    Scan {
        /// The `COUNT` hint: twice the slots served plus 128, so that one pass returns every
        /// key the guess expects (at most one per slot) and walks the buckets between them.
        count: u32,
    },
}

impl EarlyCensus {
    /// The pipeline to send.
    #[must_use]
    pub fn pipeline(&self) -> redis::Pipeline {
        match self {
            Self::Stats => pipe([Query::DbSize, Query::SlotStats, Query::DbSize].into_iter()),
            Self::Slots(slots) => pipe(counted_between_dbsizes(slots)),
            Self::Scan { count } => {
                pipe([Query::DbSize, Query::Scan(*count), Query::DbSize].into_iter())
            }
        }
    }
}

/// Whether the census may count keys by `SCAN`: only as the default user. `SCAN` lists key
/// names, which the per-slot counts never read; a named user is the least-privilege setup of
/// docs/acl.md (no key access), never sent it, so it never meets a refusal (an `ACL LOG`
/// entry) either.
#[must_use]
pub fn may_scan(opts: &ConnectOptions) -> bool {
    opts.user.as_deref().is_none_or(|u| u == "default")
}

/// What one report (the listing node's) tells about counting the census of the nodes its
/// view lists; read once per report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lister {
    /// The listing node's server has `CLUSTER SLOT-STATS`.
    stats: bool,
    /// The listing node's keys and the slots they live in (its own, or its master's for a
    /// replica), from `INFO keyspace` and its view; `None` where the census may not scan.
    density: Option<(u64, u64)>,
}

impl Lister {
    /// Read `report` once; `scan`: see [`may_scan`].
    #[must_use]
    pub fn of(report: &NodeReport, scan: bool) -> Self {
        let density = (|| {
            if !scan || report.access.refuses("scan") {
                return None;
            }
            let keys = report.info.keys?;
            let me = report.nodes.myself()?;
            let slots = if me.flags.master {
                me.slot_count()
            } else {
                report.nodes.get(me.master_id.as_ref()?)?.slot_count()
            };
            Some((keys, u64::try_from(slots).ok().filter(|n| *n > 0)?))
        })();
        Self {
            stats: usable(&report.info, &report.access),
            density,
        }
    }

    /// What to count on the node that `line` describes: `None` for a replica, a failing or
    /// handshaking node, or a master with more slots than one pipeline counts.
    #[must_use]
    pub fn for_line(&self, line: &NodeLine) -> Option<EarlyCensus> {
        if !line.flags.master || line.flags.fail || line.flags.handshake {
            return None;
        }
        if self.stats {
            return Some(EarlyCensus::Stats);
        }
        if let Some(count) = self.scan_count(line.slot_count()) {
            return Some(EarlyCensus::Scan { count });
        }
        if line.slot_count() + 2 > CHUNK {
            return None;
        }
        Some(EarlyCensus::Slots(
            line.slots.iter().flat_map(SlotRange::iter).collect(),
        ))
    }

    /// The `COUNT` of an early [`EarlyCensus::Scan`] of a master serving `serves` slots, when
    /// a scan is expected to cost less than a count per slot: at the listing node's keys per
    /// slot, the master holds at most one key per slot it serves. `None` (count per slot)
    /// otherwise, or when the listing node's keys are not known.
    ///
    /// A wrong guess costs time, never precision: a scan that does not go round in one pass
    /// is not kept, and the census then counts per slot.
    #[must_use]
    pub fn scan_count(&self, serves: usize) -> Option<u32> {
        let (keys, slots) = self.density?;
        // Keys expected on the listed master, at the listing node's density, rounded up.
        let expected = keys
            .saturating_mul(u64::try_from(serves).ok()?)
            .div_ceil(slots);
        scan_count(expected, serves)
    }
}

/// Read the replies of an [`EarlyCensus::Scan`] (`DBSIZE`, `SCAN`, `DBSIZE`): (keys, non-zero
/// counts of the expected slots, whether they add up). `None` when the pass leaves any doubt
/// (see [`scanned`]) or a key lies outside the expected slots (stray keys are the census's).
fn from_scan(values: &[Value], expected: &[bool]) -> Option<(u64, BTreeMap<Slot, u64>, bool)> {
    let s = scanned(values, expected)?;
    s.stray.is_empty().then_some((s.db_keys, s.slots, true))
}

/// Send [`EarlyCensus::commands`] as one pipeline; `None` when it failed (the census then
/// counts as usual).
pub async fn fetch_early(
    connector: &Connector,
    ep: &Endpoint,
    how: &EarlyCensus,
) -> Option<Vec<Value>> {
    connector
        .pipe_with_timeout(ep, &how.pipeline(), std::time::Duration::ZERO)
        .await
        .inspect_err(|e| tracing::debug!(endpoint = %ep, error = %e, "early census failed"))
        .ok()
}

/// The census of `report`'s node from the early count's replies, when they are as exact as the
/// census's own count would be: the node is a master by its own view, imports nothing, the
/// counted slots are exactly those it serves (or `SLOT-STATS`, on a server that has it,
/// answered for every one of them), and `DBSIZE` before and after equal the sum. Anything else
/// (stray keys included: those need the sweep) is `None`, and the census counts as usual.
#[must_use]
pub fn settle_early(
    report: &NodeReport,
    how: &EarlyCensus,
    values: &[Value],
    at_ms: u64,
) -> Option<NodeCensus> {
    let me = report.nodes.myself()?;
    if !me.flags.master || !me.markers.iter().all(|m| m.kind != MarkerKind::Importing) {
        return None;
    }
    let expected = expected_slots(&me.slots, &[]);
    let (db_keys, slots, agree) = match how {
        EarlyCensus::Stats => {
            if !usable(&report.info, &report.access) {
                return None;
            }
            from_stats(values, &expected, &[])?
        }
        EarlyCensus::Slots(counted) => {
            let mut asked = vec![false; expected.len()];
            for s in counted {
                *asked.get_mut(usize::from(*s))? = true;
            }
            if asked != expected || values.len() != counted.len() + 2 {
                return None;
            }
            let ints: Vec<u64> = values.iter().map(int).collect::<Option<_>>()?;
            let (first, rest) = ints.split_first()?;
            let (last, counts) = rest.split_last()?;
            counted_between(counted, *first, counts, *last)
        }
        EarlyCensus::Scan { .. } => from_scan(values, &expected)?,
    };
    agree.then(|| NodeCensus {
        db_keys,
        owned_keys: slots.values().sum(),
        slots,
        at_ms,
        ..NodeCensus::default()
    })
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

    const ME: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const PEER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    /// A report of a master serving slots 0-2 (and `extra` on its own line), on `server`.
    fn report(extra: &str, server: ServerInfo) -> NodeReport {
        let text = format!(
            "{ME} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-2{extra}\n\
             {PEER} 127.0.0.1:7001@17001 master - 0 0 2 connected 3-16383\n"
        );
        NodeReport {
            nodes: crate::cluster::parse::parse_cluster_nodes(&text).unwrap(),
            cluster_info: None,
            info: server,
            config: crate::cluster::types::NodeConfig::default(),
            slot_keys: BTreeMap::new(),
            census: None,
            access: Access::default(),
            slot_stats: None,
            slot_migrations: None,
        }
    }

    fn stats(counts: &[(i64, i64)]) -> Value {
        Value::Array(
            counts
                .iter()
                .map(|(slot, n)| {
                    Value::Array(vec![
                        Value::Int(*slot),
                        Value::Array(vec![
                            Value::BulkString(b"key-count".to_vec()),
                            Value::Int(*n),
                        ]),
                    ])
                })
                .collect(),
        )
    }

    #[test]
    fn an_early_count_is_kept_only_when_it_is_exact() {
        let valkey = info("valkey", "8.1.8");
        let r = report("", valkey.clone());
        let ok = [
            Value::Int(5),
            stats(&[(0, 2), (1, 0), (2, 3)]),
            Value::Int(5),
        ];
        let c = settle_early(&r, &EarlyCensus::Stats, &ok, 9).unwrap();
        assert_eq!((c.db_keys, c.owned_keys, c.at_ms), (5, 5, 9));
        assert_eq!(c.slots.len(), 2);
        assert!(c.sweep_next.is_none() && c.is_complete());
        // Keys outside the served slots (stray, or a write in between): left to the census.
        let stray = [
            Value::Int(6),
            stats(&[(0, 2), (1, 0), (2, 3)]),
            Value::Int(6),
        ];
        assert!(settle_early(&r, &EarlyCensus::Stats, &stray, 9).is_none());
        let moved = [
            Value::Int(4),
            stats(&[(0, 2), (1, 0), (2, 3)]),
            Value::Int(5),
        ];
        assert!(settle_early(&r, &EarlyCensus::Stats, &moved, 9).is_none());
        // A served slot missing from the answer, an error reply, a server without the command.
        let short = [Value::Int(5), stats(&[(0, 2), (2, 3)]), Value::Int(5)];
        assert!(settle_early(&r, &EarlyCensus::Stats, &short, 9).is_none());
        let err = [
            Value::Int(5),
            redis::parse_redis_value(b"-ERR unknown subcommand\r\n").unwrap(),
            Value::Int(5),
        ];
        assert!(settle_early(&r, &EarlyCensus::Stats, &err, 9).is_none());
        let old = report("", info("redis", "7.0.15"));
        assert!(settle_early(&old, &EarlyCensus::Stats, &ok, 9).is_none());
        // Importing a slot: the census counts it (and its sweep) itself.
        let importing = report(&format!(" [5-<-{PEER}]"), valkey);
        assert!(settle_early(&importing, &EarlyCensus::Stats, &ok, 9).is_none());
    }

    #[test]
    fn per_slot_counts_must_be_of_exactly_the_served_slots() {
        let r = report("", info("redis", "7.0.15"));
        let v = |counts: &[i64], total: i64| {
            let mut out = vec![Value::Int(total)];
            out.extend(counts.iter().map(|n| Value::Int(*n)));
            out.push(Value::Int(total));
            out
        };
        let all = EarlyCensus::Slots(vec![0, 1, 2]);
        let c = settle_early(&r, &all, &v(&[1, 0, 4], 5), 1).unwrap();
        assert_eq!(
            c.slots.into_iter().collect::<Vec<_>>(),
            vec![(0, 1), (2, 4)]
        );
        assert!(settle_early(&r, &all, &v(&[1, 0, 4], 6), 1).is_none());
        // The peer's view was out of date: the node serves other slots than were counted.
        let fewer = EarlyCensus::Slots(vec![0, 1]);
        assert!(settle_early(&r, &fewer, &v(&[1, 4], 5), 1).is_none());
        let other = EarlyCensus::Slots(vec![0, 1, 3]);
        assert!(settle_early(&r, &other, &v(&[1, 0, 4], 5), 1).is_none());
        let twice = EarlyCensus::Slots(vec![0, 1, 1, 2]);
        assert!(settle_early(&r, &twice, &v(&[1, 0, 4], 5), 1).is_none());
        let words = |p: &redis::Pipeline| -> Vec<String> {
            p.cmd_iter().map(|c| conn::cmd_words(c).join(" ")).collect()
        };
        assert_eq!(
            words(&all.pipeline()),
            [
                "DBSIZE",
                "CLUSTER COUNTKEYSINSLOT 0",
                "CLUSTER COUNTKEYSINSLOT 1",
                "CLUSTER COUNTKEYSINSLOT 2",
                "DBSIZE"
            ]
        );
        assert_eq!(
            words(&EarlyCensus::Stats.pipeline()),
            ["DBSIZE", "CLUSTER SLOT-STATS SLOTSRANGE 0 16383", "DBSIZE"]
        );
        assert_eq!(
            words(&EarlyCensus::Slots(vec![]).pipeline()),
            ["DBSIZE", "DBSIZE"]
        );
        assert_eq!(
            super::super::census::Query::Count(16383).args(),
            ["CLUSTER", "COUNTKEYSINSLOT", "16383"]
        );
    }

    /// A key of `slot` (`{tag}name`).
    fn key_in(slot: Slot, name: &str) -> Vec<u8> {
        let tag = crate::cluster::keyslot::tag_for_slot(slot).unwrap();
        format!("{{{tag}}}{name}").into_bytes()
    }

    fn scan_reply(cursor: &str, keys: &[Vec<u8>]) -> Value {
        Value::Array(vec![
            Value::BulkString(cursor.as_bytes().to_vec()),
            Value::Array(keys.iter().cloned().map(Value::BulkString).collect()),
        ])
    }

    #[test]
    fn a_scan_is_kept_only_when_it_saw_every_key_in_the_served_slots() {
        let r = report("", info("redis", "7.0.15"));
        let how = EarlyCensus::Scan { count: 134 };
        let (a, b, c) = (key_in(0, "a"), key_in(0, "b"), key_in(2, "c"));
        let v = |before: i64, scan: Value, after: i64| {
            vec![Value::Int(before), scan, Value::Int(after)]
        };
        let all = [a.clone(), b.clone(), c.clone()];
        let got = settle_early(&r, &how, &v(3, scan_reply("0", &all), 3), 7).unwrap();
        assert_eq!(
            got.slots.clone().into_iter().collect::<Vec<_>>(),
            vec![(0, 2), (2, 1)]
        );
        assert_eq!((got.db_keys, got.owned_keys, got.at_ms), (3, 3, 7));
        assert!(got.sweep_next.is_none() && got.is_complete());
        // A key returned twice (the server rehashed meanwhile) counts once.
        let twice = [a.clone(), b.clone(), c.clone(), a.clone()];
        let got = settle_early(&r, &how, &v(3, scan_reply("0", &twice), 3), 7).unwrap();
        assert_eq!(got.owned_keys, 3);
        // The pass did not go round: keys may be missing.
        assert!(settle_early(&r, &how, &v(3, scan_reply("17", &all), 3), 7).is_none());
        // Fewer distinct keys than DBSIZE (an expired key, a write in between), or a write
        // between the two DBSIZEs.
        let two = [a.clone(), c.clone()];
        assert!(settle_early(&r, &how, &v(3, scan_reply("0", &two), 3), 7).is_none());
        assert!(settle_early(&r, &how, &v(3, scan_reply("0", &all), 4), 7).is_none());
        // A key outside the served slots is stray: the census's sweep counts those.
        let stray = [a.clone(), b.clone(), key_in(3, "d")];
        assert!(settle_early(&r, &how, &v(3, scan_reply("0", &stray), 3), 7).is_none());
        // An error reply (SCAN refused or renamed), or a reply of another shape.
        let err = redis::parse_redis_value(b"-NOPERM no\r\n").unwrap();
        assert!(settle_early(&r, &how, &v(3, err, 3), 7).is_none());
        assert!(settle_early(&r, &how, &v(3, Value::Int(0), 3), 7).is_none());
        // Importing a slot: the census counts it itself.
        let importing = report(&format!(" [5-<-{PEER}]"), info("redis", "7.0.15"));
        let one = [a.clone(), b, c];
        assert!(settle_early(&importing, &how, &v(3, scan_reply("0", &one), 3), 7).is_none());
        let words: Vec<String> = how
            .pipeline()
            .cmd_iter()
            .map(|c| conn::cmd_words(c).join(" "))
            .collect();
        assert_eq!(words, ["DBSIZE", "SCAN 0 COUNT 134", "DBSIZE"]);
    }

    #[test]
    fn only_the_default_user_scans() {
        let mut o = ConnectOptions::new(vec![]);
        assert!(may_scan(&o));
        o.user = Some("default".into());
        assert!(may_scan(&o));
        o.user = Some("slotscope-observer".into());
        assert!(!may_scan(&o));
        let mut i = info("redis", "7.0.15");
        i.keys = Some(3);
        let r = report("", i);
        assert!(Lister::of(&r, true).scan_count(100).is_some());
        assert!(Lister::of(&r, false).scan_count(100).is_none());
    }

    #[test]
    fn a_scan_is_chosen_where_the_listing_node_holds_at_most_a_key_per_slot() {
        let lister = |keys: Option<u64>, server: &str, version: &str| {
            let mut i = info(server, version);
            i.keys = keys;
            Lister::of(&report("", i), true)
        };
        let peer = |slots: &str| {
            crate::cluster::parse::parse_cluster_nodes(&format!(
                "{PEER} 127.0.0.1:7001@17001 master - 0 0 2 connected {slots}\n"
            ))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .clone()
        };
        // The listing node serves 3 slots: 3 keys is one per slot, 4 is more.
        let sparse = lister(Some(3), "redis", "7.0.15");
        assert_eq!(
            sparse.for_line(&peer("3-102")),
            Some(EarlyCensus::Scan { count: 328 })
        );
        let dense = lister(Some(4), "redis", "7.0.15");
        assert!(matches!(
            dense.for_line(&peer("3-102")),
            Some(EarlyCensus::Slots(s)) if s.len() == 100
        ));
        // No key count known, or a server with SLOT-STATS: as before.
        assert!(matches!(
            lister(None, "redis", "7.0.15").for_line(&peer("3-5")),
            Some(EarlyCensus::Slots(_))
        ));
        assert_eq!(
            lister(Some(0), "valkey", "8.1.8").for_line(&peer("3-5")),
            Some(EarlyCensus::Stats)
        );
        // A master without slots: two DBSIZEs are cheaper than a scan.
        assert_eq!(sparse.for_line(&peer("")), Some(EarlyCensus::Slots(vec![])));
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
