//! The `s3_bucket`, `guardduty_detector` and `kms_key` check kinds against a moto server on
//! 127.0.0.1. Resources are created through the AWS SDK, then the checks run through
//! `CheckSpec::run` with `endpoint_url` pointing at moto. S3 checks go through the moto bridge,
//! which gives moto's GetBucketVersioning response the root element S3 sends.
//!
//! Every test calls `aws_test_env` first, so the SDK only ever uses fake credentials and never
//! queries the instance metadata service.

use crate::support::moto;

use aws_sdk_guardduty::types::FindingPublishingFrequency;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, ExpirationStatus,
    LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use golive::checks::{EvidenceTable, Outcome, parse_spec};
use golive::demo::moto_bridge::MotoBridge;
use golive::redact::Redactor;
use moto::{
    MOTO_ACCOUNT, MotoServer, TEST_REGION, aws_test_env, free_local_addr, moto_sdk_config, run,
    spec, target,
};

/// Bucket with KMS encryption, a full public access block, versioning and lifecycle rules.
const SECURE_BUCKET: &str = "authbridge-documents";
/// Bucket created with no settings at all.
const PLAIN_BUCKET: &str = "authbridge-plain";
/// Bucket with SSE-S3, suspended versioning and a public access block that allows policies.
const PARTIAL_BUCKET: &str = "authbridge-partial";

fn documents_key_arn() -> String {
    format!("arn:aws:kms:{TEST_REGION}:{MOTO_ACCOUNT}:key/0b5d7d7e-3f4c-4a3e-9a53-0c2f1d1e8f10")
}

fn spec_error(kind: &str, settings: &str) -> String {
    let table: toml::Table = toml::from_str(settings).expect("settings are TOML");
    match parse_spec(kind, table) {
        Ok(spec) => panic!("{kind} settings were accepted: {spec:?}"),
        Err(err) => format!("{}: {}", err.path, err.message),
    }
}

/// Returns the (label, actual text, passed) of each row of a table with an `actual` column.
fn rows(table: &EvidenceTable) -> Vec<(String, String, Option<bool>)> {
    let actual = table
        .columns
        .iter()
        .position(|column| column == "actual")
        .expect("table has an actual column");
    table
        .rows
        .iter()
        .map(|row| {
            let cell = &row.cells[actual];
            (row.label.clone(), cell.text.clone(), cell.passed)
        })
        .collect()
}

fn row(label: &str, actual: &str, passed: bool) -> (String, String, Option<bool>) {
    (label.to_string(), actual.to_string(), Some(passed))
}

// S3

async fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let config = moto_sdk_config(endpoint).await;
    let config = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) {
    let location = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::from(TEST_REGION))
        .build();
    client
        .create_bucket()
        .bucket(name)
        .create_bucket_configuration(location)
        .send()
        .await
        .expect("bucket created");
}

async fn put_encryption(client: &aws_sdk_s3::Client, bucket: &str, kms_key: Option<&str>) {
    let algorithm = match kms_key {
        Some(_) => ServerSideEncryption::AwsKms,
        None => ServerSideEncryption::Aes256,
    };
    let default_rule = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(algorithm)
        .set_kms_master_key_id(kms_key.map(str::to_string))
        .build()
        .expect("default encryption");
    let configuration = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default_rule)
                .build(),
        )
        .build()
        .expect("encryption configuration");
    client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(configuration)
        .send()
        .await
        .expect("encryption set");
}

async fn put_public_access_block(client: &aws_sdk_s3::Client, bucket: &str, block_policy: bool) {
    let configuration = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(block_policy)
        .restrict_public_buckets(true)
        .build();
    client
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(configuration)
        .send()
        .await
        .expect("public access block set");
}

async fn put_versioning(client: &aws_sdk_s3::Client, bucket: &str, status: BucketVersioningStatus) {
    client
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .expect("versioning set");
}

fn noncurrent_rule(id: &str, status: ExpirationStatus) -> LifecycleRule {
    LifecycleRule::builder()
        .id(id)
        .status(status)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(30)
                .build(),
        )
        .build()
        .expect("lifecycle rule")
}

/// Creates the three test buckets in moto.
async fn s3_fixture(moto: &MotoServer) {
    let client = s3_client(&moto.endpoint()).await;
    create_bucket(&client, SECURE_BUCKET).await;
    put_encryption(&client, SECURE_BUCKET, Some(&documents_key_arn())).await;
    put_public_access_block(&client, SECURE_BUCKET, true).await;
    put_versioning(&client, SECURE_BUCKET, BucketVersioningStatus::Enabled).await;
    let lifecycle = aws_sdk_s3::types::BucketLifecycleConfiguration::builder()
        .rules(noncurrent_rule(
            "expire-noncurrent",
            ExpirationStatus::Enabled,
        ))
        .rules(noncurrent_rule("archive-old", ExpirationStatus::Disabled))
        .build()
        .expect("lifecycle configuration");
    client
        .put_bucket_lifecycle_configuration()
        .bucket(SECURE_BUCKET)
        .lifecycle_configuration(lifecycle)
        .send()
        .await
        .expect("lifecycle set");

    create_bucket(&client, PLAIN_BUCKET).await;

    create_bucket(&client, PARTIAL_BUCKET).await;
    put_encryption(&client, PARTIAL_BUCKET, None).await;
    put_public_access_block(&client, PARTIAL_BUCKET, false).await;
    put_versioning(&client, PARTIAL_BUCKET, BucketVersioningStatus::Enabled).await;
    put_versioning(&client, PARTIAL_BUCKET, BucketVersioningStatus::Suspended).await;
}

fn bucket_settings(endpoint: &str, bucket: &str, expect: &str) -> String {
    format!(
        "{}bucket = \"{bucket}\"\nexpect = {expect}\n",
        target(endpoint)
    )
}

fn every_expectation() -> String {
    format!(
        "{{ encryption = \"aws:kms\", kms_key = \"{}\", public_access_blocked = true, \
         versioning = \"Enabled\", lifecycle_rules = 1 }}",
        documents_key_arn()
    )
}

#[tokio::test]
async fn s3_bucket_secure_passes() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    s3_fixture(&moto).await;
    let settings = bucket_settings(&bridge.endpoint(), SECURE_BUCKET, &every_expectation());

    let probe = run(&spec("s3_bucket", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.summary, "6 expectations met");
    let table = &probe.evidence.tables[0];
    assert_eq!(table.title, "bucket settings");
    assert_eq!(
        rows(table),
        vec![
            row("region", TEST_REGION, true),
            row("encryption", "aws:kms", true),
            row("KMS key", &documents_key_arn(), true),
            row("public access block", "all 4 flags true", true),
            row("versioning", "Enabled", true),
            row(
                "lifecycle rules",
                "1 enabled: expire-noncurrent (1 disabled)",
                true
            ),
        ]
    );
    assert_eq!(probe.evidence.request.len(), 5);
}

#[tokio::test]
async fn s3_bucket_plain_fails_each_setting() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    s3_fixture(&moto).await;
    let settings = bucket_settings(&bridge.endpoint(), PLAIN_BUCKET, &every_expectation());

    let probe = run(&spec("s3_bucket", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "encryption: expected aws:kms or aws:kms:dsse, got none"
    );
    assert_eq!(
        rows(&probe.evidence.tables[0]),
        vec![
            row("region", TEST_REGION, true),
            row("encryption", "none", false),
            row("KMS key", "no default encryption", false),
            row("public access block", "no public access block", false),
            row("versioning", "Disabled", false),
            row("lifecycle rules", "0 enabled", false),
        ]
    );
}

#[tokio::test]
async fn s3_bucket_partial_settings() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    s3_fixture(&moto).await;
    let endpoint = bridge.endpoint();

    let expect = "{ encryption = \"AES256\", versioning = \"Suspended\" }";
    let probe = run(&spec(
        "s3_bucket",
        &bucket_settings(&endpoint, PARTIAL_BUCKET, expect),
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");

    let expect = "{ encryption = \"any\", public_access_blocked = false }";
    let probe = run(&spec(
        "s3_bucket",
        &bucket_settings(&endpoint, PARTIAL_BUCKET, expect),
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");

    let expect = "{ encryption = \"aws:kms\" }";
    let probe = run(&spec(
        "s3_bucket",
        &bucket_settings(&endpoint, PARTIAL_BUCKET, expect),
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "encryption: expected aws:kms or aws:kms:dsse, got AES256"
    );

    let expect = "{ kms_key = \"key/\" }";
    let probe = run(&spec(
        "s3_bucket",
        &bucket_settings(&endpoint, PARTIAL_BUCKET, expect),
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "KMS key: expected containing key/, got no KMS key (AES256)"
    );

    let expect = "{ public_access_blocked = true }";
    let probe = run(&spec(
        "s3_bucket",
        &bucket_settings(&endpoint, PARTIAL_BUCKET, expect),
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "public access block: expected all 4 flags true, got BlockPublicPolicy not true"
    );

    let expect = "{ versioning = \"Enabled\" }";
    let probe = run(&spec(
        "s3_bucket",
        &bucket_settings(&endpoint, PARTIAL_BUCKET, expect),
    ))
    .await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(probe.summary, "versioning: expected Enabled, got Suspended");
}

#[tokio::test]
async fn s3_bucket_lifecycle_minimum_fails() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    s3_fixture(&moto).await;
    let settings = bucket_settings(&bridge.endpoint(), SECURE_BUCKET, "{ lifecycle_rules = 2 }");

    let probe = run(&spec("s3_bucket", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "lifecycle rules: expected at least 2 enabled, got 1 enabled: expire-noncurrent \
         (1 disabled)"
    );
}

#[tokio::test]
async fn s3_bucket_other_region_fails() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    let config = moto_sdk_config(&moto.endpoint()).await;
    let config = aws_sdk_s3::config::Builder::from(&config)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
        .create_bucket()
        .bucket("authbridge-virginia")
        .send()
        .await
        .expect("bucket created in us-east-1");
    let settings = format!(
        "{}bucket = \"authbridge-virginia\"\n",
        target(&bridge.endpoint())
    );

    let probe = run(&spec("s3_bucket", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!("region: expected {TEST_REGION}, got us-east-1")
    );
}

#[tokio::test]
async fn s3_bucket_unknown_is_error() {
    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    let settings = bucket_settings(
        &bridge.endpoint(),
        "authbridge-missing",
        "{ versioning = \"Enabled\" }",
    );

    let probe = run(&spec("s3_bucket", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!(
            "bucket authbridge-missing not found in {TEST_REGION}; check the name and the region"
        )
    );
    assert_eq!(
        probe.evidence.request,
        vec![format!("S3 GetBucketLocation in {TEST_REGION}")]
    );
}

#[tokio::test]
async fn s3_bucket_endpoint_down_is_error() {
    aws_test_env();
    // Nothing listens on a port that was free a moment ago.
    let closed = format!("http://{}", free_local_addr());
    let settings = bucket_settings(&closed, SECURE_BUCKET, "{ versioning = \"Enabled\" }");

    let probe = run(&spec("s3_bucket", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(probe.summary.contains("unreachable"), "{}", probe.summary);
    assert!(probe.summary.contains(&closed), "{}", probe.summary);
    assert!(
        probe.summary.contains(&format!("bucket {SECURE_BUCKET}")),
        "{}",
        probe.summary
    );
}

// GuardDuty

async fn guardduty_client(moto: &MotoServer) -> aws_sdk_guardduty::Client {
    aws_sdk_guardduty::Client::new(&moto_sdk_config(&moto.endpoint()).await)
}

fn detector_settings(endpoint: &str, expect: &str) -> String {
    format!("{}expect = {expect}\n", target(endpoint))
}

#[tokio::test]
async fn guardduty_no_detector_fails() {
    aws_test_env();
    let moto = MotoServer::start();

    let probe = run(&spec("guardduty_detector", &target(&moto.endpoint()))).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!("no GuardDuty detector in {TEST_REGION}")
    );
    assert_eq!(probe.evidence.assertions.len(), 1);
    assert_eq!(probe.evidence.assertions[0].actual, "none");
}

#[tokio::test]
async fn guardduty_detector_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    let client = guardduty_client(&moto).await;
    let detector_id = client
        .create_detector()
        .enable(true)
        .finding_publishing_frequency(FindingPublishingFrequency::FifteenMinutes)
        .send()
        .await
        .expect("detector created")
        .detector_id()
        .expect("detector id")
        .to_string();
    let endpoint = moto.endpoint();

    let settings = detector_settings(
        &endpoint,
        "{ finding_publishing_frequency = \"FIFTEEN_MINUTES\" }",
    );
    let probe = run(&spec("guardduty_detector", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    let table = &probe.evidence.tables[0];
    assert_eq!(table.rows.len(), 1);
    assert_eq!(table.rows[0].label, detector_id);
    assert_eq!(table.rows[0].cells[0].text, "ENABLED");
    assert_eq!(table.rows[0].cells[1].text, "FIFTEEN_MINUTES");

    let settings = detector_settings(
        &endpoint,
        "{ finding_publishing_frequency = \"SIX_HOURS\" }",
    );
    let probe = run(&spec("guardduty_detector", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!(
            "detector {detector_id} finding publishing frequency: expected SIX_HOURS, got \
             FIFTEEN_MINUTES"
        )
    );

    client
        .update_detector()
        .detector_id(&detector_id)
        .enable(false)
        .send()
        .await
        .expect("detector disabled");
    let probe = run(&spec("guardduty_detector", &target(&endpoint))).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!("detector {detector_id} status: expected ENABLED, got DISABLED")
    );
    assert_eq!(
        probe.evidence.tables[0].rows[0].cells[0].passed,
        Some(false)
    );
}

#[tokio::test]
async fn guardduty_endpoint_down_is_error() {
    aws_test_env();
    let closed = format!("http://{}", free_local_addr());

    let probe = run(&spec("guardduty_detector", &target(&closed))).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(probe.summary.contains("unreachable"), "{}", probe.summary);
    assert!(probe.summary.contains("ListDetectors"), "{}", probe.summary);
}

// KMS

/// Keys created in moto: their key ids by role.
struct KmsFixture {
    rotated: String,
    unrotated: String,
    disabled: String,
}

async fn create_key(client: &aws_sdk_kms::Client, alias: &str) -> String {
    let key_id = client
        .create_key()
        .description(alias)
        .send()
        .await
        .expect("key created")
        .key_metadata()
        .expect("key metadata")
        .key_id()
        .to_string();
    client
        .create_alias()
        .alias_name(alias)
        .target_key_id(&key_id)
        .send()
        .await
        .expect("alias created");
    key_id
}

/// Creates `alias/authbridge-documents` with rotation, `alias/authbridge-dynamodb` without and
/// a disabled `alias/authbridge-retired`.
async fn kms_fixture(moto: &MotoServer) -> KmsFixture {
    let client = aws_sdk_kms::Client::new(&moto_sdk_config(&moto.endpoint()).await);
    let rotated = create_key(&client, "alias/authbridge-documents").await;
    client
        .enable_key_rotation()
        .key_id(&rotated)
        .send()
        .await
        .expect("rotation enabled");
    let unrotated = create_key(&client, "alias/authbridge-dynamodb").await;
    let disabled = create_key(&client, "alias/authbridge-retired").await;
    client
        .disable_key()
        .key_id(&disabled)
        .send()
        .await
        .expect("key disabled");
    KmsFixture {
        rotated,
        unrotated,
        disabled,
    }
}

const KEY_EXPECT: &str = "expect = { enabled = true, rotation = true, key_manager = \"CUSTOMER\" }";

#[tokio::test]
async fn kms_key_by_alias_id_and_arn_passes() {
    aws_test_env();
    let moto = MotoServer::start();
    let keys = kms_fixture(&moto).await;
    let arn = format!(
        "arn:aws:kms:{TEST_REGION}:{MOTO_ACCOUNT}:key/{}",
        keys.rotated
    );

    for key in ["alias/authbridge-documents", &keys.rotated, &arn] {
        let settings = format!(
            "{}key = \"{key}\"\n{KEY_EXPECT}\n",
            target(&moto.endpoint())
        );
        let probe = run(&spec("kms_key", &settings)).await;
        assert_eq!(probe.outcome, Outcome::Pass, "{key}: {probe:?}");
        let table = &probe.evidence.tables[0];
        assert_eq!(table.rows.len(), 1, "{key}");
        let texts: Vec<&str> = table.rows[0]
            .cells
            .iter()
            .map(|cell| cell.text.as_str())
            .collect();
        assert_eq!(
            texts,
            vec![keys.rotated.as_str(), "Enabled", "CUSTOMER", "enabled"],
            "{key}"
        );
    }
}

#[tokio::test]
async fn kms_keys_fail_rotation_and_state() {
    aws_test_env();
    let moto = MotoServer::start();
    let keys = kms_fixture(&moto).await;
    let endpoint = moto.endpoint();

    let settings = format!(
        "{}keys = [\"alias/authbridge-documents\", \"alias/authbridge-dynamodb\"]\n{KEY_EXPECT}\n",
        target(&endpoint)
    );
    let probe = run(&spec("kms_key", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "key alias/authbridge-dynamodb rotation: expected enabled, got disabled"
    );
    let table = &probe.evidence.tables[0];
    assert_eq!(table.rows.len(), 2);
    assert_eq!(table.rows[1].cells[0].text, keys.unrotated);
    assert_eq!(table.rows[1].cells[3].passed, Some(false));

    let settings = format!(
        "{}key = \"alias/authbridge-retired\"\nexpect = {{ enabled = true }}\n",
        target(&endpoint)
    );
    let probe = run(&spec("kms_key", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "key alias/authbridge-retired state: expected Enabled, got Disabled"
    );
    assert_eq!(
        probe.evidence.tables[0].rows[0].cells[0].text,
        keys.disabled
    );

    let settings = format!(
        "{}key = \"alias/authbridge-retired\"\nexpect = {{ enabled = false }}\n",
        target(&endpoint)
    );
    let probe = run(&spec("kms_key", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
}

#[tokio::test]
async fn kms_key_unknown_is_error() {
    aws_test_env();
    let moto = MotoServer::start();
    kms_fixture(&moto).await;
    let settings = format!(
        "{}keys = [\"alias/authbridge-documents\", \"alias/authbridge-missing\"]\n{KEY_EXPECT}\n",
        target(&moto.endpoint())
    );

    let probe = run(&spec("kms_key", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!(
            "key alias/authbridge-missing not found in {TEST_REGION}; check the name and the \
             region"
        )
    );
}

#[tokio::test]
async fn kms_key_endpoint_down_is_error() {
    aws_test_env();
    let closed = format!("http://{}", free_local_addr());
    let settings = format!("{}key = \"alias/authbridge-documents\"\n", target(&closed));

    let probe = run(&spec("kms_key", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(probe.summary.contains("unreachable"), "{}", probe.summary);
    assert!(
        probe.summary.contains("key alias/authbridge-documents"),
        "{}",
        probe.summary
    );
}

// Settings

#[test]
fn storage_settings_reject_bad_values() {
    let endpoint = "http://127.0.0.1:9";
    let cases = [
        (
            "s3_bucket",
            format!("{}bucket = \"s3://docs\"\n", target(endpoint)),
            "invalid `bucket` `s3://docs`",
        ),
        (
            "s3_bucket",
            format!("{}bucket = \" \"\n", target(endpoint)),
            "`bucket` is empty",
        ),
        (
            "s3_bucket",
            bucket_settings(endpoint, "docs", "{ lifecycle_rules = 0 }"),
            "`expect.lifecycle_rules` is 0",
        ),
        (
            "s3_bucket",
            bucket_settings(endpoint, "docs", "{ encryption = \"kms\" }"),
            "unknown variant `kms`",
        ),
        (
            "s3_bucket",
            bucket_settings(endpoint, "docs", "{ versioning = \"On\" }"),
            "unknown variant `On`",
        ),
        (
            "s3_bucket",
            bucket_settings(endpoint, "docs", "{ public = true }"),
            "unknown field `public`",
        ),
        (
            "guardduty_detector",
            detector_settings(endpoint, "{ finding_publishing_frequency = \"DAILY\" }"),
            "unknown variant `DAILY`",
        ),
        (
            "kms_key",
            format!(
                "{}key = \"alias/a\"\nkeys = [\"alias/b\"]\n",
                target(endpoint)
            ),
            "set either `key` or `keys`, not both",
        ),
        ("kms_key", target(endpoint), "missing `key`"),
        (
            "kms_key",
            format!("{}keys = []\n", target(endpoint)),
            "`keys` is empty",
        ),
        (
            "kms_key",
            format!(
                "{}key = \"alias/a\"\nexpect = {{ key_manager = \"ME\" }}\n",
                target(endpoint)
            ),
            "unknown variant `ME`",
        ),
    ];
    for (kind, settings, expected) in cases {
        let message = spec_error(kind, &settings);
        assert!(message.contains(expected), "{kind} {settings:?}: {message}");
    }
}

#[test]
fn storage_describe_starts_with_target() {
    let endpoint = "http://127.0.0.1:9";
    let redactor = Redactor::new();
    let bucket = spec(
        "s3_bucket",
        &bucket_settings(endpoint, "docs", "{ versioning = \"Enabled\" }"),
    );
    let lines = bucket.describe(&redactor);
    assert_eq!(lines[0], ("region".to_string(), TEST_REGION.to_string()));
    assert!(lines.contains(&("bucket".to_string(), "docs".to_string())));
    assert!(lines.contains(&("expect versioning".to_string(), "Enabled".to_string())));

    let key = spec(
        "kms_key",
        &format!("{}keys = [\"alias/a\", \"alias/b\"]\n", target(endpoint)),
    );
    let lines = key.describe(&redactor);
    assert!(lines.contains(&("keys".to_string(), "alias/a, alias/b".to_string())));
    assert_eq!(key.kind(), "kms_key");
    assert!(key.aws_target().is_some());
}
