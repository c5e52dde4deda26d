//! The `auth`, `rbac` and `input` check kinds against the demo target's secure and insecure
//! routes, started on 127.0.0.1 by each test.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use golive::checklist::ItemBody;
use golive::checklist::loader::{LoadDefaults, LoadFailure, Loaded, load_str_with_env};
use golive::checks::{CheckSpec, EvidenceTable, Outcome, Probe, ProbeContext, parse_spec};
use golive::demo::access::{ACME_TOKEN, GLOBEX_TOKEN, JWT_SIGNING_KEY, role_token};
use golive::demo::{DEMO_API_KEY, DemoServer};
use golive::redact::Redactor;

use crate::support::nginx;

/// Returns every credential the tests use, which the context registers as secrets.
fn secrets() -> Vec<String> {
    let mut secrets = vec![
        DEMO_API_KEY.to_string(),
        ACME_TOKEN.to_string(),
        GLOBEX_TOKEN.to_string(),
        JWT_SIGNING_KEY.to_string(),
    ];
    for role in ["admin", "reviewer", "viewer"] {
        secrets.push(role_token(role));
    }
    secrets
}

fn context() -> ProbeContext {
    let mut redactor = Redactor::new();
    for secret in secrets() {
        redactor.add(&secret);
    }
    ProbeContext {
        redactor: Arc::new(redactor),
        timeout: Duration::from_secs(30),
        body_limit: 64 * 1024,
    }
}

async fn start() -> DemoServer {
    let addr = "127.0.0.1:0".parse().unwrap();
    golive::demo::serve(addr).await.unwrap()
}

fn spec(kind: &str, toml_text: &str) -> CheckSpec {
    let table: toml::Table = toml::from_str(toml_text).unwrap();
    match parse_spec(kind, table) {
        Ok(spec) => spec,
        Err(err) => panic!("invalid {kind} settings at `{}`: {}", err.path, err.message),
    }
}

async fn run(kind: &str, toml_text: &str) -> Probe {
    let spec = spec(kind, toml_text);
    // Hang protection only: every request has its own 30 s timeout.
    tokio::time::timeout(Duration::from_secs(120), spec.run(&context()))
        .await
        .unwrap()
}

/// Asserts that no credential appears in the probe, its summary or its JSON form.
fn assert_no_secrets(probe: &Probe) {
    let json = serde_json::to_string(probe).unwrap();
    let debug = format!("{probe:?}");
    for secret in secrets() {
        assert!(!json.contains(&secret), "JSON shows {secret}");
        assert!(!debug.contains(&secret), "debug output shows {secret}");
    }
}

fn table<'a>(probe: &'a Probe, title: &str) -> &'a EvidenceTable {
    probe
        .evidence
        .tables
        .iter()
        .find(|table| table.title == title)
        .unwrap()
}

/// Returns a loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn auth_settings(base: &str, variant: &str) -> String {
    format!(
        r#"
url = "{base}/{variant}/auth/clients/acme/profile"
valid_api_key = "{DEMO_API_KEY}"
valid_token = "{ACME_TOKEN}"
other_client_url = "{base}/{variant}/auth/clients/globex/profile"
other_client_token = "{GLOBEX_TOKEN}"
jwt_secret = "{JWT_SIGNING_KEY}"
"#
    )
}

#[tokio::test]
async fn auth_secure_routes_pass() {
    let server = start().await;
    let probe = run("auth", &auth_settings(&server.base_url(), "secure")).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let cases = table(&probe, "auth cases");
    assert_eq!(cases.rows.len(), 8);
    let labels: Vec<&str> = cases.rows.iter().map(|row| row.label.as_str()).collect();
    assert!(labels.contains(&"expired JWT"), "{labels:?}");
    assert!(labels.contains(&"cross-tenant resource"), "{labels:?}");
    assert_no_secrets(&probe);
}

#[tokio::test]
async fn auth_insecure_routes_fail() {
    let server = start().await;
    let probe = run("auth", &auth_settings(&server.base_url(), "insecure")).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert!(
        probe.summary.starts_with("invalid API key: expected 401"),
        "{}",
        probe.summary
    );
    let cases = table(&probe, "auth cases");
    let failed: Vec<&str> = cases
        .rows
        .iter()
        .filter(|row| row.cells[2].passed == Some(false))
        .map(|row| row.label.as_str())
        .collect();
    assert!(failed.contains(&"expired JWT"), "{failed:?}");
    assert!(failed.contains(&"missing credentials"), "{failed:?}");
    assert!(failed.contains(&"cross-tenant resource"), "{failed:?}");
    assert!(failed.contains(&"forced error"), "{failed:?}");
    assert!(!failed.contains(&"malformed bearer"), "{failed:?}");
    assert_no_secrets(&probe);
}

#[tokio::test]
async fn auth_expired_jwt_accepted_fails() {
    let server = start().await;
    let settings = format!(
        "{}\ncases = {{ valid_credentials = false, invalid_api_key = false, \
         missing_credentials = false, malformed_bearer = false, cross_tenant = false, \
         forced_error = false }}",
        auth_settings(&server.base_url(), "insecure")
    );
    let probe = run("auth", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "expired JWT: expected 401, no error leak, got 200"
    );
}

#[tokio::test]
async fn auth_forced_error_leak_fails() {
    let server = start().await;
    let base = server.base_url();
    let settings = format!(
        r#"
url = "{base}/insecure/auth/clients/acme/profile"
valid_token = "{ACME_TOKEN}"
[cases]
valid_credentials = false
invalid_api_key = false
missing_credentials = false
malformed_bearer = false
expired_jwt = false
cross_tenant = false
"#
    );
    let probe = run("auth", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert!(
        probe.summary.starts_with("forced error:"),
        "{}",
        probe.summary
    );
    assert!(
        probe.summary.contains("Node.js stack trace"),
        "{}",
        probe.summary
    );
    let body = probe.evidence.body_excerpt.as_deref().unwrap_or_default();
    assert!(body.contains("/var/task/"), "{body}");
}

#[tokio::test]
async fn auth_error_url_checked_for_leaks() {
    let server = start().await;
    let base = server.base_url();
    for (variant, outcome) in [("secure", Outcome::Pass), ("insecure", Outcome::Fail)] {
        let settings = format!(
            r#"
url = "{base}/secure/auth/clients/acme/profile"
valid_api_key = "{DEMO_API_KEY}"
valid_token = "{ACME_TOKEN}"
jwt_secret = "{JWT_SIGNING_KEY}"
error_url = "{base}/{variant}/errors/boom"
"#
        );
        let probe = run("auth", &settings).await;
        assert_eq!(probe.outcome, outcome, "{variant}: {}", probe.summary);
    }
}

#[tokio::test]
async fn auth_refused_port_is_error() {
    let port = closed_port();
    let settings = auth_settings(&format!("http://127.0.0.1:{port}"), "secure");
    let probe = run("auth", &settings).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(
        probe.summary.contains("connection refused"),
        "{}",
        probe.summary
    );
    assert_no_secrets(&probe);
}

fn rbac_settings(base: &str, variant: &str) -> String {
    let admin = role_token("admin");
    let reviewer = role_token("reviewer");
    let viewer = role_token("viewer");
    format!(
        r#"
concurrency = 4
[roles]
admin = "{admin}"
reviewer = "{reviewer}"
viewer = "{viewer}"

[[actions]]
name = "list"
url = "{base}/{variant}/rbac/cases"
expect = {{ admin = 200, reviewer = 200, viewer = 200 }}

[[actions]]
name = "approve"
method = "POST"
url = "{base}/{variant}/rbac/cases/case_1001/approve"
expect = {{ admin = "2xx", reviewer = 403, viewer = 403 }}

[[actions]]
name = "delete"
method = "DELETE"
url = "{base}/{variant}/rbac/cases/case_1001"
expect = {{ admin = 204 }}
expect_others = 403
"#
    )
}

#[tokio::test]
async fn rbac_secure_routes_pass() {
    let server = start().await;
    let probe = run("rbac", &rbac_settings(&server.base_url(), "secure")).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(probe.summary, "9 cells met their expectation");
    let matrix = table(&probe, "roles × actions");
    assert_eq!(
        matrix.columns,
        ["GET list", "POST approve", "DELETE delete"]
    );
    assert_eq!(matrix.rows.len(), 3);
    assert_eq!(matrix.rows[1].label, "reviewer");
    assert_eq!(matrix.rows[1].cells[1].text, "expected 403 / got 403");
    assert_no_secrets(&probe);
}

#[tokio::test]
async fn rbac_insecure_reviewer_approve_fails() {
    let server = start().await;
    let probe = run("rbac", &rbac_settings(&server.base_url(), "insecure")).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_eq!(
        probe.summary,
        "reviewer POST approve: expected 403, got 200"
    );
    let matrix = table(&probe, "roles × actions");
    let cell = &matrix.rows[1].cells[1];
    assert_eq!(cell.text, "expected 403 / got 200");
    assert_eq!(cell.passed, Some(false));
    assert_eq!(matrix.rows[2].cells[1].passed, Some(true));
    assert_no_secrets(&probe);
}

#[tokio::test]
async fn rbac_unlisted_role_not_tested() {
    let server = start().await;
    let base = server.base_url();
    let admin = role_token("admin");
    let viewer = role_token("viewer");
    let settings = format!(
        r#"
roles = {{ admin = "{admin}", viewer = "{viewer}" }}
[[actions]]
name = "approve"
method = "POST"
url = "{base}/secure/rbac/cases/case_1001/approve"
expect = {{ admin = 200 }}
"#
    );
    let probe = run("rbac", &settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let matrix = table(&probe, "roles × actions");
    assert_eq!(matrix.rows[1].cells[0].text, "not tested");
    assert_eq!(matrix.rows[1].cells[0].passed, None);
}

#[tokio::test]
async fn rbac_refused_port_is_error() {
    let port = closed_port();
    let probe = run(
        "rbac",
        &rbac_settings(&format!("http://127.0.0.1:{port}"), "secure"),
    )
    .await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(
        probe.summary.contains("connection refused"),
        "{}",
        probe.summary
    );
    assert_no_secrets(&probe);
}

#[tokio::test]
async fn input_secure_search_passes() {
    let server = start().await;
    let base = server.base_url();
    let settings = format!("url = \"{base}/secure/input/search?q={{payload}}\"");
    let probe = run("input", &settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let payloads = table(&probe, "payloads");
    // 5 SQL injection, 4 XSS, 4 path traversal payloads and the oversized body.
    assert_eq!(payloads.rows.len(), 14);
    let oversized = payloads.rows.last().unwrap();
    assert!(
        oversized.label.starts_with("oversized"),
        "{}",
        oversized.label
    );
    assert_eq!(oversized.cells[0].text, "413");
}

#[tokio::test]
async fn input_insecure_search_fails() {
    let server = start().await;
    let base = server.base_url();
    let settings = format!("url = \"{base}/insecure/input/search?q={{payload}}\"");
    let probe = run("input", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert!(
        probe
            .summary
            .starts_with("sql_injection ' OR '1'='1: status 500, expected 400"),
        "{}",
        probe.summary
    );
    assert!(
        probe.summary.contains("PostgreSQL error"),
        "{}",
        probe.summary
    );
    let payloads = table(&probe, "payloads");
    let verdict = |prefix: &str| {
        payloads
            .rows
            .iter()
            .find(|row| row.label.starts_with(prefix))
            .map(|row| row.cells[1].text.clone())
            .unwrap()
    };
    assert!(
        verdict("xss <script>").contains("reflects the payload unescaped"),
        "{}",
        verdict("xss <script>")
    );
    assert!(
        verdict("path_traversal ../../etc/passwd").contains("serves a system file"),
        "{}",
        verdict("path_traversal ../../etc/passwd")
    );
    assert!(
        verdict("oversized").contains("status 200, expected 413"),
        "{}",
        verdict("oversized")
    );
}

#[tokio::test]
async fn input_json_template_secure_passes() {
    let server = start().await;
    let base = server.base_url();
    let settings = format!(
        r#"
url = "{base}/secure/input/search"
json_template = {{ q = "{{payload}}" }}
families = ["sql_injection", "xss", "oversized"]
oversized_bytes = 100000
expect = {{ oversized = 413 }}
"#
    );
    let probe = run("input", &settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
}

#[tokio::test]
async fn input_files_traversal_per_variant() {
    let server = start().await;
    let base = server.base_url();
    let secure =
        format!("url = \"{base}/secure/input/files/{{payload}}\"\nfamilies = [\"path_traversal\"]");
    let probe = run("input", &secure).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    let insecure = secure.replace("/secure/", "/insecure/");
    let probe = run("input", &insecure).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert!(
        probe
            .summary
            .contains("serves a system file (`root:x:0:0`)"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn input_extra_payloads_and_expectations() {
    let server = start().await;
    let base = server.base_url();
    let settings = format!(
        r#"
url = "{base}/insecure/input/search?q={{payload}}"
families = ["sql_injection"]
expect = {{ sql_injection = "2xx" }}
[payloads]
sql_injection = ["1 OR 1=1"]
"#
    );
    let probe = run("input", &settings).await;
    let payloads = table(&probe, "payloads");
    let extra = payloads.rows.last().unwrap();
    assert_eq!(extra.label, "sql_injection 1 OR 1=1");
    assert_eq!(extra.cells[1].passed, Some(true));
    assert_eq!(probe.outcome, Outcome::Fail);
}

#[tokio::test]
async fn input_refused_port_is_error() {
    let port = closed_port();
    let settings = format!("url = \"http://127.0.0.1:{port}/s?q={{payload}}\"");
    let probe = run("input", &settings).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(
        probe.summary.contains("connection refused"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn input_secret_in_headers_masked() {
    let server = start().await;
    let base = server.base_url();
    let settings = format!(
        r#"
url = "{base}/insecure/input/search?q={{payload}}"
headers = {{ X-Client = "{ACME_TOKEN}" }}
families = ["xss"]
"#
    );
    let probe = run("input", &settings).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert_no_secrets(&probe);
}

/// How a raw HTTP/1.1 test server treats a request with a large body.
#[derive(Debug, Clone, Copy)]
enum BodyServer {
    /// Reads the head, sends 413 with this body and closes without reading the request body,
    /// like nginx without lingering close. `{authorization}` in the body is replaced with the
    /// request's `Authorization` value.
    EarlyReject(&'static str),
    /// Reads the whole body and responds with 200 and the number of bytes received.
    ReadAllThenOk,
    /// Reads the head and closes without a response.
    CloseWithoutResponse,
    /// Reads the head, then keeps the connection open without reading or responding.
    Silent,
}

/// A raw HTTP/1.1 server on 127.0.0.1 that records the request heads it read.
struct RawServer {
    url: String,
    heads: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    async fn start(behaviour: BodyServer) -> RawServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/upload", listener.local_addr().unwrap());
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorded = Arc::clone(&heads);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let recorded = Arc::clone(&recorded);
                tokio::spawn(serve_body_request(stream, behaviour, recorded));
            }
        });
        RawServer { url, heads, task }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Reads up to the end of the request head; returns the head and the body bytes read after it.
async fn read_request_head(stream: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt as _;

    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            return Some((head, buffer[end + 4..].to_vec()));
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

fn header_value(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

async fn serve_body_request(
    mut stream: tokio::net::TcpStream,
    behaviour: BodyServer,
    recorded: Arc<std::sync::Mutex<Vec<String>>>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let Some((head, already_read)) = read_request_head(&mut stream).await else {
        return;
    };
    recorded.lock().unwrap().push(head.clone());
    let response = match behaviour {
        BodyServer::EarlyReject(template) => {
            let authorization = header_value(&head, "authorization").unwrap_or_default();
            let body = template.replace("{authorization}", &authorization);
            format!(
                "HTTP/1.1 413 Request Entity Too Large\r\ncontent-type: text/plain\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        BodyServer::ReadAllThenOk => {
            let length: usize = header_value(&head, "content-length")
                .and_then(|value| value.parse().ok())
                .unwrap_or(0);
            let mut received = already_read.len();
            let mut chunk = vec![0u8; 64 * 1024];
            while received < length {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => received += read,
                }
            }
            let body = format!("{{\"received_bytes\": {received}}}");
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            )
        }
        BodyServer::CloseWithoutResponse => return,
        BodyServer::Silent => {
            // Holds the connection until the test drops the server, which aborts this task.
            std::future::pending::<()>().await;
            return;
        }
    };
    let _ = stream.write_all(response.as_bytes()).await;
}

fn oversized_settings(url: &str, extra: &str) -> String {
    format!(
        r#"
url = "{url}?q={{payload}}"
families = ["oversized"]
headers = {{ Authorization = "Bearer {ACME_TOKEN}" }}
{extra}
"#
    )
}

/// Returns the row of the `oversized` request in the payload table.
fn oversized_row(probe: &Probe) -> &golive::checks::EvidenceRow {
    table(probe, "payloads")
        .rows
        .iter()
        .find(|row| row.label.starts_with("oversized"))
        .unwrap()
}

#[tokio::test]
async fn oversized_demo_early_413_passes() {
    let server = start().await;
    let base = server.base_url();
    let settings =
        format!("url = \"{base}/secure/input/search?q={{payload}}\"\nfamilies = [\"oversized\"]");
    let probe = run("input", &settings).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(oversized_row(&probe).cells[0].text, "413");
}

#[tokio::test]
async fn oversized_early_closer_passes() {
    let server = RawServer::start(BodyServer::EarlyReject(
        "request body too large for {authorization}",
    ))
    .await;
    // The default body of 11 MiB is far more than the socket buffers hold, so the server
    // closes while golive is still writing.
    let probe = run("input", &oversized_settings(&server.url, "")).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(oversized_row(&probe).cells[0].text, "413");
    assert_no_secrets(&probe);
    let heads = server.heads();
    assert_eq!(heads.len(), 1);
    let head = &heads[0];
    assert!(head.starts_with("POST /upload?q= HTTP/1.1"), "{head}");
    assert_eq!(
        header_value(head, "content-length").as_deref(),
        Some("11534336")
    );
    assert_eq!(header_value(head, "connection").as_deref(), Some("close"));
    let token = format!("Bearer {ACME_TOKEN}");
    assert_eq!(
        header_value(head, "authorization").as_deref(),
        Some(token.as_str())
    );
}

#[tokio::test]
async fn oversized_early_closer_leak_fails() {
    let server = RawServer::start(BodyServer::EarlyReject(
        "java.lang.IllegalStateException: body too large for {authorization}\n\
         \tat com.authbridge.gateway.BodyLimit.check(BodyLimit.java:42)\n",
    ))
    .await;
    let probe = run("input", &oversized_settings(&server.url, "")).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert!(
        probe.summary.contains("leaks Java stack trace"),
        "{}",
        probe.summary
    );
    assert_eq!(probe.evidence.status, Some(413));
    let excerpt = probe.evidence.body_excerpt.clone().unwrap_or_default();
    assert!(excerpt.contains("BodyLimit.java:42"), "{excerpt}");
    assert_no_secrets(&probe);
}

#[tokio::test]
async fn oversized_whole_body_read_fails() {
    let server = RawServer::start(BodyServer::ReadAllThenOk).await;
    let extra = "oversized_bytes = 1048576";
    let probe = run("input", &oversized_settings(&server.url, extra)).await;
    assert_eq!(probe.outcome, Outcome::Fail);
    assert!(
        probe.summary.contains("status 200, expected 413"),
        "{}",
        probe.summary
    );
    let excerpt = probe.evidence.body_excerpt.clone().unwrap_or_default();
    assert_eq!(excerpt, "{\"received_bytes\": 1048576}");
    assert_no_secrets(&probe);
}

#[tokio::test]
async fn oversized_close_without_response_is_error() {
    let server = RawServer::start(BodyServer::CloseWithoutResponse).await;
    let probe = run("input", &oversized_settings(&server.url, "")).await;
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(
        probe
            .summary
            .contains("closed the connection without sending a response after"),
        "{}",
        probe.summary
    );
    assert!(
        probe.summary.contains("of 11534336 body bytes"),
        "{}",
        probe.summary
    );
    assert!(
        probe
            .evidence
            .request
            .iter()
            .any(|line| line.contains("POST")),
        "{:?}",
        probe.evidence.request
    );
    assert_no_secrets(&probe);
}

#[tokio::test]
async fn oversized_silent_server_times_out() {
    let server = RawServer::start(BodyServer::Silent).await;
    let mut ctx = context();
    ctx.timeout = Duration::from_secs(2);
    let spec = spec("input", &oversized_settings(&server.url, ""));
    // Hang protection only: the probe's own timeout is 2 s.
    let probe = tokio::time::timeout(Duration::from_secs(60), spec.run(&ctx))
        .await
        .unwrap();
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(
        probe
            .summary
            .contains("timed out after 2s with no response"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn oversized_real_nginx_passes() {
    // nginx rejects a body above `client_max_body_size`, 1 MiB by default, with 413 before
    // the location's `return` runs.
    let nginx = nginx::NginxServer::start(nginx::NginxSite::SecureHeaders);
    let probe = run("input", &oversized_settings(&nginx.url("/upload"), "")).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{}", probe.summary);
    assert_eq!(oversized_row(&probe).cells[0].text, "413");
}

#[tokio::test]
async fn oversized_untrusted_certificate_is_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let certificate = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // The client rejects the certificate, so the handshake fails on this side too.
            let _ = acceptor.accept(stream).await;
        }
    });
    let url = format!("https://{addr}/upload");
    let probe = run("input", &oversized_settings(&url, "")).await;
    task.abort();
    assert_eq!(probe.outcome, Outcome::Error);
    assert!(
        probe
            .summary
            .contains("is not signed by a trusted certificate authority"),
        "{}",
        probe.summary
    );
}

fn demo_secret(name: &str) -> Option<String> {
    match name {
        "DEMO_API_KEY" => Some(DEMO_API_KEY.to_string()),
        "ACME_TOKEN" => Some(ACME_TOKEN.to_string()),
        "GLOBEX_TOKEN" => Some(GLOBEX_TOKEN.to_string()),
        "JWT_KEY" => Some(JWT_SIGNING_KEY.to_string()),
        "ADMIN_TOKEN" => Some(role_token("admin")),
        "REVIEWER_TOKEN" => Some(role_token("reviewer")),
        _ => None,
    }
}

fn checklist_text(base: &str) -> String {
    format!(
        r#"
[checklist]
title = "Access checks"

[secrets.api_key]
env = "DEMO_API_KEY"
[secrets.acme_token]
env = "ACME_TOKEN"
[secrets.globex_token]
env = "GLOBEX_TOKEN"
[secrets.jwt_key]
env = "JWT_KEY"
[secrets.admin_token]
env = "ADMIN_TOKEN"
[secrets.reviewer_token]
env = "REVIEWER_TOKEN"

[[phases]]
id = "security"
title = "Security"

[[phases.items]]
id = "auth"
title = "Credentials are checked"
severity = "critical"
[phases.items.check]
kind = "auth"
url = "{base}/secure/auth/clients/acme/profile"
valid_api_key = "${{secret.api_key}}"
valid_token = "${{secret.acme_token}}"
other_client_token = "${{secret.globex_token}}"
jwt_secret = "${{secret.jwt_key}}"
[phases.items.check.expect]
cross_tenant = [403, 404]

[[phases.items]]
id = "rbac"
title = "Reviewers cannot approve"
severity = "critical"
[phases.items.check]
kind = "rbac"
expect_others = 403
[phases.items.check.roles]
admin = "${{secret.admin_token}}"
reviewer = "${{secret.reviewer_token}}"
[[phases.items.check.actions]]
name = "approve"
method = "POST"
url = "{base}/insecure/rbac/cases/case_1001/approve"
expect = {{ admin = 200 }}

[[phases.items]]
id = "input"
title = "Search rejects hostile input"
severity = "high"
[phases.items.check]
kind = "input"
url = "{base}/secure/input/search?q={{payload}}"
headers = {{ X-API-Key = "${{secret.api_key}}" }}
families = ["sql_injection", "xss"]
[phases.items.check.payloads]
xss = ["<iframe src=javascript:alert(1)>"]
"#
    )
}

fn load(text: &str) -> Result<Loaded, LoadFailure> {
    load_str_with_env(
        Path::new("access.toml"),
        text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &demo_secret,
    )
}

#[tokio::test]
async fn checklist_items_load_and_run() {
    let server = start().await;
    let loaded = load(&checklist_text(&server.base_url())).unwrap();
    let checklist = loaded.checklist;
    let ctx = ProbeContext {
        redactor: Arc::clone(&checklist.redactor),
        timeout: Duration::from_secs(30),
        body_limit: 64 * 1024,
    };
    let mut outcomes = BTreeMap::new();
    for item in &checklist.phases[0].items {
        let ItemBody::Check(check) = &item.body else {
            panic!("item {} is not a check", item.id);
        };
        assert!(check.unavailable.is_empty(), "{:?}", check.unavailable);
        let probe = tokio::time::timeout(Duration::from_secs(120), check.spec.run(&ctx))
            .await
            .unwrap();
        assert_no_secrets(&probe);
        let described = format!("{:?}", check.spec.describe(&checklist.redactor));
        for secret in secrets() {
            assert!(!described.contains(&secret), "describe shows {secret}");
        }
        outcomes.insert(item.id.clone(), (probe.outcome, probe.summary));
    }
    assert_eq!(outcomes["auth"].0, Outcome::Pass, "{}", outcomes["auth"].1);
    assert_eq!(outcomes["rbac"].0, Outcome::Fail);
    assert_eq!(
        outcomes["rbac"].1,
        "reviewer POST approve: expected 403, got 200"
    );
    assert_eq!(
        outcomes["input"].0,
        Outcome::Pass,
        "{}",
        outcomes["input"].1
    );
}

#[test]
fn checklist_unknown_keys_reported() {
    let text = checklist_text("http://127.0.0.1:9")
        .replace("expect_others = 403", "expect_other = 403")
        .replace("families = [", "familes = [");
    let failure = load(&text).unwrap_err();
    let messages: Vec<&str> = failure
        .diagnostics
        .iter()
        .map(|diagnostic| diagnostic.message.as_str())
        .collect();
    let joined = messages.join("\n");
    assert!(joined.contains("`expect_other`"), "{joined}");
    assert!(joined.contains("`familes`"), "{joined}");
}
