//! The `http` check kind: one request, with expectations on status, latency, body and headers.
//!
//! Settings are validated while the checklist loads (method, URL scheme, header names and values,
//! status patterns, JSON paths), so that mistakes in a checklist are load errors, not check errors.

pub mod client;
mod settings;

use std::fmt;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderName};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json_path::JsonPath;

use super::{Assertion, Probe, ProbeContext, leak};
use crate::duration::format_duration;
use crate::redact::Redactor;
use crate::sanitize::terminal_safe;
use client::{Exchange, RequestParts, exchange, shown_header_value, shown_text};
pub use settings::{
    HeaderList, HeaderNameSetting, HttpMethod, HttpUrl, StatusExpectation, parse_header_name,
};

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
    /// Whether the response may show a stack trace, database error or internal path, as
    /// [`leak::scan`] finds them; `None` leaves it unchecked.
    #[serde(default)]
    pub error_leak: Option<bool>,
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

impl HttpCheck {
    /// Sends the request once and evaluates every expectation against the response.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let exchange = match exchange(ctx, &self.request_parts()).await {
            Ok(exchange) => exchange,
            Err(probe) => return probe,
        };
        let redactor = exchange.redactor(&ctx.redactor);
        let mut evidence = exchange.evidence(&redactor);
        evidence.assertions = self.evaluate(&exchange, &redactor);
        Probe::from_assertions(evidence)
    }

    /// Returns the request to send. A `json` body gets `Content-Type: application/json` unless
    /// the checklist sets a content type itself.
    pub fn request_parts(&self) -> RequestParts {
        let mut parts = RequestParts::new(self.method.0.clone(), self.url.0.clone());
        parts.headers = self.headers.0.clone();
        parts.follow_redirects = self.follow_redirects;
        parts.body = match &self.body {
            RequestBody::None => None,
            RequestBody::Text(text) => Some(text.clone().into_bytes()),
            RequestBody::Json(value) => {
                let has_type = parts.headers.iter().any(|(name, _)| name == CONTENT_TYPE);
                if !has_type {
                    parts
                        .headers
                        .push((CONTENT_TYPE, "application/json".to_string()));
                }
                Some(value.to_string().into_bytes())
            }
        };
        parts
    }

    fn evaluate(&self, read: &Exchange, redactor: &Redactor) -> Vec<Assertion> {
        let latency = read.latency;
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
                assertions.push(json_assertion(entry, &parsed, read.body_cut, redactor));
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
        if let Some(allowed) = expect.error_leak {
            assertions.push(leak_assertion(read, allowed, redactor));
        }
        assertions
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
        if let Some(allowed) = expect.error_leak {
            let shown = if allowed { "allowed" } else { "none" };
            lines.push(("expect error leak".into(), shown.into()));
        }
        lines
    }
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

/// Builds the `error leak` assertion. With `allowed = false` a leak fails it; with `true` the
/// response must leak, which lets a checklist confirm that a known-bad route is detected.
fn leak_assertion(read: &Exchange, allowed: bool, redactor: &Redactor) -> Assertion {
    let leaks = leak::scan(&read.body, &read.headers, redactor);
    if !allowed {
        return leak::assertion(&leaks);
    }
    let found = leaks.first().map(ToString::to_string);
    Assertion {
        subject: "error leak".into(),
        expected: "a stack trace, database error or internal path".into(),
        actual: found.clone().unwrap_or_else(|| "none found".into()),
        passed: found.is_some(),
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

/// Returns the text masked, then quoted and escaped like a Rust string literal.
fn quoted_text(text: &str, redactor: &Redactor) -> String {
    shown_text(&format!("{:?}", redactor.redact(text)), redactor)
}

fn shown_json(value: &serde_json::Value, redactor: &Redactor) -> String {
    shown_text(&value.to_string(), redactor)
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
