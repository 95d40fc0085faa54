//! Rendering answers (docs/COMPATIBILITY.md#responses): JSON objects with `RequestId` and the
//! `x-acs-request-id` header; errors in the envelope with the status of their code.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::error::ApiError;

const JSON: &str = "application/json;charset=utf-8";

pub fn success_response(body: Value, request_id: &str) -> Response {
    let mut body = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    body.insert("RequestId".into(), Value::from(request_id));
    json_response(StatusCode::OK, &Value::Object(body), request_id)
}

pub fn error_response(error: &ApiError, request_id: &str, host: &str) -> Response {
    json_response(
        error.code.status(),
        &error_envelope(error, request_id, host),
        request_id,
    )
}

/// The body of an error answer.
pub fn error_envelope(error: &ApiError, request_id: &str, host: &str) -> Value {
    // Every member is a string (the Go SDK type-asserts them).
    serde_json::json!({
        "RequestId": request_id,
        "HostId": host,
        "Code": error.code.as_str(),
        "Message": error.message,
        "Recommend": "",
    })
}

/// An error answer as raw HTTP/1.1 bytes, for the transport, which answers some requests
/// before they reach the router; the connection closes after it.
pub fn raw_error_response(error: &ApiError, host: &str) -> Vec<u8> {
    let request_id = new_request_id();
    let body = error_envelope(error, &request_id, host).to_string();
    let status = error.code.status();
    let mut bytes = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {JSON}\r\nx-acs-request-id: {request_id}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default(),
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Upper-case UUID v4, like the cloud's request ids (docs/COMPATIBILITY.md#responses).
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

fn json_response(status: StatusCode, body: &Value, request_id: &str) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-acs-request-id", value);
    }
    response
}
