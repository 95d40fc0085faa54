//! `/metrics`: the named series exist and move when requests are made.

use crate::common;

use std::time::Duration;

use common::TestServer;

/// The value of one sample line (`name{labels} value`), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(server: &TestServer) -> String {
    let response = reqwest::get(format!("http://{}/metrics", server.endpoint))
        .await
        .expect("the metrics endpoint answers");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

const FLOW: &str =
    "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: a\n  - type: pass\n    name: b\n";

backend_tests! {
    async fn metrics_expose_the_series_and_move(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let before = scrape(&server).await;
        for name in [
            "fnf_executions_started_total",
            "fnf_steps_total",
            "fnf_history_events_total",
            "fnf_queue_depth",
            "fnf_lease_takeovers_total",
            "fnf_claim_lag_seconds_count",
            "fnf_batch_writes_count",
        ] {
            assert!(before.contains(name), "{name} missing from:\n{before}");
        }
        client.create_flow("measured", FLOW).await;
        for i in 0..3 {
            client.start("measured", &format!("run-{i}"), "{}").await;
        }
        for i in 0..3 {
            let ended = client.wait_end("measured", &format!("run-{i}"), Duration::from_secs(10)).await;
            assert_eq!(ended["Status"], "Succeeded");
        }
        client
            .get("DescribeFlow", &[("Name", "missing")])
            .await
            .err(404, "FlowNotExists");
        let after = scrape(&server).await;
        assert_eq!(sample(&after, r#"fnf_requests_total{action="CreateFlow",code="OK"}"#), 1.0);
        assert_eq!(sample(&after, r#"fnf_requests_total{action="StartExecution",code="OK"}"#), 3.0);
        assert_eq!(sample(&after, r#"fnf_requests_total{action="DescribeFlow",code="FlowNotExists"}"#), 1.0);
        assert!(sample(&after, r#"fnf_request_duration_seconds_count{action="StartExecution"}"#) >= 3.0);
        assert_eq!(sample(&after, "fnf_executions_started_total"), 3.0);
        assert_eq!(sample(&after, r#"fnf_executions_ended_total{status="Succeeded"}"#), 3.0);
        // Two pass steps per execution, and 6 events each (started, 2 × entered/exited, end).
        assert_eq!(sample(&after, "fnf_steps_total"), 6.0);
        assert_eq!(sample(&after, "fnf_history_events_total"), 18.0);
        assert!(sample(&after, "fnf_batch_writes_count") >= 1.0);
        server.stop().await;
    }
}

/// The status `/readyz` answers with.
async fn readyz(server: &TestServer) -> u16 {
    reqwest::get(format!("http://{}/readyz", server.endpoint))
        .await
        .expect("/readyz answers")
        .status()
        .as_u16()
}

/// Polls `/readyz` until it answers `status`.
async fn await_readyz(server: &TestServer, status: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while readyz(server).await != status {
        assert!(
            std::time::Instant::now() < deadline,
            "/readyz never answered {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// The failure is injected through a hook that only debug builds have.
#[cfg(debug_assertions)]
backend_tests! {
    async fn a_failed_store_writer_is_restarted(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("measured", FLOW).await;
        assert_eq!(readyz(&server).await, 200);
        let batcher = server.server.as_ref().unwrap().state.runtime.batcher().clone();
        batcher.fail_writers_for_tests(true);
        // A write made now fails its writer (its own, or one queued before it: on SQLite the
        // request's nonce is written behind), and waits while none runs.
        let pending = {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .call("StartExecution", &[("FlowName", "measured"), ("ExecutionName", "during")])
                    .await
            })
        };
        // While the writer cannot run, the replica says it is not ready.
        await_readyz(&server, 503).await;
        assert!(sample(&scrape(&server).await, "fnf_batch_writer_restarts_total") >= 1.0);
        batcher.fail_writers_for_tests(false);
        await_readyz(&server, 200).await;
        // The write in hand when its writer failed is lost, and its caller told to retry;
        // a write queued behind it is made once a writer runs again.
        let answer = pending.await.unwrap();
        if answer.status != 200 {
            answer.err(503, "ServiceUnavailable");
        }
        client.start("measured", "after", "{}").await;
        let ended = client.wait_end("measured", "after", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Succeeded");
        server.stop().await;
    }
}
