//! GetExecutionHistory (docs/COMPATIBILITY.md#executions): the event shapes and paging, and the history of a
//! failed execution.

use super::*;

/// Three Pass states in a row.
fn three_steps(name: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: a\nStates:\n  - Type: Pass\n    Name: a\n    Next: b\n  - Type: Pass\n    Name: b\n    Next: c\n  - Type: Pass\n    Name: c\n    End: true\n"
    )
}

backend_tests! {
    async fn execution_history_shape_and_paging(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("steps", &three_steps("steps")).await;
        client.start("steps", "h", r#"{"n": 1}"#).await;
        client.wait_end("steps", "h", TEN_SECONDS).await;
        let answer = client
            .get("GetExecutionHistory", &[("FlowName", "steps"), ("ExecutionName", "h")])
            .await;
        let body = answer.ok().clone();
        assert_request_id(&answer);
        assert_keys(&body, &["Events", "RequestId"]);
        let events = body["Events"].as_array().unwrap().clone();
        let types: Vec<&str> = events.iter().map(|e| e["Type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted", "StepEntered", "StepExited", "StepEntered", "StepExited",
                "StepEntered", "StepExited", "ExecutionSucceeded"
            ]
        );
        let mut previous_time = 0;
        for (index, event) in events.iter().enumerate() {
            assert_keys(event, &["EventId", "Type", "StepName", "Time", "ScheduleEventId", "EventDetail"]);
            assert!(event["EventId"].is_i64(), "EventId is a JSON integer: {event}");
            assert_eq!(event["EventId"], json!(index + 1));
            assert!(event["ScheduleEventId"].is_i64(), "ScheduleEventId is a JSON integer: {event}");
            assert!(event["EventDetail"].is_string(), "EventDetail is a string: {event}");
            assert!(json_field(event, "EventDetail").is_object(), "{event}");
            let time = assert_time_ms(&event["Time"]);
            assert!(time >= previous_time, "events out of time order");
            previous_time = time;
        }
        let steps: Vec<&str> = events.iter().map(|e| e["StepName"].as_str().unwrap()).collect();
        assert_eq!(steps, ["", "a", "a", "b", "b", "c", "c", ""]);
        assert_eq!(events[0]["ScheduleEventId"], 0);
        assert_eq!(events[7]["ScheduleEventId"], 0);
        // StepExited points to its StepEntered.
        assert_eq!(events[2]["ScheduleEventId"], 2);
        assert_eq!(events[6]["ScheduleEventId"], 6);
        assert_eq!(json_field(&events[0], "EventDetail"), json!({"input": {"n": 1}}));
        assert_eq!(json_field(&events[7], "EventDetail"), json!({"output": {"n": 1}}));
        assert_eq!(end_events(&events).len(), 1);

        // Paging: NextToken is the next EventId as decimal text.
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = vec![("FlowName", "steps"), ("ExecutionName", "h"), ("Limit", "3")];
            if let Some(token) = &token {
                params.push(("NextToken", token));
            }
            let page = client.get("GetExecutionHistory", &params).await.ok().clone();
            let ids: Vec<i64> = page["Events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["EventId"].as_i64().unwrap())
                .collect();
            seen.extend(ids.iter().copied());
            match page["NextToken"].as_str() {
                Some(next) => {
                    assert_eq!(ids.len(), 3);
                    assert_eq!(next, (ids[2] + 1).to_string());
                    token = Some(next.to_string());
                }
                None => break,
            }
        }
        assert_eq!(seen, (1..=8).collect::<Vec<i64>>());
        let page = client
            .get(
                "GetExecutionHistory",
                &[("FlowName", "steps"), ("ExecutionName", "h"), ("Limit", "4"), ("NextToken", "5")],
            )
            .await
            .ok()
            .clone();
        assert_eq!(page["Events"][0]["EventId"], 5);
        assert_eq!(page["Events"].as_array().unwrap().len(), 4);
        assert!(page.get("NextToken").is_none(), "the last page ends exactly: {page}");
        for token in ["abc", "99"] {
            let page = client
                .get(
                    "GetExecutionHistory",
                    &[("FlowName", "steps"), ("ExecutionName", "h"), ("NextToken", token)],
                )
                .await
                .ok()
                .clone();
            assert_eq!(page["Events"], json!([]), "NextToken {token}");
            assert!(page.get("NextToken").is_none());
        }
        for (limit, shown) in [("0", "0"), ("1000", "1000"), ("x", "'x'")] {
            let answer = client
                .get(
                    "GetExecutionHistory",
                    &[("FlowName", "steps"), ("ExecutionName", "h"), ("Limit", limit)],
                )
                .await;
            answer.err(400, "InvalidArgument");
            assert_eq!(
                answer.message(),
                format!("Parameter error: Limit must be an integer between 1 and 999, got {shown}")
            );
        }
        client
            .get(
                "GetExecutionHistory",
                &[("FlowName", "steps"), ("ExecutionName", "h"), ("Limit", "999")],
            )
            .await
            .ok();
        let answer = client
            .get("GetExecutionHistory", &[("FlowName", "steps"), ("ExecutionName", "nope")])
            .await;
        answer.err(404, "ExecutionNotExists");
        assert_eq!(answer.message(), "Execution nope for flow steps does not exist.");
        client
            .get("GetExecutionHistory", &[("FlowName", "ghost"), ("ExecutionName", "h")])
            .await
            .err(404, "FlowNotExists");

        // A running execution has no end event yet.
        client.create_flow("idle", &wait_state_machine("idle", 300)).await;
        client.start("idle", "i", "{}").await;
        let events = client.wait_event("idle", "i", "StepStarted", TEN_SECONDS).await;
        let types: Vec<&str> = events.iter().map(|e| e["Type"].as_str().unwrap()).collect();
        assert_eq!(types, ["ExecutionStarted", "StepEntered", "StepStarted"]);
        assert!(json_field(&events[2], "EventDetail")["until"].is_string());
        server.stop().await;
    }

    async fn failed_execution_history(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("failing", &router("failing")).await;
        client.start("failing", "f", r#"{"mode": "fail"}"#).await;
        let ended = client.wait_end("failing", "f", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Failed");
        assert_eq!(ended["Output"], "");
        let events = client.history("failing", "f").await;
        assert_eq!(events[0]["Type"], "ExecutionStarted");
        let ends = end_events(&events);
        assert_eq!(ends.len(), 1);
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionFailed");
        assert_eq!(
            json_field(last, "EventDetail"),
            json!({"error": "Boom", "cause": "it broke"})
        );
        server.stop().await;
    }
}
