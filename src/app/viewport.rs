//! What the last draw learnt about the screen, kept for the next key.
//!
//! The app cannot lay the screen out itself (that is drawing's job), yet a key needs a little
//! of what the layout decided: how many slots one step of the heatmap cursor moves, and how far
//! the help and node detail overlays can scroll. The draw records these here, through shared
//! cells (drawing only ever sees `&App`), and the next key reads them: a key never runs the
//! layout.

use std::cell::Cell;

use ratatui::layout::Rect;

/// Geometry recorded by the last draw.
#[derive(Debug, Default)]
pub struct Viewport {
    /// The heatmap's map area (below its title, above its cursor line).
    heat_map: Cell<Option<Rect>>,
    /// How far the help overlay can scroll, once drawn.
    help_max_scroll: Cell<Option<usize>>,
    /// How far the node detail overlay can scroll, once drawn.
    detail_max_scroll: Cell<Option<usize>>,
}

impl Viewport {
    /// The heatmap's map area as last drawn.
    #[must_use]
    pub fn heat_map(&self) -> Option<Rect> {
        self.heat_map.get()
    }

    /// Record the heatmap's map area.
    pub fn record_heat_map(&self, area: Rect) {
        self.heat_map.set(Some(area));
    }

    /// How far the help overlay can scroll, if it has been drawn since it opened.
    #[must_use]
    pub fn help_max_scroll(&self) -> Option<usize> {
        self.help_max_scroll.get()
    }

    /// Record how far the help overlay can scroll.
    pub fn record_help_max_scroll(&self, max: usize) {
        self.help_max_scroll.set(Some(max));
    }

    /// How far the node detail overlay can scroll, if it has been drawn since it opened.
    #[must_use]
    pub fn detail_max_scroll(&self) -> Option<usize> {
        self.detail_max_scroll.get()
    }

    /// Record how far the node detail overlay can scroll.
    pub fn record_detail_max_scroll(&self, max: usize) {
        self.detail_max_scroll.set(Some(max));
    }

    /// An overlay opened: what was recorded for the previous one no longer holds.
    pub fn forget_overlay(&self) {
        self.help_max_scroll.set(None);
        self.detail_max_scroll.set(None);
    }
}

/// Move a scroll position by `delta`, never past `max` when it is known. A position left past
/// the end (keys pressed before the overlay was first drawn) is first brought back to `max`.
#[must_use]
pub fn scroll_by(pos: usize, delta: isize, max: Option<usize>) -> usize {
    let max = max.unwrap_or(usize::MAX);
    pos.min(max).saturating_add_signed(delta).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_stops_at_the_recorded_end() {
        assert_eq!(scroll_by(0, 10, Some(4)), 4);
        assert_eq!(scroll_by(4, -1, Some(4)), 3);
        assert_eq!(scroll_by(0, -1, Some(4)), 0);
        assert_eq!(scroll_by(0, 10, None), 10);
        assert_eq!(scroll_by(usize::MAX / 2, -1, Some(7)), 6);
    }

    #[test]
    fn an_overlay_opening_forgets_the_last_one() {
        let v = Viewport::default();
        v.record_help_max_scroll(3);
        v.record_detail_max_scroll(5);
        v.forget_overlay();
        assert_eq!(v.help_max_scroll(), None);
        assert_eq!(v.detail_max_scroll(), None);
    }
}
