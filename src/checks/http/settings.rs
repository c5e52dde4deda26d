//! Settings types shared by the HTTP-based check kinds: method, URL, request headers, header
//! names and status expectations, each validated while the checklist loads.

use std::fmt;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::redact::{MASK, Redactor};
use crate::sanitize::terminal_safe;

/// An HTTP method that the `method` setting accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMethod(pub Method);

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Default for HttpMethod {
    fn default() -> Self {
        HttpMethod(Method::GET)
    }
}

impl<'de> Deserialize<'de> for HttpMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let upper = text.to_ascii_uppercase();
        if !METHODS.contains(&upper.as_str()) {
            return Err(de::Error::custom(format!(
                "invalid method `{text}`; valid methods: {}",
                METHODS.join(", ")
            )));
        }
        Method::from_bytes(upper.as_bytes())
            .map(HttpMethod)
            .map_err(|err| de::Error::custom(format!("invalid method `{text}`: {err}")))
    }
}

/// An absolute `http://` or `https://` URL with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(pub Url);

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The URL may already contain resolved secrets, so errors never repeat it.
        let url = Url::parse(text.trim())
            .map_err(|err| de::Error::custom(format!("invalid URL: {err}")))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(de::Error::custom(format!(
                "invalid URL scheme `{}`; the URL must start with http:// or https://",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(de::Error::custom("invalid URL: it has no host"));
        }
        Ok(HttpUrl(url))
    }
}

impl HttpUrl {
    /// Returns the URL with its password and every registered secret masked, terminal-safe.
    pub fn masked(&self, redactor: &Redactor) -> String {
        let mut url = self.0.clone();
        if url.password().is_some() {
            // Setting a password fails only for URLs without a host, which the parser rejected.
            let _ = url.set_password(Some(MASK));
        }
        let mut text = url.as_str().to_string();
        if let Some(encoded) = url.password() {
            // The `url` crate percent-encodes the mask in the userinfo, which comes before any
            // other part that could hold the same text. Showing the mask as is reads better.
            text = text.replacen(encoded, MASK, 1);
        }
        terminal_safe(&redactor.redact(&text))
    }

    /// Returns the URL without username and password, as reqwest reports the URL it requested:
    /// reqwest moves the userinfo into an `Authorization` header.
    pub(super) fn without_userinfo(&self) -> Url {
        let mut url = self.0.clone();
        // Both setters fail only for URLs without a host, which the parser rejected.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url
    }

    /// Returns the base64 credentials of the `Authorization: Basic` header that reqwest builds
    /// from the URL's userinfo, or `None` when the URL has none.
    pub(super) fn basic_credentials(&self) -> Option<String> {
        use base64::Engine as _;

        let username = self.0.username();
        let password = self.0.password();
        if username.is_empty() && password.is_none() {
            return None;
        }
        // reqwest percent-decodes both parts and joins them as `username:password`.
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        let mut plain = format!("{}:", decode(username));
        if let Some(password) = password {
            plain.push_str(&decode(password));
        }
        Some(base64::engine::general_purpose::STANDARD.encode(plain))
    }

    /// `host:port` of the URL, with the scheme's default port when none is written.
    pub fn authority(&self) -> String {
        let host = self.0.host_str().unwrap_or_default();
        match self.0.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }
}

/// Header names with values, validated as HTTP header syntax, in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderList(pub Vec<(HeaderName, String)>);

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderListVisitor;

        impl<'de> Visitor<'de> for HeaderListVisitor {
            type Value = HeaderList;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a table of header names to string values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderList, A::Error> {
                let mut headers = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    let value: String = map.next_value()?;
                    let header = parse_header_name(&name).map_err(de::Error::custom)?;
                    // The value may be a resolved secret, so the error never repeats it.
                    HeaderValue::from_str(&value).map_err(|_| {
                        de::Error::custom(format!(
                            "invalid value of header `{name}`: only visible ASCII, spaces and \
                             tabs are allowed"
                        ))
                    })?;
                    headers.push((header, value));
                }
                Ok(HeaderList(headers))
            }
        }

        deserializer.deserialize_map(HeaderListVisitor)
    }
}

/// A header name from the checklist, matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderNameSetting(pub HeaderName);

impl<'de> Deserialize<'de> for HeaderNameSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_header_name(&text)
            .map(HeaderNameSetting)
            .map_err(de::Error::custom)
    }
}

/// Parses a header name as written in a checklist, ignoring surrounding whitespace.
pub fn parse_header_name(text: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(text.trim().as_bytes())
        .map_err(|_| format!("invalid header name `{}`", terminal_safe(text)))
}

/// The accepted response statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusExpectation {
    /// Any of these codes.
    Codes(Vec<u16>),
    /// Any code from `low` to `high`, both included; `text` is the pattern as written.
    Range { low: u16, high: u16, text: String },
}

impl Default for StatusExpectation {
    fn default() -> Self {
        StatusExpectation::Range {
            low: 200,
            high: 299,
            text: "2xx".into(),
        }
    }
}

impl StatusExpectation {
    /// Returns whether the status code is accepted.
    pub fn accepts(&self, code: u16) -> bool {
        match self {
            StatusExpectation::Codes(codes) => codes.contains(&code),
            StatusExpectation::Range { low, high, .. } => (*low..=*high).contains(&code),
        }
    }

    fn parse_pattern(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let invalid = || {
            format!(
                "invalid status pattern `{}`; write a code such as `200`, a class such as \
                 `2xx` or a range such as `200-299`",
                terminal_safe(text)
            )
        };
        let lower = trimmed.to_ascii_lowercase();
        if let Some(class) = lower.strip_suffix("xx") {
            let digit: u16 = class.parse().map_err(|_| invalid())?;
            if !(1..=5).contains(&digit) || class.len() != 1 {
                return Err(invalid());
            }
            return Ok(StatusExpectation::Range {
                low: digit * 100,
                high: digit * 100 + 99,
                text: lower,
            });
        }
        if let Some((low, high)) = trimmed.split_once('-') {
            let low = parse_code(low.trim()).map_err(|_| invalid())?;
            let high = parse_code(high.trim()).map_err(|_| invalid())?;
            if low > high {
                return Err(format!(
                    "invalid status range `{trimmed}`: {low} is greater than {high}"
                ));
            }
            return Ok(StatusExpectation::Range {
                low,
                high,
                text: format!("{low}-{high}"),
            });
        }
        let code = parse_code(trimmed).map_err(|_| invalid())?;
        Ok(StatusExpectation::Codes(vec![code]))
    }
}

impl fmt::Display for StatusExpectation {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        match self {
            StatusExpectation::Codes(codes) => {
                let texts: Vec<String> = codes.iter().map(u16::to_string).collect();
                formatter.write_str(&texts.join(" or "))
            }
            StatusExpectation::Range { text, .. } => formatter.write_str(text),
        }
    }
}

fn parse_code(text: &str) -> Result<u16, String> {
    let code: i64 = text
        .parse()
        .map_err(|_| format!("invalid status code `{text}`"))?;
    check_code(code)
}

fn check_code(code: i64) -> Result<u16, String> {
    match u16::try_from(code) {
        Ok(code) if (100..=599).contains(&code) => Ok(code),
        _ => Err(format!(
            "invalid status code {code}; status codes run from 100 to 599"
        )),
    }
}

impl<'de> Deserialize<'de> for StatusExpectation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;

        impl<'de> Visitor<'de> for StatusVisitor {
            type Value = StatusExpectation;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a status code, a list of codes, or a pattern such as \"2xx\"")
            }

            fn visit_i64<E: de::Error>(self, code: i64) -> Result<StatusExpectation, E> {
                check_code(code)
                    .map(|code| StatusExpectation::Codes(vec![code]))
                    .map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, code: u64) -> Result<StatusExpectation, E> {
                self.visit_i64(i64::try_from(code).unwrap_or(i64::MAX))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<StatusExpectation, E> {
                StatusExpectation::parse_pattern(text).map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StatusExpectation, A::Error> {
                let mut codes = Vec::new();
                while let Some(code) = seq.next_element::<i64>()? {
                    codes.push(check_code(code).map_err(de::Error::custom)?);
                }
                if codes.is_empty() {
                    return Err(de::Error::custom("the list of status codes is empty"));
                }
                Ok(StatusExpectation::Codes(codes))
            }
        }

        deserializer.deserialize_any(StatusVisitor)
    }
}
