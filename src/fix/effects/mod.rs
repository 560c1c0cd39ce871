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

use std::collections::BTreeMap;

use crate::cluster::model::{ClusterModel, Role};
use crate::cluster::slots::SlotRange;

use super::{Confirmation, FixPlan, KeyEstimate, KeysAtRisk, PlanKind};

mod overlay;
#[cfg(test)]
mod reference;
mod sim;
#[cfg(test)]
mod tests;

use sim::Sim;

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
    by_node: BTreeMap<(String, String), (u64, Vec<SlotRange>, bool)>,
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

    /// Keys of a range of slots on one node, `n` in each slot, gathered per node.
    fn add_range(&mut self, n: Option<u64>, slots: SlotRange, label: &str, why: &str) {
        if n == Some(0) {
            return;
        }
        let e = self
            .by_node
            .entry((label.to_owned(), why.to_owned()))
            .or_default();
        match n {
            Some(n) => {
                let all = n * slots.len() as u64;
                self.known += all;
                e.0 += all;
            }
            None => e.2 = true,
        }
        e.1.push(slots);
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
fn brief(slots: &[SlotRange]) -> String {
    let ranges = crate::cluster::slots::merge_ranges(slots.to_vec());
    match (ranges.first(), ranges.last()) {
        (Some(first), Some(last)) if ranges.len() > 4 => {
            let n: usize = ranges.iter().map(SlotRange::len).sum();
            format!("{n} slots in {}-{}", first.start, last.end)
        }
        _ => crate::cluster::slots::format_ranges(&ranges),
    }
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
        } else if plan.confirmation == Confirmation::Simple
            && plan.risk.keys_at_risk.known().is_none()
        {
            // The replay found no loss, but a count it needed could not be measured: what
            // cannot be measured needs the typed word.
            plan.confirmation = Confirmation::TypeWord("lose-unknown-keys".to_owned());
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
