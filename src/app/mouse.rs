//! The mouse: a click focuses the pane under it and selects the slot or row there; the wheel
//! scrolls the list or overlay under it. Hit-testing reads the rectangles the last draw
//! recorded in the [`super::Viewport`]; nothing here lays the screen out. Pure.

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::fix::FixStage;
use super::viewport::ListId;
use super::{App, Mode, Pane};

/// Rows one wheel notch scrolls in a list or an overlay.
pub const WHEEL_ROWS: isize = 3;

impl App {
    /// A mouse event. Returns whether the screen changes.
    pub fn on_mouse(&mut self, ev: &MouseEvent) -> bool {
        if !self.mouse {
            return false;
        }
        let (x, y) = (ev.column, ev.row);
        match ev.kind {
            MouseEventKind::Down(MouseButton::Left) => self.on_click(x, y),
            MouseEventKind::ScrollUp => self.on_wheel(x, y, -WHEEL_ROWS),
            MouseEventKind::ScrollDown => self.on_wheel(x, y, WHEEL_ROWS),
            _ => false,
        }
    }

    fn on_click(&mut self, x: u16, y: u16) -> bool {
        match self.mode {
            Mode::Normal => {}
            Mode::Fix => {
                let item = self.viewport.item_at(ListId::Plans, x, y);
                if let Some(d) = self.fix.as_mut()
                    && d.stage == FixStage::Choose
                    && let Some(i) = item
                {
                    d.chosen = i;
                    return true;
                }
                return false;
            }
            _ => return false,
        }
        let Some(pane) = self.viewport.pane_at(x, y) else {
            return false;
        };
        self.message = None;
        self.focus = pane;
        match pane {
            Pane::Heatmap => {
                if let Some(slot) = self.heat_grid().slot_at(x, y) {
                    self.jump_to_slot(slot);
                }
            }
            Pane::Nodes => {
                if let Some(i) = self.viewport.item_at(ListId::Pane(pane), x, y) {
                    self.node_cursor = i.min(self.node_order.len().saturating_sub(1));
                }
            }
            Pane::Findings => {
                if let Some(i) = self.viewport.item_at(ListId::Pane(pane), x, y)
                    && i != self.finding_cursor
                {
                    self.finding_cursor = i.min(self.findings().len().saturating_sub(1));
                    self.finding_expanded = false;
                }
            }
            Pane::Migrations => {
                if let Some(i) = self.viewport.item_at(ListId::Pane(pane), x, y) {
                    self.migration_cursor = i;
                }
            }
            Pane::Timeline => {
                if let Some(i) = self.viewport.item_at(ListId::Pane(pane), x, y) {
                    self.timeline_cursor = i;
                }
            }
        }
        true
    }

    fn on_wheel(&mut self, x: u16, y: u16, rows: isize) -> bool {
        match self.mode {
            Mode::Help | Mode::NodeDetail(_) | Mode::Output => {
                self.move_by(rows, true);
                true
            }
            Mode::Fix => {
                let Some(d) = self.fix.as_mut() else {
                    return false;
                };
                d.move_by(if d.stage == FixStage::Choose {
                    rows.signum()
                } else {
                    rows
                });
                true
            }
            Mode::Normal => {
                let Some(pane) = self.viewport.pane_at(x, y) else {
                    return false;
                };
                self.focus = pane;
                let step = if pane == Pane::Heatmap {
                    rows.signum()
                } else {
                    rows
                };
                self.move_by(step, true);
                true
            }
            Mode::Filter | Mode::Command => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::KeyModifiers;
    use ratatui::layout::Rect;

    use super::*;
    use crate::app::sample::{self, SampleCase};
    use crate::app::viewport::ListRows;

    fn ev(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
        MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }
    }

    fn click(a: &mut App, x: u16, y: u16) -> bool {
        a.on_mouse(&ev(MouseEventKind::Down(MouseButton::Left), x, y))
    }

    #[test]
    fn a_click_focuses_the_pane_and_selects_the_row() {
        let mut a = sample::app(SampleCase::MasterDown, 120, 40);
        a.viewport.start_frame();
        a.viewport
            .record_pane(Pane::Nodes, Rect::new(0, 20, 120, 10));
        a.viewport.record_list(ListRows {
            list: ListId::Pane(Pane::Nodes),
            rows: Rect::new(0, 22, 120, 8),
            items: (0..8).map(Some).collect(),
        });
        assert!(click(&mut a, 10, 24));
        assert_eq!(a.focus, Pane::Nodes);
        assert_eq!(a.node_cursor, 2);
        assert!(!click(&mut a, 10, 5), "nothing drawn there");
        a.mode = Mode::Help;
        assert!(!click(&mut a, 10, 23), "overlays take no clicks");
        assert_eq!(a.node_cursor, 2);
    }

    #[test]
    fn a_click_on_the_heatmap_selects_the_slot_under_it() {
        let mut a = sample::app(SampleCase::MasterDown, 120, 40);
        a.viewport.start_frame();
        let map = Rect::new(0, 5, 70, 6);
        a.viewport.record_heat_map(map);
        a.viewport
            .record_pane(Pane::Heatmap, Rect::new(0, 4, 70, 8));
        a.focus = Pane::Findings;
        let g = a.heat_grid();
        for b in 0..g.buckets() {
            let (cx, cy, upper) = g.cell_of(b).expect("drawn");
            if upper {
                assert_eq!(g.slot_at(cx, cy), Some(g.bucket_range(b).0), "bucket {b}");
            }
        }
        assert_eq!(g.slot_at(map.x, map.y + map.height), None, "below the map");
        // Click the cell that holds slot 12000 (in its upper half).
        let mut b = g.bucket_of(12000).expect("in the window");
        if !g.cell_of(b).expect("drawn").2 {
            b -= g.cols();
        }
        let (cx, cy, _) = g.cell_of(b).expect("drawn");
        assert!(click(&mut a, cx, cy));
        assert_eq!(a.focus, Pane::Heatmap);
        assert_eq!(a.heat_cursor, g.bucket_range(b).0);
    }

    #[test]
    fn the_wheel_scrolls_lists_and_overlays() {
        let mut a = sample::app(SampleCase::MasterDown, 120, 40);
        a.viewport.start_frame();
        a.viewport
            .record_pane(Pane::Nodes, Rect::new(0, 20, 120, 10));
        assert!(a.on_mouse(&ev(MouseEventKind::ScrollDown, 3, 25)));
        assert_eq!(a.focus, Pane::Nodes);
        assert_eq!(a.node_cursor, 3.min(a.node_order.len() - 1));
        a.mode = Mode::Help;
        a.help_scroll = 0;
        assert!(a.on_mouse(&ev(MouseEventKind::ScrollDown, 0, 0)));
        assert_eq!(a.help_scroll, 3);
        assert!(a.on_mouse(&ev(MouseEventKind::ScrollUp, 0, 0)));
        assert_eq!(a.help_scroll, 0);
        a.mouse = false;
        assert!(
            !a.on_mouse(&ev(MouseEventKind::ScrollDown, 0, 0)),
            "--no-mouse"
        );
        assert_eq!(a.help_scroll, 0);
    }
}
