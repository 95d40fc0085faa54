//! RetentionStore (ended executions deleted with everything of theirs) and the batches that
//! stop the running executions of deleted flows.

use fnf_server::store::*;
use sqlx::Connection;

use crate::common::Backend;
use crate::harness::{Fixture, claimed, created_flow, started, started_run, status_of};
use crate::rows::{claim, commit_of, forced_end, map_child, map_run_started, new_execution};

/// The tables whose rows belong to an execution, by its id in `execution_id`.
const OWNED_TABLES: [&str; 4] = [
    "SELECT COUNT(*) FROM history_chunks WHERE execution_id = $1",
    "SELECT COUNT(*) FROM execution_signals WHERE execution_id = $1",
    "SELECT COUNT(*) FROM task_calls WHERE execution_id = $1",
    "SELECT COUNT(*) FROM map_runs WHERE execution_id = $1",
];

/// Runs a statement binding `id` on the fixture's database, beside the store; a count
/// comes back for a `SELECT COUNT(*)`, 0 otherwise.
async fn on_database(fixture: &Fixture, sql: &'static str, id: &str) -> i64 {
    let url = &fixture.storage.database_url;
    let counting = sql.starts_with("SELECT");
    match fixture.storage.backend {
        Backend::Sqlite => {
            let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
            if counting {
                return sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
            }
            sqlx::query(sql).bind(id).execute(&mut db).await.unwrap();
        }
        Backend::Postgres => {
            let mut db = sqlx::PgConnection::connect(url).await.unwrap();
            if counting {
                return sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
            }
            sqlx::query(sql).bind(id).execute(&mut db).await.unwrap();
        }
    }
    0
}

/// Rows of each owned table for this execution.
async fn owned_rows(fixture: &Fixture, execution_id: &str) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in OWNED_TABLES {
        counts.push(on_database(fixture, sql, execution_id).await);
    }
    counts
}

/// An execution started at 1 000 whose advance started map run `run` (no children), then
/// was stopped at `ended_at`, with a signal and a task call left behind (as a crash between
/// two writes could leave them).
async fn ended_with_everything(
    fixture: &Fixture,
    flow: &Flow,
    name: &str,
    run: &str,
    ended_at: i64,
) -> Execution {
    let store = &*fixture.store;
    let execution = started_run(store, flow, name, 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim("one", 1_500)).await;
    let mut commit = commit_of(&held, "one", 1_500);
    commit.writes.map_runs = vec![map_run_started(run, &execution, 0, 1_500)];
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    let ended = forced_end(&execution, ExecutionStatus::Stopped, ended_at);
    store.force_end(&ended).await.unwrap().unwrap();
    let id = execution.identity.id.as_str();
    on_database(
        fixture,
        "INSERT INTO execution_signals (execution_id, payload, created_at) VALUES ($1, '{}', 0)",
        id,
    )
    .await;
    on_database(
        fixture,
        "INSERT INTO task_calls (execution_id, call_key, owner, lease_until) VALUES ($1, 'k', 'o', 0)",
        id,
    )
    .await;
    assert_eq!(owned_rows(fixture, id).await, [3, 1, 1, 1]);
    execution
}

pub async fn ended_executions_past_the_cutoff_go_with_everything_of_theirs(fixture: &Fixture) {
    let store = &*fixture.store;
    let fl = created_flow(store, "acct", "f").await;
    let old = ended_with_everything(fixture, &fl, "old", "run-old", 2_000).await;
    let recent = ended_with_everything(fixture, &fl, "recent", "run-recent", 9_000).await;
    // Running since long before the cutoff: never deleted, whatever its age.
    let running = started_run(store, &fl, "running", 500).await;

    assert_eq!(store.delete_ended_executions(5_000, 100).await.unwrap(), 1);
    assert!(
        store
            .get_execution_by_id(&old.identity.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.get_execution(&fl.id, "old").await.unwrap().is_none());
    assert_eq!(owned_rows(fixture, &old.identity.id).await, [0, 0, 0, 0]);
    assert!(
        store
            .get_map_run(&old.identity.id, "run-old")
            .await
            .unwrap()
            .is_none()
    );
    // The others keep everything of theirs.
    assert_eq!(owned_rows(fixture, &recent.identity.id).await, [3, 1, 1, 1]);
    assert_eq!(
        status_of(store, &running.identity.id).await,
        ExecutionStatus::Running
    );
    assert_eq!(store.delete_ended_executions(5_000, 100).await.unwrap(), 0);

    // The name is free again: a start makes a new execution.
    let again = started(store, &new_execution(&fl, "old", 10_000, None)).await;
    assert_ne!(again.identity.id, old.identity.id);
    assert_eq!(again.status, ExecutionStatus::Running);
}

pub async fn retention_deletes_at_most_the_limit_oldest_first(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let mut ids = Vec::new();
    for (name, ended_at) in [("c", 3_000), ("a", 1_000), ("e", 5_000), ("b", 2_000)] {
        let execution = started_run(store, &fl, name, 500).await;
        let ended = forced_end(&execution, ExecutionStatus::Stopped, ended_at);
        store.force_end(&ended).await.unwrap().unwrap();
        ids.push((ended_at, execution.identity.id));
    }
    ids.sort();
    let exists =
        |id: String| async move { store.get_execution_by_id(&id).await.unwrap().is_some() };
    assert_eq!(store.delete_ended_executions(10_000, 2).await.unwrap(), 2);
    for (ended_at, id) in &ids {
        assert_eq!(exists(id.clone()).await, *ended_at > 2_000, "{ended_at}");
    }
    // Only before the cutoff: "e" stays.
    assert_eq!(store.delete_ended_executions(4_000, 2).await.unwrap(), 1);
    assert_eq!(store.delete_ended_executions(4_000, 2).await.unwrap(), 0);
    assert!(exists(ids[3].1.clone()).await);
}

pub async fn ended_map_children_stay_while_their_parent_runs(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let parent = started_run(store, &fl, "parent", 1_000).await;
    let held = claimed(store, &parent.identity.id, &claim("one", 1_500)).await;
    let mut commit = commit_of(&held, "one", 1_500);
    commit.writes.children = (0..2)
        .map(|i| map_child(&fl, &parent, "run-1", i, 1_500))
        .collect();
    commit.writes.map_runs = vec![map_run_started("run-1", &parent, 2, 1_500)];
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    for i in 0..2 {
        let child = store
            .get_execution(&fl.id, &format!("run-1-{i}"))
            .await
            .unwrap()
            .unwrap();
        let ended = forced_end(&child, ExecutionStatus::Succeeded, 2_000);
        store.force_end(&ended).await.unwrap().unwrap();
    }
    // The running parent's map run still counts them.
    assert_eq!(store.delete_ended_executions(10_000, 10).await.unwrap(), 0);
    let record = store
        .get_map_run(&parent.identity.id, "run-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.succeeded, 2);
    let ended = forced_end(&parent, ExecutionStatus::Stopped, 3_000);
    store.force_end(&ended).await.unwrap().unwrap();
    assert_eq!(store.delete_ended_executions(10_000, 10).await.unwrap(), 3);
}

pub async fn deleted_flows_executions_stop_in_batches(fixture: &Fixture) {
    let store = &*fixture.store;
    let fl = created_flow(store, "acct", "f").await;
    let kept = created_flow(store, "acct", "kept").await;
    let child = NewExecution {
        callback_token: Some("token".into()),
        ..new_execution(&fl, "child", 1_000, None)
    };
    let child = started(store, &child).await;
    let mut running = vec![child.identity.id.clone()];
    for name in ["a", "b"] {
        running.push(started_run(store, &fl, name, 1_000).await.identity.id);
    }
    let done = started_run(store, &fl, "done", 1_000).await;
    let ended = forced_end(&done, ExecutionStatus::Succeeded, 1_500);
    store.force_end(&ended).await.unwrap().unwrap();
    let other = started_run(store, &kept, "other", 1_000).await;
    on_database(
        fixture,
        "INSERT INTO task_calls (execution_id, call_key, owner, lease_until) VALUES ($1, 'k', 'o', 99000)",
        &child.identity.id,
    )
    .await;

    // While its flow exists, nothing is stopped.
    assert!(
        store
            .stop_executions_of_deleted_flows(Some(&fl.id), 2_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete_flow("acct", "f").await.unwrap());
    // Deleting the flow stops nothing by itself.
    assert_eq!(
        status_of(store, &child.identity.id).await,
        ExecutionStatus::Running
    );
    let mut stopped = store
        .stop_executions_of_deleted_flows(Some(&fl.id), 2_000, 2)
        .await
        .unwrap();
    assert_eq!(stopped.len(), 2);
    stopped.extend(
        store
            .stop_executions_of_deleted_flows(Some(&fl.id), 2_000, 2)
            .await
            .unwrap(),
    );
    assert_eq!(stopped.len(), 3);
    assert!(
        store
            .stop_executions_of_deleted_flows(Some(&fl.id), 2_000, 2)
            .await
            .unwrap()
            .is_empty()
    );
    let mut ids: Vec<String> = stopped.iter().map(|e| e.id.clone()).collect();
    ids.sort();
    running.sort();
    assert_eq!(ids, running);
    let reported = stopped.iter().find(|e| e.id == child.identity.id).unwrap();
    assert_eq!(
        reported,
        &StoppedByDeletion {
            id: child.identity.id.clone(),
            account_id: "acct".into(),
            name: "child".into(),
            callback_token: Some("token".into()),
            error: "FnF.FlowDeleted".into(),
            cause: "the flow was deleted".into(),
        }
    );
    for id in &running {
        let execution = store.get_execution_by_id(id).await.unwrap().unwrap();
        assert_eq!(execution.status, ExecutionStatus::Stopped);
        assert_eq!(execution.stopped_at, Some(2_000));
        assert_eq!(execution.error.as_deref(), Some("FnF.FlowDeleted"));
    }
    assert_eq!(owned_rows(fixture, &child.identity.id).await[2], 0, "calls");
    // An execution that had ended keeps its end; other flows' executions run on.
    let done = store
        .get_execution_by_id(&done.identity.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.status, done.stopped_at),
        (ExecutionStatus::Succeeded, Some(1_500))
    );
    assert_eq!(
        status_of(store, &other.identity.id).await,
        ExecutionStatus::Running
    );
    assert!(
        store
            .claim_due(&claim("two", 99_000), 10)
            .await
            .unwrap()
            .iter()
            .all(|claimed| claimed.identity.id == other.identity.id)
    );
}

pub async fn stopping_without_a_flow_finds_every_deleted_flow(store: &dyn Store) {
    let first = created_flow(store, "acct", "first").await;
    let second = created_flow(store, "other", "second").await;
    let kept = created_flow(store, "acct", "kept").await;
    let a = started_run(store, &first, "a", 1_000).await;
    let b = started_run(store, &second, "b", 1_000).await;
    let c = started_run(store, &kept, "c", 1_000).await;
    assert!(store.delete_flow("acct", "first").await.unwrap());
    assert!(store.delete_flow("other", "second").await.unwrap());
    let stopped = store
        .stop_executions_of_deleted_flows(None, 2_000, 10)
        .await
        .unwrap();
    let mut ids: Vec<&str> = stopped.iter().map(|e| e.id.as_str()).collect();
    ids.sort();
    let mut expected = vec![a.identity.id.as_str(), b.identity.id.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(
        status_of(store, &c.identity.id).await,
        ExecutionStatus::Running
    );
}
