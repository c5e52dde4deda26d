//! The text report: a per-phase listing with a status word per item, then totals and the
//! verdict.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

use super::{Report, Row};
use crate::checks::Outcome;
use crate::session::Status;

/// Widest id column before ids simply overflow it.
const MAX_ID_COLUMN: usize = 32;

/// Width of the status column: the longest status word is seven characters.
const STATUS_COLUMN: usize = 8;

/// Maximum number of evidence lines shown under an item that did not pass.
const MAX_DETAIL_LINES: usize = 6;

pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "golive check: {} (environment {})",
        report.title, report.environment
    );
    match &report.version {
        Some(version) => {
            let _ = writeln!(out, "checklist version {version}, digest {}", report.digest);
        }
        None => {
            let _ = writeln!(out, "checklist digest {}", report.digest);
        }
    }
    let _ = writeln!(out, "generated at {}", report.generated_at);

    let id_column = report
        .rows()
        .map(|row| row.id.width())
        .max()
        .unwrap_or(0)
        .min(MAX_ID_COLUMN);
    for phase in &report.phases {
        let _ = writeln!(out, "\n{}", phase.title);
        for row in &phase.rows {
            write_row(&mut out, report, row, id_column);
        }
    }

    let _ = writeln!(out, "\n{}", totals(report));
    let _ = writeln!(out, "{}", verdict(report));
    out
}

fn write_row(out: &mut String, report: &Report, row: &Row, id_column: usize) {
    let word = row.status.word().to_uppercase();
    let padding = id_column.saturating_sub(row.id.width());
    let optional = if row.item.required { "" } else { " (optional)" };
    let manual = if row.kind == "manual" {
        " [manual]"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  {word:<STATUS_COLUMN$} {}{:padding$}  {}{manual}{optional}",
        row.id, "", row.title
    );

    let indent = " ".repeat(2 + STATUS_COLUMN + 1);
    let mut line = row.summary.clone();
    // A blocked check never ran, so its elapsed time is meaningless.
    let ran = row
        .result
        .filter(|result| result.outcome != Outcome::Blocked);
    if let Some(elapsed) = ran.map(|result| result.elapsed_ms) {
        let _ = write!(line, " ({elapsed} ms)");
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    for detail in details(report, row).into_iter().take(MAX_DETAIL_LINES) {
        let _ = writeln!(out, "{indent}- {detail}");
    }
}

/// Evidence lines for an automated item that did not pass: missed expectations, then notes.
fn details(report: &Report, row: &Row) -> Vec<String> {
    let Some(result) = row.result else {
        return Vec::new();
    };
    if !matches!(row.status, Status::Fail | Status::Error) || result.outcome == Outcome::Pass {
        return Vec::new();
    }
    let evidence = &result.evidence;
    let missed = evidence
        .assertions
        .iter()
        .filter(|assertion| !assertion.passed)
        .map(|missed| {
            format!(
                "{}: expected {}, got {}",
                missed.subject, missed.expected, missed.actual
            )
        });
    let notes = evidence.notes.iter().cloned();
    missed
        .chain(notes)
        .map(|line| report.clean.text(&line).replace('\n', " "))
        // The summary usually names the first missed expectation already.
        .filter(|line| *line != row.summary)
        .collect()
}

/// Formats the totals line, such as `Totals: 12 items: 7 pass, 1 fail, 4 pending`.
fn totals(report: &Report) -> String {
    let counts = &report.counts;
    let parts: Vec<String> = [
        (counts.pass, "pass"),
        (counts.fail, "fail"),
        (counts.error, "error"),
        (counts.blocked, "blocked"),
        (counts.running, "running"),
        (counts.pending, "pending"),
        (counts.done, "done"),
        (counts.failed, "failed"),
        (counts.waived, "waived"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, word)| format!("{count} {word}"))
    .collect();
    let noun = if counts.total == 1 { "item" } else { "items" };
    if parts.is_empty() {
        format!("Totals: {} {noun}", counts.total)
    } else {
        format!("Totals: {} {noun}: {}", counts.total, parts.join(", "))
    }
}

fn verdict(report: &Report) -> String {
    let manual = report.rows().filter(|row| row.kind == "manual").count();
    let manual_note = match manual {
        0 => String::new(),
        1 => "; 1 manual item is not evaluated here".to_string(),
        n => format!("; {n} manual items are not evaluated here"),
    };
    let waived: Vec<&str> = report
        .rows()
        .filter(|row| row.kind != "manual" && row.item.required && row.waiver.is_some())
        .map(|row| row.id.as_str())
        .collect();
    if report.go() && waived.is_empty() {
        return format!("Verdict: GO: every required automated check passed{manual_note}");
    }
    if report.go() {
        return format!(
            "Verdict: GO: every required automated check passed or is waived (waived: {})\
             {manual_note}",
            waived.join(", ")
        );
    }
    let listed: Vec<String> = report
        .blockers
        .iter()
        .map(|(id, status)| format!("{id} ({})", status.word()))
        .collect();
    let noun = if listed.len() == 1 {
        "check is"
    } else {
        "checks are"
    };
    format!(
        "Verdict: NO-GO: {} required {noun} not passing: {}{manual_note}",
        listed.len(),
        listed.join(", ")
    )
}
