//! Tests of the slot-ownership dispute plans.

use crate::cluster::model::{OpenSlot, ViewDisagreement};
use crate::cluster::slots::SlotRange;
use crate::cluster::types::{MarkerKind, OpenMarker};
use crate::fix::{Condition, StepAction};

use super::plan_fixes;
use super::test_kit::{commands, id, plan, three};

#[test]
fn ownership_dispute_bumps_owner_and_corrects_dissenters() {
    let mut m = three().everyone_knows().build();
    m.disagreements.push(ViewDisagreement {
        node: id('c'),
        slots: vec![SlotRange::new(5, 6)],
        its_owner: Some(id('b')),
        consensus_owner: Some(id('a')),
        its_owner_epoch: Some(3),
        consensus_owner_epoch: Some(2),
    });
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("resolve-dispute-{}", id('a').short()));
    let a = id('a').0;
    assert_eq!(
        commands(p)[..3],
        [
            "7000 CLUSTER BUMPEPOCH".to_owned(),
            format!("7002 CLUSTER SETSLOT 5 NODE {a}"),
            format!("7002 CLUSTER SETSLOT 6 NODE {a}"),
        ]
    );
    assert!(matches!(
        p.steps.last().map(|s| &s.action),
        Some(StepAction::WaitFor {
            condition: Condition::AllViewsAgree,
            ..
        })
    ));
}

#[test]
fn dispute_clears_a_stale_importing_marker_before_setslot_node() {
    // c believes slots 5-6 belong to b and still imports slot 5 from b, holding no key there:
    // gossip never rebinds a slot a node imports, so STABLE must come before SETSLOT NODE.
    let mut b = three().everyone_knows();
    b.get('c')
        .own_line
        .as_mut()
        .unwrap()
        .markers
        .push(OpenMarker {
            slot: 5,
            kind: MarkerKind::Importing,
            peer: id('b'),
        });
    let mut m = b.build();
    m.open_slots.push(OpenSlot {
        slot: 5,
        owner: Some(id('a')),
        migrating: Vec::new(),
        importing: vec![(id('c'), id('b'))],
        on_replicas: Vec::new(),
        keys: [(id('a'), 3), (id('c'), 0)].into_iter().collect(),
    });
    m.disagreements.push(ViewDisagreement {
        node: id('c'),
        slots: vec![SlotRange::new(5, 6)],
        its_owner: Some(id('b')),
        consensus_owner: Some(id('a')),
        its_owner_epoch: Some(3),
        consensus_owner_epoch: Some(2),
    });
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("resolve-dispute-{}", id('a').short()));
    let a = id('a').0;
    assert_eq!(
        commands(p)[..4],
        [
            "7000 CLUSTER BUMPEPOCH".to_owned(),
            "7002 CLUSTER SETSLOT 5 STABLE".to_owned(),
            format!("7002 CLUSTER SETSLOT 5 NODE {a}"),
            format!("7002 CLUSTER SETSLOT 6 NODE {a}"),
        ]
    );
    // The marker is a precondition: if someone cleared or changed it, nothing runs.
    assert!(p.preconditions.iter().any(|c| c.condition
        == Condition::SlotImporting {
            slot: 5,
            node: id('c'),
            from: id('b'),
        }));
    assert!(crate::fix::failed_checks(&p.preconditions, &m).is_empty());
    let mut fresh = m.clone();
    fresh.nodes[2].own_line.as_mut().unwrap().markers.clear();
    assert_eq!(crate::fix::failed_checks(&p.preconditions, &fresh).len(), 1);
    assert!(!p.risk.loses_data);

    // Where the dissenter holds keys of that slot it is a half-moved slot: no STABLE here.
    let mut with_keys = m.clone();
    with_keys.open_slots[0].keys.insert(id('c'), 2);
    let plans = plan_fixes(&with_keys, &[]);
    let p = plan(&plans, &format!("resolve-dispute-{}", id('a').short()));
    assert!(
        !commands(p).iter().any(|c| c.contains("STABLE")),
        "{:?}",
        commands(p)
    );
}

#[test]
fn self_claiming_dissenter_has_unknown_keys_at_risk_with_an_estimate() {
    // c claims slots 5-6 itself (its 100 keys over 5463 slots): accepting a's claim deletes
    // its keys there, which were not counted.
    let mut m = three().everyone_knows().build();
    m.disagreements.push(ViewDisagreement {
        node: id('c'),
        slots: vec![SlotRange::new(5, 6)],
        its_owner: Some(id('c')),
        consensus_owner: Some(id('a')),
        its_owner_epoch: Some(3),
        consensus_owner_epoch: Some(2),
    });
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, &format!("resolve-dispute-{}", id('a').short()));
    assert!(p.risk.loses_data);
    assert_eq!(p.risk.keys_at_risk.known(), None);
    assert_eq!(p.risk.keys_at_risk.estimate().map(|e| e.keys), Some(0));
    assert_eq!(p.risk.keys_at_risk.to_string(), "unknown");
}
