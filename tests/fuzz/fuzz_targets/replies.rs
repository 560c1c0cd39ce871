//! Raw replies of up to 8 nodes, separated by a line `----` (each a `CLUSTER NODES` text,
//! optionally followed by `====` and an `INFO` text), through the whole path: snapshot, model,
//! diagnosis, verdict, plans and their replay. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::cluster::model::ClusterModel;
use slotscope::cluster::parse::parse_info;
use slotscope::cluster::synthetic::snapshot_from_texts;
use slotscope::cluster::{diagnose, diagnose::verdict};
use slotscope::fix::{effects, plan_fixes};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<(String, &str, Option<&str>)> = text
        .split("\n----\n")
        .take(8)
        .enumerate()
        .map(|(i, p)| {
            let (nodes, info) = match p.split_once("\n====\n") {
                Some((n, i)) => (n, Some(i)),
                None => (p, None),
            };
            (format!("127.0.0.1:{}", 30000 + i), nodes, info)
        })
        .collect();
    let entries: Vec<(&str, Result<&str, _>)> =
        parts.iter().map(|(ep, n, _)| (ep.as_str(), Ok(*n))).collect();
    let mut snapshot = snapshot_from_texts(&entries);
    for (ep, _, info) in &parts {
        let Some(info) = info else { continue };
        if let Some(r) = snapshot
            .observations
            .iter_mut()
            .find(|o| &o.endpoint.to_string() == ep)
            .and_then(|o| o.result.as_mut().ok())
        {
            r.info = parse_info(info);
        }
    }
    let model = ClusterModel::build(&snapshot);
    let findings = diagnose(&model);
    let _ = verdict(&model, &findings);
    for plan in plan_fixes(&model, &findings) {
        let _ = effects::assess(&plan, &model);
    }
});
