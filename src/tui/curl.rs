//! Copying a request as a `curl` command: the command is built so that it sends the same
//! request golive sends, and every secret in it is a shell reference to the secret's source, so
//! the text itself contains no secret.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;

use crate::checklist::SecretRef;
use crate::checklist::loader::is_portable_env_name;
use crate::checks::http::client::RequestParts;
use crate::redact::Redactor;

/// Largest command copied to the clipboard, in bytes. Terminals cap OSC 52 payloads at
/// different sizes, so this is a conservative guess that common terminals accept.
// NOTE: not measured against every terminal; tmux and some terminals drop larger payloads
// without a message.
pub const COPY_MAX_BYTES: usize = 8 * 1024;

/// Reasons a request cannot be shown or copied as a `curl` command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurlError {
    /// The body is not UTF-8 text, so it cannot be written as a shell word.
    #[error("the request body is not UTF-8 text, so it cannot be written as a curl argument")]
    BinaryBody,
    /// A secret stays in the command in a form that is not its plain value, such as
    /// percent-encoded in the URL or escaped in a JSON body, so no shell reference can stand
    /// in for it.
    #[error(
        "a secret appears in the request in an encoded form, so the command is not shown; \
         write the secret as a header value to copy this request"
    )]
    SecretLeft,
    /// Part of the request contains a NUL character, which no shell argument can hold.
    #[error(
        "the request contains a NUL character, which a shell argument cannot hold, so the \
         command is not shown"
    )]
    NulCharacter,
    /// A secret's shell reference is not one of the forms the loader builds, so pasting it
    /// could run other commands.
    #[error(
        "a secret's shell reference is not a quoted variable, `printenv` or `cat` expression \
         free of control characters, so the command is not shown"
    )]
    UnsafeSecretReference,
}

/// One piece of a shell word: text written literally, or a shell expression that expands to a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Shell(String),
}

/// Builds a `curl` command line that sends the request: method, URL, headers in order, body
/// and redirect limit. Every plain occurrence of a secret value is replaced by the secret's
/// shell reference, outside the single quotes, so that the shell reads the secret when the
/// command runs. All other text is single-quoted, except control characters other than
/// newline, which are written as `"$(printf '\ooo')"` so that pasting the command into a
/// terminal cannot send escape sequences or key presses.
///
/// # Errors
///
/// Returns [`CurlError::SecretLeft`] when `redactor` still finds a secret in the command,
/// because the secret appears only in an encoded form, [`CurlError::BinaryBody`] for a body
/// that is not UTF-8, [`CurlError::NulCharacter`] for text with a NUL character and
/// [`CurlError::UnsafeSecretReference`] when a secret's shell reference fails
/// [`is_safe_reference`].
pub fn curl_command(
    parts: &RequestParts,
    secret_refs: &[SecretRef],
    redactor: &Redactor,
) -> Result<String, CurlError> {
    if secret_refs
        .iter()
        .any(|secret| !secret.value.is_empty() && !is_safe_reference(&secret.shell))
    {
        return Err(CurlError::UnsafeSecretReference);
    }
    let splitter = SecretSplitter::new(secret_refs);
    let mut words: Vec<String> = vec!["curl".into()];
    if parts.method == Method::HEAD {
        words.push("--head".into());
    } else if parts.method != Method::GET || parts.body.is_some() {
        words.push("-X".into());
        // Extension methods may contain `$`, `'`, `|` and other characters the shell reads.
        words.push(quote_literal(parts.method.as_str()));
    }
    if parts.follow_redirects > 0 {
        words.push("-L".into());
        words.push("--max-redirs".into());
        words.push(parts.follow_redirects.to_string());
    }
    words.push(splitter.word(parts.url.as_str()));
    for (name, value) in &parts.headers {
        words.push("-H".into());
        words.push(splitter.word(&format!("{name}: {value}")));
    }
    if let Some(body) = &parts.body {
        let text = std::str::from_utf8(body).map_err(|_| CurlError::BinaryBody)?;
        let has_type = parts.headers.iter().any(|(name, _)| name == CONTENT_TYPE);
        if !has_type {
            // curl sends `application/x-www-form-urlencoded` with a body unless the command sets
            // a content type, and golive sends none, so the header is removed.
            words.push("-H".into());
            words.push(quote_literal("Content-Type:"));
        }
        words.push("--data-raw".into());
        words.push(splitter.word(text));
    }
    let command = words.join(" ");
    if command.contains('\0') {
        return Err(CurlError::NulCharacter);
    }
    if redactor.redact(&command) != command {
        return Err(CurlError::SecretLeft);
    }
    Ok(command)
}

/// Returns the OSC 52 escape sequence that makes the terminal put `text` on its clipboard.
pub fn osc52(text: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{encoded}\x07")
}

/// Quotes a shell word so that the shell reads it as the literal text.
pub fn quote_literal(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|ch| {
            ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.' | '/' | ':' | ',' | '@')
        });
    if plain {
        return text.to_string();
    }
    // Inside single quotes nothing is special except the closing quote, so an embedded quote
    // ends the quoted part, adds an escaped quote and starts a new quoted part.
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Whether `shell` is one of the secret references the loader builds, with no text outside
/// single quotes that the shell could run: `"$NAME"` or `"${NAME}"` with a portable name,
/// `"$(printenv [--] WORD)"`, `"$(cat WORD)"`, `"$(cat ~)"` or `"$(cat ~/WORD)"`, where WORD is made of single-quoted parts,
/// `\'` and the characters `A-Z a-z 0-9 / . _ -`. Control characters are rejected anywhere.
pub fn is_safe_reference(shell: &str) -> bool {
    if shell.chars().any(char::is_control) {
        return false;
    }
    let Some(inner) = shell
        .strip_prefix("\"$")
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return false;
    };
    if let Some(name) = inner
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
    {
        return is_portable_env_name(name);
    }
    if let Some(command) = inner
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
    {
        if let Some(name) = command.strip_prefix("printenv ") {
            return is_shell_word(name.strip_prefix("-- ").unwrap_or(name));
        }
        if let Some(path) = command.strip_prefix("cat ") {
            // Only `~` and `~/` may stay unquoted: `~user` would read another home folder.
            return match path.strip_prefix('~') {
                Some("") => true,
                Some(after_home) => after_home.starts_with('/') && is_shell_word(after_home),
                None => is_shell_word(path),
            };
        }
        return false;
    }
    is_portable_env_name(inner)
}

/// Whether `text` is a non-empty shell word made only of single-quoted parts, escaped single
/// quotes (`\'`) and characters that no shell treats specially.
fn is_shell_word(text: &str) -> bool {
    let mut rest = text;
    while let Some(ch) = rest.chars().next() {
        if ch == '\'' {
            let Some(close) = rest[1..].find('\'') else {
                return false;
            };
            rest = &rest[close + 2..];
        } else if let Some(after) = rest.strip_prefix("\\'") {
            rest = after;
        } else if ch.is_ascii_alphanumeric() || matches!(ch, '/' | '.' | '_' | '-') {
            rest = &rest[1..];
        } else {
            return false;
        }
    }
    !text.is_empty()
}

/// Writes literal text as shell words joined into one: runs of ordinary characters in single
/// quotes, and runs of control characters other than newline as `"$(printf '\ooo')"` with
/// every UTF-8 byte in octal. NUL is kept, because no shell word can hold it, and
/// `curl_command` rejects it.
fn push_literal(word: &mut String, literal: &str) {
    let mut rest = literal;
    while !rest.is_empty() {
        let is_escaped = |ch: char| ch.is_control() && ch != '\n' && ch != '\0';
        let escaped_run = rest.find(|ch: char| !is_escaped(ch)).unwrap_or(rest.len());
        if escaped_run > 0 {
            word.push_str("\"$(printf '");
            for byte in rest[..escaped_run].bytes() {
                word.push_str(&format!("\\{byte:03o}"));
            }
            word.push_str("')\"");
            rest = &rest[escaped_run..];
            continue;
        }
        let plain_run = rest.find(is_escaped).unwrap_or(rest.len());
        word.push_str(&format!("'{}'", rest[..plain_run].replace('\'', r"'\''")));
        rest = &rest[plain_run..];
    }
}

/// Finds secret values in text, longest first, and maps each to its shell reference.
struct SecretSplitter<'a> {
    refs: Vec<&'a SecretRef>,
    matcher: Option<AhoCorasick>,
}

impl<'a> SecretSplitter<'a> {
    fn new(secret_refs: &'a [SecretRef]) -> Self {
        let refs: Vec<&SecretRef> = secret_refs
            .iter()
            .filter(|secret| !secret.value.is_empty())
            .collect();
        // Leftmost-longest keeps a secret that contains another whole. If building fails, the
        // secrets stay in the text and the redactor check in `curl_command` rejects it.
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(refs.iter().map(|secret| secret.value.as_str()))
            .ok();
        SecretSplitter { refs, matcher }
    }

    fn segments(&self, text: &str) -> Vec<Segment> {
        let Some(matcher) = self.matcher.as_ref().filter(|_| !self.refs.is_empty()) else {
            return vec![Segment::Literal(text.to_string())];
        };
        let mut segments = Vec::new();
        let mut last = 0;
        for found in matcher.find_iter(text) {
            if found.start() > last {
                segments.push(Segment::Literal(text[last..found.start()].to_string()));
            }
            let shell = self.refs[found.pattern().as_usize()].shell.clone();
            segments.push(Segment::Shell(shell));
            last = found.end();
        }
        if last < text.len() || segments.is_empty() {
            segments.push(Segment::Literal(text[last..].to_string()));
        }
        segments
    }

    /// Writes text as one shell word: literal parts single-quoted, secrets as their references.
    fn word(&self, text: &str) -> String {
        let mut word = String::new();
        for segment in self.segments(text) {
            match segment {
                Segment::Literal(literal) if literal.is_empty() => {}
                Segment::Literal(literal) => push_literal(&mut word, &literal),
                Segment::Shell(shell) => word.push_str(&shell),
            }
        }
        if word.is_empty() {
            // An empty word must stay an argument.
            word.push_str("''");
        }
        word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: Method, url: &str) -> RequestParts {
        RequestParts::new(method, url.parse().unwrap())
    }

    fn env_ref(value: &str, variable: &str) -> SecretRef {
        SecretRef {
            value: value.into(),
            shell: format!("\"${variable}\""),
        }
    }

    fn redactor_for(secrets: &[SecretRef]) -> Redactor {
        let mut redactor = Redactor::new();
        for secret in secrets {
            redactor.add(&secret.value);
        }
        redactor
    }

    #[test]
    fn plain_get_is_curl_and_url() {
        let request = parts(Method::GET, "http://127.0.0.1:8080/health");
        let command = curl_command(&request, &[], &Redactor::new()).unwrap();
        assert_eq!(command, "curl 'http://127.0.0.1:8080/health'");
    }

    #[test]
    fn secret_from_env_becomes_variable() {
        let secrets = vec![env_ref("tok-123456", "AUTHBRIDGE_ADMIN_TOKEN")];
        let mut request = parts(Method::GET, "http://127.0.0.1:8080/admin");
        request.headers.push((
            reqwest::header::AUTHORIZATION,
            "Bearer tok-123456".to_string(),
        ));
        let command = curl_command(&request, &secrets, &redactor_for(&secrets)).unwrap();
        assert_eq!(
            command,
            "curl 'http://127.0.0.1:8080/admin' -H 'authorization: Bearer '\"$AUTHBRIDGE_ADMIN_TOKEN\""
        );
        assert!(!command.contains("tok-123456"));
    }

    #[test]
    fn secret_from_file_becomes_cat() {
        let secrets = vec![SecretRef {
            value: "file-secret-99".into(),
            shell: "\"$(cat ~/.config/x/token)\"".into(),
        }];
        let mut request = parts(Method::GET, "http://127.0.0.1:8080/");
        request.headers.push((
            reqwest::header::HeaderName::from_static("x-api-key"),
            "file-secret-99".into(),
        ));
        let command = curl_command(&request, &secrets, &redactor_for(&secrets)).unwrap();
        assert_eq!(
            command,
            "curl 'http://127.0.0.1:8080/' -H 'x-api-key: '\"$(cat ~/.config/x/token)\""
        );
    }

    #[test]
    fn quotes_and_spaces_are_quoted() {
        let mut request = parts(Method::POST, "http://127.0.0.1:8080/notes");
        request.body = Some(b"it's a note".to_vec());
        let command = curl_command(&request, &[], &Redactor::new()).unwrap();
        assert_eq!(
            command,
            "curl -X POST 'http://127.0.0.1:8080/notes' -H Content-Type: --data-raw 'it'\\''s a note'"
        );
    }

    #[test]
    fn json_body_keeps_content_type() {
        let secrets = vec![env_ref("pw-abcdef", "LOGIN_PASSWORD")];
        let mut request = parts(Method::POST, "http://127.0.0.1:8080/login");
        request
            .headers
            .push((CONTENT_TYPE, "application/json".into()));
        request.body = Some(br#"{"user":"qa","password":"pw-abcdef"}"#.to_vec());
        let command = curl_command(&request, &secrets, &redactor_for(&secrets)).unwrap();
        assert_eq!(
            command,
            "curl -X POST 'http://127.0.0.1:8080/login' -H 'content-type: application/json' \
             --data-raw '{\"user\":\"qa\",\"password\":\"'\"$LOGIN_PASSWORD\"'\"}'"
        );
    }

    #[test]
    fn head_and_redirects_use_flags() {
        let mut request = parts(Method::HEAD, "http://127.0.0.1:8080/");
        request.follow_redirects = 3;
        let command = curl_command(&request, &[], &Redactor::new()).unwrap();
        assert_eq!(
            command,
            "curl --head -L --max-redirs 3 'http://127.0.0.1:8080/'"
        );
    }

    #[test]
    fn longest_secret_wins() {
        let secrets = vec![env_ref("abc", "SHORT"), env_ref("abcdef", "LONG")];
        let mut request = parts(Method::GET, "http://127.0.0.1:8080/");
        request.headers.push((
            reqwest::header::HeaderName::from_static("x-key"),
            "abcdef".into(),
        ));
        let command = curl_command(&request, &secrets, &redactor_for(&secrets)).unwrap();
        assert!(command.ends_with("-H 'x-key: '\"$LONG\""));
    }

    #[test]
    fn encoded_secret_is_rejected() {
        let secrets = vec![env_ref("p@ss word", "PASSWORD")];
        // The URL parser percent-encodes the space, so the plain value is not in the URL.
        let request = parts(Method::GET, "http://127.0.0.1:8080/?key=p@ss word");
        let result = curl_command(&request, &secrets, &redactor_for(&secrets));
        assert_eq!(result, Err(CurlError::SecretLeft));
    }

    #[test]
    fn quote_literal_cases() {
        assert_eq!(quote_literal("POST"), "POST");
        assert_eq!(quote_literal(""), "''");
        assert_eq!(quote_literal("a b"), "'a b'");
        assert_eq!(quote_literal("it's"), r"'it'\''s'");
    }

    #[test]
    fn extension_method_is_quoted() {
        let method = Method::from_bytes(b"GET'$X|&`").unwrap();
        let request = parts(method, "http://127.0.0.1:8080/");
        let command = curl_command(&request, &[], &Redactor::new()).unwrap();
        assert_eq!(command, r"curl -X 'GET'\''$X|&`' 'http://127.0.0.1:8080/'");
    }

    #[test]
    fn control_characters_use_printf() {
        let mut request = parts(Method::POST, "http://127.0.0.1:8080/");
        request.body = Some("a\x1b[201~\tb\nc\u{9b}".into());
        let command = curl_command(&request, &[], &Redactor::new()).unwrap();
        assert_eq!(
            command,
            "curl -X POST 'http://127.0.0.1:8080/' -H Content-Type: --data-raw \
             'a'\"$(printf '\\033')\"'[201~'\"$(printf '\\011')\"'b\nc'\"$(printf '\\302\\233')\""
        );
    }

    #[test]
    fn nul_in_body_is_rejected() {
        let mut request = parts(Method::POST, "http://127.0.0.1:8080/");
        request.body = Some(b"a\0b".to_vec());
        let result = curl_command(&request, &[], &Redactor::new());
        assert_eq!(result, Err(CurlError::NulCharacter));
    }

    #[test]
    fn unsafe_reference_is_rejected() {
        let secrets = vec![SecretRef {
            value: "tok-123456".into(),
            shell: "\"$T\"$(touch pwned)\"\"".into(),
        }];
        let request = parts(Method::GET, "http://127.0.0.1:8080/");
        let result = curl_command(&request, &secrets, &redactor_for(&secrets));
        assert_eq!(result, Err(CurlError::UnsafeSecretReference));
    }

    #[test]
    fn safe_reference_forms() {
        let safe = [
            "\"$TOKEN\"",
            "\"${_TOKEN_2}\"",
            "\"$(printenv 'MY-TOKEN')\"",
            "\"$(printenv -- '-n')\"",
            "\"$(printenv 'it'\\''s')\"",
            "\"$(cat ~/.config/x/token)\"",
            "\"$(cat ~/'it'\\''s $(x)')\"",
            "\"$(cat ~)\"",
            "\"$(cat '/run/a b')\"",
            "\"$(cat ./-x)\"",
        ];
        for shell in safe {
            assert!(is_safe_reference(shell), "{shell}");
        }
        let unsafe_forms = [
            "$TOKEN",
            "\"$MY-TOKEN\"",
            "\"$1X\"",
            "\"$T\"$(touch pwned)\"\"",
            "\"${T:-$(touch pwned)}\"",
            "\"$(printenv T)\"; touch pwned; \"\"",
            "\"$(printenv 'T')$(touch pwned)\"",
            "\"$(printenv 'T)\"",
            "\"$(printenv T`touch pwned`)\"",
            "\"$(cat ~root/.ssh/id)\"",
            "\"$(cat a b)\"",
            "\"$(cat 'a\u{1b}b')\"",
            "\"$(rm -rf x)\"",
            "\"$(cat )\"",
            "\"\"",
        ];
        for shell in unsafe_forms {
            assert!(!is_safe_reference(shell), "{shell}");
        }
    }

    #[test]
    fn osc52_encodes_base64() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
