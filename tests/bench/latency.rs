//! Latency benchmark: `slotscope check` against `redis-cli --cluster check` on real local
//! clusters whose every node sits behind a delaying TCP proxy (`delay_proxy.rs`): the nodes
//! announce the proxies' ports (`cluster-announce-port`), so both tools reach every node
//! through a link with the added round-trip time, at 2 ms and 20 ms. slotscope reads the
//! whole cluster in a fixed number of round trips (the seed, then every other node at once);
//! redis-cli visits the nodes one after the other.
//!
//! Run: `cargo bench --bench latency` (needs redis-server and redis-cli on PATH). Knobs:
//! `LATENCY_MASTERS=6,20,60` (masters only, no replica), `LATENCY_RTT_MS=2,20`, `LATENCY_RUNS=5`.

#[path = "delay_proxy.rs"]
mod delay_proxy;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use slotscope::lab::{Lab, LabOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn list(name: &str, default: &str) -> Vec<u64> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time_ms(cmd: &mut Command) -> (f64, Option<i32>) {
    let t = Instant::now();
    let code = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .and_then(|s| s.code());
    (t.elapsed().as_secs_f64() * 1000.0, code)
}

/// The round trip a client sees through the proxy: median of `PING`s on one connection.
async fn ping_ms(port: u16) -> f64 {
    let mut s = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .await
        .expect("connect to the proxy");
    let _ = s.set_nodelay(true);
    let mut buf = [0_u8; 64];
    let mut v = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        s.write_all(b"PING\r\n").await.expect("write PING");
        let n = s.read(&mut buf).await.expect("read PONG");
        assert_eq!(&buf[..n], b"+PONG\r\n");
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    median(&mut v)
}

fn main() {
    if Command::new("redis-cli").arg("--version").output().is_err() {
        eprintln!("latency: redis-cli not found; install redis-tools");
        return;
    }
    let runs = list("LATENCY_RUNS", "5")
        .first()
        .and_then(|n| usize::try_from(*n).ok())
        .unwrap_or(5);
    let rtts = list("LATENCY_RTT_MS", "2,20");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let bin = env!("CARGO_BIN_EXE_slotscope");
    for masters in list("LATENCY_MASTERS", "6,20,60") {
        let masters = usize::try_from(masters).expect("masters");
        let mut lab = Lab::start(LabOptions {
            masters,
            // Replicas would reach their masters at the announced ports before the proxies
            // listen there: masters only (so `slotscope check` warns "no replica", exit 1).
            replicas_per_master: 0,
            // Written below, once the announced ports answer.
            keys: 0,
            node_timeout_ms: 5000,
            announce_unused_ports: true,
            ..LabOptions::default()
        })
        .expect("lab starts");
        // Each node's announced port gets a proxy to the port it listens on.
        let delay = delay_proxy::Delay::default();
        let mut seed = None;
        for (i, node) in lab.nodes().iter().enumerate() {
            let announced = lab
                .cluster_nodes(i)
                .expect("CLUSTER NODES")
                .into_iter()
                .find(|l| l.has_flag("myself"))
                .expect("myself line")
                .port;
            let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, announced));
            let upstream = SocketAddr::from((Ipv4Addr::LOCALHOST, node.port));
            rt.block_on(delay_proxy::spawn(listen, upstream, delay.clone()))
                .expect("proxy binds the announced port");
            seed.get_or_insert(announced);
        }
        lab.write_keys(1000)
            .expect("keys written through the proxies");
        let seed_port = seed.expect("a node");
        let seed = format!("127.0.0.1:{seed_port}");
        for &rtt in &rtts {
            delay.set(Duration::from_millis(rtt));
            let seen = rt.block_on(ping_ms(seed_port));
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                let (a, code_a) = time_ms(Command::new(bin).args(["check", &seed]));
                let (b, code_b) = time_ms(Command::new("redis-cli").env("TERM", "dumb").args([
                    "--cluster",
                    "check",
                    &seed,
                ]));
                assert!(
                    matches!(code_a, Some(0 | 1)),
                    "slotscope check: no critical finding ({code_a:?})"
                );
                assert_eq!(
                    code_b,
                    Some(0),
                    "redis-cli check exits 0 on a healthy cluster"
                );
                ours.push(a);
                theirs.push(b);
            }
            let (a, b) = (median(&mut ours), median(&mut theirs));
            println!(
                "{} nodes, added RTT {rtt} ms (PING through the proxy {seen:.2} ms), {runs} alternating runs: \
                 slotscope check {a:.0} ms = {:.1} RTT, redis-cli --cluster check {b:.0} ms = {:.1} RTT, ratio {:.2}",
                lab.nodes().len(),
                a / seen,
                b / seen,
                a / b
            );
        }
    }
}
