//! The context of one diagnosis: everything derived once from the model (node index, per-node
//! facts, consensus-owned ranges, replicas, uncovered and unserved slots), its lookups, and
//! the `Nodes` collector that fills a finding's affected nodes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use super::Finding;
use super::words::{addr_of, label};
use crate::cluster::fasthash::{FxMap, IdKey};
use crate::cluster::model::{ClusterModel, NodeSummary, Reachability, Role};
use crate::cluster::slots::{Slot, SlotRange, merge_ranges, push_range};
use crate::cluster::types::{NodeId, ProbeError};

/// `cluster-node-timeout` assumed when no node let us read it (the Redis default).
const DEFAULT_NODE_TIMEOUT: Duration = Duration::from_secs(15);

/// Per-node facts derived once.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Facts {
    /// Peers agree it failed (`fail`).
    pub(super) agreed_fail: bool,
    /// Agreed failed, or unobservable and suspected.
    pub(super) down: bool,
}

/// Everything the diagnosis derives once from the model; each family adds its methods.
pub(super) struct Ctx<'a> {
    pub(super) model: &'a ClusterModel,
    by_id: FxMap<IdKey<'a>, usize>,
    facts: Vec<Facts>,
    /// Consensus-owned ranges per node index.
    owned: Vec<Vec<SlotRange>>,
    /// Replica indices per master index.
    replicas: Vec<Vec<usize>>,
    /// Slots bound to no master.
    pub(super) uncovered: Vec<SlotRange>,
    /// Uncovered slots plus slots whose owner is down, merged.
    pub(super) unserved: Vec<SlotRange>,
    /// Masters owning at least one slot in the consensus map.
    pub(super) slot_masters: Vec<usize>,
    /// Of those, how many are not down.
    pub(super) live_slot_masters: usize,
    /// At least one node answered as a cluster node.
    pub(super) observed_any: bool,
    /// Ids of nodes that are not part of the cluster (their tables prove nothing).
    pub(super) isolated: HashSet<&'a NodeId>,
    pub(super) node_timeout_ms: u64,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(model: &'a ClusterModel) -> Self {
        let n = model.nodes.len();
        let by_id = index_ids(model);
        let facts: Vec<Facts> = model.nodes.iter().map(node_facts).collect();
        let (owned, uncovered) = owned_ranges(model);
        let replicas = replica_lists(model, &by_id);

        let slot_masters: Vec<usize> = (0..n)
            .filter(|&i| owned.get(i).is_some_and(|r| !r.is_empty()))
            .collect();
        let live_slot_masters = slot_masters
            .iter()
            .filter(|&&i| facts.get(i).is_some_and(|f| !f.down))
            .count();
        let unserved = unserved_ranges(&uncovered, &slot_masters, &facts, &owned);

        let observed_any = model
            .nodes
            .iter()
            .any(|n| matches!(n.reachability, Reachability::Ok));
        let isolated = model
            .nodes
            .iter()
            .filter(|n| n.isolated)
            .filter_map(|n| n.id.as_ref())
            .collect();
        let node_timeout_ms = most_common(
            model
                .nodes
                .iter()
                .filter_map(|n| n.config.as_ref().and_then(|c| c.node_timeout_ms)),
        )
        .unwrap_or_else(|| u64::try_from(DEFAULT_NODE_TIMEOUT.as_millis()).unwrap_or(15_000));

        Self {
            model,
            by_id,
            facts,
            owned,
            replicas,
            uncovered,
            unserved,
            slot_masters,
            live_slot_masters,
            observed_any,
            isolated,
            node_timeout_ms,
        }
    }

    pub(super) fn node(&self, i: usize) -> Option<&'a NodeSummary> {
        self.model.nodes.get(i)
    }

    pub(super) fn fact(&self, i: usize) -> Facts {
        self.facts.get(i).copied().unwrap_or_default()
    }

    pub(super) fn owned(&self, i: usize) -> &[SlotRange] {
        self.owned.get(i).map_or(&[], Vec::as_slice)
    }

    pub(super) fn replicas_of(&self, i: usize) -> &[usize] {
        self.replicas.get(i).map_or(&[], Vec::as_slice)
    }

    pub(super) fn index(&self, id: &NodeId) -> Option<usize> {
        self.by_id.get(&IdKey(id)).copied()
    }

    /// `addr (shortid)` for an id, or `unknown node shortid`.
    pub(super) fn id_label(&self, id: &NodeId) -> String {
        match self.index(id).and_then(|i| self.node(i)) {
            Some(n) => label(n),
            None => format!("unknown node {}", id.short()),
        }
    }

    /// Address for an id (for `Finding::addresses`).
    fn id_addr(&self, id: &NodeId) -> String {
        match self.index(id).and_then(|i| self.node(i)) {
            Some(n) => addr_of(n),
            None => "(unknown)".to_owned(),
        }
    }

    /// Labels of up to `max` ids, then `+N more`.
    pub(super) fn names<'i, I>(&self, ids: I, max: usize) -> String
    where
        I: IntoIterator<Item = &'i NodeId>,
        I::IntoIter: ExactSizeIterator,
    {
        let ids = ids.into_iter();
        let len = ids.len();
        let mut parts: Vec<String> = ids.take(max).map(|id| self.id_label(id)).collect();
        if len > max {
            parts.push(format!("+{} more", len - max));
        }
        parts.join(", ")
    }

    /// Labels of up to `max` node indices, then `+N more`.
    pub(super) fn names_idx(&self, idx: &[usize], max: usize) -> String {
        let mut parts: Vec<String> = idx
            .iter()
            .take(max)
            .filter_map(|&i| self.node(i))
            .map(label)
            .collect();
        if idx.len() > max {
            parts.push(format!("+{} more", idx.len() - max));
        }
        parts.join(", ")
    }

    pub(super) fn majority_needed(&self) -> usize {
        self.slot_masters.len() / 2 + 1
    }

    pub(super) fn majority_lost(&self) -> bool {
        !self.slot_masters.is_empty() && self.live_slot_masters < self.majority_needed()
    }

    /// Nodes that answered as members of the cluster (not isolated, not failed probes).
    pub(super) fn members_observed(&self) -> impl Iterator<Item = (usize, &'a NodeSummary)> + '_ {
        self.model
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.reachability, Reachability::Ok) && !n.isolated)
    }

    /// Whether the node with this id answered slotscope.
    pub(super) fn observed(&self, id: &NodeId) -> bool {
        self.index(id)
            .and_then(|i| self.node(i))
            .is_some_and(|n| matches!(n.reachability, Reachability::Ok))
    }
}

/// Node index by id (the first node with an id wins).
fn index_ids(model: &ClusterModel) -> FxMap<IdKey<'_>, usize> {
    let mut by_id: FxMap<IdKey<'_>, usize> = FxMap::default();
    by_id.reserve(model.nodes.len());
    for (i, node) in model.nodes.iter().enumerate() {
        if let Some(id) = &node.id {
            by_id.entry(IdKey(id)).or_insert(i);
        }
    }
    by_id
}

/// One walk over the slot map, run by run of slots with the same owner (not slot by slot):
/// the consensus-owned ranges per node index, and the slots bound to no master.
fn owned_ranges(model: &ClusterModel) -> (Vec<Vec<SlotRange>>, Vec<SlotRange>) {
    let mut owned: Vec<Vec<SlotRange>> = vec![Vec::new(); model.nodes.len()];
    let mut uncovered = Vec::new();
    let mut start = 0usize;
    while let Some(entry) = model.slots.get(start) {
        let len = model.slots[start..]
            .iter()
            .position(|e| e.owner != entry.owner)
            .unwrap_or(model.slots.len() - start);
        let (Ok(first), Ok(last)) = (Slot::try_from(start), Slot::try_from(start + len - 1)) else {
            break;
        };
        let range = SlotRange::new(first, last);
        match entry.owner.and_then(|o| owned.get_mut(o as usize)) {
            Some(ranges) => push_range(ranges, range),
            None => push_range(&mut uncovered, range),
        }
        start += len;
    }
    (owned, uncovered)
}

/// Replica indices per master index (a replica of itself is ignored).
fn replica_lists(model: &ClusterModel, by_id: &FxMap<IdKey<'_>, usize>) -> Vec<Vec<usize>> {
    let mut replicas: Vec<Vec<usize>> = vec![Vec::new(); model.nodes.len()];
    for (i, node) in model.nodes.iter().enumerate() {
        if node.role == Role::Replica
            && let Some(m) = node.master_id.as_ref().and_then(|m| by_id.get(&IdKey(m)))
            && let Some(list) = replicas.get_mut(*m)
            && *m != i
        {
            list.push(i);
        }
    }
    replicas
}

/// Uncovered slots plus the slots of down slot-owning masters, merged.
fn unserved_ranges(
    uncovered: &[SlotRange],
    slot_masters: &[usize],
    facts: &[Facts],
    owned: &[Vec<SlotRange>],
) -> Vec<SlotRange> {
    let mut unserved = uncovered.to_vec();
    for &i in slot_masters {
        if facts.get(i).is_some_and(|f| f.down)
            && let Some(r) = owned.get(i)
        {
            unserved.extend_from_slice(r);
        }
    }
    merge_ranges(unserved)
}

/// Whether a node failed by agreement, and whether it counts as down.
fn node_facts(n: &NodeSummary) -> Facts {
    let reachable = matches!(n.reachability, Reachability::Ok);
    let agreed_fail = !n.peers.fail_by.is_empty() || (!reachable && n.flags.fail);
    let suspected = !n.peers.pfail_by.is_empty() || (!reachable && n.flags.pfail);
    let not_cluster = matches!(
        n.reachability,
        Reachability::Failed(ProbeError::NotCluster { .. })
    );
    // A node we could not even try is judged by its peers alone: a `fail?` counts only when
    // most of the nodes listing it agree.
    let suspected_enough = match n.reachability {
        Reachability::Ok => false,
        Reachability::Failed(_) => suspected,
        Reachability::NotProbed => n.peers.pfail_by.len() * 2 > n.peers.known_by.len(),
    };
    let down = !not_cluster && (agreed_fail || suspected_enough);
    Facts { agreed_fail, down }
}

/// The most frequent value (the smallest among ties).
fn most_common(values: impl Iterator<Item = u64>) -> Option<u64> {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(v, c)| (c, Reverse(v)))
        .map(|(v, _)| v)
}

/// Collects the affected nodes of a finding: ids and addresses in the same order, id-less
/// nodes' addresses last, no duplicates.
#[derive(Default)]
pub(super) struct Nodes {
    with_id: Vec<(NodeId, String)>,
    without_id: Vec<String>,
}

impl Nodes {
    pub(super) fn add(&mut self, n: Option<&NodeSummary>) {
        let Some(n) = n else { return };
        if let Some(id) = &n.id {
            if !self.with_id.iter().any(|(x, _)| x == id) {
                self.with_id.push((id.clone(), addr_of(n)));
            }
        } else {
            let a = addr_of(n);
            if !self.without_id.contains(&a) {
                self.without_id.push(a);
            }
        }
    }

    pub(super) fn add_id(&mut self, ctx: &Ctx<'_>, id: &NodeId) {
        if !self.with_id.iter().any(|(x, _)| x == id) {
            self.with_id.push((id.clone(), ctx.id_addr(id)));
        }
    }

    pub(super) fn finish(self, f: &mut Finding) {
        for (id, a) in self.with_id {
            f.nodes.push(id);
            f.addresses.push(a);
        }
        f.addresses.extend(self.without_id);
    }
}
