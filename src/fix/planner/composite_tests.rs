//! Tests of the composite plans (one plan per incident) and of the one recommendation.

use crate::cluster::model::{ClusterModel, Reachability, SlotState};
use crate::cluster::types::ProbeError;
use crate::fix::{Confirmation, FixPlan, KeysAtRisk, PlanKind, failed_checks, recommend_one};

use super::plan_fixes;
use super::test_kit::{ModelBuilder, commands, id, plan, three};

/// `dead` (each a letter of `m`) killed: unreachable, failed, its slots failing.
fn kill(m: ClusterModel, dead: &[char]) -> ClusterModel {
    let mut b = ModelBuilder { model: m };
    for &d in dead {
        let n = b.get(d);
        n.reachability = Reachability::Failed(ProbeError::ConnectFailed("refused".into()));
        n.own_line = None;
        n.info = None;
        n.flags.fail = true;
        let ranges = n.claimed_slots.clone();
        for r in ranges {
            for s in r.iter() {
                b.model.slots[usize::from(s)].state = SlotState::OwnerFailing;
            }
        }
    }
    b.everyone_knows().build()
}

#[test]
fn a_dead_master_without_replica_gets_reassign_then_forget_in_one_plan() {
    let m = kill(three().build(), &['c']);
    let plans = plan_fixes(&m, &[]);
    let c = id('c');
    let reassign = plan(&plans, &format!("reassign-slots-{}", c.short()));
    let p = plan(&plans, &format!("repair-dead-masters-{}", c.short()));
    assert_eq!(p.kind, PlanKind::RepairDeadMasters);
    // The reassign steps first, then a FORGET on every live node, then the check.
    let cmds = commands(p);
    assert_eq!(cmds[..reassign.steps.len()], commands(reassign)[..]);
    let forget = format!("CLUSTER FORGET {}", c.0);
    let tail: Vec<&String> = cmds[reassign.steps.len()..].iter().collect();
    assert_eq!(tail.len(), 3, "{cmds:?}");
    assert_eq!(*tail[0], format!("7000 {forget}"));
    assert_eq!(*tail[1], format!("7001 {forget}"));
    assert!(tail[2].contains("(wait)"), "{cmds:?}");
    // One confirmation stating the whole risk: never less than the reassign's.
    assert_eq!(p.confirmation, reassign.confirmation);
    assert_eq!(
        p.confirmation,
        Confirmation::TypeWord("lose-5461-slots".into())
    );
    assert!(p.risk.loses_data);
    assert_eq!(p.risk.keys_at_risk.known(), None);
    assert!(p.risk.level() >= reassign.risk.level());
    assert_eq!(p.risk.slots_changing_owner, 5461);
    // The preconditions hold now (the forget's "owns no slot" is what the first part does).
    assert!(failed_checks(&p.preconditions, &m).is_empty());
    assert!(
        p.expected
            .iter()
            .any(|e| e.description.contains("no node lists"))
    );
    // The single steps stay offered; one plan of the group is recommended: the whole repair,
    // unless a restart keeps the data (here nothing says it would not).
    let restart = plan(&plans, &format!("restart-{}", c.short()));
    assert_eq!(p.recommended, restart.risk.loses_data);
    assert_eq!(restart.recommended, !restart.risk.loses_data);
    assert!(!reassign.recommended);
    assert_eq!(
        plans
            .iter()
            .filter(|q| q.group == p.group && q.recommended)
            .count(),
        1
    );
}

#[test]
fn several_dead_masters_are_repaired_by_one_plan() {
    let m = ModelBuilder::new()
        .node('a', crate::cluster::model::Role::Master, &[(0, 3999)], true)
        .node(
            'b',
            crate::cluster::model::Role::Master,
            &[(4000, 7999)],
            true,
        )
        .node(
            'c',
            crate::cluster::model::Role::Master,
            &[(8000, 11999)],
            true,
        )
        .node(
            'd',
            crate::cluster::model::Role::Master,
            &[(12000, 16383)],
            true,
        )
        .build();
    let m = kill(m, &['c', 'd']);
    let plans = plan_fixes(&m, &[]);
    let composite: Vec<&FixPlan> = plans
        .iter()
        .filter(|p| p.kind == PlanKind::RepairDeadMasters)
        .collect();
    assert_eq!(composite.len(), 1, "one plan for the incident");
    let p = composite[0];
    assert_eq!(p.risk.slots_changing_owner, 4000 + 4384);
    assert_eq!(
        p.confirmation,
        Confirmation::TypeWord(format!("lose-{}-slots", 4000 + 4384))
    );
    let cmds = commands(p);
    let forgets = cmds.iter().filter(|c| c.contains("FORGET")).count();
    assert_eq!(forgets, 4, "two live nodes forget two masters: {cmds:?}");
    // Every FORGET comes after every slot claim.
    let last_claim = cmds.iter().rposition(|c| c.contains("ADDSLOTS"));
    let first_forget = cmds.iter().position(|c| c.contains("FORGET"));
    assert!(last_claim < first_forget, "{cmds:?}");
    assert!(failed_checks(&p.preconditions, &m).is_empty());
}

#[test]
fn a_failover_is_followed_by_forgetting_the_old_master_in_one_plan() {
    let m = kill(three().replica_of('d', 'c', true).build(), &['c']);
    let plans = plan_fixes(&m, &[]);
    let c = id('c');
    let failover = plan(&plans, &format!("failover-{}", id('d').short()));
    let p = plan(&plans, &format!("failover-and-forget-{}", c.short()));
    assert_eq!(p.kind, PlanKind::FailoverAndForget);
    let cmds = commands(p);
    assert_eq!(cmds[0], "7003 CLUSTER FAILOVER FORCE");
    assert!(
        cmds.iter()
            .any(|x| x == &format!("7003 CLUSTER FORGET {}", c.0))
    );
    assert!(cmds.len() > failover.steps.len() + 1);
    assert!(p.recommended && !failover.recommended);
    assert!(
        !plans.iter().any(|q| q.kind == PlanKind::RepairDeadMasters),
        "a master with a live replica is failed over, not emptied"
    );
}

fn advice(id: &str, loses: bool) -> FixPlan {
    let mut p = writing(id, loses, PlanKind::RestartAdvice);
    p.steps.clear();
    p
}

fn writing(id: &str, loses: bool, kind: PlanKind) -> FixPlan {
    let m = kill(three().build(), &['c']);
    let mut p = plan_fixes(&m, &[])
        .into_iter()
        .find(|p| p.kind == PlanKind::ReassignSlots)
        .expect("a plan that writes");
    p.id = id.to_owned();
    p.kind = kind;
    p.recommended = true;
    p.risk.loses_data = loses;
    p.risk.keys_at_risk = if loses {
        KeysAtRisk::Known(10)
    } else {
        KeysAtRisk::Known(0)
    };
    p
}

fn recommended(plans: &mut [FixPlan]) -> Vec<String> {
    recommend_one(plans);
    plans
        .iter()
        .filter(|p| p.recommended)
        .map(|p| p.id.clone())
        .collect()
}

#[test]
fn exactly_one_plan_is_recommended_and_it_loses_least() {
    // A restart that keeps the data beats every plan that writes and loses data.
    let mut v = vec![
        writing("reassign", true, PlanKind::ReassignSlots),
        advice("restart", false),
        writing("relief", false, PlanKind::CoverageOff),
    ];
    assert_eq!(recommended(&mut v), ["restart"]);
    // A plan that writes and loses nothing beats the restart advice.
    v.push(writing("failover", false, PlanKind::Failover));
    assert_eq!(recommended(&mut v), ["failover"]);
    // A restart that cannot save the data is advice that is never recommended over a repair.
    let mut v = vec![
        advice("restart", true),
        writing("relief", false, PlanKind::CoverageOff),
        writing("reassign", true, PlanKind::ReassignSlots),
        writing("whole", true, PlanKind::RepairDeadMasters),
    ];
    assert_eq!(recommended(&mut v), ["whole"]);
    // Among plans that lose data, the fewest keys first.
    let mut fewer = writing("fewer", true, PlanKind::RollBackMigration);
    fewer.risk.keys_at_risk = KeysAtRisk::Known(3);
    v.push(fewer);
    assert_eq!(recommended(&mut v), ["fewer"]);
    // Two plans that both carried a star: one keeps it (the join before the dispute).
    let mut v = vec![
        writing("dispute", false, PlanKind::ResolveDispute),
        writing("meet", false, PlanKind::Meet),
    ];
    assert_eq!(recommended(&mut v), ["meet"]);
    // Advice only: it is the recommendation.
    let mut v = vec![advice("link", false)];
    assert_eq!(recommended(&mut v), ["link"]);
    let mut v: Vec<FixPlan> = Vec::new();
    assert!(recommended(&mut v).is_empty());
}
