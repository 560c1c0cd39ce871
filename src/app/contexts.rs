//! `:ctx` in the `:` command line: list the contexts of the config file, or switch the
//! dashboard to another one (`:ctx NAME`, Tab completes the name). Pure: the switch is an
//! [`Effect::SwitchContext`]; the event loop reads the file, stops the refresher and starts
//! one on the new context's seeds.

use super::{App, Effect};

/// The contexts the dashboard can switch to, as read when it started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contexts {
    /// Context names, sorted.
    pub names: Vec<String>,
    /// The context on screen, if the dashboard runs on one.
    pub current: Option<String>,
    /// Why there are none (no config file, a bad file), for `:ctx`.
    pub missing: Option<String>,
}

impl App {
    /// `:ctx` (list) or `:ctx NAME` (switch).
    pub(super) fn run_ctx_command(&mut self, name: Option<&str>) -> Option<Effect> {
        let c = &self.contexts;
        if c.names.is_empty() {
            self.message = Some(match &c.missing {
                Some(why) => format!("no contexts: {why}"),
                None => "no contexts to switch to here (see docs/connecting.md)".to_owned(),
            });
            return None;
        }
        let listed = c
            .names
            .iter()
            .map(|n| {
                if c.current.as_deref() == Some(n.as_str()) {
                    format!("{n} (current)")
                } else {
                    n.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let Some(name) = name else {
            self.message = Some(format!("contexts: {listed} · :ctx NAME switches"));
            return None;
        };
        if !c.names.iter().any(|n| n == name) {
            self.message = Some(format!("no context `{name}` (contexts: {listed})"));
            return None;
        }
        if self.fix_running() || self.abandoning_fix {
            self.message = Some("a fix is running: switch context once it has finished".to_owned());
            return None;
        }
        if self.recording.is_some() {
            self.message = Some("recording: stop it (R) before switching context".to_owned());
            return None;
        }
        self.message = Some(format!("switching to context {name}…"));
        Some(Effect::SwitchContext(name.to_owned()))
    }

    /// Tab after `ctx `: complete (or cycle through) the context names. Returns whether the
    /// input was a `ctx` line.
    pub(super) fn complete_context(&mut self) -> bool {
        let Some(word) = self.input.strip_prefix("ctx ") else {
            return false;
        };
        let word = word.trim();
        let names = &self.contexts.names;
        let next = match names.iter().position(|n| n == word) {
            Some(p) => names.get((p + 1) % names.len()),
            None => names.iter().find(|n| n.starts_with(word)),
        };
        if let Some(n) = next {
            self.input = format!("ctx {n}");
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sample::{self, SampleCase};

    fn app() -> App {
        let mut a = sample::app(SampleCase::Healthy, 120, 40);
        a.contexts = Contexts {
            names: vec!["prod".into(), "staging".into()],
            current: Some("staging".into()),
            missing: None,
        };
        a
    }

    #[test]
    fn ctx_lists_switches_and_refuses_unknown_names() {
        let mut a = app();
        assert_eq!(a.run_command("ctx"), None);
        let m = a.message.clone().unwrap_or_default();
        assert!(m.contains("prod, staging (current)"), "{m}");
        assert_eq!(
            a.run_command("ctx prod"),
            Some(Effect::SwitchContext("prod".into()))
        );
        assert_eq!(a.run_command("ctx nope"), None);
        let m = a.message.clone().unwrap_or_default();
        assert!(m.contains("no context `nope`") && m.contains("prod"), "{m}");
        let mut none = sample::app(SampleCase::Healthy, 120, 40);
        none.contexts.missing = Some("no config file at /x".into());
        assert_eq!(none.run_command("ctx prod"), None);
        assert!(
            none.message
                .unwrap_or_default()
                .contains("no config file at /x")
        );
    }

    #[test]
    fn tab_completes_context_names() {
        let mut a = app();
        a.input = "ctx st".into();
        assert!(a.complete_context());
        assert_eq!(a.input, "ctx staging");
        assert!(a.complete_context());
        assert_eq!(a.input, "ctx prod", "Tab again cycles");
        a.input = "info 127".into();
        assert!(!a.complete_context());
    }
}
