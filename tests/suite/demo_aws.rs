//! The AWS demo against a moto server on 127.0.0.1: seeding, the checks of
//! `checklists/demo-aws.toml`, the combined cockpit checklist, and `golive demo --aws` end to
//! end with its errors for a non-loopback URL and a moto server that is not running.
//!
//! Every test that reaches moto calls `aws_test_env` first, and every `golive` child process
//! gets fake keys, no AWS config files and no metadata service.

use crate::support::moto;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use golive::checklist::Checklist;
use golive::checklist::loader::{self, LoadDefaults};
use golive::checks::{Outcome, ProbeContext};
use golive::demo::aws::{self, DemoAwsError, Seeder};
use golive::demo::moto_bridge::MotoBridge;
use moto::{MotoServer, aws_test_env, free_local_addr};

/// Upper bound for one check, so a hung SDK call fails the test instead of stalling it.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Every item of `checklists/demo-aws.toml` with its outcome against the seeded moto.
const EXPECTED: &[(&str, Outcome)] = &[
    ("cases-table", Outcome::Pass),
    ("sessions-table", Outcome::Fail),
    ("config-item", Outcome::Pass),
    ("globex-client", Outcome::Fail),
    ("active-clients", Outcome::Pass),
    ("locked-cases", Outcome::Fail),
    ("api-alarms", Outcome::Pass),
    ("queue-alarm", Outcome::Fail),
    ("throttle-alarm", Outcome::Fail),
    ("api-latency", Outcome::Pass),
    ("api-5xx", Outcome::Fail),
    ("service-dashboard", Outcome::Pass),
    ("auth-dashboard", Outcome::Fail),
    ("securityhub-enabled", Outcome::Pass),
    ("securityhub-blocking", Outcome::Fail),
    ("securityhub-backlog", Outcome::Pass),
    ("documents-bucket", Outcome::Pass),
    ("exports-bucket", Outcome::Fail),
    ("documents-key", Outcome::Pass),
    ("sessions-key", Outcome::Fail),
    ("guardduty-enabled", Outcome::Pass),
    ("guardduty-frequency", Outcome::Fail),
    ("functions-deployed", Outcome::Pass),
    ("documents-functions", Outcome::Fail),
    ("oncall-topic", Outcome::Pass),
    ("security-topic", Outcome::Fail),
    ("user-pool-sign-in", Outcome::Pass),
    ("user-pool-protected", Outcome::Fail),
];

fn repository_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn read_repository_file(name: &str) -> String {
    std::fs::read_to_string(repository_file(name)).expect("checklist readable")
}

/// Loads `checklists/demo-aws.toml` with the AWS checks pointed at `endpoint`.
fn load_aws_checklist(endpoint: &str) -> Checklist {
    let overrides = BTreeMap::from([(aws::ENDPOINT_VAR.to_string(), endpoint.to_string())]);
    let path = repository_file("checklists/demo-aws.toml");
    loader::load(&path, None, &overrides, &LoadDefaults::default())
        .unwrap_or_else(|failure| panic!("demo-aws.toml loads:\n{failure}"))
        .checklist
}

/// Runs every check of the checklist once and returns each item's id, outcome and summary.
async fn run_checks(checklist: &Checklist) -> Vec<(String, Outcome, String)> {
    let mut results = Vec::new();
    for item in checklist.items() {
        let check = item.check().expect("every demo AWS item is a check");
        assert!(
            check.unavailable.is_empty(),
            "{}: {:?}",
            item.id,
            check.unavailable
        );
        let ctx = ProbeContext {
            redactor: Arc::clone(&checklist.redactor),
            timeout: check.timeout,
            body_limit: 64 * 1024,
        };
        let probe = tokio::time::timeout(CHECK_TIMEOUT, check.spec.run(&ctx))
            .await
            .expect("check finishes within the hang guard");
        results.push((item.id.clone(), probe.outcome, probe.summary));
    }
    results
}

/// Asserts that every item has its expected outcome, one assert per item.
fn assert_expected(results: &[(String, Outcome, String)]) {
    let ids: Vec<&str> = results.iter().map(|(id, _, _)| id.as_str()).collect();
    let expected_ids: Vec<&str> = EXPECTED.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, expected_ids);
    for ((id, outcome, summary), (_, expected)) in results.iter().zip(EXPECTED) {
        assert_eq!(outcome, expected, "{id}: {summary}");
    }
}

fn summary_of<'a>(results: &'a [(String, Outcome, String)], id: &str) -> &'a str {
    results
        .iter()
        .find(|(item, _, _)| item == id)
        .map(|(_, _, summary)| summary.as_str())
        .unwrap_or_else(|| panic!("no result for {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_checklist_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint())
        .await
        .expect("bridge starts");
    Seeder::new(&bridge.endpoint())
        .await
        .seed_all()
        .await
        .expect("seeding succeeds");

    let results = run_checks(&load_aws_checklist(&bridge.endpoint())).await;

    assert_expected(&results);
    assert_eq!(
        summary_of(&results, "sessions-table"),
        "point-in-time recovery: expected ENABLED, got DISABLED"
    );
    assert_eq!(
        summary_of(&results, "globex-client"),
        "attribute status: expected \"active\", got \"suspended\""
    );
    assert_eq!(
        summary_of(&results, "locked-cases"),
        "item count: expected at most 0, got 2"
    );
    assert_eq!(
        summary_of(&results, "queue-alarm"),
        "alarm authbridge-demo-queue-backlog state: expected not ALARM, got ALARM"
    );
    assert!(
        summary_of(&results, "throttle-alarm").contains("got none"),
        "{}",
        summary_of(&results, "throttle-alarm")
    );
    assert_eq!(
        summary_of(&results, "securityhub-blocking"),
        "active CRITICAL findings: expected at most 0, got 1"
    );
    assert_new_kinds_summaries(&results);
    assert_eq!(
        summary_of(&results, "api-5xx"),
        "5XXError Sum over 3h: expected at most 0, got 10"
    );
}

/// Asserts the summaries of the items of the S3, KMS, GuardDuty, Lambda, SNS, Cognito,
/// CloudWatch metric and dashboard kinds that do not change when the demo is seeded again.
fn assert_new_kinds_summaries(results: &[(String, Outcome, String)]) {
    assert_eq!(
        summary_of(results, "api-latency"),
        "Latency Maximum over 3h: 412 (at most 1000)"
    );
    assert_eq!(
        summary_of(results, "auth-dashboard"),
        "dashboard authbridge-demo-auth namespace AWS/Cognito: expected present, got missing"
    );
    assert_eq!(
        summary_of(results, "exports-bucket"),
        "versioning: expected Enabled, got Disabled"
    );
    assert_eq!(
        summary_of(results, "sessions-key"),
        "key alias/authbridge-demo-sessions rotation: expected enabled, got disabled"
    );
    let frequency = summary_of(results, "guardduty-frequency");
    assert!(
        frequency
            .ends_with("finding publishing frequency: expected FIFTEEN_MINUTES, got SIX_HOURS"),
        "{frequency}"
    );
    assert_eq!(
        summary_of(results, "documents-functions"),
        "function authbridge-demo-documents-export env vars: expected DOCUMENTS_BUCKET set, got \
         DOCUMENTS_BUCKET missing"
    );
    assert_eq!(
        summary_of(results, "security-topic"),
        "confirmed subscriptions: expected at least 1, got 0"
    );
    assert_eq!(
        summary_of(results, "user-pool-protected"),
        "deletion protection: expected ACTIVE, got INACTIVE"
    );
}

/// Returns the number of subscriptions of an SNS topic in moto, confirmed or not.
async fn subscription_count(endpoint: &str, topic_arn: &str) -> usize {
    let config = moto::moto_sdk_config(endpoint).await;
    aws_sdk_sns::Client::new(&config)
        .list_subscriptions_by_topic()
        .topic_arn(topic_arn)
        .send()
        .await
        .expect("subscriptions listed")
        .subscriptions()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_twice_same_outcomes() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint())
        .await
        .expect("bridge starts");
    let seeder = Seeder::new(&bridge.endpoint()).await;
    seeder.seed_all().await.expect("first seeding succeeds");

    seeder.seed_all().await.expect("second seeding succeeds");

    let results = run_checks(&load_aws_checklist(&bridge.endpoint())).await;
    assert_expected(&results);
    // A second import replaces the findings with the same ids instead of adding copies.
    assert_eq!(
        summary_of(&results, "securityhub-blocking"),
        "active CRITICAL findings: expected at most 0, got 1"
    );
    assert_eq!(
        summary_of(&results, "locked-cases"),
        "item count: expected at most 0, got 2"
    );
    assert_new_kinds_summaries(&results);
    // CloudWatch keeps every datapoint, so the second run doubles the error sum.
    assert_eq!(
        summary_of(&results, "api-5xx"),
        "5XXError Sum over 3h: expected at most 0, got 20"
    );
    assert_eq!(
        subscription_count(&bridge.endpoint(), aws::ONCALL_TOPIC_ARN).await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_aws_checklist_endpoint_down_is_error() {
    aws_test_env();
    let closed = format!("http://{}", free_local_addr());

    let results = run_checks(&load_aws_checklist(&closed)).await;

    for (id, outcome, summary) in &results {
        assert_eq!(*outcome, Outcome::Error, "{id}: {summary}");
    }
}

#[test]
fn cockpit_checklist_appends_aws_phase() {
    let demo = read_repository_file("checklists/demo.toml");
    let aws_text = read_repository_file("checklists/demo-aws.toml");
    let combined = aws::cockpit_checklist(&demo, &aws_text).expect("checklists combine");
    let overrides = BTreeMap::from([
        ("base_url".to_string(), "http://127.0.0.1:8080".to_string()),
        (
            aws::ENDPOINT_VAR.to_string(),
            "http://127.0.0.1:4566".to_string(),
        ),
    ]);
    let path = Path::new("demo-aws-cockpit.toml");

    let loaded = loader::load_str(
        path,
        &combined,
        Some("demo"),
        &overrides,
        &LoadDefaults::default(),
    )
    .unwrap_or_else(|failure| panic!("combined checklist loads:\n{failure}"));

    let phases: Vec<&str> = loaded
        .checklist
        .phases
        .iter()
        .map(|phase| phase.id.as_str())
        .collect();
    assert_eq!(
        phases,
        ["preflight", "access", "security", "go-live", "aws"]
    );
    assert_eq!(loaded.checklist.title, "AuthBridge staging launch");
    assert_eq!(loaded.policy.signoffs.len(), 2);
    let aws_items = &loaded.checklist.phases[4].items;
    assert_eq!(aws_items.len(), EXPECTED.len());
    let described = aws_items[0]
        .check()
        .expect("AWS item is a check")
        .spec
        .describe(&loaded.checklist.redactor);
    assert!(
        described.contains(&("endpoint".to_string(), "http://127.0.0.1:4566".to_string())),
        "{described:?}"
    );
}

#[test]
fn plain_demo_checklist_has_no_aws_phase() {
    let demo = read_repository_file("checklists/demo.toml");
    assert!(!demo.contains("aws_endpoint_url"));
    assert!(!demo.contains("kind = \"dynamodb"));
    let aws_kinds = [
        "aws_alarms",
        "cloudwatch_metric",
        "cloudwatch_dashboards",
        "securityhub_findings",
        "securityhub_hub",
        "s3_bucket",
        "guardduty_detector",
        "kms_key",
        "lambda_functions",
        "sns_topic",
        "cognito_user_pool",
    ];
    for kind in aws_kinds {
        assert!(!demo.contains(kind), "{kind}");
    }
}

#[test]
fn moto_url_accepts_loopback_only() {
    let accepted = [
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("http://127.8.9.10:5000", "http://127.8.9.10:5000"),
        ("http://localhost:5000", "http://127.0.0.1:5000"),
        ("http://LOCALHOST:5000", "http://127.0.0.1:5000"),
        ("http://[::1]:5000", "http://[::1]:5000"),
        ("https://127.0.0.1:5443", "https://127.0.0.1:5443"),
    ];
    for (given, normalised) in accepted {
        assert_eq!(
            aws::moto_url(given).ok().as_deref(),
            Some(normalised),
            "{given}"
        );
    }

    let not_loopback = [
        "http://10.0.0.1:5000",
        "http://169.254.169.254",
        "http://example.com:5000",
        "http://localhost.example.com:5000",
        "http://[::ffff:127.0.0.1]:5000",
        "http://0.0.0.0:5000",
    ];
    for given in not_loopback {
        assert!(
            matches!(aws::moto_url(given), Err(DemoAwsError::NotLoopback { .. })),
            "{given}"
        );
    }

    let invalid = [
        "127.0.0.1:5000",
        "ftp://127.0.0.1:5000",
        "http://127.0.0.1:5000/moto",
        "http://127.0.0.1:5000/?a=b",
        "http://user:secret@127.0.0.1:5000",
    ];
    for given in invalid {
        assert!(
            matches!(aws::moto_url(given), Err(DemoAwsError::InvalidUrl { .. })),
            "{given}"
        );
    }
}

#[test]
fn sdk_env_uses_fake_keys() {
    let env: BTreeMap<&str, &str> = aws::sdk_env().into_iter().collect();
    assert_eq!(env.get("AWS_ACCESS_KEY_ID"), Some(&"testing"));
    assert_eq!(env.get("AWS_SECRET_ACCESS_KEY"), Some(&"testing"));
    assert_eq!(env.get("AWS_EC2_METADATA_DISABLED"), Some(&"true"));
    assert_eq!(env.get("AWS_CONFIG_FILE"), Some(&"/dev/null"));
    assert_eq!(env.get("AWS_SHARED_CREDENTIALS_FILE"), Some(&"/dev/null"));
}

/// Returns a `golive` command with a scratch home, fake AWS keys, no AWS config files and no
/// metadata service, run from the repository.
fn golive(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_golive"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .envs(aws::sdk_env())
        .stdin(Stdio::null());
    command
}

fn run_golive(home: &Path, args: &[&str]) -> Output {
    golive(home, args).output().expect("golive runs")
}

#[test]
fn demo_rejects_non_loopback_url() {
    let home = tempfile::tempdir().expect("temporary directory");

    let output = run_golive(home.path(), &["demo", "--aws", "http://192.0.2.10:5000"]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a loopback address"), "{stderr}");
    assert!(stderr.contains("made-up resources"), "{stderr}");
}

#[test]
fn demo_without_moto_names_url() {
    let home = tempfile::tempdir().expect("temporary directory");
    // Nothing listens on a port that was free a moment ago.
    let addr = free_local_addr();
    let url = format!("http://{addr}");

    let output = run_golive(home.path(), &["demo", "--aws", &url]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("moto does not respond at {url}")),
        "{stderr}"
    );
    let command = format!("moto_server -H 127.0.0.1 -p {}", addr.port());
    assert!(stderr.contains(&command), "{stderr}");
}

/// Kills a `golive demo --serve` child when the test ends, even on a failed assert.
struct ServeGuard(Child);

impl Drop for ServeGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_then_check_reports_outcomes() {
    aws_test_env();
    let moto = MotoServer::start();
    let home = tempfile::tempdir().expect("temporary directory");
    let child = golive(home.path(), &["demo", "--aws", &moto.endpoint(), "--serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("golive demo starts");
    let mut guard = ServeGuard(child);
    let stdout = guard.0.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base_url = lines.next().expect("a first line").expect("UTF-8 line");
    let endpoint = lines.next().expect("a second line").expect("UTF-8 line");
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    assert_ne!(endpoint, moto.endpoint());

    let var = format!("{}={endpoint}", aws::ENDPOINT_VAR);
    let output = run_golive(
        home.path(),
        &[
            "check",
            "checklists/demo-aws.toml",
            "--var",
            &var,
            "--format",
            "json",
        ],
    );

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("JSON report ({err}): {stdout}"));
    let items = report["items"].as_array().expect("items");
    assert_eq!(items.len(), EXPECTED.len());
    for (item, (id, outcome)) in items.iter().zip(EXPECTED) {
        let expected = match outcome {
            Outcome::Pass => "pass",
            _ => "fail",
        };
        assert_eq!(item["id"], *id, "{item}");
        assert_eq!(item["status"], expected, "{item}");
    }
}
