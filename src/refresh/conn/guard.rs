//! The read-only guard: the check every command passes before any I/O. Which commands only
//! read is decided in one place, [`crate::cluster::commands`].

use super::error::CommandError;

pub use crate::cluster::commands::{command_name, is_read_command};

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
        assert_eq!(command_name::<String>(&[]), "");
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
