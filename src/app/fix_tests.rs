//! Tests of what `x` offers.

use crate::cluster::diagnose;
use crate::cluster::model::Role;
use crate::cluster::testkit::ModelBuilder;
use crate::cluster::types::NodeConfig;
use crate::cluster::{FindingKind, Severity};
use crate::fix::PlanKind;

use super::{FixTarget, incident_plans};

/// `cluster-require-full-coverage no` on every node and slots 0-99 bound to nobody, their
/// keys still on `a`: the cluster says ok, the keys in those slots fail.
#[test]
fn full_coverage_off_with_unserved_slots_recommends_serving_them_not_the_revert() {
    let mut b = ModelBuilder::new()
        .node('a', Role::Master, &[(0, 5460)], true)
        .node('b', Role::Master, &[(5461, 10922)], true)
        .node('c', Role::Master, &[(10923, 16383)], true)
        .everyone_knows()
        .uncover(0, 99, Some('a'));
    for c in ['a', 'b', 'c'] {
        b.get(c).config = Some(NodeConfig {
            require_full_coverage: Some(false),
            ..NodeConfig::default()
        });
    }
    let m = b.build();
    let findings = diagnose(&m);
    let top = findings.first().map(|f| (f.kind, f.severity));
    assert_eq!(
        top,
        Some((FindingKind::FullCoverageOff, Severity::Critical)),
        "{findings:?}"
    );
    let (_, plans) = incident_plans(&m, &findings, &FixTarget::Slot(0));
    let star: Vec<PlanKind> = plans
        .iter()
        .filter(|p| p.recommended)
        .map(|p| p.kind)
        .collect();
    assert_eq!(star, vec![PlanKind::ReclaimUncovered], "{plans:#?}");
    assert!(plans.iter().any(|p| p.kind == PlanKind::CoverageOn));
}
