//! Step 4 of the build: one [`NodeSummary`] per node, from its own line when it answered and
//! from what most of its peers say otherwise.

use std::sync::Arc;

use super::{Proto, View};
use crate::cluster::model::{NodeSummary, PeerOpinion, Reachability, Role, Viewers};
use crate::cluster::slots::SlotRange;
use crate::cluster::types::{
    ClusterSnapshot, ClusterState, NodeAddr, NodeFlags, NodeId, NodeLine, NodeObservation,
};

/// Every node's summary, in internal order, `isolated` included.
pub(super) fn summarize_all(
    protos: &[Proto<'_>],
    views: &[View<'_>],
    snapshot: &ClusterSnapshot,
) -> Vec<NodeSummary> {
    // The viewing nodes, in view order: every peer list of the model picks from these.
    let viewers: Arc<[NodeId]> = views.iter().map(|v| v.me.id.clone()).collect();
    let mut scratch: Vec<u32> = Vec::new();
    let mut summaries: Vec<NodeSummary> = Vec::with_capacity(protos.len());
    for p in protos {
        let peers = peer_opinion(p, views, &viewers, &mut scratch);
        summaries.push(summarize(p, peers, views, snapshot));
    }
    let total_nodes = summaries.len();
    for (idx, p) in protos.iter().enumerate() {
        if let Some(v) = p.view {
            let view = &views[v];
            let s = &mut summaries[idx];
            s.isolated = total_nodes > 1
                && view.nodes.len() == 1
                && (view.me.slots.is_empty() || s.peers.known_by.is_empty());
        }
    }
    summaries
}

/// What a node is, from its own line or its peers' lines.
struct Portrait {
    role: Role,
    flags: NodeFlags,
    master_id: Option<NodeId>,
    addr: NodeAddr,
    claimed_slots: Vec<SlotRange>,
    config_epoch: u64,
}

/// Everything about one node except `isolated`.
fn summarize(
    p: &Proto<'_>,
    peers: PeerOpinion,
    views: &[View<'_>],
    snapshot: &ClusterSnapshot,
) -> NodeSummary {
    let own = p.view.map(|v| views[v].me);
    let obs = p.obs.and_then(|o| snapshot.observations.get(o));
    let report = obs.and_then(|o| o.report()).filter(|_| own.is_some());
    let Portrait {
        role,
        flags,
        master_id,
        addr,
        claimed_slots,
        config_epoch,
    } = match own {
        Some(own) => own_portrait(own),
        None => portrait_by_peers(p, obs),
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
        own_line: p.view.and_then(|v| views[v].nodes.line_at(views[v].me_pos)),
        claimed_slots,
        config_epoch,
        peers,
        info: report.map(|r| r.info.clone()),
        census: report.and_then(|r| r.census.clone()),
        config: report.map(|r| r.config.clone()),
        access: report.map(|r| r.access.clone()).unwrap_or_default(),
        slot_stats: report.and_then(|r| r.slot_stats.clone()),
        cluster_state_ok: report
            .and_then(|r| r.cluster_info.as_ref())
            .map(|ci| ci.state == ClusterState::Ok),
        rtt_us: obs.and_then(|o| o.rtt_us),
        observed_at_ms: obs.map(|o| o.observed_at_ms),
        observation: p.obs,
        isolated: false,
    }
}

/// What the peers' views say of a node. Every list picks from `viewers` (the viewing
/// nodes' ids, in view order) by view index; `scratch` is reused between nodes.
fn peer_opinion(
    p: &Proto<'_>,
    views: &[View<'_>],
    viewers: &Arc<[NodeId]>,
    scratch: &mut Vec<u32>,
) -> PeerOpinion {
    let flagged = |f: fn(&NodeFlags) -> bool, scratch: &mut Vec<u32>| {
        scratch.clear();
        // A run gives one line, so one flag test per run: nothing to walk in the usual case
        // of a node no peer flags.
        for run in p.peer_runs.iter().filter(|r| f(&r.line.flags)) {
            scratch.extend(run.views());
        }
        Viewers::pick(viewers, scratch)
    };
    let pfail_by = flagged(|f| f.pfail, scratch);
    let fail_by = flagged(|f| f.fail, scratch);
    let handshake_by = flagged(|f| f.handshake, scratch);
    let noaddr_by = flagged(|f| f.noaddr, scratch);
    let known_by = flagged(|_| true, scratch);
    // Every other view that does not list it (for a node with an id): the gaps between runs.
    scratch.clear();
    if p.id.is_some() {
        let n = u32::try_from(views.len()).unwrap_or(u32::MAX);
        let own = p.view.and_then(|v| u32::try_from(v).ok());
        let mut next = 0u32;
        for r in &p.peer_runs {
            scratch.extend((next..r.view).filter(|&v| Some(v) != own));
            next = next.max(r.end());
        }
        scratch.extend((next..n).filter(|&v| Some(v) != own));
    }
    PeerOpinion {
        known_by,
        unknown_to: Viewers::pick(viewers, scratch),
        pfail_by,
        fail_by,
        handshake_by,
        noaddr_by,
        max_pong_age_ms: p.max_pong_age_ms,
    }
}

fn role_of(f: NodeFlags) -> Role {
    if f.master {
        Role::Master
    } else if f.replica {
        Role::Replica
    } else {
        Role::Unknown
    }
}

/// A node that answered, as its own `myself` line describes it.
fn own_portrait(own: &NodeLine) -> Portrait {
    Portrait {
        role: role_of(own.flags),
        flags: own.flags,
        master_id: own.master_id.clone(),
        addr: own.addr.clone(),
        claimed_slots: own.slots.clone(),
        config_epoch: own.config_epoch,
    }
}

/// A node that did not answer, as most of its peers describe it (its probed endpoint gives
/// the address when nobody lists it).
fn portrait_by_peers(p: &Proto<'_>, obs: Option<&NodeObservation>) -> Portrait {
    let peer_lines = || p.peer_lines();
    let listers = p.listers();
    let majority = |n: usize| n * 2 > listers;
    let role = mode(
        peer_lines()
            .map(|l| role_of(l.flags))
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
    let master_id = mode(peer_lines().filter_map(|l| l.master_id.as_ref())).map(|(m, _)| m.clone());
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
    // Over runs of one line, not over every listing: a line repeated in consecutive
    // listings counts the same and cannot change the choice.
    let mut best: Option<(&NodeLine, usize)> = None;
    let mut prev: Option<&NodeLine> = None;
    for l in p.peer_runs.iter().map(|r| r.line) {
        // Runs of one line split by views that do not list the node: counted once.
        if prev.is_some_and(|x| std::ptr::eq(x, l)) {
            continue;
        }
        prev = Some(l);
        let n: usize = p
            .peer_runs
            .iter()
            .filter(|x| x.line.slots == l.slots)
            .map(|x| x.len as usize)
            .sum();
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
    Portrait {
        role,
        flags,
        master_id,
        addr,
        claimed_slots: best.map(|(l, _)| l.slots.clone()).unwrap_or_default(),
        config_epoch: peer_lines().map(|l| l.config_epoch).max().unwrap_or(0),
    }
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

#[cfg(test)]
mod tests {
    use crate::cluster::model::testkit::*;
    use crate::cluster::synthetic::set_slot_keys;
    use std::collections::BTreeMap;

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
        let mut unknown = dn.peers.unknown_to.to_vec();
        unknown.sort();
        assert_eq!(unknown, vec![id("bbbb"), id("cccc")]);
        assert!(!dn.isolated);
        assert_eq!(order(&m), ["aaaa", "dddd", "bbbb", "cccc"]);
        assert!(m.node(&id("aaaa")).unwrap().peers.unknown_to.is_empty());
    }

    #[test]
    fn deleted_slots_noaddr_and_isolated_node() {
        type Row<'a> = (
            &'a str,
            String,
            Option<&'a str>,
            Option<&'a str>,
            Option<u64>,
        );
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
        let mut dis: Vec<Row<'_>> = m
            .disagreements
            .iter()
            .map(|d| {
                (
                    d.node.short(),
                    format_ranges(&d.slots),
                    d.its_owner.as_ref().map(NodeId::short),
                    d.consensus_owner.as_ref().map(NodeId::short),
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
}
