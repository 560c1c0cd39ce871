//! The replay's state: overrides on top of the model, kept per range of slots.
//!
//! Every rule is stated for one slot, and a step that touches many slots (a failover, a
//! `BUMPEPOCH`, an `ADDSLOTSRANGE`) applies it to each of them. Most of those slots look
//! alike: same owner, same claimants, no marker, no counted key. So the replay cuts a range
//! into *segments* at every slot where some fact the rules read may change (an owner run of the
//! consensus map, a claimed range, a marker, a counted or uncounted slot, an earlier override),
//! evaluates the rule once per segment on its first slot and applies the result to the whole
//! segment. A segment's slots read the same facts, so the result is the one the slot-by-slot
//! replay gives; `tests.rs` compares the two on generated clusters.

use std::cell::OnceCell;
use std::collections::HashMap;

use crate::cluster::model::{ClusterModel, NodeSummary, Reachability, Role};
use crate::cluster::slots::{SLOT_COUNT, Slot, SlotRange, merge_ranges};
use crate::cluster::types::{MarkerKind, NodeId};

use super::Assessment;
use super::overlay::Overlay;
use crate::fix::{FixStep, StepAction};

type Marker = Option<(MarkerKind, NodeId)>;

struct Layout {
    owner_runs: Vec<(SlotRange, Option<u32>)>,
    cuts: Vec<u32>,
}

/// The simulated state: overrides on top of the model.
pub(super) struct Sim<'a> {
    model: &'a ClusterModel,
    /// Node index by id (the model's own lookup is a scan).
    index: HashMap<&'a NodeId, usize>,
    /// Masters that hold keys in a slot, as counted (census, open-slot and uncovered counts).
    holders: HashMap<Slot, Vec<NodeId>>,
    /// Live masters whose keys could not be counted: they may hold keys in any slot.
    uncounted: Vec<NodeId>,
    /// Open slots by slot (the first one listed).
    open: HashMap<Slot, usize>,
    /// Made when a step first touches more than one slot: the runs of the consensus map
    /// (slots, owner index), and the slots where a fact of the model may change, sorted
    /// (owner runs, claimed ranges, markers, every slot with a count).
    layout: OnceCell<Layout>,
    keys: HashMap<NodeId, Overlay<Option<u64>>>,
    owner: Overlay<Option<NodeId>>,
    markers: HashMap<NodeId, Overlay<Marker>>,
}

/// `CLUSTER FORGET x` of a replica `x` whose master is dead, with no other live replica: what
/// is lost (the dead master's slots), or `None`.
pub(super) fn last_copy_forgotten(model: &ClusterModel, x: &NodeId) -> Option<String> {
    let forgotten = model.node(x).filter(|n| n.role == Role::Replica)?;
    let master = forgotten
        .master_id
        .as_ref()
        .and_then(|m| model.node(m))
        .filter(|m| !live(m))?;
    let other_copy = model.nodes.iter().any(|n| {
        n.role == Role::Replica
            && n.master_id.as_ref() == master.id.as_ref()
            && n.id.as_ref() != Some(x)
            && live(n)
    });
    if other_copy || master.claimed_slots.is_empty() {
        return None;
    }
    let slots = crate::cluster::slots::format_ranges(&master.claimed_slots);
    Some(format!(
        "of slots {slots}: {} is the last copy of its dead master's data",
        label(model, x)
    ))
}

/// `CLUSTER REPLICATE` sent to a master `node`: the keys of its whole dataset (`None` when not
/// counted) and what they are, or `None` for a replica.
pub(super) fn dataset_dropped(
    model: &ClusterModel,
    node: &NodeId,
) -> Option<(Option<u64>, String)> {
    let n = model.node(node).filter(|n| n.role != Role::Replica)?;
    let k = match &n.census {
        Some(c) => Some(c.db_keys),
        None if n.info.as_ref().and_then(|i| i.keys) == Some(0) => Some(0),
        None => None,
    };
    Some((
        k,
        format!("stored on {} (its whole dataset)", label(model, node)),
    ))
}

/// A node's label, or its short id when the model does not know it.
pub(super) fn label(model: &ClusterModel, id: &NodeId) -> String {
    model
        .node(id)
        .map_or_else(|| id.short().to_owned(), NodeSummary::label)
}

pub(super) fn live(n: &NodeSummary) -> bool {
    matches!(n.reachability, Reachability::Ok) && !n.flags.fail
}

pub(super) fn parse_slot(s: &str) -> Option<Slot> {
    s.parse().ok()
}

/// Ranges that name at least one slot (`a b` with `a > b` names none).
fn proper(r: SlotRange) -> Option<SlotRange> {
    (r.start <= r.end).then_some(r)
}

fn push_range(cuts: &mut Vec<u32>, r: SlotRange) {
    cuts.push(u32::from(r.start));
    cuts.push(u32::from(r.end) + 1);
}

fn owner_runs(model: &ClusterModel) -> Vec<(SlotRange, Option<u32>)> {
    let owners: Vec<Option<u32>> = model.slots.iter().map(|e| e.owner).collect();
    let mut runs = Vec::new();
    let mut start = 0;
    for run in owners.chunk_by(|a, b| a == b) {
        let end = start + run.len() - 1;
        if let (Ok(a), Ok(b), Some(o)) = (Slot::try_from(start), Slot::try_from(end), run.first()) {
            runs.push((SlotRange::new(a, b), *o));
        }
        start = end + 1;
    }
    runs
}

fn static_cuts(model: &ClusterModel, runs: &[(SlotRange, Option<u32>)]) -> Vec<u32> {
    let mut cuts = vec![0, u32::try_from(SLOT_COUNT).unwrap_or(16384)];
    for (r, _) in runs {
        push_range(&mut cuts, *r);
    }
    for n in &model.nodes {
        if let Some(l) = &n.own_line {
            for r in &l.slots {
                push_range(&mut cuts, *r);
            }
            for m in &l.markers {
                push_range(&mut cuts, SlotRange::single(m.slot));
            }
        }
        if let Some(c) = &n.census {
            for s in c.slots.keys().chain(c.stray.keys()) {
                push_range(&mut cuts, SlotRange::single(*s));
            }
        }
    }
    for o in &model.open_slots {
        push_range(&mut cuts, SlotRange::single(o.slot));
    }
    for s in model.uncovered_keys.keys() {
        push_range(&mut cuts, SlotRange::single(*s));
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

impl<'a> Sim<'a> {
    pub(super) fn new(model: &'a ClusterModel) -> Self {
        let mut index = HashMap::new();
        let mut holders: HashMap<Slot, Vec<NodeId>> = HashMap::new();
        let mut uncounted = Vec::new();
        for (i, n) in model.nodes.iter().enumerate() {
            let Some(id) = n.id.as_ref() else { continue };
            index.insert(id, i);
            if n.role != Role::Master {
                continue;
            }
            match &n.census {
                Some(c) => {
                    for s in c.slots.keys().chain(c.stray.keys()) {
                        holders.entry(*s).or_default().push(id.clone());
                    }
                }
                None if live(n) => uncounted.push(id.clone()),
                None => {}
            }
        }
        let mut open = HashMap::new();
        for (i, o) in model.open_slots.iter().enumerate() {
            open.entry(o.slot).or_insert(i);
            for (id, k) in &o.keys {
                if *k > 0 {
                    holders.entry(o.slot).or_default().push(id.clone());
                }
            }
        }
        for (s, per_node) in &model.uncovered_keys {
            for (id, k) in per_node {
                if *k > 0 {
                    holders.entry(*s).or_default().push(id.clone());
                }
            }
        }
        Self {
            model,
            index,
            holders,
            uncounted,
            open,
            layout: OnceCell::new(),
            keys: HashMap::new(),
            owner: Overlay::default(),
            markers: HashMap::new(),
        }
    }

    fn node(&self, id: &NodeId) -> Option<&'a NodeSummary> {
        self.index.get(id).and_then(|&i| self.model.nodes.get(i))
    }

    fn layout(&self) -> &Layout {
        self.layout.get_or_init(|| {
            let owner_runs = owner_runs(self.model);
            let cuts = static_cuts(self.model, &owner_runs);
            Layout { owner_runs, cuts }
        })
    }

    /// `r` cut where any fact a rule reads may change: every slot of a segment reads the same.
    fn segments(&self, r: SlotRange) -> Vec<SlotRange> {
        let Some(r) = proper(r) else {
            return Vec::new();
        };
        if r.start == r.end {
            return vec![r];
        }
        let (a, b) = (u32::from(r.start), u32::from(r.end));
        let all = &self.layout().cuts;
        let lo = all.partition_point(|&c| c <= a);
        let hi = all.partition_point(|&c| c <= b);
        let mut cuts: Vec<u32> = all.get(lo..hi).unwrap_or_default().to_vec();
        cuts.extend(self.owner.cuts(r));
        for o in self.keys.values() {
            cuts.extend(o.cuts(r));
        }
        for o in self.markers.values() {
            cuts.extend(o.cuts(r));
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut out = Vec::with_capacity(cuts.len() + 1);
        let mut start = a;
        for c in cuts.into_iter().chain(std::iter::once(b + 1)) {
            if let (Ok(s), Ok(e)) = (Slot::try_from(start), Slot::try_from(c - 1)) {
                out.push(SlotRange::new(s, e));
            }
            start = c;
        }
        out
    }

    /// Masters whose keys in `s` may be readable or not: those that hold some (counted or
    /// moved there by an earlier step) and those that could not be counted.
    fn candidates(&self, s: Slot) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = self.holders.get(&s).cloned().unwrap_or_default();
        out.extend(
            self.keys
                .iter()
                .filter(|(_, o)| o.get(s).is_some_and(|k| *k != Some(0)))
                .map(|(n, _)| n.clone()),
        );
        out.extend(self.uncounted.iter().cloned());
        out.sort();
        out.dedup();
        out
    }

    fn label(&self, id: &NodeId) -> String {
        label(self.model, id)
    }

    /// Keys `node` stores in `slot`: `None` when they cannot be counted.
    pub(super) fn keys(&self, node: &NodeId, slot: Slot) -> Option<u64> {
        if let Some(k) = self.keys.get(node).and_then(|o| o.get(slot)) {
            return *k;
        }
        let n = self.node(node)?;
        if n.role == Role::Replica && live(n) {
            // A replica holds copies; they are accounted on its master.
            return Some(0);
        }
        if let Some(c) = &n.census
            && let Some(k) = c.keys_in(slot)
        {
            return Some(k);
        }
        if let Some(k) = self
            .open
            .get(&slot)
            .and_then(|&i| self.model.open_slots.get(i))
            .and_then(|o| o.keys.get(node))
        {
            return Some(*k);
        }
        if let Some(k) = self
            .model
            .uncovered_keys
            .get(&slot)
            .and_then(|m| m.get(node))
        {
            return Some(*k);
        }
        if matches!(n.reachability, Reachability::Ok)
            && n.info.as_ref().and_then(|i| i.keys) == Some(0)
        {
            return Some(0);
        }
        None
    }

    fn set_keys(&mut self, node: &NodeId, slots: SlotRange, k: Option<u64>) {
        self.keys.entry(node.clone()).or_default().set(slots, k);
    }

    fn set_marker(&mut self, node: &NodeId, slots: SlotRange, m: Marker) {
        self.markers.entry(node.clone()).or_default().set(slots, m);
    }

    pub(super) fn owner(&self, slot: Slot) -> Option<NodeId> {
        if let Some(o) = self.owner.get(slot) {
            return o.clone();
        }
        self.model.owner_of(slot).and_then(|n| n.id.clone())
    }

    fn marker(&self, node: &NodeId, slot: Slot) -> Marker {
        if let Some(m) = self.markers.get(node).and_then(|o| o.get(slot)) {
            return m.clone();
        }
        self.model
            .node(node)?
            .own_line
            .as_ref()?
            .markers
            .iter()
            .find(|m| m.slot == slot)
            .map(|m| (m.kind, m.peer.clone()))
    }

    fn is_live(&self, id: &NodeId) -> bool {
        self.node(id).is_some_and(live)
    }

    /// Clients can read the keys `node` stores in `slot`: it serves the slot, or it imports
    /// it from a live owner that redirects (ASK) to it.
    fn readable(&self, node: &NodeId, slot: Slot) -> bool {
        let Some(owner) = self.owner(slot) else {
            return false;
        };
        if !self.is_live(node) {
            return false;
        }
        if &owner == node {
            return true;
        }
        matches!(self.marker(node, slot), Some((MarkerKind::Importing, ref from)) if *from == owner)
            && matches!(self.marker(&owner, slot), Some((MarkerKind::Migrating, ref to)) if to == node)
            && self.is_live(&owner)
    }

    pub(super) fn step(&mut self, step: &FixStep, out: &mut Assessment) {
        match &step.action {
            StepAction::MigrateSlotKeys { slot, from, to, .. } => {
                let moved = self.keys(from, *slot);
                let there = self.keys(to, *slot);
                let one = SlotRange::single(*slot);
                self.set_keys(to, one, moved.zip(there).map(|(a, b)| a + b));
                self.set_keys(from, one, Some(0));
            }
            StepAction::Command { args, .. } => {
                let Some(node) = step.node_id.clone() else {
                    return;
                };
                let words: Vec<String> = args.iter().map(|a| a.to_ascii_uppercase()).collect();
                let mut readable_before: Vec<(NodeId, SlotRange)> = Vec::new();
                for r in self.touched(&node, &words, args) {
                    for seg in self.segments(r) {
                        for m in self.candidates(seg.start) {
                            if self.readable(&m, seg.start) {
                                readable_before.push((m, seg));
                            }
                        }
                    }
                }
                self.command(&node, &words, args, out);
                for (m, was) in readable_before {
                    for seg in self.segments(was) {
                        if !self.readable(&m, seg.start) {
                            let k = self.keys(&m, seg.start);
                            let label = self.label(&m);
                            out.hidden.add_range(k, seg, &label, "");
                        }
                    }
                }
            }
            StepAction::WaitFor { .. } => {}
        }
    }

    /// The slots whose readability a command can change, in the command's order.
    fn touched(&self, node: &NodeId, words: &[String], args: &[String]) -> Vec<SlotRange> {
        match (
            words.get(1).map(String::as_str),
            args.get(2).map(|x| NodeId::from(x.as_str())),
        ) {
            (Some("FORGET"), Some(x)) => self
                .pointing_at(node, &x)
                .into_iter()
                .map(SlotRange::single)
                .collect(),
            (Some("FAILOVER"), _) => self
                .model
                .node(node)
                .and_then(|n| n.master_id.as_ref())
                .and_then(|m| self.node(m))
                .map(|m| m.claimed_slots.clone())
                .unwrap_or_default(),
            _ => touched_ranges(words, args),
        }
    }

    /// Slots for which `node` holds a marker whose peer is `x`.
    fn pointing_at(&self, node: &NodeId, x: &NodeId) -> Vec<Slot> {
        let mut slots: Vec<Slot> = self
            .model
            .node(node)
            .and_then(|n| n.own_line.as_ref())
            .map(|l| l.markers.iter().map(|m| m.slot).collect())
            .unwrap_or_default();
        if let Some(o) = self.markers.get(node) {
            slots.extend(
                o.ranges()
                    .filter(|(_, m)| matches!(m, Some((_, p)) if p == x))
                    .flat_map(|(r, _)| r.iter()),
            );
        }
        slots.sort_unstable();
        slots.dedup();
        slots.retain(|&s| matches!(self.marker(node, s), Some((_, ref p)) if p == x));
        slots
    }

    fn command(&mut self, node: &NodeId, words: &[String], args: &[String], out: &mut Assessment) {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["CLUSTER", "SETSLOT", s, "STABLE"] => {
                if let Some(s) = parse_slot(s) {
                    self.set_marker(node, SlotRange::single(s), None);
                }
            }
            [
                "CLUSTER",
                "SETSLOT",
                s,
                kind @ ("IMPORTING" | "MIGRATING"),
                _,
            ] => {
                if let (Some(s), Some(peer)) = (parse_slot(s), args.get(4)) {
                    let kind = if *kind == "IMPORTING" {
                        MarkerKind::Importing
                    } else {
                        MarkerKind::Migrating
                    };
                    let m = Some((kind, NodeId::from(peer.as_str())));
                    self.set_marker(node, SlotRange::single(s), m);
                }
            }
            ["CLUSTER", "SETSLOT", s, "NODE", _] => {
                if let (Some(s), Some(x)) = (parse_slot(s), args.get(4)) {
                    self.setslot_node(node, s, &NodeId::from(x.as_str()), out);
                }
            }
            ["CLUSTER", "ADDSLOTS" | "ADDSLOTSRANGE", ..] => {
                for r in touched_ranges(words, args) {
                    for seg in self.segments(r) {
                        if self.owner(seg.start).is_none() {
                            self.owner.set(seg, Some(node.clone()));
                        }
                        self.set_marker(node, seg, None);
                    }
                }
            }
            ["CLUSTER", "DELSLOTS" | "DELSLOTSRANGE", ..] => {
                for r in touched_ranges(words, args) {
                    for seg in self.segments(r) {
                        if self.owner(seg.start).as_ref() == Some(node) {
                            self.owner.set(seg, None);
                        }
                    }
                }
            }
            ["CLUSTER", "FORGET", x] => {
                let x = NodeId::from(args.get(2).map_or(*x, String::as_str));
                self.forget(node, &x, out);
            }
            ["CLUSTER", "REPLICATE", _] => self.replicate(node, out),
            ["CLUSTER", "FAILOVER", ..] => self.failover(node),
            ["CLUSTER", "MEET", ..] => self.meet(args, out),
            ["CLUSTER", "BUMPEPOCH"] => self.bump_epoch(node, out),
            ["CLUSTER", "MIGRATESLOTS", ..] => self.migrate_slots(node, words, args),
            // `CANCELSLOTMIGRATIONS`, measured on Valkey 9.1.2: the source keeps owning and
            // serving every slot and key of a cancelled job; the target drops the keys it had
            // received, which clients never saw (they are not counted there either). Nothing
            // changes for readers, as for every command not listed above.
            _ => {}
        }
    }

    /// `MIGRATESLOTS SLOTSRANGE a b … NODE x …` sent to `node`: an atomic migration moves
    /// every key of the node's slots in those ranges to `x`, which then owns them; clients
    /// read them on the source until the handover and on the target after it.
    fn migrate_slots(&mut self, node: &NodeId, words: &[String], args: &[String]) {
        for (ranges, x) in migrate_slots_groups(words, args) {
            for r in ranges {
                for seg in self.segments(r) {
                    if self.owner(seg.start).as_ref() != Some(node) {
                        continue;
                    }
                    let moved = self.keys(node, seg.start);
                    let there = self.keys(&x, seg.start);
                    self.set_keys(&x, seg, moved.zip(there).map(|(a, b)| a + b));
                    self.set_keys(node, seg, Some(0));
                    self.owner.set(seg, Some(x.clone()));
                    self.set_marker(node, seg, None);
                    self.set_marker(&x, seg, None);
                }
            }
        }
    }

    /// `SETSLOT s NODE x` sent to `node`.
    fn setslot_node(&mut self, node: &NodeId, s: Slot, x: &NodeId, out: &mut Assessment) {
        let one = SlotRange::single(s);
        if node == x {
            // The claimant bumps its epoch: every other master that serves the slot (by
            // consensus or in its own view) deletes what it still holds there.
            for prev in self.claimants(s) {
                if &prev == x || matches!(self.marker(&prev, s), Some((MarkerKind::Importing, _))) {
                    continue;
                }
                let k = self.keys(&prev, s);
                let label = self.label(&prev);
                out.deleted.add_range(k, one, &label, "");
                self.set_keys(&prev, one, Some(0));
            }
            self.owner.set(one, Some(x.clone()));
            self.set_marker(node, one, None);
        } else if self.owner(s).as_ref() == Some(node) {
            // Redis refuses while the owner still holds keys; without keys it hands over.
            if self.keys(node, s) == Some(0) {
                self.set_marker(node, one, None);
            }
        } else if matches!(self.marker(node, s), Some((MarkerKind::Migrating, _))) {
            self.set_marker(node, one, None);
        }
    }

    /// `CLUSTER BUMPEPOCH` on `node`: it gets the highest config epoch, so every other master
    /// serving one of its slots gives it up and deletes its keys there.
    fn bump_epoch(&mut self, node: &NodeId, out: &mut Assessment) {
        let Some(n) = self.node(node) else {
            return;
        };
        let mut slots: Vec<SlotRange> =
            n.claimed_slots.iter().copied().filter_map(proper).collect();
        slots.extend(
            self.layout()
                .owner_runs
                .iter()
                .filter(|(_, o)| {
                    o.and_then(|i| self.model.nodes.get(i as usize))
                        .is_some_and(|o| o.id.as_ref() == Some(node))
                })
                .map(|(r, _)| *r),
        );
        slots.extend(
            self.owner
                .ranges()
                .filter(|(_, o)| o.as_ref() == Some(node))
                .map(|(r, _)| r),
        );
        for r in merge_ranges(slots) {
            for seg in self.segments(r) {
                let s = seg.start;
                for other in self.claimants(s) {
                    if &other == node
                        || matches!(self.marker(&other, s), Some((MarkerKind::Importing, _)))
                    {
                        continue;
                    }
                    let k = self.keys(&other, s);
                    let label = self.label(&other);
                    out.deleted
                        .add_range(k, seg, &label, " (the lower config epoch)");
                    self.set_keys(&other, seg, Some(0));
                }
                self.owner.set(seg, Some(node.clone()));
            }
        }
    }

    /// Masters serving `s`: the consensus owner, and every master whose own view claims it.
    fn claimants(&self, s: Slot) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = self.owner(s).into_iter().collect();
        if self.owner.get(s).is_some() {
            return out;
        }
        for n in &self.model.nodes {
            let Some(id) = n.id.as_ref() else { continue };
            let claims = n
                .own_line
                .as_ref()
                .is_some_and(|l| l.flags.master && l.slots.iter().any(|r| r.contains(s)));
            if claims && !out.contains(id) {
                out.push(id.clone());
            }
        }
        out
    }

    /// `CLUSTER FORGET x` sent to `node`: its markers pointing at `x` are cleared; forgetting
    /// the last copy of a dead master's slots loses them.
    fn forget(&mut self, node: &NodeId, x: &NodeId, out: &mut Assessment) {
        for s in self.pointing_at(node, x) {
            self.set_marker(node, SlotRange::single(s), None);
        }
        if let Some(what) = last_copy_forgotten(self.model, x) {
            out.deleted.add(None, || what);
        }
    }

    /// `CLUSTER REPLICATE` sent to `node`: it drops its dataset for its new master's.
    fn replicate(&mut self, node: &NodeId, out: &mut Assessment) {
        if let Some((k, what)) = dataset_dropped(self.model, node) {
            out.deleted.add(k, || what);
        }
    }

    /// `CLUSTER FAILOVER` sent to a replica: it takes over its master's slots with its copy.
    fn failover(&mut self, node: &NodeId) {
        let Some(master) = self
            .model
            .node(node)
            .and_then(|n| n.master_id.clone())
            .and_then(|m| self.node(&m))
        else {
            return;
        };
        let Some(mid) = master.id.clone() else { return };
        for r in &master.claimed_slots {
            for seg in self.segments(*r) {
                if self.owner(seg.start).as_ref() == Some(&mid) {
                    let k = self.keys(&mid, seg.start);
                    self.owner.set(seg, Some(node.clone()));
                    self.set_keys(node, seg, k);
                    self.set_keys(&mid, seg, Some(0));
                }
            }
        }
    }

    /// `CLUSTER MEET ip port`: where the met node claims slots the cluster binds elsewhere,
    /// the lower config epoch loses its keys there (equal epochs: either side may).
    fn meet(&mut self, args: &[String], out: &mut Assessment) {
        let (Some(ip), Some(port)) = (args.get(2), args.get(3).and_then(|p| p.parse::<u16>().ok()))
        else {
            return;
        };
        let Some(met) = self.model.nodes.iter().find(|n| {
            n.addr.ip == *ip && n.addr.port == port
                || n.endpoint
                    .as_ref()
                    .is_some_and(|e| e.host == *ip && e.port == port)
        }) else {
            return;
        };
        let Some(met_id) = met.id.clone() else { return };
        let claimed: Vec<SlotRange> = met
            .own_line
            .as_ref()
            .map(|l| l.slots.clone())
            .unwrap_or_default();
        for r in claimed {
            for seg in self.segments(r) {
                self.meet_segment(met, &met_id, seg, out);
            }
        }
    }

    fn meet_segment(
        &mut self,
        met: &NodeSummary,
        met_id: &NodeId,
        seg: SlotRange,
        out: &mut Assessment,
    ) {
        let s = seg.start;
        let Some(owner) = self.owner(s) else { return };
        if owner == *met_id {
            return;
        }
        let owner_epoch = self.node(&owner).map_or(0, |n| n.config_epoch);
        let losers: Vec<NodeId> = match met.config_epoch.cmp(&owner_epoch) {
            std::cmp::Ordering::Less => vec![met_id.clone()],
            std::cmp::Ordering::Greater => vec![owner.clone()],
            std::cmp::Ordering::Equal => vec![met_id.clone(), owner.clone()],
        };
        let either = losers.len() > 1;
        for l in losers {
            let k = if either {
                // Which side wins a tie is decided by the cluster: not a known count.
                match self.keys(&l, s) {
                    Some(0) => Some(0),
                    _ => None,
                }
            } else {
                self.keys(&l, s)
            };
            let label = self.label(&l);
            out.deleted
                .add_range(k, seg, &label, " (the lower config epoch)");
            if !either {
                self.set_keys(&l, seg, Some(0));
            }
        }
    }
}

/// The groups of `MIGRATESLOTS SLOTSRANGE a b [a b …] NODE x [SLOTSRANGE …]`: each group's
/// ranges and target.
fn migrate_slots_groups(words: &[String], args: &[String]) -> Vec<(Vec<SlotRange>, NodeId)> {
    let mut out = Vec::new();
    let mut slots: Vec<SlotRange> = Vec::new();
    let mut i = 2;
    while i < words.len() {
        match words[i].as_str() {
            "SLOTSRANGE" => i += 1,
            "NODE" => {
                if let Some(x) = args.get(i + 1) {
                    out.push((std::mem::take(&mut slots), NodeId::from(x.as_str())));
                }
                i += 2;
            }
            _ => {
                if let (Some(a), Some(b)) = (
                    args.get(i).and_then(|s| parse_slot(s)),
                    args.get(i + 1).and_then(|s| parse_slot(s)),
                ) && a <= b
                {
                    slots.push(SlotRange::new(a, b));
                }
                i += 2;
            }
        }
    }
    out
}

/// The slots a `CLUSTER` command names, in its order: `SETSLOT s …`, `ADDSLOTS s…`,
/// `DELSLOTS s…`, `ADDSLOTSRANGE a b …`, `DELSLOTSRANGE a b …`, `MIGRATESLOTS …`.
pub(super) fn touched_ranges(words: &[String], args: &[String]) -> Vec<SlotRange> {
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    match (w(0), w(1)) {
        ("CLUSTER", "SETSLOT") => args
            .get(2)
            .and_then(|s| parse_slot(s))
            .map(SlotRange::single)
            .into_iter()
            .collect(),
        ("CLUSTER", "ADDSLOTS" | "DELSLOTS") => args
            .iter()
            .skip(2)
            .filter_map(|s| parse_slot(s))
            .map(SlotRange::single)
            .collect(),
        ("CLUSTER", "ADDSLOTSRANGE" | "DELSLOTSRANGE") => args
            .get(2..)
            .unwrap_or_default()
            .chunks(2)
            .filter_map(|p| {
                proper(SlotRange::new(
                    parse_slot(p.first()?)?,
                    parse_slot(p.get(1)?)?,
                ))
            })
            .collect(),
        ("CLUSTER", "MIGRATESLOTS") => migrate_slots_groups(words, args)
            .into_iter()
            .flat_map(|(s, _)| s)
            .collect(),
        _ => Vec::new(),
    }
}
