//! Problems found in a checklist file, with their position, rendered the way rustc and cargo
//! render theirs.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::sanitize::{terminal_safe, truncate_chars};

/// Whether a problem stops the checklist from loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiagnosticSeverity {
    /// The checklist cannot be used until this is fixed.
    Error,
    /// The checklist loads, but something in it will not work as written.
    Warning,
}

impl DiagnosticSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticSeverity::Error => "error",
            DiagnosticSeverity::Warning => "warning",
        }
    }
}

/// One problem in a checklist file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: DiagnosticSeverity,
    /// The checklist file, as given to the loader.
    pub path: PathBuf,
    /// 1-based line of the offending text.
    pub line: usize,
    /// 1-based column of the offending text, in characters.
    pub column: usize,
    /// Number of characters to underline from `column`, at least 1.
    pub width: usize,
    pub message: String,
    /// The suggested fix, such as the closest valid key.
    pub help: Option<String>,
}

/// Maximum length of the source line shown under a diagnostic, in characters.
const MAX_SHOWN_LINE: usize = 160;

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == DiagnosticSeverity::Error
    }

    /// Returns the file's path for display, with control characters escaped, because a file
    /// name can contain terminal escape sequences.
    pub fn shown_path(&self) -> String {
        terminal_safe(&self.path.display().to_string())
    }

    /// Renders the diagnostic like rustc: the message, the position, the source line with a
    /// caret under the column, and the help. `source` is the file's text, when available.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {}",
            self.severity.as_str(),
            terminal_safe(&self.message)
        );
        let line_number = self.line.to_string();
        let gutter = " ".repeat(line_number.len());
        let _ = writeln!(
            out,
            "{gutter}--> {}:{}:{}",
            self.shown_path(),
            self.line,
            self.column
        );
        let line_index = self.line.checked_sub(1);
        let text = source
            .zip(line_index)
            .and_then(|(source, index)| source.lines().nth(index));
        if let Some(text) = text {
            let shown = shown_line(text);
            let shown_len = shown.chars().count();
            // Columns past the shown part of a long line put the caret at its end.
            let caret_column = self.column.clamp(1, shown_len + 1);
            let width = self.width.max(1).min(shown_len + 2 - caret_column).max(1);
            let _ = writeln!(out, "{gutter} |");
            let _ = writeln!(out, "{line_number} | {shown}");
            let _ = writeln!(
                out,
                "{gutter} | {}{}",
                " ".repeat(caret_column - 1),
                "^".repeat(width)
            );
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{gutter} = help: {}", terminal_safe(help));
        }
        out
    }
}

/// Returns a source line fit for a terminal: tabs become one space (so that the caret column
/// matches), control characters are escaped and long lines are cut.
fn shown_line(text: &str) -> String {
    let cut = truncate_chars(text, MAX_SHOWN_LINE);
    let spaced: String = cut
        .chars()
        .map(|ch| if ch == '\t' { ' ' } else { ch })
        .collect();
    let safe = terminal_safe(&spaced);
    if safe.chars().count() == spaced.chars().count() {
        safe
    } else {
        // Escaping would shift the caret, so show printable characters only.
        spaced
            .chars()
            .map(|ch| if ch.is_control() { '?' } else { ch })
            .collect()
    }
}

/// Renders every diagnostic, separated by blank lines, followed by a summary line such as
/// "2 errors, 1 warning". `source` is the text of the file the diagnostics point into.
pub fn render_diagnostics(diagnostics: &[Diagnostic], source: &str) -> String {
    let source = (!source.is_empty()).then_some(source);
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&diagnostic.render(source));
        out.push('\n');
    }
    out.push_str(&summary(diagnostics));
    out
}

/// Counts errors and warnings, such as "2 errors, 1 warning".
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.is_error())
        .count();
    let warnings = diagnostics.len() - errors;
    let plural = |count: usize, word: &str| {
        if count == 1 {
            format!("1 {word}")
        } else {
            format!("{count} {word}s")
        }
    };
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// Returns the valid name closest to `given`, when one is close enough to be a likely typo.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given_lower = given.to_lowercase();
    let limit = (given.chars().count() / 3).max(1);
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let candidate_lower = candidate.to_lowercase();
        let distance = strsim::damerau_levenshtein(&given_lower, &candidate_lower);
        let similarity = strsim::jaro_winkler(&given_lower, &candidate_lower);
        if distance > limit && similarity < 0.85 {
            continue;
        }
        let score = similarity - distance as f64 * 0.01;
        if best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Diagnostic {
        Diagnostic {
            severity: DiagnosticSeverity::Error,
            path: PathBuf::from("launch.toml"),
            line: 2,
            column: 1,
            width: 5,
            message: "unknown key `titel` in [checklist]".into(),
            help: Some("did you mean `title`?".into()),
        }
    }

    #[test]
    fn render_shows_caret_under_column() {
        let out = sample().render(Some("[checklist]\ntitel = \"x\"\n"));
        let expected = "error: unknown key `titel` in [checklist]\n --> launch.toml:2:1\n  |\n\
                        2 | titel = \"x\"\n  | ^^^^^\n  = help: did you mean `title`?\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn render_without_source_line() {
        let out = sample().render(None);
        assert!(!out.contains('^'));
    }

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(closest("titel", ["title", "version"]), Some("title"));
        assert_eq!(closest("urll", ["url", "method"]), Some("url"));
        assert_eq!(closest("zebra", ["title", "version"]), None);
        assert_eq!(
            closest("prod", ["staging", "production"]),
            Some("production")
        );
    }

    #[test]
    fn summary_counts_both() {
        assert_eq!(summary(&[sample()]), "1 error, 0 warnings");
    }
}
