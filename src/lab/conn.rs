//! Short-timeout blocking connections to lab nodes, and the few reply readers the lab needs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};

/// Connect and command timeout for ordinary lab commands.
pub(crate) const SHORT: Duration = Duration::from_millis(1500);

/// Command timeout for slow commands (MIGRATE).
pub(crate) const LONG: Duration = Duration::from_secs(10);

/// The CA certificate (PEM) of every lab port that speaks TLS only.
fn tls_ports() -> &'static Mutex<HashMap<u16, Vec<u8>>> {
    static PORTS: OnceLock<Mutex<HashMap<u16, Vec<u8>>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Remember that `port` speaks TLS only, with certificates signed by the CA in `ca`: the
/// lab's own connections to it use TLS.
pub(crate) fn register_tls(port: u16, ca: &Path) {
    let pem = std::fs::read(ca).unwrap_or_default();
    tls_ports()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(port, pem);
}

/// Open a blocking connection to `127.0.0.1:port` with connect, read and write timeouts
/// (over TLS when the port was registered with [`register_tls`]).
pub(crate) fn connect(
    port: u16,
    password: Option<&str>,
    timeout: Duration,
) -> redis::RedisResult<redis::Connection> {
    let mut redis_settings = RedisConnectionInfo::default().set_skip_set_lib_name();
    if let Some(pw) = password {
        redis_settings = redis_settings.set_password(pw);
    }
    let ca = tls_ports()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&port)
        .cloned();
    let client = if let Some(ca) = ca {
        let info = ConnectionAddr::TcpTls {
            host: "127.0.0.1".to_owned(),
            port,
            insecure: false,
            tls_params: None,
        }
        .into_connection_info()?
        .set_redis_settings(redis_settings);
        redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca),
            },
        )?
    } else {
        let info = ConnectionAddr::Tcp("127.0.0.1".to_owned(), port)
            .into_connection_info()?
            .set_redis_settings(redis_settings);
        redis::Client::open(info)?
    };
    let con = client.get_connection_with_timeout(timeout)?;
    con.set_read_timeout(Some(timeout))?;
    con.set_write_timeout(Some(timeout))?;
    Ok(con)
}

/// Build a command from string arguments.
pub(crate) fn command(args: &[&str]) -> redis::Cmd {
    let mut it = args.iter();
    let mut cmd = redis::cmd(it.next().copied().unwrap_or("PING"));
    for a in it {
        cmd.arg(*a);
    }
    cmd
}

/// Run a command and read its reply as text (status, bulk string or number).
pub(crate) fn query_string(
    con: &mut redis::Connection,
    args: &[&str],
) -> redis::RedisResult<String> {
    command(args).query::<String>(con)
}

/// An error as the server spelled it (`CLUSTERDOWN The cluster is down`), else the client's text.
pub(crate) fn describe(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) if matches!(e.kind(), redis::ErrorKind::Server(_)) => {
            format!("{code} {detail}")
        }
        _ => e.to_string(),
    }
}

/// A `field:value` line from an `INFO`-style reply.
pub(crate) fn info_field(text: &str, field: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == field).then(|| v.trim().to_owned())
    })
}

/// One line of `CLUSTER NODES`, reduced to what the lab needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerLine {
    /// Node id.
    pub id: String,
    /// Client port (0 for `noaddr`).
    pub port: u16,
    /// Flag tokens, e.g. `["myself", "master"]`.
    pub flags: Vec<String>,
    /// The master's id for a replica.
    pub master_id: Option<String>,
    /// Claimed slot ranges, inclusive.
    pub slots: Vec<(u16, u16)>,
    /// Raw open-slot markers (`[S->-ID]` / `[S-<-ID]`), only on the `myself` line.
    pub markers: Vec<String>,
}

impl PeerLine {
    /// True if the flag token is present.
    #[must_use]
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// True if the line claims `slot`.
    #[must_use]
    pub fn owns(&self, slot: u16) -> bool {
        self.slots.iter().any(|&(a, b)| a <= slot && slot <= b)
    }
}

/// Parse a `CLUSTER NODES` reply leniently: malformed lines are skipped.
#[must_use]
pub fn parse_peers(text: &str) -> Vec<PeerLine> {
    text.lines().filter_map(parse_peer).collect()
}

fn parse_peer(line: &str) -> Option<PeerLine> {
    let mut f = line.split_ascii_whitespace();
    let id = f.next()?.to_owned();
    let addr = f.next()?;
    let flags = f.next()?.split(',').map(str::to_owned).collect();
    let master = f.next()?;
    // ping_sent, pong_recv, config epoch, link state
    for _ in 0..4 {
        f.next()?;
    }
    let hostport = addr.split(',').next()?;
    let hostport = hostport.rsplit_once('@').map_or(hostport, |(a, _)| a);
    let port = hostport
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(0);
    let mut slots = Vec::new();
    let mut markers = Vec::new();
    for tok in f {
        if tok.starts_with('[') {
            markers.push(tok.to_owned());
        } else if let Some((a, b)) = tok.split_once('-') {
            slots.push((a.parse().ok()?, b.parse().ok()?));
        } else {
            let s = tok.parse().ok()?;
            slots.push((s, s));
        }
    }
    Some(PeerLine {
        id,
        port,
        flags,
        master_id: (master != "-").then(|| master.to_owned()),
        slots,
        markers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_with_slots_markers_and_noaddr() {
        let text = "\
07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@40004,host slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 5462 [5461->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f :0@0 master,fail,noaddr - 1 2 3 disconnected
";
        let p = parse_peers(text);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].port, 30004);
        assert_eq!(
            p[0].master_id.as_deref(),
            Some("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca")
        );
        assert!(p[1].has_flag("myself"));
        assert_eq!(p[1].slots, vec![(0, 5460), (5462, 5462)]);
        assert_eq!(p[1].markers.len(), 1);
        assert!(p[1].owns(5462) && !p[1].owns(5461));
        assert_eq!(p[2].port, 0);
        assert!(p[2].has_flag("fail"));
        assert_eq!(
            info_field("a:1\r\ncluster_state:ok\r\n", "cluster_state").as_deref(),
            Some("ok")
        );
    }
}
