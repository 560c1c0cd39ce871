//! Small, strict parsers of the monitoring formats `check --format` prints, written from the
//! formats' own rules, so tests check the output as a monitoring system would read it.
//!
//! * Nagios plugin output (Nagios plugin development guidelines): the first line is
//!   `TEXT | PERFDATA`; performance data is space-separated
//!   `'label'=value[UOM];[warn];[crit];[min];[max]`, labels without `=` or `'`, UOM one of
//!   none, `s` `ms` `us` `%` `B` `KB` `MB` `TB` `c`, and min/max without UOM.
//! * Prometheus text exposition format 0.0.4: `# HELP name text`, `# TYPE name type` (once per
//!   name, before its samples), samples `name{label="value",…} value`, metric names
//!   `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`, label values with `\\`,
//!   `\"` and `\n` escapes, a family's lines together, no duplicate series, a final newline.

use std::collections::{BTreeMap, HashSet};

/// The first line of a plugin's output, taken apart.
#[derive(Debug)]
pub struct NagiosLine {
    /// `OK`, `WARNING`, `CRITICAL` or `UNKNOWN` (from the `SLOTSCOPE <STATUS> -` prefix).
    pub status: String,
    /// The text after `<STATUS> - `.
    pub text: String,
    /// Label → (value, UOM).
    pub perf: BTreeMap<String, (f64, String)>,
}

fn number(s: &str) -> Result<f64, String> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Err(format!("not a plugin number: {s:?}"));
    }
    s.parse().map_err(|e| format!("{s:?}: {e}"))
}

/// Parse a plugin's output by the guidelines; `Err` says which rule broke.
pub fn parse_nagios(output: &str) -> Result<NagiosLine, String> {
    let first = output.lines().next().ok_or("no output")?;
    let (text, perf) = match first.split_once('|') {
        Some((t, p)) => (t.trim_end(), p.trim()),
        None => (first, ""),
    };
    let rest = text
        .strip_prefix("SLOTSCOPE ")
        .ok_or("no SLOTSCOPE prefix")?;
    let (status, text) = rest.split_once(" - ").ok_or("no ' - ' after the status")?;
    if !["OK", "WARNING", "CRITICAL", "UNKNOWN"].contains(&status) {
        return Err(format!("status {status:?}"));
    }
    let mut out = BTreeMap::new();
    for item in perf.split(' ').filter(|s| !s.is_empty()) {
        let (label, data) = item.rsplit_once('=').ok_or(format!("no '=' in {item:?}"))?;
        let label = label
            .strip_prefix('\'')
            .and_then(|l| l.strip_suffix('\''))
            .unwrap_or(label);
        if label.is_empty() || label.contains(['=', '\'']) {
            return Err(format!("bad label {label:?}"));
        }
        let fields: Vec<&str> = data.split(';').collect();
        if fields.len() > 5 {
            return Err(format!("more than five fields in {item:?}"));
        }
        let v = fields[0];
        let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%');
        let uom = &v[digits.len()..];
        if !["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"].contains(&uom) {
            return Err(format!("unit {uom:?} in {item:?}"));
        }
        let value = number(digits)?;
        for f in &fields[1..] {
            if !f.is_empty() {
                number(f)?;
            }
        }
        if out
            .insert(label.to_owned(), (value, uom.to_owned()))
            .is_some()
        {
            return Err(format!("label {label:?} twice"));
        }
    }
    Ok(NagiosLine {
        status: status.to_owned(),
        text: text.to_owned(),
        perf: out,
    })
}

/// One sample of an exposition.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

fn metric_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn label_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parse `{a="x",b="y"}` (without the braces); `Err` on a broken rule.
fn labels(body: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut chars = body.chars().peekable();
    loop {
        let name: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if name.is_empty() && chars.peek().is_none() {
            return Ok(out);
        }
        if !label_name(&name) || chars.next() != Some('=') || chars.next() != Some('"') {
            return Err(format!("bad label start {name:?} in {{{body}}}"));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                None => return Err(format!("unterminated value in {{{body}}}")),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('n') => value.push('\n'),
                    other => return Err(format!("bad escape {other:?} in {{{body}}}")),
                },
                Some(c) => value.push(c),
            }
        }
        if out.insert(name.clone(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        match chars.next() {
            None => return Ok(out),
            Some(',') => {}
            Some(c) => return Err(format!("{c:?} after a label value in {{{body}}}")),
        }
    }
}

/// Parse an exposition by the text format's rules; `Err` says which rule broke.
pub fn parse_prometheus(text: &str) -> Result<Vec<Sample>, String> {
    if !text.ends_with('\n') {
        return Err("no final newline".into());
    }
    let mut samples = Vec::new();
    let mut typed = HashSet::new();
    let mut finished = HashSet::new();
    let mut current = String::new();
    let mut series = HashSet::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix('#') {
            let words: Vec<&str> = c.trim_start().splitn(3, ' ').collect();
            if words.first() == Some(&"TYPE") {
                let name = words.get(1).ok_or("TYPE without name")?;
                let kind = words.get(2).ok_or("TYPE without type")?;
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                    return Err(format!("type {kind:?}"));
                }
                if !typed.insert((*name).to_owned())
                    || samples.iter().any(|s: &Sample| s.name == *name)
                {
                    return Err(format!("TYPE of {name} twice or after its samples"));
                }
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let (head, value) = line.rsplit_once(' ').ok_or(format!("no value: {line:?}"))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().map_err(|e| format!("value {v:?}: {e}"))?,
        };
        let (name, labels) = match head.split_once('{') {
            Some((n, rest)) => (
                n,
                labels(rest.strip_suffix('}').ok_or("no closing brace")?)?,
            ),
            None => (head, BTreeMap::new()),
        };
        if !metric_name(name) {
            return Err(format!("metric name {name:?}"));
        }
        if name != current {
            if finished.contains(name) {
                return Err(format!("{name}'s lines are not together"));
            }
            finished.insert(std::mem::replace(&mut current, name.to_owned()));
        }
        if !series.insert(format!("{name}{labels:?}")) {
            return Err(format!("duplicate series {name}{labels:?}"));
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Ok(samples)
}
