//! Reshards in progress (`ReshardInProgress`): one info finding per pair of masters between
//! which slots or keys moved since the previous observation (see [`crate::cluster::progress`]).
//! Their open slots get no `OpenSlot` finding: they are moving, not half-moved.

use super::ctx::{Ctx, Nodes};
use super::ranges::slots_phrase;
use super::words::{human_ms, plural_u64};
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::ClusterModel;
use crate::cluster::progress::Flow;
use crate::cluster::slots::slots_to_ranges;

impl Ctx<'_> {
    pub(super) fn progress_findings(&self, out: &mut Vec<Finding>) {
        for flow in self.model.progress.active() {
            out.push(self.flow_finding(flow));
        }
    }

    fn flow_finding(&self, flow: &Flow) -> Finding {
        let open = slots_to_ranges(flow.open.iter().copied());
        let now = if open.is_empty() {
            String::new()
        } else {
            format!("; {} moving now", slots_phrase(&open))
        };
        let mut f = Finding::new(
            FindingKind::ReshardInProgress,
            Severity::Info,
            format!(
                "Reshard in progress from {} to {}: {} {} moved so far ({:.0} slots/s, {:.0} \
                 keys/s){now}",
                self.id_label(&flow.source),
                self.id_label(&flow.target),
                flow.slots_moved,
                plural_u64(flow.slots_moved, "slot", "slots"),
                flow.slots_per_s(),
                flow.keys_per_s(),
            ),
        );
        f.slots = open;
        let mut b = Nodes::default();
        b.add_id(self, &flow.source);
        b.add_id(self, &flow.target);
        b.finish(&mut f);
        f.evidence.push(format!(
            "{} {} moved in {} (between consecutive observations)",
            flow.keys_moved,
            plural_u64(flow.keys_moved, "key", "keys"),
            human_ms(flow.last_active_ms.saturating_sub(flow.started_at_ms))
        ));
        if let Some(eta) = flow.eta_s() {
            f.evidence.push(format!(
                "{} slots still marked open between them: about {eta:.0} s to go",
                flow.open.len()
            ));
        }
        f.evidence.push(
            "no repair is offered for a slot that is moving; if the move stops, the slot left \
             open is reported at the next refresh"
                .to_owned(),
        );
        f
    }
}

/// Findings a live reshard makes for a moment: markers, views that have not learnt the new
/// owner yet, keys counted on the target just before its claim was seen.
const TRANSIENT: [FindingKind; 5] = [
    FindingKind::OpenSlot,
    FindingKind::SlotOwnershipDispute,
    FindingKind::StrayKeys,
    FindingKind::UncoveredSlots,
    FindingKind::ClusterDown,
];

/// A finding of a [`TRANSIENT`] kind about slots in motion only (open in an active flow, or
/// moved in the last two intervals), or stray keys or an ownership dispute that names both
/// ends of an active flow, is part of the reshard: info, with a line saying why. If the reshard stops, the next refresh
/// reports whatever it left.
pub(super) fn soften_in_motion(model: &ClusterModel, findings: &mut [Finding]) {
    let progress = &model.progress;
    if progress.flows.is_empty() {
        return;
    }
    for f in findings {
        if f.severity == Severity::Info || !TRANSIENT.contains(&f.kind) || f.slots.is_empty() {
            continue;
        }
        let slots_moving = f
            .slots
            .iter()
            .all(|r| r.iter().all(|s| progress.in_motion(s)));
        // Slots a step ahead of the moved ones: some views, or the target's key count,
        // already have the target while the consensus still has the source (or the reverse).
        let between_ends = matches!(
            f.kind,
            FindingKind::StrayKeys | FindingKind::SlotOwnershipDispute
        ) && progress
            .active()
            .any(|flow| f.nodes.contains(&flow.source) && f.nodes.contains(&flow.target));
        if slots_moving || between_ends {
            f.severity = Severity::Info;
            f.evidence.push(
                "these slots are moving in a live reshard: views and key counts catch up \
                 within a refresh; reported again if the move stops"
                    .to_owned(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cluster::diagnose::tests::kit::*;
    use crate::cluster::progress::{Flow, Progress};

    #[test]
    fn a_moving_slot_is_progress_not_a_half_moved_slot() {
        let mut m = ModelBuilder::healthy(3, 1)
            .open(100, 0u16, 1u16, true, true, &[(0u16, 5), (1u16, 3)])
            .build();
        let f = diagnose(&m);
        assert_eq!(kinds(&f), vec![(K::OpenSlot, W)], "{f:#?}");
        m.progress = Progress {
            flows: vec![Flow {
                source: id(0u16),
                target: id(1u16),
                started_at_ms: 1_000,
                last_active_ms: 11_000,
                active: true,
                slots_moved: 2000,
                keys_moved: 36_000,
                open: vec![100],
                moved_now: vec![],
                moved_before: vec![],
            }],
        };
        let f = diagnose(&m);
        assert_eq!(
            kinds(&f),
            vec![(K::ReshardInProgress, Severity::Info)],
            "{f:#?}"
        );
        assert!(
            f[0].summary.contains(
                "2000 slots moved so far (200 slots/s, 3600 keys/s); slot 100 moving now"
            ),
            "{}",
            f[0].summary
        );
        assert!(verdict(&m, &f).starts_with("OK: "), "{}", verdict(&m, &f));
        // Once it stops, the slot left open is an incident again.
        m.progress.flows[0].active = false;
        assert_eq!(kinds(&diagnose(&m)), vec![(K::OpenSlot, W)]);
    }
}
