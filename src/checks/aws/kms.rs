//! The `kms_key` check kind: KMS keys exist and have the expected state, rotation and manager.
//!
//! Each key is named by key id, key ARN, alias name (`alias/NAME`) or alias ARN. DescribeKey
//! resolves it, and GetKeyRotationStatus runs with the resolved key id only when
//! `expect.rotation` is set.

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::types::{KeyManagerType, KeyState};
use serde::Deserialize;

use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext,
};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "key", "keys", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["enabled", "rotation", "key_manager"];

/// Error code of GetKeyRotationStatus for keys whose spec or origin has no automatic rotation,
/// such as asymmetric, HMAC and imported keys.
const ROTATION_UNSUPPORTED_CODE: &str = "UnsupportedOperationException";
/// Error code of KMS for a key whose state does not allow the operation, such as a key pending
/// deletion.
const INVALID_STATE_CODE: &str = "KMSInvalidStateException";

/// Settings of a `kms_key` check.
#[derive(Debug, Clone)]
pub struct KeyCheck {
    pub target: AwsTarget,
    /// The keys as written in the checklist, each checked on its own.
    pub keys: Vec<String>,
    pub expect: KeyExpect,
}

/// Expectations of a `kms_key` check, besides each key existing. Each is checked only when set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyExpect {
    /// Whether the key state must be `Enabled` (`true`) or anything else (`false`).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Required state of automatic key rotation.
    #[serde(default)]
    pub rotation: Option<bool>,
    #[serde(default)]
    pub key_manager: Option<KeyManagerSetting>,
}

/// Manager of a key (its `KeyManager`), as written in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum KeyManagerSetting {
    #[serde(rename = "CUSTOMER")]
    Customer,
    #[serde(rename = "AWS")]
    Aws,
}

impl KeyManagerSetting {
    fn as_str(self) -> &'static str {
        match self {
            KeyManagerSetting::Customer => "CUSTOMER",
            KeyManagerSetting::Aws => "AWS",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    keys: Option<Vec<String>>,
    #[serde(default)]
    expect: KeyExpect,
}

impl<'de> Deserialize<'de> for KeyCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawKeyCheck::deserialize(deserializer)?;
        let target = target_from_raw(RawTarget {
            region: raw.region,
            profile: raw.profile,
            endpoint_url: raw.endpoint_url,
        })?;
        let keys = match (raw.key, raw.keys) {
            (Some(_), Some(_)) => {
                return Err(D::Error::custom("set either `key` or `keys`, not both"));
            }
            (None, None) => {
                return Err(D::Error::custom(
                    "missing `key`; set a key id, key ARN or `alias/NAME`, or list several in \
                     `keys`",
                ));
            }
            (Some(key), None) => vec![key],
            (None, Some(keys)) => {
                if keys.is_empty() {
                    return Err(D::Error::custom("`keys` is empty; list at least one key"));
                }
                keys
            }
        };
        let keys: Vec<String> = keys.iter().map(|key| key.trim().to_string()).collect();
        if keys.iter().any(String::is_empty) {
            return Err(D::Error::custom(
                "a key name is empty; write a key id, key ARN or `alias/NAME`",
            ));
        }
        Ok(KeyCheck {
            target,
            keys,
            expect: raw.expect,
        })
    }
}

/// The results of DescribeKey and GetKeyRotationStatus for one key.
struct KeyView {
    key_id: String,
    state: String,
    manager: String,
    /// Rotation as shown: `enabled`, `disabled`, or why it is not known; `None` when not read.
    rotation: Option<String>,
}

impl KeyCheck {
    /// Describes each key, reads its rotation status when expected, and compares them.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::kms(&self.target, ctx.timeout).await;
        let mut evidence = Evidence::default();
        let mut table = EvidenceTable {
            title: "keys".into(),
            columns: vec![
                "key id".into(),
                "state".into(),
                "key manager".into(),
                "rotation".into(),
            ],
            rows: Vec::new(),
        };
        for key in &self.keys {
            let view = match self.read_key(&client, key, &mut evidence).await {
                Ok(view) => view,
                Err(probe) => return probe,
            };
            let (row, assertions) = self.evaluate_key(key, &view, &ctx.redactor);
            table.rows.push(row);
            evidence.assertions.extend(assertions);
        }
        evidence.tables.push(table);
        Probe::from_assertions(evidence)
    }

    /// Reads one key, or returns the error probe of the failed call.
    async fn read_key(
        &self,
        client: &aws_sdk_kms::Client,
        key: &str,
        evidence: &mut Evidence,
    ) -> Result<KeyView, Probe> {
        let resource = format!("key {key}");
        let call = |operation| CallContext {
            service: "KMS",
            operation,
            resource: &resource,
            target: &self.target,
        };
        let output = client
            .describe_key()
            .key_id(key)
            .send()
            .await
            .map_err(|err| error_probe(&err, call("DescribeKey")))?;
        evidence
            .request
            .push(format!("KMS DescribeKey {key} in {}", self.target));
        let Some(metadata) = output.key_metadata() else {
            return Err(Probe::error(format!(
                "KMS DescribeKey returned no metadata for {resource} in {}",
                self.target
            )));
        };
        let state = metadata.key_state().map_or("unknown", KeyState::as_str);
        let mut view = KeyView {
            key_id: metadata.key_id().to_string(),
            state: state.to_string(),
            manager: metadata
                .key_manager()
                .map_or("unknown", KeyManagerType::as_str)
                .to_string(),
            rotation: None,
        };
        if self.expect.rotation.is_some() {
            // GetKeyRotationStatus takes a key id or key ARN but no alias.
            let rotation = match client
                .get_key_rotation_status()
                .key_id(&view.key_id)
                .send()
                .await
            {
                Ok(output) => if output.key_rotation_enabled() {
                    "enabled"
                } else {
                    "disabled"
                }
                .to_string(),
                Err(err) if service_code(&err) == Some(ROTATION_UNSUPPORTED_CODE) => {
                    "not supported for this key".to_string()
                }
                Err(err) if service_code(&err) == Some(INVALID_STATE_CODE) => {
                    format!("unknown in key state {state}")
                }
                Err(err) => return Err(error_probe(&err, call("GetKeyRotationStatus"))),
            };
            evidence.request.push(format!(
                "KMS GetKeyRotationStatus {} in {}",
                view.key_id, self.target
            ));
            view.rotation = Some(rotation);
        }
        Ok(view)
    }

    /// Returns the evidence row and the assertions of one key.
    fn evaluate_key(
        &self,
        key: &str,
        view: &KeyView,
        redactor: &Redactor,
    ) -> (EvidenceRow, Vec<Assertion>) {
        let name = shown_text(key, redactor);
        let state = shown_text(&view.state, redactor);
        let manager = shown_text(&view.manager, redactor);
        let mut assertions = Vec::new();

        let state_passed = self
            .expect
            .enabled
            .map(|expected| (view.state == "Enabled") == expected);
        if let (Some(expected), Some(passed)) = (self.expect.enabled, state_passed) {
            assertions.push(Assertion {
                subject: format!("key {name} state"),
                expected: if expected { "Enabled" } else { "not Enabled" }.into(),
                actual: state.clone(),
                passed,
            });
        }

        let rotation_passed = self.expect.rotation.map(|expected| {
            let enabled = view.rotation.as_deref() == Some("enabled");
            enabled == expected
        });
        let rotation = view.rotation.as_deref().unwrap_or("not read");
        if let (Some(expected), Some(passed)) = (self.expect.rotation, rotation_passed) {
            assertions.push(Assertion {
                subject: format!("key {name} rotation"),
                expected: if expected { "enabled" } else { "disabled" }.into(),
                actual: rotation.into(),
                passed,
            });
        }

        let manager_passed = self
            .expect
            .key_manager
            .map(|expected| view.manager == expected.as_str());
        if let (Some(expected), Some(passed)) = (self.expect.key_manager, manager_passed) {
            assertions.push(Assertion {
                subject: format!("key {name} key manager"),
                expected: expected.as_str().into(),
                actual: manager.clone(),
                passed,
            });
        }

        // A key with no expectation set still counts as found by DescribeKey.
        if assertions.is_empty() {
            assertions.push(Assertion {
                subject: format!("key {name}"),
                expected: "exists".into(),
                actual: "exists".into(),
                passed: true,
            });
        }

        let row = EvidenceRow {
            label: name,
            cells: vec![
                EvidenceCell {
                    text: shown_text(&view.key_id, redactor),
                    passed: None,
                },
                EvidenceCell {
                    text: state,
                    passed: state_passed,
                },
                EvidenceCell {
                    text: manager,
                    passed: manager_passed,
                },
                EvidenceCell {
                    text: rotation.into(),
                    passed: rotation_passed,
                },
            ],
        };
        (row, assertions)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        let label = if self.keys.len() == 1 { "key" } else { "keys" };
        lines.push((label.into(), shown_text(&self.keys.join(", "), redactor)));
        if let Some(enabled) = self.expect.enabled {
            let state = if enabled { "Enabled" } else { "not Enabled" };
            lines.push(("expect state".into(), state.into()));
        }
        if let Some(rotation) = self.expect.rotation {
            let text = if rotation { "enabled" } else { "disabled" };
            lines.push(("expect rotation".into(), text.into()));
        }
        if let Some(manager) = self.expect.key_manager {
            lines.push(("expect key manager".into(), manager.as_str().into()));
        }
        lines
    }
}

/// Returns the error code of a service error response, or `None` for other failures.
fn service_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
}
