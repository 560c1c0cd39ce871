//! Typing mistakes caught before anything is sent: a seed that is a misspelt subcommand
//! (`slotscope chekc`), and a redis-cli flag that slotscope does not have (`--no-raw`).
//! Both functions are pure.

/// The subcommands a bare word could be a typo of.
const SUBCOMMANDS: &[&str] = &[
    "check",
    "fix",
    "demo",
    "record",
    "replay",
    "contexts",
    "completions",
    "man",
];

/// redis-cli's flags that slotscope does not support (its connection flags it does).
const REDIS_CLI_ONLY: &[&str] = &[
    "-r",
    "-i",
    "-n",
    "-2",
    "-3",
    "-s",
    "-x",
    "-X",
    "-d",
    "-D",
    "-e",
    "-4",
    "-6",
    "-v",
    "--raw",
    "--no-raw",
    "--quoted-input",
    "--csv",
    "--quoted-json",
    "--show-pushes",
    "--stat",
    "--latency",
    "--latency-history",
    "--latency-dist",
    "--lru-test",
    "--replica",
    "--rdb",
    "--functions-rdb",
    "--pipe",
    "--pipe-timeout",
    "--bigkeys",
    "--memkeys",
    "--memkeys-samples",
    "--hotkeys",
    "--scan",
    "--pattern",
    "--quoted-pattern",
    "--count",
    "--intrinsic-latency",
    "--eval",
    "--ldb",
    "--ldb-sync-mode",
    "--cluster",
    "--verbose",
    "--resp2",
    "--resp3",
    "--keystats",
    "--keystats-samples",
];

/// The subcommand a bare seed word probably meant: a word without a port, dot or colon whose
/// edit distance (transpositions count once) to a subcommand is 1, or 2 for words of six
/// letters or more. `None` for anything else (real host names, addresses, URLs).
#[must_use]
pub fn misspelt_subcommand(seed: &str) -> Option<&'static str> {
    let w = seed.trim();
    if w.is_empty() || w.contains([':', '.', '/', '[', '@']) || w.len() > 16 {
        return None;
    }
    let w = w.to_ascii_lowercase();
    let limit = if w.len() >= 6 { 2 } else { 1 };
    SUBCOMMANDS
        .iter()
        .map(|s| (osa_distance(&w, s), *s))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// The message for a seed that looks like a misspelt subcommand.
#[must_use]
pub fn misspelt_subcommand_message(seed: &str, meant: &str) -> String {
    format!(
        "`{seed}` is not a known command and does not look like a seed: did you mean `{meant}`? \
         (for a host of that name write `{seed}:6379`)"
    )
}

/// Whether `arg` (as given, `--flag` or `--flag=value`) is a redis-cli flag slotscope lacks.
#[must_use]
pub fn is_redis_cli_only_flag(arg: &str) -> bool {
    let name = arg.split_once('=').map_or(arg, |(n, _)| n);
    REDIS_CLI_ONLY.contains(&name)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0_usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_subcommands_are_caught() {
        assert_eq!(misspelt_subcommand("chekc"), Some("check"));
        assert_eq!(misspelt_subcommand("fxi"), Some("fix"));
        assert_eq!(misspelt_subcommand("dmeo"), Some("demo"));
        assert_eq!(misspelt_subcommand("Chek"), Some("check"));
        assert_eq!(misspelt_subcommand("contxts"), Some("contexts"));
    }

    #[test]
    fn real_seeds_are_left_alone() {
        for s in [
            "localhost",
            "redis",
            "redis-a",
            "10.0.0.5",
            "check:6379",
            "fix.internal",
            "redis://fix",
            "::1",
            "db1",
            "cache",
        ] {
            assert_eq!(misspelt_subcommand(s), None, "{s}");
        }
    }

    #[test]
    fn redis_cli_flags_are_recognised() {
        assert!(is_redis_cli_only_flag("--no-raw"));
        assert!(is_redis_cli_only_flag("--pipe-timeout=5"));
        assert!(!is_redis_cli_only_flag("--read-only"));
        assert!(!is_redis_cli_only_flag("--tls"));
    }
}
