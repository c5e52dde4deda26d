//! Writing a launch record into an export folder: `record.json`, `record.md` and, with a
//! signer, `record.json.sig`. `golive export` and the cockpit's `E` key both use it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::signing::{SigningError, SigningKey};
use super::{
    Decision, MARKDOWN_FILE, RECORD_FILE, RecordError, RecordSource, SIGNATURE_FILE,
    SIGNATURE_NAMESPACE,
};
use crate::checklist::{Checklist, LaunchPolicy};
use crate::journal::Event;
use crate::session::Session;

/// The key that signs a record and the email it is verified against.
pub struct Signer<'a> {
    pub key: &'a SigningKey,
    /// The signer's principal in `allowed_signers` (`[identity] email`).
    pub email: &'a str,
}

/// The record source, target folder and optional signer of one export.
pub struct ExportRequest<'a> {
    pub source: RecordSource<'a>,
    /// The folder to write into; created when missing.
    pub folder: &'a Path,
    /// Signs the record when set; without it the record is written unsigned.
    pub signer: Option<Signer<'a>>,
}

/// The files an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub folder: PathBuf,
    pub record_path: PathBuf,
    pub markdown_path: PathBuf,
    /// `None` when the record was written unsigned.
    pub signature_path: Option<PathBuf>,
    pub decision: Decision,
}

/// Failures of an export.
///
/// The I/O errors are part of the message and not error sources, so that a report printing
/// the source chain shows them once.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error("{path} already exists; move the old record away or choose another folder")]
    Exists { path: String },
    #[error("cannot create folder {path}: {error}")]
    CreateFolder { path: String, error: std::io::Error },
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: std::io::Error },
}

/// Replays a session journal into a session with the checklist's sign-offs and waivers, at
/// `now`, so that waivers, sign-offs and drift count in the record as they did in the cockpit.
pub fn replay(
    checklist: Arc<Checklist>,
    policy: LaunchPolicy,
    events: &[Event],
    now: jiff::Timestamp,
) -> Session {
    let mut session = Session::with_policy(checklist, policy);
    session.set_now(now);
    for event in events {
        session.apply_event(event);
    }
    session
}

/// Returns `now` rounded to whole seconds, the generation time of a record: whole seconds keep
/// the record readable, and the journal has the exact times.
pub fn generation_time(now: jiff::Timestamp) -> jiff::Timestamp {
    now.round(jiff::Unit::Second).unwrap_or(now)
}

/// Returns `./launch-record-<env>-<UTC time>`, with the environment made safe for a file name.
pub fn default_folder(environment: &str, now: jiff::Timestamp) -> PathBuf {
    let environment: String = environment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stamp = now.strftime("%Y%m%dT%H%M%SZ");
    PathBuf::from(format!("launch-record-{environment}-{stamp}"))
}

/// Builds the record, renders its Markdown, signs it when a signer is given, and writes the
/// files. Nothing is written when building or signing fails, and no file is overwritten.
///
/// # Errors
///
/// [`ExportError::Record`] or [`ExportError::Signing`] before anything is written,
/// [`ExportError::Exists`] when a target file exists, and the I/O errors of creating the
/// folder or writing a file.
pub fn write(request: &ExportRequest<'_>) -> Result<Exported, ExportError> {
    let launch_record = super::build(&request.source)?;
    let json = launch_record.to_json();
    let markdown = super::markdown::render(&launch_record, &request.source.checklist.redactor);
    let signature = match &request.signer {
        Some(signer) => Some(signer.key.sign(&json)?),
        None => None,
    };

    let folder = request.folder;
    std::fs::create_dir_all(folder).map_err(|error| ExportError::CreateFolder {
        path: folder.display().to_string(),
        error,
    })?;
    let record_path = folder.join(RECORD_FILE);
    let markdown_path = folder.join(MARKDOWN_FILE);
    let signature_path = signature.as_ref().map(|_| folder.join(SIGNATURE_FILE));
    let targets = [
        Some(&record_path),
        Some(&markdown_path),
        signature_path.as_ref(),
    ];
    if let Some(existing) = targets.into_iter().flatten().find(|path| path.exists()) {
        return Err(ExportError::Exists {
            path: existing.display().to_string(),
        });
    }
    write_new(&record_path, &json)?;
    write_new(&markdown_path, markdown.as_bytes())?;
    if let (Some(path), Some(signature)) = (&signature_path, &signature) {
        write_new(path, signature.as_bytes())?;
    }
    Ok(Exported {
        folder: folder.to_path_buf(),
        record_path,
        markdown_path,
        signature_path,
        decision: launch_record.predicate.decision,
    })
}

/// Writes a file that must not exist yet, so that no record is overwritten.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let error = |error| ExportError::Write {
        path: path.display().to_string(),
        error,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                ExportError::Exists {
                    path: path.display().to_string(),
                }
            } else {
                error(source)
            }
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(error)
}

/// Returns the one-line `ssh-keygen -Y verify` command that checks a signed record, given an
/// `allowed_signers` file in the current folder.
pub fn verify_command(email: &str, record_path: &Path, signature_path: &Path) -> String {
    format!(
        "ssh-keygen -Y verify -f allowed_signers -I {principal} -n {SIGNATURE_NAMESPACE} \
         -s {sig} < {rec}",
        principal = shell_quote(email),
        sig = shell_quote(&signature_path.display().to_string()),
        rec = shell_quote(&record_path.display().to_string()),
    )
}

/// Quotes text for a POSIX shell when it contains anything but safe characters.
pub fn shell_quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | '+' | '@')
        });
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_leaves_safe_text() {
        assert_eq!(shell_quote("ana@example.com"), "ana@example.com");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn default_folder_replaces_unsafe_characters() {
        let now: jiff::Timestamp = "2026-02-16T06:00:00Z".parse().unwrap();
        let folder = default_folder("prod/eu 1", now);
        assert_eq!(
            folder,
            PathBuf::from("launch-record-prod-eu-1-20260216T060000Z")
        );
    }
}
