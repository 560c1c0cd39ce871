//! The planner's promises (`slotscope::fix::properties`) on a generated cluster decoded from
//! the fuzzer's bytes: the same checks as `tests/planner_properties.rs`, without a bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::generate::GenCluster;
use slotscope::fix::properties::check_cluster;

fuzz_target!(|data: &[u8]| {
    let g = GenCluster::from_bytes(data);
    if let Err(e) = check_cluster(&g) {
        panic!("{e}");
    }
});
