//! Step 6 of the build: the display order of the nodes, and the final slot map in display
//! indices.

use super::IdMap;
use super::segments::{Election, Segments};
use crate::cluster::fasthash::IdKey;
use crate::cluster::model::{NodeIdx, NodeSummary, Role, SlotEntry, SlotState};
use crate::cluster::slots::SLOT_COUNT;

/// Masters with slots by first slot, each followed by its replicas; then slot-less
/// healthy masters, then slot-less failing masters (each with replicas); then replicas of
/// unknown masters, nodes of unknown role, and id-less endpoints.
///
/// Returns, per display position, the internal index of the node shown there.
pub(super) fn display_order(
    nodes: &[NodeSummary],
    ids: &IdMap<'_>,
    failing: &[bool],
) -> Vec<usize> {
    let addr_key = |i: usize| (nodes[i].addr.ip.as_str(), nodes[i].addr.port, i);
    let mut replicas_of: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut orphans: Vec<usize> = Vec::new();
    let mut masters: Vec<usize> = Vec::new();
    let mut rest: Vec<usize> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        match n.role {
            Role::Master => masters.push(i),
            Role::Replica => {
                match n
                    .master_id
                    .as_ref()
                    .and_then(|m| ids.get(&IdKey(m)))
                    .filter(|&&m| nodes[m].role == Role::Master)
                {
                    Some(&m) => replicas_of[m].push(i),
                    None => orphans.push(i),
                }
            }
            Role::Unknown => rest.push(i),
        }
    }
    let group = |i: usize| -> u8 {
        if !nodes[i].claimed_slots.is_empty() {
            0
        } else if failing[i] {
            2
        } else {
            1
        }
    };
    masters.sort_by_key(|&i| {
        let first = nodes[i].claimed_slots.first().map_or(0, |r| r.start);
        (group(i), first, addr_key(i))
    });
    let mut out = Vec::with_capacity(nodes.len());
    for m in masters {
        out.push(m);
        let reps = &mut replicas_of[m];
        reps.sort_by_key(|&i| addr_key(i));
        out.extend(reps.iter().copied());
    }
    orphans.sort_by_key(|&i| addr_key(i));
    rest.sort_by_key(|&i| (nodes[i].id.is_none(), addr_key(i)));
    out.extend(orphans);
    out.extend(rest);
    out
}

/// The consensus slot map, owners as display indices. A slot's state is the worst that
/// applies: uncovered > owner failing > disputed > migrating > served.
pub(super) fn final_slot_map(
    segs: &Segments,
    election: &Election,
    failing: &[bool],
    marked: &[bool],
    order: &[usize],
) -> Vec<SlotEntry> {
    let mut pos = vec![0 as NodeIdx; failing.len()];
    for (final_idx, &internal) in order.iter().enumerate() {
        pos[internal] = NodeIdx::try_from(final_idx).unwrap_or(NodeIdx::MAX);
    }
    let mut slots = vec![
        SlotEntry {
            owner: None,
            state: SlotState::Uncovered,
        };
        SLOT_COUNT
    ];
    for k in 0..segs.len() {
        let range = segs.range(k);
        let owner = election.owner[k];
        for s in range.iter() {
            let state = match owner {
                None => SlotState::Uncovered,
                Some(o) if failing[o] => SlotState::OwnerFailing,
                Some(_) if election.disputed[k] => SlotState::Disputed,
                Some(_) if marked[usize::from(s)] => SlotState::Migrating,
                Some(_) => SlotState::Served,
            };
            slots[usize::from(s)] = SlotEntry {
                owner: owner.map(|o| pos[o]),
                state,
            };
        }
    }
    slots
}

/// The summaries in display order: `nodes[f] = summaries[order[f]]`, permuted in place by
/// following the permutation's cycles.
pub(super) fn permute(summaries: Vec<NodeSummary>, order: Vec<usize>) -> Vec<NodeSummary> {
    let mut nodes = summaries;
    let mut perm = order;
    for i in 0..perm.len() {
        let mut cur = i;
        loop {
            let src = perm[cur];
            perm[cur] = cur;
            if src == i || src == cur || src >= nodes.len() {
                break;
            }
            nodes.swap(cur, src);
            cur = src;
        }
    }
    nodes
}

#[cfg(test)]
mod tests {
    use crate::cluster::model::testkit::*;

    fn failover_snapshot() -> ClusterSnapshot {
        let a = fixture!("failover_nodes_31000.txt");
        let (b, a1, b1) = (view_as(a, 31001), view_as(a, 31003), view_as(a, 31004));
        snapshot_from_texts(&[
            ("127.0.0.1:31000", Ok(a)),
            ("127.0.0.1:31001", Ok(&b)),
            ("127.0.0.1:31002", Err(refused())),
            ("127.0.0.1:31003", Ok(&a1)),
            ("127.0.0.1:31004", Ok(&b1)),
            ("127.0.0.1:31005", Ok(fixture!("failover_nodes_31005.txt"))),
        ])
    }

    #[test]
    fn failover_done() {
        let m = ClusterModel::build(&failover_snapshot());
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "none");
        assert_eq!(ranges_in(&m, SlotState::Uncovered), "none");
        assert_eq!(ranges_in(&m, SlotState::Migrating), "100,200");
        assert_eq!(owner_id(&m, 10923), Some(C1));
        let c1 = m.node(&id(C1)).unwrap();
        assert_eq!((c1.role, c1.config_epoch), (Role::Master, 7));
        let c = m.node(&id(C)).unwrap();
        assert_eq!(c.role, Role::Master);
        assert!(c.claimed_slots.is_empty());
        assert_eq!(c.peers.fail_by.len(), 5);
        // The slot-less failed master comes last.
        assert_eq!(order(&m).last().map(String::as_str), Some("0a63eccd"));
        // Slot 200 is migrating from A to the dead C.
        let o200 = m.open_slots.iter().find(|o| o.slot == 200).unwrap();
        assert_eq!(o200.migrating, vec![(id(A), id(C))]);
        assert_eq!(o200.owner, Some(id(A)));
    }
}
