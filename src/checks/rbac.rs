//! The `rbac` check kind: a matrix of roles and actions with the expected status in each cell.
//!
//! Every role sends every action with its own bearer token. A cell whose response status does
//! not match the pattern expected for that role fails the check.

use std::fmt;

use futures::StreamExt as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::http::client::{Exchange, RequestParts, exchange};
use super::http::{HeaderList, HttpMethod, HttpUrl, StatusExpectation};
use super::{Assertion, leak};
use super::{Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Outcome, Probe, ProbeContext};
use crate::redact::{MASK, Redactor};
use crate::sanitize::terminal_safe;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &[
    "roles",
    "actions",
    "headers",
    "expect_others",
    "concurrency",
];
/// Keys of the kind's `expect` table. Expectations live in each action, so there are none.
pub const EXPECT_KEYS: &[&str] = &[];

/// Default number of requests in flight at once.
const DEFAULT_CONCURRENCY: usize = 4;
/// Maximum of the `concurrency` setting.
const MAX_CONCURRENCY: usize = 16;
/// Maximum number of failed cells listed as assertions; the table shows every cell.
const MAX_FAILED_ASSERTIONS: usize = 20;

/// Settings of the check.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RbacSettings")]
pub struct RbacCheck {
    /// Role names with their bearer tokens, in the order written.
    pub roles: Vec<(String, String)>,
    pub actions: Vec<RbacAction>,
    /// Headers sent with every request, such as an API key.
    pub headers: HeaderList,
    /// The status expected of a role that an action's `expect` does not list; without it
    /// (here or in the action) such cells are not tested.
    pub expect_others: Option<StatusExpectation>,
    /// Maximum number of requests in flight at once.
    pub concurrency: usize,
}

/// One action of the matrix: a request and the status each role should get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbacAction {
    pub name: String,
    #[serde(default)]
    pub method: HttpMethod,
    pub url: HttpUrl,
    #[serde(default)]
    pub headers: HeaderList,
    /// Request body sent as is.
    pub body: Option<String>,
    /// Request body sent as JSON.
    pub json: Option<toml::Table>,
    /// Role name → accepted statuses.
    #[serde(default)]
    pub expect: RoleExpectations,
    /// Overrides the check's `expect_others` for this action.
    pub expect_others: Option<StatusExpectation>,
}

impl RbacAction {
    /// Returns the column heading, such as `POST approve`.
    fn heading(&self) -> String {
        terminal_safe(&format!("{} {}", self.method.0, self.name))
    }

    fn expectation(
        &self,
        role: &str,
        check_others: Option<&StatusExpectation>,
    ) -> Option<StatusExpectation> {
        self.expect
            .0
            .iter()
            .find(|(name, _)| name == role)
            .map(|(_, expected)| expected.clone())
            .or_else(|| self.expect_others.clone())
            .or_else(|| check_others.cloned())
    }
}

/// Role names with their status patterns, in the order written.
#[derive(Debug, Clone, Default)]
pub struct RoleExpectations(pub Vec<(String, StatusExpectation)>);

impl<'de> Deserialize<'de> for RoleExpectations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExpectVisitor;

        impl<'de> Visitor<'de> for ExpectVisitor {
            type Value = RoleExpectations;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a table of role names to status patterns")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RoleExpectations, A::Error> {
                let mut entries = Vec::new();
                while let Some(role) = map.next_key::<String>()? {
                    let expected: StatusExpectation = map.next_value()?;
                    entries.push((role, expected));
                }
                Ok(RoleExpectations(entries))
            }
        }

        deserializer.deserialize_map(ExpectVisitor)
    }
}

/// Role names with their tokens, in the order written.
struct RoleTokens(Vec<(String, String)>);

impl<'de> Deserialize<'de> for RoleTokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RolesVisitor;

        impl<'de> Visitor<'de> for RolesVisitor {
            type Value = RoleTokens;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a table of role names to bearer tokens")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RoleTokens, A::Error> {
                let mut roles = Vec::new();
                while let Some(role) = map.next_key::<String>()? {
                    let token: String = map.next_value()?;
                    // The token is usually a resolved secret, so errors name only the role. An
                    // empty token is accepted here: a secret that is not set resolves to an empty
                    // string, and the loader already marks the check as unable to run.
                    if HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
                        return Err(de::Error::custom(format!(
                            "invalid token of role `{role}`: only visible ASCII, spaces and tabs \
                             can be sent in a header"
                        )));
                    }
                    roles.push((role, token));
                }
                Ok(RoleTokens(roles))
            }
        }

        deserializer.deserialize_map(RolesVisitor)
    }
}

/// The `check` table as written, before the checks that span several keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RbacSettings {
    roles: RoleTokens,
    actions: Vec<RbacAction>,
    #[serde(default)]
    headers: HeaderList,
    expect_others: Option<StatusExpectation>,
    concurrency: Option<usize>,
}

impl TryFrom<RbacSettings> for RbacCheck {
    type Error = String;

    fn try_from(settings: RbacSettings) -> Result<Self, Self::Error> {
        let roles = settings.roles.0;
        if roles.is_empty() {
            return Err("`roles` is empty; give each role a bearer token".into());
        }
        if settings.actions.is_empty() {
            return Err("`actions` is empty; add at least one [[check.actions]]".into());
        }
        let mut headings: Vec<String> = Vec::new();
        for action in &settings.actions {
            if action.name.trim().is_empty() {
                return Err("an action has an empty `name`".into());
            }
            if action.body.is_some() && action.json.is_some() {
                return Err(format!(
                    "action `{}`: set either `body` or `json`, not both",
                    terminal_safe(&action.name)
                ));
            }
            let heading = action.heading();
            if headings.contains(&heading) {
                return Err(format!("two actions are named `{heading}`"));
            }
            headings.push(heading);
            for (role, _) in &action.expect.0 {
                if !roles.iter().any(|(name, _)| name == role) {
                    let known: Vec<&str> = roles.iter().map(|(name, _)| name.as_str()).collect();
                    return Err(format!(
                        "action `{}` expects a status of role `{}`, which is not in `roles`; \
                         roles: {}",
                        terminal_safe(&action.name),
                        terminal_safe(role),
                        known.join(", ")
                    ));
                }
            }
        }
        let concurrency = settings.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(format!(
                "invalid `concurrency` {concurrency}; it must be from 1 to {MAX_CONCURRENCY}"
            ));
        }
        let check = RbacCheck {
            roles,
            actions: settings.actions,
            headers: settings.headers,
            expect_others: settings.expect_others,
            concurrency,
        };
        if check.cells().iter().all(|cell| cell.expected.is_none()) {
            return Err(
                "no cell has an expected status; add `expect` to the actions or set \
                 `expect_others`"
                    .into(),
            );
        }
        Ok(check)
    }
}

/// One role × action cell.
struct Cell {
    role: usize,
    action: usize,
    expected: Option<StatusExpectation>,
}

/// Response of one tested cell.
struct CellResult {
    role: usize,
    action: usize,
    expected: StatusExpectation,
    exchange: Exchange,
    leaks: Vec<leak::Leak>,
}

impl CellResult {
    fn passed(&self) -> bool {
        self.expected.accepts(self.exchange.status)
    }
}

impl RbacCheck {
    fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for (role_index, (role, _)) in self.roles.iter().enumerate() {
            for (action_index, action) in self.actions.iter().enumerate() {
                cells.push(Cell {
                    role: role_index,
                    action: action_index,
                    expected: action.expectation(role, self.expect_others.as_ref()),
                });
            }
        }
        cells
    }

    fn request(&self, role: usize, action: usize) -> RequestParts {
        let action = &self.actions[action];
        let mut parts = RequestParts::new(action.method.0.clone(), action.url.0.clone());
        parts.headers = self.headers.0.clone();
        parts.headers.extend(action.headers.0.iter().cloned());
        let token = &self.roles[role].1;
        parts
            .headers
            .push((AUTHORIZATION, format!("Bearer {token}")));
        if let Some(body) = &action.body {
            parts.body = Some(body.as_bytes().to_vec());
        } else if let Some(json) = &action.json {
            let value = toml::Value::Table(json.clone());
            // A TOML table always serialises to JSON, so the fallback never runs.
            let body = serde_json::to_vec(&value).unwrap_or_default();
            parts
                .headers
                .push((CONTENT_TYPE, "application/json".into()));
            parts.body = Some(body);
        }
        parts
    }

    /// Returns the cell's name in summaries, such as `reviewer POST approve`.
    fn cell_name(&self, role: usize, action: usize) -> String {
        format!(
            "{} {}",
            terminal_safe(&self.roles[role].0),
            self.actions[action].heading()
        )
    }

    /// Sends every cell that has an expectation, `concurrency` at a time, and fills the matrix.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let tested: Vec<(usize, usize, StatusExpectation)> = self
            .cells()
            .into_iter()
            .filter_map(|cell| {
                cell.expected
                    .map(|expected| (cell.role, cell.action, expected))
            })
            .collect();
        let results: Vec<Result<CellResult, (String, Probe)>> = futures::stream::iter(tested)
            .map(|(role, action, expected)| async move {
                let parts = self.request(role, action);
                match exchange(ctx, &parts).await {
                    Ok(exchange) => Ok(CellResult {
                        role,
                        action,
                        expected,
                        leaks: leak::scan(&exchange.body, &exchange.headers, &ctx.redactor),
                        exchange,
                    }),
                    Err(probe) => Err((self.cell_name(role, action), probe)),
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut done = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(result) => done.push(result),
                Err((name, mut probe)) => {
                    probe.summary = format!("{name}: {}", probe.summary);
                    return probe;
                }
            }
        }
        // Cells finish in any order; the evidence lists them in matrix order.
        done.sort_by_key(|result| (result.role, result.action));
        self.evaluate(&done, &ctx.redactor)
    }

    fn evaluate(&self, done: &[CellResult], redactor: &Redactor) -> Probe {
        let mut evidence = Evidence::default();
        let mut table = EvidenceTable {
            title: "roles × actions".into(),
            columns: self.actions.iter().map(RbacAction::heading).collect(),
            rows: Vec::new(),
        };
        for (role_index, (role, _)) in self.roles.iter().enumerate() {
            let cells = (0..self.actions.len())
                .map(|action_index| {
                    match done
                        .iter()
                        .find(|result| result.role == role_index && result.action == action_index)
                    {
                        Some(result) => EvidenceCell {
                            text: format!(
                                "expected {} / got {}",
                                result.expected, result.exchange.status
                            ),
                            passed: Some(result.passed()),
                        },
                        None => EvidenceCell {
                            text: "not tested".into(),
                            passed: None,
                        },
                    }
                })
                .collect();
            table.rows.push(EvidenceRow {
                label: terminal_safe(role),
                cells,
            });
        }
        for result in done {
            let name = self.cell_name(result.role, result.action);
            for line in &result.exchange.request_lines {
                evidence.request.push(format!("{name}: {line}"));
            }
            for found in &result.leaks {
                evidence.notes.push(format!("{name}: {found}"));
            }
        }
        evidence.tables.push(table);

        let failed: Vec<&CellResult> = done.iter().filter(|result| !result.passed()).collect();
        for result in failed.iter().take(MAX_FAILED_ASSERTIONS) {
            evidence.assertions.push(Assertion {
                subject: self.cell_name(result.role, result.action),
                expected: result.expected.to_string(),
                actual: result.exchange.status.to_string(),
                passed: false,
            });
        }
        let untested = self.roles.len() * self.actions.len() - done.len();
        if untested > 0 {
            evidence.notes.push(format!(
                "{untested} cells have no expected status and were not tested"
            ));
        }
        let Some(first) = failed.first() else {
            return Probe {
                outcome: Outcome::Pass,
                summary: format!("{} cells met their expectation", done.len()),
                evidence,
            };
        };
        let shown = first.exchange.evidence(redactor);
        evidence.status = shown.status;
        evidence.headers = shown.headers;
        evidence.body_excerpt = shown.body_excerpt;
        evidence.latency_ms = shown.latency_ms;
        let mut summary = format!(
            "{}: expected {}, got {}",
            self.cell_name(first.role, first.action),
            first.expected,
            first.exchange.status
        );
        if failed.len() > 1 {
            summary.push_str(&format!(" (and {} more cells failed)", failed.len() - 1));
        }
        Probe {
            outcome: Outcome::Fail,
            summary,
            evidence,
        }
    }

    /// Returns the settings as label/value lines, secrets masked.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = Vec::new();
        for (role, _) in &self.roles {
            lines.push((format!("role {}", terminal_safe(role)), MASK.to_string()));
        }
        for action in &self.actions {
            let mut expected: Vec<String> = action
                .expect
                .0
                .iter()
                .map(|(role, status)| format!("{} {status}", terminal_safe(role)))
                .collect();
            if let Some(others) = action
                .expect_others
                .as_ref()
                .or(self.expect_others.as_ref())
            {
                expected.push(format!("others {others}"));
            }
            lines.push((
                format!("action {}", action.heading()),
                format!("{} → {}", action.url.masked(redactor), expected.join(", ")),
            ));
        }
        lines.push(("concurrency".into(), self.concurrency.to_string()));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RbacCheck, super::super::SpecError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        super::super::deserialize_settings(table)
    }

    const BASE: &str = r#"
roles = { admin = "a-token", reviewer = "r-token" }
[[actions]]
name = "approve"
method = "POST"
url = "http://127.0.0.1:1/approve"
expect = { admin = "2xx", reviewer = 403 }
"#;

    #[test]
    fn parses_matrix() {
        let check = parse(BASE).unwrap();
        assert_eq!(check.roles.len(), 2);
        assert_eq!(check.actions[0].heading(), "POST approve");
        assert_eq!(check.concurrency, DEFAULT_CONCURRENCY);
    }

    #[test]
    fn unknown_role_in_expect_rejected() {
        let text = BASE.replace("reviewer = 403", "auditor = 403");
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("auditor"), "{}", err.message);
    }

    #[test]
    fn expect_others_fills_unlisted_roles() {
        let text = BASE.replace("reviewer = 403 }", "}\nexpect_others = 403");
        let check = parse(&text).unwrap();
        let cells = check.cells();
        assert_eq!(cells[1].expected, Some(StatusExpectation::Codes(vec![403])));
    }

    #[test]
    fn unlisted_role_untested_without_default() {
        let text = BASE.replace(", reviewer = 403", "");
        let check = parse(&text).unwrap();
        assert!(check.cells()[1].expected.is_none());
    }

    #[test]
    fn token_error_hides_value() {
        let text = BASE.replace("\"r-token\"", "\"r-\\ntoken\"");
        let err = parse(&text).unwrap_err();
        assert!(!err.message.contains("r-"), "{}", err.message);
    }
}
