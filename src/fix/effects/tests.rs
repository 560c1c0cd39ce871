//! The replay's unit tests, and the range replay checked against the slot-by-slot one.

use super::sim::{Sim, touched_ranges};
use super::*;
use crate::cluster::census::NodeCensus;
use crate::cluster::model::NodeSummary;
use crate::cluster::slots::Slot;
use crate::cluster::synthetic::snapshot_from_texts;
use crate::cluster::types::Endpoint;
use crate::cluster::types::NodeId;
use crate::fix::StepAction;
use crate::fix::{FixStep, Risk};

const A: &str = "aaaa";
const B: &str = "bbbb";

/// Two masters: a (epoch 1) serves 0-8191, b (epoch 2) serves 8192-16383; `a_line` and
/// `b_line` are their own `myself` lines (to add markers).
fn model(a_mark: &str, b_mark: &str, counts: &[(&str, Slot, u64)]) -> ClusterModel {
    let a = format!(
        "aaaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191{a_mark}\n\
         bbbb 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n"
    );
    let b = format!(
        "aaaa 127.0.0.1:7000@17000 master - 0 0 1 connected 0-8191\n\
         bbbb 127.0.0.1:7001@17001 myself,master - 0 0 2 connected 8192-16383{b_mark}\n"
    );
    let snap = snapshot_from_texts(&[("127.0.0.1:7000", Ok(&a)), ("127.0.0.1:7001", Ok(&b))]);
    let mut m = ClusterModel::build(&snap);
    for n in &mut m.nodes {
        let id = n.id.clone().unwrap();
        let mut c = NodeCensus::default();
        for (who, s, k) in counts {
            if *who == id.as_str() {
                c.slots.insert(*s, *k);
                c.db_keys += k;
            }
        }
        c.owned_keys = c.db_keys;
        n.census = Some(c);
    }
    m
}

fn cmd(node: &str, port: u16, args: &[&str]) -> FixStep {
    FixStep {
        endpoint: Endpoint::new("127.0.0.1", port),
        node_id: Some(NodeId::from(node)),
        action: StepAction::Command {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            tolerate: Vec::new(),
        },
        description: String::new(),
    }
}

fn migrate(slot: Slot, from: &str, to: &str) -> FixStep {
    FixStep {
        endpoint: Endpoint::new("127.0.0.1", 7000),
        node_id: Some(NodeId::from(from)),
        action: StepAction::MigrateSlotKeys {
            slot,
            from: NodeId::from(from),
            to: NodeId::from(to),
            to_endpoint: Endpoint::new("127.0.0.1", 7001),
            batch: 100,
            timeout_ms: 5000,
        },
        description: String::new(),
    }
}

fn plan(steps: Vec<FixStep>) -> FixPlan {
    FixPlan {
        id: "p".into(),
        kind: crate::fix::PlanKind::StabiliseSlot,
        title: String::new(),
        why: String::new(),
        finding: None,
        group: Some("g".into()),
        recommended: true,
        slots: Vec::new(),
        nodes: Vec::new(),
        steps,
        advice: Vec::new(),
        risk: Risk::default(),
        preconditions: Vec::new(),
        expected: Vec::new(),
        confirmation: Confirmation::Simple,
    }
}

#[test]
fn handing_a_slot_over_before_its_keys_moved_deletes_them() {
    let m = model("", "", &[(A, 5, 40)]);
    let mut p = plan(vec![cmd(B, 7001, &["CLUSTER", "SETSLOT", "5", "NODE", B])]);
    enforce(&mut p, &m);
    assert!(p.risk.loses_data);
    assert_eq!(p.risk.keys_at_risk, KeysAtRisk::Known(40));
    assert_eq!(
        p.confirmation,
        Confirmation::TypeWord("lose-40-keys".into())
    );
    assert!(
        p.risk
            .notes
            .iter()
            .any(|n| n.contains("deletes 40 key(s) of slot(s) 5 on 127.0.0.1:7000")),
        "{:?}",
        p.risk.notes
    );
}

#[test]
fn moving_the_keys_first_then_handing_over_is_safe() {
    let m = model(" [5->-bbbb]", " [5-<-aaaa]", &[(A, 5, 40)]);
    let mut p = plan(vec![
        migrate(5, A, B),
        cmd(B, 7001, &["CLUSTER", "SETSLOT", "5", "NODE", B]),
        cmd(A, 7000, &["CLUSTER", "SETSLOT", "5", "NODE", B]),
    ]);
    enforce(&mut p, &m);
    assert!(!p.risk.loses_data, "{:?}", p.risk);
    assert_eq!(p.confirmation, Confirmation::Simple);
}

#[test]
fn an_atomic_migration_moves_keys_with_their_slots_and_a_cancel_changes_nothing() {
    let m = model("", "", &[(A, 5, 40), (A, 6, 2)]);
    let mut p = plan(vec![cmd(
        A,
        7000,
        &["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "5", "6", "NODE", B],
    )]);
    let mut sim = Sim::new(&m);
    let mut out = Assessment::default();
    sim.step(&p.steps[0], &mut out);
    assert!(out.is_safe(), "{out:?}");
    assert_eq!(sim.owner(5), Some(NodeId::from(B)));
    assert_eq!(sim.keys(&NodeId::from(B), 5), Some(40));
    assert_eq!(sim.keys(&NodeId::from(A), 6), Some(0));
    // A slot the node does not own is not moved by it.
    assert_eq!(sim.owner(9000), Some(NodeId::from(B)));
    enforce(&mut p, &m);
    assert!(!p.risk.loses_data, "{:?}", p.risk);
    let mut c = plan(vec![cmd(A, 7000, &["CLUSTER", "CANCELSLOTMIGRATIONS"])]);
    enforce(&mut c, &m);
    assert!(!c.risk.loses_data, "{:?}", c.risk);
    assert_eq!(c.confirmation, Confirmation::Simple);
}

#[test]
fn closing_the_ask_route_hides_the_keys_already_on_the_target() {
    // Half moved: 10 keys already on b, which only the source's ASK redirect serves.
    let m = model(" [5->-bbbb]", " [5-<-aaaa]", &[(A, 5, 30)]);
    let mut m = m;
    if let Some(c) = m
        .nodes
        .iter_mut()
        .find(|n| n.id.as_ref().is_some_and(|i| i.as_str() == B))
        .and_then(|n| n.census.as_mut())
    {
        c.slots.insert(5, 10);
    }
    let mut p = plan(vec![cmd(A, 7000, &["CLUSTER", "SETSLOT", "5", "STABLE"])]);
    enforce(&mut p, &m);
    assert_eq!(p.risk.keys_at_risk, KeysAtRisk::Known(10), "{:?}", p.risk);
    assert!(matches!(p.confirmation, Confirmation::TypeWord(_)));
}

#[test]
fn an_uncounted_node_makes_the_risk_unknown_never_zero() {
    let mut m = model("", "", &[]);
    for n in &mut m.nodes {
        if n.id.as_ref().is_some_and(|i| i.as_str() == A) {
            n.census = None;
            n.info = None;
        }
    }
    let mut p = plan(vec![cmd(B, 7001, &["CLUSTER", "SETSLOT", "5", "NODE", B])]);
    enforce(&mut p, &m);
    assert!(p.risk.keys_at_risk.known().is_none(), "{:?}", p.risk);
    assert_eq!(
        p.confirmation,
        Confirmation::TypeWord("lose-unknown-keys".into())
    );
}

#[test]
fn the_recommendation_moves_to_the_alternative_that_loses_nothing() {
    let m = model("", "", &[(A, 5, 40)]);
    let mut risky = plan(vec![cmd(B, 7001, &["CLUSTER", "SETSLOT", "5", "NODE", B])]);
    let mut safe = plan(vec![cmd(A, 7000, &["CLUSTER", "SETSLOT", "5", "STABLE"])]);
    safe.recommended = false;
    enforce(&mut risky, &m);
    enforce(&mut safe, &m);
    let mut plans = vec![risky, safe];
    rebalance(&mut plans);
    assert!(!plans[0].recommended && plans[1].recommended);
}

#[test]
fn range_commands_name_their_slots() {
    let words = |a: &[&str]| -> (Vec<String>, Vec<String>) {
        let args: Vec<String> = a.iter().map(|s| (*s).to_owned()).collect();
        (args.iter().map(|s| s.to_ascii_uppercase()).collect(), args)
    };
    let touched_slots = |w: &[String], a: &[String]| -> Vec<Slot> {
        let new: Vec<Slot> = touched_ranges(w, a)
            .iter()
            .flat_map(SlotRange::iter)
            .collect();
        assert_eq!(new, super::reference::touched_slots(w, a));
        new
    };
    let (w, a) = words(&["cluster", "addslotsrange", "1", "3", "7", "7"]);
    assert_eq!(touched_slots(&w, &a), vec![1, 2, 3, 7]);
    let (w, a) = words(&["CLUSTER", "DELSLOTS", "4", "9"]);
    assert_eq!(touched_slots(&w, &a), vec![4, 9]);
    let (w, a) = words(&["CLUSTER", "ADDSLOTSRANGE", "9"]);
    assert!(touched_slots(&w, &a).is_empty());
}

/// A tally with its slots as a set, for comparing the range replay with the slot-by-slot one.
fn normal(t: &Tally) -> (u64, Vec<String>, Vec<String>, Vec<String>) {
    let by_node = t
        .by_node
        .iter()
        .map(|((label, why), (n, slots, unknown))| {
            let set = crate::cluster::slots::merge_ranges(slots.clone());
            format!("{label}{why}: {n} {unknown} {set:?}")
        })
        .collect();
    (t.known, t.unknown.clone(), t.places.clone(), by_node)
}

fn same_as_reference(plan: &FixPlan, m: &ClusterModel) -> Result<(), String> {
    let new = assess(plan, m);
    let old = super::reference::assess(plan, m);
    let same = normal(&new.deleted) == normal(&old.deleted)
        && normal(&new.hidden) == normal(&old.hidden)
        && new.note() == old.note()
        && new.at_risk() == old.at_risk();
    if same {
        Ok(())
    } else {
        let steps: Vec<String> = plan.steps.iter().map(ToString::to_string).collect();
        Err(format!(
            "steps {steps:#?}\nrange replay: {new:#?}\nslot by slot: {old:#?}"
        ))
    }
}

/// xorshift: deterministic pseudo-random numbers for the generated cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next().to_le_bytes()[3]).collect()
    }
}

/// A slot where something happens in the model (a range edge, a marker, a counted slot), or
/// anywhere, or out of range.
fn pick_slot(r: &mut Rng, m: &ClusterModel) -> Slot {
    let mut edges: Vec<Slot> = vec![0, 16383, 16384, 20000];
    for n in &m.nodes {
        for x in &n.claimed_slots {
            edges.extend([x.start, x.end, x.end.saturating_add(1)]);
        }
        if let Some(l) = &n.own_line {
            edges.extend(l.markers.iter().map(|k| k.slot));
        }
        if let Some(c) = &n.census {
            edges.extend(c.slots.keys().chain(c.stray.keys()));
        }
    }
    edges.extend(m.open_slots.iter().map(|o| o.slot));
    edges.extend(m.uncovered_keys.keys());
    if r.below(4) == 0 {
        Slot::try_from(r.below(16384)).unwrap()
    } else {
        edges[r.below(edges.len())]
    }
}

/// A step of any kind the replay models, on the nodes and slots of `m`.
fn random_step(r: &mut Rng, m: &ClusterModel) -> FixStep {
    let ids: Vec<&NodeSummary> = m.nodes.iter().filter(|n| n.id.is_some()).collect();
    let pick = |r: &mut Rng| ids[r.below(ids.len())];
    let on = pick(r);
    let id = on.id.clone().unwrap();
    let x = pick(r).id.clone().unwrap().as_str().to_owned();
    let (a, b) = (pick_slot(r, m), pick_slot(r, m));
    let (s, t) = (a.to_string(), b.to_string());
    let met = pick(r);
    let args: Vec<String> = match r.below(13) {
        0 => vec!["CLUSTER", "SETSLOT", &s, "STABLE"]
            .into_iter()
            .map(Into::into)
            .collect(),
        1 => vec!["CLUSTER", "SETSLOT", &s, "IMPORTING", &x]
            .into_iter()
            .map(Into::into)
            .collect(),
        2 => vec!["CLUSTER", "SETSLOT", &s, "MIGRATING", &x]
            .into_iter()
            .map(Into::into)
            .collect(),
        3 => {
            let to = if r.below(2) == 0 { id.as_str() } else { &x };
            vec!["CLUSTER", "SETSLOT", &s, "NODE", to]
                .into_iter()
                .map(Into::into)
                .collect()
        }
        4 => vec!["CLUSTER", "ADDSLOTSRANGE", &s, &t]
            .into_iter()
            .map(Into::into)
            .collect(),
        5 => vec!["CLUSTER", "DELSLOTSRANGE", &s, &t, &s, &s]
            .into_iter()
            .map(Into::into)
            .collect(),
        6 => vec!["CLUSTER", "ADDSLOTS", &s, &t, &s]
            .into_iter()
            .map(Into::into)
            .collect(),
        7 => vec!["CLUSTER", "FORGET", &x]
            .into_iter()
            .map(Into::into)
            .collect(),
        8 => vec!["CLUSTER", "FAILOVER"]
            .into_iter()
            .map(Into::into)
            .collect(),
        9 => vec![
            "CLUSTER".to_owned(),
            "MEET".to_owned(),
            met.addr.ip.clone(),
            met.addr.port.to_string(),
        ],
        10 => vec!["CLUSTER", "BUMPEPOCH"]
            .into_iter()
            .map(Into::into)
            .collect(),
        11 => vec!["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", &s, &t, "NODE", &x]
            .into_iter()
            .map(Into::into)
            .collect(),
        _ => {
            return migrate(a, id.as_str(), &x);
        }
    };
    FixStep {
        endpoint: Endpoint::new("127.0.0.1", 7000),
        node_id: Some(id),
        action: StepAction::Command {
            args,
            tolerate: Vec::new(),
        },
        description: String::new(),
    }
}

fn generated(r: &mut Rng) -> ClusterModel {
    let g = crate::cluster::generate::GenCluster::from_bytes(&r.bytes(160));
    ClusterModel::build(&g.snapshot())
}

/// Every plan the planner offers on generated clusters replays to the same keys, slots and
/// words, range by range as slot by slot.
#[test]
fn the_range_replay_matches_the_slot_by_slot_one_on_generated_plans() {
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let mut plans = 0;
    for _ in 0..40 {
        let m = generated(&mut r);
        let findings = crate::cluster::diagnose(&m);
        for p in crate::fix::plan_fixes(&m, &findings) {
            same_as_reference(&p, &m).unwrap_or_else(|e| panic!("{e}"));
            plans += 1;
        }
    }
    assert!(plans > 40, "{plans} plans");
}

/// Random steps of every modelled kind, on slots where the model changes, in sequences (so
/// that later steps read what earlier ones overrode): the same result both ways.
#[test]
fn the_range_replay_matches_the_slot_by_slot_one_on_random_steps() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut lossy = 0;
    for _ in 0..120 {
        let m = generated(&mut r);
        if !m.nodes.iter().any(|n| n.id.is_some()) {
            continue;
        }
        let steps = (0..=r.below(6)).map(|_| random_step(&mut r, &m)).collect();
        let p = plan(steps);
        same_as_reference(&p, &m).unwrap_or_else(|e| panic!("{e}"));
        lossy += usize::from(!assess(&p, &m).is_safe());
    }
    assert!(
        lossy > 10,
        "only {lossy} sequences lose keys: the cases are too tame"
    );
}
