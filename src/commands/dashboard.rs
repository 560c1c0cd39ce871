//! The live dashboard on a real cluster (no subcommand).

use std::io::IsTerminal as _;

use color_eyre::eyre::{Result, WrapErr as _};

use super::session::LiveSession;
use super::{DashboardSettings, ExitCode};
use crate::app::contexts::Contexts;
use crate::refresh::capture::Capture;
use crate::refresh::{ConnectOptions, Connector, observe_once};
use crate::tui::context_switch::ContextSwitch;
use crate::tui::{DashboardOptions, run_dashboard_with};
use std::sync::Arc;

/// Open the dashboard. Observes once first: a wrong password or seeds of several clusters are
/// a clear message and exit code 3, not an empty screen. A seed that does not answer (down,
/// or not up yet) opens the dashboard on its waiting screen, which retries every interval;
/// without a terminal to show it on, it is exit code 3 as well.
///
/// Exit code: 0, or [`ExitCode::INTERRUPTED`] when the dashboard was left (`q`, a signal)
/// while a fix was running, so a script sees that the fix did not finish.
///
/// # Errors
/// Terminal or runtime failures of the dashboard.
pub async fn run(opts: ConnectOptions, settings: &DashboardSettings) -> Result<ExitCode> {
    let interval = match settings.interval() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("slotscope: {e}");
            return Ok(ExitCode::UNOBSERVABLE);
        }
    };
    if !super::has_terminal() {
        eprintln!("{}", super::NEEDS_TERMINAL);
        return Ok(ExitCode::UNOBSERVABLE);
    }
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    match observe_once(&Connector::new(opts.clone()), None).await {
        Err(e) if e.is_auth() || e.clusters.len() > 1 || !interactive => {
            eprintln!("slotscope: {e}");
            return Ok(ExitCode::UNOBSERVABLE);
        }
        Ok(snapshot) if !snapshot.observed_anything() && !interactive => {
            eprintln!(
                "slotscope: could not observe the cluster: {}",
                snapshot.failure_summary()
            );
            return Ok(ExitCode::UNOBSERVABLE);
        }
        // Nothing answered: the dashboard's waiting screen retries every interval.
        Err(_) | Ok(_) => {}
    }
    let capture = Capture::shared();
    let end = run_dashboard_with(
        DashboardOptions {
            read_only: opts.read_only,
            connect: opts,
            interval,
            color: settings.color,
            banner: None,
            audit_log: settings.audit_log.clone(),
            mouse: settings.mouse,
            context_label: settings.context_label.clone(),
            contexts: Some(context_switch(settings)),
        },
        Some(Arc::clone(&capture)),
        Some(Box::new(LiveSession::new(
            capture,
            settings.record.clone(),
            "dashboard",
        ))),
    )
    .await
    .wrap_err("dashboard")?;
    if let Some(code) = super::signal_exit_code() {
        return Ok(code);
    }
    Ok(if end.fix_interrupted {
        ExitCode::INTERRUPTED
    } else {
        ExitCode::OK
    })
}

/// `:ctx NAME`: the config file's contexts, resolved (the file read again) when chosen.
fn context_switch(settings: &DashboardSettings) -> ContextSwitch {
    let (names, missing) = match super::contexts::names() {
        Ok(n) if n.is_empty() => (n, Some("the config file lists none".to_owned())),
        Ok(n) => (n, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let base = settings.switch_base.clone();
    let contexts = Contexts {
        names,
        current: base.as_ref().and_then(|b| b.current.clone()),
        missing,
    };
    let color = settings.color;
    let audit_log = settings.audit_log.clone();
    let mouse = settings.mouse;
    let resolve = move |name: &str| {
        let base = base
            .as_ref()
            .ok_or_else(|| "no command line to start from".to_owned())?;
        let s = super::contexts::resolve_switch(name, base)?;
        Ok(DashboardOptions {
            read_only: s.connect.read_only,
            connect: s.connect,
            interval: s.interval,
            color,
            banner: None,
            audit_log: audit_log.clone(),
            mouse,
            context_label: s.label,
            contexts: None,
        })
    };
    ContextSwitch::new(contexts, Arc::new(resolve))
}
