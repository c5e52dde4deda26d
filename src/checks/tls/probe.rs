//! Handshakes through rustls at one pinned version, with a certificate verifier that records
//! the webpki verdict instead of ending the handshake, and what every version probe shares.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme, SupportedProtocolVersion};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;

use super::legacy::ResponseError;

/// Whether a server negotiated an offered protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionVerdict {
    /// The server completed the hello at this version; `detail` names the cipher suite.
    Accepted { detail: String },
    /// The server did not negotiate this version; `reason` describes how it declined.
    Refused { reason: String },
}

impl VersionVerdict {
    pub fn is_accepted(&self) -> bool {
        matches!(self, VersionVerdict::Accepted { .. })
    }
}

/// A probe that could not tell whether the version is accepted.
#[derive(Debug, thiserror::Error)]
pub enum ProbeFailure {
    #[error("connection refused by {0}")]
    ConnectionRefused(SocketAddr),
    #[error("could not connect to {address}: {source}")]
    Connect {
        address: SocketAddr,
        source: io::Error,
    },
    #[error("timed out")]
    TimedOut,
    #[error("connection failed: {0}")]
    Io(io::Error),
    #[error(transparent)]
    Answer(#[from] ResponseError),
}

/// Opens a TCP connection, giving up at `deadline`.
pub async fn connect(address: SocketAddr, deadline: Instant) -> Result<TcpStream, ProbeFailure> {
    match timeout_at(deadline, TcpStream::connect(address)).await {
        Err(_) => Err(ProbeFailure::TimedOut),
        Ok(Err(err)) if err.kind() == io::ErrorKind::ConnectionRefused => {
            Err(ProbeFailure::ConnectionRefused(address))
        }
        Ok(Err(source)) => Err(ProbeFailure::Connect { address, source }),
        Ok(Ok(stream)) => Ok(stream),
    }
}

/// Names a TLS alert description (RFC 8446 §6, RFC 5246 §7.2), such as 70 → "protocol_version".
pub fn alert_name(description: u8) -> String {
    let name = match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        47 => "illegal_parameter",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        120 => "no_application_protocol",
        other => return format!("{other}"),
    };
    name.to_string()
}

/// A completed or declined rustls handshake at one version.
#[derive(Debug)]
pub struct Handshake {
    pub verdict: VersionVerdict,
    /// The peer's certificates, leaf first, when the handshake completed.
    pub certificates: Vec<CertificateDer<'static>>,
    /// The webpki verdict on the chain for the server name, when the server sent one.
    pub chain_verdict: Option<Result<(), rustls::Error>>,
}

/// Performs one handshake with only `version` enabled and the trust roots of `verifier`.
pub async fn handshake(
    address: SocketAddr,
    server_name: ServerName<'static>,
    version: &'static SupportedProtocolVersion,
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
    deadline: Instant,
) -> Result<Handshake, ProbeFailure> {
    let recorder = Arc::new(RecordingVerifier {
        inner: verifier,
        verdict: Mutex::new(None),
    });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
    {
        Ok(builder) => builder
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth(),
        // The ring provider supports both versions, so this happens only with a provider that
        // lacks every suite of the version.
        Err(err) => {
            return Ok(Handshake {
                verdict: VersionVerdict::Refused {
                    reason: format!("not supported by this client: {err}"),
                },
                certificates: Vec::new(),
                chain_verdict: None,
            });
        }
    };

    let stream = connect(address, deadline).await?;
    let connector = TlsConnector::from(Arc::new(config));
    let result = timeout_at(deadline, connector.connect(server_name, stream))
        .await
        .map_err(|_| ProbeFailure::TimedOut)?;
    let chain_verdict = recorder.take_verdict();
    match result {
        Ok(tls) => {
            let (_, connection) = tls.get_ref();
            let suite = connection
                .negotiated_cipher_suite()
                .and_then(|suite| suite.suite().as_str())
                .unwrap_or("unknown cipher suite");
            let certificates = connection
                .peer_certificates()
                .map(|chain| chain.iter().map(|cert| cert.clone().into_owned()).collect())
                .unwrap_or_default();
            Ok(Handshake {
                verdict: VersionVerdict::Accepted {
                    detail: suite.to_string(),
                },
                certificates,
                chain_verdict,
            })
        }
        Err(err) => Ok(Handshake {
            verdict: VersionVerdict::Refused {
                reason: refusal_reason(err)?,
            },
            certificates: Vec::new(),
            chain_verdict,
        }),
    }
}

/// Explains a failed handshake, or returns the error when it is not the server declining.
fn refusal_reason(err: io::Error) -> Result<String, ProbeFailure> {
    if let Some(tls_error) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return Ok(match tls_error {
            rustls::Error::AlertReceived(alert) => {
                format!("alert {}", alert_name(u8::from(*alert)))
            }
            other => other.to_string(),
        });
    }
    match err.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Ok("the server closed the connection".into()),
        _ => Err(ProbeFailure::Io(err)),
    }
}

/// Records webpki's verdict on the server's chain and lets the handshake go on, so that the
/// protocol versions of a server with a bad certificate can still be probed. Handshake
/// signatures are still verified.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Mutex<Option<Result<(), rustls::Error>>>,
}

impl RecordingVerifier {
    fn take_verdict(&self) -> Option<Result<(), rustls::Error>> {
        match self.verdict.lock() {
            Ok(mut verdict) => verdict.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ());
        match self.verdict.lock() {
            Ok(mut slot) => *slot = Some(verdict),
            Err(poisoned) => *poisoned.into_inner() = Some(verdict),
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
