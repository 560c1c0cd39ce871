//! One hand-built [`ClusterModel`] builder for the tests of the diagnosis, the planner and
//! whatever else needs a model without parsing or probing: [`ModelBuilder`].
//!
//! Nodes are named by a number (`3`: id `03` repeated, port 7003) or by a letter (`'c'`: id
//! `c` repeated, port 7002); both are a [`NodeName`], and every method takes either. Two ways
//! to add nodes:
//! - [`ModelBuilder::healthy`]: `m` masters splitting the slots evenly with `r` replicas each,
//!   numbered, as a refresh observed them (server info, config, round trip, no own line);
//! - [`ModelBuilder::node`] / [`ModelBuilder::replica_of`]: one node at a time, with its own
//!   `CLUSTER NODES` line while it is up (markers of open slots go there).
//!
//! Then break the cluster (`kill`, `suspect`, `failover`, `open`, `uncover`, …) and `build`.

use std::collections::BTreeMap;

use super::model::{
    ClusterModel, NodeSummary, OpenSlot, PeerOpinion, Reachability, Role, SlotEntry, SlotState,
};
use super::slots::{SLOT_COUNT, Slot, SlotRange, ranges_to_slots, slots_to_ranges};
use super::types::{
    Endpoint, MarkerKind, NodeAddr, NodeConfig, NodeFlags, NodeId, NodeLine, OpenMarker,
    ProbeError, ServerInfo,
};

/// A node's name in a built model: a number or a letter.
pub trait NodeName: Copy {
    /// The node's id (40 characters).
    fn id(self) -> NodeId;
    /// The node's port on 127.0.0.1 (its cluster bus port is 10000 above).
    fn port(self) -> u16;
}

/// Node `n`: id `nn` (two hex digits) repeated, port 7000 + n.
impl NodeName for u16 {
    fn id(self) -> NodeId {
        NodeId::from(format!("{self:02x}").repeat(20))
    }

    fn port(self) -> u16 {
        7000 + self
    }
}

/// Node `'a'`, `'b'`, …: the letter repeated, port 7000 + the letter's index.
impl NodeName for char {
    fn id(self) -> NodeId {
        NodeId::from(std::iter::repeat_n(self, 40).collect::<String>())
    }

    fn port(self) -> u16 {
        let index = u32::from(self).saturating_sub(u32::from('a'));
        7000 + u16::try_from(index).unwrap_or(0)
    }
}

/// The id of a node of a built model.
pub fn id(name: impl NodeName) -> NodeId {
    name.id()
}

/// The port of a node of a built model.
pub fn port(name: impl NodeName) -> u16 {
    name.port()
}

fn addr(port: u16) -> NodeAddr {
    NodeAddr {
        ip: "127.0.0.1".into(),
        port,
        cport: port + 10000,
        hostname: None,
    }
}

fn refused() -> Reachability {
    Reachability::Failed(ProbeError::ConnectFailed("Connection refused".into()))
}

/// A reachable node as a refresh observed it (server info, config, a round trip), without its
/// own `CLUSTER NODES` line and without slots.
pub fn new_node(name: impl NodeName, role: Role) -> NodeSummary {
    NodeSummary {
        id: Some(name.id()),
        addr: addr(name.port()),
        endpoint: Some(Endpoint::new("127.0.0.1", name.port())),
        role,
        master_id: None,
        flags: NodeFlags {
            master: role == Role::Master,
            replica: role == Role::Replica,
            ..NodeFlags::default()
        },
        reachability: Reachability::Ok,
        own_line: None,
        claimed_slots: Vec::new(),
        config_epoch: 0,
        peers: PeerOpinion::default(),
        census: None,
        access: crate::cluster::access::Access::default(),
        slot_stats: None,
        info: Some(ServerInfo::default()),
        config: Some(NodeConfig {
            require_full_coverage: Some(true),
            node_timeout_ms: Some(2000),
            ..NodeConfig::default()
        }),
        cluster_state_ok: Some(true),
        rtt_us: Some(100),
        observed_at_ms: Some(1_000_000),
        observation: None,
        isolated: false,
    }
}

/// A node with its own `CLUSTER NODES` line while `up`, claiming `ranges`, 100 keys.
fn live_node(name: impl NodeName, role: Role, ranges: Vec<SlotRange>, up: bool) -> NodeSummary {
    let addr = addr(name.port());
    let flags = NodeFlags {
        master: role == Role::Master,
        replica: role == Role::Replica,
        fail: !up,
        ..NodeFlags::default()
    };
    let line = NodeLine {
        id: name.id(),
        addr: addr.clone(),
        flags: NodeFlags {
            myself: true,
            ..flags
        },
        master_id: None,
        ping_sent_ms: 0,
        pong_recv_ms: 0,
        config_epoch: 1,
        link_connected: true,
        slots: ranges.clone(),
        markers: Vec::new(),
    };
    NodeSummary {
        id: Some(name.id()),
        endpoint: addr.endpoint(),
        addr,
        role,
        master_id: None,
        flags,
        reachability: if up {
            Reachability::Ok
        } else {
            Reachability::Failed(ProbeError::ConnectFailed("refused".into()))
        },
        own_line: up.then_some(line),
        claimed_slots: ranges,
        config_epoch: 1,
        peers: PeerOpinion::default(),
        census: None,
        access: crate::cluster::access::Access::default(),
        slot_stats: None,
        info: Some(ServerInfo {
            keys: Some(100),
            ..ServerInfo::default()
        }),
        config: Some(NodeConfig {
            require_full_coverage: Some(true),
            ..NodeConfig::default()
        }),
        cluster_state_ok: Some(up),
        rtt_us: None,
        observed_at_ms: None,
        observation: None,
        isolated: false,
    }
}

/// `ranges` without the slots `from..=to`.
#[must_use]
pub fn strip(ranges: &[SlotRange], from: Slot, to: Slot) -> Vec<SlotRange> {
    slots_to_ranges(ranges_to_slots(ranges).filter(|s| *s < from || *s > to))
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(0)
}

/// A [`ClusterModel`] under construction; [`build`](Self::build) hands it out.
pub struct ModelBuilder {
    pub model: ClusterModel,
}

impl Default for ModelBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ModelBuilder {
    /// No node, every slot uncovered, taken at time 0.
    #[must_use]
    pub fn new() -> Self {
        Self {
            model: ClusterModel {
                generation: 1,
                taken_at_ms: 0,
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
                progress: crate::cluster::progress::Progress::default(),
                slot_migrations: Vec::new(),
            },
        }
    }

    /// `masters` masters splitting the slots evenly, each with `replicas` replicas, taken at
    /// time 1,000,000. Masters are nodes 0.., replicas of master k are nodes 10*(k+1)+r; a
    /// master and its replicas have config epoch k+1.
    #[must_use]
    pub fn healthy(masters: u16, replicas: u16) -> Self {
        let mut b = Self::new();
        b.model.taken_at_ms = 1_000_000;
        let per = SLOT_COUNT / usize::from(masters);
        for k in 0..masters {
            let mut m = new_node(k, Role::Master);
            m.config_epoch = u64::from(k) + 1;
            let start = usize::from(k) * per;
            let end = if k + 1 == masters {
                SLOT_COUNT - 1
            } else {
                start + per - 1
            };
            m.claimed_slots = vec![SlotRange::new(
                Slot::try_from(start).unwrap_or(0),
                Slot::try_from(end).unwrap_or(0),
            )];
            let idx = index(b.model.nodes.len());
            for e in &mut b.model.slots[start..=end] {
                *e = SlotEntry {
                    owner: Some(idx),
                    state: SlotState::Served,
                };
            }
            b.model.nodes.push(m);
            for r in 0..replicas {
                let mut rep = new_node(10 * (k + 1) + r, Role::Replica);
                rep.master_id = Some(k.id());
                rep.config_epoch = u64::from(k) + 1;
                b.model.nodes.push(rep);
            }
        }
        b
    }

    /// Add a node with its own line while `up`; it owns `slots` in the table (served, or
    /// owner failing when down).
    #[must_use]
    pub fn node(
        mut self,
        name: impl NodeName,
        role: Role,
        slots: &[(Slot, Slot)],
        up: bool,
    ) -> Self {
        let ranges: Vec<SlotRange> = slots.iter().map(|(a, b)| SlotRange::new(*a, *b)).collect();
        let idx = index(self.model.nodes.len());
        for s in ranges_to_slots(&ranges) {
            self.model.slots[usize::from(s)] = SlotEntry {
                owner: Some(idx),
                state: if up {
                    SlotState::Served
                } else {
                    SlotState::OwnerFailing
                },
            };
        }
        self.model.nodes.push(live_node(name, role, ranges, up));
        self
    }

    /// Add a replica of `master` with its own line while `up`.
    #[must_use]
    pub fn replica_of(mut self, name: impl NodeName, master: impl NodeName, up: bool) -> Self {
        self = self.node(name, Role::Replica, &[], up);
        if let Some(n) = self.model.nodes.last_mut() {
            n.master_id = Some(master.id());
        }
        self
    }

    /// The index of a node in `model.nodes` (`usize::MAX` if there is none).
    #[must_use]
    pub fn idx(&self, name: impl NodeName) -> usize {
        let id = name.id();
        self.model
            .nodes
            .iter()
            .position(|x| x.id.as_ref() == Some(&id))
            .unwrap_or(usize::MAX)
    }

    /// A node, to change it in place.
    ///
    /// # Panics
    /// If the model has no such node.
    pub fn get(&mut self, name: impl NodeName) -> &mut NodeSummary {
        let id = name.id();
        self.model
            .nodes
            .iter_mut()
            .find(|n| n.id.as_ref() == Some(&id))
            .unwrap_or_else(|| panic!("no node {id} in the built model"))
    }

    /// The ids of the reachable nodes.
    #[must_use]
    pub fn live_ids(&self) -> Vec<NodeId> {
        self.model
            .nodes
            .iter()
            .filter(|x| matches!(x.reachability, Reachability::Ok))
            .filter_map(|x| x.id.clone())
            .collect()
    }

    /// The ids of the reachable nodes but `skip`.
    #[must_use]
    pub fn ids_except<N: NodeName>(&self, skip: &[N]) -> Vec<NodeId> {
        let mut ids = self.live_ids();
        ids.retain(|id| !skip.iter().any(|s| s.id() == *id));
        ids
    }

    /// Node `n` stops; its peers agree it failed.
    #[must_use]
    pub fn kill(mut self, n: impl NodeName) -> Self {
        let others = self.ids_except(&[n]);
        let node = self.get(n);
        node.reachability = refused();
        node.info = None;
        node.config = None;
        node.cluster_state_ok = None;
        node.flags.fail = true;
        node.peers.fail_by = others.into();
        node.peers.max_pong_age_ms = Some(60_000);
        self
    }

    /// Node `n` stops; its peers only suspect it (`fail?`), heard from `age_ms` ago.
    #[must_use]
    pub fn suspect(mut self, n: impl NodeName, age_ms: u64) -> Self {
        let others = self.ids_except(&[n]);
        let node = self.get(n);
        node.reachability = refused();
        node.info = None;
        node.config = None;
        node.cluster_state_ok = None;
        node.flags.pfail = true;
        node.peers.pfail_by = others.into();
        node.peers.max_pong_age_ms = Some(age_ms);
        self
    }

    /// Every reachable node reports `cluster_state:fail`.
    #[must_use]
    pub fn all_fail(mut self) -> Self {
        for x in &mut self.model.nodes {
            if matches!(x.reachability, Reachability::Ok) {
                x.cluster_state_ok = Some(false);
            }
        }
        self
    }

    /// Replica `rep` took over the slots of `old` (which stays failed, slot-less).
    #[must_use]
    pub fn failover(mut self, old: impl NodeName, rep: impl NodeName) -> Self {
        self = self.kill(old);
        let old_i = self.idx(old);
        let new_u = index(self.idx(rep));
        let old_u = index(old_i);
        for e in &mut self.model.slots {
            if e.owner == Some(old_u) {
                e.owner = Some(new_u);
            }
        }
        let slots = std::mem::take(&mut self.model.nodes[old_i].claimed_slots);
        let r = self.get(rep);
        r.role = Role::Master;
        r.master_id = None;
        r.flags.master = true;
        r.flags.replica = false;
        r.claimed_slots = slots;
        r.config_epoch = 9;
        self
    }

    /// Every live node knows every other node.
    #[must_use]
    pub fn everyone_knows(mut self) -> Self {
        let ids = self.live_ids();
        for n in &mut self.model.nodes {
            n.peers.known_by = ids
                .iter()
                .filter(|i| Some(*i) != n.id.as_ref())
                .cloned()
                .collect();
        }
        self
    }

    /// A marker in a node's own line (none when the node is down).
    fn mark(&mut self, node: impl NodeName, slot: Slot, kind: MarkerKind, peer: impl NodeName) {
        if let Some(line) = self.get(node).own_line.as_mut() {
            line.markers.push(OpenMarker {
                slot,
                kind,
                peer: peer.id(),
            });
        }
    }

    /// Slot `slot` half-moved from `src` to `dst`: `migrating` on the source if `mig`,
    /// `importing` on the target if `imp`; `keys` counts the slot's keys per node.
    #[must_use]
    pub fn open<N: NodeName>(
        mut self,
        slot: Slot,
        src: N,
        dst: N,
        mig: bool,
        imp: bool,
        keys: &[(N, u64)],
    ) -> Self {
        if mig {
            self.mark(src, slot, MarkerKind::Migrating, dst);
        }
        if imp {
            self.mark(dst, slot, MarkerKind::Importing, src);
        }
        self.model.slots[usize::from(slot)].state = SlotState::Migrating;
        self.model.open_slots.push(OpenSlot {
            slot,
            owner: Some(src.id()),
            migrating: if mig {
                vec![(src.id(), dst.id())]
            } else {
                Vec::new()
            },
            importing: if imp {
                vec![(dst.id(), src.id())]
            } else {
                Vec::new()
            },
            on_replicas: Vec::new(),
            keys: keys.iter().map(|(c, k)| (c.id(), *k)).collect(),
        });
        self
    }

    /// Slots `from..=to` are bound to nobody: uncovered in the table and no longer claimed by
    /// any node; `keys_on` still stores 2 keys of each.
    #[must_use]
    pub fn uncover(mut self, from: Slot, to: Slot, keys_on: Option<char>) -> Self {
        self = self.uncover_in_table(from, to);
        if let Some(c) = keys_on {
            for s in from..=to {
                self.model
                    .uncovered_keys
                    .entry(s)
                    .or_default()
                    .insert(c.id(), 2);
            }
        }
        for n in &mut self.model.nodes {
            if let Some(line) = &mut n.own_line {
                line.slots = strip(&line.slots, from, to);
            }
            n.claimed_slots = strip(&n.claimed_slots, from, to);
        }
        self
    }

    /// Slots `start..=end` are uncovered in the table only (the nodes' claims stay).
    #[must_use]
    pub fn uncover_in_table(mut self, start: Slot, end: Slot) -> Self {
        for s in start..=end {
            self.model.slots[usize::from(s)] = SlotEntry {
                owner: None,
                state: SlotState::Uncovered,
            };
        }
        self
    }

    /// The model.
    #[must_use]
    pub fn build(self) -> ClusterModel {
        self.model
    }
}
