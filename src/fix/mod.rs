//! Guided fixes: repairs as plain data ([`FixPlan`]), a pure planner, an executor that runs a
//! confirmed plan through the central connection layer, and an audit log.
//!
//! A plan is a value: title, why (which finding), ordered steps (node + exact command), the
//! risk in numbers, the preconditions it relies on (checkable on a fresh
//! [`ClusterModel`](crate::cluster::model::ClusterModel)) and the end state it expects. The TUI
//! and `slotscope fix` show and run the same plans.
//!
//! Plans never contain secrets: authentication for `MIGRATE` is added by the executor at run
//! time, and every rendering of a command masks it.
//!
//! - `plan`: the plan value types (plan, step, risk, confirmation);
//! - `condition`: the facts a plan relies on and their check on a model;
//! - `marker`: the words and commands for either side of a slot migration;
//! - `planner`: from a model and its findings to plans, one file per family of repairs;
//! - `effects`: what a plan's commands do to keys, replayed on the census; decides every
//!   plan's data risk and confirmation (the safety invariant);
//! - `executor`, `audit`, `lock`: running a plan (one writer at a time) and recording it;
//! - `describe`: the words for plans, progress and outcomes, shared by the dashboard and
//!   `slotscope fix` (which lives in `commands/fix.rs`).

pub mod audit;
mod condition;
pub mod describe;
pub mod effects;
pub mod executor;
pub mod lock;
mod marker;
mod plan;
pub mod planner;
#[cfg(any(test, feature = "testkit"))]
pub mod properties;

pub use audit::{AuditLog, AuditRecord};
pub use condition::{Condition, Expectation, Precondition, Requirement, failed_checks};
pub use executor::{Executor, FixEvent, FixOutcome};
pub use plan::{
    CliAuth, Confirmation, DEFAULT_MIGRATE_BATCH, DEFAULT_MIGRATE_TIMEOUT_MS, FixPlan, FixStep,
    KeyEstimate, KeysAtRisk, PlanKind, Risk, RiskLevel, StepAction,
};
pub use planner::{PlanScope, plan_fixes, plan_fixes_for, recommend_one};
