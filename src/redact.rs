//! Masking of secret values before text is shown, logged or stored.
//!
//! A secret rarely reaches output as its raw text only: serde_json escapes it inside a JSON
//! string, and the `url` crate percent-encodes it in a URL, differently in the path, the query,
//! the userinfo and the fragment. [`Redactor::add`] therefore registers every form that golive's
//! output can contain (see [`secret_forms`]), and [`Redactor::redact`] masks them all.

use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

/// The text that replaces a secret value.
pub const MASK: &str = "••••••";

/// Header names whose values are always masked, whatever the checklist declares.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-amz-security-token",
];

/// A URL used only to compute how the `url` crate encodes a secret; it is never requested.
const DUMMY_URL: &str = "http://host.invalid/";

/// Replaces every known secret value, in every form it can take in output, with [`MASK`].
///
/// Every non-empty secret is masked whatever its length. A short secret therefore also masks
/// the same characters in ordinary text: that loss of text is the price of never showing it.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Number of secrets registered, for `Debug` output that never shows them.
    secret_count: usize,
    /// Every form of every registered secret, without duplicates.
    forms: Vec<String>,
    /// Matcher over `forms`, built on the first `redact` after a change. `None` means building
    /// it failed, and `redact` falls back to plain replacement.
    matcher: OnceLock<Option<AhoCorasick>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Redactor")
            .field("secrets", &self.secret_count)
            .field("forms", &self.forms.len())
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// Creates a redactor with no secrets registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value with every form it can take in output. Every non-empty value is
    /// registered, even a one-byte one, so short secrets mask ordinary text too.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut changed = false;
        for form in secret_forms(secret) {
            if !self.forms.contains(&form) {
                self.forms.push(form);
                changed = true;
            }
        }
        if changed {
            self.secret_count += 1;
            self.matcher = OnceLock::new();
        }
    }

    /// Returns the text with every form of every registered secret masked. Overlapping matches
    /// become one mask, so no byte of any match stays visible.
    pub fn redact(&self, text: &str) -> String {
        if self.forms.is_empty() || text.is_empty() {
            return text.to_string();
        }
        let matcher = self.matcher.get_or_init(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&self.forms)
                .ok()
        });
        match matcher {
            Some(matcher) => mask_ranges(text, matched_ranges(matcher, text)),
            None => self.redact_by_replacing(text),
        }
    }

    /// Masks by plain replacement, longest form first so that a form containing another is
    /// masked whole.
    fn redact_by_replacing(&self, text: &str) -> String {
        let mut forms: Vec<&String> = self.forms.iter().collect();
        forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        let mut out = text.to_string();
        for form in forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), MASK);
            }
        }
        out
    }

    /// Returns a header value fit to show: masked whole for credential headers, otherwise with
    /// registered secrets masked.
    pub fn redact_header(&self, name: &str, value: &str) -> String {
        if is_sensitive_header(name) {
            MASK.to_string()
        } else {
            self.redact(value)
        }
    }
}

/// Returns the byte ranges of every match, overlapping matches merged, in text order.
fn matched_ranges(matcher: &AhoCorasick, text: &str) -> Vec<Range<usize>> {
    let mut found: Vec<Range<usize>> = matcher
        .find_overlapping_iter(text)
        .map(|found| found.range())
        .collect();
    // Overlapping search reports matches by their end, so sort by start before merging.
    found.sort_by_key(|range| (range.start, range.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
    for range in found {
        match merged.last_mut() {
            Some(last) if range.start < last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// Replaces each range with [`MASK`]. The ranges lie on character boundaries because every
/// pattern is valid UTF-8 and UTF-8 matches cannot start or end inside a character.
fn mask_ranges(text: &str, ranges: Vec<Range<usize>>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut shown_from = 0;
    for range in ranges {
        out.push_str(&text[shown_from..range.start]);
        out.push_str(MASK);
        shown_from = range.end;
    }
    out.push_str(&text[shown_from..]);
    out
}

/// Returns every form a secret can take in golive's output, raw text first, without
/// duplicates:
///
/// - the raw text;
/// - the JSON-escaped text that serde_json writes inside quotes, and Rust's `{:?}` escaping;
/// - the encodings the `url` crate gives it in a URL path, a path segment, a query, a username,
///   a password and a fragment, which are what reqwest sends and prints in its errors;
/// - its `application/x-www-form-urlencoded` form (spaces as `+`);
/// - percent-encoding of every byte that is not an ASCII letter or digit, with upper and with
///   lower case hex digits;
/// - the standard and the URL-safe base64 encodings, with and without `=` padding, which a
///   server may echo, such as in a decoded token.
///
/// A form that would split the secret, such as a path holding `..`, is left out. Forms of the
/// empty string are never returned.
pub fn secret_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string(), json_escaped(secret)];
    let debug = format!("{secret:?}");
    forms.push(strip_quotes(&debug).to_string());
    forms.extend(url_forms(secret));
    forms.push(form_urlencoded::byte_serialize(secret.as_bytes()).collect());
    forms.push(percent_encode_all(secret, false));
    forms.push(percent_encode_all(secret, true));
    forms.extend(base64_forms(secret));

    let mut unique: Vec<String> = Vec::with_capacity(forms.len());
    for form in forms {
        if !form.is_empty() && !unique.contains(&form) {
            unique.push(form);
        }
    }
    unique
}

fn json_escaped(secret: &str) -> String {
    // serde_json fails only for maps with non-string keys, never for a string, and the
    // fallback would only drop this one form.
    let quoted = serde_json::to_string(secret).unwrap_or_default();
    strip_quotes(&quoted).to_string()
}

fn strip_quotes(quoted: &str) -> &str {
    quoted
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(quoted)
}

/// Computes the `url` crate's encodings with its own setters, so that they match byte for byte
/// what reqwest sends for a URL that contains the secret.
// NOTE: a secret written raw into a URL where its `/`, `?` or `#` splits it across URL parts
// (or `..` is normalised away) reaches output only in pieces, which no form here matches.
fn url_forms(secret: &str) -> Vec<String> {
    let Ok(base) = url::Url::parse(DUMMY_URL) else {
        return Vec::new();
    };
    let mut forms = Vec::new();

    let mut url = base.clone();
    url.set_path(&format!("/p/{secret}"));
    if let Some(path) = url.path().strip_prefix("/p/") {
        forms.push(path.to_string());
    }

    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.clear().push(secret);
    }
    if let Some(segment) = url.path().strip_prefix('/') {
        forms.push(segment.to_string());
    }

    let mut url = base.clone();
    url.set_query(Some(secret));
    forms.extend(url.query().map(str::to_string));

    let mut url = base.clone();
    if url.set_username(secret).is_ok() {
        forms.push(url.username().to_string());
    }

    let mut url = base.clone();
    if url.set_password(Some(secret)).is_ok() {
        forms.extend(url.password().map(str::to_string));
    }

    let mut url = base;
    url.set_fragment(Some(secret));
    forms.extend(url.fragment().map(str::to_string));
    forms
}

/// Returns the standard and URL-safe base64 encodings of the secret, padded and unpadded.
// NOTE: these match the secret only where it starts the encoded text or starts at a byte
// offset that is a multiple of 3 in it. At other offsets, such as the password in
// `user:password`, its bytes encode to different characters.
fn base64_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .map(|engine| engine.encode(secret))
        .collect()
}

/// Percent-encodes every byte that is not an ASCII letter or digit.
fn percent_encode_all(secret: &str, lower_case: bool) -> String {
    let mut out = String::with_capacity(secret.len() * 3);
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(char::from(byte));
        } else if lower_case {
            out.push_str(&format!("%{byte:02x}"));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Returns whether a header carries credentials by its name alone.
pub fn is_sensitive_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SENSITIVE_HEADERS.contains(&lower.as_str())
        || lower.contains("token")
        || lower.contains("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_masks_every_occurrence() {
        let mut redactor = Redactor::new();
        redactor.add("s3cr3t-token");
        let out = redactor.redact("a s3cr3t-token b s3cr3t-token");
        assert_eq!(out, format!("a {MASK} b {MASK}"));
    }

    #[test]
    fn redact_prefers_longest_secret() {
        let mut redactor = Redactor::new();
        redactor.add("abcd");
        redactor.add("abcdefgh");
        assert_eq!(redactor.redact("xabcdefghx"), format!("x{MASK}x"));
    }

    #[test]
    fn overlapping_secrets_masked_whole() {
        let mut redactor = Redactor::new();
        redactor.add("abc");
        redactor.add("cde");
        assert_eq!(redactor.redact("xabcdex"), format!("x{MASK}x"));
    }

    #[test]
    fn short_secrets_masked() {
        let mut redactor = Redactor::new();
        redactor.add("q");
        redactor.add("zw");
        assert_eq!(redactor.redact("aqb zw"), format!("a{MASK}b {MASK}"));
    }

    #[test]
    fn empty_secret_ignored() {
        let mut redactor = Redactor::new();
        redactor.add("");
        assert_eq!(redactor.redact("text"), "text");
    }

    #[test]
    fn debug_hides_secrets() {
        let mut redactor = Redactor::new();
        redactor.add("hunter2-value");
        let shown = format!("{redactor:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn forms_table() {
        let cases: &[(&str, &str)] = &[
            ("it's\"a\\secret", "it's\\\"a\\\\secret"),
            ("it's\"a\\secret", "it%27s%22a\\secret"),
            ("it's\"a\\secret", "it%27s%22a%5Csecret"),
            ("it's\"a\\secret", "it%27s%22a%5csecret"),
            ("pass w0rd\"é<x>{}", "pass%20w0rd%22%C3%A9%3Cx%3E%7B%7D"),
            ("pass w0rd\"é<x>{}", "pass%20w0rd%22%c3%a9%3cx%3e%7b%7d"),
            ("pass w0rd\"é<x>{}", "pass+w0rd%22%C3%A9%3Cx%3E%7B%7D"),
            ("pass w0rd\"é<x>{}", "pass%20w0rd%22%C3%A9%3Cx%3E{}"),
            ("a/b?c#d", "a%2Fb%3Fc%23d"),
            ("a/b?c#d", "a/b%3Fc%23d"),
            ("a/b?c#d", "a/b?c%23d"),
            ("a+b&c=d", "a%2Bb%26c%3Dd"),
            ("生 x", "%E7%94%9F%20x"),
            ("生 x", "%E7%94%9F+x"),
            ("tab\there", "tab\\there"),
        ];
        for (secret, form) in cases {
            let mut redactor = Redactor::new();
            redactor.add(secret);
            let text = format!("<{form}>");
            assert_eq!(
                redactor.redact(&text),
                format!("<{MASK}>"),
                "{secret} as {form}"
            );
        }
    }

    #[test]
    fn base64_forms_masked() {
        // `?>` encodes to `+` in the standard alphabet and `-` in the URL-safe one, and a
        // 4-byte secret needs `==` padding.
        let cases = [
            ("standard", "YT8+Yg=="),
            ("standard unpadded", "YT8+Yg"),
            ("URL-safe", "YT8-Yg=="),
            ("URL-safe unpadded", "YT8-Yg"),
        ];
        let forms = secret_forms("a?>b");
        let mut redactor = Redactor::new();
        redactor.add("a?>b");
        for (name, form) in cases {
            assert!(forms.iter().any(|found| found == form), "{name}");
            let text = format!("<{form}>");
            assert_eq!(redactor.redact(&text), format!("<{MASK}>"), "{name}");
        }
    }

    #[test]
    fn forms_match_url_crate() {
        let secret = "pass w0rd'\"é<x>{}";
        let mut url = url::Url::parse("http://user@127.0.0.1/a/").unwrap();
        url.set_password(Some(secret)).unwrap();
        url.set_path(&format!("/a/{secret}"));
        url.set_query(Some(&format!("key={secret}")));
        url.set_fragment(Some(secret));
        let mut redactor = Redactor::new();
        redactor.add(secret);
        assert_eq!(
            redactor.redact(url.as_str()),
            format!("http://user:{MASK}@127.0.0.1/a/{MASK}?key={MASK}#{MASK}")
        );
    }

    #[test]
    fn authorization_header_masked_whole() {
        let redactor = Redactor::new();
        assert_eq!(redactor.redact_header("Authorization", "Bearer abc"), MASK);
        assert_eq!(redactor.redact_header("Accept", "text/plain"), "text/plain");
    }
}
