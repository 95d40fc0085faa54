//! Rendering answers (api.md §1.6–1.7): JSON objects with `RequestId` and the
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
    // Every member is a string (the Go SDK type-asserts them).
    let body = serde_json::json!({
        "RequestId": request_id,
        "HostId": host,
        "Code": error.code.as_str(),
        "Message": error.message,
        "Recommend": "",
    });
    json_response(error.code.status(), &body, request_id)
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
