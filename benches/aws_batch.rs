//! Wall time and AWS API calls of 200 AWS checks through the engine, with the coalescing of
//! calls off and then on.
//!
//! Starts `moto_server` (or `$GOLIVE_TEST_MOTO_SERVER`) and the CloudWatch bridge on 127.0.0.1,
//! and creates 200 alarms, 40 tables and 20 Security Hub findings. Then it runs a checklist of
//! 150 `aws_alarms` checks (one name each), 40 `dynamodb_table` checks and 10
//! `securityhub_findings` checks with `golive::engine::run_once`. The engine settings are the
//! defaults, so 32 checks are in flight at most. Only fake credentials are set, and nothing
//! leaves 127.0.0.1.
//!
//! Run with `cargo bench --bench aws_batch`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, RecordState, Resource, Severity, SeverityLabel, Workflow, WorkflowStatus,
};
use golive::checklist::loader::{LoadDefaults, load_str};
use golive::checks::Outcome;
use golive::checks::aws::batch::set_batching;
use golive::checks::aws::calls::call_counts;
use golive::config::EngineSettings;
use golive::demo::moto_bridge::MotoBridge;

const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";
const ALARMS: usize = 200;
const ALARM_CHECKS: usize = 150;
const TABLES: usize = 40;
const FINDINGS_CHECKS: usize = 10;
const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:oncall";

/// A moto server child process, killed on drop.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> (Moto, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let program = std::env::var("GOLIVE_TEST_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let child = Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("{program} does not start: {err}"));
    let moto = Moto(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = format!("127.0.0.1:{port}");
    while TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "moto did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    }
    (moto, format!("http://{addr}"))
}

async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .load()
        .await
}

async fn create_resources(endpoint: &str) {
    let config = sdk_config(endpoint).await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    for index in 0..ALARMS {
        cloudwatch
            .put_metric_alarm()
            .alarm_name(format!("bench-alarm-{index:03}"))
            .namespace("Bench")
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
    }
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    for index in 0..TABLES {
        dynamodb
            .create_table()
            .table_name(format!("bench-table-{index:02}"))
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key"),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("table created");
    }
    let securityhub = aws_sdk_securityhub::Client::new(&config);
    securityhub
        .enable_security_hub()
        .send()
        .await
        .expect("hub enabled");
    let findings: Vec<AwsSecurityFinding> = (0..20).map(finding).collect();
    securityhub
        .batch_import_findings()
        .set_findings(Some(findings))
        .send()
        .await
        .expect("findings imported");
}

/// Builds a MEDIUM finding, so that the checks' CRITICAL and HIGH limits pass.
fn finding(index: usize) -> AwsSecurityFinding {
    let now = "2026-12-01T10:00:00Z";
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(format!("bench-finding-{index}"))
        .product_arn(format!(
            "arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
        ))
        .generator_id("golive-bench")
        .aws_account_id(ACCOUNT)
        .types("Software and Configuration Checks")
        .created_at(now)
        .updated_at(now)
        .severity(Severity::builder().label(SeverityLabel::Medium).build())
        .title(format!("bench finding {index}"))
        .description("bench finding")
        .resources(
            Resource::builder()
                .r#type("AwsAccount")
                .id(format!("AWS::::Account:{ACCOUNT}"))
                .build(),
        )
        .record_state(RecordState::Active)
        .workflow(Workflow::builder().status(WorkflowStatus::New).build())
        .build()
}

fn checklist_text(endpoint: &str) -> String {
    let target = format!("region = \"{REGION}\"\nendpoint_url = \"{endpoint}\"\n");
    let mut text = String::from(
        "[checklist]\ntitle = \"200 AWS checks\"\n\n[[phases]]\nid = \"aws\"\ntitle = \"AWS\"\n",
    );
    let mut item = |id: String, kind: &str, settings: String| {
        text.push_str(&format!(
            "\n[[phases.items]]\nid = \"{id}\"\ntitle = \"{id}\"\nseverity = \"low\"\n\
             [phases.items.check]\nkind = \"{kind}\"\n{target}{settings}"
        ));
    };
    for index in 0..ALARM_CHECKS {
        let settings = format!(
            "names = [\"bench-alarm-{index:03}\"]\nexpect = {{ action_contains = \"{TOPIC}\" }}\n"
        );
        item(format!("alarm-{index}"), "aws_alarms", settings);
    }
    for index in 0..TABLES {
        let settings = format!(
            "table = \"bench-table-{index:02}\"\nexpect = {{ billing_mode = \"PAY_PER_REQUEST\" }}\n"
        );
        item(format!("table-{index}"), "dynamodb_table", settings);
    }
    for index in 0..FINDINGS_CHECKS {
        let settings = "expect = { max = { critical = 0, high = 0 } }\n".to_string();
        item(
            format!("findings-{index}"),
            "securityhub_findings",
            settings,
        );
    }
    text
}

async fn run(label: &str, text: &str) {
    let loaded = load_str(
        Path::new("aws-bench.toml"),
        text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
    )
    .unwrap_or_else(|failure| panic!("bench checklist: {failure}"));
    let checklist = Arc::new(loaded.checklist);
    let before = call_counts();
    let start = Instant::now();
    let results =
        golive::engine::run_once(checklist, EngineSettings::default(), BTreeSet::new()).await;
    let wall = start.elapsed();
    let calls = call_counts().since(&before);
    let passed = results
        .iter()
        .filter(|result| result.outcome == Outcome::Pass)
        .count();
    println!(
        "{label}: {} checks, {passed} passed, wall {:.2} s, {} API calls",
        results.len(),
        wall.as_secs_f64(),
        calls.total()
    );
    for ((service, operation), count) in calls.by_operation() {
        println!("    {service} {operation}: {count}");
    }
    for result in results
        .iter()
        .filter(|result| result.outcome != Outcome::Pass)
    {
        println!(
            "    {} {}: {}",
            result.item_id,
            result.outcome.as_str(),
            result.summary
        );
    }
}

fn main() {
    // SAFETY: no other thread runs yet, so nothing reads the environment while it changes.
    unsafe {
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        let missing = std::env::temp_dir().join("golive-bench-no-aws-config");
        std::env::set_var("AWS_CONFIG_FILE", &missing);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &missing);
        for name in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"] {
            std::env::remove_var(name);
        }
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let (_moto, moto_endpoint) = start_moto();
        let bridge = MotoBridge::start(&moto_endpoint).await.expect("bridge");
        let endpoint = bridge.endpoint();
        let setup = Instant::now();
        create_resources(&endpoint).await;
        println!(
            "moto and bridge on 127.0.0.1; {ALARMS} alarms, {TABLES} tables and 20 findings \
             created in {:.1} s",
            setup.elapsed().as_secs_f64()
        );
        let text = checklist_text(&endpoint);
        set_batching(false);
        run("without coalescing", &text).await;
        set_batching(true);
        run("with coalescing", &text).await;
    });
}
