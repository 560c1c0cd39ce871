//! The diagnosis: findings with severity, plain words, affected slots and nodes, evidence.
//! Pure code over a [`ClusterModel`]; the same findings feed the TUI, `check` and the fixes.

use serde::{Deserialize, Serialize};

use super::model::ClusterModel;
use super::types::{NodeId, SlotRange};

/// How bad a finding is. Ordered: `Critical` is the greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
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
    /// `cluster-require-full-coverage no` while slots are uncovered.
    FullCoverageOff,
    /// The server is not in cluster mode.
    NotCluster,
    /// A node could not be observed (refused, timeout, auth, loading).
    NodeUnreachable,
    /// Keys stored in databases other than 0, or other anomalies of data.
    DataAnomaly,
}

/// One finding of the diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// One line in plain words naming real things (addresses, short ids, slot ranges).
    pub summary: String,
    /// Affected slots.
    pub slots: Vec<SlotRange>,
    /// Affected nodes (ids).
    pub nodes: Vec<NodeId>,
    /// Affected nodes as `ip:port` for readers (same order as `nodes` where ids are known).
    pub addresses: Vec<String>,
    /// Evidence and explanation, one line each.
    pub evidence: Vec<String>,
}

/// The whole diagnosis, most severe first.
#[must_use]
pub fn diagnose(model: &ClusterModel) -> Vec<Finding> {
    let _ = model;
    Vec::new()
}

/// Overall verdict: the worst severity, or `None` when healthy.
#[must_use]
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}
