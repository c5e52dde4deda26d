//! Detection of stack traces, database errors and internal paths in HTTP responses.
//!
//! A response that shows how the service is built (a traceback, a SQL error message, the path
//! of its source files) helps an attacker aim the next request. [`scan`] looks for the common
//! forms in a response body and its header values and returns each finding with a short,
//! masked and terminal-safe excerpt.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use reqwest::header::HeaderMap;

use super::Assertion;
use crate::redact::Redactor;
use crate::sanitize::{terminal_safe, truncate_chars};

/// Maximum number of characters of context kept on each side of a match in an excerpt.
const CONTEXT_CHARS: usize = 40;
/// Maximum number of characters of one excerpt.
const EXCERPT_CHARS: usize = 160;

/// Kind of internal detail in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeakKind {
    PythonTraceback,
    /// A JVM stack trace frame (Java, Kotlin, Scala, Groovy).
    JavaStackTrace,
    NodeStackTrace,
    DotNetStackTrace,
    GoPanic,
    RustPanic,
    PhpError,
    PostgresError,
    MysqlError,
    SqliteError,
    SqlServerError,
    OracleError,
    /// A file system path of the server, such as `/var/task/` or `C:\inetpub\`.
    InternalPath,
}

impl LeakKind {
    /// Returns the name shown in summaries, such as "PostgreSQL error".
    pub fn label(self) -> &'static str {
        match self {
            LeakKind::PythonTraceback => "Python traceback",
            LeakKind::JavaStackTrace => "Java stack trace",
            LeakKind::NodeStackTrace => "Node.js stack trace",
            LeakKind::DotNetStackTrace => ".NET stack trace",
            LeakKind::GoPanic => "Go panic",
            LeakKind::RustPanic => "Rust panic",
            LeakKind::PhpError => "PHP error",
            LeakKind::PostgresError => "PostgreSQL error",
            LeakKind::MysqlError => "MySQL error",
            LeakKind::SqliteError => "SQLite error",
            LeakKind::SqlServerError => "SQL Server error",
            LeakKind::OracleError => "Oracle error",
            LeakKind::InternalPath => "internal path",
        }
    }

    /// Returns whether the finding is the text of a database error.
    pub fn is_database_error(self) -> bool {
        matches!(
            self,
            LeakKind::PostgresError
                | LeakKind::MysqlError
                | LeakKind::SqliteError
                | LeakKind::SqlServerError
                | LeakKind::OracleError
        )
    }
}

impl fmt::Display for LeakKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.label())
    }
}

/// Part of the response a leak was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeakLocation {
    Body,
    /// The value of the named response header.
    Header(String),
}

impl fmt::Display for LeakLocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeakLocation::Body => formatter.write_str("body"),
            LeakLocation::Header(name) => write!(formatter, "header {name}"),
        }
    }
}

/// One internal detail found in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub kind: LeakKind,
    pub location: LeakLocation,
    /// The matched text with a little context, secrets masked, terminal-safe, on one line.
    pub excerpt: String,
}

impl fmt::Display for Leak {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} in {}: `{}`",
            self.kind, self.location, self.excerpt
        )
    }
}

/// One detector: a kind and the patterns that reveal it.
struct Detector {
    kind: LeakKind,
    patterns: Vec<Regex>,
}

/// Patterns of each kind. Each is matched against text that may be JSON-escaped, so none
/// spans a line break, and backslashes may appear doubled.
const PATTERNS: &[(LeakKind, &[&str])] = &[
    (
        LeakKind::PythonTraceback,
        &[
            r"Traceback \(most recent call last\)",
            r#"File "[^"\n]{1,300}", line \d+, in [\w<>]+"#,
        ],
    ),
    (
        LeakKind::JavaStackTrace,
        &[
            concat!(
                r"\bat (?:[\w$]+\.)+[\w$<>]+\(",
                r"(?:[\w$]+\.(?:java|kt|scala|groovy):\d+|Native Method|Unknown Source)\)",
            ),
            r#"Exception in thread "[^"\n]{0,100}" (?:[\w$]+\.)+[\w$]+"#,
        ],
    ),
    (
        LeakKind::NodeStackTrace,
        &[
            r"\bat [^\n()]{1,200} \((?:/|[A-Za-z]:\\|node:|file://)[^\n()]{0,300}:\d+:\d+\)",
            r"\bat (?:/|node:|file://)[^\s()]{1,300}\.[cm]?js:\d+:\d+",
        ],
    ),
    (
        LeakKind::DotNetStackTrace,
        &[
            r"\bat [\w.`<>\[\],]+\([^\n)]{0,300}\) in [^\n]{1,300}:line \d+",
            r"--- End of stack trace from previous location",
            r"\bSystem\.(?:[A-Z]\w+\.)*[A-Z]\w*Exception: ",
        ],
    ),
    (
        LeakKind::GoPanic,
        &[
            r"goroutine \d+ \[[a-z ]{1,40}\]:",
            r"\bpanic: runtime error: ",
        ],
    ),
    (
        LeakKind::RustPanic,
        &[
            r"thread '[^'\n]{0,100}' panicked at",
            r"note: run with `RUST_BACKTRACE=1`",
        ],
    ),
    (
        LeakKind::PhpError,
        &[
            concat!(
                r"(?:PHP )?(?:Fatal error|Parse error|Warning|Notice|Deprecated): ",
                r"[^\n]{1,500} in [^\n]{1,300} on line \d+",
            ),
            r"Stack trace:(?:\n|\\n)#0 ",
            r"\bUncaught (?:[A-Z]\w*\\)*[A-Z]\w*(?:Exception|Error)\b",
        ],
    ),
    (
        LeakKind::PostgresError,
        &[
            concat!(
                r"ERROR:\s+(?:syntax error at or near|unterminated quoted string at or near|",
                r"column .{1,100} does not exist|relation .{1,100} does not exist|",
                r"invalid input syntax for)",
            ),
            r"\bPG::[A-Z]\w*Error\b",
            r"\bpsycopg2?\.(?:errors\.)?\w*Error\b",
            r"\borg\.postgresql\.util\.PSQLException\b",
            r"\bPostgreSQL query failed\b",
        ],
    ),
    (
        LeakKind::MysqlError,
        &[
            r"You have an error in your SQL syntax",
            r"\bmysqli?_(?:fetch|query|num_rows)\w*\(\)",
            r"\bcom\.mysql\.jdbc\b",
            r"\bMySqlException\b",
            r"\bWarning: mysql_",
        ],
    ),
    (
        LeakKind::SqliteError,
        &[
            r"\bSQLITE_(?:ERROR|CONSTRAINT|MISMATCH)\b",
            r"\bsqlite3\.(?:OperationalError|IntegrityError|ProgrammingError)\b",
            r"\bSQLite3::SQLException\b",
            r"\bSQLiteException\b",
            r#"near "[^"\n]{0,100}": syntax error"#,
        ],
    ),
    (
        LeakKind::SqlServerError,
        &[
            r"Unclosed quotation mark after the character string",
            r"Incorrect syntax near",
            r"Microsoft OLE DB Provider for (?:SQL Server|ODBC Drivers)",
            r"\[Microsoft\]\[ODBC SQL Server Driver\]",
            r"\bSystem\.Data\.SqlClient\.SqlException\b",
        ],
    ),
    (
        LeakKind::OracleError,
        &[r"\bORA-\d{5}\b", r"\bOracle error\b"],
    ),
    (
        LeakKind::InternalPath,
        &[
            // A path must start the text or follow a separator, so that a URL path such as
            // `https://example.com/home/a/` does not count.
            r#"(?:^|[\s"'(=:,\[])(/var/task/|/usr/src/app\b|/var/www/|/home/[\w.-]{1,64}/)"#,
            r"\b[A-Za-z]:(?:\\\\|\\)(?:[\w .$-]{1,64}(?:\\\\|\\))+",
        ],
    ),
];

static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(build_detectors);

fn build_detectors() -> Vec<Detector> {
    PATTERNS
        .iter()
        .map(|(kind, patterns)| Detector {
            kind: *kind,
            patterns: patterns
                .iter()
                .filter_map(|pattern| match Regex::new(pattern) {
                    Ok(regex) => Some(regex),
                    Err(err) => {
                        // Only a mistake in the table above gets here, and a unit test fails on
                        // it, so a running check loses one pattern instead of crashing.
                        tracing::error!(%err, "invalid leak pattern");
                        None
                    }
                })
                .collect(),
        })
        .collect()
}

/// Scans a response body (as read, possibly cut) and its header values for internal details.
/// Each kind is reported at most once per body or header value, with the excerpt of its first
/// match.
pub fn scan(body: &[u8], headers: &HeaderMap, redactor: &Redactor) -> Vec<Leak> {
    let mut leaks = scan_text(&String::from_utf8_lossy(body), LeakLocation::Body, redactor);
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        let location = LeakLocation::Header(name.as_str().to_string());
        leaks.extend(scan_text(&value, location, redactor));
    }
    leaks
}

/// Scans one text for internal details; see [`scan`].
pub fn scan_text(text: &str, location: LeakLocation, redactor: &Redactor) -> Vec<Leak> {
    let mut leaks = Vec::new();
    for detector in DETECTORS.iter() {
        let first = detector
            .patterns
            .iter()
            .filter_map(|pattern| pattern.find(text))
            .min_by_key(|found| found.start());
        if let Some(found) = first {
            leaks.push(Leak {
                kind: detector.kind,
                location: location.clone(),
                excerpt: excerpt(text, found.start(), found.end(), redactor),
            });
        }
    }
    leaks
}

/// Returns the match with up to [`CONTEXT_CHARS`] characters on each side, whitespace
/// (and JSON-escaped line breaks) collapsed to single spaces, masked and terminal-safe.
fn excerpt(text: &str, start: usize, end: usize, redactor: &Redactor) -> String {
    let before_start = text[..start]
        .char_indices()
        .rev()
        .nth(CONTEXT_CHARS.saturating_sub(1))
        .map_or(0, |(index, _)| index);
    let after_end = text[end..]
        .char_indices()
        .nth(CONTEXT_CHARS)
        .map_or(text.len(), |(index, _)| end + index);
    // Masking runs on the wider window so that a secret cut by the window edge is still found.
    let window = redactor.redact(&text[before_start..after_end]);
    let flattened = window.replace("\\r\\n", " ").replace("\\n", " ");
    let collapsed: Vec<&str> = flattened.split_whitespace().collect();
    let mut shown = terminal_safe(&collapsed.join(" "));
    if before_start > 0 {
        shown.insert(0, '…');
    }
    let mut shown = truncate_chars(&shown, EXCERPT_CHARS);
    if after_end < text.len() && !shown.ends_with('…') {
        shown.push('…');
    }
    shown
}

/// Returns the kinds found, in order, without duplicates, joined for a summary such as
/// "PostgreSQL error, internal path".
pub fn kinds_text(leaks: &[Leak]) -> String {
    let mut kinds: Vec<LeakKind> = Vec::new();
    for leak in leaks {
        if !kinds.contains(&leak.kind) {
            kinds.push(leak.kind);
        }
    }
    let labels: Vec<&str> = kinds.into_iter().map(LeakKind::label).collect();
    labels.join(", ")
}

/// Builds the `error leak` assertion: passed when nothing was found, otherwise naming the
/// first finding with its excerpt.
pub fn assertion(leaks: &[Leak]) -> Assertion {
    Assertion {
        subject: "error leak".into(),
        expected: "no stack trace, database error or internal path".into(),
        actual: match leaks.first() {
            None => "none found".into(),
            Some(first) if leaks.len() == 1 => first.to_string(),
            Some(first) => format!("{first} (and {} more)", leaks.len() - 1),
        },
        passed: leaks.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::MASK;

    fn kinds(text: &str) -> Vec<LeakKind> {
        scan_text(text, LeakLocation::Body, &Redactor::new())
            .into_iter()
            .map(|leak| leak.kind)
            .collect()
    }

    #[test]
    fn every_pattern_compiles() {
        for (kind, patterns) in PATTERNS {
            for pattern in *patterns {
                assert!(Regex::new(pattern).is_ok(), "{kind}: {pattern}");
            }
        }
    }

    #[test]
    fn detects_each_kind() {
        let cases: &[(&str, LeakKind)] = &[
            (
                "Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in handler",
                LeakKind::PythonTraceback,
            ),
            (
                "java.lang.NullPointerException\n\tat com.acme.api.Cases.load(Cases.java:42)",
                LeakKind::JavaStackTrace,
            ),
            ("at com.acme.Api.handle(Api.kt:7)", LeakKind::JavaStackTrace),
            (
                "TypeError: x is undefined\n    at Object.<anonymous> (/srv/lib/handler.js:10:5)",
                LeakKind::NodeStackTrace,
            ),
            (
                "at processTicksAndRejections (node:internal/process/task_queues:95:5)",
                LeakKind::NodeStackTrace,
            ),
            (
                "at Acme.Api.CasesController.Get(Int32 id) in D:\\build\\Cases.cs:line 31",
                LeakKind::DotNetStackTrace,
            ),
            (
                "System.InvalidOperationException: Sequence contains no elements",
                LeakKind::DotNetStackTrace,
            ),
            (
                "panic: runtime error: index out of range [3] with length 3",
                LeakKind::GoPanic,
            ),
            ("goroutine 1 [running]:", LeakKind::GoPanic),
            (
                "thread 'tokio-runtime-worker' panicked at src/api.rs:10:5:",
                LeakKind::RustPanic,
            ),
            (
                "PHP Fatal error:  Uncaught Error: undefined function f() in /srv/a.php on line 3",
                LeakKind::PhpError,
            ),
            (
                "ERROR:  syntax error at or near \"OR\"\nLINE 1: SELECT",
                LeakKind::PostgresError,
            ),
            (
                "You have an error in your SQL syntax; check the manual",
                LeakKind::MysqlError,
            ),
            (
                "sqlite3.OperationalError: near \"'\": syntax error",
                LeakKind::SqliteError,
            ),
            (
                "Unclosed quotation mark after the character string ''.",
                LeakKind::SqlServerError,
            ),
            (
                "ORA-01756: quoted string not properly terminated",
                LeakKind::OracleError,
            ),
            ("error in /var/task/index.js", LeakKind::InternalPath),
            (
                "\"file\": \"/home/deploy/app/x.rb\"",
                LeakKind::InternalPath,
            ),
            ("cwd=/usr/src/app", LeakKind::InternalPath),
            ("at C:\\inetpub\\wwwroot\\api.dll", LeakKind::InternalPath),
            (
                "{\"path\": \"C:\\\\Users\\\\svc\\\\app.py\"}",
                LeakKind::InternalPath,
            ),
        ];
        for (text, kind) in cases {
            let found = kinds(text);
            assert!(
                found.contains(kind),
                "{kind} not found in {text:?}: {found:?}"
            );
        }
    }

    #[test]
    fn ordinary_responses_are_clean() {
        let cases = [
            "{\"status\":\"ok\",\"version\":\"3.2.0\"}",
            "{\"error\":\"invalid_request\",\"message\":\"query contains invalid characters\"}",
            "<p>Results for &lt;script&gt;alert(1)&lt;/script&gt;</p>",
            "see https://example.com/home/alice/ and /api/v1/cases",
            "{\"error\":\"not_found\",\"message\":\"no route matches this path\"}",
            "the requested path ../../etc/passwd was not found",
        ];
        for text in cases {
            let found = kinds(text);
            assert!(found.is_empty(), "{text:?}: {found:?}");
        }
    }

    #[test]
    fn json_escaped_traceback_found() {
        let body = concat!(
            r#"{"trace":"Traceback (most recent call last):\n"#,
            r#"  File \"/usr/src/app/db.py\", line 8, in run"}"#,
        );
        let found = kinds(body);
        assert!(found.contains(&LeakKind::PythonTraceback));
        assert!(found.contains(&LeakKind::InternalPath));
    }

    #[test]
    fn excerpt_masks_secrets() {
        let mut redactor = Redactor::new();
        redactor.add("tok-123456");
        let text = "ERROR:  syntax error at or near \"tok-123456\"";
        let leaks = scan_text(text, LeakLocation::Body, &redactor);
        let excerpt = &leaks[0].excerpt;
        assert!(!excerpt.contains("tok-123456"), "{excerpt}");
        assert!(excerpt.contains(MASK), "{excerpt}");
    }

    #[test]
    fn excerpt_is_bounded_and_terminal_safe() {
        let long = "x".repeat(5000);
        let text = format!("{long}\x1b[2J You have an error in your SQL syntax {long}");
        let leaks = scan_text(&text, LeakLocation::Body, &Redactor::new());
        let excerpt = &leaks[0].excerpt;
        assert!(excerpt.chars().count() <= EXCERPT_CHARS + 2, "{excerpt}");
        assert!(!excerpt.contains('\x1b'), "{excerpt}");
        assert!(excerpt.starts_with('…'), "{excerpt}");
    }

    #[test]
    fn header_values_scanned() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-debug",
            reqwest::header::HeaderValue::from_static("at /var/task/handler.js:3:1"),
        );
        let leaks = scan(b"{}", &headers, &Redactor::new());
        let kinds: Vec<LeakKind> = leaks.iter().map(|leak| leak.kind).collect();
        assert!(kinds.contains(&LeakKind::InternalPath), "{kinds:?}");
        assert!(kinds.contains(&LeakKind::NodeStackTrace), "{kinds:?}");
        let header = LeakLocation::Header("x-debug".to_string());
        assert!(
            leaks.iter().all(|leak| leak.location == header),
            "{leaks:?}"
        );
    }

    #[test]
    fn assertion_names_first_leak() {
        let leaks = scan_text(
            "ORA-00933: SQL command not properly ended",
            LeakLocation::Body,
            &Redactor::new(),
        );
        let assertion = assertion(&leaks);
        assert!(!assertion.passed);
        assert!(
            assertion.actual.starts_with("Oracle error in body"),
            "{}",
            assertion.actual
        );
    }
}
