//! The output overlay of a node command (`:info`, `:slowlog`, `:latency`, `:cmd`): the node
//! and the command in its title, the reply (or the error) below, scrolling with ↑↓ `PgUp`
//! `PgDn` Home End.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::app::App;
use crate::app::console::OutputView;

use super::text::{truncate_end, wrap};
use super::theme::Theme;

/// The overlay's lines at `width` columns: a line too long wraps, its rest indented.
#[must_use]
pub fn output_lines(app: &App, v: &OutputView, width: u16) -> Vec<Line<'static>> {
    let t = &Theme::of(app);
    let style = if v.failed {
        t.severity_critical
    } else if v.pending {
        t.text_dim
    } else {
        t.text
    };
    let w = usize::from(width);
    let mut out = Vec::new();
    for l in &v.lines {
        if unicode_width::UnicodeWidthStr::width(l.as_str()) <= w {
            out.push(Line::styled(l.clone(), style));
            continue;
        }
        for (i, part) in wrap(l, w.saturating_sub(2).max(10)).into_iter().enumerate() {
            let part = if i == 0 { part } else { format!("  {part}") };
            out.push(Line::styled(truncate_end(&part, w), style));
        }
    }
    out
}

/// Draw the output overlay over `area` (the body).
pub fn render_output(buf: &mut Buffer, area: Rect, app: &App) {
    let Some(v) = &app.console.output else {
        return;
    };
    let t = &Theme::of(app);
    let r = area;
    Clear.render(r, buf);
    let inner = Block::bordered().inner(r);
    let lines = output_lines(app, v, inner.width);
    let max_scroll = lines.len().saturating_sub(usize::from(inner.height));
    app.viewport.record_output_max_scroll(max_scroll);
    let scroll = v.scroll.min(max_scroll);
    let room = usize::from(r.width).saturating_sub(16);
    let title = format!(" {} — Esc closes ", truncate_end(&v.title, room));
    let mut block = Block::bordered()
        .title(Line::styled(title, t.dialog_border))
        .border_style(t.dialog_border);
    if scroll > 0 {
        block = block
            .title_bottom(Line::styled(format!(" ↑ {scroll} more above "), t.badge).left_aligned());
    }
    let below = max_scroll - scroll;
    if below > 0 {
        block = block.title_bottom(
            Line::styled(format!(" ↓ {below} more below: ↓ / PgDn / End "), t.badge)
                .right_aligned(),
        );
    }
    block.render(r, buf);
    Paragraph::new(lines)
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
        .render(inner, buf);
}
