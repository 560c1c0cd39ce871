//! Migration view: every open slot, source → target, markers on each side, keys on each side,
//! and while keys move between refreshes the rate and an ETA.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table, Widget};

use crate::app::{App, Pane, migration_ends};
use crate::cluster::{ClusterModel, NodeId};

use super::text::{human_age_ms, human_count, truncate_middle};
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
    super::render_title(
        buf,
        area,
        app,
        Pane::Migrations,
        &format!("{} open", model.open_slots.len()),
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
            let style = if !mig || !imp {
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
