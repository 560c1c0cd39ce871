//! The waiting screen: no node has answered since start-up (the seed is down, or not up yet).
//! The refresher keeps trying every interval; the screen says what failed, how often it is
//! retried and that `q` quits. The dashboard comes up by itself once a node answers.
//!
//! ```text
//! WAITING FOR THE CLUSTER: no seed answers yet · retrying every 1s
//! ┌ waiting for the cluster ─────────────────────────────────────┐
//! │ No node has answered yet (3 attempts). The last one failed with: │
//! │   could not reach any seed: 127.0.0.1:7000: connection refused   │
//! │ Retrying every 1s. The dashboard opens by itself as soon as …    │
//! │ q quits.                                                         │
//! └──────────────────────────────────────────────────────────────┘
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Widget};

use crate::app::App;

use super::text::{human_age_ms, wrap};
use super::theme::Theme;

/// True while the dashboard waits for a first answer from the cluster.
#[must_use]
pub fn is_waiting(app: &App) -> bool {
    app.shown.is_none() && app.observe_error.is_some()
}

/// The retry interval in words (`1s`, `500ms`).
#[must_use]
pub fn interval_words(app: &App) -> String {
    human_age_ms(u64::try_from(app.interval.as_millis()).unwrap_or(u64::MAX))
}

/// The verdict line while waiting.
#[must_use]
pub fn waiting_verdict(app: &App) -> String {
    format!(
        "WAITING FOR THE CLUSTER: no seed answers yet · retrying every {}",
        interval_words(app)
    )
}

/// The lines of the waiting panel at `width` columns (pure).
#[must_use]
pub fn waiting_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = &Theme::of(app);
    let w = usize::from(width).saturating_sub(2).max(20);
    let mut out = Vec::new();
    let attempts = app.observe_failures.max(1);
    let tries = if attempts == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{attempts} attempts")
    };
    out.push(Line::styled(
        format!("No node has answered yet ({tries}). The last one failed with:"),
        t.text,
    ));
    let err = app.observe_error.clone().unwrap_or_default();
    for l in wrap(&err, w) {
        out.push(Line::styled(format!("  {l}"), t.severity_critical));
    }
    out.push(Line::raw(""));
    for l in wrap(
        &format!(
            "Retrying every {}. The dashboard opens by itself as soon as a node answers.",
            interval_words(app)
        ),
        w,
    ) {
        out.push(Line::styled(l, t.text));
    }
    out.push(Line::from(vec![
        Span::styled("q", t.hint_key),
        Span::styled(" quits.", t.text_dim),
    ]));
    out
}

/// Draw the waiting panel in the body.
pub fn render_waiting(buf: &mut Buffer, area: Rect, app: &App) {
    let t = &Theme::of(app);
    let width = area.width.saturating_sub(4).min(100);
    let inner_w = width.saturating_sub(4);
    let lines = waiting_lines(app, inner_w);
    let h = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(area.height);
    let r = area.centered(Constraint::Length(width), Constraint::Length(h));
    Clear.render(r, buf);
    let block = Block::bordered()
        .padding(Padding::horizontal(1))
        .title(" waiting for the cluster ")
        .border_style(t.verdict_warning);
    let inner = block.inner(r);
    block.render(r, buf);
    Paragraph::new(lines).render(inner, buf);
}
