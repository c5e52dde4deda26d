//! Settings of a `tls` check and their validation while the checklist loads.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use rustls::pki_types::ServerName;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use crate::checklist::vars::expand_home;

/// Settings of a `tls` check.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "TlsCheckSettings")]
pub struct TlsCheck {
    /// Name sent in SNI and checked against the certificate; a DNS name or an IP address.
    pub host: String,
    pub port: u16,
    /// Address to connect to instead of resolving `host`.
    pub address: Option<IpAddr>,
    /// PEM bundle of CA certificates trusted in addition to the webpki roots, `~` expanded.
    pub ca_file: Option<PathBuf>,
    pub expect: TlsExpect,
}

/// The `check` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsCheckSettings {
    host: String,
    #[serde(default = "default_port")]
    port: u16,
    address: Option<IpAddr>,
    ca_file: Option<String>,
    #[serde(default)]
    expect: TlsExpect,
}

fn default_port() -> u16 {
    443
}

/// Expectations of a `tls` check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsExpect {
    /// Lowest version that must be accepted; every version below it must be refused.
    pub min: Option<TlsVersion>,
    #[serde(default)]
    pub refuse: Vec<TlsVersion>,
    #[serde(default)]
    pub accept: Vec<TlsVersion>,
    /// Minimum number of whole days before the leaf certificate expires.
    pub min_days_left: Option<u32>,
    /// Whether the chain must be valid for `host` against the trust roots; default true.
    #[serde(default = "default_valid_for_host")]
    pub valid_for_host: bool,
}

fn default_valid_for_host() -> bool {
    true
}

impl Default for TlsExpect {
    fn default() -> Self {
        TlsExpect {
            min: None,
            refuse: Vec::new(),
            accept: Vec::new(),
            min_days_left: None,
            valid_for_host: true,
        }
    }
}

impl TlsExpect {
    /// Whether `version` must be accepted (`Some(true)`) or refused (`Some(false)`), from
    /// `accept`, `refuse` and `min`; `None` when no expectation names it.
    pub fn expected(&self, version: TlsVersion) -> Option<bool> {
        if self.accept.contains(&version) {
            return Some(true);
        }
        if self.refuse.contains(&version) {
            return Some(false);
        }
        self.min.and_then(|min| match version.cmp(&min) {
            std::cmp::Ordering::Less => Some(false),
            std::cmp::Ordering::Equal => Some(true),
            std::cmp::Ordering::Greater => None,
        })
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(version) = self
            .accept
            .iter()
            .find(|version| self.refuse.contains(version))
        {
            return Err(format!(
                "version {} is in both `expect.accept` and `expect.refuse`",
                version.label()
            ));
        }
        let Some(min) = self.min else {
            return Ok(());
        };
        if self.refuse.contains(&min) {
            return Err(format!(
                "`expect.min` is {} but `expect.refuse` lists it; `min` is the lowest version \
                 that must be accepted",
                min.label()
            ));
        }
        if let Some(version) = self.accept.iter().find(|version| **version < min) {
            return Err(format!(
                "`expect.accept` lists {} but `expect.min` is {}, so it must be refused",
                version.label(),
                min.label()
            ));
        }
        Ok(())
    }
}

impl TryFrom<TlsCheckSettings> for TlsCheck {
    type Error = String;

    fn try_from(settings: TlsCheckSettings) -> Result<Self, Self::Error> {
        let host = settings.host.trim().to_string();
        if host.is_empty() {
            return Err(
                "`host` is empty; set it to the server's name, such as api.example.com".into(),
            );
        }
        if host.contains("://") || host.contains('/') || host.contains(':') && !is_ipv6(&host) {
            return Err(format!(
                "invalid `host` `{host}`: write the name alone, such as api.example.com, with \
                 the port in `port`"
            ));
        }
        if ServerName::try_from(host.as_str()).is_err() {
            return Err(format!(
                "invalid `host` `{host}`: not a DNS name or an IP address"
            ));
        }
        if settings.port == 0 {
            return Err("invalid `port` 0; ports are 1 to 65535".into());
        }
        settings.expect.validate()?;
        Ok(TlsCheck {
            host,
            port: settings.port,
            address: settings.address,
            ca_file: settings.ca_file.as_deref().map(expand_home),
            expect: settings.expect,
        })
    }
}

fn is_ipv6(text: &str) -> bool {
    text.parse::<std::net::Ipv6Addr>().is_ok()
}

/// A TLS protocol version, written `"1.0"`, `"1.1"`, `"1.2"` or `"1.3"` in a checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// Every version the check probes, oldest first.
    pub const ALL: [TlsVersion; 4] = [
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];

    /// Returns the version as written in a checklist, such as `1.2`.
    pub fn label(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "1.0",
            TlsVersion::Tls11 => "1.1",
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        }
    }

    /// Returns the version's name, such as `TLS 1.2`.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS 1.0",
            TlsVersion::Tls11 => "TLS 1.1",
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        }
    }

    /// Returns the version's ProtocolVersion value on the wire, such as 0x0303 for TLS 1.2.
    pub fn wire(self) -> u16 {
        match self {
            TlsVersion::Tls10 => 0x0301,
            TlsVersion::Tls11 => 0x0302,
            TlsVersion::Tls12 => 0x0303,
            TlsVersion::Tls13 => 0x0304,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let number = text
            .strip_prefix("TLSv")
            .or_else(|| text.strip_prefix("TLS "))
            .unwrap_or(text);
        TlsVersion::ALL
            .into_iter()
            .find(|version| version.label() == number)
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VersionVisitor;

        impl Visitor<'_> for VersionVisitor {
            type Value = TlsVersion;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a TLS version: \"1.0\", \"1.1\", \"1.2\" or \"1.3\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<TlsVersion, E> {
                TlsVersion::parse(text).ok_or_else(|| {
                    E::custom(format!(
                        "invalid TLS version `{text}`; valid versions: \"1.0\", \"1.1\", \
                         \"1.2\", \"1.3\""
                    ))
                })
            }

            // `min = 1.2` without quotes is a TOML float.
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<TlsVersion, E> {
                self.visit_str(&format!("{number:.1}"))
            }
        }

        deserializer.deserialize_any(VersionVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(settings: &str) -> Result<TlsCheck, String> {
        let table: toml::Table = toml::from_str(settings).map_err(|err| err.to_string())?;
        crate::checks::deserialize_settings::<TlsCheck>(table).map_err(|err| err.message)
    }

    #[test]
    fn defaults_port_and_validity() {
        let check = parse("host = \"api.test\"").expect("valid settings");
        assert_eq!(check.port, 443);
        assert!(check.expect.valid_for_host);
    }

    #[test]
    fn min_expects_versions_below_refused() {
        let check = parse("host = \"api.test\"\n[expect]\nmin = \"1.2\"").expect("valid settings");
        assert_eq!(check.expect.expected(TlsVersion::Tls11), Some(false));
        assert_eq!(check.expect.expected(TlsVersion::Tls12), Some(true));
        assert_eq!(check.expect.expected(TlsVersion::Tls13), None);
    }

    #[test]
    fn version_as_float_parses() {
        let check = parse("host = \"api.test\"\n[expect]\nmin = 1.2").expect("valid settings");
        assert_eq!(check.expect.min, Some(TlsVersion::Tls12));
    }

    #[test]
    fn unknown_version_rejected() {
        let error = parse("host = \"api.test\"\n[expect]\nrefuse = [\"1.4\"]").unwrap_err();
        assert!(error.contains("invalid TLS version `1.4`"), "{error}");
    }

    #[test]
    fn contradicting_versions_rejected() {
        let error =
            parse("host = \"api.test\"\n[expect]\nmin = \"1.2\"\nrefuse = [\"1.2\"]").unwrap_err();
        assert!(error.contains("`expect.min` is 1.2"), "{error}");
    }

    #[test]
    fn host_with_port_rejected() {
        let error = parse("host = \"api.test:8443\"").unwrap_err();
        assert!(error.contains("invalid `host`"), "{error}");
    }
}
