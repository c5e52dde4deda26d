//! The cockpit's state and drawing, without a real terminal: keys are fed to `App::handle_key`
//! and screens are drawn on ratatui's `TestBackend` and compared with insta snapshots.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use golive::checklist::{
    CheckDef, Checklist, Item, ItemBody, LaunchPolicy, ManualSteps, Phase, Risk, Severity,
    SignOffSpec,
};
use golive::checks::{
    Assertion, CheckResult, Evidence, EvidenceCell, EvidenceRow, EvidenceSeries, EvidenceTable,
    Outcome, parse_spec,
};
use golive::engine::EngineEvent;
use golive::journal::{Event, EventKind, Journal, JournalError};
use golive::redact::Redactor;
use golive::session::Status;
use golive::tui::app::{Action, App, Input, LogLevel, Pane};
use golive::tui::line_input::LineInput;
use golive::tui::theme::Theme;
use golive::tui::ui;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

const ACTOR: &str = "Ada Lovelace <ada@example.com>";

/// A journal kept in memory, stamping events one minute apart from a fixed time so that
/// snapshots do not depend on the clock. With `fail` set, every append fails.
#[derive(Default)]
struct MemoryJournal {
    events: Vec<Event>,
    warnings: Vec<String>,
    fail: bool,
    /// Where the journal this one replaced was moved, if set.
    set_aside: Option<String>,
}

impl MemoryJournal {
    fn failing() -> Self {
        MemoryJournal {
            fail: true,
            ..MemoryJournal::default()
        }
    }
}

impl Journal for MemoryJournal {
    fn events(&self) -> &[Event] {
        &self.events
    }

    fn append(&mut self, actor: &str, kind: EventKind) -> Result<Event, JournalError> {
        if self.fail {
            return Err(JournalError::Io {
                action: "append to",
                path: "memory".into(),
                source: std::io::Error::other("disk full"),
            });
        }
        let seq = self.events.len() as u64 + 1;
        let at = fixed("2026-02-16T05:40:00Z")
            .checked_add(jiff::SignedDuration::from_mins(seq as i64))
            .unwrap();
        let event = Event {
            seq,
            at,
            actor: actor.to_string(),
            kind,
            prev: self.head().to_string(),
            hash: format!("{seq:064}"),
        };
        self.events.push(event.clone());
        Ok(event)
    }

    fn location(&self) -> String {
        "memory".into()
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn set_aside_location(&self) -> Option<String> {
        self.set_aside.clone()
    }
}

fn fixed(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn manual(id: &str, title: &str, severity: Severity, owner: &str, depends_on: &[&str]) -> Item {
    Item {
        id: id.into(),
        title: title.into(),
        description: None,
        severity,
        required: true,
        owner: Some(owner.into()),
        depends_on: depends_on.iter().map(|dep| dep.to_string()).collect(),
        body: ItemBody::Manual(ManualSteps {
            steps: vec![format!("Do {title}"), "Confirm in the channel".into()],
            expected: Some("Everyone agrees".into()),
            request: None,
        }),
    }
}

fn http(id: &str, title: &str, path: &str, depends_on: &[&str]) -> Item {
    let mut settings = toml::Table::new();
    settings.insert("url".into(), format!("http://127.0.0.1:9{path}").into());
    let spec = parse_spec("http", settings).unwrap();
    Item {
        id: id.into(),
        title: title.into(),
        description: None,
        severity: Severity::Critical,
        required: true,
        owner: Some("dev".into()),
        depends_on: depends_on.iter().map(|dep| dep.to_string()).collect(),
        body: ItemBody::Check(CheckDef {
            spec,
            timeout: Duration::from_secs(5),
            retries: 1,
            interval: Some(Duration::from_secs(15)),
            unavailable: Vec::new(),
        }),
    }
}

fn checklist() -> Arc<Checklist> {
    let mut deploy = manual("deploy-api", "API deployed", Severity::Critical, "dev", &[]);
    if let ItemBody::Manual(steps) = &mut deploy.body {
        steps.steps = vec![
            "Run `make deploy STAGE=staging`".into(),
            "Watch the pipeline finish".into(),
        ];
        steps.expected = Some("Pipeline green, new version tagged".into());
    }
    deploy.description = Some("Ship the release candidate to the environment.".into());
    let mut notify = manual(
        "notify-support",
        "Support told",
        Severity::Low,
        "support",
        &[],
    );
    notify.required = false;
    let mut login = http("login", "Login page loads", "/login", &[]);
    login.severity = Severity::High;
    login.owner = Some("qa".into());
    Arc::new(Checklist {
        title: "Payments API launch".into(),
        version: Some("2026-02".into()),
        launch_at: Some(fixed("2026-02-16T08:00:00Z")),
        path: "checklist.toml".into(),
        digest: "0".repeat(64),
        environment: "staging".into(),
        environments: vec!["staging".into(), "production".into()],
        phases: vec![
            Phase {
                id: "deploy".into(),
                title: "Deployment".into(),
                items: vec![
                    deploy,
                    manual(
                        "migrate-db",
                        "Database migrated",
                        Severity::High,
                        "dba",
                        &["deploy-api"],
                    ),
                    notify,
                ],
            },
            Phase {
                id: "verify".into(),
                title: "Verification".into(),
                items: vec![
                    http(
                        "health",
                        "Health endpoint returns 200",
                        "/api/v1/health",
                        &["deploy-api"],
                    ),
                    login,
                    manual(
                        "smoke",
                        "Smoke test by QA",
                        Severity::Medium,
                        "qa",
                        &["health"],
                    ),
                ],
            },
            Phase {
                id: "golive".into(),
                title: "Go live".into(),
                items: vec![
                    manual(
                        "dns-switch",
                        "DNS switched",
                        Severity::Critical,
                        "lead",
                        &["smoke"],
                    ),
                    manual("announce", "Launch announced", Severity::Low, "lead", &[]),
                ],
            },
        ],
        redactor: Arc::new(Redactor::new()),
        secret_refs: Vec::new(),
    })
}

fn app_with(journal: MemoryJournal) -> App {
    let mut app = App::new(
        checklist(),
        Box::new(journal),
        ACTOR.into(),
        Theme::builtin_dark(),
    );
    app.now = fixed("2026-02-16T05:45:55Z");
    app.time_zone = TimeZone::UTC;
    // The start-up lines carry the real time, which snapshots must not depend on.
    for line in &mut app.log {
        line.at = fixed("2026-02-16T05:40:00Z");
    }
    app
}

fn app() -> App {
    app_with(MemoryJournal::default())
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(app: &mut App, code: KeyCode) -> Vec<Action> {
    app.handle_key(key(code))
}

fn type_text(app: &mut App, text: &str) {
    for ch in text.chars() {
        press(app, KeyCode::Char(ch));
    }
}

fn failed_health(started_at: &str, latency_ms: u64) -> CheckResult {
    let evidence = Evidence {
        request: vec![
            "GET http://127.0.0.1:9/api/v1/health".into(),
            "Authorization: ••••••".into(),
        ],
        status: Some(503),
        headers: vec![
            ("content-type".into(), "text/plain".into()),
            ("retry-after".into(), "30".into()),
        ],
        body_excerpt: Some("upstream unavailable\nretry later\n".into()),
        latency_ms: Some(latency_ms),
        tables: Vec::new(),
        files: Vec::new(),
        assertions: vec![
            Assertion {
                subject: "status".into(),
                expected: "200".into(),
                actual: "503".into(),
                passed: false,
            },
            Assertion {
                subject: "latency".into(),
                expected: "≤ 800 ms".into(),
                actual: format!("{latency_ms} ms"),
                passed: true,
            },
        ],
        notes: Vec::new(),
        series: None,
    };
    CheckResult {
        item_id: "health".into(),
        outcome: Outcome::Fail,
        summary: "status: expected 200, got 503".into(),
        evidence,
        started_at: fixed(started_at),
        elapsed_ms: latency_ms + 4,
        attempts: 1,
    }
}

fn passed(item: &str, started_at: &str, latency_ms: u64) -> CheckResult {
    CheckResult {
        item_id: item.into(),
        outcome: Outcome::Pass,
        summary: "2 expectations met".into(),
        evidence: Evidence {
            status: Some(200),
            latency_ms: Some(latency_ms),
            ..Evidence::default()
        },
        started_at: fixed(started_at),
        elapsed_ms: latency_ms,
        attempts: 1,
    }
}

/// Builds an app in the middle of a session: the deployment ticked, the health check passing a few
/// times and then failing, the login check passing, and a note on the health check.
fn busy_app() -> App {
    let mut app = app();
    assert!(app.record(&Action::Tick("deploy-api".into())));
    for (second, latency) in [(10, 90), (25, 110), (40, 95)] {
        let at = format!("2026-02-16T05:41:{second}Z");
        app.apply_engine_event(EngineEvent::Finished(passed("health", &at, latency)));
    }
    app.apply_engine_event(EngineEvent::Finished(failed_health(
        "2026-02-16T05:42:30Z",
        130,
    )));
    app.apply_engine_event(EngineEvent::Finished(passed(
        "login",
        "2026-02-16T05:42:31Z",
        40,
    )));
    let note = Action::AddNote {
        item: "health".into(),
        text: "paged the on-call".into(),
    };
    assert!(app.record(&note));
    app.status_line = None;
    app
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::render(frame, app)).unwrap();
    terminal
}

fn select_health(app: &mut App) {
    app.focus = Pane::Phases;
    press(app, KeyCode::Char('j'));
    press(app, KeyCode::Enter);
}

// Snapshots.

#[test]
fn main_screen_120x40() {
    let app = busy_app();
    insta::assert_snapshot!(draw(&app, 120, 40).backend());
}

#[test]
fn main_screen_80x24() {
    let app = busy_app();
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn help_overlay() {
    let mut app = busy_app();
    press(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn too_small_message() {
    let app = busy_app();
    insta::assert_snapshot!(draw(&app, 60, 20).backend());
}

#[test]
fn detail_of_failed_http_check() {
    let mut app = busy_app();
    select_health(&mut app);
    // Tall enough that the whole evidence fits without scrolling.
    insta::assert_snapshot!(draw(&app, 120, 50).backend());
}

#[test]
fn filtered_item_list() {
    let mut app = busy_app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "dba");
    insta::assert_snapshot!(draw(&app, 120, 40).backend());
}

#[test]
fn too_small_screen_names_sizes() {
    let app = app();
    let terminal = draw(&app, 60, 20);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("terminal is 60×20; golive needs at least 80×24"),
        "{screen}"
    );
}

#[test]
fn status_shows_symbol_and_word() {
    let app = busy_app();
    let terminal = draw(&app, 120, 40);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("☑ done    critical"), "{screen}");
    assert!(screen.contains("· pending high"), "{screen}");
}

#[test]
fn header_shows_countdown_and_verdict() {
    let app = busy_app();
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(screen.contains("T-02:14:05"), "{screen}");
    assert!(screen.contains("NO-GO · 5 blockers"), "{screen}");
}

#[test]
fn control_characters_never_reach_screen() {
    let mut app = app();
    let mut result = failed_health("2026-02-16T05:45:01Z", 130);
    result.summary = "bad\u{1b}[2Jsummary".into();
    app.apply_engine_event(EngineEvent::Finished(result));
    select_health(&mut app);
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(!screen.contains('\u{1b}'), "{screen}");
    assert!(screen.contains("bad\\u{1b}[2Jsummary"), "{screen}");
}

// Key handling.

#[test]
fn j_and_k_move_item_selection() {
    let mut app = app();
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.item, 1);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.item, 2);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.item, 2, "selection stops at the last item");
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.item, 1);
    press(&mut app, KeyCode::Home);
    assert_eq!(app.item, 0);
    press(&mut app, KeyCode::End);
    assert_eq!(app.item, 2);
}

#[test]
fn moving_in_phases_resets_item() {
    let mut app = app();
    press(&mut app, KeyCode::Char('j'));
    app.focus = Pane::Phases;
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.phase, 1);
    assert_eq!(app.item, 0);
    assert_eq!(
        app.selected_item().map(|item| item.id.as_str()),
        Some("health")
    );
}

#[test]
fn tab_cycles_panes() {
    let mut app = app();
    assert_eq!(app.focus, Pane::Items);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Detail);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Blockers);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Log);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Phases);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Pane::Log);
}

#[test]
fn blockers_select_and_jump() {
    let mut app = app();
    let blockers: Vec<String> = app
        .session
        .verdict()
        .blockers
        .iter()
        .map(|blocker| blocker.item_id.clone())
        .collect();
    assert_eq!(
        blockers,
        [
            "deploy-api",
            "migrate-db",
            "health",
            "login",
            "smoke",
            "dns-switch",
            "announce"
        ]
    );

    app.focus = Pane::Blockers;
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.blocker, 3);
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.blocker, 2);
    press(&mut app, KeyCode::End);
    assert_eq!(app.blocker, 6);

    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Items);
    assert_eq!(app.phase, 2);
    assert_eq!(
        app.selected_item().map(|item| item.id.as_str()),
        Some("dns-switch")
    );
}

#[test]
fn blocker_jump_clears_filter() {
    let mut app = app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "announce");
    press(&mut app, KeyCode::Enter);
    app.focus = Pane::Blockers;
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.filter, "");
    assert_eq!(app.phase, 1);
    assert_eq!(
        app.selected_item().map(|item| item.id.as_str()),
        Some("health")
    );
}

#[test]
fn blockers_show_full_ids_and_words() {
    let mut app = app();
    app.focus = Pane::Blockers;
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(screen.contains("· deploy-api pending"), "{screen}");
    assert!(screen.contains("⊘ dns-switch blocked"), "{screen}");
    let compact = draw(&app, 80, 24).backend().to_string();
    assert!(compact.contains("Blockers"), "{compact}");
    assert!(compact.contains("⊘ migrate-db blocked"), "{compact}");
}

#[test]
fn space_ticks_then_unticks() {
    let mut app = app();
    let actions = press(&mut app, KeyCode::Char(' '));
    assert_eq!(actions, vec![Action::Tick("deploy-api".into())]);
    assert!(app.record(&actions[0]));
    assert_eq!(app.session.status("deploy-api"), Status::Done);
    let actions = press(&mut app, KeyCode::Char(' '));
    assert_eq!(actions, vec![Action::Untick("deploy-api".into())]);
    assert!(app.record(&actions[0]));
    assert_eq!(app.session.status("deploy-api"), Status::Pending);
}

#[test]
fn tick_is_journaled_with_actor() {
    let mut app = app();
    let actions = press(&mut app, KeyCode::Char(' '));
    app.record(&actions[0]);
    let events = app.journal.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, ACTOR);
    assert_eq!(
        events[0].kind,
        EventKind::Ticked {
            item: "deploy-api".into()
        }
    );
}

#[test]
fn space_on_blocked_item_explains() {
    let mut app = app();
    press(&mut app, KeyCode::Char('j'));
    let actions = press(&mut app, KeyCode::Char(' '));
    assert!(actions.is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("blocked"), "{status}");
    assert!(status.contains("deploy-api"), "{status}");
}

#[test]
fn space_on_check_points_to_rerun() {
    let mut app = app();
    select_health(&mut app);
    let actions = press(&mut app, KeyCode::Char(' '));
    assert!(actions.is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("press r"), "{status}");
}

#[test]
fn x_marks_failed_then_clears() {
    let mut app = app();
    let actions = press(&mut app, KeyCode::Char('x'));
    assert_eq!(actions, vec![Action::MarkFailed("deploy-api".into())]);
    assert!(app.record(&actions[0]));
    assert_eq!(app.session.status("deploy-api"), Status::Failed);
    let actions = press(&mut app, KeyCode::Char('x'));
    assert_eq!(actions, vec![Action::Untick("deploy-api".into())]);
    assert!(app.record(&actions[0]));
    assert_eq!(app.session.status("deploy-api"), Status::Pending);
}

#[test]
fn clearing_failure_mark_says_so() {
    let mut app = app();
    let actions = press(&mut app, KeyCode::Char('x'));
    assert!(app.record(&actions[0]));
    let actions = press(&mut app, KeyCode::Char('x'));
    assert!(app.record(&actions[0]));
    assert_eq!(
        app.status_line.as_deref(),
        Some("deploy-api failure mark cleared")
    );
    let last = app.log.back().map(|line| line.text.as_str());
    assert_eq!(
        last,
        Some("deploy-api failure mark cleared by Ada Lovelace <ada@example.com>")
    );
    let kind = app.journal.events().last().map(|event| event.kind.clone());
    assert_eq!(
        kind,
        Some(EventKind::Unticked {
            item: "deploy-api".into()
        })
    );
}

#[test]
fn untick_of_done_item_says_unticked() {
    let mut app = app();
    let actions = press(&mut app, KeyCode::Char(' '));
    assert!(app.record(&actions[0]));
    let actions = press(&mut app, KeyCode::Char(' '));
    assert!(app.record(&actions[0]));
    assert_eq!(app.status_line.as_deref(), Some("deploy-api unticked"));
}

#[test]
fn note_input_saves_on_enter() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(
        app.input,
        Some(Input::Note {
            item: "deploy-api".into(),
            text: LineInput::new(),
        })
    );
    type_text(&mut app, "q and j are text here");
    let actions = press(&mut app, KeyCode::Enter);
    let expected = Action::AddNote {
        item: "deploy-api".into(),
        text: "q and j are text here".into(),
    };
    assert_eq!(actions, vec![expected]);
    assert_eq!(app.input, None);
    assert_eq!(
        app.item, 0,
        "keys typed into the note do not move the selection"
    );
}

#[test]
fn note_input_cancels_on_esc() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "draft");
    let actions = press(&mut app, KeyCode::Esc);
    assert!(actions.is_empty());
    assert_eq!(app.input, None);
}

#[test]
fn empty_note_is_discarded() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "   ");
    let actions = press(&mut app, KeyCode::Enter);
    assert!(actions.is_empty());
}

#[test]
fn note_is_recorded_and_shown() {
    let mut app = app();
    let note = Action::AddNote {
        item: "deploy-api".into(),
        text: "rolled at 05:40".into(),
    };
    assert!(app.record(&note));
    let notes = &app.session.state("deploy-api").unwrap().notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, "rolled at 05:40");
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(screen.contains("rolled at 05:40"), "{screen}");
}

#[test]
fn slash_filters_and_esc_clears() {
    let mut app = app();
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Char('/'));
    assert!(matches!(app.input, Some(Input::Filter(_))));
    type_text(&mut app, "MIGRATE");
    let ids: Vec<&str> = app
        .visible_items()
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(ids, vec!["migrate-db"]);
    assert_eq!(app.item, 0, "selection is clamped to the filtered list");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.input, None);
    assert_eq!(app.filter, "MIGRATE");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter, "");
    assert_eq!(app.visible_items().len(), 3);
}

#[test]
fn filter_matches_status_word() {
    let mut app = app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "blocked");
    let ids: Vec<&str> = app
        .visible_items()
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(ids, vec!["migrate-db", "health", "smoke", "dns-switch"]);
}

#[test]
fn filter_lists_items_of_all_phases() {
    let mut app = app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "dns-switch");
    let ids: Vec<&str> = app
        .visible_items()
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(ids, vec!["dns-switch"]);
    assert_eq!(app.phase, 0, "filtering keeps the selected phase");
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(
        screen.contains("filter “dns-switch”: 1 match in 1 phase"),
        "{screen}"
    );
    assert!(screen.contains("Go live › DNS switched"), "{screen}");
}

#[test]
fn filter_counts_matches_per_phase() {
    let mut app = app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "qa");
    let ids: Vec<&str> = app
        .visible_items()
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(ids, vec!["login", "smoke"]);
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(
        screen.contains("filter “qa”: 2 matches in 1 phase"),
        "{screen}"
    );
    press(&mut app, KeyCode::Backspace);
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(
        screen.contains("filter “q”: 2 matches in 1 phase"),
        "{screen}"
    );
}

#[test]
fn esc_returns_to_selected_phase() {
    let mut app = app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "smoke");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.selected_item().map(|item| item.id.as_str()),
        Some("smoke")
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter, "");
    assert_eq!(app.phase, 0);
    let ids: Vec<&str> = app
        .visible_items()
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(ids, vec!["deploy-api", "migrate-db", "notify-support"]);
    assert_eq!(app.item, 0);
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut app = app();
    assert_eq!(press(&mut app, KeyCode::Char('q')), vec![Action::Quit]);
    press(&mut app, KeyCode::Char('n'));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.handle_key(ctrl_c), vec![Action::Quit]);
}

#[test]
fn q_types_into_filter() {
    let mut app = app();
    press(&mut app, KeyCode::Char('/'));
    let actions = press(&mut app, KeyCode::Char('q'));
    assert!(actions.is_empty());
    assert_eq!(app.filter, "q");
}

#[test]
fn r_runs_check_and_shift_r_runs_all() {
    let mut app = app();
    select_health(&mut app);
    assert_eq!(
        press(&mut app, KeyCode::Char('r')),
        vec![Action::Run("health".into())]
    );
    assert_eq!(press(&mut app, KeyCode::Char('R')), vec![Action::RunAll]);
}

#[test]
fn r_on_manual_item_explains() {
    let mut app = app();
    assert!(press(&mut app, KeyCode::Char('r')).is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("manual step"), "{status}");
}

#[test]
fn q_only_closes_help() {
    let mut app = app();
    press(&mut app, KeyCode::Char('?'));
    let actions = press(&mut app, KeyCode::Char('q'));
    assert!(actions.is_empty());
    assert!(!app.show_help);
    assert_eq!(press(&mut app, KeyCode::Char('q')), vec![Action::Quit]);
}

#[test]
fn help_toggles_and_any_key_closes() {
    let mut app = app();
    press(&mut app, KeyCode::Char('?'));
    assert!(app.show_help);
    let actions = press(&mut app, KeyCode::Char('j'));
    assert!(actions.is_empty());
    assert!(!app.show_help);
    assert_eq!(app.item, 0, "the closing key does nothing else");
}

#[test]
fn detail_scrolls_when_focused() {
    let mut app = busy_app();
    select_health(&mut app);
    draw(&app, 80, 24);
    app.focus = Pane::Detail;
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.detail_scroll, 1);
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.detail_scroll, 0);
}

// Journal and engine.

#[test]
fn journal_error_leaves_item_undone() {
    let mut app = app_with(MemoryJournal::failing());
    let actions = press(&mut app, KeyCode::Char(' '));
    assert!(!app.record(&actions[0]));
    assert_eq!(app.session.status("deploy-api"), Status::Pending);
    let error = app.error_line.clone().unwrap_or_default();
    assert!(error.contains("journal write failed"), "{error}");
    assert!(error.contains("disk full"), "{error}");
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(screen.contains("journal write failed"), "{screen}");
}

#[test]
fn esc_dismisses_error_line() {
    let mut app = app_with(MemoryJournal::failing());
    let actions = press(&mut app, KeyCode::Char(' '));
    app.record(&actions[0]);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.error_line, None);
}

#[test]
fn changed_outcome_is_journaled_and_logged() {
    let mut app = app();
    app.apply_engine_event(EngineEvent::Finished(passed(
        "health",
        "2026-02-16T05:44:10Z",
        90,
    )));
    app.apply_engine_event(EngineEvent::Finished(failed_health(
        "2026-02-16T05:45:01Z",
        130,
    )));
    let events = app.journal.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].actor, "golive");
    let expected = EventKind::CheckOutcome {
        item: "health".into(),
        outcome: Outcome::Fail,
        summary: "status: expected 200, got 503".into(),
        files: Vec::new(),
    };
    assert_eq!(events[1].kind, expected);
    let last = app
        .log
        .back()
        .map(|line| line.text.clone())
        .unwrap_or_default();
    assert_eq!(last, "health pass → fail: status: expected 200, got 503");
    assert_eq!(app.clock(app.log.back().unwrap().at), "05:45:01");
}

#[test]
fn repeated_outcome_is_not_journaled() {
    let mut app = app();
    app.apply_engine_event(EngineEvent::Finished(passed(
        "health",
        "2026-02-16T05:44:10Z",
        90,
    )));
    app.apply_engine_event(EngineEvent::Finished(passed(
        "health",
        "2026-02-16T05:44:25Z",
        95,
    )));
    assert_eq!(app.journal.events().len(), 1);
    assert_eq!(app.log.len(), 2, "the session line and one outcome");
}

#[test]
fn started_event_shows_running() {
    let mut app = app();
    app.apply_engine_event(EngineEvent::Started {
        item_id: "login".into(),
    });
    assert_eq!(app.session.status("login"), Status::Running);
}

#[test]
fn journal_is_replayed_at_start() {
    let mut journal = MemoryJournal::default();
    journal
        .append(
            ACTOR,
            EventKind::Ticked {
                item: "deploy-api".into(),
            },
        )
        .unwrap();
    journal.warnings.push("dropped a torn last line".into());
    let app = app_with(journal);
    assert_eq!(app.session.status("deploy-api"), Status::Done);
    assert_eq!(app.session.status("migrate-db"), Status::Pending);
    let lines: Vec<&str> = app.log.iter().map(|line| line.text.as_str()).collect();
    assert_eq!(
        lines,
        [
            "resumed session: 1 event from memory",
            "dropped a torn last line"
        ]
    );
}

fn session_started() -> EventKind {
    EventKind::SessionStarted {
        checklist: "/srv/launch.toml".into(),
        digest: "sha256:00".into(),
        environment: "staging".into(),
        version: "0.1.0".into(),
    }
}

#[test]
fn fresh_journal_is_new_session() {
    let mut journal = MemoryJournal::default();
    journal.append(ACTOR, session_started()).unwrap();
    let app = app_with(journal);
    let first = app.log.front().map(|line| line.text.as_str());
    assert_eq!(first, Some("new session: memory"));
}

#[test]
fn new_session_names_set_aside_journal() {
    let mut journal = MemoryJournal::default();
    journal.append(ACTOR, session_started()).unwrap();
    journal.set_aside = Some("/journals/launch-20260216T054000Z.jsonl".into());
    let app = app_with(journal);
    let first = app.log.front().map(|line| line.text.as_str());
    assert_eq!(
        first,
        Some(
            "new session: memory; the previous journal was moved to \
             /journals/launch-20260216T054000Z.jsonl"
        )
    );
}

#[test]
fn started_journal_with_events_is_resumed() {
    let mut journal = MemoryJournal::default();
    journal.append(ACTOR, session_started()).unwrap();
    let tick = EventKind::Ticked {
        item: "deploy-api".into(),
    };
    journal.append(ACTOR, tick).unwrap();
    let app = app_with(journal);
    let first = app.log.front().map(|line| line.text.as_str());
    assert_eq!(first, Some("resumed session: 2 events from memory"));
}

#[test]
fn new_session_is_logged() {
    let app = app();
    let first = app.log.front().map(|line| line.text.as_str());
    assert_eq!(first, Some("new session: memory"));
}

#[test]
fn tick_dirties_only_when_clock_changes() {
    let mut app = app();
    app.dirty = false;
    app.set_now(fixed("2026-02-16T05:45:55.400Z"));
    assert!(!app.dirty, "same second, same clock");
    app.set_now(fixed("2026-02-16T05:45:56Z"));
    assert!(app.dirty);
}

#[test]
fn page_keys_jump_and_clamp() {
    let mut app = app();
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.item, 2);
    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.item, 0);
}

#[test]
fn log_scrolls_back_and_follows() {
    let mut app = busy_app();
    app.focus = Pane::Log;
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.log_scroll, 1);
    press(&mut app, KeyCode::End);
    assert_eq!(app.log_scroll, 0);
}

#[test]
fn long_log_line_wraps_with_indent() {
    let mut app = app();
    let at = app.now;
    let warning = "journal line 7 is torn (no newline at the end); it was kept because its \
                   hash chain is intact, and the next append starts a new line";
    app.push_log(at, LogLevel::Warning, warning);
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(
        screen.contains("05:45:55 journal line 7 is torn"),
        "{screen}"
    );
    assert!(
        screen.contains("│         append starts a new line"),
        "{screen}"
    );
}

#[test]
fn log_scroll_stops_at_oldest_line() {
    let mut app = app();
    let at = app.now;
    for number in 1..=20 {
        app.push_log(at, LogLevel::Info, &format!("event number {number}"));
    }
    draw(&app, 80, 24);
    app.focus = Pane::Log;
    press(&mut app, KeyCode::Char('g'));
    let max = app.log_scroll;
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.log_scroll, max, "scrolling stops at the oldest line");
    let screen = draw(&app, 80, 24).backend().to_string();
    let rows: Vec<&str> = screen.lines().collect();
    let log_rows: Vec<&str> = rows[20..23].to_vec();
    assert!(
        log_rows[0].contains("05:40:00 new session: memory"),
        "{screen}"
    );
    assert!(log_rows[2].contains("event number 2 "), "{screen}");
}

#[test]
fn note_cursor_moves_and_edits() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "rollback");
    for _ in 0..4 {
        press(&mut app, KeyCode::Left);
    }
    type_text(&mut app, "ed ");
    press(&mut app, KeyCode::Home);
    press(&mut app, KeyCode::Delete);
    type_text(&mut app, "R");
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Right);
    let Some(Input::Note { item, text }) = &app.input else {
        panic!("the note input closed");
    };
    assert_eq!(item, "deploy-api");
    assert_eq!(text.text(), "Rolled bac");
    assert_eq!(text.cursor(), 10);
}

#[test]
fn long_note_keeps_key_hint() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, &"word ".repeat(40));
    type_text(&mut app, "last");
    let screen = draw(&app, 80, 24).backend().to_string();
    let bottom = screen.lines().last().unwrap_or_default();
    assert!(bottom.contains("Enter saves · Esc cancels"), "{bottom}");
    assert!(bottom.contains("…"), "{bottom}");
    assert!(bottom.contains("last"), "{bottom}");
}

#[test]
fn wide_screen_shows_long_phase_titles() {
    let mut list = (*checklist()).clone();
    list.phases[0].title = "Security hardening: RBAC deployment".into();
    list.phases[1].title = "Production launch: infrastructure setup".into();
    let journal = Box::new(MemoryJournal::default());
    let app = App::new(Arc::new(list), journal, ACTOR.into(), Theme::builtin_dark());
    let screen = draw(&app, 150, 40).backend().to_string();
    assert!(
        screen.contains("Security hardening: RBAC deployment "),
        "{screen}"
    );
    assert!(
        screen.contains("Production launch: infrastructure setup "),
        "{screen}"
    );
    let narrow = draw(&app, 100, 40).backend().to_string();
    assert!(
        narrow.contains("Production launch: infras… 0/3"),
        "{narrow}"
    );
}

#[test]
fn compact_phase_bar_marks_selection() {
    let mut app = app();
    app.focus = Pane::Phases;
    press(&mut app, KeyCode::Char('j'));
    let screen = draw(&app, 80, 24).backend().to_string();
    assert!(screen.contains("▸Verification 0/3"), "{screen}");
    assert!(screen.contains(" Deployment 0/3"), "{screen}");
}

#[test]
fn no_colour_theme_draws_no_colour() {
    let mut app = busy_app();
    app.theme = Theme::builtin_dark().without_colours();
    select_health(&mut app);
    let terminal = draw(&app, 120, 40);
    let coloured = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|cell| cell.fg != Color::Reset || cell.bg != Color::Reset)
        .count();
    assert_eq!(coloured, 0);
}

#[test]
fn compact_phase_bar_keeps_selection_visible() {
    let mut list = (*checklist()).clone();
    for number in 1..=8 {
        let mut phase = list.phases[2].clone();
        phase.id = format!("extra-{number}");
        phase.title = format!("Extra phase number {number}");
        for item in &mut phase.items {
            item.id = format!("{}-{number}", item.id);
            item.depends_on.clear();
        }
        list.phases.push(phase);
    }
    let journal = Box::new(MemoryJournal::default());
    let mut app = App::new(Arc::new(list), journal, ACTOR.into(), Theme::builtin_dark());
    app.focus = Pane::Phases;
    press(&mut app, KeyCode::End);
    let screen = draw(&app, 80, 24).backend().to_string();
    assert!(screen.contains("Extra phase number 8 0/2"), "{screen}");
    assert!(!screen.contains(" Deployment "), "{screen}");
}

/// Fails to compile when the cockpit's future cannot be handed to `tokio::spawn`.
#[allow(dead_code)]
fn run_future_is_send(cockpit: golive::tui::Cockpit) {
    fn assert_send<T: Send>(_: &T) {}
    let future = golive::tui::run(cockpit);
    assert_send(&future);
}

// Full-screen QA view.

/// Token the QA checklist reads from its environment; it must never reach the screen.
const QA_TOKEN: &str = "qa-token-31337";

/// Returns the text of a checklist whose first manual item carries a request that uses a secret
/// from the environment.
fn qa_checklist_text(base_url: &str) -> String {
    format!(
        r#"[checklist]
title = "AuthBridge QA"

[secrets.admin_token]
env = "AUTHBRIDGE_ADMIN_TOKEN"

[[phases]]
id = "security"
title = "Security tests"

[[phases.items]]
id = "admin-rejects-bad-token"
title = "Admin API rejects a wrong token"
severity = "critical"
owner = "qa"
steps = ["Send the request with a wrong token", "Check that no client data comes back"]
expected = "401 or 403, no client list"

[phases.items.request]
url = "{base_url}/api/v1/admin/clients"
headers = {{ Authorization = "Bearer ${{secret.admin_token}}", Accept = "application/json" }}

[phases.items.request.expect]
status = "4xx"

[[phases.items]]
id = "audit-log"
title = "Audit log shows the attempt"
owner = "qa"
steps = ["Open the audit log"]
"#
    )
}

fn qa_checklist(base_url: &str) -> Arc<Checklist> {
    let env = |name: &str| (name == "AUTHBRIDGE_ADMIN_TOKEN").then(|| QA_TOKEN.to_string());
    let loaded = golive::checklist::loader::load_str_with_env(
        std::path::Path::new("qa.toml"),
        &qa_checklist_text(base_url),
        None,
        &std::collections::BTreeMap::new(),
        &golive::checklist::loader::LoadDefaults::default(),
        &env,
    )
    .expect("QA checklist loads");
    Arc::new(loaded.checklist)
}

fn app_for(checklist: Arc<Checklist>, journal: Box<dyn Journal>) -> App {
    let mut app = App::new(checklist, journal, ACTOR.into(), Theme::builtin_dark());
    app.now = fixed("2026-02-16T05:45:55Z");
    app.time_zone = TimeZone::UTC;
    for line in &mut app.log {
        line.at = fixed("2026-02-16T05:40:00Z");
    }
    app
}

fn qa_item(app: &App) -> Option<&str> {
    app.qa.as_ref().map(|view| view.item.as_str())
}

#[test]
fn enter_opens_qa_view() {
    let mut app = app();
    assert_eq!(app.focus, Pane::Items);
    let actions = press(&mut app, KeyCode::Enter);
    assert!(actions.is_empty());
    assert_eq!(qa_item(&app), Some("deploy-api"));
}

#[test]
fn enter_in_phases_does_not_open_view() {
    let mut app = app();
    app.focus = Pane::Phases;
    press(&mut app, KeyCode::Enter);
    assert_eq!(qa_item(&app), None);
    assert_eq!(app.focus, Pane::Items);
}

#[test]
fn n_and_p_step_and_wrap() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(qa_item(&app), Some("migrate-db"));
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(qa_item(&app), Some("notify-support"));
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(qa_item(&app), Some("deploy-api"));
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(qa_item(&app), Some("notify-support"));
}

#[test]
fn esc_returns_and_selects_item() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('n'));
    let actions = press(&mut app, KeyCode::Esc);
    assert!(actions.is_empty());
    assert_eq!(qa_item(&app), None);
    assert_eq!(
        app.selected_item().map(|item| item.id.as_str()),
        Some("migrate-db")
    );
}

#[test]
fn q_in_view_does_not_quit() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    let actions = press(&mut app, KeyCode::Char('q'));
    assert!(!actions.contains(&Action::Quit));
    assert_eq!(qa_item(&app), None);
    let actions = press(&mut app, KeyCode::Char('q'));
    assert_eq!(actions, vec![Action::Quit]);
}

#[test]
fn ctrl_c_in_view_quits() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    let actions = app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(actions, vec![Action::Quit]);
}

#[test]
fn view_marks_produce_actions() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    let id = "deploy-api".to_string();
    assert_eq!(
        press(&mut app, KeyCode::Char('P')),
        vec![Action::Tick(id.clone())]
    );
    assert_eq!(
        press(&mut app, KeyCode::Char(' ')),
        vec![Action::Tick(id.clone())]
    );
    assert_eq!(
        press(&mut app, KeyCode::Char('x')),
        vec![Action::MarkFailed(id.clone())]
    );
    assert_eq!(
        press(&mut app, KeyCode::Char('F')),
        vec![Action::MarkFailed(id)]
    );
}

#[test]
fn p_on_done_item_says_already_done() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    assert!(app.record(&Action::Tick("deploy-api".into())));
    let actions = press(&mut app, KeyCode::Char('P'));
    assert!(actions.is_empty());
    assert_eq!(
        app.status_line.as_deref(),
        Some("deploy-api is already done")
    );
    let actions = press(&mut app, KeyCode::Char('F'));
    assert_eq!(actions, vec![Action::MarkFailed("deploy-api".into())]);
}

#[test]
fn view_tick_is_journaled_with_actor() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    for action in press(&mut app, KeyCode::Char('P')) {
        assert!(app.record(&action));
    }
    let last = app.journal.events().last().expect("an event was written");
    assert_eq!(last.actor, ACTOR);
    assert_eq!(
        last.kind,
        EventKind::Ticked {
            item: "deploy-api".into()
        }
    );
    assert_eq!(app.session.status("deploy-api"), Status::Done);
    assert_eq!(qa_item(&app), Some("deploy-api"));
}

#[test]
fn qa_view_a_adds_note() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('n'));
    press(&mut app, KeyCode::Char('a'));
    assert!(matches!(
        &app.input,
        Some(Input::Note { item, .. }) if item == "migrate-db"
    ));
    type_text(&mut app, "waiting for the DBA");
    let actions = press(&mut app, KeyCode::Enter);
    assert_eq!(
        actions,
        vec![Action::AddNote {
            item: "migrate-db".into(),
            text: "waiting for the DBA".into(),
        }]
    );
    assert_eq!(qa_item(&app), Some("migrate-db"));
}

#[test]
fn view_marks_on_check_explain() {
    let mut app = app();
    select_health(&mut app);
    press(&mut app, KeyCode::Enter);
    assert_eq!(qa_item(&app), Some("health"));
    let actions = press(&mut app, KeyCode::Char('P'));
    assert!(actions.is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("automated check"), "{status}");
}

#[test]
fn r_in_view_reruns_check() {
    let mut app = app();
    select_health(&mut app);
    press(&mut app, KeyCode::Enter);
    let actions = press(&mut app, KeyCode::Char('r'));
    assert_eq!(actions, vec![Action::Run("health".into())]);
}

#[test]
fn r_on_manual_without_request_explains() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    let actions = press(&mut app, KeyCode::Char('r'));
    assert!(actions.is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("has no request"), "{status}");
}

#[test]
fn r_on_manual_request_sends() {
    let checklist = qa_checklist("http://127.0.0.1:9");
    let mut app = app_for(checklist, Box::new(MemoryJournal::default()));
    press(&mut app, KeyCode::Enter);
    let actions = press(&mut app, KeyCode::Char('r'));
    assert_eq!(
        actions,
        vec![Action::SendRequest("admin-rejects-bad-token".into())]
    );
    app.requests_in_flight
        .insert("admin-rejects-bad-token".into());
    let actions = press(&mut app, KeyCode::Char('r'));
    assert!(actions.is_empty());
}

#[test]
fn c_copies_curl_without_secret() {
    let checklist = qa_checklist("http://127.0.0.1:9");
    let mut app = app_for(checklist, Box::new(MemoryJournal::default()));
    press(&mut app, KeyCode::Enter);
    let actions = press(&mut app, KeyCode::Char('c'));
    let expected = "curl 'http://127.0.0.1:9/api/v1/admin/clients' \
                    -H 'accept: application/json' \
                    -H 'authorization: Bearer '\"$AUTHBRIDGE_ADMIN_TOKEN\"";
    assert_eq!(actions, vec![Action::Copy(expected.to_string())]);
    assert_eq!(
        app.status_line,
        Some(format!("copied as curl ({} bytes)", expected.len()))
    );
}

#[test]
fn c_over_limit_does_not_copy() {
    let long_path = "a".repeat(golive::tui::curl::COPY_MAX_BYTES);
    let checklist = qa_checklist(&format!("http://127.0.0.1:9/{long_path}"));
    let mut app = app_for(checklist, Box::new(MemoryJournal::default()));
    press(&mut app, KeyCode::Enter);
    let actions = press(&mut app, KeyCode::Char('c'));
    assert!(actions.is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("not copied"), "{status}");
}

#[test]
fn question_mark_shows_view_help() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('?'));
    assert!(app.show_help);
    let screen = draw(&app, 100, 30).backend().to_string();
    assert!(
        screen.contains("next / previous item of the phase"),
        "{screen}"
    );
    press(&mut app, KeyCode::Char('n'));
    assert!(!app.show_help);
    assert_eq!(qa_item(&app), Some("deploy-api"));
}

#[test]
fn qa_view_of_manual_request() {
    let checklist = qa_checklist("http://127.0.0.1:9");
    let mut app = app_for(checklist, Box::new(MemoryJournal::default()));
    let note = Action::AddNote {
        item: "admin-rejects-bad-token".into(),
        text: "tried with an expired token too".into(),
    };
    assert!(app.record(&note));

    let evidence = Evidence {
        request: vec![
            "GET http://127.0.0.1:9/api/v1/admin/clients".into(),
            "authorization: ••••••".into(),
        ],
        status: Some(401),
        latency_ms: Some(12),
        body_excerpt: Some("{\"error\":\"invalid_token\"}".into()),
        assertions: vec![Assertion {
            subject: "status".into(),
            expected: "4xx".into(),
            actual: "401".into(),
            passed: true,
        }],
        ..Evidence::default()
    };
    let result = golive::tui::ManualRunResult {
        item_id: "admin-rejects-bad-token".into(),
        probe: golive::checks::Probe {
            outcome: Outcome::Pass,
            summary: "1 expectation met".into(),
            evidence,
        },
        started_at: fixed("2026-02-16T05:43:10Z"),
        elapsed_ms: 14,
    };
    assert!(app.apply_manual_run(result));
    app.status_line = None;

    press(&mut app, KeyCode::Enter);
    let terminal = draw(&app, 100, 36);
    let screen = terminal.backend().to_string();
    assert!(!screen.contains(QA_TOKEN), "{screen}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn qa_view_of_check_with_evidence() {
    let mut app = busy_app();
    select_health(&mut app);
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(draw(&app, 100, 40).backend());
}

#[test]
fn manual_run_lands_in_journal() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let server = golive::demo::serve("127.0.0.1:0".parse().unwrap())
            .await
            .expect("demo target starts");
        let checklist = qa_checklist(&server.base_url());
        let folder = tempfile::tempdir().expect("temporary folder");
        let journal = golive::journal::file::open(folder.path(), &checklist, true, ACTOR)
            .expect("journal opens");
        let mut app = app_for(Arc::clone(&checklist), Box::new(journal));
        let (results_tx, mut results_rx) = tokio::sync::mpsc::unbounded_channel();
        golive::tui::spawn_manual_run(&checklist, "admin-rejects-bad-token", 64 * 1024, results_tx)
            .expect("request starts");
        // Hang protection only: the demo target responds at once.
        let result = tokio::time::timeout(Duration::from_secs(30), results_rx.recv())
            .await
            .expect("result arrives before the timeout")
            .expect("channel delivers a result");
        assert_eq!(result.item_id, "admin-rejects-bad-token");
        assert_eq!(result.probe.outcome, Outcome::Pass, "{:?}", result.probe);
        let request_text = result.probe.evidence.request.join("\n");
        assert!(!request_text.contains(QA_TOKEN), "{request_text}");

        assert!(app.apply_manual_run(result));
        let last = app.journal.events().last().expect("an event was written");
        assert_eq!(last.actor, ACTOR);
        assert!(matches!(
            &last.kind,
            EventKind::ManualRun { item, outcome: Outcome::Pass, .. }
                if item == "admin-rejects-bad-token"
        ));
        let state = app
            .session
            .state("admin-rejects-bad-token")
            .expect("item state");
        let record = state.manual_run.as_ref().expect("run recorded in session");
        assert_eq!(record.outcome, Outcome::Pass);
        assert_eq!(record.actor, ACTOR);
        assert_eq!(
            app.session.status("admin-rejects-bad-token"),
            Status::Pending
        );

        let reread = golive::journal::file::read_journal(&golive::journal::file::path_for(
            folder.path(),
            &checklist,
        ))
        .expect("journal reads back");
        let kinds: Vec<&EventKind> = reread.events.iter().map(|event| &event.kind).collect();
        assert!(
            kinds
                .iter()
                .any(|kind| matches!(kind, EventKind::ManualRun { .. })),
            "{kinds:?}"
        );
        server.shutdown().await.expect("demo target stops");
    });
}

#[test]
fn cockpit_r_on_request_points_to_view() {
    let checklist = qa_checklist("http://127.0.0.1:9");
    let mut app = app_for(checklist, Box::new(MemoryJournal::default()));
    let actions = press(&mut app, KeyCode::Char('r'));
    assert!(actions.is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("press Enter, then r"), "{status}");
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(
        screen.contains("request: GET http://127.0.0.1:9/api/v1/admin/clients"),
        "{screen}"
    );
}

// Waivers, sign-offs and drift.

const GRACE: &str = "Grace Hopper <grace@example.com>";

fn launch_policy() -> LaunchPolicy {
    LaunchPolicy {
        signoffs: vec![
            SignOffSpec {
                id: "qa-approval".into(),
                title: "QA approves the release".into(),
                role: "qa".into(),
                after: vec!["verify".into()],
            },
            SignOffSpec {
                id: "go-call".into(),
                title: "Lead calls GO".into(),
                role: "lead".into(),
                after: Vec::new(),
            },
        ],
        waivers: Vec::new(),
    }
}

fn launch_app() -> App {
    let mut app = App::with_policy(
        checklist(),
        launch_policy(),
        Box::new(MemoryJournal::default()),
        ACTOR.into(),
        Theme::builtin_dark(),
    );
    app.set_now(fixed("2026-02-16T05:45:55Z"));
    app.time_zone = TimeZone::UTC;
    for line in &mut app.log {
        line.at = fixed("2026-02-16T05:40:00Z");
    }
    app
}

/// Fails the health check and selects it.
fn failing_health_app() -> App {
    let mut app = launch_app();
    assert!(app.record(&Action::Tick("deploy-api".into())));
    app.apply_engine_event(EngineEvent::Finished(failed_health(
        "2026-02-16T05:42:30Z",
        130,
    )));
    select_health(&mut app);
    app
}

/// Fills the waiver form of the selected item, approved by `approver`, and submits it.
fn submit_waiver(app: &mut App, approver: &str, expires: &str) -> Vec<Action> {
    assert!(press(app, KeyCode::Char('w')).is_empty());
    assert!(matches!(app.input, Some(Input::Waiver(_))));
    type_text(app, "upstream flake, fix tomorrow");
    press(app, KeyCode::Enter);
    press(app, KeyCode::Enter);
    type_text(app, "on-call watches the error rate");
    press(app, KeyCode::Enter);
    for _ in 0..40 {
        press(app, KeyCode::Backspace);
    }
    type_text(app, expires);
    press(app, KeyCode::Enter);
    type_text(app, approver);
    press(app, KeyCode::Enter)
}

#[test]
fn w_waives_failed_check() {
    let mut app = failing_health_app();

    let actions = submit_waiver(&mut app, GRACE, "2026-02-17T06:00:00+01:00");

    assert_eq!(actions.len(), 1);
    let Action::Waive(request) = &actions[0] else {
        panic!("expected a waive action, got {actions:?}");
    };
    assert_eq!(request.item, "health");
    assert_eq!(request.risk, Risk::Medium);
    assert_eq!(request.approved_by, GRACE);
    assert_eq!(request.expires, fixed("2026-02-17T05:00:00Z"));
    assert!(app.input.is_none());
    assert!(app.record(&actions[0]));
    assert_eq!(app.session.status("health"), Status::Waived);
    let last = app.journal.events().last().unwrap();
    assert_eq!(last.actor, ACTOR);
    assert!(matches!(&last.kind, EventKind::Waived { item, .. } if item == "health"));
}

#[test]
fn w_self_approval_rejected_with_message() {
    let mut app = failing_health_app();

    let actions = submit_waiver(
        &mut app,
        "ada LOVELACE <ADA@example.com>",
        "2026-02-17T06:00:00Z",
    );

    assert!(actions.is_empty());
    let Some(Input::Waiver(form)) = &app.input else {
        panic!("the form closed");
    };
    let error = form.error.as_deref().unwrap_or_default();
    assert!(error.contains("approver must be another person"), "{error}");
    assert_eq!(app.session.status("health"), Status::Fail);
}

#[test]
fn w_rejects_expiry_without_offset() {
    let mut app = failing_health_app();

    let actions = submit_waiver(&mut app, GRACE, "2026-02-17T06:00:00");

    assert!(actions.is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("UTC offset"), "{status}");
}

#[test]
fn w_esc_cancels_form() {
    let mut app = failing_health_app();
    press(&mut app, KeyCode::Char('w'));

    let actions = press(&mut app, KeyCode::Esc);

    assert!(actions.is_empty());
    assert!(app.input.is_none());
    assert_eq!(app.status_line.as_deref(), Some("waiver cancelled"));
}

#[test]
fn w_on_done_item_explains() {
    let mut app = launch_app();
    assert!(app.record(&Action::Tick("deploy-api".into())));

    press(&mut app, KeyCode::Char('w'));

    assert!(app.input.is_none());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(
        status.contains("only failed or unfinished items"),
        "{status}"
    );
}

#[test]
fn capital_w_revokes_waiver() {
    let mut app = failing_health_app();
    let actions = submit_waiver(&mut app, GRACE, "2026-02-17T06:00:00Z");
    assert!(app.record(&actions[0]));

    let actions = press(&mut app, KeyCode::Char('W'));

    assert_eq!(actions, vec![Action::RevokeWaiver("health".into())]);
    assert!(app.record(&actions[0]));
    assert_eq!(app.session.status("health"), Status::Fail);
    assert_eq!(
        app.journal.events().last().unwrap().kind,
        EventKind::WaiverRevoked {
            item: "health".into()
        }
    );
}

#[test]
fn capital_w_without_waiver_explains() {
    let mut app = failing_health_app();

    let actions = press(&mut app, KeyCode::Char('W'));

    assert!(actions.is_empty());
    assert_eq!(
        app.status_line.as_deref(),
        Some("`health` has no waiver to revoke")
    );
}

#[test]
fn waiver_expiry_journaled_once_on_tick() {
    let mut app = failing_health_app();
    let actions = submit_waiver(&mut app, GRACE, "2026-02-16T06:00:00Z");
    assert!(app.record(&actions[0]));
    let before = app.journal.events().len();

    app.set_now(fixed("2026-02-16T06:00:01Z"));
    app.set_now(fixed("2026-02-16T06:00:02Z"));

    let expired: Vec<&Event> = app
        .journal
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::WaiverExpired { .. }))
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].actor, "golive");
    assert_eq!(app.journal.events().len(), before + 1);
    assert_eq!(app.session.status("health"), Status::Fail);
}

#[test]
fn s_signs_chosen_signoff() {
    let mut app = launch_app();
    assert!(app.record(&Action::Tick("deploy-api".into())));
    let head = app.journal.head().to_string();

    assert!(press(&mut app, KeyCode::Char('s')).is_empty());
    assert!(matches!(app.input, Some(Input::SignOff(_))));
    press(&mut app, KeyCode::Down);
    type_text(&mut app, "Lead");
    let actions = press(&mut app, KeyCode::Enter);

    assert_eq!(
        actions,
        vec![Action::SignOff {
            signoff: "go-call".into(),
            role: "Lead".into(),
        }]
    );
    assert!(app.record(&actions[0]));
    let last = app.journal.events().last().unwrap();
    let EventKind::SignedOff {
        signoff,
        role,
        state,
    } = &last.kind
    else {
        panic!("expected a sign-off, got {:?}", last.kind);
    };
    assert_eq!(signoff, "go-call");
    assert_eq!(role, "lead");
    assert_eq!(state.journal_head, head);
    assert_eq!(state.verdict, "no-go");
    assert_eq!(state.counts.done, 1);
    assert_eq!(app.session.pending_signoffs().len(), 1);
}

#[test]
fn s_wrong_role_keeps_popup_open() {
    let mut app = launch_app();
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Down);
    type_text(&mut app, "qa");

    let actions = press(&mut app, KeyCode::Enter);

    assert!(actions.is_empty());
    let Some(Input::SignOff(form)) = &app.input else {
        panic!("the popup closed");
    };
    let error = form.error.as_deref().unwrap_or_default();
    assert!(error.contains("needs the role `lead`"), "{error}");
}

#[test]
fn s_before_phase_complete_explains() {
    let mut app = launch_app();
    press(&mut app, KeyCode::Char('s'));
    type_text(&mut app, "qa");

    let actions = press(&mut app, KeyCode::Enter);

    assert!(actions.is_empty());
    let status = app.status_line.clone().unwrap_or_default();
    assert!(status.contains("phase verify is complete"), "{status}");
}

#[test]
fn s_without_required_signoffs_explains() {
    let mut app = app();

    press(&mut app, KeyCode::Char('s'));

    assert!(app.input.is_none());
    assert_eq!(
        app.status_line.as_deref(),
        Some("the checklist requires no sign-offs")
    );
}

/// Waives the failing health check, passes login, signs the GO call, then fails login.
fn drifted_app() -> App {
    let mut app = failing_health_app();
    let actions = submit_waiver(&mut app, GRACE, "2026-02-17T06:00:00Z");
    assert!(app.record(&actions[0]));
    app.apply_engine_event(EngineEvent::Finished(passed(
        "login",
        "2026-02-16T05:43:00Z",
        40,
    )));
    let sign = Action::SignOff {
        signoff: "go-call".into(),
        role: "lead".into(),
    };
    assert!(app.record(&sign));
    let mut failed_login = failed_health("2026-02-16T05:44:00Z", 70);
    failed_login.item_id = "login".into();
    app.apply_engine_event(EngineEvent::Finished(failed_login));
    app.status_line = None;
    app
}

#[test]
fn drift_after_signoff_journaled_once() {
    let mut app = drifted_app();
    let mut failed_again = failed_health("2026-02-16T05:45:00Z", 75);
    failed_again.item_id = "login".into();
    app.apply_engine_event(EngineEvent::Finished(failed_again));
    app.set_now(fixed("2026-02-16T05:46:00Z"));

    let drift: Vec<&EventKind> = app
        .journal
        .events()
        .iter()
        .map(|event| &event.kind)
        .filter(|kind| matches!(kind, EventKind::Drift { .. }))
        .collect();
    assert_eq!(
        drift,
        vec![&EventKind::Drift {
            item: "login".into(),
            from: Status::Pass,
            to: Status::Fail,
            signoff: "go-call".into(),
        }]
    );
}

#[test]
fn header_shows_drift_banner_and_missing_signoff() {
    let app = drifted_app();

    let screen = format!("{:?}", draw(&app, 120, 40).backend());

    assert!(
        screen.contains("DRIFT since sign-off: login pass → fail"),
        "{screen}"
    );
    assert!(screen.contains("1 sign-off missing"), "{screen}");
    assert!(screen.contains("≈ 1 waived"), "{screen}");
}

#[test]
fn waived_item_and_drift_banner() {
    let app = drifted_app();
    insta::assert_snapshot!(draw(&app, 120, 40).backend());
}

#[test]
fn waiver_form_popup() {
    let mut app = failing_health_app();
    press(&mut app, KeyCode::Char('w'));
    type_text(&mut app, "upstream flake");
    insta::assert_snapshot!(draw(&app, 100, 32).backend());
}

#[test]
fn signoff_popup() {
    let mut app = launch_app();
    press(&mut app, KeyCode::Char('s'));
    type_text(&mut app, "lead");
    insta::assert_snapshot!(draw(&app, 100, 32).backend());
}

#[test]
fn w_in_qa_view_waives_shown_item() {
    let mut app = failing_health_app();
    press(&mut app, KeyCode::Enter);
    assert!(app.qa.is_some());

    let actions = submit_waiver(&mut app, GRACE, "2026-02-17T06:00:00Z");

    assert_eq!(actions.len(), 1);
    assert!(matches!(&actions[0], Action::Waive(request) if request.item == "health"));
    assert!(app.qa.is_some());
}

// Evidence tables and small cockpit fixes.

/// Builds an `rbac` item with three roles and three actions, in place of the login check.
fn rbac_item() -> Item {
    let settings: toml::Table = toml::from_str(
        r#"
expect_others = 403
[roles]
admin = "admin-token"
reviewer = "reviewer-token"
viewer = "viewer-token"
[[actions]]
name = "list"
url = "http://127.0.0.1:9/cases"
expect = { admin = 200, reviewer = 200, viewer = 200 }
[[actions]]
name = "approve"
method = "POST"
url = "http://127.0.0.1:9/cases/1/approve"
expect = { admin = 200 }
[[actions]]
name = "delete"
method = "DELETE"
url = "http://127.0.0.1:9/cases/1"
expect = { admin = 204 }
"#,
    )
    .unwrap();
    Item {
        id: "rbac".into(),
        title: "Roles reach only their actions".into(),
        description: None,
        severity: Severity::Critical,
        required: true,
        owner: Some("qa".into()),
        depends_on: Vec::new(),
        body: ItemBody::Check(CheckDef {
            spec: parse_spec("rbac", settings).unwrap(),
            timeout: Duration::from_secs(5),
            retries: 0,
            interval: None,
            unavailable: Vec::new(),
        }),
    }
}

fn rbac_cell(expected: u16, got: u16) -> EvidenceCell {
    EvidenceCell {
        text: format!("expected {expected} / got {got}"),
        passed: Some(expected == got),
    }
}

/// Returns an rbac result where the viewer could delete: one failed cell of nine.
fn failed_rbac() -> CheckResult {
    let row = |label: &str, cells: [(u16, u16); 3]| EvidenceRow {
        label: label.into(),
        cells: cells
            .iter()
            .map(|(expected, got)| rbac_cell(*expected, *got))
            .collect(),
    };
    let table = EvidenceTable {
        title: "roles × actions".into(),
        columns: vec![
            "GET list".into(),
            "POST approve".into(),
            "DELETE delete".into(),
        ],
        rows: vec![
            row("admin", [(200, 200), (200, 200), (204, 204)]),
            row("reviewer", [(200, 200), (403, 403), (403, 403)]),
            row("viewer", [(200, 200), (403, 403), (403, 200)]),
        ],
    };
    CheckResult {
        item_id: "rbac".into(),
        outcome: Outcome::Fail,
        summary: "viewer DELETE delete: expected 403, got 200".into(),
        evidence: Evidence {
            tables: vec![table],
            assertions: vec![Assertion {
                subject: "viewer DELETE delete".into(),
                expected: "403".into(),
                actual: "200".into(),
                passed: false,
            }],
            ..Evidence::default()
        },
        started_at: fixed("2026-02-16T05:42:30Z"),
        elapsed_ms: 48,
        attempts: 1,
    }
}

/// Builds an app whose verification phase has the rbac check in place of login, with its
/// failed result, and selects it.
fn rbac_app() -> App {
    let mut list = (*checklist()).clone();
    list.phases[1].items[1] = rbac_item();
    let mut app = app_for(Arc::new(list), Box::new(MemoryJournal::default()));
    app.apply_engine_event(EngineEvent::Finished(failed_rbac()));
    select_health(&mut app);
    press(&mut app, KeyCode::Char('j'));
    app.status_line = None;
    app
}

#[test]
fn rbac_table_in_detail_120() {
    let app = rbac_app();
    insta::assert_snapshot!(draw(&app, 120, 50).backend());
}

#[test]
fn rbac_table_in_detail_80() {
    let app = rbac_app();
    insta::assert_snapshot!(draw(&app, 80, 50).backend());
}

#[test]
fn rbac_table_marks_failed_cell() {
    let app = rbac_app();
    let screen = draw(&app, 120, 50).backend().to_string();
    assert!(screen.contains("roles × actions"), "{screen}");
    assert!(screen.contains("DELETE delete"), "{screen}");
    assert!(screen.contains("✘ expected 403 / got 200"), "{screen}");
    assert!(screen.contains("✔ expected 204 / got 204"), "{screen}");
}

#[test]
fn narrow_table_keeps_failed_cell_whole() {
    let app = rbac_app();
    let screen = draw(&app, 80, 50).backend().to_string();
    assert!(screen.contains("✘ expected 403 / got 200"), "{screen}");
}

#[test]
fn rbac_table_in_qa_view() {
    let mut app = rbac_app();
    press(&mut app, KeyCode::Enter);
    assert_eq!(qa_item(&app), Some("rbac"));
    let screen = draw(&app, 100, 60).backend().to_string();
    assert!(screen.contains("roles × actions"), "{screen}");
    assert!(screen.contains("✘ expected 403 / got 200"), "{screen}");
}

#[test]
fn table_text_is_sanitised() {
    let mut app = rbac_app();
    let mut result = failed_rbac();
    result.evidence.tables[0].rows[0].label = "ad\x1b[2Jmin".into();
    result.evidence.tables[0].columns[0] = "GET\x07 list".into();
    result.started_at = fixed("2026-02-16T05:43:30Z");
    app.apply_engine_event(EngineEvent::Finished(result));
    let screen = draw(&app, 120, 50).backend().to_string();
    assert!(!screen.contains('\x1b'), "{screen}");
    assert!(!screen.contains('\x07'), "{screen}");
    assert!(screen.contains("ad\\u{1b}[2Jmin"), "{screen}");
}

#[test]
fn long_table_counts_hidden_rows() {
    let mut app = rbac_app();
    let mut result = failed_rbac();
    let template = result.evidence.tables[0].rows[0].clone();
    result.evidence.tables[0].rows = (0..60)
        .map(|index| EvidenceRow {
            label: format!("role-{index}"),
            ..template.clone()
        })
        .collect();
    result.started_at = fixed("2026-02-16T05:43:30Z");
    app.apply_engine_event(EngineEvent::Finished(result));
    app.focus = Pane::Detail;
    press(&mut app, KeyCode::End);
    let screen = draw(&app, 120, 50).backend().to_string();
    assert!(screen.contains("… 10 more rows"), "{screen}");
}

#[test]
fn waiver_rejection_shows_whole_message() {
    let mut app = failing_health_app();
    // The requester cannot approve their own waiver.
    let actions = submit_waiver(&mut app, ACTOR, "2026-02-17T06:00:00Z");
    assert!(actions.is_empty());
    let Some(Input::Waiver(form)) = &app.input else {
        panic!("the waiver form closed");
    };
    let error = form.error.clone().expect("the form shows the rejection");
    let screen = draw(&app, 120, 40).backend().to_string();
    let last_word = error.split_whitespace().last().unwrap_or_default();
    let flat: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(last_word), "{error}\n{screen}");
    assert!(
        error.len() > 70,
        "the message is long enough to wrap: {error}"
    );
}

#[test]
fn long_error_line_wraps() {
    let mut app = busy_app();
    let message = format!(
        "journal write failed: {} end-of-message",
        "disk ".repeat(30)
    );
    app.error_line = Some(message);
    let screen = draw(&app, 100, 32).backend().to_string();
    assert!(screen.contains("end-of-message"), "{screen}");
}

#[test]
fn qa_view_shows_drift_banner() {
    let mut app = drifted_app();
    press(&mut app, KeyCode::Enter);
    assert!(app.qa.is_some());
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(
        screen.contains("DRIFT since sign-off: login pass → fail"),
        "{screen}"
    );
}

#[test]
fn phase_progress_counts_waived() {
    let mut app = failing_health_app();
    let actions = submit_waiver(&mut app, GRACE, "2026-02-17T06:00:00Z");
    assert!(app.record(&actions[0]));
    let screen = draw(&app, 120, 40).backend().to_string();
    assert!(screen.contains("1/3 (1 waived)"), "{screen}");
}

#[test]
fn manual_result_replaces_sending_line() {
    let mut app = app_for(
        qa_checklist("http://127.0.0.1:9"),
        Box::new(MemoryJournal::default()),
    );
    press(&mut app, KeyCode::Enter);
    let actions = press(&mut app, KeyCode::Char('r'));
    assert!(matches!(&actions[..], [Action::SendRequest(_)]));
    let result = golive::tui::ManualRunResult {
        item_id: "admin-rejects-bad-token".into(),
        probe: golive::checks::Probe {
            outcome: Outcome::Fail,
            summary: "status: expected 4xx, got 200".into(),
            evidence: Evidence::default(),
        },
        started_at: fixed("2026-02-16T05:43:10Z"),
        elapsed_ms: 14,
    };
    assert!(app.apply_manual_run(result));
    let status = app.status_line.clone().unwrap_or_default();
    assert!(!status.contains("sending"), "{status}");
    assert!(status.contains("status: expected 4xx, got 200"), "{status}");
}

#[test]
fn copy_of_rbac_names_requests_per_role() {
    let mut app = rbac_app();
    press(&mut app, KeyCode::Enter);
    let actions = press(&mut app, KeyCode::Char('c'));
    assert!(actions.is_empty());
    assert_eq!(
        app.status_line.as_deref(),
        Some(
            "cannot copy as curl: a `rbac` check sends one request per role and action; \
             copy is for single requests"
        )
    );
}

#[test]
fn copy_of_headers_check_copies_request() {
    let mut list = (*checklist()).clone();
    let mut settings = toml::Table::new();
    settings.insert("url".into(), "http://127.0.0.1:9/headers".into());
    if let ItemBody::Check(check) = &mut list.phases[1].items[1].body {
        check.spec = parse_spec("headers", settings).unwrap();
    }
    let mut app = app_for(Arc::new(list), Box::new(MemoryJournal::default()));
    select_health(&mut app);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(qa_item(&app), Some("login"));
    let actions = press(&mut app, KeyCode::Char('c'));
    let [Action::Copy(command)] = &actions[..] else {
        panic!("expected a copy action, got {actions:?}");
    };
    assert!(command.starts_with("curl"), "{command}");
    assert!(command.contains("http://127.0.0.1:9/headers"), "{command}");
}

/// Builds a checklist with one `cloudwatch_metric` item.
fn metric_checklist() -> Arc<Checklist> {
    let text = r#"[checklist]
title = "AuthBridge monitoring"

[[phases]]
id = "monitoring"
title = "Monitoring"

[[phases.items]]
id = "api-5xx-15m"
title = "No API Gateway 5xx errors in 15 minutes"
severity = "high"
owner = "architect"
check = { kind = "cloudwatch_metric", region = "af-south-1", namespace = "AWS/ApiGateway", metric = "5XXError", dimensions = { ApiName = "authbridge" }, statistic = "Sum", window = "15m", expect = { max = 0 } }
"#;
    let loaded = golive::checklist::loader::load_str_with_env(
        std::path::Path::new("metric.toml"),
        text,
        None,
        &std::collections::BTreeMap::new(),
        &golive::checklist::loader::LoadDefaults::default(),
        &|_: &str| None,
    )
    .expect("metric checklist loads");
    Arc::new(loaded.checklist)
}

#[test]
fn detail_of_metric_check_draws_series() {
    let mut app = app_for(metric_checklist(), Box::new(MemoryJournal::default()));
    let points = vec![
        None,
        Some(0.0),
        Some(0.0),
        Some(1.0),
        None,
        Some(4.0),
        Some(2.0),
        Some(0.0),
        None,
        None,
        Some(3.0),
        Some(8.0),
        Some(5.0),
        Some(1.0),
        Some(0.0),
    ];
    let evidence = Evidence {
        request: vec![
            "CloudWatch GetMetricData in af-south-1".into(),
            "metric AWS/ApiGateway 5XXError (ApiName=authbridge)".into(),
        ],
        assertions: vec![Assertion {
            subject: "5XXError Sum over 15m".into(),
            expected: "at most 0".into(),
            actual: "24".into(),
            passed: false,
        }],
        notes: vec!["11 of 15 periods have datapoints".into()],
        series: Some(EvidenceSeries {
            label: "5XXError Sum per 1m".into(),
            points,
            unit: Some("Count".into()),
        }),
        ..Evidence::default()
    };
    app.apply_engine_event(EngineEvent::Finished(CheckResult {
        item_id: "api-5xx-15m".into(),
        outcome: Outcome::Fail,
        summary: "5XXError Sum over 15m: expected at most 0, got 24".into(),
        evidence,
        started_at: fixed("2026-02-16T05:44:00Z"),
        elapsed_ms: 180,
        attempts: 1,
    }));
    app.status_line = None;
    insta::assert_snapshot!(draw(&app, 120, 40).backend());
}

// Text fields.

fn control(app: &mut App, ch: char) -> Vec<Action> {
    app.handle_key(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::CONTROL))
}

#[test]
fn waiver_field_control_u_clears() {
    let mut app = failing_health_app();
    press(&mut app, KeyCode::Char('w'));
    // Reason, risk and control lead to the proposed expiry.
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    type_text(&mut app, "abc");
    control(&mut app, 'u');
    let Some(Input::Waiver(form)) = &app.input else {
        panic!("the waiver form closed");
    };
    assert_eq!(form.fields[3].text(), "");
}

#[test]
fn waiver_field_ignores_control_letters() {
    let mut app = failing_health_app();
    press(&mut app, KeyCode::Char('w'));
    type_text(&mut app, "flaky upstream");
    control(&mut app, 'a');
    app.handle_key(KeyEvent::new(KeyCode::Char('b'), KeyModifiers::ALT));
    control(&mut app, 'w');
    press(&mut app, KeyCode::Left);
    type_text(&mut app, "y");
    let Some(Input::Waiver(form)) = &app.input else {
        panic!("the waiver form closed");
    };
    assert_eq!(form.fields[0].text(), "flakyy ");
    assert_eq!(form.fields[0].cursor(), 6);
}

#[test]
fn waiver_form_draws_cursor_in_field() {
    let mut app = failing_health_app();
    press(&mut app, KeyCode::Char('w'));
    type_text(&mut app, "abcd");
    press(&mut app, KeyCode::Left);
    press(&mut app, KeyCode::Left);
    let mut terminal = draw(&app, 120, 40);
    let screen = terminal.backend().to_string();
    let position = terminal.get_cursor_position().unwrap();
    let row: String = screen
        .lines()
        .nth(usize::from(position.y))
        .unwrap()
        .trim_matches('"')
        .chars()
        .skip(usize::from(position.x))
        .take(2)
        .collect();
    assert_eq!(row, "cd", "{screen}");
}

#[test]
fn note_control_w_deletes_word() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "rolled back");
    control(&mut app, 'w');
    control(&mut app, 'e');
    let Some(Input::Note { text, .. }) = &app.input else {
        panic!("the note input closed");
    };
    assert_eq!(text.text(), "rolled ");
}

#[test]
fn filter_edits_at_cursor() {
    let mut app = app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "mgrate");
    press(&mut app, KeyCode::Home);
    press(&mut app, KeyCode::Right);
    type_text(&mut app, "i");
    control(&mut app, 'a');
    assert_eq!(app.filter, "migrate");
    let mut terminal = draw(&app, 120, 40);
    let position = terminal.get_cursor_position().unwrap();
    // The prompt " /" takes two columns and the cursor sits after "mi".
    assert_eq!((position.x, position.y), (4, 39));
    control(&mut app, 'u');
    assert_eq!(app.filter, "");
}

#[test]
fn signoff_role_ignores_control_letters() {
    let mut app = launch_app();
    press(&mut app, KeyCode::Char('s'));
    type_text(&mut app, "qa");
    control(&mut app, 'a');
    press(&mut app, KeyCode::Left);
    type_text(&mut app, "x");
    let Some(Input::SignOff(form)) = &app.input else {
        panic!("the sign-off popup closed");
    };
    assert_eq!(form.role.text(), "qxa");
    let mut terminal = draw(&app, 120, 40);
    let screen = terminal.backend().to_string();
    let position = terminal.get_cursor_position().unwrap();
    let row = screen.lines().nth(usize::from(position.y)).unwrap();
    assert!(row.contains("your role: qxa"), "{screen}");
}

// Detail pane hints.

#[test]
fn enter_in_detail_opens_qa_view() {
    let mut app = app_for(
        qa_checklist("http://127.0.0.1:9"),
        Box::new(MemoryJournal::default()),
    );
    app.focus = Pane::Detail;
    press(&mut app, KeyCode::Enter);
    assert_eq!(qa_item(&app), Some("admin-rejects-bad-token"));
}

#[test]
fn qa_view_hint_only_where_enter_opens_it() {
    let mut app = app_for(
        qa_checklist("http://127.0.0.1:9"),
        Box::new(MemoryJournal::default()),
    );
    let hint = "Enter opens the QA view";
    for (pane, shown) in [
        (Pane::Items, true),
        (Pane::Detail, true),
        (Pane::Phases, false),
        (Pane::Blockers, false),
        (Pane::Log, false),
    ] {
        app.focus = pane;
        let screen = draw(&app, 120, 40).backend().to_string();
        assert_eq!(screen.contains(hint), shown, "{pane:?}:\n{screen}");
    }
}

#[test]
fn overflow_hint_in_focused_detail() {
    let mut app = app();
    let screen = draw(&app, 80, 24).backend().to_string();
    assert!(screen.contains("(Tab to Detail, j)"), "{screen}");
    app.focus = Pane::Detail;
    let screen = draw(&app, 80, 24).backend().to_string();
    assert!(screen.contains(" more row"), "{screen}");
    assert!(screen.contains("(j scrolls)"), "{screen}");
    assert!(!screen.contains("Tab to Detail"), "{screen}");
}

// Evidence tables in the QA view.

const AUTH_URL: &str = "http://127.0.0.1:32931/insecure/auth/clients/acme/profile";
const LEAK_CELL: &str = "✘ 500, leaks Node.js stack trace, internal path";

/// Returns a failed result with an auth-case table whose last row has a long failed cell.
fn failed_auth_cases() -> CheckResult {
    let row = |label: &str, method: &str, expected: &str, got: &str, passed: bool| EvidenceRow {
        label: label.into(),
        cells: vec![
            EvidenceCell {
                text: format!("{method} {AUTH_URL}"),
                passed: None,
            },
            EvidenceCell {
                text: expected.into(),
                passed: None,
            },
            EvidenceCell {
                text: got.into(),
                passed: Some(passed),
            },
        ],
    };
    let table = EvidenceTable {
        title: "auth cases".into(),
        columns: vec!["request".into(), "expected".into(), "got".into()],
        rows: vec![
            row(
                "valid credentials",
                "GET",
                "2xx, no error leak",
                "200",
                true,
            ),
            row(
                "cross-tenant resource",
                "GET",
                "403, no error leak",
                "200",
                false,
            ),
            row(
                "forced error",
                "POST",
                "any status, no error leak",
                "500, leaks Node.js stack trace, internal path",
                false,
            ),
        ],
    };
    CheckResult {
        evidence: Evidence {
            tables: vec![table],
            ..Evidence::default()
        },
        summary: "invalid API key: expected 401, got 200".into(),
        ..failed_rbac()
    }
}

#[test]
fn qa_table_request_column_takes_free_width() {
    let mut app = rbac_app();
    app.apply_engine_event(EngineEvent::Finished(failed_auth_cases()));
    press(&mut app, KeyCode::Enter);
    assert!(app.qa.is_some());
    let screen = draw(&app, 160, 50).backend().to_string();
    assert!(
        screen.contains(&format!("POST {AUTH_URL}")),
        "the request column is cut:\n{screen}"
    );
    // The long failed cell wraps in the last column instead of losing text.
    let flat: String = screen
        .lines()
        .map(|line| line.trim_matches(|ch| ch == '"' || ch == '│' || ch == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(LEAK_CELL), "{screen}");
}
