//! The `headers` check kind: security headers a response must and must not carry.
//!
//! One request, then one assertion per header rule. The default rules follow common hardening
//! guides (OWASP Secure Headers): HSTS with a long `max-age` on HTTPS, a Content-Security-Policy,
//! `X-Content-Type-Options: nosniff`, framing protection, a Referrer-Policy other than
//! `unsafe-url`, and no header that names the server software's version.

use std::fmt;

use reqwest::header::HeaderName;
use serde::{Deserialize, Deserializer, de};

use super::http::client::{Exchange, RequestParts, exchange, shown_header_value};
use super::http::{HeaderList, HeaderNameSetting, HttpMethod, HttpUrl};
use super::{Assertion, Outcome, Probe, ProbeContext};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["url", "method", "headers", "follow_redirects", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &[
    "min_hsts_max_age",
    "require_hsts",
    "required",
    "forbidden",
    "skip",
];

/// Default minimum HSTS `max-age`: 180 days, in seconds.
pub const DEFAULT_MIN_HSTS_MAX_AGE: u64 = 15_552_000;

/// Maximum number of missed expectations named in a summary.
const SUMMARY_MISSES: usize = 4;

/// A built-in header rule, named by the header it inspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `Strict-Transport-Security` with `max-age` of at least `min_hsts_max_age`.
    StrictTransportSecurity,
    /// `Content-Security-Policy` present.
    ContentSecurityPolicy,
    /// `X-Content-Type-Options: nosniff`.
    ContentTypeOptions,
    /// `X-Frame-Options: DENY` or `SAMEORIGIN`, or a CSP `frame-ancestors` directive.
    FrameOptions,
    /// `Referrer-Policy` present and not `unsafe-url`.
    ReferrerPolicy,
    /// `X-Powered-By` absent.
    PoweredBy,
    /// `Server` absent or without a version number.
    Server,
    /// `X-AspNet-Version` absent.
    AspNetVersion,
    /// `X-AspNetMvc-Version` absent.
    AspNetMvcVersion,
}

impl Rule {
    /// Every built-in rule, in the order of the evidence.
    pub const ALL: [Rule; 9] = [
        Rule::StrictTransportSecurity,
        Rule::ContentSecurityPolicy,
        Rule::ContentTypeOptions,
        Rule::FrameOptions,
        Rule::ReferrerPolicy,
        Rule::PoweredBy,
        Rule::Server,
        Rule::AspNetVersion,
        Rule::AspNetMvcVersion,
    ];

    /// Returns the header the rule inspects, in its usual capitalisation.
    pub fn header(self) -> &'static str {
        match self {
            Rule::StrictTransportSecurity => "Strict-Transport-Security",
            Rule::ContentSecurityPolicy => "Content-Security-Policy",
            Rule::ContentTypeOptions => "X-Content-Type-Options",
            Rule::FrameOptions => "X-Frame-Options",
            Rule::ReferrerPolicy => "Referrer-Policy",
            Rule::PoweredBy => "X-Powered-By",
            Rule::Server => "Server",
            Rule::AspNetVersion => "X-AspNet-Version",
            Rule::AspNetMvcVersion => "X-AspNetMvc-Version",
        }
    }

    fn from_header(name: &str) -> Option<Rule> {
        Rule::ALL
            .into_iter()
            .find(|rule| rule.header().eq_ignore_ascii_case(name.trim()))
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Rule::from_header(&text).ok_or_else(|| {
            let names: Vec<&str> = Rule::ALL.iter().map(|rule| rule.header()).collect();
            de::Error::custom(format!(
                "`{}` is not a built-in header rule; valid names: {}",
                crate::sanitize::terminal_safe(&text),
                names.join(", ")
            ))
        })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.header())
    }
}

/// Settings of a `headers` check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadersCheck {
    #[serde(default)]
    pub method: HttpMethod,
    pub url: Box<HttpUrl>,
    /// Request headers in the order the checklist gives them.
    #[serde(default)]
    pub headers: HeaderList,
    /// Maximum number of redirects followed; 0 inspects the redirect response itself.
    #[serde(default)]
    pub follow_redirects: u32,
    #[serde(default)]
    pub expect: HeadersExpect,
}

/// The `expect` table of a `headers` check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadersExpect {
    /// Minimum `max-age` of `Strict-Transport-Security`, in seconds.
    #[serde(default = "default_min_hsts_max_age")]
    pub min_hsts_max_age: u64,
    /// Requires HSTS on `http://` URLs too, such as behind a TLS-terminating proxy.
    #[serde(default)]
    pub require_hsts: bool,
    /// Extra headers that must be present.
    #[serde(default)]
    pub required: Vec<HeaderNameSetting>,
    /// Extra headers that must be absent.
    #[serde(default)]
    pub forbidden: Vec<HeaderNameSetting>,
    /// Built-in rules switched off, named by their header.
    #[serde(default)]
    pub skip: Vec<Rule>,
}

fn default_min_hsts_max_age() -> u64 {
    DEFAULT_MIN_HSTS_MAX_AGE
}

impl Default for HeadersExpect {
    fn default() -> Self {
        HeadersExpect {
            min_hsts_max_age: DEFAULT_MIN_HSTS_MAX_AGE,
            require_hsts: false,
            required: Vec::new(),
            forbidden: Vec::new(),
            skip: Vec::new(),
        }
    }
}

impl HeadersCheck {
    /// Sends the request once and checks each header rule against the response.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let exchange = match exchange(ctx, &self.request_parts()).await {
            Ok(exchange) => exchange,
            Err(probe) => return probe,
        };
        let redactor = exchange.redactor(&ctx.redactor);
        let mut evidence = exchange.evidence(&redactor);
        if !self.hsts_applies() && !self.expect.skip.contains(&Rule::StrictTransportSecurity) {
            evidence.notes.push(
                "Strict-Transport-Security not checked: browsers ignore it on http:// URLs \
                 (set expect.require_hsts = true to check it)"
                    .into(),
            );
        }
        evidence.assertions = self.evaluate(&exchange, &redactor);
        let missed: Vec<&Assertion> = evidence
            .assertions
            .iter()
            .filter(|assertion| !assertion.passed)
            .collect();
        let summary = if missed.is_empty() {
            format!("{} header expectations met", evidence.assertions.len())
        } else {
            missed_summary(&missed)
        };
        let outcome = if missed.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        Probe {
            outcome,
            summary,
            evidence,
        }
    }

    /// Returns the request to send.
    pub fn request_parts(&self) -> RequestParts {
        let mut parts = RequestParts::new(self.method.0.clone(), self.url.0.clone());
        parts.headers = self.headers.0.clone();
        parts.follow_redirects = self.follow_redirects;
        parts
    }

    fn hsts_applies(&self) -> bool {
        self.expect.require_hsts || self.url.0.scheme() == "https"
    }

    fn active_rules(&self) -> impl Iterator<Item = Rule> + '_ {
        Rule::ALL.into_iter().filter(|rule| {
            if self.expect.skip.contains(rule) {
                return false;
            }
            *rule != Rule::StrictTransportSecurity || self.hsts_applies()
        })
    }

    fn evaluate(&self, exchange: &Exchange, redactor: &Redactor) -> Vec<Assertion> {
        let mut assertions: Vec<Assertion> = self
            .active_rules()
            .map(|rule| self.check_rule(rule, exchange, redactor))
            .collect();
        for name in &self.expect.required {
            let value = shown_value(exchange, &name.0, redactor);
            assertions.push(Assertion {
                subject: format!("header {}", name.0),
                expected: "present".into(),
                passed: value.is_some(),
                actual: value.unwrap_or_else(|| "absent".into()),
            });
        }
        for name in &self.expect.forbidden {
            let value = shown_value(exchange, &name.0, redactor);
            assertions.push(Assertion {
                subject: format!("header {}", name.0),
                expected: "absent".into(),
                passed: value.is_none(),
                actual: value.map_or_else(|| "absent".into(), |value| format!("present: {value}")),
            });
        }
        assertions
    }

    fn check_rule(&self, rule: Rule, exchange: &Exchange, redactor: &Redactor) -> Assertion {
        let raw = exchange.header_text(rule.header());
        let shown = raw
            .as_ref()
            .map(|value| shown_header_value(rule.header(), value.as_bytes(), redactor));
        let (expected, passed) = match rule {
            Rule::StrictTransportSecurity => {
                let min = self.expect.min_hsts_max_age;
                let max_age = raw.as_deref().and_then(hsts_max_age);
                (
                    format!("max-age of at least {min}"),
                    max_age.is_some_and(|age| age >= min),
                )
            }
            Rule::ContentSecurityPolicy => ("present".to_string(), raw.is_some()),
            Rule::ContentTypeOptions => (
                "nosniff".to_string(),
                raw.as_deref()
                    .is_some_and(|value| value.trim().eq_ignore_ascii_case("nosniff")),
            ),
            Rule::FrameOptions => {
                let csp = exchange.header_text(Rule::ContentSecurityPolicy.header());
                if csp.as_deref().is_some_and(has_frame_ancestors) {
                    return Assertion {
                        subject: format!("header {}", rule.header()),
                        expected: "DENY or SAMEORIGIN, or CSP frame-ancestors".into(),
                        actual: "CSP sets frame-ancestors".into(),
                        passed: true,
                    };
                }
                (
                    "DENY or SAMEORIGIN, or CSP frame-ancestors".to_string(),
                    raw.as_deref().is_some_and(|value| {
                        let value = value.trim();
                        value.eq_ignore_ascii_case("DENY")
                            || value.eq_ignore_ascii_case("SAMEORIGIN")
                    }),
                )
            }
            Rule::ReferrerPolicy => (
                "present, not unsafe-url".to_string(),
                raw.as_deref().is_some_and(|value| {
                    effective_referrer_policy(value)
                        .is_some_and(|policy| !policy.eq_ignore_ascii_case("unsafe-url"))
                }),
            ),
            Rule::Server => (
                "absent or without a version".to_string(),
                raw.as_deref().is_none_or(|value| !reveals_version(value)),
            ),
            Rule::PoweredBy | Rule::AspNetVersion | Rule::AspNetMvcVersion => {
                ("absent".to_string(), raw.is_none())
            }
        };
        Assertion {
            subject: format!("header {}", rule.header()),
            expected,
            actual: shown.unwrap_or_else(|| "absent".into()),
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
        if self.follow_redirects > 0 {
            lines.push((
                "follow redirects".into(),
                format!("up to {}", self.follow_redirects),
            ));
        }
        let rules: Vec<&str> = self.active_rules().map(Rule::header).collect();
        lines.push(("expect rules".into(), rules.join(", ")));
        if self.hsts_applies() && !self.expect.skip.contains(&Rule::StrictTransportSecurity) {
            lines.push((
                "expect HSTS max-age".into(),
                format!("at least {}", self.expect.min_hsts_max_age),
            ));
        }
        for name in &self.expect.required {
            lines.push(("expect header present".into(), name.0.to_string()));
        }
        for name in &self.expect.forbidden {
            lines.push(("expect header absent".into(), name.0.to_string()));
        }
        lines
    }
}

/// Returns a response header fit to show, or `None` when the response lacks it.
fn shown_value(exchange: &Exchange, name: &HeaderName, redactor: &Redactor) -> Option<String> {
    exchange
        .headers
        .get(name)
        .map(|value| shown_header_value(name.as_str(), value.as_bytes(), redactor))
}

/// Names each missed expectation briefly, such as "Content-Security-Policy missing".
fn missed_summary(missed: &[&Assertion]) -> String {
    let mut parts: Vec<String> = missed
        .iter()
        .take(SUMMARY_MISSES)
        .map(|assertion| {
            let header = assertion
                .subject
                .strip_prefix("header ")
                .unwrap_or(&assertion.subject);
            if assertion.actual == "absent" {
                format!("{header} missing")
            } else if assertion.expected.starts_with("absent") {
                format!(
                    "{header} reveals {}",
                    assertion.actual.trim_start_matches("present: ")
                )
            } else {
                format!(
                    "{header} is {}, expected {}",
                    assertion.actual, assertion.expected
                )
            }
        })
        .collect();
    if missed.len() > SUMMARY_MISSES {
        parts.push(format!("{} more", missed.len() - SUMMARY_MISSES));
    }
    format!("security headers missed: {}", parts.join("; "))
}

/// Returns the `max-age` of a `Strict-Transport-Security` value, in seconds.
fn hsts_max_age(value: &str) -> Option<u64> {
    value.split(';').find_map(|directive| {
        let (name, age) = directive.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        age.trim().trim_matches('"').parse().ok()
    })
}

fn has_frame_ancestors(csp: &str) -> bool {
    csp.split([';', ',']).any(|directive| {
        directive
            .split_whitespace()
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case("frame-ancestors"))
    })
}

/// Returns the policy a browser applies: the last token of a comma-separated list, because
/// browsers take the last policy they recognise (W3C Referrer Policy, section 11.1).
fn effective_referrer_policy(value: &str) -> Option<&str> {
    value
        .split(',')
        .map(str::trim)
        .rfind(|token| !token.is_empty())
}

/// Returns whether a `Server` value carries a version, such as `nginx/1.22.1` or
/// `Microsoft-IIS/10.0`: a digit right after a `/`, or digits around a dot.
fn reveals_version(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes
        .windows(2)
        .any(|pair| pair[0] == b'/' && pair[1].is_ascii_digit())
        || bytes.windows(3).any(|triple| {
            triple[0].is_ascii_digit() && triple[1] == b'.' && triple[2].is_ascii_digit()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<HeadersCheck, crate::checks::SpecError> {
        let table: toml::Table = toml::from_str(text).expect("test TOML parses");
        crate::checks::deserialize_settings(table)
    }

    #[test]
    fn hsts_max_age_parses() {
        assert_eq!(
            hsts_max_age("max-age=31536000; includeSubDomains"),
            Some(31_536_000)
        );
        assert_eq!(
            hsts_max_age("includeSubDomains; Max-Age=\"600\""),
            Some(600)
        );
        assert_eq!(hsts_max_age("includeSubDomains"), None);
    }

    #[test]
    fn server_versions_detected() {
        assert!(reveals_version("nginx/1.22.1"));
        assert!(reveals_version("Apache/2.4.41 (Ubuntu)"));
        assert!(reveals_version("Microsoft-IIS/10.0"));
        assert!(!reveals_version("nginx"));
        assert!(!reveals_version("cloudflare"));
    }

    #[test]
    fn referrer_policy_uses_last_token() {
        assert_eq!(
            effective_referrer_policy("no-referrer, unsafe-url"),
            Some("unsafe-url")
        );
        assert_eq!(
            effective_referrer_policy("unsafe-url, strict-origin"),
            Some("strict-origin")
        );
        assert_eq!(effective_referrer_policy(" "), None);
    }

    #[test]
    fn frame_ancestors_found_in_csp() {
        assert!(has_frame_ancestors(
            "default-src 'self'; frame-ancestors 'none'"
        ));
        assert!(!has_frame_ancestors("default-src 'self'"));
    }

    #[test]
    fn unknown_skip_name_rejected() {
        let err = parse("url = \"http://127.0.0.1/\"\nexpect.skip = [\"X-Colour\"]").unwrap_err();
        assert_eq!(err.path, "expect.skip[0]");
    }

    #[test]
    fn skip_matches_case_insensitively() {
        let check = parse("url = \"http://127.0.0.1/\"\nexpect.skip = [\"server\"]").unwrap();
        assert_eq!(check.expect.skip, vec![Rule::Server]);
    }

    #[test]
    fn hsts_skipped_on_http_by_default() {
        let check = parse("url = \"http://127.0.0.1/\"").unwrap();
        assert!(
            !check
                .active_rules()
                .any(|rule| rule == Rule::StrictTransportSecurity)
        );
        let check = parse("url = \"http://127.0.0.1/\"\nexpect.require_hsts = true").unwrap();
        assert!(
            check
                .active_rules()
                .any(|rule| rule == Rule::StrictTransportSecurity)
        );
    }
}
