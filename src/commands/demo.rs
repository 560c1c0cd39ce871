//! `slotscope demo`: start a throwaway local cluster, break it the way production breaks, and
//! open the dashboard on it. Every process it started is stopped by PID and its directory
//! removed on exit (normal quit, Ctrl-C, SIGTERM, SIGHUP, panic), unless `--keep`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr as _};

use super::session::LiveSession;
use super::{DashboardSettings, ExitCode};
use crate::lab::{KeptLab, KeyError, Lab, LabError, LabOptions, Scenario, ScenarioReport};
use crate::refresh::capture::Capture;
use crate::refresh::{ConnectOptions, Secret};
use crate::tui::{DashboardOptions, run_dashboard_with};
use std::sync::Arc;

/// What `slotscope demo` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    /// The fault to inject (a scenario name).
    pub scenario: String,
    /// Only list the scenarios.
    pub list: bool,
    /// Masters that own slots (at least 3).
    pub masters: usize,
    /// Replicas per master.
    pub replicas: usize,
    /// Sample keys written before the fault.
    pub keys: usize,
    /// Leave the cluster running on exit.
    pub keep: bool,
    /// Only start and break the cluster, and wait for Ctrl-C.
    pub no_dashboard: bool,
}

/// The `--list` output: one scenario per line, name first.
#[must_use]
pub fn list_text() -> String {
    let mut out = String::new();
    for s in Scenario::all() {
        let _ = writeln!(out, "{:<24} {}", s.name(), s.description());
    }
    out
}

/// Validate the arguments and resolve the scenario.
///
/// # Errors
/// Unknown scenario name, or fewer than 3 masters.
pub fn scenario_of(args: &DemoOptions) -> Result<Scenario, String> {
    if args.masters < 3 {
        return Err(format!(
            "--masters {} is too few: a cluster needs at least 3 masters",
            args.masters
        ));
    }
    Scenario::from_name(&args.scenario).ok_or_else(|| {
        format!(
            "unknown scenario '{}'; the scenarios are:\n{}",
            args.scenario,
            list_text()
        )
    })
}

/// Lab options for the demo arguments.
#[must_use]
pub fn lab_options(args: &DemoOptions) -> LabOptions {
    LabOptions {
        masters: args.masters,
        replicas_per_master: args.replicas,
        keys: args.keys,
        node_timeout_ms: 2000,
        ..LabOptions::default()
    }
}

/// Start the lab and inject the scenario (blocking).
///
/// # Errors
/// `redis-server` missing, a node that does not start, or a fault that does not settle.
pub fn start(args: &DemoOptions, scenario: Scenario) -> Result<(Lab, ScenarioReport), LabError> {
    scenario.start(lab_options(args))
}

/// The banner the dashboard shows for a demo.
#[must_use]
pub fn banner(report: &ScenarioReport) -> String {
    format!(
        "DEMO {}: throwaway local cluster, q stops it",
        report.scenario.name()
    )
}

/// Text printed before the dashboard opens (and with --no-dashboard).
#[must_use]
pub fn describe(lab: &Lab, report: &ScenarioReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "demo cluster: {} nodes in {}",
        lab.nodes().len(),
        lab.dir().display()
    );
    let eps: Vec<String> = lab.endpoints().iter().map(ToString::to_string).collect();
    let _ = writeln!(out, "nodes: {}", eps.join(" "));
    let pids: Vec<String> = lab.nodes().iter().map(|n| n.pid.to_string()).collect();
    let _ = writeln!(out, "pids: {}", pids.join(" "));
    let _ = writeln!(
        out,
        "scenario {}: {}",
        report.scenario.name(),
        report.scenario.description()
    );
    for a in &report.actions {
        let _ = writeln!(out, "  - {a}");
    }
    out
}

/// Text printed after the dashboard closes: did the keys survive?
///
/// Keys that cannot be read are split by cause, because "0 readable" on a cluster that is
/// still down means "refused", not "lost": the count of written keys still stored on a running
/// node says how many a repair can bring back.
#[must_use]
pub fn survival_text(lab: &Lab) -> String {
    let rb = lab.read_back();
    let mut out = format!(
        "keys written before the fault: {}, readable now with the right value: {}",
        rb.written, rb.readable
    );
    if rb.all_readable() {
        return out;
    }
    let (mut refused, mut unbound, mut absent, mut wrong, mut other) = (0, 0, 0, 0, 0usize);
    for (_, why) in &rb.missing {
        match why {
            KeyError::ClusterDown(_) => refused += 1,
            KeyError::NoOwner(_) => unbound += 1,
            KeyError::Absent => absent += 1,
            KeyError::WrongValue(_) => wrong += 1,
            KeyError::Failed(_) => other += 1,
        }
    }
    let parts: Vec<String> = [
        (refused, "refused with CLUSTERDOWN"),
        (unbound, "in slots bound to no master"),
        (absent, "absent"),
        (wrong, "with another value"),
        (other, "owner unreachable or other error"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let _ = write!(out, "\n  not readable: {}", parts.join(", "));
    let examples: Vec<&str> = rb.missing.iter().take(3).map(|(k, _)| k.as_str()).collect();
    let _ = write!(out, " (e.g. {})", examples.join(", "));
    let stored = lab.stored_written_keys();
    let _ = write!(
        out,
        "\n  still stored on a running node: {stored} of {} (CLUSTER COUNTKEYSINSLOT)",
        rb.written
    );
    let gone = rb.written.saturating_sub(stored);
    if gone > 0 {
        let _ = write!(
            out,
            "; {gone} on no running node (they were on a stopped or killed node, or deleted)"
        );
    }
    out
}

/// What `--keep` prints: how to reach and stop the cluster.
#[must_use]
pub fn kept_text(kept: &KeptLab) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "cluster kept running in {}", kept.dir.display());
    if let Some((port, _)) = kept.nodes.first() {
        let _ = writeln!(out, "reach it:  slotscope 127.0.0.1:{port}");
    }
    let pids: Vec<String> = kept.nodes.iter().map(|(_, pid)| pid.to_string()).collect();
    let _ = writeln!(
        out,
        "stop it:   kill -CONT {p}; kill {p}; rm -rf {}",
        kept.dir.display(),
        p = pids.join(" ")
    );
    out
}

/// How long the demo waits for the lab to settle before giving up.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// `slotscope demo`: start and break the cluster, open the dashboard on it, then report
/// whether the keys survived and stop every node (unless `--keep`).
///
/// # Errors
/// Terminal or runtime failures of the dashboard.
pub async fn run(args: &DemoOptions, settings: &DashboardSettings) -> Result<ExitCode> {
    if args.list {
        print!("{}", list_text());
        return Ok(ExitCode::OK);
    }
    let scenario = match scenario_of(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("slotscope demo: {e}");
            return Ok(ExitCode::UNOBSERVABLE);
        }
    };
    let interval = match settings.interval() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("slotscope demo: {e}");
            return Ok(ExitCode::UNOBSERVABLE);
        }
    };
    if !args.no_dashboard && !super::has_terminal() {
        eprintln!(
            "{} (or `slotscope demo --no-dashboard`)",
            super::NEEDS_TERMINAL
        );
        return Ok(ExitCode::UNOBSERVABLE);
    }
    // Signals during start-up must not kill the process before the lab can stop its nodes.
    let mut stop =
        Box::pin(crate::tui::run::shutdown_signal().wrap_err("installing signal handlers")?);
    eprintln!(
        "slotscope demo: starting a throwaway cluster ({} masters, {} replica(s) each) and injecting '{}'...",
        args.masters,
        args.replicas,
        scenario.name()
    );
    let a = args.clone();
    let mut started = tokio::task::spawn_blocking(move || start(&a, scenario));
    let (lab, report) = tokio::select! {
        joined = &mut started => match joined {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                eprintln!("slotscope demo: {e}");
                return Ok(ExitCode::FAILED);
            }
            Err(e) => {
                eprintln!("slotscope demo: start-up failed: {e}");
                return Ok(ExitCode::FAILED);
            }
        },
        () = &mut stop => {
            // The blocking start-up owns the lab; when it returns, dropping the result stops
            // every process it started. Wait for that, bounded.
            eprintln!("slotscope demo: interrupted during start-up; stopping the nodes...");
            if let Ok(Ok(Ok((lab, _)))) = tokio::time::timeout(START_TIMEOUT, started).await {
                drop(tokio::task::spawn_blocking(move || drop(lab)).await);
            }
            return Ok(ExitCode::INTERRUPTED);
        }
    };
    eprint!("{}", describe(&lab, &report));
    let mut fix_interrupted = false;
    if args.no_dashboard {
        eprintln!("slotscope demo: press Ctrl-C to stop the cluster");
        stop.await;
    } else {
        let seeds = lab.endpoints();
        let mut connect = ConnectOptions::new(seeds);
        connect.password = lab.password().map(Secret::new);
        let capture = Capture::shared();
        let end = run_dashboard_with(
            DashboardOptions {
                connect,
                interval,
                color: settings.color,
                read_only: false,
                banner: Some(banner(&report)),
                audit_log: settings.audit_log.clone(),
                mouse: settings.mouse,
                context_label: None,
                contexts: None,
            },
            Some(Arc::clone(&capture)),
            Some(Box::new(LiveSession::new(
                capture,
                settings.record.clone(),
                "demo",
            ))),
        )
        .await
        .wrap_err("dashboard")?;
        fix_interrupted = end.fix_interrupted;
    }
    let lab2 = tokio::task::spawn_blocking(move || {
        let text = survival_text(&lab);
        (lab, text)
    })
    .await;
    match lab2 {
        Ok((lab, text)) => {
            // stdout may be gone (SSH hang-up): never panic on printing, always stop the lab.
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{text}");
            if args.keep {
                let _ = write!(out, "{}", kept_text(&lab.keep()));
            } else {
                let dir = lab.dir().to_path_buf();
                drop(tokio::task::spawn_blocking(move || drop(lab)).await);
                let _ = writeln!(out, "stopped every node and removed {}", dir.display());
            }
        }
        Err(e) => eprintln!("slotscope demo: {e}"),
    }
    // A signal that ended the dashboard gives the shell's code for it (143, 129).
    if !args.no_dashboard
        && let Some(code) = super::signal_exit_code()
    {
        return Ok(code);
    }
    // A fix left unfinished is said by the exit code too.
    Ok(if fix_interrupted {
        ExitCode::INTERRUPTED
    } else {
        ExitCode::OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_has_one_line_per_scenario_name_first() {
        let text = list_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), Scenario::all().len());
        for (line, s) in lines.iter().zip(Scenario::all()) {
            assert_eq!(line.split_whitespace().next(), Some(s.name()));
        }
    }

    #[test]
    fn unknown_scenario_is_a_clear_error() {
        let args = DemoOptions {
            scenario: "nope".into(),
            list: false,
            masters: 3,
            replicas: 1,
            keys: 10,
            keep: false,
            no_dashboard: false,
        };
        let err = scenario_of(&args).expect_err("must fail");
        assert!(err.contains("unknown scenario 'nope'"));
        let few = DemoOptions {
            scenario: "healthy".into(),
            masters: 2,
            ..args
        };
        assert!(
            scenario_of(&few)
                .expect_err("must fail")
                .contains("at least 3")
        );
    }
}
