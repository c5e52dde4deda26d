//! The `cors` check kind: a foreign Origin must not be reflected or allowed with credentials.
//!
//! The check sends the request with an `Origin` header naming a site the service must not
//! trust, and optionally a preflight `OPTIONS` request first. The origin is only a header value:
//! nothing ever connects to it.

use reqwest::Method;
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_METHOD,
    HeaderName, ORIGIN,
};
use serde::{Deserialize, Deserializer, de};

use super::http::client::{Exchange, RequestParts, exchange, shown_header_value, shown_text};
use super::http::{HeaderList, HttpMethod, HttpUrl};
use super::{Assertion, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["url", "method", "headers", "origin", "preflight", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["allowed_origins"];

/// The foreign origin sent by default. The `.example` top-level domain is reserved (RFC 2606),
/// so it names no real site.
pub const DEFAULT_ORIGIN: &str = "https://evil.example";

/// Response headers shown in the preflight table.
const PREFLIGHT_HEADERS: &[&str] = &[
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
];

/// Settings of a `cors` check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsCheck {
    #[serde(default)]
    pub method: HttpMethod,
    pub url: Box<HttpUrl>,
    /// Request headers in the order the checklist gives them, sent with both requests.
    #[serde(default)]
    pub headers: HeaderList,
    /// The foreign origin sent in `Origin`.
    #[serde(default = "default_origin")]
    pub origin: OriginSetting,
    /// Sends a preflight `OPTIONS` request before the request itself.
    #[serde(default)]
    pub preflight: bool,
    #[serde(default)]
    pub expect: CorsExpect,
}

/// The `expect` table of a `cors` check.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsExpect {
    /// Origins the service may name in `Access-Control-Allow-Origin`. Empty allows any fixed
    /// origin other than the foreign one.
    #[serde(default)]
    pub allowed_origins: Vec<OriginSetting>,
}

/// A serialised origin: `scheme://host[:port]`, without path, as browsers send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginSetting(pub String);

fn default_origin() -> OriginSetting {
    OriginSetting(DEFAULT_ORIGIN.to_string())
}

impl<'de> Deserialize<'de> for OriginSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let invalid = || {
            de::Error::custom(format!(
                "invalid origin `{}`; write scheme and host, such as `https://app.example`",
                crate::sanitize::terminal_safe(&text)
            ))
        };
        let url = url::Url::parse(text.trim()).map_err(|_| invalid())?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid());
        }
        // `ascii_serialization` drops a trailing slash and a default port, as browsers do.
        Ok(OriginSetting(url.origin().ascii_serialization()))
    }
}

impl CorsCheck {
    /// Sends the preflight when set, then the request, each with the foreign `Origin`, and
    /// checks what the responses allow.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let preflight = if self.preflight {
            match exchange(ctx, &self.preflight_parts()).await {
                Ok(exchange) => Some(exchange),
                Err(probe) => return probe,
            }
        } else {
            None
        };
        let main = match exchange(ctx, &self.request_parts()).await {
            Ok(exchange) => exchange,
            Err(probe) => return probe,
        };
        let redactor = main.redactor(&ctx.redactor);
        let mut evidence = main.evidence(&redactor);
        let mut assertions = Vec::new();
        if let Some(preflight) = &preflight {
            evidence.tables.push(preflight_table(preflight, &redactor));
            assertions.push(self.judge(preflight, "preflight ", &redactor));
        }
        assertions.push(self.judge(&main, "", &redactor));
        evidence.assertions = assertions;
        Probe::from_assertions(evidence)
    }

    /// Returns the request to send, with the foreign `Origin` after the checklist's headers.
    pub fn request_parts(&self) -> RequestParts {
        let mut parts = RequestParts::new(self.method.0.clone(), self.url.0.clone());
        parts.headers = self.headers.0.clone();
        parts.headers.push((ORIGIN, self.origin.0.clone()));
        parts
    }

    /// Returns the preflight request: `OPTIONS` with the foreign `Origin` and the method of the
    /// request in `Access-Control-Request-Method`.
    pub fn preflight_parts(&self) -> RequestParts {
        let mut parts = RequestParts::new(Method::OPTIONS, self.url.0.clone());
        parts.headers = self.headers.0.clone();
        parts.headers.push((ORIGIN, self.origin.0.clone()));
        parts
            .headers
            .push((ACCESS_CONTROL_REQUEST_METHOD, self.method.0.to_string()));
        parts
    }

    /// Checks what one response allows for the foreign origin.
    fn judge(&self, exchange: &Exchange, prefix: &str, redactor: &Redactor) -> Assertion {
        let allow_origin = exchange.header_text(ACCESS_CONTROL_ALLOW_ORIGIN.as_str());
        let credentials = exchange
            .header_text(ACCESS_CONTROL_ALLOW_CREDENTIALS.as_str())
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
        let foreign = &self.origin.0;
        let expected = if self.expect.allowed_origins.is_empty() {
            format!(
                "absent or a fixed origin, not {}",
                shown_text(foreign, redactor)
            )
        } else {
            let names: Vec<&str> = self
                .expect
                .allowed_origins
                .iter()
                .map(|origin| origin.0.as_str())
                .collect();
            format!(
                "absent or one of {}",
                shown_text(&names.join(", "), redactor)
            )
        };
        let with_credentials = if credentials { " with credentials" } else { "" };
        let (actual, passed) = match allow_origin.as_deref().map(str::trim) {
            None => ("absent".to_string(), true),
            Some(value) if value.eq_ignore_ascii_case(foreign) => (
                format!("reflects the foreign origin{with_credentials}"),
                false,
            ),
            Some("*") if credentials => ("* with credentials".to_string(), false),
            Some("*") => ("* without credentials".to_string(), true),
            Some(value) if value.eq_ignore_ascii_case("null") => (
                format!("null{with_credentials} (sandboxed pages and local files send null)"),
                false,
            ),
            Some(value) => {
                let listed = self.expect.allowed_origins.is_empty()
                    || self
                        .expect
                        .allowed_origins
                        .iter()
                        .any(|origin| origin.0.eq_ignore_ascii_case(value));
                let shown = shown_header_value(
                    ACCESS_CONTROL_ALLOW_ORIGIN.as_str(),
                    value.as_bytes(),
                    redactor,
                );
                (format!("{shown}{with_credentials}"), listed)
            }
        };
        Assertion {
            subject: format!("{prefix}Access-Control-Allow-Origin"),
            expected,
            actual,
            passed,
        }
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
        lines.push(("origin".into(), shown_text(&self.origin.0, redactor)));
        if self.preflight {
            lines.push(("preflight".into(), "OPTIONS first".into()));
        }
        for origin in &self.expect.allowed_origins {
            lines.push((
                "expect allowed origin".into(),
                shown_text(&origin.0, redactor),
            ));
        }
        lines
    }
}

/// Builds a table of the preflight's status and CORS response headers.
fn preflight_table(exchange: &Exchange, redactor: &Redactor) -> EvidenceTable {
    let mut rows = vec![EvidenceRow {
        label: "status".into(),
        cells: vec![EvidenceCell {
            text: exchange.status.to_string(),
            passed: None,
        }],
    }];
    for name in PREFLIGHT_HEADERS {
        let text = match exchange.headers.get(HeaderName::from_static(name)) {
            Some(value) => shown_header_value(name, value.as_bytes(), redactor),
            None => "absent".into(),
        };
        rows.push(EvidenceRow {
            label: (*name).to_string(),
            cells: vec![EvidenceCell { text, passed: None }],
        });
    }
    let title = match exchange.request_lines.first() {
        Some(line) => format!("preflight {line}"),
        None => "preflight".into(),
    };
    EvidenceTable {
        title,
        columns: vec!["value".into()],
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CorsCheck, crate::checks::SpecError> {
        let table: toml::Table = toml::from_str(text).expect("test TOML parses");
        crate::checks::deserialize_settings(table)
    }

    #[test]
    fn origin_is_normalised() {
        let check =
            parse("url = \"http://127.0.0.1/\"\norigin = \"HTTPS://App.Example:443/\"").unwrap();
        assert_eq!(check.origin.0, "https://app.example");
    }

    #[test]
    fn default_origin_is_foreign() {
        let check = parse("url = \"http://127.0.0.1/\"").unwrap();
        assert_eq!(check.origin.0, DEFAULT_ORIGIN);
    }

    #[test]
    fn invalid_origin_names_its_field() {
        let err = parse("url = \"http://127.0.0.1/\"\norigin = \"evil\"").unwrap_err();
        assert_eq!(err.path, "origin");
    }
}
