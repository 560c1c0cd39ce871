//! The dashboard on a recording: every refresh is known up front, the timeline is filled from
//! the whole recording, and `[` `]` `{` `}` `:goto` choose the refresh on screen. Also the
//! recording indicator of the live dashboard. No I/O: the terminal shell loads the recording
//! and writes files.

use std::sync::Arc;

use super::{App, Presented};
use crate::cluster::ClusterSnapshot;
use crate::record::At;
use crate::record::time::utc;

/// One refresh of a replay.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The snapshot, rebuilt from the recorded replies.
    pub snapshot: Arc<ClusterSnapshot>,
    /// Why the refresh observed nothing, if it did not.
    pub error: Option<String>,
    /// What the findings said (verdict and each finding), to find the next change.
    signature: u64,
}

impl Frame {
    /// A refresh of the recording.
    #[must_use]
    pub fn new(snapshot: Arc<ClusterSnapshot>, error: Option<String>) -> Self {
        Self {
            snapshot,
            error,
            signature: 0,
        }
    }
}

/// The replay on screen.
#[derive(Clone, Debug)]
pub struct Replay {
    /// Every refresh, oldest first.
    pub frames: Vec<Frame>,
    /// The refresh on screen (0-based).
    pub index: usize,
    /// The recording's file name, for the header.
    pub name: String,
}

impl Replay {
    /// `REPLAY 2025-06-01 14:03:20Z 2/3`.
    #[must_use]
    pub fn label(&self) -> String {
        let at = self
            .frames
            .get(self.index)
            .map_or_else(String::new, |f| utc(f.snapshot.started_at_ms));
        format!("REPLAY {at} {}/{}", self.index + 1, self.frames.len())
    }
}

/// A recording under way in the live dashboard, for the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingStatus {
    /// The file.
    pub path: String,
    /// Refreshes written.
    pub refreshes: u64,
    /// Compressed bytes written.
    pub bytes: u64,
}

/// Refreshes `{` and `}` jump when the findings never change.
pub const JUMP: usize = 10;

impl App {
    /// Open a replay: feed every refresh in order (filling the timeline and the migration
    /// rates as the live dashboard did), then show refresh `start`.
    pub fn start_replay(&mut self, name: &str, mut frames: Vec<Frame>, start: usize) {
        self.read_only = false;
        for f in &mut frames {
            let p = Presented::from_snapshot(Arc::clone(&f.snapshot));
            f.signature = signature(&p);
            self.on_presented(p);
        }
        let index = start.min(frames.len().saturating_sub(1));
        self.replay = Some(Replay {
            frames,
            index,
            name: name.to_owned(),
        });
        self.show_frame(index);
    }

    /// Show refresh `index` of the replay.
    pub fn show_frame(&mut self, index: usize) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        let Some(f) = r.frames.get(index).cloned() else {
            return;
        };
        r.index = index;
        self.observe_error = f.error;
        self.now_ms = f.snapshot.finished_at_ms;
        let p = Presented::from_snapshot(f.snapshot);
        self.present(p);
    }

    /// `[` / `]`: one refresh back or forward.
    pub fn replay_step(&mut self, forward: bool) {
        let Some(r) = &self.replay else {
            self.message = Some("[ ] { } step through a recording: slotscope replay FILE".into());
            return;
        };
        let i = r.index;
        let last = r.frames.len().saturating_sub(1);
        match (forward, i) {
            (true, i) if i >= last => {
                self.message = Some("the last refresh of the recording".into());
            }
            (false, 0) => self.message = Some("the first refresh of the recording".into()),
            (true, i) => self.show_frame(i + 1),
            (false, i) => self.show_frame(i - 1),
        }
    }

    /// `{` / `}`: to the previous or next refresh whose findings differ from the one on
    /// screen; [`JUMP`] refreshes when none does.
    pub fn replay_jump(&mut self, forward: bool) {
        let Some(r) = &self.replay else {
            self.message = Some("[ ] { } step through a recording: slotscope replay FILE".into());
            return;
        };
        let here = r.frames.get(r.index).map_or(0, |f| f.signature);
        let last = r.frames.len().saturating_sub(1);
        let change = if forward {
            (r.index + 1..r.frames.len()).find(|&i| r.frames[i].signature != here)
        } else {
            (0..r.index).rev().find(|&i| r.frames[i].signature != here)
        };
        let target = change.unwrap_or(if forward {
            (r.index + JUMP).min(last)
        } else {
            r.index.saturating_sub(JUMP)
        });
        if change.is_none() {
            self.message = Some(format!(
                "no change in the findings {}: moved {JUMP} refreshes",
                if forward { "ahead" } else { "before" }
            ));
        }
        self.show_frame(target);
    }

    /// `:goto WHEN`: the refresh a number or a time names.
    pub fn replay_goto(&mut self, arg: &str) {
        let Some(r) = &self.replay else {
            self.message = Some(":goto works in a replay: slotscope replay FILE".into());
            return;
        };
        let starts: Vec<u64> = r.frames.iter().map(|f| f.snapshot.started_at_ms).collect();
        match arg.parse::<At>().and_then(|at| at.resolve(&starts)) {
            Ok(i) => self.show_frame(i),
            Err(e) => self.message = Some(e),
        }
    }

    /// Whether this is a replay.
    #[must_use]
    pub fn is_replay(&self) -> bool {
        self.replay.is_some()
    }
}

fn signature(p: &Presented) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    p.verdict.hash(&mut h);
    for f in &p.findings {
        f.summary.hash(&mut h);
        format!("{:?} {:?}", f.kind, f.severity).hash(&mut h);
    }
    h.finish()
}
