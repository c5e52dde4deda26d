//! An HTTP proxy on 127.0.0.1 that lets the AWS SDK's CloudWatch client talk to moto, a local
//! emulator of AWS APIs. `golive demo --aws` and the tests put it in front of a moto server.
//!
//! The CloudWatch client of the AWS SDK for Rust (aws-sdk-cloudwatch 1.140) speaks the Smithy
//! RPC v2 CBOR protocol: `POST /service/GraniteServiceVersion20100801/operation/<Op>` with a
//! CBOR body. moto 5.2 serves CloudWatch over the Query and JSON 1.0 protocols only. The bridge
//! translates those CBOR requests to JSON 1.0 (`POST /` with `X-Amz-Target`) and the JSON
//! responses back to CBOR. Every other request is forwarded to moto unchanged, except that the
//! root element of S3 GetBucketVersioning responses is renamed (see [`fix_versioning_root`]).
//!
//! The bridge only changes the protocol, never the data: what the checks read is what moto
//! stores.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use ciborium::Value as Cbor;
use quick_xml::events::{BytesEnd, Event};
use quick_xml::{Reader, Writer};
use serde_json::Value as Json;
use tokio::sync::oneshot;

/// Path prefix of a CloudWatch operation in the RPC v2 CBOR protocol.
const CBOR_PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";
/// JSON 1.0 target prefix of CloudWatch operations.
const JSON_TARGET_PREFIX: &str = "GraniteServiceVersion20100801.";
/// CBOR tag of an epoch-seconds timestamp (RFC 8949, section 3.4.2).
const EPOCH_TAG: u64 = 1;
/// Root element of moto's GetBucketVersioning response (moto 5.2.1).
const MOTO_VERSIONING_ROOT: &[u8] = b"GetBucketVersioningResponse";
/// Root element of S3's GetBucketVersioning response, which the SDK's XML parser requires.
const S3_VERSIONING_ROOT: &str = "VersioningConfiguration";

/// A running bridge in front of one moto server; dropping it stops the bridge.
pub struct MotoBridge {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

#[derive(Clone)]
struct Upstream {
    base: String,
    client: reqwest::Client,
}

impl MotoBridge {
    /// Starts the bridge on a free port of 127.0.0.1, forwarding to `upstream` (moto's URL).
    pub async fn start(upstream: &str) -> io::Result<MotoBridge> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(io::Error::other)?;
        let state = Upstream {
            base: upstream.trim_end_matches('/').to_string(),
            client,
        };
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(MotoBridge {
            addr,
            shutdown: Some(shutdown),
        })
    }

    /// Returns the endpoint URL to give the SDK, such as `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for MotoBridge {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn forward(
    State(upstream): State<Upstream>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match uri.path().strip_prefix(CBOR_PREFIX) {
        Some(operation) if method == Method::POST => {
            let operation = operation.to_string();
            translate_cbor(&upstream, &operation, &headers, &body).await
        }
        _ => pass_through(&upstream, method, &uri, &headers, body).await,
    }
    .unwrap_or_else(|message| {
        let mut response = Response::new(Body::from(message));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        response
    })
}

async fn pass_through(
    upstream: &Upstream,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, String> {
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let mut request = upstream
        .client
        .request(method.clone(), format!("{}{path}", upstream.base))
        .body(body);
    for (name, value) in headers {
        if !matches!(name.as_str(), "host" | "content-length") {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.map_err(unreachable_upstream)?;
    let status = response.status();
    let response_headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(unreachable_upstream)?;
    let bytes = fix_versioning_root(&method, uri, bytes);
    let mut builder = Response::builder().status(status);
    for (name, value) in &response_headers {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            builder = builder.header(name, value);
        }
    }
    builder
        .body(Body::from(bytes))
        .map_err(|err| err.to_string())
}

/// Renames the root element of moto's GetBucketVersioning response to the one S3 sends, keeping
/// its namespace, attributes and content, and returns every other body unchanged.
///
/// moto 5.2.1 returns a `GetBucketVersioningResponse` root for `GET /BUCKET?versioning`, and
/// aws-sdk-s3 1.157 rejects any root but `VersioningConfiguration`. A body that is not
/// well-formed XML is returned unchanged, so the SDK reports moto's response as it is.
fn fix_versioning_root(method: &Method, uri: &Uri, body: Bytes) -> Bytes {
    let is_versioning_get = method == Method::GET
        && uri.query().is_some_and(|query| {
            form_urlencoded::parse(query.as_bytes()).any(|(key, _)| key == "versioning")
        });
    if !is_versioning_get {
        return body;
    }
    rename_root(&body, MOTO_VERSIONING_ROOT, S3_VERSIONING_ROOT).map_or(body, Bytes::from)
}

/// Returns the document with its root element renamed from `from` to `to`, or `None` when it
/// is not well-formed.
fn rename_root(xml: &[u8], from: &[u8], to: &str) -> Option<Vec<u8>> {
    let mut reader = Reader::from_reader(xml);
    let mut writer = Writer::new(Vec::with_capacity(xml.len()));
    let mut buffer = Vec::new();
    let mut depth = 0usize;
    loop {
        let event = match reader.read_event_into(&mut buffer).ok()? {
            Event::Eof if depth == 0 => break,
            Event::Eof => return None,
            Event::Start(start) => {
                depth += 1;
                let mut start = start.into_owned();
                if depth == 1 && start.name().as_ref() == from {
                    start.set_name(to.as_bytes());
                }
                Event::Start(start)
            }
            Event::Empty(start) => {
                let mut start = start.into_owned();
                if depth == 0 && start.name().as_ref() == from {
                    start.set_name(to.as_bytes());
                }
                Event::Empty(start)
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if depth == 0 && end.name().as_ref() == from {
                    Event::End(BytesEnd::new(to))
                } else {
                    Event::End(end.into_owned())
                }
            }
            other => other.into_owned(),
        };
        writer.write_event(event).ok()?;
        buffer.clear();
    }
    Some(writer.into_inner())
}

async fn translate_cbor(
    upstream: &Upstream,
    operation: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, String> {
    let input = if body.is_empty() {
        Json::Object(serde_json::Map::new())
    } else {
        let value: Cbor = ciborium::from_reader(body)
            .map_err(|err| format!("the request body is not CBOR: {err}"))?;
        cbor_to_json(value)
    };
    let input = serde_json::to_vec(&input).map_err(|err| err.to_string())?;
    let mut request = upstream
        .client
        .post(format!("{}/", upstream.base))
        .header("X-Amz-Target", format!("{JSON_TARGET_PREFIX}{operation}"))
        .header("Content-Type", "application/x-amz-json-1.0")
        .body(input);
    // moto picks the service from the credential scope of the signature.
    for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.map_err(unreachable_upstream)?;
    let status = response.status();
    let request_id = response.headers().get("x-amzn-requestid").cloned();
    let bytes = response.bytes().await.map_err(unreachable_upstream)?;
    let output = if bytes.is_empty() {
        Json::Object(serde_json::Map::new())
    } else {
        match serde_json::from_slice::<Json>(&bytes) {
            Ok(value) => value,
            Err(_) => serde_json::json!({
                "__type": "InternalFailure",
                "message": String::from_utf8_lossy(&bytes),
            }),
        }
    };
    let mut encoded = Vec::new();
    ciborium::into_writer(&json_to_cbor(output, ""), &mut encoded)
        .map_err(|err| err.to_string())?;

    let mut builder = Response::builder()
        .status(status)
        .header("Content-Type", "application/cbor")
        .header("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    if let Some(request_id) = request_id {
        builder = builder.header("x-amzn-requestid", request_id);
    }
    builder
        .body(Body::from(encoded))
        .map_err(|err| err.to_string())
}

/// Returns the message of a failed request to moto.
fn unreachable_upstream(err: reqwest::Error) -> String {
    format!("moto did not answer: {err}")
}

/// Converts a CBOR request value to JSON: timestamps to epoch seconds, blobs to base64.
fn cbor_to_json(value: Cbor) -> Json {
    match value {
        Cbor::Integer(number) => {
            let number = i128::from(number);
            match i64::try_from(number) {
                Ok(small) => Json::from(small),
                Err(_) => Json::from(number as f64),
            }
        }
        Cbor::Float(number) => Json::from(number),
        Cbor::Text(text) => Json::String(text),
        Cbor::Bool(flag) => Json::Bool(flag),
        Cbor::Null => Json::Null,
        Cbor::Bytes(bytes) => Json::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        Cbor::Array(items) => Json::Array(items.into_iter().map(cbor_to_json).collect()),
        Cbor::Map(entries) => Json::Object(
            entries
                .into_iter()
                .filter_map(|(key, value)| match key {
                    Cbor::Text(key) => Some((key, cbor_to_json(value))),
                    _ => None,
                })
                .collect(),
        ),
        Cbor::Tag(_, inner) => cbor_to_json(*inner),
        _ => Json::Null,
    }
}

/// CloudWatch output members of timestamp type whose names do not end in `Timestamp`:
/// `DashboardEntry.LastModified` and the dates of metric streams.
const TIMESTAMP_MEMBERS: &[&str] = &["LastModified", "CreationDate", "LastUpdateDate"];

/// Converts a JSON response value to CBOR. JSON 1.0 writes timestamps as epoch seconds, so
/// members named `...Timestamp` or listed in [`TIMESTAMP_MEMBERS`], and the items of
/// `...Timestamps` lists, become tag-1 values.
fn json_to_cbor(value: Json, key: &str) -> Cbor {
    let is_timestamp = key.ends_with("Timestamp")
        || key.ends_with("Timestamps")
        || TIMESTAMP_MEMBERS.contains(&key);
    match value {
        Json::Number(number) if is_timestamp => {
            let seconds = number.as_f64().unwrap_or_default();
            Cbor::Tag(EPOCH_TAG, Box::new(Cbor::Float(seconds)))
        }
        Json::Number(number) => match number.as_i64() {
            Some(integer) => Cbor::Integer(integer.into()),
            None => Cbor::Float(number.as_f64().unwrap_or_default()),
        },
        Json::String(text) => Cbor::Text(text),
        Json::Bool(flag) => Cbor::Bool(flag),
        Json::Null => Cbor::Null,
        Json::Array(items) => Cbor::Array(
            items
                .into_iter()
                .map(|item| json_to_cbor(item, key))
                .collect(),
        ),
        Json::Object(members) => Cbor::Map(
            members
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(name, value)| {
                    let converted = json_to_cbor(value, &name);
                    (Cbor::Text(name), converted)
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
    const NAMESPACE: &str = r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#;

    fn fixed(method: Method, uri: &str, body: &str) -> String {
        let uri: Uri = uri.parse().unwrap();
        let body = fix_versioning_root(&method, &uri, Bytes::from(body.to_string()));
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[test]
    fn versioning_root_is_renamed() {
        let body = format!(
            "{DECLARATION}\n<GetBucketVersioningResponse {NAMESPACE}><Status>Enabled</Status>\
             </GetBucketVersioningResponse>"
        );
        let expected = format!(
            "{DECLARATION}\n<VersioningConfiguration {NAMESPACE}><Status>Enabled</Status>\
             </VersioningConfiguration>"
        );
        assert_eq!(fixed(Method::GET, "/docs?versioning", &body), expected);
    }

    #[test]
    fn empty_versioning_root_is_renamed() {
        let body = format!("{DECLARATION}\n<GetBucketVersioningResponse {NAMESPACE}/>");
        let expected = format!("{DECLARATION}\n<VersioningConfiguration {NAMESPACE}/>");
        assert_eq!(fixed(Method::GET, "/docs?versioning=", &body), expected);
    }

    #[test]
    fn other_requests_are_unchanged() {
        let body = format!("<GetBucketVersioningResponse {NAMESPACE}/>");
        assert_eq!(fixed(Method::GET, "/docs?versions", &body), body);
        assert_eq!(fixed(Method::PUT, "/docs?versioning", &body), body);
        let error = "<Error><Code>NoSuchBucket</Code></Error>";
        assert_eq!(fixed(Method::GET, "/docs?versioning", error), error);
        let broken = "<GetBucketVersioningResponse><Status>";
        assert_eq!(fixed(Method::GET, "/docs?versioning", broken), broken);
    }
}
