//! Opening a report file only when it is a regular file.
//!
//! A `path` that names a FIFO would block `open()` until some process writes to it, and a
//! device such as `/dev/zero` never ends, so either would keep the check's blocking thread
//! (and so golive) from ever finishing. Such paths are rejected before any read.

use std::fs::{self, File};
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::model::{ReportError, io_error};
use crate::files::OpenError;

/// Maximum directory entries looked at for report file names to suggest, so that a huge
/// directory does not slow down the error.
const MAX_DIRECTORY_ENTRIES: usize = 1000;
/// Maximum report file names suggested for a directory.
const MAX_SUGGESTIONS: usize = 3;

/// Opens the report at `path` for reading after checking, with symlinks followed, that it is
/// a regular file.
///
/// # Errors
///
/// [`ReportError::NotRegularFile`] for a FIFO, socket, device or directory, and
/// [`ReportError::Io`] when the path cannot be inspected or opened.
pub(crate) fn open_regular_file(path: &Path, cancel: &AtomicBool) -> Result<File, ReportError> {
    crate::files::open_regular_file(path).map_err(|err| match err {
        OpenError::Io { source, .. } => io_error(path, source, cancel),
        OpenError::NotRegular { kind } => not_regular(path, kind),
    })
}

fn not_regular(path: &Path, kind: &'static str) -> ReportError {
    let hint = if kind == "a directory" {
        directory_hint(path)
    } else {
        "give the path of the scanner's report file".to_string()
    };
    ReportError::NotRegularFile {
        path: path.to_path_buf(),
        kind,
        hint,
    }
}

/// Returns the next step for a directory: naming the report file inside it, with up to
/// [`MAX_SUGGESTIONS`] of its JSON, JSON Lines and SARIF files as examples.
fn directory_hint(path: &Path) -> String {
    let mut names: Vec<String> = fs::read_dir(path)
        .into_iter()
        .flatten()
        .take(MAX_DIRECTORY_ENTRIES)
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| looks_like_report_name(name))
        .collect();
    names.sort();
    names.truncate(MAX_SUGGESTIONS);
    if names.is_empty() {
        return "set the path of the report file inside it".to_string();
    }
    let examples: Vec<String> = names
        .iter()
        .map(|name| path.join(name).display().to_string())
        .collect();
    format!(
        "set the path of the report file inside it, such as {}",
        examples.join(" or ")
    )
}

fn looks_like_report_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".json", ".jsonl", ".sarif"]
        .iter()
        .any(|extension| lower.ends_with(extension))
}
