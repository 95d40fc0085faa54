//! ReportTaskSucceeded / ReportTaskFailed (docs/COMPATIBILITY.md#task-reports) and `CallbackFnFTaskToken`
//! (docs/COMPATIBILITY.md#executions), over both backends. Waiting tasks need no outside service: a state-machine Task
//! `FNF:StartExecution` in `WaitForCustomCallback` mode hands its token to a child
//! execution's input, where the test reads it. One test uses the stub Function Compute for
//! the FDL `waitForCallback` pattern.

use crate::common;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::fc_stub::FcStub;
use common::{
    Answer, Client, TestServer, assert_keys, assert_request_id, json_field, pass_state_machine,
    postgres_replicas, wait_state_machine,
};
use serde_json::{Value, json};

const TEN_SECONDS: Duration = Duration::from_secs(10);
const NOT_OURS: &str = "Parameter error: TaskToken is not a task token issued by this service";

/// A parent whose task starts `child` and waits for a report to its token (passed to the
/// child as `{"token": …}`); then it ends, or with `hold` waits 300 s more.
fn callback_parent(name: &str, child: &str, hold: bool) -> String {
    let transition = if hold { "Next: hold" } else { "End: true" };
    let mut text = format!(
        r#"Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: ask
States:
  - Type: Task
    Name: ask
    Action: FNF:StartExecution
    TaskMode: WaitForCustomCallback
    Parameters:
      resourceArn: acs:fnf:::flow/{child}
      input:
        token.$: $Context.Current.TaskToken
    {transition}
"#
    );
    if hold {
        text.push_str("  - Type: Wait\n    Name: hold\n    Seconds: 300\n    End: true\n");
    }
    text
}

fn failing_state_machine(name: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: f\nStates:\n  - Type: Fail\n    Name: f\n    Code: Boom\n    Detail: it broke\n"
    )
}

/// Creates the child flow and a parent flow of that name.
async fn callback_flows(client: &Client, parent: &str, hold: bool) {
    let child = format!("{parent}_child");
    client
        .create_flow(&child, &pass_state_machine(&child))
        .await;
    client
        .create_flow(parent, &callback_parent(parent, &child, hold))
        .await;
}

/// Starts an execution of a parent made by `callback_flows` and returns the token its task
/// waits on, read from the input of the child it started.
async fn start_waiting(client: &Client, parent: &str, execution: &str) -> String {
    client.start(parent, execution, "{}").await;
    let events = client
        .wait_event(parent, execution, "TaskSubmitted", TEN_SECONDS)
        .await;
    let submitted = events
        .iter()
        .find(|e| e["Type"] == "TaskSubmitted")
        .unwrap();
    let child_name = json_field(submitted, "EventDetail")["output"]
        .as_str()
        .unwrap_or_else(|| panic!("no child execution name in {submitted}"))
        .to_string();
    let child_flow = format!("{parent}_child");
    let listed = client
        .get("ListExecutions", &[("FlowName", &child_flow)])
        .await
        .ok()
        .clone();
    let child = listed["Executions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["Name"] == child_name.as_str())
        .unwrap_or_else(|| panic!("child {child_name} not listed: {listed}"))
        .clone();
    let described = client.describe(&child_flow, &child_name).await;
    assert_eq!(described["Input"], child["Input"]);
    json_field(&described, "Input")["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in the child's input: {described}"))
        .to_string()
}

/// Sends a report the way the new Python SDK does: `TaskToken` in the query, the rest in
/// the form body.
async fn report(client: &Client, action: &str, token: &str, body: &[(&str, &str)]) -> Answer {
    let mut query = client.common(action);
    query.push(("TaskToken".into(), token.into()));
    let body: Vec<(String, String)> = body
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut all = query.clone();
    all.extend(body.iter().cloned());
    client.sign("POST", &mut all);
    query.push(all.pop().unwrap());
    client.send_form("POST", &query, &body).await
}

fn event<'a>(events: &'a [Value], event_type: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["Type"] == event_type)
        .unwrap_or_else(|| panic!("no {event_type} in {events:?}"))
}

fn decoded(token: &str) -> String {
    String::from_utf8(STANDARD.decode(token).expect("a base64 token")).unwrap()
}

/// Waits on `branches` callbacks at once, one per Parallel branch, each handing its token
/// to a child of `child`.
fn parallel_callbacks(name: &str, child: &str, branches: usize) -> String {
    let mut text = format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: all\nStates:\n  - Type: Parallel\n    Name: all\n    End: true\n    Branches:\n"
    );
    for branch in 0..branches {
        text.push_str(&format!(
            r#"      - StartAt: ask{branch}
        States:
          - Type: Task
            Name: ask{branch}
            Action: FNF:StartExecution
            TaskMode: WaitForCustomCallback
            Parameters:
              resourceArn: acs:fnf:::flow/{child}
              input:
                token.$: $Context.Current.TaskToken
            End: true
"#
        ));
    }
    text
}

/// The tokens the children of `child_flow` were started with, once there are `count`.
async fn child_tokens(client: &Client, child_flow: &str, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + TEN_SECONDS;
    loop {
        let listed = client
            .get("ListExecutions", &[("FlowName", child_flow)])
            .await
            .ok()
            .clone();
        let executions = listed["Executions"].as_array().cloned().unwrap_or_default();
        if executions.len() == count {
            let mut tokens = Vec::new();
            for execution in executions {
                let name = execution["Name"].as_str().unwrap().to_string();
                let described = client.describe(child_flow, &name).await;
                let token = json_field(&described, "Input")["token"]
                    .as_str()
                    .unwrap()
                    .to_string();
                tokens.push(token);
            }
            return tokens;
        }
        assert!(std::time::Instant::now() < deadline, "children: {listed}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A signed ReportTaskSucceeded, every parameter in the form body; `nonce` replaces the fresh
/// one. Sent again as it is, it is a replay.
fn signed_report(client: &Client, token: &str, nonce: Option<&str>) -> Vec<(String, String)> {
    let mut params = client.common("ReportTaskSucceeded");
    if let Some(nonce) = nonce {
        for (name, value) in params.iter_mut() {
            if name == "SignatureNonce" {
                *value = nonce.to_string();
            }
        }
    }
    params.push(("TaskToken".into(), token.into()));
    params.push(("Output".into(), "{}".into()));
    client.sign("POST", &mut params);
    params
}

const NONCE_USED: &str = "Specified signature nonce was used already.";

fn task_reports(events: &[Value]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e["Type"].as_str(), Some("TaskSucceeded" | "TaskFailed")))
        .count()
}

backend_tests! {
    // docs/COMPATIBILITY.md#order-of-checks: a report's nonce is used once. On Postgres the
    // commit that applies the report records it; a replay changes nothing.
    async fn a_report_uses_its_nonce_once(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "guarded", true).await;
        let token = start_waiting(&client, "guarded", "g1").await;

        // A nonce another request used: refused, and the task still waits.
        let mut listing = client.common("ListFlows");
        client.sign("POST", &mut listing);
        client.send_form("POST", &[], &listing).await.ok();
        let used = listing.iter().find(|(k, _)| k == "SignatureNonce").unwrap().1.clone();
        let stolen = signed_report(&client, &token, Some(&used));
        let answer = client.send_form("POST", &[], &stolen).await;
        answer.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        let events = client.history("guarded", "g1").await;
        assert_eq!(task_reports(&events), 0, "{events:?}");

        // The genuine report applies; sent again, it is a replay, not a late report.
        let genuine = signed_report(&client, &token, None);
        let first = client.send_form("POST", &[], &genuine).await.ok().clone();
        let answer = client.send_form("POST", &[], &genuine).await;
        answer.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        let events = client.history("guarded", "g1").await;
        assert_eq!(task_reports(&events), 1, "{events:?}");
        assert_eq!(event(&events, "TaskSucceeded")["EventId"], first["EventId"]);

        // A report refused as no longer valid used its nonce all the same.
        let late = signed_report(&client, &token, None);
        client.send_form("POST", &[], &late).await.err(400, "InvalidArgument");
        let answer = client.send_form("POST", &[], &late).await;
        answer.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        // And its nonce cannot be used by another request.
        let nonce = late.iter().find(|(k, _)| k == "SignatureNonce").unwrap().1.clone();
        let mut listing = client.common("ListFlows");
        listing.retain(|(k, _)| k != "SignatureNonce");
        listing.push(("SignatureNonce".into(), nonce));
        client.sign("POST", &mut listing);
        let answer = client.send_form("POST", &[], &listing).await;
        answer.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        server.stop().await;
    }
}

/// Two replicas on one Postgres database: the same report sent to both at once is applied
/// once, and the other is refused as a replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_sent_to_two_replicas_at_once_applies_once() {
    let (first, second, other) = postgres_replicas().await;
    let client = first.client();
    callback_flows(&client, "twice", true).await;
    for round in 0..10 {
        let execution = format!("t{round}");
        let token = start_waiting(&client, "twice", &execution).await;
        let params = signed_report(&client, &token, None);
        let (a, b) = tokio::join!(
            client.send_form("POST", &[], &params),
            other.send_form("POST", &[], &params)
        );
        let (refused, applied) = if a.code() == "SignatureNonceUsed" {
            (a, b)
        } else {
            (b, a)
        };
        refused.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        applied.ok();
        let events = client.history("twice", &execution).await;
        assert_eq!(task_reports(&events), 1, "{events:?}");
    }
    second.stop().await;
    first.stop().await;
}

backend_tests! {
    // Reports race each other for the execution: each is applied once, none is lost, and
    // none fails (docs/COMPATIBILITY.md#task-reports).
    async fn reports_sent_at_once_are_each_applied_once(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        const BRANCHES: usize = 6;
        client.create_flow("fan_child", &pass_state_machine("fan_child")).await;
        client
            .create_flow("fan", &parallel_callbacks("fan", "fan_child", BRANCHES))
            .await;
        for round in 0..3 {
            let execution = format!("fan-{round}");
            client.start("fan", &execution, "{}").await;
            let tokens = child_tokens(&client, "fan_child", BRANCHES * (round + 1)).await;
            let mut reports = Vec::new();
            for (index, token) in tokens.iter().enumerate() {
                // Each token twice at once: one report applies, the other is refused.
                for _ in 0..2 {
                    let (client, token) = (client.clone(), token.clone());
                    let output = format!(r#"{{"branch": {index}}}"#);
                    reports.push(tokio::spawn(async move {
                        report(&client, "ReportTaskSucceeded", &token, &[("Output", &output)]).await
                    }));
                }
            }
            let mut answered_events = Vec::new();
            for answer in reports {
                let answer = answer.await.unwrap();
                match answer.status {
                    200 => answered_events.push(answer.ok()["EventId"].as_i64().unwrap()),
                    // Earlier rounds' tokens (their executions ended), and a token's second report.
                    _ => assert!(
                        matches!(answer.code(), "InvalidArgument" | "ExecutionAlreadyCompleted"),
                        "{}",
                        answer.body
                    ),
                }
            }
            assert_eq!(
                answered_events.len(),
                BRANCHES,
                "one report per branch of this round applies"
            );
            let done = client.wait_end("fan", &execution, TEN_SECONDS).await;
            assert_eq!(done["Status"], "Succeeded", "{done}");
            let output: Value = serde_json::from_str(done["Output"].as_str().unwrap()).unwrap();
            // One output per branch ({"Branch0": …}), each report's own.
            let mut reported: Vec<i64> = output
                .as_object()
                .unwrap()
                .values()
                .map(|branch| branch["branch"].as_i64().unwrap())
                .collect();
            reported.sort_unstable();
            assert_eq!(reported, (0..BRANCHES as i64).collect::<Vec<_>>(), "{output}");
            let events = client.history("fan", &execution).await;
            let succeeded = events.iter().filter(|e| e["Type"] == "TaskSucceeded").count();
            assert_eq!(succeeded, BRANCHES, "{events:?}");
            // Each applied report answers the id of the event it produced, whichever advance
            // applied it (its own, or the lease holder's it was handed to).
            let mut succeeded_ids: Vec<i64> = events
                .iter()
                .filter(|e| e["Type"] == "TaskSucceeded")
                .map(|e| e["EventId"].as_i64().unwrap())
                .collect();
            succeeded_ids.sort_unstable();
            answered_events.sort_unstable();
            assert_eq!(answered_events, succeeded_ids, "{events:?}");
        }
        server.stop().await;
    }

    async fn report_task_succeeded_completes_the_task(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "approver", false).await;
        let token = start_waiting(&client, "approver", "a1").await;
        // docs/COMPATIBILITY.md#fdl-steps rule 7: base64 of v1#<flow>#<execution>#<eventId>#…
        assert!(decoded(&token).starts_with("v1#approver#a1#2#"), "{}", decoded(&token));
        assert_eq!(client.describe("approver", "a1").await["Status"], "Running");

        let answer = report(&client, "ReportTaskSucceeded", &token, &[("Output", r#"{"approved": true}"#)]).await;
        let body = answer.ok().clone();
        assert_request_id(&answer);
        assert_keys(&body, &["EventId", "RequestId"]);
        assert!(body["EventId"].is_i64(), "EventId is a JSON integer: {body}");

        let ended = client.wait_end("approver", "a1", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(json_field(&ended, "Output"), json!({"approved": true}));
        let events = client.history("approver", "a1").await;
        let succeeded = event(&events, "TaskSucceeded");
        assert_eq!(succeeded["EventId"], body["EventId"]);
        assert_eq!(succeeded["StepName"], "ask");
        assert_eq!(succeeded["ScheduleEventId"], event(&events, "TaskScheduled")["EventId"]);
        assert_eq!(json_field(succeeded, "EventDetail"), json!({"output": {"approved": true}}));
        assert_eq!(events.last().unwrap()["Type"], "ExecutionSucceeded");

        // The execution has ended: any further report says so.
        let answer = report(&client, "ReportTaskSucceeded", &token, &[("Output", "{}")]).await;
        answer.err(400, "ExecutionAlreadyCompleted");
        assert_eq!(answer.message(), "Execution 'a1' for flow 'approver' has already completed.");
        let answer = report(&client, "ReportTaskFailed", &token, &[("Error", "E")]).await;
        answer.err(400, "ExecutionAlreadyCompleted");
        server.stop().await;
    }

    async fn a_token_is_good_for_one_report(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "holder", true).await;
        let token = start_waiting(&client, "holder", "h1").await;
        let first = report(&client, "ReportTaskSucceeded", &token, &[("Output", r#"{"n": 1}"#)])
            .await
            .ok()
            .clone();
        // The parent goes on to its Wait and keeps running.
        client.wait_event("holder", "h1", "StepStarted", TEN_SECONDS).await;
        for (action, params) in [
            ("ReportTaskSucceeded", [("Output", r#"{"n": 2}"#)]),
            ("ReportTaskFailed", [("Error", "Late")]),
        ] {
            let answer = report(&client, action, &token, &params).await;
            answer.err(400, "InvalidArgument");
            assert!(
                answer.message().starts_with("Parameter error: task token "),
                "{}",
                answer.message()
            );
            assert!(answer.message().ends_with(" is no longer valid"), "{}", answer.message());
        }
        let events = client.history("holder", "h1").await;
        let reports: Vec<&Value> = events
            .iter()
            .filter(|e| matches!(e["Type"].as_str(), Some("TaskSucceeded" | "TaskFailed")))
            .collect();
        assert_eq!(reports.len(), 1, "{events:?}");
        assert_eq!(reports[0]["EventId"], first["EventId"]);
        assert_eq!(client.describe("holder", "h1").await["Status"], "Running");

        // Once the execution has ended, that is what a report learns.
        client
            .call("StopExecution", &[("FlowName", "holder"), ("ExecutionName", "h1")])
            .await
            .ok();
        let answer = report(&client, "ReportTaskSucceeded", &token, &[("Output", "{}")]).await;
        answer.err(400, "ExecutionAlreadyCompleted");
        assert_eq!(answer.message(), "Execution 'h1' for flow 'holder' has already completed.");
        server.stop().await;
    }

    async fn a_stopped_execution_refuses_reports(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "halted", false).await;
        let token = start_waiting(&client, "halted", "x").await;
        client
            .call("StopExecution", &[("FlowName", "halted"), ("ExecutionName", "x")])
            .await
            .ok();
        for (action, params) in [
            ("ReportTaskSucceeded", [("Output", "{}")]),
            ("ReportTaskFailed", [("Error", "E")]),
        ] {
            let answer = report(&client, action, &token, &params).await;
            answer.err(400, "ExecutionAlreadyCompleted");
            assert_eq!(answer.message(), "Execution 'x' for flow 'halted' has already completed.");
        }
        let events = client.history("halted", "x").await;
        assert_eq!(events.last().unwrap()["Type"], "ExecutionStopped");
        assert!(!events.iter().any(|e| e["Type"] == "TaskSucceeded"));
        server.stop().await;
    }

    async fn forged_and_garbled_tokens_are_refused(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "guarded", false).await;
        let token = start_waiting(&client, "guarded", "g1").await;
        let raw = decoded(&token);
        let (head, signature) = raw.rsplit_once('.').unwrap();
        let mut flipped = signature.to_string();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        let forged = [
            "garbage".to_string(),
            "djEjZ3VhcmRlZA==".to_string(), // "v1#guarded"
            STANDARD.encode(format!("{head}.{flipped}")),
            STANDARD.encode(raw.replace("#g1#2#", "#g1#3#")),
            STANDARD.encode(raw.replace("#2#1.", "#2#2.")),
            STANDARD.encode(raw.replace("v1#guarded#", "v1#guarded_child#")),
            STANDARD.encode(raw.replace("#g1#", "#g2#")),
            STANDARD.encode(format!("v2{}", &raw[2..])),
            STANDARD.encode(format!("{head}.")),
            token.replace('=', "").chars().rev().collect(),
        ];
        for bad in &forged {
            for (action, params) in [
                ("ReportTaskSucceeded", [("Output", "{}")]),
                ("ReportTaskFailed", [("Error", "E")]),
            ] {
                let answer = report(&client, action, bad, &params).await;
                answer.err(400, "InvalidArgument");
                assert_eq!(answer.message(), NOT_OURS, "{bad}");
            }
        }
        // A token of another server (another key) for the same names is not ours either.
        let other = TestServer::start(backend).await;
        let other_client = other.client();
        callback_flows(&other_client, "guarded", false).await;
        let foreign = start_waiting(&other_client, "guarded", "g1").await;
        assert_ne!(foreign, token);
        let answer = report(&client, "ReportTaskSucceeded", &foreign, &[("Output", "{}")]).await;
        answer.err(400, "InvalidArgument");
        assert_eq!(answer.message(), NOT_OURS);
        other.stop().await;

        // None of this touched the waiting task; the real token still works.
        assert_eq!(client.describe("guarded", "g1").await["Status"], "Running");
        report(&client, "ReportTaskSucceeded", &token, &[("Output", r#"{"ok": 1}"#)]).await.ok();
        let ended = client.wait_end("guarded", "g1", TEN_SECONDS).await;
        assert_eq!(json_field(&ended, "Output"), json!({"ok": 1}));
        server.stop().await;
    }

    async fn report_task_failed_fails_the_task(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "reviewer", false).await;
        let token = start_waiting(&client, "reviewer", "r1").await;
        let answer = report(
            &client,
            "ReportTaskFailed",
            &token,
            &[("Error", "Rejected"), ("Cause", "no budget")],
        )
        .await;
        let body = answer.ok().clone();
        assert_keys(&body, &["EventId", "RequestId"]);
        assert!(body["EventId"].is_i64());
        let ended = client.wait_end("reviewer", "r1", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Failed");
        assert_eq!(ended["Output"], "");
        let events = client.history("reviewer", "r1").await;
        let failed = event(&events, "TaskFailed");
        assert_eq!(failed["EventId"], body["EventId"]);
        assert_eq!(failed["ScheduleEventId"], event(&events, "TaskScheduled")["EventId"]);
        assert_eq!(
            json_field(failed, "EventDetail"),
            json!({"error": "Rejected", "cause": "no budget"})
        );
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionFailed");
        assert_eq!(
            json_field(last, "EventDetail"),
            json!({"error": "Rejected", "cause": "no budget"})
        );
        server.stop().await;
    }

    async fn report_parameters_are_checked_first(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "checked", false).await;
        let token = start_waiting(&client, "checked", "c1").await;
        let filler = |total: usize| {
            let text = format!(r#"{{"k":"{}"}}"#, "x".repeat(total - 8));
            assert_eq!(text.len(), total);
            text
        };
        for output in ["not json", "{\"a\":", "{} {}", ""] {
            let answer = report(&client, "ReportTaskSucceeded", &token, &[("Output", output)]).await;
            if output.is_empty() {
                answer.err(400, "MissingRequiredParams");
                assert_eq!(answer.message(), "The HTTP query 'Output' must be specified.");
            } else {
                answer.err(400, "InvalidArgument");
                assert!(answer.message().starts_with("Parameter error: Output "), "{}", answer.message());
            }
        }
        let answer = report(&client, "ReportTaskSucceeded", &token, &[]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'Output' must be specified.");
        let answer = report(&client, "ReportTaskSucceeded", &token, &[("Output", &filler(32_769))]).await;
        answer.err(400, "EntityTooLarge");
        assert_eq!(answer.message(), "The payload size exceeds maximum allowed size (32768 bytes).");
        let answer = client.call("ReportTaskSucceeded", &[("Output", "{}")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'TaskToken' must be specified.");

        let long_error = "e".repeat(129);
        let long_cause = "c".repeat(4097);
        let answer = report(&client, "ReportTaskFailed", &token, &[("Error", &long_error)]).await;
        answer.err(400, "InvalidArgument");
        assert_eq!(answer.message(), "Parameter error: Error must be between 1 and 128 characters long, got 129");
        let answer = report(&client, "ReportTaskFailed", &token, &[("Error", "E"), ("Cause", &long_cause)]).await;
        answer.err(400, "InvalidArgument");
        assert_eq!(answer.message(), "Parameter error: Cause must be between 1 and 4096 characters long, got 4097");
        let answer = report(&client, "ReportTaskFailed", &token, &[("Cause", "c")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'Error' must be specified.");
        let answer = client.call("ReportTaskFailed", &[("Error", "E")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'TaskToken' must be specified.");

        // The rejected reports consumed nothing: the task still waits, and a report with
        // every parameter in the body (as Node sends it) of exactly 32 KiB completes it.
        assert_eq!(client.describe("checked", "c1").await["Status"], "Running");
        let events = client.history("checked", "c1").await;
        assert!(!events.iter().any(|e| matches!(e["Type"].as_str(), Some("TaskSucceeded" | "TaskFailed"))));
        let largest = filler(32_768);
        client
            .call("ReportTaskSucceeded", &[("TaskToken", &token), ("Output", &largest)])
            .await
            .ok();
        let ended = client.wait_end("checked", "c1", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(json_field(&ended, "Output"), serde_json::from_str::<Value>(&largest).unwrap());
        server.stop().await;
    }

    async fn fdl_wait_for_callback_through_a_function(backend) {
        let stub = FcStub::start().await;
        let endpoint = stub.endpoint();
        let server = TestServer::start_with(backend, |config| config.fc_endpoint = Some(endpoint)).await;
        let client = server.client();
        let flow = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: approval\n    resourceArn: acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/echo\n    pattern: waitForCallback\n    inputMappings:\n      - target: taskToken\n        source: $context.task.token\n      - target: orderId\n        source: $input.orderId\n";
        client.create_flow("fdl_callback", flow).await;

        let token_of = |execution: &'static str, order: &'static str| {
            let client = client.clone();
            let stub = &stub;
            async move {
                client.start("fdl_callback", execution, &json!({"orderId": order}).to_string()).await;
                let events = client
                    .wait_event("fdl_callback", execution, "TaskSubmitted", TEN_SECONDS)
                    .await;
                let invocation = stub
                    .invocations_of("echo")
                    .into_iter()
                    .find(|i| i.event["orderId"] == order)
                    .unwrap_or_else(|| panic!("echo was not called for {order}"));
                assert_keys(&invocation.event, &["taskToken", "orderId"]);
                let token = invocation.event["taskToken"].as_str().unwrap().to_string();
                // The token names the task's StepEntered (docs/COMPATIBILITY.md#history-events).
                let entered = event(&events, "StepEntered")["EventId"].as_i64().unwrap();
                assert!(
                    decoded(&token).starts_with(&format!("v1#fdl_callback#{execution}#{entered}#")),
                    "{}",
                    decoded(&token)
                );
                assert_eq!(client.describe("fdl_callback", execution).await["Status"], "Running");
                token
            }
        };

        let token = token_of("o1", "o-1").await;
        let body = report(&client, "ReportTaskSucceeded", &token, &[("Output", r#"{"approved": true}"#)])
            .await
            .ok()
            .clone();
        let ended = client.wait_end("fdl_callback", "o1", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(json_field(&ended, "Output"), json!({"approved": true}));
        let events = client.history("fdl_callback", "o1").await;
        assert_eq!(event(&events, "TaskSucceeded")["EventId"], body["EventId"]);
        report(&client, "ReportTaskSucceeded", &token, &[("Output", "{}")])
            .await
            .err(400, "ExecutionAlreadyCompleted");

        let token = token_of("o2", "o-2").await;
        let body = report(&client, "ReportTaskFailed", &token, &[("Error", "Rejected"), ("Cause", "no budget")])
            .await
            .ok()
            .clone();
        let ended = client.wait_end("fdl_callback", "o2", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Failed");
        let events = client.history("fdl_callback", "o2").await;
        assert_eq!(event(&events, "TaskFailed")["EventId"], body["EventId"]);
        assert_eq!(
            json_field(events.last().unwrap(), "EventDetail"),
            json!({"error": "Rejected", "cause": "no budget"})
        );
        assert_eq!(stub.invocations_of("echo").len(), 2);
        server.stop().await;
    }

    async fn a_child_reports_its_end_to_the_callback_token(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "boss", false).await;
        client.create_flow("reporter", &pass_state_machine("reporter")).await;
        client.create_flow("failer", &failing_state_machine("failer")).await;
        client.create_flow("sleeper", &wait_state_machine("sleeper", 300)).await;
        let start_with_token = |flow: &'static str, name: &'static str, input: &'static str, token: String| {
            let client = client.clone();
            async move {
                client
                    .call(
                        "StartExecution",
                        &[
                            ("FlowName", flow),
                            ("ExecutionName", name),
                            ("Input", input),
                            ("CallbackFnFTaskToken", &token),
                        ],
                    )
                    .await
                    .ok()
                    .clone()
            }
        };

        // Success: the parent's task gets the child's output.
        let token = start_waiting(&client, "boss", "b1").await;
        start_with_token("reporter", "r1", r#"{"v": 1}"#, token).await;
        assert_eq!(client.wait_end("reporter", "r1", TEN_SECONDS).await["Status"], "Succeeded");
        let ended = client.wait_end("boss", "b1", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(json_field(&ended, "Output"), json!({"v": 1}));
        let events = client.history("boss", "b1").await;
        assert_eq!(json_field(event(&events, "TaskSucceeded"), "EventDetail"), json!({"output": {"v": 1}}));

        // Failure: the parent's task fails with the child's error and cause.
        let token = start_waiting(&client, "boss", "b2").await;
        start_with_token("failer", "f1", "{}", token).await;
        assert_eq!(client.wait_end("failer", "f1", TEN_SECONDS).await["Status"], "Failed");
        let ended = client.wait_end("boss", "b2", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Failed");
        let events = client.history("boss", "b2").await;
        assert_eq!(
            json_field(event(&events, "TaskFailed"), "EventDetail"),
            json!({"error": "Boom", "cause": "it broke"})
        );
        assert_eq!(
            json_field(events.last().unwrap(), "EventDetail"),
            json!({"error": "Boom", "cause": "it broke"})
        );

        // Stopped: the StopExecution Error and Cause, default Error `Stopped`.
        let token = start_waiting(&client, "boss", "b3").await;
        start_with_token("sleeper", "s1", "{}", token).await;
        client
            .call(
                "StopExecution",
                &[("FlowName", "sleeper"), ("ExecutionName", "s1"), ("Error", "Halt"), ("Cause", "by hand")],
            )
            .await
            .ok();
        let ended = client.wait_end("boss", "b3", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Failed");
        let events = client.history("boss", "b3").await;
        assert_eq!(
            json_field(event(&events, "TaskFailed"), "EventDetail"),
            json!({"error": "Halt", "cause": "by hand"})
        );
        let token = start_waiting(&client, "boss", "b4").await;
        start_with_token("sleeper", "s2", "{}", token).await;
        client
            .call("StopExecution", &[("FlowName", "sleeper"), ("ExecutionName", "s2")])
            .await
            .ok();
        let ended = client.wait_end("boss", "b4", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Failed");
        let events = client.history("boss", "b4").await;
        assert_eq!(json_field(event(&events, "TaskFailed"), "EventDetail")["error"], "Stopped");

        // A token that designates nothing is ignored; the child's own result is unaffected.
        start_with_token("reporter", "r2", "{}", "garbage".into()).await;
        assert_eq!(client.wait_end("reporter", "r2", TEN_SECONDS).await["Status"], "Succeeded");
        // So is a token whose task was already reported.
        let token = start_waiting(&client, "boss", "b5").await;
        report(&client, "ReportTaskSucceeded", &token, &[("Output", r#"{"first": true}"#)]).await.ok();
        assert_eq!(client.wait_end("boss", "b5", TEN_SECONDS).await["Status"], "Succeeded");
        start_with_token("failer", "f2", "{}", token).await;
        assert_eq!(client.wait_end("failer", "f2", TEN_SECONDS).await["Status"], "Failed");
        let after = client.describe("boss", "b5").await;
        assert_eq!(after["Status"], "Succeeded");
        assert_eq!(json_field(&after, "Output"), json!({"first": true}));
        server.stop().await;
    }

    async fn an_output_that_is_not_an_object_fails_the_task(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        callback_flows(&client, "shaped", false).await;
        // Any JSON is accepted by the API; the task then fails (docs/COMPATIBILITY.md#fdl-steps).
        for (execution, output) in [("s1", "[1]"), ("s2", "5"), ("s3", r#""text""#), ("s4", "null")] {
            let token = start_waiting(&client, "shaped", execution).await;
            let body = report(&client, "ReportTaskSucceeded", &token, &[("Output", output)])
                .await
                .ok()
                .clone();
            let ended = client.wait_end("shaped", execution, TEN_SECONDS).await;
            assert_eq!(ended["Status"], "Failed", "{output}");
            let events = client.history("shaped", execution).await;
            let failed = event(&events, "TaskFailed");
            assert_eq!(failed["EventId"], body["EventId"]);
            assert_eq!(json_field(failed, "EventDetail")["error"], "FnF.InvalidLocal");
            assert_eq!(json_field(events.last().unwrap(), "EventDetail")["error"], "FnF.InvalidLocal");
        }
        server.stop().await;
    }
}
