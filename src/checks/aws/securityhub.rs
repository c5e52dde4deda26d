//! The Security Hub check kinds: `securityhub_findings` (Security Hub is enabled and the active
//! findings of each severity stay within their maximum) and `securityhub_hub` (Security Hub is
//! enabled with the given standards).
//!
//! A finding counts when its record state is ACTIVE and its workflow status is NEW or NOTIFIED,
//! the findings not yet resolved or suppressed. Each severity label costs one paginated
//! GetFindings call, shared by the checks of the same target that run at the same moment (see
//! [`batch`](super::batch)).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, RecordState, SeverityLabel, StringFilter,
    StringFilterComparison, WorkflowStatus,
};
use futures::future::join_all;
use serde::Deserialize;

use super::batch::{self, BatchError};
use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext,
};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "top", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["max"];

/// Default number of finding titles shown in evidence.
const DEFAULT_TOP: usize = 5;
/// Maximum findings per GetFindings page, the API's limit.
const PAGE_SIZE: i32 = 100;
/// Pages read per severity before the count stops, so 10,000 findings.
const MAX_PAGES: usize = 100;

/// A Security Hub severity label as written in the checklist's `expect.max` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Informational,
}

impl Severity {
    fn label(self) -> SeverityLabel {
        match self {
            Severity::Critical => SeverityLabel::Critical,
            Severity::High => SeverityLabel::High,
            Severity::Medium => SeverityLabel::Medium,
            Severity::Low => SeverityLabel::Low,
            Severity::Informational => SeverityLabel::Informational,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Informational => "INFORMATIONAL",
        }
    }
}

/// Settings of a `securityhub_findings` check.
#[derive(Debug, Clone)]
pub struct FindingsCheck {
    pub target: AwsTarget,
    /// Number of finding titles shown in evidence.
    pub top: usize,
    /// Maximum active findings per severity; severities not listed are not counted.
    pub max: BTreeMap<Severity, u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFindingsCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    top: Option<usize>,
    #[serde(default)]
    expect: FindingsExpect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingsExpect {
    #[serde(default = "default_max")]
    max: BTreeMap<Severity, u64>,
}

impl Default for FindingsExpect {
    fn default() -> Self {
        FindingsExpect { max: default_max() }
    }
}

/// No active critical or high finding.
fn default_max() -> BTreeMap<Severity, u64> {
    BTreeMap::from([(Severity::Critical, 0), (Severity::High, 0)])
}

impl<'de> Deserialize<'de> for FindingsCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawFindingsCheck::deserialize(deserializer)?;
        if raw.expect.max.is_empty() {
            return Err(D::Error::custom(
                "`expect.max` is empty; give at least one severity, such as `{ critical = 0 }`",
            ));
        }
        Ok(FindingsCheck {
            target: target_from_raw(RawTarget {
                region: raw.region,
                profile: raw.profile,
                endpoint_url: raw.endpoint_url,
            })?,
            top: raw.top.unwrap_or(DEFAULT_TOP),
            max: raw.expect.max,
        })
    }
}

/// Active findings of one severity: the count and the first titles.
#[derive(Debug)]
pub(crate) struct SeverityCount {
    count: u64,
    /// Whether the count stopped at [`MAX_PAGES`] pages.
    truncated: bool,
    titles: Vec<String>,
}

impl FindingsCheck {
    /// Checks that the hub is enabled, then counts the active findings of each severity.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let check = self.clone();
        let ctx = ctx.clone();
        let outcome = client::run_with_large_stack(async move { check.probe(&ctx).await }).await;
        outcome.unwrap_or_else(|message| {
            Probe::error(format!(
                "Security Hub findings check in {} did not run: {message}",
                self.target
            ))
        })
    }

    async fn probe(&self, ctx: &ProbeContext) -> Probe {
        let mut evidence = Evidence::default();
        evidence
            .request
            .push(format!("Security Hub DescribeHub in {}", self.target));
        match hub_enabled(&self.target, ctx.timeout, &mut evidence, &ctx.redactor).await {
            Ok(true) => {}
            Ok(false) => return Probe::from_assertions(evidence),
            Err(probe) => return *probe,
        }

        let mut table = EvidenceTable {
            title: "active findings".into(),
            columns: vec!["count".into(), "maximum".into()],
            rows: Vec::new(),
        };
        let mut titles = EvidenceTable {
            title: "top findings".into(),
            columns: vec!["title".into()],
            rows: Vec::new(),
        };
        // All severities are requested at once, so that they join the batches of the other
        // checks that received the same shared DescribeHub result.
        let counts =
            join_all(self.max.keys().map(|&severity| {
                batch::count_severity(&self.target, ctx.timeout, severity, self.top)
            }))
            .await;
        for ((&severity, &max), counted) in self.max.iter().zip(counts) {
            evidence.request.push(format!(
                "Security Hub GetFindings severity {} in {}",
                severity.as_str(),
                self.target
            ));
            let counted = match counted {
                Ok(counted) => counted,
                Err(BatchError::Call(err)) => {
                    let resource = format!("{} findings", severity.as_str());
                    let call = CallContext {
                        service: "Security Hub",
                        operation: "GetFindings",
                        resource: &resource,
                        target: &self.target,
                    };
                    return error_probe(&*err, call);
                }
                Err(BatchError::Ended) => {
                    return Probe::error(format!(
                        "Security Hub GetFindings of {} findings in {} ended without an answer; \
                         run the check again",
                        severity.as_str(),
                        self.target
                    ));
                }
            };
            let count_text = if counted.truncated {
                format!("at least {}", counted.count)
            } else {
                counted.count.to_string()
            };
            let passed = counted.count <= max;
            evidence.assertions.push(Assertion {
                subject: format!("active {} findings", severity.as_str()),
                expected: format!("at most {max}"),
                actual: count_text.clone(),
                passed,
            });
            table.rows.push(EvidenceRow {
                label: severity.as_str().into(),
                cells: vec![
                    EvidenceCell {
                        text: count_text,
                        passed: Some(passed),
                    },
                    EvidenceCell {
                        text: max.to_string(),
                        passed: None,
                    },
                ],
            });
            let remaining = self.top.saturating_sub(titles.rows.len());
            for title in counted.titles.iter().take(self.top).take(remaining) {
                titles.rows.push(EvidenceRow {
                    label: severity.as_str().into(),
                    cells: vec![EvidenceCell {
                        text: shown_text(title, &ctx.redactor),
                        passed: None,
                    }],
                });
            }
        }
        evidence.tables.push(table);
        if !titles.rows.is_empty() {
            evidence.tables.push(titles);
        }
        Probe::from_assertions(evidence)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, _redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        for (severity, max) in &self.max {
            let label = format!("expect active {} findings", severity.as_str());
            lines.push((label, format!("at most {max}")));
        }
        lines.push(("titles shown".into(), self.top.to_string()));
        lines
    }
}

/// Counts the active findings of one severity with a paginated GetFindings call, keeping the
/// first `top` titles.
pub(crate) async fn count_findings(
    client: &aws_sdk_securityhub::Client,
    severity: Severity,
    top: usize,
) -> Result<
    SeverityCount,
    aws_sdk_securityhub::error::SdkError<
        aws_sdk_securityhub::operation::get_findings::GetFindingsError,
    >,
> {
    let filters = AwsSecurityFindingFilters::builder()
        .record_state(equals("ACTIVE"))
        .workflow_status(equals("NEW"))
        .workflow_status(equals("NOTIFIED"))
        .severity_label(equals(severity.as_str()))
        .build();
    let mut result = SeverityCount {
        count: 0,
        truncated: false,
        titles: Vec::new(),
    };
    let mut pages = client
        .get_findings()
        .filters(filters)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut read = 0;
    while let Some(page) = pages.next().await {
        let page = page?;
        for finding in page.findings() {
            if !is_active(finding, severity) {
                continue;
            }
            result.count += 1;
            if result.titles.len() < top
                && let Some(title) = finding.title()
            {
                result.titles.push(title.to_string());
            }
        }
        read += 1;
        if read >= MAX_PAGES {
            result.truncated = page.next_token().is_some_and(|token| !token.is_empty());
            break;
        }
    }
    Ok(result)
}

fn equals(value: &str) -> StringFilter {
    StringFilter::builder()
        .value(value)
        .comparison(StringFilterComparison::Equals)
        .build()
}

/// Returns whether a finding matches the check's filters.
///
/// AWS applies the filters itself, but some emulators (moto 5.2) ignore GetFindings filters, so
/// the check applies them again. A field the finding lacks is taken as matching.
fn is_active(finding: &AwsSecurityFinding, severity: Severity) -> bool {
    let record_active = finding
        .record_state()
        .is_none_or(|state| *state == RecordState::Active);
    let workflow_open = finding
        .workflow()
        .and_then(|workflow| workflow.status())
        .is_none_or(|status| matches!(status, WorkflowStatus::New | WorkflowStatus::Notified));
    let severity_matches = finding
        .severity()
        .and_then(|finding_severity| finding_severity.label())
        .is_none_or(|label| *label == severity.label());
    record_active && workflow_open && severity_matches
}

/// Keys of the `securityhub_hub` kind's `check` table besides `kind`, `timeout`, `retries` and
/// `interval`.
pub const HUB_CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "expect"];
/// Keys of the `securityhub_hub` kind's `expect` table.
pub const HUB_EXPECT_KEYS: &[&str] = &["standards"];

/// Pages of enabled standards read before the listing stops.
const MAX_STANDARDS_PAGES: usize = 20;

/// Settings of a `securityhub_hub` check: Security Hub is enabled and the given standards are
/// enabled and ready.
#[derive(Debug, Clone)]
pub struct HubCheck {
    pub target: AwsTarget,
    /// Standards that must be enabled, as parts of their ARN such as
    /// `aws-foundational-security-best-practices`, lowercase with spaces turned into dashes.
    pub standards: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHubCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    expect: HubExpect,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HubExpect {
    #[serde(default)]
    standards: Vec<String>,
}

impl<'de> Deserialize<'de> for HubCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawHubCheck::deserialize(deserializer)?;
        let mut standards = Vec::new();
        for standard in raw.expect.standards {
            let normalized = standard.trim().to_lowercase().replace(' ', "-");
            if normalized.is_empty() {
                return Err(D::Error::custom(
                    "`expect.standards` contains an empty name; write them like \
                     \"aws-foundational-security-best-practices\"",
                ));
            }
            standards.push(normalized);
        }
        Ok(HubCheck {
            target: target_from_raw(RawTarget {
                region: raw.region,
                profile: raw.profile,
                endpoint_url: raw.endpoint_url,
            })?,
            standards,
        })
    }
}

/// One enabled standard as GetEnabledStandards lists it.
struct EnabledStandard {
    arn: String,
    status: String,
}

impl HubCheck {
    /// Checks that the hub is enabled, then that each expected standard is enabled and ready.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::securityhub(&self.target, ctx.timeout).await;
        let mut evidence = Evidence::default();
        evidence
            .request
            .push(format!("Security Hub DescribeHub in {}", self.target));
        match hub_enabled(&self.target, ctx.timeout, &mut evidence, &ctx.redactor).await {
            Ok(true) => {}
            Ok(false) => return Probe::from_assertions(evidence),
            Err(probe) => return *probe,
        }
        if self.standards.is_empty() {
            return Probe::from_assertions(evidence);
        }

        evidence.request.push(format!(
            "Security Hub GetEnabledStandards in {}",
            self.target
        ));
        let enabled = match enabled_standards(&client).await {
            Ok(enabled) => enabled,
            Err(err) => {
                let call = CallContext {
                    service: "Security Hub",
                    operation: "GetEnabledStandards",
                    resource: "the enabled standards",
                    target: &self.target,
                };
                return error_probe(&err, call);
            }
        };
        let mut table = EvidenceTable {
            title: "enabled standards".into(),
            columns: vec!["status".into()],
            rows: Vec::new(),
        };
        for standard in &enabled {
            table.rows.push(EvidenceRow {
                label: shown_text(&standard.arn, &ctx.redactor),
                cells: vec![EvidenceCell {
                    text: shown_text(&standard.status, &ctx.redactor),
                    passed: None,
                }],
            });
        }
        for expected in &self.standards {
            let matching = enabled
                .iter()
                .find(|standard| standard.arn.to_lowercase().contains(expected.as_str()));
            let actual = match matching {
                Some(standard) => shown_text(&standard.status, &ctx.redactor),
                None => "not enabled".into(),
            };
            evidence.assertions.push(Assertion {
                subject: format!("standard {}", shown_text(expected, &ctx.redactor)),
                expected: "READY".into(),
                passed: matching.is_some_and(|standard| standard.status == "READY"),
                actual,
            });
        }
        evidence.tables.push(table);
        Probe::from_assertions(evidence)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push(("expect hub".into(), "enabled".into()));
        if !self.standards.is_empty() {
            lines.push((
                "expect standards".into(),
                shown_text(&self.standards.join(", "), redactor),
            ));
        }
        lines
    }
}

/// Adds the "Security Hub enabled" assertion and returns whether the hub is enabled, or the
/// error probe of a failed DescribeHub call.
async fn hub_enabled(
    target: &AwsTarget,
    timeout: Duration,
    evidence: &mut Evidence,
    redactor: &Redactor,
) -> Result<bool, Box<Probe>> {
    let hub_call = CallContext {
        service: "Security Hub",
        operation: "DescribeHub",
        resource: "the hub",
        target,
    };
    // Checks of the same target running together share one DescribeHub result.
    let enabled = match batch::describe_hub(target, timeout).await {
        Ok(hub) => {
            // An enabled hub has an ARN, so a response without one came from something that
            // is not Security Hub, and counting its empty findings would pass falsely.
            let Some(arn) = &hub.hub_arn else {
                return Err(Box::new(Probe::error(format!(
                    "Security Hub DescribeHub in {target} answered without a hub ARN; check \
                     that `endpoint_url` points at Security Hub"
                ))));
            };
            evidence
                .notes
                .push(format!("hub {}", shown_text(arn, redactor)));
            true
        }
        Err(BatchError::Call(err)) => {
            // Security Hub returns InvalidAccessException when the account has not enabled it
            // in this region, which is a missed expectation, not an error.
            let not_enabled = err
                .as_service_error()
                .and_then(aws_sdk_securityhub::error::ProvideErrorMetadata::code)
                == Some("InvalidAccessException");
            if !not_enabled {
                return Err(Box::new(error_probe(&*err, hub_call)));
            }
            false
        }
        Err(BatchError::Ended) => {
            return Err(Box::new(Probe::error(format!(
                "Security Hub DescribeHub in {target} ended without an answer; run the check \
                 again"
            ))));
        }
    };
    evidence.assertions.push(Assertion {
        subject: "Security Hub".into(),
        expected: "enabled".into(),
        actual: if enabled {
            "enabled".to_string()
        } else {
            format!("not enabled in {target}")
        },
        passed: enabled,
    });
    Ok(enabled)
}

async fn enabled_standards(
    client: &aws_sdk_securityhub::Client,
) -> Result<
    Vec<EnabledStandard>,
    aws_sdk_securityhub::error::SdkError<
        aws_sdk_securityhub::operation::get_enabled_standards::GetEnabledStandardsError,
    >,
> {
    let mut standards = Vec::new();
    let mut pages = client.get_enabled_standards().into_paginator().send();
    let mut read = 0;
    while let Some(page) = pages.next().await {
        let page = page?;
        for subscription in page.standards_subscriptions() {
            standards.push(EnabledStandard {
                arn: subscription.standards_arn().unwrap_or_default().to_string(),
                status: subscription
                    .standards_status()
                    .map_or("unknown", |status| status.as_str())
                    .to_string(),
            });
        }
        read += 1;
        if read >= MAX_STANDARDS_PAGES {
            break;
        }
    }
    Ok(standards)
}
