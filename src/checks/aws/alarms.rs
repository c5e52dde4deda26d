//! The `aws_alarms` check kind: CloudWatch alarms that must exist, be out of the ALARM state
//! and notify someone.
//!
//! The alarms are named in `names` or selected by `prefix`. One DescribeAlarms call covers up to
//! 100 names, and the named alarms of checks that run at the same moment on the same target
//! share their calls (see [`batch`](super::batch)).

use aws_sdk_cloudwatch::operation::describe_alarms::builders::DescribeAlarmsFluentBuilder;
use aws_sdk_cloudwatch::primitives::{DateTime, DateTimeFormat};
use aws_sdk_cloudwatch::types::{AlarmType, StateValue};
use serde::Deserialize;

use super::batch::{self, BatchError};
use super::{
    AwsTarget, CallContext, RawTarget, client, error_probe, exists_assertion, shown_text,
    target_from_raw,
};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext,
};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &[
    "region",
    "profile",
    "endpoint_url",
    "names",
    "prefix",
    "expect",
];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["state", "actions_enabled", "action_contains"];

/// Settings of an `aws_alarms` check.
#[derive(Debug, Clone)]
pub struct AlarmsCheck {
    pub target: AwsTarget,
    pub selection: AlarmSelection,
    pub expect: AlarmsExpect,
}

/// The selection of alarms a check inspects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmSelection {
    /// Exactly these alarms, each of which must exist.
    Names(Vec<String>),
    /// Every alarm whose name starts with the prefix; at least one must exist.
    Prefix(String),
}

/// Expectations of an `aws_alarms` check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmsExpect {
    /// Exact state each alarm must be in; `None` accepts any state but ALARM.
    #[serde(default)]
    pub state: Option<AlarmStateSetting>,
    /// Required value of each alarm's `ActionsEnabled`.
    #[serde(default)]
    pub actions_enabled: Option<bool>,
    /// Text one of each alarm's ALARM actions must contain, such as an SNS topic ARN.
    #[serde(default)]
    pub action_contains: Option<String>,
}

/// A CloudWatch alarm state as written in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AlarmStateSetting {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmStateSetting {
    fn as_str(self) -> &'static str {
        match self {
            AlarmStateSetting::Ok => "OK",
            AlarmStateSetting::Alarm => "ALARM",
            AlarmStateSetting::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlarmsCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    names: Option<Vec<String>>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    expect: AlarmsExpect,
}

impl<'de> Deserialize<'de> for AlarmsCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawAlarmsCheck::deserialize(deserializer)?;
        let target = target_from_raw(RawTarget {
            region: raw.region,
            profile: raw.profile,
            endpoint_url: raw.endpoint_url,
        })?;
        let selection = match (raw.names, raw.prefix) {
            (Some(_), Some(_)) => {
                return Err(D::Error::custom("set either `names` or `prefix`, not both"));
            }
            (None, None) => return Err(D::Error::custom("missing `names` or `prefix`")),
            (Some(names), None) => {
                if names.is_empty() {
                    return Err(D::Error::custom(
                        "`names` is empty; list at least one alarm",
                    ));
                }
                if names.iter().any(|name| name.trim().is_empty()) {
                    return Err(D::Error::custom("`names` contains an empty alarm name"));
                }
                AlarmSelection::Names(names)
            }
            (None, Some(prefix)) => {
                if prefix.trim().is_empty() {
                    return Err(D::Error::custom("`prefix` is empty"));
                }
                AlarmSelection::Prefix(prefix)
            }
        };
        Ok(AlarmsCheck {
            target,
            selection,
            expect: raw.expect,
        })
    }
}

/// The fields of a metric or composite alarm that the check inspects.
#[derive(Debug, Clone)]
pub(crate) struct AlarmView {
    pub(crate) name: String,
    state: Option<StateValue>,
    since: Option<DateTime>,
    actions_enabled: Option<bool>,
    actions: Vec<String>,
}

type DescribeAlarmsResult = Result<
    Vec<AlarmView>,
    aws_sdk_cloudwatch::error::SdkError<
        aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError,
    >,
>;

/// Returns a DescribeAlarms request for metric and composite alarms.
fn describe_request(client: &aws_sdk_cloudwatch::Client) -> DescribeAlarmsFluentBuilder {
    client
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
}

/// Describes the named alarms, at most 100, in one paginated DescribeAlarms call and returns
/// those that exist.
pub(crate) async fn describe_named_alarms(
    client: &aws_sdk_cloudwatch::Client,
    names: Vec<String>,
) -> DescribeAlarmsResult {
    collect_alarms(describe_request(client).set_alarm_names(Some(names))).await
}

/// Sends the request, following every page, and returns the alarms of all pages.
async fn collect_alarms(request: DescribeAlarmsFluentBuilder) -> DescribeAlarmsResult {
    let mut alarms = Vec::new();
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page?;
        alarms.extend(page.metric_alarms().iter().map(|alarm| AlarmView {
            name: alarm.alarm_name().unwrap_or_default().to_string(),
            state: alarm.state_value().cloned(),
            since: alarm.state_updated_timestamp().copied(),
            actions_enabled: alarm.actions_enabled(),
            actions: alarm.alarm_actions().to_vec(),
        }));
        alarms.extend(page.composite_alarms().iter().map(|alarm| AlarmView {
            name: alarm.alarm_name().unwrap_or_default().to_string(),
            state: alarm.state_value().cloned(),
            since: alarm.state_updated_timestamp().copied(),
            actions_enabled: alarm.actions_enabled(),
            actions: alarm.alarm_actions().to_vec(),
        }));
    }
    Ok(alarms)
}

impl AlarmsCheck {
    /// Describes the selected alarms and compares each with the expectations.
    ///
    /// Named alarms are read through DescribeAlarms calls shared with the other checks of the
    /// same target that run at the same moment. A prefix selection has calls of its own.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let resource = match &self.selection {
            AlarmSelection::Names(names) => format!("alarms {}", names.join(", ")),
            AlarmSelection::Prefix(prefix) => format!("alarms with prefix {prefix}"),
        };
        let call = CallContext {
            service: "CloudWatch",
            operation: "DescribeAlarms",
            resource: &resource,
            target: &self.target,
        };
        let alarms = match &self.selection {
            AlarmSelection::Names(names) => {
                match batch::describe_alarms(&self.target, ctx.timeout, names).await {
                    Ok(alarms) => alarms,
                    Err(BatchError::Call(err)) => return error_probe(&*err, call),
                    Err(BatchError::Ended) => {
                        return Probe::error(format!(
                            "CloudWatch DescribeAlarms on {resource} in {} ended without an \
                             answer; run the check again",
                            self.target
                        ));
                    }
                }
            }
            AlarmSelection::Prefix(prefix) => {
                let client = client::cloudwatch(&self.target, ctx.timeout).await;
                let request = describe_request(&client).alarm_name_prefix(prefix);
                match collect_alarms(request).await {
                    Ok(alarms) => alarms,
                    Err(err) => return error_probe(&err, call),
                }
            }
        };
        self.evaluate(&alarms, &ctx.redactor)
    }

    fn evaluate(&self, alarms: &[AlarmView], redactor: &Redactor) -> Probe {
        let mut evidence = Evidence::default();
        evidence
            .request
            .push(format!("CloudWatch DescribeAlarms in {}", self.target));
        match &self.selection {
            AlarmSelection::Names(names) => {
                for name in names {
                    let found = alarms.iter().any(|alarm| &alarm.name == name);
                    evidence
                        .assertions
                        .push(exists_assertion("alarm", name, found, redactor));
                }
            }
            AlarmSelection::Prefix(prefix) => {
                evidence.assertions.push(Assertion {
                    subject: format!("alarms with prefix {}", shown_text(prefix, redactor)),
                    expected: "at least 1".into(),
                    actual: alarms.len().to_string(),
                    passed: !alarms.is_empty(),
                });
            }
        }

        let mut table = EvidenceTable {
            title: "alarms".into(),
            columns: vec![
                "state".into(),
                "since".into(),
                "actions enabled".into(),
                "actions".into(),
            ],
            rows: Vec::new(),
        };
        for alarm in alarms {
            let (row, assertions) = self.evaluate_alarm(alarm, redactor);
            table.rows.push(row);
            evidence.assertions.extend(assertions);
        }
        evidence.tables.push(table);
        Probe::from_assertions(evidence)
    }

    /// Returns the evidence row and the assertions of one alarm.
    fn evaluate_alarm(
        &self,
        alarm: &AlarmView,
        redactor: &Redactor,
    ) -> (EvidenceRow, Vec<Assertion>) {
        let name = shown_text(&alarm.name, redactor);
        let state = alarm.state.as_ref().map_or("unknown", StateValue::as_str);
        let state_passed = match self.expect.state {
            Some(expected) => state == expected.as_str(),
            None => alarm.state.is_some() && state != "ALARM",
        };
        let mut assertions = vec![Assertion {
            subject: format!("alarm {name} state"),
            expected: match self.expect.state {
                Some(expected) => expected.as_str().to_string(),
                None => "not ALARM".to_string(),
            },
            actual: state.to_string(),
            passed: state_passed,
        }];

        let enabled_text = match alarm.actions_enabled {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        let enabled_passed = self
            .expect
            .actions_enabled
            .map(|expected| alarm.actions_enabled == Some(expected));
        if let (Some(expected), Some(passed)) = (self.expect.actions_enabled, enabled_passed) {
            assertions.push(Assertion {
                subject: format!("alarm {name} actions enabled"),
                expected: if expected { "yes" } else { "no" }.into(),
                actual: enabled_text.into(),
                passed,
            });
        }

        let actions_text = if alarm.actions.is_empty() {
            "none".to_string()
        } else {
            shown_text(&alarm.actions.join(", "), redactor)
        };
        let action_passed = self.expect.action_contains.as_ref().map(|needle| {
            alarm
                .actions
                .iter()
                .any(|action| action.contains(needle.as_str()))
        });
        if let (Some(needle), Some(passed)) = (&self.expect.action_contains, action_passed) {
            assertions.push(Assertion {
                subject: format!("alarm {name} actions"),
                expected: format!("an action containing {}", shown_text(needle, redactor)),
                actual: actions_text.clone(),
                passed,
            });
        }

        let since = alarm
            .since
            .and_then(|time| time.fmt(DateTimeFormat::DateTime).ok())
            .unwrap_or_else(|| "unknown".into());
        let row = EvidenceRow {
            label: name,
            cells: vec![
                EvidenceCell {
                    text: state.to_string(),
                    passed: Some(state_passed),
                },
                EvidenceCell {
                    text: since,
                    passed: None,
                },
                EvidenceCell {
                    text: enabled_text.into(),
                    passed: enabled_passed,
                },
                EvidenceCell {
                    text: actions_text,
                    passed: action_passed,
                },
            ],
        };
        (row, assertions)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        match &self.selection {
            AlarmSelection::Names(names) => {
                lines.push(("alarms".into(), shown_text(&names.join(", "), redactor)));
            }
            AlarmSelection::Prefix(prefix) => {
                lines.push(("alarm prefix".into(), shown_text(prefix, redactor)));
            }
        }
        let state = match self.expect.state {
            Some(state) => state.as_str().to_string(),
            None => "not ALARM".to_string(),
        };
        lines.push(("expect state".into(), state));
        if let Some(enabled) = self.expect.actions_enabled {
            lines.push(("expect actions enabled".into(), enabled.to_string()));
        }
        if let Some(needle) = &self.expect.action_contains {
            lines.push((
                "expect action containing".into(),
                shown_text(needle, redactor),
            ));
        }
        lines
    }
}
