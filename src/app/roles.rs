//! Role changes: how often each node flipped between master and replica (a failover, or a
//! master turned into a replica of its successor) since the dashboard started. Pure: counted
//! from two models in a row.

use std::collections::BTreeMap;

use crate::cluster::{ClusterModel, NodeSummary, Role};

/// One node's role changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleHistory {
    /// Flips seen (master → replica or replica → master).
    pub count: u32,
    /// The latest flip: its time (Unix ms) and the role the node took.
    pub last_at_ms: u64,
    /// The role after the latest flip.
    pub now: Role,
}

/// Role changes per node id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleChanges(BTreeMap<String, RoleHistory>);

impl RoleChanges {
    /// Count the flips from `old` to `new` (nodes matched by id), seen at `at_ms`.
    pub fn observe(&mut self, old: &ClusterModel, new: &ClusterModel, at_ms: u64) {
        for n in &new.nodes {
            let Some(id) = &n.id else { continue };
            let Some(o) = old.node(id) else { continue };
            let flipped = matches!(
                (o.role, n.role),
                (Role::Master, Role::Replica) | (Role::Replica, Role::Master)
            );
            if flipped {
                let h = self.0.entry(id.0.to_string()).or_insert(RoleHistory {
                    count: 0,
                    last_at_ms: at_ms,
                    now: n.role,
                });
                h.count += 1;
                h.last_at_ms = at_ms;
                h.now = n.role;
            }
        }
    }

    /// The role changes of a node, if it flipped at least once.
    #[must_use]
    pub fn of(&self, n: &NodeSummary) -> Option<&RoleHistory> {
        n.id.as_ref().and_then(|id| self.0.get(&*id.0))
    }

    /// Flips seen in all.
    #[must_use]
    pub fn total(&self) -> u32 {
        self.0.values().map(|h| h.count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sample::{self, SampleCase};

    fn flipped(m: &ClusterModel) -> ClusterModel {
        let mut m = m.clone();
        for n in &mut m.nodes {
            n.role = match n.role {
                Role::Master => Role::Replica,
                Role::Replica => Role::Master,
                Role::Unknown => Role::Unknown,
            };
        }
        m
    }

    #[test]
    fn a_failover_counts_once_per_node_and_flip() {
        let a = sample::app(SampleCase::Healthy, 120, 40);
        let m0 = (*a.shown.as_ref().expect("shown").model).clone();
        let m1 = flipped(&m0);
        let mut rc = RoleChanges::default();
        rc.observe(&m0, &m0, 1);
        assert_eq!(rc.total(), 0, "no flip, no count");
        rc.observe(&m0, &m1, 2_000);
        let first = &m1.nodes[0];
        let h = rc.of(first).expect("counted");
        assert_eq!((h.count, h.last_at_ms, h.now), (1, 2_000, first.role));
        rc.observe(&m1, &m0, 3_000);
        let h = rc.of(&m0.nodes[0]).expect("counted");
        assert_eq!((h.count, h.last_at_ms), (2, 3_000));
        assert_eq!(
            rc.total(),
            2 * u32::try_from(m0.nodes.len()).expect("few nodes")
        );
    }
}
