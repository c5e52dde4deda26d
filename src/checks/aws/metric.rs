//! The `cloudwatch_metric` check kind: one statistic of one CloudWatch metric over a recent
//! window must stay within bounds, such as API Gateway `5XXError` Sum over 15 minutes at most 0.
//!
//! One GetMetricData call reads the window's datapoints at the check's period. The check then
//! aggregates them into one value for the whole window and compares it with `expect.min` and
//! `expect.max`. The datapoints go into the evidence as a series for the sparkline.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, StandardUnit, StatusCode,
};
use serde::Deserialize;

use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{Assertion, Evidence, EvidenceSeries, Outcome, Probe, ProbeContext};
use crate::duration::{format_duration, parse_duration};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &[
    "region",
    "profile",
    "endpoint_url",
    "namespace",
    "metric",
    "dimensions",
    "statistic",
    "unit",
    "window",
    "period",
    "expect",
];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["max", "min", "missing_data"];

/// Approximate number of periods the default period splits the window into.
const DEFAULT_POINTS: u64 = 15;
/// Maximum number of periods in a window, so one query stays one page and the sparkline stays
/// readable.
const MAX_POINTS: u64 = 1440;
/// Maximum window in seconds, because CloudWatch keeps hourly datapoints for 455 days.
const MAX_WINDOW_SECS: u64 = 455 * 24 * 3600;
/// Periods below a minute that CloudWatch accepts, for high-resolution metrics.
const HIGH_RESOLUTION_PERIODS: &[u64] = &[1, 5, 10, 30];
/// Maximum number of dimensions of a CloudWatch metric.
const MAX_DIMENSIONS: usize = 30;
/// Query ids of the GetMetricData request.
const VALUE_ID: &str = "value";
const WEIGHT_ID: &str = "weight";

/// Settings of a `cloudwatch_metric` check.
#[derive(Debug, Clone)]
pub struct MetricCheck {
    pub target: AwsTarget,
    /// Metric namespace, such as `AWS/ApiGateway`.
    pub namespace: String,
    /// Metric name, such as `5XXError`.
    pub metric: String,
    /// Dimension name → value; the metric must have exactly these dimensions.
    pub dimensions: BTreeMap<String, String>,
    pub statistic: MetricStatistic,
    /// Unit the datapoints must have, such as `Count`; `None` reads every unit.
    pub unit: Option<String>,
    /// Length of the window that ends now, a whole number of periods.
    pub window: Duration,
    /// Length of the period that one datapoint covers.
    pub period: Duration,
    pub expect: MetricExpect,
}

/// A CloudWatch statistic as written in the checklist.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricStatistic {
    Sum,
    Average,
    Maximum,
    Minimum,
    SampleCount,
    /// A percentile such as `p99` or `p99.9`, kept as written.
    Percentile(String),
}

impl MetricStatistic {
    /// Parses `Sum`, `Average`, `Maximum`, `Minimum`, `SampleCount` or a percentile `pNN`.
    fn parse(text: &str) -> Result<Self, String> {
        let statistic = match text {
            "Sum" => MetricStatistic::Sum,
            "Average" => MetricStatistic::Average,
            "Maximum" => MetricStatistic::Maximum,
            "Minimum" => MetricStatistic::Minimum,
            "SampleCount" => MetricStatistic::SampleCount,
            other => {
                let valid = other
                    .strip_prefix('p')
                    .filter(|number| !number.is_empty() && !number.starts_with('+'))
                    .and_then(|number| number.parse::<f64>().ok())
                    .is_some_and(|number| number > 0.0 && number <= 100.0);
                if !valid {
                    return Err(format!(
                        "invalid `statistic` `{other}`: expected Sum, Average, Maximum, Minimum, \
                         SampleCount or a percentile such as p99"
                    ));
                }
                MetricStatistic::Percentile(other.to_string())
            }
        };
        Ok(statistic)
    }

    /// Returns the name CloudWatch uses in `MetricStat.Stat`.
    pub fn as_str(&self) -> &str {
        match self {
            MetricStatistic::Sum => "Sum",
            MetricStatistic::Average => "Average",
            MetricStatistic::Maximum => "Maximum",
            MetricStatistic::Minimum => "Minimum",
            MetricStatistic::SampleCount => "SampleCount",
            MetricStatistic::Percentile(text) => text,
        }
    }
}

/// The outcome of a window without datapoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingData {
    /// The check fails, because no data proves nothing.
    #[default]
    Fail,
    /// The check passes without comparing the bounds.
    Pass,
    /// The window's value is 0 and is compared with the bounds.
    Zero,
    /// The check reports an error: it could not be evaluated.
    Error,
}

/// Expectations of a `cloudwatch_metric` check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricExpect {
    /// Largest allowed value of the window's statistic.
    pub max: Option<f64>,
    /// Smallest allowed value of the window's statistic.
    pub min: Option<f64>,
    pub missing_data: MissingData,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetricCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    namespace: String,
    metric: String,
    #[serde(default)]
    dimensions: BTreeMap<String, String>,
    statistic: String,
    #[serde(default)]
    unit: Option<String>,
    window: String,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    expect: RawMetricExpect,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetricExpect {
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    missing_data: MissingData,
}

impl<'de> Deserialize<'de> for MetricCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawMetricCheck::deserialize(deserializer)?;
        let target = target_from_raw(RawTarget {
            region: raw.region,
            profile: raw.profile,
            endpoint_url: raw.endpoint_url,
        })?;
        if raw.namespace.trim().is_empty() {
            return Err(D::Error::custom(
                "`namespace` is empty; set it, such as `namespace = \"AWS/Lambda\"`",
            ));
        }
        if raw.metric.trim().is_empty() {
            return Err(D::Error::custom(
                "`metric` is empty; set it, such as `metric = \"Errors\"`",
            ));
        }
        validate_dimensions(&raw.dimensions).map_err(D::Error::custom)?;
        let statistic = MetricStatistic::parse(&raw.statistic).map_err(D::Error::custom)?;
        if let Some(unit) = &raw.unit
            && !StandardUnit::values().contains(&unit.as_str())
        {
            return Err(D::Error::custom(format!(
                "invalid `unit` `{unit}`: expected a CloudWatch unit such as Count, Seconds, \
                 Milliseconds, Percent or Bytes"
            )));
        }
        let window = parse_window(&raw.window).map_err(D::Error::custom)?;
        let period = match &raw.period {
            Some(text) => parse_period(text, window).map_err(D::Error::custom)?,
            None => default_period(window),
        };
        let expect = validate_expect(raw.expect).map_err(D::Error::custom)?;
        Ok(MetricCheck {
            target,
            namespace: raw.namespace,
            metric: raw.metric,
            dimensions: raw.dimensions,
            statistic,
            unit: raw.unit,
            window,
            period,
            expect,
        })
    }
}

fn validate_dimensions(dimensions: &BTreeMap<String, String>) -> Result<(), String> {
    if dimensions.len() > MAX_DIMENSIONS {
        return Err(format!(
            "`dimensions` has {} entries; a CloudWatch metric has at most {MAX_DIMENSIONS}",
            dimensions.len()
        ));
    }
    for (name, value) in dimensions {
        if name.trim().is_empty() {
            return Err("`dimensions` contains an empty dimension name".into());
        }
        if value.trim().is_empty() {
            return Err(format!(
                "`dimensions.{name}` is empty; give the dimension's value"
            ));
        }
    }
    Ok(())
}

/// Parses `window`: whole minutes, at least one and at most 455 days.
fn parse_window(text: &str) -> Result<Duration, String> {
    let window = parse_duration(text).map_err(|err| format!("`window`: {err}"))?;
    let seconds = window.as_secs();
    if window.subsec_nanos() != 0 || !seconds.is_multiple_of(60) || seconds == 0 {
        return Err(format!(
            "invalid `window` `{text}`: use whole minutes, such as `15m` or `24h`"
        ));
    }
    if seconds > MAX_WINDOW_SECS {
        return Err(format!(
            "invalid `window` `{text}`: at most 455 days, the retention of hourly datapoints"
        ));
    }
    Ok(window)
}

/// Parses `period`: 1, 5, 10 or 30 seconds or whole minutes, dividing the window into at most
/// [`MAX_POINTS`] periods.
fn parse_period(text: &str, window: Duration) -> Result<Duration, String> {
    let period = parse_duration(text).map_err(|err| format!("`period`: {err}"))?;
    let seconds = period.as_secs();
    let valid = period.subsec_nanos() == 0
        && (HIGH_RESOLUTION_PERIODS.contains(&seconds)
            || (seconds > 0 && seconds.is_multiple_of(60)));
    if !valid {
        return Err(format!(
            "invalid `period` `{text}`: use 1s, 5s, 10s, 30s or whole minutes, such as `1m`"
        ));
    }
    let window_seconds = window.as_secs();
    if seconds > window_seconds || !window_seconds.is_multiple_of(seconds) {
        return Err(format!(
            "`period` `{text}` does not divide `window` `{}` evenly; choose a period such as \
             `1m` or `5m` that does",
            format_duration(window)
        ));
    }
    if window_seconds / seconds > MAX_POINTS {
        return Err(format!(
            "`period` `{text}` splits `window` `{}` into more than {MAX_POINTS} periods; raise \
             `period`",
            format_duration(window)
        ));
    }
    Ok(period)
}

/// Returns the smallest whole-minute period that divides the window into at most about
/// [`DEFAULT_POINTS`] periods.
fn default_period(window: Duration) -> Duration {
    let window_seconds = window.as_secs();
    let mut seconds = window_seconds.div_ceil(DEFAULT_POINTS).div_ceil(60).max(1) * 60;
    // A window of whole minutes ends this loop at the latest when the period is the window.
    while seconds < window_seconds && !window_seconds.is_multiple_of(seconds) {
        seconds += 60;
    }
    Duration::from_secs(seconds.min(window_seconds))
}

fn validate_expect(raw: RawMetricExpect) -> Result<MetricExpect, String> {
    for (key, value) in [("expect.max", raw.max), ("expect.min", raw.min)] {
        if value.is_some_and(|value| !value.is_finite()) {
            return Err(format!("`{key}` must be a finite number"));
        }
    }
    match (raw.min, raw.max) {
        (None, None) => Err(
            "missing `expect.max` or `expect.min`; give a bound, such as `expect = { max = 0 }`"
                .into(),
        ),
        (Some(min), Some(max)) if min > max => Err(format!(
            "`expect.min` {min} is greater than `expect.max` {max}"
        )),
        _ => Ok(MetricExpect {
            max: raw.max,
            min: raw.min,
            missing_data: raw.missing_data,
        }),
    }
}

/// The datapoints of the window, one slot per period, oldest first.
#[derive(Debug, Clone, PartialEq)]
struct WindowData {
    values: Vec<Option<f64>>,
    /// Sample counts per slot, read only for the Average statistic.
    weights: Vec<Option<f64>>,
}

impl MetricCheck {
    /// Reads the window's datapoints with GetMetricData and compares the aggregate with the
    /// bounds.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::cloudwatch(&self.target, ctx.timeout).await;

        let resource = format!("metric {} {}", self.namespace, self.metric);
        let call = CallContext {
            service: "CloudWatch",
            operation: "GetMetricData",
            resource: &resource,
            target: &self.target,
        };
        let (start, slots) = self.window_start(SystemTime::now());
        let end = start + slots * self.period.as_secs();
        let mut request = client
            .get_metric_data()
            .start_time(DateTime::from_secs(to_i64(start)))
            .end_time(DateTime::from_secs(to_i64(end)))
            .metric_data_queries(self.query(VALUE_ID, self.statistic.as_str()));
        if self.statistic == MetricStatistic::Average {
            request = request.metric_data_queries(self.query(WEIGHT_ID, "SampleCount"));
        }
        let output = match request.send().await {
            Ok(output) => output,
            Err(err) => return error_probe(&err, call),
        };

        let mut evidence = self.request_evidence(start, end, &ctx.redactor);
        let results = output.metric_data_results();
        if let Some(probe) = failed_status(results, &mut evidence, &ctx.redactor) {
            return probe;
        }
        let data = WindowData {
            values: slot_values(results, VALUE_ID, start, self.period.as_secs(), slots),
            weights: slot_values(results, WEIGHT_ID, start, self.period.as_secs(), slots),
        };
        self.evaluate(&data, evidence, &ctx.redactor)
    }

    /// Returns the start of the window in seconds since the epoch and its number of periods.
    /// The window ends at the next whole minute, or the next whole period below a minute, so
    /// that the periods line up with CloudWatch's own.
    fn window_start(&self, now: SystemTime) -> (u64, u64) {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let period = self.period.as_secs().max(1);
        let step = period.min(60);
        let end = now.div_ceil(step) * step;
        let slots = (self.window.as_secs() / period).max(1);
        (end.saturating_sub(slots * period), slots)
    }

    fn query(&self, id: &str, stat: &str) -> MetricDataQuery {
        let mut metric = Metric::builder()
            .namespace(&self.namespace)
            .metric_name(&self.metric);
        for (name, value) in &self.dimensions {
            metric = metric.dimensions(Dimension::builder().name(name).value(value).build());
        }
        let mut metric_stat = MetricStat::builder()
            .metric(metric.build())
            .period(i32::try_from(self.period.as_secs()).unwrap_or(i32::MAX))
            .stat(stat);
        if let Some(unit) = &self.unit {
            metric_stat = metric_stat.unit(StandardUnit::from(unit.as_str()));
        }
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(metric_stat.build())
            .return_data(true)
            .build()
    }

    fn request_evidence(&self, start: u64, end: u64, redactor: &Redactor) -> Evidence {
        let mut evidence = Evidence::default();
        evidence
            .request
            .push(format!("CloudWatch GetMetricData in {}", self.target));
        let metric = format!(
            "{} {}{}",
            self.namespace,
            self.metric,
            self.dimensions_text()
        );
        evidence
            .request
            .push(format!("metric {}", shown_text(&metric, redactor)));
        evidence.request.push(format!(
            "statistic {} per {} from {} to {}",
            self.statistic.as_str(),
            format_duration(self.period),
            format_time(start),
            format_time(end)
        ));
        evidence
    }

    fn dimensions_text(&self) -> String {
        if self.dimensions.is_empty() {
            return String::new();
        }
        let pairs: Vec<String> = self
            .dimensions
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        format!(" ({})", pairs.join(", "))
    }

    fn evaluate(&self, data: &WindowData, mut evidence: Evidence, redactor: &Redactor) -> Probe {
        let window = format_duration(self.window);
        let metric = shown_text(&self.metric, redactor);
        let subject = format!("{metric} {} over {window}", self.statistic.as_str());
        let with_data = data.values.iter().flatten().count();
        evidence.notes.push(format!(
            "{with_data} of {} periods have datapoints",
            data.values.len()
        ));
        evidence.series = Some(EvidenceSeries {
            label: format!(
                "{metric} {} per {}",
                self.statistic.as_str(),
                format_duration(self.period)
            ),
            points: data.values.clone(),
            unit: self.unit.clone(),
        });

        let value = match self.aggregate(data) {
            Some(value) => value,
            None => {
                let summary = format!("no datapoints in the last {window}");
                return match self.expect.missing_data {
                    MissingData::Fail => {
                        evidence.assertions.push(Assertion {
                            subject: format!("datapoints of {subject}"),
                            expected: "at least 1".into(),
                            actual: "none".into(),
                            passed: false,
                        });
                        Probe {
                            outcome: Outcome::Fail,
                            summary,
                            evidence,
                        }
                    }
                    MissingData::Pass => Probe {
                        outcome: Outcome::Pass,
                        summary: format!("{summary}, which `missing_data = \"pass\"` accepts"),
                        evidence,
                    },
                    MissingData::Error => Probe {
                        outcome: Outcome::Error,
                        summary: format!(
                            "{summary}; check the namespace, metric name, dimensions and unit"
                        ),
                        evidence,
                    },
                    MissingData::Zero => {
                        evidence
                            .notes
                            .push("no datapoints, taken as 0 by `missing_data`".into());
                        self.compare(0.0, &subject, evidence)
                    }
                };
            }
        };
        self.compare(value, &subject, evidence)
    }

    fn compare(&self, value: f64, subject: &str, mut evidence: Evidence) -> Probe {
        let above_min = self.expect.min.is_none_or(|min| value >= min);
        let below_max = self.expect.max.is_none_or(|max| value <= max);
        let expected = match (self.expect.min, self.expect.max) {
            (Some(min), Some(max)) => {
                format!("between {} and {}", format_value(min), format_value(max))
            }
            (Some(min), None) => format!("at least {}", format_value(min)),
            (None, Some(max)) => format!("at most {}", format_value(max)),
            (None, None) => "any value".into(),
        };
        evidence.assertions.push(Assertion {
            subject: subject.to_string(),
            expected: expected.clone(),
            actual: format_value(value),
            passed: above_min && below_max,
        });
        let mut probe = Probe::from_assertions(evidence);
        if probe.outcome == Outcome::Pass {
            probe.summary = format!("{subject}: {} ({expected})", format_value(value));
        }
        probe
    }

    /// Aggregates the periods into the window's value, or `None` without datapoints.
    fn aggregate(&self, data: &WindowData) -> Option<f64> {
        let values: Vec<f64> = data.values.iter().flatten().copied().collect();
        if values.is_empty() {
            return None;
        }
        let value = match self.statistic {
            MetricStatistic::Sum | MetricStatistic::SampleCount => values.iter().sum(),
            MetricStatistic::Minimum => values.iter().copied().fold(f64::INFINITY, f64::min),
            // A window's percentile cannot be computed from its periods' percentiles. The highest
            // period value is an upper bound, exact when `period` equals `window`.
            MetricStatistic::Maximum | MetricStatistic::Percentile(_) => {
                values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            }
            MetricStatistic::Average => weighted_average(data),
        };
        Some(value)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push((
            "metric".into(),
            shown_text(
                &format!(
                    "{} {}{}",
                    self.namespace,
                    self.metric,
                    self.dimensions_text()
                ),
                redactor,
            ),
        ));
        lines.push(("statistic".into(), self.statistic.as_str().to_string()));
        if let Some(unit) = &self.unit {
            lines.push(("unit".into(), unit.clone()));
        }
        lines.push(("window".into(), format_duration(self.window)));
        lines.push(("period".into(), format_duration(self.period)));
        if let Some(min) = self.expect.min {
            lines.push(("expect at least".into(), format_value(min)));
        }
        if let Some(max) = self.expect.max {
            lines.push(("expect at most".into(), format_value(max)));
        }
        let missing = match self.expect.missing_data {
            MissingData::Fail => "fail",
            MissingData::Pass => "pass",
            MissingData::Zero => "zero",
            MissingData::Error => "error",
        };
        lines.push(("no datapoints".into(), missing.into()));
        lines
    }
}

/// Returns the average over the window: each period's average weighted by its sample count,
/// or the plain mean of the periods when the sample counts are missing.
fn weighted_average(data: &WindowData) -> f64 {
    let mut total = 0.0;
    let mut samples = 0.0;
    for (value, weight) in data.values.iter().zip(&data.weights) {
        if let (Some(value), Some(weight)) = (value, weight) {
            total += value * weight;
            samples += weight;
        }
    }
    if samples > 0.0 {
        return total / samples;
    }
    let values: Vec<f64> = data.values.iter().flatten().copied().collect();
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Returns an error probe when a query's status is Forbidden or InternalError, and notes
/// partial data.
fn failed_status(
    results: &[MetricDataResult],
    evidence: &mut Evidence,
    redactor: &Redactor,
) -> Option<Probe> {
    for result in results {
        let messages: Vec<String> = result
            .messages()
            .iter()
            .filter_map(|message| message.value())
            .map(|message| shown_text(message, redactor))
            .collect();
        match result.status_code() {
            Some(StatusCode::Forbidden | StatusCode::InternalError) => {
                let status = result.status_code().map_or("unknown", StatusCode::as_str);
                let mut probe = Probe {
                    outcome: Outcome::Error,
                    summary: format!(
                        "CloudWatch GetMetricData returned status {status}: {}",
                        if messages.is_empty() {
                            "no message".to_string()
                        } else {
                            messages.join("; ")
                        }
                    ),
                    evidence: std::mem::take(evidence),
                };
                probe.evidence.notes.extend(messages);
                return Some(probe);
            }
            Some(StatusCode::PartialData) => evidence
                .notes
                .push("CloudWatch returned partial data for the window".into()),
            _ => {}
        }
    }
    None
}

/// Places the datapoints of one query into per-period slots from `start`, oldest first.
/// Non-finite values count as missing.
fn slot_values(
    results: &[MetricDataResult],
    id: &str,
    start: u64,
    period: u64,
    slots: u64,
) -> Vec<Option<f64>> {
    let count = usize::try_from(slots).unwrap_or(0);
    let mut points = vec![None; count];
    let Some(result) = results.iter().find(|result| result.id() == Some(id)) else {
        return points;
    };
    for (time, value) in result.timestamps().iter().zip(result.values()) {
        if !value.is_finite() {
            continue;
        }
        let offset = time.secs().saturating_sub(to_i64(start)).max(0);
        let index = u64::try_from(offset).unwrap_or(0) / period.max(1);
        let index = usize::try_from(index.min(slots.saturating_sub(1))).unwrap_or(0);
        if let Some(slot) = points.get_mut(index) {
            *slot = Some(*value);
        }
    }
    points
}

fn to_i64(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// Formats epoch seconds as an RFC 3339 time.
fn format_time(seconds: u64) -> String {
    jiff::Timestamp::from_second(to_i64(seconds))
        .map_or_else(|_| seconds.to_string(), |time| time.to_string())
}

/// Formats a value with at most three decimals and without trailing zeros.
pub fn format_value(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(settings: &str) -> Result<MetricCheck, String> {
        let table: toml::Table = toml::from_str(settings).unwrap();
        MetricCheck::deserialize(toml::Value::Table(table)).map_err(|err| err.to_string())
    }

    const BASE: &str = "region = \"eu-west-1\"\nnamespace = \"AWS/Lambda\"\nmetric = \"Errors\"\n";

    #[test]
    fn default_period_splits_window() {
        let cases = [
            (15 * 60, 60),
            (60 * 60, 240),
            (24 * 3600, 5760),
            (100 * 60, 600),
            (60, 60),
            (7 * 60, 60),
        ];
        for (window, period) in cases {
            assert_eq!(
                default_period(Duration::from_secs(window)),
                Duration::from_secs(period),
                "window {window}"
            );
        }
    }

    #[test]
    fn settings_parse_percentile() {
        let settings =
            format!("{BASE}statistic = \"p99.9\"\nwindow = \"1h\"\nexpect = {{ max = 2 }}");
        let parsed = check(&settings).unwrap();
        assert_eq!(
            parsed.statistic,
            MetricStatistic::Percentile("p99.9".into())
        );
        assert_eq!(parsed.period, Duration::from_secs(240));
    }

    #[test]
    fn settings_reject_bad_values() {
        let cases = [
            (
                "statistic = \"Total\"\nwindow = \"15m\"\nexpect = { max = 0 }",
                "statistic",
            ),
            (
                "statistic = \"p0\"\nwindow = \"15m\"\nexpect = { max = 0 }",
                "statistic",
            ),
            (
                "statistic = \"Sum\"\nwindow = \"90s\"\nexpect = { max = 0 }",
                "window",
            ),
            (
                "statistic = \"Sum\"\nwindow = \"15m\"\nperiod = \"7m\"\nexpect = { max = 0 }",
                "divide",
            ),
            (
                "statistic = \"Sum\"\nwindow = \"15m\"\nperiod = \"45s\"\nexpect = { max = 0 }",
                "period",
            ),
            (
                "statistic = \"Sum\"\nwindow = \"2d\"\nperiod = \"1m\"\nexpect = { max = 0 }",
                "raise",
            ),
            ("statistic = \"Sum\"\nwindow = \"15m\"", "expect.max"),
            (
                "statistic = \"Sum\"\nwindow = \"15m\"\nexpect = { min = 3, max = 1 }",
                "greater",
            ),
            (
                "statistic = \"Sum\"\nwindow = \"15m\"\nunit = \"Apples\"\nexpect = { max = 0 }",
                "unit",
            ),
            (
                "statistic = \"Sum\"\nwindow = \"15m\"\nexpect = { max = 0, missing_data = \"skip\" }",
                "skip",
            ),
        ];
        for (settings, needle) in cases {
            let result = check(&format!("{BASE}{settings}"));
            let message = result.expect_err(settings);
            assert!(message.contains(needle), "{settings}: {message}");
        }
    }

    #[test]
    fn window_aligns_to_minutes() {
        let settings =
            format!("{BASE}statistic = \"Sum\"\nwindow = \"15m\"\nexpect = {{ max = 0 }}");
        let parsed = check(&settings).unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(60 * 1_000_000 + 30);
        let (start, slots) = parsed.window_start(now);
        assert_eq!(slots, 15);
        assert_eq!(start, 60 * 1_000_001 - 900);
    }

    #[test]
    fn aggregates_by_statistic() {
        let data = WindowData {
            values: vec![Some(2.0), None, Some(4.0)],
            weights: vec![Some(3.0), None, Some(1.0)],
        };
        let cases = [
            ("Sum", 6.0),
            ("SampleCount", 6.0),
            ("Maximum", 4.0),
            ("Minimum", 2.0),
            ("p99", 4.0),
            ("Average", 2.5),
        ];
        for (statistic, expected) in cases {
            let settings = format!(
                "{BASE}statistic = \"{statistic}\"\nwindow = \"3m\"\nexpect = {{ max = 0 }}"
            );
            let parsed = check(&settings).unwrap();
            assert_eq!(parsed.aggregate(&data), Some(expected), "{statistic}");
        }
    }

    #[test]
    fn value_format_trims_zeros() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(1.0 / 3.0), "0.333");
        assert_eq!(format_value(-0.0), "0");
    }
}
