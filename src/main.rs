//! slotscope binary: parse the command line, set up logging and the runtime, run the command.

use std::process::ExitCode;

use clap::Parser as _;
use slotscope::cli::Cli;

fn init_logging(cli: &Cli) -> Option<()> {
    let path = cli.log_file.clone().or_else(|| {
        // The dashboard always logs (never to its terminal); one-shot commands only on request.
        cli.command.is_none().then(|| {
            directories::ProjectDirs::from("", "", "slotscope").map(|d| {
                d.state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .join("slotscope.log")
            })
        })?
    })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok()?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLOTSCOPE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init()
        .ok()
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
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Err(e) = cli.merge_connection_options() {
        eprintln!("slotscope: {e}");
        return ExitCode::from(slotscope::commands::ExitCode::UNOBSERVABLE.code());
    }
    if cli.conn_args().is_some_and(|c| c.cluster_mode) {
        eprintln!("slotscope: -c ignored: slotscope always follows the whole cluster");
    }
    if let Err(e) = color_eyre::install() {
        eprintln!("slotscope: {e}");
    }
    let _ = init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
        Err(report) => {
            eprintln!("slotscope: {report:?}");
            ExitCode::from(1)
        }
    }
}
