//! Details of a server's certificate chain and plain reasons for webpki's verdict on it.

use rustls::CertificateError;
use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;

use crate::sanitize::{terminal_safe, truncate_chars};

/// Maximum number of characters of a subject, an issuer or a name list in the evidence.
const MAX_NAME_CHARS: usize = 200;
/// Maximum number of subject alternative names listed for one certificate.
const MAX_NAMES: usize = 20;
const SECONDS_PER_DAY: i64 = 86_400;

/// Evidence fields of one certificate. All text is terminal-safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// End of the validity period, in seconds since the Unix epoch.
    pub not_after: i64,
    /// DNS names and IP addresses of the subject alternative name extension.
    pub names: Vec<String>,
    pub self_signed: bool,
}

/// A certificate that could not be decoded, described by position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate {position} of the chain is not valid X.509: {message}")]
pub struct DecodeError {
    pub position: usize,
    pub message: String,
}

/// Decodes the chain as the server sent it, leaf first.
pub fn decode_chain(chain: &[CertificateDer<'_>]) -> Result<Vec<CertificateInfo>, DecodeError> {
    chain
        .iter()
        .enumerate()
        .map(|(position, der)| {
            decode(der.as_ref()).map_err(|message| DecodeError { position, message })
        })
        .collect()
}

fn decode(der: &[u8]) -> Result<CertificateInfo, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|err| err.to_string())?;
    let mut names = Vec::new();
    if let Ok(Some(extension)) = cert.subject_alternative_name() {
        for name in &extension.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push(clean(dns)),
                GeneralName::IPAddress(bytes) => names.push(ip_text(bytes)),
                _ => {}
            }
        }
    }
    names.truncate(MAX_NAMES);
    Ok(CertificateInfo {
        subject: clean(&cert.subject().to_string()),
        issuer: clean(&cert.issuer().to_string()),
        not_after: cert.validity().not_after.timestamp(),
        names,
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
    })
}

fn clean(text: &str) -> String {
    truncate_chars(&terminal_safe(text), MAX_NAME_CHARS)
}

fn ip_text(bytes: &[u8]) -> String {
    if let Ok(octets) = <[u8; 4]>::try_from(bytes) {
        return std::net::Ipv4Addr::from(octets).to_string();
    }
    if let Ok(octets) = <[u8; 16]>::try_from(bytes) {
        return std::net::Ipv6Addr::from(octets).to_string();
    }
    format!("IP address of {} bytes", bytes.len())
}

impl CertificateInfo {
    /// Whole days from `now` to the end of the validity period, rounded towards zero, so
    /// negative only from one full day after it has passed.
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now) / SECONDS_PER_DAY
    }

    /// Returns whether the validity period ended before `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        self.not_after < now
    }

    /// Formats the end of the validity period as `2026-12-01 00:00 UTC`.
    pub fn not_after_text(&self) -> String {
        format_time(self.not_after, "%Y-%m-%d %H:%M UTC")
    }

    /// Lists the names the certificate is for: its subject alternative names, or its subject.
    pub fn names_text(&self) -> String {
        if self.names.is_empty() {
            self.subject.clone()
        } else {
            truncate_chars(&self.names.join(", "), MAX_NAME_CHARS)
        }
    }
}

fn format_time(seconds: i64, format: &str) -> String {
    match jiff::Timestamp::from_second(seconds) {
        Ok(time) => time.strftime(format).to_string(),
        Err(_) => format!("{seconds} s after the Unix epoch"),
    }
}

/// Explains why webpki rejected the chain for `host`, such as "certificate expired 3 days ago
/// (not after 2026-12-01)" or "certificate is for other.test, not api.test".
pub fn explain_rejection(
    error: &rustls::Error,
    chain: &[CertificateInfo],
    host: &str,
    now: i64,
) -> String {
    let Some(leaf) = chain.first() else {
        return format!("certificate is invalid: {error}");
    };
    let rustls::Error::InvalidCertificate(reason) = error else {
        return format!("certificate is invalid: {error}");
    };
    match reason {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            match chain.iter().position(|cert| cert.not_after < now) {
                Some(0) | None => format!("certificate {}", expired_text(leaf, now)),
                Some(position) => format!(
                    "certificate {position} of the chain ({}) {}",
                    chain[position].subject,
                    expired_text(&chain[position], now)
                ),
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not valid yet".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("certificate is for {}, not {host}", leaf.names_text())
        }
        CertificateError::UnknownIssuer if leaf.self_signed => {
            format!("certificate is self-signed ({})", leaf.subject)
        }
        CertificateError::UnknownIssuer => format!(
            "certificate is issued by {}, which is not a trusted CA, and the server sent no \
             chain to a trusted CA",
            leaf.issuer
        ),
        // webpki's own errors arrive boxed in `Other`, and only their debug text names them.
        CertificateError::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            format!(
                "certificate is a CA certificate ({}), not a server certificate",
                leaf.subject
            )
        }
        other => format!("certificate is invalid: {other:?}"),
    }
}

/// Describes an expired certificate, such as "expired 3 days ago (not after 2026-12-01)".
pub fn expired_text(cert: &CertificateInfo, now: i64) -> String {
    let days = (now - cert.not_after).div_euclid(SECONDS_PER_DAY);
    let ago = match days {
        0 => "less than a day ago".to_string(),
        1 => "1 day ago".to_string(),
        days => format!("{days} days ago"),
    };
    format!(
        "expired {ago} (not after {})",
        format_time(cert.not_after, "%Y-%m-%d")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(not_after: i64) -> CertificateInfo {
        CertificateInfo {
            subject: "CN=other.test".into(),
            issuer: "CN=Test CA".into(),
            not_after,
            names: vec!["other.test".into()],
            self_signed: false,
        }
    }

    #[test]
    fn expired_reason_counts_days() {
        // 2026-12-01 00:00 UTC and three days and an hour later.
        let not_after = 1_796_083_200;
        let now = not_after + 3 * SECONDS_PER_DAY + 3600;
        let error = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let reason = explain_rejection(&error, &[leaf(not_after)], "api.test", now);
        assert_eq!(
            reason,
            "certificate expired 3 days ago (not after 2026-12-01)"
        );
    }

    #[test]
    fn wrong_name_reason_lists_names() {
        let error = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        let reason = explain_rejection(&error, &[leaf(i64::MAX / 2)], "api.test", 0);
        assert_eq!(reason, "certificate is for other.test, not api.test");
    }

    #[test]
    fn days_left_rounds_down() {
        let cert = leaf(10 * SECONDS_PER_DAY - 1);
        assert_eq!(cert.days_left(0), 9);
    }

    #[test]
    fn days_left_negative_after_expiry() {
        let cert = leaf(0);
        assert_eq!(cert.days_left(2 * SECONDS_PER_DAY + 5), -2);
    }
}
