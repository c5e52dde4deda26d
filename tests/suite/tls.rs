//! The `tls` check kind against `openssl s_server` and nginx on 127.0.0.1, with certificates
//! made by the test, compared with `openssl s_client` where both can judge.

use crate::support::tls_servers;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use golive::checks::{CheckSpec, EvidenceTable, Outcome, Probe, ProbeContext, parse_spec};
use golive::redact::Redactor;
use tls_servers::{
    HOST, Leaf, TestPki, free_port, s_client_connects, start_nginx, start_s_server,
    start_s_server_with,
};

const TIMEOUT: Duration = Duration::from_secs(5);

fn spec(settings: &str) -> CheckSpec {
    let table: toml::Table = toml::from_str(settings).expect("test settings are valid TOML");
    parse_spec("tls", table).expect("test settings are valid tls settings")
}

/// Runs a check with a 5 s timeout, failing the test if the probe outlives it by far.
async fn probe(settings: &str) -> Probe {
    let check = spec(settings);
    let ctx = ProbeContext {
        redactor: Arc::new(Redactor::new()),
        timeout: TIMEOUT,
        body_limit: 64 * 1024,
    };
    tokio::time::timeout(TIMEOUT + Duration::from_secs(5), check.run(&ctx))
        .await
        .expect("probe ends within its timeout")
}

/// Settings for `api.test` at 127.0.0.1 on `port`, trusting the test CA, with `expect` lines.
fn settings(port: u16, ca: &Path, expect: &str) -> String {
    format!(
        "host = \"{HOST}\"\nport = {port}\naddress = \"127.0.0.1\"\nca_file = \"{}\"\n\
         [expect]\n{expect}\n",
        ca.display()
    )
}

fn table<'a>(probe: &'a Probe, title: &str) -> &'a EvidenceTable {
    probe
        .evidence
        .tables
        .iter()
        .find(|table| table.title == title)
        .unwrap_or_else(|| panic!("evidence has a `{title}` table: {probe:#?}"))
}

/// The result cell of one version in the "protocol versions" table.
fn version_result(probe: &Probe, version: &str) -> String {
    let row = table(probe, "protocol versions")
        .rows
        .iter()
        .find(|row| row.label == version)
        .unwrap_or_else(|| panic!("protocol versions table has a row for {version}"));
    row.cells[0].text.clone()
}

fn accepted(connects: bool) -> &'static str {
    if connects { "accepted" } else { "refused" }
}

/// Runs the blocking s_client off the runtime's worker threads.
async fn s_client(port: u16, flag: &'static str) -> bool {
    tokio::task::spawn_blocking(move || s_client_connects(port, flag))
        .await
        .expect("s_client task")
}

#[tokio::test]
async fn s_server_with_tls11_fails_refuse() {
    let pki = TestPki::generate();
    let server = start_s_server(&pki, Leaf::Valid);
    let probe = probe(&settings(server.port, &pki.ca, "refuse = [\"1.1\"]")).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:#?}");
    assert_eq!(probe.summary, "TLS 1.1 accepted, expected refused");
    assert_eq!(version_result(&probe, "TLS 1.1"), "accepted");

    let tls11 = s_client(server.port, "-tls1_1").await;
    assert!(tls11, "s_client -tls1_1 connects:\n{}", server.log_text());
    assert_eq!(version_result(&probe, "TLS 1.1"), accepted(tls11));
    let tls12 = s_client(server.port, "-tls1_2").await;
    assert!(tls12, "s_client -tls1_2 connects");
    assert_eq!(version_result(&probe, "TLS 1.2"), accepted(tls12));
    let tls10 = s_client(server.port, "-tls1").await;
    assert_eq!(version_result(&probe, "TLS 1.0"), accepted(tls10));
    let tls13 = s_client(server.port, "-tls1_3").await;
    assert_eq!(version_result(&probe, "TLS 1.3"), accepted(tls13));
}

#[tokio::test]
async fn nginx_modern_protocols_pass() {
    let pki = TestPki::generate();
    let server = start_nginx(&pki, Leaf::Valid, "TLSv1.2 TLSv1.3");
    let expect = "min = \"1.2\"\nrefuse = [\"1.0\", \"1.1\"]\nmin_days_left = 14";
    let probe = probe(&settings(server.port, &pki.ca, expect)).await;

    assert_eq!(
        probe.outcome,
        Outcome::Pass,
        "{probe:#?}\n{}",
        server.log_text()
    );
    assert_eq!(version_result(&probe, "TLS 1.0"), "refused");
    assert_eq!(version_result(&probe, "TLS 1.1"), "refused");
    assert_eq!(version_result(&probe, "TLS 1.2"), "accepted");
    assert_eq!(version_result(&probe, "TLS 1.3"), "accepted");
    // min 1.2 and refuse give 1.0, 1.1 and 1.2, then days left and validity.
    assert_eq!(probe.evidence.assertions.len(), 5, "{probe:#?}");

    let chain = table(&probe, "certificate chain");
    assert_eq!(chain.rows.len(), 1);
    assert_eq!(chain.rows[0].cells[0].text, "CN=api.test");
    assert_eq!(chain.rows[0].cells[1].text, "CN=golive test CA");
    assert_eq!(chain.rows[0].cells[4].text, "api.test");

    let tls11 = s_client(server.port, "-tls1_1").await;
    assert!(!tls11, "s_client -tls1_1 fails against nginx");
    assert_eq!(version_result(&probe, "TLS 1.1"), accepted(tls11));
    let tls12 = s_client(server.port, "-tls1_2").await;
    assert!(tls12, "s_client -tls1_2 connects to nginx");
    assert_eq!(version_result(&probe, "TLS 1.2"), accepted(tls12));
}

#[tokio::test]
async fn nginx_tls12_only_fails_accept_tls13() {
    let pki = TestPki::generate();
    let server = start_nginx(&pki, Leaf::Valid, "TLSv1.2");
    let probe = probe(&settings(
        server.port,
        &pki.ca,
        "accept = [\"1.2\", \"1.3\"]",
    ))
    .await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:#?}");
    assert_eq!(probe.summary, "TLS 1.3 refused, expected accepted");
    assert_eq!(version_result(&probe, "TLS 1.2"), "accepted");
}

#[tokio::test]
async fn expired_certificate_fails_with_date() {
    let pki = TestPki::generate();
    let server = start_s_server(&pki, Leaf::Expired);
    let probe = probe(&settings(server.port, &pki.ca, "min = \"1.0\"")).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:#?}");
    assert!(
        probe.summary.starts_with("certificate expired "),
        "{}",
        probe.summary
    );
    assert!(
        probe.summary.ends_with("days ago (not after 2021-01-01)"),
        "{}",
        probe.summary
    );
    // The bad certificate does not stop the version probes.
    assert_eq!(version_result(&probe, "TLS 1.2"), "accepted");
    assert_eq!(version_result(&probe, "TLS 1.3"), "accepted");
}

#[tokio::test]
async fn wrong_host_certificate_fails() {
    let pki = TestPki::generate();
    let server = start_nginx(&pki, Leaf::WrongHost, "TLSv1.2 TLSv1.3");
    let probe = probe(&settings(server.port, &pki.ca, "")).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:#?}");
    assert_eq!(probe.summary, "certificate is for other.test, not api.test");
}

#[tokio::test]
async fn untrusted_ca_fails_without_ca_file() {
    let pki = TestPki::generate();
    let server = start_nginx(&pki, Leaf::Valid, "TLSv1.2 TLSv1.3");
    let settings = format!(
        "host = \"{HOST}\"\nport = {}\naddress = \"127.0.0.1\"\n",
        server.port
    );
    let probe = probe(&settings).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:#?}");
    assert!(
        probe
            .summary
            .starts_with("certificate is issued by CN=golive test CA, which is not a trusted CA"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn expiring_certificate_fails_min_days_left() {
    let pki = TestPki::generate();
    let server = start_nginx(&pki, Leaf::ExpiringSoon, "TLSv1.2 TLSv1.3");
    let probe = probe(&settings(server.port, &pki.ca, "min_days_left = 14")).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:#?}");
    assert!(
        probe.summary.starts_with("certificate has 4 days left")
            || probe.summary.starts_with("certificate has 5 days left"),
        "{}",
        probe.summary
    );
    assert!(
        probe.summary.ends_with("expected at least 14"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn validity_not_required_passes_expired() {
    let pki = TestPki::generate();
    let server = start_s_server(&pki, Leaf::Expired);
    let probe = probe(&settings(server.port, &pki.ca, "valid_for_host = false")).await;

    assert_eq!(probe.outcome, Outcome::Pass, "{probe:#?}");
    let noted = probe
        .evidence
        .notes
        .iter()
        .any(|note| note.starts_with("certificate expired"));
    assert!(noted, "{:?}", probe.evidence.notes);
}

#[tokio::test]
async fn refused_port_is_error() {
    let pki = TestPki::generate();
    let port = free_port();
    let probe = probe(&settings(port, &pki.ca, "min = \"1.2\"")).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:#?}");
    assert!(
        probe.summary.contains("connection refused"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn plain_http_server_is_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("local address").port();
    // Responds to every connection with an HTTP error, as a plain HTTP server does to a hello.
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer).await;
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let settings = format!("host = \"{HOST}\"\nport = {port}\naddress = \"127.0.0.1\"\n");
    let probe = probe(&settings).await;
    server.abort();

    assert_eq!(probe.outcome, Outcome::Error, "{probe:#?}");
    assert!(probe.summary.contains("not TLS"), "{}", probe.summary);
}

#[tokio::test]
async fn missing_ca_file_is_error() {
    let settings = format!(
        "host = \"{HOST}\"\nport = {}\naddress = \"127.0.0.1\"\n\
         ca_file = \"/nonexistent/ca.pem\"\n",
        free_port()
    );
    let probe = probe(&settings).await;

    assert_eq!(probe.outcome, Outcome::Error, "{probe:#?}");
    assert!(
        probe.summary.starts_with("could not read `ca_file`"),
        "{}",
        probe.summary
    );
}

#[tokio::test]
async fn tls12_cbc_only_server_accepted() {
    let pki = TestPki::generate();
    // rustls offers no CBC suite, so only the hand-built TLS 1.2 hello can agree on one.
    let options = [
        "-cipher",
        "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0",
        "-no_tls1_3",
    ];
    let server = start_s_server_with(&pki, Leaf::Valid, &options);
    let expect = "accept = [\"1.2\"]\nvalid_for_host = false";
    let probe = probe(&settings(server.port, &pki.ca, expect)).await;

    assert_eq!(probe.outcome, Outcome::Pass, "{probe:#?}");
    assert_eq!(version_result(&probe, "TLS 1.3"), "refused");
    let row = &table(&probe, "protocol versions").rows[2];
    assert_eq!(row.label, "TLS 1.2");
    assert_eq!(
        row.cells[2].text,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, which rustls does not offer"
    );
    let tls12 = s_client(server.port, "-tls1_2").await;
    assert_eq!(version_result(&probe, "TLS 1.2"), accepted(tls12));
}

#[tokio::test]
async fn tls12_cbc_only_certificate_unread() {
    let pki = TestPki::generate();
    let options = [
        "-cipher",
        "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0",
        "-no_tls1_3",
    ];
    let server = start_s_server_with(&pki, Leaf::Valid, &options);
    let probe = probe(&settings(server.port, &pki.ca, "")).await;

    assert_eq!(probe.outcome, Outcome::Fail, "{probe:#?}");
    assert_eq!(
        probe.summary,
        "no TLS 1.2 or 1.3 handshake completed, so the certificate was not read"
    );
}

#[test]
fn unknown_setting_rejected() {
    let table: toml::Table =
        toml::from_str("host = \"api.test\"\nurl = \"https://api.test\"").expect("valid TOML");
    let error = parse_spec("tls", table).expect_err("`url` is not a tls setting");
    assert!(
        error.message.contains("unknown field `url`"),
        "{}",
        error.message
    );
}
