//! Open slots (`OpenSlot`): migrating and importing markers, grouped by the markers they carry.
//! Both sides of a move are handled by the same code through [`Side`]: a marker is a
//! `(node, peer)` pair whether the node is the source (`migrating`, peer = target) or the
//! target (`importing`, peer = source).

use std::collections::{BTreeMap, HashSet};

use super::ctx::{Ctx, Nodes};
use super::ranges::slots_phrase;
use super::words::{EVIDENCE_NODES, SUMMARY_NODES, capitalize, plural, plural_u64};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::OpenSlot;
use crate::cluster::slots::{SlotRange, push_slot};
use crate::cluster::types::NodeId;

/// The side of a slot move a marker is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// `MIGRATING` on the source; its peer is the target.
    Migrating,
    /// `IMPORTING` on the target; its peer is the source.
    Importing,
}

impl Side {
    /// The marker's name: `migrating` or `importing`.
    fn marker(self) -> &'static str {
        match self {
            Self::Migrating => "migrating",
            Self::Importing => "importing",
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Migrating => Self::Importing,
            Self::Importing => Self::Migrating,
        }
    }

    /// What the peer of a marked node is: `target` or `source`.
    fn peer_role(self) -> &'static str {
        match self {
            Self::Migrating => "target",
            Self::Importing => "source",
        }
    }

    /// Joins a marked node to its peer in words: `A to B`, `B from A`.
    fn toward(self) -> &'static str {
        match self {
            Self::Migrating => "to",
            Self::Importing => "from",
        }
    }

    /// Joins a marked node to its peer as an arrow in the direction of the move.
    fn arrow(self) -> &'static str {
        match self {
            Self::Migrating => "->",
            Self::Importing => "<-",
        }
    }

    /// What a marker on this side alone does to clients and tools, and how to close it.
    fn alone_advice(self) -> Vec<String> {
        let lines: [&str; 2] = match self {
            Self::Migrating => [
                "keys missing on the source are redirected with ASK to the target, which \
                 answers MOVED back unless it is importing; reshard/rebalance refuse to run",
                "close it with CLUSTER SETSLOT <slot> STABLE on the source if no key moved",
            ],
            Self::Importing => [
                "no client symptom, but reshard/rebalance refuse to run, and gossip cannot \
                 rebind these slots on the importing node (its view is frozen)",
                "close it with CLUSTER SETSLOT <slot> STABLE on the importing node once its \
                 keys are accounted for",
            ],
        };
        lines.iter().map(|&l| l.to_owned()).collect()
    }
}

/// Open slots with the same markers are reported together.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct OpenKey {
    owner: Option<NodeId>,
    /// (source, target) of every master's migrating marker.
    migrating: Vec<(NodeId, NodeId)>,
    /// (target, source) of every master's importing marker.
    importing: Vec<(NodeId, NodeId)>,
    on_replicas: Vec<NodeId>,
}

impl OpenKey {
    fn of(o: &OpenSlot) -> Self {
        let on_replicas = sorted_unique(&o.on_replicas);
        // A replica's marker shows up in its own line, not as a master's move.
        let masters_only = |pairs: &[(NodeId, NodeId)]| {
            let mut pairs = sorted_unique(pairs);
            pairs.retain(|(node, _)| !on_replicas.contains(node));
            pairs
        };
        Self {
            owner: o.owner.clone(),
            migrating: masters_only(&o.migrating),
            importing: masters_only(&o.importing),
            on_replicas,
        }
    }

    /// The `(node, peer)` markers of masters on one side.
    fn pairs(&self, side: Side) -> &[(NodeId, NodeId)] {
        match side {
            Side::Migrating => &self.migrating,
            Side::Importing => &self.importing,
        }
    }

    /// Every migrating marker has its importing counterpart, and nothing else is marked.
    fn all_matched(&self) -> bool {
        let matched = |a: &NodeId, b: &NodeId| self.importing.iter().any(|(x, y)| x == b && y == a);
        !self.migrating.is_empty()
            && self.migrating.iter().all(|(a, b)| matched(a, b))
            && self.importing.len() == self.migrating.len()
    }

    /// The side that holds markers when only one side does.
    fn lone_side(&self) -> Option<Side> {
        match (self.migrating.is_empty(), self.importing.is_empty()) {
            (false, true) => Some(Side::Migrating),
            (true, false) => Some(Side::Importing),
            _ => None,
        }
    }

    /// Every node named by a marker, in order, without duplicates.
    fn involved(&self) -> Vec<NodeId> {
        let mut involved: Vec<NodeId> = Vec::new();
        for (a, b) in self.migrating.iter().chain(&self.importing) {
            involved.push(a.clone());
            involved.push(b.clone());
        }
        involved.extend(self.on_replicas.iter().cloned());
        dedup_keep_order(&mut involved);
        involved
    }
}

#[derive(Clone, Debug, Default)]
struct OpenGroup {
    slots: Vec<SlotRange>,
    keys: BTreeMap<NodeId, u64>,
}

impl Ctx<'_> {
    pub(super) fn open_slot_findings(&self, out: &mut Vec<Finding>) {
        let mut groups: BTreeMap<OpenKey, OpenGroup> = BTreeMap::new();
        for o in &self.model.open_slots {
            // A slot moving in a live reshard is progress, reported by `progress`.
            if self.model.progress.is_moving(o.slot) {
                continue;
            }
            let key = OpenKey::of(o);
            let g = groups.entry(key).or_default();
            push_slot(&mut g.slots, o.slot);
            for (id, k) in &o.keys {
                *g.keys.entry(id.clone()).or_insert(0) += k;
            }
        }
        for (key, group) in groups {
            out.push(self.open_finding(&key, &group));
        }
    }

    /// `, 6 keys on A, 4 keys on B` for the nodes whose counts are known; empty if none is.
    fn keys_part(&self, g: &OpenGroup, ids: &[&NodeId]) -> String {
        let parts: Vec<String> = ids
            .iter()
            .filter_map(|id| {
                g.keys.get(*id).map(|k| {
                    format!(
                        "{k} {} on {}",
                        plural_u64(*k, "key", "keys"),
                        self.id_label(id)
                    )
                })
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(": {}", parts.join(", "))
        }
    }

    /// One finding for a group of open slots with the same markers.
    fn open_finding(&self, key: &OpenKey, g: &OpenGroup) -> Finding {
        let what = slots_phrase(&g.slots);
        let all_matched = key.all_matched();
        let involved = key.involved();
        let (summary, mut evidence) = if all_matched {
            self.half_moved(&what, key, g)
        } else if let Some(side) = key.lone_side() {
            self.one_side_marked(&what, side, key, g)
        } else if key.migrating.is_empty() && key.importing.is_empty() {
            (
                format!(
                    "{what} open only on {} {}: redis-cli cannot fix this; on 7.0 the marker clears \
                     only when the replica is restarted without it or promoted",
                    plural(key.on_replicas.len(), "replica", "replicas"),
                    self.names(&key.on_replicas, SUMMARY_NODES)
                ),
                vec!["SETSLOT is refused on replicas".to_owned()],
            )
        } else {
            self.inconsistent(&what, key)
        };
        self.open_context(key, g, &mut evidence);
        let severity = self.open_severity(key, g, all_matched, &involved, &mut evidence);
        let mut f = Finding::new(FindingKind::OpenSlot, severity, capitalize(&summary));
        f.slots.clone_from(&g.slots);
        let mut b = Nodes::default();
        for id in &involved {
            b.add_id(self, id);
        }
        b.finish(&mut f);
        f.evidence = evidence;
        f
    }

    /// Both sides of every move are marked: an interrupted reshard.
    fn half_moved(&self, what: &str, key: &OpenKey, g: &OpenGroup) -> (String, Vec<String>) {
        let moves: Vec<String> = key
            .migrating
            .iter()
            .map(|(a, b)| {
                format!(
                    "from {} to {} (both sides marked)",
                    self.id_label(a),
                    self.id_label(b)
                )
            })
            .collect();
        let sides: Vec<&NodeId> = key.migrating.iter().flat_map(|(a, b)| [a, b]).collect();
        let with_keys = sides
            .iter()
            .filter(|id| g.keys.get(**id).is_some_and(|k| *k > 0))
            .count();
        (
            format!(
                "{what} half-moved {}{}",
                moves.join("; "),
                self.keys_part(g, &sides)
            ),
            vec![
                if with_keys >= 2 {
                    "keys are on both sides: clients follow ASK redirects, multi-key commands \
                     get TRYAGAIN"
                        .to_owned()
                } else {
                    "clients follow ASK redirects for keys already moved".to_owned()
                },
                "an interrupted reshard: finish it (MIGRATE the remaining keys, then CLUSTER \
                 SETSLOT NODE on the target first) or roll it back"
                    .to_owned(),
            ],
        )
    }

    /// Only one side of the move is marked (`side`); the other is missing or not observed.
    fn one_side_marked(
        &self,
        what: &str,
        side: Side,
        key: &OpenKey,
        g: &OpenGroup,
    ) -> (String, Vec<String>) {
        let pairs = key.pairs(side);
        let marked: Vec<&NodeId> = pairs.iter().map(|(node, _)| node).collect();
        let peers_seen = pairs.iter().all(|(_, peer)| self.observed(peer));
        let peer = side.peer_role();
        let missing = side.other().marker();
        let why = if peers_seen {
            format!("but the {peer} is not {missing}")
        } else {
            format!("with no {missing} side in view ({peer} not observed)")
        };
        let mut advice = side.alone_advice();
        let hidden: u64 = marked.iter().filter_map(|id| g.keys.get(*id)).sum();
        if side == Side::Importing && hidden > 0 {
            // Without the source's migrating marker nobody sends ASK to the importing node.
            advice = vec![
                format!(
                    "clients cannot read the {hidden} {} on the importing node: without a \
                     migrating source nobody redirects to it; reshard/rebalance refuse to run",
                    plural_u64(hidden, "key", "keys")
                ),
                "move them to the slot's owner before closing it: CLUSTER SETSLOT <slot> \
                 STABLE alone leaves them stored but unreadable"
                    .to_owned(),
            ];
        }
        (
            format!(
                "{what} marked {} ({}) {why}{}",
                side.marker(),
                self.marker_list(side.toward(), pairs).join("; "),
                self.keys_part(g, &marked)
            ),
            advice,
        )
    }

    /// Keys on an importing node whose source is not migrating: nobody can read them.
    fn hidden_on_importing(key: &OpenKey, g: &OpenGroup) -> bool {
        key.migrating.is_empty()
            && key
                .importing
                .iter()
                .any(|(node, _)| g.keys.get(node).is_some_and(|k| *k > 0))
    }

    /// Markers on both sides that do not describe one move.
    fn inconsistent(&self, what: &str, key: &OpenKey) -> (String, Vec<String>) {
        let list = |side: Side| self.marker_list(side.arrow(), key.pairs(side)).join(", ");
        (
            format!(
                "{what} has inconsistent markers: migrating {}; importing {}",
                list(Side::Migrating),
                list(Side::Importing)
            ),
            vec![
                "the markers do not describe one move; close the stray ones with CLUSTER \
                  SETSLOT <slot> STABLE"
                    .to_owned(),
            ],
        )
    }

    /// `node <join> peer` for every marker of one side.
    fn marker_list(&self, join: &str, pairs: &[(NodeId, NodeId)]) -> Vec<String> {
        pairs
            .iter()
            .map(|(node, peer)| format!("{} {join} {}", self.id_label(node), self.id_label(peer)))
            .collect()
    }

    /// Evidence every open-slot finding carries: replica markers, keys per node, the owner.
    fn open_context(&self, key: &OpenKey, g: &OpenGroup, evidence: &mut Vec<String>) {
        let masters_open = !key.migrating.is_empty() || !key.importing.is_empty();
        if !key.on_replicas.is_empty() && masters_open {
            // Valkey 8+ copies a master's markers to its replicas and clears them with it.
            let marked_master = |m: &NodeId| {
                key.migrating
                    .iter()
                    .chain(&key.importing)
                    .any(|(n, _)| n == m)
            };
            let (copies, stale): (Vec<NodeId>, Vec<NodeId>) =
                key.on_replicas.iter().cloned().partition(|r| {
                    self.index(r)
                        .and_then(|i| self.node(i))
                        .and_then(|n| n.master_id.as_ref())
                        .is_some_and(marked_master)
                });
            if !copies.is_empty() {
                evidence.push(format!(
                    "replicas hold copies of their masters' markers (cleared with them): {}",
                    self.names(&copies, EVIDENCE_NODES)
                ));
            }
            if !stale.is_empty() {
                evidence.push(format!(
                    "markers also on replicas: {}",
                    self.names(&stale, EVIDENCE_NODES)
                ));
            }
        }
        for (id, k) in &g.keys {
            evidence.push(format!(
                "{} holds {k} keys in these slots",
                self.id_label(id)
            ));
        }
        if let Some(owner) = &key.owner {
            evidence.push(format!("consensus owner: {}", self.id_label(owner)));
        }
    }

    /// Critical when data in these slots is out of reach: a down node owns them, holds keys
    /// in them, or is the importing side of a real move (moved keys live there).
    fn open_severity(
        &self,
        key: &OpenKey,
        g: &OpenGroup,
        all_matched: bool,
        involved: &[NodeId],
        evidence: &mut Vec<String>,
    ) -> Severity {
        let broken: Vec<NodeId> = involved
            .iter()
            .filter(|id| self.index(id).is_none_or(|i| self.fact(i).down))
            .cloned()
            .collect();
        let importing_side = |id: &NodeId| key.importing.iter().any(|(b, _)| b == id);
        let critical = broken.iter().any(|id| {
            key.owner.as_ref() == Some(id)
                || g.keys.get(id).is_some_and(|k| *k > 0)
                || (all_matched && importing_side(id))
        });
        if !broken.is_empty() {
            evidence.push(format!(
                "involved node down or unknown: {}",
                self.names(&broken, EVIDENCE_NODES)
            ));
        }
        if critical {
            evidence.push("keys that live on the down node are unavailable".to_owned());
            Severity::Critical
        } else if Self::hidden_on_importing(key, g) {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }
}

/// Sorted, without duplicates.
fn sorted_unique<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Drop repeated ids, keeping the first of each.
fn dedup_keep_order(ids: &mut Vec<NodeId>) {
    let mut seen = HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
}

#[cfg(test)]
mod tests;
