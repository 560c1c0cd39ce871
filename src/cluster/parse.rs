//! Parsers for `CLUSTER NODES`, `CLUSTER INFO` and `INFO` text. Pure; never panic on any input.

use std::fmt;

use super::types::{ClusterInfo, ClusterNodes, NodeLine, ServerInfo};

/// A reply that could not be parsed: which line and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parse a whole `CLUSTER NODES` reply.
///
/// # Errors
/// Any malformed line.
pub fn parse_cluster_nodes(text: &str) -> Result<ClusterNodes, ParseError> {
    let _ = text;
    Err(ParseError {
        line: 0,
        message: "not implemented".into(),
    })
}

/// Parse one `CLUSTER NODES` line.
///
/// # Errors
/// A malformed line.
pub fn parse_node_line(line: &str) -> Result<NodeLine, ParseError> {
    let _ = line;
    Err(ParseError {
        line: 0,
        message: "not implemented".into(),
    })
}

/// Parse a `CLUSTER INFO` reply.
///
/// # Errors
/// Missing `cluster_state` or malformed numbers.
pub fn parse_cluster_info(text: &str) -> Result<ClusterInfo, ParseError> {
    let _ = text;
    Err(ParseError {
        line: 0,
        message: "not implemented".into(),
    })
}

/// Parse an `INFO` reply (any sections). Unknown fields are ignored.
#[must_use]
pub fn parse_info(text: &str) -> ServerInfo {
    let _ = text;
    ServerInfo::default()
}
