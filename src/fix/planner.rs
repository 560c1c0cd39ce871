//! The pure planner: from a [`ClusterModel`] (and the findings of its diagnosis) to a list of
//! [`FixPlan`]s. No I/O. The same plans feed the dashboard and `slotscope fix`.
//!
//! Differences from `redis-cli --cluster fix` (see `redis-cluster.md` §3-4), on purpose:
//! - the direction of a half-moved slot follows the markers' intent, and both directions are
//!   offered, with the key counts on each side;
//! - stabilising is offered only when it orphans no key;
//! - uncovered slots go back to the one master holding their keys; empty ones are handed out in
//!   contiguous, even ranges (never per-second random fragments);
//! - the slots of a dead master are never handed out silently: failover on a chosen replica is
//!   preferred, and reassigning needs a typed confirmation that names the number of slots.

use std::collections::{BTreeMap, BTreeSet};

use crate::cluster::model::{ClusterModel, NodeSummary, OpenSlot, Reachability, Role, SlotState};
use crate::cluster::types::{
    Endpoint, NodeId, ProbeError, SLOT_COUNT, Slot, SlotRange, format_ranges, ranges_len,
    slots_to_ranges,
};
use crate::cluster::{Finding, FindingKind};

use super::{
    Check, Condition, Confirmation, DEFAULT_MIGRATE_BATCH, DEFAULT_MIGRATE_TIMEOUT_MS, FixPlan,
    FixStep, KeyEstimate, KeysAtRisk, PlanKind, Risk, StepAction,
};

/// How long a plan waits for gossip to settle after a step that needs it.
const SETTLE_TIMEOUT_MS: u64 = 15_000;

/// What the user selected in the dashboard, to narrow the plans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every plan.
    All,
    /// Plans touching this slot.
    Slot(Slot),
    /// Plans touching this node.
    Node(NodeId),
    /// Plans answering this kind of finding.
    Finding(FindingKind),
}

/// Every plan for the current state of the cluster.
#[must_use]
pub fn plan_fixes(model: &ClusterModel, findings: &[Finding]) -> Vec<FixPlan> {
    let mut p = Planner {
        model,
        findings,
        plans: Vec::new(),
    };
    p.not_cluster();
    p.open_slots();
    p.failed_masters();
    p.unclaimed_and_uncovered();
    p.disputes();
    p.meet();
    p.forget();
    p.coverage();
    p.replica_links();
    let mut seen = BTreeSet::new();
    p.plans.retain(|plan| seen.insert(plan.id.clone()));
    p.plans
}

/// The plans touching a selected slot, node or finding kind.
#[must_use]
pub fn plan_fixes_for(model: &ClusterModel, findings: &[Finding], scope: &Scope) -> Vec<FixPlan> {
    plan_fixes(model, findings)
        .into_iter()
        .filter(|plan| match scope {
            Scope::All => true,
            Scope::Slot(s) => plan.slots.iter().any(|r| r.contains(*s)),
            Scope::Node(id) => plan.nodes.contains(id),
            Scope::Finding(kind) => plan.finding == Some(*kind),
        })
        .collect()
}

/// A dissenting node, the slots it disagrees on, and the owner it believes in.
type Dissent = (NodeId, Vec<SlotRange>, Option<NodeId>);

struct Planner<'a> {
    model: &'a ClusterModel,
    findings: &'a [Finding],
    plans: Vec<FixPlan>,
}

/// The endpoint to send commands to.
fn endpoint_of(n: &NodeSummary) -> Option<Endpoint> {
    n.endpoint.clone().or_else(|| n.addr.endpoint())
}

/// Reachable, answering, non-failing cluster node with an id and an endpoint.
fn is_live(n: &NodeSummary) -> bool {
    matches!(n.reachability, Reachability::Ok)
        && n.own_line.is_some()
        && n.id.is_some()
        && endpoint_of(n).is_some()
        && !n.flags.fail
        && n.peers.fail_by.is_empty()
}

fn is_live_master(n: &NodeSummary) -> bool {
    is_live(n) && n.role == Role::Master
}

fn short(id: &NodeId) -> &str {
    id.short()
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn u64_of(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Arguments `start end start end …` for ADDSLOTSRANGE / DELSLOTSRANGE.
fn range_args(cmd: &str, ranges: &[SlotRange]) -> Vec<String> {
    let mut v = vec!["CLUSTER".to_owned(), cmd.to_owned()];
    for r in ranges {
        v.push(r.start.to_string());
        v.push(r.end.to_string());
    }
    v
}

fn cmd_step(ep: Endpoint, id: Option<NodeId>, args: Vec<String>, description: String) -> FixStep {
    FixStep {
        endpoint: ep,
        node_id: id,
        action: StepAction::Command {
            args,
            tolerate: Vec::new(),
        },
        description,
    }
}

fn wait_step(ep: Endpoint, condition: Condition, description: String) -> FixStep {
    FixStep {
        endpoint: ep,
        node_id: None,
        action: StepAction::WaitFor {
            condition,
            timeout_ms: SETTLE_TIMEOUT_MS,
        },
        description,
    }
}

/// Split `slots` (ascending) into `k` contiguous chunks whose sizes differ by at most one.
fn even_chunks(slots: &[Slot], k: usize) -> Vec<Vec<Slot>> {
    if k == 0 {
        return Vec::new();
    }
    let base = slots.len() / k;
    let extra = slots.len() % k;
    let mut out = Vec::with_capacity(k);
    let mut at = 0;
    for i in 0..k {
        let len = base + usize::from(i < extra);
        out.push(
            slots
                .get(at..at + len)
                .map(<[Slot]>::to_vec)
                .unwrap_or_default(),
        );
        at += len;
    }
    out
}

/// What `viewer` believes is the owner of `slot`: the consensus unless a recorded
/// disagreement of that node says otherwise.
#[must_use]
pub fn view_owner(model: &ClusterModel, viewer: &NodeId, slot: Slot) -> Option<NodeId> {
    for d in &model.disagreements {
        if &d.node == viewer && d.slots.iter().any(|r| r.contains(slot)) {
            return d.its_owner.clone();
        }
    }
    model.owner_of(slot).and_then(|n| n.id.clone())
}

impl Planner<'_> {
    fn label(&self, id: &NodeId) -> String {
        self.model
            .node(id)
            .map_or_else(|| id.short().to_owned(), NodeSummary::label)
    }

    /// The summary of the first finding of `kind` touching `slots` or `node`, if any.
    fn why(
        &self,
        kinds: &[FindingKind],
        slots: &[SlotRange],
        node: Option<&NodeId>,
    ) -> Option<String> {
        self.findings
            .iter()
            .filter(|f| kinds.contains(&f.kind))
            .find(|f| {
                let slot_hit = slots
                    .iter()
                    .any(|r| f.slots.iter().any(|fr| fr.overlaps(r)));
                let node_hit = node.is_some_and(|n| f.nodes.contains(n));
                slot_hit || node_hit || (slots.is_empty() && node.is_none())
            })
            .map(|f| f.summary.clone())
    }

    fn live_masters(&self) -> Vec<&NodeSummary> {
        self.model
            .nodes
            .iter()
            .filter(|n| is_live_master(n))
            .collect()
    }

    /// Slot-owning masters and how many of them are live: (live, total).
    fn master_majority(&self) -> (usize, usize) {
        let owners: Vec<&NodeSummary> = self
            .model
            .nodes
            .iter()
            .filter(|n| n.role == Role::Master && !n.claimed_slots.is_empty())
            .collect();
        let live = owners.iter().filter(|n| is_live(n)).count();
        (live, owners.len())
    }

    /// Keys that `nslots` slots would hold at the live masters' average density: every live
    /// master with a known key count and at least one slot of its own counts. `None` when no
    /// such master exists.
    fn keys_per_slot_estimate(&self, nslots: u64) -> Option<KeyEstimate> {
        let (keys, slots) = self
            .live_masters()
            .iter()
            .filter_map(|m| {
                let keys = m.info.as_ref().and_then(|i| i.keys)?;
                let slots = u64_of(m.own_line.as_ref()?.slot_count());
                (slots > 0).then_some((keys, slots))
            })
            .fold((0u64, 0u64), |(k, s), (mk, ms)| {
                (k.saturating_add(mk), s.saturating_add(ms))
            });
        if slots == 0 {
            return None;
        }
        let est =
            (u128::from(keys) * u128::from(nslots) + u128::from(slots) / 2) / u128::from(slots);
        Some(KeyEstimate {
            keys: u64::try_from(est).unwrap_or(u64::MAX),
            basis: format!(
                "if it held as many keys per slot as the live masters ({} in {} slots)",
                plural(keys, "key", "keys"),
                slots
            ),
        })
    }

    // ---------------------------------------------------------------- 9. not a cluster

    fn not_cluster(&mut self) {
        for n in &self.model.nodes {
            let Reachability::Failed(ProbeError::NotCluster { version }) = &n.reachability else {
                continue;
            };
            let Some(ep) = endpoint_of(n) else { continue };
            let ver = version.as_deref().unwrap_or("unknown version");
            self.plans.push(FixPlan {
                id: format!("not-cluster-{}-{}", ep.host, ep.port),
                kind: PlanKind::NotClusterAdvice,
                title: format!("{ep} is a plain Redis server, not a cluster node"),
                why: self
                    .why(&[FindingKind::NotCluster], &[], n.id.as_ref())
                    .unwrap_or_else(|| {
                        format!("{ep} (Redis {ver}) answers with cluster_enabled:0")
                    }),
                finding: Some(FindingKind::NotCluster),
                group: None,
                recommended: true,
                slots: Vec::new(),
                nodes: n.id.iter().cloned().collect(),
                steps: Vec::new(),
                advice: vec![
                    "This server runs without cluster support, so it has no slots, no \
                     CLUSTER commands and no CLUSTERDOWN state of its own."
                        .to_owned(),
                    "If it should be a cluster node: add to its redis.conf".to_owned(),
                    "    cluster-enabled yes".to_owned(),
                    format!("    cluster-config-file nodes-{}.conf", ep.port),
                    "    cluster-node-timeout 5000".to_owned(),
                    "then restart it (its database must be empty or only use db 0), and join \
                     it with CLUSTER MEET from a cluster node or create the cluster with \
                     redis-cli --cluster create."
                        .to_owned(),
                    "If you pointed slotscope at the wrong port, give it a seed of the cluster."
                        .to_owned(),
                ],
                risk: Risk::default(),
                preconditions: Vec::new(),
                expected: Vec::new(),
                confirmation: Confirmation::Simple,
            });
        }
    }

    // ---------------------------------------------------------------- replication links

    /// Advice for each replica whose replication link is down or still in a full sync. Nothing
    /// is sent: the fix (the master's password, the network, the sync limits) is outside the
    /// cluster bus, and slotscope does not know the right password for the replica.
    fn replica_links(&mut self) {
        for f in self
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ReplicaNotSyncing)
        {
            let (Some(rid), Some(mid)) = (f.nodes.first(), f.nodes.get(1)) else {
                continue;
            };
            let (Some(r), Some(m)) = (self.model.node(rid), self.model.node(mid)) else {
                continue;
            };
            let (Some(rep), Some(mas)) = (endpoint_of(r), endpoint_of(m)) else {
                continue;
            };
            let cli = |args: &str| format!("    redis-cli -h {} -p {} {args}", rep.host, rep.port);
            let syncing = r.info.as_ref().and_then(|i| i.master_sync_in_progress) == Some(true);
            let advice = if syncing {
                vec![
                    format!(
                        "{rep} is copying {mas} (full sync). Nothing to do while it progresses; \
                         slotscope shows master_link_status:up once it has caught up."
                    ),
                    "If the sync keeps restarting, the replica's log and the master's log say \
                     why: most often the master's client-output-buffer-limit for replicas or \
                     repl-backlog-size is too small for the write rate, or the replica runs out \
                     of memory or disk while loading."
                        .to_owned(),
                    "Watch it with:".to_owned(),
                    cli("INFO replication"),
                ]
            } else {
                vec![
                    format!(
                        "{rep} cannot replicate from {mas}. Its log says why (e.g. \
                         \"Unable to AUTH to MASTER\", \"Error condition on socket for SYNC\")."
                    ),
                    format!(
                        "If {mas} requires a password (requirepass or an ACL user), give the \
                         replica that password:"
                    ),
                    cli("CONFIG SET masterauth <password of the master>"),
                    "and, only when the master uses an ACL user for replicas:".to_owned(),
                    cli("CONFIG SET masteruser <ACL user>"),
                    "then keep it across restarts:".to_owned(),
                    cli("CONFIG REWRITE"),
                    format!(
                        "Otherwise check that the replica's host reaches {mas} (the address in \
                         CLUSTER NODES). The replica retries every second on its own; slotscope \
                         shows master_link_status:up once it is back."
                    ),
                ]
            };
            self.plans.push(FixPlan {
                id: format!("replica-link-{}", rid.short()),
                kind: PlanKind::ReplicaLinkAdvice,
                title: if syncing {
                    format!("Let {rep} finish its full sync from {mas}")
                } else {
                    format!("Restore replication of {rep} from {mas}")
                },
                why: f.summary.clone(),
                finding: Some(FindingKind::ReplicaNotSyncing),
                group: None,
                recommended: true,
                slots: Vec::new(),
                nodes: vec![rid.clone(), mid.clone()],
                steps: Vec::new(),
                advice,
                risk: Risk::default(),
                preconditions: Vec::new(),
                expected: Vec::new(),
                confirmation: Confirmation::Simple,
            });
        }
    }

    // ---------------------------------------------------------------- 1/2. open slots

    fn open_slots(&mut self) {
        for o in &self.model.open_slots {
            self.open_slot(o);
        }
    }

    fn open_slot(&mut self, o: &OpenSlot) {
        let s = o.slot;
        let slots = vec![SlotRange::single(s)];
        let why = self
            .why(&[FindingKind::OpenSlot], &slots, None)
            .unwrap_or_else(|| self.describe_open(o));
        let keys_on = |id: &NodeId| o.keys.get(id).copied().unwrap_or(0);

        // Only replicas carry markers: nothing to run on masters.
        if o.migrating.is_empty() && o.importing.is_empty() {
            if !o.on_replicas.is_empty() {
                self.replica_marker_advice(o, why);
            }
            return;
        }

        // Work out the pair (source, target).
        let owner = o.owner.clone();
        let pair = match (o.migrating.as_slice(), o.importing.as_slice()) {
            ([(src, dst)], []) => Some((src.clone(), dst.clone())),
            ([], [(dst, src)]) => Some((src.clone(), dst.clone())),
            ([(src, dst)], [(idst, isrc)]) if src == isrc && dst == idst => {
                Some((src.clone(), dst.clone()))
            }
            _ => None,
        };
        let Some((src, dst)) = pair else {
            self.complex_open_advice(o, why);
            return;
        };
        let (Some(src_n), Some(dst_n)) = (self.model.node(&src), self.model.node(&dst)) else {
            self.complex_open_advice(o, why);
            return;
        };
        let (Some(src_ep), Some(dst_ep)) = (endpoint_of(src_n), endpoint_of(dst_n)) else {
            self.complex_open_advice(o, why);
            return;
        };
        let src_keys = keys_on(&src);
        let dst_keys = keys_on(&dst);
        // Keys a close plan would orphan on `side` (the node that loses the slot's keys):
        // unknown, never 0, when COUNTKEYSINSLOT did not answer there.
        let orphan_risk = |side: &NodeId| {
            if o.keys.contains_key(side) {
                KeysAtRisk::Known(0)
            } else {
                KeysAtRisk::unknown(
                    format!(
                        "the key count of slot {s} on {} could not be read",
                        self.label(side)
                    ),
                    None,
                )
            }
        };
        // Keys on any other master (not source, not target) in this slot: a different problem.
        let stray: u64 = o
            .keys
            .iter()
            .filter(|(id, _)| **id != src && **id != dst)
            .map(|(_, c)| *c)
            .sum();
        let src_marked = o.migrating.iter().any(|(n, _)| n == &src);
        let dst_marked = o.importing.iter().any(|(n, _)| n == &dst);
        let owner_is_src = owner.as_ref() == Some(&src);
        let both_live = is_live_master(src_n) && is_live_master(dst_n);

        // Preconditions shared by every plan for this slot: markers exactly as observed.
        let mut pre: Vec<Check> = Vec::new();
        if src_marked {
            pre.push(Check::new(
                format!(
                    "slot {s} still migrating on {} to {}",
                    self.label(&src),
                    self.label(&dst)
                ),
                Condition::SlotMigrating {
                    slot: s,
                    node: src.clone(),
                    to: dst.clone(),
                },
            ));
        } else {
            pre.push(Check::new(
                format!("slot {s} still has no marker on {}", self.label(&src)),
                Condition::SlotNotMarkedOn {
                    slot: s,
                    node: src.clone(),
                },
            ));
        }
        if dst_marked {
            pre.push(Check::new(
                format!(
                    "slot {s} still importing on {} from {}",
                    self.label(&dst),
                    self.label(&src)
                ),
                Condition::SlotImporting {
                    slot: s,
                    node: dst.clone(),
                    from: src.clone(),
                },
            ));
        } else {
            pre.push(Check::new(
                format!("slot {s} still has no marker on {}", self.label(&dst)),
                Condition::SlotNotMarkedOn {
                    slot: s,
                    node: dst.clone(),
                },
            ));
        }
        if let Some(ow) = &owner {
            pre.push(Check::new(
                format!("slot {s} still owned by {}", self.label(ow)),
                Condition::SlotsOwnedBy {
                    slots: slots.clone(),
                    node: ow.clone(),
                },
            ));
        }
        let group = format!("open-slot-{s}");
        let mut nodes = vec![src.clone(), dst.clone()];
        nodes.dedup();

        // Both markers name the same pair and both nodes are healthy: someone meant to move the
        // slot. With no key moved yet, closing is safe but completing follows that intent, so
        // both are offered and completing is the default.
        let move_intended = src_marked && dst_marked && both_live;
        // The close plan when it is offered beside "complete" (pushed after it).
        let mut close_alternative: Option<FixPlan> = None;

        // 1. No key split: the target holds none of the slot's keys → close the markers.
        if dst_keys == 0 && stray == 0 && owner_is_src {
            let mut steps = Vec::new();
            for (n, ep, marked) in [(&src, &src_ep, src_marked), (&dst, &dst_ep, dst_marked)] {
                if marked {
                    steps.push(cmd_step(
                        ep.clone(),
                        Some(n.clone()),
                        vec![
                            "CLUSTER".into(),
                            "SETSLOT".into(),
                            s.to_string(),
                            "STABLE".into(),
                        ],
                        format!("clear the marker of slot {s} on {}", self.label(n)),
                    ));
                }
            }
            let mut pre = pre.clone();
            pre.push(Check::new(
                format!("{} still reachable", self.label(&src)),
                Condition::NodeReachable { node: src.clone() },
            ));
            let at_risk = orphan_risk(&dst);
            let mut notes = vec![if at_risk.may_lose_keys() {
                format!(
                    "the keys of slot {s} on {} could not be counted: any key it holds there \
                     is orphaned when its marker is cleared",
                    self.label(&dst)
                )
            } else {
                format!(
                    "{} keys stay on {}; {} holds none of them, so no key is orphaned.",
                    src_keys,
                    self.label(&src),
                    self.label(&dst)
                )
            }];
            if move_intended {
                notes.push(format!(
                    "both markers say slot {s} was meant to move to {}: closing abandons that \
                     move (completing it is the default)",
                    self.label(&dst)
                ));
            }
            let close = FixPlan {
                id: format!("stabilise-slot-{s}"),
                kind: PlanKind::StabiliseSlot,
                title: format!(
                    "Close slot {s}: no key was moved to {} yet, {} stays the owner",
                    self.label(&dst),
                    self.label(&src)
                ),
                why: why.clone(),
                finding: Some(FindingKind::OpenSlot),
                group: Some(group.clone()),
                recommended: !move_intended,
                slots: slots.clone(),
                nodes: nodes.clone(),
                steps,
                advice: Vec::new(),
                risk: Risk {
                    keys_at_risk: at_risk,
                    notes,
                    ..Risk::default()
                },
                preconditions: pre,
                expected: vec![
                    Check::new(
                        format!("slot {s} is no longer open"),
                        Condition::SlotsClosed {
                            slots: slots.clone(),
                        },
                    ),
                    Check::new(
                        format!("slot {s} served by {}", self.label(&src)),
                        Condition::SlotsServedBy {
                            slots: slots.clone(),
                            node: src.clone(),
                        },
                    ),
                ],
                confirmation: Confirmation::Simple,
            };
            if !move_intended {
                self.plans.push(close);
                return;
            }
            close_alternative = Some(close);
        }
        // 1b. Every key already on the target and the owner is the target: close the markers too.
        if src_keys == 0 && stray == 0 && owner.as_ref() == Some(&dst) {
            let mut steps = Vec::new();
            for (n, ep, marked) in [(&dst, &dst_ep, dst_marked), (&src, &src_ep, src_marked)] {
                if marked {
                    steps.push(cmd_step(
                        ep.clone(),
                        Some(n.clone()),
                        vec![
                            "CLUSTER".into(),
                            "SETSLOT".into(),
                            s.to_string(),
                            "STABLE".into(),
                        ],
                        format!("clear the marker of slot {s} on {}", self.label(n)),
                    ));
                }
            }
            self.plans.push(FixPlan {
                id: format!("stabilise-slot-{s}"),
                kind: PlanKind::StabiliseSlot,
                title: format!(
                    "Close slot {s}: it already belongs to {} with all its keys",
                    self.label(&dst)
                ),
                why,
                finding: Some(FindingKind::OpenSlot),
                group: Some(group),
                recommended: true,
                slots: slots.clone(),
                nodes,
                steps,
                advice: Vec::new(),
                risk: Risk {
                    keys_at_risk: orphan_risk(&src),
                    ..Risk::default()
                },
                preconditions: pre,
                expected: vec![
                    Check::new(
                        format!("slot {s} is no longer open"),
                        Condition::SlotsClosed {
                            slots: slots.clone(),
                        },
                    ),
                    Check::new(
                        format!("slot {s} served by {}", self.label(&dst)),
                        Condition::SlotsServedBy { slots, node: dst },
                    ),
                ],
                confirmation: Confirmation::Simple,
            });
            return;
        }
        if !both_live || stray > 0 || !owner_is_src {
            self.complex_open_advice(o, why);
            return;
        }

        // 2. Half-moved slot: complete (forward) or roll back.
        pre.push(Check::new(
            format!("{} still reachable", self.label(&src)),
            Condition::NodeReachable { node: src.clone() },
        ));
        pre.push(Check::new(
            format!("{} still reachable", self.label(&dst)),
            Condition::NodeReachable { node: dst.clone() },
        ));
        pre.push(Check::new(
            format!("{} still a master", self.label(&dst)),
            Condition::NodeIsMaster { node: dst.clone() },
        ));
        let split_note = format!(
            "keys in slot {s}: {} on {} (source), {} on {} (target)",
            src_keys,
            self.label(&src),
            dst_keys,
            self.label(&dst)
        );
        let busy_note = "a key present on both sides is never overwritten: both copies are \
                         compared with DUMP and the run stops if they differ"
            .to_owned();
        let src_slot_count = src_n.own_line.as_ref().map_or(0, |l| l.slot_count());

        // Complete: dst IMPORTING (if missing), src MIGRATING (if missing), move, NODE dst on
        // the target first, then the source, then every other master.
        let mut steps = Vec::new();
        if !dst_marked {
            steps.push(cmd_step(
                dst_ep.clone(),
                Some(dst.clone()),
                vec![
                    "CLUSTER".into(),
                    "SETSLOT".into(),
                    s.to_string(),
                    "IMPORTING".into(),
                    src.0.to_string(),
                ],
                format!("mark slot {s} importing on the target {}", self.label(&dst)),
            ));
        }
        if !src_marked {
            steps.push(cmd_step(
                src_ep.clone(),
                Some(src.clone()),
                vec![
                    "CLUSTER".into(),
                    "SETSLOT".into(),
                    s.to_string(),
                    "MIGRATING".into(),
                    dst.0.to_string(),
                ],
                format!("mark slot {s} migrating on the source {}", self.label(&src)),
            ));
        }
        steps.push(FixStep {
            endpoint: src_ep.clone(),
            node_id: Some(src.clone()),
            action: StepAction::MigrateSlotKeys {
                slot: s,
                from: src.clone(),
                to: dst.clone(),
                to_endpoint: dst_ep.clone(),
                batch: DEFAULT_MIGRATE_BATCH,
                timeout_ms: DEFAULT_MIGRATE_TIMEOUT_MS,
            },
            description: format!(
                "move the remaining keys of slot {s} (about {src_keys}) from {} to {}",
                self.label(&src),
                self.label(&dst)
            ),
        });
        steps.extend(self.bind_everywhere(s, &dst, &dst_ep, &src, &src_ep));
        let mut notes = vec![split_note.clone(), busy_note.clone()];
        if src_slot_count == 1 {
            notes.push(format!(
                "{} owns no other slot: it becomes a replica of {} when it loses this one \
                 (cluster-allow-replica-migration).",
                self.label(&src),
                self.label(&dst)
            ));
        }
        let intent_forward = src_marked || dst_marked;
        if dst_keys == 0 {
            notes.push(format!(
                "no key has moved yet: all {src_keys} key(s) of slot {s} go to {}",
                self.label(&dst)
            ));
        }
        self.plans.push(FixPlan {
            id: format!("complete-migration-{s}"),
            kind: PlanKind::CompleteMigration,
            title: format!(
                "Complete the move of slot {s}: {} keys from {} to {}",
                src_keys,
                self.label(&src),
                self.label(&dst)
            ),
            why: why.clone(),
            finding: Some(FindingKind::OpenSlot),
            group: Some(group.clone()),
            recommended: intent_forward,
            slots: slots.clone(),
            nodes: nodes.clone(),
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: src_keys,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: 1,
                loses_data: false,
                notes,
            },
            preconditions: pre.clone(),
            expected: vec![
                Check::new(
                    format!("slot {s} is no longer open"),
                    Condition::SlotsClosed {
                        slots: slots.clone(),
                    },
                ),
                Check::new(
                    format!("slot {s} served by {}", self.label(&dst)),
                    Condition::SlotsServedBy {
                        slots: slots.clone(),
                        node: dst.clone(),
                    },
                ),
            ],
            confirmation: Confirmation::Simple,
        });

        // Nothing to roll back when no key moved: closing is the alternative.
        if let Some(close) = close_alternative {
            self.plans.push(close);
            return;
        }

        // Roll back: the source must stop redirecting (a migrating source answers ASK even to
        // the target's RESTORE), so close it first, then let the target (kept open, so it may
        // MIGRATE a slot it does not own) send its keys back, then close the target.
        let mut steps = Vec::new();
        if !dst_marked {
            steps.push(cmd_step(
                dst_ep.clone(),
                Some(dst.clone()),
                vec![
                    "CLUSTER".into(),
                    "SETSLOT".into(),
                    s.to_string(),
                    "IMPORTING".into(),
                    src.0.to_string(),
                ],
                format!(
                    "open slot {s} on {} so it may send its keys back",
                    self.label(&dst)
                ),
            ));
        }
        if src_marked {
            steps.push(cmd_step(
                src_ep.clone(),
                Some(src.clone()),
                vec![
                    "CLUSTER".into(),
                    "SETSLOT".into(),
                    s.to_string(),
                    "STABLE".into(),
                ],
                format!(
                    "clear the migrating marker on {} (it serves the slot alone again)",
                    self.label(&src)
                ),
            ));
        }
        steps.push(FixStep {
            endpoint: dst_ep.clone(),
            node_id: Some(dst.clone()),
            action: StepAction::MigrateSlotKeys {
                slot: s,
                from: dst.clone(),
                to: src.clone(),
                to_endpoint: src_ep.clone(),
                batch: DEFAULT_MIGRATE_BATCH,
                timeout_ms: DEFAULT_MIGRATE_TIMEOUT_MS,
            },
            description: format!(
                "move the {dst_keys} key(s) of slot {s} back from {} to {}",
                self.label(&dst),
                self.label(&src)
            ),
        });
        steps.push(cmd_step(
            dst_ep.clone(),
            Some(dst.clone()),
            vec![
                "CLUSTER".into(),
                "SETSLOT".into(),
                s.to_string(),
                "STABLE".into(),
            ],
            format!("clear the importing marker on {}", self.label(&dst)),
        ));
        self.plans.push(FixPlan {
            id: format!("rollback-migration-{s}"),
            kind: PlanKind::RollBackMigration,
            title: format!(
                "Roll back the move of slot {s}: {} keys from {} back to {}",
                dst_keys,
                self.label(&dst),
                self.label(&src)
            ),
            why,
            finding: Some(FindingKind::OpenSlot),
            group: Some(group),
            recommended: !intent_forward,
            slots: slots.clone(),
            nodes,
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: dst_keys,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: 0,
                loses_data: false,
                notes: vec![
                    split_note,
                    busy_note,
                    format!(
                        "until the move ends (one MIGRATE per {DEFAULT_MIGRATE_BATCH} keys), reads \
                         of the {dst_keys} key(s) still on the target miss on the source; a key \
                         written meanwhile on both sides stops the run (BUSYKEY, compared by DUMP)"
                    ),
                ],
            },
            preconditions: pre,
            expected: vec![
                Check::new(
                    format!("slot {s} is no longer open"),
                    Condition::SlotsClosed {
                        slots: slots.clone(),
                    },
                ),
                Check::new(
                    format!("slot {s} served by {}", self.label(&src)),
                    Condition::SlotsServedBy { slots, node: src },
                ),
            ],
            confirmation: Confirmation::Simple,
        });
    }

    /// `SETSLOT s NODE new` on the new owner first, then the old one, then every other live
    /// master (the order of redis/redis#10381).
    fn bind_everywhere(
        &self,
        s: Slot,
        new: &NodeId,
        new_ep: &Endpoint,
        old: &NodeId,
        old_ep: &Endpoint,
    ) -> Vec<FixStep> {
        let setslot = |ep: &Endpoint, id: &NodeId, desc: String, tolerate: Vec<String>| FixStep {
            endpoint: ep.clone(),
            node_id: Some(id.clone()),
            action: StepAction::Command {
                args: vec![
                    "CLUSTER".into(),
                    "SETSLOT".into(),
                    s.to_string(),
                    "NODE".into(),
                    new.0.to_string(),
                ],
                tolerate,
            },
            description: desc,
        };
        let mut steps = vec![
            setslot(
                new_ep,
                new,
                format!(
                    "give slot {s} to {} (target first; bumps its epoch)",
                    self.label(new)
                ),
                Vec::new(),
            ),
            setslot(
                old_ep,
                old,
                format!("tell the source {} that slot {s} moved", self.label(old)),
                vec!["only with masters".to_owned()],
            ),
        ];
        for m in self.live_masters() {
            let Some(id) = m.id.as_ref() else { continue };
            if id == new || id == old {
                continue;
            }
            let Some(ep) = endpoint_of(m) else { continue };
            steps.push(setslot(
                &ep,
                id,
                format!("tell {} that slot {s} moved", self.label(id)),
                Vec::new(),
            ));
        }
        steps
    }

    fn describe_open(&self, o: &OpenSlot) -> String {
        let mut parts = Vec::new();
        for (n, t) in &o.migrating {
            parts.push(format!(
                "migrating on {} to {}",
                self.label(n),
                self.label(t)
            ));
        }
        for (n, f) in &o.importing {
            parts.push(format!(
                "importing on {} from {}",
                self.label(n),
                self.label(f)
            ));
        }
        for n in &o.on_replicas {
            parts.push(format!("marker on replica {}", self.label(n)));
        }
        let keys: Vec<String> = o
            .keys
            .iter()
            .map(|(n, c)| format!("{c} on {}", self.label(n)))
            .collect();
        format!(
            "slot {} is open ({}); keys: {}",
            o.slot,
            parts.join(", "),
            if keys.is_empty() {
                "none".to_owned()
            } else {
                keys.join(", ")
            }
        )
    }

    fn complex_open_advice(&mut self, o: &OpenSlot, why: String) {
        let s = o.slot;
        let mut nodes: Vec<NodeId> = o
            .migrating
            .iter()
            .chain(o.importing.iter())
            .flat_map(|(a, b)| [a.clone(), b.clone()])
            .collect();
        nodes.sort();
        nodes.dedup();
        self.plans.push(FixPlan {
            id: format!("open-slot-advice-{s}"),
            kind: PlanKind::StabiliseSlot,
            title: format!("Slot {s} is open in a way slotscope will not repair automatically"),
            why: why.clone(),
            finding: Some(FindingKind::OpenSlot),
            group: Some(format!("open-slot-{s}")),
            recommended: true,
            slots: vec![SlotRange::single(s)],
            nodes,
            steps: Vec::new(),
            advice: vec![
                why,
                "Several nodes are marked, a side is unreachable, or keys sit on a third \
                 master: bring every involved node back, then re-run slotscope; it offers \
                 complete / roll back once exactly one source and one target remain."
                    .to_owned(),
            ],
            risk: Risk::default(),
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: Confirmation::Simple,
        });
    }

    fn replica_marker_advice(&mut self, o: &OpenSlot, why: String) {
        let s = o.slot;
        let names: Vec<String> = o.on_replicas.iter().map(|n| self.label(n)).collect();
        self.plans.push(FixPlan {
            id: format!("replica-marker-{s}"),
            kind: PlanKind::StabiliseSlot,
            title: format!(
                "Slot {s} is marked open only on replica(s) {}",
                names.join(", ")
            ),
            why,
            finding: Some(FindingKind::OpenSlot),
            group: None,
            recommended: true,
            slots: vec![SlotRange::single(s)],
            nodes: o.on_replicas.clone(),
            steps: Vec::new(),
            advice: vec![
                "Replicas refuse CLUSTER SETSLOT and on Redis 7.0 keep markers loaded from \
                 nodes.conf. No client is affected, but reshard tools refuse to run."
                    .to_owned(),
                "To clear it: stop the replica, remove the [slot->-id] / [slot-<-id] marker \
                 from its nodes.conf (or delete nodes.conf and re-add it with CLUSTER MEET + \
                 CLUSTER REPLICATE), and start it again."
                    .to_owned(),
            ],
            risk: Risk::default(),
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: Confirmation::Simple,
        });
    }

    // ---------------------------------------------------------------- 4. failed masters

    fn failed_masters(&mut self) {
        let (live, total) = self.master_majority();
        let majority = live > total / 2;
        for dead in &self.model.nodes {
            if dead.role != Role::Master || dead.claimed_slots.is_empty() || is_live(dead) {
                continue;
            }
            let Some(dead_id) = dead.id.clone() else {
                continue;
            };
            let ranges = dead.claimed_slots.clone();
            let nslots = u64_of(ranges_len(&ranges));
            let group = format!("master-down-{}", short(&dead_id));
            let why = self
                .why(
                    &[
                        FindingKind::MasterDown,
                        FindingKind::MajorityLost,
                        FindingKind::ClusterDown,
                    ],
                    &ranges,
                    Some(&dead_id),
                )
                .unwrap_or_else(|| {
                    format!(
                        "master {} holding slots {} ({nslots}) is down",
                        dead.label(),
                        format_ranges(&ranges)
                    )
                });
            let dead_keys = dead.info.as_ref().and_then(|i| i.keys);
            let still_down = Check::new(
                format!("{} still down", dead.label()),
                Condition::NodeFailing {
                    node: dead_id.clone(),
                },
            );
            let still_owns = Check::new(
                format!(
                    "slots {} still bound to {}",
                    format_ranges(&ranges),
                    dead.label()
                ),
                Condition::SlotsOwnedBy {
                    slots: ranges.clone(),
                    node: dead_id.clone(),
                },
            );
            let replicas: Vec<&NodeSummary> = self
                .model
                .nodes
                .iter()
                .filter(|n| n.role == Role::Replica && n.master_id.as_ref() == Some(&dead_id))
                .filter(|n| is_live(n))
                .collect();
            let mut first = true;
            for r in &replicas {
                let (Some(rid), Some(rep)) = (r.id.clone(), endpoint_of(r)) else {
                    continue;
                };
                let mode = if majority { "FORCE" } else { "TAKEOVER" };
                let lag = match (
                    r.info.as_ref().and_then(|i| i.slave_repl_offset),
                    r.info.as_ref().and_then(|i| i.master_link_status.clone()),
                ) {
                    (Some(off), Some(link)) => format!("replication offset {off}, link {link}"),
                    (Some(off), None) => format!("replication offset {off}"),
                    _ => "replication offset unknown".to_owned(),
                };
                let mut notes = vec![format!(
                    "writes the old master took after its last replication to {} are lost \
                     ({lag})",
                    r.label()
                )];
                if majority {
                    notes.push(
                        "FAILOVER FORCE skips the handshake with the dead master but still asks \
                         the other masters to agree."
                            .to_owned(),
                    );
                } else {
                    notes.push(format!(
                        "only {live} of {total} slot-owning masters are reachable, so no vote can \
                         pass: FAILOVER TAKEOVER promotes the replica on its own authority \
                         (epoch bump without agreement). If the old master comes back it \
                         becomes a replica of the new one."
                    ));
                }
                self.plans.push(FixPlan {
                    id: format!("failover-{}", short(&rid)),
                    kind: PlanKind::Failover,
                    title: format!(
                        "Promote replica {} to replace {} (CLUSTER FAILOVER {mode})",
                        r.label(),
                        dead.label()
                    ),
                    why: why.clone(),
                    finding: Some(FindingKind::MasterDown),
                    group: Some(group.clone()),
                    recommended: first,
                    slots: ranges.clone(),
                    nodes: vec![dead_id.clone(), rid.clone()],
                    steps: vec![
                        cmd_step(
                            rep.clone(),
                            Some(rid.clone()),
                            vec!["CLUSTER".into(), "FAILOVER".into(), mode.into()],
                            format!("promote {} in place of {}", r.label(), dead.label()),
                        ),
                        wait_step(
                            rep.clone(),
                            Condition::SlotsServedBy {
                                slots: ranges.clone(),
                                node: rid.clone(),
                            },
                            format!(
                                "wait until {} serves slots {}",
                                r.label(),
                                format_ranges(&ranges)
                            ),
                        ),
                    ],
                    advice: vec![format!(
                        "Afterwards restart {} with its data: it rejoins as a replica.",
                        dead.label()
                    )],
                    risk: Risk {
                        keys_to_move: 0,
                        keys_at_risk: KeysAtRisk::Known(0),
                        slots_changing_owner: nslots,
                        loses_data: false,
                        notes,
                    },
                    preconditions: vec![
                        still_down.clone(),
                        still_owns.clone(),
                        Check::new(
                            format!("{} still a replica of {}", r.label(), dead.label()),
                            Condition::NodeIsReplicaOf {
                                node: rid.clone(),
                                master: dead_id.clone(),
                            },
                        ),
                    ],
                    expected: vec![
                        Check::new(
                            format!("{} is a master", r.label()),
                            Condition::NodeIsMaster { node: rid.clone() },
                        ),
                        Check::new(
                            format!("slots {} served by {}", format_ranges(&ranges), r.label()),
                            Condition::SlotsServedBy {
                                slots: ranges.clone(),
                                node: rid.clone(),
                            },
                        ),
                    ],
                    confirmation: Confirmation::Simple,
                });
                first = false;
            }

            // (b) restart advice, always.
            let dead_ep =
                endpoint_of(dead).map_or_else(|| dead.addr.to_string(), |e| e.to_string());
            self.plans.push(FixPlan {
                id: format!("restart-{}", short(&dead_id)),
                kind: PlanKind::RestartAdvice,
                title: format!(
                    "Restart {} with its data and nodes.conf intact",
                    dead.label()
                ),
                why: why.clone(),
                finding: Some(FindingKind::MasterDown),
                group: Some(group.clone()),
                recommended: replicas.is_empty(),
                slots: ranges.clone(),
                nodes: vec![dead_id.clone()],
                steps: Vec::new(),
                advice: vec![
                    format!(
                        "Start redis-server for {dead_ep} again from the same directory, with \
                         the same nodes.conf, RDB/AOF files and port; do not delete nodes.conf."
                    ),
                    format!(
                        "It keeps its id, reloads its keys and serves slots {} again; the \
                         cluster returns to ok without any key lost.",
                        format_ranges(&ranges)
                    ),
                    "If the machine is gone for good, use the failover or reassign plan."
                        .to_owned(),
                ],
                risk: Risk::default(),
                preconditions: Vec::new(),
                expected: Vec::new(),
                confirmation: Confirmation::Simple,
            });

            // (c) reassign its slots to live masters, contiguous and even.
            self.reassign(
                dead,
                &dead_id,
                &ranges,
                nslots,
                dead_keys,
                &group,
                &why,
                !replicas.is_empty(),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn reassign(
        &mut self,
        dead: &NodeSummary,
        dead_id: &NodeId,
        ranges: &[SlotRange],
        nslots: u64,
        dead_keys: Option<u64>,
        group: &str,
        why: &str,
        has_replica: bool,
    ) {
        let masters = self.live_masters();
        if masters.is_empty() {
            return;
        }
        let slots: Vec<Slot> = ranges.iter().flat_map(SlotRange::iter).collect();
        let chunks = even_chunks(&slots, masters.len());
        let mut steps = Vec::new();
        let mut pre = vec![
            Check::new(
                format!("{} still down", dead.label()),
                Condition::NodeUnreachable {
                    node: dead_id.clone(),
                },
            ),
            Check::new(
                format!(
                    "slots {} still bound to {}",
                    format_ranges(ranges),
                    dead.label()
                ),
                Condition::SlotsOwnedBy {
                    slots: ranges.to_vec(),
                    node: dead_id.clone(),
                },
            ),
        ];
        let mut expected = Vec::new();
        let mut nodes = vec![dead_id.clone()];
        for (m, chunk) in masters.iter().zip(chunks) {
            if chunk.is_empty() {
                continue;
            }
            let (Some(mid), Some(ep)) = (m.id.clone(), endpoint_of(m)) else {
                continue;
            };
            let part = slots_to_ranges(chunk.iter().copied());
            // DELSLOTSRANGE needs every slot bound in the receiver's own view.
            let bound_elsewhere = chunk
                .iter()
                .any(|s| view_owner(self.model, &mid, *s).as_ref() != Some(dead_id));
            pre.push(Check::new(
                format!("{} still answers as a master", m.label()),
                Condition::NodeIsMaster { node: mid.clone() },
            ));
            if bound_elsewhere {
                steps.push(cmd_step(
                    ep.clone(),
                    Some(mid.clone()),
                    range_args("ADDSLOTSRANGE", &part),
                    format!("{} claims slots {}", m.label(), format_ranges(&part)),
                ));
            } else {
                steps.push(cmd_step(
                    ep.clone(),
                    Some(mid.clone()),
                    range_args("DELSLOTSRANGE", &part),
                    format!(
                        "{} forgets that {} owned slots {}",
                        m.label(),
                        dead.label(),
                        format_ranges(&part)
                    ),
                ));
                steps.push(cmd_step(
                    ep.clone(),
                    Some(mid.clone()),
                    range_args("ADDSLOTSRANGE", &part),
                    format!("{} claims slots {}", m.label(), format_ranges(&part)),
                ));
            }
            steps.push(cmd_step(
                ep.clone(),
                Some(mid.clone()),
                vec!["CLUSTER".into(), "BUMPEPOCH".into()],
                format!(
                    "make the claim of {} win over the dead master's epoch",
                    m.label()
                ),
            ));
            expected.push(Check::new(
                format!("slots {} served by {}", format_ranges(&part), m.label()),
                Condition::SlotsServedBy {
                    slots: part.clone(),
                    node: mid.clone(),
                },
            ));
            nodes.push(mid);
        }
        if let Some(ep) = masters.first().and_then(|m| endpoint_of(m)) {
            steps.push(wait_step(
                ep,
                Condition::SlotsServed {
                    slots: ranges.to_vec(),
                },
                format!(
                    "wait until every node serves slots {}",
                    format_ranges(ranges)
                ),
            ));
        }
        let word = format!("lose-{nslots}-slots");
        let at_risk = match dead_keys {
            Some(k) => KeysAtRisk::Known(k),
            None => KeysAtRisk::unknown(
                if matches!(dead.reachability, Reachability::Ok) {
                    "its key count was not reported"
                } else {
                    "master unreachable"
                },
                self.keys_per_slot_estimate(nslots),
            ),
        };
        let loss_note = match &at_risk {
            KeysAtRisk::Known(k) => format!(
                "The {nslots} slots start empty on their new owners: the {} stored on {} are \
                 lost for good if it comes back (it deletes them when it sees the newer owners).",
                plural(*k, "key", "keys"),
                dead.label()
            ),
            KeysAtRisk::Unknown { reason, estimate } => format!(
                "The {nslots} slots start empty on their new owners: every key stored on {} is \
                 lost for good if it comes back (it deletes them when it sees the newer owners). \
                 How many is unknown ({reason}){}.",
                dead.label(),
                estimate.as_ref().map_or_else(String::new, |e| format!(
                    ": about {} {}",
                    plural(e.keys, "key", "keys"),
                    e.basis
                ))
            ),
        };
        self.plans.push(FixPlan {
            id: format!("reassign-slots-{}", short(dead_id)),
            kind: PlanKind::ReassignSlots,
            title: format!(
                "Hand the {nslots} slots of {} to {} live master(s), empty",
                dead.label(),
                nodes.len().saturating_sub(1)
            ),
            why: why.to_owned(),
            finding: Some(FindingKind::MasterDown),
            group: Some(group.to_owned()),
            recommended: false,
            slots: ranges.to_vec(),
            nodes,
            steps,
            advice: vec![format!(
                "Run the forget plan for {} afterwards, and never restart it with its old \
                 nodes.conf: it would drop its data when it learns the new owners.",
                dead.label()
            )],
            risk: Risk {
                keys_to_move: 0,
                keys_at_risk: at_risk,
                slots_changing_owner: nslots,
                loses_data: true,
                notes: vec![
                    loss_note,
                    if has_replica {
                        "A replica exists: promoting it keeps the data; prefer the failover plan."
                            .to_owned()
                    } else {
                        "No live replica holds a copy of these keys.".to_owned()
                    },
                ],
            },
            preconditions: pre,
            expected,
            confirmation: Confirmation::TypeWord(word),
        });
    }

    // ---------------------------------------------------------------- 3. uncovered slots

    fn unclaimed_and_uncovered(&mut self) {
        // Per live master: slots it should claim again (uncovered with keys only there, or
        // bound to it by peers while it no longer claims them itself).
        let mut reclaim: BTreeMap<NodeId, BTreeSet<Slot>> = BTreeMap::new();
        let mut split: BTreeSet<Slot> = BTreeSet::new();
        let mut empty: Vec<Slot> = Vec::new();
        let live: BTreeSet<NodeId> = self
            .live_masters()
            .iter()
            .filter_map(|n| n.id.clone())
            .collect();
        let dead_claims: BTreeSet<Slot> = self
            .model
            .nodes
            .iter()
            .filter(|n| !is_live(n))
            .flat_map(|n| n.claimed_slots.iter().flat_map(SlotRange::iter))
            .collect();
        for (i, e) in self.model.slots.iter().enumerate() {
            let Ok(s) = Slot::try_from(i) else { continue };
            let holders: Vec<&NodeId> = self
                .model
                .uncovered_keys
                .get(&s)
                .map(|m| {
                    m.iter()
                        .filter(|(_, c)| **c > 0)
                        .map(|(id, _)| id)
                        .collect()
                })
                .unwrap_or_default();
            match e.owner.and_then(|o| self.model.nodes.get(o as usize)) {
                None => match holders.as_slice() {
                    [] if !dead_claims.contains(&s) => empty.push(s),
                    [] => {}
                    [one] if live.contains(*one) => {
                        reclaim.entry((*one).clone()).or_default().insert(s);
                    }
                    _ => {
                        split.insert(s);
                    }
                },
                Some(owner) => {
                    // Bound to a live master by peers while it does not claim it itself.
                    let Some(oid) = owner.id.as_ref() else {
                        continue;
                    };
                    if !live.contains(oid) {
                        continue;
                    }
                    let claims = owner
                        .own_line
                        .as_ref()
                        .is_some_and(|l| l.slots.iter().any(|r| r.contains(s)));
                    let others_hold = holders.iter().any(|h| *h != oid);
                    if !claims && !others_hold {
                        reclaim.entry(oid.clone()).or_default().insert(s);
                    }
                }
            }
        }
        // An empty uncovered slot inside a contiguous uncovered run whose keys all sit on one
        // master goes to that master too: the run was most likely its range, and keeping it
        // whole avoids fragmenting the slot map.
        let mut run: Vec<Slot> = Vec::new();
        let mut runs: Vec<Vec<Slot>> = Vec::new();
        let mut prev: Option<Slot> = None;
        let mut uncovered_sorted: Vec<Slot> = empty
            .iter()
            .copied()
            .chain(reclaim.values().flatten().copied().filter(|s| {
                self.model
                    .slots
                    .get(usize::from(*s))
                    .is_some_and(|e| e.owner.is_none())
            }))
            .collect();
        uncovered_sorted.sort_unstable();
        for s in uncovered_sorted {
            if prev.is_some_and(|p| u32::from(p) + 1 != u32::from(s)) {
                runs.push(std::mem::take(&mut run));
            }
            run.push(s);
            prev = Some(s);
        }
        runs.push(run);
        for r in runs {
            let owners: BTreeSet<NodeId> = reclaim
                .iter()
                .filter(|(_, set)| r.iter().any(|s| set.contains(s)))
                .map(|(id, _)| id.clone())
                .collect();
            if owners.len() == 1
                && let Some(owner) = owners.into_iter().next()
            {
                empty.retain(|s| !r.contains(s));
                reclaim.entry(owner).or_default().extend(r.iter().copied());
            }
        }
        for (id, mut set) in reclaim {
            // Slots it already claims in its own view need no ADDSLOTS (a MEET or an epoch
            // bump makes that claim visible; see the meet and dispute plans).
            if let Some(line) = self.model.node(&id).and_then(|n| n.own_line.as_ref()) {
                set.retain(|s| !line.slots.iter().any(|r| r.contains(*s)));
            }
            if !set.is_empty() {
                self.reclaim(&id, &set);
            }
        }
        if !empty.is_empty() {
            self.cover_empty(&empty);
        }
        if !split.is_empty() {
            let ranges = slots_to_ranges(split.iter().copied());
            self.plans.push(FixPlan {
                id: format!("uncovered-split-{}", ranges.first().map_or(0, |r| r.start)),
                kind: PlanKind::ReclaimUncovered,
                title: format!(
                    "Uncovered slots {} have keys on several masters",
                    format_ranges(&ranges)
                ),
                why: self
                    .why(&[FindingKind::UncoveredSlots], &ranges, None)
                    .unwrap_or_else(|| format!("slots {} are not served", format_ranges(&ranges))),
                finding: Some(FindingKind::UncoveredSlots),
                group: None,
                recommended: true,
                slots: ranges,
                nodes: Vec::new(),
                steps: Vec::new(),
                advice: vec![
                    "Pick the rightful owner of each slot, give it the slot (CLUSTER \
                     ADDSLOTS + CLUSTER BUMPEPOCH on it), then mark the other holders IMPORTING \
                     from it and move their keys over; slotscope will then offer the moves."
                        .to_owned(),
                ],
                risk: Risk::default(),
                preconditions: Vec::new(),
                expected: Vec::new(),
                confirmation: Confirmation::Simple,
            });
        }
    }

    fn reclaim(&mut self, id: &NodeId, set: &BTreeSet<Slot>) {
        let Some(n) = self.model.node(id) else { return };
        let Some(ep) = endpoint_of(n) else { return };
        let ranges = slots_to_ranges(set.iter().copied());
        let keys: u64 = set
            .iter()
            .filter_map(|s| self.model.uncovered_keys.get(s).and_then(|m| m.get(id)))
            .sum();
        // ADDSLOTSRANGE fails if the node binds one of them to someone else in its own view.
        let foreign: Vec<Slot> = set
            .iter()
            .copied()
            .filter(|s| view_owner(self.model, id, *s).is_some_and(|o| &o != id))
            .collect();
        let mut steps = Vec::new();
        if !foreign.is_empty() {
            let fr = slots_to_ranges(foreign.iter().copied());
            steps.push(cmd_step(
                ep.clone(),
                Some(id.clone()),
                range_args("DELSLOTSRANGE", &fr),
                format!(
                    "{} drops its stale binding of slots {}",
                    n.label(),
                    format_ranges(&fr)
                ),
            ));
        }
        steps.push(cmd_step(
            ep.clone(),
            Some(id.clone()),
            range_args("ADDSLOTSRANGE", &ranges),
            format!(
                "{} claims slots {} again",
                n.label(),
                format_ranges(&ranges)
            ),
        ));
        steps.push(cmd_step(
            ep.clone(),
            Some(id.clone()),
            vec!["CLUSTER".into(), "BUMPEPOCH".into()],
            format!("make the claim of {} win everywhere", n.label()),
        ));
        steps.push(wait_step(
            ep,
            Condition::SlotsServedBy {
                slots: ranges.clone(),
                node: id.clone(),
            },
            format!(
                "wait until every node sees {} serving {}",
                n.label(),
                format_ranges(&ranges)
            ),
        ));
        let nslots = u64_of(ranges_len(&ranges));
        self.plans.push(FixPlan {
            id: format!("reclaim-slots-{}", short(id)),
            kind: PlanKind::ReclaimUncovered,
            title: format!(
                "Give slots {} back to {}, which holds their {}",
                format_ranges(&ranges),
                n.label(),
                plural(keys, "key", "keys")
            ),
            why: self
                .why(
                    &[FindingKind::UncoveredSlots, FindingKind::ClusterDown],
                    &ranges,
                    Some(id),
                )
                .unwrap_or_else(|| {
                    format!(
                        "slots {} are not served although {} holds their keys",
                        format_ranges(&ranges),
                        n.label()
                    )
                }),
            finding: Some(FindingKind::UncoveredSlots),
            group: None,
            recommended: true,
            slots: ranges.clone(),
            nodes: vec![id.clone()],
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: 0,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: nslots,
                loses_data: false,
                notes: vec![format!(
                    "no other reachable master holds keys in these slots; {} keeps its {}",
                    n.label(),
                    plural(keys, "key", "keys")
                )],
            },
            preconditions: vec![
                Check::new(
                    format!("{} still reachable", n.label()),
                    Condition::NodeReachable { node: id.clone() },
                ),
                Check::new(
                    format!(
                        "no other master holds keys in slots {}",
                        format_ranges(&ranges)
                    ),
                    Condition::KeysOnlyOn {
                        slots: ranges.clone(),
                        node: id.clone(),
                    },
                ),
            ],
            expected: vec![
                Check::new(
                    format!("slots {} served by {}", format_ranges(&ranges), n.label()),
                    Condition::SlotsServedBy {
                        slots: ranges.clone(),
                        node: id.clone(),
                    },
                ),
                Check::new(
                    format!("{} claims slots {}", n.label(), format_ranges(&ranges)),
                    Condition::SlotsClaimedBy {
                        slots: ranges,
                        node: id.clone(),
                    },
                ),
            ],
            confirmation: Confirmation::Simple,
        });
    }

    fn cover_empty(&mut self, empty: &[Slot]) {
        let masters = self.live_masters();
        if masters.is_empty() {
            return;
        }
        let all = slots_to_ranges(empty.iter().copied());
        let unknown_nodes = self
            .model
            .nodes
            .iter()
            .filter(|n| !matches!(n.reachability, Reachability::Ok))
            .count();
        let chunks = even_chunks(empty, masters.len());
        let mut steps = Vec::new();
        let mut expected = Vec::new();
        let mut pre = vec![Check::new(
            format!("slots {} still uncovered", format_ranges(&all)),
            Condition::SlotsUncovered { slots: all.clone() },
        )];
        let mut nodes = Vec::new();
        for (m, chunk) in masters.iter().zip(chunks) {
            if chunk.is_empty() {
                continue;
            }
            let (Some(mid), Some(ep)) = (m.id.clone(), endpoint_of(m)) else {
                continue;
            };
            let part = slots_to_ranges(chunk.iter().copied());
            steps.push(cmd_step(
                ep.clone(),
                Some(mid.clone()),
                range_args("ADDSLOTSRANGE", &part),
                format!(
                    "{} takes the empty slots {}",
                    m.label(),
                    format_ranges(&part)
                ),
            ));
            steps.push(cmd_step(
                ep,
                Some(mid.clone()),
                vec!["CLUSTER".into(), "BUMPEPOCH".into()],
                format!("make the claim of {} win everywhere", m.label()),
            ));
            pre.push(Check::new(
                format!("no master holds keys in slots {}", format_ranges(&part)),
                Condition::KeysOnlyOn {
                    slots: part.clone(),
                    node: mid.clone(),
                },
            ));
            expected.push(Check::new(
                format!("slots {} served by {}", format_ranges(&part), m.label()),
                Condition::SlotsServedBy {
                    slots: part,
                    node: mid.clone(),
                },
            ));
            nodes.push(mid);
        }
        let n = u64_of(empty.len());
        let loses = unknown_nodes > 0;
        let mut notes = vec![format!(
            "no reachable master holds a key in these {n} slots; they are split into \
             contiguous ranges, one per master"
        )];
        if loses {
            notes.push(format!(
                "{unknown_nodes} node(s) could not be observed: if one of them holds keys in \
                 these slots, it drops them when it sees the new owners"
            ));
        }
        self.plans.push(FixPlan {
            id: format!("cover-empty-slots-{}", all.first().map_or(0, |r| r.start)),
            kind: PlanKind::CoverEmptySlots,
            title: format!(
                "Assign the {n} empty uncovered slots {} to {} live master(s)",
                format_ranges(&all),
                nodes.len()
            ),
            why: self
                .why(
                    &[FindingKind::UncoveredSlots, FindingKind::ClusterDown],
                    &all,
                    None,
                )
                .unwrap_or_else(|| format!("slots {} are bound to no master", format_ranges(&all))),
            finding: Some(FindingKind::UncoveredSlots),
            group: None,
            recommended: true,
            slots: all,
            nodes,
            steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: 0,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: n,
                loses_data: loses,
                notes,
            },
            preconditions: pre,
            expected,
            confirmation: if loses {
                Confirmation::TypeWord(format!("assign-{n}-slots"))
            } else {
                Confirmation::Simple
            },
        });
    }

    // ---------------------------------------------------------------- 7. disputes

    fn disputes(&mut self) {
        // Group by rightful (consensus) owner.
        let mut by_owner: BTreeMap<NodeId, Vec<Dissent>> = BTreeMap::new();
        for d in &self.model.disagreements {
            let Some(owner) = d.consensus_owner.clone() else {
                continue;
            };
            // A node that simply does not claim its own slots is handled by the reclaim plan.
            if d.node == owner && d.its_owner.is_none() {
                continue;
            }
            by_owner.entry(owner).or_default().push((
                d.node.clone(),
                d.slots.clone(),
                d.its_owner.clone(),
            ));
        }
        for (owner, dissent) in by_owner {
            let Some(on) = self.model.node(&owner) else {
                continue;
            };
            if !is_live_master(on) {
                continue;
            }
            let Some(oep) = endpoint_of(on) else { continue };
            let mut steps = vec![cmd_step(
                oep.clone(),
                Some(owner.clone()),
                vec!["CLUSTER".into(), "BUMPEPOCH".into()],
                format!("give {} the highest epoch so its claim wins", on.label()),
            )];
            let mut all: BTreeSet<Slot> = BTreeSet::new();
            let mut nodes = vec![owner.clone()];
            let mut notes = Vec::new();
            let mut pre = vec![Check::new(
                format!("{} still reachable", on.label()),
                Condition::NodeReachable {
                    node: owner.clone(),
                },
            )];
            let mut self_claim = false;
            // Estimated keys the self-claiming dissenters hold in these slots (None: unknown).
            let mut claim_estimate: Option<u64> = Some(0);
            for (node, ranges, its) in &dissent {
                let Some(nn) = self.model.node(node) else {
                    continue;
                };
                let Some(nep) = endpoint_of(nn) else { continue };
                if !is_live(nn) {
                    continue;
                }
                all.extend(ranges.iter().flat_map(SlotRange::iter));
                nodes.push(node.clone());
                notes.push(format!(
                    "{} believes slots {} belong to {}",
                    nn.label(),
                    format_ranges(ranges),
                    its.as_ref()
                        .map_or_else(|| "nobody".to_owned(), |i| self.label(i))
                ));
                if its.as_ref() == Some(node) {
                    self_claim = true;
                    // Its keys in these slots were not counted: estimate them from its average.
                    let own = nn.own_line.as_ref().map_or(0, |l| l.slot_count());
                    claim_estimate = match (claim_estimate, nn.info.as_ref().and_then(|i| i.keys)) {
                        (Some(acc), Some(k)) if own > 0 => {
                            let share = u128::from(k) * u128::from(u64_of(ranges_len(ranges)))
                                / u128::from(u64_of(own));
                            Some(acc.saturating_add(
                                u64::try_from(share.min(u128::from(k))).unwrap_or(k),
                            ))
                        }
                        _ => None,
                    };
                }
                let count: usize = ranges_len(ranges);
                if count <= 256 && nn.role == Role::Master {
                    // A stale importing marker freezes the dissenter's view (gossip never
                    // rebinds a slot it imports): clear it first, but only where it holds no
                    // key of the slot (otherwise this is a half-moved slot for the open-slot
                    // plans, and the dispute plan does not touch it).
                    let frozen = self.model.open_slots.iter().filter(|o| {
                        ranges.iter().any(|r| r.contains(o.slot))
                            && o.keys.get(node).copied().unwrap_or(0) == 0
                    });
                    for (o, from) in frozen.flat_map(|o| {
                        o.importing
                            .iter()
                            .filter(|(i, _)| i == node)
                            .map(move |(_, from)| (o, from))
                    }) {
                        pre.push(Check::new(
                            format!(
                                "slot {} still importing on {} from {}",
                                o.slot,
                                nn.label(),
                                self.label(from)
                            ),
                            Condition::SlotImporting {
                                slot: o.slot,
                                node: node.clone(),
                                from: from.clone(),
                            },
                        ));
                        steps.push(cmd_step(
                            nep.clone(),
                            Some(node.clone()),
                            vec![
                                "CLUSTER".into(),
                                "SETSLOT".into(),
                                o.slot.to_string(),
                                "STABLE".into(),
                            ],
                            format!(
                                "clear the stale importing marker of slot {} on {} (it holds \
                                 no key there): it stops gossip from correcting this view",
                                o.slot,
                                nn.label()
                            ),
                        ));
                    }
                    for s in ranges.iter().flat_map(SlotRange::iter) {
                        steps.push(FixStep {
                            endpoint: nep.clone(),
                            node_id: Some(node.clone()),
                            action: StepAction::Command {
                                args: vec![
                                    "CLUSTER".into(),
                                    "SETSLOT".into(),
                                    s.to_string(),
                                    "NODE".into(),
                                    owner.0.to_string(),
                                ],
                                tolerate: Vec::new(),
                            },
                            description: format!(
                                "tell {} that slot {s} belongs to {}",
                                nn.label(),
                                on.label()
                            ),
                        });
                    }
                }
            }
            if all.is_empty() {
                continue;
            }
            let ranges = slots_to_ranges(all.iter().copied());
            pre.push(Check::new(
                format!(
                    "slots {} still owned by {}",
                    format_ranges(&ranges),
                    on.label()
                ),
                Condition::SlotsOwnedBy {
                    slots: ranges.clone(),
                    node: owner.clone(),
                },
            ));
            steps.push(wait_step(
                oep,
                Condition::AllViewsAgree,
                "wait until every node agrees about slot ownership".to_owned(),
            ));
            if self_claim {
                notes.push(
                    "a dissenting master claims these slots itself: when it accepts the owner's \
                     claim it deletes any keys it holds in them (dirty slots)"
                        .to_owned(),
                );
            }
            let nslots = u64_of(all.len());
            self.plans.push(FixPlan {
                id: format!("resolve-dispute-{}", short(&owner)),
                kind: PlanKind::ResolveDispute,
                title: format!(
                    "Make every node agree that {} owns slots {}",
                    on.label(),
                    format_ranges(&ranges)
                ),
                why: self
                    .why(
                        &[
                            FindingKind::SlotOwnershipDispute,
                            FindingKind::ConfigEpochCollision,
                        ],
                        &ranges,
                        Some(&owner),
                    )
                    .unwrap_or_else(|| notes.join("; ")),
                finding: Some(FindingKind::SlotOwnershipDispute),
                group: None,
                recommended: true,
                slots: ranges.clone(),
                nodes,
                steps,
                advice: Vec::new(),
                risk: Risk {
                    keys_to_move: 0,
                    keys_at_risk: if self_claim {
                        KeysAtRisk::unknown(
                            "the dissenting master's keys in these slots are not counted",
                            claim_estimate.map(|keys| KeyEstimate {
                                keys,
                                basis: "if it holds as many keys per slot there as in all the \
                                        slots it claims"
                                    .to_owned(),
                            }),
                        )
                    } else {
                        KeysAtRisk::Known(0)
                    },
                    slots_changing_owner: nslots,
                    loses_data: self_claim,
                    notes,
                },
                preconditions: pre,
                expected: vec![
                    Check::new(
                        format!("slots {} served by {}", format_ranges(&ranges), on.label()),
                        Condition::SlotsServedBy {
                            slots: ranges,
                            node: owner.clone(),
                        },
                    ),
                    Check::new(
                        "every node agrees about slot ownership",
                        Condition::AllViewsAgree,
                    ),
                ],
                confirmation: if self_claim {
                    Confirmation::TypeWord(format!("override-{nslots}-slots"))
                } else {
                    Confirmation::Simple
                },
            });
        }
    }

    // ---------------------------------------------------------------- 5. meet

    fn meet(&mut self) {
        let masters = self.live_masters();
        let Some(healthy) = masters
            .iter()
            .find(|m| !m.isolated && !m.claimed_slots.is_empty())
            .or_else(|| masters.iter().find(|m| !m.isolated))
        else {
            return;
        };
        let (Some(hid), Some(hep)) = (healthy.id.clone(), endpoint_of(healthy)) else {
            return;
        };
        let mut plans = Vec::new();
        for n in &self.model.nodes {
            let Some(id) = n.id.clone() else { continue };
            if !matches!(n.reachability, Reachability::Ok) || id == hid {
                continue;
            }
            let partially = !n.peers.unknown_to.is_empty() && !n.isolated;
            if !n.isolated && !partially {
                continue;
            }
            let Some(ep) = endpoint_of(n) else { continue };
            let meet_args = |_: ()| {
                let mut a = vec![
                    "CLUSTER".to_owned(),
                    "MEET".to_owned(),
                    ep.host.clone(),
                    ep.port.to_string(),
                ];
                if n.addr.cport != 0 && u32::from(n.addr.cport) != u32::from(ep.port) + 10000 {
                    a.push(n.addr.cport.to_string());
                }
                a
            };
            let mut steps = Vec::new();
            if n.isolated {
                steps.push(cmd_step(
                    hep.clone(),
                    Some(hid.clone()),
                    meet_args(()),
                    format!(
                        "{} introduces {} to the cluster",
                        healthy.label(),
                        n.label()
                    ),
                ));
            } else {
                for u in &n.peers.unknown_to {
                    let Some(un) = self.model.node(u) else {
                        continue;
                    };
                    let Some(uep) = endpoint_of(un) else { continue };
                    if !is_live(un) {
                        continue;
                    }
                    steps.push(cmd_step(
                        uep,
                        Some(u.clone()),
                        meet_args(()),
                        format!("{} meets {}", un.label(), n.label()),
                    ));
                }
            }
            if steps.is_empty() {
                continue;
            }
            steps.push(wait_step(
                hep.clone(),
                Condition::NodeJoined { node: id.clone() },
                format!("wait until every node knows {}", n.label()),
            ));
            // Slots it claims that the cluster gives to someone else: it loses them (and their keys).
            let own = n
                .own_line
                .as_ref()
                .map(|l| l.slots.clone())
                .unwrap_or_default();
            let contested: Vec<Slot> = own
                .iter()
                .flat_map(SlotRange::iter)
                .filter(|s| {
                    self.model
                        .owner_of(*s)
                        .and_then(|o| o.id.as_ref())
                        .is_some_and(|o| o != &id)
                })
                .collect();
            let keys = n.info.as_ref().and_then(|i| i.keys);
            let mut notes = vec![format!(
                "{} has {} and claims {} slot(s) in its own view",
                n.label(),
                keys.map_or_else(
                    || "an unknown number of keys".to_owned(),
                    |k| plural(k, "key", "keys")
                ),
                ranges_len(&own)
            )];
            // An unknown key count may hide keys in the contested slots.
            let loses = !contested.is_empty() && keys != Some(0);
            if loses {
                notes.push(format!(
                    "it claims slots {} that the cluster gives to others: if their epoch is \
                     higher it deletes its keys in them",
                    format_ranges(&slots_to_ranges(contested.iter().copied()))
                ));
            }
            let mut pre = vec![Check::new(
                format!("{} still reachable", n.label()),
                Condition::NodeReachable { node: id.clone() },
            )];
            if n.isolated {
                pre.push(Check::new(
                    format!("{} still outside the cluster", n.label()),
                    Condition::NodeIsolated { node: id.clone() },
                ));
            }
            plans.push(FixPlan {
                id: format!("meet-{}", short(&id)),
                kind: PlanKind::Meet,
                title: format!("Join {} to the cluster with CLUSTER MEET", n.label()),
                why: self
                    .why(&[FindingKind::NodeNotJoined, FindingKind::PartiallyKnownNode], &[], Some(&id))
                    .unwrap_or_else(|| {
                        if n.isolated {
                            format!("{} runs but knows only itself", n.label())
                        } else {
                            format!("{} is unknown to some nodes", n.label())
                        }
                    }),
                finding: Some(if n.isolated { FindingKind::NodeNotJoined } else { FindingKind::PartiallyKnownNode }),
                group: None,
                recommended: true,
                slots: own.clone(),
                nodes: vec![id.clone()],
                steps,
                advice: if own.is_empty() {
                    vec!["Once it joined, make it a replica (CLUSTER REPLICATE <master-id>) or give it slots.".to_owned()]
                } else {
                    Vec::new()
                },
                risk: Risk {
                    keys_to_move: 0,
                    keys_at_risk: match (loses, keys) {
                        (false, _) => KeysAtRisk::Known(0),
                        (true, Some(k)) => KeysAtRisk::Known(k),
                        (true, None) => {
                            KeysAtRisk::unknown("its key count was not reported", None)
                        }
                    },
                    slots_changing_owner: 0,
                    loses_data: loses,
                    notes,
                },
                preconditions: pre,
                expected: vec![Check::new(
                    format!("every node knows {}", n.label()),
                    Condition::NodeJoined { node: id.clone() },
                )],
                confirmation: if loses {
                    Confirmation::TypeWord(format!("meet-{}", short(&id)))
                } else {
                    Confirmation::Simple
                },
            });
        }
        self.plans.extend(plans);
    }

    // ---------------------------------------------------------------- 6. forget

    fn forget(&mut self) {
        let mut plans = Vec::new();
        for n in &self.model.nodes {
            let Some(id) = n.id.clone() else { continue };
            let ghost = matches!(n.reachability, Reachability::NotProbed)
                && (n.flags.noaddr || n.flags.handshake || n.addr.is_unknown());
            let dead = !matches!(n.reachability, Reachability::Ok) && n.is_failing();
            if !(ghost || dead) || !n.claimed_slots.is_empty() {
                continue;
            }
            // Replicas of it that are alive would refuse to forget their master.
            let has_live_replicas = self
                .model
                .nodes
                .iter()
                .any(|r| r.master_id.as_ref() == Some(&id) && is_live(r));
            if has_live_replicas {
                continue;
            }
            let mut steps = Vec::new();
            let mut pre = vec![Check::new(
                format!("{} still unreachable and owns no slot", n.label()),
                Condition::NodeUnreachable { node: id.clone() },
            )];
            for k in &n.peers.known_by {
                let Some(kn) = self.model.node(k) else {
                    continue;
                };
                if !is_live(kn) || k == &id {
                    continue;
                }
                let Some(kep) = endpoint_of(kn) else { continue };
                steps.push(cmd_step(
                    kep,
                    Some(k.clone()),
                    vec!["CLUSTER".into(), "FORGET".into(), id.0.to_string()],
                    format!("{} forgets {}", kn.label(), n.label()),
                ));
            }
            if steps.is_empty() {
                continue;
            }
            pre.push(Check::new(
                format!("{} still owns no slot", n.label()),
                Condition::NodeOwnsNoSlot { node: id.clone() },
            ));
            let anchor = steps.first().map(|s| s.endpoint.clone());
            if let Some(ep) = anchor {
                steps.push(wait_step(
                    ep,
                    Condition::NodeForgotten { node: id.clone() },
                    format!("check that {} did not come back through gossip", n.label()),
                ));
            }
            plans.push(FixPlan {
                id: format!("forget-{}", short(&id)),
                kind: PlanKind::Forget,
                title: format!(
                    "Remove {} from every node's table (CLUSTER FORGET)",
                    n.label()
                ),
                why: self
                    .why(
                        &[
                            FindingKind::LingeringFailedNode,
                            FindingKind::HandshakeOrNoaddr,
                            FindingKind::NodeDown,
                        ],
                        &[],
                        Some(&id),
                    )
                    .unwrap_or_else(|| format!("{} is failed and owns no slot", n.label())),
                finding: Some(if ghost {
                    FindingKind::HandshakeOrNoaddr
                } else {
                    FindingKind::LingeringFailedNode
                }),
                group: None,
                recommended: true,
                slots: Vec::new(),
                nodes: vec![id.clone()],
                steps,
                advice: vec![format!(
                    "Every node must forget it within 60 s, or gossip brings it back; \
                     slotscope sends the FORGETs back to back. If {} is started again it must \
                     be reset (CLUSTER RESET) before it can rejoin.",
                    n.label()
                )],
                risk: Risk {
                    notes: vec!["owns no slot: no key is affected".to_owned()],
                    ..Risk::default()
                },
                preconditions: pre,
                expected: vec![Check::new(
                    format!("no node lists {}", n.label()),
                    Condition::NodeForgotten { node: id.clone() },
                )],
                confirmation: Confirmation::Simple,
            });
        }
        self.plans.extend(plans);
    }

    // ---------------------------------------------------------------- 8. full coverage

    fn coverage(&mut self) {
        let nodes: Vec<&NodeSummary> = self.model.nodes.iter().filter(|n| is_live(n)).collect();
        if nodes.is_empty() {
            return;
        }
        let unserved: Vec<Slot> = self
            .model
            .slots
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.state, SlotState::Uncovered | SlotState::OwnerFailing))
            .filter_map(|(i, _)| Slot::try_from(i).ok())
            .collect();
        let cov = |n: &NodeSummary| n.config.as_ref().and_then(|c| c.require_full_coverage);
        let any_on = nodes.iter().any(|n| cov(n) != Some(false));
        let any_off = nodes.iter().any(|n| cov(n) == Some(false));
        let (live, total) = self.master_majority();
        let majority = live > total / 2;
        let ids: Vec<NodeId> = nodes.iter().filter_map(|n| n.id.clone()).collect();
        let set = |value: &str| -> Vec<FixStep> {
            nodes
                .iter()
                .filter_map(|n| {
                    Some(cmd_step(
                        endpoint_of(n)?,
                        n.id.clone(),
                        vec![
                            "CONFIG".into(),
                            "SET".into(),
                            "cluster-require-full-coverage".into(),
                            value.into(),
                        ],
                        format!("cluster-require-full-coverage {value} on {}", n.label()),
                    ))
                })
                .collect()
        };
        if !unserved.is_empty() && any_on && majority && unserved.len() < SLOT_COUNT {
            let ranges = slots_to_ranges(unserved.iter().copied());
            let served = SLOT_COUNT - unserved.len();
            self.plans.push(FixPlan {
                id: "coverage-off".to_owned(),
                kind: PlanKind::CoverageOff,
                title: format!(
                    "Serve the {served} healthy slots now: cluster-require-full-coverage no on every node"
                ),
                why: self
                    .why(&[FindingKind::ClusterDown, FindingKind::UncoveredSlots], &ranges, None)
                    .unwrap_or_else(|| format!("slots {} are not served, so every node refuses all commands", format_ranges(&ranges))),
                finding: Some(FindingKind::ClusterDown),
                group: Some("full-coverage".to_owned()),
                recommended: false,
                slots: ranges.clone(),
                nodes: ids.clone(),
                steps: set("no"),
                advice: vec![
                    "Temporary: fix the root cause, then run the coverage-on plan. The setting \
                     is not written to the config files (no CONFIG REWRITE), so a restart \
                     reverts it."
                        .to_owned(),
                ],
                risk: Risk {
                    notes: vec![format!(
                        "keys in slots {} keep failing with CLUSTERDOWN Hash slot not served",
                        format_ranges(&ranges)
                    )],
                    ..Risk::default()
                },
                preconditions: Vec::new(),
                expected: vec![Check::new(
                    "cluster-require-full-coverage is no everywhere",
                    Condition::FullCoverage { value: false },
                )],
                confirmation: Confirmation::Simple,
            });
        }
        if any_off {
            let mut notes = Vec::new();
            if !unserved.is_empty() {
                notes.push(format!(
                    "{} slot(s) are still not served: every node will answer CLUSTERDOWN \
                     until they are",
                    unserved.len()
                ));
            }
            self.plans.push(FixPlan {
                id: "coverage-on".to_owned(),
                kind: PlanKind::CoverageOn,
                title: "Revert cluster-require-full-coverage to yes on every node".to_owned(),
                why: self
                    .why(&[FindingKind::FullCoverageOff], &[], None)
                    .unwrap_or_else(|| {
                        "cluster-require-full-coverage is no on some nodes".to_owned()
                    }),
                finding: Some(FindingKind::FullCoverageOff),
                group: Some("full-coverage".to_owned()),
                recommended: unserved.is_empty(),
                slots: Vec::new(),
                nodes: ids,
                steps: set("yes"),
                advice: Vec::new(),
                risk: Risk {
                    notes,
                    ..Risk::default()
                },
                preconditions: Vec::new(),
                expected: vec![Check::new(
                    "cluster-require-full-coverage is yes everywhere",
                    Condition::FullCoverage { value: true },
                )],
                confirmation: Confirmation::Simple,
            });
        }
    }
}

#[cfg(test)]
mod tests;
