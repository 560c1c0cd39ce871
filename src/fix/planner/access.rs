//! Plans whose commands a node refuses become advice, before anything is sent.
//!
//! Every write step names the commands it sends and the node it sends them to; when that node
//! refused the command (`NOPERM`, renamed away, unknown) or `ACL DRYRUN` said the user may not
//! run it ([`crate::cluster::access`], learned by the refresh), the plan keeps its words and
//! its steps as `redis-cli` lines in the advice, says why, and sends nothing.

use crate::cluster::access::{Access, RefusalKind, command_key, display_name};
use crate::cluster::model::ClusterModel;

use super::super::{FixPlan, FixStep, StepAction};

/// The commands (ACL names) a step sends on its node.
fn step_commands(step: &FixStep) -> Vec<String> {
    match &step.action {
        StepAction::Command { args, .. } => vec![command_key(args)],
        StepAction::MigrateSlotKeys { .. } => {
            vec!["cluster|getkeysinslot".to_owned(), "migrate".to_owned()]
        }
        StepAction::WaitFor { .. } => Vec::new(),
    }
}

/// What the node of `step` has learned about refusals.
fn access_of<'m>(model: &'m ClusterModel, step: &FixStep) -> Option<&'m Access> {
    let by_id = step.node_id.as_ref().and_then(|id| model.node(id));
    let node = by_id.or_else(|| {
        model
            .nodes
            .iter()
            .find(|n| n.endpoint.as_ref() == Some(&step.endpoint))
    })?;
    Some(&node.access)
}

/// Why the plan cannot run: one line per refused command and node, in step order, no repeats.
#[must_use]
pub fn refused_steps(model: &ClusterModel, plan: &FixPlan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for step in plan.steps.iter().filter(|s| s.is_write()) {
        let Some(access) = access_of(model, step) else {
            continue;
        };
        for cmd in step_commands(step) {
            let Some(r) = access.refusal(&cmd) else {
                continue;
            };
            let name = display_name(&r.command);
            let line = match (r.kind, access.user.as_deref()) {
                (RefusalKind::NotAllowed, Some(u)) => {
                    format!("{name} is not allowed for user {u} on {}", step.endpoint)
                }
                (RefusalKind::NotAllowed, None) => {
                    format!("{name} is not allowed on {}", step.endpoint)
                }
                (RefusalKind::Unknown, _) => format!(
                    "{name} is unknown on {} (renamed or disabled)",
                    step.endpoint
                ),
                (RefusalKind::Unsupported, _) => {
                    format!("{name} is not supported on {}", step.endpoint)
                }
            };
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

/// Turn every plan that needs a refused command into advice that says why, then move the
/// recommendation of each problem whose recommended plan became advice to the best plan left
/// for that problem ([`super::recommend`]'s order: a runnable plan that loses nothing wins
/// over the advice; advice that loses nothing wins over a runnable plan that can lose data).
pub(super) fn advise_refused(plans: &mut [FixPlan], model: &ClusterModel) {
    let mut advised = Vec::new();
    for (i, plan) in plans.iter_mut().enumerate() {
        let why = refused_steps(model, plan);
        if why.is_empty() {
            continue;
        }
        advised.push(i);
        let mut advice: Vec<String> = why
            .into_iter()
            .map(|w| format!("Not runnable: {w}."))
            .collect();
        advice.push(
            "Run these steps with a user that may run them (see docs/acl.md), or ask the \
             service provider:"
                .to_owned(),
        );
        advice.extend(plan.steps.iter().map(FixStep::redis_cli_line));
        advice.append(&mut plan.advice);
        plan.advice = advice;
        plan.steps.clear();
        plan.preconditions.clear();
        plan.expected.clear();
        plan.title = format!("{} (advice: a command is refused)", plan.title);
    }
    for i in advised {
        if plans.get(i).is_some_and(|p| p.recommended) {
            recommend_again(plans, i);
        }
    }
}

/// The recommended plan at `rec` became advice: recommend the best plan for the same problem
/// (its group; a plan without a group: the plans without a group that touch one of its slots).
fn recommend_again(plans: &mut [FixPlan], rec: usize) {
    let Some(r) = plans.get(rec) else {
        return;
    };
    let members: Vec<usize> = plans
        .iter()
        .enumerate()
        .filter(|(_, p)| match &r.group {
            Some(g) => p.group.as_ref() == Some(g),
            None => {
                p.group.is_none()
                    && p.slots
                        .iter()
                        .any(|s| r.slots.iter().any(|o| s.overlaps(o)))
            }
        })
        .map(|(i, _)| i)
        .chain(std::iter::once(rec))
        .collect();
    let Some(best) = super::recommend::best_of(plans, members.iter().copied()) else {
        return;
    };
    for &i in &members {
        if let Some(p) = plans.get_mut(i) {
            p.recommended = i == best;
        }
    }
}
