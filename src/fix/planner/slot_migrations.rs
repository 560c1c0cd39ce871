//! Atomic slot migrations (Valkey 9+): cancel a stalled job on its source, retry a job that
//! failed or was cancelled and left its slots whole on the source. A job that left slots open
//! or split gets no plan here: the classic families (`open_slots`, `disputes`, `uncovered`)
//! repair what it left. A job that is progressing gets no plan at all.

use crate::cluster::FindingKind;
use crate::cluster::Severity;
use crate::cluster::slot_migrations::{AtomicMigration, JobPhase};
use crate::cluster::slots::{SlotRange, format_ranges, ranges_len};
use crate::cluster::types::NodeId;

use crate::fix::{
    Condition, Confirmation, FixPlan, FixStep, KeysAtRisk, PlanKind, Requirement as Check, Risk,
    StepAction,
};

use super::{Planner, cmd_step, endpoint_of, is_live, is_live_master, u64_of};

/// How long a retried job may take before the plan reports it unfinished.
const RETRY_TIMEOUT_MS: u64 = 120_000;

impl Planner<'_> {
    pub(super) fn slot_migrations(&mut self) {
        for job in &self.model.slot_migrations {
            let Some(f) = self.findings.iter().find(|f| {
                matches!(
                    f.kind,
                    FindingKind::SlotMigrationStalled | FindingKind::SlotMigrationFailed
                ) && f.slots == job.slots
                    && job.source.as_ref().is_some_and(|s| f.nodes.contains(s))
            }) else {
                continue;
            };
            let plan = match (f.kind, f.severity) {
                (FindingKind::SlotMigrationStalled, _) => self.cancel_job(job, &f.summary),
                (FindingKind::SlotMigrationFailed, Severity::Info) => {
                    self.retry_job(job, &f.summary)
                }
                _ => None,
            };
            self.plans.extend(plan);
        }
    }

    fn live_node(&self, id: Option<&NodeId>) -> Option<(NodeId, crate::cluster::types::Endpoint)> {
        let id = id?;
        let n = self.model.node(id).filter(|n| is_live(n))?;
        Some((id.clone(), endpoint_of(n)?))
    }

    /// `CLUSTER CANCELSLOTMIGRATIONS` on the source of a stalled job.
    fn cancel_job(&self, job: &AtomicMigration, why: &str) -> Option<FixPlan> {
        let (source, ep) = self.live_node(job.source.as_ref())?;
        let shown = format_ranges(&job.slots);
        let others = self
            .model
            .slot_migrations
            .iter()
            .filter(|j| j.name != job.name && j.phase() == JobPhase::Running)
            .filter(|j| j.source.as_ref() == Some(&source))
            .count();
        let mut notes = vec![
            "the source keeps owning and serving the slots; the target drops the keys it had \
             received, which clients never saw"
                .to_owned(),
        ];
        if others > 0 {
            notes.push(format!(
                "CANCELSLOTMIGRATIONS cancels every job of the source: {others} other running \
                 job(s) stop too"
            ));
        }
        Some(FixPlan {
            id: format!("cancel-slot-migration-{}", job.name),
            kind: PlanKind::CancelSlotMigration,
            title: format!(
                "Cancel the stalled migration of slot(s) {shown} on its source {}",
                self.label(&source)
            ),
            why: why.to_owned(),
            finding: Some(FindingKind::SlotMigrationStalled),
            group: Some(format!("slot-migration-{}", job.name)),
            recommended: true,
            slots: job.slots.clone(),
            nodes: [Some(source.clone()), job.target.clone()]
                .into_iter()
                .flatten()
                .collect(),
            steps: vec![cmd_step(
                ep,
                Some(source.clone()),
                vec!["CLUSTER".into(), "CANCELSLOTMIGRATIONS".into()],
                format!(
                    "cancel the slot migration jobs of {} (the slots stay there)",
                    self.label(&source)
                ),
            )],
            advice: vec![
                "once both nodes answer again, start the move again (slotscope offers the retry)"
                    .to_owned(),
            ],
            risk: Risk {
                notes,
                ..Risk::default()
            },
            preconditions: vec![
                Check::new(
                    format!("{} still runs job {}", self.label(&source), job.name),
                    Condition::SlotMigrationRunning {
                        node: source.clone(),
                        name: job.name.clone(),
                    },
                ),
                Check::new(
                    format!("{} still owns slot(s) {shown}", self.label(&source)),
                    Condition::SlotsOwnedBy {
                        slots: job.slots.clone(),
                        node: source.clone(),
                    },
                ),
            ],
            expected: vec![
                Check::new(
                    format!("{} runs no slot migration", self.label(&source)),
                    Condition::NoSlotMigrationRunning {
                        node: source.clone(),
                    },
                ),
                Check::new(
                    format!("{} owns slot(s) {shown}", self.label(&source)),
                    Condition::SlotsOwnedBy {
                        slots: job.slots.clone(),
                        node: source,
                    },
                ),
            ],
            confirmation: Confirmation::Simple,
        })
    }

    /// `CLUSTER MIGRATESLOTS` again, for a job that left every slot on the source.
    fn retry_job(&self, job: &AtomicMigration, why: &str) -> Option<FixPlan> {
        let (source, ep) = self.live_node(job.source.as_ref())?;
        let target = job.target.as_ref()?;
        let t = self.model.node(target).filter(|n| is_live_master(n))?;
        let t_ep = endpoint_of(t)?;
        let shown = format_ranges(&job.slots);
        let mut args = vec![
            "CLUSTER".to_owned(),
            "MIGRATESLOTS".to_owned(),
            "SLOTSRANGE".to_owned(),
        ];
        for r in &job.slots {
            args.push(r.start.to_string());
            args.push(r.end.to_string());
        }
        args.push("NODE".to_owned());
        args.push(target.as_str().to_owned());
        let keys: u64 = self
            .model
            .node(&source)
            .and_then(|n| n.census.as_ref())
            .map_or(0, |c| {
                job.slots
                    .iter()
                    .flat_map(SlotRange::iter)
                    .filter_map(|s| c.keys_in(s))
                    .sum()
            });
        Some(FixPlan {
            id: format!("retry-slot-migration-{}", job.name),
            kind: PlanKind::RetrySlotMigration,
            title: format!(
                "Retry the migration of slot(s) {shown} from {} to {}",
                self.label(&source),
                self.label(target)
            ),
            why: why.to_owned(),
            finding: Some(FindingKind::SlotMigrationFailed),
            group: Some(format!("slot-migration-{}", job.name)),
            recommended: true,
            slots: job.slots.clone(),
            nodes: vec![source.clone(), target.clone()],
            steps: vec![
                cmd_step(
                    ep,
                    Some(source.clone()),
                    args,
                    format!(
                        "start an atomic migration of slot(s) {shown} to {}",
                        self.label(target)
                    ),
                ),
                FixStep {
                    endpoint: t_ep,
                    node_id: None,
                    action: StepAction::WaitFor {
                        condition: Condition::SlotsServedBy {
                            slots: job.slots.clone(),
                            node: target.clone(),
                        },
                        timeout_ms: RETRY_TIMEOUT_MS,
                    },
                    description: format!(
                        "wait until {} serves slot(s) {shown}",
                        self.label(target)
                    ),
                },
            ],
            advice: Vec::new(),
            risk: Risk {
                keys_to_move: keys,
                keys_at_risk: KeysAtRisk::Known(0),
                slots_changing_owner: u64_of(ranges_len(&job.slots)),
                loses_data: false,
                notes: vec![
                    "the keys move in one atomic job: clients read them on the source until \
                     the target takes the slots over"
                        .to_owned(),
                ],
            },
            preconditions: vec![
                Check::new(
                    format!("{} still owns slot(s) {shown}", self.label(&source)),
                    Condition::SlotsOwnedBy {
                        slots: job.slots.clone(),
                        node: source.clone(),
                    },
                ),
                Check::new(
                    format!("{} runs no slot migration", self.label(&source)),
                    Condition::NoSlotMigrationRunning {
                        node: source.clone(),
                    },
                ),
                Check::new(
                    format!("{} answers", self.label(target)),
                    Condition::NodeReachable {
                        node: target.clone(),
                    },
                ),
                Check::new(
                    format!("{} is a master", self.label(target)),
                    Condition::NodeIsMaster {
                        node: target.clone(),
                    },
                ),
            ],
            expected: vec![Check::new(
                format!("{} serves slot(s) {shown}", self.label(target)),
                Condition::SlotsServedBy {
                    slots: job.slots.clone(),
                    node: target.clone(),
                },
            )],
            confirmation: Confirmation::Simple,
        })
    }
}
