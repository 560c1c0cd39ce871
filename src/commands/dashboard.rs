//! The live dashboard on a real cluster (no subcommand).

use color_eyre::eyre::{Result, WrapErr as _};

use super::{DashboardSettings, ExitCode};
use crate::refresh::{ConnectOptions, Connector, observe_once};
use crate::tui::{DashboardOptions, run_dashboard};

/// Open the dashboard. Observes once first so that an unreachable seed or a wrong password is a
/// clear message and exit code 3, not an empty screen.
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
    match observe_once(&Connector::new(opts.clone()), None).await {
        Err(e) => {
            eprintln!("slotscope: {e}");
            return Ok(ExitCode::UNOBSERVABLE);
        }
        Ok(snapshot) if !snapshot.observed_anything() => {
            eprintln!(
                "slotscope: could not observe the cluster: {}",
                snapshot.failure_summary()
            );
            return Ok(ExitCode::UNOBSERVABLE);
        }
        Ok(_) => {}
    }
    run_dashboard(DashboardOptions {
        read_only: opts.read_only,
        connect: opts,
        interval,
        color: settings.color,
        banner: None,
        audit_log: settings.audit_log.clone(),
    })
    .await
    .wrap_err("dashboard")?;
    Ok(ExitCode::OK)
}
