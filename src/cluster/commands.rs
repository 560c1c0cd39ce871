//! Which commands only read: the one classifier of command names. The connection guard
//! (`--read-only`, and every connection of the `:` command line) refuses whatever is not
//! [`CommandClass::Read`] before a byte is sent; the `:` command line asks the same question
//! to word its refusal. Pure: it looks at names only.

/// Commands that never change data or cluster state, never block and never hold a
/// connection open. Matched on the command name, plus the subcommand for container commands
/// (`CLUSTER`, `CONFIG`, ...), see [`command_name`].
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
    "CLUSTER GETSLOTMIGRATIONS",
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
    "MEMORY DOCTOR",
    "OBJECT ENCODING",
    "OBJECT FREQ",
    "OBJECT IDLETIME",
    "OBJECT REFCOUNT",
    "SLOWLOG GET",
    "SLOWLOG LEN",
    "LATENCY LATEST",
    "LATENCY HISTORY",
    "LATENCY DOCTOR",
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

/// Commands that wait for data or hold the connection (they would stall the connection).
const BLOCKING: &[&str] = &[
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BLMOVE",
    "BLMPOP",
    "BZPOPMIN",
    "BZPOPMAX",
    "BZMPOP",
    "XREAD",
    "XREADGROUP",
    "WAIT",
    "WAITAOF",
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "MONITOR",
    "SYNC",
    "PSYNC",
];

/// Commands that can take the node or its data away, or stall it for everyone.
const DANGEROUS: &[&str] = &[
    "FLUSHALL",
    "FLUSHDB",
    "SHUTDOWN",
    "KEYS",
    "DEBUG",
    "CLUSTER RESET",
    "CLUSTER FORGET",
    "CLUSTER FAILOVER",
    "CLUSTER DELSLOTS",
    "CLUSTER DELSLOTSRANGE",
    "CLUSTER FLUSHSLOTS",
    "REPLICAOF",
    "SLAVEOF",
    "SWAPDB",
    "MIGRATE",
];

/// Commands that change the node's configuration, the cluster or the server (not the data).
const ADMIN_PREFIXES: &[&str] = &[
    "CLUSTER",
    "CONFIG",
    "CLIENT",
    "ACL",
    "SCRIPT",
    "FUNCTION",
    "MODULE",
    "SAVE",
    "BGSAVE",
    "BGREWRITEAOF",
    "SLOWLOG",
    "LATENCY",
    "MEMORY",
    "FAILOVER",
    "AUTH",
    "HELLO",
    "SELECT",
    "READONLY",
    "READWRITE",
    "MULTI",
    "EXEC",
];

/// What a command may do, from its name alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandClass {
    /// On the read allow-list: changes nothing, never blocks.
    Read,
    /// Waits for data or holds the connection.
    Blocking,
    /// Can take the node or its data away, or stall it.
    Dangerous,
    /// Changes configuration, the cluster or the server.
    Admin,
    /// Anything else: may write data (and every command not known to read).
    Write,
}

impl CommandClass {
    /// Words for a refusal: `a write`, `an admin command`, ...
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Self::Read => "a read",
            Self::Blocking => "a blocking command",
            Self::Dangerous => "a dangerous command",
            Self::Admin => "an admin command",
            Self::Write => "a write (or not known to only read)",
        }
    }
}

/// The command's name in upper case: `GET`, or `CLUSTER SETSLOT` for container commands.
#[must_use]
pub fn command_name<S: AsRef<str>>(args: &[S]) -> String {
    let Some(first) = args.first() else {
        return String::new();
    };
    let first = first.as_ref().to_ascii_uppercase();
    if CONTAINER_COMMANDS.contains(&first.as_str())
        && let Some(sub) = args.get(1)
    {
        return format!("{first} {}", sub.as_ref().to_ascii_uppercase());
    }
    first
}

/// True if the command is on the read allow-list.
#[must_use]
pub fn is_read_command<S: AsRef<str>>(args: &[S]) -> bool {
    classify(args) == CommandClass::Read
}

/// Classify a command (its arguments, name first). Only [`CommandClass::Read`] is ever sent
/// where writes are refused; the other classes only word the refusal.
#[must_use]
pub fn classify<S: AsRef<str>>(args: &[S]) -> CommandClass {
    let name = command_name(args);
    let first = name.split(' ').next().unwrap_or_default();
    if READ_COMMANDS.contains(&name.as_str()) {
        CommandClass::Read
    } else if BLOCKING.contains(&first) {
        CommandClass::Blocking
    } else if DANGEROUS.contains(&name.as_str()) || DANGEROUS.contains(&first) {
        CommandClass::Dangerous
    } else if ADMIN_PREFIXES.contains(&first) {
        CommandClass::Admin
    } else {
        CommandClass::Write
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn reads_are_reads() {
        for c in [
            "info replication",
            "INFO",
            "slowlog get 10",
            "LATENCY LATEST",
            "latency doctor",
            "cluster countkeysinslot 5",
            "CONFIG GET maxmemory",
            "client list",
            "dbsize",
        ] {
            assert_eq!(classify(&words(c)), CommandClass::Read, "{c}");
        }
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        for (c, class) in [
            ("SET k v", CommandClass::Write),
            ("del k", CommandClass::Write),
            ("unknowncmd", CommandClass::Write),
            ("EVAL x 0", CommandClass::Write),
            ("BLPOP l 0", CommandClass::Blocking),
            ("monitor", CommandClass::Blocking),
            ("subscribe ch", CommandClass::Blocking),
            ("FLUSHALL", CommandClass::Dangerous),
            ("keys *", CommandClass::Dangerous),
            ("cluster reset hard", CommandClass::Dangerous),
            ("DEBUG SLEEP 1", CommandClass::Dangerous),
            ("shutdown nosave", CommandClass::Dangerous),
            ("CLUSTER SETSLOT 5 STABLE", CommandClass::Admin),
            ("config set maxmemory 1", CommandClass::Admin),
            ("CLIENT KILL ID 5", CommandClass::Admin),
            ("slowlog reset", CommandClass::Admin),
            ("latency reset", CommandClass::Admin),
            ("CLUSTER", CommandClass::Admin),
        ] {
            assert_eq!(classify(&words(c)), class, "{c}");
            assert!(!is_read_command(&words(c)), "{c}");
        }
        assert_eq!(classify::<&str>(&[]), CommandClass::Write);
    }
}
