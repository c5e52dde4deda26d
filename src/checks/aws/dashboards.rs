//! The `cloudwatch_dashboards` check kind: CloudWatch dashboards that must exist and, when
//! `expect.namespaces` is set, show metrics of the given namespaces.
//!
//! One paginated ListDashboards call finds the dashboards. With `expect.namespaces`, one
//! GetDashboard call per dashboard reads its body, a JSON document whose metric widgets list
//! their metrics as arrays that start with the namespace.

use std::collections::BTreeSet;

use aws_sdk_cloudwatch::primitives::DateTimeFormat;
use serde::Deserialize;
use serde_json::Value;

use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext,
};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "names", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["namespaces"];

/// ListDashboards pages read before the listing stops; a page holds up to 1000 dashboards.
const MAX_PAGES: usize = 100;
/// Largest dashboard body the check parses. CloudWatch limits a body to 1 MB.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Widgets read per dashboard, and metrics read per widget, so a hostile body stays cheap.
const MAX_WIDGETS: usize = 500;
const MAX_METRICS_PER_WIDGET: usize = 500;

/// Settings of a `cloudwatch_dashboards` check.
#[derive(Debug, Clone)]
pub struct DashboardsCheck {
    pub target: AwsTarget,
    /// Dashboards that must all exist.
    pub names: Vec<String>,
    /// Metric namespaces each dashboard must show, such as `AWS/Lambda`.
    pub namespaces: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDashboardsCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    names: Vec<String>,
    #[serde(default)]
    expect: DashboardsExpect,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DashboardsExpect {
    #[serde(default)]
    namespaces: Vec<String>,
}

impl<'de> Deserialize<'de> for DashboardsCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawDashboardsCheck::deserialize(deserializer)?;
        if raw.names.is_empty() {
            return Err(D::Error::custom(
                "`names` is empty; list at least one dashboard",
            ));
        }
        if raw.names.iter().any(|name| name.trim().is_empty()) {
            return Err(D::Error::custom("`names` contains an empty dashboard name"));
        }
        if raw
            .expect
            .namespaces
            .iter()
            .any(|namespace| namespace.trim().is_empty())
        {
            return Err(D::Error::custom(
                "`expect.namespaces` contains an empty namespace; write them like \"AWS/Lambda\"",
            ));
        }
        Ok(DashboardsCheck {
            target: target_from_raw(RawTarget {
                region: raw.region,
                profile: raw.profile,
                endpoint_url: raw.endpoint_url,
            })?,
            names: raw.names,
            namespaces: raw.expect.namespaces,
        })
    }
}

/// The fields of a listed dashboard that the evidence shows.
#[derive(Debug, Clone)]
struct DashboardView {
    name: String,
    last_modified: Option<String>,
    size: Option<i64>,
}

impl DashboardsCheck {
    /// Lists the dashboards, then reads the bodies of the named ones when namespaces are
    /// expected.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::cloudwatch(&self.target, ctx.timeout).await;
        let resource = format!("dashboards {}", self.names.join(", "));
        let list_call = CallContext {
            service: "CloudWatch",
            operation: "ListDashboards",
            resource: &resource,
            target: &self.target,
        };
        let listed = match list_dashboards(&client).await {
            Ok(listed) => listed,
            Err(err) => return error_probe(&err, list_call),
        };

        let mut evidence = Evidence::default();
        evidence
            .request
            .push(format!("CloudWatch ListDashboards in {}", self.target));
        let mut table = EvidenceTable {
            title: "dashboards".into(),
            columns: vec!["exists".into(), "last modified".into(), "size".into()],
            rows: Vec::new(),
        };
        if !self.namespaces.is_empty() {
            table.columns.push("namespaces".into());
        }
        for name in &self.names {
            let shown_name = shown_text(name, &ctx.redactor);
            let found = listed.iter().find(|dashboard| &dashboard.name == name);
            evidence.assertions.push(Assertion {
                subject: format!("dashboard {shown_name} exists"),
                expected: "exists".into(),
                actual: if found.is_some() {
                    "exists"
                } else {
                    "not found"
                }
                .into(),
                passed: found.is_some(),
            });
            let mut cells = vec![
                EvidenceCell {
                    text: if found.is_some() { "yes" } else { "no" }.into(),
                    passed: Some(found.is_some()),
                },
                EvidenceCell {
                    text: found
                        .and_then(|dashboard| dashboard.last_modified.clone())
                        .unwrap_or_else(|| "unknown".into()),
                    passed: None,
                },
                EvidenceCell {
                    text: found
                        .and_then(|dashboard| dashboard.size)
                        .map_or_else(|| "unknown".into(), |size| format!("{size} bytes")),
                    passed: None,
                },
            ];
            if found.is_some() && !self.namespaces.is_empty() {
                evidence
                    .request
                    .push(format!("CloudWatch GetDashboard {shown_name}"));
                let shown = match self.dashboard_namespaces(&client, name, ctx).await {
                    Ok(shown) => shown,
                    Err(probe) => return *probe,
                };
                let missing = self.add_namespace_assertions(&shown_name, &shown, &mut evidence);
                let listed_namespaces: Vec<&str> = shown.iter().map(String::as_str).collect();
                let text = if listed_namespaces.is_empty() {
                    "none".to_string()
                } else {
                    shown_text(&listed_namespaces.join(", "), &ctx.redactor)
                };
                cells.push(EvidenceCell {
                    text,
                    passed: Some(!missing),
                });
            } else if !self.namespaces.is_empty() {
                cells.push(EvidenceCell {
                    text: "not read".into(),
                    passed: None,
                });
            }
            table.rows.push(EvidenceRow {
                label: shown_name,
                cells,
            });
        }
        evidence.tables.push(table);
        Probe::from_assertions(evidence)
    }

    /// Reads one dashboard's body and returns the namespaces of its metrics, or the error
    /// probe.
    async fn dashboard_namespaces(
        &self,
        client: &aws_sdk_cloudwatch::Client,
        name: &str,
        ctx: &ProbeContext,
    ) -> Result<BTreeSet<String>, Box<Probe>> {
        let resource = format!("dashboard {name}");
        let call = CallContext {
            service: "CloudWatch",
            operation: "GetDashboard",
            resource: &resource,
            target: &self.target,
        };
        let output = client
            .get_dashboard()
            .dashboard_name(name)
            .send()
            .await
            .map_err(|err| Box::new(error_probe(&err, call)))?;
        let body = output.dashboard_body().unwrap_or("{}");
        body_namespaces(body).map_err(|message| {
            Box::new(Probe::error(format!(
                "the body of dashboard {} in {} {message}",
                shown_text(name, &ctx.redactor),
                self.target
            )))
        })
    }

    /// Adds one assertion per expected namespace and returns whether any is missing.
    fn add_namespace_assertions(
        &self,
        shown_name: &str,
        shown: &BTreeSet<String>,
        evidence: &mut Evidence,
    ) -> bool {
        let mut missing = false;
        for namespace in &self.namespaces {
            let present = shown.contains(namespace);
            missing |= !present;
            evidence.assertions.push(Assertion {
                subject: format!("dashboard {shown_name} namespace {namespace}"),
                expected: "present".into(),
                actual: if present { "present" } else { "missing" }.into(),
                passed: present,
            });
        }
        missing
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push((
            "dashboards".into(),
            shown_text(&self.names.join(", "), redactor),
        ));
        if !self.namespaces.is_empty() {
            lines.push((
                "expect namespaces".into(),
                shown_text(&self.namespaces.join(", "), redactor),
            ));
        }
        lines
    }
}

async fn list_dashboards(
    client: &aws_sdk_cloudwatch::Client,
) -> Result<
    Vec<DashboardView>,
    aws_sdk_cloudwatch::error::SdkError<
        aws_sdk_cloudwatch::operation::list_dashboards::ListDashboardsError,
    >,
> {
    let mut dashboards = Vec::new();
    let mut pages = client.list_dashboards().into_paginator().send();
    let mut read = 0;
    while let Some(page) = pages.next().await {
        let page = page?;
        dashboards.extend(page.dashboard_entries().iter().map(|entry| {
            DashboardView {
                name: entry.dashboard_name().unwrap_or_default().to_string(),
                last_modified: entry
                    .last_modified()
                    .and_then(|time| time.fmt(DateTimeFormat::DateTime).ok()),
                size: entry.size(),
            }
        }));
        read += 1;
        // NOTE: a dashboard beyond the last page read counts as not found.
        if read >= MAX_PAGES {
            break;
        }
    }
    Ok(dashboards)
}

/// Returns the namespaces of the metrics in a dashboard body, or why the body cannot be read.
///
/// A metric widget lists `properties.metrics` as arrays such as
/// `["AWS/Lambda", "Errors", "FunctionName", "f"]`, where `"."` or `"..."` repeats the previous
/// array's values. A SEARCH expression names its namespace as `{AWS/Lambda,FunctionName}`.
pub fn body_namespaces(body: &str) -> Result<BTreeSet<String>, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!(
            "is {} bytes, more than the {MAX_BODY_BYTES} bytes the check reads",
            body.len()
        ));
    }
    let document: Value =
        serde_json::from_str(body).map_err(|err| format!("is not valid JSON: {err}"))?;
    let mut namespaces = BTreeSet::new();
    let widgets = document
        .get("widgets")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for widget in widgets.iter().take(MAX_WIDGETS) {
        let metrics = widget
            .get("properties")
            .and_then(|properties| properties.get("metrics"))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let mut previous: Option<String> = None;
        for metric in metrics.iter().take(MAX_METRICS_PER_WIDGET) {
            let Some(parts) = metric.as_array() else {
                continue;
            };
            match parts.first() {
                Some(Value::String(first)) if first == "." || first == "..." => {
                    if let Some(namespace) = &previous {
                        namespaces.insert(namespace.clone());
                    }
                }
                Some(Value::String(namespace)) => {
                    namespaces.insert(namespace.clone());
                    previous = Some(namespace.clone());
                }
                Some(Value::Object(options)) => {
                    if let Some(expression) = options.get("expression").and_then(Value::as_str) {
                        namespaces.extend(search_namespaces(expression));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(namespaces)
}

/// Returns the namespaces of the `{Namespace,Dimension,...}` schemas in a SEARCH expression.
fn search_namespaces(expression: &str) -> Vec<String> {
    expression
        .split('{')
        .skip(1)
        .filter_map(|rest| {
            let schema = rest.split('}').next()?;
            let namespace = schema.split(',').next()?.trim().trim_matches('"');
            (!namespace.is_empty()).then(|| namespace.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_namespaces_reads_metric_arrays() {
        let body = r#"{"widgets": [
            {"type": "metric", "properties": {"metrics": [
                ["AWS/Lambda", "Errors", "FunctionName", "a"],
                ["...", "b"],
                [".", "Throttles", ".", "."],
                [{"expression": "SEARCH('{AWS/DynamoDB,TableName} MetricName=\"ThrottledRequests\"', 'Sum')"}]
            ]}},
            {"type": "text", "properties": {"markdown": "hello"}},
            {"type": "metric", "properties": {"metrics": "not a list"}},
            {"type": "metric"}
        ]}"#;
        let namespaces = body_namespaces(body).unwrap();
        let expected: BTreeSet<String> = ["AWS/DynamoDB", "AWS/Lambda"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(namespaces, expected);
    }

    #[test]
    fn body_namespaces_rejects_bad_bodies() {
        assert!(body_namespaces("{not json").is_err());
        let large = format!(
            "{{\"widgets\": [], \"pad\": \"{}\"}}",
            "x".repeat(MAX_BODY_BYTES)
        );
        let message = body_namespaces(&large).unwrap_err();
        assert!(message.contains("bytes"), "{message}");
    }

    #[test]
    fn body_without_widgets_has_no_namespaces() {
        assert!(body_namespaces("{}").unwrap().is_empty());
        assert!(body_namespaces("[1, 2]").unwrap().is_empty());
    }
}
