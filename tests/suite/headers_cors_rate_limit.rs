//! The `headers`, `cors` and `rate_limit` check kinds against real servers on 127.0.0.1: nginx
//! started from a temporary prefix, the demo target's hardening routes, and a hostile server
//! that never responds.

use crate::support::hostile;
use crate::support::nginx;

use std::sync::Arc;
use std::time::Duration;

use golive::checks::{Assertion, CheckSpec, Outcome, Probe, ProbeContext, parse_spec};
use golive::demo::hardening::{ALLOWED_ORIGIN, RATE_LIMIT};
use golive::demo::{DemoServer, serve};
use golive::redact::Redactor;
use hostile::HostileServer;
use nginx::{NGINX_RATE_LIMIT, NginxServer, NginxSite};

const BODY_LIMIT: usize = 64 * 1024;

fn spec(kind: &str, settings: &str) -> CheckSpec {
    let table: toml::Table = toml::from_str(settings).expect("test settings are valid TOML");
    parse_spec(kind, table).expect("test settings are valid")
}

fn context(timeout: Duration) -> ProbeContext {
    ProbeContext {
        redactor: Arc::new(Redactor::new()),
        timeout,
        body_limit: BODY_LIMIT,
    }
}

/// Runs a check with the given attempt timeout, failing the test if the probe outlives it by
/// far.
async fn probe_with(kind: &str, settings: &str, timeout: Duration) -> Probe {
    let check = spec(kind, settings);
    let ctx = context(timeout);
    tokio::time::timeout(timeout + Duration::from_secs(5), check.run(&ctx))
        .await
        .expect("probe ends within its timeout")
}

async fn probe(kind: &str, settings: &str) -> Probe {
    probe_with(kind, settings, Duration::from_secs(5)).await
}

async fn demo() -> DemoServer {
    serve(([127, 0, 0, 1], 0).into())
        .await
        .expect("demo target starts")
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn assertion<'a>(probe: &'a Probe, subject: &str) -> &'a Assertion {
    probe
        .evidence
        .assertions
        .iter()
        .find(|assertion| assertion.subject == subject)
        .unwrap_or_else(|| {
            panic!(
                "no assertion `{subject}` in {:?}",
                probe.evidence.assertions
            )
        })
}

/// Returns the count in the status histogram for a row label, or 0 without such a row.
fn histogram_count(probe: &Probe, label: &str) -> u32 {
    let table = probe
        .evidence
        .tables
        .iter()
        .find(|table| table.title == "status histogram")
        .expect("status histogram table");
    table
        .rows
        .iter()
        .find(|row| row.label == label)
        .map_or(0, |row| {
            row.cells[0].text.parse().expect("count is a number")
        })
}

// --- headers -------------------------------------------------------------------------------

#[tokio::test]
async fn headers_nginx_secure_passes() {
    let nginx = NginxServer::start(NginxSite::SecureHeaders);
    let settings = format!("url = \"{}\"\nexpect.require_hsts = true", nginx.url("/"));
    let probe = probe("headers", &settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(probe.summary, "9 header expectations met");
    assert_eq!(probe.evidence.assertions.len(), 9);
    assert_eq!(
        assertion(&probe, "header Strict-Transport-Security").actual,
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(assertion(&probe, "header Server").actual, "nginx");
    assert_eq!(probe.evidence.status, Some(200));
}

#[tokio::test]
async fn headers_nginx_insecure_fails() {
    let nginx = NginxServer::start(NginxSite::InsecureHeaders);
    let probe = probe("headers", &format!("url = \"{}\"", nginx.url("/"))).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert!(
        probe
            .summary
            .starts_with("security headers missed: Content-Security-Policy missing"),
        "{}",
        probe.summary
    );
    let server = assertion(&probe, "header Server");
    assert!(!server.passed);
    assert!(server.actual.starts_with("nginx/1."), "{}", server.actual);
    assert!(!assertion(&probe, "header X-Content-Type-Options").passed);
    // HSTS is not required on an http:// URL by default, so 8 rules remain.
    assert_eq!(probe.evidence.assertions.len(), 8);
    assert!(
        probe
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("Strict-Transport-Security")),
        "{:?}",
        probe.evidence.notes
    );
}

#[tokio::test]
async fn headers_demo_secure_passes() {
    let server = demo().await;
    let settings = format!(
        "url = \"{}/secure/headers\"\nexpect.require_hsts = true",
        server.base_url()
    );
    let probe = probe("headers", &settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(assertion(&probe, "header Server").actual, "absent");
    assert_eq!(
        assertion(&probe, "header X-Frame-Options").actual,
        "CSP sets frame-ancestors"
    );
}

#[tokio::test]
async fn headers_demo_insecure_names_revealing_headers() {
    let server = demo().await;
    let settings = format!(
        "url = \"{}/insecure/headers\"\nexpect.skip = [\"Content-Security-Policy\", \
         \"X-Content-Type-Options\", \"X-Frame-Options\", \"Referrer-Policy\"]",
        server.base_url()
    );
    let probe = probe("headers", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "security headers missed: X-Powered-By reveals Express; Server reveals nginx/1.22.1"
    );
    assert_eq!(probe.evidence.assertions.len(), 4);
}

#[tokio::test]
async fn headers_custom_required_and_forbidden() {
    let server = demo().await;
    let settings = format!(
        "url = \"{}/secure/headers\"\n\
         expect.required = [\"Permissions-Policy\"]\n\
         expect.forbidden = [\"Content-Type\"]",
        server.base_url()
    );
    let probe = probe("headers", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "security headers missed: permissions-policy missing; \
         content-type reveals application/json"
    );
    assert_eq!(
        assertion(&probe, "header permissions-policy").expected,
        "present"
    );
}

#[tokio::test]
async fn headers_hsts_too_short_fails() {
    let nginx = NginxServer::start(NginxSite::SecureHeaders);
    let settings = format!(
        "url = \"{}\"\nexpect.require_hsts = true\nexpect.min_hsts_max_age = 63072000",
        nginx.url("/")
    );
    let probe = probe("headers", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "security headers missed: Strict-Transport-Security is \
         max-age=31536000; includeSubDomains, expected max-age of at least 63072000"
    );
}

#[tokio::test]
async fn headers_refused_port_errors() {
    let port = closed_port();
    let probe = probe("headers", &format!("url = \"http://127.0.0.1:{port}/\"")).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert_eq!(
        probe.summary,
        format!("connection refused by 127.0.0.1:{port}")
    );
    assert_eq!(
        probe.evidence.request[0],
        format!("GET http://127.0.0.1:{port}/")
    );
    assert!(probe.evidence.assertions.is_empty());
}

// --- cors ----------------------------------------------------------------------------------

#[tokio::test]
async fn cors_nginx_reflection_fails() {
    let nginx = NginxServer::start(NginxSite::ReflectingCors);
    let settings = format!("url = \"{}\"\npreflight = true", nginx.url("/"));
    let probe = probe("cors", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "preflight Access-Control-Allow-Origin: expected absent or a fixed origin, not \
         https://evil.example, got reflects the foreign origin with credentials"
    );
    assert!(!assertion(&probe, "Access-Control-Allow-Origin").passed);
    assert_eq!(probe.evidence.tables.len(), 1);
    assert_eq!(
        probe.evidence.tables[0].title,
        format!("preflight OPTIONS {}", nginx.url("/"))
    );
    assert!(
        probe
            .evidence
            .request
            .contains(&"origin: https://evil.example".to_string()),
        "{:?}",
        probe.evidence.request
    );
}

#[tokio::test]
async fn cors_nginx_without_cors_passes() {
    let nginx = NginxServer::start(NginxSite::SecureHeaders);
    let probe = probe("cors", &format!("url = \"{}\"", nginx.url("/"))).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(
        assertion(&probe, "Access-Control-Allow-Origin").actual,
        "absent"
    );
}

#[tokio::test]
async fn cors_demo_fixed_origin_passes() {
    let server = demo().await;
    let settings = format!(
        "url = \"{}/secure/cors\"\npreflight = true\nexpect.allowed_origins = [\"{ALLOWED_ORIGIN}\"]",
        server.base_url()
    );
    let probe = probe("cors", &settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(probe.summary, "2 expectations met");
    assert_eq!(
        assertion(&probe, "Access-Control-Allow-Origin").actual,
        ALLOWED_ORIGIN
    );
    assert_eq!(
        assertion(&probe, "preflight Access-Control-Allow-Origin").actual,
        ALLOWED_ORIGIN
    );
}

#[tokio::test]
async fn cors_demo_unlisted_origin_fails() {
    let server = demo().await;
    let settings = format!(
        "url = \"{}/secure/cors\"\nexpect.allowed_origins = [\"https://other.example\"]",
        server.base_url()
    );
    let probe = probe("cors", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        format!(
            "Access-Control-Allow-Origin: expected absent or one of https://other.example, \
             got {ALLOWED_ORIGIN}"
        )
    );
}

#[tokio::test]
async fn cors_demo_reflection_fails() {
    let server = demo().await;
    let settings = format!(
        "url = \"{}/insecure/cors\"\norigin = \"https://attacker.example\"",
        server.base_url()
    );
    let probe = probe("cors", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "Access-Control-Allow-Origin: expected absent or a fixed origin, not \
         https://attacker.example, got reflects the foreign origin with credentials"
    );
}

#[tokio::test]
async fn cors_refused_port_errors() {
    let port = closed_port();
    let settings = format!("url = \"http://127.0.0.1:{port}/\"\npreflight = true");
    let probe = probe("cors", &settings).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert_eq!(
        probe.summary,
        format!("connection refused by 127.0.0.1:{port}")
    );
    assert_eq!(
        probe.evidence.request[0],
        format!("OPTIONS http://127.0.0.1:{port}/")
    );
}

// --- rate_limit ----------------------------------------------------------------------------

#[tokio::test]
async fn rate_limit_nginx_limited_passes() {
    let nginx = NginxServer::start(NginxSite::RateLimited);
    let settings = format!("url = \"{}\"\nmax_requests = 20", nginx.url("/"));
    let probe = probe("rate_limit", &settings).await;
    let first_limited = NGINX_RATE_LIMIT + 1;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(
        probe.summary,
        format!("429 at request {first_limited} of at most 20, with retry-after")
    );
    assert_eq!(probe.evidence.status, Some(429));
    assert_eq!(histogram_count(&probe, "200"), NGINX_RATE_LIMIT);
    assert_eq!(histogram_count(&probe, "429"), 1);
    assert!(
        probe
            .evidence
            .notes
            .contains(&format!("first 429 at request {first_limited}")),
        "{:?}",
        probe.evidence.notes
    );
    assert!(
        probe
            .evidence
            .headers
            .iter()
            .any(|(name, value)| name == "retry-after" && value == "60"),
        "{:?}",
        probe.evidence.headers
    );
}

#[tokio::test]
async fn rate_limit_nginx_silent_429_fails() {
    let nginx = NginxServer::start(NginxSite::RateLimitedSilently);
    let settings = format!("url = \"{}\"\nmax_requests = 20", nginx.url("/"));
    let probe = probe("rate_limit", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        format!(
            "429 at request {}, but no rate-limit headers (Retry-After, RateLimit-*, \
             X-RateLimit-*)",
            NGINX_RATE_LIMIT + 1
        )
    );
    assert_eq!(assertion(&probe, "rate-limit headers").actual, "none");
}

#[tokio::test]
async fn rate_limit_nginx_unlimited_fails() {
    let nginx = NginxServer::start(NginxSite::SecureHeaders);
    let settings = format!("url = \"{}\"\nmax_requests = 15", nginx.url("/"));
    let probe = probe("rate_limit", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(probe.summary, "no 429 after 15 requests");
    assert_eq!(histogram_count(&probe, "200"), 15);
}

#[tokio::test]
async fn rate_limit_demo_concurrent_burst_passes() {
    let server = demo().await;
    let settings = format!(
        "url = \"{}/secure/limited\"\nmax_requests = 40\nconcurrency = 4",
        server.base_url()
    );
    let probe = probe("rate_limit", &settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert!(probe.summary.contains("retry-after"), "{}", probe.summary);
    assert!(
        probe.summary.contains("ratelimit-limit"),
        "{}",
        probe.summary
    );
    assert_eq!(histogram_count(&probe, "200"), RATE_LIMIT);
    assert!(histogram_count(&probe, "429") >= 1);
    assert!(histogram_count(&probe, "429") <= 4);
}

#[tokio::test]
async fn rate_limit_demo_unlimited_fails() {
    let server = demo().await;
    let settings = format!(
        "url = \"{}/insecure/unlimited\"\nmax_requests = 25\nconcurrency = 2",
        server.base_url()
    );
    let probe = probe("rate_limit", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(probe.summary, "no 429 after 25 requests");
    assert_eq!(histogram_count(&probe, "200"), 25);
    assert_eq!(
        assertion(&probe, "429 within the burst").actual,
        "none in 25 responses"
    );
}

#[tokio::test]
async fn rate_limit_refused_port_errors() {
    let port = closed_port();
    let settings = format!("url = \"http://127.0.0.1:{port}/\"\nmax_requests = 10");
    let probe = probe("rate_limit", &settings).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert_eq!(
        probe.summary,
        format!("request 1 of the burst failed: connection refused by 127.0.0.1:{port}")
    );
    assert_eq!(histogram_count(&probe, "no response"), 1);
}

#[tokio::test]
async fn rate_limit_stops_at_check_timeout() {
    let server = HostileServer::start().await;
    let settings = format!("url = \"{}\"\nmax_requests = 10", server.url("/slow"));
    let probe = probe_with("rate_limit", &settings, Duration::from_millis(500)).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert_eq!(
        probe.summary,
        "burst did not finish within the check timeout (500ms): no 429 in 0 responses"
    );
    assert!(
        probe
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("above max_duration (30s)")),
        "{:?}",
        probe.evidence.notes
    );
}

#[tokio::test]
async fn rate_limit_stops_at_max_duration() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nmax_requests = 10\nmax_duration = \"300ms\"",
        server.url("/slow")
    );
    let probe = probe_with("rate_limit", &settings, Duration::from_secs(5)).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert_eq!(
        probe.summary,
        "no response to the burst within max_duration 300ms"
    );
}
