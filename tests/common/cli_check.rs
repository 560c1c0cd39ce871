//! `redis-cli --cluster check` as an independent judge of a lab cluster: the verdict of the
//! tool every Redis operator knows, next to slotscope's own.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use slotscope::cluster::types::Endpoint;

/// What `redis-cli --cluster check` said about a cluster.
#[derive(Debug)]
pub struct CliCheck {
    /// Its exit code (`None`: killed after the timeout, e.g. a paused node never answered).
    pub code: Option<i32>,
    /// Its output, colours removed.
    pub output: String,
}

impl CliCheck {
    /// The lines that are not `[OK]`: every `[WARNING]` and `[ERR]`, and the connection errors.
    #[must_use]
    pub fn problems(&self) -> Vec<&str> {
        self.output
            .lines()
            .filter(|l| {
                l.contains("[WARNING]") || l.contains("[ERR]") || l.contains("Could not connect")
            })
            .collect()
    }

    /// Exit 0 and no warning or error line.
    #[must_use]
    pub fn clean(&self) -> bool {
        self.code == Some(0) && self.problems().is_empty()
    }
}

/// Run `redis-cli --cluster check` against `node` (with `password`, if any), killing it after
/// `timeout` (it waits forever on a node that accepts connections and never answers).
///
/// # Panics
/// `redis-cli` cannot be started.
#[must_use]
pub fn cluster_check(node: &Endpoint, password: Option<&str>, timeout: Duration) -> CliCheck {
    let mut cmd = Command::new(redis_cli());
    cmd.args(["--no-auth-warning", "--cluster", "check"])
        .arg(format!("{}:{}", node.host, node.port))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(pw) = password {
        cmd.env("REDISCLI_AUTH", pw);
    }
    let mut child = cmd
        .spawn()
        .expect("redis-cli starts (apt-get install redis-tools)");
    // Read both pipes while it runs, so a long output never blocks it.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait for redis-cli") {
            break status.code();
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut raw = out.join().unwrap_or_default();
    raw.push_str(&err.join().unwrap_or_default());
    CliCheck {
        code,
        output: strip_ansi(&raw),
    }
}

/// `$REDIS_CLI`, else `redis-cli` on the `PATH`.
fn redis_cli() -> String {
    std::env::var("REDIS_CLI").unwrap_or_else(|_| "redis-cli".to_owned())
}

/// The text without its `ESC [ … m` colour sequences.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
