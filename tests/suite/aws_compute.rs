//! The `lambda_functions`, `sns_topic` and `cognito_user_pool` check kinds against a moto server
//! on 127.0.0.1. Resources are created through the AWS SDK, then the checks run through
//! `parse_spec` and `CheckSpec::run` with `endpoint_url` pointing at moto.
//!
//! moto stores Lambda functions without running them, so CreateFunction needs no container
//! runtime. It does require the execution role to exist in its IAM.

use crate::support::moto;

use aws_sdk_cognitoidentityprovider::types::{
    AuthFactorType, DeletionProtectionType, EmailConfigurationType, EmailSendingAccountType,
    PasswordPolicyType, SignInPolicyType, UserPoolMfaType, UserPoolPolicyType,
    UsernameAttributeType, VerifiedAttributeType,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use golive::checks::{Outcome, parse_spec};
use golive::redact::Redactor;
use moto::{
    MOTO_ACCOUNT, MotoServer, TEST_REGION, aws_test_env, free_local_addr, moto_sdk_config, run,
    spec, target,
};

/// Value of an environment variable that must never reach a probe or a description.
const SECRET_ENV_VALUE: &str = "zq-env-value-5d81f0c2";

const VERIFICATION_PREFIX: &str = "authbridge-verification-staging-";

/// Returns the settings lines that point a check at a port nothing listens on.
fn closed_target() -> (String, String) {
    let closed = format!("http://{}", free_local_addr());
    (target(&closed), closed)
}

/// Returns the CRC-32 (IEEE) of the bytes, as a zip entry records it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Builds a zip archive with one stored (uncompressed) file `index.js`.
fn handler_zip() -> Vec<u8> {
    let name = b"index.js";
    let body = b"exports.handler = async () => ({ statusCode: 200 });\n";
    let crc = crc32(body);
    let size = u32::try_from(body.len()).expect("small body");
    let name_len = u16::try_from(name.len()).expect("short name");

    let mut zip = Vec::new();
    zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&name_len.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(name);
    zip.extend_from_slice(body);

    let directory_offset = u32::try_from(zip.len()).expect("small archive");
    let mut directory = Vec::new();
    directory.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    directory.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    directory.extend_from_slice(&crc.to_le_bytes());
    directory.extend_from_slice(&size.to_le_bytes());
    directory.extend_from_slice(&size.to_le_bytes());
    directory.extend_from_slice(&name_len.to_le_bytes());
    directory.extend_from_slice(&[0; 12]);
    directory.extend_from_slice(&0u32.to_le_bytes());
    directory.extend_from_slice(name);
    let directory_len = u32::try_from(directory.len()).expect("small directory");
    zip.extend_from_slice(&directory);

    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    zip.extend_from_slice(&directory_len.to_le_bytes());
    zip.extend_from_slice(&directory_offset.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

/// Creates the execution role moto requires before it accepts a function.
async fn create_lambda_role(config: &aws_config::SdkConfig) -> String {
    let iam = aws_sdk_iam::Client::new(config);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("authbridge-lambda")
        .assume_role_policy_document(policy)
        .send()
        .await
        .expect("role created");
    format!("arn:aws:iam::{MOTO_ACCOUNT}:role/authbridge-lambda")
}

async fn create_function(
    client: &aws_sdk_lambda::Client,
    role: &str,
    name: &str,
    runtime: Runtime,
    env_vars: &[(&str, &str)],
) {
    let mut environment = Environment::builder();
    for (key, value) in env_vars {
        environment = environment.variables(*key, *value);
    }
    client
        .create_function()
        .function_name(name)
        .runtime(runtime)
        .role(role)
        .handler("index.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(handler_zip()))
                .build(),
        )
        .environment(environment.build())
        .send()
        .await
        .unwrap_or_else(|err| panic!("function {name} created: {err:?}"));
}

/// Creates three verification functions on nodejs20.x, one of them without `DOCUMENTS_BUCKET`,
/// and an unrelated Python function.
async fn lambda_fixture(moto: &MotoServer) {
    let config = moto_sdk_config(&moto.endpoint()).await;
    let role = create_lambda_role(&config).await;
    let client = aws_sdk_lambda::Client::new(&config);
    let full = [
        ("CASBIN_TABLE_NAME", SECRET_ENV_VALUE),
        ("DOCUMENTS_BUCKET", "authbridge-documents-staging"),
    ];
    for function in ["assignRole", "listRoles"] {
        let name = format!("{VERIFICATION_PREFIX}{function}");
        create_function(&client, &role, &name, Runtime::Nodejs20x, &full).await;
    }
    let name = format!("{VERIFICATION_PREFIX}removeRole");
    let partial = [("CASBIN_TABLE_NAME", SECRET_ENV_VALUE)];
    create_function(&client, &role, &name, Runtime::Nodejs20x, &partial).await;
    create_function(&client, &role, "reports-nightly", Runtime::Python312, &[]).await;
}

fn function_names(functions: &[&str]) -> String {
    let names: Vec<String> = functions
        .iter()
        .map(|function| format!("\"{VERIFICATION_PREFIX}{function}\""))
        .collect();
    format!("names = [{}]\n", names.join(", "))
}

#[tokio::test]
async fn lambda_names_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    lambda_fixture(&moto).await;
    let expect = "expect = { env_vars = [\"CASBIN_TABLE_NAME\", \"DOCUMENTS_BUCKET\"], \
                  runtime = \"nodejs20.x\", state = \"Active\" }\n";

    let names = function_names(&["assignRole", "listRoles"]);
    let settings = format!("{}{names}{expect}", target(&moto.endpoint()));
    let probe = run(&spec("lambda_functions", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    let table = &probe.evidence.tables[0];
    assert_eq!(table.title, "functions");
    assert_eq!(table.rows.len(), 2);
    assert_eq!(
        table.rows[0].label,
        format!("{VERIFICATION_PREFIX}assignRole")
    );
    assert_eq!(table.rows[0].cells[0].text, "nodejs20.x");
    assert_eq!(table.rows[0].cells[1].text, "Active");
    assert_ne!(table.rows[0].cells[2].text, "not reported");
    assert_eq!(
        table.rows[0].cells[3].text,
        "CASBIN_TABLE_NAME, DOCUMENTS_BUCKET"
    );
    assert_eq!(table.rows[0].cells[4].text, "none");

    let names = function_names(&["assignRole", "removeRole"]);
    let settings = format!("{}{names}{expect}", target(&moto.endpoint()));
    let probe = run(&spec("lambda_functions", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!(
            "function {VERIFICATION_PREFIX}removeRole env vars: expected CASBIN_TABLE_NAME, \
             DOCUMENTS_BUCKET set, got DOCUMENTS_BUCKET missing"
        )
    );
    let removed = &probe.evidence.tables[0].rows[1];
    assert_eq!(removed.cells[3].text, "CASBIN_TABLE_NAME");
    assert_eq!(removed.cells[4].text, "DOCUMENTS_BUCKET");
    assert_eq!(removed.cells[4].passed, Some(false));

    let names = function_names(&["assignRole", "getUserRoles"]);
    let settings = format!("{}{names}", target(&moto.endpoint()));
    let probe = run(&spec("lambda_functions", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!(
            "function {VERIFICATION_PREFIX}getUserRoles exists: expected exists, got not found"
        )
    );

    let settings = format!(
        "{}names = [\"reports-nightly\"]\nexpect = {{ runtime = \"nodejs20.x\" }}\n",
        target(&moto.endpoint())
    );
    let probe = run(&spec("lambda_functions", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "function reports-nightly runtime: expected nodejs20.x, got python3.12"
    );
}

#[tokio::test]
async fn lambda_prefix_counts() {
    aws_test_env();
    let moto = MotoServer::start();
    lambda_fixture(&moto).await;
    let prefix = |expect: &str| {
        format!(
            "{}prefix = \"{VERIFICATION_PREFIX}\"\nexpect = {expect}\n",
            target(&moto.endpoint())
        )
    };

    let probe = run(&spec("lambda_functions", &prefix("{ count = 3 }"))).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.evidence.tables[0].rows.len(), 3);

    let probe = run(&spec("lambda_functions", &prefix("{ min_count = 2 }"))).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");

    let probe = run(&spec("lambda_functions", &prefix("{ count = 25 }"))).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!("functions with prefix {VERIFICATION_PREFIX}: expected exactly 25, got 3")
    );

    let settings = format!(
        "{}prefix = \"authbridge-auth-staging-\"\n",
        target(&moto.endpoint())
    );
    let probe = run(&spec("lambda_functions", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "functions with prefix authbridge-auth-staging-: expected at least 1, got 0"
    );
}

#[tokio::test]
async fn lambda_env_values_never_shown() {
    aws_test_env();
    let moto = MotoServer::start();
    lambda_fixture(&moto).await;
    let settings = format!(
        "{}prefix = \"{VERIFICATION_PREFIX}\"\n\
         expect = {{ env_vars = [\"CASBIN_TABLE_NAME\", \"DOCUMENTS_BUCKET\"] }}\n",
        target(&moto.endpoint())
    );
    let check = spec("lambda_functions", &settings);

    let probe = run(&check).await;
    let described = check.describe(&Redactor::new());

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    let shown = format!("{probe:?}");
    assert!(shown.contains("CASBIN_TABLE_NAME"), "{shown}");
    assert!(!shown.contains(SECRET_ENV_VALUE), "{shown}");
    assert!(!shown.contains("authbridge-documents-staging"), "{shown}");
    let json = serde_json::to_string(&probe).expect("probe serialises");
    assert!(!json.contains(SECRET_ENV_VALUE), "{json}");
    let described = format!("{described:?}");
    assert!(!described.contains(SECRET_ENV_VALUE), "{described}");
    assert!(
        probe
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("values are not read")),
        "{:?}",
        probe.evidence.notes
    );
}

#[tokio::test]
async fn lambda_endpoint_down_is_error() {
    aws_test_env();
    let (settings, closed) = closed_target();
    let settings = format!("{settings}names = [\"{VERIFICATION_PREFIX}assignRole\"]\n");

    let probe = run(&spec("lambda_functions", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(probe.summary.contains("unreachable"), "{}", probe.summary);
    assert!(probe.summary.contains(&closed), "{}", probe.summary);
    assert!(
        probe.summary.contains("Lambda endpoint"),
        "{}",
        probe.summary
    );
}

fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:{TEST_REGION}:{MOTO_ACCOUNT}:{name}")
}

/// Creates `authbridge-alerts` with an email and an SQS subscription, and `quiet` with none.
async fn sns_fixture(moto: &MotoServer) {
    let config = moto_sdk_config(&moto.endpoint()).await;
    let client = aws_sdk_sns::Client::new(&config);
    for name in ["authbridge-alerts", "quiet"] {
        client
            .create_topic()
            .name(name)
            .send()
            .await
            .expect("topic created");
    }
    let subscriptions = [
        ("email", "oncall-7f3a@example.com".to_string()),
        (
            "sqs",
            format!("arn:aws:sqs:{TEST_REGION}:{MOTO_ACCOUNT}:alerts-queue"),
        ),
    ];
    for (protocol, endpoint) in subscriptions {
        client
            .subscribe()
            .topic_arn(topic_arn("authbridge-alerts"))
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
            .await
            .expect("subscribed");
    }
}

fn topic_settings(endpoint: &str, topic: &str, expect: &str) -> String {
    format!(
        "{}topic_arn = \"{}\"\n{expect}",
        target(endpoint),
        topic_arn(topic)
    )
}

#[tokio::test]
async fn sns_topic_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    sns_fixture(&moto).await;
    let endpoint = moto.endpoint();

    let settings = topic_settings(
        &endpoint,
        "authbridge-alerts",
        "expect = { min_subscriptions = 2, protocols = [\"email\", \"sqs\"] }\n",
    );
    let probe = run(&spec("sns_topic", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.evidence.assertions[0].actual, "2");
    let table = &probe.evidence.tables[0];
    assert_eq!(table.rows.len(), 2);
    assert!(
        table
            .rows
            .iter()
            .all(|row| row.cells[1].text == "confirmed"),
        "{table:?}"
    );
    assert!(
        probe
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("pending confirmation are not counted")),
        "{:?}",
        probe.evidence.notes
    );
    let shown = format!("{probe:?}");
    assert!(!shown.contains("oncall-7f3a@example.com"), "{shown}");

    let probe = run(&spec("sns_topic", &topic_settings(&endpoint, "quiet", ""))).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "confirmed subscriptions: expected at least 1, got 0"
    );

    let settings = topic_settings(
        &endpoint,
        "authbridge-alerts",
        "expect = { protocols = [\"sms\"] }\n",
    );
    let probe = run(&spec("sns_topic", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "confirmed sms subscriptions: expected at least 1, got 0"
    );
}

#[tokio::test]
async fn sns_unknown_topic_is_error() {
    aws_test_env();
    let moto = MotoServer::start();
    sns_fixture(&moto).await;

    let settings = topic_settings(&moto.endpoint(), "authbridge-missing", "");
    let probe = run(&spec("sns_topic", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert_eq!(
        probe.summary,
        format!(
            "topic {} not found in eu-west-1; check the name and the region",
            topic_arn("authbridge-missing")
        )
    );
}

#[tokio::test]
async fn sns_endpoint_down_is_error() {
    aws_test_env();
    let (settings, closed) = closed_target();
    let settings = format!("{settings}topic_arn = \"{}\"\n", topic_arn("alerts"));

    let probe = run(&spec("sns_topic", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(probe.summary.contains("unreachable"), "{}", probe.summary);
    assert!(probe.summary.contains(&closed), "{}", probe.summary);
}

/// Creates `authbridge-staging` with email sign-in, email OTP and deletion protection,
/// `legacy` with moto's defaults, and two pools named `twin`.
async fn cognito_fixture(moto: &MotoServer) -> aws_sdk_cognitoidentityprovider::Client {
    let config = moto_sdk_config(&moto.endpoint()).await;
    let client = aws_sdk_cognitoidentityprovider::Client::new(&config);
    let password = PasswordPolicyType::builder().minimum_length(12).build();
    let sign_in = SignInPolicyType::builder()
        .allowed_first_auth_factors(AuthFactorType::Password)
        .allowed_first_auth_factors(AuthFactorType::EmailOtp)
        .build();
    let email = EmailConfigurationType::builder()
        .email_sending_account(EmailSendingAccountType::Developer)
        .source_arn(format!(
            "arn:aws:ses:{TEST_REGION}:{MOTO_ACCOUNT}:identity/authbridge.io"
        ))
        .build();
    client
        .create_user_pool()
        .pool_name("authbridge-staging")
        .username_attributes(UsernameAttributeType::Email)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .mfa_configuration(UserPoolMfaType::Off)
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(password)
                .sign_in_policy(sign_in)
                .build(),
        )
        .deletion_protection(DeletionProtectionType::Active)
        .email_configuration(email)
        .send()
        .await
        .expect("pool created");
    for name in ["legacy", "twin", "twin"] {
        client
            .create_user_pool()
            .pool_name(name)
            .send()
            .await
            .expect("pool created");
    }
    client
}

fn pool_settings(endpoint: &str, name: &str, expect: &str) -> String {
    format!("{}name = \"{name}\"\nexpect = {expect}\n", target(endpoint))
}

#[tokio::test]
async fn cognito_pool_pass_and_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    cognito_fixture(&moto).await;
    let endpoint = moto.endpoint();
    let expect = "{ username_attributes = [\"email\"], auto_verified_attributes = [\"email\"], \
                  mfa = \"OFF\", min_password_length = 12, deletion_protection = true, \
                  first_auth_factors = [\"PASSWORD\", \"EMAIL_OTP\"], \
                  email_sending_account = \"DEVELOPER\" }";

    let settings = pool_settings(&endpoint, "authbridge-staging", expect);
    let probe = run(&spec("cognito_user_pool", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Pass, "{probe:?}");
    assert_eq!(probe.evidence.assertions.len(), 7);
    assert_eq!(probe.evidence.request.len(), 2);
    let factors = &probe.evidence.assertions[5];
    assert_eq!(factors.subject, "allowed first auth factors");
    assert_eq!(factors.actual, "EMAIL_OTP, PASSWORD");

    let settings = pool_settings(
        &endpoint,
        "authbridge-staging",
        "{ first_auth_factors = [\"EMAIL_OTP\"] }",
    );
    let probe = run(&spec("cognito_user_pool", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "allowed first auth factors: expected EMAIL_OTP, got EMAIL_OTP, PASSWORD"
    );

    let settings = pool_settings(
        &endpoint,
        "authbridge-staging",
        "{ min_password_length = 14 }",
    );
    let probe = run(&spec("cognito_user_pool", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "minimum password length: expected at least 14, got 12"
    );

    let settings = pool_settings(&endpoint, "legacy", "{ mfa = \"ON\" }");
    let probe = run(&spec("cognito_user_pool", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(probe.summary, "MFA: expected ON, got OFF");
}

#[tokio::test]
async fn cognito_unreported_settings_fail() {
    aws_test_env();
    let moto = MotoServer::start();
    cognito_fixture(&moto).await;
    let settings = pool_settings(
        &moto.endpoint(),
        "legacy",
        "{ first_auth_factors = [\"EMAIL_OTP\"], deletion_protection = false }",
    );

    let probe = run(&spec("cognito_user_pool", &settings)).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:?}");
    assert_eq!(
        probe.summary,
        "deletion protection: expected INACTIVE, got not reported"
    );
    let factors = &probe.evidence.assertions[1];
    assert_eq!(factors.subject, "allowed first auth factors");
    assert_eq!(factors.actual, "not reported");
    assert!(!factors.passed);
}

#[tokio::test]
async fn cognito_lookup_errors() {
    aws_test_env();
    let moto = MotoServer::start();
    cognito_fixture(&moto).await;

    let settings = pool_settings(&moto.endpoint(), "authbridge-production", "{}");
    let probe = run(&spec("cognito_user_pool", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert_eq!(
        probe.summary,
        "user pool authbridge-production not found in eu-west-1; check the name and the region"
    );

    let settings = pool_settings(&moto.endpoint(), "twin", "{}");
    let probe = run(&spec("cognito_user_pool", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(
        probe
            .summary
            .starts_with("2 user pools are named twin in eu-west-1"),
        "{}",
        probe.summary
    );
    assert!(
        probe.summary.contains("the name must be unique"),
        "{}",
        probe.summary
    );

    let (settings, closed) = closed_target();
    let settings = format!("{settings}name = \"authbridge-staging\"\n");
    let probe = run(&spec("cognito_user_pool", &settings)).await;
    assert_eq!(probe.outcome, Outcome::Error, "{probe:?}");
    assert!(probe.summary.contains("unreachable"), "{}", probe.summary);
    assert!(probe.summary.contains(&closed), "{}", probe.summary);
}

#[test]
fn compute_settings_reject_bad_values() {
    let cases = [
        ("lambda_functions", "region = \"eu-west-1\"\n"),
        ("lambda_functions", "region = \"eu-west-1\"\nnames = []\n"),
        (
            "lambda_functions",
            "region = \"eu-west-1\"\nnames = [\"a\"]\nprefix = \"a\"\n",
        ),
        (
            "lambda_functions",
            "region = \"eu-west-1\"\nnames = [\"a\"]\nexpect = { count = 1 }\n",
        ),
        (
            "lambda_functions",
            "region = \"eu-west-1\"\nprefix = \"a\"\nexpect = { count = 1, min_count = 1 }\n",
        ),
        (
            "lambda_functions",
            "region = \"eu-west-1\"\nprefix = \"a\"\nexpect = { state = \"active\" }\n",
        ),
        (
            "lambda_functions",
            "region = \"eu-west-1\"\nprefix = \"a\"\nexpect = { env_vars = [\"\"] }\n",
        ),
        (
            "sns_topic",
            "region = \"eu-west-1\"\ntopic_arn = \"alerts\"\n",
        ),
        (
            "sns_topic",
            "region = \"eu-west-1\"\ntopic_arn = \"arn:aws:sns:eu-west-1:1:a\"\n\
             expect = { protocols = [\"pager\"] }\n",
        ),
        (
            "cognito_user_pool",
            "region = \"eu-west-1\"\nname = \" \"\n",
        ),
        (
            "cognito_user_pool",
            "region = \"eu-west-1\"\nname = \"p\"\nexpect = { mfa = \"on\" }\n",
        ),
        (
            "cognito_user_pool",
            "region = \"eu-west-1\"\nname = \"p\"\nexpect = { min_password_length = 4 }\n",
        ),
        (
            "cognito_user_pool",
            "region = \"eu-west-1\"\nname = \"p\"\nexpect = { first_auth_factors = [\"OTP\"] }\n",
        ),
        (
            "cognito_user_pool",
            "region = \"eu-west-1\"\nname = \"p\"\nexpect = { username_attributes = [\"sub\"] }\n",
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
fn compute_describe_starts_with_target() {
    let cases = [
        ("lambda_functions", "prefix = \"authbridge-\""),
        (
            "sns_topic",
            "topic_arn = \"arn:aws:sns:eu-west-1:123456789012:alerts\"",
        ),
        ("cognito_user_pool", "name = \"authbridge-staging\""),
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
