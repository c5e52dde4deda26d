//! The headless report of `golive check`: the state of every item after a run, as text for a
//! person, JSON for scripts, or JUnit XML for CI test views.
//!
//! Every format shows the same rows: each item's status comes from the [`Session`] (so manual
//! items show their journaled mark, or pending), and the evidence of automated items comes from
//! the run's [`CheckResult`]s. Every string is masked with the checklist's redactor and made
//! terminal-safe before it is written, even where the source text should already be both.
//!
//! The verdict of a headless run looks at automated items only, because manual items are not
//! ticked in CI. It is GO when every required automated item passed or is waived by a waiver
//! that has not expired. It is NO-GO when any other required automated item failed, errored, is
//! blocked or did not run. [`exit_code`] maps it to 0 and 1. A waived item is reported as
//! `waived` with the waiver's reason and expiry, never as passed. Waivers count only when the
//! session was made with the checklist's policy ([`Session::with_policy`]).

mod json;
mod junit;
mod text;

use crate::checklist::{Checklist, Item, ItemBody, Phase};
use crate::checks::CheckResult;
use crate::sanitize::terminal_safe;
use crate::session::{Session, Status};

/// An output format of the headless report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// A per-phase listing for people, with totals and the verdict.
    Text,
    /// One JSON object with the checklist, the verdict, the counts and every item.
    Json,
    /// JUnit XML: a test suite per phase and a test case per item.
    Junit,
}

/// Renders the report of a run. `session` must already have the run's `results` applied,
/// because statuses and the verdict come from the session and `results` only adds evidence.
pub fn render(
    format: Format,
    checklist: &Checklist,
    session: &Session,
    results: &[CheckResult],
) -> String {
    render_at(format, checklist, session, results, jiff::Timestamp::now())
}

/// Renders the report like [`render`], with a fixed generation time so that output can be
/// compared byte for byte.
pub fn render_at(
    format: Format,
    checklist: &Checklist,
    session: &Session,
    results: &[CheckResult],
    generated_at: jiff::Timestamp,
) -> String {
    let report = Report::build(checklist, session, results, generated_at);
    match format {
        Format::Text => text::render(&report),
        Format::Json => json::render(&report),
        Format::Junit => junit::render(&report),
    }
}

/// Computes the process exit code of a headless run: 0 when every required automated item
/// passed or is waived, 1 when any other required automated item failed, errored, is blocked or
/// did not run. Manual items never change it.
pub fn exit_code(checklist: &Checklist, session: &Session) -> i32 {
    if blockers(checklist, session).is_empty() {
        0
    } else {
        1
    }
}

/// Required automated items that neither passed nor are waived, with their status, in
/// checklist order.
fn blockers(checklist: &Checklist, session: &Session) -> Vec<(String, Status)> {
    checklist
        .items()
        .filter(|item| item.required && !item.is_manual())
        .map(|item| (item.id.clone(), session.status(&item.id)))
        .filter(|(_, status)| !matches!(status, Status::Pass | Status::Waived))
        .collect()
}

/// Everything a format writes, already masked and terminal-safe.
struct Report<'a> {
    title: String,
    version: Option<String>,
    environment: String,
    digest: String,
    generated_at: jiff::Timestamp,
    phases: Vec<PhaseRows<'a>>,
    counts: crate::session::Counts,
    /// Required automated items that neither passed nor are waived, with their status.
    blockers: Vec<(String, Status)>,
    /// Masks secrets and escapes control characters in any further text a format takes from
    /// the results, such as evidence.
    clean: Cleaner<'a>,
}

struct PhaseRows<'a> {
    id: String,
    title: String,
    rows: Vec<Row<'a>>,
}

/// One item as every format shows it.
struct Row<'a> {
    item: &'a Item,
    id: String,
    title: String,
    /// `manual`, or the check kind such as `http`.
    kind: &'static str,
    status: Status,
    summary: String,
    /// The latest result of an automated item in this run, with unmasked evidence.
    result: Option<&'a CheckResult>,
    /// The waiver that makes the item count toward GO, when its status is waived.
    waiver: Option<WaiverNote>,
}

/// The parts of a waiver a report shows, masked and terminal-safe.
struct WaiverNote {
    reason: String,
    risk: &'static str,
    control: String,
    expires: jiff::Timestamp,
    requested_by: String,
    approved_by: String,
}

impl WaiverNote {
    /// Formats the one-line message of a waived item, such as
    /// `waived: fix ships Monday, expires 2026-02-23T17:00:00Z`.
    fn message(&self) -> String {
        format!("waived: {}, expires {}", self.reason, self.expires)
    }
}

/// Masks secrets, then escapes control characters.
#[derive(Clone, Copy)]
struct Cleaner<'a> {
    checklist: &'a Checklist,
}

impl Cleaner<'_> {
    fn text(&self, text: &str) -> String {
        terminal_safe(&self.checklist.redactor.redact(text))
    }
}

impl<'a> Report<'a> {
    fn build(
        checklist: &'a Checklist,
        session: &'a Session,
        results: &'a [CheckResult],
        generated_at: jiff::Timestamp,
    ) -> Self {
        let clean = Cleaner { checklist };
        let phases = checklist
            .phases
            .iter()
            .map(|phase| PhaseRows {
                id: clean.text(&phase.id),
                title: clean.text(&phase.title),
                rows: phase_rows(phase, session, results, clean),
            })
            .collect();
        Report {
            title: clean.text(&checklist.title),
            version: checklist
                .version
                .as_deref()
                .map(|version| clean.text(version)),
            environment: clean.text(&checklist.environment),
            digest: clean.text(&checklist.digest),
            generated_at,
            phases,
            counts: session.counts(),
            blockers: blockers(checklist, session)
                .into_iter()
                .map(|(id, status)| (clean.text(&id), status))
                .collect(),
            clean,
        }
    }

    fn go(&self) -> bool {
        self.blockers.is_empty()
    }

    fn exit_code(&self) -> i32 {
        if self.go() { 0 } else { 1 }
    }

    fn rows(&self) -> impl Iterator<Item = &Row<'a>> {
        self.phases.iter().flat_map(|phase| phase.rows.iter())
    }
}

fn phase_rows<'a>(
    phase: &'a Phase,
    session: &'a Session,
    results: &'a [CheckResult],
    clean: Cleaner<'a>,
) -> Vec<Row<'a>> {
    phase
        .items
        .iter()
        .map(|item| {
            // The last result in the run wins; without one, the session's latest result.
            let result = results
                .iter()
                .rev()
                .find(|result| result.item_id == item.id)
                .or_else(|| {
                    session
                        .state(&item.id)
                        .and_then(|state| state.result.as_ref())
                });
            let status = session.status(&item.id);
            let waiver = (status == Status::Waived)
                .then(|| session.waiver(&item.id))
                .flatten()
                .map(|waiver| WaiverNote {
                    reason: clean.text(&waiver.reason),
                    risk: waiver.risk.as_str(),
                    control: clean.text(&waiver.control),
                    expires: waiver.expires,
                    requested_by: clean.text(&waiver.requested_by),
                    approved_by: clean.text(&waiver.approved_by),
                });
            Row {
                item,
                id: clean.text(&item.id),
                title: clean.text(&item.title),
                kind: match &item.body {
                    ItemBody::Manual(_) => "manual",
                    ItemBody::Check(check) => check.spec.kind(),
                },
                status,
                summary: clean.text(&summary(item, status, session, result)),
                result,
                waiver,
            }
        })
        .collect()
}

/// Formats one line that explains the item's status.
fn summary(item: &Item, status: Status, session: &Session, result: Option<&CheckResult>) -> String {
    let state = session.state(&item.id);
    if status == Status::Waived
        && let Some(waiver) = session.waiver(&item.id)
    {
        let mut line = format!(
            "waived: {}, expires {} ({} risk, approved by {})",
            waiver.reason,
            waiver.expires,
            waiver.risk.as_str(),
            waiver.approved_by
        );
        let last = result.map(|result| result.summary.clone()).or_else(|| {
            state
                .and_then(|state| state.recorded.as_ref())
                .map(|r| r.summary.clone())
        });
        if let Some(last) = last.filter(|last| !last.is_empty()) {
            line.push_str(&format!("; last result: {last}"));
        }
        return line;
    }
    if item.is_manual() {
        return match (status, state.and_then(|state| state.mark.as_ref())) {
            (Status::Done, Some(mark)) => format!("done by {} at {}", mark.actor, mark.at),
            (Status::Failed, Some(mark)) => {
                format!("marked failed by {} at {}", mark.actor, mark.at)
            }
            (Status::Blocked, _) => waiting_for(item, session),
            _ => "manual step, not ticked".to_string(),
        };
    }
    match status {
        Status::Pending => "not run".to_string(),
        Status::Running => "still running".to_string(),
        Status::Blocked if result.is_none() => waiting_for(item, session),
        _ => match (result, state.and_then(|state| state.recorded.as_ref())) {
            (Some(result), _) => result.summary.clone(),
            (None, Some(recorded)) => format!("{} (recorded at {})", recorded.summary, recorded.at),
            (None, None) => String::new(),
        },
    }
}

fn waiting_for(item: &Item, session: &Session) -> String {
    format!(
        "waiting for {}",
        session.unmet_dependencies(item).join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_match_cli_values() {
        use clap::ValueEnum;
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|format| format.to_possible_value())
            .map(|value| value.get_name().to_string())
            .collect();
        assert_eq!(names, ["text", "json", "junit"]);
    }
}
