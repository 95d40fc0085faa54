//! Test harness: a real server on 127.0.0.1:0 over a chosen store, a client that signs its
//! requests (V1, HMAC-SHA1) like the SDKs do, and helpers that await an execution's end.
//!
//! Postgres tests use `TEST_DATABASE_URL` (else `DATABASE_URL`, else the server on
//! 127.0.0.1:5432) to create a fresh database per test; they fail, never skip, when no
//! Postgres answers.

#![allow(dead_code)]

pub mod browser;
pub mod console;
pub mod definitions;
pub mod examples;
pub mod fc_stub;
pub mod load;
pub mod openapi;
pub mod process;

use std::time::{Duration, Instant};

use fnf_server::auth::v1;
use fnf_server::config::Config;
use fnf_server::server::{RunningServer, start};
use serde_json::Value;
use sqlx::Connection;

pub const ACCESS_KEY_ID: &str = "test-access-key";
pub const ACCESS_KEY_SECRET: &str = "test-access-secret";
pub const ACCOUNT_ID: &str = "1111111111111111";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each test body once per backend: `backend_tests! { async fn name(backend) { … } }`
/// expands to `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($backend: $crate::common::Backend) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::common::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::common::Backend::Postgres).await
                }
            }
        )*
    };
}

/// The admin URL of the Postgres the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|url| url.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty Postgres database for one test; dropped by `drop_database`.
pub async fn create_database() -> (String, String) {
    let admin = postgres_admin_url();
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Postgres tests need a server: set TEST_DATABASE_URL (tried {admin}): {e}. \
             Run ./scripts/test, which finds or starts one."
            )
        });
    let name = format!("fnf_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await
        .expect("creating a test database");
    (with_database(&admin, &name), name)
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

pub async fn drop_database(name: &str) {
    if let Ok(mut connection) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut connection)
        .await;
    }
}

/// Where a test server keeps its data.
pub struct Storage {
    pub backend: Backend,
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

impl Storage {
    pub async fn new(backend: Backend) -> Storage {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("fnf.db");
                Storage {
                    backend,
                    database_url: format!("sqlite://{}", path.display()),
                    _dir: Some(dir),
                    pg_database: None,
                }
            }
            Backend::Postgres => {
                let (url, name) = create_database().await;
                Storage {
                    backend,
                    database_url: url,
                    _dir: None,
                    pg_database: Some(name),
                }
            }
        }
    }

    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_database {
            drop_database(name).await;
        }
    }
}

/// The configuration tests start servers with: one known key, loopback, port 0.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::defaults();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.database_url = database_url.to_string();
    config.access_key_id = Some(ACCESS_KEY_ID.into());
    config.access_key_secret = Some(ACCESS_KEY_SECRET.into());
    config.account_id = ACCOUNT_ID.into();
    config.credentials_file = None;
    config.throttle_rps = None;
    config.throttle_burst = None;
    config.fc_endpoint = None;
    config.fc_functions_file = None;
    config.lease_seconds = 3;
    config.shutdown_grace_seconds = 2;
    config
}

/// A running server with its storage.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub storage: Option<Storage>,
    pub endpoint: String,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::start_with(backend, |_| {}).await
    }

    /// Starts with a configuration adjusted by `adjust`.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let storage = Storage::new(backend).await;
        let mut config = test_config(&storage.database_url);
        adjust(&mut config);
        TestServer::start_on(storage, config).await
    }

    pub async fn start_on(storage: Storage, config: Config) -> TestServer {
        let server = start(config).await.expect("the test server starts");
        TestServer {
            endpoint: server.addr.to_string(),
            server: Some(server),
            storage: Some(storage),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    }

    pub fn client_with_key(&self, key: &str, secret: &str) -> Client {
        Client::new(&self.endpoint, key, secret)
    }

    /// Stops the server and removes its storage.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        if let Some(storage) = self.storage.take() {
            storage.cleanup().await;
        }
    }
}

/// An answer: status and parsed JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["Message"].as_str().unwrap_or("")
    }

    /// Asserts success and returns the body.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(
            self.status, 200,
            "expected success, got {}: {}",
            self.status, self.body
        );
        assert!(
            self.body["RequestId"].is_string(),
            "no RequestId in {}",
            self.body
        );
        assert!(
            self.body.get("Code").is_none(),
            "a Code in a success body: {}",
            self.body
        );
        &self.body
    }

    /// Asserts an error with this status and code.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer: {}",
            self.body
        );
        for member in ["RequestId", "HostId", "Code", "Message"] {
            assert!(
                self.body[member].is_string(),
                "{member} is not a string in {}",
                self.body
            );
        }
        self
    }
}

/// Signs and sends RPC calls like the SDKs (V1, HMAC-SHA1).
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub endpoint: String,
    pub key: String,
    pub secret: String,
}

impl Client {
    pub fn new(endpoint: &str, key: &str, secret: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(90))
                .build()
                .unwrap(),
            endpoint: endpoint.to_string(),
            key: key.to_string(),
            secret: secret.to_string(),
        }
    }

    /// The common parameters of a signed request, with a fresh nonce.
    pub fn common(&self, action: &str) -> Vec<(String, String)> {
        vec![
            ("Action".into(), action.into()),
            ("Version".into(), "2019-03-15".into()),
            ("AccessKeyId".into(), self.key.clone()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            (
                "SignatureNonce".into(),
                uuid::Uuid::new_v4().simple().to_string(),
            ),
            (
                "Timestamp".into(),
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("Format".into(), "JSON".into()),
        ]
    }

    /// Adds `Signature` over all parameters for `method`.
    pub fn sign(&self, method: &str, params: &mut Vec<(String, String)>) {
        let string_to_sign =
            v1::string_to_sign(method, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        params.push(("Signature".into(), v1::sign(&self.secret, &string_to_sign)));
    }

    /// POST with every parameter in the form body (like the Node SDK).
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Answer {
        self.try_call(action, params)
            .await
            .expect("the server answers")
    }

    /// `call` that reports a failed connection (a killed server) instead of panicking.
    pub async fn try_call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let all = self.signed_params("POST", action, params);
        self.try_send_form("POST", &[], &all).await
    }

    /// The common parameters, `params` and the signature for `method`.
    fn signed_params(
        &self,
        method: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let mut all = self.common(action);
        all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.sign(method, &mut all);
        all
    }

    /// GET with every parameter in the query (like the SDKs' GET actions).
    pub async fn get(&self, action: &str, params: &[(&str, &str)]) -> Answer {
        self.try_get(action, params)
            .await
            .expect("the server answers")
    }

    pub async fn try_get(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let all = self.signed_params("GET", action, params);
        self.try_send_form("GET", &all, &[]).await
    }

    /// Sends already signed parameters: `query` in the URL, `body` as a form.
    pub async fn send_form(
        &self,
        method: &str,
        query: &[(String, String)],
        body: &[(String, String)],
    ) -> Answer {
        self.try_send_form(method, query, body)
            .await
            .expect("the server answers")
    }

    pub async fn try_send_form(
        &self,
        method: &str,
        query: &[(String, String)],
        body: &[(String, String)],
    ) -> Result<Answer, reqwest::Error> {
        let url = format!("http://{}/?{}", self.endpoint, encode_form(query));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, url);
        if !body.is_empty() {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode_form(body));
        }
        try_answer(request.send().await?).await
    }

    /// Sends a raw request (for malformed-input tests).
    pub async fn raw(&self, request: reqwest::RequestBuilder) -> Answer {
        answer(request.send().await.expect("the server answers")).await
    }

    /// Creates a flow; panics unless it worked.
    pub async fn create_flow(&self, name: &str, definition: &str) -> Value {
        self.create_flow_with(name, definition, &[]).await
    }

    pub async fn create_flow_with(
        &self,
        name: &str,
        definition: &str,
        extra: &[(&str, &str)],
    ) -> Value {
        let mut params = vec![
            ("Name", name),
            ("Definition", definition),
            ("Description", "test flow"),
            ("Type", "FDL"),
        ];
        params.extend_from_slice(extra);
        self.call("CreateFlow", &params).await.ok().clone()
    }

    /// Starts an execution; panics unless it worked.
    pub async fn start(&self, flow: &str, name: &str, input: &str) -> Value {
        self.call(
            "StartExecution",
            &[
                ("FlowName", flow),
                ("ExecutionName", name),
                ("Input", input),
            ],
        )
        .await
        .ok()
        .clone()
    }

    pub async fn describe(&self, flow: &str, execution: &str) -> Value {
        self.get(
            "DescribeExecution",
            &[("FlowName", flow), ("ExecutionName", execution)],
        )
        .await
        .ok()
        .clone()
    }

    /// Waits (long polling, with a deadline) until the execution is terminal.
    pub async fn wait_end(&self, flow: &str, execution: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let wait = left.as_secs().clamp(1, 20).to_string();
            let body = self
                .get(
                    "DescribeExecution",
                    &[
                        ("FlowName", flow),
                        ("ExecutionName", execution),
                        ("WaitTimeSeconds", &wait),
                    ],
                )
                .await
                .ok()
                .clone();
            let status = body["Status"].as_str().unwrap_or_default().to_string();
            if !matches!(status.as_str(), "Running" | "Starting") {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "execution {flow}/{execution} still {status} after {within:?}"
            );
        }
    }

    /// Waits until the execution's history has an event of this type; returns the history.
    pub async fn wait_event(
        &self,
        flow: &str,
        execution: &str,
        event_type: &str,
        within: Duration,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let events = self.history(flow, execution).await;
            if events.iter().any(|e| e["Type"] == event_type) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "no {event_type} in {flow}/{execution} after {within:?}: {events:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The whole history (following NextToken).
    pub async fn history(&self, flow: &str, execution: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = vec![
                ("FlowName", flow),
                ("ExecutionName", execution),
                ("Limit", "999"),
            ];
            if let Some(token) = &token {
                params.push(("NextToken", token));
            }
            let body = self.get("GetExecutionHistory", &params).await.ok().clone();
            events.extend(body["Events"].as_array().cloned().unwrap_or_default());
            match body["NextToken"].as_str() {
                Some(next) => token = Some(next.to_string()),
                None => return events,
            }
        }
    }
}

/// Form-encodes pairs the way the SDKs do (`%20` for spaces, everything reserved escaped).
pub fn encode_form(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", v1::percent_encode(k), v1::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn answer(response: reqwest::Response) -> Answer {
    try_answer(response)
        .await
        .unwrap_or_else(|e| panic!("reading the answer: {e}"))
}

/// Fails when the body cannot be read (the server died while answering).
async fn try_answer(response: reqwest::Response) -> Result<Answer, reqwest::Error> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await?;
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("the answer is not JSON (status {status}): {text:?}"));
    Ok(Answer {
        status,
        body,
        headers,
    })
}

/// Parses a JSON text field of a response (Input, Output, EventDetail).
pub fn json_field(value: &Value, field: &str) -> Value {
    let text = value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {value}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{field} is not JSON ({e}): {text}"))
}

/// A server whose Function Compute endpoint is a fresh stub (Appendix A functions).
pub async fn start_with_stub(backend: Backend) -> (TestServer, fc_stub::FcStub) {
    let stub = fc_stub::FcStub::start().await;
    let endpoint = stub.endpoint();
    let server = TestServer::start_with(backend, |c| c.fc_endpoint = Some(endpoint)).await;
    (server, stub)
}

/// How an execution ended: its status, its output when it succeeded, and the error and cause
/// of its last event (ExecutionFailed / ExecutionTimedOut / ExecutionStopped).
#[derive(Debug, Clone)]
pub struct Ended {
    pub status: String,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub events: Vec<Value>,
}

/// Starts an execution, waits for its end and reads its history.
pub async fn run_execution(
    client: &Client,
    flow: &str,
    execution: &str,
    input: &str,
    within: Duration,
) -> Ended {
    client.start(flow, execution, input).await;
    ended_execution(client, flow, execution, within).await
}

/// Waits for an execution's end and reads its history.
pub async fn ended_execution(
    client: &Client,
    flow: &str,
    execution: &str,
    within: Duration,
) -> Ended {
    let described = client.wait_end(flow, execution, within).await;
    let status = described["Status"].as_str().unwrap_or_default().to_string();
    let output = match described["Output"].as_str() {
        Some(text) if status == "Succeeded" => Some(
            serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("Output is not JSON ({e}): {text}")),
        ),
        _ => None,
    };
    let events = client.history(flow, execution).await;
    let last = events.last().cloned().unwrap_or_default();
    let (error, cause) = match last["Type"].as_str() {
        Some("ExecutionFailed" | "ExecutionTimedOut" | "ExecutionStopped") => {
            let detail = json_field(&last, "EventDetail");
            (
                detail["error"].as_str().map(str::to_string),
                detail["cause"].as_str().map(str::to_string),
            )
        }
        _ => (None, None),
    };
    Ended {
        status,
        output,
        error,
        cause,
        events,
    }
}

/// The parsed `EventDetail` of a history event.
pub fn event_detail(event: &Value) -> Value {
    json_field(event, "EventDetail")
}

/// The `Type`s of a history, in order.
pub fn event_types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["Type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Awaits concurrent calls and counts those that succeeded; every other one must have been
/// refused with this status and code.
pub async fn count_successes(
    calls: Vec<tokio::task::JoinHandle<Answer>>,
    status: u16,
    code: &str,
) -> usize {
    let mut succeeded = 0;
    for call in calls {
        let answer = call.await.expect("the call task runs");
        if answer.status == 200 {
            succeeded += 1;
        } else {
            answer.err(status, code);
        }
    }
    succeeded
}

/// ReportTaskSucceeded with this token and output text.
pub async fn report_succeeded(client: &Client, token: &str, output: &str) -> Answer {
    client
        .call(
            "ReportTaskSucceeded",
            &[("TaskToken", token), ("Output", output)],
        )
        .await
}

/// ReportTaskFailed with this token, error and cause.
pub async fn report_failed(client: &Client, token: &str, error: &str, cause: &str) -> Answer {
    client
        .call(
            "ReportTaskFailed",
            &[("TaskToken", token), ("Error", error), ("Cause", cause)],
        )
        .await
}

/// Waits until the stub has recorded `count` invocations of `function`; returns them.
pub async fn wait_invocations(
    stub: &fc_stub::FcStub,
    function: &str,
    count: usize,
    within: Duration,
) -> Vec<fc_stub::Invocation> {
    let deadline = Instant::now() + within;
    loop {
        let invocations = stub.invocations_of(function);
        if invocations.len() >= count {
            return invocations;
        }
        assert!(
            Instant::now() < deadline,
            "{function} was invoked {} times, not {count}, within {within:?}",
            invocations.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The gaps in seconds between consecutive invocations.
pub fn invocation_gaps(invocations: &[fc_stub::Invocation]) -> Vec<f64> {
    invocations
        .windows(2)
        .map(|pair| pair[1].at.duration_since(pair[0].at).as_secs_f64())
        .collect()
}

/// Milliseconds between two history events' `Time`s.
pub fn event_time_gap_ms(from: &Value, to: &Value) -> i64 {
    let time = |event: &Value| {
        let text = event["Time"].as_str().expect("an event Time");
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("Time is not RFC 3339 ({e}): {text}"))
            .timestamp_millis()
    };
    time(to) - time(from)
}
/// Asserts a response time: RFC 3339 in UTC with milliseconds and `Z` (docs/COMPATIBILITY.md#responses), e.g.
/// `2024-05-01T12:00:00.123Z`; returns it as epoch milliseconds.
#[track_caller]
pub fn assert_time_ms(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a time must be a string, got {value}"));
    let shape = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").unwrap();
    assert!(
        shape.is_match(text),
        "not RFC 3339 UTC with milliseconds: {text}"
    );
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("unparseable time {text}: {e}"))
        .timestamp_millis()
}

/// Asserts the server's `RequestId` form: an upper-case UUID v4 (docs/COMPATIBILITY.md#responses), echoed in
/// the `x-acs-request-id` header.
#[track_caller]
pub fn assert_request_id(answer: &Answer) {
    let id = answer.body["RequestId"]
        .as_str()
        .unwrap_or_else(|| panic!("no RequestId in {}", answer.body));
    let parsed = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("RequestId {id}: {e}"));
    assert_eq!(parsed.get_version_num(), 4, "RequestId {id}");
    assert_eq!(id, id.to_uppercase(), "RequestId is not upper case");
    assert_eq!(
        answer
            .headers
            .get("x-acs-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(id),
        "x-acs-request-id header"
    );
}

/// Asserts that a JSON object has exactly these members (order ignored).
#[track_caller]
pub fn assert_keys(value: &Value, expected: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "members of {value}");
}

/// A state machine that forwards its input (one Pass state).
pub fn pass_state_machine(name: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: p\nStates:\n  - Type: Pass\n    Name: p\n    End: true\n"
    )
}

/// A state machine that waits `seconds` (1–300) and then forwards its input.
pub fn wait_state_machine(name: &str, seconds: u32) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: w\nStates:\n  - Type: Wait\n    Name: w\n    Seconds: {seconds}\n    End: true\n"
    )
}

impl Storage {
    /// A fresh Postgres database whose default collation is linguistic (ICU `en`) instead
    /// of the byte order of `C`, as on many installations (the official Docker image
    /// initialises its cluster with `en_US.utf8`).
    pub async fn postgres_with_linguistic_collation() -> Storage {
        let admin = postgres_admin_url();
        let mut connection = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("Postgres tests need a server (tried {admin}): {e}"));
        let name = format!("fnf_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en'"
        )))
        .execute(&mut connection)
        .await
        .expect("creating a test database with an ICU collation");
        Storage {
            backend: Backend::Postgres,
            database_url: with_database(&admin, &name),
            _dir: None,
            pg_database: Some(name),
        }
    }
}
// ---------------------------------------------------------------------------------------
// Helpers for the gateway and signing tests: hand-built V1 requests, V3 signing, raw HTTP
// and the response envelope of docs/COMPATIBILITY.md#responses–1.7.

/// The `Message` of `SignatureNotMatch` before any debugging suffix (docs/COMPATIBILITY.md#authentication).
pub const SIGNATURE_NOT_MATCH: &str = "The request signature we calculated does not match the signature you provided. Check your access key and signing method.";

/// The `x-acs-content-sha256` of an empty body (docs/COMPATIBILITY.md#v3-signatures).
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

impl Answer {
    /// Asserts an error with this status, code and exact message.
    #[track_caller]
    pub fn err_msg(&self, status: u16, code: &str, message: &str) -> &Self {
        self.err(status, code);
        assert_eq!(
            self.message(),
            message,
            "unexpected message in {}",
            self.body
        );
        self
    }

    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Asserts the envelope every answer must have (docs/COMPATIBILITY.md#responses–1.7): JSON object, the JSON
/// content type, `x-acs-request-id` equal to the body's `RequestId`; success bodies without
/// `Code`; error bodies with string members and `HostId` equal to the `Host` used.
#[track_caller]
pub fn assert_envelope(answer: &Answer, host: &str) {
    assert!(
        answer.body.is_object(),
        "not a JSON object: {}",
        answer.body
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/json;charset=utf-8"),
        "content type of {}",
        answer.body
    );
    let request_id = answer.body["RequestId"]
        .as_str()
        .unwrap_or_else(|| panic!("no string RequestId in {}", answer.body));
    assert_eq!(
        answer.headers.get("x-acs-request-id").map(|v| v.as_bytes()),
        Some(request_id.as_bytes()),
        "x-acs-request-id differs from the body's RequestId"
    );
    if answer.status < 400 {
        assert_eq!(
            answer.status, 200,
            "a success is always 200: {}",
            answer.body
        );
        assert!(answer.body.get("Code").is_none(), "Code in {}", answer.body);
    } else {
        for member in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
            assert!(
                answer.body[member].is_string(),
                "{member} is not a string in {}",
                answer.body
            );
        }
        assert_eq!(answer.body["HostId"], host, "HostId of {}", answer.body);
        assert!(!answer.code().is_empty() && !answer.message().is_empty());
    }
}

/// Form-encodes pairs like Python's `urlencode` (both Python SDKs' bodies, the new SDK's
/// query): `+` for spaces, `A–Z a–z 0–9 _ . - ~` kept, every other byte as `%XX`.
pub fn encode_form_plus(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn quote_plus(text: &str) -> String {
    v1::percent_encode(text).replace("%20", "+")
}

/// Owned pairs from borrowed ones.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Replaces (or adds) a parameter.
pub fn set_param(params: &mut Vec<(String, String)>, name: &str, value: &str) {
    params.retain(|(k, _)| k != name);
    params.push((name.to_string(), value.to_string()));
}

/// Removes a parameter.
pub fn remove_param(params: &mut Vec<(String, String)>, name: &str) {
    params.retain(|(k, _)| k != name);
}

/// The V1 signature of these parameters (all of them, wherever they will be sent).
pub fn v1_signature(secret: &str, method: &str, params: &[(String, String)]) -> String {
    let string_to_sign =
        v1::string_to_sign(method, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    v1::sign(secret, &string_to_sign)
}

impl Client {
    /// The common parameters plus `params`, changed by `adjust`, then signed for `method`.
    pub fn signed(
        &self,
        method: &str,
        action: &str,
        params: &[(&str, &str)],
        adjust: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Vec<(String, String)> {
        let mut all = self.common(action);
        all.extend(pairs(params));
        adjust(&mut all);
        self.sign(method, &mut all);
        all
    }

    /// Sends raw text: `query` after `/?` (no `?` when `None`) and `body` as a form when
    /// given.
    pub async fn send_text(&self, method: &str, query: Option<&str>, body: Option<&str>) -> Answer {
        let url = match query {
            Some(query) => format!("http://{}/?{query}", self.endpoint),
            None => format!("http://{}/", self.endpoint),
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_string());
        }
        self.raw(request).await
    }

    /// A V3 request (docs/COMPATIBILITY.md#v3-signatures) signed with this client's key, like the generic Tea client.
    pub fn v3(&self, method: &str, action: &str) -> V3Request {
        V3Request {
            endpoint: self.endpoint.clone(),
            key: self.key.clone(),
            secret: self.secret.clone(),
            method: method.to_string(),
            query: Vec::new(),
            body: Vec::new(),
            headers: vec![
                ("host".into(), self.endpoint.clone()),
                ("x-acs-action".into(), action.into()),
                ("x-acs-version".into(), "2019-03-15".into()),
                (
                    "x-acs-date".into(),
                    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                ),
                (
                    "x-acs-signature-nonce".into(),
                    uuid::Uuid::new_v4().simple().to_string(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            signed_headers: None,
        }
    }
}

/// A V3 request being built: set its parts, then `authorization()` / `send()`.
#[derive(Clone)]
pub struct V3Request {
    pub endpoint: String,
    pub key: String,
    pub secret: String,
    pub method: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Lower-case names; `host` and the `x-acs-*` headers are preset.
    pub headers: Vec<(String, String)>,
    /// The `SignedHeaders` list; by default every header except `accept`, sorted.
    pub signed_headers: Option<Vec<String>>,
}

impl V3Request {
    pub fn query(mut self, params: &[(&str, &str)]) -> Self {
        self.query.extend(pairs(params));
        self
    }

    /// A form body, `%20`-encoded, with its content type and content hash.
    pub fn form(mut self, params: &[(&str, &str)]) -> Self {
        self.body = encode_form(&pairs(params)).into_bytes();
        self.set_header("content-type", "application/x-www-form-urlencoded");
        self
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| k != name);
        self.headers.push((name.to_string(), value.to_string()));
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(k, _)| k != name);
    }

    /// Adds `x-acs-content-sha256` for the current body (the SDK always sends it).
    pub fn with_content_hash(mut self) -> Self {
        let hash = fnf_server::auth::v3::hashed_payload(&self.body);
        self.set_header("x-acs-content-sha256", &hash);
        self
    }

    fn signed_header_names(&self) -> Vec<String> {
        self.signed_headers.clone().unwrap_or_else(|| {
            let mut names: Vec<String> = self
                .headers
                .iter()
                .map(|(k, _)| k.clone())
                .filter(|k| k != "accept")
                .collect();
            names.sort();
            names
        })
    }

    /// The canonical request for the current parts.
    pub fn canonical_request(&self) -> String {
        use fnf_server::auth::v3;
        let payload = v3::hashed_payload(&self.body);
        v3::canonical_request(
            &self.method,
            &self.query,
            &self.headers,
            &self.signed_header_names(),
            &payload,
        )
        .expect("every signed header is present")
    }

    /// The `Authorization` header for the current parts.
    pub fn authorization(&self) -> String {
        use fnf_server::auth::v3;
        let string_to_sign = v3::string_to_sign(&self.canonical_request());
        format!(
            "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={}",
            self.key,
            self.signed_header_names().join(";"),
            v3::sign(&self.secret, &string_to_sign)
        )
    }

    /// Signs and sends.
    pub async fn send(&self) -> Answer {
        let authorization = self.authorization();
        self.send_with_authorization(&authorization).await
    }

    /// Sends with the given `Authorization` (for tampering after signing).
    pub async fn send_with_authorization(&self, authorization: &str) -> Answer {
        let url = format!("http://{}/?{}", self.endpoint, encode_form(&self.query));
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut request = http.request(method, url).body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request = request.header("authorization", authorization);
        answer(request.send().await.expect("the server answers")).await
    }
}

/// An answer read off a raw socket: status, headers (names lower case) and body bytes.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "the answer is not JSON (status {}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Writes `request` (a whole HTTP/1.1 request; add `Connection: close`) to the server and
/// reads the answer until the server closes the connection.
pub async fn raw_http(endpoint: &str, request: &[u8]) -> RawAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(endpoint)
        .await
        .expect("connecting to the test server");
    // The server may answer before reading everything (e.g. a body over the limit).
    let _ = stream.write_all(request).await;
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut bytes)).await;
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&bytes)));
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    RawAnswer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = &data[(end + 2).min(data.len())..];
    }
    out
}
