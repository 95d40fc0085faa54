//! The request pipeline: transport checks, parameters, authentication, throttling, dispatch,
//! and one structured log line per request.

use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::params::{Params, content_type_is_form};
use super::response::{error_response, new_request_id, success_response};
use super::{Action, ApiResult, AppState, Call, dispatch};
use crate::auth::credentials::KeyEntry;
use crate::auth::gate::{self, Caller, SignedRequest};
use crate::error::{ApiError, REQUEST_SIZE_LIMIT, error_chain};
use crate::testing::split_test_case;

/// The API version this server implements.
pub const API_VERSION: &str = "2019-03-15";

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// `GET /readyz`: the store is reachable and migrated, and its writers run.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if !state.runtime.batcher().healthy() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: a store writer failed and is being started again\n",
        )
            .into_response();
    }
    match state.store.ready().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", error_chain(&error)),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// The answer to a request whose handler panicked (a bug): logged, and answered like any
/// internal error.
pub fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    let request_id = new_request_id();
    tracing::error!(request_id = %request_id, panic = detail, "a request handler panicked");
    error_response(&ApiError::internal(), &request_id, "")
}

/// Every RPC call (and every path that is not ours).
pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut request_id = new_request_id();
    let mut log = LogFields {
        action: None,
        access_key_id: None,
        flow: None,
        execution: None,
        via: "rpc",
    };
    let result = process(&state, request, &host, &mut request_id, &mut log).await;
    let (response, error) = match result {
        Ok(body) => (success_response(body, &request_id), None),
        Err(error) => (error_response(&error, &request_id, &host), Some(error)),
    };
    let status = response.status().as_u16();
    record(&state, started, &request_id, &log, error.as_ref(), status);
    response
}

/// A call by a caller that authenticated another way (a signed-in web console session):
/// the key's policy, throttling, the action's handler, metrics and the request log line are
/// exactly those of a signed request.
pub async fn call_as(
    state: &AppState,
    key: &KeyEntry,
    action: Action,
    params: &Params,
    host: &str,
) -> ApiResult {
    let started = Instant::now();
    let request_id = new_request_id();
    let flow_param = action.flow_parameter();
    let log = LogFields {
        action: Some(action.name()),
        access_key_id: Some(key.access_key_id().to_string()),
        flow: flow_param
            .and_then(|name| params.get(name))
            .map(str::to_string),
        execution: params.get("ExecutionName").map(str::to_string),
        via: "console",
    };
    let caller = Caller::without_nonce(action, key);
    let result = authorized_dispatch(state, &caller, params, host).await;
    let status = match &result {
        Ok(_) => 200,
        Err(error) => error.code.status().as_u16(),
    };
    record(
        state,
        started,
        &request_id,
        &log,
        result.as_ref().err(),
        status,
    );
    // The cause is logged with this request: the console shows only the answer.
    result.map_err(|error| ApiError {
        cause: None,
        ..error
    })
}

/// Metrics and the one log line of a request; a failure of the server itself (a store
/// error behind a 500 or 503) gets a line of its own with its causes.
fn record(
    state: &AppState,
    started: Instant,
    request_id: &str,
    log: &LogFields,
    error: Option<&ApiError>,
    status: u16,
) {
    let action = log.action.unwrap_or("-");
    let outcome = error.map_or("ok", |error| error.code.as_str());
    let code = if outcome == "ok" { "OK" } else { outcome };
    if let Some(cause) = error.and_then(|error| error.cause.as_ref()) {
        let chain = error_chain(cause);
        if cause.is_unavailable() {
            tracing::warn!(request_id = %request_id, action, error = %chain, "store unavailable");
        } else {
            tracing::error!(request_id = %request_id, action, error = %chain, "store failure");
        }
    }
    state
        .metrics
        .requests
        .with_label_values(&[action, code])
        .inc();
    state
        .metrics
        .request_seconds
        .with_label_values(&[action])
        .observe(started.elapsed().as_secs_f64());
    if matches!(code, "ServiceUnavailable" | "InternalServerError") {
        let kind = if code == "ServiceUnavailable" {
            "unavailable"
        } else {
            "internal"
        };
        state.metrics.store_errors.with_label_values(&[kind]).inc();
    }
    tracing::info!(
        request_id = %request_id,
        action,
        access_key_id = log.access_key_id.as_deref().unwrap_or("-"),
        flow = log.flow.as_deref().unwrap_or("-"),
        execution = log.execution.as_deref().unwrap_or("-"),
        via = log.via,
        status,
        outcome = %outcome,
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
}

/// What the request log line shows (never secrets or signatures).
struct LogFields {
    action: Option<&'static str>,
    access_key_id: Option<String>,
    flow: Option<String>,
    execution: Option<String>,
    /// `rpc` for a signed request, `console` for the web console.
    via: &'static str,
}

/// Whether a client's `RequestId` can be echoed: visible ASCII (anything else is dropped
/// or mangled in a header) and short enough for any client's header limits. Others are
/// replaced by a generated id, so the header and the body always agree.
fn echoable(request_id: &str) -> bool {
    const MAX_ECHOED_CHARS: usize = 128;
    request_id.len() <= MAX_ECHOED_CHARS && request_id.bytes().all(|b| b.is_ascii_graphic())
}

async fn process(
    state: &AppState,
    request: Request,
    host: &str,
    request_id: &mut String,
    log: &mut LogFields,
) -> Result<serde_json::Value, ApiError> {
    let (parts, body) = request.into_parts();
    // docs/COMPATIBILITY.md#paths-and-methods: GET and POST only, path `/` only.
    if parts.method != Method::GET && parts.method != Method::POST {
        return Err(ApiError::method_not_allowed(parts.method.as_str()));
    }
    if parts.uri.path() != "/" {
        return Err(ApiError::path_not_supported(
            parts.method.as_str(),
            parts.uri.path(),
        ));
    }
    let body = read_body(state, &parts.headers, body).await?;
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let form = content_type_is_form(content_type);
    if !body.is_empty() && !form {
        return Err(ApiError::unsupported_media_type(
            content_type.unwrap_or("(none)"),
        ));
    }
    let query = parts.uri.query().unwrap_or_default().as_bytes();
    let params = Params::from_sources(query, form.then_some(&body[..]))?;
    // docs/COMPATIBILITY.md#parameters: a RequestId sent by the client is echoed, in the body and in the
    // `x-acs-request-id` header (docs/COMPATIBILITY.md#responses), so it must survive as a header value unchanged.
    if let Some(given) = params.optional("RequestId").filter(|id| echoable(id)) {
        *request_id = given.to_string();
    }
    let signed = SignedRequest {
        method: parts.method.as_str(),
        headers: &parts.headers,
        params: params.pairs(),
        query: params.query_pairs(),
        body: &body,
    };
    let caller = state
        .auth
        .authenticate(&signed, select_action, carries_nonce)
        .await?;
    log.action = Some(caller.action.name());
    log.access_key_id = Some(caller.key.access_key_id().to_string());
    let flow_param = caller.action.flow_parameter();
    log.flow = flow_param
        .and_then(|name| params.get(name))
        .map(str::to_string);
    log.execution = params.get("ExecutionName").map(str::to_string);
    authorized_dispatch(state, &caller, &params, host).await
}

/// Whether an action records the request's nonce itself (one transaction instead of two).
/// Only an action that records it before any effect may: StartExecution, whose start
/// carries it; StartSyncExecution, which records it with its read of the flow's revision
/// before it runs anything; and the task reports, whose commit carries it when they advance
/// a quiet execution, and which record it on their own first otherwise.
fn carries_nonce(action: &Action) -> bool {
    matches!(
        action,
        Action::StartExecution
            | Action::StartSyncExecution
            | Action::ReportTaskSucceeded
            | Action::ReportTaskFailed
    )
}

/// What follows authentication, for every caller: policy, throttling, the handler; then the
/// nonce, when no write took it.
async fn authorized_dispatch(
    state: &AppState,
    caller: &Caller<'_, Action>,
    params: &Params,
    host: &str,
) -> ApiResult {
    let answer = checked_dispatch(state, caller, params, host).await;
    state.auth.settle_nonce(caller).await?;
    answer
}

/// Policy, throttling, the handler.
async fn checked_dispatch(
    state: &AppState,
    caller: &Caller<'_, Action>,
    params: &Params,
    host: &str,
) -> ApiResult {
    // A policy applies to the flow itself, whatever test case it is started with.
    let policy_flow = caller
        .action
        .flow_parameter()
        .and_then(|name| params.get(name))
        .map(|name| match caller.action {
            Action::StartExecution | Action::StartSyncExecution => split_test_case(name).0,
            _ => name,
        });
    gate::authorize(caller.key, caller.action.name(), policy_flow)?;
    state
        .throttle
        .admit(state.store.as_ref(), caller.key.access_key_id())
        .await?;
    let call = Call {
        state,
        account_id: caller.key.account_id(),
        key: caller.key,
        params,
        host,
        nonce: &caller.nonce,
    };
    dispatch(caller.action, &call).await
}

/// Reads the whole body, refusing more than 1 MiB (docs/COMPATIBILITY.md#parameters) and a body that takes longer
/// than the body timeout to arrive (the connection then closes: the rest is not read).
async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, ApiError> {
    let within = Duration::from_secs(state.config.body_read_timeout_seconds);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > REQUEST_SIZE_LIMIT as u64) {
        return Err(ApiError::entity_too_large(REQUEST_SIZE_LIMIT));
    }
    tokio::time::timeout(within, to_bytes(body, REQUEST_SIZE_LIMIT))
        .await
        .map_err(|_| {
            state.metrics.timeouts.with_label_values(&["body"]).inc();
            ApiError::body_timeout(within.as_secs())
        })?
        .map_err(|_| ApiError::entity_too_large(REQUEST_SIZE_LIMIT))
}

/// The action a request names, if this server implements it, in this API version
/// Which parameter or header names them is authentication's business: only
/// signed ones may.
fn select_action(action: &str, version: &str) -> Result<Action, ApiError> {
    let action = Action::parse(action).ok_or_else(|| ApiError::action_not_supported(action))?;
    if version != API_VERSION {
        return Err(ApiError::api_version_not_supported(version));
    }
    Ok(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_answered_with_the_envelope() {
        let response = panicked(Box::new("boom"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let request_id = response.headers()["x-acs-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["Code"], "InternalServerError");
        assert_eq!(body["RequestId"], request_id.as_str());
    }
}
