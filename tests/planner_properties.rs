//! The planner's promises on generated clusters (see `slotscope::fix::properties`): random
//! but consistent cluster states, each with every plan offered checked. The replay works on
//! ranges of slots, so a debug build checks a state in a few milliseconds: `cargo test` checks
//! 3,000 states (`PLANNER_CASES=N` for another count); the `planner` fuzz target
//! (`tests/fuzz/run.sh`, optimised) runs the same checks without a bound.
//!
//! A failure prints the state's bytes in hex; a violation found once stays below as a
//! regression case (`regressions`), with those bytes.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use slotscope::cluster::generate::GenCluster;
use slotscope::cluster::model::ClusterModel;
use slotscope::fix::properties::{Checked, check_cluster};

fn cases() -> u32 {
    std::env::var("PLANNER_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn check(bytes: &[u8]) -> Result<Checked, String> {
    let g = GenCluster::from_bytes(bytes);
    check_cluster(&g).map_err(|e| format!("{e}\nbytes: {}\nstate: {g:?}", hex(bytes)))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/planner-properties.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_plan_keeps_its_promises(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        if let Err(e) = check(&bytes) {
            prop_assert!(false, "{e}");
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift), for a fixed sample of states.
fn sample(n: usize) -> Vec<Vec<u8>> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            (0..160)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24).to_le_bytes()[0]
                })
                .collect()
        })
        .collect()
}

/// The generator reaches the states the properties are about: plans of many kinds get
/// checked, and a good share of the plans' end states get applied and diagnosed.
#[test]
fn generated_states_reach_many_plan_kinds() {
    let mut kinds = BTreeSet::new();
    let (mut plans, mut ends) = (0, 0);
    for bytes in sample(120) {
        let c = check(&bytes).unwrap_or_else(|e| panic!("{e}"));
        plans += c.plans;
        ends += c.end_states;
        let g = GenCluster::from_bytes(&bytes);
        let model = ClusterModel::build(&g.snapshot());
        let findings = slotscope::cluster::diagnose(&model);
        kinds.extend(
            slotscope::fix::plan_fixes(&model, &findings)
                .iter()
                .map(|p| p.kind),
        );
    }
    eprintln!("{plans} plans, {ends} end states applied, kinds: {kinds:?}");
    assert!(kinds.len() >= 10, "{kinds:?}");
    assert!(ends * 4 >= plans, "{ends} of {plans}");
}

/// Violations found by the properties, each kept with the bytes of its state.
mod regressions {
    use super::{check, unhex};

    /// The source of an open slot is dead, the target imports it with no key: closing "at
    /// the source" needed the dead source to answer (its precondition failed on the very
    /// state it was planned from). Now the open slot gets advice.
    #[test]
    fn no_close_at_a_dead_source() {
        let bytes = unhex(HEX_DEAD_SOURCE);
        check(&bytes).unwrap_or_else(|e| panic!("{e}"));
    }

    /// A dead master claims a range that another master (same config epoch) also claims and
    /// that the consensus gives to the other one: the failover's "slots still bound to the
    /// dead master" failed on the state it was planned from. The dispute is resolved first.
    #[test]
    fn no_failover_of_a_disputed_range() {
        let bytes = unhex(HEX_DISPUTED_DEAD);
        check(&bytes).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Two nodes store stray keys in the same slot (the owner's peer that lost the slot, and a
    /// node outside the cluster): the end state of the plan returning one node's keys still
    /// had the other node's finding, which has its own plan. Found by the `planner` fuzz
    /// target; stray keys are now judged per holder.
    #[test]
    fn stray_keys_are_returned_per_holder() {
        let bytes = unhex(HEX_TWO_HOLDERS);
        check(&bytes).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Two slots open between the same nodes with the target dead: one can be closed, the
    /// other (keys imported onto the live node from the dead owner) only gets advice. Merging
    /// them into one "close slots" plan claimed both findings with the steps of one. Found by
    /// the `planner` fuzz target; advice is no longer merged into a runnable plan.
    #[test]
    fn advice_is_not_merged_into_a_slot_range_plan() {
        let bytes = unhex(HEX_ADVICE_MERGED);
        check(&bytes).unwrap_or_else(|e| panic!("{e}"));
    }

    /// A node that stores a key of an unbound slot deletes the slot from its own table and
    /// claims it (the no-loss reclaim): its key stays readable. The check counted the
    /// `DELSLOTS` as deleting it. Found by the property run; a slot claimed again by the same
    /// node later in the plan keeps its keys.
    #[test]
    fn reclaimed_slots_keep_their_keys() {
        let bytes = unhex(HEX_RECLAIMED);
        check(&bytes).unwrap_or_else(|e| panic!("{e}"));
    }

    const HEX_RECLAIMED: &str = "00c16d2c3f50000000000000000000000000000000000000000000000d22000000000000000000da000000000000000007039a00087b9d000f009a004550008d000500080000000000002d2bb400b50006fb9d";

    const HEX_ADVICE_MERGED: &str = "b54dca182530bb1d6d130000000000005c7c2999fdafe5932955e5cd00013f721fcb1971174494d6493d3c9d5c3860be31201e69fedaa0eee8b9997f5c7c2999fdaf176cd6aae5cd8e46dc8ed0b7c28eb2d5284cff8d2f9f9b8690024ad6bda3401be9c8cbccc935f6cdffffffffffffffffffffffffffffffffffffffffffffffffffff1f6122e16affffffffffffffffba0d246ac04c81ba79b0b13bf9ee";

    const HEX_TWO_HOLDERS: &str = "82b70eee7f1a500000007239bef07ec2347f066ed08f5dc7512447e3404300026b6e545594a065685d1a64c4980bb8d4544a8721a99a01ad219eb59cf6a15ef6f15a1d830bb7ce09d6bbc004e7175c643cffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7decb0b58074ec37bc9712dd2e";

    const HEX_DISPUTED_DEAD: &str = "a18feb191bfdcb045ebefae52ef5a88bbc235f0868c49fa57ac3f31ec4ed7983ac8521d6d39a82542704c099c2c362d324fbddd58ab6131dd826d582f69e408a55b2fc9d59c35cfa4dcc32ac07f0c357ddeb683ee4d0c1915d769b9b209992bf85cf0ebb057745516cd7c3507486aeb8711e40777e367d4323dbc739f1deb3ed60fdd5db95011778448997dbaf352cde188bdc97fc6cc6e69739e113879668e3";

    const HEX_DEAD_SOURCE: &str = "8fa96854778cbe9cad31cf74c929ffa212eff035cb0e216aa9890629ab8ed7625d23cdd4c7eea54bfa2c227732ef9fea36f450306ff4ea91871f074e127cc5868e44dba1a468579070051c643aeb4c15c6a72b38e6bcf82a84c826685725505bda8333e4deaf02696e851a534ae9c8f329cffe6c5304d8758466c21814f687ee458e59f71db35fdad79316e071e6124fb102e7271b076cd53e6f9d84d9d4d994";
}

#[test]
#[ignore = "debug helper: PLANNER_HEX=<bytes> prints the state, its views and its plans"]
fn dump() {
    let bytes = unhex(&std::env::var("PLANNER_HEX").unwrap_or_default());
    let g = GenCluster::from_bytes(&bytes);
    eprintln!("holes {:?}\ndispute {:?}", g.holes, g.dispute);
    for v in 0..g.nodes.len() {
        eprintln!(
            "-- view {v} {:?}\n{}",
            g.nodes[v].health,
            g.cluster_nodes_text(v)
        );
    }
    let model = ClusterModel::build(&g.snapshot());
    let findings = slotscope::cluster::diagnose(&model);
    for f in &findings {
        eprintln!("finding {:?}: {}", f.kind, f.summary);
    }
    for p in slotscope::fix::plan_fixes(&model, &findings) {
        eprintln!(
            "plan {} {:?} {:?}",
            p.id, p.confirmation, p.risk.keys_at_risk
        );
        for s in &p.steps {
            eprintln!("   {s}");
        }
        eprintln!("   expected {:?}", p.expected_lines());
    }
}

#[test]
#[ignore = "timing helper"]
fn timing() {
    use std::time::Instant;
    let s = sample(100);
    let gs: Vec<GenCluster> = s.iter().map(|b| GenCluster::from_bytes(b)).collect();
    let t = Instant::now();
    let snaps: Vec<_> = gs.iter().map(GenCluster::snapshot).collect();
    eprintln!("snapshot {:?}", t.elapsed());
    let t = Instant::now();
    let models: Vec<_> = snaps.iter().map(ClusterModel::build).collect();
    eprintln!("build {:?}", t.elapsed());
    let t = Instant::now();
    let fs: Vec<_> = models.iter().map(slotscope::cluster::diagnose).collect();
    eprintln!("diagnose {:?}", t.elapsed());
    let t = Instant::now();
    let ps: Vec<_> = models
        .iter()
        .zip(&fs)
        .map(|(m, f)| slotscope::fix::plan_fixes(m, f))
        .collect();
    eprintln!(
        "plan {:?} ({} plans)",
        t.elapsed(),
        ps.iter().map(Vec::len).sum::<usize>()
    );
    let t = Instant::now();
    for g in &gs {
        let _ = check_cluster(g);
    }
    eprintln!("check {:?}", t.elapsed());
}
