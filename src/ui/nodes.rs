//! The node table: width-adaptive columns (lowest priority dropped first), middle-truncated
//! addresses, failing rows bold, stale rows dimmed. Only the visible rows are built.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, Widget};

use crate::app::{App, NodeSort, Pane};
use crate::cluster::slots::{format_ranges, ranges_len};
use crate::cluster::{ClusterModel, NodeSummary, ProbeError, Reachability, Role};

use super::text::{human_age_ms, human_count, truncate_end, truncate_middle};
use super::theme::Theme;
use super::vitals;

/// A column of the node table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Health glyph + word.
    Status,
    /// Short node id.
    Id,
    /// Address (middle-truncated).
    Address,
    /// Role (replicas indented under their master).
    Role,
    /// Flags as this node gives them.
    Flags,
    /// Bus link state.
    Link,
    /// Slot count and first ranges.
    Slots,
    /// Keys in db0.
    Keys,
    /// Used memory.
    Memory,
    /// Ops per second.
    Ops,
    /// Connected clients.
    Clients,
    /// Replication offset (masters) or lag (replicas).
    Repl,
    /// Config epoch.
    Epoch,
    /// Master ↔ replica flips seen since the start.
    Flips,
    /// Oldest last-pong age among peers.
    Pong,
    /// Our probe latency.
    Rtt,
    /// Server name and version (`valkey 9.1.2`).
    Server,
    /// Probe error.
    Error,
}

/// `(column, header, width, priority)`; lower priority survives longer. `Error` takes the rest.
const COLUMNS: &[(Column, &str, u16, u8)] = &[
    (Column::Status, "st", 4, 0),
    (Column::Id, "id", 8, 5),
    (Column::Address, "address", 21, 0),
    (Column::Role, "role", 7, 0),
    (Column::Flags, "flags", 12, 6),
    (Column::Link, "link", 4, 8),
    (Column::Slots, "slots", 18, 1),
    (Column::Keys, "keys", 7, 2),
    (Column::Memory, "mem/max", 11, 3),
    (Column::Ops, "ops/s", 6, 4),
    (Column::Clients, "clis", 4, 4),
    (Column::Repl, "repl/lag", 10, 3),
    (Column::Epoch, "epoch", 5, 9),
    (Column::Flips, "flips", 5, 9),
    (Column::Pong, "pong", 6, 7),
    (Column::Rtt, "rtt", 6, 6),
    (Column::Server, "server", 12, 10),
    (Column::Error, "error", 12, 1),
];

/// Columns that fit in `width`, in display order, with their widths (1 space between).
#[must_use]
pub fn fit_columns(width: u16) -> Vec<(Column, &'static str, u16)> {
    fit_columns_with(width, ADDRESS_W)
}

/// The address column's usual width.
const ADDRESS_W: u16 = 21;

/// The widest the address column grows to show announced and connected addresses.
const ADDRESS_MAX_W: u16 = 40;

/// [`fit_columns`] with an address column `address_w` wide (wider under `--remap`).
fn fit_columns_with(width: u16, address_w: u16) -> Vec<(Column, &'static str, u16)> {
    let mut keep: Vec<bool> = vec![true; COLUMNS.len()];
    let w = |c: &(Column, &str, u16, u8)| {
        if c.0 == Column::Address {
            address_w
        } else {
            c.2
        }
    };
    let total = |keep: &[bool]| -> u16 {
        COLUMNS
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| w(c) + 1)
            .sum()
    };
    let mut prio = COLUMNS.iter().map(|c| c.3).max().unwrap_or(0);
    while total(&keep) > width && prio > 0 {
        for (i, c) in COLUMNS.iter().enumerate() {
            if c.3 == prio {
                keep[i] = false;
            }
        }
        prio -= 1;
    }
    let used = total(&keep);
    COLUMNS
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| {
            let w = if c.0 == Column::Error {
                c.2 + width.saturating_sub(used)
            } else {
                w(c)
            };
            (c.0, c.1, w)
        })
        .collect()
}

/// Status word of a probed endpoint that does not answer and that no member lists (a
/// forgotten node or a wrong seed): not a member, out of the verdict, never `DOWN` or `FAIL`.
pub const DEPARTED_WORD: &str = "GONE";

/// Every status word of the node table with its meaning (the `?` overlay reads it).
pub const STATUS_LEGEND: &[(&str, &str)] = &[
    ("ok", "answers, nobody flags it"),
    ("PF?", "suspected (PFAIL)"),
    ("FAIL", "agreed failed"),
    ("DOWN", "unreachable by us"),
    ("LINK", "replica whose replication link is down"),
    ("ISO", "knows only itself: needs CLUSTER MEET"),
    ("hs", "handshake"),
    (
        "GONE",
        "no answer and no member lists it: not a member, out of the verdict",
    ),
    ("--", "not probed"),
    ("~", "stale data"),
];

/// Health word of a node in the table: [`status_word`], except that a replica whose
/// replication link is down reads `LINK` (a problem), never `ok`.
#[must_use]
pub fn table_status(model: &ClusterModel, n: &NodeSummary) -> &'static str {
    match status_word(n) {
        "ok" if vitals::replica_link_down(model, n) => "LINK",
        w => w,
    }
}

/// Health word of a node, paired with its glyph (reads without colour).
#[must_use]
pub fn status_word(n: &NodeSummary) -> &'static str {
    if let Reachability::Failed(_) = n.reachability {
        if n.flags.fail || !n.peers.fail_by.is_empty() {
            "FAIL"
        } else {
            "DOWN"
        }
    } else if n.flags.fail || !n.peers.fail_by.is_empty() {
        "FAIL"
    } else if n.flags.pfail || !n.peers.pfail_by.is_empty() {
        "PF?"
    } else if n.flags.handshake {
        "hs"
    } else if matches!(n.reachability, Reachability::NotProbed) {
        "--"
    } else if n.isolated {
        "ISO"
    } else {
        "ok"
    }
}

fn flags_text(n: &NodeSummary) -> String {
    // The role is its own column; `myself` is an artefact of whose view it came from.
    let mut v: Vec<&str> = n
        .flags
        .names()
        .into_iter()
        .filter(|f| !matches!(*f, "myself" | "master" | "slave"))
        .collect();
    if !n.peers.unknown_to.is_empty() {
        v.push("partly-known");
    }
    if v.is_empty() {
        "-".to_owned()
    } else {
        v.join(",")
    }
}

/// Where slotscope connects for the node, when a `--remap` rule moves it.
pub fn connected(app: &App, n: &NodeSummary) -> Option<String> {
    app.connected_address(n)
}

/// The address cell of a node slotscope reaches elsewhere: `announced → connected`, the
/// connected host left out when it is the announced one (`127.0.0.1:30001 → :7000`).
fn moved_address(n: &NodeSummary, to: &str) -> String {
    let same_host = to
        .strip_prefix(n.addr.ip.as_str())
        .filter(|rest| rest.starts_with(':'));
    match same_host {
        Some(port) => format!("{} → {port}", n.addr),
        None => format!("{} → {to}", n.addr),
    }
}

fn cell_text(
    model: &ClusterModel,
    n: &NodeSummary,
    col: Column,
    width: u16,
    grouped: bool,
) -> String {
    let w = usize::from(width);
    let info = n.info.as_ref();
    let dash = || "-".to_owned();
    let s = match col {
        Column::Status => table_status(model, n).to_owned(),
        Column::Id => n.id.as_ref().map_or_else(dash, |i| i.short().to_owned()),
        Column::Address => return truncate_middle(&n.addr.to_string(), w),
        Column::Role => match n.role {
            Role::Master => "master".to_owned(),
            Role::Replica if grouped => " └repl".to_owned(),
            Role::Replica => "replica".to_owned(),
            Role::Unknown => "?".to_owned(),
        },
        Column::Flags => flags_text(n),
        Column::Link => match &n.own_line {
            _ if !n.peers.pfail_by.is_empty() || !n.peers.fail_by.is_empty() => "down".to_owned(),
            Some(_) => "up".to_owned(),
            None => dash(),
        },
        Column::Slots => {
            let c = ranges_len(&n.claimed_slots);
            if c == 0 {
                dash()
            } else {
                let r = format_ranges(&n.claimed_slots[..n.claimed_slots.len().min(3)]);
                let more = if n.claimed_slots.len() > 3 {
                    ",…"
                } else {
                    ""
                };
                format!("{c} {r}{more}")
            }
        }
        Column::Keys => info.and_then(|i| i.keys).map_or_else(dash, human_count),
        Column::Memory => info.and_then(vitals::memory_short).unwrap_or_else(dash),
        Column::Ops => info
            .and_then(|i| i.ops_per_sec)
            .map_or_else(dash, human_count),
        Column::Clients => info
            .and_then(|i| i.connected_clients)
            .map_or_else(dash, |c| c.to_string()),
        Column::Repl => match vitals::replication(model, n) {
            Some(r) => vitals::replication_short(&r),
            None => info
                .and_then(|i| i.connected_slaves)
                .map_or_else(dash, |c| format!("{c} repl")),
        },
        Column::Epoch => n.config_epoch.to_string(),
        // Needs the app's history: filled in by `render_nodes`.
        Column::Flips => dash(),
        Column::Server => info
            .and_then(crate::cluster::types::ServerInfo::identity)
            .unwrap_or_else(dash),
        Column::Pong => n.peers.max_pong_age_ms.map_or_else(dash, human_age_ms),
        Column::Rtt => n.rtt_us.map_or_else(dash, |us| {
            if us < 1000 {
                format!("{us}µs")
            } else {
                format!("{}ms", us / 1000)
            }
        }),
        Column::Error => match &n.reachability {
            Reachability::Ok if n.isolated => "not joined: needs CLUSTER MEET".to_owned(),
            Reachability::Ok => String::new(),
            Reachability::Failed(e) if w < 30 => short_error(e).to_owned(),
            Reachability::Failed(e) => e.to_string(),
            Reachability::NotProbed if n.addr.is_unknown() || n.flags.handshake => {
                "not probed (no address)".to_owned()
            }
            Reachability::NotProbed => "not probed".to_owned(),
        },
    };
    truncate_end(&s, w)
}

/// A probe error in one or two words, for narrow tables.
#[must_use]
pub fn short_error(e: &ProbeError) -> &'static str {
    match e {
        ProbeError::ConnectFailed(d) if d.contains("refused") => "refused",
        ProbeError::ConnectFailed(_) => "connect failed",
        ProbeError::ConnectTimeout => "connect timeout",
        ProbeError::Unresponsive(_) => "hung (no reply)",
        ProbeError::AuthRequired => "NOAUTH",
        ProbeError::AuthFailed(_) => "auth failed",
        ProbeError::Loading => "LOADING",
        ProbeError::NotCluster { .. } => "not cluster mode",
        ProbeError::Protocol(_) => "bad reply",
        ProbeError::Other(_) => "error",
    }
}

/// Draw the node table pane.
pub fn render_nodes(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let Some(model) = app.model() else {
        super::render_title(buf, area, app, Pane::Nodes, "", &Line::default());
        return;
    };
    let mut extra = format!("{} · {}", model.nodes.len(), app.node_sort.label());
    if !app.filter.is_empty() {
        extra = format!(
            "{} of {} · /{}",
            app.node_order.len(),
            model.nodes.len(),
            app.filter
        );
    }
    let pos = if app.node_order.is_empty() {
        Line::default()
    } else {
        Line::styled(
            format!("{}/{}", app.node_cursor + 1, app.node_order.len()),
            t.text_dim,
        )
    };
    super::render_title(buf, area, app, Pane::Nodes, &extra, &pos);
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    if body.height < 2 {
        return;
    }
    let address_w = app
        .node_order
        .iter()
        .filter_map(|&i| model.nodes.get(i))
        .filter_map(|n| connected(app, n).map(|to| moved_address(n, &to).chars().count()))
        .max()
        .map_or(ADDRESS_W, |w| {
            u16::try_from(w)
                .unwrap_or(ADDRESS_MAX_W)
                .clamp(ADDRESS_W, ADDRESS_MAX_W)
        });
    let cols = fit_columns_with(body.width, address_w);
    let rows_h = usize::from(body.height - 1);
    let offset = super::scroll_offset(app.node_cursor, rows_h, app.node_order.len());
    let n = app.node_order.len();
    super::record_rows(app, Pane::Nodes, super::below_header(body), offset, n);
    let grouped = app.node_sort == NodeSort::Grouped && app.filter.is_empty();
    let rows: Vec<Row<'_>> = app
        .node_order
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_h)
        .filter_map(|(pos, &i)| {
            let n = model.nodes.get(i)?;
            let stale = app.node_is_stale(n);
            let departed = app.is_departed(n);
            let mut style = if departed {
                t.text_dim
            } else if n.is_failing() {
                t.node_row_failing
            } else if vitals::replica_link_down(model, n) {
                t.severity_warning
            } else {
                t.text
            };
            if stale {
                style = style.patch(t.node_row_stale);
            }
            let style = style.patch(super::row_style(app, Pane::Nodes, pos == app.node_cursor));
            let cells: Vec<Cell<'_>> = cols
                .iter()
                .map(|(c, _, w)| {
                    let remapped = (*c == Column::Address).then(|| connected(app, n)).flatten();
                    let mut s = match (c, app.role_changes.of(n), remapped) {
                        (Column::Status, _, _) if departed => DEPARTED_WORD.to_owned(),
                        (Column::Flips, Some(h), _) => h.count.to_string(),
                        (_, _, Some(to)) => {
                            truncate_middle(&moved_address(n, &to), usize::from(*w))
                        }
                        _ => cell_text(model, n, *c, *w, grouped),
                    };
                    if *c == Column::Status && stale && s.len() < 4 {
                        s.push('~');
                    }
                    Cell::from(s)
                })
                .collect();
            Some(Row::new(cells).style(style))
        })
        .collect();
    let header = Row::new(cols.iter().map(|(_, h, _)| Cell::from(*h))).style(t.table_header);
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|(_, _, w)| Constraint::Length(*w))
        .collect();
    Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .render(body, buf);
    if app.node_order.is_empty() {
        let msg = if app.filter.is_empty() {
            "no nodes known".to_owned()
        } else {
            format!("no node matches /{} (Esc clears)", app.filter)
        };
        buf.set_line(
            body.x + 1,
            body.y + 1,
            &Line::from(Span::styled(msg, t.text_dim)),
            body.width,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_every_width() {
        for w in [60u16, 80, 100, 120, 160, 200, 300] {
            let cols = fit_columns(w);
            let total: u16 = cols.iter().map(|c| c.2 + 1).sum();
            assert!(total <= w + 1, "w={w} total={total}");
            let names: Vec<Column> = cols.iter().map(|c| c.0).collect();
            for must in [Column::Status, Column::Address, Column::Role] {
                assert!(names.contains(&must), "w={w} lacks {must:?}");
            }
        }
        assert!(fit_columns(80).iter().any(|c| c.0 == Column::Slots));
        assert_eq!(fit_columns(300).len(), COLUMNS.len());
        // At 120 columns the vitals are in the table.
        let wide: Vec<Column> = fit_columns(120).iter().map(|c| c.0).collect();
        for must in [Column::Memory, Column::Ops, Column::Clients, Column::Repl] {
            assert!(wide.contains(&must), "120 lacks {must:?}");
        }
    }

    fn with_replica_info(link: &str) -> ClusterModel {
        use crate::cluster::testkit::ModelBuilder;
        use crate::cluster::{ReplicaLink, ServerInfo};
        let mut b = ModelBuilder::healthy(3, 1);
        b.get(0u16).info = Some(ServerInfo {
            role: Some("master".into()),
            master_repl_offset: Some(5000),
            connected_slaves: Some(1),
            replicas: vec![ReplicaLink {
                ip: "127.0.0.1".into(),
                port: 7010,
                state: "online".into(),
                offset: 4000,
                lag_s: Some(1),
            }],
            ..ServerInfo::default()
        });
        b.get(10u16).info = Some(ServerInfo {
            role: Some("slave".into()),
            master_link_status: Some(link.into()),
            master_link_down_since_s: (link == "down").then_some(42),
            slave_repl_offset: Some(4000),
            used_memory: Some(2 * 1024 * 1024),
            maxmemory: Some(100 * 1024 * 1024),
            ..ServerInfo::default()
        });
        b.build()
    }

    fn replica_row(model: &ClusterModel) -> (&NodeSummary, String, String, String) {
        let n = model
            .nodes
            .iter()
            .find(|n| n.addr.port == 7010)
            .expect("replica 10");
        (
            n,
            cell_text(model, n, Column::Status, 4, true),
            cell_text(model, n, Column::Repl, 10, true),
            cell_text(model, n, Column::Memory, 11, true),
        )
    }

    #[test]
    fn a_replica_with_its_link_down_is_not_ok() {
        let model = with_replica_info("down");
        let (n, status, repl, _) = replica_row(&model);
        assert!(!n.is_failing(), "it answers: not failing");
        assert_eq!(status, "LINK");
        assert_eq!(repl, "down 42s");
        assert!(vitals::replica_link_down(&model, n));
        let r = vitals::replication(&model, n).expect("a replica");
        let long = vitals::replication_long(&r, "127.0.0.1:7000");
        assert!(
            long.starts_with("link to its master 127.0.0.1:7000 DOWN for 42s"),
            "the detail names the master: {long}"
        );
    }

    #[test]
    fn a_replica_with_its_link_up_shows_its_lag_and_memory() {
        let model = with_replica_info("up");
        let (n, status, repl, mem) = replica_row(&model);
        assert_eq!(status, "ok");
        assert_eq!(repl, "1000B 1s");
        assert_eq!(mem, "2.0M/100.0M");
        assert!(!vitals::replica_link_down(&model, n));
        let master = &model.nodes[0];
        assert_eq!(cell_text(&model, master, Column::Repl, 10, true), "1 repl");
    }
}
