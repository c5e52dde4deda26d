//! The `s3_bucket` check kind: a bucket exists in the target region, and its default
//! encryption, public access block, versioning and lifecycle rules are as expected.
//!
//! GetBucketLocation always runs and decides whether the bucket exists. Each other call runs
//! only when an expectation needs it. A bucket without an encryption, public access block or
//! lifecycle configuration is a fail of that expectation, not an error.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, ExpirationStatus, LifecycleRule,
    PublicAccessBlockConfiguration, ServerSideEncryptionByDefault,
};
use serde::Deserialize;

use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext,
};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "bucket", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &[
    "encryption",
    "kms_key",
    "public_access_blocked",
    "versioning",
    "lifecycle_rules",
];

/// Error code of GetBucketEncryption for a bucket without a default encryption configuration.
const NO_ENCRYPTION_CODE: &str = "ServerSideEncryptionConfigurationNotFoundError";
/// Error code of GetPublicAccessBlock for a bucket without a public access block.
const NO_PUBLIC_ACCESS_BLOCK_CODE: &str = "NoSuchPublicAccessBlockConfiguration";
/// Error code of GetBucketLifecycleConfiguration for a bucket without lifecycle rules.
const NO_LIFECYCLE_CODE: &str = "NoSuchLifecycleConfiguration";

/// Settings of an `s3_bucket` check.
#[derive(Debug, Clone)]
pub struct BucketCheck {
    pub target: AwsTarget,
    pub bucket: String,
    pub expect: BucketExpect,
}

/// Expectations of an `s3_bucket` check, besides the bucket existing in the target region.
/// Each is checked only when set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketExpect {
    /// Server-side encryption algorithm of the bucket's default encryption rule.
    #[serde(default)]
    pub encryption: Option<EncryptionSetting>,
    /// Text the KMS key id or ARN of the default encryption rule must contain.
    #[serde(default)]
    pub kms_key: Option<String>,
    /// Required state of the public access block: `true` means all four of its flags are true.
    #[serde(default)]
    pub public_access_blocked: Option<bool>,
    #[serde(default)]
    pub versioning: Option<VersioningSetting>,
    /// Minimum number of lifecycle rules whose status is `Enabled`.
    #[serde(default)]
    pub lifecycle_rules: Option<u32>,
}

/// Default encryption algorithm as written in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EncryptionSetting {
    /// SSE-KMS, including dual-layer SSE-KMS (`aws:kms:dsse`).
    #[serde(rename = "aws:kms")]
    Kms,
    /// SSE-S3 with keys that S3 manages.
    #[serde(rename = "AES256")]
    Aes256,
    /// Any default encryption rule.
    #[serde(rename = "any")]
    Any,
}

impl EncryptionSetting {
    fn as_str(self) -> &'static str {
        match self {
            EncryptionSetting::Kms => "aws:kms",
            EncryptionSetting::Aes256 => "AES256",
            EncryptionSetting::Any => "any",
        }
    }

    /// Returns whether a rule's SSE algorithm meets this setting; `None` means no rule.
    fn accepts(self, algorithm: Option<&str>) -> bool {
        match (self, algorithm) {
            (_, None) => false,
            (EncryptionSetting::Any, Some(_)) => true,
            (EncryptionSetting::Kms, Some(algorithm)) => {
                algorithm == "aws:kms" || algorithm == "aws:kms:dsse"
            }
            (EncryptionSetting::Aes256, Some(algorithm)) => algorithm == "AES256",
        }
    }
}

/// Versioning state as written in the checklist; `Disabled` means never enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum VersioningSetting {
    Enabled,
    Suspended,
    Disabled,
}

impl VersioningSetting {
    fn as_str(self) -> &'static str {
        match self {
            VersioningSetting::Enabled => "Enabled",
            VersioningSetting::Suspended => "Suspended",
            VersioningSetting::Disabled => "Disabled",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBucketCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    bucket: String,
    #[serde(default)]
    expect: BucketExpect,
}

impl<'de> Deserialize<'de> for BucketCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawBucketCheck::deserialize(deserializer)?;
        let target = target_from_raw(RawTarget {
            region: raw.region,
            profile: raw.profile,
            endpoint_url: raw.endpoint_url,
        })?;
        let bucket = raw.bucket.trim().to_string();
        if bucket.is_empty() {
            return Err(D::Error::custom(
                "`bucket` is empty; set the bucket name, such as \
                 `bucket = \"${documents_bucket}\"`",
            ));
        }
        if bucket.contains(['/', ' ']) {
            return Err(D::Error::custom(format!(
                "invalid `bucket` `{bucket}`: write the bucket name alone, without `s3://`, a \
                 key or spaces"
            )));
        }
        if raw
            .expect
            .kms_key
            .as_ref()
            .is_some_and(|key| key.trim().is_empty())
        {
            return Err(D::Error::custom(
                "`expect.kms_key` is empty; set text of the key ARN, such as `key/` or a key id",
            ));
        }
        if raw.expect.lifecycle_rules == Some(0) {
            return Err(D::Error::custom(
                "`expect.lifecycle_rules` is 0, which every bucket meets; set 1 or more, or \
                 remove it",
            ));
        }
        Ok(BucketCheck {
            target,
            bucket,
            expect: raw.expect,
        })
    }
}

/// The evidence of one setting: its table row and its assertion.
struct SettingResult {
    label: &'static str,
    expected: String,
    actual: String,
    passed: bool,
}

impl BucketCheck {
    /// Reads the bucket's location and each setting an expectation names, and compares them.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::s3(&self.target, ctx.timeout).await;
        let resource = format!("bucket {}", self.bucket);
        let call = |operation| CallContext {
            service: "S3",
            operation,
            resource: &resource,
            target: &self.target,
        };
        let redactor = &ctx.redactor;
        let mut evidence = Evidence::default();
        let mut results = Vec::new();

        let location = match client
            .get_bucket_location()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) => return error_probe(&err, call("GetBucketLocation")),
        };
        evidence
            .request
            .push(self.request_line("GetBucketLocation"));
        let region = bucket_region(location.location_constraint());
        results.push(SettingResult {
            label: "region",
            expected: self.target.region.clone(),
            passed: region == self.target.region,
            actual: shown_text(&region, redactor),
        });

        if self.expect.encryption.is_some() || self.expect.kms_key.is_some() {
            let default_rule = match client
                .get_bucket_encryption()
                .bucket(&self.bucket)
                .send()
                .await
            {
                Ok(output) => output
                    .server_side_encryption_configuration()
                    .and_then(|configuration| {
                        configuration
                            .rules()
                            .iter()
                            .find_map(|rule| rule.apply_server_side_encryption_by_default())
                    })
                    .cloned(),
                Err(err) if service_code(&err) == Some(NO_ENCRYPTION_CODE) => None,
                Err(err) => return error_probe(&err, call("GetBucketEncryption")),
            };
            evidence
                .request
                .push(self.request_line("GetBucketEncryption"));
            results.extend(self.evaluate_encryption(default_rule.as_ref(), redactor));
        }

        if let Some(expected) = self.expect.public_access_blocked {
            let block = match client
                .get_public_access_block()
                .bucket(&self.bucket)
                .send()
                .await
            {
                Ok(output) => output.public_access_block_configuration().cloned(),
                Err(err) if service_code(&err) == Some(NO_PUBLIC_ACCESS_BLOCK_CODE) => None,
                Err(err) => return error_probe(&err, call("GetPublicAccessBlock")),
            };
            evidence
                .request
                .push(self.request_line("GetPublicAccessBlock"));
            results.push(evaluate_public_access_block(expected, block.as_ref()));
        }

        if let Some(expected) = self.expect.versioning {
            let status = match client
                .get_bucket_versioning()
                .bucket(&self.bucket)
                .send()
                .await
            {
                Ok(output) => output.status().cloned(),
                Err(err) => return error_probe(&err, call("GetBucketVersioning")),
            };
            evidence
                .request
                .push(self.request_line("GetBucketVersioning"));
            // A bucket whose versioning was never enabled returns no status.
            let actual = status
                .as_ref()
                .map_or("Disabled", BucketVersioningStatus::as_str);
            results.push(SettingResult {
                label: "versioning",
                expected: expected.as_str().into(),
                actual: shown_text(actual, redactor),
                passed: actual == expected.as_str(),
            });
        }

        if let Some(minimum) = self.expect.lifecycle_rules {
            let rules = match client
                .get_bucket_lifecycle_configuration()
                .bucket(&self.bucket)
                .send()
                .await
            {
                Ok(output) => output.rules().to_vec(),
                Err(err) if service_code(&err) == Some(NO_LIFECYCLE_CODE) => Vec::new(),
                Err(err) => return error_probe(&err, call("GetBucketLifecycleConfiguration")),
            };
            evidence
                .request
                .push(self.request_line("GetBucketLifecycleConfiguration"));
            results.push(evaluate_lifecycle(minimum, &rules, redactor));
        }

        let mut table = EvidenceTable {
            title: "bucket settings".into(),
            columns: vec!["expected".into(), "actual".into()],
            rows: Vec::new(),
        };
        for result in results {
            table.rows.push(EvidenceRow {
                label: result.label.into(),
                cells: vec![
                    EvidenceCell {
                        text: result.expected.clone(),
                        passed: None,
                    },
                    EvidenceCell {
                        text: result.actual.clone(),
                        passed: Some(result.passed),
                    },
                ],
            });
            evidence.assertions.push(Assertion {
                subject: result.label.into(),
                expected: result.expected,
                actual: result.actual,
                passed: result.passed,
            });
        }
        evidence.tables.push(table);
        Probe::from_assertions(evidence)
    }

    fn request_line(&self, operation: &str) -> String {
        format!("S3 {operation} {} in {}", self.bucket, self.target)
    }

    /// Compares the default encryption rule, `None` when the bucket has none, with
    /// `expect.encryption` and `expect.kms_key`.
    fn evaluate_encryption(
        &self,
        rule: Option<&ServerSideEncryptionByDefault>,
        redactor: &Redactor,
    ) -> Vec<SettingResult> {
        let algorithm = rule.map(|rule| rule.sse_algorithm().as_str());
        let mut results = Vec::new();
        if let Some(expected) = self.expect.encryption {
            let expected_text = match expected {
                EncryptionSetting::Kms => "aws:kms or aws:kms:dsse".to_string(),
                EncryptionSetting::Aes256 => "AES256".to_string(),
                EncryptionSetting::Any => "a default encryption rule".to_string(),
            };
            results.push(SettingResult {
                label: "encryption",
                expected: expected_text,
                actual: shown_text(algorithm.unwrap_or("none"), redactor),
                passed: expected.accepts(algorithm),
            });
        }
        if let Some(needle) = &self.expect.kms_key {
            let key = rule.and_then(ServerSideEncryptionByDefault::kms_master_key_id);
            let actual = match (algorithm, key) {
                (None, _) => "no default encryption".to_string(),
                (Some(_), Some(key)) => shown_text(key, redactor),
                // SSE-KMS without a key id uses the AWS managed key `aws/s3`.
                (Some(algorithm), None) if algorithm.starts_with("aws:kms") => {
                    "AWS managed key aws/s3".to_string()
                }
                (Some(algorithm), None) => {
                    format!("no KMS key ({})", shown_text(algorithm, redactor))
                }
            };
            results.push(SettingResult {
                label: "KMS key",
                expected: format!("containing {}", shown_text(needle, redactor)),
                actual,
                passed: key.is_some_and(|key| key.contains(needle.as_str())),
            });
        }
        results
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push(("bucket".into(), shown_text(&self.bucket, redactor)));
        lines.push(("expect region".into(), self.target.region.clone()));
        if let Some(encryption) = self.expect.encryption {
            lines.push(("expect encryption".into(), encryption.as_str().into()));
        }
        if let Some(needle) = &self.expect.kms_key {
            lines.push((
                "expect KMS key containing".into(),
                shown_text(needle, redactor),
            ));
        }
        if let Some(blocked) = self.expect.public_access_blocked {
            lines.push(("expect public access blocked".into(), blocked.to_string()));
        }
        if let Some(versioning) = self.expect.versioning {
            lines.push(("expect versioning".into(), versioning.as_str().into()));
        }
        if let Some(minimum) = self.expect.lifecycle_rules {
            lines.push((
                "expect enabled lifecycle rules".into(),
                format!("at least {minimum}"),
            ));
        }
        lines
    }
}

/// Returns the error code of a service error response, or `None` for other failures.
fn service_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
}

/// Returns the region of a bucket from its location constraint. S3 returns no constraint for
/// us-east-1, and `EU` for buckets created in eu-west-1 with the legacy name.
fn bucket_region(constraint: Option<&BucketLocationConstraint>) -> String {
    match constraint.map(BucketLocationConstraint::as_str) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    }
}

/// Compares the bucket's public access block, `None` when it has none, with the expectation.
fn evaluate_public_access_block(
    expected: bool,
    block: Option<&PublicAccessBlockConfiguration>,
) -> SettingResult {
    let (all_blocked, actual) = match block {
        None => (false, "no public access block".to_string()),
        Some(block) => {
            let flags = [
                ("BlockPublicAcls", block.block_public_acls()),
                ("IgnorePublicAcls", block.ignore_public_acls()),
                ("BlockPublicPolicy", block.block_public_policy()),
                ("RestrictPublicBuckets", block.restrict_public_buckets()),
            ];
            let off: Vec<&str> = flags
                .iter()
                .filter(|(_, value)| *value != Some(true))
                .map(|(name, _)| *name)
                .collect();
            if off.is_empty() {
                (true, "all 4 flags true".to_string())
            } else {
                (false, format!("{} not true", off.join(", ")))
            }
        }
    };
    SettingResult {
        label: "public access block",
        expected: if expected {
            "all 4 flags true"
        } else {
            "not all 4 flags true"
        }
        .into(),
        actual,
        passed: all_blocked == expected,
    }
}

/// Counts the enabled lifecycle rules against the minimum, listing the ids of enabled rules.
fn evaluate_lifecycle(minimum: u32, rules: &[LifecycleRule], redactor: &Redactor) -> SettingResult {
    let enabled: Vec<&str> = rules
        .iter()
        .filter(|rule| *rule.status() == ExpirationStatus::Enabled)
        .map(|rule| rule.id().unwrap_or("(no id)"))
        .collect();
    let count = u32::try_from(enabled.len()).unwrap_or(u32::MAX);
    let mut actual = format!("{count} enabled");
    if !enabled.is_empty() {
        actual.push_str(&format!(": {}", shown_text(&enabled.join(", "), redactor)));
    }
    let disabled = rules.len() - enabled.len();
    if disabled > 0 {
        actual.push_str(&format!(" ({disabled} disabled)"));
    }
    SettingResult {
        label: "lifecycle rules",
        expected: format!("at least {minimum} enabled"),
        actual,
        passed: count >= minimum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_setting_accepts_dsse() {
        assert!(EncryptionSetting::Kms.accepts(Some("aws:kms")));
        assert!(EncryptionSetting::Kms.accepts(Some("aws:kms:dsse")));
        assert!(!EncryptionSetting::Kms.accepts(Some("AES256")));
        assert!(!EncryptionSetting::Any.accepts(None));
        assert!(EncryptionSetting::Any.accepts(Some("AES256")));
    }

    #[test]
    fn empty_location_is_us_east_1() {
        assert_eq!(bucket_region(None), "us-east-1");
        let legacy = BucketLocationConstraint::from("EU");
        assert_eq!(bucket_region(Some(&legacy)), "eu-west-1");
        let cape_town = BucketLocationConstraint::from("af-south-1");
        assert_eq!(bucket_region(Some(&cape_town)), "af-south-1");
    }

    #[test]
    fn missing_public_access_block_fails() {
        let result = evaluate_public_access_block(true, None);
        assert!(!result.passed);
        assert_eq!(result.actual, "no public access block");
    }
}
