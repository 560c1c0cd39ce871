//! The lines of a recording file (see `docs/recording.md`): one [`Header`], then one
//! [`WireRefresh`] per refresh, each a JSON object on its own line, the whole gzip-compressed.
//!
//! A reply that did not change since the same endpoint's previous record is written as
//! [`WireText::Same`]; one that changed as [`WireText::Edits`] (field-level: the differences
//! of the numbers that changed in a line, [`super::edits`]; version 1 files hold
//! [`WireText::Lines`] instead, still read). The [`Deltas`]
//! state is the same on both sides: the writer uses it to encode, the reader to decode.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::edits::{self, Edits};
use crate::cluster::census::NodeCensus;
use crate::cluster::slots::Slot;
use crate::cluster::types::{Endpoint, ProbeError};
use crate::refresh::capture::{RawConfig, RawError, RawText};

/// The `format` field of the header.
pub const FORMAT: &str = "slotscope-recording";

/// The version this slotscope writes and the newest it reads. Version 2 added
/// [`WireText::Edits`] and stopped writing [`WireText::Lines`]; every version from 1 up is read.
pub const VERSION: u32 = 2;

/// The first line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version ([`VERSION`] when written by this slotscope).
    pub version: u32,
    /// The slotscope version that wrote the file.
    pub slotscope: String,
    /// Unix ms when the recording started.
    pub created_at_ms: u64,
    /// What made it: `record`, `dashboard`, `snapshot`, `drill <name>`.
    #[serde(default)]
    pub source: String,
}

impl Header {
    /// A header for a recording written now by this slotscope.
    #[must_use]
    pub fn new(created_at_ms: u64, source: &str) -> Self {
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            slotscope: env!("CARGO_PKG_VERSION").to_owned(),
            created_at_ms,
            source: source.to_owned(),
        }
    }
}

/// One refresh: every node probed, in the order of the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRefresh {
    /// Unix ms when the refresh started.
    pub started_at_ms: u64,
    /// Unix ms when it finished.
    pub finished_at_ms: u64,
    /// The seeds given.
    pub seeds: Vec<Endpoint>,
    /// One entry per probed endpoint.
    pub nodes: Vec<WireNode>,
}

/// One node's probe in one refresh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireNode {
    /// The endpoint connected to.
    pub endpoint: Endpoint,
    /// Unix ms when the probe completed.
    pub observed_at_ms: u64,
    /// `PING` round trip in µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_us: Option<u64>,
    /// Set when the connection or `PING` failed: then there are no replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<ProbeError>,
    /// `CLUSTER NODES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_nodes: Option<WireText>,
    /// `CLUSTER INFO`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_info: Option<WireText>,
    /// `INFO`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<WireText>,
    /// `CONFIG GET` replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<WireConfig>,
    /// `CLUSTER COUNTKEYSINSLOT` of the slots that needed it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub slot_keys: BTreeMap<Slot, u64>,
    /// The key census of a master.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub census: Option<WireCensus>,
    /// `CLUSTER GETSLOTMIGRATIONS` (Valkey 9+): field/value pairs per job, written whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_migrations: Option<Vec<Vec<(String, String)>>>,
}

/// A text reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireText {
    /// The whole text.
    Text(String),
    /// The same text as this endpoint's previous record of this reply.
    Same,
    /// The previous text with some lines replaced (split on `\n`, same number of lines):
    /// written by version 1 only, still read.
    Lines {
        /// Number of lines.
        len: usize,
        /// `(line index, new line)`, ascending.
        changed: Vec<(usize, String)>,
    },
    /// The previous text with some lines changed, a changed line written as the differences
    /// of its numbers when only numbers changed (version 2).
    Edits(Edits),
    /// The command failed.
    Error(RawError),
}

/// The `CONFIG GET` replies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireConfig {
    /// `(parameter, value or error)` per parameter read.
    Values(Vec<(String, RawConfig)>),
    /// As in this endpoint's previous record.
    Same,
}

/// The key census.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireCensus {
    /// The counts.
    Counted(NodeCensus),
    /// As in this endpoint's previous record.
    Same,
}

/// Why a recorded line cannot be decoded.
pub type DecodeError = String;

/// The last value of every reply of every endpoint: the base of `same` and `lines`.
#[derive(Debug, Default)]
pub struct Deltas {
    last: HashMap<(Endpoint, Field), Last>,
}

/// Which reply of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// `CLUSTER NODES`.
    ClusterNodes,
    /// `CLUSTER INFO`.
    ClusterInfo,
    /// `INFO`.
    Info,
    /// `CONFIG GET`.
    Config,
    /// The census.
    Census,
}

#[derive(Debug)]
enum Last {
    Text(std::sync::Arc<str>),
    Config(Vec<(String, RawConfig)>),
    Census(NodeCensus),
}

impl Deltas {
    /// Encode a text reply against the previous one, and remember it; `base` is the node's
    /// `observed_at_ms` (the reference of [`super::edits`]).
    pub fn encode_text(
        &mut self,
        ep: &Endpoint,
        field: Field,
        reply: &RawText,
        base: u64,
    ) -> WireText {
        let key = (ep.clone(), field);
        let text = match reply {
            Err(e) => {
                self.last.remove(&key);
                return WireText::Error(e.clone());
            }
            Ok(t) => t,
        };
        let wire = match self.last.get(&key) {
            Some(Last::Text(prev)) if **prev == **text => WireText::Same,
            Some(Last::Text(prev)) => edits::encode(prev, text, base)
                .map_or_else(|| WireText::Text(text.clone()), WireText::Edits),
            _ => WireText::Text(text.clone()),
        };
        self.last.insert(key, Last::Text(text.as_str().into()));
        wire
    }

    /// Decode a text reply against the previous one, and remember it; `base` is the node's
    /// `observed_at_ms`.
    ///
    /// # Errors
    /// A `same`, `lines` or `edits` without an earlier text, or edits that do not fit it.
    pub fn decode_text(
        &mut self,
        ep: &Endpoint,
        field: Field,
        wire: &WireText,
        base: u64,
    ) -> Result<RawText, DecodeError> {
        let key = (ep.clone(), field);
        let prev = match self.last.get(&key) {
            Some(Last::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let text: String = match wire {
            WireText::Error(e) => {
                self.last.remove(&key);
                return Ok(Err(e.clone()));
            }
            WireText::Text(t) => t.clone(),
            WireText::Same => prev
                .ok_or_else(|| format!("{field:?} of {ep} is 'same' with no earlier reply"))?
                .to_string(),
            WireText::Lines { len, changed } => {
                let prev = prev.ok_or_else(|| {
                    format!("{field:?} of {ep} has 'lines' with no earlier reply")
                })?;
                let mut lines: Vec<&str> = prev.split('\n').collect();
                if lines.len() != *len {
                    return Err(format!(
                        "{field:?} of {ep}: 'lines' for {len} lines on a reply of {}",
                        lines.len()
                    ));
                }
                for (i, l) in changed {
                    let slot = lines
                        .get_mut(*i)
                        .ok_or_else(|| format!("{field:?} of {ep}: line {i} out of range"))?;
                    *slot = l;
                }
                lines.join("\n")
            }
            WireText::Edits(e) => {
                let prev = prev.ok_or_else(|| {
                    format!("{field:?} of {ep} has 'edits' with no earlier reply")
                })?;
                edits::apply(&prev, e, base).map_err(|why| format!("{field:?} of {ep}: {why}"))?
            }
        };
        self.last.insert(key, Last::Text(text.as_str().into()));
        Ok(Ok(text))
    }

    /// Encode the `CONFIG GET` replies, and remember them.
    pub fn encode_config(&mut self, ep: &Endpoint, config: &[(String, RawConfig)]) -> WireConfig {
        let key = (ep.clone(), Field::Config);
        if let Some(Last::Config(prev)) = self.last.get(&key)
            && prev.as_slice() == config
        {
            return WireConfig::Same;
        }
        self.last.insert(key, Last::Config(config.to_vec()));
        WireConfig::Values(config.to_vec())
    }

    /// Decode the `CONFIG GET` replies.
    ///
    /// # Errors
    /// A `same` with no earlier record.
    pub fn decode_config(
        &mut self,
        ep: &Endpoint,
        wire: &WireConfig,
    ) -> Result<Vec<(String, RawConfig)>, DecodeError> {
        let key = (ep.clone(), Field::Config);
        match wire {
            WireConfig::Values(v) => {
                self.last.insert(key, Last::Config(v.clone()));
                Ok(v.clone())
            }
            WireConfig::Same => match self.last.get(&key) {
                Some(Last::Config(v)) => Ok(v.clone()),
                _ => Err(format!("config of {ep} is 'same' with no earlier record")),
            },
        }
    }

    /// Encode a census, and remember it.
    pub fn encode_census(&mut self, ep: &Endpoint, census: &NodeCensus) -> WireCensus {
        let key = (ep.clone(), Field::Census);
        if let Some(Last::Census(prev)) = self.last.get(&key)
            && prev == census
        {
            return WireCensus::Same;
        }
        self.last.insert(key, Last::Census(census.clone()));
        WireCensus::Counted(census.clone())
    }

    /// Decode a census.
    ///
    /// # Errors
    /// A `same` with no earlier record.
    pub fn decode_census(
        &mut self,
        ep: &Endpoint,
        wire: &WireCensus,
    ) -> Result<NodeCensus, DecodeError> {
        let key = (ep.clone(), Field::Census);
        match wire {
            WireCensus::Counted(c) => {
                self.last.insert(key, Last::Census(c.clone()));
                Ok(c.clone())
            }
            WireCensus::Same => match self.last.get(&key) {
                Some(Last::Census(c)) => Ok(c.clone()),
                _ => Err(format!("census of {ep} is 'same' with no earlier record")),
            },
        }
    }
}
