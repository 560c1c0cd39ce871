//! The planner's promises, checked on a generated cluster ([`GenCluster`]) for every plan
//! offered: by the property tests (`tests/planner_properties.rs`) and the `planner` fuzz
//! target, on the same generator.
//!
//! For every plan of [`plan_fixes`] on the state's model:
//! 1. a plan that asks only for a plain "yes" never deletes, hides or strands a key: the
//!    replay of [`effects::assess`] finds nothing, and, independently of it, no such plan
//!    turns a node that really holds keys into a replica, deletes slots its keys live in, or
//!    forgets a master that still holds keys;
//! 2. the plan's `keys_at_risk` is what its replay loses (exactly, for the kinds whose every
//!    effect the replay models; at least that, for the others);
//! 3. every step writes to a node of the observed cluster;
//! 4. every precondition holds on the model the plan was made from;
//! 5. applying the plan's expected end state to the cluster (and observing it again) leaves
//!    no finding of the kind the plan answers on the plan's slots (or, for a plan without
//!    slots, its nodes).

use crate::cluster::generate::{GenCluster, Health, subtract};
use crate::cluster::model::ClusterModel;
use crate::cluster::slots::{SlotRange, merge_ranges};
use crate::cluster::types::NodeId;
use crate::cluster::{Finding, FindingKind, diagnose};

use super::effects::{Assessment, assess};
use super::{Condition, Confirmation, FixPlan, KeysAtRisk, PlanKind, StepAction};
use super::{failed_checks, plan_fixes};

/// What one check of one state saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Plans checked.
    pub plans: usize,
    /// Plans whose end state was applied and diagnosed (property 5).
    pub end_states: usize,
}

/// Check every property on every plan for `g`. `Err` names the plan and the broken promise.
///
/// # Errors
/// The first broken promise, in words, with the plan's id.
pub fn check_cluster(g: &GenCluster) -> Result<Checked, String> {
    let model = ClusterModel::build(&g.snapshot());
    let findings = diagnose(&model);
    let plans = plan_fixes(&model, &findings);
    let mut out = Checked::default();
    for plan in &plans {
        let fail = |what: String| format!("plan {} ({:?}): {what}", plan.id, plan.kind);
        let replay = assess(plan, &model);
        plain_yes_is_safe(g, &replay, plan).map_err(fail)?;
        risk_matches_replay(&replay, plan).map_err(fail)?;
        writes_inside(g, plan).map_err(fail)?;
        let failed = failed_checks(&plan.preconditions, &model);
        if !failed.is_empty() {
            return Err(fail(format!("preconditions fail: {failed:?}")));
        }
        if end_state_clears_finding(g, plan).map_err(fail)? {
            out.end_states += 1;
        }
        out.plans += 1;
    }
    Ok(out)
}

fn args(step: &super::FixStep) -> Vec<String> {
    match &step.action {
        StepAction::Command { args, .. } => args.iter().map(|a| a.to_ascii_uppercase()).collect(),
        _ => Vec::new(),
    }
}

/// Property 1.
fn plain_yes_is_safe(g: &GenCluster, a: &Assessment, plan: &FixPlan) -> Result<(), String> {
    if plan.confirmation != Confirmation::Simple || plan.is_advice_only() {
        return Ok(());
    }
    if !a.is_safe() {
        return Err(format!(
            "asks only for yes but its replay loses keys: {:?}",
            a.note()
        ));
    }
    if plan.risk.loses_data {
        return Err("asks only for yes but says it loses data".into());
    }
    for step in &plan.steps {
        let args = args(step);
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        let Some(node) = &step.node_id else { continue };
        let truth = g.true_keys(node).unwrap_or(0);
        match words.as_slice() {
            ["CLUSTER", "REPLICATE", ..] if truth > 0 && !holds_only_copies(g, node) => {
                return Err(format!(
                    "plain yes turns {} (holding {truth} keys) into a replica",
                    node.short()
                ));
            }
            ["CLUSTER", "DELSLOTS" | "DELSLOTSRANGE", rest @ ..] => {
                let slots = delslots_ranges(words[1], rest);
                // Slots the same node claims again later in the plan keep their keys readable.
                let back = readded(plan, node);
                if let Some(n) = keys_in(g, node, &slots, &back) {
                    return Err(format!("plain yes deletes slots holding {n} keys"));
                }
            }
            ["CLUSTER", "FORGET", victim, ..] => {
                let victim = NodeId::from(victim.to_ascii_lowercase());
                if forgets_last_copy(g, &victim) {
                    return Err(format!(
                        "plain yes forgets {} whose keys have no other copy",
                        victim.short()
                    ));
                }
            }
            ["FLUSHALL" | "FLUSHDB" | "DEL" | "UNLINK", ..] | ["CLUSTER", "RESET", ..] => {
                return Err(format!("plain yes sends {}", words.join(" ")));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A replica's keys are copies of its master's: dropping them loses nothing.
fn holds_only_copies(g: &GenCluster, node: &NodeId) -> bool {
    g.nodes
        .iter()
        .find(|n| &n.id == node)
        .is_some_and(|n| n.replica_of.is_some() && n.keys.is_empty())
}

fn delslots_ranges(cmd: &str, rest: &[&str]) -> Vec<SlotRange> {
    let nums: Vec<u16> = rest.iter().filter_map(|s| s.parse().ok()).collect();
    if cmd == "DELSLOTSRANGE" {
        nums.chunks(2)
            .filter_map(|c| Some(SlotRange::new(*c.first()?, *c.get(1)?)))
            .collect()
    } else {
        nums.into_iter().map(SlotRange::single).collect()
    }
}

/// The slots `node` claims with `ADDSLOTS` / `ADDSLOTSRANGE` steps of `plan`.
fn readded(plan: &FixPlan, node: &NodeId) -> Vec<SlotRange> {
    plan.steps
        .iter()
        .filter(|s| s.node_id.as_ref() == Some(node))
        .flat_map(|s| {
            let args = args(s);
            let words: Vec<&str> = args.iter().map(String::as_str).collect();
            match words.as_slice() {
                ["CLUSTER", cmd @ ("ADDSLOTS" | "ADDSLOTSRANGE"), rest @ ..] => {
                    delslots_ranges(&cmd.replace("ADD", "DEL"), rest)
                }
                _ => Vec::new(),
            }
        })
        .collect()
}

/// Keys the ground truth puts on `node` in `slots` but not in `except`, when there are any.
fn keys_in(
    g: &GenCluster,
    node: &NodeId,
    slots: &[SlotRange],
    except: &[SlotRange],
) -> Option<u64> {
    let n = g.nodes.iter().find(|n| &n.id == node)?;
    let k: u64 = n
        .keys
        .iter()
        .filter(|(s, _)| {
            slots.iter().any(|r| r.contains(**s)) && !except.iter().any(|r| r.contains(**s))
        })
        .map(|(_, k)| k)
        .sum();
    (k > 0).then_some(k)
}

/// Forgetting `victim` loses keys: it is a master holding keys that no live node holds a
/// copy of (no live replica, no promoted replica that took them over).
fn forgets_last_copy(g: &GenCluster, victim: &NodeId) -> bool {
    let Some(i) = g.nodes.iter().position(|n| &n.id == victim) else {
        return false;
    };
    let v = &g.nodes[i];
    if !v.is_master() || v.keys.is_empty() || v.base.is_empty() {
        return false;
    }
    !g.nodes
        .iter()
        .any(|n| n.replica_of == Some(i) && n.health == Health::Up)
}

/// Kinds whose every effect on keys the replay models (`effects::replay_decides`).
fn replay_decides(kind: PlanKind) -> bool {
    matches!(
        kind,
        PlanKind::Meet
            | PlanKind::ResolveDispute
            | PlanKind::StabiliseSlot
            | PlanKind::CompleteMigration
            | PlanKind::RollBackMigration
            | PlanKind::ReturnStrayKeys
    )
}

/// Property 2.
fn risk_matches_replay(a: &Assessment, plan: &FixPlan) -> Result<(), String> {
    if plan.steps.is_empty() {
        return Ok(());
    }
    let replay = a.at_risk();
    let stated = &plan.risk.keys_at_risk;
    if a.is_safe() {
        return Ok(());
    }
    if !plan.risk.loses_data {
        return Err(format!(
            "replay loses {} but the plan does not say it loses data",
            replay.phrase()
        ));
    }
    let ok = match (stated, &replay) {
        (KeysAtRisk::Known(s), KeysAtRisk::Known(r)) => {
            if replay_decides(plan.kind) {
                s == r
            } else {
                s >= r
            }
        }
        (KeysAtRisk::Unknown { .. }, _) => true,
        (KeysAtRisk::Known(_), KeysAtRisk::Unknown { .. }) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "states {} at risk, its replay loses {}",
            stated.phrase(),
            replay.phrase()
        ))
    }
}

/// Property 3.
fn writes_inside(g: &GenCluster, plan: &FixPlan) -> Result<(), String> {
    let eps = g.endpoints();
    let ids: Vec<&NodeId> = g.nodes.iter().map(|n| &n.id).collect();
    for step in &plan.steps {
        if !eps.contains(&step.endpoint) {
            return Err(format!(
                "step sent to {} outside the cluster",
                step.endpoint
            ));
        }
        if let Some(id) = &step.node_id
            && !ids.contains(&id)
        {
            return Err(format!("step names node {id} outside the cluster"));
        }
        if let StepAction::MigrateSlotKeys { to_endpoint, .. } = &step.action
            && !eps.contains(to_endpoint)
        {
            return Err(format!("keys moved to {to_endpoint} outside the cluster"));
        }
    }
    Ok(())
}

/// Property 5. `Ok(false)` when the end state cannot be applied to a generated cluster (it
/// needs something the generator does not model), or the finding is of a kind a repair does
/// not clear by itself.
fn end_state_clears_finding(g: &GenCluster, plan: &FixPlan) -> Result<bool, String> {
    let Some(kind) = plan.finding else {
        return Ok(false);
    };
    if plan.is_advice_only() || plan.expected.is_empty() {
        return Ok(false);
    }
    let mut end = g.clone();
    for e in &plan.expected {
        if !apply(&mut end, &e.condition) {
            return Ok(false);
        }
    }
    let model = ClusterModel::build(&end.snapshot());
    if !failed_checks(&plan.expected, &model).is_empty() {
        return Ok(false);
    }
    let left: Vec<Finding> = diagnose(&model)
        .into_iter()
        .filter(|f| f.kind == kind)
        // Stray keys are one finding per holder (its first node), each with its own plan:
        // another node's keys in the same slot are not this plan's to return.
        .filter(|f| kind != FindingKind::StrayKeys || f.nodes.first() == plan.nodes.first())
        .filter(|f| {
            if plan.slots.is_empty() {
                f.nodes.iter().any(|n| plan.nodes.contains(n))
            } else {
                f.slots
                    .iter()
                    .any(|r| plan.slots.iter().any(|p| p.overlaps(r)))
            }
        })
        .collect();
    if left.is_empty() {
        Ok(true)
    } else {
        Err(format!(
            "its expected end state still has {kind:?}: {}",
            left.iter()
                .map(|f| f.summary.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

fn index(g: &GenCluster, id: &NodeId) -> Option<usize> {
    g.nodes.iter().position(|n| &n.id == id)
}

/// Give `slots` to node `to` in every view: out of every other claim, hole and dispute.
fn assign(g: &mut GenCluster, slots: &[SlotRange], to: Option<usize>) {
    for r in slots {
        for n in &mut g.nodes {
            n.base = subtract(&n.base, *r);
        }
        let mut holes = Vec::new();
        for h in std::mem::take(&mut g.holes) {
            for part in subtract(&[h.range], *r) {
                holes.push(crate::cluster::generate::Hole { range: part, ..h });
            }
        }
        g.holes = holes;
        if g.dispute.as_ref().is_some_and(|d| d.range.overlaps(r)) {
            g.dispute = None;
        }
        if let Some(t) = to {
            let n = &mut g.nodes[t];
            n.base.push(*r);
            n.base = merge_ranges(std::mem::take(&mut n.base));
        }
    }
}

/// Move the keys of `slots` from every other node to `to` (or drop them with `None`).
fn move_keys(g: &mut GenCluster, slots: &[SlotRange], to: Option<usize>, from: Option<usize>) {
    let mut moved = Vec::new();
    for (i, n) in g.nodes.iter_mut().enumerate() {
        if Some(i) == to || from.is_some_and(|f| f != i) || !n.is_master() {
            continue;
        }
        n.keys.retain(|s, k| {
            let inside = slots.iter().any(|r| r.contains(*s));
            if inside {
                moved.push((*s, *k));
            }
            !inside
        });
    }
    if let Some(t) = to {
        for (s, k) in moved {
            *g.nodes[t].keys.entry(s).or_default() += k;
        }
    }
}

/// Make `c` true of the generated cluster with the least change; false when it cannot be.
fn apply(g: &mut GenCluster, c: &Condition) -> bool {
    match c {
        Condition::SlotsServedBy { slots, node }
        | Condition::SlotsOwnedBy { slots, node }
        | Condition::SlotsClaimedBy { slots, node } => {
            let Some(i) = index(g, node) else {
                return false;
            };
            assign(g, slots, Some(i));
            true
        }
        Condition::SlotsUncovered { slots } => {
            assign(g, slots, None);
            true
        }
        Condition::SlotsClosed { slots } => {
            for n in &mut g.nodes {
                n.markers.retain(|m| !slots.iter().any(|r| r.contains(m.0)));
            }
            true
        }
        Condition::SlotNotMarkedOn { slot, node } => {
            if let Some(i) = index(g, node) {
                g.nodes[i].markers.retain(|m| m.0 != *slot);
            }
            true
        }
        Condition::AllViewsAgree => {
            for h in &mut g.holes {
                h.owner_only = false;
            }
            g.dispute = None;
            true
        }
        Condition::NodeForgotten { node } => {
            if let Some(i) = index(g, node) {
                g.nodes[i].forgotten = true;
            }
            true
        }
        Condition::NodeIsReplicaOf { node, master } => {
            let (Some(i), Some(m)) = (index(g, node), index(g, master)) else {
                return false;
            };
            let n = &mut g.nodes[i];
            n.replica_of = Some(m);
            n.base.clear();
            n.keys.clear();
            n.markers.clear();
            true
        }
        Condition::NodeIsMaster { node } => {
            if let Some(i) = index(g, node) {
                g.nodes[i].replica_of = None;
            }
            true
        }
        Condition::NodeOwnsNoSlot { node } => {
            if let Some(i) = index(g, node) {
                g.nodes[i].base.clear();
            }
            true
        }
        Condition::NodeJoined { node } => {
            if let Some(i) = index(g, node) {
                g.nodes[i].isolated = false;
            }
            true
        }
        Condition::KeysOnlyOn { slots, node } => {
            let to = index(g, node);
            move_keys(g, slots, to, None);
            true
        }
        Condition::NoKeysStoredOn { slots, node } => {
            let Some(from) = index(g, node) else {
                return true;
            };
            for r in slots {
                let owner = (0..g.nodes.len())
                    .find(|&i| i != from && g.nodes[i].base.iter().any(|b| b.overlaps(r)));
                move_keys(g, &[*r], owner, Some(from));
            }
            true
        }
        // Facts the repair does not change, or that follow from the rest: checked after.
        Condition::SlotMigrating { .. }
        | Condition::SlotImporting { .. }
        | Condition::SlotsServed { .. }
        | Condition::NodeReachable { .. }
        | Condition::NodeFailing { .. }
        | Condition::NodeUnreachable { .. }
        | Condition::NodeIsolated { .. }
        | Condition::ClusterStateOk
        | Condition::FullyServed
        | Condition::FullCoverage { .. }
        | Condition::SlotMigrationRunning { .. }
        | Condition::NoSlotMigrationRunning { .. } => true,
    }
}
