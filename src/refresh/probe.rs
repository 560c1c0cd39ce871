//! Probe one node: concurrently on one connection, in one round trip, `PING` (round-trip
//! time; alone first on a kept connection), `CLUSTER NODES`, `CLUSTER INFO`, `INFO …`, one
//! `CONFIG GET` of its parameters and, when asked, the key census (see [`EarlyCensus`]).
//! Every failure becomes data in the returned [`NodeObservation`]; nothing here panics or
//! returns early with `?` past the observation.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::capture::{CONFIG_PARAMS, RawNode, RawReplies};
use super::census_stats::settle_early;
pub use super::census_stats::{EarlyCensus, Lister as CensusLister};
use super::conn::{CommandError, Connector, micros, value_into_text, value_text};
use super::refusals;
use crate::cluster::access::{Access, classify};
use crate::cluster::parse::{info_server_section, parse_info};
use crate::cluster::types::{Endpoint, NodeObservation, ProbeError, ServerInfo};
use redis::Value;

/// The `INFO` sections slotscope reads (Redis 7.0+ accepts several at once); the last three
/// only with [`crate::refresh::ConnectOptions::vitals`] (the node table's memory, ops/s and
/// clients).
pub const INFO_SECTIONS: &[&str] = &[
    "server",
    "replication",
    "keyspace",
    "cluster",
    "persistence",
    "memory",
    "stats",
    "clients",
];

/// How many of [`INFO_SECTIONS`] are read without the vitals.
const CORE_SECTIONS: usize = 5;

/// Unix time in milliseconds.
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Probe one node. Bounded by the connect timeout plus two command timeouts (the `PING`,
/// then the concurrent reads), and by one command timeout when the node is already connected
/// and hung. The replies are interpreted by [`super::capture::interpret`] (as a replay does) and, when
/// the connector has a [`super::capture::Capture`], handed to it.
pub async fn probe_node(conn: &Connector, ep: &Endpoint) -> NodeObservation {
    probe_node_with(conn, ep, Access::default()).await
}

/// [`probe_node`] that does not send the commands `refused` remembers (see
/// [`super::refusals`]) and carries them, with what this probe learns, in the report.
pub async fn probe_node_with(conn: &Connector, ep: &Endpoint, refused: Access) -> NodeObservation {
    probe_node_counting(conn, ep, refused, None).await
}

/// [`probe_node_with`] that also counts the node's key census in the same batch, as `census`
/// says (see [`EarlyCensus`]); the census is kept in the report only where the node's own
/// view confirms the guess, else left to [`super::census::take_census`].
pub async fn probe_node_counting(
    conn: &Connector,
    ep: &Endpoint,
    refused: Access,
    census: Option<EarlyCensus>,
) -> NodeObservation {
    // Boxed: the probe's state is large, and the caller moves this future into a task.
    let (rtt_us, replies, counted) =
        Box::pin(probe_inner(conn, ep, refused, census.as_ref())).await;
    let observed_at_ms = now_ms();
    let raw = RawNode {
        endpoint: ep.clone(),
        observed_at_ms,
        rtt_us,
        replies,
    };
    let mut obs = raw.observation();
    if let (Some(how), Some(values), Ok(report)) = (&census, counted, obs.result.as_mut()) {
        report.census = settle_early(report, how, &values, observed_at_ms);
    }
    if let Err(e) = &obs.result {
        tracing::debug!(endpoint = %ep, error = %e, "probe failed");
    }
    if let Some(c) = conn.capture() {
        c.offer(raw, obs.result.is_ok());
    }
    obs
}

/// The probe's round-trip time, its replies, and the early census's replies (if asked for).
type Probed = (
    Option<u64>,
    Result<RawReplies, ProbeError>,
    Option<Vec<Value>>,
);

async fn probe_inner(
    c: &Connector,
    ep: &Endpoint,
    mut access: Access,
    census: Option<&EarlyCensus>,
) -> Probed {
    // On a kept connection (the dashboard's later refreshes) PING goes alone first, so that
    // the round-trip time measures PING alone. On a new one it leads the batch, which saves a
    // round trip: its time then includes the server's time for the batch.
    let kept = c.is_connected(ep);
    if let Err(e) = c.conn(ep).await {
        return (None, Err(e.to_probe_error()), None);
    }
    let mut rtt = None;
    if kept {
        match timed_ping(c, ep).await {
            Ok(us) => rtt = Some(us),
            Err(e) => return (None, Err(e.to_probe_error()), None),
        }
    }
    let ping = async {
        if kept {
            None
        } else {
            Some(timed_ping(c, ep).await)
        }
    };
    let counted = async {
        match census {
            Some(how) => super::census_stats::fetch_early(c, ep, how).await,
            None => None,
        }
    };

    let now = now_ms();
    let mut dry = access.clone();
    let (ping, nodes, cluster_info, info, (config, config_err), (), migrations, counted) = futures::join!(
        ping,
        text(c, ep, &["CLUSTER", "NODES"]),
        gated(c, ep, &access, &["CLUSTER", "INFO"]),
        read_info(c, ep, &access),
        read_config(c, ep, &access),
        refusals::check_repair_commands(c, ep, &mut dry, now),
        super::slot_migrations::read_early(c, ep, census.is_some()),
        counted,
    );
    match ping {
        Some(Ok(us)) => rtt = Some(us),
        Some(Err(e)) => return (None, Err(e.to_probe_error()), None),
        None => {}
    }
    access = dry;
    access.user = Some(c.options().user.clone().unwrap_or_else(|| "default".into()));
    for (args, r) in [
        (&["CLUSTER", "INFO"][..], cluster_info.as_ref().err()),
        (&["INFO"][..], info.as_ref().err()),
        (&["CONFIG", "GET"][..], config_err.as_ref()),
    ] {
        if let Some(e) = r {
            refusals::learn(&mut access, args, e, now);
        }
    }
    let mut replies = RawReplies::new(&nodes, &cluster_info, &info, config);
    replies.access = access;
    if let Ok(text) = &info {
        // Only the server's name and version matter here; `interpret` reads the whole reply.
        let server = parse_info(info_server_section(text));
        replies.slot_migrations = super::slot_migrations::settle(c, ep, &server, migrations).await;
    }
    (rtt, Ok(replies), counted)
}

/// `PING`, timed: microseconds.
async fn timed_ping(c: &Connector, ep: &Endpoint) -> Result<u64, CommandError> {
    let t0 = Instant::now();
    c.command_strs(ep, &["PING"]).await?;
    Ok(micros(t0.elapsed()))
}

/// Why `CLUSTER NODES` failed, using `INFO` (if it answered) to recognise a non-cluster server.
pub(super) fn cluster_nodes_error(e: &CommandError, info: Option<&ServerInfo>) -> ProbeError {
    if info.is_some_and(|i| i.cluster_enabled == Some(false)) {
        return not_cluster(info);
    }
    match e.to_probe_error() {
        ProbeError::NotCluster { .. } => not_cluster(info),
        // Some commands are refused while the dataset loads; INFO still says so.
        _ if info.is_some_and(|i| i.loading == Some(true)) => ProbeError::Loading,
        p => p,
    }
}

pub(super) fn not_cluster(info: Option<&ServerInfo>) -> ProbeError {
    ProbeError::NotCluster {
        version: info.and_then(|i| i.version().map(str::to_owned)),
    }
}

async fn text(c: &Connector, ep: &Endpoint, args: &[&str]) -> Result<String, CommandError> {
    c.command_strs(ep, args).await.and_then(value_into_text)
}

/// `INFO` with the sections slotscope needs; plain `INFO` when the server refuses several
/// section arguments (before 7.0).
async fn read_info(c: &Connector, ep: &Endpoint, access: &Access) -> Result<String, CommandError> {
    let mut args = vec!["INFO"];
    let sections = if c.options().vitals {
        INFO_SECTIONS
    } else {
        &INFO_SECTIONS[..CORE_SECTIONS]
    };
    args.extend_from_slice(sections);
    match gated(c, ep, access, &args).await {
        // A refusal of INFO is not about the section arguments: no second try.
        Err(CommandError::Server { code, message })
            if classify(&code, &message, "info").is_none() =>
        {
            text(c, ep, &["INFO"]).await
        }
        r => r,
    }
}

/// [`text`], unless the node refused the command before (then that refusal, nothing sent).
async fn gated(
    c: &Connector,
    ep: &Endpoint,
    access: &Access,
    args: &[&str],
) -> Result<String, CommandError> {
    match refusals::remembered(access, args) {
        Some(e) => Err(e),
        None => text(c, ep, args).await,
    }
}

/// `CONFIG GET` of every parameter of [`CONFIG_PARAMS`], with the first error (to learn a
/// refusal from). One command names them all (Redis and Valkey 7.0+); a server that answers
/// it with any error reply (before 7.0 `CONFIG GET` takes one parameter) is asked once per
/// parameter, concurrently, and those replies are what is kept and learnt from. A renamed or
/// refused `CONFIG` is an error per parameter ([`super::capture::config_of`] makes it
/// [`crate::cluster::types::NodeConfig::error`]), never a probe failure; once refused, it is
/// not sent again for a while.
async fn read_config(
    c: &Connector,
    ep: &Endpoint,
    access: &Access,
) -> (
    Vec<(String, Result<Option<String>, CommandError>)>,
    Option<CommandError>,
) {
    let values = if let Some(e) = refusals::remembered(access, &["CONFIG", "GET"]) {
        vec![Err(e); CONFIG_PARAMS.len()]
    } else {
        let mut args = vec!["CONFIG", "GET"];
        args.extend_from_slice(&CONFIG_PARAMS);
        match c.command_strs(ep, &args).await {
            Ok(v) => CONFIG_PARAMS.iter().map(|p| config_value(&v, p)).collect(),
            Err(CommandError::Server { .. }) => {
                futures::future::join_all(CONFIG_PARAMS.iter().map(|p| config_get(c, ep, p))).await
            }
            Err(e) => vec![Err(e); CONFIG_PARAMS.len()],
        }
    };
    let first = values.iter().find_map(|v| v.as_ref().err().cloned());
    let all = CONFIG_PARAMS
        .iter()
        .map(|p| (*p).to_owned())
        .zip(values)
        .collect();
    (all, first)
}

/// One parameter's value, `None` when the server does not know it.
async fn config_get(
    c: &Connector,
    ep: &Endpoint,
    param: &str,
) -> Result<Option<String>, CommandError> {
    let v = c.command_strs(ep, &["CONFIG", "GET", param]).await?;
    config_value(&v, param)
}

/// Extract `param`'s value from a `CONFIG GET` reply (RESP2 flat array or RESP3 map).
fn config_value(v: &Value, param: &str) -> Result<Option<String>, CommandError> {
    let pairs: Vec<(String, String)> = match v {
        Value::Array(items) => {
            let mut out = Vec::new();
            for pair in items.chunks(2) {
                if let [k, val] = pair {
                    out.push((value_text(k)?, value_text(val)?));
                }
            }
            out
        }
        Value::Map(items) => items
            .iter()
            .map(|(k, val)| Ok((value_text(k)?, value_text(val)?)))
            .collect::<Result<_, CommandError>>()?,
        other => {
            return Err(CommandError::Protocol(format!(
                "CONFIG GET: unexpected reply {other:?}"
            )));
        }
    };
    Ok(pairs
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(param))
        .map(|(_, v)| v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn config_value_reads_flat_array_and_map() {
        let v = Value::Array(vec![bulk("cluster-node-timeout"), bulk("2000")]);
        assert_eq!(
            config_value(&v, "cluster-node-timeout").unwrap().as_deref(),
            Some("2000")
        );
        assert_eq!(config_value(&Value::Array(vec![]), "x").unwrap(), None);
        let m = Value::Map(vec![(bulk("cluster-require-full-coverage"), bulk("no"))]);
        assert_eq!(
            config_value(&m, "cluster-require-full-coverage")
                .unwrap()
                .as_deref(),
            Some("no")
        );
        assert!(config_value(&Value::Int(3), "x").is_err());
    }

    /// The complete RESP requests at the front of `buf` (arrays of bulk strings), drained.
    fn take_requests(buf: &mut Vec<u8>) -> Vec<Vec<String>> {
        fn line(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
            let end = at + b.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
            Some((&b[at..end], end + 2))
        }
        fn one(b: &[u8]) -> Option<(Vec<String>, usize)> {
            let (head, mut at) = line(b, 0)?;
            let n: usize = std::str::from_utf8(head.strip_prefix(b"*")?)
                .ok()?
                .parse()
                .ok()?;
            let mut args = Vec::new();
            for _ in 0..n {
                let (len, start) = line(b, at)?;
                let len: usize = std::str::from_utf8(len.strip_prefix(b"$")?)
                    .ok()?
                    .parse()
                    .ok()?;
                let arg = b.get(start..start + len)?;
                args.push(String::from_utf8_lossy(arg).into_owned());
                at = start + len + 2;
            }
            (at <= b.len()).then_some((args, at))
        }
        let mut out = Vec::new();
        while let Some((args, used)) = one(buf) {
            buf.drain(..used);
            out.push(args);
        }
        out
    }

    /// A loopback server that answers `CONFIG GET` as Redis 7.0+ does (`several`: every
    /// parameter of one request) or as Redis 6 does (one parameter; more is an error);
    /// counts the `CONFIG GET`s it receives.
    async fn config_server(
        several: bool,
    ) -> (Endpoint, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = asked.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0_u8; 4096];
                    while let Ok(n) = sock.read(&mut chunk).await {
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let mut out = Vec::new();
                        for args in take_requests(&mut buf) {
                            let params = args.get(2..).unwrap_or_default();
                            if args.len() < 2 || !args[0].eq_ignore_ascii_case("config") {
                                out.extend_from_slice(b"+OK\r\n");
                                continue;
                            }
                            counter.fetch_add(1, Ordering::SeqCst);
                            if params.len() > 1 && !several {
                                out.extend_from_slice(
                                    b"-ERR Unknown subcommand or wrong number of arguments \
                                      for 'get'. Try CONFIG HELP.\r\n",
                                );
                                continue;
                            }
                            let known: Vec<(&String, &str)> = params
                                .iter()
                                .filter_map(|p| match p.as_str() {
                                    "cluster-node-timeout" => Some((p, "5000")),
                                    "save" => Some((p, "3600 1")),
                                    "appendonly" => Some((p, "yes")),
                                    _ => None,
                                })
                                .collect();
                            out.extend_from_slice(format!("*{}\r\n", known.len() * 2).as_bytes());
                            for (k, v) in known {
                                for w in [k.as_str(), v] {
                                    out.extend_from_slice(
                                        format!("${}\r\n{w}\r\n", w.len()).as_bytes(),
                                    );
                                }
                            }
                        }
                        if sock.write_all(&out).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (Endpoint::new("127.0.0.1", port), asked)
    }

    /// The four parameters as read: an unknown one is `None`, never an error.
    fn expected_config() -> Vec<(String, Result<Option<String>, CommandError>)> {
        [
            ("cluster-require-full-coverage", None),
            ("cluster-node-timeout", Some("5000")),
            ("save", Some("3600 1")),
            ("appendonly", Some("yes")),
        ]
        .into_iter()
        .map(|(p, v)| (p.to_owned(), Ok(v.map(str::to_owned))))
        .collect()
    }

    /// Read the configuration from a [`config_server`]: it reads in full, with no error kept
    /// (the error of the one-request form is neither kept nor learnt as a refusal); how many
    /// `CONFIG GET`s the server received.
    async fn config_gets_to_read(several: bool) -> usize {
        let (ep, asked) = config_server(several).await;
        let c = Connector::new(crate::refresh::ConnectOptions::new(vec![ep.clone()]));
        let (values, first) = read_config(&c, &ep, &Access::default()).await;
        assert_eq!(values, expected_config());
        assert_eq!(first, None);
        asked.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[tokio::test]
    async fn config_is_read_by_one_config_get_on_a_7_0_server() {
        assert_eq!(config_gets_to_read(true).await, 1);
    }

    #[tokio::test]
    async fn a_server_that_takes_one_parameter_is_asked_once_per_parameter() {
        assert_eq!(config_gets_to_read(false).await, 1 + CONFIG_PARAMS.len());
    }

    #[test]
    fn cluster_disabled_is_not_cluster_with_version() {
        let e = CommandError::Server {
            code: "ERR".into(),
            message: "This instance has cluster support disabled".into(),
        };
        let info = ServerInfo {
            redis_version: Some("7.0.15".into()),
            ..ServerInfo::default()
        };
        assert_eq!(
            cluster_nodes_error(&e, Some(&info)),
            ProbeError::NotCluster {
                version: Some("7.0.15".into())
            }
        );
        let info0 = ServerInfo {
            cluster_enabled: Some(false),
            ..ServerInfo::default()
        };
        let other = CommandError::Server {
            code: "ERR".into(),
            message: "unknown command 'CLUSTER'".into(),
        };
        assert_eq!(
            cluster_nodes_error(&other, Some(&info0)),
            ProbeError::NotCluster { version: None }
        );
        let loading = ServerInfo {
            loading: Some(true),
            ..ServerInfo::default()
        };
        assert_eq!(
            cluster_nodes_error(&other, Some(&loading)),
            ProbeError::Loading
        );
        assert_eq!(
            cluster_nodes_error(
                &CommandError::Timeout {
                    command: "CLUSTER NODES".into()
                },
                None
            ),
            ProbeError::Unresponsive("CLUSTER NODES".into())
        );
    }
}
