//! Data as deep as the engine allows (256 levels) is read back whole wherever it is stored or
//! received: a child's output reaches its parent, a nested flow and a distributed Map child
//! start with their deep input, a report may carry it. A signal that cannot be read fails
//! its execution instead of leaving it waiting forever.

use crate::common;

use std::time::Duration;

use common::{Client, TestServer, json_field};
use fnf_server::store::{OutgoingSignal, WorkNotice};
use serde_json::Value;

const WITHIN: Duration = Duration::from_secs(30);

/// `levels` nested arrays around `1`.
fn nested(levels: usize) -> String {
    "[".repeat(levels) + "1" + &"]".repeat(levels)
}

/// How deeply arrays and objects nest in JSON text (the texts here have no brackets inside
/// strings). serde_json stops at 128 levels, so the test does not parse what it measures.
fn depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    deepest
}

/// A YAML flow mapping `{"w": {"w": … {"<inner>.$": "<path>"} …}}` of `levels` levels.
fn wrapped(levels: usize, path: &str) -> String {
    "{\"w\": ".repeat(levels - 1) + &format!("{{\"v.$\": \"{path}\"}}") + &"}".repeat(levels - 1)
}

/// The text of a field of a response (Input, Output), which may be too deep for serde_json.
fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {value}"))
        .to_string()
}

/// Starts `echo` and waits for a report to its task token, which it hands to `echo`.
const ASKS_WITH_TOKEN: &str = "Type: StateMachine\nName: asks\nSpecVersion: v1\nStartAt: ask\nStates:\n  - Type: Task\n    Name: ask\n    Action: FNF:StartExecution\n    TaskMode: WaitForCustomCallback\n    Parameters:\n      resourceArn: acs:fnf:::flow/echo\n      input:\n        token.$: $Context.Current.TaskToken\n    End: true\n";

/// The same, keeping the token to itself: only a signal can end its wait.
const ASKS: &str = "Type: StateMachine\nName: asks\nSpecVersion: v1\nStartAt: ask\nStates:\n  - Type: Task\n    Name: ask\n    Action: FNF:StartExecution\n    TaskMode: WaitForCustomCallback\n    Parameters:\n      resourceArn: acs:fnf:::flow/echo\n    End: true\n";

/// Passes its input on.
fn pass_flow(name: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: p\nStates:\n  - Type: Pass\n    Name: p\n    End: true\n"
    )
}

/// Starts `child` with `input` (a YAML flow mapping) and waits for its end.
fn parent_flow(name: &str, child: &str, input: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: call\nStates:\n  - Type: Task\n    Name: call\n    Action: FNF:StartExecution\n    TaskMode: WaitForSystemCallback\n    Parameters:\n      resourceArn: acs:fnf:::flow/{child}\n      input: {input}\n    End: true\n"
    )
}

/// The only execution of a flow.
async fn only_execution(client: &Client, flow: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![("FlowName", flow)];
    params.extend_from_slice(extra);
    let listed = client.get("ListExecutions", &params).await.ok().clone();
    let executions = listed["Executions"].as_array().unwrap();
    assert_eq!(executions.len(), 1, "{listed}");
    executions[0].clone()
}

backend_tests! {
    async fn a_deep_child_output_reaches_its_parent(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        // The child wraps the 120 levels it gets in 10 more: its output nests 130 levels,
        // and the signal carrying it to the parent 133 (serde_json alone reads 128).
        let child = format!(
            "Type: StateMachine\nName: deepen\nSpecVersion: v1\nStartAt: p\nStates:\n  - Type: Pass\n    Name: p\n    OutputConstructor: {}\n    End: true\n",
            wrapped(10, "$Input.deep")
        );
        client.create_flow("deepen", &child).await;
        client.create_flow("waits", &parent_flow("waits", "deepen", "{\"deep.$\": \"$Input.deep\"}")).await;
        let input = format!("{{\"deep\": {}}}", nested(120));
        client.start("waits", "run", &input).await;
        let ended = client.wait_end("waits", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        let output = text(&ended, "Output");
        assert_eq!(depth(&output), 130);
        let child = only_execution(&client, "deepen", &[]).await;
        let child = client.describe("deepen", child["Name"].as_str().unwrap()).await;
        assert_eq!(text(&child, "Output"), output);
        server.stop().await;
    }

    async fn a_nested_flow_starts_with_its_deep_input(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("echo", &pass_flow("echo")).await;
        // 120 levels from the parent's input, in 80 of the task's: the child gets 200.
        let parent = parent_flow("nests", "echo", &wrapped(80, "$Input.deep"));
        client.create_flow("nests", &parent).await;
        client.start("nests", "run", &format!("{{\"deep\": {}}}", nested(120))).await;
        let ended = client.wait_end("nests", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        let child = only_execution(&client, "echo", &[]).await;
        let child = client.describe("echo", child["Name"].as_str().unwrap()).await;
        let input = text(&child, "Input");
        assert_eq!(depth(&input), 200);
        assert_eq!(text(&child, "Output"), input, "the child ran with its input");
        assert_eq!(text(&ended, "Output"), input);
        server.stop().await;
    }

    async fn a_distributed_map_child_starts_with_its_deep_input(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let flow = format!(
            "Type: StateMachine\nName: fan\nSpecVersion: v1\nStartAt: Fan\nStates:\n  - Type: Map\n    Name: Fan\n    ItemsPath: $Input.items\n    ProcessorConfig:\n      Mode: Distributed\n    ItemConstructor: {}\n    Processor:\n      StartAt: Work\n      States:\n        - Type: Pass\n          Name: Work\n          End: true\n    End: true\n",
            wrapped(80, "$Item")
        );
        client.create_flow("fan", &flow).await;
        // Items of 120 levels, each in 80 more: the child gets 200.
        client.start("fan", "run", &format!("{{\"items\": [{}]}}", nested(120))).await;
        let ended = client.wait_end("fan", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        let events = client.history("fan", "run").await;
        let started = events.iter().find(|e| e["Type"] == "MapRunStarted").unwrap();
        let map_run = json_field(started, "EventDetail")["output"]["MapRunName"].as_str().unwrap().to_string();
        let child = only_execution(&client, "fan", &[("MapRunName", &map_run)]).await;
        let child = client.describe("fan", child["Name"].as_str().unwrap()).await;
        let input = text(&child, "Input");
        assert_eq!(depth(&input), 200);
        assert_eq!(text(&child, "Output"), input, "the child ran with its input");
        server.stop().await;
    }

    async fn a_report_may_carry_data_as_deep_as_the_engine_allows(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("echo", &pass_flow("echo")).await;
        client.create_flow("asks", ASKS_WITH_TOKEN).await;
        client.start("asks", "run", "{}").await;
        client.wait_event("asks", "run", "TaskSubmitted", WITHIN).await;
        let child = only_execution(&client, "echo", &[]).await;
        let child = client.wait_end("echo", child["Name"].as_str().unwrap(), WITHIN).await;
        let token = json_field(&child, "Input")["token"].as_str().unwrap().to_string();
        let report = |output: String| {
            let (client, token) = (client.clone(), token.clone());
            async move {
                client.call("ReportTaskSucceeded", &[("TaskToken", &token), ("Output", &output)]).await
            }
        };
        let refused = report(format!("{{\"deep\": {}}}", nested(256))).await;
        refused.err(400, "InvalidArgument");
        assert!(refused.message().contains("nested more than 256 levels"), "{}", refused.message());
        report(format!("{{\"deep\": {}}}", nested(200))).await.ok();
        let ended = client.wait_end("asks", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        assert_eq!(depth(&text(&ended, "Output")), 201);
        server.stop().await;
    }

    async fn an_unreadable_signal_fails_the_execution_it_is_for(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("echo", &pass_flow("echo")).await;
        client.create_flow("asks", ASKS).await;
        client.start("asks", "run", "{}").await;
        client.wait_event("asks", "run", "TaskSubmitted", WITHIN).await;
        // A signal no version of the server could read (written by a damaged or foreign
        // writer), as another replica would leave it: stored, and announced.
        let store = server.server.as_ref().unwrap().state.store.clone();
        let flow = store.get_flow(common::ACCOUNT_ID, "asks").await.unwrap().unwrap();
        let execution = store.get_execution(&flow.id, "run").await.unwrap().unwrap();
        let payload = format!("{{\"Callback\": {}}}", nested(100_000));
        store
            .push_signal(&OutgoingSignal { execution_id: execution.identity.id, payload }, fnf_server::time::now_ms())
            .await
            .unwrap();
        store.notify(WorkNotice::Work).await.unwrap();
        let ended = client.wait_end("asks", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Failed", "{ended}");
        let events = client.history("asks", "run").await;
        let failed = events.iter().find(|e| e["Type"] == "ExecutionFailed").unwrap();
        let detail = json_field(failed, "EventDetail");
        assert_eq!(detail["error"], "FnF.RuntimeError");
        let cause = detail["cause"].as_str().unwrap();
        assert!(cause.contains("a signal for the execution is unreadable"), "{cause}");
        server.stop().await;
    }
}
