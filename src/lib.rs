//! slotscope: observe, diagnose and repair a Redis Cluster.
//!
//! `cluster` is the pure core (parse, model, diagnose); `fix` plans repairs (pure) and runs them;
//! `refresh` does the network I/O; `app` owns the dashboard state (no I/O, no drawing); `ui`
//! draws it; `tui` is the terminal shell (event loop, terminal, fix runner); `lab` starts
//! throwaway local clusters for the demo and the tests.

pub mod app;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod fix;
pub mod lab;
pub mod record;
pub mod refresh;
pub mod tui;
pub mod ui;

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
