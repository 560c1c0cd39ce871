//! A byte budget on what a node may send: the socket under every connection is wrapped so that
//! the reply (or the replies of one pipeline) to a request may not exceed a maximum size.
//!
//! The budget counts bytes read since the last bytes written: every request starts a new
//! budget. Once a node has sent more than the limit without being asked for anything new, the
//! next read fails, the connection breaks (every call in flight on it fails) and
//! [`Tripwire::tripped`] tells the caller why. Nothing larger than the limit (plus one read
//! buffer) is ever buffered, whatever length a reply claims.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The default maximum reply size: 8 MiB, about 40 times a real 1000-node `CLUSTER NODES`
/// (about 200 kB, slot ranges included).
pub const DEFAULT_MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// Set once a connection's node exceeded the budget (shared by every handle of it); also
/// keeps the most bytes the node sent in answer to one request, which is about the size the
/// client's read buffer grew to and keeps for as long as the connection lives.
#[derive(Clone, Debug, Default)]
pub struct Tripwire(Arc<(AtomicBool, AtomicUsize)>);

impl Tripwire {
    /// True once the node sent an oversized reply on this connection.
    #[must_use]
    pub fn tripped(&self) -> bool {
        self.0.0.load(Ordering::Relaxed)
    }

    fn trip(&self) {
        self.0.0.store(true, Ordering::Relaxed);
    }

    /// The most bytes read between two writes on this connection so far.
    #[must_use]
    pub fn largest_reply(&self) -> usize {
        self.0.1.load(Ordering::Relaxed)
    }

    fn saw(&self, bytes: usize) {
        self.0.1.fetch_max(bytes, Ordering::Relaxed);
    }
}

/// A stream whose reads fail once more than `limit` bytes arrived since the last write.
#[derive(Debug)]
pub struct Bounded<S> {
    inner: S,
    limit: usize,
    read_since_write: usize,
    wire: Tripwire,
}

impl<S> Bounded<S> {
    /// Wrap `inner`; `wire` reports a trip.
    pub fn new(inner: S, limit: usize, wire: Tripwire) -> Self {
        Self {
            inner,
            limit: limit.max(1),
            read_since_write: 0,
            wire,
        }
    }
}

fn oversized(limit: usize) -> io::Error {
    io::Error::other(format!("sending an oversized reply (>{limit} bytes)"))
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read_since_write > this.limit {
            this.wire.trip();
            return Poll::Ready(Err(oversized(this.limit)));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            let n = buf.filled().len().saturating_sub(before);
            this.read_since_write = this.read_since_write.saturating_add(n);
            this.wire.saw(this.read_since_write);
            if this.read_since_write > this.limit {
                this.wire.trip();
                return Poll::Ready(Err(oversized(this.limit)));
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Bounded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = &r
            && *n > 0
        {
            this.read_since_write = 0;
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &r
            && *n > 0
        {
            this.read_since_write = 0;
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test]
    async fn reads_past_the_limit_fail_and_a_write_starts_a_new_budget() {
        let (client, mut server) = tokio::io::duplex(64);
        let wire = Tripwire::default();
        let mut b = Bounded::new(client, 10, wire.clone());
        server.write_all(b"0123456789").await.unwrap();
        let mut buf = [0_u8; 10];
        b.read_exact(&mut buf).await.unwrap();
        b.write_all(b"PING").await.unwrap();
        server.write_all(b"0123456789").await.unwrap();
        b.read_exact(&mut buf).await.unwrap();
        assert!(!wire.tripped());
        assert_eq!(wire.largest_reply(), 10);
        server.write_all(b"x").await.unwrap();
        let e = b.read(&mut buf).await.unwrap_err();
        assert!(e.to_string().contains("oversized reply (>10 bytes)"), "{e}");
        assert!(wire.tripped());
    }
}
