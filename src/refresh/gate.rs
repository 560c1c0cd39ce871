//! How many probes one refresh keeps in flight at once, and which connections it keeps.
//!
//! Every probe of a small cluster goes out at once: a refresh costs one round trip to the
//! slowest node. A probe's replies are about one `CLUSTER NODES` line per node of the cluster
//! (about 120 bytes), and while they wait to be folded into the snapshot each costs several
//! times that (the client's read buffer, the decoded reply, the text, the parsed lines): about
//! [`BYTES_PER_VIEW_LINE`] per line, measured on a 1000-node cluster. Probing all 1000 nodes
//! of such a cluster at once held about 600 MB of replies at the peak. So the number of probes
//! in flight is bounded by a byte budget ([`PROBE_BUDGET_BYTES`]) divided by the expected size
//! of one probe: every node of a cluster of up to about 100 nodes at once (one round trip), 10
//! at a time at 1000 nodes (the refresh then costs about 1000 / 10 = 100 round trips, about
//! 10 ms on loopback, 2 s at 20 ms: still far fewer than a sequential check). The budget is
//! what keeps the dashboard within 30 MiB at 1000 nodes: at 12 MiB (20 at a time) its peak RSS
//! was 34-37 MiB, at 9 MiB 29.6-31.5, at 6 MiB 28-29 (docs/performance.md).
//!
//! A connection that carried a reply larger than [`KEEP_CONNECTION_BYTES`] is closed after the
//! probe (see [`super::Connector::release_if_larger`]): its read buffer would stay that large
//! for as long as the connection lives. That happens only with clusters of more than about 500
//! nodes, whose connections are then opened again at every refresh.

/// The bytes the waiting replies of a refresh may take, estimated.
pub const PROBE_BUDGET_BYTES: usize = 6 << 20;

/// What one line of a node's view costs while its probe's replies wait to be folded.
pub const BYTES_PER_VIEW_LINE: usize = 600;

/// Probes in flight at once, however large the cluster.
pub const MIN_PROBES_AT_ONCE: usize = 8;

/// A connection that carried a larger reply is not kept after its probe.
pub const KEEP_CONNECTION_BYTES: usize = 64 << 10;

/// How many probes may be in flight at once when the nodes' views list about `view_lines`
/// nodes.
#[must_use]
pub fn probes_at_once(view_lines: usize) -> usize {
    let per_probe = view_lines.max(1).saturating_mul(BYTES_PER_VIEW_LINE);
    (PROBE_BUDGET_BYTES / per_probe).max(MIN_PROBES_AT_ONCE)
}

/// Run a refresh's later step (the key census, `SLOT-STATS`, the suspect slots' counts) on
/// each of `jobs` in a cluster of `nodes` nodes, as many at once as its probes; the results
/// in the order they finish. Each needs a connection (a probe of a large cluster closes its
/// own, see [`KEEP_CONNECTION_BYTES`]), with buffers of its own: asking 500 masters at once
/// held 500 new connections at the peak.
pub async fn follow_ups<J, F, Fut>(nodes: usize, jobs: J, ask: F) -> Vec<Fut::Output>
where
    J: IntoIterator,
    F: FnMut(J::Item) -> Fut,
    Fut: std::future::Future,
{
    use futures::StreamExt as _;
    futures::stream::iter(jobs)
        .map(ask)
        .buffer_unordered(probes_at_once(nodes))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_clusters_are_probed_all_at_once_large_ones_within_the_budget() {
        for nodes in [1, 6, 60, 100] {
            assert!(probes_at_once(nodes) >= nodes, "{nodes} nodes");
        }
        let at_1000 = probes_at_once(1000);
        assert!((8..=16).contains(&at_1000), "{at_1000}");
        assert!(at_1000 * 1000 * BYTES_PER_VIEW_LINE <= PROBE_BUDGET_BYTES);
        assert_eq!(probes_at_once(1_000_000), MIN_PROBES_AT_ONCE);
        assert!(probes_at_once(0) >= 1000);
    }
}
