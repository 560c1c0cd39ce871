//! Sample data: write keys routed to their owners, read them back, fill one slot.

use std::collections::{BTreeMap, HashMap};

use redis::{ErrorKind, ServerErrorKind};

use super::conn::{self, SHORT};
use super::{Lab, LabError};
use crate::cluster::keyslot::{key_slot, tag_for_slot};
use crate::cluster::slots::{SLOT_COUNT, Slot};

/// Redirects followed per key before giving up.
const MAX_HOPS: usize = 5;

/// Why one key could not be read back (or written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The owner answered: no such key.
    #[error("absent")]
    Absent,
    /// The owner answered with another value (shown quoted).
    #[error("wrong value {0}")]
    WrongValue(String),
    /// The owner refused with `CLUSTERDOWN` (the key may still be stored).
    #[error("{0}")]
    ClusterDown(String),
    /// No master owns the key's slot in the routing table.
    #[error("slot {0} has no owner")]
    NoOwner(Slot),
    /// The owner could not be reached, or another error (the message).
    #[error("{0}")]
    Failed(String),
}

/// The result of reading back every key the lab wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadBack {
    /// Keys written through the lab.
    pub written: usize,
    /// Keys that returned exactly the value written.
    pub readable: usize,
    /// Keys that could not be read, with the reason, sorted by key.
    pub missing: Vec<(String, KeyError)>,
}

impl ReadBack {
    /// True if every written key was readable.
    #[must_use]
    pub fn all_readable(&self) -> bool {
        self.readable == self.written
    }
}

/// Connections by port, opened lazily, plus a slot → port routing table.
struct Router<'a> {
    lab: &'a Lab,
    cons: HashMap<u16, redis::Connection>,
    owner: Vec<Option<u16>>,
}

impl<'a> Router<'a> {
    /// Build the routing table from the first running node that answers `CLUSTER NODES`.
    fn new(lab: &'a Lab) -> Self {
        let mut owner = vec![None; SLOT_COUNT];
        for i in lab.running() {
            if let Ok(peers) = lab.cluster_nodes(i) {
                for p in peers.iter().filter(|p| p.port != 0) {
                    for &(a, b) in &p.slots {
                        for s in a..=b {
                            if let Some(o) = owner.get_mut(usize::from(s)) {
                                *o = Some(p.port);
                            }
                        }
                    }
                }
                break;
            }
        }
        Self {
            lab,
            cons: HashMap::new(),
            owner,
        }
    }

    fn con(&mut self, port: u16) -> Result<&mut redis::Connection, KeyError> {
        if !self.cons.contains_key(&port) {
            let c = conn::connect(port, self.lab.password(), SHORT)
                .map_err(|e| KeyError::Failed(format!("127.0.0.1:{port}: {e}")))?;
            self.cons.insert(port, c);
        }
        self.cons
            .get_mut(&port)
            .ok_or_else(|| KeyError::Failed(format!("127.0.0.1:{port}: no connection")))
    }

    /// Run a single-key command, following MOVED and ASK redirects.
    fn run<T: redis::FromRedisValue>(
        &mut self,
        key: &str,
        cmd: &redis::Cmd,
    ) -> Result<T, KeyError> {
        let slot = key_slot(key.as_bytes());
        let mut port = self
            .owner
            .get(usize::from(slot))
            .copied()
            .flatten()
            .ok_or(KeyError::NoOwner(slot))?;
        let mut asking = false;
        for _ in 0..MAX_HOPS {
            let con = self.con(port)?;
            if asking {
                redis::cmd("ASKING")
                    .query::<()>(con)
                    .map_err(|e| KeyError::Failed(format!("ASKING on 127.0.0.1:{port}: {e}")))?;
            }
            match cmd.query::<T>(con) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let ask = matches!(e.kind(), ErrorKind::Server(ServerErrorKind::Ask));
                    let target = e
                        .redirect_node()
                        .and_then(|(addr, _)| addr.rsplit_once(':'))
                        .and_then(|(_, p)| p.parse::<u16>().ok());
                    if let Some(p) = target {
                        if !ask && let Some(o) = self.owner.get_mut(usize::from(slot)) {
                            *o = Some(p);
                        }
                        port = p;
                        asking = ask;
                    } else {
                        // A broken connection is not reused.
                        if e.is_io_error() || e.is_timeout() {
                            self.cons.remove(&port);
                        }
                        let message = format!("127.0.0.1:{port}: {}", conn::describe(&e));
                        return Err(
                            if matches!(e.kind(), ErrorKind::Server(ServerErrorKind::ClusterDown)) {
                                KeyError::ClusterDown(message)
                            } else {
                                KeyError::Failed(message)
                            },
                        );
                    }
                }
            }
        }
        Err(KeyError::Failed(format!(
            "more than {MAX_HOPS} redirects for slot {slot}"
        )))
    }
}

impl Lab {
    /// Write `n` more sample keys `key:<i>` = `value-<i>` (numbering continues after earlier
    /// calls), each routed to the master that owns its slot, and remember them.
    ///
    /// # Errors
    /// The first key that cannot be written (e.g. the cluster is down).
    pub fn write_keys(&mut self, n: usize) -> Result<(), LabError> {
        let first = self
            .written
            .keys()
            .filter(|k| k.starts_with("key:"))
            .count();
        let pairs: Vec<(String, String)> = (first..first + n)
            .map(|i| (format!("key:{i}"), format!("value-{i}")))
            .collect();
        self.write_pairs(pairs)
    }

    /// Write `n` keys that all hash to `slot` (`{tag}:k<j>` with a tag found by search), and
    /// remember them. Returns the keys written.
    ///
    /// # Errors
    /// Slot out of range or a key that cannot be written.
    pub fn write_keys_in_slot(&mut self, slot: Slot, n: usize) -> Result<Vec<String>, LabError> {
        let tag = tag_for_slot(slot)
            .ok_or_else(|| LabError::Invalid(format!("slot {slot} is out of range")))?;
        let prefix = format!("{{{tag}}}:k");
        let first = self
            .written
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .count();
        let pairs: Vec<(String, String)> = (first..first + n)
            .map(|j| (format!("{prefix}{j}"), format!("value-{tag}-{j}")))
            .collect();
        let keys = pairs.iter().map(|(k, _)| k.clone()).collect();
        self.write_pairs(pairs)?;
        Ok(keys)
    }

    fn write_pairs(&mut self, pairs: Vec<(String, String)>) -> Result<(), LabError> {
        let mut router = Router::new(self);
        let mut done = Vec::with_capacity(pairs.len());
        let mut failure = None;
        for (k, v) in pairs {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&k).arg(&v);
            match router.run::<()>(&k, &cmd) {
                Ok(()) => done.push((k, v)),
                Err(e) => {
                    failure = Some(LabError::Redis {
                        context: format!("writing {k}"),
                        message: e.to_string(),
                    });
                    break;
                }
            }
        }
        drop(router);
        self.written.extend(done);
        failure.map_or(Ok(()), Err)
    }

    /// Every key written through the lab and its value.
    #[must_use]
    pub fn written(&self) -> &BTreeMap<String, String> {
        &self.written
    }

    /// Written keys that hash to `slot`.
    #[must_use]
    pub fn written_in_slot(&self, slot: Slot) -> Vec<String> {
        self.written
            .keys()
            .filter(|k| key_slot(k.as_bytes()) == slot)
            .cloned()
            .collect()
    }

    /// Read every written key through the cluster (following MOVED/ASK) and compare values.
    /// Never fails: unreadable keys are listed with the reason.
    #[must_use]
    pub fn read_back(&self) -> ReadBack {
        let mut router = Router::new(self);
        let mut out = ReadBack {
            written: self.written.len(),
            ..ReadBack::default()
        };
        for (k, v) in &self.written {
            let mut cmd = redis::cmd("GET");
            cmd.arg(k);
            match router.run::<Option<String>>(k, &cmd) {
                Ok(Some(got)) if got == *v => out.readable += 1,
                Ok(Some(got)) => out
                    .missing
                    .push((k.clone(), KeyError::WrongValue(format!("{got:?}")))),
                Ok(None) => out.missing.push((k.clone(), KeyError::Absent)),
                Err(e) => out.missing.push((k.clone(), e)),
            }
        }
        out
    }

    /// How many of the written keys are still physically stored on a running node, whatever
    /// the cluster state: per slot that holds written keys, the largest
    /// `CLUSTER COUNTKEYSINSLOT` over the running nodes, capped at the keys written there.
    /// Answers even while the cluster refuses reads with `CLUSTERDOWN`. One connection per
    /// node; a node that does not answer counts as holding nothing.
    #[must_use]
    pub fn stored_written_keys(&self) -> usize {
        let mut per_slot: BTreeMap<Slot, usize> = BTreeMap::new();
        for k in self.written.keys() {
            *per_slot.entry(key_slot(k.as_bytes())).or_default() += 1;
        }
        let mut cons: Vec<redis::Connection> = self
            .running()
            .into_iter()
            .filter_map(|i| self.node(i).ok().map(|n| n.port))
            .filter_map(|port| conn::connect(port, self.password(), SHORT).ok())
            .collect();
        let mut stored = 0usize;
        for (slot, written) in per_slot {
            let cmd = conn::command(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
            let mut best = 0usize;
            // A node that fails once is not asked again.
            cons.retain_mut(|con| match cmd.query::<u64>(con) {
                Ok(n) => {
                    best = best.max(usize::try_from(n).unwrap_or(usize::MAX));
                    true
                }
                Err(_) => false,
            });
            stored += best.min(written);
        }
        stored
    }

    /// `CLUSTER COUNTKEYSINSLOT slot` on node `i`: keys physically stored there, whoever owns
    /// the slot and whatever the cluster state.
    ///
    /// # Errors
    /// Node unreachable.
    pub fn count_keys_in_slot(&self, i: usize, slot: Slot) -> Result<u64, LabError> {
        match self.cmd(i, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()])? {
            redis::Value::Int(n) => Ok(u64::try_from(n).unwrap_or(0)),
            other => Err(LabError::Redis {
                context: format!("CLUSTER COUNTKEYSINSLOT on node {i}"),
                message: format!("unexpected reply {other:?}"),
            }),
        }
    }

    /// Wait until every replica holds as many keys as its master. Replication is
    /// asynchronous: a fault injected right after a write (a killed master, a half-done
    /// MIGRATE) must find the keys on the replicas, or a failover loses keys that the replica
    /// simply had not received yet, and whoever looks next sees replication still catching up.
    ///
    /// # Errors
    /// [`LabError::Timeout`] after 30 s, or a node that does not answer.
    pub fn wait_replicas_caught_up(&self) -> Result<(), LabError> {
        let pairs: Vec<(usize, usize)> = self
            .master_indices()
            .into_iter()
            .flat_map(|m| self.replicas_of(m).into_iter().map(move |r| (m, r)))
            .collect();
        self.wait_until(
            "replicas to hold their master's keys",
            std::time::Duration::from_secs(30),
            |lab| {
                for &(m, r) in &pairs {
                    let (want, got) = (lab.dbsize(m)?, lab.dbsize(r)?);
                    if want != got {
                        return Ok(Err(format!("replica {r} holds {got} of {want} keys")));
                    }
                }
                Ok(Ok(()))
            },
        )
    }

    /// `DBSIZE` on node `i`.
    ///
    /// # Errors
    /// Node unreachable.
    pub fn dbsize(&self, i: usize) -> Result<u64, LabError> {
        match self.cmd(i, &["DBSIZE"])? {
            redis::Value::Int(n) => Ok(u64::try_from(n).unwrap_or(0)),
            other => Err(LabError::Redis {
                context: format!("DBSIZE on node {i}"),
                message: format!("unexpected reply {other:?}"),
            }),
        }
    }
}
