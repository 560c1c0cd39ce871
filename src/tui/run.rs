//! The one event loop: keys and resizes, refresher outcomes (watch), fix progress (bounded
//! mpsc from a supervised executor task), a slow 1 Hz clock for the age label, and shutdown
//! signals. It redraws only when something changed (`dirty`), after draining every pending
//! terminal event.

use std::future::Future;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::eyre;
use futures::{Stream, StreamExt};
use ratatui::crossterm::event::{Event, EventStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::MissedTickBehavior;

use super::console::{ConsoleRunner, terminal_clipboard};
use super::fixes::{FixRunner, on_effect};
use super::session::Session;
use super::terminal::TerminalGuard;
use crate::app::color::{ColorChoice, ColorDepth};
use crate::app::console::NodeReply;
use crate::app::{App, Effect, Presented};
use crate::cluster::types::ClusterSnapshot;
use crate::fix::{AuditLog, Executor};
use crate::refresh::capture::Capture;
use crate::refresh::{ConnectOptions, Connector, RefreshOutcome, Refresher, now_ms};

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
    /// Where every write of a fix is audited (JSON lines); `None`: the default path under
    /// the user's state directory ([`AuditLog::at_default_path`]).
    pub audit_log: Option<PathBuf>,
    /// The context's label and colour name, shown in the header.
    pub context_label: Option<(String, Option<String>)>,
    /// Capture the mouse (clicks and the wheel); `--no-mouse` leaves it to the terminal.
    pub mouse: bool,
    /// The contexts `:ctx NAME` switches to; `None`: none in this session.
    pub contexts: Option<super::context_switch::ContextSwitch>,
}

/// How the dashboard ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DashboardEnd {
    /// The dashboard ended (`q`, Ctrl-C, SIGTERM, SIGHUP) while a fix was running: the fix
    /// was abandoned and did not finish (the exit note says which steps ran).
    pub fix_interrupted: bool,
}

/// True when the app is left while a fix runs or is being abandoned.
#[must_use]
pub fn fix_interrupted(app: &App) -> bool {
    use crate::app::fix::FixStage;
    app.abandoning_fix
        || app
            .fix
            .as_ref()
            .is_some_and(|d| d.stage == FixStage::Running)
}

/// Open the dashboard: set up the terminal, start the refresher, run the loop, restore the
/// terminal (also on Ctrl-C, SIGINT, SIGTERM, SIGHUP and panics).
///
/// # Errors
/// Terminal setup or drawing failed, or the refresher task panicked.
pub async fn run_dashboard(opts: DashboardOptions) -> color_eyre::Result<DashboardEnd> {
    run_dashboard_with(opts, None, None).await
}

/// [`run_dashboard`] with probes leaving their raw replies in `capture` and a [`Session`]
/// that records them (and writes snapshots) on request.
///
/// # Errors
/// Terminal setup or drawing failed, or the refresher task panicked.
pub async fn run_dashboard_with(
    opts: DashboardOptions,
    capture: Option<Arc<Capture>>,
    mut session: Option<Box<dyn Session>>,
) -> color_eyre::Result<DashboardEnd> {
    let depth = color_depth(opts.color);
    let mut app = App::new(depth, opts.interval, opts.read_only, opts.banner.clone());
    configure(&mut app, &opts);
    app.mouse = opts.mouse;
    let mut opts = opts;
    let mut shutdown = Box::pin(shutdown_signal()?);
    let mut guard = TerminalGuard::new(opts.mouse)?;
    let (w, h) = guard.size()?;
    app.on_resize(w, h);
    let res = loop {
        let (handle, runners) = start(&opts, capture.clone());
        let abort = handle.task.abort_handle();
        let res = run_loop_with(
            &mut app,
            handle.updates,
            Some(handle.task),
            EventStream::new(),
            &mut shutdown,
            runners,
            session.as_deref_mut(),
            |a| guard.draw(a),
        )
        .await;
        abort.abort();
        // `:ctx NAME`: start again on the new context, in the same terminal.
        let next = opts
            .contexts
            .as_ref()
            .and_then(super::context_switch::ContextSwitch::take);
        match (res, next) {
            (Ok(()), Some((name, mut new)))
                if app.switch_pending && !app.should_quit && received_signal().is_none() =>
            {
                new.contexts = opts.contexts.take();
                app = switched_app(app, &name, &new);
                opts = new;
            }
            (res, _) => break res,
        }
    };
    drop(guard);
    if let Some(s) = session.as_mut() {
        s.finish(&mut app);
    }
    if let Some(note) = exit_note(&app) {
        // stderr may be gone (SSH hang-up): never panic on printing.
        let _ = writeln!(std::io::stderr(), "{note}");
    }
    let end = DashboardEnd {
        fix_interrupted: fix_interrupted(&app),
    };
    // The process ends now: freeing a large cluster's model and views one allocation at a
    // time would delay the exit after `q` for nothing.
    std::mem::forget(app);
    std::mem::forget(session);
    res.map(|()| end)
}

/// What the app takes from the options: header badges, the `redis-cli` lines' settings and
/// the contexts `:ctx` offers.
fn configure(app: &mut App, opts: &DashboardOptions) {
    app.tls_insecure = opts
        .connect
        .tls
        .as_ref()
        .is_some_and(|t| t.options.insecure);
    app.context_label.clone_from(&opts.context_label);
    app.cli_auth = crate::fix::CliAuth::for_connection(&opts.connect);
    if let Some(c) = &opts.contexts {
        app.contexts = c.contexts.clone();
    }
}

/// The refresher, the fix runner and the `:` line's pool on `opts`' cluster.
fn start(
    opts: &DashboardOptions,
    capture: Option<Arc<Capture>>,
) -> (crate::refresh::RefreshHandle, Runners) {
    let mut connect = opts.connect.clone();
    connect.read_only |= opts.read_only;
    let mut console = ConsoleRunner::new(&connect, terminal_clipboard());
    console.contexts.clone_from(&opts.contexts);
    let mut connector = Connector::new(connect);
    if let Some(c) = capture {
        connector = connector.with_capture(c);
    }
    let handle = Refresher::spawn(Arc::new(connector), opts.interval);
    let fixes = FixRunner::new(
        Arc::new(Executor::new(
            Arc::clone(handle.control.connector()),
            Some(
                opts.audit_log
                    .clone()
                    .map_or_else(AuditLog::at_default_path, AuditLog::new),
            ),
        )),
        Some(handle.control.clone()),
    );
    let runners = Runners {
        fixes: Some(fixes),
        console: Some(console),
    };
    (handle, runners)
}

/// A fresh app for context `name`: nothing of the old cluster stays on screen; the terminal
/// size, colours, mouse, the prompt's history and the contexts carry over.
fn switched_app(old: App, name: &str, opts: &DashboardOptions) -> App {
    let mut app = App::new(old.depth, opts.interval, opts.read_only, None);
    configure(&mut app, opts);
    app.mouse = old.mouse;
    app.console.history = old.console.history;
    app.contexts = old.contexts;
    app.contexts.current = Some(name.to_owned());
    let seeds: Vec<String> = opts.connect.seeds.iter().map(ToString::to_string).collect();
    app.message = Some(format!("context {name}: {}", seeds.join(" ")));
    app.on_resize(old.size.0, old.size.1);
    app
}

/// Resolve the colour choice against the process environment (`NO_COLOR` set and non-empty).
#[must_use]
pub fn color_depth(choice: ColorChoice) -> ColorDepth {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    choice.resolve(no_color)
}

/// What to tell the user on the normal screen when the dashboard ends with a fix abandoned or
/// still running: which steps ran and which did not, so the cluster can be checked.
#[must_use]
pub fn exit_note(app: &App) -> Option<String> {
    use crate::app::fix::FixStage;
    use crate::fix::FixOutcome;
    let d = app.fix.as_ref()?;
    let title = d.plan().map_or("the fix", |p| p.title.as_str());
    let p = &d.progress;
    let step = p.step.map_or_else(
        || "before its first step".to_owned(),
        |(n, of)| format!("at step {n}/{of}"),
    );
    match (&p.outcome, d.stage) {
        (_, FixStage::Running) => Some(format!(
            "slotscope: quit while the fix \"{title}\" was running ({step}); no further step \
             was started. Check the cluster now: slotscope check"
        )),
        (
            Some(FixOutcome::Failed {
                done,
                not_done,
                error,
                ..
            }),
            _,
        ) if app.abandoning_fix => {
            let mut s = format!("slotscope: the fix \"{title}\" was abandoned: {error}.");
            s.push_str("\n  done:");
            for l in done {
                s.push_str(&format!("\n    {l}"));
            }
            s.push_str("\n  not done:");
            for l in not_done {
                s.push_str(&format!("\n    {l}"));
            }
            Some(s)
        }
        (Some(o), _) if app.abandoning_fix => Some(format!(
            "slotscope: the fix \"{title}\" ended: {}",
            crate::app::fix::outcome_words(o)
        )),
        _ => None,
    }
}

/// The number of the signal that ended the dashboard (0: none).
static RECEIVED_SIGNAL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The signal that [`shutdown_signal`] resolved on, if any: the process then exits with
/// 128 + its number, as a shell reports a process killed by it (143 SIGTERM, 129 SIGHUP).
#[must_use]
pub fn received_signal() -> Option<i32> {
    match RECEIVED_SIGNAL.load(std::sync::atomic::Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// Resolves on SIGTERM, SIGHUP (the SSH connection dropped), SIGINT or SIGQUIT, and records
/// which one for [`received_signal`].
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn shutdown_signal() -> color_eyre::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    Ok(async move {
        let n = tokio::select! {
            _ = term.recv() => nix::sys::signal::Signal::SIGTERM,
            _ = hup.recv() => nix::sys::signal::Signal::SIGHUP,
            _ = int.recv() => nix::sys::signal::Signal::SIGINT,
            _ = quit.recv() => nix::sys::signal::Signal::SIGQUIT,
        };
        RECEIVED_SIGNAL.store(n as i32, std::sync::atomic::Ordering::Relaxed);
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
        Event::Mouse(m) => (app.on_mouse(m), None),
        _ => (false, None),
    }
}

/// Apply one refresher outcome. Until a cluster has been shown once, a cycle in which no node
/// answered leaves the waiting screen up (the refresher retries every interval) instead of
/// presenting an empty cluster.
pub fn on_outcome(app: &mut App, outcome: &RefreshOutcome) {
    if let Some(snapshot) = outcome_to_present(app, outcome) {
        app.on_snapshot(snapshot);
    }
}

/// The part of [`on_outcome`] that is cheap: record the cycle's error; return the snapshot to
/// present, if any. Building its model and diagnosis is left to the caller (the loop does it
/// off the event loop's thread).
pub fn outcome_to_present(app: &mut App, outcome: &RefreshOutcome) -> Option<Arc<ClusterSnapshot>> {
    app.observe_error = outcome.error.as_ref().map(ToString::to_string);
    if outcome.error.is_some() {
        app.observe_failures = app.observe_failures.saturating_add(1);
    } else {
        app.observe_failures = 0;
    }
    if app.shown.is_none() && !outcome.snapshot.observed_anything() {
        if app.observe_error.is_none() {
            app.observe_error = Some(format!(
                "no node answered: {}",
                outcome.snapshot.failure_summary()
            ));
        }
        return None;
    }
    Some(Arc::clone(&outcome.snapshot))
}

/// Model and diagnosis of a snapshot are built off the event loop's thread, so that a huge
/// cluster (or a hostile node's huge table) never holds up keys and signals: on the worker
/// thread, as a task, where the refresher has just freed that refresh's replies. A blocking
/// thread of its own kept a third malloc arena with its own high-water mark (about 4.5 MiB at
/// 1000 nodes); on the worker, the build reuses the memory the refresh's replies left. At
/// most one build runs; the newest outcome that arrives meanwhile waits, older ones are
/// dropped.
#[derive(Default)]
struct Builder {
    running: Option<(JoinHandle<Presented>, Arc<RefreshOutcome>)>,
    waiting: Option<(Arc<ClusterSnapshot>, Arc<RefreshOutcome>)>,
}

impl Builder {
    fn offer(&mut self, snapshot: Arc<ClusterSnapshot>, outcome: Arc<RefreshOutcome>) {
        if self.running.is_some() {
            self.waiting = Some((snapshot, outcome));
        } else {
            let h = tokio::spawn(async move { Presented::from_snapshot(snapshot) });
            self.running = Some((h, outcome));
        }
    }

    /// The finished build and its outcome; starts the waiting one.
    async fn next(
        &mut self,
    ) -> (
        Result<Presented, tokio::task::JoinError>,
        Arc<RefreshOutcome>,
    ) {
        let Some((h, outcome)) = self.running.as_mut() else {
            return std::future::pending().await;
        };
        let r = h.await;
        let outcome = Arc::clone(outcome);
        self.running = None;
        if let Some((s, o)) = self.waiting.take() {
            self.offer(s, o);
        }
        (r, outcome)
    }

    /// Apply one outcome: its error at once, its model once built (the session, if any, sees
    /// the outcome once it is applied).
    fn apply(
        &mut self,
        app: &mut App,
        session: &mut Option<&mut (dyn Session + 'static)>,
        o: Arc<RefreshOutcome>,
    ) {
        match outcome_to_present(app, &o) {
            Some(snapshot) => self.offer(snapshot, o),
            None => {
                if let Some(s) = session.as_deref_mut() {
                    s.on_outcome(app, &o);
                }
            }
        }
    }
}

/// What runs work for the loop: confirmed fixes, node commands and copies.
#[derive(Debug, Default)]
pub struct Runners {
    /// Runs confirmed fixes (without it, a confirmed fix is refused).
    pub fixes: Option<FixRunner>,
    /// Runs node commands and copies (without it, node commands answer with an error).
    pub console: Option<ConsoleRunner>,
}

/// Carry out an effect that is not `Quit`: node commands and copies here, fixes by
/// [`on_effect`]. Returns whether the screen changed.
fn carry_out(
    app: &mut App,
    fixes: Option<&mut FixRunner>,
    console: Option<&mut ConsoleRunner>,
    tasks: &mut JoinSet<()>,
    eff: Effect,
) -> bool {
    match (eff, console) {
        (Effect::SwitchContext(name), Some(c)) if c.contexts.is_some() => {
            c.start_switch(tasks, name)
        }
        (Effect::NodeCommand(req), Some(c)) => {
            c.spawn(tasks, req);
            true
        }
        (Effect::NodeCommand(req), None) => app.on_node_reply(NodeReply {
            id: req.id,
            result: Err("no connection in this session".to_owned()),
        }),
        (Effect::Copy(text), Some(c)) => {
            if let Err(e) = c.copy(&text) {
                app.message = Some(format!("could not copy: {e}"));
            }
            true
        }
        (Effect::Copy(_), None) => {
            app.message = Some("no terminal to copy to".to_owned());
            true
        }
        (e, _) => on_effect(app, fixes, tasks, e),
    }
}

/// The loop. Generic over the event stream and the draw function so tests can drive it with
/// scripted events and a `TestBackend`. Without a [`FixRunner`], a confirmed fix is refused;
/// without a [`ConsoleRunner`], node commands answer with an error and nothing is copied.
///
/// # Errors
/// Drawing failed, the event stream failed, or the refresher or a fix task panicked.
pub async fn run_loop<E, F, D>(
    app: &mut App,
    updates: watch::Receiver<Option<Arc<RefreshOutcome>>>,
    task: Option<JoinHandle<()>>,
    events: E,
    shutdown: F,
    runners: Runners,
    draw: D,
) -> color_eyre::Result<()>
where
    E: Stream<Item = std::io::Result<Event>> + Unpin,
    F: Future<Output = ()>,
    D: FnMut(&App) -> color_eyre::Result<()>,
{
    run_loop_with(app, updates, task, events, shutdown, runners, None, draw).await
}

/// Apply an effect: a session's to the session, the others to the runners.
fn apply_effect(
    app: &mut App,
    session: &mut Option<&mut (dyn Session + 'static)>,
    fixes: Option<&mut FixRunner>,
    console: Option<&mut ConsoleRunner>,
    tasks: &mut JoinSet<()>,
    e: Effect,
) -> bool {
    match (e, session.as_deref_mut()) {
        (Effect::Session(s), Some(session)) => session.on_effect(app, s),
        (e, _) => carry_out(app, fixes, console, tasks, e),
    }
}

/// A model built off the loop: present it, then show its outcome to the session.
fn on_built(
    app: &mut App,
    session: &mut Option<&mut (dyn Session + 'static)>,
    built: Result<Presented, tokio::task::JoinError>,
    o: &RefreshOutcome,
) -> color_eyre::Result<()> {
    match built {
        Ok(p) => {
            app.on_presented(p);
            if let Some(s) = session.as_deref_mut() {
                s.on_outcome(app, o);
            }
            // The previous model and snapshot are freed on the worker thread, not here.
            let retired = app.take_retired();
            if !retired.is_empty() {
                drop(tokio::spawn(async move { drop(retired) }));
            }
            Ok(())
        }
        Err(e) if e.is_panic() => Err(eyre!("building the model panicked; the dashboard stopped")),
        Err(_) => Ok(()),
    }
}

/// [`run_loop`] with a [`Session`] that sees every outcome and handles the
/// [`crate::app::SessionEffect`]s.
///
/// # Errors
/// Drawing failed, the event stream failed, or the refresher or a fix task panicked.
#[allow(clippy::too_many_arguments)]
pub async fn run_loop_with<E, F, D>(
    app: &mut App,
    mut updates: watch::Receiver<Option<Arc<RefreshOutcome>>>,
    mut task: Option<JoinHandle<()>>,
    mut events: E,
    shutdown: F,
    runners: Runners,
    mut session: Option<&mut (dyn Session + 'static)>,
    mut draw: D,
) -> color_eyre::Result<()>
where
    E: Stream<Item = std::io::Result<Event>> + Unpin,
    F: Future<Output = ()>,
    D: FnMut(&App) -> color_eyre::Result<()>,
{
    let Runners {
        mut fixes,
        mut console,
    } = runners;
    let mut clock = tokio::time::interval(CLOCK_PERIOD);
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut updates_open = true;
    let mut events_open = true;
    let mut dirty = true;
    let mut fix_rx = fixes.as_mut().and_then(|f| f.rx.take());
    let mut fix_tasks: JoinSet<()> = JoinSet::new();
    let mut reply_rx = console.as_mut().and_then(|c| c.rx.take());
    let mut switch_rx = console.as_mut().and_then(|c| c.switch_rx.take());
    // Node command tasks: never awaited by the loop (a hung node must not hold it up); each
    // reply comes back on `reply_rx`, bounded by the timeouts.
    let mut cmd_tasks: JoinSet<()> = JoinSet::new();
    tokio::pin!(shutdown);
    // An outcome may already be waiting.
    let mut builder = Builder::default();
    let first = updates.borrow_and_update().clone();
    if let Some(o) = first {
        builder.apply(app, &mut session, o);
    }
    loop {
        if app.should_quit || app.switch_pending {
            return Ok(());
        }
        // Abandoned fix: leave once its task has stopped (after the step under way).
        if app.abandoning_fix && fix_tasks.is_empty() {
            return Ok(());
        }
        if dirty {
            draw(app)?;
            dirty = false;
        }
        tokio::select! {
            () = &mut shutdown => {
                // SIGTERM / SIGHUP end the app at once; a running fix starts no further step.
                if let Some(f) = fixes.as_ref() {
                    f.stop_running();
                }
                return Ok(());
            }
            ev = events.next(), if events_open => {
                match ev {
                    Some(Ok(ev)) => {
                        let (d, eff) = on_event(app, &ev);
                        dirty |= d;
                        match eff {
                            Some(Effect::Quit) => return Ok(()),
                            Some(e @ (Effect::NodeCommand(_) | Effect::SwitchContext(_))) => dirty |= apply_effect(app, &mut session, fixes.as_mut(), console.as_mut(), &mut cmd_tasks, e),
                            Some(e) => dirty |= apply_effect(app, &mut session, fixes.as_mut(), console.as_mut(), &mut fix_tasks, e),
                            None => {}
                        }
                        // Drain whatever else is already queued before drawing. The stream is
                        // polled with this task's waker (not `now_or_never`'s no-op one):
                        // crossterm's event stream keeps the waker of the poll that found
                        // nothing, so a no-op waker there would leave the next key unnoticed
                        // until another branch (the clock, a refresh) woke the loop.
                        while let Some(Some(Ok(ev))) = tokio::select! {
                            biased;
                            ev = events.next() => Some(ev),
                            () = std::future::ready(()) => None,
                        } {
                            let (d, eff) = on_event(app, &ev);
                            dirty |= d;
                            match eff {
                                Some(Effect::Quit) => return Ok(()),
                                Some(e @ (Effect::NodeCommand(_) | Effect::SwitchContext(_))) => dirty |= apply_effect(app, &mut session, fixes.as_mut(), console.as_mut(), &mut cmd_tasks, e),
                            Some(e) => dirty |= apply_effect(app, &mut session, fixes.as_mut(), console.as_mut(), &mut fix_tasks, e),
                                None => {}
                            }
                        }
                    }
                    Some(Err(e)) => return Err(eyre!(e).wrap_err("reading terminal events")),
                    None => events_open = false,
                }
            }
            r = updates.changed(), if updates_open => {
                if r.is_ok() {
                    let o = updates.borrow_and_update().clone();
                    if let Some(o) = o {
                        builder.apply(app, &mut session, o);
                    }
                } else {
                    updates_open = false;
                    app.on_refresher_stopped();
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
            Some(ev) = async { match fix_rx.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                let mut pending = vec![ev];
                if let Some(rx) = fix_rx.as_mut() {
                    while let Ok(ev) = rx.try_recv() {
                        pending.push(ev);
                    }
                }
                for ev in pending {
                    if let Some(e) = app.on_fix_event(ev) {
                        let _ = apply_effect(app, &mut session, fixes.as_mut(), console.as_mut(), &mut fix_tasks, e);
                    }
                }
                dirty = true;
            }
            Some(res) = fix_tasks.join_next(), if !fix_tasks.is_empty() => {
                if let Err(e) = res && e.is_panic() {
                    return Err(eyre!("a fix task panicked; the dashboard stopped"));
                }
            }
            (built, o) = builder.next(), if builder.running.is_some() => {
                on_built(app, &mut session, built, &o)?;
                dirty = true;
            }
            Some(reply) = async { match reply_rx.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                dirty |= app.on_node_reply(reply);
            }
            Some((name, resolved)) = async { match switch_rx.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                dirty |= console.as_ref().and_then(|c| c.contexts.as_ref()).is_some_and(|c| c.finish(app, &name, resolved));
            }
            Some(_) = cmd_tasks.join_next(), if !cmd_tasks.is_empty() => {}
            _ = clock.tick() => {
                dirty |= app.on_tick(now_ms());
            }
        }
    }
}
