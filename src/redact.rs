//! Masking of secret values before text is shown, logged or stored.

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

/// Replaces every known secret value in a text with [`MASK`].
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Secret values, longest first so that a secret containing another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value. Values shorter than 4 bytes are ignored because masking them
    /// would mangle ordinary text and they protect nothing.
    pub fn add(&mut self, secret: &str) {
        if secret.len() < 4 || self.secrets.iter().any(|known| known == secret) {
            return;
        }
        self.secrets.push(secret.to_string());
        self.secrets
            .sort_by_key(|known| std::cmp::Reverse(known.len()));
    }

    /// Returns the text with every registered secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
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

/// Whether a header carries credentials by its name alone.
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
    fn authorization_header_masked_whole() {
        let redactor = Redactor::new();
        assert_eq!(redactor.redact_header("Authorization", "Bearer abc"), MASK);
        assert_eq!(redactor.redact_header("Accept", "text/plain"), "text/plain");
    }
}
