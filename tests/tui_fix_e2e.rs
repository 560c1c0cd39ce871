//! End to end: the fix flow of the dashboard. The real binary runs in a real terminal (tmux,
//! 80x24) against a real local cluster with a slot move interrupted halfway. The test presses
//! the keys an engineer would (`:slot N`, `x`, Enter on the recommended plan, Tab to Run,
//! Enter), then proves on the servers themselves that the slot is no longer open anywhere and
//! that every key written before the fault reads back, and that the screen shows the
//! verification.

use std::process::Command;
use std::time::{Duration, Instant};

use slotscope::lab::{LabOptions, Scenario};

struct Tmux(String);

impl Tmux {
    fn start(name: &str, w: u16, h: u16, cmd: &str) -> Self {
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
                cmd,
            ])
            .status()
            .expect("tmux runs");
        assert!(ok.success(), "tmux new-session failed");
        Self(name.to_owned())
    }

    fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        let _ = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, keys])
            .status();
    }

    fn literal(&self, text: &str) {
        let _ = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, "-l", text])
            .status();
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.0])
            .status()
            .is_ok_and(|s| s.success())
    }

    fn wait_for(&self, what: &str, timeout: Duration, f: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if f(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

#[test]
fn interrupted_reshard_is_fixed_from_the_dashboard() {
    let (lab, report) = Scenario::InterruptedReshard
        .start(LabOptions {
            replicas_per_master: 0,
            keys: 300,
            node_timeout_ms: 1500,
            ..LabOptions::default()
        })
        .expect("lab cluster starts and breaks");
    let slot = report.slots.first().expect("the open slot").start;
    let before = lab.read_back();
    assert!(
        before.written > 0,
        "the lab wrote keys before the fault: {before:?}"
    );
    let open_on = |lab: &slotscope::lab::Lab| -> Vec<String> {
        lab.running()
            .into_iter()
            .flat_map(|i| {
                lab.cluster_nodes(i)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|l| l.has_flag("myself"))
                    .flat_map(|l| l.markers)
                    .map(move |m| format!("node {i}: {m}"))
            })
            .collect()
    };
    assert!(!open_on(&lab).is_empty(), "the slot is open before the fix");

    let state = tempfile::tempdir().expect("temp dir");
    let seed = lab.endpoint(lab.master_indices()[0]).to_string();
    let bin = env!("CARGO_BIN_EXE_slotscope");
    let session = format!("slotscope-fix-e2e-{}", std::process::id());
    let t = Tmux::start(
        &session,
        80,
        24,
        &format!(
            "env XDG_STATE_HOME={} {bin} {seed} --interval 1",
            state.path().display()
        ),
    );
    t.wait_for(
        "the dashboard to report the open slot",
        Duration::from_secs(30),
        |s| s.contains(&format!("lot {slot}")),
    );

    // Select the slot on the heatmap and ask for its fixes.
    t.keys(":");
    t.literal(&format!("slot {slot}"));
    t.keys("Enter");
    t.keys("x");
    let screen = t.wait_for("the fix dialog", Duration::from_secs(5), |s| {
        s.contains(&format!("FIX · slot {slot}"))
    });
    // Complete vs roll back: a chooser with the recommended plan marked; Enter shows it.
    if screen.contains("plans fit") {
        assert!(screen.contains('★'), "{screen}");
        t.keys("Enter");
    }
    let screen = t.wait_for("the confirmation", Duration::from_secs(5), |s| {
        s.contains("redis-cli -h 127.0.0.1 -p ")
    });
    println!("confirmation at 80x24:\n{screen}");
    assert!(
        screen.contains("▸[ Cancel ]◂"),
        "focus starts on Cancel:\n{screen}"
    );
    assert!(screen.contains("RISK"), "{screen}");
    t.keys("Tab");
    t.wait_for("Run focused", Duration::from_secs(5), |s| {
        s.contains("▸[ Run ]◂")
    });
    t.keys("Enter");
    let screen = t.wait_for("the verification result", Duration::from_secs(90), |s| {
        s.contains("VERIFIED") || s.contains('✗')
    });
    println!("result at 80x24:\n{screen}");
    assert!(
        screen.contains("DONE AND VERIFIED") && screen.contains("the finding is gone"),
        "the fix did not verify:\n{screen}"
    );

    // On the servers themselves: no marker anywhere, every key reads back.
    let markers = open_on(&lab);
    assert!(markers.is_empty(), "slot still open: {markers:?}");
    let after = lab.read_back();
    assert!(after.all_readable(), "keys lost or unreadable: {after:?}");
    assert_eq!(after.written, before.written);
    for i in lab.running() {
        assert_eq!(
            lab.cluster_state(i).ok().as_deref(),
            Some("ok"),
            "node {i} is not ok"
        );
    }
    // Every write went to the audit log under the state directory.
    let audit = state.path().join("slotscope").join("audit.jsonl");
    let log = std::fs::read_to_string(&audit).unwrap_or_default();
    assert!(
        log.lines().count() >= 2,
        "audit log {} has too few records:\n{log}",
        audit.display()
    );

    // The dialog closes and the dashboard is live again; q quits.
    t.keys("Enter");
    t.wait_for("the dialog to close", Duration::from_secs(5), |s| {
        !s.contains("FIX · slot")
    });
    t.keys("q");
    let start = Instant::now();
    while t.alive() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!t.alive(), "slotscope did not exit on q");
    drop(lab);
}
