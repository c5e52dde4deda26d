//! The `http` check kind: one request, with expectations on status, latency, body and headers.
//!
//! Settings are validated while the checklist loads (method, URL scheme, header names and values,
//! status patterns, JSON paths), so that mistakes in a checklist are load errors, not check errors.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Method, Url};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json_path::JsonPath;

use super::{Assertion, Evidence, Outcome, Probe, ProbeContext};
use crate::duration::format_duration;
use crate::redact::{MASK, Redactor};
use crate::sanitize::{terminal_safe, truncate_chars};

/// Maximum number of characters of the response body shown in the evidence.
const EXCERPT_CHARS: usize = 2048;
/// Maximum number of response headers kept in the evidence.
const MAX_HEADERS: usize = 64;
/// Maximum number of characters of one header value or JSON value shown in the evidence.
const MAX_VALUE_CHARS: usize = 256;

/// Settings of an `http` check.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "HttpCheckSettings")]
pub struct HttpCheck {
    pub method: HttpMethod,
    // The URL and the expectations are boxed to keep checklist items small whatever the kind.
    pub url: Box<HttpUrl>,
    /// Request headers in the order the checklist gives them.
    pub headers: HeaderList,
    pub body: RequestBody,
    /// Maximum number of redirects followed; 0 makes a redirect the response.
    pub follow_redirects: u32,
    pub expect: Box<HttpExpect>,
}

/// The `check` table as written, before the checks that span several keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpCheckSettings {
    #[serde(default)]
    method: HttpMethod,
    url: HttpUrl,
    #[serde(default)]
    headers: HeaderList,
    body: Option<String>,
    json: Option<toml::Table>,
    #[serde(default)]
    follow_redirects: u32,
    #[serde(default)]
    expect: HttpExpect,
}

impl TryFrom<HttpCheckSettings> for HttpCheck {
    type Error = String;

    fn try_from(settings: HttpCheckSettings) -> Result<Self, Self::Error> {
        let body = match (settings.body, settings.json) {
            (Some(_), Some(_)) => {
                return Err("set either `body` or `json`, not both".into());
            }
            (Some(text), None) => RequestBody::Text(text),
            (None, Some(table)) => RequestBody::Json(toml_to_json(&toml::Value::Table(table))),
            (None, None) => RequestBody::None,
        };
        Ok(HttpCheck {
            method: settings.method,
            url: Box::new(settings.url),
            headers: settings.headers,
            body,
            follow_redirects: settings.follow_redirects,
            expect: Box::new(settings.expect),
        })
    }
}

/// The body sent with the request.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    None,
    /// Sent as is, from `body`.
    Text(String),
    /// Sent as JSON with `Content-Type: application/json`, from `json`.
    Json(serde_json::Value),
}

/// An HTTP method that the `method` setting accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMethod(pub Method);

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Default for HttpMethod {
    fn default() -> Self {
        HttpMethod(Method::GET)
    }
}

impl<'de> Deserialize<'de> for HttpMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let upper = text.to_ascii_uppercase();
        if !METHODS.contains(&upper.as_str()) {
            return Err(de::Error::custom(format!(
                "invalid method `{text}`; valid methods: {}",
                METHODS.join(", ")
            )));
        }
        Method::from_bytes(upper.as_bytes())
            .map(HttpMethod)
            .map_err(|err| de::Error::custom(format!("invalid method `{text}`: {err}")))
    }
}

/// An absolute `http://` or `https://` URL with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(pub Url);

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The URL may already contain resolved secrets, so errors never repeat it.
        let url = Url::parse(text.trim())
            .map_err(|err| de::Error::custom(format!("invalid URL: {err}")))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(de::Error::custom(format!(
                "invalid URL scheme `{}`; the URL must start with http:// or https://",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(de::Error::custom("invalid URL: it has no host"));
        }
        Ok(HttpUrl(url))
    }
}

impl HttpUrl {
    /// Returns the URL with its password and every registered secret masked, terminal-safe.
    pub fn masked(&self, redactor: &Redactor) -> String {
        let mut url = self.0.clone();
        if url.password().is_some() {
            // Setting a password fails only for URLs without a host, which the parser rejected.
            let _ = url.set_password(Some(MASK));
        }
        let mut text = url.as_str().to_string();
        if let Some(encoded) = url.password() {
            // The `url` crate percent-encodes the mask in the userinfo, which comes before any
            // other part that could hold the same text. Showing the mask as is reads better.
            text = text.replacen(encoded, MASK, 1);
        }
        terminal_safe(&redactor.redact(&text))
    }

    /// Returns the URL without username and password, as reqwest reports the URL it requested:
    /// reqwest moves the userinfo into an `Authorization` header.
    fn without_userinfo(&self) -> Url {
        let mut url = self.0.clone();
        // Both setters fail only for URLs without a host, which the parser rejected.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url
    }

    /// Returns the base64 credentials of the `Authorization: Basic` header that reqwest builds
    /// from the URL's userinfo, or `None` when the URL has none.
    fn basic_credentials(&self) -> Option<String> {
        use base64::Engine as _;

        let username = self.0.username();
        let password = self.0.password();
        if username.is_empty() && password.is_none() {
            return None;
        }
        // reqwest percent-decodes both parts and joins them as `username:password`.
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        let mut plain = format!("{}:", decode(username));
        if let Some(password) = password {
            plain.push_str(&decode(password));
        }
        Some(base64::engine::general_purpose::STANDARD.encode(plain))
    }

    /// `host:port` of the URL, with the scheme's default port when none is written.
    pub fn authority(&self) -> String {
        let host = self.0.host_str().unwrap_or_default();
        match self.0.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }
}

/// Header names with values, validated as HTTP header syntax, in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderList(pub Vec<(HeaderName, String)>);

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderListVisitor;

        impl<'de> Visitor<'de> for HeaderListVisitor {
            type Value = HeaderList;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a table of header names to string values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderList, A::Error> {
                let mut headers = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    let value: String = map.next_value()?;
                    let header = parse_header_name(&name).map_err(de::Error::custom)?;
                    // The value may be a resolved secret, so the error never repeats it.
                    HeaderValue::from_str(&value).map_err(|_| {
                        de::Error::custom(format!(
                            "invalid value of header `{name}`: only visible ASCII, spaces and \
                             tabs are allowed"
                        ))
                    })?;
                    headers.push((header, value));
                }
                Ok(HeaderList(headers))
            }
        }

        deserializer.deserialize_map(HeaderListVisitor)
    }
}

/// A header name from the checklist, matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderNameSetting(pub HeaderName);

impl<'de> Deserialize<'de> for HeaderNameSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_header_name(&text)
            .map(HeaderNameSetting)
            .map_err(de::Error::custom)
    }
}

fn parse_header_name(text: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(text.trim().as_bytes())
        .map_err(|_| format!("invalid header name `{}`", terminal_safe(text)))
}

/// The expectations of an `http` check, from its `expect` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    #[serde(default)]
    pub status: StatusExpectation,
    /// Fails the check when the response, body included, takes longer.
    #[serde(default, with = "crate::duration::serde_friendly_option")]
    pub max_latency: Option<Duration>,
    #[serde(default)]
    pub json: JsonExpectations,
    #[serde(default)]
    pub body_contains: Vec<String>,
    #[serde(default)]
    pub body_not_contains: Vec<String>,
    #[serde(default)]
    pub headers_present: Vec<HeaderNameSetting>,
    #[serde(default)]
    pub headers_absent: Vec<HeaderNameSetting>,
    #[serde(default)]
    pub headers_equal: HeaderList,
}

/// The accepted response statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusExpectation {
    /// Any of these codes.
    Codes(Vec<u16>),
    /// Any code from `low` to `high`, both included; `text` is the pattern as written.
    Range { low: u16, high: u16, text: String },
}

impl Default for StatusExpectation {
    fn default() -> Self {
        StatusExpectation::Range {
            low: 200,
            high: 299,
            text: "2xx".into(),
        }
    }
}

impl StatusExpectation {
    /// Returns whether the status code is accepted.
    pub fn accepts(&self, code: u16) -> bool {
        match self {
            StatusExpectation::Codes(codes) => codes.contains(&code),
            StatusExpectation::Range { low, high, .. } => (*low..=*high).contains(&code),
        }
    }

    fn parse_pattern(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let invalid = || {
            format!(
                "invalid status pattern `{}`; write a code such as `200`, a class such as \
                 `2xx` or a range such as `200-299`",
                terminal_safe(text)
            )
        };
        let lower = trimmed.to_ascii_lowercase();
        if let Some(class) = lower.strip_suffix("xx") {
            let digit: u16 = class.parse().map_err(|_| invalid())?;
            if !(1..=5).contains(&digit) || class.len() != 1 {
                return Err(invalid());
            }
            return Ok(StatusExpectation::Range {
                low: digit * 100,
                high: digit * 100 + 99,
                text: lower,
            });
        }
        if let Some((low, high)) = trimmed.split_once('-') {
            let low = parse_code(low.trim()).map_err(|_| invalid())?;
            let high = parse_code(high.trim()).map_err(|_| invalid())?;
            if low > high {
                return Err(format!(
                    "invalid status range `{trimmed}`: {low} is greater than {high}"
                ));
            }
            return Ok(StatusExpectation::Range {
                low,
                high,
                text: format!("{low}-{high}"),
            });
        }
        let code = parse_code(trimmed).map_err(|_| invalid())?;
        Ok(StatusExpectation::Codes(vec![code]))
    }
}

impl fmt::Display for StatusExpectation {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        match self {
            StatusExpectation::Codes(codes) => {
                let texts: Vec<String> = codes.iter().map(u16::to_string).collect();
                formatter.write_str(&texts.join(" or "))
            }
            StatusExpectation::Range { text, .. } => formatter.write_str(text),
        }
    }
}

fn parse_code(text: &str) -> Result<u16, String> {
    let code: i64 = text
        .parse()
        .map_err(|_| format!("invalid status code `{text}`"))?;
    check_code(code)
}

fn check_code(code: i64) -> Result<u16, String> {
    match u16::try_from(code) {
        Ok(code) if (100..=599).contains(&code) => Ok(code),
        _ => Err(format!(
            "invalid status code {code}; status codes run from 100 to 599"
        )),
    }
}

impl<'de> Deserialize<'de> for StatusExpectation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;

        impl<'de> Visitor<'de> for StatusVisitor {
            type Value = StatusExpectation;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a status code, a list of codes, or a pattern such as \"2xx\"")
            }

            fn visit_i64<E: de::Error>(self, code: i64) -> Result<StatusExpectation, E> {
                check_code(code)
                    .map(|code| StatusExpectation::Codes(vec![code]))
                    .map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, code: u64) -> Result<StatusExpectation, E> {
                self.visit_i64(i64::try_from(code).unwrap_or(i64::MAX))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<StatusExpectation, E> {
                StatusExpectation::parse_pattern(text).map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StatusExpectation, A::Error> {
                let mut codes = Vec::new();
                while let Some(code) = seq.next_element::<i64>()? {
                    codes.push(check_code(code).map_err(de::Error::custom)?);
                }
                if codes.is_empty() {
                    return Err(de::Error::custom("the list of status codes is empty"));
                }
                Ok(StatusExpectation::Codes(codes))
            }
        }

        deserializer.deserialize_any(StatusVisitor)
    }
}

/// One `expect.json` entry: a JSON path and the value expected there.
#[derive(Debug, Clone)]
pub struct JsonExpectation {
    /// The path as written, such as `$.status`.
    pub path_text: String,
    pub path: JsonPath,
    pub expected: serde_json::Value,
}

/// The `expect.json` table.
#[derive(Debug, Clone, Default)]
pub struct JsonExpectations(pub Vec<JsonExpectation>);

impl<'de> Deserialize<'de> for JsonExpectations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;

        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = JsonExpectations;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a table of JSON paths to expected values")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonExpectations, A::Error> {
                let mut entries = Vec::new();
                while let Some(path_text) = map.next_key::<String>()? {
                    let expected: toml::Value = map.next_value()?;
                    let path = JsonPath::parse(&path_text).map_err(|err| {
                        de::Error::custom(format!(
                            "invalid JSON path `{}`: {err}",
                            terminal_safe(&path_text)
                        ))
                    })?;
                    entries.push(JsonExpectation {
                        path_text,
                        path,
                        expected: toml_to_json(&expected),
                    });
                }
                Ok(JsonExpectations(entries))
            }
        }

        deserializer.deserialize_map(JsonVisitor)
    }
}

/// Converts a TOML value to JSON; a date-time becomes its RFC 3339 text.
fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        toml::Value::String(text) => Json::String(text.clone()),
        toml::Value::Integer(number) => Json::from(*number),
        toml::Value::Float(number) => {
            serde_json::Number::from_f64(*number).map_or(Json::Null, Json::Number)
        }
        toml::Value::Boolean(flag) => Json::Bool(*flag),
        toml::Value::Datetime(datetime) => Json::String(datetime.to_string()),
        toml::Value::Array(items) => Json::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Json::Object(
            table
                .iter()
                .map(|(key, value)| (key.clone(), toml_to_json(value)))
                .collect(),
        ),
    }
}

/// Compares JSON values, treating numbers as equal when their values are (`1` equals `1.0`).
fn json_equal(left: &serde_json::Value, right: &serde_json::Value) -> bool {
    use serde_json::Value as Json;
    match (left, right) {
        (Json::Number(a), Json::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => a == b,
                _ => a.as_f64() == b.as_f64(),
            },
        },
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_equal(x, y))
        }
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| json_equal(x, y)))
        }
        _ => left == right,
    }
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

impl HttpCheck {
    /// Sends the request once and evaluates every expectation against the response.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        // Servers that echo requests show the Basic credentials built from the URL's userinfo,
        // so this run also masks them.
        let with_credentials = self.url.basic_credentials().map(|credentials| {
            let mut redactor = Redactor::clone(&ctx.redactor);
            redactor.add(&credentials);
            redactor
        });
        let redactor = with_credentials.as_ref().unwrap_or(&ctx.redactor);
        let mut evidence = Evidence {
            request: self.request_lines(redactor),
            ..Evidence::default()
        };
        let client = match client_for(self.follow_redirects) {
            Ok(client) => client,
            Err(err) => {
                let summary = format!("could not build the HTTP client: {}", innermost(&err));
                return error_probe(evidence, redactor, summary);
            }
        };

        let started = Instant::now();
        let response = match self.request(&client, ctx.timeout).send().await {
            Ok(response) => response,
            Err(err) => {
                let summary = self.explain_error(&err, ctx.timeout);
                evidence
                    .notes
                    .push(format!("error detail: {}", error_chain(&err)));
                return error_probe(evidence, redactor, summary);
            }
        };
        let status = response.status().as_u16();
        evidence.status = Some(status);
        evidence.headers = shown_headers(response.headers(), redactor, &mut evidence.notes);
        if response.url() != &self.url.without_userinfo() {
            let final_url = HttpUrl(response.url().clone()).masked(redactor);
            evidence.notes.push(format!("redirected to {final_url}"));
        }

        let read = read_body(response, ctx.body_limit).await;
        let latency = started.elapsed();
        evidence.latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
        let read = match read {
            Ok(read) => read,
            Err((partial, err)) => {
                evidence.body_excerpt = Some(body_excerpt(&partial, redactor));
                let summary = if err.is_timeout() {
                    format!(
                        "timed out after {} while reading the response body",
                        format_duration(ctx.timeout)
                    )
                } else {
                    format!("reading the response body failed: {}", innermost(&err))
                };
                return error_probe(evidence, redactor, summary);
            }
        };
        if read.cut {
            evidence
                .notes
                .push(format!("body cut at {} bytes", ctx.body_limit));
        }
        if !read.body.is_empty() {
            evidence.body_excerpt = Some(body_excerpt(&read.body, redactor));
        }
        let final_url = HttpUrl(read.final_url.clone()).masked(redactor);
        tracing::debug!(url = %final_url, status = read.status, "http response read");

        evidence.assertions = self.evaluate(&read, latency, redactor);
        Probe::from_assertions(evidence)
    }

    fn request(&self, client: &Client, timeout: Duration) -> reqwest::RequestBuilder {
        let mut request = client
            .request(self.method.0.clone(), self.url.0.clone())
            .timeout(timeout);
        for (name, value) in &self.headers.0 {
            request = request.header(name.clone(), value.as_str());
        }
        match &self.body {
            RequestBody::None => request,
            RequestBody::Text(text) => request.body(text.clone()),
            RequestBody::Json(value) => request.json(value),
        }
    }

    /// Explains in plain words why a request got no response.
    fn explain_error(&self, err: &reqwest::Error, timeout: Duration) -> String {
        let authority = self.url.authority();
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
            let host = self.url.0.host_str().unwrap_or_default();
            if let Some(problem) = certificate_problem(tls, host) {
                return problem;
            }
        }
        let cause = innermost(err);
        if chain.contains("dns error") || chain.contains("failed to lookup address") {
            let host = self.url.0.host_str().unwrap_or_default();
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

    fn evaluate(
        &self,
        read: &ReadResponse,
        latency: Duration,
        redactor: &Redactor,
    ) -> Vec<Assertion> {
        let expect = &self.expect;
        let mut assertions = vec![Assertion {
            subject: "status".into(),
            expected: expect.status.to_string(),
            actual: read.status.to_string(),
            passed: expect.status.accepts(read.status),
        }];
        if let Some(max) = expect.max_latency {
            assertions.push(Assertion {
                subject: "latency".into(),
                expected: format!("at most {}", format_duration(max)),
                actual: format!("{}ms", latency.as_millis()),
                passed: latency <= max,
            });
        }
        let text = String::from_utf8_lossy(&read.body);
        if !expect.json.0.is_empty() {
            let parsed = serde_json::from_slice::<serde_json::Value>(&read.body);
            for entry in &expect.json.0 {
                assertions.push(json_assertion(entry, &parsed, read.cut, redactor));
            }
        }
        for needle in &expect.body_contains {
            let found = text.contains(needle.as_str());
            assertions.push(Assertion {
                subject: "body contains".into(),
                expected: quoted_text(needle, redactor),
                actual: if found { "found" } else { "not found" }.into(),
                passed: found,
            });
        }
        for needle in &expect.body_not_contains {
            let found = text.contains(needle.as_str());
            assertions.push(Assertion {
                subject: "body does not contain".into(),
                expected: quoted_text(needle, redactor),
                actual: if found { "found" } else { "not found" }.into(),
                passed: !found,
            });
        }
        for name in &expect.headers_present {
            let present = read.headers.contains_key(&name.0);
            assertions.push(header_presence(&name.0, "present", present, present));
        }
        for name in &expect.headers_absent {
            let present = read.headers.contains_key(&name.0);
            assertions.push(header_presence(&name.0, "absent", present, !present));
        }
        for (name, expected) in &expect.headers_equal.0 {
            let actual = read.headers.get(name).map(|value| value.as_bytes());
            let passed = actual == Some(expected.as_bytes());
            let actual = match actual {
                Some(bytes) => shown_header_value(name.as_str(), bytes, redactor),
                None => "absent".into(),
            };
            assertions.push(Assertion {
                subject: format!("header {name}"),
                expected: shown_header_value(name.as_str(), expected.as_bytes(), redactor),
                actual,
                passed,
            });
        }
        assertions
    }

    /// The request as sent: method and URL, then headers, then the body; secrets masked.
    fn request_lines(&self, redactor: &Redactor) -> Vec<String> {
        let mut lines = vec![format!("{} {}", self.method.0, self.url.masked(redactor))];
        for (name, value) in &self.headers.0 {
            lines.push(format!(
                "{name}: {}",
                shown_header_value(name.as_str(), value.as_bytes(), redactor)
            ));
        }
        match &self.body {
            RequestBody::None => {}
            RequestBody::Text(text) => lines.push(format!("body: {}", shown_text(text, redactor))),
            RequestBody::Json(value) => lines.push(format!(
                "json: {}",
                shown_text(&value.to_string(), redactor)
            )),
        }
        lines
    }

    /// Returns the settings as label/value lines, secrets masked.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = vec![
            ("method".to_string(), self.method.0.to_string()),
            ("url".to_string(), self.url.masked(redactor)),
        ];
        for (name, value) in &self.headers.0 {
            let shown = shown_header_value(name.as_str(), value.as_bytes(), redactor);
            lines.push((format!("header {name}"), shown));
        }
        match &self.body {
            RequestBody::None => {}
            RequestBody::Text(text) => lines.push(("body".into(), shown_text(text, redactor))),
            RequestBody::Json(value) => {
                lines.push(("json".into(), shown_text(&value.to_string(), redactor)))
            }
        }
        if self.follow_redirects > 0 {
            lines.push((
                "follow redirects".into(),
                format!("up to {}", self.follow_redirects),
            ));
        }
        let expect = &self.expect;
        lines.push(("expect status".into(), expect.status.to_string()));
        if let Some(max) = expect.max_latency {
            lines.push((
                "expect latency".into(),
                format!("at most {}", format_duration(max)),
            ));
        }
        for entry in &expect.json.0 {
            lines.push((
                format!("expect json {}", terminal_safe(&entry.path_text)),
                shown_text(&entry.expected.to_string(), redactor),
            ));
        }
        for needle in &expect.body_contains {
            lines.push(("expect body contains".into(), shown_text(needle, redactor)));
        }
        for needle in &expect.body_not_contains {
            lines.push((
                "expect body does not contain".into(),
                shown_text(needle, redactor),
            ));
        }
        for name in &expect.headers_present {
            lines.push(("expect header present".into(), name.0.to_string()));
        }
        for name in &expect.headers_absent {
            lines.push(("expect header absent".into(), name.0.to_string()));
        }
        for (name, value) in &expect.headers_equal.0 {
            let shown = shown_header_value(name.as_str(), value.as_bytes(), redactor);
            lines.push((format!("expect header {name}"), shown));
        }
        lines
    }
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

fn json_assertion(
    entry: &JsonExpectation,
    parsed: &Result<serde_json::Value, serde_json::Error>,
    body_cut: bool,
    redactor: &Redactor,
) -> Assertion {
    let subject = format!("json {}", terminal_safe(&entry.path_text));
    let expected = shown_json(&entry.expected, redactor);
    let document = match parsed {
        Ok(document) => document,
        Err(err) => {
            let reason = if body_cut {
                "body is not JSON (it was cut at the body limit)".to_string()
            } else {
                format!("body is not JSON ({err})")
            };
            return Assertion {
                subject,
                expected,
                actual: reason,
                passed: false,
            };
        }
    };
    let nodes = entry.path.query(document).all();
    // One match is compared as is; several matches are compared as a list of the matches.
    let (actual, passed) = match nodes.as_slice() {
        [] => ("no match".to_string(), false),
        [node] => (
            shown_json(node, redactor),
            json_equal(node, &entry.expected),
        ),
        several => {
            let list =
                serde_json::Value::Array(several.iter().map(|node| (*node).clone()).collect());
            let passed = json_equal(&list, &entry.expected);
            (shown_json(&list, redactor), passed)
        }
    };
    Assertion {
        subject,
        expected,
        actual,
        passed,
    }
}

fn header_presence(name: &HeaderName, expected: &str, present: bool, passed: bool) -> Assertion {
    Assertion {
        subject: format!("header {name}"),
        expected: expected.into(),
        actual: if present { "present" } else { "absent" }.into(),
        passed,
    }
}

/// Response headers fit to show: masked, terminal-safe, bounded in count and length.
fn shown_headers(
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

fn shown_header_value(name: &str, value: &[u8], redactor: &Redactor) -> String {
    let text = String::from_utf8_lossy(value);
    let masked = redactor.redact_header(name, &text);
    truncate_chars(&terminal_safe(&masked), MAX_VALUE_CHARS)
}

fn shown_text(text: &str, redactor: &Redactor) -> String {
    truncate_chars(&terminal_safe(&redactor.redact(text)), MAX_VALUE_CHARS)
}

/// Returns the text masked, then quoted and escaped like a Rust string literal.
fn quoted_text(text: &str, redactor: &Redactor) -> String {
    shown_text(&format!("{:?}", redactor.redact(text)), redactor)
}

fn shown_json(value: &serde_json::Value, redactor: &Redactor) -> String {
    shown_text(&value.to_string(), redactor)
}

fn body_excerpt(body: &[u8], redactor: &Redactor) -> String {
    // Secrets are masked on the whole body before cutting, so that a cut never leaves part of
    // a secret visible.
    let text = redactor.redact(&String::from_utf8_lossy(body));
    truncate_chars(&terminal_safe(&text), EXCERPT_CHARS)
}

fn error_probe(mut evidence: Evidence, redactor: &Redactor, summary: String) -> Probe {
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
fn certificate_problem(error: &rustls::Error, host: &str) -> Option<String> {
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

    fn parse(text: &str) -> Result<HttpCheck, crate::checks::SpecError> {
        let table: toml::Table = toml::from_str(text).expect("test TOML parses");
        crate::checks::deserialize_settings(table)
    }

    #[test]
    fn status_patterns_parse() {
        let check = parse("url = \"http://127.0.0.1/\"\nexpect.status = \"2xx\"").unwrap();
        assert!(check.expect.status.accepts(204));
        assert!(!check.expect.status.accepts(301));
        let check = parse("url = \"http://127.0.0.1/\"\nexpect.status = [200, 204]").unwrap();
        assert_eq!(check.expect.status.to_string(), "200 or 204");
        let check = parse("url = \"http://127.0.0.1/\"\nexpect.status = \"300-399\"").unwrap();
        assert!(check.expect.status.accepts(302));
    }

    #[test]
    fn default_status_is_2xx() {
        let check = parse("url = \"http://127.0.0.1/\"").unwrap();
        assert_eq!(check.expect.status.to_string(), "2xx");
    }

    #[test]
    fn bad_settings_name_their_field() {
        let cases = [
            (
                "url = \"http://127.0.0.1/\"\nexpect.status = \"7xx\"",
                "expect.status",
            ),
            (
                "url = \"http://127.0.0.1/\"\nexpect.status = 42",
                "expect.status",
            ),
            (
                "url = \"http://127.0.0.1/\"\nexpect.status = \"299-200\"",
                "expect.status",
            ),
            (
                "url = \"http://127.0.0.1/\"\nexpect.json = { \"$.[\" = 1 }",
                "expect.json",
            ),
            ("url = \"http://127.0.0.1/\"\nmethod = \"FETCH\"", "method"),
            ("url = \"ftp://127.0.0.1/\"", "url"),
            ("url = \"not a url\"", "url"),
            (
                "url = \"http://127.0.0.1/\"\nheaders = { \"bad name\" = \"x\" }",
                "headers",
            ),
            (
                "url = \"http://127.0.0.1/\"\nexpect.colour = 1",
                "expect.colour",
            ),
        ];
        for (text, path) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.path, path, "{text}: {}", err.message);
        }
    }

    #[test]
    fn body_and_json_together_rejected() {
        let err = parse("url = \"http://127.0.0.1/\"\nbody = \"x\"\njson = { a = 1 }").unwrap_err();
        assert!(err.message.contains("not both"), "{}", err.message);
    }

    #[test]
    fn json_numbers_compare_by_value() {
        assert!(json_equal(
            &serde_json::json!(200),
            &serde_json::json!(200.0)
        ));
        assert!(!json_equal(
            &serde_json::json!(200),
            &serde_json::json!("200")
        ));
    }

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

    #[test]
    fn describe_masks_secrets() {
        let check = parse(
            "url = \"http://user:pw-secret@127.0.0.1/?key=k3y-value\"\n\
             headers = { Authorization = \"Bearer abc\", X-Trace = \"k3y-value\" }",
        )
        .unwrap();
        let mut redactor = Redactor::new();
        redactor.add("k3y-value");
        let text = format!("{:?}", check.describe(&redactor));
        assert!(!text.contains("k3y-value"), "{text}");
        assert!(!text.contains("pw-secret"), "{text}");
        assert!(!text.contains("Bearer abc"), "{text}");
    }
}
