//! The event loop's side of the `:` line and of `y`: node commands run in their own tasks on
//! a connection pool of their own that is always read-only (the central guard refuses any
//! command that is not a read before a byte is sent), with the dashboard's connect and
//! command timeouts; each reply comes back over a channel as a [`NodeReply`]. Copies go to
//! the terminal as OSC 52 ([`super::clipboard`]).

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use redis::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::app::console::{NodeReply, NodeRequest};
use crate::cluster::commands::{classify, command_name};
use crate::refresh::conn::sanitize;
use crate::refresh::{ConnectOptions, Connector, Secret};

/// Replies waiting for the loop.
pub const REPLY_CHANNEL_CAPACITY: usize = 16;

/// Where copied text goes: the terminal (OSC 52), or a test's sink.
pub type ClipboardSink = Box<dyn FnMut(&str) -> std::io::Result<()> + Send>;

/// Runs node commands and copies for the loop.
pub struct ConsoleRunner {
    connector: Arc<Connector>,
    tx: mpsc::Sender<NodeReply>,
    pub(super) rx: Option<mpsc::Receiver<NodeReply>>,
    clipboard: ClipboardSink,
    /// `:ctx NAME`, when the dashboard has contexts.
    pub(super) contexts: Option<super::context_switch::ContextSwitch>,
    switch_tx: mpsc::Sender<super::context_switch::Resolved>,
    /// Resolved contexts, for the loop.
    pub(super) switch_rx: Option<mpsc::Receiver<super::context_switch::Resolved>>,
}

impl std::fmt::Debug for ConsoleRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleRunner").finish_non_exhaustive()
    }
}

impl ConsoleRunner {
    /// A runner with the dashboard's connection options, made read-only whatever they say.
    #[must_use]
    pub fn new(opts: &ConnectOptions, clipboard: ClipboardSink) -> Self {
        let mut opts = opts.clone();
        opts.read_only = true;
        let (tx, rx) = mpsc::channel(REPLY_CHANNEL_CAPACITY);
        let (switch_tx, switch_rx) = mpsc::channel(1);
        Self {
            connector: Connector::shared(opts),
            tx,
            rx: Some(rx),
            clipboard,
            contexts: None,
            switch_tx,
            switch_rx: Some(switch_rx),
        }
    }

    /// Start resolving context `name` in a task of `tasks` (see
    /// [`super::context_switch::ContextSwitch::start`]). Returns whether there are contexts.
    pub fn start_switch(&self, tasks: &mut JoinSet<()>, name: String) -> bool {
        let Some(c) = &self.contexts else {
            return false;
        };
        c.start(tasks, self.switch_tx.clone(), name);
        true
    }

    /// Run a request in a task of `tasks`; its reply comes back on the channel.
    pub fn spawn(&self, tasks: &mut JoinSet<()>, req: NodeRequest) {
        let conn = Arc::clone(&self.connector);
        let tx = self.tx.clone();
        tasks.spawn(async move {
            let reply = run_request(&conn, req).await;
            let _ = tx.send(reply).await;
        });
    }

    /// Copy text to the clipboard.
    ///
    /// # Errors
    /// When the terminal cannot be written.
    pub fn copy(&mut self, text: &str) -> std::io::Result<()> {
        (self.clipboard)(text)
    }
}

/// The terminal's clipboard: OSC 52 on stdout.
#[must_use]
pub fn terminal_clipboard() -> ClipboardSink {
    Box::new(|text: &str| {
        let mut out = std::io::stdout().lock();
        out.write_all(super::clipboard::osc52(text).as_bytes())?;
        out.flush()
    })
}

/// Run every command of a request in turn. A command that is not a read is never sent (the
/// pool's guard would refuse it too). The whole request is bounded by the timeouts.
pub async fn run_request(conn: &Connector, req: NodeRequest) -> NodeReply {
    let opts = conn.options();
    let n = u32::try_from(req.commands.len()).unwrap_or(u32::MAX);
    let bound = opts.connect_timeout
        + opts.command_timeout.saturating_mul(n.saturating_mul(2))
        + Duration::from_secs(1);
    let pw = opts.password.clone();
    let result = match tokio::time::timeout(bound, run_commands(conn, &req, pw.as_ref())).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "{} did not answer within {} ms",
            req.endpoint,
            bound.as_millis()
        )),
    };
    NodeReply { id: req.id, result }
}

async fn run_commands(
    conn: &Connector,
    req: &NodeRequest,
    pw: Option<&Secret>,
) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let several = req.commands.len() > 1;
    for c in &req.commands {
        let class = classify(c);
        if class != crate::cluster::commands::CommandClass::Read {
            return Err(format!(
                "refused: {} is {}, not sent",
                command_name(c),
                class.words()
            ));
        }
        if several {
            lines.push(format!("> {}", c.join(" ")));
        }
        match conn.command(&req.endpoint, c).await {
            Ok(v) => {
                let table = match command_name(c).as_str() {
                    "SLOWLOG GET" => super::reply_views::slowlog_lines(&v),
                    "LATENCY LATEST" => super::reply_views::latency_latest_lines(&v),
                    _ => None,
                };
                let mut out = Vec::new();
                match table {
                    Some(t) => out = t,
                    None => format_value(&v, 0, &mut out),
                }
                if command_name(c) == "CONFIG GET" {
                    mask_config_secrets(&mut out);
                }
                lines.extend(out.into_iter().map(|l| sanitize(&l, pw)));
            }
            Err(e) => {
                let e = sanitize(&e.to_string(), pw);
                lines.push(format!("(error) {e}"));
                errors.push(e);
            }
        }
        if several {
            lines.push(String::new());
        }
    }
    if errors.len() == req.commands.len() {
        return Err(errors.join("; "));
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    Ok(lines)
}

/// `CONFIG GET` answers name, value, name, value: values of parameters that hold a secret
/// (`requirepass`, `masterauth`, ...) are shown as `***`.
fn mask_config_secrets(lines: &mut [String]) {
    let secret = |l: &str| {
        let l = l.to_ascii_lowercase();
        l.contains("pass") || l.contains("auth") || l.contains("secret")
    };
    for i in 1..lines.len() {
        if secret(&lines[i - 1]) && !secret(&lines[i]) {
            let (num, _) = split_number(&lines[i]);
            lines[i] = format!("{num}***");
        }
    }
}

fn split_number(l: &str) -> (&str, &str) {
    match l.find(") ") {
        Some(i) if l[..i].trim().chars().all(|c| c.is_ascii_digit()) => l.split_at(i + 2),
        _ => ("", l),
    }
}

/// A reply as `redis-cli` prints it: text split into lines, `(integer) 5`, `(nil)`,
/// numbered and indented arrays, `key => value` maps.
pub fn format_value(v: &Value, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    match v {
        Value::Nil => out.push(format!("{pad}(nil)")),
        Value::Int(n) => out.push(format!("{pad}(integer) {n}")),
        Value::Double(d) => out.push(format!("{pad}(double) {d}")),
        Value::Boolean(b) => out.push(format!("{pad}({b})")),
        Value::Okay => out.push(format!("{pad}OK")),
        Value::SimpleString(s) => out.push(format!("{pad}{s}")),
        Value::BulkString(b) => text_lines(&String::from_utf8_lossy(b), &pad, out),
        Value::VerbatimString { text, .. } => text_lines(text, &pad, out),
        Value::ServerError(e) => out.push(format!(
            "{pad}(error) {} {}",
            e.code(),
            e.details().unwrap_or_default()
        )),
        Value::Array(items) | Value::Set(items) => {
            if items.is_empty() {
                out.push(format!("{pad}(empty array)"));
            }
            let w = items.len().to_string().len();
            for (i, item) in items.iter().enumerate() {
                let mut sub = Vec::new();
                format_value(item, indent + w + 2, &mut sub);
                let head = format!("{pad}{:>w$}) ", i + 1);
                match sub.first_mut() {
                    Some(first) => {
                        *first = format!("{head}{}", first.trim_start());
                    }
                    None => sub.push(head),
                }
                out.extend(sub);
            }
        }
        Value::Map(pairs) => {
            for (k, val) in pairs {
                let mut key = Vec::new();
                format_value(k, 0, &mut key);
                let mut sub = Vec::new();
                format_value(val, indent + 2, &mut sub);
                out.push(format!("{pad}{} =>", key.join(" ")));
                out.extend(sub);
            }
        }
        other => out.push(format!("{pad}{other:?}")),
    }
}

fn text_lines(text: &str, pad: &str, out: &mut Vec<String>) {
    if text.is_empty() {
        out.push(format!("{pad}\"\""));
        return;
    }
    for l in text.lines() {
        out.push(format!("{pad}{}", l.trim_end_matches('\r')));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn replies_read_like_redis_cli() {
        let mut out = Vec::new();
        format_value(&bulk("# Replication\r\nrole:master\r\n"), 0, &mut out);
        assert_eq!(out, vec!["# Replication", "role:master"]);
        let mut out = Vec::new();
        let v = Value::Array(vec![
            Value::Array(vec![Value::Int(3), Value::Int(1_700_000_000), bulk("KEYS")]),
            Value::Nil,
        ]);
        format_value(&v, 0, &mut out);
        assert_eq!(
            out,
            vec![
                "1) 1) (integer) 3",
                "   2) (integer) 1700000000",
                "   3) KEYS",
                "2) (nil)"
            ]
        );
        let mut out = Vec::new();
        format_value(&Value::Array(vec![]), 0, &mut out);
        assert_eq!(out, vec!["(empty array)"]);
    }

    #[test]
    fn config_secrets_are_masked() {
        let mut out = Vec::new();
        let v = Value::Array(vec![
            bulk("requirepass"),
            bulk("hunter2"),
            bulk("maxmemory"),
            bulk("0"),
        ]);
        format_value(&v, 0, &mut out);
        mask_config_secrets(&mut out);
        assert_eq!(
            out,
            vec!["1) requirepass", "2) ***", "3) maxmemory", "4) 0"]
        );
    }

    #[tokio::test]
    async fn a_write_is_never_sent() {
        // Nothing listens on port 1: a command that was sent would fail to connect instead.
        let conn = Connector::new(ConnectOptions::new(vec![]));
        let req = NodeRequest {
            id: 7,
            endpoint: crate::cluster::types::Endpoint::new("127.0.0.1", 1),
            commands: vec![vec!["SET".to_owned(), "k".to_owned(), "v".to_owned()]],
        };
        let r = run_request(&conn, req).await;
        assert_eq!(r.id, 7);
        let e = r.result.expect_err("refused");
        assert!(e.starts_with("refused: SET is a write"), "{e}");
    }
}
