//! The dashboard's state: [`App`] owns every piece of view state and applies [`Action`]s.
//! The event loop (in the terminal shell) feeds it keys, snapshots and a slow clock; the
//! drawing code draws `&App`.
//!
//! The app does no I/O and knows nothing of drawing. Work that needs I/O is returned as an
//! [`Effect`]; what a key needs to know of the last drawn screen (heatmap geometry, how far an
//! overlay scrolls) is read from the [`Viewport`] the draw records.

pub mod action;
pub mod color;
pub mod console;
pub mod contexts;
mod copy;
mod counts;
pub mod fix;
mod footer;
pub mod heat;
pub mod keymap;
mod mouse;
mod navigate;
mod node_order;
pub mod replay;
pub mod roles;
#[cfg(any(test, feature = "testkit"))]
pub mod sample;
pub mod timeline;
pub mod viewport;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

pub use action::{Action, Effect, SessionEffect};
pub use counts::NodeCounts;
pub use fix::{DialogButton, FixDialog, FixStage, FixTarget};
pub use keymap::{KEYMAP, Key, Scope};
pub use timeline::{ChangeKind, TimelineEvent, diff_models};
pub use viewport::Viewport;

use crate::cluster::slots::{SLOT_COUNT, Slot};
use crate::cluster::{
    ClusterModel, ClusterSnapshot, Finding, NodeAddr, NodeId, NodeSummary, Reachability, Severity,
    diagnose,
};
use color::ColorDepth;
use heat::HeatMode;

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
    /// One node's own view of the cluster (the node, found again in every new model).
    NodeDetail(NodeKey),
    /// The fix dialog ([`App::fix`]): it captures every key.
    Fix,
    /// The output of a node command (`:info`, ...), [`App::console`].
    Output,
}

/// A node as the user picked it, stable across refreshes (a failover reorders the model's
/// nodes): its id, or its address while no id is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKey {
    /// The node's cluster id.
    Id(NodeId),
    /// The node's address (no id known yet).
    Addr(NodeAddr),
}

impl NodeKey {
    /// The key of a node.
    #[must_use]
    pub fn of(n: &NodeSummary) -> Self {
        n.id.clone()
            .map_or_else(|| Self::Addr(n.addr.clone()), Self::Id)
    }

    /// Where the node is in a model's nodes, if it is still there.
    #[must_use]
    pub fn find(&self, model: &ClusterModel) -> Option<usize> {
        match self {
            Self::Id(id) => model.nodes.iter().position(|n| n.id.as_ref() == Some(id)),
            Self::Addr(a) => model
                .nodes
                .iter()
                .position(|n| n.id.is_none() && n.addr == *a),
        }
    }
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

/// What a new picture replaced: see [`App::take_retired`].
#[derive(Debug, Default)]
pub struct Retired {
    presented: Option<Presented>,
    model: Option<Arc<ClusterModel>>,
}

impl Retired {
    /// Whether nothing was replaced.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.presented.is_none() && self.model.is_none()
    }
}

/// All dashboard state. Drawing reads it; only [`App::update`] and the `on_*` handlers change it.
#[derive(Debug)]
pub struct App {
    /// The colour depth drawing uses.
    pub depth: ColorDepth,
    /// What the last draw learnt about the screen (read by the next key).
    pub viewport: Viewport,
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
    /// Master ↔ replica flips per node since the start.
    pub role_changes: roles::RoleChanges,
    /// The `:` line's history and the node command output overlay.
    pub console: console::Console,
    /// Clicks and the wheel are taken (off with `--no-mouse`: mouse reports are ignored).
    pub mouse: bool,
    /// Last model received (frozen or not), for timeline diffs: shared with the presented
    /// (or pending) snapshot, so at most one earlier model stays alive.
    last_model: Option<Arc<ClusterModel>>,
    /// What the last new picture replaced, for the terminal loop to free off its thread.
    retired: Retired,
    /// Now (Unix ms), advanced by the clock.
    pub now_ms: u64,
    /// Refresh interval (for staleness).
    pub interval: Duration,
    /// The refresher has stopped publishing.
    pub refresher_stopped: bool,
    /// Why the last cycle could observe nothing at all, if it could not.
    pub observe_error: Option<String>,
    /// Refresh cycles in a row that observed nothing (the waiting screen counts them).
    pub observe_failures: u32,
    /// Fixes hidden and refused.
    pub read_only: bool,
    /// Banner (demo).
    pub banner: Option<String>,
    /// The context's label and colour name (`PROD`, `red`), shown in the header.
    pub context_label: Option<(String, Option<String>)>,
    /// TLS without certificate verification (`--insecure`): a warning badge in the header.
    pub tls_insecure: bool,
    /// The contexts `:ctx` lists and switches to.
    pub contexts: contexts::Contexts,
    /// `:ctx NAME` was accepted: the loop ends and the dashboard restarts on that context.
    pub switch_pending: bool,
    /// What `redis-cli` lines of plans carry (user, masked password, TLS flags, remaps),
    /// exactly as `slotscope fix` prints them; see [`App::plan_cli_auth`].
    pub cli_auth: crate::fix::CliAuth,
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
    /// The recording on screen, in a replay.
    pub replay: Option<replay::Replay>,
    /// The recording being written, in the live dashboard.
    pub recording: Option<replay::RecordingStatus>,
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
            depth,
            viewport: Viewport::default(),
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
            role_changes: roles::RoleChanges::default(),
            console: console::Console::default(),
            mouse: true,
            last_model: None,
            retired: Retired::default(),
            now_ms: 0,
            interval,
            refresher_stopped: false,
            observe_error: None,
            observe_failures: 0,
            read_only,
            banner,
            context_label: None,
            tls_insecure: false,
            contexts: contexts::Contexts::default(),
            switch_pending: false,
            cli_auth: crate::fix::CliAuth::default(),
            message: None,
            fix: None,
            should_quit: false,
            quit_armed_at_ms: None,
            abandoning_fix: false,
            replay: None,
            recording: None,
        }
    }

    /// [`App::cli_auth`] naming the client of the cluster on screen (`valkey-cli` on Valkey).
    #[must_use]
    pub fn plan_cli_auth(&self) -> crate::fix::CliAuth {
        let mut auth = self.cli_auth.clone();
        auth.program = self
            .model()
            .and_then(|m| m.nodes.iter().find_map(|n| n.info.as_ref()))
            .map(crate::cluster::types::ServerInfo::cli);
        match self.model() {
            Some(m) => auth.with_hostnames(m),
            None => auth,
        }
    }

    /// Where slotscope connects for a node's announced address, when `--remap` or
    /// `--prefer-hostname` changes it. Called for every row of the node table on every frame:
    /// without either option it returns at once, and it never searches the model.
    #[must_use]
    pub fn connected_address(&self, n: &crate::cluster::model::NodeSummary) -> Option<String> {
        if !self.cli_auth.prefer_hostname && self.cli_auth.remap.is_empty() {
            return None;
        }
        let ep = n.addr.endpoint()?;
        let to = self.cli_auth.connected(&ep, n.addr.hostname.as_deref());
        (to != ep).then(|| to.to_string())
    }

    /// Whether drawing may use no colour at all.
    #[must_use]
    pub fn is_mono(&self) -> bool {
        self.depth == ColorDepth::Mono
    }

    /// The node of an open detail view, as an index into the model on screen.
    #[must_use]
    pub fn detail_node(&self) -> Option<usize> {
        match &self.mode {
            Mode::NodeDetail(k) => self.model().and_then(|m| k.find(m)),
            _ => None,
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

    /// Take what new pictures replaced (the previous model and snapshot). Freeing a
    /// 1000-node model takes tens of milliseconds, so the terminal loop hands it to another
    /// thread; whoever does not take it frees it with the next picture (at most one of each
    /// is held).
    pub fn take_retired(&mut self) -> Retired {
        std::mem::take(&mut self.retired)
    }

    /// A snapshot with its model and findings arrived (tests inject here directly).
    pub fn on_presented(&mut self, p: Presented) {
        let at = p.snapshot.finished_at_ms;
        self.now_ms = self.now_ms.max(at);
        if let Some(old) = &self.last_model {
            self.role_changes.observe(old, &p.model, at);
            let events = diff_models(old, &p.model, at);
            for e in events {
                self.timeline.push_front(e);
            }
            self.timeline.truncate(TIMELINE_CAPACITY);
        }
        self.track_migrations(&p.model, at);
        // Shared, not copied: the baseline for the next diff is the model just received.
        self.retired.model = self.last_model.replace(Arc::clone(&p.model));
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
                    let dt = (at - prev.at_ms) as f64 / 1000.0;
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

    pub(crate) fn present(&mut self, p: Presented) {
        let keep = self
            .selected_node()
            .and_then(|i| self.model().and_then(|m| m.nodes.get(i)))
            .and_then(|n| n.id.clone());
        self.retired.presented = self.shown.replace(p);
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
        if self.replay.is_some() {
            // A replay's clock is the refresh on screen.
            return false;
        }
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
            Mode::Output => vec![Scope::Output],
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
        // While a plan asks for a typed word, printable keys are typed (`y` included).
        let typing = self.mode == Mode::Fix
            && self
                .fix
                .as_ref()
                .is_some_and(|d| d.stage == FixStage::Confirm && d.required_word().is_some());
        if typing
            && key.mods.is_empty()
            && let KeyCode::Char(c) = ev.code
        {
            return self.update(Action::InsertChar(c));
        }
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
        if action == Action::Copy {
            return self.copy_selection();
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
                    self.viewport.forget_overlay();
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
            Action::HistoryPrev | Action::HistoryNext if self.mode == Mode::Command => {
                self.prompt_history(action == Action::HistoryPrev);
            }
            Action::Complete if self.mode == Mode::Command => self.prompt_complete(),
            Action::DialogNext
            | Action::DialogPrev
            | Action::Copy
            | Action::HistoryPrev
            | Action::HistoryNext
            | Action::Complete => {}
            Action::ReplayPrev => self.replay_step(false),
            Action::ReplayNext => self.replay_step(true),
            Action::ReplayJumpBack => self.replay_jump(false),
            Action::ReplayJumpForward => self.replay_jump(true),
            Action::ToggleRecording => {
                return Some(Effect::Session(SessionEffect::ToggleRecording));
            }
            Action::WriteSnapshot => return Some(Effect::Session(SessionEffect::WriteSnapshot)),
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
            Mode::Help | Mode::NodeDetail(_) | Mode::Output => self.mode = Mode::Normal,
            Mode::Fix => self.close_fix_dialog(),
            Mode::Command => {
                self.mode = Mode::Normal;
                self.input.clear();
                self.console.history_pos = None;
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
                self.console.remember(&cmd);
                self.console.history_pos = None;
                return self.run_command(cmd.trim());
            }
            _ => {}
        }
        None
    }

    /// Worst finding severity.
    #[must_use]
    pub fn worst(&self) -> Option<Severity> {
        self.findings().iter().map(|f| f.severity).max()
    }
}

#[cfg(test)]
mod tests;
