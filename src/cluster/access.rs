//! What a node would not let slotscope run: commands it refused (`NOPERM` from an ACL,
//! `unknown command` when renamed away as managed services do, `unknown subcommand` on an older
//! server), and commands `ACL DRYRUN` said the connecting user may not run. Plain data, filled
//! by the probe and read by the diagnosis (what could not be learned) and the planner (which
//! plans cannot run).
//!
//! Commands are named as ACL rules name them: `info`, `config|get`, `cluster|setslot`. A refusal
//! of a whole command (`config`, renamed away) covers every subcommand (`config|get`,
//! `config|set`); a refusal of one subcommand covers only that one.

use serde::{Deserialize, Serialize};

/// Commands whose second word is part of the name (as in ACL rules: `cluster|setslot`).
const CONTAINER_COMMANDS: &[&str] = &[
    "cluster", "config", "client", "memory", "object", "slowlog", "latency", "command", "acl",
    "debug", "script", "function", "module", "xinfo", "pubsub",
];

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// `NOPERM`: the ACL user may not run it.
    NotAllowed,
    /// `ERR unknown command`: renamed or disabled (`rename-command CONFIG ""`).
    Unknown,
    /// `ERR unknown subcommand`: the server does not have it (older version).
    Unsupported,
}

impl RefusalKind {
    /// Plain words for a sentence: "not allowed for this user (NOPERM)".
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Self::NotAllowed => "not allowed for this user (NOPERM)",
            Self::Unknown => "unknown to the server (renamed or disabled)",
            Self::Unsupported => "not supported by this server version",
        }
    }
}

/// One refused command on one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The command as ACL rules name it: `config`, `config|get`, `cluster|setslot`.
    pub command: String,
    pub kind: RefusalKind,
    /// The server's words (sanitised), e.g. `NOPERM User ops has no permissions to run the
    /// 'cluster|setslot' command`.
    pub message: String,
    /// Unix ms when this was learned; the command is tried again after
    /// a retry interval (see `refresh::refusals`).
    pub since_ms: u64,
    /// True when `ACL DRYRUN` told (the command itself was never sent).
    #[serde(default)]
    pub dry_run: bool,
}

/// What one node refused, as far as slotscope has learned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// The ACL user slotscope connects as (`default` when none was given).
    #[serde(default)]
    pub user: Option<String>,
    /// Refused commands, by command name.
    #[serde(default)]
    pub refused: Vec<Refusal>,
    /// Unix ms of the last `ACL DRYRUN` check of the repair commands; `None` when not checked
    /// (read-only mode, or `ACL DRYRUN` itself is refused).
    #[serde(default)]
    pub checked_at_ms: Option<u64>,
}

impl Access {
    /// The refusal that covers `command` (an ACL name), if any.
    #[must_use]
    pub fn refusal(&self, command: &str) -> Option<&Refusal> {
        self.refused.iter().find(|r| covers(&r.command, command))
    }

    /// True when `command` was refused (and is not to be sent again for now).
    #[must_use]
    pub fn refuses(&self, command: &str) -> bool {
        self.refusal(command).is_some()
    }

    /// Record a refusal (one per command name; the first one is kept, except that a command
    /// the server refused replaces what `ACL DRYRUN` said of it).
    pub fn record(&mut self, refusal: Refusal) {
        match self
            .refused
            .iter_mut()
            .find(|r| r.command == refusal.command)
        {
            Some(r) if r.dry_run && !refusal.dry_run => *r = refusal,
            Some(_) => {}
            None => {
                self.refused.push(refusal);
                self.refused.sort_by(|a, b| a.command.cmp(&b.command));
            }
        }
    }

    /// True when nothing was refused.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.refused.is_empty()
    }
}

/// True when a refusal of `refused` covers `command`: the same name, or `refused` is the
/// whole command of which `command` is a subcommand.
#[must_use]
pub fn covers(refused: &str, command: &str) -> bool {
    refused == command
        || command
            .strip_prefix(refused)
            .is_some_and(|rest| rest.starts_with('|'))
}

/// A command's ACL name from its arguments: `["CLUSTER", "SETSLOT", "5", "STABLE"]` →
/// `cluster|setslot`, `["INFO", "server"]` → `info`.
#[must_use]
pub fn command_key<S: AsRef<str>>(args: &[S]) -> String {
    let Some(first) = args.first() else {
        return String::new();
    };
    let first = first.as_ref().to_ascii_lowercase();
    match args.get(1) {
        Some(sub) if CONTAINER_COMMANDS.contains(&first.as_str()) => {
            format!("{first}|{}", sub.as_ref().to_ascii_lowercase())
        }
        _ => first,
    }
}

/// A command's name for people: `cluster|setslot` → `CLUSTER SETSLOT`.
#[must_use]
pub fn display_name(key: &str) -> String {
    key.replace('|', " ").to_ascii_uppercase()
}

/// Whether a server error reply (its code and the rest of the line) is a refusal of the
/// command, and which. `command` is the ACL name of the command that was sent.
///
/// Replies seen on Redis 7.0 / 8.2 and Valkey 8.1 / 9.1:
/// - `NOPERM this user has no permissions to run the 'info' command` (Redis 7.0),
///   `NOPERM User obs has no permissions to run the 'info' command` (later);
/// - `ERR unknown command 'CONFIG', with args beginning with: 'GET' 'save'` (renamed away);
/// - `ERR unknown subcommand 'SLOT-STATS'. Try CLUSTER HELP.` (older server).
///
/// The refusal names the whole command when the command itself is unknown.
#[must_use]
pub fn classify(code: &str, message: &str, command: &str) -> Option<(String, RefusalKind)> {
    let lower = message.to_ascii_lowercase();
    if code.eq_ignore_ascii_case("NOPERM") {
        // NOPERM on a key or channel pattern is about the arguments, not the command.
        if lower.contains("no permissions to access") {
            return None;
        }
        return Some((command.to_owned(), RefusalKind::NotAllowed));
    }
    if !code.eq_ignore_ascii_case("ERR") {
        return None;
    }
    if lower.starts_with("unknown command") {
        let whole = command.split('|').next().unwrap_or(command);
        return Some((whole.to_owned(), RefusalKind::Unknown));
    }
    if lower.starts_with("unknown subcommand") {
        return Some((command.to_owned(), RefusalKind::Unsupported));
    }
    None
}

/// What `ACL DRYRUN user <command…>` answered: `Ok(true)` for `OK`, `Ok(false)` with the
/// reason for a permission text (`This user has no permissions to run the 'info' command`,
/// `User ops has no permissions …`). Server errors are handled by [`classify`]
/// (`ERR Command 'CONFIG' not found` means the command is unknown).
///
/// # Errors
/// The server's reason when the user may not run the command.
pub fn dry_run_allows(reply: &str) -> Result<(), String> {
    if reply.trim().eq_ignore_ascii_case("ok") {
        Ok(())
    } else {
        Err(reply.trim().to_owned())
    }
}

/// Whether an `ACL DRYRUN` error reply says the command does not exist
/// (`ERR Command 'CONFIG' not found`).
#[must_use]
pub fn dry_run_unknown(code: &str, message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    code.eq_ignore_ascii_case("ERR")
        && lower.starts_with("command '")
        && lower.ends_with("not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_keys() {
        assert_eq!(
            command_key(&["CLUSTER", "SETSLOT", "5", "STABLE"]),
            "cluster|setslot"
        );
        assert_eq!(command_key(&["INFO", "server", "memory"]), "info");
        assert_eq!(command_key(&["config", "Get", "save"]), "config|get");
        assert_eq!(command_key(&["MIGRATE", "h", "1"]), "migrate");
        assert_eq!(command_key::<&str>(&[]), "");
        assert_eq!(
            display_name("cluster|countkeysinslot"),
            "CLUSTER COUNTKEYSINSLOT"
        );
    }

    #[test]
    fn a_whole_command_covers_its_subcommands_only() {
        assert!(covers("config", "config|set"));
        assert!(covers("config|get", "config|get"));
        assert!(!covers("config|get", "config|set"));
        assert!(!covers("cluster", "clusterx"));
        assert!(!covers("cluster|info", "cluster"));
    }

    #[test]
    fn real_server_refusals_are_classified() {
        // Redis 7.0.15
        assert_eq!(
            classify(
                "NOPERM",
                "this user has no permissions to run the 'info' command",
                "info"
            ),
            Some(("info".to_owned(), RefusalKind::NotAllowed))
        );
        // Valkey 8.1.8 / 9.1.2, Redis 8.2.3
        assert_eq!(
            classify(
                "NOPERM",
                "User obs has no permissions to run the 'cluster|setslot' command",
                "cluster|setslot"
            ),
            Some(("cluster|setslot".to_owned(), RefusalKind::NotAllowed))
        );
        // rename-command CONFIG "": the whole command is gone.
        assert_eq!(
            classify(
                "ERR",
                "unknown command 'CONFIG', with args beginning with: 'GET' 'save' ",
                "config|get"
            ),
            Some(("config".to_owned(), RefusalKind::Unknown))
        );
        assert_eq!(
            classify(
                "ERR",
                "unknown subcommand 'SLOT-STATS'. Try CLUSTER HELP.",
                "cluster|slot-stats"
            ),
            Some(("cluster|slot-stats".to_owned(), RefusalKind::Unsupported))
        );
        assert_eq!(classify("ERR", "wrong number of arguments", "info"), None);
        assert_eq!(classify("LOADING", "loading", "info"), None);
        assert_eq!(
            classify("NOPERM", "No permissions to access a key", "migrate"),
            None
        );
    }

    #[test]
    fn dry_run_replies() {
        assert_eq!(dry_run_allows("OK"), Ok(()));
        assert_eq!(
            dry_run_allows("User obs has no permissions to run the 'cluster|setslot' command"),
            Err("User obs has no permissions to run the 'cluster|setslot' command".to_owned())
        );
        assert!(dry_run_unknown("ERR", "Command 'CONFIG' not found"));
        assert!(!dry_run_unknown("ERR", "User 'x' not found"));
    }

    #[test]
    fn one_refusal_per_command() {
        let mut a = Access::default();
        let r = |c: &str, since| Refusal {
            command: c.to_owned(),
            kind: RefusalKind::NotAllowed,
            message: String::new(),
            since_ms: since,
            dry_run: false,
        };
        a.record(r("info", 1));
        a.record(r("info", 2));
        a.record(r("config", 3));
        assert_eq!(a.refused.len(), 2);
        let mut dry = r("migrate", 4);
        dry.dry_run = true;
        a.record(dry);
        a.record(r("migrate", 5));
        assert_eq!(
            a.refusal("migrate").map(|r| (r.since_ms, r.dry_run)),
            Some((5, false))
        );
        assert_eq!(a.refusal("info").map(|r| r.since_ms), Some(1));
        assert!(a.refuses("config|set"));
        assert!(!a.refuses("cluster|setslot"));
    }
}
