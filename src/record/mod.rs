//! The launch record: a signed, self-describing statement of what a launch session decided.
//!
//! [`build`] folds a [`Checklist`], its [`Session`] and the session journal into a
//! [`LaunchRecord`], an [in-toto Statement v1][statement]. Its subjects are the checklist file,
//! the scanner report files that `report` checks read, and any attached files. Its predicate contains the decision, every item's state and the
//! journal's length and head hash. The decision is [`Session::decision`] at the generation
//! time: items and sign-offs together, with the waivers that count and the drift since sign-off.
//!
//! The JSON bytes ([`LaunchRecord::to_json`]) depend only on the state they describe. Every
//! object is a struct with a fixed field order or a sorted map. The output is pretty-printed
//! with 2 spaces and ends in a newline, and timestamps are RFC 3339 UTC strings. Every text
//! field is masked with the checklist's [`Redactor`] before it enters the record, so no secret
//! value reaches the record or its Markdown rendering ([`markdown::render`]).
//!
//! [`signing`] signs the JSON bytes as an SSHSIG that `ssh-keygen -Y verify` checks, and
//! [`verify`] checks a signed record with golive alone.
//!
//! [statement]: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md

pub mod allowed_signers;
pub mod export;
pub mod markdown;
pub mod signing;
pub mod verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checklist::{Checklist, Item, ItemBody, WaiverSpec};
use crate::journal::{Event, EventKind, GENESIS_HASH, SignOffState};
use crate::redact::Redactor;
use crate::session::{Session, Waiver, WaiverSource};

/// The `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// The `predicateType` of a golive launch record.
pub const PREDICATE_TYPE: &str = "https://golive.dev/launch-record/v1";

/// The SSHSIG namespace of launch record signatures, so that a signature made for another
/// purpose (such as a git commit) is never accepted as one over a launch record.
pub const SIGNATURE_NAMESPACE: &str = "golive-launch-record";

/// File name of the record's JSON inside an export folder.
pub const RECORD_FILE: &str = "record.json";

/// File name of the record's Markdown rendering inside an export folder.
pub const MARKDOWN_FILE: &str = "record.md";

/// File name of the record's signature inside an export folder.
pub const SIGNATURE_FILE: &str = "record.json.sig";

/// A launch record as an in-toto Statement v1. Field order is the serialised key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchRecord {
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The files the record vouches for: the checklist first, then the report files read by
    /// `report` checks sorted by path, then attachments.
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Predicate,
}

/// One file the record vouches for, as an in-toto ResourceDescriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The file name, without folders.
    pub name: String,
    /// Digests by algorithm name; golive writes `sha256` as lowercase hex.
    pub digest: BTreeMap<String, String>,
    /// Extra facts about the file. golive writes `path`: the absolute path at export time
    /// for the checklist and attachments, and the path as the `report` check gave it for
    /// report files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The body of a launch record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    /// Version of golive that wrote the record.
    pub golive_version: String,
    pub checklist: ChecklistInfo,
    /// When the record was built.
    pub generated_at: jiff::Timestamp,
    /// `go` only when every required item is passed, done or waived and every required
    /// sign-off is given, else `no-go`.
    pub decision: Decision,
    /// Required items that are not passed, done or waived, in checklist order.
    pub blockers: Vec<RecordBlocker>,
    /// Required sign-offs not given, in checklist order.
    #[serde(default)]
    pub missing_sign_offs: Vec<RecordMissingSignOff>,
    /// Ids of the items that count toward GO only through a waiver, in checklist order.
    #[serde(default)]
    pub waived_items: Vec<String>,
    /// Every waiver of the session, expired or not, in checklist order of the items.
    pub waivers: Vec<RecordWaiver>,
    /// Sign-offs given, in the order they were given.
    pub sign_offs: Vec<RecordSignOff>,
    /// Drift events of the journal: items that counted toward GO at a sign-off and stopped.
    #[serde(default)]
    pub drift: Vec<RecordDrift>,
    pub phases: Vec<RecordPhase>,
    pub journal: JournalInfo,
}

/// The checklist a record was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistInfo {
    pub title: String,
    pub version: Option<String>,
    pub environment: String,
    pub launch_at: Option<jiff::Timestamp>,
}

/// The launch decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    #[serde(rename = "go")]
    Go,
    #[serde(rename = "no-go")]
    NoGo,
}

impl Decision {
    /// Returns the decision as written in the record, `go` or `no-go`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Go => "go",
            Decision::NoGo => "no-go",
        }
    }
}

/// A required item that is not satisfied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordBlocker {
    pub item: String,
    pub title: String,
    pub status: String,
}

/// A required sign-off that was not given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordMissingSignOff {
    pub id: String,
    pub title: String,
    pub role: String,
    /// Phases of its `after` list that were not complete, so it could not be given yet.
    pub waiting_for: Vec<String>,
}

/// Accepted risk on one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordWaiver {
    pub item: String,
    pub reason: String,
    /// `critical`, `high`, `medium` or `low`.
    pub risk: String,
    /// The measure that limits the damage while the item is not satisfied.
    pub control: String,
    pub expires: jiff::Timestamp,
    /// Whether `expires` had passed at `generated_at`, so the waiver no longer counted.
    pub expired: bool,
    pub requested_by: String,
    pub approved_by: String,
    /// When the journal recorded it; `null` for a waiver written in the checklist.
    pub recorded_at: Option<jiff::Timestamp>,
    /// `checklist` for a `[[waivers]]` table, `journal` for a waiver given in the cockpit.
    pub source: String,
    /// Finding keys or rule ids of the item's report that the waiver covers; absent for a
    /// waiver of the whole item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

/// A sign-off that was given, with the state of the session it approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordSignOff {
    pub id: String,
    pub title: String,
    /// The role the person stated.
    pub role: String,
    pub by: String,
    pub at: jiff::Timestamp,
    /// The item verdict, counts by status and journal head hash at signing.
    pub state: SignOffState,
}

/// A drift event: an item that counted toward GO at a sign-off and no longer did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordDrift {
    pub item: String,
    /// Its status word when the sign-off was given.
    pub from: String,
    /// Its status word when the drift was recorded.
    pub to: String,
    pub signoff: String,
    /// When the journal recorded the drift.
    pub at: jiff::Timestamp,
    /// Whether the item still did not count toward GO at `generated_at`.
    pub unresolved: bool,
}

/// One phase with its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordPhase {
    pub id: String,
    pub title: String,
    pub items: Vec<RecordItem>,
}

/// One item's definition and state at the time of the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordItem {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub required: bool,
    pub owner: Option<String>,
    /// `manual`, or the check kind such as `http`.
    pub kind: String,
    /// The settled status word, such as `pass` or `done`.
    pub status: String,
    /// The last check result's one-line summary.
    pub summary: Option<String>,
    /// The last check result's evidence from this process, masked; absent after a replay.
    pub evidence: Option<serde_json::Value>,
    /// Start of the last check result.
    pub started_at: Option<jiff::Timestamp>,
    /// The manual tick or failure mark.
    pub mark: Option<RecordMark>,
    pub notes: Vec<RecordNote>,
}

/// A tick or failure mark on a manual item, with its author and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordMark {
    /// `done` or `failed`.
    pub state: String,
    pub by: String,
    pub at: jiff::Timestamp,
}

/// A note on an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordNote {
    pub by: String,
    pub at: jiff::Timestamp,
    pub text: String,
}

/// The session journal the record was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalInfo {
    /// Number of events.
    pub length: u64,
    /// Hash of the last event, or the genesis hash when the journal is empty.
    pub head: String,
    /// The journal's file name, without folders.
    pub path: String,
}

/// A file to list among the record's subjects besides the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub path: PathBuf,
}

/// Everything a record is built from.
pub struct RecordSource<'a> {
    pub checklist: &'a Checklist,
    pub session: &'a Session,
    /// Every event of the session journal, in order.
    pub journal_events: &'a [Event],
    /// The journal's file name, recorded as `journal.path`.
    pub journal_file: String,
    /// Evidence or report files to list as subjects after the checklist.
    pub attachments: &'a [Attachment],
    pub generated_at: jiff::Timestamp,
}

/// Failures of building or reading a record.
///
/// The I/O errors are part of the message and not error sources, so that a report printing
/// the source chain (`anyhow`'s `{:#}`) shows them once.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot read attachment {path}: {error}")]
    Attachment { path: String, error: std::io::Error },
    #[error("attachment {path} is {kind}, not a regular file; attach a regular file")]
    AttachmentNotRegularFile {
        path: String,
        /// The kind of file the path names instead, such as `a FIFO`.
        kind: &'static str,
    },
    #[error("invalid launch record: {0}")]
    Invalid(String),
}

/// Builds the launch record of a session.
///
/// # Errors
///
/// [`RecordError::AttachmentNotRegularFile`] when an attachment is not a regular file, and
/// [`RecordError::Attachment`] when it cannot be read for its digest.
pub fn build(source: &RecordSource<'_>) -> Result<LaunchRecord, RecordError> {
    let checklist = source.checklist;
    let redactor = checklist.redactor.as_ref();
    let checklist_file = checklist_subject(checklist, redactor);
    // A report note that names the checklist's path and digest adds no second subject.
    let report_files: Vec<Subject> = report_subjects(checklist, source.session, redactor)
        .into_iter()
        .filter(|report| !same_file(&checklist_file, report))
        .collect();
    let mut subject = vec![checklist_file];
    subject.extend(report_files);
    for attachment in source.attachments {
        subject.push(attachment_subject(&attachment.path, redactor)?);
    }
    // Item statuses and the decision are both taken at the generation time, so that a waiver
    // expiring between the session's clock and the export cannot make them disagree.
    let at_generation;
    let session = if source.session.now() == source.generated_at {
        source.session
    } else {
        let mut copy = source.session.clone();
        copy.set_now(source.generated_at);
        at_generation = copy;
        &at_generation
    };
    let decision = session.decision(source.generated_at);
    let blockers = decision
        .blockers
        .iter()
        .map(|blocker| RecordBlocker {
            item: redactor.redact(&blocker.item_id),
            title: redactor.redact(&blocker.title),
            status: blocker.status.word().to_string(),
        })
        .collect();
    let missing_sign_offs = decision
        .missing_signoffs
        .iter()
        .map(|missing| RecordMissingSignOff {
            id: redactor.redact(&missing.id),
            title: redactor.redact(&missing.title),
            role: redactor.redact(&missing.role),
            waiting_for: missing
                .waiting_for
                .iter()
                .map(|phase| redactor.redact(phase))
                .collect(),
        })
        .collect();
    let waived_items = decision
        .waived
        .iter()
        .map(|waiver| redactor.redact(&waiver.item))
        .collect();
    let mut waivers: Vec<RecordWaiver> = session
        .waivers()
        .into_iter()
        .map(|waiver| record_waiver(waiver, source.generated_at, redactor))
        .collect();
    waivers.extend(
        session
            .finding_waivers()
            .into_iter()
            .map(|spec| record_finding_waiver(spec, source.generated_at, redactor)),
    );
    let sign_offs = session
        .sign_offs()
        .iter()
        .map(|given| RecordSignOff {
            id: redactor.redact(&given.id),
            title: redactor.redact(&given.title),
            role: redactor.redact(&given.role),
            by: redactor.redact(&given.actor),
            at: given.at,
            state: SignOffState {
                verdict: redactor.redact(&given.state.verdict),
                counts: given.state.counts.clone(),
                journal_head: redactor.redact(&given.state.journal_head),
            },
        })
        .collect();
    let drift = record_drift(source.journal_events, session, redactor);
    let phases = checklist
        .phases
        .iter()
        .map(|phase| RecordPhase {
            id: redactor.redact(&phase.id),
            title: redactor.redact(&phase.title),
            items: phase
                .items
                .iter()
                .map(|item| record_item(item, session, redactor))
                .collect(),
        })
        .collect();
    let head = source
        .journal_events
        .last()
        .map_or(GENESIS_HASH, |event| event.hash.as_str());
    Ok(LaunchRecord {
        statement_type: STATEMENT_TYPE.to_string(),
        subject,
        predicate_type: PREDICATE_TYPE.to_string(),
        predicate: Predicate {
            golive_version: env!("CARGO_PKG_VERSION").to_string(),
            checklist: ChecklistInfo {
                title: redactor.redact(&checklist.title),
                version: checklist.version.as_deref().map(|v| redactor.redact(v)),
                environment: redactor.redact(&checklist.environment),
                launch_at: checklist.launch_at,
            },
            generated_at: source.generated_at,
            decision: if decision.go {
                Decision::Go
            } else {
                Decision::NoGo
            },
            blockers,
            missing_sign_offs,
            waived_items,
            waivers,
            sign_offs,
            drift,
            phases,
            journal: JournalInfo {
                length: source.journal_events.len() as u64,
                head: head.to_string(),
                path: redactor.redact(&source.journal_file),
            },
        },
    })
}

fn record_finding_waiver(
    spec: &WaiverSpec,
    now: jiff::Timestamp,
    redactor: &Redactor,
) -> RecordWaiver {
    RecordWaiver {
        item: redactor.redact(&spec.item),
        reason: redactor.redact(&spec.reason),
        risk: spec.risk.as_str().to_string(),
        control: redactor.redact(&spec.control),
        expires: spec.expires,
        expired: now >= spec.expires,
        requested_by: redactor.redact(&spec.requested_by),
        approved_by: redactor.redact(&spec.approved_by),
        recorded_at: None,
        source: "checklist".to_string(),
        findings: spec
            .findings
            .iter()
            .map(|finding| redactor.redact(finding))
            .collect(),
    }
}

fn record_waiver(waiver: &Waiver, now: jiff::Timestamp, redactor: &Redactor) -> RecordWaiver {
    RecordWaiver {
        item: redactor.redact(&waiver.item),
        reason: redactor.redact(&waiver.reason),
        risk: waiver.risk.as_str().to_string(),
        control: redactor.redact(&waiver.control),
        expires: waiver.expires,
        expired: !waiver.is_active(now),
        requested_by: redactor.redact(&waiver.requested_by),
        approved_by: redactor.redact(&waiver.approved_by),
        recorded_at: waiver.recorded_at,
        source: match waiver.source {
            WaiverSource::Checklist => "checklist",
            WaiverSource::Journal => "journal",
        }
        .to_string(),
        findings: Vec::new(),
    }
}

/// Lists the journal's drift events in journal order, marking those whose item still does not
/// count toward GO.
fn record_drift(events: &[Event], session: &Session, redactor: &Redactor) -> Vec<RecordDrift> {
    events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Drift {
                item,
                from,
                to,
                signoff,
            } => Some(RecordDrift {
                item: redactor.redact(item),
                from: from.word().to_string(),
                to: to.word().to_string(),
                signoff: redactor.redact(signoff),
                at: event.at,
                unresolved: session.item(item).is_some()
                    && !session.settled_status(item).counts_toward_go(),
            }),
            _ => None,
        })
        .collect()
}

impl LaunchRecord {
    /// Serialises the record as pretty-printed JSON with 2-space indents and a final newline.
    /// The same record always gives the same bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, integers, booleans, timestamps and JSON values have no failure path when
        // serialised into memory.
        let mut bytes =
            serde_json::to_vec_pretty(self).expect("a launch record always serialises to JSON");
        bytes.push(b'\n');
        bytes
    }

    /// Parses a record from its JSON bytes, checking that it is an in-toto Statement v1 with
    /// golive's predicate type.
    ///
    /// # Errors
    ///
    /// [`RecordError::Invalid`] naming what does not match.
    pub fn from_json(bytes: &[u8]) -> Result<LaunchRecord, RecordError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|err| RecordError::Invalid(format!("not JSON: {err}")))?;
        let statement_type = value.get("_type").and_then(|v| v.as_str());
        if statement_type != Some(STATEMENT_TYPE) {
            return Err(RecordError::Invalid(format!(
                "_type is {}, expected {STATEMENT_TYPE}",
                describe_json_string(statement_type)
            )));
        }
        let predicate_type = value.get("predicateType").and_then(|v| v.as_str());
        if predicate_type != Some(PREDICATE_TYPE) {
            return Err(RecordError::Invalid(format!(
                "predicateType is {}, expected {PREDICATE_TYPE}",
                describe_json_string(predicate_type)
            )));
        }
        serde_path_to_error::deserialize(value)
            .map_err(|err| RecordError::Invalid(format!("field `{}`: {}", err.path(), err.inner())))
    }
}

fn describe_json_string(value: Option<&str>) -> String {
    match value {
        Some(text) => format!("`{text}`"),
        None => "missing".to_string(),
    }
}

/// Returns the lowercase hex SHA-256 of the bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Failures of [`sha256_file`].
#[derive(Debug, thiserror::Error)]
pub enum FileDigestError {
    /// The path names something else than a regular file, such as a FIFO or a device.
    #[error("not a regular file but {kind}")]
    NotRegularFile {
        /// The kind of file the path names, such as `a FIFO` or `a character device`.
        kind: &'static str,
    },
    #[error("{0}")]
    Io(std::io::Error),
}

/// Computes the lowercase hex SHA-256 of a regular file, reading it in blocks so that its size
/// does not matter. Symbolic links are followed.
///
/// # Errors
///
/// [`FileDigestError::NotRegularFile`] for a FIFO, device, socket or folder, which could block
/// or never end, and [`FileDigestError::Io`] when the file cannot be opened or read.
pub fn sha256_file(path: &Path) -> Result<String, FileDigestError> {
    use std::io::BufReader;

    let file = crate::files::open_regular_file(path).map_err(|err| match err {
        crate::files::OpenError::Io { source, .. } => FileDigestError::Io(source),
        crate::files::OpenError::NotRegular { kind } => FileDigestError::NotRegularFile { kind },
    })?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut hasher = Sha256::new();
    std::io::copy(&mut reader, &mut hasher).map_err(FileDigestError::Io)?;
    Ok(hex::encode(hasher.finalize()))
}

fn checklist_subject(checklist: &Checklist, redactor: &Redactor) -> Subject {
    let absolute = std::fs::canonicalize(&checklist.path)
        .or_else(|_| std::path::absolute(&checklist.path))
        .unwrap_or_else(|_| checklist.path.clone());
    subject_for(&absolute, checklist.digest.clone(), redactor)
}

fn attachment_subject(path: &Path, redactor: &Redactor) -> Result<Subject, RecordError> {
    let display = path.display().to_string();
    let sha256 = sha256_file(path).map_err(|err| match err {
        FileDigestError::NotRegularFile { kind } => RecordError::AttachmentNotRegularFile {
            path: display.clone(),
            kind,
        },
        FileDigestError::Io(error) => RecordError::Attachment {
            path: display.clone(),
            error,
        },
    })?;
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(subject_for(&absolute, sha256, redactor))
}

fn subject_for(path: &Path, sha256: String, redactor: &Redactor) -> Subject {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    Subject {
        name: redactor.redact(&name),
        digest: BTreeMap::from([("sha256".to_string(), sha256)]),
        annotations: BTreeMap::from([(
            "path".to_string(),
            redactor.redact(&path.display().to_string()),
        )]),
    }
}

/// Lists the files that the `report` checks of the session read, one subject per distinct
/// path and digest, sorted by path and then digest.
///
/// The files come from each `report` item's latest result in this process, or else from the
/// latest outcome its journal recorded, so that a record built from the journal alone
/// (`golive export`) names them too. A path read with two different digests, such as a report
/// rewritten between two runs, gives two subjects, so that verifying the record reports the
/// one that no longer matches.
fn report_subjects(checklist: &Checklist, session: &Session, redactor: &Redactor) -> Vec<Subject> {
    let mut files = std::collections::BTreeSet::new();
    let report_items = checklist
        .phases
        .iter()
        .flat_map(|phase| &phase.items)
        .filter(
            |item| matches!(&item.body, ItemBody::Check(check) if check.spec.kind() == "report"),
        );
    for item in report_items {
        let Some(state) = session.state(&item.id) else {
            continue;
        };
        let read = match (&state.result, &state.recorded) {
            (Some(result), _) => &result.evidence.files,
            (None, Some(recorded)) => &recorded.files,
            (None, None) => continue,
        };
        for file in read {
            files.insert((redactor.redact(&file.path), file.sha256.clone()));
        }
    }
    files
        .into_iter()
        .map(|(path, sha256)| {
            let name = Path::new(&path)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            Subject {
                name: redactor.redact(&name),
                digest: BTreeMap::from([("sha256".to_string(), sha256)]),
                annotations: BTreeMap::from([("path".to_string(), path)]),
            }
        })
        .collect()
}

/// Returns whether two subjects name the same path with the same SHA-256.
fn same_file(known: &Subject, candidate: &Subject) -> bool {
    known.annotations.get("path") == candidate.annotations.get("path")
        && known.digest.get("sha256") == candidate.digest.get("sha256")
}

fn record_item(item: &Item, session: &Session, redactor: &Redactor) -> RecordItem {
    let state = session.state(&item.id);
    let kind = match &item.body {
        ItemBody::Manual(_) => "manual",
        ItemBody::Check(check) => check.spec.kind(),
    };
    let result = state.and_then(|state| state.result.as_ref());
    let recorded = state.and_then(|state| state.recorded.as_ref());
    let (summary, started_at) = match (result, recorded) {
        (Some(result), _) => (Some(result.summary.clone()), Some(result.started_at)),
        (None, Some(recorded)) => (Some(recorded.summary.clone()), Some(recorded.at)),
        (None, None) => (None, None),
    };
    let evidence = result.map(|result| {
        let mut value = serde_json::to_value(&result.evidence).unwrap_or_default();
        redact_json_strings(&mut value, redactor);
        value
    });
    let mark = state
        .and_then(|state| state.mark.as_ref())
        .filter(|_| item.is_manual())
        .map(|mark| RecordMark {
            state: if mark.done { "done" } else { "failed" }.to_string(),
            by: redactor.redact(&mark.actor),
            at: mark.at,
        });
    let notes = state
        .map(|state| {
            state
                .notes
                .iter()
                .map(|note| RecordNote {
                    by: redactor.redact(&note.actor),
                    at: note.at,
                    text: redactor.redact(&note.text),
                })
                .collect()
        })
        .unwrap_or_default();
    RecordItem {
        id: redactor.redact(&item.id),
        title: redactor.redact(&item.title),
        severity: item.severity.as_str().to_string(),
        required: item.required,
        owner: item.owner.as_deref().map(|owner| redactor.redact(owner)),
        kind: kind.to_string(),
        status: session.settled_status(&item.id).word().to_string(),
        summary: summary.map(|summary| redactor.redact(&summary)),
        evidence,
        started_at,
        mark,
        notes,
    }
}

/// Masks every string in a JSON value, object keys included.
fn redact_json_strings(value: &mut serde_json::Value, redactor: &Redactor) {
    match value {
        serde_json::Value::String(text) => *text = redactor.redact(text),
        serde_json::Value::Array(values) => {
            for value in values {
                redact_json_strings(value, redactor);
            }
        }
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut value) in entries {
                redact_json_strings(&mut value, redactor);
                map.insert(redactor.redact(&key), value);
            }
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}
