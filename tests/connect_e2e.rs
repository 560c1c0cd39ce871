//! redis-cli's connection flags against a real password-protected cluster: `-a`, `--pass`,
//! `-u`, `--user`, `REDISCLI_AUTH`, `-c`; the password never reaches stdout, stderr, the log,
//! the JSON, the audit log, nor the process's visible arguments.
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value as Json;
use slotscope::lab::{Lab, LabOptions, Scenario};

use common::fake_server::{FakeServer, silent};
use common::tmux::Tmux;

/// A password nobody would print by accident.
const PASSWORD: &str = "Pw-connect-5e1b77";
const WARNING: &str = "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.";

/// `check`'s exit code on the interrupted reshard: observed, with warnings.
const OBSERVED: i32 = 1;

fn run(args: &[&str]) -> Output {
    Command::new(common::BIN)
        .args(args)
        .env_remove("REDISCLI_AUTH")
        .env_remove("SLOTSCOPE_AUDIT_LOG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn assert_no_secret(o: &Output) {
    let (out, err) = text(o);
    assert!(!out.contains(PASSWORD), "password on stdout:\n{out}");
    assert!(!err.contains(PASSWORD), "password on stderr:\n{err}");
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn lab() -> Lab {
    let base = LabOptions {
        keys: 200,
        node_timeout_ms: 1500,
        password: Some(PASSWORD.to_owned()),
        ..LabOptions::default()
    };
    Scenario::InterruptedReshard
        .start(base)
        .unwrap_or_else(|e| panic!("scenario did not start: {e}"))
        .0
}

#[test]
fn dash_a_and_dash_u_reach_a_password_protected_cluster_and_never_show_it() {
    let lab = lab();
    let seed = lab.endpoint(0).to_string();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("slotscope.log");
    let log_arg = log.to_str().unwrap();

    // Without a password the cluster cannot be observed (the test would pass vacuously).
    let o = run(&["check", &seed]);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));

    // -a: observed (an interrupted reshard is a warning: 1), warned, JSON clean.
    let o = run(&[
        "--log-file",
        log_arg,
        "check",
        "--json",
        "-a",
        PASSWORD,
        &seed,
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(OBSERVED), "{out}\n{err}");
    assert!(err.contains(WARNING), "{err}");
    assert_no_secret(&o);
    let _: Json = serde_json::from_str(&out).unwrap();

    // --pass and --no-auth-warning.
    let o = run(&["check", "--pass", PASSWORD, "--no-auth-warning", &seed]);
    assert_eq!(o.status.code(), Some(OBSERVED), "{:?}", text(&o));
    assert!(!text(&o).1.contains("Warning"), "{:?}", text(&o));
    assert_no_secret(&o);

    // -u with the password in the URL, --user default; -c accepted with a note.
    let uri = format!("redis://default:{PASSWORD}@{seed}");
    let o = run(&["check", "-c", "-u", &uri]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(OBSERVED), "{out}\n{err}");
    assert!(err.contains(WARNING), "{err}");
    assert!(err.contains("-c ignored"), "{err}");
    assert_no_secret(&o);
    let o = run(&["check", "--user", "default", "-a", PASSWORD, &seed]);
    assert_eq!(o.status.code(), Some(OBSERVED), "{:?}", text(&o));

    // A seed URL with the password (no -u): no warning, as redis-cli, and observed.
    let o = run(&["check", &format!("redis://:{PASSWORD}@{seed}")]);
    assert_eq!(o.status.code(), Some(OBSERVED), "{:?}", text(&o));
    assert!(!text(&o).1.contains("Warning"), "{:?}", text(&o));

    // A wrong password: clear, exit 3, the wrong password is not echoed either.
    let o = run(&["check", "-a", "Wrong-pw-91", &seed]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}\n{err}");
    assert!(!out.contains("Wrong-pw-91") && !err.contains("Wrong-pw-91"));

    // fix: list, apply with -a; the password in no output, log or audit line.
    let audit = dir.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap();
    let o = run(&[
        "--log-file",
        log_arg,
        "fix",
        "--json",
        "-a",
        PASSWORD,
        &seed,
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_no_secret(&o);
    let doc: Json = serde_json::from_str(&out).unwrap();
    let id = doc["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "complete_migration")
        .unwrap_or_else(|| panic!("no complete_migration plan: {out}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = run(&[
        "--log-file",
        log_arg,
        "fix",
        "--apply",
        &id,
        "--yes",
        "--audit-log",
        audit_arg,
        "--timeout",
        "3000",
        "-a",
        PASSWORD,
        &seed,
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_no_secret(&o);
    let audit_text = read(&audit);
    assert!(audit_text.contains("MIGRATE"), "{audit_text}");
    assert!(!audit_text.contains(PASSWORD), "{audit_text}");
    let log_text = read(&log);
    assert!(log_text.contains("sending write command"), "{log_text}");
    assert!(
        !log_text.contains(PASSWORD),
        "password in the log:\n{log_text}"
    );
}

/// While slotscope runs, `ps` (`/proc/<pid>/cmdline`, readable by every user) does not show
/// the password given with `-a` or in a URL.
#[cfg(target_os = "linux")]
#[test]
fn the_password_is_not_in_the_visible_arguments() {
    let server = FakeServer::start(silent);
    let seed = server.seed();
    for args in [
        vec!["check", "-a", PASSWORD],
        vec!["check", "-u"],
        vec!["check"],
    ] {
        let mut cmd = Command::new(common::BIN);
        cmd.args(&args);
        let url = format!("redis://ops:{PASSWORD}@{seed}");
        if args.len() == 3 {
            cmd.arg(&seed);
        } else {
            cmd.arg(&url);
        }
        let mut child = cmd
            .args(["--timeout", "4000", "--connect-timeout", "4000"])
            .env_remove("REDISCLI_AUTH")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The silent server makes the AUTH wait; by then the process has re-executed itself.
        std::thread::sleep(Duration::from_millis(800));
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let _ = child.kill();
        let _ = child.wait();
        assert!(!cmdline.contains(PASSWORD), "{args:?}: {cmdline}");
        assert!(cmdline.contains(&seed), "{args:?}: {cmdline}");
    }
}

/// Nodes that announce ports nobody listens on (`cluster-announce-port`) are reached with
/// `--remap`; the plans' redis-cli lines name the connected address.
#[test]
fn remap_reaches_nodes_that_announce_unreachable_ports() {
    let lab = Lab::start(LabOptions {
        replicas_per_master: 0,
        // The lab writes keys by following MOVED to the announced ports: none here.
        keys: 0,
        announce_unused_ports: true,
        ..LabOptions::default()
    })
    .unwrap_or_else(|e| panic!("lab: {e}"));
    let nodes = lab.cluster_nodes(0).unwrap();
    let announced = |i: usize| {
        let line = nodes.iter().find(|n| n.id == lab.node_id(i)).unwrap();
        format!("127.0.0.1:{}", line.port)
    };
    for i in 0..lab.nodes().len() {
        assert_ne!(announced(i), lab.endpoint(i).to_string(), "{nodes:?}");
    }
    // Without remapping, the announced ports cannot be reached.
    let o = run(&["check", &announced(0)]);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    let mut args = vec!["check".to_owned(), "--json".to_owned()];
    for i in 0..lab.nodes().len() {
        args.push("--remap".to_owned());
        args.push(format!("{}={}", announced(i), lab.endpoint(i)));
    }
    args.push(announced(0));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&argv);
    let (out, err) = text(&o);
    // Masters without replicas: a warning (1), and nothing else is wrong.
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    for f in doc["findings"].as_array().unwrap() {
        assert_eq!(f["kind"], "no_replica", "{f}");
    }
    assert!(
        doc.to_string().contains(&announced(1)),
        "the announced addresses are shown: {doc}"
    );
    // A whole-host rule that maps nothing useful leaves the ports as announced: still refused.
    let o = run(&["check", "--remap", "127.0.0.1=localhost", &announced(0)]);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
}

/// Every node's announced port and its real one, from node 0's `CLUSTER NODES`.
fn announced_ports(lab: &Lab) -> Vec<(u16, u16)> {
    let nodes = lab.cluster_nodes(0).unwrap();
    (0..lab.nodes().len())
        .map(|i| {
            let line = nodes.iter().find(|n| n.id == lab.node_id(i)).unwrap();
            (line.port, lab.endpoint(i).port)
        })
        .collect()
}

/// Wait for the dashboard's first cluster screen, then return it.
fn dashboard_screen(t: &Tmux, what: &str, f: impl Fn(&str) -> bool) -> String {
    t.wait_for(what, Duration::from_secs(20), |s| {
        s.lines().next().is_some_and(|l| !l.contains("waiting")) && f(s)
    })
}

/// The dashboard under `--remap` names the announced and the connected address of each node,
/// legibly at 80x24 and at 120x40 (the node detail spells them out in full).
#[test]
fn the_dashboard_shows_announced_and_connected_addresses_under_remap() {
    let lab = Lab::start(LabOptions {
        replicas_per_master: 0,
        keys: 0,
        announce_unused_ports: true,
        ..LabOptions::default()
    })
    .unwrap_or_else(|e| panic!("lab: {e}"));
    let ports = announced_ports(&lab);
    let mut cmd = format!("{} --interval 1", common::BIN);
    for (ann, real) in &ports {
        cmd.push_str(&format!(" --remap 127.0.0.1:{ann}=127.0.0.1:{real}"));
    }
    cmd.push_str(&format!(" 127.0.0.1:{}", ports[0].0));
    for (w, h) in [(120, 40), (80, 24)] {
        let session = format!("slotscope-remap-{w}-{}", std::process::id());
        let t = Tmux::start(&session, w, h, &cmd);
        let pair = |s: &str| {
            ports
                .iter()
                .all(|(a, r)| s.contains(&format!("127.0.0.1:{a} → 127.0.0.1:{r}")))
        };
        // The table leaves out the repeated host: `127.0.0.1:30001 → :7000`.
        let screen = dashboard_screen(&t, "both addresses in the node table", |s| {
            ports
                .iter()
                .all(|(a, r)| s.contains(&format!("127.0.0.1:{a} → :{r} ")))
        });
        assert!(!screen.contains('…'), "nothing cut at {w}x{h}:\n{screen}");
        // The node detail names both in full at any size.
        t.keys("Tab");
        let detail = (0..6).find_map(|_| {
            t.keys("Enter");
            std::thread::sleep(Duration::from_millis(400));
            let s = t.capture();
            if s.contains("connected to") {
                return Some(s);
            }
            t.keys("Escape");
            t.keys("Tab");
            None
        });
        let detail = detail.unwrap_or_else(|| panic!("{w}x{h}: no node detail:\n{}", t.capture()));
        assert!(
            ports
                .iter()
                .any(|(a, r)| detail.contains(&format!("127.0.0.1:{a} → 127.0.0.1:{r} (--remap)"))),
            "{w}x{h}:\n{detail}"
        );
        let _ = pair;
        t.keys("Escape");
        t.keys("q");
        assert!(t.wait_exit(Duration::from_secs(10)));
    }
}

/// Nodes that announce hostnames (`cluster-announce-hostname`) and ports nobody listens on:
/// with `--prefer-hostname`, slotscope connects by hostname (remapped per hostname to where
/// the node listens; no name is ever looked up off this machine), shows both addresses, and
/// the plans' `redis-cli` lines and the repair use the connected address. Without it, the
/// same rules do not apply to the announced IPs and nothing can be observed.
#[test]
fn prefer_hostname_connects_by_the_announced_hostname() {
    let lab = Lab::start(LabOptions {
        replicas_per_master: 0,
        keys: 0,
        announce_unused_ports: true,
        announce_hostname_prefix: Some("node-".to_owned()),
        ..LabOptions::default()
    })
    .unwrap_or_else(|e| panic!("lab: {e}"));
    let raw = lab.query(0, &["CLUSTER", "NODES"]).unwrap();
    assert!(
        raw.contains(",node-0"),
        "the nodes announce hostnames:\n{raw}"
    );
    let ports = announced_ports(&lab);
    // Rules by hostname: node-i at its announced port is localhost at its real port.
    let mut rules = Vec::new();
    for (i, (ann, real)) in ports.iter().enumerate() {
        rules.push("--remap".to_owned());
        rules.push(format!("node-{i}:{ann}=localhost:{real}"));
    }
    // The seed by where it listens (it names itself node-0 at its announced port).
    let seed = lab.endpoint(0).to_string();
    let with = |head: &[&str], prefer: bool| {
        let mut a: Vec<String> = head.iter().map(|s| (*s).to_owned()).collect();
        if prefer {
            a.push("--prefer-hostname".to_owned());
        }
        a.extend(rules.iter().cloned());
        a.push(seed.clone());
        a
    };
    let run_v = |a: &[String]| run(&a.iter().map(String::as_str).collect::<Vec<_>>());

    // Without --prefer-hostname the rules name no announced address: the other nodes are
    // unreachable.
    let o = run_v(&with(&["check"], false));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(out.contains("unreachable") || out.contains("DOWN"), "{out}");

    let o = run_v(&with(&["check", "--json"], true));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    for f in doc["findings"].as_array().unwrap() {
        assert_eq!(f["kind"], "no_replica", "{f}");
    }

    // Break something: slot 5 left MIGRATING on its owner.
    let nodes = lab.cluster_nodes(0).unwrap();
    let owner = nodes.iter().find(|n| n.owns(5)).unwrap();
    let other = nodes.iter().find(|n| !n.owns(5)).unwrap();
    let owner_i = lab.index_of(&owner.id).unwrap();
    lab.cmd(
        owner_i,
        &["CLUSTER", "SETSLOT", "5", "MIGRATING", &other.id],
    )
    .unwrap();
    let o = run_v(&with(&["fix", "--json"], true));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    let plan = doc["plans"].as_array().unwrap().first().unwrap().clone();
    let lines: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["redis_cli"].as_str())
        .collect();
    assert!(!lines.is_empty(), "{plan}");
    for l in &lines {
        assert!(
            l.contains("-h localhost -p ") && !l.contains("-h 127.0.0.1"),
            "{l}"
        );
    }
    let id = plan["id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let o = run_v(&with(
        &[
            "fix",
            "--apply",
            id,
            "--yes",
            "--audit-log",
            audit.to_str().unwrap(),
        ],
        true,
    ));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = run_v(&with(&["check"], true));
    assert_eq!(o.status.code(), Some(1), "repaired: {:?}", text(&o));

    // The dashboard shows the announced address and where it connects by hostname.
    let cmd = format!("{} --interval 1 {}", common::BIN, with(&[], true).join(" "));
    let session = format!("slotscope-hostname-{}", std::process::id());
    let t = Tmux::start(&session, 120, 40, &cmd);
    let screen = dashboard_screen(&t, "announced → connected", |s| {
        ports
            .iter()
            .any(|(a, r)| s.contains(&format!("127.0.0.1:{a} → localhost:{r}")))
    });
    assert!(!screen.contains("unreachable"), "{screen}");
    t.keys("q");
    assert!(t.wait_exit(Duration::from_secs(10)));
}

/// `:ctx NAME` in the dashboard: a config file with two contexts on two real clusters (one
/// password-protected, its password in an environment variable); `:ctx` lists them, an
/// unknown name is refused in words, Tab completes, and the switch shows the other cluster's
/// nodes under its label.
#[test]
fn ctx_switches_the_dashboard_to_another_context() {
    let small = LabOptions {
        replicas_per_master: 0,
        keys: 0,
        ..LabOptions::default()
    };
    let blue = Lab::start(small.clone()).unwrap_or_else(|e| panic!("lab: {e}"));
    let green = Lab::start(LabOptions {
        masters: 4,
        password: Some(PASSWORD.to_owned()),
        ..small
    })
    .unwrap_or_else(|e| panic!("lab: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[contexts.blue]\nseeds = [\"{}\"]\nlabel = \"BLUE-LAB\"\ncolor = \"blue\"\n\n\
             [contexts.green]\nseeds = [\"{}\"]\npassword_env = \"GREEN_PW\"\nlabel = \"GREEN-LAB\"\n\
             color = \"green\"\nread_only = true\n\n\
             [contexts.bare]\nseeds = [\"{}\"]\n\n\
             [contexts.slow]\nseeds = [\"{}\"]\npassword_command = \"sleep 60; echo pw\"\n",
            blue.endpoint(0),
            green.endpoint(0),
            green.endpoint(0),
            green.endpoint(0)
        ),
    )
    .unwrap();
    let cmd = format!(
        "env SLOTSCOPE_CONFIG={} GREEN_PW={PASSWORD} {} --interval 1 -C blue",
        config.display(),
        common::BIN
    );
    let session = format!("slotscope-ctx-{}", std::process::id());
    let t = Tmux::start(&session, 120, 40, &cmd);
    let port = |lab: &Lab, i: usize| format!("127.0.0.1:{}", lab.endpoint(i).port);
    let on = |lab: &Lab, s: &str| (0..lab.nodes().len()).all(|i| s.contains(&port(lab, i)));
    let screen = dashboard_screen(&t, "the blue cluster", |s| on(&blue, s));
    assert!(
        screen.contains("BLUE-LAB") && screen.contains("3 masters"),
        "{screen}"
    );

    t.literal(":ctx");
    t.keys("Enter");
    t.wait_for("the list of contexts", Duration::from_secs(5), |s| {
        s.contains("blue (current), green")
    });
    t.literal(":ctx nope");
    t.keys("Enter");
    t.wait_for("an unknown context refused", Duration::from_secs(5), |s| {
        s.contains("no context `nope`")
    });
    t.literal(":ctx gr");
    t.keys("Tab");
    t.wait_for("the name completed", Duration::from_secs(5), |s| {
        s.contains(":ctx green")
    });
    t.keys("Enter");
    let screen = t.wait_for("the green cluster", Duration::from_secs(20), |s| {
        on(&green, s) && s.contains("4 masters")
    });
    assert!(screen.contains("GREEN-LAB"), "{screen}");
    assert!(!screen.contains("BLUE-LAB"), "{screen}");
    assert!(
        !on(&blue, &screen),
        "nothing of the blue cluster stays:\n{screen}"
    );
    assert!(!screen.contains(PASSWORD), "{screen}");
    assert!(
        screen.contains("READ-ONLY"),
        "the context is read-only:\n{screen}"
    );
    // And back.
    t.literal(":ctx blue");
    t.keys("Enter");
    let screen = t.wait_for("the blue cluster again", Duration::from_secs(20), |s| {
        on(&blue, s) && s.contains("BLUE-LAB")
    });
    assert!(
        !screen.contains("GREEN-LAB") && !screen.contains("READ-ONLY"),
        "{screen}"
    );
    // A password source that takes its time never freezes the screen: keys are answered
    // while it runs, and q quits at once.
    t.literal(":ctx slow");
    t.keys("Enter");
    t.wait_for("the switch under way", Duration::from_secs(5), |s| {
        s.contains("switching to context slow")
    });
    t.literal(":ctx");
    t.keys("Enter");
    t.wait_for("keys answered meanwhile", Duration::from_secs(5), |s| {
        s.contains("blue (current), green")
    });
    let started = std::time::Instant::now();
    t.keys("q");
    assert!(
        t.wait_exit(Duration::from_secs(10)),
        "q waited for the password source"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "q waited for the password source: {:?}",
        started.elapsed()
    );

    // A password given on the command line stays with the cluster it was given for: a
    // context without one reaches the same protected cluster unauthenticated.
    let cmd = format!(
        "env SLOTSCOPE_CONFIG={} {} --interval 1 --no-auth-warning -a {PASSWORD} {}",
        config.display(),
        common::BIN,
        green.endpoint(0)
    );
    let session = format!("slotscope-ctx-pw-{}", std::process::id());
    let t = Tmux::start(&session, 120, 40, &cmd);
    dashboard_screen(&t, "the green cluster with -a", |s| {
        on(&green, s) && s.contains("4 masters")
    });
    t.literal(":ctx bare");
    t.keys("Enter");
    let screen = t.wait_for("the password refused", Duration::from_secs(20), |s| {
        s.contains("requires a password (NOAUTH)") && !s.contains("4 masters")
    });
    assert!(!screen.contains(PASSWORD), "{screen}");
    t.keys("q");
    assert!(t.wait_exit(Duration::from_secs(10)));
}
