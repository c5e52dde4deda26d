//! A built-in demo target: a small HTTP service that behaves like the staging deployment of an
//! identity-verification API, so that the demo checklist has something real to check.
//!
//! Some routes are healthy, one is slow, one fails, and the credentials are the made-up constants
//! below. The server only ever binds to the address its caller passes, which is a loopback
//! address in every caller golive has.

pub mod access;
pub mod aws;
pub mod hardening;
pub mod moto_bridge;
mod routes;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The API key the demo target accepts in `X-API-Key`. It is made up and protects nothing.
pub const DEMO_API_KEY: &str = "demo-key-not-a-secret-0001";

/// The bearer token of the demo target's admin client. It is made up and protects nothing.
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token-not-a-secret-0001";

/// A valid bearer token of another client (a partner portal) that has no admin rights, so that
/// admin routes return 403 for it rather than 401.
pub const DEMO_PARTNER_TOKEN: &str = "demo-partner-token-not-a-secret-0002";

/// Environment variable the demo checklist reads the API key secret from.
pub const API_KEY_VAR: &str = "GOLIVE_DEMO_API_KEY";

/// Environment variable the demo checklist reads the admin token secret from.
pub const ADMIN_TOKEN_VAR: &str = "GOLIVE_DEMO_ADMIN_TOKEN";

/// Environment variable the demo checklist reads the bearer token of the client `acme` from.
pub const ACME_TOKEN_VAR: &str = "GOLIVE_DEMO_ACME_TOKEN";

/// Environment variable the demo checklist reads the bearer token of the client `globex` from.
pub const GLOBEX_TOKEN_VAR: &str = "GOLIVE_DEMO_GLOBEX_TOKEN";

/// Environment variable the demo checklist reads the JWT signing key of the auth routes from.
pub const JWT_SIGNING_KEY_VAR: &str = "GOLIVE_DEMO_JWT_SIGNING_KEY";

/// Environment variables the demo checklist reads the RBAC role tokens from, by role.
pub const ROLE_TOKEN_VARS: [(&str, &str); 3] = [
    ("admin", "GOLIVE_DEMO_ADMIN_ROLE_TOKEN"),
    ("reviewer", "GOLIVE_DEMO_REVIEWER_ROLE_TOKEN"),
    ("viewer", "GOLIVE_DEMO_VIEWER_ROLE_TOKEN"),
];

/// Returns every environment variable the demo checklist reads its secrets from, with the
/// made-up value the demo target accepts, in a fixed order.
pub fn checklist_env() -> Vec<(&'static str, String)> {
    let mut vars = vec![
        (API_KEY_VAR, DEMO_API_KEY.to_string()),
        (ADMIN_TOKEN_VAR, DEMO_ADMIN_TOKEN.to_string()),
        (ACME_TOKEN_VAR, access::ACME_TOKEN.to_string()),
        (GLOBEX_TOKEN_VAR, access::GLOBEX_TOKEN.to_string()),
        (JWT_SIGNING_KEY_VAR, access::JWT_SIGNING_KEY.to_string()),
    ];
    for (role, var) in ROLE_TOKEN_VARS {
        vars.push((var, access::role_token(role)));
    }
    vars
}

/// The version the health routes report.
pub const DEMO_VERSION: &str = "3.2.0-staging";

/// Delay of `/api/v1/reports/slow` before it responds.
pub const SLOW_REPORT_DELAY: Duration = Duration::from_secs(3);

/// Maximum request body size in bytes. Larger bodies are rejected with 413.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Maximum time one request may take before the server responds 503 in its place.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A running demo target. Dropping it cancels the server task, while [`DemoServer::shutdown`]
/// stops it gracefully and lets requests in flight finish.
#[derive(Debug)]
pub struct DemoServer {
    /// The address the server listens on, with the port the system chose for port 0.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

/// Starts the demo target on `addr` (pass `127.0.0.1:0` for a free port) on the current tokio
/// runtime, and returns once the socket is bound and accepting.
pub async fn serve(addr: SocketAddr) -> io::Result<DemoServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = routes::router();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // A dropped sender also stops the server, so the result does not matter.
                let _ = stopped.await;
            })
            .await;
        match &result {
            Ok(()) => tracing::info!(%addr, "demo target stopped"),
            Err(err) => tracing::error!(%addr, error = %err, "demo target failed"),
        }
        result
    });
    tracing::info!(%addr, "demo target listening");
    Ok(DemoServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

impl DemoServer {
    /// Returns the base URL to give the demo checklist, such as `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, waits for requests in flight to finish and returns the
    /// server's error, if it had one.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Dropping cannot wait for a graceful stop, so the task is cancelled outright.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
