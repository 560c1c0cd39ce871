//! Loopback TCP servers that are not Redis (silent, HTTP, garbage RESP), for the "bad input
//! gets a clear message" tests. They listen on 127.0.0.1 only and stop by themselves.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A loopback TCP server running `handler` per connection until dropped (or for 60 s at most).
pub struct FakeServer {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    /// Listen on a free 127.0.0.1 port and serve every connection on its own thread.
    pub fn start(handler: fn(TcpStream)) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((s, _)) => {
                        let _ = s.set_nonblocking(false);
                        std::thread::spawn(move || handler(s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        FakeServer { port, stop }
    }

    /// `127.0.0.1:<port>`, as a seed argument.
    pub fn seed(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Accepts and never answers (holds the socket open for a while).
pub fn silent(s: TcpStream) {
    std::thread::sleep(Duration::from_secs(20));
    drop(s);
}

/// Answers every read with an HTTP error, as a web server on the wrong port would.
pub fn http(mut s: TcpStream) {
    let mut buf = [0u8; 1024];
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    }
}

/// Speaks RESP, but every reply is a short nonsense string (garbage CLUSTER NODES / INFO).
pub fn garbage_resp(mut s: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        // One reply per command in the read (commands are arrays starting with '*').
        #[allow(clippy::naive_bytecount)] // a few bytes; the lint's remedy is the `bytecount` crate
        let commands = buf[..n].iter().filter(|b| **b == b'*').count().max(1);
        for _ in 0..commands {
            let _ = s.write_all(b"$17\r\nthis is not redis\r\n");
        }
    }
}
