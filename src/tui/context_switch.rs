//! `:ctx NAME`: the event loop's side of a context switch. The app asks for it
//! ([`crate::app::Effect::SwitchContext`]); [`ContextSwitch::switch`] resolves the context
//! (reads the config file again, runs its password source) while the old refresher still
//! runs, so a context that cannot be used leaves the dashboard as it was with the reason on the
//! status line. Once resolved, the loop ends and [`super::run::run_dashboard_with`] stops the
//! refresher, the fix runner and the `:` line's pool, and starts them again on the new
//! context, keeping the terminal.

use std::sync::{Arc, Mutex, PoisonError};

use super::run::DashboardOptions;
use crate::app::App;
use crate::app::contexts::Contexts;

/// Turns a context name into the dashboard's options for it.
pub type ResolveContext = Arc<dyn Fn(&str) -> Result<DashboardOptions, String> + Send + Sync>;

/// The contexts a dashboard can switch to, and the one chosen.
#[derive(Clone)]
pub struct ContextSwitch {
    resolve: ResolveContext,
    /// Names (or why there are none) and the current one, for the app.
    pub contexts: Contexts,
    chosen: Arc<Mutex<Option<(String, DashboardOptions)>>>,
}

impl std::fmt::Debug for ContextSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextSwitch")
            .field("contexts", &self.contexts)
            .finish_non_exhaustive()
    }
}

impl ContextSwitch {
    /// A switch over `contexts`, resolving names with `resolve`.
    #[must_use]
    pub fn new(contexts: Contexts, resolve: ResolveContext) -> Self {
        Self {
            resolve,
            contexts,
            chosen: Arc::default(),
        }
    }

    /// Resolve `name`: on success the app's loop ends (`switch_pending`) and the options wait
    /// for [`ContextSwitch::take`]; otherwise the reason goes to the status line. Returns
    /// whether the screen changed.
    pub fn switch(&self, app: &mut App, name: &str) -> bool {
        match (self.resolve)(name) {
            Ok(opts) => {
                *self.chosen.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((name.to_owned(), opts));
                app.switch_pending = true;
            }
            Err(e) => app.message = Some(format!("cannot switch to context {name}: {e}")),
        }
        true
    }

    /// The context chosen, once.
    #[must_use]
    pub fn take(&self) -> Option<(String, DashboardOptions)> {
        self.chosen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}
