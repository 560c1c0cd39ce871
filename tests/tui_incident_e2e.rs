//! End to end: the incident contract in a real terminal. For each repair drill of
//! `slotscope demo --list`, the real binary runs in tmux (120x40) against a real local cluster
//! broken on purpose, and the test presses only the contract keys: `x` (the chooser of the most
//! severe finding, the recommended plan selected), `Enter` (show the plan), the typed word if
//! the plan asks for one, `Tab` `Enter` (run), `Enter` (close the result). It repeats that at
//! most twice per incident and then proves, on the servers, `cluster_state:ok` on every node and
//! a clean `redis-cli --cluster check`, and on the screen an `OK` header. Where the plan is
//! advice (the repair is outside the cluster: resume a paused process, give a replica the
//! master's password), the test closes it with `Esc` and does what the advice says, as the
//! engineer would, and the dashboard must then reach `OK` by itself. Keys and seconds from
//! launch are printed per drill (`--nocapture`); docs/incident-flow.md holds the table.

mod common;

use std::time::{Duration, Instant};

use slotscope::lab::{Lab, LabOptions, Scenario, ScenarioReport};

use common::cli_check::cluster_check;
use common::tmux::Tmux;

/// The first screen line: the header with the verdict.
fn header(screen: &str) -> String {
    screen.lines().next().unwrap_or_default().to_owned()
}

/// The word a data-losing plan asks for ("Type WORD to enable Run").
fn typed_word(screen: &str) -> Option<String> {
    let at = screen.find("Type ")?;
    let rest = &screen[at + 5..];
    let end = rest.find(" to enable Run")?;
    let w = rest[..end].trim();
    (!w.is_empty() && !w.contains(' ')).then(|| w.to_owned())
}

/// What a drill measured.
struct Measured {
    keys: usize,
    plans: usize,
    seconds: f64,
}

/// What the engineer does by hand after reading the tool's advice.
type HandStep = fn(&mut Lab, &ScenarioReport);

/// The header says `OK`.
fn green(screen: &str) -> bool {
    header(screen).contains("OK:")
}

fn all_ok(lab: &Lab) -> bool {
    lab.running()
        .into_iter()
        .all(|i| lab.cluster_state(i).ok().as_deref() == Some("ok"))
}

/// One dashboard at a time: the seconds measured are the drill's own, not a shared machine's.
/// Labs start (and break) outside of it, so the next drill's cluster gets ready while one
/// dashboard runs.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The advice plan on screen: nothing to run.
fn advice_only(screen: &str) -> bool {
    screen.contains("advice only")
}

fn drill(scenario: Scenario, opts: LabOptions, by_hand: Option<HandStep>) -> Measured {
    let (mut lab, report) = scenario.start(opts).expect("lab cluster starts and breaks");
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let state = tempfile::tempdir().expect("temp dir");
    // Every node the lab started, as `slotscope demo` does: the dashboard stops probing the
    // killed ones once no live node lists them.
    let seed: Vec<String> = (0..lab.nodes().len())
        .map(|i| lab.endpoint(i).to_string())
        .collect();
    let seed = seed.join(" ");
    let session = format!(
        "slotscope-incident-{}-{}",
        scenario.name(),
        std::process::id()
    );
    let launched = Instant::now();
    let t = Tmux::start(
        &session,
        120,
        40,
        &format!(
            "env XDG_STATE_HOME={} {} {seed} --interval 1",
            state.path().display(),
            common::BIN
        ),
    );
    t.wait_for("the incident on screen", Duration::from_secs(30), |s| {
        let h = header(s);
        h.contains("DOWN") || h.contains("CRITICAL") || h.contains("DEGRADED")
    });
    let keys = std::cell::Cell::new(0usize);
    let mut plans = 0usize;
    let press = |k: &str| {
        t.keys(k);
        keys.set(keys.get() + 1);
    };
    while plans < 2 {
        press("x");
        let s = t.wait_for("the chooser", Duration::from_secs(5), |s| {
            s.contains("FIX ·") && s.contains('★')
        });
        println!("{}: chooser {}:\n{s}", scenario.name(), plans + 1);
        press("Enter");
        // The plan, focus on Cancel (the chooser's buttons are Show plan and Cancel).
        let s = t.wait_for("the plan, focus on Cancel", Duration::from_secs(5), |s| {
            s.contains("▸[ Cancel ]◂") && !s.contains("Show plan")
        });
        if advice_only(&s) {
            println!("{}: advice:\n{s}", scenario.name());
            let hand = by_hand.unwrap_or_else(|| {
                panic!("{}: the recommended plan is advice:\n{s}", scenario.name())
            });
            press("Escape");
            t.wait_for("the advice closed", Duration::from_secs(5), |s| {
                !s.contains("advice only")
            });
            if t.capture().contains("FIX ·") {
                press("Escape");
            }
            hand(&mut lab, &report);
            break;
        }
        assert!(
            s.contains("RISK"),
            "{}: no risk line:\n{s}",
            scenario.name()
        );
        if let Some(word) = typed_word(&s) {
            t.literal(&word);
            keys.set(keys.get() + 1);
            t.wait_for("the word typed", Duration::from_secs(5), |s| {
                s.contains("✓ matches")
            });
        }
        press("Tab");
        t.wait_for("Run focused", Duration::from_secs(5), |s| {
            s.contains("▸[ Run ]◂")
        });
        press("Enter");
        plans += 1;
        let s = t.wait_for("the result", Duration::from_secs(60), |s| {
            s.contains("✓ DONE") || s.contains("✗ ")
        });
        println!("{}: result of plan {plans}:\n{s}", scenario.name());
        press("Enter");
        let healthy = Instant::now();
        while healthy.elapsed() < Duration::from_secs(12) {
            if green(&t.capture()) && all_ok(&lab) {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if green(&t.capture()) && all_ok(&lab) {
            break;
        }
    }
    let s = t.wait_for("an OK header", Duration::from_secs(20), green);
    let seconds = launched.elapsed().as_secs_f64();
    let keys = keys.get();
    println!(
        "{}: OK after {plans} plan(s), {keys} key(s), {seconds:.1} s:\n{s}",
        scenario.name()
    );
    // The screen that turned OK says nothing else: no node counted failing, no red row (a
    // forgotten seed reads GONE, a note).
    let counts = s.lines().find(|l| l.starts_with("data ")).unwrap_or("");
    assert!(
        !counts.contains("fail"),
        "{}: OK header over {counts:?}",
        scenario.name()
    );
    assert!(
        !s.lines()
            .any(|l| l.starts_with("FAIL ") || l.starts_with("DOWN ")),
        "{}: OK header over a failing node row:\n{s}",
        scenario.name()
    );
    t.keys("q");
    assert!(
        t.wait_exit(Duration::from_secs(5)),
        "slotscope did not exit on q"
    );
    assert!(
        all_ok(&lab),
        "{}: a node is not cluster_state:ok",
        scenario.name()
    );
    for i in lab.running() {
        let c = cluster_check(&lab.endpoint(i), lab.password(), Duration::from_secs(20));
        assert!(
            c.clean(),
            "{}: redis-cli --cluster check on node {i}: exit {:?}, {:?}\n{}",
            scenario.name(),
            c.code,
            c.problems(),
            c.output
        );
    }
    assert!(
        seconds < 60.0,
        "{}: {seconds:.1} s from launch to an OK header",
        scenario.name()
    );
    drop(lab);
    Measured {
        keys,
        plans,
        seconds,
    }
}

fn base() -> LabOptions {
    LabOptions {
        keys: 300,
        node_timeout_ms: 1500,
        ..LabOptions::default()
    }
}

/// The drill's contract: OK within two plans and one minute, with keys pressed.
fn contract(scenario: Scenario, opts: LabOptions, by_hand: Option<HandStep>) {
    let m = drill(scenario, opts, by_hand);
    assert!(m.plans <= 2, "{scenario}: {} plans", m.plans);
    assert!(m.keys > 0 && m.seconds < 60.0);
}

#[test]
fn dead_master_no_replica() {
    contract(Scenario::DeadMasterNoReplica, base(), None);
}

#[test]
fn dead_master_failover() {
    // Two replicas: after the failover the new master keeps one, so the end state is OK
    // rather than "master with no replica" (a server no plan can add).
    let opts = LabOptions {
        replicas_per_master: 2,
        ..base()
    };
    contract(Scenario::DeadMasterFailover, opts, None);
}

#[test]
fn interrupted_reshard() {
    contract(Scenario::InterruptedReshard, base(), None);
}

#[test]
fn migrating_only() {
    contract(Scenario::MigratingOnly, base(), None);
}

#[test]
fn importing_only() {
    contract(Scenario::ImportingOnly, base(), None);
}

#[test]
fn deleted_slots() {
    contract(Scenario::DeletedSlots, base(), None);
}

#[test]
fn full_coverage_off() {
    contract(Scenario::FullCoverageOff, base(), None);
}

#[test]
fn node_must_rejoin() {
    contract(Scenario::NodeMustRejoin, base(), None);
}

#[test]
fn stopped_node() {
    contract(Scenario::StoppedNode, base(), Some(resume_paused));
}

#[test]
fn majority_lost() {
    contract(Scenario::MajorityLost, base(), None);
}

#[test]
fn replica_not_syncing() {
    contract(
        Scenario::ReplicaNotSyncing,
        base(),
        Some(give_replica_the_password),
    );
}

/// The advice: "resume it with kill -CONT <pid>". The pid is the one the drill reports.
fn resume_paused(lab: &mut Lab, report: &ScenarioReport) {
    let victim = report.affected[0];
    println!("by hand: kill -CONT {}", lab.nodes()[victim].pid);
    lab.cont(victim).expect("SIGCONT");
}

/// The advice: "CONFIG SET masterauth <password of the master>". The lab's masters have the
/// lab's password (none by default: an empty `masterauth`).
fn give_replica_the_password(lab: &mut Lab, report: &ScenarioReport) {
    let replica = report.affected[0];
    let pw = lab.password().unwrap_or("").to_owned();
    println!("by hand: CONFIG SET masterauth <the password> on node {replica}");
    lab.cmd(replica, &["CONFIG", "SET", "masterauth", &pw])
        .expect("CONFIG SET masterauth");
}
