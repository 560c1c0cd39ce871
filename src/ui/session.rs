//! The header badges of a replay (`REPLAY <time> i/n`) and of a recording under way (`● REC`).

use ratatui::text::Span;

use super::theme::Theme;
use crate::app::App;

/// The replay and recording badges, first in the header.
#[must_use]
pub fn badges(app: &App, t: &Theme) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    if let Some(r) = &app.replay {
        out.push(Span::styled(format!(" {} ", r.label()), t.badge_alert));
    }
    if let Some(r) = &app.recording {
        out.push(Span::styled(
            format!(" ● REC {} ", r.refreshes),
            t.badge_alert,
        ));
    }
    out
}
