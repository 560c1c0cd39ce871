//! The pure core: parse replies, build the model, diagnose. No I/O, no terminal.

pub mod access;
pub mod census;
pub mod commands;
pub mod diagnose;
pub mod digest;
mod fasthash;
pub mod fold;
#[cfg(any(test, feature = "testkit"))]
pub mod generate;
pub mod identity;
pub mod intern;
pub mod keyslot;
pub mod model;
pub mod parse;
pub mod progress;
pub mod slot_migrations;
pub mod slot_stats;
pub mod slots;
#[cfg(any(test, feature = "testkit"))]
pub mod synthetic;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod types;

pub use diagnose::{Finding, FindingKind, Severity, diagnose};
pub use model::{ClusterModel, NodeSummary, OpenSlot, Reachability, Role, SlotEntry, SlotState};
pub use types::*;

/// A property test's configuration: `cases` cases, and the failing cases it finds kept in
/// `file` (under `tests/proptest-regressions/`, replayed first on every run) rather than in
/// proptest's default directory beside `src/`.
#[cfg(test)]
pub(crate) fn proptest_config(cases: u32, file: &'static str) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(file),
        )),
        ..proptest::test_runner::Config::default()
    }
}
