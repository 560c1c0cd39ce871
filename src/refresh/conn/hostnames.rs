//! `--prefer-hostname`: a node that announces a hostname (`cluster-announce-hostname`, shown
//! in `CLUSTER NODES` as `ip:port@cport,hostname`) is reached by that hostname instead of its
//! announced IP, while the model, the screen and the audit keep naming the node by its
//! announced `ip:port`. `--remap` rules then apply to the hostname's address.
//!
//! The [`HostnameBook`] is shared by every connection pool made from the same options (the
//! refresher's, the executor's, the `:` command line's): each probe's `CLUSTER NODES` reply
//! teaches it which announced address goes with which hostname before the node is probed.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::Connector;
use crate::cluster::types::{ClusterNodes, Endpoint};
use crate::refresh::ConnectOptions;

/// Announced `ip:port` → the hostname the node announces.
#[derive(Debug, Default)]
pub struct HostnameBook(Mutex<HashMap<Endpoint, String>>);

impl HostnameBook {
    /// The hostname announced for `ep`, if any.
    #[must_use]
    pub fn get(&self, ep: &Endpoint) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(ep)
            .cloned()
    }

    /// Learn the hostnames of one `CLUSTER NODES` view; returns the announced addresses whose
    /// hostname is new or changed (their connections, made by IP, are to be dropped).
    pub fn learn(&self, view: &ClusterNodes) -> Vec<Endpoint> {
        let mut book = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut changed = Vec::new();
        for line in view.lines() {
            let (Some(ep), Some(h)) = (line.addr.endpoint(), line.addr.hostname.as_ref()) else {
                continue;
            };
            if h.is_empty() || book.get(&ep) == Some(h) {
                continue;
            }
            book.insert(ep.clone(), h.clone());
            changed.push(ep);
        }
        changed
    }
}

/// Where a connection to the announced `ep` goes: the name the node goes by on the wire (its
/// hostname under `--prefer-hostname` once known, else `ep`; TLS verifies this name) and the
/// address actually dialled (that name, after `--remap`).
#[must_use]
pub fn route(opts: &ConnectOptions, ep: &Endpoint) -> (Endpoint, Endpoint) {
    let named = opts
        .hostnames
        .as_ref()
        .and_then(|b| b.get(ep))
        .map_or_else(|| ep.clone(), |h| Endpoint::new(h, ep.port));
    let target = opts.remap.apply(&named);
    (named, target)
}

impl Connector {
    /// Under `--prefer-hostname`, learn the hostnames a node's `CLUSTER NODES` announces, and
    /// drop connections made by IP to nodes whose hostname is learnt just now (the next call
    /// goes by hostname).
    pub fn learn_hostnames(&self, view: &ClusterNodes) {
        let Some(book) = self.options().hostnames.as_ref() else {
            return;
        };
        for ep in book.learn(view) {
            self.disconnect(&ep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::parse::parse_cluster_nodes;
    use std::sync::Arc;

    const VIEW: &str = "\
07c37dfeb235213a872192d90877d0cd55635b91 10.0.0.5:7000@17000,node-0.redis.test myself,master - 0 0 1 connected 0-8191
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 10.0.0.6:7001@17001 master - 0 0 2 connected 8192-16383
";

    #[test]
    fn announced_hostnames_are_used_when_preferred() {
        let view = parse_cluster_nodes(VIEW).expect("parse");
        let mut opts = ConnectOptions::default();
        let a = Endpoint::new("10.0.0.5", 7000);
        let b = Endpoint::new("10.0.0.6", 7001);
        // Not preferred: nothing changes.
        assert_eq!(route(&opts, &a), (a.clone(), a.clone()));
        let book = Arc::new(HostnameBook::default());
        opts.hostnames = Some(Arc::clone(&book));
        assert_eq!(route(&opts, &a), (a.clone(), a.clone()), "not learnt yet");
        assert_eq!(book.learn(&view), vec![a.clone()]);
        assert!(book.learn(&view).is_empty(), "learnt once");
        let host = Endpoint::new("node-0.redis.test", 7000);
        assert_eq!(route(&opts, &a), (host.clone(), host.clone()));
        // A node without a hostname keeps its address.
        assert_eq!(route(&opts, &b), (b.clone(), b.clone()));
        // --remap applies to the hostname's address.
        opts.remap =
            crate::refresh::conn::remap::RemapTable::parse(&["node-0.redis.test=127.0.0.1"])
                .expect("rule");
        assert_eq!(route(&opts, &a), (host, Endpoint::new("127.0.0.1", 7000)));
    }
}
