//! End to end: record a broken, password-protected real cluster with the built
//! `slotscope record`, replay the recording with `check --replay` and with the dashboard in a
//! real terminal (tmux), and feed `replay` / `check --replay` damaged files.

mod common;

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use slotscope::lab::{LabOptions, Scenario};

use common::tmux::Tmux;
use common::{BIN, must};

const PASSWORD: &str = "s3cret-Pa55word";

fn run(args: &[&str], auth: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("REDISCLI_AUTH")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    if let Some(pw) = auth {
        cmd.env("REDISCLI_AUTH", pw);
    }
    cmd.output().expect("slotscope runs")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); exit {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `(kind, slots)` of every finding, sorted.
fn kinds_and_slots(doc: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = doc["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| (f["kind"].to_string(), f["slots"].to_string()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn decompressed(path: &Path) -> String {
    let f = std::fs::File::open(path).expect("the recording exists");
    let mut s = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .expect("the recording decompresses");
    s
}

#[test]
fn record_replay_a_broken_password_protected_cluster() {
    let base = LabOptions {
        password: Some(PASSWORD.to_owned()),
        keys: 200,
        ..LabOptions::default()
    };
    let (lab, report) = must(Scenario::InterruptedReshard.start(base));
    let seeds: Vec<String> = lab.endpoints().iter().map(ToString::to_string).collect();
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("incident.jsonl.gz");
    let file_s = file.to_string_lossy().into_owned();

    let mut rec_args = vec![
        "record",
        "--out",
        &file_s,
        "--interval",
        "1",
        "--count",
        "3",
    ];
    rec_args.extend(seeds.iter().map(String::as_str));
    let recorder = {
        let mut cmd = Command::new(BIN);
        cmd.args(&rec_args)
            .env("REDISCLI_AUTH", PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("slotscope record runs")
    };
    // The live check, taken while the recording runs.
    let mut check_args = vec!["check", "--json"];
    check_args.extend(seeds.iter().map(String::as_str));
    let live = run(&check_args, Some(PASSWORD));
    let live_doc = json_of(&live);
    let rec = recorder.wait_with_output().expect("record ends");
    let rec_err = String::from_utf8_lossy(&rec.stderr);
    assert!(rec.status.success(), "record failed: {rec_err}");
    assert!(rec_err.contains("recorded 3 refresh(es)"), "{rec_err}");
    assert!(rec_err.contains("bytes in the file"), "{rec_err}");

    // Offline: no seed, no password.
    let replayed = run(&["check", "--replay", &file_s, "--json"], None);
    let replay_doc = json_of(&replayed);
    assert_eq!(
        kinds_and_slots(&replay_doc),
        kinds_and_slots(&live_doc),
        "replayed findings differ from the live check's"
    );
    assert!(
        kinds_and_slots(&live_doc)
            .iter()
            .any(|(_, s)| s.contains(&report.slots[0].start.to_string())),
        "the open slot is a finding: {:?}",
        kinds_and_slots(&live_doc)
    );
    assert_eq!(replayed.status.code(), live.status.code());
    assert_eq!(replay_doc["verdict"], live_doc["verdict"]);
    for at in ["1", "2", "3", "last"] {
        let out = run(&["check", "--replay", &file_s, "--at", at, "--json"], None);
        assert_eq!(
            kinds_and_slots(&json_of(&out)),
            kinds_and_slots(&live_doc),
            "--at {at}"
        );
    }

    // Nothing secret in the file.
    let text = decompressed(&file);
    assert!(text.lines().count() == 4, "a header and 3 refreshes");
    assert!(!text.contains(PASSWORD), "the password is in the recording");
    for needle in ["key:", "value-", "}:k"] {
        assert!(
            !text.contains(needle),
            "a key name or value ({needle}) is in the recording"
        );
    }
    let raw = std::fs::read(&file).expect("read");
    assert!(
        !raw.windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes()),
        "the password is in the compressed file"
    );

    // The dashboard on the recording: same verdict, stepping works.
    let verdict = live_doc["verdict"].as_str().unwrap_or_default().to_owned();
    let head: String = verdict.chars().take(30).collect();
    let t = Tmux::start(
        "slotscope-record-e2e",
        120,
        40,
        &format!("{BIN} replay {file_s}"),
    );
    let wait = Duration::from_secs(20);
    t.wait_for("the replay header", wait, |s| {
        s.contains("REPLAY") && s.contains("1/3")
    });
    t.wait_for("the verdict", wait, |s| s.contains(&head));
    t.keys("]");
    t.wait_for("refresh 2", wait, |s| s.contains("2/3"));
    t.keys("]");
    t.wait_for("refresh 3", wait, |s| s.contains("3/3"));
    t.keys("]");
    t.wait_for("the end of the recording", wait, |s| {
        s.contains("the last refresh")
    });
    t.keys("[");
    t.wait_for("back to refresh 2", wait, |s| s.contains("2/3"));
    t.keys("{");
    t.wait_for("a jump back", wait, |s| s.contains("1/3"));
    t.literal(":goto 3");
    t.keys("Enter");
    t.wait_for(":goto 3", wait, |s| s.contains("3/3") && s.contains(&head));
    t.keys("q");
    assert!(t.wait_exit(wait), "replay did not quit on q");
    drop(lab);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

#[test]
fn bad_recordings_are_clear_errors() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/recordings/interrupted-reshard.jsonl.gz");
    let good = std::fs::read(&fixture).expect("the drill fixture exists");
    let header =
        r#"{"format":"slotscope-recording","version":1,"slotscope":"0.1.0","created_at_ms":0}"#;
    let header2 = header.replace("\"version\":1", "\"version\":2");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", good[..good.len() / 2].to_vec(), "truncated"),
        ("not-gzip", b"hello, not a recording\n".to_vec(), "not a slotscope recording"),
        ("empty", Vec::new(), "not a slotscope recording"),
        (
            "newer",
            gzip(br#"{"format":"slotscope-recording","version":99,"slotscope":"9.0.0","created_at_ms":0}
"#),
            "newer than this slotscope reads",
        ),
        ("damaged-line", gzip(format!("{header}\n{{\"nodes\": 3}}\n").as_bytes()), "damaged at line 2"),
        (
            "dangling-same",
            gzip(
                format!(
                    "{header}\n{{\"started_at_ms\":1,\"finished_at_ms\":2,\"seeds\":[],\"nodes\":[{{\"endpoint\":{{\"host\":\"127.0.0.1\",\"port\":7000}},\"observed_at_ms\":2,\"cluster_nodes\":\"same\",\"cluster_info\":\"same\",\"info\":\"same\"}}]}}\n"
                )
                .as_bytes(),
            ),
            "damaged at line 2",
        ),
        (
            "edits-that-do-not-fit",
            gzip(
                format!(
                    "{header2}\n{{\"started_at_ms\":1,\"finished_at_ms\":2,\"seeds\":[],\"nodes\":[{{\"endpoint\":{{\"host\":\"127.0.0.1\",\"port\":7000}},\"observed_at_ms\":2,\"cluster_nodes\":{{\"text\":\"a 1\\nb 2\"}},\"cluster_info\":{{\"text\":\"\"}},\"info\":{{\"text\":\"\"}}}}]}}\n{{\"started_at_ms\":3,\"finished_at_ms\":4,\"seeds\":[],\"nodes\":[{{\"endpoint\":{{\"host\":\"127.0.0.1\",\"port\":7000}},\"observed_at_ms\":4,\"cluster_nodes\":{{\"edits\":{{\"len\":2,\"lines\":[[0,0,5]]}}}},\"cluster_info\":\"same\",\"info\":\"same\"}}]}}\n"
                )
                .as_bytes(),
            ),
            "damaged at line 3",
        ),
    ];
    for (name, bytes, want) in cases {
        let p = dir.path().join(format!("{name}.jsonl.gz"));
        std::fs::write(&p, bytes).expect("write");
        let ps = p.to_string_lossy().into_owned();
        for args in [
            vec!["check", "--replay", ps.as_str(), "--json"],
            vec!["replay", ps.as_str()],
        ] {
            let out = run(&args, None);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{name} {args:?}: {err}");
            assert!(err.contains(want), "{name} {args:?}: {err}");
            assert!(!err.contains("panicked"), "{name}: {err}");
        }
    }
    let out = run(&["check", "--replay", "/nonexistent/x.jsonl.gz"], None);
    assert_eq!(out.status.code(), Some(3));
    let out = run(
        &[
            "check",
            "--replay",
            &fixture.to_string_lossy(),
            "--at",
            "99",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in the recording"));
}

/// The number after `● REC ` in the header, if the badge is shown.
fn rec_count(screen: &str) -> Option<u64> {
    let rest = &screen[screen.find("● REC ")? + "● REC ".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// The one entry of `dir` whose name starts with `prefix` and that `keep` accepts.
fn only_entry(dir: &Path, prefix: &str, keep: impl Fn(&Path) -> bool) -> std::path::PathBuf {
    let found: Vec<_> = std::fs::read_dir(dir)
        .expect("list the directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                && keep(p)
        })
        .collect();
    assert_eq!(found.len(), 1, "{prefix}* in {}: {found:?}", dir.display());
    found.into_iter().next().expect("one")
}

#[test]
fn the_live_dashboard_records_stops_snapshots_and_records_again() {
    let base = LabOptions {
        keys: 100,
        ..LabOptions::default()
    };
    let (lab, _) = must(Scenario::InterruptedReshard.start(base));
    let seeds: Vec<String> = lab.endpoints().iter().map(ToString::to_string).collect();
    let dir = tempfile::tempdir().expect("a temp dir");
    let first = dir.path().join("live.jsonl.gz");
    let first_s = first.to_string_lossy().into_owned();
    let t = Tmux::start(
        "slotscope-record-live-e2e",
        120,
        40,
        &format!(
            "cd {} && NO_COLOR=1 {BIN} --interval 1 --record {first_s} {}",
            dir.path().display(),
            seeds.join(" ")
        ),
    );
    let wait = Duration::from_secs(30);

    // `--record FILE`: the header counts the refreshes recorded.
    t.wait_for("● REC 2 in the header", wait, |s| {
        rec_count(s).is_some_and(|n| n >= 2)
    });

    // `R` stops; the status line says how many refreshes went where.
    t.keys("R");
    let screen = t.wait_for("the recording stopped", wait, |s| {
        s.contains("recorded ") && s.contains("live.jsonl.gz") && rec_count(s).is_none()
    });
    let stopped: usize = screen
        .split("recorded ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in the status line:\n{screen}"));
    assert!(stopped >= 2, "{screen}");
    let rec = slotscope::record::open(&first).expect("the stopped recording reads");
    assert_eq!(rec.refreshes.len(), stopped, "the status line's count");

    // `P`: a snapshot directory of the refresh on screen.
    t.keys("P");
    t.wait_for("the snapshot message", wait, |s| {
        s.contains("snapshot written to") && s.contains("slotscope-snapshot-")
    });
    let snap = only_entry(dir.path(), "slotscope-snapshot-", Path::is_dir);
    let snap_rec = snap.join("recording.jsonl.gz");
    let one = slotscope::record::open(&snap_rec).expect("the snapshot's recording reads");
    assert_eq!(one.refreshes.len(), 1, "a one-refresh recording");
    let check_json: Value = serde_json::from_slice(
        &std::fs::read(snap.join("check.json")).expect("check.json is written"),
    )
    .expect("check.json is JSON");
    let snap_out = run(
        &["check", "--replay", &snap_rec.to_string_lossy(), "--json"],
        None,
    );
    let replayed = json_of(&snap_out);
    assert_eq!(
        check_json, replayed,
        "check.json is `check --replay --json`"
    );
    assert!(!kinds_and_slots(&check_json).is_empty(), "{check_json}");
    let report = std::fs::read_to_string(snap.join("report.txt")).expect("report.txt");
    let verdict = check_json["verdict"].as_str().expect("a verdict");
    assert!(report.contains(verdict), "{report}");
    let code = snap_out.status.code().expect("an exit code");
    assert!(
        report.contains(&format!("(check exit code {code})")),
        "{report}"
    );
    assert!(report.contains("slotscope replay "), "{report}");

    // `R` again: a new file in the working directory.
    t.keys("R");
    t.wait_for("a new recording", wait, |s| {
        s.contains("recording to slotscope-") && rec_count(s).is_some_and(|n| n >= 1)
    });
    t.keys("q");
    assert!(t.wait_exit(wait), "the dashboard did not quit on q");
    let second = only_entry(dir.path(), "slotscope-", Path::is_file);
    assert!(
        second.to_string_lossy().ends_with(".jsonl.gz"),
        "{}",
        second.display()
    );
    let again = slotscope::record::open(&second).expect("the second recording reads");
    assert!(!again.refreshes.is_empty());
    assert_eq!(again.header.source, rec.header.source);

    // Both recordings diagnose offline as the snapshot did.
    for file in [&first, &second] {
        let out = run(
            &["check", "--replay", &file.to_string_lossy(), "--json"],
            None,
        );
        assert_eq!(
            out.status.code(),
            snap_out.status.code(),
            "{}",
            file.display()
        );
        assert_eq!(
            kinds_and_slots(&json_of(&out)),
            kinds_and_slots(&check_json),
            "{}",
            file.display()
        );
    }
    drop(lab);
}
