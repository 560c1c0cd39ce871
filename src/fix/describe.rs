//! Fix events, outcomes and risk in words, for the dashboard's fix dialog and the `fix`
//! command alike. The two speak differently on purpose (a dialog line has a tone and sits
//! under the plan it belongs to; a terminal line stands alone), so each has its own wording,
//! but both are written here.

use super::{Confirmation, FixEvent, FixOutcome, FixPlan, KeysAtRisk, RiskLevel};

/// How a line of the dialog's progress log reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Neutral progress.
    Info,
    /// Something that worked.
    Good,
    /// Something that did not.
    Bad,
}

/// The lines the dashboard's fix dialog logs for an event. Events the dialog shows as state
/// instead (keys moved, the verification, a failed run's done / not done lists) log nothing.
#[must_use]
pub fn dialog_lines(ev: &FixEvent) -> Vec<(Tone, String)> {
    match ev {
        FixEvent::CheckingPreconditions => vec![(
            Tone::Info,
            "re-observing the cluster to re-check the preconditions…".to_owned(),
        )],
        FixEvent::PreconditionsHold => {
            vec![(Tone::Good, "preconditions hold on fresh data".to_owned())]
        }
        FixEvent::StepStarted {
            n,
            of,
            node,
            command,
            ..
        } => vec![(Tone::Info, format!("step {n}/{of}  {node}  {command}"))],
        FixEvent::StepDone { n, of, reply } => {
            vec![(Tone::Good, format!("step {n}/{of} done: {reply}"))]
        }
        FixEvent::StepFailed { n, of, error, .. } => {
            vec![(Tone::Bad, format!("STOPPED at step {n}/{of}: {error}"))]
        }
        FixEvent::Verifying => vec![(
            Tone::Info,
            "verifying: waiting for the cluster to converge…".to_owned(),
        )],
        FixEvent::KeysMoved { .. } | FixEvent::Verified { .. } => Vec::new(),
        FixEvent::Finished(outcome) => match outcome {
            FixOutcome::Refused { reason } => vec![(Tone::Bad, format!("refused: {reason}"))],
            FixOutcome::Changed { changes } => {
                let mut lines = vec![(
                    Tone::Bad,
                    "the cluster changed since the plan was made; nothing was sent:".to_owned(),
                )];
                lines.extend(changes.iter().map(|c| (Tone::Bad, format!("  {c}"))));
                lines
            }
            FixOutcome::Unobservable { error } => vec![(
                Tone::Bad,
                format!("could not observe the cluster; nothing was sent: {error}"),
            )],
            FixOutcome::Failed { .. } | FixOutcome::Completed { .. } => Vec::new(),
        },
    }
}

/// One line per event, for the terminal (`slotscope fix --apply`).
#[must_use]
pub fn event_line(ev: &FixEvent) -> String {
    match ev {
        FixEvent::CheckingPreconditions => "checking the preconditions on fresh data…".to_owned(),
        FixEvent::PreconditionsHold => "preconditions hold".to_owned(),
        FixEvent::StepStarted {
            n,
            of,
            node,
            command,
            ..
        } => format!("[{n}/{of}] {node}: {command}"),
        FixEvent::KeysMoved {
            n, batch, total, ..
        } => format!("[{n}] moved {batch} key(s), {total} so far"),
        FixEvent::StepDone { n, of, reply } => format!("[{n}/{of}] done: {reply}"),
        FixEvent::StepFailed {
            n,
            of,
            error,
            done,
            not_done,
        } => {
            let mut s = format!("[{n}/{of}] FAILED: {error}\n  done:");
            if done.is_empty() {
                s.push_str(" nothing");
            }
            for d in done {
                s.push_str("\n    ");
                s.push_str(d);
            }
            s.push_str("\n  not done:");
            for d in not_done {
                s.push_str("\n    ");
                s.push_str(d);
            }
            s
        }
        FixEvent::Verifying => "verifying the end state…".to_owned(),
        FixEvent::Verified {
            finding_gone,
            unmet,
            new_findings,
        } => {
            let mut s = if *finding_gone {
                "verified: the expected end state holds".to_owned()
            } else {
                format!("NOT verified: {}", unmet.join("; "))
            };
            for f in new_findings {
                s.push_str("\n  new finding: ");
                s.push_str(f);
            }
            s
        }
        FixEvent::Finished(outcome) => match outcome {
            FixOutcome::Refused { reason } => format!("refused: {reason}"),
            FixOutcome::Changed { changes } => format!(
                "stopped before writing anything, the cluster changed:\n  {}",
                changes.join("\n  ")
            ),
            FixOutcome::Unobservable { error } => {
                format!("stopped before writing anything: {error}")
            }
            FixOutcome::Failed { step, .. } => format!("stopped at step {step}"),
            FixOutcome::Completed { verified, .. } => {
                if *verified {
                    "finished".to_owned()
                } else {
                    "finished, but the end state was not reached".to_owned()
                }
            }
        },
    }
}

/// One line about how a run ended.
#[must_use]
pub fn outcome_words(o: &FixOutcome) -> String {
    match o {
        FixOutcome::Refused { reason } => format!("refused, nothing sent: {reason}"),
        FixOutcome::Changed { .. } => "the cluster changed; nothing was sent".to_owned(),
        FixOutcome::Unobservable { error } => format!("nothing sent: {error}"),
        FixOutcome::Failed { step, error, .. } => format!("stopped at step {step}: {error}"),
        FixOutcome::Completed { verified: true, .. } => "done and verified".to_owned(),
        FixOutcome::Completed {
            verified: false, ..
        } => "all steps ran, but the end state is not reached yet".to_owned(),
    }
}

/// The risk of a plan in one line, for the terminal: the level, then what moves and what can
/// be lost.
#[must_use]
pub fn risk_line(p: &FixPlan) -> String {
    let r = &p.risk;
    let mut parts = vec![format!("{:?}", r.level()).to_lowercase()];
    if r.keys_to_move > 0 {
        parts.push(format!("{} key(s) to move", r.keys_to_move));
    }
    if r.slots_changing_owner > 0 {
        parts.push(format!("{} slot(s) change owner", r.slots_changing_owner));
    }
    if r.loses_data {
        parts.push(format!("CAN LOSE DATA ({})", r.keys_at_risk.phrase()));
    } else if r.keys_at_risk.may_lose_keys() {
        parts.push(r.keys_at_risk.phrase());
    }
    parts.join(", ")
}

/// The risk level in the dialog's words.
#[must_use]
pub fn risk_word(l: RiskLevel) -> &'static str {
    match l {
        RiskLevel::Low => "LOW",
        RiskLevel::Medium => "MEDIUM",
        RiskLevel::High => "HIGH: CAN LOSE DATA",
    }
}

/// The dialog header's risk words for a plan. "CAN LOSE DATA" only for plans that are marked
/// data-losing (and so need a typed word); a plan that is high risk because a key count could
/// not be read says so instead of claiming certain loss.
#[must_use]
pub fn risk_headline(p: &FixPlan) -> String {
    let level = p.risk.level();
    if level != RiskLevel::High
        || p.risk.loses_data
        || matches!(p.confirmation, Confirmation::TypeWord(_))
    {
        return risk_word(level).to_owned();
    }
    match &p.risk.keys_at_risk {
        KeysAtRisk::Unknown { .. } => "HIGH: key count unknown".to_owned(),
        KeysAtRisk::Known(n) => format!("HIGH: {} at risk", plural(*n, "key", "keys")),
    }
}

/// `n` with the singular or plural noun.
#[must_use]
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", human_count(n), if n == 1 { one } else { many })
}

/// `1234567` → `1.2M`; small numbers unchanged.
#[must_use]
pub fn human_count(n: u64) -> String {
    let f = n as f64;
    if n < 10_000 {
        n.to_string()
    } else if n < 1_000_000 {
        format!("{:.1}k", f / 1e3)
    } else if n < 1_000_000_000 {
        format!("{:.1}M", f / 1e6)
    } else {
        format!("{:.1}G", f / 1e9)
    }
}
