//! Load a recording. Every way a file can be wrong (not a recording, a newer format, cut
//! short, a damaged line) is a [`RecordError`] that says which, never a panic.

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::GzDecoder;

use super::format::{Deltas, FORMAT, Field, Header, VERSION, WireNode, WireRefresh};
use super::{RecordedNode, RecordedRefresh, Recording};
use crate::refresh::capture::{RawNode, RawReplies};

/// Longest line read (a refresh of a 1000-node cluster is far below).
pub const MAX_LINE_BYTES: u64 = 512 * 1024 * 1024;

/// Why a recording cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file cannot be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// Not a gzip file, or its first line is not a slotscope recording header.
    #[error("not a slotscope recording: {0}")]
    NotRecording(String),
    /// Written by a newer slotscope in a format this one does not know.
    #[error(
        "the recording has format version {found}, newer than this slotscope reads ({VERSION}); \
         replay it with slotscope {by} or newer"
    )]
    Newer {
        /// The file's version.
        found: u32,
        /// The slotscope that wrote it.
        by: String,
    },
    /// The compressed stream ends early (the recorder was killed, or the file was cut).
    #[error(
        "the recording is truncated after {complete} complete refresh(es): the compressed \
         stream ends early ({reason})"
    )]
    Truncated {
        /// Refreshes read before the end.
        complete: usize,
        /// What the decompressor said.
        reason: String,
    },
    /// A line that cannot be decoded.
    #[error("the recording is damaged at line {line}: {reason}")]
    Corrupt {
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Open and read the recording at `path`.
///
/// # Errors
/// See [`RecordError`].
pub fn open(path: &Path) -> Result<Recording, RecordError> {
    let f = std::fs::File::open(path).map_err(|source| RecordError::Open {
        path: path.to_owned(),
        source,
    })?;
    read(f)
}

/// Read a whole recording from a gzip-compressed stream.
///
/// # Errors
/// See [`RecordError`].
pub fn read(input: impl Read) -> Result<Recording, RecordError> {
    let mut lines = BufReader::new(GzDecoder::new(input));
    let mut buf = String::new();
    let header = match next_line(&mut lines, &mut buf) {
        Ok(true) => parse_header(&buf)?,
        Ok(false) => return Err(RecordError::NotRecording("the file is empty".into())),
        Err(e) => return Err(RecordError::NotRecording(e.to_string())),
    };
    let mut deltas = Deltas::default();
    let mut refreshes = Vec::new();
    loop {
        match next_line(&mut lines, &mut buf) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if is_truncation(&e) => {
                return Err(RecordError::Truncated {
                    complete: refreshes.len(),
                    reason: e.to_string(),
                });
            }
            Err(e) => {
                return Err(RecordError::Corrupt {
                    line: refreshes.len() + 2,
                    reason: e.to_string(),
                });
            }
        }
        let line = refreshes.len() + 2;
        if buf.trim().is_empty() {
            continue;
        }
        if !buf.ends_with('\n') {
            return Err(RecordError::Truncated {
                complete: refreshes.len(),
                reason: "the last line is incomplete".into(),
            });
        }
        let wire: WireRefresh = serde_json::from_str(&buf).map_err(|e| RecordError::Corrupt {
            line,
            reason: e.to_string(),
        })?;
        let r =
            decode(&mut deltas, wire).map_err(|reason| RecordError::Corrupt { line, reason })?;
        refreshes.push(r);
    }
    Ok(Recording { header, refreshes })
}

fn next_line(r: &mut impl BufRead, buf: &mut String) -> io::Result<bool> {
    buf.clear();
    let n = r.take(MAX_LINE_BYTES).read_line(buf)?;
    if n as u64 >= MAX_LINE_BYTES && !buf.ends_with('\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a line is longer than {MAX_LINE_BYTES} bytes"),
        ));
    }
    Ok(n > 0)
}

fn is_truncation(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::UnexpectedEof
}

fn parse_header(line: &str) -> Result<Header, RecordError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        format: Option<String>,
        version: Option<u32>,
        slotscope: Option<String>,
    }
    let probe: Probe = serde_json::from_str(line)
        .map_err(|e| RecordError::NotRecording(format!("the first line is not a header: {e}")))?;
    if probe.format.as_deref() != Some(FORMAT) {
        return Err(RecordError::NotRecording(format!(
            "the first line does not say format \"{FORMAT}\""
        )));
    }
    let version = probe.version.unwrap_or(0);
    if version > VERSION {
        return Err(RecordError::Newer {
            found: version,
            by: probe.slotscope.unwrap_or_else(|| "(unknown)".into()),
        });
    }
    if version == 0 {
        return Err(RecordError::NotRecording(
            "the header has no version".into(),
        ));
    }
    serde_json::from_str(line).map_err(|e| RecordError::Corrupt {
        line: 1,
        reason: e.to_string(),
    })
}

fn decode(deltas: &mut Deltas, wire: WireRefresh) -> Result<RecordedRefresh, String> {
    let nodes = wire
        .nodes
        .into_iter()
        .map(|n| decode_node(deltas, n))
        .collect::<Result<_, _>>()?;
    Ok(RecordedRefresh {
        started_at_ms: wire.started_at_ms,
        finished_at_ms: wire.finished_at_ms,
        seeds: wire.seeds,
        nodes,
    })
}

fn decode_node(deltas: &mut Deltas, n: WireNode) -> Result<RecordedNode, String> {
    let ep = n.endpoint;
    let census = n
        .census
        .as_ref()
        .map(|c| deltas.decode_census(&ep, c))
        .transpose()?;
    let replies = if let Some(e) = n.failed {
        Err(e)
    } else {
        let mut text = |field: Field, w: Option<&super::format::WireText>| {
            let w = w.ok_or_else(|| format!("{ep}: no {field:?} and no failure"))?;
            deltas.decode_text(&ep, field, w, n.observed_at_ms)
        };
        let cluster_nodes = text(Field::ClusterNodes, n.cluster_nodes.as_ref())?;
        let cluster_info = text(Field::ClusterInfo, n.cluster_info.as_ref())?;
        let info = text(Field::Info, n.info.as_ref())?;
        let config = match &n.config {
            Some(c) => deltas.decode_config(&ep, c)?,
            None => Vec::new(),
        };
        Ok(RawReplies {
            cluster_nodes,
            cluster_info,
            info,
            config,
            slot_migrations: n.slot_migrations,
            access: crate::cluster::access::Access::default(),
        })
    };
    Ok(RecordedNode {
        raw: Arc::new(RawNode {
            endpoint: ep,
            observed_at_ms: n.observed_at_ms,
            rtt_us: n.rtt_us,
            replies,
        }),
        slot_keys: n.slot_keys,
        census,
    })
}
