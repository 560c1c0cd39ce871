//! Help overlay, rendered from the keymap table (the same rows dispatch uses). It scrolls
//! (↑↓ j k `PgUp` `PgDn` g G) when it does not fit, and says so in its frame.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::app::App;
use crate::app::keymap::{self, QUIT_WHILE_FIXING};

use super::text::wrap;
use super::theme::Theme;

/// The incident contract in one breath, first in the overlay: the keys from a red header
/// to a repaired cluster.
pub const INCIDENT_KEYS: &str = "x (any pane) opens the repairs of the worst finding, ★ \
    recommended · Enter shows the plan · type the word if it asks for one · Tab Enter runs \
    it · Enter closes the result · Esc goes back one level.";

/// The overlay's rectangle inside `area` (the body).
#[must_use]
pub fn help_rect(area: Rect) -> Rect {
    area.centered(
        Constraint::Length(area.width.saturating_sub(4).min(110)),
        Constraint::Length(area.height),
    )
}

/// The help text at `width` columns (inside the frame). Pure.
#[must_use]
pub fn help_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = &Theme::of(app);
    let w = usize::from(width);
    let mut lines: Vec<Line<'static>> = Vec::new();
    // The heatmap legend comes first: on a small screen the heatmap has no room for it.
    lines.push(Line::styled("Slot states (heatmap)", t.table_header));
    let mut legend: Vec<Span<'static>> = vec![Span::raw(" ")];
    let mut used = 1usize;
    for pair in super::heat_pane::state_legend(t).chunks(2) {
        let iw: usize = pair.iter().map(Span::width).sum();
        if used + iw > w && legend.len() > 1 {
            lines.push(Line::from(std::mem::take(&mut legend)));
            legend.push(Span::raw(" "));
            used = 1;
        }
        legend.extend(pair.iter().cloned());
        used += iw;
    }
    lines.push(Line::from(legend));
    lines.push(Line::styled("The incident contract", t.table_header));
    for l in wrap(INCIDENT_KEYS, w.saturating_sub(1)) {
        lines.push(Line::raw(format!(" {l}")));
    }
    for (scope, rows) in keymap::help_rows() {
        lines.push(Line::styled(scope.title().to_owned(), t.table_header));
        let mut cur: Vec<Span<'static>> = Vec::new();
        let mut used = 0usize;
        for (keys, label) in rows {
            let item = format!("{keys:>9} {label}   ");
            let iw = unicode_width::UnicodeWidthStr::width(item.as_str());
            if used + iw > w && !cur.is_empty() {
                lines.push(Line::from(std::mem::take(&mut cur)));
                used = 0;
            }
            if iw.saturating_sub(3) > w {
                // A label longer than the overlay wraps under itself, never cut.
                let key_w = unicode_width::UnicodeWidthStr::width(keys.as_str()).max(9) + 1;
                let body = wrap(label, w.saturating_sub(key_w).max(10));
                for (k, part) in body.into_iter().enumerate() {
                    let head = if k == 0 {
                        Span::styled(format!("{keys:>9} "), t.hint_key)
                    } else {
                        Span::raw(" ".repeat(key_w))
                    };
                    lines.push(Line::from(vec![head, Span::raw(part)]));
                }
                continue;
            }
            cur.push(Span::styled(format!("{keys:>9} "), t.hint_key));
            cur.push(Span::raw(format!("{label}   ")));
            used += iw;
        }
        if !cur.is_empty() {
            lines.push(Line::from(cur));
        }
    }
    lines.push(Line::styled("Quitting while a fix runs", t.table_header));
    for l in wrap(QUIT_WHILE_FIXING, w.saturating_sub(1)) {
        lines.push(Line::raw(format!(" {l}")));
    }
    lines.push(Line::styled(
        "Mouse, copy and node commands",
        t.table_header,
    ));
    for l in wrap(keymap::MOUSE_AND_COMMANDS_HELP, w.saturating_sub(1)) {
        lines.push(Line::raw(format!(" {l}")));
    }
    lines.push(Line::styled("Node status", t.table_header));
    let legend = super::nodes::STATUS_LEGEND
        .iter()
        .map(|(word, what)| format!("{word} {what}"))
        .collect::<Vec<_>>()
        .join(" · ");
    for l in wrap(&legend, w.saturating_sub(1)) {
        lines.push(Line::raw(format!(" {l}")));
    }
    lines
}

/// Draw the help overlay over `area`.
pub fn render_help(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let r = help_rect(area);
    Clear.render(r, buf);
    let inner = Block::bordered().inner(r);
    let lines = help_lines(app, inner.width);
    let max_scroll = lines.len().saturating_sub(usize::from(inner.height));
    app.viewport.record_help_max_scroll(max_scroll);
    let scroll = app.help_scroll.min(max_scroll);
    let mut block = Block::bordered()
        .title(" slotscope help — Esc closes ")
        .border_style(t.dialog_border);
    if scroll > 0 {
        block = block
            .title_top(Line::styled(format!(" ↑ {scroll} more above "), t.badge).right_aligned());
    }
    let below = max_scroll - scroll;
    if below > 0 {
        block = block.title_bottom(
            Line::styled(format!(" ↓ {below} more below: j / ↓ / PgDn "), t.badge).right_aligned(),
        );
    }
    block.render(r, buf);
    Paragraph::new(lines)
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
        .render(inner, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sample::{self, SampleCase};

    fn flat(lines: &[Line<'_>]) -> String {
        let text: Vec<String> = lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        text.join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn every_key_is_in_the_help_and_nothing_is_cut() {
        let app = sample::app(SampleCase::Healthy, 80, 24);
        // 74: the inside of the overlay at 80 columns; 106: at 120 columns.
        for width in [74u16, 106] {
            let lines = help_lines(&app, width);
            for l in &lines {
                assert!(l.width() <= usize::from(width) + 3, "{width}: {l:?}");
            }
            let all = flat(&lines);
            for b in crate::app::KEYMAP {
                let label = b.label.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(all.contains(&label), "{width}: {:?} lacks {label:?}", b.key);
            }
            for scope in [
                "Fix chooser",
                "Fix dialog",
                "Fix result",
                "The incident contract",
            ] {
                assert!(all.contains(scope), "{width}: no {scope}");
            }
            for (word, _) in crate::ui::nodes::STATUS_LEGEND {
                assert!(all.contains(word), "{width}: no status {word}");
            }
        }
    }
}
