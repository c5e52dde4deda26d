//! The file journal against the real file system: round trips, the hash chain, recovery of a
//! torn last line, damage, session rotation, locking and a writer killed mid-append.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use golive::checklist::Checklist;
use golive::journal::file;
use golive::journal::{
    Event, EventKind, GENESIS_HASH, Journal, JournalError, compute_hash, verify_chain,
};
use golive::redact::Redactor;
use sha2::{Digest, Sha256};

/// Set in the environment of the child process of the crash test.
const CHILD_ENV: &str = "GOLIVE_JOURNAL_CHILD";
/// The journal file the child process appends to.
const CHILD_PATH_ENV: &str = "GOLIVE_JOURNAL_CHILD_PATH";
/// Number of acknowledged appends the crash test waits for before killing the child.
const CRASH_ACKS: usize = 300;
/// Upper bound on waiting for one line from the child, as hang protection only.
const CHILD_LINE_TIMEOUT: Duration = Duration::from_secs(60);

fn checklist_in(folder: &Path, environment: &str, digest: &str) -> Checklist {
    Checklist {
        title: "AuthBridge launch".into(),
        version: None,
        launch_at: None,
        path: folder.join("authbridge-launch.toml"),
        digest: digest.into(),
        environment: environment.into(),
        environments: vec!["staging".into(), "production".into()],
        phases: Vec::new(),
        redactor: Arc::new(Redactor::new()),
        secret_refs: Vec::new(),
    }
}

fn ticked(item: &str) -> EventKind {
    EventKind::Ticked { item: item.into() }
}

fn note(item: &str, text: &str) -> EventKind {
    EventKind::Note {
        item: item.into(),
        text: text.into(),
    }
}

/// Creates a journal with a SessionStarted event and `count` notes, returning its path.
fn journal_with_notes(dir: &Path, count: usize) -> PathBuf {
    let checklist = checklist_in(dir, "staging", "digest-1");
    let mut journal = file::open(&dir.join("journals"), &checklist, false, "Ana").unwrap();
    for index in 0..count {
        journal
            .append("Ana", note("db", &format!("note number {index}")))
            .unwrap();
    }
    journal.path().to_path_buf()
}

fn parse_lines(bytes: &[u8]) -> Vec<Event> {
    bytes
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect()
}

/// Names of the files in a folder, sorted.
fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn fresh_journal_starts_session() {
    let dir = tempfile::tempdir().unwrap();
    let checklist = checklist_in(dir.path(), "staging", "digest-1");

    let journal = file::open(&dir.path().join("journals"), &checklist, false, "Ana").unwrap();

    assert_eq!(journal.events().len(), 1);
    let first = &journal.events()[0];
    assert_eq!(first.seq, 1);
    assert_eq!(first.actor, "Ana");
    assert_eq!(first.prev, GENESIS_HASH);
    let EventKind::SessionStarted {
        checklist: path,
        digest,
        environment,
        version,
    } = &first.kind
    else {
        panic!("first event is {:?}, expected SessionStarted", first.kind);
    };
    assert!(
        path.ends_with("authbridge-launch.toml"),
        "checklist path {path}"
    );
    assert!(Path::new(path).is_absolute(), "checklist path {path}");
    assert_eq!(digest, "digest-1");
    assert_eq!(environment, "staging");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert!(journal.warnings().is_empty(), "{:?}", journal.warnings());
}

#[test]
fn append_reopen_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let checklist = checklist_in(dir.path(), "staging", "digest-1");

    let mut journal = file::open(&journals, &checklist, false, "Ana").unwrap();
    let tick = journal
        .append("Ana <ana@example.com>", ticked("db"))
        .unwrap();
    let remark = journal
        .append("Bo", note("db", "migrated \"users\"\nin 3 min ✓"))
        .unwrap();
    let written = journal.events().to_vec();
    let path = journal.path().to_path_buf();
    drop(journal);

    assert_eq!(tick.seq, 2);
    assert_eq!(remark.seq, 3);
    assert_eq!(remark.prev, tick.hash);
    let bytes = fs::read(&path).unwrap();
    assert_eq!(bytes.iter().filter(|&&byte| byte == b'\n').count(), 3);
    assert_eq!(bytes.last(), Some(&b'\n'));

    let mut reopened = file::open(&journals, &checklist, false, "Ana").unwrap();
    assert_eq!(reopened.events(), written.as_slice());
    assert!(reopened.warnings().is_empty(), "{:?}", reopened.warnings());
    assert_eq!(reopened.head(), remark.hash);
    let next = reopened
        .append("Ana", EventKind::Unticked { item: "db".into() })
        .unwrap();
    assert_eq!(next.seq, 4);
    assert_eq!(next.prev, remark.hash);
    drop(reopened);

    let by_path = file::open_path(&path).unwrap();
    assert_eq!(by_path.events().len(), 4);
    assert_eq!(by_path.location(), path.display().to_string());
}

#[test]
fn unsynced_appends_chain_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let checklist = checklist_in(dir.path(), "staging", "digest-1");

    let mut journal = file::open(&journals, &checklist, false, "Ana").unwrap();
    let outcome = journal
        .append_unsynced(
            "golive",
            EventKind::CheckOutcome {
                item: "health".into(),
                outcome: golive::checks::Outcome::Pass,
                summary: "1 expectation met".into(),
                files: Vec::new(),
            },
        )
        .unwrap();
    let tick = journal.append("Ana", ticked("db")).unwrap();
    let written = journal.events().to_vec();
    drop(journal);

    assert_eq!(outcome.seq, 2);
    assert_eq!(tick.prev, outcome.hash);
    let reopened = file::open(&journals, &checklist, false, "Ana").unwrap();
    assert_eq!(reopened.events(), written.as_slice());
    assert!(file::verify_chain(reopened.events()).is_ok());
}

#[test]
fn path_for_names_stem_hash_environment() {
    let dir = tempfile::tempdir().unwrap();
    let staging = checklist_in(dir.path(), "staging", "d");
    let production = checklist_in(dir.path(), "production", "d");
    let elsewhere = checklist_in(&dir.path().join("other"), "staging", "d");
    let journals = Path::new("journals");

    let path = file::path_for(journals, &staging);

    assert_eq!(path.parent(), Some(journals));
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let middle = name
        .strip_prefix("authbridge-launch-")
        .and_then(|rest| rest.strip_suffix("-staging.jsonl"))
        .unwrap_or_else(|| panic!("unexpected journal name {name}"));
    assert_eq!(middle.len(), 8, "{name}");
    assert!(middle.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
    assert_ne!(file::path_for(journals, &production), path);
    assert_ne!(file::path_for(journals, &elsewhere), path);
    assert_eq!(file::path_for(journals, &staging), path);
}

#[test]
fn path_for_replaces_unsafe_characters() {
    let dir = tempfile::tempdir().unwrap();
    let mut checklist = checklist_in(dir.path(), "eu west/1", "d");
    checklist.path = dir.path().join("launch plan.toml");

    let path = file::path_for(Path::new("journals"), &checklist);

    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("launch-plan-"), "{name}");
    let environment_hash = name
        .strip_suffix(".jsonl")
        .and_then(|rest| rest.rsplit_once("-eu-west-1-"))
        .map(|(_, hash)| hash)
        .unwrap_or_else(|| panic!("unexpected journal name {name}"));
    assert_eq!(environment_hash.len(), 8, "{name}");
    assert!(
        environment_hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{name}"
    );
}

#[test]
fn path_for_separates_colliding_environments() {
    let dir = tempfile::tempdir().unwrap();
    let journals = Path::new("journals");
    // Each pair becomes the same text once unsafe characters are replaced with `-`.
    let pairs = [("生产", "测试"), ("a b", "a-b"), ("eu/west", "eu west")];

    for (first, second) in pairs {
        let first_path = file::path_for(journals, &checklist_in(dir.path(), first, "d"));
        let second_path = file::path_for(journals, &checklist_in(dir.path(), second, "d"));
        assert_ne!(first_path, second_path, "{first} and {second}");
    }
}

#[test]
fn new_session_keeps_colliding_environment() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let production = checklist_in(dir.path(), "生产", "digest-1");
    let testing = checklist_in(dir.path(), "测试", "digest-1");
    let mut first = file::open(&journals, &production, false, "Ana").unwrap();
    first.append("Ana", ticked("db")).unwrap();
    let production_path = first.path().to_path_buf();
    drop(first);
    let before = fs::read(&production_path).unwrap();

    let second = file::open(&journals, &testing, true, "Bo").unwrap();

    assert_ne!(second.path(), production_path);
    assert_eq!(second.events().len(), 1);
    assert_eq!(fs::read(&production_path).unwrap(), before);
    assert_eq!(
        file_names(&journals).len(),
        2,
        "{:?}",
        file_names(&journals)
    );
    let reopened = file::open(&journals, &production, false, "Ana").unwrap();
    assert_eq!(reopened.events().len(), 2);
}

#[test]
fn similar_environment_names_open_separately() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let spaced = checklist_in(dir.path(), "a b", "digest-1");
    let dashed = checklist_in(dir.path(), "a-b", "digest-1");
    drop(file::open(&journals, &spaced, false, "Ana").unwrap());

    let opened = file::open(&journals, &dashed, false, "Ana");

    let journal = opened.unwrap();
    assert_eq!(journal.events().len(), 1);
}

#[test]
fn long_checklist_name_journal_works() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let mut checklist = checklist_in(dir.path(), "staging", "digest-1");
    // 250 characters plus `.toml` is the longest name most file systems accept.
    checklist.path = dir.path().join(format!("{}.toml", "l".repeat(250)));
    fs::write(&checklist.path, "").unwrap();

    let mut journal = file::open(&journals, &checklist, false, "Ana").unwrap();
    journal.append("Ana", ticked("db")).unwrap();
    let path = journal.path().to_path_buf();
    drop(journal);
    let rotated = file::open(&journals, &checklist, true, "Bo").unwrap();
    drop(rotated);
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{\"seq\":2")
        .unwrap();
    let recovered = file::open(&journals, &checklist, false, "Bo").unwrap();

    let name_len = path.file_name().unwrap().len();
    assert!(name_len < 160, "journal name is {name_len} bytes");
    assert_eq!(recovered.events().len(), 1);
    assert_eq!(recovered.warnings().len(), 1, "{:?}", recovered.warnings());
    let names = file_names(&journals);
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names.iter().any(|name| name.contains(".torn-")),
        "{names:?}"
    );
    assert!(names.iter().all(|name| name.len() < 255), "{names:?}");
}

#[test]
fn long_environment_name_shortened() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let long = checklist_in(dir.path(), &"e".repeat(300), "digest-1");
    let longer = checklist_in(dir.path(), &"e".repeat(301), "digest-1");

    let journal = file::open(&journals, &long, false, "Ana").unwrap();

    let name_len = journal.path().file_name().unwrap().len();
    assert!(name_len < 160, "journal name is {name_len} bytes");
    assert_ne!(file::path_for(&journals, &longer), journal.path());
}

#[test]
fn hash_matches_documented_layout() {
    let at: jiff::Timestamp = "2026-02-16T06:00:00Z".parse().unwrap();
    let prev = "ab".repeat(32);
    let canonical = concat!(
        r#"{"seq":2,"at":"2026-02-16T06:00:00Z","actor":"Ana","#,
        r#""kind":{"type":"ticked","item":"db"}}"#,
    );
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(canonical.as_bytes());
    let expected = hex::encode(hasher.finalize());

    let hash = compute_hash(&prev, 2, &at, "Ana", &ticked("db"));

    assert_eq!(hash, expected);
}

#[test]
fn stored_line_matches_documented_layout() {
    let at: jiff::Timestamp = "2026-02-16T06:00:00.5Z".parse().unwrap();
    let event = Event::chained(GENESIS_HASH, 1, at, "Ana", ticked("db"));

    let line = serde_json::to_string(&event).unwrap();

    let expected = format!(
        "{}{}",
        r#"{"seq":1,"at":"2026-02-16T06:00:00.5Z","actor":"Ana","type":"ticked","item":"db","#,
        format_args!(r#""prev":"{GENESIS_HASH}","hash":"{}"}}"#, event.hash),
    );
    assert_eq!(line, expected);
}

#[test]
fn verify_chain_accepts_written_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 4);

    let events = parse_lines(&fs::read(&path).unwrap());

    assert_eq!(events.len(), 5);
    assert_eq!(verify_chain(&events), Ok(()));
}

#[test]
fn verify_chain_names_tampered_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 4);
    let original = fs::read(&path).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    // Line 3 contains "note number 1"; one changed byte keeps it valid JSON.
    let tampered_text = text.replacen("note number 1", "note number 7", 1);
    assert_ne!(tampered_text, text);
    fs::write(&path, &tampered_text).unwrap();

    let events = parse_lines(tampered_text.as_bytes());
    let err = verify_chain(&events).unwrap_err();

    assert_eq!(err.seq, 3);
    assert_eq!(err.line, 3);
    assert!(err.reason.contains("hash"), "{}", err.reason);

    let opened = file::open_path(&path);
    match opened {
        Err(JournalError::Damaged { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected Damaged, got {other:?}"),
    }
    assert_eq!(fs::read(&path).unwrap(), tampered_text.as_bytes());
}

#[test]
fn verify_chain_reports_seq_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 4);
    let mut events = parse_lines(&fs::read(&path).unwrap());
    events.remove(2);

    let err = verify_chain(&events).unwrap_err();

    assert_eq!(err.seq, 4);
    assert_eq!(err.line, 3);
    assert!(err.reason.contains("seq"), "{}", err.reason);
}

#[test]
fn verify_chain_reports_wrong_prev() {
    let mut events = Vec::new();
    let at = jiff::Timestamp::UNIX_EPOCH;
    events.push(Event::chained(GENESIS_HASH, 1, at, "Ana", ticked("a")));
    // Chained to the genesis hash again instead of to event 1.
    events.push(Event::chained(GENESIS_HASH, 2, at, "Ana", ticked("b")));

    let err = verify_chain(&events).unwrap_err();

    assert_eq!(err.seq, 2);
    assert_eq!(err.line, 2);
    assert!(err.reason.contains("prev"), "{}", err.reason);
}

#[test]
fn torn_last_line_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 2);
    let complete = fs::read(&path).unwrap();
    let torn = br#"{"seq":4,"at":"2026-02-16T06:00:00Z","actor":"An"#;
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(torn)
        .unwrap();

    let mut journal = file::open_path(&path).unwrap();

    assert_eq!(journal.events().len(), 3);
    assert_eq!(journal.warnings().len(), 1);
    assert!(
        journal.warnings()[0].contains("line 4"),
        "{}",
        journal.warnings()[0]
    );
    assert_eq!(fs::read(&path).unwrap(), complete);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let copies: Vec<String> = file_names(path.parent().unwrap())
        .into_iter()
        .filter(|entry| entry.starts_with(&format!("{name}.torn-")))
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    let copy = path.with_file_name(&copies[0]);
    assert_eq!(fs::read(&copy).unwrap(), torn);
    assert!(
        journal.warnings()[0].contains(&copies[0]),
        "{}",
        journal.warnings()[0]
    );

    let next = journal.append("Ana", ticked("db")).unwrap();
    assert_eq!(next.seq, 4);
    drop(journal);
    let reopened = file::open_path(&path).unwrap();
    assert_eq!(reopened.events().len(), 4);
    assert!(reopened.warnings().is_empty(), "{:?}", reopened.warnings());
}

#[test]
fn torn_line_of_nul_bytes_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 2);
    let complete = fs::read(&path).unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"\0\0\0\0")
        .unwrap();

    let journal = file::open_path(&path).unwrap();

    assert_eq!(journal.events().len(), 3);
    assert_eq!(journal.warnings().len(), 1);
    assert!(
        journal.warnings()[0].contains("line 4"),
        "{}",
        journal.warnings()[0]
    );
    assert_eq!(fs::read(&path).unwrap(), complete);
}

#[test]
fn complete_unparsable_last_line_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 2);
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{\"seq\":4,\"at\":\n")
        .unwrap();
    let before = fs::read(&path).unwrap();
    let names_before = file_names(path.parent().unwrap());

    let opened = file::open_path(&path);
    let read = file::read_journal(&path);

    assert!(
        matches!(opened, Err(JournalError::Damaged { line: 4, .. })),
        "{opened:?}"
    );
    assert!(
        matches!(read, Err(JournalError::Damaged { line: 4, .. })),
        "{read:?}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(file_names(path.parent().unwrap()), names_before);
}

#[test]
fn read_journal_skips_torn_line_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 2);
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{\"seq\":4")
        .unwrap();
    let before = fs::read(&path).unwrap();
    let names_before = file_names(path.parent().unwrap());

    let contents = file::read_journal(&path).unwrap();

    assert_eq!(contents.events.len(), 3);
    assert_eq!(contents.warnings.len(), 1);
    assert!(
        contents.warnings[0].contains("line 4"),
        "{}",
        contents.warnings[0]
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(file_names(path.parent().unwrap()), names_before);
}

#[test]
fn corrupted_middle_line_leaves_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 3);
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{\"seq\":2,\"at\":";
    let damaged = format!("{}\n", lines.join("\n"));
    fs::write(&path, &damaged).unwrap();
    let names_before = file_names(path.parent().unwrap());

    let opened = file::open_path(&path);

    match opened {
        Err(JournalError::Damaged {
            line,
            path: reported,
            ..
        }) => {
            assert_eq!(line, 2);
            assert_eq!(reported, path.display().to_string());
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
    assert_eq!(fs::read(&path).unwrap(), damaged.as_bytes());
    assert_eq!(file_names(path.parent().unwrap()), names_before);
}

#[test]
fn damage_with_torn_tail_leaves_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 3);
    let text = fs::read_to_string(&path).unwrap();
    let damaged = format!(
        "{}{{\"seq\":5",
        text.replacen("note number 0", "note number 9", 1)
    );
    fs::write(&path, &damaged).unwrap();
    let names_before = file_names(path.parent().unwrap());

    let opened = file::open_path(&path);

    assert!(
        matches!(opened, Err(JournalError::Damaged { line: 2, .. })),
        "{opened:?}"
    );
    assert_eq!(fs::read(&path).unwrap(), damaged.as_bytes());
    assert_eq!(file_names(path.parent().unwrap()), names_before);
}

#[test]
fn new_session_keeps_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let path = journal_with_notes(dir.path(), 2);
    let old = fs::read(&path).unwrap();
    let checklist = checklist_in(dir.path(), "staging", "digest-1");

    let journal = file::open(&journals, &checklist, true, "Bo").unwrap();

    assert_eq!(journal.path(), path);
    assert_eq!(journal.events().len(), 1);
    assert!(matches!(
        journal.events()[0].kind,
        EventKind::SessionStarted { .. }
    ));
    assert_eq!(journal.events()[0].actor, "Bo");
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let asides: Vec<String> = file_names(&journals)
        .into_iter()
        .filter(|name| name.starts_with(&format!("{stem}-")) && name.ends_with(".jsonl"))
        .collect();
    assert_eq!(asides.len(), 1, "{asides:?}");
    assert_eq!(fs::read(journals.join(&asides[0])).unwrap(), old);
    drop(journal);

    // A second rotation within the same second still keeps both earlier files.
    let again = file::open(&journals, &checklist, true, "Bo").unwrap();
    assert_eq!(again.events().len(), 1);
    assert_eq!(
        file_names(&journals).len(),
        3,
        "{:?}",
        file_names(&journals)
    );
}

#[test]
fn new_session_sets_damaged_file_aside() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let path = journal_with_notes(dir.path(), 2);
    fs::write(&path, "not a journal\nat all\n").unwrap();
    let checklist = checklist_in(dir.path(), "staging", "digest-1");

    let journal = file::open(&journals, &checklist, true, "Bo").unwrap();

    assert_eq!(journal.events().len(), 1);
    assert_eq!(
        file_names(&journals).len(),
        2,
        "{:?}",
        file_names(&journals)
    );
}

#[test]
fn environment_mismatch_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let staging_path = journal_with_notes(dir.path(), 1);
    let production = checklist_in(dir.path(), "production", "digest-1");
    let production_path = file::path_for(&journals, &production);
    fs::copy(&staging_path, &production_path).unwrap();
    // A torn last line must not be recovered from a journal that is then rejected.
    fs::OpenOptions::new()
        .append(true)
        .open(&production_path)
        .unwrap()
        .write_all(b"{\"seq\":3")
        .unwrap();
    let before = fs::read(&production_path).unwrap();
    let names_before = file_names(&journals);

    let opened = file::open(&journals, &production, false, "Ana");

    match opened {
        Err(JournalError::Mismatch { reason, .. }) => {
            assert!(reason.contains("staging"), "{reason}");
        }
        other => panic!("expected Mismatch, got {other:?}"),
    }
    assert_eq!(fs::read(&production_path).unwrap(), before);
    assert_eq!(file_names(&journals), names_before);
}

#[test]
fn changed_digest_is_warning() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    journal_with_notes(dir.path(), 1);
    let edited = checklist_in(dir.path(), "staging", "digest-2");

    let journal = file::open(&journals, &edited, false, "Ana").unwrap();

    assert_eq!(journal.events().len(), 2);
    assert_eq!(journal.warnings().len(), 1, "{:?}", journal.warnings());
    assert!(
        journal.warnings()[0].contains("changed"),
        "{}",
        journal.warnings()[0]
    );
}

#[test]
fn first_event_must_start_session() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let checklist = checklist_in(dir.path(), "staging", "digest-1");
    let path = file::path_for(&journals, &checklist);
    fs::create_dir_all(&journals).unwrap();
    let event = Event::chained(GENESIS_HASH, 1, jiff::Timestamp::now(), "Ana", ticked("db"));
    fs::write(
        &path,
        format!("{}\n", serde_json::to_string(&event).unwrap()),
    )
    .unwrap();

    let opened = file::open(&journals, &checklist, false, "Ana");

    assert!(
        matches!(opened, Err(JournalError::Damaged { line: 1, .. })),
        "{opened:?}"
    );
}

#[test]
fn second_opener_rejected_while_locked() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let checklist = checklist_in(dir.path(), "staging", "digest-1");
    let first = file::open(&journals, &checklist, false, "Ana").unwrap();
    let path = first.path().to_path_buf();

    let second = file::open(&journals, &checklist, false, "Bo");
    let by_path = file::open_path(&path);
    let rotated = file::open(&journals, &checklist, true, "Bo");

    let err = second.unwrap_err();
    assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("another golive"), "{message}");
    assert!(
        matches!(by_path, Err(JournalError::Locked { .. })),
        "{by_path:?}"
    );
    assert!(
        matches!(rotated, Err(JournalError::Locked { .. })),
        "{rotated:?}"
    );
    assert_eq!(
        file_names(&journals).len(),
        1,
        "{:?}",
        file_names(&journals)
    );

    drop(first);
    let after = file::open(&journals, &checklist, false, "Bo").unwrap();
    assert_eq!(after.events().len(), 1);
}

#[test]
fn append_after_delete_fails() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let checklist = checklist_in(dir.path(), "staging", "digest-1");
    let mut journal = file::open(&journals, &checklist, false, "Ana").unwrap();
    let path = journal.path().to_path_buf();
    fs::remove_file(&path).unwrap();

    let appended = journal.append("Ana", ticked("db"));

    let err = appended.unwrap_err();
    assert!(matches!(err, JournalError::Moved { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("moved or deleted"), "{message}");
    assert!(message.contains("NOT recorded"), "{message}");
    assert!(message.contains("restart golive"), "{message}");
    assert_eq!(journal.events().len(), 1);
    assert!(!path.exists());
}

#[test]
fn append_after_rename_fails() {
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let checklist = checklist_in(dir.path(), "staging", "digest-1");
    let mut journal = file::open(&journals, &checklist, false, "Ana").unwrap();
    let path = journal.path().to_path_buf();
    let moved = journals.join("moved.jsonl");
    fs::rename(&path, &moved).unwrap();
    let before = fs::read(&moved).unwrap();

    let first = journal.append("Ana", ticked("db"));
    let second = journal.append("golive", ticked("db"));

    assert!(
        matches!(first, Err(JournalError::Moved { .. })),
        "{first:?}"
    );
    assert!(
        matches!(second, Err(JournalError::Moved { .. })),
        "{second:?}"
    );
    assert_eq!(journal.events().len(), 1);
    assert_eq!(fs::read(&moved).unwrap(), before);
    drop(journal);
    let restarted = file::open(&journals, &checklist, false, "Ana").unwrap();
    assert_eq!(restarted.path(), path);
    assert_eq!(restarted.events().len(), 1);
}

#[test]
fn io_error_prints_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the journal folder should be makes creating the folder fail.
    let journals = dir.path().join("journals");
    fs::write(&journals, "").unwrap();
    let checklist = checklist_in(dir.path(), "staging", "digest-1");

    let err = file::open(&journals, &checklist, false, "Ana").unwrap_err();

    let JournalError::Io { source, .. } = &err else {
        panic!("expected Io, got {err:?}");
    };
    let os_error = source.to_string();
    let chain = format!(
        "{:#}",
        anyhow::Error::new(err).context("cannot open the journal")
    );
    assert_eq!(chain.matches(&os_error).count(), 1, "{chain}");
}

#[test]
fn read_only_error_suggests_journal_dir() {
    let err = JournalError::Io {
        action: "create the folder of",
        path: "/srv/journals".into(),
        source: std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem),
    };

    let message = err.to_string();

    assert!(message.contains("read-only"), "{message}");
    assert!(message.contains("[paths] journal_dir"), "{message}");
    assert!(std::error::Error::source(&err).is_none());
}

#[test]
fn open_path_missing_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.jsonl");

    let opened = file::open_path(&path);

    assert!(matches!(opened, Err(JournalError::Io { .. })), "{opened:?}");
    assert!(!path.exists());
}

/// Reads the child's output on a thread so that the parent can wait with a bound.
fn spawn_line_reader(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

#[test]
fn killed_writer_keeps_acknowledged_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 0);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "journal::crash_child_appends_ticks",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(CHILD_ENV, "1")
        .env(CHILD_PATH_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = spawn_line_reader(child.stdout.take().unwrap());

    let mut acknowledged = BTreeSet::new();
    while acknowledged.len() < CRASH_ACKS {
        let Ok(line) = lines.recv_timeout(CHILD_LINE_TIMEOUT) else {
            child.kill().unwrap();
            panic!(
                "child stopped after {} acknowledgements",
                acknowledged.len()
            );
        };
        if let Some(seq) = line.strip_prefix("ack ") {
            acknowledged.insert(seq.parse::<u64>().unwrap());
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let journal = file::open_path(&path).unwrap();
    let present: BTreeSet<u64> = journal.events().iter().map(|event| event.seq).collect();
    let missing: Vec<&u64> = acknowledged.difference(&present).collect();
    assert!(missing.is_empty(), "acknowledged but missing: {missing:?}");
    assert_eq!(verify_chain(journal.events()), Ok(()));
    assert!(
        journal.events().len() > CRASH_ACKS,
        "{}",
        journal.events().len()
    );
}

/// The writer of the crash test, run only as its child process: appends ticks to the journal
/// named by the environment and prints `ack <seq>` after each append returns.
#[test]
#[ignore = "runs only as the child process of killed_writer_keeps_acknowledged_events"]
fn crash_child_appends_ticks() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let path = PathBuf::from(std::env::var_os(CHILD_PATH_ENV).unwrap());
    let mut journal = file::open_path(&path).unwrap();
    // Direct writes to stdout bypass the test harness's output capture.
    let mut stdout = std::io::stdout();
    // Hang protection in case the parent never kills this process.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        let event = journal.append("golive", ticked("tick")).unwrap();
        if writeln!(stdout, "ack {}", event.seq)
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return;
        }
    }
}

// Files that are not journals, read by `read_journal` and `golive journal verify`

/// Upper bound on reading a file that is not a journal, as hang protection only.
const NOT_JOURNAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `read_journal` on its own thread, so that a read that blocks fails the test instead of
/// hanging it.
fn read_journal_with_timeout(path: &Path) -> Result<file::JournalContents, JournalError> {
    let (sender, receiver) = mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = sender.send(file::read_journal(&path));
    });
    match receiver.recv_timeout(NOT_JOURNAL_TIMEOUT) {
        Ok(result) => result,
        Err(err) => panic!("read_journal did not finish within {NOT_JOURNAL_TIMEOUT:?}: {err}"),
    }
}

/// Returns the reason of a [`JournalError::NotJournal`], failing the test on anything else.
fn not_journal_reason(path: &Path) -> String {
    match read_journal_with_timeout(path) {
        Err(JournalError::NotJournal {
            path: reported,
            reason,
        }) => {
            assert_eq!(reported, path.display().to_string());
            reason
        }
        other => panic!("expected NotJournal, got {other:?}"),
    }
}

fn make_fifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {} failed", path.display());
}

/// Runs `golive journal verify --file PATH`, killing it after [`NOT_JOURNAL_TIMEOUT`].
fn verify_file(home: &Path, path: &Path) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_golive"))
        .args(["journal", "verify", "--file"])
        .arg(path)
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("golive runs");
    let started = std::time::Instant::now();
    while child
        .try_wait()
        .expect("golive can be waited for")
        .is_none()
    {
        if started.elapsed() > NOT_JOURNAL_TIMEOUT {
            let _ = child.kill();
            panic!("golive journal verify did not exit within {NOT_JOURNAL_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("golive output is read")
}

#[test]
fn file_without_newline_is_not_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.jsonl");
    fs::write(&path, vec![0u8; 4096]).unwrap();
    let reason = not_journal_reason(&path);
    assert_eq!(
        reason,
        "it has no complete line, only 4096 bytes without a line end"
    );
}

#[test]
fn huge_first_line_stops_at_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.jsonl");
    fs::write(&path, vec![0u8; 3 * file::MAX_READ_LINE_BYTES]).unwrap();
    let reason = not_journal_reason(&path);
    assert_eq!(
        reason,
        "line 1 is longer than 1 MiB, the maximum of a journal line"
    );
}

#[test]
fn empty_file_is_not_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    fs::write(&path, b"").unwrap();
    assert_eq!(not_journal_reason(&path), "it is empty");
}

#[test]
fn json_lines_of_other_data_not_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.jsonl");
    fs::write(&path, b"{\"template-id\":\"a\"}\n{\"template-id\":\"b\"}\n").unwrap();
    let reason = not_journal_reason(&path);
    assert!(
        reason.starts_with("line 1 is not a journal event: "),
        "{reason}"
    );
}

#[test]
fn journal_without_session_start_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 2);
    let text = fs::read_to_string(&path).unwrap();
    let without_start: String = text
        .lines()
        .skip(1)
        .map(|line| format!("{line}\n"))
        .collect();
    fs::write(&path, without_start).unwrap();
    assert_eq!(
        not_journal_reason(&path),
        "its first event is note, not session_started"
    );
}

#[test]
fn torn_first_line_is_not_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torn.jsonl");
    fs::write(
        &path,
        br#"{"seq":1,"at":"2026-02-16T06:00:00Z","actor":"An"#,
    )
    .unwrap();
    let reason = not_journal_reason(&path);
    assert!(reason.starts_with("it has no complete line"), "{reason}");
}

#[test]
fn fifo_is_not_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    make_fifo(&path);
    assert_eq!(
        not_journal_reason(&path),
        "it is a FIFO, not a regular file; pass the path of a journal file"
    );
}

#[test]
fn character_device_is_not_journal() {
    let reason = not_journal_reason(Path::new("/dev/zero"));
    assert_eq!(
        reason,
        "it is a character device, not a regular file; pass the path of a journal file"
    );
}

#[test]
fn directory_is_not_journal() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        not_journal_reason(dir.path()),
        "it is a directory, not a regular file; pass the journal file inside it"
    );
}

#[test]
fn overlong_later_line_is_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 1);
    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&vec![b'x'; file::MAX_READ_LINE_BYTES + 1])
        .unwrap();
    drop(file);
    let read = read_journal_with_timeout(&path);
    match read {
        Err(JournalError::Damaged { line, reason, .. }) => {
            assert_eq!(line, 3);
            assert_eq!(
                reason,
                "line 3 is longer than 1 MiB, the maximum of a journal line"
            );
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
}

#[test]
fn line_at_maximum_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_with_notes(dir.path(), 1);
    let mut line = vec![b'x'; file::MAX_READ_LINE_BYTES];
    line.push(b'\n');
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&line)
        .unwrap();
    let read = read_journal_with_timeout(&path);
    match read {
        Err(JournalError::Damaged { line, reason, .. }) => {
            assert_eq!(line, 3);
            assert!(reason.starts_with("not a valid journal event"), "{reason}");
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
}

#[test]
fn verify_command_rejects_non_journal() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("zeros.jsonl");
    fs::write(&path, vec![0u8; 4096]).unwrap();
    let output = verify_file(home.path(), &path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("{} is not a golive journal", path.display())),
        "{stdout}"
    );
    assert!(!stdout.contains("hash chain intact"), "{stdout}");
}

#[test]
fn verify_command_rejects_fifo() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("journal.jsonl");
    make_fifo(&path);
    let output = verify_file(home.path(), &path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("is a FIFO, not a regular file"), "{stdout}");
}

#[test]
fn verify_command_accepts_journal() {
    let home = tempfile::tempdir().unwrap();
    let path = journal_with_notes(home.path(), 2);
    let output = verify_file(home.path(), &path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("hash chain intact"), "{stdout}");
    assert!(stdout.contains("length: 3"), "{stdout}");
}

#[test]
fn secret_typed_into_note_masked_in_file() {
    const SECRET: &str = "sk-live-made-up-0042";
    let dir = tempfile::tempdir().unwrap();
    let mut checklist = checklist_in(dir.path(), "staging", "digest-1");
    let mut redactor = Redactor::new();
    redactor.add(SECRET);
    checklist.redactor = Arc::new(redactor);
    let mut journal = file::open(&dir.path().join("journals"), &checklist, false, "Ana").unwrap();

    let event = journal
        .append("Ana", note("dns", &format!("tried key {SECRET} by hand")))
        .unwrap();

    assert_eq!(event.kind, note("dns", "tried key •••••• by hand"));
    let text =
        fs::read_to_string(file::path_for(&dir.path().join("journals"), &checklist)).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("tried key •••••• by hand"), "{text}");
}
