//! Errors of a command sent to a node, and how server replies and redis-rs failures map to
//! them and to per-node probe errors. Every message is passed through [`sanitize`] first, so
//! the password never shows.

use super::redact::sanitize;
use crate::cluster::types::ProbeError;
use crate::refresh::target::Secret;

/// Why a command could not be run or got no useful reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Read-only mode refused the command before anything was sent.
    #[error("{command} refused: slotscope runs in read-only mode (nothing was sent)")]
    ReadOnlyRefused {
        /// The command name (e.g. `SET`, `CLUSTER SETSLOT`).
        command: String,
    },
    /// No connection could be made (refused, connect timeout, authentication).
    #[error("{0}")]
    Connect(ProbeError),
    /// Connected, but no reply within the command timeout.
    #[error("no reply to {command} within the timeout")]
    Timeout {
        /// The command name.
        command: String,
    },
    /// The connection broke while the command was in flight.
    #[error("connection lost: {0}")]
    Io(String),
    /// The server answered with an error reply.
    #[error("{}", server_line(code, message))]
    Server {
        /// The error code, e.g. `ERR`, `NOAUTH`, `LOADING`, `MOVED`.
        code: String,
        /// The rest of the error line.
        message: String,
    },
    /// The reply could not be understood.
    #[error("unexpected reply: {0}")]
    Protocol(String),
    /// The node sent more than the maximum reply size; the connection was dropped.
    #[error("sending an oversized reply (>{limit} bytes)")]
    Oversized {
        /// The maximum reply size in bytes.
        limit: usize,
    },
}

impl CommandError {
    /// The per-node error this failure means for a probe.
    #[must_use]
    pub fn to_probe_error(&self) -> ProbeError {
        match self {
            Self::ReadOnlyRefused { command } => {
                ProbeError::Other(format!("{command} refused by read-only mode"))
            }
            Self::Connect(p) => p.clone(),
            Self::Timeout { command } => ProbeError::Unresponsive(command.clone()),
            Self::Io(e) => ProbeError::ConnectFailed(e.clone()),
            Self::Server { code, message } => classify_server_error(code, message),
            Self::Protocol(e) => ProbeError::Protocol(e.clone()),
            Self::Oversized { .. } => ProbeError::Other(self.to_string()),
        }
    }

    /// True for failures that say nothing about the command itself but about the link
    /// (the connection is dropped after them).
    #[must_use]
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Self::Connect(_)
                | Self::Timeout { .. }
                | Self::Io(_)
                | Self::Protocol(_)
                | Self::Oversized { .. }
        )
    }
}

/// A server error reply as one line: the code, then the message if there is one.
fn server_line(code: &str, message: &str) -> String {
    if message.is_empty() {
        code.to_owned()
    } else {
        format!("{code} {message}")
    }
}

/// Map a server error reply to a per-node error.
#[must_use]
pub fn classify_server_error(code: &str, message: &str) -> ProbeError {
    let full = server_line(code, message);
    match code {
        "NOAUTH" => ProbeError::AuthRequired,
        "WRONGPASS" => ProbeError::AuthFailed(full),
        "LOADING" => ProbeError::Loading,
        _ => {
            let lower = message.to_ascii_lowercase();
            if lower.contains("cluster support disabled") {
                ProbeError::NotCluster { version: None }
            } else if lower.contains("invalid password")
                || lower.contains("called without any password configured")
                || lower.contains("invalid username-password")
            {
                ProbeError::AuthFailed(full)
            } else {
                ProbeError::Other(full)
            }
        }
    }
}

/// A failed connect as a per-node error.
pub(super) fn classify_connect_error(e: &redis::RedisError, pw: Option<&Secret>) -> ProbeError {
    if e.is_timeout() {
        ProbeError::ConnectTimeout
    } else if e.is_connection_refusal() {
        ProbeError::ConnectFailed("connection refused".into())
    } else if e.is_io_error() {
        ProbeError::ConnectFailed(sanitize(&e.to_string(), pw))
    } else if let (Some(code), detail) = (e.code(), e.detail()) {
        classify_server_error(code, &sanitize(detail.unwrap_or_default(), pw))
    } else {
        ProbeError::ConnectFailed(sanitize(&e.to_string(), pw))
    }
}

/// A failed command as a [`CommandError`].
pub(super) fn classify_command_error(
    e: &redis::RedisError,
    name: &str,
    pw: Option<&Secret>,
) -> CommandError {
    if e.is_timeout() {
        return CommandError::Timeout {
            command: name.to_owned(),
        };
    }
    if matches!(e.kind(), redis::ErrorKind::Server(_))
        && let Some(code) = e.code()
    {
        return CommandError::Server {
            code: code.to_owned(),
            message: sanitize(e.detail().unwrap_or_default(), pw),
        };
    }
    if matches!(e.kind(), redis::ErrorKind::Parse) {
        return CommandError::Protocol(sanitize(&e.to_string(), pw));
    }
    CommandError::Io(sanitize(&e.to_string(), pw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_classified() {
        assert_eq!(
            classify_server_error("NOAUTH", "Authentication required."),
            ProbeError::AuthRequired
        );
        assert!(matches!(
            classify_server_error("WRONGPASS", "invalid username-password pair or user is disabled."),
            ProbeError::AuthFailed(m) if m.starts_with("WRONGPASS")
        ));
        assert!(matches!(
            classify_server_error("ERR", "invalid password"),
            ProbeError::AuthFailed(_)
        ));
        assert_eq!(
            classify_server_error("LOADING", "Redis is loading the dataset in memory"),
            ProbeError::Loading
        );
        assert_eq!(
            classify_server_error("ERR", "This instance has cluster support disabled"),
            ProbeError::NotCluster { version: None }
        );
        assert_eq!(
            classify_server_error("ERR", "unknown command 'CLUSTER'"),
            ProbeError::Other("ERR unknown command 'CLUSTER'".into())
        );
    }

    #[test]
    fn command_errors_map_to_probe_errors() {
        assert_eq!(
            CommandError::Timeout {
                command: "PING".into()
            }
            .to_probe_error(),
            ProbeError::Unresponsive("PING".into())
        );
        assert_eq!(
            CommandError::Connect(ProbeError::ConnectTimeout).to_probe_error(),
            ProbeError::ConnectTimeout
        );
        assert!(CommandError::Io("x".into()).is_connection_error());
        assert!(
            !CommandError::Server {
                code: "ERR".into(),
                message: String::new()
            }
            .is_connection_error()
        );
    }
}
