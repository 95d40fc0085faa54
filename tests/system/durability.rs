//! Durability: the server process is killed (SIGKILL) while executions wait on a timer, a
//! task call, a retry delay and a callback; a new process on the same store finishes every
//! one of them with the right output and a history without gaps or duplicate steps. The
//! call that was in flight is made again, and the history records the lost attempt.

use crate::common;

use std::time::Duration;

use common::fc_stub::FcStub;
use common::process::ServerProcess;
use common::{Backend, Storage, json_field};
use serde_json::json;

const WAIT_FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: wait\n    name: pause\n    duration: 3\n  - type: pass\n    name: after\n    outputMappings:\n      - target: waited\n        source: true\n";

const CALL_FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: slow\n    resourceArn: acs:fc:::services/fixtures/functions/sleep\n    inputMappings:\n      - target: seconds\n        source: 2\n    outputMappings:\n      - target: called\n        source: true\n";

const RETRY_FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: flaky\n    resourceArn: acs:fc:::services/fixtures/functions/flaky\n    inputMappings:\n      - target: failTimes\n        source: 1\n      - target: key\n        source: $context.execution.name\n    retry:\n      - errors: [TransientError]\n        intervalSeconds: 3\n        maxAttempts: 2\n";

const CALLBACK_FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: approval\n    resourceArn: acs:fc:::services/fixtures/functions/echo\n    pattern: waitForCallback\n    inputMappings:\n      - target: taskToken\n        source: $context.task.token\n";

async fn kill_and_resume(backend: Backend) {
    let stub = FcStub::start().await;
    let storage = Storage::new(backend).await;
    let mut first = ServerProcess::start(&storage.database_url, &stub.endpoint()).await;
    let client = first.client();
    for (flow, definition) in [
        ("waits", WAIT_FLOW),
        ("calls", CALL_FLOW),
        ("retries", RETRY_FLOW),
        ("callbacks", CALLBACK_FLOW),
    ] {
        client.create_flow(flow, definition).await;
        client.start(flow, "run", "{}").await;
    }
    // Each execution reaches the point where it waits.
    let within = Duration::from_secs(15);
    client
        .wait_event("waits", "run", "StepStarted", within)
        .await;
    client
        .wait_event("calls", "run", "TaskStarted", within)
        .await;
    client
        .wait_event("retries", "run", "TaskFailed", within)
        .await;
    client
        .wait_event("callbacks", "run", "TaskSubmitted", within)
        .await;
    first.kill();

    let mut second = ServerProcess::start(&storage.database_url, &stub.endpoint()).await;
    let client = second.client();
    let token = stub.invocations_of("echo")[0].event["taskToken"]
        .as_str()
        .expect("the callback function got its token")
        .to_string();
    client
        .call(
            "ReportTaskSucceeded",
            &[("TaskToken", &token), ("Output", r#"{"approved": true}"#)],
        )
        .await
        .ok();

    let within = Duration::from_secs(30);
    let expected = [
        ("waits", json!({"waited": true})),
        ("calls", json!({"called": true})),
        ("retries", json!({"attempts": 2})),
        ("callbacks", json!({"approved": true})),
    ];
    for (flow, output) in expected {
        let ended = client.wait_end(flow, "run", within).await;
        assert_eq!(ended["Status"], "Succeeded", "{flow}: {ended}");
        assert_eq!(json_field(&ended, "Output"), output, "{flow}");
        common::load::check_history(&client.history(flow, "run").await, flow);
    }
    // The call in flight at the kill was made again, and the history says so.
    assert_eq!(stub.invocations_of("sleep").len(), 2);
    let calls = client.history("calls", "run").await;
    let lost = calls
        .iter()
        .find(|e| e["Type"] == "TaskFailed")
        .expect("the lost attempt is recorded");
    assert_eq!(json_field(lost, "EventDetail")["error"], "FnF.TaskLost");
    let attempts: Vec<i64> = calls
        .iter()
        .filter(|e| e["Type"] == "TaskScheduled")
        .map(|e| json_field(e, "EventDetail")["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2]);
    // The retried task was invoked once per attempt, not more.
    assert_eq!(stub.invocations_of("flaky").len(), 2);
    second.kill();
    storage.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_sigkill() {
    kill_and_resume(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_sigkill() {
    kill_and_resume(Backend::Postgres).await;
}
