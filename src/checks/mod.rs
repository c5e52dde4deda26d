//! Check kinds and the registry that maps a kind's name to its settings and its probe.
//!
//! A check kind is one module with its settings (deserialised from the item's `check` table),
//! its expectation and its probe. Adding a kind means adding its module, a variant of
//! [`CheckSpec`] and a line in [`KINDS`] and [`parse_spec`]; nothing else changes.

pub mod auth;
pub mod aws;
pub mod cors;
pub mod headers;
pub mod http;
pub mod input;
pub mod leak;
pub mod rate_limit;
pub mod rbac;
pub mod report;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::redact::Redactor;

/// Names of every check kind, as written in a checklist's `kind = "..."`.
pub const KINDS: &[&str] = &[
    "http",
    "tls",
    "headers",
    "cors",
    "rate_limit",
    "auth",
    "rbac",
    "input",
    "report",
    "aws_alarms",
    "dynamodb_table",
    "dynamodb_item",
    "dynamodb_count",
    "securityhub_findings",
    "s3_bucket",
    "guardduty_detector",
    "kms_key",
    "lambda_functions",
    "sns_topic",
    "cognito_user_pool",
    "cloudwatch_metric",
    "cloudwatch_dashboards",
    "securityhub_hub",
];

/// The typed settings of one check, by kind.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "specs are built once at load time and shared behind an Arc, never moved in bulk"
)]
pub enum CheckSpec {
    Http(http::HttpCheck),
    Tls(tls::TlsCheck),
    Headers(headers::HeadersCheck),
    Cors(cors::CorsCheck),
    RateLimit(rate_limit::RateLimitCheck),
    Auth(auth::AuthCheck),
    Rbac(rbac::RbacCheck),
    Input(input::InputCheck),
    Report(report::ReportCheck),
    AwsAlarms(aws::alarms::AlarmsCheck),
    DynamodbTable(aws::dynamodb::TableCheck),
    DynamodbItem(aws::dynamodb::ItemCheck),
    DynamodbCount(aws::dynamodb::CountCheck),
    SecurityhubFindings(aws::securityhub::FindingsCheck),
    S3Bucket(aws::s3::BucketCheck),
    GuarddutyDetector(aws::guardduty::DetectorCheck),
    KmsKey(aws::kms::KeyCheck),
    LambdaFunctions(aws::lambda::FunctionsCheck),
    SnsTopic(aws::sns::TopicCheck),
    CognitoUserPool(aws::cognito::UserPoolCheck),
    CloudwatchMetric(aws::metric::MetricCheck),
    CloudwatchDashboards(aws::dashboards::DashboardsCheck),
    SecurityhubHub(aws::securityhub::HubCheck),
}

/// An error in a check's settings: where in the `check` table it is, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// Dotted path inside the `check` table, such as `expect.status`; empty for the table itself.
    pub path: String,
    pub message: String,
}

/// Parses the settings of a check of the given kind from its `check` table, with the `kind`,
/// `timeout`, `retries` and `interval` keys already removed.
pub fn parse_spec(kind: &str, settings: toml::Table) -> Result<CheckSpec, SpecError> {
    match kind {
        "http" => deserialize_settings(settings).map(CheckSpec::Http),
        "tls" => deserialize_settings(settings).map(CheckSpec::Tls),
        "headers" => deserialize_settings(settings).map(CheckSpec::Headers),
        "cors" => deserialize_settings(settings).map(CheckSpec::Cors),
        "rate_limit" => deserialize_settings(settings).map(CheckSpec::RateLimit),
        "auth" => deserialize_settings(settings).map(CheckSpec::Auth),
        "rbac" => deserialize_settings(settings).map(CheckSpec::Rbac),
        "input" => deserialize_settings(settings).map(CheckSpec::Input),
        "report" => report::parse_settings(settings).map(CheckSpec::Report),
        "aws_alarms" => deserialize_settings(settings).map(CheckSpec::AwsAlarms),
        "dynamodb_table" => deserialize_settings(settings).map(CheckSpec::DynamodbTable),
        "dynamodb_item" => deserialize_settings(settings).map(CheckSpec::DynamodbItem),
        "dynamodb_count" => deserialize_settings(settings).map(CheckSpec::DynamodbCount),
        "securityhub_findings" => {
            deserialize_settings(settings).map(CheckSpec::SecurityhubFindings)
        }
        "s3_bucket" => deserialize_settings(settings).map(CheckSpec::S3Bucket),
        "guardduty_detector" => deserialize_settings(settings).map(CheckSpec::GuarddutyDetector),
        "kms_key" => deserialize_settings(settings).map(CheckSpec::KmsKey),
        "lambda_functions" => deserialize_settings(settings).map(CheckSpec::LambdaFunctions),
        "sns_topic" => deserialize_settings(settings).map(CheckSpec::SnsTopic),
        "cognito_user_pool" => deserialize_settings(settings).map(CheckSpec::CognitoUserPool),
        "cloudwatch_metric" => deserialize_settings(settings).map(CheckSpec::CloudwatchMetric),
        "cloudwatch_dashboards" => {
            deserialize_settings(settings).map(CheckSpec::CloudwatchDashboards)
        }
        "securityhub_hub" => deserialize_settings(settings).map(CheckSpec::SecurityhubHub),
        other => Err(SpecError {
            path: "kind".into(),
            message: format!(
                "unknown check kind `{other}`; valid kinds: {}",
                KINDS.join(", ")
            ),
        }),
    }
}

/// Keys of an `http` check table besides the common `kind`, `timeout`, `retries` and `interval`.
const HTTP_CHECK_KEYS: &[&str] = &[
    "method",
    "url",
    "headers",
    "body",
    "json",
    "follow_redirects",
    "expect",
];
/// Keys of an `http` check's `expect` table.
const HTTP_EXPECT_KEYS: &[&str] = &[
    "status",
    "max_latency",
    "json",
    "body_contains",
    "body_not_contains",
    "headers_present",
    "headers_absent",
    "headers_equal",
    "error_leak",
];

/// Returns the valid keys of a kind's `check` table (without the common `kind`, `timeout`,
/// `retries` and `interval`) and of its `expect` table, or `None` for an unknown kind. The
/// loader uses them to report every unknown key at once, before [`parse_spec`] runs.
pub fn settings_keys(kind: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    match kind {
        "http" => Some((HTTP_CHECK_KEYS, HTTP_EXPECT_KEYS)),
        "tls" => Some((tls::CHECK_KEYS, tls::EXPECT_KEYS)),
        "headers" => Some((headers::CHECK_KEYS, headers::EXPECT_KEYS)),
        "cors" => Some((cors::CHECK_KEYS, cors::EXPECT_KEYS)),
        "rate_limit" => Some((rate_limit::CHECK_KEYS, rate_limit::EXPECT_KEYS)),
        "auth" => Some((auth::CHECK_KEYS, auth::EXPECT_KEYS)),
        "rbac" => Some((rbac::CHECK_KEYS, rbac::EXPECT_KEYS)),
        "input" => Some((input::CHECK_KEYS, input::EXPECT_KEYS)),
        "report" => Some((report::CHECK_KEYS, report::EXPECT_KEYS)),
        "aws_alarms" => Some((aws::alarms::CHECK_KEYS, aws::alarms::EXPECT_KEYS)),
        "dynamodb_table" => Some((
            aws::dynamodb::TABLE_CHECK_KEYS,
            aws::dynamodb::TABLE_EXPECT_KEYS,
        )),
        "dynamodb_item" => Some((
            aws::dynamodb::ITEM_CHECK_KEYS,
            aws::dynamodb::ITEM_EXPECT_KEYS,
        )),
        "dynamodb_count" => Some((
            aws::dynamodb::COUNT_CHECK_KEYS,
            aws::dynamodb::COUNT_EXPECT_KEYS,
        )),
        "securityhub_findings" => {
            Some((aws::securityhub::CHECK_KEYS, aws::securityhub::EXPECT_KEYS))
        }
        "s3_bucket" => Some((aws::s3::CHECK_KEYS, aws::s3::EXPECT_KEYS)),
        "guardduty_detector" => Some((aws::guardduty::CHECK_KEYS, aws::guardduty::EXPECT_KEYS)),
        "kms_key" => Some((aws::kms::CHECK_KEYS, aws::kms::EXPECT_KEYS)),
        "lambda_functions" => Some((aws::lambda::CHECK_KEYS, aws::lambda::EXPECT_KEYS)),
        "sns_topic" => Some((aws::sns::CHECK_KEYS, aws::sns::EXPECT_KEYS)),
        "cognito_user_pool" => Some((aws::cognito::CHECK_KEYS, aws::cognito::EXPECT_KEYS)),
        "cloudwatch_metric" => Some((aws::metric::CHECK_KEYS, aws::metric::EXPECT_KEYS)),
        "cloudwatch_dashboards" => {
            Some((aws::dashboards::CHECK_KEYS, aws::dashboards::EXPECT_KEYS))
        }
        "securityhub_hub" => Some((
            aws::securityhub::HUB_CHECK_KEYS,
            aws::securityhub::HUB_EXPECT_KEYS,
        )),
        _ => None,
    }
}

/// Deserialises a kind's settings, reporting the path of the first invalid field.
pub fn deserialize_settings<T: serde::de::DeserializeOwned>(
    settings: toml::Table,
) -> Result<T, SpecError> {
    let value = toml::Value::Table(settings);
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        SpecError {
            path: if path == "." { String::new() } else { path },
            message: plain_type_names(&err.into_inner().to_string()),
        }
    })
}

/// Replaces the Rust type names that serde puts in its messages (`expected u16`,
/// `a sequence`) with the words of the checklist format.
pub(crate) fn plain_type_names(message: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number of 0 or more"),
        ("expected usize", "expected a whole number of 0 or more"),
        ("expected u128", "expected a whole number of 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
        ("invalid type: sequence", "invalid type: list"),
        ("invalid type: map", "invalid type: table"),
    ];
    let mut plain = message.to_string();
    for (rust, words) in NAMES {
        // A name is replaced only as a whole word, so that `expected u16` leaves `u160` alone.
        let mut from = 0;
        while let Some(found) = plain[from..].find(rust) {
            let start = from + found;
            let end = start + rust.len();
            let whole = plain[end..]
                .chars()
                .next()
                .is_none_or(|next| !next.is_ascii_alphanumeric());
            if whole {
                plain.replace_range(start..end, words);
                from = start + words.len();
            } else {
                from = end;
            }
        }
    }
    // serde names a struct as the target of a table; the key path already names the table.
    if let Some(start) = plain.find("expected struct ") {
        let rest = &plain[start + "expected struct ".len()..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(rest.len());
        plain.replace_range(
            start..start + "expected struct ".len() + name_len,
            "expected a table",
        );
    }
    plain
}

/// Matches the AWS kinds of a [`CheckSpec`], binding each kind's settings to `$check`, so that
/// the shared and the mutable accessor of the target list the kinds once.
macro_rules! aws_target_of {
    ($spec:expr, $check:ident => $target:expr) => {
        match $spec {
            CheckSpec::AwsAlarms($check) => Some($target),
            CheckSpec::DynamodbTable($check) => Some($target),
            CheckSpec::DynamodbItem($check) => Some($target),
            CheckSpec::DynamodbCount($check) => Some($target),
            CheckSpec::SecurityhubFindings($check) => Some($target),
            CheckSpec::S3Bucket($check) => Some($target),
            CheckSpec::GuarddutyDetector($check) => Some($target),
            CheckSpec::KmsKey($check) => Some($target),
            CheckSpec::LambdaFunctions($check) => Some($target),
            CheckSpec::SnsTopic($check) => Some($target),
            CheckSpec::CognitoUserPool($check) => Some($target),
            CheckSpec::CloudwatchMetric($check) => Some($target),
            CheckSpec::CloudwatchDashboards($check) => Some($target),
            CheckSpec::SecurityhubHub($check) => Some($target),
            _ => None,
        }
    };
}

impl CheckSpec {
    /// Returns the kind's name as written in the checklist.
    pub fn kind(&self) -> &'static str {
        match self {
            CheckSpec::Http(_) => "http",
            CheckSpec::Tls(_) => "tls",
            CheckSpec::Headers(_) => "headers",
            CheckSpec::Cors(_) => "cors",
            CheckSpec::RateLimit(_) => "rate_limit",
            CheckSpec::Auth(_) => "auth",
            CheckSpec::Rbac(_) => "rbac",
            CheckSpec::Input(_) => "input",
            CheckSpec::Report(_) => "report",
            CheckSpec::AwsAlarms(_) => "aws_alarms",
            CheckSpec::DynamodbTable(_) => "dynamodb_table",
            CheckSpec::DynamodbItem(_) => "dynamodb_item",
            CheckSpec::DynamodbCount(_) => "dynamodb_count",
            CheckSpec::SecurityhubFindings(_) => "securityhub_findings",
            CheckSpec::S3Bucket(_) => "s3_bucket",
            CheckSpec::GuarddutyDetector(_) => "guardduty_detector",
            CheckSpec::KmsKey(_) => "kms_key",
            CheckSpec::LambdaFunctions(_) => "lambda_functions",
            CheckSpec::SnsTopic(_) => "sns_topic",
            CheckSpec::CognitoUserPool(_) => "cognito_user_pool",
            CheckSpec::CloudwatchMetric(_) => "cloudwatch_metric",
            CheckSpec::CloudwatchDashboards(_) => "cloudwatch_dashboards",
            CheckSpec::SecurityhubHub(_) => "securityhub_hub",
        }
    }

    /// Returns the region, profile and endpoint of an AWS kind, or `None` for other kinds.
    pub fn aws_target(&self) -> Option<&aws::AwsTarget> {
        aws_target_of!(self, check => &check.target)
    }

    /// Returns the AWS target of an AWS kind for changing, or `None` for other kinds.
    pub fn aws_target_mut(&mut self) -> Option<&mut aws::AwsTarget> {
        aws_target_of!(self, check => &mut check.target)
    }

    /// Runs one attempt of the check. The engine applies the timeout around this call.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        match self {
            CheckSpec::Http(check) => check.run(ctx).await,
            CheckSpec::Tls(check) => check.run(ctx).await,
            CheckSpec::Headers(check) => check.run(ctx).await,
            CheckSpec::Cors(check) => check.run(ctx).await,
            CheckSpec::RateLimit(check) => check.run(ctx).await,
            CheckSpec::Auth(check) => check.run(ctx).await,
            CheckSpec::Rbac(check) => check.run(ctx).await,
            CheckSpec::Input(check) => check.run(ctx).await,
            CheckSpec::Report(check) => check.run(ctx).await,
            CheckSpec::AwsAlarms(check) => check.run(ctx).await,
            CheckSpec::DynamodbTable(check) => check.run(ctx).await,
            CheckSpec::DynamodbItem(check) => check.run(ctx).await,
            CheckSpec::DynamodbCount(check) => check.run(ctx).await,
            CheckSpec::SecurityhubFindings(check) => check.run(ctx).await,
            CheckSpec::S3Bucket(check) => check.run(ctx).await,
            CheckSpec::GuarddutyDetector(check) => check.run(ctx).await,
            CheckSpec::KmsKey(check) => check.run(ctx).await,
            CheckSpec::LambdaFunctions(check) => check.run(ctx).await,
            CheckSpec::SnsTopic(check) => check.run(ctx).await,
            CheckSpec::CognitoUserPool(check) => check.run(ctx).await,
            CheckSpec::CloudwatchMetric(check) => check.run(ctx).await,
            CheckSpec::CloudwatchDashboards(check) => check.run(ctx).await,
            CheckSpec::SecurityhubHub(check) => check.run(ctx).await,
        }
    }

    /// Returns the settings as label/value lines for the detail pane, secrets masked.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        match self {
            CheckSpec::Http(check) => check.describe(redactor),
            CheckSpec::Tls(check) => check.describe(redactor),
            CheckSpec::Headers(check) => check.describe(redactor),
            CheckSpec::Cors(check) => check.describe(redactor),
            CheckSpec::RateLimit(check) => check.describe(redactor),
            CheckSpec::Auth(check) => check.describe(redactor),
            CheckSpec::Rbac(check) => check.describe(redactor),
            CheckSpec::Input(check) => check.describe(redactor),
            CheckSpec::Report(check) => check.describe(redactor),
            CheckSpec::AwsAlarms(check) => check.describe(redactor),
            CheckSpec::DynamodbTable(check) => check.describe(redactor),
            CheckSpec::DynamodbItem(check) => check.describe(redactor),
            CheckSpec::DynamodbCount(check) => check.describe(redactor),
            CheckSpec::SecurityhubFindings(check) => check.describe(redactor),
            CheckSpec::S3Bucket(check) => check.describe(redactor),
            CheckSpec::GuarddutyDetector(check) => check.describe(redactor),
            CheckSpec::KmsKey(check) => check.describe(redactor),
            CheckSpec::LambdaFunctions(check) => check.describe(redactor),
            CheckSpec::SnsTopic(check) => check.describe(redactor),
            CheckSpec::CognitoUserPool(check) => check.describe(redactor),
            CheckSpec::CloudwatchMetric(check) => check.describe(redactor),
            CheckSpec::CloudwatchDashboards(check) => check.describe(redactor),
            CheckSpec::SecurityhubHub(check) => check.describe(redactor),
        }
    }
}

/// The context of a probe: shared clients and the secret masker.
#[derive(Clone)]
pub struct ProbeContext {
    pub redactor: Arc<Redactor>,
    /// The timeout of one attempt, for probes that pass it on to their clients.
    pub timeout: Duration,
    /// Maximum number of response body bytes a probe reads.
    pub body_limit: usize,
}

/// The outcome of one evaluation of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The system responded and met every expectation.
    Pass,
    /// The system responded and missed an expectation.
    Fail,
    /// The check could not be evaluated: DNS, refused connection, timeout, bad settings.
    Error,
    /// A dependency is not satisfied, so the check did not run.
    Blocked,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Blocked => "blocked",
        }
    }
}

/// The result of a probe: the outcome, a one-line summary and the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub outcome: Outcome,
    /// One line saying why, such as "status 503, expected 200".
    pub summary: String,
    pub evidence: Evidence,
}

/// Evidence of one evaluation. All text in it is already masked and terminal-safe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The request as sent, one line per part (method and URL, then headers), secrets masked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The start of the response body, bounded and sanitised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_excerpt: Option<String>,
    /// Time from sending the request to the end of the read body, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Each expectation with what was seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// Grids and lists that do not fit the fields above, such as an RBAC matrix or a status
    /// histogram.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<EvidenceTable>,
    /// Free-form notes, such as "redirected 2 times" or the reason for an error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Files the check read and judged, such as scanner reports, with their digests, so that
    /// the launch record can name the exact bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileDigest>,
    /// A time series the check read, such as a metric's datapoints over its window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<EvidenceSeries>,
}

/// A file a check read, by path and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileDigest {
    /// The path as the check resolved it, masked.
    pub path: String,
    /// Lowercase hex SHA-256 of the whole file.
    pub sha256: String,
}

/// A series of values at equal intervals, oldest first, drawn as a sparkline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceSeries {
    /// The meaning of one point, such as "Errors Sum per 1m".
    pub label: String,
    /// One value per interval; `None` where the interval has no data.
    pub points: Vec<Option<f64>>,
    /// Unit of the values, such as `Count`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A titled grid of evidence: one row per label, one cell per column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceTable {
    pub title: String,
    /// Column headings, not counting the row labels.
    pub columns: Vec<String>,
    pub rows: Vec<EvidenceRow>,
}

/// One row of an [`EvidenceTable`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub label: String,
    pub cells: Vec<EvidenceCell>,
}

/// One cell of an [`EvidenceTable`], with whether it met its expectation when it had one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceCell {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
}

/// One expectation and how the observed value compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assertion {
    /// The checked subject, such as `status` or `json $.status`.
    pub subject: String,
    pub expected: String,
    pub actual: String,
    pub passed: bool,
}

impl Probe {
    pub fn error(summary: impl Into<String>) -> Self {
        Probe {
            outcome: Outcome::Error,
            summary: summary.into(),
            evidence: Evidence::default(),
        }
    }

    /// Builds a pass or fail from the evidence's assertions: fail names the first missed one.
    pub fn from_assertions(evidence: Evidence) -> Self {
        match evidence
            .assertions
            .iter()
            .find(|assertion| !assertion.passed)
        {
            Some(missed) => Probe {
                outcome: Outcome::Fail,
                summary: format!(
                    "{}: expected {}, got {}",
                    missed.subject, missed.expected, missed.actual
                ),
                evidence,
            },
            None => Probe {
                outcome: Outcome::Pass,
                summary: match evidence.assertions.len() {
                    1 => "1 expectation met".to_string(),
                    count => format!("{count} expectations met"),
                },
                evidence,
            },
        }
    }
}

/// The result of a check as the engine reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub item_id: String,
    pub outcome: Outcome,
    pub summary: String,
    pub evidence: Evidence,
    pub started_at: jiff::Timestamp,
    /// Wall time of all attempts, in milliseconds.
    pub elapsed_ms: u64,
    /// Number of attempts made, 1 when the first one decided.
    pub attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_out_of_range_says_whole_number() {
        assert_eq!(
            plain_type_names("invalid value: integer `70000`, expected u16"),
            "invalid value: integer `70000`, expected a whole number from 0 to 65535"
        );
    }

    #[test]
    fn sequence_and_map_become_list_and_table() {
        assert_eq!(
            plain_type_names("invalid type: map, expected a sequence"),
            "invalid type: table, expected a list"
        );
    }

    #[test]
    fn struct_name_becomes_table() {
        assert_eq!(
            plain_type_names("invalid type: string \"x\", expected struct HttpExpect"),
            "invalid type: string \"x\", expected a table"
        );
    }

    #[test]
    fn longer_word_left_alone() {
        assert_eq!(plain_type_names("expected u160"), "expected u160");
    }

    #[test]
    fn port_out_of_range_through_settings() {
        let table: toml::Table =
            toml::from_str("host = \"127.0.0.1\"\nport = 70000").expect("valid TOML");
        let err = parse_spec("tls", table).expect_err("a port above 65535 is rejected");
        assert_eq!(err.path, "port");
        assert!(
            err.message
                .contains("expected a whole number from 0 to 65535"),
            "{}",
            err.message
        );
    }
}
