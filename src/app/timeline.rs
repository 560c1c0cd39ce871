//! The timeline: what changed between two refreshes, as a pure diff of two models.

use std::collections::{BTreeMap, BTreeSet};

use crate::cluster::slots::{Slot, SlotRange, slots_to_ranges};
use crate::cluster::{ClusterModel, NodeId, NodeSummary, Reachability, Role};

/// What kind of change happened (drives the glyph and colour).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// A node got worse (PFAIL, FAIL, unreachable).
    NodeFailing,
    /// A node recovered.
    NodeRecovered,
    /// A replica became master.
    Failover,
    /// Slots changed owner.
    SlotsMoved,
    /// An open-slot marker appeared.
    MarkerSet,
    /// An open-slot marker disappeared.
    MarkerCleared,
    /// A node appeared in the union of views.
    NodeAppeared,
    /// A node disappeared from every view.
    NodeDisappeared,
    /// The cluster state (as the nodes report it) changed.
    ClusterState,
}

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEvent {
    /// Unix ms of the refresh that showed the change.
    pub at_ms: u64,
    /// Kind of change.
    pub kind: ChangeKind,
    /// Plain words.
    pub text: String,
}

/// Health of a node as the timeline sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Health {
    Ok,
    Pfail,
    Fail,
    Unreachable,
}

impl Health {
    fn of(n: &NodeSummary) -> Self {
        if n.flags.fail || !n.peers.fail_by.is_empty() {
            Self::Fail
        } else if !matches!(n.reachability, Reachability::Ok | Reachability::NotProbed) {
            Self::Unreachable
        } else if n.flags.pfail || !n.peers.pfail_by.is_empty() {
            Self::Pfail
        } else {
            Self::Ok
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Pfail => "PFAIL (suspected)",
            Self::Fail => "FAIL",
            Self::Unreachable => "unreachable",
        }
    }
}

fn key(n: &NodeSummary) -> String {
    n.id.as_ref()
        .map_or_else(|| format!("addr:{}", n.addr), |i| i.0.to_string())
}

fn cluster_state(m: &ClusterModel) -> Option<bool> {
    let states: Vec<bool> = m.nodes.iter().filter_map(|n| n.cluster_state_ok).collect();
    if states.is_empty() {
        None
    } else {
        Some(states.iter().all(|s| *s))
    }
}

fn markers(m: &ClusterModel) -> BTreeSet<(Slot, NodeId, NodeId, bool)> {
    let mut out = BTreeSet::new();
    for o in &m.open_slots {
        for (n, t) in &o.migrating {
            out.insert((o.slot, n.clone(), t.clone(), true));
        }
        for (n, s) in &o.importing {
            out.insert((o.slot, n.clone(), s.clone(), false));
        }
    }
    out
}

fn name(m: &ClusterModel, id: &NodeId) -> String {
    m.node(id)
        .map_or_else(|| id.short().to_owned(), |n| n.addr.to_string())
}

/// `master_link_status` of a replica that answered INFO (`up` / `down`).
fn link_status(n: &NodeSummary) -> Option<&str> {
    n.info
        .as_ref()
        .filter(|i| i.role.as_deref() == Some("slave") || n.role == Role::Replica)
        .and_then(|i| i.master_link_status.as_deref())
}

/// A replica whose replication link went down or came back up between two refreshes.
fn link_change(
    new: &ClusterModel,
    o: &NodeSummary,
    n: &NodeSummary,
) -> Option<(ChangeKind, String)> {
    let (before, after) = (link_status(o)?, link_status(n)?);
    if before == after {
        return None;
    }
    let master = n
        .master_id
        .as_ref()
        .map_or_else(|| "its master".to_owned(), |m| name(new, m));
    // The news first: a narrow timeline cuts the end of the line.
    Some(if after == "down" {
        (
            ChangeKind::NodeFailing,
            format!("replication link down: {} from {master}", n.addr),
        )
    } else {
        (
            ChangeKind::NodeRecovered,
            format!("replication link {after}: {} from {master}", n.addr),
        )
    })
}

/// Every change from `old` to `new`, stamped `at_ms`, in a stable order.
#[must_use]
pub fn diff_models(old: &ClusterModel, new: &ClusterModel, at_ms: u64) -> Vec<TimelineEvent> {
    let mut out = Vec::new();
    let mut push = |kind, text: String| out.push(TimelineEvent { at_ms, kind, text });

    if let (Some(a), Some(b)) = (cluster_state(old), cluster_state(new))
        && a != b
    {
        push(
            ChangeKind::ClusterState,
            if b {
                "cluster_state back to ok on every node".to_owned()
            } else {
                "cluster_state:fail reported".to_owned()
            },
        );
    }

    let before: BTreeMap<String, &NodeSummary> = old.nodes.iter().map(|n| (key(n), n)).collect();
    let after: BTreeMap<String, &NodeSummary> = new.nodes.iter().map(|n| (key(n), n)).collect();
    for (k, n) in &after {
        match before.get(k) {
            None => push(
                ChangeKind::NodeAppeared,
                format!("node {} appeared", n.label()),
            ),
            Some(o) => {
                let (h0, h1) = (Health::of(o), Health::of(n));
                if h0 != h1 {
                    let kind = if h1 > h0 {
                        ChangeKind::NodeFailing
                    } else {
                        ChangeKind::NodeRecovered
                    };
                    push(
                        kind,
                        format!("{} {} → {}", n.label(), h0.label(), h1.label()),
                    );
                }
                if let Some((kind, text)) = link_change(new, o, n) {
                    push(kind, text);
                }
                if o.role == Role::Replica && n.role == Role::Master {
                    let was = o
                        .master_id
                        .as_ref()
                        .map_or_else(|| "its master".to_owned(), |m| name(old, m));
                    push(
                        ChangeKind::Failover,
                        format!(
                            "failover: {} promoted to master (replaced {was})",
                            n.label()
                        ),
                    );
                } else if o.role == Role::Master && n.role == Role::Replica {
                    push(
                        ChangeKind::Failover,
                        format!("{} is now a replica", n.label()),
                    );
                }
            }
        }
    }
    for (k, n) in &before {
        if !after.contains_key(k) {
            push(
                ChangeKind::NodeDisappeared,
                format!("node {} disappeared", n.label()),
            );
        }
    }

    // Slot owner changes, grouped by (old owner, new owner).
    let owner_key = |m: &ClusterModel, i: Option<u32>| -> Option<String> {
        i.and_then(|i| m.nodes.get(i as usize)).map(key)
    };
    let mut moves: BTreeMap<(Option<String>, Option<String>), Vec<Slot>> = BTreeMap::new();
    for (s, (a, b)) in old.slots.iter().zip(&new.slots).enumerate() {
        let (oa, ob) = (owner_key(old, a.owner), owner_key(new, b.owner));
        if oa != ob {
            let Ok(slot) = Slot::try_from(s) else {
                continue;
            };
            moves.entry((oa, ob)).or_default().push(slot);
        }
    }
    let label = |m: &ClusterModel, k: &Option<String>| -> String {
        k.as_ref().map_or_else(
            || "nobody".to_owned(),
            |k| {
                m.nodes
                    .iter()
                    .find(|n| &key(n) == k)
                    .map_or_else(|| k.chars().take(8).collect(), |n| n.addr.to_string())
            },
        )
    };
    for ((a, b), slots) in &moves {
        let ranges: Vec<SlotRange> = slots_to_ranges(slots.iter().copied());
        push(
            ChangeKind::SlotsMoved,
            format!(
                "{} slot(s) {} moved {} → {}",
                slots.len(),
                crate::cluster::slots::format_ranges(&ranges[..ranges.len().min(4)]),
                label(old, a),
                label(new, b)
            ),
        );
    }

    let (m0, m1) = (markers(old), markers(new));
    for (slot, node, peer, migrating) in m1.difference(&m0) {
        let what = if *migrating {
            "migrating to"
        } else {
            "importing from"
        };
        push(
            ChangeKind::MarkerSet,
            format!(
                "slot {slot}: {} {what} {}",
                name(new, node),
                name(new, peer)
            ),
        );
    }
    for (slot, node, peer, migrating) in m0.difference(&m1) {
        let what = if *migrating { "migrating" } else { "importing" };
        push(
            ChangeKind::MarkerCleared,
            format!(
                "slot {slot}: {what} marker cleared on {} (peer {})",
                name(old, node),
                name(old, peer)
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ServerInfo;
    use crate::cluster::testkit::ModelBuilder;

    fn with_link(status: &str) -> ClusterModel {
        let mut b = ModelBuilder::healthy(3, 1);
        b.get(10u16).info = Some(ServerInfo {
            role: Some("slave".into()),
            master_link_status: Some(status.into()),
            ..ServerInfo::default()
        });
        b.build()
    }

    #[test]
    fn a_replication_link_going_down_and_back_is_on_the_timeline() {
        let (up, down) = (with_link("up"), with_link("down"));
        let broke = diff_models(&up, &down, 1);
        assert_eq!(broke.len(), 1, "{broke:?}");
        assert_eq!(broke[0].kind, ChangeKind::NodeFailing);
        assert_eq!(
            broke[0].text,
            "replication link down: 127.0.0.1:7010 from 127.0.0.1:7000"
        );
        let back = diff_models(&down, &up, 2);
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!(back[0].kind, ChangeKind::NodeRecovered);
        assert!(
            back[0].text.starts_with("replication link up: "),
            "{back:?}"
        );
        assert!(diff_models(&up, &up, 3).is_empty());
    }
}
