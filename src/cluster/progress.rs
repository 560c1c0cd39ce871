//! Reshards in progress: slots and keys that moved between two consecutive observations.
//!
//! One observation cannot tell a healthy live reshard from an interrupted one: both show a
//! slot with markers on both sides and keys on both. Two observations can. Between the
//! previous snapshot and the current one, a pair of masters (source → target) is *active* when
//! slots changed owner from the source to the target (each side's own claim), when keys of a
//! slot open between them left the source, or when a slot between them was opened since.
//! The slots open now between the masters of an active pair are *moving*: the diagnosis
//! reports them as progress (info), and no repair is offered for them.
//!
//! A pair's counts accumulate over consecutive snapshots into a [`Flow`] (slots and keys moved
//! so far, since when), carried from each snapshot's progress to the next one. A flow that
//! stops moving is kept for [`FLOW_LINGER_MS`] so the migration view can show it finished.
//!
//! Pure: [`Progress::between`] reads two snapshots and nothing else.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::slots::{SLOT_COUNT, Slot, SlotRange, merge_ranges, push_slot, ranges_contain};
use super::types::{ClusterSnapshot, MarkerKind, NodeId, NodeReport};

/// How long a flow that stopped moving stays in the progress (to show it finished).
pub const FLOW_LINGER_MS: u64 = 30_000;

/// The flows between pairs of masters seen by consecutive snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// One flow per (source, target), sorted by pair.
    pub flows: Vec<Flow>,
}

/// Slots and keys moving from one master to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub source: NodeId,
    pub target: NodeId,
    /// Unix ms of the observation before the first one that saw it move.
    pub started_at_ms: u64,
    /// Unix ms of the latest observation that saw it move.
    pub last_active_ms: u64,
    /// Something moved between the previous observation and this one.
    pub active: bool,
    /// Slots whose owner changed from the source to the target so far.
    pub slots_moved: u64,
    /// Keys that left the source so far (in moved slots and in the slots open between them).
    pub keys_moved: u64,
    /// Slots open between the two right now (a marker on either side).
    pub open: Vec<Slot>,
    /// Slots that changed owner from the source to the target since the previous observation.
    #[serde(default)]
    pub moved_now: Vec<SlotRange>,
    /// Slots that changed owner in the interval before that (views of other nodes, replicas
    /// above all, learn a new owner by gossip a moment later).
    #[serde(default)]
    pub moved_before: Vec<SlotRange>,
}

impl Flow {
    /// Milliseconds of movement the counts cover (at least 1).
    fn span_ms(&self) -> u64 {
        self.last_active_ms
            .saturating_sub(self.started_at_ms)
            .max(1)
    }

    /// Slots moved per second, averaged since the flow started.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn slots_per_s(&self) -> f64 {
        self.slots_moved as f64 * 1000.0 / self.span_ms() as f64
    }

    /// Keys moved per second, averaged since the flow started.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn keys_per_s(&self) -> f64 {
        self.keys_moved as f64 * 1000.0 / self.span_ms() as f64
    }

    /// Slots still to move, when the markers name them: more than one slot is open between
    /// the two (a tool that opens a batch of slots before moving them). A tool that opens one
    /// slot at a time (`redis-cli --cluster reshard`) does not say how many remain.
    #[must_use]
    pub fn remaining_slots(&self) -> Option<u64> {
        (self.open.len() > 1).then_some(self.open.len() as u64)
    }

    /// Seconds until done at the current rate, when the remaining slots are known.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn eta_s(&self) -> Option<f64> {
        let rate = self.slots_per_s();
        let left = self.remaining_slots()?;
        (self.active && rate > 0.0).then(|| left as f64 / rate)
    }
}

impl Progress {
    /// True when `slot` is open between the masters of an active flow.
    #[must_use]
    pub fn is_moving(&self, slot: Slot) -> bool {
        self.flows
            .iter()
            .any(|f| f.active && f.open.binary_search(&slot).is_ok())
    }

    /// True when `slot` is open in an active flow or changed owner in one of the last two
    /// intervals: views, markers and key counts of such a slot may disagree for a moment.
    #[must_use]
    pub fn in_motion(&self, slot: Slot) -> bool {
        self.flows.iter().any(|f| {
            (f.active && f.open.binary_search(&slot).is_ok())
                || ranges_contain(&f.moved_now, slot)
                || ranges_contain(&f.moved_before, slot)
        })
    }

    /// The flows that moved something since the previous observation.
    pub fn active(&self) -> impl Iterator<Item = &Flow> {
        self.flows.iter().filter(|f| f.active)
    }

    /// The progress of `current` after `previous` (whose own progress is carried on).
    #[must_use]
    pub fn between(previous: Option<&ClusterSnapshot>, current: &ClusterSnapshot) -> Self {
        let Some(previous) = previous else {
            return Self::default();
        };
        let (before, after) = (Side::of(previous), Side::of(current));
        let now = current.finished_at_ms;
        let mut moves: BTreeMap<(NodeId, NodeId), Step> = BTreeMap::new();
        let orphaned = slot_moves(&before, &after, &mut moves);
        key_moves(&before, &after, &mut moves);
        adopt_orphans(&before, orphaned, &mut moves);

        let carried: HashMap<(&NodeId, &NodeId), &Flow> = previous
            .progress
            .flows
            .iter()
            .map(|f| ((&f.source, &f.target), f))
            .collect();
        let mut flows: Vec<Flow> = Vec::new();
        for ((source, target), step) in &moves {
            let open = after.open_between(source, target);
            let prior = carried.get(&(source, target));
            if step.is_activity() {
                let mut f = prior.map_or_else(
                    || Flow {
                        source: source.clone(),
                        target: target.clone(),
                        started_at_ms: previous.finished_at_ms,
                        last_active_ms: now,
                        active: true,
                        slots_moved: 0,
                        keys_moved: 0,
                        open: Vec::new(),
                        moved_now: Vec::new(),
                        moved_before: Vec::new(),
                    },
                    |f| (*f).clone(),
                );
                f.active = true;
                f.last_active_ms = now;
                f.slots_moved += step.slots;
                f.keys_moved += step.keys;
                f.open = open;
                f.moved_before = std::mem::take(&mut f.moved_now);
                f.moved_now.clone_from(&step.moved);
                flows.push(f);
            } else if let Some(f) = prior
                && now.saturating_sub(f.last_active_ms) <= FLOW_LINGER_MS
            {
                let mut f = (*f).clone();
                f.active = false;
                f.open = open;
                f.moved_before = std::mem::take(&mut f.moved_now);
                flows.push(f);
            }
        }
        // Flows with nothing at all between the two masters now still linger.
        for f in &previous.progress.flows {
            let pair = (f.source.clone(), f.target.clone());
            if !moves.contains_key(&pair) && now.saturating_sub(f.last_active_ms) <= FLOW_LINGER_MS
            {
                let mut f = f.clone();
                f.active = false;
                f.open = Vec::new();
                f.moved_before = std::mem::take(&mut f.moved_now);
                flows.push(f);
            }
        }
        flows.sort_by(|a, b| (&a.source, &a.target).cmp(&(&b.source, &b.target)));
        Self { flows }
    }
}

/// What moved between one pair in one interval.
#[derive(Clone, Debug, Default)]
struct Step {
    slots: u64,
    /// The slots that changed owner.
    moved: Vec<SlotRange>,
    keys: u64,
    /// A slot between them was opened since the previous observation.
    opened: bool,
    /// Keys of a slot open between them went down on the source or up on the target.
    keys_shifted: bool,
}

impl Step {
    fn is_activity(&self) -> bool {
        self.slots > 0 || self.keys > 0 || self.opened || self.keys_shifted
    }
}

/// The facts of one snapshot that progress is computed from: every answering master's own
/// claims, markers and key counts.
struct Side<'a> {
    masters: HashMap<&'a NodeId, &'a NodeReport>,
    /// Own claim per slot: the one master that claims it (`None`: nobody, or two claim it).
    owner: Vec<Option<&'a NodeId>>,
    /// (source, target) → open slots, from either side's marker.
    open: BTreeMap<(&'a NodeId, &'a NodeId), BTreeSet<Slot>>,
}

impl<'a> Side<'a> {
    fn of(s: &'a ClusterSnapshot) -> Self {
        let mut masters = HashMap::new();
        let mut owner: Vec<Option<&NodeId>> = vec![None; SLOT_COUNT];
        let mut twice = vec![false; SLOT_COUNT];
        let mut open: BTreeMap<(&NodeId, &NodeId), BTreeSet<Slot>> = BTreeMap::new();
        for o in &s.observations {
            let Some(report) = o.report() else { continue };
            let Some(me) = report.nodes.myself() else {
                continue;
            };
            if !me.flags.master {
                continue;
            }
            masters.insert(&me.id, report);
            for slot in me.slots.iter().flat_map(super::slots::SlotRange::iter) {
                let i = usize::from(slot);
                match owner.get(i) {
                    Some(None) if !twice.get(i).copied().unwrap_or(true) => owner[i] = Some(&me.id),
                    Some(Some(_)) => {
                        owner[i] = None;
                        twice[i] = true;
                    }
                    _ => {}
                }
            }
            for m in &me.markers {
                let pair = match m.kind {
                    MarkerKind::Migrating => (&me.id, &m.peer),
                    MarkerKind::Importing => (&m.peer, &me.id),
                };
                open.entry(pair).or_default().insert(m.slot);
            }
        }
        Self {
            masters,
            owner,
            open,
        }
    }

    /// Keys `node` stores in `slot`, if it answered and they were counted.
    fn keys(&self, node: &NodeId, slot: Slot) -> Option<u64> {
        let r = self.masters.get(node)?;
        r.slot_keys
            .get(&slot)
            .copied()
            .or_else(|| r.census.as_ref().and_then(|c| c.keys_in(slot)))
    }

    fn open_between(&self, source: &NodeId, target: &NodeId) -> Vec<Slot> {
        self.open
            .get(&(source, target))
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Slots whose own claim went from a live master to another master that was already one.
/// Returns the slots that a live master stopped claiming while nobody claims them yet (the
/// target's view was read just before its `SETSLOT NODE`, the source's just after), by
/// source.
fn slot_moves<'a>(
    before: &Side<'a>,
    after: &Side<'a>,
    moves: &mut BTreeMap<(NodeId, NodeId), Step>,
) -> BTreeMap<&'a NodeId, Vec<Slot>> {
    let mut orphaned: BTreeMap<&NodeId, Vec<Slot>> = BTreeMap::new();
    for (slot, (a, b)) in before.owner.iter().zip(&after.owner).enumerate() {
        if let (Some(src), None) = (a, b)
            && after.masters.contains_key(*src)
            && let Ok(slot) = Slot::try_from(slot)
        {
            orphaned.entry(*src).or_default().push(slot);
            continue;
        }
        let (Some(src), Some(dst)) = (a, b) else {
            continue;
        };
        // The source still answers as a master (a failover or a dead master is no reshard),
        // and the target was a master before (a promoted replica takes over, it does not move).
        if src == dst || !after.masters.contains_key(src) || !before.masters.contains_key(dst) {
            continue;
        }
        let Ok(slot) = Slot::try_from(slot) else {
            continue;
        };
        let step = moves.entry(((*src).clone(), (*dst).clone())).or_default();
        step.slots += 1;
        push_slot(&mut step.moved, slot);
        step.keys += before.keys(src, slot).unwrap_or(0);
    }
    orphaned
}

/// Slots a source stopped claiming that nobody claims yet belong to its move when exactly one
/// pair from that source is moving: they are counted as moved now (the target's claim, seen
/// next time, is then no new move).
fn adopt_orphans(
    before: &Side<'_>,
    orphaned: BTreeMap<&NodeId, Vec<Slot>>,
    moves: &mut BTreeMap<(NodeId, NodeId), Step>,
) {
    for (src, slots) in orphaned {
        let mut from_src = moves
            .iter_mut()
            .filter(|((s, _), step)| s == src && step.is_activity());
        let (Some((_, step)), None) = (from_src.next(), from_src.next()) else {
            continue;
        };
        for slot in slots {
            step.slots += 1;
            step.keys += before.keys(src, slot).unwrap_or(0);
            step.moved.push(SlotRange::single(slot));
        }
        step.moved = merge_ranges(std::mem::take(&mut step.moved));
    }
}

/// Keys of open slots that left the source, and slots opened since the previous observation.
fn key_moves(before: &Side<'_>, after: &Side<'_>, moves: &mut BTreeMap<(NodeId, NodeId), Step>) {
    for ((src, dst), slots) in &after.open {
        let step = moves.entry(((*src).clone(), (*dst).clone())).or_default();
        let was_open = before.open.get(&(*src, *dst));
        for &slot in slots {
            if !was_open.is_some_and(|w| w.contains(&slot)) {
                step.opened = true;
            }
            let src_drop = match (before.keys(src, slot), after.keys(src, slot)) {
                (Some(x), Some(y)) => x.saturating_sub(y),
                _ => 0,
            };
            let dst_rise = matches!(
                (before.keys(dst, slot), after.keys(dst, slot)),
                (Some(x), Some(y)) if y > x
            );
            step.keys += src_drop;
            step.keys_shifted |= src_drop > 0 || dst_rise;
        }
    }
    // Slots open before and closed since, still owned by the source: the keys that left it.
    for ((src, dst), slots) in &before.open {
        if after.open.contains_key(&(*src, *dst)) {
            continue;
        }
        let dropped: u64 = slots
            .iter()
            .filter(|s| after.owner.get(usize::from(**s)).copied().flatten() == Some(*src))
            .filter_map(|&s| Some(before.keys(src, s)?.saturating_sub(after.keys(src, s)?)))
            .sum();
        if dropped > 0 {
            let step = moves.entry(((*src).clone(), (*dst).clone())).or_default();
            step.keys += dropped;
            step.keys_shifted = true;
        }
    }
}

#[cfg(test)]
mod tests;
