//! Bad input gets a clear message and a non-zero exit, never a panic or a hang: unreachable
//! seeds, a node that accepts TCP and never answers, a server that is not Redis, garbage
//! replies, bad arguments. The fake servers here listen on 127.0.0.1 only and stop by
//! themselves.

mod common;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::BIN;
use common::fake_server::{FakeServer, garbage_resp, http, silent};

fn run(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let out = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run slotscope");
    (out, t.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_no_panic(o: &Output) {
    let e = stderr(o);
    assert!(!e.contains("panicked"), "panic: {e}");
    assert!(!e.contains("RUST_BACKTRACE"), "panic: {e}");
}

#[test]
fn unreachable_seed_exits_3_quickly() {
    // Bind then drop to get a port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let seed = format!("127.0.0.1:{port}");
    for args in [vec!["check", seed.as_str()], vec!["fix", seed.as_str()]] {
        let (out, took) = run(&args);
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("{seed}: connection refused")),
            "{}",
            stderr(&out)
        );
        assert!(took < Duration::from_secs(3), "took {took:?}");
    }
}

#[test]
fn silent_node_times_out_with_a_clear_message() {
    let server = FakeServer::start(silent);
    let seed = server.seed();
    let (out, took) = run(&[
        "check",
        "--timeout",
        "400",
        "--connect-timeout",
        "400",
        &seed,
    ]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains(&seed), "{}", stderr(&out));
    assert!(
        took < Duration::from_millis(400) + Duration::from_secs(5),
        "must not hang: took {took:?}"
    );
}

#[test]
fn http_server_is_not_mistaken_for_redis() {
    let server = FakeServer::start(http);
    let seed = server.seed();
    let (out, took) = run(&["check", "--timeout", "500", &seed]);
    assert_no_panic(&out);
    let code = out.status.code().expect("exit code");
    assert!(code == 2 || code == 3, "exit {code}: {}", stderr(&out));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains(&seed), "{text}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn garbage_replies_give_a_clear_message() {
    let server = FakeServer::start(garbage_resp);
    let seed = server.seed();
    let (out, took) = run(&["check", "--json", "--timeout", "500", &seed]);
    assert_no_panic(&out);
    let code = out.status.code().expect("exit code");
    assert!(code == 2 || code == 3, "exit {code}: {}", stderr(&out));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains(&seed), "{text}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn bad_arguments_exit_3_with_a_message() {
    for args in [
        vec!["check", "127.0.0.1:99999"],
        vec!["check", "rediss://127.0.0.1:7000"],
        vec!["check", "ftp://127.0.0.1:7000"],
        vec!["check", "--timeout", "0", "127.0.0.1:7000"],
        vec!["--interval", "0", "127.0.0.1:7000"],
        vec!["check", "--no-such-flag"],
    ] {
        let (out, took) = run(&args);
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).trim().is_empty(), "{args:?}: no message");
        assert!(took < Duration::from_secs(3));
    }
}

#[test]
fn password_in_url_never_printed() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let seed = format!("redis://ops:s3cr3t-pw@127.0.0.1:{port}");
    let (out, _) = run(&["check", "--json", &seed]);
    assert_eq!(out.status.code(), Some(3));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!all.contains("s3cr3t-pw"), "{all}");
}
