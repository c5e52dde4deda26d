//! Secrets from a checklist's `[secrets]` never reach evidence, reports, diagnostics or the log,
//! in any form: raw, JSON-escaped, percent-encoded or form-encoded.
//!
//! An echo server on 127.0.0.1 reflects the request line, headers and body, so every form in
//! which a secret was sent comes back in the response body.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use golive::checklist::diagnostic::DiagnosticSeverity;
use golive::checklist::loader::{LoadDefaults, load_str_with_env};
use golive::checks::CheckSpec;
use golive::checks::{CheckResult, Outcome};
use golive::config::EngineSettings;
use golive::engine::run_once;
use golive::redact::{MASK, Redactor, secret_forms};
use golive::report::{Format, render};
use golive::session::Session;
use golive::tui::curl::curl_command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Upper bound for a whole run, so that a hang fails the test instead of blocking it.
const RUN_WAIT: Duration = Duration::from_secs(30);

/// Secret in the URL path and fragment: no `/`, `?`, `#` or `\`, which would split the URL.
const PATH_SECRET: &str = "pa th'\"<>{}%é生";
/// Secret in the URL query: no `#`, which would start the fragment.
const QUERY_SECRET: &str = "q u+e&r=y/?'\"\\<>{}%é生";
/// Secret in the URL password: none of `/ ? # \ @`, which end the userinfo.
const USER_SECRET: &str = "pw 'é\"<>{}%+&=生";
/// Secret in a header: visible ASCII only, as header values require.
const HEADER_SECRET: &str = "h#d/r?\\\"'<>{}&=+% x";
/// Secret in a `json` body.
const JSON_SECRET: &str = "j \"s\\o'n#生<>{}&=?/+%é";
/// Secret in a text `body`.
const BODY_SECRET: &str = "b #生é'\"\\<>{}&=?/+%";
/// A secret shorter than 4 bytes.
const SHORT_SECRET: &str = "Q~";

/// Username of the URL userinfo, which is not a secret.
const USERNAME: &str = "launch";

const SECRETS: &[(&str, &str)] = &[
    ("PATH_SECRET", PATH_SECRET),
    ("QUERY_SECRET", QUERY_SECRET),
    ("USER_SECRET", USER_SECRET),
    ("HEADER_SECRET", HEADER_SECRET),
    ("JSON_SECRET", JSON_SECRET),
    ("BODY_SECRET", BODY_SECRET),
    ("SHORT_SECRET", SHORT_SECRET),
];

/// Looks up the secrets' environment variables, and nothing else.
fn secret_env(name: &str) -> Option<String> {
    SECRETS
        .iter()
        .find(|(variable, _)| *variable == name)
        .map(|(_, value)| value.to_string())
}

/// An HTTP server on 127.0.0.1 that sends every request back as its response body.
struct EchoServer {
    port: u16,
    /// Every request received, as raw text.
    received: Arc<Mutex<Vec<String>>>,
}

impl EchoServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
        let port = listener.local_addr().expect("echo address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    if let Ok(request) = echo(stream).await {
                        log.lock().expect("echo log").push(request);
                    }
                });
            }
        });
        EchoServer { port, received }
    }

    fn received(&self) -> String {
        self.received.lock().expect("echo log").join("\n")
    }
}

/// Reads one request and sends it back as the body of a `200 OK`.
async fn echo(mut stream: TcpStream) -> io::Result<String> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        request.extend_from_slice(&buffer[..read]);
        if let Some(end) = request.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_string();
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        request.extend_from_slice(&buffer[..read]);
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        request.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.write_all(&request).await?;
    stream.shutdown().await?;
    Ok(String::from_utf8_lossy(&request).to_string())
}

/// Returns a port on 127.0.0.1 that nothing was listening on when checked.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

fn checklist_text(echo_port: u16, closed_port: u16) -> String {
    let mut text = String::from("[checklist]\ntitle = \"Secret forms\"\n\n");
    for (variable, _) in SECRETS {
        let name = variable.to_ascii_lowercase();
        text.push_str(&format!("[secrets.{name}]\nenv = \"{variable}\"\n"));
    }
    let echo = format!(
        "http://{USERNAME}:${{secret.user_secret}}@127.0.0.1:{echo_port}/echo/\
         ${{secret.path_secret}}?key=${{secret.query_secret}}&s=${{secret.short_secret}}\
         #${{secret.path_secret}}"
    );
    text.push_str(&format!(
        r#"
[[phases]]
id = "verify"
title = "Verify"

[[phases.items]]
id = "echo-json"
title = "Echo of a JSON request"
[phases.items.check]
kind = "http"
method = "POST"
url = "{echo}"
headers = {{ X-Note = "${{secret.header_secret}}", X-Short = "${{secret.short_secret}}" }}
json = {{ token = "${{secret.json_secret}}", short = "${{secret.short_secret}}" }}
expect.body_contains = ["${{secret.header_secret}}", "${{secret.user_secret}}"]
expect.body_not_contains = ["${{secret.short_secret}}"]
expect.json = {{ "$.token" = "${{secret.json_secret}}" }}
expect.headers_equal = {{ X-Echo = "${{secret.header_secret}}" }}

[[phases.items]]
id = "echo-body"
title = "Echo of a text request"
[phases.items.check]
kind = "http"
method = "PUT"
url = "http://127.0.0.1:{echo_port}/body?key=${{secret.query_secret}}"
body = "${{secret.body_secret}} and ${{secret.short_secret}}"
expect.body_contains = ["${{secret.body_secret}}", "${{secret.path_secret}}"]

[[phases.items]]
id = "refused"
title = "Closed port"
[phases.items.check]
kind = "http"
url = "http://127.0.0.1:{closed_port}/x?key=${{secret.query_secret}}&s=${{secret.short_secret}}"
"#
    ));
    text
}

/// Computes the forms to look for independently of the redactor: raw, JSON-escaped, the `url`
/// crate's encodings, form encoding, and full percent-encoding in both cases.
fn forms_of(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string()];
    let json = serde_json::to_string(secret).expect("string serialises");
    forms.push(json[1..json.len() - 1].to_string());

    let base = url::Url::parse("http://127.0.0.1/").expect("base URL");
    let mut path = base.clone();
    path.set_path(&format!("/echo/{secret}"));
    forms.push(path.path()["/echo/".len()..].to_string());
    let mut query = base.clone();
    query.set_query(Some(secret));
    forms.push(query.query().expect("query set").to_string());
    let mut userinfo = base.clone();
    userinfo.set_username(secret).expect("username set");
    forms.push(userinfo.username().to_string());
    userinfo.set_password(Some(secret)).expect("password set");
    forms.push(userinfo.password().expect("password set").to_string());
    let mut fragment = base;
    fragment.set_fragment(Some(secret));
    forms.push(fragment.fragment().expect("fragment set").to_string());

    forms.push(form_urlencoded::byte_serialize(secret.as_bytes()).collect());
    forms.push(percent_encode_all(secret, false));
    forms.push(percent_encode_all(secret, true));
    forms.sort();
    forms.dedup();
    forms
}

/// Percent-encodes every byte that is not an ASCII letter or digit, in upper or lower case hex.
fn percent_encode_all(secret: &str, lower_case: bool) -> String {
    let mut out = String::new();
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

/// Every form of every secret, plus the Basic credentials built from the URL userinfo.
fn all_forms() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (name, secret) in SECRETS {
        for form in forms_of(secret) {
            all.push((name.to_string(), form));
        }
    }
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{USER_SECRET}"));
    all.push(("basic credentials".into(), credentials));
    all
}

/// Fails when any form of any secret is in `text`.
fn assert_no_secret(place: &str, text: &str) {
    for (name, form) in all_forms() {
        assert!(
            !text.contains(&form),
            "{place} shows {name} as {form:?}:\n{text}"
        );
    }
}

/// Collects log output in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn engine_settings() -> EngineSettings {
    EngineSettings {
        concurrency: 2,
        timeout: Duration::from_secs(5),
        body_limit: 64 * 1024,
    }
}

#[tokio::test]
async fn secrets_masked_everywhere() {
    let log = LogBuffer::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime has one thread, so the engine's tasks log through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = EchoServer::start().await;
    let text = checklist_text(server.port, closed_port());
    let loaded = load_str_with_env(
        Path::new("secrets.toml"),
        &text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &secret_env,
    )
    .expect("checklist loads");
    for warning in &loaded.warnings {
        assert_no_secret("a load warning", &format!("{warning:?}"));
    }
    let checklist = Arc::new(loaded.checklist);

    let results = tokio::time::timeout(
        RUN_WAIT,
        run_once(Arc::clone(&checklist), engine_settings(), BTreeSet::new()),
    )
    .await
    .expect("run ends in time");
    assert_eq!(results.len(), 3);

    // Without these the test would pass vacuously: every secret reached the server.
    let received = server.received();
    assert!(received.contains(HEADER_SECRET), "{received}");
    assert!(received.contains(BODY_SECRET), "{received}");
    let sent_json = serde_json::to_string(JSON_SECRET).expect("string serialises");
    assert!(received.contains(&sent_json), "{received}");
    assert!(received.contains("authorization: Basic "), "{received}");
    let mut sent_url = url::Url::parse("http://127.0.0.1/").expect("base URL");
    sent_url.set_query(Some(QUERY_SECRET));
    let sent_query = sent_url.query().expect("query set");
    assert!(received.contains(sent_query), "{received}");
    sent_url.set_path(&format!("/echo/{PATH_SECRET}"));
    assert!(received.contains(sent_url.path()), "{received}");

    let mut session = Session::new(Arc::clone(&checklist));
    for result in &results {
        assert_no_secret(
            "evidence",
            &serde_json::to_string(result).expect("serialises"),
        );
        assert_no_secret("a result's Debug output", &format!("{result:?}"));
        session.apply_result(result.clone());
    }
    let echo_json = result_of(&results, "echo-json");
    assert_eq!(echo_json.outcome, Outcome::Fail, "{}", echo_json.summary);
    let excerpt = echo_json.evidence.body_excerpt.clone().unwrap_or_default();
    assert!(excerpt.contains(MASK), "{excerpt}");
    let refused = result_of(&results, "refused");
    assert_eq!(refused.outcome, Outcome::Error, "{}", refused.summary);

    for format in [Format::Text, Format::Json, Format::Junit] {
        let report = render(format, &checklist, &session, &results);
        assert_no_secret(&format!("the {format:?} report"), &report);
        assert!(report.contains(MASK), "{format:?}: {report}");
    }
    for (_, value) in checklist
        .items()
        .filter_map(|item| item.check())
        .flat_map(|check| check.spec.describe(&checklist.redactor))
    {
        assert_no_secret("a described setting", &value);
    }

    let log_text = String::from_utf8_lossy(&log.0.lock().expect("log buffer")).to_string();
    assert!(log_text.contains("http response read"), "{log_text}");
    assert_no_secret("the log", &log_text);
}

fn result_of<'a>(results: &'a [CheckResult], id: &str) -> &'a CheckResult {
    results
        .iter()
        .find(|result| result.item_id == id)
        .expect("the item ran")
}

#[tokio::test]
async fn refused_error_masks_query_secret() {
    let port = closed_port();
    let text = checklist_text(port, port);
    let loaded = load_str_with_env(
        Path::new("secrets.toml"),
        &text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &secret_env,
    )
    .expect("checklist loads");
    let checklist = Arc::new(loaded.checklist);
    let results = tokio::time::timeout(
        RUN_WAIT,
        run_once(Arc::clone(&checklist), engine_settings(), BTreeSet::new()),
    )
    .await
    .expect("run ends in time");
    let refused = result_of(&results, "refused");
    assert_eq!(refused.outcome, Outcome::Error);
    assert_eq!(
        refused.summary,
        format!("connection refused by 127.0.0.1:{port}")
    );
    let detail = refused
        .evidence
        .notes
        .iter()
        .find(|note| note.starts_with("error detail:"))
        .expect("the error detail is kept");
    assert!(detail.contains("?key="), "{detail}");
    assert!(detail.contains(MASK), "{detail}");
    assert_no_secret("the error detail", detail);
}

#[test]
fn load_error_masks_secret() {
    let text = "[checklist]\ntitle = \"Bad status\"\n[secrets.path_secret]\nenv = \"PATH_SECRET\"\n\
        [[phases]]\nid = \"p\"\ntitle = \"P\"\n[[phases.items]]\nid = \"i\"\ntitle = \"I\"\n\
        [phases.items.check]\nkind = \"http\"\nurl = \"http://127.0.0.1/\"\n\
        expect.status = \"${secret.path_secret}\"\n";
    let failure = load_str_with_env(
        Path::new("secrets.toml"),
        text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &secret_env,
    )
    .expect_err("an invalid status pattern fails the load");
    assert!(!failure.diagnostics.is_empty());
    for diagnostic in &failure.diagnostics {
        assert_no_secret("a diagnostic", &format!("{diagnostic:?}"));
    }
    assert_no_secret("the rendered diagnostics", &failure.to_string());
}

#[test]
fn redactor_masks_independent_forms() {
    for (name, secret) in SECRETS {
        let mut redactor = Redactor::new();
        redactor.add(secret);
        for form in forms_of(secret) {
            let text = format!("[{form}]");
            assert_eq!(
                redactor.redact(&text),
                format!("[{MASK}]"),
                "{name} as {form:?}"
            );
        }
    }
}

#[test]
fn secret_forms_start_with_raw_text() {
    for (name, secret) in SECRETS {
        let forms = secret_forms(secret);
        assert_eq!(forms.first().map(String::as_str), Some(*secret), "{name}");
    }
}

/// A secret whose base64 encodings differ between the standard and URL-safe alphabets.
const BASE64_SECRET: &str = "b64?>secret~~";

/// Starts an HTTP server on 127.0.0.1 that responds to every request with the base64 encodings
/// of its `x-note` header value, in both alphabets, padded and unpadded.
async fn start_base64_echo() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let note = head
                    .lines()
                    .filter_map(|line| line.split_once(':'))
                    .find(|(name, _)| name.eq_ignore_ascii_case("x-note"))
                    .map(|(_, value)| value.trim().to_string())
                    .unwrap_or_default();
                let body = base64_encodings(&note).join("\n");
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    port
}

fn base64_encodings(text: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .map(|engine| engine.encode(text))
        .collect()
}

#[tokio::test]
async fn base64_echo_is_masked() {
    let encodings = base64_encodings(BASE64_SECRET);
    // Without these the test would not cover both alphabets and both paddings.
    assert!(encodings[0].contains('+'), "{}", encodings[0]);
    assert!(encodings[2].contains('-'), "{}", encodings[2]);
    assert!(encodings[0].ends_with('='), "{}", encodings[0]);

    let port = start_base64_echo().await;
    let text = format!(
        "[checklist]\ntitle = \"Base64\"\n[secrets.note]\nenv = \"NOTE_SECRET\"\n\
         [[phases]]\nid = \"p\"\ntitle = \"P\"\n[[phases.items]]\nid = \"echo\"\ntitle = \"Echo\"\n\
         [phases.items.check]\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/\"\n\
         headers = {{ X-Note = \"${{secret.note}}\" }}\nexpect.body_contains = [\"absent\"]\n"
    );
    let env = |name: &str| (name == "NOTE_SECRET").then(|| BASE64_SECRET.to_string());
    let loaded = load_str_with_env(
        Path::new("base64.toml"),
        &text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &env,
    )
    .expect("checklist loads");
    let checklist = Arc::new(loaded.checklist);
    let results = tokio::time::timeout(
        RUN_WAIT,
        run_once(Arc::clone(&checklist), engine_settings(), BTreeSet::new()),
    )
    .await
    .expect("run ends in time");
    let echo = result_of(&results, "echo");
    assert_eq!(echo.outcome, Outcome::Fail, "{}", echo.summary);
    let excerpt = echo.evidence.body_excerpt.clone().unwrap_or_default();
    assert!(excerpt.contains(MASK), "{excerpt}");
    let evidence = serde_json::to_string(echo).expect("serialises");
    for encoding in &encodings {
        assert!(
            !excerpt.contains(encoding.as_str()),
            "{encoding} in {excerpt}"
        );
        assert!(
            !evidence.contains(encoding.as_str()),
            "{encoding} in {evidence}"
        );
    }
}

#[test]
fn non_portable_env_name_warns() {
    let text = "[checklist]\ntitle = \"Names\"\n[secrets.token]\nenv = \"MY-TOKEN\"\n\
        [secrets.plain]\nenv = \"PLAIN_TOKEN\"\n";
    let loaded = load_str_with_env(
        Path::new("names.toml"),
        text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &|_: &str| Some("value-1".to_string()),
    )
    .expect("checklist loads");
    let warnings: Vec<_> = loaded
        .warnings
        .iter()
        .filter(|warning| warning.message.contains("portable"))
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", loaded.warnings);
    let warning = warnings[0];
    assert_eq!(warning.severity, DiagnosticSeverity::Warning);
    assert_eq!(warning.line, 4);
    assert_eq!(warning.column, 7);
    assert!(warning.message.contains("MY-TOKEN"), "{}", warning.message);
}

/// Text that breaks a shell command unless it is quoted: quotes, substitutions, separators,
/// newlines, backslashes, globs, escape sequences and non-ASCII text.
const NASTY: &[&str] = &[
    "it's",
    "\"dq\"",
    "$(touch pwned)",
    "`touch pwned`",
    "; touch pwned",
    "| touch pwned",
    "& touch pwned &",
    "a\nb; touch pwned\n",
    "back\\slash\\ \\",
    "$HOME $$ $1",
    "'; touch pwned; '",
    "\"$(touch pwned)\"",
    "* ? [a] ~",
    "生 é ✓ 🚀",
    "\x1b[201~'\ntouch pwned\n",
    "tab\there\r",
];

/// Writes `text` as a TOML basic string that the loader reads back as `text`: JSON escapes
/// are valid TOML escapes, and `$${` keeps `${` from starting a reference.
fn toml_string(text: &str) -> String {
    serde_json::to_string(&text.replace("${", "$${")).expect("string serialises")
}

/// Whether `text` can be an HTTP header value: no control characters except tab.
fn is_header_value(text: &str) -> bool {
    text.chars().all(|ch| ch == '\t' || !ch.is_control())
}

/// Loads a checklist whose one request carries `nasty` in its URL, header and body, with
/// secrets from environment variables named `env_names` and from the file `file`. Returns the
/// request as a `curl` command and the argument vector the command must produce.
fn curl_case(
    nasty: &str,
    env_names: &[&str],
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<String>) {
    let mut text = String::from("[checklist]\ntitle = \"Curl\"\n");
    let mut references = Vec::new();
    for (index, name) in env_names.iter().enumerate() {
        text.push_str(&format!(
            "[secrets.env{index}]\nenv = {}\n",
            toml_string(name)
        ));
        references.push(format!("${{secret.env{index}}}"));
    }
    let path = file.to_str().expect("UTF-8 path");
    text.push_str(&format!("[secrets.file]\nfile = {}\n", toml_string(path)));
    references.push("${secret.file}".to_string());
    let all_secrets = references.join(" ");
    let header = if is_header_value(nasty) {
        format!(", X-Nasty = {}", toml_string(nasty))
    } else {
        String::new()
    };
    // The secret references go after the escaped text, so that they stay references.
    let quoted_body = toml_string(nasty);
    let body = format!("{} {all_secrets}\"", &quoted_body[..quoted_body.len() - 1]);
    let url = toml_string(&format!("http://127.0.0.1:9/p/{nasty}?q={nasty}"));
    text.push_str(&format!(
        "[[phases]]\nid = \"p\"\ntitle = \"P\"\n[[phases.items]]\nid = \"i\"\ntitle = \"I\"\n\
         [phases.items.check]\nkind = \"http\"\nmethod = \"POST\"\nurl = {url}\n\
         headers = {{ X-Secret = \"{all_secrets}\"{header} }}\nbody = {body}\n"
    ));
    let loaded = load_str_with_env(
        Path::new("curl.toml"),
        &text,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        env,
    )
    .unwrap_or_else(|failure| panic!("{failure}\n{text}"));
    let checklist = loaded.checklist;
    assert_eq!(checklist.secret_refs.len(), env_names.len() + 1, "{text}");
    let check = checklist
        .items()
        .find_map(|item| item.check())
        .expect("the item has a check");
    let CheckSpec::Http(http) = &check.spec else {
        panic!("an http check");
    };
    let parts = http.request_parts();
    let command = curl_command(&parts, &checklist.secret_refs, &checklist.redactor)
        .unwrap_or_else(|err| panic!("{err}: {nasty:?}"));

    let mut expected = vec!["-X".to_string(), "POST".to_string()];
    if parts.follow_redirects > 0 {
        expected.push("-L".into());
        expected.push("--max-redirs".into());
        expected.push(parts.follow_redirects.to_string());
    }
    expected.push(parts.url.to_string());
    for (name, value) in &parts.headers {
        expected.push("-H".into());
        expected.push(format!("{name}: {value}"));
    }
    expected.push("-H".into());
    expected.push("Content-Type:".into());
    expected.push("--data-raw".into());
    let body = parts.body.clone().expect("the request has a body");
    expected.push(String::from_utf8(body).expect("UTF-8 body"));
    (command, expected)
}

/// Runs `command` in `shell` with a `curl` on PATH that writes its arguments NUL-separated,
/// inside the empty folder `work`, and returns the arguments.
fn run_with_fake_curl(
    shell: &str,
    command: &str,
    bin: &Path,
    work: &Path,
    env: &[(String, String)],
) -> Vec<String> {
    let output = std::process::Command::new(shell)
        .arg("-c")
        .arg(command)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .envs(env.iter().map(|(name, value)| (name, value)))
        .current_dir(work)
        .output()
        .expect("the shell runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{shell}: {stderr}\n{command}");
    assert!(stderr.is_empty(), "{shell}: {stderr}\n{command}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 arguments");
    let mut arguments: Vec<String> = stdout.split('\0').map(str::to_string).collect();
    // Every argument ends in NUL, so the split leaves an empty string at the end.
    assert_eq!(arguments.pop().as_deref(), Some(""), "{stdout:?}");
    arguments
}

#[test]
fn curl_command_keeps_argument_vector() {
    use std::os::unix::fs::PermissionsExt as _;

    let temp = tempfile::tempdir().expect("temp dir");
    let bin = temp.path().join("bin");
    let work = temp.path().join("work");
    let files = temp.path().join("files");
    for folder in [&bin, &work, &files] {
        std::fs::create_dir(folder).expect("create folder");
    }
    let fake_curl = bin.join("curl");
    std::fs::write(&fake_curl, "#!/bin/sh\nprintf '%s\\0' \"$@\"\n").expect("write curl");
    std::fs::set_permissions(&fake_curl, std::fs::Permissions::from_mode(0o755))
        .expect("make curl executable");

    for (index, nasty) in NASTY.iter().enumerate() {
        // Secret values must be header values, because they are sent in a header too.
        let value_text = nasty.replace(|ch: char| ch.is_control() && ch != '\t', "_");
        // A secret's name or path with control characters makes `curl_command` reject the
        // reference, so names and paths keep the other characters only.
        let source_text = nasty.replace(char::is_control, "_");
        let file = files.join(format!("{index} {}", source_text.replace('/', "_")));
        let file_value = format!("file {index}: {value_text}");
        std::fs::write(&file, format!("{file_value}\n")).expect("write secret file");
        let plain_value = format!("plain {index}: {value_text}");
        let odd_value = format!("odd {index}: {value_text}");
        let mut env = vec![("PLAIN_TOKEN".to_string(), plain_value.clone())];
        let mut names = vec!["PLAIN_TOKEN"];
        // dash drops variables whose names it cannot expand, so only bash reads those.
        let odd_names = ["MY-TOKEN", "1X", source_text.as_str()];
        for shell in ["sh", "bash"] {
            if shell == "bash" {
                names.extend(odd_names);
                for name in odd_names {
                    env.push((name.to_string(), odd_value.clone()));
                }
            }
            let lookup = |name: &str| {
                env.iter()
                    .find(|(variable, _)| variable == name)
                    .map(|(_, value)| value.clone())
            };
            let (command, expected) = curl_case(nasty, &names, &file, &lookup);
            for secret in [&plain_value, &file_value, &odd_value] {
                assert!(!command.contains(secret.as_str()), "{command}");
            }
            let arguments = run_with_fake_curl(shell, &command, &bin, &work, &env);
            assert_eq!(arguments, expected, "{shell}: {command}");
            let created = std::fs::read_dir(&work).expect("read work folder").count();
            assert_eq!(created, 0, "{shell} created a file: {command}");
        }
    }
}
