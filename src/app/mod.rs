//! The dashboard: [`App`] owns every piece of view state and applies [`Action`]s; the event
//! loop ([`run`]) feeds it keys, snapshots and a slow clock; [`crate::ui`] draws `&App`.
//!
//! The app does no I/O. Work that needs I/O is returned as an [`Effect`].

pub mod action;
pub mod fix;
pub mod keymap;
pub mod run;
#[cfg(any(test, feature = "testkit"))]
pub mod sample;
pub mod terminal;
pub mod timeline;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

pub use action::{Action, Effect};
pub use fix::{DialogButton, FixDialog, FixStage, FixTarget};
pub use keymap::{KEYMAP, Key, Scope};
pub use run::{DashboardOptions, run_dashboard};
pub use timeline::{ChangeKind, TimelineEvent, diff_models};

use crate::cluster::{
    ClusterModel, ClusterSnapshot, Finding, NodeId, NodeSummary, Reachability, Role, SLOT_COUNT,
    Severity, Slot, diagnose,
};
use crate::ui::heatmap::HeatMode;
use crate::ui::theme::{ColorDepth, Theme};

/// Timeline entries kept in memory.
pub const TIMELINE_CAPACITY: usize = 500;

/// The panes, in Tab order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pane {
    /// The slot heatmap.
    Heatmap,
    /// The node table.
    Nodes,
    /// The findings.
    Findings,
    /// Open slots.
    Migrations,
    /// Changes between refreshes.
    Timeline,
}

impl Pane {
    /// Tab order.
    pub const ALL: [Pane; 5] = [
        Pane::Heatmap,
        Pane::Nodes,
        Pane::Findings,
        Pane::Migrations,
        Pane::Timeline,
    ];

    /// Title of the pane (with its number key).
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Heatmap => "1 Slots",
            Self::Nodes => "2 Nodes",
            Self::Findings => "3 Findings",
            Self::Migrations => "4 Migrations",
            Self::Timeline => "5 Timeline",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// What has the keyboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The dashboard.
    Normal,
    /// Help overlay.
    Help,
    /// Typing a node filter.
    Filter,
    /// Typing a `:` command.
    Command,
    /// One node's own view of the cluster (index into the model's nodes).
    NodeDetail(usize),
    /// The fix dialog ([`App::fix`]): it captures every key.
    Fix,
}

/// Sort order of the node table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NodeSort {
    /// Masters by first slot, each followed by its replicas (the model's order).
    #[default]
    Grouped,
    /// Worst health first.
    Health,
    /// Address.
    Address,
    /// Most slots first.
    Slots,
    /// Most keys first.
    Keys,
    /// Highest probe latency first.
    Latency,
}

impl NodeSort {
    /// Next in the `s` cycle.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::Grouped => Self::Health,
            Self::Health => Self::Address,
            Self::Address => Self::Slots,
            Self::Slots => Self::Keys,
            Self::Keys => Self::Latency,
            Self::Latency => Self::Grouped,
        }
    }

    /// Label for the pane title.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Grouped => "grouped",
            Self::Health => "health",
            Self::Address => "address",
            Self::Slots => "slots",
            Self::Keys => "keys",
            Self::Latency => "latency",
        }
    }
}

/// Progress of one open slot between refreshes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MigrationProgress {
    /// When the last sample was taken (Unix ms).
    pub at_ms: u64,
    /// Keys still at the source.
    pub source_keys: u64,
    /// Keys per second leaving the source (smoothed), once known.
    pub rate_per_s: Option<f64>,
}

/// Source and target of an open slot, as the markers say.
#[must_use]
pub fn migration_ends(o: &crate::cluster::OpenSlot) -> (Option<&NodeId>, Option<&NodeId>) {
    let source = o
        .migrating
        .first()
        .map(|(n, _)| n)
        .or_else(|| o.importing.first().map(|(_, s)| s));
    let target = o
        .migrating
        .first()
        .map(|(_, t)| t)
        .or_else(|| o.importing.first().map(|(n, _)| n));
    (source, target)
}

/// What is presented: one snapshot, its model and its diagnosis.
///
/// The model is shared ([`Arc`]): the app keeps the previous model for the timeline diff by
/// reference, never by copy.
#[derive(Clone, Debug)]
pub struct Presented {
    /// The raw snapshot (each node's own view lives here).
    pub snapshot: Arc<ClusterSnapshot>,
    /// Its model (shared with [`App`]'s timeline baseline).
    pub model: Arc<ClusterModel>,
    /// Its findings, most severe first.
    pub findings: Vec<Finding>,
    /// The verdict in words.
    pub verdict: String,
}

impl Presented {
    /// Build model, findings and verdict from a snapshot.
    #[must_use]
    pub fn from_snapshot(snapshot: Arc<ClusterSnapshot>) -> Self {
        let model = ClusterModel::build(&snapshot);
        let findings = diagnose(&model);
        Self::from_parts(snapshot, model, findings)
    }

    /// Assemble from parts already computed (tests and benchmarks use this too). The model may
    /// be given owned or already shared.
    #[must_use]
    pub fn from_parts(
        snapshot: Arc<ClusterSnapshot>,
        model: impl Into<Arc<ClusterModel>>,
        findings: Vec<Finding>,
    ) -> Self {
        let model = model.into();
        let verdict = crate::cluster::diagnose::verdict(&model, &findings);
        Self {
            snapshot,
            model,
            findings,
            verdict,
        }
    }
}

/// All dashboard state. Drawing reads it; only [`App::update`] and the `on_*` handlers change it.
#[derive(Debug)]
pub struct App {
    /// Semantic theme.
    pub theme: Theme,
    /// What is on screen.
    pub shown: Option<Presented>,
    /// Snapshots received while frozen (the newest is kept).
    pub pending: Option<Presented>,
    /// Snapshots received while frozen, counted.
    pub frozen_behind: u64,
    /// Freeze on.
    pub frozen: bool,
    /// What has the keyboard.
    pub mode: Mode,
    /// Focused pane.
    pub focus: Pane,
    /// Focused pane shown alone.
    pub fullscreen: bool,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    /// Heatmap colouring.
    pub heat_mode: HeatMode,
    /// Heatmap cursor (a slot).
    pub heat_cursor: usize,
    /// First slot of the heatmap window.
    pub heat_start: usize,
    /// Slots in the heatmap window (power of two).
    pub heat_len: usize,
    /// Node table: indices into `model.nodes` in display order (filter and sort applied).
    pub node_order: Vec<usize>,
    /// Node table cursor (index into `node_order`).
    pub node_cursor: usize,
    /// Node table sort.
    pub node_sort: NodeSort,
    /// Node filter (substring of address, id, role or flags).
    pub filter: String,
    /// Text being typed in filter / command mode.
    pub input: String,
    /// Findings cursor.
    pub finding_cursor: usize,
    /// Details of the selected finding expanded.
    pub finding_expanded: bool,
    /// Migrations cursor.
    pub migration_cursor: usize,
    /// Timeline cursor.
    pub timeline_cursor: usize,
    /// Scroll of the node detail view.
    pub detail_scroll: usize,
    /// Scroll of the help overlay.
    pub help_scroll: usize,
    /// Timeline, newest first.
    pub timeline: VecDeque<TimelineEvent>,
    /// Timeline length when frozen (newer entries are hidden until unfrozen).
    pub timeline_frozen_len: Option<usize>,
    /// Progress per open slot.
    pub migrations: BTreeMap<Slot, MigrationProgress>,
    /// Last model received (frozen or not), for timeline diffs: shared with the presented
    /// (or pending) snapshot, so at most one earlier model stays alive.
    last_model: Option<Arc<ClusterModel>>,
    /// Now (Unix ms), advanced by the clock.
    pub now_ms: u64,
    /// Refresh interval (for staleness).
    pub interval: Duration,
    /// The refresher has stopped publishing.
    pub refresher_stopped: bool,
    /// Why the last cycle could observe nothing at all, if it could not.
    pub observe_error: Option<String>,
    /// Fixes hidden and refused.
    pub read_only: bool,
    /// Banner (demo).
    pub banner: Option<String>,
    /// One-line message in the footer (command errors, hints).
    pub message: Option<String>,
    /// The fix dialog, while open (`Mode::Fix`).
    pub fix: Option<FixDialog>,
    /// Set by `Quit`.
    pub should_quit: bool,
    /// When Ctrl-C / `q` was first pressed while a fix runs (a second press within
    /// [`QUIT_CONFIRM_WINDOW`] abandons the fix).
    pub quit_armed_at_ms: Option<u64>,
    /// The user abandoned the running fix: it stops after its current step, then we quit.
    pub abandoning_fix: bool,
}

/// How long a first Ctrl-C / `q` during a fix waits for the second one.
pub const QUIT_CONFIRM_WINDOW: Duration = Duration::from_secs(3);

impl App {
    /// A new app with nothing observed yet.
    #[must_use]
    pub fn new(
        depth: ColorDepth,
        interval: Duration,
        read_only: bool,
        banner: Option<String>,
    ) -> Self {
        Self {
            theme: Theme::new(depth),
            shown: None,
            pending: None,
            frozen_behind: 0,
            frozen: false,
            mode: Mode::Normal,
            focus: Pane::Heatmap,
            fullscreen: false,
            size: (80, 24),
            heat_mode: HeatMode::Health,
            heat_cursor: 0,
            heat_start: 0,
            heat_len: SLOT_COUNT,
            node_order: Vec::new(),
            node_cursor: 0,
            node_sort: NodeSort::Grouped,
            filter: String::new(),
            input: String::new(),
            finding_cursor: 0,
            finding_expanded: false,
            migration_cursor: 0,
            timeline_cursor: 0,
            detail_scroll: 0,
            help_scroll: 0,
            timeline: VecDeque::new(),
            timeline_frozen_len: None,
            migrations: BTreeMap::new(),
            last_model: None,
            now_ms: 0,
            interval,
            refresher_stopped: false,
            observe_error: None,
            read_only,
            banner,
            message: None,
            fix: None,
            should_quit: false,
            quit_armed_at_ms: None,
            abandoning_fix: false,
        }
    }

    /// The model on screen.
    #[must_use]
    pub fn model(&self) -> Option<&ClusterModel> {
        self.shown.as_ref().map(|p| &*p.model)
    }

    /// The findings on screen.
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        self.shown.as_ref().map_or(&[], |p| p.findings.as_slice())
    }

    /// Age of the data on screen in ms.
    #[must_use]
    pub fn data_age_ms(&self) -> Option<u64> {
        self.shown
            .as_ref()
            .map(|p| self.now_ms.saturating_sub(p.snapshot.finished_at_ms))
    }

    /// Data older than three intervals (or the refresher stopped).
    #[must_use]
    pub fn is_stale(&self) -> bool {
        let limit = u64::try_from(self.interval.as_millis().saturating_mul(3))
            .unwrap_or(u64::MAX)
            .max(3000);
        self.refresher_stopped || self.data_age_ms().is_some_and(|a| a > limit)
    }

    /// Whether a node's data did not come from the snapshot on screen (or never came).
    #[must_use]
    pub fn node_is_stale(&self, n: &NodeSummary) -> bool {
        let Some(p) = &self.shown else { return true };
        match n.observed_at_ms {
            None => !matches!(n.reachability, Reachability::NotProbed),
            Some(at) => at < p.snapshot.started_at_ms,
        }
    }

    /// Visible timeline (frozen length applied).
    pub fn visible_timeline(&self) -> impl Iterator<Item = &TimelineEvent> {
        let skip = self
            .timeline_frozen_len
            .map_or(0, |n| self.timeline.len().saturating_sub(n));
        self.timeline.iter().skip(skip)
    }

    /// The node under the table cursor (index into the model's nodes).
    #[must_use]
    pub fn selected_node(&self) -> Option<usize> {
        self.node_order.get(self.node_cursor).copied()
    }

    /// A snapshot arrived from the refresher.
    pub fn on_snapshot(&mut self, snapshot: Arc<ClusterSnapshot>) {
        let p = Presented::from_snapshot(snapshot);
        self.on_presented(p);
    }

    /// A snapshot with its model and findings arrived (tests inject here directly).
    pub fn on_presented(&mut self, p: Presented) {
        let at = p.snapshot.finished_at_ms;
        self.now_ms = self.now_ms.max(at);
        if let Some(old) = &self.last_model {
            let events = diff_models(old, &p.model, at);
            for e in events {
                self.timeline.push_front(e);
            }
            self.timeline.truncate(TIMELINE_CAPACITY);
        }
        self.track_migrations(&p.model, at);
        // Shared, not copied: the baseline for the next diff is the model just received.
        self.last_model = Some(Arc::clone(&p.model));
        if self.frozen {
            self.pending = Some(p);
            self.frozen_behind += 1;
        } else {
            self.present(p);
        }
    }

    fn track_migrations(&mut self, model: &ClusterModel, at: u64) {
        let mut next = BTreeMap::new();
        for o in &model.open_slots {
            let (src, _) = migration_ends(o);
            let Some(keys) = src.and_then(|s| o.keys.get(s)).copied() else {
                continue;
            };
            let rate = match self.migrations.get(&o.slot) {
                Some(prev) if at > prev.at_ms => {
                    #[allow(clippy::cast_precision_loss)]
                    let dt = (at - prev.at_ms) as f64 / 1000.0;
                    #[allow(clippy::cast_precision_loss)]
                    let moved = prev.source_keys as f64 - keys as f64;
                    let r = (moved / dt).max(0.0);
                    Some(prev.rate_per_s.map_or(r, |old| 0.5 * old + 0.5 * r))
                }
                Some(prev) => prev.rate_per_s,
                None => None,
            };
            next.insert(
                o.slot,
                MigrationProgress {
                    at_ms: at,
                    source_keys: keys,
                    rate_per_s: rate,
                },
            );
        }
        self.migrations = next;
    }

    fn present(&mut self, p: Presented) {
        let keep = self
            .selected_node()
            .and_then(|i| self.model().and_then(|m| m.nodes.get(i)))
            .and_then(|n| n.id.clone());
        self.shown = Some(p);
        self.rebuild_node_order();
        if let Some(id) = keep
            && let Some(m) = self.model()
            && let Some(idx) = m.node_index(&id)
            && let Some(pos) = self.node_order.iter().position(|i| *i == idx as usize)
        {
            self.node_cursor = pos;
        }
        self.clamp_cursors();
    }

    /// Recompute the node table order from filter and sort.
    pub fn rebuild_node_order(&mut self) {
        let Some(m) = self.model() else {
            self.node_order.clear();
            return;
        };
        let needle = self.filter.to_lowercase();
        let mut order: Vec<usize> = m
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| needle.is_empty() || node_matches(n, &needle))
            .map(|(i, _)| i)
            .collect();
        let health = |n: &NodeSummary| -> u8 {
            if n.is_failing() {
                0
            } else if n.flags.pfail || !n.peers.pfail_by.is_empty() {
                1
            } else {
                2
            }
        };
        let keys = |n: &NodeSummary| n.info.as_ref().and_then(|i| i.keys).unwrap_or(0);
        let slots = |n: &NodeSummary| crate::cluster::ranges_len(&n.claimed_slots);
        let nodes = &m.nodes;
        let get = |i: &usize| nodes.get(*i);
        match self.node_sort {
            NodeSort::Grouped => {}
            NodeSort::Health => order.sort_by_key(|i| get(i).map(health)),
            NodeSort::Address => order.sort_by_key(|i| get(i).map(|n| n.addr.to_string())),
            NodeSort::Slots => order.sort_by_key(|i| std::cmp::Reverse(get(i).map(slots))),
            NodeSort::Keys => order.sort_by_key(|i| std::cmp::Reverse(get(i).map(keys))),
            NodeSort::Latency => {
                order.sort_by_key(|i| std::cmp::Reverse(get(i).and_then(|n| n.rtt_us)));
            }
        }
        self.node_order = order;
        self.clamp_cursors();
    }

    fn clamp_cursors(&mut self) {
        let max = |n: usize| n.saturating_sub(1);
        self.node_cursor = self.node_cursor.min(max(self.node_order.len()));
        self.finding_cursor = self.finding_cursor.min(max(self.findings().len()));
        let open = self.model().map_or(0, |m| m.open_slots.len());
        self.migration_cursor = self.migration_cursor.min(max(open));
        self.timeline_cursor = self.timeline_cursor.min(max(self.timeline.len()));
        self.heat_cursor = self.heat_cursor.min(SLOT_COUNT - 1);
    }

    /// The clock ticked. Returns whether anything on screen changes (the age label).
    pub fn on_tick(&mut self, now_ms: u64) -> bool {
        let before = self.data_age_ms().map(|a| a / 1000);
        let stale = self.is_stale();
        self.now_ms = now_ms;
        let window = u64::try_from(QUIT_CONFIRM_WINDOW.as_millis()).unwrap_or(u64::MAX);
        let disarmed = match self.quit_armed_at_ms {
            Some(at) if now_ms.saturating_sub(at) > window => {
                self.quit_armed_at_ms = None;
                self.message = None;
                true
            }
            _ => false,
        };
        disarmed || before != self.data_age_ms().map(|a| a / 1000) || stale != self.is_stale()
    }

    /// The refresher stopped publishing.
    pub fn on_refresher_stopped(&mut self) {
        self.refresher_stopped = true;
        self.message = Some("refresher stopped: data is no longer updated".to_owned());
    }

    /// The terminal was resized.
    pub fn on_resize(&mut self, w: u16, h: u16) {
        self.size = (w, h);
    }

    /// Scopes to look keys up in, most specific first.
    #[must_use]
    pub fn scopes(&self) -> Vec<Scope> {
        match self.mode {
            Mode::Normal => match self.focus {
                Pane::Heatmap => vec![Scope::Heatmap, Scope::Global],
                Pane::Nodes => vec![Scope::Nodes, Scope::Global],
                _ => vec![Scope::Global],
            },
            Mode::Help => vec![Scope::Help],
            Mode::Filter | Mode::Command => vec![Scope::Input],
            Mode::NodeDetail(_) => vec![Scope::Detail],
            Mode::Fix => match self.fix.as_ref().map(|d| d.stage) {
                Some(FixStage::Choose) => vec![Scope::Chooser],
                Some(FixStage::Running) => vec![Scope::Running, Scope::Dialog],
                Some(FixStage::Done) => vec![Scope::Result],
                _ => vec![Scope::Dialog],
            },
        }
    }

    /// Whether a confirmed fix is running right now.
    #[must_use]
    pub fn fix_running(&self) -> bool {
        self.fix
            .as_ref()
            .is_some_and(|d| d.stage == FixStage::Running)
    }

    /// Ctrl-C / `q` while a fix runs: the first press warns, a second one within
    /// [`QUIT_CONFIRM_WINDOW`] abandons the fix after its current step and quits.
    fn on_quit_while_fixing(&mut self) -> Option<Effect> {
        if self.abandoning_fix {
            self.message = Some(
                "abandoning the fix: waiting for the step under way to finish, then quitting…"
                    .to_owned(),
            );
            return None;
        }
        let window = u64::try_from(QUIT_CONFIRM_WINDOW.as_millis()).unwrap_or(u64::MAX);
        match self.quit_armed_at_ms {
            Some(at) if self.now_ms.saturating_sub(at) <= window => {
                self.quit_armed_at_ms = None;
                self.abandoning_fix = true;
                self.message = Some(
                    "abandoning the fix after the step under way (the rest is not sent), then \
                     quitting…"
                        .to_owned(),
                );
                Some(Effect::AbandonFixAndQuit)
            }
            _ => {
                self.quit_armed_at_ms = Some(self.now_ms);
                let step = self
                    .fix
                    .as_ref()
                    .and_then(|d| d.progress.step)
                    .map_or_else(|| "starting".to_owned(), |(n, of)| format!("step {n}/{of}"));
                self.message = Some(format!(
                    "a fix is running ({step}): press Ctrl-C again within {} s to abandon it \
                     after the current step",
                    QUIT_CONFIRM_WINDOW.as_secs()
                ));
                None
            }
        }
    }

    /// A key was pressed: look it up and apply it.
    pub fn on_key(&mut self, ev: KeyEvent) -> Option<Effect> {
        let key = Key::from_event(&ev);
        let action =
            keymap::lookup(&self.scopes(), key).or_else(|| match (&self.mode, ev.code) {
                (Mode::Filter | Mode::Command, KeyCode::Char(c)) if key.mods.is_empty() => {
                    Some(Action::InsertChar(c))
                }
                (Mode::Fix, KeyCode::Char(c))
                    if key.mods.is_empty()
                        && self.fix.as_ref().is_some_and(|d| {
                            d.stage == FixStage::Confirm && d.required_word().is_some()
                        }) =>
                {
                    Some(Action::InsertChar(c))
                }
                _ => None,
            })?;
        self.update(action)
    }

    /// Apply an action.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        if !matches!(action, Action::InsertChar(_) | Action::DeleteChar) {
            self.message = None;
        }
        if self.mode == Mode::Fix && action != Action::Quit {
            return self.on_fix_action(action);
        }
        match action {
            Action::Quit if self.fix_running() => return self.on_quit_while_fixing(),
            Action::Quit => {
                self.should_quit = true;
                return Some(Effect::Quit);
            }
            Action::ToggleHelp => {
                self.mode = if self.mode == Mode::Help {
                    Mode::Normal
                } else {
                    self.help_scroll = 0;
                    Mode::Help
                };
            }
            Action::Back => self.on_back(),
            Action::FocusNext => self.focus = Pane::ALL[(self.focus.index() + 1) % Pane::ALL.len()],
            Action::FocusPrev => {
                self.focus =
                    Pane::ALL[(self.focus.index() + Pane::ALL.len() - 1) % Pane::ALL.len()];
            }
            Action::FocusHeatmap => self.focus = Pane::Heatmap,
            Action::FocusNodes => self.focus = Pane::Nodes,
            Action::FocusFindings => self.focus = Pane::Findings,
            Action::FocusMigrations => self.focus = Pane::Migrations,
            Action::FocusTimeline => self.focus = Pane::Timeline,
            Action::ToggleFullscreen => self.fullscreen = !self.fullscreen,
            Action::MoveUp => self.move_by(-1, true),
            Action::MoveDown => self.move_by(1, true),
            Action::MoveLeft => self.move_by(-1, false),
            Action::MoveRight => self.move_by(1, false),
            Action::PageUp => self.move_by(-10, true),
            Action::PageDown => self.move_by(10, true),
            Action::MoveTop => self.move_by(isize::MIN / 2, false),
            Action::MoveBottom => self.move_by(isize::MAX / 2, false),
            Action::Activate => self.on_activate(),
            Action::ZoomIn => self.zoom(true),
            Action::ZoomOut => self.zoom(false),
            Action::CycleMapMode => self.heat_mode = self.heat_mode.next(),
            Action::CycleSort => {
                self.node_sort = self.node_sort.next();
                self.rebuild_node_order();
            }
            Action::StartFilter => {
                self.mode = Mode::Filter;
                self.input = self.filter.clone();
            }
            Action::StartCommand => {
                self.mode = Mode::Command;
                self.input.clear();
            }
            Action::ToggleFreeze => self.toggle_freeze(),
            Action::OpenFixDialog => self.open_fix_dialog(),
            Action::Submit => return self.on_submit(),
            Action::DeleteChar => {
                self.input.pop();
                if self.mode == Mode::Filter {
                    self.apply_filter();
                }
            }
            Action::InsertChar(c) => {
                self.input.push(c);
                if self.mode == Mode::Filter {
                    self.apply_filter();
                }
            }
            Action::DialogNext | Action::DialogPrev => {}
        }
        None
    }

    fn apply_filter(&mut self) {
        self.filter = self.input.trim().to_owned();
        self.node_cursor = 0;
        self.rebuild_node_order();
    }

    fn on_back(&mut self) {
        match self.mode {
            Mode::Help | Mode::NodeDetail(_) => self.mode = Mode::Normal,
            Mode::Fix => self.close_fix_dialog(),
            Mode::Command => {
                self.mode = Mode::Normal;
                self.input.clear();
            }
            Mode::Filter => {
                self.mode = Mode::Normal;
                self.input.clear();
                self.filter.clear();
                self.rebuild_node_order();
            }
            Mode::Normal => {
                if self.finding_expanded {
                    self.finding_expanded = false;
                } else if self.fullscreen {
                    self.fullscreen = false;
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                    self.rebuild_node_order();
                } else if self.heat_len < SLOT_COUNT && self.focus == Pane::Heatmap {
                    self.heat_len = SLOT_COUNT;
                    self.heat_start = 0;
                }
            }
        }
    }

    fn toggle_freeze(&mut self) {
        self.frozen = !self.frozen;
        if self.frozen {
            self.timeline_frozen_len = Some(self.timeline.len());
        } else {
            self.timeline_frozen_len = None;
            self.frozen_behind = 0;
            if let Some(p) = self.pending.take() {
                self.present(p);
            }
        }
    }

    fn on_submit(&mut self) -> Option<Effect> {
        match self.mode {
            Mode::Filter => {
                self.apply_filter();
                self.mode = Mode::Normal;
                self.focus = Pane::Nodes;
            }
            Mode::Command => {
                let cmd = std::mem::take(&mut self.input);
                self.mode = Mode::Normal;
                return self.run_command(cmd.trim());
            }
            _ => {}
        }
        None
    }

    /// Run a `:` command.
    pub fn run_command(&mut self, cmd: &str) -> Option<Effect> {
        let mut parts = cmd.split_whitespace();
        let head = parts.next().unwrap_or("");
        let arg = parts.next();
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
            ("help", _) => {
                self.help_scroll = 0;
                self.mode = Mode::Help;
            }
            ("", _) => {}
            _ => {
                self.message = Some(format!(
                    "unknown command :{cmd} (try :q, :node ADDR, :slot N)"
                ))
            }
        }
        None
    }

    fn select_node_matching(&mut self, needle: &str) -> bool {
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

    fn on_activate(&mut self) {
        match self.focus {
            Pane::Nodes => {
                if let Some(i) = self.selected_node() {
                    self.mode = Mode::NodeDetail(i);
                    self.detail_scroll = 0;
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

    fn heat_grid(&self) -> crate::ui::heatmap::HeatGrid {
        crate::ui::heat_grid(self)
    }

    fn zoom(&mut self, zoom_in: bool) {
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

    fn move_by(&mut self, delta: isize, vertical: bool) {
        // Overlays scroll; the panes under them keep their cursors.
        match self.mode {
            Mode::Help => {
                let max = crate::ui::help::help_max_scroll(self);
                self.help_scroll = self.help_scroll.saturating_add_signed(delta).min(max);
                return;
            }
            Mode::NodeDetail(i) => {
                let max = crate::ui::detail::detail_max_scroll(self, i);
                self.detail_scroll = self.detail_scroll.saturating_add_signed(delta).min(max);
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

    /// Counts for the header: nodes ok (answering, not flagged), failing (flagged or
    /// unreachable), masters, replicas. Nodes not probed are in neither of the first two.
    #[must_use]
    pub fn node_counts(&self) -> (usize, usize, usize, usize) {
        let Some(m) = self.model() else {
            return (0, 0, 0, 0);
        };
        let failing = m
            .nodes
            .iter()
            .filter(|n| !matches!(n.reachability, Reachability::NotProbed) && n.is_failing())
            .count();
        let masters = m.nodes.iter().filter(|n| n.role == Role::Master).count();
        let replicas = m.nodes.iter().filter(|n| n.role == Role::Replica).count();
        let ok = m
            .nodes
            .iter()
            .filter(|n| matches!(n.reachability, Reachability::Ok) && !n.is_failing())
            .count();
        (ok, failing, masters, replicas)
    }

    /// Worst finding severity.
    #[must_use]
    pub fn worst(&self) -> Option<Severity> {
        self.findings().iter().map(|f| f.severity).max()
    }
}

fn node_matches(n: &NodeSummary, needle: &str) -> bool {
    let role = match n.role {
        Role::Master => "master",
        Role::Replica => "replica",
        Role::Unknown => "unknown",
    };
    n.addr.to_string().to_lowercase().contains(needle)
        || n.id
            .as_ref()
            .is_some_and(|i| i.0.to_lowercase().starts_with(needle))
        || role.contains(needle)
        || (needle == "fail" && n.is_failing())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fix_tests;
