//! Findings pane: one line per finding, most severe first; Enter expands the selected one,
//! its summary and evidence wrapped (never cut) so every word can be read.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::viewport::{ListId, ListRows};
use crate::app::{App, Pane};

use super::text::{truncate_end, wrap};
use super::theme::{Theme, severity_glyph};

/// Indent of wrapped continuation and evidence lines.
const DETAIL_INDENT: usize = 3;

/// The pane's body lines at `width` columns: `(line, selected)`, and the index of the
/// selected finding's first line. The selected finding is wrapped (every word readable), the
/// others are cut to one line with `…` (Enter expands, `z` shows the pane alone). Pure, so
/// the layout can size the pane by its content.
#[must_use]
pub fn finding_lines(app: &App, width: u16) -> (Vec<(Line<'static>, bool)>, usize) {
    build_lines(app, width, false)
}

/// Like [`finding_lines`], but every summary is wrapped (used when the pane has room for
/// all of them, e.g. the side pane of the wide layout or the full-screen pane).
#[must_use]
pub fn finding_lines_wrapped(app: &App, width: u16) -> (Vec<(Line<'static>, bool)>, usize) {
    build_lines(app, width, true)
}

fn build_lines(app: &App, width: u16, wrap_all: bool) -> (Vec<(Line<'static>, bool)>, usize) {
    let (lines, selected, _) = build_lines_owned(app, width, wrap_all);
    (lines, selected)
}

/// The finding lines, the selected line, and the finding each line belongs to.
#[allow(clippy::type_complexity)]
fn build_lines_owned(
    app: &App,
    width: u16,
    wrap_all: bool,
) -> (Vec<(Line<'static>, bool)>, usize, Vec<usize>) {
    let mut owners: Vec<usize> = Vec::new();
    let t = &Theme::of(app);
    let findings = app.findings();
    let w = usize::from(width);
    let mut lines: Vec<(Line<'static>, bool)> = Vec::new();
    let mut selected_line = 0;
    for (i, f) in findings.iter().enumerate() {
        let sel = i == app.finding_cursor;
        if sel {
            selected_line = lines.len();
        }
        let style = super::row_style(app, Pane::Findings, sel);
        let expanded = sel && app.finding_expanded;
        let summary = if sel || wrap_all {
            wrap(&f.summary, w.saturating_sub(DETAIL_INDENT))
        } else {
            vec![truncate_end(&f.summary, w.saturating_sub(DETAIL_INDENT))]
        };
        for (k, part) in summary.into_iter().enumerate() {
            let lead = if k == 0 {
                Span::styled(severity_glyph(f.severity), t.severity(f.severity))
            } else {
                Span::raw("  ")
            };
            let l = Line::from(vec![lead, Span::raw(" "), Span::raw(part)]).style(style);
            lines.push((l, sel));
            owners.push(i);
        }
        if expanded {
            let mut detail: Vec<String> = Vec::new();
            if !f.addresses.is_empty() {
                detail.push(format!("nodes: {}", f.addresses.join(", ")));
            }
            if !f.slots.is_empty() {
                let shown = &f.slots[..f.slots.len().min(8)];
                let more = if f.slots.len() > 8 { ",…" } else { "" };
                detail.push(format!(
                    "slots: {}{more} ({} in all)",
                    crate::cluster::slots::format_ranges(shown),
                    crate::cluster::slots::ranges_len(&f.slots)
                ));
            }
            detail.extend(f.evidence.iter().cloned());
            let indent = " ".repeat(DETAIL_INDENT);
            for d in detail {
                // The first line of an item gets a bullet; its continuation lines align.
                for (k, part) in wrap(&d, w.saturating_sub(DETAIL_INDENT + 2))
                    .into_iter()
                    .enumerate()
                {
                    let bullet = if k == 0 { "· " } else { "  " };
                    lines.push((
                        Line::styled(format!("{indent}{bullet}{part}"), t.text_dim),
                        false,
                    ));
                    owners.push(i);
                }
            }
        }
    }
    (lines, selected_line, owners)
}

/// Rows the pane's body wants at `width` columns: every finding wrapped (at least one: the
/// "nothing wrong" line).
#[must_use]
pub fn content_rows(app: &App, width: u16) -> usize {
    if app.shown.is_none() || app.findings().is_empty() {
        return 1;
    }
    finding_lines_wrapped(app, width).0.len().max(1)
}

/// Rows the pane's body needs at least at `width` columns: the selected finding wrapped, the
/// others on one line each.
#[must_use]
pub fn min_content_rows(app: &App, width: u16) -> usize {
    if app.shown.is_none() || app.findings().is_empty() {
        return 1;
    }
    finding_lines(app, width).0.len().max(1)
}

/// Draw the findings pane.
pub fn render_findings(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let findings = app.findings();
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    let h = usize::from(body.height);
    let (mut lines, mut selected_line, mut owners) = build_lines_owned(app, body.width, true);
    if lines.len() > h {
        (lines, selected_line, owners) = build_lines_owned(app, body.width, false);
    }
    let offset = super::scroll_offset(selected_line, h, lines.len());
    // Keep the expanded finding, from its first line, in view when there is room.
    let offset = if app.finding_expanded {
        selected_line.min(lines.len().saturating_sub(h)).max(offset)
    } else {
        offset
    };
    let hidden_above = offset;
    let hidden_below = lines.len().saturating_sub(offset + h);
    let right = if findings.is_empty() {
        Line::default()
    } else {
        let mut s = format!("{}/{}", app.finding_cursor + 1, findings.len());
        if hidden_above > 0 {
            s.push_str(&format!(" ↑{hidden_above}"));
        }
        if hidden_below > 0 {
            s.push_str(&format!(" ↓{hidden_below} more"));
            if app.finding_expanded && !app.fullscreen {
                s.push_str(" · z: all");
            }
        }
        Line::styled(s, t.text_dim)
    };
    super::render_title(
        buf,
        area,
        app,
        Pane::Findings,
        &findings.len().to_string(),
        &right,
    );
    if body.height == 0 {
        return;
    }
    if app.shown.is_none() {
        buf.set_string(body.x + 1, body.y, "waiting for data…", t.text_dim);
        return;
    }
    if findings.is_empty() {
        buf.set_line(
            body.x + 1,
            body.y,
            &Line::styled("✓ nothing wrong found", t.verdict_ok),
            body.width,
        );
        return;
    }
    app.viewport.record_list(ListRows {
        list: ListId::Pane(Pane::Findings),
        rows: body,
        items: (offset..offset + h)
            .map(|i| owners.get(i).copied())
            .collect(),
    });
    for (row, (line, sel)) in lines.iter().skip(offset).take(h).enumerate() {
        let y = body.y + u16::try_from(row).unwrap_or(0);
        if *sel {
            buf.set_style(Rect::new(body.x, y, body.width, 1), line.style);
        }
        buf.set_line(body.x, y, line, body.width);
    }
}
