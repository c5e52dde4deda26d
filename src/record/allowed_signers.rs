//! A parser for OpenSSH `allowed_signers` files, as `ssh-keygen -Y verify -f` reads them
//! (the ALLOWED SIGNERS section of ssh-keygen(1) in OpenSSH 9.2).
//!
//! Each line is `PRINCIPALS [OPTIONS] KEYTYPE BASE64KEY [COMMENT]`. Empty lines and lines
//! starting with `#` are skipped. PRINCIPALS is a comma-separated list of patterns (`*` and `?`
//! wildcards), optionally in double quotes. OPTIONS is a comma-separated list of
//! `cert-authority`, `namespaces="LIST"`, `valid-after="TIME"` and `valid-before="TIME"`, where
//! TIME is `YYYYMMDD[HHMM[SS]]` in local time, or UTC with a trailing `Z`.

use ssh_key::PublicKey;

/// One line of an `allowed_signers` file.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowedSigner {
    /// The 1-based line number in the file.
    pub line: usize,
    /// Principal patterns, such as `ana@example.com` or `*@example.com`.
    pub principals: Vec<String>,
    /// The line trusts certificates signed by this key instead of signatures by the key.
    pub cert_authority: bool,
    /// Namespace patterns the key may sign in; `None` allows every namespace.
    pub namespaces: Option<Vec<String>>,
    pub valid_after: Option<jiff::Timestamp>,
    pub valid_before: Option<jiff::Timestamp>,
    pub key: PublicKey,
}

/// A line of an `allowed_signers` file that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allowed_signers line {line}: {reason}")]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

/// Parses every entry of an `allowed_signers` file.
///
/// # Errors
///
/// A [`ParseError`] for the first line that is not a valid entry.
pub fn parse(text: &str) -> Result<Vec<AllowedSigner>, ParseError> {
    let mut signers = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fail = |reason: String| ParseError { line, reason };
        signers.push(parse_line(trimmed, line).map_err(fail)?);
    }
    Ok(signers)
}

fn parse_line(text: &str, line: usize) -> Result<AllowedSigner, String> {
    let (principals_field, rest) = next_field(text)?;
    let principals: Vec<String> = unquote(&principals_field)
        .split(',')
        .map(str::trim)
        .filter(|principal| !principal.is_empty())
        .map(str::to_string)
        .collect();
    if principals.is_empty() {
        return Err("no principals before the key".to_string());
    }
    let rest = rest.trim_start();
    let mut options = SignerOptions::default();
    // Key types all start with one of these prefixes, and no option does.
    let key_text = if is_key_type(rest) {
        rest
    } else {
        let (options_field, after) = next_field(rest)?;
        options = parse_options(&options_field)?;
        after.trim_start()
    };
    if key_text.is_empty() {
        return Err("missing the key type and key after the principals".to_string());
    }
    let key = PublicKey::from_openssh(key_text)
        .map_err(|err| format!("invalid public key `{}`: {err}", first_word(key_text)))?;
    Ok(AllowedSigner {
        line,
        principals,
        cert_authority: options.cert_authority,
        namespaces: options.namespaces,
        valid_after: options.valid_after,
        valid_before: options.valid_before,
        key,
    })
}

/// The options field of a line.
#[derive(Default)]
struct SignerOptions {
    cert_authority: bool,
    namespaces: Option<Vec<String>>,
    valid_after: Option<jiff::Timestamp>,
    valid_before: Option<jiff::Timestamp>,
}

fn first_word(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

fn is_key_type(text: &str) -> bool {
    ["ssh-", "ecdsa-", "sk-", "rsa-"]
        .iter()
        .any(|prefix| text.starts_with(prefix))
}

/// Splits off the first whitespace-separated field, in which double quotes may protect
/// whitespace. Returns the field with its quotes, and the rest of the line.
fn next_field(text: &str) -> Result<(String, &str), String> {
    let mut field = String::new();
    let mut quoted = false;
    for (index, ch) in text.char_indices() {
        match ch {
            '"' => {
                quoted = !quoted;
                field.push(ch);
            }
            c if c.is_whitespace() && !quoted => return Ok((field, &text[index..])),
            c => field.push(c),
        }
    }
    if quoted {
        return Err(format!("unterminated quote in `{field}`"));
    }
    Ok((field, ""))
}

/// Splits a comma-separated options field, keeping commas inside double quotes.
fn split_options(text: &str) -> Vec<String> {
    let mut options = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for ch in text.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                current.push(ch);
            }
            ',' if !quoted => options.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    options.push(current);
    options
}

fn parse_options(text: &str) -> Result<SignerOptions, String> {
    let mut signer = SignerOptions::default();
    for option in split_options(text) {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(unquote(value))),
            None => (option.as_str(), None),
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("cert-authority", None) => signer.cert_authority = true,
            ("namespaces", Some(value)) => {
                signer.namespaces = Some(value.split(',').map(|ns| ns.trim().to_string()).collect())
            }
            ("valid-after", Some(value)) => signer.valid_after = Some(parse_time(&value)?),
            ("valid-before", Some(value)) => signer.valid_before = Some(parse_time(&value)?),
            _ => {
                return Err(format!(
                    "unknown option `{option}`; valid options: cert-authority, namespaces, \
                     valid-after, valid-before"
                ));
            }
        }
    }
    Ok(signer)
}

fn unquote(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value)
        .to_string()
}

/// Parses `YYYYMMDD[HHMM[SS]][Z]`: UTC with `Z`, otherwise the system's local time.
fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    let invalid = || format!("invalid time `{text}`; write YYYYMMDD[HHMM[SS]], with Z for UTC");
    let (digits, utc) = match text.strip_suffix(['Z', 'z']) {
        Some(digits) => (digits, true),
        None => (text, false),
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| -> i16 {
        digits
            .get(range)
            .and_then(|part| part.parse().ok())
            .unwrap_or(0)
    };
    let datetime = jiff::civil::DateTime::new(
        number(0..4),
        number(4..6) as i8,
        number(6..8) as i8,
        number(8..10) as i8,
        number(10..12) as i8,
        number(12..14) as i8,
        0,
    )
    .map_err(|_| invalid())?;
    let zone = if utc {
        jiff::tz::TimeZone::UTC
    } else {
        jiff::tz::TimeZone::system()
    };
    datetime
        .to_zoned(zone)
        .map(|zoned| zoned.timestamp())
        .map_err(|_| invalid())
}

/// Matches text against an OpenSSH pattern with `*` (any run) and `?` (any one character).
pub fn matches_pattern(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Matches text against a list of patterns where a pattern starting with `!` excludes: the
/// text matches when a plain pattern matches and no negated one does.
pub fn matches_pattern_list(patterns: &[String], text: &str) -> bool {
    let mut matched = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) if matches_pattern(negated, text) => return false,
            Some(_) => {}
            None => matched |= matches_pattern(pattern, text),
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJyUBtdy2am9GBRxGh2JLyeqH+mMnFlo1fsQQSnuPFnn";

    #[test]
    fn parse_plain_line() {
        let signers = parse(&format!("ana@example.com {KEY} laptop\n")).unwrap();
        assert_eq!(signers.len(), 1);
        assert_eq!(signers[0].principals, vec!["ana@example.com"]);
        assert_eq!(signers[0].namespaces, None);
    }

    #[test]
    fn parse_options_and_quotes() {
        let text = format!(
            "# comment\n\n\"a@x.org,b@x.org\" namespaces=\"golive-launch-record,git\",\
             valid-before=\"20300101Z\" {KEY}\n"
        );
        let signers = parse(&text).unwrap();
        assert_eq!(signers[0].line, 3);
        assert_eq!(signers[0].principals, vec!["a@x.org", "b@x.org"]);
        assert_eq!(
            signers[0].namespaces,
            Some(vec!["golive-launch-record".to_string(), "git".to_string()])
        );
        assert!(signers[0].valid_before.is_some());
    }

    #[test]
    fn parse_rejects_unknown_option() {
        let err = parse(&format!("a@x.org frobnicate {KEY}\n")).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.reason.contains("unknown option"), "{}", err.reason);
    }

    #[test]
    fn patterns_match() {
        assert!(matches_pattern("*@example.com", "ana@example.com"));
        assert!(matches_pattern("a?a@x", "ana@x"));
        assert!(!matches_pattern("*@example.com", "ana@example.org"));
        let list = vec!["*@x.org".to_string(), "!eve@x.org".to_string()];
        assert!(matches_pattern_list(&list, "ana@x.org"));
        assert!(!matches_pattern_list(&list, "eve@x.org"));
    }
}
