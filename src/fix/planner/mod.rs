//! The pure planner: from a [`ClusterModel`] (and the findings of its diagnosis) to a list of
//! [`FixPlan`]s. No I/O. The same plans feed the dashboard and `slotscope fix`.
//!
//! Differences from `redis-cli --cluster fix` (which settles a half-moved slot by key count and
//! hands empty uncovered slots to a master picked at random per second), on purpose:
//! - the direction of a half-moved slot follows the markers' intent, and both directions are
//!   offered, with the key counts on each side;
//! - stabilising is offered only when it orphans no key;
//! - uncovered slots go back to the one master holding their keys; empty ones are handed out in
//!   contiguous, even ranges (never per-second random fragments);
//! - the slots of a dead master are never handed out silently: failover on a chosen replica is
//!   preferred, and reassigning needs a typed confirmation that names the number of slots.
//!
//! This file holds the entry points, the planner's context and the helpers every family
//! shares. Each family of repairs adds its plans from its own file, in an `impl Planner` block:
//! - `membership`: a plain Redis server, a node to `CLUSTER MEET`, a node to `CLUSTER FORGET`;
//! - `open_slots`: half-moved slots (close, complete or roll back), with `migration` for the
//!   complete and roll-back plans;
//! - `failover`: failed masters (failover, restart advice, reassigning their slots);
//! - `uncovered`: uncovered slots (reclaim by the key holder, cover the empty ones);
//! - `disputes`: nodes that disagree about who owns a slot;
//! - `coverage`: `cluster-require-full-coverage`;
//! - `replication`: replicas whose replication link is down;
//! - `slot_migrations`: atomic slot migrations (Valkey 9+): cancel a stalled job, retry one
//!   that failed cleanly;
//! - `stray`: keys stored on a master that does not own their slot, back to the owner.
//!
//! `access` then turns every plan that needs a command some node refuses into advice.
//!
//! Tests sit beside each family in `<family>_tests.rs`, on models built with
//! `cluster::testkit` (the three-master start and plan helpers are in `test_kit`).

use std::collections::BTreeSet;

use crate::cluster::model::{ClusterModel, NodeSummary, Reachability, Role};
use crate::cluster::slots::{Slot, SlotRange};
use crate::cluster::types::{Endpoint, MarkerKind, NodeId};
use crate::cluster::{Finding, FindingKind};

use super::marker::MarkerSide;
use super::{Condition, FixPlan, FixStep, KeyEstimate, Requirement, StepAction};

pub use access::refused_steps;
pub use recommend::recommend_one;

mod access;
mod composite;
mod coverage;
mod disputes;
mod failover;
mod membership;
mod migration;
mod open_slots;
mod recommend;
mod replication;
mod slot_migrations;
mod slot_ranges;
mod stray;
mod uncovered;

#[cfg(test)]
mod access_tests;
#[cfg(test)]
mod composite_tests;
#[cfg(test)]
mod coverage_tests;
#[cfg(test)]
mod disputes_tests;
#[cfg(test)]
mod failover_tests;
#[cfg(test)]
mod membership_tests;
#[cfg(test)]
mod open_slots_tests;
#[cfg(test)]
mod replication_tests;
#[cfg(test)]
mod slot_migrations_tests;
#[cfg(test)]
mod test_kit;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod uncovered_tests;

/// How long a plan waits for gossip to settle after a step that needs it.
const SETTLE_TIMEOUT_MS: u64 = 15_000;

/// What the user selected in the dashboard, to narrow the plans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanScope {
    /// Every plan.
    All,
    /// Plans touching this slot.
    Slot(Slot),
    /// Plans touching this node.
    Node(NodeId),
    /// Plans answering this kind of finding.
    Finding(FindingKind),
}

/// Every plan for the current state of the cluster.
#[must_use]
pub fn plan_fixes(model: &ClusterModel, findings: &[Finding]) -> Vec<FixPlan> {
    let mut p = Planner {
        model,
        findings,
        plans: Vec::new(),
    };
    p.not_cluster();
    p.open_slots();
    p.stray_keys();
    p.failed_masters();
    p.unclaimed_and_uncovered();
    p.disputes();
    p.meet();
    p.forget();
    p.coverage();
    p.replica_links();
    p.slot_migrations();
    let mut seen = BTreeSet::new();
    p.plans.retain(|plan| seen.insert(plan.id.clone()));
    slot_ranges::group_open_slots(&mut p.plans, model);
    // Whatever a family said, the data risk is decided by replaying each plan's commands on
    // the measured key counts.
    for plan in &mut p.plans {
        super::effects::enforce(plan, model);
    }
    super::effects::rebalance(&mut p.plans);
    let mut plans = p.plans;
    composite::add_composites(model, &mut plans);
    recommend_in_composite_groups(&mut plans);
    // Last: a plan that needs a command some node refuses is advice, whatever it would do.
    access::advise_refused(&mut plans, model);
    plans
}

/// A group that holds a composite plan gets exactly one recommendation, by
/// [`recommend_one`]'s order (the whole repair, unless a plan that loses less exists).
fn recommend_in_composite_groups(plans: &mut [FixPlan]) {
    let groups: BTreeSet<String> = plans
        .iter()
        .filter(|p| p.kind.is_composite())
        .filter_map(|p| p.group.clone())
        .collect();
    for g in groups {
        let mut members: Vec<FixPlan> = plans
            .iter()
            .filter(|p| p.group.as_ref() == Some(&g))
            .cloned()
            .collect();
        recommend_one(&mut members);
        let mut it = members.into_iter();
        for p in plans.iter_mut().filter(|p| p.group.as_ref() == Some(&g)) {
            if let Some(m) = it.next() {
                p.recommended = m.recommended;
            }
        }
    }
}

/// The plans touching a selected slot, node or finding kind.
#[must_use]
pub fn plan_fixes_for(
    model: &ClusterModel,
    findings: &[Finding],
    scope: &PlanScope,
) -> Vec<FixPlan> {
    plan_fixes(model, findings)
        .into_iter()
        .filter(|plan| match scope {
            PlanScope::All => true,
            PlanScope::Slot(s) => plan.slots.iter().any(|r| r.contains(*s)),
            PlanScope::Node(id) => plan.nodes.contains(id),
            PlanScope::Finding(kind) => plan.finding == Some(*kind),
        })
        .collect()
}

/// The planner's context: the model and findings it reads, and the plans found so far (in
/// the order [`plan_fixes`] runs the families).
struct Planner<'a> {
    model: &'a ClusterModel,
    findings: &'a [Finding],
    plans: Vec<FixPlan>,
}

/// The endpoint to send commands to.
fn endpoint_of(n: &NodeSummary) -> Option<Endpoint> {
    n.endpoint.clone().or_else(|| n.addr.endpoint())
}

/// Reachable, answering, non-failing cluster node with an id and an endpoint.
fn is_live(n: &NodeSummary) -> bool {
    matches!(n.reachability, Reachability::Ok)
        && n.own_line.is_some()
        && n.id.is_some()
        && endpoint_of(n).is_some()
        && !n.flags.fail
        && n.peers.fail_by.is_empty()
}

fn is_live_master(n: &NodeSummary) -> bool {
    is_live(n) && n.role == Role::Master
}

fn short(id: &NodeId) -> &str {
    id.short()
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn u64_of(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Arguments `start end start end …` for ADDSLOTSRANGE / DELSLOTSRANGE.
fn range_args(cmd: &str, ranges: &[SlotRange]) -> Vec<String> {
    let mut v = vec!["CLUSTER".to_owned(), cmd.to_owned()];
    for r in ranges {
        v.push(r.start.to_string());
        v.push(r.end.to_string());
    }
    v
}

fn cmd_step(ep: Endpoint, id: Option<NodeId>, args: Vec<String>, description: String) -> FixStep {
    FixStep {
        endpoint: ep,
        node_id: id,
        action: StepAction::Command {
            args,
            tolerate: Vec::new(),
        },
        description,
    }
}

fn wait_step(ep: Endpoint, condition: Condition, description: String) -> FixStep {
    FixStep {
        endpoint: ep,
        node_id: None,
        action: StepAction::WaitFor {
            condition,
            timeout_ms: SETTLE_TIMEOUT_MS,
        },
        description,
    }
}

/// Split `slots` (ascending) into `k` contiguous chunks whose sizes differ by at most one.
fn even_chunks(slots: &[Slot], k: usize) -> Vec<Vec<Slot>> {
    if k == 0 {
        return Vec::new();
    }
    let base = slots.len() / k;
    let extra = slots.len() % k;
    let mut out = Vec::with_capacity(k);
    let mut at = 0;
    for i in 0..k {
        let len = base + usize::from(i < extra);
        out.push(
            slots
                .get(at..at + len)
                .map(<[Slot]>::to_vec)
                .unwrap_or_default(),
        );
        at += len;
    }
    out
}

/// What `viewer` believes is the owner of `slot`: the consensus unless a recorded
/// disagreement of that node says otherwise.
#[must_use]
pub fn view_owner(model: &ClusterModel, viewer: &NodeId, slot: Slot) -> Option<NodeId> {
    for d in &model.disagreements {
        if &d.node == viewer && d.slots.iter().any(|r| r.contains(slot)) {
            return d.its_owner.clone();
        }
    }
    model.owner_of(slot).and_then(|n| n.id.clone())
}

impl Planner<'_> {
    fn label(&self, id: &NodeId) -> String {
        self.model
            .node(id)
            .map_or_else(|| id.short().to_owned(), NodeSummary::label)
    }

    /// The summary of the first finding of `kind` touching `slots` or `node`, if any.
    fn why(
        &self,
        kinds: &[FindingKind],
        slots: &[SlotRange],
        node: Option<&NodeId>,
    ) -> Option<String> {
        self.findings
            .iter()
            .filter(|f| kinds.contains(&f.kind))
            .find(|f| {
                let slot_hit = slots
                    .iter()
                    .any(|r| f.slots.iter().any(|fr| fr.overlaps(r)));
                let node_hit = node.is_some_and(|n| f.nodes.contains(n));
                slot_hit || node_hit || (slots.is_empty() && node.is_none())
            })
            .map(|f| f.summary.clone())
    }

    fn live_masters(&self) -> Vec<&NodeSummary> {
        self.model
            .nodes
            .iter()
            .filter(|n| is_live_master(n))
            .collect()
    }

    /// Slot-owning masters and how many of them are live: (live, total).
    fn master_majority(&self) -> (usize, usize) {
        let owners: Vec<&NodeSummary> = self
            .model
            .nodes
            .iter()
            .filter(|n| n.role == Role::Master && !n.claimed_slots.is_empty())
            .collect();
        let live = owners.iter().filter(|n| is_live(n)).count();
        (live, owners.len())
    }

    /// Keys that `nslots` slots would hold at the live masters' average density: every live
    /// master with a known key count and at least one slot of its own counts. `None` when no
    /// such master exists.
    fn keys_per_slot_estimate(&self, nslots: u64) -> Option<KeyEstimate> {
        let (keys, slots) = self
            .live_masters()
            .iter()
            .filter_map(|m| {
                let keys = m.info.as_ref().and_then(|i| i.keys)?;
                let slots = u64_of(m.own_line.as_ref()?.slot_count());
                (slots > 0).then_some((keys, slots))
            })
            .fold((0u64, 0u64), |(k, s), (mk, ms)| {
                (k.saturating_add(mk), s.saturating_add(ms))
            });
        if slots == 0 {
            return None;
        }
        let est =
            (u128::from(keys) * u128::from(nslots) + u128::from(slots) / 2) / u128::from(slots);
        Some(KeyEstimate {
            keys: u64::try_from(est).unwrap_or(u64::MAX),
            basis: format!(
                "if it held as many keys per slot as the live masters ({} in {} slots)",
                plural(keys, "key", "keys"),
                slots
            ),
        })
    }

    /// `node` still holds its marker of `kind` for `slot` with `peer`, as observed.
    fn marker_held(
        &self,
        kind: MarkerKind,
        slot: Slot,
        node: &NodeId,
        peer: &NodeId,
    ) -> Requirement {
        Requirement::new(
            format!(
                "slot {slot} still {} on {} {} {}",
                kind.verb(),
                self.label(node),
                kind.preposition(),
                self.label(peer)
            ),
            Condition::slot_marked(kind, slot, node.clone(), peer.clone()),
        )
    }
}
