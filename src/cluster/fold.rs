//! Views folded as they arrive: a refresh keeps one table of the distinct `CLUSTER NODES`
//! lines it has seen, and each node's view becomes a sequence of indices into that table.
//!
//! In an N-node cluster every node lists every node, so N whole views hold N² lines (a
//! million `NodeLine`s at 1000 nodes, about 200 MiB). Nodes that agree print the same line
//! about a peer, so the distinct lines are about N plus one per disagreement (and one
//! `myself` line per node). A view is then stored as runs of consecutive table indices
//! (a view in the table's order is a handful of runs; a view in another order costs 4 bytes
//! per line), plus the `ping_sent` / `pong_recv` timestamps of the lines where they differ
//! from the table's line (the timestamps are left out when lines are compared, so that a
//! cluster whose nodes heard from their peers at different times still shares its lines).
//!
//! A folded view reads like the parsed one: [`ClusterNodes::lines`] gives the same lines in
//! the same order, [`ClusterNodes::timed`] adds each line's own timestamps, and two views
//! compare equal when those agree, folded or not. The table is shared (`Arc`) by every view
//! of the refresh and is readable once the [`Folder`] is finished or dropped.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash as _, Hasher as _};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::fasthash::FxHasher;
use super::intern::IdPool;
use super::types::{ClusterNodes, NodeId, NodeLine};

/// How a view's lines are held.
#[derive(Clone)]
pub(crate) enum Repr {
    /// Every line, as parsed.
    Full(Vec<NodeLine>),
    /// Indices into a refresh's table of distinct lines.
    Folded(FoldedView),
}

impl Default for Repr {
    fn default() -> Self {
        Self::Full(Vec::new())
    }
}

/// The distinct lines of a refresh, set when its [`Folder`] finishes.
type Table = Arc<OnceLock<Box<[NodeLine]>>>;

/// Marks a run in [`FoldedView::seq`]: the index is followed by the run's length.
const RUN: u32 = 1 << 31;

/// Lines that hash alike are compared against at most this many table lines (a node that
/// sends lines made to collide costs table space, never quadratic time).
const MAX_CHAIN: usize = 8;

/// One view as indices into the table.
#[derive(Clone)]
pub(crate) struct FoldedView {
    table: Table,
    /// Table indices: `i` (below [`RUN`]) is one line; `i | RUN, n` is lines `i..i + n`.
    seq: Box<[u32]>,
    len: u32,
    /// Position and table index of the first `myself` line.
    me: Option<(u32, u32)>,
    /// Lines whose timestamps differ from their table line's, by position.
    times: Box<[Times]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Times {
    pos: u32,
    ping_sent_ms: u64,
    pong_recv_ms: u64,
}

impl FoldedView {
    fn table(&self) -> &[NodeLine] {
        self.table.get().map_or(&[], |t| t)
    }
}

/// Folds the views of one refresh into one table of distinct lines.
pub struct Folder {
    lines: Vec<NodeLine>,
    /// The ids of the table's lines, shared (see [`super::intern`]).
    ids: IdPool,
    buckets: HashMap<u64, Vec<u32>, BuildHasherDefault<FxHasher>>,
    table: Table,
}

impl Default for Folder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Folder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Folder")
            .field("distinct_lines", &self.lines.len())
            .finish_non_exhaustive()
    }
}

impl Folder {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            ids: IdPool::new(),
            buckets: HashMap::default(),
            table: Arc::new(OnceLock::new()),
        }
    }

    /// Distinct lines so far.
    #[must_use]
    pub fn distinct_lines(&self) -> usize {
        self.lines.len()
    }

    /// The view as indices into this folder's table. Its lines read back once the folder
    /// is finished (or dropped). A view already folded is returned as it is.
    pub fn fold(&mut self, nodes: ClusterNodes) -> ClusterNodes {
        let lines = match nodes.repr {
            Repr::Full(lines) => lines,
            folded @ Repr::Folded(_) => return ClusterNodes { repr: folded },
        };
        // Positions and indices are u32; a reply that large is refused long before.
        let fits = u32::try_from(lines.len()).is_ok_and(|n| n < RUN)
            && u32::try_from(self.lines.len() + lines.len()).is_ok_and(|n| n < RUN);
        if !fits {
            return ClusterNodes {
                repr: Repr::Full(lines),
            };
        }
        let mut seq: Vec<u32> = Vec::new();
        let mut run: Option<(u32, u32)> = None;
        let mut times: Vec<Times> = Vec::new();
        let mut me: Option<(u32, u32)> = None;
        let len = lines.len();
        for (pos, line) in (0_u32..).zip(lines) {
            let (ping_sent_ms, pong_recv_ms) = (line.ping_sent_ms, line.pong_recv_ms);
            let myself = line.flags.myself;
            let idx = self.intern(line);
            if me.is_none() && myself {
                me = Some((pos, idx));
            }
            let t = &self.lines[idx as usize];
            if t.ping_sent_ms != ping_sent_ms || t.pong_recv_ms != pong_recv_ms {
                times.push(Times {
                    pos,
                    ping_sent_ms,
                    pong_recv_ms,
                });
            }
            run = match run {
                Some((start, n)) if start + n == idx => Some((start, n + 1)),
                Some(r) => {
                    push_run(&mut seq, r);
                    Some((idx, 1))
                }
                None => Some((idx, 1)),
            };
        }
        if let Some(r) = run {
            push_run(&mut seq, r);
        }
        ClusterNodes {
            repr: Repr::Folded(FoldedView {
                table: Arc::clone(&self.table),
                seq: seq.into_boxed_slice(),
                len: u32::try_from(len).unwrap_or(u32::MAX),
                me,
                times: times.into_boxed_slice(),
            }),
        }
    }

    /// Make the table readable by every view folded into it.
    pub fn finish(self) {
        drop(self);
    }

    /// The table index of a line equal to `line` but for its timestamps, adding it if new
    /// (its ids then shared with the table's other lines).
    fn intern(&mut self, mut line: NodeLine) -> u32 {
        let bucket = self.buckets.entry(key_hash(&line)).or_default();
        if let Some(&i) = bucket
            .iter()
            .find(|&&i| same_but_times(&self.lines[i as usize], &line))
        {
            return i;
        }
        let idx = u32::try_from(self.lines.len()).unwrap_or(u32::MAX);
        if bucket.len() < MAX_CHAIN {
            bucket.push(idx);
        }
        self.ids.intern_line(&mut line);
        self.lines.push(line);
        idx
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let lines = std::mem::take(&mut self.lines);
        let _ = self.table.set(lines.into_boxed_slice());
    }
}

fn push_run(seq: &mut Vec<u32>, (start, n): (u32, u32)) {
    if n == 1 {
        seq.push(start);
    } else {
        seq.push(start | RUN);
        seq.push(n);
    }
}

/// Hash of everything but the timestamps.
fn key_hash(l: &NodeLine) -> u64 {
    let mut h = FxHasher::default();
    l.id.hash(&mut h);
    l.addr.hash(&mut h);
    l.flags.hash(&mut h);
    l.master_id.hash(&mut h);
    l.config_epoch.hash(&mut h);
    l.link_connected.hash(&mut h);
    l.slots.hash(&mut h);
    l.markers.hash(&mut h);
    h.finish()
}

fn same_but_times(a: &NodeLine, b: &NodeLine) -> bool {
    a.id == b.id
        && a.addr == b.addr
        && a.flags == b.flags
        && a.master_id == b.master_id
        && a.config_epoch == b.config_epoch
        && a.link_connected == b.link_connected
        && a.slots == b.slots
        && a.markers == b.markers
}

/// The table indices of a folded view, in order.
struct Indices<'a> {
    seq: &'a [u32],
    at: usize,
    next: u32,
    left: u32,
}

impl Iterator for Indices<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.left == 0 {
            let &v = self.seq.get(self.at)?;
            if v & RUN == 0 {
                self.at += 1;
                return Some(v);
            }
            self.next = v & !RUN;
            self.left = self.seq.get(self.at + 1).copied().unwrap_or(0);
            self.at += 2;
            if self.left == 0 {
                return self.next();
            }
        }
        let i = self.next;
        self.next += 1;
        self.left -= 1;
        Some(i)
    }
}

/// The lines of a view, in order ([`ClusterNodes::lines`]). The timestamps of a folded line
/// are its table line's; [`ClusterNodes::timed`] gives the view's own.
pub struct Lines<'a> {
    inner: LinesInner<'a>,
}

enum LinesInner<'a> {
    Full(std::slice::Iter<'a, NodeLine>),
    Folded {
        table: &'a [NodeLine],
        idx: Indices<'a>,
        left: usize,
    },
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a NodeLine;

    fn next(&mut self) -> Option<&'a NodeLine> {
        match &mut self.inner {
            LinesInner::Full(it) => it.next(),
            LinesInner::Folded { table, idx, left } => {
                let line = table.get(idx.next()? as usize)?;
                *left = left.saturating_sub(1);
                Some(line)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            LinesInner::Full(it) => it.size_hint(),
            LinesInner::Folded { left, .. } => (0, Some(*left)),
        }
    }
}

/// A line with the view's own `ping_sent` and `pong_recv` ([`ClusterNodes::timed`]).
#[derive(Clone, Copy, Debug)]
pub struct TimedLine<'a> {
    pub line: &'a NodeLine,
    pub ping_sent_ms: u64,
    pub pong_recv_ms: u64,
}

/// The lines of a view with their own timestamps.
pub struct Timed<'a> {
    lines: Lines<'a>,
    pos: u32,
    times: &'a [Times],
}

impl<'a> Iterator for Timed<'a> {
    type Item = TimedLine<'a>;

    fn next(&mut self) -> Option<TimedLine<'a>> {
        let line = self.lines.next()?;
        let pos = self.pos;
        self.pos = self.pos.saturating_add(1);
        let (mut ping_sent_ms, mut pong_recv_ms) = (line.ping_sent_ms, line.pong_recv_ms);
        if let Some((t, rest)) = self.times.split_first()
            && t.pos == pos
        {
            ping_sent_ms = t.ping_sent_ms;
            pong_recv_ms = t.pong_recv_ms;
            self.times = rest;
        }
        Some(TimedLine {
            line,
            ping_sent_ms,
            pong_recv_ms,
        })
    }
}

impl ClusterNodes {
    /// A view of these lines, as parsed.
    #[must_use]
    pub fn new(lines: Vec<NodeLine>) -> Self {
        Self {
            repr: Repr::Full(lines),
        }
    }

    /// The lines in the order the node printed them. For a folded view, each line's
    /// `ping_sent_ms` / `pong_recv_ms` may be another view's: use [`Self::timed`] for those.
    #[must_use]
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            inner: match &self.repr {
                Repr::Full(l) => LinesInner::Full(l.iter()),
                Repr::Folded(f) => LinesInner::Folded {
                    table: f.table(),
                    idx: Indices {
                        seq: &f.seq,
                        at: 0,
                        next: 0,
                        left: 0,
                    },
                    left: f.len as usize,
                },
            },
        }
    }

    /// The lines with the view's own timestamps.
    #[must_use]
    pub fn timed(&self) -> Timed<'_> {
        Timed {
            lines: self.lines(),
            pos: 0,
            times: match &self.repr {
                Repr::Full(_) => &[],
                Repr::Folded(f) => &f.times,
            },
        }
    }

    /// Number of lines.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Full(l) => l.len(),
            Repr::Folded(f) => f.len as usize,
        }
    }

    /// Whether the view has no line.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the view is held as indices into a refresh's table.
    #[must_use]
    pub fn is_folded(&self) -> bool {
        matches!(self.repr, Repr::Folded(_))
    }

    /// The first line flagged `myself`.
    #[must_use]
    pub fn myself(&self) -> Option<&NodeLine> {
        self.myself_at().map(|(_, l)| l)
    }

    /// The position of the first line flagged `myself`, and the line.
    #[must_use]
    pub fn myself_at(&self) -> Option<(usize, &NodeLine)> {
        match &self.repr {
            Repr::Full(l) => l.iter().enumerate().find(|(_, l)| l.flags.myself),
            Repr::Folded(f) => {
                let (pos, idx) = f.me?;
                f.table().get(idx as usize).map(|l| (pos as usize, l))
            }
        }
    }

    /// The `ping_sent` and `pong_recv` of the line at `pos`, as this view gave them.
    #[must_use]
    pub fn times_at(&self, pos: usize) -> Option<(u64, u64)> {
        match &self.repr {
            Repr::Full(l) => l.get(pos).map(|l| (l.ping_sent_ms, l.pong_recv_ms)),
            Repr::Folded(f) => {
                let p = u32::try_from(pos).ok()?;
                match f.times.binary_search_by_key(&p, |t| t.pos) {
                    Ok(i) => f.times.get(i).map(|t| (t.ping_sent_ms, t.pong_recv_ms)),
                    Err(_) => self
                        .lines()
                        .nth(pos)
                        .map(|l| (l.ping_sent_ms, l.pong_recv_ms)),
                }
            }
        }
    }

    /// The line at `pos` with this view's own timestamps.
    #[must_use]
    pub fn line_at(&self, pos: usize) -> Option<NodeLine> {
        let (ping_sent_ms, pong_recv_ms) = self.times_at(pos)?;
        self.lines().nth(pos).map(|l| NodeLine {
            ping_sent_ms,
            pong_recv_ms,
            ..l.clone()
        })
    }

    /// The first line about a node id.
    #[must_use]
    pub fn get(&self, id: &NodeId) -> Option<&NodeLine> {
        self.lines().find(|l| &l.id == id)
    }

    /// Every line, with the view's own timestamps.
    #[must_use]
    pub fn to_lines(&self) -> Vec<NodeLine> {
        self.timed()
            .map(|t| NodeLine {
                ping_sent_ms: t.ping_sent_ms,
                pong_recv_ms: t.pong_recv_ms,
                ..t.line.clone()
            })
            .collect()
    }

    /// The lines of a view that is not folded, to edit in place.
    pub fn lines_mut(&mut self) -> Option<&mut Vec<NodeLine>> {
        match &mut self.repr {
            Repr::Full(l) => Some(l),
            Repr::Folded(_) => None,
        }
    }
}

impl From<Vec<NodeLine>> for ClusterNodes {
    fn from(lines: Vec<NodeLine>) -> Self {
        Self::new(lines)
    }
}

impl PartialEq for ClusterNodes {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.timed().zip(other.timed()).all(|(a, b)| {
                a.ping_sent_ms == b.ping_sent_ms && a.pong_recv_ms == b.pong_recv_ms && {
                    std::ptr::eq(a.line, b.line) || same_but_times(a.line, b.line)
                }
            })
    }
}

impl Eq for ClusterNodes {}

impl fmt::Debug for ClusterNodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterNodes")
            .field("lines", &self.to_lines())
            .finish()
    }
}

/// The serialized form: every line, folded or not.
#[derive(Serialize, Deserialize)]
#[serde(rename = "ClusterNodes")]
struct Plain {
    lines: Vec<NodeLine>,
}

impl Serialize for ClusterNodes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Plain {
            lines: self.to_lines(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClusterNodes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Plain::deserialize(d).map(|p| Self::new(p.lines))
    }
}

/// `CLUSTER NODES` text that parses back to this view's lines (with their own timestamps):
/// what a recording holds for a probe whose raw reply was not kept.
#[must_use]
pub fn to_text(nodes: &ClusterNodes) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(nodes.len() * 120);
    for t in nodes.timed() {
        let l = t.line;
        let _ = write!(s, "{} {}:{}@{}", l.id, l.addr.ip, l.addr.port, l.addr.cport);
        if let Some(h) = &l.addr.hostname {
            let _ = write!(s, ",{h}");
        }
        let flags = l.flags.names();
        let flags = if flags.is_empty() {
            "noflags".to_owned()
        } else {
            flags.join(",")
        };
        let master = l.master_id.as_ref().map_or("-", NodeId::as_str);
        let link = if l.link_connected {
            "connected"
        } else {
            "disconnected"
        };
        let _ = write!(
            s,
            " {flags} {master} {} {} {} {link}",
            t.ping_sent_ms, t.pong_recv_ms, l.config_epoch
        );
        for r in &l.slots {
            let _ = write!(s, " {r}");
        }
        for m in &l.markers {
            let arrow = match m.kind {
                super::types::MarkerKind::Migrating => "->-",
                super::types::MarkerKind::Importing => "-<-",
            };
            let _ = write!(s, " [{}{arrow}{}]", m.slot, m.peer);
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests;
