//! The replay as it was first written, one slot at a time: kept as the reference the range
//! replay of `sim.rs` is compared with (`tests.rs`). Test builds only.

use std::collections::HashMap;

use crate::cluster::model::{ClusterModel, NodeSummary, Reachability, Role};
use crate::cluster::slots::{Slot, SlotRange};
use crate::cluster::types::{MarkerKind, NodeId};

use super::Assessment;
use super::sim::{dataset_dropped, label, last_copy_forgotten, live, parse_slot};
use crate::fix::{FixPlan, FixStep, StepAction};

/// Replay the steps of `plan` slot by slot.
pub(super) fn assess(plan: &FixPlan, model: &ClusterModel) -> Assessment {
    let mut sim = Sim::new(model);
    let mut out = Assessment::default();
    for step in &plan.steps {
        sim.step(step, &mut out);
    }
    out
}

/// The simulated state: overrides on top of the model.
struct Sim<'a> {
    model: &'a ClusterModel,
    /// Node index by id (the model's own lookup is a scan).
    index: HashMap<&'a NodeId, usize>,
    /// Masters that hold keys in a slot, as counted (census, open-slot and uncovered counts).
    holders: HashMap<Slot, Vec<NodeId>>,
    /// Live masters whose keys could not be counted: they may hold keys in any slot.
    uncounted: Vec<NodeId>,
    keys: HashMap<(NodeId, Slot), Option<u64>>,
    owner: HashMap<Slot, Option<NodeId>>,
    markers: HashMap<(NodeId, Slot), Option<(MarkerKind, NodeId)>>,
}

impl<'a> Sim<'a> {
    fn new(model: &'a ClusterModel) -> Self {
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
        for o in &model.open_slots {
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
            keys: HashMap::new(),
            owner: HashMap::new(),
            markers: HashMap::new(),
        }
    }

    fn node(&self, id: &NodeId) -> Option<&'a NodeSummary> {
        self.index.get(id).and_then(|&i| self.model.nodes.get(i))
    }

    /// Masters whose keys in `s` may be readable or not: those that hold some (counted or
    /// moved there by an earlier step) and those that could not be counted.
    fn candidates(&self, s: Slot) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = self.holders.get(&s).cloned().unwrap_or_default();
        out.extend(
            self.keys
                .iter()
                .filter(|((_, slot), k)| *slot == s && **k != Some(0))
                .map(|((n, _), _)| n.clone()),
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
    fn keys(&self, node: &NodeId, slot: Slot) -> Option<u64> {
        if let Some(k) = self.keys.get(&(node.clone(), slot)) {
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
        if let Some(o) = self.model.open_slots.iter().find(|o| o.slot == slot)
            && let Some(k) = o.keys.get(node)
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

    fn set_keys(&mut self, node: &NodeId, slot: Slot, k: Option<u64>) {
        self.keys.insert((node.clone(), slot), k);
    }

    fn owner(&self, slot: Slot) -> Option<NodeId> {
        if let Some(o) = self.owner.get(&slot) {
            return o.clone();
        }
        self.model.owner_of(slot).and_then(|n| n.id.clone())
    }

    fn marker(&self, node: &NodeId, slot: Slot) -> Option<(MarkerKind, NodeId)> {
        if let Some(m) = self.markers.get(&(node.clone(), slot)) {
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

    fn step(&mut self, step: &FixStep, out: &mut Assessment) {
        match &step.action {
            StepAction::MigrateSlotKeys { slot, from, to, .. } => {
                let moved = self.keys(from, *slot);
                let there = self.keys(to, *slot);
                self.set_keys(to, *slot, moved.zip(there).map(|(a, b)| a + b));
                self.set_keys(from, *slot, Some(0));
            }
            StepAction::Command { args, .. } => {
                let Some(node) = step.node_id.clone() else {
                    return;
                };
                let words: Vec<String> = args.iter().map(|a| a.to_ascii_uppercase()).collect();
                let slots = self.touched(&node, &words, args);
                let before: Vec<(NodeId, Slot, bool)> = slots
                    .iter()
                    .flat_map(|&s| self.candidates(s).into_iter().map(move |m| (m, s)))
                    .map(|(m, s)| {
                        let r = self.readable(&m, s);
                        (m, s, r)
                    })
                    .collect();
                self.command(&node, &words, args, out);
                for (m, s, was) in before {
                    if was && !self.readable(&m, s) {
                        let k = self.keys(&m, s);
                        let label = self.label(&m);
                        out.hidden.add_range(k, SlotRange::single(s), &label, "");
                    }
                }
            }
            StepAction::WaitFor { .. } => {}
        }
    }

    /// The slots whose readability a command can change.
    fn touched(&self, node: &NodeId, words: &[String], args: &[String]) -> Vec<Slot> {
        match (
            words.get(1).map(String::as_str),
            args.get(2).map(|x| NodeId::from(x.as_str())),
        ) {
            (Some("FORGET"), Some(x)) => self.pointing_at(node, &x),
            (Some("FAILOVER"), _) => self
                .model
                .node(node)
                .and_then(|n| n.master_id.as_ref())
                .and_then(|m| self.node(m))
                .map(|m| m.claimed_slots.iter().flat_map(SlotRange::iter).collect())
                .unwrap_or_default(),
            _ => touched_slots(words, args),
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
        slots.extend(
            self.markers
                .keys()
                .filter(|(n, _)| n == node)
                .map(|(_, s)| *s),
        );
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
                    self.markers.insert((node.clone(), s), None);
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
                    self.markers
                        .insert((node.clone(), s), Some((kind, NodeId::from(peer.as_str()))));
                }
            }
            ["CLUSTER", "SETSLOT", s, "NODE", _] => {
                if let (Some(s), Some(x)) = (parse_slot(s), args.get(4)) {
                    self.setslot_node(node, s, &NodeId::from(x.as_str()), out);
                }
            }
            ["CLUSTER", "ADDSLOTS" | "ADDSLOTSRANGE", ..] => {
                for s in touched_slots(words, args) {
                    if self.owner(s).is_none() {
                        self.owner.insert(s, Some(node.clone()));
                    }
                    self.markers.insert((node.clone(), s), None);
                }
            }
            ["CLUSTER", "DELSLOTS" | "DELSLOTSRANGE", ..] => {
                for s in touched_slots(words, args) {
                    if self.owner(s).as_ref() == Some(node) {
                        self.owner.insert(s, None);
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
        for (slots, x) in migrate_slots_groups(words, args) {
            for s in slots {
                if self.owner(s).as_ref() != Some(node) {
                    continue;
                }
                let moved = self.keys(node, s);
                let there = self.keys(&x, s);
                self.set_keys(&x, s, moved.zip(there).map(|(a, b)| a + b));
                self.set_keys(node, s, Some(0));
                self.owner.insert(s, Some(x.clone()));
                self.markers.insert((node.clone(), s), None);
                self.markers.insert((x.clone(), s), None);
            }
        }
    }

    /// `SETSLOT s NODE x` sent to `node`.
    fn setslot_node(&mut self, node: &NodeId, s: Slot, x: &NodeId, out: &mut Assessment) {
        if node == x {
            // The claimant bumps its epoch: every other master that serves the slot (by
            // consensus or in its own view) deletes what it still holds there.
            for prev in self.claimants(s) {
                if &prev == x || matches!(self.marker(&prev, s), Some((MarkerKind::Importing, _))) {
                    continue;
                }
                let k = self.keys(&prev, s);
                let label = self.label(&prev);
                out.deleted.add_range(k, SlotRange::single(s), &label, "");
                self.set_keys(&prev, s, Some(0));
            }
            self.owner.insert(s, Some(x.clone()));
            self.markers.insert((node.clone(), s), None);
        } else if self.owner(s).as_ref() == Some(node) {
            // Redis refuses while the owner still holds keys; without keys it hands over.
            if self.keys(node, s) == Some(0) {
                self.markers.insert((node.clone(), s), None);
            }
        } else if matches!(self.marker(node, s), Some((MarkerKind::Migrating, _))) {
            self.markers.insert((node.clone(), s), None);
        }
    }

    /// `CLUSTER BUMPEPOCH` on `node`: it gets the highest config epoch, so every other master
    /// serving one of its slots gives it up and deletes its keys there.
    fn bump_epoch(&mut self, node: &NodeId, out: &mut Assessment) {
        let Some(n) = self.node(node) else {
            return;
        };
        let mut slots: Vec<Slot> = n.claimed_slots.iter().flat_map(SlotRange::iter).collect();
        slots.extend(
            self.model
                .slots
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    e.owner
                        .and_then(|i| self.model.nodes.get(i as usize))
                        .is_some_and(|o| o.id.as_ref() == Some(node))
                })
                .filter_map(|(s, _)| Slot::try_from(s).ok()),
        );
        slots.extend(
            self.owner
                .iter()
                .filter(|(_, o)| o.as_ref() == Some(node))
                .map(|(s, _)| *s),
        );
        slots.sort_unstable();
        slots.dedup();
        for s in slots {
            for other in self.claimants(s) {
                if &other == node
                    || matches!(self.marker(&other, s), Some((MarkerKind::Importing, _)))
                {
                    continue;
                }
                let k = self.keys(&other, s);
                let label = self.label(&other);
                out.deleted
                    .add_range(k, SlotRange::single(s), &label, " (the lower config epoch)");
                self.set_keys(&other, s, Some(0));
            }
            self.owner.insert(s, Some(node.clone()));
        }
    }

    /// Masters serving `s`: the consensus owner, and every master whose own view claims it.
    fn claimants(&self, s: Slot) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = self.owner(s).into_iter().collect();
        if self.owner.contains_key(&s) {
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
            self.markers.insert((node.clone(), s), None);
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
        let slots: Vec<Slot> = master
            .claimed_slots
            .iter()
            .flat_map(SlotRange::iter)
            .collect();
        for s in slots {
            if self.owner(s).as_ref() == Some(&mid) {
                let k = self.keys(&mid, s);
                self.owner.insert(s, Some(node.clone()));
                self.set_keys(node, s, k);
                self.set_keys(&mid, s, Some(0));
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
        let claimed: Vec<Slot> = met
            .own_line
            .as_ref()
            .map(|l| l.slots.iter().flat_map(SlotRange::iter).collect())
            .unwrap_or_default();
        for s in claimed {
            let Some(owner) = self.owner(s) else { continue };
            if owner == met_id {
                continue;
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
                    .add_range(k, SlotRange::single(s), &label, " (the lower config epoch)");
                if !either {
                    self.set_keys(&l, s, Some(0));
                }
            }
        }
    }
}

/// The groups of `MIGRATESLOTS SLOTSRANGE a b [a b …] NODE x [SLOTSRANGE …]`: each group's
/// slots and target.
fn migrate_slots_groups(words: &[String], args: &[String]) -> Vec<(Vec<Slot>, NodeId)> {
    let mut out = Vec::new();
    let mut slots: Vec<Slot> = Vec::new();
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
                    slots.extend(SlotRange::new(a, b).iter());
                }
                i += 2;
            }
        }
    }
    out
}

/// The slots a `CLUSTER` command names: `SETSLOT s …`, `ADDSLOTS s…`, `DELSLOTS s…`,
/// `ADDSLOTSRANGE a b …`, `DELSLOTSRANGE a b …`.
pub(super) fn touched_slots(words: &[String], args: &[String]) -> Vec<Slot> {
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    match (w(0), w(1)) {
        ("CLUSTER", "SETSLOT") => args
            .get(2)
            .and_then(|s| parse_slot(s))
            .into_iter()
            .collect(),
        ("CLUSTER", "ADDSLOTS" | "DELSLOTS") => {
            args.iter().skip(2).filter_map(|s| parse_slot(s)).collect()
        }
        ("CLUSTER", "ADDSLOTSRANGE" | "DELSLOTSRANGE") => args
            .get(2..)
            .unwrap_or_default()
            .chunks(2)
            .filter_map(|p| {
                Some(SlotRange::new(
                    parse_slot(p.first()?)?,
                    parse_slot(p.get(1)?)?,
                ))
            })
            .flat_map(|r| r.iter())
            .collect(),
        ("CLUSTER", "MIGRATESLOTS") => migrate_slots_groups(words, args)
            .into_iter()
            .flat_map(|(s, _)| s)
            .collect(),
        _ => Vec::new(),
    }
}
