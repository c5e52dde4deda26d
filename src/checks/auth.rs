//! The `auth` check kind: bad, expired and missing credentials get 401; another client gets 403.
//!
//! Each case sends one request that differs from a valid one in a single credential, so that a
//! 401 shows that this credential was checked: the other credentials stay valid when the
//! checklist gives them. Every response is also scanned for stack traces and database errors.

use std::fmt;

use base64::Engine as _;
use futures::StreamExt as _;
use hmac::{Hmac, Mac};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::http::client::{Exchange, RequestParts, exchange};
use super::http::{HeaderList, HeaderNameSetting, HttpMethod, HttpUrl, StatusExpectation};
use super::{Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext};
use super::{Outcome, leak};
use crate::redact::{MASK, Redactor};

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "api_key_header",
    "valid_api_key",
    "valid_token",
    "other_client_url",
    "other_client_token",
    "expired_jwt",
    "jwt_secret",
    "jwt_subject",
    "error_url",
    "cases",
    "expect",
];
/// Keys of the kind's `expect` table: one status pattern per case.
pub const EXPECT_KEYS: &[&str] = CASE_NAMES;

/// Names of the cases, as written in the `cases` and `expect` tables, in the order they run.
const CASE_NAMES: &[&str] = &[
    "valid_credentials",
    "invalid_api_key",
    "missing_credentials",
    "malformed_bearer",
    "expired_jwt",
    "cross_tenant",
    "forced_error",
];

/// The API key sent by the `invalid_api_key` case. It is deliberately wrong.
const INVALID_API_KEY: &str = "golive-invalid-api-key-0000";
/// The bearer credential of the `malformed_bearer` case: its characters are outside the
/// token syntax of RFC 6750, section 2.1.
const MALFORMED_BEARER: &str = "Bearer ?not:a{bearer}token?";
/// The body of the `forced_error` case: JSON cut short, which a parser must reject.
const MALFORMED_JSON: &str = "{\"golive\": [";
/// The `sub` claim of a generated expired JWT when the checklist sets none.
const DEFAULT_JWT_SUBJECT: &str = "golive-expired-token-probe";
/// Maximum number of requests of one check in flight at once.
const CONCURRENCY: usize = 4;

/// Settings of the check.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "AuthSettings")]
pub struct AuthCheck {
    pub method: HttpMethod,
    pub url: HttpUrl,
    /// Headers sent with every request, such as `Accept`.
    pub headers: HeaderList,
    /// The header that carries the API key; `X-API-Key` by default.
    pub api_key_header: HeaderName,
    pub valid_api_key: Option<String>,
    /// A valid bearer token of the client that owns `url`.
    pub valid_token: Option<String>,
    /// A resource of another client, which `valid_token` must not reach.
    pub other_client_url: Option<HttpUrl>,
    /// A valid bearer token of another client, which must not reach `url`.
    pub other_client_token: Option<String>,
    pub expired_jwt: ExpiredJwt,
    /// The URL the `forced_error` case sends malformed JSON to; `url` when not set.
    pub error_url: Option<HttpUrl>,
    pub cases: AuthCases,
    pub expect: AuthExpect,
}

/// Source of the expired JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpiredJwt {
    /// Built by golive for each run: HS256, `iat` two hours and `exp` one hour in the past,
    /// signed with `key` (the checklist's `jwt_secret`) or with a random key when it is `None`.
    Generate {
        key: Option<String>,
        subject: String,
    },
    /// A token given by the checklist.
    Given(String),
}

/// Switches of the cases: every case runs unless set to `false`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthCases {
    pub valid_credentials: bool,
    pub invalid_api_key: bool,
    pub missing_credentials: bool,
    pub malformed_bearer: bool,
    pub expired_jwt: bool,
    pub cross_tenant: bool,
    pub forced_error: bool,
}

impl Default for AuthCases {
    fn default() -> Self {
        AuthCases {
            valid_credentials: true,
            invalid_api_key: true,
            missing_credentials: true,
            malformed_bearer: true,
            expired_jwt: true,
            cross_tenant: true,
            forced_error: true,
        }
    }
}

/// The accepted statuses of each case. `forced_error` accepts any status by default because
/// only a leak in its response fails it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthExpect {
    pub valid_credentials: Option<StatusExpectation>,
    pub invalid_api_key: Option<StatusExpectation>,
    pub missing_credentials: Option<StatusExpectation>,
    pub malformed_bearer: Option<StatusExpectation>,
    pub expired_jwt: Option<StatusExpectation>,
    pub cross_tenant: Option<StatusExpectation>,
    pub forced_error: Option<StatusExpectation>,
}

/// The `check` table as written, before the checks that span several keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthSettings {
    #[serde(default)]
    method: HttpMethod,
    url: HttpUrl,
    #[serde(default)]
    headers: HeaderList,
    api_key_header: Option<HeaderNameSetting>,
    valid_api_key: Option<String>,
    valid_token: Option<String>,
    other_client_url: Option<HttpUrl>,
    other_client_token: Option<String>,
    expired_jwt: Option<String>,
    jwt_secret: Option<String>,
    jwt_subject: Option<String>,
    error_url: Option<HttpUrl>,
    #[serde(default)]
    cases: AuthCases,
    #[serde(default)]
    expect: AuthExpect,
}

impl TryFrom<AuthSettings> for AuthCheck {
    type Error = String;

    fn try_from(settings: AuthSettings) -> Result<Self, Self::Error> {
        // The values may be resolved secrets, so the errors name the key and never the value.
        for (key, value) in [
            ("valid_api_key", &settings.valid_api_key),
            ("valid_token", &settings.valid_token),
            ("other_client_token", &settings.other_client_token),
            ("expired_jwt", &settings.expired_jwt),
        ] {
            if let Some(value) = value {
                check_credential(key, value)?;
            }
        }
        if let Some(subject) = &settings.jwt_subject
            && subject.is_empty()
        {
            return Err("`jwt_subject` is empty".into());
        }
        let expired_jwt = match settings.expired_jwt.as_deref() {
            None | Some("generate") => ExpiredJwt::Generate {
                key: settings.jwt_secret.filter(|key| !key.is_empty()),
                subject: settings
                    .jwt_subject
                    .unwrap_or_else(|| DEFAULT_JWT_SUBJECT.to_string()),
            },
            Some(token) => {
                if settings.jwt_secret.is_some() {
                    return Err(
                        "`jwt_secret` signs a generated token; leave it out when `expired_jwt` \
                         is a token"
                            .into(),
                    );
                }
                ExpiredJwt::Given(token.to_string())
            }
        };
        let api_key_header = match settings.api_key_header {
            Some(name) => name.0,
            None => HeaderName::from_static("x-api-key"),
        };
        Ok(AuthCheck {
            method: settings.method,
            url: settings.url,
            headers: settings.headers,
            api_key_header,
            valid_api_key: settings.valid_api_key,
            valid_token: settings.valid_token,
            other_client_url: settings.other_client_url,
            other_client_token: settings.other_client_token,
            expired_jwt,
            error_url: settings.error_url,
            cases: settings.cases,
            expect: settings.expect,
        })
    }
}

/// Rejects a credential that cannot be sent in a header. An empty one is accepted: a secret that
/// is not set resolves to an empty string, and the loader already marks the check as unable to
/// run, which names the variable to set.
fn check_credential(key: &str, value: &str) -> Result<(), String> {
    if HeaderValue::from_str(&format!("Bearer {value}")).is_err() {
        return Err(format!(
            "invalid `{key}`: only visible ASCII, spaces and tabs can be sent in a header"
        ));
    }
    Ok(())
}

/// One case of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    ValidCredentials,
    InvalidApiKey,
    MissingCredentials,
    MalformedBearer,
    ExpiredJwt,
    /// The own token on another client's resource.
    CrossTenantResource,
    /// Another client's token on this resource.
    CrossTenantToken,
    ForcedError,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::ValidCredentials => "valid credentials",
            Case::InvalidApiKey => "invalid API key",
            Case::MissingCredentials => "missing credentials",
            Case::MalformedBearer => "malformed bearer",
            Case::ExpiredJwt => "expired JWT",
            Case::CrossTenantResource => "cross-tenant resource",
            Case::CrossTenantToken => "cross-tenant token",
            Case::ForcedError => "forced error",
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.label())
    }
}

/// State of one credential in a case, named in the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    Valid,
    Invalid,
    Malformed,
    Expired,
    OtherClient,
}

impl Credential {
    fn word(self) -> &'static str {
        match self {
            Credential::Valid => "valid",
            Credential::Invalid => "invalid",
            Credential::Malformed => "malformed",
            Credential::Expired => "expired JWT",
            Credential::OtherClient => "other client's",
        }
    }
}

/// One request to send, with what it should get.
struct Planned {
    case: Case,
    parts: RequestParts,
    expected: Option<StatusExpectation>,
    /// The request line shown in the table: method, masked URL and credentials in words.
    description: String,
}

/// Response of one case.
struct CaseResult {
    case: Case,
    description: String,
    expected: Option<StatusExpectation>,
    exchange: Exchange,
    leaks: Vec<leak::Leak>,
}

impl CaseResult {
    fn status_met(&self) -> bool {
        self.expected
            .as_ref()
            .is_none_or(|expected| expected.accepts(self.exchange.status))
    }

    fn passed(&self) -> bool {
        self.status_met() && self.leaks.is_empty()
    }

    fn expected_text(&self) -> String {
        let status = match &self.expected {
            Some(expected) => expected.to_string(),
            None => "any status".to_string(),
        };
        format!("{status}, no error leak")
    }

    fn got_text(&self) -> String {
        let status = self.exchange.status.to_string();
        if self.leaks.is_empty() {
            status
        } else {
            format!("{status}, leaks {}", leak::kinds_text(&self.leaks))
        }
    }
}

/// Builds a compact HS256 JWT of the claims, signed with `key`.
pub fn encode_hs256_jwt(claims: &serde_json::Value, key: &[u8]) -> String {
    let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = engine.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    // HMAC accepts keys of every length, so this never falls back.
    let signature = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(signing_input.as_bytes());
            engine.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("{signing_input}.{signature}")
}

/// Builds an HS256 JWT for `subject` that was issued two hours before `now` and expired one
/// hour before it (`now` in seconds since the Unix epoch).
pub fn expired_jwt(subject: &str, key: &[u8], now: i64) -> String {
    let claims = serde_json::json!({
        "sub": subject,
        "iat": now - 7200,
        "exp": now - 3600,
    });
    encode_hs256_jwt(&claims, key)
}

/// Returns a signing key that no server uses: the standard library's randomly seeded hasher
/// state mixed with the current time. It only has to differ from the server's key, so it need
/// not come from a cryptographic generator.
fn random_key() -> Vec<u8> {
    use std::hash::{BuildHasher as _, Hasher as _};

    let mut hasher = Sha256::new();
    for round in 0..4u64 {
        let mut seeded = std::collections::hash_map::RandomState::new().build_hasher();
        seeded.write_u64(round);
        hasher.update(seeded.finish().to_le_bytes());
    }
    hasher.update(jiff::Timestamp::now().as_nanosecond().to_le_bytes());
    hasher.finalize().to_vec()
}

fn bearer(token: &str) -> (HeaderName, String) {
    (AUTHORIZATION, format!("Bearer {token}"))
}

impl AuthCheck {
    /// Sends every enabled case and evaluates each response's status and leaks.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let mut notes = Vec::new();
        let plan = self.plan(&ctx.redactor, &mut notes);
        if plan.is_empty() {
            return Probe::error("no case can run: every case is switched off or not configured");
        }
        let results: Vec<(Case, Result<CaseResult, Probe>)> = futures::stream::iter(plan)
            .map(|planned| async move {
                let case = planned.case;
                let result = match exchange(ctx, &planned.parts).await {
                    Ok(exchange) => Ok(CaseResult {
                        case,
                        leaks: leak::scan(&exchange.body, &exchange.headers, &ctx.redactor),
                        description: planned.description,
                        expected: planned.expected,
                        exchange,
                    }),
                    Err(probe) => Err(probe),
                };
                (case, result)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut done = Vec::with_capacity(results.len());
        for (case, result) in results {
            match result {
                Ok(result) => done.push(result),
                Err(mut probe) => {
                    probe.summary = format!("{case}: {}", probe.summary);
                    return probe;
                }
            }
        }
        self.evaluate(done, &ctx.redactor, notes)
    }

    fn evaluate(&self, results: Vec<CaseResult>, redactor: &Redactor, notes: Vec<String>) -> Probe {
        let mut evidence = Evidence {
            notes,
            ..Evidence::default()
        };
        let mut table = EvidenceTable {
            title: "auth cases".into(),
            columns: vec!["request".into(), "expected".into(), "got".into()],
            rows: Vec::new(),
        };
        for result in &results {
            for line in &result.exchange.request_lines {
                evidence.request.push(format!("{}: {line}", result.case));
            }
            table.rows.push(EvidenceRow {
                label: result.case.label().to_string(),
                cells: vec![
                    EvidenceCell {
                        text: result.description.clone(),
                        passed: None,
                    },
                    EvidenceCell {
                        text: result.expected_text(),
                        passed: None,
                    },
                    EvidenceCell {
                        text: result.got_text(),
                        passed: Some(result.passed()),
                    },
                ],
            });
            evidence.assertions.push(Assertion {
                subject: result.case.label().to_string(),
                expected: result.expected_text(),
                actual: result.got_text(),
                passed: result.passed(),
            });
            for found in &result.leaks {
                evidence.notes.push(format!("{}: {found}", result.case));
            }
        }
        // The response shown in full is the first failing one, since it explains the outcome.
        if let Some(failed) = results.iter().find(|result| !result.passed()) {
            let shown = failed.exchange.evidence(redactor);
            evidence.status = shown.status;
            evidence.headers = shown.headers;
            evidence.body_excerpt = shown.body_excerpt;
            evidence.latency_ms = shown.latency_ms;
            evidence.notes.extend(shown.notes);
        }
        evidence.tables.push(table);
        let failed: Vec<&CaseResult> = results.iter().filter(|result| !result.passed()).collect();
        match failed.first() {
            None => Probe {
                outcome: Outcome::Pass,
                summary: format!("{} auth cases met their expectation", results.len()),
                evidence,
            },
            Some(first) => {
                let mut summary = format!(
                    "{}: expected {}, got {}",
                    first.case,
                    first.expected_text(),
                    first.got_text()
                );
                if failed.len() > 1 {
                    summary.push_str(&format!(" (and {} more failed)", failed.len() - 1));
                }
                Probe {
                    outcome: Outcome::Fail,
                    summary,
                    evidence,
                }
            }
        }
    }

    /// Plans the requests of every enabled case that its settings allow, noting skipped ones.
    fn plan(&self, redactor: &Redactor, notes: &mut Vec<String>) -> Vec<Planned> {
        let cases = &self.cases;
        let expect = &self.expect;
        let unauthorized = || Some(StatusExpectation::Codes(vec![401]));
        let forbidden = || Some(StatusExpectation::Codes(vec![403]));
        let mut plan = Vec::new();
        let has_valid = self.valid_api_key.is_some() || self.valid_token.is_some();

        if cases.valid_credentials {
            if has_valid {
                let expected = Some(expect.valid_credentials.clone().unwrap_or_default());
                let bearer = self.valid_token.as_ref().map(|_| Credential::Valid);
                plan.push(self.planned(
                    Case::ValidCredentials,
                    Some(Credential::Valid),
                    bearer,
                    expected,
                    redactor,
                ));
            } else {
                notes.push("valid credentials: skipped, set valid_token or valid_api_key".into());
            }
        }
        if cases.invalid_api_key {
            let expected = expect.invalid_api_key.clone().or(unauthorized());
            let bearer = self.valid_token.as_ref().map(|_| Credential::Valid);
            plan.push(self.planned(
                Case::InvalidApiKey,
                Some(Credential::Invalid),
                bearer,
                expected,
                redactor,
            ));
        }
        if cases.missing_credentials {
            let expected = expect.missing_credentials.clone().or(unauthorized());
            plan.push(self.planned(Case::MissingCredentials, None, None, expected, redactor));
        }
        let api_key = self.valid_api_key.as_ref().map(|_| Credential::Valid);
        if cases.malformed_bearer {
            let expected = expect.malformed_bearer.clone().or(unauthorized());
            plan.push(self.planned(
                Case::MalformedBearer,
                api_key,
                Some(Credential::Malformed),
                expected,
                redactor,
            ));
        }
        if cases.expired_jwt {
            let expected = expect.expired_jwt.clone().or(unauthorized());
            plan.push(self.planned(
                Case::ExpiredJwt,
                api_key,
                Some(Credential::Expired),
                expected,
                redactor,
            ));
            if let ExpiredJwt::Generate { key: None, .. } = &self.expired_jwt {
                notes.push(
                    "expired JWT: signed with a random key because jwt_secret is not set, so a \
                     401 may come from the signature rather than the expiry"
                        .into(),
                );
            }
        }
        if cases.cross_tenant {
            let expected = expect.cross_tenant.clone().or(forbidden());
            let mut planned_any = false;
            if let (Some(_), Some(_)) = (&self.valid_token, &self.other_client_url) {
                plan.push(self.planned(
                    Case::CrossTenantResource,
                    api_key,
                    Some(Credential::Valid),
                    expected.clone(),
                    redactor,
                ));
                planned_any = true;
            }
            if self.other_client_token.is_some() {
                plan.push(self.planned(
                    Case::CrossTenantToken,
                    api_key,
                    Some(Credential::OtherClient),
                    expected,
                    redactor,
                ));
                planned_any = true;
            }
            if !planned_any {
                notes.push(
                    "cross-tenant: skipped, set valid_token with other_client_url, or \
                     other_client_token"
                        .into(),
                );
            }
        }
        if cases.forced_error {
            let expected = expect.forced_error.clone();
            let bearer = self.valid_token.as_ref().map(|_| Credential::Valid);
            plan.push(self.planned(Case::ForcedError, api_key, bearer, expected, redactor));
        }
        plan
    }

    /// Builds the request of a case: the API key and bearer token as given (`None` leaves the
    /// header out), plus the check's own headers.
    fn planned(
        &self,
        case: Case,
        api_key: Option<Credential>,
        bearer_credential: Option<Credential>,
        expected: Option<StatusExpectation>,
        redactor: &Redactor,
    ) -> Planned {
        let url = match case {
            Case::CrossTenantResource => self.other_client_url.as_ref().unwrap_or(&self.url),
            Case::ForcedError => self.error_url.as_ref().unwrap_or(&self.url),
            _ => &self.url,
        };
        let method = match case {
            // A body needs a method that carries one.
            Case::ForcedError if matches!(self.method.0, Method::GET | Method::HEAD) => {
                Method::POST
            }
            _ => self.method.0.clone(),
        };
        let mut parts = RequestParts::new(method.clone(), url.0.clone());
        parts.headers = self.headers.0.clone();
        let mut words = Vec::new();
        if let Some(credential) = api_key {
            let value = match credential {
                Credential::Valid => self.valid_api_key.clone().unwrap_or_default(),
                _ => INVALID_API_KEY.to_string(),
            };
            parts.headers.push((self.api_key_header.clone(), value));
            words.push(format!("{}: {}", self.api_key_header, credential.word()));
        }
        if let Some(credential) = bearer_credential {
            let header = match credential {
                Credential::Valid => bearer(self.valid_token.as_deref().unwrap_or_default()),
                Credential::OtherClient => {
                    bearer(self.other_client_token.as_deref().unwrap_or_default())
                }
                Credential::Expired => bearer(&self.expired_token()),
                Credential::Malformed | Credential::Invalid => {
                    (AUTHORIZATION, MALFORMED_BEARER.to_string())
                }
            };
            parts.headers.push(header);
            words.push(format!("bearer: {}", credential.word()));
        }
        if case == Case::ForcedError {
            parts
                .headers
                .push((CONTENT_TYPE, "application/json".to_string()));
            parts.body = Some(MALFORMED_JSON.as_bytes().to_vec());
            words.push("malformed JSON body".into());
        }
        if words.is_empty() {
            words.push("no credentials".into());
        }
        let description = format!("{method} {} ({})", url.masked(redactor), words.join(", "));
        Planned {
            case,
            parts,
            expected,
            description,
        }
    }

    fn expired_token(&self) -> String {
        match &self.expired_jwt {
            ExpiredJwt::Given(token) => token.clone(),
            ExpiredJwt::Generate { key, subject } => {
                let key = match key {
                    Some(key) => key.as_bytes().to_vec(),
                    None => random_key(),
                };
                expired_jwt(subject, &key, jiff::Timestamp::now().as_second())
            }
        }
    }

    /// Returns the settings as label/value lines, secrets masked.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let shown_secret = |value: &Option<String>| match value {
            Some(_) => MASK.to_string(),
            None => "not set".to_string(),
        };
        let mut lines = vec![
            ("method".to_string(), self.method.0.to_string()),
            ("url".to_string(), self.url.masked(redactor)),
            (
                "API key header".to_string(),
                self.api_key_header.to_string(),
            ),
            (
                "valid API key".to_string(),
                shown_secret(&self.valid_api_key),
            ),
            ("valid token".to_string(), shown_secret(&self.valid_token)),
            (
                "other client token".to_string(),
                shown_secret(&self.other_client_token),
            ),
        ];
        if let Some(url) = &self.other_client_url {
            lines.push(("other client URL".into(), url.masked(redactor)));
        }
        if let Some(url) = &self.error_url {
            lines.push(("error URL".into(), url.masked(redactor)));
        }
        let jwt = match &self.expired_jwt {
            ExpiredJwt::Given(_) => "given token".to_string(),
            ExpiredJwt::Generate { key: Some(_), .. } => "generated, signed with jwt_secret".into(),
            ExpiredJwt::Generate { key: None, .. } => "generated, signed with a random key".into(),
        };
        lines.push(("expired JWT".into(), jwt));
        let enabled: Vec<&str> = CASE_NAMES
            .iter()
            .copied()
            .filter(|name| self.cases.enabled(name))
            .collect();
        lines.push(("cases".into(), enabled.join(", ")));
        lines
    }
}

impl AuthCases {
    fn enabled(&self, name: &str) -> bool {
        match name {
            "valid_credentials" => self.valid_credentials,
            "invalid_api_key" => self.invalid_api_key,
            "missing_credentials" => self.missing_credentials,
            "malformed_bearer" => self.malformed_bearer,
            "expired_jwt" => self.expired_jwt,
            "cross_tenant" => self.cross_tenant,
            "forced_error" => self.forced_error,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AuthCheck, super::super::SpecError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        super::super::deserialize_settings(table)
    }

    #[test]
    fn expired_jwt_has_past_claims() {
        let token = expired_jwt("alice", b"key", 1_000_000);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: serde_json::Value =
            serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["iat"], 1_000_000 - 7200);
        assert_eq!(claims["exp"], 1_000_000 - 3600);
    }

    #[test]
    fn jwt_signature_verifies_with_key() {
        let token = encode_hs256_jwt(&serde_json::json!({ "sub": "x" }), b"secret");
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(input.as_bytes());
        let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        assert!(mac.verify_slice(&engine.decode(signature).unwrap()).is_ok());
    }

    #[test]
    fn settings_defaults() {
        let check = parse("url = \"http://127.0.0.1:1/a\"").unwrap();
        assert_eq!(check.api_key_header.as_str(), "x-api-key");
        assert!(check.cases.expired_jwt);
        assert!(matches!(
            check.expired_jwt,
            ExpiredJwt::Generate { key: None, .. }
        ));
    }

    #[test]
    fn unknown_case_rejected() {
        let err = parse("url = \"http://127.0.0.1:1/a\"\ncases = { nope = false }").unwrap_err();
        assert!(err.message.contains("nope"), "{}", err.message);
    }

    #[test]
    fn invalid_token_error_hides_value() {
        let err = parse("url = \"http://127.0.0.1:1/a\"\nvalid_token = \"abc\\ndef\"").unwrap_err();
        assert!(!err.message.contains("abc"), "{}", err.message);
    }

    #[test]
    fn given_token_with_secret_rejected() {
        let text = "url = \"http://127.0.0.1:1/a\"\nexpired_jwt = \"a.b.c\"\njwt_secret = \"k\"";
        assert!(parse(text).is_err());
    }
}
