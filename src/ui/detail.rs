//! Node drill-in: the node itself, what peers say of it, and its own view of the cluster
//! compared with the consensus.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::app::App;
use crate::cluster::{
    ClusterModel, NodeLine, NodeSummary, Reachability, format_ranges, ranges_len,
};

use super::text::truncate_end;

fn ids(model: &ClusterModel, v: &[crate::cluster::NodeId]) -> String {
    v.iter()
        .map(|id| {
            model
                .node(id)
                .map_or_else(|| id.short().to_owned(), |n| n.addr.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lines describing one node and its view (pure, so tests can read them).
#[must_use]
pub fn detail_lines(app: &App, idx: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = Vec::new();
    let Some(p) = &app.shown else { return out };
    let model = &p.model;
    let Some(n) = model.nodes.get(idx) else {
        out.push(Line::raw("node no longer in the model"));
        return out;
    };
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:>14} "), t.text_dim),
            Span::raw(v),
        ])
    };
    out.push(kv("node", n.label()));
    out.push(kv(
        "id",
        n.id.as_ref()
            .map_or_else(|| "unknown".to_owned(), |i| i.0.clone()),
    ));
    out.push(kv("role", format!("{:?}", n.role).to_lowercase()));
    out.push(kv(
        "reachability",
        match &n.reachability {
            Reachability::Ok => "answers our probes".to_owned(),
            Reachability::Failed(e) => format!("FAILED: {e}"),
            Reachability::NotProbed => "not probed (no usable address)".to_owned(),
        },
    ));
    out.push(kv(
        "cluster_state",
        match n.cluster_state_ok {
            Some(true) => "ok (its own view)".to_owned(),
            Some(false) => "fail (its own view)".to_owned(),
            None => "unknown".to_owned(),
        },
    ));
    out.push(kv(
        "slots",
        format!(
            "{} {}",
            ranges_len(&n.claimed_slots),
            truncate_end(&format_ranges(&n.claimed_slots), 80)
        ),
    ));
    out.push(kv("config epoch", n.config_epoch.to_string()));
    let pe = &n.peers;
    out.push(kv(
        "peers",
        format!(
            "known by {}, unknown to {}{}",
            pe.known_by.len(),
            pe.unknown_to.len(),
            if pe.unknown_to.is_empty() {
                String::new()
            } else {
                format!(" ({})", ids(model, &pe.unknown_to))
            }
        ),
    ));
    if !pe.pfail_by.is_empty() {
        out.push(kv("PFAIL by", ids(model, &pe.pfail_by)));
    }
    if !pe.fail_by.is_empty() {
        out.push(kv("FAIL by", ids(model, &pe.fail_by)));
    }
    if n.isolated {
        out.push(kv(
            "membership",
            "not joined: its table holds only itself (needs CLUSTER MEET)".to_owned(),
        ));
    }
    out.push(Line::raw(""));
    // Disagreements of this node's view with the consensus.
    let mine: Vec<_> = model
        .disagreements
        .iter()
        .filter(|d| Some(&d.node) == n.id.as_ref())
        .collect();
    if mine.is_empty() {
        out.push(Line::styled(
            "Its view of slot ownership agrees with the consensus.",
            t.verdict_ok,
        ));
    } else {
        out.push(Line::styled(
            "Where its view differs from the consensus:",
            t.severity_warning,
        ));
        for d in mine {
            let name = |id: &Option<crate::cluster::NodeId>| {
                id.as_ref().map_or_else(
                    || "nobody".to_owned(),
                    |i| ids(model, std::slice::from_ref(i)),
                )
            };
            out.push(Line::raw(format!(
                "  slots {} : it says {} (epoch {}), consensus {} (epoch {})",
                truncate_end(&format_ranges(&d.slots), 40),
                name(&d.its_owner),
                d.its_owner_epoch
                    .map_or_else(|| "?".to_owned(), |e| e.to_string()),
                name(&d.consensus_owner),
                d.consensus_owner_epoch
                    .map_or_else(|| "?".to_owned(), |e| e.to_string()),
            )));
        }
    }
    // Its own table.
    let table = n
        .observation
        .and_then(|o| p.snapshot.observations.get(o))
        .and_then(|o| o.report())
        .map(|r| &r.nodes);
    match table {
        None => out.push(Line::styled(
            "No own view: the node did not answer.",
            t.text_dim,
        )),
        Some(nodes) => {
            out.push(Line::styled(
                format!(
                    "Its CLUSTER NODES ({} lines), * = differs from consensus:",
                    nodes.lines.len()
                ),
                t.table_header,
            ));
            for l in &nodes.lines {
                out.push(view_line(model, n, l));
            }
            let missing: Vec<&NodeSummary> = model
                .nodes
                .iter()
                .filter(|m| m.id.as_ref().is_some_and(|id| nodes.get(id).is_none()))
                .collect();
            for m in missing {
                out.push(Line::styled(
                    format!("* {} unknown to this node", m.label()),
                    t.severity_warning,
                ));
            }
        }
    }
    out
}

fn view_line(model: &ClusterModel, me: &NodeSummary, l: &NodeLine) -> Line<'static> {
    let f = l.flags;
    let mut flags = Vec::new();
    for (on, s) in [
        (f.myself, "myself"),
        (f.master, "master"),
        (f.replica, "slave"),
        (f.pfail, "fail?"),
        (f.fail, "fail"),
        (f.handshake, "handshake"),
        (f.noaddr, "noaddr"),
    ] {
        if on {
            flags.push(s);
        }
    }
    let consensus = model.node(&l.id);
    let cons_slots = consensus.map(|c| ranges_len(&c.claimed_slots));
    let differs = match consensus {
        None => true,
        Some(c) => {
            cons_slots != Some(l.slot_count())
                || (f.fail && !c.is_failing())
                || (!l.flags.myself && c.role == crate::cluster::Role::Master && f.replica)
        }
    };
    let _ = me;
    let mark = if differs { "*" } else { " " };
    let markers = if l.markers.is_empty() {
        String::new()
    } else {
        format!(" markers {}", l.markers.len())
    };
    Line::raw(format!(
        "{mark} {} {:<21} {:<22} epoch {:<3} slots {}{}",
        l.id.short(),
        l.addr.to_string(),
        flags.join(","),
        l.config_epoch,
        truncate_end(&format_ranges(&l.slots), 30),
        markers
    ))
}

/// Draw the node detail overlay.
pub fn render_detail(buf: &mut Buffer, area: Rect, app: &App, idx: usize) {
    let t = &app.theme;
    Clear.render(area, buf);
    let block = Block::bordered()
        .title(" node detail — its own view vs the consensus — Esc closes ")
        .border_style(t.dialog_border);
    let inner = block.inner(area);
    block.render(area, buf);
    let lines = detail_lines(app, idx);
    let max_scroll = lines.len().saturating_sub(usize::from(inner.height));
    let scroll = u16::try_from(app.detail_scroll.min(max_scroll)).unwrap_or(0);
    Paragraph::new(lines).scroll((scroll, 0)).render(inner, buf);
}
