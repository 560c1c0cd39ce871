//! Finding `redis-server`, picking free ports, writing a node's config and spawning it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::LabError;
use super::conn;

/// Environment variable that overrides where `redis-server` is found.
pub const REDIS_SERVER_ENV: &str = "REDIS_SERVER";

/// Distance between a node's client port and its cluster bus port (the server default).
const BUS_PORT_OFFSET: u16 = 10_000;

/// How long a freshly spawned server may take to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Locate the `redis-server` binary: the explicit path, else `$REDIS_SERVER`, else `PATH`.
///
/// # Errors
/// [`LabError::ServerNotFound`] with install hints when nothing executable is found.
pub fn find_redis_server(explicit: Option<&Path>) -> Result<PathBuf, LabError> {
    if let Some(p) = explicit {
        return executable(p)
            .ok_or_else(|| not_found(&format!("{} (given explicitly)", p.display())));
    }
    if let Some(p) = std::env::var_os(REDIS_SERVER_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return executable(&p)
            .ok_or_else(|| not_found(&format!("{} (from ${REDIS_SERVER_ENV})", p.display())));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find_map(|dir| executable(&dir.join("redis-server")))
        .ok_or_else(|| not_found("redis-server on PATH"))
}

/// `valkey` or `redis`, from the binary's `--version` line (`Valkey server v=8.1.8 …`);
/// `redis` when it cannot be told.
pub(crate) fn server_name(server: &Path) -> &'static str {
    let out = Command::new(server)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match out {
        Ok(o) if String::from_utf8_lossy(&o.stdout).starts_with("Valkey") => "valkey",
        _ => "redis",
    }
}

fn executable(p: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = fs::metadata(p).ok()?;
    (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then(|| p.to_path_buf())
}

fn not_found(looked_for: &str) -> LabError {
    LabError::ServerNotFound {
        looked_for: looked_for.to_owned(),
    }
}

/// Ports handed out by this process and not yet released.
fn reserved() -> &'static Mutex<HashSet<u16>> {
    static RESERVED: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    RESERVED.get_or_init(|| Mutex::new(HashSet::new()))
}

fn port_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Reserve a client port `p` on 127.0.0.1 such that `p` and its bus port `p + 10000` are both
/// free right now and not handed out to another lab in this process.
///
/// Another process can still take the port before the server binds it; the caller retries.
pub(crate) fn reserve_port() -> Result<u16, LabError> {
    for _ in 0..500 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| LabError::Io {
            context: "binding 127.0.0.1:0 to find a free port".into(),
            source: e,
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| LabError::Io {
                context: "reading a bound port".into(),
                source: e,
            })?
            .port();
        drop(listener);
        let Some(bus) = port.checked_add(BUS_PORT_OFFSET) else {
            continue;
        };
        let mut set = reserved()
            .lock()
            .map_err(|_| LabError::Invalid("port registry poisoned".into()))?;
        if set.contains(&port) || set.contains(&bus) || !port_free(bus) {
            continue;
        }
        set.insert(port);
        return Ok(port);
    }
    Err(LabError::Invalid(
        "no free 127.0.0.1 port pair (port, port+10000) after 500 attempts".into(),
    ))
}

/// A 127.0.0.1 port that nothing listens on right now and that no lab of this process will
/// use, for "connection refused" checks. It stays reserved until the process ends.
///
/// # Errors
/// No free port pair was found.
pub fn unused_port() -> Result<u16, LabError> {
    reserve_port()
}

/// Give a port back to the process-wide pool.
pub(crate) fn release_port(port: u16) {
    if let Ok(mut set) = reserved().lock() {
        set.remove(&port);
    }
}

/// What goes into a node's `redis.conf`.
#[derive(Clone, Debug)]
pub(crate) struct NodeConf<'a> {
    pub port: u16,
    pub dir: &'a Path,
    pub cluster: bool,
    pub node_timeout_ms: u64,
    pub require_full_coverage: bool,
    pub password: Option<&'a str>,
    pub listen_ipv6: bool,
    /// Lines appended as they are.
    pub extra: &'a [String],
    pub tls: Option<&'a super::LabTls>,
    pub announce_port: Option<u16>,
    pub announce_hostname: Option<String>,
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn render_conf(c: &NodeConf<'_>) -> String {
    let dir = c.dir.display().to_string();
    let mut s = String::new();
    if let Some(tls) = c.tls {
        let _ = writeln!(s, "port 0");
        let _ = writeln!(s, "tls-port {}", c.port);
        let _ = writeln!(
            s,
            "tls-cert-file {}",
            quote(&tls.cert.display().to_string())
        );
        let _ = writeln!(s, "tls-key-file {}", quote(&tls.key.display().to_string()));
        let _ = writeln!(
            s,
            "tls-ca-cert-file {}",
            quote(&tls.ca.display().to_string())
        );
        let _ = writeln!(s, "tls-auth-clients optional");
        let _ = writeln!(s, "tls-cluster yes");
        let _ = writeln!(s, "tls-replication yes");
        conn::register_tls(c.port, &tls.ca);
    } else {
        let _ = writeln!(s, "port {}", c.port);
    }
    if let Some(p) = c.announce_port {
        let key = if c.tls.is_some() {
            "cluster-announce-tls-port"
        } else {
            "cluster-announce-port"
        };
        let _ = writeln!(s, "{key} {p}");
    }
    if let Some(h) = &c.announce_hostname {
        let _ = writeln!(s, "cluster-announce-hostname {}", quote(h));
        let _ = writeln!(s, "cluster-preferred-endpoint-type hostname");
    }
    let bind = if c.listen_ipv6 {
        "127.0.0.1 ::1"
    } else {
        "127.0.0.1"
    };
    let _ = writeln!(s, "bind {bind}");
    let _ = writeln!(s, "protected-mode no");
    let _ = writeln!(s, "daemonize no");
    let _ = writeln!(s, "dir {}", quote(&dir));
    let _ = writeln!(s, "logfile {}", quote(&format!("{dir}/redis.log")));
    let _ = writeln!(s, "appendonly no");
    let _ = writeln!(s, "save \"\"");
    // Replicas sync at once instead of waiting 5 s for more replicas to join the transfer.
    let _ = writeln!(s, "repl-diskless-sync-delay 0");
    if c.cluster {
        let _ = writeln!(s, "cluster-enabled yes");
        let _ = writeln!(s, "cluster-config-file nodes.conf");
        let _ = writeln!(s, "cluster-node-timeout {}", c.node_timeout_ms);
        let _ = writeln!(
            s,
            "cluster-require-full-coverage {}",
            if c.require_full_coverage { "yes" } else { "no" }
        );
    }
    if let Some(pw) = c.password {
        let _ = writeln!(s, "requirepass {}", quote(pw));
        let _ = writeln!(s, "masterauth {}", quote(pw));
    }
    for line in c.extra {
        let _ = writeln!(s, "{line}");
    }
    s
}

/// Spawn `redis-server` with the config in `conf.dir` and wait until it answers `PING` and
/// reports our child's pid. On failure the child is killed and the log tail returned.
pub(crate) fn spawn_server(server: &Path, conf: &NodeConf<'_>) -> Result<Child, LabError> {
    fs::create_dir_all(conf.dir).map_err(|e| LabError::Io {
        context: format!("creating {}", conf.dir.display()),
        source: e,
    })?;
    let conf_path = conf.dir.join("redis.conf");
    fs::write(&conf_path, render_conf(conf)).map_err(|e| LabError::Io {
        context: format!("writing {}", conf_path.display()),
        source: e,
    })?;
    let stderr_path = conf.dir.join("stderr.log");
    let stderr = File::create(&stderr_path).map_err(|e| LabError::Io {
        context: format!("creating {}", stderr_path.display()),
        source: e,
    })?;
    let mut child = Command::new(server)
        .arg(&conf_path)
        .current_dir(conf.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        // Own process group: a Ctrl-C meant for the dashboard's terminal does not reach the
        // servers; the lab stops them itself, by pid.
        .process_group(0)
        .spawn()
        .map_err(|e| LabError::Io {
            context: format!("starting {}", server.display()),
            source: e,
        })?;
    match wait_ready(&mut child, conf) {
        Ok(()) => Ok(child),
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(LabError::StartFailed {
                port: conf.port,
                why,
                log_tail: log_tail(conf.dir),
            })
        }
    }
}

fn wait_ready(child: &mut Child, conf: &NodeConf<'_>) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut last = String::from("no attempt yet");
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("redis-server exited early ({status})")),
            Ok(None) => {}
            Err(e) => return Err(format!("cannot poll the child: {e}")),
        }
        match conn::connect(conf.port, conf.password, conn::SHORT) {
            Ok(mut c) => match conn::query_string(&mut c, &["INFO", "server"]) {
                Ok(info) => {
                    let pid = conn::info_field(&info, "process_id");
                    if pid.as_deref() == Some(child.id().to_string().as_str()) {
                        return Ok(());
                    }
                    // Another process answers on our port: ours will fail to bind and exit.
                    last = format!(
                        "port {} is served by another process (pid {pid:?})",
                        conf.port
                    );
                }
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
        thread::sleep(Duration::from_millis(20));
    }
    Err(format!("not ready within {READY_TIMEOUT:?}: {last}"))
}

/// The last lines of a node's log and stderr, for error messages.
pub(crate) fn log_tail(dir: &Path) -> String {
    let mut out = String::new();
    for name in ["stderr.log", "redis.log"] {
        let Ok(mut f) = File::open(dir.join(name)) else {
            continue;
        };
        let len = f.metadata().map_or(0, |m| m.len());
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(1500)));
        let mut buf = String::new();
        let _ = f.read_to_string(&mut buf);
        if !buf.trim().is_empty() {
            let _ = writeln!(out, "--- {name} ---\n{}", buf.trim_end());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_quotes_paths_and_passwords() {
        let dir = PathBuf::from("/tmp/a b");
        let c = NodeConf {
            port: 7000,
            dir: &dir,
            cluster: true,
            node_timeout_ms: 1500,
            require_full_coverage: false,
            password: Some("p\"w"),
            listen_ipv6: false,
            extra: &[],
            tls: None,
            announce_port: None,
            announce_hostname: None,
        };
        let s = render_conf(&c);
        assert!(s.contains("port 7000\n"));
        assert!(s.contains("dir \"/tmp/a b\"\n"));
        assert!(s.contains("cluster-node-timeout 1500\n"));
        assert!(s.contains("cluster-require-full-coverage no\n"));
        assert!(s.contains("requirepass \"p\\\"w\"\n"));
        assert!(s.contains("masterauth \"p\\\"w\"\n"));
        assert!(s.contains("bind 127.0.0.1\n"));
        assert!(
            render_conf(&NodeConf {
                listen_ipv6: true,
                ..c.clone()
            })
            .contains("bind 127.0.0.1 ::1\n")
        );
        let standalone = render_conf(&NodeConf {
            cluster: false,
            password: None,
            ..c
        });
        assert!(!standalone.contains("cluster-enabled"));
        assert!(!standalone.contains("requirepass"));
    }

    #[test]
    fn reserved_ports_are_distinct_and_have_a_bus_port() {
        let a = reserve_port().unwrap_or(0);
        let b = reserve_port().unwrap_or(0);
        assert_ne!(a, 0);
        assert_ne!(a, b);
        assert!(a.checked_add(BUS_PORT_OFFSET).is_some());
        release_port(a);
        release_port(b);
    }

    #[test]
    fn missing_explicit_server_is_a_clear_error() {
        let err = find_redis_server(Some(Path::new("/nonexistent/redis-server")));
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("apt-get install redis-server"), "{msg}");
        assert!(msg.contains("brew install redis"), "{msg}");
    }
}
