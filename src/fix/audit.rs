//! The audit log: every write a fix sends is appended as JSON lines (time, OS user, cluster,
//! plan, node, command with secrets masked, result).
//!
//! Write-ahead: a write is recorded (`"phase":"sending"`, result `pending`) and flushed to disk
//! before the command goes out, then completed by a second line with its result
//! (`"phase":"done"`). A process killed while a command is in flight leaves the first line
//! alone: [`AuditLog::read_all`] reports such a write as possibly applied.
//!
//! Each record names the plan (id and title), the confirmation that was given (a plain yes, the
//! typed word, `--yes`, `--yes --accept-data-loss`) and the cluster's identity (the digest of
//! its sorted node ids, [`crate::cluster::digest::cluster_id`]). A path holding `{cluster}`
//! gives one file per cluster: the placeholder becomes the cluster id once the cluster is
//! observed, before anything is sent.
//!
//! Default path: the user's state directory (`$XDG_STATE_HOME/slotscope/audit.jsonl` on Linux,
//! via the `directories` crate), falling back to `~/.local/state/slotscope/audit.jsonl`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the audit log inside the state directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// Which half of a write a line records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditPhase {
    /// Written before the command is sent.
    Sending,
    /// Written after the reply (or the error); lines without a phase are of this kind.
    #[default]
    Done,
}

/// In a log path, replaced by the cluster id: one audit file per cluster.
pub const CLUSTER_PLACEHOLDER: &str = "{cluster}";

/// The confirmation the user gave for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationGiven {
    /// A plain yes (the dashboard's Run button, or `y` at the CLI's prompt).
    Plain,
    /// The typed word of a plan that can lose data.
    TypedWord,
    /// `--yes` on the command line (plans that keep every key).
    Yes,
    /// `--yes --accept-data-loss` on the command line.
    YesAcceptDataLoss,
    /// Run by a program through the library, with no human confirmation recorded.
    Program,
}

/// Result given by [`AuditLog::read_all`] to a write whose reply was never recorded.
pub const RESULT_UNKNOWN: &str =
    "unknown: sent, but no result was recorded (slotscope stopped); it may have been applied";

/// One audited write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// UTC time, RFC 3339 with milliseconds (`2024-05-01T12:00:00.123Z`).
    pub time: String,
    /// Unix time in milliseconds.
    pub time_ms: u64,
    /// The OS user running slotscope.
    pub user: String,
    /// The cluster, as the seeds the user gave (`127.0.0.1:7000,127.0.0.1:7001`).
    pub cluster: String,
    /// The plan id.
    pub plan: String,
    /// The plan's title, as the confirmation showed it.
    #[serde(default)]
    pub plan_title: String,
    /// The confirmation given for the run (absent in records of older versions).
    #[serde(default)]
    pub confirmation: Option<ConfirmationGiven>,
    /// The cluster's identity: digest of its sorted node ids (absent in older records).
    #[serde(default)]
    pub cluster_id: Option<String>,
    /// Step number (1-based) within the plan.
    pub step: usize,
    /// The node's endpoint.
    pub node: String,
    /// The node id, when known.
    pub node_id: Option<String>,
    /// The command, secrets masked.
    pub command: String,
    /// `ok`, or `error: …` (secrets masked); `pending` on a [`AuditPhase::Sending`] line.
    pub result: String,
    /// Before or after sending.
    #[serde(default)]
    pub phase: AuditPhase,
}

/// An append-only JSON-lines audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// A log at this path (created on first append, with its parent directories).
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// A log at the default path.
    #[must_use]
    pub fn at_default_path() -> Self {
        Self::new(default_path())
    }

    /// Where records go.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the path holds [`CLUSTER_PLACEHOLDER`]: the file is known only once the
    /// cluster is.
    #[must_use]
    pub fn per_cluster(&self) -> bool {
        self.path.to_string_lossy().contains(CLUSTER_PLACEHOLDER)
    }

    /// The log of one cluster: [`CLUSTER_PLACEHOLDER`] in the path replaced by `cluster_id`
    /// (the same log when the path has none).
    #[must_use]
    pub fn for_cluster(&self, cluster_id: &str) -> Self {
        if !self.per_cluster() {
            return self.clone();
        }
        let path = self
            .path
            .to_string_lossy()
            .replace(CLUSTER_PLACEHOLDER, cluster_id);
        Self::new(path)
    }

    /// Check that the log can be written (creates the file, appends nothing).
    ///
    /// # Errors
    /// The I/O error, with the path in the message.
    pub fn ensure_writable(&self) -> io::Result<()> {
        self.open().map(|_| ())
    }

    fn open(&self) -> io::Result<fs::File> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| with_path(&e, parent))?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| with_path(&e, &self.path))
    }

    /// Append one record as one line (a single `write` call, so lines never interleave), and
    /// make it durable before returning: a [`AuditPhase::Sending`] line must survive a crash
    /// of the machine during the write it announces.
    ///
    /// # Errors
    /// The I/O or serialisation error.
    pub fn append(&self, record: &AuditRecord) -> io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(io::Error::other)?;
        line.push('\n');
        let mut f = self.open()?;
        f.write_all(line.as_bytes())
            .map_err(|e| with_path(&e, &self.path))?;
        f.flush()?;
        f.sync_data().map_err(|e| with_path(&e, &self.path))
    }

    /// Every line as written (both halves of each write). Unparsable lines are skipped.
    ///
    /// # Errors
    /// The I/O error when the file cannot be read.
    pub fn read_lines(&self) -> io::Result<Vec<AuditRecord>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(with_path(&e, &self.path)),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// One record per write: each [`AuditPhase::Sending`] line joined with the
    /// [`AuditPhase::Done`] line that completes it (same plan, step, node and command, in
    /// order). A write that was announced and never completed is reported with the result
    /// [`RESULT_UNKNOWN`].
    ///
    /// # Errors
    /// The I/O error when the file cannot be read.
    pub fn read_all(&self) -> io::Result<Vec<AuditRecord>> {
        Ok(join_phases(self.read_lines()?))
    }
}

/// See [`AuditLog::read_all`].
fn join_phases(lines: Vec<AuditRecord>) -> Vec<AuditRecord> {
    let same = |a: &AuditRecord, b: &AuditRecord| {
        a.plan == b.plan && a.step == b.step && a.node == b.node && a.command == b.command
    };
    let mut out: Vec<AuditRecord> = Vec::with_capacity(lines.len());
    // Indexes into `out` of announced writes still waiting for their result.
    let mut open: Vec<usize> = Vec::new();
    for rec in lines {
        match rec.phase {
            AuditPhase::Sending => {
                open.push(out.len());
                out.push(AuditRecord {
                    result: RESULT_UNKNOWN.to_owned(),
                    ..rec
                });
            }
            AuditPhase::Done => {
                let pending = open.iter().position(|&i| same(&out[i], &rec));
                match pending {
                    Some(k) => {
                        let i = open.remove(k);
                        out[i] = rec;
                    }
                    None => out.push(rec),
                }
            }
        }
    }
    out
}

fn with_path(e: &io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// The default audit log path.
#[must_use]
pub fn default_path() -> PathBuf {
    if let Some(dirs) = directories::ProjectDirs::from("", "", "slotscope")
        && let Some(state) = dirs.state_dir()
    {
        return state.join(AUDIT_FILE);
    }
    let home = directories::BaseDirs::new()
        .map(|b| b.home_dir().to_path_buf())
        .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/state/slotscope").join(AUDIT_FILE)
}

/// The OS user running this process (name from the password database, else `$USER`, else the
/// numeric uid).
#[must_use]
pub fn os_user() -> String {
    let uid = nix::unistd::Uid::current();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(u)) => u.name,
        _ => std::env::var("USER").unwrap_or_else(|_| format!("uid {uid}")),
    }
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds.
#[must_use]
pub fn rfc3339_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let (y, mo, d) = crate::record::time::civil_from_days(days);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339_ms(1_714_564_800_000), "2024-05-01T12:00:00.000Z");
    }

    #[test]
    fn appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("sub/audit.jsonl"));
        log.ensure_writable().unwrap();
        assert!(log.read_all().unwrap().is_empty());
        let rec = AuditRecord {
            time: rfc3339_ms(1000),
            time_ms: 1000,
            user: os_user(),
            cluster: "127.0.0.1:7000".into(),
            plan: "stabilise-slot-5".into(),
            plan_title: "Close slot 5".into(),
            confirmation: Some(ConfirmationGiven::Plain),
            cluster_id: Some("cbf29ce484222325".into()),
            step: 1,
            node: "127.0.0.1:7000".into(),
            node_id: None,
            command: "CLUSTER SETSLOT 5 STABLE".into(),
            result: "ok".into(),
            phase: AuditPhase::Done,
        };
        log.append(&rec).unwrap();
        log.append(&rec).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(log.read_all().unwrap(), vec![rec.clone(), rec]);
        assert!(!os_user().is_empty());
    }

    #[test]
    fn a_write_is_announced_before_it_is_sent_and_joined_with_its_result() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let rec = |step: usize, result: &str, phase: AuditPhase| AuditRecord {
            time: rfc3339_ms(1000),
            time_ms: 1000,
            user: "u".into(),
            cluster: "c".into(),
            plan: "p".into(),
            plan_title: "P".into(),
            confirmation: Some(ConfirmationGiven::TypedWord),
            cluster_id: None,
            step,
            node: "127.0.0.1:7000".into(),
            node_id: None,
            command: format!("CMD {step}"),
            result: result.into(),
            phase,
        };
        log.append(&rec(1, "pending", AuditPhase::Sending)).unwrap();
        log.append(&rec(1, "ok: OK", AuditPhase::Done)).unwrap();
        // Killed while step 2 was in flight: only its announcement is there.
        log.append(&rec(2, "pending", AuditPhase::Sending)).unwrap();
        assert_eq!(log.read_lines().unwrap().len(), 3);
        let all = log.read_all().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].result, "ok: OK");
        assert_eq!(all[1].step, 2);
        assert_eq!(all[1].result, RESULT_UNKNOWN);
        // A line written before phases existed reads as a completed write.
        let old = r#"{"time":"t","time_ms":1,"user":"u","cluster":"c","plan":"p","step":3,"node":"n","node_id":null,"command":"X","result":"ok"}"#;
        let joined = join_phases(vec![serde_json::from_str(old).unwrap()]);
        assert_eq!(joined[0].phase, AuditPhase::Done);
        assert_eq!(joined[0].result, "ok");
        assert_eq!(joined[0].confirmation, None);
        assert_eq!(joined[0].plan_title, "");
    }

    #[test]
    fn a_cluster_placeholder_gives_one_file_per_cluster() {
        let log = AuditLog::new("/var/log/slotscope/{cluster}/audit-{cluster}.jsonl");
        assert!(log.per_cluster());
        let one = log.for_cluster("0123456789abcdef");
        assert_eq!(
            one.path(),
            Path::new("/var/log/slotscope/0123456789abcdef/audit-0123456789abcdef.jsonl")
        );
        assert!(!one.per_cluster());
        let plain = AuditLog::new("/tmp/audit.jsonl");
        assert!(!plain.per_cluster());
        assert_eq!(plain.for_cluster("x"), plain);
    }

    #[test]
    fn default_path_ends_with_file_name() {
        let p = default_path();
        assert!(p.ends_with("slotscope/audit.jsonl"), "{}", p.display());
    }
}
