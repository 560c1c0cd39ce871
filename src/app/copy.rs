//! `y`: what is copied to the clipboard (the terminal shell sends it with OSC 52) and the
//! status line that says so. Pure. Plan commands are copied as the plan shows them
//! (`redis-cli` lines with every password masked), never with a secret.

use super::fix::{FixTarget, incident_plans};
use super::{Effect, Mode, Pane};
use crate::cluster::Finding;
use crate::fix::{CliAuth, FixPlan};

/// The commands of a plan, one `redis-cli` line each, exactly as the plan view shows them.
#[must_use]
pub fn plan_text(p: &FixPlan, auth: &CliAuth) -> String {
    let mut s = String::new();
    for step in &p.steps {
        s.push_str(&step.redis_cli_line_with(auth));
        s.push('\n');
    }
    s
}

/// A finding in words: severity and summary, nodes, slots, evidence; then, when given, the
/// commands of its recommended plan.
#[must_use]
pub fn finding_text(f: &Finding, plan: Option<&FixPlan>, auth: &CliAuth) -> String {
    let mut s = format!("[{:?}] {}\n", f.severity, f.summary);
    if !f.addresses.is_empty() {
        s.push_str(&format!("nodes: {}\n", f.addresses.join(", ")));
    }
    if !f.slots.is_empty() {
        s.push_str(&format!(
            "slots: {} ({} in all)\n",
            crate::cluster::slots::format_ranges(&f.slots),
            crate::cluster::slots::ranges_len(&f.slots)
        ));
    }
    for e in &f.evidence {
        s.push_str(&format!("- {e}\n"));
    }
    if let Some(p) = plan.filter(|p| !p.steps.is_empty()) {
        s.push_str(&format!("plan {} ({}):\n", p.id, p.title));
        s.push_str(&plan_text(p, auth));
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl super::App {
    /// `y`: copy the plan in view (fix dialog), the output overlay, or the selected finding.
    pub(super) fn copy_selection(&mut self) -> Option<Effect> {
        let (text, what) = match self.mode {
            Mode::Fix => {
                let Some(p) = self.fix.as_ref().and_then(super::FixDialog::plan) else {
                    self.message = Some("no plan to copy".to_owned());
                    return None;
                };
                if p.steps.is_empty() {
                    self.message = Some(format!(
                        "plan {} is advice only: it has no commands to copy",
                        p.id
                    ));
                    return None;
                }
                let what = format!(
                    "{} of plan {}",
                    plural(p.steps.len(), "command", "commands"),
                    p.id
                );
                (plan_text(p, &self.plan_cli_auth()), what)
            }
            Mode::Output => {
                let Some(v) = &self.console.output else {
                    return None;
                };
                let mut text = v.lines.join("\n");
                text.push('\n');
                (text, format!("the output of {}", v.title))
            }
            _ if self.focus == Pane::Findings => {
                let Some(f) = self.findings().get(self.finding_cursor).cloned() else {
                    self.message = Some("no finding to copy".to_owned());
                    return None;
                };
                let plan = self.recommended_plan(&f);
                let what = match &plan {
                    Some(p) if !p.steps.is_empty() => format!(
                        "the finding and {} of plan {}",
                        plural(p.steps.len(), "command", "commands"),
                        p.id
                    ),
                    _ => "the finding".to_owned(),
                };
                (finding_text(&f, plan.as_ref(), &self.plan_cli_auth()), what)
            }
            _ => {
                self.message = Some(
                    "y copies the selected finding (3 Findings), a plan (in x) or a command's \
                     output"
                        .to_owned(),
                );
                return None;
            }
        };
        self.message = Some(format!(
            "copied {what} ({} bytes) to the clipboard",
            text.len()
        ));
        Some(Effect::Copy(text))
    }

    /// The recommended plan for a finding (none in read-only mode: fixes are hidden there).
    fn recommended_plan(&self, f: &Finding) -> Option<FixPlan> {
        if self.read_only {
            return None;
        }
        let p = self.shown.as_ref()?;
        let (_, plans) = incident_plans(&p.model, &p.findings, &FixTarget::Finding(f.clone()));
        plans
            .iter()
            .find(|p| p.recommended)
            .or_else(|| plans.first())
            .cloned()
    }
}
