//! The subcommands, one file each, wired to the library: the edge where the core meets the
//! network and the terminal. [`run`] takes the parsed command line (only [`crate::cli`] knows
//! clap) and returns the process's [`ExitCode`]; messages go to stdout / stderr.
//!
//! - [`dashboard`]: no subcommand, the live dashboard on a real cluster.
//! - [`check`]: the diagnosis once, as text or JSON.
//! - [`fix`]: list, show or apply the repairs.
//! - [`demo`]: a throwaway local cluster, broken on purpose, with the dashboard on it.
//! - [`record`]: refreshes written to a recording; [`replay`]: the dashboard or `check` on one.

pub mod argv;
pub mod check;
pub mod completions;
pub mod contexts;
pub mod dashboard;
pub mod demo;
pub mod fix;
pub mod monitoring;
pub mod record;
pub mod replay;
pub mod session;
pub mod snapshot;
pub mod typos;

use std::time::Duration;

use color_eyre::eyre::Result;
use serde::Serialize;

use crate::cli::{Cli, Command};
use crate::refresh::ConnectOptions;

/// The process exit code of a command. The meaning of a number depends on the command (see
/// each constant); the numbers are documented in `slotscope --help` and the command docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ExitCode(u8);

impl ExitCode {
    /// Success: healthy (`check`), listed / shown / applied and verified (`fix`), a normal end.
    pub const OK: Self = Self(0);
    /// `check`: warnings only.
    pub const WARNING: Self = Self(1);
    /// `fix`: a step failed or the end state was not verified; `demo`: the start-up failed.
    pub const FAILED: Self = Self(1);
    /// `check`: at least one critical finding.
    pub const CRITICAL: Self = Self(2);
    /// `fix`: nothing was sent.
    pub const NOTHING_SENT: Self = Self(2);
    /// The cluster could not be observed at all, or the arguments were bad.
    pub const UNOBSERVABLE: Self = Self(3);
    /// `demo`: interrupted by a signal during start-up.
    pub const INTERRUPTED: Self = Self(130);

    /// The number the process exits with.
    #[must_use]
    pub fn code(self) -> u8 {
        self.0
    }
}

impl std::fmt::Display for ExitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        Self::from(c.0)
    }
}

/// Run the parsed command line; returns the exit code.
///
/// # Errors
/// Terminal or runtime failures of the dashboard.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let settings = cli.dashboard_settings();
    Ok(match cli.command {
        Some(Command::Check(args)) if args.replay.is_some() => {
            replay::check(args.replay.as_deref(), args.at.as_deref(), args.format())
        }
        Some(Command::Check(args)) => match options_or_exit(&args.conn) {
            Ok(opts) => check::run(opts, args.format()).await,
            Err(code) => code,
        },
        Some(Command::Record(args)) => match options_or_exit(&args.conn) {
            Ok(opts) => record::run(opts, &args.options(), &settings).await,
            Err(code) => code,
        },
        Some(Command::Replay(args)) => {
            replay::run(&args.file, args.at.as_deref(), &settings).await?
        }
        Some(Command::Demo(args)) => demo::run(&args.options(), &settings).await?,
        Some(Command::Completions { shell }) => completions::completions(shell)?,
        Some(Command::Man) => completions::man()?,
        Some(Command::Contexts) => contexts::list()?,
        Some(Command::Fix(args)) => match options_or_exit(&args.conn) {
            Ok(opts) => fix::run(args.fix.options(), opts).await?,
            Err(code) => code,
        },
        None => match options_or_exit(&cli.conn) {
            Ok(opts) => dashboard::run(opts, &settings).await?,
            Err(code) => code,
        },
    })
}

/// What the dashboard (live or on the demo cluster) takes from the command line.
#[derive(Clone, Debug, PartialEq)]
pub struct DashboardSettings {
    /// Seconds between refresh cycles, as given (checked by [`DashboardSettings::interval`]).
    pub interval_secs: f64,
    /// The colour choice.
    pub color: crate::app::color::ColorChoice,
    /// Where the writes of fixes are audited; `None`: the default path.
    pub audit_log: Option<std::path::PathBuf>,
    /// The context's label and colour name, shown in the header.
    pub context_label: Option<(String, Option<String>)>,
    /// What `:ctx NAME` keeps of the command line.
    pub switch_base: Option<contexts::SwitchBase>,
    /// Capture the mouse (off with `--no-mouse`).
    pub mouse: bool,
    /// `--record FILE`: record every refresh from the start.
    pub record: Option<std::path::PathBuf>,
}

impl DashboardSettings {
    /// The refresh interval, if it is in range (0.1 to 3600 seconds).
    ///
    /// # Errors
    /// The message to print when it is not.
    pub fn interval(&self) -> Result<Duration, String> {
        let s = self.interval_secs;
        if s.is_finite() && (0.1..=3600.0).contains(&s) {
            Ok(Duration::from_secs_f64(s))
        } else {
            Err(format!(
                "--interval {s} is out of range: give seconds between 0.1 and 3600"
            ))
        }
    }
}

/// The one line for a dashboard started without a terminal.
pub const NEEDS_TERMINAL: &str = "slotscope: the dashboard needs a terminal (stdin and stdout \
     are not both a terminal); for a one-shot report use `slotscope check`";

/// Whether stdin and stdout are both a terminal, as the dashboard needs.
#[must_use]
pub fn has_terminal() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The shell's exit code for the signal that ended the dashboard (128 + its number), if one
/// did; `None` when the user quit.
#[must_use]
pub fn signal_exit_code() -> Option<ExitCode> {
    crate::tui::run::received_signal()
        .and_then(|n| u8::try_from(128 + n).ok())
        .map(ExitCode)
}

fn options_or_exit(conn: &crate::cli::ConnArgs) -> Result<ConnectOptions, ExitCode> {
    conn.connect_options().map_err(|e| {
        eprintln!("slotscope: {e}");
        ExitCode::UNOBSERVABLE
    })
}
