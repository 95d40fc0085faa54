//! MapRunStore: map runs written by commits, counted from their children, updated, aborted.

use fnf_server::store::*;

use crate::harness::{claimed, created_flow, names, started_run};
use crate::rows::{claim, commit_of, forced_end, map_child, map_run_started};

/// A parent execution whose advance started map run `run` with `children` children.
async fn parent_with_map_run(
    store: &dyn Store,
    flow: &Flow,
    run: &str,
    children: i64,
) -> Execution {
    let parent = started_run(store, flow, "parent", 1_000).await;
    let held = claimed(store, &parent.identity.id, &claim("one", 2_000)).await;
    let commit = {
        let mut commit = commit_of(&held, "one", 2_000);
        commit.writes.children = (0..children)
            .map(|i| map_child(flow, &parent, run, i, 2_000))
            .collect();
        commit.writes.map_runs = vec![map_run_started(run, &parent, children, 2_000)];
        commit
    };
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    parent
}

pub async fn map_runs_count_their_children(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let parent = parent_with_map_run(store, &fl, "run-1", 4).await;
    let record = store
        .get_map_run(&parent.identity.id, "run-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record,
        MapRunRecord {
            name: "run-1".into(),
            execution_id: parent.identity.id.clone(),
            status: "Running".into(),
            concurrency: 10,
            tolerated_count: Some(1),
            tolerated_percentage: None,
            total: 4,
            started_at: 2_000,
            stopped_at: None,
            running: 4,
            succeeded: 0,
            failed: 0,
            aborted: 0,
        }
    );
    // Children are listed with their map run only, each with its history started.
    let children = ExecutionQuery {
        flow_id: fl.id.clone(),
        map_run: Some("run-1".into()),
        limit: 10,
        ..ExecutionQuery::default()
    };
    let listed = store.list_executions(&children).await.unwrap();
    assert_eq!(
        names(listed.clone()),
        ["run-1-0", "run-1-1", "run-1-2", "run-1-3"]
    );
    let link = listed[2].map_child.clone().unwrap();
    assert_eq!(
        (link.parent_id.as_str(), link.map_run.as_str(), link.index),
        (parent.identity.id.as_str(), "run-1", 2)
    );
    assert_eq!(
        store
            .list_history(&listed[0].identity.id, 1, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let top_level = ExecutionQuery {
        map_run: None,
        ..children
    };
    assert_eq!(
        names(store.list_executions(&top_level).await.unwrap()),
        ["parent"]
    );
    // Ended children count by how they ended.
    for (child, status) in listed.iter().zip([
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::Stopped,
    ]) {
        store
            .force_end(&forced_end(child, status, 3_000))
            .await
            .unwrap();
    }
    let record = store
        .get_map_run(&parent.identity.id, "run-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            record.running,
            record.succeeded,
            record.failed,
            record.aborted
        ),
        (1, 1, 1, 1)
    );
    let running = store.running_map_children("run-1").await.unwrap();
    assert_eq!(names(running), ["run-1-3"]);
    assert!(
        store
            .get_map_run(&parent.identity.id, "other")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.get_map_run("other", "run-1").await.unwrap().is_none());
    assert!(
        store
            .running_map_children("other")
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn map_runs_update_only_the_given_values(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let parent = parent_with_map_run(store, &fl, "run-1", 1).await;
    assert!(
        store
            .update_map_run("run-1", Some(5), None, Some(12.5))
            .await
            .unwrap()
    );
    let record = store
        .get_map_run(&parent.identity.id, "run-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            record.concurrency,
            record.tolerated_count,
            record.tolerated_percentage
        ),
        (5, Some(1), Some(12.5))
    );
    assert!(
        store
            .update_map_run("run-1", None, Some(3), None)
            .await
            .unwrap()
    );
    let record = store
        .get_map_run(&parent.identity.id, "run-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            record.concurrency,
            record.tolerated_count,
            record.tolerated_percentage
        ),
        (5, Some(3), Some(12.5))
    );
    assert!(
        !store
            .update_map_run("missing", Some(1), None, None)
            .await
            .unwrap()
    );
}

pub async fn aborting_marks_only_running_map_runs(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let parent = parent_with_map_run(store, &fl, "run-1", 1).await;
    // A second map run of the same parent, already ended by a later advance.
    let held = claimed(store, &parent.identity.id, &claim("one", 3_000)).await;
    let commit = {
        let mut commit = commit_of(&held, "one", 3_000);
        commit.writes.map_runs = vec![
            map_run_started("run-2", &parent, 0, 3_000),
            MapRunWrite::Ended {
                name: "run-2".into(),
                status: "Succeeded".into(),
                stopped_at: 3_000,
            },
        ];
        commit
    };
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        store
            .abort_map_runs(&parent.identity.id, 4_000)
            .await
            .unwrap(),
        ["run-1"]
    );
    let aborted = store
        .get_map_run(&parent.identity.id, "run-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (aborted.status.as_str(), aborted.stopped_at),
        ("Aborted", Some(4_000))
    );
    let ended = store
        .get_map_run(&parent.identity.id, "run-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ended.status.as_str(), ended.stopped_at),
        ("Succeeded", Some(3_000))
    );
    assert!(
        store
            .abort_map_runs(&parent.identity.id, 5_000)
            .await
            .unwrap()
            .is_empty()
    );
}
