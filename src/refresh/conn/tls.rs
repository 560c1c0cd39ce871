//! TLS to every node with rustls (no OpenSSL): redis-cli's `--tls`, `--cacert`,
//! `--cacertdir`, `--cert`, `--key`, `--sni` and `--insecure`.
//!
//! slotscope makes the TCP connection and the TLS handshake itself and hands the encrypted
//! stream to redis-rs ([`MultiplexedConnection::new_with_config`]): that way the server name
//! (`--sni`), a directory of CAs and the classification of certificate failures (unknown CA,
//! name mismatch, expired) are under our control, and every node, the executor and the census
//! share one [`TlsConfig`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};

use crate::cluster::types::{Endpoint, ProbeError};

/// The TLS settings as given (paths and flags), for messages and `redis-cli` lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// CA certificates (PEM) to trust instead of the system's.
    pub cacert: Option<PathBuf>,
    /// A directory of CA certificates (PEM files) to trust.
    pub cacertdir: Option<PathBuf>,
    /// Client certificate (PEM) for servers that require one.
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub key: Option<PathBuf>,
    /// Server name to send and verify instead of the node's host.
    pub sni: Option<String>,
    /// Skip certificate verification (shown as a warning in the header).
    pub insecure: bool,
}

impl TlsOptions {
    /// The flags that give a `redis-cli` these settings (`--tls --cacert …`).
    #[must_use]
    pub fn redis_cli_flags(&self) -> String {
        let mut s = String::from("--tls");
        let mut path = |flag: &str, p: &Option<PathBuf>| {
            if let Some(p) = p {
                s.push_str(&format!(" {flag} {}", shell_word(&p.display().to_string())));
            }
        };
        path("--cacert", &self.cacert);
        path("--cacertdir", &self.cacertdir);
        path("--cert", &self.cert);
        path("--key", &self.key);
        if let Some(n) = &self.sni {
            s.push_str(&format!(" --sni {}", shell_word(n)));
        }
        if self.insecure {
            s.push_str(" --insecure");
        }
        s
    }
}

fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The built client configuration, shared by every connection.
#[derive(Clone)]
pub struct TlsConfig {
    /// What was asked for.
    pub options: TlsOptions,
    config: Arc<ClientConfig>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PartialEq for TlsConfig {
    fn eq(&self, other: &Self) -> bool {
        self.options == other.options
    }
}

impl TlsConfig {
    /// Read the certificates and keys and build the rustls configuration.
    ///
    /// # Errors
    /// A file that cannot be read or holds no usable PEM, a certificate without its key.
    pub fn build(options: TlsOptions) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = if options.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        } else {
            builder.with_root_certificates(roots(&options)?)
        };
        let config = match (&options.cert, &options.key) {
            (Some(cert), Some(key)) => {
                let chain = read_certs(cert)?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| format!("TLS: no private key in {}: {e}", key.display()))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("TLS: the client certificate and key: {e}"))?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err("TLS: --cert and --key go together".to_owned()),
        };
        Ok(Self {
            options,
            config: Arc::new(config),
        })
    }

    /// Connect to `target` (the announced `ep`, remapped) and run the TLS handshake, within
    /// `connect_timeout` as a whole; the caller starts the redis-rs connection on the stream.
    /// The certificate is checked against `--sni`, else `ep`'s host (the announced address, or
    /// its hostname under `--prefer-hostname`): it belongs to the node, not to the tunnel in
    /// front of it.
    ///
    /// Also returns whether the node asked for a client certificate.
    ///
    /// # Errors
    /// The classified failure; certificate problems say which (unknown CA, name mismatch,
    /// expired).
    pub async fn handshake(
        &self,
        ep: &Endpoint,
        target: &Endpoint,
        connect_timeout: std::time::Duration,
    ) -> Result<(tokio_rustls::client::TlsStream<tokio::net::TcpStream>, bool), ProbeError> {
        let name = self.options.sni.clone().unwrap_or_else(|| ep.host.clone());
        let server_name = ServerName::try_from(name.clone())
            .map_err(|_| ProbeError::ConnectFailed(format!("TLS: invalid server name `{name}`")))?;
        let (config, asked) = super::client_cert::recording(&self.config);
        let connector = tokio_rustls::TlsConnector::from(config);
        let deadline = tokio::time::Instant::now() + connect_timeout;
        let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port));
        let tcp = match tokio::time::timeout_at(deadline, tcp).await {
            Err(_) => return Err(ProbeError::ConnectTimeout),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(ProbeError::ConnectFailed("connection refused".into()));
            }
            Ok(Err(e)) => return Err(ProbeError::ConnectFailed(e.to_string())),
            Ok(Ok(t)) => t,
        };
        let _ = tcp.set_nodelay(true);
        let stream =
            match tokio::time::timeout_at(deadline, connector.connect(server_name, tcp)).await {
                Err(_) => {
                    return Err(ProbeError::ConnectFailed(
                        "TLS handshake: no answer within the connect timeout (a plain-text port? \
                     drop --tls)"
                            .to_owned(),
                    ));
                }
                Ok(Err(e)) => return Err(ProbeError::ConnectFailed(describe_tls_error(&e, &name))),
                Ok(Ok(s)) => s,
            };
        Ok((stream, asked.asked()))
    }
}

/// The trust roots: `--cacert`, every PEM file of `--cacertdir`, else the system's.
fn roots(options: &TlsOptions) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let mut files: Vec<PathBuf> = options.cacert.iter().cloned().collect();
    if let Some(dir) = &options.cacertdir {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("TLS: cannot read --cacertdir {}: {e}", dir.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        files.extend(found);
    }
    if files.is_empty() {
        let native = rustls_native_certs::load_native_certs();
        for c in native.certs {
            let _ = store.add(c);
        }
        if store.is_empty() {
            return Err(
                "TLS: no system CA certificates found; give --cacert FILE or --cacertdir DIR"
                    .to_owned(),
            );
        }
        return Ok(store);
    }
    for f in &files {
        // A directory may hold other files (hash links, keys): take what parses.
        let certs = CertificateDer::pem_file_iter(f)
            .map(|it| it.filter_map(Result::ok).collect::<Vec<_>>())
            .unwrap_or_default();
        for c in certs {
            let _ = store.add(c);
        }
    }
    if store.is_empty() {
        let what = files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(format!("TLS: no CA certificate could be read from {what}"));
    }
    Ok(store)
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("TLS: cannot read {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("TLS: bad certificate in {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("TLS: no certificate in {}", path.display()));
    }
    Ok(certs)
}

/// One line for a failed handshake, naming the reason.
#[must_use]
pub fn describe_tls_error(e: &std::io::Error, name: &str) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            CertificateError::UnknownIssuer => {
                "TLS: certificate signed by an unknown CA (give the cluster's CA with --cacert)"
                    .to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "TLS: certificate name mismatch: the certificate is not valid for `{name}` \
                     (use --sni NAME for the name it carries)"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "TLS: certificate expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "TLS: certificate not valid yet (check the clocks)".to_owned()
            }
            CertificateError::Revoked => "TLS: certificate revoked".to_owned(),
            other => format!("TLS: invalid certificate: {other:?}"),
        },
        Some(rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. }) => {
            "TLS handshake failed: the server does not speak TLS on this port (a plain-text \
             port? drop --tls)"
                .to_owned()
        }
        Some(rustls::Error::AlertReceived(a)) => {
            format!(
                "TLS: the server refused the handshake ({a:?}; a client certificate needed? give --cert and --key)"
            )
        }
        Some(other) => format!("TLS: {other}"),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "TLS handshake failed: the server closed the connection (a plain-text port? drop --tls)"
                .to_owned()
        }
        None => format!("TLS: {e}"),
    }
}

/// A plain-text connection that the server reset or closed at once: most likely a TLS port.
/// The message gets a hint.
#[must_use]
pub fn plain_text_hint(e: ProbeError) -> ProbeError {
    match e {
        ProbeError::ConnectFailed(m) => {
            let lower = m.to_ascii_lowercase();
            if lower.contains("reset by peer")
                || lower.contains("connection closed")
                || lower.contains("broken pipe")
                || lower.contains("unexpected end")
            {
                ProbeError::ConnectFailed(format!("{m} (if this is a TLS port, use --tls)"))
            } else {
                ProbeError::ConnectFailed(m)
            }
        }
        other => other,
    }
}

/// [`plain_text_hint`] for the first command on a fresh plain-text connection.
#[must_use]
pub fn plain_text_hint_command(e: super::CommandError) -> super::CommandError {
    match e {
        super::CommandError::Io(m) => match plain_text_hint(ProbeError::ConnectFailed(m)) {
            ProbeError::ConnectFailed(m) => super::CommandError::Io(m),
            _ => unreachable!("plain_text_hint keeps the variant"),
        },
        other => other,
    }
}

/// `--insecure`: accept any certificate (signatures are still checked by the provider).
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_cli_flags_carry_every_setting() {
        let o = TlsOptions {
            cacert: Some("/etc/ssl/ca.pem".into()),
            sni: Some("redis.internal".into()),
            insecure: true,
            ..TlsOptions::default()
        };
        assert_eq!(
            o.redis_cli_flags(),
            "--tls --cacert /etc/ssl/ca.pem --sni redis.internal --insecure"
        );
        assert_eq!(TlsOptions::default().redis_cli_flags(), "--tls");
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let e = TlsConfig::build(TlsOptions {
            cacert: Some("/nonexistent/ca.pem".into()),
            ..TlsOptions::default()
        })
        .unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let e = TlsConfig::build(TlsOptions {
            cert: Some("/x".into()),
            insecure: true,
            ..TlsOptions::default()
        })
        .unwrap_err();
        assert!(e.contains("--cert and --key"), "{e}");
    }
}
