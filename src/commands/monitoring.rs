//! `check --format nagios|prometheus`: the check report in the formats monitoring systems
//! read. Pure formatting over a [`CheckReport`]; `check` prints the result.
//!
//! * **nagios** (Nagios plugin output, also read by Icinga, Naemon, Sensu, Zabbix's
//!   `nagios` checks): the first line is `SLOTSCOPE <STATUS> - <verdict> | <perfdata>`; one
//!   line per finding follows (the plugin's long output). The exit codes already are the
//!   plugin's: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
//! * **prometheus**: the text exposition format (version 0.0.4), every metric a gauge with
//!   `# HELP` and `# TYPE`, for the textfile collector of node exporter
//!   (`slotscope check --format prometheus SEED > dir/slotscope.prom.$$ && mv …`).

use std::fmt::Write as _;

use super::ExitCode;
use super::check::CheckReport;
use crate::cluster::slots::SLOT_COUNT;

/// The plugin status word of an exit code.
fn nagios_status(code: ExitCode) -> &'static str {
    match code {
        ExitCode::OK => "OK",
        ExitCode::WARNING => "WARNING",
        ExitCode::CRITICAL => "CRITICAL",
        _ => "UNKNOWN",
    }
}

/// Plugin text may not contain `|` (it starts the performance data) nor line breaks.
fn nagios_text(text: &str) -> String {
    text.replace('|', "/").replace(['\n', '\r'], " ")
}

/// Seconds with up to microsecond precision, as plugins and Prometheus print them.
fn seconds(us: u64) -> String {
    let s = format!("{:.6}", us as f64 / 1e6);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// Nagios plugin output for a report.
#[must_use]
pub fn render_nagios(rep: &CheckReport<'_>) -> String {
    let s = &rep.summary;
    let slots = SLOT_COUNT;
    let max_rtt = rep.nodes.iter().filter_map(|n| n.rtt_us).max().unwrap_or(0);
    let count = |sev: &str| {
        rep.findings
            .iter()
            .filter(|f| f.finding.severity.label() == sev)
            .count()
    };
    let perf = [
        format!("'slots_served'={};;;0;{slots}", s.slots.served),
        format!("'slots_uncovered'={};;;0;{slots}", s.slots.uncovered),
        format!(
            "'slots_owner_failing'={};;;0;{slots}",
            s.slots.owner_failing
        ),
        format!("'slots_disputed'={};;;0;{slots}", s.slots.disputed),
        format!("'slots_migrating'={};;;0;{slots}", s.slots.migrating),
        format!("'open_slots'={};;;0;{slots}", s.open_slots),
        format!("'nodes_reachable'={};;;0;{}", s.nodes_reachable, s.nodes),
        format!("'nodes_total'={};;;0", s.nodes),
        format!("'findings_critical'={};;;0", count("critical")),
        format!("'findings_warning'={};;;0", count("warning")),
        format!("'max_rtt'={}s;;;0", seconds(max_rtt)),
        format!(
            "'duration'={}s;;;0",
            seconds(rep.duration_ms.saturating_mul(1000))
        ),
    ];
    let mut out = format!(
        "SLOTSCOPE {} - {} | {}\n",
        nagios_status(rep.exit_code),
        nagios_text(&rep.verdict),
        perf.join(" ")
    );
    for f in &rep.findings {
        let _ = writeln!(
            out,
            "{}: {} [{}]",
            f.finding.severity.label().to_uppercase(),
            nagios_text(&f.finding.summary),
            f.id
        );
    }
    out
}

/// Nagios plugin output when no node could be observed.
#[must_use]
pub fn render_nagios_unknown(error: &str) -> String {
    format!("SLOTSCOPE UNKNOWN - {}\n", nagios_text(error))
}

/// A Prometheus label value: backslash, double quote and line feed escaped.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes metric families: each name's `# HELP` and `# TYPE` once, before its samples.
struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: &str) {
        self.out.push_str(name);
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.out, " {value}");
    }

    fn single(&mut self, name: &str, help: &str, value: &str) {
        self.family(name, help);
        self.sample(name, &[], value);
    }
}

/// The Prometheus text exposition of a report.
#[must_use]
pub fn render_prometheus(rep: &CheckReport<'_>) -> String {
    let mut x = Exposition { out: String::new() };
    let s = &rep.summary;
    x.single("slotscope_up", "1 when the cluster could be observed.", "1");
    x.single(
        "slotscope_status",
        "Check status: 0 ok, 1 warning, 2 critical, 3 unknown (the exit code).",
        &rep.exit_code.to_string(),
    );
    x.family("slotscope_slots", "Hash slots per state (16384 in all).");
    for (state, n) in [
        ("served", s.slots.served),
        ("migrating", s.slots.migrating),
        ("disputed", s.slots.disputed),
        ("owner_failing", s.slots.owner_failing),
        ("uncovered", s.slots.uncovered),
    ] {
        x.sample("slotscope_slots", &[("state", state)], &n.to_string());
    }
    x.single(
        "slotscope_open_slots",
        "Slots with a migrating or importing marker.",
        &s.open_slots.to_string(),
    );
    x.family("slotscope_nodes", "Nodes by reachability.");
    x.sample(
        "slotscope_nodes",
        &[("state", "reachable")],
        &s.nodes_reachable.to_string(),
    );
    x.sample(
        "slotscope_nodes",
        &[("state", "unreachable")],
        &(s.nodes - s.nodes_reachable).to_string(),
    );
    x.family(
        "slotscope_node_up",
        "1 when slotscope could observe the node.",
    );
    for n in &rep.nodes {
        let id = n.id.as_deref().unwrap_or("");
        let role = format!("{:?}", n.role).to_lowercase();
        let labels = [
            ("addr", n.address.as_str()),
            ("id", id),
            ("role", role.as_str()),
        ];
        x.sample(
            "slotscope_node_up",
            &labels,
            if n.reachable { "1" } else { "0" },
        );
    }
    x.family(
        "slotscope_node_rtt_seconds",
        "Round-trip time of the node's observation.",
    );
    for n in &rep.nodes {
        if let Some(rtt) = n.rtt_us {
            x.sample(
                "slotscope_node_rtt_seconds",
                &[("addr", n.address.as_str())],
                &seconds(rtt),
            );
        }
    }
    x.family("slotscope_findings", "Findings per severity.");
    for sev in ["critical", "warning", "info"] {
        let n = rep
            .findings
            .iter()
            .filter(|f| f.finding.severity.label() == sev)
            .count();
        x.sample("slotscope_findings", &[("severity", sev)], &n.to_string());
    }
    x.family(
        "slotscope_finding",
        "One series per finding, labelled with its stable id.",
    );
    for f in &rep.findings {
        let kind = f.finding.kind.name();
        let labels = [
            ("id", f.id.as_str()),
            ("kind", kind.as_str()),
            ("severity", f.finding.severity.label()),
        ];
        x.sample("slotscope_finding", &labels, "1");
    }
    x.single(
        "slotscope_check_duration_seconds",
        "Wall time of the observation.",
        &seconds(rep.duration_ms.saturating_mul(1000)),
    );
    x.single(
        "slotscope_check_timestamp_seconds",
        "Unix time at which the observation finished.",
        &seconds(rep.observed_at_ms.saturating_mul(1000)),
    );
    x.out
}

/// The exposition when no node could be observed: `slotscope_up 0` and the status.
#[must_use]
pub fn render_prometheus_unknown(duration_ms: u64) -> String {
    let mut x = Exposition { out: String::new() };
    x.single("slotscope_up", "1 when the cluster could be observed.", "0");
    x.single(
        "slotscope_status",
        "Check status: 0 ok, 1 warning, 2 critical, 3 unknown (the exit code).",
        &ExitCode::UNOBSERVABLE.to_string(),
    );
    x.single(
        "slotscope_check_duration_seconds",
        "Wall time of the observation.",
        &seconds(duration_ms.saturating_mul(1000)),
    );
    x.out
}
