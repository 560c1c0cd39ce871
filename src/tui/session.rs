//! What a dashboard session adds to the loop beyond the cluster and the fixes: recording the
//! refreshes, the postmortem snapshot, and the replay of a recording. The loop calls a
//! [`Session`] for every refresh outcome and every [`SessionEffect`]; the files are written by
//! its implementation (the commands provide them).

use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::EventStream;
use tokio::sync::watch;

use super::run::{DashboardEnd, color_depth, run_loop_with, shutdown_signal};
use super::terminal::TerminalGuard;
use crate::app::color::ColorChoice;
use crate::app::replay::Frame;
use crate::app::{App, SessionEffect};
use crate::refresh::RefreshOutcome;

/// Recording and snapshots of a dashboard session.
pub trait Session: Send {
    /// A refresh outcome was applied to the app.
    fn on_outcome(&mut self, app: &mut App, outcome: &RefreshOutcome);
    /// The user asked for a file. Returns whether the screen changed.
    fn on_effect(&mut self, app: &mut App, effect: SessionEffect) -> bool;
    /// The dashboard is closing: finish what is being written.
    fn finish(&mut self, app: &mut App);
}

/// What a replay needs.
#[derive(Debug)]
pub struct ReplayOptions {
    /// The recording's name, for the header.
    pub name: String,
    /// Every refresh.
    pub frames: Vec<Frame>,
    /// The refresh to open at (0-based).
    pub start: usize,
    /// `--color`.
    pub color: ColorChoice,
    /// The recorded refresh interval (for the age label).
    pub interval: Duration,
    /// Capture the mouse (off with `--no-mouse`).
    pub mouse: bool,
}

/// Open the dashboard on a recording: no refresher, no executor (repairs are disabled), the
/// frames stepped through by the keys.
///
/// # Errors
/// Terminal setup or drawing failed.
pub async fn run_replay(
    opts: ReplayOptions,
    mut session: Option<Box<dyn Session>>,
) -> color_eyre::Result<DashboardEnd> {
    let mut app = App::new(color_depth(opts.color), opts.interval, false, None);
    app.start_replay(&opts.name, opts.frames, opts.start);
    // The sender stays alive and silent: a replay gets no refresh.
    let (_tx, rx) = watch::channel::<Option<Arc<RefreshOutcome>>>(None);
    let shutdown = shutdown_signal()?;
    app.mouse = opts.mouse;
    let mut guard = TerminalGuard::new(opts.mouse)?;
    let (w, h) = guard.size()?;
    app.on_resize(w, h);
    let res = run_loop_with(
        &mut app,
        rx,
        None,
        EventStream::new(),
        shutdown,
        super::run::Runners::default(),
        session.as_deref_mut(),
        |a| guard.draw(a),
    )
    .await;
    drop(guard);
    if let Some(s) = session.as_mut() {
        s.finish(&mut app);
    }
    res.map(|()| DashboardEnd::default())
}
