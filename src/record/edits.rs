//! Field-level edits of a text reply against the same endpoint's previous one (format
//! version 2, `docs/recording.md`).
//!
//! Both texts are split on `\n`. A line of the new text that differs from the line at the same
//! place in the previous text is one [`LineEdit`]: when the two lines differ only in numbers
//! (tokens of ASCII digits between the separators of [`is_separator`], such as the ping and
//! pong times of a `CLUSTER NODES` line or an `INFO` counter), the edit holds the differences
//! of the numbers that changed; otherwise the whole new line. A number that changes from or
//! to 0 (the ping time of a `CLUSTER NODES` line while a ping is outstanding) is written
//! against the time the reply was read instead, which keeps it a few digits long. Every edit
//! is checked by applying it before it is kept, so a decoded text is always byte for byte the
//! text that was encoded.

use serde::{Deserialize, Serialize};

/// A number token: at most this many digits (so that it and every difference fit an `i64`).
const MAX_DIGITS: usize = 18;

/// The edits of one text: as many lines as the previous text, with some lines changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edits {
    /// Lines of the text (split on `\n`).
    pub len: usize,
    /// The changed lines, in order.
    pub lines: Vec<LineEdit>,
}

/// One changed line. `skip` is the number of unchanged lines since the previous edit (or the
/// start of the text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LineEdit {
    /// `[skip, "the whole new line"]`.
    Whole(usize, String),
    /// `[skip, token, difference, token, difference, …]`: the line with the number at each
    /// token index (0-based, counting every token between separators) increased by the
    /// difference; tokens ascending. A negative token `-(k + 1)` sets token `k` instead: to 0
    /// when its value is 0, else to the base time (the `observed_at_ms` of the reply) minus
    /// the value.
    Numbers(Vec<i64>),
}

/// The characters that separate the tokens of a line.
#[must_use]
pub fn is_separator(c: char) -> bool {
    matches!(c, ' ' | ':' | ',' | '=' | '\r' | '@' | '-' | '.')
}

/// A token's value when it is a number written in its one canonical way (no sign, no leading
/// zero): only such a number is rewritten exactly by formatting its value.
fn number(token: &str) -> Option<i64> {
    let canonical = !token.is_empty()
        && token.len() <= MAX_DIGITS
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    canonical.then(|| token.parse().ok()).flatten()
}

/// The edits that turn `prev` into `new`, when both have as many lines and the edits are
/// smaller than the text; `None` when the whole text should be written instead. `base` is
/// the time the reply was read (Unix ms), which the decoder knows too.
#[must_use]
pub fn encode(prev: &str, new: &str, base: u64) -> Option<Edits> {
    let a: Vec<&str> = prev.split('\n').collect();
    let b: Vec<&str> = new.split('\n').collect();
    if a.len() != b.len() {
        return None;
    }
    let mut lines = Vec::new();
    let mut skip = 0usize;
    let mut cost = 0usize;
    for (x, y) in a.iter().zip(&b) {
        if x == y {
            skip += 1;
            continue;
        }
        let edit = if let Some(n) = numbers(x, y, skip, base) {
            cost += 4 * n.len() + 2;
            LineEdit::Numbers(n)
        } else {
            cost += y.len() + 8;
            LineEdit::Whole(skip, (*y).to_owned())
        };
        lines.push(edit);
        skip = 0;
    }
    (cost < new.len()).then_some(Edits {
        len: b.len(),
        lines,
    })
}

/// `[skip, token, difference, …]` when `new` is `prev` with some numbers changed.
fn numbers(prev: &str, new: &str, skip: usize, at: u64) -> Option<Vec<i64>> {
    let base = i64::try_from(at).ok();
    let a: Vec<&str> = prev.split(is_separator).collect();
    let b: Vec<&str> = new.split(is_separator).collect();
    if a.len() != b.len() {
        return None;
    }
    let mut out = vec![i64::try_from(skip).ok()?];
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        if x != y {
            let (old, new) = (number(x)?, number(y)?);
            let k = i64::try_from(k).ok()?;
            let set = match base {
                _ if new == 0 => Some(0),
                Some(b) if old == 0 && new != b => b.checked_sub(new),
                _ => None,
            };
            match set {
                Some(r) => out.extend([-k - 1, r]),
                None => out.extend([k, new.checked_sub(old)?]),
            }
        }
    }
    (apply_numbers(prev, &out[1..], at).ok()?.as_str() == new).then_some(out)
}

/// `line` with the number at each token index increased by the difference.
fn apply_numbers(line: &str, pairs: &[i64], base: u64) -> Result<String, String> {
    let base = i64::try_from(base).ok();
    if !pairs.len().is_multiple_of(2) {
        return Err("a number edit without its difference".into());
    }
    let mut wanted = pairs.chunks_exact(2).peekable();
    let mut out = String::with_capacity(line.len() + 4);
    let mut last: Option<i64> = None;
    let mut pos = 0usize;
    for (k, token) in line.split(is_separator).enumerate() {
        let k = i64::try_from(k).map_err(|e| e.to_string())?;
        if k > 0 {
            let sep = line[pos..]
                .chars()
                .next()
                .ok_or("a token past the end of the line")?;
            out.push(sep);
            pos += sep.len_utf8();
        }
        pos += token.len();
        match wanted.peek() {
            Some(&[t, d]) if *t == k || (*t < 0 && !*t == k) => {
                if last.is_some_and(|l| l >= k) {
                    return Err("number edits out of order".into());
                }
                last = Some(k);
                let old = number(token)
                    .ok_or_else(|| format!("token {k} ({token:?}) is not a number"))?;
                let v = match (*t < 0, *d) {
                    (false, d) => old.checked_add(d),
                    (true, 0) => Some(0),
                    (true, r) => base.and_then(|b| b.checked_sub(r)),
                };
                let v = v
                    .filter(|v| *v >= 0 && v.to_string().len() <= MAX_DIGITS)
                    .ok_or_else(|| {
                        format!("token {k} ({token:?}) edited by {d} is out of range")
                    })?;
                out.push_str(&v.to_string());
                wanted.next();
            }
            _ => out.push_str(token),
        }
    }
    match wanted.next() {
        Some(p) => Err(format!(
            "token {} is out of order or past the end of the line",
            p[0]
        )),
        None => Ok(out),
    }
}

/// `prev` with `edits` applied; `base` is the time the reply was read (Unix ms).
///
/// # Errors
/// Edits that do not fit `prev` (another number of lines, an edit past the end, a number
/// edit on a token that is not a number).
pub fn apply(prev: &str, edits: &Edits, base: u64) -> Result<String, String> {
    let old: Vec<&str> = prev.split('\n').collect();
    if old.len() != edits.len {
        return Err(format!(
            "edits for {} lines on a reply of {}",
            edits.len,
            old.len()
        ));
    }
    let mut lines: Vec<String> = Vec::with_capacity(old.len());
    for e in &edits.lines {
        let (skip, pairs, whole) = match e {
            LineEdit::Whole(skip, line) => (*skip, &[][..], Some(line)),
            LineEdit::Numbers(v) => {
                let (skip, pairs) = v.split_first().ok_or("an empty number edit")?;
                (
                    usize::try_from(*skip).map_err(|e| e.to_string())?,
                    pairs,
                    None,
                )
            }
        };
        let at = lines.len().saturating_add(skip);
        let line = old.get(at).ok_or("an edit past the last line")?;
        lines.extend(old[lines.len()..at].iter().map(|l| (*l).to_owned()));
        lines.push(match whole {
            Some(w) => w.clone(),
            None => apply_numbers(line, pairs, base)?,
        });
    }
    lines.extend(old[lines.len()..].iter().map(|l| (*l).to_owned()));
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests;
