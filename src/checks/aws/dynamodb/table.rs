//! The `dynamodb_table` check kind: a table's status, backups, encryption, billing mode and
//! indexes.

use aws_sdk_dynamodb::types::{BillingMode, PointInTimeRecoveryStatus, SseStatus, TableStatus};
use serde::Deserialize;

use super::{table_name, table_resource};
use crate::checks::aws::{
    AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw,
};
use crate::checks::{Assertion, Evidence, Probe, ProbeContext};
use crate::redact::Redactor;

/// Keys of a `dynamodb_table` check table besides `kind`, `timeout`, `retries` and `interval`.
pub const TABLE_CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "table", "expect"];
/// Keys of a `dynamodb_table` check's `expect` table.
pub const TABLE_EXPECT_KEYS: &[&str] = &["pitr", "encryption", "billing_mode", "indexes"];

/// Billing mode of a table as written in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum BillingModeSetting {
    #[serde(rename = "PAY_PER_REQUEST")]
    PayPerRequest,
    #[serde(rename = "PROVISIONED")]
    Provisioned,
}

impl BillingModeSetting {
    fn as_str(self) -> &'static str {
        match self {
            BillingModeSetting::PayPerRequest => "PAY_PER_REQUEST",
            BillingModeSetting::Provisioned => "PROVISIONED",
        }
    }
}

/// Settings of a `dynamodb_table` check.
#[derive(Debug, Clone)]
pub struct TableCheck {
    pub target: AwsTarget,
    pub table: String,
    pub expect: TableExpect,
}

/// Expectations of a `dynamodb_table` check, besides the table being ACTIVE.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableExpect {
    /// Required point-in-time recovery state.
    #[serde(default)]
    pub pitr: Option<bool>,
    /// Required state of encryption with a KMS key (`SSEDescription.Status` is `ENABLED`).
    #[serde(default)]
    pub encryption: Option<bool>,
    #[serde(default)]
    pub billing_mode: Option<BillingModeSetting>,
    /// Global secondary indexes that must exist.
    #[serde(default)]
    pub indexes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTableCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    table: String,
    #[serde(default)]
    expect: TableExpect,
}

impl<'de> Deserialize<'de> for TableCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawTableCheck::deserialize(deserializer)?;
        Ok(TableCheck {
            target: target_from_raw(RawTarget {
                region: raw.region,
                profile: raw.profile,
                endpoint_url: raw.endpoint_url,
            })?,
            table: table_name(raw.table)?,
            expect: raw.expect,
        })
    }
}

impl TableCheck {
    /// Describes the table, and its continuous backups when `expect.pitr` is set.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::dynamodb(&self.target, ctx.timeout).await;
        let resource = table_resource(&self.table);
        let call = |operation| CallContext {
            service: "DynamoDB",
            operation,
            resource: &resource,
            target: &self.target,
        };
        let output = match client.describe_table().table_name(&self.table).send().await {
            Ok(output) => output,
            Err(err) => return error_probe(&err, call("DescribeTable")),
        };
        let Some(table) = output.table() else {
            return Probe::error(format!(
                "DynamoDB DescribeTable returned no description of {resource} in {}",
                self.target
            ));
        };

        let mut evidence = Evidence::default();
        evidence.request.push(format!(
            "DynamoDB DescribeTable {} in {}",
            self.table, self.target
        ));
        let status = table.table_status().map_or("unknown", TableStatus::as_str);
        evidence.assertions.push(Assertion {
            subject: "table status".into(),
            expected: "ACTIVE".into(),
            actual: status.into(),
            passed: status == "ACTIVE",
        });

        if let Some(expected) = self.expect.pitr {
            let backups = match client
                .describe_continuous_backups()
                .table_name(&self.table)
                .send()
                .await
            {
                Ok(output) => output,
                Err(err) => return error_probe(&err, call("DescribeContinuousBackups")),
            };
            evidence.request.push(format!(
                "DynamoDB DescribeContinuousBackups {} in {}",
                self.table, self.target
            ));
            let pitr = backups
                .continuous_backups_description()
                .and_then(|description| description.point_in_time_recovery_description())
                .and_then(|description| description.point_in_time_recovery_status())
                .map_or("unknown", PointInTimeRecoveryStatus::as_str);
            evidence.assertions.push(Assertion {
                subject: "point-in-time recovery".into(),
                expected: enabled_text(expected).into(),
                actual: pitr.into(),
                passed: (pitr == "ENABLED") == expected,
            });
        }

        if let Some(expected) = self.expect.encryption {
            // A table without SSEDescription is encrypted with an AWS owned key, which AWS
            // reports as no server-side encryption setting.
            let sse = table
                .sse_description()
                .and_then(|description| description.status())
                .map_or("AWS owned key", SseStatus::as_str);
            evidence.assertions.push(Assertion {
                subject: "encryption with a KMS key".into(),
                expected: enabled_text(expected).into(),
                actual: sse.into(),
                passed: (sse == "ENABLED") == expected,
            });
        }

        if let Some(expected) = self.expect.billing_mode {
            // Tables created before on-demand billing existed carry no BillingModeSummary and
            // are provisioned.
            let mode = table
                .billing_mode_summary()
                .and_then(|summary| summary.billing_mode())
                .map_or("PROVISIONED", BillingMode::as_str);
            evidence.assertions.push(Assertion {
                subject: "billing mode".into(),
                expected: expected.as_str().into(),
                actual: mode.into(),
                passed: mode == expected.as_str(),
            });
        }

        let present: Vec<&str> = table
            .global_secondary_indexes()
            .iter()
            .filter_map(|index| index.index_name())
            .collect();
        for index in &self.expect.indexes {
            let found = present.contains(&index.as_str());
            evidence.assertions.push(Assertion {
                subject: format!("index {}", shown_text(index, &ctx.redactor)),
                expected: "present".into(),
                actual: if found { "present" } else { "missing" }.into(),
                passed: found,
            });
        }
        if !present.is_empty() {
            evidence.notes.push(format!(
                "global secondary indexes: {}",
                shown_text(&present.join(", "), &ctx.redactor)
            ));
        }
        Probe::from_assertions(evidence)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push(("table".into(), shown_text(&self.table, redactor)));
        lines.push(("expect status".into(), "ACTIVE".into()));
        if let Some(pitr) = self.expect.pitr {
            lines.push((
                "expect point-in-time recovery".into(),
                enabled_text(pitr).into(),
            ));
        }
        if let Some(encryption) = self.expect.encryption {
            let text = enabled_text(encryption);
            lines.push(("expect encryption with a KMS key".into(), text.into()));
        }
        if let Some(mode) = self.expect.billing_mode {
            lines.push(("expect billing mode".into(), mode.as_str().into()));
        }
        if !self.expect.indexes.is_empty() {
            let indexes = shown_text(&self.expect.indexes.join(", "), redactor);
            lines.push(("expect indexes".into(), indexes));
        }
        lines
    }
}

fn enabled_text(enabled: bool) -> &'static str {
    if enabled { "ENABLED" } else { "DISABLED" }
}
