//! Which one plan to recommend among alternatives: the one that restores service with the least
//! data loss.
//!
//! The order, best first:
//! 1. a plan that writes, loses nothing and brings the slots back (a composite that does the
//!    whole repair before a single step of it; `CLUSTER MEET` before settling a dispute that
//!    the meet ends by itself);
//! 2. advice that loses nothing (a restart with the data on disk): recommended only when every
//!    plan that writes can lose data that the restart would save;
//! 3. a plan that writes and can lose data, fewest keys at risk first (an unknown count after
//!    every known one), the whole repair before a part of it;
//! 4. temporary relief (`cluster-require-full-coverage`), which serves the other slots but
//!    not the ones that are down;
//! 5. advice that cannot save the data either (a restart of a master without persistence).

use crate::fix::{FixPlan, KeysAtRisk, PlanKind};

/// Mark exactly one plan of `plans` as recommended (none when `plans` is empty).
pub fn recommend_one(plans: &mut [FixPlan]) {
    let best = best_of(plans, 0..plans.len());
    for (i, p) in plans.iter_mut().enumerate() {
        p.recommended = Some(i) == best;
    }
}

/// The best of the plans at `candidates` (indexes into `plans`), by the order above; a tie
/// keeps the plan already recommended, then the first.
pub(super) fn best_of(
    plans: &[FixPlan],
    candidates: impl IntoIterator<Item = usize>,
) -> Option<usize> {
    candidates.into_iter().min_by_key(|&i| {
        plans
            .get(i)
            .map_or((u8::MAX, u8::MAX, u64::MAX, u8::MAX, true, i), |p| {
                let (keys, unknown) = match &p.risk.keys_at_risk {
                    KeysAtRisk::Known(n) => (*n, 0),
                    KeysAtRisk::Unknown { .. } => (u64::MAX, 1),
                };
                (tier(p), unknown, keys, kind_rank(p.kind), !p.recommended, i)
            })
    })
}

fn tier(p: &FixPlan) -> u8 {
    let relief = matches!(p.kind, PlanKind::CoverageOff | PlanKind::CoverageOn);
    match (p.is_advice_only(), p.risk.loses_data, relief) {
        (false, false, false) => 0,
        (true, false, _) => 1,
        (false, true, false) => 2,
        (false, _, true) => 3,
        (true, true, _) => 4,
    }
}

/// Within a tier: the whole repair first, then a join that ends a dispute by itself.
fn kind_rank(kind: PlanKind) -> u8 {
    match kind {
        k if k.is_composite() => 0,
        PlanKind::Failover | PlanKind::Meet => 1,
        _ => 2,
    }
}
