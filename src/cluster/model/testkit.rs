//! Test helpers shared by the model's tests: captured fixtures, views of a table as seen by
//! another node, hand-written tables, and short ways to read a model.

pub(super) use crate::cluster::model::{ClusterModel, Reachability, Role, SlotState};
pub(super) use crate::cluster::slots::{
    SLOT_COUNT, Slot, SlotRange, format_ranges, slots_to_ranges,
};
pub(super) use crate::cluster::synthetic::snapshot_from_texts;
pub(super) use crate::cluster::types::{ClusterSnapshot, Endpoint, NodeId, ProbeError};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $name
        ))
    };
}
pub(super) use fixture;

pub(super) const A: &str = "d756d11319b867dd3bbb9ad9da006a1933db47bc"; // 31000
pub(super) const B: &str = "0b596eb3fc5fc3d613ab4aa15de855b7628f005d"; // 31001
pub(super) const C: &str = "0a63eccdde112d339111f24cef3020a0432998fe"; // 31002
pub(super) const A1: &str = "239f1fdb7742fe14ef9ea5ec6b8be7789d522dd8"; // 31003
pub(super) const B1: &str = "ebeee39cf88d87966a35b98f6cd54caa3448dd5e"; // 31004
pub(super) const C1: &str = "3f3fd9e94f517fdc9ff08fbca341cd7db4eebf9f"; // 31005
pub(super) const NEW_B: &str = "613d8165e65e99d532d3ca916f43ad6e03879341"; // 31001 restarted

pub(super) fn id(s: &str) -> NodeId {
    NodeId::from(s)
}

pub(super) fn refused() -> ProbeError {
    ProbeError::ConnectFailed("Connection refused".into())
}

/// The same table as seen by the node listening on `port`: moves the `myself` flag (and
/// drops the markers, which only belong to the original `myself`). Used to complete a
/// captured moment with the views of nodes whose table was not captured.
pub(super) fn view_as(text: &str, port: u16) -> String {
    let needle = format!(":{port}@");
    text.lines()
        .map(|l| {
            let mut t: Vec<String> = l
                .split(' ')
                .filter(|t| !t.starts_with('['))
                .map(str::to_owned)
                .collect();
            let flags: Vec<&str> = t[2].split(',').filter(|f| *f != "myself").collect();
            let mut flags = flags.join(",");
            if t[1].contains(&needle) {
                flags = format!("myself,{flags}");
            }
            t[2] = flags;
            t.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn ranges_in(m: &ClusterModel, state: SlotState) -> String {
    format_ranges(&slots_to_ranges(
        (0..SLOT_COUNT)
            .filter(|&s| m.slots[s].state == state)
            .filter_map(|s| Slot::try_from(s).ok()),
    ))
}

pub(super) fn owner_id(m: &ClusterModel, slot: Slot) -> Option<&str> {
    m.owner_of(slot)
        .and_then(|n| n.id.as_ref())
        .map(NodeId::as_str)
}

pub(super) fn order(m: &ClusterModel) -> Vec<String> {
    m.nodes
        .iter()
        .map(|n| {
            n.id.as_ref()
                .map_or_else(|| n.addr.to_string(), |i| i.short().to_owned())
        })
        .collect()
}

pub(super) fn healthy() -> ClusterSnapshot {
    let a = fixture!("healthy_nodes_31000.txt");
    let views: Vec<String> = (31001..=31005).map(|p| view_as(a, p)).collect();
    let mut entries: Vec<(&str, Result<&str, ProbeError>)> = vec![("127.0.0.1:31000", Ok(a))];
    let eps = [
        "127.0.0.1:31001",
        "127.0.0.1:31002",
        "127.0.0.1:31003",
        "127.0.0.1:31004",
        "127.0.0.1:31005",
    ];
    for (ep, v) in eps.iter().zip(&views) {
        entries.push((ep, Ok(v.as_str())));
    }
    snapshot_from_texts(&entries)
}

/// Hand-written 3-master table; `me` gets `myself`, `extra` lines are appended.
pub(super) fn table(me: &str, extra: &[&str], overrides: &[(&str, &str)]) -> String {
    let mut lines = vec![
        (
            "a",
            "aaaa 127.0.0.1:7000@17000 master - 0 100 1 connected 0-5460".to_owned(),
        ),
        (
            "b",
            "bbbb 127.0.0.1:7001@17001 master - 0 100 2 connected 5461-10922".to_owned(),
        ),
        (
            "c",
            "cccc 127.0.0.1:7002@17002 master - 0 100 3 connected 10923-16383".to_owned(),
        ),
    ];
    for (who, line) in overrides {
        if let Some(l) = lines.iter_mut().find(|(w, _)| w == who) {
            l.1 = (*line).to_owned();
        }
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|(w, l)| {
            if w == me {
                l.replacen(" master ", " myself,master ", 1)
            } else {
                l
            }
        })
        .collect();
    out.extend(extra.iter().map(|s| (*s).to_owned()));
    out.join("\n")
}
