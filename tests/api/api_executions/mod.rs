//! Execution actions (docs/COMPATIBILITY.md#executions): StartExecution, DescribeExecution (long polling),
//! ListExecutions, GetExecutionHistory and StopExecution, over both backends.

mod concurrency_and_limits;
mod describe;
mod history;
mod list;
mod start;
mod stop;

use crate::common;

use std::time::{Duration, Instant};

use common::{
    Answer, Client, TestServer, assert_keys, assert_request_id, assert_time_ms, json_field,
    pass_state_machine, wait_state_machine,
};
use serde_json::{Value, json};

const NOT_STOPPED: &str = "1970-01-01T00:00:00Z";
const EXECUTION_KEYS: [&str; 9] = [
    "Name",
    "FlowName",
    "FlowDefinition",
    "Input",
    "Output",
    "Status",
    "StartedTime",
    "StoppedTime",
    "RequestId",
];
const TEN_SECONDS: Duration = Duration::from_secs(10);

/// One flow whose input picks the ending: `{"mode":"wait"}` waits 300 s, `{"mode":"fail"}`
/// fails with `Boom`, anything else succeeds at once with its input as output.
fn router(name: &str) -> String {
    format!(
        r#"Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: route
States:
  - Type: Choice
    Name: route
    Branches:
      - Condition: $Input.mode == "wait"
        Next: hold
      - Condition: $Input.mode == "fail"
        Next: boom
    Default: done
  - Type: Wait
    Name: hold
    Seconds: 300
    End: true
  - Type: Fail
    Name: boom
    Code: Boom
    Detail: it broke
  - Type: Pass
    Name: done
    End: true
"#
    )
}

async fn start(client: &Client, params: &[(&str, &str)]) -> Answer {
    client.call("StartExecution", params).await
}

async fn describe(client: &Client, flow: &str, execution: &str) -> Answer {
    client
        .get(
            "DescribeExecution",
            &[("FlowName", flow), ("ExecutionName", execution)],
        )
        .await
}

async fn stop(client: &Client, flow: &str, execution: &str, extra: &[(&str, &str)]) -> Answer {
    let mut params = vec![("FlowName", flow), ("ExecutionName", execution)];
    params.extend_from_slice(extra);
    client.call("StopExecution", &params).await
}

async fn list(client: &Client, flow: &str, extra: &[(&str, &str)]) -> Answer {
    let mut params = vec![("FlowName", flow)];
    params.extend_from_slice(extra);
    client.get("ListExecutions", &params).await
}

fn names(body: &Value) -> Vec<String> {
    body["Executions"]
        .as_array()
        .unwrap_or_else(|| panic!("no Executions in {body}"))
        .iter()
        .map(|e| e["Name"].as_str().unwrap().to_string())
        .collect()
}

fn end_events(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e["Type"].as_str().unwrap(),
                "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionStopped"
            )
        })
        .collect()
}
