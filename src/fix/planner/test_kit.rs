//! What the planner's tests share: the model builder of `cluster::testkit` (nodes by letter,
//! ports 7000 + the letter's index), a three-master cluster, and helpers to find a plan and
//! list its commands.

use crate::cluster::model::Role;
pub(super) use crate::cluster::testkit::{ModelBuilder, id};
use crate::fix::FixPlan;

/// Masters `a`, `b` and `c` splitting the slots, each with its own line, all up.
pub(super) fn three() -> ModelBuilder {
    ModelBuilder::new()
        .node('a', Role::Master, &[(0, 5460)], true)
        .node('b', Role::Master, &[(5461, 10922)], true)
        .node('c', Role::Master, &[(10923, 16383)], true)
}

pub(super) fn plan<'a>(plans: &'a [FixPlan], id: &str) -> &'a FixPlan {
    plans.iter().find(|p| p.id == id).unwrap_or_else(|| {
        panic!(
            "no plan {id} in {:?}",
            plans.iter().map(|p| &p.id).collect::<Vec<_>>()
        )
    })
}

pub(super) fn commands(p: &FixPlan) -> Vec<String> {
    p.steps
        .iter()
        .map(|s| format!("{} {}", s.endpoint.port, s.command_text()))
        .collect()
}
