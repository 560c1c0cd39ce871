//! The heatmap pane around the map itself: the title with the mode and its legend, the map
//! ([`super::heatmap`] paints it), and the cursor status line below it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::{App, Pane};
use crate::cluster::{ClusterModel, SlotState};

use super::heatmap::{self, HeatGrid, HeatMode};
use super::text::{human_count, truncate_middle};
use super::theme::Theme;

/// The map rectangle inside the heatmap pane (below the title, above the cursor line).
#[must_use]
pub fn heat_map_rect(pane: Rect) -> Rect {
    Rect {
        y: pane.y + 1,
        height: pane.height.saturating_sub(2),
        ..pane
    }
}

fn legend(app: &App, model: &ClusterModel) -> Line<'static> {
    let t = &Theme::of(app);
    let mono = t.is_mono();
    let mut spans = Vec::new();
    match app.heat_mode {
        HeatMode::Health => {
            for s in [
                SlotState::Served,
                SlotState::Migrating,
                SlotState::Disputed,
                SlotState::OwnerFailing,
                SlotState::Uncovered,
            ] {
                let word = match s {
                    SlotState::Served => "served",
                    SlotState::Migrating => "moving",
                    SlotState::Disputed => "disputed",
                    SlotState::OwnerFailing => "owner failing",
                    SlotState::Uncovered => "uncovered",
                };
                let sw = if mono {
                    Span::raw(s.letter().to_string())
                } else {
                    Span::styled("█", Style::new().fg(t.heat_state(s)))
                };
                spans.push(sw);
                spans.push(Span::styled(
                    format!("{}{word} ", if mono { "=" } else { "" }),
                    t.text_dim,
                ));
            }
        }
        HeatMode::Owner => {
            let legend = heatmap::owner_legend(model);
            for (k, (i, _)) in legend.iter().enumerate().take(12) {
                let addr = model
                    .nodes
                    .get(*i)
                    .map(|n| n.addr.port.to_string())
                    .unwrap_or_default();
                let st = Style::new()
                    .fg(t.heat_owner(k))
                    .add_modifier(Modifier::BOLD);
                spans.push(Span::styled(heatmap::owner_letter(k).to_string(), st));
                spans.push(Span::styled(format!(":{addr} "), t.text_dim));
            }
            if legend.len() > 12 {
                spans.push(Span::styled(format!("+{} ", legend.len() - 12), t.text_dim));
            }
        }
        HeatMode::Keys => {
            spans.push(Span::styled("few ", t.text_dim));
            for l in 1..=4u8 {
                let g = heatmap::SHADES[usize::from(l)].to_string();
                if mono {
                    spans.push(Span::raw(g));
                } else {
                    spans.push(Span::styled("█", Style::new().fg(t.heat_keys(l))));
                }
            }
            spans.push(Span::styled(" many (est.) ", t.text_dim));
        }
    }
    Line::from(spans)
}

/// The heatmap pane: title with mode and legend, the map, and the cursor status line.
pub fn render_heatmap_pane(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let Some(model) = app.model() else {
        super::render_title(buf, area, app, Pane::Heatmap, "", &Line::default());
        if area.height > 1 {
            buf.set_string(area.x + 1, area.y + 1, "no data yet", t.text_dim);
        }
        return;
    };
    let grid = HeatGrid::new(
        heat_map_rect(area),
        app.heat_start,
        app.heat_len,
        t.is_mono(),
    );
    let end = grid.start + grid.len - 1;
    let extra = format!(
        "{} · {}-{} · {}/px",
        app.heat_mode.label(),
        grid.start,
        end,
        grid.bucket
    );
    let lg = legend(app, model);
    super::render_title(buf, area, app, Pane::Heatmap, &extra, &lg);
    let px = heatmap::pixels(model, &grid, app.heat_mode, t);
    let cursor = grid.bucket_of(app.heat_cursor);
    heatmap::paint(buf, &grid, &px, cursor, t);
    if area.height >= 3 {
        let y = area.bottom() - 1;
        let line = cursor_line(app, model, &grid);
        buf.set_line(area.x, y, &line, area.width);
    }
}

fn cursor_line(app: &App, model: &ClusterModel, grid: &HeatGrid) -> Line<'static> {
    let t = &Theme::of(app);
    let b = grid.bucket_of(app.heat_cursor).unwrap_or(0);
    let (first, last) = grid.bucket_range(b);
    let entries = model.slots.get(first..=last).unwrap_or(&[]);
    let worst = entries
        .iter()
        .map(|e| e.state)
        .max()
        .unwrap_or(SlotState::Uncovered);
    let mut spans = vec![Span::styled(" ▸ ", t.hint_key)];
    let range = if first == last {
        format!("slot {first}")
    } else {
        format!("slots {first}-{last}")
    };
    spans.push(Span::styled(range, t.text.add_modifier(Modifier::BOLD)));
    let mut owners: Vec<u32> = entries.iter().filter_map(|e| e.owner).collect();
    owners.sort_unstable();
    owners.dedup();
    spans.push(Span::styled(" · owner ", t.text_dim));
    match owners.as_slice() {
        [] => spans.push(Span::styled("none", t.severity_critical)),
        [o] => {
            let label = model
                .nodes
                .get(*o as usize)
                .map_or_else(|| "?".to_owned(), crate::cluster::NodeSummary::label);
            spans.push(Span::raw(truncate_middle(&label, 40)));
        }
        many => spans.push(Span::raw(format!("{} masters", many.len()))),
    }
    spans.push(Span::styled(" · ", t.text_dim));
    let sstyle = if worst == SlotState::Served {
        t.verdict_ok
    } else {
        t.severity_critical
    };
    spans.push(Span::styled(
        format!("{} {}", worst.letter(), worst.label()),
        sstyle,
    ));
    if first != last {
        let bad = entries
            .iter()
            .filter(|e| e.state != SlotState::Served)
            .count();
        if bad > 0 && bad < entries.len() {
            spans.push(Span::styled(
                format!(" ({bad} of {})", entries.len()),
                t.text_dim,
            ));
        }
    }
    let keys = heatmap::slot_key_estimates(model);
    let known: Vec<u64> = keys
        .get(first..=last)
        .unwrap_or(&[])
        .iter()
        .flatten()
        .copied()
        .collect();
    if !known.is_empty() {
        let sum: u64 = known.iter().sum();
        spans.push(Span::styled(" · keys ≈", t.text_dim));
        spans.push(Span::raw(human_count(sum)));
    }
    let open: Vec<String> = model
        .open_slots
        .iter()
        .filter(|o| usize::from(o.slot) >= first && usize::from(o.slot) <= last)
        .map(|o| o.slot.to_string())
        .take(3)
        .collect();
    if !open.is_empty() {
        spans.push(Span::styled(
            format!(" · open {}", open.join(",")),
            t.severity_warning,
        ));
    }
    Line::from(spans)
}
