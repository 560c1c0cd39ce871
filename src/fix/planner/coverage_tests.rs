//! Tests of the cluster-require-full-coverage plans.

use crate::cluster::types::NodeConfig;

use super::plan_fixes;
use super::test_kit::{plan, three};

#[test]
fn coverage_on_offered_when_off() {
    let mut b = three().everyone_knows();
    b.get('a').config = Some(NodeConfig {
        require_full_coverage: Some(false),
        ..NodeConfig::default()
    });
    let m = b.build();
    let plans = plan_fixes(&m, &[]);
    let p = plan(&plans, "coverage-on");
    assert_eq!(p.steps.len(), 3);
    assert!(p.recommended);
}
