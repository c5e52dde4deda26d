//! The AWS part of `golive demo --aws`: made-up AWS resources in a moto server on this machine,
//! for the AWS phase of the demo checklist.
//!
//! The demo only ever talks to a loopback address ([`moto_url`] rejects every other host) and
//! signs with the fixed fake keys of [`sdk_env`], so it cannot write to a real AWS account.
//! [`Seeder`] creates the resources; each kind of resource has one `seed_*` method, and
//! [`Seeder::seed_all`] calls them in order. Seeding is idempotent: it creates what is missing
//! and resets what exists to the demo's values, so running the demo twice against the same moto
//! gives the same results.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType,
    SseSpecification,
};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, RecordState, Resource, Severity, SeverityLabel, Workflow, WorkflowStatus,
};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::sanitize::{terminal_safe, truncate_chars};

mod compute;
mod metrics;
mod storage;

pub use compute::{FUNCTION_PREFIX, LAMBDA_ROLE, SECURITY_TOPIC_ARN, USER_POOL};
pub use metrics::{AUTH_DASHBOARD, DEMO_API, SERVICE_DASHBOARD};
pub use storage::{DOCUMENTS_BUCKET, DOCUMENTS_KEY_ALIAS, EXPORTS_BUCKET, SESSIONS_KEY_ALIAS};

/// The region every demo resource lives in.
pub const DEMO_REGION: &str = "eu-west-1";

/// moto's default account id, which owns every resource it creates.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// The fake access key id the demo signs with. moto accepts any key.
pub const FAKE_ACCESS_KEY_ID: &str = "testing";

/// The fake secret access key the demo signs with.
pub const FAKE_SECRET_ACCESS_KEY: &str = "testing";

/// The checklist variable that carries the endpoint of the AWS checks.
pub const ENDPOINT_VAR: &str = "aws_endpoint_url";

/// The SNS topic the demo alarms notify, with an email and an SQS subscription.
pub const ONCALL_TOPIC_ARN: &str = "arn:aws:sns:eu-west-1:123456789012:authbridge-oncall";

/// The demo table with point-in-time recovery, KMS encryption and a `by-client` index.
pub const CASES_TABLE: &str = "AuthBridgeCases-demo";

/// The demo table without point-in-time recovery.
pub const SESSIONS_TABLE: &str = "AuthBridgeSessions-demo";

/// Time allowed for connecting to moto, when probing it and for each seeding call.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Time allowed for one seeding call, retries included. moto's first call of a service
/// imports that service's Python modules, which can take seconds.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Maximum number of characters of an error text from moto in a seeding error.
const DETAIL_CHARS: usize = 400;

/// An error of the AWS demo: a rejected moto URL, a moto server that does not respond, or a
/// seeding call that failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoAwsError {
    #[error("invalid moto URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error(
        "moto URL `{url}` is not a loopback address: the AWS demo writes made-up resources, so \
         it only talks to a moto server on this machine (127.0.0.0/8, ::1 or localhost); start \
         one with `moto_server -H 127.0.0.1 -p 5000` and pass --aws http://127.0.0.1:5000"
    )]
    NotLoopback { url: String },
    #[error(
        "moto does not respond at {url}: {reason}; start it with \
         `moto_server -H 127.0.0.1 -p {port}` (install it with `pip install 'moto[server]'`)"
    )]
    Unreachable {
        url: String,
        port: u16,
        reason: String,
    },
    #[error("cannot seed the demo {resource}: {operation} failed: {detail}")]
    Seed {
        resource: String,
        operation: &'static str,
        detail: String,
    },
}

/// Validates the `--aws` URL of a moto server and returns it as `scheme://host:port`.
///
/// The host must be a loopback address: an IPv4 address in 127.0.0.0/8, `::1`, or
/// `localhost`, which becomes `127.0.0.1` so that no name resolution can lead elsewhere.
/// The scheme must be `http` or `https`, and the URL has no path, query or user name.
pub fn moto_url(text: &str) -> Result<String, DemoAwsError> {
    let invalid = |reason: &str| DemoAwsError::InvalidUrl {
        url: terminal_safe(text),
        reason: reason.to_string(),
    };
    let parsed = url::Url::parse(text.trim()).map_err(|err| invalid(&err.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(
            "the scheme must be http or https, as in http://127.0.0.1:5000",
        ));
    }
    let host = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
        Some(url::Host::Domain(_)) => {
            return Err(DemoAwsError::NotLoopback {
                url: terminal_safe(text),
            });
        }
        None => return Err(invalid("the URL has no host")),
    };
    if !host.is_loopback() {
        return Err(DemoAwsError::NotLoopback {
            url: terminal_safe(text),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("remove the user name and password"));
    }
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(
            "give only the scheme, host and port, as in http://127.0.0.1:5000",
        ));
    }
    let Some(port) = parsed.port_or_known_default() else {
        return Err(invalid("the URL has no port"));
    };
    let host = match host {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    Ok(format!("{}://{host}:{port}", parsed.scheme()))
}

/// Sends one request to moto's `/moto-api/` page and fails unless it responds with a success
/// status, so that a missing or wrong server is reported before any seeding call.
///
/// `url` is the output of [`moto_url`].
pub async fn check_moto(url: &str) -> Result<(), DemoAwsError> {
    let port = url::Url::parse(url)
        .ok()
        .and_then(|parsed| parsed.port_or_known_default())
        .unwrap_or(5000);
    let unreachable = |reason: String| DemoAwsError::Unreachable {
        url: url.to_string(),
        port,
        reason,
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .build()
        .map_err(|err| unreachable(error_chain(&err)))?;
    let response = client
        .get(format!("{url}/moto-api/"))
        .send()
        .await
        .map_err(|err| unreachable(error_chain(&err)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(unreachable(format!(
            "GET /moto-api/ returned {status}, so the server there is not moto"
        )));
    }
    Ok(())
}

/// Returns the environment variables that make the AWS SDK of this process sign with the fake
/// demo keys and read no shared config or credentials file and no instance metadata.
///
/// The caller sets them while the process is still single-threaded, after removing every other
/// `AWS_` variable, so that no profile, session token or endpoint of the user's environment
/// applies. `/dev/null` stands for both files because it always reads as empty.
pub fn sdk_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_ACCESS_KEY),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]
}

/// Appends the phases and variables of the demo AWS checklist to the demo checklist and
/// returns the combined checklist as TOML, for the cockpit of `golive demo --aws`.
///
/// The demo checklist's `[checklist]`, `[defaults]`, secrets, environments and sign-offs stay
/// as they are; a variable defined in both files keeps the demo checklist's value.
pub fn cockpit_checklist(demo: &str, aws: &str) -> Result<String, CockpitChecklistError> {
    let mut combined: toml::Table = toml::from_str(demo)?;
    let aws: toml::Table = toml::from_str(aws)?;
    if let Some(toml::Value::Table(aws_vars)) = aws.get("vars") {
        let vars = combined
            .entry("vars")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(vars) = vars {
            for (name, value) in aws_vars {
                vars.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    if let Some(toml::Value::Array(aws_phases)) = aws.get("phases") {
        let phases = combined
            .entry("phases")
            .or_insert_with(|| toml::Value::Array(Vec::new()));
        if let toml::Value::Array(phases) = phases {
            phases.extend(aws_phases.iter().cloned());
        }
    }
    Ok(toml::to_string(&combined)?)
}

/// An error of [`cockpit_checklist`]: a checklist that is not valid TOML, or a combined table
/// that cannot be written back as TOML.
#[derive(Debug, thiserror::Error)]
pub enum CockpitChecklistError {
    #[error("invalid TOML: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("cannot write the combined checklist as TOML: {0}")]
    Serialize(#[from] toml::ser::Error),
}

/// Creates the demo's AWS resources through the AWS SDK, signing with the fake demo keys.
pub struct Seeder {
    config: SdkConfig,
}

impl Seeder {
    /// Loads the SDK configuration of every seeding call: `endpoint`, [`DEMO_REGION`] and the
    /// fake keys. CloudWatch calls need the endpoint of a
    /// [`MotoBridge`](super::moto_bridge::MotoBridge), which passes every other call on to moto.
    pub async fn new(endpoint: &str) -> Seeder {
        // The keys are given here rather than read from the environment, so seeding signs with
        // them even where the caller did not isolate the environment.
        let credentials = Credentials::new(
            FAKE_ACCESS_KEY_ID,
            FAKE_SECRET_ACCESS_KEY,
            None,
            None,
            "golive-demo",
        );
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_timeout(CALL_TIMEOUT)
            .build();
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(DEMO_REGION))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .http_client(http_client)
            .timeout_config(timeouts)
            .load()
            .await;
        Seeder { config }
    }

    /// Creates or resets every demo resource.
    pub async fn seed_all(&self) -> Result<(), DemoAwsError> {
        self.seed_tables().await?;
        self.seed_items().await?;
        self.seed_alarms().await?;
        self.seed_metrics().await?;
        self.seed_dashboards().await?;
        self.seed_security_hub().await?;
        self.seed_s3().await?;
        self.seed_kms().await?;
        self.seed_guardduty().await?;
        self.seed_lambda().await?;
        self.seed_sns().await?;
        self.seed_cognito().await?;
        Ok(())
    }

    /// Creates [`CASES_TABLE`] with point-in-time recovery and [`SESSIONS_TABLE`] without.
    pub async fn seed_tables(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_dynamodb::Client::new(&self.config);
        create_table(&client, CASES_TABLE, Some("client")).await?;
        set_pitr(&client, CASES_TABLE, true).await?;
        create_table(&client, SESSIONS_TABLE, None).await?;
        set_pitr(&client, SESSIONS_TABLE, false).await
    }

    /// Writes the configuration, client and case items of [`CASES_TABLE`], overwriting
    /// earlier versions.
    pub async fn seed_items(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_dynamodb::Client::new(&self.config);
        let text = |value: &str| AttributeValue::S(value.to_string());
        let items = [
            vec![
                ("pk", text("config#global")),
                ("maintenance_mode", AttributeValue::Bool(false)),
                ("schema_version", AttributeValue::N("7".into())),
            ],
            record("client#acme", "client", "active", None),
            record("client#globex", "client", "suspended", None),
            record("case#1001", "case", "open", Some("acme")),
            record("case#1002", "case", "locked", Some("acme")),
            record("case#1003", "case", "locked", Some("globex")),
        ];
        for item in items {
            let key = match &item[0].1 {
                AttributeValue::S(key) => key.clone(),
                _ => String::new(),
            };
            let mut request = client.put_item().table_name(CASES_TABLE);
            for (name, value) in item {
                request = request.item(name, value);
            }
            request
                .send()
                .await
                .map_err(|err| seed_error(format!("item {key}"), "PutItem", &err))?;
        }
        Ok(())
    }

    /// Creates four alarms that notify [`ONCALL_TOPIC_ARN`] unless noted: two in OK, one in
    /// ALARM, and one in OK without any action.
    pub async fn seed_alarms(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_cloudwatch::Client::new(&self.config);
        let alarms = [
            ("authbridge-demo-5xx", "5xxErrors", true, StateValue::Ok),
            (
                "authbridge-demo-latency-p99",
                "LatencyP99",
                true,
                StateValue::Ok,
            ),
            (
                "authbridge-demo-queue-backlog",
                "QueueBacklog",
                true,
                StateValue::Alarm,
            ),
            (
                "authbridge-demo-throttles",
                "Throttles",
                false,
                StateValue::Ok,
            ),
        ];
        for (name, metric, notifies, state) in alarms {
            let mut request = client
                .put_metric_alarm()
                .alarm_name(name)
                .namespace("AuthBridge")
                .metric_name(metric)
                .statistic(Statistic::Sum)
                .period(60)
                .evaluation_periods(1)
                .threshold(5.0)
                .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                .actions_enabled(true);
            if notifies {
                request = request.alarm_actions(ONCALL_TOPIC_ARN);
            }
            request
                .send()
                .await
                .map_err(|err| seed_error(format!("alarm {name}"), "PutMetricAlarm", &err))?;
            // The state is set every time, because AWS starts a new alarm in INSUFFICIENT_DATA
            // and an existing alarm keeps the state of an earlier run.
            client
                .set_alarm_state()
                .alarm_name(name)
                .state_value(state)
                .state_reason("Set by golive demo")
                .send()
                .await
                .map_err(|err| seed_error(format!("alarm {name}"), "SetAlarmState", &err))?;
        }
        Ok(())
    }

    /// Enables Security Hub and imports findings: one critical, two high (one resolved), three
    /// medium and two low. Findings with the same id replace the earlier ones.
    pub async fn seed_security_hub(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_securityhub::Client::new(&self.config);
        if let Err(err) = client.enable_security_hub().send().await {
            // AWS rejects a second EnableSecurityHub with ResourceConflictException.
            if err.code() != Some("ResourceConflictException") {
                return Err(seed_error("Security Hub", "EnableSecurityHub", &err));
            }
        }
        use SeverityLabel::{Critical, High, Low, Medium};
        use WorkflowStatus::{New, Notified, Resolved};
        let findings = [
            (
                "demo-critical-1",
                Critical,
                New,
                "Admin API reachable without authentication",
            ),
            (
                "demo-high-1",
                High,
                Notified,
                "Security group allows 0.0.0.0/0 on port 22",
            ),
            (
                "demo-high-2",
                High,
                Resolved,
                "Root account has an access key",
            ),
            (
                "demo-medium-1",
                Medium,
                New,
                "CloudTrail log file validation is off",
            ),
            (
                "demo-medium-2",
                Medium,
                New,
                "S3 bucket has no lifecycle policy",
            ),
            (
                "demo-medium-3",
                Medium,
                Notified,
                "IAM policy allows iam:PassRole on *",
            ),
            (
                "demo-low-1",
                Low,
                New,
                "Lambda function uses an old runtime",
            ),
            ("demo-low-2", Low, New, "EBS volume is not tagged"),
        ];
        let findings: Vec<AwsSecurityFinding> = findings
            .into_iter()
            .map(|(id, severity, status, title)| finding(id, severity, status, title))
            .collect();
        let output = client
            .batch_import_findings()
            .set_findings(Some(findings))
            .send()
            .await
            .map_err(|err| seed_error("Security Hub findings", "BatchImportFindings", &err))?;
        let failed = output.failed_count().unwrap_or_default();
        if failed > 0 {
            return Err(DemoAwsError::Seed {
                resource: "Security Hub findings".into(),
                operation: "BatchImportFindings",
                detail: format!("{failed} findings were rejected"),
            });
        }
        Ok(())
    }
}

/// Returns the attributes of a client or case item of [`CASES_TABLE`].
fn record(
    key: &str,
    record_type: &str,
    status: &str,
    client: Option<&str>,
) -> Vec<(&'static str, AttributeValue)> {
    let mut item = vec![
        ("pk", AttributeValue::S(key.into())),
        ("type", AttributeValue::S(record_type.into())),
        ("status", AttributeValue::S(status.into())),
    ];
    if let Some(client) = client {
        item.push(("client", AttributeValue::S(client.into())));
    }
    item
}

/// Creates an on-demand table keyed by `pk` with KMS encryption, and a global secondary index
/// `by-<attribute>` when `index_attribute` is set. A table that exists already is kept.
async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    index_attribute: Option<&str>,
) -> Result<(), DemoAwsError> {
    let mut request = client
        .create_table()
        .table_name(name)
        .attribute_definitions(string_attribute("pk")?)
        .key_schema(key_element("pk")?)
        .billing_mode(BillingMode::PayPerRequest)
        .sse_specification(SseSpecification::builder().enabled(true).build());
    if let Some(attribute) = index_attribute {
        let index = GlobalSecondaryIndex::builder()
            .index_name(format!("by-{attribute}"))
            .key_schema(key_element(attribute)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|err| seed_error(format!("table {name}"), "CreateTable", &err))?;
        request = request
            .attribute_definitions(string_attribute(attribute)?)
            .global_secondary_indexes(index);
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|service| service.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(err) => Err(seed_error(format!("table {name}"), "CreateTable", &err)),
    }
}

/// Turns point-in-time recovery of a table on or off.
async fn set_pitr(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    enabled: bool,
) -> Result<(), DemoAwsError> {
    let operation = "UpdateContinuousBackups";
    let specification = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(enabled)
        .build()
        .map_err(|err| seed_error(format!("table {name}"), operation, &err))?;
    client
        .update_continuous_backups()
        .table_name(name)
        .point_in_time_recovery_specification(specification)
        .send()
        .await
        .map_err(|err| seed_error(format!("table {name}"), operation, &err))?;
    Ok(())
}

fn key_element(name: &str) -> Result<KeySchemaElement, DemoAwsError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(KeyType::Hash)
        .build()
        .map_err(|err| seed_error(format!("key {name}"), "CreateTable", &err))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, DemoAwsError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|err| seed_error(format!("attribute {name}"), "CreateTable", &err))
}

/// Builds an active Security Hub finding on the moto account.
fn finding(
    id: &str,
    severity: SeverityLabel,
    status: WorkflowStatus,
    title: &str,
) -> AwsSecurityFinding {
    // A fixed time keeps a second import identical to the first.
    let time = "2026-01-15T09:00:00Z";
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(id)
        .product_arn(format!(
            "arn:aws:securityhub:{DEMO_REGION}:{MOTO_ACCOUNT}:product/{MOTO_ACCOUNT}/default"
        ))
        .generator_id("golive-demo")
        .aws_account_id(MOTO_ACCOUNT)
        .types("Software and Configuration Checks")
        .created_at(time)
        .updated_at(time)
        .severity(Severity::builder().label(severity).build())
        .title(title)
        .description("Made-up finding of the golive demo")
        .resources(
            Resource::builder()
                .r#type("AwsAccount")
                .id(format!("AWS::::Account:{MOTO_ACCOUNT}"))
                .build(),
        )
        .record_state(RecordState::Active)
        .workflow(Workflow::builder().status(status).build())
        .build()
}

/// Builds a seeding error with the error's whole chain of causes, made terminal-safe.
fn seed_error(
    resource: impl Into<String>,
    operation: &'static str,
    err: &(dyn StdError + 'static),
) -> DemoAwsError {
    let detail = DisplayErrorContext(err).to_string();
    DemoAwsError::Seed {
        resource: resource.into(),
        operation,
        detail: truncate_chars(&terminal_safe(&detail), DETAIL_CHARS),
    }
}

/// Returns an error and its causes as one line.
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    terminal_safe(&text)
}
