//! Timeline pane: what changed between refreshes, newest first.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::{App, ChangeKind, Pane};

use super::text::{clock_hms, truncate_end};
use super::theme::Theme;

/// Glyph of a change kind (reads without colour).
#[must_use]
pub fn change_glyph(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::NodeFailing => "▼",
        ChangeKind::NodeRecovered => "▲",
        ChangeKind::Failover => "⇄",
        ChangeKind::SlotsMoved => "→",
        ChangeKind::MarkerSet => "+",
        ChangeKind::MarkerCleared => "-",
        ChangeKind::NodeAppeared => "●",
        ChangeKind::NodeDisappeared => "○",
        ChangeKind::ClusterState => "◆",
    }
}

/// Draw the timeline pane.
pub fn render_timeline(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let n = app.visible_timeline().count();
    super::render_title(
        buf,
        area,
        app,
        Pane::Timeline,
        &n.to_string(),
        &Line::default(),
    );
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    if body.height == 0 {
        return;
    }
    if n == 0 {
        buf.set_string(
            body.x + 1,
            body.y,
            "no changes seen since start",
            t.text_dim,
        );
        return;
    }
    let h = usize::from(body.height);
    let offset = super::scroll_offset(app.timeline_cursor, h, n);
    super::record_rows(app, Pane::Timeline, body, offset, n);
    let w = usize::from(body.width).saturating_sub(12);
    for (row, (i, e)) in app
        .visible_timeline()
        .enumerate()
        .skip(offset)
        .take(h)
        .enumerate()
    {
        let style = match e.kind {
            ChangeKind::NodeFailing | ChangeKind::NodeDisappeared => t.severity_critical,
            ChangeKind::ClusterState | ChangeKind::Failover | ChangeKind::SlotsMoved => {
                t.severity_warning
            }
            ChangeKind::NodeRecovered => t.verdict_ok,
            _ => t.text,
        };
        let line = Line::from(vec![
            Span::styled(clock_hms(e.at_ms), t.text_dim),
            Span::raw(" "),
            Span::styled(change_glyph(e.kind), style),
            Span::raw(" "),
            Span::styled(truncate_end(&e.text, w), style),
        ])
        .style(super::row_style(
            app,
            Pane::Timeline,
            i == app.timeline_cursor,
        ));
        let y = body.y + u16::try_from(row).unwrap_or(0);
        buf.set_line(body.x, y, &line, body.width);
    }
}
