//! A delaying TCP proxy for the latency benchmark: every byte a client sends reaches the node
//! half the added round-trip time later, and every reply comes back after the other half.
//! Bytes are delayed, not throttled: a pipeline of many commands costs one added round trip,
//! as on a real network link. The TCP handshake with the proxy is not delayed (a real link
//! would add one round trip per new connection, for every client alike).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The added round-trip time, in microseconds, shared by every proxy and changeable while
/// they run.
#[derive(Clone, Debug, Default)]
pub struct Delay(Arc<AtomicU64>);

impl Delay {
    pub fn set(&self, rtt: Duration) {
        self.0.store(
            u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Half the round trip: the delay of one direction.
    fn one_way(&self) -> Duration {
        Duration::from_micros(self.0.load(Ordering::Relaxed) / 2)
    }
}

/// Listen on `listen` and forward every connection to `upstream`, adding `delay` to each
/// round trip (half of it each way). Runs until the runtime stops.
///
/// # Errors
/// `listen` cannot be bound.
pub async fn spawn(listen: SocketAddr, upstream: SocketAddr, delay: Delay) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (d1, d2) = (delay.clone(), delay.clone());
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::join!(pump(cr, sw, d1), pump(sr, cw, d2));
            });
        }
    });
    Ok(())
}

/// Copy `from` to `to`, each chunk written one way's delay after it was read; reading goes on
/// meanwhile, so the delay adds latency and takes no throughput.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Delay) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0_u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay.one_way(), buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
