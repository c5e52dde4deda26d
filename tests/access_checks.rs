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
