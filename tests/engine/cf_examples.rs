//! The worked examples of docs/COMPATIBILITY.md#state-machine (CF-1 … CF-16), each run end to end over the
//! HTTP API on both backends, with the stub Function Compute of Appendix A.

use crate::common;

use std::time::Duration;

use common::definitions::*;
use common::examples::{
    assert_failed, assert_succeeded, entered_steps, first_event, server_with_flow,
};
use common::{
    TestServer, event_detail, event_time_gap_ms, invocation_gaps, json_field, report_failed,
    report_succeeded, run_execution, start_with_stub, wait_invocations,
};
use serde_json::json;

const WITHIN: Duration = Duration::from_secs(30);

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
        let (server, client) = server_with_flow(backend, "cf-map", &cf_6b()).await;
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
        // docs/COMPATIBILITY.md#history-events: `resource` is the Action, `pattern` the TaskMode.
        let scheduled = event_detail(first_event(&ended.events, "TaskScheduled"));
        assert_eq!(
            (&scheduled["resource"], &scheduled["pattern"], &scheduled["attempt"]),
            (&json!("FC:InvokeFunction"), &json!("RequestComplete"), &json!(1)),
            "{scheduled}"
        );
        // The raw result wraps the function's return value (docs/COMPATIBILITY.md#function-compute).
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
