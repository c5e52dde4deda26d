//! Turning an [`Analysis`] into assertions, tables and notes.

use super::model::{Finding, Format, Severity, host_of};
use super::{Analysis, MaxCounts, ReadReport, ReportCheck, WaiverUse};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, FileDigest, Probe,
};
use crate::redact::Redactor;
use crate::sanitize::{terminal_safe, truncate_chars};

/// Findings shown per severity in the evidence; the analysis keeps more.
const SHOWN_PER_SEVERITY: usize = 20;
/// Width of the longest bar in the counts line.
const BAR_WIDTH: u64 = 20;
/// Maximum characters of one text cell.
const MAX_CELL_CHARS: usize = 200;

/// Returns text from a report masked, terminal-safe and bounded.
pub(super) fn safe_text(text: &str, redactor: &Redactor) -> String {
    truncate_chars(&terminal_safe(&redactor.redact(text)), MAX_CELL_CHARS)
}

fn cell(text: impl Into<String>) -> EvidenceCell {
    EvidenceCell {
        text: text.into(),
        passed: None,
    }
}

pub(super) fn evaluate(
    check: &ReportCheck,
    analysis: &Analysis,
    now: jiff::Timestamp,
    redactor: &Redactor,
) -> Probe {
    let max = check.expect.max.unwrap_or(MaxCounts::DEFAULT);
    let mut evidence = Evidence::default();
    let tally = &analysis.tally;

    for severity in Severity::ALL {
        if let Some(limit) = max.get(severity) {
            let counted = tally.counted(severity);
            let waived = tally.waived[severity.index()];
            let actual = match waived {
                0 => counted.to_string(),
                waived => format!("{counted} ({waived} waived, not counted)"),
            };
            evidence.assertions.push(Assertion {
                subject: format!("{severity} findings"),
                expected: format!("at most {limit}"),
                actual,
                passed: counted <= limit,
            });
        }
    }
    if let Some(max_age) = check.expect.max_age {
        evidence
            .assertions
            .push(age_assertion(&analysis.report, max_age, now));
    }
    if let Some(target) = &check.expect.target {
        match target_assertion(&analysis.report, target, redactor) {
            Some(assertion) => evidence.assertions.push(assertion),
            None => evidence.notes.push(format!(
                "expect.target not checked: {} names no scan target",
                analysis
                    .report
                    .meta
                    .format
                    .map_or("the report", Format::describe)
            )),
        }
    }
    if let Some((_, diff)) = &analysis.baseline {
        for severity in &check.expect.no_new {
            evidence.assertions.push(Assertion {
                subject: format!("new {severity} findings"),
                expected: "0".into(),
                actual: diff.new_unwaived[severity.index()].to_string(),
                passed: diff.new_unwaived[severity.index()] == 0,
            });
        }
        for severity in &check.expect.baseline_fixed {
            evidence.assertions.push(Assertion {
                subject: format!("{severity} baseline findings still open"),
                expected: "0".into(),
                actual: diff.still_open_unwaived[severity.index()].to_string(),
                passed: diff.still_open_unwaived[severity.index()] == 0,
            });
        }
    }

    evidence.tables.push(counts_table(analysis, &max));
    evidence.notes.push(counts_bar(analysis));
    push_report_notes(&mut evidence, &analysis.report, "report", redactor);
    for severity in Severity::ALL {
        if let Some(table) = findings_table(analysis, severity, redactor) {
            evidence.tables.push(table);
        }
    }
    if let Some((baseline, diff)) = &analysis.baseline {
        push_report_notes(&mut evidence, baseline, "baseline", redactor);
        evidence.tables.push(diff_table(diff));
        let new: Vec<(&Finding, bool)> = diff
            .new_list
            .iter()
            .flatten()
            .map(|(finding, waived)| (finding, *waived))
            .collect();
        let total_new: u64 = diff.new.iter().sum();
        evidence
            .tables
            .push(list_table("New findings", &new, total_new, redactor));
        let fixed: Vec<(&Finding, bool)> = diff
            .fixed_list
            .iter()
            .flatten()
            .map(|finding| (finding, false))
            .collect();
        let total_fixed: u64 = diff.fixed.iter().sum();
        evidence
            .tables
            .push(list_table("Fixed findings", &fixed, total_fixed, redactor));
    }
    for entry in &analysis.waivers {
        evidence.notes.push(waiver_note(entry, redactor));
    }

    let malformed = malformed_summary(analysis);
    let mut probe = Probe::from_assertions(evidence);
    if probe.outcome == crate::checks::Outcome::Pass {
        let counts: Vec<String> = Severity::ALL
            .iter()
            .map(|severity| format!("{} {severity}", tally.counts[severity.index()]))
            .collect();
        probe.summary = format!("{}; {}", counts.join(", "), probe.summary);
        // A pass that only a waiver allows names the waived findings and the first expiry.
        let waived: u64 = tally.waived.iter().sum();
        if waived > 0 {
            let first_expiry = analysis
                .waivers
                .iter()
                .filter(|entry| entry.matched > 0 && !entry.expired)
                .filter_map(|entry| entry.approval.as_ref().map(|approval| approval.expires))
                .min();
            let waived = crate::plural(waived, "finding", "findings");
            probe.summary = match first_expiry {
                Some(expires) => {
                    format!(
                        "{}; {waived} waived, the first until {expires}",
                        probe.summary
                    )
                }
                None => format!("{}; {waived} waived", probe.summary),
            };
        }
    }
    if let Some(malformed) = malformed {
        probe.summary = format!("{}; {malformed}", probe.summary);
    }
    probe
}

fn age_assertion(
    report: &ReadReport,
    max_age: std::time::Duration,
    now: jiff::Timestamp,
) -> Assertion {
    let expected = format!("at most {}", crate::duration::format_duration(max_age));
    let (time, source) = match (report.meta.timestamp, report.modified) {
        (Some(time), _) => (time, "report timestamp"),
        (None, Some(time)) => (time, "file modified"),
        (None, None) => {
            return Assertion {
                subject: "report age".into(),
                expected,
                actual: "unknown: no timestamp in the report and no file modification time".into(),
                passed: false,
            };
        }
    };
    let age = now.duration_since(time);
    // A time in the future is a clock difference, so the age is taken as zero.
    let age = std::time::Duration::try_from(age).unwrap_or_default();
    let rounded = std::time::Duration::from_secs(age.as_secs());
    Assertion {
        subject: "report age".into(),
        expected,
        actual: format!(
            "{} ({source} {time})",
            crate::duration::format_duration(rounded)
        ),
        passed: age <= max_age,
    }
}

fn target_assertion(report: &ReadReport, target: &str, redactor: &Redactor) -> Option<Assertion> {
    if !matches!(
        report.meta.format,
        Some(Format::Zap | Format::NucleiJson | Format::NucleiJsonl)
    ) {
        return None;
    }
    let wanted = host_of(target);
    let hosts: Vec<&str> = report.meta.hosts.iter().map(String::as_str).collect();
    let actual = if hosts.is_empty() {
        "no host in the report".to_string()
    } else {
        safe_text(&hosts.join(", "), redactor)
    };
    Some(Assertion {
        subject: "scan target".into(),
        expected: format!("host {}", safe_text(&wanted, redactor)),
        actual,
        passed: hosts.contains(&wanted.as_str()),
    })
}

fn counts_table(analysis: &Analysis, max: &MaxCounts) -> EvidenceTable {
    let tally = &analysis.tally;
    let rows = Severity::ALL
        .iter()
        .map(|severity| {
            let slot = severity.index();
            let (limit, verdict) = match max.get(*severity) {
                Some(limit) => {
                    let passed = tally.counted(*severity) <= limit;
                    let verdict = EvidenceCell {
                        text: if passed { "pass" } else { "fail" }.into(),
                        passed: Some(passed),
                    };
                    (limit.to_string(), verdict)
                }
                None => ("-".to_string(), cell("-")),
            };
            EvidenceRow {
                label: severity.as_str().into(),
                cells: vec![
                    cell(tally.counts[slot].to_string()),
                    cell(tally.waived[slot].to_string()),
                    cell(limit),
                    verdict,
                ],
            }
        })
        .collect();
    EvidenceTable {
        title: "Findings by severity".into(),
        columns: vec![
            "count".into(),
            "waived".into(),
            "max".into(),
            "verdict".into(),
        ],
        rows,
    }
}

/// Formats one line such as `critical 0 | high ██ 2 | medium █████ 5 | low 1 | info 0`, bars scaled
/// to the largest count.
fn counts_bar(analysis: &Analysis) -> String {
    let counts = &analysis.tally.counts;
    let largest = counts.iter().copied().max().unwrap_or(0).max(1);
    let parts: Vec<String> = Severity::ALL
        .iter()
        .map(|severity| {
            let count = counts[severity.index()];
            // Any count above zero gets at least one block, so it is never hidden.
            let blocks = match count {
                0 => 0,
                count => (count * BAR_WIDTH).div_ceil(largest).max(1),
            };
            let bar = "█".repeat(blocks as usize);
            if bar.is_empty() {
                format!("{severity} {count}")
            } else {
                format!("{severity} {bar} {count}")
            }
        })
        .collect();
    parts.join(" | ")
}

/// Returns the evidence note on what one waiver entry covered.
fn waiver_note(entry: &WaiverUse, redactor: &Redactor) -> String {
    let key = safe_text(&entry.key, redactor);
    let findings = crate::plural(entry.matched, "finding", "findings");
    match &entry.approval {
        None if entry.matched == 0 => format!("waived entry `{key}` matched no finding"),
        None => format!("waived entry `{key}` covers {findings}"),
        Some(approval) => {
            let approver = safe_text(&approval.approved_by, redactor);
            let expires = approval.expires;
            if entry.expired {
                format!(
                    "waiver of `{key}` approved by {approver} expired at {expires}; its \
                     {findings} count again"
                )
            } else if entry.matched == 0 {
                format!("waiver of `{key}` approved by {approver} matched no finding")
            } else {
                format!(
                    "waiver of `{key}` approved by {approver} until {expires} covers {findings}"
                )
            }
        }
    }
}

fn push_report_notes(evidence: &mut Evidence, read: &ReadReport, role: &str, redactor: &Redactor) {
    let meta = &read.meta;
    let path = safe_text(&read.path.display().to_string(), redactor);
    evidence
        .notes
        .push(format!("sha256 {} {path}", meta.sha256));
    evidence.files.push(FileDigest {
        path,
        sha256: meta.sha256.clone(),
    });
    let format = meta
        .format
        .map_or("an unknown format", |format| format.describe());
    let mut line = format!("{role}: {format}, {} bytes", meta.bytes);
    if let Some(time) = meta.timestamp {
        line.push_str(&format!(", dated {time}"));
    }
    if !meta.tools.is_empty() {
        let tools: Vec<&str> = meta.tools.iter().map(String::as_str).collect();
        line.push_str(&format!(
            ", tools {}",
            safe_text(&tools.join(", "), redactor)
        ));
    }
    evidence.notes.push(line);
    if meta.dismissed > 0 {
        evidence.notes.push(format!(
            "{role}: {} marked false positive or suppressed in the report, not counted",
            crate::plural(meta.dismissed, "finding", "findings")
        ));
    }
    for warning in &meta.warnings {
        evidence
            .notes
            .push(format!("{role} warning: {}", safe_text(warning, redactor)));
    }
    let unlisted = meta.warnings_total - meta.warnings.len() as u64;
    if unlisted > 0 {
        evidence
            .notes
            .push(format!("{role}: {unlisted} more warnings not listed"));
    }
}

fn findings_table(
    analysis: &Analysis,
    severity: Severity,
    redactor: &Redactor,
) -> Option<EvidenceTable> {
    let slot = severity.index();
    let kept = &analysis.tally.kept[slot];
    if kept.is_empty() {
        return None;
    }
    let mut rows: Vec<EvidenceRow> = kept
        .iter()
        .take(SHOWN_PER_SEVERITY)
        .map(|kept| EvidenceRow {
            label: safe_text(&kept.finding.title, redactor),
            cells: vec![
                cell(safe_text(&kept.finding.location, redactor)),
                cell(kept.instances.to_string()),
                cell(if kept.waived { "waived" } else { "" }),
                cell(safe_text(&kept.finding.key(), redactor)),
            ],
        })
        .collect();
    let shown: u64 = kept
        .iter()
        .take(SHOWN_PER_SEVERITY)
        .map(|kept| kept.instances)
        .sum();
    let rest = analysis.tally.counts[slot] - shown;
    if rest > 0 {
        rows.push(EvidenceRow {
            label: format!("… {rest} more {severity} findings not shown"),
            cells: Vec::new(),
        });
    }
    Some(EvidenceTable {
        title: format!("Top {severity} findings"),
        columns: vec![
            "location".into(),
            "instances".into(),
            "waived".into(),
            "key".into(),
        ],
        rows,
    })
}

fn diff_table(diff: &super::Diff) -> EvidenceTable {
    let row = |label: &str, counts: &[u64; 5]| EvidenceRow {
        label: label.into(),
        cells: counts
            .iter()
            .map(|count| cell(count.to_string()))
            .chain(std::iter::once(cell(
                counts.iter().sum::<u64>().to_string(),
            )))
            .collect(),
    };
    let mut columns: Vec<String> = Severity::ALL.iter().map(|s| s.as_str().into()).collect();
    columns.push("total".into());
    EvidenceTable {
        title: "Diff against the baseline (distinct findings)".into(),
        columns,
        rows: vec![
            row("new", &diff.new),
            row("fixed", &diff.fixed),
            row("still open", &diff.still_open),
        ],
    }
}

fn list_table(
    title: &str,
    findings: &[(&Finding, bool)],
    total: u64,
    redactor: &Redactor,
) -> EvidenceTable {
    let mut rows: Vec<EvidenceRow> = findings
        .iter()
        .take(SHOWN_PER_SEVERITY)
        .map(|(finding, waived)| EvidenceRow {
            label: safe_text(&finding.title, redactor),
            cells: vec![
                cell(finding.severity.as_str()),
                cell(if *waived { "waived" } else { "" }),
                cell(safe_text(&finding.key(), redactor)),
            ],
        })
        .collect();
    let shown = rows.len() as u64;
    if total > shown {
        rows.push(EvidenceRow {
            label: format!("… {} more not shown", total - shown),
            cells: Vec::new(),
        });
    }
    EvidenceTable {
        title: title.into(),
        columns: vec!["severity".into(), "waived".into(), "key".into()],
        rows,
    }
}

/// "2 malformed lines skipped (lines 3, 9)" when the report had malformed JSON Lines lines.
fn malformed_summary(analysis: &Analysis) -> Option<String> {
    let meta = &analysis.report.meta;
    if meta.malformed_total == 0 {
        return None;
    }
    let numbers: Vec<String> = meta.malformed_lines.iter().map(u64::to_string).collect();
    Some(match meta.malformed_total {
        1 => format!("1 malformed line skipped (line {})", numbers.join(", ")),
        total => format!(
            "{total} malformed lines skipped (lines {})",
            numbers.join(", ")
        ),
    })
}
