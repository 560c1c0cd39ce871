//! A simulated cluster: one process serving many loopback ports, each speaking enough RESP to
//! be probed as a cluster node (`PING`, `CLUSTER NODES/INFO/MYID/COUNTKEYSINSLOT`, `INFO`,
//! `CONFIG GET`, `CLIENT`, `AUTH`, `HELLO`, `DBSIZE`; anything else `-ERR unknown command`).
//! Healthy nodes hold no keys. Hostile modes make one node misbehave on `CLUSTER NODES`.
//!
//! Used by the hostile-reply tests and by the scale benchmark (`cargo bench --bench sim_cluster`),
//! which runs the real dashboard against 1000 simulated nodes.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the simulated nodes answer `CLUSTER NODES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every node answers with the full, consistent table.
    Healthy,
    /// A bulk string that claims 4 GB and streams bytes until the client hangs up.
    EndlessBulk,
    /// The table plus this many extra entries (address-less masters without slots).
    HugeNodes(usize),
}

/// A running simulation; it stops when dropped.
pub struct Sim {
    /// One port per simulated node, in node order.
    pub ports: Vec<u16>,
    /// Client connections open now, and the most that were open at once.
    connections: Arc<(AtomicUsize, AtomicUsize)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Cluster {
    ports: Vec<u16>,
    masters: usize,
    /// The table without any `myself` flag, one line per node.
    lines: Vec<String>,
    extra: String,
    mode: Mode,
}

/// 40 hex characters whose first 8 (the short id the dashboard and `check` show) differ
/// from node to node.
fn node_id(i: usize) -> String {
    format!("{:08x}{:032x}", i + 1, i + 1)
}

impl Sim {
    /// Serve `nodes` simulated nodes (half masters with the slots spread evenly, each with one
    /// replica; one node is a lone master) on free 127.0.0.1 ports.
    pub fn start(nodes: usize, mode: Mode) -> Sim {
        let nodes = nodes.max(1);
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let connections = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let counted = Arc::clone(&connections);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut listeners = Vec::with_capacity(nodes);
                for _ in 0..nodes {
                    listeners.push(TcpListener::bind("127.0.0.1:0").await.expect("bind"));
                }
                let ports: Vec<u16> = listeners
                    .iter()
                    .map(|l| l.local_addr().expect("addr").port())
                    .collect();
                let cluster = Arc::new(Cluster::new(ports.clone(), mode));
                let _ = port_tx.send(ports);
                for (i, l) in listeners.into_iter().enumerate() {
                    let c = Arc::clone(&cluster);
                    let counted = Arc::clone(&counted);
                    tokio::spawn(async move {
                        while let Ok((s, _)) = l.accept().await {
                            let c = Arc::clone(&c);
                            let counted = Arc::clone(&counted);
                            let open = counted.0.fetch_add(1, Ordering::SeqCst) + 1;
                            counted.1.fetch_max(open, Ordering::SeqCst);
                            tokio::spawn(async move {
                                let _ = serve(&c, i, s).await;
                                counted.0.fetch_sub(1, Ordering::SeqCst);
                            });
                        }
                    });
                }
                let _ = stop_rx.await;
            });
        });
        let ports = port_rx.recv().expect("the simulation starts");
        Sim {
            ports,
            connections,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The most client connections that were open at once, over all nodes.
    pub fn max_open_connections(&self) -> usize {
        self.connections.1.load(Ordering::SeqCst)
    }

    /// `127.0.0.1:<port>` of the first node, as a seed argument.
    pub fn seed(&self) -> String {
        format!("127.0.0.1:{}", self.ports[0])
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Cluster {
    fn new(ports: Vec<u16>, mode: Mode) -> Self {
        let n = ports.len();
        let masters = n.div_ceil(2).min(16_384);
        let mut lines = Vec::with_capacity(n);
        for (i, port) in ports.iter().enumerate() {
            let mut l = format!("{} 127.0.0.1:{port}@{port} ", node_id(i));
            if i < masters {
                let start = i * 16_384 / masters;
                let end = (i + 1) * 16_384 / masters - 1;
                let _ = write!(
                    l,
                    "master - 0 1700000000000 {} connected {start}-{end}",
                    i + 1
                );
            } else {
                let m = i - masters;
                let _ = write!(
                    l,
                    "slave {} 0 1700000000000 {} connected",
                    node_id(m),
                    m + 1
                );
            }
            lines.push(l);
        }
        let mut extra = String::new();
        if let Mode::HugeNodes(k) = mode {
            for j in 0..k {
                let _ = writeln!(
                    extra,
                    "{:040x} :0@0 master,noaddr - 0 0 0 disconnected",
                    0xf000_0000_usize + j
                );
            }
        }
        Self {
            ports,
            masters,
            lines,
            extra,
            mode,
        }
    }

    fn nodes_text(&self, me: usize) -> String {
        let mut s = String::with_capacity(self.lines.len() * 120 + self.extra.len());
        for (i, l) in self.lines.iter().enumerate() {
            if i == me {
                // "<id> <addr> " then "myself," before the flags.
                let mut parts = l.splitn(3, ' ');
                let (id, addr, rest) = (
                    parts.next().unwrap_or(""),
                    parts.next().unwrap_or(""),
                    parts.next().unwrap_or(""),
                );
                let _ = writeln!(s, "{id} {addr} myself,{rest}");
            } else {
                s.push_str(l);
                s.push('\n');
            }
        }
        s.push_str(&self.extra);
        s
    }

    fn info(&self, me: usize) -> String {
        let mut s = String::from(
            "# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\nuptime_in_seconds:1000\r\n\
             # Clients\r\nconnected_clients:1\r\n# Memory\r\nused_memory:1000000\r\n\
             # Persistence\r\nloading:0\r\n# Stats\r\ninstantaneous_ops_per_sec:0\r\n",
        );
        if me < self.masters {
            s.push_str("# Replication\r\nrole:master\r\nconnected_slaves:1\r\n");
        } else {
            let m = me - self.masters;
            let _ = write!(
                s,
                "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:{}\r\n\
                 master_link_status:up\r\nmaster_sync_in_progress:0\r\n",
                self.ports[m]
            );
        }
        s.push_str("# Cluster\r\ncluster_enabled:1\r\n# Keyspace\r\n");
        s
    }

    fn cluster_info(&self) -> String {
        format!(
            "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n\
             cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:{}\r\n\
             cluster_size:{}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:1\r\n",
            self.lines.len(),
            self.masters,
            self.masters
        )
    }
}

fn bulk(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(format!("${}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Read one request (an array of bulk strings, or an inline command).
async fn read_request(r: &mut BufReader<tokio::net::tcp::ReadHalf<'_>>) -> Option<Vec<String>> {
    let mut line = String::new();
    if r.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let line = line.trim_end();
    let Some(n) = line.strip_prefix('*') else {
        return Some(line.split_whitespace().map(str::to_owned).collect());
    };
    let n: usize = n.parse().ok()?;
    let mut args = Vec::with_capacity(n);
    for _ in 0..n.min(1024) {
        let mut len = String::new();
        r.read_line(&mut len).await.ok()?;
        let len: usize = len.trim_end().strip_prefix('$')?.parse().ok()?;
        let mut buf = vec![0_u8; len.min(1 << 20) + 2];
        r.read_exact(&mut buf).await.ok()?;
        buf.truncate(len);
        args.push(String::from_utf8_lossy(&buf).into_owned());
    }
    Some(args)
}

async fn serve(c: &Cluster, me: usize, mut s: TcpStream) -> std::io::Result<()> {
    let _ = s.set_nodelay(true);
    let (rd, mut wr) = s.split();
    let mut rd = BufReader::new(rd);
    let mut out = Vec::new();
    while let Some(args) = read_request(&mut rd).await {
        let upper: Vec<String> = args
            .iter()
            .take(2)
            .map(|a| a.to_ascii_uppercase())
            .collect();
        let words: Vec<&str> = upper.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["PING", ..] => out.extend_from_slice(b"+PONG\r\n"),
            ["CLUSTER", "NODES"] => match c.mode {
                Mode::EndlessBulk if me == 0 => {
                    wr.write_all(&out).await?;
                    wr.write_all(b"$4294967296\r\n").await?;
                    let chunk = vec![b'x'; 64 * 1024];
                    loop {
                        wr.write_all(&chunk).await?;
                    }
                }
                _ => bulk(&mut out, &c.nodes_text(me)),
            },
            ["CLUSTER", "INFO"] => bulk(&mut out, &c.cluster_info()),
            ["CLUSTER", "MYID"] => bulk(&mut out, &node_id(me)),
            ["CLUSTER", "COUNTKEYSINSLOT"] | ["DBSIZE", ..] => out.extend_from_slice(b":0\r\n"),
            ["INFO", ..] => bulk(&mut out, &c.info(me)),
            // As Redis 7.0+: every parameter asked for, in one flat array of pairs.
            ["CONFIG", "GET"] => {
                let known: Vec<(&str, &str)> = args
                    .iter()
                    .skip(2)
                    .filter_map(|p| {
                        let v = match p.as_str() {
                            "cluster-node-timeout" => "15000",
                            "cluster-require-full-coverage" => "yes",
                            "save" => "",
                            "appendonly" => "no",
                            _ => return None,
                        };
                        Some((p.as_str(), v))
                    })
                    .collect();
                out.extend_from_slice(format!("*{}\r\n", known.len() * 2).as_bytes());
                for (p, v) in known {
                    bulk(&mut out, p);
                    bulk(&mut out, v);
                }
            }
            ["CLIENT" | "AUTH", ..] => out.extend_from_slice(b"+OK\r\n"),
            ["HELLO", ..] => {
                out.extend_from_slice(b"*4\r\n");
                bulk(&mut out, "server");
                bulk(&mut out, "redis");
                bulk(&mut out, "proto");
                out.extend_from_slice(b":2\r\n");
            }
            // As a real server: a container command names the subcommand it does not know.
            ["CLUSTER" | "CONFIG" | "ACL", sub, ..] => out.extend_from_slice(
                format!("-ERR unknown subcommand '{sub}'. Try {} HELP.\r\n", args[0]).as_bytes(),
            ),
            _ => {
                let name = args.first().map_or("", String::as_str);
                out.extend_from_slice(format!("-ERR unknown command '{name}'\r\n").as_bytes());
            }
        }
        // Answer a pipeline in one write, once no further request is already buffered.
        if rd.buffer().is_empty() {
            wr.write_all(&out).await?;
            out.clear();
        }
    }
    Ok(())
}
