//! The check engine against a hostile server on 127.0.0.1.

use crate::support::hostile;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use golive::checklist::{CheckDef, Checklist, Item, ItemBody, ManualSteps, Phase, Severity};
use golive::checks::{CheckResult, Outcome, parse_spec};
use golive::config::EngineSettings;
use golive::engine::{Engine, EngineCommand, EngineEvent, run_once};
use golive::redact::Redactor;
use hostile::HostileServer;
use tokio::sync::{mpsc, watch};

/// Upper bound for waiting on one event, so that a broken engine fails instead of hanging.
const EVENT_WAIT: Duration = Duration::from_secs(30);

fn check_item(id: &str, url: &str, timeout: Duration, depends_on: &[&str]) -> Item {
    let mut settings = toml::Table::new();
    settings.insert("url".into(), toml::Value::String(url.into()));
    let spec = parse_spec("http", settings).expect("valid http settings");
    Item {
        id: id.into(),
        title: format!("check {id}"),
        description: None,
        severity: Severity::High,
        required: true,
        owner: None,
        depends_on: depends_on.iter().map(|dep| dep.to_string()).collect(),
        body: ItemBody::Check(CheckDef {
            spec,
            timeout,
            retries: 0,
            interval: None,
            unavailable: Vec::new(),
        }),
    }
}

fn manual_item(id: &str) -> Item {
    Item {
        id: id.into(),
        title: format!("step {id}"),
        description: None,
        severity: Severity::High,
        required: true,
        owner: None,
        depends_on: Vec::new(),
        body: ItemBody::Manual(ManualSteps::default()),
    }
}

fn with_check(mut item: Item, change: impl FnOnce(&mut CheckDef)) -> Item {
    if let ItemBody::Check(def) = &mut item.body {
        change(def);
    }
    item
}

fn checklist(items: Vec<Item>) -> Arc<Checklist> {
    Arc::new(Checklist {
        title: "engine test".into(),
        version: None,
        launch_at: None,
        path: PathBuf::from("engine-test.toml"),
        digest: String::new(),
        environment: "test".into(),
        environments: vec!["test".into()],
        phases: vec![Phase {
            id: "main".into(),
            title: "Main".into(),
            items,
        }],
        redactor: Arc::new(Redactor::new()),
        secret_refs: Vec::new(),
    })
}

fn settings(concurrency: usize) -> EngineSettings {
    EngineSettings {
        concurrency,
        timeout: Duration::from_secs(5),
        body_limit: 64 * 1024,
    }
}

struct Running {
    engine: Engine,
    events: mpsc::UnboundedReceiver<EngineEvent>,
    satisfied: watch::Sender<BTreeSet<String>>,
}

fn start(checklist: Arc<Checklist>, concurrency: usize) -> Running {
    let (satisfied, satisfied_receiver) = watch::channel(BTreeSet::new());
    let (sender, events) = mpsc::unbounded_channel();
    let engine = Engine::start(checklist, settings(concurrency), satisfied_receiver, sender);
    Running {
        engine,
        events,
        satisfied,
    }
}

async fn next_event(events: &mut mpsc::UnboundedReceiver<EngineEvent>) -> EngineEvent {
    tokio::time::timeout(EVENT_WAIT, events.recv())
        .await
        .expect("an event arrives in time")
        .expect("the engine is running")
}

async fn next_result(events: &mut mpsc::UnboundedReceiver<EngineEvent>) -> CheckResult {
    loop {
        if let EngineEvent::Finished(result) = next_event(events).await {
            return result;
        }
    }
}

/// Collects events until `count` results arrived; returns the results and the started ids.
async fn collect(
    events: &mut mpsc::UnboundedReceiver<EngineEvent>,
    count: usize,
) -> (Vec<CheckResult>, Vec<String>) {
    let mut results = Vec::new();
    let mut started = Vec::new();
    while results.len() < count {
        match next_event(events).await {
            EngineEvent::Finished(result) => results.push(result),
            EngineEvent::Started { item_id } => started.push(item_id),
        }
    }
    (results, started)
}

#[tokio::test]
async fn concurrency_bound_honoured() {
    let server = HostileServer::start().await;
    let items = (0..12)
        .map(|index| {
            check_item(
                &format!("c{index}"),
                &server.url("/delay/200"),
                Duration::from_secs(10),
                &[],
            )
        })
        .collect();
    let mut running = start(checklist(items), 3);
    running.engine.send(EngineCommand::RunAll);
    let (results, _) = collect(&mut running.events, 12).await;
    assert!(results.iter().all(|result| result.outcome == Outcome::Pass));
    assert!(
        server.max_active() <= 3,
        "max concurrent requests {}",
        server.max_active()
    );
    assert!(server.max_active() >= 1);
}

#[tokio::test]
async fn retries_counted_in_attempts() {
    let server = HostileServer::start().await;
    let flaky = with_check(
        check_item(
            "flaky",
            &server.url("/close-early"),
            Duration::from_secs(5),
            &[],
        ),
        |def| def.retries = 2,
    );
    let mut running = start(checklist(vec![flaky]), 4);
    running.engine.send(EngineCommand::RunAll);
    let (results, started) = collect(&mut running.events, 1).await;
    assert_eq!(results[0].outcome, Outcome::Error);
    assert_eq!(results[0].attempts, 3);
    assert_eq!(started.len(), 3);
}

#[tokio::test]
async fn fail_never_retried() {
    let server = HostileServer::start().await;
    let failing = with_check(
        check_item(
            "failing",
            &server.url("/status/503"),
            Duration::from_secs(5),
            &[],
        ),
        |def| def.retries = 2,
    );
    let mut running = start(checklist(vec![failing]), 4);
    running.engine.send(EngineCommand::RunAll);
    let result = next_result(&mut running.events).await;
    assert_eq!(result.outcome, Outcome::Fail);
    assert_eq!(result.attempts, 1);
    assert_eq!(server.hits("/status/503"), 1);
}

#[tokio::test]
async fn timeout_ends_attempt_as_error() {
    let server = HostileServer::start().await;
    let item = check_item(
        "hang",
        &server.url("/slow"),
        Duration::from_millis(300),
        &[],
    );
    let mut running = start(checklist(vec![item]), 4);
    running.engine.send(EngineCommand::Run("hang".into()));
    let result = next_result(&mut running.events).await;
    assert_eq!(result.outcome, Outcome::Error);
    assert_eq!(result.summary, "timed out after 300ms");
}

#[tokio::test]
async fn unavailable_check_errors_at_once() {
    let server = HostileServer::start().await;
    let item = with_check(
        check_item(
            "needs-secret",
            &server.url("/ok"),
            Duration::from_secs(5),
            &[],
        ),
        |def| def.unavailable = vec!["secret admin_token: set the variable ADMIN_TOKEN".into()],
    );
    let mut running = start(checklist(vec![item]), 4);
    running.engine.send(EngineCommand::RunAll);
    let first = next_event(&mut running.events).await;
    let EngineEvent::Finished(result) = first else {
        panic!("expected a result without an attempt, got {first:?}");
    };
    assert_eq!(result.outcome, Outcome::Error);
    assert!(result.summary.contains("ADMIN_TOKEN"), "{}", result.summary);
    assert_eq!(server.hits("/ok"), 0);
}

#[tokio::test]
async fn blocked_until_manual_item_ticked() {
    let server = HostileServer::start().await;
    let items = vec![
        manual_item("deploy"),
        check_item(
            "health",
            &server.url("/ok"),
            Duration::from_secs(5),
            &["deploy"],
        ),
    ];
    let mut running = start(checklist(items), 4);
    running.engine.send(EngineCommand::RunAll);
    let blocked = next_result(&mut running.events).await;
    assert_eq!(blocked.outcome, Outcome::Blocked);
    assert_eq!(blocked.summary, "blocked by unmet dependencies: deploy");
    assert_eq!(server.hits("/ok"), 0);

    running
        .satisfied
        .send_replace(BTreeSet::from(["deploy".to_string()]));
    let started = next_event(&mut running.events).await;
    assert_eq!(
        started,
        EngineEvent::Started {
            item_id: "health".into()
        }
    );
    let passed = next_result(&mut running.events).await;
    assert_eq!(passed.outcome, Outcome::Pass, "{}", passed.summary);
}

#[tokio::test]
async fn untick_blocks_dependents_at_once() {
    let server = HostileServer::start().await;
    let items = vec![
        manual_item("deploy"),
        check_item(
            "health",
            &server.url("/ok"),
            Duration::from_secs(5),
            &["deploy"],
        ),
        check_item(
            "smoke",
            &server.url("/ok"),
            Duration::from_secs(5),
            &["health"],
        ),
    ];
    let mut running = start(checklist(items), 4);
    running
        .satisfied
        .send_replace(BTreeSet::from(["deploy".to_string()]));
    running.engine.send(EngineCommand::RunAll);
    let (results, _) = collect(&mut running.events, 2).await;
    let passed: Vec<(&str, Outcome)> = results
        .iter()
        .map(|result| (result.item_id.as_str(), result.outcome))
        .collect();
    assert_eq!(
        passed,
        [("health", Outcome::Pass), ("smoke", Outcome::Pass)]
    );

    // Neither check has an interval, so only the change of the satisfied set can block them.
    running.satisfied.send_replace(BTreeSet::new());
    let (results, started) = collect(&mut running.events, 2).await;
    let blocked: Vec<(&str, Outcome, &str)> = results
        .iter()
        .map(|result| {
            (
                result.item_id.as_str(),
                result.outcome,
                result.summary.as_str(),
            )
        })
        .collect();
    assert_eq!(
        blocked,
        [
            (
                "health",
                Outcome::Blocked,
                "blocked by unmet dependencies: deploy"
            ),
            (
                "smoke",
                Outcome::Blocked,
                "blocked by unmet dependencies: health"
            ),
        ]
    );
    assert!(started.is_empty(), "no check ran: {started:?}");
    assert_eq!(server.hits("/ok"), 2);

    running
        .satisfied
        .send_replace(BTreeSet::from(["deploy".to_string()]));
    let (results, _) = collect(&mut running.events, 2).await;
    let rerun: Vec<(&str, Outcome)> = results
        .iter()
        .map(|result| (result.item_id.as_str(), result.outcome))
        .collect();
    assert_eq!(rerun, [("health", Outcome::Pass), ("smoke", Outcome::Pass)]);
}

#[tokio::test]
async fn dependent_runs_after_check_passes() {
    let server = HostileServer::start().await;
    let items = vec![
        check_item(
            "after",
            &server.url("/ok"),
            Duration::from_secs(5),
            &["first"],
        ),
        check_item(
            "first",
            &server.url("/delay/200"),
            Duration::from_secs(5),
            &[],
        ),
    ];
    let mut running = start(checklist(items), 4);
    running.engine.send(EngineCommand::RunAll);
    let (results, _) = collect(&mut running.events, 2).await;
    let outcomes: Vec<(&str, Outcome)> = results
        .iter()
        .map(|result| (result.item_id.as_str(), result.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [("first", Outcome::Pass), ("after", Outcome::Pass)]
    );
}

#[tokio::test]
async fn run_once_orders_and_blocks() {
    let server = HostileServer::start().await;
    let items = vec![
        manual_item("deploy"),
        check_item(
            "on-failed",
            &server.url("/ok"),
            Duration::from_secs(5),
            &["broken"],
        ),
        check_item(
            "broken",
            &server.url("/status/500"),
            Duration::from_secs(5),
            &[],
        ),
        check_item(
            "on-passed",
            &server.url("/ok"),
            Duration::from_secs(5),
            &["healthy"],
        ),
        check_item(
            "healthy",
            &server.url("/ok"),
            Duration::from_secs(5),
            &["deploy"],
        ),
        check_item(
            "on-manual",
            &server.url("/ok"),
            Duration::from_secs(5),
            &["unticked"],
        ),
        manual_item("unticked"),
    ];
    let satisfied = BTreeSet::from(["deploy".to_string()]);
    let results = tokio::time::timeout(
        EVENT_WAIT,
        run_once(checklist(items), settings(4), satisfied),
    )
    .await
    .expect("run_once ends in time");
    let outcomes: Vec<(&str, Outcome)> = results
        .iter()
        .map(|result| (result.item_id.as_str(), result.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("on-failed", Outcome::Blocked),
            ("broken", Outcome::Fail),
            ("on-passed", Outcome::Pass),
            ("healthy", Outcome::Pass),
            ("on-manual", Outcome::Blocked),
        ]
    );
    assert!(results.iter().all(|result| result.attempts <= 1));
}

#[tokio::test]
async fn dependency_cycle_ends_blocked() {
    let server = HostileServer::start().await;
    let items = vec![
        check_item("a", &server.url("/ok"), Duration::from_secs(5), &["b"]),
        check_item("b", &server.url("/ok"), Duration::from_secs(5), &["a"]),
    ];
    let results = tokio::time::timeout(
        EVENT_WAIT,
        run_once(checklist(items), settings(4), BTreeSet::new()),
    )
    .await
    .expect("run_once ends in time");
    assert_eq!(results.len(), 2);
    assert!(
        results
            .iter()
            .all(|result| result.outcome == Outcome::Blocked)
    );
}

#[tokio::test]
async fn duplicate_requests_run_once() {
    let server = HostileServer::start().await;
    let item = check_item(
        "slowish",
        &server.url("/delay/500"),
        Duration::from_secs(5),
        &[],
    );
    let mut running = start(checklist(vec![item]), 4);
    running.engine.send(EngineCommand::Run("slowish".into()));
    running.engine.send(EngineCommand::Run("slowish".into()));
    running.engine.send(EngineCommand::RunAll);
    let (results, started) = collect(&mut running.events, 1).await;
    assert_eq!(results[0].outcome, Outcome::Pass);
    assert_eq!(started.len(), 1);
    assert_eq!(server.hits("/delay/500"), 1);

    // Once the run has ended, a new request runs the check again.
    running.engine.send(EngineCommand::Run("slowish".into()));
    let again = next_result(&mut running.events).await;
    assert_eq!(again.outcome, Outcome::Pass);
    assert_eq!(server.hits("/delay/500"), 2);
}

#[tokio::test]
async fn interval_reruns_live_item() {
    let server = HostileServer::start().await;
    let item = with_check(
        check_item("live", &server.url("/ok"), Duration::from_secs(5), &[]),
        |def| def.interval = Some(Duration::from_millis(100)),
    );
    let mut running = start(checklist(vec![item]), 4);
    running.engine.send(EngineCommand::RunAll);
    for _ in 0..3 {
        let result = next_result(&mut running.events).await;
        assert_eq!(result.outcome, Outcome::Pass);
    }
    assert!(server.hits("/ok") >= 3);
}

#[tokio::test]
async fn hundreds_of_hanging_checks_finish() {
    let server = HostileServer::start().await;
    let items = (0..300)
        .map(|index| {
            check_item(
                &format!("h{index}"),
                &server.url("/slow"),
                Duration::from_millis(300),
                &[],
            )
        })
        .collect();
    let mut running = start(checklist(items), 32);
    running.engine.send(EngineCommand::RunAll);
    let first = next_event(&mut running.events).await;
    assert!(matches!(first, EngineEvent::Started { .. }));
    // Every check is in flight, so this request is accepted and changes nothing.
    running.engine.send(EngineCommand::RunAll);

    let (results, _) = collect(&mut running.events, 300).await;
    let errors = results
        .iter()
        .filter(|result| result.outcome == Outcome::Error)
        .count();
    assert_eq!(errors, 300);
    let ids: BTreeSet<&str> = results
        .iter()
        .map(|result| result.item_id.as_str())
        .collect();
    assert_eq!(ids.len(), 300);
    assert!(
        results
            .iter()
            .all(|result| result.summary == "timed out after 300ms")
    );

    running.engine.send(EngineCommand::Run("h0".into()));
    let again = next_result(&mut running.events).await;
    assert_eq!(again.item_id, "h0");
}

#[tokio::test]
async fn drop_stops_checks_in_flight() {
    let server = HostileServer::start().await;
    let items = (0..5)
        .map(|index| {
            check_item(
                &format!("d{index}"),
                &server.url("/slow"),
                Duration::from_secs(60),
                &[],
            )
        })
        .collect();
    let mut running = start(checklist(items), 8);
    running.engine.send(EngineCommand::RunAll);
    let (_, started) = collect_started(&mut running.events, 5).await;
    assert_eq!(started, 5);
    wait_until(|| server.open_connections() == 5).await;

    drop(running.engine);
    let end = tokio::time::timeout(EVENT_WAIT, async {
        let mut results = 0;
        while let Some(event) = running.events.recv().await {
            if matches!(event, EngineEvent::Finished(_)) {
                results += 1;
            }
        }
        results
    })
    .await
    .expect("the event stream closes after the engine is dropped");
    assert_eq!(end, 0);
    wait_until(|| server.open_connections() == 0).await;
}

/// Waits for `count` started events; returns the results seen meanwhile and the count.
async fn collect_started(
    events: &mut mpsc::UnboundedReceiver<EngineEvent>,
    count: usize,
) -> (usize, usize) {
    let mut started = 0;
    let mut results = 0;
    while started < count {
        match next_event(events).await {
            EngineEvent::Started { .. } => started += 1,
            EngineEvent::Finished(_) => results += 1,
        }
    }
    (results, started)
}

/// Polls a condition every 20 ms, failing the test after [`EVENT_WAIT`].
async fn wait_until(condition: impl Fn() -> bool) {
    let polled = tokio::time::timeout(EVENT_WAIT, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        polled.is_ok(),
        "condition not reached within {EVENT_WAIT:?}"
    );
}
