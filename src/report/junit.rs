//! The JUnit XML report: `<testsuites>` for the checklist, a `<testsuite>` per phase and a
//! `<testcase>` per item.
//!
//! A failed check gets `<failure>`. A check that errored, is blocked or did not run gets
//! `<error>`. A manual item gets `<skipped>` with its status in the message, because CI cannot
//! tick it. A waived item, manual or automated, gets `<skipped>` with the message
//! `waived: <reason>, expires <time>`: it is neither a pass nor a failure. Every attribute and text is XML-escaped and holds only characters XML 1.0 allows.

use std::fmt::Write as _;

use quick_xml::escape::escape;

use super::{Report, Row};
use crate::sanitize::truncate_chars;
use crate::session::{Counts, Status};

/// Maximum characters of response body copied into a failure's text.
const MAX_BODY_CHARS: usize = 1000;

/// The JUnit result of one test case.
enum CaseResult {
    Passed,
    Failure,
    Error,
    Skipped,
}

#[derive(Default)]
struct SuiteCounts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    /// Sum of the elapsed times of the cases, in milliseconds.
    elapsed_ms: u64,
}

pub(super) fn render(report: &Report) -> String {
    let mut all = SuiteCounts::default();
    let mut suites = String::new();
    for phase in &report.phases {
        let mut counts = SuiteCounts::default();
        let mut cases = String::new();
        for row in &phase.rows {
            write_case(&mut cases, report, &phase.id, row, &mut counts);
        }
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" id=\"{}\" {} timestamp=\"{}\">",
            attribute(&phase.title),
            attribute(&phase.id),
            count_attributes(&counts),
            attribute(&report.generated_at.to_string()),
        );
        write_properties(&mut suites, report);
        suites.push_str(&cases);
        suites.push_str("  </testsuite>\n");
        all.tests += counts.tests;
        all.failures += counts.failures;
        all.errors += counts.errors;
        all.skipped += counts.skipped;
        all.elapsed_ms += counts.elapsed_ms;
    }

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let name = format!("{} ({})", report.title, report.environment);
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" {} timestamp=\"{}\">",
        attribute(&name),
        count_attributes(&all),
        attribute(&report.generated_at.to_string()),
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    out
}

fn count_attributes(counts: &SuiteCounts) -> String {
    format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
        counts.tests,
        counts.failures,
        counts.errors,
        counts.skipped,
        seconds(counts.elapsed_ms)
    )
}

fn write_properties(out: &mut String, report: &Report) {
    let Counts { total, .. } = report.counts;
    let properties = [
        ("environment", report.environment.clone()),
        ("checklist.digest", report.digest.clone()),
        (
            "checklist.version",
            report.version.clone().unwrap_or_default(),
        ),
        ("checklist.items", total.to_string()),
        (
            "verdict",
            if report.go() { "go" } else { "no-go" }.to_string(),
        ),
    ];
    out.push_str("    <properties>\n");
    for (name, value) in properties {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            attribute(name),
            attribute(&value)
        );
    }
    out.push_str("    </properties>\n");
}

fn write_case(
    out: &mut String,
    report: &Report,
    phase_id: &str,
    row: &Row,
    counts: &mut SuiteCounts,
) {
    let elapsed_ms = row.result.map_or(0, |result| result.elapsed_ms);
    counts.tests += 1;
    counts.elapsed_ms += elapsed_ms;
    let case_result = case_result(row);
    match case_result {
        CaseResult::Passed => {}
        CaseResult::Failure => counts.failures += 1,
        CaseResult::Error => counts.errors += 1,
        CaseResult::Skipped => counts.skipped += 1,
    }

    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
        attribute(&format!("{}: {}", row.id, row.title)),
        attribute(&format!("golive.{phase_id}")),
        seconds(elapsed_ms),
    );
    let message = match &row.waiver {
        Some(waiver) => waiver.message(),
        None => format!("{}: {}", row.status.word(), row.summary),
    };
    let (element, kind) = match case_result {
        CaseResult::Passed => {
            out.push_str("/>\n");
            return;
        }
        CaseResult::Skipped => {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>",
                attribute(&message)
            );
            out.push_str("    </testcase>\n");
            return;
        }
        CaseResult::Failure => ("failure", "fail"),
        CaseResult::Error => ("error", row.status.word()),
    };
    let _ = writeln!(
        out,
        ">\n      <{element} message=\"{}\" type=\"{kind}\">{}</{element}>",
        attribute(&message),
        text(&details(report, row)),
    );
    out.push_str("    </testcase>\n");
}

fn case_result(row: &Row) -> CaseResult {
    if row.kind == "manual" || row.status == Status::Waived {
        return CaseResult::Skipped;
    }
    match row.status {
        Status::Pass => CaseResult::Passed,
        Status::Fail => CaseResult::Failure,
        // Error and blocked, and checks that did not finish, are errors: nothing was verified.
        _ => CaseResult::Error,
    }
}

/// Formats the element text of a failure or error: summary, then the evidence, one fact per line.
fn details(report: &Report, row: &Row) -> String {
    let mut lines = vec![row.summary.clone()];
    if let Some(result) = row.result {
        let evidence = &result.evidence;
        lines.extend(
            evidence
                .request
                .iter()
                .map(|line| format!("request: {line}")),
        );
        if let Some(status) = evidence.status {
            lines.push(format!("status: {status}"));
        }
        if let Some(latency) = evidence.latency_ms {
            lines.push(format!("latency: {latency} ms"));
        }
        lines.extend(
            evidence
                .headers
                .iter()
                .map(|(name, value)| format!("header: {name}: {value}")),
        );
        lines.extend(evidence.assertions.iter().map(|assertion| {
            let mark = if assertion.passed { "met" } else { "missed" };
            format!(
                "{mark}: {}: expected {}, got {}",
                assertion.subject, assertion.expected, assertion.actual
            )
        }));
        lines.extend(evidence.notes.iter().map(|note| format!("note: {note}")));
        if let Some(body) = &evidence.body_excerpt {
            lines.push(format!("body: {}", truncate_chars(body, MAX_BODY_CHARS)));
        }
        lines.push(format!("attempts: {}", result.attempts));
    }
    let text = lines.join("\n");
    report.clean.text(&text)
}

/// Formats milliseconds as JUnit's seconds with three decimals.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Formats an attribute value: one line, XML-escaped.
fn attribute(value: &str) -> String {
    let one_line = xml_chars(value).replace(['\n', '\t'], " ");
    escape(one_line).into_owned()
}

/// Formats element text, XML-escaped.
fn text(value: &str) -> String {
    escape(xml_chars(value)).into_owned()
}

/// Replaces characters that XML 1.0 forbids even when escaped with U+FFFD: control characters
/// other than newline and tab, U+FFFE and U+FFFF. The report's cleaner has already escaped
/// control characters, so in practice only the two noncharacters reach this.
fn xml_chars(value: &str) -> String {
    value
        .chars()
        .map(|ch| match ch {
            '\t' | '\n' => ch,
            '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}
