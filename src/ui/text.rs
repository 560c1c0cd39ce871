//! Width-aware text helpers: middle truncation with `unicode-width`, human units.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub use crate::fix::describe::human_count;

/// Shorten `s` to at most `width` terminal columns by cutting out its middle, so that
/// `10.0.0.12:6379` keeps both ends (`10.0…:6379`). Returns `s` unchanged when it fits.
#[must_use]
pub fn truncate_middle(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    if width == 1 {
        return "…".to_owned();
    }
    let budget = width - 1; // room for the ellipsis
    let tail_budget = budget / 2 + budget % 2; // the port end matters more
    let head_budget = budget - tail_budget;
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > head_budget {
            break;
        }
        used += w;
        head.push(c);
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used_tail = 0;
    for c in s.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used_tail + w > tail_budget {
            break;
        }
        used_tail += w;
        tail.push(c);
    }
    tail.reverse();
    let mut out = head;
    out.push('…');
    out.extend(tail);
    out
}

/// Shorten `s` to at most `width` columns by cutting its end (`…` marks the cut).
#[must_use]
pub fn truncate_end(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Word-wrap `s` into lines of at most `width` columns (unicode-width aware). Words longer
/// than a line are cut hard, so every word is shown in full across lines; never returns an
/// empty vector (an empty string gives one empty line).
///
/// Hand-written rather than `textwrap`: `textwrap` measures a word as the sum of its chars'
/// widths and skips ANSI escapes, while this measures with `unicode-width`'s string width like
/// every other width in the UI (`"ok 👍🏽"` is 5 columns here, 7 for `textwrap`, which moves the
/// emoji to its own line). The dialog's hanging-indent wrapper (`ui::dialog`) is kept apart for
/// the same reason plus its own contract: it keeps the text's spaces as given.
#[must_use]
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut used = 0usize;
    for word in s.split_whitespace() {
        let ww = word.width();
        let sep = usize::from(!line.is_empty());
        if used + sep + ww <= width {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            used += sep + ww;
            continue;
        }
        if !line.is_empty() {
            out.push(std::mem::take(&mut line));
            used = 0;
        }
        if ww <= width {
            line.push_str(word);
            used = ww;
            continue;
        }
        // A word longer than the line: cut it into line-sized pieces.
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width && !line.is_empty() {
                out.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// [`wrap`] into at most `max_lines` lines; the last kept line ends with `…` when text was
/// left out.
#[must_use]
pub fn wrap_max(s: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(s, width);
    if max_lines > 0 && lines.len() > max_lines {
        let rest = lines.split_off(max_lines - 1).join(" ");
        lines.push(truncate_end(&format!("{rest} …"), width));
        if let Some(last) = lines.last_mut()
            && !last.ends_with('…')
        {
            *last = truncate_end(last, width.saturating_sub(1));
            last.push('…');
        }
    }
    lines
}

/// Bytes as `12.3M` (binary units).
#[must_use]
pub fn human_bytes(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.1}K", f / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.1}M", f / (1024.0 * 1024.0))
    } else {
        format!("{:.1}G", f / (1024.0 * 1024.0 * 1024.0))
    }
}

/// An age in milliseconds as `850ms`, `12s`, `3m04s`, `2h05m`.
#[must_use]
pub fn human_age_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{}s", ms / 1000)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// Wall-clock `HH:MM:SS` (UTC) of a Unix time in ms.
#[must_use]
pub fn clock_hms(unix_ms: u64) -> String {
    let s = unix_ms / 1000;
    format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("10.0.0.12:6379", 20, "10.0.0.12:6379")]
    #[case("10.0.0.12:6379", 10, "10.0…:6379")]
    #[case("10.0.0.12:6379", 1, "…")]
    #[case("10.0.0.12:6379", 0, "")]
    #[case("ab", 2, "ab")]
    #[case("日本語のホスト:7000", 10, "日本…:7000")]
    fn middle(#[case] s: &str, #[case] w: usize, #[case] want: &str) {
        let got = truncate_middle(s, w);
        assert_eq!(got, want);
        assert!(got.width() <= w);
    }

    #[test]
    fn middle_never_exceeds_width() {
        let s = "2001:db8::1234:5678:9abc:def0:7000";
        for w in 0..40 {
            assert!(truncate_middle(s, w).width() <= w, "w={w}");
            assert!(truncate_end(s, w).width() <= w, "w={w}");
        }
    }

    #[rstest]
    #[case("", 10, vec![""])]
    #[case("a bc def", 4, vec!["a bc", "def"])]
    #[case("master 127.0.0.1:31001 failed", 12, vec!["master", "127.0.0.1:31", "001 failed"])]
    #[case("abcdefgh", 3, vec!["abc", "def", "gh"])]
    fn wraps(#[case] s: &str, #[case] w: usize, #[case] want: Vec<&str>) {
        let got = wrap(s, w);
        assert_eq!(got, want);
        assert!(got.iter().all(|l| l.width() <= w));
    }

    #[test]
    fn wrap_keeps_every_word_and_wrap_max_marks_the_cut() {
        let s = "CLUSTER DOWN: 5462 slots (10922-16383) not served: master 127.0.0.1:35365 failed and has no replica";
        for w in 5..90 {
            let lines = wrap(s, w);
            assert!(lines.iter().all(|l| l.width() <= w), "w={w}");
            assert_eq!(
                lines.join(" ").replace(' ', "").len(),
                s.replace(' ', "").len(),
                "w={w}"
            );
            let two = wrap_max(s, w, 2);
            assert!(
                two.len() <= 2 && two.iter().all(|l| l.width() <= w),
                "w={w}: {two:?}"
            );
            if lines.len() > 2 {
                assert!(two[1].ends_with('…'), "w={w}: {two:?}");
            } else {
                assert_eq!(two, lines);
            }
        }
    }

    #[rstest]
    #[case(999, "999")]
    #[case(12_345, "12.3k")]
    #[case(2_500_000, "2.5M")]
    fn counts(#[case] n: u64, #[case] want: &str) {
        assert_eq!(human_count(n), want);
    }

    #[test]
    fn ages() {
        assert_eq!(human_age_ms(850), "850ms");
        assert_eq!(human_age_ms(12_400), "12s");
        assert_eq!(human_age_ms(184_000), "3m04s");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0M");
        assert_eq!(clock_hms(3_723_000), "01:02:03");
    }
}
