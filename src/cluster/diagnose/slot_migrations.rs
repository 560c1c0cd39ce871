//! Atomic slot migrations (Valkey 9+, see [`crate::cluster::slot_migrations`]): one finding per
//! job that matters now.
//!
//! * A running job that acknowledges is progress (`SlotMigrationInProgress`, info): no repair
//!   is offered for its slots.
//! * A running job whose other side is silent for [`STALL_AFTER_S`] seconds, or whose source
//!   or target is down or does not answer, is stalled (`SlotMigrationStalled`, warning): the
//!   source still serves the slots, but the job holds them until it is cancelled or the server
//!   gives up (`repl-timeout`).
//! * A job that failed or was cancelled in the last hour (`SlotMigrationFailed`): info when it
//!   left the slots whole on the source (nothing to repair; retry when the cause is gone);
//!   warning when it left them open or split between source and target; critical when some of
//!   them are not served (uncovered, disputed, or owned by a third node).
//!
//! Only the newest job per slot counts: an older job of the same slots is history.

use super::ctx::{Ctx, Nodes};
use super::ranges::slots_phrase;
use super::{Finding, FindingKind, Severity};
use crate::cluster::model::SlotState;
use crate::cluster::slot_migrations::{AtomicMigration, JobHealth, JobPhase, STALL_AFTER_S};
use crate::cluster::slots::{SlotRange, push_slot};
use crate::cluster::types::NodeId;

/// What a finished job left in its slots.
#[derive(Default)]
struct Leftover {
    on_source: Vec<SlotRange>,
    on_target: Vec<SlotRange>,
    /// Open (markers), disputed, uncovered or owned by a third node.
    unserved: Vec<SlotRange>,
    open: Vec<SlotRange>,
}

impl Ctx<'_> {
    pub(super) fn slot_migration_findings(&self, out: &mut Vec<Finding>) {
        let mut seen: Vec<SlotRange> = Vec::new();
        for job in &self.model.slot_migrations {
            let newer = job.slots.iter().any(|r| seen.iter().any(|s| s.overlaps(r)));
            seen.extend(job.slots.iter().copied());
            if newer {
                continue;
            }
            let f = match job.phase() {
                JobPhase::Running => Some(self.running_job(job)),
                JobPhase::Failed | JobPhase::Cancelled if job.finished_recently() => {
                    self.finished_job(job)
                }
                _ => None,
            };
            out.extend(f);
        }
    }

    fn job_head(&self, job: &AtomicMigration) -> String {
        format!(
            "Atomic slot migration of {} from {} to {}",
            slots_phrase(&job.slots),
            self.opt_label(job.source.as_ref()),
            self.opt_label(job.target.as_ref()),
        )
    }

    fn opt_label(&self, id: Option<&NodeId>) -> String {
        id.map_or_else(|| "an unknown node".to_owned(), |id| self.id_label(id))
    }

    fn job_finding(
        &self,
        job: &AtomicMigration,
        kind: FindingKind,
        sev: Severity,
        s: String,
    ) -> Finding {
        let mut f = Finding::new(kind, sev, s);
        f.slots.clone_from(&job.slots);
        let mut b = Nodes::default();
        for id in [&job.source, &job.target].into_iter().flatten() {
            b.add_id(self, id);
        }
        b.finish(&mut f);
        f.evidence
            .push(format!("job {} ({})", job.name, job.progress_words()));
        f
    }

    fn running_job(&self, job: &AtomicMigration) -> Finding {
        let why = match job.health_in(self.model) {
            Some(JobHealth::PeerDown { role, node, why }) => {
                format!("the {role} {} {why}", self.id_label(&node))
            }
            Some(JobHealth::Stalled { silent_s }) => {
                format!("no acknowledgement between source and target for {silent_s} s")
            }
            _ => {
                let mut f = self.job_finding(
                    job,
                    FindingKind::SlotMigrationInProgress,
                    Severity::Info,
                    format!("{} in progress: {}", self.job_head(job), job.state()),
                );
                f.evidence.push(
                    "the source serves the slots until the target has every key and takes them \
                     over in one step; no repair is offered for a job that is progressing"
                        .to_owned(),
                );
                return f;
            }
        };
        let mut f = self.job_finding(
            job,
            FindingKind::SlotMigrationStalled,
            Severity::Warning,
            format!("{} is stalled: {why}", self.job_head(job)),
        );
        f.evidence.push(format!(
            "a live job acknowledges every second; this one counts as stalled after {STALL_AFTER_S} \
             s of silence"
        ));
        f.evidence.push(
            "the source still owns and serves these slots; the keys the target received so far \
             are invisible to clients and are dropped when the job ends"
                .to_owned(),
        );
        f.evidence.push(
            "repair: cancel the job on the source (CLUSTER CANCELSLOTMIGRATIONS), then start it \
             again once both nodes answer; left alone, both sides give up after repl-timeout \
             (60 s by default)"
                .to_owned(),
        );
        f
    }

    fn leftover(&self, job: &AtomicMigration) -> Leftover {
        let mut l = Leftover::default();
        let id_of = |idx: u32| {
            self.model
                .nodes
                .get(usize::try_from(idx).unwrap_or(usize::MAX))
                .and_then(|n| n.id.as_ref())
        };
        for s in job.slots.iter().flat_map(SlotRange::iter) {
            let Some(e) = self.model.slots.get(usize::from(s)) else {
                continue;
            };
            let owner = e.owner.and_then(id_of);
            let open = self.model.open_slots.iter().any(|o| o.slot == s);
            if open {
                push_slot(&mut l.open, s);
            }
            if e.state == SlotState::Disputed || owner.is_none() {
                push_slot(&mut l.unserved, s);
            } else if owner == job.source.as_ref() {
                push_slot(&mut l.on_source, s);
            } else if owner == job.target.as_ref() {
                push_slot(&mut l.on_target, s);
            } else {
                push_slot(&mut l.unserved, s);
            }
        }
        l
    }

    fn finished_job(&self, job: &AtomicMigration) -> Option<Finding> {
        let l = self.leftover(job);
        let what = if job.phase() == JobPhase::Cancelled {
            "was cancelled".to_owned()
        } else {
            match job.message() {
                Some(m) => format!("failed ({m})"),
                None => "failed".to_owned(),
            }
        };
        let source = self.opt_label(job.source.as_ref());
        if l.open.is_empty() && l.unserved.is_empty() && l.on_target.is_empty() {
            if l.on_source.is_empty() {
                return None;
            }
            let mut f = self.job_finding(
                job,
                FindingKind::SlotMigrationFailed,
                Severity::Info,
                format!(
                    "{} {what}: nothing moved, the slots stay on {source}",
                    self.job_head(job)
                ),
            );
            f.evidence.push(
                "the target dropped the keys it had received; every key is still on the source"
                    .to_owned(),
            );
            f.evidence
                .push("to move the slots, retry the migration once the cause is gone".to_owned());
            return Some(f);
        }
        if l.open.is_empty() && l.unserved.is_empty() && l.on_source.is_empty() {
            // Everything reached the target: the move happened (the source's report came late).
            return None;
        }
        let mut parts = Vec::new();
        if !l.on_source.is_empty() && !l.on_target.is_empty() {
            parts.push(format!(
                "split ownership: {} on the source, {} on the target",
                slots_phrase(&l.on_source),
                slots_phrase(&l.on_target)
            ));
        }
        if !l.open.is_empty() {
            parts.push(format!(
                "{} left open (migrating/importing markers)",
                slots_phrase(&l.open)
            ));
        }
        if !l.unserved.is_empty() {
            parts.push(format!(
                "{} not served by a single owner",
                slots_phrase(&l.unserved)
            ));
        }
        let sev = if l.unserved.is_empty() {
            Severity::Warning
        } else {
            Severity::Critical
        };
        let mut f = self.job_finding(
            job,
            FindingKind::SlotMigrationFailed,
            sev,
            format!(
                "{} {what} and left its slots in a bad state: {}",
                self.job_head(job),
                parts.join("; ")
            ),
        );
        f.evidence.push(
            "this is no longer an atomic job: repair the slots with the classic repair offered \
             for them (close or finish the open slots, settle the owner), not by retrying"
                .to_owned(),
        );
        Some(f)
    }
}

#[cfg(test)]
mod tests;
