//! The floor under `slotscope check`'s wall time: a client that sends each node exactly the
//! requests `check` sends on a healthy Redis 7 cluster, in one write per node, every node at
//! once, and reads the replies without parsing anything but the seed's node list. Whatever
//! `check` takes beyond this is its own work (parsing, folding, the model, the diagnosis, the
//! report); what this takes is connections, the servers' time and the machine.
//!
//! Per node: `PING`, `CLUSTER NODES`, `CLUSTER INFO`, `INFO` (the sections `check` reads),
//! `CONFIG GET` (its four parameters), `CLUSTER GETSLOTMIGRATIONS`; per master also `DBSIZE`,
//! `SCAN 0 COUNT n`, `DBSIZE` (the key census by one pass). The seed's census goes on a second
//! connection beside the other nodes' probes (`check` reuses the seed's connection): one
//! handshake more than `check`, so if anything this floor reads high.
//!
//! ```sh
//! cargo bench --bench bare_probe --no-run       # builds target/release/deps/bare_probe-*
//! BARE_SEED=127.0.0.1:PORT target/release/deps/bare_probe-HASH
//! N=31 python3 tests/bench/alternate.py "target/release/deps/bare_probe-HASH" \
//!     "target/release/slotscope check 127.0.0.1:PORT" "redis-cli --cluster check 127.0.0.1:PORT"
//! ```
//! (`alternate.py` passes the environment on: export `BARE_SEED` first.)

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// One request in RESP.
fn request(out: &mut Vec<u8>, args: &[&str]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
}

/// The batch `check` sends one node; with the census pass for a master serving `serves` slots.
fn batch(serves: Option<usize>) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut n = 0;
    let mut push = |args: &[&str]| {
        request(&mut out, args);
        n += 1;
    };
    push(&["PING"]);
    push(&["CLUSTER", "NODES"]);
    push(&["CLUSTER", "INFO"]);
    push(&[
        "INFO",
        "server",
        "replication",
        "keyspace",
        "cluster",
        "persistence",
    ]);
    push(&[
        "CONFIG",
        "GET",
        "cluster-require-full-coverage",
        "cluster-node-timeout",
        "save",
        "appendonly",
    ]);
    push(&["CLUSTER", "GETSLOTMIGRATIONS"]);
    if let Some(serves) = serves {
        let count = (serves * 2 + 128).to_string();
        push(&["DBSIZE"]);
        push(&["SCAN", "0", "COUNT", &count]);
        push(&["DBSIZE"]);
    }
    (out, n)
}

/// Where the reply starting at `i` ends (exclusive), `None` when it is not all in `buf` yet.
fn reply_end(buf: &[u8], i: usize) -> Option<usize> {
    let eol = i + buf.get(i..)?.windows(2).position(|w| w == b"\r\n")?;
    let head = buf.get(i)?;
    let num = || -> Option<i64> { std::str::from_utf8(buf.get(i + 1..eol)?).ok()?.parse().ok() };
    match head {
        b'$' => {
            let len = num()?;
            if len < 0 {
                return Some(eol + 2);
            }
            let end = eol + 2 + usize::try_from(len).ok()? + 2;
            (end <= buf.len()).then_some(end)
        }
        b'*' => {
            let mut at = eol + 2;
            for _ in 0..num()?.max(0) {
                at = reply_end(buf, at)?;
            }
            Some(at)
        }
        _ => Some(eol + 2),
    }
}

/// Connect, send the batch, read until `replies` complete replies are in.
async fn probe(addr: String, serves: Option<usize>) -> Option<Vec<u8>> {
    let (req, replies) = batch(serves);
    let mut s = TcpStream::connect(&addr).await.ok()?;
    s.set_nodelay(true).ok()?;
    s.write_all(&req).await.ok()?;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0_u8; 64 * 1024];
    loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(chunk.get(..n)?);
        let mut at = 0;
        let mut done = 0;
        while let Some(end) = reply_end(&buf, at) {
            at = end;
            done += 1;
        }
        if done >= replies {
            return Some(buf);
        }
    }
}

/// The seed's node list from its `CLUSTER NODES` (the second reply): each node's address and,
/// for a master, how many slots it serves.
fn nodes(buf: &[u8]) -> Vec<(String, Option<usize>)> {
    let Some(first) = reply_end(buf, 0) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&buf[first..]);
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() < 8 || f[0].len() != 40 {
            break;
        }
        let addr = f[1].split('@').next().unwrap_or_default().to_owned();
        let serves = f[2].contains("master").then(|| {
            f[8..]
                .iter()
                .filter(|r| !r.starts_with('['))
                .map(|r| match r.split_once('-') {
                    Some((a, b)) => {
                        b.parse::<usize>().unwrap_or(0) - a.parse::<usize>().unwrap_or(0) + 1
                    }
                    None => 1,
                })
                .sum()
        });
        out.push((addr, serves));
    }
    out
}

fn main() {
    let Ok(seed) = std::env::var("BARE_SEED") else {
        eprintln!("bare_probe: set BARE_SEED=HOST:PORT (a node of a running cluster)");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let job = async {
            let first = probe(seed.clone(), None).await.expect("the seed answers");
            let all = nodes(&first);
            let me = all.iter().find(|(a, _)| *a == seed).and_then(|(_, s)| *s);
            // The seed's census goes beside the other probes, as in `check`.
            let seed_census = async {
                if let Some(serves) = me {
                    probe(seed.clone(), Some(serves)).await;
                }
            };
            let others = futures::future::join_all(
                all.into_iter()
                    .filter(|(a, _)| *a != seed)
                    .map(|(a, s)| probe(a, s)),
            );
            let (answers, ()) = futures::join!(others, seed_census);
            let bytes: usize = answers.iter().flatten().map(Vec::len).sum();
            println!("{} nodes, {bytes} bytes", answers.len() + 1);
        };
        tokio::time::timeout(Duration::from_secs(10), job)
            .await
            .expect("within 10 s");
    });
}
