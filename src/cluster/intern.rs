//! One shared allocation per node id across all the views of a refresh.
//!
//! Every node lists every other node, so a refresh of an N-node cluster parses N² ids (a
//! million at 1000 nodes), each its own allocation. The refresher passes each parsed report
//! through one [`IdPool`]: equal ids then share one `Arc<str>`, the duplicates are freed, and
//! the model's copies of an id (peer opinions, disagreements) are reference counts.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use super::fasthash::FxHasher;
use super::types::{ClusterNodes, NodeId, NodeLine};

/// A set of canonical ids; cheap to create per refresh.
#[derive(Default, Debug)]
pub struct IdPool {
    ids: HashSet<Arc<str>, BuildHasherDefault<FxHasher>>,
}

impl IdPool {
    /// An empty pool.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct ids seen.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no id was seen yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Make `id` share the pool's allocation for its value (adding it when new).
    pub fn intern(&mut self, id: &mut NodeId) {
        match self.ids.get(&*id.0) {
            Some(canon) => {
                if !Arc::ptr_eq(canon, &id.0) {
                    id.0 = Arc::clone(canon);
                }
            }
            None => {
                self.ids.insert(Arc::clone(&id.0));
            }
        }
    }

    /// Intern every id of a parsed view: each line's id, master id and marker peers.
    pub fn intern_view(&mut self, view: &mut ClusterNodes) {
        let Some(lines) = view.lines_mut() else {
            return;
        };
        for line in lines {
            self.intern_line(line);
        }
    }

    /// Intern the ids of one line: its id, master id and marker peers.
    pub fn intern_line(&mut self, line: &mut NodeLine) {
        self.intern(&mut line.id);
        if let Some(m) = line.master_id.as_mut() {
            self.intern(m);
        }
        for marker in &mut line.markers {
            self.intern(&mut marker.peer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::parse::parse_cluster_nodes;

    const VIEW: &str = "\
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191 [5->-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb]
bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383
cccccccccccccccccccccccccccccccccccccccc 127.0.0.1:7002@17002 slave aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0 0 1 connected
";

    fn report() -> ClusterNodes {
        parse_cluster_nodes(VIEW).unwrap()
    }

    #[test]
    fn equal_ids_share_one_allocation_and_keep_their_value() {
        let mut pool = IdPool::new();
        let mut a = report();
        let mut b = report();
        let before = b.clone();
        pool.intern_view(&mut a);
        pool.intern_view(&mut b);
        assert_eq!(pool.len(), 3);
        assert_eq!(b, before, "values unchanged");
        for (la, lb) in a.lines().zip(b.lines()) {
            assert!(Arc::ptr_eq(&la.id.0, &lb.id.0));
        }
        // Within one view too: the replica's master id is the master's own id.
        let bl: Vec<_> = b.lines().collect();
        let master = &bl[0].id.0;
        let of_replica = bl[2].master_id.as_ref().unwrap();
        assert!(Arc::ptr_eq(master, &of_replica.0));
        let marker_peer = &bl[0].markers[0].peer.0;
        assert!(Arc::ptr_eq(marker_peer, &bl[1].id.0));
    }
}
