//! Generated clusters: random but consistent cluster states, decoded from bytes, rendered as
//! the raw replies every node would give (`CLUSTER NODES`, `INFO`), and turned into the
//! [`ClusterSnapshot`] a refresh would publish.
//!
//! [`GenCluster::from_bytes`] reads a few bytes per decision (running out of bytes reads
//! zeros, which decode to a healthy cluster), so the same generator serves the property tests
//! (random byte vectors from proptest) and the fuzz targets (the fuzzer's bytes). A state has
//! 1 to 4 masters with up to 2 replicas each, and on top of that, as the bytes say: killed and
//! stopped nodes (flagged `fail` / `fail?` by peers, or not yet), a failover that already
//! happened, slots deleted on every node or on the owner only, two masters claiming the same
//! range with the other nodes taking either side, open slots with the marker on one or both
//! sides, keys on owners, on the other side of a move and on masters that do not own their
//! slot, an isolated node that needs `CLUSTER MEET`, persistence on or off, replicas whose link
//! is down, and masters whose keys could not be counted.
//!
//! The generator also keeps the ground truth it rendered (where every key is), so that checks
//! can compare what slotscope concluded with what is really there.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::census::NodeCensus;
use super::parse::{parse_cluster_nodes, parse_info};
use super::slots::{SLOT_COUNT, Slot, SlotRange, merge_ranges};
use super::synthetic::cluster_info_for;
use super::types::{
    ClusterSnapshot, Endpoint, NodeConfig, NodeId, NodeObservation, NodeReport, ProbeError,
};

/// "Now" of every generated state (pongs, observations).
pub const GEN_NOW_MS: u64 = 1_700_000_000_000;

/// First port of a generated cluster; node `i` listens on `GEN_BASE_PORT + i`.
pub const GEN_BASE_PORT: u16 = 30_000;

/// Reads decisions from bytes; zeros once they run out.
pub struct ByteSource<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> ByteSource<'a> {
    #[must_use]
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// The next byte (0 past the end).
    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let v = usize::from(self.byte()) << 8 | usize::from(self.byte());
        v % n
    }

    /// True with about `percent` % chance; false for a zero byte.
    pub fn chance(&mut self, percent: u32) -> bool {
        u32::from(self.byte()) * 100 / 256 >= 100 - percent.min(100)
    }

    /// The bytes not read yet.
    #[must_use]
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }
}

/// How a node is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Up,
    /// Killed: the probe is refused.
    Killed,
    /// Stopped (`SIGSTOP`): connects, never answers.
    Stopped,
}

/// What peers' tables say about a node that is not up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerFlag {
    None,
    Pfail,
    Fail,
}

/// Whether a master's keys could be counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    /// Complete census (and `COUNTKEYSINSLOT` answers).
    Counted,
    /// The served slots are counted, the sweep of the others has not started.
    SweepPending,
    /// Nothing could be counted.
    Unknown,
}

/// One node of a generated cluster.
#[derive(Clone, Debug)]
pub struct GenNode {
    pub id: NodeId,
    pub port: u16,
    /// For a replica: the index of its master.
    pub replica_of: Option<usize>,
    pub health: Health,
    pub peer_flag: PeerFlag,
    pub epoch: u64,
    /// Slots the node's own table gives it before holes and disputes.
    pub base: Vec<SlotRange>,
    /// `(slot, peer, migrating)` markers on the node's own line.
    pub markers: Vec<(Slot, usize, bool)>,
    /// The keys the node really stores, per slot (the ground truth).
    pub keys: BTreeMap<Slot, u64>,
    pub counting: Counting,
    /// `appendonly`, and `save` non-empty.
    pub aof: bool,
    pub rdb: bool,
    /// A replica whose replication link is down.
    pub link_down: bool,
    /// Knows only itself (a fresh node that needs `CLUSTER MEET`); nobody knows it.
    pub isolated: bool,
    /// Forgotten by every node and gone: listed by nobody, not probed.
    pub forgotten: bool,
}

impl GenNode {
    #[must_use]
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::new("127.0.0.1", self.port)
    }

    #[must_use]
    pub fn is_master(&self) -> bool {
        self.replica_of.is_none()
    }
}

/// Slots deleted from a master's claim.
#[derive(Clone, Debug)]
pub struct Hole {
    pub owner: usize,
    pub range: SlotRange,
    /// Only the owner stopped claiming them (`DELSLOTS` on it alone); peers still bind them.
    pub owner_only: bool,
}

/// A range both `a` (its owner) and `b` claim; `b_side[v]`: view `v` gives it to `b`.
#[derive(Clone, Debug)]
pub struct Dispute {
    pub a: usize,
    pub b: usize,
    pub range: SlotRange,
    pub b_side: Vec<bool>,
}

/// A generated cluster state and its ground truth.
#[derive(Clone, Debug)]
pub struct GenCluster {
    pub nodes: Vec<GenNode>,
    pub holes: Vec<Hole>,
    pub dispute: Option<Dispute>,
}

fn id_of(i: usize) -> NodeId {
    NodeId::from(format!("{:02x}", i + 0xa0).repeat(20))
}

fn port_of(i: usize) -> u16 {
    GEN_BASE_PORT + u16::try_from(i).unwrap_or(0)
}

fn slot(n: usize) -> Slot {
    Slot::try_from(n.min(SLOT_COUNT - 1)).unwrap_or(0)
}

/// `ranges` without `cut`.
#[must_use]
pub fn subtract(ranges: &[SlotRange], cut: SlotRange) -> Vec<SlotRange> {
    let mut out = Vec::new();
    for r in ranges {
        if !r.overlaps(&cut) {
            out.push(*r);
            continue;
        }
        if r.start < cut.start {
            out.push(SlotRange::new(r.start, cut.start - 1));
        }
        if r.end > cut.end {
            out.push(SlotRange::new(cut.end + 1, r.end));
        }
    }
    out
}

impl GenCluster {
    /// Decode a cluster state from bytes (see the module docs).
    #[must_use]
    pub fn from_bytes(data: &[u8]) -> Self {
        let mut b = ByteSource::new(data);
        let masters = 1 + b.below(4);
        let mut nodes = Vec::new();
        for k in 0..masters {
            let start = k * SLOT_COUNT / masters;
            let end = (k + 1) * SLOT_COUNT / masters - 1;
            nodes.push(Self::node(nodes.len(), None, k as u64 + 1));
            nodes[k].base = vec![SlotRange::new(slot(start), slot(end))];
        }
        for k in 0..masters {
            for _ in 0..b.below(3) {
                let epoch = nodes[k].epoch;
                nodes.push(Self::node(nodes.len(), Some(k), epoch));
            }
        }
        let mut g = Self {
            nodes,
            holes: Vec::new(),
            dispute: None,
        };
        g.keys(&mut b, masters);
        g.failures(&mut b);
        g.failover(&mut b, masters);
        g.breakage(&mut b, masters);
        g.extras(&mut b);
        g
    }

    fn node(i: usize, replica_of: Option<usize>, epoch: u64) -> GenNode {
        GenNode {
            id: id_of(i),
            port: port_of(i),
            replica_of,
            health: Health::Up,
            peer_flag: PeerFlag::None,
            epoch,
            base: Vec::new(),
            markers: Vec::new(),
            keys: BTreeMap::new(),
            counting: Counting::Counted,
            aof: false,
            rdb: false,
            link_down: false,
            isolated: false,
            forgotten: false,
        }
    }

    fn master_range(&self, k: usize) -> SlotRange {
        self.nodes[k]
            .base
            .first()
            .copied()
            .unwrap_or(SlotRange::single(0))
    }

    /// A slot inside master `k`'s range, by the bytes.
    fn slot_in(&self, b: &mut ByteSource, k: usize) -> Slot {
        let r = self.master_range(k);
        slot(usize::from(r.start) + b.below(r.len()))
    }

    fn add_keys(&mut self, node: usize, s: Slot, n: u64) {
        if n > 0 {
            *self.nodes[node].keys.entry(s).or_default() += n;
        }
    }

    /// Keys in two slots of every master's range; replicas hold copies.
    fn keys(&mut self, b: &mut ByteSource, masters: usize) {
        for k in 0..masters {
            let r = self.master_range(k);
            let n = u64::from(b.byte() % 50);
            self.add_keys(k, r.start, n);
            let s = self.slot_in(b, k);
            let n = u64::from(b.byte() % 8);
            self.add_keys(k, s, n);
        }
    }

    /// Killed and stopped nodes, persistence, uncounted masters, replica links.
    fn failures(&mut self, b: &mut ByteSource) {
        for n in &mut self.nodes {
            n.health = if b.chance(15) {
                Health::Killed
            } else if b.chance(8) {
                Health::Stopped
            } else {
                Health::Up
            };
            n.peer_flag = match (n.health, b.below(3)) {
                (Health::Up, _) => PeerFlag::None,
                (_, 0) => PeerFlag::Fail,
                (_, 1) => PeerFlag::Pfail,
                _ => PeerFlag::None,
            };
            n.aof = b.chance(30);
            n.rdb = b.chance(50);
            n.counting = match b.below(20) {
                0 | 1 => Counting::Unknown,
                2 | 3 => Counting::SweepPending,
                _ => Counting::Counted,
            };
            n.link_down = n.replica_of.is_some() && b.chance(10);
        }
    }

    /// A dead master whose first replica already took over (epoch bumped, slots moved).
    fn failover(&mut self, b: &mut ByteSource, masters: usize) {
        if !b.chance(25) {
            return;
        }
        let k = b.below(masters);
        let Some(r) = (masters..self.nodes.len())
            .find(|&i| self.nodes[i].replica_of == Some(k) && self.nodes[i].health == Health::Up)
        else {
            return;
        };
        self.nodes[k].health = Health::Killed;
        self.nodes[k].peer_flag = PeerFlag::Fail;
        let base = std::mem::take(&mut self.nodes[k].base);
        let keys = self.nodes[k].keys.clone();
        let epoch = masters as u64 + 1 + b.below(3) as u64;
        let promoted = &mut self.nodes[r];
        promoted.replica_of = None;
        promoted.base = base;
        promoted.keys = keys;
        promoted.epoch = epoch;
        promoted.link_down = false;
        for n in &mut self.nodes {
            if n.replica_of == Some(k) {
                n.replica_of = Some(r);
                n.epoch = epoch;
            }
        }
    }

    /// Masters with a slot range (the ones that still own slots).
    fn owners(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_master() && !self.nodes[i].base.is_empty())
            .collect()
    }

    /// Holes, a dispute, open slots, stray keys.
    fn breakage(&mut self, b: &mut ByteSource, _masters: usize) {
        let owners = self.owners();
        for _ in 0..b.below(3) {
            if !b.chance(40) {
                continue;
            }
            let k = owners[b.below(owners.len())];
            let start = self.slot_in(b, k);
            let len = 1 + b.below(24);
            let end = slot(usize::from(start) + len - 1).min(self.master_range(k).end);
            let n = u64::from(b.byte() % 6);
            self.add_keys(k, start, n);
            let owner_only = b.chance(40);
            self.holes.push(Hole {
                owner: k,
                range: SlotRange::new(start, end),
                owner_only,
            });
        }
        if owners.len() >= 2 && b.chance(20) {
            let a = owners[b.below(owners.len())];
            let bb = owners[(owners.iter().position(|&o| o == a).unwrap_or(0)
                + 1
                + b.below(owners.len() - 1))
                % owners.len()];
            let start = self.slot_in(b, a);
            let end = slot(usize::from(start) + b.below(16)).min(self.master_range(a).end);
            let b_side = (0..self.nodes.len()).map(|_| b.chance(50)).collect();
            let na = u64::from(b.byte() % 6);
            self.add_keys(a, start, na);
            let nb = u64::from(b.byte() % 4);
            self.add_keys(bb, start, nb);
            if b.chance(50) {
                self.nodes[bb].epoch = self.nodes[a].epoch;
            }
            self.dispute = Some(Dispute {
                a,
                b: bb,
                range: SlotRange::new(start, end),
                b_side,
            });
        }
        if owners.len() >= 2 {
            for _ in 0..b.below(3) {
                self.open_slot(b, &owners);
            }
        }
        for _ in 0..b.below(3) {
            if !b.chance(30) || owners.len() < 2 {
                continue;
            }
            let c = owners[b.below(owners.len())];
            let other = owners[b.below(owners.len())];
            let s = self.slot_in(b, other);
            let n = u64::from(1 + b.byte() % 5);
            if other != c {
                self.add_keys(c, s, n);
            }
        }
    }

    /// An open slot of owner `a` towards `t`: markers on one or both sides, keys split.
    fn open_slot(&mut self, b: &mut ByteSource, owners: &[usize]) {
        if !b.chance(45) {
            return;
        }
        let a = owners[b.below(owners.len())];
        let t = owners[b.below(owners.len())];
        if a == t {
            return;
        }
        let s = self.slot_in(b, a);
        if self
            .nodes
            .iter()
            .any(|n| n.markers.iter().any(|m| m.0 == s))
        {
            return;
        }
        let sides = b.below(3);
        if sides != 1 {
            self.nodes[a].markers.push((s, t, true));
        }
        if sides != 0 {
            self.nodes[t].markers.push((s, a, false));
        }
        let na = u64::from(b.byte() % 8);
        self.add_keys(a, s, na);
        let nt = u64::from(b.byte() % 8);
        self.add_keys(t, s, nt);
    }

    /// Maybe an isolated fresh node (with or without keys).
    fn extras(&mut self, b: &mut ByteSource) {
        if !b.chance(15) {
            return;
        }
        let i = self.nodes.len();
        let mut n = Self::node(i, None, 0);
        n.isolated = true;
        if b.chance(30) {
            n.keys
                .insert(slot(b.below(SLOT_COUNT)), 1 + u64::from(b.byte() % 3));
        }
        self.nodes.push(n);
    }

    /// The slots node `x`'s line gives it in node `v`'s table.
    #[must_use]
    pub fn slots_in_view(&self, v: usize, x: usize) -> Vec<SlotRange> {
        let mut r = self.nodes[x].base.clone();
        for h in &self.holes {
            if h.owner == x && (!h.owner_only || v == x) {
                r = subtract(&r, h.range);
            }
        }
        if let Some(d) = &self.dispute {
            let to_b = v == d.b || (v != d.a && d.b_side.get(v).copied().unwrap_or(false));
            if to_b && x == d.a {
                r = subtract(&r, d.range);
            }
            if to_b && x == d.b {
                r.push(d.range);
            }
        }
        merge_ranges(r)
    }

    /// The nodes node `v`'s table lists.
    fn listed_by(&self, v: usize) -> Vec<usize> {
        if self.nodes[v].isolated {
            return vec![v];
        }
        (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].isolated && !self.nodes[i].forgotten)
            .collect()
    }

    /// The `CLUSTER NODES` reply of node `v`.
    #[must_use]
    pub fn cluster_nodes_text(&self, v: usize) -> String {
        let mut s = String::new();
        for x in self.listed_by(v) {
            let n = &self.nodes[x];
            let mut flags = Vec::new();
            if x == v {
                flags.push("myself");
            }
            flags.push(if n.is_master() { "master" } else { "slave" });
            if x != v {
                match n.peer_flag {
                    PeerFlag::Fail => flags.push("fail"),
                    PeerFlag::Pfail => flags.push("fail?"),
                    PeerFlag::None => {}
                }
            }
            let master = n
                .replica_of
                .map_or("-".to_owned(), |m| id_of(m).to_string());
            let link = if x == v || n.health == Health::Up {
                "connected"
            } else {
                "disconnected"
            };
            let _ = write!(
                s,
                "{} 127.0.0.1:{}@{} {} {} 0 {} {} {}",
                n.id,
                n.port,
                u32::from(n.port) + 10_000,
                flags.join(","),
                master,
                GEN_NOW_MS - 1000,
                n.epoch,
                link
            );
            for r in self.slots_in_view(v, x) {
                let _ = write!(s, " {r}");
            }
            if x == v {
                for (slot, peer, migrating) in &n.markers {
                    let arrow = if *migrating { "->-" } else { "-<-" };
                    let _ = write!(s, " [{slot}{arrow}{}]", id_of(*peer));
                }
            }
            s.push('\n');
        }
        s
    }

    /// Keys node `i` holds, replicas counting their master's.
    fn held(&self, i: usize) -> &BTreeMap<Slot, u64> {
        match self.nodes[i].replica_of {
            Some(m) if self.nodes[i].keys.is_empty() => &self.nodes[m].keys,
            _ => &self.nodes[i].keys,
        }
    }

    /// The `INFO` reply of node `v`.
    #[must_use]
    pub fn info_text(&self, v: usize) -> String {
        let n = &self.nodes[v];
        let keys: u64 = self.held(v).values().sum();
        let mut s = String::from("# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\n");
        s.push_str("# Replication\r\n");
        match n.replica_of {
            Some(m) => {
                let link = if n.link_down { "down" } else { "up" };
                let _ = write!(
                    s,
                    "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:{}\r\nmaster_link_status:{link}\r\n",
                    port_of(m)
                );
            }
            None => s.push_str("role:master\r\n"),
        }
        let _ = write!(
            s,
            "# Persistence\r\nloading:0\r\naof_enabled:{}\r\n",
            u8::from(n.aof)
        );
        s.push_str("# Cluster\r\ncluster_enabled:1\r\n# Keyspace\r\n");
        if keys > 0 {
            let _ = write!(s, "db0:keys={keys},expires=0,avg_ttl=0\r\n");
        }
        s
    }

    /// The key census node `v` would report (masters that answer and could be counted).
    fn census(&self, v: usize, claimed: &[SlotRange], importing: &[Slot]) -> Option<NodeCensus> {
        let n = &self.nodes[v];
        if !n.is_master() || n.counting == Counting::Unknown {
            return None;
        }
        let expected = |s: Slot| claimed.iter().any(|r| r.contains(s)) || importing.contains(&s);
        let mut c = NodeCensus {
            at_ms: GEN_NOW_MS,
            ..NodeCensus::default()
        };
        for (&s, &k) in &n.keys {
            c.db_keys += k;
            if expected(s) {
                c.slots.insert(s, k);
                c.owned_keys += k;
            } else {
                c.stray.insert(s, k);
            }
        }
        if c.stray.is_empty() {
            return Some(c);
        }
        if n.counting == Counting::SweepPending {
            c.stray.clear();
            c.sweep_next = Some(0);
        } else {
            c.sweep_next = Some(u32::try_from(SLOT_COUNT).unwrap_or(0));
            c.sweep_complete = true;
        }
        Some(c)
    }

    /// The slots a refresh would count with `COUNTKEYSINSLOT`: open ones, holes, disputes.
    fn counted_slots(&self) -> Vec<Slot> {
        let mut out: Vec<Slot> = self
            .nodes
            .iter()
            .flat_map(|n| n.markers.iter().map(|m| m.0))
            .collect();
        for h in &self.holes {
            out.extend(h.range.iter());
        }
        if let Some(d) = &self.dispute {
            out.extend(d.range.iter());
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Node `v`'s observation, from its raw replies (parsed like a probe parses them).
    #[must_use]
    pub fn observation(&self, v: usize) -> NodeObservation {
        let n = &self.nodes[v];
        let result = match n.health {
            Health::Killed => Err(ProbeError::ConnectFailed("Connection refused".into())),
            Health::Stopped => Err(ProbeError::Unresponsive("PING".into())),
            Health::Up => self.report(v),
        };
        NodeObservation {
            endpoint: n.endpoint(),
            observed_at_ms: GEN_NOW_MS,
            rtt_us: result.is_ok().then_some(150),
            result,
        }
    }

    fn report(&self, v: usize) -> Result<NodeReport, ProbeError> {
        let n = &self.nodes[v];
        let nodes = parse_cluster_nodes(&self.cluster_nodes_text(v))
            .map_err(|e| ProbeError::Protocol(format!("CLUSTER NODES: {e}")))?;
        let info = parse_info(&self.info_text(v));
        let me = nodes.myself();
        let claimed = me.map(|m| m.slots.clone()).unwrap_or_default();
        let importing: Vec<Slot> = n.markers.iter().filter(|m| !m.2).map(|m| m.0).collect();
        let census = self.census(v, &claimed, &importing);
        let slot_keys = if n.is_master() && n.counting != Counting::Unknown {
            self.counted_slots()
                .into_iter()
                .map(|s| (s, n.keys.get(&s).copied().unwrap_or(0)))
                .collect()
        } else {
            BTreeMap::new()
        };
        Ok(NodeReport {
            cluster_info: Some(cluster_info_for(&nodes)),
            info,
            config: NodeConfig {
                require_full_coverage: Some(true),
                node_timeout_ms: Some(15_000),
                save: Some(if n.rdb {
                    "3600 1".into()
                } else {
                    String::new()
                }),
                appendonly: Some(n.aof),
                error: None,
            },
            slot_keys,
            census,
            slot_migrations: None,
            access: crate::cluster::access::Access::default(),
            slot_stats: None,
            nodes,
        })
    }

    /// The snapshot a refresh of this state publishes (every node probed, seed = node 0).
    #[must_use]
    pub fn snapshot(&self) -> ClusterSnapshot {
        let mut observations: Vec<NodeObservation> = (0..self.nodes.len())
            .filter(|&v| !self.nodes[v].forgotten)
            .map(|v| self.observation(v))
            .collect();
        observations.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
        ClusterSnapshot {
            generation: 1,
            started_at_ms: GEN_NOW_MS - 20,
            finished_at_ms: GEN_NOW_MS,
            seeds: vec![self.nodes[0].endpoint()],
            observations,
            progress: super::progress::Progress::default(),
        }
    }

    /// Every endpoint of the state (the observed cluster).
    #[must_use]
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.nodes.iter().map(GenNode::endpoint).collect()
    }

    /// Keys the ground truth puts on node `id` (replicas: their master's copy), if it is one.
    #[must_use]
    pub fn true_keys(&self, id: &NodeId) -> Option<u64> {
        let i = self.nodes.iter().position(|n| &n.id == id)?;
        Some(self.held(i).values().sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::model::ClusterModel;

    #[test]
    fn zero_bytes_decode_to_a_healthy_cluster() {
        let g = GenCluster::from_bytes(&[]);
        let model = ClusterModel::build(&g.snapshot());
        let findings = crate::cluster::diagnose(&model);
        assert!(
            findings
                .iter()
                .all(|f| f.kind == crate::cluster::FindingKind::NoReplica),
            "{findings:#?}"
        );
        assert_eq!(model.nodes.len(), 1);
    }

    #[test]
    fn every_view_parses_and_names_every_listed_node() {
        for seed in 0u8..=255 {
            let bytes: Vec<u8> = (0..=199u8)
                .map(|i| i.wrapping_mul(seed).wrapping_add(seed))
                .collect();
            let g = GenCluster::from_bytes(&bytes);
            for v in 0..g.nodes.len() {
                let nodes = parse_cluster_nodes(&g.cluster_nodes_text(v));
                assert!(nodes.is_ok(), "{}", g.cluster_nodes_text(v));
            }
        }
    }
}
