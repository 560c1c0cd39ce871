//! Telling a reshard in progress from a still cluster: keys of a slot that fell on one node and
//! rose on another between two observations mean that something else is moving them.

use std::cmp::Ordering;

use crate::cluster::slots::{Slot, SlotRange};
use crate::cluster::types::{ClusterSnapshot, Endpoint};

/// Keys of `slots` that moved between two observations: for one slot, the count fell on one
/// node and rose on another (client writes only add, deletes only remove). Each line names the
/// slot and both counts on every node whose count changed.
#[must_use]
pub fn keys_moving(slots: &[SlotRange], a: &ClusterSnapshot, b: &ClusterSnapshot) -> Vec<String> {
    let counts = |snap: &ClusterSnapshot, slot: Slot| -> Vec<(Endpoint, u64)> {
        snap.observations
            .iter()
            .filter_map(|o| {
                let n = o.report()?.slot_keys.get(&slot)?;
                Some((o.endpoint.clone(), *n))
            })
            .collect()
    };
    let mut out = Vec::new();
    for slot in slots.iter().flat_map(SlotRange::iter) {
        let before = counts(a, slot);
        let after = counts(b, slot);
        let mut fell = false;
        let mut rose = false;
        let mut parts = Vec::new();
        for (ep, was) in &before {
            let Some((_, now)) = after.iter().find(|(e, _)| e == ep) else {
                continue;
            };
            match now.cmp(was) {
                Ordering::Less => fell = true,
                Ordering::Greater => rose = true,
                Ordering::Equal => continue,
            }
            parts.push(format!("{ep} {was} -> {now}"));
        }
        if fell && rose {
            out.push(format!(
                "keys of slot {slot} are moving between nodes ({}): another tool (a reshard, \
                 redis-cli --cluster fix, another slotscope) seems to be migrating it; wait until \
                 it finishes, then look again",
                parts.join(", ")
            ));
        }
        if out.len() >= 5 {
            break;
        }
    }
    out
}
