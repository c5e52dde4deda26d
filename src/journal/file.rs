//! A journal kept in a local JSON Lines file.
//!
//! Every line is one [`Event`] as JSON (the kind's fields flattened next to `seq`, `at` and
//! `actor`), ended by `\n`. The hash chain is described in the [parent module](super).
//!
//! Durability and safety rules of the file:
//!
//! - [`FileJournal::append`] writes the whole line to a file opened with `O_APPEND`, then calls
//!   `sync_data` before it returns, so an acknowledged event survives a crash of golive. It
//!   also survives a crash of the machine as far as the disk honours `fsync`.
//! - Existing content is never rewritten. The one exception is a torn last line, left by a
//!   crash during a write: a last line without its ending `\n`. Opening the journal copies its
//!   bytes to `<file>.torn-<UTC time>` and truncates the file to the last complete line.
//! - Any other damage (a complete line that does not parse, the last one included, a broken
//!   hash chain, a gap in `seq`) makes opening fail with [`JournalError::Damaged`] and leaves
//!   the file as it is.
//! - Before every append, [`FileJournal::append`] checks that the journal's path still names
//!   the open file. When the file was deleted or renamed, the append fails with
//!   [`JournalError::Moved`] instead of writing to a file that no one will read.
//! - An open journal holds an exclusive advisory lock (`flock` on Unix) on its file, so two
//!   golive processes cannot interleave writes to one journal.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

pub use super::{ChainError, compute_hash, verify_chain};
use super::{Event, EventKind, GENESIS_HASH, Journal, JournalError};
use crate::checklist::Checklist;
use crate::redact::Redactor;

/// Number of hex characters of the checklist path's SHA-256 in a journal's file name.
const PATH_HASH_LEN: usize = 8;

/// Number of hex characters of the environment name's SHA-256 that a journal's file name
/// carries when the name had to be changed to fit in a file name.
const ENVIRONMENT_HASH_LEN: usize = 8;

/// Maximum length in bytes of the checklist stem and of the environment in a journal's file
/// name. With both at the maximum, a journal's name is 145 bytes, and the longest suffix that
/// golive adds (`.torn-<UTC time>-<attempt>`, 25 bytes) keeps it under the 255-byte limit of
/// common file systems.
const MAX_NAME_PART_LEN: usize = 60;

/// Number of numbered names tried for a set-aside journal or a torn-line copy when names with
/// the same timestamp already exist.
const MAX_NAME_ATTEMPTS: u32 = 100;

/// Maximum length in bytes of one line, without its `\n`, that [`read_journal`] reads. A
/// longer line is damage, so that a file without line ends cannot fill the memory.
// NOTE: appends do not enforce this maximum, so an event longer than 1 MiB, such as a note
// of that size, makes the journal unreadable by `read_journal` though the cockpit opens it.
pub const MAX_READ_LINE_BYTES: usize = 1024 * 1024;

/// Number of times opening retries when the file was renamed between opening and locking it.
const MAX_OPEN_ATTEMPTS: u32 = 3;

/// Number of tries to take a journal's lock before reporting it as taken. With
/// [`LOCK_RETRY_DELAY`], opening waits at most about half a second for the lock.
const LOCK_ATTEMPTS: u32 = 20;

/// Pause between two tries to take a journal's lock.
const LOCK_RETRY_DELAY: Duration = Duration::from_millis(25);

/// A journal in a JSON Lines file, locked for as long as the value lives.
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    /// Opened for reading and appending, holding the exclusive lock.
    file: File,
    events: Vec<Event>,
    warnings: Vec<String>,
    /// Set when an append failed part-way, because the file may then end in a partial line
    /// that only the torn-line recovery of the next open can remove.
    poisoned: bool,
    /// Masks the checklist's secret values in every event before it is written, so that a
    /// secret typed into a note never reaches the file.
    redactor: Arc<Redactor>,
    /// The path [`open`] moved the replaced journal to, with `new_session`.
    set_aside: Option<PathBuf>,
}

/// The events of a journal file as read without modifying or locking it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalContents {
    pub events: Vec<Event>,
    /// Problems that did not stop the read, such as a torn last line that was skipped.
    pub warnings: Vec<String>,
}

/// The result of parsing a journal file's bytes.
struct Parsed {
    events: Vec<Event>,
    /// The last line when it is torn: its 1-based line number and its byte offset.
    torn: Option<TornLine>,
}

struct TornLine {
    line: usize,
    offset: usize,
}

/// Returns the journal file for a checklist in `dir`: the checklist's file stem, the first
/// 8 hex characters of the SHA-256 of its canonical absolute path, and its environment, such
/// as `authbridge-launch-1a2b3c4d-staging.jsonl`.
///
/// Characters other than ASCII letters, digits, `.`, `_` and `-` in the stem and environment
/// become `-`, and each is cut to [`MAX_NAME_PART_LEN`] bytes. When that changes the
/// environment, the first 8 hex characters of the SHA-256 of its original name follow it, so
/// that environments such as `a b` and `a-b` get different journals. The stem needs no such
/// hash because the path hash already distinguishes checklists. The path is canonicalised when
/// the file exists; otherwise it is only made absolute.
pub fn path_for(dir: &Path, checklist: &Checklist) -> PathBuf {
    let absolute = absolute_checklist_path(&checklist.path);
    let stem = checklist
        .path
        .file_stem()
        .map(|stem| shortened_name_part(&stem.to_string_lossy()))
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "checklist".to_string());
    let path_hash = hex::encode(Sha256::digest(absolute.as_os_str().as_encoded_bytes()));
    let environment = environment_name_part(&checklist.environment);
    dir.join(format!(
        "{stem}-{}-{environment}.jsonl",
        &path_hash[..PATH_HASH_LEN]
    ))
}

/// Returns the environment as it appears in a journal's file name: made safe and shortened,
/// followed by a hash of the original name when that changed it.
fn environment_name_part(environment: &str) -> String {
    let part = shortened_name_part(environment);
    if part == environment {
        return part;
    }
    let hash = hex::encode(Sha256::digest(environment.as_bytes()));
    format!("{part}-{}", &hash[..ENVIRONMENT_HASH_LEN])
}

/// Opens the journal of a checklist in `dir`, creating `dir` and the file as needed.
///
/// An existing journal is loaded, verified and resumed. With `new_session`, an existing file
/// is first renamed to `<name>-<UTC time>.jsonl` (kept, never deleted), even when it is
/// damaged, and a fresh journal starts. A fresh journal's first event is
/// [`EventKind::SessionStarted`], appended by `actor`.
///
/// # Errors
///
/// [`JournalError::Locked`] when another process has the journal open,
/// [`JournalError::Mismatch`] when the journal was started for another environment,
/// [`JournalError::Damaged`] for damage other than a torn last line, and
/// [`JournalError::Io`] for file system failures. A changed checklist digest is only a
/// warning in [`Journal::warnings`].
pub fn open(
    dir: &Path,
    checklist: &Checklist,
    new_session: bool,
    actor: &str,
) -> Result<FileJournal, JournalError> {
    fs::create_dir_all(dir).map_err(|source| io_error("create the folder of", dir, source))?;
    let path = path_for(dir, checklist);
    let set_aside_path = if new_session { set_aside(&path)? } else { None };
    let loaded = Loaded::read(&path, true)?;
    let absolute = absolute_checklist_path(&checklist.path)
        .to_string_lossy()
        .into_owned();
    // Checked before the torn-line recovery, so that a rejected journal is left untouched.
    let session_warnings = check_session_start(&path, checklist, &absolute, &loaded.events)?;
    let mut journal = loaded.recover()?;
    journal.redactor = checklist.redactor.clone();
    journal.warnings.extend(session_warnings);
    journal.set_aside = set_aside_path;
    if journal.events.is_empty() {
        journal.append(
            actor,
            EventKind::SessionStarted {
                checklist: absolute,
                digest: checklist.digest.clone(),
                environment: checklist.environment.clone(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
        )?;
        sync_parent(&path);
    }
    Ok(journal)
}

/// Checks that a resumed journal starts with a `SessionStarted` event for the checklist's
/// environment, and returns warnings when the checklist's path or digest changed since.
fn check_session_start(
    path: &Path,
    checklist: &Checklist,
    absolute: &str,
    events: &[Event],
) -> Result<Vec<String>, JournalError> {
    let mut warnings = Vec::new();
    match events.first().map(|event| &event.kind) {
        None => {}
        Some(EventKind::SessionStarted {
            checklist: started_path,
            digest,
            environment,
            ..
        }) => {
            if *environment != checklist.environment {
                return Err(JournalError::Mismatch {
                    path: path.display().to_string(),
                    reason: format!(
                        "it was started for environment `{environment}`, not `{}`",
                        checklist.environment
                    ),
                });
            }
            if started_path != absolute {
                warnings.push(format!(
                    "journal {} was started for checklist {started_path}, now opened for \
                     {absolute}",
                    path.display()
                ));
            }
            if *digest != checklist.digest {
                warnings.push(format!(
                    "checklist {absolute} changed since the session started (digest {} then, \
                     {} now); the journal continues",
                    short_digest(digest),
                    short_digest(&checklist.digest)
                ));
            }
        }
        Some(other) => {
            return Err(JournalError::Damaged {
                path: path.display().to_string(),
                line: 1,
                reason: format!(
                    "the first event is {}, expected session_started",
                    kind_name(other)
                ),
            });
        }
    }
    Ok(warnings)
}

/// Opens an existing journal file for appending: loads it, verifies the chain, recovers a torn
/// last line and takes the lock. Unlike [`open`], it checks nothing about the checklist and
/// appends no `SessionStarted` event.
///
/// # Errors
///
/// As [`open`], and [`JournalError::Io`] when the file does not exist.
pub fn open_path(path: &Path) -> Result<FileJournal, JournalError> {
    Loaded::read(path, false)?.recover()
}

/// Reads and verifies a journal file without locking or changing it, for verifiers and
/// reports. A torn last line is skipped with a warning instead of being removed.
///
/// The file is read line by line, so memory use is one line of at most
/// [`MAX_READ_LINE_BYTES`] plus the parsed events, whatever the file's size.
///
/// # Errors
///
/// [`JournalError::NotJournal`] for a path that is not a regular file (such as a FIFO or a
/// device, which are never read), a file without a complete line, and a file whose first line
/// is not a `session_started` event. [`JournalError::Damaged`] for any later damage but a torn
/// last line, including a line longer than [`MAX_READ_LINE_BYTES`]. [`JournalError::Io`] when
/// the file cannot be opened or read.
pub fn read_journal(path: &Path) -> Result<JournalContents, JournalError> {
    let file = open_regular_for_reading(path)?;
    let mut reader = io::BufReader::new(file);
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    let mut line = Vec::new();
    let mut line_number = 0;
    loop {
        line.clear();
        // Room for the maximum and its `\n` is enough to find a line longer than the maximum.
        let read = (&mut reader)
            .take(MAX_READ_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|source| io_error("read", path, source))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        match parse_read_line(path, line_number, &line)? {
            Some(event) => events.push(event),
            None => {
                warnings.push(format!(
                    "journal {} ends in an incomplete line {line_number} that was skipped",
                    path.display()
                ));
                break;
            }
        }
    }

    if events.is_empty() {
        return Err(JournalError::NotJournal {
            path: path.display().to_string(),
            reason: "it is empty".to_string(),
        });
    }
    verify_chain(&events).map_err(|err| JournalError::Damaged {
        path: path.display().to_string(),
        line: err.line,
        reason: format!("event seq {}: {}", err.seq, err.reason),
    })?;
    Ok(JournalContents { events, warnings })
}

/// Parses one line as [`read_journal`] read it, with its `\n` when it has one. Returns `None`
/// for a torn last line. A problem on line 1 means that the file is not a journal at all, so
/// it is [`JournalError::NotJournal`], and on a later line it is [`JournalError::Damaged`].
fn parse_read_line(
    path: &Path,
    line_number: usize,
    line: &[u8],
) -> Result<Option<Event>, JournalError> {
    let failure = |reason: String| {
        let path = path.display().to_string();
        if line_number == 1 {
            JournalError::NotJournal { path, reason }
        } else {
            JournalError::Damaged {
                path,
                line: line_number,
                reason,
            }
        }
    };
    let (text, complete) = match line.strip_suffix(b"\n") {
        Some(text) => (text, true),
        None => (line, false),
    };
    if text.len() > MAX_READ_LINE_BYTES {
        return Err(failure(format!(
            "line {line_number} is longer than {} MiB, the maximum of a journal line",
            MAX_READ_LINE_BYTES / (1024 * 1024)
        )));
    }
    // Only the end of the file stops a line short of both its `\n` and the maximum.
    if !complete {
        if line_number == 1 {
            return Err(failure(format!(
                "it has no complete line, only {} bytes without a line end",
                text.len()
            )));
        }
        return Ok(None);
    }

    let event = match serde_json::from_slice::<Event>(text) {
        Ok(event) => event,
        Err(err) if line_number == 1 => {
            return Err(failure(format!("line 1 is not a journal event: {err}")));
        }
        Err(err) => return Err(failure(format!("not a valid journal event: {err}"))),
    };
    if line_number == 1 && !matches!(event.kind, EventKind::SessionStarted { .. }) {
        return Err(failure(format!(
            "its first event is {}, not session_started",
            kind_name(&event.kind)
        )));
    }
    Ok(Some(event))
}

/// Opens a journal for reading only when it is a regular file (see [`crate::files`]).
fn open_regular_for_reading(path: &Path) -> Result<File, JournalError> {
    crate::files::open_regular_file(path).map_err(|err| match err {
        crate::files::OpenError::Io { action, source } => io_error(action, path, source),
        crate::files::OpenError::NotRegular { kind } => {
            let next_step = if kind == "a directory" {
                "pass the journal file inside it"
            } else {
                "pass the path of a journal file"
            };
            JournalError::NotJournal {
                path: path.display().to_string(),
                reason: format!("it is {kind}, not a regular file; {next_step}"),
            }
        }
    })
}

/// A locked and verified journal file whose torn last line, if any, is not yet removed.
struct Loaded {
    path: PathBuf,
    file: File,
    bytes: Vec<u8>,
    events: Vec<Event>,
    torn: Option<TornLine>,
}

impl Loaded {
    /// Opens, locks, reads and verifies the file.
    fn read(path: &Path, create: bool) -> Result<Loaded, JournalError> {
        let file = open_and_lock(path, create)?;
        let mut bytes = Vec::new();
        (&file)
            .read_to_end(&mut bytes)
            .map_err(|source| io_error("read", path, source))?;
        let parsed = parse(path, &bytes)?;
        Ok(Loaded {
            path: path.to_path_buf(),
            file,
            bytes,
            events: parsed.events,
            torn: parsed.torn,
        })
    }

    /// Removes a torn last line, keeping a copy of its bytes, and returns the open journal.
    fn recover(self) -> Result<FileJournal, JournalError> {
        let Loaded {
            path,
            file,
            bytes,
            events,
            torn,
        } = self;
        let mut warnings = Vec::new();
        if let Some(torn) = torn {
            let copy = save_torn_copy(&path, &bytes[torn.offset..])?;
            // The chain up to the torn line is verified, so cutting the file there removes
            // only bytes of a write that never returned to its caller.
            file.set_len(torn.offset as u64)
                .map_err(|source| io_error("truncate the torn last line of", &path, source))?;
            file.sync_all()
                .map_err(|source| io_error("sync", &path, source))?;
            warnings.push(format!(
                "journal {} ended in an incomplete line {} ({} bytes), left by an interrupted \
                 write; it was removed and its bytes kept in {}",
                path.display(),
                torn.line,
                bytes.len() - torn.offset,
                copy.display()
            ));
        }
        Ok(FileJournal {
            path,
            file,
            events,
            warnings,
            poisoned: false,
            redactor: Arc::new(Redactor::new()),
            set_aside: None,
        })
    }
}

impl FileJournal {
    /// Returns the path of the journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line, and makes it durable when `sync` is set. Syncing also makes every earlier
    /// unsynced line durable, because `sync_data` covers all data written to the file.
    fn write_line(&mut self, line: &[u8], sync: bool) -> io::Result<()> {
        self.file.write_all(line)?;
        self.file.flush()?;
        if sync {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Appends an event, synced to disk or only written, as the caller requests.
    fn append_event(
        &mut self,
        actor: &str,
        kind: EventKind,
        sync: bool,
    ) -> Result<Event, JournalError> {
        if self.poisoned {
            return Err(io_error(
                "append to",
                &self.path,
                io::Error::other("an earlier append failed; reopen the journal to recover"),
            ));
        }
        // Writes to a deleted or renamed file succeed but are lost to every later reader.
        if !is_same_file(&self.file, &self.path)? {
            return Err(JournalError::Moved {
                path: self.path.display().to_string(),
            });
        }
        let seq = self.events.last().map_or(1, |last| last.seq + 1);
        let prev = self
            .events
            .last()
            .map_or(GENESIS_HASH, |last| last.hash.as_str());
        let actor = self.redactor.redact(actor);
        let kind = kind.masked(&self.redactor);
        let event = Event::chained(prev, seq, jiff::Timestamp::now(), &actor, kind);
        let mut line = serde_json::to_vec(&event)
            .map_err(|source| io_error("encode an event for", &self.path, source.into()))?;
        line.push(b'\n');
        if let Err(source) = self.write_line(&line, sync) {
            self.poisoned = true;
            return Err(io_error("append to", &self.path, source));
        }
        self.events.push(event.clone());
        Ok(event)
    }
}

impl Drop for FileJournal {
    fn drop(&mut self) {
        // Events appended without a sync become durable when the session closes cleanly.
        let _ = self.file.sync_data();
    }
}

impl Journal for FileJournal {
    fn events(&self) -> &[Event] {
        &self.events
    }

    fn append(&mut self, actor: &str, kind: EventKind) -> Result<Event, JournalError> {
        self.append_event(actor, kind, true)
    }

    fn append_unsynced(&mut self, actor: &str, kind: EventKind) -> Result<Event, JournalError> {
        self.append_event(actor, kind, false)
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn set_aside_location(&self) -> Option<String> {
        self.set_aside
            .as_ref()
            .map(|path| path.display().to_string())
    }
}

/// Splits the bytes into lines, parses them and verifies the chain. The last line is torn when
/// it lacks its `\n`, because [`FileJournal::append`] writes the `\n` as the line's last byte.
/// Any line that ends in `\n` but does not parse, the last one included, is damage.
fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, JournalError> {
    let damaged = |line: usize, reason: String| JournalError::Damaged {
        path: path.display().to_string(),
        line,
        reason,
    };
    let mut events = Vec::new();
    let mut torn = None;
    let mut offset = 0;
    let mut line_number = 0;
    while offset < bytes.len() {
        line_number += 1;
        let rest = &bytes[offset..];
        let Some(end) = rest.iter().position(|&byte| byte == b'\n') else {
            torn = Some(TornLine {
                line: line_number,
                offset,
            });
            break;
        };
        match serde_json::from_slice::<Event>(&rest[..end]) {
            Ok(event) => events.push(event),
            Err(err) => {
                return Err(damaged(
                    line_number,
                    format!("not a valid journal event: {err}"),
                ));
            }
        }
        offset += end + 1;
    }
    verify_chain(&events)
        .map_err(|err| damaged(err.line, format!("event seq {}: {}", err.seq, err.reason)))?;
    Ok(Parsed { events, torn })
}

/// Opens the file for reading and appending and takes its lock. Another process may rename
/// the file between the open and the lock (see [`set_aside`]), so the locked file is checked
/// to still be the one at `path`.
fn open_and_lock(path: &Path, create: bool) -> Result<File, JournalError> {
    for _ in 0..MAX_OPEN_ATTEMPTS {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(create)
            .open(path)
            .map_err(|source| io_error("open", path, source))?;
        lock(&file, path)?;
        if is_same_file(&file, path)? {
            return Ok(file);
        }
    }
    Err(JournalError::Locked {
        path: path.display().to_string(),
    })
}

#[cfg(unix)]
fn is_same_file(file: &File, path: &Path) -> Result<bool, JournalError> {
    use std::os::unix::fs::MetadataExt;

    let opened = file
        .metadata()
        .map_err(|source| io_error("inspect", path, source))?;
    let current = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(io_error("inspect", path, source)),
    };
    Ok(opened.dev() == current.dev() && opened.ino() == current.ino())
}

// NOTE: without inode numbers a rename between opening and locking goes undetected.
#[cfg(not(unix))]
fn is_same_file(_file: &File, _path: &Path) -> Result<bool, JournalError> {
    Ok(true)
}

/// Takes the exclusive lock, trying up to [`LOCK_ATTEMPTS`] times with [`LOCK_RETRY_DELAY`]
/// between tries.
///
/// The retries cover a lock that this process has just released: a child process that this
/// process is starting at the same moment shares the locked file description from its fork
/// until its exec closes the inherited descriptor, so the lock stays taken until then.
fn lock(file: &File, path: &Path) -> Result<(), JournalError> {
    for _ in 1..LOCK_ATTEMPTS {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) => std::thread::sleep(LOCK_RETRY_DELAY),
            Err(fs::TryLockError::Error(source)) => return Err(io_error("lock", path, source)),
        }
    }
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(fs::TryLockError::WouldBlock) => Err(JournalError::Locked {
            path: path.display().to_string(),
        }),
        Err(fs::TryLockError::Error(source)) => Err(io_error("lock", path, source)),
    }
}

/// Renames an existing journal to `<stem>-<UTC time>.jsonl`, holding its lock meanwhile so
/// that a journal another process has open is not moved under it. Returns the new path, or
/// `None` when there was no journal to move.
fn set_aside(path: &Path) -> Result<Option<PathBuf>, JournalError> {
    let file = match OpenOptions::new().read(true).append(true).open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io_error("open", path, source)),
    };
    lock(&file, path)?;
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = file_timestamp();
    for attempt in 0..MAX_NAME_ATTEMPTS {
        let suffix = if attempt == 0 {
            String::new()
        } else {
            format!("-{attempt}")
        };
        let aside = path.with_file_name(format!("{stem}-{stamp}{suffix}.jsonl"));
        // rename replaces an existing target, so a free name is looked for first. The lock
        // keeps other golive processes from setting this journal aside at the same time.
        if aside
            .try_exists()
            .map_err(|source| io_error("inspect", &aside, source))?
        {
            continue;
        }
        fs::rename(path, &aside).map_err(|source| io_error("set aside", path, source))?;
        sync_parent(path);
        return Ok(Some(aside));
    }
    Err(io_error("set aside", path, name_exhausted()))
}

/// Writes the bytes of a torn line to a new `<file>.torn-<UTC time>` file and returns its path.
fn save_torn_copy(path: &Path, torn: &[u8]) -> Result<PathBuf, JournalError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = file_timestamp();
    for attempt in 0..MAX_NAME_ATTEMPTS {
        let suffix = if attempt == 0 {
            String::new()
        } else {
            format!("-{attempt}")
        };
        let copy = path.with_file_name(format!("{name}.torn-{stamp}{suffix}"));
        let mut file = match OpenOptions::new().write(true).create_new(true).open(&copy) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(io_error("create", &copy, source)),
        };
        file.write_all(torn)
            .map_err(|source| io_error("write", &copy, source))?;
        file.sync_all()
            .map_err(|source| io_error("sync", &copy, source))?;
        return Ok(copy);
    }
    Err(io_error(
        "keep the torn last line of",
        path,
        name_exhausted(),
    ))
}

/// Syncs the folder that contains `path`, so that a new or renamed directory entry survives a
/// power loss. Failure is logged, not raised, because some file systems reject syncing folders.
fn sync_parent(path: &Path) {
    let Some(parent) = path.parent() else {
        return;
    };
    if let Err(err) = File::open(parent).and_then(|folder| folder.sync_all()) {
        tracing::warn!(folder = %parent.display(), error = %err, "failed to sync journal folder");
    }
}

/// Returns the canonical absolute path of a checklist file, or only the absolute path when
/// the file does not exist.
fn absolute_checklist_path(path: &Path) -> PathBuf {
    fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Replaces characters that are unsafe or awkward in file names with `-` and keeps at most
/// [`MAX_NAME_PART_LEN`] of them. The result is ASCII, so its length in characters is also
/// its length in bytes.
fn shortened_name_part(text: &str) -> String {
    text.chars()
        .take(MAX_NAME_PART_LEN)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Formats the current UTC time for file names, such as `20260216T060000Z`.
fn file_timestamp() -> String {
    jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

fn short_digest(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Returns the `type` tag that an event kind is stored with.
fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::SessionStarted { .. } => "session_started",
        EventKind::Ticked { .. } => "ticked",
        EventKind::Unticked { .. } => "unticked",
        EventKind::MarkedFailed { .. } => "marked_failed",
        EventKind::Note { .. } => "note",
        EventKind::CheckOutcome { .. } => "check_outcome",
        EventKind::ManualRun { .. } => "manual_run",
        EventKind::Waived { .. } => "waived",
        EventKind::WaiverRevoked { .. } => "waiver_revoked",
        EventKind::WaiverExpired { .. } => "waiver_expired",
        EventKind::SignedOff { .. } => "signed_off",
        EventKind::Drift { .. } => "drift",
    }
}

fn name_exhausted() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{MAX_NAME_ATTEMPTS} file names with the current timestamp are already taken"),
    )
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> JournalError {
    JournalError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}
