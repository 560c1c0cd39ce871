//! The read-only guard: the allow-list of commands that never change data or cluster state,
//! and the check every command passes before any I/O.

use super::error::CommandError;

/// Commands that never change data or cluster state. Matched on the command name, plus the
/// subcommand for container commands (`CLUSTER`, `CONFIG`, ...), see [`command_name`].
const READ_COMMANDS: &[&str] = &[
    "PING",
    // Only flags the connection so the next command is served for an importing slot.
    "ASKING",
    "ECHO",
    "INFO",
    "TIME",
    "ROLE",
    "LASTSAVE",
    "DBSIZE",
    "GET",
    "MGET",
    "STRLEN",
    "GETRANGE",
    "EXISTS",
    "TYPE",
    "DUMP",
    "TTL",
    "PTTL",
    "EXPIRETIME",
    "PEXPIRETIME",
    "SCAN",
    "RANDOMKEY",
    "HGET",
    "HLEN",
    "HKEYS",
    "HGETALL",
    "HSCAN",
    "LLEN",
    "LRANGE",
    "SCARD",
    "SMEMBERS",
    "SSCAN",
    "ZCARD",
    "ZRANGE",
    "ZSCAN",
    "XLEN",
    "CLUSTER NODES",
    "CLUSTER INFO",
    "CLUSTER SLOTS",
    "CLUSTER SHARDS",
    "CLUSTER COUNTKEYSINSLOT",
    "CLUSTER SLOT-STATS",
    "CLUSTER GETKEYSINSLOT",
    "CLUSTER MYID",
    "CLUSTER MYSHARDID",
    "CLUSTER KEYSLOT",
    "CLUSTER LINKS",
    "CLUSTER REPLICAS",
    "CLUSTER SLAVES",
    "CLUSTER COUNT-FAILURE-REPORTS",
    "CONFIG GET",
    "CLIENT LIST",
    "CLIENT INFO",
    "CLIENT GETNAME",
    "CLIENT ID",
    "MEMORY USAGE",
    "MEMORY STATS",
    "OBJECT ENCODING",
    "OBJECT FREQ",
    "OBJECT IDLETIME",
    "OBJECT REFCOUNT",
    "SLOWLOG GET",
    "SLOWLOG LEN",
    "LATENCY LATEST",
    "LATENCY HISTORY",
    "COMMAND COUNT",
    "COMMAND INFO",
    "COMMAND DOCS",
    "ACL WHOAMI",
    "ACL DRYRUN",
];

/// Commands whose second word is part of the name.
const CONTAINER_COMMANDS: &[&str] = &[
    "CLUSTER", "CONFIG", "CLIENT", "MEMORY", "OBJECT", "SLOWLOG", "LATENCY", "COMMAND", "ACL",
    "DEBUG", "SCRIPT", "FUNCTION", "MODULE", "XINFO", "PUBSUB",
];

/// The command's name in upper case: `GET`, or `CLUSTER SETSLOT` for container commands.
#[must_use]
pub fn command_name(args: &[String]) -> String {
    let Some(first) = args.first() else {
        return String::new();
    };
    let first = first.to_ascii_uppercase();
    if CONTAINER_COMMANDS.contains(&first.as_str())
        && let Some(sub) = args.get(1)
    {
        return format!("{first} {}", sub.to_ascii_uppercase());
    }
    first
}

/// True if the command is on the read allowlist.
#[must_use]
pub fn is_read_command(args: &[String]) -> bool {
    let name = command_name(args);
    READ_COMMANDS.contains(&name.as_str())
}

/// The read-only guard: in read-only mode only allowlisted read commands pass.
///
/// # Errors
/// [`CommandError::ReadOnlyRefused`] for any other command (and for an empty command).
pub fn check_allowed(read_only: bool, args: &[String]) -> Result<(), CommandError> {
    if args.is_empty() {
        return Err(CommandError::Protocol("empty command".into()));
    }
    if read_only && !is_read_command(args) {
        return Err(CommandError::ReadOnlyRefused {
            command: command_name(args),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refresh::conn::tests::args;

    #[test]
    fn command_names() {
        assert_eq!(command_name(&args("get k")), "GET");
        assert_eq!(
            command_name(&args("cluster setslot 5 stable")),
            "CLUSTER SETSLOT"
        );
        assert_eq!(command_name(&args("Config Get maxmemory")), "CONFIG GET");
        assert_eq!(command_name(&args("CLUSTER")), "CLUSTER");
        assert_eq!(command_name(&[]), "");
    }

    #[test]
    fn guard_allows_reads_in_read_only_mode() {
        for c in [
            "PING",
            "INFO server replication",
            "cluster nodes",
            "CLUSTER INFO",
            "CLUSTER SLOTS",
            "CLUSTER SHARDS",
            "CLUSTER COUNTKEYSINSLOT 5",
            "cluster getkeysinslot 5 10",
            "CLUSTER MYID",
            "CONFIG GET cluster-node-timeout",
            "DBSIZE",
            "GET k",
            "EXISTS k",
            "TYPE k",
            "DUMP k",
            "TTL k",
            "PTTL k",
            "SCAN 0 COUNT 10",
        ] {
            assert_eq!(check_allowed(true, &args(c)), Ok(()), "{c}");
        }
    }

    #[test]
    fn guard_refuses_writes_in_read_only_mode() {
        for (c, name) in [
            ("SET k v", "SET"),
            ("DEL k", "DEL"),
            ("FLUSHALL", "FLUSHALL"),
            ("cluster setslot 5 node abc", "CLUSTER SETSLOT"),
            ("CLUSTER ADDSLOTS 1", "CLUSTER ADDSLOTS"),
            ("CLUSTER DELSLOTSRANGE 1 2", "CLUSTER DELSLOTSRANGE"),
            ("CLUSTER MEET 127.0.0.1 7000", "CLUSTER MEET"),
            ("CLUSTER FORGET abc", "CLUSTER FORGET"),
            ("CLUSTER FAILOVER TAKEOVER", "CLUSTER FAILOVER"),
            ("CLUSTER RESET HARD", "CLUSTER RESET"),
            ("CLUSTER BUMPEPOCH", "CLUSTER BUMPEPOCH"),
            ("CLUSTER", "CLUSTER"),
            ("CONFIG SET cluster-require-full-coverage no", "CONFIG SET"),
            ("CONFIG REWRITE", "CONFIG REWRITE"),
            ("MIGRATE h 1 \"\" 0 1000 KEYS a", "MIGRATE"),
            ("RESTORE k 0 x", "RESTORE"),
            ("SHUTDOWN", "SHUTDOWN"),
            ("DEBUG SLEEP 1", "DEBUG SLEEP"),
            ("EVAL x 0", "EVAL"),
            ("SCRIPT FLUSH", "SCRIPT FLUSH"),
            ("SAVE", "SAVE"),
            ("unknowncmd", "UNKNOWNCMD"),
        ] {
            assert_eq!(
                check_allowed(true, &args(c)),
                Err(CommandError::ReadOnlyRefused {
                    command: name.into()
                }),
                "{c}"
            );
            assert_eq!(check_allowed(false, &args(c)), Ok(()), "{c}");
        }
        assert!(check_allowed(false, &[]).is_err());
    }
}
