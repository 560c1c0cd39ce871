//! Semantic theme: every style is named after its role on screen, never after a colour.
//!
//! The default palette uses the 16 named ANSI colours. `--color 256` and `--color truecolor`
//! only step up the ramps (key-count heat, owner palette). `NO_COLOR` (or `--color never`) gives
//! [`ColorDepth::Mono`], where **every** colour is `Color::Reset`: crossterm 0.29 writes a bare
//! `CSI m` for a dropped colour, which would reset the REVERSED/BOLD modifiers ratatui sent just
//! before, so under `NO_COLOR` we must never ask for a colour at all. Meaning then comes from
//! modifiers and glyphs only.

use ratatui::style::{Color, Modifier, Style};

use crate::app::App;
pub use crate::app::color::{ColorChoice, ColorDepth};
use crate::cluster::{Severity, SlotState};

/// Named owner colours for the 16-colour palette (no red: red means trouble).
const OWNER_ANSI16: [Color; 6] = [
    Color::Blue,
    Color::Green,
    Color::Magenta,
    Color::Cyan,
    Color::LightBlue,
    Color::LightGreen,
];

/// Semantic theme used by every `render_*` function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    /// The depth this theme was built for.
    pub depth: ColorDepth,
    /// Plain text.
    pub text: Style,
    /// Secondary text (labels, ages).
    pub text_dim: Style,
    /// Verdict line when healthy.
    pub verdict_ok: Style,
    /// Verdict line with warnings only.
    pub verdict_warning: Style,
    /// Verdict line when the cluster is down or degraded.
    pub verdict_critical: Style,
    /// FROZEN / READ-ONLY / STALE / DEMO badges.
    pub badge: Style,
    /// Badge that signals stale data.
    pub badge_alert: Style,
    /// Title of an unfocused pane.
    pub pane_title: Style,
    /// Title of the focused pane.
    pub pane_title_focused: Style,
    /// Selected row / heatmap cursor.
    pub selection: Style,
    /// A node row whose data is stale or missing.
    pub node_row_stale: Style,
    /// A node row that is failing.
    pub node_row_failing: Style,
    /// Column headers of tables.
    pub table_header: Style,
    /// Key names in hints and help.
    pub hint_key: Style,
    /// Critical finding marker.
    pub severity_critical: Style,
    /// Warning finding marker.
    pub severity_warning: Style,
    /// Info finding marker.
    pub severity_info: Style,
    /// Dialog frame.
    pub dialog_border: Style,
    /// Dangerous text in dialogs (data loss).
    pub danger: Style,
}

impl Theme {
    /// Build the theme for a colour depth.
    #[must_use]
    pub fn new(depth: ColorDepth) -> Self {
        let mono = depth == ColorDepth::Mono;
        let fg = |c: Color| {
            if mono {
                Style::new().fg(Color::Reset)
            } else {
                Style::new().fg(c)
            }
        };
        let bold = Modifier::BOLD;
        Self {
            depth,
            text: Style::new(),
            text_dim: if mono {
                Style::new().add_modifier(Modifier::DIM)
            } else {
                fg(Color::DarkGray)
            },
            verdict_ok: fg(Color::Green).add_modifier(bold),
            verdict_warning: fg(Color::Yellow).add_modifier(bold),
            verdict_critical: fg(Color::LightRed).add_modifier(bold),
            badge: Style::new().add_modifier(Modifier::REVERSED),
            badge_alert: fg(Color::Yellow).add_modifier(Modifier::REVERSED | bold),
            pane_title: fg(Color::Cyan),
            pane_title_focused: fg(Color::Cyan)
                .add_modifier(bold | Modifier::REVERSED)
                .remove_modifier(Modifier::DIM),
            selection: Style::new().add_modifier(Modifier::REVERSED),
            node_row_stale: if mono {
                Style::new().add_modifier(Modifier::DIM | Modifier::ITALIC)
            } else {
                fg(Color::DarkGray).add_modifier(Modifier::ITALIC)
            },
            node_row_failing: fg(Color::LightRed).add_modifier(bold),
            table_header: fg(Color::Cyan).add_modifier(Modifier::UNDERLINED),
            hint_key: fg(Color::Yellow).add_modifier(bold),
            severity_critical: fg(Color::LightRed).add_modifier(bold),
            severity_warning: fg(Color::Yellow),
            severity_info: fg(Color::Cyan),
            dialog_border: fg(Color::Yellow),
            danger: fg(Color::LightRed).add_modifier(bold | Modifier::UNDERLINED),
        }
    }

    /// The theme for the app's colour depth.
    #[must_use]
    pub fn of(app: &App) -> Self {
        Self::new(app.depth)
    }

    /// True when no colour may be emitted.
    #[must_use]
    pub fn is_mono(&self) -> bool {
        self.depth == ColorDepth::Mono
    }

    fn color(&self, c: Color) -> Color {
        if self.is_mono() { Color::Reset } else { c }
    }

    /// Heatmap colour of a slot state, in the colour of its severity everywhere else on the
    /// screen: served in the healthy verdict's green, moving slots in the info colour, a
    /// disputed owner in the warning colour, and slots that are not served (owner failing,
    /// uncovered) in the reds of a critical verdict. Each state also keeps its own glyph.
    #[must_use]
    pub fn heat_state(&self, state: SlotState) -> Color {
        self.color(match state {
            SlotState::Served => Color::Green,
            SlotState::Migrating => Color::Cyan,
            SlotState::Disputed => Color::Yellow,
            SlotState::OwnerFailing => Color::LightRed,
            SlotState::Uncovered => Color::Red,
        })
    }

    /// Heatmap colour for owner number `i` (masters in model order).
    #[must_use]
    pub fn heat_owner(&self, i: usize) -> Color {
        let c = match self.depth {
            ColorDepth::Mono => Color::Reset,
            ColorDepth::Ansi16 => OWNER_ANSI16[i % OWNER_ANSI16.len()],
            ColorDepth::Ansi256 | ColorDepth::TrueColor => {
                // Spread hues over the xterm 6x6x6 cube, skipping red-dominant entries.
                const CUBE: [u8; 12] = [33, 40, 165, 44, 214, 99, 118, 207, 75, 184, 141, 49];
                Color::Indexed(CUBE[i % CUBE.len()])
            }
        };
        self.color(c)
    }

    /// Colour of a mixed-owner bucket in owner mode.
    #[must_use]
    pub fn heat_mixed(&self) -> Color {
        self.color(Color::Gray)
    }

    /// Key-count ramp: `level` in `0..=4` (0 = no keys).
    #[must_use]
    pub fn heat_keys(&self, level: u8) -> Color {
        let level = level.min(4);
        let c = match self.depth {
            ColorDepth::Mono => Color::Reset,
            ColorDepth::Ansi16 => [
                Color::DarkGray,
                Color::Blue,
                Color::Cyan,
                Color::Yellow,
                Color::White,
            ][usize::from(level)],
            ColorDepth::Ansi256 => Color::Indexed([236, 24, 31, 37, 229][usize::from(level)]),
            ColorDepth::TrueColor => {
                let v = 40 + u16::from(level) * 50;
                let v = u8::try_from(v).unwrap_or(u8::MAX);
                Color::Rgb(v / 2, v, v)
            }
        };
        self.color(c)
    }

    /// Style of a severity marker.
    #[must_use]
    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.severity_critical,
            Severity::Warning => self.severity_warning,
            Severity::Info => self.severity_info,
        }
    }
}

/// Glyph that pairs with each severity so it reads without colour.
#[must_use]
pub fn severity_glyph(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "!!",
        Severity::Warning => "! ",
        Severity::Info => "i ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_theme_never_names_a_colour() {
        let t = Theme::new(ColorDepth::Mono);
        let styles = [
            t.text,
            t.text_dim,
            t.verdict_ok,
            t.verdict_warning,
            t.verdict_critical,
            t.badge,
            t.badge_alert,
            t.pane_title,
            t.pane_title_focused,
            t.selection,
            t.node_row_stale,
            t.node_row_failing,
            t.table_header,
            t.hint_key,
            t.severity_critical,
            t.severity_warning,
            t.severity_info,
            t.dialog_border,
            t.danger,
        ];
        for s in styles {
            assert!(matches!(s.fg, None | Some(Color::Reset)), "{s:?}");
            assert!(matches!(s.bg, None | Some(Color::Reset)), "{s:?}");
        }
        for st in [
            SlotState::Served,
            SlotState::Uncovered,
            SlotState::Migrating,
        ] {
            assert_eq!(t.heat_state(st), Color::Reset);
        }
        assert_eq!(t.heat_owner(3), Color::Reset);
        assert_eq!(t.heat_keys(2), Color::Reset);
    }

    #[test]
    fn states_have_distinct_colours_in_ansi16() {
        let t = Theme::new(ColorDepth::Ansi16);
        let mut cs: Vec<Color> = [
            SlotState::Served,
            SlotState::Migrating,
            SlotState::Disputed,
            SlotState::OwnerFailing,
            SlotState::Uncovered,
        ]
        .into_iter()
        .map(|s| t.heat_state(s))
        .collect();
        cs.dedup();
        assert_eq!(cs.len(), 5);
    }
}
