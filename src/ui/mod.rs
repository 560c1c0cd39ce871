//! Drawing. Every function here reads `&App` and writes into the frame; nothing mutates the
//! app's state. The draw records what the next key needs to know of the screen (heatmap
//! geometry, how far an overlay scrolls) in the app's [`Viewport`](crate::app::Viewport).
//!
//! Compact layout (below 120x40; 80x24 is the minimum):
//! ```text
//! ┌────────────────────────────────────────────────────────────┐
//! │ CLUSTER DOWN: 5461 slots not served, master    [READ-ONLY] │ header: the verdict on
//! │ 127.0.0.1:7002 failed and has no replica                   │ one or two rows, then
//! │ nodes 5 ok / 1 failing · 3 masters 3 replicas · data 1s old│ the counts
//! │── 1 Slots · health ─────────────────────── legend ─────────│
//! │    0 ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ │ heatmap
//! │ slots 4096-4127 · owner 127.0.0.1:7001 · served · keys 31  │ cursor line
//! │─▶ 3 Findings ──────────────────────────────────────────────│ focused pane: ▶, reversed
//! │ !! 5461 slots not served (10923-16383)                     │ sized by its content
//! │── 2 Nodes · grouped ───────────────────────────────────────│ lower pane: nodes, or the
//! │ st  address          role   slots …                        │ focused migrations/timeline
//! │                                                            │ (at least 5 rows)
//! │ ?:help q:quit Tab:pane …                                   │ footer
//! └────────────────────────────────────────────────────────────┘
//! ```
//! Wide layout (120x40 and up): heatmap | findings side by side, nodes full width,
//! migrations | timeline at the bottom. While `cluster-require-full-coverage` is off on any
//! node, a one-row warning banner sits between the header and the panes. Overlays (help, node
//! detail, the fix dialog) are drawn last.

pub mod atomic_jobs;
pub mod detail;
pub mod dialog;
pub mod findings;
pub mod header;
pub mod heat_pane;
pub mod heatmap;
pub mod help;
pub mod migrations;
pub mod nodes;
pub mod output;
#[cfg(test)]
mod remap_tests;
pub mod session;
pub mod text;
pub mod theme;
pub mod timeline;
pub mod vitals;
pub mod waiting;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use crate::app::{App, Mode, Pane};

use theme::Theme;

/// Smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// From this size on, the wide layout is used.
pub const WIDE_SIZE: (u16, u16) = (120, 40);

/// Where each pane is drawn (None = not visible in this layout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    /// Header (verdict and counts).
    pub header: Rect,
    /// Warning banner (full coverage off), when shown.
    pub banner: Option<Rect>,
    /// Heatmap pane, including title and cursor line.
    pub heatmap: Option<Rect>,
    /// Findings pane.
    pub findings: Option<Rect>,
    /// Node table pane.
    pub nodes: Option<Rect>,
    /// Migrations pane.
    pub migrations: Option<Rect>,
    /// Timeline pane.
    pub timeline: Option<Rect>,
    /// Footer line.
    pub footer: Rect,
    /// The body below the header (overlays use it).
    pub body: Rect,
}

/// The fewest rows the lower pane of the compact layout may be squeezed to: what it needs
/// (title, table header, one row per item) up to [`LOWER_MIN_ROWS`].
fn lower_min_rows(app: &App) -> u16 {
    let items = match app.focus {
        Pane::Migrations => app.model().map_or(0, |m| m.open_slots.len()),
        Pane::Timeline => app.visible_timeline().count(),
        _ => app.node_order.len(),
    };
    let want = u16::try_from(items.max(1))
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    want.min(LOWER_MIN_ROWS)
}

/// The node table (or the migrations / timeline pane in its place) never gets fewer rows
/// than this in the compact layout: title, column header and three rows.
pub const LOWER_MIN_ROWS: u16 = 5;

/// The fewest map rows the compact heatmap keeps while an expanded finding needs room.
const HEAT_MIN_ROWS: u16 = 2;

/// Compute the layout for a terminal area. Pure.
///
/// The verdict gets a second header row when it does not fit on one. In the compact layout
/// the findings pane is sized by its content (an expanded finding included): it gets every
/// row it needs before the node table gets rows it would leave blank, down to the table's
/// minimum of [`LOWER_MIN_ROWS`]. While the focused finding is expanded, the heatmap and then
/// the table give up more rows for its details.
#[must_use]
pub fn areas(app: &App, area: Rect) -> Areas {
    let header_h = header::header_height(app, area.width);
    let [header, body, footer] = area.layout(&Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ]));
    let mut a = Areas {
        header,
        footer,
        body,
        ..Areas::default()
    };
    let body = if app.full_coverage_off().is_empty() {
        body
    } else {
        let [banner, rest] = body.layout(&Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
        ]));
        a.banner = Some(banner);
        a.body = rest;
        rest
    };
    if app.fullscreen {
        let r = Some(body);
        match app.focus {
            Pane::Heatmap => a.heatmap = r,
            Pane::Nodes => a.nodes = r,
            Pane::Findings => a.findings = r,
            Pane::Migrations => a.migrations = r,
            Pane::Timeline => a.timeline = r,
        }
        return a;
    }
    if area.width >= WIDE_SIZE.0 && area.height >= WIDE_SIZE.1 {
        let bottom_h = (body.height / 4).clamp(6, 12);
        let fnd_w = body.width - body.width * 62 / 100 - 1;
        let fnd_want = u16::try_from(findings::min_content_rows(app, fnd_w))
            .unwrap_or(u16::MAX)
            .saturating_add(1);
        let top_h = (body.height / 3)
            .clamp(10, 20)
            .max(fnd_want.min(body.height / 2));
        let [top, mid, bottom] = body.layout(&Layout::vertical([
            Constraint::Length(top_h),
            Constraint::Fill(1),
            Constraint::Length(bottom_h),
        ]));
        let [heat, _gap, fnd] = top.layout(&Layout::horizontal([
            Constraint::Percentage(62),
            Constraint::Length(1),
            Constraint::Fill(1),
        ]));
        let [mig, _gap, tl] = bottom.layout(&Layout::horizontal([
            Constraint::Percentage(60),
            Constraint::Length(1),
            Constraint::Fill(1),
        ]));
        a.heatmap = Some(heat);
        a.findings = Some(fnd);
        a.nodes = Some(mid);
        a.migrations = Some(mig);
        a.timeline = Some(tl);
    } else {
        let mut heat_h = ((body.height.saturating_sub(8)) / 3).clamp(3, 12) + 2;
        let mut lower_min = lower_min_rows(app);
        let fnd_want = u16::try_from(findings::content_rows(app, body.width))
            .unwrap_or(u16::MAX)
            .saturating_add(1);
        if app.finding_expanded && app.focus == Pane::Findings {
            // Reading a finding's details: the heatmap (down to 2 rows) and then the node
            // table (down to title, header and one row) make room for them.
            let short = fnd_want
                .saturating_sub(body.height.saturating_sub(heat_h).saturating_sub(lower_min));
            let from_heat = short.min(heat_h.saturating_sub(HEAT_MIN_ROWS + 2));
            heat_h -= from_heat;
            lower_min = lower_min
                .saturating_sub(short - from_heat)
                .max(lower_min.min(3));
        }
        let avail = body.height.saturating_sub(heat_h);
        let fnd_h = fnd_want.min(avail.saturating_sub(lower_min)).max(2);
        let [heat, fnd, lower] = body.layout(&Layout::vertical([
            Constraint::Length(heat_h),
            Constraint::Length(fnd_h),
            Constraint::Fill(1),
        ]));
        a.heatmap = Some(heat);
        a.findings = Some(fnd);
        match app.focus {
            Pane::Migrations => a.migrations = Some(lower),
            Pane::Timeline => a.timeline = Some(lower),
            _ => a.nodes = Some(lower),
        }
    }
    a
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    render(frame.buffer_mut(), area, app);
}

/// The text of the whole screen as [`render`] draws it, one line per row, untrimmed (the
/// screen helper of the tests).
#[cfg(any(test, feature = "testkit"))]
#[must_use]
pub fn screen(app: &App) -> String {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    let mut buf = Buffer::empty(area);
    render(&mut buf, area, app);
    let mut s = String::new();
    for y in 0..area.height {
        for x in 0..area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

/// Draw the whole screen into a buffer (benchmarks and tests call this directly).
pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let a = areas(app, area);
    // Cursor keys move by the heatmap's drawn geometry; while the heatmap is not on screen
    // they assume a map eight rows high across the terminal.
    let heat = a.heatmap.unwrap_or(Rect::new(0, 0, area.width, 8));
    app.viewport.record_heat_map(heat_pane::heat_map_rect(heat));
    app.viewport.start_frame();
    for (pane, r) in [
        (Pane::Heatmap, a.heatmap),
        (Pane::Nodes, a.nodes),
        (Pane::Findings, a.findings),
        (Pane::Migrations, a.migrations),
        (Pane::Timeline, a.timeline),
    ] {
        if let Some(r) = r {
            app.viewport.record_pane(pane, r);
        }
    }
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        render_too_small(buf, area, app);
        return;
    }
    header::render_header(buf, a.header, app);
    if waiting::is_waiting(app) {
        waiting::render_waiting(buf, a.body, app);
        render_footer(buf, a.footer, app);
        if app.mode == Mode::Help {
            help::render_help(buf, a.body, app);
        }
        return;
    }
    if let Some(r) = a.banner {
        render_coverage_banner(buf, r, app);
    }
    if let Some(r) = a.heatmap {
        heat_pane::render_heatmap_pane(buf, r, app);
    }
    if let Some(r) = a.findings {
        findings::render_findings(buf, r, app);
    }
    if let Some(r) = a.nodes {
        nodes::render_nodes(buf, r, app);
    }
    if let Some(r) = a.migrations {
        migrations::render_migrations(buf, r, app);
    }
    if let Some(r) = a.timeline {
        timeline::render_timeline(buf, r, app);
    }
    render_separators(buf, &a, app);
    render_footer(buf, a.footer, app);
    match app.mode {
        Mode::Help => help::render_help(buf, a.body, app),
        Mode::NodeDetail(_) => detail::render_detail(buf, a.body, app),
        Mode::Output => output::render_output(buf, a.body, app),
        Mode::Fix => {
            if let Some(d) = &app.fix {
                dialog::render_fix_dialog(buf, a.body, app, d);
            }
        }
        _ => {}
    }
}

/// A dim vertical rule in the gap between side-by-side panes (wide layout), so the text of
/// one pane never reads as if it ran on into the other.
fn render_separators(buf: &mut Buffer, a: &Areas, app: &App) {
    let t = &Theme::of(app);
    for (left, right) in [(a.heatmap, a.findings), (a.migrations, a.timeline)] {
        let (Some(l), Some(r)) = (left, right) else {
            continue;
        };
        if r.x != l.right() + 1 || r.y != l.y {
            continue;
        }
        for y in l.y + 1..l.bottom().min(r.bottom()) {
            buf.set_string(l.right(), y, "│", t.text_dim);
        }
    }
}

/// The banner that stays on screen while `cluster-require-full-coverage` is off anywhere.
fn render_coverage_banner(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let nodes = app.full_coverage_off();
    let revert = if app.read_only {
        "revert: slotscope fix (not in read-only mode)"
    } else {
        "x offers the revert"
    };
    let room = usize::from(area.width);
    let n = nodes.len();
    let candidates = [
        format!(
            " ⚠ cluster-require-full-coverage is OFF on {n} node(s) ({}) · {revert} ",
            nodes.join(", ")
        ),
        format!(" ⚠ cluster-require-full-coverage is OFF on {n} node(s) · {revert} "),
        format!(" ⚠ full coverage OFF on {n} node(s) · {revert} "),
    ];
    let line = candidates
        .iter()
        .find(|c| unicode_width::UnicodeWidthStr::width(c.as_str()) <= room)
        .cloned()
        .unwrap_or_else(|| text::truncate_end(&candidates[2], room));
    let style = t.badge_alert;
    buf.set_string(area.x, area.y, " ".repeat(room), style);
    buf.set_stringn(area.x, area.y, line, room, style);
}

fn render_too_small(buf: &mut Buffer, area: Rect, app: &App) {
    Clear.render(area, buf);
    let msg = format!(
        "terminal too small: have {}x{}, need {}x{} — q quits",
        area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
    );
    let verdict = app
        .shown
        .as_ref()
        .map(|p| p.verdict.clone())
        .unwrap_or_default();
    let lines = vec![
        Line::styled(msg, Theme::of(app).verdict_warning),
        Line::raw(verdict),
    ];
    Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: true })
        .render(area, buf);
}

/// Draw a pane title line: `── 2 Nodes · extra ─────── right ─`; the focused title reads
/// `─ ▶ 2 Nodes · extra ─` in reversed bold (the rule's DIM removed).
pub fn render_title(
    buf: &mut Buffer,
    area: Rect,
    app: &App,
    pane: Pane,
    extra: &str,
    right: &Line<'_>,
) {
    if area.height == 0 {
        return;
    }
    let t = &Theme::of(app);
    let line = "─".repeat(usize::from(area.width));
    buf.set_string(area.x, area.y, line, t.text_dim);
    let focused = app.focus == pane;
    let style = if focused {
        t.pane_title_focused
    } else {
        t.pane_title
    };
    // The focused title carries a ▶ as well as its style, so focus shows in every colour
    // mode (and in a plain-text capture of the screen).
    let mark = if focused { "▶ " } else { "" };
    let title = if extra.is_empty() {
        format!(" {mark}{} ", pane.title())
    } else {
        format!(" {mark}{} · {extra} ", pane.title())
    };
    let (x, _) = buf.set_stringn(
        area.x + 1,
        area.y,
        &title,
        usize::from(area.width.saturating_sub(2)),
        style,
    );
    let rw = u16::try_from(right.width()).unwrap_or(u16::MAX);
    let right_x = area.right().saturating_sub(rw + 1);
    if rw > 0 && right_x > x + 1 {
        buf.set_line(right_x, area.y, right, rw);
    }
}

fn render_footer(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let line = match app.mode {
        Mode::Filter | Mode::Command => {
            let prefix = if app.mode == Mode::Filter { "/" } else { ":" };
            let mut spans = vec![
                Span::styled(prefix, t.hint_key),
                Span::raw(app.input.clone()),
                Span::styled("█", t.text),
                Span::raw("  "),
            ];
            let used = u16::try_from(app.input.len() + 4).unwrap_or(u16::MAX);
            spans.extend(hint_spans(app, area.width.saturating_sub(used)));
            Line::from(spans)
        }
        _ => match &app.message {
            Some(m) => Line::styled(m.clone(), t.verdict_warning),
            None => Line::from(hint_spans(app, area.width)),
        },
    };
    buf.set_line(area.x, area.y, &line, area.width);
}

fn hint_spans(app: &App, width: u16) -> Vec<Span<'static>> {
    let t = &Theme::of(app);
    let mut spans = Vec::new();
    let mut used = 0usize;
    for (k, word) in app.footer_hints() {
        let w = unicode_width::UnicodeWidthStr::width(k.as_str()) + word.len() + 2;
        if used + w > usize::from(width) {
            break; // whole hints only, never a cut word
        }
        used += w;
        spans.push(Span::styled(k, t.hint_key));
        spans.push(Span::styled(format!(":{word} "), t.text_dim));
    }
    spans
}

/// Style for a row: selection only when the pane has focus (else underline, so it still shows).
#[must_use]
pub fn row_style(app: &App, pane: Pane, selected: bool) -> Style {
    if !selected {
        Style::new()
    } else if app.focus == pane && app.mode == Mode::Normal {
        Theme::of(app).selection
    } else {
        Style::new().add_modifier(ratatui::style::Modifier::UNDERLINED)
    }
}

/// The rows of a table below its one header row.
#[must_use]
pub fn below_header(body: Rect) -> Rect {
    Rect {
        y: body.y.saturating_add(1),
        height: body.height.saturating_sub(1),
        ..body
    }
}

/// Record a list drawn one item per row, from item `offset` on, over `rows` (mouse
/// hit-testing reads it).
pub fn record_rows(app: &App, pane: Pane, rows: Rect, offset: usize, len: usize) {
    app.viewport.record_list(crate::app::viewport::ListRows {
        list: crate::app::viewport::ListId::Pane(pane),
        rows,
        items: (offset..offset + usize::from(rows.height))
            .map(|i| (i < len).then_some(i))
            .collect(),
    });
}

/// First row to show so that `cursor` stays visible in `height` rows.
#[must_use]
pub fn scroll_offset(cursor: usize, height: usize, len: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    cursor.saturating_sub(height - 1).min(len - height)
}
