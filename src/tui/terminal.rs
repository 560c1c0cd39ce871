//! Terminal setup and restore (RAII), and the synchronized-update draw wrapper.

use std::io::Write;

use color_eyre::eyre::WrapErr;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};

use crate::app::App;

/// Owns the terminal in raw mode on the alternate screen; restores it when dropped.
///
/// `ratatui::try_init` also installs a panic hook that restores the terminal before the panic
/// report is printed (install `color_eyre` first so its hook runs after ours).
pub struct TerminalGuard {
    terminal: DefaultTerminal,
    mouse: bool,
}

impl std::fmt::Debug for TerminalGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TerminalGuard")
    }
}

impl TerminalGuard {
    /// Enter raw mode and the alternate screen, and capture the mouse if `mouse`.
    ///
    /// # Errors
    /// When the terminal cannot be set up (not a TTY).
    pub fn new(mouse: bool) -> color_eyre::Result<Self> {
        let mut terminal =
            ratatui::try_init().wrap_err("setting up the terminal (is stdout a TTY?)")?;
        if mouse {
            execute!(terminal.backend_mut(), EnableMouseCapture).wrap_err("capturing the mouse")?;
        }
        Ok(Self { terminal, mouse })
    }

    /// Current terminal size (columns, rows).
    ///
    /// # Errors
    /// When the size cannot be read.
    pub fn size(&self) -> color_eyre::Result<(u16, u16)> {
        let s = self.terminal.size().wrap_err("reading the terminal size")?;
        Ok((s.width, s.height))
    }

    /// Draw one frame inside a synchronized update, so a slow link never shows half a frame.
    ///
    /// # Errors
    /// When writing to the terminal fails.
    pub fn draw(&mut self, app: &App) -> color_eyre::Result<()> {
        execute!(self.terminal.backend_mut(), BeginSynchronizedUpdate).wrap_err("drawing")?;
        let r = self.terminal.draw(|f| crate::ui::draw(f, app)).map(|_| ());
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate).wrap_err("drawing")?;
        r.wrap_err("drawing")?;
        self.terminal.backend_mut().flush().wrap_err("drawing")?;
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if self.mouse {
            let _ = execute!(self.terminal.backend_mut(), DisableMouseCapture);
        }
        ratatui::restore();
    }
}
