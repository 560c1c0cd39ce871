//! Client certificates (`--cert`/`--key`, redis' `tls-auth-clients`). In TLS 1.3 a node that
//! requires a client certificate, or does not trust the one sent, completes the handshake and
//! only then closes the connection, so the failure would surface later as a bare "broken
//! pipe". When a node asks for a client certificate during the handshake, the connection is
//! confirmed with a `PING` at once, and a connection that breaks then is reported in words:
//! the node requires a certificate (none was given) or refused the one given.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::ResolvesClientCert;
use rustls::{ClientConfig, SignatureScheme, sign};

use super::{CommandError, NodeConn};
use crate::cluster::types::ProbeError;
use crate::refresh::ConnectOptions;

/// Passes the node's request for a client certificate on, and remembers that it came.
#[derive(Debug)]
pub(super) struct AskRecorder {
    inner: Arc<dyn ResolvesClientCert>,
    asked: AtomicBool,
}

impl AskRecorder {
    /// Whether the node asked for a client certificate.
    pub(super) fn asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed)
    }
}

impl ResolvesClientCert for AskRecorder {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<sign::CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.inner.resolve(root_hint_subjects, sigschemes)
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// A copy of `config` for one handshake that records whether the node asks for a client
/// certificate.
pub(super) fn recording(config: &ClientConfig) -> (Arc<ClientConfig>, Arc<AskRecorder>) {
    let mut config = config.clone();
    let recorder = Arc::new(AskRecorder {
        inner: Arc::clone(&config.client_auth_cert_resolver),
        asked: AtomicBool::new(false),
    });
    config.client_auth_cert_resolver = Arc::clone(&recorder) as Arc<dyn ResolvesClientCert>;
    (Arc::new(config), recorder)
}

/// The node asked for a client certificate: `PING` once, so that a node that rejects it
/// (or its absence) says so now, in words. An error reply (`NOAUTH` before `AUTH`) or a slow
/// node is left to the caller: the TLS session itself stands.
pub(super) async fn confirm(node: &mut NodeConn, opts: &ConnectOptions) -> Result<(), ProbeError> {
    match node
        .send(&["PING".to_owned()], opts, opts.command_timeout)
        .await
    {
        Ok(_) | Err(CommandError::Server { .. } | CommandError::Timeout { .. }) => Ok(()),
        Err(_) => Err(ProbeError::ConnectFailed(refused_words(
            opts.tls.as_ref().is_some_and(|t| t.options.cert.is_some()),
        ))),
    }
}

/// Why a node that asked for a client certificate closed the connection.
fn refused_words(sent: bool) -> String {
    if sent {
        "TLS: the node refused the client certificate (--cert): not signed by a CA it \
         trusts, or expired"
            .to_owned()
    } else {
        "TLS: the node requires a client certificate: give --cert FILE and --key FILE".to_owned()
    }
}
