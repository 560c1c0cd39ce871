//! `CLUSTER SLOT-STATS` replies (RESP2 lists or RESP3 maps), decoded from bytes into a reply
//! tree: an error or stats for valid slots, sorted, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::slot_stats::{Reply, parse};

fn byte(d: &mut &[u8]) -> u8 {
    let s: &[u8] = *d;
    s.split_first().map_or(0, |(&b, r)| {
        *d = r;
        b
    })
}

/// One reply from the front of `data`: a tag byte, then its payload. Depth-bounded.
fn decode(data: &mut &[u8], depth: u8) -> Reply {
    let s: &[u8] = *data;
    let Some((&tag, rest)) = s.split_first() else {
        return Reply::Int(0);
    };
    *data = rest;
    match tag % 4 {
        0 => {
            let mut n = [0u8; 8];
            for b in &mut n {
                *b = byte(data);
            }
            Reply::Int(i64::from_le_bytes(n) >> (tag / 4 % 64))
        }
        1 => {
            let len = usize::from(byte(data) % 24);
            let take = len.min(data.len());
            let whole: &[u8] = *data;
            let (s, r) = whole.split_at(take);
            *data = r;
            Reply::Text(String::from_utf8_lossy(s).into_owned())
        }
        2 if depth < 4 => Reply::List(
            (0..byte(data) % 8)
                .map(|_| decode(data, depth + 1))
                .collect(),
        ),
        3 if depth < 4 => Reply::Map(
            (0..byte(data) % 8)
                .map(|_| (decode(data, depth + 1), decode(data, depth + 1)))
                .collect(),
        ),
        _ => Reply::Int(i64::from(tag)),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut d = data;
    let reply = decode(&mut d, 0);
    if let Ok(stats) = parse(&reply) {
        assert!(
            stats.windows(2).all(|w| w[0].slot <= w[1].slot),
            "unsorted: {reply:?}"
        );
    }
});
