//! TLS servers on 127.0.0.1 for tests: a CA and leaf certificates made with rcgen, served by
//! `openssl s_server` or nginx, and `openssl s_client` runs to compare verdicts with.

#![allow(dead_code)]

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use tempfile::TempDir;

/// Name the valid, expired and expiring leaf certificates are for.
pub const HOST: &str = "api.test";
/// Name the wrong-host leaf certificate is for.
pub const OTHER_HOST: &str = "other.test";
/// Subject common name of the test CA.
pub const CA_NAME: &str = "golive test CA";
/// Cipher list that lets OpenSSL 3 negotiate TLS 1.0 and 1.1, which security level 1 and
/// above forbid.
pub const LEGACY_CIPHERS: &str = "DEFAULT:@SECLEVEL=0";
/// Upper bound on a server's start and on one `openssl s_client` run.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(15);

/// A leaf certificate and its private key, as PEM files.
pub struct LeafFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Which leaf certificate a server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// For `api.test`, valid from 2020 until five years from now.
    Valid,
    /// For `api.test`, valid from 2020-01-01 to 2021-01-01.
    Expired,
    /// For `other.test`, otherwise like `Valid`.
    WrongHost,
    /// For `api.test`, expiring five days from now.
    ExpiringSoon,
}

/// A test CA and the leaf certificates it signed, in a temporary folder.
pub struct TestPki {
    pub dir: TempDir,
    /// PEM file of the CA certificate, for `ca_file`.
    pub ca: PathBuf,
    valid: LeafFiles,
    expired: LeafFiles,
    wrong_host: LeafFiles,
    expiring_soon: LeafFiles,
}

impl TestPki {
    /// Generates the CA and the four leaf certificates.
    pub fn generate() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, CA_NAME);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.not_before = date_time_ymd(2019, 1, 1);
        ca_params.not_after = date_time_ymd(2100, 1, 1);
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let ca = dir.path().join("ca.pem");
        fs::write(&ca, ca_cert.pem()).expect("write CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let today = jiff::Zoned::now().date();
        let in_five_years = today.saturating_add(jiff::Span::new().years(5));
        let in_five_days = today.saturating_add(jiff::Span::new().days(5));
        let leaf = |name: &str, host: &str, not_before: jiff::civil::Date, not_after| {
            write_leaf(dir.path(), name, host, not_before, not_after, &issuer)
        };
        let start = jiff::civil::date(2020, 1, 1);
        TestPki {
            valid: leaf("valid", HOST, start, in_five_years),
            expired: leaf("expired", HOST, start, jiff::civil::date(2021, 1, 1)),
            wrong_host: leaf("wrong-host", OTHER_HOST, start, in_five_years),
            expiring_soon: leaf("expiring-soon", HOST, start, in_five_days),
            ca,
            dir,
        }
    }

    /// Returns the files of one leaf certificate.
    pub fn leaf(&self, leaf: Leaf) -> &LeafFiles {
        match leaf {
            Leaf::Valid => &self.valid,
            Leaf::Expired => &self.expired,
            Leaf::WrongHost => &self.wrong_host,
            Leaf::ExpiringSoon => &self.expiring_soon,
        }
    }
}

fn write_leaf(
    dir: &Path,
    name: &str,
    host: &str,
    not_before: jiff::civil::Date,
    not_after: jiff::civil::Date,
    issuer: &Issuer<'_, KeyPair>,
) -> LeafFiles {
    let key = KeyPair::generate().expect("leaf key");
    let mut params = CertificateParams::new(vec![host.to_string()]).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, host);
    let (year, month, day) = ymd(not_before);
    params.not_before = date_time_ymd(year, month, day);
    let (year, month, day) = ymd(not_after);
    params.not_after = date_time_ymd(year, month, day);
    let cert = params.signed_by(&key, issuer).expect("leaf certificate");
    let files = LeafFiles {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}-key.pem")),
    };
    fs::write(&files.cert, cert.pem()).expect("write leaf certificate");
    fs::write(&files.key, key.serialize_pem()).expect("write leaf key");
    files
}

fn ymd(date: jiff::civil::Date) -> (i32, u8, u8) {
    let month = u8::try_from(date.month()).expect("month fits u8");
    let day = u8::try_from(date.day()).expect("day fits u8");
    (i32::from(date.year()), month, day)
}

/// Returns a port on 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// A server process on 127.0.0.1, killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub port: u16,
    /// Folder of the server's configuration and logs.
    pub dir: TempDir,
    log: PathBuf,
}

impl ServerProcess {
    fn spawn(mut command: Command, port: u16, dir: TempDir) -> Self {
        let log = dir.path().join("server.log");
        let log_file = fs::File::create(&log).expect("server log");
        let child = command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("server log handle"))
            .stderr(log_file)
            .spawn()
            .expect("start the server");
        let mut server = ServerProcess {
            child,
            port,
            dir,
            log,
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "server exited with {status} before listening:\n{}",
                    self.log_text()
                );
            }
            assert!(
                started.elapsed() < PROCESS_TIMEOUT,
                "server did not listen on port {} within {PROCESS_TIMEOUT:?}:\n{}",
                self.port,
                self.log_text()
            );
            sleep(Duration::from_millis(50));
        }
    }

    /// Reads the server's output so far, for failure messages.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `openssl s_server -www` with a leaf certificate, accepting TLS 1.0 to 1.3.
pub fn start_s_server(pki: &TestPki, leaf: Leaf) -> ServerProcess {
    start_s_server_with(pki, leaf, &["-cipher", LEGACY_CIPHERS])
}

/// Starts `openssl s_server -www` with a leaf certificate, a minimum version of TLS 1.0 and
/// `options` such as `["-cipher", "..."]` or `["-no_tls1_3"]`.
pub fn start_s_server_with(pki: &TestPki, leaf: Leaf, options: &[&str]) -> ServerProcess {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temporary folder");
    let files = pki.leaf(leaf);
    let mut command = Command::new("openssl");
    command
        .arg("s_server")
        .arg("-accept")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&files.cert)
        .arg("-key")
        .arg(&files.key)
        .arg("-www")
        // A system configuration may raise the minimum version to TLS 1.2.
        .args(["-min_protocol", "TLSv1"])
        .args(options);
    ServerProcess::spawn(command, port, dir)
}

/// Starts nginx in the foreground with one TLS server block for `api.test` that allows only
/// the `protocols` given, such as `TLSv1.2 TLSv1.3`.
pub fn start_nginx(pki: &TestPki, leaf: Leaf, protocols: &str) -> ServerProcess {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temporary folder");
    let files = pki.leaf(leaf);
    let root = dir.path().display().to_string();
    let config = format!(
        "daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name {HOST};
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols {protocols};
        location / {{ return 200 \"ok\\n\"; }}
    }}
}}
",
        cert = files.cert.display(),
        key = files.key.display(),
    );
    let config_path = dir.path().join("nginx.conf");
    fs::write(&config_path, config).expect("write nginx configuration");
    let mut command = Command::new(nginx_binary());
    command
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&config_path)
        .arg("-e")
        .arg(dir.path().join("error.log"));
    ServerProcess::spawn(command, port, dir)
}

fn nginx_binary() -> PathBuf {
    let packaged = PathBuf::from("/usr/sbin/nginx");
    if packaged.exists() {
        packaged
    } else {
        PathBuf::from("nginx")
    }
}

/// Runs `openssl s_client` against 127.0.0.1 with one version flag, such as `-tls1_1`, and
/// returns whether the handshake completed.
pub fn s_client_connects(port: u16, version_flag: &str) -> bool {
    let mut child = Command::new("openssl")
        .arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(["-servername", HOST, version_flag, "-cipher", LEGACY_CIPHERS])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_client");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for openssl s_client") {
            return status.success();
        }
        if started.elapsed() > PROCESS_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("openssl s_client {version_flag} did not end within {PROCESS_TIMEOUT:?}");
        }
        sleep(Duration::from_millis(20));
    }
}
