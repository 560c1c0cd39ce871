//! End to end: least-privilege ACL users and a managed-style cluster (`rename-command CONFIG
//! ""`) on real local clusters. A refused command is sent once per node, not once per refresh
//! (the server's `ACL LOG` and error counters stop growing after the first refresh); what could
//! not be learned is a note; a plan that needs a refused command is only advice; the repair
//! user of docs/acl.md repairs.
#![allow(clippy::unwrap_used)] // helpers outside `#[test]` fns unwrap too

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::cluster::runtime;
use redis::Value;
use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::types::ClusterSnapshot;
use slotscope::cluster::{Finding, FindingKind, diagnose};
use slotscope::fix::executor::Executor;
use slotscope::fix::{Confirmation, FixPlan, PlanKind, plan_fixes};
use slotscope::lab::{Lab, LabOptions, Scenario};
use slotscope::refresh::{ConnectOptions, Connector, Secret, observe_once};

const BIN: &str = env!("CARGO_BIN_EXE_slotscope");
const PASSWORD: &str = "acl-e2e-pw";

/// The observation rules of docs/acl.md, without `INFO`, `CONFIG GET` and the census commands:
/// what a tight managed-service user may look like.
const BLIND: &[&str] = &[
    "resetkeys",
    "resetchannels",
    "-@all",
    "+ping",
    "+cluster|nodes",
    "+cluster|info",
    "+acl|dryrun",
];

/// The observation rules of docs/acl.md.
const OBSERVER: &[&str] = &[
    "resetkeys",
    "resetchannels",
    "-@all",
    "+ping",
    "+cluster|nodes",
    "+cluster|info",
    "+info",
    "+config|get",
    "+cluster|countkeysinslot",
    "+dbsize",
    "+acl|dryrun",
];

/// The repair rules of docs/acl.md.
const REPAIR: &[&str] = &[
    "~*",
    "resetchannels",
    "-@all",
    "+ping",
    "+cluster|nodes",
    "+cluster|info",
    "+info",
    "+config|get",
    "+cluster|countkeysinslot",
    "+dbsize",
    "+acl|dryrun",
    "+cluster|setslot",
    "+cluster|addslots",
    "+cluster|addslotsrange",
    "+cluster|delslots",
    "+cluster|delslotsrange",
    "+cluster|bumpepoch",
    "+cluster|failover",
    "+cluster|forget",
    "+cluster|meet",
    "+cluster|replicate",
    "+cluster|getkeysinslot",
    "+migrate",
    "+asking",
    "+dump",
    "+config|set",
];

fn start(s: Scenario, extra_conf: &[&str]) -> Lab {
    let base = LabOptions {
        keys: 200,
        replicas_per_master: 0,
        node_timeout_ms: 1500,
        extra_conf: extra_conf.iter().map(|l| (*l).to_owned()).collect(),
        ..LabOptions::default()
    };
    s.start(base)
        .unwrap_or_else(|e| panic!("scenario {s} did not start: {e}"))
        .0
}

/// `ACL SETUSER name on >PASSWORD rules…` on every node, then an empty `ACL LOG`.
fn add_user(lab: &Lab, name: &str, rules: &[&str]) {
    let pw = format!(">{PASSWORD}");
    for i in lab.running() {
        let mut args = vec!["ACL", "SETUSER", name, "on", pw.as_str()];
        args.extend_from_slice(rules);
        lab.cmd(i, &args).unwrap();
        lab.cmd(i, &["ACL", "LOG", "RESET"]).unwrap();
    }
}

fn connector(lab: &Lab, user: &str) -> Arc<Connector> {
    let mut o = ConnectOptions::new(lab.endpoints());
    o.user = Some(user.to_owned());
    o.password = Some(Secret::new(PASSWORD.to_owned()));
    o.command_timeout = Duration::from_secs(3);
    Connector::shared(o)
}

/// The events in every node's `ACL LOG` (the sum of the entries' `count`s).
fn acl_log_events(lab: &Lab) -> i64 {
    let mut total = 0;
    for i in lab.running() {
        let Value::Array(entries) = lab.cmd(i, &["ACL", "LOG"]).unwrap() else {
            panic!("ACL LOG is not an array");
        };
        for e in entries {
            let fields: Vec<(String, Value)> = match e {
                Value::Array(kv) => kv
                    .chunks(2)
                    .filter_map(|p| match p {
                        [Value::BulkString(k), v] => {
                            Some((String::from_utf8_lossy(k).into_owned(), v.clone()))
                        }
                        _ => None,
                    })
                    .collect(),
                Value::Map(kv) => kv
                    .into_iter()
                    .filter_map(|(k, v)| match k {
                        Value::BulkString(k) => Some((String::from_utf8_lossy(&k).into_owned(), v)),
                        _ => None,
                    })
                    .collect(),
                other => panic!("ACL LOG entry {other:?}"),
            };
            for (k, v) in fields {
                if k == "count"
                    && let Value::Int(n) = v
                {
                    total += n;
                }
            }
        }
    }
    total
}

/// `errorstat_ERR` summed over every node (`INFO errorstats`): unknown commands count here.
fn err_replies(lab: &Lab) -> u64 {
    lab.running()
        .into_iter()
        .map(|i| {
            let info = lab.query(i, &["INFO", "errorstats"]).unwrap();
            info.lines()
                .find_map(|l| l.strip_prefix("errorstat_ERR:count="))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

/// Four refresh cycles as the dashboard runs them (each with the previous snapshot); the
/// snapshots and the `ACL LOG` events after each.
async fn refreshes(lab: &Lab, c: &Connector) -> (Vec<ClusterSnapshot>, Vec<i64>) {
    let mut snaps: Vec<ClusterSnapshot> = Vec::new();
    let mut log = Vec::new();
    for _ in 0..4 {
        let s = observe_once(c, snaps.last()).await.unwrap();
        snaps.push(s);
        log.push(acl_log_events(lab));
    }
    (snaps, log)
}

fn refused(findings: &[Finding]) -> Vec<&str> {
    findings
        .iter()
        .filter(|f| f.kind == FindingKind::CommandRefused)
        .map(|f| f.summary.as_str())
        .collect()
}

fn open_slot_plans(plans: &[FixPlan]) -> Vec<&FixPlan> {
    plans
        .iter()
        .filter(|p| {
            matches!(
                p.kind,
                PlanKind::StabiliseSlot | PlanKind::CompleteMigration | PlanKind::RollBackMigration
            )
        })
        .collect()
}

#[test]
fn a_blind_user_adds_nothing_to_the_acl_log_after_the_first_refresh() {
    let lab = start(Scenario::MigratingOnly, &[]);
    add_user(&lab, "blind", BLIND);
    let rt = runtime();
    rt.block_on(async {
        let c = connector(&lab, "blind");
        let (snaps, log) = refreshes(&lab, &c).await;
        assert!(
            log[0] > 0,
            "the first refresh is refused something: {log:?}"
        );
        // The second refresh is the first to ask for CLUSTER SLOT-STATS (one refusal per
        // master at most, on servers that have it); nothing grows after it.
        assert!(log[1] - log[0] <= 3, "{log:?}");
        assert!(
            log[1..].windows(2).all(|w| w[0] == w[1]),
            "ACL LOG grew after the second refresh: {log:?}"
        );
        let m = ClusterModel::build(snaps.last().unwrap());
        let f = diagnose(&m);
        let notes = refused(&f);
        for (starts, has) in [
            ("INFO not allowed for user blind on ", ": keys, memory"),
            (
                "CONFIG GET not allowed for user blind on ",
                ": coverage setting unknown",
            ),
            (
                "CLUSTER COUNTKEYSINSLOT not allowed for user blind on ",
                ": key counts unknown",
            ),
            ("user blind may not run ", "CLUSTER SETSLOT"),
        ] {
            assert!(
                notes
                    .iter()
                    .any(|n| n.starts_with(starts) && n.contains(has)),
                "no note {starts:?}…{has:?} in {notes:#?}"
            );
        }
        // The census was never allowed (COUNTKEYSINSLOT refused at the first refresh, or
        // DRYRUN-less: unknown either way), so no node has key counts.
        assert!(m.nodes.iter().all(|n| n.census.is_none()));
        // Every plan for the open slot needs SETSLOT: advice, saying why.
        let plans = plan_fixes(&m, &f);
        let open = open_slot_plans(&plans);
        assert!(!open.is_empty(), "{plans:#?}");
        for p in open {
            assert!(p.is_advice_only(), "{} is runnable", p.id);
            assert!(
                p.advice[0].contains("CLUSTER SETSLOT is not allowed for user blind on 127.0.0.1:"),
                "{:?}",
                p.advice
            );
        }
    });
    // `slotscope check` with the same user: the notes are in the JSON, no error.
    let seed = format!("redis://blind:{PASSWORD}@{}", lab.endpoint(0));
    let out = Command::new(BIN)
        .args(["check", "--json", &seed])
        .env_remove("REDISCLI_AUTH")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check --json: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let kinds: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"command_refused"), "{kinds:?}");
    assert!(kinds.contains(&"open_slot"), "{kinds:?}");
}

#[test]
fn the_observer_gets_advice_and_the_repair_user_repairs() {
    let lab = start(Scenario::MigratingOnly, &[]);
    add_user(&lab, "obs", OBSERVER);
    add_user(&lab, "ops", REPAIR);
    let rt = runtime();
    rt.block_on(async {
        let c = connector(&lab, "obs");
        let (snaps, log) = refreshes(&lab, &c).await;
        assert!(
            log.windows(2).all(|w| w[0] == w[1]),
            "ACL LOG grew after the first refresh: {log:?}"
        );
        let m = ClusterModel::build(snaps.last().unwrap());
        assert!(m.nodes.iter().all(|n| n.census.is_some()), "census counted");
        let f = diagnose(&m);
        let plans = plan_fixes(&m, &f);
        for p in open_slot_plans(&plans) {
            assert!(p.is_advice_only(), "{} is runnable for obs", p.id);
        }
        assert_eq!(
            log.last(),
            Some(&0),
            "nothing was refused to obs but DRYRUN answers"
        );

        let c = connector(&lab, "ops");
        let (snaps, _) = refreshes(&lab, &c).await;
        let m = ClusterModel::build(snaps.last().unwrap());
        let f = diagnose(&m);
        assert!(refused(&f).is_empty(), "{:#?}", refused(&f));
        let plans = plan_fixes(&m, &f);
        let plan = open_slot_plans(&plans)
            .into_iter()
            .find(|p| p.recommended && !p.is_advice_only())
            .unwrap_or_else(|| panic!("no runnable plan for ops: {plans:#?}"))
            .clone();
        let executor =
            Executor::new(Arc::clone(&c), None).with_lock_dir(tempfile::tempdir().unwrap().keep());
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let outcome = executor.execute(&plan, &tx).await;
        drop(tx);
        drain.await.unwrap();
        assert!(outcome.is_success(), "{}: {outcome:?}", plan.id);
        for _ in 0..40 {
            let m = ClusterModel::build(&observe_once(&c, None).await.unwrap());
            if m.open_slots.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the slot is still open after {}", plan.id);
    });
}

#[test]
fn a_renamed_config_is_a_note_and_coverage_plans_are_advice() {
    let lab = start(Scenario::DeletedSlots, &["rename-command CONFIG \"\""]);
    let rt = runtime();
    rt.block_on(async {
        let mut o = ConnectOptions::new(lab.endpoints());
        o.command_timeout = Duration::from_secs(3);
        let c = Connector::shared(o);
        let before = err_replies(&lab);
        let mut snaps: Vec<ClusterSnapshot> = Vec::new();
        let mut errs = Vec::new();
        for _ in 0..4 {
            let s = observe_once(&c, snaps.last()).await.unwrap();
            snaps.push(s);
            errs.push(err_replies(&lab));
        }
        assert!(errs[0] > before, "CONFIG was tried once: {before} {errs:?}");
        // The second refresh is the first to ask for CLUSTER SLOT-STATS (unknown to Redis
        // 7.0: one ERR per master, once); nothing grows after it.
        assert!(errs[1] - errs[0] <= 3, "{errs:?}");
        assert!(
            errs[1..].windows(2).all(|w| w[0] == w[1]),
            "ERR replies grew after the second refresh: {errs:?}"
        );
        let m = ClusterModel::build(snaps.last().unwrap());
        let f = diagnose(&m);
        let notes = refused(&f);
        assert!(
            notes.iter().any(
                |n| n.starts_with("CONFIG unknown (renamed or disabled) on ")
                    && n.contains(": coverage setting unknown")
            ),
            "{notes:#?}"
        );
        let plans = plan_fixes(&m, &f);
        for p in plans.iter().filter(|p| p.kind == PlanKind::CoverageOff) {
            assert!(p.is_advice_only(), "coverage-off is runnable: {p:#?}");
            assert!(
                p.advice[0].contains("CONFIG is unknown on 127.0.0.1:"),
                "{:?}",
                p.advice
            );
        }
        // The slots can still be covered: ADDSLOTS is not renamed.
        assert!(
            plans.iter().any(
                |p| p.kind == PlanKind::CoverEmptySlots && !p.is_advice_only()
                    || p.kind == PlanKind::ReclaimUncovered && !p.is_advice_only()
            ),
            "{:?}",
            plans.iter().map(|p| &p.id).collect::<Vec<_>>()
        );
        // A plan that risks keys with unknown counts asks for the typed word.
        for p in &plans {
            if !p.is_advice_only() && p.risk.keys_at_risk.known().is_none() {
                assert!(
                    matches!(p.confirmation, Confirmation::TypeWord(_)),
                    "{p:#?}"
                );
            }
        }
    });
}
