//! Connection settings: which seeds, which credentials, which timeouts.
//!
//! Seeds are accepted in the forms on-call engineers already type: `host:port`, `[::1]:port`,
//! a bare `host` (port 6379, as `redis-cli` defaults), and
//! `redis://[user[:password]@]host[:port][/0]`, and `rediss://…` for TLS.
//!
//! A password is held in a [`Secret`], which prints as `***` and is never serialized.

use std::fmt;
use std::time::Duration;

use crate::cluster::types::Endpoint;

/// The default Redis port, used for a bare `host` seed and a URL without a port.
pub const DEFAULT_PORT: u16 = 6379;

/// Default time allowed for a TCP connect to a node.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Default time allowed for one command's reply.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// A password. `Debug` and `Display` print `***`; it has no `Serialize` implementation, so it
/// cannot end up in JSON by accident. Use [`Secret::expose`] only to hand it to the server.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a password.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The clear text, for the `AUTH` command only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for the empty password.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Everything the connection layer needs to reach the cluster.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Where discovery starts. Any node of the cluster will do; several are allowed.
    pub seeds: Vec<Endpoint>,
    /// ACL user (`AUTH user password`); `None` means the default user.
    pub user: Option<String>,
    /// Password; `None` sends no `AUTH`.
    pub password: Option<Secret>,
    /// Time allowed for a TCP connect.
    pub connect_timeout: Duration,
    /// Time allowed for the reply to one command (or one pipeline).
    pub command_timeout: Duration,
    /// Refuse, before any I/O, every command that is not a known read command.
    pub read_only: bool,
    /// TLS to every node; `None`: plain TCP.
    pub tls: Option<super::conn::tls::TlsConfig>,
    /// `--remap`: where to connect for an announced address.
    pub remap: super::conn::remap::RemapTable,
    /// `--prefer-hostname`: the hostnames nodes announce, learnt from `CLUSTER NODES` and
    /// shared by every pool made from these options; `None`: connect by announced IP.
    pub hostnames: Option<std::sync::Arc<super::conn::hostnames::HostnameBook>>,
    /// The most a node may send in reply to one request (a command or a pipeline); more
    /// drops the connection and reports the node as sending an oversized reply.
    pub max_reply_bytes: usize,
    /// Ask `INFO` for the node table's vitals too (memory, ops/s, clients: the `memory`,
    /// `stats` and `clients` sections). `check` never shows them and leaves them out: they
    /// are most of the reply's lines and of the server's time for it.
    pub vitals: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            seeds: Vec::new(),
            user: None,
            password: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            read_only: false,
            tls: None,
            remap: super::conn::remap::RemapTable::default(),
            hostnames: None,
            max_reply_bytes: super::conn::DEFAULT_MAX_REPLY_BYTES,
            vitals: true,
        }
    }
}

impl ConnectOptions {
    /// Options with these seeds and the default timeouts, no credentials, writes allowed.
    #[must_use]
    pub fn new(seeds: Vec<Endpoint>) -> Self {
        Self {
            seeds,
            ..Self::default()
        }
    }

    /// Options from seed strings (see [`parse_seed`]). Credentials found in URLs are used
    /// unless they conflict: two different users or passwords in different seeds are an error.
    ///
    /// # Errors
    /// The first seed that does not parse, or conflicting credentials.
    pub fn from_seed_strs<S: AsRef<str>>(seeds: &[S]) -> Result<Self, SeedError> {
        let mut opts = Self::default();
        for s in seeds {
            let (ep, user, password) = parse_seed(s.as_ref())?;
            opts.seeds.push(ep);
            if let Some(u) = user {
                match &opts.user {
                    Some(existing) if *existing != u => {
                        return Err(SeedError::ConflictingCredentials);
                    }
                    _ => opts.user = Some(u),
                }
            }
            if let Some(p) = password {
                match &opts.password {
                    Some(existing) if *existing != p => {
                        return Err(SeedError::ConflictingCredentials);
                    }
                    _ => opts.password = Some(p),
                }
            }
        }
        Ok(opts)
    }
}

/// Why a seed string was rejected. Messages never contain the password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    /// Nothing was given.
    #[error("empty seed address")]
    Empty,
    /// A URL scheme other than `redis://`.
    #[error("unsupported URL scheme `{0}://`: use host:port or redis://host:port")]
    UnsupportedScheme(String),
    /// `host:` with nothing after the colon.
    #[error("missing port after `:` in `{0}`")]
    MissingPort(String),
    /// The port is not a number in `1..=65535`.
    #[error("invalid port `{0}`: expected a number 1-65535")]
    InvalidPort(String),
    /// No host before the port.
    #[error("missing host in `{0}`")]
    MissingHost(String),
    /// An unterminated `[` or other malformed bracketed IPv6 address.
    #[error("invalid host in `{0}`")]
    InvalidHost(String),
    /// A database other than 0 in a URL (a cluster only has database 0).
    #[error("database `{0}` requested, but a Redis Cluster only has database 0")]
    NonZeroDb(String),
    /// A bad `%XX` escape or non-UTF-8 text in the user or password.
    #[error("invalid percent-escape or non-UTF-8 text in the URL's user or password")]
    InvalidEscape,
    /// Two seeds name different users or passwords.
    #[error("seeds give different users or passwords; give one set of credentials")]
    ConflictingCredentials,
    /// A bare IPv6 address whose last group could be a port (`::1:6379`).
    #[error(
        "ambiguous IPv6 seed `{given}`: write [{host}]:{port} for port {port}, or \
         [{given}] for the whole address on port {DEFAULT_PORT}"
    )]
    AmbiguousIpv6 {
        /// What was given.
        given: String,
        /// The address if the last group is a port.
        host: String,
        /// That port.
        port: u16,
    },
}

/// Parse one seed: `host:port`, `[::1]:port`, `host` (port 6379) or
/// `redis://[user[:password]@]host[:port][/0]`. Returns the endpoint and any credentials the
/// URL carried (percent-decoded). A URL with only a password (`redis://:pw@host`) gives no user.
///
/// # Errors
/// See [`SeedError`]. A `rediss://` seed parses like `redis://`; [`wants_tls`] tells it.
pub fn parse_seed(input: &str) -> Result<(Endpoint, Option<String>, Option<Secret>), SeedError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(SeedError::Empty);
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return Ok((parse_host_port(s)?, None, None));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "redis" | "rediss" => {}
        _ => return Err(SeedError::UnsupportedScheme(scheme.to_owned())),
    }
    // Drop a fragment and a query (e.g. `?protocol=resp3`): neither changes where we connect.
    let rest = rest.split_once('#').map_or(rest, |(a, _)| a);
    let rest = rest.split_once('?').map_or(rest, |(a, _)| a);
    // The authority ends at the first `/` after any `@` (passwords may contain `/` only
    // percent-encoded, as in any URL).
    let (userinfo, hostpath) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (authority, path) = match hostpath.find('/') {
        Some(i) => (&hostpath[..i], &hostpath[i + 1..]),
        None => (hostpath, ""),
    };
    let path = path.trim_end_matches('/');
    if !path.is_empty() && path != "0" {
        return Err(SeedError::NonZeroDb(path.to_owned()));
    }
    if authority.is_empty() {
        return Err(SeedError::MissingHost(redact_userinfo(s)));
    }
    let endpoint = parse_host_port(authority)?;
    let (user, password) = match userinfo {
        None => (None, None),
        Some(ui) => {
            let (u, p) = match ui.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (ui, None),
            };
            let user = (!u.is_empty()).then(|| percent_decode(u)).transpose()?;
            let password = p.map(percent_decode).transpose()?.map(Secret::new);
            (user, password)
        }
    };
    Ok((endpoint, user, password))
}

/// Whether a seed asks for TLS (`rediss://`).
#[must_use]
pub fn wants_tls(seed: &str) -> bool {
    seed.trim()
        .split_once("://")
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("rediss"))
}

/// `host:port`, `[v6]:port`, `[v6]`, `host`, or a bare IPv6 address such as `::1`.
fn parse_host_port(s: &str) -> Result<Endpoint, SeedError> {
    if let Some(after) = s.strip_prefix('[') {
        let Some((host, tail)) = after.split_once(']') else {
            return Err(SeedError::InvalidHost(s.to_owned()));
        };
        if host.is_empty() {
            return Err(SeedError::MissingHost(s.to_owned()));
        }
        let port = match tail {
            "" => DEFAULT_PORT,
            t => match t.strip_prefix(':') {
                Some(p) => parse_port(p, s)?,
                None => return Err(SeedError::InvalidHost(s.to_owned())),
            },
        };
        return Ok(Endpoint::new(host, port));
    }
    // More than one colon without brackets: a bare IPv6 address, default port. When the last
    // group could as well be a port (`::1:6379`), guessing could send traffic to another
    // address than meant: ask for brackets instead.
    if s.matches(':').count() > 1 {
        if let Some((head, tail)) = s.rsplit_once(':')
            && head.parse::<std::net::Ipv6Addr>().is_ok()
            && let Ok(port) = tail.parse::<u16>()
            && port > 0
        {
            return Err(SeedError::AmbiguousIpv6 {
                given: s.to_owned(),
                host: head.to_owned(),
                port,
            });
        }
        return Ok(Endpoint::new(s, DEFAULT_PORT));
    }
    match s.split_once(':') {
        None => Ok(Endpoint::new(s, DEFAULT_PORT)),
        Some(("", _)) => Err(SeedError::MissingHost(s.to_owned())),
        Some((host, p)) => Ok(Endpoint::new(host, parse_port(p, s)?)),
    }
}

fn parse_port(p: &str, whole: &str) -> Result<u16, SeedError> {
    if p.is_empty() {
        return Err(SeedError::MissingPort(whole.to_owned()));
    }
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(SeedError::InvalidPort(p.to_owned())),
        Ok(n) => Ok(n),
    }
}

/// Decode `%XX` escapes (RFC 3986). `+` is kept as is (it is not a space in userinfo).
fn percent_decode(s: &str) -> Result<String, SeedError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(SeedError::InvalidEscape)?;
                let hex = std::str::from_utf8(hex).map_err(|_| SeedError::InvalidEscape)?;
                let b = u8::from_str_radix(hex, 16).map_err(|_| SeedError::InvalidEscape)?;
                out.push(b);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| SeedError::InvalidEscape)
}

/// A URL with any userinfo replaced by `***`, for messages.
fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***@{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn ep(h: &str, p: u16) -> Endpoint {
        Endpoint::new(h, p)
    }

    #[rstest]
    #[case("127.0.0.1:7000", ep("127.0.0.1", 7000))]
    #[case("  localhost:7001 ", ep("localhost", 7001))]
    #[case("[::1]:7002", ep("::1", 7002))]
    #[case("[::1]", ep("::1", 6379))]
    #[case("::1", ep("::1", 6379))]
    #[case("redis-a.internal", ep("redis-a.internal", 6379))]
    #[case("redis://127.0.0.1:7000", ep("127.0.0.1", 7000))]
    #[case("redis://127.0.0.1:7000/", ep("127.0.0.1", 7000))]
    #[case("redis://127.0.0.1:7000/0", ep("127.0.0.1", 7000))]
    #[case("redis://127.0.0.1", ep("127.0.0.1", 6379))]
    #[case("REDIS://[::1]:7003/0", ep("::1", 7003))]
    #[case("redis://h:7000?protocol=resp3", ep("h", 7000))]
    fn plain_seeds(#[case] input: &str, #[case] want: Endpoint) {
        let (got, user, pw) = parse_seed(input).unwrap();
        assert_eq!(got, want);
        assert_eq!(user, None);
        assert_eq!(pw, None);
    }

    #[test]
    fn url_credentials_are_percent_decoded() {
        let (e, user, pw) = parse_seed("redis://ops%40team:p%3Aw%2Fd%25@10.0.0.1:7000/0").unwrap();
        assert_eq!(e, ep("10.0.0.1", 7000));
        assert_eq!(user.as_deref(), Some("ops@team"));
        assert_eq!(pw.as_ref().map(Secret::expose), Some("p:w/d%"));
    }

    #[test]
    fn url_password_only_and_user_only() {
        let (_, user, pw) = parse_seed("redis://:s3cret@h:1").unwrap();
        assert_eq!(user, None);
        assert_eq!(pw.unwrap().expose(), "s3cret");
        let (_, user, pw) = parse_seed("redis://alice@h:1").unwrap();
        assert_eq!(user.as_deref(), Some("alice"));
        assert!(pw.is_none());
    }

    #[test]
    fn password_with_at_sign_uses_last_at() {
        let (e, user, pw) = parse_seed("redis://u:a@b@h:7000").unwrap();
        assert_eq!(e, ep("h", 7000));
        assert_eq!(user.as_deref(), Some("u"));
        assert_eq!(pw.unwrap().expose(), "a@b");
    }

    #[rstest]
    #[case("", SeedError::Empty)]
    #[case("http://h:7000", SeedError::UnsupportedScheme("http".into()))]
    #[case("h:", SeedError::MissingPort("h:".into()))]
    #[case("h:abc", SeedError::InvalidPort("abc".into()))]
    #[case("h:0", SeedError::InvalidPort("0".into()))]
    #[case("h:70000", SeedError::InvalidPort("70000".into()))]
    #[case(":7000", SeedError::MissingHost(":7000".into()))]
    #[case("::1:6379", SeedError::AmbiguousIpv6 { given: "::1:6379".into(), host: "::1".into(), port: 6379 })]
    #[case("redis://::1:7000", SeedError::AmbiguousIpv6 { given: "::1:7000".into(), host: "::1".into(), port: 7000 })]
    #[case("[::1", SeedError::InvalidHost("[::1".into()))]
    #[case("[::1]x", SeedError::InvalidHost("[::1]x".into()))]
    #[case("redis://h:7000/3", SeedError::NonZeroDb("3".into()))]
    #[case("redis://u:p%zz@h:7000", SeedError::InvalidEscape)]
    #[case("redis://u:p%4@h:7000", SeedError::InvalidEscape)]
    fn bad_seeds(#[case] input: &str, #[case] want: SeedError) {
        assert_eq!(parse_seed(input).unwrap_err(), want);
    }

    #[test]
    fn rediss_seeds_parse_and_ask_for_tls() {
        let (e, _, pw) = parse_seed("RedisS://u:pw@h:7000").unwrap();
        assert_eq!(e, ep("h", 7000));
        assert_eq!(pw.unwrap().expose(), "pw");
        assert!(wants_tls("rediss://h:7000") && !wants_tls("redis://h") && !wants_tls("h:1"));
    }

    #[test]
    fn errors_never_show_the_password() {
        let err = parse_seed("redis://u:hunter2@").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = parse_seed("redis://u:hunter2@h:99999").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = parse_seed("redis://u:hunter2@h:1/5").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        let opts = ConnectOptions {
            password: Some(s),
            ..ConnectOptions::default()
        };
        assert!(!format!("{opts:?}").contains("hunter2"));
    }

    #[test]
    fn options_from_several_seeds() {
        let o =
            ConnectOptions::from_seed_strs(&["redis://:pw@h:1", "h:2", "redis://:pw@h:3"]).unwrap();
        assert_eq!(o.seeds, vec![ep("h", 1), ep("h", 2), ep("h", 3)]);
        assert_eq!(o.password.unwrap().expose(), "pw");
        assert_eq!(o.connect_timeout, Duration::from_secs(1));
        assert_eq!(
            ConnectOptions::from_seed_strs(&["redis://:a@h:1", "redis://:b@h:2"]).unwrap_err(),
            SeedError::ConflictingCredentials
        );
    }
}
