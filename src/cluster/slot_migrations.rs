//! Atomic slot migrations (Valkey 9+): `CLUSTER MIGRATESLOTS` jobs as `CLUSTER
//! GETSLOTMIGRATIONS` reports them.
//!
//! A job has two halves with the same name: an `EXPORT` on the source (where `MIGRATESLOTS`
//! was sent) and an `IMPORT` on the target. The source keeps owning and serving the slots until
//! the target has every key and takes them over in one step; keys the target received so far
//! are invisible there (not counted by `DBSIZE` or `COUNTKEYSINSLOT`). A job that fails or is
//! cancelled leaves the slots on the source and the target drops its partial copy; so a failed
//! job normally leaves nothing to repair (see `docs/servers.md`).
//!
//! Pure: [`parse_jobs`] reads the reply's field/value pairs, [`collect`] joins both halves of
//! every job seen in a snapshot into one [`AtomicMigration`], and [`AtomicMigration::health`]
//! decides whether a running job is progressing or stalled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::slots::{Slot, SlotRange, merge_ranges};
use super::types::{ClusterSnapshot, NodeId};

/// Seconds without an acknowledgement from the other side after which a running job counts as
/// stalled. A live job exchanges acknowledgements every second; the server itself fails a job
/// after `repl-timeout` (60 s by default) without one.
pub const STALL_AFTER_S: u64 = 10;

/// How long a failed or cancelled job stays in the findings after its last update. The server
/// keeps finished jobs in its log (`cluster-slot-migration-log-max-len`, 1000 by default).
pub const RECENT_FINISHED_S: u64 = 3600;

/// Which half of a job a node reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobSide {
    /// This node is the source (`operation EXPORT`).
    Export,
    /// This node is the target (`operation IMPORT`).
    Import,
}

/// Where a job is, by its `state` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobPhase {
    /// Any state that is not final (`connecting`, `snapshotting`, `waiting-for-ack`, …).
    Running,
    /// `success`: the target owns the slots.
    Success,
    /// `failed` (the `message` says why).
    Failed,
    /// `cancelled` (by `CLUSTER CANCELSLOTMIGRATIONS`).
    Cancelled,
}

impl JobPhase {
    /// From the server's `state` word.
    #[must_use]
    pub fn of(state: &str) -> Self {
        match state.to_ascii_lowercase().as_str() {
            "success" | "succeeded" | "completed" => Self::Success,
            "failed" | "fail" => Self::Failed,
            "cancelled" | "canceled" => Self::Cancelled,
            _ => Self::Running,
        }
    }

    /// Lower-case word, as in the JSON document.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One entry of one node's `CLUSTER GETSLOTMIGRATIONS` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotMigrationJob {
    /// The job's name (the same on both sides).
    pub name: String,
    /// `None` when the operation is neither `EXPORT` nor `IMPORT`.
    pub side: Option<JobSide>,
    pub slots: Vec<SlotRange>,
    pub source: Option<NodeId>,
    pub target: Option<NodeId>,
    /// The server's `state` word (`snapshotting`, `failed`, …).
    pub state: String,
    /// Why it failed, when it did.
    pub message: String,
    /// Unix seconds.
    pub create_time_s: Option<u64>,
    pub last_update_time_s: Option<u64>,
    pub last_ack_time_s: Option<u64>,
    /// Bytes copied on write by the snapshot child so far.
    pub cow_size: Option<u64>,
    /// Bytes of the write stream still to send after the snapshot.
    pub remaining_repl_size: Option<u64>,
    /// Fields this version of slotscope does not know, kept as sent.
    #[serde(default)]
    pub other: BTreeMap<String, String>,
}

impl SlotMigrationJob {
    #[must_use]
    pub fn phase(&self) -> JobPhase {
        JobPhase::of(&self.state)
    }
}

/// Parse a reply given as one list of (field, value) pairs per job. Never fails: an entry
/// without a name is skipped, a number that does not parse is `None`, a slot range that does
/// not parse is left out, unknown fields land in `other`.
#[must_use]
pub fn parse_jobs(entries: &[Vec<(String, String)>]) -> Vec<SlotMigrationJob> {
    entries.iter().filter_map(|e| parse_job(e)).collect()
}

fn parse_job(fields: &[(String, String)]) -> Option<SlotMigrationJob> {
    let mut job = SlotMigrationJob {
        name: String::new(),
        side: None,
        slots: Vec::new(),
        source: None,
        target: None,
        state: String::new(),
        message: String::new(),
        create_time_s: None,
        last_update_time_s: None,
        last_ack_time_s: None,
        cow_size: None,
        remaining_repl_size: None,
        other: BTreeMap::new(),
    };
    let id = |v: &str| (!v.trim().is_empty()).then(|| NodeId::from(v.trim()));
    for (k, v) in fields {
        match k.to_ascii_lowercase().as_str() {
            "name" => job.name.clone_from(v),
            "operation" => {
                job.side = match v.to_ascii_uppercase().as_str() {
                    "EXPORT" => Some(JobSide::Export),
                    "IMPORT" => Some(JobSide::Import),
                    _ => None,
                }
            }
            "slot_ranges" => job.slots = parse_ranges(v),
            "source_node" => job.source = id(v),
            "target_node" => job.target = id(v),
            "state" => job.state.clone_from(v),
            "message" => job.message.clone_from(v),
            "create_time" => job.create_time_s = v.trim().parse().ok(),
            "last_update_time" => job.last_update_time_s = v.trim().parse().ok(),
            "last_ack_time" => job.last_ack_time_s = v.trim().parse().ok(),
            "cow_size" => job.cow_size = v.trim().parse().ok(),
            "remaining_repl_size" => job.remaining_repl_size = v.trim().parse().ok(),
            other => {
                job.other.insert(other.to_owned(), v.clone());
            }
        }
    }
    (!job.name.is_empty()).then_some(job)
}

/// `0-99`, `5`, `0-99 200-300` or `0-99,200-300`; ranges that do not parse are left out.
fn parse_ranges(s: &str) -> Vec<SlotRange> {
    let ranges = s
        .split([' ', ','])
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            let (a, b): (Slot, Slot) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b && usize::from(b) < super::slots::SLOT_COUNT).then(|| SlotRange::new(a, b))
        })
        .collect();
    merge_ranges(ranges)
}

/// One job as the cluster sees it: both halves joined by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomicMigration {
    pub name: String,
    pub slots: Vec<SlotRange>,
    pub source: Option<NodeId>,
    pub target: Option<NodeId>,
    /// The source's half, when the source answered and still lists the job.
    pub export: Option<SlotMigrationJob>,
    /// The target's half, when the target answered and still lists the job.
    pub import: Option<SlotMigrationJob>,
    /// Unix seconds of the observation that read the job (the latest of its two halves).
    pub observed_at_s: u64,
}

/// Whether a running job moves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobHealth {
    /// Acknowledgements arrive: the job is progressing.
    Progressing,
    /// No acknowledgement for `silent_s` seconds.
    Stalled { silent_s: u64 },
    /// The source or target (`role`) is down or does not answer: `why`.
    PeerDown {
        role: String,
        node: NodeId,
        why: String,
    },
}

impl JobHealth {
    /// `progressing` or `stalled`, as in the JSON document.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Progressing => "progressing",
            Self::Stalled { .. } | Self::PeerDown { .. } => "stalled",
        }
    }
}

impl AtomicMigration {
    /// The half that speaks for the job: the source's (where it was started), else the
    /// target's.
    #[must_use]
    pub fn main(&self) -> Option<&SlotMigrationJob> {
        self.export.as_ref().or(self.import.as_ref())
    }

    /// The job's phase: running while either half runs, else the source's final word (a
    /// cancelled export shows as failed on the target: "connection lost to source").
    #[must_use]
    pub fn phase(&self) -> JobPhase {
        let halves = [self.export.as_ref(), self.import.as_ref()];
        if halves
            .iter()
            .flatten()
            .any(|j| j.phase() == JobPhase::Running)
        {
            return JobPhase::Running;
        }
        self.main()
            .map_or(JobPhase::Running, SlotMigrationJob::phase)
    }

    /// The server's state word of the half that speaks for the job.
    #[must_use]
    pub fn state(&self) -> &str {
        self.main().map_or("", |j| j.state.as_str())
    }

    /// The failure message of either half (the source's first).
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        [self.export.as_ref(), self.import.as_ref()]
            .into_iter()
            .flatten()
            .map(|j| j.message.trim())
            .find(|m| !m.is_empty())
    }

    fn times(&self, f: impl Fn(&SlotMigrationJob) -> Option<u64>) -> Option<u64> {
        [self.export.as_ref(), self.import.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(f)
            .max()
    }

    /// Unix seconds when the job was created.
    #[must_use]
    pub fn created_s(&self) -> Option<u64> {
        self.times(|j| j.create_time_s)
    }

    /// Unix seconds of the latest acknowledgement either side received.
    #[must_use]
    pub fn last_ack_s(&self) -> Option<u64> {
        self.times(|j| j.last_ack_time_s)
    }

    /// Unix seconds of the latest update of either side.
    #[must_use]
    pub fn last_update_s(&self) -> Option<u64> {
        self.times(|j| j.last_update_time_s)
    }

    /// Seconds since the job was created, at the observation.
    #[must_use]
    pub fn age_s(&self) -> Option<u64> {
        self.created_s()
            .map(|c| self.observed_at_s.saturating_sub(c))
    }

    /// Seconds since the last acknowledgement, at the observation.
    #[must_use]
    pub fn silent_s(&self) -> Option<u64> {
        self.last_ack_s()
            .map(|a| self.observed_at_s.saturating_sub(a))
    }

    /// A running job's health from its acknowledgements; `None` once it finished.
    #[must_use]
    pub fn health(&self) -> Option<JobHealth> {
        if self.phase() != JobPhase::Running {
            return None;
        }
        Some(match self.silent_s() {
            Some(s) if s >= STALL_AFTER_S => JobHealth::Stalled { silent_s: s },
            _ => JobHealth::Progressing,
        })
    }

    /// A running job's health on the model: a source or target that is marked failed or does
    /// not answer stalls it at once; otherwise [`Self::health`].
    #[must_use]
    pub fn health_in(&self, model: &super::model::ClusterModel) -> Option<JobHealth> {
        let own = self.health()?;
        for (role, id) in [("target", &self.target), ("source", &self.source)] {
            let Some(n) = id.as_ref().and_then(|id| model.node(id)) else {
                continue;
            };
            let why = if n.flags.fail {
                "is marked failed by its peers"
            } else if !matches!(n.reachability, super::model::Reachability::Ok) {
                "does not answer"
            } else {
                continue;
            };
            return Some(JobHealth::PeerDown {
                role: role.to_owned(),
                node: n.id.clone().unwrap_or_else(|| NodeId::from("")),
                why: why.to_owned(),
            });
        }
        Some(own)
    }

    /// Whether the job finished at most [`RECENT_FINISHED_S`] before the observation.
    #[must_use]
    pub fn finished_recently(&self) -> bool {
        self.phase() != JobPhase::Running
            && self
                .last_update_s()
                .is_some_and(|u| self.observed_at_s.saturating_sub(u) <= RECENT_FINISHED_S)
    }

    /// A few words on where it is: `snapshotting, 3 s, last ack 0 s ago, 12 KB left`.
    #[must_use]
    pub fn progress_words(&self) -> String {
        let mut parts = vec![self.state().to_owned()];
        if let Some(a) = self.age_s() {
            parts.push(format!("{a} s old"));
        }
        if self.phase() == JobPhase::Running {
            if let Some(s) = self.silent_s() {
                parts.push(format!("last ack {s} s ago"));
            }
            if let Some(r) = self.main().and_then(|j| j.remaining_repl_size)
                && r > 0
            {
                parts.push(format!("{r} bytes of writes left to stream"));
            }
        }
        parts.join(", ")
    }
}

/// Both halves of every job reported in the snapshot, newest first (by creation time, then
/// name). Halves that disagree about the slots keep the source's.
#[must_use]
pub fn collect(snapshot: &ClusterSnapshot) -> Vec<AtomicMigration> {
    let mut by_name: BTreeMap<String, AtomicMigration> = BTreeMap::new();
    for o in &snapshot.observations {
        let Some(jobs) = o.report().and_then(|r| r.slot_migrations.as_ref()) else {
            continue;
        };
        for job in jobs {
            let e = by_name
                .entry(job.name.clone())
                .or_insert_with(|| AtomicMigration {
                    name: job.name.clone(),
                    slots: job.slots.clone(),
                    source: job.source.clone(),
                    target: job.target.clone(),
                    export: None,
                    import: None,
                    observed_at_s: 0,
                });
            e.observed_at_s = e.observed_at_s.max(o.observed_at_ms / 1000);
            match job.side {
                Some(JobSide::Export) => {
                    e.slots.clone_from(&job.slots);
                    e.export = Some(job.clone());
                }
                Some(JobSide::Import) => e.import = Some(job.clone()),
                None => {}
            }
            if e.source.is_none() {
                e.source.clone_from(&job.source);
            }
            if e.target.is_none() {
                e.target.clone_from(&job.target);
            }
        }
    }
    let mut out: Vec<AtomicMigration> = by_name.into_values().collect();
    out.sort_by(|a, b| {
        b.created_s()
            .cmp(&a.created_s())
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

/// The entries of a `redis-cli --no-raw CLUSTER GETSLOTMIGRATIONS` capture, as the refresh
/// hands them over: one list of (field, value) pairs per job. For the tests and the
/// `slot_migrations` fuzz target.
#[cfg(any(test, feature = "testkit"))]
#[must_use]
pub fn entries_from_capture(text: &str) -> Vec<Vec<(String, String)>> {
    let mut entries: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        let mut rest = t;
        let mut indices = 0;
        while let Some((n, tail)) = rest.split_once(')') {
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                break;
            }
            indices += 1;
            rest = tail.trim_start();
        }
        if indices == 0 {
            continue;
        }
        if indices == 2 || entries.is_empty() {
            entries.push(Vec::new());
        }
        let value = if let Some(n) = rest.strip_prefix("(integer) ") {
            n.to_owned()
        } else {
            rest.trim_matches('"').replace("\\\"", "\"")
        };
        if let Some(e) = entries.last_mut() {
            e.push(value);
        }
    }
    entries
        .into_iter()
        .map(|e| {
            e.chunks(2)
                .filter_map(|p| Some((p.first()?.clone(), p.get(1)?.clone())))
                .collect()
        })
        .collect()
}

/// A job as both sides report it, for tests: slots `slots` from `source` to `target` in
/// `state`, created at `created_s`, last acknowledged at `ack_s`, observed at `observed_s`.
#[cfg(any(test, feature = "testkit"))]
#[must_use]
pub fn sample_migration(
    source: &NodeId,
    target: &NodeId,
    slots: SlotRange,
    state: &str,
    (created_s, ack_s, observed_s): (u64, u64, u64),
) -> AtomicMigration {
    let half = |side| SlotMigrationJob {
        name: format!("job-{}-{}", slots.start, slots.end),
        side: Some(side),
        slots: vec![slots],
        source: Some(source.clone()),
        target: Some(target.clone()),
        state: state.to_owned(),
        message: String::new(),
        create_time_s: Some(created_s),
        last_update_time_s: Some(ack_s),
        last_ack_time_s: Some(ack_s),
        cow_size: Some(0),
        remaining_repl_size: Some(0),
        other: BTreeMap::new(),
    };
    AtomicMigration {
        name: format!("job-{}-{}", slots.start, slots.end),
        slots: vec![slots],
        source: Some(source.clone()),
        target: Some(target.clone()),
        export: Some(half(JobSide::Export)),
        import: Some(half(JobSide::Import)),
        observed_at_s: observed_s,
    }
}

#[cfg(test)]
mod tests;
