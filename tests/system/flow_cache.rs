//! StartExecution starts from a cached flow, yet never runs a definition changed elsewhere:
//! replica B caches a flow, replica A updates or deletes it, and B's next start runs the new
//! definition or answers FlowNotExists. On SQLite, one replica's own update is seen at once.

use std::time::Duration;

use crate::common::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, Backend, Client, Storage, TestServer, json_field,
};
use fnf_server::server::{RunningServer, start};

/// A pass flow whose output says which definition ran.
fn pass_flow(tag: &str) -> String {
    format!(
        "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n    outputMappings:\n      - target: ran\n        source: {tag}\n"
    )
}

/// Which definition the execution ran, once it ended.
async fn ran(client: &Client, flow: &str, execution: &str) -> String {
    let ended = client
        .wait_end(flow, execution, Duration::from_secs(20))
        .await;
    assert_eq!(ended["Status"], "Succeeded", "{ended}");
    json_field(&ended, "Output")["ran"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn update_definition(client: &Client, flow: &str, definition: &str) {
    client
        .call("UpdateFlow", &[("Name", flow), ("Definition", definition)])
        .await
        .ok();
}

/// Two replicas on one fresh Postgres database.
async fn two_replicas() -> (Storage, [RunningServer; 2], [Client; 2]) {
    let storage = Storage::new(Backend::Postgres).await;
    let a = start(crate::common::test_config(&storage.database_url))
        .await
        .unwrap();
    let b = start(crate::common::test_config(&storage.database_url))
        .await
        .unwrap();
    let clients = [&a, &b]
        .map(|replica| Client::new(&replica.addr.to_string(), ACCESS_KEY_ID, ACCESS_KEY_SECRET));
    (storage, [a, b], clients)
}

async fn stop(storage: Storage, replicas: [RunningServer; 2]) {
    for replica in replicas {
        replica.stop().await;
    }
    storage.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_runs_the_definition_another_replica_updated() {
    let (storage, replicas, [a, b]) = two_replicas().await;
    a.create_flow("f", &pass_flow("old")).await;
    b.start("f", "warm", "{}").await;
    assert_eq!(ran(&b, "f", "warm").await, "old");

    update_definition(&a, "f", &pass_flow("new")).await;
    let started = b.start("f", "after-update", "{}").await;
    assert_eq!(started["FlowDefinition"], pass_flow("new"), "{started}");
    assert_eq!(ran(&b, "f", "after-update").await, "new");
    // And again, now from the entry the retry cached.
    b.start("f", "again", "{}").await;
    assert_eq!(ran(&b, "f", "again").await, "new");
    stop(storage, replicas).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_deleted_on_another_replica_does_not_exist() {
    let (storage, replicas, [a, b]) = two_replicas().await;
    a.create_flow("f", &pass_flow("old")).await;
    b.start("f", "warm", "{}").await;

    a.call("DeleteFlow", &[("Name", "f")]).await.ok();
    let answer = b
        .call(
            "StartExecution",
            &[("FlowName", "f"), ("ExecutionName", "after-delete")],
        )
        .await;
    answer.err(404, "FlowNotExists");

    // Created again under the same name: a new flow, started as such.
    a.create_flow("f", &pass_flow("recreated")).await;
    b.start("f", "after-recreate", "{}").await;
    assert_eq!(ran(&b, "f", "after-recreate").await, "recreated");
    stop(storage, replicas).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_on_the_same_replica_is_started_at_once_on_sqlite() {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    client.create_flow("f", &pass_flow("old")).await;
    client.start("f", "warm", "{}").await;
    assert_eq!(ran(&client, "f", "warm").await, "old");

    update_definition(&client, "f", &pass_flow("new")).await;
    client.start("f", "after-update", "{}").await;
    assert_eq!(ran(&client, "f", "after-update").await, "new");

    client.call("DeleteFlow", &[("Name", "f")]).await.ok();
    client
        .call("StartExecution", &[("FlowName", "f")])
        .await
        .err(404, "FlowNotExists");
    server.stop().await;
}
