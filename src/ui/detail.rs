//! Node drill-in: the node itself, what peers say of it, and its own view of the cluster
//! compared with the consensus.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::app::App;
use crate::cluster::slots::{format_ranges, ranges_len};
use crate::cluster::{
    ClusterModel, ClusterNodes, MarkerKind, NodeLine, NodeSummary, OpenMarker, Reachability,
};

use super::text::{truncate_end, wrap};
use super::theme::Theme;
use super::vitals;

fn ids<'i>(
    model: &ClusterModel,
    v: impl IntoIterator<Item = &'i crate::cluster::NodeId>,
) -> String {
    v.into_iter()
        .map(|id| {
            model
                .node(id)
                .map_or_else(|| id.short().to_owned(), |n| n.addr.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Width of the key column.
const KEY_W: usize = 14;

/// Lines describing one node and its view at `width` columns (pure, so tests can read them).
/// Long values wrap under their key instead of being cut.
#[must_use]
pub fn detail_lines(app: &App, idx: usize, width: u16) -> Vec<Line<'static>> {
    let t = &Theme::of(app);
    let Some(p) = &app.shown else {
        return Vec::new();
    };
    let model = &p.model;
    let Some(n) = model.nodes.get(idx) else {
        return vec![Line::raw("node no longer in the model")];
    };
    let table = n
        .observation
        .and_then(|o| p.snapshot.observations.get(o))
        .and_then(|o| o.report())
        .map(|r| &r.nodes);
    let connected = super::nodes::connected(app, n).map(|to| connected_words(app, n, &to));
    let mut out = node_facts(t, model, n, table, width, connected);
    if let Some(h) = app.role_changes.of(n) {
        let role = format!("{:?}", h.now).to_lowercase();
        let ago = super::text::human_age_ms(app.now_ms.saturating_sub(h.last_at_ms));
        let line = format!(
            "{} since slotscope started (the last {ago} ago, to {role})",
            if h.count == 1 {
                "1 flip".to_owned()
            } else {
                format!("{} flips", h.count)
            }
        );
        let at = out
            .iter()
            .position(|l| l.to_string().trim_start().starts_with("role "))
            .map_or(out.len(), |i| i + 1);
        out.insert(
            at,
            Line::from(vec![
                Span::styled(format!("{:>KEY_W$} ", "role changes"), t.text_dim),
                Span::styled(line, t.severity_warning),
            ]),
        );
    }
    out.push(Line::raw(""));
    out.extend(disagreement_lines(t, model, n));
    out.extend(own_table_lines(t, model, table, width));
    out
}

/// The node's facts, one `key value` row each: who it is, whether it answers, its slots and
/// markers, what its peers say of it and whom it flags.
/// The announced address, the hostname slotscope goes by (`--prefer-hostname`) and the
/// address it connects to (`--remap`), with the flags that moved it.
fn connected_words(app: &App, n: &NodeSummary, to: &str) -> String {
    let host = n
        .addr
        .hostname
        .as_deref()
        .filter(|h| app.cli_auth.prefer_hostname && !h.is_empty());
    match host {
        Some(h) if to == format!("{h}:{}", n.addr.port) => {
            format!("{} → {to} (--prefer-hostname)", n.addr)
        }
        Some(h) => format!(
            "{} → {h}:{} → {to} (--prefer-hostname, --remap)",
            n.addr, n.addr.port
        ),
        None => format!("{} → {to} (--remap)", n.addr),
    }
}

fn node_facts(
    t: &Theme,
    model: &ClusterModel,
    n: &NodeSummary,
    table: Option<&ClusterNodes>,
    width: u16,
    connected: Option<String>,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let value_w = usize::from(width).saturating_sub(KEY_W + 1).max(20);
    let kv_style = |out: &mut Vec<Line<'static>>, k: &str, v: String, style: Style| {
        for (i, part) in wrap(&v, value_w).into_iter().enumerate() {
            let key = if i == 0 { k } else { "" };
            out.push(Line::from(vec![
                Span::styled(format!("{key:>KEY_W$} "), t.text_dim),
                Span::styled(part, style),
            ]));
        }
    };
    let kv = |out: &mut Vec<Line<'static>>, k: &str, v: String| kv_style(out, k, v, t.text);
    kv(&mut out, "node", n.label());
    if let Some(words) = connected {
        kv(&mut out, "connected to", words);
    }
    kv(
        &mut out,
        "id",
        n.id.as_ref()
            .map_or_else(|| "unknown".to_owned(), |i| i.0.to_string()),
    );
    kv(&mut out, "role", format!("{:?}", n.role).to_lowercase());
    if let Some(server) = n
        .info
        .as_ref()
        .and_then(crate::cluster::types::ServerInfo::identity)
    {
        kv(&mut out, "server", server);
    }
    let rtt = n
        .rtt_us
        .map(|us| format!(" (PING {}.{} ms)", us / 1000, (us % 1000) / 100))
        .unwrap_or_default();
    kv(
        &mut out,
        "reachability",
        match &n.reachability {
            Reachability::Ok => format!("answers our probes{rtt}"),
            Reachability::Failed(_) => "does NOT answer our probes".to_owned(),
            Reachability::NotProbed => "not probed (no usable address)".to_owned(),
        },
    );
    if let Reachability::Failed(e) = &n.reachability {
        kv_style(&mut out, "probe error", e.to_string(), t.severity_critical);
    }
    kv(
        &mut out,
        "cluster_state",
        match n.cluster_state_ok {
            Some(true) => "ok (its own view)".to_owned(),
            Some(false) => "fail (its own view)".to_owned(),
            None => "unknown".to_owned(),
        },
    );
    vitals_rows(t, model, n, &mut |k, v, style| {
        kv_style(&mut out, k, v, style);
    });
    kv(
        &mut out,
        "slots",
        if n.claimed_slots.is_empty() {
            "none".to_owned()
        } else {
            format!(
                "{} {}",
                ranges_len(&n.claimed_slots),
                truncate_end(&format_ranges(&n.claimed_slots), 3 * value_w)
            )
        },
    );
    kv(&mut out, "config epoch", n.config_epoch.to_string());
    let markers = n
        .own_line
        .as_ref()
        .map_or(&[][..], |l| l.markers.as_slice());
    if !markers.is_empty() {
        for (i, m) in markers.iter().enumerate() {
            let key = if i == 0 { "open slots" } else { "" };
            kv_style(&mut out, key, marker_text(model, n, m), t.severity_warning);
        }
    }
    let pe = &n.peers;
    kv(
        &mut out,
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
    );
    if !pe.pfail_by.is_empty() {
        kv_style(
            &mut out,
            "PFAIL by",
            ids(model, &pe.pfail_by),
            t.severity_warning,
        );
    }
    if !pe.fail_by.is_empty() {
        kv_style(
            &mut out,
            "FAIL by",
            ids(model, &pe.fail_by),
            t.severity_critical,
        );
    }
    if n.isolated {
        kv(
            &mut out,
            "membership",
            "not joined: its table holds only itself (needs CLUSTER MEET)".to_owned(),
        );
    }
    if let Some(nodes) = table {
        let flagged = flags_of_others(nodes);
        if flagged.is_empty() {
            kv(
                &mut out,
                "it flags",
                "nobody: every peer is fine in its view".to_owned(),
            );
        } else {
            for (i, (what, who)) in flagged.into_iter().enumerate() {
                let key = if i == 0 { "it flags" } else { "" };
                kv_style(&mut out, key, format!("{what}: {who}"), t.severity_warning);
            }
        }
    }
    out
}

/// Memory, load, clients and replication from the node's INFO, one row each.
fn vitals_rows(
    t: &Theme,
    model: &ClusterModel,
    n: &NodeSummary,
    row: &mut dyn FnMut(&str, String, Style),
) {
    let Some(info) = n.info.as_ref() else {
        row("vitals", "no INFO from this node".to_owned(), t.text_dim);
        return;
    };
    if let Some(m) = vitals::memory_long(info) {
        row("memory", m, t.text);
    }
    let load = [
        info.ops_per_sec.map(|o| format!("{o} ops/sec")),
        info.connected_clients
            .map(|c| format!("{c} {}", if c == 1 { "client" } else { "clients" })),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    if !load.is_empty() {
        row("load", load.join(", "), t.text);
    }
    if let Some(r) = vitals::replication(model, n) {
        let style = if r.link_down {
            t.severity_warning
        } else {
            t.text
        };
        let master = n
            .master_id
            .as_ref()
            .and_then(|m| model.node(m))
            .map_or_else(|| "?".to_owned(), |m| m.addr.to_string());
        row("replication", vitals::replication_long(&r, &master), style);
    } else {
        let reps = vitals::replicas_of_master(info);
        if reps.is_empty() {
            row("replicas", "none connected".to_owned(), t.text);
        }
        for (i, r) in reps.into_iter().enumerate() {
            row(if i == 0 { "replicas" } else { "" }, r, t.text);
        }
    }
}

/// Where the node's view of slot ownership differs from the consensus.
fn disagreement_lines(t: &Theme, model: &ClusterModel, n: &NodeSummary) -> Vec<Line<'static>> {
    let mut out = Vec::new();
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
    out
}

/// The node's own `CLUSTER NODES` table, each line marked where it differs from the consensus.
fn own_table_lines(
    t: &Theme,
    model: &ClusterModel,
    table: Option<&ClusterNodes>,
    width: u16,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match table {
        None => out.push(Line::styled(
            "No own view: the node did not answer.",
            t.text_dim,
        )),
        Some(nodes) => {
            out.push(Line::styled(
                format!(
                    "Its CLUSTER NODES ({} lines; * differs from the consensus):",
                    nodes.len()
                ),
                t.table_header,
            ));
            for l in nodes.lines() {
                out.push(view_line(model, l, usize::from(width)));
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

/// One open-slot marker of the node, as `CLUSTER NODES` prints it, with the peer's address
/// and the keys the node holds in that slot (when counted).
fn marker_text(model: &ClusterModel, n: &NodeSummary, m: &OpenMarker) -> String {
    let peer = ids(model, std::slice::from_ref(&m.peer));
    let keys =
        n.id.as_ref()
            .and_then(|id| {
                model
                    .open_slots
                    .iter()
                    .find(|o| o.slot == m.slot)
                    .and_then(|o| o.keys.get(id))
            })
            .map(|k| format!(", {k} keys here"))
            .unwrap_or_default();
    match m.kind {
        MarkerKind::Migrating => format!(
            "[{}->-{}] migrating slot {} to {peer}{keys}",
            m.slot,
            m.peer.short(),
            m.slot
        ),
        MarkerKind::Importing => format!(
            "[{}-<-{}] importing slot {} from {peer}{keys}",
            m.slot,
            m.peer.short(),
            m.slot
        ),
    }
}

/// What a node's own table says of the others: `(flag, addresses)` for `fail?`, `fail`,
/// `handshake`, `noaddr` and links it reports down, in that order.
fn flags_of_others(nodes: &ClusterNodes) -> Vec<(&'static str, String)> {
    let others: Vec<&NodeLine> = nodes.lines().filter(|l| !l.flags.myself).collect();
    let list = |pick: &dyn Fn(&NodeLine) -> bool| -> String {
        others
            .iter()
            .filter(|l| pick(l))
            .map(|l| l.addr.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    for (what, s) in [
        ("fail? (PFAIL)", list(&|l| l.flags.pfail)),
        ("fail (FAIL)", list(&|l| l.flags.fail)),
        ("handshake", list(&|l| l.flags.handshake)),
        ("noaddr", list(&|l| l.flags.noaddr)),
        (
            "link down",
            list(&|l| !l.link_connected && !l.flags.fail && !l.flags.pfail),
        ),
    ] {
        if !s.is_empty() {
            out.push((what, s));
        }
    }
    out
}

/// One line of the node's own `CLUSTER NODES`, `*` when it differs from the consensus; cut
/// to `width` with `…` (the slot ranges come last, the markers before them).
fn view_line(model: &ClusterModel, l: &NodeLine, width: usize) -> Line<'static> {
    let f = l.flags;
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
    let mark = if differs { "*" } else { " " };
    let markers: String = l
        .markers
        .iter()
        .map(|m| match m.kind {
            MarkerKind::Migrating => format!("[{}->-{}] ", m.slot, m.peer.short()),
            MarkerKind::Importing => format!("[{}-<-{}] ", m.slot, m.peer.short()),
        })
        .collect();
    let slots = if l.slots.is_empty() {
        "-".to_owned()
    } else {
        format_ranges(&l.slots)
    };
    let text = format!(
        "{mark} {} {:<21} {:<18} ep {:<3} {markers}{slots}",
        l.id.short(),
        l.addr.to_string(),
        f.names().join(","),
        l.config_epoch,
    );
    Line::raw(truncate_end(&text, width))
}

/// Draw the node detail overlay.
pub fn render_detail(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    Clear.render(area, buf);
    let inner = Block::bordered().inner(area);
    let lines = app.detail_node().map_or_else(
        || vec![Line::raw("node no longer in the model")],
        |idx| detail_lines(app, idx, inner.width),
    );
    let max_scroll = lines.len().saturating_sub(usize::from(inner.height));
    app.viewport.record_detail_max_scroll(max_scroll);
    let scroll = app.detail_scroll.min(max_scroll);
    let mut block = Block::bordered()
        .title(" node detail — its own view vs the consensus — Esc closes ")
        .border_style(t.dialog_border);
    if scroll > 0 {
        block = block
            .title_bottom(Line::styled(format!(" ↑ {scroll} more above "), t.badge).left_aligned());
    }
    let below = max_scroll - scroll;
    if below > 0 {
        block = block.title_bottom(
            Line::styled(format!(" ↓ {below} more below: j / ↓ / PgDn "), t.badge).right_aligned(),
        );
    }
    block.render(area, buf);
    Paragraph::new(lines)
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
        .render(inner, buf);
}
