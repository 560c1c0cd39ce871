//! What a plan does to keys, computed from its commands and the key census — the one place
//! where a plan's data risk is decided.
//!
//! Every family of the planner states a risk in its own words, but none of them decides alone
//! whether a plan may run on a plain "yes". [`enforce`] replays the plan's exact steps on a
//! copy of the cluster's state (slot owners, open-slot markers, keys per node and slot from
//! the census) and tallies:
//! - **deleted** keys: a master that still holds keys in a slot deletes them when it learns a
//!   newer owner (`SETSLOT … NODE` on the claimant, `MEET` where the other side's config epoch
//!   is higher); a node told to `CLUSTER REPLICATE` drops its dataset; `FORGET` of the last
//!   copy of a dead master's slots;
//! - **hidden** keys: keys that clients could read before the step and cannot after it
//!   (`SETSLOT … STABLE` closing the ASK route to a half-moved slot's target, `DELSLOTS` on the
//!   owner, `FORGET` clearing an importing marker that served them).
//!
//! A count that cannot be measured (the node is down, its census incomplete) is *unknown*,
//! never zero. A plan whose replay deletes or hides any key, or an unknown number, gets
//! `loses_data`, the count in `keys_at_risk`, a note saying which keys on which node, and a
//! typed confirmation word; within a group of alternatives, the recommendation moves to a plan
//! that loses nothing when there is one. So the invariant — a plan that asks only for a plain
//! "yes" never makes a key unreadable — holds by construction, whatever a family claimed.

use std::collections::{BTreeMap, HashMap};

use crate::cluster::model::{ClusterModel, NodeSummary, Reachability, Role};
use crate::cluster::slots::{Slot, SlotRange};
use crate::cluster::types::{MarkerKind, NodeId};

use super::{Confirmation, FixPlan, FixStep, KeyEstimate, KeysAtRisk, PlanKind, StepAction};

/// Keys counted, plus the reasons of what could not be counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Keys counted.
    pub known: u64,
    /// What could not be counted, in words (empty when everything was counted).
    pub unknown: Vec<String>,
    /// Where the counted keys are, in words.
    pub places: Vec<String>,
    /// Per (node label, why): keys counted, the slots, and whether some count is unknown.
    by_node: BTreeMap<(String, String), (u64, Vec<Slot>, bool)>,
}

impl Tally {
    fn add(&mut self, n: Option<u64>, place: impl FnOnce() -> String) {
        match n {
            Some(0) => {}
            Some(n) => {
                self.known += n;
                if self.places.len() < 8 {
                    self.places.push(format!("{n} key(s) {}", place()));
                }
            }
            None => {
                if self.unknown.len() < 8 {
                    self.unknown
                        .push(format!("an unknown number of keys {}", place()));
                }
            }
        }
    }

    /// Keys of one slot on one node, gathered per node into slot ranges.
    fn add_slot(&mut self, n: Option<u64>, slot: Slot, label: &str, why: &str) {
        if n == Some(0) {
            return;
        }
        let e = self
            .by_node
            .entry((label.to_owned(), why.to_owned()))
            .or_default();
        match n {
            Some(n) => {
                self.known += n;
                e.0 += n;
            }
            None => e.2 = true,
        }
        e.1.push(slot);
    }

    /// Reasons for what could not be counted, per node first.
    fn unknown_reasons(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .by_node
            .iter()
            .filter(|(_, (_, _, unknown))| *unknown)
            .map(|((label, _), (_, slots, _))| {
                format!(
                    "the keys of {label} in slot(s) {} cannot be counted",
                    brief(slots)
                )
            })
            .collect();
        out.extend(self.unknown.iter().cloned());
        out
    }

    /// Every place, in words.
    fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .by_node
            .iter()
            .map(|((label, why), (n, slots, unknown))| {
                let ranges = brief(slots);
                let count = match (*n, *unknown) {
                    (n, false) => format!("{n} key(s)"),
                    (0, true) => "an unknown number of keys".to_owned(),
                    (n, true) => format!("{n} key(s) or more"),
                };
                format!("{count} of slot(s) {ranges} on {label}{why}")
            })
            .collect();
        out.extend(self.places.iter().cloned());
        out.extend(self.unknown.iter().cloned());
        out
    }

    /// True when nothing at all is affected.
    #[must_use]
    pub fn is_none(&self) -> bool {
        self.known == 0 && self.unknown.is_empty() && self.by_node.values().all(|v| !v.2)
    }
}

/// Slots as ranges, shortened when there are many: `5, 9-12` or `120 slots in 10961-16302`.
fn brief(slots: &[Slot]) -> String {
    let all = sorted(slots);
    let ranges = crate::cluster::slots::slots_to_ranges(all.iter().copied());
    match (ranges.first(), ranges.last()) {
        (Some(first), Some(last)) if ranges.len() > 4 => {
            format!("{} slots in {}-{}", all.len(), first.start, last.end)
        }
        _ => crate::cluster::slots::format_ranges(&ranges),
    }
}

fn sorted(slots: &[Slot]) -> Vec<Slot> {
    let mut v = slots.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// What replaying a plan's steps does to keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assessment {
    pub deleted: Tally,
    pub hidden: Tally,
}

impl Assessment {
    /// Keys lost or made unreadable, as a [`KeysAtRisk`].
    #[must_use]
    pub fn at_risk(&self) -> KeysAtRisk {
        let known = self.deleted.known + self.hidden.known;
        let mut reasons = self.deleted.unknown_reasons();
        reasons.extend(self.hidden.unknown_reasons());
        let Some(reason) = reasons.into_iter().next() else {
            return KeysAtRisk::Known(known);
        };
        let estimate = (known > 0).then(|| KeyEstimate {
            keys: known,
            basis: "counted so far, plus what could not be counted".to_owned(),
        });
        KeysAtRisk::unknown(reason, estimate)
    }

    /// True when no key is deleted or hidden, and nothing is unknown.
    #[must_use]
    pub fn is_safe(&self) -> bool {
        self.deleted.is_none() && self.hidden.is_none()
    }

    /// The note for the plan's risk, or `None` when it is safe.
    #[must_use]
    pub fn note(&self) -> Option<String> {
        if self.is_safe() {
            return None;
        }
        let mut parts = Vec::new();
        let deleted = self.deleted.describe();
        if !deleted.is_empty() {
            parts.push(format!("deletes {}", deleted.join("; ")));
        }
        let hidden = self.hidden.describe();
        if !hidden.is_empty() {
            parts.push(format!("makes unreadable {}", hidden.join("; ")));
        }
        Some(format!(
            "replayed on the measured key counts, this plan {}",
            parts.join(", and ")
        ))
    }
}

/// Replay `plan` on the model and apply the result to its risk, confirmation and (within its
/// group, by [`rebalance`]) recommendation. See the module docs.
pub fn enforce(plan: &mut FixPlan, model: &ClusterModel) {
    if plan.steps.is_empty() {
        return;
    }
    let a = assess(plan, model);
    let Some(note) = a.note() else {
        if replay_decides(plan.kind) && measured(plan, model) {
            // Every effect of these commands is modelled: measured to lose nothing, the plan
            // needs no typed word, whatever its family estimated.
            plan.risk.keys_at_risk = KeysAtRisk::Known(0);
            plan.risk.loses_data = false;
            plan.risk.notes.push(
                "replayed on the measured key counts: no key is deleted or hidden".to_owned(),
            );
            plan.confirmation = Confirmation::Simple;
        }
        return;
    };
    let at_risk = a.at_risk();
    plan.risk.keys_at_risk = if replay_decides(plan.kind) {
        at_risk
    } else {
        worse(&plan.risk.keys_at_risk, at_risk)
    };
    plan.risk.loses_data = true;
    if !plan.risk.notes.contains(&note) {
        plan.risk.notes.push(note);
    }
    // Clean-up that loses data is never the recommended answer.
    if plan.kind == PlanKind::Forget {
        plan.recommended = false;
    }
    if plan.confirmation == Confirmation::Simple {
        plan.confirmation = Confirmation::TypeWord(match plan.risk.keys_at_risk.known() {
            Some(n) => format!("lose-{n}-keys"),
            None => "lose-unknown-keys".to_owned(),
        });
    }
}

/// Every master the plan names has a key census: the replay worked on measured counts only.
fn measured(plan: &FixPlan, model: &ClusterModel) -> bool {
    plan.nodes.iter().all(|id| {
        model
            .node(id)
            .is_some_and(|n| n.role != Role::Master || n.census.is_some())
    })
}

/// Plan kinds whose every effect on keys the replay models, so that its measured result
/// replaces the family's estimate in both directions. For the others (a failover's replication
/// lag, the keys of a dead master whose slots are handed out) the replay can only add risk.
fn replay_decides(kind: PlanKind) -> bool {
    matches!(
        kind,
        PlanKind::Meet
            | PlanKind::ResolveDispute
            | PlanKind::StabiliseSlot
            | PlanKind::CompleteMigration
            | PlanKind::RollBackMigration
            | PlanKind::ReturnStrayKeys
            | PlanKind::CancelSlotMigration
            | PlanKind::RetrySlotMigration
    )
}

/// The recommended plans must not lose data when another plan for the same problem (same
/// group, or overlapping slots) writes and loses nothing: the recommendation moves there.
pub fn rebalance(plans: &mut [FixPlan]) {
    let n = plans.len();
    for rec in 0..n {
        if !plans[rec].recommended || !plans[rec].risk.loses_data {
            continue;
        }
        let alternative = (0..n).find(|&i| {
            i != rec
                && !plans[i].risk.loses_data
                && !plans[i].is_advice_only()
                && repairs(plans[i].kind)
                && same_problem(&plans[rec], &plans[i])
        });
        if let Some(safe) = alternative {
            plans[rec].recommended = false;
            plans[safe].recommended = true;
        }
    }
}

/// Plans that repair the cause, as opposed to relief that only hides it
/// (`cluster-require-full-coverage no` serves the other slots but not these).
fn repairs(kind: PlanKind) -> bool {
    !matches!(kind, PlanKind::CoverageOff | PlanKind::CoverageOn)
}

/// Two plans answer the same problem: same group, or they touch a common slot.
fn same_problem(a: &FixPlan, b: &FixPlan) -> bool {
    if a.group.is_some() && a.group == b.group {
        return true;
    }
    a.slots
        .iter()
        .any(|r| b.slots.iter().any(|o| r.overlaps(o)))
}

/// The larger of two risks; unknown wins over a count.
fn worse(a: &KeysAtRisk, b: KeysAtRisk) -> KeysAtRisk {
    match (a, &b) {
        (KeysAtRisk::Known(x), KeysAtRisk::Known(y)) => KeysAtRisk::Known((*x).max(*y)),
        (KeysAtRisk::Unknown { .. }, KeysAtRisk::Known(_)) => a.clone(),
        _ => b,
    }
}

/// Replay the steps of `plan` on the model's state. See the module docs.
#[must_use]
pub fn assess(plan: &FixPlan, model: &ClusterModel) -> Assessment {
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

fn live(n: &NodeSummary) -> bool {
    matches!(n.reachability, Reachability::Ok) && !n.flags.fail
}

fn parse_slot(s: &str) -> Option<Slot> {
    s.parse().ok()
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
        self.model
            .node(id)
            .map_or_else(|| id.short().to_owned(), NodeSummary::label)
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
                        out.hidden.add_slot(k, s, &label, "");
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
                out.deleted.add_slot(k, s, &label, "");
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
                    .add_slot(k, s, &label, " (the lower config epoch)");
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
        let Some(forgotten) = self.node(x) else {
            return;
        };
        if forgotten.role != Role::Replica {
            return;
        }
        let Some(master) = forgotten.master_id.as_ref().and_then(|m| self.node(m)) else {
            return;
        };
        if live(master) {
            return;
        }
        let other_copy = self.model.nodes.iter().any(|n| {
            n.role == Role::Replica
                && n.master_id.as_ref() == master.id.as_ref()
                && n.id.as_ref() != Some(x)
                && live(n)
        });
        if !other_copy && !master.claimed_slots.is_empty() {
            let label = self.label(x);
            let slots = crate::cluster::slots::format_ranges(&master.claimed_slots);
            out.deleted.add(None, || {
                format!("of slots {slots}: {label} is the last copy of its dead master's data")
            });
        }
    }

    /// `CLUSTER REPLICATE` sent to `node`: it drops its dataset for its new master's.
    fn replicate(&mut self, node: &NodeId, out: &mut Assessment) {
        let Some(n) = self.node(node) else {
            return;
        };
        if n.role == Role::Replica {
            return;
        }
        let k = match &n.census {
            Some(c) => Some(c.db_keys),
            None if n.info.as_ref().and_then(|i| i.keys) == Some(0) => Some(0),
            None => None,
        };
        let label = self.label(node);
        out.deleted
            .add(k, || format!("stored on {label} (its whole dataset)"));
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
                    .add_slot(k, s, &label, " (the lower config epoch)");
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
fn touched_slots(words: &[String], args: &[String]) -> Vec<Slot> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::census::NodeCensus;
    use crate::cluster::synthetic::snapshot_from_texts;
    use crate::cluster::types::Endpoint;
    use crate::fix::{FixStep, Risk};

    const A: &str = "aaaa";
    const B: &str = "bbbb";

    /// Two masters: a (epoch 1) serves 0-8191, b (epoch 2) serves 8192-16383; `a_line` and
    /// `b_line` are their own `myself` lines (to add markers).
    fn model(a_mark: &str, b_mark: &str, counts: &[(&str, Slot, u64)]) -> ClusterModel {
        let a = format!(
            "aaaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191{a_mark}\n\
             bbbb 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n"
        );
        let b = format!(
            "aaaa 127.0.0.1:7000@17000 master - 0 0 1 connected 0-8191\n\
             bbbb 127.0.0.1:7001@17001 myself,master - 0 0 2 connected 8192-16383{b_mark}\n"
        );
        let snap = snapshot_from_texts(&[("127.0.0.1:7000", Ok(&a)), ("127.0.0.1:7001", Ok(&b))]);
        let mut m = ClusterModel::build(&snap);
        for n in &mut m.nodes {
            let id = n.id.clone().unwrap();
            let mut c = NodeCensus::default();
            for (who, s, k) in counts {
                if *who == id.as_str() {
                    c.slots.insert(*s, *k);
                    c.db_keys += k;
                }
            }
            c.owned_keys = c.db_keys;
            n.census = Some(c);
        }
        m
    }

    fn cmd(node: &str, port: u16, args: &[&str]) -> FixStep {
        FixStep {
            endpoint: Endpoint::new("127.0.0.1", port),
            node_id: Some(NodeId::from(node)),
            action: StepAction::Command {
                args: args.iter().map(|a| (*a).to_owned()).collect(),
                tolerate: Vec::new(),
            },
            description: String::new(),
        }
    }

    fn migrate(slot: Slot, from: &str, to: &str) -> FixStep {
        FixStep {
            endpoint: Endpoint::new("127.0.0.1", 7000),
            node_id: Some(NodeId::from(from)),
            action: StepAction::MigrateSlotKeys {
                slot,
                from: NodeId::from(from),
                to: NodeId::from(to),
                to_endpoint: Endpoint::new("127.0.0.1", 7001),
                batch: 100,
                timeout_ms: 5000,
            },
            description: String::new(),
        }
    }

    fn plan(steps: Vec<FixStep>) -> FixPlan {
        FixPlan {
            id: "p".into(),
            kind: crate::fix::PlanKind::StabiliseSlot,
            title: String::new(),
            why: String::new(),
            finding: None,
            group: Some("g".into()),
            recommended: true,
            slots: Vec::new(),
            nodes: Vec::new(),
            steps,
            advice: Vec::new(),
            risk: Risk::default(),
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: Confirmation::Simple,
        }
    }

    #[test]
    fn handing_a_slot_over_before_its_keys_moved_deletes_them() {
        let m = model("", "", &[(A, 5, 40)]);
        let mut p = plan(vec![cmd(B, 7001, &["CLUSTER", "SETSLOT", "5", "NODE", B])]);
        enforce(&mut p, &m);
        assert!(p.risk.loses_data);
        assert_eq!(p.risk.keys_at_risk, KeysAtRisk::Known(40));
        assert_eq!(
            p.confirmation,
            Confirmation::TypeWord("lose-40-keys".into())
        );
        assert!(
            p.risk
                .notes
                .iter()
                .any(|n| n.contains("deletes 40 key(s) of slot(s) 5 on 127.0.0.1:7000")),
            "{:?}",
            p.risk.notes
        );
    }

    #[test]
    fn moving_the_keys_first_then_handing_over_is_safe() {
        let m = model(" [5->-bbbb]", " [5-<-aaaa]", &[(A, 5, 40)]);
        let mut p = plan(vec![
            migrate(5, A, B),
            cmd(B, 7001, &["CLUSTER", "SETSLOT", "5", "NODE", B]),
            cmd(A, 7000, &["CLUSTER", "SETSLOT", "5", "NODE", B]),
        ]);
        enforce(&mut p, &m);
        assert!(!p.risk.loses_data, "{:?}", p.risk);
        assert_eq!(p.confirmation, Confirmation::Simple);
    }

    #[test]
    fn an_atomic_migration_moves_keys_with_their_slots_and_a_cancel_changes_nothing() {
        let m = model("", "", &[(A, 5, 40), (A, 6, 2)]);
        let mut p = plan(vec![cmd(
            A,
            7000,
            &["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "5", "6", "NODE", B],
        )]);
        let mut sim = Sim::new(&m);
        let mut out = Assessment::default();
        sim.step(&p.steps[0], &mut out);
        assert!(out.is_safe(), "{out:?}");
        assert_eq!(sim.owner(5), Some(NodeId::from(B)));
        assert_eq!(sim.keys(&NodeId::from(B), 5), Some(40));
        assert_eq!(sim.keys(&NodeId::from(A), 6), Some(0));
        // A slot the node does not own is not moved by it.
        assert_eq!(sim.owner(9000), Some(NodeId::from(B)));
        enforce(&mut p, &m);
        assert!(!p.risk.loses_data, "{:?}", p.risk);
        let mut c = plan(vec![cmd(A, 7000, &["CLUSTER", "CANCELSLOTMIGRATIONS"])]);
        enforce(&mut c, &m);
        assert!(!c.risk.loses_data, "{:?}", c.risk);
        assert_eq!(c.confirmation, Confirmation::Simple);
    }

    #[test]
    fn closing_the_ask_route_hides_the_keys_already_on_the_target() {
        // Half moved: 10 keys already on b, which only the source's ASK redirect serves.
        let m = model(" [5->-bbbb]", " [5-<-aaaa]", &[(A, 5, 30)]);
        let mut m = m;
        if let Some(c) = m
            .nodes
            .iter_mut()
            .find(|n| n.id.as_ref().is_some_and(|i| i.as_str() == B))
            .and_then(|n| n.census.as_mut())
        {
            c.slots.insert(5, 10);
        }
        let mut p = plan(vec![cmd(A, 7000, &["CLUSTER", "SETSLOT", "5", "STABLE"])]);
        enforce(&mut p, &m);
        assert_eq!(p.risk.keys_at_risk, KeysAtRisk::Known(10), "{:?}", p.risk);
        assert!(matches!(p.confirmation, Confirmation::TypeWord(_)));
    }

    #[test]
    fn an_uncounted_node_makes_the_risk_unknown_never_zero() {
        let mut m = model("", "", &[]);
        for n in &mut m.nodes {
            if n.id.as_ref().is_some_and(|i| i.as_str() == A) {
                n.census = None;
                n.info = None;
            }
        }
        let mut p = plan(vec![cmd(B, 7001, &["CLUSTER", "SETSLOT", "5", "NODE", B])]);
        enforce(&mut p, &m);
        assert!(p.risk.keys_at_risk.known().is_none(), "{:?}", p.risk);
        assert_eq!(
            p.confirmation,
            Confirmation::TypeWord("lose-unknown-keys".into())
        );
    }

    #[test]
    fn the_recommendation_moves_to_the_alternative_that_loses_nothing() {
        let m = model("", "", &[(A, 5, 40)]);
        let mut risky = plan(vec![cmd(B, 7001, &["CLUSTER", "SETSLOT", "5", "NODE", B])]);
        let mut safe = plan(vec![cmd(A, 7000, &["CLUSTER", "SETSLOT", "5", "STABLE"])]);
        safe.recommended = false;
        enforce(&mut risky, &m);
        enforce(&mut safe, &m);
        let mut plans = vec![risky, safe];
        rebalance(&mut plans);
        assert!(!plans[0].recommended && plans[1].recommended);
    }

    #[test]
    fn range_commands_name_their_slots() {
        let words = |a: &[&str]| -> (Vec<String>, Vec<String>) {
            let args: Vec<String> = a.iter().map(|s| (*s).to_owned()).collect();
            (args.iter().map(|s| s.to_ascii_uppercase()).collect(), args)
        };
        let (w, a) = words(&["cluster", "addslotsrange", "1", "3", "7", "7"]);
        assert_eq!(touched_slots(&w, &a), vec![1, 2, 3, 7]);
        let (w, a) = words(&["CLUSTER", "DELSLOTS", "4", "9"]);
        assert_eq!(touched_slots(&w, &a), vec![4, 9]);
        let (w, a) = words(&["CLUSTER", "ADDSLOTSRANGE", "9"]);
        assert!(touched_slots(&w, &a).is_empty());
    }
}
