//! The headless report: text, JSON and JUnit output and the exit code, over a checklist and
//! session built in the test.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use golive::checklist::{CheckDef, Checklist, Item, ItemBody, ManualSteps, Phase, Severity};
use golive::checks::{Assertion, CheckResult, Evidence, Outcome};
use golive::journal::{Event, EventKind, GENESIS_HASH};
use golive::redact::{MASK, Redactor};
use golive::report::{self, Format};
use golive::session::Session;
use quick_xml::events::{BytesStart, Event as XmlEvent};
use serde_json::Value;

const SECRET: &str = "sk-test-0123456789abcdef";

fn at() -> jiff::Timestamp {
    "2026-02-16T08:00:00Z".parse().expect("timestamp")
}

fn item(id: &str, required: bool, depends_on: &[&str], body: ItemBody) -> Item {
    Item {
        id: id.into(),
        title: format!("Title of {id}"),
        description: None,
        severity: Severity::High,
        required,
        owner: None,
        depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
        body,
    }
}

fn manual(id: &str, depends_on: &[&str]) -> Item {
    let steps = ManualSteps {
        steps: vec!["Do it".into()],
        expected: None,
        request: None,
    };
    item(id, true, depends_on, ItemBody::Manual(steps))
}

fn check(id: &str, required: bool, depends_on: &[&str]) -> Item {
    let mut settings = toml::Table::new();
    // The port is never contacted: the report only reads results built in the test.
    let url = format!("http://127.0.0.1:9/{id}");
    settings.insert("url".into(), toml::Value::String(url));
    let spec = golive::checks::parse_spec("http", settings).expect("valid http settings");
    let check = CheckDef {
        spec,
        timeout: Duration::from_secs(1),
        retries: 0,
        interval: None,
        unavailable: Vec::new(),
    };
    item(id, required, depends_on, ItemBody::Check(check))
}

fn checklist(title: &str, phases: Vec<(&str, Vec<Item>)>) -> Arc<Checklist> {
    let mut redactor = Redactor::new();
    redactor.add(SECRET);
    Arc::new(Checklist {
        title: title.into(),
        version: Some("v1".into()),
        launch_at: None,
        path: PathBuf::from("launch.toml"),
        digest: "ab".repeat(32),
        environment: "staging".into(),
        environments: vec!["staging".into()],
        phases: phases
            .into_iter()
            .map(|(id, items)| Phase {
                id: id.into(),
                title: format!("Phase {id}"),
                items,
            })
            .collect(),
        redactor: Arc::new(redactor),
        secret_refs: Vec::new(),
    })
}

fn result(item_id: &str, outcome: Outcome, summary: &str, evidence: Evidence) -> CheckResult {
    CheckResult {
        item_id: item_id.into(),
        outcome,
        summary: summary.into(),
        evidence,
        started_at: at(),
        elapsed_ms: 1234,
        attempts: 1,
    }
}

fn ticked(item: &str) -> Event {
    Event {
        seq: 1,
        at: at(),
        actor: "Ada Lovelace".into(),
        kind: EventKind::Ticked { item: item.into() },
        prev: GENESIS_HASH.into(),
        hash: "1".repeat(64),
    }
}

/// A run with one item in every interesting state, and secrets and control characters in
/// places where a careless report would copy them.
struct Run {
    checklist: Arc<Checklist>,
    session: Session,
    results: Vec<CheckResult>,
}

fn mixed_run() -> Run {
    let checklist = checklist(
        "Payments <launch> & \"friends\"",
        vec![
            (
                "deploy",
                vec![manual("deploy-api", &[]), check("health", true, &[])],
            ),
            (
                "checks",
                vec![
                    manual("switch", &[]),
                    check("webhook", true, &[]),
                    check("slow", true, &[]),
                    check("metrics", true, &["switch"]),
                    check("legacy", false, &[]),
                ],
            ),
        ],
    );
    let webhook_evidence = Evidence {
        request: vec![format!("POST http://127.0.0.1:9/webhook?key={SECRET}")],
        status: Some(503),
        headers: vec![("x-echo".into(), SECRET.into())],
        body_excerpt: Some("relay down\x1b[2J <b>\u{ffff}</b>".into()),
        latency_ms: Some(12),
        assertions: vec![Assertion {
            subject: "status".into(),
            expected: "200".into(),
            actual: "503".into(),
            passed: false,
        }],
        notes: vec![format!("token {SECRET} was sent")],
        files: Vec::new(),
        tables: vec![golive::checks::EvidenceTable {
            title: format!("matrix {SECRET}"),
            columns: vec!["GET /cases".into()],
            rows: vec![golive::checks::EvidenceRow {
                label: "admin".into(),
                cells: vec![golive::checks::EvidenceCell {
                    text: format!("200 {SECRET}"),
                    passed: Some(true),
                }],
            }],
        }],
        series: None,
    };
    let slow_evidence = Evidence {
        notes: vec!["no response within 1s".into()],
        ..Evidence::default()
    };
    let results = vec![
        result(
            "health",
            Outcome::Pass,
            "2 expectations met",
            Evidence::default(),
        ),
        result(
            "webhook",
            Outcome::Fail,
            "status: expected 200, got 503",
            webhook_evidence,
        ),
        result(
            "slow",
            Outcome::Error,
            &format!("timed out after 1s ({SECRET})"),
            slow_evidence,
        ),
        result(
            "legacy",
            Outcome::Fail,
            "header x-powered-by: expected absent",
            Evidence::default(),
        ),
    ];
    let mut session = Session::new(checklist.clone());
    session.apply_event(&ticked("deploy-api"));
    for result in &results {
        session.apply_result(result.clone());
    }
    Run {
        checklist,
        session,
        results,
    }
}

fn render(run: &Run, format: Format) -> String {
    report::render_at(format, &run.checklist, &run.session, &run.results, at())
}

// ----- exit code -----

#[test]
fn exit_code_one_when_required_check_fails() {
    let run = mixed_run();
    assert_eq!(report::exit_code(&run.checklist, &run.session), 1);
}

#[test]
fn exit_code_zero_ignores_manual_and_optional() {
    let checklist = checklist(
        "All good",
        vec![(
            "only",
            vec![
                manual("sign-off", &[]),
                check("health", true, &[]),
                check("extra", false, &[]),
            ],
        )],
    );
    let mut session = Session::new(checklist.clone());
    session.apply_result(result("health", Outcome::Pass, "ok", Evidence::default()));
    session.apply_result(result("extra", Outcome::Fail, "nope", Evidence::default()));
    assert_eq!(report::exit_code(&checklist, &session), 0);
}

#[test]
fn exit_code_one_for_each_non_passing_status() {
    for outcome in [Outcome::Fail, Outcome::Error, Outcome::Blocked] {
        let checklist = checklist("One", vec![("only", vec![check("health", true, &[])])]);
        let mut session = Session::new(checklist.clone());
        session.apply_result(result("health", outcome, "x", Evidence::default()));
        assert_eq!(report::exit_code(&checklist, &session), 1, "{outcome:?}");
    }
}

#[test]
fn exit_code_one_when_check_never_ran() {
    let checklist = checklist("One", vec![("only", vec![check("health", true, &[])])]);
    let session = Session::new(checklist.clone());
    assert_eq!(report::exit_code(&checklist, &session), 1);
}

#[test]
fn exit_code_one_when_blocked_by_manual_item() {
    let checklist = checklist(
        "One",
        vec![(
            "only",
            vec![manual("switch", &[]), check("metrics", true, &["switch"])],
        )],
    );
    let session = Session::new(checklist.clone());
    assert_eq!(report::exit_code(&checklist, &session), 1);
}

// ----- text -----

#[test]
fn text_lists_phases_items_and_verdict() {
    let text = render(&mixed_run(), Format::Text);
    assert!(
        text.starts_with("golive check: Payments <launch> & \"friends\" (environment staging)\n")
    );
    assert!(text.contains("\nPhase deploy\n"));
    assert!(text.contains("\nPhase checks\n"));
    assert!(text.contains("  DONE     deploy-api  Title of deploy-api [manual]\n"));
    assert!(text.contains("done by Ada Lovelace at 2026-02-16T08:00:00Z"));
    assert!(text.contains("  PASS     health      Title of health\n"));
    assert!(text.contains("2 expectations met (1234 ms)"));
    assert!(text.contains("  FAIL     webhook     Title of webhook\n"));
    assert!(text.contains("- token •••••• was sent\n"));
    assert!(text.contains("  ERROR    slow        Title of slow\n"));
    assert!(text.contains("- no response within 1s\n"));
    assert!(text.contains("  BLOCKED  metrics     Title of metrics\n"));
    assert!(text.contains("waiting for switch\n"));
    assert!(text.contains("  PENDING  switch      Title of switch [manual]\n"));
    assert!(text.contains("manual step, not ticked\n"));
    assert!(text.contains("  FAIL     legacy      Title of legacy (optional)\n"));
    assert!(
        text.contains("Totals: 7 items: 1 pass, 2 fail, 1 error, 1 blocked, 1 pending, 1 done\n")
    );
    assert!(text.contains(
        "Automated checks: NO-GO: 3 required checks are not passing: \
         webhook (fail), slow (error), metrics (blocked)"
    ));
}

#[test]
fn text_verdict_go_names_manual_items() {
    let checklist = checklist(
        "Good",
        vec![(
            "only",
            vec![manual("sign-off", &[]), check("health", true, &[])],
        )],
    );
    let mut session = Session::new(checklist.clone());
    let results = vec![result("health", Outcome::Pass, "ok", Evidence::default())];
    session.apply_result(results[0].clone());
    let text = report::render_at(Format::Text, &checklist, &session, &results, at());
    assert!(text.ends_with(
        "Automated checks: GO: every required automated check passed; \
         1 manual item is still open, which the launch decision also needs\n"
    ));
}

#[test]
fn text_keeps_last_column_whole() {
    const KEY: &str = "weak-cipher-suites:tls-1.0@app.example.test:443/very/long/location/path";
    let checklist = checklist("Scans", vec![("only", vec![check("scan", true, &[])])]);
    let evidence = Evidence {
        tables: vec![golive::checks::EvidenceTable {
            title: "Top high findings".into(),
            columns: vec!["title".into(), "key".into()],
            rows: vec![golive::checks::EvidenceRow {
                label: "1".into(),
                cells: vec![
                    golive::checks::EvidenceCell {
                        text: "Weak cipher suites offered by the load balancer".into(),
                        passed: None,
                    },
                    golive::checks::EvidenceCell {
                        text: KEY.into(),
                        passed: None,
                    },
                ],
            }],
        }],
        ..Evidence::default()
    };
    let results = vec![result("scan", Outcome::Fail, "1 high", evidence)];
    let mut session = Session::new(checklist.clone());
    session.apply_result(results[0].clone());
    let text = report::render_at(Format::Text, &checklist, &session, &results, at());
    assert!(text.contains(KEY), "{text}");
    assert!(
        text.contains("Weak cipher suites offered by the load …"),
        "{text}"
    );
}

#[test]
fn text_keeps_server_newlines_on_one_line() {
    let checklist = checklist("Forged", vec![("only", vec![check("table", true, &[])])]);
    let forged = "failed: bad\n\nTotals: 1 item: 1 pass\nAutomated checks: GO: forged";
    let results = vec![result("table", Outcome::Error, forged, Evidence::default())];
    let mut session = Session::new(checklist.clone());
    session.apply_result(results[0].clone());
    let text = report::render_at(Format::Text, &checklist, &session, &results, at());
    assert!(!text.contains("\nAutomated checks: GO: forged"), "{text}");
    assert!(!text.contains("\nTotals: 1 item: 1 pass"), "{text}");
    assert!(text.contains("failed: bad  Totals: 1 item: 1 pass Automated checks: GO: forged"));
}

// ----- JSON -----

#[test]
fn json_parses_with_documented_fields() {
    let json: Value =
        serde_json::from_str(&render(&mixed_run(), Format::Json)).expect("valid JSON");
    assert_eq!(json["schema"], "golive.report/1");
    assert_eq!(json["title"], "Payments <launch> & \"friends\"");
    assert_eq!(json["version"], "v1");
    assert_eq!(json["environment"], "staging");
    assert_eq!(json["digest"], "ab".repeat(32));
    assert_eq!(json["generated_at"], "2026-02-16T08:00:00Z");
    assert_eq!(json["verdict"], "no-go");
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["counts"]["total"], 7);
    assert_eq!(json["counts"]["pass"], 1);
    assert_eq!(json["counts"]["fail"], 2);
    assert_eq!(json["counts"]["error"], 1);
    assert_eq!(json["counts"]["blocked"], 1);
    assert_eq!(json["counts"]["pending"], 1);
    assert_eq!(json["counts"]["done"], 1);
    let blockers: Vec<&str> = json["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(blockers, ["webhook", "slow", "metrics"]);
    assert_eq!(json["blockers"][2]["status"], "blocked");
}

#[test]
fn json_items_carry_status_and_evidence() {
    let json: Value =
        serde_json::from_str(&render(&mixed_run(), Format::Json)).expect("valid JSON");
    let items = json["items"].as_array().expect("items array");
    let ids: Vec<&str> = items
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "deploy-api",
            "health",
            "switch",
            "webhook",
            "slow",
            "metrics",
            "legacy"
        ]
    );
    let by_id: HashMap<&str, &Value> = items
        .iter()
        .map(|item| (item["id"].as_str().unwrap(), item))
        .collect();

    let webhook = by_id["webhook"];
    assert_eq!(webhook["phase"], "checks");
    assert_eq!(webhook["kind"], "http");
    assert_eq!(webhook["severity"], "high");
    assert_eq!(webhook["required"], true);
    assert_eq!(webhook["status"], "fail");
    assert_eq!(webhook["summary"], "status: expected 200, got 503");
    assert_eq!(webhook["elapsed_ms"], 1234);
    assert_eq!(webhook["attempts"], 1);
    assert_eq!(webhook["evidence"]["status"], 503);
    assert_eq!(webhook["evidence"]["assertions"][0]["passed"], false);

    let manual = by_id["deploy-api"];
    assert_eq!(manual["kind"], "manual");
    assert_eq!(manual["status"], "done");
    assert!(manual["evidence"].is_null());

    let pending = by_id["switch"];
    assert_eq!(pending["status"], "pending");

    let blocked = by_id["metrics"];
    assert_eq!(blocked["status"], "blocked");
    assert_eq!(blocked["depends_on"][0], "switch");
    assert_eq!(blocked["summary"], "waiting for switch");
    assert!(blocked["evidence"].is_null());

    assert_eq!(by_id["legacy"]["required"], false);
}

// ----- JUnit -----

/// Element counts and selected attributes of a JUnit document, read with a real XML parser.
#[derive(Default)]
struct JunitDoc {
    elements: HashMap<String, usize>,
    /// Attributes of the `<testsuites>` element.
    root: HashMap<String, String>,
    /// `name` attribute of every `<testcase>`.
    case_names: Vec<String>,
}

fn attributes(element: &BytesStart) -> HashMap<String, String> {
    element
        .attributes()
        .map(|attribute| {
            let attribute = attribute.expect("well-formed attribute");
            let key = String::from_utf8(attribute.key.as_ref().to_vec()).expect("UTF-8 key");
            let value = attribute
                .unescape_value()
                .expect("escaped value")
                .into_owned();
            (key, value)
        })
        .collect()
}

fn parse_junit(xml: &str) -> JunitDoc {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut doc = JunitDoc::default();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let element = match &event {
            XmlEvent::Start(element) | XmlEvent::Empty(element) => element,
            XmlEvent::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8(element.name().as_ref().to_vec()).expect("UTF-8 name");
        *doc.elements.entry(name.clone()).or_default() += 1;
        match name.as_str() {
            "testsuites" => doc.root = attributes(element),
            "testcase" => doc.case_names.push(attributes(element)["name"].clone()),
            _ => {}
        }
    }
    doc
}

#[test]
fn junit_counts_failures_errors_skipped() {
    let xml = render(&mixed_run(), Format::Junit);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    let doc = parse_junit(&xml);
    let count = |name: &str| doc.elements.get(name).copied().unwrap_or(0);
    assert_eq!(count("testsuites"), 1);
    assert_eq!(count("testsuite"), 2);
    assert_eq!(count("testcase"), 7);
    // webhook and the optional legacy check
    assert_eq!(count("failure"), 2);
    // slow (error) and metrics (blocked)
    assert_eq!(count("error"), 2);
    // deploy-api (done) and switch (pending)
    assert_eq!(count("skipped"), 2);
    assert_eq!(doc.root["tests"], "7");
    assert_eq!(doc.root["failures"], "2");
    assert_eq!(doc.root["errors"], "2");
    assert_eq!(doc.root["skipped"], "2");
    assert_eq!(doc.root["time"], "4.936");
}

#[test]
fn junit_escapes_titles_and_names() {
    let doc = parse_junit(&render(&mixed_run(), Format::Junit));
    assert_eq!(
        doc.root["name"],
        "Payments <launch> & \"friends\" (staging)"
    );
    assert_eq!(doc.case_names[0], "deploy-api: Title of deploy-api");
}

#[test]
fn junit_has_no_forbidden_characters() {
    let xml = render(&mixed_run(), Format::Junit);
    let forbidden = |ch: char| {
        (ch.is_control() && !matches!(ch, '\n' | '\t')) || matches!(ch, '\u{fffe}' | '\u{ffff}')
    };
    assert!(!xml.chars().any(forbidden), "{xml}");
    assert!(xml.contains("relay down\\u{1b}[2J &lt;b&gt;"));
}

// ----- secrets -----

#[test]
fn no_format_leaks_a_secret() {
    let run = mixed_run();
    for format in [Format::Text, Format::Json, Format::Junit] {
        let output = render(&run, format);
        assert!(
            !output.contains(SECRET),
            "{format:?} leaks the secret:\n{output}"
        );
        assert!(output.contains(MASK), "{format:?} shows no mask:\n{output}");
    }
}

#[test]
fn json_masks_secret_needing_escapes() {
    // A secret with a quote is escaped in JSON text, so masking the text after serialising
    // would miss it.
    let quoted = "pa\"ss\\word-1234";
    let mut run = mixed_run();
    let mut redactor = Redactor::new();
    redactor.add(quoted);
    let mut checklist = (*run.checklist).clone();
    checklist.redactor = Arc::new(redactor);
    run.checklist = Arc::new(checklist);
    run.results[1].evidence.notes = vec![format!("sent {quoted}")];
    let json = render(&run, Format::Json);
    let escaped = serde_json::to_string(quoted).unwrap();
    assert!(!json.contains(escaped.trim_matches('"')), "{json}");
    let parsed: Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(
        parsed["items"][3]["evidence"]["notes"][0],
        format!("sent {MASK}")
    );
}

fn waiver_spec(item: &str, expires: &str) -> golive::checklist::WaiverSpec {
    golive::checklist::WaiverSpec {
        item: item.into(),
        findings: Vec::new(),
        reason: format!("{item} fix ships Monday"),
        risk: golive::checklist::Risk::Medium,
        control: "WAF rule in front".into(),
        expires: expires.parse().expect("timestamp"),
        requested_by: "Ana <ana@example.com>".into(),
        approved_by: "Bo <bo@example.com>".into(),
    }
}

/// Builds a run with a failing required check and an unticked manual item, both waived until
/// 2026-02-17.
fn waived_run() -> (Arc<Checklist>, Session, Vec<CheckResult>) {
    let checklist = checklist(
        "Waived launch",
        vec![("p", vec![check("api", true, &[]), manual("freeze", &[])])],
    );
    let policy = golive::checklist::LaunchPolicy {
        signoffs: Vec::new(),
        waivers: vec![
            waiver_spec("api", "2026-02-17T08:00:00Z"),
            waiver_spec("freeze", "2026-02-17T08:00:00Z"),
        ],
    };
    let mut session = Session::with_policy(checklist.clone(), policy);
    session.set_now(at());
    let results = vec![result(
        "api",
        Outcome::Fail,
        "status 500, expected 200",
        Evidence::default(),
    )];
    for result in &results {
        session.apply_result(result.clone());
    }
    (checklist, session, results)
}

#[test]
fn waived_failing_check_counts_toward_go() {
    let (checklist, session, results) = waived_run();
    assert_eq!(report::exit_code(&checklist, &session), 0);

    let text = report::render_at(Format::Text, &checklist, &session, &results, at());
    let api_line = text.lines().find(|line| line.contains(" api ")).unwrap();
    assert!(api_line.contains("WAIVED"), "{text}");
    assert!(
        text.contains("waived: api fix ships Monday, expires 2026-02-17T08:00:00Z"),
        "{text}"
    );
    assert!(
        text.contains("last result: status 500, expected 200"),
        "{text}"
    );
    assert!(text.contains("Automated checks: GO"), "{text}");
    assert!(text.contains("waived: api)"), "{text}");
    assert!(!text.contains("PASS"), "{text}");

    let json: Value = serde_json::from_str(&report::render_at(
        Format::Json,
        &checklist,
        &session,
        &results,
        at(),
    ))
    .unwrap();
    assert_eq!(json["verdict"], "go");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["counts"]["waived"], 2);
    assert_eq!(json["items"][0]["status"], "waived");
    assert_eq!(json["items"][0]["waiver"]["reason"], "api fix ships Monday");
    assert_eq!(
        json["items"][0]["waiver"]["approved_by"],
        "Bo <bo@example.com>"
    );
    assert_eq!(
        json["items"][0]["waiver"]["expires"],
        "2026-02-17T08:00:00Z"
    );
}

#[test]
fn waived_manual_item_reads_waived() {
    let (checklist, session, results) = waived_run();
    let text = report::render_at(Format::Text, &checklist, &session, &results, at());
    let freeze_line = text.lines().find(|line| line.contains(" freeze ")).unwrap();
    assert!(freeze_line.contains("WAIVED"), "{text}");
    assert!(
        text.contains("waived: freeze fix ships Monday, expires 2026-02-17T08:00:00Z"),
        "{text}"
    );
    assert!(!text.contains("manual step, not ticked"), "{text}");
}

#[test]
fn junit_waived_item_skipped_with_reason() {
    let (checklist, session, results) = waived_run();
    let xml = report::render_at(Format::Junit, &checklist, &session, &results, at());
    let doc = parse_junit(&xml);
    let count = |name: &str| doc.elements.get(name).copied().unwrap_or(0);
    assert_eq!(count("failure"), 0);
    assert_eq!(count("error"), 0);
    assert_eq!(count("skipped"), 2);
    assert_eq!(doc.root["skipped"], "2");
    assert!(
        xml.contains(
            "<skipped message=\"waived: api fix ships Monday, expires 2026-02-17T08:00:00Z\"/>"
        ),
        "{xml}"
    );
}

#[test]
fn expired_waiver_does_not_count() {
    let (checklist, mut session, results) = waived_run();
    session.set_now("2026-02-18T08:00:00Z".parse().unwrap());
    assert_eq!(report::exit_code(&checklist, &session), 1);

    let json: Value = serde_json::from_str(&report::render_at(
        Format::Json,
        &checklist,
        &session,
        &results,
        at(),
    ))
    .unwrap();
    assert_eq!(json["verdict"], "no-go");
    assert_eq!(json["items"][0]["status"], "fail");
    assert_eq!(json["items"][0]["waiver"], Value::Null);
    assert_eq!(json["blockers"][0]["id"], "api");

    let xml = report::render_at(Format::Junit, &checklist, &session, &results, at());
    let doc = parse_junit(&xml);
    assert_eq!(doc.elements.get("failure").copied().unwrap_or(0), 1);
}

// ----- evidence in the text report -----

/// A run with one failing check whose evidence has `assertions` missed expectations, `notes`
/// notes and a table of `rows` rows.
fn long_evidence_run(assertions: usize, notes: usize, rows: usize) -> Run {
    let checklist = checklist(
        "Long evidence",
        vec![("checks", vec![check("rbac", true, &[])])],
    );
    let evidence = Evidence {
        assertions: (0..assertions)
            .map(|index| Assertion {
                subject: format!("cell {index}"),
                expected: "403".into(),
                actual: "200".into(),
                passed: false,
            })
            .collect(),
        notes: (0..notes).map(|index| format!("note {index}")).collect(),
        tables: vec![golive::checks::EvidenceTable {
            title: "roles × actions".into(),
            columns: vec!["GET list".into(), "DELETE case".into()],
            rows: (0..rows)
                .map(|index| golive::checks::EvidenceRow {
                    label: format!("role-{index}\x1b[2J"),
                    cells: vec![
                        golive::checks::EvidenceCell {
                            text: "expected 200 / got 200".into(),
                            passed: Some(true),
                        },
                        golive::checks::EvidenceCell {
                            text: "expected 403 / got 200".into(),
                            passed: Some(false),
                        },
                    ],
                })
                .collect(),
        }],
        ..Evidence::default()
    };
    let results = vec![result("rbac", Outcome::Fail, "3 cells failed", evidence)];
    let mut session = Session::new(checklist.clone());
    for result in &results {
        session.apply_result(result.clone());
    }
    Run {
        checklist,
        session,
        results,
    }
}

#[test]
fn text_shows_evidence_table_grid() {
    let out = render(&long_evidence_run(1, 0, 2), Format::Text);
    assert!(out.contains("roles × actions:"), "{out}");
    assert!(
        out.contains("GET list                  DELETE case"),
        "{out}"
    );
    assert!(
        out.contains("✔ expected 200 / got 200  ✘ expected 403 / got 200"),
        "{out}"
    );
}

#[test]
fn text_table_is_masked_and_safe() {
    let out = render(&mixed_run(), Format::Text);
    assert!(out.contains(&format!("matrix {MASK}:")), "{out}");
    assert!(out.contains(&format!("✔ 200 {MASK}")), "{out}");
    let table_out = render(&long_evidence_run(1, 0, 1), Format::Text);
    assert!(!table_out.contains('\x1b'), "{table_out}");
    assert!(table_out.contains("role-0\\u{1b}[2J"), "{table_out}");
}

#[test]
fn text_bounds_table_rows() {
    let out = render(&long_evidence_run(1, 0, 25), Format::Text);
    assert!(out.contains("role-19"), "{out}");
    assert!(!out.contains("role-20"), "{out}");
    assert!(out.contains("… 5 more rows"), "{out}");
}

#[test]
fn text_counts_cut_assertions_and_notes() {
    let out = render(&long_evidence_run(14, 2, 1), Format::Text);
    assert!(out.contains("- cell 5: expected 403, got 200"), "{out}");
    assert!(!out.contains("- cell 6:"), "{out}");
    assert!(
        out.contains("… 8 more assertions and 2 more notes"),
        "{out}"
    );
}

#[test]
fn text_counts_cut_notes() {
    let out = render(&long_evidence_run(2, 7, 1), Format::Text);
    assert!(out.contains("- note 3"), "{out}");
    assert!(!out.contains("- note 4"), "{out}");
    assert!(out.contains("… 3 more notes"), "{out}");
}

#[test]
fn text_shows_no_tables_of_passing_checks() {
    let mut run = long_evidence_run(0, 0, 2);
    run.results[0].outcome = Outcome::Pass;
    run.session = Session::new(run.checklist.clone());
    run.session.apply_result(run.results[0].clone());
    let out = render(&run, Format::Text);
    assert!(!out.contains("roles × actions"), "{out}");
}
