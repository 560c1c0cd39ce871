//! A second opinion on the slot map: generated layouts, healthy and broken (slots bound to no
//! master, slots open on one side or both, slots of a failed master), built on real
//! `redis-server` clusters; `redis-cli --cluster check` and the built `slotscope check --json`
//! judge the same cluster from the same seed, and must agree on which slots are covered and
//! which are open — and both must see what was built.
//!
//! "Covered" is `redis-cli`'s word: claimed by a master it could reach. A failed master's slots
//! are not covered for it; slotscope reports them as bound to a failing owner (`master_down`),
//! which the comparison counts as not covered (docs/fuzzing.md, "Differential check").
//!
//! Slow (one small lab per layout, about a minute in all): `cargo test --test differential_e2e`.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use slotscope::cluster::slots::{Slot, SlotRange};
use slotscope::lab::{Lab, LabOptions};

use common::cli_check::{CliCheck, cluster_check};
use common::{BIN, must};

/// One thing broken on purpose. Nodes are master indices of the lab.
#[derive(Clone, Debug)]
enum Fault {
    /// `DELSLOTSRANGE` on every node: bound to no master anywhere.
    Uncovered(SlotRange),
    /// `DELSLOTSRANGE` on the owner only: it gives them up, its peers still bind them to it.
    DroppedByOwner { slots: SlotRange, owner: usize },
    /// `SETSLOT MIGRATING` on the owner only.
    MigratingOnly { slot: Slot, from: usize, to: usize },
    /// `SETSLOT IMPORTING` on the target only.
    ImportingOnly { slot: Slot, from: usize, to: usize },
    /// Both markers, as in the middle of a resharding.
    BothSides { slot: Slot, from: usize, to: usize },
    /// A master without replica killed, flagged `fail` by the others.
    FailedMaster(usize),
}

/// xorshift, for the generated parameters.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const MASTERS: usize = 3;

/// A slot of master `m`'s range (as the lab creates it), away from its edges.
fn slot_of(r: &mut Rng, m: usize) -> Slot {
    let per = 16384 / MASTERS as u64;
    let s = m as u64 * per + 10 + r.below(per - 200);
    Slot::try_from(s).expect("a slot")
}

/// The layouts of one seed: every kind of fault alone, and combinations, on nodes and slots
/// drawn from the seed. `a`, `b`, `c` are the three masters in a drawn order.
fn layouts(seed: u64) -> Vec<Vec<Fault>> {
    let mut r = Rng(seed);
    let a = usize::try_from(r.below(3)).expect("index");
    let b = (a + 1 + usize::try_from(r.below(2)).expect("index")) % MASTERS;
    let c = 3 - a - b;
    let range = |r: &mut Rng, m: usize| {
        let s = slot_of(r, m);
        let len = u16::try_from(1 + r.below(120)).expect("length");
        SlotRange::new(s, s + len)
    };
    let (u1, u2, u3, u4) = (
        range(&mut r, a),
        range(&mut r, c),
        range(&mut r, b),
        range(&mut r, c),
    );
    let (s1, s2, s3, s4) = (
        slot_of(&mut r, a),
        slot_of(&mut r, b),
        slot_of(&mut r, a),
        slot_of(&mut r, a),
    );
    vec![
        vec![],
        vec![Fault::Uncovered(u1)],
        vec![Fault::DroppedByOwner {
            slots: u4,
            owner: c,
        }],
        vec![Fault::MigratingOnly {
            slot: s1,
            from: a,
            to: b,
        }],
        vec![Fault::ImportingOnly {
            slot: s2,
            from: b,
            to: c,
        }],
        vec![
            Fault::BothSides {
                slot: s3,
                from: a,
                to: b,
            },
            Fault::Uncovered(u2),
        ],
        vec![
            Fault::BothSides {
                slot: s4,
                from: a,
                to: b,
            },
            Fault::Uncovered(u3),
            Fault::FailedMaster(c),
        ],
    ]
}

/// The lab with `faults` applied in order (a failed master comes last: the others are set
/// on live nodes).
fn build(faults: &[Fault]) -> Lab {
    let lab = must(Lab::start(LabOptions {
        masters: MASTERS,
        replicas_per_master: 0,
        node_timeout_ms: 1000,
        keys: 200,
        ..LabOptions::default()
    }));
    let mut lab = lab;
    for f in faults {
        match f {
            Fault::Uncovered(r) => {
                let (a, b) = (r.start.to_string(), r.end.to_string());
                for i in 0..MASTERS {
                    must(lab.cmd(i, &["CLUSTER", "DELSLOTSRANGE", &a, &b]));
                }
            }
            Fault::DroppedByOwner { slots, owner } => {
                let (a, b) = (slots.start.to_string(), slots.end.to_string());
                must(lab.cmd(*owner, &["CLUSTER", "DELSLOTSRANGE", &a, &b]));
            }
            Fault::MigratingOnly { slot, from, to } => {
                let to_id = lab.node_id(*to).to_owned();
                let s = slot.to_string();
                must(lab.cmd(*from, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &to_id]));
            }
            Fault::ImportingOnly { slot, from, to } => {
                let from_id = lab.node_id(*from).to_owned();
                let s = slot.to_string();
                must(lab.cmd(*to, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &from_id]));
            }
            Fault::BothSides { slot, from, to } => {
                let (from_id, to_id) = (lab.node_id(*from).to_owned(), lab.node_id(*to).to_owned());
                let s = slot.to_string();
                must(lab.cmd(*to, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &from_id]));
                must(lab.cmd(*from, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &to_id]));
            }
            Fault::FailedMaster(i) => {
                must(lab.kill(*i));
                let dead = *i;
                must(lab.wait_until(
                    "the others flag the killed master fail",
                    Duration::from_secs(30),
                    |lab| {
                        for o in (0..MASTERS).filter(|&o| o != dead) {
                            let flags = lab.flags_seen_by(o, dead)?;
                            if !flags.iter().any(|f| f == "fail") {
                                return Ok(Err(format!("node {o} sees {flags:?}")));
                            }
                        }
                        Ok(Ok(()))
                    },
                ));
            }
        }
    }
    lab
}

/// What one judge says: the slots not covered by a reachable master, and the open slots.
#[derive(Debug, PartialEq, Eq)]
struct Opinion {
    not_covered: Vec<SlotRange>,
    open: Vec<SlotRange>,
}

fn ranges(slots: &BTreeSet<Slot>) -> Vec<SlotRange> {
    slotscope::cluster::slots::slots_to_ranges(slots.iter().copied())
}

/// The slots of `[0-99],[200-5460]` (or `[5]`, or `[0-5460] (5461 slots)`).
fn parse_bracketed(text: &str, into: &mut BTreeSet<Slot>) {
    for part in text.split('[').skip(1) {
        let Some(inner) = part.split(']').next() else {
            continue;
        };
        let (a, b) = inner.split_once('-').unwrap_or((inner, inner));
        if let (Ok(a), Ok(b)) = (a.trim().parse::<Slot>(), b.trim().parse::<Slot>()) {
            into.extend(a..=b);
        }
    }
}

/// `redis-cli --cluster check`: the slots of every master it lists (`M:` lines), and the
/// slots of its "The following slots are open" warning.
fn cli_opinion(c: &CliCheck) -> Opinion {
    let mut covered = BTreeSet::new();
    let mut open = BTreeSet::new();
    let mut lines = c.output.lines().peekable();
    let mut in_nodes = true;
    while let Some(l) = lines.next() {
        if l.starts_with(">>> Performing Cluster Check") {
            in_nodes = true;
        }
        if in_nodes
            && l.starts_with("M: ")
            && let Some(next) = lines.peek()
            && let Some(slots) = next.trim().strip_prefix("slots:")
        {
            parse_bracketed(slots.split(" (").next().unwrap_or(""), &mut covered);
        }
        if let Some(list) = l
            .split("The following slots are open:")
            .nth(1)
            .map(|s| s.trim().trim_end_matches('.'))
        {
            open.extend(
                list.split(',')
                    .filter_map(|s| s.trim().parse::<Slot>().ok()),
            );
        }
    }
    let all: BTreeSet<Slot> = (0..16384).collect();
    Opinion {
        not_covered: ranges(&all.difference(&covered).copied().collect()),
        open: ranges(&open),
    }
}

fn finding_slots(json: &Value, kinds: &[&str]) -> BTreeSet<Slot> {
    let mut out = BTreeSet::new();
    for f in json["findings"].as_array().into_iter().flatten() {
        if !kinds.iter().any(|k| f["kind"] == *k) {
            continue;
        }
        for r in f["slots"].as_array().into_iter().flatten() {
            if let (Some(a), Some(b)) = (r["start"].as_u64(), r["end"].as_u64())
                && let (Ok(a), Ok(b)) = (Slot::try_from(a), Slot::try_from(b))
            {
                out.extend(a..=b);
            }
        }
    }
    out
}

/// `slotscope check --json`: slots bound to no master or to a failing one are not covered;
/// open slots are those of its `open_slot` findings. Its summary counts must say the same.
fn slotscope_opinion(json: &Value) -> Result<Opinion, String> {
    let not_covered = finding_slots(json, &["uncovered_slots", "master_down"]);
    let open = finding_slots(json, &["open_slot"]);
    let s = &json["summary"];
    let counted = s["slots"]["uncovered"].as_u64().unwrap_or(0)
        + s["slots"]["owner_failing"].as_u64().unwrap_or(0);
    if counted != not_covered.len() as u64 {
        return Err(format!(
            "summary counts {counted} slots uncovered or failing, its findings {}",
            not_covered.len()
        ));
    }
    if s["open_slots"].as_u64() != Some(open.len() as u64) {
        return Err(format!(
            "summary counts {} open slots, its findings {}",
            s["open_slots"],
            open.len()
        ));
    }
    Ok(Opinion {
        not_covered: ranges(&not_covered),
        open: ranges(&open),
    })
}

/// What was built: the slots that cannot be covered and the open ones.
fn built(lab: &Lab, faults: &[Fault]) -> Opinion {
    let mut not_covered = BTreeSet::new();
    let mut open = BTreeSet::new();
    for f in faults {
        match f {
            Fault::Uncovered(r) | Fault::DroppedByOwner { slots: r, owner: _ } => {
                not_covered.extend(r.iter());
            }
            Fault::FailedMaster(i) => {
                not_covered.extend(lab.initial_slots(*i).expect("a master").iter());
            }
            Fault::MigratingOnly { slot, .. }
            | Fault::ImportingOnly { slot, .. }
            | Fault::BothSides { slot, .. } => {
                open.insert(*slot);
            }
        }
    }
    Opinion {
        not_covered: ranges(&not_covered),
        open: ranges(&open),
    }
}

fn slotscope_check(seed: &str) -> (Value, String) {
    let out = Command::new(BIN)
        .args(["check", "--format", "json", seed])
        .env_remove("REDISCLI_AUTH")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("slotscope runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (json, stdout)
}

#[test]
fn redis_cli_and_slotscope_agree_on_covered_and_open_slots() {
    let seed: u64 = std::env::var("DIFFERENTIAL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x005E_ED0F_5107);
    for faults in layouts(seed) {
        let mut lab = build(&faults);
        let judge = (0..MASTERS)
            .find(|i| {
                !faults
                    .iter()
                    .any(|f| matches!(f, Fault::FailedMaster(d) if d == i))
            })
            .expect("a live master");
        let ep = lab.endpoint(judge);
        let seed_addr = format!("{}:{}", ep.host, ep.port);
        let cli = cluster_check(&ep, None, Duration::from_secs(30));
        let (json, raw) = slotscope_check(&seed_addr);
        let expected = built(&lab, &faults);
        let theirs = cli_opinion(&cli);
        let ours = slotscope_opinion(&json);
        let agree = ours.as_ref().is_ok_and(|o| *o == theirs) && theirs == expected;
        lab.shutdown();
        assert!(
            agree,
            "layout {faults:?} (DIFFERENTIAL_SEED={seed}) judged from {seed_addr}\n\
             built:      {expected:?}\n\
             redis-cli:  {theirs:?}\n\
             slotscope:  {ours:?}\n\
             --- redis-cli --cluster check (exit {:?}):\n{}\n--- slotscope check --json:\n{raw}",
            cli.code, cli.output
        );
        eprintln!("agree on {faults:?}: {expected:?}");
    }
}
