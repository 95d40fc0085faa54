//! The worked examples of docs/COMPATIBILITY.md#legacy-fdl (FDL-1 … FDL-19), each run end to end over
//! the HTTP API on both backends, with the stub Function Compute of Appendix A.

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
use serde_json::{Value, json};

const WITHIN: Duration = Duration::from_secs(30);

backend_tests! {
    async fn fdl_1_pass_only(backend) {
        let (server, client) = server_with_flow(backend, "fdl1", FDL_1).await;
        let ended = run_execution(&client, "fdl1", "e1", r#"{"a": 1}"#, WITHIN).await;
        assert_succeeded(&ended, json!({}));
        server.stop().await;
    }

    async fn fdl_2_constants_and_input_in_output_mappings(backend) {
        let (server, client) = server_with_flow(backend, "fdl2", FDL_2).await;
        let ended = run_execution(&client, "fdl2", "e1", r#"{"user": "tom", "other": 1}"#, WITHIN).await;
        assert_succeeded(
            &ended,
            json!({"names": ["A", "B", "C"], "greeting": "hello", "who": "tom",
                   "limits": {"max": 5, "tags": ["$input.user"]}}),
        );
        server.stop().await;
    }

    async fn fdl_3_flow_mappings_default_merge_later_wins(backend) {
        let (server, client) = server_with_flow(backend, "fdl3", FDL_3).await;
        let ended = run_execution(&client, "fdl3", "e1", r#"{"a": 1, "b": 9}"#, WITHIN).await;
        assert_succeeded(
            &ended,
            json!({"final": {"x": 2, "y": 1, "seen": {"x": 2, "fixed": 10, "y": 1}},
                   "original": {"x": 1, "fixed": 10}}),
        );
        server.stop().await;
    }

    async fn fdl_4_choice_steps_goto_default_fall_through(backend) {
        let (server, client) = server_with_flow(backend, "fdl4", FDL_4).await;
        let rows = [
            (r#"{"status": "ready"}"#, json!({"path": "ready", "visitedAfter": true, "done": true}),
             vec!["route", "onReady", "afterChoice", "final"]),
            (r#"{"status": "failed"}"#, json!({"done": true}), vec!["route", "final"]),
            (r#"{"status": "other"}"#, json!({"path": "other", "done": true}),
             vec!["route", "onOther", "final"]),
            // A missing key compares unequal: the default is taken.
            ("{}", json!({"path": "other", "done": true}), vec!["route", "onOther", "final"]),
        ];
        for (row, (input, output, steps)) in rows.into_iter().enumerate() {
            let ended = run_execution(&client, "fdl4", &format!("row{row}"), input, WITHIN).await;
            assert_succeeded(&ended, output);
            assert_eq!(entered_steps(&ended.events), steps, "input {input}");
        }
        server.stop().await;
    }

    async fn fdl_5_condition_operators(backend) {
        let conditions: Vec<&str> = FDL_5_ROWS.iter().map(|(condition, _)| *condition).collect();
        let definition = fdl_5_definition(&conditions);
        let (server, client) = server_with_flow(backend, "fdl5", &definition).await;
        let input = r#"{"a": 1, "b": {"b1": true, "b2": "ready"}, "c": [1, 2, 3], "d": 1.5, "e": "x y", "s": "10"}"#;
        let ended = run_execution(&client, "fdl5", "e1", input, WITHIN).await;
        assert_eq!(ended.status, "Succeeded", "{:#?}", ended.events);
        let output = ended.output.expect("an output");
        for (row, (condition, expected)) in FDL_5_ROWS.iter().enumerate() {
            assert_eq!(output[format!("r{row}")], json!(expected), "condition `{condition}`");
        }
        assert_eq!(output.as_object().unwrap().len(), FDL_5_ROWS.len());
        server.stop().await;
    }

    async fn fdl_6_parallel_branch_locals(backend) {
        let (server, client) = server_with_flow(backend, "fdl6", FDL_6).await;
        let ended = run_execution(&client, "fdl6", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"result": ["pass1", "pass2"], "branches": 2}));
        // `pass3` saw branch 2's local; the parallel's local is the array of branch locals.
        let pass3 = ended
            .events
            .iter()
            .find(|e| e["Type"] == "StepEntered" && e["StepName"] == "pass3")
            .expect("pass3 entered");
        assert_eq!(event_detail(pass3), json!({"input": {"result": "pass2"}}));
        let exits: Vec<Value> = ended
            .events
            .iter()
            .filter(|e| e["Type"] == "BranchExited")
            .map(event_detail)
            .collect();
        assert!(exits.contains(&json!({"index": 0, "output": {"result": "pass1"}})), "{exits:?}");
        assert!(
            exits.contains(&json!({"index": 1, "output": {"result": "pass2", "extra": "pass2"}})),
            "{exits:?}"
        );
        server.stop().await;
    }

    async fn fdl_6b_parallel_without_output_mappings(backend) {
        let definition = FDL_6.split("    outputMappings:\n      - target: result\n        source: $local[*].result").next().unwrap();
        assert!(!definition.contains("$local[*]"));
        let (server, client) = server_with_flow(backend, "fdl6b", definition).await;
        let ended = run_execution(&client, "fdl6b", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({}));
        server.stop().await;
    }

    async fn fdl_7_foreach_item_and_index(backend) {
        let (server, client) = server_with_flow(backend, "fdl7", FDL_7).await;
        let ended = run_execution(&client, "fdl7", "e1", r#"{"names": ["a", "b", "c"]}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"tags": ["a", "b", "c"], "positions": [0, 1, 2]}));
        let first = first_event(&ended.events, "IterationEntered");
        assert_eq!(
            event_detail(first),
            json!({"index": 0, "input": {"names": ["a", "b", "c"], "name": "a", "i": 0}})
        );
        server.stop().await;
    }

    async fn fdl_7b_foreach_empty_collection(backend) {
        let (server, client) = server_with_flow(backend, "fdl7b", FDL_7).await;
        let ended = run_execution(&client, "fdl7b", "e1", r#"{"names": []}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"tags": [], "positions": []}));
        server.stop().await;
    }

    async fn fdl_7c_foreach_collection_not_an_array(backend) {
        let (server, client) = server_with_flow(backend, "fdl7c", FDL_7).await;
        let ended = run_execution(&client, "fdl7c", "e1", r#"{"names": "abc"}"#, WITHIN).await;
        assert_failed(&ended, "FnF.RuntimeError", None);
        server.stop().await;
    }

    async fn fdl_8_wait_duration_from_input(backend) {
        let (server, client) = server_with_flow(backend, "fdl8", FDL_8).await;
        let ended = run_execution(&client, "fdl8", "e1", r#"{"delay": 2}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"waited": 2}));
        let lasted = event_time_gap_ms(&ended.events[0], ended.events.last().unwrap());
        assert!(lasted >= 2000, "the execution lasted {lasted} ms");
        server.stop().await;
    }

    async fn fdl_8b_wait_timestamp_in_the_past(backend) {
        let definition = FDL_8.replace("duration: $.delay", "timestamp: 2019-05-02T15:04:05Z");
        let (server, client) = server_with_flow(backend, "fdl8b", &definition).await;
        let ended = run_execution(&client, "fdl8b", "e1", r#"{"delay": 2}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"waited": 2}));
        let lasted = event_time_gap_ms(&ended.events[0], ended.events.last().unwrap());
        assert!(lasted < 1500, "a past timestamp ends the wait at once, not after {lasted} ms");
        server.stop().await;
    }

    async fn fdl_9_succeed_ends_the_list(backend) {
        let (server, client) = server_with_flow(backend, "fdl9", FDL_9).await;
        let ready = run_execution(&client, "fdl9", "ready", r#"{"status": "ready"}"#, WITHIN).await;
        assert_succeeded(&ready, json!({"p1": true}));
        assert_eq!(entered_steps(&ready.events), ["mychoice", "pass1", "final"]);
        let other = run_execution(&client, "fdl9", "other", r#"{"status": "x"}"#, WITHIN).await;
        assert_succeeded(&other, json!({"handled": true}));
        assert_eq!(entered_steps(&other.events), ["mychoice", "pass2", "handle_failure"]);
        server.stop().await;
    }

    async fn fdl_10_fail(backend) {
        let (server, client) = server_with_flow(backend, "fdl10", FDL_10).await;
        let ready = run_execution(&client, "fdl10", "ready", r#"{"status": "ready"}"#, WITHIN).await;
        assert_succeeded(&ready, json!({}));
        let broken = run_execution(&client, "fdl10", "broken", r#"{"status": "broken"}"#, WITHIN).await;
        assert_failed(&broken, "StatusIsNotReady", Some("status is not ready"));
        assert_eq!(entered_steps(&broken.events), ["check", "handle_failure"], "final is not entered");
        server.stop().await;
    }

    async fn fdl_11_end_true(backend) {
        let (server, client) = server_with_flow(backend, "fdl11", FDL_11).await;
        let ended = run_execution(&client, "fdl11", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"a": 1}));
        assert_eq!(entered_steps(&ended.events), ["a"]);
        server.stop().await;
    }

    async fn fdl_12_task_with_mappings(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl12", FDL_12).await;
        let ended = run_execution(&client, "fdl12", "e1", r#"{"name": "tom", "extra": 1}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"greeted": "tom", "language": "en"}));
        let calls = stub.invocations_of("echo");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].event, json!({"who": "tom", "lang": "en"}));
        server.stop().await;
    }

    async fn fdl_12b_task_without_mappings(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl12b", FDL_12B).await;
        let ended = run_execution(&client, "fdl12b", "e1", r#"{"name": "tom", "extra": 1}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"name": "tom", "extra": 1}));
        let calls = stub.invocations_of("echo");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].event, json!({"name": "tom", "extra": 1}));
        server.stop().await;
    }

    async fn fdl_13_retry_backoff_then_catch_with_error_mappings(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl13", &fdl_13(FDL_13_CATCH, FDL_13_ERROR_MAPPINGS)).await;
        let ended = run_execution(&client, "fdl13", "e1", "{}", WITHIN).await;
        assert_succeeded(
            &ended,
            json!({"errCode": "BookFlightError", "errMsg": "no seats", "compensated": "BookFlightError"}),
        );
        let calls = stub.invocations_of("fail");
        assert_eq!(calls.len(), 3, "three invocations");
        for call in &calls {
            assert_eq!(call.event, json!({"errorType": "BookFlightError", "errorMessage": "no seats"}));
        }
        let gaps = invocation_gaps(&calls);
        assert!((0.9..2.5).contains(&gaps[0]), "first retry after ≈1 s: {gaps:?}");
        assert!((1.9..3.5).contains(&gaps[1]), "second retry after ≈2 s: {gaps:?}");
        assert_eq!(entered_steps(&ended.events), ["risky", "compensate"], "done is skipped");
        server.stop().await;
    }

    async fn fdl_13b_catch_all_without_error_mappings(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl13b", &fdl_13(FDL_13_CATCH_ALL, "")).await;
        let ended = run_execution(&client, "fdl13b", "e1", "{}", WITHIN).await;
        assert_failed(&ended, "FnF.RuntimeError", None);
        assert_eq!(stub.invocations_of("fail").len(), 3);
        // The caught task's output is {}: the error is not visible to `compensate`.
        let risky_exit = ended
            .events
            .iter()
            .find(|e| e["Type"] == "StepExited" && e["StepName"] == "risky")
            .expect("risky exits (caught)");
        assert_eq!(event_detail(risky_exit), json!({"output": {}}));
        let failed = first_event(&ended.events, "StepFailed");
        assert_eq!(failed["StepName"], "compensate");
        server.stop().await;
    }

    async fn fdl_13c_no_catch(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl13c", &fdl_13("", FDL_13_ERROR_MAPPINGS)).await;
        let ended = run_execution(&client, "fdl13c", "e1", "{}", WITHIN).await;
        assert_failed(&ended, "BookFlightError", Some("no seats"));
        assert_eq!(stub.invocations_of("fail").len(), 3, "after 3 invocations");
        server.stop().await;
    }

    async fn fdl_14_wait_for_callback_succeeded(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl14", FDL_14).await;
        client.start("fdl14", "e1", r#"{"orderId": "o-1"}"#).await;
        let calls = wait_invocations(&stub, "echo", 1, WITHIN).await;
        let token = calls[0].event["taskToken"].as_str().expect("a token").to_string();
        assert!(!token.is_empty());
        assert_eq!(calls[0].event, json!({"taskToken": token, "orderId": "o-1"}));
        client.wait_event("fdl14", "e1", "TaskSubmitted", WITHIN).await;
        assert_eq!(client.describe("fdl14", "e1").await["Status"], "Running");
        let answer = report_succeeded(&client, &token, r#"{"approved": true}"#).await;
        assert!(answer.ok()["EventId"].is_i64(), "{}", answer.body);
        let ended = common::ended_execution(&client, "fdl14", "e1", WITHIN).await;
        assert_succeeded(&ended, json!({"approved": true}));
        // A second report with the same token is refused.
        report_succeeded(&client, &token, r#"{"approved": false}"#)
            .await
            .err(400, "ExecutionAlreadyCompleted");
        report_failed(&client, &token, "Rejected", "no budget")
            .await
            .err(400, "ExecutionAlreadyCompleted");
        server.stop().await;
    }

    async fn fdl_14_wait_for_callback_failed(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl14", FDL_14).await;
        client.start("fdl14", "e1", r#"{"orderId": "o-1"}"#).await;
        let calls = wait_invocations(&stub, "echo", 1, WITHIN).await;
        let token = calls[0].event["taskToken"].as_str().expect("a token").to_string();
        assert_eq!(calls[0].event, json!({"taskToken": token, "orderId": "o-1"}));
        client.wait_event("fdl14", "e1", "TaskSubmitted", WITHIN).await;
        assert_eq!(client.describe("fdl14", "e1").await["Status"], "Running");
        report_failed(&client, &token, "Rejected", "no budget").await.ok();
        let ended = common::ended_execution(&client, "fdl14", "e1", WITHIN).await;
        assert_failed(&ended, "Rejected", Some("no budget"));
        report_failed(&client, &token, "Rejected", "again")
            .await
            .err(400, "ExecutionAlreadyCompleted");
        server.stop().await;
    }

    async fn fdl_15_task_timeout_caught(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl15", FDL_15).await;
        let ended = run_execution(&client, "fdl15", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"err": "FnF.TaskTimeout"}));
        assert_eq!(stub.invocations_of("sleep")[0].event, json!({"seconds": 5}));
        let lasted = event_time_gap_ms(&ended.events[0], ended.events.last().unwrap());
        assert!((900..3000).contains(&lasted), "≈1 s, not {lasted} ms");
        first_event(&ended.events, "TaskTimedOut");
        server.stop().await;
    }

    async fn fdl_16_loop_with_local_and_backward_goto(backend) {
        let (server, stub) = start_with_stub(backend).await;
        let client = server.client();
        client.create_flow("fdl16", FDL_16).await;
        let ended = run_execution(&client, "fdl16", "e1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"count": 3}));
        let sent: Vec<Value> = stub.invocations_of("increment").into_iter().map(|i| i.event).collect();
        assert_eq!(sent, [json!({"count": 0}), json!({"count": 1}), json!({"count": 2})]);
        server.stop().await;
    }

    async fn fdl_17_context(backend) {
        let (server, client) = server_with_flow(backend, "ctx-demo", FDL_17).await;
        let ended = run_execution(&client, "ctx-demo", "run-1", "{}", WITHIN).await;
        assert_succeeded(&ended, json!({"exec": "run-1", "flow": "ctx-demo"}));
        server.stop().await;
    }

    async fn fdl_18_nested_foreach_flattening_projection(backend) {
        let (server, client) = server_with_flow(backend, "fdl18", FDL_18).await;
        let input = r#"{"groups": [{"parts": [1, 2]}, {"parts": [3]}]}"#;
        let ended = run_execution(&client, "fdl18", "e1", input, WITHIN).await;
        assert_succeeded(&ended, json!({"parts": [1, 2, 3]}));
        server.stop().await;
    }

    async fn fdl_19_sync_subflow(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("child", FDL_19_CHILD).await;
        client.create_flow("parent", FDL_19).await;
        let ended = run_execution(&client, "parent", "e1", r#"{"value": 5}"#, WITHIN).await;
        assert_succeeded(&ended, json!({"childSaw": 5}));
        let scheduled = first_event(&ended.events, "TaskScheduled");
        assert_eq!(event_detail(scheduled)["input"], json!({"x": 5}));
        let submitted = first_event(&ended.events, "TaskSubmitted");
        let child_name = event_detail(submitted)["output"].as_str().expect("the child's name").to_string();
        let child = client.describe("child", &child_name).await;
        assert_eq!(child["Status"], "Succeeded");
        assert_eq!(json_field(&child, "Input"), json!({"x": 5}));
        assert_eq!(json_field(&child, "Output"), json!({"childSaw": 5}));
        server.stop().await;
    }

    async fn fdl_19b_sync_subflow_child_fails(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("child", FDL_19_FAILING_CHILD).await;
        client.create_flow("parent", FDL_19).await;
        let ended = run_execution(&client, "parent", "e1", r#"{"value": 5}"#, WITHIN).await;
        assert_failed(&ended, "Boom", Some("the child blew up"));
        server.stop().await;
    }

    async fn fdl_19c_sync_subflow_child_error_caught(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("child", FDL_19_FAILING_CHILD).await;
        client.create_flow("parent", FDL_19_CATCHING).await;
        let ended = run_execution(&client, "parent", "e1", r#"{"value": 5}"#, WITHIN).await;
        assert_succeeded(
            &ended,
            json!({"childError": "Boom", "childCause": "the child blew up", "recovered": "Boom"}),
        );
        server.stop().await;
    }
}
