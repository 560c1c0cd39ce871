//! The `:` command line's read-only node commands (`:info`, `:slowlog`, `:latency`, `:cmd`)
//! and the scrollable overlay their output opens in. Pure: a command line becomes a
//! [`NodeRequest`] (sent by the event loop, off the loop, on an always read-only connection)
//! or a refusal in words; the reply comes back through [`super::App::on_node_reply`].
//!
//! Which commands may be sent is not decided here: [`crate::cluster::commands::classify`]
//! is the one classifier, also behind the connection guard of `--read-only`.

use super::{Effect, Mode};
use crate::cluster::commands::{CommandClass, classify};
use crate::cluster::types::Endpoint;
use crate::cluster::{ClusterModel, NodeSummary};

/// Command lines kept for ↑↓ in the prompt.
pub const HISTORY_CAPACITY: usize = 100;

/// Node id prefixes shorter than this are not taken as a node (`:slowlog 5` means 5 entries).
pub const MIN_ID_PREFIX: usize = 6;

/// One node command the event loop runs: every command of `commands` in turn, on `endpoint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRequest {
    /// Matches the reply to the overlay that waits for it.
    pub id: u64,
    /// The node.
    pub endpoint: Endpoint,
    /// The commands, each name first (all of them [`CommandClass::Read`]).
    pub commands: Vec<Vec<String>>,
}

/// The reply to a [`NodeRequest`]: the output lines, or the error in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeReply {
    /// The request answered.
    pub id: u64,
    /// Output lines, or why there are none.
    pub result: Result<Vec<String>, String>,
}

/// The output overlay (`Mode::Output`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputView {
    /// `127.0.0.1:7000 · INFO replication`.
    pub title: String,
    /// The output (or the error, or a waiting line).
    pub lines: Vec<String>,
    /// First line shown.
    pub scroll: usize,
    /// The request still runs.
    pub pending: bool,
    /// The reply was an error.
    pub failed: bool,
    /// The request this view waits for.
    pub request: u64,
}

/// The prompt's history and the overlay.
#[derive(Clone, Debug, Default)]
pub struct Console {
    /// Command lines entered, oldest first.
    pub history: Vec<String>,
    /// Where ↑↓ is in the history (`None`: a new line).
    pub history_pos: Option<usize>,
    /// The output overlay, once a node command ran.
    pub output: Option<OutputView>,
    next_id: u64,
}

impl Console {
    /// Remember a command line (not twice in a row).
    pub fn remember(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() || self.history.last().is_some_and(|l| l == line) {
            return;
        }
        self.history.push(line.to_owned());
        if self.history.len() > HISTORY_CAPACITY {
            self.history.remove(0);
        }
    }

    /// ↑ (`older`) or ↓ in the history: the line to show, or `None` to keep the input.
    pub fn step_history(&mut self, older: bool) -> Option<String> {
        let n = self.history.len();
        if n == 0 {
            return None;
        }
        let pos = match (self.history_pos, older) {
            (None, true) => Some(n - 1),
            (None, false) => return None,
            (Some(p), true) => Some(p.saturating_sub(1)),
            (Some(p), false) if p + 1 < n => Some(p + 1),
            (Some(_), false) => None,
        };
        self.history_pos = pos;
        Some(pos.map_or_else(String::new, |p| self.history[p].clone()))
    }

    /// A new request id.
    pub fn next_request(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// A parsed node command: the node (as typed, if typed) and the commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// What the user typed for the node, if anything was taken as a node.
    pub node: Option<String>,
    /// The commands to send, name first.
    pub commands: Vec<Vec<String>>,
}

/// Whether `word` names a node of the model: `host:port` of a node, or a node id prefix of
/// at least [`MIN_ID_PREFIX`] hex digits that matches one node only.
#[must_use]
pub fn find_node<'a>(model: &'a ClusterModel, word: &str) -> Option<&'a NodeSummary> {
    if word.contains(':') {
        let w = word.trim_start_matches('[').to_ascii_lowercase();
        return model.nodes.iter().find(|n| {
            n.addr.to_string().to_ascii_lowercase() == w
                || n.addr
                    .hostname
                    .as_ref()
                    .is_some_and(|h| format!("{h}:{}", n.addr.port).eq_ignore_ascii_case(word))
        });
    }
    if word.len() < MIN_ID_PREFIX || !word.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let w = word.to_ascii_lowercase();
    let mut hits = model
        .nodes
        .iter()
        .filter(|n| n.id.as_ref().is_some_and(|i| i.0.starts_with(&w)));
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

/// Whether a word looks like it was meant as a node (an address or a long hex id prefix),
/// so a typo is reported instead of being sent as an argument.
#[must_use]
pub fn looks_like_node(word: &str) -> bool {
    word.rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
        || (word.len() >= MIN_ID_PREFIX
            && word.chars().all(|c| c.is_ascii_hexdigit())
            && !word.chars().all(|c| c.is_ascii_digit()))
}

/// The node commands of the `:` line: `info`, `slowlog`, `latency`, `cmd`. `None`: not a
/// node command (the caller tries its other commands).
#[must_use]
pub fn is_node_command(head: &str) -> bool {
    matches!(head, "info" | "slowlog" | "latency" | "cmd")
}

/// Parse a node command: `head` is one of [`is_node_command`], `rest` the words after it.
/// The first word is the node when it names one (see [`find_node`]).
///
/// # Errors
/// A message for the status line: a missing command, a node that is not in the cluster, a
/// command that is not a read.
pub fn parse(model: &ClusterModel, head: &str, rest: &[&str]) -> Result<Parsed, String> {
    let (node, args) = match rest.first() {
        Some(w) if find_node(model, w).is_some() => (Some((*w).to_owned()), &rest[1..]),
        Some(w) if (looks_like_node(w) && head != "cmd") || (head == "cmd" && w.contains(':')) => {
            return Err(format!("no node {w} in this cluster"));
        }
        _ => (None, rest),
    };
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
    let commands = match head {
        "info" => {
            let mut c = vec!["INFO".to_owned()];
            c.extend(owned(args));
            vec![c]
        }
        "slowlog" => {
            let n = match args {
                [] => 10,
                [n] => n
                    .parse::<u32>()
                    .map_err(|_| format!("not a number of entries: {n}"))?,
                _ => return Err("usage: :slowlog [NODE] [N]".to_owned()),
            };
            vec![vec!["SLOWLOG".to_owned(), "GET".to_owned(), n.to_string()]]
        }
        "latency" => {
            if !args.is_empty() {
                return Err("usage: :latency [NODE]".to_owned());
            }
            vec![
                vec!["LATENCY".to_owned(), "LATEST".to_owned()],
                vec!["LATENCY".to_owned(), "DOCTOR".to_owned()],
            ]
        }
        _ => {
            if args.is_empty() {
                return Err("usage: :cmd [NODE] COMMAND [ARG...] (read-only commands)".to_owned());
            }
            vec![owned(args)]
        }
    };
    for c in &commands {
        let class = classify(c);
        if class != CommandClass::Read {
            return Err(format!(
                "refused: {} is {}; the : line only sends reads (repairs go through x and \
                 their plans)",
                crate::cluster::commands::command_name(c),
                class.words()
            ));
        }
    }
    Ok(Parsed { node, commands })
}

/// The overlay title: `127.0.0.1:7000 · INFO replication`.
#[must_use]
pub fn title(endpoint: &Endpoint, commands: &[Vec<String>]) -> String {
    let cmds: Vec<String> = commands.iter().map(|c| c.join(" ")).collect();
    format!("{endpoint} · {}", cmds.join(" + "))
}

/// Complete the last word of a command line to a node address (Tab): the addresses of the
/// model's nodes that start with it, in the model's order, the one after `current` if it is
/// one of them.
#[must_use]
pub fn complete_address(model: &ClusterModel, input: &str) -> Option<String> {
    let (before, word) = match input.rsplit_once(' ') {
        Some((b, w)) => (format!("{b} "), w),
        None => return None,
    };
    let addrs: Vec<String> = model
        .nodes
        .iter()
        .filter_map(|n| n.addr.endpoint().map(|e| e.to_string()))
        .collect();
    let pos = addrs.iter().position(|a| a == word);
    let next = match pos {
        Some(p) => addrs.get((p + 1) % addrs.len()).cloned(),
        None => addrs.iter().find(|a| a.starts_with(word)).cloned(),
    }?;
    Some(format!("{before}{next}"))
}

impl super::App {
    /// Run a node command of the `:` line (`head` is one of [`is_node_command`]): refused in
    /// words on the status line, or sent (off the event loop) with the overlay waiting.
    pub(super) fn run_node_command(&mut self, head: &str, rest: &[&str]) -> Option<Effect> {
        let Some(model) = self.model() else {
            self.message = Some("no cluster observed yet: nothing to ask".to_owned());
            return None;
        };
        let parsed = match parse(model, head, rest) {
            Ok(p) => p,
            Err(e) => {
                self.message = Some(e);
                return None;
            }
        };
        let node = match &parsed.node {
            Some(w) => find_node(model, w),
            None => self.selected_node().and_then(|i| model.nodes.get(i)),
        };
        let Some(endpoint) = node.and_then(|n| n.addr.endpoint()) else {
            self.message = Some(
                "no node selected: name one (:info 127.0.0.1:7000) or select it in the node \
                 table"
                    .to_owned(),
            );
            return None;
        };
        let id = self.console.next_request();
        self.console.output = Some(OutputView {
            title: title(&endpoint, &parsed.commands),
            lines: vec!["waiting for the node…".to_owned()],
            scroll: 0,
            pending: true,
            failed: false,
            request: id,
        });
        self.viewport.forget_overlay();
        self.mode = Mode::Output;
        Some(Effect::NodeCommand(NodeRequest {
            id,
            endpoint,
            commands: parsed.commands,
        }))
    }

    /// The reply to a node command arrived. Returns whether the screen changes (a reply to
    /// an overlay already closed, or replaced, is dropped).
    pub fn on_node_reply(&mut self, reply: NodeReply) -> bool {
        let Some(v) = self
            .console
            .output
            .as_mut()
            .filter(|v| v.request == reply.id)
        else {
            return false;
        };
        v.pending = false;
        match reply.result {
            Ok(lines) if lines.is_empty() => v.lines = vec!["(empty reply)".to_owned()],
            Ok(lines) => v.lines = lines,
            Err(e) => {
                v.failed = true;
                v.lines = vec![format!("error: {e}")];
            }
        }
        true
    }

    /// ↑↓ in the prompt: walk the history.
    pub(super) fn prompt_history(&mut self, older: bool) {
        if let Some(line) = self.console.step_history(older) {
            self.input = line;
        }
    }

    /// Tab in the prompt: complete the last word to a node address.
    pub(super) fn prompt_complete(&mut self) {
        if self.complete_context() {
            return;
        }
        if let Some(m) = self.model()
            && let Some(line) = complete_address(m, &self.input)
        {
            self.input = line;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sample::{self, SampleCase};

    fn model() -> std::sync::Arc<ClusterModel> {
        let a = sample::app(SampleCase::Healthy, 120, 40);
        std::sync::Arc::clone(&a.shown.as_ref().expect("shown").model)
    }

    #[test]
    fn parses_the_node_and_the_commands() {
        let m = model();
        let addr = m.nodes[0].addr.to_string();
        let p = parse(&m, "info", &[addr.as_str(), "replication"]).expect("parses");
        assert_eq!(p.node.as_deref(), Some(addr.as_str()));
        assert_eq!(p.commands, vec![vec!["INFO", "replication"]]);
        let p = parse(&m, "info", &["memory"]).expect("parses");
        assert_eq!(p.node, None, "a section is not a node");
        let p = parse(&m, "slowlog", &["5"]).expect("parses");
        assert_eq!(p.commands, vec![vec!["SLOWLOG", "GET", "5"]]);
        let p = parse(&m, "latency", &[]).expect("parses");
        assert_eq!(p.commands.len(), 2);
        let p = parse(&m, "cmd", &["cluster", "countkeysinslot", "5"]).expect("parses");
        assert_eq!(p.commands, vec![vec!["cluster", "countkeysinslot", "5"]]);
    }

    #[test]
    fn an_id_prefix_names_a_node() {
        let m = model();
        let id = m.nodes[1].id.as_ref().expect("id").0.to_string();
        let p = parse(&m, "cmd", &[&id[..8], "DBSIZE"]).expect("parses");
        assert_eq!(p.node.as_deref(), Some(&id[..8]));
        assert_eq!(find_node(&m, &id[..3]).map(|n| n.addr.port), None);
    }

    #[test]
    fn writes_and_unknown_nodes_are_refused() {
        let m = model();
        for (head, rest) in [
            ("cmd", vec!["SET", "k", "v"]),
            ("cmd", vec!["flushall"]),
            ("cmd", vec!["CLUSTER", "SETSLOT", "5", "STABLE"]),
            ("cmd", vec!["config", "set", "maxmemory", "1"]),
            ("cmd", vec!["blpop", "l", "0"]),
        ] {
            let e = parse(&m, head, &rest).expect_err("refused");
            assert!(e.starts_with("refused: "), "{e}");
        }
        let e = parse(&m, "info", &["10.9.9.9:7000"]).expect_err("unknown node");
        assert!(e.contains("no node 10.9.9.9:7000"), "{e}");
        assert!(parse(&m, "cmd", &[]).is_err());
        assert!(parse(&m, "slowlog", &["x"]).is_err());
    }

    #[test]
    fn history_walks_back_and_forth() {
        let mut c = Console::default();
        c.remember("info");
        c.remember("info");
        c.remember("latency");
        assert_eq!(c.history.len(), 2);
        assert_eq!(c.step_history(true).as_deref(), Some("latency"));
        assert_eq!(c.step_history(true).as_deref(), Some("info"));
        assert_eq!(c.step_history(true).as_deref(), Some("info"));
        assert_eq!(c.step_history(false).as_deref(), Some("latency"));
        assert_eq!(c.step_history(false).as_deref(), Some(""));
        assert_eq!(c.step_history(false), None);
    }

    #[test]
    fn tab_completes_addresses() {
        let m = model();
        let a0 = m.nodes[0].addr.to_string();
        let a1 = m.nodes[1].addr.to_string();
        assert_eq!(
            complete_address(&m, "info 127.0.0"),
            Some(format!("info {a0}"))
        );
        assert_eq!(
            complete_address(&m, &format!("info {a0}")),
            Some(format!("info {a1}"))
        );
        assert_eq!(complete_address(&m, "info"), None);
    }
}
