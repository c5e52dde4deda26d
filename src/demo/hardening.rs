//! Demo routes for the hardening check kinds, each in a well-configured and a misconfigured
//! form: security headers (`/secure/headers`, `/insecure/headers`), CORS (`/secure/cors`,
//! `/insecure/cors`) and rate limiting (`/secure/limited`, `/insecure/unlimited`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

/// The only origin the well-configured CORS route allows.
pub const ALLOWED_ORIGIN: &str = "https://portal.authbridge.example";

/// Requests per client and window that `/secure/limited` serves before it responds 429.
pub const RATE_LIMIT: u32 = 10;

/// Length of one rate-limit window.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Maximum number of clients the rate limiter tracks at once. Further clients share one
/// overflow window, so memory stays bounded whatever the clients send.
const MAX_CLIENTS: usize = 1024;

/// Maximum length of a client key, in bytes.
const MAX_CLIENT_KEY: usize = 128;

/// Fixed-window request counts per client.
#[derive(Default)]
struct Limiter {
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// The limiter's decision on one request.
struct Decision {
    allowed: bool,
    remaining: u32,
    /// Whole seconds until the window resets, at least 1.
    reset_secs: u64,
}

impl Limiter {
    fn admit(&self, client: String) -> Decision {
        let now = Instant::now();
        // A poisoned lock still guards valid counts, because each update is a single step.
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() >= MAX_CLIENTS && !windows.contains_key(&client) {
            windows.retain(|_, window| now.duration_since(window.started) < RATE_WINDOW);
        }
        let key = if windows.len() >= MAX_CLIENTS && !windows.contains_key(&client) {
            String::new()
        } else {
            client
        };
        let window = windows.entry(key).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(window.started) >= RATE_WINDOW {
            *window = Window {
                started: now,
                count: 0,
            };
        }
        window.count = window.count.saturating_add(1);
        let left = RATE_WINDOW.saturating_sub(now.duration_since(window.started));
        Decision {
            allowed: window.count <= RATE_LIMIT,
            remaining: RATE_LIMIT.saturating_sub(window.count),
            reset_secs: left.as_secs().max(1),
        }
    }
}

/// Builds the hardening routes. They need no state from the main router, so they fit any.
pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let limiter = Arc::new(Limiter::default());
    Router::new()
        .route("/secure/headers", get(secure_headers))
        .route("/insecure/headers", get(insecure_headers))
        .route(
            "/secure/cors",
            get(|| async { secure_cors() }).options(|| async { secure_cors_preflight() }),
        )
        .route(
            "/insecure/cors",
            get(insecure_cors).options(insecure_cors_preflight),
        )
        .route(
            "/secure/limited",
            get(move |headers: HeaderMap| limited(limiter.clone(), headers)),
        )
        .route("/insecure/unlimited", get(unlimited))
}

fn ok_body(route: &str) -> serde_json::Value {
    json!({ "status": "ok", "route": route })
}

async fn secure_headers() -> Response {
    let mut response = axum::Json(ok_body("secure/headers")).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    response
}

async fn insecure_headers() -> Response {
    let mut response = axum::Json(ok_body("insecure/headers")).into_response();
    let headers = response.headers_mut();
    headers.insert("x-powered-by", HeaderValue::from_static("Express"));
    headers.insert(header::SERVER, HeaderValue::from_static("nginx/1.22.1"));
    response
}

fn secure_cors() -> Response {
    let mut response = axum::Json(ok_body("secure/cors")).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static(ALLOWED_ORIGIN),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn secure_cors_preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static(ALLOWED_ORIGIN),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// Copies the request's `Origin` into the CORS headers with credentials allowed, which lets
/// any site read responses with the visitor's cookies.
fn reflect_origin(request: &HeaderMap, response: &mut Response) {
    let headers = response.headers_mut();
    if let Some(origin) = request.get(header::ORIGIN) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
}

async fn insecure_cors(request: HeaderMap) -> Response {
    let mut response = axum::Json(ok_body("insecure/cors")).into_response();
    reflect_origin(&request, &mut response);
    response
}

async fn insecure_cors_preflight(request: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    reflect_origin(&request, &mut response);
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, DELETE"),
    );
    response
}

/// Returns the key the rate limiter counts a request under: the `X-Client-Id` header, else the
/// `X-API-Key` header, else one shared key. The demo server does not see peer addresses.
fn client_key(request: &HeaderMap) -> String {
    let value = request
        .get("x-client-id")
        .or_else(|| request.get("x-api-key"))
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_else(|| "anonymous".into());
    let mut end = value.len().min(MAX_CLIENT_KEY);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}

async fn limited(limiter: Arc<Limiter>, request: HeaderMap) -> Response {
    let decision = limiter.admit(client_key(&request));
    let mut response = if decision.allowed {
        axum::Json(ok_body("secure/limited")).into_response()
    } else {
        let body = json!({
            "error": "rate_limited",
            "message": format!("more than {RATE_LIMIT} requests in {}s", RATE_WINDOW.as_secs()),
        });
        let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(decision.reset_secs));
        response
    };
    // Header names of the IETF draft "RateLimit header fields for HTTP" (version 07 and before).
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(RATE_LIMIT));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(decision.reset_secs));
    let policy = format!("{RATE_LIMIT};w={}", RATE_WINDOW.as_secs());
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert("ratelimit-policy", policy);
    }
    response
}

async fn unlimited() -> Response {
    axum::Json(ok_body("insecure/unlimited")).into_response()
}
