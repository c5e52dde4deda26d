//! Routes of the demo target and the layers that bound every request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{
    BODY_LIMIT, DEMO_ADMIN_TOKEN, DEMO_API_KEY, DEMO_PARTNER_TOKEN, DEMO_VERSION, REQUEST_TIMEOUT,
    SLOW_REPORT_DELAY,
};

/// The realm named in `WWW-Authenticate` challenges.
const REALM: &str = "authbridge-staging";

/// Maximum length of the text fields of a new verification, in characters.
const MAX_FIELD_CHARS: usize = 128;

/// Counters shown by `/metrics`.
struct DemoState {
    started: Instant,
    /// Completed requests, counted when the response is ready.
    requests_total: AtomicU64,
    /// Completed requests by status class: index 0 is 1xx, index 4 is 5xx.
    responses_by_class: [AtomicU64; 5],
    verifications_created: AtomicU64,
}

type Shared = Arc<DemoState>;

/// Builds the demo target's router with its body limit, timeout and counting layers.
pub(super) fn router() -> Router {
    let state: Shared = Arc::new(DemoState {
        started: Instant::now(),
        requests_total: AtomicU64::new(0),
        responses_by_class: Default::default(),
        verifications_created: AtomicU64::new(0),
    });
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/health", get(health))
        .route("/api/v1/cases", get(list_cases))
        .route("/api/v1/verifications", post(create_verification))
        .route("/api/v1/admin/clients", get(list_clients))
        .route("/api/v1/reports/slow", get(slow_report))
        .route(
            "/api/v1/webhooks/test",
            get(webhook_test).post(webhook_test),
        )
        .route("/portal/login", get(portal_login))
        .route("/legacy/login", get(legacy_login))
        .route("/metrics", get(metrics))
        .merge(super::access::routes())
        .merge(super::hardening::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(limit_time))
        // Outermost, so that timeouts and rejections are counted too.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_response,
        ))
        .with_state(state)
}

async fn count_response(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    state.requests_total.fetch_add(1, Ordering::Relaxed);
    let class = usize::from(response.status().as_u16() / 100);
    if let Some(counter) = class
        .checked_sub(1)
        .and_then(|i| state.responses_by_class.get(i))
    {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    response
}

async fn limit_time(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout = ?REQUEST_TIMEOUT, "demo target request timed out");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request timed out",
            )
        }
    }
}

/// Builds a JSON error response in the form every route uses: `{"error": code, "message": text}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": DEMO_VERSION }))
}

/// Returns the 401 response for a request without the demo API key in `X-API-Key`.
fn api_key_rejection(headers: &HeaderMap) -> Option<Response> {
    let message = match headers.get("x-api-key") {
        Some(value) if value.as_bytes() == DEMO_API_KEY.as_bytes() => return None,
        Some(_) => "invalid X-API-Key",
        None => "missing X-API-Key",
    };
    tracing::debug!(reason = message, "demo target rejected a request");
    Some(error(StatusCode::UNAUTHORIZED, "unauthorized", message))
}

/// Returns the rejection for a request without the admin client's bearer token: 401 for no
/// token or an unknown one, 403 for the valid token of a client without admin rights.
fn admin_rejection(headers: &HeaderMap) -> Option<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let rejection = match token {
        Some(DEMO_ADMIN_TOKEN) => return None,
        Some(DEMO_PARTNER_TOKEN) => error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this client has no access to admin routes",
        ),
        Some(_) => challenge("invalid_token", "invalid bearer token"),
        None => challenge("invalid_request", "missing bearer token"),
    };
    tracing::debug!(status = %rejection.status(), "demo target rejected an admin request");
    Some(rejection)
}

/// Builds a 401 response with the bearer `WWW-Authenticate` challenge of RFC 6750.
fn challenge(code: &str, message: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, "unauthorized", message);
    let value = format!("Bearer realm=\"{REALM}\", error=\"{code}\"");
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn list_cases(headers: HeaderMap) -> Response {
    if let Some(rejection) = api_key_rejection(&headers) {
        return rejection;
    }
    Json(json!({
        "cases": [
            { "id": "case_1001", "status": "open", "risk": "low" },
            { "id": "case_1002", "status": "review", "risk": "high" },
            { "id": "case_1003", "status": "closed", "risk": "medium" },
        ],
        "total": 3,
    }))
    .into_response()
}

/// The body of `POST /api/v1/verifications`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVerification {
    subject_id: String,
    document_type: String,
}

async fn create_verification(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<NewVerification>, JsonRejection>,
) -> Response {
    if let Some(rejection) = api_key_rejection(&headers) {
        return rejection;
    }
    // The rejection's status distinguishes 413 (too large), 415 and 400/422 (invalid JSON).
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => {
            tracing::debug!(error = %rejection, "demo target rejected a verification body");
            return error(
                rejection.status(),
                "invalid_request",
                &rejection.body_text(),
            );
        }
    };
    for (name, value) in [
        ("subject_id", &request.subject_id),
        ("document_type", &request.document_type),
    ] {
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_FIELD_CHARS {
            let message = format!("{name} must have 1 to {MAX_FIELD_CHARS} characters");
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                &message,
            );
        }
    }
    let number = state.verifications_created.fetch_add(1, Ordering::Relaxed) + 1;
    let id = format!("ver_{number:04}");
    let location = format!("/api/v1/verifications/{id}");
    let body = json!({
        "id": id,
        "status": "pending",
        "subject_id": request.subject_id,
        "document_type": request.document_type,
    });
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

async fn list_clients(headers: HeaderMap) -> Response {
    if let Some(rejection) = admin_rejection(&headers) {
        return rejection;
    }
    Json(json!({
        "clients": [
            { "id": "admin-console", "scopes": ["admin"] },
            { "id": "partner-portal", "scopes": ["cases:read"] },
        ],
    }))
    .into_response()
}

async fn slow_report() -> Json<serde_json::Value> {
    tokio::time::sleep(SLOW_REPORT_DELAY).await;
    Json(json!({ "report": "daily-volume", "rows": 0 }))
}

/// Fails every request with 503, like a webhook relay whose downstream service is down.
async fn webhook_test() -> Response {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "webhook_relay_unavailable",
        "the webhook relay is not reachable",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
    response
}

const LOGIN_PAGE: &str = "<!doctype html><title>Sign in</title><form method=post></form>\n";

/// Serves a login page with the security headers a browser-facing route should send.
async fn portal_login() -> Response {
    let headers = [
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (headers, Html(LOGIN_PAGE)).into_response()
}

/// Serves a login page without security headers that also discloses its server software.
async fn legacy_login() -> Response {
    let headers = [
        (header::SERVER, "Apache/2.2.15 (CentOS)"),
        (
            header::HeaderName::from_static("x-powered-by"),
            "PHP/5.6.40",
        ),
    ];
    (headers, Html(LOGIN_PAGE)).into_response()
}

async fn metrics(State(state): State<Shared>) -> Json<serde_json::Value> {
    let class = |index: usize| state.responses_by_class[index].load(Ordering::Relaxed);
    Json(json!({
        "uptime_seconds": state.started.elapsed().as_secs(),
        "requests_total": state.requests_total.load(Ordering::Relaxed),
        "responses": {
            "1xx": class(0),
            "2xx": class(1),
            "3xx": class(2),
            "4xx": class(3),
            "5xx": class(4),
        },
        "verifications_created": state.verifications_created.load(Ordering::Relaxed),
    }))
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no route matches this path",
    )
}
