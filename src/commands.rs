//! The subcommands, wired to the library: the edge where the core meets the network and the
//! terminal. Returns process exit codes; messages go to stdout / stderr.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr as _};

use crate::tui::{DashboardOptions, run_dashboard};
use crate::check::{self, EXIT_UNOBSERVABLE, TextStyle};
use crate::cli::{CheckArgs, Cli, Command, ConnArgs, UiArgs};
use crate::cluster::{ClusterModel, diagnose};
use crate::demo::{self, DemoArgs};
use crate::refresh::{ConnectOptions, Connector, observe_once};

/// Run the parsed command line; returns the exit code.
///
/// # Errors
/// Terminal or runtime failures of the dashboard.
pub async fn run(cli: Cli) -> Result<u8> {
    let code = match cli.command {
        Some(Command::Check(args)) => run_check(&args).await,
        Some(Command::Demo(args)) => run_demo(&args, &cli.ui, cli.audit_log.as_ref()).await?,
        Some(Command::Fix(args)) => match options_or_exit(&args.conn) {
            Ok(opts) => crate::fix::cli::run_fix_command(args.fix, opts).await?,
            Err(code) => code,
        },
        None => run_live(&cli.conn, &cli.ui, cli.audit_log.as_ref()).await?,
    };
    Ok(u8::try_from(code).unwrap_or(1))
}

fn options_or_exit(conn: &ConnArgs) -> Result<ConnectOptions, i32> {
    conn.connect_options().map_err(|e| {
        eprintln!("slotscope: {e}");
        EXIT_UNOBSERVABLE
    })
}

fn text_style() -> TextStyle {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if std::io::stdout().is_terminal() && !no_color {
        TextStyle::Ansi
    } else {
        TextStyle::Plain
    }
}

/// `slotscope check`.
pub async fn run_check(args: &CheckArgs) -> i32 {
    let opts = match options_or_exit(&args.conn) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let connector = Connector::new(opts);
    match observe_once(&connector, None).await {
        Err(e) => {
            eprintln!("slotscope: {e}");
            EXIT_UNOBSERVABLE
        }
        Ok(snapshot) if !snapshot.observed_anything() => {
            eprintln!(
                "slotscope: could not observe the cluster: {}",
                snapshot.failure_summary()
            );
            EXIT_UNOBSERVABLE
        }
        Ok(snapshot) => {
            let model = ClusterModel::build(&snapshot);
            let findings = diagnose(&model);
            if args.json {
                match check::render_json(&snapshot, &model, &findings) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("slotscope: could not encode JSON: {e}");
                        return EXIT_UNOBSERVABLE;
                    }
                }
            } else {
                print!(
                    "{}",
                    check::render_text(&snapshot, &model, &findings, text_style())
                );
            }
            check::exit_code(&findings)
        }
    }
}

fn interval(ui: &UiArgs) -> Result<Duration, String> {
    if ui.interval.is_finite() && (0.1..=3600.0).contains(&ui.interval) {
        Ok(Duration::from_secs_f64(ui.interval))
    } else {
        Err(format!(
            "--interval {} is out of range: give seconds between 0.1 and 3600",
            ui.interval
        ))
    }
}

/// The live dashboard on a real cluster. Observes once first so that an unreachable seed or a
/// wrong password is a clear message and exit code 3, not an empty screen.
async fn run_live(conn: &ConnArgs, ui: &UiArgs, audit_log: Option<&PathBuf>) -> Result<i32> {
    let opts = match options_or_exit(conn) {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let interval = match interval(ui) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("slotscope: {e}");
            return Ok(EXIT_UNOBSERVABLE);
        }
    };
    match observe_once(&Connector::new(opts.clone()), None).await {
        Err(e) => {
            eprintln!("slotscope: {e}");
            return Ok(EXIT_UNOBSERVABLE);
        }
        Ok(snapshot) if !snapshot.observed_anything() => {
            eprintln!(
                "slotscope: could not observe the cluster: {}",
                snapshot.failure_summary()
            );
            return Ok(EXIT_UNOBSERVABLE);
        }
        Ok(_) => {}
    }
    run_dashboard(DashboardOptions {
        read_only: opts.read_only,
        connect: opts,
        interval,
        color: ui.color.into(),
        banner: None,
        audit_log: audit_log.cloned(),
    })
    .await
    .wrap_err("dashboard")?;
    Ok(0)
}

/// `slotscope demo`.
async fn run_demo(args: &DemoArgs, ui: &UiArgs, audit_log: Option<&PathBuf>) -> Result<i32> {
    if args.list {
        print!("{}", demo::list_text());
        return Ok(0);
    }
    let scenario = match demo::scenario_of(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("slotscope demo: {e}");
            return Ok(EXIT_UNOBSERVABLE);
        }
    };
    let interval = match interval(ui) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("slotscope demo: {e}");
            return Ok(EXIT_UNOBSERVABLE);
        }
    };
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
    let mut started = tokio::task::spawn_blocking(move || demo::start(&a, scenario));
    let (lab, report) = tokio::select! {
        joined = &mut started => match joined {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                eprintln!("slotscope demo: {e}");
                return Ok(1);
            }
            Err(e) => {
                eprintln!("slotscope demo: start-up failed: {e}");
                return Ok(1);
            }
        },
        () = &mut stop => {
            // The blocking start-up owns the lab; when it returns, dropping the result stops
            // every process it started. Wait for that, bounded.
            eprintln!("slotscope demo: interrupted during start-up; stopping the nodes...");
            if let Ok(Ok(Ok((lab, _)))) = tokio::time::timeout(demo::START_TIMEOUT, started).await {
                drop(tokio::task::spawn_blocking(move || drop(lab)).await);
            }
            return Ok(130);
        }
    };
    eprint!("{}", demo::describe(&lab, &report));
    if args.no_dashboard {
        eprintln!("slotscope demo: press Ctrl-C to stop the cluster");
        stop.await;
    } else {
        let seeds = lab.endpoints();
        let mut connect = ConnectOptions::new(seeds);
        connect.password = lab.password().map(crate::refresh::Secret::new);
        run_dashboard(DashboardOptions {
            connect,
            interval,
            color: ui.color.into(),
            read_only: false,
            banner: Some(demo::banner(&report)),
            audit_log: audit_log.cloned(),
        })
        .await
        .wrap_err("dashboard")?;
    }
    let lab2 = tokio::task::spawn_blocking(move || {
        let text = demo::survival_text(&lab);
        (lab, text)
    })
    .await;
    match lab2 {
        Ok((lab, text)) => {
            // stdout may be gone (SSH hang-up): never panic on printing, always stop the lab.
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{text}");
            if args.keep {
                let _ = write!(out, "{}", demo::kept_text(&lab.keep()));
            } else {
                let dir = lab.dir().to_path_buf();
                drop(tokio::task::spawn_blocking(move || drop(lab)).await);
                let _ = writeln!(out, "stopped every node and removed {}", dir.display());
            }
        }
        Err(e) => eprintln!("slotscope demo: {e}"),
    }
    Ok(0)
}
