//! Slot-ownership disputes: nodes whose view binds slots to someone other than the consensus
//! owner. The owner bumps its epoch so its claim wins, each dissenting master is told the
//! owner with `SETSLOT NODE` (after clearing a stale importing marker that freezes its view),
//! and the plan waits until every view agrees.

use std::collections::{BTreeMap, BTreeSet};

use crate::cluster::FindingKind;
use crate::cluster::model::{NodeSummary, Role};
use crate::cluster::slots::{Slot, SlotRange, format_ranges, ranges_len, slots_to_ranges};
use crate::cluster::types::{Endpoint, MarkerKind, NodeId, NodeLine};
use crate::fix::marker::setslot_args;
use crate::fix::{
    Condition, Confirmation, FixPlan, FixStep, KeyEstimate, KeysAtRisk, PlanKind, Requirement, Risk,
};

use super::{Planner, cmd_step, endpoint_of, is_live, is_live_master, short, u64_of, wait_step};

/// A dissenting node, the slots it disagrees on, and the owner it believes in.
type Dissent = (NodeId, Vec<SlotRange>, Option<NodeId>);

/// The rightful owner of the disputed slots.
struct Owner<'m> {
    id: NodeId,
    node: &'m NodeSummary,
}

/// What a dispute plan gathers from its dissenters.
struct Resolution {
    steps: Vec<FixStep>,
    /// Every disputed slot a live dissenter holds a view of.
    all: BTreeSet<Slot>,
    /// The owner, then every live dissenter.
    nodes: Vec<NodeId>,
    notes: Vec<String>,
    pre: Vec<Requirement>,
    /// A dissenting master claims the slots itself (it drops its keys in them).
    self_claim: bool,
    /// Estimated keys the self-claiming dissenters hold in these slots (None: unknown).
    claim_estimate: Option<u64>,
}

impl Planner<'_> {
    /// One plan per rightful owner, correcting every live dissenter.
    pub(super) fn disputes(&mut self) {
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
            if let Some(plan) = self.dispute_plan(owner, &dissent) {
                self.plans.push(plan);
            }
        }
    }

    /// Make every dissenter agree that `owner` owns the slots; `None` when the owner is not a
    /// live master or no live dissenter remains.
    fn dispute_plan(&self, owner: NodeId, dissent: &[Dissent]) -> Option<FixPlan> {
        let on = self.model.node(&owner)?;
        if !is_live_master(on) {
            return None;
        }
        let oep = endpoint_of(on)?;
        let owner = Owner {
            id: owner,
            node: on,
        };
        let mut res = Resolution {
            steps: vec![cmd_step(
                oep.clone(),
                Some(owner.id.clone()),
                vec!["CLUSTER".into(), "BUMPEPOCH".into()],
                format!("give {} the highest epoch so its claim wins", on.label()),
            )],
            all: BTreeSet::new(),
            nodes: vec![owner.id.clone()],
            notes: Vec::new(),
            pre: vec![Requirement::new(
                format!("{} still reachable", on.label()),
                Condition::NodeReachable {
                    node: owner.id.clone(),
                },
            )],
            self_claim: false,
            claim_estimate: Some(0),
        };
        for (node, ranges, its) in dissent {
            self.correct_dissenter(&mut res, &owner, node, ranges, its.as_ref());
        }
        if res.all.is_empty() {
            return None;
        }
        let ranges = slots_to_ranges(res.all.iter().copied());
        res.pre.push(Requirement::new(
            format!(
                "slots {} still owned by {}",
                format_ranges(&ranges),
                on.label()
            ),
            Condition::SlotsOwnedBy {
                slots: ranges.clone(),
                node: owner.id.clone(),
            },
        ));
        res.steps.push(wait_step(
            oep,
            Condition::AllViewsAgree,
            "wait until every node agrees about slot ownership".to_owned(),
        ));
        if res.self_claim {
            res.notes.push(
                "a dissenting master claims these slots itself: when it accepts the owner's \
                 claim it deletes any keys it holds in them (dirty slots)"
                    .to_owned(),
            );
        }
        Some(self.resolve_plan(&owner, ranges, res))
    }

    /// The dispute plan from what its dissenters gave.
    fn resolve_plan(&self, owner: &Owner<'_>, ranges: Vec<SlotRange>, res: Resolution) -> FixPlan {
        let on = owner.node;
        let nslots = u64_of(res.all.len());
        let self_claim = res.self_claim;
        FixPlan {
            id: format!("resolve-dispute-{}", short(&owner.id)),
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
                    Some(&owner.id),
                )
                .unwrap_or_else(|| res.notes.join("; ")),
            finding: Some(FindingKind::SlotOwnershipDispute),
            group: None,
            recommended: true,
            slots: ranges.clone(),
            nodes: res.nodes,
            steps: res.steps,
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: 0,
                keys_at_risk: if self_claim {
                    KeysAtRisk::unknown(
                        "the dissenting master's keys in these slots are not counted",
                        res.claim_estimate.map(|keys| KeyEstimate {
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
                notes: res.notes,
            },
            preconditions: res.pre,
            expected: vec![
                Requirement::new(
                    format!("slots {} served by {}", format_ranges(&ranges), on.label()),
                    Condition::SlotsServedBy {
                        slots: ranges,
                        node: owner.id.clone(),
                    },
                ),
                Requirement::new(
                    "every node agrees about slot ownership",
                    Condition::AllViewsAgree,
                ),
            ],
            confirmation: if self_claim {
                Confirmation::TypeWord(format!("override-{nslots}-slots"))
            } else {
                Confirmation::Simple
            },
        }
    }

    /// Add one live dissenter to the plan: its slots, a note, and for a master with at most
    /// 256 disputed slots the steps that correct its view.
    fn correct_dissenter(
        &self,
        res: &mut Resolution,
        owner: &Owner<'_>,
        node: &NodeId,
        ranges: &[SlotRange],
        its: Option<&NodeId>,
    ) {
        let Some(nn) = self.model.node(node) else {
            return;
        };
        let Some(nep) = endpoint_of(nn) else { return };
        if !is_live(nn) {
            return;
        }
        res.all.extend(ranges.iter().flat_map(SlotRange::iter));
        res.nodes.push(node.clone());
        res.notes.push(format!(
            "{} believes slots {} belong to {}",
            nn.label(),
            format_ranges(ranges),
            its.map_or_else(|| "nobody".to_owned(), |i| self.label(i))
        ));
        if its == Some(node) {
            res.self_claim = true;
            // Its keys in these slots were not counted: estimate them from its average.
            let own = nn.own_line.as_ref().map_or(0, NodeLine::slot_count);
            res.claim_estimate = match (res.claim_estimate, nn.info.as_ref().and_then(|i| i.keys)) {
                (Some(acc), Some(k)) if own > 0 => {
                    let share = u128::from(k) * u128::from(u64_of(ranges_len(ranges)))
                        / u128::from(u64_of(own));
                    Some(acc.saturating_add(u64::try_from(share.min(u128::from(k))).unwrap_or(k)))
                }
                _ => None,
            };
        }
        let count: usize = ranges_len(ranges);
        if count <= 256 && nn.role == Role::Master {
            self.unfreeze_view(res, node, nn, &nep, ranges);
            for s in ranges.iter().flat_map(SlotRange::iter) {
                res.steps.push(cmd_step(
                    nep.clone(),
                    Some(node.clone()),
                    setslot_args(s, &["NODE", owner.id.0.as_ref()]),
                    format!(
                        "tell {} that slot {s} belongs to {}",
                        nn.label(),
                        owner.node.label()
                    ),
                ));
            }
        }
    }

    /// A stale importing marker freezes the dissenter's view (gossip never rebinds a slot it
    /// imports): clear it first, but only where it holds no key of the slot (otherwise this is
    /// a half-moved slot for the open-slot plans, and the dispute plan does not touch it).
    fn unfreeze_view(
        &self,
        res: &mut Resolution,
        node: &NodeId,
        nn: &NodeSummary,
        nep: &Endpoint,
        ranges: &[SlotRange],
    ) {
        let frozen = self.model.open_slots.iter().filter(|o| {
            ranges.iter().any(|r| r.contains(o.slot)) && o.keys.get(node).copied().unwrap_or(0) == 0
        });
        for (o, from) in frozen.flat_map(|o| {
            o.importing
                .iter()
                .filter(|(i, _)| i == node)
                .map(move |(_, from)| (o, from))
        }) {
            res.pre
                .push(self.marker_held(MarkerKind::Importing, o.slot, node, from));
            res.steps.push(cmd_step(
                nep.clone(),
                Some(node.clone()),
                setslot_args(o.slot, &["STABLE"]),
                format!(
                    "clear the stale importing marker of slot {} on {} (it holds no key \
                     there): it stops gossip from correcting this view",
                    o.slot,
                    nn.label()
                ),
            ));
        }
    }
}
