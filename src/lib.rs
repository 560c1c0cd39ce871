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
