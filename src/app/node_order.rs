//! The node table's order: the filter and the sort applied to the model's nodes.

use super::{App, NodeSort};
use crate::cluster::{NodeSummary, Role};

impl App {
    /// Recompute the node table order from filter and sort.
    pub fn rebuild_node_order(&mut self) {
        let Some(m) = self.model() else {
            self.node_order.clear();
            return;
        };
        let needle = self.filter.to_lowercase();
        let mut order: Vec<usize> = m
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| needle.is_empty() || node_matches(n, &needle))
            .map(|(i, _)| i)
            .collect();
        let health = |n: &NodeSummary| -> u8 {
            if n.is_failing() {
                0
            } else if n.flags.pfail || !n.peers.pfail_by.is_empty() {
                1
            } else {
                2
            }
        };
        let keys = |n: &NodeSummary| n.info.as_ref().and_then(|i| i.keys).unwrap_or(0);
        let slots = |n: &NodeSummary| crate::cluster::slots::ranges_len(&n.claimed_slots);
        let nodes = &m.nodes;
        let get = |i: &usize| nodes.get(*i);
        match self.node_sort {
            NodeSort::Grouped => {}
            NodeSort::Health => order.sort_by_key(|i| get(i).map(health)),
            NodeSort::Address => order.sort_by_key(|i| get(i).map(|n| n.addr.to_string())),
            NodeSort::Slots => order.sort_by_key(|i| std::cmp::Reverse(get(i).map(slots))),
            NodeSort::Keys => order.sort_by_key(|i| std::cmp::Reverse(get(i).map(keys))),
            NodeSort::Latency => {
                order.sort_by_key(|i| std::cmp::Reverse(get(i).and_then(|n| n.rtt_us)));
            }
        }
        self.node_order = order;
        self.clamp_cursors();
    }
}

/// Whether a node matches a lower-case filter: its address, the start of its id, its role, or
/// `fail` for a failing node.
pub(super) fn node_matches(n: &NodeSummary, needle: &str) -> bool {
    let role = match n.role {
        Role::Master => "master",
        Role::Replica => "replica",
        Role::Unknown => "unknown",
    };
    n.addr.to_string().to_lowercase().contains(needle)
        || n.id
            .as_ref()
            .is_some_and(|i| i.0.to_lowercase().starts_with(needle))
        || role.contains(needle)
        || (needle == "fail" && n.is_failing())
}
