//! The `input` check kind: families of hostile input that must be rejected without leaking errors.
//!
//! Each payload replaces `{payload}` in the URL template or in the JSON template. In a URL
//! golive percent-encodes every character except letters, digits and `-._~`, so that the
//! application receives the payload exactly as written after its one round of URL decoding. A
//! payload written already encoded (`..%2f..`) therefore reaches the application encoded, which
//! probes double decoding.
//!
//! The `oversized` request goes over golive's own connection (see [`oversized`]), so that a 413
//! sent before the body is fully written counts as the response. Every other request goes
//! through the shared HTTP client.

mod oversized;

use std::fmt;

use futures::StreamExt as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;

use super::http::client::{Exchange, RequestParts, exchange};
use super::http::{HeaderList, HttpMethod, HttpUrl, StatusExpectation};
use super::{Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Outcome, Probe};
use super::{ProbeContext, leak};
use crate::redact::Redactor;
use crate::sanitize::{terminal_safe, truncate_chars};

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "json_template",
    "families",
    "payloads",
    "oversized_bytes",
    "expect",
];
/// Keys of the kind's `expect` table: one status pattern per family.
pub const EXPECT_KEYS: &[&str] = &["sql_injection", "xss", "path_traversal", "oversized"];

/// The placeholder replaced by each payload.
const PLACEHOLDER: &str = "{payload}";
/// Default size of the `oversized` body: 11 MiB, just above the 10 MB payload limit of Amazon
/// API Gateway REST APIs.
const DEFAULT_OVERSIZED_BYTES: usize = 11 * 1024 * 1024;
/// Maximum of `oversized_bytes`, so that one check cannot take an unbounded amount of memory.
const MAX_OVERSIZED_BYTES: usize = 256 * 1024 * 1024;
/// Maximum number of requests of one check in flight at once.
const CONCURRENCY: usize = 4;
/// Maximum number of characters of a payload shown in a row label.
const PAYLOAD_CHARS: usize = 60;

/// Characters percent-encoded in a payload placed in a URL: all but letters, digits and the
/// unreserved marks of RFC 3986.
const PAYLOAD_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Text that shows a response serves a system file: Unix `/etc/passwd` and Windows `win.ini`.
const SYSTEM_FILE_MARKERS: &[&str] = &["root:x:0:0", "[boot loader]", "; for 16-bit app support"];

/// A family of hostile input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    SqlInjection,
    Xss,
    PathTraversal,
    Oversized,
}

impl Family {
    const ALL: [Family; 4] = [
        Family::SqlInjection,
        Family::Xss,
        Family::PathTraversal,
        Family::Oversized,
    ];

    /// Returns the name as written in a checklist.
    pub fn name(self) -> &'static str {
        match self {
            Family::SqlInjection => "sql_injection",
            Family::Xss => "xss",
            Family::PathTraversal => "path_traversal",
            Family::Oversized => "oversized",
        }
    }

    /// Returns the payloads built into golive for the family. `oversized` has none because its
    /// body is generated.
    pub fn builtin_payloads(self) -> &'static [&'static str] {
        match self {
            Family::SqlInjection => &[
                "' OR '1'='1",
                "1; DROP TABLE users--",
                "' UNION SELECT NULL--",
                "admin'--",
                "\") OR (\"1\"=\"1",
            ],
            Family::Xss => &[
                "<script>alert(1)</script>",
                "\"><img src=x onerror=alert(1)>",
                "<svg onload=alert(1)>",
                "'><svg/onload=alert(1)>",
            ],
            Family::PathTraversal => &[
                "../../etc/passwd",
                "..%2f..%2fetc%2fpasswd",
                "....//....//etc/passwd",
                "..\\..\\windows\\win.ini",
            ],
            Family::Oversized => &[],
        }
    }

    /// Returns the statuses accepted when the checklist sets none. `None` for `xss`, which
    /// accepts a 4xx, or a 2xx that does not reflect the payload unescaped.
    fn default_expectation(self) -> Option<StatusExpectation> {
        match self {
            Family::SqlInjection => Some(StatusExpectation::Codes(vec![400])),
            Family::Xss => None,
            Family::PathTraversal => Some(StatusExpectation::Codes(vec![400, 404])),
            Family::Oversized => Some(StatusExpectation::Codes(vec![413])),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// Extra payloads per family, from the `payloads` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtraPayloads {
    pub sql_injection: Vec<String>,
    pub xss: Vec<String>,
    pub path_traversal: Vec<String>,
}

/// Accepted statuses per family, from the `expect` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputExpect {
    pub sql_injection: Option<StatusExpectation>,
    pub xss: Option<StatusExpectation>,
    pub path_traversal: Option<StatusExpectation>,
    pub oversized: Option<StatusExpectation>,
}

impl InputExpect {
    fn get(&self, family: Family) -> Option<&StatusExpectation> {
        match family {
            Family::SqlInjection => self.sql_injection.as_ref(),
            Family::Xss => self.xss.as_ref(),
            Family::PathTraversal => self.path_traversal.as_ref(),
            Family::Oversized => self.oversized.as_ref(),
        }
    }
}

/// Settings of the check.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "InputSettings")]
pub struct InputCheck {
    /// The URL with `{payload}` where the payload goes, or without it when only the JSON
    /// template has one.
    pub url: String,
    pub method: HttpMethod,
    pub headers: HeaderList,
    /// A JSON body whose string values may contain `{payload}`.
    pub json_template: Option<serde_json::Value>,
    pub families: Vec<Family>,
    pub payloads: ExtraPayloads,
    pub oversized_bytes: usize,
    pub expect: InputExpect,
}

/// The `check` table as written, before the checks that span several keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSettings {
    url: String,
    method: Option<HttpMethod>,
    #[serde(default)]
    headers: HeaderList,
    json_template: Option<toml::Table>,
    families: Option<Vec<Family>>,
    #[serde(default)]
    payloads: ExtraPayloads,
    oversized_bytes: Option<usize>,
    #[serde(default)]
    expect: InputExpect,
}

impl TryFrom<InputSettings> for InputCheck {
    type Error = String;

    fn try_from(settings: InputSettings) -> Result<Self, Self::Error> {
        let json_template = settings
            .json_template
            .map(|table| serde_json::to_value(toml::Value::Table(table)))
            .transpose()
            .map_err(|err| format!("invalid `json_template`: {err}"))?;
        let in_json = json_template.as_ref().is_some_and(contains_placeholder);
        if !settings.url.contains(PLACEHOLDER) && !in_json {
            return Err(format!(
                "neither `url` nor `json_template` contains `{PLACEHOLDER}`, so the payloads \
                 have nowhere to go"
            ));
        }
        // The URL is only valid once the placeholder is replaced, so a sample payload is used.
        let sample = settings.url.replace(PLACEHOLDER, "golive");
        parse_url(&sample)?;
        let families = settings.families.unwrap_or_else(|| Family::ALL.to_vec());
        if families.is_empty() {
            return Err("`families` is empty; pick at least one family".into());
        }
        let oversized_bytes = settings.oversized_bytes.unwrap_or(DEFAULT_OVERSIZED_BYTES);
        if !(1..=MAX_OVERSIZED_BYTES).contains(&oversized_bytes) {
            return Err(format!(
                "invalid `oversized_bytes` {oversized_bytes}; it must be from 1 to \
                 {MAX_OVERSIZED_BYTES}"
            ));
        }
        let method = settings.method.unwrap_or_else(|| {
            if json_template.is_some() {
                HttpMethod(Method::POST)
            } else {
                HttpMethod::default()
            }
        });
        Ok(InputCheck {
            url: settings.url,
            method,
            headers: settings.headers,
            json_template,
            families,
            payloads: settings.payloads,
            oversized_bytes,
            expect: settings.expect,
        })
    }
}

fn parse_url(text: &str) -> Result<HttpUrl, String> {
    HttpUrl::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text))
        .map_err(|err| err.to_string())
}

fn contains_placeholder(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains(PLACEHOLDER),
        serde_json::Value::Array(items) => items.iter().any(contains_placeholder),
        serde_json::Value::Object(map) => map.values().any(contains_placeholder),
        _ => false,
    }
}

/// Returns the template with `{payload}` replaced in every string value.
fn fill_json(template: &serde_json::Value, payload: &str) -> serde_json::Value {
    use serde_json::Value;
    match template {
        Value::String(text) => Value::String(text.replace(PLACEHOLDER, payload)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| fill_json(item, payload)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), fill_json(value, payload)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One request to send.
struct Planned {
    family: Family,
    /// The payload as written; for `oversized`, a description of the body.
    label: String,
    payload: Option<String>,
    parts: RequestParts,
}

/// Response to one payload, with its verdict.
struct PayloadResult {
    family: Family,
    label: String,
    exchange: Exchange,
    /// Reasons the response failed, empty when it passed.
    problems: Vec<String>,
    leaks: Vec<leak::Leak>,
}

impl InputCheck {
    /// Returns the payloads of a family: built-in first, then the checklist's.
    fn payloads_of(&self, family: Family) -> Vec<String> {
        let extra: &[String] = match family {
            Family::SqlInjection => &self.payloads.sql_injection,
            Family::Xss => &self.payloads.xss,
            Family::PathTraversal => &self.payloads.path_traversal,
            Family::Oversized => &[],
        };
        let builtin = family
            .builtin_payloads()
            .iter()
            .map(|payload| payload.to_string());
        builtin.chain(extra.iter().cloned()).collect()
    }

    /// Builds the request carrying `payload`, or an error naming what is invalid.
    fn request(&self, payload: &str) -> Result<RequestParts, String> {
        let encoded = utf8_percent_encode(payload, PAYLOAD_ENCODE).to_string();
        let url = parse_url(&self.url.replace(PLACEHOLDER, &encoded))?;
        let mut parts = RequestParts::new(self.method.0.clone(), url.0);
        parts.headers = self.headers.0.clone();
        if let Some(template) = &self.json_template {
            let body = serde_json::to_vec(&fill_json(template, payload))
                .map_err(|err| format!("could not build the JSON body: {err}"))?;
            parts
                .headers
                .push((CONTENT_TYPE, "application/json".into()));
            parts.body = Some(body);
        }
        Ok(parts)
    }

    /// Builds the `oversized` request: the template's placeholder filled with a long run of
    /// `A`s when there is a JSON template, otherwise a raw body of that many bytes.
    fn oversized_request(&self) -> Result<RequestParts, String> {
        let url = parse_url(&self.url.replace(PLACEHOLDER, ""))?;
        let method = match self.method.0 {
            // A body needs a method that carries one.
            Method::GET | Method::HEAD => Method::POST,
            ref other => other.clone(),
        };
        let mut parts = RequestParts::new(method, url.0);
        parts.headers = self.headers.0.clone();
        let filler = "A".repeat(self.oversized_bytes);
        match &self.json_template {
            Some(template) => {
                let body = serde_json::to_vec(&fill_json(template, &filler))
                    .map_err(|err| format!("could not build the JSON body: {err}"))?;
                parts
                    .headers
                    .push((CONTENT_TYPE, "application/json".into()));
                parts.body = Some(body);
            }
            None => {
                parts
                    .headers
                    .push((CONTENT_TYPE, "application/octet-stream".into()));
                parts.body = Some(filler.into_bytes());
            }
        }
        Ok(parts)
    }

    fn plan(&self) -> Result<Vec<Planned>, String> {
        let mut plan = Vec::new();
        for &family in &self.families {
            if family == Family::Oversized {
                plan.push(Planned {
                    family,
                    label: format!("{} byte body", self.oversized_bytes),
                    payload: None,
                    parts: self.oversized_request()?,
                });
                continue;
            }
            for payload in self.payloads_of(family) {
                plan.push(Planned {
                    family,
                    label: payload.clone(),
                    parts: self.request(&payload)?,
                    payload: Some(payload),
                });
            }
        }
        Ok(plan)
    }

    /// Sends every payload of every chosen family and judges each response.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let plan = match self.plan() {
            Ok(plan) => plan,
            Err(reason) => return Probe::error(terminal_safe(&ctx.redactor.redact(&reason))),
        };
        let results: Vec<(String, Result<PayloadResult, Probe>)> = futures::stream::iter(plan)
            .map(|planned| async move {
                let name = row_label(planned.family, &planned.label, &ctx.redactor);
                let sent = match planned.family {
                    Family::Oversized => oversized::send(ctx, &planned.parts).await,
                    _ => exchange(ctx, &planned.parts).await,
                };
                let result = match sent {
                    Ok(exchange) => Ok(PayloadResult {
                        leaks: leak::scan(&exchange.body, &exchange.headers, &ctx.redactor),
                        problems: Vec::new(),
                        family: planned.family,
                        label: planned.label.clone(),
                        exchange,
                    }),
                    Err(probe) => Err(probe),
                };
                let result = result.map(|mut result| {
                    result.problems = self.judge(&planned, &result.exchange, &result.leaks);
                    result
                });
                (name, result)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut done = Vec::with_capacity(results.len());
        for (name, result) in results {
            match result {
                Ok(result) => done.push(result),
                Err(mut probe) => {
                    probe.summary = format!("{name}: {}", probe.summary);
                    return probe;
                }
            }
        }
        self.evaluate(&done, &ctx.redactor)
    }

    /// Returns why a response fails its family's expectation; empty when it passes.
    fn judge(&self, planned: &Planned, exchange: &Exchange, leaks: &[leak::Leak]) -> Vec<String> {
        let family = planned.family;
        let status = exchange.status;
        let mut problems = Vec::new();

        let expected = self.expect.get(family).cloned();
        match expected.or_else(|| family.default_expectation()) {
            Some(expected) if !expected.accepts(status) => {
                problems.push(format!("status {status}, expected {expected}"));
            }
            Some(_) => {}
            // Only `xss` has no default: an escaped 2xx is as good as a rejection.
            None if (200..=299).contains(&status) || (400..=499).contains(&status) => {}
            None => problems.push(format!("status {status}, expected 4xx or an escaped 2xx")),
        }

        let body = exchange.body_text();
        let reflected = planned
            .payload
            .as_ref()
            .is_some_and(|payload| body.contains(payload.as_str()));
        // A JSON string that contains markup is not rendered by a browser, so it is no XSS.
        if family == Family::Xss && reflected && !is_json(exchange) {
            problems.push("reflects the payload unescaped".into());
        }
        let marker = SYSTEM_FILE_MARKERS
            .iter()
            .find(|marker| body.contains(**marker));
        if family == Family::PathTraversal
            && let Some(marker) = marker
        {
            problems.push(format!("serves a system file (`{marker}`)"));
        }

        if !leaks.is_empty() {
            problems.push(format!("leaks {}", leak::kinds_text(leaks)));
        }
        problems
    }

    fn evaluate(&self, done: &[PayloadResult], redactor: &Redactor) -> Probe {
        let mut evidence = Evidence::default();
        let mut table = EvidenceTable {
            title: "payloads".into(),
            columns: vec!["status".into(), "verdict".into()],
            rows: Vec::new(),
        };
        for result in done {
            let label = row_label(result.family, &result.label, redactor);
            let passed = result.problems.is_empty();
            let verdict = if passed {
                "pass".to_string()
            } else {
                shown(&result.problems.join("; "), redactor)
            };
            table.rows.push(EvidenceRow {
                label: label.clone(),
                cells: vec![
                    EvidenceCell {
                        text: result.exchange.status.to_string(),
                        passed: None,
                    },
                    EvidenceCell {
                        text: verdict.clone(),
                        passed: Some(passed),
                    },
                ],
            });
            if !passed {
                evidence.assertions.push(Assertion {
                    subject: label.clone(),
                    expected: self.expectation_text(result.family),
                    actual: verdict,
                    passed: false,
                });
            }
            for line in &result.exchange.request_lines {
                evidence.request.push(format!("{label}: {line}"));
            }
            for found in &result.leaks {
                evidence.notes.push(format!("{label}: {found}"));
            }
        }
        evidence.tables.push(table);

        let failed: Vec<&PayloadResult> = done
            .iter()
            .filter(|result| !result.problems.is_empty())
            .collect();
        let Some(first) = failed.first() else {
            return Probe {
                outcome: Outcome::Pass,
                summary: format!("{} payloads met their expectation", done.len()),
                evidence,
            };
        };

        // The response shown in full is the first failing one, since it explains the outcome.
        let shown_exchange = first.exchange.evidence(redactor);
        evidence.status = shown_exchange.status;
        evidence.headers = shown_exchange.headers;
        evidence.body_excerpt = shown_exchange.body_excerpt;
        evidence.latency_ms = shown_exchange.latency_ms;
        let mut summary = format!(
            "{}: {}",
            row_label(first.family, &first.label, redactor),
            shown(&first.problems.join("; "), redactor)
        );
        if failed.len() > 1 {
            summary.push_str(&format!(" (and {} more payloads failed)", failed.len() - 1));
        }
        Probe {
            outcome: Outcome::Fail,
            summary,
            evidence,
        }
    }

    /// Returns what a family's responses must show, such as `status 400, no error leak`.
    fn expectation_text(&self, family: Family) -> String {
        let status = match self.expect.get(family) {
            Some(expected) => format!("status {expected}"),
            None => match family.default_expectation() {
                Some(expected) => format!("status {expected}"),
                None => "status 4xx or an escaped 2xx".to_string(),
            },
        };
        let content = match family {
            Family::Xss => ", no unescaped reflection",
            Family::PathTraversal => ", no system file",
            Family::SqlInjection | Family::Oversized => "",
        };
        format!("{status}{content}, no error leak")
    }

    /// Returns the settings as label/value lines, secrets masked.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = vec![
            ("method".to_string(), self.method.0.to_string()),
            ("url".to_string(), shown(&self.url, redactor)),
        ];
        if let Some(template) = &self.json_template {
            lines.push((
                "json template".into(),
                shown(&template.to_string(), redactor),
            ));
        }
        for family in &self.families {
            let expected = self.expectation_text(*family);
            let count = match family {
                Family::Oversized => format!("{} byte body", self.oversized_bytes),
                _ => format!("{} payloads", self.payloads_of(*family).len()),
            };
            lines.push((format!("family {family}"), format!("{count}, {expected}")));
        }
        lines
    }
}

fn is_json(exchange: &Exchange) -> bool {
    exchange
        .header_text("content-type")
        .is_some_and(|value| value.to_ascii_lowercase().contains("json"))
}

/// Returns text fit for the evidence: masked, terminal-safe, on one line.
fn shown(text: &str, redactor: &Redactor) -> String {
    terminal_safe(&redactor.redact(text).replace(['\n', '\r'], " "))
}

/// Returns the row label of a payload, such as `sql_injection ' OR '1'='1`, masked and bounded.
fn row_label(family: Family, label: &str, redactor: &Redactor) -> String {
    let payload = truncate_chars(&shown(label, redactor), PAYLOAD_CHARS);
    format!("{family} {payload}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<InputCheck, super::super::SpecError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        super::super::deserialize_settings(table)
    }

    #[test]
    fn payload_encoded_in_query() {
        let check = parse("url = \"http://127.0.0.1:1/s?q={payload}\"").unwrap();
        let parts = check.request("' OR '1'='1").unwrap();
        assert_eq!(parts.url.query(), Some("q=%27%20OR%20%271%27%3D%271"));
    }

    #[test]
    fn traversal_survives_url_parsing() {
        let check = parse("url = \"http://127.0.0.1:1/files/{payload}\"").unwrap();
        let parts = check.request("../../etc/passwd").unwrap();
        assert_eq!(parts.url.path(), "/files/..%2F..%2Fetc%2Fpasswd");
    }

    #[test]
    fn json_template_filled() {
        let text = "url = \"http://127.0.0.1:1/s\"\njson_template = { q = \"x{payload}\", n = 1 }";
        let check = parse(text).unwrap();
        assert_eq!(check.method.0, Method::POST);
        let parts = check.request("<b>").unwrap();
        let body: serde_json::Value = serde_json::from_slice(&parts.body.unwrap()).unwrap();
        assert_eq!(body["q"], "x<b>");
        assert_eq!(body["n"], 1);
    }

    #[test]
    fn missing_placeholder_rejected() {
        let err = parse("url = \"http://127.0.0.1:1/s\"").unwrap_err();
        assert!(err.message.contains("{payload}"), "{}", err.message);
    }

    #[test]
    fn unknown_family_rejected() {
        let err =
            parse("url = \"http://127.0.0.1:1/s?q={payload}\"\nfamilies = [\"ldap\"]").unwrap_err();
        assert!(err.message.contains("ldap"), "{}", err.message);
    }

    #[test]
    fn extra_payloads_follow_builtin() {
        let text = "url = \"http://127.0.0.1:1/s?q={payload}\"\n\
                    payloads = { sql_injection = [\"1 OR 1=1\"] }";
        let check = parse(text).unwrap();
        let payloads = check.payloads_of(Family::SqlInjection);
        assert_eq!(payloads.first().map(String::as_str), Some("' OR '1'='1"));
        assert_eq!(payloads.last().map(String::as_str), Some("1 OR 1=1"));
    }

    #[test]
    fn oversized_body_has_requested_size() {
        let text = "url = \"http://127.0.0.1:1/s?q={payload}\"\noversized_bytes = 1000";
        let check = parse(text).unwrap();
        let parts = check.oversized_request().unwrap();
        assert_eq!(parts.method, Method::POST);
        assert_eq!(parts.body.map(|body| body.len()), Some(1000));
    }
}
