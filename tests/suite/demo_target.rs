//! The demo target, started on a free loopback port and queried over real sockets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use golive::checklist::loader::{self, LoadDefaults};
use golive::checks::Outcome;
use golive::config::EngineSettings;
use golive::demo::{self, DEMO_ADMIN_TOKEN, DEMO_API_KEY, DEMO_PARTNER_TOKEN, DemoServer};
use golive::redact::MASK;
use golive::report::{self, Format};
use golive::session::Session;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Upper bound for any one request, so that a broken server fails the test instead of hanging.
const HANG_GUARD: Duration = Duration::from_secs(20);

async fn start() -> (DemoServer, reqwest::Client) {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    let server = demo::serve(addr).await.expect("demo target starts");
    let client = reqwest::Client::builder()
        .timeout(HANG_GUARD)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds");
    (server, client)
}

async fn json_body(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

#[tokio::test]
async fn binds_to_given_loopback_address() {
    let (server, _client) = start().await;
    assert!(server.addr.ip().is_loopback());
    assert_ne!(server.addr.port(), 0);
    assert_eq!(
        server.base_url(),
        format!("http://127.0.0.1:{}", server.addr.port())
    );
}

#[tokio::test]
async fn health_routes_report_ok_and_version() {
    let (server, client) = start().await;
    for path in ["/health", "/api/v1/health"] {
        let response = client
            .get(format!("{}{path}", server.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
        let body = json_body(response).await;
        assert_eq!(body["status"], "ok", "{path}");
        assert_eq!(body["version"], demo::DEMO_VERSION, "{path}");
    }
}

#[tokio::test]
async fn cases_need_the_api_key() {
    let (server, client) = start().await;
    let url = format!("{}/api/v1/cases", server.base_url());

    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_body(missing).await["error"], "unauthorized");

    let wrong = client
        .get(&url)
        .header("X-API-Key", "not-the-key")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let valid = client
        .get(&url)
        .header("X-API-Key", DEMO_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(valid.status(), StatusCode::OK);
    let body = json_body(valid).await;
    assert_eq!(body["total"], 3);
    assert_eq!(body["cases"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn verification_post_creates_resource() {
    let (server, client) = start().await;
    let url = format!("{}/api/v1/verifications", server.base_url());
    let request = json!({ "subject_id": "subj_42", "document_type": "passport" });

    let unauthorised = client.post(&url).json(&request).send().await.unwrap();
    assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);

    let first = client
        .post(&url)
        .header("X-API-Key", DEMO_API_KEY)
        .json(&request)
        .send();
    let first = first.await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(
        first.headers()["location"],
        "/api/v1/verifications/ver_0001"
    );
    let body = json_body(first).await;
    assert_eq!(body["id"], "ver_0001");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["subject_id"], "subj_42");

    let second = client
        .post(&url)
        .header("X-API-Key", DEMO_API_KEY)
        .json(&request)
        .send();
    let second = json_body(second.await.unwrap()).await;
    assert_eq!(second["id"], "ver_0002");
}

#[tokio::test]
async fn verification_post_rejects_bad_bodies() {
    let (server, client) = start().await;
    let url = format!("{}/api/v1/verifications", server.base_url());
    let post = |body: reqwest::Body| {
        client
            .post(&url)
            .header("X-API-Key", DEMO_API_KEY)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    let malformed = post("{not json".into()).await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(malformed).await["error"], "invalid_request");

    let empty_field = post(r#"{"subject_id": "", "document_type": "passport"}"#.into());
    assert_eq!(
        empty_field.await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let unknown_field = post(r#"{"subject_id": "s", "document_type": "d", "x": 1}"#.into());
    assert_eq!(
        unknown_field.await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let oversized = format!(
        r#"{{"subject_id": "{}", "document_type": "d"}}"#,
        "a".repeat(64 * 1024)
    );
    let too_large = post(oversized.into()).await.unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn admin_route_distinguishes_401_and_403() {
    let (server, client) = start().await;
    let url = format!("{}/api/v1/admin/clients", server.base_url());

    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let challenge = missing.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");

    let unknown = client
        .get(&url)
        .bearer_auth("made-up-token")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let challenge = unknown.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    let api_key_only = client
        .get(&url)
        .header("X-API-Key", DEMO_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(api_key_only.status(), StatusCode::UNAUTHORIZED);

    let partner = client
        .get(&url)
        .bearer_auth(DEMO_PARTNER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(partner.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_body(partner).await["error"], "forbidden");

    let admin = client
        .get(&url)
        .bearer_auth(DEMO_ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), StatusCode::OK);
    assert_eq!(
        json_body(admin).await["clients"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn webhook_test_fails_with_503() {
    let (server, client) = start().await;
    let url = format!("{}/api/v1/webhooks/test", server.base_url());
    for request in [client.get(&url), client.post(&url)] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "120");
        assert_eq!(
            json_body(response).await["error"],
            "webhook_relay_unavailable"
        );
    }
}

#[tokio::test]
async fn slow_report_outlasts_a_short_timeout() {
    let (server, _client) = start().await;
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let url = format!("{}/api/v1/reports/slow", server.base_url());
    let err = impatient
        .get(&url)
        .send()
        .await
        .expect_err("slow report outlasts 500 ms");
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn slow_report_answers_eventually() {
    let (server, client) = start().await;
    let url = format!("{}/api/v1/reports/slow", server.base_url());
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await["report"], "daily-volume");
}

#[tokio::test]
async fn portal_login_sends_security_headers() {
    let (server, client) = start().await;
    let response = client
        .get(format!("{}/portal/login", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert!(headers.contains_key("strict-transport-security"));
    assert!(headers.contains_key("content-security-policy"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(!headers.contains_key("x-powered-by"));
}

#[tokio::test]
async fn legacy_login_lacks_security_headers() {
    let (server, client) = start().await;
    let response = client
        .get(format!("{}/legacy/login", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert!(!headers.contains_key("strict-transport-security"));
    assert!(!headers.contains_key("content-security-policy"));
    assert!(!headers.contains_key("x-content-type-options"));
    assert!(!headers.contains_key("x-frame-options"));
    assert_eq!(headers["x-powered-by"], "PHP/5.6.40");
}

#[tokio::test]
async fn metrics_count_completed_requests() {
    let (server, client) = start().await;
    let base = server.base_url();
    client.get(format!("{base}/health")).send().await.unwrap();
    client
        .get(format!("{base}/api/v1/cases"))
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/api/v1/webhooks/test"))
        .send()
        .await
        .unwrap();

    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["requests_total"], 3);
    assert_eq!(body["responses"]["2xx"], 1);
    assert_eq!(body["responses"]["4xx"], 1);
    assert_eq!(body["responses"]["5xx"], 1);
    assert!(body["uptime_seconds"].is_u64());
}

#[tokio::test]
async fn unknown_route_is_json_404() {
    let (server, client) = start().await;
    let response = client
        .get(format!("{}/nope", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_body(response).await["error"], "not_found");
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let (server, client) = start().await;
    let base = server.base_url();
    server.shutdown().await.expect("clean shutdown");
    let err = client
        .get(format!("{base}/health"))
        .send()
        .await
        .expect_err("server is gone");
    assert!(err.is_connect(), "{err}");
}

#[tokio::test]
async fn drop_stops_the_server() {
    let (server, client) = start().await;
    let base = server.base_url();
    drop(server);
    // The abort takes effect when the runtime next polls the task, so wait for it, bounded.
    let mut last = None;
    for _ in 0..100 {
        match client.get(format!("{base}/health")).send().await {
            Err(err) if err.is_connect() => {
                last = Some(err);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(last.is_some(), "server still answers after drop");
}

// ----- the demo checklist against the demo target -----

/// Loads `checklists/demo.toml` for the `demo` environment, pointed at `base_url`, with the
/// secrets read from a lookup instead of the process environment.
fn load_demo_checklist(base_url: &str) -> golive::checklist::Checklist {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("checklists/demo.toml");
    let text = std::fs::read_to_string(&path).expect("demo checklist is readable");
    let overrides = BTreeMap::from([("base_url".to_string(), base_url.to_string())]);
    let vars = demo::checklist_env();
    let env = |name: &str| {
        vars.iter()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| value.clone())
    };
    let loaded = loader::load_str_with_env(
        &path,
        &text,
        Some("demo"),
        &overrides,
        &LoadDefaults::default(),
        &env,
    );
    match loaded {
        Ok(loaded) => loaded.checklist,
        Err(failure) => panic!("demo checklist does not load:\n{failure}"),
    }
}

#[test]
fn demo_checklist_loads() {
    let checklist = load_demo_checklist("http://127.0.0.1:1");
    assert_eq!(checklist.environment, "demo");
    assert_eq!(checklist.phases.len(), 4);
    assert_eq!(checklist.items().count(), 27);
    assert_eq!(checklist.items().filter(|item| item.is_manual()).count(), 3);
    let live = checklist
        .items()
        .filter_map(|item| item.check()?.interval)
        .count();
    assert_eq!(live, 6);
    for (name, value) in demo::checklist_env() {
        assert_eq!(checklist.redactor.redact(&value), MASK, "{name}");
    }
}

/// Check kinds of the Security phase, each with the item that must pass and the one that must
/// fail against the demo target.
const SECURITY_PAIRS: [(&str, &str, &str); 7] = [
    ("headers", "headers-secure", "headers-insecure"),
    ("cors", "cors-secure", "cors-insecure"),
    ("rate_limit", "rate-limit-secure", "rate-limit-insecure"),
    ("auth", "auth-secure", "auth-insecure"),
    ("rbac", "rbac-secure", "rbac-insecure"),
    ("input", "input-secure", "input-insecure"),
    ("http", "errors-secure", "errors-insecure"),
];

#[test]
fn demo_security_phase_covers_kinds() {
    let checklist = load_demo_checklist("http://127.0.0.1:1");
    let phase = checklist.phases.iter().find(|phase| phase.id == "security");
    assert!(phase.is_some(), "no security phase");
    for (kind, secure, insecure) in SECURITY_PAIRS {
        for id in [secure, insecure] {
            let item_kind = checklist
                .item(id)
                .and_then(|item| item.check())
                .map(|check| check.spec.kind());
            assert_eq!(item_kind, Some(kind), "{id}");
        }
    }
    let tls = checklist
        .items()
        .filter(|item| item.check().is_some_and(|check| check.spec.kind() == "tls"))
        .count();
    assert_eq!(tls, 0, "the demo target has no TLS server");
}

#[tokio::test]
async fn demo_checklist_outcomes_against_target() {
    let (server, _client) = start().await;
    let checklist = Arc::new(load_demo_checklist(&server.base_url()));
    let run = golive::engine::run_once(
        checklist.clone(),
        EngineSettings::default(),
        BTreeSet::new(),
    );
    let results = tokio::time::timeout(HANG_GUARD, run)
        .await
        .expect("run finishes");
    let outcomes: HashMap<&str, Outcome> = results
        .iter()
        .map(|result| (result.item_id.as_str(), result.outcome))
        .collect();

    // `api-health` is left out because its expectation includes a latency bound.
    for id in [
        "health",
        "cases-with-key",
        "cases-without-key",
        "admin-clients",
        "portal-headers",
        "create-verification",
    ] {
        assert_eq!(outcomes.get(id), Some(&Outcome::Pass), "{id}: {results:#?}");
    }
    for (kind, secure, insecure) in SECURITY_PAIRS {
        let summary = |id: &str| {
            results
                .iter()
                .find(|result| result.item_id == id)
                .map(|result| result.summary.clone())
        };
        assert_eq!(
            outcomes.get(secure),
            Some(&Outcome::Pass),
            "{kind} {secure}: {:?}",
            summary(secure)
        );
        assert_eq!(
            outcomes.get(insecure),
            Some(&Outcome::Fail),
            "{kind} {insecure}: {:?}",
            summary(insecure)
        );
    }
    assert_eq!(outcomes.get("webhook-delivery"), Some(&Outcome::Fail));
    // The target sleeps 3s and the check allows 1s, so this cannot pass.
    assert_eq!(outcomes.get("slow-report"), Some(&Outcome::Error));
    assert_eq!(outcomes.get("metrics-live"), Some(&Outcome::Blocked));

    let mut session = Session::new(checklist.clone());
    for result in &results {
        session.apply_result(result.clone());
    }
    assert_eq!(report::exit_code(&checklist, &session), 1);
    for format in [Format::Text, Format::Json, Format::Junit] {
        let output = report::render(format, &checklist, &session, &results);
        for (name, value) in demo::checklist_env() {
            assert!(!output.contains(&value), "{format:?} leaks {name}");
        }
    }
}
