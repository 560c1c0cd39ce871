//! Benchmarks of the pure core: parse, model, diagnose.
//!
//! The issue's target is "parse + model + diagnose for a synthetic 1000-node CLUSTER NODES
//! set: under 2 ms". The figures:
//!
//! - `parse/cluster_nodes_1000`: parse one 1000-line `CLUSTER NODES` text (500 masters with
//!   one replica each).
//! - `target/parse+model+diagnose_1000`: the target path, end to end. One node answered with
//!   its 1000-line table (parsed inside the measured loop) and the 999 other probes failed
//!   (connection refused), so the model is built from one full view while still placing all
//!   1000 nodes, matching each failed probe to its node by address, and computing peer
//!   opinions, the consensus slot map and disagreements; then the diagnosis runs on it.
//! - `model/all_views_1000`: the worst case: every one of the 1000 nodes answered with its own
//!   full 1000-line view (1M lines). Parsing those 1M lines is not included (it is 1000 × the
//!   first figure).
//! - `diagnose/*`: `diagnose` alone on the two models above.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use slotscope::cluster::parse::parse_cluster_nodes;
use slotscope::cluster::synthetic::{
    synthetic_cluster, synthetic_nodes_text, synthetic_single_view,
};
use slotscope::cluster::{ClusterModel, NodeReport, diagnose};

const MASTERS: usize = 500;
const REPLICAS: usize = 1;

fn bench_core(c: &mut Criterion) {
    let text = synthetic_nodes_text(MASTERS, REPLICAS, 0);
    c.bench_function("parse/cluster_nodes_1000", |b| {
        b.iter(|| parse_cluster_nodes(black_box(&text)));
    });

    // The target path: the snapshot's single successful report carries an empty table that
    // the loop replaces with the freshly parsed one, so parsing is inside the measurement.
    let mut snapshot = synthetic_single_view(MASTERS, REPLICAS, 0);
    let reachable = snapshot
        .observations
        .iter()
        .position(|o| o.result.is_ok())
        .unwrap_or(0);
    c.bench_function("target/parse+model+diagnose_1000", |b| {
        b.iter(|| {
            let nodes = parse_cluster_nodes(black_box(&text)).unwrap_or_default();
            if let Some(Ok(NodeReport { nodes: slot, .. })) = snapshot
                .observations
                .get_mut(reachable)
                .map(|o| o.result.as_mut())
            {
                *slot = nodes;
            }
            let model = ClusterModel::build(&snapshot);
            let findings = diagnose(&model);
            black_box((model.nodes.len(), findings.len()))
        });
    });
    let single_model = ClusterModel::build(&snapshot);
    c.bench_function("model/single_view_1000", |b| {
        b.iter(|| ClusterModel::build(black_box(&snapshot)));
    });
    c.bench_function("diagnose/single_view_1000", |b| {
        b.iter(|| diagnose(black_box(&single_model)));
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
    slow.finish();
}

criterion_group!(benches, bench_core);
criterion_main!(benches);
