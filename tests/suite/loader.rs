//! Checklist loader: every diagnostic with its position, the resolved model, and robustness
//! against arbitrary input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use golive::checklist::diagnostic::{Diagnostic, DiagnosticSeverity};
use golive::checklist::loader::{
    LoadDefaults, LoadFailure, Loaded, MAX_FILE_BYTES, load, load_str, load_str_with_env,
};
use golive::checklist::{ItemBody, Severity};
use golive::redact::MASK;

const ADMIN_TOKEN: &str = "staging-token-4711";
const PROD_TOKEN: &str = "production-token-0815";

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/loader")
        .join(name)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).expect("fixture is readable")
}

/// Looks up the process environment the fixtures see: only the two token variables.
fn test_env(name: &str) -> Option<String> {
    match name {
        "PAYMENTS_ADMIN_TOKEN" => Some(ADMIN_TOKEN.to_string()),
        "PAYMENTS_PROD_ADMIN_TOKEN" => Some(PROD_TOKEN.to_string()),
        _ => None,
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn load_fixture(
    name: &str,
    environment: Option<&str>,
    overrides: &BTreeMap<String, String>,
) -> Result<Loaded, LoadFailure> {
    let text = fixture_text(name);
    let defaults = LoadDefaults {
        timeout: Duration::from_secs(7),
    };
    load_str_with_env(
        &fixture_path(name),
        &text,
        environment,
        overrides,
        &defaults,
        &test_env,
    )
}

fn failure(name: &str, environment: Option<&str>) -> LoadFailure {
    match load_fixture(name, environment, &BTreeMap::new()) {
        Ok(_) => panic!("{name} loaded but should not"),
        Err(failure) => failure,
    }
}

/// Returns the only diagnostic whose message contains `needle`.
fn find<'a>(failure: &'a LoadFailure, needle: &str) -> &'a Diagnostic {
    let found: Vec<&Diagnostic> = failure
        .diagnostics
        .iter()
        .filter(|d| d.message.contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "diagnostics containing {needle:?}:\n{failure}"
    );
    found[0]
}

fn assert_at(diagnostic: &Diagnostic, line: usize, column: usize) {
    assert_eq!(diagnostic.line, line, "line of {:?}", diagnostic.message);
    assert_eq!(
        diagnostic.column, column,
        "column of {:?}",
        diagnostic.message
    );
}

fn help(diagnostic: &Diagnostic) -> &str {
    diagnostic.help.as_deref().unwrap_or("")
}

#[test]
fn valid_fixture_resolves_staging() {
    let loaded = load_fixture("valid.toml", Some("staging"), &BTreeMap::new()).unwrap();
    let checklist = &loaded.checklist;
    assert!(loaded.warnings.is_empty());
    assert_eq!(checklist.title, "Payments API launch");
    assert_eq!(checklist.version.as_deref(), Some("2026-02"));
    assert_eq!(
        checklist.launch_at.unwrap().to_string(),
        "2026-02-16T06:00:00Z"
    );
    assert_eq!(checklist.environment, "staging");
    assert_eq!(checklist.environments, vec!["staging", "production"]);
    assert_eq!(checklist.phases.len(), 2);
    assert_eq!(checklist.phases[1].id, "verify");

    let deploy = checklist.item("deploy-api").unwrap();
    assert_eq!(deploy.title, "API deployed to staging");
    assert_eq!(deploy.severity, Severity::Critical);
    assert!(deploy.required);
    assert_eq!(deploy.owner.as_deref(), Some("dev"));
    let ItemBody::Manual(manual) = &deploy.body else {
        panic!("deploy-api is manual")
    };
    assert_eq!(
        manual.steps[0],
        "Run `make deploy STAGE=staging` in shared-region"
    );
    assert_eq!(manual.steps[1], "Write ${literal} in the log");
    assert_eq!(
        manual.expected.as_deref(),
        Some("Pipeline green with 2 replicas")
    );
}

#[test]
fn valid_fixture_applies_check_defaults() {
    let loaded = load_fixture("valid.toml", Some("staging"), &BTreeMap::new()).unwrap();
    let health = loaded.checklist.item("health").unwrap();
    assert_eq!(health.severity, Severity::High);
    assert!(!health.required);
    assert_eq!(health.depends_on, vec!["deploy-api"]);
    let check = health.check().unwrap();
    assert_eq!(check.timeout, Duration::from_millis(750));
    assert_eq!(check.retries, 1);
    assert_eq!(check.interval, Some(Duration::from_secs(15)));
    assert!(check.unavailable.is_empty());

    let version = loaded.checklist.item("version").unwrap();
    assert_eq!(version.severity, Severity::Medium);
    let check = version.check().unwrap();
    assert_eq!(check.timeout, Duration::from_secs(5));
    assert_eq!(check.retries, 1);
    assert_eq!(check.interval, None);
}

#[test]
fn loader_default_timeout_applies() {
    let text = fixture_text("valid.toml").replace("timeout = \"5s\"\n", "");
    let defaults = LoadDefaults {
        timeout: Duration::from_secs(7),
    };
    let loaded = load_str_with_env(
        Path::new("valid.toml"),
        &text,
        Some("staging"),
        &BTreeMap::new(),
        &defaults,
        &test_env,
    )
    .unwrap();
    let check = loaded.checklist.item("version").unwrap().check().unwrap();
    assert_eq!(check.timeout, Duration::from_secs(7));
}

#[test]
fn valid_fixture_masks_secret() {
    let loaded = load_fixture("valid.toml", Some("staging"), &BTreeMap::new()).unwrap();
    let check = loaded.checklist.item("health").unwrap().check().unwrap();
    let described: String = check
        .spec
        .describe(&loaded.checklist.redactor)
        .into_iter()
        .map(|(label, value)| format!("{label}={value}\n"))
        .collect();
    assert!(!described.contains(ADMIN_TOKEN));
    let shown = loaded
        .checklist
        .redactor
        .redact(&format!("url ?token={ADMIN_TOKEN}"));
    assert_eq!(shown, format!("url ?token={MASK}"));
}

#[test]
fn production_uses_its_own_values() {
    let loaded = load_fixture("valid.toml", Some("production"), &BTreeMap::new()).unwrap();
    let deploy = loaded.checklist.item("deploy-api").unwrap();
    let ItemBody::Manual(manual) = &deploy.body else {
        panic!("deploy-api is manual")
    };
    assert_eq!(
        manual.steps[0],
        "Run `make deploy STAGE=production` in eu-west-1"
    );
    let redacted = loaded.checklist.redactor.redact(PROD_TOKEN);
    assert_eq!(redacted, MASK);
    let staging_token = loaded.checklist.redactor.redact(ADMIN_TOKEN);
    assert_eq!(staging_token, ADMIN_TOKEN);
}

#[test]
fn overrides_win_over_environment() {
    let overrides = BTreeMap::from([
        ("stage".to_string(), "loopback".to_string()),
        ("region".to_string(), "here".to_string()),
    ]);
    let loaded = load_fixture("valid.toml", Some("staging"), &overrides).unwrap();
    let deploy = loaded.checklist.item("deploy-api").unwrap();
    assert_eq!(deploy.title, "API deployed to loopback");
    let ItemBody::Manual(manual) = &deploy.body else {
        panic!("deploy-api is manual")
    };
    assert_eq!(manual.steps[0], "Run `make deploy STAGE=loopback` in here");
}

#[test]
fn digest_is_sha256_of_text() {
    use sha2::Digest as _;

    let loaded = load_fixture("valid.toml", Some("staging"), &BTreeMap::new()).unwrap();
    let expected = hex::encode(sha2::Sha256::digest(fixture_text("valid.toml").as_bytes()));
    assert_eq!(loaded.checklist.digest, expected);
}

#[test]
fn load_reads_file_from_disk() {
    let path = fixture_path("valid.toml");
    let loaded = load(
        &path,
        Some("production"),
        &BTreeMap::new(),
        &LoadDefaults::default(),
    );
    // A missing secret is only a warning, so this loads whatever the process environment holds.
    let loaded = loaded.unwrap();
    assert_eq!(loaded.checklist.path, path);
    assert_eq!(loaded.checklist.environment, "production");
}

#[test]
fn missing_secret_is_warning_and_unavailable() {
    let text = fixture_text("valid.toml");
    let loaded = load_str_with_env(
        Path::new("valid.toml"),
        &text,
        Some("staging"),
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &no_env,
    )
    .unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    let warning = &loaded.warnings[0];
    assert_eq!(warning.severity, DiagnosticSeverity::Warning);
    assert_eq!(
        warning.message,
        "secret `admin_token`: environment variable PAYMENTS_ADMIN_TOKEN is not set"
    );
    assert_at(warning, 16, 7);
    let check = loaded.checklist.item("health").unwrap().check().unwrap();
    assert_eq!(
        check.unavailable,
        vec!["secret `admin_token`: environment variable PAYMENTS_ADMIN_TOKEN is not set"]
    );
    let version = loaded.checklist.item("version").unwrap().check().unwrap();
    assert!(version.unavailable.is_empty());
}

#[test]
fn file_secret_trims_newline() {
    let dir = tempfile::tempdir().unwrap();
    let secret_path = dir.path().join("api-key");
    std::fs::write(&secret_path, "file-secret-value\n").unwrap();
    let text = format!(
        "[checklist]\ntitle = \"t\"\n[secrets.key]\nfile = {:?}\n[[phases]]\nid = \"p\"\n\
         title = \"P\"\n[[phases.items]]\nid = \"c\"\ntitle = \"C\"\n[phases.items.check]\n\
         kind = \"http\"\nurl = \"http://127.0.0.1:9/?k=${{secret.key}}\"\n",
        secret_path.display().to_string()
    );
    let loaded = load_str_with_env(
        Path::new("f.toml"),
        &text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &no_env,
    )
    .unwrap();
    assert!(loaded.warnings.is_empty());
    let shown = loaded.checklist.redactor.redact("k=file-secret-value;");
    assert_eq!(shown, format!("k={MASK};"));
}

#[test]
fn environment_several_requires_choice() {
    let failure = failure("valid.toml", None);
    let diagnostic = find(&failure, "several environments");
    assert_eq!(
        diagnostic.message,
        "the checklist defines several environments: staging, production"
    );
    assert_eq!(help(diagnostic), "choose one with --env NAME");
    assert_at(diagnostic, 18, 2);
}

#[test]
fn environment_unknown_suggests_closest() {
    let failure = failure("valid.toml", Some("prodution"));
    let diagnostic = find(&failure, "is not defined");
    assert_eq!(diagnostic.message, "environment `prodution` is not defined");
    assert_eq!(
        help(diagnostic),
        "did you mean `production`? defined environments: staging, production"
    );
}

#[test]
fn environment_single_and_default() {
    let single = "[checklist]\ntitle = \"t\"\n[environments.only]\nx = \"1\"\n";
    let loaded = load_str(
        Path::new("s.toml"),
        single,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
    )
    .unwrap();
    assert_eq!(loaded.checklist.environment, "only");
    let none = "[checklist]\ntitle = \"t\"\n";
    let loaded = load_str(
        Path::new("n.toml"),
        none,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
    )
    .unwrap();
    assert_eq!(loaded.checklist.environment, "default");
    assert!(loaded.checklist.environments.is_empty());
}

#[test]
fn syntax_error_points_at_value() {
    let failure = failure("syntax.toml", None);
    assert_eq!(failure.diagnostics.len(), 1);
    let diagnostic = &failure.diagnostics[0];
    assert!(diagnostic.message.starts_with("invalid TOML: "));
    assert!(diagnostic.message.contains("string values must be quoted"));
    assert_at(diagnostic, 5, 6);
}

#[test]
fn unknown_keys_at_every_level() {
    let failure = failure("unknown_keys.toml", None);
    let cases = [
        ("unknown key `colour` in the top level", 1, 1, None),
        (
            "unknown key `titel` in [checklist]",
            4,
            1,
            Some("did you mean `title`?"),
        ),
        (
            "unknown key `timout` in [defaults]",
            8,
            1,
            Some("did you mean `timeout`?"),
        ),
        (
            "unknown key `path` in [secrets.token]",
            12,
            1,
            Some("valid keys: env, file"),
        ),
        (
            "unknown key `enf` in [environments.staging.secrets.token]",
            17,
            1,
            Some("did you mean `env`?"),
        ),
        ("unknown key `descripton` in a phase", 22, 1, None),
        (
            "unknown key `step` in item `manual`",
            27,
            1,
            Some("did you mean `steps`?"),
        ),
        (
            "unknown key `urll` in check",
            36,
            1,
            Some("did you mean `url`?"),
        ),
    ];
    for (message, line, column, expected_help) in cases {
        let diagnostic = find(&failure, message);
        assert_eq!(diagnostic.message, message);
        assert_at(diagnostic, line, column);
        if let Some(expected_help) = expected_help {
            assert_eq!(help(diagnostic), expected_help, "help of {message}");
        }
    }
}

#[test]
fn unknown_kind_lists_kinds() {
    let failure = failure("unknown_kind.toml", None);
    let diagnostic = find(&failure, "unknown check kind");
    assert_eq!(diagnostic.message, "unknown check kind `htp`");
    assert_eq!(
        help(diagnostic),
        format!(
            "did you mean `http`? valid kinds: {}",
            golive::checks::KINDS.join(", ")
        )
    );
    assert_at(diagnostic, 11, 18);
}

#[test]
fn duplicate_ids_name_first_line() {
    let failure = failure("duplicate_ids.toml", None);
    let phase = find(&failure, "duplicate phase id");
    assert_eq!(phase.message, "duplicate phase id `deploy`");
    assert_at(phase, 14, 6);
    assert!(help(phase).contains("line 5"));
    let item = find(&failure, "duplicate item id");
    assert_eq!(item.message, "duplicate item id `step`");
    assert_at(item, 18, 6);
    assert!(help(item).contains("line 9"));
}

#[test]
fn missing_dependency_suggests_id() {
    let failure = failure("missing_dependency.toml", None);
    let diagnostic = find(&failure, "depends on");
    assert_eq!(
        diagnostic.message,
        "item `smoke` depends on `deploy-apj`, which is not an item of this checklist"
    );
    assert_eq!(help(diagnostic), "did you mean `deploy-api`?");
    assert_at(diagnostic, 16, 15);
}

#[test]
fn dependency_cycles_named() {
    let failure = failure("cycle.toml", None);
    let pair = find(&failure, "dependency cycle: a");
    assert_eq!(pair.message, "dependency cycle: a -> b -> a");
    assert_at(pair, 17, 15);
    let own = find(&failure, "dependency cycle: self");
    assert_eq!(own.message, "dependency cycle: self -> self");
    assert_at(own, 23, 15);
    assert_eq!(failure.diagnostics.len(), 2);
}

#[test]
fn undefined_variable_and_secret() {
    let failure = failure("undefined_variable.toml", None);
    let variable = find(&failure, "undefined variable");
    assert_eq!(variable.message, "undefined variable `base_ur`");
    assert_at(variable, 16, 8);
    assert!(help(variable).starts_with("did you mean `base_url`?"));
    assert!(help(variable).contains("--var base_ur=VALUE"));
    assert!(help(variable).contains("[vars]"));
    assert!(help(variable).contains("process environment"));
    let secret = find(&failure, "undefined secret");
    assert_eq!(secret.message, "undefined secret `token`");
    assert_at(secret, 17, 37);
    assert!(help(secret).contains("[secrets.token]"));
}

#[test]
fn wrong_types_quote_value() {
    let failure = failure("wrong_type.toml", None);
    let cases = [
        (
            "invalid type for `title`: expected a string, found an integer `42`",
            2,
            9,
        ),
        (
            "invalid type for `required`: expected a boolean (`true` or `false`), \
             found a string `\"yes\"`",
            11,
            12,
        ),
        (
            "invalid type for `steps`: expected an array of strings, found a string `\"Do it\"`",
            12,
            9,
        ),
    ];
    for (message, line, column) in cases {
        let diagnostic = find(&failure, message);
        assert_at(diagnostic, line, column);
    }
}

#[test]
fn check_setting_type_error_points_at_value() {
    let text = fixture_text("valid.toml").replace("url = \"${base_url}/version\"", "url = 5");
    let failure = load_str_with_env(
        Path::new("valid.toml"),
        &text,
        Some("staging"),
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &test_env,
    )
    .unwrap_err();
    let diagnostic = find(&failure, "invalid value for `url`");
    assert!(diagnostic.message.contains("`5`"));
    assert!(!diagnostic.message.contains('\n'));
    assert_at(diagnostic, 66, 7);
}

#[test]
fn invalid_severity_lists_valid() {
    let failure = failure("bad_severity.toml", None);
    let diagnostic = find(&failure, "invalid severity");
    assert_eq!(diagnostic.message, "invalid severity `critcal`");
    assert_eq!(
        help(diagnostic),
        "did you mean `critical`? valid severities: critical, high, medium, low"
    );
    assert_at(diagnostic, 11, 12);
}

#[test]
fn steps_and_check_both_or_neither() {
    let failure = failure("steps_and_check.toml", None);
    let both = find(&failure, "has both");
    assert_eq!(both.message, "item `both` has both `steps` and `check`");
    assert_at(both, 12, 1);
    let neither = find(&failure, "has neither");
    assert_eq!(
        neither.message,
        "item `neither` has neither `steps` nor `check`"
    );
    assert_at(neither, 15, 6);
}

#[test]
fn invalid_durations_reported() {
    let failure = failure("bad_duration.toml", None);
    let text = find(&failure, "invalid duration");
    assert_eq!(text.message, "invalid duration for `timeout`: `soon`");
    assert!(help(text).contains("`10s`"));
    assert_at(text, 5, 11);
    let number = find(&failure, "`interval`");
    assert_eq!(
        number.message,
        "invalid type for `interval`: expected a duration string such as \"10s\", \
         found an integer `30`"
    );
    assert_at(number, 17, 12);
}

#[test]
fn invalid_launch_at_reported() {
    let failure = failure("bad_launch_at.toml", None);
    let diagnostic = find(&failure, "launch_at");
    assert_eq!(diagnostic.message, "invalid `launch_at` time `next monday`");
    assert!(help(diagnostic).contains("RFC 3339"));
    assert_at(diagnostic, 3, 13);
}

#[test]
fn missing_required_keys_reported() {
    let failure = failure("missing_required.toml", None);
    let title = find(&failure, "`title` in [checklist]");
    assert_eq!(title.message, "missing required key `title` in [checklist]");
    assert_at(title, 1, 1);
    let phase = find(&failure, "`id` in a phase");
    assert_at(phase, 4, 1);
    let item = find(&failure, "`id` in an item");
    assert_at(item, 7, 1);
    let item_title = find(&failure, "`title` in item `untitled`");
    assert_at(item_title, 11, 1);
}

#[test]
fn many_problems_all_reported() {
    let failure = failure("many_problems.toml", None);
    let expected = [
        ("invalid `launch_at` time `tomorrow`", 3, 13),
        ("invalid severity `urgent`", 12, 12),
        ("undefined variable `nowhere`", 13, 11),
        ("duplicate item id `one`", 16, 6),
        ("depends on `zero`", 18, 15),
        ("missing required key `title` in item `three`", 21, 1),
        ("item `three` has neither `steps` nor `check`", 22, 6),
        ("unknown key `titel` in item `three`", 23, 1),
    ];
    for (message, line, column) in expected {
        assert_at(find(&failure, message), line, column);
    }
    assert_eq!(failure.diagnostics.len(), expected.len(), "{failure}");
}

#[test]
fn display_renders_like_rustc() {
    let failure = failure("bad_severity.toml", None);
    let path = fixture_path("bad_severity.toml").display().to_string();
    let expected = format!(
        "error: invalid severity `critcal`\n  --> {path}:11:12\n   |\n\
         11 | severity = \"critcal\"\n   |            ^^^^^^^^^\n   = help: did you mean \
         `critical`? valid severities: critical, high, medium, low\n\n1 error, 0 warnings"
    );
    assert_eq!(failure.to_string(), expected);
}

#[test]
fn oversized_text_rejected() {
    let text = " ".repeat(MAX_FILE_BYTES + 1);
    let failure = load_str(
        Path::new("big.toml"),
        &text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
    )
    .unwrap_err();
    assert_eq!(failure.diagnostics.len(), 1);
    assert_eq!(
        failure.diagnostics[0].message,
        "checklist file is larger than 8 MiB"
    );
}

#[test]
fn oversized_file_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    std::fs::write(&path, vec![b'#'; MAX_FILE_BYTES + 10]).unwrap();
    let failure = load(&path, None, &BTreeMap::new(), &LoadDefaults::default()).unwrap_err();
    assert_eq!(
        failure.diagnostics[0].message,
        "checklist file is larger than 8 MiB"
    );
}

#[test]
fn invalid_utf8_file_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin.toml");
    std::fs::write(&path, b"[checklist]\ntitle = \"\xff\"\n").unwrap();
    let failure = load(&path, None, &BTreeMap::new(), &LoadDefaults::default()).unwrap_err();
    let diagnostic = &failure.diagnostics[0];
    assert_eq!(diagnostic.message, "invalid UTF-8 in checklist file");
    assert_at(diagnostic, 2, 10);
}

#[test]
fn missing_file_reported() {
    let path = fixture_path("no-such-file.toml");
    let failure = load(&path, None, &BTreeMap::new(), &LoadDefaults::default()).unwrap_err();
    assert!(
        failure.diagnostics[0]
            .message
            .starts_with("cannot read checklist file: ")
    );
}

#[test]
fn empty_file_needs_checklist_table() {
    let failure = load_str(
        Path::new("e.toml"),
        "",
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
    )
    .unwrap_err();
    assert_eq!(failure.diagnostics.len(), 1);
    assert_eq!(
        failure.diagnostics[0].message,
        "missing required table [checklist]"
    );
    assert_at(&failure.diagnostics[0], 1, 1);
    assert!(failure.to_string().contains("1 error"));
}

/// A small deterministic generator, so that failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn load_any(text: &str) {
    let result = load_str_with_env(
        Path::new("fuzz.toml"),
        text,
        Some("staging"),
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &test_env,
    );
    if let Err(failure) = result {
        let _ = failure.to_string();
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    let alphabet: &[u8] = b"[]{}=\"'.,#$\n abc123_-\\\t${}secret.env";
    for round in 0..3000 {
        let length = (random.next() % 200) as usize;
        let bytes: Vec<u8> = (0..length)
            .map(|_| {
                let pick = random.next();
                if round % 2 == 0 {
                    alphabet[(pick % alphabet.len() as u64) as usize]
                } else {
                    pick as u8
                }
            })
            .collect();
        load_any(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn truncations_never_panic() {
    let text = fixture_text("valid.toml");
    let mut cut = 0;
    while cut <= text.len() {
        if text.is_char_boundary(cut) {
            load_any(&text[..cut]);
        }
        cut += 1;
    }
}

#[test]
fn mutations_never_panic() {
    let text = fixture_text("valid.toml").into_bytes();
    let mut random = XorShift(42);
    for _ in 0..2000 {
        let mut bytes = text.clone();
        for _ in 0..3 {
            let index = (random.next() % bytes.len() as u64) as usize;
            bytes[index] = b"\"[]=${}#\n0x"[(random.next() % 11) as usize];
        }
        load_any(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn deep_nesting_never_panics() {
    let mut text = String::from("[checklist]\ntitle = \"t\"\n[vars]\nx = ");
    text.push_str(&"[".repeat(5000));
    load_any(&text);
    let dotted = format!("{} = 1\n", vec!["a"; 5000].join("."));
    load_any(&dotted);
}

#[test]
fn timing_limits_reported() {
    let failure = failure("bad_timing.toml", None);
    let cases = [
        (
            "timeout `0s` is zero, so every attempt would time out at once",
            5,
            11,
            "write a positive duration such as `10s`",
        ),
        (
            "interval `500ms` is too short, because live checks re-run at most once a second",
            6,
            12,
            "write `1s` or more",
        ),
        (
            "interval `0ms` is too short, because live checks re-run at most once a second",
            18,
            12,
            "write `1s` or more",
        ),
        (
            "timeout `2h` is longer than the maximum of 10m",
            19,
            11,
            "write `10m` or less, so that one attempt of a check ends in bounded time",
        ),
        (
            "retries `1000000` is more than the maximum of 10",
            20,
            11,
            "write a number of extra attempts from 0 to 10",
        ),
    ];
    for (message, line, column, expected_help) in cases {
        let diagnostic = find(&failure, message);
        assert_eq!(diagnostic.message, message);
        assert_at(diagnostic, line, column);
        assert_eq!(help(diagnostic), expected_help, "help of {message}");
    }
    assert_eq!(failure.diagnostics.len(), cases.len(), "{failure}");
}

#[test]
fn timing_limits_accept_bounds() {
    let text = fixture_text("bad_timing.toml");
    let start = text.find("[[phases.items]]\nid = \"busy\"").unwrap();
    let end = text.find("[[phases.items]]\nid = \"edge\"").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..])
        .replace("timeout = \"0s\"\ninterval = \"500ms\"\n", "");
    let loaded = load_str_with_env(
        Path::new("bounds.toml"),
        &text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &no_env,
    )
    .unwrap();
    let check = loaded.checklist.item("edge").unwrap().check().unwrap();
    assert_eq!(check.interval, Some(Duration::from_secs(1)));
    assert_eq!(check.timeout, Duration::from_secs(600));
    assert_eq!(check.retries, 10);
}

#[test]
fn five_mistakes_in_one_check() {
    let failure = failure("five_mistakes.toml", None);
    let expected = [
        ("invalid value for `url`", 13, 7),
        ("invalid value for `method`", 14, 10),
        ("invalid value for `follow_redirects`", 15, 20),
        ("invalid value for `expect.status`", 17, 10),
        ("invalid value for `expect.max_latency`", 18, 15),
    ];
    for (message, line, column) in expected {
        assert_at(find(&failure, message), line, column);
    }
    assert_eq!(failure.diagnostics.len(), expected.len(), "{failure}");
}

#[test]
fn unknown_check_settings_all_reported() {
    let failure = failure("unknown_settings.toml", None);
    let cases = [
        ("unknown key `urll` in check", 13, "did you mean `url`?"),
        ("unknown key `metod` in check", 14, "did you mean `method`?"),
        (
            "unknown key `colour` in check",
            15,
            "valid keys: kind, timeout, retries, interval, method, url, headers, body, json, \
             follow_redirects, expect",
        ),
        (
            "unknown key `statuss` in check.expect",
            17,
            "did you mean `status`?",
        ),
        (
            "unknown key `body_contain` in check.expect",
            18,
            "did you mean `body_contains`?",
        ),
    ];
    for (message, line, expected_help) in cases {
        let diagnostic = find(&failure, message);
        assert_eq!(diagnostic.message, message);
        assert_at(diagnostic, line, 1);
        assert_eq!(help(diagnostic), expected_help, "help of {message}");
    }
    // Values of known keys are still checked in the same run.
    assert_at(
        find(&failure, "invalid value for `expect.max_latency`"),
        19,
        15,
    );
    // `url` is missing only because `urll` misspells it, which is already reported.
    let missing = failure
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("missing required key"))
        .count();
    assert_eq!(missing, 0, "{failure}");
    assert_eq!(failure.diagnostics.len(), cases.len() + 1, "{failure}");
}

#[test]
fn every_listed_setting_key_accepted() {
    let (check_keys, expect_keys) = golive::checks::settings_keys("http").unwrap();
    assert!(check_keys.contains(&"url"));
    assert!(expect_keys.contains(&"status"));
    assert!(golive::checks::settings_keys("smtp").is_none());
    // Every key listed is one the http parser accepts (`body` and `json` exclude each other).
    let text = "[checklist]\ntitle = \"t\"\n[[phases]]\nid = \"p\"\ntitle = \"P\"\n\
                [[phases.items]]\nid = \"c\"\ntitle = \"C\"\n[phases.items.check]\n\
                kind = \"http\"\nmethod = \"POST\"\nurl = \"http://127.0.0.1:9/\"\n\
                headers = { Accept = \"text/plain\" }\nbody = \"x\"\nfollow_redirects = 2\n\
                [phases.items.check.expect]\nstatus = 200\nmax_latency = \"2s\"\n\
                json = { \"$.status\" = \"ok\" }\nbody_contains = [\"a\"]\n\
                body_not_contains = [\"b\"]\nheaders_present = [\"x-a\"]\n\
                headers_absent = [\"x-b\"]\nheaders_equal = { x-c = \"1\" }\n";
    let loaded = load_str_with_env(
        Path::new("keys.toml"),
        text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &no_env,
    );
    assert!(loaded.is_ok(), "{}", loaded.err().unwrap());
    let with_json = text.replace("body = \"x\"", "json = { a = 1 }");
    let loaded = load_str_with_env(
        Path::new("keys.toml"),
        &with_json,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &no_env,
    );
    assert!(loaded.is_ok(), "{}", loaded.err().unwrap());
}

#[test]
fn launch_at_out_of_range_named() {
    for written in ["\"9999-12-31T23:59:59Z\"", "9999-12-31T23:59:59Z"] {
        let text = format!("[checklist]\ntitle = \"t\"\nlaunch_at = {written}\n");
        let failure = load_str(
            Path::new("far.toml"),
            &text,
            None,
            &BTreeMap::new(),
            &LoadDefaults::default(),
        )
        .unwrap_err();
        let diagnostic = find(&failure, "launch_at");
        assert_eq!(
            diagnostic.message,
            "`launch_at` time `9999-12-31T23:59:59Z` is out of the supported range"
        );
        assert_eq!(
            help(diagnostic),
            "write a time from -009999-01-02T01:59:59Z to 9999-12-30T22:00:00Z"
        );
        assert_at(diagnostic, 3, 13);
    }
}

#[test]
fn control_characters_escaped_in_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("we\x1b[31mird.toml");
    let text = "[checklist]\ntitle = \"t\"\n[[phases]]\nid = \"p\"\ntitle = \"P\"\n\
                [[phases.items]]\nid = \"i\"\ntitle = \"I\"\nsteps = [\"s\"]\n\
                severity = \"\\u001b[2Jhigh\"\n";
    std::fs::write(&path, text).unwrap();
    let failure = load(&path, None, &BTreeMap::new(), &LoadDefaults::default()).unwrap_err();
    let diagnostic = find(&failure, "invalid severity");
    assert_eq!(diagnostic.message, "invalid severity `\\u{1b}[2Jhigh`");
    assert!(diagnostic.shown_path().ends_with("we\\u{1b}[31mird.toml"));
    let rendered = failure.to_string();
    assert!(!rendered.contains('\x1b'), "{rendered:?}");
    assert!(
        rendered.contains("we\\u{1b}[31mird.toml:10:12"),
        "{rendered}"
    );
}

#[test]
fn undefined_variable_hides_parser_error() {
    let text = fixture_text("five_mistakes.toml")
        .replace("url = \"ftp://127.0.0.1/\"", "url = \"${nowhere}/health\"");
    let failure = load_str_with_env(
        Path::new("vars.toml"),
        &text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &no_env,
    )
    .unwrap_err();
    assert_at(find(&failure, "undefined variable `nowhere`"), 13, 8);
    assert_at(find(&failure, "invalid value for `method`"), 14, 10);
    assert_at(find(&failure, "invalid value for `expect.status`"), 17, 10);
    let about_url = failure
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("`url`"))
        .count();
    assert_eq!(about_url, 0, "{failure}");
    assert_eq!(failure.diagnostics.len(), 5, "{failure}");
}

// Requests on manual items.

/// Loads a checklist text with the test environment and no overrides.
fn load_text(text: &str) -> Result<Loaded, LoadFailure> {
    load_str_with_env(
        Path::new("request.toml"),
        text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &test_env,
    )
}

const REQUEST_CHECKLIST: &str = r#"[checklist]
title = "Request"

[secrets.admin_token]
env = "PAYMENTS_ADMIN_TOKEN"

[[phases]]
id = "qa"
title = "QA"

[[phases.items]]
id = "admin-denied"
title = "Admin API rejects a viewer"
steps = ["Send the request as a viewer", "Check the response"]
expected = "403"

[phases.items.request]
method = "POST"
url = "http://127.0.0.1:9/admin/users"
headers = { Authorization = "Bearer ${secret.admin_token}" }
json = { role = "viewer" }

[phases.items.request.expect]
status = 403
"#;

#[test]
fn manual_request_parses() {
    let loaded = load_text(REQUEST_CHECKLIST).expect("checklist loads");
    let item = loaded.checklist.item("admin-denied").expect("item exists");
    let request = item.manual_request().expect("request is stored");
    assert_eq!(request.spec.kind(), "http");
    assert!(request.unavailable.is_empty());
    assert_eq!(request.timeout, LoadDefaults::default().timeout);
    let ItemBody::Manual(manual) = &item.body else {
        panic!("item is manual");
    };
    assert_eq!(manual.steps.len(), 2);
    let described = request.spec.describe(&loaded.checklist.redactor);
    let auth = described
        .iter()
        .find(|(label, _)| label.eq_ignore_ascii_case("header authorization"))
        .expect("authorization header described");
    assert!(!auth.1.contains(ADMIN_TOKEN));
}

#[test]
fn secret_refs_name_their_source() {
    let loaded = load_text(REQUEST_CHECKLIST).expect("checklist loads");
    let refs = &loaded.checklist.secret_refs;
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].value, ADMIN_TOKEN);
    assert_eq!(refs[0].shell, "\"$PAYMENTS_ADMIN_TOKEN\"");
    assert!(!format!("{:?}", refs[0]).contains(ADMIN_TOKEN));
}

#[test]
fn file_secret_ref_reads_with_cat() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("it's token");
    std::fs::write(&path, "file-token-1234\n").expect("token file written");
    let quoted_path = toml::Value::String(path.display().to_string()).to_string();
    let text = format!("[checklist]\ntitle = \"T\"\n\n[secrets.token]\nfile = {quoted_path}\n");
    let loaded = load_text(&text).expect("checklist loads");
    let refs = &loaded.checklist.secret_refs;
    assert_eq!(refs.len(), 1);
    let quoted = path.display().to_string().replace('\'', r"'\''");
    assert_eq!(refs[0].shell, format!("\"$(cat '{quoted}')\""));
}

#[test]
fn manual_request_unknown_key_reported() {
    let text = REQUEST_CHECKLIST.replace("json = {", "jsn = {");
    let failure = load_text(&text).expect_err("unknown key is an error");
    let diagnostic = find(&failure, "unknown key `jsn` in request");
    assert_at(diagnostic, 21, 1);
    assert_eq!(help(diagnostic), "did you mean `json`?");
}

#[test]
fn manual_request_expect_error_reported() {
    let text = REQUEST_CHECKLIST.replace("status = 403", "status = \"6xx\"");
    let failure = load_text(&text).expect_err("invalid status is an error");
    let diagnostic = find(&failure, "invalid value for `expect.status`");
    assert_at(diagnostic, 24, 10);
}

#[test]
fn request_on_check_item_rejected() {
    let text = r#"[checklist]
title = "Request"

[[phases]]
id = "qa"
title = "QA"

[[phases.items]]
id = "health"
title = "Health"
check = { kind = "http", url = "http://127.0.0.1:9/health" }
request = { url = "http://127.0.0.1:9/health" }
"#;
    let failure = load_text(text).expect_err("request on a check is an error");
    let diagnostic = find(
        &failure,
        "has a `request` table, but it is an automated check",
    );
    assert_at(diagnostic, 12, 1);
}

#[test]
fn manual_request_missing_secret_unavailable() {
    let loaded = load_str_with_env(
        Path::new("request.toml"),
        REQUEST_CHECKLIST,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &no_env,
    )
    .expect("a missing secret is a warning");
    let item = loaded.checklist.item("admin-denied").expect("item exists");
    let request = item.manual_request().expect("request is stored");
    assert_eq!(request.unavailable.len(), 1);
    assert!(request.unavailable[0].contains("PAYMENTS_ADMIN_TOKEN"));
}

// Sign-offs and waivers.

const SIGNOFF_CHECKLIST: &str = r#"[checklist]
title = "Sign-offs"

[[phases]]
id = "deploy"
title = "Deploy"

[[phases.items]]
id = "migrate"
title = "Database migrated"
steps = ["Run the migration"]

[[signoffs]]
id = "qa-approval"
title = "QA approves"
role = "qa"
after = ["deploy"]
"#;

#[test]
fn signoffs_are_loaded() {
    let loaded = load_text(SIGNOFF_CHECKLIST).unwrap();

    let signoffs = &loaded.policy.signoffs;
    assert_eq!(signoffs.len(), 1);
    assert_eq!(signoffs[0].id, "qa-approval");
    assert_eq!(signoffs[0].title, "QA approves");
    assert_eq!(signoffs[0].role, "qa");
    assert_eq!(signoffs[0].after, ["deploy"]);
    assert!(loaded.policy.waivers.is_empty());
}

#[test]
fn signoff_after_unknown_phase_rejected() {
    let text = SIGNOFF_CHECKLIST.replace("after = [\"deploy\"]", "after = [\"deplyo\"]");

    let failure = load_text(&text).unwrap_err();

    let error = find(&failure, "unknown phase `deplyo`");
    assert_eq!(error.line, 17);
    assert_eq!(error.column, 10);
    assert_eq!(error.help.as_deref(), Some("did you mean `deploy`?"));
}

#[test]
fn signoff_missing_role_rejected() {
    let text = SIGNOFF_CHECKLIST.replace("role = \"qa\"\n", "");

    let failure = load_text(&text).unwrap_err();

    let error = find(&failure, "missing required key `role`");
    assert_eq!(
        error.message,
        "missing required key `role` in sign-off `qa-approval`"
    );
}

#[test]
fn duplicate_signoff_id_rejected() {
    let text = format!(
        "{SIGNOFF_CHECKLIST}\n[[signoffs]]\nid = \"qa-approval\"\ntitle = \"Again\"\nrole = \"qa\"\n"
    );

    let failure = load_text(&text).unwrap_err();

    let error = find(&failure, "duplicate sign-off id");
    assert_eq!(error.line, 20);
    assert_eq!(
        error.help.as_deref(),
        Some("the first sign-off with this id is on line 14")
    );
}

#[test]
fn unknown_waiver_key_rejected() {
    let text = format!(
        "{SIGNOFF_CHECKLIST}\n[[waivers]]\nitem = \"migrate\"\nreason = \"r\"\nrisk = \"low\"\n\
         control = \"c\"\nexpires = \"2026-02-16T08:00:00Z\"\nrequested_by = \"Ada\"\n\
         approved_by = \"Grace\"\napprover = \"Grace\"\n"
    );

    let failure = load_text(&text).unwrap_err();

    let error = find(&failure, "unknown key `approver`");
    assert_eq!(error.line, 27);
    assert_eq!(error.column, 1);
}

#[test]
fn waivers_file_must_be_a_string() {
    let text = SIGNOFF_CHECKLIST.replace(
        "title = \"Sign-offs\"",
        "title = \"Sign-offs\"\nwaivers_file = 3",
    );

    let failure = load_text(&text).unwrap_err();

    let error = find(&failure, "invalid type for `waivers_file`");
    assert_eq!(error.line, 3);
}

/// The first TOML example under "Checklist format" in the README is a whole checklist; a
/// reader copies it, so it must load without errors.
#[test]
fn readme_checklist_example_loads() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable");
    let section = readme
        .split("## Checklist format")
        .nth(1)
        .expect("the README has a Checklist format section");
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the section starts with a TOML example");
    let env = |name: &str| match name {
        "PAYMENTS_ADMIN_TOKEN" | "PAYMENTS_PROD_ADMIN_TOKEN" => Some("made-up-token".to_string()),
        _ => None,
    };
    for environment in ["staging", "production"] {
        let loaded = load_str_with_env(
            Path::new("README.md"),
            example,
            Some(environment),
            &BTreeMap::new(),
            &LoadDefaults::default(),
            &env,
        );
        if let Err(failure) = loaded {
            panic!("the README example fails to load for {environment}:\n{failure}");
        }
    }
}

#[test]
fn reference_inside_variable_value_warned() {
    let text = r#"[checklist]
title = "T"

[vars]
region = "eu-west-1"
topic = "arn:aws:sns:${region}:1:t"
literal = "costs $${amount}"

[[phases]]
id = "p"
title = "P"

[[phases.items]]
id = "a"
title = "A"
steps = ["Look at ${topic} and ${literal}"]
expected = "Seen"
"#;
    let loaded = load_str_with_env(
        Path::new("vars.toml"),
        text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &|_: &str| None,
    )
    .expect("the checklist loads");
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let warning = &loaded.warnings[0];
    assert_eq!((warning.line, warning.column), (6, 9));
    assert!(
        warning
            .message
            .contains("variable `topic` contains a `${...}` reference"),
        "{}",
        warning.message
    );
}
