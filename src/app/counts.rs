//! The node counts of the header, and which probed endpoints are no longer members of the
//! cluster (a forgotten node or a wrong seed, a note that is out of the verdict): those are
//! counted apart, never as failing.

use crate::cluster::diagnose::{FindingKind, Severity};
use crate::cluster::{NodeSummary, Reachability, Role};

use super::App;

/// Counts for the header line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeCounts {
    /// Answering and not flagged.
    pub ok: usize,
    /// Members that are flagged or do not answer.
    pub failing: usize,
    /// Probed endpoints that do not answer and that no member lists: not members.
    pub gone: usize,
    /// Nodes not probed (no address, or not reached yet).
    pub unprobed: usize,
    /// Masters among the members.
    pub masters: usize,
    /// Replicas among the members.
    pub replicas: usize,
}

impl App {
    /// Whether `n` is an endpoint the diagnosis left out of the verdict because it does not
    /// answer and no member lists it (its one finding is an info-level "not a member" note).
    #[must_use]
    pub fn is_departed(&self, n: &NodeSummary) -> bool {
        if n.id.is_some() || !matches!(n.reachability, Reachability::Failed(_)) {
            return false;
        }
        let addr = n.addr.to_string();
        self.findings().iter().any(|f| {
            f.kind == FindingKind::NodeUnreachable
                && f.severity == Severity::Info
                && f.nodes.is_empty()
                && f.addresses.contains(&addr)
        })
    }

    /// Counts for the header: nodes ok (answering, not flagged), failing (flagged or
    /// unreachable), gone (not members), not probed, masters and replicas among the members.
    #[must_use]
    pub fn node_counts(&self) -> NodeCounts {
        let Some(m) = self.model() else {
            return NodeCounts::default();
        };
        let mut c = NodeCounts::default();
        for n in &m.nodes {
            if self.is_departed(n) {
                c.gone += 1;
                continue;
            }
            match n.reachability {
                Reachability::NotProbed => c.unprobed += 1,
                _ if n.is_failing() => c.failing += 1,
                Reachability::Ok => c.ok += 1,
                Reachability::Failed(_) => c.unprobed += 1,
            }
            match n.role {
                Role::Master => c.masters += 1,
                Role::Replica => c.replicas += 1,
                Role::Unknown => {}
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::super::color::ColorDepth;
    use super::super::sample::{self, SampleCase};
    use super::super::{App, Presented};
    use super::*;
    use crate::cluster::{NodeAddr, ProbeError, diagnose};

    /// A healthy sample plus a seed that no longer answers and that no member lists (a
    /// forgotten master after its repair, or a wrong seed).
    fn with_departed_seed() -> App {
        let (snap, mut model, _) = sample::model(3, 1, SampleCase::Healthy);
        let mut gone = model.nodes[0].clone();
        gone.id = None;
        gone.addr = NodeAddr {
            ip: "127.0.0.1".to_owned(),
            port: 7999,
            cport: 17999,
            hostname: None,
        };
        gone.endpoint = gone.addr.endpoint();
        gone.role = Role::Unknown;
        gone.master_id = None;
        gone.claimed_slots.clear();
        gone.peers = crate::cluster::model::PeerOpinion::default();
        gone.info = None;
        gone.census = None;
        gone.reachability =
            Reachability::Failed(ProbeError::ConnectFailed("connection refused".to_owned()));
        model.nodes.push(gone);
        let findings = diagnose::diagnose(&model);
        let mut app = App::new(ColorDepth::Ansi16, Duration::from_secs(1), false, None);
        app.on_resize(120, 40);
        app.on_presented(Presented::from_parts(Arc::new(snap), model, findings));
        app
    }

    #[test]
    fn a_departed_seed_is_gone_not_failing() {
        let app = with_departed_seed();
        assert!(
            app.findings().iter().all(|f| f.severity == Severity::Info),
            "{:?}",
            app.findings()
        );
        let m = app.model().expect("a model");
        let gone = m.nodes.last().expect("the seed");
        assert!(app.is_departed(gone));
        assert!(!m.nodes.iter().take(6).any(|n| app.is_departed(n)));
        let c = app.node_counts();
        assert_eq!((c.ok, c.failing, c.gone), (6, 0, 1), "{c:?}");
        assert_eq!((c.masters, c.replicas), (3, 3));
    }

    #[test]
    fn a_master_that_is_down_is_failing() {
        let app = sample::app(SampleCase::MasterDown, 120, 40);
        let c = app.node_counts();
        assert_eq!((c.failing, c.gone), (1, 0), "{c:?}");
    }
}
