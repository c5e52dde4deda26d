//! Session state: replay of journal events, check results, dependency blocking, the verdict and
//! the counts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use golive::checklist::{CheckDef, Checklist, Item, ItemBody, ManualSteps, Phase, Severity};
use golive::checks::{self, CheckResult, Evidence, Outcome};
use golive::journal::{Event, EventKind, GENESIS_HASH};
use golive::redact::Redactor;
use golive::session::{ActionError, Blocker, Counts, HISTORY_LEN, Session, Status};

fn manual(id: &str, depends_on: &[&str]) -> Item {
    Item {
        id: id.into(),
        title: format!("Manual step {id}"),
        description: None,
        severity: Severity::High,
        required: true,
        owner: None,
        depends_on: depends_on
            .iter()
            .map(|dependency| dependency.to_string())
            .collect(),
        body: ItemBody::Manual(ManualSteps::default()),
    }
}

fn check(id: &str, depends_on: &[&str]) -> Item {
    let settings: toml::Table = toml::from_str(r#"url = "http://127.0.0.1:9/health""#).unwrap();
    let spec = checks::parse_spec("http", settings).unwrap();
    Item {
        id: id.into(),
        title: format!("Check {id}"),
        description: None,
        severity: Severity::Critical,
        required: true,
        owner: None,
        depends_on: depends_on
            .iter()
            .map(|dependency| dependency.to_string())
            .collect(),
        body: ItemBody::Check(CheckDef {
            spec,
            timeout: Duration::from_secs(5),
            retries: 0,
            interval: None,
            unavailable: Vec::new(),
        }),
    }
}

fn optional(mut item: Item) -> Item {
    item.required = false;
    item
}

fn checklist(phases: Vec<Vec<Item>>) -> Arc<Checklist> {
    let phases = phases
        .into_iter()
        .enumerate()
        .map(|(index, items)| Phase {
            id: format!("phase-{index}"),
            title: format!("Phase {index}"),
            items,
        })
        .collect();
    Arc::new(Checklist {
        title: "AuthBridge launch".into(),
        version: None,
        launch_at: None,
        path: PathBuf::from("authbridge-launch.toml"),
        digest: "digest".into(),
        environment: "staging".into(),
        environments: vec!["staging".into()],
        phases,
        redactor: Arc::new(Redactor::new()),
        secret_refs: Vec::new(),
    })
}

fn event(seq: u64, actor: &str, kind: EventKind) -> Event {
    Event::chained(GENESIS_HASH, seq, jiff::Timestamp::UNIX_EPOCH, actor, kind)
}

fn result(item: &str, outcome: Outcome, summary: &str) -> CheckResult {
    CheckResult {
        item_id: item.into(),
        outcome,
        summary: summary.into(),
        evidence: Evidence {
            latency_ms: Some(12),
            ..Evidence::default()
        },
        started_at: jiff::Timestamp::UNIX_EPOCH,
        elapsed_ms: 12,
        attempts: 1,
    }
}

fn outcome_event(item: &str, outcome: Outcome, summary: &str) -> EventKind {
    EventKind::CheckOutcome {
        item: item.into(),
        outcome,
        summary: summary.into(),
        files: Vec::new(),
    }
}

#[test]
fn replay_tick_and_untick() {
    let mut session = Session::new(checklist(vec![vec![manual("db", &[])]]));

    session.apply_event(&event(1, "Ana", EventKind::Ticked { item: "db".into() }));

    assert_eq!(session.status("db"), Status::Done);
    let mark = session.state("db").unwrap().mark.as_ref().unwrap();
    assert!(mark.done);
    assert_eq!(mark.actor, "Ana");

    session.apply_event(&event(2, "Bo", EventKind::Unticked { item: "db".into() }));

    assert_eq!(session.status("db"), Status::Pending);
    assert!(session.state("db").unwrap().mark.is_none());
}

#[test]
fn replay_marked_failed() {
    let mut session = Session::new(checklist(vec![vec![manual("db", &[])]]));

    session.apply_event(&event(
        1,
        "Ana",
        EventKind::MarkedFailed { item: "db".into() },
    ));

    assert_eq!(session.status("db"), Status::Failed);
    let mark = session.state("db").unwrap().mark.as_ref().unwrap();
    assert!(!mark.done);
}

#[test]
fn replay_notes_in_order() {
    let mut session = Session::new(checklist(vec![vec![manual("db", &[])]]));

    session.apply_event(&event(
        1,
        "Ana",
        EventKind::Note {
            item: "db".into(),
            text: "a".into(),
        },
    ));
    session.apply_event(&event(
        2,
        "Bo",
        EventKind::Note {
            item: "db".into(),
            text: "b".into(),
        },
    ));

    let notes = &session.state("db").unwrap().notes;
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].text, "a");
    assert_eq!(notes[0].actor, "Ana");
    assert_eq!(notes[1].text, "b");
    assert_eq!(notes[1].actor, "Bo");
}

#[test]
fn replay_check_outcome_sets_status() {
    let mut session = Session::new(checklist(vec![vec![check("health", &[])]]));

    session.apply_event(&event(
        1,
        "golive",
        outcome_event("health", Outcome::Fail, "503"),
    ));

    assert_eq!(session.status("health"), Status::Fail);
    let recorded = session.state("health").unwrap().recorded.as_ref().unwrap();
    assert_eq!(recorded.outcome, Outcome::Fail);
    assert_eq!(recorded.summary, "503");
    assert!(session.state("health").unwrap().result.is_none());
}

#[test]
fn replay_ignores_unknown_items() {
    let mut session = Session::new(checklist(vec![vec![manual("db", &[])]]));
    let before = session.counts();

    session.apply_event(&event(
        1,
        "Ana",
        EventKind::Ticked {
            item: "gone".into(),
        },
    ));
    session.apply_event(&event(
        2,
        "golive",
        outcome_event("gone", Outcome::Pass, "ok"),
    ));
    session.apply_event(&event(
        3,
        "Ana",
        EventKind::SessionStarted {
            checklist: "authbridge-launch.toml".into(),
            digest: "digest".into(),
            environment: "staging".into(),
            version: "0.1.0".into(),
        },
    ));

    assert_eq!(session.counts(), before);
    assert!(session.state("gone").is_none());
    assert_eq!(session.status("gone"), Status::Pending);
}

#[test]
fn first_result_returns_event() {
    let mut session = Session::new(checklist(vec![vec![check("health", &[])]]));

    let event = session.apply_result(result("health", Outcome::Pass, "1 expectations met"));

    assert_eq!(
        event,
        Some(outcome_event("health", Outcome::Pass, "1 expectations met"))
    );
    assert_eq!(session.status("health"), Status::Pass);
}

#[test]
fn repeated_result_returns_no_event() {
    let mut session = Session::new(checklist(vec![vec![check("health", &[])]]));
    session.apply_result(result("health", Outcome::Pass, "1 expectations met"));

    let event = session.apply_result(result("health", Outcome::Pass, "1 expectations met"));

    assert_eq!(event, None);
}

#[test]
fn changed_outcome_returns_event() {
    let mut session = Session::new(checklist(vec![vec![check("health", &[])]]));
    session.apply_result(result("health", Outcome::Pass, "ok"));

    let failed = session.apply_result(result("health", Outcome::Fail, "status 503"));
    let recovered = session.apply_result(result("health", Outcome::Pass, "ok"));

    assert_eq!(
        failed,
        Some(outcome_event("health", Outcome::Fail, "status 503"))
    );
    assert_eq!(
        recovered,
        Some(outcome_event("health", Outcome::Pass, "ok"))
    );
    assert_eq!(session.status("health"), Status::Pass);
}

#[test]
fn result_matching_replayed_outcome_returns_no_event() {
    let mut session = Session::new(checklist(vec![vec![check("health", &[])]]));
    session.apply_event(&event(
        1,
        "golive",
        outcome_event("health", Outcome::Pass, "ok"),
    ));

    let event = session.apply_result(result("health", Outcome::Pass, "ok"));

    assert_eq!(event, None);
    assert!(session.state("health").unwrap().result.is_some());
}

#[test]
fn result_for_unknown_item_ignored() {
    let mut session = Session::new(checklist(vec![vec![check("health", &[])]]));

    let event = session.apply_result(result("gone", Outcome::Fail, "x"));

    assert_eq!(event, None);
    assert_eq!(session.status("health"), Status::Pending);
}

#[test]
fn running_until_result_arrives() {
    let mut session = Session::new(checklist(vec![vec![check("health", &[])]]));
    session.apply_result(result("health", Outcome::Pass, "ok"));

    session.mark_running("health");

    assert_eq!(session.status("health"), Status::Running);
    assert!(session.state("health").unwrap().running);

    session.apply_result(result("health", Outcome::Error, "timed out"));

    assert_eq!(session.status("health"), Status::Error);
    assert!(!session.state("health").unwrap().running);
}

#[test]
fn history_keeps_latest_results() {
    let mut session = Session::new(checklist(vec![vec![check("health", &[])]]));

    for index in 0..HISTORY_LEN + 5 {
        let mut next = result("health", Outcome::Pass, "ok");
        next.evidence.latency_ms = Some(index as u64);
        session.apply_result(next);
    }

    let history = &session.state("health").unwrap().history;
    assert_eq!(history.len(), HISTORY_LEN);
    assert_eq!(history.front().unwrap().latency_ms, Some(5));
    assert_eq!(
        history.back().unwrap().latency_ms,
        Some(HISTORY_LEN as u64 + 4)
    );
}

#[test]
fn unmet_dependency_blocks_manual_item() {
    let mut session = Session::new(checklist(vec![vec![
        manual("deploy", &[]),
        manual("smoke", &["deploy"]),
    ]]));

    assert_eq!(session.status("smoke"), Status::Blocked);
    let smoke = session.checklist().item("smoke").unwrap().clone();
    assert_eq!(
        session.unmet_dependencies(&smoke),
        vec!["deploy".to_string()]
    );

    session.apply_event(&event(
        1,
        "Ana",
        EventKind::Ticked {
            item: "deploy".into(),
        },
    ));

    assert_eq!(session.status("smoke"), Status::Pending);
    assert!(session.unmet_dependencies(&smoke).is_empty());
}

#[test]
fn unmet_dependency_blocks_check() {
    let mut session = Session::new(checklist(vec![vec![
        check("health", &[]),
        check("login", &["health"]),
    ]]));

    assert_eq!(session.status("login"), Status::Blocked);

    session.apply_result(result("health", Outcome::Fail, "status 503"));

    assert_eq!(session.status("login"), Status::Blocked);

    session.apply_result(result("health", Outcome::Pass, "ok"));

    assert_eq!(session.status("login"), Status::Pending);
}

#[test]
fn blocking_propagates_through_chain() {
    let mut session = Session::new(checklist(vec![vec![
        manual("deploy", &[]),
        manual("migrate", &["deploy"]),
        check("login", &["migrate"]),
    ]]));

    assert_eq!(session.status("migrate"), Status::Blocked);
    assert_eq!(session.status("login"), Status::Blocked);

    session.apply_event(&event(
        1,
        "Ana",
        EventKind::Ticked {
            item: "deploy".into(),
        },
    ));

    assert_eq!(session.status("migrate"), Status::Pending);
    assert_eq!(session.status("login"), Status::Blocked);
}

#[test]
fn manual_action_rejections() {
    let session = Session::new(checklist(vec![vec![
        check("health", &[]),
        manual("smoke", &["health"]),
    ]]));

    assert_eq!(
        session.check_manual_action("gone").unwrap_err(),
        ActionError::UnknownItem("gone".into())
    );
    assert_eq!(
        session.check_manual_action("health").unwrap_err(),
        ActionError::NotManual("health".into())
    );
    assert_eq!(
        session.check_manual_action("smoke").unwrap_err(),
        ActionError::Blocked {
            item: "smoke".into(),
            waiting_for: vec!["health".into()]
        }
    );
}

#[test]
fn manual_action_allowed_when_satisfied() {
    let mut session = Session::new(checklist(vec![vec![
        check("health", &[]),
        manual("smoke", &["health"]),
    ]]));
    session.apply_result(result("health", Outcome::Pass, "ok"));

    let item = session.check_manual_action("smoke").unwrap();

    assert_eq!(item.id, "smoke");
}

#[test]
fn verdict_lists_required_blockers() {
    let mut session = Session::new(checklist(vec![
        vec![check("health", &[]), optional(manual("announce", &[]))],
        vec![manual("smoke", &["health"]), manual("signoff", &[])],
    ]));
    session.apply_result(result("health", Outcome::Fail, "status 503"));
    session.apply_event(&event(
        1,
        "Ana",
        EventKind::Ticked {
            item: "signoff".into(),
        },
    ));

    let verdict = session.verdict();

    assert!(!verdict.go);
    assert_eq!(
        verdict.blockers,
        vec![
            Blocker {
                item_id: "health".into(),
                title: "Check health".into(),
                status: Status::Fail,
            },
            Blocker {
                item_id: "smoke".into(),
                title: "Manual step smoke".into(),
                status: Status::Blocked,
            },
        ]
    );
}

#[test]
fn verdict_go_when_required_satisfied() {
    let mut session = Session::new(checklist(vec![vec![
        check("health", &[]),
        manual("smoke", &["health"]),
        optional(manual("announce", &[])),
    ]]));
    session.apply_result(result("health", Outcome::Pass, "ok"));
    session.apply_event(&event(
        1,
        "Ana",
        EventKind::Ticked {
            item: "smoke".into(),
        },
    ));

    let verdict = session.verdict();

    assert!(verdict.go);
    assert!(verdict.blockers.is_empty());
}

#[test]
fn counts_by_status() {
    let mut session = Session::new(checklist(vec![
        vec![
            check("health", &[]),
            check("login", &["health"]),
            check("latency", &[]),
        ],
        vec![
            manual("smoke", &[]),
            manual("signoff", &[]),
            manual("rollback", &[]),
        ],
        vec![check("metrics", &[]), check("traces", &[])],
    ]));
    session.apply_result(result("health", Outcome::Fail, "status 503"));
    session.apply_result(result("latency", Outcome::Pass, "ok"));
    session.apply_event(&event(
        1,
        "Ana",
        EventKind::Ticked {
            item: "smoke".into(),
        },
    ));
    session.apply_event(&event(
        2,
        "Ana",
        EventKind::MarkedFailed {
            item: "signoff".into(),
        },
    ));
    session.apply_result(result("metrics", Outcome::Error, "connection refused"));
    session.mark_running("traces");

    let counts = session.counts();

    let expected = Counts {
        total: 8,
        pending: 1,
        running: 1,
        pass: 1,
        fail: 1,
        error: 1,
        blocked: 1,
        done: 1,
        failed: 1,
        waived: 0,
    };
    assert_eq!(counts, expected);
}

#[test]
fn phase_counts_cover_one_phase() {
    let mut session = Session::new(checklist(vec![
        vec![check("health", &[]), manual("smoke", &[])],
        vec![manual("signoff", &[])],
    ]));
    session.apply_result(result("health", Outcome::Pass, "ok"));

    let first = session.phase_counts(0);
    let second = session.phase_counts(1);
    let missing = session.phase_counts(7);

    assert_eq!(first.total, 2);
    assert_eq!(first.pass, 1);
    assert_eq!(first.pending, 1);
    assert_eq!(second.total, 1);
    assert_eq!(second.pending, 1);
    assert_eq!(missing, Counts::default());
}

#[test]
fn satisfied_lists_pass_and_done() {
    let mut session = Session::new(checklist(vec![vec![
        check("health", &[]),
        manual("smoke", &[]),
        manual("signoff", &[]),
    ]]));
    session.apply_result(result("health", Outcome::Pass, "ok"));
    session.apply_event(&event(
        1,
        "Ana",
        EventKind::Ticked {
            item: "smoke".into(),
        },
    ));

    let satisfied: Vec<String> = session.satisfied().into_iter().collect();

    assert_eq!(satisfied, vec!["health".to_string(), "smoke".to_string()]);
}

/// Each item depends on the two before it. Walking such chains without memoising visits each
/// item exponentially often, which froze the cockpit on a 155-item checklist.
#[test]
fn deep_dependency_chain_settles() {
    let ids: Vec<String> = (0..300).map(|index| format!("step-{index}")).collect();
    let items: Vec<Item> = ids
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let depends_on: Vec<&str> = ids[index.saturating_sub(2)..index]
                .iter()
                .map(String::as_str)
                .collect();
            manual(id, &depends_on)
        })
        .collect();
    let mut session = Session::new(checklist(vec![items]));

    assert_eq!(session.status("step-0"), Status::Pending);
    assert_eq!(session.status("step-299"), Status::Blocked);
    assert_eq!(session.verdict().blockers.len(), 300);

    session.apply_event(&event(
        2,
        "lead",
        EventKind::Ticked {
            item: "step-0".into(),
        },
    ));
    assert_eq!(session.status("step-0"), Status::Done);
    assert_eq!(session.status("step-1"), Status::Pending);
    assert_eq!(session.status("step-2"), Status::Blocked);
}

#[test]
fn dependency_cycle_counts_as_blocked() {
    let mut session = Session::new(checklist(vec![vec![
        manual("a", &["b"]),
        manual("b", &["a"]),
    ]]));
    assert_eq!(session.status("a"), Status::Blocked);
    assert_eq!(session.status("b"), Status::Blocked);
    assert!(session.check_manual_action("a").is_err());
    session.apply_event(&event(2, "lead", EventKind::Ticked { item: "a".into() }));
    assert_eq!(session.status("a"), Status::Done);
    assert_eq!(session.status("b"), Status::Pending);
}
