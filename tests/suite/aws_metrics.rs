//! The CloudWatch metric and dashboard kinds and the Security Hub hub kind. The CloudWatch
//! checks run against moto through the moto bridge, with datapoints and dashboards written by
//! the AWS SDK. moto 5.2 has no GetEnabledStandards operation, so the standards tests run
//! against a local server on 127.0.0.1 that responds to DescribeHub and GetEnabledStandards with
//! the response shapes of the Security Hub API reference.

use crate::support::moto;

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use axum::Router;
use axum::routing::{get, post};
use golive::checks::{Outcome, parse_spec};
use golive::demo::moto_bridge::MotoBridge;
use moto::{MotoServer, aws_test_env, free_local_addr, moto_sdk_config, run, spec, target};

/// Returns the endpoint of a port on 127.0.0.1 where nothing listens.
fn closed_endpoint() -> String {
    format!("http://{}", free_local_addr())
}

fn seconds_ago(seconds: u64) -> DateTime {
    let now = SystemTime::now() - Duration::from_secs(seconds);
    DateTime::from(now)
}

async fn put_datapoint(client: &aws_sdk_cloudwatch::Client, api: &str, value: f64, at: DateTime) {
    client
        .put_metric_data()
        .namespace("AWS/ApiGateway")
        .metric_data(
            MetricDatum::builder()
                .metric_name("5XXError")
                .dimensions(Dimension::builder().name("ApiName").value(api).build())
                .value(value)
                .unit(StandardUnit::Count)
                .timestamp(at)
                .build(),
        )
        .send()
        .await
        .expect("datapoint written");
}

/// Writes 5XXError datapoints of API `authbridge`: 1 seven minutes ago and 2 three minutes ago,
/// and of API `other`: 50 three minutes ago.
async fn errors_fixture(bridge: &MotoBridge) {
    let config = moto_sdk_config(&bridge.endpoint()).await;
    let client = aws_sdk_cloudwatch::Client::new(&config);
    put_datapoint(&client, "authbridge", 1.0, seconds_ago(7 * 60)).await;
    put_datapoint(&client, "authbridge", 2.0, seconds_ago(3 * 60)).await;
    put_datapoint(&client, "other", 50.0, seconds_ago(3 * 60)).await;
}

fn metric_settings(endpoint: &str, api: &str, statistic: &str, expect: &str) -> String {
    format!(
        "{}namespace = \"AWS/ApiGateway\"\nmetric = \"5XXError\"\n\
         dimensions = {{ ApiName = \"{api}\" }}\nstatistic = \"{statistic}\"\nwindow = \"15m\"\n\
         expect = {expect}\n",
        target(endpoint)
    )
}

async fn moto_with_bridge() -> (MotoServer, MotoBridge) {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint())
        .await
        .expect("bridge starts");
    (moto, bridge)
}

#[tokio::test]
async fn metric_sum_within_bound_passes() {
    let (_moto, bridge) = moto_with_bridge().await;
    errors_fixture(&bridge).await;
    let settings = metric_settings(&bridge.endpoint(), "authbridge", "Sum", "{ max = 5 }");

    let probe = run(&spec("cloudwatch_metric", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.summary, "5XXError Sum over 15m: 3 (at most 5)");
    let series = probe.evidence.series.as_ref().expect("series in evidence");
    assert_eq!(series.label, "5XXError Sum per 1m");
    assert_eq!(series.points.len(), 15);
    let known: Vec<(usize, f64)> = series
        .points
        .iter()
        .enumerate()
        .filter_map(|(index, point)| point.map(|value| (index, value)))
        .collect();
    assert_eq!(known.len(), 2, "{known:?}");
    assert_eq!(known[0].1, 1.0);
    assert_eq!(known[1].1, 2.0);
    assert_eq!(known[1].0 - known[0].0, 4, "datapoints 4 minutes apart");
}

#[tokio::test]
async fn metric_sum_above_bound_fails() {
    let (_moto, bridge) = moto_with_bridge().await;
    errors_fixture(&bridge).await;
    let settings = metric_settings(&bridge.endpoint(), "authbridge", "Sum", "{ max = 0 }");

    let probe = run(&spec("cloudwatch_metric", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "5XXError Sum over 15m: expected at most 0, got 3"
    );
}

#[tokio::test]
async fn metric_statistics_aggregate_window() {
    let (_moto, bridge) = moto_with_bridge().await;
    errors_fixture(&bridge).await;
    let endpoint = bridge.endpoint();

    let settings = metric_settings(&endpoint, "authbridge", "Maximum", "{ max = 1 }");
    let probe = run(&spec("cloudwatch_metric", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "5XXError Maximum over 15m: expected at most 1, got 2"
    );

    let settings = metric_settings(
        &endpoint,
        "authbridge",
        "SampleCount",
        "{ min = 2, max = 2 }",
    );
    let probe = run(&spec("cloudwatch_metric", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");

    let settings = metric_settings(&endpoint, "other", "Minimum", "{ min = 10 }");
    let probe = run(&spec("cloudwatch_metric", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.summary, "5XXError Minimum over 15m: 50 (at least 10)");
}

#[tokio::test]
async fn metric_average_weights_samples() {
    let (_moto, bridge) = moto_with_bridge().await;
    let config = moto_sdk_config(&bridge.endpoint()).await;
    let client = aws_sdk_cloudwatch::Client::new(&config);
    // One period averages 10 and 20 (15 over 2 samples), another contains 40 (1 sample): the
    // window's average is 70 / 3, not the mean of the periods, 27.5.
    let recent = seconds_ago(2 * 60);
    put_datapoint(&client, "authbridge", 10.0, recent).await;
    put_datapoint(&client, "authbridge", 20.0, recent).await;
    put_datapoint(&client, "authbridge", 40.0, seconds_ago(6 * 60)).await;
    let settings = metric_settings(
        &bridge.endpoint(),
        "authbridge",
        "Average",
        "{ min = 23, max = 24 }",
    );

    let probe = run(&spec("cloudwatch_metric", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(
        probe.summary,
        "5XXError Average over 15m: 23.333 (between 23 and 24)"
    );
}

#[tokio::test]
async fn metric_without_datapoints_follows_setting() {
    let (_moto, bridge) = moto_with_bridge().await;
    errors_fixture(&bridge).await;
    let endpoint = bridge.endpoint();

    let settings = metric_settings(&endpoint, "unknown-api", "Sum", "{ max = 0 }");
    let probe = run(&spec("cloudwatch_metric", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(probe.summary, "no datapoints in the last 15m");
    let series = probe.evidence.series.as_ref().expect("series in evidence");
    assert!(series.points.iter().all(Option::is_none), "{series:?}");

    let cases = [
        ("pass", Outcome::Pass),
        ("error", Outcome::Error),
        ("zero", Outcome::Pass),
    ];
    for (missing_data, outcome) in cases {
        let expect = format!("{{ max = 0, missing_data = \"{missing_data}\" }}");
        let settings = metric_settings(&endpoint, "unknown-api", "Sum", &expect);
        let probe = run(&spec("cloudwatch_metric", &settings)).await;
        assert_eq!(probe.outcome, outcome, "{missing_data}: {probe:?}");
    }

    let expect = "{ min = 1, missing_data = \"zero\" }";
    let settings = metric_settings(&endpoint, "unknown-api", "Sum", expect);
    let probe = run(&spec("cloudwatch_metric", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "5XXError Sum over 15m: expected at least 1, got 0"
    );
}

#[tokio::test]
async fn metric_endpoint_down_is_error() {
    aws_test_env();
    let settings = metric_settings(&closed_endpoint(), "authbridge", "Sum", "{ max = 0 }");

    let probe = run(&spec("cloudwatch_metric", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(
        probe.summary.contains("unreachable for GetMetricData"),
        "{}",
        probe.summary
    );
}

#[test]
fn metric_settings_reject_bad_values() {
    let base = "region = \"eu-west-1\"\n";
    let cases = [
        "metric = \"Errors\"\nstatistic = \"Sum\"\nwindow = \"15m\"\nexpect = { max = 0 }",
        "namespace = \"\"\nmetric = \"Errors\"\nstatistic = \"Sum\"\nwindow = \"15m\"\n\
         expect = { max = 0 }",
        "namespace = \"AWS/Lambda\"\nmetric = \"Errors\"\nstatistic = \"sum\"\nwindow = \"15m\"\n\
         expect = { max = 0 }",
        "namespace = \"AWS/Lambda\"\nmetric = \"Errors\"\nstatistic = \"Sum\"\nwindow = \"soon\"\n\
         expect = { max = 0 }",
        "namespace = \"AWS/Lambda\"\nmetric = \"Errors\"\nstatistic = \"Sum\"\nwindow = \"15m\"\n\
         dimensions = { FunctionName = \"\" }\nexpect = { max = 0 }",
        "namespace = \"AWS/Lambda\"\nmetric = \"Errors\"\nstatistic = \"Sum\"\nwindow = \"15m\"\n\
         expect = { maximum = 0 }",
        "namespace = \"AWS/Lambda\"\nmetric = \"Errors\"\nstatistic = \"Sum\"\nwindow = \"15m\"\n\
         expect = {}",
    ];
    for settings in cases {
        let table: toml::Table = toml::from_str(&format!("{base}{settings}")).expect("TOML");
        assert!(
            parse_spec("cloudwatch_metric", table).is_err(),
            "accepted {settings:?}"
        );
    }
}

/// A dashboard body with Lambda metrics (one row repeating the previous namespace) and a
/// SEARCH expression over DynamoDB tables.
const SERVICE_DASHBOARD: &str = r#"{"widgets": [
    {"type": "metric", "properties": {"title": "Lambda", "metrics": [
        ["AWS/Lambda", "Errors", "FunctionName", "verify"],
        ["...", "approve"]
    ]}},
    {"type": "metric", "properties": {"title": "DynamoDB", "metrics": [
        [{"expression": "SEARCH('{AWS/DynamoDB,TableName} ThrottledRequests', 'Sum', 300)"}]
    ]}},
    {"type": "text", "properties": {"markdown": "AuthBridge"}}
]}"#;

async fn dashboards_fixture(bridge: &MotoBridge) {
    let config = moto_sdk_config(&bridge.endpoint()).await;
    let client = aws_sdk_cloudwatch::Client::new(&config);
    for (name, body) in [
        ("authbridge-staging", SERVICE_DASHBOARD),
        ("empty", r#"{"widgets": []}"#),
    ] {
        client
            .put_dashboard()
            .dashboard_name(name)
            .dashboard_body(body)
            .send()
            .await
            .expect("dashboard written");
    }
}

fn dashboards_settings(endpoint: &str, names: &str, namespaces: &str) -> String {
    format!(
        "{}names = {names}\nexpect = {{ namespaces = {namespaces} }}\n",
        target(endpoint)
    )
}

#[tokio::test]
async fn dashboards_with_namespaces_pass() {
    let (_moto, bridge) = moto_with_bridge().await;
    dashboards_fixture(&bridge).await;
    let settings = dashboards_settings(
        &bridge.endpoint(),
        "[\"authbridge-staging\"]",
        "[\"AWS/Lambda\", \"AWS/DynamoDB\"]",
    );

    let probe = run(&spec("cloudwatch_dashboards", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.evidence.assertions.len(), 3);
    let row = &probe.evidence.tables[0].rows[0];
    assert_eq!(row.label, "authbridge-staging");
    assert_eq!(row.cells[0].text, "yes");
    // The listing's LastModified reaches the SDK as a timestamp through the bridge.
    assert_ne!(row.cells[1].text, "unknown");
    assert_eq!(row.cells[3].text, "AWS/DynamoDB, AWS/Lambda");
}

#[tokio::test]
async fn dashboards_missing_namespace_or_name_fail() {
    let (_moto, bridge) = moto_with_bridge().await;
    dashboards_fixture(&bridge).await;
    let endpoint = bridge.endpoint();

    let settings = dashboards_settings(
        &endpoint,
        "[\"authbridge-staging\"]",
        "[\"AWS/Lambda\", \"AWS/ApiGateway\"]",
    );
    let probe = run(&spec("cloudwatch_dashboards", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "dashboard authbridge-staging namespace AWS/ApiGateway: expected present, got missing"
    );

    let settings = dashboards_settings(&endpoint, "[\"empty\", \"authbridge-prod\"]", "[]");
    let probe = run(&spec("cloudwatch_dashboards", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "dashboard authbridge-prod exists: expected exists, got not found"
    );
}

#[tokio::test]
async fn dashboards_endpoint_down_is_error() {
    aws_test_env();
    let settings = dashboards_settings(&closed_endpoint(), "[\"authbridge-staging\"]", "[]");

    let probe = run(&spec("cloudwatch_dashboards", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(
        probe.summary.contains("unreachable for ListDashboards"),
        "{}",
        probe.summary
    );
}

#[test]
fn dashboards_settings_reject_bad_values() {
    let cases = [
        "names = []",
        "names = [\"\"]",
        "names = [\"a\"]\nexpect = { namespaces = [\"\"] }",
        "names = [\"a\"]\nexpect = { widgets = 3 }",
    ];
    for settings in cases {
        let table: toml::Table =
            toml::from_str(&format!("region = \"eu-west-1\"\n{settings}")).expect("TOML");
        assert!(
            parse_spec("cloudwatch_dashboards", table).is_err(),
            "accepted {settings:?}"
        );
    }
}

#[tokio::test]
async fn hub_enabled_in_moto_passes() {
    aws_test_env();
    let moto = MotoServer::start();
    let settings = target(&moto.endpoint());

    let probe = run(&spec("securityhub_hub", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "Security Hub: expected enabled, got not enabled in eu-west-1"
    );

    let config = moto_sdk_config(&moto.endpoint()).await;
    aws_sdk_securityhub::Client::new(&config)
        .enable_security_hub()
        .send()
        .await
        .expect("hub enabled");
    let probe = run(&spec("securityhub_hub", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
}

const FSBP_ARN: &str =
    "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0";
const CIS_ARN: &str = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0";

/// Starts a server on 127.0.0.1 that responds to DescribeHub with an enabled hub and
/// GetEnabledStandards with a READY Foundational Security Best Practices subscription and an
/// INCOMPLETE CIS one.
async fn start_standards_server() -> String {
    let hub = serde_json::json!({
        "HubArn": "arn:aws:securityhub:eu-west-1:123456789012:hub/default",
        "SubscribedAt": "2026-01-05T10:00:00.000Z",
        "AutoEnableControls": true,
    });
    let standards = serde_json::json!({
        "StandardsSubscriptions": [
            {
                "StandardsSubscriptionArn": "arn:aws:securityhub:eu-west-1:123456789012:subscription/aws-foundational-security-best-practices/v/1.0.0",
                "StandardsArn": FSBP_ARN,
                "StandardsInput": {},
                "StandardsStatus": "READY",
            },
            {
                "StandardsSubscriptionArn": "arn:aws:securityhub:eu-west-1:123456789012:subscription/cis-aws-foundations-benchmark/v/1.2.0",
                "StandardsArn": CIS_ARN,
                "StandardsInput": {},
                "StandardsStatus": "INCOMPLETE",
                "StandardsStatusReason": { "StatusReasonCode": "NO_AVAILABLE_CONFIGURATION_RECORDER" },
            },
        ],
    });
    let app = Router::new()
        .route("/accounts", get(move || async move { axum::Json(hub) }))
        .route(
            "/standards/get",
            post(move || async move { axum::Json(standards) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn standards_settings(endpoint: &str, standards: &str) -> String {
    format!(
        "{}expect = {{ standards = {standards} }}\n",
        target(endpoint)
    )
}

#[tokio::test]
async fn hub_standards_ready_pass_and_fail() {
    aws_test_env();
    let endpoint = start_standards_server().await;

    let settings = standards_settings(
        &endpoint,
        "[\"aws-foundational-security-best-practices\", \"AWS Foundational Security Best Practices\"]",
    );
    let probe = run(&spec("securityhub_hub", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.evidence.assertions.len(), 3);
    let table = &probe.evidence.tables[0];
    assert_eq!(table.rows.len(), 2);
    assert_eq!(table.rows[0].label, FSBP_ARN);
    assert_eq!(table.rows[1].cells[0].text, "INCOMPLETE");

    let settings = standards_settings(&endpoint, "[\"cis-aws-foundations-benchmark\"]");
    let probe = run(&spec("securityhub_hub", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "standard cis-aws-foundations-benchmark: expected READY, got INCOMPLETE"
    );

    let settings = standards_settings(&endpoint, "[\"pci-dss\"]");
    let probe = run(&spec("securityhub_hub", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "standard pci-dss: expected READY, got not enabled"
    );
}

#[tokio::test]
async fn hub_endpoint_down_is_error() {
    aws_test_env();
    let settings = standards_settings(&closed_endpoint(), "[\"pci-dss\"]");

    let probe = run(&spec("securityhub_hub", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(
        probe.summary.contains("unreachable for DescribeHub"),
        "{}",
        probe.summary
    );
}
