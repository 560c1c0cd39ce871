//! Findings pane: one line per finding, most severe first; Enter expands the evidence.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::{App, Pane};

use super::text::truncate_end;
use super::theme::severity_glyph;

/// Draw the findings pane.
pub fn render_findings(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &app.theme;
    let findings = app.findings();
    let right = if findings.is_empty() {
        Line::default()
    } else {
        Line::styled(
            format!("{}/{}", app.finding_cursor + 1, findings.len()),
            t.text_dim,
        )
    };
    super::render_title(
        buf,
        area,
        app,
        Pane::Findings,
        &findings.len().to_string(),
        right,
    );
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
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
    let w = usize::from(body.width);
    // Build lines: each finding, and under the selected one its evidence when expanded.
    let mut lines: Vec<(Line<'static>, bool)> = Vec::new();
    let mut selected_line = 0;
    for (i, f) in findings.iter().enumerate() {
        let sel = i == app.finding_cursor;
        if sel {
            selected_line = lines.len();
        }
        let style = super::row_style(app, Pane::Findings, sel);
        let text = truncate_end(&f.summary, w.saturating_sub(4));
        let mut l = Line::from(vec![
            Span::styled(severity_glyph(f.severity), t.severity(f.severity)),
            Span::raw(" "),
            Span::raw(text),
        ]);
        l = l.style(style);
        lines.push((l, sel));
        if sel && app.finding_expanded {
            let mut detail: Vec<String> = Vec::new();
            if !f.addresses.is_empty() {
                detail.push(format!("nodes: {}", f.addresses.join(", ")));
            }
            if !f.slots.is_empty() {
                let shown = &f.slots[..f.slots.len().min(8)];
                let more = if f.slots.len() > 8 { ",…" } else { "" };
                detail.push(format!(
                    "slots: {} ({} in all){more}",
                    crate::cluster::format_ranges(shown),
                    crate::cluster::ranges_len(&f.slots)
                ));
            }
            detail.extend(f.evidence.iter().cloned());
            for d in detail {
                lines.push((
                    Line::styled(
                        format!("   {}", truncate_end(&d, w.saturating_sub(3))),
                        t.text_dim,
                    ),
                    false,
                ));
            }
        }
    }
    let h = usize::from(body.height);
    let offset = super::scroll_offset(selected_line, h, lines.len());
    // Keep the expanded evidence in view when there is room.
    let offset = if app.finding_expanded {
        selected_line.min(lines.len().saturating_sub(h)).max(offset)
    } else {
        offset
    };
    for (row, (line, sel)) in lines.iter().skip(offset).take(h).enumerate() {
        let y = body.y + u16::try_from(row).unwrap_or(0);
        if *sel {
            buf.set_style(Rect::new(body.x, y, body.width, 1), line.style);
        }
        buf.set_line(body.x, y, line, body.width);
    }
}
