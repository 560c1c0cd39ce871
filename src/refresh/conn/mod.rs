//! Connections to nodes: the [`Connector`] pool and command gateway, and [`NodeConn`].
//!
//! Beside it, re-exported here: the read-only guard (`guard.rs`), secret masking
//! (`redact.rs`), error classification (`error.rs`) and reply readers (`reply.rs`).
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
use redis::{AsyncConnectionConfig, ConnectionAddr, IntoConnectionInfo, Value};

mod bounded;
mod client_cert;
mod error;
mod guard;
pub mod hostnames;
mod redact;
pub mod remap;
pub mod reply;
pub mod tls;

pub use bounded::DEFAULT_MAX_REPLY_BYTES;
use bounded::{Bounded, Tripwire};
pub use error::{CommandError, classify_server_error};
pub use guard::{check_allowed, command_name, is_read_command};
pub use redact::{redact_args, sanitize};
pub use reply::{value_error, value_int, value_into_text, value_text};

use super::capture::Capture;
use super::target::ConnectOptions;
use crate::cluster::types::{Endpoint, ProbeError};
use error::{classify_command_error, classify_connect_error};

/// One long-lived connection to one node (cheap to clone: clones share the socket).
#[derive(Clone)]
pub struct NodeConn {
    endpoint: Endpoint,
    conn: MultiplexedConnection,
    wire: Tripwire,
    max_reply_bytes: usize,
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
        // `--prefer-hostname` and `--remap`: connect where the announced address is reachable;
        // keep naming the node by what it announces.
        let (named, target) = hostnames::route(opts, endpoint);
        let info = ConnectionAddr::Tcp(target.host.clone(), target.port)
            .into_connection_info()
            .map_err(|e| ProbeError::ConnectFailed(sanitize(&e.to_string(), pw)))?;
        let redis_settings = info.redis_settings().clone().set_skip_set_lib_name();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(opts.connect_timeout))
            .set_response_timeout(Some(opts.command_timeout));
        let wire = Tripwire::default();
        let mut cert_asked = false;
        let conn = if let Some(tls) = &opts.tls {
            let (stream, asked) = tls.handshake(&named, &target, opts.connect_timeout).await?;
            cert_asked = asked;
            let stream = Bounded::new(stream, opts.max_reply_bytes, wire.clone());
            establish(&redis_settings, stream, config, opts.connect_timeout)
                .await
                .map_err(|e| match e {
                    Some(e) => ProbeError::ConnectFailed(sanitize(&e.to_string(), pw)),
                    None => ProbeError::ConnectTimeout,
                })?
        } else {
            let host = target.host.trim_start_matches('[').trim_end_matches(']');
            let stream = match tokio::time::timeout(
                opts.connect_timeout,
                tokio::net::TcpStream::connect((host, target.port)),
            )
            .await
            {
                Err(_) => return Err(ProbeError::ConnectTimeout),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return Err(ProbeError::ConnectFailed("connection refused".into()));
                }
                Ok(Err(e)) => {
                    return Err(ProbeError::ConnectFailed(sanitize(&e.to_string(), pw)));
                }
                Ok(Ok(s)) => s,
            };
            let _ = stream.set_nodelay(true);
            let stream = Bounded::new(stream, opts.max_reply_bytes, wire.clone());
            establish(&redis_settings, stream, config, opts.connect_timeout)
                .await
                .map_err(|e| match e {
                    Some(e) => tls::plain_text_hint(classify_connect_error(&e, pw)),
                    None => ProbeError::ConnectTimeout,
                })?
        };
        let mut node = Self {
            endpoint: endpoint.clone(),
            conn,
            wire,
            max_reply_bytes: opts.max_reply_bytes,
        };
        if cert_asked {
            client_cert::confirm(&mut node, opts).await?;
        }
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
            Ok(Err(_)) if self.wire.tripped() => Err(CommandError::Oversized {
                limit: self.max_reply_bytes,
            }),
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

    /// Send a built pipeline (its first command named `first`); one reply per command, error
    /// replies inside the result.
    async fn send_pipe(
        &mut self,
        pipe: &redis::Pipeline,
        first: &str,
        opts: &ConnectOptions,
        timeout: Duration,
    ) -> Result<Vec<Value>, CommandError> {
        let count = pipe.len();
        let name = format!("pipeline of {count} ({first}...)");
        let mut conn = self.with_response_timeout(timeout, opts);
        match tokio::time::timeout(timeout, conn.send_packed_commands(pipe, 0, count)).await {
            Err(_) => Err(CommandError::Timeout { command: name }),
            Ok(Err(_)) if self.wire.tripped() => Err(CommandError::Oversized {
                limit: self.max_reply_bytes,
            }),
            Ok(Err(e)) => Err(classify_command_error(&e, &name, opts.password.as_ref())),
            Ok(Ok(v)) if v.len() == count => Ok(v),
            Ok(Ok(v)) => Err(CommandError::Protocol(format!(
                "{} replies to a pipeline of {count}",
                v.len(),
            ))),
        }
    }
}

/// The shared connection pool and command gateway: one [`NodeConn`] per endpoint, kept across
/// refresh cycles and dropped after any connection-level error.
///
/// Cheap to share behind an [`Arc`]; every method takes `&self`.
#[derive(Debug)]
pub struct Connector {
    opts: ConnectOptions,
    conns: Mutex<HashMap<Endpoint, NodeConn>>,
    /// Where probes leave their raw replies for a recorder, if anywhere.
    capture: Option<Arc<Capture>>,
}

impl Connector {
    /// A pool with no connections yet.
    #[must_use]
    pub fn new(opts: ConnectOptions) -> Self {
        Self {
            opts,
            conns: Mutex::new(HashMap::new()),
            capture: None,
        }
    }

    /// This pool, with probes leaving their raw replies in `capture`.
    #[must_use]
    pub fn with_capture(mut self, capture: Arc<Capture>) -> Self {
        self.capture = Some(capture);
        self
    }

    /// Where probes leave their raw replies, if anywhere.
    #[must_use]
    pub fn capture(&self) -> Option<&Arc<Capture>> {
        self.capture.as_ref()
    }

    /// A pool behind an [`Arc`], as the refresher and the fix executor share it.
    #[must_use]
    pub fn shared(opts: ConnectOptions) -> Arc<Self> {
        Arc::new(Self::new(opts))
    }

    /// `timeout`, or the pool's command timeout when it is zero.
    fn timeout_or_default(&self, timeout: Duration) -> Duration {
        if timeout.is_zero() {
            self.opts.command_timeout
        } else {
            timeout
        }
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

    /// Whether a connection to `ep` is open (kept from an earlier call).
    #[must_use]
    pub fn is_connected(&self, ep: &Endpoint) -> bool {
        self.map().contains_key(ep)
    }

    /// Drop the connection to `ep` (the next call reconnects).
    pub fn disconnect(&self, ep: &Endpoint) {
        self.map().remove(ep);
    }

    /// Drop the connection to `ep` when a reply on it was larger than `bytes`: its read
    /// buffer grew to that size and keeps it for as long as the connection lives (redis-rs
    /// never shrinks it), so a 1000-node cluster's kept connections would hold about 1000
    /// `CLUSTER NODES` replies (over 100 MiB). The next call reconnects. True when dropped.
    pub fn release_if_larger(&self, ep: &Endpoint, bytes: usize) -> bool {
        let mut map = self.map();
        let large = map.get(ep).is_some_and(|c| c.wire.largest_reply() > bytes);
        if large {
            map.remove(ep);
        }
        large
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
        let timeout = self.timeout_or_default(timeout);
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
        if self.opts.tls.is_none() {
            r = r.map_err(tls::plain_text_hint_command);
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
        let mut pipe = redis::Pipeline::with_capacity(cmds.len());
        for args in cmds {
            let mut cmd = redis::Cmd::new();
            for a in args {
                cmd.arg(a.as_bytes());
            }
            pipe.add_command(cmd);
        }
        self.pipe_with_timeout(ep, &pipe, timeout).await
    }

    /// [`Self::pipeline_with_timeout`] of a pipeline the caller built as a
    /// [`redis::Pipeline`], for a long run of small commands (the key census) that would
    /// otherwise be spelled out as strings first; every pipeline goes through here. Every
    /// command passes the guard (judged once per run of one repeated command) and every write
    /// is logged before any I/O.
    ///
    /// # Errors
    /// See [`CommandError`].
    pub async fn pipe_with_timeout(
        &self,
        ep: &Endpoint,
        pipe: &redis::Pipeline,
        timeout: Duration,
    ) -> Result<Vec<Value>, CommandError> {
        let timeout = self.timeout_or_default(timeout);
        if pipe.is_empty() {
            return Ok(Vec::new());
        }
        // The class of a command depends on its first two arguments only: a run of commands
        // whose first two arguments are the same bytes (the census's counts) is judged once.
        let same_head = |a: &redis::Cmd, b: &redis::Cmd| {
            let (x, y) = (a.args_iter(), b.args_iter());
            x.len().min(2) == y.len().min(2)
                && x.zip(y).take(2).all(|p| match p {
                    (redis::Arg::Simple(x), redis::Arg::Simple(y)) => x == y,
                    _ => false,
                })
        };
        let mut first = None;
        let mut last: Option<(&redis::Cmd, bool)> = None;
        for cmd in pipe.cmd_iter() {
            let same = last.is_some_and(|(prev, _)| same_head(prev, cmd));
            let write = match last {
                Some((_, write)) if same => write,
                _ => {
                    let args = cmd_words(cmd);
                    check_allowed(self.opts.read_only, &args)?;
                    if first.is_none() {
                        first = Some(command_name(&args));
                    }
                    !is_read_command(&args)
                }
            };
            last = Some((cmd, write));
            if write {
                tracing::info!(
                    endpoint = %ep,
                    command = %redact_args(&cmd_words(cmd), self.opts.password.as_ref()),
                    "sending write command (pipelined)"
                );
            }
        }
        let mut c = self.conn(ep).await?;
        let r = c
            .send_pipe(
                pipe,
                first.as_deref().unwrap_or_default(),
                &self.opts,
                timeout,
            )
            .await;
        if let Err(e) = &r
            && e.is_connection_error()
        {
            self.disconnect(ep);
        }
        r
    }
}

/// A built command's arguments as text (what the guard judges and the log shows).
pub(crate) fn cmd_words(cmd: &redis::Cmd) -> Vec<String> {
    cmd.args_iter()
        .map(|a| match a {
            redis::Arg::Simple(b) => String::from_utf8_lossy(b).into_owned(),
            _ => "0".to_owned(),
        })
        .collect()
}

/// `Duration` as whole microseconds, saturating.
pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Start redis-rs's multiplexed connection on an open stream (plain or TLS, already bounded);
/// its driver task ends when the last handle is dropped. `Err(None)`: no answer within the
/// connect timeout.
async fn establish<S>(
    settings: &redis::RedisConnectionInfo,
    stream: S,
    config: AsyncConnectionConfig,
    timeout: std::time::Duration,
) -> Result<MultiplexedConnection, Option<redis::RedisError>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    match tokio::time::timeout(
        timeout,
        MultiplexedConnection::new_with_config(settings, stream, config),
    )
    .await
    {
        Err(_) => Err(None),
        Ok(Err(e)) => Err(Some(e)),
        Ok(Ok((c, driver))) => {
            tokio::spawn(driver);
            Ok(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace-split; the token `""` stands for an empty argument.
    pub(super) fn args(s: &str) -> Vec<String> {
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

    /// A loopback server that answers every request with a bulk string of `len` bytes.
    async fn bulk_server(len: usize) -> Endpoint {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut reply = format!("${len}\r\n").into_bytes();
        reply.resize(reply.len() + len, b'x');
        reply.extend_from_slice(b"\r\n");
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let reply = reply.clone();
                tokio::spawn(async move {
                    let mut buf = [0_u8; 4096];
                    while let Ok(n) = sock.read(&mut buf).await {
                        if n == 0 || sock.write_all(&reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Endpoint::new("127.0.0.1", port)
    }

    #[tokio::test]
    async fn a_connection_that_carried_a_large_reply_is_released() {
        let small = bulk_server(1000).await;
        let large = bulk_server(100_000).await;
        let c = Connector::new(ConnectOptions::new(vec![small.clone()]));
        for ep in [&small, &large] {
            let v = c.command_strs(ep, &["CLUSTER", "NODES"]).await.unwrap();
            assert!(matches!(v, Value::BulkString(_)), "{v:?}");
        }
        assert!(!c.release_if_larger(&small, 64 << 10));
        assert!(c.is_connected(&small));
        assert!(c.release_if_larger(&large, 64 << 10));
        assert!(!c.is_connected(&large));
        // Released, not broken: the next call reconnects.
        assert!(c.command_strs(&large, &["PING"]).await.is_ok());
        assert!(c.is_connected(&large));
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
