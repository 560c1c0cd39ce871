//! Migration view: first the reshards in progress, one line per source → target pair (slots
//! and keys moved so far, slots/s, keys/s, the slot open now, an ETA when the markers say how
//! many slots remain); then every open slot, source → target, markers on each side, keys on
//! each side, and while keys move between refreshes the rate and an ETA.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table, Widget};

use crate::app::{App, Pane, migration_ends};
use crate::cluster::progress::Flow;
use crate::cluster::slots::{format_ranges, slots_to_ranges};
use crate::cluster::{ClusterModel, NodeId};

use super::text::{human_age_ms, human_count, truncate_end, truncate_middle, wrap};
use super::theme::Theme;

fn addr(model: &ClusterModel, id: Option<&NodeId>, w: usize) -> String {
    match id {
        None => "?".to_owned(),
        Some(id) => model.node(id).map_or_else(
            || id.short().to_owned(),
            |n| truncate_middle(&n.addr.to_string(), w),
        ),
    }
}

/// Draw the migrations pane.
pub fn render_migrations(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let Some(model) = app.model() else {
        super::render_title(buf, area, app, Pane::Migrations, "", &Line::default());
        return;
    };
    let flows = &model.progress.flows;
    let moving = flows.iter().filter(|f| f.active).count();
    let title = if moving > 0 {
        format!(
            "{} open, {moving} {} in progress",
            model.open_slots.len(),
            if moving == 1 { "reshard" } else { "reshards" }
        )
    } else {
        format!("{} open", model.open_slots.len())
    };
    let title = format!("{title}{}", super::atomic_jobs::title_suffix(model));
    super::render_title(buf, area, app, Pane::Migrations, &title, &Line::default());
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    if body.height == 0 {
        return;
    }
    let mut shown = render_flows(buf, body, app, model, t);
    shown += super::atomic_jobs::render_below(buf, body, shown, model, t);
    let body = Rect {
        y: body.y + shown,
        height: body.height - shown,
        ..body
    };
    if body.height == 0 || (model.open_slots.is_empty() && shown > 0) {
        return;
    }
    if model.open_slots.is_empty() {
        buf.set_string(
            body.x + 1,
            body.y,
            "no open slots (no migrating / importing markers)",
            t.text_dim,
        );
        return;
    }
    // slot 5, arrow 1, markers 5, keys 9, rate 7, eta 5, 8 gaps; addresses share the rest.
    let aw: u16 = (body.width.saturating_sub(40) / 2).clamp(9, 21);
    let rows_h = usize::from(body.height.saturating_sub(1));
    let offset = super::scroll_offset(app.migration_cursor, rows_h, model.open_slots.len());
    let n = model.open_slots.len();
    super::record_rows(app, Pane::Migrations, super::below_header(body), offset, n);
    let rows: Vec<Row<'_>> = model
        .open_slots
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_h)
        .map(|(i, o)| {
            // Only replicas marked (no side of the move): the replica and its marker's peer.
            let (src, tgt) = match migration_ends(o) {
                (None, None) => {
                    let rep = o.on_replicas.first();
                    let peer = rep
                        .and_then(|r| model.node(r))
                        .and_then(|n| n.own_line.as_ref())
                        .and_then(|l| l.markers.iter().find(|m| m.slot == o.slot))
                        .map(|m| &m.peer);
                    (rep, peer)
                }
                ends => ends,
            };
            let mig = src.is_some_and(|s| o.migrating.iter().any(|(n, _)| n == s));
            let imp = tgt.is_some_and(|s| o.importing.iter().any(|(n, _)| n == s));
            let mark = |b: bool, l: &str| {
                if b {
                    format!("{l}✓")
                } else {
                    format!("{l}✗")
                }
            };
            let ks = src.and_then(|s| o.keys.get(s)).copied();
            let kt = tgt.and_then(|s| o.keys.get(s)).copied();
            let k = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), human_count);
            let (rate, eta) = match app.migrations.get(&o.slot).and_then(|p| p.rate_per_s) {
                Some(r) if r > 0.0 => {
                    // `as` saturates: an estimate beyond `u64` shows as the longest age.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let eta_ms = (ks.unwrap_or(0) as f64 / r * 1000.0) as u64;
                    (format!("{r:.0}/s"), human_age_ms(eta_ms))
                }
                Some(_) => ("stalled".to_owned(), "-".to_owned()),
                None => ("-".to_owned(), "-".to_owned()),
            };
            let mut notes = Vec::new();
            let moving = model.progress.is_moving(o.slot);
            if moving {
                notes.push("moving (reshard)");
            }
            if !mig || !imp {
                notes.push("one side only");
            }
            if !o.on_replicas.is_empty() {
                notes.push("marker on replica");
            }
            let cells = vec![
                Cell::from(o.slot.to_string()),
                Cell::from(addr(model, src, usize::from(aw))),
                Cell::from("→"),
                Cell::from(addr(model, tgt, usize::from(aw))),
                Cell::from(format!("{} {}", mark(mig, "M"), mark(imp, "I"))),
                Cell::from(format!("{}/{}", k(ks), k(kt))),
                Cell::from(rate),
                Cell::from(eta),
                Cell::from(notes.join(", ")),
            ];
            let style = if moving {
                t.severity_info
            } else if !mig || !imp {
                t.severity_warning
            } else {
                t.text
            };
            Row::new(cells).style(style.patch(super::row_style(
                app,
                Pane::Migrations,
                i == app.migration_cursor,
            )))
        })
        .collect();
    let header = Row::new([
        "slot", "source", "", "target", "marks", "keys s/t", "rate", "eta", "note",
    ])
    .style(t.table_header);
    let widths = [
        Constraint::Length(5),
        Constraint::Length(aw),
        Constraint::Length(1),
        Constraint::Length(aw),
        Constraint::Length(5),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .render(body, buf);
}

/// The flows first (at most half the pane when slots are open too); returns the rows used.
/// A flow that does not fit one row wraps (rate and ETA are never cut off).
fn render_flows(buf: &mut Buffer, body: Rect, app: &App, model: &ClusterModel, t: &Theme) -> u16 {
    let flows = &model.progress.flows;
    let room = if model.open_slots.is_empty() {
        body.height
    } else {
        (body.height / 2).max(1)
    };
    let width = usize::from(body.width.saturating_sub(1));
    let mut row = 0u16;
    for flow in flows {
        let style = if flow.active {
            t.severity_info
        } else {
            t.text_dim
        };
        for (k, line) in flow_lines(model, flow, app.now_ms, width)
            .into_iter()
            .enumerate()
        {
            if row >= room {
                return row;
            }
            let line = if k == 0 { line } else { format!("  {line}") };
            buf.set_string(body.x + 1, body.y + row, truncate_end(&line, width), style);
            row += 1;
        }
    }
    row
}

/// [`flow_line`] wrapped to `width` columns: the pair and its counts on the first row, the
/// rest on rows indented by two.
fn flow_lines(model: &ClusterModel, flow: &Flow, now_ms: u64, width: usize) -> Vec<String> {
    let line = flow_line(model, flow, now_ms);
    if unicode_width::UnicodeWidthStr::width(line.as_str()) <= width {
        return vec![line];
    }
    let mut lines = wrap(&line, width);
    if lines.len() > 1 {
        let rest = lines.split_off(1).join(" ");
        lines.extend(wrap(&rest, width.saturating_sub(2)));
    }
    lines
}

/// `⇄ 127.0.0.1:7000 → 127.0.0.1:7001  210 slots moved, 200 slots/s, 3.6k keys/s, now 12049,
/// eta ?`; a flow that stopped says `stalled` (a slot is left open) or `done`.
fn flow_line(model: &ClusterModel, flow: &Flow, now_ms: u64) -> String {
    let src = addr(model, Some(&flow.source), 21);
    let dst = addr(model, Some(&flow.target), 21);
    let moved = format!(
        "{} slots, {} keys moved",
        human_count(flow.slots_moved),
        human_count(flow.keys_moved)
    );
    let open = if flow.open.is_empty() {
        "-".to_owned()
    } else {
        format_ranges(&slots_to_ranges(flow.open.iter().copied()))
    };
    if flow.active {
        let eta = flow.eta_s().map_or_else(
            || "?".to_owned(),
            |s| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let ms = (s * 1000.0) as u64;
                human_age_ms(ms)
            },
        );
        format!(
            "⇄ {src} → {dst}  {moved}, {:.0} slots/s, {} keys/s, open now {open}, eta {eta}",
            flow.slots_per_s(),
            human_rate(flow.keys_per_s()),
        )
    } else {
        let still = human_age_ms(now_ms.saturating_sub(flow.last_active_ms));
        let how = if flow.open.is_empty() {
            "done".to_owned()
        } else {
            format!("stalled, slot {open} left open")
        };
        format!("⇄ {src} → {dst}  {moved}; {how} ({still} ago)")
    }
}

/// A rate as a whole count (`3.6k`).
fn human_rate(r: f64) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    human_count(r.max(0.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testkit::{ModelBuilder, id};

    #[test]
    fn a_flow_reads_as_progress() {
        let m = ModelBuilder::healthy(3, 1).build();
        let mut f = Flow {
            source: id(0u16),
            target: id(1u16),
            started_at_ms: 1_000,
            last_active_ms: 11_000,
            active: true,
            slots_moved: 2000,
            keys_moved: 36_000,
            open: vec![12049],
            moved_now: Vec::new(),
            moved_before: Vec::new(),
        };
        assert_eq!(
            flow_line(&m, &f, 11_000),
            "⇄ 127.0.0.1:7000 → 127.0.0.1:7001  2000 slots, 36.0k keys moved, 200 slots/s, \
             3600 keys/s, open now 12049, eta ?"
        );
        f.open = vec![12049, 12050];
        assert!(flow_line(&m, &f, 11_000).ends_with("open now 12049-12050, eta 10ms"));
        f.active = false;
        f.open.clear();
        assert!(flow_line(&m, &f, 16_000).ends_with("moved; done (5s ago)"));
    }

    #[test]
    fn a_flow_wraps_instead_of_losing_its_rate_and_eta() {
        let m = ModelBuilder::healthy(3, 1).build();
        let f = Flow {
            source: id(0u16),
            target: id(1u16),
            started_at_ms: 1_000,
            last_active_ms: 11_000,
            active: true,
            slots_moved: 2000,
            keys_moved: 36_000,
            open: vec![12049],
            moved_now: Vec::new(),
            moved_before: Vec::new(),
        };
        // The migration pane beside the timeline at 120x40 is 72 columns wide.
        let lines = flow_lines(&m, &f, 11_000, 71);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 71), "{lines:?}");
        let joined = lines.join(" ");
        for part in ["200 slots/s", "3600 keys/s", "open now 12049", "eta ?"] {
            assert!(joined.contains(part), "{part} missing in {lines:?}");
        }
        assert_eq!(flow_lines(&m, &f, 11_000, 200).len(), 1);
    }
}
