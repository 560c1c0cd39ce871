//! The terminal shell, the only part of the dashboard that does I/O: the event loop
//! ([`run`]) that feeds the app keys, snapshots, fix progress and a clock, the terminal guard
//! ([`terminal`]) that draws the app with [`crate::ui`], and the runner of confirmed fixes
//! ([`fixes`]).

pub mod clipboard;
pub mod console;
pub mod context_switch;
pub mod fixes;
pub mod reply_views;
pub mod run;
pub mod session;
pub mod terminal;

pub use run::{DashboardEnd, DashboardOptions, run_dashboard, run_dashboard_with};
pub use session::{ReplayOptions, Session, run_replay};

#[cfg(test)]
mod flow_tests;

#[cfg(test)]
mod fix_flow_tests;

#[cfg(test)]
mod console_flow_tests;
