use proptest::prelude::*;

use super::*;

const NODES_A: &str = "07c3 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n\
    8f21 127.0.0.1:7001@17001 master - 0 1748786600123 2 connected 5461-10922\n\
    9a33 127.0.0.1:7002@17002 slave 07c3 0 1748786600456 1 connected\n";

/// When the replies were read.
const BASE: u64 = 1_748_786_601_500;

fn round_trip(prev: &str, new: &str) -> Option<Edits> {
    let e = encode(prev, new, BASE)?;
    assert_eq!(apply(prev, &e, BASE).as_deref(), Ok(new), "{e:?}");
    Some(e)
}

#[test]
fn ping_and_pong_changes_are_number_differences() {
    let new = NODES_A
        .replace("0 1748786600123", "1748786601000 1748786601123")
        .replace("1748786600456", "1748786600999");
    let e = round_trip(NODES_A, &new).expect("edits");
    assert_eq!(e.len, 4);
    assert_eq!(
        e.lines,
        vec![
            LineEdit::Numbers(vec![1, -11, 500, 11, 1000]),
            LineEdit::Numbers(vec![0, 10, 543]),
        ]
    );
    let json = serde_json::to_string(&e).expect("json");
    assert_eq!(
        json,
        r#"{"len":4,"lines":[[1,-11,500,11,1000],[0,10,543]]}"#
    );
    assert_eq!(serde_json::from_str::<Edits>(&json).expect("back"), e);
    let back = new.replace("1748786601000 1748786601123", "0 1748786601123");
    let e = round_trip(&new, &back).expect("edits");
    assert_eq!(e.lines, vec![LineEdit::Numbers(vec![1, -11, 0])]);
}

#[test]
fn other_changes_are_whole_lines() {
    let new = NODES_A.replace("slave 07c3", "master,fail? -");
    let e = round_trip(NODES_A, &new).expect("edits");
    assert!(matches!(&e.lines[..], [LineEdit::Whole(2, l)] if l.contains("fail?")));
    let json = serde_json::to_string(&e).expect("json");
    assert_eq!(serde_json::from_str::<Edits>(&json).expect("back"), e);
}

#[test]
fn numbers_that_are_not_canonical_are_whole_lines() {
    for (a, b) in [
        ("ratio:1.05\r", "ratio:1.10\r"),
        ("x:007", "x:008"),
        ("x:1", "x:01"),
        ("x:12345678901234567890", "x:12345678901234567891"),
        ("x:1 y", "x:1  y"),
    ] {
        let prev = format!("{a}\n{}", "pad ".repeat(20));
        let new = format!("{b}\n{}", "pad ".repeat(20));
        let e = round_trip(&prev, &new).expect("edits");
        assert!(
            matches!(e.lines[..], [LineEdit::Whole(0, _)]),
            "{a} -> {b}: {e:?}"
        );
    }
}

#[test]
fn another_line_count_or_a_larger_edit_is_the_whole_text() {
    assert_eq!(encode("a\nb", "a\nb\nc", BASE), None);
    assert_eq!(encode("a\nb", "x\ny", BASE), None);
    assert_eq!(encode("", "x", BASE), None);
}

#[test]
fn edits_that_do_not_fit_are_errors() {
    let bad = [
        Edits {
            len: 3,
            lines: vec![],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Whole(4, "x".into())],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![0, 0, 1])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![0, 99, 1])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![0, 14, -5])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![1, 14, 1, 13, 1])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![1, 14])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![-1, 14, 1])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![1, 14, i64::MAX])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![1, -11, 2_000_000_000_000])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![1, -8, 1])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![1, i64::MIN, 1])],
        },
        Edits {
            len: 4,
            lines: vec![LineEdit::Numbers(vec![i64::MAX, 1, 1])],
        },
    ];
    for e in bad {
        assert!(apply(NODES_A, &e, BASE).is_err(), "{e:?}");
    }
}

proptest! {
    #![proptest_config(crate::cluster::proptest_config(512, "tests/proptest-regressions/record-edits.txt"))]

    #[test]
    fn any_pair_of_texts_round_trips(
        prev in "([a-c0-9 :.,=@\r-]{0,12}\n){0,6}[a-c0-9 :.-]{0,8}",
        new in "([a-c0-9 :.,=@\r-]{0,12}\n){0,6}[a-c0-9 :.-]{0,8}",
        base in prop_oneof![0u64..100, Just(u64::MAX)],
    ) {
        if let Some(e) = encode(&prev, &new, base) {
            prop_assert_eq!(apply(&prev, &e, base), Ok(new));
        }
    }

    #[test]
    fn numbers_edited_in_place_round_trip(
        prev in "([a-c0-9 :.,=@\r-]{0,12}\n){0,6}",
        bumps in prop::collection::vec(prop_oneof![Just(0u64), 0u64..3_000_000_000_000], 0..12),
        base in 0u64..3_000_000_000_000,
    ) {
        let mut i = 0;
        let new: String = prev
            .split_inclusive(|c: char| !c.is_ascii_digit())
            .map(|t| {
                let (digits, rest) = t.split_at(t.len() - usize::from(!t.ends_with(|c: char| c.is_ascii_digit())));
                i += 1;
                match (digits.parse::<u64>(), bumps.get(i)) {
                    (Ok(_), Some(b)) if !digits.is_empty() => format!("{b}{rest}"),
                    _ => t.to_owned(),
                }
            })
            .collect();
        if let Some(e) = encode(&prev, &new, base) {
            prop_assert_eq!(apply(&prev, &e, base), Ok(new));
        }
    }

    #[test]
    fn any_edits_on_any_text_are_an_error_or_a_text(
        prev in "([a-c0-9 :.,=@\r-]{0,12}\n){0,4}",
        len in 0usize..8,
        lines in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<i64>(), 0..6).prop_map(LineEdit::Numbers),
                prop::collection::vec(-3i64..20, 0..6).prop_map(LineEdit::Numbers),
                (0usize..6, "[a-c0-9 ]{0,6}").prop_map(|(k, l)| LineEdit::Whole(k, l)),
            ],
            0..5,
        ),
        base in any::<u64>(),
    ) {
        let _ = apply(&prev, &Edits { len, lines }, base);
    }
}
