//! A real TLS-only cluster (`redis-server --port 0 --tls-port … --tls-cluster yes
//! --tls-replication yes`, certificates generated here with rcgen): `check`, `fix` (a repair)
//! and the dashboard over TLS; a wrong CA, a name mismatch, a plain client on the TLS port and
//! TLS to a plain port each give one clear line and exit 3.
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use serde_json::Value as Json;
use slotscope::lab::{Lab, LabOptions, LabTls, Scenario};

use common::tmux::Tmux;

struct Certs {
    dir: tempfile::TempDir,
    lab: LabTls,
    other_ca: PathBuf,
    /// A client certificate and key signed by the lab's CA.
    client: (PathBuf, PathBuf),
    /// A server certificate (and key) for the same names, signed by the lab's CA, that
    /// expired in 2021.
    expired: (PathBuf, PathBuf),
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A CA, a server certificate for `localhost`, `redis.test` and 127.0.0.1 signed by it, and
/// an unrelated CA.
fn certs() -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca("slotscope test CA");
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "redis.test".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    params
        .distinguished_name
        .push(DnType::CommonName, "redis.test");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let lab = LabTls {
        cert: write(dir.path(), "server.pem", &cert.pem()),
        key: write(dir.path(), "server.key", &key.serialize_pem()),
        ca: write(dir.path(), "ca.pem", &ca.pem()),
    };
    let other_ca = write(dir.path(), "other-ca.pem", &ca_pem_other());
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let expired = (
        write(dir.path(), "expired.pem", &cert.pem()),
        write(dir.path(), "expired.key", &key.serialize_pem()),
    );
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "slotscope client");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let client = (
        write(dir.path(), "client.pem", &cert.pem()),
        write(dir.path(), "client.key", &key.serialize_pem()),
    );
    Certs {
        dir,
        lab,
        other_ca,
        client,
        expired,
    }
}

fn ca_pem_other() -> String {
    ca("some other CA").pem()
}

fn run(args: &[&str]) -> Output {
    Command::new(common::BIN)
        .args(args)
        .args(["--timeout", "3000", "--connect-timeout", "3000"])
        .env("NO_COLOR", "1")
        .env_remove("REDISCLI_AUTH")
        .env_remove("SLOTSCOPE_AUDIT_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tls_lab(certs: &Certs, scenario: Scenario) -> Lab {
    scenario
        .start(LabOptions {
            keys: 100,
            node_timeout_ms: 1500,
            tls: Some(certs.lab.clone()),
            ..LabOptions::default()
        })
        .unwrap_or_else(|e| panic!("TLS lab did not start: {e}"))
        .0
}

#[test]
fn check_fix_and_the_dashboard_work_over_tls() {
    let certs = certs();
    let lab = tls_lab(&certs, Scenario::InterruptedReshard);
    let seed = lab.endpoint(0).to_string();
    let ca = certs.lab.ca.to_str().unwrap();

    // check, with --tls and with a rediss:// seed.
    let o = run(&["check", "--json", "--tls", "--cacert", ca, &seed]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let doc: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc.to_string().contains("open_slot"), "{doc}");
    let o = run(&["check", "--cacert", ca, &format!("rediss://{seed}")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let dir = certs.dir.path().to_str().unwrap().to_owned();
    let o = run(&["check", "--tls", "--cacertdir", &dir, &seed]);
    assert_eq!(o.status.code(), Some(1), "--cacertdir: {}", text(&o));

    // fix: the redis-cli lines carry the TLS flags; the repair runs over TLS.
    let o = run(&["fix", "--json", "--tls", "--cacert", ca, &seed]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: Json = serde_json::from_slice(&o.stdout).unwrap();
    let plan = doc["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "complete_migration")
        .unwrap_or_else(|| panic!("no complete_migration plan: {doc}"))
        .clone();
    let line = plan["steps"][0]["redis_cli"].as_str().unwrap();
    assert!(line.contains(&format!("--tls --cacert {ca}")), "{line}");
    let id = plan["id"].as_str().unwrap();
    let audit = certs.dir.path().join("audit.jsonl");
    let o = run(&[
        "fix",
        "--apply",
        id,
        "--yes",
        "--audit-log",
        audit.to_str().unwrap(),
        "--tls",
        "--cacert",
        ca,
        &seed,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&["check", "--tls", "--cacert", ca, &seed]);
    assert_eq!(o.status.code(), Some(0), "repaired: {}", text(&o));

    // The dashboard refreshes over TLS; --insecure shows its warning in the header.
    let session = format!("slotscope-tls-{}", std::process::id());
    let cmd = format!("{} --tls --insecure --interval 1 {seed}", common::BIN);
    let t = Tmux::start(&session, 120, 30, &cmd);
    let screen = t.wait_for(
        "the healthy cluster over TLS",
        Duration::from_secs(20),
        |s| s.lines().next().is_some_and(|l| l.starts_with("OK")),
    );
    assert!(screen.contains("TLS UNVERIFIED"), "{screen}");
    t.keys("q");
    assert!(t.wait_exit(Duration::from_secs(10)));
}

#[test]
fn certificate_and_protocol_errors_are_one_clear_line() {
    let certs = certs();
    let lab = tls_lab(&certs, Scenario::Healthy);
    let seed = lab.endpoint(0).to_string();
    let ca = certs.lab.ca.to_str().unwrap();
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec!["--tls", "--cacert", certs.other_ca.to_str().unwrap()],
            "certificate signed by an unknown CA",
        ),
        (
            vec!["--tls", "--cacert", ca, "--sni", "wrong.example"],
            "certificate name mismatch",
        ),
        (vec![], "if this is a TLS port, use --tls"),
        (vec!["--tls", "--cacert", ca, "--sni", "redis.test"], ""),
    ];
    for (flags, want) in cases {
        let mut args = vec!["check"];
        args.extend_from_slice(&flags);
        args.push(&seed);
        let o = run(&args);
        if want.is_empty() {
            assert_eq!(
                o.status.code(),
                Some(0),
                "--sni with a good name: {}",
                text(&o)
            );
            continue;
        }
        assert_eq!(o.status.code(), Some(3), "{flags:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{flags:?}: {err}");
        assert!(err.contains(&seed), "the node is named: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    // TLS to a plain-text port.
    let plain = Lab::start(LabOptions {
        replicas_per_master: 0,
        keys: 0,
        ..LabOptions::default()
    })
    .unwrap();
    let o = run(&[
        "check",
        "--tls",
        "--cacert",
        ca,
        &plain.endpoint(0).to_string(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("does not speak TLS") || err.contains("plain-text port"),
        "{err}"
    );
}

/// A node whose certificate has expired: one line naming the node and "expired", exit 3.
#[test]
fn an_expired_server_certificate_is_one_clear_line() {
    let certs = certs();
    let lab = tls_lab(&certs, Scenario::Healthy);
    let seed = lab.endpoint(0).to_string();
    let ca = certs.lab.ca.to_str().unwrap();
    let o = run(&["check", "--tls", "--cacert", ca, &seed]);
    assert_eq!(o.status.code(), Some(0), "before: {}", text(&o));
    let (cert, key) = (
        certs.expired.0.to_str().unwrap(),
        certs.expired.1.to_str().unwrap(),
    );
    for i in 0..lab.nodes().len() {
        lab.cmd(
            i,
            &["CONFIG", "SET", "tls-cert-file", cert, "tls-key-file", key],
        )
        .unwrap();
    }
    let o = run(&["check", "--tls", "--cacert", ca, &seed]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("expired"), "{err}");
    assert!(err.contains(&seed), "the node is named: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// Nodes that require a client certificate (`tls-auth-clients yes`): `--cert`/`--key` work
/// (check and the dashboard), without them one clear line and exit 3.
#[test]
fn client_certificates_reach_nodes_that_require_them() {
    let certs = certs();
    let lab = tls_lab(&certs, Scenario::Healthy);
    let seed = lab.endpoint(0).to_string();
    let ca = certs.lab.ca.to_str().unwrap();
    for i in 0..lab.nodes().len() {
        lab.cmd(i, &["CONFIG", "SET", "tls-auth-clients", "yes"])
            .unwrap();
    }
    let (cert, key) = (
        certs.client.0.to_str().unwrap(),
        certs.client.1.to_str().unwrap(),
    );
    let o = run(&[
        "check", "--tls", "--cacert", ca, "--cert", cert, "--key", key, &seed,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let o = run(&["check", "--tls", "--cacert", ca, &seed]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("client certificate"), "{err}");
    assert!(err.contains("--cert"), "says what to do: {err}");
    assert!(err.contains(&seed), "the node is named: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // A client certificate the nodes' CA did not sign.
    let other = certs.dir.path().join("other-client");
    std::fs::create_dir_all(&other).unwrap();
    let stranger = self::ca("stranger CA");
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "stranger");
    let k = KeyPair::generate().unwrap();
    let c = params.signed_by(&k, &stranger).unwrap();
    let c_path = write(&other, "c.pem", &c.pem());
    let k_path = write(&other, "c.key", &k.serialize_pem());
    let o = run(&[
        "check",
        "--tls",
        "--cacert",
        ca,
        "--cert",
        c_path.to_str().unwrap(),
        "--key",
        k_path.to_str().unwrap(),
        &seed,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("client certificate"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // The dashboard, with the client certificate.
    let session = format!("slotscope-tls-client-{}", std::process::id());
    let cmd = format!(
        "{} --tls --cacert {ca} --cert {cert} --key {key} --interval 1 {seed}",
        common::BIN
    );
    let t = Tmux::start(&session, 120, 30, &cmd);
    t.wait_for(
        "the healthy cluster with a client certificate",
        Duration::from_secs(20),
        |s| s.lines().next().is_some_and(|l| l.starts_with("OK")),
    );
    t.keys("q");
    assert!(t.wait_exit(Duration::from_secs(10)));
}
