//! Step 2 of the build: every node any view lists, the lines its peers give about it, and
//! each view's slot claims.

use super::segments::DistinctClaims;
use super::{Claim, IdMap, Proto, View, get_or_insert};

/// Registers every node the views list and records each peer line on the node it is about;
/// returns each view's slot claims, sorted, identical lists kept once (step 5 counts them).
///
/// One pass over the lines: a node's peer listings are a few runs (no per-listing storage to
/// size beforehand), and a view's claims go through one reused buffer into the distinct lists.
pub(super) fn list_nodes<'a>(
    views: &[View<'a>],
    ids: &mut IdMap<'a>,
    protos: &mut Vec<Proto<'a>>,
) -> DistinctClaims {
    let mut distinct = DistinctClaims::default();
    let mut claims: Vec<Claim> = Vec::new();
    for (vi, view) in views.iter().enumerate() {
        claims.clear();
        for (li, t) in view.nodes.timed().enumerate() {
            let line = t.line;
            let idx = if li == view.me_pos {
                view.node
            } else {
                get_or_insert(ids, protos, &line.id)
            };
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
        distinct.add(&mut claims);
    }
    distinct
}
