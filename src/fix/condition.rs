//! Facts about the cluster that a plan relies on ([`Condition`], stated in words by a
//! [`Requirement`]): checked on a fresh [`ClusterModel`] just before a plan runs (preconditions) and
//! after it ran (the expected end state).

use serde::{Deserialize, Serialize};

use crate::cluster::model::{ClusterModel, NodeSummary, Reachability, Role, SlotEntry, SlotState};
use crate::cluster::slots::{
    SLOT_COUNT, Slot, SlotRange, format_ranges, ranges_to_slots, slots_to_ranges,
};
use crate::cluster::types::{MarkerKind, NodeId};

use super::marker::MarkerSide;

/// A fact about the cluster that can be checked on a fresh [`ClusterModel`].
///
/// Used both for preconditions (checked just before running) and for the expected end state
/// (checked after running).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// `node` (its own view) has a migrating marker for `slot` towards `to`.
    SlotMigrating {
        slot: Slot,
        node: NodeId,
        to: NodeId,
    },
    /// `node` (its own view) has an importing marker for `slot` from `from`.
    SlotImporting {
        slot: Slot,
        node: NodeId,
        from: NodeId,
    },
    /// `node` has no marker at all for `slot`.
    SlotNotMarkedOn { slot: Slot, node: NodeId },
    /// No node has any marker for these slots.
    SlotsClosed { slots: Vec<SlotRange> },
    /// `node` claims all these slots in its own view.
    SlotsClaimedBy { slots: Vec<SlotRange>, node: NodeId },
    /// The consensus owner of every slot in the ranges is `node` and the state is served.
    SlotsServedBy { slots: Vec<SlotRange>, node: NodeId },
    /// Every slot in the ranges is served (by anyone), not open, not disputed.
    SlotsServed { slots: Vec<SlotRange> },
    /// The consensus has no owner for any slot in the ranges.
    SlotsUncovered { slots: Vec<SlotRange> },
    /// The consensus owner of every slot in the ranges is `node` (whatever its health).
    SlotsOwnedBy { slots: Vec<SlotRange>, node: NodeId },
    /// `node` answered our probe.
    NodeReachable { node: NodeId },
    /// `node` did not answer our probe, or is flagged failing by peers.
    NodeFailing { node: NodeId },
    /// `node` is not reachable by us (refused, timed out) — the strict form of failing.
    NodeUnreachable { node: NodeId },
    /// `node` is a master in its own view (or by consensus if unreachable).
    NodeIsMaster { node: NodeId },
    /// `node` is a replica of `master`.
    NodeIsReplicaOf { node: NodeId, master: NodeId },
    /// No slot is bound to `node` by consensus, and it claims none.
    NodeOwnsNoSlot { node: NodeId },
    /// No reachable node except `node` itself lists `node` in its table.
    NodeForgotten { node: NodeId },
    /// `node` is known by every other reachable cluster node, and knows them.
    NodeJoined { node: NodeId },
    /// `node` is reachable and knows only itself (needs `CLUSTER MEET`).
    NodeIsolated { node: NodeId },
    /// Every reachable node agrees with the consensus slot map.
    AllViewsAgree,
    /// Every reachable cluster node reports `cluster_state:ok`.
    ClusterStateOk,
    /// All 16384 slots are served.
    FullyServed,
    /// Every reachable cluster node has `cluster-require-full-coverage` set to `value`.
    FullCoverage { value: bool },
    /// No reachable master holds keys in these slots except `node` (key counts as observed).
    KeysOnlyOn { slots: Vec<SlotRange>, node: NodeId },
    /// The key census of `node` counts no key in these slots (it stores none of them).
    NoKeysStoredOn { slots: Vec<SlotRange>, node: NodeId },
    /// `node` reports the atomic slot migration `name` as its own export, still running.
    SlotMigrationRunning { node: NodeId, name: String },
    /// `node` answered and exports no atomic slot migration that still runs.
    NoSlotMigrationRunning { node: NodeId },
}

/// A condition with its plain-language statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// E.g. "slot 1234 still migrating on 127.0.0.1:7000 and importing on 127.0.0.1:7001".
    pub description: String,
    pub condition: Condition,
}

/// A precondition of a plan (checked on fresh data just before running).
pub type Precondition = Requirement;

/// One element of the expected end state (checked after running).
pub type Expectation = Requirement;

/// The node's label (`host:port`), or its short id when the model no longer knows it.
fn node_label(model: &ClusterModel, id: &NodeId) -> String {
    model
        .node(id)
        .map_or_else(|| id.short().to_owned(), NodeSummary::label)
}

/// The marker `node` holds for `slot` in its own view: its kind and its peer.
fn own_marker(model: &ClusterModel, node: &NodeId, slot: Slot) -> Option<(MarkerKind, NodeId)> {
    model
        .node(node)?
        .own_line
        .as_ref()?
        .markers
        .iter()
        .find(|m| m.slot == slot)
        .map(|m| (m.kind, m.peer.clone()))
}

/// A node that answered and reported its own `CLUSTER NODES` line.
fn is_reachable_cluster_node(n: &NodeSummary) -> bool {
    matches!(n.reachability, Reachability::Ok) && n.own_line.is_some()
}

impl Condition {
    /// Check the condition on a model: `Ok(())` if it holds, else what is different.
    ///
    /// # Errors
    /// A plain-language description of what does not hold.
    pub fn check(&self, model: &ClusterModel) -> Result<(), String> {
        match self {
            Self::SlotMigrating { slot, node, to } => {
                marker_held(model, MarkerKind::Migrating, *slot, node, to)
            }
            Self::SlotImporting { slot, node, from } => {
                marker_held(model, MarkerKind::Importing, *slot, node, from)
            }
            Self::SlotNotMarkedOn { slot, node } => no_marker_on(model, *slot, node),
            Self::SlotsClosed { slots } => slots_closed(model, slots),
            Self::SlotsClaimedBy { slots, node } => slots_claimed_by(model, slots, node),
            Self::SlotsServedBy { slots, node } => slots_served_by(model, slots, node),
            Self::SlotsServed { slots } => slots_served(model, slots),
            Self::SlotsUncovered { slots } => slots_uncovered(model, slots),
            Self::SlotsOwnedBy { slots, node } => slots_owned_by(model, slots, node),
            Self::NodeReachable { node } => node_reachable(model, node),
            Self::NodeFailing { node } => node_failing(model, node),
            Self::NodeUnreachable { node } => node_unreachable(model, node),
            Self::NodeIsMaster { node } => node_is_master(model, node),
            Self::NodeIsReplicaOf { node, master } => node_is_replica_of(model, node, master),
            Self::NodeOwnsNoSlot { node } => node_owns_no_slot(model, node),
            Self::NodeForgotten { node } => node_forgotten(model, node),
            Self::NodeJoined { node } => node_joined(model, node),
            Self::NodeIsolated { node } => node_isolated(model, node),
            Self::AllViewsAgree => all_views_agree(model),
            Self::ClusterStateOk => cluster_state_ok(model),
            Self::FullyServed => fully_served(model),
            Self::FullCoverage { value } => full_coverage(model, *value),
            Self::KeysOnlyOn { slots, node } => keys_only_on(model, slots, node),
            Self::NoKeysStoredOn { slots, node } => no_keys_stored_on(model, slots, node),
            Self::SlotMigrationRunning { node, name } => slot_migration_running(model, node, name),
            Self::NoSlotMigrationRunning { node } => no_slot_migration_running(model, node),
        }
    }
}

/// The atomic slot migration `name` is still running on its source `node`.
fn slot_migration_running(model: &ClusterModel, node: &NodeId, name: &str) -> Result<(), String> {
    use crate::cluster::slot_migrations::JobPhase;
    let job = model.slot_migrations.iter().find(|j| j.name == name);
    match job.and_then(|j| j.export.as_ref()) {
        Some(half) if half.source.as_ref() == Some(node) && half.phase() == JobPhase::Running => {
            Ok(())
        }
        Some(half) => Err(format!(
            "slot migration {name} is {} on {}",
            half.state,
            node_label(model, node)
        )),
        None => Err(format!(
            "{} does not report slot migration {name}",
            node_label(model, node)
        )),
    }
}

/// `node` reported its slot migrations and none of them runs.
fn no_slot_migration_running(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    use crate::cluster::slot_migrations::JobPhase;
    if !model.node(node).is_some_and(is_reachable_cluster_node) {
        return Err(format!("{} did not answer", node_label(model, node)));
    }
    let running: Vec<&str> = model
        .slot_migrations
        .iter()
        .filter_map(|j| j.export.as_ref())
        .filter(|h| h.source.as_ref() == Some(node) && h.phase() == JobPhase::Running)
        .map(|h| h.name.as_str())
        .collect();
    if running.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} still runs slot migration {}",
            node_label(model, node),
            running.join(", ")
        ))
    }
}

/// `slots 1-3, 7` for a list of slots.
fn slots_text(slots: Vec<Slot>) -> String {
    format_ranges(&slots_to_ranges(slots))
}

/// The slots in `ranges` for which `bad` holds on the model's slot map (a slot missing from
/// the map counts as bad).
fn bad_slots(
    model: &ClusterModel,
    ranges: &[SlotRange],
    bad: impl Fn(&SlotEntry) -> bool,
) -> Vec<Slot> {
    ranges_to_slots(ranges)
        .filter(|s| model.slots.get(usize::from(*s)).is_none_or(&bad))
        .collect()
}

/// `node` holds a marker of `kind` for `slot` with `peer` (either side of a migration).
fn marker_held(
    model: &ClusterModel,
    kind: MarkerKind,
    slot: Slot,
    node: &NodeId,
    peer: &NodeId,
) -> Result<(), String> {
    let label = |id: &NodeId| node_label(model, id);
    match own_marker(model, node, slot) {
        Some((k, p)) if k == kind && &p == peer => Ok(()),
        Some((k, p)) => Err(format!(
            "slot {slot} on {} is now {k:?} with {}",
            label(node),
            label(&p)
        )),
        None if model.node(node).is_some_and(is_reachable_cluster_node) => Err(format!(
            "slot {slot} is no longer {} on {}",
            kind.verb(),
            label(node)
        )),
        None => Err(format!("{} cannot be observed", label(node))),
    }
}

fn no_marker_on(model: &ClusterModel, slot: Slot, node: &NodeId) -> Result<(), String> {
    match own_marker(model, node, slot) {
        None => Ok(()),
        Some((kind, peer)) => Err(format!(
            "{} has slot {slot} {kind:?} with {}",
            node_label(model, node),
            node_label(model, &peer)
        )),
    }
}

fn slots_closed(model: &ClusterModel, slots: &[SlotRange]) -> Result<(), String> {
    let open: Vec<Slot> = model
        .open_slots
        .iter()
        .map(|o| o.slot)
        .filter(|s| slots.iter().any(|r| r.contains(*s)))
        .collect();
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("slots still open: {}", slots_text(open)))
    }
}

fn slots_claimed_by(
    model: &ClusterModel,
    slots: &[SlotRange],
    node: &NodeId,
) -> Result<(), String> {
    let Some(line) = model.node(node).and_then(|n| n.own_line.as_ref()) else {
        return Err(format!("{} cannot be observed", node_label(model, node)));
    };
    let missing: Vec<Slot> = ranges_to_slots(slots)
        .filter(|s| !line.slots.iter().any(|r| r.contains(*s)))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} does not claim slots {}",
            node_label(model, node),
            slots_text(missing)
        ))
    }
}

fn slots_served_by(model: &ClusterModel, slots: &[SlotRange], node: &NodeId) -> Result<(), String> {
    let idx = model.node_index(node);
    let bad = bad_slots(model, slots, |e| {
        e.owner != idx || e.state != SlotState::Served
    });
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "slots {} are not served by {}",
            slots_text(bad),
            node_label(model, node)
        ))
    }
}

fn slots_served(model: &ClusterModel, slots: &[SlotRange]) -> Result<(), String> {
    let bad = bad_slots(model, slots, |e| e.state != SlotState::Served);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("slots {} are not served", slots_text(bad)))
    }
}

fn slots_uncovered(model: &ClusterModel, slots: &[SlotRange]) -> Result<(), String> {
    let bad = bad_slots(model, slots, |e| e.owner.is_some());
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("slots {} now have an owner", slots_text(bad)))
    }
}

fn slots_owned_by(model: &ClusterModel, slots: &[SlotRange], node: &NodeId) -> Result<(), String> {
    let idx = model.node_index(node);
    let bad = bad_slots(model, slots, |e| e.owner.is_none() || e.owner != idx);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "slots {} are no longer owned by {}",
            slots_text(bad),
            node_label(model, node)
        ))
    }
}

/// `Ok` when `holds` is true of `node`; otherwise `unmet` (given the node) says what is
/// different. A node missing from the model is "no longer known".
fn node_state(
    model: &ClusterModel,
    node: &NodeId,
    holds: impl Fn(&NodeSummary) -> bool,
    unmet: impl Fn(&NodeSummary) -> String,
) -> Result<(), String> {
    match model.node(node) {
        Some(n) if holds(n) => Ok(()),
        Some(n) => Err(unmet(n)),
        None => Err(format!("{} is no longer known", node_label(model, node))),
    }
}

fn node_reachable(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    node_state(
        model,
        node,
        |n| matches!(n.reachability, Reachability::Ok),
        |_| format!("{} is not reachable", node_label(model, node)),
    )
}

fn node_failing(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    node_state(model, node, NodeSummary::is_failing, |_| {
        format!("{} is reachable and healthy again", node_label(model, node))
    })
}

fn node_unreachable(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    node_state(
        model,
        node,
        |n| !matches!(n.reachability, Reachability::Ok),
        |_| format!("{} answers again", node_label(model, node)),
    )
}

fn node_is_master(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    node_state(
        model,
        node,
        |n| n.role == Role::Master,
        |n| format!("{} is now {:?}", node_label(model, node), n.role),
    )
}

fn node_is_replica_of(model: &ClusterModel, node: &NodeId, master: &NodeId) -> Result<(), String> {
    node_state(
        model,
        node,
        |n| n.role == Role::Replica && n.master_id.as_ref() == Some(master),
        |n| {
            format!(
                "{} is now {:?}{}",
                node_label(model, node),
                n.role,
                n.master_id
                    .as_ref()
                    .map(|m| format!(" of {}", node_label(model, m)))
                    .unwrap_or_default()
            )
        },
    )
}

fn node_owns_no_slot(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    let idx = model.node_index(node);
    let bound = idx.is_some() && model.slots.iter().any(|e| e.owner == idx);
    let claims = model
        .node(node)
        .is_some_and(|n| !n.claimed_slots.is_empty());
    if bound || claims {
        Err(format!("{} owns slots again", node_label(model, node)))
    } else {
        Ok(())
    }
}

fn node_forgotten(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    let knowers: Vec<String> = model
        .nodes
        .iter()
        .filter(|n| n.id.as_ref() != Some(node))
        .filter(|n| {
            n.own_line.is_some()
                && matches!(n.reachability, Reachability::Ok)
                && model_view_lists(model, n, node)
        })
        .map(NodeSummary::label)
        .collect();
    if knowers.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} is still listed by {}",
            node_label(model, node),
            knowers.join(", ")
        ))
    }
}

fn node_joined(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    let label = |id: &NodeId| node_label(model, id);
    match model.node(node) {
        Some(n) if !n.isolated && n.peers.unknown_to.is_empty() => Ok(()),
        Some(n) if n.isolated => Err(format!("{} still knows only itself", label(node))),
        Some(n) => Err(format!(
            "{} is still unknown to {}",
            label(node),
            n.peers
                .unknown_to
                .iter()
                .map(&label)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Err(format!("{} is no longer known", label(node))),
    }
}

fn node_isolated(model: &ClusterModel, node: &NodeId) -> Result<(), String> {
    node_state(
        model,
        node,
        |n| n.isolated,
        |_| {
            format!(
                "{} has joined the cluster meanwhile",
                node_label(model, node)
            )
        },
    )
}

fn all_views_agree(model: &ClusterModel) -> Result<(), String> {
    if model.disagreements.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} node(s) still disagree about slot ownership: {}",
            model.disagreements.len(),
            model
                .disagreements
                .iter()
                .map(|d| node_label(model, &d.node))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

fn cluster_state_ok(model: &ClusterModel) -> Result<(), String> {
    let bad: Vec<String> = model
        .nodes
        .iter()
        .filter(|n| n.cluster_state_ok == Some(false))
        .map(NodeSummary::label)
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("cluster_state:fail on {}", bad.join(", ")))
    }
}

fn fully_served(model: &ClusterModel) -> Result<(), String> {
    let bad = model
        .slots
        .iter()
        .filter(|e| e.state != SlotState::Served)
        .count();
    if bad == 0 && model.slots.len() == SLOT_COUNT {
        Ok(())
    } else {
        Err(format!("{bad} slot(s) are not served"))
    }
}

fn full_coverage(model: &ClusterModel, value: bool) -> Result<(), String> {
    let bad: Vec<String> = model
        .nodes
        .iter()
        .filter(|n| is_reachable_cluster_node(n))
        .filter(|n| {
            n.config
                .as_ref()
                .and_then(|c| c.require_full_coverage)
                .is_some_and(|v| v != value)
        })
        .map(NodeSummary::label)
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "cluster-require-full-coverage is not {} on {}",
            if value { "yes" } else { "no" },
            bad.join(", ")
        ))
    }
}

fn keys_only_on(model: &ClusterModel, slots: &[SlotRange], node: &NodeId) -> Result<(), String> {
    let mut others: Vec<String> = Vec::new();
    for s in ranges_to_slots(slots) {
        if let Some(per_node) = model.uncovered_keys.get(&s) {
            for (holder, count) in per_node {
                if holder != node && *count > 0 {
                    others.push(format!(
                        "{} has {count} key(s) in slot {s}",
                        node_label(model, holder)
                    ));
                }
            }
        }
    }
    if others.is_empty() {
        Ok(())
    } else {
        others.truncate(5);
        Err(others.join("; "))
    }
}

fn no_keys_stored_on(
    model: &ClusterModel,
    slots: &[SlotRange],
    node: &NodeId,
) -> Result<(), String> {
    let label = node_label(model, node);
    let census = model
        .node(node)
        .and_then(|n| n.census.as_ref())
        .ok_or_else(|| format!("the keys stored on {label} could not be counted"))?;
    let mut held: Vec<String> = Vec::new();
    let mut unknown: Vec<Slot> = Vec::new();
    for s in ranges_to_slots(slots) {
        match census.keys_in(s) {
            Some(0) => {}
            Some(n) => held.push(format!("{n} key(s) in slot {s}")),
            None => unknown.push(s),
        }
    }
    if !held.is_empty() {
        held.truncate(5);
        return Err(format!("{label} still stores {}", held.join(", ")));
    }
    if !unknown.is_empty() {
        return Err(format!(
            "the keys of {label} in {} are not counted yet",
            slots_text(unknown)
        ));
    }
    Ok(())
}

/// Whether `viewer`'s own table lists `node` (as recorded in the node's peer opinion).
fn model_view_lists(model: &ClusterModel, viewer: &NodeSummary, node: &NodeId) -> bool {
    let (Some(vid), Some(n)) = (viewer.id.as_ref(), model.node(node)) else {
        return false;
    };
    n.peers.known_by.iter().any(|k| k == vid)
}

impl Requirement {
    /// A requirement with its description.
    #[must_use]
    pub fn new(description: impl Into<String>, condition: Condition) -> Self {
        Self {
            description: description.into(),
            condition,
        }
    }

    /// Check on a model; `Err` says what changed.
    ///
    /// # Errors
    /// The description and what is different.
    pub fn verify(&self, model: &ClusterModel) -> Result<(), String> {
        self.condition
            .check(model)
            .map_err(|why| format!("{}: {why}", self.description))
    }
}

/// Check every precondition of a plan; returns the list of those that no longer hold.
#[must_use]
pub fn failed_checks(checks: &[Requirement], model: &ClusterModel) -> Vec<String> {
    checks
        .iter()
        .filter_map(|c| c.verify(model).err())
        .collect()
}
