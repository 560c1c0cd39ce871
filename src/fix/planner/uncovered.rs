//! Uncovered and unclaimed slots: give them back to the one live master holding their keys
//! (reclaim), spread the empty ones over the live masters in contiguous ranges (cover empty),
//! and advise when their keys sit on several masters.

use std::collections::{BTreeMap, BTreeSet};

use crate::cluster::FindingKind;
use crate::cluster::model::Reachability;
use crate::cluster::slots::{
    SLOT_COUNT, Slot, SlotRange, format_ranges, ranges_len, slots_to_ranges,
};
use crate::cluster::types::NodeId;
use crate::fix::{Condition, Confirmation, FixPlan, KeysAtRisk, PlanKind, Requirement, Risk};

use super::{
    Planner, cmd_step, endpoint_of, even_chunks, is_live, plural, range_args, short, u64_of,
    view_owner, wait_step,
};

/// The slots that need a claim, sorted by remedy.
struct Unclaimed {
    /// Per live master: the slots it should claim again.
    reclaim: BTreeMap<NodeId, BTreeSet<Slot>>,
    /// Uncovered slots with keys on several masters.
    split: BTreeSet<Slot>,
    /// Uncovered slots with no key anywhere and no dead claimant.
    empty: Vec<Slot>,
}

impl Planner<'_> {
    /// Uncovered or unclaimed slots: back to the one live master holding their keys, empty
    /// ones spread over the live masters, advice when several masters hold keys.
    pub(super) fn unclaimed_and_uncovered(&mut self) {
        let mut u = self.classify_unclaimed();
        self.merge_runs(&mut u);
        let Unclaimed {
            reclaim,
            split,
            empty,
        } = u;
        for (id, mut set) in reclaim {
            // Slots it already claims in its own view need no ADDSLOTS (a MEET or an epoch
            // bump makes that claim visible; see the meet and dispute plans).
            if let Some(line) = self.model.node(&id).and_then(|n| n.own_line.as_ref()) {
                set.retain(|s| !line.slots.iter().any(|r| r.contains(*s)));
            }
            if !set.is_empty() {
                self.reclaim(&id, &set);
            }
        }
        if !empty.is_empty() {
            self.cover_empty(&empty);
        }
        if !split.is_empty() {
            self.split_advice(&split);
        }
    }

    /// Advice for uncovered slots whose keys sit on several masters.
    fn split_advice(&mut self, split: &BTreeSet<Slot>) {
        let ranges = slots_to_ranges(split.iter().copied());
        self.plans.push(FixPlan {
            id: format!("uncovered-split-{}", ranges.first().map_or(0, |r| r.start)),
            kind: PlanKind::ReclaimUncovered,
            title: format!(
                "Uncovered slots {} have keys on several masters",
                format_ranges(&ranges)
            ),
            why: self
                .why(&[FindingKind::UncoveredSlots], &ranges, None)
                .unwrap_or_else(|| format!("slots {} are not served", format_ranges(&ranges))),
            finding: Some(FindingKind::UncoveredSlots),
            group: None,
            recommended: true,
            slots: ranges,
            nodes: Vec::new(),
            steps: Vec::new(),
            advice: vec![
                "Pick the rightful owner of each slot, give it the slot (CLUSTER \
                 ADDSLOTS + CLUSTER BUMPEPOCH on it), then mark the other holders IMPORTING \
                 from it and move their keys over; slotscope will then offer the moves."
                    .to_owned(),
            ],
            risk: Risk::default(),
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: Confirmation::Simple,
        });
    }

    /// Sort every slot that needs a claim: slots a live master should claim again (uncovered
    /// with keys only there, or bound to it by peers while it no longer claims them itself),
    /// slots with keys on several masters, and empty uncovered slots.
    fn classify_unclaimed(&self) -> Unclaimed {
        let mut reclaim: BTreeMap<NodeId, BTreeSet<Slot>> = BTreeMap::new();
        let mut split: BTreeSet<Slot> = BTreeSet::new();
        let mut empty: Vec<Slot> = Vec::new();
        let live: BTreeSet<NodeId> = self
            .live_masters()
            .iter()
            .filter_map(|n| n.id.clone())
            .collect();
        let mut dead_claims = vec![false; SLOT_COUNT];
        for s in self
            .model
            .nodes
            .iter()
            .filter(|n| !is_live(n))
            .flat_map(|n| n.claimed_slots.iter().flat_map(SlotRange::iter))
        {
            if let Some(d) = dead_claims.get_mut(usize::from(s)) {
                *d = true;
            }
        }
        let dead_claims = |s: Slot| dead_claims.get(usize::from(s)).copied().unwrap_or(false);
        // Whether each node (by index) is a live master: one lookup per node, not per slot.
        let live_at: Vec<bool> = self
            .model
            .nodes
            .iter()
            .map(|n| n.id.as_ref().is_some_and(|id| live.contains(id)))
            .collect();
        for (i, e) in self.model.slots.iter().enumerate() {
            let Ok(s) = Slot::try_from(i) else { continue };
            let holders: Vec<&NodeId> = self
                .model
                .uncovered_keys
                .get(&s)
                .map(|m| {
                    m.iter()
                        .filter(|(_, c)| **c > 0)
                        .map(|(id, _)| id)
                        .collect()
                })
                .unwrap_or_default();
            match e.owner.and_then(|o| self.model.nodes.get(o as usize)) {
                None => match holders.as_slice() {
                    [] if !dead_claims(s) => empty.push(s),
                    [] => {}
                    [one] if live.contains(*one) => {
                        reclaim.entry((*one).clone()).or_default().insert(s);
                    }
                    _ => {
                        split.insert(s);
                    }
                },
                Some(owner) => {
                    // Bound to a live master by peers while it does not claim it itself.
                    let Some(oid) = owner.id.as_ref() else {
                        continue;
                    };
                    if e.owner
                        .is_none_or(|o| live_at.get(o as usize) != Some(&true))
                    {
                        continue;
                    }
                    let claims = owner
                        .own_line
                        .as_ref()
                        .is_some_and(|l| l.slots.iter().any(|r| r.contains(s)));
                    let others_hold = holders.iter().any(|h| *h != oid);
                    if !claims && !others_hold {
                        reclaim.entry(oid.clone()).or_default().insert(s);
                    }
                }
            }
        }
        Unclaimed {
            reclaim,
            split,
            empty,
        }
    }

    /// An empty uncovered slot inside a contiguous uncovered run whose keys all sit on one
    /// master goes to that master too: the run was most likely its range, and keeping it whole
    /// avoids fragmenting the slot map.
    fn merge_runs(&self, u: &mut Unclaimed) {
        let Unclaimed { reclaim, empty, .. } = u;
        let mut run: Vec<Slot> = Vec::new();
        let mut runs: Vec<Vec<Slot>> = Vec::new();
        let mut prev: Option<Slot> = None;
        let mut uncovered_sorted: Vec<Slot> = empty
            .iter()
            .copied()
            .chain(reclaim.values().flatten().copied().filter(|s| {
                self.model
                    .slots
                    .get(usize::from(*s))
                    .is_some_and(|e| e.owner.is_none())
            }))
            .collect();
        uncovered_sorted.sort_unstable();
        for s in uncovered_sorted {
            if prev.is_some_and(|p| u32::from(p) + 1 != u32::from(s)) {
                runs.push(std::mem::take(&mut run));
            }
            run.push(s);
            prev = Some(s);
        }
        runs.push(run);
        for r in runs {
            let owners: BTreeSet<NodeId> = reclaim
                .iter()
                .filter(|(_, set)| r.iter().any(|s| set.contains(s)))
                .map(|(id, _)| id.clone())
                .collect();
            if owners.len() == 1
                && let Some(owner) = owners.into_iter().next()
            {
                empty.retain(|s| !r.contains(s));
                reclaim.entry(owner).or_default().extend(r.iter().copied());
            }
        }
    }

    /// Give `set` back to the live master `id`, which holds their keys: drop any stale
    /// binding, claim them, bump its epoch.
    fn reclaim(&mut self, id: &NodeId, set: &BTreeSet<Slot>) {
        let Some(n) = self.model.node(id) else { return };
        let Some(ep) = endpoint_of(n) else { return };
        let ranges = slots_to_ranges(set.iter().copied());
        let keys: u64 = set
            .iter()
            .filter_map(|s| self.model.uncovered_keys.get(s).and_then(|m| m.get(id)))
            .sum();
        // ADDSLOTSRANGE fails if the node binds one of them to someone else in its own view.
        let foreign: Vec<Slot> = set
            .iter()
            .copied()
            .filter(|s| view_owner(self.model, id, *s).is_some_and(|o| &o != id))
            .collect();
        let mut steps = Vec::new();
        if !foreign.is_empty() {
            let fr = slots_to_ranges(foreign.iter().copied());
            steps.push(cmd_step(
                ep.clone(),
                Some(id.clone()),
                range_args("DELSLOTSRANGE", &fr),
                format!(
                    "{} drops its stale binding of slots {}",
                    n.label(),
                    format_ranges(&fr)
                ),
            ));
        }
        steps.push(cmd_step(
            ep.clone(),
            Some(id.clone()),
            range_args("ADDSLOTSRANGE", &ranges),
            format!(
                "{} claims slots {} again",
                n.label(),
                format_ranges(&ranges)
            ),
        ));
        steps.push(cmd_step(
            ep.clone(),
            Some(id.clone()),
            vec!["CLUSTER".into(), "BUMPEPOCH".into()],
            format!("make the claim of {} win everywhere", n.label()),
        ));
        steps.push(wait_step(
            ep,
            Condition::SlotsServedBy {
                slots: ranges.clone(),
                node: id.clone(),
            },
            format!(
                "wait until every node sees {} serving {}",
                n.label(),
                format_ranges(&ranges)
            ),
        ));
        let nslots = u64_of(ranges_len(&ranges));
        self.plans.push(FixPlan {
            id: format!("reclaim-slots-{}", short(id)),
            kind: PlanKind::ReclaimUncovered,
            title: format!(
                "Give slots {} back to {}, which holds their {}",
                format_ranges(&ranges),
                n.label(),
                plural(keys, "key", "keys")
            ),
            why: self
                .why(
                    &[FindingKind::UncoveredSlots, FindingKind::ClusterDown],
                    &ranges,
                    Some(id),
                )
                .unwrap_or_else(|| {
                    format!(
                        "slots {} are not served although {} holds their keys",
                        format_ranges(&ranges),
                        n.label()
                    )
                }),
            finding: Some(FindingKind::UncoveredSlots),
            group: None,
            recommended: true,
            slots: ranges.clone(),
            nodes: vec![id.clone()],
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: 0,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: nslots,
                loses_data: false,
                notes: vec![format!(
                    "no other reachable master holds keys in these slots; {} keeps its {}",
                    n.label(),
                    plural(keys, "key", "keys")
                )],
            },
            preconditions: vec![
                Requirement::new(
                    format!("{} still reachable", n.label()),
                    Condition::NodeReachable { node: id.clone() },
                ),
                Requirement::new(
                    format!(
                        "no other master holds keys in slots {}",
                        format_ranges(&ranges)
                    ),
                    Condition::KeysOnlyOn {
                        slots: ranges.clone(),
                        node: id.clone(),
                    },
                ),
            ],
            expected: vec![
                Requirement::new(
                    format!("slots {} served by {}", format_ranges(&ranges), n.label()),
                    Condition::SlotsServedBy {
                        slots: ranges.clone(),
                        node: id.clone(),
                    },
                ),
                Requirement::new(
                    format!("{} claims slots {}", n.label(), format_ranges(&ranges)),
                    Condition::SlotsClaimedBy {
                        slots: ranges,
                        node: id.clone(),
                    },
                ),
            ],
            confirmation: Confirmation::Simple,
        });
    }

    /// Spread empty uncovered slots over the live masters in contiguous, even ranges.
    fn cover_empty(&mut self, empty: &[Slot]) {
        let masters = self.live_masters();
        if masters.is_empty() {
            return;
        }
        let all = slots_to_ranges(empty.iter().copied());
        let unknown_nodes = self
            .model
            .nodes
            .iter()
            .filter(|n| !matches!(n.reachability, Reachability::Ok))
            .count();
        let chunks = even_chunks(empty, masters.len());
        let mut steps = Vec::new();
        let mut expected = Vec::new();
        let mut pre = vec![Requirement::new(
            format!("slots {} still uncovered", format_ranges(&all)),
            Condition::SlotsUncovered { slots: all.clone() },
        )];
        let mut nodes = Vec::new();
        for (m, chunk) in masters.iter().zip(chunks) {
            if chunk.is_empty() {
                continue;
            }
            let (Some(mid), Some(ep)) = (m.id.clone(), endpoint_of(m)) else {
                continue;
            };
            let part = slots_to_ranges(chunk.iter().copied());
            steps.push(cmd_step(
                ep.clone(),
                Some(mid.clone()),
                range_args("ADDSLOTSRANGE", &part),
                format!(
                    "{} takes the empty slots {}",
                    m.label(),
                    format_ranges(&part)
                ),
            ));
            steps.push(cmd_step(
                ep,
                Some(mid.clone()),
                vec!["CLUSTER".into(), "BUMPEPOCH".into()],
                format!("make the claim of {} win everywhere", m.label()),
            ));
            pre.push(Requirement::new(
                format!("no master holds keys in slots {}", format_ranges(&part)),
                Condition::KeysOnlyOn {
                    slots: part.clone(),
                    node: mid.clone(),
                },
            ));
            expected.push(Requirement::new(
                format!("slots {} served by {}", format_ranges(&part), m.label()),
                Condition::SlotsServedBy {
                    slots: part,
                    node: mid.clone(),
                },
            ));
            nodes.push(mid);
        }
        let n = u64_of(empty.len());
        let loses = unknown_nodes > 0;
        let mut notes = vec![format!(
            "no reachable master holds a key in these {n} slots; they are split into \
             contiguous ranges, one per master"
        )];
        if loses {
            notes.push(format!(
                "{unknown_nodes} node(s) could not be observed: if one of them holds keys in \
                 these slots, it drops them when it sees the new owners"
            ));
        }
        self.plans.push(FixPlan {
            id: format!("cover-empty-slots-{}", all.first().map_or(0, |r| r.start)),
            kind: PlanKind::CoverEmptySlots,
            title: format!(
                "Assign the {n} empty uncovered slots {} to {} live master(s)",
                format_ranges(&all),
                nodes.len()
            ),
            why: self
                .why(
                    &[FindingKind::UncoveredSlots, FindingKind::ClusterDown],
                    &all,
                    None,
                )
                .unwrap_or_else(|| format!("slots {} are bound to no master", format_ranges(&all))),
            finding: Some(FindingKind::UncoveredSlots),
            group: None,
            recommended: true,
            slots: all,
            nodes,
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: 0,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: n,
                loses_data: loses,
                notes,
            },
            preconditions: pre,
            expected,
            confirmation: if loses {
                Confirmation::TypeWord(format!("assign-{n}-slots"))
            } else {
                Confirmation::Simple
            },
        });
    }
}
