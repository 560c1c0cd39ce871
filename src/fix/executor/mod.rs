//! Runs a confirmed [`FixPlan`] through the central connection layer
//! ([`crate::refresh::Connector`], which refuses writes in read-only mode).
//!
//! Order of work:
//! 1. refuse at once in read-only mode or for advice-only plans (nothing sent);
//! 2. observe the cluster, lock every node of it against a second slotscope on this host
//!    ([`super::lock`]), observe again and re-check every precondition on that fresh model; if
//!    anything changed, or keys of the plan's slots moved between the two observations (a
//!    reshard that slotscope did not start), stop without writing and say what;
//! 3. run the steps one by one, emitting [`FixEvent`]s on a bounded channel; every write is
//!    recorded in the audit log before it is sent (flushed to disk) and completed with its
//!    result after; stop at the first error, never retry a write;
//! 4. re-observe until the expected end state holds (bounded), and report whether the finding is
//!    gone and what new findings appeared.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Value;
use serde::Serialize;
use tokio::sync::mpsc;

mod migrate;
mod moving;

pub use moving::keys_moving;

use super::audit::{AuditLog, AuditPhase, AuditRecord, ConfirmationGiven, os_user, rfc3339_ms};
use super::lock::FixLock;
use super::{Condition, FixPlan, FixStep, StepAction, failed_checks};
use crate::cluster::model::ClusterModel;
use crate::cluster::slots::Slot;
use crate::cluster::types::{ClusterSnapshot, NodeId};
use crate::cluster::{Finding, FindingKind, diagnose};
use crate::refresh::conn::{redact_args, sanitize};
use crate::refresh::{CommandError, Connector, now_ms, observe_fresh};

/// Default time allowed for the cluster to converge after the last step.
pub const DEFAULT_CONVERGE_TIMEOUT: Duration = Duration::from_secs(20);

/// Pause between observations while waiting.
const POLL: Duration = Duration::from_millis(300);

/// Pause between the two observations that must agree before the first write: keys moving
/// between nodes in that window mean that something else is resharding.
const MOVE_WINDOW: Duration = Duration::from_millis(500);

/// Added to a `MIGRATE`'s own timeout to get how long we wait for its reply.
const MIGRATE_REPLY_MARGIN: Duration = Duration::from_secs(2);

/// How long to wait for the reply to one `MIGRATE` (or `DUMP`) of a batch.
///
/// `MIGRATE`'s `timeout` argument bounds each I/O with the target (an idle time), not the
/// whole call, so a batch of big keys can legitimately take longer: allow twice that plus a
/// margin, and never less than the connector's ordinary command timeout. Without this the
/// client would give up (after the default 1 s) while the server is still moving keys, and
/// report an unknown outcome for a batch that succeeds.
#[must_use]
pub fn migrate_reply_timeout(timeout_ms: u64, command_timeout: Duration) -> Duration {
    Duration::from_millis(timeout_ms.saturating_mul(2))
        .saturating_add(MIGRATE_REPLY_MARGIN)
        .max(command_timeout)
}

/// Capacity of the event channel callers should create.
pub const EVENT_CHANNEL_CAPACITY: usize = 64;

/// Progress of a run, in order. Every run ends with [`FixEvent::Finished`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FixEvent {
    /// Re-observing the cluster to re-check the preconditions.
    CheckingPreconditions,
    /// Preconditions hold on fresh data; the steps start.
    PreconditionsHold,
    /// Step `n` of `of` (1-based) starts.
    StepStarted {
        n: usize,
        of: usize,
        node: String,
        command: String,
        description: String,
    },
    /// A MIGRATE batch moved keys.
    KeysMoved {
        n: usize,
        slot: Slot,
        batch: u64,
        total: u64,
    },
    /// Step `n` succeeded.
    StepDone { n: usize, of: usize, reply: String },
    /// Step `n` failed: the run stops here.
    StepFailed {
        n: usize,
        of: usize,
        error: String,
        done: Vec<String>,
        not_done: Vec<String>,
    },
    /// Waiting for the cluster to converge and checking the expected end state.
    Verifying,
    /// The end state after the run.
    Verified {
        /// Every expectation of the plan holds.
        finding_gone: bool,
        /// Expectations that do not hold (plain words).
        unmet: Vec<String>,
        /// Findings present after the run that were not there before (summaries).
        new_findings: Vec<String>,
    },
    /// The run is over.
    Finished(FixOutcome),
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FixOutcome {
    /// Nothing was sent: read-only mode, an advice-only plan, or no audit log.
    Refused { reason: String },
    /// Nothing was sent: the cluster changed since the plan was made.
    Changed { changes: Vec<String> },
    /// The cluster could not be observed before running; nothing was sent.
    Unobservable { error: String },
    /// A step failed; earlier steps were applied.
    Failed {
        step: usize,
        error: String,
        done: Vec<String>,
        not_done: Vec<String>,
    },
    /// Every step ran; `verified` says whether the expected end state was reached.
    Completed {
        verified: bool,
        unmet: Vec<String>,
        new_findings: Vec<String>,
    },
}

impl FixOutcome {
    /// True when every step ran and the end state was verified.
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Completed { verified: true, .. })
    }

    /// True when the run wrote nothing.
    #[must_use]
    pub fn wrote_nothing(&self) -> bool {
        matches!(
            self,
            Self::Refused { .. } | Self::Changed { .. } | Self::Unobservable { .. }
        )
    }
}

/// Asks a running plan to stop before its next step (the step under way finishes first).
/// Clones share the request.
#[derive(Clone, Debug, Default)]
pub struct StopRequest(Arc<std::sync::atomic::AtomicBool>);

impl StopRequest {
    /// Ask the run to stop before its next step.
    pub fn request(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    #[must_use]
    pub fn is_requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Runs plans. Share one per cluster; it holds the connector and the audit log.
#[derive(Clone, Debug)]
pub struct Executor {
    connector: Arc<Connector>,
    audit: Option<AuditLog>,
    cluster: String,
    converge_timeout: Duration,
    lock_dir: std::path::PathBuf,
    /// Of the run under way (set on the run's own copy, see [`Executor::for_run`]).
    given: ConfirmationGiven,
    /// Of the run under way: the observed cluster's id.
    cluster_id: Option<String>,
}

/// Why one step failed.
struct StepError(String);

impl Executor {
    /// An executor sending through `connector` and auditing to `audit` (`None`: no audit,
    /// for tests only — the CLI and the TUI always pass one).
    #[must_use]
    pub fn new(connector: Arc<Connector>, audit: Option<AuditLog>) -> Self {
        let cluster = connector
            .options()
            .seeds
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        Self {
            connector,
            audit,
            cluster,
            converge_timeout: DEFAULT_CONVERGE_TIMEOUT,
            lock_dir: super::lock::default_dir(),
            given: ConfirmationGiven::Program,
            cluster_id: None,
        }
    }

    /// Keep the per-node lock files in `dir` instead of the shared default
    /// ([`super::lock::default_dir`]). Runs that should exclude each other must use one dir.
    #[must_use]
    pub fn with_lock_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.lock_dir = dir.into();
        self
    }

    /// Change how long the final verification waits for convergence.
    #[must_use]
    pub fn with_converge_timeout(mut self, timeout: Duration) -> Self {
        self.converge_timeout = timeout;
        self
    }

    /// The connector (shared with the refresher).
    #[must_use]
    pub fn connector(&self) -> &Arc<Connector> {
        &self.connector
    }

    /// Observe the cluster once and build its model.
    async fn observe(
        &self,
        previous: &mut Option<ClusterSnapshot>,
    ) -> Result<ClusterModel, String> {
        match observe_fresh(&self.connector, previous.as_ref()).await {
            Ok(snap) => {
                let model = ClusterModel::build(&snap);
                *previous = Some(snap);
                Ok(model)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Run a plan that the user confirmed. Events go to `events` (bounded; a closed channel
    /// does not stop the run). The returned outcome is also sent as [`FixEvent::Finished`].
    pub async fn execute(&self, plan: &FixPlan, events: &mpsc::Sender<FixEvent>) -> FixOutcome {
        self.execute_stoppable(plan, events, &StopRequest::default())
            .await
    }

    /// [`Executor::execute`] that also honours `stop`: once it is requested, no further step
    /// is started (the one under way finishes), and the outcome says what ran and what did
    /// not (`Refused` when no step ran yet, else `Failed` at the first step not run).
    pub async fn execute_stoppable(
        &self,
        plan: &FixPlan,
        events: &mpsc::Sender<FixEvent>,
        stop: &StopRequest,
    ) -> FixOutcome {
        self.execute_confirmed(plan, ConfirmationGiven::Program, events, stop)
            .await
    }

    /// [`Executor::execute_stoppable`] for a plan the user confirmed as `given`, which the
    /// audit log records with every write.
    pub async fn execute_confirmed(
        &self,
        plan: &FixPlan,
        given: ConfirmationGiven,
        events: &mpsc::Sender<FixEvent>,
        stop: &StopRequest,
    ) -> FixOutcome {
        let outcome = self.run(plan, given, events, stop).await;
        emit(events, FixEvent::Finished(outcome.clone())).await;
        outcome
    }

    /// This executor for one run: the confirmation given, the observed cluster's id, and the
    /// audit log of that cluster (a `{cluster}` path resolved).
    fn for_run(&self, given: ConfirmationGiven, before: &ClusterModel) -> Self {
        let cluster_id =
            crate::cluster::digest::cluster_id(before.nodes.iter().filter_map(|n| n.id.as_ref()));
        Self {
            audit: self.audit.as_ref().map(|a| a.for_cluster(&cluster_id)),
            given,
            cluster_id: Some(cluster_id),
            ..self.clone()
        }
    }

    async fn run(
        &self,
        plan: &FixPlan,
        given: ConfirmationGiven,
        events: &mpsc::Sender<FixEvent>,
        stop: &StopRequest,
    ) -> FixOutcome {
        if self.connector.options().read_only {
            return FixOutcome::Refused {
                reason: "slotscope runs in read-only mode: fixes are disabled".to_owned(),
            };
        }
        if plan.is_advice_only() {
            return FixOutcome::Refused {
                reason: "this plan is advice only: there is nothing to run".to_owned(),
            };
        }
        // A per-cluster path is known once the cluster is observed (checked below).
        if let Some(audit) = self.audit.as_ref().filter(|a| !a.per_cluster())
            && let Err(e) = audit.ensure_writable()
        {
            return FixOutcome::Refused {
                reason: format!("the audit log cannot be written ({e}); nothing was sent"),
            };
        }

        // Fresh data, one writer, preconditions, nothing else moving keys.
        emit(events, FixEvent::CheckingPreconditions).await;
        let mut previous: Option<ClusterSnapshot> = None;
        let (before, _lock) = match self.prepare(plan, &mut previous).await {
            Ok(ready) => ready,
            Err(outcome) => return outcome,
        };
        let this = self.for_run(given, &before);
        if let Some(audit) = &this.audit
            && let Err(e) = audit.ensure_writable()
        {
            return FixOutcome::Refused {
                reason: format!("the audit log cannot be written ({e}); nothing was sent"),
            };
        }
        emit(events, FixEvent::PreconditionsHold).await;
        let findings_before = diagnose(&before);

        if let Err(outcome) = this.run_steps(plan, events, stop, &mut previous).await {
            return outcome;
        }
        this.verify(plan, events, &findings_before, &mut previous)
            .await
    }

    /// Run the steps one by one; stop at the first error or at a requested stop.
    async fn run_steps(
        &self,
        plan: &FixPlan,
        events: &mpsc::Sender<FixEvent>,
        stop: &StopRequest,
        previous: &mut Option<ClusterSnapshot>,
    ) -> Result<(), FixOutcome> {
        let of = plan.steps.len();
        for (i, step) in plan.steps.iter().enumerate() {
            let n = i + 1;
            if stop.is_requested() {
                if i == 0 {
                    return Err(FixOutcome::Refused {
                        reason: "abandoned by the user before the first step; nothing was sent"
                            .to_owned(),
                    });
                }
                return Err(FixOutcome::Failed {
                    step: n,
                    error: "abandoned by the user before this step".to_owned(),
                    done: plan.steps[..i].iter().map(step_line).collect(),
                    not_done: plan.steps[i..].iter().map(step_line).collect(),
                });
            }
            emit(
                events,
                FixEvent::StepStarted {
                    n,
                    of,
                    node: step.endpoint.to_string(),
                    command: step.command_text(),
                    description: step.description.clone(),
                },
            )
            .await;
            let result = match &step.action {
                StepAction::Command { args, tolerate } => {
                    self.run_command(plan, n, step, args, tolerate).await
                }
                StepAction::MigrateSlotKeys {
                    slot,
                    to_endpoint,
                    batch,
                    timeout_ms,
                    ..
                } => {
                    self.migrate(
                        plan,
                        n,
                        step,
                        *slot,
                        to_endpoint,
                        *batch,
                        *timeout_ms,
                        events,
                    )
                    .await
                }
                StepAction::WaitFor {
                    condition,
                    timeout_ms,
                } => {
                    self.wait_for(condition, Duration::from_millis(*timeout_ms), previous)
                        .await
                }
            };
            match result {
                Ok(reply) => emit(events, FixEvent::StepDone { n, of, reply }).await,
                Err(StepError(error)) => {
                    let done: Vec<String> = plan.steps[..i].iter().map(step_line).collect();
                    let mut not_done: Vec<String> =
                        vec![format!("{} (failed: {error})", step_line(step))];
                    not_done.extend(plan.steps[n..].iter().map(step_line));
                    emit(
                        events,
                        FixEvent::StepFailed {
                            n,
                            of,
                            error: error.clone(),
                            done: done.clone(),
                            not_done: not_done.clone(),
                        },
                    )
                    .await;
                    return Err(FixOutcome::Failed {
                        step: n,
                        error,
                        done,
                        not_done,
                    });
                }
            }
        }
        Ok(())
    }

    /// Re-observe until the expected end state holds (bounded); say what holds and what is new.
    async fn verify(
        &self,
        plan: &FixPlan,
        events: &mpsc::Sender<FixEvent>,
        findings_before: &[Finding],
        previous: &mut Option<ClusterSnapshot>,
    ) -> FixOutcome {
        emit(events, FixEvent::Verifying).await;
        let deadline = Instant::now() + self.converge_timeout;
        let (unmet, after) = loop {
            match self.observe(previous).await {
                Ok(model) => {
                    let unmet = failed_checks(&plan.expected, &model);
                    if unmet.is_empty() || Instant::now() >= deadline {
                        break (unmet, Some(model));
                    }
                }
                Err(e) if Instant::now() >= deadline => {
                    break (vec![format!("could not observe the cluster: {e}")], None);
                }
                Err(_) => {}
            }
            tokio::time::sleep(POLL).await;
        };
        let new_findings = after
            .as_ref()
            .map(|m| new_findings(findings_before, &diagnose(m)))
            .unwrap_or_default();
        let verified = unmet.is_empty();
        emit(
            events,
            FixEvent::Verified {
                finding_gone: verified,
                unmet: unmet.clone(),
                new_findings: new_findings.clone(),
            },
        )
        .await;
        FixOutcome::Completed {
            verified,
            unmet,
            new_findings,
        }
    }

    /// Observe, lock every node of the cluster, wait [`MOVE_WINDOW`], observe again, and check
    /// the preconditions and that no key of the plan's slots moved between the observations.
    /// Returns the fresh model and the held lock, or the outcome that stops the run.
    async fn prepare(
        &self,
        plan: &FixPlan,
        previous: &mut Option<ClusterSnapshot>,
    ) -> Result<(ClusterModel, FixLock), FixOutcome> {
        let first = self
            .observe(previous)
            .await
            .map_err(|error| FixOutcome::Unobservable { error })?;
        let first_snapshot = previous.clone();
        let ms = now_ms();
        let holder = format!(
            "pid {}, user {}, plan {}, since {}",
            std::process::id(),
            os_user(),
            plan.id,
            rfc3339_ms(ms)
        );
        let ids = first.nodes.iter().filter_map(|n| n.id.as_ref());
        let lock =
            FixLock::acquire(&self.lock_dir, ids, &holder).map_err(|e| FixOutcome::Refused {
                reason: format!("{e}; nothing was sent"),
            })?;
        tokio::time::sleep(MOVE_WINDOW).await;
        let before = self
            .observe(previous)
            .await
            .map_err(|error| FixOutcome::Unobservable { error })?;
        if let Some(reason) = refused_now(plan, &before) {
            return Err(FixOutcome::Refused { reason });
        }
        let mut changes = failed_checks(&plan.preconditions, &before);
        changes.extend(riskier_now(plan, &before));
        if let (Some(a), Some(b)) = (first_snapshot.as_ref(), previous.as_ref()) {
            changes.extend(keys_moving(&plan.slots, a, b));
        }
        if !changes.is_empty() {
            return Err(FixOutcome::Changed { changes });
        }
        Ok((before, lock))
    }

    /// Record a write before it is sent (flushed): if slotscope dies while the command is in
    /// flight, the log still says it may have been applied. Nothing is sent when this fails.
    fn audit_intent(
        &self,
        plan: &FixPlan,
        n: usize,
        step: &FixStep,
        command: &str,
    ) -> Result<(), StepError> {
        self.append_audit(plan, n, step, command, "pending", AuditPhase::Sending)
            .map_err(|e| {
                StepError(format!(
                    "the audit log could not be written ({e}); the command was not sent"
                ))
            })
    }

    fn audit(
        &self,
        plan: &FixPlan,
        n: usize,
        step: &FixStep,
        command: &str,
        result: &str,
    ) -> Result<(), StepError> {
        self.append_audit(plan, n, step, command, result, AuditPhase::Done)
            .map_err(|e| StepError(format!("the write was sent but the audit log failed: {e}")))
    }

    fn append_audit(
        &self,
        plan: &FixPlan,
        n: usize,
        step: &FixStep,
        command: &str,
        result: &str,
        phase: AuditPhase,
    ) -> std::io::Result<()> {
        let Some(log) = &self.audit else {
            return Ok(());
        };
        let ms = now_ms();
        log.append(&AuditRecord {
            time: rfc3339_ms(ms),
            time_ms: ms,
            user: os_user(),
            cluster: self.cluster.clone(),
            plan: plan.id.clone(),
            plan_title: plan.title.clone(),
            confirmation: Some(self.given),
            cluster_id: self.cluster_id.clone(),
            step: n,
            node: step.endpoint.to_string(),
            node_id: step.node_id.as_ref().map(ToString::to_string),
            command: command.to_owned(),
            result: result.to_owned(),
            phase,
        })
    }

    fn redact(&self, args: &[String]) -> String {
        redact_args(args, self.connector.options().password.as_ref())
    }

    async fn run_command(
        &self,
        plan: &FixPlan,
        n: usize,
        step: &FixStep,
        args: &[String],
        tolerate: &[String],
    ) -> Result<String, StepError> {
        let shown = self.redact(args);
        // Commands the central guard refuses are never sent, so never recorded.
        if crate::refresh::conn::check_allowed(self.connector.options().read_only, args).is_ok() {
            self.audit_intent(plan, n, step, &shown)?;
        }
        let r = self.connector.command(&step.endpoint, args).await;
        let sent = !matches!(r, Err(CommandError::ReadOnlyRefused { .. }));
        let (result, outcome) = match r {
            Ok(v) => {
                let text = reply_text(&v);
                (format!("ok: {text}"), Ok(text))
            }
            Err(CommandError::Server { code, message })
                if tolerate
                    .iter()
                    .any(|t| format!("{code} {message}").contains(t.as_str())) =>
            {
                let text = format!("tolerated: {code} {message}");
                (text.clone(), Ok(text))
            }
            Err(e) => {
                let text = sanitize(&e.to_string(), self.connector.options().password.as_ref());
                let unknown = matches!(e, CommandError::Timeout { .. } | CommandError::Io(_));
                let msg = if unknown {
                    format!("{text} — the command may or may not have been applied")
                } else {
                    text.clone()
                };
                (format!("error: {text}"), Err(StepError(msg)))
            }
        };
        if sent {
            self.audit(plan, n, step, &shown, &result)?;
        }
        outcome
    }

    async fn wait_for(
        &self,
        condition: &Condition,
        timeout: Duration,
        previous: &mut Option<ClusterSnapshot>,
    ) -> Result<String, StepError> {
        let start = Instant::now();
        loop {
            let why = match self.observe(previous).await {
                Ok(model) => match condition.check(&model) {
                    Ok(()) => {
                        return Ok(format!(
                            "reached after {:.1} s",
                            start.elapsed().as_secs_f64()
                        ));
                    }
                    Err(why) => why,
                },
                Err(e) => format!("could not observe the cluster: {e}"),
            };
            if start.elapsed() >= timeout {
                return Err(StepError(format!(
                    "not reached after {} s: {why}",
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The plan replayed on the key counts measured just now: if it would now lose keys that
/// the confirmation did not accept (a plain yes for a plan that now deletes or hides keys, or
/// more keys than the typed word was given for), say so; the run must not start.
fn riskier_now(plan: &FixPlan, fresh: &ClusterModel) -> Vec<String> {
    let mut now = plan.clone();
    super::effects::enforce(&mut now, fresh);
    let note = || now.risk.notes.last().cloned().unwrap_or_default();
    if now.risk.loses_data && !plan.risk.loses_data {
        return vec![format!(
            "confirmed as keeping every key, but {}: look again",
            note()
        )];
    }
    match (
        plan.risk.keys_at_risk.known(),
        now.risk.keys_at_risk.known(),
    ) {
        (Some(was), Some(is)) if is > was => vec![format!(
            "confirmed for {was} key(s) at risk, now {is}: {}; look again",
            note()
        )],
        (Some(was), None) if plan.risk.loses_data => vec![format!(
            "confirmed for {was} key(s) at risk, but the keys at risk cannot all be counted now: \
             look again"
        )],
        _ => Vec::new(),
    }
}

/// The last check before the first write: a step whose node is known, from the fresh
/// observation, to refuse the step's command stops the run, and says why.
fn refused_now(plan: &FixPlan, fresh: &ClusterModel) -> Option<String> {
    let why = super::planner::refused_steps(fresh, plan);
    (!why.is_empty()).then(|| {
        format!(
            "{}; nothing was sent (run the steps with a user that may run them, see docs/acl.md)",
            why.join("; ")
        )
    })
}

fn step_line(s: &FixStep) -> String {
    format!("{}: {}", s.endpoint, s.command_text())
}

async fn emit(events: &mpsc::Sender<FixEvent>, ev: FixEvent) {
    // A closed channel (the UI went away) must not stop a run half-way.
    let _ = events.send(ev).await;
}

fn reply_text(v: &Value) -> String {
    match v {
        Value::Okay => "OK".to_owned(),
        Value::Nil => "(nil)".to_owned(),
        Value::Int(i) => i.to_string(),
        Value::SimpleString(s) => s.clone(),
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Array(a) => format!("({} items)", a.len()),
        other => format!("{other:?}"),
    }
}

/// Summaries of findings in `after` that have no counterpart before.
///
/// A counterpart has the same kind, the same set of nodes, and overlapping slots (or no slots
/// on either side). Summary texts are not compared: they carry numbers (slot counts, key
/// counts) that a fix changes on purpose, e.g. "no replica" for a master that gained slots in
/// a reshard is the same finding, not a new one.
fn new_findings(before: &[Finding], after: &[Finding]) -> Vec<String> {
    after
        .iter()
        // The plan's own slot moves show up as a reshard in progress: not a new problem.
        .filter(|f| f.kind != FindingKind::ReshardInProgress)
        .filter(|f| !before.iter().any(|b| same_finding(b, f)))
        .map(|f| f.summary.clone())
        .collect()
}

/// Whether two findings are about the same problem (see [`new_findings`]).
fn same_finding(a: &Finding, b: &Finding) -> bool {
    fn nodes(f: &Finding) -> BTreeSet<&NodeId> {
        f.nodes.iter().collect()
    }
    let slots_match = if a.slots.is_empty() || b.slots.is_empty() {
        a.slots.is_empty() && b.slots.is_empty()
    } else {
        a.slots
            .iter()
            .any(|x| b.slots.iter().any(|y| x.overlaps(y)))
    };
    a.kind == b.kind && nodes(a) == nodes(b) && slots_match
}

/// The node ids a plan writes to (for the dialog).
#[must_use]
pub fn nodes_written(plan: &FixPlan) -> Vec<NodeId> {
    let mut v: Vec<NodeId> = plan
        .steps
        .iter()
        .filter(|s| s.is_write())
        .filter_map(|s| s.node_id.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::slots::SlotRange;
    use crate::cluster::{FindingKind, Severity};

    fn finding(
        kind: FindingKind,
        summary: &str,
        slots: &[(Slot, Slot)],
        nodes: &[&str],
    ) -> Finding {
        Finding {
            kind,
            severity: Severity::Warning,
            summary: summary.to_owned(),
            slots: slots.iter().map(|(a, b)| SlotRange::new(*a, *b)).collect(),
            nodes: nodes.iter().map(|n| NodeId::from(*n)).collect(),
            addresses: Vec::new(),
            evidence: Vec::new(),
        }
    }

    /// Two nodes, with these key counts of slot 5 (`None`: not counted).
    fn counted(a: Option<u64>, b: Option<u64>) -> ClusterSnapshot {
        let nodes = "aaaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n\
                     bbbb 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n";
        let mut snap = crate::cluster::synthetic::snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(nodes)),
            ("127.0.0.1:7001", Ok(nodes)),
        ]);
        for (obs, n) in snap.observations.iter_mut().zip([a, b]) {
            if let (Ok(r), Some(n)) = (obs.result.as_mut(), n) {
                r.slot_keys.insert(5, n);
            }
        }
        snap
    }

    /// The two-master model of [`counted`], with a census giving `a_keys` keys of slot 5 to
    /// master a (which serves it).
    fn with_census(a_keys: u64) -> ClusterModel {
        let mut m = ClusterModel::build(&counted(None, None));
        for n in &mut m.nodes {
            let mut c = crate::cluster::census::NodeCensus::default();
            if n.id.as_ref().is_some_and(|i| i.as_str() == "aaaa") && a_keys > 0 {
                c.slots.insert(5, a_keys);
                c.db_keys = a_keys;
                c.owned_keys = a_keys;
            }
            n.census = Some(c);
        }
        m
    }

    #[test]
    fn a_plan_that_would_lose_keys_now_is_stopped_before_it_runs() {
        // Planned while slot 5 was empty: handing it to b lost nothing, a plain yes.
        let step = FixStep {
            endpoint: crate::cluster::types::Endpoint::new("127.0.0.1", 7001),
            node_id: Some(NodeId::from("bbbb")),
            action: StepAction::Command {
                args: ["CLUSTER", "SETSLOT", "5", "NODE", "bbbb"]
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
                tolerate: Vec::new(),
            },
            description: String::new(),
        };
        let mut plan = FixPlan {
            id: "p".into(),
            kind: crate::fix::PlanKind::ResolveDispute,
            title: String::new(),
            why: String::new(),
            finding: None,
            group: None,
            recommended: true,
            slots: vec![SlotRange::single(5)],
            nodes: vec![NodeId::from("aaaa"), NodeId::from("bbbb")],
            steps: vec![step],
            advice: Vec::new(),
            risk: crate::fix::Risk::default(),
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: crate::fix::Confirmation::Simple,
        };
        crate::fix::effects::enforce(&mut plan, &with_census(0));
        assert!(!plan.risk.loses_data, "{:?}", plan.risk);
        assert!(riskier_now(&plan, &with_census(0)).is_empty());
        // Keys were written to slot 5 meanwhile: the same commands would now delete them.
        let now = riskier_now(&plan, &with_census(12));
        assert_eq!(now.len(), 1, "{now:?}");
        assert!(now[0].contains("confirmed as keeping every key"), "{now:?}");
        assert!(now[0].contains("12 key(s)"), "{now:?}");
    }

    #[test]
    fn a_step_whose_node_now_refuses_its_command_stops_the_run() {
        let plan = FixPlan {
            id: "p".into(),
            kind: crate::fix::PlanKind::ResolveDispute,
            title: String::new(),
            why: String::new(),
            finding: None,
            group: None,
            recommended: true,
            slots: vec![SlotRange::single(5)],
            nodes: vec![NodeId::from("bbbb")],
            steps: vec![FixStep {
                endpoint: crate::cluster::types::Endpoint::new("127.0.0.1", 7001),
                node_id: Some(NodeId::from("bbbb")),
                action: StepAction::Command {
                    args: ["CLUSTER", "SETSLOT", "5", "NODE", "bbbb"]
                        .iter()
                        .map(|a| (*a).to_owned())
                        .collect(),
                    tolerate: Vec::new(),
                },
                description: String::new(),
            }],
            advice: Vec::new(),
            risk: crate::fix::Risk::default(),
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: crate::fix::Confirmation::Simple,
        };
        let mut m = with_census(0);
        assert_eq!(refused_now(&plan, &m), None);
        // A refusal on another node, or of another command, does not stop it.
        let refusal = |command: &str| crate::cluster::access::Refusal {
            command: command.to_owned(),
            kind: crate::cluster::access::RefusalKind::NotAllowed,
            message: "NOPERM".to_owned(),
            since_ms: 1,
            dry_run: true,
        };
        for n in &mut m.nodes {
            if n.id.as_ref() == Some(&NodeId::from("aaaa")) {
                n.access.record(refusal("cluster|setslot"));
            } else {
                n.access.record(refusal("config|set"));
            }
        }
        assert_eq!(refused_now(&plan, &m), None);
        for n in &mut m.nodes {
            if n.id.as_ref() == Some(&NodeId::from("bbbb")) {
                n.access.user = Some("ops".into());
                n.access.record(refusal("cluster|setslot"));
            }
        }
        let why = refused_now(&plan, &m).unwrap_or_default();
        assert!(
            why.starts_with("CLUSTER SETSLOT is not allowed for user ops on 127.0.0.1:7001"),
            "{why}"
        );
        assert!(why.contains("nothing was sent"), "{why}");
    }

    #[test]
    fn keys_falling_on_one_node_and_rising_on_another_are_moving() {
        let slots = [SlotRange::single(5)];
        let moving = keys_moving(
            &slots,
            &counted(Some(100), Some(0)),
            &counted(Some(90), Some(10)),
        );
        assert_eq!(moving.len(), 1, "{moving:?}");
        assert!(
            moving[0].contains("keys of slot 5 are moving"),
            "{moving:?}"
        );
        assert!(moving[0].contains("127.0.0.1:7000 100 -> 90"), "{moving:?}");
        // Clients writing (only rising) or deleting (only falling) is not a mover.
        assert!(
            keys_moving(
                &slots,
                &counted(Some(100), Some(0)),
                &counted(Some(120), Some(0))
            )
            .is_empty()
        );
        assert!(
            keys_moving(
                &slots,
                &counted(Some(100), Some(5)),
                &counted(Some(80), Some(5))
            )
            .is_empty()
        );
        // Not counted on one side: nothing to compare.
        assert!(
            keys_moving(
                &slots,
                &counted(Some(100), None),
                &counted(Some(90), Some(10))
            )
            .is_empty()
        );
        // Other slots are not looked at.
        let other = [SlotRange::single(6)];
        assert!(
            keys_moving(
                &other,
                &counted(Some(100), Some(0)),
                &counted(Some(90), Some(10))
            )
            .is_empty()
        );
    }

    #[test]
    fn findings_whose_text_changed_are_not_new() {
        // After a reshard the masters' slot counts changed: same findings, new texts.
        let before = [
            finding(
                FindingKind::NoReplica,
                "a (5461 slots) has no replica",
                &[(0, 5460)],
                &["a"],
            ),
            finding(
                FindingKind::NoReplica,
                "b (5462 slots) has no replica",
                &[(5461, 10922)],
                &["b"],
            ),
            finding(FindingKind::OpenSlot, "slot 7 open", &[(7, 7)], &["a", "b"]),
        ];
        let after = [
            finding(
                FindingKind::NoReplica,
                "a (5460 slots) has no replica",
                &[(0, 5459)],
                &["a"],
            ),
            finding(
                FindingKind::NoReplica,
                "b (5463 slots) has no replica",
                &[(5460, 10922)],
                &["b"],
            ),
            // Same kind and slot, nodes listed in another order: the same finding.
            finding(
                FindingKind::OpenSlot,
                "slot 7 still open",
                &[(7, 7)],
                &["b", "a"],
            ),
        ];
        assert!(
            new_findings(&before, &after).is_empty(),
            "{:?}",
            new_findings(&before, &after)
        );
    }

    #[test]
    fn new_findings_differ_by_kind_nodes_or_slots() {
        let before = [
            finding(
                FindingKind::NoReplica,
                "a has no replica",
                &[(0, 5460)],
                &["a"],
            ),
            finding(FindingKind::OpenSlot, "slot 7 open", &[(7, 7)], &["a", "b"]),
            finding(FindingKind::NodeNotJoined, "d alone", &[], &["d"]),
        ];
        let after = [
            // Another node.
            finding(
                FindingKind::NoReplica,
                "c has no replica",
                &[(10923, 16383)],
                &["c"],
            ),
            // Another kind on the same slots and nodes.
            finding(
                FindingKind::UncoveredSlots,
                "0-5460 uncovered",
                &[(0, 5460)],
                &["a"],
            ),
            // Same kind and nodes, disjoint slots.
            finding(FindingKind::OpenSlot, "slot 9 open", &[(9, 9)], &["a", "b"]),
            // A slot-less finding matches only a slot-less one.
            finding(FindingKind::NodeNotJoined, "d alone", &[], &["d"]),
            finding(FindingKind::NodeNotJoined, "d alone", &[(1, 1)], &["d"]),
        ];
        assert_eq!(
            new_findings(&before, &after),
            [
                "c has no replica",
                "0-5460 uncovered",
                "slot 9 open",
                "d alone"
            ]
        );
    }

    #[test]
    fn migrate_wait_outlasts_the_server_timeout() {
        let short = Duration::from_secs(1);
        assert_eq!(migrate_reply_timeout(5000, short), Duration::from_secs(12));
        assert!(migrate_reply_timeout(5000, short) > Duration::from_secs(5));
        // Never shorter than the ordinary command timeout.
        assert_eq!(
            migrate_reply_timeout(0, Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        assert_eq!(
            migrate_reply_timeout(u64::MAX, short),
            Duration::from_millis(u64::MAX).saturating_add(MIGRATE_REPLY_MARGIN)
        );
    }
}
