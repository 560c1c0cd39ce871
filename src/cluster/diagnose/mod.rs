//! The diagnosis: findings with severity, plain words, affected slots and nodes, evidence.
//! Pure code over a [`ClusterModel`]; the same findings feed the TUI, `check` and the fixes.
//!
//! # How it decides
//!
//! * A node is **down** when its peers agree it failed (`fail`), or when slotscope cannot
//!   observe it *and* at least one peer suspects it (`fail?`). A `fail?` from a peer about a node
//!   that answers slotscope is only a suspicion and is never reported on its own (`fail?` is
//!   one peer's local suspicion; only `fail` is agreed by a majority of masters). A node only
//!   slotscope cannot reach is *unreachable*, not down.
//! * Slots are **not served** when no master owns them (consensus map) or when their consensus
//!   owner is down.
//! * Every node gets at most one "node status" finding (the most specific one); further facts
//!   about it become evidence lines of that finding, so a dead master yields one `MasterDown`
//!   plus one `ClusterDown`, not five findings.
//! * Findings are sorted by severity (critical first), then by kind (causes before symptoms:
//!   `ClusterDown` first), then by first slot, then by first address, and deduplicated.
//!
//! The work is linear in nodes plus one walk over the 16384-slot map; peer lists are only
//! iterated for nodes that have something to report.
//!
//! # Where things are
//!
//! This file holds the public face: [`Severity`], [`FindingKind`], [`Finding`], [`diagnose`],
//! [`worst`], [`verdict`] and the canonical order of findings. The work happens in:
//!
//! * `ctx`: the context derived once from the model (node index, per-node facts, owned
//!   ranges, replicas, unserved slots) and its lookups; the `Nodes` collector.
//! * `coverage`: slot-level findings (`ClusterDown`, `MajorityLost`, `UncoveredSlots`,
//!   `FullCoverageOff`).
//! * `masters`: `MasterDown` and why no failover happened; a node's status evidence.
//! * `nodes`: one status finding per node (unreachable, down, lingering, not joined, not a
//!   cluster), `NoReplica`, `DataAnomaly`.
//! * `membership`: nodes some peers do not know, handshake and noaddr.
//! * `replication`: replica relations (`ReplicaNotSyncing`, `ReplicaMasterFailing`,
//!   `ReplicaOfUnknownMaster`).
//! * `open_slots`: migrating / importing markers (except slots moving in a reshard).
//! * `progress`: reshards in progress (`ReshardInProgress`, from the snapshot's progress).
//! * `slot_migrations`: atomic slot migration jobs (Valkey 9+): progress, stalled, failed.
//! * `stray`: keys the census found on a master that does not own their slot.
//! * `disputes`: views that disagree about owners, and config epoch collisions.
//! * `access`: commands nodes refuse, and what is unknown because of it.
//! * `ranges` and `words`: slot-range and phrase helpers.

use std::cmp::Reverse;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::model::{ClusterModel, Reachability, Role, SlotState};
use super::slots::SlotRange;
use super::types::NodeId;
use ctx::Ctx;
use words::plural;

mod access;
mod coverage;
mod ctx;
mod disputes;
mod id;
mod masters;
mod membership;
mod nodes;
mod open_slots;
mod progress;
mod ranges;
mod replication;
mod slot_migrations;
mod stray;
mod words;

#[cfg(test)]
mod tests;

/// How bad a finding is. Ordered: `Critical` is the greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Notable but fine.
    Info,
    /// Degraded redundancy or stale membership: nothing is unavailable yet.
    Warning,
    /// Slots are unavailable or data is at risk now.
    Critical,
}

impl Severity {
    /// Lower-case name, as in the JSON document.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// Stable machine-readable kind of a finding (part of the JSON schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Why nodes report `cluster_state:fail`.
    ClusterDown,
    /// Slots bound to no master.
    UncoveredSlots,
    /// A master that is failed or unreachable, with its slots.
    MasterDown,
    /// A replica or slot-less node that is failed or unreachable.
    NodeDown,
    /// Fewer than a majority of slot-owning masters reachable.
    MajorityLost,
    /// Open slots (migrating / importing markers).
    OpenSlot,
    /// Nodes disagree about slot ownership.
    SlotOwnershipDispute,
    /// Two masters with the same config epoch.
    ConfigEpochCollision,
    /// A node some peers do not know.
    PartiallyKnownNode,
    /// A node in handshake or without address.
    HandshakeOrNoaddr,
    /// A running node that is not part of the cluster (needs CLUSTER MEET).
    NodeNotJoined,
    /// A replica whose master is unknown.
    ReplicaOfUnknownMaster,
    /// A failed node still listed in the table.
    LingeringFailedNode,
    /// A master without a replica.
    NoReplica,
    /// A replica whose master is failing.
    ReplicaMasterFailing,
    /// A replica whose replication link to its live master is down: it does not have the
    /// master's data, so a failover to it would lose writes.
    ReplicaNotSyncing,
    /// `cluster-require-full-coverage no` while slots are uncovered.
    FullCoverageOff,
    /// The server is not in cluster mode.
    NotCluster,
    /// A node could not be observed (refused, timeout, auth, loading).
    NodeUnreachable,
    /// Keys stored in databases other than 0, or other anomalies of data.
    DataAnomaly,
    /// Keys stored on a master that does not own their slot (clients are redirected to the
    /// owner and cannot read them).
    StrayKeys,
    /// Slots or keys moved from one master to another since the previous observation: a
    /// reshard in progress (info; its open slots get no `OpenSlot` finding).
    ReshardInProgress,
    /// An atomic slot migration (Valkey 9+) that is progressing (info; no repair is offered
    /// for its slots).
    SlotMigrationInProgress,
    /// An atomic slot migration whose other side is silent, down or unreachable.
    SlotMigrationStalled,
    /// An atomic slot migration that failed or was cancelled, and what it left.
    SlotMigrationFailed,
    /// Nodes refuse a command slotscope uses (`NOPERM`, renamed or unknown): what could not be
    /// learned, or which repairs are advice only.
    CommandRefused,
}

impl FindingKind {
    /// Sort rank among findings of equal severity: causes and headlines before symptoms.
    fn rank(self) -> u8 {
        match self {
            Self::ClusterDown => 0,
            Self::MajorityLost => 1,
            Self::FullCoverageOff => 2,
            Self::NotCluster => 3,
            Self::MasterDown => 4,
            Self::UncoveredSlots => 5,
            Self::SlotOwnershipDispute => 6,
            Self::OpenSlot => 7,
            Self::StrayKeys => 8,
            Self::NodeUnreachable => 9,
            Self::NodeDown => 10,
            Self::LingeringFailedNode => 11,
            Self::NodeNotJoined => 12,
            Self::PartiallyKnownNode => 13,
            Self::HandshakeOrNoaddr => 14,
            Self::ReplicaOfUnknownMaster => 15,
            Self::ReplicaMasterFailing => 16,
            Self::ReplicaNotSyncing => 17,
            Self::ConfigEpochCollision => 18,
            Self::NoReplica => 19,
            Self::DataAnomaly => 20,
            Self::ReshardInProgress => 21,
            Self::SlotMigrationStalled => 22,
            Self::SlotMigrationFailed => 23,
            Self::SlotMigrationInProgress => 24,
            Self::CommandRefused => 25,
        }
    }
}

/// One finding of the diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    /// What class of problem this is.
    pub kind: FindingKind,
    /// How bad it is.
    pub severity: Severity,
    /// One line in plain words naming real things (addresses, short ids, slot ranges).
    pub summary: String,
    /// Affected slots.
    pub slots: Vec<SlotRange>,
    /// Affected nodes (ids).
    pub nodes: Vec<NodeId>,
    /// Affected nodes as `ip:port` for readers (same order as `nodes`; nodes whose id is unknown
    /// come last).
    pub addresses: Vec<String>,
    /// Evidence and explanation, one line each.
    pub evidence: Vec<String>,
}

impl Finding {
    fn new(kind: FindingKind, severity: Severity, summary: String) -> Self {
        Self {
            kind,
            severity,
            summary,
            slots: Vec::new(),
            nodes: Vec::new(),
            addresses: Vec::new(),
            evidence: Vec::new(),
        }
    }

    /// The key findings are sorted by: severity (worst first), kind, first slot, first address.
    fn sort_key(&self) -> (Reverse<Severity>, u8, u32, &str, &str) {
        (
            Reverse(self.severity),
            self.kind.rank(),
            self.slots.first().map_or(u32::MAX, |r| u32::from(r.start)),
            self.addresses.first().map_or("", String::as_str),
            self.summary.as_str(),
        )
    }
}

/// The whole diagnosis, most severe first.
#[must_use]
pub fn diagnose(model: &ClusterModel) -> Vec<Finding> {
    let ctx = Ctx::new(model);
    let mut out = Vec::new();
    ctx.slot_findings(&mut out);
    ctx.node_findings(&mut out);
    ctx.open_slot_findings(&mut out);
    ctx.progress_findings(&mut out);
    ctx.slot_migration_findings(&mut out);
    ctx.stray_key_findings(&mut out);
    ctx.dispute_findings(&mut out);
    ctx.epoch_findings(&mut out);
    ctx.access_findings(&mut out);
    progress::soften_in_motion(model, &mut out);
    sort_findings(&mut out);
    out
}

/// Sort findings into their canonical order and drop exact duplicates.
fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
}

/// Overall verdict: the worst severity, or `None` when healthy.
#[must_use]
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

/// The one-line verdict for the dashboard header and `check`: `CLUSTER DOWN: …`,
/// `CRITICAL: …`, `DEGRADED: …` or `OK: 16384/16384 slots served by 3 masters, 3 replicas`.
#[must_use]
pub fn verdict(model: &ClusterModel, findings: &[Finding]) -> String {
    let top = findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .min_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let more = |sev: Severity| {
        let n = findings.iter().filter(|f| f.severity >= sev).count();
        if n > 1 {
            format!(" (+{} more)", n - 1)
        } else {
            String::new()
        }
    };
    match top {
        Some(f) if f.severity == Severity::Critical => {
            if f.kind == FindingKind::ClusterDown {
                format!("{}{}", f.summary, more(Severity::Critical))
            } else {
                format!("CRITICAL: {}{}", f.summary, more(Severity::Critical))
            }
        }
        Some(f) => format!("DEGRADED: {}{}", f.summary, more(Severity::Warning)),
        None => ok_verdict(model, findings.len()),
    }
}

fn ok_verdict(model: &ClusterModel, notes: usize) -> String {
    if !model
        .nodes
        .iter()
        .any(|n| matches!(n.reachability, Reachability::Ok))
    {
        return "UNKNOWN: no cluster node could be observed".to_owned();
    }
    let mut owners = HashSet::new();
    let mut served = 0usize;
    for e in &model.slots {
        if let Some(o) = e.owner {
            owners.insert(o);
            // A disputed slot is not plainly served (some member views bind it elsewhere).
            served += usize::from(e.state != SlotState::Disputed);
        }
    }
    let replicas = model
        .nodes
        .iter()
        .filter(|n| n.role == Role::Replica)
        .count();
    let total = model.slots.len();
    let notes = match notes {
        0 => String::new(),
        1 => " (1 note)".to_owned(),
        n => format!(" ({n} notes)"),
    };
    format!(
        "OK: {served}/{total} slots served by {} {}, {replicas} {}{notes}",
        owners.len(),
        plural(owners.len(), "master", "masters"),
        plural(replicas, "replica", "replicas"),
    )
}
