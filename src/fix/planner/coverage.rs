//! Full coverage: `cluster-require-full-coverage no` to serve the healthy slots while some are
//! not served, and back to `yes` once the cluster is whole.

use crate::cluster::FindingKind;
use crate::cluster::model::{NodeSummary, SlotState};
use crate::cluster::slots::{SLOT_COUNT, Slot, format_ranges, slots_to_ranges};
use crate::cluster::types::NodeId;
use crate::fix::{Condition, Confirmation, FixPlan, FixStep, PlanKind, Requirement, Risk};

use super::{Planner, cmd_step, endpoint_of, is_live};

impl Planner<'_> {
    /// `cluster-require-full-coverage no` on every live node while some slots are not served
    /// (a majority of masters live), and back to `yes` wherever it is off.
    pub(super) fn coverage(&mut self) {
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
                expected: vec![Requirement::new(
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
                expected: vec![Requirement::new(
                    "cluster-require-full-coverage is yes everywhere",
                    Condition::FullCoverage { value: true },
                )],
                confirmation: Confirmation::Simple,
            });
        }
    }
}
