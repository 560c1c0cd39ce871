//! The test kit of the diagnosis: a tiny builder of `ClusterModel` values (`Lab`), the
//! assertions the per-family tables share, and helpers for captured Redis replies
//! (tests/fixtures). Every test module of the diagnosis starts with `use` of this module.

pub(crate) use std::collections::BTreeMap;

pub(crate) use rstest::rstest;

use crate::cluster::diagnose::sort_findings;
pub(crate) use crate::cluster::diagnose::{
    Finding, FindingKind, Severity, diagnose, verdict, worst,
};
pub(crate) use crate::cluster::model::{
    ClusterModel, NodeSummary, OpenSlot, PeerOpinion, Reachability, Role, SlotEntry, SlotState,
    ViewDisagreement,
};
pub(crate) use crate::cluster::slots::{SLOT_COUNT, Slot, SlotRange};
pub(crate) use crate::cluster::synthetic::{snapshot_from_texts, synthetic_cluster};
pub(crate) use crate::cluster::types::{
    Endpoint, NodeAddr, NodeConfig, NodeFlags, NodeId, ProbeError, ServerInfo,
};
pub(crate) use FindingKind as K;
pub(crate) use Severity::{Critical as C, Warning as W};

// ---------------------------------------------------------------------------------------------
// A tiny builder of `ClusterModel` values. Node `n` has id `nn` repeated (short id `nnnnnnnn`)
// and address 127.0.0.1:(7000+n).

pub(crate) fn nid(n: u16) -> NodeId {
    NodeId::from(format!("{n:02x}").repeat(20))
}

pub(crate) fn new_node(n: u16, role: Role) -> NodeSummary {
    NodeSummary {
        id: Some(nid(n)),
        addr: NodeAddr {
            ip: "127.0.0.1".into(),
            port: 7000 + n,
            cport: 17000 + n,
            hostname: None,
        },
        endpoint: Some(Endpoint::new("127.0.0.1", 7000 + n)),
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
        info: Some(ServerInfo::default()),
        config: Some(NodeConfig {
            require_full_coverage: Some(true),
            node_timeout_ms: Some(2000),
            error: None,
        }),
        cluster_state_ok: Some(true),
        rtt_us: Some(100),
        observed_at_ms: Some(1_000_000),
        observation: None,
        isolated: false,
    }
}

pub(crate) struct Lab {
    pub(crate) m: ClusterModel,
}

impl Lab {
    /// `masters` masters splitting the slots evenly, each with `replicas` replicas.
    /// Masters are nodes 0.., replicas of master k are nodes 10*(k+1)+r.
    pub(crate) fn healthy(masters: u16, replicas: u16) -> Self {
        let mut nodes = Vec::new();
        let mut slots = vec![
            SlotEntry {
                owner: None,
                state: SlotState::Uncovered
            };
            SLOT_COUNT
        ];
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
            let idx = u32::try_from(nodes.len()).unwrap_or(0);
            for e in &mut slots[start..=end] {
                *e = SlotEntry {
                    owner: Some(idx),
                    state: SlotState::Served,
                };
            }
            nodes.push(m);
            for r in 0..replicas {
                let mut rep = new_node(10 * (k + 1) + r, Role::Replica);
                rep.master_id = Some(nid(k));
                rep.config_epoch = u64::from(k) + 1;
                nodes.push(rep);
            }
        }
        Self {
            m: ClusterModel {
                generation: 1,
                taken_at_ms: 1_000_000,
                nodes,
                slots,
                open_slots: Vec::new(),
                disagreements: Vec::new(),
                uncovered_keys: BTreeMap::new(),
            },
        }
    }

    pub(crate) fn idx(&self, n: u16) -> usize {
        self.m
            .nodes
            .iter()
            .position(|x| x.id == Some(nid(n)))
            .unwrap_or(usize::MAX)
    }

    pub(crate) fn node(&mut self, n: u16) -> &mut NodeSummary {
        let i = self.idx(n);
        &mut self.m.nodes[i]
    }

    pub(crate) fn ids_except(&self, skip: &[u16]) -> Vec<NodeId> {
        self.m
            .nodes
            .iter()
            .filter(|x| matches!(x.reachability, Reachability::Ok))
            .filter_map(|x| x.id.clone())
            .filter(|id| !skip.iter().any(|s| nid(*s) == *id))
            .collect()
    }

    /// Node `n` stops; its peers agree it failed.
    pub(crate) fn kill(mut self, n: u16) -> Self {
        let others = self.ids_except(&[n]);
        let node = self.node(n);
        node.reachability =
            Reachability::Failed(ProbeError::ConnectFailed("Connection refused".into()));
        node.info = None;
        node.config = None;
        node.cluster_state_ok = None;
        node.flags.fail = true;
        node.peers.fail_by = others;
        node.peers.max_pong_age_ms = Some(60_000);
        self
    }

    /// Node `n` stops; its peers only suspect it (`fail?`), heard from `age_ms` ago.
    pub(crate) fn suspect(mut self, n: u16, age_ms: u64) -> Self {
        let others = self.ids_except(&[n]);
        let node = self.node(n);
        node.reachability =
            Reachability::Failed(ProbeError::ConnectFailed("Connection refused".into()));
        node.info = None;
        node.config = None;
        node.cluster_state_ok = None;
        node.flags.pfail = true;
        node.peers.pfail_by = others;
        node.peers.max_pong_age_ms = Some(age_ms);
        self
    }

    /// Every reachable node reports `cluster_state:fail`.
    pub(crate) fn all_fail(mut self) -> Self {
        for x in &mut self.m.nodes {
            if matches!(x.reachability, Reachability::Ok) {
                x.cluster_state_ok = Some(false);
            }
        }
        self
    }

    /// Replica `rep` took over the slots of `old` (which stays failed, slot-less).
    pub(crate) fn failover(mut self, old: u16, rep: u16) -> Self {
        self = self.kill(old);
        let old_i = self.idx(old);
        let new_i = u32::try_from(self.idx(rep)).unwrap_or(0);
        let old_u = u32::try_from(old_i).unwrap_or(0);
        for e in &mut self.m.slots {
            if e.owner == Some(old_u) {
                e.owner = Some(new_i);
            }
        }
        let slots = std::mem::take(&mut self.m.nodes[old_i].claimed_slots);
        let r = self.node(rep);
        r.role = Role::Master;
        r.master_id = None;
        r.flags.master = true;
        r.flags.replica = false;
        r.claimed_slots = slots;
        r.config_epoch = 9;
        self
    }

    pub(crate) fn uncover(mut self, start: Slot, end: Slot) -> Self {
        for s in start..=end {
            self.m.slots[usize::from(s)] = SlotEntry {
                owner: None,
                state: SlotState::Uncovered,
            };
        }
        self
    }

    pub(crate) fn finish(self) -> ClusterModel {
        self.m
    }
}

pub(crate) fn kinds(f: &[Finding]) -> Vec<(FindingKind, Severity)> {
    f.iter().map(|x| (x.kind, x.severity)).collect()
}

pub(crate) fn find(f: &[Finding], kind: FindingKind) -> &Finding {
    f.iter()
        .find(|x| x.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {:#?}", kinds(f)))
}

/// Every finding of `model`, as (kind, severity), is `expected`; every finding is one line and
/// names nodes or slots; diagnosing is deterministic and already in canonical order.
pub(crate) fn assert_findings(model: &ClusterModel, expected: &[(FindingKind, Severity)]) {
    let f = diagnose(model);
    assert_eq!(kinds(&f), expected, "{f:#?}");
    for x in &f {
        assert!(!x.summary.is_empty());
        assert!(!x.summary.contains('\n'), "one line: {}", x.summary);
        assert!(
            !x.addresses.is_empty() || !x.slots.is_empty(),
            "every finding names nodes or slots: {}",
            x.summary
        );
        assert!(x.addresses.len() >= x.nodes.len());
    }
    // Diagnosing is deterministic and already in canonical order.
    let mut again = diagnose(model);
    assert_eq!(again, f);
    sort_findings(&mut again);
    assert_eq!(again, f);
}

/// The summary of the first `kind` finding of `model` contains `needle`.
pub(crate) fn assert_summary(model: &ClusterModel, kind: FindingKind, needle: &str) {
    let f = diagnose(model);
    let x = find(&f, kind);
    assert!(
        x.summary.contains(needle),
        "summary {:?} lacks {needle:?}",
        x.summary
    );
}

// ---------------------------------------------------------------------------------------------
// Captured Redis 7.0.15 replies (tests/fixtures), through `ClusterModel::build`.

/// The text of a file in tests/fixtures.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $name
        ))
    };
}
pub(crate) use fixture;

pub(crate) fn refused() -> ProbeError {
    ProbeError::ConnectFailed("Connection refused (os error 111)".into())
}

pub(crate) fn run(entries: &[(&str, Result<&str, ProbeError>)]) -> (ClusterModel, Vec<Finding>) {
    let m = ClusterModel::build(&snapshot_from_texts(entries));
    let f = diagnose(&m);
    (m, f)
}

pub(crate) const A: &str = "127.0.0.1:31000";
pub(crate) const A2: &str = "127.0.0.1:31003";
pub(crate) const C2: &str = "127.0.0.1:31005";

pub(crate) fn count(f: &[Finding], kind: FindingKind) -> usize {
    f.iter().filter(|x| x.kind == kind).count()
}

pub(crate) fn with_summary<'f>(f: &'f [Finding], kind: FindingKind, needle: &str) -> &'f Finding {
    f.iter()
        .find(|x| x.kind == kind && x.summary.contains(needle))
        .unwrap_or_else(|| panic!("no {kind:?} containing {needle:?} in {f:#?}"))
}
