//! Findings, severities, report errors and the streaming reader shared by every format.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Maximum number of warnings kept per report; the rest are only counted.
const MAX_WARNINGS: usize = 50;
/// Maximum number of distinct scan targets kept per report.
const MAX_HOSTS: usize = 50;

/// A finding's severity, normalised across formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// Position in [`Severity::ALL`], for per-severity arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A report format that the check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// OWASP ZAP's traditional JSON report.
    #[serde(rename = "zap")]
    Zap,
    /// Nuclei's JSON Lines output (`-jsonl`), one result object per line.
    #[serde(rename = "nuclei-jsonl")]
    NucleiJsonl,
    /// Nuclei's JSON export (`-json-export`), one array of result objects.
    #[serde(rename = "nuclei-json")]
    NucleiJson,
    /// SARIF 2.1.0.
    #[serde(rename = "sarif")]
    Sarif,
}

impl Format {
    /// Returns the name used in settings, such as `nuclei-jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Zap => "zap",
            Format::NucleiJsonl => "nuclei-jsonl",
            Format::NucleiJson => "nuclei-json",
            Format::Sarif => "sarif",
        }
    }

    /// Returns a description for messages, such as "a ZAP traditional JSON report".
    pub fn describe(self) -> &'static str {
        match self {
            Format::Zap => "a ZAP traditional JSON report",
            Format::NucleiJsonl => "Nuclei JSON Lines output",
            Format::NucleiJson => "a Nuclei JSON export",
            Format::Sarif => "a SARIF log",
        }
    }
}

/// One finding as a scanner listed it: one ZAP alert instance, one Nuclei result line or one
/// SARIF result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The scanner's rule: ZAP `alertRef` (else `pluginid`), Nuclei `template-id` with
    /// `:matcher-name` when set, SARIF `ruleId`.
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    /// Normalised location: a URL without query values, or `file:line`.
    pub location: String,
}

impl Finding {
    /// Returns the key that identifies the finding across scans: `rule@location`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.rule_id, self.location)
    }
}

/// An error that stops a report from being read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read report {path}: {source}{}", io_hint(.source))]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The path names a FIFO, socket, device or directory. Reading a FIFO or a device could
    /// block or never end, so such a path is rejected before any read.
    #[error("report {path} is {kind}, not a regular file; {hint}")]
    NotRegularFile {
        path: PathBuf,
        /// The file type with its article, such as `a FIFO`.
        kind: &'static str,
        /// The next step, such as the path to set instead.
        hint: String,
    },
    #[error(
        "report {path} is empty (0 bytes); a scan that finds nothing must still write a report"
    )]
    Empty { path: PathBuf },
    #[error(
        "report {path} is truncated: the JSON ends inside an unfinished value at byte {byte} \
         (line {line}, column {column})"
    )]
    Truncated {
        path: PathBuf,
        byte: u64,
        line: usize,
        column: usize,
    },
    #[error(
        "report {path} is truncated: its last line {line} (from byte {byte}) is an incomplete \
         JSON object: {message}"
    )]
    TruncatedLine {
        path: PathBuf,
        line: u64,
        byte: u64,
        message: String,
    },
    #[error("report {path} is invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("report {path} does not match {format} at line {line}, column {column}: {message}")]
    Invalid {
        path: PathBuf,
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "report {path} is not a ZAP, Nuclei or SARIF report: {reason}; set `format` when \
         detection is wrong"
    )]
    Unrecognised { path: PathBuf, reason: String },
    #[error("report {path} is {found}, but the check sets format = \"{expected}\"")]
    FormatMismatch {
        path: PathBuf,
        found: &'static str,
        expected: &'static str,
    },
    #[error("reading report {path} was cancelled")]
    Cancelled { path: PathBuf },
}

/// Metadata a parser collects from a report besides its findings.
#[derive(Debug, Clone, Default)]
pub struct ReportMeta {
    pub format: Option<Format>,
    /// The latest time the report states: ZAP `created` or `@generated`, the latest Nuclei
    /// `timestamp`, the latest SARIF `invocations[].endTimeUtc`.
    pub timestamp: Option<jiff::Timestamp>,
    /// Scan targets (ZAP `site[].@host`, Nuclei `host`), lowercase, at most 50.
    pub hosts: BTreeSet<String>,
    /// SARIF `tool.driver.name` of each run, at most 50.
    pub tools: BTreeSet<String>,
    /// Problems that did not stop the parse, such as a malformed JSON Lines line.
    pub warnings: Vec<String>,
    pub warnings_total: u64,
    /// Line numbers of malformed JSON Lines lines, at most 50.
    pub malformed_lines: Vec<u64>,
    pub malformed_total: u64,
    /// Findings the report itself marks as not applying: ZAP confidence 0 (false positive),
    /// SARIF results with an accepted suppression or a `kind` other than `fail`.
    pub dismissed: u64,
    /// Bytes read, which is the file size once the parse succeeded.
    pub bytes: u64,
    /// SHA-256 of the file's bytes as lowercase hex, once the parse succeeded.
    pub sha256: String,
}

impl ReportMeta {
    pub(crate) fn warn(&mut self, message: String) {
        self.warnings_total += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        }
    }

    pub(crate) fn observe_time(&mut self, time: jiff::Timestamp) {
        if self.timestamp.is_none_or(|seen| time > seen) {
            self.timestamp = Some(time);
        }
    }

    pub(crate) fn observe_host(&mut self, host: &str) {
        let host = host_of(host);
        if !host.is_empty() && self.hosts.len() < MAX_HOSTS {
            self.hosts.insert(host);
        }
    }

    pub(crate) fn observe_tool(&mut self, tool: &str) {
        if self.tools.len() < MAX_HOSTS {
            self.tools.insert(tool.to_string());
        }
    }
}

/// The state a parser writes to: the finding callback, the metadata and the cancel flag.
pub struct ParseContext<'a> {
    pub on_finding: &'a mut dyn FnMut(Finding),
    pub meta: ReportMeta,
    pub zap_high_as_critical: bool,
    pub cancel: Arc<AtomicBool>,
}

impl ParseContext<'_> {
    pub(crate) fn emit(&mut self, finding: Finding) {
        (self.on_finding)(finding);
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// A reader that hashes and counts every byte it passes on, and fails once cancelled, so that
/// a parse abandoned by a timeout stops at its next read.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    cancel: Arc<AtomicBool>,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R, cancel: Arc<AtomicBool>) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            cancel,
        }
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Reads the rest of the input, so that the digest covers the whole file, and returns the
    /// digest as lowercase hex with the byte count.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((hex::encode(self.hasher.finalize()), self.bytes))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other(CANCELLED_MESSAGE));
        }
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        self.bytes += read as u64;
        Ok(read)
    }
}

pub(crate) const CANCELLED_MESSAGE: &str = "report parse cancelled";

/// Returns what a person can do about an error opening or reading a report, as a `; …` suffix,
/// or an empty string for errors without a known fix.
fn io_hint(error: &io::Error) -> &'static str {
    #[cfg(unix)]
    if error.raw_os_error() == Some(libc::ELOOP) {
        return "; the path is a symlink loop, so point the link at the report file";
    }
    match error.kind() {
        io::ErrorKind::NotFound => {
            "; run the scan first or fix the path, which is relative to golive's working \
             directory when it is not absolute"
        }
        io::ErrorKind::PermissionDenied => {
            "; give the user that runs golive read permission on the file and search (x) \
             permission on its folders"
        }
        io::ErrorKind::NotADirectory => {
            "; a part of the path before the file name is a file, not a folder, so fix the path"
        }
        _ => "",
    }
}

/// Maps a read error to [`ReportError`], telling a cancellation apart.
pub(crate) fn io_error(path: &Path, source: io::Error, cancel: &AtomicBool) -> ReportError {
    if cancel.load(Ordering::Relaxed) {
        ReportError::Cancelled {
            path: path.to_path_buf(),
        }
    } else {
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Returns the URL without its fragment, user information and query values, with the query
/// names sorted, so that the same page with other parameter values has the same location.
/// Text that is not an absolute `http`/`https` URL keeps everything before `?` and `#`, plus the
/// sorted query names.
pub fn normalise_location(raw: &str) -> String {
    let raw = raw.trim();
    if let Ok(mut url) = url::Url::parse(raw)
        && matches!(url.scheme(), "http" | "https")
    {
        let mut names: Vec<String> = url
            .query_pairs()
            .map(|(name, _)| name.into_owned())
            .collect();
        names.sort();
        names.dedup();
        url.set_fragment(None);
        url.set_query(None);
        // Credentials in a scanned URL are secrets, and never part of a finding's identity.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let mut out = url.to_string();
        if !names.is_empty() {
            out.push('?');
            out.push_str(&names.join("&"));
        }
        return out;
    }
    let without_fragment = raw.split('#').next().unwrap_or_default();
    match without_fragment.split_once('?') {
        Some((base, query)) => {
            let mut names: Vec<&str> = query
                .split('&')
                .map(|pair| pair.split('=').next().unwrap_or_default())
                .filter(|name| !name.is_empty())
                .collect();
            names.sort_unstable();
            names.dedup();
            if names.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{}", names.join("&"))
            }
        }
        None => without_fragment.to_string(),
    }
}

/// Returns the lowercase host name of a URL, `host:port` or bare host name.
pub fn host_of(text: &str) -> String {
    let text = text.trim();
    if let Ok(url) = url::Url::parse(text)
        && let Some(host) = url.host_str()
        && !url.cannot_be_a_base()
    {
        return host.trim_matches(['[', ']']).to_ascii_lowercase();
    }
    let without_path = text.split('/').next().unwrap_or_default();
    // A bracketed IPv6 literal keeps its colons; anything else loses a `:port` suffix.
    let host = match without_path.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => without_path.split(':').next().unwrap_or_default(),
    };
    host.to_ascii_lowercase()
}

/// Parses a timestamp in RFC 3339 form, with or without an offset; a time without an offset
/// is taken as UTC.
pub(crate) fn parse_timestamp(text: &str) -> Option<jiff::Timestamp> {
    let text = text.trim();
    if let Ok(time) = text.parse::<jiff::Timestamp>() {
        return Some(time);
    }
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|zoned| zoned.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_drops_query_values() {
        assert_eq!(
            normalise_location("http://Example.test:8080/a/b?z=1&a=2&z=3#top"),
            "http://example.test:8080/a/b?a&z"
        );
    }

    #[test]
    fn location_drops_credentials() {
        assert_eq!(
            normalise_location("https://user:pw@example.test/x"),
            "https://example.test/x"
        );
    }

    #[test]
    fn location_of_host_port_is_kept() {
        assert_eq!(normalise_location("127.0.0.1:22"), "127.0.0.1:22");
    }

    #[test]
    fn host_of_forms() {
        assert_eq!(
            host_of("https://App.example.test:8443/x"),
            "app.example.test"
        );
        assert_eq!(host_of("app.example.test:443"), "app.example.test");
        assert_eq!(host_of("[::1]:80"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }

    #[test]
    fn timestamp_forms() {
        assert!(parse_timestamp("2026-01-02T03:04:05.123456789+02:00").is_some());
        assert!(parse_timestamp("2026-01-02T03:04:05Z").is_some());
        assert!(parse_timestamp("2026-01-02T03:04:05").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }
}
