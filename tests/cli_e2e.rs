//! The command line as a user meets it: typos refused before anything is sent, redis-cli
//! flags slotscope lacks named plainly, an unwritable log file, a closed pipe, errors without
//! a terminal, the dashboard without a terminal, and signals (terminal restored, shell exit
//! codes).
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use slotscope::lab::{Lab, LabOptions};

use common::BIN;
use common::tmux::Tmux;

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("REDISCLI_AUTH")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A listener that must never see a connection.
fn untouched_listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let seed = format!("127.0.0.1:{}", l.local_addr().unwrap().port());
    (l, seed)
}

fn assert_untouched(l: &TcpListener) {
    assert!(
        matches!(l.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "something connected"
    );
}

#[test]
fn a_misspelt_subcommand_is_refused_and_nothing_is_sent() {
    let (l, seed) = untouched_listener();
    for (typo, meant) in [("chekc", "check"), ("fxi", "fix"), ("dmeo", "demo")] {
        let o = run(&[typo, &seed]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("did you mean `{meant}`?")),
            "{}",
            stderr(&o)
        );
    }
    let o = run(&["check", "chekc", &seed]);
    assert!(
        stderr(&o).contains("did you mean `check`?"),
        "{}",
        stderr(&o)
    );
    assert_untouched(&l);
}

#[test]
fn a_redis_cli_flag_slotscope_lacks_is_named_plainly() {
    for flag in ["--no-raw", "--csv", "--pipe-timeout=3"] {
        let o = run(&["check", flag, "127.0.0.1:1"]);
        assert_eq!(o.status.code(), Some(3));
        let name = flag.split('=').next().unwrap();
        assert!(
            stderr(&o).contains(&format!(
                "`{name}` is a redis-cli flag that slotscope does not support"
            )),
            "{}",
            stderr(&o)
        );
    }
    let o = run(&["--bogus-flag"]);
    assert!(stderr(&o).contains("unexpected argument"), "{}", stderr(&o));
}

#[test]
fn an_unwritable_log_file_is_an_error_at_start_up() {
    let (l, seed) = untouched_listener();
    let o = run(&[
        "--log-file",
        "/proc/no-such-dir/slotscope.log",
        "check",
        &seed,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write the log file /proc/no-such-dir/slotscope.log"),
        "{}",
        stderr(&o)
    );
    assert_untouched(&l);
}

#[test]
fn a_closed_pipe_ends_quietly_and_errors_without_a_terminal_are_plain() {
    let lab = Lab::start(LabOptions {
        replicas_per_master: 0,
        keys: 20,
        ..LabOptions::default()
    })
    .unwrap();
    let seed = lab.endpoint(0).to_string();
    for args in [
        vec!["demo", "--list"],
        vec!["check", seed.as_str()],
        vec!["fix", seed.as_str()],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader went away, as `| head` does
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(err.is_empty(), "{args:?}: {err}");
        assert_ne!(o.status.code(), Some(101), "{args:?}: a panic");
    }
    // A failing stdout that is not a closed pipe: one plain line, no colours, no boilerplate.
    let o = Command::new(BIN)
        .args(["fix", &seed])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains('\u{1b}'), "ANSI codes: {err:?}");
    assert!(!err.contains("Backtrace omitted"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
}

#[test]
fn the_dashboard_without_a_terminal_says_so_and_sends_nothing() {
    let (l, seed) = untouched_listener();
    let o = run(&[&seed]);
    assert_ne!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("the dashboard needs a terminal"), "{err}");
    let o = run(&["demo"]);
    assert!(
        stderr(&o).contains("the dashboard needs a terminal"),
        "{}",
        stderr(&o)
    );
    assert_untouched(&l);
}

/// SIGTERM, SIGHUP and SIGQUIT leave the dashboard with the terminal restored (the shell's
/// next line is on the normal screen, not over the dashboard) and the shell's exit code.
#[test]
fn signals_restore_the_terminal_and_give_the_shell_exit_code() {
    let lab = Lab::start(LabOptions {
        replicas_per_master: 0,
        keys: 20,
        ..LabOptions::default()
    })
    .unwrap();
    let seed = lab.endpoint(0).to_string();
    let dir = tempfile::tempdir().unwrap();
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("QUIT", 131)] {
        let pidfile = dir.path().join(format!("{sig}.pid"));
        let cmd = format!(
            "sh -c 'sh -c \"echo \\$\\$ > {pf}; exec {BIN} {seed} --interval 1\"; echo EXIT=$?; sleep 60'",
            pf = pidfile.display()
        );
        let session = format!("slotscope-cli-{}-{sig}", std::process::id());
        let t = Tmux::start(&session, 100, 30, &cmd);
        t.wait_for("the dashboard", Duration::from_secs(20), |s| {
            s.contains(&seed)
        });
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), pid.trim()])
            .status()
            .unwrap();
        assert!(ok.success());
        let screen = t.wait_for("the exit code", Duration::from_secs(10), |s| {
            s.contains("EXIT=")
        });
        assert!(screen.contains(&format!("EXIT={code}")), "{sig}: {screen}");
        assert!(
            !screen.contains(&seed),
            "{sig}: the dashboard is still on screen:\n{screen}"
        );
    }
}

/// A config file with two contexts: `--context` picks the right seeds and settings, flags
/// override it, `slotscope contexts` lists them, and a password in a file others can read is
/// refused.
#[test]
fn contexts_pick_their_seeds_and_a_readable_password_file_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let lab = Lab::start(LabOptions {
        replicas_per_master: 0,
        keys: 0,
        password: Some("Ctx-pw-4410".into()),
        ..LabOptions::default()
    })
    .unwrap();
    let good = lab.endpoint(0).to_string();
    let (l, unused) = untouched_listener();
    drop(l); // now refused
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[contexts.lab]\nseeds = [\"{good}\"]\npassword_env = \"CTX_TEST_PW\"\n\
             read_only = true\nlabel = \"LAB\"\ncolor = \"red\"\n\n\
             [contexts.other]\nseeds = [\"{unused}\"]\n"
        ),
    )
    .unwrap();
    let run_ctx = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("SLOTSCOPE_CONFIG", &cfg)
            .env("CTX_TEST_PW", "Ctx-pw-4410")
            .env_remove("REDISCLI_AUTH")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = run_ctx(&["-C", "lab", "check"]);
    assert_eq!(o.status.code(), Some(1), "no replicas: {}", stderr(&o));
    let o = run_ctx(&["check", "--context", "other"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains(&unused), "{}", stderr(&o));
    // A seed on the command line overrides the context's.
    let o = run_ctx(&["-C", "other", "check", &good, "-a", "Ctx-pw-4410"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run_ctx(&["contexts"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("lab") && out.contains("label=LAB") && out.contains("other"),
        "{out}"
    );
    let o = run_ctx(&["-C", "nope", "check"]);
    assert!(stderr(&o).contains("no context `nope`"), "{}", stderr(&o));
    // A literal password: refused while others can read the file, accepted once private.
    std::fs::write(
        &cfg,
        format!("[contexts.lab]\nseeds = [\"{good}\"]\npassword = \"Ctx-pw-4410\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run_ctx(&["-C", "lab", "check"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("Ctx-pw-4410"));
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = run_ctx(&["-C", "lab", "check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}
