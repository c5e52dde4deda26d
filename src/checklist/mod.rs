//! The checklist model: phases of items, each a manual step or an automated check.
//!
//! A [`Checklist`] is always resolved for one environment: every `${...}` variable has been
//! replaced and every secret is known to the [`Redactor`] so that it can be masked on output.

pub mod diagnostic;
pub mod loader;
pub mod vars;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checks::CheckSpec;
use crate::redact::Redactor;

/// A launch checklist resolved for one environment.
#[derive(Debug, Clone)]
pub struct Checklist {
    pub title: String,
    pub version: Option<String>,
    /// The planned launch time, which drives the T-minus clock.
    pub launch_at: Option<jiff::Timestamp>,
    /// The file the checklist was loaded from.
    pub path: PathBuf,
    /// SHA-256 of the checklist file's bytes, as lowercase hex.
    pub digest: String,
    /// The environment this checklist was resolved for.
    pub environment: String,
    /// Every environment the file defines, in file order.
    pub environments: Vec<String>,
    pub phases: Vec<Phase>,
    /// Masks every secret value the checklist resolved.
    pub redactor: Arc<Redactor>,
    /// Every secret value the checklist resolved, with a shell expression that reads it from
    /// its source, so that copied commands can refer to a secret without containing it.
    pub secret_refs: Vec<SecretRef>,
}

/// A resolved secret and the shell expression that reads it again from its source, such as
/// `"$ADMIN_TOKEN"` or `"$(cat ~/.config/authbridge/token)"`.
///
/// `Debug` shows only the shell expression, so the value never reaches logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub value: String,
    /// A double-quoted shell word that expands to the value.
    pub shell: String,
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SecretRef")
            .field("shell", &self.shell)
            .finish_non_exhaustive()
    }
}

/// An ordered group of items, such as "RBAC deployment".
#[derive(Debug, Clone)]
pub struct Phase {
    pub id: String,
    pub title: String,
    pub items: Vec<Item>,
}

/// One line of the checklist.
#[derive(Debug, Clone)]
pub struct Item {
    /// Unique across the whole checklist.
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub severity: Severity,
    /// Whether the item must be passed or done for a GO verdict.
    pub required: bool,
    /// The role that owns the item, such as "qa" or "lead".
    pub owner: Option<String>,
    /// Ids of items that must be satisfied before this one can run or be ticked.
    pub depends_on: Vec<String>,
    pub body: ItemBody,
}

/// The body of an item: a step a person does, or a check golive runs.
#[derive(Debug, Clone)]
pub enum ItemBody {
    Manual(ManualSteps),
    Check(CheckDef),
}

/// The steps of a manual item and the result a person should see.
#[derive(Debug, Clone, Default)]
pub struct ManualSteps {
    pub steps: Vec<String>,
    pub expected: Option<String>,
    /// A request that a person sends on demand while doing the steps.
    pub request: Option<ManualRequest>,
}

/// An `http` request attached to a manual item. Sending it records the evidence but never
/// decides the item: a person still marks it done or failed.
#[derive(Debug, Clone)]
pub struct ManualRequest {
    /// Always an `http` spec: the loader accepts no other kind here.
    pub spec: CheckSpec,
    /// Time allowed for the request, from `[defaults] timeout`.
    pub timeout: Duration,
    /// Reasons the request cannot be sent, such as a secret whose source is not set.
    pub unavailable: Vec<String>,
}

/// An automated check with its scheduling settings.
#[derive(Debug, Clone)]
pub struct CheckDef {
    pub spec: CheckSpec,
    /// Time allowed for one attempt.
    pub timeout: Duration,
    /// Extra attempts after an error outcome; a fail outcome is never retried.
    pub retries: u32,
    /// Re-run period for live items; `None` runs the check once per request.
    pub interval: Option<Duration>,
    /// Reasons the check cannot run at all, such as a secret whose source is not set.
    /// A non-empty list makes every run an error outcome with these reasons.
    pub unavailable: Vec<String>,
}

/// The impact of an item that is not satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl Checklist {
    /// Iterates over every item of every phase in checklist order.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.phases.iter().flat_map(|phase| phase.items.iter())
    }

    /// Finds an item by id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items().find(|item| item.id == id)
    }
}

impl Item {
    pub fn is_manual(&self) -> bool {
        matches!(self.body, ItemBody::Manual(_))
    }

    /// Returns the request of a manual item, if it has one.
    pub fn manual_request(&self) -> Option<&ManualRequest> {
        match &self.body {
            ItemBody::Manual(manual) => manual.request.as_ref(),
            ItemBody::Check(_) => None,
        }
    }

    pub fn check(&self) -> Option<&CheckDef> {
        match &self.body {
            ItemBody::Check(check) => Some(check),
            ItemBody::Manual(_) => None,
        }
    }
}

/// Sign-offs a launch needs and risk accepted up front, read from `[[signoffs]]`,
/// `[[waivers]]` and the waivers file beside the checklist.
///
/// It is kept apart from [`Checklist`] so that code building a checklist by hand needs no
/// change; [`loader::load`] returns it in [`loader::Loaded::policy`] and
/// [`loader::load_policy`] reads it again for a loaded checklist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchPolicy {
    pub signoffs: Vec<SignOffSpec>,
    pub waivers: Vec<WaiverSpec>,
}

/// A sign-off the launch needs, such as QA approving the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOffSpec {
    /// Unique among the sign-offs.
    pub id: String,
    pub title: String,
    /// The role that gives it, such as `qa` or `lead`.
    pub role: String,
    /// Ids of phases whose required items must all be satisfied or waived before signing.
    pub after: Vec<String>,
}

/// How much risk a waiver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Critical,
    High,
    Medium,
    Low,
}

impl Risk {
    /// Every rating, from the worst.
    pub const ALL: [Risk; 4] = [Risk::Critical, Risk::High, Risk::Medium, Risk::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Critical => "critical",
            Risk::High => "high",
            Risk::Medium => "medium",
            Risk::Low => "low",
        }
    }

    /// Parses a rating written in any letter case.
    pub fn parse(text: &str) -> Option<Risk> {
        Risk::ALL
            .into_iter()
            .find(|risk| risk.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// Accepted risk on one item, or on some findings of a `report` item: while it has not
/// expired, the item counts toward GO and is shown as waived, or the findings are not counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverSpec {
    pub item: String,
    /// Finding keys (`rule@location`) or rule ids of the item's report that the waiver covers;
    /// empty for a waiver of the whole item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    pub reason: String,
    pub risk: Risk,
    /// The measure that limits the damage while the item is not satisfied.
    pub control: String,
    /// From this time on, the waiver no longer counts.
    pub expires: jiff::Timestamp,
    /// `Name <email>` or a name.
    pub requested_by: String,
    /// `Name <email>` or a name; never the requester.
    pub approved_by: String,
}

impl WaiverSpec {
    /// Returns whether the waiver covers findings of a report rather than the whole item.
    pub fn is_for_findings(&self) -> bool {
        !self.findings.is_empty()
    }
}

/// Returns the email between `<` and `>` of `Name <email>`, or `None` when there is none.
fn email_of(person: &str) -> Option<&str> {
    let start = person.find('<')?;
    let end = person[start..].find('>')? + start;
    let email = person[start + 1..end].trim();
    (!email.is_empty()).then_some(email)
}

/// Whether two `Name <email>` strings name the same person: the emails compared
/// case-insensitively when both have one, else the names, trimmed.
pub fn same_person(left: &str, right: &str) -> bool {
    match (email_of(left), email_of(right)) {
        (Some(left), Some(right)) => left.eq_ignore_ascii_case(right),
        _ => {
            let name = |person: &str| person.split('<').next().unwrap_or("").trim().to_lowercase();
            name(left) == name(right)
        }
    }
}

/// Parses an RFC 3339 time that carries its UTC offset, such as `2026-02-16T08:00:00+02:00`.
/// A time without an offset is rejected because it would mean a different instant in every
/// time zone.
pub fn parse_rfc3339(text: &str) -> Result<jiff::Timestamp, String> {
    let text = text.trim();
    let has_offset = jiff::fmt::temporal::Pieces::parse(text)
        .is_ok_and(|pieces| pieces.time().is_some() && pieces.offset().is_some());
    if !has_offset {
        return Err(format!(
            "`{text}` is not an RFC 3339 time with a UTC offset, such as \
             \"2026-02-16T08:00:00+02:00\""
        ));
    }
    text.parse::<jiff::Timestamp>()
        .map_err(|err| format!("`{text}` is not a valid time: {err}"))
}
