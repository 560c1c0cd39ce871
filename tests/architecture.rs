//! The layering and the sizes, checked on the source text: `src/app` (dashboard state) never
//! reaches for the drawing code or the terminal shell, `src/cluster` (the pure core) uses
//! nothing of the crate outside itself, no two folders of `src/` use each other, no non-test
//! file is over 1,000 lines and no function over 150.

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

// ---------------------------------------------------------------------------------------------
// Sizes: no non-test source file over 1,000 lines, no function over 150 lines.

/// Longest non-test source file, in lines (inline `#[cfg(test)]` modules not counted).
const MAX_FILE_LINES: usize = 1000;

/// Longest function in non-test code, in lines from `fn` to its closing brace.
const MAX_FN_LINES: usize = 150;

/// Functions still over [`MAX_FN_LINES`], as `path under src/: fn name`, each waiting to be
/// split into named steps. The test fails when one of them is back under the limit, so that
/// this list only shrinks.
const LONG_FUNCTIONS_TO_SPLIT: &[&str] = &[];

/// The source with comments, string and character literals blanked to spaces (line breaks
/// kept), so that braces and keywords can be found by a plain scan.
fn code_only(text: &str) -> Vec<char> {
    let c: Vec<char> = text.chars().collect();
    let mut out = c.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for ch in &mut out[from..to.min(c.len())] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    };
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        let start = i;
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            blank(&mut out, start, i);
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            blank(&mut out, start, i);
        } else if c[i] == 'r'
            && matches!(next, Some('#' | '"'))
            && !c[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            let mut j = i + 1;
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            j += 1;
            while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|h| c.get(j + h) == Some(&'#')))
            {
                j += 1;
            }
            i = j + 1 + hashes;
            blank(&mut out, start, i);
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            blank(&mut out, start, i);
        } else if c[i] == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), else a lifetime or a label.
            let end = if next == Some('\\') {
                (i + 2..c.len()).find(|&j| c[j] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    i = e + 1;
                    blank(&mut out, start, i);
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The index just past the item that starts at or after `from`: its matching `}` when a
/// brace opens before any `;` (at bracket depth 0), else the `;`.
fn item_end(code: &[char], from: usize) -> usize {
    let mut depth = 0i32;
    let mut i = from;
    while i < code.len() {
        match code[i] {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ';' if depth == 0 => return i + 1,
            '{' if depth == 0 => return matching_brace(code, i) + 1,
            _ => {}
        }
        i += 1;
    }
    code.len()
}

/// The index of the `}` that closes the `{` at `open`.
fn matching_brace(code: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, ch) in code.iter().enumerate().skip(open) {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// The code with every `#[cfg(test)]` item (inline test modules, test-only functions and
/// imports) blanked out.
fn without_test_items(code: &[char]) -> Vec<char> {
    let text: String = code.iter().collect();
    let mut out = code.to_vec();
    for (byte, _) in text.match_indices("#[cfg(test)]") {
        let at = text[..byte].chars().count();
        let end = item_end(code, at + "#[cfg(test)]".len());
        for ch in &mut out[at..end] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    }
    out
}

fn line_of(code: &[char], at: usize) -> usize {
    code[..at].iter().filter(|c| **c == '\n').count() + 1
}

/// Every `(name, first line, line count)` of the functions with a body in `code`.
fn functions(code: &[char]) -> Vec<(String, usize, usize)> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < code.len() {
        let starts_word = i == 0 || !is_ident(code[i - 1]);
        if starts_word && code[i] == 'f' && code[i + 1] == 'n' && code[i + 2].is_whitespace() {
            let mut j = i + 2;
            while j < code.len() && code[j].is_whitespace() {
                j += 1;
            }
            let name: String = code[j..].iter().take_while(|c| is_ident(**c)).collect();
            if !name.is_empty() {
                let end = item_end(code, j);
                if code[end - 1] == '}' {
                    let (first, last) = (line_of(code, i), line_of(code, end - 1));
                    out.push((name, first, last - first + 1));
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The files of `src/` declared `#[cfg(test)] mod name;` by their parent.
fn test_only_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in rust_files(&src("")) {
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        let code: String = code_only(&text).into_iter().collect();
        let lines: Vec<&str> = code.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let Some(name) = line
                .trim()
                .strip_prefix("mod ")
                .and_then(|r| r.strip_suffix(';'))
            else {
                continue;
            };
            let attrs = lines[..n]
                .iter()
                .rev()
                .take_while(|l| l.trim().starts_with("#["));
            if !attrs.into_iter().any(|l| l.trim() == "#[cfg(test)]") {
                continue;
            }
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let dir = path.parent().expect("a parent folder");
            let base = if matches!(stem, "mod" | "lib" | "main") {
                dir.to_path_buf()
            } else {
                dir.join(stem)
            };
            out.push(base.join(format!("{name}.rs")));
            out.push(base.join(name).join("mod.rs"));
        }
    }
    out
}

/// The source files of `src/` that are not tests, with their code (comments, literals and
/// `#[cfg(test)]` items blanked).
fn non_test_sources() -> Vec<(PathBuf, Vec<char>)> {
    let tests = test_only_files();
    let root = src("");
    rust_files(&root)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let rel = p.strip_prefix(&root).unwrap_or(p);
            !(name.ends_with("tests.rs")
                || name == "test_kit.rs"
                || rel.components().any(|c| c.as_os_str() == "tests")
                || tests.contains(p))
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable source file");
            let code = without_test_items(&code_only(&text));
            (p, code)
        })
        .collect()
}

#[test]
fn no_source_file_is_over_a_thousand_lines() {
    let mut long = Vec::new();
    for (path, code) in non_test_sources() {
        let text: String = code.iter().collect();
        let lines = text.trim_end().lines().count();
        if lines > MAX_FILE_LINES {
            long.push(format!("{}: {lines} lines", path.display()));
        }
    }
    assert!(
        long.is_empty(),
        "split these files (at most {MAX_FILE_LINES} lines of non-test code):\n{}",
        long.join("\n")
    );
}

#[test]
fn no_function_is_over_150_lines() {
    let root = src("");
    let mut long = Vec::new();
    let mut still_long = Vec::new();
    for (path, code) in non_test_sources() {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        for (name, line, lines) in functions(&code) {
            let key = format!("{rel}: fn {name}");
            if lines <= MAX_FN_LINES {
                continue;
            }
            if LONG_FUNCTIONS_TO_SPLIT.contains(&key.as_str()) {
                still_long.push(key);
            } else {
                long.push(format!("src/{rel}:{line}: fn {name}: {lines} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these functions into named steps (at most {MAX_FN_LINES} lines):\n{}",
        long.join("\n")
    );
    let done: Vec<&&str> = LONG_FUNCTIONS_TO_SPLIT
        .iter()
        .filter(|k| !still_long.iter().any(|s| s == *k))
        .collect();
    assert!(
        done.is_empty(),
        "no longer over {MAX_FN_LINES} lines, remove from LONG_FUNCTIONS_TO_SPLIT: {done:?}"
    );
}

#[test]
fn the_size_scan_reads_rust() {
    let code = code_only(
        "fn a() {\n    let s = \"}\"; // }\n    let c = '}';\n}\nfn b<'x>(v: &'x str) -> &'x str { v }\n",
    );
    assert_eq!(
        functions(&code),
        vec![("a".to_owned(), 1, 4), ("b".to_owned(), 5, 1)]
    );
    let code = code_only("fn keep() {}\n#[cfg(test)]\nmod tests {\n    fn gone() {}\n}\n");
    assert_eq!(
        functions(&without_test_items(&code)),
        vec![("keep".to_owned(), 1, 1)]
    );
    let code = code_only("trait T { fn only_declared(&self); }\nlet p: fn(u8) -> u8 = f;\n");
    assert!(functions(&code).is_empty());
}

// ---------------------------------------------------------------------------------------------
// No import cycle between the top-level folders of `src/`.

/// The top-level folders of `src/`, each with the other folders its code names as `crate::…`.
fn folder_uses() -> Vec<(String, Vec<String>)> {
    let root = src("");
    let mut folders: Vec<String> = std::fs::read_dir(&root)
        .expect("src/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .collect();
    folders.sort();
    folders
        .iter()
        .map(|a| {
            let mut used = Vec::new();
            for path in rust_files(&root.join(a)) {
                let text = std::fs::read_to_string(&path).expect("a readable source file");
                let code: String = code_only(&text).into_iter().collect();
                for b in &folders {
                    if b != a && !used.contains(b) && names_crate_path(&code, b) {
                        used.push(b.clone());
                    }
                }
            }
            (a.clone(), used)
        })
        .collect()
}

/// Whether `code` names `crate::<module>` (as a path or in a `use crate::{…}` group).
fn names_crate_path(code: &str, module: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let direct = format!("crate::{module}");
    let found_direct = code.match_indices(&direct).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + direct.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    });
    found_direct
        || code.match_indices("crate::{").any(|(i, _)| {
            let group = &code[i + "crate::{".len()..];
            let group = &group[..group.find(';').unwrap_or(group.len())];
            group
                .split(|c: char| !is_ident(c))
                .any(|word| word == module)
        })
}

/// The cycles of length two: `a` uses `b` and `b` uses `a`.
fn two_way_uses(uses: &[(String, Vec<String>)]) -> Vec<String> {
    let mut out = Vec::new();
    for (a, used) in uses {
        for b in used {
            let back = uses.iter().any(|(x, xs)| x == b && xs.contains(a));
            if back && a < b {
                out.push(format!("{a} <-> {b}"));
            }
        }
    }
    out
}

#[test]
fn no_two_folders_of_src_use_each_other() {
    let cycles = two_way_uses(&folder_uses());
    assert!(
        cycles.is_empty(),
        "folders of src/ that use each other:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_cycle_scan_reads_paths() {
    assert!(names_crate_path("use crate::app::App;", "app"));
    assert!(names_crate_path("use crate::{app::App, ui};", "ui"));
    assert!(!names_crate_path("use crate::application::X;", "app"));
    let uses = vec![
        ("a".to_owned(), vec!["b".to_owned()]),
        ("b".to_owned(), vec!["a".to_owned()]),
        ("c".to_owned(), vec!["a".to_owned()]),
    ];
    assert_eq!(two_way_uses(&uses), vec!["a <-> b".to_owned()]);
}
