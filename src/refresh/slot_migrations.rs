//! `CLUSTER GETSLOTMIGRATIONS` (Valkey 9+): the atomic slot migration jobs a node knows.
//!
//! Asked only of servers that report Valkey 9 or later in `INFO` (Redis and Valkey 8 do not
//! have the command); an endpoint that refuses it anyway is remembered and not asked again for
//! the life of the process.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use redis::Value;

use super::conn::{CommandError, Connector, value_text};

use crate::cluster::types::{Endpoint, ServerInfo};

/// Endpoints that answered the command with an error reply.
static REFUSED: LazyLock<Mutex<HashSet<Endpoint>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

/// Whether the server has atomic slot migration: Valkey 9.0 or later.
#[must_use]
pub fn supported(info: &ServerInfo) -> bool {
    info.is_valkey()
        && info
            .version()
            .and_then(|v| v.split('.').next())
            .and_then(|major| major.parse::<u32>().ok())
            .is_some_and(|major| major >= 9)
}

/// The jobs as field/value pairs, as they came off the wire.
type Jobs = Vec<Vec<(String, String)>>;

/// Endpoints whose `INFO` reported Valkey 9 or later in an earlier probe of this process.
static KNOWN: LazyLock<Mutex<HashSet<Endpoint>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

fn refused(ep: &Endpoint) -> bool {
    REFUSED.lock().is_ok_and(|r| r.contains(ep))
}

/// Sent with the probe's other reads, in the same round trip, when an earlier probe of this
/// process saw the endpoint run Valkey 9 or later, or on a first look (`first`: `check`,
/// `fix`, the dashboard's first refresh), where a server without the command answers an error
/// that [`settle`] ignores (and that is not remembered as a refusal). `None` when not sent
/// (then [`settle`] asks after `INFO`, if the server turns out to have the command).
pub async fn read_early(c: &Connector, ep: &Endpoint, first: bool) -> Option<Option<Jobs>> {
    if refused(ep) {
        return None;
    }
    if KNOWN.lock().is_ok_and(|k| k.contains(ep)) {
        return Some(fetch(c, ep, true).await);
    }
    if first {
        return Some(fetch(c, ep, false).await);
    }
    None
}

/// The jobs, given this probe's `INFO`: what [`read_early`] fetched (kept only if the
/// server still has the command), else one more round trip for a server seen with it for the
/// first time (a first probe; later probes send it in the batch).
pub async fn settle(
    c: &Connector,
    ep: &Endpoint,
    info: &ServerInfo,
    early: Option<Option<Jobs>>,
) -> Option<Vec<Vec<(String, String)>>> {
    if let Ok(mut k) = KNOWN.lock() {
        if supported(info) {
            k.insert(ep.clone());
        } else {
            k.remove(ep);
        }
    }
    match early {
        Some(jobs) if supported(info) => jobs,
        Some(_) => None,
        None => read(c, ep, info).await,
    }
}

/// The node's jobs as field/value pairs, as they came off the wire (kept raw so that a
/// recording replays through today's parser); `None` when the server does not have the
/// command, refused it, or the reply could not be read (what could not be learnt is not an
/// empty list).
pub async fn read(
    c: &Connector,
    ep: &Endpoint,
    info: &ServerInfo,
) -> Option<Vec<Vec<(String, String)>>> {
    if !supported(info) || refused(ep) {
        return None;
    }
    fetch(c, ep, true).await
}

/// The jobs; `learn`: an error reply marks the endpoint as refusing the command.
async fn fetch(c: &Connector, ep: &Endpoint, learn: bool) -> Option<Vec<Vec<(String, String)>>> {
    match c.command_strs(ep, &["CLUSTER", "GETSLOTMIGRATIONS"]).await {
        Ok(v) => match entries(&v) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::debug!(endpoint = %ep, error = %e, "CLUSTER GETSLOTMIGRATIONS did not parse");
                None
            }
        },
        Err(e @ CommandError::Server { .. }) if learn => {
            tracing::debug!(endpoint = %ep, error = %e, "CLUSTER GETSLOTMIGRATIONS refused; not asked again");
            if let Ok(mut r) = REFUSED.lock() {
                r.insert(ep.clone());
            }
            None
        }
        Err(e) => {
            tracing::debug!(endpoint = %ep, error = %e, "CLUSTER GETSLOTMIGRATIONS failed");
            None
        }
    }
}

/// One list of (field, value) pairs per job, from a RESP2 array of flat arrays or a RESP3
/// array of maps. Integers become their decimal text.
///
/// # Errors
/// [`CommandError::Protocol`] when the reply is not a list of jobs.
pub fn entries(v: &Value) -> Result<Vec<Vec<(String, String)>>, CommandError> {
    let Value::Array(jobs) = v else {
        return Err(CommandError::Protocol(format!(
            "CLUSTER GETSLOTMIGRATIONS: expected an array, got {v:?}"
        )));
    };
    jobs.iter()
        .map(|job| match job {
            Value::Array(flat) => flat
                .chunks(2)
                .filter_map(|p| match p {
                    [k, val] => Some((text(k), text(val))),
                    _ => None,
                })
                .map(|(k, v)| Ok((k?, v?)))
                .collect(),
            Value::Map(pairs) => pairs
                .iter()
                .map(|(k, val)| Ok((text(k)?, text(val)?)))
                .collect(),
            other => Err(CommandError::Protocol(format!(
                "CLUSTER GETSLOTMIGRATIONS: expected a job, got {other:?}"
            ))),
        })
        .collect()
}

fn text(v: &Value) -> Result<String, CommandError> {
    match v {
        Value::Int(n) => Ok(n.to_string()),
        Value::Nil => Ok(String::new()),
        other => value_text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn flat_arrays_and_maps_read_alike() {
        let flat = Value::Array(vec![Value::Array(vec![
            bulk("name"),
            bulk("j1"),
            bulk("create_time"),
            Value::Int(7),
            bulk("message"),
            bulk(""),
        ])]);
        let map = Value::Array(vec![Value::Map(vec![
            (bulk("name"), bulk("j1")),
            (bulk("create_time"), Value::Int(7)),
            (bulk("message"), Value::Nil),
        ])]);
        let e = entries(&flat).unwrap();
        assert_eq!(e, entries(&map).unwrap());
        assert_eq!(e[0][1], ("create_time".to_owned(), "7".to_owned()));
        assert!(entries(&Value::Int(1)).is_err());
        assert!(entries(&Value::Array(vec![Value::Int(1)])).is_err());
        assert!(entries(&Value::Array(vec![])).unwrap().is_empty());
    }

    #[test]
    fn only_valkey_9_and_later_are_asked() {
        let v = |name: Option<&str>, valkey: Option<&str>, redis: &str| ServerInfo {
            server_name: name.map(str::to_owned),
            valkey_version: valkey.map(str::to_owned),
            redis_version: Some(redis.to_owned()),
            ..ServerInfo::default()
        };
        assert!(supported(&v(Some("valkey"), Some("9.1.2"), "7.2.4")));
        assert!(supported(&v(Some("valkey"), Some("10.0.0"), "7.2.4")));
        assert!(!supported(&v(Some("valkey"), Some("8.1.8"), "7.2.4")));
        assert!(!supported(&v(None, None, "8.2.3")));
        assert!(!supported(&v(None, None, "9.0.0")));
        assert!(!supported(&ServerInfo::default()));
    }
}
