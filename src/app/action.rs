//! User intents ([`Action`], imperative) and work that needs I/O ([`Effect`]).

use super::console::NodeRequest;
use crate::fix::FixPlan;

/// What the user asked for. Produced by the keymap; applied by [`super::App::update`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Leave slotscope.
    Quit,
    /// Open or close the help overlay.
    ToggleHelp,
    /// Close the overlay / input / detail, or clear the filter.
    Back,
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Focus the slot heatmap.
    FocusHeatmap,
    /// Focus the node table.
    FocusNodes,
    /// Focus the findings.
    FocusFindings,
    /// Focus the migrations view.
    FocusMigrations,
    /// Focus the timeline.
    FocusTimeline,
    /// Show the focused pane alone (and back).
    ToggleFullscreen,
    /// Move up (row / heatmap row).
    MoveUp,
    /// Move down.
    MoveDown,
    /// Move left (heatmap: previous bucket).
    MoveLeft,
    /// Move right (heatmap: next bucket).
    MoveRight,
    /// Jump to the first row / slot.
    MoveTop,
    /// Jump to the last row / slot.
    MoveBottom,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// Drill in: node details, finding details, heatmap zoom to the bucket.
    Activate,
    /// Heatmap: zoom in around the cursor.
    ZoomIn,
    /// Heatmap: zoom out.
    ZoomOut,
    /// Heatmap: cycle health / owner / keys colouring.
    CycleMapMode,
    /// Node table: cycle the sort column.
    CycleSort,
    /// Start typing a node filter.
    StartFilter,
    /// Start typing a command (`:q`, `:node ADDR`, `:slot N`).
    StartCommand,
    /// Freeze / unfreeze the picture (collection continues).
    ToggleFreeze,
    /// Offer the fixes for the selected finding, slot or node.
    OpenFixDialog,
    /// Input line: apply.
    Submit,
    /// Input line: delete the last character.
    DeleteChar,
    /// Input line: add a character (not bound in the table: any printable key).
    InsertChar(char),
    /// Dialog: move focus to the next button.
    DialogNext,
    /// Dialog: move focus to the previous button.
    DialogPrev,
    /// Copy the selected finding, the plan in view or a command's output (OSC 52).
    Copy,
    /// Command line: the previous line of the history.
    HistoryPrev,
    /// Command line: the next line of the history.
    HistoryNext,
    /// Command line: complete the last word to a node address.
    Complete,
    /// Replay: one refresh back.
    ReplayPrev,
    /// Replay: one refresh forward.
    ReplayNext,
    /// Replay: back to the previous change of the findings.
    ReplayJumpBack,
    /// Replay: on to the next change of the findings.
    ReplayJumpForward,
    /// Start or stop recording the refreshes to a file.
    ToggleRecording,
    /// Write the refresh on screen, its `check --json` and a report into a directory.
    WriteSnapshot,
}

/// Work the event loop must do on behalf of the app (the app itself does no I/O).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Leave the loop and restore the terminal.
    Quit,
    /// Run this confirmed plan in a supervised executor task; its [`crate::fix::FixEvent`]s
    /// come back through [`super::App::on_fix_event`].
    ExecuteFix(Box<FixPlan>),
    /// Ask the refresher for a cycle now (after a fix, to show its effect at once).
    RequestRefresh,
    /// The user confirmed quitting while a fix runs: ask the executor to stop before its next
    /// step, and leave once it has stopped.
    AbandonFixAndQuit,
    /// Run read-only commands on one node, off the event loop; the reply comes back through
    /// [`super::App::on_node_reply`].
    NodeCommand(NodeRequest),
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    /// Recording and snapshots: files the session writes.
    Session(SessionEffect),
    /// `:ctx NAME`: restart the dashboard on this context of the config file.
    SwitchContext(String),
}

/// Files the dashboard writes on request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEffect {
    /// Start or stop recording.
    ToggleRecording,
    /// Write the postmortem snapshot of the refresh on screen.
    WriteSnapshot,
}
