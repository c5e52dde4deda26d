//! The `cognito_user_pool` check kind: a Cognito user pool found by name, and its sign-in,
//! verification, MFA, password and deletion settings.
//!
//! Cognito addresses pools by id, which differs per environment, so the check finds the pool by
//! name with a paginated ListUserPools call, then reads its settings with DescribeUserPool. A
//! name that no pool or several pools have is an error, because the settings cannot be read.

use aws_sdk_cognitoidentityprovider::types::UserPoolType;
use serde::Deserialize;

use super::{AwsTarget, CallContext, RawTarget, client, error_probe, shown_text, target_from_raw};
use crate::checks::{Assertion, Evidence, Probe, ProbeContext};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &["region", "profile", "endpoint_url", "name", "expect"];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &[
    "username_attributes",
    "auto_verified_attributes",
    "mfa",
    "min_password_length",
    "deletion_protection",
    "first_auth_factors",
    "email_sending_account",
];

/// Maximum page size ListUserPools accepts.
const POOLS_PER_PAGE: i32 = 60;

/// Text of a setting that DescribeUserPool did not return.
const NOT_REPORTED: &str = "not reported";

/// Settings of a `cognito_user_pool` check.
#[derive(Debug, Clone)]
pub struct UserPoolCheck {
    pub target: AwsTarget,
    /// The pool's name, which must be unique in the region.
    pub name: String,
    pub expect: UserPoolExpect,
}

/// A user attribute that can be a username or be verified automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolAttribute {
    Email,
    PhoneNumber,
}

impl PoolAttribute {
    fn as_str(self) -> &'static str {
        match self {
            PoolAttribute::Email => "email",
            PoolAttribute::PhoneNumber => "phone_number",
        }
    }
}

/// A pool's MFA setting as written in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MfaSetting {
    Off,
    On,
    Optional,
}

impl MfaSetting {
    fn as_str(self) -> &'static str {
        match self {
            MfaSetting::Off => "OFF",
            MfaSetting::On => "ON",
            MfaSetting::Optional => "OPTIONAL",
        }
    }
}

/// A first sign-in factor of the pool's sign-in policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthFactorSetting {
    Password,
    EmailOtp,
    SmsOtp,
    WebAuthn,
}

impl AuthFactorSetting {
    fn as_str(self) -> &'static str {
        match self {
            AuthFactorSetting::Password => "PASSWORD",
            AuthFactorSetting::EmailOtp => "EMAIL_OTP",
            AuthFactorSetting::SmsOtp => "SMS_OTP",
            AuthFactorSetting::WebAuthn => "WEB_AUTHN",
        }
    }
}

/// The account a pool sends email from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EmailAccountSetting {
    /// Cognito's own sending account, with a low daily quota.
    CognitoDefault,
    /// An Amazon SES identity of the pool's owner.
    Developer,
}

impl EmailAccountSetting {
    fn as_str(self) -> &'static str {
        match self {
            EmailAccountSetting::CognitoDefault => "COGNITO_DEFAULT",
            EmailAccountSetting::Developer => "DEVELOPER",
        }
    }
}

/// Expectations of a `cognito_user_pool` check, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPoolExpect {
    /// The exact set of attributes users sign in with in place of a username.
    #[serde(default)]
    pub username_attributes: Option<Vec<PoolAttribute>>,
    /// The exact set of attributes Cognito verifies automatically.
    #[serde(default)]
    pub auto_verified_attributes: Option<Vec<PoolAttribute>>,
    #[serde(default)]
    pub mfa: Option<MfaSetting>,
    /// Minimum password length the pool's password policy must require at least.
    #[serde(default)]
    pub min_password_length: Option<u32>,
    #[serde(default)]
    pub deletion_protection: Option<bool>,
    /// The exact set of factors the sign-in policy allows as the first factor.
    #[serde(default)]
    pub first_auth_factors: Option<Vec<AuthFactorSetting>>,
    #[serde(default)]
    pub email_sending_account: Option<EmailAccountSetting>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUserPoolCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    name: String,
    #[serde(default)]
    expect: UserPoolExpect,
}

impl<'de> Deserialize<'de> for UserPoolCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawUserPoolCheck::deserialize(deserializer)?;
        let target = target_from_raw(RawTarget {
            region: raw.region,
            profile: raw.profile,
            endpoint_url: raw.endpoint_url,
        })?;
        let name = raw.name.trim().to_string();
        if name.is_empty() {
            return Err(D::Error::custom(
                "`name` is empty; set the user pool's name",
            ));
        }
        if raw
            .expect
            .min_password_length
            .is_some_and(|length| !(6..=99).contains(&length))
        {
            return Err(D::Error::custom(
                "`expect.min_password_length` must be between 6 and 99, the range Cognito \
                 accepts",
            ));
        }
        Ok(UserPoolCheck {
            target,
            name,
            expect: raw.expect,
        })
    }
}

impl UserPoolCheck {
    /// Finds the pool by name, describes it and compares its settings with the expectations.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::cognito(&self.target, ctx.timeout).await;
        let resource = format!("user pool {}", self.name);
        let call = |operation| CallContext {
            service: "Cognito",
            operation,
            resource: &resource,
            target: &self.target,
        };

        let mut ids = Vec::new();
        let mut pages = client
            .list_user_pools()
            .max_results(POOLS_PER_PAGE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(err) => return error_probe(&err, call("ListUserPools")),
            };
            ids.extend(
                page.user_pools()
                    .iter()
                    .filter(|pool| pool.name() == Some(self.name.as_str()))
                    .filter_map(|pool| pool.id().map(str::to_string)),
            );
        }
        let id = match ids.len() {
            0 => {
                return self.lookup_error(format!(
                    "{} not found in {}; check the name and the region",
                    shown_text(&resource, &ctx.redactor),
                    self.target
                ));
            }
            1 => ids.remove(0),
            count => {
                return self.lookup_error(format!(
                    "{count} user pools are named {} in {} (ids {}); the name must be unique, \
                     so rename or delete the extra pools",
                    shown_text(&self.name, &ctx.redactor),
                    self.target,
                    shown_text(&ids.join(", "), &ctx.redactor)
                ));
            }
        };

        let output = match client.describe_user_pool().user_pool_id(&id).send().await {
            Ok(output) => output,
            Err(err) => return error_probe(&err, call("DescribeUserPool")),
        };
        let Some(pool) = output.user_pool() else {
            return Probe::error(format!(
                "Cognito DescribeUserPool returned no description of {resource} ({id}) in {}",
                self.target
            ));
        };
        let mut evidence = self.evaluate(pool, &ctx.redactor);
        evidence
            .request
            .insert(0, format!("Cognito ListUserPools in {}", self.target));
        evidence.request.push(format!(
            "Cognito DescribeUserPool {} in {}",
            shown_text(&id, &ctx.redactor),
            self.target
        ));
        evidence
            .notes
            .push(format!("pool id {}", shown_text(&id, &ctx.redactor)));
        Probe::from_assertions(evidence)
    }

    fn lookup_error(&self, summary: String) -> Probe {
        let mut probe = Probe::error(summary);
        probe
            .evidence
            .request
            .push(format!("Cognito ListUserPools in {}", self.target));
        probe
    }

    /// Compares the described pool with each expectation. A setting the response lacks reads
    /// "not reported" and fails its expectation.
    fn evaluate(&self, pool: &UserPoolType, redactor: &Redactor) -> Evidence {
        let mut evidence = Evidence::default();
        let expect = &self.expect;

        // Cognito omits an empty attribute list, so an absent list reads as "none".
        if let Some(expected) = &expect.username_attributes {
            let actual = pool
                .username_attributes()
                .iter()
                .map(|attribute| attribute.as_str())
                .collect();
            evidence.assertions.push(set_assertion(
                "username attributes",
                &attribute_names(expected),
                Some(actual),
                redactor,
            ));
        }
        if let Some(expected) = &expect.auto_verified_attributes {
            let actual = pool
                .auto_verified_attributes()
                .iter()
                .map(|attribute| attribute.as_str())
                .collect();
            evidence.assertions.push(set_assertion(
                "auto-verified attributes",
                &attribute_names(expected),
                Some(actual),
                redactor,
            ));
        }
        if let Some(expected) = expect.mfa {
            let actual = pool.mfa_configuration().map(|mfa| mfa.as_str());
            evidence.assertions.push(Assertion {
                subject: "MFA".into(),
                expected: expected.as_str().into(),
                actual: reported(actual, redactor),
                passed: actual == Some(expected.as_str()),
            });
        }
        if let Some(expected) = expect.min_password_length {
            let actual = pool
                .policies()
                .and_then(|policies| policies.password_policy())
                .and_then(|policy| policy.minimum_length());
            evidence.assertions.push(Assertion {
                subject: "minimum password length".into(),
                expected: format!("at least {expected}"),
                actual: actual.map_or_else(|| NOT_REPORTED.into(), |length| length.to_string()),
                passed: actual.is_some_and(|length| i64::from(length) >= i64::from(expected)),
            });
        }
        if let Some(expected) = expect.deletion_protection {
            let actual = pool.deletion_protection().map(|setting| setting.as_str());
            let expected_text = if expected { "ACTIVE" } else { "INACTIVE" };
            evidence.assertions.push(Assertion {
                subject: "deletion protection".into(),
                expected: expected_text.into(),
                actual: reported(actual, redactor),
                passed: actual == Some(expected_text),
            });
        }
        if let Some(expected) = &expect.first_auth_factors {
            let factors: Vec<&str> = expected.iter().map(|factor| factor.as_str()).collect();
            let allowed = pool
                .policies()
                .and_then(|policies| policies.sign_in_policy())
                .map(|policy| {
                    policy
                        .allowed_first_auth_factors()
                        .iter()
                        .map(|factor| factor.as_str())
                        .collect()
                });
            evidence.assertions.push(set_assertion(
                "allowed first auth factors",
                &factors,
                allowed,
                redactor,
            ));
        }
        if let Some(expected) = expect.email_sending_account {
            let actual = pool
                .email_configuration()
                .and_then(|configuration| configuration.email_sending_account())
                .map(|account| account.as_str());
            evidence.assertions.push(Assertion {
                subject: "email sending account".into(),
                expected: expected.as_str().into(),
                actual: reported(actual, redactor),
                passed: actual == Some(expected.as_str()),
            });
        }
        if evidence.assertions.is_empty() {
            evidence.assertions.push(Assertion {
                subject: format!("user pool {}", shown_text(&self.name, redactor)),
                expected: "exists once".into(),
                actual: "exists once".into(),
                passed: true,
            });
        }
        evidence
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        lines.push(("user pool".into(), shown_text(&self.name, redactor)));
        let expect = &self.expect;
        if let Some(attributes) = &expect.username_attributes {
            lines.push(("expect username attributes".into(), list_text(attributes)));
        }
        if let Some(attributes) = &expect.auto_verified_attributes {
            lines.push((
                "expect auto-verified attributes".into(),
                list_text(attributes),
            ));
        }
        if let Some(mfa) = expect.mfa {
            lines.push(("expect MFA".into(), mfa.as_str().into()));
        }
        if let Some(length) = expect.min_password_length {
            lines.push((
                "expect minimum password length".into(),
                format!("at least {length}"),
            ));
        }
        if let Some(protection) = expect.deletion_protection {
            lines.push(("expect deletion protection".into(), protection.to_string()));
        }
        if let Some(factors) = &expect.first_auth_factors {
            let text = factors
                .iter()
                .map(|factor| factor.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            lines.push(("expect first auth factors".into(), text));
        }
        if let Some(account) = expect.email_sending_account {
            lines.push((
                "expect email sending account".into(),
                account.as_str().into(),
            ));
        }
        lines
    }
}

/// Returns an assertion that a list setting of the pool equals the expected set, ignoring
/// order and repeats. `None` means the response did not contain the setting.
fn set_assertion(
    subject: &str,
    expected: &[&str],
    actual: Option<Vec<&str>>,
    redactor: &Redactor,
) -> Assertion {
    let mut expected_set = expected.to_vec();
    expected_set.sort_unstable();
    expected_set.dedup();
    let seen = actual.map(|mut seen| {
        seen.sort_unstable();
        seen.dedup();
        seen
    });
    Assertion {
        subject: subject.into(),
        expected: joined_or_none(&expected_set),
        actual: match &seen {
            Some(seen) => shown_text(&joined_or_none(seen), redactor),
            None => NOT_REPORTED.into(),
        },
        passed: seen.as_ref() == Some(&expected_set),
    }
}

fn reported(value: Option<&str>, redactor: &Redactor) -> String {
    value.map_or_else(|| NOT_REPORTED.into(), |text| shown_text(text, redactor))
}

fn joined_or_none(values: &[&str]) -> String {
    if values.is_empty() {
        "none".into()
    } else {
        values.join(", ")
    }
}

fn attribute_names(attributes: &[PoolAttribute]) -> Vec<&'static str> {
    attributes
        .iter()
        .map(|attribute| attribute.as_str())
        .collect()
}

fn list_text(attributes: &[PoolAttribute]) -> String {
    joined_or_none(&attribute_names(attributes))
}
