//! The one keymap table. Dispatch, the footer hints, the help overlay and
//! `docs/keybindings.md` all read [`KEYMAP`], so a hint never lies.

use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// What Ctrl-C and `q` do while a fix runs (the help overlay and `docs/keybindings.md`).
pub const QUIT_WHILE_FIXING: &str = "While a fix runs, Ctrl-C (or q) first only warns: a second \
    Ctrl-C within 3 s abandons the fix after the step under way (the rest is not sent) and \
    quits. SIGTERM and SIGHUP end slotscope at once, terminal restored.";

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// In every mode, even dialogs and input lines.
    Always,
    /// Normal mode, whatever pane has focus.
    Global,
    /// Normal mode with the heatmap focused (checked before `Global`).
    Heatmap,
    /// Normal mode with the node table focused (checked before `Global`).
    Nodes,
    /// While the help overlay is open.
    Help,
    /// While a node's detail view is open.
    Detail,
    /// While typing a filter or a command.
    Input,
    /// While the fix chooser lists several plans (it captures every key).
    Chooser,
    /// While a confirmation dialog is open (it captures every key; in a plan that needs a
    /// typed word, printable keys are typed).
    Dialog,
    /// While a fix runs (checked before `Dialog`, whose keys apply too).
    Running,
    /// The fix dialog once the run is over: its result (done, refused, failed) stays on screen.
    Result,
    /// The output of a node command (`:info`, `:slowlog`, `:latency`, `:cmd`).
    Output,
}

impl Scope {
    /// Heading used in help and docs.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Always => "Everywhere",
            Self::Global => "Dashboard",
            Self::Heatmap => "Slot heatmap",
            Self::Nodes => "Node table",
            Self::Help => "Help overlay",
            Self::Detail => "Node detail",
            Self::Input => "Filter / command line",
            Self::Chooser => "Fix chooser (the plans for one finding)",
            Self::Dialog => "Fix dialog (confirmation, progress, result)",
            Self::Running => "While a fix runs (the fix dialog keys apply too)",
            Self::Result => "Fix result (after a run)",
            Self::Output => "Command output (:info, :slowlog, :latency, :cmd)",
        }
    }
}

/// A key with its modifiers (only CONTROL and ALT matter; SHIFT is in the character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// CONTROL / ALT.
    pub mods: KeyModifiers,
}

impl Key {
    /// A plain key.
    #[must_use]
    pub const fn plain(code: KeyCode) -> Self {
        Self {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    /// A character key.
    #[must_use]
    pub const fn ch(c: char) -> Self {
        Self::plain(KeyCode::Char(c))
    }

    /// A Ctrl chord.
    #[must_use]
    pub const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    /// Normalise a terminal key event for lookup.
    #[must_use]
    pub fn from_event(ev: &KeyEvent) -> Self {
        let mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            c => c,
        };
        Self { code, mods }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One row of the keymap table.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// Where it applies.
    pub scope: Scope,
    /// The key.
    pub key: Key,
    /// What it does.
    pub action: Action,
    /// Words for the help overlay and docs.
    pub label: &'static str,
    /// Short word for the footer, if it should appear there.
    pub hint: Option<&'static str>,
}

const fn b(
    scope: Scope,
    key: Key,
    action: Action,
    label: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        scope,
        key,
        action,
        label,
        hint,
    }
}

use Action as A;
use KeyCode as K;
use Scope as S;

/// The keymap. Order is the order of help, docs and hints.
pub static KEYMAP: &[Binding] = &[
    b(
        S::Always,
        Key::ctrl('c'),
        A::Quit,
        "quit (while a fix runs: press twice within 3 s)",
        None,
    ),
    b(S::Global, Key::ch('q'), A::Quit, "quit", Some("quit")),
    b(S::Global, Key::ch('?'), A::ToggleHelp, "help", Some("help")),
    b(
        S::Global,
        Key::plain(K::Esc),
        A::Back,
        "clear the filter / back",
        None,
    ),
    b(
        S::Global,
        Key::plain(K::Tab),
        A::FocusNext,
        "next pane",
        Some("pane"),
    ),
    b(
        S::Global,
        Key::plain(K::BackTab),
        A::FocusPrev,
        "previous pane",
        None,
    ),
    b(
        S::Global,
        Key::ch('1'),
        A::FocusHeatmap,
        "focus slot heatmap",
        None,
    ),
    b(
        S::Global,
        Key::ch('2'),
        A::FocusNodes,
        "focus node table",
        None,
    ),
    b(
        S::Global,
        Key::ch('3'),
        A::FocusFindings,
        "focus findings",
        None,
    ),
    b(
        S::Global,
        Key::ch('4'),
        A::FocusMigrations,
        "focus migrations",
        None,
    ),
    b(
        S::Global,
        Key::ch('5'),
        A::FocusTimeline,
        "focus timeline",
        None,
    ),
    b(
        S::Global,
        Key::ch('z'),
        A::ToggleFullscreen,
        "focused pane full screen / back",
        Some("full"),
    ),
    b(S::Global, Key::plain(K::Up), A::MoveUp, "up", None),
    b(S::Global, Key::ch('k'), A::MoveUp, "up", None),
    b(S::Global, Key::plain(K::Down), A::MoveDown, "down", None),
    b(S::Global, Key::ch('j'), A::MoveDown, "down", None),
    b(
        S::Global,
        Key::plain(K::Left),
        A::MoveLeft,
        "left (heatmap)",
        None,
    ),
    b(S::Global, Key::ch('h'), A::MoveLeft, "left (heatmap)", None),
    b(
        S::Global,
        Key::plain(K::Right),
        A::MoveRight,
        "right (heatmap)",
        None,
    ),
    b(
        S::Global,
        Key::ch('l'),
        A::MoveRight,
        "right (heatmap)",
        None,
    ),
    b(
        S::Global,
        Key::ch('g'),
        A::MoveTop,
        "first row / slot 0",
        None,
    ),
    b(
        S::Global,
        Key::plain(K::Home),
        A::MoveTop,
        "first row / slot 0",
        None,
    ),
    b(
        S::Global,
        Key::ch('G'),
        A::MoveBottom,
        "last row / slot 16383",
        None,
    ),
    b(
        S::Global,
        Key::plain(K::End),
        A::MoveBottom,
        "last row / slot 16383",
        None,
    ),
    b(S::Global, Key::plain(K::PageUp), A::PageUp, "page up", None),
    b(
        S::Global,
        Key::plain(K::PageDown),
        A::PageDown,
        "page down",
        None,
    ),
    b(
        S::Global,
        Key::plain(K::Enter),
        A::Activate,
        "details of the selection",
        Some("details"),
    ),
    b(
        S::Global,
        Key::ch('/'),
        A::StartFilter,
        "filter nodes",
        Some("filter"),
    ),
    b(
        S::Global,
        Key::ch(':'),
        A::StartCommand,
        "command line (:q :node :slot :info :slowlog :latency :cmd :goto :ctx)",
        Some("cmd"),
    ),
    b(
        S::Global,
        Key::ch('f'),
        A::ToggleFreeze,
        "freeze / unfreeze the picture",
        Some("freeze"),
    ),
    b(
        S::Global,
        Key::ch('x'),
        A::OpenFixDialog,
        "repair the worst finding (or the selected one)",
        Some("fix"),
    ),
    b(
        S::Global,
        Key::ch('y'),
        A::Copy,
        "copy the selected finding and its plan's commands (3 Findings) to the clipboard",
        None,
    ),
    b(
        S::Global,
        Key::ch('R'),
        A::ToggleRecording,
        "record the refreshes to a file (start / stop)",
        None,
    ),
    b(
        S::Global,
        Key::ch('P'),
        A::WriteSnapshot,
        "postmortem snapshot of this refresh (a new directory)",
        None,
    ),
    b(
        S::Global,
        Key::ch('['),
        A::ReplayPrev,
        "replay: previous refresh",
        None,
    ),
    b(
        S::Global,
        Key::ch(']'),
        A::ReplayNext,
        "replay: next refresh",
        None,
    ),
    b(
        S::Global,
        Key::ch('{'),
        A::ReplayJumpBack,
        "replay: previous change of the findings",
        None,
    ),
    b(
        S::Global,
        Key::ch('}'),
        A::ReplayJumpForward,
        "replay: next change of the findings",
        None,
    ),
    b(
        S::Heatmap,
        Key::ch('+'),
        A::ZoomIn,
        "zoom in around the cursor",
        Some("zoom"),
    ),
    b(
        S::Heatmap,
        Key::ch('='),
        A::ZoomIn,
        "zoom in around the cursor",
        None,
    ),
    b(S::Heatmap, Key::ch('-'), A::ZoomOut, "zoom out", None),
    b(
        S::Heatmap,
        Key::ch('m'),
        A::CycleMapMode,
        "colour by health / owner / keys / cpu / net (per-slot stats)",
        Some("mode"),
    ),
    b(
        S::Nodes,
        Key::ch('s'),
        A::CycleSort,
        "cycle sort column",
        Some("sort"),
    ),
    b(
        S::Help,
        Key::plain(K::Esc),
        A::Back,
        "close help",
        Some("close"),
    ),
    b(S::Help, Key::ch('?'), A::ToggleHelp, "close help", None),
    b(S::Help, Key::ch('q'), A::Back, "close help", None),
    b(S::Help, Key::plain(K::Up), A::MoveUp, "scroll up", None),
    b(S::Help, Key::ch('k'), A::MoveUp, "scroll up", None),
    b(
        S::Help,
        Key::plain(K::Down),
        A::MoveDown,
        "scroll down",
        Some("scroll"),
    ),
    b(S::Help, Key::ch('j'), A::MoveDown, "scroll down", None),
    b(S::Help, Key::plain(K::PageUp), A::PageUp, "page up", None),
    b(
        S::Help,
        Key::plain(K::PageDown),
        A::PageDown,
        "page down",
        None,
    ),
    b(S::Help, Key::ch('g'), A::MoveTop, "top", None),
    b(S::Help, Key::ch('G'), A::MoveBottom, "bottom", None),
    b(
        S::Detail,
        Key::plain(K::Esc),
        A::Back,
        "close",
        Some("close"),
    ),
    b(S::Detail, Key::ch('q'), A::Back, "close", None),
    b(S::Detail, Key::plain(K::Up), A::MoveUp, "scroll up", None),
    b(S::Detail, Key::ch('k'), A::MoveUp, "scroll up", None),
    b(
        S::Detail,
        Key::plain(K::Down),
        A::MoveDown,
        "scroll down",
        Some("scroll"),
    ),
    b(S::Detail, Key::ch('j'), A::MoveDown, "scroll down", None),
    b(S::Detail, Key::plain(K::PageUp), A::PageUp, "page up", None),
    b(
        S::Detail,
        Key::plain(K::PageDown),
        A::PageDown,
        "page down",
        None,
    ),
    b(S::Detail, Key::ch('g'), A::MoveTop, "top", None),
    b(S::Detail, Key::ch('G'), A::MoveBottom, "bottom", None),
    b(
        S::Detail,
        Key::ch('x'),
        A::OpenFixDialog,
        "offer fixes for this node",
        Some("fix"),
    ),
    b(
        S::Chooser,
        Key::plain(K::Enter),
        A::Submit,
        "show the plan under the cursor",
        Some("show"),
    ),
    b(
        S::Chooser,
        Key::plain(K::Up),
        A::MoveUp,
        "previous plan",
        None,
    ),
    b(S::Chooser, Key::ch('k'), A::MoveUp, "previous plan", None),
    b(
        S::Chooser,
        Key::plain(K::Down),
        A::MoveDown,
        "next plan",
        Some("choose"),
    ),
    b(S::Chooser, Key::ch('j'), A::MoveDown, "next plan", None),
    b(
        S::Chooser,
        Key::ch('y'),
        A::Copy,
        "copy the commands of the plan under the cursor",
        None,
    ),
    b(
        S::Chooser,
        Key::plain(K::Esc),
        A::Back,
        "back to the dashboard",
        Some("back"),
    ),
    b(
        S::Chooser,
        Key::ch('q'),
        A::Back,
        "back to the dashboard",
        None,
    ),
    b(
        S::Dialog,
        Key::plain(K::Tab),
        A::DialogNext,
        "switch between Cancel and Run",
        Some("switch"),
    ),
    b(
        S::Dialog,
        Key::plain(K::BackTab),
        A::DialogPrev,
        "switch between Cancel and Run",
        None,
    ),
    b(
        S::Dialog,
        Key::plain(K::Left),
        A::DialogPrev,
        "switch between Cancel and Run",
        None,
    ),
    b(
        S::Dialog,
        Key::plain(K::Right),
        A::DialogNext,
        "switch between Cancel and Run",
        None,
    ),
    b(
        S::Dialog,
        Key::plain(K::Enter),
        A::Submit,
        "press the focused button (focus starts on Cancel: Enter alone never runs a plan)",
        Some("press"),
    ),
    b(
        S::Dialog,
        Key::plain(K::Esc),
        A::Back,
        "back to the chooser (not while a fix runs)",
        Some("back"),
    ),
    b(S::Dialog, Key::plain(K::Up), A::MoveUp, "scroll up", None),
    b(
        S::Dialog,
        Key::plain(K::Down),
        A::MoveDown,
        "scroll down",
        Some("scroll"),
    ),
    b(S::Dialog, Key::plain(K::PageUp), A::PageUp, "page up", None),
    b(
        S::Dialog,
        Key::plain(K::PageDown),
        A::PageDown,
        "page down",
        None,
    ),
    b(
        S::Dialog,
        Key::plain(K::Backspace),
        A::DeleteChar,
        "delete a typed character (typed confirmation)",
        None,
    ),
    b(
        S::Dialog,
        Key::ch('y'),
        A::Copy,
        "copy the plan's commands, as shown (Ctrl-Y while a word is typed)",
        None,
    ),
    b(
        S::Dialog,
        Key::ctrl('y'),
        A::Copy,
        "copy the plan's commands, as shown (Ctrl-Y while a word is typed)",
        Some("copy"),
    ),
    b(
        S::Running,
        Key::ch('q'),
        A::Quit,
        "quit: warns; twice within 3 s abandons the fix after its step",
        Some("quit"),
    ),
    b(
        S::Result,
        Key::plain(K::Enter),
        A::Submit,
        "close the result",
        Some("close"),
    ),
    b(
        S::Result,
        Key::plain(K::Esc),
        A::Back,
        "close the result",
        None,
    ),
    b(S::Result, Key::ch('q'), A::Back, "close the result", None),
    b(S::Result, Key::plain(K::Up), A::MoveUp, "scroll up", None),
    b(
        S::Result,
        Key::plain(K::Down),
        A::MoveDown,
        "scroll down",
        Some("scroll"),
    ),
    b(S::Result, Key::ch('k'), A::MoveUp, "scroll up", None),
    b(S::Result, Key::ch('j'), A::MoveDown, "scroll down", None),
    b(S::Result, Key::plain(K::PageUp), A::PageUp, "page up", None),
    b(
        S::Result,
        Key::plain(K::PageDown),
        A::PageDown,
        "page down",
        None,
    ),
    b(
        S::Input,
        Key::plain(K::Esc),
        A::Back,
        "cancel",
        Some("cancel"),
    ),
    b(
        S::Input,
        Key::plain(K::Enter),
        A::Submit,
        "apply",
        Some("apply"),
    ),
    b(
        S::Input,
        Key::plain(K::Backspace),
        A::DeleteChar,
        "delete a character",
        None,
    ),
    b(
        S::Input,
        Key::plain(K::Up),
        A::HistoryPrev,
        "command line: previous command (history)",
        None,
    ),
    b(
        S::Input,
        Key::plain(K::Down),
        A::HistoryNext,
        "command line: next command (history)",
        None,
    ),
    b(
        S::Input,
        Key::plain(K::Tab),
        A::Complete,
        "command line: complete a node address",
        None,
    ),
    b(
        S::Output,
        Key::plain(K::Esc),
        A::Back,
        "close",
        Some("close"),
    ),
    b(S::Output, Key::ch('q'), A::Back, "close", None),
    b(S::Output, Key::plain(K::Up), A::MoveUp, "scroll up", None),
    b(S::Output, Key::ch('k'), A::MoveUp, "scroll up", None),
    b(
        S::Output,
        Key::plain(K::Down),
        A::MoveDown,
        "scroll down",
        Some("scroll"),
    ),
    b(S::Output, Key::ch('j'), A::MoveDown, "scroll down", None),
    b(S::Output, Key::plain(K::PageUp), A::PageUp, "page up", None),
    b(
        S::Output,
        Key::plain(K::PageDown),
        A::PageDown,
        "page down",
        None,
    ),
    b(S::Output, Key::plain(K::Home), A::MoveTop, "top", None),
    b(S::Output, Key::ch('g'), A::MoveTop, "top", None),
    b(S::Output, Key::plain(K::End), A::MoveBottom, "bottom", None),
    b(S::Output, Key::ch('G'), A::MoveBottom, "bottom", None),
    b(
        S::Output,
        Key::ch('y'),
        A::Copy,
        "copy the output to the clipboard",
        Some("copy"),
    ),
    b(
        S::Result,
        Key::ch('y'),
        A::Copy,
        "copy the plan's commands",
        None,
    ),
];

/// Find the action for a key in the given scopes (first scope wins). `Always` is checked first.
#[must_use]
pub fn lookup(scopes: &[Scope], key: Key) -> Option<Action> {
    std::iter::once(Scope::Always)
        .chain(scopes.iter().copied())
        .find_map(|s| {
            KEYMAP
                .iter()
                .find(|b| b.scope == s && b.key == key)
                .map(|b| b.action)
        })
}

/// Bindings that clash: the same key twice in one scope, or a pane scope shadowing a global
/// key, or anything shadowing an `Always` key.
#[must_use]
pub fn find_duplicates(table: &[Binding]) -> Vec<(Scope, Key)> {
    let overlaps = |a: Scope, b: Scope| {
        a == b
            || a == Scope::Always
            || b == Scope::Always
            || matches!(
                (a, b),
                (Scope::Global, Scope::Heatmap | Scope::Nodes)
                    | (Scope::Heatmap | Scope::Nodes, Scope::Global)
                    | (Scope::Dialog, Scope::Running)
                    | (Scope::Running, Scope::Dialog)
            )
    };
    let mut out = Vec::new();
    for (i, x) in table.iter().enumerate() {
        for y in &table[i + 1..] {
            if x.key == y.key && overlaps(x.scope, y.scope) {
                out.push((y.scope, y.key));
            }
        }
    }
    out
}

/// Footer hints for the given scopes: `(keys, word)`, keys of the same action joined by `/`.
#[must_use]
pub fn hints(scopes: &[Scope]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut ordered: Vec<Scope> = scopes
        .iter()
        .copied()
        .filter(|s| *s == Scope::Global)
        .collect();
    ordered.extend(scopes.iter().copied().filter(|s| *s != Scope::Global));
    for s in &ordered {
        for bnd in KEYMAP.iter().filter(|x| x.scope == *s) {
            if let Some(h) = bnd.hint {
                out.push((bnd.key.to_string(), h));
            }
        }
    }
    out
}

/// Help rows grouped by scope: `(scope, [(keys, label)])`, keys of one action joined by `/`.
#[must_use]
pub fn help_rows() -> Vec<(Scope, Vec<(String, &'static str)>)> {
    let mut out: Vec<(Scope, Vec<(String, &'static str)>)> = Vec::new();
    for bnd in KEYMAP {
        if out.last().is_none_or(|(s, _)| *s != bnd.scope) {
            out.push((bnd.scope, Vec::new()));
        }
        if let Some((_, rows)) = out.last_mut() {
            if let Some(row) = rows.iter_mut().find(|(_, l)| *l == bnd.label) {
                row.0.push('/');
                row.0.push_str(&bnd.key.to_string());
            } else {
                rows.push((bnd.key.to_string(), bnd.label));
            }
        }
    }
    out
}

/// The mouse and the clipboard (the help overlay and `docs/keybindings.md`).
pub const MOUSE_AND_CLIPBOARD: &str = "\n## Mouse and clipboard\n\n\
The mouse is captured unless slotscope runs with `--no-mouse`: a click focuses the pane under \
it and selects the slot (heatmap), the row (node table, findings, migrations, timeline) or \
the plan (fix chooser) there; the wheel scrolls the list or overlay under it. While the mouse \
is captured, hold Shift to select text with the mouse as usual (most terminals; \
Option/Alt in some macOS terminals).\n\n\
`y` copies to the clipboard with OSC 52 (works over SSH and in tmux with \
`set -g set-clipboard on`): in the findings, the selected finding with the commands of its \
recommended plan; in the fix chooser or a plan, the plan's commands exactly as shown \
(`redis-cli` lines, passwords masked as `***`: a password is never copied); in a command's \
output, the output. The status line says what was copied and how many bytes.\n";

/// The mouse, the clipboard and the `:` node commands in a few words (the `?` overlay).
pub const MOUSE_AND_COMMANDS_HELP: &str = "Mouse: a click focuses a pane and selects the slot \
or row under it; the wheel scrolls. While the mouse is captured, Shift+drag selects text \
(--no-mouse leaves the mouse to the terminal). y copies with OSC 52: the selected finding and \
its plan's commands, a plan's commands (as shown, passwords masked), a command's output. \
Node commands (reads only, never sent otherwise): :info [NODE] [SECTION] · :slowlog [NODE] [N] \
· :latency [NODE] · :cmd [NODE] COMMAND ARGS. NODE is host:port or an id prefix (6+ hex); \
without it, the node selected in the node table. Tab completes an address, ↑↓ the history.";

/// The node commands of the `:` line (`docs/keybindings.md`).
const NODE_COMMANDS: &str = "\
| `:info [NODE] [SECTION...]` | `INFO` of a node, in the output overlay |\n\
| `:slowlog [NODE] [N]` | `SLOWLOG GET N` (default 10) |\n\
| `:latency [NODE]` | `LATENCY LATEST` and `LATENCY DOCTOR` |\n\
| `:cmd [NODE] COMMAND [ARG...]` | any read-only command, e.g. `:cmd CLUSTER COUNTKEYSINSLOT 5` |\n\
\n\
NODE is a node's `host:port`, or a prefix of its id (at least 6 hex digits, matching one \
node); left out, the command goes to the node under the node-table cursor (which follows \
the heatmap cursor's owner). Tab completes a node address; ↑↓ walk the history.\n\n\
The `:` line only ever sends reads, with or without `--read-only`: one classifier of command \
names (`src/cluster/commands.rs`, an allow-list of commands that read) decides for it and for \
the `--read-only` guard of every connection. Writes, admin, blocking and dangerous commands \
(`SET`, `CONFIG SET`, `CLUSTER SETSLOT`, `BLPOP`, `MONITOR`, `KEYS`, `FLUSHALL`, ...) are \
refused on the status line and never sent; repairs go through `x` and their plans, which \
`--read-only` refuses as a whole. Commands run off the event loop on their own read-only \
connection, with the dashboard's connect and command timeouts: a node that does not answer \
shows the timeout in the overlay, the dashboard keeps running.\n";

/// The incident contract: the keys from launch to a repaired cluster (kept by
/// `tests/tui_incident_e2e.rs` in a real terminal).
const INCIDENT_CONTRACT: &str = "\n## The incident contract\n\n\
From launch, whatever pane has focus:\n\n\
1. `x` opens the repair chooser for the most severe finding that has a repair, with the \
recommended plan (★) under the cursor. When the cursor is on a slot or a node that has a \
finding of its own (or on a finding), the chooser is that finding's. One finding offers the \
same plans from every pane, and exactly one of them is recommended: the one that restores \
service with the least data loss (advice that sends nothing is recommended only when every \
plan that writes can lose data that a restart would keep). Where one cause made several \
findings, a plan that does the whole repair in order (e.g. hand out the slots of the dead \
masters, then forget them) is offered beside the single steps.\n\
2. `Enter` shows the plan: what it sends, its risk, its preconditions. Focus is on Cancel.\n\
3. If the plan can lose data, type the word it names (e.g. `lose-5462-slots`).\n\
4. `Tab` `Enter` runs it.\n\
5. `Enter` closes the result.\n\n\
`Esc` goes back one level: from a plan to the chooser, from the chooser to the dashboard. \
In the chooser `Enter` moves forward (it shows the plan); in a plan `Enter` presses the \
focused button, and focus starts on Cancel, so no plan runs without `Tab` first (and its \
typed word, if it has one).\n";

/// The heatmap's glyphs, from the slot states themselves (the same letters the map draws).
fn heatmap_legend() -> String {
    use crate::cluster::model::SlotState;
    let mut s = String::from(
        "\n## Slot heatmap legend\n\n\
         Each cell covers one or more slots and shows the worst state among them. In colour, \
         served slots are `▀` half-blocks and every other state keeps its letter on its colour \
         (colour adds, it never replaces the letter); without colour every state is its glyph. \
         At 120x40 and larger the legend is under the map; at 80x24 it opens the `?` overlay.\n\n\
         | Glyph | State |\n|---|---|\n",
    );
    for st in [
        SlotState::Served,
        SlotState::Migrating,
        SlotState::Disputed,
        SlotState::OwnerFailing,
        SlotState::Uncovered,
    ] {
        s.push_str(&format!("| `{}` | {} |\n", st.letter(), st.label()));
    }
    s.push_str("| `◆` | the cursor |\n");
    s.push_str(
        "\n`m` cycles the map through health, owner, keys, cpu and net. The level modes shade \
         each cell by its greatest slot against the largest slot (` ░▒▓█`, the same glyphs \
         without colour) and the legend gives the top of the scale. Keys are exact per slot \
         where every master answers `CLUSTER SLOT-STATS` (Valkey 8+, Redis 8.2+), else the \
         census estimate; cpu (µs) and net (bytes in and out) need `CLUSTER SLOT-STATS` with \
         `cluster-slot-stats-enabled yes` on every master and count from when that was enabled. \
         The stats are fetched every 30 s; where they are unavailable the legend says why.\n",
    );
    s
}

/// `docs/keybindings.md`, generated from the table.
#[must_use]
pub fn markdown() -> String {
    let mut s = String::from(
        "# Key bindings\n\n\
         Generated from `src/app/keymap.rs` (the table that also drives dispatch, the footer and \
         the `?` overlay). A test fails when this file drifts from the table; regenerate with \
         `UPDATE_DOCS=1 cargo test --lib app::keymap`.\n\n\
         In the filter and command lines, and in a fix dialog that asks for a typed word, every \
         other printable key is typed.\n",
    );
    s.push('\n');
    s.push_str(QUIT_WHILE_FIXING);
    s.push('\n');
    s.push_str(MOUSE_AND_CLIPBOARD);
    s.push_str(INCIDENT_CONTRACT);
    s.push_str(&heatmap_legend());
    for (scope, rows) in help_rows() {
        s.push_str(&format!(
            "\n## {}\n\n| Key | Action |\n|---|---|\n",
            scope.title()
        ));
        for (keys, label) in rows {
            let keys = keys.replace('|', "\\|");
            s.push_str(&format!("| `{keys}` | {label} |\n"));
        }
    }
    s.push_str(
        "\n## Commands (`:`)\n\n\
         | Command | Effect |\n|---|---|\n\
         | `:q` | quit |\n\
         | `:node ADDR` | select the node whose address or id contains ADDR |\n\
         | `:slot N` | move the heatmap cursor to slot N and show its owner |\n\
         | `:goto WHEN` | in a replay: show refresh N, `last`, `+SECONDS` after the start, \
         `HH:MM[:SS]` (UTC) or `YYYY-MM-DDTHH:MM:SSZ` |\n\
         | `:ctx [NAME]` | list the contexts of the config file; with NAME, switch the dashboard \
         to that context (Tab completes the name; see docs/connecting.md) |\n",
    );
    s.push_str(NODE_COMMANDS);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventKind;

    #[test]
    fn no_duplicate_bindings() {
        assert_eq!(find_duplicates(KEYMAP), Vec::new());
    }

    #[test]
    fn duplicate_detector_catches_clashes() {
        let t = [
            b(S::Global, Key::ch('q'), A::Quit, "a", None),
            b(S::Heatmap, Key::ch('q'), A::ZoomIn, "b", None),
            b(S::Help, Key::ch('q'), A::Back, "c", None),
            b(S::Detail, Key::ctrl('c'), A::Back, "d", None),
            b(S::Always, Key::ctrl('c'), A::Quit, "e", None),
        ];
        let d = find_duplicates(&t);
        assert_eq!(d.len(), 2, "{d:?}");
    }

    #[test]
    fn lookup_prefers_pane_then_global() {
        assert_eq!(
            lookup(&[S::Heatmap, S::Global], Key::ch('+')),
            Some(A::ZoomIn)
        );
        assert_eq!(lookup(&[S::Nodes, S::Global], Key::ch('+')), None);
        assert_eq!(lookup(&[S::Nodes, S::Global], Key::ch('q')), Some(A::Quit));
        assert_eq!(
            lookup(&[S::Input], Key::ch('q')),
            None,
            "input lines capture keys"
        );
        assert_eq!(lookup(&[S::Input], Key::ctrl('c')), Some(A::Quit));
    }

    #[test]
    fn shift_and_ctrl_are_normalised() {
        let g =
            KeyEvent::new_with_kind(KeyCode::Char('G'), KeyModifiers::SHIFT, KeyEventKind::Press);
        assert_eq!(Key::from_event(&g), Key::ch('G'));
        let c = KeyEvent::new(
            KeyCode::Char('C'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
        );
        assert_eq!(Key::from_event(&c), Key::ctrl('c'));
    }

    #[test]
    fn docs_match_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keybindings.md");
        let want = markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).expect("write docs");
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            have, want,
            "docs/keybindings.md drifted from the keymap; run UPDATE_DOCS=1 cargo test --lib app::keymap"
        );
    }

    #[test]
    fn every_action_in_help_has_a_label() {
        for bnd in KEYMAP {
            assert!(!bnd.label.is_empty());
        }
        assert!(markdown().contains("| `q` | quit |"));
    }
}
