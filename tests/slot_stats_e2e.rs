//! End to end: per-slot stats from `CLUSTER SLOT-STATS` on a real Valkey 8.1.8 cluster (from
//! the server matrix, `bash tests/servers/fetch.sh`), and on Redis 7.0.15, which does not have
//! the command: the heatmap's modes say why, and the command is not sent again every refresh.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::cluster::{options, runtime};
use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::slot_stats::{ClusterSlotStats, Metric};
use slotscope::cluster::types::ClusterSnapshot;
use slotscope::lab::{Lab, LabOptions};
use slotscope::refresh::{Connector, observe_once};

const KEYS: usize = 300;

/// The Valkey 8.1.8 binary from the manifest `tests/servers/fetch.sh` writes.
fn valkey8() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let dir = non_empty("SLOTSCOPE_SERVERS_DIR").map_or_else(
        || {
            non_empty("XDG_CACHE_HOME")
                .map_or_else(
                    || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"),
                    PathBuf::from,
                )
                .join("slotscope-servers")
        },
        PathBuf::from,
    );
    let manifest = dir.join("manifest.tsv");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "{} cannot be read ({e}): run `bash tests/servers/fetch.sh` first",
            manifest.display()
        )
    });
    text.lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f.len() >= 3 && f[0] == "valkey" && f[1] == "8.1.8")
        .map_or_else(
            || panic!("{} lists no valkey 8.1.8", manifest.display()),
            |f| PathBuf::from(f[2]),
        )
}

fn start(server: Option<PathBuf>, extra: &[&str]) -> Lab {
    Lab::start(LabOptions {
        keys: KEYS,
        replicas_per_master: 0,
        redis_server: server,
        extra_conf: extra.iter().map(|l| (*l).to_owned()).collect(),
        ..LabOptions::default()
    })
    .unwrap()
}

/// Refresh cycles as the dashboard runs them; the last model.
async fn refreshed(c: &Connector, cycles: usize) -> ClusterModel {
    let mut last: Option<ClusterSnapshot> = None;
    for _ in 0..cycles {
        last = Some(observe_once(c, last.as_ref()).await.unwrap());
    }
    ClusterModel::build(&last.unwrap())
}

#[test]
fn valkey_8_gives_keys_cpu_and_network_per_slot() {
    let lab = start(Some(valkey8()), &["cluster-slot-stats-enabled yes"]);
    runtime().block_on(async {
        let c = Connector::shared(options(&lab));
        // The first cycle (and `check`) never asks; the next one does.
        let first = refreshed(&c, 1).await;
        assert!(ClusterSlotStats::of(&first, Metric::Keys).is_err());
        let m = refreshed(&c, 2).await;
        let keys = ClusterSlotStats::of(&m, Metric::Keys).unwrap();
        assert_eq!(keys.values.iter().flatten().sum::<u64>(), KEYS as u64);
        assert!(
            keys.values.iter().all(Option::is_some),
            "every slot answered"
        );
        let cpu = ClusterSlotStats::of(&m, Metric::Cpu).unwrap();
        assert!(cpu.max > 0, "writing the keys took CPU time in some slot");
        let net = ClusterSlotStats::of(&m, Metric::Net).unwrap();
        assert!(net.max > 0);
        // A slot that holds keys was written to: it has network bytes.
        let hot = keys.values.iter().position(|k| k.unwrap_or(0) > 0).unwrap();
        assert!(net.values[hot].unwrap_or(0) > 0);
    });
}

#[test]
fn without_usage_stats_cpu_and_net_say_how_to_enable_them() {
    let lab = start(Some(valkey8()), &[]);
    runtime().block_on(async {
        let c = Connector::shared(options(&lab));
        let m = refreshed(&c, 2).await;
        assert!(ClusterSlotStats::of(&m, Metric::Keys).is_ok());
        for metric in [Metric::Cpu, Metric::Net] {
            let why = ClusterSlotStats::of(&m, metric).unwrap_err();
            assert!(why.contains("cluster-slot-stats-enabled yes"), "{why}");
        }
    });
}

#[test]
fn redis_7_says_the_modes_need_a_newer_server_and_is_never_asked() {
    let lab = start(None, &[]);
    let errs = |lab: &Lab| -> u64 {
        lab.running()
            .into_iter()
            .map(|i| {
                lab.query(i, &["INFO", "errorstats"])
                    .unwrap()
                    .lines()
                    .find_map(|l| l.strip_prefix("errorstat_ERR:count="))
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .unwrap_or(0)
            })
            .sum()
    };
    runtime().block_on(async {
        let c = Connector::shared(options(&lab));
        let mut last: Option<ClusterSnapshot> = None;
        let mut counts = Vec::new();
        for _ in 0..4 {
            last = Some(observe_once(&c, last.as_ref()).await.unwrap());
            counts.push(errs(&lab));
        }
        // Its version says it has no SLOT-STATS: after the first refresh (whose probes try
        // the seed's census by SLOT-STATS and ask for slot migrations before the version is
        // known), not one more error reply.
        assert!(
            counts.windows(2).all(|w| w[0] == w[1]),
            "SLOT-STATS asked after the first refresh: {counts:?}"
        );
        let m = ClusterModel::build(&last.unwrap());
        for metric in [Metric::Keys, Metric::Cpu, Metric::Net] {
            let why = ClusterSlotStats::of(&m, metric).unwrap_err();
            assert!(
                why.contains("CLUSTER SLOT-STATS (Valkey 8+, Redis 8.2+)")
                    && why.contains("redis 7.0.15"),
                "{why}"
            );
        }
        // A missing feature is not a note of the diagnosis.
        let f = slotscope::cluster::diagnose(&m);
        assert!(
            f.iter()
                .all(|f| f.kind != slotscope::cluster::FindingKind::CommandRefused),
            "{f:#?}"
        );
    });
}
