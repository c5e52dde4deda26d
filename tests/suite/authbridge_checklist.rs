//! The AuthBridge launch checklist in `checklists/` loads for both environments, keeps its phase
//! order and key items, and points every check that connects to a host at loopback once the
//! hosts are overridden. Only the AWS items run, against moto on 127.0.0.1.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use golive::checklist::loader::{LoadDefaults, Loaded, load, load_str_with_env};
use golive::checklist::{Checklist, ItemBody};
use golive::checks::CheckSpec;
use golive::redact::MASK;

const ENVIRONMENTS: [&str; 2] = ["staging", "production"];

const PHASES: [(&str, &str); 8] = [
    ("rbac-deploy", "Security hardening: RBAC deployment"),
    (
        "security-scans",
        "Security hardening: automated security scanning",
    ),
    (
        "security-tests",
        "Security hardening: manual security testing",
    ),
    (
        "remediation",
        "Security hardening: vulnerability remediation",
    ),
    ("prod-infra", "Production launch: infrastructure setup"),
    ("prod-deploy", "Production launch: deployment"),
    (
        "monitoring-dr",
        "Production launch: monitoring and disaster recovery",
    ),
    (
        "smoke-launch",
        "Production launch: smoke testing and launch",
    ),
];

/// Number of checks of each kind, in both environments.
const CHECKS_BY_KIND: [(&str, usize); 23] = [
    ("http", 18),
    ("tls", 2),
    ("headers", 3),
    ("cors", 1),
    ("rate_limit", 2),
    ("auth", 1),
    ("rbac", 2),
    ("input", 4),
    ("report", 6),
    ("s3_bucket", 6),
    ("guardduty_detector", 1),
    ("kms_key", 1),
    ("lambda_functions", 5),
    ("sns_topic", 1),
    ("cognito_user_pool", 3),
    ("cloudwatch_metric", 1),
    ("cloudwatch_dashboards", 3),
    ("securityhub_hub", 1),
    ("aws_alarms", 6),
    ("dynamodb_table", 11),
    ("dynamodb_item", 2),
    ("dynamodb_count", 2),
    ("securityhub_findings", 1),
];
const MANUAL_ITEMS: usize = 67;
/// Number of checks that read a file instead of connecting to a host.
const FILE_CHECKS: usize = 6;

/// Items the launch depends on, with their check kind, or `None` for a manual item.
const KEY_ITEMS: [(&str, Option<&str>); 38] = [
    ("rbac-casbin-table", Some("dynamodb_table")),
    ("rbac-casbin-policies-150", Some("dynamodb_count")),
    ("rbac-scenarios-pass", None),
    ("rbac-alarm-permission-denied", Some("aws_alarms")),
    ("scan-guardduty-enabled", Some("guardduty_detector")),
    ("scan-zap-complete", None),
    ("scan-zap-categorized", Some("report")),
    ("scan-nuclei-templates", None),
    ("scan-nuclei-categorized", Some("report")),
    ("sec-auth-tests", Some("auth")),
    ("sec-authz-rbac-matrix", Some("rbac")),
    ("sec-input-sql-injection-400", Some("input")),
    ("sec-input-xss-rejected", Some("input")),
    ("sec-input-path-traversal-404", Some("input")),
    ("sec-input-oversized-413", Some("input")),
    ("sec-ratelimit-429", Some("rate_limit")),
    ("sec-tls-12-enforced", Some("tls")),
    ("sec-tls-security-policy", None),
    ("sec-headers-present", Some("headers")),
    ("fix-cors-restricted", Some("cors")),
    ("fix-errors-no-stack-trace", Some("http")),
    ("rescan-run", None),
    ("rescan-zap-critical-high", Some("report")),
    ("rescan-nuclei-critical-high", Some("report")),
    ("security-signoff", None),
    ("infra-ddb-pitr", Some("dynamodb_table")),
    ("infra-s3-public-block", Some("s3_bucket")),
    ("deploy-https-enforced", Some("tls")),
    ("deploy-headers-present", Some("headers")),
    ("launch-sec-https", Some("http")),
    ("launch-sec-headers", Some("headers")),
    ("launch-sec-rate-limit", Some("rate_limit")),
    ("launch-sec-rbac", Some("rbac")),
    ("smoke-api-key-create", Some("http")),
    ("smoke-case-list", Some("http")),
    ("ready-checklist-complete", None),
    ("launch-mvp-announced", None),
    ("launch-production-live", Some("http")),
];

/// Items a GO verdict does not wait for: findings kept for later work and post-launch follow-up.
const OPTIONAL_ITEMS: [&str; 5] = [
    "fix-deferred-zap",
    "fix-deferred-nuclei",
    "launch-postlaunch-executed",
    "postlaunch-uptime-30d",
    "postlaunch-lessons-learned",
];

/// Every secret variable the checklist reads, for either environment.
const SECRET_VARIABLES: [&str; 14] = [
    "AUTHBRIDGE_ADMIN_TOKEN",
    "AUTHBRIDGE_REVIEWER_TOKEN",
    "AUTHBRIDGE_ANALYST_TOKEN",
    "AUTHBRIDGE_API_USER_TOKEN",
    "AUTHBRIDGE_API_KEY",
    "AUTHBRIDGE_OTHER_CLIENT_TOKEN",
    "AUTHBRIDGE_EXPIRED_JWT",
    "AUTHBRIDGE_PROD_ADMIN_TOKEN",
    "AUTHBRIDGE_PROD_REVIEWER_TOKEN",
    "AUTHBRIDGE_PROD_ANALYST_TOKEN",
    "AUTHBRIDGE_PROD_API_USER_TOKEN",
    "AUTHBRIDGE_PROD_API_KEY",
    "AUTHBRIDGE_PROD_OTHER_CLIENT_TOKEN",
    "AUTHBRIDGE_PROD_EXPIRED_JWT",
];

const LOOPBACK: &str = "http://127.0.0.1:9";
const LOOPBACK_HOST: &str = "127.0.0.1";

fn checklist_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("checklists/authbridge-launch.toml")
}

/// Looks up a process environment variable: every secret variable has a value derived from its
/// name, and nothing else is set.
fn lookup_test_env(name: &str) -> Option<String> {
    SECRET_VARIABLES
        .contains(&name)
        .then(|| format!("test-value-{}", name.to_lowercase()))
}

fn load_with_secrets(environment: &str, overrides: &BTreeMap<String, String>) -> Loaded {
    let path = checklist_path();
    let text = std::fs::read_to_string(&path).expect("checklist file is readable");
    match load_str_with_env(
        &path,
        &text,
        Some(environment),
        overrides,
        &LoadDefaults::default(),
        &lookup_test_env,
    ) {
        Ok(loaded) => loaded,
        Err(failure) => panic!("{environment}: checklist failed to load:\n{failure}"),
    }
}

fn loopback_overrides() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("base_url".to_string(), LOOPBACK.to_string()),
        ("http_base_url".to_string(), LOOPBACK.to_string()),
        ("api_host".to_string(), LOOPBACK_HOST.to_string()),
        ("aws_endpoint_url".to_string(), LOOPBACK.to_string()),
    ])
}

/// Returns the host of a URL, or an empty string when the URL has none.
fn url_host(url: &reqwest::Url) -> String {
    url.host_str().unwrap_or("").to_string()
}

/// Returns the host of an `input` URL template, with its `{payload}` filled in.
fn template_host(template: &str) -> String {
    match reqwest::Url::parse(&template.replace("{payload}", "x")) {
        Ok(url) => url_host(&url),
        Err(err) => format!("unparsable URL {template}: {err}"),
    }
}

/// Collects every host or address a check connects to, as (item id, field, host), in checklist
/// order. The `tls` host is included because golive resolves it when `address` is not set.
fn connect_targets(checklist: &Checklist) -> Vec<(String, String, String)> {
    let mut targets = Vec::new();
    for item in checklist.items() {
        let Some(check) = item.check() else {
            continue;
        };
        let mut add = |field: &str, host: String| {
            targets.push((item.id.clone(), field.to_string(), host));
        };
        match &check.spec {
            CheckSpec::Http(http) => add("url", url_host(&http.url.0)),
            CheckSpec::Headers(headers) => add("url", url_host(&headers.url.0)),
            CheckSpec::Cors(cors) => add("url", url_host(&cors.url.0)),
            CheckSpec::RateLimit(rate_limit) => add("url", url_host(&rate_limit.url.0)),
            CheckSpec::Auth(auth) => {
                add("url", url_host(&auth.url.0));
                if let Some(url) = &auth.other_client_url {
                    add("other_client_url", url_host(&url.0));
                }
                if let Some(url) = &auth.error_url {
                    add("error_url", url_host(&url.0));
                }
            }
            CheckSpec::Rbac(rbac) => {
                for action in &rbac.actions {
                    add(
                        &format!("actions.{}.url", action.name),
                        url_host(&action.url.0),
                    );
                }
            }
            CheckSpec::Input(input) => add("url", template_host(&input.url)),
            CheckSpec::Tls(tls) => {
                add("host", tls.host.clone());
                if let Some(address) = tls.address {
                    add("address", address.to_string());
                }
            }
            CheckSpec::Report(_) => {}
            // A kind this function does not know yet counts as reaching an unknown host, so the
            // loopback test fails until its connect target is listed here.
            other => match other.aws_target() {
                Some(target) => match &target.endpoint_url {
                    Some(endpoint) => add("endpoint_url", url_host(&endpoint.parse().unwrap())),
                    None => add("region", format!("{}.amazonaws.com", target.region)),
                },
                None => add(other.kind(), "unlisted-kind.invalid".into()),
            },
        }
    }
    targets
}

/// Collects the id and resolved URL of every http check, in checklist order.
fn http_urls(checklist: &Checklist) -> Vec<(String, String)> {
    checklist
        .items()
        .filter_map(|item| match item.check().map(|check| &check.spec) {
            Some(CheckSpec::Http(http)) => Some((item.id.clone(), http.url.0.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn loads_from_file_for_both_environments() {
    for environment in ENVIRONMENTS {
        let result = load(
            &checklist_path(),
            Some(environment),
            &BTreeMap::new(),
            &LoadDefaults::default(),
        );
        let loaded = match result {
            Ok(loaded) => loaded,
            Err(failure) => panic!("{environment}: checklist failed to load:\n{failure}"),
        };
        assert_eq!(loaded.checklist.environment, environment);
        assert_eq!(loaded.checklist.environments, ENVIRONMENTS);
    }
}

#[test]
fn loads_without_warnings_when_secrets_are_set() {
    for environment in ENVIRONMENTS {
        let loaded = load_with_secrets(environment, &BTreeMap::new());
        let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.message.clone()).collect();
        assert!(warnings.is_empty(), "{environment}: warnings {warnings:?}");
        let unavailable: Vec<&str> = loaded
            .checklist
            .items()
            .filter(|item| {
                item.check()
                    .is_some_and(|check| !check.unavailable.is_empty())
            })
            .map(|item| item.id.as_str())
            .collect();
        assert!(
            unavailable.is_empty(),
            "{environment}: unavailable checks {unavailable:?}"
        );
    }
}

#[test]
fn phases_are_in_order_with_titles() {
    for environment in ENVIRONMENTS {
        let checklist = load_with_secrets(environment, &BTreeMap::new()).checklist;
        let actual: Vec<(&str, &str)> = checklist
            .phases
            .iter()
            .map(|phase| (phase.id.as_str(), phase.title.as_str()))
            .collect();
        assert_eq!(actual, PHASES, "{environment}");
        for phase in &checklist.phases {
            assert!(
                !phase.items.is_empty(),
                "{environment}: phase {} is empty",
                phase.id
            );
        }
    }
}

#[test]
fn item_counts_by_kind() {
    let checks: usize = CHECKS_BY_KIND.iter().map(|(_, count)| count).sum();
    for environment in ENVIRONMENTS {
        let checklist = load_with_secrets(environment, &BTreeMap::new()).checklist;
        for (kind, expected) in CHECKS_BY_KIND {
            let count = checklist
                .items()
                .filter(|item| item.check().is_some_and(|check| check.spec.kind() == kind))
                .count();
            assert_eq!(count, expected, "{environment}: {kind} checks");
        }
        let manual = checklist.items().filter(|item| item.is_manual()).count();
        let total = checklist.items().count();
        assert_eq!(manual, MANUAL_ITEMS, "{environment}: manual items");
        assert_eq!(
            total,
            checks + MANUAL_ITEMS,
            "{environment}: items of other kinds"
        );
    }
}

#[test]
fn item_ids_are_unique() {
    let checklist = load_with_secrets("staging", &BTreeMap::new()).checklist;
    let mut seen = HashSet::new();
    for item in checklist.items() {
        assert!(
            seen.insert(item.id.clone()),
            "duplicate item id {}",
            item.id
        );
    }
}

#[test]
fn key_items_exist_with_their_kind() {
    for environment in ENVIRONMENTS {
        let checklist = load_with_secrets(environment, &BTreeMap::new()).checklist;
        for (id, expected_kind) in KEY_ITEMS {
            let item = checklist.item(id);
            assert!(item.is_some(), "{environment}: item {id} is missing");
            let kind = item
                .and_then(|item| item.check())
                .map(|check| check.spec.kind());
            assert_eq!(kind, expected_kind, "{environment}: kind of item {id}");
            let required = item.is_some_and(|item| item.required);
            assert!(required, "{environment}: item {id} is not required");
        }
    }
}

#[test]
fn only_future_work_is_optional() {
    let checklist = load_with_secrets("production", &BTreeMap::new()).checklist;
    let optional: Vec<&str> = checklist
        .items()
        .filter(|item| !item.required)
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(optional, OPTIONAL_ITEMS);
}

#[test]
fn manual_items_have_steps_and_expected() {
    let checklist = load_with_secrets("production", &BTreeMap::new()).checklist;
    for item in checklist.items() {
        if let ItemBody::Manual(manual) = &item.body {
            assert!(!manual.steps.is_empty(), "item {} has no steps", item.id);
            assert!(
                manual.expected.is_some(),
                "item {} has no expected result",
                item.id
            );
        }
    }
}

#[test]
fn environments_resolve_their_own_hosts() {
    let expected = [
        ("staging", "https://api-staging.authbridge.io/"),
        ("production", "https://api.authbridge.io/"),
    ];
    for (environment, host) in expected {
        let checklist = load_with_secrets(environment, &BTreeMap::new()).checklist;
        let urls = http_urls(&checklist);
        let health = urls.iter().find(|(id, _)| id == "smoke-health-api-200");
        let url = health.map(|(_, url)| url.as_str()).unwrap_or_default();
        assert!(url.starts_with(host), "{environment}: health URL {url}");
    }
}

#[test]
fn production_reads_its_own_secrets() {
    let checklist = load_with_secrets("production", &BTreeMap::new()).checklist;
    let redacted = checklist
        .redactor
        .redact("test-value-authbridge_prod_admin_token");
    assert_eq!(redacted, MASK);
    let staging_value = checklist
        .redactor
        .redact("test-value-authbridge_admin_token");
    assert_eq!(staging_value, "test-value-authbridge_admin_token");
}

#[test]
fn host_overrides_reach_every_check() {
    let checks: usize = CHECKS_BY_KIND.iter().map(|(_, count)| count).sum();
    for environment in ENVIRONMENTS {
        let checklist = load_with_secrets(environment, &loopback_overrides()).checklist;
        let checked: HashSet<String> = connect_targets(&checklist)
            .into_iter()
            .map(|(id, field, host)| {
                assert_eq!(
                    host, LOOPBACK_HOST,
                    "{environment}: item {id} connects to {host} ({field})"
                );
                id
            })
            .collect();
        assert_eq!(
            checked.len(),
            checks - FILE_CHECKS,
            "{environment}: checks with a target"
        );
    }
}

#[test]
fn tls_checks_name_the_api_host() {
    let expected = [
        ("staging", "api-staging.authbridge.io"),
        ("production", "api.authbridge.io"),
    ];
    for (environment, host) in expected {
        let checklist = load_with_secrets(environment, &BTreeMap::new()).checklist;
        for item in checklist.items() {
            if let Some(CheckSpec::Tls(tls)) = item.check().map(|check| &check.spec) {
                assert_eq!(tls.host, host, "{environment}: item {}", item.id);
                assert_eq!(tls.port, 443, "{environment}: item {}", item.id);
                assert_eq!(tls.address, None, "{environment}: item {}", item.id);
            }
        }
    }
}

/// Report checks with the file name of their report and, for re-scans, of the baseline.
const REPORT_CHECKS: [(&str, &str, Option<&str>); 6] = [
    ("scan-zap-categorized", "zap.json", None),
    ("scan-nuclei-categorized", "nuclei.json", None),
    ("fix-deferred-zap", "zap-rescan.json", None),
    ("fix-deferred-nuclei", "nuclei-rescan.json", None),
    (
        "rescan-zap-critical-high",
        "zap-rescan.json",
        Some("zap.json"),
    ),
    (
        "rescan-nuclei-critical-high",
        "nuclei-rescan.json",
        Some("nuclei.json"),
    ),
];

#[test]
fn report_checks_read_staging_reports() {
    use golive::checks::report::Severity;

    for environment in ENVIRONMENTS {
        let checklist = load_with_secrets(environment, &BTreeMap::new()).checklist;
        for (id, file, baseline_file) in REPORT_CHECKS {
            let spec = checklist
                .item(id)
                .and_then(|item| item.check())
                .map(|check| &check.spec);
            let Some(CheckSpec::Report(report)) = spec else {
                panic!("{environment}: item {id} is not a report check");
            };
            let context = format!("{environment}: item {id}");
            assert_eq!(report.path, format!("reports/staging/{file}"), "{context}");
            let expected_baseline = baseline_file.map(|file| format!("reports/staging/{file}"));
            assert_eq!(report.baseline, expected_baseline, "{context}");
            assert!(
                report.waived.is_empty(),
                "{context}: waived {:?}",
                report.waived
            );
            assert!(report.expect.max.is_some(), "{context}: no `expect.max`");
            assert!(
                report.expect.max_age.is_some(),
                "{context}: no `expect.max_age`"
            );
            assert_eq!(
                report.expect.target.as_deref(),
                Some("https://api-staging.authbridge.io"),
                "{context}"
            );
            if baseline_file.is_some() {
                let both = [Severity::Critical, Severity::High];
                assert_eq!(report.expect.no_new, both, "{context}");
                assert_eq!(report.expect.baseline_fixed, both, "{context}");
            }
        }
    }
}

#[test]
fn report_checks_wait_for_their_scans() {
    let expected = [
        ("scan-zap-categorized", "scan-zap-exported"),
        ("scan-nuclei-categorized", "scan-nuclei-exported"),
        ("fix-deferred-zap", "rescan-run"),
        ("fix-deferred-nuclei", "rescan-run"),
        ("rescan-zap-critical-high", "rescan-run"),
        ("rescan-nuclei-critical-high", "rescan-run"),
    ];
    let checklist = load_with_secrets("staging", &BTreeMap::new()).checklist;
    for (id, scan) in expected {
        let depends_on = checklist
            .item(id)
            .map(|item| item.depends_on.clone())
            .unwrap_or_default();
        assert!(
            depends_on.iter().any(|dependency| dependency == scan),
            "item {id} depends on {depends_on:?}"
        );
        let scan_item = checklist.item(scan);
        assert!(
            scan_item.is_some_and(|item| item.is_manual()),
            "item {scan} is not a manual item"
        );
    }
}

#[test]
fn waivers_file_example_loads_as_finding_waiver() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("authbridge-launch.toml");
    let text = std::fs::read_to_string(checklist_path()).unwrap();
    std::fs::write(&path, &text).unwrap();
    let example = std::fs::read_to_string(checklist_path().with_extension("waivers.toml")).unwrap();
    // The example waiver is the commented TOML after the prose: lines of `# key = value`.
    let uncommented: String = example
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| line.starts_with("[[waivers]]") || line.contains(" = "))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(
        folder.path().join("authbridge-launch.waivers.toml"),
        uncommented,
    )
    .unwrap();

    let loaded = match load_str_with_env(
        &path,
        &text,
        Some("staging"),
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &lookup_test_env,
    ) {
        Ok(loaded) => loaded,
        Err(failure) => panic!("checklist with the example waiver failed to load:\n{failure}"),
    };
    let waivers = &loaded.policy.waivers;
    assert_eq!(waivers.len(), 1);
    assert_eq!(waivers[0].item, "fix-deferred-zap");
    assert_eq!(
        waivers[0].findings,
        ["10049@https://api-staging.authbridge.io/static"]
    );
}

/// The AWS items of the checklist, in checklist order, which run against moto in
/// `aws_items_pass_against_moto`.
const AWS_ITEMS: [&str; 44] = [
    "rbac-casbin-table",
    "rbac-casbin-policies-150",
    "rbac-lambdas-new",
    "rbac-admin-assigned",
    "rbac-alarm-permission-denied",
    "scan-guardduty-enabled",
    "scan-security-hub",
    "rescan-securityhub-critical",
    "infra-cognito-pool",
    "infra-cognito-passwordless",
    "infra-cognito-email-otp",
    "infra-ddb-gsi1",
    "infra-ddb-gsi2",
    "infra-ddb-gsi4",
    "infra-ddb-encryption",
    "infra-ddb-pitr",
    "infra-ddb-on-demand",
    "infra-kms-keys",
    "infra-s3-bucket",
    "infra-s3-kms",
    "infra-s3-public-block",
    "infra-s3-versioning",
    "infra-s3-lifecycle",
    "infra-casbin-table",
    "infra-casbin-encryption",
    "infra-casbin-on-demand",
    "deploy-auth-lambdas",
    "deploy-auth-env-vars",
    "deploy-verification-lambdas",
    "deploy-verification-env-vars",
    "deploy-casbin-policies-150",
    "deploy-admin-assigned",
    "mon-sns-topic",
    "mon-alarm-lambda-errors",
    "mon-alarm-api-5xx",
    "mon-alarm-ddb-throttling",
    "mon-alarm-permission-denied",
    "mon-dashboard-lambda",
    "mon-dashboard-dynamodb",
    "mon-dashboard-apigw",
    "backup-ddb-pitr",
    "backup-s3-versioning",
    "launch-mon-metrics",
    "launch-mon-alarms-active",
];

/// The item that cannot pass against moto 5.2: it reads the enabled standards with
/// GetEnabledStandards, which moto 5.2 does not implement, so it ends in an error.
const STANDARDS_ITEM: &str = "scan-security-hub";

/// Returns the items that fail once `break_one_resource_per_kind` has run, in checklist order,
/// with their summary. The GuardDuty summary names the detector by its id.
fn broken_items(detector_id: &str) -> Vec<(&'static str, String)> {
    let items = [
        (
            "scan-guardduty-enabled",
            format!(
                "detector {detector_id} finding publishing frequency: expected FIFTEEN_MINUTES, \
                 got SIX_HOURS"
            ),
        ),
        (
            "infra-cognito-email-otp",
            "email sending account: expected DEVELOPER, got COGNITO_DEFAULT".into(),
        ),
        (
            "infra-ddb-pitr",
            "point-in-time recovery: expected ENABLED, got DISABLED".into(),
        ),
        (
            "infra-kms-keys",
            format!("key {DYNAMODB_KEY_ALIAS} state: expected Enabled, got Disabled"),
        ),
        (
            "infra-s3-versioning",
            "versioning: expected Enabled, got Suspended".into(),
        ),
        (
            "deploy-auth-env-vars",
            format!(
                "function {AUTH_PREFIX}{} env vars: expected COGNITO_USER_POOL_ID, \
                 COGNITO_CLIENT_ID, TABLE_NAME set, got TABLE_NAME missing",
                AUTH_FUNCTIONS[0]
            ),
        ),
        (
            "mon-sns-topic",
            "confirmed subscriptions: expected at least 1, got 0".into(),
        ),
        (
            "mon-dashboard-apigw",
            format!(
                "dashboard {DASHBOARD} namespace AWS/ApiGateway: expected present, got missing"
            ),
        ),
        (
            "backup-s3-versioning",
            "versioning: expected Enabled, got Suspended".into(),
        ),
    ];
    items.into()
}

/// Staging region and resource names, as the checklist's `staging` environment sets them.
const STAGING_REGION: &str = "af-south-1";
const MAIN_TABLE: &str = "AuthBridgeTable";
const CASBIN_TABLE: &str = "AuthBridgeCasbinPolicies-staging";
const ALERTS_TOPIC: &str = "arn:aws:sns:af-south-1:123456789012:authbridge-alerts";
const ALARMS: [&str; 4] = [
    "authbridge-rbac-permission-denied",
    "authbridge-lambda-errors-staging",
    "authbridge-api-5xx-staging",
    "authbridge-dynamodb-throttling-staging",
];
const DOCUMENTS_BUCKET: &str = "authbridge-documents-staging";
const DOCUMENTS_KEY_ALIAS: &str = "alias/authbridge-documents-staging";
const DYNAMODB_KEY_ALIAS: &str = "alias/authbridge-dynamodb-staging";
const USER_POOL: &str = "authbridge-staging";
const DASHBOARD: &str = "authbridge-staging";
const API_GATEWAY_NAME: &str = "staging-authbridge-verification";
const AUTH_PREFIX: &str = "authbridge-auth-staging-";
const VERIFICATION_PREFIX: &str = "authbridge-verification-staging-";
/// Number of Casbin policy rows written; the checklist expects at least 150.
const CASBIN_ROWS: usize = 150;
/// The RBAC functions `rbac-lambdas-new` names, which are among the verification functions.
const RBAC_FUNCTIONS: [&str; 4] = ["assignRole", "removeRole", "getUserRoles", "listRoles"];
/// Number of verification functions, which `deploy-verification-lambdas` expects exactly.
const VERIFICATION_FUNCTIONS: usize = 25;
const VERIFICATION_ENV_VARS: [&str; 2] = ["CASBIN_TABLE_NAME", "DOCUMENTS_BUCKET"];
const AUTH_FUNCTIONS: [&str; 3] = ["sendOtp", "verifyOtp", "refreshToken"];
const AUTH_ENV_VARS: [&str; 3] = ["COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "TABLE_NAME"];
const DASHBOARD_NAMESPACES: [&str; 3] = ["AWS/Lambda", "AWS/DynamoDB", "AWS/ApiGateway"];

/// Creates the staging resources the AWS items name, one function per service, through the
/// AWS SDK.
mod aws_resources {
    use std::time::{Duration, SystemTime};

    use aws_sdk_cloudwatch::types::{
        ComparisonOperator, Dimension, MetricDatum, StandardUnit, StateValue, Statistic,
    };
    use aws_sdk_cognitoidentityprovider::types::{
        AuthFactorType, EmailConfigurationType, EmailSendingAccountType, SignInPolicyType,
        UserPoolPolicyType, VerifiedAttributeType,
    };
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
        KeyType, PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType,
        SseSpecification,
    };
    use aws_sdk_guardduty::types::FindingPublishingFrequency;
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
        CreateBucketConfiguration, ExpirationStatus, LifecycleRule, LifecycleRuleFilter,
        NoncurrentVersionExpiration, PublicAccessBlockConfiguration, ServerSideEncryption,
        ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
        VersioningConfiguration,
    };

    use super::*;

    /// An empty zip archive: only the end-of-central-directory record. moto stores Lambda
    /// functions without running them, so the package needs no handler file.
    const EMPTY_ZIP: [u8; 22] = [
        0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// Clients of the staging resources and the ids that `break_one_resource_per_kind` needs.
    pub struct Staging {
        dynamodb: aws_sdk_dynamodb::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        s3: aws_sdk_s3::Client,
        guardduty: aws_sdk_guardduty::Client,
        kms: aws_sdk_kms::Client,
        lambda: aws_sdk_lambda::Client,
        sns: aws_sdk_sns::Client,
        cognito: aws_sdk_cognitoidentityprovider::Client,
        /// Id of the GuardDuty detector, which failure summaries name.
        pub detector_id: String,
        dynamodb_key_id: String,
        subscription_arn: String,
        user_pool_id: String,
    }

    /// Creates every resource the AWS items of the checklist name, each as the item expects.
    pub async fn create_staging(config: &aws_config::SdkConfig) -> Staging {
        let dynamodb = aws_sdk_dynamodb::Client::new(config);
        create_tables(&dynamodb, "user-first-admin").await;

        let cloudwatch = aws_sdk_cloudwatch::Client::new(config);
        create_alarms(&cloudwatch).await;
        put_request_count(&cloudwatch).await;
        put_dashboard(&cloudwatch, &DASHBOARD_NAMESPACES).await;

        aws_sdk_securityhub::Client::new(config)
            .enable_security_hub()
            .send()
            .await
            .expect("hub enabled");

        let guardduty = aws_sdk_guardduty::Client::new(config);
        let detector_id = create_detector(&guardduty).await;

        let kms = aws_sdk_kms::Client::new(config);
        let (documents_key_arn, dynamodb_key_id) = create_keys(&kms).await;

        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(s3_config);
        create_bucket(&s3, &documents_key_arn).await;

        let lambda = aws_sdk_lambda::Client::new(config);
        let role = create_lambda_role(&aws_sdk_iam::Client::new(config)).await;
        create_functions(&lambda, &role).await;

        let sns = aws_sdk_sns::Client::new(config);
        let subscription_arn = create_alerts_topic(&sns).await;

        let cognito = aws_sdk_cognitoidentityprovider::Client::new(config);
        let user_pool_id = create_user_pool(&cognito).await;

        Staging {
            dynamodb,
            cloudwatch,
            s3,
            guardduty,
            kms,
            lambda,
            sns,
            cognito,
            detector_id,
            dynamodb_key_id,
            subscription_arn,
            user_pool_id,
        }
    }

    /// Breaks one resource of each kind that can be broken in moto, so that exactly the items
    /// of `broken_items` fail. The request count of `launch-mon-metrics` stays: CloudWatch has
    /// no call that removes datapoints.
    pub async fn break_one_resource_per_kind(staging: &Staging) {
        set_pitr(&staging.dynamodb, MAIN_TABLE, false).await;
        put_dashboard(&staging.cloudwatch, &["AWS/Lambda", "AWS/DynamoDB"]).await;
        staging
            .guardduty
            .update_detector()
            .detector_id(&staging.detector_id)
            .finding_publishing_frequency(FindingPublishingFrequency::SixHours)
            .send()
            .await
            .expect("detector updated");
        staging
            .kms
            .disable_key()
            .key_id(&staging.dynamodb_key_id)
            .send()
            .await
            .expect("key disabled");
        put_versioning(&staging.s3, BucketVersioningStatus::Suspended).await;
        let function = format!("{AUTH_PREFIX}{}", AUTH_FUNCTIONS[0]);
        let partial = environment(&AUTH_ENV_VARS[..2]);
        staging
            .lambda
            .update_function_configuration()
            .function_name(&function)
            .environment(partial)
            .send()
            .await
            .expect("function configuration updated");
        staging
            .sns
            .unsubscribe()
            .subscription_arn(&staging.subscription_arn)
            .send()
            .await
            .expect("unsubscribed");
        update_user_pool(
            &staging.cognito,
            &staging.user_pool_id,
            EmailSendingAccountType::CognitoDefault,
        )
        .await;
    }

    // DynamoDB

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

    fn index(name: &str, partition_key: &str) -> GlobalSecondaryIndex {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(partition_key, KeyType::Hash))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .expect("index")
    }

    /// Creates an on-demand table keyed by `PK` and `SK`, encrypted with a KMS key, with
    /// point-in-time recovery and the given indexes, each keyed by an attribute of its name.
    async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, indexes: &[&str]) {
        let mut request = client
            .create_table()
            .table_name(name)
            .attribute_definitions(string_attribute("PK"))
            .attribute_definitions(string_attribute("SK"))
            .key_schema(key("PK", KeyType::Hash))
            .key_schema(key("SK", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .sse_specification(SseSpecification::builder().enabled(true).build());
        for index_name in indexes {
            let partition_key = format!("{index_name}PK");
            request = request
                .attribute_definitions(string_attribute(&partition_key))
                .global_secondary_indexes(index(index_name, &partition_key));
        }
        request.send().await.expect("table created");
        set_pitr(client, name, true).await;
    }

    async fn set_pitr(client: &aws_sdk_dynamodb::Client, table: &str, enabled: bool) {
        client
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(enabled)
                    .build()
                    .expect("PITR specification"),
            )
            .send()
            .await
            .expect("PITR updated");
    }

    async fn create_tables(client: &aws_sdk_dynamodb::Client, admin_user_id: &str) {
        create_table(client, MAIN_TABLE, &["GSI1", "GSI2", "GSI4"]).await;
        create_table(client, CASBIN_TABLE, &[]).await;
        for row in 0..CASBIN_ROWS {
            client
                .put_item()
                .table_name(CASBIN_TABLE)
                .item("PK", AttributeValue::S(format!("p#{row}")))
                .item("SK", AttributeValue::S("policy".into()))
                .item("v0", AttributeValue::S("admin".into()))
                .send()
                .await
                .expect("policy written");
        }
        client
            .put_item()
            .table_name(MAIN_TABLE)
            .item("PK", AttributeValue::S(format!("USER#{admin_user_id}")))
            .item("SK", AttributeValue::S("ROLE#admin".into()))
            .item("userId", AttributeValue::S(admin_user_id.into()))
            .item("role", AttributeValue::S("admin".into()))
            .item("assignedBy", AttributeValue::S("system".into()))
            .send()
            .await
            .expect("admin role written");
    }

    // CloudWatch

    /// Creates the four alarms in the OK state, each notifying the alerts topic.
    async fn create_alarms(client: &aws_sdk_cloudwatch::Client) {
        for name in ALARMS {
            client
                .put_metric_alarm()
                .alarm_name(name)
                .namespace("AuthBridge/RBAC")
                .metric_name("PermissionDenied")
                .statistic(Statistic::Sum)
                .period(300)
                .evaluation_periods(1)
                .threshold(50.0)
                .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                .actions_enabled(true)
                .alarm_actions(ALERTS_TOPIC)
                .send()
                .await
                .expect("alarm created");
            client
                .set_alarm_state()
                .alarm_name(name)
                .state_value(StateValue::Ok)
                .state_reason("no permission denied spike")
                .send()
                .await
                .expect("alarm state set");
        }
    }

    /// Writes 12 API Gateway requests of the verification API, counted three minutes ago.
    async fn put_request_count(client: &aws_sdk_cloudwatch::Client) {
        let three_minutes_ago = SystemTime::now() - Duration::from_secs(3 * 60);
        let datum = MetricDatum::builder()
            .metric_name("Count")
            .dimensions(
                Dimension::builder()
                    .name("ApiName")
                    .value(API_GATEWAY_NAME)
                    .build(),
            )
            .value(12.0)
            .unit(StandardUnit::Count)
            .timestamp(three_minutes_ago.into())
            .build();
        client
            .put_metric_data()
            .namespace("AWS/ApiGateway")
            .metric_data(datum)
            .send()
            .await
            .expect("datapoint written");
    }

    /// Writes the staging dashboard with one metric widget per namespace.
    async fn put_dashboard(client: &aws_sdk_cloudwatch::Client, namespaces: &[&str]) {
        let widgets: Vec<serde_json::Value> = namespaces
            .iter()
            .map(|namespace| {
                serde_json::json!({
                    "type": "metric",
                    "properties": {
                        "title": namespace,
                        "metrics": [[namespace, "Errors"]],
                    },
                })
            })
            .collect();
        let body = serde_json::json!({ "widgets": widgets });
        client
            .put_dashboard()
            .dashboard_name(DASHBOARD)
            .dashboard_body(body.to_string())
            .send()
            .await
            .expect("dashboard written");
    }

    // GuardDuty

    /// Creates an enabled detector that publishes findings every 15 minutes, and returns its id.
    async fn create_detector(client: &aws_sdk_guardduty::Client) -> String {
        let output = client
            .create_detector()
            .enable(true)
            .finding_publishing_frequency(FindingPublishingFrequency::FifteenMinutes)
            .send()
            .await
            .expect("detector created");
        output.detector_id().expect("detector id").to_string()
    }

    // KMS

    /// Creates an enabled customer managed key with the alias, and returns its ARN and key id.
    async fn create_key(client: &aws_sdk_kms::Client, alias: &str) -> (String, String) {
        let output = client
            .create_key()
            .description(alias)
            .send()
            .await
            .expect("key created");
        let metadata = output.key_metadata().expect("key metadata");
        let key_id = metadata.key_id().to_string();
        let arn = metadata.arn().expect("key ARN").to_string();
        client
            .create_alias()
            .alias_name(alias)
            .target_key_id(&key_id)
            .send()
            .await
            .expect("alias created");
        (arn, key_id)
    }

    /// Creates the documents and DynamoDB keys, and returns the documents key ARN and the
    /// DynamoDB key id.
    async fn create_keys(client: &aws_sdk_kms::Client) -> (String, String) {
        let (documents_arn, _) = create_key(client, DOCUMENTS_KEY_ALIAS).await;
        let (_, dynamodb_key_id) = create_key(client, DYNAMODB_KEY_ALIAS).await;
        (documents_arn, dynamodb_key_id)
    }

    // S3

    /// Creates the documents bucket in the staging region, encrypted with the KMS key, with a
    /// full public access block, versioning and one enabled lifecycle rule.
    async fn create_bucket(client: &aws_sdk_s3::Client, kms_key_arn: &str) {
        let location = CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(STAGING_REGION))
            .build();
        client
            .create_bucket()
            .bucket(DOCUMENTS_BUCKET)
            .create_bucket_configuration(location)
            .send()
            .await
            .expect("bucket created");

        let default_rule = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(kms_key_arn)
            .build()
            .expect("default encryption");
        let encryption = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default_rule)
                    .build(),
            )
            .build()
            .expect("encryption configuration");
        client
            .put_bucket_encryption()
            .bucket(DOCUMENTS_BUCKET)
            .server_side_encryption_configuration(encryption)
            .send()
            .await
            .expect("encryption set");

        let block = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        client
            .put_public_access_block()
            .bucket(DOCUMENTS_BUCKET)
            .public_access_block_configuration(block)
            .send()
            .await
            .expect("public access block set");

        put_versioning(client, BucketVersioningStatus::Enabled).await;

        let rule = LifecycleRule::builder()
            .id("expire-noncurrent")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(30)
                    .build(),
            )
            .build()
            .expect("lifecycle rule");
        let lifecycle = BucketLifecycleConfiguration::builder()
            .rules(rule)
            .build()
            .expect("lifecycle configuration");
        client
            .put_bucket_lifecycle_configuration()
            .bucket(DOCUMENTS_BUCKET)
            .lifecycle_configuration(lifecycle)
            .send()
            .await
            .expect("lifecycle set");
    }

    async fn put_versioning(client: &aws_sdk_s3::Client, status: BucketVersioningStatus) {
        client
            .put_bucket_versioning()
            .bucket(DOCUMENTS_BUCKET)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .expect("versioning set");
    }

    // Lambda

    /// Creates the execution role moto requires before it accepts a function.
    async fn create_lambda_role(client: &aws_sdk_iam::Client) -> String {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let output = client
            .create_role()
            .role_name("authbridge-lambda-staging")
            .assume_role_policy_document(policy)
            .send()
            .await
            .expect("role created");
        output.role().expect("role").arn().to_string()
    }

    /// Returns an environment that sets each variable to a value derived from its name.
    fn environment(names: &[&str]) -> Environment {
        let mut environment = Environment::builder();
        for name in names {
            environment = environment.variables(*name, format!("staging-{}", name.to_lowercase()));
        }
        environment.build()
    }

    /// Creates the auth functions and the 25 verification functions, the RBAC functions among
    /// them, each with the environment variables its service's items name.
    async fn create_functions(client: &aws_sdk_lambda::Client, role: &str) {
        let other_functions = VERIFICATION_FUNCTIONS - RBAC_FUNCTIONS.len();
        let verification = RBAC_FUNCTIONS
            .iter()
            .map(|function| function.to_string())
            .chain((1..=other_functions).map(|number| format!("handler{number:02}")));
        let functions = AUTH_FUNCTIONS
            .iter()
            .map(|function| (format!("{AUTH_PREFIX}{function}"), &AUTH_ENV_VARS[..]))
            .chain(verification.map(|function| {
                (
                    format!("{VERIFICATION_PREFIX}{function}"),
                    &VERIFICATION_ENV_VARS[..],
                )
            }));
        for (name, env_vars) in functions {
            client
                .create_function()
                .function_name(&name)
                .runtime(Runtime::Nodejs20x)
                .role(role)
                .handler("index.handler")
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(EMPTY_ZIP.to_vec()))
                        .build(),
                )
                .environment(environment(env_vars))
                .send()
                .await
                .unwrap_or_else(|err| panic!("function {name} created: {err:?}"));
        }
    }

    // SNS

    /// Creates the alerts topic with one email subscription, which moto confirms at once, and
    /// returns the subscription ARN.
    async fn create_alerts_topic(client: &aws_sdk_sns::Client) -> String {
        let output = client
            .create_topic()
            .name("authbridge-alerts")
            .send()
            .await
            .expect("topic created");
        assert_eq!(output.topic_arn(), Some(ALERTS_TOPIC));
        let output = client
            .subscribe()
            .topic_arn(ALERTS_TOPIC)
            .protocol("email")
            .endpoint("oncall@example.com")
            .send()
            .await
            .expect("subscribed");
        output
            .subscription_arn()
            .expect("subscription ARN")
            .to_string()
    }

    // Cognito

    /// Returns the staging pool policies: email OTP is the only first sign-in factor.
    fn passwordless_policies() -> UserPoolPolicyType {
        let sign_in = SignInPolicyType::builder()
            .allowed_first_auth_factors(AuthFactorType::EmailOtp)
            .build();
        UserPoolPolicyType::builder()
            .sign_in_policy(sign_in)
            .build()
    }

    fn email_configuration(account: EmailSendingAccountType) -> EmailConfigurationType {
        let source_arn = match account {
            EmailSendingAccountType::Developer => Some(format!(
                "arn:aws:ses:{STAGING_REGION}:123456789012:identity/authbridge.io"
            )),
            _ => None,
        };
        EmailConfigurationType::builder()
            .email_sending_account(account)
            .set_source_arn(source_arn)
            .build()
    }

    /// Creates the one staging pool, passwordless with verified email addresses and email sent
    /// through its own SES identity, and returns its id.
    async fn create_user_pool(client: &aws_sdk_cognitoidentityprovider::Client) -> String {
        let output = client
            .create_user_pool()
            .pool_name(USER_POOL)
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .policies(passwordless_policies())
            .email_configuration(email_configuration(EmailSendingAccountType::Developer))
            .send()
            .await
            .expect("pool created");
        let pool = output.user_pool().expect("user pool");
        pool.id().expect("pool id").to_string()
    }

    /// Sets the pool's email sending account. UpdateUserPool resets every setting it is not
    /// given, so the call repeats the other settings of `create_user_pool`.
    async fn update_user_pool(
        client: &aws_sdk_cognitoidentityprovider::Client,
        pool_id: &str,
        account: EmailSendingAccountType,
    ) {
        client
            .update_user_pool()
            .user_pool_id(pool_id)
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .policies(passwordless_policies())
            .email_configuration(email_configuration(account))
            .send()
            .await
            .expect("pool updated");
    }
}

/// Runs the checks of the given items at the same moment and returns (id, probe) pairs.
async fn run_items(checklist: &Checklist, ids: &[&str]) -> Vec<(String, golive::checks::Probe)> {
    use std::sync::Arc;
    use std::time::Duration;

    let ctx = golive::checks::ProbeContext {
        redactor: Arc::clone(&checklist.redactor),
        timeout: Duration::from_secs(60),
        body_limit: 64 * 1024,
    };
    let runs = ids.iter().map(|id| {
        let spec = checklist
            .item(id)
            .and_then(|item| item.check())
            .map(|check| check.spec.clone())
            .unwrap_or_else(|| panic!("item {id} has no check"));
        let ctx = ctx.clone();
        async move { (id.to_string(), spec.run(&ctx).await) }
    });
    let all = futures::future::join_all(runs);
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("AWS items finish within the hang guard")
}

/// Asserts that the standards item ends in an error that names the call moto lacks. moto 5.2
/// returns an HTTP 404 without an AWS error code for GetEnabledStandards.
fn assert_standards_error(probe: &golive::checks::Probe) {
    assert_eq!(
        probe.outcome,
        golive::checks::Outcome::Error,
        "{STANDARDS_ITEM}: {probe:?}"
    );
    assert_eq!(
        probe.summary,
        format!(
            "Security Hub GetEnabledStandards on the enabled standards in {STAGING_REGION} \
             (profile authbridge-staging): the endpoint answered HTTP 404 without an AWS error; \
             check that `endpoint_url` points at Security Hub and that it serves this operation"
        )
    );
}

/// Every AWS item of the staging checklist passes against moto with the resources it names,
/// except `scan-security-hub`, whose GetEnabledStandards call moto 5.2 does not implement.
/// Breaking one resource per kind then fails exactly the items that read it.
#[tokio::test]
async fn aws_items_pass_against_moto() {
    use crate::support::moto::{MotoServer, aws_test_env, moto_sdk_config};
    use golive::checks::Outcome;
    use golive::demo::moto_bridge::MotoBridge;

    aws_test_env();
    let moto = MotoServer::start();
    let bridge = MotoBridge::start(&moto.endpoint()).await.unwrap();
    // The resources live in the staging region, because the alerts topic ARN names it and
    // moto looks up a topic in the region of the request.
    let config = moto_sdk_config(&bridge.endpoint())
        .await
        .into_builder()
        .region(aws_config::Region::new(STAGING_REGION))
        .build();
    let staging = aws_resources::create_staging(&config).await;

    let overrides = BTreeMap::from([("aws_endpoint_url".to_string(), bridge.endpoint())]);
    let checklist = load_with_secrets("staging", &overrides).checklist;
    let aws_items: Vec<&str> = checklist
        .items()
        .filter(|item| {
            item.check()
                .is_some_and(|check| check.spec.aws_target().is_some())
        })
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(aws_items, AWS_ITEMS);

    for (id, probe) in run_items(&checklist, &AWS_ITEMS).await {
        if id == STANDARDS_ITEM {
            assert_standards_error(&probe);
        } else {
            assert_eq!(probe.outcome, Outcome::Pass, "item {id}: {probe:?}");
        }
    }

    aws_resources::break_one_resource_per_kind(&staging).await;
    let probes = run_items(&checklist, &AWS_ITEMS).await;
    let failed: Vec<(&str, String)> = probes
        .iter()
        .filter(|(_, probe)| probe.outcome == Outcome::Fail)
        .map(|(id, probe)| (id.as_str(), probe.summary.clone()))
        .collect();
    let broken = broken_items(&staging.detector_id);
    assert_eq!(failed, broken);
    for (id, probe) in &probes {
        let broken = broken.iter().any(|(broken_id, _)| broken_id == id);
        if id == STANDARDS_ITEM {
            assert_standards_error(probe);
        } else if !broken {
            assert_eq!(probe.outcome, Outcome::Pass, "item {id}: {probe:?}");
        }
    }
}
