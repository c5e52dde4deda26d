//! The `rate_limit` check kind: a bounded burst that must meet a 429 and rate-limit headers.
//!
//! The burst sends at most `max_requests` requests within at most `max_duration`, one at a time
//! or a few at once, and stops at the first `429 Too Many Requests`. It also ends at the
//! attempt's timeout, so it always stops by itself.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;
use tokio::time::Instant;

use super::http::client::{Exchange, RequestParts, exchange, millis, shown_header_value};
use super::http::{HeaderList, HttpMethod, HttpUrl};
use super::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Outcome, Probe, ProbeContext,
};
use crate::duration::format_duration;
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "max_requests",
    "max_duration",
    "concurrency",
    "expect",
];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["limit_headers"];

/// Largest accepted `max_requests`.
pub const MAX_REQUESTS: u32 = 1000;
/// Largest accepted `max_duration`.
pub const MAX_DURATION: Duration = Duration::from_secs(300);
/// Default `max_duration`.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(30);
/// Largest accepted `concurrency`.
pub const MAX_CONCURRENCY: u32 = 16;

/// Maximum number of body bytes read from each response of the burst. Only the 429's body is
/// shown, and a small excerpt is enough to recognise it.
const BURST_BODY_LIMIT: usize = 8 * 1024;

/// Time a request of the burst gets past the burst's deadline, which cancels it first.
const REQUEST_TIMEOUT_MARGIN: Duration = Duration::from_secs(1);

/// The status code of a rate-limited response (RFC 6585).
const TOO_MANY_REQUESTS: u16 = 429;

/// Settings of a `rate_limit` check.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RateLimitSettings")]
pub struct RateLimitCheck {
    pub method: HttpMethod,
    pub url: Box<HttpUrl>,
    /// Request headers in the order the checklist gives them, sent with every request.
    pub headers: HeaderList,
    /// Maximum number of requests in the burst, from 1 to [`MAX_REQUESTS`].
    pub max_requests: u32,
    /// Maximum length of the burst, at most [`MAX_DURATION`].
    pub max_duration: Duration,
    /// Requests in flight at once, from 1 to [`MAX_CONCURRENCY`].
    pub concurrency: u32,
    pub expect: RateLimitExpect,
}

/// The `expect` table of a `rate_limit` check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitExpect {
    /// Requires `Retry-After`, `RateLimit-*` or `X-RateLimit-*` headers on the 429 or on the
    /// responses before it.
    #[serde(default = "default_true")]
    pub limit_headers: bool,
}

impl Default for RateLimitExpect {
    fn default() -> Self {
        RateLimitExpect {
            limit_headers: true,
        }
    }
}

fn default_true() -> bool {
    true
}

/// The `check` table as written, before the range checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitSettings {
    #[serde(default)]
    method: HttpMethod,
    url: HttpUrl,
    #[serde(default)]
    headers: HeaderList,
    max_requests: u32,
    #[serde(default, with = "crate::duration::serde_friendly_option")]
    max_duration: Option<Duration>,
    #[serde(default)]
    concurrency: Option<u32>,
    #[serde(default)]
    expect: RateLimitExpect,
}

impl TryFrom<RateLimitSettings> for RateLimitCheck {
    type Error = String;

    fn try_from(settings: RateLimitSettings) -> Result<Self, Self::Error> {
        if !(1..=MAX_REQUESTS).contains(&settings.max_requests) {
            return Err(format!(
                "invalid max_requests {}; it must be from 1 to {MAX_REQUESTS}",
                settings.max_requests
            ));
        }
        let max_duration = settings.max_duration.unwrap_or(DEFAULT_MAX_DURATION);
        if max_duration.is_zero() || max_duration > MAX_DURATION {
            return Err(format!(
                "invalid max_duration {}; it must be above zero and at most {}",
                format_duration(max_duration),
                format_duration(MAX_DURATION)
            ));
        }
        let concurrency = settings.concurrency.unwrap_or(1);
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(format!(
                "invalid concurrency {concurrency}; it must be from 1 to {MAX_CONCURRENCY}"
            ));
        }
        Ok(RateLimitCheck {
            method: settings.method,
            url: Box::new(settings.url),
            headers: settings.headers,
            max_requests: settings.max_requests,
            max_duration,
            concurrency,
            expect: settings.expect,
        })
    }
}

/// Responses and failures of the burst, shared by its workers.
#[derive(Default)]
struct Burst {
    /// Requests started, including any cut off by the deadline.
    started: u32,
    /// Responses by status code.
    histogram: BTreeMap<u16, u32>,
    /// Rate-limit headers seen on responses other than the 429, by lowercase name.
    earlier_limit_headers: BTreeSet<String>,
    /// The 429 with the lowest request number, with that number.
    first_limited: Option<(u32, Exchange)>,
    /// The response with the highest request number, shown when no 429 arrived.
    last: Option<(u32, Exchange)>,
    /// The first request that got no response, with its number and error outcome.
    failure: Option<(u32, Probe)>,
}

impl RateLimitCheck {
    /// Sends the burst and checks that it met a 429 with rate-limit headers.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        // The burst ends at the attempt's timeout at the latest, so that the probe reports the
        // cut-off burst itself rather than being abandoned by the engine.
        let budget = self.max_duration.min(ctx.timeout);
        let cut_by_timeout = ctx.timeout < self.max_duration;
        let started_at = Instant::now();
        let deadline = started_at + budget;

        let parts = self.request_parts();
        let mut request_ctx = ctx.clone();
        request_ctx.body_limit = ctx.body_limit.min(BURST_BODY_LIMIT);
        // Requests get more time than the burst, so that the burst's deadline, not a request's
        // own timeout, ends a request still in flight at the deadline.
        request_ctx.timeout = budget + REQUEST_TIMEOUT_MARGIN;
        let burst = Mutex::new(Burst::default());
        let next = AtomicU32::new(0);
        let stop = AtomicBool::new(false);
        let workers = (0..self.concurrency)
            .map(|_| self.worker(&request_ctx, &parts, &burst, &next, &stop, deadline));
        let finished = tokio::time::timeout_at(deadline, futures::future::join_all(workers))
            .await
            .is_ok();
        let elapsed = started_at.elapsed();

        // A poisoned lock still holds consistent counts, because each update is a single step.
        let burst = burst
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.conclude(burst, finished, cut_by_timeout, elapsed, ctx)
    }

    /// Sends requests one after another until the burst is over.
    async fn worker(
        &self,
        ctx: &ProbeContext,
        parts: &RequestParts,
        burst: &Mutex<Burst>,
        next: &AtomicU32,
        stop: &AtomicBool,
        deadline: Instant,
    ) {
        loop {
            if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                return;
            }
            let number = next.fetch_add(1, Ordering::SeqCst) + 1;
            if number > self.max_requests {
                return;
            }
            lock(burst).started += 1;
            let result = exchange(ctx, parts).await;
            let mut seen = lock(burst);
            match result {
                Ok(response) => {
                    *seen.histogram.entry(response.status).or_default() += 1;
                    if response.status == TOO_MANY_REQUESTS {
                        stop.store(true, Ordering::SeqCst);
                        if seen.first_limited.as_ref().is_none_or(|(n, _)| number < *n) {
                            seen.first_limited = Some((number, response));
                        }
                        return;
                    }
                    seen.earlier_limit_headers
                        .extend(limit_header_names(&response.headers));
                    if seen.last.as_ref().is_none_or(|(n, _)| number > *n) {
                        seen.last = Some((number, response));
                    }
                }
                Err(probe) => {
                    stop.store(true, Ordering::SeqCst);
                    if seen.failure.as_ref().is_none_or(|(n, _)| number < *n) {
                        seen.failure = Some((number, probe));
                    }
                    return;
                }
            }
        }
    }

    /// Turns what the burst saw into the outcome.
    fn conclude(
        &self,
        burst: Burst,
        finished: bool,
        cut_by_timeout: bool,
        elapsed: Duration,
        ctx: &ProbeContext,
    ) -> Probe {
        let answered: u32 = burst.histogram.values().sum();
        let table = histogram_table(&burst);
        let sent_note = format!(
            "sent {} requests, {answered} answered, in {}ms",
            burst.started,
            millis(elapsed)
        );

        if let Some((number, limited)) = &burst.first_limited {
            let redactor = limited.redactor(&ctx.redactor);
            let mut evidence = limited.evidence(&redactor);
            evidence.tables.push(table);
            evidence
                .notes
                .push(format!("first 429 at request {number}"));
            evidence.notes.push(sent_note);
            return self.judge_limited(*number, limited, &burst, evidence);
        }

        if let Some((number, failure)) = burst.failure {
            let mut evidence = failure.evidence;
            evidence.tables.push(table);
            evidence.notes.push(sent_note);
            return Probe {
                outcome: Outcome::Error,
                summary: format!("request {number} of the burst failed: {}", failure.summary),
                evidence,
            };
        }

        let mut evidence = match &burst.last {
            Some((_, last)) => last.evidence(&last.redactor(&ctx.redactor)),
            None => Evidence {
                request: self.request_parts().request_lines(&ctx.redactor),
                ..Evidence::default()
            },
        };
        evidence.tables.push(table);
        evidence.notes.push(sent_note);
        if !finished && cut_by_timeout {
            evidence.notes.push(format!(
                "set the item's timeout above max_duration ({}) to let the burst finish",
                format_duration(self.max_duration)
            ));
            return Probe {
                outcome: Outcome::Error,
                summary: format!(
                    "burst did not finish within the check timeout ({}): no 429 in {answered} \
                     responses",
                    format_duration(ctx.timeout)
                ),
                evidence,
            };
        }
        if !finished && answered == 0 {
            return Probe {
                outcome: Outcome::Error,
                summary: format!(
                    "no response to the burst within max_duration {}",
                    format_duration(self.max_duration)
                ),
                evidence,
            };
        }
        let (actual, summary) = if finished {
            (
                format!("none in {answered} responses"),
                format!("no 429 after {answered} requests"),
            )
        } else {
            (
                format!("none within {}", format_duration(self.max_duration)),
                format!(
                    "no 429 within max_duration {} ({answered} responses)",
                    format_duration(self.max_duration)
                ),
            )
        };
        evidence.assertions.push(Assertion {
            subject: "429 within the burst".into(),
            expected: self.limit_expectation(),
            actual,
            passed: false,
        });
        Probe {
            outcome: Outcome::Fail,
            summary,
            evidence,
        }
    }

    /// Judges a burst that met a 429: the rate-limit headers decide.
    fn judge_limited(
        &self,
        number: u32,
        limited: &Exchange,
        burst: &Burst,
        mut evidence: Evidence,
    ) -> Probe {
        evidence.assertions.push(Assertion {
            subject: "429 within the burst".into(),
            expected: self.limit_expectation(),
            actual: format!("first 429 at request {number}"),
            passed: true,
        });
        if !self.expect.limit_headers {
            return Probe {
                outcome: Outcome::Pass,
                summary: format!("429 at request {number} of at most {}", self.max_requests),
                evidence,
            };
        }
        let on_limited = limit_header_names(&limited.headers);
        let (actual, names) = if !on_limited.is_empty() {
            let names = on_limited.join(", ");
            (format!("on the 429: {names}"), Some(names))
        } else if !burst.earlier_limit_headers.is_empty() {
            let names: Vec<&str> = burst
                .earlier_limit_headers
                .iter()
                .map(String::as_str)
                .collect();
            let names = names.join(", ");
            (format!("on earlier responses: {names}"), Some(names))
        } else {
            ("none".to_string(), None)
        };
        evidence.assertions.push(Assertion {
            subject: "rate-limit headers".into(),
            expected: "Retry-After, RateLimit-* or X-RateLimit-*".into(),
            actual,
            passed: names.is_some(),
        });
        match names {
            Some(names) => Probe {
                outcome: Outcome::Pass,
                summary: format!(
                    "429 at request {number} of at most {}, with {names}",
                    self.max_requests
                ),
                evidence,
            },
            None => Probe {
                outcome: Outcome::Fail,
                summary: format!(
                    "429 at request {number}, but no rate-limit headers (Retry-After, \
                     RateLimit-*, X-RateLimit-*)"
                ),
                evidence,
            },
        }
    }

    fn limit_expectation(&self) -> String {
        format!(
            "429 within {} requests and {}",
            self.max_requests,
            format_duration(self.max_duration)
        )
    }

    /// Returns the request sent in the burst.
    pub fn request_parts(&self) -> RequestParts {
        let mut parts = RequestParts::new(self.method.0.clone(), self.url.0.clone());
        parts.headers = self.headers.0.clone();
        parts
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
        lines.push((
            "burst".into(),
            format!(
                "at most {} requests within {}, {} at once",
                self.max_requests,
                format_duration(self.max_duration),
                self.concurrency
            ),
        ));
        let expected = if self.expect.limit_headers {
            "429 with rate-limit headers"
        } else {
            "429"
        };
        lines.push(("expect".into(), expected.into()));
        lines
    }
}

fn lock(burst: &Mutex<Burst>) -> std::sync::MutexGuard<'_, Burst> {
    burst
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Returns the lowercase names of the rate-limit headers in a response: `Retry-After`, the
/// IETF draft's `RateLimit`, `RateLimit-Policy` and `RateLimit-Limit/Remaining/Reset`, and the
/// common `X-RateLimit-*` and `X-Rate-Limit-*`.
fn limit_header_names(headers: &HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| {
            *name == "retry-after"
                || name.starts_with("ratelimit")
                || name.starts_with("x-ratelimit")
                || name.starts_with("x-rate-limit")
        })
        .map(str::to_string)
        .collect();
    names.dedup();
    names
}

/// Builds the table of responses by status code, with requests that got none last.
fn histogram_table(burst: &Burst) -> EvidenceTable {
    let mut rows: Vec<EvidenceRow> = burst
        .histogram
        .iter()
        .map(|(status, count)| EvidenceRow {
            label: status.to_string(),
            cells: vec![EvidenceCell {
                text: count.to_string(),
                passed: None,
            }],
        })
        .collect();
    let answered: u32 = burst.histogram.values().sum();
    let unanswered = burst.started.saturating_sub(answered);
    if unanswered > 0 {
        rows.push(EvidenceRow {
            label: "no response".into(),
            cells: vec![EvidenceCell {
                text: unanswered.to_string(),
                passed: None,
            }],
        });
    }
    EvidenceTable {
        title: "status histogram".into(),
        columns: vec!["responses".into()],
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RateLimitCheck, crate::checks::SpecError> {
        let table: toml::Table = toml::from_str(text).expect("test TOML parses");
        crate::checks::deserialize_settings(table)
    }

    #[test]
    fn defaults_apply() {
        let check = parse("url = \"http://127.0.0.1/\"\nmax_requests = 50").unwrap();
        assert_eq!(check.max_duration, DEFAULT_MAX_DURATION);
        assert_eq!(check.concurrency, 1);
        assert!(check.expect.limit_headers);
    }

    #[test]
    fn limits_enforced() {
        let cases = [
            "url = \"http://127.0.0.1/\"",
            "url = \"http://127.0.0.1/\"\nmax_requests = 0",
            "url = \"http://127.0.0.1/\"\nmax_requests = 1001",
            "url = \"http://127.0.0.1/\"\nmax_requests = 5\nmax_duration = \"6m\"",
            "url = \"http://127.0.0.1/\"\nmax_requests = 5\nconcurrency = 17",
            "url = \"http://127.0.0.1/\"\nmax_requests = 5\nconcurrency = 0",
        ];
        for text in cases {
            assert!(parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn limit_headers_recognised() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "1".parse().unwrap());
        headers.insert("ratelimit-remaining", "0".parse().unwrap());
        headers.insert("x-ratelimit-limit", "10".parse().unwrap());
        headers.insert("content-type", "text/plain".parse().unwrap());
        assert_eq!(limit_header_names(&headers).len(), 3);
    }
}
