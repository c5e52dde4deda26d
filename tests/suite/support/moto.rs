//! A moto server (a local emulator of AWS APIs) on 127.0.0.1 for tests, run as a child process.
//!
//! The command is `$GOLIVE_TEST_MOTO_SERVER` when set, else `moto_server` on `PATH` (from
//! `pip install 'moto[server]'`). Dropping the server kills the child.
//!
//! [`aws_test_env`] points the AWS SDK of the test process at fake credentials and turns off the
//! instance metadata service, so nothing can reach a real AWS account.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Time moto gets to start listening; its first start imports many Python modules.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Region every test resource lives in.
pub const TEST_REGION: &str = "eu-west-1";

/// Account id moto uses for every resource.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// Environment variables the AWS SDK reads that could point it elsewhere than the test's moto.
const CLEARED_AWS_VARIABLES: &[&str] = &[
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_ENDPOINT_URL_SECURITYHUB",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// Sets fake credentials and disables the metadata service for this test process.
///
/// Every test calls it before starting a runtime or an SDK client, and `Once` makes the other
/// callers wait until the variables are set, so no thread reads the environment while it
/// changes.
pub fn aws_test_env() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        let missing_file = std::env::temp_dir().join("golive-test-no-aws-config");
        // SAFETY: see above; the variables are written once, before any test reads them.
        unsafe {
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
            std::env::set_var("AWS_CONFIG_FILE", &missing_file);
            std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &missing_file);
            for name in CLEARED_AWS_VARIABLES {
                std::env::remove_var(name);
            }
        }
    });
}

/// A running moto server.
pub struct MotoServer {
    child: Child,
    addr: SocketAddr,
}

impl MotoServer {
    /// Starts moto on a free port of 127.0.0.1 and waits until it accepts connections.
    pub fn start() -> MotoServer {
        let addr = free_local_addr();
        let program =
            std::env::var("GOLIVE_TEST_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let mut command = Command::new(&program);
        // SAFETY: prctl is async-signal-safe. It makes the kernel kill moto when the thread that
        // started it exits, so an aborted test process (where Drop never runs) leaves no server.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command
            .args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("{program} does not start ({err}); install it: pip install 'moto[server]'")
            });
        let mut server = MotoServer { child, addr };
        server.wait_until_listening();
        server
    }

    /// Returns the endpoint URL, such as `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("moto_server exited before listening: {status}");
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "moto_server did not listen on {} within {START_TIMEOUT:?}",
            self.addr
        );
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns an address of 127.0.0.1 with a port that was free a moment ago.
pub fn free_local_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address")
}

/// Returns an SDK configuration for creating test resources in moto with fake credentials.
pub async fn moto_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_test_env();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(TEST_REGION))
        .endpoint_url(endpoint)
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .load()
        .await
}

/// Upper bound for one AWS check in tests, so that a hung SDK call fails the test instead of
/// stalling it.
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Parses a check of `kind` from TOML settings, panicking with the settings error.
pub fn spec(kind: &str, settings: &str) -> golive::checks::CheckSpec {
    let table: toml::Table = toml::from_str(settings).expect("settings are TOML");
    golive::checks::parse_spec(kind, table).unwrap_or_else(|err| panic!("{kind} settings: {err:?}"))
}

/// Runs one attempt of a check with no secrets and [`CHECK_TIMEOUT`] as its timeout.
pub async fn run(spec: &golive::checks::CheckSpec) -> golive::checks::Probe {
    let ctx = golive::checks::ProbeContext {
        redactor: std::sync::Arc::new(golive::redact::Redactor::new()),
        timeout: CHECK_TIMEOUT,
        body_limit: 64 * 1024,
    };
    tokio::time::timeout(CHECK_TIMEOUT, spec.run(&ctx))
        .await
        .expect("check finishes within the hang guard")
}

/// Returns the settings lines that point a check at an endpoint on 127.0.0.1 in the test
/// region.
pub fn target(endpoint: &str) -> String {
    format!("region = \"{TEST_REGION}\"\nendpoint_url = \"{endpoint}\"\n")
}
