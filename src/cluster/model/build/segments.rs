//! Step 5 of the build: the slot map by segments. A segment is a maximal run of slots on
//! which no view changes its mind; the views vote per segment, and the owner, and whether
//! it is disputed, hold for every slot of the segment.

use std::hash::Hasher as _;

use super::{Claim, Proto, View};
use crate::cluster::fasthash::{FxHasher, FxMap};
use crate::cluster::model::NodeSummary;
use crate::cluster::slots::{SLOT_COUNT, Slot, SlotRange, ranges_contain};

/// Each view's claims as sorted ranges. Identical claim lists (the common case: every
/// healthy view agrees) are kept once, with how many views hold them, so that voting and
/// disagreements cost O(distinct lists × segments), not O(views × segments).
pub(super) struct ClaimLists {
    /// The distinct claim lists, each sorted.
    pub(super) lists: Vec<Vec<Claim>>,
    /// Per view, the index of its list in `lists`.
    pub(super) of_view: Vec<usize>,
    /// Per distinct list: how many views hold it.
    weight: Vec<u32>,
    /// Per distinct list: how many of those views are members (an isolated node's table
    /// proves nothing about ownership).
    member_weight: Vec<u32>,
}

/// The views' claim lists as they are read, identical lists kept once.
#[derive(Default)]
pub(super) struct DistinctClaims {
    lists: Vec<Vec<Claim>>,
    of_view: Vec<usize>,
    by_hash: FxMap<u64, Vec<usize>>,
}

impl DistinctClaims {
    /// The next view's claims (sorted here; the buffer is left for reuse).
    pub(super) fn add(&mut self, c: &mut [Claim]) {
        c.sort_unstable_by_key(|c| (c.range.start, c.range.end, c.owner, c.epoch));
        let mut h = FxHasher::default();
        for x in c.iter() {
            h.write_u16(x.range.start);
            h.write_u16(x.range.end);
            h.write_usize(x.owner);
            h.write_u64(x.epoch);
        }
        let lists = &mut self.lists;
        let same = self.by_hash.entry(h.finish()).or_default();
        let d = if let Some(d) = same.iter().copied().find(|&d| lists[d] == *c) {
            d
        } else {
            lists.push(c.to_vec());
            same.push(lists.len() - 1);
            lists.len() - 1
        };
        self.of_view.push(d);
    }
}

impl ClaimLists {
    pub(super) fn new(
        distinct: DistinctClaims,
        views: &[View<'_>],
        summaries: &[NodeSummary],
    ) -> Self {
        let DistinctClaims { lists, of_view, .. } = distinct;
        let mut weight: Vec<u32> = vec![0; lists.len()];
        let mut member_weight: Vec<u32> = vec![0; lists.len()];
        for (vi, &d) in of_view.iter().enumerate() {
            weight[d] += 1;
            if !summaries[views[vi].node].isolated {
                member_weight[d] += 1;
            }
        }
        Self {
            lists,
            of_view,
            weight,
            member_weight,
        }
    }
}

/// The segments: every slot where some claim starts or ends after the previous slot.
pub(super) struct Segments {
    starts: Vec<Slot>,
}

impl Segments {
    pub(super) fn new(lists: &[Vec<Claim>]) -> Self {
        let mut cut = vec![false; SLOT_COUNT + 1];
        cut[0] = true;
        cut[SLOT_COUNT] = true;
        for c in lists.iter().flatten() {
            cut[usize::from(c.range.start)] = true;
            cut[usize::from(c.range.end) + 1] = true;
        }
        let starts: Vec<Slot> = (0..SLOT_COUNT)
            .filter(|&s| cut[s])
            .filter_map(|s| Slot::try_from(s).ok())
            .collect();
        Self { starts }
    }

    /// Number of segments.
    pub(super) fn len(&self) -> usize {
        self.starts.len()
    }

    /// The slots of segment `k`.
    pub(super) fn range(&self, k: usize) -> SlotRange {
        let start = self.starts[k];
        let end = self
            .starts
            .get(k + 1)
            .map_or(SLOT_COUNT - 1, |&n| usize::from(n) - 1);
        SlotRange::new(start, Slot::try_from(end).unwrap_or(start))
    }

    /// `f(segment, the claim of this sorted list naming it)` for every segment, walking the
    /// list in lock step.
    pub(super) fn walk(&self, claims: &[Claim], f: &mut dyn FnMut(usize, Option<&Claim>)) {
        let mut r = 0;
        for (k, &start) in self.starts.iter().enumerate() {
            while r < claims.len() && claims[r].range.end < start {
                r += 1;
            }
            let c = claims.get(r).filter(|c| c.range.start <= start);
            f(k, c);
        }
    }
}

/// Votes of all views on one segment: the first owner named inline (no allocation in
/// the common case of agreement), other owners in `more`.
#[derive(Default)]
struct Votes {
    first: Option<(usize, u32)>,
    more: Vec<(usize, u32)>,
}

impl Votes {
    /// `n` more views name `owner`.
    fn add(&mut self, owner: usize, n: u32) {
        match &mut self.first {
            None => self.first = Some((owner, n)),
            Some((o, c)) if *o == owner => *c += n,
            Some(_) => match self.more.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, c)) => *c += n,
                None => self.more.push((owner, n)),
            },
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(usize, u32)> {
        self.first.iter().chain(self.more.iter())
    }

    fn distinct(&self) -> usize {
        usize::from(self.first.is_some()) + self.more.len()
    }
}

/// The outcome of the vote, per segment.
pub(super) struct Election {
    /// The consensus owner (internal index), if any.
    pub(super) owner: Vec<Option<usize>>,
    /// Whether the views disagree about it.
    pub(super) disputed: Vec<bool>,
}

/// Per segment, the votes for each owner, and how many member views bind it to no master.
fn count_votes(lists: &ClaimLists, segs: &Segments) -> (Vec<Votes>, Vec<u32>) {
    let mut votes: Vec<Votes> = (0..segs.len()).map(|_| Votes::default()).collect();
    // Views (of cluster members: an isolated node's empty table proves nothing) that
    // bind the segment to no master.
    let mut unbound_by: Vec<u32> = vec![0; segs.len()];
    for (d, c) in lists.lists.iter().enumerate() {
        segs.walk(c, &mut |k, claim| match claim {
            Some(claim) => votes[k].add(claim.owner, lists.weight[d]),
            None => unbound_by[k] += lists.member_weight[d],
        });
    }
    (votes, unbound_by)
}

/// The owner of each segment: the owner most views name (ties go to the higher config
/// epoch), skipping a reachable node whose own view does not claim the segment.
pub(super) fn elect_owners(
    lists: &ClaimLists,
    segs: &Segments,
    protos: &[Proto<'_>],
    views: &[View<'_>],
    summaries: &[NodeSummary],
) -> Election {
    let (votes, unbound_by) = count_votes(lists, segs);
    let own_claims = |idx: usize| -> Option<&[SlotRange]> {
        protos[idx].view.map(|v| views[v].me.slots.as_slice())
    };
    let mut owner: Vec<Option<usize>> = Vec::with_capacity(segs.len());
    let mut disputed: Vec<bool> = Vec::with_capacity(segs.len());
    for (k, v) in votes.iter().enumerate() {
        let start = segs.starts[k];
        let elected = v
            .iter()
            .filter(|(o, _)| own_claims(*o).is_none_or(|r| ranges_contain(r, start)))
            .max_by(|(a, an), (b, bn)| {
                an.cmp(bn)
                    .then(summaries[*a].config_epoch.cmp(&summaries[*b].config_epoch))
                    .then(b.cmp(a))
            })
            .map(|(o, _)| *o);
        owner.push(elected);
        // "No owner" is an opinion too: a slot that some views bind to X and others to
        // nobody is not plainly served (e.g. a master every peer has forgotten still
        // claims its slots). The claimant stays the owner: it holds the keys.
        disputed.push(v.distinct() > 1 || (elected.is_some() && unbound_by[k] > 0));
    }
    Election { owner, disputed }
}

#[cfg(test)]
mod tests {
    use crate::cluster::model::testkit::*;

    #[test]
    fn disputed_ownership_and_epoch_ties() {
        let c_claims = "cccc 127.0.0.1:7002@17002 master - 0 100 9 connected 0-99 10923-16383";
        let a = table("a", &[], &[]);
        let b = table("b", &[], &[]);
        let a_in_c = "aaaa 127.0.0.1:7000@17000 master - 0 100 1 connected 100-5460";
        let c = table("c", &[], &[("c", c_claims), ("a", a_in_c)]);
        let s = snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
        ]);
        let m = ClusterModel::build(&s);
        assert_eq!(ranges_in(&m, SlotState::Disputed), "0-99");
        assert_eq!(owner_id(&m, 50), Some("aaaa"));
        assert_eq!(m.disagreements.len(), 1);
        let d = &m.disagreements[0];
        assert_eq!(
            (d.node.as_str(), format_ranges(&d.slots)),
            ("cccc", "0-99".to_owned())
        );
        assert_eq!(
            (d.its_owner.clone(), d.consensus_owner.clone()),
            (Some(id("cccc")), Some(id("aaaa")))
        );
        assert_eq!(
            (d.its_owner_epoch, d.consensus_owner_epoch),
            (Some(9), Some(1))
        );

        // Two views, one vote each: the higher config epoch wins.
        let s = snapshot_from_texts(&[("127.0.0.1:7000", Ok(&a)), ("127.0.0.1:7002", Ok(&c))]);
        let m = ClusterModel::build(&s);
        assert_eq!(owner_id(&m, 50), Some("cccc"));
        assert_eq!(m.slots[50].state, SlotState::Disputed);
        assert_eq!(owner_id(&m, 100), Some("aaaa"));
        assert_eq!(m.disagreements.len(), 1);
        assert_eq!(m.disagreements[0].node, id("aaaa"));
    }

    /// Captured on Redis 7.0.15 (4 masters, no replicas): `CLUSTER FORGET` of 32103 on the
    /// three other nodes. 32103 still claims 12288-16383 in its own view; the others list it
    /// no more, see those slots unbound and report `cluster_state:fail`.
    fn forgotten_snapshot(probe_victim: bool) -> ClusterSnapshot {
        let mut entries: Vec<(&str, Result<&str, ProbeError>)> = vec![
            ("127.0.0.1:32100", Ok(fixture!("forgotten_nodes_32100.txt"))),
            ("127.0.0.1:32101", Ok(fixture!("forgotten_nodes_32101.txt"))),
            ("127.0.0.1:32102", Ok(fixture!("forgotten_nodes_32102.txt"))),
        ];
        if probe_victim {
            entries.push(("127.0.0.1:32103", Ok(fixture!("forgotten_nodes_32103.txt"))));
        }
        snapshot_from_texts(&entries)
    }

    const FORGOTTEN: &str = "20d0b2eb0d25e5f04139703d30d29c315bb67819";

    #[test]
    fn master_forgotten_by_every_peer_is_disputed_not_served() {
        let m = ClusterModel::build(&forgotten_snapshot(true));
        assert_eq!(ranges_in(&m, SlotState::Served), "0-12287");
        assert_eq!(ranges_in(&m, SlotState::Disputed), "12288-16383");
        // The claimant stays the owner (it holds the keys): a fix must rejoin it, not rebind.
        assert_eq!(owner_id(&m, 16383), Some(FORGOTTEN));
        let v = m.node(&id(FORGOTTEN)).unwrap();
        assert_eq!(v.reachability, Reachability::Ok);
        assert!(!v.is_failing());
        assert!(v.peers.known_by.is_empty());
        assert_eq!(v.peers.unknown_to.len(), 3);
        assert_eq!(m.disagreements.len(), 3);
        assert!(m.disagreements.iter().all(|d| d.its_owner.is_none()
            && d.consensus_owner == Some(id(FORGOTTEN))
            && format_ranges(&d.slots) == "12288-16383"));
        assert_eq!(m.state_counts().get(&SlotState::Served), Some(&12288));
        // Seen without the victim's own view: nobody binds the slots.
        let m = ClusterModel::build(&forgotten_snapshot(false));
        assert_eq!(ranges_in(&m, SlotState::Uncovered), "12288-16383");
        assert!(m.node(&id(FORGOTTEN)).is_none());
    }

    #[test]
    fn unbound_in_an_isolated_view_is_no_dispute() {
        // A fresh node that knows only itself binds nothing; it proves nothing either.
        let fresh = "ffff 127.0.0.1:7009@17009 myself,master - 0 0 0 connected";
        let (a, b, c) = (
            table("a", &[], &[]),
            table("b", &[], &[]),
            table("c", &[], &[]),
        );
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
            ("127.0.0.1:7009", Ok(fresh)),
        ]));
        assert!(m.node(&id("ffff")).unwrap().isolated);
        assert_eq!(ranges_in(&m, SlotState::Served), "0-16383");
    }

    #[test]
    fn one_view_unbinding_a_range_disputes_it() {
        // B's view lost A's 0-99 (e.g. it missed an ADDSLOTS): the others still bind them.
        let a_short = "aaaa 127.0.0.1:7000@17000 master - 0 100 1 connected 100-5460";
        let (a, c) = (table("a", &[], &[]), table("c", &[], &[]));
        let b = table("b", &[], &[("a", a_short)]);
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
        ]));
        assert_eq!(ranges_in(&m, SlotState::Disputed), "0-99");
        assert_eq!(owner_id(&m, 0), Some("aaaa"));
        // A failing owner is worse than a dispute.
        let ca = "aaaa 127.0.0.1:7000@17000 master,fail - 0 100 1 connected 0-5460";
        let c = table("c", &[], &[("a", ca)]);
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Err(refused())),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
        ]));
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "0-5460");
    }
}
