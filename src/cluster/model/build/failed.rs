//! Step 3 of the build: failed probes (and replies without a `myself` line) are attached to
//! the node with that address, else they become an id-less node.

use super::{Leftover, Proto, View};
use crate::cluster::fasthash::FxMap;
use crate::cluster::types::{ClusterSnapshot, NodeAddr};

/// (host or hostname, port) → internal node index.
type AddrMap<'a> = FxMap<(&'a str, u16), usize>;

/// Attach each leftover probe to the node listed at its endpoint, unless that node was
/// already observed through another endpoint; a probe nobody lists becomes its own node.
pub(super) fn attach_failed_probes<'a>(
    snapshot: &'a ClusterSnapshot,
    views: &[View<'a>],
    protos: &mut Vec<Proto<'a>>,
    leftovers: Vec<Leftover<'a>>,
) {
    let by_addr = if leftovers.is_empty() {
        AddrMap::default()
    } else {
        nodes_by_address(views, protos)
    };
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
}

/// Every known address (ip and hostname) of every node, from its own line and its peers'
/// lines. Lines in handshake are indexed in a second pass, so an address a real node has
/// wins over a handshake entry with the same address.
fn nodes_by_address<'a>(views: &[View<'a>], protos: &[Proto<'a>]) -> AddrMap<'a> {
    let mut by_addr = AddrMap::default();
    for pass_handshake in [false, true] {
        for (idx, p) in protos.iter().enumerate() {
            let own = p.view.map(|v| views[v].me);
            let mut last: Option<&NodeAddr> = None;
            for line in own.into_iter().chain(p.peer_runs.iter().map(|r| r.line)) {
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
    by_addr
}

#[cfg(test)]
mod tests {
    use crate::cluster::model::testkit::*;

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
}
