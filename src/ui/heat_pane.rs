//! The heatmap pane around the map itself: the title with the mode and its legend, the map
//! ([`super::heatmap`] paints it), and the cursor status line below it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::{App, Pane};
use crate::cluster::{ClusterModel, SlotState};

use super::heatmap::{self, HeatGrid, HeatMode};
use super::text::{human_count, truncate_end, truncate_middle};
use super::theme::Theme;

/// From this pane height on, the legend gets its own row under the map (the map keeps at
/// least five rows); below it the legend goes to the title when it fits, and is always in
/// the `?` overlay.
pub const LEGEND_ROW_MIN_HEIGHT: u16 = 8;

fn has_legend_row(pane: Rect) -> bool {
    pane.height >= LEGEND_ROW_MIN_HEIGHT
}

/// The map rectangle inside the heatmap pane (below the title, above the legend row when
/// there is one, and the cursor line).
#[must_use]
pub fn heat_map_rect(pane: Rect) -> Rect {
    let below = if has_legend_row(pane) { 3 } else { 2 };
    Rect {
        y: pane.y + 1,
        height: pane.height.saturating_sub(below),
        ..pane
    }
}

/// The five slot states as the heatmap draws them, each with its word: `▀`/`.` served, then
/// the glyph of every other state on its colour (glyphs only in mono). Shared by the legend
/// row and the `?` overlay.
#[must_use]
pub fn state_legend(t: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
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
        let swatch = if t.is_mono() || s != SlotState::Served {
            Span::styled(
                heatmap::state_glyph(s).to_string(),
                heatmap::glyph_cell_style(t.heat_state(s), t),
            )
        } else {
            Span::styled("▀", Style::new().fg(t.heat_state(s)))
        };
        spans.push(swatch);
        spans.push(Span::styled(format!(" {word}  "), t.text_dim));
    }
    spans
}

fn legend(app: &App, model: &ClusterModel) -> Line<'static> {
    let t = &Theme::of(app);
    let mono = t.is_mono();
    let mut spans = Vec::new();
    match app.heat_mode {
        HeatMode::Health => spans = state_legend(t),
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
        HeatMode::Keys | HeatMode::Cpu | HeatMode::Net => {
            let (low, high) = match heatmap::per_slot(model, app.heat_mode) {
                None => ("few ".to_owned(), " many (est.) ".to_owned()),
                Some(Err(why)) => {
                    spans.push(Span::styled(format!("unavailable: {why}"), t.text_dim));
                    return Line::from(spans);
                }
                Some(Ok(table)) => (
                    "0 ".to_owned(),
                    format!(" {} (per slot)", scale_word(app.heat_mode, table.max)),
                ),
            };
            spans.push(Span::styled(low, t.text_dim));
            for l in 1..=4u8 {
                let g = heatmap::SHADES[usize::from(l)].to_string();
                if mono {
                    spans.push(Span::raw(g));
                } else {
                    spans.push(Span::styled("█", Style::new().fg(t.heat_keys(l))));
                }
            }
            spans.push(Span::styled(high, t.text_dim));
        }
    }
    Line::from(spans)
}

/// The top of a level mode's scale: `1200 keys`, `3.4 ms cpu`, `18 KiB net`.
fn scale_word(mode: HeatMode, max: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a scale label: three digits are plenty
    let f = max as f64;
    match mode {
        HeatMode::Cpu if max >= 1_000_000 => format!("{:.1} s cpu", f / 1e6),
        HeatMode::Cpu if max >= 1_000 => format!("{:.1} ms cpu", f / 1e3),
        HeatMode::Cpu => format!("{max} µs cpu"),
        HeatMode::Net if max >= 1 << 20 => format!("{:.1} MiB net", f / f64::from(1u32 << 20)),
        HeatMode::Net if max >= 1 << 10 => format!("{:.1} KiB net", f / 1024.0),
        HeatMode::Net => format!("{max} B net"),
        _ => format!("{max} keys"),
    }
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
    if has_legend_row(area) {
        super::render_title(buf, area, app, Pane::Heatmap, &extra, &Line::default());
        let y = area.bottom() - 2;
        let mut row = vec![Span::styled(" ", t.text_dim)];
        row.extend(lg.spans);
        buf.set_line(area.x, y, &Line::from(row), area.width);
    } else {
        super::render_title(buf, area, app, Pane::Heatmap, &extra, &lg);
    }
    let px = heatmap::pixels(model, &grid, app.heat_mode, t);
    let cursor = grid.bucket_of(app.heat_cursor);
    heatmap::paint(buf, &grid, &px, cursor, t);
    if area.height >= 3 {
        let y = area.bottom() - 1;
        // Never cut in the middle of a value and run into the pane beside it: the long form,
        // else the short one, else the short one ended with `…`.
        let room = usize::from(area.width);
        let mut line = cursor_line(app, model, &grid, false);
        if line.width() > room {
            line = fit_line(cursor_line(app, model, &grid, true), room);
        }
        buf.set_line(area.x, y, &line, area.width);
    }
}

/// `line` cut to `width` columns, its last visible cell replaced by `…` when anything was cut.
fn fit_line(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width || width == 0 {
        return line;
    }
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    for sp in line.spans {
        let w = sp.width();
        if used + w < width {
            used += w;
            out.push(sp);
            continue;
        }
        // Appending `…` first makes sure the cut shows even when this span fits exactly.
        let cut = truncate_end(&format!("{}…", sp.content), width - used);
        out.push(Span::styled(cut, sp.style));
        break;
    }
    Line::from(out)
}

fn cursor_line(app: &App, model: &ClusterModel, grid: &HeatGrid, short: bool) -> Line<'static> {
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
            let label = model.nodes.get(*o as usize).map_or_else(
                || "?".to_owned(),
                |n| {
                    if short { n.addr.to_string() } else { n.label() }
                },
            );
            spans.push(Span::raw(truncate_middle(&label, 40)));
        }
        many => spans.push(Span::raw(format!("{} masters", many.len()))),
    }
    spans.push(Span::styled(" · ", t.text_dim));
    let sstyle = Style::new()
        .fg(t.heat_state(worst))
        .add_modifier(Modifier::BOLD);
    // The glyph the map and the legend draw for this state (`▀` for served in colour).
    let glyph = if worst == SlotState::Served && !t.is_mono() {
        '▀'
    } else {
        heatmap::state_glyph(worst)
    };
    let state = if short {
        glyph.to_string()
    } else {
        format!("{glyph} {}", worst.label())
    };
    spans.push(Span::styled(state, sstyle));
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
