//! What the last draw learnt about the screen, kept for the next key.
//!
//! The app cannot lay the screen out itself (that is drawing's job), yet a key needs a little
//! of what the layout decided: how many slots one step of the heatmap cursor moves, and how far
//! the help and node detail overlays can scroll. The draw records these here, through shared
//! cells (drawing only ever sees `&App`), and the next key reads them: a key never runs the
//! layout.

use std::cell::{Cell, RefCell};

use ratatui::layout::Rect;

use super::Pane;

/// A list a click can select a row of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListId {
    /// A pane's list (node table, findings, migrations, timeline).
    Pane(Pane),
    /// The plans of the fix chooser.
    Plans,
}

/// Where a list's rows were drawn: `items[i]` is the item on row `rows.y + i` (`None`: a row
/// that belongs to no item, e.g. a finding's details).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRows {
    /// Which list.
    pub list: ListId,
    /// The rows area.
    pub rows: Rect,
    /// The item on each row.
    pub items: Vec<Option<usize>>,
}

impl ListRows {
    /// The item drawn at screen position `(x, y)`, if any.
    #[must_use]
    pub fn item_at(&self, x: u16, y: u16) -> Option<usize> {
        if !self.rows.contains(ratatui::layout::Position::new(x, y)) {
            return None;
        }
        self.items
            .get(usize::from(y - self.rows.y))
            .copied()
            .flatten()
    }
}

/// Geometry recorded by the last draw.
#[derive(Debug, Default)]
pub struct Viewport {
    /// The heatmap's map area (below its title, above its cursor line).
    heat_map: Cell<Option<Rect>>,
    /// How far the help overlay can scroll, once drawn.
    help_max_scroll: Cell<Option<usize>>,
    /// How far the node detail overlay can scroll, once drawn.
    detail_max_scroll: Cell<Option<usize>>,
    /// How far the command output overlay can scroll, once drawn.
    output_max_scroll: Cell<Option<usize>>,
    /// Each pane's area as last drawn (mouse hit-testing).
    panes: RefCell<Vec<(Pane, Rect)>>,
    /// Each list's rows as last drawn (mouse hit-testing).
    lists: RefCell<Vec<ListRows>>,
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

    /// How far the command output overlay can scroll, if it has been drawn since it opened.
    #[must_use]
    pub fn output_max_scroll(&self) -> Option<usize> {
        self.output_max_scroll.get()
    }

    /// Record how far the command output overlay can scroll.
    pub fn record_output_max_scroll(&self, max: usize) {
        self.output_max_scroll.set(Some(max));
    }

    /// An overlay opened: what was recorded for the previous one no longer holds.
    pub fn forget_overlay(&self) {
        self.help_max_scroll.set(None);
        self.detail_max_scroll.set(None);
        self.output_max_scroll.set(None);
    }

    /// A new frame starts: forget where panes and lists were.
    pub fn start_frame(&self) {
        self.panes.borrow_mut().clear();
        self.lists.borrow_mut().clear();
    }

    /// Record where a pane was drawn.
    pub fn record_pane(&self, pane: Pane, area: Rect) {
        self.panes.borrow_mut().push((pane, area));
    }

    /// Record where a list's rows were drawn.
    pub fn record_list(&self, list: ListRows) {
        let mut lists = self.lists.borrow_mut();
        lists.retain(|l| l.list != list.list);
        lists.push(list);
    }

    /// The pane drawn at `(x, y)`, if any.
    #[must_use]
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let p = ratatui::layout::Position::new(x, y);
        self.panes
            .borrow()
            .iter()
            .find(|(_, r)| r.contains(p))
            .map(|(pane, _)| *pane)
    }

    /// The item of `list` drawn at `(x, y)`, if any.
    #[must_use]
    pub fn item_at(&self, list: ListId, x: u16, y: u16) -> Option<usize> {
        self.lists
            .borrow()
            .iter()
            .find(|l| l.list == list)
            .and_then(|l| l.item_at(x, y))
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
    fn hit_testing_finds_panes_and_rows() {
        let v = Viewport::default();
        v.record_pane(Pane::Nodes, Rect::new(0, 10, 80, 8));
        v.record_list(ListRows {
            list: ListId::Pane(Pane::Nodes),
            rows: Rect::new(0, 12, 80, 3),
            items: vec![Some(4), None, Some(5)],
        });
        assert_eq!(v.pane_at(5, 11), Some(Pane::Nodes));
        assert_eq!(v.pane_at(5, 9), None);
        assert_eq!(v.item_at(ListId::Pane(Pane::Nodes), 3, 12), Some(4));
        assert_eq!(v.item_at(ListId::Pane(Pane::Nodes), 3, 13), None);
        assert_eq!(v.item_at(ListId::Pane(Pane::Nodes), 3, 14), Some(5));
        assert_eq!(v.item_at(ListId::Pane(Pane::Nodes), 3, 15), None);
        assert_eq!(v.item_at(ListId::Plans, 3, 12), None);
        v.start_frame();
        assert_eq!(v.pane_at(5, 11), None);
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
