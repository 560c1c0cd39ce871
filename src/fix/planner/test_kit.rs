//! What the planner's tests share: a model builder with nodes by letter (ports 7000 + the
//! letter's index), a three-master cluster, and helpers to find a plan and list its commands.

use std::collections::BTreeMap;

use crate::cluster::model::{
    ClusterModel, NodeSummary, OpenSlot, PeerOpinion, Reachability, Role, SlotEntry, SlotState,
};
use crate::cluster::slots::{SLOT_COUNT, Slot, SlotRange, slots_to_ranges};
use crate::cluster::types::{
    MarkerKind, NodeAddr, NodeConfig, NodeFlags, NodeId, NodeLine, OpenMarker, ProbeError,
    ServerInfo,
};
use crate::fix::FixPlan;

pub(super) fn id(c: char) -> NodeId {
    NodeId::from(std::iter::repeat_n(c, 40).collect::<String>())
}

pub(super) fn port(c: char) -> u16 {
    7000 + u16::try_from(u32::from(c) - u32::from('a')).unwrap()
}

/// A small builder for models: nodes by letter, ports 7000 + letter index.
pub(super) struct M {
    pub(super) model: ClusterModel,
}

impl M {
    pub(super) fn new() -> Self {
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
            },
        }
    }

    pub(super) fn node(mut self, c: char, role: Role, slots: &[(Slot, Slot)], up: bool) -> Self {
        let ranges: Vec<SlotRange> = slots.iter().map(|(a, b)| SlotRange::new(*a, *b)).collect();
        let p = port(c);
        let addr = NodeAddr {
            ip: "127.0.0.1".into(),
            port: p,
            cport: p + 10000,
            hostname: None,
        };
        let flags = NodeFlags {
            master: role == Role::Master,
            replica: role == Role::Replica,
            fail: !up,
            ..NodeFlags::default()
        };
        let line = NodeLine {
            id: id(c),
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
        let idx = u32::try_from(self.model.nodes.len()).unwrap();
        for r in &ranges {
            for s in r.iter() {
                self.model.slots[usize::from(s)] = SlotEntry {
                    owner: Some(idx),
                    state: if up {
                        SlotState::Served
                    } else {
                        SlotState::OwnerFailing
                    },
                };
            }
        }
        self.model.nodes.push(NodeSummary {
            id: Some(id(c)),
            addr: addr.clone(),
            endpoint: addr.endpoint(),
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
        });
        self
    }

    pub(super) fn replica_of(mut self, c: char, master: char, up: bool) -> Self {
        self = self.node(c, Role::Replica, &[], up);
        if let Some(n) = self.model.nodes.last_mut() {
            n.master_id = Some(id(master));
        }
        self
    }

    pub(super) fn get(&mut self, c: char) -> &mut NodeSummary {
        self.model
            .nodes
            .iter_mut()
            .find(|n| n.id == Some(id(c)))
            .unwrap()
    }

    /// Every live node knows every other node.
    pub(super) fn everyone_knows(mut self) -> Self {
        let ids: Vec<NodeId> = self
            .model
            .nodes
            .iter()
            .filter(|n| matches!(n.reachability, Reachability::Ok))
            .filter_map(|n| n.id.clone())
            .collect();
        for n in &mut self.model.nodes {
            n.peers.known_by = ids
                .iter()
                .filter(|i| Some(*i) != n.id.as_ref())
                .cloned()
                .collect();
        }
        self
    }

    pub(super) fn open(
        mut self,
        slot: Slot,
        src: char,
        dst: char,
        mig: bool,
        imp: bool,
        keys: &[(char, u64)],
    ) -> Self {
        if mig {
            self.get(src)
                .own_line
                .as_mut()
                .unwrap()
                .markers
                .push(OpenMarker {
                    slot,
                    kind: MarkerKind::Migrating,
                    peer: id(dst),
                });
        }
        if imp {
            self.get(dst)
                .own_line
                .as_mut()
                .unwrap()
                .markers
                .push(OpenMarker {
                    slot,
                    kind: MarkerKind::Importing,
                    peer: id(src),
                });
        }
        self.model.slots[usize::from(slot)].state = SlotState::Migrating;
        self.model.open_slots.push(OpenSlot {
            slot,
            owner: Some(id(src)),
            migrating: if mig {
                vec![(id(src), id(dst))]
            } else {
                Vec::new()
            },
            importing: if imp {
                vec![(id(dst), id(src))]
            } else {
                Vec::new()
            },
            on_replicas: Vec::new(),
            keys: keys.iter().map(|(c, k)| (id(*c), *k)).collect(),
        });
        self
    }

    pub(super) fn uncover(mut self, from: Slot, to: Slot, keys_on: Option<char>) -> Self {
        for s in from..=to {
            self.model.slots[usize::from(s)] = SlotEntry {
                owner: None,
                state: SlotState::Uncovered,
            };
            if let Some(c) = keys_on {
                self.model
                    .uncovered_keys
                    .entry(s)
                    .or_default()
                    .insert(id(c), 2);
            }
        }
        for n in &mut self.model.nodes {
            for line in n.own_line.iter_mut() {
                line.slots = strip(&line.slots, from, to);
            }
            n.claimed_slots = strip(&n.claimed_slots, from, to);
        }
        self
    }

    pub(super) fn build(self) -> ClusterModel {
        self.model
    }
}

pub(super) fn strip(ranges: &[SlotRange], from: Slot, to: Slot) -> Vec<SlotRange> {
    slots_to_ranges(
        ranges
            .iter()
            .flat_map(SlotRange::iter)
            .filter(|s| *s < from || *s > to),
    )
}

pub(super) fn three() -> M {
    M::new()
        .node('a', Role::Master, &[(0, 5460)], true)
        .node('b', Role::Master, &[(5461, 10922)], true)
        .node('c', Role::Master, &[(10923, 16383)], true)
}

pub(super) fn plan<'a>(plans: &'a [FixPlan], id: &str) -> &'a FixPlan {
    plans.iter().find(|p| p.id == id).unwrap_or_else(|| {
        panic!(
            "no plan {id} in {:?}",
            plans.iter().map(|p| &p.id).collect::<Vec<_>>()
        )
    })
}

pub(super) fn commands(p: &FixPlan) -> Vec<String> {
    p.steps
        .iter()
        .map(|s| format!("{} {}", s.endpoint.port, s.command_text()))
        .collect()
}
