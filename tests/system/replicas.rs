//! Several replicas on one Postgres: throttling holds across them, and a replica that shuts
//! down gracefully hands the task calls it is making over at once.

use crate::common;

use std::time::{Duration, Instant};

use common::fc_stub::FcStub;
use common::process::ServerProcess;
use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Backend, Client, Storage, TestServer, json_field};
use fnf_server::server::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_holds_across_replicas() {
    let storage = Storage::new(Backend::Postgres).await;
    let configure = |url: &str| {
        let mut config = common::test_config(url);
        config.throttle_rps = Some(0.01);
        config.throttle_burst = Some(4);
        config
    };
    let first = start(configure(&storage.database_url)).await.unwrap();
    let second = start(configure(&storage.database_url)).await.unwrap();
    let clients = [
        Client::new(&first.addr.to_string(), ACCESS_KEY_ID, ACCESS_KEY_SECRET),
        Client::new(&second.addr.to_string(), ACCESS_KEY_ID, ACCESS_KEY_SECRET),
    ];
    // Four tokens in all, whichever replica takes them.
    for i in 0..4 {
        clients[i % 2].get("DescribeRegions", &[]).await.ok();
    }
    for client in &clients {
        client
            .get("DescribeRegions", &[])
            .await
            .err(429, "ResourceThrottled");
    }
    first.stop().await;
    second.stop().await;
    storage.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_shutting_down_hands_its_calls_over() {
    let stub = FcStub::start().await;
    let storage = Storage::new(Backend::Postgres).await;
    // A long lease: only the graceful hand-over can make the takeover quick.
    let mut leaving = ServerProcess::start_with(
        &storage.database_url,
        &stub.endpoint(),
        &[("FNF_LEASE_SECONDS", "30"), ("FNF_SHUTDOWN_GRACE", "1")],
    )
    .await;
    let client = leaving.client();
    let flow = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: slow\n    resourceArn: acs:fc:::services/s/functions/sleep\n    inputMappings:\n      - target: seconds\n        source: 3\n";
    client.create_flow("slow", flow).await;
    client.start("slow", "run", "{}").await;
    client
        .wait_event("slow", "run", "TaskStarted", Duration::from_secs(10))
        .await;
    // A second replica with a short lease stays; the first one leaves mid-call.
    let mut config = common::test_config(&storage.database_url);
    config.fc_endpoint = Some(stub.endpoint());
    let staying = TestServer::start_on(Storage::new(Backend::Sqlite).await, config).await;
    let started = Instant::now();
    leaving.terminate();
    leaving.wait_exit(Duration::from_secs(20)).await;
    let ended = staying
        .client()
        .wait_end("slow", "run", Duration::from_secs(20))
        .await;
    assert_eq!(ended["Status"], "Succeeded", "{ended}");
    // Well before the 30 s lease could have run out.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let events = staying.client().history("slow", "run").await;
    let lost: Vec<_> = events
        .iter()
        .filter(|e| e["Type"] == "TaskFailed")
        .map(|e| json_field(e, "EventDetail")["error"].clone())
        .collect();
    assert_eq!(lost, [serde_json::json!("FnF.TaskLost")]);
    staying.stop().await;
    storage.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_limits_hold_across_replicas() {
    let storage = Storage::new(Backend::Postgres).await;
    let configure = |url: &str| {
        let mut config = common::test_config(url);
        config.max_flows_per_account = 3;
        config.max_running_executions_per_account = 4;
        config
    };
    let first = start(configure(&storage.database_url)).await.unwrap();
    let second = start(configure(&storage.database_url)).await.unwrap();
    let clients = [
        Client::new(&first.addr.to_string(), ACCESS_KEY_ID, ACCESS_KEY_SECRET),
        Client::new(&second.addr.to_string(), ACCESS_KEY_ID, ACCESS_KEY_SECRET),
    ];
    clients[0]
        .create_flow("holds", &common::wait_state_machine("holds", 300))
        .await;
    // Both replicas at once, for two places left.
    let creations: Vec<_> = (0..8)
        .map(|i| {
            let client = clients[i % 2].clone();
            tokio::spawn(async move {
                let name = format!("flow{i}");
                let definition = common::pass_state_machine(&name);
                client
                    .call(
                        "CreateFlow",
                        &[
                            ("Name", &name),
                            ("Definition", &definition),
                            ("Type", "FDL"),
                        ],
                    )
                    .await
            })
        })
        .collect();
    assert_eq!(
        common::count_successes(creations, 400, "InvalidArgument").await,
        2
    );
    // And for four running executions.
    let starts: Vec<_> = (0..10)
        .map(|i| {
            let client = clients[i % 2].clone();
            tokio::spawn(async move {
                let name = format!("run{i}");
                client
                    .call(
                        "StartExecution",
                        &[("FlowName", "holds"), ("ExecutionName", &name)],
                    )
                    .await
            })
        })
        .collect();
    assert_eq!(
        common::count_successes(starts, 429, "ResourceThrottled").await,
        4
    );
    first.stop().await;
    second.stop().await;
    storage.cleanup().await;
}
