//! The test kit of the diagnosis: the model builder (`cluster::testkit`), the assertions the
//! per-family tables share, and helpers for captured Redis replies (tests/fixtures).
//! Every test module of the diagnosis starts with `use` of this module.

pub(crate) use std::collections::BTreeMap;

pub(crate) use rstest::rstest;

use crate::cluster::diagnose::sort_findings;
pub(crate) use crate::cluster::diagnose::{
    Finding, FindingKind, Severity, diagnose, verdict, worst,
};
pub(crate) use crate::cluster::model::{
    ClusterModel, OpenSlot, Reachability, Role, SlotEntry, SlotState, ViewDisagreement,
};
pub(crate) use crate::cluster::slots::{SLOT_COUNT, SlotRange};
pub(crate) use crate::cluster::synthetic::{snapshot_from_texts, synthetic_cluster};
pub(crate) use crate::cluster::testkit::{ModelBuilder, id, new_node};
pub(crate) use crate::cluster::types::{Endpoint, NodeAddr, NodeId, ProbeError};
pub(crate) use FindingKind as K;
pub(crate) use Severity::{Critical as C, Warning as W};

pub(crate) fn kinds(f: &[Finding]) -> Vec<(FindingKind, Severity)> {
    f.iter().map(|x| (x.kind, x.severity)).collect()
}

pub(crate) fn find(f: &[Finding], kind: FindingKind) -> &Finding {
    f.iter()
        .find(|x| x.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {:#?}", kinds(f)))
}

/// Every finding of `model`, as (kind, severity), is `expected`; every finding is one line and
/// names nodes or slots; diagnosing is deterministic and already in canonical order.
pub(crate) fn assert_findings(model: &ClusterModel, expected: &[(FindingKind, Severity)]) {
    let f = diagnose(model);
    assert_eq!(kinds(&f), expected, "{f:#?}");
    for x in &f {
        assert!(!x.summary.is_empty());
        assert!(!x.summary.contains('\n'), "one line: {}", x.summary);
        assert!(
            !x.addresses.is_empty() || !x.slots.is_empty(),
            "every finding names nodes or slots: {}",
            x.summary
        );
        assert!(x.addresses.len() >= x.nodes.len());
    }
    // Diagnosing is deterministic and already in canonical order.
    let mut again = diagnose(model);
    assert_eq!(again, f);
    sort_findings(&mut again);
    assert_eq!(again, f);
}

/// The summary of the first `kind` finding of `model` contains `needle`.
pub(crate) fn assert_summary(model: &ClusterModel, kind: FindingKind, needle: &str) {
    let f = diagnose(model);
    let x = find(&f, kind);
    assert!(
        x.summary.contains(needle),
        "summary {:?} lacks {needle:?}",
        x.summary
    );
}

// ---------------------------------------------------------------------------------------------
// Captured Redis 7.0.15 replies (tests/fixtures), through `ClusterModel::build`.

/// The text of a file in tests/fixtures.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $name
        ))
    };
}
pub(crate) use fixture;

pub(crate) fn refused() -> ProbeError {
    ProbeError::ConnectFailed("Connection refused (os error 111)".into())
}

pub(crate) fn run(entries: &[(&str, Result<&str, ProbeError>)]) -> (ClusterModel, Vec<Finding>) {
    let m = ClusterModel::build(&snapshot_from_texts(entries));
    let f = diagnose(&m);
    (m, f)
}

pub(crate) const A: &str = "127.0.0.1:31000";
pub(crate) const A2: &str = "127.0.0.1:31003";
pub(crate) const C2: &str = "127.0.0.1:31005";

pub(crate) fn count(f: &[Finding], kind: FindingKind) -> usize {
    f.iter().filter(|x| x.kind == kind).count()
}

pub(crate) fn with_summary<'f>(f: &'f [Finding], kind: FindingKind, needle: &str) -> &'f Finding {
    f.iter()
        .find(|x| x.kind == kind && x.summary.contains(needle))
        .unwrap_or_else(|| panic!("no {kind:?} containing {needle:?} in {f:#?}"))
}
