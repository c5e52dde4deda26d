//! A hostile HTTP/1.1 server on 127.0.0.1 for tests, written on raw sockets so that it can
//! misbehave: hang, close mid-response, send huge bodies, escape sequences, invalid UTF-8 and
//! redirect loops. Every response closes its connection, and a TLS handshake gets a plain-HTTP
//! response.
//!
//! Routes:
//! - `/ok`: 200 with a JSON body.
//! - `/slow`: reads the request and never answers, until the client closes.
//! - `/delay/MS`: answers 200 after MS milliseconds.
//! - `/close-mid`: promises 1000 body bytes, sends 100, then closes.
//! - `/close-early`: closes right after reading the request.
//! - `/huge`: a 40 MiB body, streamed.
//! - `/escape`: escape sequences and invalid UTF-8 in the body and a header.
//! - `/escape-header`: an escape byte inside a header value, which HTTP forbids.
//! - `/redirect-loop`: redirects to itself.
//! - `/redirect-chain/N`: redirects to `/redirect-chain/N+1`, endlessly.
//! - `/status/CODE`: answers with that status.
//! - `/headers`: fixed headers for header expectations.
//! - `/echo-auth`: repeats the request's `Authorization` value in a header and the body.
//! - `/echo-body`: repeats the request body.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Size of the `/huge` body.
pub const HUGE_BODY_BYTES: usize = 40 * 1024 * 1024;

/// Counters the tests assert on.
#[derive(Default)]
pub struct HostileStats {
    /// Requests being handled right now (request read, response not yet sent).
    active: AtomicUsize,
    max_active: AtomicUsize,
    open_connections: AtomicUsize,
    hits: Mutex<HashMap<String, usize>>,
}

/// A running hostile server; dropping it stops accepting connections.
pub struct HostileServer {
    pub addr: SocketAddr,
    stats: Arc<HostileStats>,
    accept_task: JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl HostileServer {
    /// Starts the server on an ephemeral port of 127.0.0.1.
    pub async fn start() -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stats = Arc::new(HostileStats::default());
        let accept_stats = Arc::clone(&stats);
        let accept_task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let stats = Arc::clone(&accept_stats);
                tokio::spawn(serve_connection(stream, stats));
            }
        });
        HostileServer {
            addr,
            stats,
            accept_task,
        }
    }

    /// Returns the `http://` URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Returns the max number of requests handled at once so far.
    pub fn max_active(&self) -> usize {
        self.stats.max_active.load(Ordering::SeqCst)
    }

    /// Returns the number of connections open now.
    pub fn open_connections(&self) -> usize {
        self.stats.open_connections.load(Ordering::SeqCst)
    }

    /// Returns the number of requests received for a path (without its query).
    pub fn hits(&self, path: &str) -> usize {
        let hits = self.stats.hits.lock().expect("hits lock");
        hits.get(path).copied().unwrap_or(0)
    }
}

/// Decrements the open-connection count when the connection task ends, however it ends.
struct OpenGuard(Arc<HostileStats>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

async fn serve_connection(mut stream: TcpStream, stats: Arc<HostileStats>) {
    stats.open_connections.fetch_add(1, Ordering::SeqCst);
    let _guard = OpenGuard(Arc::clone(&stats));
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    {
        let mut hits = stats.hits.lock().expect("hits lock");
        *hits.entry(request.path.clone()).or_default() += 1;
    }
    let active = stats.active.fetch_add(1, Ordering::SeqCst) + 1;
    stats.max_active.fetch_max(active, Ordering::SeqCst);
    route(&mut stream, &request, &stats).await;
}

/// Ends the request's active span. Called before the last response bytes are written, so that
/// a client never sees a response while the request still counts as active.
fn finish_active(stats: &HostileStats) {
    stats.active.fetch_sub(1, Ordering::SeqCst);
}

async fn route(stream: &mut TcpStream, request: &Request, stats: &HostileStats) {
    let path = request.path.as_str();
    if path == "/ok" {
        finish_active(stats);
        let body = br#"{"status":"ok","version":"1.2.3","items":[1,2],"ready":true}"#;
        respond(
            stream,
            "200 OK",
            &[("Content-Type", b"application/json")],
            body,
        )
        .await;
    } else if path == "/slow" {
        // Holds the connection until the client gives up, which a read of 0 bytes shows.
        let mut scratch = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(120), async {
            while let Ok(read) = stream.read(&mut scratch).await {
                if read == 0 {
                    break;
                }
            }
        })
        .await;
        finish_active(stats);
    } else if let Some(millis) = path.strip_prefix("/delay/") {
        let millis: u64 = millis.parse().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        finish_active(stats);
        respond(stream, "200 OK", &[], b"done").await;
    } else if path == "/close-mid" {
        finish_active(stats);
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n";
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(&[b'x'; 100]).await;
        let _ = stream.flush().await;
    } else if path == "/close-early" {
        finish_active(stats);
    } else if path == "/huge" {
        finish_active(stats);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {HUGE_BODY_BYTES}\r\nConnection: close\r\n\r\n"
        );
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < HUGE_BODY_BYTES {
            if stream.write_all(&chunk).await.is_err() {
                return;
            }
            sent += chunk.len();
        }
    } else if path == "/escape" {
        finish_active(stats);
        let body = b"before\x1b[2Jmiddle\x1b]0;title\x07after \xff\xfe end";
        let headers: &[(&str, &[u8])] = &[("X-Weird", b"caf\xe9 \xff\xfe")];
        respond(stream, "200 OK", headers, body).await;
    } else if path == "/escape-header" {
        finish_active(stats);
        let headers: &[(&str, &[u8])] = &[("X-Evil", b"a\x1b[2Jb")];
        respond(stream, "200 OK", headers, b"ok").await;
    } else if path == "/redirect-loop" {
        finish_active(stats);
        let headers: &[(&str, &[u8])] = &[("Location", b"/redirect-loop")];
        respond(stream, "302 Found", headers, b"").await;
    } else if let Some(step) = path.strip_prefix("/redirect-chain/") {
        finish_active(stats);
        let next = step.parse::<u64>().unwrap_or(0) + 1;
        let location = format!("/redirect-chain/{next}");
        let headers: &[(&str, &[u8])] = &[("Location", location.as_bytes())];
        respond(stream, "302 Found", headers, b"").await;
    } else if let Some(code) = path.strip_prefix("/status/") {
        finish_active(stats);
        let status = format!("{code} Status");
        respond(stream, &status, &[], b"status body").await;
    } else if path == "/headers" {
        finish_active(stats);
        let headers: &[(&str, &[u8])] = &[
            ("X-Custom", b"Value-1"),
            ("Cache-Control", b"no-store"),
            ("Server", b"hostile"),
        ];
        respond(stream, "200 OK", headers, b"headers").await;
    } else if path == "/echo-auth" {
        finish_active(stats);
        let auth = request.header("authorization").unwrap_or("").to_string();
        let headers: &[(&str, &[u8])] = &[("X-Echo", auth.as_bytes())];
        let body = format!("you sent: {auth}");
        respond(stream, "200 OK", headers, body.as_bytes()).await;
    } else if path == "/echo-body" {
        finish_active(stats);
        let content_type = request.header("content-type").unwrap_or("").to_string();
        let headers: &[(&str, &[u8])] = &[("X-Request-Content-Type", content_type.as_bytes())];
        respond(stream, "200 OK", headers, &request.body).await;
    } else {
        finish_active(stats);
        respond(stream, "404 Not Found", &[], b"not found").await;
    }
}

async fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &[u8])], body: &[u8]) {
    let mut bytes = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (name, value) in headers {
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\r\n");
    }
    let tail = format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    bytes.extend_from_slice(tail.as_bytes());
    bytes.extend_from_slice(body);
    let _ = stream.write_all(&bytes).await;
    let _ = stream.flush().await;
}

/// Reads a request head and its `Content-Length` body; `None` when the client sent no
/// complete request.
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut scratch = [0u8; 4096];
    let head_end = loop {
        if let Some(position) = find(&buffer, b"\r\n\r\n") {
            break position;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let read = stream.read(&mut scratch).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&scratch[..read]);
        // A TLS ClientHello starts with the handshake record type 0x16. Responding in plain
        // HTTP makes the client's handshake fail at once instead of waiting for a timeout.
        if buffer.first() == Some(&0x16) {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let target = lines.next()?.split(' ').nth(1)?.to_string();
    let path = target.split('?').next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut scratch).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&scratch[..read]);
    }
    Some(Request {
        path,
        headers,
        body,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
