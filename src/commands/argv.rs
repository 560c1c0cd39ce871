//! Passwords out of the process's visible arguments.
//!
//! On Linux `/proc/<pid>/cmdline` (what `ps` shows) is readable by every user, while
//! `/proc/<pid>/environ` is readable only by the process's owner. Safe Rust cannot rewrite the
//! argument memory in place, so when a password was given on the command line (`-a`, `--pass`,
//! or a `redis://user:password@…` seed or `-u` URI) the binary executes itself again at once
//! with the password removed from the arguments and handed over in the environment variable
//! [`ARGV_AUTH_ENV`]. The first process image lives for the few milliseconds before `exec`;
//! `REDISCLI_AUTH` or `--askpass` never expose the password at all.
//!
//! [`scrub`] is pure (arguments in, arguments out) so it can be tested and fuzzed alone.

use std::ffi::{OsStr, OsString};

use crate::refresh::target::parse_seed;

/// The environment variable that carries a password removed from the arguments to the
/// re-executed process. Only slotscope itself sets it.
pub const ARGV_AUTH_ENV: &str = "SLOTSCOPE_ARGV_AUTH";

/// redis-cli's warning for a password on the command line, printed on stderr unless
/// `--no-auth-warning` is given.
pub const UNSAFE_PASSWORD_WARNING: &str = "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.";

/// Arguments with the password taken out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scrubbed {
    /// The arguments without the password (program name first, as given).
    pub args: Vec<OsString>,
    /// The password that was removed.
    pub password: String,
    /// Whether it came from `-a`/`--pass` or `-u` (redis-cli warns for those).
    pub warn: bool,
}

/// Remove the password from the command line: `-a PW`, `-aPW`, `-a=PW`, `--pass PW`,
/// `--pass=PW`, and the password part of any `redis://` / `rediss://` URL (a seed or the value
/// of `-u`). Returns `None` when no password is on the command line, or when two different
/// passwords are (the normal parser then reports the conflict). Arguments after `--` are
/// scanned too: seeds may follow it.
#[must_use]
pub fn scrub(args: &[OsString]) -> Option<Scrubbed> {
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut found: Option<String> = None;
    let mut warn = false;
    let mut conflict = false;
    let mut keep = |pw: String, found: &mut Option<String>| match found {
        Some(f) if *f != pw => conflict = true,
        _ => *found = Some(pw),
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let Some(s) = arg.to_str() else {
            out.push(arg.clone());
            i += 1;
            continue;
        };
        if i > 0 && (s == "-a" || s == "--pass") {
            if let Some(v) = args.get(i + 1).and_then(|v| v.to_str()) {
                keep(v.to_owned(), &mut found);
                warn = true;
                i += 2;
                continue;
            }
        } else if i > 0
            && let Some(v) = inline_pass(s)
        {
            keep(v.to_owned(), &mut found);
            warn = true;
            i += 1;
            continue;
        }
        if let Some((url, pw)) = url_without_password(s) {
            keep(pw, &mut found);
            if out
                .last()
                .and_then(|a| a.to_str())
                .is_some_and(|a| a == "-u")
            {
                warn = true;
            }
            out.push(OsString::from(url));
        } else {
            out.push(arg.clone());
        }
        i += 1;
    }
    if conflict {
        return None;
    }
    let password = found?;
    Some(Scrubbed {
        args: out,
        password,
        warn,
    })
}

/// `-aPW`, `-a=PW`, `--pass=PW`: the password.
fn inline_pass(s: &str) -> Option<&str> {
    if let Some(v) = s.strip_prefix("--pass=") {
        return Some(v);
    }
    let v = s.strip_prefix("-a")?;
    if s.starts_with("--") || v.is_empty() {
        return None;
    }
    Some(v.strip_prefix('=').unwrap_or(v))
}

/// A `redis://` or `rediss://` URL that carries a password: the URL without it (the user, if
/// any, stays) and the password. `-u=URL` keeps its `-u=`.
fn url_without_password(s: &str) -> Option<(String, String)> {
    let (prefix, url) = match s.strip_prefix("-u=") {
        Some(u) => ("-u=", u),
        None => ("", s),
    };
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme.to_ascii_lowercase().as_str(), "redis" | "rediss") {
        return None;
    }
    // Parsed as `redis://` whatever the scheme: only the userinfo matters here.
    let (_, _, pw) = parse_seed(&format!("redis://{rest}")).ok()?;
    let pw = pw?;
    let at = rest.rfind('@')?;
    let userinfo = &rest[..at];
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    let tail = &rest[at + 1..];
    let url = if user.is_empty() {
        format!("{prefix}{scheme}://{tail}")
    } else {
        format!("{prefix}{scheme}://{user}@{tail}")
    };
    Some((url, pw.expose().to_owned()))
}

/// Whether `--no-auth-warning` is among the arguments.
#[must_use]
pub fn has_no_auth_warning(args: &[OsString]) -> bool {
    args.iter().any(|a| a == OsStr::new("--no-auth-warning"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn dash_a_and_pass_are_removed() {
        for argv in [
            &["slotscope", "-a", "s3cret", "check", "h:1"][..],
            &["slotscope", "-as3cret", "check", "h:1"],
            &["slotscope", "-a=s3cret", "check", "h:1"],
            &["slotscope", "--pass", "s3cret", "check", "h:1"],
            &["slotscope", "--pass=s3cret", "check", "h:1"],
        ] {
            let s = scrub(&os(argv)).expect("found");
            assert_eq!(s.password, "s3cret");
            assert!(s.warn);
            assert_eq!(s.args, os(&["slotscope", "check", "h:1"]), "{argv:?}");
        }
    }

    #[test]
    fn url_passwords_are_removed_and_users_kept() {
        let s = scrub(&os(&["x", "check", "redis://ops:p%40ss@h:7000/0"])).expect("found");
        assert_eq!(s.password, "p@ss");
        assert!(!s.warn);
        assert_eq!(s.args, os(&["x", "check", "redis://ops@h:7000/0"]));
        let s = scrub(&os(&["x", "-u", "rediss://:pw@h:7000"])).expect("found");
        assert!(s.warn);
        assert_eq!(s.args, os(&["x", "-u", "rediss://h:7000"]));
        let s = scrub(&os(&["x", "-u=redis://:pw@h"])).expect("found");
        assert_eq!(s.args, os(&["x", "-u=redis://h"]));
    }

    #[test]
    fn nothing_to_scrub_or_a_conflict_gives_none() {
        assert_eq!(scrub(&os(&["x", "check", "redis://ops@h:1", "h:2"])), None);
        assert_eq!(scrub(&os(&["x", "--askpass", "--all"])), None);
        assert_eq!(
            scrub(&os(&["x", "-a", "one", "redis://:two@h:1"])),
            None,
            "two passwords: the parser reports it"
        );
        assert_eq!(scrub(&os(&["x", "-a"])), None);
    }
}
