//! Failure scenarios: break a lab cluster the way production breaks, then wait until the fault
//! is visible (FAIL agreed, failover done, state changed) so observers see a settled picture.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::{Lab, LabError, LabOptions};
use crate::cluster::slots::{Slot, SlotRange, format_ranges};

/// Keys written into the slot that a reshard scenario leaves open.
const OPEN_SLOT_KEYS: usize = 10;

/// Slots removed by the deleted-slots scenarios.
const DELETED_SLOTS: u16 = 100;

/// A way to break a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// Nothing broken.
    Healthy,
    /// A master without replica is killed: its slots are served by nobody.
    DeadMasterNoReplica,
    /// A master with a replica is killed; the replica takes over.
    DeadMasterFailover,
    /// A slot half moved: importing on the target, migrating on the source, keys on both.
    InterruptedReshard,
    /// Only the source's migrating marker is set.
    MigratingOnly,
    /// Only the target's importing marker is set.
    ImportingOnly,
    /// A range of slots deleted on every node: no node serves them.
    DeletedSlots,
    /// `cluster-require-full-coverage no` and deleted slots: state ok, some keys unreachable.
    FullCoverageOff,
    /// A slot-owning master was forgotten by all its peers and must be met again.
    NodeMustRejoin,
    /// A master paused with SIGSTOP: TCP accepts, nothing answers.
    StoppedNode,
    /// Most masters killed: the survivors are a minority.
    MajorityLost,
    /// A replica's replication link broken (its `masterauth` no longer accepted): the cluster
    /// looks healthy, but that replica holds stale data.
    ReplicaNotSyncing,
}

/// What a scenario did, so tests and the demo can assert on it and tell the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioReport {
    /// The scenario.
    pub scenario: Scenario,
    /// What was done, in order, in plain words.
    pub actions: Vec<String>,
    /// Indices of the nodes that were broken (killed, paused, forgotten, marked, or owners of
    /// deleted slots); for a reshard: source first, then target.
    pub affected: Vec<usize>,
    /// Slots involved (deleted, left open, or owned by a dead / forgotten master).
    pub slots: Vec<SlotRange>,
    /// Keys stored in the involved slots per node index (for a dead or forgotten master: all of
    /// its keys), counted just before or after the fault.
    pub keys_by_node: BTreeMap<usize, u64>,
    /// The replica that was promoted, if a failover happened.
    pub promoted: Option<usize>,
}

impl ScenarioReport {
    fn new(scenario: Scenario) -> Self {
        Self {
            scenario,
            actions: Vec::new(),
            affected: Vec::new(),
            slots: Vec::new(),
            keys_by_node: BTreeMap::new(),
            promoted: None,
        }
    }
}

impl fmt::Display for ScenarioReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.scenario.name(), self.actions.join("; "))
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Scenario {
    /// Every scenario, in a stable order.
    #[must_use]
    pub fn all() -> &'static [Scenario] {
        &[
            Self::Healthy,
            Self::DeadMasterNoReplica,
            Self::DeadMasterFailover,
            Self::InterruptedReshard,
            Self::MigratingOnly,
            Self::ImportingOnly,
            Self::DeletedSlots,
            Self::FullCoverageOff,
            Self::NodeMustRejoin,
            Self::StoppedNode,
            Self::MajorityLost,
            Self::ReplicaNotSyncing,
        ]
    }

    /// The kebab-case name used on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::DeadMasterNoReplica => "dead-master-no-replica",
            Self::DeadMasterFailover => "dead-master-failover",
            Self::InterruptedReshard => "interrupted-reshard",
            Self::MigratingOnly => "migrating-only",
            Self::ImportingOnly => "importing-only",
            Self::DeletedSlots => "deleted-slots",
            Self::FullCoverageOff => "full-coverage-off",
            Self::NodeMustRejoin => "node-must-rejoin",
            Self::StoppedNode => "stopped-node",
            Self::MajorityLost => "majority-lost",
            Self::ReplicaNotSyncing => "replica-not-syncing",
        }
    }

    /// One line saying what the scenario does.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::Healthy => "a healthy cluster, nothing broken",
            Self::DeadMasterNoReplica => {
                "a master without replica is killed (SIGKILL): its slots are down, CLUSTERDOWN"
            }
            Self::DeadMasterFailover => {
                "a master with a replica is killed; the replica is promoted after node-timeout"
            }
            Self::InterruptedReshard => {
                "a slot move stopped halfway: IMPORTING/MIGRATING set, keys on both sides"
            }
            Self::MigratingOnly => "a slot left MIGRATING on its owner, the target never set",
            Self::ImportingOnly => "a slot left IMPORTING on a non-owner, the source never set",
            Self::DeletedSlots => "100 slots deleted (DELSLOTSRANGE) on every node: CLUSTERDOWN",
            Self::FullCoverageOff => {
                "cluster-require-full-coverage no and 100 deleted slots: state ok, keys unreachable"
            }
            Self::NodeMustRejoin => {
                "a master with slots and its replica were forgotten (CLUSTER FORGET) by every \
                 peer; needs CLUSTER MEET"
            }
            Self::StoppedNode => "a master is paused (SIGSTOP): TCP accepts, nothing answers",
            Self::ReplicaNotSyncing => {
                "a replica's masterauth is wrong: its link is down, the cluster still says ok"
            }
            Self::MajorityLost => {
                "most masters (those without replica) are killed: the survivors are a minority"
            }
        }
    }

    /// Look a scenario up by its name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::all().iter().copied().find(|s| s.name() == name)
    }

    /// The topology this scenario needs, derived from `base`.
    #[must_use]
    pub fn lab_options(self, base: LabOptions) -> LabOptions {
        match self {
            Self::DeadMasterNoReplica => LabOptions {
                unreplicated_masters: base.unreplicated_masters.max(1),
                ..base
            },
            Self::DeadMasterFailover | Self::ReplicaNotSyncing | Self::NodeMustRejoin => {
                LabOptions {
                    replicas_per_master: base.replicas_per_master.max(1),
                    unreplicated_masters: base
                        .unreplicated_masters
                        .min(base.masters.saturating_sub(1)),
                    ..base
                }
            }
            // The killed majority has no replica (nothing can take over for it); the
            // surviving minority keeps its replicas, so the repaired cluster can be healthy.
            Self::MajorityLost => LabOptions {
                replicas_per_master: base.replicas_per_master.max(1),
                unreplicated_masters: base.masters / 2 + 1,
                ..base
            },
            _ => base,
        }
    }

    /// Start a lab with [`Scenario::lab_options`] and inject the fault.
    ///
    /// # Errors
    /// The lab does not start or the fault does not become visible in time.
    pub fn start(self, base: LabOptions) -> Result<(Lab, ScenarioReport), LabError> {
        let mut lab = Lab::start(self.lab_options(base))?;
        let report = self.inject(&mut lab)?;
        Ok((lab, report))
    }

    /// Break `lab` and wait until the fault is visible.
    ///
    /// # Errors
    /// The lab lacks the topology this scenario needs (see [`Scenario::lab_options`]), a command
    /// fails, or the fault does not settle in time.
    pub fn inject(self, lab: &mut Lab) -> Result<ScenarioReport, LabError> {
        let mut r = ScenarioReport::new(self);
        match self {
            Self::Healthy => {
                wait_state_everywhere(lab, "ok")?;
                r.actions.push("nothing broken".into());
            }
            Self::DeadMasterNoReplica => kill_lonely_master(lab, &mut r)?,
            Self::DeadMasterFailover => kill_replicated_master(lab, &mut r)?,
            Self::MajorityLost => kill_majority(lab, &mut r)?,
            Self::InterruptedReshard | Self::MigratingOnly | Self::ImportingOnly => {
                open_slot(lab, self, &mut r)?;
            }
            Self::DeletedSlots | Self::FullCoverageOff => {
                if self == Self::FullCoverageOff {
                    for i in lab.running() {
                        lab.cmd(i, &["CONFIG", "SET", "cluster-require-full-coverage", "no"])?;
                    }
                    r.actions
                        .push("CONFIG SET cluster-require-full-coverage no on every node".into());
                }
                delete_slots(lab, &mut r)?;
                let want = if self == Self::FullCoverageOff {
                    "ok"
                } else {
                    "fail"
                };
                wait_state_everywhere(lab, want)?;
            }
            Self::NodeMustRejoin => forget_everywhere(lab, &mut r)?,
            Self::ReplicaNotSyncing => break_replication(lab, &mut r)?,
            Self::StoppedNode => pause_master(lab, &mut r)?,
        }
        Ok(r)
    }
}

/// Kill a master that has no replica; the cluster goes down.
fn kill_lonely_master(lab: &mut Lab, r: &mut ScenarioReport) -> Result<(), LabError> {
    let victim = master_where(lab, |lab, m| lab.replicas_of(m).is_empty())
        .ok_or_else(|| needs("a master without replica"))?;
    record_master(lab, victim, r);
    lab.kill(victim)?;
    r.actions.push(format!(
        "killed master {victim} ({}) with SIGKILL; it has no replica",
        lab.endpoint(victim)
    ));
    wait_flag_everywhere(lab, victim, "fail")?;
    wait_state_everywhere(lab, "fail")?;
    Ok(())
}

/// Kill a master that has a replica and wait for its promotion.
fn kill_replicated_master(lab: &mut Lab, r: &mut ScenarioReport) -> Result<(), LabError> {
    let victim = master_where(lab, |lab, m| !lab.replicas_of(m).is_empty())
        .ok_or_else(|| needs("a master with a replica"))?;
    record_master(lab, victim, r);
    lab.kill(victim)?;
    r.actions.push(format!(
        "killed master {victim} ({}) with SIGKILL",
        lab.endpoint(victim)
    ));
    let promoted = wait_promotion(lab, victim)?;
    r.promoted = Some(promoted);
    r.actions.push(format!(
        "replica {promoted} ({}) was promoted",
        lab.endpoint(promoted)
    ));
    wait_flag_everywhere(lab, victim, "fail")?;
    wait_state_everywhere(lab, "ok")?;
    Ok(())
}

/// Kill a majority of the masters, those without replica (the last ones).
fn kill_majority(lab: &mut Lab, r: &mut ScenarioReport) -> Result<(), LabError> {
    let masters = lab.master_indices();
    let victims: Vec<usize> = masters
        .iter()
        .copied()
        .rev()
        .take(masters.len() / 2 + 1)
        .rev()
        .collect();
    for &v in &victims {
        record_master(lab, v, r);
    }
    for &v in &victims {
        lab.kill(v)?;
        r.actions
            .push(format!("killed master {v} ({})", lab.endpoint(v)));
    }
    wait_state_everywhere(lab, "fail")?;
    Ok(())
}

/// Make every other node forget a master and its replicas (a replica cannot forget its own
/// master, and would gossip it back): the shard stays whole but outside the cluster.
fn forget_everywhere(lab: &mut Lab, r: &mut ScenarioReport) -> Result<(), LabError> {
    let victim = master_where(lab, |_, _| true).ok_or_else(|| needs("a master"))?;
    record_master(lab, victim, r);
    let shard: Vec<usize> = std::iter::once(victim)
        .chain(lab.replicas_of(victim))
        .collect();
    r.affected.extend(shard.iter().skip(1));
    let ids: Vec<String> = shard.iter().map(|&i| lab.node_id(i).to_owned()).collect();
    let id = ids[0].clone();
    let others: Vec<usize> = lab
        .running()
        .into_iter()
        .filter(|i| !shard.contains(i))
        .collect();
    // Redis 8 and Valkey undo a MEET of a forgotten id until its ban ends (60 s; Valkey:
    // `cluster-blacklist-ttl`, shortened here); the fault is injected once the ban is over.
    let ban = forget_ban(lab, &others);
    // FORGET bans the id on each node; send it everywhere quickly so no peer gossips the node
    // back in.
    for &i in &others {
        for forgotten in &ids {
            lab.cmd(i, &["CLUSTER", "FORGET", forgotten])?;
        }
    }
    let banned_at = std::time::Instant::now();
    r.actions.push(format!(
        "CLUSTER FORGET {} (master {victim}, {}) and its {} replica(s) on all {} other nodes",
        &id[..id.len().min(8)],
        lab.endpoint(victim),
        shard.len() - 1,
        others.len()
    ));
    lab.wait_until(
        "every peer to have forgotten the shard",
        settle(lab),
        |lab| {
            for &i in &others {
                if lab.cluster_nodes(i)?.iter().any(|p| ids.contains(&p.id)) {
                    return Ok(Err(format!("node {i} still lists it")));
                }
            }
            Ok(Ok(()))
        },
    )?;
    wait_state_on(lab, &others, "fail")?;
    if let Some(ban) = ban {
        std::thread::sleep((ban + Duration::from_secs(1)).saturating_sub(banned_at.elapsed()));
        r.actions
            .push(format!("waited out the {}s FORGET ban", ban.as_secs()));
    }
    Ok(())
}

/// How long the peers will undo a MEET of a node they just forgot: `None` on Redis 7 (it
/// does not), a few seconds on Valkey (the ban is shortened with `cluster-blacklist-ttl`),
/// 60 s on Redis 8.
fn forget_ban(lab: &Lab, peers: &[usize]) -> Option<Duration> {
    if lab.server_name() == "valkey" {
        let ok = peers.iter().all(|&i| {
            lab.cmd(i, &["CONFIG", "SET", "cluster-blacklist-ttl", "2"])
                .is_ok()
        });
        return Some(Duration::from_secs(if ok { 2 } else { 60 }));
    }
    let info = lab.query(0, &["INFO", "server"]).unwrap_or_default();
    let major = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("redis_version:"))
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    (major >= 8).then_some(Duration::from_secs(60))
}

/// Lock a replica out of its master with a wrong `masterauth`.
fn break_replication(lab: &mut Lab, r: &mut ScenarioReport) -> Result<(), LabError> {
    let master = master_where(lab, |lab, m| !lab.replicas_of(m).is_empty())
        .ok_or_else(|| needs("a master with a replica"))?;
    let replica = lab
        .replicas_of(master)
        .first()
        .copied()
        .ok_or_else(|| needs("a replica"))?;
    r.affected = vec![replica, master];
    r.actions.push(format!(
        "CONFIG SET masterauth <wrong password> on replica {replica} ({}), then \
         CLIENT KILL TYPE master: it cannot log in to master {master} ({}) again",
        lab.endpoint(replica),
        lab.endpoint(master)
    ));
    lab.cmd(
        replica,
        &["CONFIG", "SET", "masterauth", "not-the-password"],
    )?;
    lab.cmd(replica, &["CLIENT", "KILL", "TYPE", "master"])?;
    lab.wait_until("the replica's link to go down", settle(lab), |lab| {
        let info = lab.query(replica, &["INFO", "replication"])?;
        Ok(if info.contains("master_link_status:down") {
            Ok(())
        } else {
            Err("master_link_status still up".to_owned())
        })
    })?;
    wait_state_everywhere(lab, "ok")?;
    Ok(())
}

/// Pause the first master with SIGSTOP and wait for the cluster to react.
fn pause_master(lab: &mut Lab, r: &mut ScenarioReport) -> Result<(), LabError> {
    let victim = lab
        .master_indices()
        .first()
        .copied()
        .ok_or_else(|| needs("a master"))?;
    record_master(lab, victim, r);
    lab.stop(victim)?;
    r.actions.push(format!(
        "paused master {victim} ({}) with SIGSTOP",
        lab.endpoint(victim)
    ));
    wait_flag_everywhere(lab, victim, "fail")?;
    if lab.replicas_of(victim).is_empty() {
        wait_state_everywhere(lab, "fail")?;
    } else {
        let promoted = wait_promotion(lab, victim)?;
        r.promoted = Some(promoted);
        r.actions.push(format!(
            "replica {promoted} ({}) was promoted",
            lab.endpoint(promoted)
        ));
        wait_state_everywhere(lab, "ok")?;
    }
    Ok(())
}

fn needs(what: &str) -> LabError {
    LabError::Invalid(format!(
        "this lab has no {what}; start it with Scenario::lab_options"
    ))
}

/// How long a fault may take to settle: generous multiples of the node timeout.
fn settle(lab: &Lab) -> Duration {
    Duration::from_millis(lab.options().node_timeout_ms.saturating_mul(10))
        + Duration::from_secs(30)
}

/// The last created master that satisfies `pred` (the last ones are the unreplicated ones).
fn master_where(lab: &Lab, pred: impl Fn(&Lab, usize) -> bool) -> Option<usize> {
    lab.master_indices()
        .into_iter()
        .rev()
        .find(|&m| pred(lab, m))
}

/// Note a master's slots and key count before it is broken.
fn record_master(lab: &Lab, m: usize, r: &mut ScenarioReport) {
    r.affected.push(m);
    if let Some(range) = lab.initial_slots(m) {
        r.slots.push(range);
    }
    if let Ok(n) = lab.dbsize(m) {
        r.keys_by_node.insert(m, n);
    }
}

fn wait_state_everywhere(lab: &Lab, want: &str) -> Result<(), LabError> {
    wait_state_on(lab, &lab.running(), want)
}

fn wait_state_on(lab: &Lab, nodes: &[usize], want: &str) -> Result<(), LabError> {
    lab.wait_until(
        &format!("cluster_state:{want} on nodes {nodes:?}"),
        settle(lab),
        |lab| {
            for &i in nodes {
                let s = lab.cluster_state(i)?;
                if s != want {
                    return Ok(Err(format!("node {i} says cluster_state:{s}")));
                }
            }
            Ok(Ok(()))
        },
    )
}

/// Wait until every running node shows `flag` on `target`.
fn wait_flag_everywhere(lab: &Lab, target: usize, flag: &str) -> Result<(), LabError> {
    let observers: Vec<usize> = lab.running().into_iter().filter(|&i| i != target).collect();
    lab.wait_until(
        &format!("every node to flag node {target} {flag}"),
        settle(lab),
        |lab| {
            for &i in &observers {
                let flags = lab.flags_seen_by(i, target)?;
                if !flags.iter().any(|f| f == flag) {
                    return Ok(Err(format!("node {i} shows {}", flags.join(","))));
                }
            }
            Ok(Ok(()))
        },
    )
}

/// Wait until one of `victim`'s replicas reports role master and every running node sees it
/// as a master with slots. Returns its index.
fn wait_promotion(lab: &Lab, victim: usize) -> Result<usize, LabError> {
    let replicas = lab.replicas_of(victim);
    let mut promoted = None;
    lab.wait_until(
        &format!("a replica of node {victim} to be promoted"),
        settle(lab),
        |lab| {
            for &c in &replicas {
                if lab.current_role(c)? == "master" {
                    let id = lab.node_id(c).to_owned();
                    for i in lab.running() {
                        let seen = lab.cluster_nodes(i)?;
                        let ok = seen
                            .iter()
                            .any(|p| p.id == id && p.has_flag("master") && !p.slots.is_empty());
                        if !ok {
                            return Ok(Err(format!("node {i} has not seen node {c} promoted")));
                        }
                    }
                    promoted = Some(c);
                    return Ok(Ok(()));
                }
            }
            Ok(Err("no replica is master yet".into()))
        },
    )?;
    promoted.ok_or_else(|| LabError::Invalid("promotion seen but not recorded".into()))
}

/// A slot inside master `m`'s initial range, away from its edges.
fn slot_of_master(lab: &Lab, m: usize) -> Result<Slot, LabError> {
    let range = lab
        .initial_slots(m)
        .ok_or_else(|| needs("slot-owning master"))?;
    let offset = u16::try_from((range.len() / 2).min(777)).unwrap_or(0);
    Ok(range.start + offset)
}

fn open_slot(lab: &mut Lab, scenario: Scenario, r: &mut ScenarioReport) -> Result<(), LabError> {
    let masters = lab.master_indices();
    let (Some(&src), Some(&dst)) = (masters.first(), masters.get(1)) else {
        return Err(needs("pair of masters"));
    };
    let slot = slot_of_master(lab, src)?;
    let s = slot.to_string();
    let (src_id, dst_id) = (lab.node_id(src).to_owned(), lab.node_id(dst).to_owned());
    lab.write_keys_in_slot(slot, OPEN_SLOT_KEYS)?;
    let keys = lab.written_in_slot(slot);
    r.affected = vec![src, dst];
    r.slots = vec![SlotRange::single(slot)];
    r.actions.push(format!(
        "wrote keys into slot {slot} (owned by master {src}): {} keys in the slot",
        keys.len()
    ));
    if scenario != Scenario::MigratingOnly {
        lab.cmd(dst, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &src_id])?;
        r.actions.push(format!(
            "CLUSTER SETSLOT {slot} IMPORTING <master {src}> on master {dst} ({})",
            lab.endpoint(dst)
        ));
    }
    if scenario != Scenario::ImportingOnly {
        lab.cmd(src, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &dst_id])?;
        r.actions.push(format!(
            "CLUSTER SETSLOT {slot} MIGRATING <master {dst}> on master {src} ({})",
            lab.endpoint(src)
        ));
    }
    if scenario == Scenario::InterruptedReshard {
        // Move 40 % of the keys, then stop as if the operator's terminal died.
        let n_move = (keys.len() * 2 / 5).clamp(1, keys.len().saturating_sub(1).max(1));
        let moving: Vec<&str> = keys.iter().take(n_move).map(String::as_str).collect();
        let port = lab.endpoint(dst).port.to_string();
        let mut args: Vec<&str> = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000"];
        let pw = lab.password().map(str::to_owned);
        if let Some(pw) = pw.as_deref() {
            args.extend(["AUTH", pw]);
        }
        args.push("KEYS");
        args.extend(moving.iter().copied());
        lab.cmd_with_timeout(src, &args, super::conn::LONG)?;
        r.actions.push(format!(
            "MIGRATE of {n_move} of {} keys from master {src} to master {dst}, then stopped",
            keys.len()
        ));
    }
    for m in [src, dst] {
        r.keys_by_node.insert(m, lab.count_keys_in_slot(m, slot)?);
    }
    // The replicas of both sides hold what their master holds before the scenario counts as
    // injected: whoever looks next (a test, the dashboard) must see the fault, not the tail of
    // the replication stream.
    lab.wait_replicas_caught_up()?;
    Ok(())
}

/// Delete `DELETED_SLOTS` slots of the first master on every node (owner first, then its
/// replicas, then the rest, so no view re-learns them from gossip), and wait until no node
/// binds them.
fn delete_slots(lab: &Lab, r: &mut ScenarioReport) -> Result<(), LabError> {
    let owner = lab
        .master_indices()
        .first()
        .copied()
        .ok_or_else(|| needs("master"))?;
    let range = lab
        .initial_slots(owner)
        .ok_or_else(|| needs("slot-owning master"))?;
    let start = range.start;
    let end = start + DELETED_SLOTS.min(u16::try_from(range.len()).unwrap_or(1)) - 1;
    let deleted = SlotRange::new(start, end);
    let mut order = vec![owner];
    order.extend(lab.replicas_of(owner));
    let rest: Vec<usize> = lab
        .running()
        .into_iter()
        .filter(|i| !order.contains(i))
        .collect();
    order.extend(rest);
    let keys = deleted
        .iter()
        .map(|s| lab.count_keys_in_slot(owner, s).unwrap_or(0))
        .sum();
    r.affected = vec![owner];
    r.slots = vec![deleted];
    r.keys_by_node.insert(owner, keys);
    let clear = |lab: &Lab, i: usize| -> Result<bool, LabError> {
        // DELSLOTS only the slots this node still binds (DELSLOTSRANGE refuses unbound ones).
        let bound: Vec<String> = lab
            .cluster_nodes(i)?
            .iter()
            .flat_map(|p| deleted.iter().filter(|&s| p.owns(s)).collect::<Vec<_>>())
            .map(|s| s.to_string())
            .collect();
        if bound.is_empty() {
            return Ok(false);
        }
        let mut args = vec!["CLUSTER", "DELSLOTS"];
        args.extend(bound.iter().map(String::as_str));
        lab.cmd(i, &args)?;
        Ok(true)
    };
    for &i in &order {
        clear(lab, i)?;
    }
    r.actions.push(format!(
        "CLUSTER DELSLOTSRANGE {} on master {owner} ({}), its replicas and every other node; \
         {keys} keys stay stored on master {owner}",
        format_ranges(&[deleted]).replace('-', " "),
        lab.endpoint(owner)
    ));
    lab.wait_until("no node to bind the deleted slots", settle(lab), |lab| {
        let mut again = Vec::new();
        for &i in &order {
            if clear(lab, i)? {
                again.push(i);
            }
        }
        if again.is_empty() {
            Ok(Ok(()))
        } else {
            Ok(Err(format!("nodes {again:?} bound them again")))
        }
    })
}
