//! Running confirmed fixes for the event loop: each plan in its own supervised task, its
//! progress over a bounded channel, and the effects the app asks for carried out.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::app::{App, Effect};
use crate::fix::audit::ConfirmationGiven;
use crate::fix::executor::{EVENT_CHANNEL_CAPACITY, StopRequest};
use crate::fix::{Confirmation, Executor, FixEvent, FixOutcome, FixPlan};
use crate::refresh::RefreshControl;

/// Runs confirmed plans for the loop: each in its own task of a [`JoinSet`] (a panic there ends
/// the dashboard cleanly), progress over a bounded channel, refresh requests to the refresher.
#[derive(Debug)]
pub struct FixRunner {
    executor: Arc<Executor>,
    control: Option<RefreshControl>,
    tx: mpsc::Sender<FixEvent>,
    pub(super) rx: Option<mpsc::Receiver<FixEvent>>,
    /// The stop request of the latest run.
    stop: StopRequest,
}

impl FixRunner {
    /// A runner around an executor; `control` (when given) gets a refresh request after each
    /// run.
    #[must_use]
    pub fn new(executor: Arc<Executor>, control: Option<RefreshControl>) -> Self {
        let (tx, rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        Self {
            executor,
            control,
            tx,
            rx: Some(rx),
            stop: StopRequest::default(),
        }
    }

    fn spawn(&mut self, tasks: &mut JoinSet<()>, plan: FixPlan) {
        let ex = Arc::clone(&self.executor);
        let tx = self.tx.clone();
        self.stop = StopRequest::default();
        let stop = self.stop.clone();
        // The dialog runs a plan only after its confirmation: a plain yes, or the typed word.
        let given = match plan.confirmation {
            Confirmation::Simple => ConfirmationGiven::Plain,
            Confirmation::TypeWord(_) => ConfirmationGiven::TypedWord,
        };
        tasks.spawn(async move {
            let _ = ex.execute_confirmed(&plan, given, &tx, &stop).await;
        });
    }

    /// Ask the running fix (if any) to stop before its next step.
    pub fn stop_running(&self) {
        self.stop.request();
    }

    fn request_refresh(&self) {
        if let Some(c) = &self.control {
            c.request();
        }
    }
}

/// Carry out an effect that is not `Quit`. Returns whether the screen changed.
pub(super) fn on_effect(
    app: &mut App,
    fixes: Option<&mut FixRunner>,
    tasks: &mut JoinSet<()>,
    eff: Effect,
) -> bool {
    match (eff, fixes) {
        // The loop carries out `Quit` itself, node commands and copies in `run.rs`.
        (Effect::Quit | Effect::NodeCommand(_) | Effect::Copy(_), _) => false,
        (Effect::AbandonFixAndQuit, f) => {
            if let Some(f) = f {
                f.stop_running();
            }
            true
        }
        (Effect::ExecuteFix(plan), Some(f)) => {
            f.spawn(tasks, *plan);
            true
        }
        (Effect::ExecuteFix(_), None) => {
            let _ = app.on_fix_event(FixEvent::Finished(FixOutcome::Refused {
                reason: "no executor in this session".to_owned(),
            }));
            true
        }
        (Effect::SwitchContext(_), _) => {
            app.message = Some("contexts are not available in this session".to_owned());
            true
        }
        (Effect::Session(_), _) => {
            app.message = Some("recording is not available in this session".to_owned());
            true
        }
        (Effect::RequestRefresh, f) => {
            if let Some(f) = f {
                f.request_refresh();
            }
            false
        }
    }
}
