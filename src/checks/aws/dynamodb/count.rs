//! The `dynamodb_count` check kind: the number of items a scan or query matches.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{AttributeSetting, table_name, table_resource};
use crate::checks::aws::{
    AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw,
};
use crate::checks::{Assertion, Evidence, Probe, ProbeContext};
use crate::redact::Redactor;

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
        let client = client::dynamodb(&self.target, ctx.timeout).await;
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
        evidence
            .notes
            .push(format!("{} read", crate::plural(pages, "page", "pages")));
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

    /// Returns the settings as label/value lines for the detail pane.
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
