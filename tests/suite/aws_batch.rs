//! Coalescing of AWS calls across checks, against moto behind the CloudWatch bridge on
//! 127.0.0.1. Checks run concurrently through `CheckSpec::run`, and the process-wide call
//! counter, read for the test's own endpoint, shows how many calls they shared.

use crate::support::moto;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, RecordState, Resource, Severity, SeverityLabel, Workflow, WorkflowStatus,
};
use futures::future::join_all;
use golive::checks::aws::calls::{CallCounts, call_counts};
use golive::checks::{CheckSpec, Outcome, Probe, ProbeContext};
use golive::demo::moto_bridge::MotoBridge;
use golive::redact::Redactor;
use moto::{
    CHECK_TIMEOUT, MOTO_ACCOUNT, MotoServer, TEST_REGION, aws_test_env, free_local_addr,
    moto_sdk_config, spec,
};

/// Number of alarms and of single-name alarm checks in the many-checks test.
const ALARM_COUNT: usize = 120;
const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:oncall";

fn context() -> ProbeContext {
    ProbeContext {
        redactor: Arc::new(Redactor::new()),
        timeout: CHECK_TIMEOUT,
        body_limit: 64 * 1024,
    }
}

/// Runs every check at the same moment and returns their probes in order.
async fn run_all(specs: &[CheckSpec]) -> Vec<Probe> {
    let ctx = context();
    let runs = specs.iter().map(|spec| spec.run(&ctx));
    tokio::time::timeout(CHECK_TIMEOUT, join_all(runs))
        .await
        .expect("checks finish within the hang guard")
}

/// Returns `host:port` of an endpoint URL, as the call counter keys it.
fn authority(endpoint: &str) -> String {
    endpoint.trim_start_matches("http://").to_string()
}

fn alarm_spec(endpoint: &str, name: &str) -> CheckSpec {
    let settings = format!(
        "region = \"{TEST_REGION}\"\nendpoint_url = \"{endpoint}\"\nnames = [\"{name}\"]\n\
         expect = {{ action_contains = \"{TOPIC}\" }}\n"
    );
    spec("aws_alarms", &settings)
}

fn alarm_name(index: usize) -> String {
    format!("batch-alarm-{index:03}")
}

/// Creates the alarms through the bridge, with every seventh one in the ALARM state.
async fn create_alarms(bridge: &MotoBridge, count: usize) {
    let config = moto_sdk_config(&bridge.endpoint()).await;
    let client = aws_sdk_cloudwatch::Client::new(&config);
    for index in 0..count {
        client
            .put_metric_alarm()
            .alarm_name(alarm_name(index))
            .namespace("AuthBridge")
            .metric_name("Errors")
            .statistic(Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(5.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .alarm_actions(TOPIC)
            .send()
            .await
            .expect("alarm created");
        let state = if index % 7 == 0 {
            StateValue::Alarm
        } else {
            StateValue::Ok
        };
        client
            .set_alarm_state()
            .alarm_name(alarm_name(index))
            .state_value(state)
            .state_reason("set by the test")
            .send()
            .await
            .expect("alarm state set");
    }
}

fn calls_since(before: &CallCounts, endpoint: &str, operation: &str) -> u64 {
    call_counts()
        .since(before)
        .at_endpoint(&authority(endpoint), operation)
}

#[tokio::test]
async fn many_alarm_checks_share_calls() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    create_alarms(&bridge, ALARM_COUNT).await;
    let specs: Vec<CheckSpec> = (0..ALARM_COUNT)
        .map(|index| alarm_spec(&bridge.endpoint(), &alarm_name(index)))
        .collect();

    let before = call_counts();
    let probes = run_all(&specs).await;
    let calls = calls_since(&before, &bridge.endpoint(), "DescribeAlarms");

    for (index, probe) in probes.iter().enumerate() {
        let name = alarm_name(index);
        if index % 7 == 0 {
            assert_eq!(probe.outcome, Outcome::Fail, "{name}: {probe:?}");
            assert_eq!(
                probe.summary,
                format!("alarm {name} state: expected not ALARM, got ALARM")
            );
        } else {
            assert_eq!(probe.outcome, Outcome::Pass, "{name}: {probe:?}");
        }
        let rows = &probe.evidence.tables[0].rows;
        assert_eq!(rows.len(), 1, "{name}: only its own alarm is shown");
        assert_eq!(rows[0].label, name);
    }
    // 120 names fit in two calls of at most 100 names.
    assert_eq!(calls, 2, "DescribeAlarms calls for {ALARM_COUNT} checks");
}

#[tokio::test]
async fn missing_name_fails_only_its_check() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    create_alarms(&bridge, 4).await;
    let names = [
        alarm_name(1),
        alarm_name(2),
        "absent-alarm".into(),
        alarm_name(3),
    ];
    let specs: Vec<CheckSpec> = names
        .iter()
        .map(|name| alarm_spec(&bridge.endpoint(), name))
        .collect();

    let before = call_counts();
    let probes = run_all(&specs).await;
    let calls = calls_since(&before, &bridge.endpoint(), "DescribeAlarms");

    assert_eq!(probes[0].outcome, Outcome::Pass, "{:?}", probes[0]);
    assert_eq!(probes[1].outcome, Outcome::Pass, "{:?}", probes[1]);
    assert_eq!(probes[2].outcome, Outcome::Fail, "{:?}", probes[2]);
    assert_eq!(
        probes[2].summary,
        "alarm absent-alarm exists: expected exists, got not found"
    );
    assert_eq!(probes[3].outcome, Outcome::Pass, "{:?}", probes[3]);
    assert_eq!(calls, 1, "DescribeAlarms calls for 4 checks");
}

#[tokio::test]
async fn endpoint_down_errors_every_check() {
    aws_test_env();
    let endpoint = format!("http://{}", free_local_addr());
    let specs: Vec<CheckSpec> = (0..10)
        .map(|index| alarm_spec(&endpoint, &alarm_name(index)))
        .collect();

    let before = call_counts();
    let probes = run_all(&specs).await;
    let attempts = calls_since(&before, &endpoint, "DescribeAlarms");

    for (index, probe) in probes.iter().enumerate() {
        assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
        assert!(probe.summary.contains("unreachable"), "{}", probe.summary);
        // Each error names the check's own alarm, not the whole batch.
        let own = format!("alarms {} in", alarm_name(index));
        assert!(probe.summary.contains(&own), "{}", probe.summary);
    }
    // One shared call; the SDK's standard retry mode makes at most 3 attempts.
    assert!(attempts >= 1, "DescribeAlarms attempts: {attempts}");
    assert!(attempts <= 3, "DescribeAlarms attempts: {attempts}");
}

#[tokio::test]
async fn timed_out_check_leaves_batch_working() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    create_alarms(&bridge, 2).await;
    let first = alarm_spec(&bridge.endpoint(), &alarm_name(1));
    let ctx = context();

    // The first check is dropped while its batch still collects, as at an engine timeout.
    let dropped = tokio::time::timeout(Duration::from_millis(1), first.run(&ctx)).await;
    assert!(dropped.is_err(), "the first check is cancelled");

    let probes = run_all(&[
        first.clone(),
        alarm_spec(&bridge.endpoint(), &alarm_name(0)),
    ])
    .await;
    assert_eq!(probes[0].outcome, Outcome::Pass, "{:?}", probes[0]);
    assert_eq!(probes[1].outcome, Outcome::Fail, "{:?}", probes[1]);
}

fn finding(id: &str, label: SeverityLabel) -> AwsSecurityFinding {
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
        .record_state(RecordState::Active)
        .workflow(Workflow::builder().status(WorkflowStatus::New).build())
        .build()
}

#[tokio::test]
async fn findings_checks_share_counts() {
    aws_test_env();
    let moto = MotoServer::start();
    let config = moto_sdk_config(&moto.endpoint()).await;
    let client = aws_sdk_securityhub::Client::new(&config);
    client
        .enable_security_hub()
        .send()
        .await
        .expect("hub enabled");
    let findings = vec![
        finding("high-1", SeverityLabel::High),
        finding("medium-1", SeverityLabel::Medium),
    ];
    client
        .batch_import_findings()
        .set_findings(Some(findings))
        .send()
        .await
        .expect("findings imported");
    let settings = |max: &str, top: usize| {
        format!(
            "region = \"{TEST_REGION}\"\nendpoint_url = \"{}\"\ntop = {top}\n\
             expect = {{ max = {max} }}\n",
            moto.endpoint()
        )
    };
    let specs = vec![
        spec(
            "securityhub_findings",
            &settings("{ critical = 0, high = 0 }", 5),
        ),
        spec(
            "securityhub_findings",
            &settings("{ critical = 0, high = 1 }", 1),
        ),
        spec("securityhub_findings", &settings("{ high = 1 }", 5)),
        spec("securityhub_findings", &settings("{ critical = 0 }", 5)),
    ];

    let before = call_counts();
    let probes = run_all(&specs).await;
    let calls = calls_since(&before, &moto.endpoint(), "GetFindings");

    assert_eq!(probes[0].outcome, Outcome::Fail, "{:?}", probes[0]);
    assert_eq!(
        probes[0].summary,
        "active HIGH findings: expected at most 0, got 1"
    );
    for probe in &probes[1..] {
        assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    }
    let titles = &probes[0].evidence.tables[1].rows;
    assert_eq!(titles.len(), 1, "{titles:?}");
    assert_eq!(titles[0].cells[0].text, "HIGH finding high-1");
    // One count per severity, CRITICAL and HIGH, for all four checks.
    assert_eq!(calls, 2, "GetFindings calls for 4 checks");
}
