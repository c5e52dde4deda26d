//! The `golive` binary end to end: exit codes and output of `lint` and `check` against the demo
//! target, and the messages for bad settings and a missing terminal.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use golive::demo;

/// Runs the binary with a scratch home so it never reads or writes the user's own files.
fn golive(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .envs(demo::checklist_env())
        .stdin(Stdio::null())
        .output()
        .expect("golive runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn start_demo() -> (tokio::runtime::Runtime, demo::DemoServer) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime
        .block_on(demo::serve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))
        .expect("demo target starts");
    (runtime, server)
}

fn write_checklist(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("checklist written");
    path
}

fn passing_checklist(base_url: &str) -> String {
    format!(
        r#"[checklist]
title = "Health only"

[[phases]]
id = "smoke"
title = "Smoke"

[[phases.items]]
id = "health"
title = "Health returns 200"
severity = "critical"
[phases.items.check]
kind = "http"
url = "{base_url}/health"
[phases.items.check.expect]
status = 200
json = {{ "$.status" = "ok" }}

[[phases.items]]
id = "announce"
title = "Launch announced"
severity = "low"
steps = ["Post in the launch channel"]
expected = "Posted"
"#
    )
}

#[test]
fn check_exits_zero_when_required_checks_pass() {
    let home = tempfile::tempdir().unwrap();
    let (_runtime, server) = start_demo();
    let path = write_checklist(
        home.path(),
        "go.toml",
        &passing_checklist(&server.base_url()),
    );

    let output = golive(
        home.path(),
        &["check", path.to_str().unwrap(), "--format", "json"],
    );

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
    assert_eq!(report["verdict"], "go");
    assert_eq!(report["counts"]["pass"], 1);
    let items = report["items"].as_array().expect("items array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], "health");
    assert_eq!(items[0]["status"], "pass");
    assert_eq!(items[1]["status"], "pending");
}

#[test]
fn check_exits_one_on_demo_failures() {
    let home = tempfile::tempdir().unwrap();
    let (_runtime, server) = start_demo();
    let base_url = format!("base_url={}", server.base_url());

    let output = golive(
        home.path(),
        &[
            "check",
            "checklists/demo.toml",
            "--var",
            &base_url,
            "--format",
            "junit",
        ],
    );

    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(&output));
    let junit = stdout(&output);
    assert!(junit.starts_with("<?xml"), "not XML: {junit}");
    assert!(
        junit.contains("webhook-delivery"),
        "failing item missing: {junit}"
    );
    assert!(junit.contains("<failure"), "no failure element: {junit}");
    assert!(
        junit.contains("<skipped"),
        "manual items not skipped: {junit}"
    );
    assert!(
        !junit.contains(demo::DEMO_API_KEY),
        "API key leaked into JUnit"
    );
    assert!(
        !junit.contains(demo::DEMO_ADMIN_TOKEN),
        "admin token leaked into JUnit"
    );
}

#[test]
fn check_writes_report_to_output_file() {
    let home = tempfile::tempdir().unwrap();
    let (_runtime, server) = start_demo();
    let path = write_checklist(
        home.path(),
        "go.toml",
        &passing_checklist(&server.base_url()),
    );
    let report = home.path().join("report.txt");

    let output = golive(
        home.path(),
        &[
            "check",
            path.to_str().unwrap(),
            "--output",
            report.to_str().unwrap(),
        ],
    );

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(stdout(&output).is_empty(), "report also went to stdout");
    let text = std::fs::read_to_string(&report).expect("report file written");
    assert!(text.contains("PASS"), "text report: {text}");
    assert!(text.contains("health"), "text report: {text}");
}

#[test]
fn check_exits_two_on_checklist_error() {
    let home = tempfile::tempdir().unwrap();
    let path = write_checklist(
        home.path(),
        "bad.toml",
        "[checklist]\ntitle = \"Bad\"\n\n[[phases]]\nid = \"p\"\ntitle = \"P\"\n\n\
         [[phases.items]]\nid = \"a\"\ntitle = \"A\"\nseverity = \"critcal\"\nsteps = [\"x\"]\n",
    );

    let output = golive(home.path(), &["check", path.to_str().unwrap()]);

    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("bad.toml:11:"),
        "no file and line: {message}"
    );
    assert!(
        message.contains("critcal"),
        "offending value not quoted: {message}"
    );
    assert!(
        message.contains("critical"),
        "valid values not named: {message}"
    );
}

#[test]
fn lint_shipped_checklists_ok() {
    let home = tempfile::tempdir().unwrap();
    for checklist in ["checklists/demo.toml", "checklists/authbridge-launch.toml"] {
        let output = golive(home.path(), &["lint", checklist]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{checklist}: {}",
            stderr(&output)
        );
        assert!(
            stdout(&output).contains(": ok,"),
            "{checklist}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn lint_checks_every_environment() {
    let home = tempfile::tempdir().unwrap();
    let output = golive(home.path(), &["lint", "checklists/authbridge-launch.toml"]);
    let out = stdout(&output);
    assert!(out.contains("environment staging: ok"), "{out}");
    assert!(out.contains("environment production: ok"), "{out}");
}

#[test]
fn lint_exits_one_on_errors() {
    let home = tempfile::tempdir().unwrap();
    let path = write_checklist(home.path(), "broken.toml", "[checklist\ntitle = 1\n");
    let output = golive(home.path(), &["lint", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("broken.toml:1:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn settings_with_bad_concurrency_rejected() {
    let home = tempfile::tempdir().unwrap();
    for value in ["0", "9223372036854775807", "\"many\""] {
        let config = write_checklist(
            home.path(),
            "config.toml",
            &format!("[engine]\nconcurrency = {value}\n"),
        );
        let output = golive(
            home.path(),
            &[
                "lint",
                "checklists/demo.toml",
                "--config",
                config.to_str().unwrap(),
            ],
        );
        assert_eq!(output.status.code(), Some(2), "concurrency {value}");
        let message = stderr(&output);
        assert!(
            message.contains("config.toml:2:"),
            "no line for {value}: {message}"
        );
        assert!(
            !message.contains("panicked"),
            "panic for {value}: {message}"
        );
    }
}

#[test]
fn open_without_terminal_explains() {
    let home = tempfile::tempdir().unwrap();
    let output = golive(
        home.path(),
        &[
            "open",
            "checklists/demo.toml",
            "--as",
            "Test <t@example.com>",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("needs an interactive terminal"),
        "{message}"
    );
    assert!(message.contains("golive check"), "{message}");
}

#[test]
fn no_arguments_suggests_demo() {
    let home = tempfile::tempdir().unwrap();
    let output = golive(home.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("golive demo"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn settings_layers_override_by_key() {
    let home = tempfile::tempdir().unwrap();
    let user = write_checklist(
        home.path(),
        "user.toml",
        "[identity]\nname = \"Dana\"\nemail = \"dana@example.com\"\n[ui]\ntheme = \"neon\"\n",
    );
    let project = write_checklist(home.path(), "project.toml", "[ui]\ntheme = \"light\"\n");

    let settings =
        golive::config::Settings::load_layers(vec![user, project.clone()]).expect("settings load");

    assert_eq!(settings.identity.name, "Dana");
    assert_eq!(settings.ui.theme, "light");
    assert_eq!(settings.engine.concurrency, 32);
    assert_eq!(settings.source, Some(project));
    assert_eq!(settings.actor().as_deref(), Some("Dana <dana@example.com>"));
}

#[test]
fn settings_error_names_user_file() {
    let home = tempfile::tempdir().unwrap();
    let user_dir = home.path().join("config").join("golive");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::write(user_dir.join("config.toml"), "[ui]\nthem = \"dark\"\n").unwrap();
    let output = golive(home.path(), &["lint", "checklists/demo.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("golive/config.toml:2:"), "{message}");
    assert!(message.contains("them"), "{message}");
}

#[test]
fn check_uses_ticks_from_cockpit_journal() {
    let home = tempfile::tempdir().unwrap();
    let (_runtime, server) = start_demo();
    let base_url = format!("base_url={}", server.base_url());

    // Tick the manual item that `metrics-live` depends on, as the cockpit would.
    let overrides = [("base_url".to_string(), server.base_url())]
        .into_iter()
        .collect();
    let loaded = golive::checklist::loader::load(
        Path::new("checklists/demo.toml"),
        Some("demo"),
        &overrides,
        &golive::checklist::loader::LoadDefaults::default(),
    )
    .expect("demo checklist loads");
    let journal_dir = home.path().join("data").join("golive").join("journals");
    {
        use golive::journal::{EventKind, Journal};
        let mut journal =
            golive::journal::file::open(&journal_dir, &loaded.checklist, false, "Lead")
                .expect("journal opens");
        journal
            .append(
                "Lead",
                EventKind::Ticked {
                    item: "traffic-switch".into(),
                },
            )
            .expect("tick recorded");
    }

    let output = golive(
        home.path(),
        &[
            "check",
            "checklists/demo.toml",
            "--var",
            &base_url,
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let status = |id: &str| {
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["id"] == id)
            .map(|item| item["status"].clone())
            .unwrap()
    };
    assert_eq!(status("traffic-switch"), "done");
    assert_eq!(status("metrics-live"), "pass");

    let ignored = golive(
        home.path(),
        &[
            "check",
            "checklists/demo.toml",
            "--var",
            &base_url,
            "--format",
            "json",
            "--ignore-journal",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&ignored)).expect("JSON");
    let metrics = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == "metrics-live")
        .unwrap();
    assert_eq!(metrics["status"], "blocked");
}

#[test]
fn zero_engine_timeout_rejected() {
    let home = tempfile::tempdir().unwrap();
    let user_dir = home.path().join("config").join("golive");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::write(
        user_dir.join("config.toml"),
        "[engine]\ntimeout = \"0s\"\nbody_limit = 1024\n",
    )
    .unwrap();
    let output = golive(home.path(), &["lint", "checklists/demo.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("golive/config.toml:2:11"), "{message}");
    assert!(message.contains("invalid engine.timeout 0s"), "{message}");
}
