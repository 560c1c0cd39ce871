//! What slotscope could not learn, or may not repair, because nodes refuse commands
//! ([`crate::cluster::access`]): `CONFIG` renamed away as managed services do, an ACL user
//! without `INFO` or `CLUSTER COUNTKEYSINSLOT`, repair commands `ACL DRYRUN` says the user may
//! not run. One info finding per refused command and reason, naming the nodes and what is
//! unknown because of it.

use std::collections::BTreeMap;

use super::ctx::{Ctx, Nodes};
use super::words::{SUMMARY_NODES, addr_of, plural};
use super::{Finding, FindingKind, Severity};
use crate::cluster::access::{RefusalKind, display_name};
use crate::cluster::model::{NodeSummary, Reachability};

/// What is unknown when a node refuses `command` (an ACL name, possibly a whole command).
fn consequence(command: &str) -> &'static str {
    match command {
        "config" | "config|get" => {
            "coverage setting unknown (cluster-require-full-coverage), node timeout and \
             persistence settings unknown"
        }
        "info" => "keys, memory, replication offsets and persistence unknown",
        "cluster|info" => "the node's own cluster_state unknown",
        "cluster|countkeysinslot" | "dbsize" => {
            "key counts unknown: risk unknown, so any plan that may lose keys needs the typed \
             word"
        }
        "acl|dryrun" => {
            "repair permissions cannot be checked up front: a repair stops at the first \
             command the user may not run"
        }
        _ => "",
    }
}

/// How a refusal reads in a summary: "not allowed for user obs", "unknown (renamed or
/// disabled)".
fn refused_words(kind: RefusalKind, user: Option<&str>) -> String {
    match (kind, user) {
        (RefusalKind::NotAllowed, Some(u)) => format!("not allowed for user {u}"),
        (RefusalKind::NotAllowed, None) => "not allowed (NOPERM)".to_owned(),
        (RefusalKind::Unknown, _) => "unknown (renamed or disabled)".to_owned(),
        (RefusalKind::Unsupported, _) => "not supported".to_owned(),
    }
}

impl Ctx<'_> {
    /// One finding per refused observation command (and reason), one for repair commands.
    pub(super) fn access_findings(&self, out: &mut Vec<Finding>) {
        let answering = || {
            self.model
                .nodes
                .iter()
                .filter(|n| matches!(n.reachability, Reachability::Ok))
        };
        let mut observe: BTreeMap<(String, RefusalKind), Vec<&NodeSummary>> = BTreeMap::new();
        let mut repair: BTreeMap<String, Vec<&NodeSummary>> = BTreeMap::new();
        for n in answering() {
            for r in &n.access.refused {
                // A feature the server version lacks is no problem (the heatmap says so).
                if r.kind == RefusalKind::Unsupported {
                    continue;
                }
                if r.dry_run {
                    repair.entry(r.command.clone()).or_default().push(n);
                } else {
                    observe
                        .entry((r.command.clone(), r.kind))
                        .or_default()
                        .push(n);
                }
            }
        }
        let user = answering().find_map(|n| n.access.user.as_deref());
        for ((command, kind), nodes) in observe {
            let what = consequence(&command);
            let whom = where_(&nodes);
            let summary = if what.is_empty() {
                format!(
                    "{} {} on {whom}",
                    display_name(&command),
                    refused_words(kind, user)
                )
            } else {
                format!(
                    "{} {} on {whom}: {what}",
                    display_name(&command),
                    refused_words(kind, user)
                )
            };
            let mut f = Finding::new(FindingKind::CommandRefused, Severity::Info, summary);
            f.evidence.push(format!(
                "slotscope does not send {} to {} again for 10 minutes (or until the node \
                 reconnects); see docs/acl.md for the commands it needs",
                display_name(&command),
                plural(nodes.len(), "this node", "these nodes")
            ));
            if let Some(r) = nodes.first().and_then(|n| n.access.refusal(&command)) {
                f.evidence.push(format!("the server said: {}", r.message));
            }
            let mut ns = Nodes::default();
            for n in nodes {
                ns.add(Some(n));
            }
            ns.finish(&mut f);
            out.push(f);
        }
        if repair.is_empty() {
            return;
        }
        let names: Vec<String> = repair.keys().map(|c| display_name(c)).collect();
        let mut all: Vec<&NodeSummary> = repair.values().flatten().copied().collect();
        all.sort_by_key(|n| addr_of(n));
        all.dedup_by_key(|n| addr_of(n));
        let who = user.map_or_else(|| "this user".to_owned(), |u| format!("user {u}"));
        let mut f = Finding::new(
            FindingKind::CommandRefused,
            Severity::Info,
            format!(
                "{who} may not run {} on {}: repairs that need {} are offered as advice only",
                names.join(", "),
                where_(&all),
                plural(names.len(), "it", "them")
            ),
        );
        f.evidence
            .push("checked with ACL DRYRUN; see docs/acl.md for the repair rules".to_owned());
        let mut ns = Nodes::default();
        for n in all {
            ns.add(Some(n));
        }
        ns.finish(&mut f);
        out.push(f);
    }
}

/// `127.0.0.1:7001`, `127.0.0.1:7001, 127.0.0.1:7002`, or `6 nodes`.
fn where_(nodes: &[&NodeSummary]) -> String {
    if nodes.len() > SUMMARY_NODES {
        format!("{} nodes", nodes.len())
    } else {
        let mut a: Vec<String> = nodes.iter().map(|n| addr_of(n)).collect();
        a.sort();
        a.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use crate::cluster::access::{Refusal, RefusalKind};
    use crate::cluster::diagnose::{FindingKind, Severity, diagnose, verdict};
    use crate::cluster::model::Role;
    use crate::cluster::testkit::ModelBuilder;

    fn refusal(command: &str, kind: RefusalKind, dry_run: bool) -> Refusal {
        Refusal {
            command: command.to_owned(),
            kind,
            message: "NOPERM User obs has no permissions to run the 'info' command".to_owned(),
            since_ms: 1,
            dry_run,
        }
    }

    fn three() -> ModelBuilder {
        ModelBuilder::new()
            .node('a', Role::Master, &[(0, 5460)], true)
            .node('b', Role::Master, &[(5461, 10922)], true)
            .node('c', Role::Master, &[(10923, 16383)], true)
            .everyone_knows()
    }

    #[test]
    fn what_could_not_be_learned_is_an_info_finding_per_command() {
        let mut b = three();
        for n in ['a', 'b'] {
            let a = &mut b.get(n).access;
            a.user = Some("obs".into());
            a.record(refusal("config|get", RefusalKind::NotAllowed, false));
        }
        b.get('c').access.record(refusal(
            "cluster|countkeysinslot",
            RefusalKind::NotAllowed,
            false,
        ));
        b.get('c')
            .access
            .record(refusal("cluster|setslot", RefusalKind::NotAllowed, true));
        let m = b.build();
        let f = diagnose(&m);
        let refused: Vec<&str> = f
            .iter()
            .filter(|f| f.kind == FindingKind::CommandRefused)
            .map(|f| f.summary.as_str())
            .collect();
        assert_eq!(
            refused,
            vec![
                "CONFIG GET not allowed for user obs on 127.0.0.1:7000, 127.0.0.1:7001: coverage \
                 setting unknown (cluster-require-full-coverage), node timeout and persistence \
                 settings unknown",
                "CLUSTER COUNTKEYSINSLOT not allowed for user obs on 127.0.0.1:7002: key counts \
                 unknown: risk unknown, so any plan that may lose keys needs the typed word",
                "user obs may not run CLUSTER SETSLOT on 127.0.0.1:7002: repairs that need it \
                 are offered as advice only",
            ]
        );
        assert!(
            f.iter()
                .filter(|f| f.kind == FindingKind::CommandRefused)
                .all(|f| f.severity == Severity::Info)
        );
        // Notes, never the verdict.
        assert!(
            !verdict(&m, &f).contains("not allowed"),
            "{}",
            verdict(&m, &f)
        );
    }

    #[test]
    fn a_renamed_command_reads_as_such() {
        let mut b = three();
        for n in ['a', 'b', 'c'] {
            b.get(n)
                .access
                .record(refusal("config", RefusalKind::Unknown, false));
        }
        let f = diagnose(&b.build());
        let s = &f
            .iter()
            .find(|f| f.kind == FindingKind::CommandRefused)
            .unwrap()
            .summary;
        assert!(
            s.starts_with(
                "CONFIG unknown (renamed or disabled) on 127.0.0.1:7000, 127.0.0.1:7001, \
                 127.0.0.1:7002: coverage setting unknown"
            ),
            "{s}"
        );
    }
}
