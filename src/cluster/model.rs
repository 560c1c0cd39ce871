//! The cluster model: the union of every node's view, a consensus slot map, open slots and
//! disagreements, built from one [`ClusterSnapshot`]. Pure code: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::types::{
    ClusterSnapshot, Endpoint, NodeAddr, NodeConfig, NodeFlags, NodeId, NodeLine, ProbeError,
    ServerInfo, Slot, SlotRange,
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

/// The model construction. Everything works on internal node indices (insertion order) and is
/// permuted into display order at the end.
///
/// Cost: O(lines of all views) to collect the nodes, O(nodes × views) for the
/// `unknown_to` lists, and O(views × (segments + ranges)) for the slot map, where a segment
/// is a maximal run of slots on which no view changes its mind. No per-slot allocation.
mod build {
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use std::hash::Hasher as _;

    use crate::cluster::fasthash::{FxHasher, FxMap, IdKey};

    use super::{
        ClusterModel, NodeIdx, NodeSummary, OpenSlot, PeerOpinion, Reachability, Role, SlotEntry,
        SlotState, ViewDisagreement,
    };
    use crate::cluster::types::{
        ClusterNodes, ClusterSnapshot, ClusterState, MarkerKind, NodeAddr, NodeFlags, NodeId,
        NodeLine, ProbeError, SLOT_COUNT, Slot, SlotRange,
    };

    /// One reachable node's `CLUSTER NODES` view.
    struct View<'a> {
        /// Internal index of the viewing node.
        node: usize,
        obs: usize,
        nodes: &'a ClusterNodes,
        me: &'a NodeLine,
        /// When the view was taken (for pong ages).
        at_ms: u64,
    }

    /// A node under construction.
    #[derive(Default)]
    struct Proto<'a> {
        id: Option<&'a NodeId>,
        /// Index into `views` of its own view.
        view: Option<usize>,
        /// (view index, line) for every peer view that lists it.
        peer_lines: Vec<PeerLine<'a>>,
        obs: Option<usize>,
        failed: Option<Cow<'a, ProbeError>>,
    }

    /// A peer's line about a node, with the fields every summary reads copied out of the
    /// line (so that summaries read one compact array per node instead of chasing a million
    /// lines spread over every view).
    #[derive(Clone, Copy)]
    struct PeerLine<'a> {
        /// Index into `views` of the peer's view.
        view: usize,
        flags: NodeFlags,
        pong_recv_ms: u64,
        line: &'a NodeLine,
    }

    /// The segment a view names an owner for, and the epoch it gives that owner.
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct Claim {
        range: SlotRange,
        owner: usize,
        epoch: u64,
    }

    /// Walks one claim list segment by segment: `f(segment, claim naming it)`.
    type SegmentWalk<'w> = dyn Fn(&[Claim], &mut dyn FnMut(usize, Option<&Claim>)) + 'w;

    /// (owner a view names, consensus owner), internal indices.
    type OwnerPair = (Option<usize>, Option<usize>);

    /// Votes of all views on one segment: the first owner named inline (no allocation in
    /// the common case of agreement), other owners in `more`.
    #[derive(Default)]
    struct Votes {
        first: Option<(usize, u32)>,
        more: Vec<(usize, u32)>,
    }

    impl Votes {
        /// `n` more views name `owner`.
        fn add(&mut self, owner: usize, n: u32) {
            match &mut self.first {
                None => self.first = Some((owner, n)),
                Some((o, c)) if *o == owner => *c += n,
                Some(_) => match self.more.iter_mut().find(|(o, _)| *o == owner) {
                    Some((_, c)) => *c += n,
                    None => self.more.push((owner, n)),
                },
            }
        }

        fn iter(&self) -> impl Iterator<Item = &(usize, u32)> {
            self.first.iter().chain(self.more.iter())
        }

        fn distinct(&self) -> usize {
            usize::from(self.first.is_some()) + self.more.len()
        }
    }

    type IdMap<'a> = FxMap<IdKey<'a>, usize>;

    fn get_or_insert<'a>(
        ids: &mut IdMap<'a>,
        protos: &mut Vec<Proto<'a>>,
        id: &'a NodeId,
    ) -> usize {
        *ids.entry(IdKey(id)).or_insert_with(|| {
            protos.push(Proto {
                id: Some(id),
                ..Proto::default()
            });
            protos.len() - 1
        })
    }

    /// The most frequent item (first seen wins ties), with its count.
    fn mode<T: PartialEq + Copy>(items: impl Iterator<Item = T> + Clone) -> Option<(T, usize)> {
        // Fast path, no allocation: every peer says the same (the usual case).
        let mut all = items.clone();
        let first = all.next()?;
        let mut n = 1;
        if all.all(|x| {
            n += 1;
            x == first
        }) {
            return Some((first, n));
        }
        let mut counts: Vec<(T, usize)> = Vec::new();
        for it in items {
            match counts.iter_mut().find(|(x, _)| *x == it) {
                Some((_, n)) => *n += 1,
                None => counts.push((it, 1)),
            }
        }
        let mut best: Option<(T, usize)> = None;
        for (x, n) in counts {
            if best.is_none_or(|(_, bn)| n > bn) {
                best = Some((x, n));
            }
        }
        best
    }

    /// Whether `slot` is inside one of the sorted `ranges`.
    fn ranges_contain(ranges: &[SlotRange], slot: Slot) -> bool {
        let i = ranges.partition_point(|r| r.end < slot);
        ranges.get(i).is_some_and(|r| r.start <= slot)
    }

    #[allow(clippy::too_many_lines)]
    pub(super) fn build(snapshot: &ClusterSnapshot) -> ClusterModel {
        let now_ms = if snapshot.finished_at_ms > 0 {
            snapshot.finished_at_ms
        } else {
            snapshot
                .observations
                .iter()
                .map(|o| o.observed_at_ms)
                .max()
                .unwrap_or(0)
        };

        // 1. Reachable views, one per node id (a node probed twice counts once).
        let mut ids: IdMap<'_> = IdMap::default();
        // Every table is about as large as the cluster: size the map for the largest one.
        let largest = snapshot
            .observations
            .iter()
            .filter_map(|o| o.report().map(|r| r.nodes.lines.len()))
            .max()
            .unwrap_or(0);
        ids.reserve(largest.max(snapshot.observations.len()));
        let mut protos: Vec<Proto<'_>> = Vec::new();
        let mut views: Vec<View<'_>> = Vec::new();
        let mut leftovers: Vec<(usize, Cow<'_, ProbeError>)> = Vec::new();
        for (oi, obs) in snapshot.observations.iter().enumerate() {
            let report = match &obs.result {
                Ok(r) => r,
                Err(e) => {
                    leftovers.push((oi, Cow::Borrowed(e)));
                    continue;
                }
            };
            let Some(me) = report.nodes.myself() else {
                leftovers.push((
                    oi,
                    Cow::Owned(ProbeError::Protocol(
                        "CLUSTER NODES has no `myself` line".into(),
                    )),
                ));
                continue;
            };
            let idx = get_or_insert(&mut ids, &mut protos, &me.id);
            if protos[idx].view.is_some() {
                continue; // duplicate probe of the same node
            }
            protos[idx].view = Some(views.len());
            protos[idx].obs = Some(oi);
            views.push(View {
                node: idx,
                obs: oi,
                nodes: &report.nodes,
                me,
                at_ms: if obs.observed_at_ms > 0 {
                    obs.observed_at_ms
                } else {
                    now_ms
                },
            });
        }

        // 2. Every node any view lists. Each line's id is looked up once: `line_node[vi][li]`
        // is the node of line `li` of view `vi`, reused for the slot claims. The peer lists
        // are sized by a counting pass so that they never reallocate.
        let mut line_node: Vec<Vec<usize>> = Vec::with_capacity(views.len());
        let mut listed: Vec<usize> = Vec::new();
        for view in &views {
            let mut nodes = Vec::with_capacity(view.nodes.lines.len());
            for line in &view.nodes.lines {
                let idx = if std::ptr::eq(line, view.me) {
                    view.node
                } else {
                    get_or_insert(&mut ids, &mut protos, &line.id)
                };
                nodes.push(idx);
                if idx != view.node {
                    if listed.len() <= idx {
                        listed.resize(protos.len(), 0);
                    }
                    listed[idx] += 1;
                }
            }
            line_node.push(nodes);
        }
        for (p, &n) in protos.iter_mut().zip(&listed) {
            p.peer_lines.reserve_exact(n);
        }
        // Same walk: each view's slot claims (sorted and deduplicated in step 5).
        let mut claims_by_view: Vec<Vec<Claim>> = Vec::with_capacity(views.len());
        for (vi, view) in views.iter().enumerate() {
            let mut claims: Vec<Claim> = Vec::new();
            for (line, &idx) in view.nodes.lines.iter().zip(&line_node[vi]) {
                if idx != view.node {
                    protos[idx].peer_lines.push(PeerLine {
                        view: vi,
                        flags: line.flags,
                        pong_recv_ms: line.pong_recv_ms,
                        line,
                    });
                }
                claims.extend(line.slots.iter().map(|&range| Claim {
                    range,
                    owner: idx,
                    epoch: line.config_epoch,
                }));
            }
            claims_by_view.push(claims);
        }
        drop(line_node);

        // 3. Failed probes: attach to the node with that address, else an id-less node.
        let mut by_addr: FxMap<(&str, u16), usize> = FxMap::default();
        let passes: &[bool] = if leftovers.is_empty() {
            &[]
        } else {
            &[false, true]
        };
        for &pass_handshake in passes {
            for (idx, p) in protos.iter().enumerate() {
                let own = p.view.map(|v| views[v].me);
                let mut last: Option<&NodeAddr> = None;
                for line in own.into_iter().chain(p.peer_lines.iter().map(|pl| pl.line)) {
                    if line.flags.handshake != pass_handshake || line.addr.is_unknown() {
                        continue;
                    }
                    // Most peers give a node the same address: insert it once.
                    if last == Some(&line.addr) {
                        continue;
                    }
                    last = Some(&line.addr);
                    by_addr
                        .entry((line.addr.ip.as_str(), line.addr.port))
                        .or_insert(idx);
                    if let Some(h) = &line.addr.hostname {
                        by_addr.entry((h.as_str(), line.addr.port)).or_insert(idx);
                    }
                }
            }
        }
        for (oi, err) in leftovers {
            let ep = &snapshot.observations[oi].endpoint;
            match by_addr.get(&(ep.host.as_str(), ep.port)).copied() {
                Some(idx) if protos[idx].obs.is_none() => {
                    protos[idx].obs = Some(oi);
                    protos[idx].failed = Some(err);
                }
                Some(_) => {} // that node was already observed through another endpoint
                None => protos.push(Proto {
                    obs: Some(oi),
                    failed: Some(err),
                    ..Proto::default()
                }),
            }
        }

        // 4. Summaries (internal order).
        let mut stamp: Vec<usize> = vec![usize::MAX; views.len()];
        let mut summaries: Vec<NodeSummary> = Vec::with_capacity(protos.len());
        for (idx, p) in protos.iter().enumerate() {
            summaries.push(summarize(idx, p, &views, snapshot, &mut stamp));
        }
        let total_nodes = summaries.len();
        for (idx, p) in protos.iter().enumerate() {
            if let Some(v) = p.view {
                let view = &views[v];
                let s = &mut summaries[idx];
                s.isolated = total_nodes > 1
                    && view.nodes.lines.len() == 1
                    && (view.me.slots.is_empty() || s.peers.known_by.is_empty());
            }
        }

        // Whether each node counts as failing for the slots it owns.
        let failing: Vec<bool> = summaries.iter().map(NodeSummary::is_failing).collect();

        // 5. Slot map by segments.
        // Each view's claims as sorted ranges. Identical claim lists (the common case: every
        // healthy view agrees) are kept once, with how many views hold them, so that voting and
        // disagreements cost O(distinct lists × segments), not O(views × segments).
        let mut claims: Vec<Vec<Claim>> = Vec::new();
        let mut claims_of_view: Vec<usize> = Vec::with_capacity(views.len());
        let mut by_hash: FxMap<u64, Vec<usize>> = FxMap::default();
        for mut c in claims_by_view {
            c.sort_unstable_by_key(|c| (c.range.start, c.range.end, c.owner, c.epoch));
            let mut h = FxHasher::default();
            for x in &c {
                h.write_u16(x.range.start);
                h.write_u16(x.range.end);
                h.write_usize(x.owner);
                h.write_u64(x.epoch);
            }
            let same = by_hash.entry(h.finish()).or_default();
            let d = match same.iter().copied().find(|&d| claims[d] == c) {
                Some(d) => d,
                None => {
                    claims.push(c);
                    same.push(claims.len() - 1);
                    claims.len() - 1
                }
            };
            claims_of_view.push(d);
        }
        // Per distinct list: how many views hold it, and how many of those are members (an
        // isolated node's table proves nothing about ownership).
        let mut weight: Vec<u32> = vec![0; claims.len()];
        let mut member_weight: Vec<u32> = vec![0; claims.len()];
        for (vi, &d) in claims_of_view.iter().enumerate() {
            weight[d] += 1;
            if !summaries[views[vi].node].isolated {
                member_weight[d] += 1;
            }
        }
        let mut cut = vec![false; SLOT_COUNT + 1];
        cut[0] = true;
        cut[SLOT_COUNT] = true;
        for c in claims.iter().flatten() {
            cut[usize::from(c.range.start)] = true;
            cut[usize::from(c.range.end) + 1] = true;
        }
        let seg_starts: Vec<Slot> = (0..SLOT_COUNT)
            .filter(|&s| cut[s])
            .filter_map(|s| Slot::try_from(s).ok())
            .collect();
        let seg_range = |k: usize| -> SlotRange {
            let start = seg_starts[k];
            let end = seg_starts
                .get(k + 1)
                .map_or(SLOT_COUNT - 1, |&n| usize::from(n) - 1);
            SlotRange::new(start, Slot::try_from(end).unwrap_or(start))
        };
        // Per view, the claim index naming each segment (walked in lock step).
        let for_each_segment = |claims: &[Claim], f: &mut dyn FnMut(usize, Option<&Claim>)| {
            let mut r = 0;
            for (k, &start) in seg_starts.iter().enumerate() {
                while r < claims.len() && claims[r].range.end < start {
                    r += 1;
                }
                let c = claims.get(r).filter(|c| c.range.start <= start);
                f(k, c);
            }
        };
        let mut votes: Vec<Votes> = (0..seg_starts.len()).map(|_| Votes::default()).collect();
        // Views (of cluster members: an isolated node's empty table proves nothing) that
        // bind the segment to no master.
        let mut unbound_by: Vec<u32> = vec![0; seg_starts.len()];
        for (d, c) in claims.iter().enumerate() {
            for_each_segment(c, &mut |k, claim| match claim {
                Some(claim) => votes[k].add(claim.owner, weight[d]),
                None => unbound_by[k] += member_weight[d],
            });
        }
        let own_claims = |idx: usize| -> Option<&[SlotRange]> {
            protos[idx].view.map(|v| views[v].me.slots.as_slice())
        };
        let mut seg_owner: Vec<Option<usize>> = Vec::with_capacity(seg_starts.len());
        let mut seg_disputed: Vec<bool> = Vec::with_capacity(seg_starts.len());
        for (k, v) in votes.iter().enumerate() {
            let start = seg_starts[k];
            let owner = v
                .iter()
                .filter(|(o, _)| own_claims(*o).is_none_or(|r| ranges_contain(r, start)))
                .max_by(|(a, an), (b, bn)| {
                    an.cmp(bn)
                        .then(summaries[*a].config_epoch.cmp(&summaries[*b].config_epoch))
                        .then(b.cmp(a))
                })
                .map(|(o, _)| *o);
            seg_owner.push(owner);
            // "No owner" is an opinion too: a slot that some views bind to X and others to
            // nobody is not plainly served (e.g. a master every peer has forgotten still
            // claims its slots). The claimant stays the owner: it holds the keys.
            seg_disputed.push(v.distinct() > 1 || (owner.is_some() && unbound_by[k] > 0));
        }

        // Markers (own views only) and open slots.
        let mut marked = vec![false; SLOT_COUNT];
        let mut open: BTreeMap<Slot, OpenSlot> = BTreeMap::new();
        for view in &views {
            let viewer = summaries[view.node].id.clone();
            let Some(viewer) = viewer else { continue };
            let on_replica = summaries[view.node].role == Role::Replica;
            for m in &view.me.markers {
                if let Some(x) = marked.get_mut(usize::from(m.slot)) {
                    *x = true;
                }
                let e = open.entry(m.slot).or_insert_with(|| OpenSlot {
                    slot: m.slot,
                    owner: None,
                    migrating: Vec::new(),
                    importing: Vec::new(),
                    on_replicas: Vec::new(),
                    keys: BTreeMap::new(),
                });
                match m.kind {
                    MarkerKind::Migrating => e.migrating.push((viewer.clone(), m.peer.clone())),
                    MarkerKind::Importing => e.importing.push((viewer.clone(), m.peer.clone())),
                }
                if on_replica && !e.on_replicas.contains(&viewer) {
                    e.on_replicas.push(viewer.clone());
                }
            }
        }

        // 6. Display order and the final slot map.
        let order = display_order(&summaries, &ids, &failing);
        let mut pos = vec![0 as NodeIdx; summaries.len()];
        for (final_idx, &internal) in order.iter().enumerate() {
            pos[internal] = NodeIdx::try_from(final_idx).unwrap_or(NodeIdx::MAX);
        }
        let mut slots = vec![
            SlotEntry {
                owner: None,
                state: SlotState::Uncovered,
            };
            SLOT_COUNT
        ];
        for k in 0..seg_starts.len() {
            let range = seg_range(k);
            let owner = seg_owner[k];
            for s in range.iter() {
                let state = match owner {
                    None => SlotState::Uncovered,
                    Some(o) if failing[o] => SlotState::OwnerFailing,
                    Some(_) if seg_disputed[k] => SlotState::Disputed,
                    Some(_) if marked[usize::from(s)] => SlotState::Migrating,
                    Some(_) => SlotState::Served,
                };
                slots[usize::from(s)] = SlotEntry {
                    owner: owner.map(|o| pos[o]),
                    state,
                };
            }
        }

        // Key counts: open slots (every count) and uncovered slots (non-zero only), from
        // reachable masters.
        let mut uncovered_keys: BTreeMap<Slot, BTreeMap<NodeId, u64>> = BTreeMap::new();
        for view in &views {
            let s = &summaries[view.node];
            let (Some(id), Role::Master) = (&s.id, s.role) else {
                continue;
            };
            let Some(report) = snapshot.observations[view.obs].report() else {
                continue;
            };
            for (&slot, &n) in &report.slot_keys {
                if let Some(o) = open.get_mut(&slot) {
                    o.keys.insert(id.clone(), n);
                }
                let uncovered = slots
                    .get(usize::from(slot))
                    .is_some_and(|e| e.state == SlotState::Uncovered);
                if uncovered && n > 0 {
                    uncovered_keys
                        .entry(slot)
                        .or_default()
                        .insert(id.clone(), n);
                }
            }
        }
        for o in open.values_mut() {
            o.owner = slots
                .get(usize::from(o.slot))
                .and_then(|e| e.owner)
                .and_then(|i| order.get(i as usize))
                .and_then(|&i| summaries[i].id.clone());
        }

        // 7. Disagreements: per view, ranges where it names another owner than the consensus.
        // Computed once per distinct claim list, then stated for every view holding it.
        let mut per_list: Vec<Option<Vec<ViewDisagreement>>> = vec![None; claims.len()];
        let mut disagreements = Vec::new();
        for (vi, &d) in claims_of_view.iter().enumerate() {
            // An isolated node's empty table disagrees everywhere; `isolated` says it all.
            let viewer = &summaries[views[vi].node];
            let Some(node) = viewer.id.as_ref().filter(|_| !viewer.isolated) else {
                continue;
            };
            let list = per_list[d].get_or_insert_with(|| {
                disagreements_of(&claims[d], &seg_owner, &for_each_segment, &seg_range)
                    .into_iter()
                    .map(|((its, cons), (ranges, its_epoch))| ViewDisagreement {
                        node: NodeId::from(""),
                        slots: ranges,
                        its_owner: its.and_then(|i| summaries[i].id.clone()),
                        consensus_owner: cons.and_then(|i| summaries[i].id.clone()),
                        its_owner_epoch: its_epoch,
                        consensus_owner_epoch: cons.map(|i| summaries[i].config_epoch),
                    })
                    .collect()
            });
            disagreements.extend(list.iter().map(|x| ViewDisagreement {
                node: node.clone(),
                ..x.clone()
            }));
        }

        // Permute the nodes into display order.
        // In place, following the permutation's cycles: `nodes[f] = summaries[order[f]]`.
        let mut nodes = summaries;
        let mut perm = order;
        for i in 0..perm.len() {
            let mut cur = i;
            loop {
                let src = perm[cur];
                perm[cur] = cur;
                if src == i || src == cur || src >= nodes.len() {
                    break;
                }
                nodes.swap(cur, src);
                cur = src;
            }
        }

        ClusterModel {
            generation: snapshot.generation,
            taken_at_ms: snapshot.finished_at_ms,
            nodes,
            slots,
            open_slots: open.into_values().collect(),
            disagreements,
            uncovered_keys,
        }
    }

    /// Ranges (merged) where one claim list names another owner than the consensus, grouped
    /// by (its owner, consensus owner), with the epoch the list gives its owner.
    fn disagreements_of(
        claims: &[Claim],
        seg_owner: &[Option<usize>],
        for_each_segment: &SegmentWalk<'_>,
        seg_range: &dyn Fn(usize) -> SlotRange,
    ) -> BTreeMap<OwnerPair, (Vec<SlotRange>, Option<u64>)> {
        let mut groups: BTreeMap<OwnerPair, (Vec<SlotRange>, Option<u64>)> = BTreeMap::new();
        for_each_segment(claims, &mut |k, claim| {
            let its = claim.map(|c| c.owner);
            let cons = seg_owner[k];
            if its == cons {
                return;
            }
            let range = seg_range(k);
            let g = groups.entry((its, cons)).or_default();
            match g.0.last_mut() {
                Some(last) if usize::from(last.end) + 1 == usize::from(range.start) => {
                    last.end = range.end;
                }
                _ => g.0.push(range),
            }
            if g.1.is_none() {
                g.1 = claim.map(|c| c.epoch);
            }
        });
        groups
    }

    /// Everything about one node except `isolated`.
    fn summarize(
        idx: usize,
        p: &Proto<'_>,
        views: &[View<'_>],
        snapshot: &ClusterSnapshot,
        stamp: &mut [usize],
    ) -> NodeSummary {
        let own = p.view.map(|v| views[v].me);
        let obs = p.obs.and_then(|o| snapshot.observations.get(o));
        let report = obs.and_then(|o| o.report()).filter(|_| own.is_some());
        let peer_lines = || p.peer_lines.iter().map(|pl| pl.line);

        // Peer opinion.
        let mut peers = PeerOpinion {
            known_by: Vec::with_capacity(p.peer_lines.len()),
            ..PeerOpinion::default()
        };
        for pl in &p.peer_lines {
            let view = &views[pl.view];
            stamp[pl.view] = idx;
            let viewer = view.me.id.clone();
            if pl.flags.pfail {
                peers.pfail_by.push(viewer.clone());
            }
            if pl.flags.fail {
                peers.fail_by.push(viewer.clone());
            }
            if pl.flags.handshake {
                peers.handshake_by.push(viewer.clone());
            }
            if pl.flags.noaddr {
                peers.noaddr_by.push(viewer.clone());
            }
            if pl.pong_recv_ms > 0 {
                let age = view.at_ms.saturating_sub(pl.pong_recv_ms);
                peers.max_pong_age_ms = Some(peers.max_pong_age_ms.map_or(age, |m| m.max(age)));
            }
            peers.known_by.push(viewer);
        }
        if p.id.is_some() {
            for (vi, view) in views.iter().enumerate() {
                if view.node != idx && stamp[vi] != idx {
                    peers.unknown_to.push(view.me.id.clone());
                }
            }
        }

        let role_of = |f: &NodeFlags| {
            if f.master {
                Role::Master
            } else if f.replica {
                Role::Replica
            } else {
                Role::Unknown
            }
        };
        let listers = p.peer_lines.len();
        let majority = |n: usize| n * 2 > listers;
        let (role, flags, master_id, addr, claimed_slots, config_epoch) = if let Some(own) = own {
            (
                role_of(&own.flags),
                own.flags,
                own.master_id.clone(),
                own.addr.clone(),
                own.slots.clone(),
                own.config_epoch,
            )
        } else {
            let role = mode(
                peer_lines()
                    .map(|l| role_of(&l.flags))
                    .filter(|r| *r != Role::Unknown),
            )
            .map_or(Role::Unknown, |(r, _)| r);
            let count = |f: fn(&NodeFlags) -> bool| peer_lines().filter(|l| f(&l.flags)).count();
            let flags = NodeFlags {
                myself: false,
                master: role == Role::Master,
                replica: role == Role::Replica,
                pfail: majority(count(|f| f.pfail)),
                fail: majority(count(|f| f.fail)),
                handshake: majority(count(|f| f.handshake)),
                noaddr: majority(count(|f| f.noaddr)),
                nofailover: majority(count(|f| f.nofailover)),
            };
            let master_id =
                mode(peer_lines().filter_map(|l| l.master_id.as_ref())).map(|(m, _)| m.clone());
            let addr = mode(peer_lines().map(|l| &l.addr).filter(|a| !a.is_unknown()))
                .map(|(a, _)| a.clone())
                .or_else(|| peer_lines().next().map(|l| l.addr.clone()))
                .or_else(|| {
                    obs.map(|o| NodeAddr {
                        ip: o.endpoint.host.clone(),
                        port: o.endpoint.port,
                        cport: 0,
                        hostname: None,
                    })
                })
                .unwrap_or_default();
            // The slot list most peers give it; ties go to the line with the higher epoch.
            let mut best: Option<(&NodeLine, usize)> = None;
            for l in peer_lines() {
                let n = peer_lines().filter(|x| x.slots == l.slots).count();
                let better = match best {
                    None => true,
                    Some((b, bn)) => n > bn || (n == bn && l.config_epoch > b.config_epoch),
                };
                if better {
                    best = Some((l, n));
                }
                if n * 2 > listers {
                    break;
                }
            }
            let slots = best.map(|(l, _)| l.slots.clone()).unwrap_or_default();
            let epoch = peer_lines().map(|l| l.config_epoch).max().unwrap_or(0);
            (role, flags, master_id, addr, slots, epoch)
        };

        let reachability = match (&p.failed, own) {
            (_, Some(_)) => Reachability::Ok,
            (Some(e), None) => Reachability::Failed(e.as_ref().clone()),
            (None, None) => Reachability::NotProbed,
        };
        let endpoint = obs.map(|o| o.endpoint.clone()).or_else(|| addr.endpoint());
        NodeSummary {
            id: p.id.cloned(),
            addr,
            endpoint,
            role,
            master_id,
            flags,
            reachability,
            own_line: own.cloned(),
            claimed_slots,
            config_epoch,
            peers,
            info: report.map(|r| r.info.clone()),
            config: report.map(|r| r.config.clone()),
            cluster_state_ok: report
                .and_then(|r| r.cluster_info.as_ref())
                .map(|ci| ci.state == ClusterState::Ok),
            rtt_us: obs.and_then(|o| o.rtt_us),
            observed_at_ms: obs.map(|o| o.observed_at_ms),
            observation: p.obs,
            isolated: false,
        }
    }

    /// Masters with slots by first slot, each followed by its replicas; then slot-less
    /// healthy masters, then slot-less failing masters (each with replicas); then replicas of
    /// unknown masters, nodes of unknown role, and id-less endpoints.
    fn display_order(nodes: &[NodeSummary], ids: &IdMap<'_>, failing: &[bool]) -> Vec<usize> {
        let addr_key = |i: usize| (nodes[i].addr.ip.as_str(), nodes[i].addr.port, i);
        let mut replicas_of: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        let mut orphans: Vec<usize> = Vec::new();
        let mut masters: Vec<usize> = Vec::new();
        let mut rest: Vec<usize> = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            match n.role {
                Role::Master => masters.push(i),
                Role::Replica => {
                    match n
                        .master_id
                        .as_ref()
                        .and_then(|m| ids.get(&IdKey(m)))
                        .filter(|&&m| nodes[m].role == Role::Master)
                    {
                        Some(&m) => replicas_of[m].push(i),
                        None => orphans.push(i),
                    }
                }
                Role::Unknown => rest.push(i),
            }
        }
        let group = |i: usize| -> u8 {
            if !nodes[i].claimed_slots.is_empty() {
                0
            } else if failing[i] {
                2
            } else {
                1
            }
        };
        masters.sort_by_key(|&i| {
            let first = nodes[i].claimed_slots.first().map_or(0, |r| r.start);
            (group(i), first, addr_key(i))
        });
        let mut out = Vec::with_capacity(nodes.len());
        for m in masters {
            out.push(m);
            let reps = &mut replicas_of[m];
            reps.sort_by_key(|&i| addr_key(i));
            out.extend(reps.iter().copied());
        }
        orphans.sort_by_key(|&i| addr_key(i));
        rest.sort_by_key(|&i| (nodes[i].id.is_none(), addr_key(i)));
        out.extend(orphans);
        out.extend(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::synthetic::{
        set_slot_keys, snapshot_from_texts, synthetic_cluster, synthetic_single_view,
    };
    use crate::cluster::types::{SLOT_COUNT, format_ranges, slots_to_ranges};
    use proptest::prelude::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/",
                $name
            ))
        };
    }

    const A: &str = "d756d11319b867dd3bbb9ad9da006a1933db47bc"; // 31000
    const B: &str = "0b596eb3fc5fc3d613ab4aa15de855b7628f005d"; // 31001
    const C: &str = "0a63eccdde112d339111f24cef3020a0432998fe"; // 31002
    const A1: &str = "239f1fdb7742fe14ef9ea5ec6b8be7789d522dd8"; // 31003
    const B1: &str = "ebeee39cf88d87966a35b98f6cd54caa3448dd5e"; // 31004
    const C1: &str = "3f3fd9e94f517fdc9ff08fbca341cd7db4eebf9f"; // 31005
    const NEW_B: &str = "613d8165e65e99d532d3ca916f43ad6e03879341"; // 31001 restarted

    fn id(s: &str) -> NodeId {
        NodeId::from(s)
    }

    fn refused() -> ProbeError {
        ProbeError::ConnectFailed("Connection refused".into())
    }

    /// The same table as seen by the node listening on `port`: moves the `myself` flag (and
    /// drops the markers, which only belong to the original `myself`). Used to complete a
    /// captured moment with the views of nodes whose table was not captured.
    fn view_as(text: &str, port: u16) -> String {
        let needle = format!(":{port}@");
        text.lines()
            .map(|l| {
                let mut t: Vec<String> = l
                    .split(' ')
                    .filter(|t| !t.starts_with('['))
                    .map(str::to_owned)
                    .collect();
                let flags: Vec<&str> = t[2].split(',').filter(|f| *f != "myself").collect();
                let mut flags = flags.join(",");
                if t[1].contains(&needle) {
                    flags = format!("myself,{flags}");
                }
                t[2] = flags;
                t.join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn ranges_in(m: &ClusterModel, state: SlotState) -> String {
        format_ranges(&slots_to_ranges(
            (0..SLOT_COUNT)
                .filter(|&s| m.slots[s].state == state)
                .filter_map(|s| Slot::try_from(s).ok()),
        ))
    }

    fn owner_id(m: &ClusterModel, slot: Slot) -> Option<&str> {
        m.owner_of(slot)
            .and_then(|n| n.id.as_ref())
            .map(|i| i.as_str())
    }

    fn order(m: &ClusterModel) -> Vec<String> {
        m.nodes
            .iter()
            .map(|n| {
                n.id.as_ref()
                    .map_or_else(|| n.addr.to_string(), |i| i.short().to_owned())
            })
            .collect()
    }

    fn healthy() -> ClusterSnapshot {
        let a = fixture!("healthy_nodes_31000.txt");
        let views: Vec<String> = (31001..=31005).map(|p| view_as(a, p)).collect();
        let mut entries: Vec<(&str, Result<&str, ProbeError>)> = vec![("127.0.0.1:31000", Ok(a))];
        let eps = [
            "127.0.0.1:31001",
            "127.0.0.1:31002",
            "127.0.0.1:31003",
            "127.0.0.1:31004",
            "127.0.0.1:31005",
        ];
        for (ep, v) in eps.iter().zip(&views) {
            entries.push((ep, Ok(v.as_str())));
        }
        snapshot_from_texts(&entries)
    }

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
    fn failed_master_without_replica() {
        let s = snapshot_from_texts(&[
            (
                "127.0.0.1:31000",
                Ok(fixture!("master_down_nodes_31000.txt")),
            ),
            ("127.0.0.1:31001", Err(refused())),
            ("127.0.0.1:31002", Err(refused())),
            (
                "127.0.0.1:31003",
                Ok(fixture!("master_down_nodes_31003.txt")),
            ),
            ("127.0.0.1:31004", Err(refused())),
            (
                "127.0.0.1:31005",
                Ok(fixture!("master_down_nodes_31005.txt")),
            ),
        ]);
        let m = ClusterModel::build(&s);
        assert_eq!(m.nodes.len(), 6);
        assert_eq!(
            order(&m),
            [
                "d756d113", "239f1fdb", "0b596eb3", "ebeee39c", "3f3fd9e9", "0a63eccd"
            ]
        );
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "5461-10922");
        assert_eq!(ranges_in(&m, SlotState::Migrating), "100,200,300");
        assert_eq!(owner_id(&m, 6000), Some(B));
        let b = m.node(&id(B)).unwrap();
        assert_eq!(b.reachability, Reachability::Failed(refused()));
        assert_eq!(b.role, Role::Master);
        assert!(b.flags.fail && b.is_failing());
        assert_eq!(b.peers.fail_by.len(), 3);
        assert_eq!(b.claimed_slots, vec![SlotRange::new(5461, 10922)]);
        assert_eq!(b.config_epoch, 2);
        assert!(b.peers.max_pong_age_ms.is_some_and(|a| a > 5000));
        assert!(b.own_line.is_none() && b.info.is_none());
        assert_eq!(b.observed_at_ms, Some(s.finished_at_ms));
        // The old master C lost its slots to C' and is a failing slot-less master.
        let c = m.node(&id(C)).unwrap();
        assert!(c.claimed_slots.is_empty() && c.is_failing());
        assert_eq!(owner_id(&m, 16383), Some(C1));
        let b1 = m.node(&id(B1)).unwrap();
        assert_eq!(
            (b1.role, b1.master_id.as_ref()),
            (Role::Replica, Some(&id(B)))
        );
        assert_eq!(m.node(&id(A)).unwrap().cluster_state_ok, Some(false));
        assert!(m.disagreements.is_empty(), "{:?}", m.disagreements);
    }

    fn failover_snapshot() -> ClusterSnapshot {
        let a = fixture!("failover_nodes_31000.txt");
        let (b, a1, b1) = (view_as(a, 31001), view_as(a, 31003), view_as(a, 31004));
        snapshot_from_texts(&[
            ("127.0.0.1:31000", Ok(a)),
            ("127.0.0.1:31001", Ok(&b)),
            ("127.0.0.1:31002", Err(refused())),
            ("127.0.0.1:31003", Ok(&a1)),
            ("127.0.0.1:31004", Ok(&b1)),
            ("127.0.0.1:31005", Ok(fixture!("failover_nodes_31005.txt"))),
        ])
    }

    #[test]
    fn failover_done() {
        let m = ClusterModel::build(&failover_snapshot());
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "none");
        assert_eq!(ranges_in(&m, SlotState::Uncovered), "none");
        assert_eq!(ranges_in(&m, SlotState::Migrating), "100,200");
        assert_eq!(owner_id(&m, 10923), Some(C1));
        let c1 = m.node(&id(C1)).unwrap();
        assert_eq!((c1.role, c1.config_epoch), (Role::Master, 7));
        let c = m.node(&id(C)).unwrap();
        assert_eq!(c.role, Role::Master);
        assert!(c.claimed_slots.is_empty());
        assert_eq!(c.peers.fail_by.len(), 5);
        // The slot-less failed master comes last.
        assert_eq!(order(&m).last().map(String::as_str), Some("0a63eccd"));
        // Slot 200 is migrating from A to the dead C.
        let o200 = m.open_slots.iter().find(|o| o.slot == 200).unwrap();
        assert_eq!(o200.migrating, vec![(id(A), id(C))]);
        assert_eq!(o200.owner, Some(id(A)));
    }

    fn open_slots_snapshot() -> ClusterSnapshot {
        let a = fixture!("open_slots_nodes_31000.txt");
        let (b1, c1) = (view_as(a, 31004), view_as(a, 31005));
        let mut s = snapshot_from_texts(&[
            ("127.0.0.1:31000", Ok(a)),
            (
                "127.0.0.1:31001",
                Ok(fixture!("open_slots_nodes_31001.txt")),
            ),
            (
                "127.0.0.1:31002",
                Ok(fixture!("open_slots_nodes_31002.txt")),
            ),
            (
                "127.0.0.1:31003",
                Ok(fixture!("replica_marker_nodes_31003.txt")),
            ),
            ("127.0.0.1:31004", Ok(&b1)),
            ("127.0.0.1:31005", Ok(&c1)),
        ]);
        assert!(set_slot_keys(
            &mut s,
            "127.0.0.1:31000",
            &[(100, 6), (200, 10), (6000, 0)]
        ));
        assert!(set_slot_keys(
            &mut s,
            "127.0.0.1:31001",
            &[(100, 4), (200, 0), (6000, 1)]
        ));
        assert!(set_slot_keys(
            &mut s,
            "127.0.0.1:31002",
            &[(100, 0), (200, 0), (6000, 0)]
        ));
        assert!(set_slot_keys(&mut s, "127.0.0.1:31003", &[(100, 6)]));
        assert!(!set_slot_keys(&mut s, "127.0.0.1:39999", &[(1, 1)]));
        s
    }

    #[test]
    fn open_slots_both_sides_one_side_and_on_replica() {
        let m = ClusterModel::build(&open_slots_snapshot());
        assert_eq!(ranges_in(&m, SlotState::Migrating), "100,200,300,6000");
        assert_eq!(
            ranges_in(&m, SlotState::Served).len(),
            "0-99,101-199,201-299,301-5999,6001-16383".len()
        );
        let slots: Vec<Slot> = m.open_slots.iter().map(|o| o.slot).collect();
        assert_eq!(slots, [100, 200, 300, 6000]);
        let o = &m.open_slots[0];
        assert_eq!(o.owner, Some(id(A)));
        assert_eq!(o.migrating, vec![(id(A), id(B))]);
        assert_eq!(o.importing, vec![(id(B), id(A))]);
        assert!(o.on_replicas.is_empty());
        // Key counts from masters only (the replica's count is not a side of the move).
        assert_eq!(o.keys, BTreeMap::from([(id(A), 6), (id(B), 4), (id(C), 0)]));
        let o200 = &m.open_slots[1];
        assert_eq!((o200.migrating.len(), o200.importing.len()), (1, 0));
        let o300 = &m.open_slots[2];
        assert_eq!(o300.on_replicas, vec![id(A1)]);
        assert_eq!(o300.migrating, vec![(id(A1), id(B))]);
        assert_eq!(o300.owner, Some(id(A)));
        let o6000 = &m.open_slots[3];
        assert_eq!(o6000.importing, vec![(id(C), id(B))]);
        assert!(o6000.migrating.is_empty());
        assert_eq!(o6000.owner, Some(id(B)));
        assert_eq!(o6000.keys.get(&id(B)), Some(&1));
        assert!(m.disagreements.is_empty());
    }

    #[test]
    fn deleted_slots_noaddr_and_isolated_node() {
        let mut s = snapshot_from_texts(&[
            ("127.0.0.1:31000", Ok(fixture!("delslots_nodes_31000.txt"))),
            ("127.0.0.1:31001", Ok(fixture!("isolated_nodes_31001.txt"))),
            ("127.0.0.1:31002", Err(refused())),
            ("127.0.0.1:31003", Ok(fixture!("delslots_nodes_31003.txt"))),
            ("127.0.0.1:31004", Err(refused())),
            ("127.0.0.1:31005", Ok(fixture!("delslots_nodes_31005.txt"))),
        ]);
        set_slot_keys(&mut s, "127.0.0.1:31005", &[(16001, 3), (16002, 0)]);
        set_slot_keys(&mut s, "127.0.0.1:31000", &[(16001, 0), (16003, 2)]);
        let m = ClusterModel::build(&s);
        // C' stopped claiming 16000-16383; its peers still bind them to it, but the owner's
        // own view is authoritative: the slots are uncovered.
        assert_eq!(ranges_in(&m, SlotState::Uncovered), "16000-16383");
        assert_eq!(owner_id(&m, 16000), None);
        assert_eq!(owner_id(&m, 15999), Some(C1));
        assert_eq!(
            m.uncovered_keys,
            BTreeMap::from([
                (16001, BTreeMap::from([(id(C1), 3)])),
                (16003, BTreeMap::from([(id(A), 2)])),
            ])
        );
        type Row<'a> = (
            &'a str,
            String,
            Option<&'a str>,
            Option<&'a str>,
            Option<u64>,
        );
        let mut dis: Vec<Row<'_>> = m
            .disagreements
            .iter()
            .map(|d| {
                (
                    d.node.short(),
                    format_ranges(&d.slots),
                    d.its_owner.as_ref().map(|i| i.short()),
                    d.consensus_owner.as_ref().map(|i| i.short()),
                    d.its_owner_epoch,
                )
            })
            .collect();
        dis.sort();
        assert_eq!(
            dis,
            [
                (
                    "239f1fdb",
                    "16000-16383".to_owned(),
                    Some("3f3fd9e9"),
                    None,
                    Some(7)
                ),
                (
                    "d756d113",
                    "16000-16383".to_owned(),
                    Some("3f3fd9e9"),
                    None,
                    Some(7)
                ),
            ]
        );
        // The old B: noaddr, no address, never probed; its slots have a failing owner.
        let b = m.node(&id(B)).unwrap();
        assert_eq!(b.reachability, Reachability::NotProbed);
        assert!(b.addr.is_unknown() && b.endpoint.is_none());
        assert_eq!(b.peers.noaddr_by.len(), 3);
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "5461-10922");
        // The restarted 31001 is a new node that knows only itself.
        let nb = m.node(&id(NEW_B)).unwrap();
        assert!(nb.isolated);
        assert_eq!(nb.reachability, Reachability::Ok);
        assert!(nb.peers.known_by.is_empty());
        assert_eq!(nb.peers.unknown_to.len(), 3);
        assert_eq!(m.nodes.iter().filter(|n| n.isolated).count(), 1);
        // Failed probe of 31002 attached to C by address.
        assert_eq!(
            m.node(&id(C)).unwrap().reachability,
            Reachability::Failed(refused())
        );
        assert_eq!(m.nodes.len(), 7);
    }

    /// Hand-written 3-master table; `me` gets `myself`, `extra` lines are appended.
    fn table(me: &str, extra: &[&str], overrides: &[(&str, &str)]) -> String {
        let mut lines = vec![
            (
                "a",
                "aaaa 127.0.0.1:7000@17000 master - 0 100 1 connected 0-5460".to_owned(),
            ),
            (
                "b",
                "bbbb 127.0.0.1:7001@17001 master - 0 100 2 connected 5461-10922".to_owned(),
            ),
            (
                "c",
                "cccc 127.0.0.1:7002@17002 master - 0 100 3 connected 10923-16383".to_owned(),
            ),
        ];
        for (who, line) in overrides {
            if let Some(l) = lines.iter_mut().find(|(w, _)| w == who) {
                l.1 = (*line).to_owned();
            }
        }
        let mut out: Vec<String> = lines
            .into_iter()
            .map(|(w, l)| {
                if w == me {
                    l.replacen(" master ", " myself,master ", 1)
                } else {
                    l
                }
            })
            .collect();
        out.extend(extra.iter().map(|s| (*s).to_owned()));
        out.join("\n")
    }

    #[test]
    fn disputed_ownership_and_epoch_ties() {
        let c_claims = "cccc 127.0.0.1:7002@17002 master - 0 100 9 connected 0-99 10923-16383";
        let a = table("a", &[], &[]);
        let b = table("b", &[], &[]);
        let a_in_c = "aaaa 127.0.0.1:7000@17000 master - 0 100 1 connected 100-5460";
        let c = table("c", &[], &[("c", c_claims), ("a", a_in_c)]);
        let s = snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
        ]);
        let m = ClusterModel::build(&s);
        assert_eq!(ranges_in(&m, SlotState::Disputed), "0-99");
        assert_eq!(owner_id(&m, 50), Some("aaaa"));
        assert_eq!(m.disagreements.len(), 1);
        let d = &m.disagreements[0];
        assert_eq!(
            (d.node.as_str(), format_ranges(&d.slots)),
            ("cccc", "0-99".to_owned())
        );
        assert_eq!(
            (d.its_owner.clone(), d.consensus_owner.clone()),
            (Some(id("cccc")), Some(id("aaaa")))
        );
        assert_eq!(
            (d.its_owner_epoch, d.consensus_owner_epoch),
            (Some(9), Some(1))
        );

        // Two views, one vote each: the higher config epoch wins.
        let s = snapshot_from_texts(&[("127.0.0.1:7000", Ok(&a)), ("127.0.0.1:7002", Ok(&c))]);
        let m = ClusterModel::build(&s);
        assert_eq!(owner_id(&m, 50), Some("cccc"));
        assert_eq!(m.slots[50].state, SlotState::Disputed);
        assert_eq!(owner_id(&m, 100), Some("aaaa"));
        assert_eq!(m.disagreements.len(), 1);
        assert_eq!(m.disagreements[0].node, id("aaaa"));
    }

    #[test]
    fn node_known_by_only_some_peers() {
        let d = "dddd 127.0.0.1:7003@17003 slave aaaa 0 100 1 connected";
        let a = table("a", &[d], &[]);
        let b = table("b", &[], &[]);
        let c = table("c", &[], &[]);
        let dv = table("", &[&d.replacen(" slave ", " myself,slave ", 1)], &[]);
        let s = snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
            ("127.0.0.1:7003", Ok(&dv)),
        ]);
        let m = ClusterModel::build(&s);
        let dn = m.node(&id("dddd")).unwrap();
        assert_eq!(dn.peers.known_by, vec![id("aaaa")]);
        let mut unknown = dn.peers.unknown_to.clone();
        unknown.sort();
        assert_eq!(unknown, vec![id("bbbb"), id("cccc")]);
        assert!(!dn.isolated);
        assert_eq!(order(&m), ["aaaa", "dddd", "bbbb", "cccc"]);
        assert!(m.node(&id("aaaa")).unwrap().peers.unknown_to.is_empty());
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
    fn unreachable_seed_and_unknown_endpoints() {
        let m = ClusterModel::build(&snapshot_from_texts(&[("127.0.0.1:7000", Err(refused()))]));
        assert_eq!(m.nodes.len(), 1);
        let n = &m.nodes[0];
        assert_eq!(n.id, None);
        assert_eq!(n.endpoint, Some(Endpoint::new("127.0.0.1", 7000)));
        assert_eq!(n.addr.to_string(), "127.0.0.1:7000");
        assert_eq!(n.reachability, Reachability::Failed(refused()));
        assert_eq!(ranges_in(&m, SlotState::Uncovered), "0-16383");
        assert!(!n.isolated);

        // A view plus a seed that nobody lists, plus an unparsable reply.
        let a = fixture!("healthy_nodes_31000.txt");
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:31000", Ok(a)),
            ("127.0.0.1:6379", Err(ProbeError::AuthRequired)),
            ("127.0.0.1:31003", Ok("garbage line")),
        ]));
        assert_eq!(m.nodes.len(), 7);
        assert_eq!(
            m.nodes.last().unwrap().reachability,
            Reachability::Failed(ProbeError::AuthRequired)
        );
        let a1 = m.node(&id(A1)).unwrap();
        assert!(matches!(
            a1.reachability,
            Reachability::Failed(ProbeError::Protocol(_))
        ));
        // Peers not probed at all: not probing a node is no evidence of failure, and the one
        // view says they are fine.
        let b = m.node(&id(B)).unwrap();
        assert_eq!(b.reachability, Reachability::NotProbed);
        assert!(!b.is_failing());
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "none");
        assert_eq!(ranges_in(&m, SlotState::Served), "0-16383");
    }

    #[test]
    fn handshake_entry_is_its_own_node() {
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:31000", Ok(fixture!("handshake_nodes_31000.txt"))),
            ("127.0.0.1:31009", Err(refused())),
        ]));
        let hs = m
            .nodes
            .iter()
            .find(|n| !n.peers.handshake_by.is_empty())
            .unwrap();
        assert_eq!(hs.role, Role::Unknown);
        assert!(hs.flags.handshake);
        assert_eq!(hs.reachability, Reachability::Failed(refused()));
        assert_eq!(hs.peers.max_pong_age_ms, None);
        assert_eq!(m.nodes.len(), 7);
    }

    #[test]
    fn synthetic_clusters() {
        let m = ClusterModel::build(&synthetic_cluster(3, 1));
        assert_eq!(m.nodes.len(), 6);
        assert_eq!(ranges_in(&m, SlotState::Served), "0-16383");
        assert!(m.disagreements.is_empty());
        assert!(
            m.nodes
                .iter()
                .all(|n| n.peers.known_by.len() == 5 && n.cluster_state_ok == Some(true))
        );
        let m = ClusterModel::build(&synthetic_single_view(3, 1, 0));
        assert_eq!(ranges_in(&m, SlotState::Served), "0-5460");
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "5461-16383");
        assert_eq!(
            m.nodes
                .iter()
                .filter(|n| n.reachability == Reachability::Ok)
                .count(),
            1
        );
        assert!(m.nodes.iter().all(|n| n.id.is_some()));
        let m = ClusterModel::build(&synthetic_single_view(500, 1, 0));
        assert_eq!(m.nodes.len(), 1000);
        assert_eq!(m.nodes[0].claimed_slots.first().map(|r| r.start), Some(0));
        assert_eq!(m.nodes[1].role, Role::Replica);
    }

    #[test]
    fn empty_snapshot() {
        let m = ClusterModel::build(&ClusterSnapshot::default());
        assert!(m.nodes.is_empty());
        assert_eq!(m.slots.len(), SLOT_COUNT);
        assert_eq!(ranges_in(&m, SlotState::Uncovered), "0-16383");
    }

    /// Captured on Redis 7.0.15 (4 masters, no replicas): `CLUSTER FORGET` of 32103 on the
    /// three other nodes. 32103 still claims 12288-16383 in its own view; the others list it
    /// no more, see those slots unbound and report `cluster_state:fail`.
    fn forgotten_snapshot(probe_victim: bool) -> ClusterSnapshot {
        let mut entries: Vec<(&str, Result<&str, ProbeError>)> = vec![
            ("127.0.0.1:32100", Ok(fixture!("forgotten_nodes_32100.txt"))),
            ("127.0.0.1:32101", Ok(fixture!("forgotten_nodes_32101.txt"))),
            ("127.0.0.1:32102", Ok(fixture!("forgotten_nodes_32102.txt"))),
        ];
        if probe_victim {
            entries.push(("127.0.0.1:32103", Ok(fixture!("forgotten_nodes_32103.txt"))));
        }
        snapshot_from_texts(&entries)
    }

    const FORGOTTEN: &str = "20d0b2eb0d25e5f04139703d30d29c315bb67819";

    #[test]
    fn master_forgotten_by_every_peer_is_disputed_not_served() {
        let m = ClusterModel::build(&forgotten_snapshot(true));
        assert_eq!(ranges_in(&m, SlotState::Served), "0-12287");
        assert_eq!(ranges_in(&m, SlotState::Disputed), "12288-16383");
        // The claimant stays the owner (it holds the keys): a fix must rejoin it, not rebind.
        assert_eq!(owner_id(&m, 16383), Some(FORGOTTEN));
        let v = m.node(&id(FORGOTTEN)).unwrap();
        assert_eq!(v.reachability, Reachability::Ok);
        assert!(!v.is_failing());
        assert!(v.peers.known_by.is_empty());
        assert_eq!(v.peers.unknown_to.len(), 3);
        assert_eq!(m.disagreements.len(), 3);
        assert!(m.disagreements.iter().all(|d| d.its_owner.is_none()
            && d.consensus_owner == Some(id(FORGOTTEN))
            && format_ranges(&d.slots) == "12288-16383"));
        assert_eq!(m.state_counts().get(&SlotState::Served), Some(&12288));
        // Seen without the victim's own view: nobody binds the slots.
        let m = ClusterModel::build(&forgotten_snapshot(false));
        assert_eq!(ranges_in(&m, SlotState::Uncovered), "12288-16383");
        assert!(m.node(&id(FORGOTTEN)).is_none());
    }

    #[test]
    fn unbound_in_an_isolated_view_is_no_dispute() {
        // A fresh node that knows only itself binds nothing; it proves nothing either.
        let fresh = "ffff 127.0.0.1:7009@17009 myself,master - 0 0 0 connected";
        let (a, b, c) = (
            table("a", &[], &[]),
            table("b", &[], &[]),
            table("c", &[], &[]),
        );
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
            ("127.0.0.1:7009", Ok(fresh)),
        ]));
        assert!(m.node(&id("ffff")).unwrap().isolated);
        assert_eq!(ranges_in(&m, SlotState::Served), "0-16383");
    }

    #[test]
    fn one_view_unbinding_a_range_disputes_it() {
        // B's view lost A's 0-99 (e.g. it missed an ADDSLOTS): the others still bind them.
        let a_short = "aaaa 127.0.0.1:7000@17000 master - 0 100 1 connected 100-5460";
        let (a, c) = (table("a", &[], &[]), table("c", &[], &[]));
        let b = table("b", &[], &[("a", a_short)]);
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
        ]));
        assert_eq!(ranges_in(&m, SlotState::Disputed), "0-99");
        assert_eq!(owner_id(&m, 0), Some("aaaa"));
        // A failing owner is worse than a dispute.
        let ca = "aaaa 127.0.0.1:7000@17000 master,fail - 0 100 1 connected 0-5460";
        let c = table("c", &[], &[("a", ca)]);
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Err(refused())),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7002", Ok(&c)),
        ]));
        assert_eq!(ranges_in(&m, SlotState::OwnerFailing), "0-5460");
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

    #[test]
    fn identical_views_vote_with_their_weight_and_each_states_its_disagreement() {
        // Three replicas share one stale table (C claims 0-99), two masters another: the three
        // identical claim lists are kept once but still count three votes, and each of the
        // three viewers gets its own disagreement.
        let c_claims = "cccc 127.0.0.1:7002@17002 master - 0 100 9 connected 0-99 10923-16383";
        let a_short = "aaaa 127.0.0.1:7000@17000 master - 0 100 1 connected 100-5460";
        let stale = |me: &str| {
            table(
                "",
                &[&format!("{me} myself,slave aaaa 0 100 1 connected")],
                &[("c", c_claims), ("a", a_short)],
            )
        };
        let (x, y, z) = (
            stale("xxxx 127.0.0.1:7010@17010"),
            stale("yyyy 127.0.0.1:7011@17011"),
            stale("zzzz 127.0.0.1:7012@17012"),
        );
        let (a, b) = (table("a", &[], &[]), table("b", &[], &[]));
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7010", Ok(&x)),
            ("127.0.0.1:7011", Ok(&y)),
            ("127.0.0.1:7012", Ok(&z)),
        ]));
        // 3 votes for C against 2 for A: C wins 0-99, disputed.
        assert_eq!(owner_id(&m, 0), Some("cccc"));
        assert_eq!(ranges_in(&m, SlotState::Disputed), "0-99");
        let mut who: Vec<&str> = m.disagreements.iter().map(|d| d.node.as_str()).collect();
        who.sort_unstable();
        assert_eq!(who, ["aaaa", "bbbb"]);
        // One more fresh view tips the vote back to A; the three stale ones each disagree.
        let d = table(
            "",
            &["dddd 127.0.0.1:7003@17003 myself,slave aaaa 0 100 1 connected"],
            &[],
        );
        let e = table(
            "",
            &["eeee 127.0.0.1:7004@17004 myself,slave bbbb 0 100 2 connected"],
            &[],
        );
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7003", Ok(&d)),
            ("127.0.0.1:7004", Ok(&e)),
            ("127.0.0.1:7010", Ok(&x)),
            ("127.0.0.1:7011", Ok(&y)),
            ("127.0.0.1:7012", Ok(&z)),
        ]));
        assert_eq!(owner_id(&m, 0), Some("aaaa"));
        let mut who: Vec<(&str, String)> = m
            .disagreements
            .iter()
            .map(|d| (d.node.as_str(), format_ranges(&d.slots)))
            .collect();
        who.sort_unstable();
        assert_eq!(
            who,
            [
                ("xxxx", "0-99".to_owned()),
                ("yyyy", "0-99".to_owned()),
                ("zzzz", "0-99".to_owned())
            ]
        );
        assert!(
            m.disagreements
                .iter()
                .all(|d| d.its_owner == Some(id("cccc"))
                    && d.its_owner_epoch == Some(9)
                    && d.consensus_owner == Some(id("aaaa")))
        );
    }

    fn arb_line() -> impl Strategy<Value = String> {
        let ids = prop::sample::select(vec!["aaaa", "bbbb", "cccc", "dddd", "eeee"]);
        let flags = prop::sample::select(vec![
            "master",
            "slave",
            "master,fail?",
            "master,fail",
            "slave,fail",
            "handshake",
            "master,noaddr",
            "noflags",
        ]);
        let slot_tok = (0u16..16384, 0u16..3000).prop_map(|(s, w)| {
            let e = s.saturating_add(w).min(16383);
            format!("{s}-{e}")
        });
        let marker = (
            0u16..16384,
            any::<bool>(),
            prop::sample::select(vec!["aaaa", "bbbb", "zzzz"]),
        )
            .prop_map(|(s, m, p)| {
                if m {
                    format!("[{s}->-{p}]")
                } else {
                    format!("[{s}-<-{p}]")
                }
            });
        (
            ids.clone(),
            0u16..4,
            flags,
            prop::option::of(ids),
            0u64..5,
            prop::collection::vec(slot_tok, 0..3),
            prop::collection::vec(marker, 0..2),
        )
            .prop_map(|(id, port, flags, master, epoch, slots, markers)| {
                format!(
                    "{id} 127.0.0.1:{}@1{} {flags} {} 0 {} {epoch} connected {} {}",
                    7000 + port,
                    7000 + port,
                    master.unwrap_or("-"),
                    epoch * 10,
                    slots.join(" "),
                    markers.join(" ")
                )
            })
    }

    fn arb_view() -> impl Strategy<Value = Option<String>> {
        prop::option::of(
            (prop::collection::vec(arb_line(), 0..6), 0usize..6).prop_map(|(mut lines, me)| {
                if let Some(l) = lines.get_mut(me) {
                    let mut t: Vec<&str> = l.splitn(4, ' ').collect();
                    let f = format!("myself,{}", t[2]);
                    t[2] = &f;
                    *l = t.join(" ");
                }
                lines.join("\n")
            }),
        )
    }

    proptest! {
        #[test]
        fn build_never_panics_and_keeps_invariants(views in prop::collection::vec(arb_view(), 0..6)) {
            let eps: Vec<String> = (0..views.len()).map(|i| format!("127.0.0.1:{}", 7000 + i)).collect();
            let entries: Vec<(&str, Result<&str, ProbeError>)> = views
                .iter()
                .zip(&eps)
                .map(|(v, ep)| (ep.as_str(), v.as_deref().ok_or_else(refused)))
                .collect();
            let m = ClusterModel::build(&snapshot_from_texts(&entries));
            prop_assert_eq!(m.slots.len(), SLOT_COUNT);
            for e in &m.slots {
                prop_assert_eq!(e.owner.is_none(), e.state == SlotState::Uncovered);
                if let Some(o) = e.owner {
                    prop_assert!((o as usize) < m.nodes.len());
                    prop_assert!(m.nodes[o as usize].id.is_some(), "owners come from node lines");
                }
            }
            for o in &m.open_slots {
                prop_assert!(m.slots[usize::from(o.slot)].state >= SlotState::Migrating
                    || m.slots[usize::from(o.slot)].state == SlotState::Uncovered);
            }
            let mut ids: Vec<&NodeId> = m.nodes.iter().filter_map(|n| n.id.as_ref()).collect();
            let n = ids.len();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), n, "node ids are unique");
        }
    }
}
