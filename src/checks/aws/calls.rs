//! A process-wide count of the AWS API calls that golive's clients send, by endpoint, service
//! and operation.
//!
//! [`CountCalls`] is an SDK interceptor that every client of [`client`](super::client)
//! registers. It counts each attempt just before it is sent, so a call that the SDK retries
//! counts once per attempt.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

use aws_sdk_dynamodb::config::ConfigBag;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// Largest AWS response body a check reads. Security Hub's GetFindings pages of up to 100
/// findings are the largest responses golive requests; 32 MiB is an estimate of their ceiling.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// One counted kind of call: where it went and what it asked for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallKey {
    /// Host and port of the request URI, such as `dynamodb.eu-west-1.amazonaws.com` or
    /// `127.0.0.1:4566`.
    pub endpoint: String,
    /// Service name as the SDK's operation metadata writes it, such as `DynamoDB`.
    pub service: String,
    /// API operation, such as `DescribeTable`.
    pub operation: String,
}

/// A snapshot of the call counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Attempts sent per endpoint, service and operation.
    pub counts: BTreeMap<CallKey, u64>,
}

impl CallCounts {
    /// Returns the attempts of one operation, summed over every endpoint.
    pub fn operation(&self, operation: &str) -> u64 {
        self.counts
            .iter()
            .filter(|(key, _)| key.operation == operation)
            .map(|(_, count)| count)
            .sum()
    }

    /// Returns the attempts of one operation sent to one endpoint (`host:port`).
    pub fn at_endpoint(&self, endpoint: &str, operation: &str) -> u64 {
        self.counts
            .iter()
            .filter(|(key, _)| key.endpoint == endpoint && key.operation == operation)
            .map(|(_, count)| count)
            .sum()
    }

    /// Returns the attempts per service and operation, summed over every endpoint.
    pub fn by_operation(&self) -> BTreeMap<(String, String), u64> {
        let mut totals = BTreeMap::new();
        for (key, count) in &self.counts {
            let operation = (key.service.clone(), key.operation.clone());
            *totals.entry(operation).or_insert(0) += count;
        }
        totals
    }

    /// Returns the attempts counted since `earlier`, a snapshot taken before this one.
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        let counts = self
            .counts
            .iter()
            .map(|(key, count)| {
                let before = earlier.counts.get(key).copied().unwrap_or(0);
                (key.clone(), count.saturating_sub(before))
            })
            .filter(|(_, count)| *count > 0)
            .collect();
        CallCounts { counts }
    }

    /// Returns the number of attempts of every operation together.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

static COUNTS: LazyLock<Mutex<BTreeMap<CallKey, u64>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

/// Returns a snapshot of the AWS API calls sent by this process so far.
pub fn call_counts() -> CallCounts {
    // A poisoned lock only means a thread panicked mid-increment; the counts are still valid.
    let counts = COUNTS.lock().unwrap_or_else(|poison| poison.into_inner());
    CallCounts {
        counts: counts.clone(),
    }
}

/// Logs the call counts at debug level, one line per endpoint, service and operation.
pub fn log_call_counts() {
    for (key, count) in call_counts().counts {
        tracing::debug!(
            endpoint = %key.endpoint,
            service = %key.service,
            operation = %key.operation,
            count,
            "AWS API calls"
        );
    }
}

/// The SDK interceptor that increments the counter of each attempt's operation.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountCalls;

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "golive::CountCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(metadata) => (metadata.service().to_string(), metadata.name().to_string()),
            None => ("unknown".to_string(), "unknown".to_string()),
        };
        let endpoint = url::Url::parse(context.request().uri())
            .ok()
            .map(|uri| match (uri.host_str(), uri.port_or_known_default()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_string(),
                _ => "unknown".to_string(),
            })
            .unwrap_or_else(|| "unknown".to_string());
        let key = CallKey {
            endpoint,
            service,
            operation,
        };
        let mut counts = COUNTS.lock().unwrap_or_else(|poison| poison.into_inner());
        *counts.entry(key).or_insert(0) += 1;
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The SDK reads a whole response before it parses it, so a response that never ends
        // would grow memory until the timeout. Past the cap, reading fails with an error.
        let response = context.response_mut();
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = body.map(|body| {
            SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_RESPONSE_BYTES))
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(endpoint: &str, operation: &str) -> CallKey {
        CallKey {
            endpoint: endpoint.into(),
            service: "cloudwatch".into(),
            operation: operation.into(),
        }
    }

    #[test]
    fn since_subtracts_earlier_counts() {
        let earlier = CallCounts {
            counts: BTreeMap::from([(key("a:1", "DescribeAlarms"), 2)]),
        };
        let later = CallCounts {
            counts: BTreeMap::from([
                (key("a:1", "DescribeAlarms"), 5),
                (key("b:2", "DescribeAlarms"), 1),
            ]),
        };
        let delta = later.since(&earlier);
        assert_eq!(delta.at_endpoint("a:1", "DescribeAlarms"), 3);
        assert_eq!(delta.at_endpoint("b:2", "DescribeAlarms"), 1);
        assert_eq!(delta.operation("DescribeAlarms"), 4);
        assert_eq!(delta.total(), 4);
    }
}
