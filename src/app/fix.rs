//! The fix flow inside the dashboard: which plans fit the selection, the chooser between
//! alternatives, the confirmation gate (focus on Cancel, typed word for data-losing plans), and
//! the progress / verification shown while the executor runs.
//!
//! All of it is state plus pure transitions; the event loop turns [`Effect::ExecuteFix`] into a
//! supervised executor task and feeds its [`FixEvent`]s back through
//! [`App::on_fix_event`](super::App::on_fix_event).

use crate::cluster::slots::Slot;
use crate::cluster::{ClusterModel, Finding, FindingKind, NodeSummary, Reachability};
pub use crate::fix::describe::outcome_words;
use crate::fix::describe::{Tone, dialog_lines};
use crate::fix::{Confirmation, FixEvent, FixOutcome, FixPlan, PlanKind, PlanScope, plan_fixes};

use super::Effect;

/// Which stage the dialog is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixStage {
    /// Several plans fit: pick one (the recommended one is marked and preselected).
    Choose,
    /// One plan shown in full, waiting for the user's decision.
    Confirm,
    /// The executor runs the plan.
    Running,
    /// The run is over (success, refusal or failure); the result stays until closed.
    Done,
}

/// The dialog's buttons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogButton {
    /// Close without doing anything (the initial focus).
    Cancel,
    /// Run the plan.
    Run,
}

/// One line of the progress log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgressLine {
    /// Neutral progress.
    Info(String),
    /// Something that worked.
    Good(String),
    /// Something that did not.
    Bad(String),
}

/// What the running (or finished) fix has reported so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixProgress {
    /// `(n, of)` of the current or last step.
    pub step: Option<(usize, usize)>,
    /// Keys moved so far (MIGRATE batches).
    pub keys_moved: u64,
    /// The log, oldest first.
    pub lines: Vec<ProgressLine>,
    /// Steps that were applied, when a step failed.
    pub done: Vec<String>,
    /// Steps that were not applied, when a step failed.
    pub not_done: Vec<String>,
    /// The verification, once known: `(finding gone, unmet expectations, new findings)`.
    pub verified: Option<(bool, Vec<String>, Vec<String>)>,
    /// How the run ended.
    pub outcome: Option<FixOutcome>,
}

/// The fix dialog: the plans for the selection and where the user is in the flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixDialog {
    /// What was selected, in words ("slot 100", "node 127.0.0.1:7001", a finding's summary).
    pub target: String,
    /// The plans that fit, in the planner's order.
    pub plans: Vec<FixPlan>,
    /// The plan under the chooser cursor / shown in the confirmation.
    pub chosen: usize,
    /// Where the user is.
    pub stage: FixStage,
    /// Focused button (starts on Cancel).
    pub focus: DialogButton,
    /// What the user typed for a [`Confirmation::TypeWord`] plan.
    pub typed: String,
    /// First line of the scrollable part of the confirmation.
    pub scroll: usize,
    /// Progress and result of the run.
    pub progress: FixProgress,
}

impl FixDialog {
    /// A dialog for these plans (not empty), on the chooser with the recommended plan under
    /// the cursor, even when only one plan fits: `x` then `Enter` always shows the plan.
    #[must_use]
    pub fn new(target: String, plans: Vec<FixPlan>) -> Self {
        let chosen = plans.iter().position(|p| p.recommended).unwrap_or(0);
        let stage = FixStage::Choose;
        Self {
            target,
            plans,
            chosen,
            stage,
            focus: DialogButton::Cancel,
            typed: String::new(),
            scroll: 0,
            progress: FixProgress::default(),
        }
    }

    /// The plan under the cursor.
    #[must_use]
    pub fn plan(&self) -> Option<&FixPlan> {
        self.plans.get(self.chosen)
    }

    /// The word the user must type, if the plan needs one.
    #[must_use]
    pub fn required_word(&self) -> Option<&str> {
        match self.plan().map(|p| &p.confirmation) {
            Some(Confirmation::TypeWord(w)) => Some(w.as_str()),
            _ => None,
        }
    }

    /// Whether the plan can be run from the dialog at all (not advice only).
    #[must_use]
    pub fn runnable(&self) -> bool {
        self.plan().is_some_and(|p| !p.is_advice_only())
    }

    /// Whether the Run button is enabled: a runnable plan, and the typed word (if any) matches
    /// exactly.
    #[must_use]
    pub fn run_enabled(&self) -> bool {
        self.stage == FixStage::Confirm
            && self.runnable()
            && self.required_word().is_none_or(|w| self.typed == w)
    }

    fn open_chosen(&mut self) {
        self.stage = FixStage::Confirm;
        self.focus = DialogButton::Cancel;
        self.typed.clear();
        self.scroll = 0;
    }

    /// Esc (or Cancel) in a plan: back to the chooser, the cursor still on that plan.
    pub fn back_to_chooser(&mut self) {
        self.stage = FixStage::Choose;
        self.focus = DialogButton::Cancel;
        self.typed.clear();
        self.scroll = 0;
    }

    /// Move the chooser cursor or scroll the confirmation.
    pub fn move_by(&mut self, delta: isize) {
        match self.stage {
            FixStage::Choose => {
                let n = self.plans.len();
                if n > 0 {
                    self.chosen = self.chosen.saturating_add_signed(delta).min(n - 1);
                }
            }
            FixStage::Confirm | FixStage::Running | FixStage::Done => {
                self.scroll = self.scroll.saturating_add_signed(delta);
            }
        }
    }

    /// Toggle the button focus (only Run-enabled dialogs can focus Run).
    pub fn switch_button(&mut self) {
        self.focus = match self.focus {
            DialogButton::Cancel if self.stage == FixStage::Confirm && self.runnable() => {
                DialogButton::Run
            }
            _ => DialogButton::Cancel,
        };
    }

    /// A progress event from the executor: logged in the dialog's words, and kept as state
    /// where the dialog shows it as such (step, keys moved, verification, the outcome).
    pub fn on_event(&mut self, ev: FixEvent) {
        let p = &mut self.progress;
        p.lines.extend(
            dialog_lines(&ev)
                .into_iter()
                .map(|(tone, text)| match tone {
                    Tone::Info => ProgressLine::Info(text),
                    Tone::Good => ProgressLine::Good(text),
                    Tone::Bad => ProgressLine::Bad(text),
                }),
        );
        match ev {
            FixEvent::StepStarted { n, of, .. } | FixEvent::StepDone { n, of, .. } => {
                p.step = Some((n, of));
            }
            FixEvent::KeysMoved { total, .. } => p.keys_moved = p.keys_moved.max(total),
            FixEvent::StepFailed {
                n,
                of,
                done,
                not_done,
                ..
            } => {
                p.step = Some((n, of));
                p.done = done;
                p.not_done = not_done;
            }
            FixEvent::Verified {
                finding_gone,
                unmet,
                new_findings,
            } => p.verified = Some((finding_gone, unmet, new_findings)),
            FixEvent::Finished(outcome) => {
                match &outcome {
                    FixOutcome::Failed { done, not_done, .. } => {
                        if p.done.is_empty() && p.not_done.is_empty() {
                            p.done.clone_from(done);
                            p.not_done.clone_from(not_done);
                        }
                    }
                    FixOutcome::Completed {
                        verified,
                        unmet,
                        new_findings,
                    } => {
                        if p.verified.is_none() {
                            p.verified = Some((*verified, unmet.clone(), new_findings.clone()));
                        }
                    }
                    FixOutcome::Refused { .. }
                    | FixOutcome::Changed { .. }
                    | FixOutcome::Unobservable { .. } => {}
                }
                p.outcome = Some(outcome);
                self.stage = FixStage::Done;
                self.focus = DialogButton::Cancel;
            }
            FixEvent::CheckingPreconditions | FixEvent::PreconditionsHold | FixEvent::Verifying => {
            }
        }
    }
}

/// What `x` acts on: the selection in words and the plans that fit it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FixTarget {
    /// A finding (its summary is the label).
    Finding(Finding),
    /// A slot.
    Slot(Slot),
    /// A node (index into the model's nodes).
    Node(usize),
    /// Nothing usable is selected.
    Nothing,
}

/// Plans for a target, with a label. Pure: same model and target, same plans.
///
/// While `cluster-require-full-coverage` is off anywhere, the revert plan is always offered
/// (appended when the selection's own plans do not include it).
#[must_use]
pub fn plans_for(
    model: &ClusterModel,
    findings: &[Finding],
    target: &FixTarget,
) -> (String, Vec<FixPlan>) {
    let all = plan_fixes(model, findings);
    let filter = |scope: &PlanScope| -> Vec<FixPlan> {
        all.iter()
            .filter(|p| match scope {
                PlanScope::All => true,
                PlanScope::Slot(s) => p.slots.iter().any(|r| r.contains(*s)),
                PlanScope::Node(id) => p.nodes.contains(id),
                PlanScope::Finding(k) => p.finding == Some(*k),
            })
            .cloned()
            .collect()
    };
    let (label, mut plans) = match target {
        FixTarget::Finding(f) => {
            let f = &with_cause_slots(f, findings);
            let on_slots = |p: &FixPlan| {
                f.slots
                    .iter()
                    .any(|fr| p.slots.iter().any(|pr| pr.overlaps(fr)))
            };
            // A plan on slots answers a finding on slots only if they share a slot (an open
            // slot elsewhere between the same two nodes is another problem); a plan on no slot
            // answers it through a common node.
            let overlaps = |p: &FixPlan| {
                let nodes = f.nodes.iter().any(|n| p.nodes.contains(n));
                let by_nodes = nodes && (f.slots.is_empty() || p.slots.is_empty());
                on_slots(p) || by_nodes || (f.slots.is_empty() && f.nodes.is_empty())
            };
            let same_kind: Vec<FixPlan> = filter(&PlanScope::Finding(f.kind))
                .into_iter()
                .filter(|p| overlaps(p))
                .collect();
            let plans = if is_down_finding(f.kind) {
                // Slots that are not served: every plan that addresses those slots (or, for a
                // finding that names no slot, its nodes), whatever finding it was planned for:
                // restart advice, failover, reassign, and coverage-off as temporary relief.
                // Plans that merely touch one of the nodes elsewhere (an open slot towards the
                // dead master) are not answers to "these slots are down".
                let addresses = |p: &FixPlan| {
                    if f.slots.is_empty() {
                        overlaps(p)
                    } else {
                        on_slots(p)
                    }
                };
                let mut plans: Vec<FixPlan> =
                    all.iter().filter(|p| addresses(p)).cloned().collect();
                plans.sort_by_key(down_rank);
                plans
            } else if same_kind.is_empty() {
                all.iter()
                    .filter(|p| overlaps(p) && (!f.slots.is_empty() || !f.nodes.is_empty()))
                    .cloned()
                    .collect()
            } else {
                same_kind
            };
            (f.summary.clone(), plans)
        }
        FixTarget::Slot(s) => (format!("slot {s}"), filter(&PlanScope::Slot(*s))),
        FixTarget::Node(i) => match model.nodes.get(*i) {
            Some(n) => {
                let plans = match &n.id {
                    Some(id) => filter(&PlanScope::Node(id.clone())),
                    None => Vec::new(),
                };
                (format!("node {}", n.label()), plans)
            }
            None => ("nothing".to_owned(), Vec::new()),
        },
        FixTarget::Nothing => ("nothing".to_owned(), Vec::new()),
    };
    if !full_coverage_off_nodes(model).is_empty()
        && !plans.iter().any(|p| p.kind == PlanKind::CoverageOn)
        && let Some(revert) = all.iter().find(|p| p.kind == PlanKind::CoverageOn)
    {
        plans.push(revert.clone());
    }
    crate::fix::recommend_one(&mut plans);
    (label, plans)
}

/// A down finding that names no slot (some views say `cluster_state:fail`) is about the slots
/// the other critical findings name: it gets their slots, so that its chooser offers the
/// plans that bring them back.
fn with_cause_slots(f: &Finding, findings: &[Finding]) -> Finding {
    let mut f = f.clone();
    if is_down_finding(f.kind) && f.slots.is_empty() {
        f.slots = crate::cluster::slots::merge_ranges(
            findings
                .iter()
                .filter(|o| o.severity == crate::cluster::Severity::Critical && o.kind != f.kind)
                .flat_map(|o| o.slots.iter().copied())
                .collect(),
        );
    }
    f
}

/// What `x` offers, the same from every pane: the plans of the selection's own finding (the
/// finding under the cursor, or the most severe finding about the selected slot or node) when
/// it has any; otherwise those of the most severe finding that has plans; otherwise the plans
/// that touch the selected slot or node. Exactly one of them is recommended.
#[must_use]
pub fn incident_plans(
    model: &ClusterModel,
    findings: &[Finding],
    target: &FixTarget,
) -> (String, Vec<FixPlan>) {
    let mut by_severity: Vec<&Finding> = findings.iter().collect();
    by_severity.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let own: Option<&Finding> = match target {
        FixTarget::Finding(f) => Some(f),
        FixTarget::Slot(s) => by_severity
            .iter()
            .copied()
            .find(|f| f.slots.iter().any(|r| r.contains(*s))),
        FixTarget::Node(i) => model
            .nodes
            .get(*i)
            .and_then(|n| n.id.as_ref())
            .and_then(|id| by_severity.iter().copied().find(|f| f.nodes.contains(id))),
        FixTarget::Nothing => None,
    };
    let candidates = own.into_iter().chain(by_severity.iter().copied());
    for f in candidates {
        let (label, plans) = plans_for(model, findings, &FixTarget::Finding(f.clone()));
        if !plans.is_empty() {
            return (label, plans);
        }
    }
    plans_for(model, findings, target)
}

/// Findings about slots that are not served: their chooser offers every plan that addresses
/// those slots or nodes, not only the plans made for that kind of finding. With
/// `cluster-require-full-coverage no` the slots are just as unserved: the plan that serves them
/// again comes before the revert of the setting (which alone would take every slot down).
#[must_use]
pub fn is_down_finding(kind: FindingKind) -> bool {
    matches!(
        kind,
        FindingKind::ClusterDown
            | FindingKind::MasterDown
            | FindingKind::UncoveredSlots
            | FindingKind::MajorityLost
            | FindingKind::FullCoverageOff
    )
}

/// Chooser order for a down finding: repairs that bring the slots back (failover, restart
/// advice, reassign, reclaim, cover, meet, dispute), the recommended ones first; then any other
/// plan on those slots (e.g. an open slot inside them); the temporary relief
/// (`cluster-require-full-coverage`) last. The sort is stable, so ties keep the planner's order
/// (failover, restart advice, reassign).
fn down_rank(p: &FixPlan) -> (u8, bool) {
    let group = match p.kind {
        PlanKind::Failover
        | PlanKind::RestartAdvice
        | PlanKind::ReassignSlots
        | PlanKind::ReclaimUncovered
        | PlanKind::CoverEmptySlots
        | PlanKind::Meet
        | PlanKind::ResolveDispute => 0,
        PlanKind::CoverageOff | PlanKind::CoverageOn => 2,
        _ => 1,
    };
    (group, !p.recommended)
}

/// Reachable nodes whose configuration says `cluster-require-full-coverage no`.
#[must_use]
pub fn full_coverage_off_nodes(model: &ClusterModel) -> Vec<&NodeSummary> {
    model
        .nodes
        .iter()
        .filter(|n| matches!(n.reachability, Reachability::Ok))
        .filter(|n| n.config.as_ref().and_then(|c| c.require_full_coverage) == Some(false))
        .collect()
}

/// The effect of a finished run: refresh at once so the screen shows the result.
#[must_use]
pub fn effect_after(ev: &FixEvent) -> Option<Effect> {
    matches!(ev, FixEvent::Finished(_)).then_some(Effect::RequestRefresh)
}

impl super::App {
    /// What `x` acts on: the focused pane's selection (or the node of an open detail view).
    #[must_use]
    pub fn fix_target(&self) -> FixTarget {
        use super::{Mode, Pane};
        if let Mode::NodeDetail(_) = self.mode {
            return self
                .detail_node()
                .map_or(FixTarget::Nothing, FixTarget::Node);
        }
        match self.focus {
            Pane::Findings => self
                .findings()
                .get(self.finding_cursor)
                .cloned()
                .map_or(FixTarget::Nothing, FixTarget::Finding),
            Pane::Heatmap => {
                Slot::try_from(self.heat_cursor).map_or(FixTarget::Nothing, FixTarget::Slot)
            }
            Pane::Nodes => self
                .selected_node()
                .map_or(FixTarget::Nothing, FixTarget::Node),
            Pane::Migrations => self
                .model()
                .and_then(|m| m.open_slots.get(self.migration_cursor))
                .map_or(FixTarget::Nothing, |o| FixTarget::Slot(o.slot)),
            Pane::Timeline => FixTarget::Nothing,
        }
    }

    /// Reachable nodes with `cluster-require-full-coverage no`, as labels (the banner).
    #[must_use]
    pub fn full_coverage_off(&self) -> Vec<String> {
        self.model()
            .map(|m| {
                full_coverage_off_nodes(m)
                    .into_iter()
                    .map(|n| n.addr.to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `x`: offer the plans for the selection (never in read-only mode).
    pub(super) fn open_fix_dialog(&mut self) {
        if self.read_only {
            self.message = Some("read-only mode: fixes are disabled".to_owned());
            return;
        }
        let Some(p) = &self.shown else {
            self.message = Some("nothing observed yet: no fix to offer".to_owned());
            return;
        };
        if p.findings.is_empty() {
            self.message = Some("nothing to fix: no finding".to_owned());
            return;
        }
        let target = self.fix_target();
        let (label, plans) = incident_plans(&p.model, &p.findings, &target);
        if plans.is_empty() {
            self.message = Some(format!("no fix to offer for {label}"));
            return;
        }
        self.fix = Some(FixDialog::new(label, plans));
        self.mode = super::Mode::Fix;
    }

    /// Close the dialog (refused while a fix runs: it cannot be interrupted safely).
    pub(super) fn close_fix_dialog(&mut self) {
        if self
            .fix
            .as_ref()
            .is_some_and(|d| d.stage == FixStage::Running)
        {
            self.message = Some(
                "a fix is running: it stops by itself at the first error; wait for the result"
                    .to_owned(),
            );
            return;
        }
        self.fix = None;
        self.mode = super::Mode::Normal;
    }

    /// An action while the dialog has the keyboard.
    pub(super) fn on_fix_action(&mut self, action: super::Action) -> Option<Effect> {
        use super::Action as A;
        let read_only = self.read_only;
        if self.replay.is_some()
            && matches!(action, A::Submit | A::Activate)
            && self
                .fix
                .as_ref()
                .is_some_and(|d| d.stage == FixStage::Confirm && d.focus == DialogButton::Run)
        {
            self.message = Some(
                "replay: repairs are disabled (the plan is shown as it was offered then)".into(),
            );
            return None;
        }
        let Some(d) = self.fix.as_mut() else {
            self.mode = super::Mode::Normal;
            return None;
        };
        match action {
            A::Back if d.stage == FixStage::Confirm => d.back_to_chooser(),
            A::Back => self.close_fix_dialog(),
            A::MoveUp => d.move_by(-1),
            A::MoveDown => d.move_by(1),
            A::PageUp => d.move_by(-10),
            A::PageDown => d.move_by(10),
            A::MoveTop => d.move_by(isize::MIN / 2),
            A::MoveBottom => d.move_by(isize::MAX / 2),
            A::DialogNext | A::DialogPrev => d.switch_button(),
            A::InsertChar(c) if d.stage == FixStage::Confirm && d.required_word().is_some() => {
                d.typed.push(c);
            }
            A::DeleteChar => {
                d.typed.pop();
            }
            A::Submit | A::Activate => match d.stage {
                FixStage::Choose => d.open_chosen(),
                FixStage::Confirm => match d.focus {
                    DialogButton::Cancel => d.back_to_chooser(),
                    DialogButton::Run => {
                        if read_only || !d.run_enabled() {
                            return None;
                        }
                        let plan = d.plan().cloned()?;
                        d.stage = FixStage::Running;
                        d.scroll = 0;
                        d.progress = FixProgress::default();
                        return Some(Effect::ExecuteFix(Box::new(plan)));
                    }
                },
                FixStage::Running => {}
                FixStage::Done => self.close_fix_dialog(),
            },
            _ => {}
        }
        None
    }

    /// A progress event from the executor task.
    pub fn on_fix_event(&mut self, ev: FixEvent) -> Option<Effect> {
        let effect = effect_after(&ev);
        if matches!(ev, FixEvent::Finished(_)) && self.quit_armed_at_ms.take().is_some() {
            // The run ended while a first Ctrl-C waited for its second: nothing to abandon.
            self.message = None;
        }
        match self.fix.as_mut() {
            Some(d) => d.on_event(ev),
            None => {
                // The dialog cannot be closed while running; a stray event is still news.
                if let FixEvent::Finished(o) = &ev {
                    self.message = Some(format!("fix finished: {}", outcome_words(o)));
                }
            }
        }
        effect
    }
}

#[cfg(test)]
#[path = "fix_tests.rs"]
mod tests;
