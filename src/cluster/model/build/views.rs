//! Step 1 of the build: one reachable view per node id (a node probed twice counts once).

use std::borrow::Cow;

use super::{IdMap, Leftover, Proto, View, get_or_insert};
use crate::cluster::types::{ClusterSnapshot, ProbeError};

/// The views of every node that answered with a `myself` line, each registered as a node;
/// the other probes are returned as leftovers for step 3.
pub(super) fn collect_views<'a>(
    snapshot: &'a ClusterSnapshot,
    now_ms: u64,
    ids: &mut IdMap<'a>,
    protos: &mut Vec<Proto<'a>>,
) -> (Vec<View<'a>>, Vec<Leftover<'a>>) {
    // Every table is about as large as the cluster: size the map for the largest one.
    let largest = snapshot
        .observations
        .iter()
        .filter_map(|o| o.report().map(|r| r.nodes.len()))
        .max()
        .unwrap_or(0);
    ids.reserve(largest.max(snapshot.observations.len()));
    let mut views: Vec<View<'_>> = Vec::new();
    let mut leftovers: Vec<Leftover<'_>> = Vec::new();
    for (oi, obs) in snapshot.observations.iter().enumerate() {
        let report = match &obs.result {
            Ok(r) => r,
            Err(e) => {
                leftovers.push((oi, Cow::Borrowed(e)));
                continue;
            }
        };
        let Some((me_pos, me)) = report.nodes.myself_at() else {
            leftovers.push((
                oi,
                Cow::Owned(ProbeError::Protocol(
                    "CLUSTER NODES has no `myself` line".into(),
                )),
            ));
            continue;
        };
        let idx = get_or_insert(ids, protos, &me.id);
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
            me_pos,
            at_ms: if obs.observed_at_ms > 0 {
                obs.observed_at_ms
            } else {
                now_ms
            },
        });
    }
    (views, leftovers)
}
