//! Replies that read better as a table than as `redis-cli`'s nested arrays: `SLOWLOG GET`
//! (one line per entry, wall-clock time, duration with its unit) and `LATENCY LATEST` (one
//! line per event, milliseconds named). Anything of another shape falls back to the generic
//! form.

use redis::Value;

/// Wall-clock `HH:MM:SS` (UTC) of a Unix time in seconds.
fn clock(unix_s: i64) -> String {
    let s = unix_s.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// A duration in microseconds with its unit: `8 µs`, `12.5 ms`, `1.20 s`.
#[must_use]
pub fn micros(us: i64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = us as f64;
    if us < 1000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", f / 1000.0)
    } else {
        format!("{:.2} s", f / 1_000_000.0)
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        other => text(other).and_then(|s| s.parse().ok()),
    }
}

/// A command's arguments as one line, quoted where they hold spaces or nothing.
fn command_line(args: &[Value]) -> String {
    args.iter()
        .filter_map(text)
        .map(|a| {
            if a.is_empty() || a.contains(char::is_whitespace) {
                format!("{a:?}")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `SLOWLOG GET` as a table; `None` when the reply does not have its shape.
#[must_use]
pub fn slowlog_lines(v: &Value) -> Option<Vec<String>> {
    let Value::Array(entries) = v else {
        return None;
    };
    if entries.is_empty() {
        return Some(vec![
            "no entries: no command took longer than slowlog-log-slower-than (CONFIG GET \
             slowlog-log-slower-than, in µs)"
                .to_owned(),
        ]);
    }
    let mut out = vec![format!(
        "{:>6}  {:<12}  {:>10}  command (client)",
        "id", "time (UTC)", "duration"
    )];
    for e in entries {
        let Value::Array(f) = e else {
            return None;
        };
        let (id, at, dur) = (int(f.first()?)?, int(f.get(1)?)?, int(f.get(2)?)?);
        let Value::Array(args) = f.get(3)? else {
            return None;
        };
        let client = f.get(4).and_then(text).filter(|c| !c.is_empty());
        let name = f.get(5).and_then(text).filter(|c| !c.is_empty());
        let who = match (client, name) {
            (Some(c), Some(n)) => format!(" ({c} {n})"),
            (Some(c), None) => format!(" ({c})"),
            (None, Some(n)) => format!(" ({n})"),
            (None, None) => String::new(),
        };
        out.push(format!(
            "{id:>6}  {:<12}  {:>10}  {}{who}",
            clock(at),
            micros(dur),
            command_line(args)
        ));
    }
    Some(out)
}

/// `LATENCY LATEST` as a table; `None` when the reply does not have its shape.
#[must_use]
pub fn latency_latest_lines(v: &Value) -> Option<Vec<String>> {
    let Value::Array(events) = v else {
        return None;
    };
    if events.is_empty() {
        return Some(vec![
            "no latency events recorded (latency-monitor-threshold is 0, or nothing was slower)"
                .to_owned(),
        ]);
    }
    let mut out = vec![format!(
        "{:<24}  {:<12}  {:>10}  {:>10}",
        "event", "last (UTC)", "latest", "max"
    )];
    for e in events {
        let Value::Array(f) = e else {
            return None;
        };
        let name = text(f.first()?)?;
        let (at, latest, max) = (int(f.get(1)?)?, int(f.get(2)?)?, int(f.get(3)?)?);
        out.push(format!(
            "{name:<24}  {:<12}  {:>10}  {:>10}",
            clock(at),
            format!("{latest} ms"),
            format!("{max} ms")
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn a_slowlog_entry_reads_with_time_and_unit() {
        let v = Value::Array(vec![Value::Array(vec![
            Value::Int(3),
            Value::Int(1_714_532_405),
            Value::Int(12_500),
            Value::Array(vec![bulk("HGETALL"), bulk("user:1")]),
            bulk("127.0.0.1:50200"),
            bulk(""),
        ])]);
        let lines = slowlog_lines(&v).expect("a slowlog");
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("duration"), "{lines:?}");
        assert_eq!(
            lines[1],
            "     3  03:00:05         12.5 ms  HGETALL user:1 (127.0.0.1:50200)"
        );
        let empty = slowlog_lines(&Value::Array(vec![])).expect("empty");
        assert!(empty[0].starts_with("no entries"), "{empty:?}");
        assert!(slowlog_lines(&bulk("x")).is_none());
    }

    #[test]
    fn durations_carry_their_unit() {
        assert_eq!(micros(8), "8 µs");
        assert_eq!(micros(12_500), "12.5 ms");
        assert_eq!(micros(1_200_000), "1.20 s");
    }

    #[test]
    fn latency_events_name_milliseconds() {
        let v = Value::Array(vec![Value::Array(vec![
            bulk("command"),
            Value::Int(1_714_532_405),
            Value::Int(250),
            Value::Int(1000),
        ])]);
        let lines = latency_latest_lines(&v).expect("events");
        assert!(lines[1].starts_with("command"), "{lines:?}");
        assert!(lines[1].contains("03:00:05"), "{lines:?}");
        assert!(lines[1].contains("250 ms") && lines[1].ends_with("1000 ms"));
    }
}
