//! Scale: replies far larger than any real cluster's must be handled in time linear in their
//! size. Only "it finishes" is asserted (with a hang margin of seconds); the timings are
//! measured by `cargo bench --bench core -- huge`.

use std::time::Instant;

use slotscope::cluster::parse::parse_cluster_nodes;
use slotscope::cluster::synthetic::{snapshot_from_texts, synthetic_nodes_text};
use slotscope::cluster::{ClusterModel, diagnose};

/// `CLUSTER NODES` of about `entries` lines: 16384 masters (one slot each) and replicas.
fn huge_text(entries: usize) -> String {
    let masters = entries.min(16_384);
    let replicas = (entries - masters).div_ceil(masters);
    synthetic_nodes_text(masters, replicas, 0)
}

#[test]
fn two_hundred_thousand_entries_parse_build_and_diagnose() {
    let text = huge_text(200_000);
    let t = Instant::now();
    let nodes = parse_cluster_nodes(&text).expect("parses");
    assert!(nodes.len() >= 196_000, "{}", nodes.len());
    let parsed = t.elapsed();
    let snapshot = snapshot_from_texts(&[("127.0.0.1:7000", Ok(text.as_str()))]);
    let model = ClusterModel::build(&snapshot);
    let built = t.elapsed();
    let findings = diagnose(&model);
    eprintln!(
        "{} entries: parse {parsed:?}, +model {built:?}, +diagnose {:?}, {} findings",
        nodes.len(),
        t.elapsed(),
        findings.len()
    );
    assert!(model.nodes.len() >= 196_000);
    assert!(t.elapsed().as_secs() < 60, "took {:?}", t.elapsed());
}

/// The same huge view, plus the 4096 endpoints the refresher probes at most, all refused: the
/// model matches every failed probe to its line, and the diagnosis words each.
#[test]
fn huge_view_with_thousands_of_refused_probes_finishes() {
    use slotscope::cluster::synthetic::synthetic_endpoint;
    use slotscope::cluster::types::ProbeError;
    for entries in [16_384] {
        let text = huge_text(entries);
        let eps: Vec<String> = (1..4096)
            .map(|i| synthetic_endpoint(i).to_string())
            .collect();
        let mut texts: Vec<(&str, Result<&str, ProbeError>)> =
            vec![("127.0.0.1:7000", Ok(text.as_str()))];
        for ep in &eps {
            texts.push((
                ep.as_str(),
                Err(ProbeError::ConnectFailed("connection refused".into())),
            ));
        }
        let t = Instant::now();
        let snapshot = snapshot_from_texts(&texts);
        let s = t.elapsed();
        let model = ClusterModel::build(&snapshot);
        let m = t.elapsed();
        let findings = diagnose(&model);
        eprintln!(
            "{entries} entries + 4095 refused: snapshot {s:?}, +model {m:?}, +diagnose {:?}, {} findings",
            t.elapsed(),
            findings.len()
        );
        assert!(!findings.is_empty());
        assert!(t.elapsed().as_secs() < 60, "took {:?}", t.elapsed());
    }
}
