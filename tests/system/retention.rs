//! Retention of ended executions (`--retention-days`) and DeleteFlow stopping a flow's
//! running executions in the background, over both backends.

use std::time::Duration;

use crate::common::{TestServer, pass_state_machine, wait_state_machine};
use fnf_server::store::{ExecutionQuery, ExecutionStatus, Store};

const TEN_SECONDS: Duration = Duration::from_secs(10);

/// Two seconds, in days: the task looks every second (its shortest period).
const TWO_SECONDS_IN_DAYS: f64 = 2.0 / 86_400.0;

fn store_of(server: &TestServer) -> &dyn Store {
    &*server.server.as_ref().unwrap().state.store
}

/// The executions of a flow (by id) with this status, up to `limit`.
async fn with_status(
    store: &dyn Store,
    flow_id: &str,
    status: ExecutionStatus,
    limit: i64,
) -> usize {
    store
        .list_executions(&ExecutionQuery {
            flow_id: flow_id.to_string(),
            status: Some(status),
            limit,
            ..ExecutionQuery::default()
        })
        .await
        .unwrap()
        .len()
}

backend_tests! {
    async fn ended_executions_expire_and_their_names_are_free_again(backend) {
        let server = TestServer::start_with(backend, |config| {
            config.retention_days = TWO_SECONDS_IN_DAYS;
        })
        .await;
        let client = server.client();
        client.create_flow("quick", &pass_state_machine("quick")).await;
        client.create_flow("slow", &wait_state_machine("slow", 300)).await;
        client.start("slow", "waiting", "{}").await;
        client.start("quick", "done", r#"{"first": true}"#).await;
        let ended = client.wait_end("quick", "done", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Succeeded");

        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let answer = client
                .get("DescribeExecution", &[("FlowName", "quick"), ("ExecutionName", "done")])
                .await;
            if answer.status != 200 {
                answer.err(404, "ExecutionNotExists");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the ended execution was kept");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        client
            .get("GetExecutionHistory", &[("FlowName", "quick"), ("ExecutionName", "done")])
            .await
            .err(404, "ExecutionNotExists");
        let metrics = &server.server.as_ref().unwrap().state.metrics;
        assert!(metrics.retention_deleted.get() >= 1);

        // A waiting execution is kept however old.
        let waiting = client.describe("slow", "waiting").await;
        assert_eq!(waiting["Status"], "Running");
        // The name starts a new execution.
        let started = client.start("quick", "done", r#"{"second": true}"#).await;
        assert_eq!(started["Status"], "Running");
        let ended = client.wait_end("quick", "done", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Succeeded");
        assert!(ended["Output"].as_str().unwrap().contains("second"), "{ended}");
        server.stop().await;
    }

    async fn nothing_is_deleted_with_a_retention_of_zero(backend) {
        let server = TestServer::start_with(backend, |config| config.retention_days = 0.0).await;
        let client = server.client();
        client.create_flow("quick", &pass_state_machine("quick")).await;
        client.start("quick", "done", "{}").await;
        client.wait_end("quick", "done", TEN_SECONDS).await;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(client.describe("quick", "done").await["Status"], "Succeeded");
        server.stop().await;
    }

    async fn deleting_a_flow_with_thousands_of_waiting_executions(backend) {
        const EXECUTIONS: usize = 2_000;
        const STARTERS: usize = 16;
        let server = TestServer::start(backend).await;
        let client = server.client();
        let flow = client.create_flow("crowded", &wait_state_machine("crowded", 300)).await;
        let flow_id = flow["Id"].as_str().unwrap().to_string();
        let mut starters = tokio::task::JoinSet::new();
        for starter in 0..STARTERS {
            let client = client.clone();
            starters.spawn(async move {
                for i in (starter..EXECUTIONS).step_by(STARTERS) {
                    client.start("crowded", &format!("run-{i}"), "{}").await;
                }
            });
        }
        while let Some(done) = starters.join_next().await {
            done.unwrap();
        }
        let store = store_of(&server);
        assert_eq!(
            with_status(store, &flow_id, ExecutionStatus::Running, 10_000).await,
            EXECUTIONS
        );

        // The answer does not wait for the stops (how fast it is, is measured by benchmarks).
        client.call("DeleteFlow", &[("Name", "crowded")]).await.ok();
        client.call("DescribeFlow", &[("Name", "crowded")]).await.err(404, "FlowNotExists");

        // Stopped in the background within moments.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while with_status(store, &flow_id, ExecutionStatus::Running, 1).await > 0 {
            assert!(tokio::time::Instant::now() < deadline, "executions still running");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            with_status(store, &flow_id, ExecutionStatus::Stopped, 10_000).await,
            EXECUTIONS
        );
        let stopped = store.get_execution(&flow_id, "run-7").await.unwrap().unwrap();
        assert_eq!(stopped.error.as_deref(), Some("FnF.FlowDeleted"));
        server.stop().await;
    }
}

#[test]
fn retention_days_are_a_number_of_days_at_least_zero() {
    use clap::Parser;
    use fnf_server::config::Config;
    let parse = |days: &str| Config::try_parse_from(["fnf-server", "--retention-days", days]);
    assert_eq!(Config::defaults().retention_days, 90.0);
    assert_eq!(parse("0").unwrap().retention_days, 0.0);
    assert_eq!(parse("0.000694444").unwrap().retention_days, 0.000694444);
    for refused in ["-1", "NaN", "inf", "soon"] {
        assert!(parse(refused).is_err(), "{refused}");
    }
}
