//! Connections to nodes, the read-only write guard, and error classification.
//!
//! One long-lived [`redis::aio::MultiplexedConnection`] per node endpoint is kept in a
//! [`Connector`] across refresh cycles. Every call is bounded twice: by redis-rs' own
//! connection/response timeouts and by an outer [`tokio::time::timeout`]. After any
//! connection-level failure (timeout, I/O error, garbled reply) the connection is dropped, so
//! the next call reconnects; an error *reply* from the server keeps it.
//!
//! All commands from slotscope — the probe's reads and the fix executor's writes — go through
//! [`Connector::command`] / [`Connector::pipeline`] (or their `_with_timeout` forms, for calls
//! such as `MIGRATE` that may legitimately outlast the reply timeout), which enforce the
//! read-only guard before any I/O and log every write (with secrets masked) to `tracing`.
//!
//! `AUTH` is sent by this module right after the TCP connect (the password is not handed to
//! redis-rs), so that a node that accepts TCP but never answers is reported as unresponsive
//! rather than as a connect timeout, and so that the server's own refusal text (`WRONGPASS …`)
//! is kept. Every error string is passed through a sanitiser that replaces the password.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, Value};

use super::target::{ConnectOptions, Secret};
use crate::cluster::types::{Endpoint, ProbeError};

/// Why a command could not be run or got no useful reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Read-only mode refused the command before anything was sent.
    ReadOnlyRefused {
        /// The command name (e.g. `SET`, `CLUSTER SETSLOT`).
        command: String,
    },
    /// No connection could be made (refused, connect timeout, authentication).
    Connect(ProbeError),
    /// Connected, but no reply within the command timeout.
    Timeout {
        /// The command name.
        command: String,
    },
    /// The connection broke while the command was in flight.
    Io(String),
    /// The server answered with an error reply.
    Server {
        /// The error code, e.g. `ERR`, `NOAUTH`, `LOADING`, `MOVED`.
        code: String,
        /// The rest of the error line.
        message: String,
    },
    /// The reply could not be understood.
    Protocol(String),
}

impl CommandError {
    /// The per-node error this failure means for a probe.
    #[must_use]
    pub fn to_probe_error(&self) -> ProbeError {
        match self {
            Self::ReadOnlyRefused { command } => {
                ProbeError::Other(format!("{command} refused by read-only mode"))
            }
            Self::Connect(p) => p.clone(),
            Self::Timeout { command } => ProbeError::Unresponsive(command.clone()),
            Self::Io(e) => ProbeError::ConnectFailed(e.clone()),
            Self::Server { code, message } => classify_server_error(code, message),
            Self::Protocol(e) => ProbeError::Protocol(e.clone()),
        }
    }

    /// True for failures that say nothing about the command itself but about the link
    /// (the connection is dropped after them).
    #[must_use]
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Self::Connect(_) | Self::Timeout { .. } | Self::Io(_) | Self::Protocol(_)
        )
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadOnlyRefused { command } => write!(
                f,
                "{command} refused: slotscope runs in read-only mode (nothing was sent)"
            ),
            Self::Connect(p) => write!(f, "{p}"),
            Self::Timeout { command } => write!(f, "no reply to {command} within the timeout"),
            Self::Io(e) => write!(f, "connection lost: {e}"),
            Self::Server { code, message } if message.is_empty() => f.write_str(code),
            Self::Server { code, message } => write!(f, "{code} {message}"),
            Self::Protocol(e) => write!(f, "unexpected reply: {e}"),
        }
    }
}

impl std::error::Error for CommandError {}

/// Map a server error reply to a per-node error.
#[must_use]
pub fn classify_server_error(code: &str, message: &str) -> ProbeError {
    let full = if message.is_empty() {
        code.to_owned()
    } else {
        format!("{code} {message}")
    };
    match code {
        "NOAUTH" => ProbeError::AuthRequired,
        "WRONGPASS" => ProbeError::AuthFailed(full),
        "LOADING" => ProbeError::Loading,
        _ => {
            let lower = message.to_ascii_lowercase();
            if lower.contains("cluster support disabled") {
                ProbeError::NotCluster { version: None }
            } else if lower.contains("invalid password")
                || lower.contains("called without any password configured")
                || lower.contains("invalid username-password")
            {
                ProbeError::AuthFailed(full)
            } else {
                ProbeError::Other(full)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The read-only guard

/// Commands that never change data or cluster state. Matched on the command name, plus the
/// subcommand for container commands (`CLUSTER`, `CONFIG`, ...), see [`command_name`].
const READ_COMMANDS: &[&str] = &[
    "PING",
    // Only flags the connection so the next command is served for an importing slot.
    "ASKING",
    "ECHO",
    "INFO",
    "TIME",
    "ROLE",
    "LASTSAVE",
    "DBSIZE",
    "GET",
    "MGET",
    "STRLEN",
    "GETRANGE",
    "EXISTS",
    "TYPE",
    "DUMP",
    "TTL",
    "PTTL",
    "EXPIRETIME",
    "PEXPIRETIME",
    "SCAN",
    "RANDOMKEY",
    "HGET",
    "HLEN",
    "HKEYS",
    "HGETALL",
    "HSCAN",
    "LLEN",
    "LRANGE",
    "SCARD",
    "SMEMBERS",
    "SSCAN",
    "ZCARD",
    "ZRANGE",
    "ZSCAN",
    "XLEN",
    "CLUSTER NODES",
    "CLUSTER INFO",
    "CLUSTER SLOTS",
    "CLUSTER SHARDS",
    "CLUSTER COUNTKEYSINSLOT",
    "CLUSTER GETKEYSINSLOT",
    "CLUSTER MYID",
    "CLUSTER MYSHARDID",
    "CLUSTER KEYSLOT",
    "CLUSTER LINKS",
    "CLUSTER REPLICAS",
    "CLUSTER SLAVES",
    "CLUSTER COUNT-FAILURE-REPORTS",
    "CONFIG GET",
    "CLIENT LIST",
    "CLIENT INFO",
    "CLIENT GETNAME",
    "CLIENT ID",
    "MEMORY USAGE",
    "MEMORY STATS",
    "OBJECT ENCODING",
    "OBJECT FREQ",
    "OBJECT IDLETIME",
    "OBJECT REFCOUNT",
    "SLOWLOG GET",
    "SLOWLOG LEN",
    "LATENCY LATEST",
    "LATENCY HISTORY",
    "COMMAND COUNT",
    "COMMAND INFO",
    "COMMAND DOCS",
];

/// Commands whose second word is part of the name.
const CONTAINER_COMMANDS: &[&str] = &[
    "CLUSTER", "CONFIG", "CLIENT", "MEMORY", "OBJECT", "SLOWLOG", "LATENCY", "COMMAND", "ACL",
    "DEBUG", "SCRIPT", "FUNCTION", "MODULE", "XINFO", "PUBSUB",
];

/// The command's name in upper case: `GET`, or `CLUSTER SETSLOT` for container commands.
#[must_use]
pub fn command_name(args: &[String]) -> String {
    let Some(first) = args.first() else {
        return String::new();
    };
    let first = first.to_ascii_uppercase();
    if CONTAINER_COMMANDS.contains(&first.as_str())
        && let Some(sub) = args.get(1)
    {
        return format!("{first} {}", sub.to_ascii_uppercase());
    }
    first
}

/// True if the command is on the read allowlist.
#[must_use]
pub fn is_read_command(args: &[String]) -> bool {
    let name = command_name(args);
    READ_COMMANDS.contains(&name.as_str())
}

/// The read-only guard: in read-only mode only allowlisted read commands pass.
///
/// # Errors
/// [`CommandError::ReadOnlyRefused`] for any other command (and for an empty command).
pub fn check_allowed(read_only: bool, args: &[String]) -> Result<(), CommandError> {
    if args.is_empty() {
        return Err(CommandError::Protocol("empty command".into()));
    }
    if read_only && !is_read_command(args) {
        return Err(CommandError::ReadOnlyRefused {
            command: command_name(args),
        });
    }
    Ok(())
}

/// The command as text for logs, with secrets masked: `AUTH`/`HELLO … AUTH` credentials,
/// `MIGRATE … AUTH pw` / `AUTH2 user pw`, `CONFIG SET requirepass|masterauth …`, and any
/// argument equal to the configured password.
#[must_use]
pub fn redact_args(args: &[String], password: Option<&Secret>) -> String {
    let name = command_name(args);
    let mut out: Vec<String> = args.iter().map(|a| quote_arg(a)).collect();
    let mask = |out: &mut Vec<String>, i: usize| {
        if let Some(a) = out.get_mut(i) {
            "***".clone_into(a);
        }
    };
    match name.as_str() {
        "AUTH" => {
            for i in 1..out.len() {
                mask(&mut out, i);
            }
        }
        "CONFIG SET" => {
            let mut i = 2;
            while i < args.len() {
                let key = args[i].to_ascii_lowercase();
                if key.contains("pass") || key.contains("auth") || key == "masteruser" {
                    mask(&mut out, i + 1);
                }
                i += 2;
            }
        }
        _ => {
            let mut i = 1;
            while i < args.len() {
                match args[i].to_ascii_uppercase().as_str() {
                    "AUTH" if name == "MIGRATE" => {
                        mask(&mut out, i + 1);
                        i += 2;
                    }
                    "AUTH" if name == "HELLO" => {
                        mask(&mut out, i + 1);
                        mask(&mut out, i + 2);
                        i += 3;
                    }
                    "AUTH2" if name == "MIGRATE" => {
                        mask(&mut out, i + 2);
                        i += 3;
                    }
                    _ => i += 1,
                }
            }
        }
    }
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        for (a, o) in args.iter().zip(out.iter_mut()) {
            if a == pw.expose() {
                "***".clone_into(o);
            }
        }
    }
    out.join(" ")
}

fn quote_arg(a: &str) -> String {
    if !a.is_empty() && a.chars().all(|c| c.is_ascii_graphic() && c != '"') {
        a.to_owned()
    } else {
        format!("{a:?}")
    }
}

/// Replace every occurrence of the password in a message by `***`.
#[must_use]
pub fn sanitize(message: &str, password: Option<&Secret>) -> String {
    match password.filter(|p| !p.is_empty()) {
        Some(pw) => message.replace(pw.expose(), "***"),
        None => message.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Reply helpers

/// The text of a string-like reply (bulk, simple, verbatim).
///
/// # Errors
/// [`CommandError::Protocol`] for any other reply type.
pub fn value_text(v: &Value) -> Result<String, CommandError> {
    match v {
        Value::BulkString(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) | Value::VerbatimString { text: s, .. } => Ok(s.clone()),
        Value::Okay => Ok("OK".into()),
        other => Err(CommandError::Protocol(format!(
            "expected a string reply, got {}",
            value_kind(other)
        ))),
    }
}

/// The integer of an integer reply.
///
/// # Errors
/// [`CommandError::Protocol`] for any other reply type.
pub fn value_int(v: &Value) -> Result<i64, CommandError> {
    match v {
        Value::Int(n) => Ok(*n),
        other => Err(CommandError::Protocol(format!(
            "expected an integer reply, got {}",
            value_kind(other)
        ))),
    }
}

/// An error reply inside a pipeline result, as a [`CommandError::Server`].
#[must_use]
pub fn value_error(v: &Value) -> Option<CommandError> {
    match v {
        Value::ServerError(e) => Some(CommandError::Server {
            code: e.code().to_owned(),
            message: e.details().unwrap_or_default().to_owned(),
        }),
        _ => None,
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Int(_) => "integer",
        Value::BulkString(_) => "bulk string",
        Value::Array(_) => "array",
        Value::SimpleString(_) => "status",
        Value::Okay => "OK",
        Value::Map(_) => "map",
        Value::Set(_) => "set",
        Value::Double(_) => "double",
        Value::Boolean(_) => "boolean",
        Value::ServerError(_) => "error",
        _ => "other",
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

/// One long-lived connection to one node (cheap to clone: clones share the socket).
#[derive(Clone)]
pub struct NodeConn {
    endpoint: Endpoint,
    conn: MultiplexedConnection,
}

impl fmt::Debug for NodeConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeConn")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl NodeConn {
    /// Connect (bounded by the connect timeout) and authenticate (bounded by the command
    /// timeout) if a password is set.
    ///
    /// # Errors
    /// The classified failure: `ConnectFailed`, `ConnectTimeout`, `Unresponsive("AUTH")`,
    /// `AuthFailed`, ... Messages never contain the password.
    pub async fn connect(endpoint: &Endpoint, opts: &ConnectOptions) -> Result<Self, ProbeError> {
        let pw = opts.password.as_ref();
        let info = ConnectionAddr::Tcp(endpoint.host.clone(), endpoint.port)
            .into_connection_info()
            .map_err(|e| ProbeError::ConnectFailed(sanitize(&e.to_string(), pw)))?;
        let redis_settings = info.redis_settings().clone().set_skip_set_lib_name();
        let info = info.set_redis_settings(redis_settings);
        let client = Client::open(info)
            .map_err(|e| ProbeError::ConnectFailed(sanitize(&e.to_string(), pw)))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(opts.connect_timeout))
            .set_response_timeout(Some(opts.command_timeout));
        let conn = match tokio::time::timeout(
            opts.connect_timeout,
            client.get_multiplexed_async_connection_with_config(&config),
        )
        .await
        {
            Err(_) => return Err(ProbeError::ConnectTimeout),
            Ok(Err(e)) => return Err(classify_connect_error(&e, pw)),
            Ok(Ok(c)) => c,
        };
        let mut node = Self {
            endpoint: endpoint.clone(),
            conn,
        };
        if let Some(password) = pw {
            let mut auth = vec!["AUTH".to_owned()];
            if let Some(user) = &opts.user {
                auth.push(user.clone());
            }
            auth.push(password.expose().to_owned());
            match node.send(&auth, opts, opts.command_timeout).await {
                Ok(_) => {}
                Err(CommandError::Server { code, message }) => {
                    let msg = sanitize(&message, pw);
                    return Err(match classify_server_error(&code, &msg) {
                        ProbeError::Other(full) => ProbeError::AuthFailed(full),
                        p => p,
                    });
                }
                Err(e) => return Err(e.to_probe_error()),
            }
        }
        Ok(node)
    }

    /// The endpoint this connection goes to.
    #[must_use]
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// A handle on the same socket whose redis-rs response timeout is `timeout` (clones share
    /// the socket; the timeout is per handle), so one long call does not change the others.
    fn with_response_timeout(
        &self,
        timeout: Duration,
        opts: &ConnectOptions,
    ) -> MultiplexedConnection {
        let mut conn = self.conn.clone();
        if timeout != opts.command_timeout {
            conn.set_response_timeout(timeout);
        }
        conn
    }

    /// Send one command, waiting at most `timeout` for the reply (no guard, no logging: use
    /// [`Connector::command`] or [`Connector::command_with_timeout`]).
    async fn send(
        &mut self,
        args: &[String],
        opts: &ConnectOptions,
        timeout: Duration,
    ) -> Result<Value, CommandError> {
        let mut cmd = redis::Cmd::new();
        for a in args {
            cmd.arg(a.as_bytes());
        }
        let name = command_name(args);
        let pw = opts.password.as_ref();
        let mut conn = self.with_response_timeout(timeout, opts);
        match tokio::time::timeout(timeout, conn.send_packed_command(&cmd)).await {
            Err(_) => Err(CommandError::Timeout { command: name }),
            Ok(Err(e)) => Err(classify_command_error(&e, &name, pw)),
            Ok(Ok(v)) => match value_error(&v) {
                Some(CommandError::Server { code, message }) => Err(CommandError::Server {
                    code,
                    message: sanitize(&message, pw),
                }),
                Some(other) => Err(other),
                None => Ok(v),
            },
        }
    }

    /// Send several commands in one pipeline; error replies stay inside the result as
    /// [`Value::ServerError`] (see [`value_error`]).
    async fn send_pipeline(
        &mut self,
        cmds: &[Vec<String>],
        opts: &ConnectOptions,
        timeout: Duration,
    ) -> Result<Vec<Value>, CommandError> {
        let mut pipe = redis::pipe();
        for args in cmds {
            let mut cmd = redis::Cmd::new();
            for a in args {
                cmd.arg(a.as_bytes());
            }
            pipe.add_command(cmd);
        }
        let name = cmds.first().map_or_else(String::new, |a| command_name(a));
        let name = format!("pipeline of {} ({name}...)", cmds.len());
        let mut conn = self.with_response_timeout(timeout, opts);
        match tokio::time::timeout(timeout, conn.send_packed_commands(&pipe, 0, cmds.len())).await {
            Err(_) => Err(CommandError::Timeout { command: name }),
            Ok(Err(e)) => Err(classify_command_error(&e, &name, opts.password.as_ref())),
            Ok(Ok(v)) if v.len() == cmds.len() => Ok(v),
            Ok(Ok(v)) => Err(CommandError::Protocol(format!(
                "{} replies to a pipeline of {}",
                v.len(),
                cmds.len()
            ))),
        }
    }
}

fn classify_connect_error(e: &redis::RedisError, pw: Option<&Secret>) -> ProbeError {
    if e.is_timeout() {
        ProbeError::ConnectTimeout
    } else if e.is_connection_refusal() {
        ProbeError::ConnectFailed("connection refused".into())
    } else if e.is_io_error() {
        ProbeError::ConnectFailed(sanitize(&e.to_string(), pw))
    } else if let (Some(code), detail) = (e.code(), e.detail()) {
        classify_server_error(code, &sanitize(detail.unwrap_or_default(), pw))
    } else {
        ProbeError::ConnectFailed(sanitize(&e.to_string(), pw))
    }
}

fn classify_command_error(e: &redis::RedisError, name: &str, pw: Option<&Secret>) -> CommandError {
    if e.is_timeout() {
        return CommandError::Timeout {
            command: name.to_owned(),
        };
    }
    if matches!(e.kind(), redis::ErrorKind::Server(_))
        && let Some(code) = e.code()
    {
        return CommandError::Server {
            code: code.to_owned(),
            message: sanitize(e.detail().unwrap_or_default(), pw),
        };
    }
    if matches!(e.kind(), redis::ErrorKind::Parse) {
        return CommandError::Protocol(sanitize(&e.to_string(), pw));
    }
    CommandError::Io(sanitize(&e.to_string(), pw))
}

/// The shared connection pool and command gateway: one [`NodeConn`] per endpoint, kept across
/// refresh cycles and dropped after any connection-level error.
///
/// Cheap to share behind an [`Arc`]; every method takes `&self`.
#[derive(Debug)]
pub struct Connector {
    opts: ConnectOptions,
    conns: Mutex<HashMap<Endpoint, NodeConn>>,
}

impl Connector {
    /// A pool with no connections yet.
    #[must_use]
    pub fn new(opts: ConnectOptions) -> Self {
        Self {
            opts,
            conns: Mutex::new(HashMap::new()),
        }
    }

    /// A pool behind an [`Arc`], as the refresher and the fix executor share it.
    #[must_use]
    pub fn shared(opts: ConnectOptions) -> Arc<Self> {
        Arc::new(Self::new(opts))
    }

    /// The options this pool connects with.
    #[must_use]
    pub fn options(&self) -> &ConnectOptions {
        &self.opts
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Endpoint, NodeConn>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The existing connection to `ep`, or a new one.
    ///
    /// # Errors
    /// [`CommandError::Connect`] with the classified failure.
    pub async fn conn(&self, ep: &Endpoint) -> Result<NodeConn, CommandError> {
        Ok(self.conn_reused(ep).await?.0)
    }

    /// The connection, and whether it was already open (true) or made just now (false).
    async fn conn_reused(&self, ep: &Endpoint) -> Result<(NodeConn, bool), CommandError> {
        if let Some(c) = self.map().get(ep) {
            return Ok((c.clone(), true));
        }
        let c = NodeConn::connect(ep, &self.opts)
            .await
            .map_err(CommandError::Connect)?;
        self.map().insert(ep.clone(), c.clone());
        Ok((c, false))
    }

    /// Drop the connection to `ep` (the next call reconnects).
    pub fn disconnect(&self, ep: &Endpoint) {
        self.map().remove(ep);
    }

    /// Drop the connections to endpoints for which `keep` is false.
    pub fn retain(&self, keep: impl Fn(&Endpoint) -> bool) {
        self.map().retain(|ep, _| keep(ep));
    }

    /// Endpoints with an open connection.
    #[must_use]
    pub fn connected(&self) -> Vec<Endpoint> {
        let mut v: Vec<Endpoint> = self.map().keys().cloned().collect();
        v.sort();
        v
    }

    /// Send one command to one node: the guard first (read-only mode refuses writes before any
    /// I/O), then connect if needed, then the command bounded by the command timeout. Every
    /// write is logged with secrets masked. An error reply comes back as
    /// [`CommandError::Server`]; connection-level failures also drop the connection.
    ///
    /// # Errors
    /// See [`CommandError`].
    pub async fn command(&self, ep: &Endpoint, args: &[String]) -> Result<Value, CommandError> {
        self.command_with_timeout(ep, args, self.opts.command_timeout)
            .await
    }

    /// [`Self::command`] with its own reply timeout instead of the pool's `command_timeout`,
    /// for calls that legitimately take long (e.g. `MIGRATE` of a batch of big keys, bounded
    /// by its own server-side timeout). Same guard, logging, masking and error handling; the
    /// connect timeout and `AUTH` are unchanged. A zero `timeout` means the pool's timeout.
    ///
    /// # Errors
    /// See [`CommandError`].
    pub async fn command_with_timeout(
        &self,
        ep: &Endpoint,
        args: &[String],
        timeout: Duration,
    ) -> Result<Value, CommandError> {
        let timeout = if timeout.is_zero() {
            self.opts.command_timeout
        } else {
            timeout
        };
        check_allowed(self.opts.read_only, args)?;
        let write = !is_read_command(args);
        if write {
            tracing::info!(
                endpoint = %ep,
                command = %redact_args(args, self.opts.password.as_ref()),
                "sending write command"
            );
        }
        let (mut c, reused) = self.conn_reused(ep).await?;
        let mut r = c.send(args, &self.opts, timeout).await;
        // A kept connection found broken (the node restarted or died since the last cycle):
        // reconnect once, for reads only, so the error describes the node as it is now
        // ("connection refused") rather than the old socket ("broken pipe"). Writes are never
        // retried.
        if reused && !write && matches!(r, Err(CommandError::Io(_))) {
            self.disconnect(ep);
            let mut fresh = self.conn(ep).await?;
            r = fresh.send(args, &self.opts, timeout).await;
        }
        if let Err(e) = &r {
            if e.is_connection_error() {
                self.disconnect(ep);
            }
            if write {
                tracing::warn!(endpoint = %ep, error = %e, "write command failed");
            }
        }
        r
    }

    /// [`Self::command`] with `&str` arguments.
    ///
    /// # Errors
    /// See [`Self::command`].
    pub async fn command_strs(&self, ep: &Endpoint, args: &[&str]) -> Result<Value, CommandError> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        self.command(ep, &args).await
    }

    /// Send several commands to one node in one pipeline, bounded as a whole by the command
    /// timeout. Every command passes the guard first (one refused command refuses the whole
    /// pipeline, before any I/O). Error replies stay in the result as [`Value::ServerError`].
    ///
    /// # Errors
    /// See [`CommandError`].
    pub async fn pipeline(
        &self,
        ep: &Endpoint,
        cmds: &[Vec<String>],
    ) -> Result<Vec<Value>, CommandError> {
        self.pipeline_with_timeout(ep, cmds, self.opts.command_timeout)
            .await
    }

    /// [`Self::pipeline`] bounded by `timeout` instead of the pool's `command_timeout` (e.g.
    /// `DUMP` of big keys). A zero `timeout` means the pool's timeout.
    ///
    /// # Errors
    /// See [`CommandError`].
    pub async fn pipeline_with_timeout(
        &self,
        ep: &Endpoint,
        cmds: &[Vec<String>],
        timeout: Duration,
    ) -> Result<Vec<Value>, CommandError> {
        let timeout = if timeout.is_zero() {
            self.opts.command_timeout
        } else {
            timeout
        };
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        for args in cmds {
            check_allowed(self.opts.read_only, args)?;
        }
        for args in cmds.iter().filter(|a| !is_read_command(a)) {
            tracing::info!(
                endpoint = %ep,
                command = %redact_args(args, self.opts.password.as_ref()),
                "sending write command (pipelined)"
            );
        }
        let mut c = self.conn(ep).await?;
        let r = c.send_pipeline(cmds, &self.opts, timeout).await;
        if let Err(e) = &r
            && e.is_connection_error()
        {
            self.disconnect(ep);
        }
        r
    }
}

/// `Duration` as whole microseconds, saturating.
pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace-split; the token `""` stands for an empty argument.
    fn args(s: &str) -> Vec<String> {
        s.split_whitespace()
            .map(|t| {
                if t == "\"\"" {
                    String::new()
                } else {
                    t.to_owned()
                }
            })
            .collect()
    }

    #[test]
    fn command_names() {
        assert_eq!(command_name(&args("get k")), "GET");
        assert_eq!(
            command_name(&args("cluster setslot 5 stable")),
            "CLUSTER SETSLOT"
        );
        assert_eq!(command_name(&args("Config Get maxmemory")), "CONFIG GET");
        assert_eq!(command_name(&args("CLUSTER")), "CLUSTER");
        assert_eq!(command_name(&[]), "");
    }

    #[test]
    fn guard_allows_reads_in_read_only_mode() {
        for c in [
            "PING",
            "INFO server replication",
            "cluster nodes",
            "CLUSTER INFO",
            "CLUSTER SLOTS",
            "CLUSTER SHARDS",
            "CLUSTER COUNTKEYSINSLOT 5",
            "cluster getkeysinslot 5 10",
            "CLUSTER MYID",
            "CONFIG GET cluster-node-timeout",
            "DBSIZE",
            "GET k",
            "EXISTS k",
            "TYPE k",
            "DUMP k",
            "TTL k",
            "PTTL k",
            "SCAN 0 COUNT 10",
        ] {
            assert_eq!(check_allowed(true, &args(c)), Ok(()), "{c}");
        }
    }

    #[test]
    fn guard_refuses_writes_in_read_only_mode() {
        for (c, name) in [
            ("SET k v", "SET"),
            ("DEL k", "DEL"),
            ("FLUSHALL", "FLUSHALL"),
            ("cluster setslot 5 node abc", "CLUSTER SETSLOT"),
            ("CLUSTER ADDSLOTS 1", "CLUSTER ADDSLOTS"),
            ("CLUSTER DELSLOTSRANGE 1 2", "CLUSTER DELSLOTSRANGE"),
            ("CLUSTER MEET 127.0.0.1 7000", "CLUSTER MEET"),
            ("CLUSTER FORGET abc", "CLUSTER FORGET"),
            ("CLUSTER FAILOVER TAKEOVER", "CLUSTER FAILOVER"),
            ("CLUSTER RESET HARD", "CLUSTER RESET"),
            ("CLUSTER BUMPEPOCH", "CLUSTER BUMPEPOCH"),
            ("CLUSTER", "CLUSTER"),
            ("CONFIG SET cluster-require-full-coverage no", "CONFIG SET"),
            ("CONFIG REWRITE", "CONFIG REWRITE"),
            ("MIGRATE h 1 \"\" 0 1000 KEYS a", "MIGRATE"),
            ("RESTORE k 0 x", "RESTORE"),
            ("SHUTDOWN", "SHUTDOWN"),
            ("DEBUG SLEEP 1", "DEBUG SLEEP"),
            ("EVAL x 0", "EVAL"),
            ("SCRIPT FLUSH", "SCRIPT FLUSH"),
            ("SAVE", "SAVE"),
            ("unknowncmd", "UNKNOWNCMD"),
        ] {
            assert_eq!(
                check_allowed(true, &args(c)),
                Err(CommandError::ReadOnlyRefused {
                    command: name.into()
                }),
                "{c}"
            );
            assert_eq!(check_allowed(false, &args(c)), Ok(()), "{c}");
        }
        assert!(check_allowed(false, &[]).is_err());
    }

    #[test]
    fn redaction_masks_secrets() {
        let pw = Secret::new("hunter2");
        let m = redact_args(
            &args("MIGRATE 127.0.0.1 7001 \"\" 0 5000 REPLACE AUTH hunter2 KEYS a b"),
            None,
        );
        assert_eq!(
            m,
            "MIGRATE 127.0.0.1 7001 \"\" 0 5000 REPLACE AUTH *** KEYS a b"
        );
        let m = redact_args(
            &args("MIGRATE 127.0.0.1 7001 \"\" 0 5000 AUTH2 ops s3cret KEYS a"),
            None,
        );
        assert_eq!(m, "MIGRATE 127.0.0.1 7001 \"\" 0 5000 AUTH2 ops *** KEYS a");
        assert_eq!(redact_args(&args("AUTH ops s3cret"), None), "AUTH *** ***");
        assert_eq!(
            redact_args(&args("CONFIG SET masterauth s3cret maxmemory 1"), None),
            "CONFIG SET masterauth *** maxmemory 1"
        );
        assert_eq!(
            redact_args(&args("HELLO 3 AUTH ops s3cret"), None),
            "HELLO 3 AUTH *** ***"
        );
        assert_eq!(redact_args(&args("SET k hunter2"), Some(&pw)), "SET k ***");
        assert_eq!(
            redact_args(&["SET".into(), "a b".into()], None),
            "SET \"a b\""
        );
    }

    #[test]
    fn sanitize_removes_password() {
        let pw = Secret::new("hunter2");
        assert_eq!(sanitize("bad hunter2 here", Some(&pw)), "bad *** here");
        assert_eq!(sanitize("x", None), "x");
    }

    #[test]
    fn server_errors_are_classified() {
        assert_eq!(
            classify_server_error("NOAUTH", "Authentication required."),
            ProbeError::AuthRequired
        );
        assert!(matches!(
            classify_server_error("WRONGPASS", "invalid username-password pair or user is disabled."),
            ProbeError::AuthFailed(m) if m.starts_with("WRONGPASS")
        ));
        assert!(matches!(
            classify_server_error("ERR", "invalid password"),
            ProbeError::AuthFailed(_)
        ));
        assert_eq!(
            classify_server_error("LOADING", "Redis is loading the dataset in memory"),
            ProbeError::Loading
        );
        assert_eq!(
            classify_server_error("ERR", "This instance has cluster support disabled"),
            ProbeError::NotCluster { version: None }
        );
        assert_eq!(
            classify_server_error("ERR", "unknown command 'CLUSTER'"),
            ProbeError::Other("ERR unknown command 'CLUSTER'".into())
        );
    }

    #[test]
    fn command_errors_map_to_probe_errors() {
        assert_eq!(
            CommandError::Timeout {
                command: "PING".into()
            }
            .to_probe_error(),
            ProbeError::Unresponsive("PING".into())
        );
        assert_eq!(
            CommandError::Connect(ProbeError::ConnectTimeout).to_probe_error(),
            ProbeError::ConnectTimeout
        );
        assert!(CommandError::Io("x".into()).is_connection_error());
        assert!(
            !CommandError::Server {
                code: "ERR".into(),
                message: String::new()
            }
            .is_connection_error()
        );
    }

    #[test]
    fn reply_helpers() {
        assert_eq!(
            value_text(&Value::BulkString(b"abc".to_vec())).unwrap(),
            "abc"
        );
        assert_eq!(
            value_text(&Value::SimpleString("PONG".into())).unwrap(),
            "PONG"
        );
        assert!(value_text(&Value::Int(1)).is_err());
        assert_eq!(value_int(&Value::Int(7)).unwrap(), 7);
        assert!(value_int(&Value::Nil).is_err());
        assert!(value_error(&Value::Nil).is_none());
    }

    /// A loopback server that answers `+OK` to every request after `delay`.
    async fn slow_server(delay: Duration) -> Endpoint {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0_u8; 4096];
                    while let Ok(n) = sock.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        tokio::time::sleep(delay).await;
                        if sock.write_all(b"+OK\r\n").await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Endpoint::new("127.0.0.1", port)
    }

    #[tokio::test]
    async fn per_call_timeout_outlasts_the_pool_timeout() {
        let ep = slow_server(Duration::from_millis(400)).await;
        let c = Connector::new(ConnectOptions {
            command_timeout: Duration::from_millis(150),
            ..ConnectOptions::new(vec![ep.clone()])
        });
        // The pool's timeout is too short for this server...
        let r = c.command(&ep, &args("CLUSTER SETSLOT 1 STABLE")).await;
        assert!(matches!(r, Err(CommandError::Timeout { .. })), "{r:?}");
        // ...a per-call timeout is not capped by it (write path: guard + logging as usual)...
        let r = c
            .command_with_timeout(
                &ep,
                &args("MIGRATE h 1 \"\" 0 1000 KEYS a"),
                Duration::from_secs(3),
            )
            .await;
        assert_eq!(r, Ok(Value::Okay));
        let r = c
            .pipeline_with_timeout(&ep, &[args("DUMP a")], Duration::from_secs(3))
            .await;
        assert_eq!(r, Ok(vec![Value::Okay]));
        // ...and the next ordinary call still uses the short one.
        let r = c.command(&ep, &args("PING")).await;
        assert!(matches!(r, Err(CommandError::Timeout { .. })), "{r:?}");
        // A per-call timeout shorter than the reply also fires.
        let r = c
            .command_with_timeout(&ep, &args("PING"), Duration::from_millis(100))
            .await;
        assert!(matches!(r, Err(CommandError::Timeout { .. })), "{r:?}");
    }

    #[tokio::test]
    async fn read_only_refuses_before_any_io() {
        // Port 1 on loopback: nothing listens; a connect attempt would fail with "refused",
        // so getting ReadOnlyRefused proves nothing was attempted.
        let c = Connector::new(ConnectOptions {
            read_only: true,
            ..ConnectOptions::new(vec![])
        });
        let ep = Endpoint::new("127.0.0.1", 1);
        let r = c.command_strs(&ep, &["SET", "k", "v"]).await;
        assert_eq!(
            r,
            Err(CommandError::ReadOnlyRefused {
                command: "SET".into()
            })
        );
        let r = c
            .pipeline(&ep, &[args("GET k"), args("CLUSTER SETSLOT 1 STABLE")])
            .await;
        assert!(matches!(r, Err(CommandError::ReadOnlyRefused { .. })));
        assert!(c.connected().is_empty());
        let r = c
            .command_with_timeout(
                &ep,
                &args("MIGRATE h 1 \"\" 0 1000 KEYS a"),
                Duration::from_secs(9),
            )
            .await;
        assert!(
            matches!(r, Err(CommandError::ReadOnlyRefused { .. })),
            "{r:?}"
        );
        let r = c
            .pipeline_with_timeout(&ep, &[args("DEL k")], Duration::from_secs(9))
            .await;
        assert!(
            matches!(r, Err(CommandError::ReadOnlyRefused { .. })),
            "{r:?}"
        );
        assert!(c.connected().is_empty());
        let r = c.command_strs(&ep, &["PING"]).await;
        assert_eq!(
            r,
            Err(CommandError::Connect(ProbeError::ConnectFailed(
                "connection refused".into()
            )))
        );
    }
}
