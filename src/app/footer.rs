//! The footer's key hints for the state on screen: the keymap's hints for the current scopes,
//! less those that would do nothing now (a hint never lies).

use super::keymap;
use super::{App, FixStage, Mode};

impl App {
    /// The `(key, word)` hints the footer shows now, in keymap order.
    #[must_use]
    pub fn footer_hints(&self) -> Vec<(String, &'static str)> {
        let scopes = self.scopes();
        let waiting = self.shown.is_none() && self.mode == Mode::Normal;
        let dialog = self.fix.as_ref().map(|d| (d.stage, d.runnable()));
        keymap::hints(&scopes)
            .into_iter()
            .filter(|(_, word)| {
                if waiting {
                    // Nothing observed yet: no pane has anything to act on.
                    return matches!(*word, "quit" | "help");
                }
                match (*word, dialog) {
                    ("fix", _) => !self.read_only && !self.findings().is_empty(),
                    // While a fix runs there are no buttons and no way back; advice only
                    // has one button (Cancel), nothing to switch to.
                    ("switch" | "press" | "back", Some((FixStage::Running, _)))
                    | ("switch", Some((FixStage::Confirm, false))) => false,
                    _ => true,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::color::ColorDepth;
    use super::super::sample::{self, SampleCase};
    use super::*;

    fn words(app: &App) -> Vec<&'static str> {
        app.footer_hints().into_iter().map(|(_, w)| w).collect()
    }

    #[test]
    fn the_waiting_screen_offers_only_quit_and_help() {
        let app = App::new(ColorDepth::Ansi16, Duration::from_secs(1), false, None);
        assert_eq!(words(&app), vec!["quit", "help"]);
    }

    #[test]
    fn no_fix_hint_when_nothing_is_wrong() {
        let healthy = sample::app(SampleCase::Healthy, 120, 40);
        assert!(healthy.findings().is_empty());
        assert!(!words(&healthy).contains(&"fix"), "{:?}", words(&healthy));
        assert!(words(&healthy).contains(&"details"));
        let mut healthy = healthy;
        healthy.open_fix_dialog();
        assert_eq!(
            healthy.message.as_deref(),
            Some("nothing to fix: no finding")
        );
        let down = sample::app(SampleCase::MasterDown, 120, 40);
        assert!(words(&down).contains(&"fix"), "{:?}", words(&down));
    }

    #[test]
    fn a_running_fix_offers_no_button_and_no_way_back() {
        let mut app = sample::app(SampleCase::MasterDown, 120, 40);
        app.open_fix_dialog();
        let d = app.fix.as_mut().expect("a dialog");
        d.stage = FixStage::Running;
        let w = words(&app);
        assert!(w.contains(&"quit"), "{w:?}");
        for lie in ["switch", "press", "back"] {
            assert!(!w.contains(&lie), "{lie} in {w:?}");
        }
    }
}
