//! Named cluster contexts from a TOML file: `slotscope --context NAME` (`-C NAME`) and
//! `slotscope contexts`.
//!
//! The file is `$SLOTSCOPE_CONFIG`, else `config.toml` in the platform's config directory
//! (`~/.config/slotscope/config.toml` on Linux). Flags given on the command line override the
//! context. A password comes from `password_env` (an environment variable's name) or
//! `password_command` (run with `sh -c`, its first line); a literal `password` is refused
//! unless the file is private to its owner (no group or world permission bits).
//!
//! [`parse_config`] is pure (text in, contexts out).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ExitCode;
use crate::cli::Cli;

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The contexts by name.
    #[serde(default)]
    pub contexts: BTreeMap<String, Context>,
}

/// One named cluster.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Seed nodes, as on the command line.
    #[serde(default)]
    pub seeds: Vec<String>,
    /// ACL user.
    pub user: Option<String>,
    /// Name of the environment variable that holds the password.
    pub password_env: Option<String>,
    /// Command whose first output line is the password (`pass show redis/prod`).
    pub password_command: Option<String>,
    /// The password itself: only in a file private to its owner.
    pub password: Option<String>,
    /// TLS to every node.
    #[serde(default)]
    pub tls: bool,
    /// CA file.
    pub cacert: Option<PathBuf>,
    /// CA directory.
    pub cacertdir: Option<PathBuf>,
    /// Client certificate.
    pub cert: Option<PathBuf>,
    /// Client key.
    pub key: Option<PathBuf>,
    /// TLS server name.
    pub sni: Option<String>,
    /// Skip certificate verification.
    #[serde(default)]
    pub insecure: bool,
    /// `--remap` rules.
    #[serde(default)]
    pub remap: Vec<String>,
    /// Connect by the hostnames nodes announce (`--prefer-hostname`).
    #[serde(default)]
    pub prefer_hostname: bool,
    /// Never write.
    #[serde(default)]
    pub read_only: bool,
    /// Refresh interval in seconds.
    pub interval: Option<f64>,
    /// Label shown in the header (`PROD`).
    pub label: Option<String>,
    /// The label's colour (`red`, `yellow`, `#ff8800`).
    pub color: Option<String>,
}

/// Parse the file's text.
///
/// # Errors
/// TOML errors, unknown keys, a context with two password sources.
pub fn parse_config(text: &str) -> Result<ConfigFile, String> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
    for (name, c) in &file.contexts {
        let sources = [
            c.password.is_some(),
            c.password_env.is_some(),
            c.password_command.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() > 1 {
            return Err(format!(
                "context `{name}`: give one of password, password_env, password_command"
            ));
        }
    }
    Ok(file)
}

/// `$SLOTSCOPE_CONFIG`, else the platform's config directory.
#[must_use]
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SLOTSCOPE_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "slotscope").map(|d| d.config_dir().join("config.toml"))
}

/// Read and check the file: a literal password needs a file without group or world access.
///
/// # Errors
/// Unreadable file, parse errors, a password in a file others can read.
pub fn load(path: &Path) -> Result<ConfigFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    let file = parse_config(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if file.contexts.values().any(|c| c.password.is_some()) {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} holds a password and can be read by others (mode {:o}): run chmod 600 on it, \
                 or use password_env / password_command",
                path.display(),
                mode & 0o777
            ));
        }
    }
    Ok(file)
}

/// Apply `--context NAME` to the parsed command line: the context fills what the flags leave
/// unset (flags override the file).
///
/// # Errors
/// No config file, no such context, a password source that fails.
pub fn apply(cli: &mut Cli) -> Result<(), String> {
    apply_with(cli, true)
}

/// [`apply`]; `interactive`: a `password_command` may use the terminal (not from the
/// dashboard, whose screen it would garble).
fn apply_with(cli: &mut Cli, interactive: bool) -> Result<(), String> {
    if cli.switch_base.is_none() {
        cli.switch_base = cli.conn_args().map(|c| SwitchBase {
            connect_timeout_ms: c.connect_timeout,
            timeout_ms: c.timeout,
            max_reply_bytes: c.max_reply_bytes,
            read_only: c.read_only,
            interval_secs: cli.ui.interval,
            current: cli.context.clone(),
        });
    }
    let Some(name) = cli.context.clone() else {
        return Ok(());
    };
    let path = config_path().ok_or("no config directory; set SLOTSCOPE_CONFIG")?;
    let file = load(&path)?;
    let ctx = file.contexts.get(&name).ok_or_else(|| {
        let names: Vec<&str> = file.contexts.keys().map(String::as_str).collect();
        format!(
            "no context `{name}` in {} (contexts: {})",
            path.display(),
            names.join(", ")
        )
    })?;
    if let Some(i) = ctx.interval
        && (cli.ui.interval - 1.0).abs() < f64::EPSILON
    {
        cli.ui.interval = i;
    }
    cli.context_label = ctx
        .label
        .clone()
        .or_else(|| Some(name.clone()))
        .map(|l| (l, ctx.color.clone()));
    let Some(conn) = cli.conn_args_mut() else {
        return Ok(());
    };
    if conn.seeds.is_empty() && conn.host.is_none() && conn.port.is_none() && conn.uri.is_none() {
        conn.seeds.clone_from(&ctx.seeds);
    }
    if conn.user.is_none() {
        conn.user.clone_from(&ctx.user);
    }
    if conn.pass.is_none() && !conn.askpass {
        conn.pass = password(&name, ctx, interactive)?;
    }
    let tls = &mut conn.tls;
    tls.tls |= ctx.tls;
    tls.insecure |= ctx.insecure;
    tls.cacert = tls.cacert.take().or_else(|| ctx.cacert.clone());
    tls.cacertdir = tls.cacertdir.take().or_else(|| ctx.cacertdir.clone());
    tls.cert = tls.cert.take().or_else(|| ctx.cert.clone());
    tls.key = tls.key.take().or_else(|| ctx.key.clone());
    tls.sni = tls.sni.take().or_else(|| ctx.sni.clone());
    conn.remap.extend(ctx.remap.iter().cloned());
    conn.prefer_hostname |= ctx.prefer_hostname;
    conn.read_only |= ctx.read_only;
    Ok(())
}

/// The context's password, from its source.
fn password(name: &str, ctx: &Context, interactive: bool) -> Result<Option<String>, String> {
    if let Some(var) = &ctx.password_env {
        return match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(v)),
            _ => Err(format!(
                "context `{name}`: the environment variable {var} (password_env) is not set"
            )),
        };
    }
    if let Some(cmd) = &ctx.password_command {
        let terminal = || {
            if interactive {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            }
        };
        let out = std::process::Command::new("sh")
            .args(["-c", cmd])
            .stdin(terminal())
            .stderr(terminal())
            .output()
            .map_err(|e| format!("context `{name}`: cannot run password_command: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "context `{name}`: password_command failed ({})",
                out.status
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let pw = text.lines().next().unwrap_or_default().to_owned();
        if pw.is_empty() {
            return Err(format!(
                "context `{name}`: password_command printed nothing"
            ));
        }
        return Ok(Some(pw));
    }
    Ok(ctx.password.clone())
}

/// What `:ctx NAME` in the dashboard keeps of the command line: the timeouts, the reply
/// limit, `--read-only` and `--interval` as given; the context brings everything else (seeds,
/// credentials, TLS, remaps, its own read-only, label and colour).
#[derive(Clone, Debug, PartialEq)]
pub struct SwitchBase {
    /// `--connect-timeout` in milliseconds.
    pub connect_timeout_ms: u64,
    /// `--timeout` in milliseconds.
    pub timeout_ms: u64,
    /// `--max-reply-bytes`.
    pub max_reply_bytes: usize,
    /// `--read-only` on the command line (stays on in every context).
    pub read_only: bool,
    /// `--interval` as given (the default lets a context set its own).
    pub interval_secs: f64,
    /// The context the dashboard started with.
    pub current: Option<String>,
}

/// A context the dashboard switches to: the connection, its interval and its label.
#[derive(Clone, Debug)]
pub struct Switched {
    /// Seeds, credentials, TLS, remaps, read-only.
    pub connect: crate::refresh::ConnectOptions,
    /// The refresh interval.
    pub interval: std::time::Duration,
    /// The label and colour for the header.
    pub label: Option<(String, Option<String>)>,
}

/// The context names of the config file, or why there are none.
///
/// # Errors
/// No config directory, an unreadable or bad file.
pub fn names() -> Result<Vec<String>, String> {
    let path = config_path().ok_or("no config directory; set SLOTSCOPE_CONFIG")?;
    if !path.exists() {
        return Err(format!(
            "no config file at {} (see docs/connecting.md)",
            path.display()
        ));
    }
    Ok(load(&path)?.contexts.into_keys().collect())
}

/// Resolve context `name` for `:ctx NAME`: the file is read again (it may have changed), the
/// command line's [`SwitchBase`] is kept, a `password_command` runs without the terminal.
///
/// # Errors
/// No such context, a password source that fails, options that do not parse.
pub fn resolve_switch(name: &str, base: &SwitchBase) -> Result<Switched, String> {
    let mut args = vec![
        "slotscope".to_owned(),
        "--connect-timeout".to_owned(),
        base.connect_timeout_ms.to_string(),
        "--timeout".to_owned(),
        base.timeout_ms.to_string(),
        "--max-reply-bytes".to_owned(),
        base.max_reply_bytes.to_string(),
        "--interval".to_owned(),
        base.interval_secs.to_string(),
        "--context".to_owned(),
        name.to_owned(),
    ];
    if base.read_only {
        args.push("--read-only".to_owned());
    }
    let mut cli = <Cli as clap::Parser>::try_parse_from(&args).map_err(|e| e.to_string())?;
    cli.switch_base = Some(base.clone());
    apply_with(&mut cli, false)?;
    // A password taken from this process's own command line belongs to the first cluster.
    cli.conn.ignore_argv_auth = true;
    let connect = cli.conn.connect_options()?;
    let interval = cli.dashboard_settings().interval()?;
    Ok(Switched {
        connect,
        interval,
        label: cli.context_label,
    })
}

/// `slotscope contexts`: one line per context (name, label, seeds, read-only, TLS).
///
/// # Errors
/// stdout failed.
pub fn list() -> color_eyre::Result<ExitCode> {
    let Some(path) = config_path() else {
        eprintln!("slotscope: no config directory; set SLOTSCOPE_CONFIG");
        return Ok(ExitCode::UNOBSERVABLE);
    };
    let file = match load(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("slotscope: {e}");
            return Ok(ExitCode::UNOBSERVABLE);
        }
    };
    print!("{}", list_text(&file));
    Ok(ExitCode::OK)
}

/// The listing, one context per line.
#[must_use]
pub fn list_text(file: &ConfigFile) -> String {
    let mut s = String::new();
    for (name, c) in &file.contexts {
        let mut tags = Vec::new();
        if let Some(l) = &c.label {
            tags.push(format!("label={l}"));
        }
        if c.tls {
            tags.push("tls".to_owned());
        }
        if c.read_only {
            tags.push("read-only".to_owned());
        }
        s.push_str(&format!(
            "{name:<16} {}  {}\n",
            c.seeds.join(" "),
            tags.join(" ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
[contexts.prod]
seeds = ["10.0.0.5:6379", "10.0.0.6:6379"]
user = "ops"
password_env = "PROD_REDIS_PASSWORD"
tls = true
cacert = "/etc/ssl/prod-ca.pem"
remap = ["10.0.0.5:6379=127.0.0.1:16379"]
read_only = true
label = "PROD"
color = "red"

[contexts.staging]
seeds = ["127.0.0.1:7000"]
interval = 2.5
"#;

    #[test]
    fn the_documented_shape_parses() {
        let f = parse_config(TWO).expect("parse");
        let p = &f.contexts["prod"];
        assert_eq!(p.seeds.len(), 2);
        assert!(p.tls && p.read_only);
        assert_eq!(p.color.as_deref(), Some("red"));
        assert_eq!(f.contexts["staging"].interval, Some(2.5));
        let text = list_text(&f);
        assert!(
            text.contains("prod") && text.contains("label=PROD read-only")
                || text.contains("label=PROD tls read-only"),
            "{text}"
        );
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(parse_config("[contexts.a]\nseeds = 3").is_err());
        assert!(parse_config("[contexts.a]\nbogus = 1").is_err());
        let e = parse_config("[contexts.a]\npassword = \"x\"\npassword_env = \"Y\"").unwrap_err();
        assert!(e.contains("one of"), "{e}");
    }

    #[test]
    fn a_password_in_a_readable_file_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "[contexts.a]\nseeds = [\"h:1\"]\npassword = \"s3cret\"\n",
        )
        .expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = load(&p).unwrap_err();
        assert!(e.contains("chmod 600") && !e.contains("s3cret"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(load(&p).is_ok());
    }
}
