//! StartExecution and StartSyncExecution run from a cached flow, yet never run a definition
//! changed elsewhere: replica B caches a flow, replica A updates or deletes it, and B's next
//! start runs the new definition or answers FlowNotExists, also while updates keep coming.
//! On SQLite, one replica's own update is seen at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Which definition a StartSyncExecution of `flow` ran.
async fn ran_sync(client: &Client, flow: &str) -> String {
    let answer = client
        .call("StartSyncExecution", &[("FlowName", flow)])
        .await;
    let body = answer.ok();
    assert_eq!(body["Status"], "Succeeded", "{body}");
    json_field(body, "Output")["ran"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

const EXPRESS: (&str, &str) = ("ExecutionMode", "Express");

/// The number in a tag `v<N>`.
fn generation(tag: &str) -> usize {
    tag.strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a generation tag: {tag:?}"))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_execution_runs_the_definition_another_replica_updated() {
    let (storage, replicas, [a, b]) = two_replicas().await;
    a.create_flow_with("x", &pass_flow("old"), &[EXPRESS]).await;
    assert_eq!(ran_sync(&b, "x").await, "old");
    assert_eq!(ran_sync(&b, "x").await, "old");

    update_definition(&a, "x", &pass_flow("new")).await;
    assert_eq!(ran_sync(&b, "x").await, "new");
    assert_eq!(ran_sync(&b, "x").await, "new");

    a.call("DeleteFlow", &[("Name", "x")]).await.ok();
    b.call("StartSyncExecution", &[("FlowName", "x")])
        .await
        .err(404, "FlowNotExists");
    a.create_flow_with("x", &pass_flow("recreated"), &[EXPRESS])
        .await;
    assert_eq!(ran_sync(&b, "x").await, "recreated");
    stop(storage, replicas).await;
}

/// Replica A updates the flows again and again while replica B keeps starting them: every
/// start sent after an update was answered runs that update's definition or a later one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_never_run_a_definition_older_than_the_last_answered_update() {
    const UPDATES: usize = 40;
    let (storage, replicas, [a, b]) = two_replicas().await;
    a.create_flow("f", &pass_flow("v0")).await;
    a.create_flow_with("x", &pass_flow("v0"), &[EXPRESS]).await;
    let answered = Arc::new(AtomicUsize::new(0));
    let updater = {
        let answered = answered.clone();
        async move {
            for generation in 1..=UPDATES {
                let definition = pass_flow(&format!("v{generation}"));
                for flow in ["f", "x"] {
                    a.call("UpdateFlow", &[("Name", flow), ("Definition", &definition)])
                        .await
                        .ok();
                }
                answered.store(generation, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let starter = async {
        let mut checked = 0;
        let mut round = 0;
        loop {
            let before = answered.load(Ordering::SeqCst);
            let synced = generation(&ran_sync(&b, "x").await);
            assert!(
                synced >= before,
                "a sync execution ran v{synced} after v{before} was answered"
            );
            let name = format!("run-{round}");
            let started = b.start("f", &name, "{}").await;
            let definition = started["FlowDefinition"].as_str().unwrap_or_default();
            let tag = definition
                .rsplit("source: ")
                .next()
                .unwrap_or_default()
                .trim();
            let started_generation = generation(tag);
            assert!(
                started_generation >= before,
                "a start ran v{started_generation} after v{before} was answered"
            );
            checked += 1;
            round += 1;
            if before == UPDATES {
                break checked;
            }
        }
    };
    let ((), checked) = tokio::join!(updater, starter);
    assert!(checked > 1, "starts ran while the updates came");
    assert_eq!(
        ran(&b, "f", &format!("run-{}", checked - 1)).await,
        format!("v{UPDATES}")
    );
    stop(storage, replicas).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_execution_runs_an_update_on_the_same_replica_at_once_on_sqlite() {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    client
        .create_flow_with("x", &pass_flow("old"), &[EXPRESS])
        .await;
    assert_eq!(ran_sync(&client, "x").await, "old");
    update_definition(&client, "x", &pass_flow("new")).await;
    assert_eq!(ran_sync(&client, "x").await, "new");
    client.call("DeleteFlow", &[("Name", "x")]).await.ok();
    client
        .call("StartSyncExecution", &[("FlowName", "x")])
        .await
        .err(404, "FlowNotExists");
    server.stop().await;
}
