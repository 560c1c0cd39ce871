//! Append refreshes to a recording: one JSON line each, compressed as they come, flushed
//! after every refresh (a gzip sync flush) so that a recorder that is killed leaves every
//! refresh but the one being written readable up to that point.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::RecordedRefresh;
use super::format::{Deltas, Field, Header, WireNode, WireRefresh};

/// Bytes written through it, counted.
#[derive(Debug)]
pub struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What writing one refresh cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// The JSON line, uncompressed, in bytes.
    pub line_bytes: u64,
    /// Compressed bytes added to the file.
    pub file_bytes: u64,
}

/// A recording being written.
#[derive(Debug)]
pub struct Writer<W: Write> {
    enc: GzEncoder<Counting<W>>,
    deltas: Deltas,
    refreshes: u64,
}

impl Writer<BufWriter<File>> {
    /// Create (or replace) the file at `path` and write the header.
    ///
    /// # Errors
    /// The file cannot be created or written.
    pub fn create(path: &Path, header: &Header) -> io::Result<Self> {
        Self::new(BufWriter::new(File::create(path)?), header)
    }
}

impl<W: Write> Writer<W> {
    /// Start a recording on `out` with its header line.
    ///
    /// # Errors
    /// Writing failed.
    pub fn new(out: W, header: &Header) -> io::Result<Self> {
        let mut w = Self {
            enc: GzEncoder::new(
                Counting {
                    inner: out,
                    bytes: 0,
                },
                Compression::best(),
            ),
            deltas: Deltas::default(),
            refreshes: 0,
        };
        w.line(header)?;
        Ok(w)
    }

    /// Refreshes written so far.
    #[must_use]
    pub fn refreshes(&self) -> u64 {
        self.refreshes
    }

    /// Compressed bytes in the file so far.
    #[must_use]
    pub fn file_bytes(&self) -> u64 {
        self.enc.get_ref().bytes
    }

    /// Append one refresh and flush it to the file.
    ///
    /// # Errors
    /// Writing failed.
    pub fn write(&mut self, r: &RecordedRefresh) -> io::Result<Written> {
        let wire = self.encode(r);
        let before = self.file_bytes();
        let line_bytes = self.line(&wire)?;
        self.refreshes += 1;
        Ok(Written {
            line_bytes,
            file_bytes: self.file_bytes() - before,
        })
    }

    /// End the compressed stream and return the output.
    ///
    /// # Errors
    /// Writing failed.
    pub fn finish(self) -> io::Result<W> {
        let mut out = self.enc.finish()?.inner;
        out.flush()?;
        Ok(out)
    }

    fn line<T: serde::Serialize>(&mut self, v: &T) -> io::Result<u64> {
        let mut buf = serde_json::to_vec(v).map_err(io::Error::other)?;
        buf.push(b'\n');
        self.enc.write_all(&buf)?;
        self.enc.flush()?;
        Ok(buf.len() as u64)
    }

    fn encode(&mut self, r: &RecordedRefresh) -> WireRefresh {
        let nodes = r
            .nodes
            .iter()
            .map(|n| {
                let raw = &n.raw;
                let ep = &raw.endpoint;
                let mut w = WireNode {
                    endpoint: ep.clone(),
                    observed_at_ms: raw.observed_at_ms,
                    rtt_us: raw.rtt_us,
                    failed: None,
                    cluster_nodes: None,
                    cluster_info: None,
                    info: None,
                    config: None,
                    slot_keys: n.slot_keys.clone(),
                    census: n.census.as_ref().map(|c| self.deltas.encode_census(ep, c)),
                    slot_migrations: None,
                };
                match &raw.replies {
                    Err(e) => w.failed = Some(e.clone()),
                    Ok(rep) => {
                        let d = &mut self.deltas;
                        let at = raw.observed_at_ms;
                        w.cluster_nodes =
                            Some(d.encode_text(ep, Field::ClusterNodes, &rep.cluster_nodes, at));
                        w.cluster_info =
                            Some(d.encode_text(ep, Field::ClusterInfo, &rep.cluster_info, at));
                        w.info = Some(d.encode_text(ep, Field::Info, &rep.info, at));
                        w.config = Some(d.encode_config(ep, &rep.config));
                        w.slot_migrations.clone_from(&rep.slot_migrations);
                    }
                }
                w
            })
            .collect();
        WireRefresh {
            started_at_ms: r.started_at_ms,
            finished_at_ms: r.finished_at_ms,
            seeds: r.seeds.clone(),
            nodes,
        }
    }
}
