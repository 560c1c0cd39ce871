//! Tests of the failed-master plans: failover, restart advice and reassigning slots.

use crate::cluster::model::{Reachability, SlotState};
use crate::cluster::types::ProbeError;
use crate::fix::{Confirmation, KeysAtRisk};

use super::plan_fixes;
use super::test_kit::{ModelBuilder, commands, id, plan, three};

#[test]
fn failed_master_with_replica_offers_failover_restart_and_reassign() {
    let m = three()
        .replica_of('d', 'c', true)
        .replica_of('e', 'c', true)
        .build();
    let m = {
        let mut b = ModelBuilder { model: m };
        let c = b.get('c');
        c.reachability = Reachability::Failed(ProbeError::ConnectFailed("refused".into()));
        c.own_line = None;
        c.info = None;
        c.flags.fail = true;
        for s in 10923..=16383usize {
            b.model.slots[s].state = SlotState::OwnerFailing;
        }
        b.everyone_knows().build()
    };
    let plans = plan_fixes(&m, &[]);
    let f = plan(&plans, &format!("failover-{}", id('d').short()));
    assert!(f.recommended);
    assert_eq!(commands(f)[0], "7003 CLUSTER FAILOVER FORCE");
    assert!(!plan(&plans, &format!("failover-{}", id('e').short())).recommended);
    let restart = plan(&plans, &format!("restart-{}", id('c').short()));
    assert!(restart.steps.is_empty() && !restart.recommended);
    let r = plan(&plans, &format!("reassign-slots-{}", id('c').short()));
    assert_eq!(
        r.confirmation,
        Confirmation::TypeWord("lose-5461-slots".into())
    );
    assert!(r.risk.loses_data);
    assert_eq!(r.risk.slots_changing_owner, 5461);
    // c is unreachable: its key count is unknown, never 0. The live masters hold 100 keys
    // each in 5461 and 5462 slots: about 100 keys for c's 5461 slots.
    assert_eq!(r.risk.keys_at_risk.known(), None);
    assert!(r.risk.keys_at_risk.may_lose_keys());
    let KeysAtRisk::Unknown { reason, estimate } = &r.risk.keys_at_risk else {
        panic!("{:?}", r.risk.keys_at_risk)
    };
    assert_eq!(reason, "master unreachable");
    let e = estimate.as_ref().unwrap();
    assert_eq!(e.keys, 100);
    assert!(e.basis.contains("200 keys in 10923 slots"), "{}", e.basis);
    assert_eq!(r.risk.keys_at_risk.to_string(), "unknown (about 100)");
    let note = &r.risk.notes[0];
    assert!(
        note.contains("How many is unknown (master unreachable): about 100 keys if it held"),
        "{note}"
    );
    assert!(!note.contains("the an "), "{note}");
    // Contiguous halves: a gets 10923-13653, b gets 13654-16383.
    let cmds = commands(r);
    assert!(
        cmds.contains(&"7000 CLUSTER ADDSLOTSRANGE 10923 13653".to_owned()),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"7001 CLUSTER ADDSLOTSRANGE 13654 16383".to_owned()),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"7000 CLUSTER DELSLOTSRANGE 10923 13653".to_owned()),
        "{cmds:?}"
    );
    assert!(
        crate::fix::failed_checks(&r.preconditions, &m).is_empty(),
        "{:?}",
        crate::fix::failed_checks(&r.preconditions, &m)
    );
    // The coverage-off plan is offered (slots of a failing owner, majority still there).
    assert!(plans.iter().any(|p| p.id == "coverage-off"));
}

#[test]
fn failover_uses_takeover_without_majority() {
    let mut b = three().replica_of('d', 'c', true);
    for c in ['b', 'c'] {
        let n = b.get(c);
        n.reachability = Reachability::Failed(ProbeError::ConnectTimeout);
        n.own_line = None;
    }
    let m = b.everyone_knows().build();
    let plans = plan_fixes(&m, &[]);
    let f = plan(&plans, &format!("failover-{}", id('d').short()));
    assert_eq!(commands(f)[0], "7003 CLUSTER FAILOVER TAKEOVER");
    assert!(
        f.risk.notes.iter().any(|n| n.contains("only 1 of 3")),
        "{:?}",
        f.risk.notes
    );
    // No coverage-off without a majority: it would not bring the cluster back.
    assert!(!plans.iter().any(|p| p.id == "coverage-off"));
}

/// A dead master without replica among masters configured with `save` and `appendonly`.
fn dead_c_among(save: &str, appendonly: bool) -> crate::cluster::model::ClusterModel {
    use crate::cluster::types::NodeConfig;
    let mut b = three().everyone_knows();
    for n in ['a', 'b'] {
        b.get(n).config = Some(NodeConfig {
            save: Some(save.to_owned()),
            appendonly: Some(appendonly),
            ..NodeConfig::default()
        });
    }
    let c = b.get('c');
    c.reachability = Reachability::Failed(ProbeError::ConnectFailed("refused".into()));
    c.own_line = None;
    c.info = None;
    c.config = None;
    c.flags.fail = true;
    for s in 10923..=16383usize {
        b.model.slots[s].state = SlotState::OwnerFailing;
    }
    b.build()
}

#[test]
fn restarting_a_master_without_persistence_is_never_advised_as_lossless() {
    let plans = plan_fixes(&dead_c_among("", false), &[]);
    let restart = plan(&plans, &format!("restart-{}", id('c').short()));
    assert!(!restart.recommended, "it would come back empty");
    assert!(
        restart.title.contains("comes back empty"),
        "{}",
        restart.title
    );
    let text = restart.advice.join(" ");
    assert!(
        text.contains("EMPTY") && !text.contains("without any key lost"),
        "{text}"
    );
    assert!(restart.risk.loses_data);
    assert!(restart.risk.keys_at_risk.may_lose_keys());
    // Handing the slots out restores service and loses no more than the restart would: the
    // whole repair (hand out, then forget) is recommended, the single step stays offered.
    let reassign = plan(&plans, &format!("reassign-slots-{}", id('c').short()));
    let whole = plan(&plans, &format!("repair-dead-masters-{}", id('c').short()));
    assert!(whole.recommended && !reassign.recommended);
}

#[test]
fn restarting_a_master_like_its_aof_peers_is_advised() {
    let plans = plan_fixes(&dead_c_among("", true), &[]);
    let restart = plan(&plans, &format!("restart-{}", id('c').short()));
    assert!(restart.recommended);
    assert!(!restart.risk.loses_data);
    assert!(
        restart.advice.join(" ").contains("AOF on"),
        "{:?}",
        restart.advice
    );
    // RDB snapshots only: recommended, but the writes since the snapshot are stated as lost.
    let plans = plan_fixes(&dead_c_among("3600 1", false), &[]);
    let restart = plan(&plans, &format!("restart-{}", id('c').short()));
    assert!(restart.advice.join(" ").contains("since its last snapshot"));
}
