//! End to end: `slotscope check --format nagios|prometheus|text|json` on real clusters that are
//! healthy, degraded and down, and on a seed that does not answer. Each output is read with a
//! strict parser of its format's own rules (tests/common/formats.rs), as a monitoring system
//! would read it; finding ids must stay the same from one run to the next.

mod common;

use std::process::{Command, Output};

use serde_json::Value;
use slotscope::lab::{Lab, LabOptions, Scenario};

use common::formats::{parse_nagios, parse_prometheus};
use common::{BIN, must};

fn check(format: &str, seeds: &[String]) -> Output {
    Command::new(BIN)
        .args(["check", "--timeout", "2000", "--format", format])
        .args(seeds)
        .env_remove("REDISCLI_AUTH")
        .env("NO_COLOR", "1")
        .output()
        .expect("run slotscope")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn lab(s: Scenario) -> (Lab, Vec<String>) {
    let (lab, report) = must(s.start(LabOptions {
        node_timeout_ms: 1000,
        keys: 100,
        ..LabOptions::default()
    }));
    let seed = lab
        .running()
        .into_iter()
        .find(|i| !report.affected.contains(i))
        .expect("a running node");
    let seeds = vec![lab.endpoint(seed).to_string()];
    (lab, seeds)
}

/// Every format on one cluster: the status word, the perfdata and the exposition agree with
/// the JSON document and the exit code.
fn every_format(seeds: &[String], status: &str, code: i32) {
    let json = check("json", seeds);
    assert_eq!(json.status.code(), Some(code), "{}", text(&json));
    let doc: Value = serde_json::from_slice(&json.stdout).expect("json");

    let nagios = check("nagios", seeds);
    assert_eq!(nagios.status.code(), Some(code), "{}", text(&nagios));
    let line = parse_nagios(&text(&nagios)).unwrap_or_else(|e| panic!("{e}: {}", text(&nagios)));
    assert_eq!(line.status, status, "{}", text(&nagios));
    let served = doc["summary"]["slots"]["served"].as_f64();
    assert_eq!(line.perf.get("slots_served").map(|p| p.0), served);
    assert_eq!(line.perf["max_rtt"].1, "s");
    let total: f64 = [
        "served",
        "uncovered",
        "owner_failing",
        "disputed",
        "migrating",
    ]
    .iter()
    .map(|k| line.perf[&format!("slots_{k}")].0)
    .sum();
    assert!(total <= 16384.0, "{}", text(&nagios));
    let findings = doc["findings"].as_array().expect("findings");
    let output = text(&nagios);
    let long: Vec<&str> = output.lines().skip(1).collect();
    assert_eq!(
        long.len(),
        findings.len(),
        "one long-output line per finding"
    );
    for f in findings {
        let id = f["id"].as_str().expect("id");
        assert!(
            long.iter().any(|l| l.ends_with(&format!("[{id}]"))),
            "{id}: {long:?}"
        );
    }

    let prom = check("prometheus", seeds);
    assert_eq!(prom.status.code(), Some(code), "{}", text(&prom));
    let samples = parse_prometheus(&text(&prom)).unwrap_or_else(|e| panic!("{e}: {}", text(&prom)));
    let value = |name: &str, label: Option<(&str, &str)>| {
        samples
            .iter()
            .find(|s| {
                s.name == name
                    && label.is_none_or(|(k, v)| s.labels.get(k).map(String::as_str) == Some(v))
            })
            .map(|s| s.value)
    };
    assert_eq!(value("slotscope_up", None), Some(1.0));
    assert_eq!(value("slotscope_status", None), Some(f64::from(code)));
    assert_eq!(value("slotscope_slots", Some(("state", "served"))), served);
    let reachable = doc["summary"]["nodes_reachable"].as_f64();
    assert_eq!(
        value("slotscope_nodes", Some(("state", "reachable"))),
        reachable
    );
    let nodes = doc["nodes"].as_array().expect("nodes");
    for n in nodes {
        let addr = n["address"].as_str().expect("address");
        let up = value("slotscope_node_up", Some(("addr", addr)));
        let want = if n["reachable"] == true { 1.0 } else { 0.0 };
        assert_eq!(up, Some(want), "{addr}");
    }
    for f in findings {
        let id = f["id"].as_str().expect("id");
        let s = samples
            .iter()
            .find(|s| s.name == "slotscope_finding" && s.labels["id"] == id)
            .unwrap_or_else(|| panic!("no series for {id}"));
        assert_eq!(s.labels["kind"], f["kind"].as_str().expect("kind"));
        assert_eq!(
            s.labels["severity"],
            f["severity"].as_str().expect("severity")
        );
    }
    assert!(value("slotscope_check_duration_seconds", None).is_some());

    // The text form starts with the verdict; the same fault keeps its id on the next run.
    let plain = check("text", seeds);
    assert_eq!(plain.status.code(), Some(code));
    let first = text(&plain).lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        first,
        doc["verdict"].as_str().expect("verdict"),
        "{}",
        text(&plain)
    );
    let again: Value = serde_json::from_slice(&check("json", seeds).stdout).expect("json");
    let ids = |d: &Value| -> Vec<String> {
        d["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (mut a, mut b) = (ids(&doc), ids(&again));
    a.sort();
    b.sort();
    // Faults that last keep their id (an info note may come and go between two runs).
    let lasting = |d: &Value| -> Vec<String> {
        d["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|f| f["severity"] != "info")
                    .filter_map(|f| f["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (mut la, mut lb) = (lasting(&doc), lasting(&again));
    la.sort();
    lb.sort();
    assert_eq!(
        la, lb,
        "ids of lasting faults changed between runs: {a:?} vs {b:?}"
    );
    for f in &la {
        assert!(
            text(&plain).contains(&format!("id: {f}")),
            "{f} not in text"
        );
    }
}

#[test]
fn a_healthy_cluster_reads_ok_in_every_format() {
    let (_lab, seeds) = lab(Scenario::Healthy);
    every_format(&seeds, "OK", 0);
}

#[test]
fn a_degraded_cluster_reads_warning_in_every_format() {
    let (_lab, seeds) = lab(Scenario::DeadMasterFailover);
    every_format(&seeds, "WARNING", 1);
}

#[test]
fn a_down_cluster_reads_critical_in_every_format() {
    let (_lab, seeds) = lab(Scenario::DeadMasterNoReplica);
    every_format(&seeds, "CRITICAL", 2);
}

#[test]
fn a_seed_that_does_not_answer_reads_unknown() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let seeds = vec![format!("127.0.0.1:{port}")];
    let nagios = check("nagios", &seeds);
    assert_eq!(nagios.status.code(), Some(3));
    let line = parse_nagios(&text(&nagios)).unwrap_or_else(|e| panic!("{e}: {}", text(&nagios)));
    assert_eq!(line.status, "UNKNOWN");
    assert!(line.text.contains(&port.to_string()), "{}", line.text);
    let prom = check("prometheus", &seeds);
    assert_eq!(prom.status.code(), Some(3));
    let samples = parse_prometheus(&text(&prom)).unwrap_or_else(|e| panic!("{e}: {}", text(&prom)));
    let up = samples
        .iter()
        .find(|s| s.name == "slotscope_up")
        .map(|s| s.value);
    assert_eq!(up, Some(0.0));
}

#[test]
fn the_parsers_refuse_what_the_formats_forbid() {
    assert!(parse_nagios("SLOTSCOPE OK - fine | 'a'=1;;;0;2 'b'=0.5s").is_ok());
    assert!(parse_nagios("SLOTSCOPE FINE - x").is_err());
    assert!(parse_nagios("SLOTSCOPE OK - x | 'a'=1xyz").is_err());
    assert!(parse_nagios("SLOTSCOPE OK - x | 'a'=1 'a'=2").is_err());
    assert!(parse_prometheus("# TYPE a gauge\na{x=\"1\"} 1\n").is_ok());
    assert!(parse_prometheus("a 1").is_err());
    assert!(parse_prometheus("a 1\nb 1\na 2\n").is_err());
    assert!(parse_prometheus("a{x=\"1\"} 1\na{x=\"1\"} 2\n").is_err());
    assert!(parse_prometheus("a{x=\"\\q\"} 1\n").is_err());
    assert!(parse_prometheus("a 1\n# TYPE a gauge\n").is_err());
    assert!(parse_prometheus("1a 1\n").is_err());
}
