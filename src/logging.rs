//! Logging to a file with `tracing`, never to the terminal the cockpit owns.

use std::io::{self, Write};
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Environment variable holding the log filter, such as `golive=debug`.
pub const FILTER_VAR: &str = "GOLIVE_LOG";

/// Starts logging to `path`. Returns the guard that flushes the log when dropped, or a warning
/// when the file cannot be opened: golive then runs without a log instead of failing.
pub fn init(path: &Path) -> Result<WorkerGuard, String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| format!("cannot create log folder {}: {err}", parent.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|err| format!("cannot open log file {}: {err}", path.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(EscapedLines(file));
    let filter = EnvFilter::try_from_env(FILTER_VAR).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .map_err(|err| format!("cannot start logging: {err}"))?;
    Ok(guard)
}

/// A writer of log lines with their control characters escaped, so that text from servers or
/// checklists, such as an escape sequence in an error message, cannot act on the reader's
/// terminal nor start a line of its own.
struct EscapedLines<W>(W);

impl<W: Write> Write for EscapedLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        // Each write is one formatted event, whose own line break is its last byte.
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        let mut line = String::with_capacity(body.len() + 1);
        for c in body.chars() {
            if c.is_control() && c != '\t' || crate::sanitize::is_bidi_control(c) {
                line.extend(c.escape_unicode());
            } else {
                line.push(c);
            }
        }
        line.push_str(end);
        self.0.write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_escaped_but_final_newline_kept() {
        let mut out = EscapedLines(Vec::new());
        out.write_all("error: \u{1b}[2Jbad\r\nFAKE \u{202e}line\n".as_bytes())
            .unwrap();
        let written = String::from_utf8(out.0).unwrap();
        assert_eq!(
            written,
            "error: \\u{1b}[2Jbad\\u{d}\\u{a}FAKE \\u{202e}line\n"
        );
    }
}
