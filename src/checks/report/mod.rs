//! The `report` check kind: launch criteria over a security scanner's report file, such as
//! "no critical or high findings", "no new high findings since the baseline scan" or "every
//! critical finding of the baseline fixed".
//!
//! Reads OWASP ZAP's traditional JSON report, Nuclei JSON Lines and JSON export, and SARIF
//! 2.1.0, detected from the content. Files are streamed, never loaded whole, and the parse runs
//! on a blocking thread so that the cockpit keeps drawing.

pub mod diff;
mod evidence;
pub mod model;
pub mod nuclei;
mod open;
pub mod parse;
pub mod sarif;
pub mod tally;
pub mod zap;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Deserialize;

pub use diff::Diff;
pub use model::{Finding, Format, ReportError, ReportMeta, Severity};
pub use parse::{ReadOptions, read_report};
pub use tally::{FindingWaiver, KeptFinding, MAX_KEPT_PER_SEVERITY, Tally, WaiverUse, Waivers};

use super::{Probe, ProbeContext, SpecError};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &[
    "path",
    "format",
    "baseline",
    "waived",
    "zap_high_as_critical",
    "expect",
];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["max", "max_age", "target", "no_new", "baseline_fixed"];

/// Settings of the check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportCheck {
    /// The report file; a relative path is relative to golive's working directory.
    pub path: String,
    /// The format to read, or `None` to detect it from the content.
    #[serde(default)]
    pub format: Option<Format>,
    /// An earlier report of the same scan to compare with.
    #[serde(default)]
    pub baseline: Option<String>,
    /// Finding keys (`rule@location`) or rule ids accepted as deferred.
    #[serde(default)]
    pub waived: Vec<String>,
    /// Whether ZAP riskcode 3 counts as critical instead of high.
    #[serde(default)]
    pub zap_high_as_critical: bool,
    /// Finding waivers of the checklist's `[[waivers]]` for this item, with their approval
    /// and expiry. The loader fills them in; they are not a key of the `check` table.
    #[serde(skip)]
    pub finding_waivers: Vec<FindingWaiver>,
    #[serde(default)]
    pub expect: ReportExpect,
}

/// The check's expectations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportExpect {
    /// Maximum findings per severity, waived ones not counted. Left out, it is
    /// `{ critical = 0, high = 0 }`.
    #[serde(default)]
    pub max: Option<MaxCounts>,
    /// Maximum age of the report, from its own timestamp or else the file's modification time.
    #[serde(default, with = "crate::duration::serde_friendly_option")]
    pub max_age: Option<Duration>,
    /// The host the scan must have targeted (ZAP and Nuclei only).
    #[serde(default)]
    pub target: Option<String>,
    /// Severities of which the re-scan may have no finding that the baseline lacks.
    #[serde(default)]
    pub no_new: Vec<Severity>,
    /// Severities of which every baseline finding must be gone from the re-scan.
    #[serde(default)]
    pub baseline_fixed: Vec<Severity>,
}

/// Maximum findings per severity; an unset severity has no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxCounts {
    pub critical: Option<u64>,
    pub high: Option<u64>,
    pub medium: Option<u64>,
    pub low: Option<u64>,
    pub info: Option<u64>,
}

impl MaxCounts {
    /// The limit `expect.max` has when left out.
    pub const DEFAULT: MaxCounts = MaxCounts {
        critical: Some(0),
        high: Some(0),
        medium: None,
        low: None,
        info: None,
    };

    pub fn get(&self, severity: Severity) -> Option<u64> {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// Parses and validates the check's settings.
pub fn parse_settings(settings: toml::Table) -> Result<ReportCheck, SpecError> {
    let check: ReportCheck = super::deserialize_settings(settings)?;
    let invalid = |path: &str, message: &str| SpecError {
        path: path.to_string(),
        message: message.to_string(),
    };
    if check.path.trim().is_empty() {
        return Err(invalid("path", "must name a report file"));
    }
    if check
        .baseline
        .as_deref()
        .is_some_and(|path| path.trim().is_empty())
    {
        return Err(invalid("baseline", "must name a report file"));
    }
    if check.baseline.is_none() {
        let needs_baseline = "needs `baseline`, the earlier report to compare with";
        if !check.expect.no_new.is_empty() {
            return Err(invalid("expect.no_new", needs_baseline));
        }
        if !check.expect.baseline_fixed.is_empty() {
            return Err(invalid("expect.baseline_fixed", needs_baseline));
        }
    }
    if check.waived.iter().any(|entry| entry.trim().is_empty()) {
        return Err(invalid(
            "waived",
            "entries must be finding keys or rule ids, not empty",
        ));
    }
    if check.expect.max_age == Some(Duration::ZERO) {
        return Err(invalid("expect.max_age", "must be above zero"));
    }
    if check
        .expect
        .target
        .as_deref()
        .is_some_and(|target| model::host_of(target).is_empty())
    {
        return Err(invalid("expect.target", "must be a host name or URL"));
    }
    Ok(check)
}

/// One report file as read: its path, what the parser learnt and its modification time.
#[derive(Debug, Clone)]
pub struct ReadReport {
    pub path: PathBuf,
    pub meta: ReportMeta,
    pub modified: Option<jiff::Timestamp>,
}

/// Everything the check learnt from its report files.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub report: ReadReport,
    pub tally: Tally,
    /// The baseline report and the comparison, when `baseline` is set.
    pub baseline: Option<(ReadReport, Diff)>,
    /// Every waiver entry (the `waived` list, then the finding waivers) with its matches.
    pub waivers: Vec<WaiverUse>,
}

/// Sets the flag when dropped, so that a parse whose `run` future was dropped (by the
/// engine's timeout) stops at its next read.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl ReportCheck {
    fn read_options(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            zap_high_as_critical: self.zap_high_as_critical,
        }
    }

    /// Reads the report, and the baseline when set, on the calling thread. Blocks for as long
    /// as the files take to read; `cancel` stops it at the next read.
    pub fn analyse(&self, cancel: Arc<AtomicBool>) -> Result<Analysis, ReportError> {
        let options = self.read_options();
        let mut waivers = Waivers::new(&self.waived, &self.finding_waivers, jiff::Timestamp::now());
        let mut diff = Diff::default();
        let baseline = match &self.baseline {
            Some(path) => {
                let path = PathBuf::from(path);
                let meta = read_report(&path, options, cancel.clone(), &mut |finding| {
                    let waived = waivers.check(&finding);
                    diff.add_baseline(&finding, waived);
                })?;
                Some(ReadReport {
                    modified: modified_time(&path),
                    path,
                    meta,
                })
            }
            None => None,
        };

        let path = PathBuf::from(&self.path);
        let mut tally = Tally::default();
        let meta = read_report(&path, options, cancel.clone(), &mut |finding| {
            let waived = waivers.check(&finding);
            if baseline.is_some() {
                diff.add_current(&finding, waived);
            }
            tally.add(finding, waived);
        })?;
        let report = ReadReport {
            modified: modified_time(&path),
            path,
            meta,
        };

        let baseline = match baseline {
            Some(read) => {
                diff.count_fixed();
                // The diff keeps only key hashes, so a second pass names the fixed findings.
                if diff.has_fixed() {
                    read_report(&read.path, options, cancel, &mut |finding| {
                        diff.list_fixed(&finding)
                    })?;
                }
                Some((read, diff))
            }
            None => None,
        };
        Ok(Analysis {
            report,
            tally,
            baseline,
            waivers: waivers.uses().into_iter().cloned().collect(),
        })
    }

    /// Runs one attempt: reads the files on a blocking thread and evaluates the expectations.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let cancel = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(cancel.clone());
        let check = self.clone();
        let task = tokio::task::spawn_blocking(move || check.analyse(cancel));
        match task.await {
            Ok(Ok(analysis)) => self.evaluate(&analysis, jiff::Timestamp::now(), &ctx.redactor),
            Ok(Err(err)) => Probe::error(evidence::safe_text(&err.to_string(), &ctx.redactor)),
            Err(err) => Probe::error(format!("reading the report failed: {err}")),
        }
    }

    /// Evaluates the expectations against an analysis, taking `now` as the current time.
    pub fn evaluate(
        &self,
        analysis: &Analysis,
        now: jiff::Timestamp,
        redactor: &Redactor,
    ) -> Probe {
        evidence::evaluate(self, analysis, now, redactor)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = vec![("path".to_string(), redactor.redact(&self.path))];
        if let Some(format) = self.format {
            lines.push(("format".into(), format.as_str().into()));
        }
        if let Some(baseline) = &self.baseline {
            lines.push(("baseline".into(), redactor.redact(baseline)));
        }
        let max = self.expect.max.unwrap_or(MaxCounts::DEFAULT);
        let limits: Vec<String> = Severity::ALL
            .iter()
            .filter_map(|severity| {
                max.get(*severity)
                    .map(|limit| format!("{severity} ≤ {limit}"))
            })
            .collect();
        if !limits.is_empty() {
            lines.push(("expect max".into(), limits.join(", ")));
        }
        if let Some(age) = self.expect.max_age {
            lines.push((
                "expect max_age".into(),
                crate::duration::format_duration(age),
            ));
        }
        if let Some(target) = &self.expect.target {
            lines.push(("expect target".into(), redactor.redact(target)));
        }
        if !self.expect.no_new.is_empty() {
            lines.push(("expect no_new".into(), join_severities(&self.expect.no_new)));
        }
        if !self.expect.baseline_fixed.is_empty() {
            let severities = join_severities(&self.expect.baseline_fixed);
            lines.push(("expect baseline_fixed".into(), severities));
        }
        if self.zap_high_as_critical {
            lines.push(("zap_high_as_critical".into(), "true".into()));
        }
        for entry in &self.waived {
            lines.push(("waived".into(), redactor.redact(entry)));
        }
        lines
    }
}

fn join_severities(severities: &[Severity]) -> String {
    let names: Vec<&str> = severities
        .iter()
        .map(|severity| severity.as_str())
        .collect();
    names.join(", ")
}

fn modified_time(path: &Path) -> Option<jiff::Timestamp> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    jiff::Timestamp::try_from(modified).ok()
}
