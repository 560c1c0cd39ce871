//! `slotscope check`: observe once, then print the diagnosis as readable text or a stable JSON
//! document, and exit with a code for the worst finding. [`run`] does the I/O; the rest is
//! pure formatting over a [`ClusterModel`] and its findings.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use serde::Serialize;

use super::ExitCode;
use super::monitoring;
use crate::refresh::{ConnectOptions, Connector, ObserveError, observe_once};

use crate::cluster::diagnose::{self, Finding, Severity};
use crate::cluster::model::{ClusterModel, Reachability, Role, SlotState};
use crate::cluster::slot_migrations::AtomicMigration;
use crate::cluster::slots::{SLOT_COUNT, SlotRange, format_ranges};
use crate::cluster::types::ClusterSnapshot;

/// Version tag of the JSON document; bumped only on incompatible changes.
pub const JSON_SCHEMA: &str = "slotscope.check/v1";

/// How `check` prints its report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text; the first line is the verdict.
    #[default]
    Text,
    /// The documented JSON document (docs/check-json.md).
    Json,
    /// Nagios plugin output: `SLOTSCOPE OK - <verdict> | <perfdata>`.
    Nagios,
    /// Prometheus text exposition, for the textfile collector of node exporter.
    Prometheus,
}

/// `slotscope check`: observe the cluster once and print the diagnosis.
pub async fn run(mut opts: ConnectOptions, format: Format) -> ExitCode {
    // `check` never writes: read-only, which also leaves out the `ACL DRYRUN` permission
    // check that only a repair needs (`fix` still runs it).
    opts.read_only = true;
    // Nor does it show the node table's vitals: `INFO` without them costs each node less.
    opts.vitals = false;
    let connector = Connector::new(opts);
    let started = std::time::Instant::now();
    let outcome = observe_once(&connector, None).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    print_outcome(outcome, format, ms)
}

/// Print the diagnosis of one observation (live, or a recorded refresh) in `format` and return
/// the exit code: what `check` prints whichever way the snapshot came. `took_ms` is how long
/// the observation took (for the unobservable Prometheus document).
#[must_use]
pub fn print_outcome(
    outcome: Result<ClusterSnapshot, ObserveError>,
    format: Format,
    took_ms: u64,
) -> ExitCode {
    match render_outcome(outcome, format, text_style(), took_ms) {
        Ok((out, code)) => {
            print!("{out}");
            code
        }
        Err((error, out)) => {
            eprintln!("slotscope: {error}");
            print!("{out}");
            ExitCode::UNOBSERVABLE
        }
    }
}

/// What `check` prints for one observation in `format` (text in `style`), with the exit code.
///
/// # Errors
/// When nothing could be observed (exit code 3): the message for stderr, and what the format
/// still prints on stdout (Nagios `UNKNOWN`, the Prometheus document; nothing for text and
/// JSON).
pub fn render_outcome(
    outcome: Result<ClusterSnapshot, ObserveError>,
    format: Format,
    style: TextStyle,
    took_ms: u64,
) -> Result<(String, ExitCode), (String, String)> {
    let unobservable = |error: String| {
        let out = match format {
            Format::Nagios => monitoring::render_nagios_unknown(&error),
            Format::Prometheus => monitoring::render_prometheus_unknown(took_ms),
            Format::Text | Format::Json => String::new(),
        };
        (error, out)
    };
    let snapshot = match outcome {
        Err(e) => return Err(unobservable(e.to_string())),
        Ok(s) if !s.observed_anything() => {
            return Err(unobservable(format!(
                "could not observe the cluster: {}",
                s.failure_summary()
            )));
        }
        Ok(s) => s,
    };
    let model = ClusterModel::build(&snapshot);
    let findings = diagnose::diagnose(&model);
    let text = match format {
        Format::Json => render_json(&snapshot, &model, &findings)
            .map(|text| text + "\n")
            .map_err(|e| (format!("could not encode JSON: {e}"), String::new()))?,
        Format::Text => render_text(&snapshot, &model, &findings, style),
        Format::Nagios => monitoring::render_nagios(&report(&snapshot, &model, &findings)),
        Format::Prometheus => monitoring::render_prometheus(&report(&snapshot, &model, &findings)),
    };
    Ok((text, exit_code(&findings)))
}

/// ANSI colours only on a terminal and without `NO_COLOR`.
fn text_style() -> TextStyle {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if std::io::stdout().is_terminal() && !no_color {
        TextStyle::Ansi
    } else {
        TextStyle::Plain
    }
}

/// Exit code for a set of findings.
#[must_use]
pub fn exit_code(findings: &[Finding]) -> ExitCode {
    match diagnose::worst(findings) {
        None | Some(Severity::Info) => ExitCode::OK,
        Some(Severity::Warning) => ExitCode::WARNING,
        Some(Severity::Critical) => ExitCode::CRITICAL,
    }
}

/// Slot counts per state, for the summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SlotSummary {
    pub served: usize,
    pub migrating: usize,
    pub disputed: usize,
    pub owner_failing: usize,
    pub uncovered: usize,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub nodes: usize,
    pub nodes_reachable: usize,
    pub masters: usize,
    pub replicas: usize,
    pub open_slots: usize,
    pub slots: SlotSummary,
}

/// One node in the JSON document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JsonNode {
    pub id: Option<String>,
    pub address: String,
    pub role: Role,
    pub master_id: Option<String>,
    pub flags: Vec<&'static str>,
    pub reachable: bool,
    pub error: Option<String>,
    pub slots: Vec<SlotRange>,
    pub slot_count: usize,
    pub config_epoch: u64,
    pub keys: Option<u64>,
    pub cluster_state_ok: Option<bool>,
    pub rtt_us: Option<u64>,
}

/// The whole `check --json` document (schema in `docs/check-json.md`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport<'a> {
    pub schema: &'static str,
    pub observed_at_ms: u64,
    pub duration_ms: u64,
    pub seeds: Vec<String>,
    pub status: &'static str,
    pub exit_code: ExitCode,
    pub verdict: String,
    pub summary: Summary,
    pub nodes: Vec<JsonNode>,
    pub findings: Vec<JsonFinding<'a>>,
    /// Atomic slot migration jobs (Valkey 9+), newest first; empty elsewhere.
    pub slot_migrations: Vec<JsonSlotMigration>,
}

/// A finding in the JSON document: its stable id, then its fields.
#[derive(Debug, Clone, Serialize)]
pub struct JsonFinding<'a> {
    /// Same fault, same id across runs ([`Finding::stable_id`]), for alert de-duplication.
    pub id: String,
    #[serde(flatten)]
    pub finding: &'a Finding,
}

/// One atomic slot migration job in the JSON document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JsonSlotMigration {
    pub name: String,
    pub slots: Vec<SlotRange>,
    pub source: Option<String>,
    pub source_address: Option<String>,
    pub target: Option<String>,
    pub target_address: Option<String>,
    /// `running`, `success`, `failed` or `cancelled`.
    pub phase: &'static str,
    /// The server's own state word (`snapshotting`, `waiting-for-ack`, …).
    pub state: String,
    /// For a running job: `progressing` or `stalled`.
    pub health: Option<&'static str>,
    pub message: Option<String>,
    pub created_s: Option<u64>,
    pub age_s: Option<u64>,
    /// Seconds since either side last acknowledged the other.
    pub silent_s: Option<u64>,
    /// Which halves were read: `export` (source) and/or `import` (target).
    pub reported_by: Vec<&'static str>,
}

fn json_slot_migration(model: &ClusterModel, j: &AtomicMigration) -> JsonSlotMigration {
    let addr = |id: Option<&crate::cluster::types::NodeId>| {
        id.and_then(|i| model.node(i)).map(|n| n.addr.to_string())
    };
    JsonSlotMigration {
        name: j.name.clone(),
        slots: j.slots.clone(),
        source: j.source.as_ref().map(ToString::to_string),
        source_address: addr(j.source.as_ref()),
        target: j.target.as_ref().map(ToString::to_string),
        target_address: addr(j.target.as_ref()),
        phase: j.phase().label(),
        state: j.state().to_owned(),
        health: j.health_in(model).map(|h| h.label()),
        message: j.message().map(str::to_owned),
        created_s: j.created_s(),
        age_s: j.age_s(),
        silent_s: j.silent_s(),
        reported_by: [
            ("export", j.export.is_some()),
            ("import", j.import.is_some()),
        ]
        .into_iter()
        .filter_map(|(w, on)| on.then_some(w))
        .collect(),
    }
}

/// Summary counts of a model.
#[must_use]
pub fn summarize(model: &ClusterModel) -> Summary {
    let counts = model.state_counts();
    let get = |s: SlotState| counts.get(&s).copied().unwrap_or(0);
    Summary {
        nodes: model.nodes.len(),
        nodes_reachable: model
            .nodes
            .iter()
            .filter(|n| n.reachability == Reachability::Ok)
            .count(),
        masters: model
            .nodes
            .iter()
            .filter(|n| n.role == Role::Master)
            .count(),
        replicas: model
            .nodes
            .iter()
            .filter(|n| n.role == Role::Replica)
            .count(),
        open_slots: model.open_slots.len(),
        slots: SlotSummary {
            served: get(SlotState::Served),
            migrating: get(SlotState::Migrating),
            disputed: get(SlotState::Disputed),
            owner_failing: get(SlotState::OwnerFailing),
            uncovered: get(SlotState::Uncovered),
        },
    }
}

/// Build the JSON document.
#[must_use]
pub fn report<'a>(
    snapshot: &ClusterSnapshot,
    model: &ClusterModel,
    findings: &'a [Finding],
) -> CheckReport<'a> {
    let code = exit_code(findings);
    CheckReport {
        schema: JSON_SCHEMA,
        observed_at_ms: snapshot.finished_at_ms,
        duration_ms: snapshot
            .finished_at_ms
            .saturating_sub(snapshot.started_at_ms),
        seeds: snapshot.seeds.iter().map(ToString::to_string).collect(),
        status: status_word(code),
        exit_code: code,
        verdict: diagnose::verdict(model, findings),
        summary: summarize(model),
        nodes: model
            .nodes
            .iter()
            .map(|n| JsonNode {
                id: n.id.as_ref().map(|i| i.0.to_string()),
                address: n.addr.to_string(),
                role: n.role,
                master_id: n.master_id.as_ref().map(|i| i.0.to_string()),
                flags: n
                    .flags
                    .names()
                    .into_iter()
                    .filter(|f| *f != "myself")
                    .collect(),
                reachable: n.reachability == Reachability::Ok,
                error: match &n.reachability {
                    Reachability::Ok => None,
                    Reachability::Failed(e) => Some(e.to_string()),
                    Reachability::NotProbed => Some("not probed (no usable address)".into()),
                },
                slots: n.claimed_slots.clone(),
                slot_count: n.claimed_slots.iter().map(SlotRange::len).sum(),
                config_epoch: n.config_epoch,
                keys: n.info.as_ref().and_then(|i| i.keys),
                cluster_state_ok: n.cluster_state_ok,
                rtt_us: n.rtt_us,
            })
            .collect(),
        findings: findings
            .iter()
            .map(|finding| JsonFinding {
                id: finding.stable_id(),
                finding,
            })
            .collect(),
        slot_migrations: model
            .slot_migrations
            .iter()
            .map(|j| json_slot_migration(model, j))
            .collect(),
    }
}

fn status_word(code: ExitCode) -> &'static str {
    match code {
        ExitCode::OK => "ok",
        ExitCode::WARNING => "warning",
        _ => "critical",
    }
}

/// Render the JSON document.
///
/// # Errors
/// Serialisation failure (not expected).
pub fn render_json(
    snapshot: &ClusterSnapshot,
    model: &ClusterModel,
    findings: &[Finding],
) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&report(snapshot, model, findings))
}

/// Text styling for the human-readable output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextStyle {
    Plain,
    Ansi,
}

fn paint(style: TextStyle, code: &str, text: &str) -> String {
    match style {
        TextStyle::Plain => text.to_owned(),
        TextStyle::Ansi => format!("\x1b[{code}m{text}\x1b[0m"),
    }
}

fn severity_tag(style: TextStyle, s: Severity) -> String {
    let (code, word) = match s {
        Severity::Critical => ("1;31", "CRITICAL"),
        Severity::Warning => ("1;33", "WARNING "),
        Severity::Info => ("36", "INFO    "),
    };
    paint(style, code, word)
}

/// Render the readable text report.
#[must_use]
pub fn render_text(
    snapshot: &ClusterSnapshot,
    model: &ClusterModel,
    findings: &[Finding],
    style: TextStyle,
) -> String {
    let rep = report(snapshot, model, findings);
    let s = &rep.summary;
    let mut out = String::new();
    let verdict_code = match rep.exit_code {
        ExitCode::OK => "1;32",
        ExitCode::WARNING => "1;33",
        _ => "1;31",
    };
    let _ = writeln!(out, "{}", paint(style, verdict_code, &rep.verdict));
    let _ = writeln!(
        out,
        "slotscope check: {} node(s) ({} reachable), {} master(s), {} replica(s), observed in {} ms",
        s.nodes, s.nodes_reachable, s.masters, s.replicas, rep.duration_ms
    );
    let _ = writeln!(
        out,
        "slots: {}/{SLOT_COUNT} served, {} uncovered, {} owner failing, {} disputed, {} open",
        s.slots.served, s.slots.uncovered, s.slots.owner_failing, s.slots.disputed, s.open_slots
    );
    let _ = writeln!(out);
    if findings.is_empty() {
        let _ = writeln!(
            out,
            "No findings: every slot is served and every node is healthy."
        );
    }
    for f in findings {
        let _ = writeln!(out, "{}  {}", severity_tag(style, f.severity), f.summary);
        if !f.slots.is_empty() {
            let _ = writeln!(
                out,
                "          slots: {} ({} slots)",
                format_ranges(&f.slots),
                crate::cluster::slots::ranges_len(&f.slots)
            );
        }
        for e in &f.evidence {
            let _ = writeln!(out, "          - {e}");
        }
        let _ = writeln!(out, "          id: {}", f.stable_id());
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "nodes:");
    for n in &rep.nodes {
        let role = match n.role {
            Role::Master => "M",
            Role::Replica => "S",
            Role::Unknown => "?",
        };
        let id =
            n.id.as_deref()
                .map_or("????????", |i| i.get(..8).unwrap_or(i));
        let state = match &n.error {
            None => "ok".to_owned(),
            Some(e) => e.clone(),
        };
        let slots = if n.slot_count > 0 {
            format!(" slots {} ({})", format_ranges(&n.slots), n.slot_count)
        } else {
            String::new()
        };
        let keys = n.keys.map(|k| format!(" keys {k}")).unwrap_or_default();
        let flags = if n.flags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", n.flags.join(","))
        };
        let _ = writeln!(
            out,
            "  {role} {id} {:<21} {state}{flags}{slots}{keys}",
            n.address
        );
    }
    let _ = writeln!(
        out,
        "\nexit {}: {}",
        rep.exit_code,
        match rep.exit_code {
            ExitCode::OK => "healthy",
            ExitCode::WARNING => "warnings only",
            _ => "critical findings",
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::diagnose::FindingKind;

    fn finding(sev: Severity) -> Finding {
        Finding {
            kind: FindingKind::NoReplica,
            severity: sev,
            summary: "x".into(),
            slots: vec![],
            nodes: vec![],
            addresses: vec![],
            evidence: vec![],
        }
    }

    #[test]
    fn exit_codes_follow_worst_severity() {
        assert_eq!(exit_code(&[]), ExitCode::OK);
        assert_eq!(exit_code(&[finding(Severity::Info)]), ExitCode::OK);
        assert_eq!(
            exit_code(&[finding(Severity::Info), finding(Severity::Warning)]),
            ExitCode::WARNING
        );
        assert_eq!(
            exit_code(&[finding(Severity::Critical), finding(Severity::Warning)]),
            ExitCode::CRITICAL
        );
    }

    #[test]
    fn plain_text_has_no_escape_codes() {
        let snap = ClusterSnapshot::default();
        let model = ClusterModel::build(&snap);
        let f = [finding(Severity::Critical)];
        let text = render_text(&snap, &model, &f, TextStyle::Plain);
        assert!(!text.contains('\x1b'));
        assert!(text.contains("CRITICAL  x"));
        let ansi = render_text(&snap, &model, &f, TextStyle::Ansi);
        assert!(ansi.contains("\x1b[1;31m"));
    }

    #[test]
    fn json_has_schema_and_findings() {
        let snap = ClusterSnapshot::default();
        let model = ClusterModel::build(&snap);
        let f = [finding(Severity::Warning)];
        let json = render_json(&snap, &model, &f).expect("json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("parse");
        assert_eq!(v["schema"], JSON_SCHEMA);
        assert_eq!(v["exit_code"], 1);
        assert_eq!(v["findings"][0]["kind"], "no_replica");
        assert_eq!(v["findings"][0]["severity"], "warning");
    }
}
