//! The JSON report: one pretty-printed object.
//!
//! Fields, all always present (optional values are `null`):
//!
//! - `schema`: `"golive.report/1"`; it changes only when a field changes meaning or goes away.
//! - `title`, `version`: the checklist's title and version.
//! - `environment`: the environment the checklist was resolved for.
//! - `digest`: SHA-256 of the checklist file, as lowercase hex.
//! - `generated_at`: RFC 3339 time the report was made, in UTC.
//! - `verdict`: `"go"` or `"no-go"`, from required automated items only; a waived item counts
//!   toward `"go"`.
//! - `exit_code`: 0 for go, 1 for no-go.
//! - `blockers`: `[{ "id", "status" }]`, the required automated items that neither passed nor
//!   are waived.
//! - `counts`: items per status: `total`, `pending`, `running`, `pass`, `fail`, `error`,
//!   `blocked`, `done`, `failed`, `waived`.
//! - `items`: every item in checklist order. Each has `id`, `phase` (the phase id), `title`,
//!   `kind` (`"manual"` or the check kind), `severity`, `required`, `depends_on`, `status` (one
//!   of the `counts` keys other than `total`) and `summary`.
//! - `items[].started_at`, `elapsed_ms`, `attempts` and `evidence` come from the item's check
//!   result, and are `null` for manual items and checks without a result. `evidence` is the
//!   check's evidence object: `request`, `status`, `headers` as `[name, value]` pairs,
//!   `body_excerpt`, `latency_ms`, `assertions` and `notes`, each left out when empty.
//! - `items[].waiver` is `null` unless the status is `waived`. Then it has `reason`, `risk`,
//!   `control`, `expires`, `requested_by` and `approved_by`.

use serde::Serialize;
use serde_json::Value;

use super::{Cleaner, Report, Row};
use crate::session::Counts;

/// Identifier of this object's layout.
const SCHEMA: &str = "golive.report/1";

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    title: &'a str,
    version: Option<&'a str>,
    environment: &'a str,
    digest: &'a str,
    generated_at: String,
    verdict: &'static str,
    exit_code: i32,
    blockers: Vec<JsonBlocker<'a>>,
    counts: &'a Counts,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonBlocker<'a> {
    id: &'a str,
    status: &'static str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    phase: &'a str,
    title: &'a str,
    kind: &'static str,
    severity: &'static str,
    required: bool,
    depends_on: Vec<String>,
    status: &'static str,
    summary: &'a str,
    started_at: Option<String>,
    elapsed_ms: Option<u64>,
    attempts: Option<u32>,
    evidence: Option<Value>,
    waiver: Option<JsonWaiver<'a>>,
}

#[derive(Serialize)]
struct JsonWaiver<'a> {
    reason: &'a str,
    risk: &'static str,
    control: &'a str,
    expires: String,
    requested_by: &'a str,
    approved_by: &'a str,
}

pub(super) fn render(report: &Report) -> String {
    let items = report
        .phases
        .iter()
        .flat_map(|phase| {
            phase
                .rows
                .iter()
                .map(move |row| item(report.clean, &phase.id, row))
        })
        .collect();
    let object = JsonReport {
        schema: SCHEMA,
        title: &report.title,
        version: report.version.as_deref(),
        environment: &report.environment,
        digest: &report.digest,
        generated_at: report.generated_at.to_string(),
        verdict: if report.go() { "go" } else { "no-go" },
        exit_code: report.exit_code(),
        blockers: report
            .blockers
            .iter()
            .map(|(id, status)| JsonBlocker {
                id,
                status: status.word(),
            })
            .collect(),
        counts: &report.counts,
        items,
    };
    match serde_json::to_string_pretty(&object) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        Err(err) => {
            // Unreachable with these types, but a report must still be valid JSON.
            tracing::error!(error = %err, "cannot serialise the JSON report");
            let message = Value::String(format!("cannot serialise the report: {err}"));
            format!("{{\"schema\": \"{SCHEMA}\", \"error\": {message}}}\n")
        }
    }
}

fn item<'a>(clean: Cleaner<'_>, phase: &'a str, row: &'a Row) -> JsonItem<'a> {
    let result = row.result;
    JsonItem {
        id: &row.id,
        phase,
        title: &row.title,
        kind: row.kind,
        severity: row.item.severity.as_str(),
        required: row.item.required,
        depends_on: row
            .item
            .depends_on
            .iter()
            .map(|id| clean.text(id))
            .collect(),
        status: row.status.word(),
        summary: &row.summary,
        started_at: result.map(|result| result.started_at.to_string()),
        elapsed_ms: result.map(|result| result.elapsed_ms),
        attempts: result.map(|result| result.attempts),
        evidence: result
            .and_then(|result| serde_json::to_value(&result.evidence).ok())
            .map(|mut evidence| {
                clean_strings(clean, &mut evidence);
                evidence
            }),
        waiver: row.waiver.as_ref().map(|waiver| JsonWaiver {
            reason: &waiver.reason,
            risk: waiver.risk,
            control: &waiver.control,
            expires: waiver.expires.to_string(),
            requested_by: &waiver.requested_by,
            approved_by: &waiver.approved_by,
        }),
    }
}

/// Masks and escapes every string in a JSON value. Working on the value rather than on the
/// serialised text matters because a secret containing `"` or `\` is escaped in JSON text and
/// would no longer match.
fn clean_strings(clean: Cleaner<'_>, value: &mut Value) {
    match value {
        Value::String(text) => *text = clean.text(text),
        Value::Array(values) => values
            .iter_mut()
            .for_each(|value| clean_strings(clean, value)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|value| clean_strings(clean, value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
