//! A real nginx on 127.0.0.1 for tests, run as a child process from a temporary prefix that
//! contains its configuration, pid file, logs and temporary paths.
//!
//! The binary is `$GOLIVE_TEST_NGINX` when set, else `/usr/sbin/nginx` (Debian's `nginx`
//! package), else `nginx` on `PATH`. Dropping the server kills the child.

#![allow(dead_code)]

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Time nginx gets to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Requests per window the rate-limited configurations let through before the 429s: the one
/// request of the rate plus a burst of 4.
pub const NGINX_RATE_LIMIT: u32 = 5;

/// A server block body for one of the test configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NginxSite {
    /// Every security header, with `server_tokens off`.
    SecureHeaders,
    /// No security header, with `server_tokens on`, so `Server: nginx/1.x.y`.
    InsecureHeaders,
    /// CORS that copies `Origin` into `Access-Control-Allow-Origin` with credentials.
    ReflectingCors,
    /// `limit_req` at one request a minute with a burst of 4, 429 with `Retry-After`, serving
    /// a static file because `return` responds before `limit_req` runs.
    RateLimited,
    /// `limit_req` like [`NginxSite::RateLimited`], but the 429 carries no rate-limit header.
    RateLimitedSilently,
}

impl NginxSite {
    /// Returns the `http`-level directives and the `location /` body.
    fn directives(self) -> (&'static str, &'static str) {
        match self {
            NginxSite::SecureHeaders => (
                "server_tokens off;",
                r#"
                add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
                add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'none'" always;
                add_header X-Content-Type-Options "nosniff" always;
                add_header X-Frame-Options "DENY" always;
                add_header Referrer-Policy "no-referrer" always;
                return 200 "secure\n";
                "#,
            ),
            NginxSite::InsecureHeaders => ("server_tokens on;", "return 200 \"insecure\\n\";"),
            NginxSite::ReflectingCors => (
                "server_tokens off;",
                r#"
                add_header Access-Control-Allow-Origin $http_origin always;
                add_header Access-Control-Allow-Credentials "true" always;
                if ($request_method = OPTIONS) {
                    add_header Access-Control-Allow-Origin $http_origin always;
                    add_header Access-Control-Allow-Credentials "true" always;
                    add_header Access-Control-Allow-Methods "GET, POST, PUT, DELETE" always;
                    return 204;
                }
                return 200 "cors\n";
                "#,
            ),
            NginxSite::RateLimited => (
                "server_tokens off;\n\
                 limit_req_zone $binary_remote_addr zone=burst:1m rate=1r/m;",
                r#"
                limit_req zone=burst burst=4 nodelay;
                limit_req_status 429;
                add_header Retry-After 60 always;
                root html;
                "#,
            ),
            NginxSite::RateLimitedSilently => (
                "server_tokens off;\n\
                 limit_req_zone $binary_remote_addr zone=burst:1m rate=1r/m;",
                r#"
                limit_req zone=burst burst=4 nodelay;
                limit_req_status 429;
                root html;
                "#,
            ),
        }
    }
}

/// A running nginx; dropping it kills the process.
pub struct NginxServer {
    pub addr: SocketAddr,
    child: Child,
    prefix: TempDir,
}

impl NginxServer {
    /// Writes the configuration for `site` into a new temporary prefix, starts nginx on a free
    /// port of 127.0.0.1 and waits until it accepts connections.
    pub fn start(site: NginxSite) -> NginxServer {
        let prefix = tempfile::tempdir().expect("temporary nginx prefix");
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config = config_text(prefix.path(), addr, site);
        fs::write(prefix.path().join("nginx.conf"), config).expect("nginx.conf written");
        // `return` responds before `limit_req` runs, so rate-limited sites serve this file.
        fs::create_dir(prefix.path().join("html")).expect("html directory created");
        fs::write(prefix.path().join("html/index.html"), "ok\n").expect("index.html written");
        let error_log = prefix.path().join("error.log");

        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg("nginx.conf")
            .arg("-e")
            .arg(&error_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts (install the Debian package `nginx`)");
        let mut server = NginxServer {
            addr,
            child,
            prefix,
        };
        server.wait_until_listening();
        server
    }

    /// Returns `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if TcpStream::connect(self.addr).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited with {status}: {}", self.error_log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "nginx did not listen on {} within {START_TIMEOUT:?}: {}",
            self.addr,
            self.error_log()
        );
    }

    /// Returns nginx's error log, for failure messages.
    pub fn error_log(&self) -> String {
        fs::read_to_string(self.prefix.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for NginxServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("GOLIVE_TEST_NGINX") {
        return PathBuf::from(path);
    }
    let debian = PathBuf::from("/usr/sbin/nginx");
    if debian.exists() {
        return debian;
    }
    PathBuf::from("nginx")
}

/// Returns a port that was free a moment ago. Another process could take it before nginx
/// binds, which makes the start fail with a clear error rather than test the wrong server.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn config_text(prefix: &Path, addr: SocketAddr, site: NginxSite) -> String {
    let dir = prefix.display();
    let (http_directives, location) = site.directives();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;

events {{
    worker_connections 64;
}}

http {{
    access_log off;
    default_type text/plain;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    {http_directives}

    server {{
        listen {addr};
        location / {{
            {location}
        }}
    }}
}}
"#
    )
}
