//! Waivers, sign-offs, the launch decision and drift after sign-off: the session's rules, the
//! checklist and waivers-file syntax with its diagnostics, and the journal events.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use golive::checklist::loader::{LoadDefaults, LoadFailure, Loaded, load, load_policy};
use golive::checklist::{Checklist, LaunchPolicy, Risk, same_person};
use golive::checks::{CheckResult, Evidence, Outcome};
use golive::journal::file;
use golive::journal::{Event, EventKind, GENESIS_HASH, Journal};
use golive::session::{ActionError, Session, Status, WaiverRequest, WaiverSource};
use jiff::Timestamp;

const ADA: &str = "Ada Lovelace <ada@example.com>";
const GRACE: &str = "Grace Hopper <grace@example.com>";

const CHECKLIST: &str = r#"
[checklist]
title = "Launch"

[[phases]]
id = "deploy"
title = "Deploy"

[[phases.items]]
id = "migrate"
title = "Database migrated"
steps = ["Run the migration"]

[[phases.items]]
id = "health"
title = "Health endpoint"
[phases.items.check]
kind = "http"
url = "http://127.0.0.1:9/health"

[[phases]]
id = "verify"
title = "Verify"

[[phases.items]]
id = "smoke"
title = "Smoke test"
steps = ["Click through"]

[[signoffs]]
id = "qa-approval"
title = "QA approves the release"
role = "qa"
after = ["deploy"]

[[signoffs]]
id = "go-call"
title = "Lead calls GO"
role = "lead"
"#;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Writes the checklist (and a waivers file when given) into a fresh folder and loads it.
fn load_in(
    folder: &Path,
    checklist: &str,
    waivers_file: Option<(&str, &str)>,
) -> Result<Loaded, LoadFailure> {
    let path = folder.join("launch.toml");
    std::fs::write(&path, checklist).unwrap();
    if let Some((name, text)) = waivers_file {
        std::fs::write(folder.join(name), text).unwrap();
    }
    load(&path, None, &BTreeMap::new(), &LoadDefaults::default())
}

fn loaded(checklist: &str) -> (Arc<Checklist>, LaunchPolicy) {
    let folder = tempfile::tempdir().unwrap();
    let loaded = load_in(folder.path(), checklist, None).unwrap();
    (Arc::new(loaded.checklist), loaded.policy)
}

fn session_at(checklist: &str, now: &str) -> Session {
    let (checklist, policy) = loaded(checklist);
    let mut session = Session::with_policy(checklist, policy);
    session.set_now(at(now));
    session
}

fn event(seq: u64, actor: &str, when: &str, kind: EventKind) -> Event {
    Event::chained(GENESIS_HASH, seq, at(when), actor, kind)
}

fn result(item: &str, outcome: Outcome) -> CheckResult {
    CheckResult {
        item_id: item.into(),
        outcome,
        summary: format!("{item} {}", outcome_word(outcome)),
        evidence: Evidence::default(),
        started_at: at("2026-02-16T06:00:00Z"),
        elapsed_ms: 3,
        attempts: 1,
    }
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "passed",
        Outcome::Fail => "failed",
        Outcome::Error => "errored",
        Outcome::Blocked => "blocked",
    }
}

fn request(item: &str, approved_by: &str, expires: &str) -> WaiverRequest {
    WaiverRequest {
        item: item.into(),
        reason: "Known flake in the health probe".into(),
        risk: Risk::Medium,
        control: "On-call watches the dashboard".into(),
        expires: at(expires),
        approved_by: approved_by.into(),
    }
}

/// Applies a built event as if the journal had appended it.
fn apply(session: &mut Session, seq: u64, actor: &str, when: &str, kind: EventKind) {
    session.apply_event(&event(seq, actor, when, kind));
}

fn first_error(failure: &LoadFailure) -> &golive::checklist::diagnostic::Diagnostic {
    failure.errors().next().expect("the load reports an error")
}

#[test]
fn same_person_compares_email_then_name() {
    assert!(same_person(ADA, "ADA LOVELACE <Ada@Example.com>"));
    assert!(same_person(ADA, "Someone Else <ada@example.com>"));
    assert!(!same_person(ADA, GRACE));
    assert!(same_person("ada", " Ada "));
    assert!(!same_person("ada", "grace"));
}

#[test]
fn self_approval_rejected() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    session.apply_result(result("health", Outcome::Fail));

    let rejected = session.waive(
        &request(
            "health",
            "ada lovelace <ADA@example.com>",
            "2026-02-17T06:00:00Z",
        ),
        ADA,
    );

    assert_eq!(rejected, Err(ActionError::SelfApproval("health".into())));
    let message = rejected.unwrap_err().to_string();
    assert!(message.contains("another person"), "{message}");
}

#[test]
fn waiver_request_checks_fields_and_expiry() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    session.apply_result(result("health", Outcome::Fail));

    let mut empty_reason = request("health", GRACE, "2026-02-17T06:00:00Z");
    empty_reason.reason = "  ".into();
    let past = request("health", GRACE, "2026-02-16T05:00:00Z");
    let unknown = request("nope", GRACE, "2026-02-17T06:00:00Z");

    assert!(matches!(
        session.waive(&empty_reason, ADA),
        Err(ActionError::InvalidWaiver { .. })
    ));
    assert!(matches!(
        session.waive(&past, ADA),
        Err(ActionError::InvalidWaiver { .. })
    ));
    assert_eq!(
        session.waive(&unknown, ADA),
        Err(ActionError::UnknownItem("nope".into()))
    );
}

#[test]
fn passed_item_cannot_be_waived() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    session.apply_result(result("health", Outcome::Pass));

    let rejected = session.waive(&request("health", GRACE, "2026-02-17T06:00:00Z"), ADA);

    assert!(matches!(rejected, Err(ActionError::InvalidWaiver { .. })));
}

#[test]
fn waived_failing_item_counts_toward_go() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    session.apply_result(result("health", Outcome::Fail));
    let waived = session
        .waive(&request("health", GRACE, "2026-02-17T06:00:00Z"), ADA)
        .unwrap();
    apply(&mut session, 1, ADA, "2026-02-16T06:01:00Z", waived);

    assert_eq!(session.status("health"), Status::Waived);
    assert_eq!(Status::Waived.word(), "waived");
    assert_ne!(Status::Waived.symbol(), Status::Pass.symbol());
    assert_eq!(session.counts().waived, 1);
    assert_eq!(session.counts().pass, 0);
    assert!(!session.satisfied().contains("health"));
    let verdict = session.verdict();
    assert!(
        verdict
            .blockers
            .iter()
            .all(|blocker| blocker.item_id != "health")
    );
    let decision = session.decision(at("2026-02-16T06:02:00Z"));
    assert_eq!(decision.waived.len(), 1);
    assert_eq!(decision.waived[0].item, "health");
    assert_eq!(decision.waived[0].requested_by, ADA);
    assert_eq!(decision.waived[0].approved_by, GRACE);
    assert_eq!(decision.waived[0].source, WaiverSource::Journal);
}

#[test]
fn expired_waiver_reopens_item() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    session.apply_result(result("health", Outcome::Fail));
    let waived = session
        .waive(&request("health", GRACE, "2026-02-16T07:00:00Z"), ADA)
        .unwrap();
    apply(&mut session, 1, ADA, "2026-02-16T06:01:00Z", waived);
    assert_eq!(session.status("health"), Status::Waived);
    assert!(session.pending_waiver_expiries().is_empty());

    session.set_now(at("2026-02-16T07:00:00Z"));

    assert_eq!(session.status("health"), Status::Fail);
    let expiries = session.pending_waiver_expiries();
    assert_eq!(
        expiries,
        vec![EventKind::WaiverExpired {
            item: "health".into(),
            expires: at("2026-02-16T07:00:00Z"),
        }]
    );
    let decision = session.decision(at("2026-02-16T07:00:00Z"));
    assert!(
        decision
            .blockers
            .iter()
            .any(|blocker| blocker.item_id == "health")
    );
    assert!(decision.waived.is_empty());

    let expired = expiries.into_iter().next().unwrap();
    apply(&mut session, 2, "golive", "2026-02-16T07:00:01Z", expired);

    assert!(session.pending_waiver_expiries().is_empty());
}

#[test]
fn decision_with_earlier_time_still_counts_waiver() {
    let mut session = session_at(CHECKLIST, "2026-02-16T08:00:00Z");
    session.apply_result(result("health", Outcome::Fail));
    let waiver = EventKind::Waived {
        item: "health".into(),
        reason: "flake".into(),
        risk: Risk::Low,
        control: "watch".into(),
        expires: at("2026-02-16T07:00:00Z"),
        approved_by: GRACE.into(),
    };
    apply(&mut session, 1, ADA, "2026-02-16T06:01:00Z", waiver);

    let before = session.decision(at("2026-02-16T06:30:00Z"));
    let after = session.decision(at("2026-02-16T08:00:00Z"));

    assert_eq!(before.waived.len(), 1);
    assert!(after.waived.is_empty());
}

#[test]
fn revoked_waiver_reopens_item() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    session.apply_result(result("health", Outcome::Fail));
    let waived = session
        .waive(&request("health", GRACE, "2026-02-17T06:00:00Z"), ADA)
        .unwrap();
    apply(&mut session, 1, ADA, "2026-02-16T06:01:00Z", waived);

    let revoke = session.revoke_waiver("health").unwrap();
    apply(&mut session, 2, ADA, "2026-02-16T06:02:00Z", revoke);

    assert_eq!(session.status("health"), Status::Fail);
    assert!(session.waiver("health").is_none());
    assert_eq!(
        session.revoke_waiver("health"),
        Err(ActionError::NotWaived("health".into()))
    );
}

#[test]
fn decision_no_go_lists_blockers_and_missing_signoffs() {
    let session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");

    let decision = session.decision(at("2026-02-16T06:00:00Z"));

    assert!(!decision.go);
    let blockers: Vec<&str> = decision
        .blockers
        .iter()
        .map(|blocker| blocker.item_id.as_str())
        .collect();
    assert_eq!(blockers, ["migrate", "health", "smoke"]);
    let missing: Vec<&str> = decision
        .missing_signoffs
        .iter()
        .map(|missing| missing.id.as_str())
        .collect();
    assert_eq!(missing, ["qa-approval", "go-call"]);
    assert_eq!(decision.missing_signoffs[0].waiting_for, ["deploy"]);
    assert!(decision.missing_signoffs[1].waiting_for.is_empty());
}

#[test]
fn decision_go_needs_items_and_signoffs() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    apply(
        &mut session,
        1,
        ADA,
        "2026-02-16T06:00:00Z",
        EventKind::Ticked {
            item: "migrate".into(),
        },
    );
    session.apply_result(result("health", Outcome::Fail));
    let waived = session
        .waive(&request("health", GRACE, "2026-02-17T06:00:00Z"), ADA)
        .unwrap();
    apply(&mut session, 2, ADA, "2026-02-16T06:01:00Z", waived);
    apply(
        &mut session,
        3,
        ADA,
        "2026-02-16T06:02:00Z",
        EventKind::Ticked {
            item: "smoke".into(),
        },
    );

    let items_only = session.decision(at("2026-02-16T06:03:00Z"));
    assert!(!items_only.go);
    assert!(items_only.blockers.is_empty());
    assert_eq!(items_only.missing_signoffs.len(), 2);

    let qa = session.sign_off("qa-approval", "QA", "head-1").unwrap();
    apply(&mut session, 4, GRACE, "2026-02-16T06:04:00Z", qa);
    let lead = session.sign_off("go-call", "lead", "head-2").unwrap();
    apply(&mut session, 5, ADA, "2026-02-16T06:05:00Z", lead);

    let decision = session.decision(at("2026-02-16T06:06:00Z"));
    assert!(decision.go);
    assert!(decision.missing_signoffs.is_empty());
    assert_eq!(decision.waived.len(), 1);
    assert_eq!(session.sign_offs().len(), 2);
    assert_eq!(session.sign_offs()[0].actor, GRACE);
    assert_eq!(session.sign_offs()[0].role, "qa");
    assert_eq!(session.sign_offs()[0].state.verdict, "go");
    assert_eq!(session.sign_offs()[0].state.journal_head, "head-1");
    assert_eq!(session.sign_offs()[0].state.counts.waived, 1);
}

#[test]
fn sign_off_rejections() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");

    assert_eq!(
        session.sign_off("nope", "qa", "h"),
        Err(ActionError::UnknownSignOff("nope".into()))
    );
    assert!(matches!(
        session.sign_off("go-call", "qa", "h"),
        Err(ActionError::WrongRole { .. })
    ));
    assert_eq!(
        session.sign_off("qa-approval", "qa", "h"),
        Err(ActionError::PhasesIncomplete {
            signoff: "qa-approval".into(),
            phases: vec!["deploy".into()],
        })
    );
    let lead = session.sign_off("go-call", "lead", "h").unwrap();
    apply(&mut session, 1, ADA, "2026-02-16T06:00:00Z", lead);
    assert_eq!(
        session.sign_off("go-call", "lead", "h"),
        Err(ActionError::AlreadySigned {
            signoff: "go-call".into(),
            actor: ADA.into(),
        })
    );
}

#[test]
fn drift_after_signoff_recorded_once() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    session.apply_result(result("health", Outcome::Pass));
    let lead = session.sign_off("go-call", "lead", "h").unwrap();
    apply(&mut session, 1, ADA, "2026-02-16T06:01:00Z", lead);
    assert!(session.pending_drift().is_empty());

    session.apply_result(result("health", Outcome::Fail));

    let drift = session.pending_drift();
    assert_eq!(
        drift,
        vec![EventKind::Drift {
            item: "health".into(),
            from: Status::Pass,
            to: Status::Fail,
            signoff: "go-call".into(),
        }]
    );
    assert_eq!(session.drift().len(), 1);
    let recorded = drift.into_iter().next().unwrap();
    apply(&mut session, 2, "golive", "2026-02-16T06:02:00Z", recorded);
    assert!(session.pending_drift().is_empty());

    session.apply_result(result("health", Outcome::Fail));
    assert!(session.pending_drift().is_empty());

    session.apply_result(result("health", Outcome::Error));
    assert_eq!(session.pending_drift().len(), 1);
}

#[test]
fn drift_from_untick_and_expiry() {
    let mut session = session_at(CHECKLIST, "2026-02-16T06:00:00Z");
    apply(
        &mut session,
        1,
        ADA,
        "2026-02-16T06:00:00Z",
        EventKind::Ticked {
            item: "migrate".into(),
        },
    );
    session.apply_result(result("health", Outcome::Fail));
    let waived = session
        .waive(&request("health", GRACE, "2026-02-16T07:00:00Z"), ADA)
        .unwrap();
    apply(&mut session, 2, ADA, "2026-02-16T06:01:00Z", waived);
    let lead = session.sign_off("go-call", "lead", "h").unwrap();
    apply(&mut session, 3, ADA, "2026-02-16T06:02:00Z", lead);

    apply(
        &mut session,
        4,
        ADA,
        "2026-02-16T06:03:00Z",
        EventKind::Unticked {
            item: "migrate".into(),
        },
    );
    session.set_now(at("2026-02-16T07:30:00Z"));

    let drift = session.pending_drift();
    let items: Vec<(String, Status, Status)> = drift
        .into_iter()
        .filter_map(|kind| match kind {
            EventKind::Drift { item, from, to, .. } => Some((item, from, to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        items,
        [
            ("migrate".to_string(), Status::Done, Status::Pending),
            ("health".to_string(), Status::Waived, Status::Fail),
        ]
    );
}

#[test]
fn drift_found_again_after_replay() {
    let (checklist, policy) = loaded(CHECKLIST);
    let events = vec![
        event(
            1,
            ADA,
            "2026-02-16T06:00:00Z",
            EventKind::Ticked {
                item: "migrate".into(),
            },
        ),
        event(
            2,
            ADA,
            "2026-02-16T06:01:00Z",
            EventKind::SignedOff {
                signoff: "go-call".into(),
                role: "lead".into(),
                state: golive::journal::SignOffState {
                    verdict: "no-go".into(),
                    counts: Default::default(),
                    journal_head: "h".into(),
                },
            },
        ),
        event(
            3,
            ADA,
            "2026-02-16T06:02:00Z",
            EventKind::Unticked {
                item: "migrate".into(),
            },
        ),
    ];
    let mut session = Session::with_policy(checklist, policy);
    for event in &events {
        session.apply_event(event);
    }

    assert_eq!(session.drift().len(), 1);
    assert_eq!(session.pending_drift().len(), 1);
}

#[test]
fn checklist_waiver_counts_until_it_expires() {
    let text = format!(
        "{CHECKLIST}
[[waivers]]
item = \"smoke\"
reason = \"Covered by canary\"
risk = \"low\"
control = \"Canary alarms page the on-call\"
expires = \"2026-02-16T08:00:00+01:00\"
requested_by = \"{ADA}\"
approved_by = \"{GRACE}\"
"
    );
    let mut session = session_at(&text, "2026-02-16T06:00:00Z");

    assert_eq!(session.status("smoke"), Status::Waived);
    assert_eq!(session.waivers()[0].source, WaiverSource::Checklist);
    assert_eq!(session.waivers()[0].expires, at("2026-02-16T07:00:00Z"));

    session.set_now(at("2026-02-16T07:00:00Z"));

    assert_eq!(session.status("smoke"), Status::Pending);
}

/// Appends the given waiver table to the checklist and returns the load failure.
fn checklist_waiver_failure(table: &str) -> LoadFailure {
    let folder = tempfile::tempdir().unwrap();
    let text = format!("{CHECKLIST}\n[[waivers]]\n{table}");
    match load_in(folder.path(), &text, None) {
        Ok(_) => panic!("the waiver was accepted:\n{table}"),
        Err(failure) => failure,
    }
}

/// Line of the first line of `needle` in the checklist with `table` appended.
fn line_of(table: &str, needle: &str) -> usize {
    let text = format!("{CHECKLIST}\n[[waivers]]\n{table}");
    text.lines().position(|line| line.contains(needle)).unwrap() + 1
}

const GOOD_WAIVER: &str = r#"item = "smoke"
reason = "Covered by canary"
risk = "low"
control = "Canary alarms"
expires = "2026-02-16T08:00:00Z"
requested_by = "Ada Lovelace <ada@example.com>"
approved_by = "Grace Hopper <grace@example.com>"
"#;

#[test]
fn checklist_waiver_unknown_item_rejected() {
    let table = GOOD_WAIVER.replace("item = \"smoke\"", "item = \"smok\"");

    let failure = checklist_waiver_failure(&table);

    let error = first_error(&failure);
    assert_eq!(error.message, "unknown item `smok` in a waiver");
    assert_eq!(error.line, line_of(&table, "item = \"smok\""));
    assert_eq!(error.column, 8);
    assert_eq!(error.help.as_deref(), Some("did you mean `smoke`?"));
}

#[test]
fn checklist_waiver_expiry_without_offset_rejected() {
    let table = GOOD_WAIVER.replace("2026-02-16T08:00:00Z", "2026-02-16T08:00:00");

    let failure = checklist_waiver_failure(&table);

    let error = first_error(&failure);
    assert_eq!(error.message, "invalid `expires` in the waiver of `smoke`");
    assert_eq!(error.line, line_of(&table, "expires ="));
    assert_eq!(error.column, 11);
}

#[test]
fn checklist_waiver_toml_local_datetime_rejected() {
    let table = GOOD_WAIVER.replace("\"2026-02-16T08:00:00Z\"", "2026-02-16T08:00:00");

    let failure = checklist_waiver_failure(&table);

    let error = first_error(&failure);
    assert_eq!(error.message, "invalid `expires` in the waiver of `smoke`");
    assert_eq!(error.line, line_of(&table, "expires ="));
}

#[test]
fn checklist_waiver_missing_field_rejected() {
    let table = GOOD_WAIVER.replace("control = \"Canary alarms\"\n", "");

    let failure = checklist_waiver_failure(&table);

    let error = first_error(&failure);
    assert_eq!(
        error.message,
        "missing required key `control` in the waiver of `smoke`"
    );
    assert!(error.line >= line_of(&table, "[[waivers]]"));
}

#[test]
fn checklist_waiver_self_approval_rejected() {
    let table = GOOD_WAIVER.replace(
        "Grace Hopper <grace@example.com>",
        "A. Lovelace <ADA@example.com>",
    );

    let failure = checklist_waiver_failure(&table);

    let error = first_error(&failure);
    assert!(
        error.message.contains("approved by its requester"),
        "{}",
        error.message
    );
    assert_eq!(error.line, line_of(&table, "approved_by"));
    assert_eq!(error.column, 15);
}

#[test]
fn checklist_waiver_bad_risk_rejected() {
    let table = GOOD_WAIVER.replace("risk = \"low\"", "risk = \"tiny\"");

    let failure = checklist_waiver_failure(&table);

    let error = first_error(&failure);
    assert_eq!(
        error.message,
        "invalid `risk` `tiny` in the waiver of `smoke`"
    );
    assert_eq!(error.line, line_of(&table, "risk ="));
}

#[test]
fn waivers_file_beside_checklist_loaded() {
    let folder = tempfile::tempdir().unwrap();
    let waivers = format!("[[waivers]]\n{GOOD_WAIVER}");

    let loaded = load_in(
        folder.path(),
        CHECKLIST,
        Some(("launch.waivers.toml", &waivers)),
    )
    .unwrap();

    assert_eq!(loaded.policy.waivers.len(), 1);
    assert_eq!(loaded.policy.waivers[0].item, "smoke");
    assert_eq!(loaded.policy.signoffs.len(), 2);
    let again = load_policy(&loaded.checklist).unwrap();
    assert_eq!(again, loaded.policy);
}

#[test]
fn waivers_file_error_names_its_file_and_position() {
    let folder = tempfile::tempdir().unwrap();
    let waivers = format!(
        "# accepted risk\n[[waivers]]\n{}",
        GOOD_WAIVER.replace("2026-02-16T08:00:00Z", "tomorrow")
    );

    let failure = load_in(
        folder.path(),
        CHECKLIST,
        Some(("launch.waivers.toml", &waivers)),
    )
    .unwrap_err();

    let error = first_error(&failure);
    assert_eq!(error.path, folder.path().join("launch.waivers.toml"));
    assert_eq!(error.message, "invalid `expires` in the waiver of `smoke`");
    assert_eq!(error.line, 7);
    assert_eq!(error.column, 11);
    let rendered = failure.to_string();
    assert!(rendered.contains("launch.waivers.toml:7:11"), "{rendered}");
    assert!(rendered.contains("tomorrow"), "{rendered}");
}

#[test]
fn named_waivers_file_must_exist() {
    let folder = tempfile::tempdir().unwrap();
    let text = CHECKLIST.replace(
        "title = \"Launch\"",
        "title = \"Launch\"\nwaivers_file = \"risk/accepted.toml\"",
    );

    let failure = load_in(folder.path(), &text, None).unwrap_err();

    let error = first_error(&failure);
    assert_eq!(error.path, folder.path().join("risk/accepted.toml"));
    assert!(
        error.message.starts_with("cannot read waivers file"),
        "{}",
        error.message
    );
}

#[test]
fn named_waivers_file_loaded() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join("risk")).unwrap();
    let text = CHECKLIST.replace(
        "title = \"Launch\"",
        "title = \"Launch\"\nwaivers_file = \"risk/accepted.toml\"",
    );
    let waivers = format!("[[waivers]]\n{GOOD_WAIVER}");

    let loaded = load_in(folder.path(), &text, Some(("risk/accepted.toml", &waivers))).unwrap();

    assert_eq!(loaded.policy.waivers.len(), 1);
}

#[test]
fn item_waived_in_both_places_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let text = format!("{CHECKLIST}\n[[waivers]]\n{GOOD_WAIVER}");
    let waivers = format!("[[waivers]]\n{GOOD_WAIVER}");

    let failure = load_in(
        folder.path(),
        &text,
        Some(("launch.waivers.toml", &waivers)),
    )
    .unwrap_err();

    let error = first_error(&failure);
    assert_eq!(error.message, "item `smoke` is waived twice");
    assert_eq!(error.path, folder.path().join("launch.waivers.toml"));
    assert_eq!(error.line, 2);
}

#[test]
fn load_policy_rejects_changed_file() {
    let folder = tempfile::tempdir().unwrap();
    let loaded = load_in(folder.path(), CHECKLIST, None).unwrap();
    std::fs::write(
        folder.path().join("launch.toml"),
        format!("{CHECKLIST}\n# edited\n"),
    )
    .unwrap();

    let failure = load_policy(&loaded.checklist).unwrap_err();

    assert_eq!(
        first_error(&failure).message,
        "checklist file changed after it was loaded"
    );
}

#[test]
fn launch_events_survive_file_journal() {
    let folder = tempfile::tempdir().unwrap();
    let (checklist, _) = loaded(CHECKLIST);
    let kinds = vec![
        EventKind::Waived {
            item: "health".into(),
            reason: "flake".into(),
            risk: Risk::High,
            control: "watch".into(),
            expires: at("2026-02-17T06:00:00Z"),
            approved_by: GRACE.into(),
        },
        EventKind::WaiverExpired {
            item: "health".into(),
            expires: at("2026-02-17T06:00:00Z"),
        },
        EventKind::WaiverRevoked {
            item: "health".into(),
        },
        EventKind::SignedOff {
            signoff: "go-call".into(),
            role: "lead".into(),
            state: golive::journal::SignOffState {
                verdict: "go".into(),
                counts: Default::default(),
                journal_head: GENESIS_HASH.into(),
            },
        },
        EventKind::Drift {
            item: "health".into(),
            from: Status::Waived,
            to: Status::Fail,
            signoff: "go-call".into(),
        },
    ];
    {
        let mut journal = file::open(folder.path(), &checklist, false, ADA).unwrap();
        for kind in &kinds {
            journal.append(ADA, kind.clone()).unwrap();
        }
    }

    let reopened = file::open(folder.path(), &checklist, false, ADA).unwrap();
    let stored: Vec<EventKind> = reopened
        .events()
        .iter()
        .skip(1)
        .map(|event| event.kind.clone())
        .collect();
    assert_eq!(stored, kinds);
}
