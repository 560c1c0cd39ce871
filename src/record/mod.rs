//! Flight recordings: the raw replies of every node, refresh after refresh, in a versioned,
//! gzip-compressed file of JSON lines (`docs/recording.md`), and their replay.
//!
//! - [`format`]: the lines of the file and the `same` / `lines` references between refreshes.
//! - [`writer`]: [`Writer`] appends refreshes; [`reader`]: [`read`] and [`open`] load them.
//! - this module: [`RecordedRefresh`] (one refresh as recorded, built from a snapshot and the
//!   raw replies of a [`crate::refresh::capture::Capture`]) and [`Recording`], which turns the
//!   recorded replies back into snapshots through the probe's own
//!   [`crate::refresh::capture::interpret`] and the refresh's own
//!   [`crate::refresh::conclude`]: a replay is diagnosed by today's code.
//!
//! A recording holds what the probe read: `CLUSTER NODES`, `CLUSTER INFO`, `INFO`, four
//! `CONFIG GET` values, key counts per slot, errors (already stripped of the password),
//! round-trip times and timestamps. No password, no key name, no value: the probe never asks
//! for one.

pub mod edits;
pub mod format;
pub mod reader;
pub mod time;
pub mod writer;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cluster::census::NodeCensus;
use crate::cluster::progress::Progress;
use crate::cluster::slots::Slot;
use crate::cluster::types::{ClusterSnapshot, Endpoint, NodeObservation, ProbeError};
use crate::refresh::capture::RawNode;
use crate::refresh::{RefreshOutcome, conclude};

pub use format::Header;
pub use reader::{RecordError, open, read};
pub use time::At;
pub use writer::Writer;

/// One node of one recorded refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedNode {
    /// What the probe read.
    pub raw: Arc<RawNode>,
    /// `CLUSTER COUNTKEYSINSLOT` of the slots that needed it.
    pub slot_keys: BTreeMap<Slot, u64>,
    /// The key census of a master.
    pub census: Option<NodeCensus>,
}

/// One recorded refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRefresh {
    /// Unix ms when the refresh started.
    pub started_at_ms: u64,
    /// Unix ms when it finished.
    pub finished_at_ms: u64,
    /// The seeds given.
    pub seeds: Vec<Endpoint>,
    /// Every node probed.
    pub nodes: Vec<RecordedNode>,
}

impl RecordedRefresh {
    /// From a published snapshot and the raw replies of its observations (`raw_of`, usually
    /// [`crate::refresh::capture::Capture::raw_of`]). An observation whose replies were not
    /// kept is recorded as the failure it showed, or as not captured.
    pub fn from_snapshot(
        snapshot: &ClusterSnapshot,
        raw_of: impl Fn(&NodeObservation) -> Option<Arc<RawNode>>,
    ) -> Self {
        let nodes = snapshot
            .observations
            .iter()
            .map(|o| {
                let raw = raw_of(o).unwrap_or_else(|| {
                    let e = match &o.result {
                        Err(e) => e.clone(),
                        Ok(_) => {
                            ProbeError::Other("the replies of this probe were not captured".into())
                        }
                    };
                    Arc::new(RawNode {
                        endpoint: o.endpoint.clone(),
                        observed_at_ms: o.observed_at_ms,
                        rtt_us: o.rtt_us,
                        replies: Err(e),
                    })
                });
                let report = o.report();
                RecordedNode {
                    raw,
                    slot_keys: report.map(|r| r.slot_keys.clone()).unwrap_or_default(),
                    census: report.and_then(|r| r.census.clone()),
                }
            })
            .collect();
        Self {
            started_at_ms: snapshot.started_at_ms,
            finished_at_ms: snapshot.finished_at_ms,
            seeds: snapshot.seeds.clone(),
            nodes,
        }
    }

    /// The snapshot the refresh published, rebuilt from the raw replies by the probe's own
    /// interpretation; `previous` gives its progress (none for a one-off check).
    #[must_use]
    pub fn snapshot(&self, generation: u64, previous: Option<&ClusterSnapshot>) -> ClusterSnapshot {
        // Folded as the refresher folds them (`cluster::fold`).
        let mut folder = crate::cluster::fold::Folder::new();
        let observations = self
            .nodes
            .iter()
            .map(|n| {
                let mut o = n.raw.observation();
                if let Ok(r) = o.result.as_mut() {
                    r.slot_keys.clone_from(&n.slot_keys);
                    r.census.clone_from(&n.census);
                    r.nodes = folder.fold(std::mem::take(&mut r.nodes));
                }
                o
            })
            .collect();
        folder.finish();
        let mut s = ClusterSnapshot {
            generation,
            started_at_ms: self.started_at_ms,
            finished_at_ms: self.finished_at_ms,
            seeds: self.seeds.clone(),
            observations,
            progress: Progress::default(),
        };
        s.progress = Progress::between(previous, &s);
        s
    }
}

/// A whole recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    /// The first line.
    pub header: Header,
    /// Every refresh, oldest first.
    pub refreshes: Vec<RecordedRefresh>,
}

impl Recording {
    /// Every refresh as the dashboard received it: each snapshot with the progress since the
    /// one before, and the error of a refresh that observed nothing.
    #[must_use]
    pub fn outcomes(&self) -> Vec<RefreshOutcome> {
        let mut out: Vec<RefreshOutcome> = Vec::with_capacity(self.refreshes.len());
        let mut previous: Option<Arc<ClusterSnapshot>> = None;
        for (i, r) in self.refreshes.iter().enumerate() {
            let generation = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
            let outcome = outcome_of(r.snapshot(generation, previous.as_deref()));
            previous = Some(Arc::clone(&outcome.snapshot));
            out.push(outcome);
        }
        out
    }

    /// Refresh `index` (0-based) as a one-off `check` sees it: no previous snapshot, so no
    /// progress, exactly as `slotscope check` observed live.
    #[must_use]
    pub fn check_outcome(&self, index: usize) -> Option<RefreshOutcome> {
        let r = self.refreshes.get(index)?;
        Some(outcome_of(r.snapshot(1, None)))
    }

    /// The refresh `at` names (0-based index).
    ///
    /// # Errors
    /// An index past the end, a time outside the recording, or an empty recording.
    pub fn index_of(&self, at: &At) -> Result<usize, String> {
        let starts: Vec<u64> = self.refreshes.iter().map(|r| r.started_at_ms).collect();
        at.resolve(&starts)
    }
}

/// The outcome a refresh of this snapshot published.
fn outcome_of(snapshot: ClusterSnapshot) -> RefreshOutcome {
    match conclude(snapshot) {
        Ok(s) => RefreshOutcome {
            snapshot: Arc::new(s),
            error: None,
        },
        Err(e) => RefreshOutcome {
            snapshot: Arc::new(e.snapshot.clone()),
            error: Some(e),
        },
    }
}

#[cfg(test)]
mod tests;
