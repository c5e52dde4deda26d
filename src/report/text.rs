//! The text report: a per-phase listing with a status word per item, then totals and the
//! verdict. Under an automated item that did not pass come its missed expectations, its notes
//! and its evidence tables, each list bounded with a line that counts what was left out.

use std::fmt::Write as _;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{Report, Row};
use crate::checks::{EvidenceCell, EvidenceTable, Outcome};
use crate::session::Status;

/// Widest id column before ids simply overflow it.
const MAX_ID_COLUMN: usize = 32;

/// Width of the status column: the longest status word is seven characters.
const STATUS_COLUMN: usize = 8;

/// Maximum number of evidence lines shown under an item that did not pass.
const MAX_DETAIL_LINES: usize = 6;

/// Maximum number of rows shown of one evidence table.
const MAX_TABLE_ROWS: usize = 20;

/// Most blocking items the verdict line names; the items above list every one.
const MAX_VERDICT_IDS: usize = 20;

/// Widest a table cell or label is before it is cut with `…`.
const MAX_CELL_WIDTH: usize = 40;

pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "golive check: {} (environment {})",
        flat(&report.title),
        flat(&report.environment)
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
        let _ = writeln!(out, "\n{}", flat(&phase.title));
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
        flat(&row.id),
        "",
        flat(&row.title)
    );

    let indent = " ".repeat(2 + STATUS_COLUMN + 1);
    let mut line = flat(&row.summary);
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
    let details = details(report, row);
    for detail in details.lines.iter().take(MAX_DETAIL_LINES) {
        let _ = writeln!(out, "{indent}- {detail}");
    }
    if let Some(more) = details.hidden(MAX_DETAIL_LINES) {
        let _ = writeln!(out, "{indent}… {more}");
    }
    if let Some(result) = row.result.filter(|_| shows_evidence(row)) {
        for table in &result.evidence.tables {
            write_table(out, report, table, &indent);
        }
    }
}

/// Whether the report shows the evidence of an item: only automated items that did not pass.
fn shows_evidence(row: &Row) -> bool {
    row.result.is_some_and(|result| {
        matches!(row.status, Status::Fail | Status::Error) && result.outcome != Outcome::Pass
    })
}

/// Writes an evidence table as a grid: a header row with the column titles, then one row per
/// label, at most [`MAX_TABLE_ROWS`] of them. A cell with an expectation starts with ✔ or ✘.
fn write_table(out: &mut String, report: &Report, table: &EvidenceTable, indent: &str) {
    let _ = writeln!(out, "{indent}{}:", one_line(report, &table.title));
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|title| one_line(report, title))
        .collect();
    let shown = &table.rows[..table.rows.len().min(MAX_TABLE_ROWS)];
    let rows: Vec<(String, Vec<String>)> = shown
        .iter()
        .map(|row| {
            let cells = row
                .cells
                .iter()
                .map(|cell| cell_text(report, cell))
                .collect();
            (one_line(report, &row.label), cells)
        })
        .collect();
    let label_width = rows
        .iter()
        .map(|(label, _)| label.width())
        .max()
        .unwrap_or(0)
        .min(MAX_CELL_WIDTH);
    let count = rows
        .iter()
        .map(|(_, cells)| cells.len())
        .max()
        .unwrap_or(0)
        .max(columns.len());
    let widths: Vec<usize> = (0..count)
        .map(|index| {
            let title = columns.get(index).map_or(0, |title| title.width());
            let widest = rows
                .iter()
                .filter_map(|(_, cells)| cells.get(index))
                .map(|cell| cell.width())
                .chain([title])
                .max()
                .unwrap_or(0);
            // Nothing follows the last column, so it is never cut. It contains values that
            // people copy, such as a finding's key for a waiver.
            if index + 1 == count {
                widest
            } else {
                widest.min(MAX_CELL_WIDTH)
            }
        })
        .collect();

    let row_indent = format!("{indent}  ");
    if columns.iter().any(|title| !title.is_empty()) {
        let titles: Vec<&str> = (0..count)
            .map(|index| columns.get(index).map_or("", String::as_str))
            .collect();
        write_grid_row(out, &row_indent, "", label_width, &titles, &widths);
    }
    for (label, cells) in &rows {
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        write_grid_row(out, &row_indent, label, label_width, &cells, &widths);
    }
    let hidden = table.rows.len() - shown.len();
    if hidden > 0 {
        let noun = if hidden == 1 { "row" } else { "rows" };
        let _ = writeln!(out, "{row_indent}… {hidden} more {noun}");
    }
}

fn write_grid_row(
    out: &mut String,
    indent: &str,
    label: &str,
    label_width: usize,
    cells: &[&str],
    widths: &[usize],
) {
    let mut line = format!("{indent}{}", pad(label, label_width));
    for (cell, width) in cells.iter().zip(widths) {
        line.push_str("  ");
        line.push_str(&pad(cell, *width));
    }
    let _ = writeln!(out, "{}", line.trim_end());
}

/// Pads text to `width` columns. Text wider than that is cut with `…`, unless it starts with
/// the ✘ of a missed expectation, which is kept whole because it is the evidence that matters.
fn pad(text: &str, width: usize) -> String {
    let text = if text.width() > width && !text.starts_with('✘') {
        cut(text, width)
    } else {
        text.to_string()
    };
    let padding = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(padding))
}

/// Cuts text to at most `width` columns, the last of them an ellipsis.
fn cut(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let ch_width = ch.width().unwrap_or(0);
        if used + ch_width + 1 > width {
            break;
        }
        out.push(ch);
        used += ch_width;
    }
    out.push('…');
    out
}

fn cell_text(report: &Report, cell: &EvidenceCell) -> String {
    let text = one_line(report, &cell.text);
    match cell.passed {
        Some(true) => format!("✔ {text}"),
        Some(false) => format!("✘ {text}"),
        None => text,
    }
}

/// Masks secrets, escapes control characters and flattens the text to one line.
fn one_line(report: &Report, text: &str) -> String {
    flat(&report.clean.text(text))
}

/// Puts already cleaned text on one line, so that a value from a checklist or a server can never
/// add a line of its own to the report, such as a forged verdict.
fn flat(text: &str) -> String {
    text.replace(['\n', '\t', '\r'], " ")
}

/// Evidence lines of an item, with how many of them are missed expectations and how many are
/// notes, so that a cut list can name what it left out.
struct Details {
    lines: Vec<String>,
    assertions: usize,
}

impl Details {
    /// Describes the lines after the first `shown`, such as `8 more assertions and 1 more
    /// note`, or returns `None` when every line is shown.
    fn hidden(&self, shown: usize) -> Option<String> {
        let hidden_assertions = self.assertions.saturating_sub(shown);
        let shown_notes = shown.saturating_sub(self.assertions);
        let notes = self.lines.len() - self.assertions;
        let hidden_notes = notes.saturating_sub(shown_notes);
        let parts: Vec<String> = [
            (hidden_assertions, "assertion", "assertions"),
            (hidden_notes, "note", "notes"),
        ]
        .into_iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, one, many)| format!("{count} more {}", if count == 1 { one } else { many }))
        .collect();
        (!parts.is_empty()).then(|| parts.join(" and "))
    }
}

/// Evidence lines for an automated item that did not pass: missed expectations, then notes.
fn details(report: &Report, row: &Row) -> Details {
    let Some(result) = row.result.filter(|_| shows_evidence(row)) else {
        return Details {
            lines: Vec::new(),
            assertions: 0,
        };
    };
    let evidence = &result.evidence;
    let clean = |line: &str| report.clean.text(line).replace('\n', " ");
    let mut lines: Vec<String> = evidence
        .assertions
        .iter()
        .filter(|assertion| !assertion.passed)
        .map(|missed| {
            clean(&format!(
                "{}: expected {}, got {}",
                missed.subject, missed.expected, missed.actual
            ))
        })
        // The summary usually names the first missed expectation already.
        .filter(|line| *line != row.summary)
        .collect();
    let assertions = lines.len();
    lines.extend(
        evidence
            .notes
            .iter()
            .map(|note| clean(note))
            .filter(|line| *line != row.summary),
    );
    Details { lines, assertions }
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
    // Only open manual items are named: those done or waived in the journal need nothing more.
    let manual = report
        .rows()
        .filter(|row| row.kind == "manual" && !row.status.counts_toward_go())
        .count();
    let manual_note = match manual {
        0 => String::new(),
        1 => "; 1 manual item is still open, which the launch decision also needs".to_string(),
        n => format!("; {n} manual items are still open, which the launch decision also needs"),
    };
    let waived: Vec<&str> = report
        .rows()
        .filter(|row| row.kind != "manual" && row.item.required && row.waiver.is_some())
        .map(|row| row.id.as_str())
        .collect();
    if report.go() && waived.is_empty() {
        return format!("Automated checks: GO: every required automated check passed{manual_note}");
    }
    if report.go() {
        return format!(
            "Automated checks: GO: every required automated check passed or is waived (waived: {})\
             {manual_note}",
            waived.join(", ")
        );
    }
    let mut listed: Vec<String> = report
        .blockers
        .iter()
        .take(MAX_VERDICT_IDS)
        .map(|(id, status)| format!("{id} ({})", status.word()))
        .collect();
    let total = report.blockers.len();
    if total > MAX_VERDICT_IDS {
        listed.push(format!("and {} more", total - MAX_VERDICT_IDS));
    }
    let noun = if total == 1 { "check is" } else { "checks are" };
    format!(
        "Automated checks: NO-GO: {total} required {noun} not passing: {}{manual_note}",
        listed.join(", ")
    )
}
