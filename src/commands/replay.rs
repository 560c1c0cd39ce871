//! `slotscope replay FILE` (the dashboard on a recording) and `slotscope check --replay FILE`
//! (the diagnosis of one recorded refresh). No network access: the recorded replies go through
//! the probe's own interpretation, the model and the diagnosis of this slotscope.

use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr as _};

use super::check::Format;
use super::session::ReplaySession;
use super::{DashboardSettings, ExitCode};
use crate::app::replay::Frame;
use crate::record::{At, Recording};
use crate::tui::{ReplayOptions, Session, run_replay};

fn load(file: &Path) -> Result<Recording, ExitCode> {
    crate::record::open(file).map_err(|e| {
        eprintln!("slotscope: {e}");
        ExitCode::UNOBSERVABLE
    })
}

fn index(recording: &Recording, at: Option<&str>) -> Result<usize, ExitCode> {
    let at = match at {
        None => At::Last,
        Some(s) => s.parse::<At>().map_err(|e| {
            eprintln!("slotscope: --at: {e}");
            ExitCode::UNOBSERVABLE
        })?,
    };
    recording.index_of(&at).map_err(|e| {
        eprintln!("slotscope: --at: {e}");
        ExitCode::UNOBSERVABLE
    })
}

/// `check --replay FILE [--at WHEN] [--format F]`: what `check` printed for that refresh, with
/// the same exit codes (3 also for a recording that cannot be read).
#[must_use]
pub fn check(file: Option<&Path>, at: Option<&str>, format: Format) -> ExitCode {
    let Some(file) = file else {
        return ExitCode::UNOBSERVABLE;
    };
    let recording = match load(file) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let i = match index(&recording, at) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let Some(o) = recording.check_outcome(i) else {
        return ExitCode::UNOBSERVABLE;
    };
    let took_ms = o
        .snapshot
        .finished_at_ms
        .saturating_sub(o.snapshot.started_at_ms);
    let result = match o.error {
        Some(e) => Err(e),
        None => Ok((*o.snapshot).clone()),
    };
    super::check::print_outcome(result, format, took_ms)
}

/// `slotscope replay FILE [--at WHEN]`: the dashboard on the recording.
///
/// # Errors
/// Terminal or runtime failures of the dashboard.
pub async fn run(file: &Path, at: Option<&str>, settings: &DashboardSettings) -> Result<ExitCode> {
    let recording = match load(file) {
        Ok(r) => r,
        Err(c) => return Ok(c),
    };
    if recording.refreshes.is_empty() {
        eprintln!("slotscope: {} holds no refresh", file.display());
        return Ok(ExitCode::UNOBSERVABLE);
    }
    let start = match at {
        None => 0,
        Some(_) => match index(&recording, at) {
            Ok(i) => i,
            Err(c) => return Ok(c),
        },
    };
    if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        eprintln!(
            "slotscope: replay needs a terminal; for a report use: slotscope check --replay FILE"
        );
        return Ok(ExitCode::UNOBSERVABLE);
    }
    let frames: Vec<Frame> = recording
        .outcomes()
        .into_iter()
        .map(|o| Frame::new(o.snapshot, o.error.map(|e| e.to_string())))
        .collect();
    let interval = recorded_interval(&recording);
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let session: Box<dyn Session> = Box::new(ReplaySession::new(Arc::new(recording)));
    run_replay(
        ReplayOptions {
            name,
            frames,
            start,
            color: settings.color,
            interval,
            mouse: settings.mouse,
        },
        Some(session),
    )
    .await
    .wrap_err("replay")?;
    Ok(ExitCode::OK)
}

/// The median time between refreshes (1 s for a single refresh).
fn recorded_interval(r: &Recording) -> Duration {
    let mut gaps: Vec<u64> = r
        .refreshes
        .windows(2)
        .map(|w| w[1].started_at_ms.saturating_sub(w[0].started_at_ms))
        .collect();
    gaps.sort_unstable();
    Duration::from_millis(gaps.get(gaps.len() / 2).copied().unwrap_or(1000).max(100))
}
