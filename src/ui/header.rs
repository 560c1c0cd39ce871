//! The header: the verdict, the counts, the age of the data and the badges.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::App;
use crate::cluster::slots::SLOT_COUNT;
use crate::cluster::{Severity, SlotState};

use super::text::{human_age_ms, truncate_end};
use super::theme::Theme;

fn verdict_and_style(app: &App) -> (String, Style) {
    let t = &Theme::of(app);
    match &app.shown {
        None if super::waiting::is_waiting(app) => {
            (super::waiting::waiting_verdict(app), t.verdict_critical)
        }
        None => (
            "waiting for the first refresh…".to_owned(),
            t.verdict_warning,
        ),
        Some(p) => {
            let style = match verdict_severity(app) {
                Some(Severity::Critical) => t.verdict_critical,
                Some(Severity::Warning) => t.verdict_warning,
                _ => t.verdict_ok,
            };
            (p.verdict.clone(), style)
        }
    }
}

/// The severity the verdict is drawn with: critical for `CLUSTER DOWN`, else the worst
/// finding's. The counts line never colours a number worse than this.
fn verdict_severity(app: &App) -> Option<Severity> {
    match &app.shown {
        Some(p) if p.verdict.starts_with("CLUSTER DOWN") => Some(Severity::Critical),
        Some(_) => app.worst(),
        None => None,
    }
}

fn badges(app: &App, width: u16) -> Vec<Span<'static>> {
    let t = &Theme::of(app);
    let mut badges: Vec<Span<'static>> = super::session::badges(app, t);
    if app.replay.is_some() {
        // A replay's data is as old as the recording: no staleness badge.
    } else if app.refresher_stopped {
        badges.push(Span::styled(" NOT REFRESHING ", t.badge_alert));
    } else if app.is_stale() {
        badges.push(Span::styled(" STALE ", t.badge_alert));
    }
    if app.frozen {
        let s = if app.frozen_behind > 0 {
            format!(" FROZEN +{} ", app.frozen_behind)
        } else {
            " FROZEN ".to_owned()
        };
        badges.push(Span::styled(s, t.badge_alert));
    }
    if let Some((label, color)) = &app.context_label {
        let style = match color.as_deref().map(str::parse::<ratatui::style::Color>) {
            Some(Ok(c)) if !t.is_mono() => t.badge.fg(c).add_modifier(Modifier::BOLD),
            _ => t.badge.add_modifier(Modifier::BOLD),
        };
        badges.push(Span::styled(
            format!(" {} ", truncate_end(label, 16)),
            style,
        ));
    }
    if app.tls_insecure {
        badges.push(Span::styled(" TLS UNVERIFIED ", t.badge_alert));
    }
    if app.read_only {
        badges.push(Span::styled(" READ-ONLY ", t.badge));
    }
    if let Some(b) = &app.banner {
        // A fifth of the width, more when the verdict leaves room (at most half).
        let taken: usize = badges.iter().map(|s| s.width() + 1).sum::<usize>()
            + unicode_width::UnicodeWidthStr::width(verdict_and_style(app).0.as_str())
            + 4;
        let least = usize::from(width / 5).max(12);
        let room = usize::from(width)
            .saturating_sub(taken)
            .clamp(least, usize::from(width / 2).max(least));
        badges.push(Span::styled(
            format!(" {} ", truncate_end(b, room)),
            t.badge,
        ));
    }
    badges
}

/// The verdict as it is drawn at `width` columns: one line when it fits beside the badges,
/// else two (the second line spans the full width); only text that does not fit in two
/// lines is cut, with `…`.
#[must_use]
pub fn verdict_lines(app: &App, width: u16) -> Vec<String> {
    let (verdict, _) = verdict_and_style(app);
    let badges = badges(app, width);
    let badges_w: usize = badges.iter().map(Span::width).sum::<usize>() + badges.len();
    let room = usize::from(width).saturating_sub(badges_w + 1).max(1);
    if unicode_width::UnicodeWidthStr::width(verdict.as_str()) <= room {
        return vec![verdict];
    }
    let first = super::text::wrap(&verdict, room);
    let head = first.first().cloned().unwrap_or_default();
    let rest = match verdict.strip_prefix(head.as_str()) {
        Some(r) => r.trim_start().to_owned(),
        None => first.get(1..).unwrap_or_default().join(" "),
    };
    let second = truncate_end(&rest, usize::from(width));
    vec![head, second]
}

/// Rows the header needs at `width` columns: the verdict (one or two lines) and the counts.
#[must_use]
pub fn header_height(app: &App, width: u16) -> u16 {
    if verdict_lines(app, width).len() > 1 {
        3
    } else {
        2
    }
}

/// Header: verdict (one or two lines, badges on the first) and the counts line.
pub fn render_header(buf: &mut Buffer, area: Rect, app: &App) {
    let (_, style) = verdict_and_style(app);
    let badges = badges(app, area.width);
    let badges_w: usize = badges.iter().map(Span::width).sum::<usize>() + badges.len();
    let room = usize::from(area.width).saturating_sub(badges_w + 1);
    let lines = verdict_lines(app, area.width);
    let head = lines.first().cloned().unwrap_or_default();
    let mut first = vec![Span::styled(truncate_end(&head, room), style)];
    let used: usize = first.iter().map(Span::width).sum();
    first.push(Span::raw(" ".repeat(room.saturating_sub(used) + 1)));
    for b in badges {
        first.push(b);
        first.push(Span::raw(" "));
    }
    buf.set_line(area.x, area.y, &Line::from(first), area.width);
    let mut y = area.y + 1;
    if let Some(second) = lines.get(1)
        && area.height > 2
    {
        buf.set_line(area.x, y, &Line::styled(second.clone(), style), area.width);
        y += 1;
    }
    if y >= area.bottom() {
        return;
    }
    let mut second = counts_line(app, false);
    if second.iter().map(Span::width).sum::<usize>() > usize::from(area.width) {
        second = counts_line(app, true);
    }
    buf.set_line(area.x, y, &Line::from(second), area.width);
}

/// Width the data age label is padded to: "<1s", " 2s" and "59s" take the same cells, so
/// while refreshes arrive a new age rewrites only its own digits, never the rest of the counts
/// line (which would shift by one column between "<1s" and "2s"). No wider, so that the full
/// counts line still fits 80 columns.
pub const AGE_LABEL_WIDTH: usize = 3;

/// The data age, right-aligned in [`AGE_LABEL_WIDTH`] cells: `"<1s"`, `" 2s"`, `"59s"`.
/// Ages of a minute and more (`"1m05s"`) are wider; the data is stale by then and flagged.
#[must_use]
pub fn age_label(age_ms: u64) -> String {
    let label = if age_ms < 1000 {
        "<1s".to_owned()
    } else {
        human_age_ms(age_ms - age_ms % 1000)
    };
    format!("{label:>AGE_LABEL_WIDTH$}")
}

/// The counts line; `compact` uses short labels so that it fits 80 columns.
fn counts_line(app: &App, compact: bool) -> Vec<Span<'static>> {
    let t = &Theme::of(app);
    let mut second: Vec<Span<'static>> = Vec::new();
    if let Some(age) = app.data_age_ms() {
        let st = if app.is_stale() {
            t.badge_alert
        } else {
            t.text
        };
        second.push(Span::styled("data ", t.text_dim));
        let label = age_label(age);
        second.push(Span::styled(
            if compact {
                label
            } else {
                format!("{label} old")
            },
            st,
        ));
        second.push(Span::styled(" · ", t.text_dim));
    }
    if let Some(m) = app.model() {
        let c = app.node_counts();
        let served = m
            .slots
            .iter()
            .filter(|e| matches!(e.state, SlotState::Served | SlotState::Migrating))
            .count();
        second.push(Span::styled("nodes ", t.text_dim));
        second.push(Span::styled(format!("{} ok", c.ok), t.text));
        let slash = if compact { "/" } else { " / " };
        if c.failing > 0 {
            second.push(Span::styled(slash, t.text_dim));
            second.push(Span::styled(
                if compact {
                    format!("{} fail", c.failing)
                } else {
                    format!("{} failing", c.failing)
                },
                t.severity_critical,
            ));
        }
        if c.unprobed > 0 {
            second.push(Span::styled(
                if compact {
                    format!("{slash}{} unprobed", c.unprobed)
                } else {
                    format!("{slash}{} not probed", c.unprobed)
                },
                t.text_dim,
            ));
        }
        if c.gone > 0 {
            // Not members (forgotten, or a wrong seed): a note, never counted as failing.
            second.push(Span::styled(
                if compact {
                    format!("{slash}{} gone", c.gone)
                } else {
                    format!("{slash}{} not members", c.gone)
                },
                t.text_dim,
            ));
        }
        second.push(Span::styled(
            if compact {
                " · served "
            } else {
                " · slots served "
            },
            t.text_dim,
        ));
        // Never redder than the verdict: slots that views disagree on during a healthy
        // reshard are not all "served" by this count, yet the header rightly says OK.
        let sstyle = match verdict_severity(app) {
            Some(sev @ (Severity::Critical | Severity::Warning)) if served < SLOT_COUNT => {
                t.severity(sev)
            }
            _ => t.text,
        };
        second.push(Span::styled(format!("{served}/{SLOT_COUNT}"), sstyle));
        if !m.open_slots.is_empty() {
            second.push(Span::styled(
                if compact {
                    " · open "
                } else {
                    " · open slots "
                },
                t.text_dim,
            ));
            let ostyle = match verdict_severity(app) {
                Some(Severity::Critical | Severity::Warning) => t.severity_warning,
                _ => t.text,
            };
            second.push(Span::styled(m.open_slots.len().to_string(), ostyle));
        }
        second.push(Span::styled(" · ", t.text_dim));
        second.push(Span::raw(if compact {
            format!("{}M {}R", c.masters, c.replicas)
        } else {
            format!(
                "{} {} {} {}",
                c.masters,
                plural(c.masters, "master", "masters"),
                c.replicas,
                plural(c.replicas, "replica", "replicas")
            )
        }));
    }
    if let Some(p) = &app.shown
        && !compact
    {
        second.push(Span::styled(
            format!(" · #{}", p.snapshot.generation),
            t.text_dim,
        ));
    }
    second
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
