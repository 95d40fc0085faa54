//! DescribeExecution (docs/COMPATIBILITY.md#executions): long polling until the end, and its errors.

use super::*;

backend_tests! {
    async fn describe_execution_long_polls_until_the_end(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("pause", &wait_state_machine("pause", 2)).await;
        client.start("pause", "p", r#"{"k": 1}"#).await;
        let asked = Instant::now();
        let answer = client
            .get(
                "DescribeExecution",
                &[("FlowName", "pause"), ("ExecutionName", "p"), ("WaitTimeSeconds", "10")],
            )
            .await;
        let waited = asked.elapsed();
        let body = answer.ok().clone();
        assert_eq!(body["Status"], "Succeeded", "{body}");
        assert!(waited < Duration::from_secs(8), "answered after {waited:?}, not at the end");
        let started = assert_time_ms(&body["StartedTime"]);
        let stopped = assert_time_ms(&body["StoppedTime"]);
        assert!(stopped - started >= 2_000, "the Wait of 2 s took {} ms", stopped - started);
        assert!(
            chrono::Utc::now().timestamp_millis() - started >= 2_000,
            "answered before the Wait ended"
        );
        assert_eq!(json_field(&body, "Output"), json!({"k": 1}));

        // Already ended: answered at once, whatever the wait.
        let asked = Instant::now();
        let again = client
            .get(
                "DescribeExecution",
                &[("FlowName", "pause"), ("ExecutionName", "p"), ("WaitTimeSeconds", "60")],
            )
            .await
            .ok()
            .clone();
        assert!(asked.elapsed() < Duration::from_secs(2));
        assert_eq!(again["Status"], "Succeeded");

        // Still running when the wait runs out: the current state.
        client.create_flow("long", &wait_state_machine("long", 300)).await;
        client.start("long", "l", "{}").await;
        let asked = Instant::now();
        let running = client
            .get(
                "DescribeExecution",
                &[("FlowName", "long"), ("ExecutionName", "l"), ("WaitTimeSeconds", "1")],
            )
            .await
            .ok()
            .clone();
        let waited = asked.elapsed();
        assert_eq!(running["Status"], "Running");
        assert!(waited >= Duration::from_millis(900), "gave up after {waited:?}");
        assert!(waited < Duration::from_secs(6), "held for {waited:?}");
        // WaitTimeSeconds=0 does not wait.
        let asked = Instant::now();
        client
            .get(
                "DescribeExecution",
                &[("FlowName", "long"), ("ExecutionName", "l"), ("WaitTimeSeconds", "0")],
            )
            .await
            .ok();
        assert!(asked.elapsed() < Duration::from_millis(900));

        // A stop ends a long poll at once.
        let poller = long_poll_in_background(&client, "long", "l");
        // Whether the stop comes before or during the poll, the poll ends with it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop(&client, "long", "l", &[]).await.ok();
        let (waited, body) = poller.await.unwrap();
        assert_eq!(body["Status"], "Stopped");
        assert!(waited < Duration::from_secs(10), "held for {waited:?} after the stop");
        server.stop().await;
    }

    async fn a_long_poll_sees_an_end_no_notice_told_it_of(backend) {
        // Another replica's notice is lost to this one while its listener reconnects; here
        // the end is written behind the server's back, so no notice is sent at all.
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("long", &wait_state_machine("long", 300)).await;
        client.start("long", "l", "{}").await;
        let poller = long_poll_in_background(&client, "long", "l");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stopped_at = chrono::Utc::now().timestamp_millis();
        server
            .storage
            .as_ref()
            .unwrap()
            .execute(&format!(
                "UPDATE executions SET status = 'Stopped', stopped_at = {stopped_at}, \
                 due_at = NULL WHERE name = 'l'"
            ))
            .await;
        let (waited, body) = poller.await.unwrap();
        assert_eq!(body["Status"], "Stopped", "{body}");
        assert!(waited < Duration::from_secs(10), "held for {waited:?}: the end went unseen");
        server.stop().await;
    }

    async fn describe_execution_errors(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("known", &pass_state_machine("known")).await;
        for wait in ["61", "-1", "abc", "1.5"] {
            let answer = client
                .get(
                    "DescribeExecution",
                    &[("FlowName", "known"), ("ExecutionName", "x"), ("WaitTimeSeconds", wait)],
                )
                .await;
            answer.err(400, "InvalidArgument");
            assert!(
                answer
                    .message()
                    .starts_with("Parameter error: WaitTimeSeconds must be an integer between 0 and 60, got "),
                "{wait}: {}",
                answer.message()
            );
        }
        let answer = describe(&client, "known", "nope").await;
        answer.err(404, "ExecutionNotExists");
        assert_eq!(answer.message(), "Execution nope for flow known does not exist.");
        // Lookups accept names the creation rule refuses (generated and sync names).
        let odd = ["a:b", "run:5d0c1b9e-4e0c-4a57-9d87-0d2f3b1c5a7e", "1st", "with space", "é"];
        for name in odd {
            let answer = describe(&client, "known", name).await;
            answer.err(404, "ExecutionNotExists");
            assert_eq!(answer.message(), format!("Execution {name} for flow known does not exist."));
            stop(&client, "known", name, &[]).await.err(404, "ExecutionNotExists");
            client
                .get("GetExecutionHistory", &[("FlowName", "known"), ("ExecutionName", name)])
                .await
                .err(404, "ExecutionNotExists");
        }
        let answer = describe(&client, "known", &"x".repeat(257)).await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: ExecutionName "));
        describe(&client, "known", &"x".repeat(256)).await.err(404, "ExecutionNotExists");
        let answer = describe(&client, "unknown", "x").await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow unknown does not exist.");
        let answer = client.get("DescribeExecution", &[("FlowName", "known")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'ExecutionName' must be specified.");
        server.stop().await;
    }
}

/// A DescribeExecution of `flow`/`name` waiting up to 30 s, sent in the background: how long it
/// was held, and its answer.
fn long_poll_in_background(
    client: &Client,
    flow: &'static str,
    name: &'static str,
) -> tokio::task::JoinHandle<(Duration, Value)> {
    let client = client.clone();
    tokio::spawn(async move {
        let asked = Instant::now();
        let body = client
            .get(
                "DescribeExecution",
                &[
                    ("FlowName", flow),
                    ("ExecutionName", name),
                    ("WaitTimeSeconds", "30"),
                ],
            )
            .await
            .ok()
            .clone();
        (asked.elapsed(), body)
    })
}
