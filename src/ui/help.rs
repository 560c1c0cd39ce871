//! Help overlay, rendered from the keymap table (the same rows dispatch uses).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::app::{App, keymap};

use super::heatmap::state_glyph;
use crate::cluster::SlotState;

/// Draw the help overlay over `area`.
pub fn render_help(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &app.theme;
    let r = area.centered(
        Constraint::Length(area.width.saturating_sub(4).min(110)),
        Constraint::Length(area.height),
    );
    Clear.render(r, buf);
    let block = Block::bordered()
        .title(" slotscope help — Esc closes ")
        .border_style(t.dialog_border);
    let inner = block.inner(r);
    block.render(r, buf);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (scope, rows) in keymap::help_rows() {
        if matches!(scope, keymap::Scope::Dialog | keymap::Scope::Chooser) {
            continue;
        }
        lines.push(Line::styled(scope.title().to_owned(), t.table_header));
        let mut cur: Vec<Span<'static>> = Vec::new();
        let mut used = 0usize;
        for (keys, label) in rows {
            let item = format!("{keys:>9} {label}   ");
            let w = unicode_width::UnicodeWidthStr::width(item.as_str());
            if used + w > usize::from(inner.width) && !cur.is_empty() {
                lines.push(Line::from(std::mem::take(&mut cur)));
                used = 0;
            }
            cur.push(Span::styled(format!("{keys:>9} "), t.hint_key));
            cur.push(Span::raw(format!("{label}   ")));
            used += w;
        }
        if !cur.is_empty() {
            lines.push(Line::from(cur));
        }
    }
    lines.push(Line::styled("Slot states", t.table_header));
    let mut legend = Vec::new();
    for s in [
        SlotState::Served,
        SlotState::Migrating,
        SlotState::Disputed,
        SlotState::OwnerFailing,
        SlotState::Uncovered,
    ] {
        legend.push(Span::styled(format!(" {} ", state_glyph(s)), t.hint_key));
        legend.push(Span::raw(format!("{}  ", s.label())));
    }
    lines.push(Line::from(legend));
    lines.push(Line::raw(
        " Node status: ok · PF? suspected (PFAIL) · FAIL agreed · DOWN unreachable by us · ~ stale data · -- not probed",
    ));
    Paragraph::new(lines).render(inner, buf);
}
