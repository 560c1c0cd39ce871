//! Network I/O: connections, probes, discovery and the refresh loop.
//!
//! - [`target`]: seeds, credentials, timeouts ([`ConnectOptions`], [`parse_seed`]).
//! - [`conn`]: one long-lived connection per node ([`Connector`]), the read-only write guard,
//!   error classification into [`ProbeError`].
//! - [`probe`]: one node's observation.
//! - this module: [`observe_once`] (discovery over the union of every node's view, then key
//!   counts for suspect slots) and [`Refresher`] (cycles published on a `watch` channel).
//!
//! # What is an [`ObserveError`]
//! A cycle fails as a whole only when *nothing* about the cluster could be learnt: every
//! probed endpoint failed with a connection-level or authentication error
//! ([`ProbeError::ConnectFailed`], [`ProbeError::ConnectTimeout`], [`ProbeError::Unresponsive`],
//! [`ProbeError::AuthRequired`], [`ProbeError::AuthFailed`]), or there was nothing to probe.
//! A server that answered something else — not in cluster mode, `LOADING`, a reply that does
//! not parse — is a successful observation carrying that error, because the diagnosis has
//! something to say about it. The error still carries the (all-failed) snapshot so callers can
//! show the per-node errors.
//!
//! A cycle also fails when the answering nodes belong to two or more different clusters (seeds
//! of two clusters given together, see [`crate::cluster::identity`]): nothing may be diagnosed
//! or planned across them, so the error names the groups and the snapshot is not used.

pub mod capture;
pub mod census;
mod census_stats;
pub mod conn;
pub mod gate;
pub mod probe;
pub mod refusals;
pub mod slot_migrations;
pub mod slot_stats;
pub mod target;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

pub use conn::{CommandError, Connector, DEFAULT_MAX_REPLY_BYTES, NodeConn};
pub use probe::{now_ms, probe_node};

pub use target::{ConnectOptions, Secret, SeedError, parse_seed};

use crate::cluster::access::Access;
use crate::cluster::fold::Folder;
use crate::cluster::identity::{ClusterGroup, separate_clusters};
use crate::cluster::progress::Progress;
use crate::cluster::slots::{SLOT_COUNT, Slot};
use crate::cluster::types::{ClusterSnapshot, Endpoint, NodeId, NodeObservation, ProbeError};

/// Upper bound on the endpoints probed in one cycle (a runaway view cannot make us connect to
/// an unbounded number of addresses).
pub const MAX_ENDPOINTS: usize = 4096;

/// The whole cluster could not be observed. See the module docs for when this happens.
///
/// `Display` is written by hand: it groups the failures (clusters, unreachable seeds,
/// authentication) instead of formatting fields.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ObserveError {
    /// Every probed endpoint with its error, sorted by endpoint.
    pub failures: Vec<(Endpoint, ProbeError)>,
    /// The cycle's snapshot (every observation failed, or they span several clusters).
    pub snapshot: ClusterSnapshot,
    /// Set when the answering nodes belong to different clusters: each group, largest first.
    pub clusters: Vec<ClusterGroup>,
}

impl ObserveError {
    /// True when every failure is an authentication problem (wrong or missing password).
    #[must_use]
    pub fn is_auth(&self) -> bool {
        !self.failures.is_empty()
            && self
                .failures
                .iter()
                .all(|(_, e)| matches!(e, ProbeError::AuthFailed(_) | ProbeError::AuthRequired))
    }
}

impl fmt::Display for ObserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.clusters.len() > 1 {
            let groups: Vec<String> = self
                .clusters
                .iter()
                .enumerate()
                .map(|(i, g)| format!("cluster {} = {g}", i + 1))
                .collect();
            return write!(
                f,
                "the seeds belong to {} different clusters: {}. Give seeds of one cluster: \
                 nothing is diagnosed or repaired across clusters",
                self.clusters.len(),
                groups.join("; ")
            );
        }
        if self.failures.is_empty() {
            return f.write_str("could not observe the cluster: no seed address to connect to");
        }
        let (auth, reach): (Vec<_>, Vec<_>) = self
            .failures
            .iter()
            .partition(|(_, e)| matches!(e, ProbeError::AuthFailed(_) | ProbeError::AuthRequired));
        let mut parts: Vec<String> = Vec::new();
        if !reach.is_empty() {
            let items: Vec<String> = reach
                .iter()
                .map(|(ep, e)| match e {
                    ProbeError::ConnectFailed(d) => format!("{ep}: {d}"),
                    other => format!("{ep}: {other}"),
                })
                .collect();
            parts.push(format!("could not reach any seed: {}", items.join("; ")));
        }
        for (ep, e) in auth {
            parts.push(match e {
                ProbeError::AuthRequired => {
                    format!("{ep} requires a password (NOAUTH): give one with REDISCLI_AUTH, --askpass or a redis:// URL")
                }
                ProbeError::AuthFailed(d) => {
                    let code = d.split_whitespace().next().unwrap_or("WRONGPASS");
                    format!("authentication failed at {ep} ({code})")
                }
                other => format!("{ep}: {other}"),
            });
        }
        f.write_str(&parts.join("; "))
    }
}

fn is_unobservable(e: &ProbeError) -> bool {
    matches!(
        e,
        ProbeError::ConnectFailed(_)
            | ProbeError::ConnectTimeout
            | ProbeError::Unresponsive(_)
            | ProbeError::AuthRequired
            | ProbeError::AuthFailed(_)
    )
}

/// The endpoints a cycle starts from: the seeds, plus the endpoints of the previous snapshot.
/// From the previous snapshot an endpoint is dropped only if it failed *and* no node that
/// answered listed it (a node forgotten by the cluster and gone); when nothing answered last
/// time, every previous endpoint is kept.
///
/// Seeds are always probed (a connection refused costs nothing, and a seed that comes back
/// unjoined is seen at once). A seed that does not answer and that no node lists is judged
/// like any forgotten endpoint: once some node answered, the diagnosis keeps it as a note, out
/// of the verdict.
#[must_use]
pub fn initial_endpoints(seeds: &[Endpoint], previous: Option<&ClusterSnapshot>) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = Vec::new();
    let mut seen: HashSet<Endpoint> = HashSet::new();
    for s in seeds {
        if seen.insert(s.clone()) {
            out.push(s.clone());
        }
    }
    if let Some(prev) = previous {
        let any_answered = prev.observations.iter().any(|o| o.result.is_ok());
        let listed: HashSet<Endpoint> = prev
            .observations
            .iter()
            .filter_map(NodeObservation::report)
            .flat_map(|r| r.nodes.lines())
            .filter(|l| !l.flags.noaddr)
            .filter_map(|l| l.addr.endpoint())
            .collect();
        for o in &prev.observations {
            let keep = !any_answered || o.result.is_ok() || listed.contains(&o.endpoint);
            if keep && seen.insert(o.endpoint.clone()) {
                out.push(o.endpoint.clone());
            }
        }
    }
    out
}

/// The slots whose key counts are worth fetching: open slots (a migrating or importing marker
/// on any node's own line), uncovered slots (no answering node's view binds them), and slots
/// that some view binds to a node whose own view does not claim them (the owner deleted them).
#[must_use]
pub fn slots_needing_key_counts(observations: &[NodeObservation]) -> Vec<Slot> {
    let reports: Vec<_> = observations
        .iter()
        .filter_map(NodeObservation::report)
        .collect();
    if reports.is_empty() {
        return Vec::new();
    }
    let mut bound = vec![false; SLOT_COUNT];
    let mut want: BTreeSet<Slot> = BTreeSet::new();
    // Each answering node's own claim, by id.
    let mut own: HashMap<&NodeId, &[crate::cluster::slots::SlotRange]> = HashMap::new();
    for r in &reports {
        if let Some(me) = r.nodes.myself() {
            own.insert(&me.id, &me.slots);
            want.extend(me.markers.iter().map(|m| m.slot));
        }
    }
    for r in &reports {
        for line in r.nodes.lines() {
            for range in &line.slots {
                // A whole range at once: every view lists every slot, so slot by slot this
                // was views × 16384 writes.
                let (a, b) = (usize::from(range.start), usize::from(range.end));
                if let Some(cells) = bound.get_mut(a..=b.min(SLOT_COUNT - 1)) {
                    cells.fill(true);
                }
            }
            if line.flags.myself {
                continue;
            }
            if let Some(own_slots) = own.get(&line.id)
                && *own_slots != line.slots.as_slice()
            {
                for range in &line.slots {
                    for s in range.iter() {
                        if !own_slots.iter().any(|o| o.contains(s)) {
                            want.insert(s);
                        }
                    }
                }
            }
        }
    }
    for (s, b) in bound.iter().enumerate() {
        if !*b && let Ok(s) = Slot::try_from(s) {
            want.insert(s);
        }
    }
    want.into_iter().collect()
}

/// Run one observation cycle.
///
/// Probes the seeds and the previous snapshot's endpoints (see [`initial_endpoints`])
/// concurrently; every node that any answering node lists (by address, skipping unknown
/// `:0` addresses) is probed as soon as it is first seen, until no new endpoint appears. Each
/// probe is bounded by the timeouts and all run concurrently, so a hung node delays nothing
/// but its own result. Then, on every answering master, `CLUSTER COUNTKEYSINSLOT` for the slots
/// of [`slots_needing_key_counts`], pipelined, concurrently across masters.
///
/// The snapshot's generation is the previous one plus one (1 without a previous snapshot).
///
/// # Errors
/// [`ObserveError`] when nothing could be observed (see the module docs).
pub async fn observe_once(
    connector: &Connector,
    previous: Option<&ClusterSnapshot>,
) -> Result<ClusterSnapshot, ObserveError> {
    observe(connector, previous, Census::Spread).await
}

/// [`observe_once`] with a complete key census on every master, whatever the previous
/// snapshot holds: what a repair decides and verifies on.
///
/// # Errors
/// [`ObserveError`] when nothing could be observed (see the module docs).
pub async fn observe_fresh(
    connector: &Connector,
    previous: Option<&ClusterSnapshot>,
) -> Result<ClusterSnapshot, ObserveError> {
    observe(connector, previous, Census::Complete).await
}

/// How much of the key census a cycle counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Census {
    /// Everything, now.
    Complete,
    /// Spread over refreshes when there is a previous snapshot (the dashboard).
    Spread,
}

async fn observe(
    connector: &Connector,
    previous: Option<&ClusterSnapshot>,
    census_mode: Census,
) -> Result<ClusterSnapshot, ObserveError> {
    let started_at_ms = now_ms();
    let seeds = connector.options().seeds.clone();
    let initial = initial_endpoints(&seeds, previous);

    // What each node refused last time is not sent again (see `refusals`).
    let before: HashMap<&Endpoint, &NodeObservation> = previous
        .map(|p| p.observations.iter().map(|o| (&o.endpoint, o)).collect())
        .unwrap_or_default();
    let refused = |ep: &Endpoint| refusals::carried(before.get(ep).copied(), started_at_ms);
    let mut seen: HashSet<Endpoint> = HashSet::new();
    let mut pending = FuturesUnordered::new();
    // Probes wait here while the budget of replies in flight is spent (see `gate`).
    let mut waiting: VecDeque<(Endpoint, Access, Option<probe::EarlyCensus>)> = VecDeque::new();
    let mut view_lines = previous.map_or(0, |p| p.observations.len());
    // Where the census is counted now, each probe counts it in its own batch where it can.
    let counting = census_mode == Census::Complete || previous.is_none();
    let may_scan = census_stats::may_scan(connector.options());
    for ep in initial {
        if seen.insert(ep.clone()) {
            let r = refused(&ep);
            let how = counting.then_some(probe::EarlyCensus::Stats);
            waiting.push_back((ep, r, how));
        }
    }
    let mut observations: Vec<NodeObservation> = Vec::new();
    // Each view is folded into one table of distinct lines as it arrives (`cluster::fold`),
    // whose lines share one allocation per node id (`cluster::intern`).
    let mut folder = Folder::new();
    // A first look counts a master its probe did not count (a seed without SLOT-STATS) at
    // once, beside the other probes, rather than after them: (observation index, census).
    let mut counts = FuturesUnordered::new();
    loop {
        while pending.len() + counts.len() < gate::probes_at_once(view_lines)
            && let Some((ep, r, how)) = waiting.pop_front()
        {
            pending.push(probe_owned(connector, ep, r, how));
        }
        let mut obs = tokio::select! {
            Some(obs) = pending.next(), if !pending.is_empty() => obs,
            Some((i, census)) = counts.next(), if !counts.is_empty() => {
                if let Some(o) = observations.get_mut(i) {
                    census::keep(o, census);
                }
                continue;
            }
            else => break,
        };
        if let Ok(report) = obs.result.as_mut() {
            connector.learn_hostnames(&report.nodes);
            let mut lines = 0;
            let lister = counting.then(|| probe::CensusLister::of(report, may_scan));
            for line in report.nodes.lines() {
                lines += 1;
                if line.flags.noaddr {
                    continue;
                }
                let Some(ep) = line.addr.endpoint() else {
                    continue;
                };
                if seen.len() < MAX_ENDPOINTS && seen.insert(ep.clone()) {
                    let r = refused(&ep);
                    let how = lister.as_ref().and_then(|l| l.for_line(line));
                    waiting.push_back((ep, r, how));
                }
            }
            view_lines = view_lines.max(lines);
            report.nodes = folder.fold(std::mem::take(&mut report.nodes));
        }
        // Room for every node known so far at once, rather than doubling from one (an
        // observation is about a kilobyte; a doubling holds both copies at once). `reserve`,
        // not `reserve_exact`: nodes found a few at a time still grow it amortised.
        observations.reserve(seen.len().saturating_sub(observations.len()));
        if counting && let Some(job) = census::count_now(connector, &obs, may_scan) {
            let i = observations.len();
            counts.push(async move { (i, job.await) });
        }
        observations.push(obs);
    }
    drop((pending, counts));
    folder.finish();
    dedupe_aliases(&mut observations);
    observations.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));

    count_keys(connector, &mut observations).await;
    let carried = match census_mode {
        Census::Complete => None,
        Census::Spread => previous,
    };
    census::take_census(connector, &mut observations, carried).await;
    slot_stats::fetch_slot_stats(connector, &mut observations, carried).await;

    // Forget connections to endpoints that are no longer part of the picture.
    let probed: HashSet<&Endpoint> = observations.iter().map(|o| &o.endpoint).collect();
    connector.retain(|ep| probed.contains(ep));

    let mut snapshot = ClusterSnapshot {
        generation: previous.map_or(1, |p| p.generation + 1),
        started_at_ms,
        finished_at_ms: now_ms(),
        seeds,
        observations,
        progress: Progress::default(),
    };
    snapshot.progress = Progress::between(previous, &snapshot);
    conclude(snapshot)
}

/// A cycle's verdict on its snapshot: an [`ObserveError`] when nothing could be observed or
/// the nodes belong to several clusters (see the module docs). A replay concludes the same.
///
/// # Errors
/// See [`ObserveError`].
#[allow(clippy::result_large_err)] // the error carries the snapshot, as observe_once's does
pub fn conclude(snapshot: ClusterSnapshot) -> Result<ClusterSnapshot, ObserveError> {
    let failed_all = snapshot
        .observations
        .iter()
        .all(|o| o.result.as_ref().err().is_some_and(is_unobservable));
    if failed_all {
        let failures = snapshot
            .observations
            .iter()
            .filter_map(|o| {
                o.result
                    .as_ref()
                    .err()
                    .map(|e| (o.endpoint.clone(), e.clone()))
            })
            .collect();
        return Err(ObserveError {
            failures,
            snapshot,
            clusters: Vec::new(),
        });
    }
    if let Some(clusters) = separate_clusters(&snapshot) {
        return Err(ObserveError {
            failures: Vec::new(),
            snapshot,
            clusters,
        });
    }
    Ok(snapshot)
}

/// `probe_node` takes the endpoint by reference; the futures in the set must own theirs.
async fn probe_owned(
    connector: &Connector,
    ep: Endpoint,
    refused: Access,
    census: Option<probe::EarlyCensus>,
) -> NodeObservation {
    let obs = probe::probe_node_counting(connector, &ep, refused, census).await;
    connector.release_if_larger(&ep, gate::KEEP_CONNECTION_BYTES);
    obs
}

/// When one node was reached under two endpoints (a seed given as `localhost:7000` and its
/// advertised `127.0.0.1:7000`), keep the observation whose endpoint matches the node's own
/// advertised address (or the first one).
fn dedupe_aliases(observations: &mut Vec<NodeObservation>) {
    let mut by_id: HashMap<NodeId, Vec<usize>> = HashMap::new();
    for (i, o) in observations.iter().enumerate() {
        if let Some(id) = o.node_id() {
            by_id.entry(id.clone()).or_default().push(i);
        }
    }
    let mut drop_idx: HashSet<usize> = HashSet::new();
    for idxs in by_id.values().filter(|v| v.len() > 1) {
        let advertised = |i: usize| {
            observations[i]
                .report()
                .and_then(|r| r.nodes.myself())
                .and_then(|l| l.addr.endpoint())
                .is_some_and(|e| e == observations[i].endpoint)
        };
        let keep = idxs
            .iter()
            .copied()
            .find(|&i| advertised(i))
            .unwrap_or(idxs[0]);
        drop_idx.extend(idxs.iter().copied().filter(|&i| i != keep));
    }
    if drop_idx.is_empty() {
        return;
    }
    let mut i = 0;
    observations.retain(|_| {
        let keep = !drop_idx.contains(&i);
        i += 1;
        keep
    });
}

/// Phase 2: `CLUSTER COUNTKEYSINSLOT` for the suspect slots on every answering master.
async fn count_keys(connector: &Connector, observations: &mut [NodeObservation]) {
    let slots = slots_needing_key_counts(observations);
    if slots.is_empty() {
        return;
    }
    let cmds: Vec<Vec<String>> = slots
        .iter()
        .map(|s| {
            vec![
                "CLUSTER".to_owned(),
                "COUNTKEYSINSLOT".to_owned(),
                s.to_string(),
            ]
        })
        .collect();
    let masters: Vec<usize> = observations
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.report().is_some_and(|r| {
                r.nodes.myself().is_some_and(|me| me.flags.master)
                    && !r.access.refuses("cluster|countkeysinslot")
            })
        })
        .map(|(i, _)| i)
        .collect();
    let cmds = &cmds;
    let results = gate::follow_ups(observations.len(), masters, |i| {
        let ep = observations[i].endpoint.clone();
        async move { (i, connector.pipeline(&ep, cmds).await) }
    })
    .await;
    for (i, r) in results {
        let Some(obs) = observations.get_mut(i) else {
            continue;
        };
        let values = match r {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(endpoint = %obs.endpoint, error = %e, "COUNTKEYSINSLOT failed");
                continue;
            }
        };
        if let Ok(report) = obs.result.as_mut() {
            if let Some(e) = values.iter().find_map(conn::value_error) {
                refusals::learn(
                    &mut report.access,
                    &["CLUSTER", "COUNTKEYSINSLOT"],
                    &e,
                    now_ms(),
                );
            }
            for (slot, v) in slots.iter().zip(values.iter()) {
                if let Ok(n) = conn::value_int(v)
                    && let Ok(n) = u64::try_from(n)
                {
                    report.slot_keys.insert(*slot, n);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The refresh loop

/// What one refresh cycle produced. The UI gets one of these per cycle: the snapshot (its
/// `finished_at_ms` gives the age, every observation carries its own error) and, when the whole
/// cycle failed, why.
#[derive(Clone, Debug)]
pub struct RefreshOutcome {
    /// The cycle's snapshot. When the cycle failed, every observation in it is an error.
    pub snapshot: Arc<ClusterSnapshot>,
    /// Set when nothing could be observed in this cycle.
    pub error: Option<ObserveError>,
}

impl RefreshOutcome {
    /// The snapshot's generation (increases by one per cycle).
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.snapshot.generation
    }
}

type Waiter = oneshot::Sender<Arc<RefreshOutcome>>;

/// Ask a running [`Refresher`] for an immediate cycle. Cheap to clone; the fix executor holds
/// one to re-observe after each step.
#[derive(Clone, Debug)]
pub struct RefreshControl {
    requests: mpsc::Sender<Option<Waiter>>,
    updates: watch::Receiver<Option<Arc<RefreshOutcome>>>,
    connector: Arc<Connector>,
}

impl RefreshControl {
    /// Request a cycle as soon as the current one (if any) ends; do not wait for it.
    pub fn request(&self) {
        // A full queue already holds a request, which is as good as this one.
        let _ = self.requests.try_send(None);
    }

    /// Run a cycle that starts after this call and return its outcome. `None` if the
    /// refresher has stopped.
    pub async fn refresh_now(&self) -> Option<Arc<RefreshOutcome>> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(Some(tx)).await.ok()?;
        rx.await.ok()
    }

    /// The latest outcome, if a cycle has completed.
    #[must_use]
    pub fn latest(&self) -> Option<Arc<RefreshOutcome>> {
        self.updates.borrow().clone()
    }

    /// A new receiver of outcomes.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<RefreshOutcome>>> {
        self.updates.clone()
    }

    /// The shared connection pool (and write guard): the fix executor sends through it.
    #[must_use]
    pub fn connector(&self) -> &Arc<Connector> {
        &self.connector
    }
}

/// A running refresher: the outcome channel, its control, and the task.
#[derive(Debug)]
pub struct RefreshHandle {
    /// Every cycle's outcome; `None` until the first cycle completes.
    pub updates: watch::Receiver<Option<Arc<RefreshOutcome>>>,
    /// Immediate refreshes and the connection pool.
    pub control: RefreshControl,
    /// The loop. It ends when every receiver of the outcomes is dropped (`updates`, the
    /// receivers from [`RefreshControl::subscribe`], and every [`RefreshControl`] clone, which
    /// holds one), or when aborted.
    pub task: JoinHandle<()>,
}

/// The periodic observation loop.
#[derive(Debug)]
pub struct Refresher;

impl Refresher {
    /// Start the loop on the current tokio runtime: a cycle at once, then one per `interval`
    /// (cycles never overlap; missed ticks are skipped), plus one per request from
    /// [`RefreshControl`]. Each outcome is published on the `watch` channel.
    #[must_use]
    pub fn spawn(connector: Arc<Connector>, interval: Duration) -> RefreshHandle {
        let (tx, rx) = watch::channel(None);
        let (req_tx, req_rx) = mpsc::channel(16);
        let task = tokio::spawn(run_loop(Arc::clone(&connector), interval, tx, req_rx));
        RefreshHandle {
            updates: rx.clone(),
            control: RefreshControl {
                requests: req_tx,
                updates: rx,
                connector,
            },
            task,
        }
    }

    /// [`Self::spawn`] with a new pool built from `opts`.
    #[must_use]
    pub fn spawn_with(opts: ConnectOptions, interval: Duration) -> RefreshHandle {
        Self::spawn(Connector::shared(opts), interval)
    }
}

async fn run_loop(
    connector: Arc<Connector>,
    interval: Duration,
    tx: watch::Sender<Option<Arc<RefreshOutcome>>>,
    mut requests: mpsc::Receiver<Option<Waiter>>,
) {
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut previous: Option<Arc<ClusterSnapshot>> = None;
    let mut requests_open = true;
    loop {
        let mut waiters: Vec<Waiter> = Vec::new();
        tokio::select! {
            () = tx.closed() => return,
            _ = ticker.tick() => {}
            req = requests.recv(), if requests_open => {
                if let Some(w) = req {
                    waiters.extend(w);
                    ticker.reset();
                } else {
                    requests_open = false;
                    continue;
                }
            }
        }
        // Requests that queued up meanwhile are served by this same cycle.
        while let Ok(w) = requests.try_recv() {
            waiters.extend(w);
        }
        let outcome = match observe_once(&connector, previous.as_deref()).await {
            Ok(s) => RefreshOutcome {
                snapshot: Arc::new(s),
                error: None,
            },
            Err(e) => {
                tracing::warn!(error = %e, "refresh cycle observed nothing");
                RefreshOutcome {
                    snapshot: Arc::new(e.snapshot.clone()),
                    error: Some(e),
                }
            }
        };
        previous = Some(Arc::clone(&outcome.snapshot));
        let outcome = Arc::new(outcome);
        // Publish first, so a waiter that then looks at the channel sees this outcome.
        let closed = tx.send(Some(Arc::clone(&outcome))).is_err();
        for w in waiters {
            let _ = w.send(Arc::clone(&outcome));
        }
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::slots::SlotRange;
    use crate::cluster::types::{
        ClusterNodes, MarkerKind, NodeAddr, NodeFlags, NodeLine, NodeReport, OpenMarker, ServerInfo,
    };

    fn line(id: &str, port: u16, myself: bool, slots: &[(u16, u16)]) -> NodeLine {
        NodeLine {
            id: NodeId(id.into()),
            addr: NodeAddr {
                ip: "127.0.0.1".into(),
                port,
                cport: port + 10000,
                hostname: None,
            },
            flags: NodeFlags {
                myself,
                master: true,
                ..NodeFlags::default()
            },
            master_id: None,
            ping_sent_ms: 0,
            pong_recv_ms: 0,
            config_epoch: 1,
            link_connected: true,
            slots: slots.iter().map(|&(a, b)| SlotRange::new(a, b)).collect(),
            markers: vec![],
        }
    }

    fn obs(port: u16, lines: Vec<NodeLine>) -> NodeObservation {
        NodeObservation {
            endpoint: Endpoint::new("127.0.0.1", port),
            observed_at_ms: 0,
            rtt_us: Some(1),
            result: Ok(NodeReport {
                nodes: ClusterNodes::new(lines),
                cluster_info: None,
                info: ServerInfo::default(),
                config: crate::cluster::types::NodeConfig::default(),
                slot_keys: std::collections::BTreeMap::default(),
                census: None,
                slot_migrations: None,
                access: crate::cluster::access::Access::default(),
                slot_stats: None,
            }),
        }
    }

    fn failed(port: u16, e: ProbeError) -> NodeObservation {
        NodeObservation {
            endpoint: Endpoint::new("127.0.0.1", port),
            observed_at_ms: 0,
            rtt_us: None,
            result: Err(e),
        }
    }

    #[test]
    fn healthy_views_need_no_key_counts() {
        let view = |me: &str| {
            vec![
                line("a", 7000, me == "a", &[(0, 8000)]),
                line("b", 7001, me == "b", &[(8001, 16383)]),
            ]
        };
        let o = vec![obs(7000, view("a")), obs(7001, view("b"))];
        assert!(slots_needing_key_counts(&o).is_empty());
    }

    #[test]
    fn uncovered_open_and_unclaimed_slots_need_key_counts() {
        // a owns 0-8000 but its own view says it only claims 0-7999 (8000 deleted on a);
        // b's view still binds 8000 to a. Slots 16000-16383 are bound by nobody.
        // b is importing slot 5 from a.
        let mut b_me = line("b", 7001, true, &[(8001, 15999)]);
        b_me.markers.push(OpenMarker {
            slot: 5,
            kind: MarkerKind::Importing,
            peer: NodeId("a".into()),
        });
        let o = vec![
            obs(
                7000,
                vec![
                    line("a", 7000, true, &[(0, 7999)]),
                    line("b", 7001, false, &[(8001, 15999)]),
                ],
            ),
            obs(7001, vec![line("a", 7000, false, &[(0, 8000)]), b_me]),
            failed(7002, ProbeError::ConnectTimeout),
        ];
        let want: Vec<Slot> = [5, 8000].into_iter().chain(16000..=16383).collect();
        assert_eq!(slots_needing_key_counts(&o), want);
        assert!(slots_needing_key_counts(&[failed(1, ProbeError::ConnectTimeout)]).is_empty());
    }

    #[test]
    fn initial_endpoints_keep_known_nodes_and_drop_forgotten_dead_ones() {
        let seeds = vec![Endpoint::new("127.0.0.1", 7000)];
        let prev = ClusterSnapshot {
            generation: 3,
            observations: vec![
                failed(7000, ProbeError::ConnectFailed("connection refused".into())),
                obs(
                    7001,
                    vec![
                        line("b", 7001, true, &[]),
                        line("c", 7002, false, &[]),
                        line("a", 7000, false, &[]),
                    ],
                ),
                failed(7002, ProbeError::ConnectTimeout),
                failed(7009, ProbeError::ConnectTimeout),
            ],
            ..ClusterSnapshot::default()
        };
        let got: Vec<u16> = initial_endpoints(&seeds, Some(&prev))
            .iter()
            .map(|e| e.port)
            .collect();
        assert_eq!(got, vec![7000, 7001, 7002]);

        // Nothing answered last time: keep everything.
        let all_failed = ClusterSnapshot {
            observations: vec![failed(7005, ProbeError::ConnectTimeout)],
            ..ClusterSnapshot::default()
        };
        let got: Vec<u16> = initial_endpoints(&seeds, Some(&all_failed))
            .iter()
            .map(|e| e.port)
            .collect();
        assert_eq!(got, vec![7000, 7005]);
    }

    #[test]
    fn aliases_of_one_node_are_merged() {
        let mut o = vec![
            obs(7000, vec![line("a", 7000, true, &[])]),
            obs(7000, vec![line("a", 7000, true, &[])]),
        ];
        o[0].endpoint = Endpoint::new("localhost", 7000);
        dedupe_aliases(&mut o);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].endpoint, Endpoint::new("127.0.0.1", 7000));
    }

    #[test]
    fn observe_error_messages() {
        let e = ObserveError {
            failures: vec![(
                Endpoint::new("127.0.0.1", 7000),
                ProbeError::ConnectFailed("connection refused".into()),
            )],
            snapshot: ClusterSnapshot::default(),
            clusters: Vec::new(),
        };
        assert_eq!(
            e.to_string(),
            "could not reach any seed: 127.0.0.1:7000: connection refused"
        );
        assert!(!e.is_auth());
        let e = ObserveError {
            failures: vec![(
                Endpoint::new("127.0.0.1", 7000),
                ProbeError::AuthFailed(
                    "WRONGPASS invalid username-password pair or user is disabled.".into(),
                ),
            )],
            snapshot: ClusterSnapshot::default(),
            clusters: Vec::new(),
        };
        assert_eq!(
            e.to_string(),
            "authentication failed at 127.0.0.1:7000 (WRONGPASS)"
        );
        assert!(e.is_auth());
    }

    #[tokio::test]
    async fn nothing_listening_is_an_observe_error() {
        let c = Connector::new(ConnectOptions::new(vec![Endpoint::new("127.0.0.1", 1)]));
        let err = observe_once(&c, None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not reach any seed: 127.0.0.1:1: connection refused"
        );
        assert_eq!(err.snapshot.observations.len(), 1);
        let none = Connector::new(ConnectOptions::new(vec![]));
        let err = observe_once(&none, None).await.unwrap_err();
        assert!(err.to_string().contains("no seed"), "{err}");
    }
}
