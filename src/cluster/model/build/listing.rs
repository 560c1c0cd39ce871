//! Step 2 of the build: every node any view lists, the lines its peers give about it, and
//! each view's slot claims.

use super::{Claim, IdMap, Proto, View, get_or_insert};

/// Registers every node the views list and records each peer line on the node it is about;
/// returns each view's slot claims (unsorted; step 5 sorts and deduplicates them).
///
/// Each line's id is looked up once: `line_node[vi][li]` is the node of line `li` of view
/// `vi`, reused for the slot claims. The peer lists are sized by a counting pass so that
/// they never reallocate.
pub(super) fn list_nodes<'a>(
    views: &[View<'a>],
    ids: &mut IdMap<'a>,
    protos: &mut Vec<Proto<'a>>,
) -> Vec<Vec<Claim>> {
    // Node indices as u32, half the size: there are 10⁶ of them at 1000 nodes, and a view's
    // lines are bounded far below 2³² (the parser's entry limit).
    let mut line_node: Vec<Vec<u32>> = Vec::with_capacity(views.len());
    let mut listed: Vec<usize> = Vec::new();
    for view in views {
        let mut nodes = Vec::with_capacity(view.nodes.len());
        for (li, line) in view.nodes.lines().enumerate() {
            let idx = if li == view.me_pos {
                view.node
            } else {
                get_or_insert(ids, protos, &line.id)
            };
            nodes.push(u32::try_from(idx).unwrap_or(u32::MAX));
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
        p.peer_views.reserve_exact(n);
    }
    // Same walk: each view's slot claims.
    let mut claims_by_view: Vec<Vec<Claim>> = Vec::with_capacity(views.len());
    for (vi, view) in views.iter().enumerate() {
        let mut claims: Vec<Claim> = Vec::new();
        for (t, &idx) in view.nodes.timed().zip(&line_node[vi]) {
            let idx = idx as usize;
            let line = t.line;
            if idx != view.node {
                let p = &mut protos[idx];
                p.listed(vi, line);
                if t.pong_recv_ms > 0 {
                    let age = view.at_ms.saturating_sub(t.pong_recv_ms);
                    p.max_pong_age_ms = Some(p.max_pong_age_ms.map_or(age, |m| m.max(age)));
                }
            }
            claims.extend(line.slots.iter().map(|&range| Claim {
                range,
                owner: idx,
                epoch: line.config_epoch,
            }));
        }
        claims_by_view.push(claims);
    }
    claims_by_view
}
