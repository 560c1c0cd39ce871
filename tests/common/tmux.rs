//! A detached tmux session running the real binary at a fixed terminal size: send keys, read
//! the screen, wait for what should appear. The session is killed when the value is dropped,
//! also when a test panics.

use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux session, named by the test so parallel tests never share one.
pub struct Tmux(String);

impl Tmux {
    /// Start `cmd` in a new detached session `name` of `w`x`h` cells.
    /// A new session can fail while the tmux server of a test that just ended shuts down:
    /// it is tried again a few times.
    pub fn start(name: &str, w: u16, h: u16, cmd: &str) -> Self {
        for _ in 0..5 {
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
            if ok.success() {
                return Self(name.to_owned());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("tmux new-session failed");
    }

    /// The visible screen, one line per row.
    pub fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Send keys in tmux's notation (`Enter`, `Tab`, `q`, or a word typed as is).
    pub fn keys(&self, keys: &str) {
        let _ = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, keys])
            .status();
    }

    /// Type `text` literally (no key names: `Enter` would be five letters).
    pub fn literal(&self, text: &str) {
        let _ = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, "-l", text])
            .status();
    }

    /// Whether the session still exists (it ends when the program in it exits).
    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.0])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Poll the screen until `f` accepts it and return that screen; panic with `what` and the
    /// last screen after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, f: impl Fn(&str) -> bool) -> String {
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

    /// Wait up to `timeout` for the program to exit; true if it did.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let start = Instant::now();
        while self.alive() && start.elapsed() < timeout {
            std::thread::sleep(Duration::from_millis(100));
        }
        !self.alive()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}
