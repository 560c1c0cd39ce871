//! The model construction, [`build`], in seven steps, one file each:
//!
//! 1. [`views`]: one reachable view per node id;
//! 2. [`listing`]: every node any view lists, its peers' lines about it, each view's claims;
//! 3. [`failed`]: failed probes, attached to the node with that address;
//! 4. [`summary`]: one [`NodeSummary`] per node;
//! 5. [`segments`]: the slot map by segments (votes, owners, disputes), and [`open`] slots;
//! 6. [`order`]: display order and the final slot map, then key counts ([`open`]);
//! 7. [`disagreements`]: ranges where a view names another owner than the consensus.
//!
//! Everything works on internal node indices (insertion order) and is permuted into display
//! order at the end.
//!
//! Cost: O(lines of all views) to collect the nodes, O(nodes × views) for the
//! `unknown_to` lists, and O(views × (segments + ranges)) for the slot map, where a segment
//! is a maximal run of slots on which no view changes its mind. No per-slot allocation.
//! Memory beyond the model: per node its runs of peer listings (a few when the views agree),
//! per distinct claim list one copy; nothing per listing.

mod disagreements;
mod failed;
mod listing;
mod open;
mod order;
mod segments;
mod summary;
mod views;

use std::borrow::Cow;

use super::{ClusterModel, NodeSummary};
use crate::cluster::fasthash::{FxMap, IdKey};
use crate::cluster::slots::SlotRange;
use crate::cluster::types::{ClusterNodes, ClusterSnapshot, NodeId, NodeLine, ProbeError};

/// One reachable node's `CLUSTER NODES` view.
struct View<'a> {
    /// Internal index of the viewing node.
    node: usize,
    obs: usize,
    nodes: &'a ClusterNodes,
    me: &'a NodeLine,
    /// Position of `me` in the view.
    me_pos: usize,
    /// When the view was taken (for pong ages).
    at_ms: u64,
}

/// A node under construction.
#[derive(Default)]
struct Proto<'a> {
    id: Option<&'a NodeId>,
    /// Index into `views` of its own view.
    view: Option<usize>,
    /// Every peer view that lists it and the line each gives, in view order, as runs of
    /// consecutive views giving one line object. The views of a refresh share one object per
    /// distinct line (`cluster::fold`), and every view lists about every node, so at 1000
    /// nodes a node has a handful of runs (two when all agree: the views before its own and
    /// those after) instead of 1000 entries.
    peer_runs: Vec<PeerRun<'a>>,
    /// How many peer listings the runs hold.
    listers: usize,
    /// The longest time since a peer that lists it heard from it, in ms.
    max_pong_age_ms: Option<u64>,
    obs: Option<usize>,
    failed: Option<Cow<'a, ProbeError>>,
}

impl<'a> Proto<'a> {
    /// Record that view `view` lists this node with `line`.
    fn listed(&mut self, view: usize, line: &'a NodeLine) {
        let view = u32::try_from(view).unwrap_or(u32::MAX);
        self.listers += 1;
        match self.peer_runs.last_mut() {
            Some(run) if std::ptr::eq(run.line, line) && run.end() == view => run.len += 1,
            _ => self.peer_runs.push(PeerRun { line, view, len: 1 }),
        }
    }

    /// The line of every peer view that lists it, in view order (one per listing view).
    fn peer_lines(&self) -> impl Iterator<Item = &'a NodeLine> + Clone + '_ {
        self.peer_runs
            .iter()
            .flat_map(|r| std::iter::repeat_n(r.line, r.len as usize))
    }

    /// How many peer views list it.
    fn listers(&self) -> usize {
        self.listers
    }
}

/// Consecutive peer views `view..view + len` that list a node with the same line object.
#[derive(Clone, Copy)]
struct PeerRun<'a> {
    line: &'a NodeLine,
    view: u32,
    len: u32,
}

impl PeerRun<'_> {
    /// The view after the run.
    fn end(&self) -> u32 {
        self.view.saturating_add(self.len)
    }

    /// The views of the run.
    fn views(&self) -> std::ops::Range<u32> {
        self.view..self.end()
    }
}

/// The segment a view names an owner for, and the epoch it gives that owner.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Claim {
    range: SlotRange,
    owner: usize,
    epoch: u64,
}

/// A probe that gave no view: (observation index, why).
type Leftover<'a> = (usize, Cow<'a, ProbeError>);

type IdMap<'a> = FxMap<IdKey<'a>, usize>;

/// The internal index of the node with this id, adding a node if it is new.
fn get_or_insert<'a>(ids: &mut IdMap<'a>, protos: &mut Vec<Proto<'a>>, id: &'a NodeId) -> usize {
    *ids.entry(IdKey(id)).or_insert_with(|| {
        protos.push(Proto {
            id: Some(id),
            ..Proto::default()
        });
        protos.len() - 1
    })
}

/// When the snapshot was taken: its end, or else its latest observation.
fn snapshot_time(snapshot: &ClusterSnapshot) -> u64 {
    if snapshot.finished_at_ms > 0 {
        snapshot.finished_at_ms
    } else {
        snapshot
            .observations
            .iter()
            .map(|o| o.observed_at_ms)
            .max()
            .unwrap_or(0)
    }
}

/// See [`ClusterModel::build`].
pub(super) fn build(snapshot: &ClusterSnapshot) -> ClusterModel {
    let now_ms = snapshot_time(snapshot);
    let mut ids: IdMap<'_> = IdMap::default();
    let mut protos: Vec<Proto<'_>> = Vec::new();

    // 1. Reachable views, one per node id (a node probed twice counts once).
    let (views, leftovers) = views::collect_views(snapshot, now_ms, &mut ids, &mut protos);

    // 2. Every node any view lists, and each view's slot claims.
    let distinct_claims = listing::list_nodes(&views, &mut ids, &mut protos);

    // 3. Failed probes: attach to the node with that address, else an id-less node.
    failed::attach_failed_probes(snapshot, &views, &mut protos, leftovers);

    // 4. Summaries (internal order).
    let summaries = summary::summarize_all(&protos, &views, snapshot);
    // Whether each node counts as failing for the slots it owns.
    let failing: Vec<bool> = summaries.iter().map(NodeSummary::is_failing).collect();

    // 5. Slot map by segments, and the open slots.
    let lists = segments::ClaimLists::new(distinct_claims, &views, &summaries);
    let segs = segments::Segments::new(&lists.lists);
    let election = segments::elect_owners(&lists, &segs, &protos, &views, &summaries);
    let (marked, mut open) = open::open_slots(&views, &summaries);

    // 6. Display order and the final slot map, then the key counts.
    let order = order::display_order(&summaries, &ids, &failing);
    let slots = order::final_slot_map(&segs, &election, &failing, &marked, &order);
    let uncovered_keys = open::count_keys(snapshot, &views, &summaries, &slots, &mut open);
    open::name_owners(&mut open, &slots, &order, &summaries);

    // 7. Disagreements: per view, ranges where it names another owner than the consensus.
    let disagreements =
        disagreements::disagreements(&lists, &segs, &election.owner, &views, &summaries);

    ClusterModel {
        generation: snapshot.generation,
        taken_at_ms: snapshot.finished_at_ms,
        nodes: order::permute(summaries, order),
        slots,
        open_slots: open.into_values().collect(),
        disagreements,
        uncovered_keys,
        progress: snapshot.progress.clone(),
        slot_migrations: crate::cluster::slot_migrations::collect(snapshot),
    }
}

#[cfg(test)]
mod tests {
    use crate::cluster::model::Viewers;
    use crate::cluster::model::testkit::*;
    use crate::cluster::synthetic::{synthetic_cluster, synthetic_single_view};
    use crate::cluster::types::NodeFlags;
    use proptest::prelude::*;

    #[test]
    fn synthetic_clusters() {
        let m = ClusterModel::build(&synthetic_cluster(3, 1));
        assert_eq!(m.nodes.len(), 6);
        assert_eq!(ranges_in(&m, SlotState::Served), "0-16383");
        assert!(m.disagreements.is_empty());
        assert!(
            m.nodes
                .iter()
                .all(|n| n.peers.known_by.len() == 5 && n.cluster_state_ok == Some(true))
        );
        let m = ClusterModel::build(&synthetic_single_view(3, 1, 0));
        assert_eq!(ranges_in(&m, SlotState::Served), "0-5460");
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "5461-16383");
        assert_eq!(
            m.nodes
                .iter()
                .filter(|n| n.reachability == Reachability::Ok)
                .count(),
            1
        );
        assert!(m.nodes.iter().all(|n| n.id.is_some()));
        let m = ClusterModel::build(&synthetic_single_view(500, 1, 0));
        assert_eq!(m.nodes.len(), 1000);
        assert_eq!(m.nodes[0].claimed_slots.first().map(|r| r.start), Some(0));
        assert_eq!(m.nodes[1].role, Role::Replica);
    }

    #[test]
    fn empty_snapshot() {
        let m = ClusterModel::build(&ClusterSnapshot::default());
        assert!(m.nodes.is_empty());
        assert_eq!(m.slots.len(), SLOT_COUNT);
        assert_eq!(ranges_in(&m, SlotState::Uncovered), "0-16383");
    }

    fn arb_line() -> impl Strategy<Value = String> {
        let ids = prop::sample::select(vec!["aaaa", "bbbb", "cccc", "dddd", "eeee"]);
        let flags = prop::sample::select(vec![
            "master",
            "slave",
            "master,fail?",
            "master,fail",
            "slave,fail",
            "handshake",
            "master,noaddr",
            "noflags",
        ]);
        let slot_tok = (0u16..16384, 0u16..3000).prop_map(|(s, w)| {
            let e = s.saturating_add(w).min(16383);
            format!("{s}-{e}")
        });
        let marker = (
            0u16..16384,
            any::<bool>(),
            prop::sample::select(vec!["aaaa", "bbbb", "zzzz"]),
        )
            .prop_map(|(s, m, p)| {
                if m {
                    format!("[{s}->-{p}]")
                } else {
                    format!("[{s}-<-{p}]")
                }
            });
        (
            ids.clone(),
            0u16..4,
            flags,
            prop::option::of(ids),
            0u64..5,
            prop::collection::vec(slot_tok, 0..3),
            prop::collection::vec(marker, 0..2),
        )
            .prop_map(|(id, port, flags, master, epoch, slots, markers)| {
                format!(
                    "{id} 127.0.0.1:{}@1{} {flags} {} 0 {} {epoch} connected {} {}",
                    7000 + port,
                    7000 + port,
                    master.unwrap_or("-"),
                    epoch * 10,
                    slots.join(" "),
                    markers.join(" ")
                )
            })
    }

    fn arb_view() -> impl Strategy<Value = Option<String>> {
        prop::option::of(
            (prop::collection::vec(arb_line(), 0..6), 0usize..6).prop_map(|(mut lines, me)| {
                if let Some(l) = lines.get_mut(me) {
                    let mut t: Vec<&str> = l.splitn(4, ' ').collect();
                    let f = format!("myself,{}", t[2]);
                    t[2] = &f;
                    *l = t.join(" ");
                }
                lines.join("\n")
            }),
        )
    }

    /// The peer lists as the plain rule gives them, one id per listing: for every view (the
    /// first answer of each node, in snapshot order) other than the node's own, its viewer
    /// once per line about the node (`known_by` and the flag lists), or, for a node with an
    /// id, once if no line is about it (`unknown_to`).
    fn check_peer_lists(m: &ClusterModel, s: &ClusterSnapshot) -> Result<(), TestCaseError> {
        let mut views: Vec<(usize, &crate::cluster::types::ClusterNodes)> = Vec::new();
        let mut seen: Vec<&NodeId> = Vec::new();
        for r in s.observations.iter().filter_map(|o| o.report()) {
            if let Some((pos, me)) = r.nodes.myself_at()
                && !seen.contains(&&me.id)
            {
                seen.push(&me.id);
                views.push((pos, &r.nodes));
            }
        }
        for n in &m.nodes {
            type Pick = fn(&NodeFlags) -> bool;
            let lists: [(&str, &Viewers, Pick); 5] = [
                ("known_by", &n.peers.known_by, |_| true),
                ("pfail_by", &n.peers.pfail_by, |f| f.pfail),
                ("fail_by", &n.peers.fail_by, |f| f.fail),
                ("handshake_by", &n.peers.handshake_by, |f| f.handshake),
                ("noaddr_by", &n.peers.noaddr_by, |f| f.noaddr),
            ];
            for (name, got, flag) in lists {
                let mut want: Vec<NodeId> = Vec::new();
                for &(pos, v) in &views {
                    let Some(me) = v.line_at(pos) else { continue };
                    for (li, l) in v.lines().enumerate() {
                        if li != pos
                            && Some(&l.id) == n.id.as_ref()
                            && me.id != l.id
                            && flag(&l.flags)
                        {
                            want.push(me.id.clone());
                        }
                    }
                }
                prop_assert_eq!(got.to_vec(), want, "{} of {}", name, n.label());
            }
            let mut want: Vec<NodeId> = Vec::new();
            if let Some(id) = &n.id {
                for &(pos, v) in &views {
                    let Some(me) = v.line_at(pos) else { continue };
                    if me.id != *id
                        && !v
                            .lines()
                            .enumerate()
                            .any(|(li, l)| li != pos && l.id == *id)
                    {
                        want.push(me.id.clone());
                    }
                }
            }
            prop_assert_eq!(
                n.peers.unknown_to.to_vec(),
                want,
                "unknown_to of {}",
                n.label()
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(crate::cluster::proptest_config(256, "tests/proptest-regressions/cluster-model-build.txt"))]
        #[test]
        fn build_never_panics_and_keeps_invariants(views in prop::collection::vec(arb_view(), 0..6)) {
            let eps: Vec<String> = (0..views.len()).map(|i| format!("127.0.0.1:{}", 7000 + i)).collect();
            let entries: Vec<(&str, Result<&str, ProbeError>)> = views
                .iter()
                .zip(&eps)
                .map(|(v, ep)| (ep.as_str(), v.as_deref().ok_or_else(refused)))
                .collect();
            let m = ClusterModel::build(&snapshot_from_texts(&entries));
            prop_assert_eq!(m.slots.len(), SLOT_COUNT);
            for e in &m.slots {
                prop_assert_eq!(e.owner.is_none(), e.state == SlotState::Uncovered);
                if let Some(o) = e.owner {
                    prop_assert!((o as usize) < m.nodes.len());
                    prop_assert!(m.nodes[o as usize].id.is_some(), "owners come from node lines");
                }
            }
            for o in &m.open_slots {
                prop_assert!(m.slots[usize::from(o.slot)].state >= SlotState::Migrating
                    || m.slots[usize::from(o.slot)].state == SlotState::Uncovered);
            }
            check_peer_lists(&m, &snapshot_from_texts(&entries))?;
            let mut ids: Vec<&NodeId> = m.nodes.iter().filter_map(|n| n.id.as_ref()).collect();
            let n = ids.len();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), n, "node ids are unique");
        }
    }
}
