//! `slotscope fix`: list the plans for the current findings, show one as commands, or apply one
//! after a confirmation on the terminal.
//!
//! Exit codes: 0 listed / dry-run shown / applied and verified; 1 applied but a step failed or
//! the end state was not verified; 2 nothing was sent (unknown id, declined, refused, read-only,
//! the cluster changed since planning, advice-only plan); 3 the cluster could not be observed
//! (including when no node answered as a Redis server, as for `check`).
//!
//! In `--json`, a plan's `risk` never reports an unknown key count as 0: `keys_at_risk` is
//! `null` and `keys_at_risk_known` is `false`, with `keys_at_risk_estimate` (or `null`),
//! `keys_at_risk_estimate_basis` and `keys_at_risk_unknown_reason` (see [`crate::fix::Risk`]).

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use serde_json::{Value as Json, json};
use tokio::sync::mpsc;

use super::ExitCode;
use crate::cluster::diagnose;
use crate::cluster::model::ClusterModel;
use crate::cluster::slots::format_ranges;
use crate::cluster::types::{NodeId, ServerInfo};
use crate::fix::audit::{self, AuditLog, ConfirmationGiven};
use crate::fix::describe::{event_line, risk_line};
use crate::fix::executor::{EVENT_CHANNEL_CAPACITY, Executor, FixOutcome, StopRequest};
use crate::fix::planner::{PlanScope, plan_fixes_for};
use crate::fix::{CliAuth, Confirmation, FixPlan, FixStep};
use crate::refresh::{ConnectOptions, Connector, observe_once};

/// What `slotscope fix` was asked to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixOptions {
    /// Print the plans (or the dry run) as JSON.
    pub json: bool,
    /// Print the commands of this plan without running anything.
    pub dry_run: Option<String>,
    /// Run this plan after a confirmation on the terminal.
    pub apply: Option<String>,
    /// Do not ask for confirmation (refuses plans that can lose data unless
    /// `accept_data_loss` too).
    pub yes: bool,
    /// With `yes`: also run plans that can lose data.
    pub accept_data_loss: bool,
    /// Only plans touching this slot.
    pub slot: Option<u16>,
    /// Only plans touching this node (id or id prefix).
    pub node: Option<String>,
    /// Audit log path (JSON lines); `None`: the user's state directory.
    pub audit_log: Option<PathBuf>,
}

/// Run `slotscope fix` and return its exit code.
///
/// # Errors
/// Only for failures of the terminal itself (stdout closed); cluster problems are exit codes.
pub async fn run(args: FixOptions, opts: ConnectOptions) -> color_eyre::Result<ExitCode> {
    let mut auth = CliAuth::for_connection(&opts);
    let read_only = opts.read_only;
    let connector = Connector::shared(opts);
    let snapshot = match observe_once(&connector, None).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("slotscope fix: {e}");
            return Ok(ExitCode::UNOBSERVABLE);
        }
    };
    // No node answered as a Redis server (refused, timed out, protocol errors): nothing to
    // plan from, as for `check`.
    if !snapshot.observed_anything() {
        eprintln!(
            "slotscope fix: could not observe the cluster: {}",
            snapshot.failure_summary()
        );
        return Ok(ExitCode::UNOBSERVABLE);
    }
    let model = ClusterModel::build(&snapshot);
    auth = auth.with_hostnames(&model);
    auth.program = model
        .nodes
        .iter()
        .find_map(|n| n.info.as_ref())
        .map(ServerInfo::cli);
    let findings = diagnose(&model);
    let scope = scope_of(&args, &model);
    let plans = plan_fixes_for(&model, &findings, &scope);
    let mut out = io::stdout().lock();

    if read_only {
        if args.json {
            writeln!(out, "{}", json!({"plans": [], "read_only": true}))?;
        } else {
            writeln!(
                out,
                "read-only mode: fixes are hidden ({} finding(s); run without --read-only to see repairs)",
                findings.len()
            )?;
        }
        return Ok(if args.apply.is_some() || args.dry_run.is_some() {
            ExitCode::NOTHING_SENT
        } else {
            ExitCode::OK
        });
    }

    let find = |id: &str| plans.iter().find(|p| p.id == id);
    if let Some(id) = &args.dry_run {
        let Some(plan) = find(id) else {
            return Ok(unknown_plan(id, &plans));
        };
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&plan_json(plan, &auth))?
            )?;
        } else {
            write!(out, "{}", render_plan(plan, &auth))?;
        }
        return Ok(ExitCode::OK);
    }
    if let Some(id) = &args.apply {
        let Some(plan) = find(id) else {
            return Ok(unknown_plan(id, &plans));
        };
        write!(out, "{}", render_plan(plan, &auth))?;
        out.flush()?;
        drop(out);
        if plan.is_advice_only() {
            eprintln!("plan {id} is advice only: nothing to run");
            return Ok(ExitCode::NOTHING_SENT);
        }
        let Some(given) = confirm(plan, &args).await? else {
            return Ok(ExitCode::NOTHING_SENT);
        };
        let audit = AuditLog::new(args.audit_log.clone().unwrap_or_else(audit::default_path));
        let executor = Executor::new(connector, Some(audit));
        let (outcome, interrupted) = execute_printing(&executor, plan, given).await;
        if interrupted {
            print_interrupted(&outcome);
            return Ok(ExitCode::INTERRUPTED);
        }
        return Ok(exit_code(&outcome));
    }

    if args.json {
        let list: Vec<Json> = plans.iter().map(|p| plan_json(p, &auth)).collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({ "plans": list }))?
        )?;
    } else if plans.is_empty() {
        writeln!(out, "No repair to offer: {} finding(s).", findings.len())?;
    } else {
        write!(out, "{}", render_list(&plans))?;
    }
    Ok(ExitCode::OK)
}

fn scope_of(args: &FixOptions, model: &ClusterModel) -> PlanScope {
    if let Some(s) = args.slot {
        return PlanScope::Slot(s);
    }
    if let Some(prefix) = &args.node {
        let id = model
            .nodes
            .iter()
            .filter_map(|n| n.id.as_ref())
            .find(|id| id.0.starts_with(prefix.as_str()))
            .cloned()
            .unwrap_or_else(|| NodeId::from(prefix.as_str()));
        return PlanScope::Node(id);
    }
    PlanScope::All
}

fn unknown_plan(id: &str, plans: &[FixPlan]) -> ExitCode {
    let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    eprintln!(
        "slotscope fix: no plan {id:?} for the current state of the cluster (available: {})",
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        }
    );
    ExitCode::NOTHING_SENT
}

/// The exit code for an outcome.
#[must_use]
pub fn exit_code(outcome: &FixOutcome) -> ExitCode {
    match outcome {
        FixOutcome::Completed { verified: true, .. } => ExitCode::OK,
        FixOutcome::Completed { .. } | FixOutcome::Failed { .. } => ExitCode::FAILED,
        FixOutcome::Refused { .. } | FixOutcome::Changed { .. } => ExitCode::NOTHING_SENT,
        FixOutcome::Unobservable { .. } => ExitCode::UNOBSERVABLE,
    }
}

/// Ask on the terminal (or honour `--yes`). Returns the confirmation given, or `None` when
/// the plan must not run.
async fn confirm(
    plan: &FixPlan,
    args: &FixOptions,
) -> color_eyre::Result<Option<ConfirmationGiven>> {
    if args.yes {
        if plan.risk.loses_data && !args.accept_data_loss {
            eprintln!(
                "plan {} can lose data: --yes alone refuses it; add --accept-data-loss, or run \
                 without --yes and type the confirmation",
                plan.id
            );
            return Ok(None);
        }
        return Ok(Some(if args.accept_data_loss {
            ConfirmationGiven::YesAcceptDataLoss
        } else {
            ConfirmationGiven::Yes
        }));
    }
    let prompt = match &plan.confirmation {
        Confirmation::Simple => "Run this plan? [y/N] ".to_owned(),
        Confirmation::TypeWord(w) => format!("This plan can lose data. Type {w} to run it: "),
    };
    eprint!("{prompt}");
    io::stderr().flush()?;
    let line = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        io::stdin().lock().read_line(&mut s).map(|_| s)
    })
    .await??;
    let answer = line.trim();
    let given = match &plan.confirmation {
        Confirmation::Simple => {
            matches!(answer, "y" | "Y" | "yes" | "YES" | "Yes").then_some(ConfirmationGiven::Plain)
        }
        Confirmation::TypeWord(w) => (answer == w).then_some(ConfirmationGiven::TypedWord),
    };
    if given.is_none() {
        eprintln!("not confirmed: nothing was sent");
    }
    Ok(given)
}

/// Run a plan, printing every event as a line on stdout. The first Ctrl-C (or SIGTERM) asks
/// the run to stop after the step under way; a second one leaves at once. Returns the outcome
/// and whether the user interrupted it.
pub async fn execute_printing(
    executor: &Executor,
    plan: &FixPlan,
    given: ConfirmationGiven,
) -> (FixOutcome, bool) {
    let (tx, mut rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
    let printer = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            println!("{}", event_line(&ev));
        }
    });
    let stop = StopRequest::default();
    let watcher = tokio::spawn(watch_interrupts(stop.clone()));
    let outcome = executor.execute_confirmed(plan, given, &tx, &stop).await;
    watcher.abort();
    drop(tx);
    let _ = printer.await;
    (outcome, stop.is_requested())
}

/// First interrupt: stop after the current step. Second: leave now (the step under way may
/// or may not complete; the audit log has announced it).
async fn watch_interrupts(stop: StopRequest) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    interrupt(term.as_mut()).await;
    stop.request();
    eprintln!(
        "slotscope: interrupted: stopping after the step under way (interrupt again to leave \
         at once)"
    );
    interrupt(term.as_mut()).await;
    eprintln!(
        "slotscope: left during a step: it may or may not have been applied; the audit log \
         records it as sent"
    );
    std::process::exit(i32::from(ExitCode::INTERRUPTED.code()));
}

/// The next Ctrl-C or SIGTERM.
async fn interrupt(term: Option<&mut tokio::signal::unix::Signal>) {
    match term {
        Some(t) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = t.recv() => {}
            }
        }
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// What ran and what did not, after an interrupted run.
fn print_interrupted(outcome: &FixOutcome) {
    match outcome {
        FixOutcome::Failed { done, not_done, .. } => {
            println!("interrupted: stopped before the next step");
            println!("  done:");
            if done.is_empty() {
                println!("    nothing");
            }
            for d in done {
                println!("    {d}");
            }
            println!("  not done:");
            for d in not_done {
                println!("    {d}");
            }
        }
        other => println!(
            "interrupted: {}",
            crate::fix::describe::outcome_words(other)
        ),
    }
}

fn step_json(s: &FixStep, auth: &CliAuth) -> Json {
    json!({
        "node": s.endpoint.to_string(),
        "node_id": s.node_id,
        "command": s.command_text(),
        "redis_cli": s.redis_cli_line_with(auth),
        "description": s.description,
        "writes": s.is_write(),
    })
}

/// A plan as the JSON object of `slotscope fix --json`.
#[must_use]
pub fn plan_json(p: &FixPlan, auth: &CliAuth) -> Json {
    let mut risk = serde_json::to_value(&p.risk).unwrap_or(Json::Null);
    if let Some(obj) = risk.as_object_mut() {
        obj.insert(
            "level".to_owned(),
            serde_json::to_value(p.risk.level()).unwrap_or(Json::Null),
        );
    }
    json!({
        "id": p.id,
        "kind": p.kind,
        "title": p.title,
        "why": p.why,
        "finding": p.finding,
        "group": p.group,
        "recommended": p.recommended,
        "slots": format_ranges(&p.slots),
        "nodes": p.nodes,
        "risk": risk,
        "confirmation": p.confirmation,
        "preconditions": p.preconditions.iter().map(|c| c.description.clone()).collect::<Vec<_>>(),
        "expected": p.expected_lines(),
        "advice": p.advice,
        "steps": p.steps.iter().map(|s| step_json(s, auth)).collect::<Vec<_>>(),
    })
}

/// The plan list as text.
#[must_use]
pub fn render_list(plans: &[FixPlan]) -> String {
    let mut s = String::new();
    for p in plans {
        let rec = if p.recommended && p.group.is_some() {
            " (recommended)"
        } else {
            ""
        };
        s.push_str(&format!("{}{rec}\n  {}\n  why: {}\n", p.id, p.title, p.why));
        s.push_str(&format!("  risk: {}\n", risk_line(p)));
        if p.is_advice_only() {
            s.push_str("  advice only\n");
        } else {
            s.push_str(&format!(
                "  {} step(s); show them: slotscope fix --dry-run {}\n",
                p.steps.len(),
                p.id
            ));
        }
        s.push('\n');
    }
    s
}

/// One plan in full, as text (the dry run).
#[must_use]
pub fn render_plan(p: &FixPlan, auth: &CliAuth) -> String {
    let mut s = format!(
        "{}: {}\nwhy: {}\nrisk: {}\n",
        p.id,
        p.title,
        p.why,
        risk_line(p)
    );
    for n in &p.risk.notes {
        s.push_str(&format!("  - {n}\n"));
    }
    if !p.preconditions.is_empty() {
        s.push_str("checked again just before running:\n");
        for c in &p.preconditions {
            s.push_str(&format!("  - {}\n", c.description));
        }
    }
    if !p.steps.is_empty() {
        s.push_str("steps:\n");
        for (i, st) in p.steps.iter().enumerate() {
            s.push_str(&format!(
                "  {}. {}\n     {}\n",
                i + 1,
                st.description,
                st.redis_cli_line_with(auth)
            ));
        }
    }
    if !p.expected.is_empty() {
        s.push_str("expected afterwards:\n");
        for e in &p.expected {
            s.push_str(&format!("  - {}\n", e.description));
        }
    }
    if !p.advice.is_empty() {
        s.push_str("advice:\n");
        for a in &p.advice {
            s.push_str(&format!("  {a}\n"));
        }
    }
    if let Confirmation::TypeWord(w) = &p.confirmation {
        s.push_str(&format!("confirmation: type {w}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reassign_like(keys_at_risk: crate::fix::KeysAtRisk) -> FixPlan {
        FixPlan {
            id: "reassign-slots-x".into(),
            kind: crate::fix::PlanKind::ReassignSlots,
            title: "Hand the slots".into(),
            why: "master down".into(),
            finding: None,
            group: None,
            recommended: false,
            slots: Vec::new(),
            nodes: Vec::new(),
            steps: Vec::new(),
            advice: Vec::new(),
            risk: crate::fix::Risk {
                keys_at_risk,
                slots_changing_owner: 5462,
                loses_data: true,
                ..crate::fix::Risk::default()
            },
            preconditions: Vec::new(),
            expected: Vec::new(),
            confirmation: Confirmation::TypeWord("lose-5462-slots".into()),
        }
    }

    #[test]
    fn risk_line_says_unknown_never_zero() {
        let p = reassign_like(crate::fix::KeysAtRisk::unknown(
            "master unreachable",
            Some(crate::fix::KeyEstimate {
                keys: 332,
                basis: "if it held as many keys per slot as the live masters".into(),
            }),
        ));
        let line = risk_line(&p);
        assert_eq!(
            line,
            "high, 5462 slot(s) change owner, CAN LOSE DATA (an unknown number of keys at risk \
             (master unreachable; about 332 if it held as many keys per slot as the live \
             masters))"
        );
        assert!(!line.contains("(0 key"), "{line}");
        let j = plan_json(&p, &CliAuth::default());
        assert_eq!(j["risk"]["keys_at_risk"], Json::Null);
        assert_eq!(j["risk"]["keys_at_risk_known"], false);
        assert_eq!(j["risk"]["keys_at_risk_estimate"], 332);
        assert_eq!(j["risk"]["level"], "high");
        let known = reassign_like(crate::fix::KeysAtRisk::Known(12));
        assert!(risk_line(&known).ends_with("CAN LOSE DATA (12 key(s) at risk)"));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(
            exit_code(&FixOutcome::Changed { changes: vec![] }),
            ExitCode::NOTHING_SENT
        );
        assert_eq!(
            exit_code(&FixOutcome::Completed {
                verified: true,
                unmet: vec![],
                new_findings: vec![]
            }),
            ExitCode::OK
        );
        assert_eq!(
            exit_code(&FixOutcome::Completed {
                verified: false,
                unmet: vec!["x".into()],
                new_findings: vec![]
            }),
            ExitCode::FAILED
        );
    }
}
