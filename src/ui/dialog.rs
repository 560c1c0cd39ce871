//! The fix dialog: the chooser between alternative plans, the confirmation (title, why, risk
//! in numbers, every step as its exact `redis-cli` line, the preconditions re-checked before
//! running, the expected end state), and the progress / result of a run.
//!
//! ```text
//! ┌ FIX · slot 100 ───────────────────────────────────────── risk MEDIUM ┐
//! │ Complete the migration of slot 100 to 127.0.0.1:7001                 │
//! │ WHY   slot 100 half-moved …                                          │ scrollable
//! │ RISK  40 keys move · 0 keys at risk · 1 slot changes owner           │ body
//! │ STEPS 4, sent exactly as shown, in this order:                       │
//! │  1. redis-cli -h 127.0.0.1 -p 7000 …                                 │
//! │ …                                                     ↓ 12 more      │
//! │ Type lose-5461-slots to enable Run: lose-54█                         │ gate (if any)
//! │ [ Cancel ]  [ Run ]                 Tab switch · Enter press · Esc   │ buttons
//! └──────────────────────────────────────────────────────────────────────┘
//! ```
//! Nothing here depends on colour alone: the focused button is REVERSED, dangers are
//! underlined and bold, results carry ✓ / ✗ and words.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::app::App;
use crate::app::fix::{DialogButton, FixDialog, FixStage, ProgressLine};
use crate::app::viewport::{ListId, ListRows};
pub use crate::fix::describe::risk_headline;
use crate::fix::describe::{outcome_words, plural, risk_word};
use crate::fix::{FixOutcome, FixPlan, RiskLevel};

use super::text::{human_count, truncate_end};
use super::theme::Theme;

/// Draw the fix dialog over `area` (the body below the header).
pub fn render_fix_dialog(buf: &mut Buffer, area: Rect, app: &App, d: &FixDialog) {
    let t = &Theme::of(app);
    // The whole body: a half-covered dashboard behind the dialog only distracts.
    let r = area.centered(
        Constraint::Length(area.width.min(140)),
        Constraint::Length(area.height),
    );
    Clear.render(r, buf);
    let risk = d.plan().map(|p| p.risk.level());
    let right = match (d.stage, d.plan()) {
        (FixStage::Choose, _) | (_, None) => String::new(),
        (_, Some(p)) => format!(" risk {} ", risk_headline(p)),
    };
    let room = usize::from(r.width).saturating_sub(right.width() + 12);
    let title = format!(" FIX · {} ", truncate_end(&d.target, room));
    let block = Block::bordered()
        .title(Line::styled(
            title,
            t.dialog_border.add_modifier(Modifier::BOLD),
        ))
        .title_top(Line::styled(right, risk_style(app, risk)).right_aligned())
        .border_style(t.dialog_border);
    let inner = block.inner(r);
    block.render(r, buf);
    if inner.height < 3 || inner.width < 20 {
        return;
    }
    let gate_rows = u16::from(d.stage == FixStage::Confirm && d.required_word().is_some());
    let [body, gate, buttons] = inner.layout(&Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(gate_rows),
        Constraint::Length(1),
    ]));
    let width = usize::from(body.width);
    let lines = match d.stage {
        FixStage::Choose => chooser_lines(app, d, width),
        FixStage::Confirm => d
            .plan()
            .map(|p| plan_lines(app, p, width))
            .unwrap_or_default(),
        FixStage::Running | FixStage::Done => progress_lines(app, d, width),
    };
    // When the text does not fit, the last row is kept for the "more below" marker, so the
    // marker never hides part of a command.
    let full_h = usize::from(body.height);
    let h = if lines.len() > full_h {
        full_h.saturating_sub(1).max(1)
    } else {
        full_h
    };
    let max_scroll = lines.len().saturating_sub(h);
    let scroll = if d.stage == FixStage::Choose {
        // Keep the cursor row visible (each plan is one row, after 2 header rows).
        (d.chosen + 2)
            .saturating_sub(h.saturating_sub(1))
            .min(max_scroll)
    } else {
        d.scroll.min(max_scroll)
    };
    if d.stage == FixStage::Choose {
        // Plan i is on line 2 + i (after the heading and a blank line).
        app.viewport.record_list(ListRows {
            list: ListId::Plans,
            rows: Rect {
                height: u16::try_from(h).unwrap_or(body.height),
                ..body
            },
            items: (scroll..scroll + h)
                .map(|l| l.checked_sub(2).filter(|i| *i < d.plans.len()))
                .collect(),
        });
    }
    let lines_len = lines.len();
    let more_below = lines_len.saturating_sub(scroll + h);
    let shown: Vec<Line<'static>> = lines.into_iter().skip(scroll).take(h).collect();
    Paragraph::new(shown).render(body, buf);
    if more_below > 0 || (scroll > 0 && lines_len > full_h) {
        let tag = if more_below > 0 {
            format!(" ↓ {more_below} more lines (↓/PgDn) ")
        } else {
            " ↑ end (↑/PgUp) ".to_owned()
        };
        let w = u16::try_from(tag.width()).unwrap_or(0);
        let x = body.right().saturating_sub(w);
        buf.set_string(x, body.bottom().saturating_sub(1), tag, t.badge);
    }
    if gate_rows > 0 {
        render_gate(buf, gate, app, d);
    }
    render_buttons(buf, buttons, app, d);
}

fn risk_style(app: &App, l: Option<RiskLevel>) -> Style {
    let t = &Theme::of(app);
    match l {
        Some(RiskLevel::High) => t.danger.add_modifier(Modifier::REVERSED),
        Some(RiskLevel::Medium) => t.severity_warning.add_modifier(Modifier::REVERSED),
        _ => t.badge,
    }
}

/// Word-wrap `text` to `width` columns: the first line starts with `first`, the following ones
/// with `rest` (a hanging indent). Words longer than a line are cut.
///
/// Not [`super::text::wrap`] with a prefix added: this splits on single spaces and keeps the
/// text's spaces (`"a  b "` stays as written), and a word too long for any line is cut to the
/// room its line leaves after the prefix (`first` or `rest`). Not `textwrap` either: it cuts a
/// long first word at the width of the following lines, leaving `first` alone on the first
/// line, and it trims spaces.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = first.to_owned();
    let mut prefix_w = first.width();
    let mut empty = true;
    for word in text.split(' ') {
        let ww = word.width();
        let need = if empty { ww } else { ww + 1 };
        if !empty && line.width() + need > width {
            out.push(std::mem::take(&mut line));
            rest.clone_into(&mut line);
            prefix_w = rest.width();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        if prefix_w + ww > width && width > prefix_w {
            // Hard-cut a word that cannot fit on any line.
            for c in word.chars() {
                if line.width() + c.width().unwrap_or(0) > width {
                    out.push(std::mem::take(&mut line));
                    rest.clone_into(&mut line);
                }
                line.push(c);
            }
        } else {
            line.push_str(word);
        }
        empty = false;
    }
    out.push(line);
    out
}

fn push_wrapped(
    out: &mut Vec<Line<'static>>,
    text: &str,
    width: usize,
    first: &str,
    rest: &str,
    style: Style,
) {
    for l in wrap(text, width, first, rest) {
        out.push(Line::styled(l, style));
    }
}

/// A labelled paragraph: `LABEL text…` with the text aligned after the label.
fn labelled(
    out: &mut Vec<Line<'static>>,
    label: &str,
    label_style: Style,
    text: &str,
    style: Style,
    width: usize,
) {
    let pad = " ".repeat(label.width() + 1);
    let first = format!("{label} ");
    let wrapped = wrap(text, width, &pad, &pad);
    for (i, l) in wrapped.into_iter().enumerate() {
        if i == 0 {
            let body = l.get(pad.len()..).unwrap_or("").to_owned();
            out.push(Line::from(vec![
                Span::styled(first.clone(), label_style),
                Span::styled(body, style),
            ]));
        } else {
            out.push(Line::styled(l, style));
        }
    }
}

/// The whole plan, line by line, as the confirmation shows it.
#[must_use]
pub fn plan_lines(app: &App, p: &FixPlan, width: usize) -> Vec<Line<'static>> {
    let t = &Theme::of(app);
    let label = t.table_header.add_modifier(Modifier::BOLD);
    let mut out: Vec<Line<'static>> = Vec::new();
    push_wrapped(
        &mut out,
        &p.title,
        width,
        "",
        "",
        t.text.add_modifier(Modifier::BOLD),
    );
    labelled(&mut out, "WHY ", label, &p.why, t.text, width);
    let r = &p.risk;
    let numbers = format!(
        "{} · {} · {}",
        plural(r.keys_to_move, "key moves", "keys move"),
        match r.keys_at_risk.known() {
            Some(n) => plural(n, "key at risk", "keys at risk"),
            // Never 0 when unknown: "keys at risk unknown (about 332)".
            None => format!("keys at risk {}", r.keys_at_risk),
        },
        plural(
            r.slots_changing_owner,
            "slot changes owner",
            "slots change owner"
        ),
    );
    let risky = r.loses_data || r.keys_at_risk.may_lose_keys();
    labelled(
        &mut out,
        "RISK",
        label,
        &numbers,
        if risky { t.danger } else { t.text },
        width,
    );
    if r.loses_data {
        push_wrapped(
            &mut out,
            "THIS PLAN CAN LOSE DATA: read the notes, then type the word below to enable Run.",
            width,
            "     ",
            "     ",
            t.danger,
        );
    }
    for n in &r.notes {
        push_wrapped(&mut out, n, width, "     · ", "       ", t.text);
    }
    if p.steps.is_empty() {
        out.push(Line::styled(
            "STEPS none: this plan is advice only, nothing will be sent".to_owned(),
            label,
        ));
    } else {
        out.push(Line::from(vec![
            Span::styled("STEPS ", label),
            Span::styled(
                format!(
                    "{}, sent exactly as shown, in this order, stopping at the first error:",
                    p.steps.len()
                ),
                t.text,
            ),
        ]));
        let numw = p.steps.len().to_string().len();
        let auth = app.plan_cli_auth();
        for (i, s) in p.steps.iter().enumerate() {
            let first = format!(" {:>numw$}. ", i + 1);
            let rest = " ".repeat(first.width() + 2);
            push_wrapped(
                &mut out,
                &s.redis_cli_line_with(&auth),
                width,
                &first,
                &rest,
                t.hint_key,
            );
            let desc_indent = " ".repeat(first.width());
            push_wrapped(
                &mut out,
                &s.description,
                width,
                &desc_indent,
                &desc_indent,
                t.text_dim,
            );
        }
    }
    if !p.advice.is_empty() {
        out.push(Line::styled("ADVICE".to_owned(), label));
        for a in &p.advice {
            push_wrapped(&mut out, a, width, " · ", "   ", t.text);
        }
    }
    if !p.preconditions.is_empty() {
        out.push(Line::styled(
            "RE-CHECKED on fresh data just before running (any change: nothing is sent)".to_owned(),
            label,
        ));
        for c in &p.preconditions {
            push_wrapped(&mut out, &c.description, width, " · ", "   ", t.text);
        }
    }
    if !p.expected.is_empty() {
        out.push(Line::styled(
            "EXPECTED afterwards (verified after the run)".to_owned(),
            label,
        ));
        for c in &p.expected {
            push_wrapped(&mut out, &c.description, width, " · ", "   ", t.text);
        }
    }
    out
}

fn chooser_lines(app: &App, d: &FixDialog, width: usize) -> Vec<Line<'static>> {
    let t = &Theme::of(app);
    let mut out: Vec<Line<'static>> = vec![
        Line::styled(
            truncate_end(
                &format!(
                    "{} {}. ★ = recommended. ↑↓ choose · Enter shows the plan · Esc cancels",
                    d.plans.len(),
                    if d.plans.len() == 1 {
                        "plan fits"
                    } else {
                        "plans fit"
                    }
                ),
                width,
            ),
            t.text,
        ),
        Line::raw(""),
    ];
    let mut chosen_cut = false;
    for (i, p) in d.plans.iter().enumerate() {
        let selected = i == d.chosen;
        let mark = if selected { "▸" } else { " " };
        let star = if p.recommended { "★" } else { " " };
        let level = risk_word(p.risk.level());
        let level = level.split(':').next().unwrap_or(level);
        let tail = if p.is_advice_only() {
            "advice".to_owned()
        } else {
            format!(
                "{} · {}",
                plural(p.steps.len() as u64, "step", "steps"),
                level
            )
        };
        let tail_w = tail.width() + 1;
        let head = format!("{mark} {star} ");
        let room = width.saturating_sub(head.width() + tail_w + 1);
        let title = truncate_end(&p.title, room);
        if selected && title != p.title {
            chosen_cut = true;
        }
        let gap = " ".repeat(room.saturating_sub(title.width()) + 1);
        let row_style = if selected { t.selection } else { t.text };
        let lvl_style = match p.risk.level() {
            RiskLevel::High => t.danger,
            RiskLevel::Medium => t.severity_warning,
            RiskLevel::Low => t.text_dim,
        };
        out.push(Line::from(vec![
            Span::styled(head, row_style),
            Span::styled(title, row_style),
            Span::styled(gap, row_style),
            Span::styled(tail, if selected { row_style } else { lvl_style }),
        ]));
    }
    if let Some(p) = d.plan() {
        out.push(Line::raw(""));
        let label = t.table_header.add_modifier(Modifier::BOLD);
        if chosen_cut {
            // Its row is cut (a narrow terminal): the whole title, addresses included.
            labelled(&mut out, "PLAN", label, &p.title, t.text, width);
        }
        labelled(&mut out, "WHY ", label, &p.why, t.text, width);
        for n in p.risk.notes.iter().take(2) {
            push_wrapped(&mut out, n, width, "     · ", "       ", t.text_dim);
        }
    }
    out
}

fn progress_lines(app: &App, d: &FixDialog, width: usize) -> Vec<Line<'static>> {
    let t = &Theme::of(app);
    let label = t.table_header.add_modifier(Modifier::BOLD);
    let p = &d.progress;
    let mut out: Vec<Line<'static>> = Vec::new();
    if let Some(plan) = d.plan() {
        push_wrapped(
            &mut out,
            &plan.title,
            width,
            "",
            "",
            t.text.add_modifier(Modifier::BOLD),
        );
    }
    // The status first: it is what matters.
    let (status, style) = match &p.outcome {
        None => {
            let step = p
                .step
                .map_or_else(|| "starting".to_owned(), |(n, of)| format!("step {n}/{of}"));
            (
                format!(
                    "RUNNING… {step} · {} moved",
                    plural(p.keys_moved, "key", "keys")
                ),
                t.verdict_warning,
            )
        }
        Some(o @ FixOutcome::Completed { verified: true, .. }) => (
            format!("✓ {}", outcome_words(o).to_uppercase()),
            t.verdict_ok,
        ),
        Some(o) => (format!("✗ {}", outcome_words(o)), t.verdict_critical),
    };
    push_wrapped(&mut out, &status, width, "", "  ", style);
    if p.outcome.is_some() && p.keys_moved > 0 {
        out.push(Line::styled(
            format!("keys moved: {}", human_count(p.keys_moved)),
            t.text,
        ));
    }
    if let Some((gone, unmet, new)) = &p.verified {
        if *gone {
            out.push(Line::styled(
                "VERIFIED ✓ the finding is gone: every expected condition holds".to_owned(),
                t.verdict_ok,
            ));
        } else {
            out.push(Line::styled(
                "VERIFIED ✗ not every expected condition holds yet:".to_owned(),
                t.verdict_critical,
            ));
            for u in unmet {
                push_wrapped(&mut out, u, width, " · ", "   ", t.text);
            }
        }
        if new.is_empty() {
            out.push(Line::styled(
                "no new finding appeared".to_owned(),
                t.verdict_ok,
            ));
        } else {
            out.push(Line::styled(
                format!("NEW findings after the run ({}):", new.len()),
                t.verdict_warning,
            ));
            for n in new {
                push_wrapped(&mut out, n, width, " · ", "   ", t.text);
            }
        }
    }
    if !p.done.is_empty() || !p.not_done.is_empty() {
        out.push(Line::styled(
            format!("DONE ({}): these steps were applied", p.done.len()),
            label,
        ));
        for s in &p.done {
            push_wrapped(&mut out, s, width, " ✓ ", "   ", t.text);
        }
        out.push(Line::styled(
            format!("NOT DONE ({}): nothing below was sent", p.not_done.len()),
            label,
        ));
        for s in &p.not_done {
            push_wrapped(&mut out, s, width, " ✗ ", "   ", t.text);
        }
    }
    out.push(Line::styled("LOG".to_owned(), label));
    for l in &p.lines {
        let (text, style) = match l {
            ProgressLine::Info(s) => (s, t.text_dim),
            ProgressLine::Good(s) => (s, t.text),
            ProgressLine::Bad(s) => (s, t.severity_critical),
        };
        push_wrapped(&mut out, text, width, " ", "   ", style);
    }
    out
}

fn render_gate(buf: &mut Buffer, area: Rect, app: &App, d: &FixDialog) {
    let t = &Theme::of(app);
    let Some(word) = d.required_word() else {
        return;
    };
    let ok = d.typed == word;
    let mark = if ok {
        Span::styled(" ✓ matches", t.verdict_ok)
    } else {
        Span::styled(" (exactly)", t.text_dim)
    };
    let line = Line::from(vec![
        Span::styled("Type ", t.text),
        Span::styled(word.to_owned(), t.danger),
        Span::styled(" to enable Run: ", t.text),
        Span::styled(
            format!("{}█", d.typed),
            t.text.add_modifier(Modifier::UNDERLINED),
        ),
        mark,
    ]);
    buf.set_line(area.x, area.y, &line, area.width);
}

fn button(label: &str, focused: bool, enabled: bool, app: &App) -> Span<'static> {
    let t = &Theme::of(app);
    let style = if !enabled {
        t.text_dim.add_modifier(Modifier::CROSSED_OUT)
    } else if focused {
        t.selection.add_modifier(Modifier::BOLD)
    } else {
        t.text
    };
    let (l, r) = if focused {
        ("▸[ ", " ]◂")
    } else {
        (" [ ", " ] ")
    };
    Span::styled(format!("{l}{label}{r}"), style)
}

fn render_buttons(buf: &mut Buffer, area: Rect, app: &App, d: &FixDialog) {
    let t = &Theme::of(app);
    let mut spans: Vec<Span<'static>> = Vec::new();
    let hint: &str = match d.stage {
        FixStage::Choose => {
            spans.push(button("Show plan", true, true, app));
            spans.push(button("Cancel", false, true, app));
            "↑↓ choose · Enter show · Esc cancel"
        }
        FixStage::Confirm => {
            // Cancel and Esc both go back to the list of plans.
            spans.push(button("Cancel", d.focus == DialogButton::Cancel, true, app));
            if d.runnable() && !app.read_only {
                spans.push(Span::raw(" "));
                spans.push(button(
                    "Run",
                    d.focus == DialogButton::Run,
                    d.run_enabled(),
                    app,
                ));
                if d.run_enabled() {
                    "Tab switch · Enter press · Esc back"
                } else {
                    "type the word to enable Run · Esc back"
                }
            } else {
                "advice only: nothing to run · Esc close"
            }
        }
        FixStage::Running => {
            spans.push(Span::styled(
                " running… stops by itself at the first error ",
                t.badge_alert,
            ));
            ""
        }
        FixStage::Done => {
            spans.push(button("Close", true, true, app));
            "Enter/Esc close · ↑↓ scroll"
        }
    };
    let used: usize = spans.iter().map(Span::width).sum();
    let room = usize::from(area.width).saturating_sub(used + 1);
    if room > 8 && !hint.is_empty() {
        let h = truncate_end(hint, room);
        let pad = room.saturating_sub(h.width());
        spans.push(Span::raw(" ".repeat(pad + 1)));
        spans.push(Span::styled(h, t.text_dim));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_words_and_indents() {
        let w = wrap("aaa bbb ccc ddd", 9, "> ", "  ");
        assert_eq!(w, vec!["> aaa bbb", "  ccc ddd"]);
        let long = wrap("x 0123456789abcdef", 8, "", " ");
        assert!(
            long.iter()
                .all(|l| unicode_width::UnicodeWidthStr::width(l.as_str()) <= 8),
            "{long:?}"
        );
        assert_eq!(long.concat().replace(' ', ""), "x0123456789abcdef");
    }
}
