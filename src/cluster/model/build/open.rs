//! Open slots (part of step 5 of the build): the migrating and importing markers of every
//! node's own view; and the key counts of open and uncovered slots (part of step 6).

use std::collections::BTreeMap;

use super::View;
use crate::cluster::model::{NodeIdx, NodeSummary, OpenSlot, Role, SlotEntry, SlotState};
use crate::cluster::slots::{SLOT_COUNT, Slot};
use crate::cluster::types::{ClusterSnapshot, MarkerKind, NodeId};

/// Which slots carry a marker, and the open slots by slot (markers from own views only).
pub(super) fn open_slots(
    views: &[View<'_>],
    summaries: &[NodeSummary],
) -> (Vec<bool>, BTreeMap<Slot, OpenSlot>) {
    let mut marked = vec![false; SLOT_COUNT];
    let mut open: BTreeMap<Slot, OpenSlot> = BTreeMap::new();
    for view in views {
        let viewer = summaries[view.node].id.clone();
        let Some(viewer) = viewer else { continue };
        let on_replica = summaries[view.node].role == Role::Replica;
        for m in &view.me.markers {
            if let Some(x) = marked.get_mut(usize::from(m.slot)) {
                *x = true;
            }
            let e = open.entry(m.slot).or_insert_with(|| OpenSlot {
                slot: m.slot,
                owner: None,
                migrating: Vec::new(),
                importing: Vec::new(),
                on_replicas: Vec::new(),
                keys: BTreeMap::new(),
            });
            // A replica's marker is never a side of the move: Valkey 8+ copies its master's
            // SETSLOT markers to it (and clears them with the master's), and a stale one on a
            // Redis 7 replica moves no key either. It is recorded as a marker on a replica only.
            if on_replica {
                if !e.on_replicas.contains(&viewer) {
                    e.on_replicas.push(viewer.clone());
                }
                continue;
            }
            match m.kind {
                MarkerKind::Migrating => e.migrating.push((viewer.clone(), m.peer.clone())),
                MarkerKind::Importing => e.importing.push((viewer.clone(), m.peer.clone())),
            }
        }
    }
    (marked, open)
}

/// Key counts from reachable masters: every count of an open slot goes into the open slot;
/// the non-zero counts of uncovered slots are returned.
pub(super) fn count_keys(
    snapshot: &ClusterSnapshot,
    views: &[View<'_>],
    summaries: &[NodeSummary],
    slots: &[SlotEntry],
    open: &mut BTreeMap<Slot, OpenSlot>,
) -> BTreeMap<Slot, BTreeMap<NodeId, u64>> {
    let mut uncovered_keys: BTreeMap<Slot, BTreeMap<NodeId, u64>> = BTreeMap::new();
    for view in views {
        let s = &summaries[view.node];
        let (Some(id), Role::Master) = (&s.id, s.role) else {
            continue;
        };
        let Some(report) = snapshot.observations[view.obs].report() else {
            continue;
        };
        for (&slot, &n) in &report.slot_keys {
            if let Some(o) = open.get_mut(&slot) {
                o.keys.insert(id.clone(), n);
            }
            let uncovered = slots
                .get(usize::from(slot))
                .is_some_and(|e| e.state == SlotState::Uncovered);
            if uncovered && n > 0 {
                uncovered_keys
                    .entry(slot)
                    .or_default()
                    .insert(id.clone(), n);
            }
        }
    }
    uncovered_keys
}

/// Each open slot's consensus owner, from the final slot map (`order` maps display
/// positions to internal indices).
pub(super) fn name_owners(
    open: &mut BTreeMap<Slot, OpenSlot>,
    slots: &[SlotEntry],
    order: &[usize],
    summaries: &[NodeSummary],
) {
    for o in open.values_mut() {
        o.owner = slots
            .get(usize::from(o.slot))
            .and_then(|e| e.owner)
            .and_then(|i: NodeIdx| order.get(i as usize))
            .and_then(|&i| summaries[i].id.clone());
    }
}

#[cfg(test)]
mod tests {
    use crate::cluster::model::testkit::*;
    use crate::cluster::synthetic::set_slot_keys;
    use std::collections::BTreeMap;

    fn open_slots_snapshot() -> ClusterSnapshot {
        let a = fixture!("open_slots_nodes_31000.txt");
        let (b1, c1) = (view_as(a, 31004), view_as(a, 31005));
        let mut s = snapshot_from_texts(&[
            ("127.0.0.1:31000", Ok(a)),
            (
                "127.0.0.1:31001",
                Ok(fixture!("open_slots_nodes_31001.txt")),
            ),
            (
                "127.0.0.1:31002",
                Ok(fixture!("open_slots_nodes_31002.txt")),
            ),
            (
                "127.0.0.1:31003",
                Ok(fixture!("replica_marker_nodes_31003.txt")),
            ),
            ("127.0.0.1:31004", Ok(&b1)),
            ("127.0.0.1:31005", Ok(&c1)),
        ]);
        assert!(set_slot_keys(
            &mut s,
            "127.0.0.1:31000",
            &[(100, 6), (200, 10), (6000, 0)]
        ));
        assert!(set_slot_keys(
            &mut s,
            "127.0.0.1:31001",
            &[(100, 4), (200, 0), (6000, 1)]
        ));
        assert!(set_slot_keys(
            &mut s,
            "127.0.0.1:31002",
            &[(100, 0), (200, 0), (6000, 0)]
        ));
        assert!(set_slot_keys(&mut s, "127.0.0.1:31003", &[(100, 6)]));
        assert!(!set_slot_keys(&mut s, "127.0.0.1:39999", &[(1, 1)]));
        s
    }

    #[test]
    fn open_slots_both_sides_one_side_and_on_replica() {
        let m = ClusterModel::build(&open_slots_snapshot());
        assert_eq!(ranges_in(&m, SlotState::Migrating), "100,200,300,6000");
        assert_eq!(
            ranges_in(&m, SlotState::Served).len(),
            "0-99,101-199,201-299,301-5999,6001-16383".len()
        );
        let slots: Vec<Slot> = m.open_slots.iter().map(|o| o.slot).collect();
        assert_eq!(slots, [100, 200, 300, 6000]);
        let o = &m.open_slots[0];
        assert_eq!(o.owner, Some(id(A)));
        assert_eq!(o.migrating, vec![(id(A), id(B))]);
        assert_eq!(o.importing, vec![(id(B), id(A))]);
        assert!(o.on_replicas.is_empty());
        // Key counts from masters only (the replica's count is not a side of the move).
        assert_eq!(o.keys, BTreeMap::from([(id(A), 6), (id(B), 4), (id(C), 0)]));
        let o200 = &m.open_slots[1];
        assert_eq!((o200.migrating.len(), o200.importing.len()), (1, 0));
        let o300 = &m.open_slots[2];
        assert_eq!(o300.on_replicas, vec![id(A1)]);
        // A replica's marker is not a side of the move.
        assert!(o300.migrating.is_empty() && o300.importing.is_empty());
        assert_eq!(o300.owner, Some(id(A)));
        let o6000 = &m.open_slots[3];
        assert_eq!(o6000.importing, vec![(id(C), id(B))]);
        assert!(o6000.migrating.is_empty());
        assert_eq!(o6000.owner, Some(id(B)));
        assert_eq!(o6000.keys.get(&id(B)), Some(&1));
        assert!(m.disagreements.is_empty());
    }
}
