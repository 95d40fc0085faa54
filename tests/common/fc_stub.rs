//! A stub Function Compute for tests: the invoke protocol of docs/COMPATIBILITY.md#function-compute and
//! the fixture functions of Appendix A (`echo`, `fail`, `sleep`, `increment`, `flaky`),
//! matched by function name under any service, region or account. It records every
//! invocation so tests can check what was sent and how often.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One recorded invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub function: String,
    pub event: Value,
    pub invocation_type: String,
    pub at: Instant,
}

#[derive(Clone, Default)]
struct Shared {
    invocations: Arc<Mutex<Vec<Invocation>>>,
    flaky_counts: Arc<Mutex<HashMap<String, u64>>>,
}

pub struct FcStub {
    pub addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl FcStub {
    pub async fn start() -> FcStub {
        let shared = Shared::default();
        let app = Router::new()
            .route(
                "/2016-08-15/services/{service}/functions/{function}/invocations",
                post(invoke_service_form),
            )
            .route(
                "/2023-03-30/functions/{function}/invocations",
                post(invoke_function_form),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FcStub { addr, shared, task }
    }

    /// The base URL to configure as `--fc-endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn invocations(&self) -> Vec<Invocation> {
        self.shared.invocations.lock().unwrap().clone()
    }

    pub fn invocations_of(&self, function: &str) -> Vec<Invocation> {
        self.invocations()
            .into_iter()
            .filter(|i| i.function == function)
            .collect()
    }
}

impl Drop for FcStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn invoke_service_form(
    State(shared): State<Shared>,
    Path((_service, function)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    invoke(shared, function, headers, body).await
}

async fn invoke_function_form(
    State(shared): State<Shared>,
    Path(function): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    invoke(shared, function, headers, body).await
}

async fn invoke(shared: Shared, function: String, headers: HeaderMap, body: Bytes) -> Response {
    let event: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()))
    };
    let invocation_type = headers
        .get("x-fc-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Sync")
        .to_string();
    shared.invocations.lock().unwrap().push(Invocation {
        function: function.clone(),
        event: event.clone(),
        invocation_type: invocation_type.clone(),
        at: Instant::now(),
    });
    if invocation_type == "Async" {
        return (StatusCode::ACCEPTED, "").into_response();
    }
    match function.as_str() {
        "echo" => ok(event),
        "fail" => function_error(
            event["errorType"].as_str().unwrap_or("CustomError"),
            event["errorMessage"].as_str().unwrap_or("failed"),
        ),
        "sleep" => {
            let seconds = event["seconds"].as_f64().unwrap_or(0.0);
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            ok(json!({}))
        }
        "increment" => ok(json!({"count": event["count"].as_i64().unwrap_or(0) + 1})),
        "flaky" => {
            // Fails on the first `failTimes` attempts of the same event.
            let key = event.to_string();
            let attempt = {
                let mut counts = shared.flaky_counts.lock().unwrap();
                let count = counts.entry(key).or_insert(0);
                *count += 1;
                *count
            };
            if attempt <= event["failTimes"].as_u64().unwrap_or(0) {
                function_error("TransientError", &format!("attempt {attempt} failed"))
            } else {
                ok(json!({"attempts": attempt}))
            }
        }
        other => (
            StatusCode::NOT_FOUND,
            [("content-type", "application/json")],
            json!({"ErrorCode": "FunctionNotFound", "ErrorMessage": format!("function {other} not found")}).to_string(),
        )
            .into_response(),
    }
}

fn ok(result: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        result.to_string(),
    )
        .into_response()
}

/// A function error: 200 with `X-Fc-Error-Type` and the error in the body (Appendix C).
fn function_error(error_type: &str, message: &str) -> Response {
    (
        StatusCode::OK,
        [
            ("content-type", "application/json"),
            ("x-fc-error-type", "UnhandledInvocationError"),
        ],
        json!({"errorType": error_type, "errorMessage": message}).to_string(),
    )
        .into_response()
}
