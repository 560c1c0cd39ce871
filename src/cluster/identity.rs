//! One cluster at a time: which answering nodes belong to the same cluster.
//!
//! Two nodes are in one cluster when their views are linked: a view lists the node that gave
//! it and every node it knows, and views that share any node id are one group (transitively).
//! Seeds of two different clusters give groups that share nothing. Treating them as one split
//! cluster would be dangerous: a `CLUSTER MEET` between them merges two datasets, and the
//! side with the lower config epochs loses its slots and every key in them.
//!
//! A group that claims no slot (a fresh node that knows only itself, a reset node) is not a
//! second cluster: it is a node waiting to join, and the diagnosis offers to meet it. Only two
//! or more groups that each hold slots are separate clusters.

use std::collections::HashMap;

use super::slots::ranges_len;
use super::types::{ClusterSnapshot, Endpoint, NodeId};

/// The answering nodes of one cluster, as far as the views link them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterGroup {
    /// Endpoints of the answering nodes in this group, sorted.
    pub endpoints: Vec<Endpoint>,
    /// Distinct node ids that the group's views list.
    pub known_nodes: usize,
    /// Slots claimed by the group's own `myself` lines (each node's own claim), summed.
    pub slots: usize,
}

impl std::fmt::Display for ClusterGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<String> = self
            .endpoints
            .iter()
            .take(3)
            .map(ToString::to_string)
            .collect();
        let more = self.endpoints.len().saturating_sub(shown.len());
        write!(f, "{}", shown.join(", "))?;
        if more > 0 {
            write!(f, " and {more} more")?;
        }
        write!(
            f,
            " ({} node(s) known, {} slot(s) claimed)",
            self.known_nodes, self.slots
        )
    }
}

/// Union-find over dense indexes.
struct Sets(Vec<usize>);

impl Sets {
    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[rb] = ra;
        }
    }
}

/// Group the answering observations of a snapshot by linked views, largest first (then by
/// first endpoint).
#[must_use]
pub fn cluster_groups(snapshot: &ClusterSnapshot) -> Vec<ClusterGroup> {
    let mut index: HashMap<&NodeId, usize> = HashMap::new();
    let mut sets = Sets(Vec::new());
    // (observation endpoint, its own id index, its own claimed slots)
    let mut answering: Vec<(&Endpoint, usize, usize)> = Vec::new();
    for obs in &snapshot.observations {
        let Some(report) = obs.report() else { continue };
        let Some(me) = report.nodes.myself() else {
            continue;
        };
        let mine = intern(&mut index, &mut sets, &me.id);
        for line in report.nodes.lines() {
            let other = intern(&mut index, &mut sets, &line.id);
            sets.union(mine, other);
        }
        answering.push((&obs.endpoint, mine, ranges_len(&me.slots)));
    }
    let mut by_root: HashMap<usize, ClusterGroup> = HashMap::new();
    for (ep, mine, slots) in answering {
        let root = sets.find(mine);
        let g = by_root.entry(root).or_insert_with(|| ClusterGroup {
            endpoints: Vec::new(),
            known_nodes: 0,
            slots: 0,
        });
        g.endpoints.push(ep.clone());
        g.slots += slots;
    }
    let roots: Vec<usize> = (0..sets.0.len()).map(|i| sets.find(i)).collect();
    for root in roots {
        if let Some(g) = by_root.get_mut(&root) {
            g.known_nodes += 1;
        }
    }
    let mut groups: Vec<ClusterGroup> = by_root.into_values().collect();
    for g in &mut groups {
        g.endpoints.sort();
    }
    groups.sort_by(|a, b| {
        b.endpoints
            .len()
            .cmp(&a.endpoints.len())
            .then_with(|| a.endpoints.cmp(&b.endpoints))
    });
    groups
}

/// The dense index of a node id, allocating a new singleton set on first sight.
fn intern<'a>(index: &mut HashMap<&'a NodeId, usize>, sets: &mut Sets, id: &'a NodeId) -> usize {
    *index.entry(id).or_insert_with(|| {
        sets.0.push(sets.0.len());
        sets.0.len() - 1
    })
}

/// The separate clusters among the answering nodes: `Some` (two or more groups, each holding
/// slots) when the snapshot mixes clusters, `None` when it is one cluster (possibly with
/// slot-less nodes waiting to join).
#[must_use]
pub fn separate_clusters(snapshot: &ClusterSnapshot) -> Option<Vec<ClusterGroup>> {
    let holding: Vec<ClusterGroup> = cluster_groups(snapshot)
        .into_iter()
        .filter(|g| g.slots > 0)
        .collect();
    (holding.len() > 1).then_some(holding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::synthetic::snapshot_from_texts;

    const A: &str = "aaaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n\
                     bbbb 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n";
    const B: &str = "aaaa 127.0.0.1:7000@17000 master - 0 0 1 connected 0-8191\n\
                     bbbb 127.0.0.1:7001@17001 myself,master - 0 0 2 connected 8192-16383\n";
    const X: &str = "xxxx 127.0.0.1:8000@18000 myself,master - 0 0 1 connected 0-16383\n";
    const FRESH: &str = "ffff 127.0.0.1:9000@19000 myself,master - 0 0 0 connected\n";

    #[test]
    fn one_cluster_seen_from_every_node_is_one_group() {
        let s = snapshot_from_texts(&[("127.0.0.1:7000", Ok(A)), ("127.0.0.1:7001", Ok(B))]);
        let g = cluster_groups(&s);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].endpoints.len(), 2);
        assert_eq!(g[0].known_nodes, 2);
        assert_eq!(g[0].slots, 16384);
        assert!(separate_clusters(&s).is_none());
    }

    #[test]
    fn seeds_of_two_clusters_are_two_clusters() {
        let s = snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(A)),
            ("127.0.0.1:7001", Ok(B)),
            ("127.0.0.1:8000", Ok(X)),
        ]);
        let sep = separate_clusters(&s).unwrap();
        assert_eq!(sep.len(), 2);
        assert_eq!(
            sep[0].to_string(),
            "127.0.0.1:7000, 127.0.0.1:7001 (2 node(s) known, 16384 slot(s) claimed)"
        );
        assert_eq!(
            sep[1].to_string(),
            "127.0.0.1:8000 (1 node(s) known, 16384 slot(s) claimed)"
        );
    }

    #[test]
    fn a_fresh_node_waiting_to_join_is_not_another_cluster() {
        let s = snapshot_from_texts(&[("127.0.0.1:7000", Ok(A)), ("127.0.0.1:9000", Ok(FRESH))]);
        assert_eq!(cluster_groups(&s).len(), 2);
        assert!(separate_clusters(&s).is_none());
    }

    #[test]
    fn a_view_that_lists_a_node_of_the_other_side_links_them() {
        // 8000 met 7000 (one-sided so far): one cluster in the making, not two.
        let x_knows_a = format!("{X}aaaa 127.0.0.1:7000@17000 master - 0 0 1 connected 0-8191\n");
        let s = snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(A)),
            ("127.0.0.1:8000", Ok(&x_knows_a)),
        ]);
        assert!(separate_clusters(&s).is_none());
    }
}
