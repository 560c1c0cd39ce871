//! Stable finding ids, for de-duplicating alerts: the same fault gives the same id on every
//! run, whatever the wording, the order of findings or the time.
//!
//! An id is the finding's kind and a 64-bit FNV-1a digest (`cluster::digest`) (16 hex digits) of what the fault is
//! about: its kind, its slot ranges and its nodes (node ids, sorted; the address for a node
//! whose id is unknown). The summary and evidence are left out on purpose: they carry counts,
//! ages and wording that change while the fault stays the same. A fault that spreads to more
//! slots or nodes is a different fault and gets a new id.

use super::{Finding, FindingKind};
use crate::cluster::digest::Fnv;

impl FindingKind {
    /// The kind's name as in the JSON document (`master_down`).
    #[must_use]
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{self:?}"))
    }
}

impl Finding {
    /// The finding's stable id, e.g. `master_down-9f0c2a4b7e1d3c55`.
    #[must_use]
    pub fn stable_id(&self) -> String {
        let kind = self.kind.name();
        let mut h = Fnv::new();
        h.field(&kind);
        for r in &self.slots {
            h.field(&format!("{}-{}", r.start, r.end));
        }
        h.write(&[1]);
        let mut who: Vec<&str> = self.nodes.iter().map(|n| &*n.0).collect();
        // Addresses beyond the ids name nodes whose id is unknown (they come last).
        who.extend(
            self.addresses
                .iter()
                .skip(self.nodes.len())
                .map(String::as_str),
        );
        who.sort_unstable();
        who.dedup();
        for w in who {
            h.field(w);
        }
        format!("{kind}-{}", h.hex())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Finding, FindingKind, Severity};
    use crate::cluster::slots::SlotRange;
    use crate::cluster::types::NodeId;

    fn finding(summary: &str, nodes: &[&str], addresses: &[&str]) -> Finding {
        let mut f = Finding::new(FindingKind::MasterDown, Severity::Critical, summary.into());
        f.slots = vec![SlotRange {
            start: 0,
            end: 5460,
        }];
        f.nodes = nodes.iter().map(|n| NodeId((*n).into())).collect();
        f.addresses = addresses.iter().map(|a| (*a).to_owned()).collect();
        f
    }

    #[test]
    fn the_id_ignores_wording_order_and_evidence() {
        let a = finding(
            "master 127.0.0.1:7000 is down for 3 s",
            &["aaa", "bbb"],
            &[],
        );
        let mut b = finding(
            "master 127.0.0.1:7000 is down for 95 s",
            &["bbb", "aaa"],
            &[],
        );
        b.evidence.push("peers agree it failed".into());
        assert_eq!(a.stable_id(), b.stable_id());
        assert!(
            a.stable_id().starts_with("master_down-"),
            "{}",
            a.stable_id()
        );
        assert_eq!(a.stable_id().len(), "master_down-".len() + 16);
    }

    #[test]
    fn the_id_is_fixed_across_versions() {
        // Monitoring keeps ids across upgrades: this value must never change.
        let f = finding("x", &["07c37dfeb235213a872192d90877d0cd55635b91"], &[]);
        assert_eq!(f.stable_id(), "master_down-50ef8542b840c8d2");
    }

    #[test]
    fn another_fault_gets_another_id() {
        let a = finding("x", &["aaa"], &[]);
        let other_node = finding("x", &["aab"], &[]);
        let mut other_slots = finding("x", &["aaa"], &[]);
        other_slots.slots = vec![SlotRange {
            start: 0,
            end: 5461,
        }];
        let mut other_kind = finding("x", &["aaa"], &[]);
        other_kind.kind = FindingKind::NodeDown;
        let unknown_id = finding("x", &[], &["127.0.0.1:7000"]);
        let other_unknown = finding("x", &[], &["127.0.0.1:7001"]);
        let ids = [
            a.stable_id(),
            other_node.stable_id(),
            other_slots.stable_id(),
            other_kind.stable_id(),
            unknown_id.stable_id(),
            other_unknown.stable_id(),
        ];
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    }
}
