//! `:ctx NAME`: the event loop's side of a context switch. The app asks for it
//! ([`crate::app::Effect::SwitchContext`]); [`ContextSwitch::start`] resolves the context
//! (reads the config file again, runs its password source) on a thread of its own while the
//! old refresher still runs and the loop keeps answering keys: a slow `password_command` never
//! freezes the screen, and one that has not answered within [`RESOLVE_TIMEOUT`] is given up.
//! [`ContextSwitch::finish`] takes the result: a context that cannot be used leaves the
//! dashboard as it was with the reason on the status line. Once resolved, the loop ends and [`super::run::run_dashboard_with`] stops the
//! refresher, the fix runner and the `:` line's pool, and starts them again on the new
//! context, keeping the terminal.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::run::DashboardOptions;
use crate::app::App;
use crate::app::contexts::Contexts;

/// Turns a context name into the dashboard's options for it.
pub type ResolveContext = Arc<dyn Fn(&str) -> Result<DashboardOptions, String> + Send + Sync>;

/// How long `:ctx NAME` waits for a context to resolve (its `password_command` above all).
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A context name and what resolving it gave.
pub type Resolved = (String, Result<DashboardOptions, String>);

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

    /// Resolve `name` on a detached thread (a hung `password_command` then holds up neither
    /// the loop nor the exit); a task of `tasks` waits for it, at most [`RESOLVE_TIMEOUT`], and
    /// sends the result on `tx` for [`ContextSwitch::finish`].
    pub fn start(&self, tasks: &mut JoinSet<()>, tx: mpsc::Sender<Resolved>, name: String) {
        let resolve = Arc::clone(&self.resolve);
        let (done, wait) = oneshot::channel();
        let n = name.clone();
        let spawned = std::thread::Builder::new()
            .name("ctx-resolve".to_owned())
            .spawn(move || {
                let _ = done.send(resolve(&n));
            });
        tasks.spawn(async move {
            let result = match spawned {
                Err(e) => Err(format!("cannot start resolving it: {e}")),
                Ok(_) => match tokio::time::timeout(RESOLVE_TIMEOUT, wait).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(_)) => Err("resolving it failed".to_owned()),
                    Err(_) => Err(format!(
                        "its password source did not answer within {} s",
                        RESOLVE_TIMEOUT.as_secs()
                    )),
                },
            };
            let _ = tx.send((name, result)).await;
        });
    }

    /// Take what resolving `name` gave: on success the app's loop ends (`switch_pending`) and
    /// the options wait for [`ContextSwitch::take`]; otherwise the reason goes to the status
    /// line. Returns whether the screen changed.
    pub fn finish(
        &self,
        app: &mut App,
        name: &str,
        resolved: Result<DashboardOptions, String>,
    ) -> bool {
        if app.should_quit {
            return false;
        }
        match resolved {
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
