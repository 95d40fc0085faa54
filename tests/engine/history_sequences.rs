//! The execution history of docs/COMPATIBILITY.md#history-events: which events appear, in which order, their
//! `ScheduleEventId` links and their `EventDetail`, over the HTTP API on both backends.

use crate::common;

use std::time::Duration;

use base64::Engine as _;
use common::examples::server_with_flow;
use common::{
    event_detail, event_time_gap_ms, event_types, report_succeeded, run_execution, start_with_stub,
    wait_invocations,
};
use serde_json::{Value, json};

const WITHIN: Duration = Duration::from_secs(30);

const ECHO_ARN: &str = "acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/echo";
const FLAKY_ARN: &str = "acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/flaky";

/// One expected event: type, step name, `ScheduleEventId` and `EventDetail` (None: not
/// compared).
type Expected<'a> = (&'a str, &'a str, i64, Option<Value>);

/// Asserts the whole history: ids 1, 2, 3 … and each event as expected.
#[track_caller]
fn assert_history(events: &[Value], expected: &[Expected<'_>]) {
    let shown = || {
        events
            .iter()
            .map(|e| {
                format!(
                    "{} {} {:?} sched={} {}",
                    e["EventId"], e["Type"], e["StepName"], e["ScheduleEventId"], e["EventDetail"]
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        events.len(),
        expected.len(),
        "the history has {} events, not {}:\n{}",
        events.len(),
        expected.len(),
        shown()
    );
    for (position, (event, (event_type, step, schedule, detail))) in
        events.iter().zip(expected).enumerate()
    {
        let id = position as i64 + 1;
        let actual = (
            event["EventId"].as_i64(),
            event["Type"].as_str(),
            event["StepName"].as_str(),
            event["ScheduleEventId"].as_i64(),
        );
        assert_eq!(
            actual,
            (Some(id), Some(*event_type), Some(*step), Some(*schedule)),
            "event {id}:\n{}",
            shown()
        );
        if let Some(detail) = detail {
            assert_eq!(
                &event_detail(event),
                detail,
                "EventDetail of event {id}:\n{}",
                shown()
            );
        }
    }
}

/// The event with this id.
fn event(events: &[Value], id: i64) -> &Value {
    events
        .iter()
        .find(|e| e["EventId"] == id)
        .unwrap_or_else(|| panic!("no event {id}"))
}

fn id_of(event: &Value) -> i64 {
    event["EventId"].as_i64().expect("an EventId")
}

const PASS_FLOW: &str = r#"
version: v1
type: flow
steps:
  - type: pass
    name: p
    outputMappings:
      - target: x
        source: $input.a
"#;

const WAIT_FLOW: &str = r#"
version: v1
type: flow
steps:
  - type: wait
    name: nap
    duration: 1
"#;

const FAIL_FLOW: &str = r#"
version: v1
type: flow
steps:
  - type: fail
    name: boom
    error: Broken
    cause: it broke
"#;

fn task_flow() -> String {
    format!(
        r#"
version: v1
type: flow
steps:
  - type: task
    name: greet
    resourceArn: {ECHO_ARN}
    timeoutSeconds: 10
    inputMappings:
      - target: who
        source: $input.name
"#
    )
}

fn retried_flow() -> String {
    format!(
        r#"
version: v1
type: flow
steps:
  - type: task
    name: shaky
    resourceArn: {FLAKY_ARN}
    inputMappings:
      - target: failTimes
        source: 2
    retry:
      - errors: [TransientError]
        intervalSeconds: 1
        multiplier: 1
        maxAttempts: 3
"#
    )
}

fn callback_flow() -> String {
    format!(
        r#"
version: v1
type: flow
steps:
  - type: task
    name: approval
    resourceArn: {ECHO_ARN}
    pattern: waitForCallback
    inputMappings:
      - target: taskToken
        source: $context.task.token
      - target: stepEventId
        source: $context.step.eventId
  - type: wait
    name: linger
    duration: 1
"#
    )
}

fn retried_callback_flow() -> String {
    format!(
        r#"
version: v1
type: flow
steps:
  - type: task
    name: approval
    resourceArn: {ECHO_ARN}
    pattern: waitForCallback
    inputMappings:
      - target: taskToken
        source: $context.task.token
    retry:
      - errors: [Rejected]
        intervalSeconds: 1
        maxAttempts: 1
"#
    )
}

const PARALLEL_FLOW: &str = r#"
version: v1
type: flow
steps:
  - type: parallel
    name: fan
    branches:
      - steps:
          - type: pass
            name: left
            outputMappings:
              - target: side
                source: left
      - steps:
          - type: pass
            name: right
            outputMappings:
              - target: side
                source: right
"#;

const FAILING_PARALLEL_FLOW: &str = r#"
version: v1
type: flow
steps:
  - type: parallel
    name: fan
    branches:
      - steps:
          - type: wait
            name: slow
            duration: 30
      - steps:
          - type: fail
            name: boom
            error: Broken
            cause: branch 1 broke
"#;

const FOREACH_FLOW: &str = r#"
version: v1
type: flow
steps:
  - type: foreach
    name: each
    iterationMapping:
      collection: $.items
      item: item
      index: i
    steps:
      - type: pass
        name: tag
        outputMappings:
          - target: tagged
            source: $input.item
"#;

const MAP_FLOW: &str = r#"
Type: StateMachine
Name: map-history
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Tag
      States:
        - Type: Pass
          Name: Tag
          OutputConstructor:
            tagged.$: $Input
          End: true
    End: true
"#;

const CHOICE_FLOW: &str = r#"
version: v1
type: flow
steps:
  - type: choice
    name: route
    choices:
      - condition: $.go == true
        steps:
          - type: pass
            name: first
            outputMappings:
              - target: one
                source: 1
          - type: pass
            name: second
            outputMappings:
              - target: two
                source: 2
"#;

/// Four events per round, forever: the event limit ends it.
const ENDLESS_FLOW: &str = r#"
version: v1
type: flow
steps:
  - type: pass
    name: spin
  - type: choice
    name: again
    choices:
      - condition: 1 == 1
        goto: spin
"#;

const FLOW_TIMEOUT_FLOW: &str = r#"
version: v1
type: flow
timeoutSeconds: 1
steps:
  - type: wait
    name: long
    duration: 30
  - type: pass
    name: never
"#;

backend_tests! {
    async fn pass_step(backend) {
        let (server, client) = server_with_flow(backend, "hpass", PASS_FLOW).await;
        let ended = run_execution(&client, "hpass", "e1", r#"{"a": 5}"#, WITHIN).await;
        assert_history(&ended.events, &[
            ("ExecutionStarted", "", 0, Some(json!({"input": {"a": 5}}))),
            ("StepEntered", "p", 0, Some(json!({"input": {"a": 5}}))),
            ("StepExited", "p", 2, Some(json!({"output": {"x": 5}}))),
            ("ExecutionSucceeded", "", 0, Some(json!({"output": {"x": 5}}))),
        ]);
        server.stop().await;
    }

    async fn wait_step(backend) {
        let (server, client) = server_with_flow(backend, "hwait", WAIT_FLOW).await;
        let ended = run_execution(&client, "hwait", "e1", "{}", WITHIN).await;
        assert_history(&ended.events, &[
            ("ExecutionStarted", "", 0, Some(json!({"input": {}}))),
            ("StepEntered", "nap", 0, Some(json!({"input": {}}))),
            ("StepStarted", "nap", 2, None),
            ("StepExited", "nap", 2, Some(json!({"output": {}}))),
            ("ExecutionSucceeded", "", 0, Some(json!({"output": {}}))),
        ]);
        // `until` is when the timer ends: one second after the wait was entered.
        let started = event(&ended.events, 3);
        let until = event_detail(started)["until"].as_str().expect("until").to_string();
        let until_event = json!({"Time": until});
        let armed_for = event_time_gap_ms(event(&ended.events, 2), &until_event);
        assert!((1000..1100).contains(&armed_for), "until is {armed_for} ms after entry");
        assert!(event_time_gap_ms(&until_event, event(&ended.events, 4)) >= 0, "exited before until");
        server.stop().await;
    }

    async fn fail_step(backend) {
        let (server, client) = server_with_flow(backend, "hfail", FAIL_FLOW).await;
        let ended = run_execution(&client, "hfail", "e1", "{}", WITHIN).await;
        assert_eq!(ended.status, "Failed");
        let error = json!({"error": "Broken", "cause": "it broke"});
        assert_history(&ended.events, &[
            ("ExecutionStarted", "", 0, Some(json!({"input": {}}))),
            ("StepEntered", "boom", 0, Some(json!({"input": {}}))),
            ("StepFailed", "boom", 2, Some(error.clone())),
            ("ExecutionFailed", "", 0, Some(error)),
        ]);
        server.stop().await;
    }

    async fn task_step(backend) {
        let (server, _stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("htask", &task_flow()).await;
        let ended = run_execution(&client, "htask", "e1", r#"{"name": "tom"}"#, WITHIN).await;
        let sent = json!({"who": "tom"});
        assert_history(&ended.events, &[
            ("ExecutionStarted", "", 0, Some(json!({"input": {"name": "tom"}}))),
            ("StepEntered", "greet", 0, Some(json!({"input": sent}))),
            ("TaskScheduled", "greet", 2, Some(json!({
                "resource": ECHO_ARN, "pattern": "requestResponse", "input": sent,
                "attempt": 1, "timeoutSeconds": 10,
            }))),
            ("TaskStarted", "greet", 3, Some(json!({}))),
            ("TaskSucceeded", "greet", 3, Some(json!({"output": sent}))),
            ("StepExited", "greet", 2, Some(json!({"output": sent}))),
            ("ExecutionSucceeded", "", 0, Some(json!({"output": sent}))),
        ]);
        server.stop().await;
    }

    async fn retried_task(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("hretry", &retried_flow()).await;
        let ended = run_execution(&client, "hretry", "e1", "{}", WITHIN).await;
        let sent = json!({"failTimes": 2});
        let scheduled = |attempt: u32| {
            Some(json!({"resource": FLAKY_ARN, "pattern": "requestResponse", "input": sent, "attempt": attempt}))
        };
        let failed = |attempt: u32| {
            Some(json!({"error": "TransientError", "cause": format!("attempt {attempt} failed")}))
        };
        assert_history(&ended.events, &[
            ("ExecutionStarted", "", 0, None),
            ("StepEntered", "shaky", 0, Some(json!({"input": sent}))),
            ("TaskScheduled", "shaky", 2, scheduled(1)),
            ("TaskStarted", "shaky", 3, Some(json!({}))),
            ("TaskFailed", "shaky", 3, failed(1)),
            ("TaskScheduled", "shaky", 2, scheduled(2)),
            ("TaskStarted", "shaky", 6, Some(json!({}))),
            ("TaskFailed", "shaky", 6, failed(2)),
            ("TaskScheduled", "shaky", 2, scheduled(3)),
            ("TaskStarted", "shaky", 9, Some(json!({}))),
            ("TaskSucceeded", "shaky", 9, Some(json!({"output": {"attempts": 3}}))),
            ("StepExited", "shaky", 2, Some(json!({"output": {"attempts": 3}}))),
            ("ExecutionSucceeded", "", 0, Some(json!({"output": {"attempts": 3}}))),
        ]);
        assert_eq!(stub.invocations_of("flaky").len(), 3);
        server.stop().await;
    }

    async fn callback_task(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("hcallback", &callback_flow()).await;
        client.start("hcallback", "e1", "{}").await;
        let calls = wait_invocations(&stub, "echo", 1, WITHIN).await;
        let token = calls[0].event["taskToken"].as_str().expect("a token").to_string();
        // The token and `$context.step.eventId` carry the task's StepEntered id (2).
        assert_eq!(calls[0].event["stepEventId"], 2);
        let raw = base64::engine::general_purpose::STANDARD.decode(&token).expect("base64");
        let raw = String::from_utf8(raw).expect("UTF-8");
        assert!(raw.starts_with("v1#hcallback#e1#2#"), "{raw}");
        client.wait_event("hcallback", "e1", "TaskSubmitted", WITHIN).await;
        let answer = report_succeeded(&client, &token, r#"{"approved": true}"#).await;
        assert_eq!(answer.ok()["EventId"], 6, "the report's event is TaskSucceeded");
        // Still running (the wait): the same token is no longer valid.
        report_succeeded(&client, &token, r#"{"approved": false}"#)
            .await
            .err(400, "InvalidArgument");
        let ended = common::ended_execution(&client, "hcallback", "e1", WITHIN).await;
        let sent = json!({"taskToken": token, "stepEventId": 2});
        let approved = json!({"approved": true});
        assert_history(&ended.events, &[
            ("ExecutionStarted", "", 0, None),
            ("StepEntered", "approval", 0, Some(json!({"input": sent}))),
            ("TaskScheduled", "approval", 2, Some(json!({
                "resource": ECHO_ARN, "pattern": "waitForCallback", "input": sent, "attempt": 1,
            }))),
            ("TaskStarted", "approval", 3, Some(json!({}))),
            ("TaskSubmitted", "approval", 3, None),
            ("TaskSucceeded", "approval", 3, Some(json!({"output": approved}))),
            ("StepExited", "approval", 2, Some(json!({"output": approved}))),
            ("StepEntered", "linger", 0, None),
            ("StepStarted", "linger", 8, None),
            ("StepExited", "linger", 8, Some(json!({"output": {}}))),
            ("ExecutionSucceeded", "", 0, Some(json!({"output": approved}))),
        ]);
        // The submission response: the FC request id, else the function's answer (Appendix C).
        let submitted = event_detail(event(&ended.events, 5));
        assert_eq!(submitted.as_object().unwrap().keys().collect::<Vec<_>>(), ["output"]);
        assert!(submitted["output"].is_string(), "{submitted}");
        // The server adds no token of its own to any EventDetail: it appears only where the
        // flow's mappings put it (the step input, what was sent, and the echo's answer).
        for event in &ended.events[2..] {
            if !["StepEntered", "TaskScheduled", "TaskSubmitted"].contains(&event["Type"].as_str().unwrap()) {
                assert!(!event["EventDetail"].as_str().unwrap().contains(&token), "{event}");
            }
        }
        server.stop().await;
    }

    async fn retried_callback_task(backend) {
        // docs/COMPATIBILITY.md#fdl-tasks rule 6 and docs/COMPATIBILITY.md#retry-and-catch step 2: each attempt gets its own token, older tokens are
        // refused; StepEntered keeps the first attempt's input, TaskScheduled each attempt's.
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("hrecall", &retried_callback_flow()).await;
        client.start("hrecall", "e1", "{}").await;
        let first = wait_invocations(&stub, "echo", 1, WITHIN).await[0].event["taskToken"]
            .as_str()
            .expect("a token")
            .to_string();
        client.wait_event("hrecall", "e1", "TaskSubmitted", WITHIN).await;
        common::report_failed(&client, &first, "Rejected", "try again").await.ok();
        let second = wait_invocations(&stub, "echo", 2, WITHIN).await[1].event["taskToken"]
            .as_str()
            .expect("a token")
            .to_string();
        assert_ne!(first, second, "a new token for the new attempt");
        report_succeeded(&client, &first, "{}").await.err(400, "InvalidArgument");
        // (The second submission's answer may still be on its way: a report before it counts.)
        report_succeeded(&client, &second, r#"{"ok": true}"#).await.ok();
        let ended = common::ended_execution(&client, "hrecall", "e1", WITHIN).await;
        assert_eq!(ended.output, Some(json!({"ok": true})));
        let scheduled: Vec<Value> = ended
            .events
            .iter()
            .filter(|e| e["Type"] == "TaskScheduled")
            .map(|e| {
                let detail = event_detail(e);
                json!([detail["attempt"], detail["input"]["taskToken"]])
            })
            .collect();
        assert_eq!(scheduled, [json!([1, first]), json!([2, second])]);
        let entered = event_detail(event(&ended.events, 2));
        assert_eq!(entered, json!({"input": {"taskToken": first}}));
        let types = event_types(&ended.events);
        assert_eq!(
            types,
            [
                "ExecutionStarted", "StepEntered",
                "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskFailed",
                "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded",
                "StepExited", "ExecutionSucceeded",
            ]
        );
        server.stop().await;
    }

    async fn parallel_branches(backend) {
        let (server, client) = server_with_flow(backend, "hparallel", PARALLEL_FLOW).await;
        let ended = run_execution(&client, "hparallel", "e1", r#"{"k": 1}"#, WITHIN).await;
        let events = &ended.events;
        assert_eq!(ended.status, "Succeeded");
        let types = event_types(events);
        assert_eq!(types.first().map(String::as_str), Some("ExecutionStarted"));
        assert_eq!(types.last().map(String::as_str), Some("ExecutionSucceeded"));
        assert_eq!(types.len(), 12, "{types:?}");
        let fan = event(events, 2);
        assert_eq!((fan["Type"].as_str(), fan["StepName"].as_str(), fan["ScheduleEventId"].as_i64()),
                   (Some("StepEntered"), Some("fan"), Some(0)));
        assert_eq!(event_detail(fan), json!({"input": {"k": 1}}));
        for (index, step) in ["left", "right"].into_iter().enumerate() {
            let entered = events
                .iter()
                .find(|e| e["Type"] == "BranchEntered" && event_detail(e)["index"] == index)
                .unwrap_or_else(|| panic!("no BranchEntered {index}: {types:?}"));
            assert_eq!(entered["StepName"], "fan");
            assert_eq!(entered["ScheduleEventId"], 2, "BranchEntered → the parallel's StepEntered");
            assert_eq!(event_detail(entered), json!({"index": index}));
            let inner = events
                .iter()
                .find(|e| e["Type"] == "StepEntered" && e["StepName"] == step)
                .expect("the branch's step");
            assert_eq!(inner["ScheduleEventId"], id_of(entered), "StepEntered → its BranchEntered");
            assert_eq!(event_detail(inner), json!({"input": {"k": 1}}));
            let inner_exit = events
                .iter()
                .find(|e| e["Type"] == "StepExited" && e["StepName"] == step)
                .expect("the branch's step exits");
            assert_eq!(inner_exit["ScheduleEventId"], id_of(inner));
            let exited = events
                .iter()
                .find(|e| e["Type"] == "BranchExited" && e["ScheduleEventId"] == id_of(entered))
                .expect("BranchExited → its BranchEntered");
            assert_eq!(exited["StepName"], "fan");
            assert_eq!(event_detail(exited), json!({"index": index, "output": {"side": step}}));
            assert!(id_of(entered) < id_of(inner) && id_of(inner) < id_of(inner_exit)
                && id_of(inner_exit) < id_of(exited));
        }
        let fan_exit = &events[events.len() - 2];
        assert_eq!((fan_exit["Type"].as_str(), fan_exit["StepName"].as_str(), fan_exit["ScheduleEventId"].as_i64()),
                   (Some("StepExited"), Some("fan"), Some(2)));
        assert_eq!(event_detail(fan_exit), json!({"output": {}}));
        server.stop().await;
    }

    async fn parallel_branch_failure(backend) {
        // docs/COMPATIBILITY.md#fdl-steps (docs/COMPATIBILITY.md#q25): a failing branch fails the parallel at once; the other is cancelled.
        let (server, client) = server_with_flow(backend, "hpfail", FAILING_PARALLEL_FLOW).await;
        let ended = run_execution(&client, "hpfail", "e1", "{}", WITHIN).await;
        assert_eq!(ended.status, "Failed");
        let error = json!({"error": "Broken", "cause": "branch 1 broke"});
        let events = &ended.events;
        let n = events.len();
        let boom_entered = events
            .iter()
            .find(|e| e["Type"] == "StepEntered" && e["StepName"] == "boom")
            .expect("boom entered");
        let branch_1 = event(events, boom_entered["ScheduleEventId"].as_i64().unwrap());
        assert_eq!(branch_1["Type"], "BranchEntered");
        assert_eq!(event_detail(branch_1), json!({"index": 1}));
        let tail: Vec<(String, String, i64, Value)> = events[n - 3..]
            .iter()
            .map(|e| {
                (
                    e["Type"].as_str().unwrap().to_string(),
                    e["StepName"].as_str().unwrap().to_string(),
                    e["ScheduleEventId"].as_i64().unwrap(),
                    event_detail(e),
                )
            })
            .collect();
        assert_eq!(
            tail,
            [
                ("StepFailed".into(), "boom".into(), id_of(boom_entered), error.clone()),
                ("StepFailed".into(), "fan".into(), 2, error.clone()),
                ("ExecutionFailed".into(), "".into(), 0, error),
            ]
        );
        assert!(!event_types(events).contains(&"BranchExited".to_string()));
        let lasted = event_time_gap_ms(&events[0], &events[n - 1]);
        assert!(lasted < 5000, "the waiting branch was not awaited: {lasted} ms");
        server.stop().await;
    }

    async fn foreach_iterations(backend) {
        let (server, client) = server_with_flow(backend, "hforeach", FOREACH_FLOW).await;
        let ended = run_execution(&client, "hforeach", "e1", r#"{"items": ["a", "b"]}"#, WITHIN).await;
        assert_eq!(ended.status, "Succeeded");
        let events = &ended.events;
        assert_eq!(events.len(), 12, "{:?}", event_types(events));
        let each = event(events, 2);
        assert_eq!((each["Type"].as_str(), each["StepName"].as_str()), (Some("StepEntered"), Some("each")));
        for (index, item) in ["a", "b"].into_iter().enumerate() {
            let entered = events
                .iter()
                .find(|e| e["Type"] == "IterationEntered" && event_detail(e)["index"] == index)
                .unwrap_or_else(|| panic!("no IterationEntered {index}"));
            assert_eq!(entered["StepName"], "each");
            assert_eq!(entered["ScheduleEventId"], 2, "IterationEntered → the foreach's StepEntered");
            let input = json!({"items": ["a", "b"], "item": item, "i": index});
            assert_eq!(event_detail(entered), json!({"index": index, "input": input}));
            let tag = events
                .iter()
                .find(|e| e["Type"] == "StepEntered" && e["ScheduleEventId"] == id_of(entered))
                .expect("StepEntered → its IterationEntered");
            assert_eq!(tag["StepName"], "tag");
            assert_eq!(event_detail(tag), json!({"input": input}));
            let exited = events
                .iter()
                .find(|e| e["Type"] == "IterationExited" && e["ScheduleEventId"] == id_of(entered))
                .expect("IterationExited → its IterationEntered");
            assert_eq!(exited["StepName"], "each");
            assert_eq!(event_detail(exited), json!({"index": index, "output": {"tagged": item}}));
        }
        let each_exit = &events[events.len() - 2];
        assert_eq!((each_exit["Type"].as_str(), each_exit["StepName"].as_str(), each_exit["ScheduleEventId"].as_i64()),
                   (Some("StepExited"), Some("each"), Some(2)));
        server.stop().await;
    }

    async fn map_iterations(backend) {
        let (server, client) = server_with_flow(backend, "map-history", MAP_FLOW).await;
        let ended = run_execution(&client, "map-history", "e1", r#"{"items": [1, 2]}"#, WITHIN).await;
        assert_eq!(ended.output, Some(json!({"Items": [{"tagged": 1}, {"tagged": 2}]})));
        let events = &ended.events;
        for (index, item) in [1, 2].into_iter().enumerate() {
            let entered = events
                .iter()
                .find(|e| e["Type"] == "IterationEntered" && event_detail(e)["index"] == index)
                .unwrap_or_else(|| panic!("no IterationEntered {index}"));
            assert_eq!((entered["StepName"].as_str(), entered["ScheduleEventId"].as_i64()), (Some("Each"), Some(2)));
            assert_eq!(event_detail(entered), json!({"index": index, "input": item}));
            let tag = events
                .iter()
                .find(|e| e["Type"] == "StepEntered" && e["ScheduleEventId"] == id_of(entered))
                .expect("StepEntered → its IterationEntered");
            assert_eq!(event_detail(tag), json!({"input": item}));
            let exited = events
                .iter()
                .find(|e| e["Type"] == "IterationExited" && e["ScheduleEventId"] == id_of(entered))
                .expect("IterationExited → its IterationEntered");
            assert_eq!(event_detail(exited), json!({"index": index, "output": {"tagged": item}}));
        }
        server.stop().await;
    }

    async fn choice_option_steps(backend) {
        let (server, client) = server_with_flow(backend, "hchoice", CHOICE_FLOW).await;
        let ended = run_execution(&client, "hchoice", "e1", r#"{"go": true}"#, WITHIN).await;
        assert_history(&ended.events, &[
            ("ExecutionStarted", "", 0, None),
            ("StepEntered", "route", 0, Some(json!({"input": {"go": true}}))),
            ("StepEntered", "first", 2, Some(json!({"input": {"go": true}}))),
            ("StepExited", "first", 3, Some(json!({"output": {"one": 1}}))),
            ("StepEntered", "second", 2, Some(json!({"input": {"go": true, "one": 1}}))),
            ("StepExited", "second", 5, Some(json!({"output": {"two": 2}}))),
            ("StepExited", "route", 2, Some(json!({"output": {"one": 1, "two": 2}}))),
            ("ExecutionSucceeded", "", 0, Some(json!({"output": {"one": 1, "two": 2}}))),
        ]);
        server.stop().await;
    }

    async fn event_limit(backend) {
        let (server, client) = server_with_flow(backend, "hlimit", ENDLESS_FLOW).await;
        let ended = run_execution(&client, "hlimit", "e1", "{}", Duration::from_secs(60)).await;
        assert_eq!(ended.status, "Failed");
        assert_eq!(ended.error.as_deref(), Some("FnF.EventLimitExceeded"));
        let events = &ended.events;
        let ids: Vec<i64> = events.iter().map(id_of).collect();
        assert_eq!(ids, (1..=5001).collect::<Vec<_>>(), "ids 1 … 5000 and the failure");
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionFailed", "the failure is the only event past 5000");
        assert_eq!(last["ScheduleEventId"], 0);
        assert_eq!(event_detail(last)["error"], "FnF.EventLimitExceeded");
        assert!(events[..5000].iter().all(|e| e["Type"] != "ExecutionFailed"));
        server.stop().await;
    }

    async fn flow_timeout(backend) {
        let (server, client) = server_with_flow(backend, "htimeout", FLOW_TIMEOUT_FLOW).await;
        let ended = run_execution(&client, "htimeout", "e1", "{}", WITHIN).await;
        assert_eq!(ended.status, "TimedOut");
        assert_history(&ended.events, &[
            ("ExecutionStarted", "", 0, None),
            ("StepEntered", "long", 0, None),
            ("StepStarted", "long", 2, None),
            ("ExecutionTimedOut", "", 0, None),
        ]);
        let detail = event_detail(&ended.events[3]);
        assert_eq!(detail["error"], "FnF.Timeout");
        assert!(detail["cause"].is_string(), "{detail}");
        assert_eq!(detail.as_object().unwrap().len(), 2, "{detail}");
        let lasted = event_time_gap_ms(&ended.events[0], &ended.events[3]);
        assert!((1000..3000).contains(&lasted), "timed out after {lasted} ms");
        server.stop().await;
    }
}
