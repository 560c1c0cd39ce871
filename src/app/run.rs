//! The one event loop: keys and resizes, refresher outcomes (watch), a slow 1 Hz clock for the
//! age label, and shutdown signals. It redraws only when something changed (`dirty`), after
//! draining every pending terminal event.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::eyre;
use futures::{FutureExt, Stream, StreamExt};
use ratatui::crossterm::event::{Event, EventStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::terminal::TerminalGuard;
use super::{App, Effect};
use crate::refresh::{ConnectOptions, RefreshOutcome, Refresher, now_ms};
use crate::ui::theme::ColorChoice;

/// How often the age label is refreshed.
pub const CLOCK_PERIOD: Duration = Duration::from_secs(1);

/// Everything the dashboard needs from the command line.
#[derive(Clone, Debug)]
pub struct DashboardOptions {
    /// Seeds, credentials and timeouts.
    pub connect: ConnectOptions,
    /// Time between refresh cycles.
    pub interval: Duration,
    /// `--color`.
    pub color: ColorChoice,
    /// Hide fixes and refuse writes centrally.
    pub read_only: bool,
    /// Banner shown in the header (the demo names its cluster here).
    pub banner: Option<String>,
}

/// Open the dashboard: set up the terminal, start the refresher, run the loop, restore the
/// terminal (also on Ctrl-C, SIGINT, SIGTERM, SIGHUP and panics).
///
/// # Errors
/// Terminal setup or drawing failed, or the refresher task panicked.
pub async fn run_dashboard(opts: DashboardOptions) -> color_eyre::Result<()> {
    let depth = opts.color.resolve_env();
    let mut app = App::new(depth, opts.interval, opts.read_only, opts.banner.clone());
    let mut connect = opts.connect.clone();
    connect.read_only |= opts.read_only;
    let handle = Refresher::spawn_with(connect, opts.interval);
    let abort = handle.task.abort_handle();
    let shutdown = shutdown_signal()?;
    let mut guard = TerminalGuard::new()?;
    let (w, h) = guard.size()?;
    app.on_resize(w, h);
    let res = run_loop(
        &mut app,
        handle.updates,
        Some(handle.task),
        EventStream::new(),
        shutdown,
        |a| guard.draw(a),
    )
    .await;
    abort.abort();
    drop(guard);
    res
}

/// Resolves on SIGTERM, SIGHUP (the SSH connection dropped) or SIGINT.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn shutdown_signal() -> color_eyre::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Apply one terminal event. Returns whether the screen must be redrawn and the effect.
pub fn on_event(app: &mut App, ev: &Event) -> (bool, Option<Effect>) {
    match ev {
        Event::Key(_) => match ev.as_key_press_event() {
            Some(k) => (true, app.on_key(k)),
            None => (false, None),
        },
        Event::Resize(w, h) => {
            app.on_resize(*w, *h);
            (true, None)
        }
        _ => (false, None),
    }
}

/// Apply one refresher outcome.
pub fn on_outcome(app: &mut App, outcome: &RefreshOutcome) {
    app.observe_error = outcome.error.as_ref().map(ToString::to_string);
    app.on_snapshot(Arc::clone(&outcome.snapshot));
}

/// The loop. Generic over the event stream and the draw function so tests can drive it with
/// scripted events and a `TestBackend`.
///
/// # Errors
/// Drawing failed, the event stream failed, or the refresher task panicked.
pub async fn run_loop<E, F, D>(
    app: &mut App,
    mut updates: watch::Receiver<Option<Arc<RefreshOutcome>>>,
    mut task: Option<JoinHandle<()>>,
    mut events: E,
    shutdown: F,
    mut draw: D,
) -> color_eyre::Result<()>
where
    E: Stream<Item = std::io::Result<Event>> + Unpin,
    F: Future<Output = ()>,
    D: FnMut(&App) -> color_eyre::Result<()>,
{
    let mut clock = tokio::time::interval(CLOCK_PERIOD);
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut updates_open = true;
    let mut events_open = true;
    let mut dirty = true;
    tokio::pin!(shutdown);
    // An outcome may already be waiting.
    let first = updates.borrow_and_update().clone();
    if let Some(o) = first {
        on_outcome(app, &o);
    }
    loop {
        if app.should_quit {
            return Ok(());
        }
        if dirty {
            draw(app)?;
            dirty = false;
        }
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            ev = events.next(), if events_open => {
                match ev {
                    Some(Ok(ev)) => {
                        let (d, eff) = on_event(app, &ev);
                        dirty |= d;
                        if eff == Some(Effect::Quit) {
                            return Ok(());
                        }
                        // Drain whatever else is already queued before drawing.
                        while let Some(Some(Ok(ev))) = events.next().now_or_never() {
                            let (d, eff) = on_event(app, &ev);
                            dirty |= d;
                            if eff == Some(Effect::Quit) {
                                return Ok(());
                            }
                        }
                    }
                    Some(Err(e)) => return Err(eyre!(e).wrap_err("reading terminal events")),
                    None => events_open = false,
                }
            }
            r = updates.changed(), if updates_open => {
                match r {
                    Ok(()) => {
                        let o = updates.borrow_and_update().clone();
                        if let Some(o) = o {
                            on_outcome(app, &o);
                        }
                    }
                    Err(_) => {
                        updates_open = false;
                        app.on_refresher_stopped();
                    }
                }
                dirty = true;
            }
            res = async { match task.as_mut() { Some(t) => t.await, None => std::future::pending().await } }, if task.is_some() => {
                task = None;
                if let Err(e) = res && e.is_panic() {
                    return Err(eyre!("the refresher task panicked; the dashboard stopped"));
                }
                app.on_refresher_stopped();
                dirty = true;
            }
            _ = clock.tick() => {
                dirty |= app.on_tick(now_ms());
            }
        }
    }
}
