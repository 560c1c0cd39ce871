//! The layering, checked on the source text: `src/app` (dashboard state) never reaches for the
//! drawing code or the terminal shell, and `src/cluster` (the pure core) uses nothing of the
//! crate outside itself.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn src(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)
}

/// Every `(file, line number, line)` under `dir` for which `bad` holds.
fn offending(dir: &str, bad: impl Fn(&str) -> bool) -> Vec<String> {
    let mut hits = Vec::new();
    for path in rust_files(&src(dir)) {
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        for (n, line) in text.lines().enumerate() {
            if bad(line) {
                hits.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    hits
}

#[test]
fn app_never_imports_the_drawing_code_or_the_terminal_shell() {
    let hits = offending("app", |line| {
        ["crate::ui", "crate::tui", "super::ui", "super::tui"]
            .iter()
            .any(|p| line.contains(p))
    });
    assert!(
        hits.is_empty(),
        "src/app reaches for ui or tui:\n{}",
        hits.join("\n")
    );
}

/// The `crate::` paths of a line that lead outside `crate::cluster`.
fn outside_cluster(line: &str) -> bool {
    line.match_indices("crate::").any(|(i, _)| {
        let before = line[..i].chars().next_back();
        // `crate::` preceded by an identifier character is another path (`slotscope_crate::`).
        let starts_a_path = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        starts_a_path && !line[i + "crate::".len()..].starts_with("cluster")
    })
}

#[test]
fn the_cluster_core_uses_nothing_outside_itself() {
    let hits = offending("cluster", outside_cluster);
    assert!(
        hits.is_empty(),
        "src/cluster uses the rest of the crate:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_checks_catch_what_they_look_for() {
    assert!(outside_cluster("use crate::refresh::Connector;"));
    assert!(outside_cluster("    let x = crate::fix::plan(m);"));
    assert!(!outside_cluster("use crate::cluster::types::NodeId;"));
    assert!(!outside_cluster(
        "use crate::cluster::{ClusterModel, diagnose};"
    ));
    assert!(!outside_cluster("let n = 1; // no path here"));
}
