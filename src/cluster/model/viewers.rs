//! [`Viewers`]: a compact list of node ids picked from one shared list, for the peer
//! opinions ([`super::PeerOpinion`]).
//!
//! Every node of an N-node cluster is listed by about every other node, so N lists of N ids
//! each (16 B per id) are 16 MiB at 1000 nodes, per list kind and per model. Here every list
//! of a model picks from one shared list of the viewing nodes (`Arc<[NodeId]>`, in view
//! order) and holds only which positions it picks, in whichever form is smallest: the
//! positions themselves (few picked), the positions left out (almost all picked, the usual
//! `known_by`), or one bit per viewer. A list of N - 1 ids of 1000 is then 4 bytes of picks.
//!
//! It reads like the `Vec<NodeId>` it replaces: `len`, `is_empty`, `iter` (ids in order, by
//! reference), `contains`, `first`; it compares, prints and serializes as that list of ids.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::cluster::types::NodeId;

/// How [`Viewers::picks`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The picked positions, ascending (a position may repeat: a view that lists a node
    /// twice names its viewer twice).
    Only,
    /// The positions left out, strictly ascending; every other position is picked.
    AllBut,
    /// One bit per position (`picks[p / 32] >> (p % 32) & 1`).
    Bits,
}

/// Ids picked from a shared list, in the list's order. See the module documentation.
#[derive(Clone)]
pub struct Viewers {
    all: Arc<[NodeId]>,
    picks: Box<[u32]>,
    len: u32,
    mode: Mode,
}

impl Default for Viewers {
    fn default() -> Self {
        Self {
            all: Arc::from(Vec::new()),
            picks: Box::default(),
            len: 0,
            mode: Mode::Only,
        }
    }
}

/// Position as an index (`u32` always fits a `usize` on the targets we build for).
fn at(p: u32) -> usize {
    p as usize
}

impl Viewers {
    /// The ids of `all` at `positions` (ascending; repeats are kept, and a list out of order
    /// is kept as it is). Positions past the end of `all` are ignored.
    #[must_use]
    pub fn pick(all: &Arc<[NodeId]>, positions: &[u32]) -> Self {
        let n = all.len();
        let kept: Vec<u32>;
        let positions = if positions.iter().all(|&p| at(p) < n) {
            positions
        } else {
            kept = positions.iter().copied().filter(|&p| at(p) < n).collect();
            &kept
        };
        let k = positions.len();
        let repeats = positions.windows(2).any(|w| w[0] >= w[1]);
        let bit_words = n.div_ceil(32);
        let len = u32::try_from(k).unwrap_or(u32::MAX);
        let (mode, picks): (Mode, Box<[u32]>) = if repeats || k <= bit_words.min(n - k) {
            (Mode::Only, positions.into())
        } else if n - k <= bit_words {
            (Mode::AllBut, complement(positions, n).into())
        } else {
            let mut bits = vec![0u32; bit_words];
            for &p in positions {
                bits[at(p) / 32] |= 1 << (p % 32);
            }
            (Mode::Bits, bits.into())
        };
        Self {
            all: Arc::clone(all),
            picks,
            len,
            mode,
        }
    }

    /// Every id of `all` except those at `left_out` (strictly ascending).
    #[must_use]
    pub fn all_but(all: &Arc<[NodeId]>, left_out: &[u32]) -> Self {
        Self::pick(all, &complement(left_out, all.len()))
    }

    /// Number of ids.
    #[must_use]
    pub fn len(&self) -> usize {
        at(self.len)
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ids, in order.
    #[must_use]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            all: &self.all,
            picks: &self.picks,
            mode: self.mode,
            next: 0,
            left: self.len(),
        }
    }

    /// The first id.
    #[must_use]
    pub fn first(&self) -> Option<&NodeId> {
        self.iter().next()
    }

    /// Whether `id` is one of them.
    #[must_use]
    pub fn contains(&self, id: &NodeId) -> bool {
        match self.mode {
            Mode::Only => self.picks.iter().any(|&p| self.all[at(p)] == *id),
            Mode::AllBut | Mode::Bits => self
                .all
                .iter()
                .enumerate()
                .any(|(p, x)| x == id && u32::try_from(p).is_ok_and(|p| self.picked(p))),
        }
    }

    /// Whether position `p` of the shared list is picked (modes `AllBut` and `Bits`).
    fn picked(&self, p: u32) -> bool {
        match self.mode {
            Mode::Only => self.picks.binary_search(&p).is_ok(),
            Mode::AllBut => self.picks.binary_search(&p).is_err(),
            Mode::Bits => self
                .picks
                .get(at(p) / 32)
                .is_some_and(|w| w >> (p % 32) & 1 == 1),
        }
    }

    /// The ids, copied out.
    #[must_use]
    pub fn to_vec(&self) -> Vec<NodeId> {
        self.iter().cloned().collect()
    }

    /// Heap bytes of the picks (the shared list not counted).
    #[must_use]
    pub fn picks_bytes(&self) -> usize {
        self.picks.len() * size_of::<u32>()
    }
}

/// Positions `0..n` not in `sorted` (strictly ascending).
fn complement(sorted: &[u32], n: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(n.saturating_sub(sorted.len()));
    let mut skip = sorted.iter().peekable();
    for p in 0..u32::try_from(n).unwrap_or(u32::MAX) {
        while skip.next_if(|&&s| s < p).is_some() {}
        if skip.next_if_eq(&&p).is_none() {
            out.push(p);
        }
    }
    out
}

/// The ids of a [`Viewers`], in order.
#[derive(Clone)]
pub struct Iter<'a> {
    all: &'a [NodeId],
    picks: &'a [u32],
    mode: Mode,
    /// `Only`: next index into `picks`; otherwise the next position of `all` to consider.
    next: usize,
    /// Ids still to yield.
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a NodeId;

    fn next(&mut self) -> Option<&'a NodeId> {
        if self.left == 0 {
            return None;
        }
        let p = match self.mode {
            Mode::Only => {
                let p = at(*self.picks.get(self.next)?);
                self.next += 1;
                p
            }
            Mode::AllBut => loop {
                let p = self.next;
                self.next += 1;
                let skipped = self
                    .picks
                    .binary_search(&u32::try_from(p).unwrap_or(u32::MAX))
                    .is_ok();
                if !skipped || p >= self.all.len() {
                    break p;
                }
            },
            Mode::Bits => loop {
                let p = self.next;
                self.next += 1;
                let word = self.picks.get(p / 32).copied().unwrap_or(u32::MAX);
                if (word >> (p % 32)) & 1 == 1 {
                    break p;
                }
            },
        };
        self.left -= 1;
        self.all.get(p)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Viewers {
    type Item = &'a NodeId;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl From<Vec<NodeId>> for Viewers {
    /// Every id of the list, in its order (its own shared list).
    fn from(ids: Vec<NodeId>) -> Self {
        let len = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        Self {
            all: Arc::from(ids),
            picks: Box::default(),
            len,
            mode: Mode::AllBut,
        }
    }
}

impl FromIterator<NodeId> for Viewers {
    fn from_iter<I: IntoIterator<Item = NodeId>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl PartialEq for Viewers {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Viewers {}

impl PartialEq<Vec<NodeId>> for Viewers {
    fn eq(&self, other: &Vec<NodeId>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Viewers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Viewers {
    /// As the list of ids (the form of the `Vec<NodeId>` it replaced).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Viewers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<NodeId>::deserialize(d).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Arc<[NodeId]> {
        (0..n).map(|i| NodeId::from(format!("n{i:03}"))).collect()
    }

    fn names(v: &Viewers) -> Vec<String> {
        v.iter().map(|i| i.as_str().to_owned()).collect()
    }

    #[test]
    fn every_form_reads_as_the_picked_list() {
        let all = ids(100);
        let cases: Vec<Vec<u32>> = vec![
            vec![],
            vec![3],
            vec![0, 99],
            (0..100).collect(),
            (0..100).filter(|&p| p != 42).collect(),
            (0..100).filter(|&p| p % 2 == 0).collect(),
            (0..100).filter(|&p| p % 7 != 0).collect(),
            vec![5, 5, 7],
        ];
        for pos in cases {
            let v = Viewers::pick(&all, &pos);
            let want: Vec<NodeId> = pos.iter().map(|&p| all[p as usize].clone()).collect();
            assert_eq!(v.len(), want.len(), "{pos:?}");
            assert_eq!(v.is_empty(), want.is_empty());
            assert_eq!(v.iter().len(), want.len());
            assert_eq!(v.to_vec(), want, "{:?} {pos:?}", v.mode);
            assert_eq!(v, Viewers::from(want.clone()));
            assert_eq!(v.first(), want.first());
            for (p, id) in all.iter().enumerate() {
                assert_eq!(
                    v.contains(id),
                    pos.contains(&u32::try_from(p).unwrap()),
                    "{p} in {pos:?}"
                );
            }
            assert!(!v.contains(&NodeId::from("zzz")));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, serde_json::to_string(&want).unwrap());
            let back: Viewers = serde_json::from_str(&json).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn the_smallest_form_is_kept() {
        let all = ids(1000);
        let most: Vec<u32> = (0..1000).filter(|&p| p != 7).collect();
        let v = Viewers::pick(&all, &most);
        assert_eq!((v.mode, v.picks_bytes()), (Mode::AllBut, 4));
        let half: Vec<u32> = (0..1000).step_by(2).collect();
        let v = Viewers::pick(&all, &half);
        assert_eq!((v.mode, v.picks_bytes()), (Mode::Bits, 128));
        assert_eq!(names(&v).len(), 500);
        assert_eq!(Viewers::pick(&all, &[1, 2]).picks_bytes(), 8);
        let v = Viewers::all_but(&all, &[0, 999]);
        assert_eq!((v.len(), v.first()), (998, Some(&all[1])));
        // Positions past the shared list are ignored.
        assert_eq!(Viewers::pick(&ids(3), &[1, 3, 9]).len(), 1);
    }
}
