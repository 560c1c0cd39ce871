//! One plan per incident: where several single-step plans answer one cause, a composite plan
//! does the whole repair in order, with one confirmation that states the whole risk.
//!
//! - every dead master without a live replica: hand its slots to the live masters
//!   (`reassign-slots-*`), wait until every node serves them, then `CLUSTER FORGET` it on every
//!   live node, back to back (the 60 s ban window), and wait until no node lists it;
//! - a dead master with one live replica: `failover-*`, wait until the replica serves the
//!   slots, then forget the old master the same way.
//!
//! A composite is built from the parts as [`plan_fixes`](super::plan_fixes) left them (risk
//! already enforced): its steps are the parts' steps in order with the forget after the
//! settle-wait, its preconditions the union of the parts' (less `owns no slot` of the forget,
//! which the first part establishes and its wait step checks), its expected end state the
//! union. Its risk is replayed by [`effects::enforce`](crate::fix::effects::enforce) like any
//! plan's, then raised to the worst of its parts: a composite is never less risky than a part,
//! and it asks for the typed word of its riskiest part. The single-step plans stay offered.

use crate::cluster::model::{ClusterModel, NodeSummary, Reachability};
use crate::cluster::slots::{SlotRange, merge_ranges};
use crate::cluster::types::NodeId;
use crate::fix::{Condition, Confirmation, FixPlan, FixStep, KeysAtRisk, PlanKind, Requirement};

use super::membership::forget_steps;
use super::{is_live, short, wait_step};

/// Append the composite plans for `plans` (the enforced single-step plans of `model`).
pub(super) fn add_composites(model: &ClusterModel, plans: &mut Vec<FixPlan>) {
    let mut out = Vec::new();
    if let Some(p) = dead_masters(model, plans) {
        out.push(p);
    }
    out.extend(failover_then_forget(model, plans));
    for mut p in out {
        finish(&mut p, model);
        plans.push(p);
    }
}

/// The dead master a `reassign-slots-*` or `failover-*` plan is about (its first node).
fn dead_of<'m>(model: &'m ClusterModel, p: &FixPlan) -> Option<(&'m NodeSummary, NodeId)> {
    let id = p.nodes.first()?;
    Some((model.node(id)?, id.clone()))
}

/// The forget part for `dead`: FORGET on every live node that lists it (the promoted replica
/// included), then a wait until no node does.
fn forget_part(model: &ClusterModel, dead: &NodeSummary, id: &NodeId) -> Option<Vec<FixStep>> {
    // A node that accepts connections but answers nothing is alive: never forget it.
    if !matches!(dead.reachability, Reachability::Failed(_)) && !dead.is_failing() {
        return None;
    }
    let mut steps = forget_steps(model, dead, id);
    let anchor = steps.first().map(|s| s.endpoint.clone())?;
    steps.push(wait_step(
        anchor,
        Condition::NodeForgotten { node: id.clone() },
        format!(
            "check that {} is forgotten and did not come back through gossip",
            dead.label()
        ),
    ));
    Some(steps)
}

fn forgotten(dead: &NodeSummary, id: &NodeId) -> Requirement {
    Requirement::new(
        format!("no node lists {}", dead.label()),
        Condition::NodeForgotten { node: id.clone() },
    )
}

fn still_down(dead: &NodeSummary, id: &NodeId) -> Requirement {
    Requirement::new(
        format!("{} still unreachable", dead.label()),
        Condition::NodeUnreachable { node: id.clone() },
    )
}

/// Every dead master without a live replica: reassign the slots of all of them, then forget
/// all of them, in one plan.
fn dead_masters(model: &ClusterModel, plans: &[FixPlan]) -> Option<FixPlan> {
    let mut reassign: Vec<(&FixPlan, &NodeSummary, NodeId)> = Vec::new();
    for p in plans.iter().filter(|p| p.kind == PlanKind::ReassignSlots) {
        let Some((dead, id)) = dead_of(model, p) else {
            continue;
        };
        let has_live_replica = model
            .nodes
            .iter()
            .any(|r| r.master_id.as_ref() == Some(&id) && is_live(r));
        if !has_live_replica {
            reassign.push((p, dead, id));
        }
    }
    if reassign.is_empty() {
        return None;
    }
    let mut forgets = Vec::new();
    for (_, dead, id) in &reassign {
        forgets.push(forget_part(model, dead, id)?);
    }
    let parts: Vec<&FixPlan> = reassign.iter().map(|(p, _, _)| *p).collect();
    let labels: Vec<String> = reassign.iter().map(|(_, d, _)| d.label()).collect();
    let shorts: Vec<&str> = reassign.iter().map(|(_, _, id)| short(id)).collect();
    let mut plan = merge(&parts, PlanKind::RepairDeadMasters);
    plan.id = format!("repair-dead-masters-{}", shorts.join("-"));
    let slots: u64 = parts.iter().map(|p| p.risk.slots_changing_owner).sum();
    plan.title = format!(
        "Repair in one plan: hand the {slots} slots of {} to the live masters, empty, then \
         forget {}",
        labels.join(", "),
        if labels.len() == 1 { "it" } else { "them" }
    );
    for steps in forgets {
        plan.steps.extend(steps);
    }
    for (_, dead, id) in &reassign {
        push_new(&mut plan.preconditions, still_down(dead, id));
        push_new(&mut plan.expected, forgotten(dead, id));
    }
    plan.advice = vec![format!(
        "The same as running the reassign plan{s}, then the forget plan{s}, without waiting \
         between them: FORGET is sent to every live node back to back, inside the 60 s ban \
         window. Never restart a forgotten master with its old nodes.conf; reset it (CLUSTER \
         RESET) and add it back empty.",
        s = if reassign.len() == 1 { "" } else { "s" }
    )];
    if reassign.len() > 1 {
        plan.group = None;
    }
    Some(plan)
}

/// A dead master with exactly one live replica: fail over to it, then forget the old master.
fn failover_then_forget(model: &ClusterModel, plans: &[FixPlan]) -> Vec<FixPlan> {
    let mut out = Vec::new();
    for p in plans.iter().filter(|p| p.kind == PlanKind::Failover) {
        let Some((dead, id)) = dead_of(model, p) else {
            continue;
        };
        let live_replicas = model
            .nodes
            .iter()
            .filter(|r| r.master_id.as_ref() == Some(&id) && is_live(r))
            .count();
        // Other live replicas of the old master would refuse to forget it.
        if live_replicas != 1 {
            continue;
        }
        let Some(forget) = forget_part(model, dead, &id) else {
            continue;
        };
        let mut plan = merge(&[p], PlanKind::FailoverAndForget);
        plan.id = format!("failover-and-forget-{}", short(&id));
        plan.title = format!(
            "Repair in one plan: {}, then forget {}",
            lower_first(&p.title),
            dead.label()
        );
        plan.steps.extend(forget);
        push_new(&mut plan.preconditions, still_down(dead, &id));
        push_new(&mut plan.expected, forgotten(dead, &id));
        plan.advice = vec![format!(
            "The same as the failover plan, then the forget plan for {}. Restarting it later \
             needs CLUSTER RESET first; it can then be added back as a replica.",
            dead.label()
        )];
        out.push(plan);
    }
    out
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_lowercase().chain(c).collect::<String>()
    })
}

fn push_new(v: &mut Vec<Requirement>, r: Requirement) {
    if !v.iter().any(|x| x.condition == r.condition) {
        v.push(r);
    }
}

/// The parts concatenated: steps in order, preconditions and expectations unioned, the why,
/// slots and nodes of every part, the confirmation and risk of the riskiest part (raised again
/// by [`finish`]).
fn merge(parts: &[&FixPlan], kind: PlanKind) -> FixPlan {
    let mut plan = FixPlan {
        id: String::new(),
        kind,
        title: String::new(),
        why: String::new(),
        finding: parts.first().and_then(|p| p.finding),
        group: parts.first().and_then(|p| p.group.clone()),
        recommended: false,
        slots: Vec::new(),
        nodes: Vec::new(),
        steps: Vec::new(),
        advice: Vec::new(),
        risk: crate::fix::Risk::default(),
        preconditions: Vec::new(),
        expected: Vec::new(),
        confirmation: Confirmation::Simple,
    };
    let mut whys: Vec<String> = Vec::new();
    let mut slots: Vec<SlotRange> = Vec::new();
    for p in parts {
        plan.steps.extend(p.steps.iter().cloned());
        if !whys.contains(&p.why) {
            whys.push(p.why.clone());
        }
        slots.extend(p.slots.iter().copied());
        for n in &p.nodes {
            if !plan.nodes.contains(n) {
                plan.nodes.push(n.clone());
            }
        }
        for r in &p.preconditions {
            push_new(&mut plan.preconditions, r.clone());
        }
        for r in &p.expected {
            push_new(&mut plan.expected, r.clone());
        }
    }
    plan.why = whys.join("; ");
    plan.slots = merge_ranges(slots);
    plan.risk = parts_risk(parts);
    plan.confirmation = parts_confirmation(parts);
    plan
}

/// The risk of the parts added up: keys to move summed, slots changing owner summed, the
/// worst key count at risk, data loss if any part loses data, every note.
fn parts_risk(parts: &[&FixPlan]) -> crate::fix::Risk {
    let mut r = crate::fix::Risk::default();
    for p in parts {
        raise(&mut r, &p.risk);
        r.keys_to_move = r.keys_to_move.saturating_add(p.risk.keys_to_move);
        r.slots_changing_owner = r
            .slots_changing_owner
            .saturating_add(p.risk.slots_changing_owner);
    }
    r
}

/// Raise `r` to at least `part` (key count at risk, data loss, notes; the counts of moves
/// are the caller's).
fn raise(r: &mut crate::fix::Risk, part: &crate::fix::Risk) {
    r.keys_at_risk = match (&r.keys_at_risk, &part.keys_at_risk) {
        (KeysAtRisk::Known(a), KeysAtRisk::Known(b)) => KeysAtRisk::Known((*a).max(*b)),
        (KeysAtRisk::Unknown { .. }, _) => r.keys_at_risk.clone(),
        (KeysAtRisk::Known(_), u) => u.clone(),
    };
    r.loses_data |= part.loses_data;
    for n in &part.notes {
        if !r.notes.contains(n) {
            r.notes.push(n.clone());
        }
    }
}

/// One typed word for the whole plan: the slots of every part that asks for `lose-N-slots`
/// added up, else the first part's word, else a plain yes.
fn parts_confirmation(parts: &[&FixPlan]) -> Confirmation {
    let words: Vec<&str> = parts
        .iter()
        .filter_map(|p| match &p.confirmation {
            Confirmation::TypeWord(w) => Some(w.as_str()),
            Confirmation::Simple => None,
        })
        .collect();
    let slots: Option<u64> = words
        .iter()
        .map(|w| {
            w.strip_prefix("lose-")
                .and_then(|w| w.strip_suffix("-slots"))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum();
    match (words.first(), slots) {
        (None, _) => Confirmation::Simple,
        (Some(_), Some(n)) if words.len() > 1 => Confirmation::TypeWord(format!("lose-{n}-slots")),
        (Some(w), _) => Confirmation::TypeWord((*w).to_owned()),
    }
}

/// Replay the composite like every plan, then make sure it is never less risky than a part.
fn finish(plan: &mut FixPlan, model: &ClusterModel) {
    let declared = plan.risk.clone();
    crate::fix::effects::enforce(plan, model);
    raise(&mut plan.risk, &declared);
    plan.risk.keys_to_move = plan.risk.keys_to_move.max(declared.keys_to_move);
    plan.risk.slots_changing_owner = plan
        .risk
        .slots_changing_owner
        .max(declared.slots_changing_owner);
    if plan.risk.loses_data && plan.confirmation == Confirmation::Simple {
        plan.confirmation = Confirmation::TypeWord(match plan.risk.keys_at_risk.known() {
            Some(n) => format!("lose-{n}-keys"),
            None => "lose-unknown-keys".to_owned(),
        });
    }
}
