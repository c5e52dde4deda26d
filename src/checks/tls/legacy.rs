//! Protocol version probes with a ClientHello built by hand, as testssl.sh does. rustls
//! implements neither TLS 1.0 nor TLS 1.1, and offers only AEAD suites at TLS 1.2, so these
//! probes tell whether a server would negotiate a version with any common client.
//!
//! The probe sends one ClientHello record and reads the first record of the response: a
//! ServerHello naming the offered version means the version is accepted, while an alert, a
//! closed connection or a ServerHello with another version means it is refused.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::probe::{ProbeFailure, VersionVerdict, alert_name, connect};

/// Length of a record header: ContentType (1), ProtocolVersion (2), length (2), as laid out in
/// RFC 2246 §6.2.1.
const RECORD_HEADER_LEN: usize = 5;
/// Maximum length of a record body: 2^14 bytes of plaintext plus 2048 bytes of expansion
/// (RFC 2246 §6.2.3).
const MAX_RECORD_LEN: usize = 16384 + 2048;
const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const HANDSHAKE_SERVER_HELLO: u8 = 2;

/// Record-layer version of the ClientHello record. RFC 5246 Appendix E.1 lets a client send any
/// {03,XX} there, and TLS 1.0's value is the one that servers of every version read.
const RECORD_VERSION: u16 = 0x0301;

/// The last 8 bytes of a ServerHello random from a server that supports TLS 1.2 or above but
/// negotiated TLS 1.1 or below: "DOWNGRD" and 0x00 (RFC 8446 §4.1.3).
const DOWNGRADE_SENTINEL_TLS11: [u8; 8] = *b"DOWNGRD\x00";
/// The same for a TLS 1.3 server that negotiated TLS 1.2: "DOWNGRD" and 0x01 (RFC 8446 §4.1.3).
const DOWNGRADE_SENTINEL_TLS12: [u8; 8] = *b"DOWNGRD\x01";

/// CBC suites that OpenSSL offers at TLS 1.0 and 1.1, strongest first, with their IANA names.
// NOTE: a server that allows TLS 1.0 or 1.1 only with other suites (RC4, CAMELLIA, PSK) responds
// with handshake_failure, so the probe reports the version as refused.
const LEGACY_SUITES: &[(u16, &str)] = &[
    (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
];
/// Suites defined only for TLS 1.2 and later, offered before the legacy ones in a TLS 1.2
/// ClientHello.
const TLS12_SUITES: &[(u16, &str)] = &[
    (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
];
/// Tells the server that the client supports secure renegotiation without sending the
/// renegotiation_info extension (RFC 5746 §3.3).
const EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;

const EXTENSION_SERVER_NAME: u16 = 0x0000;
const EXTENSION_SUPPORTED_GROUPS: u16 = 0x000a;
const EXTENSION_EC_POINT_FORMATS: u16 = 0x000b;
const EXTENSION_SIGNATURE_ALGORITHMS: u16 = 0x000d;
/// x25519, secp256r1, secp384r1, secp521r1 (RFC 8422 §5.1.1).
const SUPPORTED_GROUPS: &[u16] = &[0x001d, 0x0017, 0x0018, 0x0019];
/// Signature schemes for TLS 1.2 (RFC 5246 §7.4.1.4.1, RFC 8446 §4.2.3 for the PSS ones):
/// RSA-PSS, ECDSA and RSA PKCS#1 with SHA-256/384/512, then SHA-1.
const SIGNATURE_SCHEMES: &[u16] = &[
    0x0804, 0x0805, 0x0806, 0x0403, 0x0503, 0x0603, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
];

/// The first record a server sent after the ClientHello, as far as the probe reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloResponse {
    ServerHello {
        /// `server_version` of the ServerHello.
        version: u16,
        cipher_suite: u16,
        /// Whether the server random ends in an RFC 8446 downgrade sentinel, which a server
        /// that supports a higher version than the one it negotiated sets.
        downgrade_sentinel: bool,
    },
    Alert {
        description: u8,
    },
    /// The server closed or reset the connection without sending a record.
    Closed,
}

/// Errors of a response that is not TLS or not a well-formed first record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error(
        "the response is not TLS: its first byte is 0x{0:02x}, not a handshake or alert record"
    )]
    NotTls(u8),
    #[error("the response's first record is {0} bytes long, above the TLS maximum of 18432")]
    RecordTooLong(usize),
    #[error("the response's first record is a handshake message of type {0}, not a ServerHello")]
    UnexpectedHandshake(u8),
    #[error("the response's ServerHello is truncated or malformed")]
    Malformed,
}

/// Builds a ClientHello record that offers `version` (0x0301 for TLS 1.0, 0x0302 for TLS 1.1,
/// 0x0303 for TLS 1.2) as its highest version.
///
/// `server_name` is sent in the server_name extension. It must be a DNS name, because the
/// extension cannot carry an IP address (RFC 6066 §3).
pub fn build_client_hello(version: u16, server_name: Option<&str>, random: [u8; 32]) -> Vec<u8> {
    // ClientHello body (RFC 2246 §7.4.1.2, unchanged in RFC 4346 §7.4.1.2):
    //   ProtocolVersion client_version;            2 bytes
    //   Random random;                             32 bytes
    //   SessionID session_id;                      1-byte length, empty here
    //   CipherSuite cipher_suites<2..2^16-1>;      2-byte length, 2 bytes per suite
    //   CompressionMethod compression_methods<1..2^8-1>;  1-byte length, null only
    //   Extension extensions<0..2^16-1>;           2-byte length (RFC 3546 §2.1)
    let mut body = Vec::with_capacity(256);
    put_u16(&mut body, version);
    body.extend_from_slice(&random);
    body.push(0);

    let mut suites: Vec<u16> = Vec::new();
    if version >= 0x0303 {
        suites.extend(TLS12_SUITES.iter().map(|(suite, _)| *suite));
    }
    suites.extend(LEGACY_SUITES.iter().map(|(suite, _)| *suite));
    suites.push(EMPTY_RENEGOTIATION_INFO_SCSV);
    put_u16(&mut body, (suites.len() * 2) as u16);
    for suite in suites {
        put_u16(&mut body, suite);
    }
    body.extend_from_slice(&[1, 0]);

    let extensions = build_extensions(version, server_name);
    put_u16(&mut body, extensions.len() as u16);
    body.extend_from_slice(&extensions);

    // Handshake header (RFC 2246 §7.4): HandshakeType msg_type (1), uint24 length.
    let mut handshake = Vec::with_capacity(body.len() + 4);
    handshake.push(HANDSHAKE_CLIENT_HELLO);
    put_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);

    // Record header (RFC 2246 §6.2.1): ContentType type (1), ProtocolVersion (2), uint16 length.
    let mut record = Vec::with_capacity(handshake.len() + RECORD_HEADER_LEN);
    record.push(CONTENT_HANDSHAKE);
    put_u16(&mut record, RECORD_VERSION);
    put_u16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    record
}

/// Builds the extensions block: each one is ExtensionType (2), then its data with a 2-byte
/// length (RFC 3546 §2.3).
fn build_extensions(version: u16, server_name: Option<&str>) -> Vec<u8> {
    let mut extensions = Vec::new();
    if let Some(name) = server_name {
        // ServerNameList: 2-byte list length, then NameType host_name (0), 2-byte length, name
        // (RFC 6066 §3).
        let name = name.as_bytes();
        let mut data = Vec::with_capacity(name.len() + 5);
        put_u16(&mut data, (name.len() + 3) as u16);
        data.push(0);
        put_u16(&mut data, name.len() as u16);
        data.extend_from_slice(name);
        put_extension(&mut extensions, EXTENSION_SERVER_NAME, &data);
    }

    // NamedGroupList with a 2-byte length (RFC 8422 §5.1.1).
    let mut groups = Vec::new();
    put_u16(&mut groups, (SUPPORTED_GROUPS.len() * 2) as u16);
    for group in SUPPORTED_GROUPS {
        put_u16(&mut groups, *group);
    }
    put_extension(&mut extensions, EXTENSION_SUPPORTED_GROUPS, &groups);

    // ECPointFormatList with a 1-byte length, uncompressed (0) only (RFC 8422 §5.1.2).
    put_extension(&mut extensions, EXTENSION_EC_POINT_FORMATS, &[1, 0]);

    // signature_algorithms exists only from TLS 1.2 on (RFC 5246 §7.4.1.4.1).
    if version >= 0x0303 {
        let mut schemes = Vec::new();
        put_u16(&mut schemes, (SIGNATURE_SCHEMES.len() * 2) as u16);
        for scheme in SIGNATURE_SCHEMES {
            put_u16(&mut schemes, *scheme);
        }
        put_extension(&mut extensions, EXTENSION_SIGNATURE_ALGORITHMS, &schemes);
    }
    extensions
}

fn put_extension(out: &mut Vec<u8>, extension_type: u16, data: &[u8]) {
    put_u16(out, extension_type);
    put_u16(out, data.len() as u16);
    out.extend_from_slice(data);
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, value: usize) {
    let bytes = (value as u32).to_be_bytes();
    out.extend_from_slice(&bytes[1..]);
}

/// Parses the first record of a server's response: its 5-byte header and its body.
pub fn parse_response(content_type: u8, body: &[u8]) -> Result<HelloResponse, ResponseError> {
    match content_type {
        // Alert: AlertLevel (1), AlertDescription (1) (RFC 2246 §7.2).
        CONTENT_ALERT => match body {
            [_level, description, ..] => Ok(HelloResponse::Alert {
                description: *description,
            }),
            _ => Err(ResponseError::Malformed),
        },
        CONTENT_HANDSHAKE => parse_server_hello(body),
        other => Err(ResponseError::NotTls(other)),
    }
}

/// Parses a ServerHello (RFC 2246 §7.4.1.3): handshake type (1), length (3), server_version
/// (2), random (32), session_id with a 1-byte length, cipher_suite (2), then fields the probe
/// does not need.
fn parse_server_hello(body: &[u8]) -> Result<HelloResponse, ResponseError> {
    let (&msg_type, rest) = body.split_first().ok_or(ResponseError::Malformed)?;
    if msg_type != HANDSHAKE_SERVER_HELLO {
        return Err(ResponseError::UnexpectedHandshake(msg_type));
    }
    let hello = rest.get(3..).ok_or(ResponseError::Malformed)?;
    let version = read_u16(hello, 0)?;
    let random = hello.get(2..34).ok_or(ResponseError::Malformed)?;
    let session_id_len = usize::from(*hello.get(34).ok_or(ResponseError::Malformed)?);
    if session_id_len > 32 {
        return Err(ResponseError::Malformed);
    }
    let cipher_suite = read_u16(hello, 35 + session_id_len)?;
    let tail = &random[24..];
    Ok(HelloResponse::ServerHello {
        version,
        cipher_suite,
        downgrade_sentinel: tail == DOWNGRADE_SENTINEL_TLS11 || tail == DOWNGRADE_SENTINEL_TLS12,
    })
}

fn read_u16(bytes: &[u8], at: usize) -> Result<u16, ResponseError> {
    match bytes.get(at..at + 2) {
        Some(&[high, low]) => Ok(u16::from_be_bytes([high, low])),
        _ => Err(ResponseError::Malformed),
    }
}

/// Sends a ClientHello that offers `version` and reads the first record of the response, giving
/// up at `deadline`.
pub async fn probe_version(
    address: SocketAddr,
    server_name: Option<&str>,
    version: u16,
    deadline: Instant,
) -> Result<VersionVerdict, ProbeFailure> {
    let mut stream = connect(address, deadline).await?;
    let mut random = [0u8; 32];
    // The random only has to differ between hellos, so a failing system generator is not
    // worth failing the probe over.
    let _ = rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut random);
    let hello = build_client_hello(version, server_name, random);
    let response = timeout_at(deadline, exchange(&mut stream, &hello))
        .await
        .map_err(|_| ProbeFailure::TimedOut)??;
    Ok(verdict(version, response))
}

async fn exchange(stream: &mut TcpStream, hello: &[u8]) -> Result<HelloResponse, ProbeFailure> {
    if let Err(err) = stream.write_all(hello).await {
        // A server may close the connection as soon as it reads a hello it rejects.
        return if is_closed(&err) {
            Ok(HelloResponse::Closed)
        } else {
            Err(ProbeFailure::Io(err))
        };
    }
    let mut header = [0u8; RECORD_HEADER_LEN];
    if let Err(err) = stream.read_exact(&mut header).await {
        return if is_closed(&err) {
            Ok(HelloResponse::Closed)
        } else {
            Err(ProbeFailure::Io(err))
        };
    }
    let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if header[0] != CONTENT_ALERT && header[0] != CONTENT_HANDSHAKE {
        return Err(ResponseError::NotTls(header[0]).into());
    }
    if length > MAX_RECORD_LEN {
        return Err(ResponseError::RecordTooLong(length).into());
    }
    let mut body = vec![0u8; length];
    stream
        .read_exact(&mut body)
        .await
        .map_err(ProbeFailure::Io)?;
    Ok(parse_response(header[0], &body)?)
}

fn is_closed(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        err.kind(),
        ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
    )
}

/// Decides whether the server accepted the offered version from its first record.
pub fn verdict(offered: u16, response: HelloResponse) -> VersionVerdict {
    match response {
        HelloResponse::ServerHello {
            version,
            cipher_suite,
            downgrade_sentinel,
        } if version == offered => {
            let mut detail = suite_name(cipher_suite);
            if downgrade_sentinel {
                detail.push_str(", downgrade sentinel set: the server supports a higher version");
            }
            VersionVerdict::Accepted { detail }
        }
        HelloResponse::ServerHello { version, .. } if version > offered => {
            VersionVerdict::Refused {
                reason: format!(
                    "the server responded with {}, above the offered maximum",
                    version_name(version)
                ),
            }
        }
        HelloResponse::ServerHello { version, .. } => VersionVerdict::Refused {
            reason: format!("the server responded with {}", version_name(version)),
        },
        HelloResponse::Alert { description } => VersionVerdict::Refused {
            reason: format!("alert {}", alert_name(description)),
        },
        HelloResponse::Closed => VersionVerdict::Refused {
            reason: "the server closed the connection".into(),
        },
    }
}

/// Names a cipher suite that the hand-built hello offers, or shows its number.
fn suite_name(suite: u16) -> String {
    TLS12_SUITES
        .iter()
        .chain(LEGACY_SUITES)
        .find(|(number, _)| *number == suite)
        .map_or_else(
            || format!("cipher suite 0x{suite:04x}"),
            |(_, name)| name.to_string(),
        )
}

/// Names a wire protocol version, such as 0x0302 → "TLS 1.1".
pub fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("version 0x{other:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_lengths_are_consistent() {
        let record = build_client_hello(0x0302, Some("api.test"), [7; 32]);
        let record_len = usize::from(u16::from_be_bytes([record[3], record[4]]));
        assert_eq!(record_len, record.len() - RECORD_HEADER_LEN);
        let handshake_len =
            (usize::from(record[6]) << 16) | (usize::from(record[7]) << 8) | usize::from(record[8]);
        assert_eq!(handshake_len, record_len - 4);
    }

    #[test]
    fn client_hello_offers_version_and_name() {
        let record = build_client_hello(0x0301, Some("api.test"), [7; 32]);
        assert_eq!(record[0], CONTENT_HANDSHAKE);
        assert_eq!(record[5], HANDSHAKE_CLIENT_HELLO);
        assert_eq!(&record[9..11], &[0x03, 0x01]);
        assert!(record.windows(8).any(|window| window == b"api.test"));
    }

    #[test]
    fn client_hello_signature_algorithms_only_from_tls12() {
        let legacy = build_client_hello(0x0302, None, [0; 32]);
        let modern = build_client_hello(0x0303, None, [0; 32]);
        let marker = [0x00, 0x0d, 0x00];
        assert!(!legacy.windows(3).any(|window| window == marker));
        assert!(modern.windows(3).any(|window| window == marker));
    }

    fn server_hello(version: u16, random_tail: [u8; 8]) -> Vec<u8> {
        let mut hello = vec![HANDSHAKE_SERVER_HELLO, 0, 0, 0];
        hello.extend_from_slice(&version.to_be_bytes());
        hello.extend_from_slice(&[1; 24]);
        hello.extend_from_slice(&random_tail);
        hello.push(0);
        hello.extend_from_slice(&[0xc0, 0x14, 0]);
        hello
    }

    #[test]
    fn server_hello_with_offered_version_accepts() {
        let response = parse_response(CONTENT_HANDSHAKE, &server_hello(0x0302, [0; 8]));
        let verdict = verdict(0x0302, response.expect("well-formed ServerHello"));
        assert!(matches!(verdict, VersionVerdict::Accepted { .. }));
    }

    #[test]
    fn server_hello_with_higher_version_refuses() {
        let response = parse_response(CONTENT_HANDSHAKE, &server_hello(0x0303, [0; 8]));
        let verdict = verdict(0x0302, response.expect("well-formed ServerHello"));
        assert!(matches!(verdict, VersionVerdict::Refused { .. }));
    }

    #[test]
    fn server_hello_reports_downgrade_sentinel() {
        let response = parse_response(CONTENT_HANDSHAKE, &server_hello(0x0302, *b"DOWNGRD\x00"));
        let expected = HelloResponse::ServerHello {
            version: 0x0302,
            cipher_suite: 0xc014,
            downgrade_sentinel: true,
        };
        assert_eq!(response, Ok(expected));
    }

    #[test]
    fn alert_refuses_with_name() {
        let response = parse_response(CONTENT_ALERT, &[2, 70]).expect("well-formed alert");
        let verdict = verdict(0x0301, response);
        let expected = VersionVerdict::Refused {
            reason: "alert protocol_version".into(),
        };
        assert_eq!(verdict, expected);
    }

    #[test]
    fn truncated_server_hello_is_malformed() {
        let hello = server_hello(0x0302, [0; 8]);
        let response = parse_response(CONTENT_HANDSHAKE, &hello[..20]);
        assert_eq!(response, Err(ResponseError::Malformed));
    }

    #[test]
    fn other_content_type_is_not_tls() {
        let response = parse_response(b'H', b"TTP/1.1 400");
        assert_eq!(response, Err(ResponseError::NotTls(b'H')));
    }
}
