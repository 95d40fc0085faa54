//! The per-account limit on running executions, and concurrent starts of one name.

use super::*;

backend_tests! {
    async fn running_executions_per_account_are_limited(backend) {
        let server = TestServer::start_with(backend, |config| {
            config.max_running_executions_per_account = 5;
        })
        .await;
        let client = server.client();
        client.create_flow("busy", &router("busy")).await;
        let wait = json!({"mode": "wait"}).to_string();
        start(&client, &[("FlowName", "busy"), ("ExecutionName", "early"), ("Input", &wait)]).await.ok();
        // Twelve at once for four places, written together by the group commit: exactly
        // four start, and the others are refused without failing them.
        let starts: Vec<_> = (0..12)
            .map(|i| {
                let (client, wait) = (client.clone(), wait.clone());
                tokio::spawn(async move {
                    let name = format!("racer{i}");
                    start(&client, &[("FlowName", "busy"), ("ExecutionName", &name), ("Input", &wait)]).await
                })
            })
            .collect();
        assert_eq!(common::count_successes(starts, 429, "ResourceThrottled").await, 4);
        let running = |client: Client| async move {
            names(list(&client, "busy", &[("Status", "Running")]).await.ok()).len()
        };
        assert_eq!(running(client.clone()).await, 5);
        // An execution that ends in its first step never runs beside the others.
        start(&client, &[("FlowName", "busy"), ("ExecutionName", "quick")]).await.ok();
        assert_eq!(client.describe("busy", "quick").await["Status"], "Succeeded");
        // A stopped one frees its place.
        let refused =
            start(&client, &[("FlowName", "busy"), ("ExecutionName", "late"), ("Input", &wait)]).await;
        refused.err(429, "ResourceThrottled");
        assert_eq!(
            refused.message(),
            "The request was throttled: the account already has the maximum of 5 running executions."
        );
        client.call("StopExecution", &[("FlowName", "busy"), ("ExecutionName", "early")]).await.ok();
        start(&client, &[("FlowName", "busy"), ("ExecutionName", "late"), ("Input", &wait)]).await.ok();
        assert_eq!(running(client.clone()).await, 5);
        server.stop().await;
    }

    async fn concurrent_starts_of_one_name_make_one_execution(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("crowd", &router("crowd")).await;
        let starts = (0..8).map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let input = json!({"mode": "wait", "i": i}).to_string();
                start(&client, &[("FlowName", "crowd"), ("ExecutionName", "one"), ("Input", &input)])
                    .await
                    .ok()
                    .clone()
            })
        });
        let mut bodies = Vec::new();
        for task in starts.collect::<Vec<_>>() {
            bodies.push(task.await.unwrap());
        }
        for body in &bodies {
            assert_eq!(body["Name"], "one");
            assert_eq!(body["StartedTime"], bodies[0]["StartedTime"]);
            assert_eq!(body["Input"], bodies[0]["Input"]);
        }
        assert_eq!(names(list(&client, "crowd", &[]).await.ok()), ["one"]);
        let events = client.wait_event("crowd", "one", "StepStarted", TEN_SECONDS).await;
        assert_eq!(events.iter().filter(|e| e["Type"] == "ExecutionStarted").count(), 1);
        server.stop().await;
    }
}
