//! Check kinds that read the live state of AWS resources through the AWS SDK for Rust.
//!
//! Every kind names its AWS target with the same three settings: `region`, an optional
//! `profile`, and an optional `endpoint_url` (an empty value means the SDK's own endpoint
//! resolution). Credentials come from the SDK's standard chain: environment variables, the
//! shared config and credentials files, web identity, the container and the instance metadata
//! service. Clients are shared per target by [`client`].
//!
//! A failed SDK call is an [`Outcome::Error`](super::Outcome::Error), never a fail: the summary
//! names the service, the resource, the region and profile, and what to do about it.

pub mod alarms;
pub mod batch;
pub mod calls;
pub mod client;
pub mod cognito;
pub mod dashboards;
pub mod dynamodb;
pub mod guardduty;
pub mod kms;
pub mod lambda;
pub mod metric;
pub mod s3;
pub mod securityhub;
pub mod sns;

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use serde::{Deserialize, de};

use super::{Assertion, Probe};
use crate::checklist::{Checklist, ItemBody};
use crate::redact::Redactor;
use crate::sanitize::{terminal_safe, truncate_chars};

/// The region, profile and endpoint that an AWS check sends its requests to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AwsTarget {
    pub region: String,
    /// Named profile of the shared config files; `None` uses the SDK's default profile.
    pub profile: Option<String>,
    /// Endpoint that replaces the SDK's resolved one, such as a local emulator.
    pub endpoint_url: Option<String>,
}

impl AwsTarget {
    /// Builds a target from the raw settings, validating the region and the endpoint URL.
    pub fn new(
        region: &str,
        profile: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> Result<Self, String> {
        let region = region.trim();
        if region.is_empty() {
            return Err("`region` is empty; set it, for example `region = \"${region}\"`".into());
        }
        let valid_region = region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_region {
            return Err(format!(
                "invalid region `{region}`: expected a name such as `eu-west-1`"
            ));
        }
        let profile = profile
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_string);
        let endpoint_url = match endpoint_url
            .map(str::trim)
            .filter(|value| !value.is_empty())
        {
            None => None,
            Some(value) => {
                let parsed = url::Url::parse(value).map_err(|err| match err {
                    url::ParseError::RelativeUrlWithoutBase => format!(
                        "invalid `endpoint_url` `{value}`: it has no scheme; write it as \
                         `http://{value}` or `https://{value}`"
                    ),
                    err => format!("invalid `endpoint_url` `{value}`: {err}"),
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!(
                        "invalid `endpoint_url` `{value}`: the scheme must be http or https"
                    ));
                }
                // The SDK signs with the credential chain's keys and ignores user info, which
                // would only put a password into reports.
                if !parsed.username().is_empty() || parsed.password().is_some() {
                    return Err(format!(
                        "invalid `endpoint_url` `{}`: it holds a user name or password; remove \
                         them, AWS requests are signed with the keys of the credential chain",
                        without_credentials(&parsed)
                    ));
                }
                Some(value.to_string())
            }
        };
        Ok(AwsTarget {
            region: region.to_string(),
            profile,
            endpoint_url,
        })
    }

    /// Returns the label/value lines of the target for a check's description.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut lines = vec![("region".to_string(), self.region.clone())];
        if let Some(profile) = &self.profile {
            lines.push(("profile".into(), profile.clone()));
        }
        if let Some(endpoint) = &self.endpoint_url {
            lines.push(("endpoint".into(), endpoint.clone()));
        }
        lines
    }
}

/// Returns the URL with its user name and password left out.
fn without_credentials(url: &url::Url) -> String {
    let mut shown = url.clone();
    // Clearing them fails only for URLs without a host, which the caller rejected before.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// Shows the region and, when set, the profile, as in "eu-west-1 (profile launch)".
impl fmt::Display for AwsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.region)?;
        if let Some(profile) = &self.profile {
            write!(f, " (profile {profile})")?;
        }
        Ok(())
    }
}

/// Makes every AWS check of the checklist use `profile`, the one `[aws.profiles]` of config.toml
/// sets for the checklist's environment. Returns the number of checks changed.
pub fn use_profile(checklist: &mut Checklist, profile: &str) -> usize {
    let profile = profile.trim();
    if profile.is_empty() {
        return 0;
    }
    let mut changed = 0;
    for item in checklist
        .phases
        .iter_mut()
        .flat_map(|phase| &mut phase.items)
    {
        if let ItemBody::Check(check) = &mut item.body
            && let Some(target) = check.spec.aws_target_mut()
        {
            target.profile = Some(profile.to_string());
            changed += 1;
        }
    }
    changed
}

/// The raw target settings of a kind's `check` table, as deserialised before validation.
#[derive(Debug, Clone, Deserialize)]
struct RawTarget {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
}

/// Deserialises `region`, `profile` and `endpoint_url` from a kind's `check` table into an
/// [`AwsTarget`]. Kinds call it from their own `Deserialize` implementations.
fn target_from_raw<E: de::Error>(raw: RawTarget) -> Result<AwsTarget, E> {
    AwsTarget::new(
        &raw.region,
        raw.profile.as_deref(),
        raw.endpoint_url.as_deref(),
    )
    .map_err(E::custom)
}

/// Maximum number of characters of one AWS value shown in evidence.
const SHOWN_CHARS: usize = 300;

/// Returns a value from AWS or the settings as evidence text: masked, terminal-safe, bounded.
fn shown_text(text: &str, redactor: &Redactor) -> String {
    truncate_chars(&terminal_safe(&redactor.redact(text)), SHOWN_CHARS)
}

/// Returns the assertion that a named resource exists, such as "alarm api-5xx exists".
fn exists_assertion(noun: &str, name: &str, found: bool, redactor: &Redactor) -> Assertion {
    Assertion {
        subject: format!("{noun} {} exists", shown_text(name, redactor)),
        expected: "exists".into(),
        actual: if found { "exists" } else { "not found" }.into(),
        passed: found,
    }
}

/// The service, operation, resource and target of an SDK call, for its error summary.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    /// Service name as AWS writes it, such as "DynamoDB".
    pub service: &'a str,
    /// API operation, such as "DescribeTable".
    pub operation: &'a str,
    /// The resource, such as "table AuthBridgeTable".
    pub resource: &'a str,
    pub target: &'a AwsTarget,
}

/// Builds the error probe of a failed SDK call, naming the cause and what to do next.
pub fn error_probe<E>(err: &SdkError<E, HttpResponse>, call: CallContext<'_>) -> Probe
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    let summary = describe_sdk_error(err, call);
    tracing::debug!(
        service = call.service,
        operation = call.operation,
        resource = call.resource,
        region = %call.target.region,
        profile = call.target.profile.as_deref().unwrap_or("default"),
        error = %error_chain(err),
        "AWS call failed"
    );
    let mut probe = Probe::error(summary);
    probe.evidence.request.push(format!(
        "{} {} in {}",
        call.service, call.operation, call.target
    ));
    if let Some(endpoint) = &call.target.endpoint_url {
        probe.evidence.notes.push(format!("endpoint {endpoint}"));
    }
    // A failing credential helper's output can hold a secret, so it stays in the debug log.
    let detail = if has_credentials_error(err) {
        "the credential chain failed; GOLIVE_LOG=golive=debug logs the SDK's message".to_string()
    } else {
        format!("SDK error: {}", error_chain(err))
    };
    probe.evidence.notes.push(detail);
    probe
}

/// Returns one line that explains why an SDK call failed and what to do next.
fn describe_sdk_error<E>(err: &SdkError<E, HttpResponse>, call: CallContext<'_>) -> String
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    let CallContext {
        service,
        operation,
        resource,
        target,
    } = call;
    if has_credentials_error(err) {
        return format!(
            "no AWS credentials for {service} {operation} on {resource} in {target}: set \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, choose a profile with `profile` or \
             AWS_PROFILE, or sign in with `aws sso login`"
        );
    }
    match err {
        SdkError::TimeoutError(_) => format!(
            "{service} {operation} on {resource} in {target} timed out; check the network \
             path to the endpoint or raise the item's `timeout`"
        ),
        SdkError::DispatchFailure(failure) => {
            let endpoint = target
                .endpoint_url
                .as_deref()
                .unwrap_or("the regional endpoint");
            if failure.is_timeout() {
                format!(
                    "{service} {operation} on {resource} in {target} timed out connecting to \
                     {endpoint}; check the network path or the region"
                )
            } else {
                format!(
                    "{service} endpoint {endpoint} is unreachable for {operation} on {resource} \
                     in {target}; check the region, `endpoint_url` and the network"
                )
            }
        }
        SdkError::ServiceError(service_err) => {
            let inner = service_err.err();
            let status = service_err.raw().status().as_u16();
            match inner.code() {
                Some(code) => {
                    let message = inner.message().unwrap_or("no message");
                    describe_service_error(code, message, call)
                }
                None if status == 429 => format!(
                    "{service} throttled {operation} on {resource} in {target} (HTTP 429) after \
                     the SDK's retries; run the check again later or raise `interval`"
                ),
                // No AWS error code: the endpoint is not this service, or an emulator lacks
                // the operation or the protocol (moto sends an HTML 404 for CloudWatch's CBOR).
                None => format!(
                    "{service} {operation} on {resource} in {target}: the endpoint answered \
                     HTTP {status} without an AWS error; check that `endpoint_url` points at \
                     {service} and that it serves this operation"
                ),
            }
        }
        SdkError::ResponseError(_) => format!(
            "{service} {operation} on {resource} in {target} returned a response the SDK \
             could not read; check that `endpoint_url` points at {service}"
        ),
        _ => format!(
            "{service} {operation} on {resource} in {target} failed: {}",
            error_chain(err)
        ),
    }
}

/// Returns the summary for an error response of the service, by its error code.
fn describe_service_error(code: &str, message: &str, call: CallContext<'_>) -> String {
    let CallContext {
        service,
        operation,
        resource,
        target,
    } = call;
    let code_name = code.rsplit('#').next().unwrap_or(code);
    match code_name {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => format!(
            "access denied to {service} {operation} on {resource} in {target}: grant the \
             caller's role that action ({message})"
        ),
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "ProvisionedThroughputExceededException"
        | "LimitExceededException" => format!(
            "{service} throttled {operation} on {resource} in {target} after the SDK's \
             retries; run the check again later or raise `interval`"
        ),
        // S3 returns NoSuchBucket, KMS NotFoundException and SNS NotFound for an unknown
        // bucket, key or topic.
        "ResourceNotFoundException"
        | "ResourceNotFound"
        | "NoSuchBucket"
        | "NotFoundException"
        | "NotFound" => {
            format!("{resource} not found in {target}; check the name and the region")
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch" => {
            format!(
                "{service} rejected the credentials for {operation} on {resource} in {target} \
                 ({code_name}); refresh them or choose another profile"
            )
        }
        "InvalidAccessException" => format!(
            "{service} is not enabled for this account in {target} ({message}); enable it or \
             check the region"
        ),
        _ => format!(
            "{service} {operation} on {resource} in {target} failed: {code_name}: {message}"
        ),
    }
}

/// Returns the messages of an error and its sources, joined by ": ", terminal-safe and bounded.
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut messages = vec![err.to_string()];
    let mut current = err.source();
    while let Some(error) = current {
        let message = error.to_string();
        // Wrapping errors often repeat their source's message; keep each message once.
        if !messages.iter().any(|seen| seen.contains(&message)) {
            messages.push(message);
        }
        current = error.source();
    }
    truncate_chars(&terminal_safe(&messages.join(": ")), SHOWN_CHARS)
}

/// Returns whether the error chain contains a failure to load credentials.
fn has_credentials_error(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(error) = current {
        if error.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        current = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> AwsTarget {
        AwsTarget::new("af-south-1", Some("launch"), None).unwrap()
    }

    fn summary(code: &str) -> String {
        let target = target();
        let call = CallContext {
            service: "DynamoDB",
            operation: "DescribeTable",
            resource: "table AuthBridgeTable",
            target: &target,
        };
        describe_service_error(code, "message from AWS", call)
    }

    #[test]
    fn not_found_names_table_and_region() {
        assert_eq!(
            summary("ResourceNotFoundException"),
            "table AuthBridgeTable not found in af-south-1 (profile launch); check the name \
             and the region"
        );
    }

    #[test]
    fn access_denied_names_action() {
        let text = summary("AccessDeniedException");
        assert!(
            text.starts_with("access denied to DynamoDB DescribeTable"),
            "{text}"
        );
        assert!(text.contains("message from AWS"), "{text}");
    }

    #[test]
    fn throttling_mentions_retries() {
        let text = summary("ThrottlingException");
        assert!(text.contains("after the SDK's retries"), "{text}");
    }

    #[test]
    fn namespaced_code_is_recognised() {
        let text = summary("GraniteServiceVersion20100801#ResourceNotFound");
        assert!(
            text.starts_with("table AuthBridgeTable not found"),
            "{text}"
        );
    }

    #[test]
    fn rejected_credentials_say_refresh() {
        let text = summary("UnrecognizedClientException");
        assert!(text.contains("rejected the credentials"), "{text}");
    }

    #[test]
    fn target_trims_empty_values() {
        let target = AwsTarget::new(" eu-west-1 ", Some(""), Some(" ")).unwrap();
        assert_eq!(target.region, "eu-west-1");
        assert_eq!(target.profile, None);
        assert_eq!(target.endpoint_url, None);
    }

    #[test]
    fn target_rejects_bad_endpoint() {
        let result = AwsTarget::new("eu-west-1", None, Some("not a url"));
        assert!(result.is_err(), "{result:?}");
    }

    #[test]
    fn endpoint_without_scheme_suggests_http() {
        let message = AwsTarget::new("eu-west-1", None, Some("127.0.0.1:5000"))
            .expect_err("an endpoint without a scheme is rejected");
        assert!(
            message.contains("write it as `http://127.0.0.1:5000`"),
            "{message}"
        );
    }

    #[test]
    fn target_rejects_credentials_in_endpoint() {
        let message = AwsTarget::new("eu-west-1", None, Some("http://user:hunter2@127.0.0.1:9"))
            .expect_err("user info is rejected");
        assert!(
            message.contains("holds a user name or password"),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
        assert!(!message.contains("user:"), "{message}");
    }
}
