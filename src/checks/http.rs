//! The `http` check kind: one request, with expectations on status, latency, body and headers.

use serde::Deserialize;

use super::{Probe, ProbeContext};
use crate::redact::Redactor;

/// Settings of an `http` check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    pub url: String,
}

impl HttpCheck {
    pub async fn run(&self, _ctx: &ProbeContext) -> Probe {
        Probe::error("http check not implemented yet")
    }

    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        vec![("url".into(), redactor.redact(&self.url))]
    }
}
