//! The session journal: an append-only, hash-chained log of everything that happens in a
//! launch session.
//!
//! [`Journal`] is the interface the front ends use; [`file::FileJournal`] keeps the log in a
//! local JSON Lines file. A shared implementation (for example on DynamoDB) implements the same
//! trait.
//!
//! # Hash chain
//!
//! Each event's `hash` is the lowercase hex SHA-256 of these bytes, with nothing between them:
//!
//! 1. the `prev` field as written: 64 lowercase hex characters in ASCII;
//! 2. the canonical JSON of the event without `prev` and `hash`. It is one object with the keys
//!    `seq`, `at`, `actor` and `kind` in that order. `kind` is an object whose first key is
//!    `type` (the snake_case event name), followed by the event's fields in the order
//!    [`EventKind`] declares them.
//!
//! The canonical JSON is the compact output of `serde_json`. It has no whitespace
//! outside strings, `seq` as a plain integer, `at` as the RFC 3339 UTC string `jiff` writes
//! (such as `2026-02-16T06:00:00.5Z`), and strings escaped as `serde_json` escapes them (`"`,
//! `\` and control characters escaped, everything else as raw UTF-8). For example, the event
//! stored as `{"seq":2,"at":"2026-02-16T06:00:00Z","actor":"Ana","type":"ticked","item":"db",
//! "prev":"<hex>","hash":"<hex>"}` hashes `<prev hex>` followed by
//! `{"seq":2,"at":"2026-02-16T06:00:00Z","actor":"Ana","kind":{"type":"ticked","item":"db"}}`.
//!
//! The first event's `prev` is [`GENESIS_HASH`]. [`compute_hash`] computes the hash and
//! [`verify_chain`] checks a whole sequence.
//!
//! ## What the chain detects
//!
//! Editing, inserting, reordering or removing an event anywhere before the last event breaks
//! the chain: the changed event's hash no longer matches its content, or the next event's
//! `prev` or `seq` no longer matches, and [`verify_chain`] names the first such event.
//!
//! Removing events from the end cannot be detected from the file alone, because what is left
//! is still a valid chain. Neither can rewriting the whole file with freshly computed hashes,
//! because the hash is not keyed. Both are detected only by comparing the journal's head hash
//! ([`Journal::head`]) with a head hash recorded elsewhere, such as in a signed launch record.

pub mod file;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checklist::Risk;
use crate::checks::{FileDigest, Outcome};
use crate::redact::Redactor;
use crate::session::{Counts, Status};

/// Hash that the first event of a journal chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event of the journal as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the journal, starting at 1.
    pub seq: u64,
    pub at: jiff::Timestamp,
    /// The person or program that caused the event: a person's name and email, or `golive` for check outcomes.
    pub actor: String,
    #[serde(flatten)]
    pub kind: EventKind,
    /// Hash of the previous event, or [`GENESIS_HASH`] for the first.
    pub prev: String,
    /// SHA-256 over `prev` and the canonical JSON of `seq`, `at`, `actor` and the kind.
    pub hash: String,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A session began on a checklist file (by its digest) and environment.
    SessionStarted {
        checklist: String,
        digest: String,
        environment: String,
        version: String,
    },
    /// A person marked a manual item done.
    Ticked { item: String },
    /// A person took back a tick or a failure mark.
    Unticked { item: String },
    /// A person marked a manual item failed.
    MarkedFailed { item: String },
    /// A person added a note to an item.
    Note { item: String, text: String },
    /// A check's outcome, or the set of files it judged, differs from its previous one.
    CheckOutcome {
        item: String,
        outcome: Outcome,
        summary: String,
        /// Files the check read, such as scanner reports, so that a record built from the
        /// journal alone still names them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<FileDigest>,
    },
    /// A person sent a manual item's request. The outcome is evidence for the person, who
    /// still marks the item done or failed.
    ManualRun {
        item: String,
        outcome: Outcome,
        summary: String,
    },
    /// A person (the event's actor, who requested it) waived a failed or unfinished item with
    /// the approval of another person, until `expires`.
    Waived {
        item: String,
        reason: String,
        risk: Risk,
        control: String,
        expires: jiff::Timestamp,
        approved_by: String,
    },
    /// A person revoked the waiver of an item.
    WaiverRevoked { item: String },
    /// The waiver of an item that expired at `expires` no longer counts, so the item reopened.
    WaiverExpired {
        item: String,
        expires: jiff::Timestamp,
    },
    /// A person gave a sign-off in the role they stated.
    SignedOff {
        signoff: String,
        role: String,
        state: SignOffState,
    },
    /// An item that counted toward GO when `signoff` was given no longer does.
    Drift {
        item: String,
        from: Status,
        to: Status,
        signoff: String,
    },
}

impl EventKind {
    /// Returns the event with every secret value of `redactor` masked in its free text: notes,
    /// summaries, waiver reasons and controls, and names typed by a person.
    pub fn masked(self, redactor: &Redactor) -> EventKind {
        let mask = |text: String| redactor.redact(&text);
        match self {
            EventKind::Note { item, text } => EventKind::Note {
                item,
                text: mask(text),
            },
            EventKind::CheckOutcome {
                item,
                outcome,
                summary,
                files,
            } => EventKind::CheckOutcome {
                item,
                outcome,
                summary: mask(summary),
                files,
            },
            EventKind::ManualRun {
                item,
                outcome,
                summary,
            } => EventKind::ManualRun {
                item,
                outcome,
                summary: mask(summary),
            },
            EventKind::Waived {
                item,
                reason,
                risk,
                control,
                expires,
                approved_by,
            } => EventKind::Waived {
                item,
                reason: mask(reason),
                risk,
                control: mask(control),
                expires,
                approved_by: mask(approved_by),
            },
            EventKind::SignedOff {
                signoff,
                role,
                state,
            } => EventKind::SignedOff {
                signoff,
                role: mask(role),
                state,
            },
            other => other,
        }
    }
}

/// The state of the session when a sign-off was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignOffState {
    /// `go` when every required item was passed, done or waived, else `no-go`. Sign-offs are
    /// not part of it.
    pub verdict: String,
    pub counts: Counts,
    /// Hash of the last journal event before the sign-off.
    pub journal_head: String,
}

/// Failures of a journal.
///
/// The message of [`JournalError::Io`] contains the operating system error, because the
/// cockpit shows only this message on its error line. So that chain printers such as
/// anyhow's `{:#}` do not print the OS error a second time, `source()` returns `None` for
/// every variant. The type implements `Display` and `Error` by hand because thiserror always
/// treats a field named `source` as the error source.
#[derive(Debug)]
pub enum JournalError {
    /// A file system operation on the journal or its folder failed.
    Io {
        /// The operation that failed, such as `append to`. The message reads
        /// `cannot {action} journal {path}`.
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    /// A line that is not a valid event, a broken hash chain, or a first event that does not
    /// start a session. The file was left as it is.
    Damaged {
        path: String,
        line: usize,
        reason: String,
    },
    /// The journal was started for another environment.
    Mismatch { path: String, reason: String },
    /// Another golive process holds the journal's lock.
    Locked { path: String },
    /// The file is not a journal that golive wrote: not a regular file, no complete event, or
    /// a first line that is not a `session_started` event. Only readers report it.
    NotJournal { path: String, reason: String },
    /// The journal's path no longer names the file that the open journal writes to, because
    /// the file was deleted, renamed or replaced after it was opened.
    Moved { path: String },
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Io {
                action,
                path,
                source,
            } => {
                write!(f, "cannot {action} journal {path}: {source}")?;
                if let Some(hint) = io_hint(source) {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            JournalError::Damaged { path, line, reason } => write!(
                f,
                "journal {path} is damaged at line {line}: {reason}; the file was left as it \
                 is. Keep it as evidence and start a fresh session with --new-session, which \
                 moves it aside"
            ),
            JournalError::Mismatch { path, reason } => write!(
                f,
                "journal {path} belongs to another checklist or environment: {reason}"
            ),
            JournalError::NotJournal { path, reason } => {
                write!(f, "{path} is not a golive journal: {reason}")
            }
            JournalError::Locked { path } => write!(
                f,
                "journal {path} is locked because another golive process has it open; close \
                 that session and try again"
            ),
            JournalError::Moved { path } => write!(
                f,
                "journal file {path} was moved or deleted while golive had it open, so this \
                 action was NOT recorded; restart golive, which starts or resumes the journal \
                 at {path}"
            ),
        }
    }
}

impl std::error::Error for JournalError {}

/// Returns what a person can do about an OS error, for the error kinds that have a fix.
fn io_hint(error: &std::io::Error) -> Option<&'static str> {
    match error.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem => Some(
            "the folder is read-only, so set `[paths] journal_dir` in config.toml to a \
             writable folder",
        ),
        std::io::ErrorKind::PermissionDenied => Some(
            "fix the folder's permissions, or set `[paths] journal_dir` in config.toml to a \
             folder that golive can write to",
        ),
        std::io::ErrorKind::StorageFull => Some(
            "free space on the disk, or set `[paths] journal_dir` in config.toml to a folder \
             on another disk",
        ),
        _ => None,
    }
}

/// The first event of a sequence that breaks the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event seq {seq} at line {line}: {reason}")]
pub struct ChainError {
    /// The `seq` field of the offending event as stored.
    pub seq: u64,
    /// The 1-based line of the event, counting one event per line.
    pub line: usize,
    pub reason: String,
}

/// The part of an event that its hash covers, in canonical field order.
#[derive(Serialize)]
struct HashedFields<'a> {
    seq: u64,
    at: &'a jiff::Timestamp,
    actor: &'a str,
    kind: &'a EventKind,
}

/// Computes an event's hash as the module documentation describes: SHA-256 over `prev`
/// followed by the canonical JSON of `seq`, `at`, `actor` and `kind`, as lowercase hex.
pub fn compute_hash(
    prev: &str,
    seq: u64,
    at: &jiff::Timestamp,
    actor: &str,
    kind: &EventKind,
) -> String {
    let fields = HashedFields {
        seq,
        at,
        actor,
        kind,
    };
    // Serialising strings, integers, unit enums and a timestamp into memory has no failure path.
    let canonical = serde_json::to_vec(&fields).expect("event fields always serialise to JSON");
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

/// Checks that `events` form one unbroken chain from the start of a journal: `seq` counts up
/// from 1 without gaps, each `prev` is the previous event's `hash` (or [`GENESIS_HASH`]), and
/// each `hash` matches the event's content. `events[i]` is taken to be on line `i + 1`.
///
/// # Errors
///
/// Returns a [`ChainError`] naming the first event that does not match.
pub fn verify_chain(events: &[Event]) -> Result<(), ChainError> {
    let mut prev = GENESIS_HASH;
    for (index, event) in events.iter().enumerate() {
        let line = index + 1;
        let fail = |reason: String| ChainError {
            seq: event.seq,
            line,
            reason,
        };
        let expected_seq = index as u64 + 1;
        if event.seq != expected_seq {
            return Err(fail(format!(
                "seq is {}, expected {expected_seq}",
                event.seq
            )));
        }
        if event.prev != prev {
            return Err(fail(format!(
                "prev is {}, expected the previous event's hash {prev}",
                event.prev
            )));
        }
        let expected_hash = event.expected_hash();
        if event.hash != expected_hash {
            return Err(fail(format!(
                "hash is {}, but the event's content hashes to {expected_hash}; the event was \
                 changed after it was written",
                event.hash
            )));
        }
        prev = &event.hash;
    }
    Ok(())
}

impl Event {
    /// Builds an event that follows the event whose hash is `prev`, computing its `hash`.
    pub fn chained(
        prev: &str,
        seq: u64,
        at: jiff::Timestamp,
        actor: &str,
        kind: EventKind,
    ) -> Event {
        let hash = compute_hash(prev, seq, &at, actor, &kind);
        Event {
            seq,
            at,
            actor: actor.to_string(),
            kind,
            prev: prev.to_string(),
            hash,
        }
    }

    /// Recomputes the hash from the event's content, for comparison with `hash`.
    pub fn expected_hash(&self) -> String {
        compute_hash(&self.prev, self.seq, &self.at, &self.actor, &self.kind)
    }
}

/// An append-only, hash-chained event log.
pub trait Journal: Send {
    /// Returns every event in order, as loaded and appended so far.
    fn events(&self) -> &[Event];

    /// Appends an event and returns it once it is durable: for a file, written, flushed and
    /// synced to disk.
    fn append(&mut self, actor: &str, kind: EventKind) -> Result<Event, JournalError>;

    /// Appends an event without waiting for it to be durable, for events that can be derived
    /// again (check outcomes, which the next run reproduces). The next [`Journal::append`] or
    /// closing the journal makes it durable. The default makes it durable at once.
    fn append_unsynced(&mut self, actor: &str, kind: EventKind) -> Result<Event, JournalError> {
        self.append(actor, kind)
    }

    /// Returns the location of the journal, for messages.
    fn location(&self) -> String;

    /// Warnings from loading, such as a torn last line that was dropped.
    fn warnings(&self) -> &[String];

    /// Returns where the previous journal was moved when this one started in its place, as
    /// `golive open --new-session` does. The default is `None`, for journals never moved.
    fn set_aside_location(&self) -> Option<String> {
        None
    }

    /// Hash of the last event, or [`GENESIS_HASH`] when empty.
    fn head(&self) -> &str {
        self.events()
            .last()
            .map_or(GENESIS_HASH, |event| event.hash.as_str())
    }
}
