//! The `sns_topic` check kind: an SNS topic that exists and has confirmed subscriptions.
//!
//! The topic is named by its ARN, which identifies it without a ListTopics scan. One paginated
//! ListSubscriptionsByTopic call both proves that the topic exists (an unknown topic is a
//! `NotFound` error) and lists its subscriptions.

use serde::Deserialize;

use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext,
};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "topic_arn", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["min_subscriptions", "protocols"];

/// Subscription protocols SNS accepts, as written in the checklist.
const PROTOCOLS: &[&str] = &[
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
];

/// Settings of an `sns_topic` check.
#[derive(Debug, Clone)]
pub struct TopicCheck {
    pub target: AwsTarget,
    pub topic_arn: String,
    pub expect: TopicExpect,
}

/// Expectations of an `sns_topic` check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicExpect {
    /// Minimum number of confirmed subscriptions.
    pub min_subscriptions: u32,
    /// Protocols that each need at least one confirmed subscription, such as `email`.
    pub protocols: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopicExpect {
    #[serde(default)]
    min_subscriptions: Option<u32>,
    #[serde(default)]
    protocols: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopicCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    topic_arn: String,
    #[serde(default)]
    expect: Option<RawTopicExpect>,
}

impl<'de> Deserialize<'de> for TopicCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawTopicCheck::deserialize(deserializer)?;
        let target = target_from_raw(RawTarget {
            region: raw.region,
            profile: raw.profile,
            endpoint_url: raw.endpoint_url,
        })?;
        let topic_arn = raw.topic_arn.trim().to_string();
        if !topic_arn.starts_with("arn:") || !topic_arn.contains(":sns:") {
            return Err(D::Error::custom(format!(
                "invalid `topic_arn` `{topic_arn}`: expected a topic ARN such as \
                 `arn:aws:sns:af-south-1:123456789012:alerts`"
            )));
        }
        let (min_subscriptions, protocols) = match raw.expect {
            Some(expect) => (expect.min_subscriptions, expect.protocols),
            None => (None, Vec::new()),
        };
        let protocols: Vec<String> = protocols
            .iter()
            .map(|protocol| protocol.trim().to_string())
            .collect();
        if let Some(unknown) = protocols
            .iter()
            .find(|protocol| !PROTOCOLS.contains(&protocol.as_str()))
        {
            return Err(D::Error::custom(format!(
                "unknown protocol `{unknown}` in `expect.protocols`; valid protocols: {}",
                PROTOCOLS.join(", ")
            )));
        }
        Ok(TopicCheck {
            target,
            topic_arn,
            expect: TopicExpect {
                min_subscriptions: min_subscriptions.unwrap_or(1),
                protocols,
            },
        })
    }
}

/// One subscription as the check shows it. The endpoint is left out because webhook URLs can
/// carry integration keys, and email addresses and phone numbers are personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SubscriptionView {
    /// The subscription ARN, or SNS's status text such as `PendingConfirmation`.
    arn: String,
    protocol: String,
}

impl SubscriptionView {
    /// Returns whether the subscription is confirmed. SNS lists an unconfirmed subscription
    /// with `PendingConfirmation` (or `Deleted`) in place of its ARN.
    fn confirmed(&self) -> bool {
        self.arn.starts_with("arn:")
    }
}

impl TopicCheck {
    /// Lists the topic's subscriptions and counts the confirmed ones.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::sns(&self.target, ctx.timeout).await;
        let resource = format!("topic {}", self.topic_arn);
        let call = CallContext {
            service: "SNS",
            operation: "ListSubscriptionsByTopic",
            resource: &resource,
            target: &self.target,
        };
        let mut subscriptions = Vec::new();
        let mut pages = client
            .list_subscriptions_by_topic()
            .topic_arn(&self.topic_arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(err) => return error_probe(&err, call),
            };
            subscriptions.extend(page.subscriptions().iter().map(|subscription| {
                SubscriptionView {
                    arn: subscription.subscription_arn().unwrap_or_default().into(),
                    protocol: subscription.protocol().unwrap_or_default().into(),
                }
            }));
        }
        self.evaluate(&subscriptions, &ctx.redactor)
    }

    fn evaluate(&self, subscriptions: &[SubscriptionView], redactor: &Redactor) -> Probe {
        let mut evidence = Evidence::default();
        evidence.request.push(format!(
            "SNS ListSubscriptionsByTopic {} in {}",
            shown_text(&self.topic_arn, redactor),
            self.target
        ));
        let confirmed = subscriptions.iter().filter(|sub| sub.confirmed()).count();
        let pending = subscriptions.len() - confirmed;
        let minimum = self.expect.min_subscriptions;
        evidence.assertions.push(Assertion {
            subject: "confirmed subscriptions".into(),
            expected: format!("at least {minimum}"),
            actual: if pending == 0 {
                confirmed.to_string()
            } else {
                format!("{confirmed} ({pending} pending confirmation, not counted)")
            },
            passed: confirmed >= minimum as usize,
        });
        for protocol in &self.expect.protocols {
            let count = subscriptions
                .iter()
                .filter(|sub| sub.confirmed() && &sub.protocol == protocol)
                .count();
            evidence.assertions.push(Assertion {
                subject: format!("confirmed {protocol} subscriptions"),
                expected: "at least 1".into(),
                actual: count.to_string(),
                passed: count >= 1,
            });
        }

        let mut table = EvidenceTable {
            title: "subscriptions".into(),
            columns: vec!["protocol".into(), "status".into()],
            rows: Vec::new(),
        };
        for subscription in subscriptions {
            let confirmed = subscription.confirmed();
            // The last part of a subscription ARN is its id; unconfirmed ones have no id yet.
            let label = if confirmed {
                subscription.arn.rsplit(':').next().unwrap_or_default()
            } else {
                "(no id yet)"
            };
            let status = if confirmed {
                "confirmed".to_string()
            } else {
                shown_text(&subscription.arn, redactor)
            };
            table.rows.push(EvidenceRow {
                label: shown_text(label, redactor),
                cells: vec![
                    EvidenceCell {
                        text: shown_text(&subscription.protocol, redactor),
                        passed: None,
                    },
                    EvidenceCell {
                        text: status,
                        passed: Some(confirmed),
                    },
                ],
            });
        }
        evidence.tables.push(table);
        evidence.notes.push(
            "subscriptions pending confirmation are not counted; endpoints are not shown".into(),
        );
        Probe::from_assertions(evidence)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push(("topic".into(), shown_text(&self.topic_arn, redactor)));
        lines.push((
            "expect confirmed subscriptions".into(),
            format!("at least {}", self.expect.min_subscriptions),
        ));
        if !self.expect.protocols.is_empty() {
            lines.push(("expect protocols".into(), self.expect.protocols.join(", ")));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expect: &str) -> TopicCheck {
        let settings = format!(
            "region = \"eu-west-1\"\ntopic_arn = \"arn:aws:sns:eu-west-1:123456789012:alerts\"\n\
             {expect}"
        );
        let table: toml::Table = toml::from_str(&settings).unwrap();
        crate::checks::deserialize_settings(table).unwrap()
    }

    fn subscription(arn: &str, protocol: &str) -> SubscriptionView {
        SubscriptionView {
            arn: arn.into(),
            protocol: protocol.into(),
        }
    }

    #[test]
    fn pending_subscription_is_not_counted() {
        let check = check("");
        let subscriptions = [subscription("PendingConfirmation", "email")];

        let probe = check.evaluate(&subscriptions, &Redactor::new());

        assert_eq!(probe.outcome, crate::checks::Outcome::Fail);
        assert_eq!(
            probe.summary,
            "confirmed subscriptions: expected at least 1, got 0 (1 pending confirmation, not \
             counted)"
        );
        assert_eq!(probe.evidence.tables[0].rows[0].label, "(no id yet)");
        assert_eq!(
            probe.evidence.tables[0].rows[0].cells[1].text,
            "PendingConfirmation"
        );
    }

    #[test]
    fn protocol_needs_confirmed_subscription() {
        let check = check("expect = { protocols = [\"email\"] }");
        let subscriptions = [
            subscription("arn:aws:sns:eu-west-1:123456789012:alerts:4f1c", "sqs"),
            subscription("PendingConfirmation", "email"),
        ];

        let probe = check.evaluate(&subscriptions, &Redactor::new());

        assert_eq!(
            probe.summary,
            "confirmed email subscriptions: expected at least 1, got 0"
        );
        assert_eq!(probe.evidence.tables[0].rows[0].label, "4f1c");
    }
}
