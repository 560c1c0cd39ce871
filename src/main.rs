//! slotscope binary: parse the command line, set up logging and the runtime, run the command.

use std::process::ExitCode;

use clap::Parser as _;
use slotscope::cli::Cli;

/// Log to `--log-file` (an error when it cannot be opened) or, for the dashboard, to the
/// default file (silently skipped when that cannot be opened).
fn init_logging(cli: &Cli) -> Result<(), String> {
    if let Some(path) = &cli.log_file {
        return open_log(path)
            .map_err(|e| format!("cannot write the log file {}: {e}", path.display()));
    }
    if let Some(path) = default_log_path(cli) {
        let _ = open_log(&path);
    }
    Ok(())
}

fn default_log_path(cli: &Cli) -> Option<std::path::PathBuf> {
    // The dashboard always logs (never to its terminal); one-shot commands only on request.
    cli.command.is_none().then(|| {
        directories::ProjectDirs::from("", "", "slotscope").map(|d| {
            d.state_dir()
                .unwrap_or_else(|| d.data_local_dir())
                .join("slotscope.log")
        })
    })?
}

fn open_log(path: &std::path::Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLOTSCOPE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    Ok(())
}

/// Whether an error report is a closed stdout (`slotscope fix | head`).
fn is_broken_pipe(report: &color_eyre::Report) -> bool {
    report.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Exit code of a process ended by SIGPIPE, as a shell reports it.
const BROKEN_PIPE_EXIT: u8 = 141;

/// Errors go to stderr as plain text when it is not a terminal (no colours, no backtrace
/// boilerplate); a print to a closed stdout ends the process quietly.
fn install_error_reporting() {
    use std::io::IsTerminal as _;
    if std::io::stderr().is_terminal()
        && let Err(e) = color_eyre::install()
    {
        eprintln!("slotscope: {e}");
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(i32::from(BROKEN_PIPE_EXIT));
        }
        previous(info);
    }));
}

/// A password on the command line is taken out of the visible arguments by executing the
/// binary again without it (see `slotscope::commands::argv`). Returns only when there was
/// nothing to hide or `exec` failed.
fn hide_password_from_argv() {
    use slotscope::commands::argv;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if std::env::var_os(argv::ARGV_AUTH_ENV).is_some() {
        return;
    }
    let Some(scrubbed) = argv::scrub(&args) else {
        return;
    };
    if scrubbed.warn && !argv::has_no_auth_warning(&args) {
        eprintln!("{}", argv::UNSAFE_PASSWORD_WARNING);
    }
    #[cfg(unix)]
    if let Ok(exe) = std::env::current_exe() {
        use std::os::unix::process::CommandExt as _;
        let mut cmd = std::process::Command::new(exe);
        if let Some(arg0) = scrubbed.args.first() {
            cmd.arg0(arg0);
        }
        let err = cmd
            .args(scrubbed.args.iter().skip(1))
            .env(argv::ARGV_AUTH_ENV, &scrubbed.password)
            .exec();
        eprintln!(
            "slotscope: could not hide the password from the process arguments ({err}); \
             prefer REDISCLI_AUTH or --askpass"
        );
    }
}

/// The unknown argument of a parse error, when it is a redis-cli flag slotscope lacks.
fn redis_cli_only_flag(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(a)) if slotscope::commands::typos::is_redis_cli_only_flag(a) => {
            Some(a.clone())
        }
        _ => None,
    }
}

fn main() -> ExitCode {
    hide_password_from_argv();
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => slotscope::commands::ExitCode::UNOBSERVABLE.code(),
            };
            if let Some(flag) = redis_cli_only_flag(&e) {
                eprintln!(
                    "slotscope: `{flag}` is a redis-cli flag that slotscope does not support \
                     (see slotscope --help)"
                );
            } else {
                let _ = e.print();
            }
            return ExitCode::from(code);
        }
    };
    if let Err(e) = cli.merge_connection_options() {
        eprintln!("slotscope: {e}");
        return ExitCode::from(slotscope::commands::ExitCode::UNOBSERVABLE.code());
    }
    if let Err(e) = slotscope::commands::contexts::apply(&mut cli) {
        eprintln!("slotscope: {e}");
        return ExitCode::from(slotscope::commands::ExitCode::UNOBSERVABLE.code());
    }
    if cli.conn_args().is_some_and(|c| c.cluster_mode) {
        eprintln!("slotscope: -c ignored: slotscope always follows the whole cluster");
    }
    install_error_reporting();
    if let Err(e) = init_logging(&cli) {
        eprintln!("slotscope: {e}");
        return ExitCode::from(slotscope::commands::ExitCode::UNOBSERVABLE.code());
    }
    // `check` is one observation: one thread serves its connections with the least
    // hand-over between threads. Everything else (the dashboard) runs its event loop on this
    // thread (`block_on`) and the refresher, fixes and connections on one worker thread: the
    // refresher is one task, so a second worker bought no speed, only a second malloc arena
    // holding its own high-water mark of a refresh's replies (1000 nodes: 45.6 → 37.1 MiB of
    // peak RSS, docs/performance.md). Model builds run as tasks on that worker, off the event
    // loop's thread (`tui::run::Builder`).
    let one_shot = matches!(cli.command, Some(slotscope::cli::Command::Check(_)));
    let mut builder = if one_shot {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(1);
        b
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("slotscope: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(slotscope::commands::run(cli));
    // Do not wait for lingering blocking tasks (a hung node's socket) on exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(code) => code.into(),
        Err(report) if is_broken_pipe(&report) => ExitCode::from(BROKEN_PIPE_EXIT),
        Err(report) => {
            use std::io::IsTerminal as _;
            if std::io::stderr().is_terminal() {
                eprintln!("slotscope: {report:?}");
            } else {
                eprintln!("slotscope: {report:#}");
            }
            ExitCode::from(1)
        }
    }
}
