//! Detecting a report's format from its content and streaming it through the format's parser.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::model::{
    CANCELLED_MESSAGE, Finding, Format, HashingReader, ParseContext, ReportError, ReportMeta,
    io_error, parse_timestamp,
};
use super::open::open_regular_file;
use super::zap::Scalar;
use super::{nuclei, sarif, zap};

/// Bytes read from the start of a file to tell JSON Lines from one JSON document.
const SNIFF_BYTES: usize = 1024 * 1024;
/// Buffer size of the streaming reader.
const READ_BUFFER: usize = 64 * 1024;

/// How to read a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// The format to read, or `None` to detect it from the content.
    pub format: Option<Format>,
    /// Whether ZAP riskcode 3 counts as critical instead of high.
    pub zap_high_as_critical: bool,
}

/// Streams the report at `path`, calling `on_finding` for each finding, and returns what it
/// learnt besides the findings, including the file's SHA-256. Memory stays bounded whatever
/// the file's size, apart from the cases marked in the format parsers.
pub fn read_report(
    path: &Path,
    options: ReadOptions,
    cancel: Arc<AtomicBool>,
    on_finding: &mut dyn FnMut(Finding),
) -> Result<ReportMeta, ReportError> {
    let io = |err| io_error(path, err, &cancel);
    let mut file = open_regular_file(path, &cancel)?;
    let format = match options.format {
        Some(format) => Some(format),
        None => sniff(path, &mut file)?,
    };
    file.seek(SeekFrom::Start(0)).map_err(io)?;

    let mut hashing = HashingReader::new(file, cancel.clone());
    let mut ctx = ParseContext {
        on_finding,
        meta: ReportMeta::default(),
        zap_high_as_critical: options.zap_high_as_critical,
        cancel: cancel.clone(),
    };
    if format == Some(Format::NucleiJsonl) {
        let mut reader = BufReader::with_capacity(READ_BUFFER, &mut hashing);
        nuclei::parse_lines(path, &mut reader, &mut ctx)?;
        ctx.meta.format = Some(Format::NucleiJsonl);
    } else {
        read_document(path, &mut hashing, &mut ctx)?;
    }
    let mut meta = ctx.meta;
    let (sha256, bytes) = hashing.finish().map_err(io)?;
    meta.sha256 = sha256;
    meta.bytes = bytes;
    if bytes == 0 {
        return Err(ReportError::Empty {
            path: path.to_path_buf(),
        });
    }
    if let Some(expected) = options.format
        && meta.format != Some(expected)
    {
        return Err(ReportError::FormatMismatch {
            path: path.to_path_buf(),
            found: meta.format.map_or("not a known report", Format::describe),
            expected: expected.as_str(),
        });
    }
    Ok(meta)
}

/// Detects the format from the start of the file. Returns `Some(NucleiJsonl)` when one of its
/// first lines is a complete Nuclei result object and `None` for one JSON document. Returns an
/// error for an empty file or one that is not JSON at all.
fn sniff(path: &Path, file: &mut File) -> Result<Option<Format>, ReportError> {
    let mut prefix = Vec::with_capacity(8 * 1024);
    file.by_ref()
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)
        .map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let whole_file = prefix.len() < SNIFF_BYTES;
    let Some(first) = prefix.iter().copied().find(|b| !b.is_ascii_whitespace()) else {
        if whole_file {
            return Err(ReportError::Empty {
                path: path.to_path_buf(),
            });
        }
        return Err(ReportError::Unrecognised {
            path: path.to_path_buf(),
            reason: format!("its first {SNIFF_BYTES} bytes are whitespace"),
        });
    };
    match first {
        b'[' => Ok(None),
        b'{' => Ok(looks_like_json_lines(&prefix, whole_file).then_some(Format::NucleiJsonl)),
        other => Err(ReportError::Unrecognised {
            path: path.to_path_buf(),
            reason: format!(
                "it starts with `{}`, not with a JSON object or array",
                char::from(other).escape_default()
            ),
        }),
    }
}

/// Returns whether one of the first five non-empty lines is a whole JSON object with a `template-id`.
fn looks_like_json_lines(prefix: &[u8], whole_file: bool) -> bool {
    let mut lines: Vec<&[u8]> = prefix.split(|&b| b == b'\n').collect();
    // The last piece may be cut by the prefix limit, unless the prefix is the whole file.
    if !whole_file {
        lines.pop();
    }
    lines
        .into_iter()
        .map(<[u8]>::trim_ascii)
        .filter(|line| !line.is_empty())
        .take(5)
        .any(|line| {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line)
                .is_ok_and(|object| object.contains_key("template-id"))
        })
}

fn read_document(
    path: &Path,
    hashing: &mut HashingReader<File>,
    ctx: &mut ParseContext<'_>,
) -> Result<(), ReportError> {
    let result = {
        let reader = BufReader::with_capacity(READ_BUFFER, &mut *hashing);
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        DocumentSeed { ctx: &mut *ctx }
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
    };
    if let Err(err) = result {
        return Err(json_error(path, err, hashing.bytes_read(), ctx));
    }
    if ctx.meta.format.is_none() {
        return Err(ReportError::Unrecognised {
            path: path.to_path_buf(),
            reason: "a JSON object without a `site` array (ZAP) or a `runs` array (SARIF)"
                .to_string(),
        });
    }
    Ok(())
}

fn json_error(
    path: &Path,
    err: serde_json::Error,
    bytes: u64,
    ctx: &ParseContext<'_>,
) -> ReportError {
    let path = path.to_path_buf();
    let (line, column) = (err.line(), err.column());
    if ctx.cancelled() {
        return ReportError::Cancelled { path };
    }
    match err.classify() {
        serde_json::error::Category::Io => ReportError::Io {
            path,
            source: std::io::Error::other(err.to_string()),
        },
        // The reader reached the end of the file, so the byte count is the file size.
        serde_json::error::Category::Eof => ReportError::Truncated {
            path,
            byte: bytes,
            line,
            column,
        },
        serde_json::error::Category::Syntax => ReportError::InvalidJson {
            path,
            line,
            column,
            message: message_of(&err),
        },
        serde_json::error::Category::Data => match ctx.meta.format {
            _ if message_of(&err) == CANCELLED_MESSAGE => ReportError::Cancelled { path },
            Some(format) => ReportError::Invalid {
                path,
                format: format.describe(),
                line,
                column,
                message: message_of(&err),
            },
            None => ReportError::Unrecognised {
                path,
                reason: message_of(&err),
            },
        },
    }
}

/// Returns the error's message without serde_json's " at line L column C" suffix, which the report
/// errors state themselves.
fn message_of(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

/// Reads a whole JSON document: a ZAP or SARIF object, or a Nuclei export array.
struct DocumentSeed<'a, 'b> {
    ctx: &'a mut ParseContext<'b>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl DocumentSeed<'_, '_> {
    fn claim<E: de::Error>(&mut self, format: Format) -> Result<(), E> {
        match self.ctx.meta.format {
            Some(seen) if seen != format => Err(E::custom(format!(
                "the object has both a `site` array (ZAP) and a `runs` array (SARIF); found {} \
                 after {}",
                format.describe(),
                seen.describe()
            ))),
            _ => {
                self.ctx.meta.format = Some(format);
                Ok(())
            }
        }
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ZAP or SARIF object or a Nuclei array")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<(), A::Error> {
        self.claim(Format::NucleiJson)?;
        nuclei::ResultsSeed { ctx: self.ctx }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut created = None;
        let mut generated = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "site" => {
                    self.claim(Format::Zap)?;
                    map.next_value_seed(zap::SitesSeed {
                        ctx: &mut *self.ctx,
                    })?;
                }
                "runs" => {
                    self.claim(Format::Sarif)?;
                    map.next_value_seed(sarif::RunsSeed {
                        ctx: &mut *self.ctx,
                    })?;
                }
                "created" => created = parse_timestamp(&map.next_value::<Scalar>()?.0),
                "@generated" => generated = zap::parse_generated(&map.next_value::<Scalar>()?.0),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // ZAP's `created` (ISO 8601, UTC) is exact, while `@generated` has no time zone.
        if self.ctx.meta.format == Some(Format::Zap)
            && let Some(time) = created.or(generated)
        {
            self.ctx.meta.observe_time(time);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_time_parses() {
        let time = zap::parse_generated("Fri, 4 Feb 2022 13:04:51");
        assert_eq!(
            time.map(|t| t.to_string()),
            Some("2022-02-04T13:04:51Z".to_string())
        );
    }

    #[test]
    fn json_lines_detected_from_content() {
        let text = b"{\"template-id\":\"a\",\"info\":{\"severity\":\"low\"}}\n{\"template-id\"";
        assert!(looks_like_json_lines(text, false));
    }

    #[test]
    fn pretty_object_is_not_json_lines() {
        let text = b"{\n  \"site\": []\n}\n";
        assert!(!looks_like_json_lines(text, true));
    }
}
