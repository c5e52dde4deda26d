//! An HTTP proxy on 127.0.0.1 that lets the AWS SDK's CloudWatch client talk to moto, a local
//! emulator of AWS APIs. `golive demo --aws` and the tests put it in front of a moto server.
//!
//! The CloudWatch client of the AWS SDK for Rust (aws-sdk-cloudwatch 1.140) speaks the Smithy
//! RPC v2 CBOR protocol: `POST /service/GraniteServiceVersion20100801/operation/<Op>` with a
//! CBOR body. moto 5.2 serves CloudWatch over the Query and JSON 1.0 protocols only. The bridge
//! translates those CBOR requests to JSON 1.0 (`POST /` with `X-Amz-Target`) and the JSON
//! responses back to CBOR. Every other request is forwarded to moto unchanged.
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
use serde_json::Value as Json;
use tokio::sync::oneshot;

/// Path prefix of a CloudWatch operation in the RPC v2 CBOR protocol.
const CBOR_PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";
/// JSON 1.0 target prefix of CloudWatch operations.
const JSON_TARGET_PREFIX: &str = "GraniteServiceVersion20100801.";
/// CBOR tag of an epoch-seconds timestamp (RFC 8949, section 3.4.2).
const EPOCH_TAG: u64 = 1;

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
        .request(method, format!("{}{path}", upstream.base))
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
