//! Secrets out of logs and messages: commands as loggable text with credentials masked, and
//! error messages with the password replaced.

use super::guard::command_name;
use crate::refresh::target::Secret;

/// The command as text for logs, with secrets masked: `AUTH`/`HELLO … AUTH` credentials,
/// `MIGRATE … AUTH pw` / `AUTH2 user pw`, `CONFIG SET requirepass|masterauth …`, and any
/// argument equal to the configured password.
#[must_use]
pub fn redact_args(args: &[String], password: Option<&Secret>) -> String {
    let name = command_name(args);
    let mut out: Vec<String> = args.iter().map(|a| quote_arg(a)).collect();
    let mask = |out: &mut Vec<String>, i: usize| {
        if let Some(a) = out.get_mut(i) {
            "***".clone_into(a);
        }
    };
    match name.as_str() {
        "AUTH" => {
            for i in 1..out.len() {
                mask(&mut out, i);
            }
        }
        "CONFIG SET" => {
            let mut i = 2;
            while i < args.len() {
                let key = args[i].to_ascii_lowercase();
                if key.contains("pass") || key.contains("auth") || key == "masteruser" {
                    mask(&mut out, i + 1);
                }
                i += 2;
            }
        }
        _ => {
            let mut i = 1;
            while i < args.len() {
                match args[i].to_ascii_uppercase().as_str() {
                    "AUTH" if name == "MIGRATE" => {
                        mask(&mut out, i + 1);
                        i += 2;
                    }
                    "AUTH" if name == "HELLO" => {
                        mask(&mut out, i + 1);
                        mask(&mut out, i + 2);
                        i += 3;
                    }
                    "AUTH2" if name == "MIGRATE" => {
                        mask(&mut out, i + 2);
                        i += 3;
                    }
                    _ => i += 1,
                }
            }
        }
    }
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        for (a, o) in args.iter().zip(out.iter_mut()) {
            if a == pw.expose() {
                "***".clone_into(o);
            }
        }
    }
    out.join(" ")
}

fn quote_arg(a: &str) -> String {
    if !a.is_empty() && a.chars().all(|c| c.is_ascii_graphic() && c != '"') {
        a.to_owned()
    } else {
        format!("{a:?}")
    }
}

/// Replace every occurrence of the password in a message by `***`.
#[must_use]
pub fn sanitize(message: &str, password: Option<&Secret>) -> String {
    match password.filter(|p| !p.is_empty()) {
        Some(pw) => message.replace(pw.expose(), "***"),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refresh::conn::tests::args;

    #[test]
    fn redaction_masks_secrets() {
        let pw = Secret::new("hunter2");
        let m = redact_args(
            &args("MIGRATE 127.0.0.1 7001 \"\" 0 5000 REPLACE AUTH hunter2 KEYS a b"),
            None,
        );
        assert_eq!(
            m,
            "MIGRATE 127.0.0.1 7001 \"\" 0 5000 REPLACE AUTH *** KEYS a b"
        );
        let m = redact_args(
            &args("MIGRATE 127.0.0.1 7001 \"\" 0 5000 AUTH2 ops s3cret KEYS a"),
            None,
        );
        assert_eq!(m, "MIGRATE 127.0.0.1 7001 \"\" 0 5000 AUTH2 ops *** KEYS a");
        assert_eq!(redact_args(&args("AUTH ops s3cret"), None), "AUTH *** ***");
        assert_eq!(
            redact_args(&args("CONFIG SET masterauth s3cret maxmemory 1"), None),
            "CONFIG SET masterauth *** maxmemory 1"
        );
        assert_eq!(
            redact_args(&args("HELLO 3 AUTH ops s3cret"), None),
            "HELLO 3 AUTH *** ***"
        );
        assert_eq!(redact_args(&args("SET k hunter2"), Some(&pw)), "SET k ***");
        assert_eq!(
            redact_args(&["SET".into(), "a b".into()], None),
            "SET \"a b\""
        );
    }

    #[test]
    fn sanitize_removes_password() {
        let pw = Secret::new("hunter2");
        assert_eq!(sanitize("bad hunter2 here", Some(&pw)), "bad *** here");
        assert_eq!(sanitize("x", None), "x");
    }
}
