//! End to end, in a real terminal (tmux) against real local clusters: the `:` node commands
//! and their output overlay, the central refusal of writes, `y` copying a plan's commands
//! with OSC 52 into tmux's paste buffer, and the mouse (clicks select, the wheel scrolls,
//! `--no-mouse` leaves the mouse alone).
//!
//! Each test runs its own tmux server (`-L`), so `set-clipboard on` and the paste buffer are
//! its own.

mod common;

use std::process::Command;
use std::time::Duration;

use slotscope::lab::{Lab, LabOptions, Scenario};

use common::must;

/// A tmux server of its own with one session running the real binary.
struct Term {
    socket: String,
}

impl Term {
    fn start(name: &str, w: u16, h: u16, cmd: &str) -> Self {
        let socket = format!("{name}-{}", std::process::id());
        let t = Self { socket };
        let ok = t
            .tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "s"])
            .args(["-x", &w.to_string(), "-y", &h.to_string(), cmd])
            .status()
            .expect("tmux runs");
        assert!(ok.success(), "tmux new-session failed");
        let _ = t.tmux(&["set", "-g", "set-clipboard", "on"]).status();
        t
    }

    fn tmux(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]).args(args);
        c
    }

    fn capture(&self) -> String {
        let out = self
            .tmux(&["capture-pane", "-p", "-t", "s"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        let _ = self.tmux(&["send-keys", "-t", "s", keys]).status();
    }

    fn literal(&self, text: &str) {
        let _ = self.tmux(&["send-keys", "-t", "s", "-l", text]).status();
    }

    /// Type a `:` command and press Enter.
    fn command(&self, line: &str) {
        self.keys(":");
        self.literal(line);
        self.keys("Enter");
    }

    /// A left click at 0-based cell `(x, y)`, as an SGR mouse report.
    fn click(&self, x: usize, y: usize) {
        self.literal(&format!("\x1b[<0;{};{}M", x + 1, y + 1));
        self.literal(&format!("\x1b[<0;{};{}m", x + 1, y + 1));
    }

    /// One wheel notch down at `(x, y)`.
    fn wheel_down(&self, x: usize, y: usize) {
        self.literal(&format!("\x1b[<65;{};{}M", x + 1, y + 1));
    }

    /// Whether the program asked the terminal for mouse reports.
    fn mouse_reporting(&self) -> bool {
        let out = self
            .tmux(&[
                "display",
                "-p",
                "-t",
                "s",
                "#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}",
            ])
            .output()
            .expect("tmux display");
        String::from_utf8_lossy(&out.stdout).contains('1')
    }

    fn paste_buffer(&self) -> String {
        let out = self.tmux(&["show-buffer"]).output().expect("show-buffer");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", "s"])
            .status()
            .is_ok_and(|s| s.success())
    }

    fn wait_for(&self, what: &str, timeout: Duration, f: impl Fn(&str) -> bool) -> String {
        let start = std::time::Instant::now();
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

    /// Esc, then wait until no overlay is left (a key sent right after Esc would read as
    /// Alt+key).
    fn close_overlay(&self) {
        self.keys("Escape");
        self.wait_for("the overlay to close", Duration::from_secs(5), |s| {
            !s.contains("Esc closes") && !s.contains("FIX ·") && !s.contains("slotscope help")
        });
    }

    fn quit(&self) {
        self.keys("q");
        let start = std::time::Instant::now();
        while self.alive() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!self.alive(), "q did not end the dashboard");
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]).status();
    }
}

const WAIT: Duration = Duration::from_secs(40);

/// The (0-based) screen row holding `needle`, and that row.
fn row_of(screen: &str, needle: &str) -> (usize, String) {
    screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .map_or_else(
            || panic!("no row with {needle}:\n{screen}"),
            |(i, l)| (i, l.to_owned()),
        )
}

fn last_line(screen: &str) -> String {
    screen.lines().last().unwrap_or_default().to_owned()
}

#[test]
fn node_commands_copy_and_mouse_in_a_real_terminal() {
    const PASSWORD: &str = "h9-secret-pw";
    let (mut lab, report) = Scenario::DeadMasterNoReplica
        .start(LabOptions {
            replicas_per_master: 1,
            keys: 200,
            password: Some(PASSWORD.to_owned()),
            ..LabOptions::default()
        })
        .expect("lab cluster starts and breaks");
    let victim = *report.affected.first().expect("a victim");
    let dead = lab.endpoint(victim).to_string();
    let seed_i = lab
        .master_indices()
        .into_iter()
        .find(|i| *i != victim)
        .expect("a live master");
    let seed = lab.endpoint(seed_i).to_string();
    let cmd = format!(
        "env REDISCLI_AUTH={PASSWORD} {} {seed} --interval 1",
        common::BIN
    );
    let t = Term::start("slotscope-console", 120, 40, &cmd);
    t.wait_for("the verdict naming the dead master", WAIT, |s| {
        s.lines().next().is_some_and(|l| l.contains(&dead))
    });
    assert!(t.mouse_reporting(), "the dashboard captures the mouse");

    // `:info NODE SECTION` opens the overlay with the node and the command in its title.
    t.command(&format!("info {seed} replication"));
    let s = t.wait_for("INFO replication of the seed", WAIT, |s| {
        s.contains(&format!("{seed} · INFO replication")) && s.contains("role:master")
    });
    assert!(s.contains("connected_slaves:"), "{s}");
    assert!(last_line(&s).contains("Esc:close"), "{s}");
    t.close_overlay();

    // A secret in CONFIG GET is masked.
    t.command(&format!("cmd {seed} CONFIG GET requirepass"));
    let s = t.wait_for("CONFIG GET requirepass", WAIT, |s| {
        s.contains("CONFIG GET requirepass") && s.contains("2) ***")
    });
    assert!(!s.contains(PASSWORD), "{s}");
    t.close_overlay();

    // A write is refused centrally, on the status line, and never sent: the node's own
    // count of SET calls (served, rejected or failed) does not move.
    let set_stats = || {
        must(lab.query(seed_i, &["INFO", "commandstats"]))
            .lines()
            .find(|l| l.starts_with("cmdstat_set:"))
            .unwrap_or_default()
            .to_owned()
    };
    let before = set_stats();
    t.command(&format!("cmd {seed} SET h9-probe-key 1"));
    let s = t.wait_for("the refusal", Duration::from_secs(5), |s| {
        last_line(s).contains("refused: SET is a write")
    });
    assert!(!s.contains("h9-probe-key ·"), "no overlay opened:\n{s}");
    assert_eq!(set_stats(), before, "the write was not sent");

    // A hung node: the overlay says so after the timeout, the dashboard stays responsive.
    let replica = lab.replicas_of(seed_i)[0];
    let hung = lab.endpoint(replica).to_string();
    must(lab.stop(replica));
    t.command(&format!("info {hung}"));
    t.wait_for("the waiting overlay", Duration::from_secs(5), |s| {
        s.contains(&format!("{hung} · INFO"))
    });
    let s = t.wait_for("the timeout in the overlay", Duration::from_secs(20), |s| {
        s.contains(&format!("{hung} · INFO")) && s.contains("error:")
    });
    assert!(!s.contains("waiting for the node"), "{s}");
    t.close_overlay();
    t.keys("?");
    t.wait_for("the help overlay", Duration::from_secs(5), |s| {
        s.contains("slotscope help")
    });
    t.close_overlay();
    must(lab.cont(replica));

    // Mouse: a click on a node row focuses the table and selects that row; the wheel moves.
    let s = t.wait_for("the node table", Duration::from_secs(5), |s| {
        s.contains("2 Nodes") && !s.contains("slotscope help")
    });
    let (header_y, _) = row_of(&s, "st   id");
    let dead_y = s
        .lines()
        .enumerate()
        .skip(header_y)
        .find(|(_, l)| l.contains(&format!("{dead} ")))
        .map_or_else(|| panic!("no table row for {dead}:\n{s}"), |(i, _)| i);
    t.click(10, dead_y);
    let pos = dead_y - header_y;
    let s = t.wait_for("the clicked row selected", Duration::from_secs(5), |s| {
        let (_, title) = row_of(s, "2 Nodes");
        title.contains("▶ 2 Nodes") && title.contains(&format!("{pos}/"))
    });
    let (_, title) = row_of(&s, "2 Nodes");
    let total: usize = title
        .rsplit('/')
        .next()
        .and_then(|n| n.trim_end_matches('─').trim().parse().ok())
        .unwrap_or_else(|| panic!("no position in {title}"));
    t.click(10, header_y + 1);
    t.wait_for("the first row selected", Duration::from_secs(5), |s| {
        row_of(s, "2 Nodes").1.contains(&format!("1/{total}"))
    });
    t.wheel_down(10, header_y + 1);
    t.wait_for("the wheel moved the cursor", Duration::from_secs(5), |s| {
        row_of(s, "2 Nodes")
            .1
            .contains(&format!("{}/{total}", 4.min(total)))
    });
    // A click on a finding focuses the findings.
    let (fy, line) = row_of(&s, "!! ");
    let fx = line.split("!! ").next().map_or(0, |l| l.chars().count());
    t.click(fx + 4, fy);
    t.wait_for("the findings focused", Duration::from_secs(5), |s| {
        s.contains("▶ 3 Findings")
    });

    // `y` in a plan: its commands, as shown, in the clipboard (tmux's paste buffer).
    t.keys("x");
    t.wait_for("the chooser", Duration::from_secs(5), |s| {
        s.contains("★ = recommended")
    });
    t.keys("Enter");
    t.wait_for("the plan", Duration::from_secs(5), |s| s.contains("STEPS"));
    t.keys("C-y");
    let s = t.wait_for("the copy status", Duration::from_secs(5), |s| {
        last_line(s).contains("to the clipboard")
    });
    let status = last_line(&s);
    assert!(status.starts_with("copied "), "{status}");
    assert!(status.contains("commands of plan "), "{status}");
    let buf = t.paste_buffer();
    assert!(buf.contains("redis-cli -h 127.0.0.1 -p"), "{buf}");
    assert!(buf.contains("CLUSTER FORGET"), "{buf}");
    assert!(!buf.contains(PASSWORD), "a password was copied:\n{buf}");
    let bytes: usize = status
        .split('(')
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no byte count in {status}"));
    assert_eq!(buf.len(), bytes, "{status}\n{buf}");
    t.keys("Escape");
    t.wait_for("the chooser again", Duration::from_secs(5), |s| {
        s.contains("★ = recommended")
    });
    t.close_overlay();
    t.quit();
    drop(lab);
}

#[test]
fn read_only_refuses_writes_and_no_mouse_ignores_clicks() {
    let lab = must(Lab::start(LabOptions {
        masters: 3,
        replicas_per_master: 0,
        keys: 50,
        ..LabOptions::default()
    }));
    let seed = lab.endpoint(0).to_string();
    let cmd = format!("{} {seed} --interval 1 --read-only --no-mouse", common::BIN);
    let t = Term::start("slotscope-console-ro", 80, 24, &cmd);
    let s = t.wait_for("the node table", WAIT, |s| s.contains(&seed));
    assert!(
        !t.mouse_reporting(),
        "--no-mouse leaves the mouse to the terminal"
    );
    t.command(&format!("cmd {seed} CLUSTER SETSLOT 0 STABLE"));
    t.wait_for("the refusal", Duration::from_secs(5), |s| {
        last_line(s).contains("refused: CLUSTER SETSLOT is an admin command")
    });
    // Reads work in read-only mode, the selected node when none is named.
    t.command("cmd DBSIZE");
    t.wait_for("DBSIZE of the selected node", WAIT, |s| {
        s.contains("· DBSIZE") && s.contains("(integer)")
    });
    t.close_overlay();
    // Mouse capture is off: a click does not move the focus to the node table.
    let (y, _) = row_of(&s, &format!("{seed} "));
    t.click(10, y);
    std::thread::sleep(Duration::from_secs(1));
    let s = t.capture();
    assert!(!s.contains("▶ 2 Nodes"), "{s}");
    t.quit();
}
