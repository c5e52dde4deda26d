//! The `dynamodb_item` check kind: attributes of one item read by its key.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{AttributeSetting, shown_attribute, table_name};
use crate::checks::aws::{
    AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw,
};
use crate::checks::{Assertion, Evidence, Probe, ProbeContext};
use crate::redact::Redactor;

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
        let client = client::dynamodb(&self.target, ctx.timeout).await;
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

    /// Returns the settings as label/value lines for the detail pane.
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
