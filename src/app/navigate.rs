//! Moving around the dashboard: `:` commands, jumping to a slot or node, Enter on a pane,
//! zooming the heatmap and every cursor and scroll movement.

use ratatui::layout::Rect;

use super::heat::HeatGrid;
use super::node_order::node_matches;
use super::viewport::scroll_by;
use super::{App, Effect, Mode, NodeKey, Pane};
use crate::cluster::slots::SLOT_COUNT;

impl App {
    /// Run a `:` command.
    pub fn run_command(&mut self, cmd: &str) -> Option<Effect> {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let head = words.first().copied().unwrap_or("");
        let arg = words.get(1).copied();
        if super::console::is_node_command(head) {
            return self.run_node_command(head, &words[1..]);
        }
        match (head, arg) {
            ("q" | "q!" | "quit" | "qa", _) => {
                self.should_quit = true;
                return Some(Effect::Quit);
            }
            ("node" | "n", Some(a)) => {
                if !self.select_node_matching(a) {
                    self.message = Some(format!("no node matches {a:?}"));
                }
            }
            ("slot" | "s", Some(a)) => match a.parse::<u16>() {
                Ok(s) if usize::from(s) < SLOT_COUNT => self.jump_to_slot(usize::from(s)),
                _ => self.message = Some(format!("not a slot number (0-16383): {a}")),
            },
            ("goto" | "go", Some(_)) => {
                let arg = cmd
                    .split_once(char::is_whitespace)
                    .map_or("", |(_, a)| a.trim());
                self.replay_goto(arg);
            }
            ("ctx" | "context", a) => return self.run_ctx_command(a),
            ("help", _) => {
                self.help_scroll = 0;
                self.viewport.forget_overlay();
                self.mode = Mode::Help;
            }
            ("", _) => {}
            _ => {
                self.message = Some(format!(
                    "unknown command :{cmd} (try :q, :node ADDR, :slot N, :info [NODE], :goto WHEN, :ctx NAME)"
                ));
            }
        }
        None
    }

    pub(super) fn select_node_matching(&mut self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        let Some(m) = self.model() else { return false };
        let Some(idx) = m.nodes.iter().position(|n| node_matches(n, &needle)) else {
            return false;
        };
        if !self.node_order.contains(&idx) {
            self.filter.clear();
            self.rebuild_node_order();
        }
        if let Some(pos) = self.node_order.iter().position(|i| *i == idx) {
            self.node_cursor = pos;
        }
        self.focus = Pane::Nodes;
        true
    }

    /// Move the heatmap cursor to a slot (widening the window if needed) and select its owner.
    pub fn jump_to_slot(&mut self, slot: usize) {
        let slot = slot.min(SLOT_COUNT - 1);
        self.heat_cursor = slot;
        if slot < self.heat_start || slot >= self.heat_start + self.heat_len {
            self.heat_start = (slot / self.heat_len) * self.heat_len;
        }
        let owner = self
            .model()
            .and_then(|m| m.slots.get(slot))
            .and_then(|e| e.owner)
            .map(|i| i as usize);
        if let Some(o) = owner
            && let Some(pos) = self.node_order.iter().position(|i| *i == o)
        {
            self.node_cursor = pos;
        }
        self.focus = Pane::Heatmap;
    }

    pub(super) fn on_activate(&mut self) {
        match self.focus {
            Pane::Nodes => {
                let key = self
                    .selected_node()
                    .and_then(|i| self.model().and_then(|m| m.nodes.get(i)))
                    .map(NodeKey::of);
                if let Some(k) = key {
                    self.mode = Mode::NodeDetail(k);
                    self.detail_scroll = 0;
                    self.viewport.forget_overlay();
                }
            }
            Pane::Findings => {
                let Some(f) = self.findings().get(self.finding_cursor).cloned() else {
                    return;
                };
                self.finding_expanded = !self.finding_expanded;
                if let Some(r) = f.slots.first() {
                    let slot = usize::from(r.start);
                    self.heat_cursor = slot;
                    if slot < self.heat_start || slot >= self.heat_start + self.heat_len {
                        self.heat_start = 0;
                        self.heat_len = SLOT_COUNT;
                    }
                }
                if let Some(id) = f.nodes.first() {
                    let _ = self.select_node_matching(&id.0);
                    self.focus = Pane::Findings;
                } else if let Some(a) = f.addresses.first() {
                    let _ = self.select_node_matching(a);
                    self.focus = Pane::Findings;
                }
            }
            Pane::Heatmap => self.zoom(true),
            Pane::Migrations => {
                let slot = self
                    .model()
                    .and_then(|m| m.open_slots.get(self.migration_cursor))
                    .map(|o| usize::from(o.slot));
                if let Some(s) = slot {
                    self.jump_to_slot(s);
                }
            }
            Pane::Timeline => {}
        }
    }

    /// The heatmap grid as it was last drawn, for the window the app holds now. Before the
    /// first draw, a map eight rows high across the terminal is assumed.
    #[must_use]
    pub fn heat_grid(&self) -> HeatGrid {
        let map = self.viewport.heat_map().unwrap_or(Rect {
            y: 1,
            height: 6,
            ..Rect::new(0, 0, self.size.0, 8)
        });
        HeatGrid::new(map, self.heat_start, self.heat_len, self.is_mono())
    }

    pub(super) fn zoom(&mut self, zoom_in: bool) {
        let grid = self.heat_grid();
        if zoom_in {
            if grid.bucket <= 1 {
                self.message = Some("fully zoomed in: one slot per cell".to_owned());
                return;
            }
            let new_len = (self.heat_len / 4).max(1);
            self.heat_len = new_len;
        } else {
            self.heat_len = (self.heat_len * 4).min(SLOT_COUNT);
        }
        let start = self.heat_cursor.saturating_sub(self.heat_len / 2);
        let start = start - start % (self.heat_len / 4).max(1);
        self.heat_start = start.min(SLOT_COUNT - self.heat_len);
    }

    pub(super) fn move_by(&mut self, delta: isize, vertical: bool) {
        // Overlays scroll; the panes under them keep their cursors.
        match self.mode {
            Mode::Help => {
                let max = self.viewport.help_max_scroll();
                self.help_scroll = scroll_by(self.help_scroll, delta, max);
                return;
            }
            Mode::NodeDetail(_) => {
                let max = self.viewport.detail_max_scroll();
                self.detail_scroll = scroll_by(self.detail_scroll, delta, max);
                return;
            }
            Mode::Output => {
                let max = self.viewport.output_max_scroll();
                if let Some(v) = self.console.output.as_mut() {
                    v.scroll = scroll_by(v.scroll, delta, max);
                }
                return;
            }
            _ => {}
        }
        let step = |cur: usize, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            cur.saturating_add_signed(delta).min(len - 1)
        };
        match self.focus {
            Pane::Heatmap => {
                let g = self.heat_grid();
                let unit = if vertical {
                    g.bucket * g.cols()
                } else {
                    g.bucket
                };
                let units = isize::try_from(unit).unwrap_or(1);
                let lo = self.heat_start;
                let hi = self.heat_start + self.heat_len - 1;
                let next = self
                    .heat_cursor
                    .saturating_add_signed(delta.saturating_mul(units))
                    .clamp(lo, hi);
                let next = if delta.unsigned_abs() > SLOT_COUNT {
                    if delta < 0 { lo } else { hi }
                } else {
                    next
                };
                self.heat_cursor = next;
            }
            Pane::Nodes => self.node_cursor = step(self.node_cursor, self.node_order.len()),
            Pane::Findings => {
                let n = self.findings().len();
                let before = self.finding_cursor;
                self.finding_cursor = step(self.finding_cursor, n);
                if before != self.finding_cursor {
                    self.finding_expanded = false;
                }
            }
            Pane::Migrations => {
                let n = self.model().map_or(0, |m| m.open_slots.len());
                self.migration_cursor = step(self.migration_cursor, n);
            }
            Pane::Timeline => {
                let n = self.visible_timeline().count();
                self.timeline_cursor = step(self.timeline_cursor, n);
            }
        }
    }
}
