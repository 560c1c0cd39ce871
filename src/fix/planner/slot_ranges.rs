//! One plan per range of open slots: slots left open between the same nodes in the same way
//! (the same kind of plan, the same nodes) get one plan that loops over them, with one id and
//! one confirmation, instead of one plan per slot (a reshard stopped over 100 slots gave 100
//! complete / roll-back pairs).
//!
//! The merged plan runs the per-slot steps one slot after the other; its preconditions and
//! expected end state are the union of the slots'. Its risk is the sum of the slots' as the
//! family stated it; [`plan_fixes`](super::plan_fixes) then replays it like every plan.

use std::collections::BTreeMap;

use crate::cluster::model::ClusterModel;
use crate::cluster::slots::{format_ranges, merge_ranges};
use crate::cluster::types::NodeId;
use crate::fix::{Confirmation, FixPlan, KeysAtRisk, PlanKind};

use super::plural;

/// Merge the single-slot open-slot plans of `plans` that share kind, nodes and recommendation.
pub(super) fn group_open_slots(plans: &mut Vec<FixPlan>, model: &ClusterModel) {
    let mut groups: BTreeMap<(PlanKind, Vec<NodeId>, bool), Vec<usize>> = BTreeMap::new();
    for (i, p) in plans.iter().enumerate() {
        let single = matches!(p.slots.as_slice(), [r] if r.start == r.end);
        // Advice (no step to run) stays its own plan: merged, its finding would be claimed
        // by steps that do not touch its slot.
        let runnable = !p.steps.is_empty() && p.advice.is_empty();
        let open = matches!(
            p.kind,
            PlanKind::StabiliseSlot | PlanKind::CompleteMigration | PlanKind::RollBackMigration
        ) && p
            .group
            .as_deref()
            .is_some_and(|g| g.starts_with("open-slot-"));
        if single && open && runnable {
            groups
                .entry((p.kind, p.nodes.clone(), p.recommended))
                .or_default()
                .push(i);
        }
    }
    let mut merged = Vec::new();
    let mut gone = vec![false; plans.len()];
    for idx in groups.into_values().filter(|v| v.len() > 1) {
        let parts: Vec<&FixPlan> = idx.iter().filter_map(|&i| plans.get(i)).collect();
        if let Some(m) = merge(&parts, model) {
            merged.push(m);
        }
        for i in idx {
            if let Some(g) = gone.get_mut(i) {
                *g = true;
            }
        }
    }
    if merged.is_empty() {
        return;
    }
    let mut keep = gone.into_iter();
    plans.retain(|_| !keep.next().unwrap_or(false));
    plans.extend(merged);
}

fn merge(parts: &[&FixPlan], model: &ClusterModel) -> Option<FixPlan> {
    let first = parts.first()?;
    let slots = merge_ranges(parts.iter().flat_map(|p| p.slots.iter().copied()).collect());
    let n: u64 = slots.iter().map(|r| u64::from(r.end - r.start) + 1).sum();
    let ranges = format_ranges(&slots);
    let (lo, hi) = (
        slots.first().map_or(0, |r| r.start),
        slots.last().map_or(0, |r| r.end),
    );
    let mut p = FixPlan::clone(first);
    let prefix = first
        .id
        .rsplit_once('-')
        .map_or(first.id.as_str(), |(a, _)| a);
    p.id = format!("{prefix}-{lo}-{hi}");
    p.group = Some(format!("open-slots-{lo}-{hi}"));
    p.slots = slots;
    let verb = match first.kind {
        PlanKind::CompleteMigration => "Complete the move of",
        PlanKind::RollBackMigration => "Roll back the move of",
        _ => "Close",
    };
    let labels: Vec<String> = first
        .nodes
        .iter()
        .map(|id| {
            model.node(id).map_or_else(
                || id.short().to_owned(),
                crate::cluster::model::NodeSummary::label,
            )
        })
        .collect();
    p.steps.clear();
    p.preconditions.clear();
    p.expected.clear();
    p.risk.keys_to_move = 0;
    p.risk.slots_changing_owner = 0;
    p.risk.keys_at_risk = KeysAtRisk::Known(0);
    let mut whys: Vec<&str> = Vec::new();
    for part in parts {
        p.steps.extend(part.steps.iter().cloned());
        p.preconditions.extend(part.preconditions.iter().cloned());
        p.expected.extend(part.expected.iter().cloned());
        p.risk.keys_to_move += part.risk.keys_to_move;
        p.risk.slots_changing_owner += part.risk.slots_changing_owner;
        p.risk.loses_data |= part.risk.loses_data;
        p.risk.keys_at_risk = match (&p.risk.keys_at_risk, &part.risk.keys_at_risk) {
            (KeysAtRisk::Known(a), KeysAtRisk::Known(b)) => KeysAtRisk::Known(a + b),
            (KeysAtRisk::Unknown { .. }, _) => p.risk.keys_at_risk.clone(),
            (_, b) => b.clone(),
        };
        if !whys.contains(&part.why.as_str()) {
            whys.push(&part.why);
        }
    }
    p.title = format!(
        "{verb} {} {ranges} between {}: {} to move, in one plan",
        plural(n, "slot", "slots"),
        labels.join(" and "),
        plural(p.risk.keys_to_move, "key", "keys")
    );
    p.why = match whys.as_slice() {
        [one] => (*one).to_owned(),
        [one, rest @ ..] => format!("{one} (and {} more slot(s) like it)", rest.len()),
        [] => String::new(),
    };
    p.confirmation = if parts
        .iter()
        .any(|q| matches!(q.confirmation, Confirmation::TypeWord(_)))
    {
        Confirmation::TypeWord(match p.risk.keys_at_risk.known() {
            Some(k) => format!("lose-{k}-keys"),
            None => "lose-unknown-keys".to_owned(),
        })
    } else {
        Confirmation::Simple
    };
    Some(p)
}
