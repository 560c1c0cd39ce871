//! The postmortem snapshot: one refresh as a one-refresh recording, the `check --json`
//! document and the text report of that refresh, in a new directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::check::{Format, TextStyle, render_outcome};
use crate::record::time::utc;
use crate::record::{Header, RecordedRefresh, Writer};

/// The file names inside a snapshot directory.
pub const RECORDING: &str = "recording.jsonl.gz";
/// The `check --json` document.
pub const CHECK_JSON: &str = "check.json";
/// The text report.
pub const REPORT: &str = "report.txt";

/// Write the snapshot of `refresh` into a new directory under `parent`; returns it.
///
/// The documents are made by replaying the recording just written, exactly as
/// `slotscope check --replay DIR/recording.jsonl.gz` would.
///
/// # Errors
/// A directory or file that cannot be written, as a message.
pub fn write(parent: &Path, refresh: &RecordedRefresh, source: &str) -> Result<PathBuf, String> {
    let stamp = utc(refresh.started_at_ms)
        .replace([' ', ':'], "")
        .replace('-', "");
    let mut dir = parent.join(format!("slotscope-snapshot-{stamp}"));
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = parent.join(format!("slotscope-snapshot-{stamp}-{n}"));
    }
    let err =
        |what: &Path, e: &dyn std::fmt::Display| format!("cannot write {}: {e}", what.display());
    std::fs::create_dir_all(&dir).map_err(|e| err(&dir, &e))?;
    let rec = dir.join(RECORDING);
    let header = Header::new(refresh.started_at_ms, source);
    let written = Writer::create(&rec, &header)
        .and_then(|mut w| w.write(refresh).and_then(|_| w.finish()).map(drop));
    written.map_err(|e| err(&rec, &e))?;
    let recording = crate::record::open(&rec).map_err(|e| err(&rec, &e))?;
    let outcome = recording
        .check_outcome(0)
        .ok_or_else(|| format!("{}: the snapshot holds no refresh", rec.display()))?;
    // The same Result type as `observe_once`'s, which `render_outcome` takes.
    #[allow(clippy::result_large_err)]
    let result = |o: &crate::refresh::RefreshOutcome| match &o.error {
        Some(e) => Err(e.clone()),
        None => Ok((*o.snapshot).clone()),
    };
    let mut report = format!(
        "slotscope: the refresh at {} ({source})\nreplay: slotscope replay {}\n\n",
        utc(refresh.started_at_ms),
        rec.display()
    );
    let took_ms = refresh.finished_at_ms.saturating_sub(refresh.started_at_ms);
    let json = match render_outcome(result(&outcome), Format::Json, TextStyle::Plain, took_ms) {
        Ok((doc, _)) => doc,
        Err((e, _)) => format!("{}\n", serde_json::json!({ "error": e })),
    };
    match render_outcome(result(&outcome), Format::Text, TextStyle::Plain, took_ms) {
        Ok((text, code)) => {
            report.push_str(&text);
            let _ = writeln!(report, "\n(check exit code {code})");
        }
        Err((e, _)) => {
            let _ = writeln!(report, "the cluster could not be observed: {e}");
        }
    }
    let json_path = dir.join(CHECK_JSON);
    std::fs::write(&json_path, json).map_err(|e| err(&json_path, &e))?;
    let report_path = dir.join(REPORT);
    std::fs::write(&report_path, report).map_err(|e| err(&report_path, &e))?;
    Ok(dir)
}
