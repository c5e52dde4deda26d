//! The `tls` check kind: which protocol versions a server accepts and refuses, and whether its
//! certificate chain is valid for the host and for how long.
//!
//! TLS 1.2 and 1.3 are probed with rustls, one handshake per version, which also reads the
//! certificate chain. TLS 1.0 and 1.1 are probed with a ClientHello built by hand (see
//! [`legacy`]), as rustls implements neither.

mod certificate;
mod legacy;
mod probe;
mod settings;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::time::{Instant, timeout_at};

use super::{Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext};
use crate::duration::format_duration;
use crate::redact::Redactor;
use crate::sanitize::terminal_safe;
use certificate::CertificateInfo;
use probe::{Handshake, ProbeFailure, VersionVerdict};
pub use settings::{TlsCheck, TlsExpect, TlsVersion};

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["host", "port", "address", "ca_file", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["min", "refuse", "accept", "min_days_left", "valid_for_host"];

/// Maximum size of a `ca_file` bundle.
const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Results of the probes: one verdict per version and the chain of the first completed
/// rustls handshake.
struct Findings {
    verdicts: Vec<(TlsVersion, VersionVerdict)>,
    /// The TLS 1.3 handshake if it completed, else the TLS 1.2 one.
    chain: Option<Handshake>,
}

/// Assertions being gathered, with a one-line summary of each missed one.
struct Judgement {
    evidence: Evidence,
    failures: Vec<String>,
}

impl Judgement {
    /// Adds an assertion, and `failure` as its summary when it missed.
    fn record(&mut self, assertion: Assertion, failure: String) {
        if !assertion.passed {
            self.failures.push(failure);
        }
        self.evidence.assertions.push(assertion);
    }

    fn check_days_left(&mut self, leaf: Option<&CertificateInfo>, min_days: u32, now: i64) {
        let expected = format!("at least {min_days}");
        let subject = "certificate days left".to_string();
        let Some(leaf) = leaf else {
            let assertion = Assertion {
                subject,
                expected,
                actual: "unknown: certificate not read".into(),
                passed: false,
            };
            self.record(
                assertion,
                "certificate not read, so its days left are unknown".into(),
            );
            return;
        };
        let days = leaf.days_left(now);
        let failure = if leaf.is_expired(now) {
            format!(
                "certificate {}, expected at least {min_days} days left",
                certificate::expired_text(leaf, now)
            )
        } else {
            format!(
                "certificate has {days} days left (not after {}), expected at least {min_days}",
                leaf.not_after_text()
            )
        };
        let assertion = Assertion {
            subject,
            expected,
            actual: format!("{days} (not after {})", leaf.not_after_text()),
            passed: days >= i64::from(min_days),
        };
        self.record(assertion, failure);
    }

    /// Builds the outcome: a fail names the first missed expectation and counts the others.
    fn into_probe(self) -> Probe {
        let mut probe = Probe::from_assertions(self.evidence);
        if let Some(first) = self.failures.first() {
            probe.summary = match self.failures.len() {
                1 => first.clone(),
                2 => format!("{first}; 1 more expectation missed"),
                count => format!("{first}; {} more expectations missed", count - 1),
            };
        }
        probe
    }
}

impl TlsCheck {
    /// Probes every protocol version and the certificate, then compares with the expectations.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let deadline = Instant::now() + ctx.timeout;
        let mut evidence = Evidence::default();
        match self.probe_all(ctx, deadline, &mut evidence).await {
            Ok(findings) => self.judge(findings, evidence),
            Err(summary) => Probe {
                outcome: super::Outcome::Error,
                summary: ctx.redactor.redact(&summary),
                evidence,
            },
        }
    }

    async fn probe_all(
        &self,
        ctx: &ProbeContext,
        deadline: Instant,
        evidence: &mut Evidence,
    ) -> Result<Findings, String> {
        let roots = self.load_roots().await?;
        let address = self.resolve(deadline, ctx).await?;
        evidence.request.push(format!("connect {address}"));
        evidence
            .request
            .push(format!("server name {}", terminal_safe(&self.host)));

        let server_name = ServerName::try_from(self.host.clone())
            .map_err(|err| format!("invalid host `{}`: {err}", self.host))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|err| format!("could not build the certificate verifier: {err}"))?;
        let explain = |version: TlsVersion, failure: ProbeFailure| match failure {
            ProbeFailure::TimedOut => format!(
                "{version} probe timed out: all probes must end within {}",
                format_duration(ctx.timeout)
            ),
            other => format!("{version} probe: {other}"),
        };

        let mut verdicts = Vec::new();
        let mut chain: Option<Handshake> = None;
        for (version, rustls_version) in [
            (TlsVersion::Tls13, &rustls::version::TLS13),
            (TlsVersion::Tls12, &rustls::version::TLS12),
        ] {
            let handshake = probe::handshake(
                address,
                server_name.clone(),
                rustls_version,
                provider.clone(),
                verifier.clone(),
                deadline,
            )
            .await
            .map_err(|failure| explain(version, failure))?;
            let mut verdict = handshake.verdict.clone();
            if version == TlsVersion::Tls12 && !verdict.is_accepted() {
                // rustls offers only ECDHE suites with AEAD at TLS 1.2, so a server with
                // only CBC, DHE or RSA key exchange suites would look as if it refused the
                // version. A hand-built hello with the common suites settles it.
                let fallback = legacy::probe_version(address, sni(&self.host), 0x0303, deadline)
                    .await
                    .map_err(|failure| explain(version, failure))?;
                if let VersionVerdict::Accepted { detail } = fallback {
                    verdict = VersionVerdict::Accepted {
                        detail: format!("{detail}, which rustls does not offer"),
                    };
                }
            }
            if chain.is_none() && !handshake.certificates.is_empty() {
                chain = Some(handshake);
            }
            verdicts.push((version, verdict));
        }
        for version in [TlsVersion::Tls11, TlsVersion::Tls10] {
            let verdict = legacy::probe_version(address, sni(&self.host), version.wire(), deadline)
                .await
                .map_err(|failure| explain(version, failure))?;
            verdicts.push((version, verdict));
        }
        verdicts.sort_by_key(|(version, _)| *version);
        Ok(Findings { verdicts, chain })
    }

    /// Loads the webpki roots and the certificates of `ca_file`.
    async fn load_roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let Some(path) = &self.ca_file else {
            return Ok(roots);
        };
        let certificates = read_ca_file(path).await?;
        let (added, ignored) = roots.add_parsable_certificates(certificates);
        if added == 0 {
            return Err(format!(
                "`ca_file` {} contains no usable CA certificate ({ignored} could not be parsed)",
                path.display()
            ));
        }
        Ok(roots)
    }

    /// Returns `address` with the port, or the first address `host` resolves to.
    async fn resolve(&self, deadline: Instant, ctx: &ProbeContext) -> Result<SocketAddr, String> {
        if let Some(ip) = self.address {
            return Ok(SocketAddr::new(ip, self.port));
        }
        let lookup = tokio::net::lookup_host((self.host.as_str(), self.port));
        match timeout_at(deadline, lookup).await {
            Err(_) => Err(format!(
                "resolving {} timed out after {}",
                self.host,
                format_duration(ctx.timeout)
            )),
            Ok(Err(err)) => Err(format!("could not resolve {}: {err}", self.host)),
            Ok(Ok(mut addresses)) => addresses
                .next()
                .ok_or_else(|| format!("could not resolve {}: no addresses", self.host)),
        }
    }

    /// Turns the findings into evidence and an outcome.
    fn judge(&self, findings: Findings, evidence: Evidence) -> Probe {
        let now = jiff::Timestamp::now().as_second();
        let mut judgement = Judgement {
            evidence,
            failures: Vec::new(),
        };

        judgement
            .evidence
            .tables
            .push(self.versions_table(&findings.verdicts));
        for (version, result) in &findings.verdicts {
            let Some(expected) = self.expect.expected(*version) else {
                continue;
            };
            let accepted = result.is_accepted();
            judgement.record(
                Assertion {
                    subject: version.name().to_string(),
                    expected: accepted_text(expected).to_string(),
                    actual: accepted_text(accepted).to_string(),
                    passed: accepted == expected,
                },
                format!(
                    "{version} {}, expected {}",
                    accepted_text(accepted),
                    accepted_text(expected)
                ),
            );
        }

        let chain = match &findings.chain {
            None => Err(
                "no TLS 1.2 or 1.3 handshake completed, so the certificate was not read"
                    .to_string(),
            ),
            Some(handshake) => {
                certificate::decode_chain(&handshake.certificates).map_err(|err| err.to_string())
            }
        };
        match &chain {
            Ok(chain) => judgement.evidence.tables.push(chain_table(chain, now)),
            Err(reason) => judgement.evidence.notes.push(reason.clone()),
        }
        if let Some(min_days) = self.expect.min_days_left {
            let leaf = chain.as_ref().ok().and_then(|chain| chain.first());
            judgement.check_days_left(leaf, min_days, now);
        }

        let chain_verdict = findings
            .chain
            .as_ref()
            .and_then(|handshake| handshake.chain_verdict.as_ref());
        let validity = match (&chain, chain_verdict) {
            (Ok(chain), Some(Err(error))) => Err(certificate::explain_rejection(
                error, chain, &self.host, now,
            )),
            (Ok(_), Some(Ok(()))) => Ok(()),
            (Err(reason), _) => Err(reason.clone()),
            (Ok(_), None) => Err("the certificate was not verified".to_string()),
        };
        if self.expect.valid_for_host {
            judgement.record(
                Assertion {
                    subject: "certificate".into(),
                    expected: format!("valid for {}", self.host),
                    actual: match &validity {
                        Ok(()) => "valid".into(),
                        Err(reason) => reason.clone(),
                    },
                    passed: validity.is_ok(),
                },
                validity.clone().err().unwrap_or_default(),
            );
        } else if chain.is_ok() {
            // Without the expectation, webpki's verdict is still shown as a note.
            let note = match &validity {
                Ok(()) => format!("certificate chain is valid for {}", self.host),
                Err(reason) => reason.clone(),
            };
            judgement.evidence.notes.push(note);
        }
        judgement.into_probe()
    }

    fn versions_table(&self, verdicts: &[(TlsVersion, VersionVerdict)]) -> EvidenceTable {
        let rows = verdicts
            .iter()
            .map(|(version, verdict)| {
                let expected = self.expect.expected(*version);
                let (result, detail) = match verdict {
                    VersionVerdict::Accepted { detail } => ("accepted", detail),
                    VersionVerdict::Refused { reason } => ("refused", reason),
                };
                EvidenceRow {
                    label: version.name().to_string(),
                    cells: vec![
                        EvidenceCell {
                            text: result.to_string(),
                            passed: expected.map(|expected| expected == verdict.is_accepted()),
                        },
                        plain_cell(expected.map_or("any", accepted_text)),
                        plain_cell(&terminal_safe(detail)),
                    ],
                }
            })
            .collect();
        EvidenceTable {
            title: "protocol versions".into(),
            columns: vec!["result".into(), "expected".into(), "detail".into()],
            rows,
        }
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = vec![
            ("host".to_string(), redactor.redact(&self.host)),
            ("port".to_string(), self.port.to_string()),
        ];
        if let Some(address) = self.address {
            lines.push(("address".into(), address.to_string()));
        }
        if let Some(path) = &self.ca_file {
            lines.push((
                "ca_file".into(),
                redactor.redact(&path.display().to_string()),
            ));
        }
        let expect = &self.expect;
        if let Some(min) = expect.min {
            lines.push(("expect min".into(), min.name().to_string()));
        }
        let names = |versions: &[TlsVersion]| {
            versions
                .iter()
                .map(|version| version.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !expect.refuse.is_empty() {
            lines.push(("expect refuse".into(), names(&expect.refuse)));
        }
        if !expect.accept.is_empty() {
            lines.push(("expect accept".into(), names(&expect.accept)));
        }
        if let Some(days) = expect.min_days_left {
            lines.push(("expect min_days_left".into(), days.to_string()));
        }
        lines.push((
            "expect valid_for_host".into(),
            expect.valid_for_host.to_string(),
        ));
        lines
    }
}

/// Returns the name to send in the server_name extension, which carries DNS names only.
fn sni(host: &str) -> Option<&str> {
    match host.parse::<std::net::IpAddr>() {
        Ok(_) => None,
        Err(_) => Some(host),
    }
}

fn accepted_text(accepted: bool) -> &'static str {
    if accepted { "accepted" } else { "refused" }
}

fn plain_cell(text: &str) -> EvidenceCell {
    EvidenceCell {
        text: text.to_string(),
        passed: None,
    }
}

fn chain_table(chain: &[CertificateInfo], now: i64) -> EvidenceTable {
    let rows = chain
        .iter()
        .enumerate()
        .map(|(position, cert)| EvidenceRow {
            label: if position == 0 {
                "0 (leaf)".to_string()
            } else {
                position.to_string()
            },
            cells: vec![
                plain_cell(&cert.subject),
                plain_cell(&cert.issuer),
                plain_cell(&cert.not_after_text()),
                plain_cell(&cert.days_left(now).to_string()),
                plain_cell(&cert.names_text()),
            ],
        })
        .collect();
    EvidenceTable {
        title: "certificate chain".into(),
        columns: vec![
            "subject".into(),
            "issuer".into(),
            "not after".into(),
            "days left".into(),
            "names".into(),
        ],
        rows,
    }
}

/// Reads the CA certificates of a PEM bundle, bounded in size.
async fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let metadata = tokio::fs::metadata(path)
        .await
        .map_err(|err| format!("could not read `ca_file` {shown}: {err}"))?;
    if metadata.len() > MAX_CA_FILE_BYTES {
        return Err(format!(
            "`ca_file` {shown} is {} bytes, above the maximum of {MAX_CA_FILE_BYTES}",
            metadata.len()
        ));
    }
    let pem = tokio::fs::read(path)
        .await
        .map_err(|err| format!("could not read `ca_file` {shown}: {err}"))?;
    CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("invalid PEM in `ca_file` {shown}: {err}"))
}
