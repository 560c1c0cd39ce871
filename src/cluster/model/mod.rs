//! The cluster model: the union of every node's view, a consensus slot map, open slots and
//! disagreements, built from one [`ClusterSnapshot`]. Pure code: no I/O.
//!
//! This file holds the model's public types and accessors; the construction,
//! [`ClusterModel::build`], lives in `build/`, one file per step. The model's tests sit
//! beside the step they exercise; their shared fixtures are in `testkit.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod build;
#[cfg(test)]
mod testkit;
mod viewers;

pub use viewers::Viewers;

use super::slots::{Slot, SlotRange};
use super::types::{
    ClusterSnapshot, Endpoint, NodeAddr, NodeConfig, NodeFlags, NodeId, NodeLine, ProbeError,
    ServerInfo,
};

/// State of one slot in the consensus map. The order is the severity order used by the
/// heatmap ("worst state wins"): later variants are worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// Bound to a non-failing master that claims it, every member view agrees; no markers.
    Served,
    /// Open: a migrating and/or importing marker exists for it somewhere.
    Migrating,
    /// Reachable nodes disagree about the owner, including some binding it to a master and
    /// others to none.
    Disputed,
    /// Bound to a master that is failing ([`NodeSummary::is_failing`]: our probe failed, or
    /// peers flag it FAIL, or most of them PFAIL).
    OwnerFailing,
    /// Not bound to any master.
    Uncovered,
}

impl SlotState {
    /// One ASCII letter for mono output and legends.
    #[must_use]
    pub fn letter(self) -> char {
        match self {
            Self::Served => '.',
            Self::Migrating => 'M',
            Self::Disputed => 'D',
            Self::OwnerFailing => 'F',
            Self::Uncovered => 'U',
        }
    }

    /// Plain words for the status line.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Served => "served",
            Self::Migrating => "migrating/importing",
            Self::Disputed => "owner disputed",
            Self::OwnerFailing => "owner failing",
            Self::Uncovered => "not served (uncovered)",
        }
    }
}

/// Index of a node in [`ClusterModel::nodes`].
pub type NodeIdx = u32;

/// One entry of the consensus slot map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotEntry {
    /// Consensus owner (index into `ClusterModel::nodes`), if any.
    pub owner: Option<NodeIdx>,
    pub state: SlotState,
}

/// The node's role as best known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Master,
    Replica,
    Unknown,
}

/// Whether slotscope could observe the node itself in this cycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "error", rename_all = "snake_case")]
pub enum Reachability {
    /// Answered every required command.
    Ok,
    /// Probed and failed.
    Failed(ProbeError),
    /// Not probed: no usable address (noaddr / handshake).
    NotProbed,
}

/// What peers think of a node (from their views). Each list names reachable viewing nodes in
/// the order of the snapshot's views; it is a [`Viewers`], which reads and serializes like a
/// `Vec<NodeId>` but holds its ids compactly (all lists of a model pick from one shared list).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerOpinion {
    /// Reachable nodes whose table lists this node.
    pub known_by: Viewers,
    /// Reachable cluster nodes whose table does not list it.
    pub unknown_to: Viewers,
    /// Nodes flagging it `fail?`.
    pub pfail_by: Viewers,
    /// Nodes flagging it `fail`.
    pub fail_by: Viewers,
    /// Nodes listing it in handshake.
    pub handshake_by: Viewers,
    /// Nodes listing it as noaddr.
    pub noaddr_by: Viewers,
    /// Oldest `pong_recv` age in ms among peers that list it (how long since a peer heard from it).
    pub max_pong_age_ms: Option<u64>,
}

/// One node of the cluster: the union of what it says of itself and what peers say of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSummary {
    /// Node id; `None` for a probed endpoint that never told us its id (unreachable seed).
    pub id: Option<NodeId>,
    /// Best known address (own view first, then peers').
    pub addr: NodeAddr,
    /// Endpoint we probe, if any.
    pub endpoint: Option<Endpoint>,
    pub role: Role,
    /// For replicas: the master id.
    pub master_id: Option<NodeId>,
    /// Its own flags if reachable, else the flags most peers give it.
    pub flags: NodeFlags,
    pub reachability: Reachability,
    /// Its own `myself` line, if it answered.
    pub own_line: Option<NodeLine>,
    /// Slots it claims in its own view (or, if unreachable, that peers attribute to it).
    pub claimed_slots: Vec<SlotRange>,
    /// Config epoch (own view first).
    pub config_epoch: u64,
    pub peers: PeerOpinion,
    pub info: Option<ServerInfo>,
    /// Its key census, if it is a master that answered and could be counted.
    pub census: Option<crate::cluster::census::NodeCensus>,
    pub config: Option<NodeConfig>,
    /// Commands it refused (renamed, unknown, not allowed for the user): what could not be
    /// learned from it, and which repair steps it would refuse.
    #[serde(default)]
    pub access: crate::cluster::access::Access,
    /// Its `CLUSTER SLOT-STATS`, when fetched.
    #[serde(default)]
    pub slot_stats: Option<crate::cluster::slot_stats::NodeSlotStats>,
    /// `cluster_state` is ok in its own view.
    pub cluster_state_ok: Option<bool>,
    pub rtt_us: Option<u64>,
    pub observed_at_ms: Option<u64>,
    /// Index into `ClusterSnapshot::observations`, if it was probed.
    pub observation: Option<usize>,
    /// A node that answered as a cluster node but whose table contains only itself and no
    /// slots while the cluster has other nodes: it needs `CLUSTER MEET`.
    pub isolated: bool,
}

impl NodeSummary {
    /// Short id, or the address when the id is unknown.
    #[must_use]
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("{} ({})", self.addr, id.short()),
            None => self.addr.to_string(),
        }
    }

    /// Whether the node counts as failing, for the slots it owns and everywhere else:
    /// - probed by us and the probe failed (`Reachability::Failed`): failing;
    /// - otherwise (it answered, or we did not probe it at all, e.g. a noaddr node or a
    ///   snapshot without its probe) it is judged by its peers: failing if any peer flags it
    ///   `fail`, or if most peer views flag it `fail?` or `fail`. Not being probed by us is no
    ///   evidence of failure.
    ///
    /// The model's slot states use exactly this rule (`SlotState::OwnerFailing`).
    #[must_use]
    pub fn is_failing(&self) -> bool {
        match self.reachability {
            Reachability::Failed(_) => true,
            Reachability::Ok | Reachability::NotProbed => {
                // Every reachable view other than its own either lists it or does not.
                let peer_views = self.peers.known_by.len() + self.peers.unknown_to.len();
                let suspected = self.peers.pfail_by.len() + self.peers.fail_by.len();
                !self.peers.fail_by.is_empty() || (peer_views > 0 && suspected * 2 > peer_views)
            }
        }
    }
}

/// An open slot: its markers on both sides and key counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSlot {
    pub slot: Slot,
    /// Consensus owner.
    pub owner: Option<NodeId>,
    /// (node, target) for every master with a migrating marker: a side of the move.
    pub migrating: Vec<(NodeId, NodeId)>,
    /// (node, source) for every master with an importing marker: a side of the move.
    pub importing: Vec<(NodeId, NodeId)>,
    /// Replicas whose own view marks the slot. Never sides of the move: on Valkey 8+ a
    /// replica holds a copy of its master's marker (set and cleared with it); on Redis 7 a
    /// replica's marker is a leftover (from `nodes.conf` or from before a failover).
    pub on_replicas: Vec<NodeId>,
    /// Keys in the slot per reachable master (from `COUNTKEYSINSLOT`).
    pub keys: BTreeMap<NodeId, u64>,
}

/// A node whose view of slot ownership differs from the consensus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewDisagreement {
    /// The node whose view differs.
    pub node: NodeId,
    /// Ranges where it names `its_owner` but the consensus names `consensus_owner`.
    pub slots: Vec<SlotRange>,
    pub its_owner: Option<NodeId>,
    pub consensus_owner: Option<NodeId>,
    /// Config epoch it believes `its_owner` has.
    pub its_owner_epoch: Option<u64>,
    /// Config epoch of the consensus owner (own view).
    pub consensus_owner_epoch: Option<u64>,
}

/// The consensus picture of the cluster in one refresh cycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterModel {
    pub generation: u64,
    pub taken_at_ms: u64,
    /// Every node anybody knows, plus probed endpoints with unknown id.
    /// Order: masters by first slot, each followed by its replicas, then the rest.
    pub nodes: Vec<NodeSummary>,
    /// `SLOT_COUNT` entries.
    pub slots: Vec<SlotEntry>,
    pub open_slots: Vec<OpenSlot>,
    pub disagreements: Vec<ViewDisagreement>,
    /// Keys per uncovered slot per reachable master (only slots with keys).
    pub uncovered_keys: BTreeMap<Slot, BTreeMap<NodeId, u64>>,
    /// Reshards in progress since the previous snapshot (the snapshot's own progress).
    #[serde(default)]
    pub progress: super::progress::Progress,
    /// Atomic slot migrations (Valkey 9+) reported by any node, newest first.
    #[serde(default)]
    pub slot_migrations: Vec<crate::cluster::slot_migrations::AtomicMigration>,
}

impl ClusterModel {
    /// The `INFO` that tells which server `n` runs: its own, else (it did not answer) that of
    /// the first node that did. Advice names `valkey-server` / `valkey-cli` from it.
    #[must_use]
    pub fn server_info_of<'a>(&'a self, n: &'a NodeSummary) -> Option<&'a ServerInfo> {
        n.info
            .as_ref()
            .or_else(|| self.nodes.iter().find_map(|o| o.info.as_ref()))
    }

    /// Build the model from a snapshot. Never panics, whatever the snapshot holds.
    ///
    /// Rules:
    /// - nodes: the union of every node any reachable node lists, plus probed endpoints whose
    ///   id is unknown;
    /// - slot owner: the owner most reachable views name (a node's own claim is its vote;
    ///   ties go to the higher config epoch). A vote for a reachable node on a slot that the
    ///   node's own view does not claim is discarded: the owner itself is authoritative about
    ///   what it serves, so a slot only stale peers still bind is uncovered. Views binding a
    ///   slot to no master do not elect "no owner" while a master claims it (the claimant
    ///   holds the keys), but they make the slot disputed;
    /// - failing owner: [`NodeSummary::is_failing`] (a node we did not probe is judged by its
    ///   peers' flags alone);
    /// - slot state: worst applicable of uncovered > owner failing > disputed > migrating >
    ///   served.
    #[must_use]
    pub fn build(snapshot: &ClusterSnapshot) -> Self {
        build::build(snapshot)
    }

    /// Node by id.
    #[must_use]
    pub fn node(&self, id: &NodeId) -> Option<&NodeSummary> {
        self.nodes.iter().find(|n| n.id.as_ref() == Some(id))
    }

    /// Index of a node by id.
    #[must_use]
    pub fn node_index(&self, id: &NodeId) -> Option<NodeIdx> {
        self.nodes
            .iter()
            .position(|n| n.id.as_ref() == Some(id))
            .and_then(|i| NodeIdx::try_from(i).ok())
    }

    /// Consensus owner of a slot.
    #[must_use]
    pub fn owner_of(&self, slot: Slot) -> Option<&NodeSummary> {
        self.slots
            .get(usize::from(slot))
            .and_then(|e| e.owner)
            .and_then(|i| self.nodes.get(i as usize))
    }

    /// Number of slots in each state.
    #[must_use]
    pub fn state_counts(&self) -> BTreeMap<SlotState, usize> {
        let mut out = BTreeMap::new();
        for e in &self.slots {
            *out.entry(e.state).or_insert(0) += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::cluster::model::testkit::*;

    #[test]
    fn healthy_three_plus_three() {
        let m = ClusterModel::build(&healthy());
        assert_eq!(m.nodes.len(), 6);
        assert_eq!(
            order(&m),
            [
                "d756d113", "239f1fdb", "0b596eb3", "ebeee39c", "0a63eccd", "3f3fd9e9"
            ]
        );
        assert_eq!(ranges_in(&m, SlotState::Served), "0-16383");
        assert_eq!(owner_id(&m, 0), Some(A));
        assert_eq!(owner_id(&m, 5461), Some(B));
        assert_eq!(owner_id(&m, 16383), Some(C));
        assert!(
            m.open_slots.is_empty() && m.disagreements.is_empty() && m.uncovered_keys.is_empty()
        );
        for n in &m.nodes {
            assert_eq!(n.reachability, Reachability::Ok);
            assert_eq!(n.peers.known_by.len(), 5, "{}", n.label());
            assert!(n.peers.unknown_to.is_empty() && n.peers.fail_by.is_empty());
            assert!(!n.isolated && !n.is_failing());
            assert!(n.own_line.is_some() && n.info.is_some());
            assert_eq!(n.cluster_state_ok, Some(true));
            assert!(n.peers.max_pong_age_ms.is_some_and(|a| a < 2000));
        }
        let a1 = m.node(&id(A1)).unwrap();
        assert_eq!(
            (a1.role, a1.master_id.as_ref()),
            (Role::Replica, Some(&id(A)))
        );
        let a = m.node(&id(A)).unwrap();
        assert_eq!(a.claimed_slots, vec![SlotRange::new(0, 5460)]);
        assert_eq!(a.config_epoch, 1);
        assert_eq!(a.endpoint, Some(Endpoint::new("127.0.0.1", 31000)));
        assert_eq!(m.node_index(&id(B)), Some(2));
    }

    #[test]
    fn pfail_majority_rule() {
        let cp = "cccc 127.0.0.1:7002@17002 master,fail? - 50 10 3 connected 10923-16383";
        let (a_sus, b_sus, b_ok) = (
            table("a", &[], &[("c", cp)]),
            table("b", &[], &[("c", cp)]),
            table("b", &[], &[]),
        );
        let c = table("c", &[], &[]);
        let mk = |b: &str| {
            ClusterModel::build(&snapshot_from_texts(&[
                ("127.0.0.1:7000", Ok(&a_sus)),
                ("127.0.0.1:7001", Ok(b)),
                ("127.0.0.1:7002", Ok(&c)),
            ]))
        };
        let m = mk(&b_sus);
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "10923-16383");
        assert_eq!(m.node(&id("cccc")).unwrap().peers.pfail_by.len(), 2);
        let m = mk(&b_ok);
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "none");
        // `fail` by anyone is enough.
        let cf = "cccc 127.0.0.1:7002@17002 master,fail - 50 10 3 connected 10923-16383";
        let a_fail = table("a", &[], &[("c", cf)]);
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a_fail)),
            ("127.0.0.1:7001", Ok(&b_ok)),
            ("127.0.0.1:7002", Ok(&c)),
        ]));
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "10923-16383");
    }

    #[test]
    fn not_probed_nodes_are_judged_by_their_peers() {
        // Only 32100 answered; 32101 and 32102 are in its table, fine, and not probed.
        let only =
            snapshot_from_texts(&[("127.0.0.1:32100", Ok(fixture!("forgotten_nodes_32100.txt")))]);
        let m = ClusterModel::build(&only);
        for n in &m.nodes {
            assert!(!n.is_failing(), "{}", n.label());
        }
        assert_eq!(ranges_in(&m, SlotState::Served), "0-12287");
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "none");

        // The captured noaddr node: not probed, flagged `fail` by its peers: failing.
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:31000", Ok(fixture!("noaddr_nodes_31000.txt"))),
            ("127.0.0.1:31003", Ok(fixture!("noaddr_nodes_31003.txt"))),
            ("127.0.0.1:31005", Ok(fixture!("noaddr_nodes_31005.txt"))),
        ]));
        let b = m.node(&id(B)).unwrap();
        assert_eq!(b.reachability, Reachability::NotProbed);
        assert!(b.is_failing());
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "5461-10922");

        // Not probed, `fail?` by one of three views: a suspicion, not a failure; by two: failing.
        let cp = "cccc 127.0.0.1:7002@17002 master,fail? - 50 10 3 connected 10923-16383";
        let (a_ok, b_ok) = (table("a", &[], &[]), table("b", &[], &[]));
        let (a_sus, b_sus) = (table("a", &[], &[("c", cp)]), table("b", &[], &[("c", cp)]));
        // A third view (a replica of A) that does not suspect C.
        let d_ok = a_ok.replace("myself,", "")
            + "\ndddd 127.0.0.1:7003@17003 myself,slave aaaa 0 100 1 connected";
        let mk = |a: &str, b: &str| {
            ClusterModel::build(&snapshot_from_texts(&[
                ("127.0.0.1:7000", Ok(a)),
                ("127.0.0.1:7001", Ok(b)),
                ("127.0.0.1:7003", Ok(&d_ok)),
            ]))
        };
        let m = mk(&a_sus, &b_ok);
        let c = m.node(&id("cccc")).unwrap();
        assert_eq!(c.reachability, Reachability::NotProbed);
        assert!(!c.is_failing());
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "none");
        let m = mk(&a_sus, &b_sus);
        assert!(m.node(&id("cccc")).unwrap().is_failing());
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "10923-16383");
    }
}
