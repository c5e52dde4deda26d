//! The `guardduty_detector` check kind: a GuardDuty detector exists in the region, is enabled
//! and, when set, publishes findings at the expected frequency.
//!
//! GuardDuty allows one detector per account and region. ListDetectors finds it and GetDetector
//! reads its status. A region without a detector is a fail, not an error.

use aws_sdk_guardduty::types::{DetectorStatus, FindingPublishingFrequency};
use serde::Deserialize;

use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Outcome, Probe, ProbeContext,
};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["finding_publishing_frequency"];

/// Settings of a `guardduty_detector` check.
#[derive(Debug, Clone)]
pub struct DetectorCheck {
    pub target: AwsTarget,
    pub expect: DetectorExpect,
}

/// Expectations of a `guardduty_detector` check, besides the detector being ENABLED.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorExpect {
    #[serde(default)]
    pub finding_publishing_frequency: Option<PublishingFrequencySetting>,
}

/// How often GuardDuty exports updated findings, as written in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PublishingFrequencySetting {
    #[serde(rename = "FIFTEEN_MINUTES")]
    FifteenMinutes,
    #[serde(rename = "ONE_HOUR")]
    OneHour,
    #[serde(rename = "SIX_HOURS")]
    SixHours,
}

impl PublishingFrequencySetting {
    fn as_str(self) -> &'static str {
        match self {
            PublishingFrequencySetting::FifteenMinutes => "FIFTEEN_MINUTES",
            PublishingFrequencySetting::OneHour => "ONE_HOUR",
            PublishingFrequencySetting::SixHours => "SIX_HOURS",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetectorCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    expect: DetectorExpect,
}

impl<'de> Deserialize<'de> for DetectorCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawDetectorCheck::deserialize(deserializer)?;
        Ok(DetectorCheck {
            target: target_from_raw(RawTarget {
                region: raw.region,
                profile: raw.profile,
                endpoint_url: raw.endpoint_url,
            })?,
            expect: raw.expect,
        })
    }
}

impl DetectorCheck {
    /// Lists the region's detectors and compares each one's status and publishing frequency.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::guardduty(&self.target, ctx.timeout).await;
        let mut evidence = Evidence::default();

        let mut detector_ids = Vec::new();
        let mut pages = client.list_detectors().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => detector_ids.extend(page.detector_ids().iter().cloned()),
                Err(err) => {
                    let call = CallContext {
                        service: "GuardDuty",
                        operation: "ListDetectors",
                        resource: "the detectors",
                        target: &self.target,
                    };
                    return error_probe(&err, call);
                }
            }
        }
        evidence
            .request
            .push(format!("GuardDuty ListDetectors in {}", self.target));

        if detector_ids.is_empty() {
            evidence.assertions.push(Assertion {
                subject: "GuardDuty detector".into(),
                expected: "exists".into(),
                actual: "none".into(),
                passed: false,
            });
            return Probe {
                outcome: Outcome::Fail,
                summary: format!("no GuardDuty detector in {}", self.target),
                evidence,
            };
        }

        let mut table = EvidenceTable {
            title: "detectors".into(),
            columns: vec!["status".into(), "finding publishing frequency".into()],
            rows: Vec::new(),
        };
        for detector_id in &detector_ids {
            let resource = format!("detector {detector_id}");
            let output = match client.get_detector().detector_id(detector_id).send().await {
                Ok(output) => output,
                Err(err) => {
                    let call = CallContext {
                        service: "GuardDuty",
                        operation: "GetDetector",
                        resource: &resource,
                        target: &self.target,
                    };
                    return error_probe(&err, call);
                }
            };
            evidence.request.push(format!(
                "GuardDuty GetDetector {detector_id} in {}",
                self.target
            ));
            let status = output.status().map_or("unknown", DetectorStatus::as_str);
            let frequency = output
                .finding_publishing_frequency()
                .map_or("unknown", FindingPublishingFrequency::as_str);
            let (row, assertions) =
                self.evaluate_detector(detector_id, status, frequency, &ctx.redactor);
            table.rows.push(row);
            evidence.assertions.extend(assertions);
        }
        evidence.tables.push(table);
        Probe::from_assertions(evidence)
    }

    /// Returns the evidence row and the assertions of one detector.
    fn evaluate_detector(
        &self,
        detector_id: &str,
        status: &str,
        frequency: &str,
        redactor: &Redactor,
    ) -> (EvidenceRow, Vec<Assertion>) {
        let id = shown_text(detector_id, redactor);
        let status_passed = status == "ENABLED";
        let mut assertions = vec![Assertion {
            subject: format!("detector {id} status"),
            expected: "ENABLED".into(),
            actual: shown_text(status, redactor),
            passed: status_passed,
        }];
        let frequency_passed = self
            .expect
            .finding_publishing_frequency
            .map(|expected| frequency == expected.as_str());
        if let (Some(expected), Some(passed)) =
            (self.expect.finding_publishing_frequency, frequency_passed)
        {
            assertions.push(Assertion {
                subject: format!("detector {id} finding publishing frequency"),
                expected: expected.as_str().into(),
                actual: shown_text(frequency, redactor),
                passed,
            });
        }
        let row = EvidenceRow {
            label: id,
            cells: vec![
                EvidenceCell {
                    text: shown_text(status, redactor),
                    passed: Some(status_passed),
                },
                EvidenceCell {
                    text: shown_text(frequency, redactor),
                    passed: frequency_passed,
                },
            ],
        };
        (row, assertions)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, _redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push(("expect detector status".into(), "ENABLED".into()));
        if let Some(frequency) = self.expect.finding_publishing_frequency {
            lines.push((
                "expect finding publishing frequency".into(),
                frequency.as_str().into(),
            ));
        }
        lines
    }
}
