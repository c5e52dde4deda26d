//! The request of the `oversized` family, sent over golive's own HTTP/1.1 connection so that a
//! response that arrives while the body is still being written is read.
//!
//! Servers with a body limit (nginx, API gateways, hyper-based services) often send 413 as soon
//! as they see the `Content-Length`, then close the connection without reading the body. The
//! client's next write fails with "broken pipe" or "connection reset", and an HTTP client that
//! reports that write error turns a correct rejection into an error. This module writes the body
//! and reads the connection at the same time, and stops writing once a response head arrives.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant as StdInstant;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use url::Host;

use crate::checks::http::client::{
    Exchange, RawResponse, RequestParts, certificate_problem, error_probe,
};
use crate::checks::{Evidence, Probe, ProbeContext};
use crate::duration::format_duration;

/// Maximum size of the response head (status line and headers), in bytes.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Maximum number of response headers parsed.
const MAX_RESPONSE_HEADERS: usize = 100;
/// Size of each write of the body, in bytes, so that a response is noticed between writes.
const WRITE_CHUNK_BYTES: usize = 64 * 1024;
/// Size of each read from the connection, in bytes.
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Request headers that golive sets itself, because they frame the request on the connection.
const FRAMING_HEADERS: &[&str] = &["content-length", "transfer-encoding", "connection"];

/// The reason a request got no response.
#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("DNS lookup of {host} failed: {detail}")]
    Dns { host: String, detail: String },
    #[error("connection refused by {0}")]
    Refused(String),
    #[error("could not connect to {authority}: {detail}")]
    Connect { authority: String, detail: String },
    #[error("{0}")]
    Certificate(String),
    #[error("TLS handshake with {authority} failed: {detail}")]
    Tls { authority: String, detail: String },
    #[error("timed out after {timeout} {progress}")]
    TimedOut { timeout: String, progress: String },
    #[error("{authority} closed the connection without sending a response {progress}")]
    Closed { authority: String, progress: String },
    #[error("invalid HTTP response from {authority}: {detail}")]
    InvalidResponse { authority: String, detail: String },
    #[error("reading the response from {authority} failed: {detail}")]
    Read { authority: String, detail: String },
}

/// A failed request: the reason and details for the evidence notes.
struct Failure {
    error: SendError,
    notes: Vec<String>,
}

impl From<SendError> for Failure {
    fn from(error: SendError) -> Self {
        Failure {
            error,
            notes: Vec::new(),
        }
    }
}

/// Sends the request with its body over a new connection and reads the response head and up to
/// `ctx.body_limit` bytes of its body, within `ctx.timeout`, even when the server responds
/// before the body is fully written.
///
/// A request that gets no response returns an [`Outcome::Error`](crate::checks::Outcome) probe
/// whose summary explains why, with the request and the error detail in its evidence, secrets
/// masked. A write that fails after the response arrived is only noted.
///
/// NOTE: the connection ignores the proxy environment variables (`HTTPS_PROXY` and the like)
/// that the shared HTTP client honours, and trusts only the webpki roots.
pub(super) async fn send(ctx: &ProbeContext, parts: &RequestParts) -> Result<Exchange, Probe> {
    let started = StdInstant::now();
    let deadline = Instant::now() + ctx.timeout;
    match send_on_new_connection(ctx, parts, deadline).await {
        Ok(mut response) => {
            response.latency = started.elapsed();
            tracing::debug!(status = response.status, "oversized response read");
            Ok(Exchange::from_raw(parts, &ctx.redactor, response))
        }
        Err(failure) => {
            let redactor = parts.redactor(&ctx.redactor);
            let evidence = Evidence {
                request: parts.request_lines(&redactor),
                notes: failure.notes,
                ..Evidence::default()
            };
            Err(error_probe(evidence, &redactor, failure.error.to_string()))
        }
    }
}

async fn send_on_new_connection(
    ctx: &ProbeContext,
    parts: &RequestParts,
    deadline: Instant,
) -> Result<RawResponse, Failure> {
    let url = &parts.url;
    let authority = authority(url);
    let mut notes = Vec::new();
    let body = parts.body.as_deref().unwrap_or_default();
    let head = request_head(parts, body.len(), &mut notes)?;
    let host = url
        .host()
        .ok_or_else(|| SendError::InvalidRequest(format!("the URL {url} has no host")))?;
    let tcp = connect(&host, &authority, url, deadline, ctx).await?;
    let request = Request {
        head: &head,
        body,
        deadline,
        body_limit: ctx.body_limit,
        authority: &authority,
        timeout: format_duration(ctx.timeout),
    };
    let result = match url.scheme() {
        "https" => {
            let tls = handshake(tcp, &host, &authority, deadline, ctx).await?;
            request.send(tls).await
        }
        _ => request.send(tcp).await,
    };
    match result {
        Ok(mut response) => {
            notes.append(&mut response.notes);
            response.notes = notes;
            Ok(response)
        }
        Err(mut failure) => {
            notes.append(&mut failure.notes);
            failure.notes = notes;
            Err(failure)
        }
    }
}

/// Returns `host:port` of the URL, with the scheme's default port when none is written.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Builds the request line and headers, ending with the blank line. The checklist's headers
/// come first in their order, except the framing headers, which golive sets.
fn request_head(
    parts: &RequestParts,
    body_len: usize,
    notes: &mut Vec<String>,
) -> Result<Vec<u8>, SendError> {
    let url = &parts.url;
    let mut target = url.path().to_string();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut head = format!("{} {target} HTTP/1.1\r\n", parts.method).into_bytes();
    let has = |name: &str| {
        parts
            .headers
            .iter()
            .any(|(header, _)| header.as_str() == name)
    };
    if !has("host") {
        let host = url.host_str().unwrap_or_default();
        // `Url::port` is `None` for the scheme's default port, which the Host header omits.
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        push_header(&mut head, "host", host.as_bytes())?;
    }
    for (name, value) in &parts.headers {
        if FRAMING_HEADERS.contains(&name.as_str()) {
            notes.push(format!(
                "header {name} not sent: golive sets it for this request"
            ));
            continue;
        }
        push_header(&mut head, name.as_str(), value.as_bytes())?;
    }
    if !has("authorization")
        && let Some(authorization) = parts.basic_authorization()
    {
        push_header(&mut head, "authorization", authorization.as_bytes())?;
    }
    if !has("user-agent") {
        let agent = concat!("golive/", env!("CARGO_PKG_VERSION"));
        push_header(&mut head, "user-agent", agent.as_bytes())?;
    }
    if !has("accept") {
        push_header(&mut head, "accept", b"*/*")?;
    }
    push_header(&mut head, "content-length", body_len.to_string().as_bytes())?;
    // The server closes the connection after the response, which ends a body sent without
    // a length and frees the server from reading the rest of the request body.
    push_header(&mut head, "connection", b"close")?;
    head.extend_from_slice(b"\r\n");
    Ok(head)
}

fn push_header(head: &mut Vec<u8>, name: &str, value: &[u8]) -> Result<(), SendError> {
    // Header values were validated when the checklist loaded; a line break here would split the
    // request, so it is rejected again rather than trusted.
    if value.iter().any(|byte| matches!(byte, b'\r' | b'\n' | 0)) {
        return Err(SendError::InvalidRequest(format!(
            "header {name} contains a line break or NUL byte"
        )));
    }
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
    Ok(())
}

/// Resolves the host and connects to the first address that accepts.
async fn connect(
    host: &Host<&str>,
    authority: &str,
    url: &Url,
    deadline: Instant,
    ctx: &ProbeContext,
) -> Result<TcpStream, SendError> {
    let timed_out = || SendError::TimedOut {
        timeout: format_duration(ctx.timeout),
        progress: format!("while connecting to {authority}"),
    };
    let port = url.port_or_known_default().ok_or_else(|| {
        SendError::InvalidRequest(format!("the URL {url} has no port and no default port"))
    })?;
    let addresses: Vec<SocketAddr> = match host {
        Host::Ipv4(ip) => vec![SocketAddr::from((*ip, port))],
        Host::Ipv6(ip) => vec![SocketAddr::from((*ip, port))],
        Host::Domain(name) => timeout_at(deadline, tokio::net::lookup_host((*name, port)))
            .await
            .map_err(|_| timed_out())?
            .map_err(|err| SendError::Dns {
                host: name.to_string(),
                detail: err.to_string(),
            })?
            .collect(),
    };
    let mut last_error = None;
    for address in addresses {
        match timeout_at(deadline, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(err)) => last_error = Some(err),
            Err(_) => return Err(timed_out()),
        }
    }
    Err(match last_error {
        Some(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
            SendError::Refused(authority.to_string())
        }
        Some(err) => SendError::Connect {
            authority: authority.to_string(),
            detail: err.to_string(),
        },
        None => SendError::Dns {
            host: host.to_string(),
            detail: "no addresses found".into(),
        },
    })
}

/// Performs the TLS handshake with the webpki roots, offering only HTTP/1.1 through ALPN.
async fn handshake(
    tcp: TcpStream,
    host: &Host<&str>,
    authority: &str,
    deadline: Instant,
    ctx: &ProbeContext,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SendError> {
    let tls_failed = |detail: String| SendError::Tls {
        authority: authority.to_string(),
        detail,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| tls_failed(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server_name = match host {
        Host::Domain(name) => ServerName::try_from(name.to_string())
            .map_err(|err| SendError::InvalidRequest(format!("invalid host {name}: {err}")))?,
        Host::Ipv4(ip) => ServerName::IpAddress(std::net::IpAddr::V4(*ip).into()),
        Host::Ipv6(ip) => ServerName::IpAddress(std::net::IpAddr::V6(*ip).into()),
    };
    let connector = TlsConnector::from(Arc::new(config));
    let result = timeout_at(deadline, connector.connect(server_name, tcp))
        .await
        .map_err(|_| SendError::TimedOut {
            timeout: format_duration(ctx.timeout),
            progress: format!("during the TLS handshake with {authority}"),
        })?;
    result.map_err(|err| {
        // tokio-rustls wraps the rustls error in the I/O error it returns.
        let rustls_error = err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        let problem = rustls_error
            .and_then(|tls| certificate_problem(tls, host.to_string().trim_matches(['[', ']'])));
        match problem {
            Some(problem) => SendError::Certificate(problem),
            None => tls_failed(err.to_string()),
        }
    })
}

/// One request to send on an open connection.
struct Request<'a> {
    head: &'a [u8],
    body: &'a [u8],
    deadline: Instant,
    body_limit: usize,
    authority: &'a str,
    timeout: String,
}

/// A parsed response head with the bytes read after it.
struct ResponseHead {
    status: u16,
    headers: HeaderMap,
    rest: Vec<u8>,
}

/// The reason no response head could be read.
enum HeadError {
    /// The connection ended before any byte of a response, with the read error if there was one.
    NoResponse(Option<io::Error>),
    Invalid(String),
    Read(io::Error),
}

impl Request<'_> {
    /// Writes the request while reading the connection, then reads the response.
    async fn send<S>(&self, stream: S) -> Result<RawResponse, Failure>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin,
    {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let sent = AtomicUsize::new(0);
        let (head, write_result) = {
            let write = write_request(&mut writer, self.head, self.body, &sent);
            let read = read_head(&mut reader);
            tokio::pin!(write, read);
            let mut write_result: Option<io::Result<()>> = None;
            let deadline = tokio::time::sleep_until(self.deadline);
            tokio::pin!(deadline);
            // Reading goes on while the body is written, so that a response sent before the
            // server read the whole body is seen, and writing stops as soon as it arrives.
            let head = loop {
                tokio::select! {
                    result = &mut write, if write_result.is_none() => write_result = Some(result),
                    head = &mut read => break Some(head),
                    () = &mut deadline => break None,
                }
            };
            (head, write_result)
        };
        let sent = sent.load(Ordering::Relaxed);
        let mut notes = Vec::new();
        if let Some(Err(err)) = &write_result {
            notes.push(format!(
                "writing the body failed after {sent} of {} bytes: {err}",
                self.body.len()
            ));
        }
        let head = match head {
            Some(Ok(head)) => head,
            Some(Err(err)) => {
                return Err(Failure {
                    error: self.head_error(err, sent, write_result.as_ref()),
                    notes,
                });
            }
            None => {
                return Err(Failure {
                    error: SendError::TimedOut {
                        timeout: self.timeout.clone(),
                        progress: format!("with no response, {}", self.progress(sent)),
                    },
                    notes,
                });
            }
        };
        if write_result.is_none() {
            notes.push(format!(
                "the response arrived after {sent} of {} body bytes were sent, so golive \
                 stopped writing",
                self.body.len()
            ));
        }
        let (body, body_cut) = self.read_body(&mut reader, &head, &mut notes).await;
        Ok(RawResponse {
            status: head.status,
            headers: head.headers,
            body,
            body_cut,
            latency: std::time::Duration::ZERO,
            notes,
        })
    }

    /// Describes how much of the body was written, such as `after 65536 of 11534336 body bytes`.
    fn progress(&self, sent: usize) -> String {
        format!("after {sent} of {} body bytes", self.body.len())
    }

    fn head_error(
        &self,
        err: HeadError,
        sent: usize,
        write_result: Option<&io::Result<()>>,
    ) -> SendError {
        let authority = self.authority.to_string();
        match err {
            HeadError::NoResponse(read_error) => {
                let mut progress = self.progress(sent);
                let cause = read_error
                    .map(|err| err.to_string())
                    .or_else(|| match write_result {
                        Some(Err(err)) => Some(err.to_string()),
                        _ => None,
                    });
                if let Some(cause) = cause {
                    progress.push_str(&format!(" ({cause})"));
                }
                SendError::Closed {
                    authority,
                    progress,
                }
            }
            HeadError::Invalid(detail) => SendError::InvalidResponse { authority, detail },
            HeadError::Read(err) => SendError::Read {
                authority,
                detail: err.to_string(),
            },
        }
    }

    /// Reads the body after the head up to the body limit, decoding chunked transfer coding.
    /// A read that fails or times out ends the body, with a note, since the status is known.
    async fn read_body<R: AsyncRead + Unpin>(
        &self,
        reader: &mut R,
        head: &ResponseHead,
        notes: &mut Vec<String>,
    ) -> (Vec<u8>, bool) {
        let framing = Framing::of(head);
        let mut raw = head.rest.clone();
        // Chunk size lines take a few bytes per chunk, so the raw read may go a little past the
        // limit to decode `body_limit` bytes of content.
        let raw_limit = self.body_limit.saturating_add(READ_CHUNK_BYTES);
        let mut ended = false;
        let mut chunk = vec![0; READ_CHUNK_BYTES];
        while !framing.is_complete(&raw) && raw.len() < raw_limit {
            match timeout_at(self.deadline, reader.read(&mut chunk)).await {
                Ok(Ok(0)) => {
                    ended = true;
                    break;
                }
                Ok(Ok(read)) => raw.extend_from_slice(&chunk[..read]),
                Ok(Err(err)) => {
                    notes.push(format!("reading the response body stopped: {err}"));
                    ended = true;
                    break;
                }
                Err(_) => {
                    notes.push(format!(
                        "the response body did not end within {}; the excerpt shows what \
                         arrived",
                        self.timeout
                    ));
                    break;
                }
            }
        }
        let (mut body, complete) = framing.decode(raw);
        let mut cut = !(complete || (ended && framing == Framing::UntilClose));
        if body.len() > self.body_limit {
            body.truncate(self.body_limit);
            cut = true;
        }
        if cut {
            notes.push(format!("body cut at {} bytes", body.len()));
        }
        (body, cut)
    }
}

/// Writes the head, then the body in chunks, counting the body bytes written in `sent`.
async fn write_request<W: AsyncWrite + Unpin>(
    writer: &mut W,
    head: &[u8],
    body: &[u8],
    sent: &AtomicUsize,
) -> io::Result<()> {
    writer.write_all(head).await?;
    for chunk in body.chunks(WRITE_CHUNK_BYTES) {
        writer.write_all(chunk).await?;
        sent.fetch_add(chunk.len(), Ordering::Relaxed);
    }
    writer.flush().await
}

/// Reads until a final response head is complete, skipping interim 1xx responses.
async fn read_head<R: AsyncRead + Unpin>(reader: &mut R) -> Result<ResponseHead, HeadError> {
    let mut buffer = Vec::new();
    let mut received_any = false;
    let mut chunk = vec![0; READ_CHUNK_BYTES];
    loop {
        let read = match reader.read(&mut chunk).await {
            Ok(read) => read,
            Err(err) if received_any => return Err(HeadError::Read(err)),
            Err(err) => return Err(HeadError::NoResponse(Some(err))),
        };
        if read == 0 {
            if received_any {
                return Err(HeadError::Invalid(
                    "the connection closed in the middle of the response head".into(),
                ));
            }
            return Err(HeadError::NoResponse(None));
        }
        received_any = true;
        buffer.extend_from_slice(&chunk[..read]);
        while let Some((length, head)) = parse_head(&buffer)? {
            buffer.drain(..length);
            // A 1xx response other than 101 is interim: the final response follows it.
            if (100..=199).contains(&head.status) && head.status != 101 {
                continue;
            }
            return Ok(ResponseHead {
                rest: buffer,
                ..head
            });
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Err(HeadError::Invalid(format!(
                "the response head is larger than {MAX_HEAD_BYTES} bytes"
            )));
        }
    }
}

/// Parses a response head at the start of `buffer`, returning its length and the head without
/// the rest, or `None` when the head is not complete yet.
fn parse_head(buffer: &[u8]) -> Result<Option<(usize, ResponseHead)>, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let length = match response.parse(buffer) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(HeadError::Invalid(err.to_string())),
    };
    let status = response
        .code
        .ok_or_else(|| HeadError::Invalid("the status line has no status code".into()))?;
    let mut headers = HeaderMap::new();
    for header in response.headers.iter() {
        // httparse accepts a wider set of names and values than the `http` crate. The few that
        // `http` rejects are dropped from the evidence rather than failing the check.
        let name = HeaderName::from_bytes(header.name.as_bytes());
        let value = HeaderValue::from_bytes(header.value);
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    let head = ResponseHead {
        status,
        headers,
        rest: Vec::new(),
    };
    Ok(Some((length, head)))
}

/// The framing of a response body, which determines where the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// No body, such as for 204 and 304.
    Empty,
    Length(usize),
    Chunked,
    /// The body ends when the server closes the connection.
    UntilClose,
}

impl Framing {
    fn of(head: &ResponseHead) -> Framing {
        if head.status == 204 || head.status == 304 {
            return Framing::Empty;
        }
        let chunked = head
            .headers
            .get_all("transfer-encoding")
            .iter()
            .any(|value| String::from_utf8_lossy(value.as_bytes()).contains("chunked"));
        if chunked {
            return Framing::Chunked;
        }
        let length = head
            .headers
            .get("content-length")
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse::<usize>().ok());
        match length {
            Some(length) => Framing::Length(length),
            None => Framing::UntilClose,
        }
    }

    fn is_complete(self, raw: &[u8]) -> bool {
        match self {
            Framing::Empty => true,
            Framing::Length(length) => raw.len() >= length,
            // The last chunk and an empty trailer end the body. A body with trailers is read
            // until the server closes the connection, because trailers are rare.
            Framing::Chunked => raw.ends_with(b"0\r\n\r\n"),
            Framing::UntilClose => false,
        }
    }

    /// Returns the body content of the raw bytes and whether the body is complete.
    fn decode(self, raw: Vec<u8>) -> (Vec<u8>, bool) {
        match self {
            Framing::Empty => (Vec::new(), true),
            Framing::Length(length) => {
                let complete = raw.len() >= length;
                let mut body = raw;
                body.truncate(length);
                (body, complete)
            }
            Framing::Chunked => decode_chunked(&raw),
            Framing::UntilClose => (raw, false),
        }
    }
}

/// Decodes as much of a chunked body as `raw` contains; returns the content and whether the
/// last chunk was reached.
fn decode_chunked(raw: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    let mut rest = raw;
    loop {
        let Some(line_end) = rest.windows(2).position(|pair| pair == b"\r\n") else {
            return (body, false);
        };
        let line = String::from_utf8_lossy(&rest[..line_end]);
        // A chunk extension follows the size after `;`.
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return (body, false);
        };
        if size == 0 {
            return (body, true);
        }
        rest = &rest[line_end + 2..];
        let available = size.min(rest.len());
        body.extend_from_slice(&rest[..available]);
        if available < size || rest.len() < size + 2 {
            return (body, false);
        }
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_body_decoded() {
        let raw = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
        let (body, complete) = decode_chunked(raw);
        assert_eq!(body, b"hello world");
        assert!(complete);
    }

    #[test]
    fn partial_chunked_body_kept() {
        let (body, complete) = decode_chunked(b"5\r\nhello\r\na\r\nwor");
        assert_eq!(body, b"hellowor");
        assert!(!complete);
    }

    #[test]
    fn interim_response_head_parsed() {
        let buffer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Payload Too Large\r\n";
        let parsed = parse_head(buffer).ok().flatten();
        let (length, head) = parsed.unwrap();
        assert_eq!(length, 25);
        assert_eq!(head.status, 100);
        assert!(matches!(parse_head(&buffer[length..]), Ok(None)));
    }

    #[test]
    fn request_head_sets_framing_headers() {
        let url = Url::parse("http://user:pass@127.0.0.1:8080/upload?x=1").unwrap();
        let mut parts = RequestParts::new(reqwest::Method::POST, url);
        parts
            .headers
            .push((HeaderName::from_static("content-length"), "1".to_string()));
        parts
            .headers
            .push((HeaderName::from_static("x-client"), "a".to_string()));
        let mut notes = Vec::new();
        let head = request_head(&parts, 42, &mut notes).unwrap();
        let text = String::from_utf8(head).unwrap();
        assert!(text.starts_with("POST /upload?x=1 HTTP/1.1\r\n"), "{text}");
        assert!(text.contains("\r\nhost: 127.0.0.1:8080\r\n"), "{text}");
        assert!(text.contains("\r\nx-client: a\r\n"), "{text}");
        assert!(
            text.contains("\r\nauthorization: Basic dXNlcjpwYXNz\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\ncontent-length: 42\r\n"), "{text}");
        assert!(!text.contains("content-length: 1\r\n"), "{text}");
        assert!(text.ends_with("\r\nconnection: close\r\n\r\n"), "{text}");
        assert_eq!(notes.len(), 1);
    }
}
