//! Recordings of every demo drill (`slotscope demo --list`), kept as fixtures in
//! `tests/fixtures/recordings/`, replayed through today's parser, model, diagnosis and
//! planner: the findings, the plans and the whole screen of each are insta snapshots, so a
//! change of the diagnosis shows up as a reviewable diff.
//!
//! Regenerate the recordings (real `redis-server`s, about a minute):
//! `cargo test --test drill_recordings -- --ignored regenerate`
//!
//! `tests/fixtures/recordings/v1/` keeps a recording in format version 1 (whole changed
//! lines, before field-level edits): it must stay readable, and reads the same once written
//! again in the current format.

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use slotscope::app::App;
use slotscope::app::color::ColorDepth;
use slotscope::app::replay::Frame;
use slotscope::cluster::diagnose::verdict;
use slotscope::cluster::{ClusterModel, diagnose};
use slotscope::fix::plan_fixes;
use slotscope::lab::{LabOptions, Scenario};
use slotscope::record::{Header, RecordedRefresh, Writer};
use slotscope::refresh::capture::Capture;
use slotscope::refresh::{Connector, observe_once};

/// Refreshes recorded per drill.
const REFRESHES: usize = 2;

fn path_of(s: Scenario) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/recordings")
        .join(format!("{}.jsonl.gz", s.name()))
}

#[test]
#[ignore = "starts real clusters; run to regenerate the fixtures"]
fn regenerate() {
    let rt = common::cluster::runtime();
    for &s in Scenario::all() {
        let base = LabOptions {
            keys: 100,
            ..LabOptions::default()
        };
        let (lab, _) = common::must(s.start(base));
        let capture = Capture::shared();
        let connector =
            Connector::new(common::cluster::options(&lab)).with_capture(Arc::clone(&capture));
        let path = path_of(s);
        let mut w = Writer::create(&path, &Header::new(0, &format!("drill {}", s.name())))
            .expect("create the fixture");
        let mut previous = None;
        for _ in 0..REFRESHES {
            let snap = match rt.block_on(observe_once(&connector, previous.as_ref())) {
                Ok(s) => s,
                Err(e) => e.snapshot,
            };
            w.write(&RecordedRefresh::from_snapshot(&snap, |o| {
                capture.raw_of(o)
            }))
            .expect("write");
            previous = Some(snap);
            std::thread::sleep(Duration::from_millis(500));
        }
        w.finish().expect("finish");
        drop(lab);
    }
}

/// The findings and plans of the last refresh, as words.
fn findings_and_plans(s: Scenario) -> (String, Vec<Frame>) {
    let rec = slotscope::record::open(&path_of(s))
        .unwrap_or_else(|e| panic!("{}: {e} (regenerate: see the module docs)", s.name()));
    assert_eq!(rec.refreshes.len(), REFRESHES, "{}", s.name());
    let outcomes = rec.outcomes();
    let last = outcomes.last().expect("a refresh");
    let model = ClusterModel::build(&last.snapshot);
    let findings = diagnose(&model);
    let mut out = String::new();
    let _ = writeln!(out, "verdict: {}", verdict(&model, &findings));
    if let Some(e) = &last.error {
        let _ = writeln!(out, "error: {e}");
    }
    out.push_str("\nfindings:\n");
    for f in &findings {
        let _ = writeln!(out, "- {:?} {:?}: {}", f.severity, f.kind, f.summary);
    }
    out.push_str("\nplans:\n");
    for p in plan_fixes(&model, &findings) {
        let _ = writeln!(out, "- {} [{:?}]", p.title, p.risk);
        for step in &p.steps {
            let _ = writeln!(out, "    {step}");
        }
    }
    let frames = outcomes
        .into_iter()
        .map(|o| Frame::new(o.snapshot, o.error.map(|e| e.to_string())))
        .collect();
    (out, frames)
}

#[test]
fn every_drill_has_a_recording_that_replays() {
    for &s in Scenario::all() {
        let (text, frames) = findings_and_plans(s);
        insta::assert_snapshot!(format!("drill_{}_findings", s.name()), text);
        let mut app = App::new(ColorDepth::Mono, Duration::from_secs(1), false, None);
        app.on_resize(120, 40);
        app.start_replay(&format!("{}.jsonl.gz", s.name()), frames, REFRESHES - 1);
        insta::assert_snapshot!(
            format!("drill_{}_screen", s.name()),
            slotscope::ui::screen(&app)
        );
    }
}

#[test]
fn a_version_1_recording_still_replays_and_rewrites_identically() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/recordings/v1/healthy.jsonl.gz");
    let raw = std::fs::read(&path).expect("the version 1 fixture");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(raw.as_slice()), &mut text)
        .expect("gzip");
    assert!(
        text.contains("\"lines\":{"),
        "the fixture uses version 1's line form"
    );
    let rec = slotscope::record::read(raw.as_slice()).expect("a version 1 recording reads");
    assert_eq!(rec.header.version, 1);
    assert_eq!(rec.refreshes.len(), REFRESHES);
    let last = rec.outcomes().pop().expect("a refresh");
    let model = ClusterModel::build(&last.snapshot);
    let findings = diagnose(&model);
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(model.nodes.len(), 6);

    let header = Header::new(rec.header.created_at_ms, &rec.header.source);
    let mut w = Writer::new(Vec::new(), &header).expect("writer");
    for r in &rec.refreshes {
        w.write(r).expect("write");
    }
    let current = w.finish().expect("finish");
    let again = slotscope::record::read(current.as_slice()).expect("reads back");
    assert_eq!(again.refreshes, rec.refreshes);
    assert_eq!(again.header.version, slotscope::record::format::VERSION);
    const { assert!(slotscope::record::format::VERSION > 1) };
}
