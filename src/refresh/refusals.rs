//! Commands a node refused, remembered per node from one refresh to the next, so that a
//! renamed `CONFIG` or an ACL user without `INFO` costs one refused command per node, not one
//! per refresh (each `NOPERM` also adds to the server's `ACL LOG`).
//!
//! # When a refused command is tried again
//! - A refusal is carried from the previous snapshot while the node keeps answering, for
//!   [`RETRY_AFTER_MS`] from when it was learned; then the command is sent once more (an
//!   operator may have granted it meanwhile).
//! - It is forgotten at once when the node did not answer the previous probe: a node that comes
//!   back (restart, failover of its host, a new connection) may come with another
//!   configuration or another ACL.
//! - Every new process starts afresh (`slotscope check` and `slotscope fix` observe once, so
//!   each refused command is sent at most once per run and node).
//!
//! `ACL DRYRUN` answers for the commands repairs send ([`REPAIR_COMMANDS`]) are kept the same
//! way: checked once when a node is first seen, again after [`RETRY_AFTER_MS`].

use crate::cluster::access::{self, Access, Refusal, RefusalKind};
use crate::cluster::types::NodeObservation;

use super::conn::{CommandError, Connector, value_into_text};
use crate::cluster::types::Endpoint;

/// How long a refused command is not sent again to the same node (ten minutes).
pub const RETRY_AFTER_MS: u64 = 10 * 60 * 1000;

/// The commands repairs send, each with arguments `ACL DRYRUN` accepts (the permission is
/// per command; key patterns are checked on a placeholder key).
pub const REPAIR_COMMANDS: &[&[&str]] = &[
    &["CLUSTER", "SETSLOT", "0", "STABLE"],
    &["CLUSTER", "ADDSLOTS", "0"],
    &["CLUSTER", "ADDSLOTSRANGE", "0", "0"],
    &["CLUSTER", "DELSLOTS", "0"],
    &["CLUSTER", "DELSLOTSRANGE", "0", "0"],
    &["CLUSTER", "BUMPEPOCH"],
    &["CLUSTER", "FAILOVER"],
    &["CLUSTER", "FORGET", "0"],
    &["CLUSTER", "MEET", "127.0.0.1", "1"],
    &["CLUSTER", "REPLICATE", "0"],
    &["CLUSTER", "GETKEYSINSLOT", "0", "1"],
    &["CONFIG", "SET", "cluster-require-full-coverage", "no"],
    &["MIGRATE", "127.0.0.1", "1", "", "0", "1", "KEYS", "k"],
];

/// What to start a node's probe with: the refusals of the previous observation of the same
/// endpoint that are still to be respected at `now_ms` (see the module docs).
#[must_use]
pub fn carried(previous: Option<&NodeObservation>, now_ms: u64) -> Access {
    let Some(report) = previous.and_then(NodeObservation::report) else {
        return Access::default();
    };
    let fresh = |at: u64| now_ms.saturating_sub(at) < RETRY_AFTER_MS;
    let a = &report.access;
    Access {
        user: a.user.clone(),
        refused: a
            .refused
            .iter()
            .filter(|r| fresh(r.since_ms))
            .cloned()
            .collect(),
        checked_at_ms: a.checked_at_ms.filter(|&at| fresh(at)),
    }
}

/// Remember `err` if it is a refusal of the command `args`; true when it was one.
pub fn learn(access: &mut Access, args: &[&str], err: &CommandError, now_ms: u64) -> bool {
    let CommandError::Server { code, message } = err else {
        return false;
    };
    let sent = access::command_key(args);
    // A pipeline's error may be of another command than the first: the server names it.
    let named = named_command(message).unwrap_or(sent);
    let Some((command, kind)) = access::classify(code, message, &named) else {
        return false;
    };
    access.record(Refusal {
        command,
        kind,
        message: err.to_string(),
        since_ms: now_ms,
        dry_run: false,
    });
    true
}

/// The command a refusal names: `… run the 'cluster|setslot' command` or `unknown command
/// 'CONFIG', …`, as an ACL name.
fn named_command(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let start = if let Some(i) = lower.find("run the '") {
        i + "run the '".len()
    } else if lower.starts_with("unknown command '") {
        "unknown command '".len()
    } else {
        return None;
    };
    let rest = lower.get(start..)?;
    let end = rest.find('\'')?;
    let name = rest.get(..end)?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// Remember what `ACL DRYRUN <user> <command>` answered for one of [`REPAIR_COMMANDS`].
/// `reply` is the reply text, or the server error.
pub fn learn_dry_run(
    access: &mut Access,
    args: &[&str],
    reply: &Result<String, CommandError>,
    now_ms: u64,
) {
    let command = access::command_key(args);
    let refusal = match reply {
        Ok(text) => match access::dry_run_allows(text) {
            Ok(()) => return,
            Err(why) => (RefusalKind::NotAllowed, why),
        },
        Err(CommandError::Server { code, message }) if access::dry_run_unknown(code, message) => {
            (RefusalKind::Unknown, format!("{code} {message}"))
        }
        Err(_) => return,
    };
    let command = match refusal.0 {
        RefusalKind::Unknown => command.split('|').next().unwrap_or(&command).to_owned(),
        _ => command,
    };
    // A command the server does not know is a fact about the server, not about the user.
    let dry_run = refusal.0 != RefusalKind::Unknown;
    access.record(Refusal {
        command,
        kind: refusal.0,
        message: refusal.1,
        since_ms: now_ms,
        dry_run,
    });
}

/// The remembered refusal of `args` as the error the node gave, when the command is not to be
/// sent (see the module docs).
#[must_use]
pub fn remembered(access: &Access, args: &[&str]) -> Option<CommandError> {
    let r = access.refusal(&access::command_key(args))?;
    let (code, message) = r.message.split_once(' ').unwrap_or((&r.message, ""));
    let code = match r.kind {
        RefusalKind::NotAllowed => "NOPERM",
        RefusalKind::Unknown | RefusalKind::Unsupported if code.is_empty() => "ERR",
        _ => code,
    };
    Some(CommandError::Server {
        code: code.to_owned(),
        message: message.to_owned(),
    })
}

/// Ask `ACL DRYRUN` whether the connecting user may run each of [`REPAIR_COMMANDS`] on `ep`,
/// unless that was checked recently, the connection is read-only (nothing is repaired), or
/// `ACL DRYRUN` itself was refused. Learns into `access`.
pub async fn check_repair_commands(c: &Connector, ep: &Endpoint, access: &mut Access, now_ms: u64) {
    let dry = ["ACL", "DRYRUN"];
    if c.options().read_only || access.checked_at_ms.is_some() || access.refuses("acl|dryrun") {
        return;
    }
    let user = c
        .options()
        .user
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let replies = futures::future::join_all(REPAIR_COMMANDS.iter().map(|args| {
        let mut cmd: Vec<&str> = vec!["ACL", "DRYRUN", &user];
        cmd.extend_from_slice(args);
        async move { c.command_strs(ep, &cmd).await.and_then(value_into_text) }
    }))
    .await;
    // ACL DRYRUN itself refused (not allowed, or a server before 7.0): nothing was learned.
    if let Some(Err(e)) = replies.iter().find(|r| {
        matches!(r, Err(CommandError::Server { code, message })
            if access::classify(code, message, "acl|dryrun").is_some()
                && !access::dry_run_unknown(code, message))
    }) {
        learn(access, &dry, e, now_ms);
        return;
    }
    if replies
        .iter()
        .any(|r| matches!(r, Err(e) if e.is_connection_error()))
    {
        return;
    }
    for (args, reply) in REPAIR_COMMANDS.iter().zip(&replies) {
        learn_dry_run(access, args, reply, now_ms);
    }
    access.checked_at_ms = Some(now_ms);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::types::{Endpoint, NodeReport, ProbeError};

    fn server(code: &str, message: &str) -> CommandError {
        CommandError::Server {
            code: code.into(),
            message: message.into(),
        }
    }

    fn observed(access: Access) -> NodeObservation {
        NodeObservation {
            endpoint: Endpoint::new("127.0.0.1", 7000),
            observed_at_ms: 0,
            rtt_us: Some(1),
            result: Ok(NodeReport {
                nodes: crate::cluster::types::ClusterNodes::default(),
                cluster_info: None,
                info: crate::cluster::types::ServerInfo::default(),
                config: crate::cluster::types::NodeConfig::default(),
                slot_keys: std::collections::BTreeMap::new(),
                census: None,
                access,
                slot_stats: None,
                slot_migrations: None,
            }),
        }
    }

    #[test]
    fn refusals_are_learned_with_the_command_the_server_names() {
        let mut a = Access::default();
        assert!(learn(
            &mut a,
            &["CONFIG", "GET", "save"],
            &server(
                "ERR",
                "unknown command 'CONFIG', with args beginning with: 'GET' 'save' "
            ),
            5
        ));
        assert!(a.refuses("config|set"));
        // A census pipeline starts with DBSIZE; the refused one is named.
        assert!(learn(
            &mut a,
            &["DBSIZE"],
            &server(
                "NOPERM",
                "User obs has no permissions to run the 'cluster|countkeysinslot' command"
            ),
            5
        ));
        assert!(a.refuses("cluster|countkeysinslot"));
        assert!(!a.refuses("dbsize"));
        assert!(!learn(
            &mut a,
            &["INFO"],
            &CommandError::Timeout {
                command: "INFO".into()
            },
            5
        ));
        assert!(!learn(&mut a, &["INFO"], &server("LOADING", "x"), 5));
        assert_eq!(a.refused.len(), 2);
    }

    #[test]
    fn refusals_are_carried_until_the_retry_interval_or_a_failed_probe() {
        let mut a = Access::default();
        learn(
            &mut a,
            &["INFO"],
            &server(
                "NOPERM",
                "this user has no permissions to run the 'info' command",
            ),
            1_000,
        );
        a.checked_at_ms = Some(1_000);
        let prev = observed(a);
        let kept = carried(Some(&prev), 1_000 + RETRY_AFTER_MS - 1);
        assert!(kept.refuses("info"));
        assert_eq!(kept.checked_at_ms, Some(1_000));
        let retried = carried(Some(&prev), 1_000 + RETRY_AFTER_MS);
        assert!(!retried.refuses("info"));
        assert_eq!(retried.checked_at_ms, None);
        let down = NodeObservation {
            result: Err(ProbeError::ConnectTimeout),
            ..prev
        };
        assert!(carried(Some(&down), 1_001).is_empty());
        assert!(carried(None, 1_001).is_empty());
    }

    #[test]
    fn dry_run_answers_become_refusals() {
        let mut a = Access::default();
        let setslot = REPAIR_COMMANDS[0];
        learn_dry_run(&mut a, setslot, &Ok("OK".into()), 1);
        assert!(a.is_empty());
        learn_dry_run(
            &mut a,
            setslot,
            &Ok("User obs has no permissions to run the 'cluster|setslot' command".into()),
            1,
        );
        let r = a.refusal("cluster|setslot").unwrap();
        assert!(r.dry_run);
        assert_eq!(r.kind, RefusalKind::NotAllowed);
        learn_dry_run(
            &mut a,
            &["CONFIG", "SET", "x", "y"],
            &Err(server("ERR", "Command 'CONFIG' not found")),
            1,
        );
        let config = a.refusal("config|set").unwrap();
        assert_eq!((config.command.as_str(), config.dry_run), ("config", false));
        learn_dry_run(
            &mut a,
            &["MIGRATE", "h", "1", "", "0", "1", "KEYS", "k"],
            &Err(CommandError::Io("reset".into())),
            1,
        );
        assert!(!a.refuses("migrate"));
    }

    #[test]
    fn a_remembered_refusal_reads_as_the_server_said_it() {
        let mut a = Access::default();
        learn(
            &mut a,
            &["INFO"],
            &server(
                "NOPERM",
                "User obs has no permissions to run the 'info' command",
            ),
            1,
        );
        assert_eq!(
            remembered(&a, &["INFO", "server"]),
            Some(server(
                "NOPERM",
                "User obs has no permissions to run the 'info' command"
            ))
        );
        assert_eq!(remembered(&a, &["CLUSTER", "INFO"]), None);
    }
}
