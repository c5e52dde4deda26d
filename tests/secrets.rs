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
use golive::checklist::loader::{LoadDefaults, load_str_with_env};
use golive::checks::{CheckResult, Outcome};
use golive::config::EngineSettings;
use golive::engine::run_once;
use golive::redact::{MASK, Redactor, secret_forms};
use golive::report::{Format, render};
use golive::session::Session;
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
