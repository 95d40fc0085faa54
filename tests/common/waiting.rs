//! Waiting, with a deadline, for an execution's end or one of its events and for stub
//! invocations; and reading what the history then says.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Client, fc_stub, json_field};

impl Client {
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
