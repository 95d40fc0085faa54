//! Performing task calls: Function Compute invocations over the protocol described in
//! docs/COMPATIBILITY.md#function-compute, and `HTTP:Request` (docs/COMPATIBILITY.md#http-tasks). Child executions are started by the runtime,
//! which owns the store.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Map, Value, json};

use crate::engine::calls::FunctionShape;
use crate::engine::errors;
use crate::engine::ir::FunctionRef;
use crate::engine::json::parse_data;
use crate::engine::state::TaskOutcome;

/// The longest a call may take when its task has no timeout.
const MAX_CALL: Duration = Duration::from_secs(15 * 60);

/// Where functions are invoked: a Function Compute–compatible base URL and per-function
/// overrides.
#[derive(Debug, Clone, Default)]
pub struct FunctionEndpoints {
    pub base: Option<String>,
    /// Function name → the full URL to POST invocations to.
    pub overrides: HashMap<String, String>,
}

impl FunctionEndpoints {
    /// Reads the override map: a TOML or YAML file with a `functions` table of name → URL.
    pub fn load_overrides(path: &Path) -> Result<HashMap<String, String>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            functions: HashMap<String, String>,
        }
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        let file: File = if is_yaml {
            serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        } else {
            toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?
        };
        Ok(file.functions)
    }

    /// The invoke URL of a function (Appendix C), or why there is none.
    fn url(&self, function: &FunctionRef) -> Result<String, String> {
        if let Some(url) = self.overrides.get(function.function_name()) {
            return Ok(url.clone());
        }
        let Some(base) = &self.base else {
            return Err(format!(
                "no Function Compute endpoint is configured (--fc-endpoint) for function '{}'",
                function.function_name()
            ));
        };
        let base = base.trim_end_matches('/');
        Ok(match function {
            FunctionRef::Service {
                service,
                qualifier,
                function,
            } => match qualifier {
                Some(q) => format!(
                    "{base}/2016-08-15/services/{service}.{q}/functions/{function}/invocations"
                ),
                None => {
                    format!("{base}/2016-08-15/services/{service}/functions/{function}/invocations")
                }
            },
            FunctionRef::Function {
                function,
                qualifier,
            } => match qualifier {
                Some(q) => {
                    format!("{base}/2023-03-30/functions/{function}/invocations?qualifier={q}")
                }
                None => format!("{base}/2023-03-30/functions/{function}/invocations"),
            },
        })
    }
}

/// Makes function and HTTP calls.
#[derive(Clone)]
pub struct CallExecutor {
    http: reqwest::Client,
    functions: FunctionEndpoints,
}

impl CallExecutor {
    pub fn new(functions: FunctionEndpoints) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(64)
            .build()
            .expect("the HTTP client builds with static settings");
        CallExecutor { http, functions }
    }

    /// Invokes a function and maps the answer (Appendix C's table) to an outcome.
    pub async fn invoke_function(
        &self,
        function: &FunctionRef,
        event: &Value,
        asynchronous: bool,
        shape: FunctionShape,
        limit: Duration,
    ) -> TaskOutcome {
        let url = match self.functions.url(function) {
            Ok(url) => url,
            Err(cause) => return TaskOutcome::failure("FC.Unknown", cause),
        };
        let request = self
            .http
            .post(&url)
            .header(
                "X-Fc-Invocation-Type",
                if asynchronous { "Async" } else { "Sync" },
            )
            .header(CONTENT_TYPE, "application/json")
            .timeout(limit.min(MAX_CALL))
            .body(body_text(event));
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return TaskOutcome::failure(
                    "FC.Unknown",
                    format!(
                        "invoking function '{}' failed: {}",
                        function.function_name(),
                        describe(&error)
                    ),
                );
            }
        };
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("X-Fc-Error-Type")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let request_id = response
            .headers()
            .get("X-Fc-Request-Id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = match response.text().await {
            Ok(body) => body,
            Err(error) => {
                return TaskOutcome::failure(
                    "FC.Unknown",
                    format!(
                        "reading the answer of function '{}' failed: {}",
                        function.function_name(),
                        describe(&error)
                    ),
                );
            }
        };
        if !(200..300).contains(&status) {
            let (error, cause) = fc_status_error(status, &body);
            return TaskOutcome::Failure { error, cause };
        }
        if error_type.is_some() {
            // A function error: its type and message name the error (docs/COMPATIBILITY.md#retry-and-catch).
            let parsed: Option<Value> = parse_data(&body).ok();
            let field = |name: &str| {
                parsed
                    .as_ref()
                    .and_then(|p| p.get(name))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            return TaskOutcome::Failure {
                error: field("errorType").unwrap_or_else(|| "FC.Unknown".into()),
                cause: field("errorMessage").unwrap_or(body),
            };
        }
        match shape {
            FunctionShape::Accepted => {
                TaskOutcome::Success(json!({"Code": 202, "Header": {}, "Body": ""}))
            }
            FunctionShape::Submission => {
                TaskOutcome::Success(Value::from(request_id.unwrap_or(body)))
            }
            FunctionShape::Wrapped => TaskOutcome::Success(json!({
                "Code": status,
                "Header": {},
                "Body": parse_or_text(&body),
            })),
            FunctionShape::FdlLocal => {
                // docs/COMPATIBILITY.md#fdl-tasks (docs/COMPATIBILITY.md#q4): empty → {}, an object is the local, anything else is invalid.
                if body.trim().is_empty() {
                    return TaskOutcome::Success(Value::Object(Map::new()));
                }
                match parse_data(&body) {
                    Ok(Value::Object(local)) => TaskOutcome::Success(Value::Object(local)),
                    _ => TaskOutcome::failure(
                        errors::INVALID_LOCAL,
                        format!(
                            "the result of function '{}' is not a JSON object",
                            function.function_name()
                        ),
                    ),
                }
            }
        }
    }

    /// `HTTP:Request`: `{"Header", "Code", "Body"}`; non-2xx statuses are results, not errors
    /// (docs/COMPATIBILITY.md#q14). With a callback the request carries the token header.
    pub async fn http_request(
        &self,
        url: &str,
        method: &str,
        headers: &[(String, String)],
        body: Option<&Value>,
        callback_token: Option<&str>,
        limit: Duration,
    ) -> TaskOutcome {
        let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
            return TaskOutcome::failure(
                errors::RUNTIME,
                format!("'{method}' is not an HTTP method"),
            );
        };
        let mut request = self.http.request(method, url).timeout(limit.min(MAX_CALL));
        let mut has_content_type = false;
        for (name, value) in headers {
            has_content_type |= name.eq_ignore_ascii_case("content-type");
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = body.filter(|b| !b.is_null()) {
            if !has_content_type && !body.is_string() {
                request = request.header(CONTENT_TYPE, "application/json");
            }
            request = request.body(body_text(body));
        }
        if let Some(token) = callback_token {
            request = request.header("X-FnF-Http-Callback-Task-Token", token);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return TaskOutcome::failure(
                    "HTTP.RequestFailed",
                    format!("the request to {url} failed: {}", describe(&error)),
                );
            }
        };
        let status = response.status().as_u16();
        let response_headers = header_object(response.headers());
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        let text = match response.text().await {
            Ok(text) => text,
            Err(error) => {
                return TaskOutcome::failure(
                    "HTTP.RequestFailed",
                    format!("reading the answer of {url} failed: {}", describe(&error)),
                );
            }
        };
        let body = if is_json {
            parse_data(&text).unwrap_or(Value::String(text))
        } else {
            Value::String(text)
        };
        TaskOutcome::Success(json!({"Header": response_headers, "Code": status, "Body": body}))
    }
}

/// Strings are sent as they are, `null` as nothing, anything else as JSON.
fn body_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn parse_or_text(body: &str) -> Value {
    parse_data(body).unwrap_or_else(|_| Value::String(body.to_string()))
}

fn header_object(headers: &HeaderMap) -> Value {
    let mut object = Map::new();
    for (name, value) in headers {
        object.insert(
            name.as_str().to_string(),
            Value::from(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        );
    }
    Value::Object(object)
}

/// Appendix C: 429 → throttled/exhausted, other 4xx → `FC.<ErrorCode>`, 5xx → internal.
fn fc_status_error(status: u16, body: &str) -> (String, String) {
    let parsed: Option<Value> = parse_data(body).ok();
    let code = parsed.as_ref().and_then(|p| {
        p.get("ErrorCode")
            .or_else(|| p.get("Code"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let message = parsed
        .as_ref()
        .and_then(|p| p.get("ErrorMessage").or_else(|| p.get("Message")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| body.to_string());
    let error = match status {
        429 if code.as_deref() == Some("ResourceExhausted") => "FC.ResourceExhausted".to_string(),
        429 => "FC.ResourceThrottled".to_string(),
        400..=499 => match code {
            Some(code) => format!("FC.{code}"),
            None => "FC.Unknown".to_string(),
        },
        _ => "FC.InternalServerError".to_string(),
    };
    (error, format!("HTTP {status}: {message}"))
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        format!("cannot connect ({error})")
    } else {
        error.to_string()
    }
}
