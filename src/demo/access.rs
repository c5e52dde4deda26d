//! Demo routes for the `auth`, `rbac` and `input` check kinds. Each has a correctly configured
//! variant under `/secure/` and a misconfigured one under `/insecure/`, so that a checklist can
//! show both a pass and a fail. Every credential here is made up and protects nothing.
//!
//! - `/{variant}/auth/clients/{client}/profile` (GET, POST): needs `X-API-Key` and a bearer
//!   token of that client. The insecure variant ignores the API key, accepts expired JWTs, lets
//!   any client read any profile and returns a stack trace for a malformed body.
//! - `/{variant}/rbac/cases` (GET), `/{variant}/rbac/cases/{id}/approve` (POST) and
//!   `/{variant}/rbac/cases/{id}` (DELETE): roles from bearer tokens
//!   `demo-<role>-token-not-a-secret`. The insecure variant lets a reviewer approve.
//! - `/{variant}/input/search?q=` (GET, or POST with a JSON body `{"q": ...}`) and
//!   `/{variant}/input/files/{name}`: the secure variant rejects SQL metacharacters with 400,
//!   path traversal with 404 and bodies over [`INPUT_BODY_LIMIT`] with 413, and escapes what it
//!   reflects. The insecure variant returns a PostgreSQL error with a traceback, reflects raw
//!   HTML, serves a passwd file for traversal and accepts large bodies.
//! - `/{variant}/errors/boom`: a forced server error, with a Java stack trace when insecure.

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use base64::Engine as _;
use futures::StreamExt as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::DEMO_API_KEY;

/// The HS256 key the demo target verifies JWT bearer tokens with. It is made up.
pub const JWT_SIGNING_KEY: &str = "demo-jwt-signing-key-not-a-secret";

/// The bearer token of the demo client `acme`. It is made up and protects nothing.
pub const ACME_TOKEN: &str = "demo-client-acme-token-not-a-secret";

/// The bearer token of the demo client `globex`, another tenant. It is made up.
pub const GLOBEX_TOKEN: &str = "demo-client-globex-token-not-a-secret";

/// Roles of the RBAC routes; each has the bearer token [`role_token`] returns.
pub const ROLES: &[&str] = &["admin", "reviewer", "viewer"];

/// Maximum request body size of the secure input routes, in bytes; larger bodies get 413.
pub const INPUT_BODY_LIMIT: usize = 64 * 1024;

/// Bytes the insecure search reads and discards before it gives up with 413, so that its
/// memory stays bounded while it still accepts far larger bodies than it should.
const INSECURE_BODY_CAP: usize = 64 * 1024 * 1024;

/// Clients of the auth routes with their opaque bearer tokens.
const CLIENTS: &[(&str, &str)] = &[("acme", ACME_TOKEN), ("globex", GLOBEX_TOKEN)];

/// Returns the made-up bearer token of an RBAC role, such as `demo-admin-token-not-a-secret`.
pub fn role_token(role: &str) -> String {
    format!("demo-{role}-token-not-a-secret")
}

/// Behaviour of a route: correctly configured or misconfigured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Secure,
    Insecure,
}

impl Variant {
    fn prefix(self) -> &'static str {
        match self {
            Variant::Secure => "/secure",
            Variant::Insecure => "/insecure",
        }
    }
}

/// Builds the routes of both variants. They keep no state, so they fit any router state.
pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new();
    for variant in [Variant::Secure, Variant::Insecure] {
        router = router.merge(variant_routes(variant));
    }
    router
}

fn variant_routes<S: Clone + Send + Sync + 'static>(variant: Variant) -> Router<S> {
    let prefix = variant.prefix();
    let search_post = match variant {
        Variant::Secure => post(secure_search_body).layer(DefaultBodyLimit::max(INPUT_BODY_LIMIT)),
        Variant::Insecure => post(insecure_search_body),
    };
    Router::new()
        .route(
            &format!("{prefix}/auth/clients/{{client}}/profile"),
            get(move |path, headers| read_profile(variant, path, headers))
                .post(move |path, headers, body| update_profile(variant, path, headers, body)),
        )
        .route(
            &format!("{prefix}/rbac/cases"),
            get(move |headers| list_cases(variant, headers)),
        )
        .route(
            &format!("{prefix}/rbac/cases/{{id}}/approve"),
            post(move |path, headers| approve_case(variant, path, headers)),
        )
        .route(
            &format!("{prefix}/rbac/cases/{{id}}"),
            delete(move |path, headers| delete_case(variant, path, headers)),
        )
        .route(
            &format!("{prefix}/input/search"),
            get(move |query| search_query(variant, query)).merge(search_post),
        )
        .route(
            &format!("{prefix}/input/files/{{*name}}"),
            get(move |path| read_file(variant, path)),
        )
        .route(
            &format!("{prefix}/errors/boom"),
            get(move || forced_error(variant)).post(move || forced_error(variant)),
        )
}

/// Builds a JSON error response in the form every demo route uses.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": code, "message": message })),
    )
        .into_response()
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
}

/// Reason a bearer token was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenError {
    Missing,
    Invalid,
    Expired,
}

impl TokenError {
    fn response(self) -> Response {
        let message = match self {
            TokenError::Missing => "missing bearer token",
            TokenError::Invalid => "invalid bearer token",
            TokenError::Expired => "expired bearer token",
        };
        error(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

/// Returns the client a bearer token belongs to: an opaque client token, or an HS256 JWT whose
/// `sub` is the client. The insecure variant neither verifies a JWT's signature nor its `exp`.
fn authenticate_client(variant: Variant, headers: &HeaderMap) -> Result<String, TokenError> {
    let token = bearer_token(headers).ok_or(TokenError::Missing)?;
    if let Some((client, _)) = CLIENTS.iter().find(|(_, known)| *known == token) {
        return Ok((*client).to_string());
    }
    let claims = decode_jwt(token, variant == Variant::Secure)?;
    let subject = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .ok_or(TokenError::Invalid)?;
    if variant == Variant::Secure {
        let expires = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .ok_or(TokenError::Invalid)?;
        if expires <= jiff::Timestamp::now().as_second() {
            return Err(TokenError::Expired);
        }
    }
    Ok(subject.to_string())
}

/// Decodes the claims of a compact JWT, verifying its HS256 signature when asked to.
fn decode_jwt(token: &str, verify: bool) -> Result<serde_json::Value, TokenError> {
    let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (Some(head), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Invalid);
    };
    if verify {
        let header: serde_json::Value = engine
            .decode(head)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Invalid)?;
        if header.get("alg").and_then(serde_json::Value::as_str) != Some("HS256") {
            return Err(TokenError::Invalid);
        }
        let signature = engine.decode(signature).map_err(|_| TokenError::Invalid)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(JWT_SIGNING_KEY.as_bytes())
            .map_err(|_| TokenError::Invalid)?;
        mac.update(format!("{head}.{payload}").as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
    }
    engine
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Invalid)
}

/// Returns the rejection of a request to the profile of `client`, or `None` to serve it.
fn profile_rejection(variant: Variant, client: &str, headers: &HeaderMap) -> Option<Response> {
    if variant == Variant::Secure {
        match headers.get("x-api-key") {
            Some(value) if value.as_bytes() == DEMO_API_KEY.as_bytes() => {}
            Some(_) => {
                return Some(error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "invalid X-API-Key",
                ));
            }
            None => {
                return Some(error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "missing X-API-Key",
                ));
            }
        }
    }
    let caller = match authenticate_client(variant, headers) {
        Ok(caller) => caller,
        // The misconfigured variant treats a request without a token as a guest of any client.
        Err(TokenError::Missing) if variant == Variant::Insecure => return None,
        Err(err) => return Some(err.response()),
    };
    if variant == Variant::Secure && caller != client {
        return Some(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token belongs to another client",
        ));
    }
    None
}

async fn read_profile(
    variant: Variant,
    Path(client): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(rejection) = profile_rejection(variant, &client, &headers) {
        return rejection;
    }
    axum::Json(json!({ "client": client, "plan": "enterprise", "seats": 25 })).into_response()
}

async fn update_profile(
    variant: Variant,
    Path(client): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(rejection) = profile_rejection(variant, &client, &headers) {
        return rejection;
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(update) => axum::Json(json!({ "client": client, "updated": update })).into_response(),
        Err(_) if variant == Variant::Secure => error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is not valid JSON",
        ),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, NODE_TRACE).into_response(),
    }
}

const NODE_TRACE: &str = "SyntaxError: Unexpected end of JSON input\n    \
    at JSON.parse (<anonymous>)\n    \
    at Object.<anonymous> (/var/task/src/profile.js:41:23)\n    \
    at processTicksAndRejections (node:internal/process/task_queues:95:5)\n";

/// Returns the role of the caller's bearer token.
fn caller_role(headers: &HeaderMap) -> Result<&'static str, TokenError> {
    let token = bearer_token(headers).ok_or(TokenError::Missing)?;
    ROLES
        .iter()
        .copied()
        .find(|role| role_token(role) == token)
        .ok_or(TokenError::Invalid)
}

fn forbidden_role(role: &str) -> Response {
    let message = format!("the role {role} may not do this");
    error(StatusCode::FORBIDDEN, "forbidden", &message)
}

async fn list_cases(_variant: Variant, headers: HeaderMap) -> Response {
    if let Err(err) = caller_role(&headers) {
        return err.response();
    }
    axum::Json(json!({ "cases": [{ "id": "case_1001", "status": "review" }] })).into_response()
}

async fn approve_case(variant: Variant, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let role = match caller_role(&headers) {
        Ok(role) => role,
        Err(err) => return err.response(),
    };
    let allowed = match variant {
        Variant::Secure => role == "admin",
        Variant::Insecure => role == "admin" || role == "reviewer",
    };
    if !allowed {
        return forbidden_role(role);
    }
    axum::Json(json!({ "id": id, "status": "approved", "by": role })).into_response()
}

async fn delete_case(_variant: Variant, Path(_id): Path<String>, headers: HeaderMap) -> Response {
    let role = match caller_role(&headers) {
        Ok(role) => role,
        Err(err) => return err.response(),
    };
    if role != "admin" {
        return forbidden_role(role);
    }
    StatusCode::NO_CONTENT.into_response()
}

const SQL_METACHARACTERS: &[&str] = &["'", "\"", ";", "--", "/*", "*/"];

fn is_traversal(text: &str) -> bool {
    text.contains("..") || text.contains("etc/passwd") || text.starts_with('/')
}

const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";

const POSTGRES_TRACE: &str = "Traceback (most recent call last):\n  \
    File \"/usr/src/app/search.py\", line 27, in search\n    \
    cursor.execute(query)\n\
    psycopg2.errors.SyntaxError: ERROR:  syntax error at or near \"OR\"\n\
    LINE 1: SELECT id, title FROM cases WHERE title = '' OR '1'='1'\n";

/// Returns the response to a search; the module documentation describes each variant.
fn search(variant: Variant, query: &str) -> Response {
    match variant {
        Variant::Secure => {
            if is_traversal(query) {
                return error(StatusCode::NOT_FOUND, "not_found", "no such document");
            }
            if SQL_METACHARACTERS.iter().any(|meta| query.contains(meta)) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the query contains characters that are not allowed",
                );
            }
            let shown = escape_html(query);
            Html(format!("<p>No results for {shown}</p>\n")).into_response()
        }
        Variant::Insecure => {
            if is_traversal(query) {
                return (StatusCode::OK, PASSWD).into_response();
            }
            if query.contains('\'') || query.contains(';') || query.contains("--") {
                return (StatusCode::INTERNAL_SERVER_ERROR, POSTGRES_TRACE).into_response();
            }
            Html(format!("<p>No results for {query}</p>\n")).into_response()
        }
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}

async fn search_query(variant: Variant, Query(query): Query<HashMap<String, String>>) -> Response {
    search(variant, query.get("q").map_or("", String::as_str))
}

/// Returns the `q` field of a JSON body, or the whole body as text when it is not JSON.
fn query_of_body(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => value
            .get("q")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

async fn secure_search_body(body: Bytes) -> Response {
    search(Variant::Secure, &query_of_body(&body))
}

/// Reads the body in chunks without keeping it, like a service with no body limit, up to
/// [`INSECURE_BODY_CAP`]; only its first kilobyte is used as the query.
async fn insecure_search_body(body: Body) -> Response {
    let mut stream = body.into_data_stream();
    let mut head = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body was cut",
            );
        };
        total += chunk.len();
        if total > INSECURE_BODY_CAP {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the body is too large",
            );
        }
        let room = 1024usize.saturating_sub(head.len());
        head.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    if total > head.len() {
        return axum::Json(json!({ "received_bytes": total })).into_response();
    }
    search(Variant::Insecure, &query_of_body(&head))
}

async fn read_file(variant: Variant, Path(name): Path<String>) -> Response {
    if name == "readme.txt" {
        return (StatusCode::OK, "Demo documents live here.\n").into_response();
    }
    if variant == Variant::Insecure && is_traversal(&name) {
        return (StatusCode::OK, PASSWD).into_response();
    }
    error(StatusCode::NOT_FOUND, "not_found", "no such document")
}

const JAVA_TRACE: &str = "java.lang.IllegalStateException: ledger connection closed\n\
    \tat com.authbridge.ledger.LedgerClient.post(LedgerClient.java:88)\n\
    \tat com.authbridge.api.BoomController.handle(BoomController.java:17)\n";

async fn forced_error(variant: Variant) -> Response {
    match variant {
        Variant::Secure => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; reference demo-0001",
        ),
        Variant::Insecure => (StatusCode::INTERNAL_SERVER_ERROR, JAVA_TRACE).into_response(),
    }
}
