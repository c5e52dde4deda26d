//! The DynamoDB check kinds: `dynamodb_table` (a table's status, backups, encryption, billing
//! mode and indexes), `dynamodb_item` (attributes of one item read by its key) and
//! `dynamodb_count` (the number of items a scan or query matches).

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, PointInTimeRecoveryStatus, SseStatus, TableStatus,
};
use serde::Deserialize;

use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{Assertion, Evidence, Probe, ProbeContext};
use crate::redact::Redactor;

/// Keys of a `dynamodb_table` check table besides `kind`, `timeout`, `retries` and `interval`.
pub const TABLE_CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "table", "expect"];
/// Keys of a `dynamodb_table` check's `expect` table.
pub const TABLE_EXPECT_KEYS: &[&str] = &["pitr", "encryption", "billing_mode", "indexes"];
/// Keys of a `dynamodb_item` check table besides `kind`, `timeout`, `retries` and `interval`.
pub const ITEM_CHECK_KEYS: &[&str] = &[
    "region",
    "profile",
    "endpoint_url",
    "table",
    "key",
    "consistent_read",
    "expect",
];
/// Keys of a `dynamodb_item` check's `expect` table.
pub const ITEM_EXPECT_KEYS: &[&str] = &["attributes"];
/// Keys of a `dynamodb_count` check table besides `kind`, `timeout`, `retries` and `interval`.
pub const COUNT_CHECK_KEYS: &[&str] = &[
    "region",
    "profile",
    "endpoint_url",
    "table",
    "index",
    "key_condition",
    "filter",
    "names",
    "values",
    "expect",
];
/// Keys of a `dynamodb_count` check's `expect` table.
pub const COUNT_EXPECT_KEYS: &[&str] = &["min", "max"];

/// An attribute value as written in the checklist: a string, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AttributeSetting {
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
}

impl AttributeSetting {
    /// Converts the value to DynamoDB's type: `S` for strings, `N` for numbers, `BOOL`.
    pub fn to_attribute_value(&self) -> AttributeValue {
        match self {
            AttributeSetting::Bool(value) => AttributeValue::Bool(*value),
            AttributeSetting::Integer(value) => AttributeValue::N(value.to_string()),
            AttributeSetting::Float(value) => AttributeValue::N(value.to_string()),
            AttributeSetting::String(value) => AttributeValue::S(value.clone()),
        }
    }

    /// Returns whether a stored value equals this one; numbers compare by value, so `N "1.0"`
    /// equals `1`.
    fn matches(&self, actual: &AttributeValue) -> bool {
        match (self, actual) {
            (AttributeSetting::Bool(expected), AttributeValue::Bool(value)) => expected == value,
            (AttributeSetting::String(expected), AttributeValue::S(value)) => expected == value,
            (AttributeSetting::Integer(expected), AttributeValue::N(value)) => {
                value.trim() == expected.to_string()
                    || parse_number(value) == Some(*expected as f64)
            }
            (AttributeSetting::Float(expected), AttributeValue::N(value)) => {
                parse_number(value) == Some(*expected)
            }
            _ => false,
        }
    }

    fn shown(&self, redactor: &Redactor) -> String {
        match self {
            AttributeSetting::Bool(value) => value.to_string(),
            AttributeSetting::Integer(value) => value.to_string(),
            AttributeSetting::Float(value) => value.to_string(),
            AttributeSetting::String(value) => format!("\"{}\"", shown_text(value, redactor)),
        }
    }
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// Returns a stored attribute value for evidence: strings, numbers and booleans as values,
/// other types by their type name only.
fn shown_attribute(value: &AttributeValue, redactor: &Redactor) -> String {
    match value {
        AttributeValue::S(text) => format!("\"{}\"", shown_text(text, redactor)),
        AttributeValue::N(number) => shown_text(number, redactor),
        AttributeValue::Bool(flag) => flag.to_string(),
        AttributeValue::Null(_) => "null".into(),
        AttributeValue::B(_) => "a binary value".into(),
        AttributeValue::L(_) => "a list".into(),
        AttributeValue::M(_) => "a map".into(),
        AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_) => "a set".into(),
        _ => "a value of an unknown type".into(),
    }
}

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

fn table_name<E: serde::de::Error>(name: String) -> Result<String, E> {
    if name.trim().is_empty() {
        return Err(E::custom("`table` is empty"));
    }
    Ok(name)
}

fn table_resource(table: &str) -> String {
    format!("table {table}")
}

impl TableCheck {
    /// Describes the table, and its continuous backups when `expect.pitr` is set.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::dynamodb(&self.target).await;
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

    /// The settings as label/value lines for the detail pane.
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

/// Settings of a `dynamodb_item` check.
#[derive(Debug, Clone)]
pub struct ItemCheck {
    pub target: AwsTarget,
    pub table: String,
    /// The item's primary key: the partition key and, for a composite key, the sort key.
    pub key: BTreeMap<String, AttributeSetting>,
    pub consistent_read: bool,
    /// Attributes the item must have, with their values. Only these are shown in evidence.
    pub attributes: BTreeMap<String, AttributeSetting>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItemCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    table: String,
    key: BTreeMap<String, AttributeSetting>,
    #[serde(default)]
    consistent_read: bool,
    #[serde(default)]
    expect: ItemExpect,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemExpect {
    #[serde(default)]
    attributes: BTreeMap<String, AttributeSetting>,
}

impl<'de> Deserialize<'de> for ItemCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawItemCheck::deserialize(deserializer)?;
        if raw.key.is_empty() || raw.key.len() > 2 {
            return Err(D::Error::custom(
                "`key` must name the partition key and, for a composite key, the sort key",
            ));
        }
        Ok(ItemCheck {
            target: target_from_raw(RawTarget {
                region: raw.region,
                profile: raw.profile,
                endpoint_url: raw.endpoint_url,
            })?,
            table: table_name(raw.table)?,
            key: raw.key,
            consistent_read: raw.consistent_read,
            attributes: raw.expect.attributes,
        })
    }
}

impl ItemCheck {
    /// Reads the item with GetItem, projecting only the expected attributes.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::dynamodb(&self.target).await;
        let key_text = self.key_text(&ctx.redactor);
        let resource = format!("item {key_text} of table {}", self.table);
        let mut request = client
            .get_item()
            .table_name(&self.table)
            .consistent_read(self.consistent_read);
        for (name, value) in &self.key {
            request = request.key(name, value.to_attribute_value());
        }
        // Projecting the expected attributes keeps every other attribute value out of memory,
        // logs and evidence. Placeholders avoid clashes with DynamoDB's reserved words.
        if !self.attributes.is_empty() {
            let mut placeholders = Vec::new();
            for (position, name) in self.attributes.keys().enumerate() {
                let placeholder = format!("#a{position}");
                request = request.expression_attribute_names(&placeholder, name);
                placeholders.push(placeholder);
            }
            request = request.projection_expression(placeholders.join(", "));
        }
        let output = match request.send().await {
            Ok(output) => output,
            Err(err) => {
                let call = CallContext {
                    service: "DynamoDB",
                    operation: "GetItem",
                    resource: &resource,
                    target: &self.target,
                };
                return error_probe(&err, call);
            }
        };

        let mut evidence = Evidence::default();
        evidence.request.push(format!(
            "DynamoDB GetItem {} key {key_text} in {}",
            self.table, self.target
        ));
        let Some(item) = output.item() else {
            evidence.assertions.push(Assertion {
                subject: "item".into(),
                expected: "exists".into(),
                actual: "not found".into(),
                passed: false,
            });
            return Probe::from_assertions(evidence);
        };
        evidence.assertions.push(Assertion {
            subject: "item".into(),
            expected: "exists".into(),
            actual: "exists".into(),
            passed: true,
        });
        for (name, expected) in &self.attributes {
            let actual = item.get(name);
            evidence.assertions.push(Assertion {
                subject: format!("attribute {}", shown_text(name, &ctx.redactor)),
                expected: expected.shown(&ctx.redactor),
                actual: actual.map_or_else(
                    || "missing".to_string(),
                    |value| shown_attribute(value, &ctx.redactor),
                ),
                passed: actual.is_some_and(|value| expected.matches(value)),
            });
        }
        Probe::from_assertions(evidence)
    }

    fn key_text(&self, redactor: &Redactor) -> String {
        let parts: Vec<String> = self
            .key
            .iter()
            .map(|(name, value)| {
                format!("{}={}", shown_text(name, redactor), value.shown(redactor))
            })
            .collect();
        parts.join(", ")
    }

    /// The settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push(("table".into(), shown_text(&self.table, redactor)));
        lines.push(("key".into(), self.key_text(redactor)));
        if self.consistent_read {
            lines.push(("consistent read".into(), "yes".into()));
        }
        for (name, value) in &self.attributes {
            let label = format!("expect attribute {}", shown_text(name, redactor));
            lines.push((label, value.shown(redactor)));
        }
        lines
    }
}

/// Settings of a `dynamodb_count` check.
#[derive(Debug, Clone)]
pub struct CountCheck {
    pub target: AwsTarget,
    pub table: String,
    /// Secondary index to scan or query instead of the table.
    pub index: Option<String>,
    /// KeyConditionExpression; when set the check queries, otherwise it scans.
    pub key_condition: Option<String>,
    /// FilterExpression applied to the items read.
    pub filter: Option<String>,
    /// ExpressionAttributeNames, such as `{ "#s" = "status" }`.
    pub names: BTreeMap<String, String>,
    /// ExpressionAttributeValues, such as `{ ":s" = "active" }`.
    pub values: BTreeMap<String, AttributeSetting>,
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCountCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    table: String,
    #[serde(default)]
    index: Option<String>,
    #[serde(default)]
    key_condition: Option<String>,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    names: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, AttributeSetting>,
    expect: CountExpect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountExpect {
    #[serde(default)]
    min: Option<u64>,
    #[serde(default)]
    max: Option<u64>,
}

impl<'de> Deserialize<'de> for CountCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawCountCheck::deserialize(deserializer)?;
        let (min, max) = (raw.expect.min, raw.expect.max);
        if min.is_none() && max.is_none() {
            return Err(D::Error::custom("set `expect.min`, `expect.max` or both"));
        }
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            return Err(D::Error::custom(format!(
                "`expect.min` ({min}) is greater than `expect.max` ({max})"
            )));
        }
        Ok(CountCheck {
            target: target_from_raw(RawTarget {
                region: raw.region,
                profile: raw.profile,
                endpoint_url: raw.endpoint_url,
            })?,
            table: table_name(raw.table)?,
            index: raw.index.filter(|index| !index.trim().is_empty()),
            key_condition: raw.key_condition.filter(|text| !text.trim().is_empty()),
            filter: raw.filter.filter(|text| !text.trim().is_empty()),
            names: raw.names,
            values: raw.values,
            min,
            max,
        })
    }
}

impl CountCheck {
    /// Counts the matching items with `Select = COUNT`, following every page.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::dynamodb(&self.target).await;
        let resource = match &self.index {
            Some(index) => format!("index {index} of table {}", self.table),
            None => table_resource(&self.table),
        };
        let operation = if self.key_condition.is_some() {
            "Query"
        } else {
            "Scan"
        };
        let (count, pages) = match self.count(&client).await {
            Ok(counted) => counted,
            Err(probe) => {
                let call = CallContext {
                    service: "DynamoDB",
                    operation,
                    resource: &resource,
                    target: &self.target,
                };
                return probe.into_probe(call);
            }
        };

        let mut evidence = Evidence::default();
        evidence.request.push(format!(
            "DynamoDB {operation} {} with Select COUNT in {}",
            shown_text(&resource, &ctx.redactor),
            self.target
        ));
        evidence.notes.push(format!("{pages} pages read"));
        if let Some(min) = self.min {
            evidence.assertions.push(Assertion {
                subject: "item count".into(),
                expected: format!("at least {min}"),
                actual: count.to_string(),
                passed: count >= min,
            });
        }
        if let Some(max) = self.max {
            evidence.assertions.push(Assertion {
                subject: "item count".into(),
                expected: format!("at most {max}"),
                actual: count.to_string(),
                passed: count <= max,
            });
        }
        Probe::from_assertions(evidence)
    }

    /// Returns the item count and the number of pages read.
    async fn count(&self, client: &aws_sdk_dynamodb::Client) -> Result<(u64, u64), CountError> {
        let names = (!self.names.is_empty()).then(|| self.names.clone().into_iter().collect());
        let values = (!self.values.is_empty()).then(|| {
            self.values
                .iter()
                .map(|(name, value)| (name.clone(), value.to_attribute_value()))
                .collect()
        });
        let mut total: u64 = 0;
        let mut pages: u64 = 0;
        let mut start_key = None;
        loop {
            let (count, last_key) = match &self.key_condition {
                Some(condition) => {
                    let output = client
                        .query()
                        .table_name(&self.table)
                        .set_index_name(self.index.clone())
                        .key_condition_expression(condition)
                        .set_filter_expression(self.filter.clone())
                        .set_expression_attribute_names(names.clone())
                        .set_expression_attribute_values(values.clone())
                        .select(aws_sdk_dynamodb::types::Select::Count)
                        .set_exclusive_start_key(start_key)
                        .send()
                        .await
                        .map_err(CountError::Query)?;
                    (output.count(), output.last_evaluated_key().cloned())
                }
                None => {
                    let output = client
                        .scan()
                        .table_name(&self.table)
                        .set_index_name(self.index.clone())
                        .set_filter_expression(self.filter.clone())
                        .set_expression_attribute_names(names.clone())
                        .set_expression_attribute_values(values.clone())
                        .select(aws_sdk_dynamodb::types::Select::Count)
                        .set_exclusive_start_key(start_key)
                        .send()
                        .await
                        .map_err(CountError::Scan)?;
                    (output.count(), output.last_evaluated_key().cloned())
                }
            };
            total += u64::try_from(count).unwrap_or(0);
            pages += 1;
            match last_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return Ok((total, pages)),
            }
        }
    }

    /// The settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push(("table".into(), shown_text(&self.table, redactor)));
        if let Some(index) = &self.index {
            lines.push(("index".into(), shown_text(index, redactor)));
        }
        if let Some(condition) = &self.key_condition {
            lines.push(("key condition".into(), shown_text(condition, redactor)));
        }
        if let Some(filter) = &self.filter {
            lines.push(("filter".into(), shown_text(filter, redactor)));
        }
        for (name, value) in &self.values {
            lines.push((
                format!("value {}", shown_text(name, redactor)),
                value.shown(redactor),
            ));
        }
        if let Some(min) = self.min {
            lines.push(("expect count at least".into(), min.to_string()));
        }
        if let Some(max) = self.max {
            lines.push(("expect count at most".into(), max.to_string()));
        }
        lines
    }
}

/// A failed page of a count, by operation.
enum CountError {
    Query(aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::query::QueryError>),
    Scan(aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::scan::ScanError>),
}

impl CountError {
    fn into_probe(self, call: CallContext<'_>) -> Probe {
        match self {
            CountError::Query(err) => error_probe(&err, call),
            CountError::Scan(err) => error_probe(&err, call),
        }
    }
}
