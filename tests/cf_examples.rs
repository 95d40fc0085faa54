//! The worked examples of definitions.md §II.9 (CF-1 … CF-16), each run end to end over the
//! HTTP API on both backends, with the stub Function Compute of Appendix A.

mod common;

use std::time::Duration;

use common::examples::{
    assert_failed, assert_succeeded, entered_steps, first_event, server_with_flow,
};
use common::{
    TestServer, event_detail, event_time_gap_ms, invocation_gaps, json_field, report_failed,
    report_succeeded, run_execution, start_with_stub, wait_invocations,
};
use serde_json::json;

const WITHIN: Duration = Duration::from_secs(30);

const CF_1: &str = r#"
Type: StateMachine
Name: cf-pass
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    End: true
"#;

const CF_2: &str = r#"
Type: StateMachine
Name: cf-input-ctor
SpecVersion: v1
StartAt: Pass1
States:
  - Type: Pass
    Name: Pass1
    End: true
    InputConstructor:
      FieldA: 123
"#;

const CF_3: &str = r#"
Type: StateMachine
Name: cf-constructors
SpecVersion: v1
StartAt: Shape
States:
  - Type: Pass
    Name: Shape
    InputConstructor:
      user.$: $Input.profile.name
      literal: $Input.profile.name
      count.$: length($Input.items)
      greeting.$: format("hello {}", $Input.profile.name)
      nested:
        first.$: $Input.items[0]
      fromExecution.$: $Context.Execution.Input.profile.name
    OutputConstructor:
      echoed.$: $Input.user
      all.$: $Input
    End: true
"#;

const CF_4: &str = r#"
Type: StateMachine
Name: cf-choice
SpecVersion: v1
StartAt: Route
States:
  - Type: Choice
    Name: Route
    Branches:
      - Condition: $Input.status == "ready"
        Next: Ready
      - Condition: $Input.retries > 3 && $Input.status != "ready"
        Next: GiveUp
    Default: Other
  - Type: Pass
    Name: Ready
    OutputConstructor:
      path: ready
    End: true
  - Type: Pass
    Name: GiveUp
    OutputConstructor:
      path: giveup
    End: true
  - Type: Pass
    Name: Other
    End: true
"#;

const CF_5: &str = r#"
Type: StateMachine
Name: cf-parallel
SpecVersion: v1
StartAt: Parallel1
States:
  - Type: Parallel
    Name: Parallel1
    Next: Join
    Branches:
      - StartAt: Pass1
        States:
          - Type: Pass
            Name: Pass1
            End: true
            OutputConstructor:
              FieldA: 123
      - StartAt: Pass2
        States:
          - Type: Pass
            Name: Pass2
            InputConstructor:
              FieldA: 321
            End: true
  - Type: Pass
    Name: Join
    InputConstructor:
      sum.$: intAdd($Input.Branch0.FieldA, $Input.Branch1.FieldA)
      raw.$: $Input
    End: true
"#;

const CF_6: &str = r#"
Type: StateMachine
Name: cf-map
SpecVersion: v1
StartAt: Map1
States:
  - Type: Map
    Name: Map1
    ItemsPath: $Input.orders
    MaxConcurrency: 2
    Processor:
      StartAt: Tag
      States:
        - Type: Pass
          Name: Tag
          OutputConstructor:
            id.$: $Input.id
            tagged: true
          End: true
    End: true
"#;

const CF_6B_OUTPUT_CONSTRUCTOR: &str =
    "    OutputConstructor:\n      ids.$: $Output.Items[*].id\n      n.$: length($Output.Items)\n";

const CF_7: &str = r#"
Type: StateMachine
Name: cf-wait
SpecVersion: v1
StartAt: Wait1
States:
  - Type: Wait
    Name: Wait1
    Seconds.$: $Input.delay
    End: true
"#;

const CF_8: &str = r#"
Type: StateMachine
Name: cf-succeed
SpecVersion: v1
StartAt: Parallel1
States:
  - Type: Parallel
    Name: Parallel1
    End: true
    Branches:
      - StartAt: Succeed1
        States:
          - Type: Succeed
            Name: Succeed1
            OutputConstructor:
              FieldA: 123
      - StartAt: Pass2
        States:
          - Type: Pass
            Name: Pass2
            InputConstructor:
              FieldA: 321
            End: true
"#;

const CF_9: &str = r#"
Type: StateMachine
Name: cf-fail
SpecVersion: v1
StartAt: Choice1
States:
  - Type: Choice
    Name: Choice1
    Branches:
      - Condition: $Input.status == "true"
        Next: Pass1
    Default: Fail1
  - Type: Fail
    Name: Fail1
    Code: customBizCode
    Detail: my custom error
    End: true
  - Type: Pass
    Name: Pass1
    End: true
"#;

const CF_10: &str = r#"
Type: StateMachine
Name: cf-fc
SpecVersion: v1
StartAt: Greet
States:
  - Type: Task
    Name: Greet
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/echo/LATEST
      invocationType: Sync
      body:
        who.$: $Input.name
        lang: en
    OutputConstructor:
      greeted.$: $Output.Body.who
      lang.$: $Output.Body.lang
    End: true
"#;

/// CF-11 with its retry rule's `BackoffRate` line and its `Catch` replaced by the variant's.
fn cf_11(backoff: &str, catch: &str) -> String {
    format!(
        r#"
Type: StateMachine
Name: cf-retry-catch
SpecVersion: v1
StartAt: Book
States:
  - Type: Task
    Name: Book
    Action: FC:InvokeFunction
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/fail/LATEST
      invocationType: Sync
      body:
        errorType: BookFlightError
        errorMessage: no seats
    Retry:
      - Description: retry booking
        Errors: [BookFlightError]
        MaxAttempts: 2
        IntervalSeconds: 1
{backoff}{catch}    End: true
  - Type: Pass
    Name: Compensate
    End: true
"#
    )
}

const CF_11_BACKOFF: &str = "        BackoffRate: 2\n";
const CF_11_CATCH: &str = "    Catch:\n      - Description: compensate\n        Errors: [FnF.ALL]\n        OutputConstructor:\n          failedWith.$: $Context.Current.Error.Code\n          reason.$: $Context.Current.Error.Detail\n        Next: Compensate\n";

const CF_12: &str = r#"
Type: StateMachine
Name: cf-callback
SpecVersion: v1
StartAt: Approve
States:
  - Type: Task
    Name: Approve
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/echo/LATEST
      invocationType: Async
      body:
        token.$: $Context.Current.TaskToken
        orderId.$: $Input.orderId
    End: true
"#;

const CF_13: &str = r#"
Type: StateMachine
Name: cf-global
SpecVersion: v1
StartAt: Save
States:
  - Type: Pass
    Name: Save
    GlobalConstructor:
      orderId.$: $Input.orderId
    OutputConstructor:
      step: saved
    Next: Use
  - Type: Pass
    Name: Use
    InputConstructor:
      restored.$: $Global.orderId
      previous.$: $Input.step
    End: true
"#;

const CF_14: &str = r#"
Type: StateMachine
Name: cf-map-catch
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Check
      States:
        - Type: Choice
          Name: Check
          Branches:
            - Condition: $Input.ok == true
              Next: Good
          Default: Bad
        - Type: Pass
          Name: Good
          End: true
        - Type: Fail
          Name: Bad
          Code: ItemRejected
          Detail: bad item
    Catch:
      - Errors: [ItemRejected]
        OutputConstructor:
          error.$: $Context.Current.Error.Code
        Next: Report
    End: true
  - Type: Pass
    Name: Report
    End: true
"#;

const CF_15: &str = r#"
Type: StateMachine
Name: cf-timeout
SpecVersion: v1
StartAt: Slow
States:
  - Type: Task
    Name: Slow
    Action: FC:InvokeFunction
    Timeout: 1
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/sleep/LATEST
      invocationType: Sync
      body:
        seconds: 5
    Catch:
      - Errors: [FnF.TaskTimeout]
        OutputConstructor:
          timedOut: true
        Next: Done
    End: true
  - Type: Pass
    Name: Done
    End: true
"#;

/// CF-16's child: CF-2 named `cf-child`.
fn cf_16_child() -> String {
    CF_2.replace("Name: cf-input-ctor", "Name: cf-child")
}

const CF_16: &str = r#"
Type: StateMachine
Name: cf-parent
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FNF:StartExecution
    TaskMode: WaitForSystemCallback
    Parameters:
      resourceArn: acs:fnf:cn-hangzhou:123456789012:flow/cf-child
      input:
        x.$: $Input.x
    End: true
"#;

backend_tests! {
    async fn cf_1_pass_forwards_its_input(backend) {
        let (server, client) = server_with_flow(backend, "cf-pass", CF_1).await;
        let ended = run_execution(&client, "cf-pass", "e1", r#"{"a": 1}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"a": 1}));
        server.stop().await;
    }

    async fn cf_2_input_constructor_replaces_the_input(backend) {
        let (server, client) = server_with_flow(backend, "cf-input-ctor", CF_2).await;
        let ended = run_execution(&client, "cf-input-ctor", "e1", r#"{"x": 1}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"FieldA": 123}));
        server.stop().await;
    }

    async fn cf_3_constructors_literals_nesting_functions_context(backend) {
        let (server, client) = server_with_flow(backend, "cf-constructors", CF_3).await;
        let input = r#"{"profile": {"name": "ann"}, "items": [10, 20]}"#;
        let ended = run_execution(&client, "cf-constructors", "e1", input, WITHIN).await;
        assert_succeeded(
            &ended,
            json!({"echoed": "ann",
                   "all": {"user": "ann", "literal": "$Input.profile.name", "count": 2,
                           "greeting": "hello ann", "nested": {"first": 10},
                           "fromExecution": "ann"}}),
        );
        server.stop().await;
    }

    async fn cf_4_choice_ordered_branches_and_default(backend) {
        let (server, client) = server_with_flow(backend, "cf-choice", CF_4).await;
        let rows = [
            (r#"{"status": "ready"}"#, json!({"path": "ready"})),
            (r#"{"status": "x", "retries": 5}"#, json!({"path": "giveup"})),
            (r#"{"status": "x", "retries": 1}"#, json!({"status": "x", "retries": 1})),
            // A missing `retries` is not `> 3`.
            (r#"{"status": "x"}"#, json!({"status": "x"})),
        ];
        for (row, (input, output)) in rows.into_iter().enumerate() {
            let ended = run_execution(&client, "cf-choice", &format!("row{row}"), input, WITHIN).await;
            assert_succeeded(&ended, output);
        }
        server.stop().await;
    }

    async fn cf_5_parallel_output_map_read_downstream(backend) {
        let (server, client) = server_with_flow(backend, "cf-parallel", CF_5).await;
        let ended = run_execution(&client, "cf-parallel", "e1", "{}", WITHIN).await;
        assert_succeeded(
            &ended,
            json!({"sum": 444, "raw": {"Branch0": {"FieldA": 123}, "Branch1": {"FieldA": 321}}}),
        );
        server.stop().await;
    }

    async fn cf_5b_parallel_without_join(backend) {
        // "Without Join, the execution output is the raw value."
        let definition = CF_5
            .replace("    Next: Join\n", "    End: true\n")
            .split("  - Type: Pass\n    Name: Join")
            .next()
            .unwrap()
            .to_string();
        let (server, client) = server_with_flow(backend, "cf-parallel", &definition).await;
        let ended = run_execution(&client, "cf-parallel", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"Branch0": {"FieldA": 123}, "Branch1": {"FieldA": 321}}));
        server.stop().await;
    }

    async fn cf_5c_parallel_join_with_arithmetic(backend) {
        // "Writing `$Input.Branch0.FieldA + $Input.Branch1.FieldA` gives the same result."
        let definition = CF_5.replace(
            "intAdd($Input.Branch0.FieldA, $Input.Branch1.FieldA)",
            "$Input.Branch0.FieldA + $Input.Branch1.FieldA",
        );
        let (server, client) = server_with_flow(backend, "cf-parallel", &definition).await;
        let ended = run_execution(&client, "cf-parallel", "e1", "{}", WITHIN).await;
        assert_succeeded(
            &ended,
            json!({"sum": 444, "raw": {"Branch0": {"FieldA": 123}, "Branch1": {"FieldA": 321}}}),
        );
        server.stop().await;
    }

    async fn cf_6_map_inline(backend) {
        let (server, client) = server_with_flow(backend, "cf-map", CF_6).await;
        let input = r#"{"orders": [{"id": 1}, {"id": 2}, {"id": 3}]}"#;
        let ended = run_execution(&client, "cf-map", "e1", input, WITHIN).await;
        assert_succeeded(
            &ended,
            json!({"Items": [{"id": 1, "tagged": true}, {"id": 2, "tagged": true},
                             {"id": 3, "tagged": true}]}),
        );
        // MaxConcurrency 2: never more than two iterations open at once.
        let mut open = 0;
        for event in &ended.events {
            match event["Type"].as_str() {
                Some("IterationEntered") => open += 1,
                Some("IterationExited") => open -= 1,
                _ => {}
            }
            assert!(open <= 2, "more than 2 iterations at once: {:#?}", ended.events);
        }
        server.stop().await;
    }

    async fn cf_6b_map_output_constructor(backend) {
        // Before the Map's own `End: true` (the last line; the Processor's is deeper).
        let at = CF_6.rfind("\n    End: true\n").unwrap() + 1;
        let definition = format!("{}{CF_6B_OUTPUT_CONSTRUCTOR}{}", &CF_6[..at], &CF_6[at..]);
        let (server, client) = server_with_flow(backend, "cf-map", &definition).await;
        let input = r#"{"orders": [{"id": 1}, {"id": 2}, {"id": 3}]}"#;
        let ended = run_execution(&client, "cf-map", "e1", input, WITHIN).await;
        assert_succeeded(&ended, json!({"ids": [1, 2, 3], "n": 3}));
        server.stop().await;
    }

    async fn cf_6c_map_empty_items(backend) {
        let (server, client) = server_with_flow(backend, "cf-map", CF_6).await;
        let ended = run_execution(&client, "cf-map", "e1", r#"{"orders": []}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"Items": []}));
        server.stop().await;
    }

    async fn cf_7_wait_dynamic_duration(backend) {
        let (server, client) = server_with_flow(backend, "cf-wait", CF_7).await;
        let ended = run_execution(&client, "cf-wait", "e1", r#"{"delay": 2}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"delay": 2}));
        let lasted = event_time_gap_ms(&ended.events[0], ended.events.last().unwrap());
        assert!(lasted >= 2000, "the execution lasted {lasted} ms");
        server.stop().await;
    }

    async fn cf_7b_wait_zero_seconds_fails(backend) {
        let (server, client) = server_with_flow(backend, "cf-wait", CF_7).await;
        let ended = run_execution(&client, "cf-wait", "e1", r#"{"delay": 0}"#, WITHIN).await;
        assert_failed(&ended, "FnF.RuntimeError", None);
        server.stop().await;
    }

    async fn cf_8_succeed_ends_only_its_branch(backend) {
        let (server, client) = server_with_flow(backend, "cf-succeed", CF_8).await;
        let ended = run_execution(&client, "cf-succeed", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"Branch0": {"FieldA": 123}, "Branch1": {"FieldA": 321}}));
        server.stop().await;
    }

    async fn cf_9_fail(backend) {
        let (server, client) = server_with_flow(backend, "cf-fail", CF_9).await;
        let ok = run_execution(&client, "cf-fail", "ok", r#"{"status": "true"}"#, WITHIN).await;
        assert_succeeded(&ok, json!({"status": "true"}));
        let failed = run_execution(&client, "cf-fail", "no", r#"{"status": "no"}"#, WITHIN).await;
        assert_failed(&failed, "customBizCode", Some("my custom error"));
        assert_eq!(entered_steps(&failed.events), ["Choice1", "Fail1"]);
        server.stop().await;
    }

    async fn cf_10_fc_task_output_body(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("cf-fc", CF_10).await;
        let ended = run_execution(&client, "cf-fc", "e1", r#"{"name": "tom"}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"greeted": "tom", "lang": "en"}));
        let calls = stub.invocations_of("echo");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].event, json!({"who": "tom", "lang": "en"}));
        assert_eq!(calls[0].invocation_type, "Sync");
        // §I.8: `resource` is the Action, `pattern` the TaskMode.
        let scheduled = event_detail(first_event(&ended.events, "TaskScheduled"));
        assert_eq!(
            (&scheduled["resource"], &scheduled["pattern"], &scheduled["attempt"]),
            (&json!("FC:InvokeFunction"), &json!("RequestComplete"), &json!(1)),
            "{scheduled}"
        );
        // The raw result wraps the function's return value (§II.5.1).
        let succeeded = first_event(&ended.events, "TaskSucceeded");
        assert_eq!(
            event_detail(succeeded)["output"]["Body"],
            json!({"who": "tom", "lang": "en"})
        );
        server.stop().await;
    }

    async fn cf_11_retry_backoff_then_catch(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("cf-retry-catch", &cf_11(CF_11_BACKOFF, CF_11_CATCH)).await;
        let ended = run_execution(&client, "cf-retry-catch", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"failedWith": "BookFlightError", "reason": "no seats"}));
        let calls = stub.invocations_of("fail");
        assert_eq!(calls.len(), 3, "three invocations");
        for call in &calls {
            assert_eq!(call.event, json!({"errorType": "BookFlightError", "errorMessage": "no seats"}));
        }
        let gaps = invocation_gaps(&calls);
        assert!((0.9..2.5).contains(&gaps[0]), "first retry after ≈1 s: {gaps:?}");
        assert!((1.9..3.5).contains(&gaps[1]), "second retry after ≈2 s: {gaps:?}");
        server.stop().await;
    }

    async fn cf_11b_retry_without_backoff_rate(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("cf-retry-catch", &cf_11("", CF_11_CATCH)).await;
        let ended = run_execution(&client, "cf-retry-catch", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"failedWith": "BookFlightError", "reason": "no seats"}));
        let calls = stub.invocations_of("fail");
        assert_eq!(calls.len(), 3, "three invocations");
        let gaps = invocation_gaps(&calls);
        assert!((0.9..1.9).contains(&gaps[0]), "first retry after ≈1 s: {gaps:?}");
        assert!((0.9..1.9).contains(&gaps[1]), "second retry after ≈1 s too: {gaps:?}");
        server.stop().await;
    }

    async fn cf_11c_no_catch(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("cf-retry-catch", &cf_11(CF_11_BACKOFF, "")).await;
        let ended = run_execution(&client, "cf-retry-catch", "e1", "{}", WITHIN).await;
        assert_failed(&ended, "BookFlightError", Some("no seats"));
        assert_eq!(stub.invocations_of("fail").len(), 3);
        server.stop().await;
    }

    async fn cf_12_wait_for_custom_callback_succeeded(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("cf-callback", CF_12).await;
        client.start("cf-callback", "e1", r#"{"orderId": "o-1"}"#).await;
        let calls = wait_invocations(&stub, "echo", 1, WITHIN).await;
        // Appendix C: the header says `Async` only for RequestComplete + `invocationType:
        // Async`; a WaitForCustomCallback submission is invoked synchronously.
        assert_eq!(calls[0].invocation_type, "Sync");
        let token = calls[0].event["token"].as_str().expect("a token").to_string();
        assert!(!token.is_empty());
        assert_eq!(calls[0].event, json!({"token": token, "orderId": "o-1"}));
        client.wait_event("cf-callback", "e1", "TaskSubmitted", WITHIN).await;
        assert_eq!(client.describe("cf-callback", "e1").await["Status"], "Running");
        let answer = report_succeeded(&client, &token, r#"{"approved": true}"#).await;
        assert!(answer.ok()["EventId"].is_i64(), "{}", answer.body);
        let ended = common::ended_execution(&client, "cf-callback", "e1", WITHIN).await;
        assert_succeeded(&ended, json!({"approved": true}));
        report_succeeded(&client, &token, r#"{"approved": false}"#)
            .await
            .err(400, "ExecutionAlreadyCompleted");
        server.stop().await;
    }

    async fn cf_12_wait_for_custom_callback_failed(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("cf-callback", CF_12).await;
        client.start("cf-callback", "e1", r#"{"orderId": "o-1"}"#).await;
        let calls = wait_invocations(&stub, "echo", 1, WITHIN).await;
        let token = calls[0].event["token"].as_str().expect("a token").to_string();
        assert_eq!(calls[0].event, json!({"token": token, "orderId": "o-1"}));
        client.wait_event("cf-callback", "e1", "TaskSubmitted", WITHIN).await;
        assert_eq!(client.describe("cf-callback", "e1").await["Status"], "Running");
        report_failed(&client, &token, "Rejected", "no").await.ok();
        let ended = common::ended_execution(&client, "cf-callback", "e1", WITHIN).await;
        assert_failed(&ended, "Rejected", Some("no"));
        report_succeeded(&client, &token, r#"{"approved": true}"#)
            .await
            .err(400, "ExecutionAlreadyCompleted");
        server.stop().await;
    }

    async fn cf_13_global_variables(backend) {
        let (server, client) = server_with_flow(backend, "cf-global", CF_13).await;
        let ended = run_execution(&client, "cf-global", "e1", r#"{"orderId": "o-9"}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"restored": "o-9", "previous": "saved"}));
        server.stop().await;
    }

    async fn cf_14_map_iteration_failure_caught(backend) {
        let (server, client) = server_with_flow(backend, "cf-map-catch", CF_14).await;
        let good = run_execution(&client, "cf-map-catch", "good",
            r#"{"items": [{"ok": true}, {"ok": true}]}"#, WITHIN).await;
        assert_succeeded(&good, json!({"Items": [{"ok": true}, {"ok": true}]}));
        let bad = run_execution(&client, "cf-map-catch", "bad",
            r#"{"items": [{"ok": true}, {"ok": false}]}"#, WITHIN).await;
        assert_succeeded(&bad, json!({"error": "ItemRejected"}));
        server.stop().await;
    }

    async fn cf_15_task_timeout(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("cf-timeout", CF_15).await;
        let ended = run_execution(&client, "cf-timeout", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"timedOut": true}));
        assert_eq!(stub.invocations_of("sleep")[0].event, json!({"seconds": 5}));
        let lasted = event_time_gap_ms(&ended.events[0], ended.events.last().unwrap());
        assert!((900..3000).contains(&lasted), "≈1 s, not {lasted} ms");
        first_event(&ended.events, "TaskTimedOut");
        server.stop().await;
    }

    async fn cf_16_nested_flow_waiting_for_the_child(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("cf-child", &cf_16_child()).await;
        client.create_flow("cf-parent", CF_16).await;
        let ended = run_execution(&client, "cf-parent", "e1", r#"{"x": 1}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"FieldA": 123}));
        let submitted = first_event(&ended.events, "TaskSubmitted");
        let child_name = event_detail(submitted)["output"].as_str().expect("the child's name").to_string();
        let child = client.describe("cf-child", &child_name).await;
        assert_eq!(child["Status"], "Succeeded");
        assert_eq!(json_field(&child, "Input"), json!({"x": 1}));
        assert_eq!(json_field(&child, "Output"), json!({"FieldA": 123}));
        server.stop().await;
    }

    async fn cf_16b_nested_flow_request_complete(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("cf-child", &cf_16_child()).await;
        let parent = CF_16.replace("TaskMode: WaitForSystemCallback", "TaskMode: RequestComplete");
        client.create_flow("cf-parent", &parent).await;
        let ended = run_execution(&client, "cf-parent", "e1", r#"{"x": 1}"#, WITHIN).await;
        assert_eq!(ended.status, "Succeeded", "{:#?}", ended.events);
        let output = ended.output.clone().unwrap();
        assert_eq!(output["FlowName"], "cf-child");
        assert!(output["RequestID"].as_str().is_some_and(|id| !id.is_empty()), "{output}");
        let child_name = output["ExecutionName"].as_str().expect("a generated ExecutionName");
        assert!(!child_name.is_empty());
        assert_eq!(output.as_object().unwrap().len(), 3, "{output}");
        // The child runs on its own.
        let child = client.wait_end("cf-child", child_name, WITHIN).await;
        assert_eq!(child["Status"], "Succeeded");
        assert_eq!(json_field(&child, "Output"), json!({"FieldA": 123}));
        server.stop().await;
    }
}
