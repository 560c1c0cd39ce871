use super::*;
use crate::cluster::synthetic::{set_slot_keys, snapshot_from_texts};

const A: &str = "127.0.0.1:7000";
const B: &str = "127.0.0.1:7001";

/// Two masters, each answering with its own view: `aaaa` claims `a_slots`, `bbbb` claims
/// `b_slots`; `open` slots are migrating on `aaaa` and importing on `bbbb`. Taken at `at_ms`.
fn two_masters(a_slots: &str, b_slots: &str, open: &[Slot], at_ms: u64) -> ClusterSnapshot {
    let mig: Vec<String> = open.iter().map(|s| format!("[{s}->-bbbb]")).collect();
    let imp: Vec<String> = open.iter().map(|s| format!("[{s}-<-aaaa]")).collect();
    let a = format!(
        "aaaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected {a_slots} {}\n\
         bbbb 127.0.0.1:7001@17001 master - 0 0 2 connected {b_slots}",
        mig.join(" ")
    );
    let b = format!(
        "aaaa 127.0.0.1:7000@17000 master - 0 0 1 connected {a_slots}\n\
         bbbb 127.0.0.1:7001@17001 myself,master - 0 0 2 connected {b_slots} {}",
        imp.join(" ")
    );
    let mut s = snapshot_from_texts(&[(A, Ok(a.trim_end())), (B, Ok(b.trim_end()))]);
    s.finished_at_ms = at_ms;
    s
}

#[test]
fn slots_and_keys_moving_make_an_active_flow() {
    let s1 = two_masters("0-99", "100-16383", &[], 1_000);
    let mut s2 = two_masters("10-99", "0-9 100-16383", &[10], 1_500);
    set_slot_keys(&mut s2, A, &[(10, 3)]);
    set_slot_keys(&mut s2, B, &[(10, 2)]);
    s2.progress = Progress::between(Some(&s1), &s2);
    let f = &s2.progress.flows[0];
    assert_eq!(s2.progress.flows.len(), 1);
    assert_eq!((f.source.as_str(), f.target.as_str()), ("aaaa", "bbbb"));
    assert!(f.active);
    assert_eq!((f.slots_moved, f.open.clone()), (10, vec![10]));
    assert_eq!((f.started_at_ms, f.last_active_ms), (1_000, 1_500));
    assert!((f.slots_per_s() - 20.0).abs() < 1e-9);
    assert!(s2.progress.is_moving(10) && !s2.progress.is_moving(11));
    // One slot open at a time: the remaining slots are not known.
    assert_eq!(f.eta_s(), None);

    // Slot 10 finished (its 3 keys left aaaa), slot 11 is open now: counts accumulate.
    let mut s3 = two_masters("11-99", "0-10 100-16383", &[11], 2_000);
    set_slot_keys(&mut s3, A, &[(11, 4)]);
    s3.progress = Progress::between(Some(&s2), &s3);
    let f = &s3.progress.flows[0];
    assert_eq!(
        (f.slots_moved, f.keys_moved, f.open.clone()),
        (11, 3, vec![11])
    );
    assert_eq!(f.started_at_ms, 1_000);
    assert!(s3.progress.is_moving(11));

    // Keys of the open slot keep leaving: still active without any slot changing owner.
    let mut s4 = two_masters("11-99", "0-10 100-16383", &[11], 2_500);
    set_slot_keys(&mut s4, A, &[(11, 1)]);
    s4.progress = Progress::between(Some(&s3), &s4);
    assert!(s4.progress.is_moving(11));
    assert_eq!(s4.progress.flows[0].keys_moved, 6);

    // Nothing moved since: the slot open now is stuck, not moving; the flow lingers.
    let mut s5 = two_masters("11-99", "0-10 100-16383", &[11], 3_000);
    set_slot_keys(&mut s5, A, &[(11, 1)]);
    s5.progress = Progress::between(Some(&s4), &s5);
    assert!(!s5.progress.is_moving(11));
    assert_eq!(s5.progress.flows.len(), 1);
    assert!(!s5.progress.flows[0].active);
    assert_eq!(s5.progress.flows[0].last_active_ms, 2_500);
    // And is dropped once it has been still for long enough.
    let later = two_masters("11-99", "0-10 100-16383", &[11], 2_500 + FLOW_LINGER_MS + 1);
    assert!(Progress::between(Some(&s5), &later).flows.is_empty());
}

#[test]
fn a_batch_of_open_slots_gives_an_eta() {
    let s1 = two_masters("0-99", "100-16383", &[], 1_000);
    let s2 = two_masters("10-99", "0-9 100-16383", &[10, 11, 12, 13], 2_000);
    let p = Progress::between(Some(&s1), &s2);
    let f = &p.flows[0];
    assert_eq!(f.remaining_slots(), Some(4));
    // 10 slots/s, 4 left.
    assert!(f.eta_s().is_some_and(|e| (e - 0.4).abs() < 1e-9));
}

#[test]
fn a_single_observation_or_a_still_cluster_has_no_flow() {
    let s = two_masters("0-99", "100-16383", &[50], 1_000);
    assert_eq!(Progress::between(None, &s), Progress::default());
    let again = two_masters("0-99", "100-16383", &[50], 1_500);
    let p = Progress::between(Some(&s), &again);
    assert!(p.flows.is_empty() && !p.is_moving(50));
}

#[test]
fn a_failover_is_not_a_reshard() {
    // aaaa dies; its replica cccc is promoted and claims its slots.
    let before = snapshot_from_texts(&[
        (
            A,
            Ok(
                "aaaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n\
                cccc 127.0.0.1:7002@17002 slave aaaa 0 0 1 connected",
            ),
        ),
        (
            "127.0.0.1:7002",
            Ok(
                "aaaa 127.0.0.1:7000@17000 master - 0 0 1 connected 0-8191\n\
                cccc 127.0.0.1:7002@17002 myself,slave aaaa 0 0 1 connected",
            ),
        ),
    ]);
    let after = snapshot_from_texts(&[(
        "127.0.0.1:7002",
        Ok("aaaa 127.0.0.1:7000@17000 master,fail - 0 0 1 connected\n\
            cccc 127.0.0.1:7002@17002 myself,master - 0 0 3 connected 0-8191"),
    )]);
    assert!(Progress::between(Some(&before), &after).flows.is_empty());
}

#[test]
fn a_slot_between_the_two_claims_is_part_of_the_move() {
    // Read between the target's SETSLOT NODE and the source's: nobody claims slot 11 yet.
    let s1 = two_masters("0-99", "100-16383", &[], 1_000);
    let s2 = two_masters("12-99", "0-10 100-16383", &[12], 1_500);
    let p = Progress::between(Some(&s1), &s2);
    let f = &p.flows[0];
    assert_eq!(f.slots_moved, 12);
    assert_eq!(f.moved_now, vec![SlotRange::new(0, 11)]);
    assert!(p.in_motion(11) && p.in_motion(12) && !p.in_motion(13));
    // Seen at the target next time: not counted twice.
    let mut s2 = s2;
    s2.progress = p;
    let s3 = two_masters("12-99", "0-11 100-16383", &[12], 2_000);
    let p = Progress::between(Some(&s2), &s3);
    assert_eq!(p.flows[0].slots_moved, 12);
    // Slots a master drops with nothing moving (DELSLOTS) are no reshard.
    let s4 = two_masters("0-89", "100-16383", &[], 1_500);
    assert!(Progress::between(Some(&s1), &s4).flows.is_empty());
}
