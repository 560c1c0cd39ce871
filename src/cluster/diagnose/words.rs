//! Small phrase helpers of the diagnosis: node labels, probe errors in plain words, plurals,
//! durations, and how many names a line spells out before eliding the rest.

use crate::cluster::model::NodeSummary;
use crate::cluster::types::ProbeError;

/// Nodes named in a one-line summary before the rest is elided.
pub(super) const SUMMARY_NODES: usize = 3;
/// Nodes named in an evidence line before the rest is elided.
pub(super) const EVIDENCE_NODES: usize = 8;

/// Best address for display: its cluster address, else the endpoint we probed.
pub(super) fn addr_of(n: &NodeSummary) -> String {
    if !n.addr.is_unknown() {
        n.addr.to_string()
    } else if let Some(ep) = &n.endpoint {
        ep.to_string()
    } else {
        "(no address)".to_owned()
    }
}

/// `127.0.0.1:7000 (3f2a9c1d)`, or the address alone when the id is unknown.
pub(super) fn label(n: &NodeSummary) -> String {
    match &n.id {
        Some(id) => format!("{} ({})", addr_of(n), id.short()),
        None => addr_of(n),
    }
}

/// Why slotscope could not observe a node, in words that follow its label.
pub(super) fn unreachable_phrase(e: &ProbeError) -> String {
    match e {
        ProbeError::ConnectFailed(d) => {
            format!("cannot be reached: connection failed ({d}): not running, or wrong port")
        }
        ProbeError::ConnectTimeout => {
            "cannot be reached: connect timed out (host down or firewalled)".to_owned()
        }
        ProbeError::Unresponsive(stage) => {
            format!("accepts connections but does not answer ({stage}): hung or stopped (SIGSTOP?)")
        }
        ProbeError::AuthRequired => {
            "requires a password (NOAUTH): give one with REDISCLI_AUTH or --askpass".to_owned()
        }
        ProbeError::AuthFailed(d) => {
            format!("rejected the credentials ({d}): check --user and the password")
        }
        ProbeError::Loading => {
            "is loading its dataset (LOADING): it serves nothing until done".to_owned()
        }
        ProbeError::NotCluster { .. } => "is not a cluster node (cluster_enabled:0)".to_owned(),
        ProbeError::Protocol(d) => format!("answered unexpectedly: {d}"),
        ProbeError::Other(d) => format!("could not be observed: {d}"),
    }
}

/// `one` when `n` is 1, else `many`.
pub(super) fn plural<'s>(n: usize, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

/// [`plural`] for a `u64` count.
pub(super) fn plural_u64<'s>(n: u64, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

/// `1 node`, `3 nodes`.
pub(super) fn count_nodes(n: usize) -> String {
    format!("{n} {}", plural(n, "node", "nodes"))
}

/// The text with its first letter in upper case.
pub(super) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `850 ms`, `2.0 s`, `3 min 5 s`.
pub(super) fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}
