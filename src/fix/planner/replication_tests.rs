//! Tests of the replica-link advice.

use crate::cluster::FindingKind;
use crate::fix::PlanKind;

use super::plan_fixes;
use super::test_kit::{id, plan, three};

#[test]
fn replica_with_a_broken_link_gets_advice_with_the_exact_commands_and_no_write() {
    let mut b = three().replica_of('d', 'a', true).everyone_knows();
    if let Some(i) = b.get('d').info.as_mut() {
        i.master_link_status = Some("down".into());
    }
    let m = b.build();
    let findings = crate::cluster::diagnose(&m);
    assert!(
        findings
            .iter()
            .any(|f| f.kind == FindingKind::ReplicaNotSyncing),
        "{findings:#?}"
    );
    let plans = plan_fixes(&m, &findings);
    let p = plan(&plans, &format!("replica-link-{}", id('d').short()));
    assert_eq!(p.kind, PlanKind::ReplicaLinkAdvice);
    assert!(p.is_advice_only() && p.steps.is_empty());
    assert_eq!(p.nodes, vec![id('d'), id('a')]);
    assert!(
        p.title.starts_with("Restore replication of 127.0.0.1:7003"),
        "{}",
        p.title
    );
    let text = p.advice.join("\n");
    assert!(
        text.contains("redis-cli -h 127.0.0.1 -p 7003 CONFIG SET masterauth"),
        "{text}"
    );
    // A replica in a full sync is told to wait, not to change its password.
    let mut b = three().replica_of('d', 'a', true).everyone_knows();
    if let Some(i) = b.get('d').info.as_mut() {
        i.master_link_status = Some("down".into());
        i.master_sync_in_progress = Some(true);
    }
    let m = b.build();
    let plans = plan_fixes(&m, &crate::cluster::diagnose(&m));
    let p = plan(&plans, &format!("replica-link-{}", id('d').short()));
    assert!(
        p.title.starts_with("Let 127.0.0.1:7003 finish"),
        "{}",
        p.title
    );
    assert!(!p.advice.join("\n").contains("masterauth"));
}
