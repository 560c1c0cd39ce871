//! The cluster model: the union of every node's view, a consensus slot map, open slots and
//! disagreements, built from one [`ClusterSnapshot`]. Pure code: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::types::{
    ClusterSnapshot, Endpoint, NodeAddr, NodeConfig, NodeFlags, NodeId, NodeLine, ProbeError,
    ServerInfo, Slot, SlotRange, SLOT_COUNT,
};

/// State of one slot in the consensus map. The order is the severity order used by the
/// heatmap ("worst state wins"): later variants are worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// Bound to a reachable, non-failing master that claims it; no markers.
    Served,
    /// Open: a migrating and/or importing marker exists for it somewhere.
    Migrating,
    /// Reachable nodes disagree about the owner.
    Disputed,
    /// Bound to a master that is unreachable or flagged PFAIL/FAIL.
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

/// What peers think of a node (from their views).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerOpinion {
    /// Reachable nodes whose table lists this node.
    pub known_by: Vec<NodeId>,
    /// Reachable cluster nodes whose table does not list it.
    pub unknown_to: Vec<NodeId>,
    /// Nodes flagging it `fail?`.
    pub pfail_by: Vec<NodeId>,
    /// Nodes flagging it `fail`.
    pub fail_by: Vec<NodeId>,
    /// Nodes listing it in handshake.
    pub handshake_by: Vec<NodeId>,
    /// Nodes listing it as noaddr.
    pub noaddr_by: Vec<NodeId>,
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
    pub config: Option<NodeConfig>,
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

    /// PFAIL/FAIL by any peer, or unreachable by us.
    #[must_use]
    pub fn is_failing(&self) -> bool {
        !matches!(self.reachability, Reachability::Ok)
            || self.flags.fail
            || !self.peers.fail_by.is_empty()
    }
}

/// An open slot: its markers on both sides and key counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSlot {
    pub slot: Slot,
    /// Consensus owner.
    pub owner: Option<NodeId>,
    /// (node, target) for every node with a migrating marker.
    pub migrating: Vec<(NodeId, NodeId)>,
    /// (node, source) for every node with an importing marker.
    pub importing: Vec<(NodeId, NodeId)>,
    /// Markers found on replicas (node ids).
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
}

impl ClusterModel {
    /// Build the model from a snapshot. Never panics, whatever the snapshot holds.
    #[must_use]
    pub fn build(snapshot: &ClusterSnapshot) -> Self {
        let _ = snapshot;
        Self {
            generation: snapshot.generation,
            taken_at_ms: snapshot.finished_at_ms,
            nodes: Vec::new(),
            slots: vec![
                SlotEntry {
                    owner: None,
                    state: SlotState::Uncovered
                };
                SLOT_COUNT
            ],
            open_slots: Vec::new(),
            disagreements: Vec::new(),
            uncovered_keys: BTreeMap::new(),
        }
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
