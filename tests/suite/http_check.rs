//! The `http` check kind against a hostile server on 127.0.0.1.

use crate::support::hostile;

use std::sync::Arc;
use std::time::Duration;

use golive::checks::{CheckSpec, Outcome, Probe, ProbeContext, parse_spec};
use golive::redact::Redactor;
use hostile::HostileServer;

const SECRET: &str = "s3cr3t-token-value";
const BODY_LIMIT: usize = 64 * 1024;

fn spec(settings: &str) -> CheckSpec {
    let table: toml::Table = toml::from_str(settings).expect("test settings are valid TOML");
    parse_spec("http", table).expect("test settings are valid http settings")
}

fn context(timeout: Duration) -> ProbeContext {
    let mut redactor = Redactor::new();
    redactor.add(SECRET);
    ProbeContext {
        redactor: Arc::new(redactor),
        timeout,
        body_limit: BODY_LIMIT,
    }
}

/// Runs a check with a 2 s timeout, failing the test if the probe outlives it by far.
async fn probe(settings: &str) -> Probe {
    probe_with(settings, Duration::from_secs(2)).await
}

async fn probe_with(settings: &str, timeout: Duration) -> Probe {
    let check = spec(settings);
    let ctx = context(timeout);
    tokio::time::timeout(timeout + Duration::from_secs(5), check.run(&ctx))
        .await
        .expect("probe ends within its timeout")
}

fn evidence_json(probe: &Probe) -> String {
    serde_json::to_string(probe).expect("probe serialises")
}

#[tokio::test]
async fn ok_json_passes() {
    let server = HostileServer::start().await;
    let probe = probe(&format!(
        r#"
        url = "{}"
        [expect]
        status = 200
        max_latency = "10s"
        json = {{ "$.status" = "ok", "$.items" = [1, 2], "$.ready" = true }}
        body_contains = ["version"]
        body_not_contains = ["error"]
        headers_present = ["content-type"]
        "#,
        server.url("/ok")
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(probe.evidence.status, Some(200));
    assert_eq!(probe.evidence.assertions.len(), 8);
    assert!(probe.evidence.latency_ms.is_some());
    assert_eq!(
        probe.evidence.request[0],
        format!("GET {}", server.url("/ok"))
    );
}

#[tokio::test]
async fn json_mismatch_fails() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nexpect.json = {{ \"$.status\" = \"down\" }}",
        server.url("/ok")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "json $.status: expected \"down\", got \"ok\""
    );
}

#[tokio::test]
async fn json_path_without_match_fails() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nexpect.json = {{ \"$.missing\" = 1 }}",
        server.url("/ok")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert!(probe.summary.contains("no match"), "{}", probe.summary);
}

#[tokio::test]
async fn status_503_fails() {
    let server = HostileServer::start().await;
    let probe = probe(&format!("url = \"{}\"", server.url("/status/503"))).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(probe.summary, "status: expected 2xx, got 503");
    assert_eq!(probe.evidence.status, Some(503));
}

#[tokio::test]
async fn status_list_accepts_503() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nexpect.status = [200, 503]",
        server.url("/status/503")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = HostileServer::start().await;
    let settings = format!("url = \"{}\"", server.url("/slow"));
    let probe = probe_with(&settings, Duration::from_millis(500)).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert_eq!(probe.summary, "timed out after 500ms");
}

#[tokio::test]
async fn refused_connection_is_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let probe = probe(&format!("url = \"http://{addr}/\"")).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert_eq!(probe.summary, format!("connection refused by {addr}"));
}

#[tokio::test]
async fn close_mid_response_is_error() {
    let server = HostileServer::start().await;
    let probe = probe(&format!("url = \"{}\"", server.url("/close-mid"))).await;
    assert_eq!(probe.outcome, Outcome::Error);
    let expected = "reading the response body failed: end of file before message length reached";
    assert_eq!(probe.summary, expected);
    assert_eq!(probe.evidence.status, Some(200));
}

#[tokio::test]
async fn close_before_response_is_error() {
    let server = HostileServer::start().await;
    let probe = probe(&format!("url = \"{}\"", server.url("/close-early"))).await;
    assert_eq!(probe.outcome, Outcome::Error);
    let expected = format!(
        "{} closed the connection before sending a response",
        server.addr
    );
    assert_eq!(probe.summary, expected);
    assert_eq!(probe.evidence.status, None);
}

#[tokio::test]
async fn huge_body_cut_at_limit() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nexpect.body_contains = [\"aaaa\"]",
        server.url("/huge")
    );
    let probe = probe_with(&settings, Duration::from_secs(10)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let note = format!("body cut at {BODY_LIMIT} bytes");
    assert!(
        probe.evidence.notes.contains(&note),
        "{:?}",
        probe.evidence.notes
    );
    let excerpt = probe.evidence.body_excerpt.as_deref().unwrap_or_default();
    assert!(
        excerpt.chars().count() <= 2049,
        "excerpt has {} chars",
        excerpt.chars().count()
    );
}

#[tokio::test]
async fn escapes_never_reach_evidence() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nexpect.body_contains = [\"after\"]",
        server.url("/escape")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);

    let excerpt = probe.evidence.body_excerpt.clone().unwrap_or_default();
    assert!(!excerpt.contains('\x1b'), "{excerpt:?}");
    assert!(!excerpt.contains('\x07'), "{excerpt:?}");
    assert!(
        excerpt.contains('\u{fffd}'),
        "invalid UTF-8 replaced: {excerpt:?}"
    );
    let weird = probe
        .evidence
        .headers
        .iter()
        .find(|(name, _)| name == "x-weird");
    let weird = weird.map(|(_, value)| value.as_str()).unwrap_or_default();
    assert!(weird.contains('\u{fffd}'), "{weird:?}");

    let json = evidence_json(&probe);
    assert!(!json.contains("\\u001b"), "{json}");
    assert!(!json.contains("\\u0007"), "{json}");
}

#[tokio::test]
async fn escape_in_header_is_error() {
    let server = HostileServer::start().await;
    let probe = probe(&format!("url = \"{}\"", server.url("/escape-header"))).await;
    assert_eq!(probe.outcome, Outcome::Error);
    let summary = &probe.summary;
    assert!(
        summary.starts_with("invalid HTTP response from"),
        "{summary}"
    );
    assert!(!summary.contains('\x1b'), "{summary:?}");
    assert!(!evidence_json(&probe).contains("\\u001b"));
}

#[tokio::test]
async fn redirect_loop_is_error() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nfollow_redirects = 5",
        server.url("/redirect-loop")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(
        probe.summary.starts_with("redirect loop"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn endless_redirects_hit_the_limit() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nfollow_redirects = 5",
        server.url("/redirect-chain/0")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert_eq!(probe.summary, "too many redirects (max 5)");
}

#[tokio::test]
async fn redirect_is_the_response_by_default() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nexpect.status = 302",
        server.url("/redirect-loop")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
}

#[tokio::test]
async fn header_expectations_pass() {
    let server = HostileServer::start().await;
    let probe = probe(&format!(
        r#"
        url = "{}"
        [expect]
        headers_present = ["X-CUSTOM", "cache-control"]
        headers_absent = ["x-powered-by"]
        headers_equal = {{ "x-custom" = "Value-1", "Server" = "hostile" }}
        "#,
        server.url("/headers")
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(probe.evidence.assertions.len(), 6);
}

#[tokio::test]
async fn header_mismatch_fails() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nexpect.headers_equal = {{ \"X-Custom\" = \"Value-2\" }}",
        server.url("/headers")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "header x-custom: expected Value-2, got Value-1"
    );
}

#[tokio::test]
async fn absent_header_present_fails() {
    let server = HostileServer::start().await;
    let settings = format!(
        "url = \"{}\"\nexpect.headers_absent = [\"server\"]",
        server.url("/headers")
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(probe.summary, "header server: expected absent, got present");
}

#[tokio::test]
async fn secrets_never_in_evidence() {
    let server = HostileServer::start().await;
    let url = server.url("/echo-auth");
    let settings = format!(
        "url = \"{url}?key={SECRET}\"\nheaders = {{ Authorization = \"Bearer {SECRET}\", \
         X-Note = \"{SECRET}\" }}\nexpect.body_contains = [\"{SECRET}\"]"
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);

    let json = evidence_json(&probe);
    assert!(!json.contains(SECRET), "{json}");
    let debug = format!("{probe:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    let described = format!(
        "{:?}",
        spec(&settings).describe(&context(Duration::from_secs(1)).redactor)
    );
    assert!(!described.contains(SECRET), "{described}");
    assert!(
        json.contains("you sent: Bearer"),
        "the echo was read: {json}"
    );
}

#[tokio::test]
async fn secret_in_error_masked() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let probe = probe(&format!("url = \"http://{addr}/{SECRET}\"")).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(!evidence_json(&probe).contains(SECRET));
}

#[tokio::test]
async fn tls_to_plain_server_is_error() {
    let server = HostileServer::start().await;
    let probe = probe(&format!("url = \"https://{}/ok\"", server.addr)).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(
        probe.summary.starts_with("TLS handshake with 127.0.0.1:"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn post_json_body_sent() {
    let server = HostileServer::start().await;
    let probe = probe(&format!(
        r#"
        method = "post"
        url = "{}"
        json = {{ name = "golive", count = 3 }}
        [expect]
        json = {{ "$.name" = "golive", "$.count" = 3 }}
        headers_equal = {{ "x-request-content-type" = "application/json" }}
        "#,
        server.url("/echo-body")
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(
        probe.evidence.request[0],
        format!("POST {}", server.url("/echo-body"))
    );
}

#[tokio::test]
async fn describe_lists_settings() {
    let check = spec(
        "url = \"http://127.0.0.1:1/health\"\nexpect.status = \"2xx\"\n\
         expect.max_latency = \"800ms\"",
    );
    let lines = check.describe(&Redactor::new());
    let labels: Vec<&str> = lines.iter().map(|(label, _)| label.as_str()).collect();
    assert_eq!(labels, ["method", "url", "expect status", "expect latency"]);
    assert_eq!(lines[3].1, "at most 800ms");
}

#[tokio::test]
async fn userinfo_is_no_redirect() {
    let server = HostileServer::start().await;
    let url = format!("http://user:{SECRET}@{}/ok", server.addr);
    let probe = probe(&format!("url = \"{url}\"")).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let redirected = probe
        .evidence
        .notes
        .iter()
        .find(|note| note.starts_with("redirected to"));
    assert_eq!(redirected, None);
    assert!(
        probe.evidence.request[0].contains("user:••••••@"),
        "{:?}",
        probe.evidence.request
    );
}

#[tokio::test]
async fn basic_credentials_masked_in_echo() {
    let server = HostileServer::start().await;
    let url = format!("http://user:{SECRET}@{}/echo-auth", server.addr);
    let probe = probe(&format!("url = \"{url}\"")).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let json = evidence_json(&probe);
    assert!(
        json.contains("you sent: Basic"),
        "the echo was read: {json}"
    );
    // base64 of `user:s3cr3t-token-value`, as reqwest sends it.
    assert!(!json.contains("dXNlcjpzM2NyM3QtdG9rZW4tdmFsdWU="), "{json}");
}

/// Runs an `http` check with `expect.error_leak = false` against a route of the demo target.
async fn probe_demo_leak(path: &str) -> Probe {
    let addr: std::net::SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    let server = golive::demo::serve(addr).await.expect("demo target starts");
    let settings = format!(
        "url = \"{}{path}\"\n[expect]\nstatus = 500\nerror_leak = false",
        server.base_url()
    );
    probe(&settings).await
}

#[tokio::test]
async fn error_leak_fails_on_stack_trace() {
    let probe = probe_demo_leak("/insecure/errors/boom").await;
    assert_eq!(probe.outcome, Outcome::Fail, "{}", probe.summary);
    assert!(
        probe.summary.starts_with("error leak:"),
        "{}",
        probe.summary
    );
    assert!(
        probe.summary.contains("Java stack trace"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn error_leak_passes_on_plain_error() {
    let probe = probe_demo_leak("/secure/errors/boom").await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let leak = probe
        .evidence
        .assertions
        .iter()
        .find(|assertion| assertion.subject == "error leak");
    assert_eq!(leak.map(|assertion| assertion.passed), Some(true));
}

#[tokio::test]
async fn error_leak_unchecked_by_default() {
    let addr: std::net::SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    let server = golive::demo::serve(addr).await.expect("demo target starts");
    let settings = format!(
        "url = \"{}/insecure/errors/boom\"\nexpect.status = 500",
        server.base_url()
    );
    let probe = probe(&settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let subjects: Vec<&str> = probe
        .evidence
        .assertions
        .iter()
        .map(|assertion| assertion.subject.as_str())
        .collect();
    assert_eq!(subjects, ["status"]);
}
