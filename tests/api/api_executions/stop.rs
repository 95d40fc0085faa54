//! StopExecution (docs/COMPATIBILITY.md#executions): stopping a waiting execution, and its errors.

use super::*;

backend_tests! {
    async fn stop_a_waiting_execution(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client
            .create_flow_with("roled", &router("roled"), &[("RoleArn", "acs:ram::1:role/fnf")])
            .await;
        client.start("roled", "s", r#"{"mode": "wait"}"#).await;
        client.wait_event("roled", "s", "StepStarted", TEN_SECONDS).await;
        let answer = stop(&client, "roled", "s", &[("Error", "Halted"), ("Cause", "by hand")]).await;
        let body = answer.ok().clone();
        assert_request_id(&answer);
        let mut keys = EXECUTION_KEYS.to_vec();
        keys.push("RoleArn");
        assert_keys(&body, &keys);
        assert_eq!(body["RoleArn"], "acs:ram::1:role/fnf");
        assert_eq!(body["Status"], "Stopped");
        assert_eq!(body["Output"], "");
        let stopped = assert_time_ms(&body["StoppedTime"]);
        assert!(stopped >= assert_time_ms(&body["StartedTime"]));

        let described = describe(&client, "roled", "s").await.ok().clone();
        assert_keys(&described, &EXECUTION_KEYS);
        assert_eq!(described["Status"], "Stopped");
        assert_eq!(described["StoppedTime"], body["StoppedTime"]);
        let events = client.history("roled", "s").await;
        assert_eq!(end_events(&events).len(), 1);
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionStopped");
        assert_eq!(last["StepName"], "");
        assert_eq!(
            json_field(last, "EventDetail"),
            json!({"error": "Halted", "cause": "by hand"})
        );
        assert_eq!(last["EventId"], json!(events.len()));

        // Stopping again: it has already completed.
        let answer = stop(&client, "roled", "s", &[]).await;
        answer.err(400, "ExecutionAlreadyCompleted");
        assert_eq!(answer.message(), "Execution 's' for flow 'roled' has already completed.");
        // A succeeded one too.
        client.start("roled", "quick", "{}").await;
        client.wait_end("roled", "quick", TEN_SECONDS).await;
        let answer = stop(&client, "roled", "quick", &[("Error", "E")]).await;
        answer.err(400, "ExecutionAlreadyCompleted");
        assert_eq!(answer.message(), "Execution 'quick' for flow 'roled' has already completed.");
        assert_eq!(describe(&client, "roled", "quick").await.ok()["Status"], "Succeeded");

        // Without a role, no RoleArn member; without Error and Cause the event has neither.
        client.create_flow("plain", &router("plain")).await;
        client.start("plain", "p", r#"{"mode": "wait"}"#).await;
        let body = stop(&client, "plain", "p", &[]).await.ok().clone();
        assert_keys(&body, &EXECUTION_KEYS);
        assert_eq!(body["Status"], "Stopped");
        let events = client.history("plain", "p").await;
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionStopped");
        assert_eq!(json_field(last, "EventDetail"), json!({}));
        server.stop().await;
    }

    async fn stop_execution_errors(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("halt", &router("halt")).await;
        client.start("halt", "w", r#"{"mode": "wait"}"#).await;
        let long_error = "e".repeat(129);
        let long_cause = "c".repeat(4097);
        for (extra, message) in [
            (("Error", long_error.as_str()), "Parameter error: Error must be between 1 and 128 characters long, got 129"),
            (("Cause", long_cause.as_str()), "Parameter error: Cause must be between 1 and 4096 characters long, got 4097"),
        ] {
            let answer = stop(&client, "halt", "w", &[extra]).await;
            answer.err(400, "InvalidArgument");
            assert_eq!(answer.message(), message);
        }
        assert_eq!(describe(&client, "halt", "w").await.ok()["Status"], "Running");
        // The limits count characters, not bytes.
        let error = "é".repeat(128);
        let cause = "ç".repeat(4096);
        stop(&client, "halt", "w", &[("Error", &error), ("Cause", &cause)]).await.ok();
        let events = client.history("halt", "w").await;
        assert_eq!(
            json_field(events.last().unwrap(), "EventDetail"),
            json!({"error": error, "cause": cause})
        );

        let answer = stop(&client, "halt", "nope", &[]).await;
        answer.err(404, "ExecutionNotExists");
        assert_eq!(answer.message(), "Execution nope for flow halt does not exist.");
        let answer = stop(&client, "ghost", "w", &[]).await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow ghost does not exist.");
        let answer = client.call("StopExecution", &[("FlowName", "halt")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'ExecutionName' must be specified.");
        server.stop().await;
    }
}
