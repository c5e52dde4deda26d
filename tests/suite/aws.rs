//! The AWS check kinds against a moto server on 127.0.0.1: resources are created through the AWS
//! SDK, then the checks run through `CheckSpec::run` with `endpoint_url` pointing at moto.
//!
//! Every test calls `aws_test_env` first, so the SDK only ever uses fake credentials and never
//! queries the instance metadata service.

use crate::support::moto;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType,
    SseSpecification,
};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, RecordState, Resource, Severity, SeverityLabel, Workflow, WorkflowStatus,
};
use golive::checks::{Outcome, ProbeContext, parse_spec};
use golive::demo::moto_bridge::MotoBridge;
use golive::redact::Redactor;
use moto::{
    CHECK_TIMEOUT, MOTO_ACCOUNT, MotoServer, TEST_REGION, aws_test_env, free_local_addr,
    moto_sdk_config, run, spec, target,
};

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("key schema element")
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("attribute definition")
}

/// Creates an on-demand table keyed by `pk`, with KMS encryption, a GSI `by-email` and,
/// when `pitr` is set, point-in-time recovery.
async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, pitr: bool) {
    let index = GlobalSecondaryIndex::builder()
        .index_name("by-email")
        .key_schema(key("email", KeyType::Hash))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index");
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(string_attribute("pk"))
        .attribute_definitions(string_attribute("email"))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(index)
        .billing_mode(BillingMode::PayPerRequest)
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .send()
        .await
        .expect("table created");
    if pitr {
        client
            .update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .expect("PITR specification"),
            )
            .send()
            .await
            .expect("PITR enabled");
    }
}

async fn put_user(client: &aws_sdk_dynamodb::Client, table: &str, id: &str, status: &str) {
    client
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(id.into()))
        .item("email", AttributeValue::S(format!("{id}@example.com")))
        .item("status", AttributeValue::S(status.into()))
        .item("logins", AttributeValue::N("3".into()))
        .item(
            "api_secret",
            AttributeValue::S("hidden-attribute-value".into()),
        )
        .send()
        .await
        .expect("item written");
}

async fn dynamodb_fixture(moto: &MotoServer) -> aws_sdk_dynamodb::Client {
    let config = moto_sdk_config(&moto.endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    create_table(&client, "AuthBridgeTable", true).await;
    create_table(&client, "SessionsTable", false).await;
    put_user(&client, "AuthBridgeTable", "user#1", "active").await;
    put_user(&client, "AuthBridgeTable", "user#2", "active").await;
    put_user(&client, "AuthBridgeTable", "user#3", "locked").await;
    client
}

#[tokio::test]
async fn dynamodb_table_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    dynamodb_fixture(&moto).await;
    let expect = r#"
        [expect]
        pitr = true
        encryption = true
        billing_mode = "PAY_PER_REQUEST"
        indexes = ["by-email"]
    "#;

    let settings = format!(
        "{}table = \"AuthBridgeTable\"\n{expect}",
        target(&moto.endpoint())
    );
    let probe = run(&spec("dynamodb_table", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.evidence.assertions.len(), 5);

    let settings = format!(
        "{}table = \"SessionsTable\"\n{expect}",
        target(&moto.endpoint())
    );
    let probe = run(&spec("dynamodb_table", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert!(
        probe.summary.contains("point-in-time recovery"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn dynamodb_table_missing_index_fails() {
    aws_test_env();
    let moto = MotoServer::start();
    dynamodb_fixture(&moto).await;
    let settings = format!(
        "{}table = \"AuthBridgeTable\"\nexpect = {{ indexes = [\"by-email\", \"by-tenant\"] }}\n",
        target(&moto.endpoint())
    );

    let probe = run(&spec("dynamodb_table", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "index by-tenant: expected present, got missing"
    );
}

#[tokio::test]
async fn dynamodb_table_unknown_is_error() {
    aws_test_env();
    let moto = MotoServer::start();
    let settings = format!("{}table = \"AuthBridgeTable\"\n", target(&moto.endpoint()));

    let probe = run(&spec("dynamodb_table", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(
        probe
            .summary
            .starts_with("table AuthBridgeTable not found in eu-west-1"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn dynamodb_endpoint_down_is_error() {
    aws_test_env();
    // Nothing listens on a port that was free a moment ago.
    let closed = format!("http://{}", free_local_addr());
    let settings = format!("{}table = \"AuthBridgeTable\"\n", target(&closed));

    let probe = run(&spec("dynamodb_table", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(probe.summary.contains("unreachable"), "{}", probe.summary);
    assert!(probe.summary.contains(&closed), "{}", probe.summary);
}

#[tokio::test]
async fn dynamodb_silent_endpoint_times_out() {
    aws_test_env();
    // The listener accepts connections and never responds, like a black-holed endpoint.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let silent = format!("http://{}", listener.local_addr().expect("local address"));
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let settings = format!("{}table = \"AuthBridgeTable\"\n", target(&silent));
    let ctx = ProbeContext {
        redactor: Arc::new(Redactor::new()),
        timeout: Duration::from_secs(1),
        body_limit: 64 * 1024,
    };

    let probe = tokio::time::timeout(CHECK_TIMEOUT, spec("dynamodb_table", &settings).run(&ctx))
        .await
        .expect("check finishes within the hang guard");
    holder.abort();

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(probe.summary.contains("timed out"), "{}", probe.summary);
    assert!(
        probe.summary.contains("table AuthBridgeTable"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn dynamodb_item_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    dynamodb_fixture(&moto).await;
    let item = |id: &str| {
        format!(
            "{}table = \"AuthBridgeTable\"\nkey = {{ pk = \"{id}\" }}\n\
             expect = {{ attributes = {{ status = \"active\", logins = 3 }} }}\n",
            target(&moto.endpoint())
        )
    };

    let probe = run(&spec("dynamodb_item", &item("user#1"))).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    let shown = serde_json::to_string(&probe).expect("probe serialises");
    assert!(!shown.contains("hidden-attribute-value"), "{shown}");
    assert!(!shown.contains("user#1@example.com"), "{shown}");

    let probe = run(&spec("dynamodb_item", &item("user#3"))).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "attribute status: expected \"active\", got \"locked\""
    );

    let probe = run(&spec("dynamodb_item", &item("user#9"))).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(probe.summary, "item: expected exists, got not found");
}

#[tokio::test]
async fn dynamodb_count_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    dynamodb_fixture(&moto).await;
    let count = |expect: &str| {
        format!(
            "{}table = \"AuthBridgeTable\"\nfilter = \"#s = :active\"\n\
             names = {{ \"#s\" = \"status\" }}\nvalues = {{ \":active\" = \"active\" }}\n\
             expect = {expect}\n",
            target(&moto.endpoint())
        )
    };

    let probe = run(&spec("dynamodb_count", &count("{ min = 2, max = 2 }"))).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");

    let probe = run(&spec("dynamodb_count", &count("{ max = 1 }"))).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(probe.summary, "item count: expected at most 1, got 2");
}

#[tokio::test]
async fn dynamodb_query_counts_key() {
    aws_test_env();
    let moto = MotoServer::start();
    dynamodb_fixture(&moto).await;
    let settings = format!(
        "{}table = \"AuthBridgeTable\"\nkey_condition = \"pk = :id\"\n\
         values = {{ \":id\" = \"user#2\" }}\nexpect = {{ min = 1, max = 1 }}\n",
        target(&moto.endpoint())
    );

    let probe = run(&spec("dynamodb_count", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
}

#[test]
fn aws_settings_reject_bad_values() {
    let cases = [
        ("dynamodb_table", "region = \"\"\ntable = \"T\"\n"),
        ("dynamodb_table", "region = \"EU West\"\ntable = \"T\"\n"),
        (
            "dynamodb_table",
            "region = \"eu-west-1\"\nendpoint_url = \"ftp://127.0.0.1\"\ntable = \"T\"\n",
        ),
        ("dynamodb_table", "region = \"eu-west-1\"\ntable = \"\"\n"),
        (
            "dynamodb_count",
            "region = \"eu-west-1\"\ntable = \"T\"\nexpect = {}\n",
        ),
        (
            "dynamodb_count",
            "region = \"eu-west-1\"\ntable = \"T\"\nexpect = { min = 3, max = 1 }\n",
        ),
        (
            "dynamodb_item",
            "region = \"eu-west-1\"\ntable = \"T\"\nkey = {}\n",
        ),
    ];
    for (kind, settings) in cases {
        let table: toml::Table = toml::from_str(settings).expect("settings are TOML");
        assert!(
            parse_spec(kind, table).is_err(),
            "{kind} accepted {settings:?}"
        );
    }
}

#[test]
fn aws_settings_reject_bad_selections() {
    let cases = [
        ("aws_alarms", "region = \"eu-west-1\"\n"),
        ("aws_alarms", "region = \"eu-west-1\"\nnames = []\n"),
        (
            "aws_alarms",
            "region = \"eu-west-1\"\nnames = [\"a\"]\nprefix = \"a\"\n",
        ),
        (
            "aws_alarms",
            "region = \"eu-west-1\"\nprefix = \"a\"\nexpect = { state = \"ok\" }\n",
        ),
        (
            "securityhub_findings",
            "region = \"eu-west-1\"\nexpect = { max = {} }\n",
        ),
        (
            "securityhub_findings",
            "region = \"eu-west-1\"\nexpect = { max = { severe = 0 } }\n",
        ),
    ];
    for (kind, settings) in cases {
        let table: toml::Table = toml::from_str(settings).expect("settings are TOML");
        assert!(
            parse_spec(kind, table).is_err(),
            "{kind} accepted {settings:?}"
        );
    }
}

#[test]
fn aws_describe_starts_with_target() {
    let cases = [
        ("aws_alarms", "prefix = \"api-\""),
        ("dynamodb_table", "table = \"T\""),
        ("dynamodb_item", "table = \"T\"\nkey = { pk = \"a\" }"),
        ("dynamodb_count", "table = \"T\"\nexpect = { max = 1 }"),
        ("securityhub_findings", ""),
    ];
    for (kind, settings) in cases {
        let settings = format!("region = \"eu-west-1\"\nprofile = \"launch\"\n{settings}\n");
        let lines = spec(kind, &settings).describe(&Redactor::new());
        assert_eq!(
            lines[0],
            ("region".to_string(), "eu-west-1".to_string()),
            "{kind}"
        );
        assert_eq!(
            lines[1],
            ("profile".to_string(), "launch".to_string()),
            "{kind}"
        );
    }
}

#[test]
fn aws_settings_empty_endpoint_uses_sdk() {
    let settings = "region = \"eu-west-1\"\nendpoint_url = \"\"\ntable = \"T\"\n";
    let check = spec("dynamodb_table", settings);
    let lines = check.describe(&Redactor::new());
    assert!(
        lines.iter().all(|(label, _)| label != "endpoint"),
        "{lines:?}"
    );
}

/// Runs `golive check --format json` on a checklist with a clean environment: no AWS
/// credentials, no config files and no metadata service.
fn golive_without_credentials(home: &Path, checklist: &Path, extra: &[&str]) -> Output {
    let missing = home.join("no-aws-config");
    Command::new(env!("CARGO_BIN_EXE_golive"))
        .args([
            "check",
            checklist.to_str().expect("UTF-8 path"),
            "--format",
            "json",
        ])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &missing)
        .env("AWS_SHARED_CREDENTIALS_FILE", &missing)
        .stdin(Stdio::null())
        .output()
        .expect("golive runs")
}

#[test]
fn missing_credentials_is_error() {
    aws_test_env();
    let moto = MotoServer::start();
    let home = tempfile::tempdir().expect("temporary directory");
    let checklist = home.path().join("aws.toml");
    let text = format!(
        r#"[checklist]
title = "AWS"

[[phases]]
id = "data"
title = "Data"

[[phases.items]]
id = "table"
title = "Table is active"
severity = "critical"
[phases.items.check]
kind = "dynamodb_table"
{}table = "AuthBridgeTable"
"#,
        target(&moto.endpoint())
    );
    std::fs::write(&checklist, text).expect("checklist written");

    let output = golive_without_credentials(home.path(), &checklist, &[]);

    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("JSON report ({err}): {stdout}"));
    let item = &report["items"][0];
    assert_eq!(item["status"], "error", "{item}");
    let text = item.to_string();
    assert!(text.contains("no AWS credentials"), "{text}");
}

#[test]
fn config_profile_replaces_checklist_profile() {
    aws_test_env();
    let home = tempfile::tempdir().expect("temporary directory");
    let checklist = home.path().join("aws.toml");
    let text = r#"[checklist]
title = "AWS"

[environments.staging]
profile = "checklist-profile"

[[phases]]
id = "data"
title = "Data"

[[phases.items]]
id = "table"
title = "Table is active"
[phases.items.check]
kind = "dynamodb_table"
region = "eu-west-1"
profile = "${profile}"
endpoint_url = "http://127.0.0.1:9"
table = "AuthBridgeTable"
"#;
    std::fs::write(&checklist, text).expect("checklist written");
    let config_dir = home.path().join("config/golive");
    std::fs::create_dir_all(&config_dir).expect("config folder");
    std::fs::write(
        config_dir.join("config.toml"),
        "[aws.profiles]\nstaging = \"profile-of-config\"\n",
    )
    .expect("config written");

    let output = golive_without_credentials(home.path(), &checklist, &["--env", "staging"]);

    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("JSON report ({err}): {stdout}"));
    let text = report["items"][0].to_string();
    assert!(
        text.contains("eu-west-1 (profile profile-of-config)"),
        "{text}"
    );
    assert!(!text.contains("checklist-profile"), "{text}");
}

/// Builds a finding of the given severity, record state and workflow status.
fn finding(
    id: &str,
    label: SeverityLabel,
    record: RecordState,
    workflow: WorkflowStatus,
) -> AwsSecurityFinding {
    let now = "2026-12-01T10:00:00Z";
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(id)
        .product_arn(format!(
            "arn:aws:securityhub:{TEST_REGION}:{MOTO_ACCOUNT}:product/{MOTO_ACCOUNT}/default"
        ))
        .generator_id("golive-test")
        .aws_account_id(MOTO_ACCOUNT)
        .types("Software and Configuration Checks")
        .created_at(now)
        .updated_at(now)
        .severity(Severity::builder().label(label.clone()).build())
        .title(format!("{} finding {id}", label.as_str()))
        .description("test finding")
        .resources(
            Resource::builder()
                .r#type("AwsAccount")
                .id(format!("AWS::::Account:{MOTO_ACCOUNT}"))
                .build(),
        )
        .record_state(record)
        .workflow(Workflow::builder().status(workflow).build())
        .build()
}

/// Enables Security Hub and imports findings of several severities, states and statuses.
async fn securityhub_fixture(moto: &MotoServer) {
    let config = moto_sdk_config(&moto.endpoint()).await;
    let client = aws_sdk_securityhub::Client::new(&config);
    client
        .enable_security_hub()
        .send()
        .await
        .expect("hub enabled");
    let findings = [
        finding(
            "critical-open",
            SeverityLabel::Critical,
            RecordState::Active,
            WorkflowStatus::New,
        ),
        finding(
            "high-archived",
            SeverityLabel::High,
            RecordState::Archived,
            WorkflowStatus::New,
        ),
        finding(
            "high-resolved",
            SeverityLabel::High,
            RecordState::Active,
            WorkflowStatus::Resolved,
        ),
        finding(
            "medium-1",
            SeverityLabel::Medium,
            RecordState::Active,
            WorkflowStatus::Notified,
        ),
        finding(
            "medium-2",
            SeverityLabel::Medium,
            RecordState::Active,
            WorkflowStatus::New,
        ),
    ];
    let output = client
        .batch_import_findings()
        .set_findings(Some(findings.to_vec()))
        .send()
        .await
        .expect("findings imported");
    assert_eq!(output.failed_count(), Some(0), "{output:?}");
}

#[tokio::test]
async fn securityhub_findings_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    securityhub_fixture(&moto).await;

    let settings = format!(
        "{}expect = {{ max = {{ critical = 1, high = 0, medium = 2 }} }}\n",
        target(&moto.endpoint())
    );
    let probe = run(&spec("securityhub_findings", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    let counts = &probe.evidence.tables[0];
    assert_eq!(counts.rows.len(), 3);
    assert_eq!(counts.rows[0].label, "CRITICAL");
    assert_eq!(counts.rows[0].cells[0].text, "1");
    assert_eq!(counts.rows[1].label, "HIGH");
    assert_eq!(counts.rows[1].cells[0].text, "0");
    assert_eq!(counts.rows[2].cells[0].text, "2");

    let probe = run(&spec("securityhub_findings", &target(&moto.endpoint()))).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "active CRITICAL findings: expected at most 0, got 1"
    );
    let titles = &probe.evidence.tables[1];
    assert_eq!(titles.rows.len(), 1);
    assert_eq!(
        titles.rows[0].cells[0].text,
        "CRITICAL finding critical-open"
    );
}

#[tokio::test]
async fn securityhub_disabled_fails() {
    aws_test_env();
    let moto = MotoServer::start();

    let probe = run(&spec("securityhub_findings", &target(&moto.endpoint()))).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "Security Hub: expected enabled, got not enabled in eu-west-1"
    );
}

const ONCALL_TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:oncall";

async fn put_alarm(client: &aws_sdk_cloudwatch::Client, name: &str, actions_enabled: bool) {
    client
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AuthBridge")
        .metric_name("Errors")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .actions_enabled(actions_enabled)
        .alarm_actions(ONCALL_TOPIC)
        .send()
        .await
        .expect("alarm created");
}

/// Creates `api-5xx` and `api-latency` in OK, `payments-errors` in ALARM and `batch-errors`
/// with actions disabled, all through the bridge.
async fn alarms_fixture(bridge: &MotoBridge) {
    let config = moto_sdk_config(&bridge.endpoint()).await;
    let client = aws_sdk_cloudwatch::Client::new(&config);
    put_alarm(&client, "api-5xx", true).await;
    put_alarm(&client, "api-latency", true).await;
    put_alarm(&client, "payments-errors", true).await;
    put_alarm(&client, "batch-errors", false).await;
    client
        .set_alarm_state()
        .alarm_name("payments-errors")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold crossed: 9 errors")
        .send()
        .await
        .expect("alarm state set");
}

fn alarms_settings(endpoint: &str, selection: &str, expect: &str) -> String {
    format!("{}{selection}\nexpect = {expect}\n", target(endpoint))
}

#[tokio::test]
async fn alarms_by_name_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    alarms_fixture(&bridge).await;
    let expect = format!("{{ actions_enabled = true, action_contains = \"{ONCALL_TOPIC}\" }}");

    let names = "names = [\"api-5xx\", \"api-latency\"]";
    let settings = alarms_settings(&bridge.endpoint(), names, &expect);
    let probe = run(&spec("aws_alarms", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    let table = &probe.evidence.tables[0];
    assert_eq!(table.rows.len(), 2);
    assert_eq!(table.rows[0].cells[0].text, "OK");
    assert_eq!(table.rows[0].cells[3].text, ONCALL_TOPIC);

    let names = "names = [\"api-5xx\", \"payments-errors\"]";
    let settings = alarms_settings(&bridge.endpoint(), names, &expect);
    let probe = run(&spec("aws_alarms", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "alarm payments-errors state: expected not ALARM, got ALARM"
    );

    let names = "names = [\"api-5xx\", \"api-errors\"]";
    let settings = alarms_settings(&bridge.endpoint(), names, &expect);
    let probe = run(&spec("aws_alarms", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "alarm api-errors exists: expected exists, got not found"
    );

    let names = "names = [\"batch-errors\"]";
    let settings = alarms_settings(&bridge.endpoint(), names, &expect);
    let probe = run(&spec("aws_alarms", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "alarm batch-errors actions enabled: expected yes, got no"
    );
}

#[tokio::test]
async fn alarms_by_prefix_exact_state() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    alarms_fixture(&bridge).await;

    let settings = alarms_settings(
        &bridge.endpoint(),
        "prefix = \"api-\"",
        "{ state = \"OK\" }",
    );
    let probe = run(&spec("aws_alarms", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.evidence.tables[0].rows.len(), 2);

    let settings = alarms_settings(&bridge.endpoint(), "prefix = \"pay\"", "{ state = \"OK\" }");
    let probe = run(&spec("aws_alarms", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "alarm payments-errors state: expected OK, got ALARM"
    );

    let settings = alarms_settings(&bridge.endpoint(), "prefix = \"web-\"", "{}");
    let probe = run(&spec("aws_alarms", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "alarms with prefix web-: expected at least 1, got 0"
    );
}

/// moto serves CloudWatch without the SDK's CBOR protocol, so without the bridge it returns
/// an HTML 404 that carries no AWS error code.
#[tokio::test]
async fn alarms_against_endpoint_without_cbor_name_http_status() {
    aws_test_env();
    let moto = MotoServer::start();
    let check = spec(
        "aws_alarms",
        &alarms_settings(&moto.endpoint(), "names = [\"api-5xx\"]", "{}"),
    );

    let probe = run(&check).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(
        probe
            .summary
            .contains("the endpoint answered HTTP 404 without an AWS error"),
        "{}",
        probe.summary
    );
    assert!(
        probe
            .summary
            .contains("check that `endpoint_url` points at CloudWatch")
    );
}

/// Starts a server on 127.0.0.1 that responds to every request with HTTP 200 and the JSON `{}`, as
/// a wrong endpoint might, and returns its URL.
async fn empty_json_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 64 * 1024];
                // One read takes the small request of a test, and the response closes the
                // connection.
                let _ = stream.read(&mut buffer).await;
                let response = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                content-length: 2\r\nconnection: close\r\n\r\n{}";
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn securityhub_answer_without_hub_is_error() {
    aws_test_env();
    let endpoint = empty_json_server().await;
    let check = spec("securityhub_findings", &target(&endpoint));

    let probe = run(&check).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(
        probe.summary.contains("answered without a hub ARN"),
        "{}",
        probe.summary
    );
}

/// Starts a server on 127.0.0.1 that responds to every request with HTTP 200 and a JSON body that
/// never ends, and returns its URL.
async fn endless_body_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 64 * 1024];
                let _ = stream.read(&mut buffer).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                            transfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("100000\r\n{}\r\n", " ".repeat(0x10_0000));
                // Ends when the client hangs up.
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn endless_response_body_is_cut() {
    aws_test_env();
    let endpoint = endless_body_server().await;
    let check = spec(
        "dynamodb_table",
        &format!("{}table = \"AuthBridgeTable\"\n", target(&endpoint)),
    );
    let ctx = ProbeContext {
        redactor: Arc::new(Redactor::new()),
        timeout: Duration::from_secs(20),
        body_limit: 64 * 1024,
    };

    let probe = tokio::time::timeout(CHECK_TIMEOUT, check.run(&ctx))
        .await
        .expect("check finishes within the hang guard");

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    // Without the cap the read goes on until the check's timeout.
    assert!(!probe.summary.contains("timed out"), "{}", probe.summary);
}
