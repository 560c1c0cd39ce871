//! A repair as plain data: [`FixPlan`], its ordered [`FixStep`]s, its [`Risk`] in numbers and
//! how the user confirms it. Steps render as `redis-cli` lines with any password masked.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cluster::FindingKind;
use crate::cluster::slots::{Slot, SlotRange};
use crate::cluster::types::{Endpoint, NodeId};

use super::condition::{Condition, Expectation, Precondition};

/// Default number of keys per `GETKEYSINSLOT` / `MIGRATE` batch.
pub const DEFAULT_MIGRATE_BATCH: u32 = 100;

/// Default `MIGRATE` timeout argument, in milliseconds (server-side timeout, not a socket one).
pub const DEFAULT_MIGRATE_TIMEOUT_MS: u64 = 5000;

/// How the user must confirm a plan before it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "word", rename_all = "snake_case")]
pub enum Confirmation {
    /// A plain yes / no.
    Simple,
    /// The user must type this exact word (plans that can lose data).
    TypeWord(String),
}

/// Coarse risk level, for colouring and sorting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Advice only, or writes that cannot lose or move data.
    Low,
    /// Moves keys or changes ownership, but keeps every key.
    Medium,
    /// Can lose data or cause a write outage if misjudged.
    High,
}

/// An estimate of a key count that could not be observed, and how it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEstimate {
    /// The estimated number of keys.
    pub keys: u64,
    /// How the estimate was made, in plain words, e.g. "if it held as many keys per slot as
    /// the live masters (664 keys in 10922 slots)".
    pub basis: String,
}

/// How many keys a plan could lose: counted, or explicitly unknown.
///
/// An unknown count is never shown as 0: [`fmt::Display`] gives `unknown (about 332)` or
/// `unknown`, and the JSON of [`Risk`] gives `"keys_at_risk": null` with
/// `"keys_at_risk_known": false`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeysAtRisk {
    /// Counted when planning; 0 when the plan cannot lose a key.
    Known(u64),
    /// Not observable, e.g. the keys sit on an unreachable master.
    Unknown {
        /// Why the count is unknown, e.g. "master unreachable".
        reason: String,
        /// An estimate, when one can be made.
        estimate: Option<KeyEstimate>,
    },
}

impl Default for KeysAtRisk {
    fn default() -> Self {
        Self::Known(0)
    }
}

impl KeysAtRisk {
    /// An unknown count with its reason and an optional estimate.
    #[must_use]
    pub fn unknown(reason: impl Into<String>, estimate: Option<KeyEstimate>) -> Self {
        Self::Unknown {
            reason: reason.into(),
            estimate,
        }
    }

    /// The exact count, if known.
    #[must_use]
    pub fn known(&self) -> Option<u64> {
        match self {
            Self::Known(n) => Some(*n),
            Self::Unknown { .. } => None,
        }
    }

    /// The estimate of an unknown count, if any.
    #[must_use]
    pub fn estimate(&self) -> Option<&KeyEstimate> {
        match self {
            Self::Known(_) => None,
            Self::Unknown { estimate, .. } => estimate.as_ref(),
        }
    }

    /// Whether keys may be lost: a positive count, or an unknown one.
    #[must_use]
    pub fn may_lose_keys(&self) -> bool {
        !matches!(self, Self::Known(0))
    }

    /// A phrase for sentences: "332 key(s) at risk", "an unknown number of keys at risk
    /// (master unreachable; about 332 if it held as many keys per slot as the live masters)".
    #[must_use]
    pub fn phrase(&self) -> String {
        match self {
            Self::Known(n) => format!("{n} key(s) at risk"),
            Self::Unknown {
                reason,
                estimate: Some(e),
            } => format!(
                "an unknown number of keys at risk ({reason}; about {} {})",
                e.keys, e.basis
            ),
            Self::Unknown {
                reason,
                estimate: None,
            } => format!("an unknown number of keys at risk ({reason})"),
        }
    }
}

impl fmt::Display for KeysAtRisk {
    /// `332`, `unknown (about 332)` or `unknown`. An estimate of 0 adds nothing (the count is
    /// still unknown, e.g. when the live masters hold no key), so it prints as plain `unknown`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Known(n) => write!(f, "{n}"),
            Self::Unknown {
                estimate: Some(e), ..
            } if e.keys > 0 => write!(f, "unknown (about {})", e.keys),
            Self::Unknown { .. } => f.write_str("unknown"),
        }
    }
}

/// What a plan risks, in numbers.
///
/// JSON (as printed by `slotscope fix --json`): the key count at risk is flat and explicit about
/// what is not known:
/// - `keys_at_risk`: the exact count, or `null` when it is unknown (never 0 for unknown);
/// - `keys_at_risk_known`: `false` when the count is unknown;
/// - `keys_at_risk_estimate`: an estimate of an unknown count, or `null`;
/// - `keys_at_risk_estimate_basis`: how the estimate was made, or `null`;
/// - `keys_at_risk_unknown_reason`: why the count is unknown (e.g. "master unreachable"), or
///   `null`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "RiskJson", from = "RiskJson")]
pub struct Risk {
    /// Keys the plan will move between nodes (as counted when planning).
    pub keys_to_move: u64,
    /// Keys that could be lost (e.g. keys of a dead master whose slots are handed out).
    pub keys_at_risk: KeysAtRisk,
    /// Slots whose owner changes.
    pub slots_changing_owner: u64,
    /// True when the plan can lose data; such plans need a typed confirmation.
    pub loses_data: bool,
    /// Plain-language notes (why it is risky, what the user should know).
    pub notes: Vec<String>,
}

/// The JSON form of [`Risk`] (flat, see its documentation).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RiskJson {
    keys_to_move: u64,
    keys_at_risk: Option<u64>,
    keys_at_risk_known: bool,
    keys_at_risk_estimate: Option<u64>,
    keys_at_risk_estimate_basis: Option<String>,
    keys_at_risk_unknown_reason: Option<String>,
    slots_changing_owner: u64,
    loses_data: bool,
    notes: Vec<String>,
}

impl From<Risk> for RiskJson {
    fn from(r: Risk) -> Self {
        let (known, estimate, basis, reason) = match r.keys_at_risk {
            KeysAtRisk::Known(n) => (Some(n), None, None, None),
            KeysAtRisk::Unknown { reason, estimate } => {
                let (keys, basis) = estimate.map(|e| (e.keys, e.basis)).unzip();
                (None, keys, basis, Some(reason))
            }
        };
        Self {
            keys_to_move: r.keys_to_move,
            keys_at_risk: known,
            keys_at_risk_known: known.is_some(),
            keys_at_risk_estimate: estimate,
            keys_at_risk_estimate_basis: basis,
            keys_at_risk_unknown_reason: reason,
            slots_changing_owner: r.slots_changing_owner,
            loses_data: r.loses_data,
            notes: r.notes,
        }
    }
}

impl From<RiskJson> for Risk {
    fn from(j: RiskJson) -> Self {
        let keys_at_risk = match j.keys_at_risk {
            Some(n) if j.keys_at_risk_known => KeysAtRisk::Known(n),
            _ => KeysAtRisk::Unknown {
                reason: j
                    .keys_at_risk_unknown_reason
                    .unwrap_or_else(|| "not counted".to_owned()),
                estimate: j.keys_at_risk_estimate.map(|keys| KeyEstimate {
                    keys,
                    basis: j.keys_at_risk_estimate_basis.unwrap_or_default(),
                }),
            },
        };
        Self {
            keys_to_move: j.keys_to_move,
            keys_at_risk,
            slots_changing_owner: j.slots_changing_owner,
            loses_data: j.loses_data,
            notes: j.notes,
        }
    }
}

impl Risk {
    /// The coarse level derived from the numbers (an unknown key count at risk is high).
    #[must_use]
    pub fn level(&self) -> RiskLevel {
        if self.loses_data || self.keys_at_risk.may_lose_keys() {
            RiskLevel::High
        } else if self.keys_to_move > 0 || self.slots_changing_owner > 0 {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}
/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepAction {
    /// Send one command to the step's endpoint.
    Command {
        /// The command and its arguments, e.g. `["CLUSTER", "SETSLOT", "5", "STABLE"]`.
        args: Vec<String>,
        /// Error substrings that count as success (e.g. "only with masters" for a source that
        /// already turned into a replica). Empty for most steps.
        tolerate: Vec<String>,
    },
    /// Move every key of `slot` from the step's node to `to`, batch by batch:
    /// `CLUSTER GETKEYSINSLOT slot batch` then `MIGRATE host port "" 0 timeout KEYS …`.
    /// A `BUSYKEY` is never overwritten: both copies are compared with `DUMP`; the run stops.
    MigrateSlotKeys {
        slot: Slot,
        from: NodeId,
        to: NodeId,
        /// Where the keys go.
        to_endpoint: Endpoint,
        batch: u32,
        timeout_ms: u64,
    },
    /// Re-observe the cluster until the condition holds or the timeout expires.
    WaitFor {
        condition: Condition,
        timeout_ms: u64,
    },
}

/// One step of a plan: a node and what to do on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixStep {
    /// Where the step runs.
    pub endpoint: Endpoint,
    /// The node's id, when known.
    pub node_id: Option<NodeId>,
    pub action: StepAction,
    /// Plain words: what the step does and why.
    pub description: String,
}

/// Authentication details to show in `redis-cli` lines (the password is always masked).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliAuth {
    /// ACL user name, if any.
    pub user: Option<String>,
    /// Whether a password is in use (printed as `-a ***`).
    pub password: bool,
    /// The client to name (`valkey-cli` on Valkey); `None` = `redis-cli`.
    pub program: Option<&'static str>,
    /// TLS flags (`--tls --cacert …`) when the nodes are reached over TLS.
    pub tls: Option<String>,
    /// `--remap`: lines name the address slotscope connects to.
    pub remap: crate::refresh::conn::remap::RemapTable,
    /// `--prefer-hostname`: lines name a node by the hostname it announces.
    pub prefer_hostname: bool,
    /// The announced hostnames, by announced address (filled by [`CliAuth::with_hostnames`]).
    pub hostnames: std::collections::BTreeMap<Endpoint, String>,
}

impl CliAuth {
    /// What the lines of plans carry for a connection: its user, whether a password is in
    /// use, its TLS flags and its remaps (the program stays `redis-cli` until a node says).
    #[must_use]
    pub fn for_connection(opts: &crate::refresh::ConnectOptions) -> Self {
        Self {
            user: opts.user.clone(),
            password: opts.password.is_some(),
            program: None,
            tls: opts.tls.as_ref().map(|t| t.options.redis_cli_flags()),
            remap: opts.remap.clone(),
            prefer_hostname: opts.hostnames.is_some(),
            hostnames: std::collections::BTreeMap::new(),
        }
    }

    /// These settings with the hostnames the model's nodes announce (under
    /// `--prefer-hostname`; otherwise unchanged).
    #[must_use]
    pub fn with_hostnames(mut self, model: &crate::cluster::ClusterModel) -> Self {
        if self.prefer_hostname {
            self.hostnames = model
                .nodes
                .iter()
                .filter_map(|n| Some((n.addr.endpoint()?, n.addr.hostname.clone()?)))
                .filter(|(_, h)| !h.is_empty())
                .collect();
        }
        self
    }

    /// The address slotscope connects to for the announced `ep`: its hostname (under
    /// `--prefer-hostname`, when `hostname` is announced), then `--remap`.
    #[must_use]
    pub fn connected(&self, ep: &Endpoint, hostname: Option<&str>) -> Endpoint {
        let named = match hostname.filter(|h| self.prefer_hostname && !h.is_empty()) {
            Some(h) => Endpoint::new(h, ep.port),
            None => ep.clone(),
        };
        self.remap.apply(&named)
    }
}

/// Quote one argument for a shell / redis-cli line.
fn quote_arg(arg: &str) -> String {
    if arg.is_empty() {
        return "\"\"".to_owned();
    }
    let plain = arg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:/@{}[]+=,".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

impl FixStep {
    /// A `Command` step.
    #[must_use]
    pub fn command(
        endpoint: Endpoint,
        node_id: Option<NodeId>,
        args: &[&str],
        description: impl Into<String>,
    ) -> Self {
        Self {
            endpoint,
            node_id,
            action: StepAction::Command {
                args: args.iter().map(|s| (*s).to_owned()).collect(),
                tolerate: Vec::new(),
            },
            description: description.into(),
        }
    }

    /// Whether the step writes to the cluster (every step except waits).
    #[must_use]
    pub fn is_write(&self) -> bool {
        !matches!(self.action, StepAction::WaitFor { .. })
    }

    /// The command as a `redis-cli` line an engineer could type, without auth options.
    #[must_use]
    pub fn redis_cli_line(&self) -> String {
        self.redis_cli_line_with(&CliAuth::default())
    }

    /// The command as a `redis-cli` line; the password, if any, is shown as `-a ***`.
    #[must_use]
    pub fn redis_cli_line_with(&self, auth: &CliAuth) -> String {
        let ep = auth.connected(
            &self.endpoint,
            auth.hostnames.get(&self.endpoint).map(String::as_str),
        );
        let mut prefix = format!(
            "{} -h {} -p {}",
            auth.program.unwrap_or("redis-cli"),
            quote_arg(&ep.host),
            ep.port
        );
        if let Some(tls) = &auth.tls {
            prefix.push(' ');
            prefix.push_str(tls);
        }
        if let Some(user) = &auth.user {
            prefix.push_str(" --user ");
            prefix.push_str(&quote_arg(user));
        }
        if auth.password {
            prefix.push_str(" -a ***");
        }
        match &self.action {
            StepAction::Command { args, .. } => {
                let cmd: Vec<String> = args.iter().map(|a| quote_arg(a)).collect();
                format!("{prefix} {}", cmd.join(" "))
            }
            StepAction::MigrateSlotKeys {
                slot,
                to_endpoint,
                batch,
                timeout_ms,
                ..
            } => {
                let auth_part = match (&auth.user, auth.password) {
                    (Some(u), true) => format!(" AUTH2 {} ***", quote_arg(u)),
                    (None, true) => " AUTH ***".to_owned(),
                    _ => String::new(),
                };
                format!(
                    "# repeat until empty: {prefix} CLUSTER GETKEYSINSLOT {slot} {batch}; \
                     {prefix} MIGRATE {} {} \"\" 0 {timeout_ms}{auth_part} KEYS <keys>",
                    quote_arg(&to_endpoint.host),
                    to_endpoint.port
                )
            }
            StepAction::WaitFor { timeout_ms, .. } => {
                format!(
                    "# wait up to {} s: {}",
                    timeout_ms.div_ceil(1000),
                    self.description
                )
            }
        }
    }

    /// The command words (for JSON and the dialog), e.g. `CLUSTER SETSLOT 5 STABLE`.
    #[must_use]
    pub fn command_text(&self) -> String {
        match &self.action {
            StepAction::Command { args, .. } => args
                .iter()
                .map(|a| quote_arg(a))
                .collect::<Vec<_>>()
                .join(" "),
            StepAction::MigrateSlotKeys {
                slot,
                to_endpoint,
                batch,
                ..
            } => format!(
                "MIGRATE keys of slot {slot} to {to_endpoint} in batches of {batch} \
                 (GETKEYSINSLOT + MIGRATE)"
            ),
            StepAction::WaitFor { .. } => format!("(wait) {}", self.description),
        }
    }
}

impl fmt::Display for FixStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.endpoint, self.command_text())
    }
}

/// What kind of repair a plan is (stable, part of the JSON output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// Clear markers of an open slot that has no key split.
    StabiliseSlot,
    /// Finish an interrupted migration towards the target.
    CompleteMigration,
    /// Move keys back and give the slot back to the source.
    RollBackMigration,
    /// Give uncovered slots back to the one master holding their keys.
    ReclaimUncovered,
    /// Assign uncovered slots that hold no key anywhere.
    CoverEmptySlots,
    /// Promote a replica of a failed master (`FAILOVER FORCE` / `TAKEOVER`).
    Failover,
    /// Advice: restart the failed node with its data and nodes.conf.
    RestartAdvice,
    /// Hand the slots of a dead master to live masters (data loss if it returns).
    ReassignSlots,
    /// `CLUSTER MEET` a running node that is not part of the cluster.
    Meet,
    /// `CLUSTER FORGET` a failed or ghost node everywhere.
    Forget,
    /// Make the rightful owner's claim win on dissenting nodes.
    ResolveDispute,
    /// Set `cluster-require-full-coverage no` on every master.
    CoverageOff,
    /// Revert `cluster-require-full-coverage` to `yes`.
    CoverageOn,
    /// Advice: the server is not in cluster mode.
    NotClusterAdvice,
    /// Advice: a replica's replication link to its master is down or still syncing.
    ReplicaLinkAdvice,
    /// Move keys stored on a master that does not own their slot to the slot's owner.
    ReturnStrayKeys,
    /// One incident in one plan: hand the slots of every dead master without a replica to the
    /// live masters, then forget those masters (the steps of `reassign_slots` then `forget`).
    RepairDeadMasters,
    /// One incident in one plan: promote a replica of a dead master, then forget the old
    /// master (the steps of `failover` then `forget`).
    FailoverAndForget,
    /// Cancel a stalled atomic slot migration on its source (`CLUSTER CANCELSLOTMIGRATIONS`).
    CancelSlotMigration,
    /// Start a failed or cancelled atomic slot migration again (`CLUSTER MIGRATESLOTS`).
    RetrySlotMigration,
}

impl PlanKind {
    /// Whether the plan does a whole repair made of several single-step plans.
    #[must_use]
    pub fn is_composite(self) -> bool {
        matches!(self, Self::RepairDeadMasters | Self::FailoverAndForget)
    }
}

/// A complete repair, as data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixPlan {
    /// Stable id, e.g. `stabilise-slot-1234`; the same cluster state gives the same id.
    pub id: String,
    pub kind: PlanKind,
    /// One line, e.g. "Close slot 1234 (no keys were moved yet)".
    pub title: String,
    /// Why: the finding's summary, in plain words.
    pub why: String,
    /// The finding this plan answers.
    pub finding: Option<FindingKind>,
    /// Alternatives for the same problem share a group (e.g. complete vs roll back).
    pub group: Option<String>,
    /// Within a group, the plan offered by default.
    pub recommended: bool,
    /// Affected slots.
    pub slots: Vec<SlotRange>,
    /// Affected nodes.
    pub nodes: Vec<NodeId>,
    /// Ordered steps. Empty for advice-only plans.
    pub steps: Vec<FixStep>,
    /// Advice lines (what to do by hand), shown with or instead of steps.
    pub advice: Vec<String>,
    pub risk: Risk,
    pub preconditions: Vec<Precondition>,
    pub expected: Vec<Expectation>,
    pub confirmation: Confirmation,
}

impl FixPlan {
    /// True when the plan only gives advice and sends nothing.
    #[must_use]
    pub fn is_advice_only(&self) -> bool {
        self.steps.iter().all(|s| !s.is_write())
    }

    /// Number of write steps.
    #[must_use]
    pub fn write_steps(&self) -> usize {
        self.steps.iter().filter(|s| s.is_write()).count()
    }

    /// The expected end state as plain lines.
    #[must_use]
    pub fn expected_lines(&self) -> Vec<&str> {
        self.expected
            .iter()
            .map(|e| e.description.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_cli_line_quotes_and_masks() {
        let step = FixStep::command(
            Endpoint::new("127.0.0.1", 7000),
            None,
            &["CLUSTER", "SETSLOT", "5", "STABLE"],
            "close slot 5",
        );
        assert_eq!(
            step.redis_cli_line(),
            "redis-cli -h 127.0.0.1 -p 7000 CLUSTER SETSLOT 5 STABLE"
        );
        let mut auth = CliAuth {
            user: Some("ops".into()),
            password: true,
            program: None,
            tls: None,
            remap: crate::refresh::conn::remap::RemapTable::default(),
            prefer_hostname: false,
            hostnames: std::collections::BTreeMap::new(),
        };
        assert_eq!(
            step.redis_cli_line_with(&auth),
            "redis-cli -h 127.0.0.1 -p 7000 --user ops -a *** CLUSTER SETSLOT 5 STABLE"
        );
        auth.tls = Some("--tls --cacert ca.pem".into());
        assert_eq!(
            step.redis_cli_line_with(&auth),
            "redis-cli -h 127.0.0.1 -p 7000 --tls --cacert ca.pem --user ops -a *** CLUSTER SETSLOT 5 STABLE"
        );
        auth.tls = None;
        auth.program = Some("valkey-cli");
        assert!(
            step.redis_cli_line_with(&auth)
                .starts_with("valkey-cli -h 127.0.0.1 -p 7000 ")
        );
        let mig = FixStep {
            endpoint: Endpoint::new("127.0.0.1", 7000),
            node_id: None,
            action: StepAction::MigrateSlotKeys {
                slot: 9,
                from: NodeId("a".into()),
                to: NodeId("b".into()),
                to_endpoint: Endpoint::new("127.0.0.1", 7001),
                batch: 50,
                timeout_ms: 5000,
            },
            description: "move".into(),
        };
        let line = mig.redis_cli_line_with(&auth);
        assert!(
            line.contains("MIGRATE 127.0.0.1 7001 \"\" 0 5000 AUTH2 ops *** KEYS"),
            "{line}"
        );
        assert!(line.contains("GETKEYSINSLOT 9 50"), "{line}");
        assert_eq!(quote_arg("it's"), "'it'\\''s'");
        assert_eq!(quote_arg(""), "\"\"");
    }

    #[test]
    fn risk_levels() {
        assert_eq!(Risk::default().level(), RiskLevel::Low);
        let r = Risk {
            keys_to_move: 3,
            ..Risk::default()
        };
        assert_eq!(r.level(), RiskLevel::Medium);
        let r = Risk {
            loses_data: true,
            ..Risk::default()
        };
        assert_eq!(r.level(), RiskLevel::High);
        // An unknown count at risk is high even without the flag.
        let r = Risk {
            keys_at_risk: KeysAtRisk::unknown("master unreachable", None),
            ..Risk::default()
        };
        assert_eq!(r.level(), RiskLevel::High);
    }

    #[test]
    fn unknown_keys_at_risk_are_never_zero() {
        let known = KeysAtRisk::Known(0);
        assert_eq!(known.to_string(), "0");
        assert!(!known.may_lose_keys());
        let bare = KeysAtRisk::unknown("master unreachable", None);
        assert_eq!(bare.to_string(), "unknown");
        assert_eq!(
            bare.phrase(),
            "an unknown number of keys at risk (master unreachable)"
        );
        let est = KeysAtRisk::unknown(
            "master unreachable",
            Some(KeyEstimate {
                keys: 332,
                basis: "if it held as many keys per slot as the live masters".into(),
            }),
        );
        assert_eq!(est.to_string(), "unknown (about 332)");
        assert_eq!(
            est.phrase(),
            "an unknown number of keys at risk (master unreachable; about 332 if it held as \
             many keys per slot as the live masters)"
        );
        assert_eq!(KeysAtRisk::Known(7).phrase(), "7 key(s) at risk");
    }

    #[test]
    fn risk_json_is_flat_and_explicit_about_unknown_counts() {
        let r = Risk {
            keys_at_risk: KeysAtRisk::unknown(
                "master unreachable",
                Some(KeyEstimate {
                    keys: 332,
                    basis: "per slot".into(),
                }),
            ),
            slots_changing_owner: 5462,
            loses_data: true,
            ..Risk::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["keys_at_risk"], serde_json::Value::Null);
        assert_eq!(v["keys_at_risk_known"], false);
        assert_eq!(v["keys_at_risk_estimate"], 332);
        assert_eq!(v["keys_at_risk_estimate_basis"], "per slot");
        assert_eq!(v["keys_at_risk_unknown_reason"], "master unreachable");
        assert_eq!(v["slots_changing_owner"], 5462);
        assert_eq!(serde_json::from_value::<Risk>(v).unwrap(), r);

        let known = Risk {
            keys_at_risk: KeysAtRisk::Known(0),
            ..Risk::default()
        };
        let v = serde_json::to_value(&known).unwrap();
        assert_eq!(v["keys_at_risk"], 0);
        assert_eq!(v["keys_at_risk_known"], true);
        assert_eq!(v["keys_at_risk_estimate"], serde_json::Value::Null);
        assert_eq!(v["keys_at_risk_unknown_reason"], serde_json::Value::Null);
        assert_eq!(serde_json::from_value::<Risk>(v).unwrap(), known);
    }
}
