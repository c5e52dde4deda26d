//! Nuclei results: JSON Lines output (`-jsonl`) and the JSON export (`-json-export`), which is
//! an array of the same objects.
//!
//! A malformed line in the middle of a JSON Lines file is a warning: it is skipped, counted
//! and named by its line number in the evidence, and the check's summary line gives the
//! count. A last line that is
//! not valid JSON and has no newline after it is a truncated file, which is an error.

use std::fmt;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};

use super::model::{Finding, ParseContext, ReportError, Severity, normalise_location};

/// Maximum length of one JSON Lines line. Results with the request and response included
/// (`-irr`) can be large, but a longer line is taken as damage and skipped as malformed.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NucleiResult {
    #[serde(rename = "template-id")]
    template_id: Option<String>,
    #[serde(default)]
    info: NucleiInfo,
    #[serde(rename = "matcher-name")]
    matcher_name: Option<String>,
    #[serde(rename = "matched-at")]
    matched_at: Option<String>,
    host: Option<String>,
    timestamp: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct NucleiInfo {
    name: Option<String>,
    severity: Option<String>,
}

/// Sends one Nuclei result on as a finding, and returns whether it was one. `position` names
/// it in warnings, such as "line 7" or "element 3".
pub(crate) fn accept(ctx: &mut ParseContext<'_>, result: NucleiResult, position: &str) -> bool {
    let Some(template_id) = result.template_id else {
        ctx.meta.warn(format!(
            "{position}: no `template-id`; skipped as not a Nuclei result"
        ));
        return false;
    };
    let severity = match result.info.severity.as_deref().map(str::to_ascii_lowercase) {
        Some(name) => match name.as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            "info" | "unknown" => Severity::Info,
            other => {
                // An unreadable severity must not hide a finding, so it counts as high.
                ctx.meta.warn(format!(
                    "{position}: invalid severity `{other}` of {template_id}; counted as high"
                ));
                Severity::High
            }
        },
        None => {
            ctx.meta.warn(format!(
                "{position}: {template_id} has no `info.severity`; counted as high"
            ));
            Severity::High
        }
    };
    if let Some(host) = &result.host {
        ctx.meta.observe_host(host);
    }
    if let Some(time) = result
        .timestamp
        .as_deref()
        .and_then(super::model::parse_timestamp)
    {
        ctx.meta.observe_time(time);
    }
    let rule_id = match result.matcher_name.filter(|name| !name.is_empty()) {
        Some(matcher) => format!("{template_id}:{matcher}"),
        None => template_id.clone(),
    };
    let location = result
        .matched_at
        .or(result.host)
        .map(|raw| normalise_location(&raw))
        .unwrap_or_default();
    ctx.emit(Finding {
        rule_id,
        title: result.info.name.unwrap_or(template_id),
        severity,
        location,
    });
    true
}

/// One line of a JSON Lines file, without its line break.
struct Line {
    /// Offset of the line's first byte in the file.
    start: u64,
    /// Whether a newline ended the line, which is false only for the last line.
    terminated: bool,
    /// Whether the line was longer than [`MAX_LINE_BYTES`] and was cut.
    too_long: bool,
}

/// Reads one line into `buf`, keeping at most [`MAX_LINE_BYTES`] bytes of it. Returns `None`
/// at the end of the input.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    offset: &mut u64,
) -> std::io::Result<Option<Line>> {
    buf.clear();
    let start = *offset;
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(any.then_some(Line {
                start,
                terminated: false,
                too_long,
            }));
        }
        any = true;
        let (chunk, consumed, terminated) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (&available[..end], end + 1, true),
            None => (available, available.len(), false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(buf.len());
        if chunk.len() > room {
            too_long = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(consumed);
        *offset += consumed as u64;
        if terminated {
            return Ok(Some(Line {
                start,
                terminated: true,
                too_long,
            }));
        }
    }
}

/// Reads a JSON Lines file line by line.
pub(crate) fn parse_lines(
    path: &Path,
    reader: &mut impl BufRead,
    ctx: &mut ParseContext<'_>,
) -> Result<(), ReportError> {
    let mut buf = Vec::new();
    let mut offset = 0u64;
    let mut number = 0u64;
    let mut non_empty = 0u64;
    let mut accepted = 0u64;
    loop {
        let line = read_line(reader, &mut buf, &mut offset)
            .map_err(|err| super::model::io_error(path, err, &ctx.cancel))?;
        let Some(line) = line else {
            break;
        };
        number += 1;
        let text = buf.trim_ascii();
        if text.is_empty() {
            continue;
        }
        non_empty += 1;
        if line.too_long {
            malformed(ctx, number, format!("longer than {MAX_LINE_BYTES} bytes"));
            continue;
        }
        match serde_json::from_slice::<NucleiResult>(text) {
            Ok(result) => {
                if accept(ctx, result, &format!("line {number}")) {
                    accepted += 1;
                }
            }
            Err(err) if !line.terminated => {
                return Err(ReportError::TruncatedLine {
                    path: path.to_path_buf(),
                    line: number,
                    byte: line.start,
                    message: line_error(&err),
                });
            }
            Err(err) => malformed(ctx, number, line_error(&err)),
        }
    }
    // Skipping bad lines is meant for damage inside a real report, so a file without a single
    // valid result is not a Nuclei report.
    if non_empty > 0 && accepted == 0 {
        return Err(ReportError::Unrecognised {
            path: path.to_path_buf(),
            reason: format!("none of its {non_empty} non-empty lines is a Nuclei result object"),
        });
    }
    Ok(())
}

/// Returns the error's message with its column in the line, because serde_json's line number
/// is always 1 for a single line.
fn line_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&suffix) {
        Some(message) => format!("{message} at column {}", err.column()),
        None => text,
    }
}

fn malformed(ctx: &mut ParseContext<'_>, line: u64, reason: String) {
    ctx.meta.malformed_total += 1;
    if ctx.meta.malformed_lines.len() < 50 {
        ctx.meta.malformed_lines.push(line);
    }
    ctx.meta.warn(format!(
        "line {line} is not a valid JSON object and was skipped: {reason}"
    ));
}

/// Reads the array of a Nuclei JSON export, one element at a time.
pub(crate) struct ResultsSeed<'a, 'b> {
    pub ctx: &'a mut ParseContext<'b>,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Nuclei results")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0u64;
        while let Some(result) = seq.next_element::<NucleiResult>()? {
            index += 1;
            accept(self.ctx, result, &format!("element {index}"));
            if self.ctx.cancelled() {
                return Err(de::Error::custom(super::model::CANCELLED_MESSAGE));
            }
        }
        Ok(())
    }
}
