//! Benchmarks of the pure core: parse, model, diagnose. Figures and method:
//! `docs/performance-core.md`.
//!
//! The issue's target is "parse + model + diagnose for a synthetic 1000-node CLUSTER NODES
//! set: under 2 ms". The cluster is 500 masters with one replica each (1000 nodes); every
//! figure below is one call on it.
//!
//! - `parse/cluster_nodes_1000`: parse one 1000-line `CLUSTER NODES` text.
//! - `target/seed_view_1000`: **the target**, end to end: a healthy 1000-node cluster as seen
//!   through one node's 1000-line table (the only observation, as when `check` has read its
//!   seed): parse the text, build the model (999 nodes known from the table alone), diagnose.
//!   `model/seed_view_1000` and `diagnose/seed_view_1000` split it.
//! - `refused/*`: the same table, but the 999 other nodes were probed and refused the
//!   connection: every failed probe is matched to its node by address and the diagnosis
//!   writes one finding per unreachable node (1000 findings).
//! - `worst_case/*`: every one of the 1000 nodes answered with its own full 1000-line view
//!   (1M lines), which is what the refresher hands the model every second on a healthy
//!   1000-node cluster. Parsing those 1M lines is not included (it is 1000 × the first
//!   figure, spread over the probes).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use slotscope::cluster::census::NodeCensus;
use slotscope::cluster::parse::parse_cluster_nodes;
use slotscope::cluster::synthetic::{
    synthetic_cluster, synthetic_nodes_text, synthetic_seed_view, synthetic_single_view,
};
use slotscope::cluster::types::ClusterSnapshot;
use slotscope::cluster::types::ProbeError;
use slotscope::cluster::{ClusterModel, NodeReport, diagnose};
use slotscope::fix::plan_fixes;

const MASTERS: usize = 500;
const REPLICAS: usize = 1;

/// Parse `text` into the one successful observation of `snapshot`, build, diagnose.
fn parse_model_diagnose(snapshot: &mut ClusterSnapshot, reachable: usize, text: &str) -> usize {
    let nodes = parse_cluster_nodes(black_box(text)).unwrap_or_default();
    if let Some(Ok(NodeReport { nodes: slot, .. })) = snapshot
        .observations
        .get_mut(reachable)
        .map(|o| o.result.as_mut())
    {
        *slot = nodes;
    }
    let model = ClusterModel::build(snapshot);
    let findings = diagnose(&model);
    black_box(model.nodes.len() + findings.len())
}

fn reachable_index(snapshot: &ClusterSnapshot) -> usize {
    snapshot
        .observations
        .iter()
        .position(|o| o.result.is_ok())
        .unwrap_or(0)
}

fn bench_core(c: &mut Criterion) {
    let text = synthetic_nodes_text(MASTERS, REPLICAS, 0);
    c.bench_function("parse/cluster_nodes_1000", |b| {
        b.iter(|| parse_cluster_nodes(black_box(&text)));
    });

    // The target: the snapshot's single report is replaced by the freshly parsed table in
    // every iteration, so parsing is inside the measurement.
    let mut seed = synthetic_seed_view(MASTERS, REPLICAS, 0);
    let seed_at = reachable_index(&seed);
    c.bench_function("target/seed_view_1000", |b| {
        b.iter(|| parse_model_diagnose(&mut seed, seed_at, &text));
    });
    let seed_model = ClusterModel::build(&seed);
    c.bench_function("model/seed_view_1000", |b| {
        b.iter(|| ClusterModel::build(black_box(&seed)));
    });
    c.bench_function("diagnose/seed_view_1000", |b| {
        b.iter(|| diagnose(black_box(&seed_model)));
    });

    let mut refused = synthetic_single_view(MASTERS, REPLICAS, 0);
    let refused_at = reachable_index(&refused);
    c.bench_function("refused/parse+model+diagnose_1000", |b| {
        b.iter(|| parse_model_diagnose(&mut refused, refused_at, &text));
    });
    let refused_model = ClusterModel::build(&refused);
    c.bench_function("refused/model_1000", |b| {
        b.iter(|| ClusterModel::build(black_box(&refused)));
    });
    c.bench_function("refused/diagnose_1000", |b| {
        b.iter(|| diagnose(black_box(&refused_model)));
    });

    let full = synthetic_cluster(MASTERS, REPLICAS);
    let mut slow = c.benchmark_group("worst_case");
    slow.sample_size(10);
    slow.measurement_time(Duration::from_secs(5));
    slow.bench_function("model/all_views_1000", |b| {
        b.iter(|| ClusterModel::build(black_box(&full)));
    });
    let full_model = ClusterModel::build(&full);
    slow.bench_function("diagnose/all_views_1000", |b| {
        b.iter(|| diagnose(black_box(&full_model)));
    });
    // Planning, with every plan replayed on the key census (src/fix/effects.rs): the first
    // master is dead (its peers flag it `fail`), every live master has a census (one key per
    // slot it serves), or none does (the replay then considers every live master uncounted).
    for (name, counted) in [
        ("plan/dead_master_1000", true),
        ("plan/dead_master_uncounted_1000", false),
    ] {
        let snap = dead_first_master(&full, counted);
        let model = ClusterModel::build(&snap);
        let findings = diagnose(&model);
        slow.bench_function(name, |b| {
            b.iter(|| plan_fixes(black_box(&model), black_box(&findings)).len());
        });
    }
    slow.finish();
}

/// `full` with its first master down (connection refused, flagged `fail` by every view) and,
/// when `counted`, a key census on every live master.
fn dead_first_master(full: &ClusterSnapshot, counted: bool) -> ClusterSnapshot {
    let mut snap = full.clone();
    let victim = snap
        .observations
        .iter()
        .find_map(|o| {
            let me = o.report()?.nodes.myself()?;
            (me.flags.master && !me.slots.is_empty()).then(|| me.id.clone())
        })
        .expect("the synthetic cluster has a master with slots");
    for o in &mut snap.observations {
        if o.node_id() == Some(&victim) {
            o.result = Err(ProbeError::ConnectFailed("connection refused".into()));
            continue;
        }
        if let Ok(r) = o.result.as_mut() {
            for line in r.nodes.lines_mut().into_iter().flatten() {
                if line.id == victim {
                    line.flags.fail = true;
                }
            }
            let me_master = r.nodes.myself().is_some_and(|m| m.flags.master);
            if counted && me_master {
                let slots = r
                    .nodes
                    .myself()
                    .map(|m| {
                        m.slots
                            .iter()
                            .flat_map(slotscope::cluster::slots::SlotRange::iter)
                            .map(|s| (s, 1))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut c = NodeCensus {
                    slots,
                    ..NodeCensus::default()
                };
                c.owned_keys = c.slots.values().sum();
                c.db_keys = c.owned_keys;
                r.census = Some(c);
            }
        }
    }
    snap
}

criterion_group!(benches, bench_core);
criterion_main!(benches);
