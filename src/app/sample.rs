//! Hand-built cluster models for UI tests, flows and benchmarks: no parsing, no network.
//! (Screen tests from captured `CLUSTER NODES` text go through the real parser and model.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::model::PeerOpinion;
use crate::cluster::slots::{SLOT_COUNT, SlotRange};
use crate::cluster::{
    ClusterModel, ClusterSnapshot, Endpoint, Finding, FindingKind, NodeAddr, NodeFlags, NodeId,
    NodeSummary, OpenSlot, ProbeError, Reachability, Role, ServerInfo, Severity, SlotEntry,
    SlotState,
};

use super::color::ColorDepth;
use super::{App, Presented};

/// What is broken in a sample cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleCase {
    /// Everything fine.
    Healthy,
    /// The last master is unreachable and FAIL, no replica took over.
    MasterDown,
    /// Slot 100 is half-migrated from master 0 to master 1.
    OpenSlot,
    /// The last master's slots are bound to nobody.
    Uncovered,
}

/// Sample start time (Unix ms): 2024-05-01 03:00:00 UTC.
pub const T0_MS: u64 = 1_714_532_400_000;

fn id(i: usize) -> NodeId {
    NodeId::from(format!("{i:08x}{}", "e".repeat(32)))
}

/// A model of `masters` masters with `replicas` replicas each, broken as `scenario` says.
#[must_use]
pub fn model(
    masters: usize,
    replicas: usize,
    scenario: SampleCase,
) -> (ClusterSnapshot, ClusterModel, Vec<Finding>) {
    let masters = masters.max(1);
    let per = SLOT_COUNT / masters;
    let mut nodes = Vec::new();
    let mut slots = vec![
        SlotEntry {
            owner: None,
            state: SlotState::Served,
        };
        SLOT_COUNT
    ];
    let mut n = 0usize;
    let down = masters - 1;
    for m in 0..masters {
        let start = m * per;
        let end = if m + 1 == masters {
            SLOT_COUNT - 1
        } else {
            start + per - 1
        };
        let range = SlotRange::new(
            u16::try_from(start).unwrap_or(0),
            u16::try_from(end).unwrap_or(u16::MAX),
        );
        let failing = scenario == SampleCase::MasterDown && m == down;
        let idx = u32::try_from(nodes.len()).unwrap_or(0);
        for entry in &mut slots[start..=end] {
            *entry = match scenario {
                SampleCase::Uncovered if m == down => SlotEntry {
                    owner: None,
                    state: SlotState::Uncovered,
                },
                _ if failing => SlotEntry {
                    owner: Some(idx),
                    state: SlotState::OwnerFailing,
                },
                _ => SlotEntry {
                    owner: Some(idx),
                    state: SlotState::Served,
                },
            };
        }
        let claimed = if scenario == SampleCase::Uncovered && m == down {
            Vec::new()
        } else {
            vec![range]
        };
        nodes.push(summary(
            n,
            Role::Master,
            None,
            claimed,
            failing,
            per as u64 * 3,
        ));
        let master_id = id(n);
        n += 1;
        for _ in 0..replicas {
            nodes.push(summary(
                n,
                Role::Replica,
                Some(master_id.clone()),
                Vec::new(),
                false,
                per as u64 * 3,
            ));
            n += 1;
        }
    }
    let mut open_slots = Vec::new();
    if scenario == SampleCase::OpenSlot && masters > 1 {
        let (a, b) = (id(0), id(1 + replicas));
        slots[100].state = SlotState::Migrating;
        open_slots.push(OpenSlot {
            slot: 100,
            owner: Some(a.clone()),
            migrating: vec![(a.clone(), b.clone())],
            importing: vec![(b.clone(), a.clone())],
            on_replicas: Vec::new(),
            keys: BTreeMap::from([(a, 40), (b, 22)]),
        });
    }
    if scenario != SampleCase::Healthy {
        for node in &mut nodes {
            node.cluster_state_ok = Some(scenario == SampleCase::OpenSlot);
        }
    }
    let model = ClusterModel {
        generation: 7,
        taken_at_ms: T0_MS,
        nodes,
        slots,
        open_slots,
        disagreements: Vec::new(),
        uncovered_keys: BTreeMap::new(),
        progress: crate::cluster::progress::Progress::default(),
        slot_migrations: Vec::new(),
    };
    let findings = findings(&model, scenario, masters, replicas);
    let snapshot = ClusterSnapshot {
        generation: 7,
        started_at_ms: T0_MS - 40,
        finished_at_ms: T0_MS,
        seeds: vec![Endpoint::new("127.0.0.1", 7000)],
        observations: Vec::new(),
        progress: crate::cluster::progress::Progress::default(),
    };
    (snapshot, model, findings)
}

/// The same as [`model`], wrapped for [`super::App::on_presented`].
#[must_use]
pub fn presented(masters: usize, replicas: usize, scenario: SampleCase) -> Presented {
    let (s, m, f) = model(masters, replicas, scenario);
    Presented::from_parts(Arc::new(s), m, f)
}

/// A dashboard of `width` x `height` columns and rows showing a 3-master, 1-replica sample
/// broken as `case` says, 1.2 s after the sample was taken (16 colours, writes allowed).
#[must_use]
pub fn app(case: SampleCase, width: u16, height: u16) -> App {
    let mut app = App::new(ColorDepth::Ansi16, Duration::from_secs(1), false, None);
    app.on_resize(width, height);
    app.on_presented(presented(3, 1, case));
    app.on_tick(T0_MS + 1200);
    app
}

fn summary(
    i: usize,
    role: Role,
    master_id: Option<NodeId>,
    claimed: Vec<SlotRange>,
    failing: bool,
    keys: u64,
) -> NodeSummary {
    let port = 7000 + u16::try_from(i % 50_000).unwrap_or(0);
    let addr = NodeAddr {
        ip: "127.0.0.1".to_owned(),
        port,
        cport: port.wrapping_add(10_000),
        hostname: None,
    };
    let flags = NodeFlags {
        master: role == Role::Master,
        replica: role == Role::Replica,
        fail: failing,
        ..NodeFlags::default()
    };
    NodeSummary {
        id: Some(id(i)),
        endpoint: addr.endpoint(),
        addr,
        role,
        master_id,
        flags,
        reachability: if failing {
            Reachability::Failed(ProbeError::ConnectFailed(
                "Connection refused (os error 111)".into(),
            ))
        } else {
            Reachability::Ok
        },
        own_line: None,
        claimed_slots: claimed,
        config_epoch: u64::try_from(i).unwrap_or(0) + 1,
        peers: PeerOpinion {
            fail_by: if failing { vec![id(0)] } else { Vec::new() }.into(),
            max_pong_age_ms: Some(if failing { 31_000 } else { 400 }),
            ..PeerOpinion::default()
        },
        census: None,
        access: crate::cluster::access::Access::default(),
        slot_stats: None,
        info: (!failing).then(|| ServerInfo {
            redis_version: Some("7.0.15".into()),
            role: Some(
                if role == Role::Master {
                    "master"
                } else {
                    "slave"
                }
                .into(),
            ),
            used_memory: Some(2_400_000 + u64::try_from(i).unwrap_or(0) * 1000),
            ops_per_sec: Some(120),
            connected_clients: Some(3),
            master_repl_offset: Some(981_230),
            slave_repl_offset: (role == Role::Replica).then_some(981_100),
            keys: Some(keys),
            ..ServerInfo::default()
        }),
        config: None,
        cluster_state_ok: Some(true),
        rtt_us: (!failing).then_some(180 + u64::try_from(i % 7).unwrap_or(0) * 40),
        observed_at_ms: Some(T0_MS - 5),
        observation: None,
        isolated: false,
    }
}

fn findings(
    model: &ClusterModel,
    scenario: SampleCase,
    masters: usize,
    replicas: usize,
) -> Vec<Finding> {
    let last = model
        .nodes
        .iter()
        .rev()
        .find(|n| n.role == Role::Master)
        .cloned();
    let Some(last) = last else { return Vec::new() };
    let range = SlotRange::new(
        u16::try_from((masters - 1) * (SLOT_COUNT / masters)).unwrap_or(0),
        u16::try_from(SLOT_COUNT - 1).unwrap_or(u16::MAX),
    );
    let addr = last.addr.to_string();
    let lid = last.id.clone().into_iter().collect::<Vec<_>>();
    match scenario {
        SampleCase::Healthy if replicas == 0 => vec![Finding {
            kind: FindingKind::NoReplica,
            severity: Severity::Warning,
            summary: format!("{masters} masters have no replica: losing one loses its slots"),
            slots: Vec::new(),
            nodes: Vec::new(),
            addresses: Vec::new(),
            evidence: Vec::new(),
        }],
        SampleCase::Healthy => Vec::new(),
        SampleCase::MasterDown => vec![
            Finding {
                kind: FindingKind::MasterDown,
                severity: Severity::Critical,
                summary: format!(
                    "master {addr} failed holding slots {range} ({} slots), no replica to fail over",
                    range.len()
                ),
                slots: vec![range],
                nodes: lid.clone(),
                addresses: vec![addr.clone()],
                evidence: vec![
                    format!("{addr}: connection refused"),
                    "flagged fail by 127.0.0.1:7000".to_owned(),
                ],
            },
            Finding {
                kind: FindingKind::ClusterDown,
                severity: Severity::Critical,
                summary: format!(
                    "CLUSTER DOWN: {} slots not served, master {addr} failed, no replica",
                    range.len()
                ),
                slots: vec![range],
                nodes: lid,
                addresses: vec![addr],
                evidence: Vec::new(),
            },
        ],
        SampleCase::Uncovered => vec![Finding {
            kind: FindingKind::UncoveredSlots,
            severity: Severity::Critical,
            summary: format!("{} slots ({range}) are bound to no master", range.len()),
            slots: vec![range],
            nodes: Vec::new(),
            addresses: Vec::new(),
            evidence: vec!["no reachable master holds keys in them".to_owned()],
        }],
        SampleCase::OpenSlot => vec![Finding {
            kind: FindingKind::OpenSlot,
            severity: Severity::Warning,
            summary: "slot 100 is half-migrated 127.0.0.1:7000 → 127.0.0.1:7002: 40 keys at source, 22 at target".to_owned(),
            slots: vec![SlotRange::single(100)],
            nodes: model.open_slots.first().into_iter().flat_map(|o| o.keys.keys().cloned()).collect(),
            addresses: vec!["127.0.0.1:7000".to_owned(), "127.0.0.1:7002".to_owned()],
            evidence: vec!["migrating marker on 127.0.0.1:7000, importing marker on 127.0.0.1:7002".to_owned()],
        }],
    }
}
