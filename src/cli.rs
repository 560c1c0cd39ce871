//! Command-line interface: the only place that knows clap. Connection flags follow redis-cli
//! habits. Parsed values become plain settings here ([`ConnectOptions`],
//! [`DashboardSettings`], [`DemoOptions`], [`FixOptions`]) before a command sees them.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::app::color::ColorChoice;
use crate::commands::DashboardSettings;
use crate::commands::demo::DemoOptions;
use crate::commands::fix::FixOptions;
use crate::refresh::conn::tls::{TlsConfig, TlsOptions};
use crate::refresh::{ConnectOptions, Secret, SeedError};

/// Default connect and reply timeouts, in milliseconds.
const DEFAULT_TIMEOUT_MS: u64 = 1000;

/// slotscope: see why a Redis Cluster is down, and fix it safely.
#[derive(Debug, Parser)]
#[command(
    name = "slotscope",
    version,
    about = "Terminal dashboard that explains why a Redis Cluster is down and repairs it safely",
    long_about = None,
    disable_help_flag = true,
    subcommand_precedence_over_arg = true,
    after_help = "With no subcommand, opens the live dashboard on the cluster.\n\
                  Seeds: host:port, [::1]:port, redis://[user[:pass]@]host:port. Default 127.0.0.1:6379.\n\
                  Password: REDISCLI_AUTH environment variable, --askpass, -a/--pass or the seed URL.\n\
                  Exit codes (check): 0 healthy, 1 warnings, 2 critical findings, 3 not observable."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub conn: ConnArgs,

    #[command(flatten)]
    pub ui: UiArgs,

    /// Where to write the debug log (never to the terminal).
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    /// Audit log of every write a fix sends from the dashboard or the demo (JSON lines).
    /// Default: audit.jsonl in the user's state directory. (`slotscope fix` has its own.)
    #[arg(long, global = true, value_name = "PATH", env = "SLOTSCOPE_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,

    /// Use the named context of the config file ($SLOTSCOPE_CONFIG, else
    /// ~/.config/slotscope/config.toml); flags override it.
    #[allow(clippy::doc_markdown)] // this doc comment is the `--help` text, printed as written
    #[arg(short = 'C', long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// The context's label and colour, once applied (not a flag).
    #[arg(skip)]
    pub context_label: Option<(String, Option<String>)>,

    /// What the dashboard's `:ctx NAME` keeps of the command line (not a flag).
    #[arg(skip)]
    pub switch_base: Option<crate::commands::contexts::SwitchBase>,

    /// Record every refresh of the dashboard (or the demo) to this file (docs/recording.md).
    #[arg(long, global = true, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Print help.
    #[arg(long, action = ArgAction::Help, global = true)]
    pub help: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the diagnosis once and exit (0 healthy, 1 warnings, 2 critical, 3 not observable).
    Check(CheckArgs),
    /// List, show (--dry-run ID) or apply (--apply ID) the repairs for the current findings.
    Fix(FixCommandArgs),
    /// Start a throwaway local cluster, break it, and open the dashboard on it.
    Demo(DemoArgs),
    /// Record refreshes of the cluster to a file (docs/recording.md), without the dashboard.
    Record(RecordArgs),
    /// Open the dashboard on a recording (no network access; repairs disabled).
    Replay(ReplayArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout: `slotscope man | man -l -`.
    Man,
    /// List the contexts of the config file.
    Contexts,
}

/// The command-line definition, for completions and the manual page.
#[must_use]
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Options of `slotscope record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub conn: ConnArgs,

    /// The recording to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Stop after N refreshes.
    #[arg(long, value_name = "N", conflicts_with = "duration")]
    pub count: Option<u64>,

    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
}

/// Options of `slotscope replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording (from `slotscope record`, `--record` or a dashboard snapshot).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Open at this refresh (see `check --at`).
    #[arg(long, value_name = "WHEN")]
    pub at: Option<String>,
}

/// How to reach the cluster.
#[derive(Debug, Args, Clone, Default)]
pub struct ConnArgs {
    /// Seed nodes (host:port, redis://[user[:pass]@]host:port). Default: 127.0.0.1:6379.
    #[arg(value_name = "SEED")]
    pub seeds: Vec<String>,

    /// Seed host, as in redis-cli.
    #[arg(short = 'h', long = "host", value_name = "HOST")]
    pub host: Option<String>,

    /// Seed port, as in redis-cli.
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,

    /// Server URI, as in redis-cli: redis://[user[:pass]@]host:port or rediss://… (TLS).
    #[arg(short = 'u', long = "uri", value_name = "URI")]
    pub uri: Option<String>,

    /// ACL user name.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    #[allow(clippy::doc_markdown)] // this doc comment is the `--help` text, printed as written
    /// Password, as in redis-cli (unsafe: prefer REDISCLI_AUTH or --askpass). It is removed
    /// from the process's visible arguments at start-up.
    #[arg(
        short = 'a',
        long = "pass",
        value_name = "PASSWORD",
        allow_hyphen_values = true
    )]
    pub pass: Option<String>,

    /// Prompt for the password (no echo).
    #[arg(long)]
    pub askpass: bool,

    /// Do not print the warning about a password on the command line.
    #[arg(long)]
    pub no_auth_warning: bool,

    /// Accepted for redis-cli habit and ignored: slotscope always follows the whole cluster.
    #[arg(short = 'c', hide = true)]
    pub cluster_mode: bool,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Connect to TO where a node announces FROM (repeatable): host:port=host:port, or
    /// host=host for every port of a host. The screen keeps the announced addresses.
    #[arg(long, value_name = "FROM=TO")]
    pub remap: Vec<String>,

    /// Connect to a node by the hostname it announces (cluster-announce-hostname) instead of
    /// its IP; --remap rules then apply to the hostname. The screen shows both.
    #[arg(long)]
    pub prefer_hostname: bool,

    /// Leave out a password taken from this process's own command line (a context switch).
    #[arg(skip)]
    pub ignore_argv_auth: bool,

    /// TCP connect timeout per node, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TIMEOUT_MS)]
    pub connect_timeout: u64,

    /// Reply timeout per command, in milliseconds (a node that does not answer in time is
    /// reported as unresponsive).
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TIMEOUT_MS)]
    pub timeout: u64,

    /// Never send a write command; hide every fix.
    #[arg(long)]
    pub read_only: bool,

    /// The most a node may send in reply to one request, in bytes; a node that sends more is
    /// reported as sending an oversized reply and its connection is dropped.
    #[arg(long, value_name = "BYTES", default_value_t = crate::refresh::DEFAULT_MAX_REPLY_BYTES)]
    pub max_reply_bytes: usize,
}

/// TLS options, as in redis-cli.
#[derive(Debug, Args, Clone, Default, PartialEq, Eq)]
pub struct TlsArgs {
    /// Connect to every node over TLS (also implied by a rediss:// seed).
    #[arg(long)]
    pub tls: bool,
    /// CA certificate file (PEM) to verify the nodes with (default: the system's CAs).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Directory of CA certificate files (PEM).
    #[arg(long, value_name = "DIR")]
    pub cacertdir: Option<PathBuf>,
    /// Client certificate (PEM), for nodes that require one.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key of the client certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Server name to send and verify (SNI) instead of each node's address.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Do not verify the nodes' certificates (a warning stays in the header).
    #[arg(long)]
    pub insecure: bool,
}

impl TlsArgs {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn absorb(&mut self, other: Self) {
        self.tls |= other.tls;
        self.insecure |= other.insecure;
        self.cacert = self.cacert.take().or(other.cacert);
        self.cacertdir = self.cacertdir.take().or(other.cacertdir);
        self.cert = self.cert.take().or(other.cert);
        self.key = self.key.take().or(other.key);
        self.sni = self.sni.take().or(other.sni);
    }

    /// The TLS configuration when TLS is asked for (`--tls` or a `rediss://` seed).
    ///
    /// # Errors
    /// TLS options without TLS, unreadable certificate files.
    pub fn config(&self, rediss: bool) -> Result<Option<TlsConfig>, String> {
        if !self.tls && !rediss {
            if self.is_empty() {
                return Ok(None);
            }
            return Err(
                "--cacert, --cacertdir, --cert, --key, --sni and --insecure need --tls \
                 (or a rediss:// seed)"
                    .to_owned(),
            );
        }
        TlsConfig::build(TlsOptions {
            cacert: self.cacert.clone(),
            cacertdir: self.cacertdir.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            sni: self.sni.clone(),
            insecure: self.insecure,
        })
        .map(Some)
    }
}

/// Dashboard options.
#[derive(Debug, Args, Clone)]
pub struct UiArgs {
    /// Refresh interval in seconds (also for `demo`).
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 1.0)]
    pub interval: f64,

    /// Colour: auto (honours NO_COLOR), never, 16, 256, truecolor (also for `demo`).
    #[allow(clippy::doc_markdown)] // this doc comment is the `--help` text, printed as written
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    /// Leave the mouse to the terminal: no clicks or wheel in the dashboard (while the mouse
    /// is captured, Shift+drag still selects text in most terminals).
    #[arg(long, global = true)]
    pub no_mouse: bool,
}

/// The `--color` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorArg {
    /// 16 named colours unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// No colour at all: modifiers and glyphs only.
    Never,
    /// The 16 named ANSI colours.
    #[value(name = "16")]
    Ansi16,
    /// 256-colour ramps.
    #[value(name = "256")]
    Ansi256,
    /// 24-bit ramps.
    #[value(name = "truecolor")]
    TrueColor,
}

impl From<ColorArg> for ColorChoice {
    fn from(c: ColorArg) -> Self {
        match c {
            ColorArg::Auto => Self::Auto,
            ColorArg::Never => Self::Never,
            ColorArg::Ansi16 => Self::Ansi16,
            ColorArg::Ansi256 => Self::Ansi256,
            ColorArg::TrueColor => Self::TrueColor,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub conn: ConnArgs,

    /// Print the documented JSON document instead of text (schema: docs/check-json.md);
    /// the same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Diagnose a recorded refresh instead of the live cluster (no network access).
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,

    /// With --replay: which refresh: N (1 is the first), last (default), +SECONDS after the
    /// start, HH:MM[:SS] (UTC), YYYY-MM-DDTHH:MM:SSZ or Unix milliseconds.
    #[arg(long, value_name = "WHEN", requires = "replay")]
    pub at: Option<String>,

    /// Output format: text (first line: the verdict), json, nagios (plugin output with
    /// perfdata) or prometheus (text exposition for the textfile collector of node exporter).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<crate::commands::check::Format>,
}

impl CheckArgs {
    /// The output format (`--json` is `--format json`).
    #[must_use]
    pub fn format(&self) -> crate::commands::check::Format {
        match self.format {
            Some(f) => f,
            None if self.json => crate::commands::check::Format::Json,
            None => crate::commands::check::Format::Text,
        }
    }
}

#[derive(Debug, Args)]
pub struct FixCommandArgs {
    #[command(flatten)]
    pub conn: ConnArgs,

    #[command(flatten)]
    pub fix: FixArgs,
}

/// Options of `slotscope demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// The fault to inject (see --list).
    #[arg(long, value_name = "NAME", default_value = "dead-master-no-replica")]
    pub scenario: String,

    /// List the scenarios, one per line, name first, and exit.
    #[arg(long)]
    pub list: bool,

    /// Masters that own slots (at least 3).
    #[arg(long, value_name = "M", default_value_t = 3)]
    pub masters: usize,

    /// Replicas per master (a scenario may need fewer on one master).
    #[arg(long, value_name = "R", default_value_t = 1)]
    pub replicas: usize,

    /// Sample keys written before the fault.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub keys: usize,

    /// Leave the cluster running on exit and print how to reach and stop it.
    #[arg(long)]
    pub keep: bool,

    /// Only start and break the cluster, print how to reach it, and wait for Ctrl-C
    /// (no dashboard): for driving the demo cluster from another terminal.
    #[arg(long)]
    pub no_dashboard: bool,
}

/// Options of `slotscope fix` (flatten into the subcommand; seeds and credentials come from
/// the shared connection options).
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct FixArgs {
    /// Print the plans (or the dry run) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the commands of plan ID without running anything.
    #[arg(long, value_name = "ID", conflicts_with = "apply")]
    pub dry_run: Option<String>,
    /// Run plan ID after a confirmation on the terminal.
    #[arg(long, value_name = "ID")]
    pub apply: Option<String>,
    /// Do not ask for confirmation (refuses plans that can lose data unless
    /// --accept-data-loss is given too).
    #[arg(long, requires = "apply")]
    pub yes: bool,
    /// With --yes: also run plans that can lose data.
    #[arg(long, requires = "yes")]
    pub accept_data_loss: bool,
    /// Only plans touching this slot.
    #[arg(long, value_name = "SLOT", value_parser = clap::value_parser!(u16).range(0..16384))]
    pub slot: Option<u16>,
    /// Only plans touching this node (id or id prefix).
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Audit log path (JSON lines). Default: the user's state directory.
    #[arg(long, value_name = "PATH", env = "SLOTSCOPE_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
}

impl Cli {
    /// What the dashboard (live or on the demo cluster) takes from the command line.
    #[must_use]
    pub fn dashboard_settings(&self) -> DashboardSettings {
        DashboardSettings {
            interval_secs: self.ui.interval,
            color: self.ui.color.into(),
            audit_log: self.audit_log.clone(),
            context_label: self.context_label.clone(),
            switch_base: self.switch_base.clone(),
            mouse: !self.ui.no_mouse,
            record: self.record.clone(),
        }
    }
}

impl Cli {
    /// Connection options given before a subcommand (`slotscope -a pw check host:port`) join
    /// the subcommand's own: seeds add up, a flag given after the subcommand wins. With `demo`,
    /// which connects to its own cluster, they are an error.
    ///
    /// # Errors
    /// Connection options before `demo`.
    pub fn merge_connection_options(&mut self) -> Result<(), String> {
        let top = std::mem::take(&mut self.conn);
        let sub = match &mut self.command {
            None => {
                self.conn = top;
                return Ok(());
            }
            Some(Command::Check(c)) => &mut c.conn,
            Some(Command::Fix(f)) => &mut f.conn,
            Some(Command::Record(r)) => &mut r.conn,
            Some(
                Command::Demo(_)
                | Command::Replay(_)
                | Command::Completions { .. }
                | Command::Man
                | Command::Contexts,
            ) => {
                return if top.is_empty() {
                    Ok(())
                } else {
                    Err("this subcommand takes no seeds or connection options".to_owned())
                };
            }
        };
        sub.absorb(top);
        Ok(())
    }

    /// The connection options of the command that runs, to change (none for `demo`).
    pub fn conn_args_mut(&mut self) -> Option<&mut ConnArgs> {
        match &mut self.command {
            None => Some(&mut self.conn),
            Some(Command::Check(c)) => Some(&mut c.conn),
            Some(Command::Fix(f)) => Some(&mut f.conn),
            Some(Command::Record(r)) => Some(&mut r.conn),
            Some(_) => None,
        }
    }

    /// The connection options of the command that runs (none for `demo`).
    #[must_use]
    pub fn conn_args(&self) -> Option<&ConnArgs> {
        match &self.command {
            None => Some(&self.conn),
            Some(Command::Check(c)) => Some(&c.conn),
            Some(Command::Fix(f)) => Some(&f.conn),
            Some(Command::Record(r)) => Some(&r.conn),
            Some(
                Command::Demo(_)
                | Command::Replay(_)
                | Command::Completions { .. }
                | Command::Man
                | Command::Contexts,
            ) => None,
        }
    }
}

impl RecordArgs {
    /// The record command's settings.
    #[must_use]
    pub fn options(&self) -> crate::commands::record::RecordOptions {
        crate::commands::record::RecordOptions {
            out: self.out.clone(),
            count: self.count,
            duration_secs: self.duration,
        }
    }
}

impl DemoArgs {
    /// The demo's settings.
    #[must_use]
    pub fn options(&self) -> DemoOptions {
        DemoOptions {
            scenario: self.scenario.clone(),
            list: self.list,
            masters: self.masters,
            replicas: self.replicas,
            keys: self.keys,
            keep: self.keep,
            no_dashboard: self.no_dashboard,
        }
    }
}

impl FixArgs {
    /// The fix command's settings.
    #[must_use]
    pub fn options(self) -> FixOptions {
        FixOptions {
            json: self.json,
            dry_run: self.dry_run,
            apply: self.apply,
            yes: self.yes,
            accept_data_loss: self.accept_data_loss,
            slot: self.slot,
            node: self.node,
            audit_log: self.audit_log,
        }
    }
}

impl ConnArgs {
    fn is_empty(&self) -> bool {
        self.seeds.is_empty()
            && self.host.is_none()
            && self.port.is_none()
            && self.uri.is_none()
            && self.user.is_none()
            && self.pass.is_none()
            && !self.askpass
            && !self.read_only
            && self.tls.is_empty()
            && self.remap.is_empty()
            && !self.prefer_hostname
            && self.connect_timeout == DEFAULT_TIMEOUT_MS
            && self.timeout == DEFAULT_TIMEOUT_MS
    }

    /// Take what `other` (the options before the subcommand) sets and `self` does not.
    fn absorb(&mut self, other: Self) {
        let mut seeds = other.seeds;
        seeds.append(&mut self.seeds);
        self.seeds = seeds;
        self.host = self.host.take().or(other.host);
        self.port = self.port.or(other.port);
        self.uri = self.uri.take().or(other.uri);
        self.user = self.user.take().or(other.user);
        self.pass = self.pass.take().or(other.pass);
        self.askpass |= other.askpass;
        self.no_auth_warning |= other.no_auth_warning;
        self.cluster_mode |= other.cluster_mode;
        self.read_only |= other.read_only;
        self.tls.absorb(other.tls);
        let mut remap = other.remap;
        remap.append(&mut self.remap);
        self.remap = remap;
        self.prefer_hostname |= other.prefer_hostname;
        if self.connect_timeout == DEFAULT_TIMEOUT_MS {
            self.connect_timeout = other.connect_timeout;
        }
        if self.timeout == DEFAULT_TIMEOUT_MS {
            self.timeout = other.timeout;
        }
    }

    /// The seed strings, with `-h/-p` and the redis-cli default applied.
    #[must_use]
    pub fn seed_strings(&self) -> Vec<String> {
        let mut seeds = self.seeds.clone();
        if let Some(uri) = &self.uri {
            seeds.insert(0, uri.clone());
        }
        if self.host.is_some() || self.port.is_some() {
            let host = self.host.clone().unwrap_or_else(|| "127.0.0.1".to_owned());
            let port = self.port.unwrap_or(6379);
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host
            };
            seeds.insert(0, format!("{host}:{port}"));
        }
        if seeds.is_empty() {
            seeds.push("127.0.0.1:6379".to_owned());
        }
        seeds
    }
}

impl ConnArgs {
    /// Connection options: seeds (with URL credentials), `--user`, the password from the seed
    /// URL, `REDISCLI_AUTH` or `--askpass` (prompted without echo), timeouts and read-only.
    ///
    /// # Errors
    /// A seed that does not parse, conflicting credentials, a zero timeout, or a failed prompt.
    /// Messages never contain the password.
    pub fn connect_options(&self) -> Result<ConnectOptions, String> {
        let seeds = self.seed_strings();
        for s in &self.seeds {
            if let Some(meant) = crate::commands::typos::misspelt_subcommand(s) {
                return Err(crate::commands::typos::misspelt_subcommand_message(
                    s, meant,
                ));
            }
        }
        let mut opts = ConnectOptions::from_seed_strs(&seeds).map_err(|e| e.to_string())?;
        if let Some(user) = &self.user {
            opts.user = Some(user.clone());
        }
        if let Some(pw) = &self.pass {
            if opts.password.as_ref().is_some_and(|p| p.expose() != pw) {
                return Err(SeedError::ConflictingCredentials.to_string());
            }
            opts.password = Some(Secret::new(pw.clone()));
        }
        if self.askpass {
            let pw = rpassword::prompt_password("Password: ")
                .map_err(|e| format!("could not read the password from the terminal: {e}"))?;
            opts.password = Some(Secret::new(pw));
        } else if !self.ignore_argv_auth
            && let Ok(pw) = std::env::var(crate::commands::argv::ARGV_AUTH_ENV)
            && !pw.is_empty()
        {
            // Taken out of the visible arguments at start-up (see `commands::argv`).
            opts.password = Some(Secret::new(pw));
        } else if opts.password.is_none()
            && let Ok(pw) = std::env::var("REDISCLI_AUTH")
            && !pw.is_empty()
        {
            opts.password = Some(Secret::new(pw));
        }
        if self.connect_timeout == 0 || self.timeout == 0 {
            return Err("--connect-timeout and --timeout must be at least 1 ms".to_owned());
        }
        opts.connect_timeout = std::time::Duration::from_millis(self.connect_timeout);
        opts.command_timeout = std::time::Duration::from_millis(self.timeout);
        opts.read_only = self.read_only;
        let rediss = seeds.iter().any(|s| crate::refresh::target::wants_tls(s));
        opts.tls = self.tls.config(rediss)?;
        opts.remap = crate::refresh::conn::remap::RemapTable::parse(&self.remap)?;
        if self.prefer_hostname {
            opts.hostnames = Some(std::sync::Arc::default());
        }
        if self.max_reply_bytes < 1024 {
            return Err("--max-reply-bytes must be at least 1024".to_owned());
        }
        opts.max_reply_bytes = self.max_reply_bytes;
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        fix: FixArgs,
    }

    #[test]
    fn fix_args_are_consistent_and_guarded() {
        Wrapper::command().debug_assert();
        let w = Wrapper::try_parse_from(["x", "--apply", "p1", "--yes"]).expect("parse");
        assert_eq!(w.fix.apply.as_deref(), Some("p1"));
        assert!(w.fix.yes && !w.fix.accept_data_loss);
        assert!(
            Wrapper::try_parse_from(["x", "--yes"]).is_err(),
            "--yes needs --apply"
        );
        assert!(Wrapper::try_parse_from(["x", "--apply", "a", "--accept-data-loss"]).is_err());
        assert!(Wrapper::try_parse_from(["x", "--dry-run", "a", "--apply", "a"]).is_err());
        assert!(Wrapper::try_parse_from(["x", "--slot", "16384"]).is_err());
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn redis_cli_habits() {
        let cli =
            Cli::try_parse_from(["slotscope", "-h", "127.0.0.1", "-p", "7000"]).expect("parse");
        assert_eq!(cli.conn.seed_strings(), vec!["127.0.0.1:7000"]);
        let cli = Cli::try_parse_from(["slotscope"]).expect("parse");
        assert_eq!(cli.conn.seed_strings(), vec!["127.0.0.1:6379"]);
        let cli = Cli::try_parse_from(["slotscope", "-h", "::1"]).expect("parse");
        assert_eq!(cli.conn.seed_strings(), vec!["[::1]:6379"]);
    }

    #[test]
    fn connection_options_before_the_subcommand_join_it() {
        let mut cli = Cli::try_parse_from([
            "slotscope",
            "--log-file",
            "/tmp/l",
            "-a",
            "pw",
            "--timeout",
            "50",
            "check",
            "--json",
            "h:2",
        ])
        .expect("parse");
        cli.merge_connection_options().expect("merge");
        let c = cli.conn_args().expect("check connects");
        assert_eq!(c.pass.as_deref(), Some("pw"));
        assert_eq!(c.timeout, 50);
        assert_eq!(c.seeds, vec!["h:2"]);
        let mut cli =
            Cli::try_parse_from(["slotscope", "-u", "redis://h:1", "demo"]).expect("parse");
        assert!(cli.merge_connection_options().is_err());
        let mut cli =
            Cli::try_parse_from(["slotscope", "--color", "16", "demo", "--list"]).expect("parse");
        assert!(cli.merge_connection_options().is_ok());
    }

    #[test]
    fn audit_log_reaches_the_dashboard_and_the_demo_and_fix_keeps_its_own() {
        let cli =
            Cli::try_parse_from(["slotscope", "--audit-log", "/tmp/a.jsonl", "127.0.0.1:7000"])
                .expect("parse");
        assert_eq!(cli.audit_log, Some(PathBuf::from("/tmp/a.jsonl")));
        let cli = Cli::try_parse_from(["slotscope", "demo", "--audit-log", "/tmp/b.jsonl"])
            .expect("parse");
        assert_eq!(cli.audit_log, Some(PathBuf::from("/tmp/b.jsonl")));
        let cli = Cli::try_parse_from([
            "slotscope",
            "fix",
            "--audit-log",
            "/tmp/c.jsonl",
            "127.0.0.1:7000",
        ])
        .expect("parse");
        match cli.command {
            Some(Command::Fix(f)) => {
                assert_eq!(f.fix.audit_log, Some(PathBuf::from("/tmp/c.jsonl")));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ui_flags_reach_the_demo_and_the_dashboard() {
        let cli = Cli::try_parse_from([
            "slotscope",
            "demo",
            "--color",
            "never",
            "--interval",
            "0.5",
            "--scenario",
            "healthy",
        ])
        .expect("parse");
        assert_eq!(ColorChoice::from(cli.ui.color), ColorChoice::Never);
        assert!((cli.ui.interval - 0.5).abs() < f64::EPSILON);
        assert!(matches!(cli.command, Some(Command::Demo(_))));
        // Before the subcommand too, and on the dashboard itself.
        let cli = Cli::try_parse_from(["slotscope", "--color", "16", "demo"]).expect("parse");
        assert_eq!(ColorChoice::from(cli.ui.color), ColorChoice::Ansi16);
        let cli = Cli::try_parse_from(["slotscope", "--color", "never", "127.0.0.1:7000"])
            .expect("parse");
        assert_eq!(ColorChoice::from(cli.ui.color), ColorChoice::Never);
        assert_eq!(cli.conn.seed_strings(), vec!["127.0.0.1:7000"]);
        // Defaults when not given.
        let cli = Cli::try_parse_from(["slotscope", "demo"]).expect("parse");
        assert_eq!(ColorChoice::from(cli.ui.color), ColorChoice::Auto);
        assert!((cli.ui.interval - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn check_subcommand_takes_seeds_and_json() {
        let cli = Cli::try_parse_from([
            "slotscope",
            "check",
            "--json",
            "127.0.0.1:7000",
            "127.0.0.1:7001",
        ])
        .expect("parse");
        match cli.command {
            Some(Command::Check(c)) => {
                assert!(c.json);
                assert_eq!(c.conn.seed_strings().len(), 2);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
