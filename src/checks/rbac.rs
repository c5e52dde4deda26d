//! The `rbac` check kind: a matrix of roles and actions with the expected status in each cell.

use serde::Deserialize;

use super::{Probe, ProbeContext};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["url"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &[];

/// Settings of the check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbacCheck {
    pub url: String,
}

impl RbacCheck {
    pub async fn run(&self, _ctx: &ProbeContext) -> Probe {
        Probe::error("this check kind is being built")
    }

    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        vec![("url".into(), redactor.redact(&self.url))]
    }
}
