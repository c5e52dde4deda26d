//! The session journal: an append-only, hash-chained log of everything that happens in a
//! launch session.
//!
//! [`Journal`] is the interface the front ends use; [`file::FileJournal`] keeps the log in a
//! local JSON Lines file. A shared implementation (for example on DynamoDB) implements the same
//! trait.

pub mod file;

use serde::{Deserialize, Serialize};

use crate::checks::Outcome;

/// Hash that the first event of a journal chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event of the journal as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the journal, starting at 1.
    pub seq: u64,
    pub at: jiff::Timestamp,
    /// Who caused the event: a person's name and email, or `golive` for check outcomes.
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
    SessionStarted { checklist: String, digest: String, environment: String, version: String },
    /// A person marked a manual item done.
    Ticked { item: String },
    /// A person took back a tick or a failure mark.
    Unticked { item: String },
    /// A person marked a manual item failed.
    MarkedFailed { item: String },
    /// A person added a note to an item.
    Note { item: String, text: String },
    /// A check's outcome differs from its previous one.
    CheckOutcome { item: String, outcome: Outcome, summary: String },
}

/// Failures of a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot {action} journal {path}: {source}")]
    Io { action: &'static str, path: String, source: std::io::Error },
    #[error("journal {path} is damaged at line {line}: {reason}; the file was left as it is")]
    Damaged { path: String, line: usize, reason: String },
    #[error("journal {path} belongs to another checklist or environment: {reason}")]
    Mismatch { path: String, reason: String },
}

/// An append-only, hash-chained event log.
pub trait Journal: Send {
    /// Every event in order, as loaded and appended so far.
    fn events(&self) -> &[Event];

    /// Appends an event and returns it once it is durable: for a file, written, flushed and
    /// synced to disk.
    fn append(&mut self, actor: &str, kind: EventKind) -> Result<Event, JournalError>;

    /// Where the journal lives, for messages.
    fn location(&self) -> String;

    /// Warnings from loading, such as a torn last line that was dropped.
    fn warnings(&self) -> &[String];

    /// Hash of the last event, or [`GENESIS_HASH`] when empty.
    fn head(&self) -> &str {
        self.events().last().map_or(GENESIS_HASH, |event| event.hash.as_str())
    }
}
