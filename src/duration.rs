//! Durations as people write them in checklists and settings: `500ms`, `10s`, `5m`, `1h 30m`,
//! `7d` (a day is 24 hours).

use std::time::Duration;

/// Parses a friendly duration such as `10s` or `1m 30s` (jiff's friendly format, which also
/// accepts ISO 8601 such as `PT10S`). Negative durations are rejected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let signed = match trimmed.parse::<jiff::SignedDuration>() {
        Ok(signed) => signed,
        // Days and weeks are calendar units to jiff, so they only parse as a span; for ages and
        // periods here a day is always 24 hours.
        Err(err) => trimmed
            .parse::<jiff::Span>()
            .ok()
            .and_then(|span| {
                span.to_duration(jiff::SpanRelativeTo::days_are_24_hours())
                    .ok()
            })
            .ok_or_else(|| {
                format!(
                    "invalid duration `{text}` ({err}); write it like `500ms`, `10s`, `5m`, \
                     `1h 30m` or `7d`"
                )
            })?,
    };
    Duration::try_from(signed)
        .map_err(|_| format!("invalid duration `{text}`: must not be negative"))
}

/// Formats a duration the way [`parse_duration`] reads it, such as `1m 30s`.
pub fn format_duration(duration: Duration) -> String {
    let signed = jiff::SignedDuration::try_from(duration).unwrap_or(jiff::SignedDuration::MAX);
    format!("{signed:#}")
}

/// Serde adapter for `Duration` fields written as friendly strings.
pub mod serde_friendly {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_duration(&text).map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format_duration(*duration))
    }
}

/// Serde adapter for `Option<Duration>` fields written as friendly strings.
pub mod serde_friendly_option {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => super::parse_duration(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m 30s").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(
            parse_duration("1w").unwrap(),
            Duration::from_secs(7 * 86_400)
        );
    }

    #[test]
    fn rejects_garbage_and_negative() {
        assert!(parse_duration("soon").unwrap_err().contains("soon"));
        assert!(parse_duration("-5s").is_err());
    }
}
