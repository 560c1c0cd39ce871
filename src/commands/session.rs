//! The dashboard's [`Session`]s: recording the refreshes of the live dashboard (`--record`,
//! `R`), and the postmortem snapshot (`P`) of the live dashboard and of a replay.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;

use super::snapshot;
use crate::app::replay::RecordingStatus;
use crate::app::{App, SessionEffect};
use crate::cluster::ClusterSnapshot;
use crate::record::{Header, RecordedRefresh, Recording, Writer};
use crate::refresh::capture::Capture;
use crate::refresh::{RefreshOutcome, now_ms};
use crate::tui::Session;

/// The live dashboard's session: records refreshes and writes snapshots.
#[derive(Debug)]
pub struct LiveSession {
    capture: Arc<Capture>,
    /// The path of the first recording (`--record`), if given and not yet used.
    first_path: Option<PathBuf>,
    writer: Option<(PathBuf, Writer<BufWriter<File>>)>,
    /// The last refresh received.
    last: Option<Arc<ClusterSnapshot>>,
    source: String,
}

impl LiveSession {
    /// A session reading the raw replies from `capture`; records from the start into
    /// `record` when given.
    #[must_use]
    pub fn new(capture: Arc<Capture>, record: Option<PathBuf>, source: &str) -> Self {
        // Whole replies are kept only while a recording runs (a snapshot, `P`, writes the
        // views back as text).
        capture.set_recording(record.is_some());
        Self {
            capture,
            first_path: record,
            writer: None,
            last: None,
            source: source.to_owned(),
        }
    }

    fn start(&mut self, app: &mut App) {
        let path = self.first_path.take().unwrap_or_else(|| {
            PathBuf::from(format!(
                "slotscope-{}.jsonl.gz",
                crate::record::time::utc(now_ms()).replace([' ', ':', '-'], "")
            ))
        });
        match Writer::create(&path, &Header::new(now_ms(), &self.source)) {
            Ok(w) => {
                self.capture.set_recording(true);
                app.recording = Some(RecordingStatus {
                    path: path.display().to_string(),
                    refreshes: 0,
                    bytes: w.file_bytes(),
                });
                app.message = Some(format!("recording to {}", path.display()));
                self.writer = Some((path, w));
            }
            Err(e) => {
                app.message = Some(format!("cannot record to {}: {e}", path.display()));
            }
        }
    }

    fn stop(&mut self, app: &mut App) {
        if let Some((path, w)) = self.writer.take() {
            self.capture.set_recording(false);
            let n = w.refreshes();
            app.recording = None;
            app.message = Some(match w.finish() {
                Ok(_) => format!("recorded {n} refresh(es) to {}", path.display()),
                Err(e) => format!("recording to {} failed: {e}", path.display()),
            });
        }
    }
}

impl Session for LiveSession {
    fn on_outcome(&mut self, app: &mut App, outcome: &RefreshOutcome) {
        if self.first_path.is_some() {
            // `--record FILE`: from the first refresh on.
            self.start(app);
        }
        if let Some((path, w)) = self.writer.as_mut() {
            let r = RecordedRefresh::from_snapshot(&outcome.snapshot, |o| self.capture.raw_of(o));
            match w.write(&r) {
                Ok(_) => {
                    app.recording = Some(RecordingStatus {
                        path: path.display().to_string(),
                        refreshes: w.refreshes(),
                        bytes: w.file_bytes(),
                    });
                }
                Err(e) => {
                    app.message = Some(format!("recording to {} stopped: {e}", path.display()));
                    app.recording = None;
                    self.writer = None;
                    self.capture.set_recording(false);
                }
            }
        }
        self.last = Some(Arc::clone(&outcome.snapshot));
    }

    fn on_effect(&mut self, app: &mut App, effect: SessionEffect) -> bool {
        match effect {
            SessionEffect::ToggleRecording if self.writer.is_some() => self.stop(app),
            SessionEffect::ToggleRecording => self.start(app),
            SessionEffect::WriteSnapshot => {
                // The refresh on screen (a frozen screen shows an older one than the last).
                let on_screen = app.shown.as_ref().map(|p| Arc::clone(&p.snapshot));
                let r = on_screen
                    .or_else(|| self.last.clone())
                    .map(|s| RecordedRefresh::from_snapshot(&s, |o| self.capture.raw_of(o)));
                let Some(r) = r else {
                    app.message = Some("no refresh yet: nothing to snapshot".into());
                    return true;
                };
                app.message = Some(snapshot_message(&r, &self.source));
            }
        }
        true
    }

    fn finish(&mut self, app: &mut App) {
        self.stop(app);
        if let Some(m) = app.message.take().filter(|m| m.starts_with("recorded")) {
            eprintln!("slotscope: {m}");
        }
    }
}

/// A replay's session: snapshots of the refresh on screen.
#[derive(Debug)]
pub struct ReplaySession {
    recording: Arc<Recording>,
}

impl ReplaySession {
    /// A session over the recording being replayed.
    #[must_use]
    pub fn new(recording: Arc<Recording>) -> Self {
        Self { recording }
    }
}

impl Session for ReplaySession {
    fn on_outcome(&mut self, _app: &mut App, _outcome: &RefreshOutcome) {}

    fn on_effect(&mut self, app: &mut App, effect: SessionEffect) -> bool {
        match effect {
            SessionEffect::ToggleRecording => {
                app.message = Some("a replay records nothing: it is a recording".into());
            }
            SessionEffect::WriteSnapshot => {
                let i = app.replay.as_ref().map_or(0, |r| r.index);
                if let Some(r) = self.recording.refreshes.get(i) {
                    app.message = Some(snapshot_message(r, "replay"));
                }
            }
        }
        true
    }

    fn finish(&mut self, _app: &mut App) {}
}

/// Write the snapshot into the working directory; the status line says where.
fn snapshot_message(r: &RecordedRefresh, source: &str) -> String {
    let parent = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match snapshot::write(&parent, r, &format!("snapshot of the {source}")) {
        Ok(dir) => format!(
            "snapshot written to {}/ ({}, {}, {})",
            dir.display(),
            snapshot::RECORDING,
            snapshot::CHECK_JSON,
            snapshot::REPORT
        ),
        Err(e) => format!("snapshot failed: {e}"),
    }
}
