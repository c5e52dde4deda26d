//! Shared AWS SDK configuration and clients, one per service and [`AwsTarget`].
//!
//! Loading an `SdkConfig` resolves the credentials provider chain and the region settings, and a
//! client contains a connection pool, so checks reuse both instead of building them per attempt.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use super::AwsTarget;
use super::calls::CountCalls;

/// Time a connection to an AWS endpoint may take before the attempt fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Values built once per key and reused, behind a lock held only for lookups and inserts.
struct Cache<K, V> {
    entries: Mutex<HashMap<K, V>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    fn new() -> Self {
        Cache {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still valid.
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        entries.get(key).cloned()
    }

    /// Inserts the value unless another task inserted one first, and returns the stored one.
    fn insert(&self, key: &K, value: V) -> V {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        entries.entry(key.clone()).or_insert(value).clone()
    }
}

/// A client's key: the target and the check's timeout, which the client applies to each call.
type ClientKey = (AwsTarget, Duration);

static CONFIGS: LazyLock<Cache<AwsTarget, SdkConfig>> = LazyLock::new(Cache::new);
/// Returns the timeouts of a client for checks with the given timeout: the whole call,
/// retries included, ends at the check's timeout, so the check reports it with its context.
fn timeouts(check_timeout: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(check_timeout))
        .operation_timeout(check_timeout)
        .build()
}

/// Returns the shared SDK configuration of the target, loading it on first use.
///
/// Loading reads the environment and the shared config files but sends no request: the
/// credentials are resolved on the first call of a client.
pub async fn sdk_config(target: &AwsTarget) -> SdkConfig {
    if let Some(config) = CONFIGS.get(target) {
        return config;
    }
    // rustls with ring, the crypto provider the rest of golive already builds.
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(target.region.clone()))
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        );
    // NOTE: the default chain tries environment keys before the profile, so AWS_ACCESS_KEY_ID
    // wins over `profile` (seen with aws-config 1.13).
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &target.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader.load().await;
    CONFIGS.insert(target, config)
}

/// Defines the cache and the accessor of one service's shared client. Every client applies the
/// check's timeout and counts its calls; `$customise` adjusts the config builder further.
macro_rules! shared_client {
    (
        $(#[$doc:meta])*
        $name:ident, $cache:ident, $sdk:ident,
        |$builder:ident, $target:ident| $customise:expr
    ) => {
        static $cache: LazyLock<Cache<ClientKey, $sdk::Client>> = LazyLock::new(Cache::new);

        $(#[$doc])*
        pub async fn $name(target: &AwsTarget, check_timeout: Duration) -> $sdk::Client {
            let key = (target.clone(), check_timeout);
            if let Some(client) = $cache.get(&key) {
                return client;
            }
            let $target = target;
            let $builder = $sdk::config::Builder::from(&sdk_config(target).await)
                .timeout_config(timeouts(check_timeout))
                .interceptor(CountCalls);
            let config = $customise.build();
            $cache.insert(&key, $sdk::Client::from_conf(config))
        }
    };
}

shared_client!(
    /// Returns the shared CloudWatch client of the target for checks with the given timeout.
    cloudwatch, CLOUDWATCH, aws_sdk_cloudwatch, |builder, _target| builder
);
shared_client!(
    /// Returns the shared DynamoDB client of the target for checks with the given timeout.
    dynamodb, DYNAMODB, aws_sdk_dynamodb, |builder, _target| builder
);
shared_client!(
    /// Returns the shared Security Hub client of the target for checks with the given timeout.
    securityhub, SECURITYHUB, aws_sdk_securityhub, |builder, _target| builder
);
shared_client!(
    /// Returns the shared S3 client of the target for checks with the given timeout.
    ///
    /// Virtual-hosted addressing puts the bucket in the host name (BUCKET.127.0.0.1:5000), which
    /// neither resolves nor reaches an emulator on an address, so an endpoint override uses
    /// path-style URLs (ENDPOINT/BUCKET).
    s3, S3, aws_sdk_s3,
    |builder, target| builder.force_path_style(target.endpoint_url.is_some())
);
shared_client!(
    /// Returns the shared GuardDuty client of the target for checks with the given timeout.
    guardduty, GUARDDUTY, aws_sdk_guardduty, |builder, _target| builder
);
shared_client!(
    /// Returns the shared KMS client of the target for checks with the given timeout.
    kms, KMS, aws_sdk_kms, |builder, _target| builder
);
shared_client!(
    /// Returns the shared Lambda client of the target for checks with the given timeout.
    lambda, LAMBDA, aws_sdk_lambda, |builder, _target| builder
);
shared_client!(
    /// Returns the shared SNS client of the target for checks with the given timeout.
    sns, SNS, aws_sdk_sns, |builder, _target| builder
);
shared_client!(
    /// Returns the shared Cognito user pools client of the target for checks with the given
    /// timeout.
    cognito, COGNITO, aws_sdk_cognitoidentityprovider, |builder, _target| builder
);

/// Stack size of the threads that run calls with very large response types.
const LARGE_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Runs a future to completion on a runtime whose threads have large stacks, and aborts it when
/// the returned future is dropped (such as at the check's timeout).
///
/// Security Hub's `AwsSecurityFinding` has hundreds of nested fields, and a GetFindings call of
/// a debug build overflowed a 2 MiB thread stack (aws-sdk-securityhub 1.137), the size of a
/// default tokio worker's stack.
pub async fn run_with_large_stack<F>(future: F) -> Result<F::Output, String>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("golive-aws")
            .thread_stack_size(LARGE_STACK_BYTES)
            .enable_all()
            .build()
            .map_err(|err| format!("cannot start the AWS runtime: {err}"))
    });
    let runtime = runtime.as_ref().map_err(Clone::clone)?;
    let mut task = AbortOnDrop(runtime.spawn(future));
    task.await_output().await
}

/// A spawned task that is aborted when its handle is dropped before it finishes.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn await_output(&mut self) -> Result<T, String> {
        (&mut self.0)
            .await
            .map_err(|err| format!("the AWS call task failed: {err}"))
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keeps_first_insert() {
        let cache: Cache<AwsTarget, u32> = Cache::new();
        let target = AwsTarget::new("eu-west-1", None, Some("http://127.0.0.1:9")).unwrap();
        assert_eq!(cache.insert(&target, 1), 1);
        assert_eq!(cache.insert(&target, 2), 1);
        assert_eq!(cache.get(&target), Some(1));
    }
}
