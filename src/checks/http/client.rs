//! One HTTP exchange, shared by every HTTP-based check kind: send a request, read the response
//! up to the body limit, and explain a failure in plain words with secrets masked.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Client, Method, Url};

use super::settings::HttpUrl;
use crate::checks::{Evidence, Outcome, Probe, ProbeContext};
use crate::duration::format_duration;
use crate::redact::Redactor;
use crate::sanitize::{terminal_safe, truncate_chars};

/// Maximum number of characters of the response body shown in the evidence.
const EXCERPT_CHARS: usize = 2048;
/// Maximum number of response headers kept in the evidence.
const MAX_HEADERS: usize = 64;
/// Maximum number of characters of one header value or JSON value shown in the evidence.
const MAX_VALUE_CHARS: usize = 256;

/// A request to send: method, URL, headers in order, an optional body and the redirect limit.
#[derive(Debug, Clone)]
pub struct RequestParts {
    pub method: Method,
    pub url: Url,
    /// Request headers in the order they are sent. Values were validated as header syntax when
    /// the checklist loaded.
    pub headers: Vec<(HeaderName, String)>,
    pub body: Option<Vec<u8>>,
    /// Maximum number of redirects followed; 0 makes a redirect the response.
    pub follow_redirects: u32,
}

impl RequestParts {
    /// Builds a request without headers or body that follows no redirect.
    pub fn new(method: Method, url: Url) -> Self {
        RequestParts {
            method,
            url,
            headers: Vec::new(),
            body: None,
            follow_redirects: 0,
        }
    }

    /// The request as sent: method and URL, then headers, then the body; secrets masked.
    pub fn request_lines(&self, redactor: &Redactor) -> Vec<String> {
        let redactor = with_url_credentials(&self.url, redactor);
        let url = HttpUrl(self.url.clone());
        let mut lines = vec![format!("{} {}", self.method, url.masked(&redactor))];
        for (name, value) in &self.headers {
            lines.push(format!(
                "{name}: {}",
                shown_header_value(name.as_str(), value.as_bytes(), &redactor)
            ));
        }
        if let Some(body) = &self.body {
            let text = String::from_utf8_lossy(body);
            lines.push(format!("body: {}", shown_text(&text, &redactor)));
        }
        lines
    }

    /// Returns the redactor for this request: the given one, plus the Basic credentials built
    /// from the URL's userinfo when it has any.
    pub fn redactor<'a>(&self, redactor: &'a Redactor) -> Cow<'a, Redactor> {
        with_url_credentials(&self.url, redactor)
    }

    /// Returns the `Authorization` value that reqwest builds from the URL's userinfo, such as
    /// `Basic dXNlcjpwYXNz`, or `None` when the URL has none.
    pub fn basic_authorization(&self) -> Option<String> {
        HttpUrl(self.url.clone())
            .basic_credentials()
            .map(|credentials| format!("Basic {credentials}"))
    }
}

/// A response that a probe read over its own connection instead of through [`exchange`].
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body up to the probe's body limit.
    pub body: Vec<u8>,
    /// Whether the body was longer than the limit, or did not end, and was cut.
    pub body_cut: bool,
    /// Time from connecting to the end of the read body.
    pub latency: Duration,
    /// Notes for the evidence; they are masked when the exchange is built.
    pub notes: Vec<String>,
}

/// A response as read, with the request that produced it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request as sent, secrets masked, as [`RequestParts::request_lines`] returns it.
    pub request_lines: Vec<String>,
    pub status: u16,
    pub headers: HeaderMap,
    /// The body up to the probe's body limit.
    pub body: Vec<u8>,
    /// Whether the body was longer than the limit and was cut.
    pub body_cut: bool,
    /// Time from sending the request to the end of the read body.
    pub latency: Duration,
    /// The URL of the last response, which differs from the request's after redirects.
    pub final_url: Url,
    /// Notes for the evidence, such as the final URL after redirects; secrets masked.
    pub notes: Vec<String>,
    /// Secrets derived from the request (the Basic credentials built from the URL's userinfo)
    /// that the evidence masks besides the registered ones.
    extra_secrets: Vec<String>,
}

impl Exchange {
    /// Returns the redactor for this exchange: the given one, plus the secrets derived from the
    /// request when it has any.
    pub fn redactor<'a>(&self, redactor: &'a Redactor) -> Cow<'a, Redactor> {
        if self.extra_secrets.is_empty() {
            return Cow::Borrowed(redactor);
        }
        let mut extended = redactor.clone();
        for secret in &self.extra_secrets {
            extended.add(secret);
        }
        Cow::Owned(extended)
    }

    /// Builds the evidence of the exchange without assertions: request, status, shown headers,
    /// body excerpt, latency and notes, all masked and terminal-safe.
    pub fn evidence(&self, redactor: &Redactor) -> Evidence {
        let redactor = self.redactor(redactor);
        let mut notes = self.notes.clone();
        let headers = shown_headers(&self.headers, &redactor, &mut notes);
        Evidence {
            request: self.request_lines.clone(),
            status: Some(self.status),
            headers,
            body_excerpt: (!self.body.is_empty()).then(|| body_excerpt(&self.body, &redactor)),
            latency_ms: Some(millis(self.latency)),
            notes,
            ..Evidence::default()
        }
    }

    /// Builds the exchange of a response read over a probe's own connection, with the request
    /// lines and the URL-derived secrets that [`exchange`] records. The final URL is the
    /// request's, since such a probe follows no redirect.
    pub fn from_raw(parts: &RequestParts, redactor: &Redactor, response: RawResponse) -> Self {
        let redactor = parts.redactor(redactor);
        let notes = response
            .notes
            .iter()
            .map(|note| terminal_safe(&redactor.redact(note)))
            .collect();
        Exchange {
            request_lines: parts.request_lines(&redactor),
            status: response.status,
            headers: response.headers,
            body: response.body,
            body_cut: response.body_cut,
            latency: response.latency,
            final_url: parts.url.clone(),
            notes,
            extra_secrets: HttpUrl(parts.url.clone())
                .basic_credentials()
                .into_iter()
                .collect(),
        }
    }

    /// Returns the body as text, invalid UTF-8 replaced, not masked.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Returns the first value of a response header as text, invalid UTF-8 replaced, not masked.
    pub fn header_text(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
    }
}

/// Sends the request once and reads the response up to `ctx.body_limit` bytes, within
/// `ctx.timeout`.
///
/// A request that gets no complete response returns an [`Outcome::Error`] probe whose summary
/// explains why in plain words, with the request, whatever of the response arrived and the error
/// detail in its evidence, secrets masked.
pub async fn exchange(ctx: &ProbeContext, parts: &RequestParts) -> Result<Exchange, Probe> {
    let url = HttpUrl(parts.url.clone());
    // Servers that echo requests show the Basic credentials built from the URL's userinfo, so
    // the evidence masks them too.
    let extra_secrets: Vec<String> = url.basic_credentials().into_iter().collect();
    let redactor = with_url_credentials(&parts.url, &ctx.redactor);
    let request_lines = parts.request_lines(&redactor);
    let mut evidence = Evidence {
        request: request_lines.clone(),
        ..Evidence::default()
    };
    let client = match client_for(parts.follow_redirects) {
        Ok(client) => client,
        Err(err) => {
            let summary = format!("could not build the HTTP client: {}", innermost(&err));
            return Err(error_probe(evidence, &redactor, summary));
        }
    };

    let mut request = client
        .request(parts.method.clone(), parts.url.clone())
        .timeout(ctx.timeout);
    for (name, value) in &parts.headers {
        request = request.header(name.clone(), value.as_str());
    }
    if let Some(body) = &parts.body {
        request = request.body(body.clone());
    }

    let started = Instant::now();
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => {
            let summary = explain_error(&url, &err, ctx.timeout);
            evidence
                .notes
                .push(format!("error detail: {}", error_chain(&err)));
            return Err(error_probe(evidence, &redactor, summary));
        }
    };
    let mut notes = Vec::new();
    if response.url() != &url.without_userinfo() {
        let final_url = HttpUrl(response.url().clone()).masked(&redactor);
        notes.push(format!("redirected to {final_url}"));
    }
    let status = response.status().as_u16();
    let headers = response.headers().clone();

    let read = read_body(response, ctx.body_limit).await;
    let latency = started.elapsed();
    let read = match read {
        Ok(read) => read,
        Err((partial, err)) => {
            evidence.status = Some(status);
            evidence.headers = shown_headers(&headers, &redactor, &mut evidence.notes);
            evidence.notes.extend(notes);
            evidence.latency_ms = Some(millis(latency));
            evidence.body_excerpt = Some(body_excerpt(&partial, &redactor));
            let summary = if err.is_timeout() {
                format!(
                    "timed out after {} while reading the response body",
                    format_duration(ctx.timeout)
                )
            } else {
                format!("reading the response body failed: {}", innermost(&err))
            };
            return Err(error_probe(evidence, &redactor, summary));
        }
    };
    if read.cut {
        notes.push(format!("body cut at {} bytes", ctx.body_limit));
    }
    let final_url = HttpUrl(read.final_url.clone()).masked(&redactor);
    tracing::debug!(url = %final_url, status = read.status, "http response read");
    Ok(Exchange {
        request_lines,
        status: read.status,
        headers: read.headers,
        body: read.body,
        body_cut: read.cut,
        latency,
        final_url: read.final_url,
        notes,
        extra_secrets,
    })
}

/// Returns the redactor extended with the Basic credentials of the URL's userinfo, if any.
fn with_url_credentials<'a>(url: &Url, redactor: &'a Redactor) -> Cow<'a, Redactor> {
    match HttpUrl(url.clone()).basic_credentials() {
        Some(credentials) => {
            let mut extended = redactor.clone();
            extended.add(&credentials);
            Cow::Owned(extended)
        }
        None => Cow::Borrowed(redactor),
    }
}

/// Returns a duration in whole milliseconds, saturating.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The reason a chain of redirects was abandoned.
#[derive(Debug, thiserror::Error)]
enum RedirectError {
    #[error("too many redirects (max {0})")]
    TooMany(u32),
    #[error("redirect loop: the server redirected back to {0}")]
    Loop(Url),
}

/// Returns the shared client for a redirect limit, building it on first use. Clients are shared
/// so that connections and TLS sessions are pooled across checks.
fn client_for(max_redirects: u32) -> Result<Client, reqwest::Error> {
    static CLIENTS: OnceLock<Mutex<HashMap<u32, Client>>> = OnceLock::new();
    let clients = CLIENTS.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock still guards a valid map because inserting is the only mutation.
    let mut clients = clients
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(client) = clients.get(&max_redirects) {
        return Ok(client.clone());
    }
    let policy = if max_redirects == 0 {
        reqwest::redirect::Policy::none()
    } else {
        reqwest::redirect::Policy::custom(move |attempt| {
            let next = attempt.url().clone();
            if attempt.previous().contains(&next) {
                return attempt.error(RedirectError::Loop(next));
            }
            // `previous` starts with the original URL, so its length is the redirect count + 1.
            if attempt.previous().len() > max_redirects as usize {
                return attempt.error(RedirectError::TooMany(max_redirects));
            }
            attempt.follow()
        })
    };
    let client = Client::builder()
        .redirect(policy)
        .user_agent(concat!("golive/", env!("CARGO_PKG_VERSION")))
        .build()?;
    clients.insert(max_redirects, client.clone());
    Ok(client)
}

/// The response as read: status, headers and the body up to the limit.
struct ReadResponse {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    cut: bool,
    final_url: Url,
}

/// Explains in plain words why a request got no response.
fn explain_error(url: &HttpUrl, err: &reqwest::Error, timeout: Duration) -> String {
    let authority = url.authority();
    if let Some(redirect) = find_source::<RedirectError>(err) {
        return redirect.to_string();
    }
    if err.is_timeout() {
        return format!("timed out after {}", format_duration(timeout));
    }
    let refused = find_source::<std::io::Error>(err)
        .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
    if refused {
        return format!("connection refused by {authority}");
    }
    let reset = find_source::<std::io::Error>(err)
        .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionReset);
    let chain = error_chain(err).to_ascii_lowercase();
    if reset || chain.contains("connection closed before message completed") {
        return format!("{authority} closed the connection before sending a response");
    }
    if let Some(tls) = find_source::<rustls::Error>(err) {
        let host = url.0.host_str().unwrap_or_default();
        if let Some(problem) = certificate_problem(tls, host) {
            return problem;
        }
    }
    let cause = innermost(err);
    if chain.contains("dns error") || chain.contains("failed to lookup address") {
        let host = url.0.host_str().unwrap_or_default();
        return format!("DNS lookup of {host} failed: {cause}");
    }
    const TLS_WORDS: &[&str] = &[
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "alert",
    ];
    if TLS_WORDS.iter().any(|word| chain.contains(word)) {
        return format!("TLS handshake with {authority} failed: {cause}");
    }
    if chain.contains("invalid http") || chain.contains("message head is too large") {
        return format!("invalid HTTP response from {authority}: {cause}");
    }
    if err.is_connect() {
        return format!("could not connect to {authority}: {cause}");
    }
    if err.is_builder() {
        return format!("invalid request: {cause}");
    }
    format!("request to {authority} failed: {cause}")
}

/// Reads the body up to `limit` bytes. On failure it returns what was read before the error.
async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<ReadResponse, (Vec<u8>, reqwest::Error)> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let final_url = response.url().clone();
    let mut body = Vec::new();
    let mut cut = false;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    // Stop reading so that a huge or endless body costs at most `limit` bytes;
                    // dropping the response closes the connection.
                    cut = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(err) => return Err((body, err)),
        }
    }
    Ok(ReadResponse {
        status,
        headers,
        body,
        cut,
        final_url,
    })
}

/// Response headers fit to show: masked, terminal-safe, bounded in count and length.
pub(super) fn shown_headers(
    headers: &HeaderMap,
    redactor: &Redactor,
    notes: &mut Vec<String>,
) -> Vec<(String, String)> {
    let shown: Vec<(String, String)> = headers
        .iter()
        .take(MAX_HEADERS)
        .map(|(name, value)| {
            let name_text = truncate_chars(&terminal_safe(name.as_str()), MAX_VALUE_CHARS);
            (
                name_text,
                shown_header_value(name.as_str(), value.as_bytes(), redactor),
            )
        })
        .collect();
    if headers.len() > shown.len() {
        notes.push(format!(
            "{} more response headers not shown",
            headers.len() - shown.len()
        ));
    }
    shown
}

/// Returns a header value fit to show: masked by header name and content, terminal-safe and
/// bounded in length.
pub fn shown_header_value(name: &str, value: &[u8], redactor: &Redactor) -> String {
    let text = String::from_utf8_lossy(value);
    let masked = redactor.redact_header(name, &text);
    truncate_chars(&terminal_safe(&masked), MAX_VALUE_CHARS)
}

/// Returns text fit to show: masked, terminal-safe and bounded in length.
pub fn shown_text(text: &str, redactor: &Redactor) -> String {
    truncate_chars(&terminal_safe(&redactor.redact(text)), MAX_VALUE_CHARS)
}

/// Returns the start of a body fit to show: masked, terminal-safe and bounded in length.
pub fn body_excerpt(body: &[u8], redactor: &Redactor) -> String {
    // Secrets are masked on the whole body before cutting, so that a cut never leaves part of
    // a secret visible.
    let text = redactor.redact(&String::from_utf8_lossy(body));
    truncate_chars(&terminal_safe(&text), EXCERPT_CHARS)
}

/// Builds an error outcome, masking the summary and every note of the evidence.
pub fn error_probe(mut evidence: Evidence, redactor: &Redactor, summary: String) -> Probe {
    let summary = terminal_safe(&redactor.redact(&summary));
    for note in &mut evidence.notes {
        *note = terminal_safe(&redactor.redact(note));
    }
    Probe {
        outcome: Outcome::Error,
        summary,
        evidence,
    }
}

/// Finds the first error of type `T` in the chain of causes.
fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        // `io::Error::source` skips the error it wraps, which is where hyper-rustls puts the
        // rustls error, so the wrapped error is checked here.
        let wrapped = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        if let Some(found) = wrapped.and_then(|inner| inner.downcast_ref::<T>()) {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// Explains in plain words why the server's certificate was rejected, or returns `None` for
/// other failures.
pub(crate) fn certificate_problem(error: &rustls::Error, host: &str) -> Option<String> {
    use rustls::CertificateError;

    let rustls::Error::InvalidCertificate(problem) = error else {
        return None;
    };
    let text = match problem {
        CertificateError::UnknownIssuer => format!(
            "certificate for {host} is not signed by a trusted certificate authority \
             (it may be self-signed)"
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("certificate for {host} is expired")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("certificate for {host} is not valid yet")
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("certificate is not valid for {host}: it names other hosts")
        }
        CertificateError::Revoked => format!("certificate for {host} is revoked"),
        CertificateError::BadSignature => {
            format!("certificate for {host} has an invalid signature")
        }
        // rustls-webpki 0.103 reports a CA certificate served as the server's own certificate
        // only through this variant, whose text is the variant name.
        CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
            format!(
                "certificate for {host} is a CA certificate used as a server certificate \
                 (often a self-signed certificate)"
            )
        }
        _ => return None,
    };
    Some(text)
}

/// Returns the message of the deepest cause, which names the failure most precisely.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut current = err.source();
    while let Some(source) = current {
        parts.push(source.to_string());
        current = source.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("CaUsedAsEndEntity")]
    struct CaUsedAsEndEntity;

    #[test]
    fn certificate_problems_in_plain_words() {
        use rustls::{CertificateError, OtherError};
        use std::sync::Arc;

        let other = CertificateError::Other(OtherError(Arc::new(CaUsedAsEndEntity)));
        let cases = [
            (
                CertificateError::UnknownIssuer,
                "certificate for h.test is not signed by a trusted certificate authority \
                 (it may be self-signed)",
            ),
            (
                CertificateError::Expired,
                "certificate for h.test is expired",
            ),
            (
                CertificateError::NotValidYet,
                "certificate for h.test is not valid yet",
            ),
            (
                CertificateError::NotValidForName,
                "certificate is not valid for h.test: it names other hosts",
            ),
            (
                other,
                "certificate for h.test is a CA certificate used as a server certificate \
                 (often a self-signed certificate)",
            ),
        ];
        for (problem, expected) in cases {
            let error = rustls::Error::InvalidCertificate(problem);
            assert_eq!(
                certificate_problem(&error, "h.test").as_deref(),
                Some(expected)
            );
        }
        let unrelated = rustls::Error::DecryptError;
        assert_eq!(certificate_problem(&unrelated, "h.test"), None);
    }

    #[test]
    fn rustls_error_found_inside_io_error() {
        let inner = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, inner);
        let found = find_source::<rustls::Error>(&io);
        assert!(
            matches!(found, Some(rustls::Error::InvalidCertificate(_))),
            "{found:?}"
        );
    }
}
