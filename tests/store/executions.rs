//! ExecutionStore: start (name taken, running limit), get by name and id, list, history,
//! forced ends.

use fnf_server::store::*;

use crate::harness::{claimed, created_flow, names, started, started_run, status_of};
use crate::rows::{
    claim, commit_of, ended_at_start, event, forced_end, limited_execution, new_execution,
    qualified_execution, signal, started_event,
};

pub async fn starting_writes_the_execution_and_its_first_event_once(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let new = new_execution(&fl, "run", 5_000, None);
    let execution = started(store, &new).await;
    assert_eq!(execution.status, ExecutionStatus::Running);
    assert_eq!(
        (execution.identity.id.as_str(), execution.started_at),
        (new.identity.id.as_str(), 5_000)
    );
    let history = store
        .list_history(&execution.identity.id, 1, 10)
        .await
        .unwrap();
    assert_eq!(history, vec![started_event(5_000)]);
    // Same name while running: the running one comes back.
    let again = new_execution(&fl, "run", 6_000, None);
    match store.start_execution(&again).await.unwrap() {
        StartOutcome::Running(existing) => assert_eq!(existing.identity.id, execution.identity.id),
        other => panic!("{other:?}"),
    }
    // Same name once ended: it already exists.
    let ended = forced_end(&execution, ExecutionStatus::Stopped, 7_000);
    let stopped = store.force_end(&ended).await.unwrap().unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Stopped);
    assert_eq!(stopped.stopped_at, Some(7_000));
    assert_eq!(stopped.error.as_deref(), Some("E"));
    assert!(
        store.force_end(&ended).await.unwrap().is_none(),
        "ends only once"
    );
    match store.start_execution(&again).await.unwrap() {
        StartOutcome::AlreadyEnded(existing) => {
            assert_eq!(existing.identity.id, execution.identity.id)
        }
        other => panic!("{other:?}"),
    }
    let history = store
        .list_history(&execution.identity.id, 1, 10)
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        (history[1].event_type.as_str(), history[1].time),
        ("ExecutionStopped", 7_000)
    );
}

pub async fn a_start_past_the_running_limit_is_throttled(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let first = started(store, &limited_execution(&fl, "a", 1_000, 2)).await;
    started(store, &limited_execution(&fl, "b", 1_000, 2)).await;
    assert_eq!(
        store
            .start_execution(&limited_execution(&fl, "c", 1_000, 2))
            .await
            .unwrap(),
        StartOutcome::Throttled
    );
    assert!(
        store.get_execution(&fl.id, "c").await.unwrap().is_none(),
        "nothing written"
    );
    // A start that ends inside its start takes no place: at the limit, it is accepted.
    let quick = NewExecution {
        running_limit: Some(2),
        ..ended_at_start(&fl, "quick", 1_000, ExecutionStatus::Succeeded)
    };
    let quick = started(store, &quick).await;
    assert_eq!(
        status_of(store, &quick.identity.id).await,
        ExecutionStatus::Succeeded
    );
    // An unlimited start is never refused, yet counts; other accounts' executions do not.
    started(store, &new_execution(&fl, "unlimited", 1_000, None)).await;
    let other = created_flow(store, "other", "f").await;
    started(store, &limited_execution(&other, "a", 1_000, 1)).await;
    assert_eq!(
        store
            .start_execution(&limited_execution(&fl, "c", 1_000, 3))
            .await
            .unwrap(),
        StartOutcome::Throttled
    );
    // An execution that ends frees its place.
    store
        .force_end(&forced_end(&first, ExecutionStatus::Stopped, 2_000))
        .await
        .unwrap();
    started(store, &limited_execution(&fl, "c", 3_000, 3)).await;
}

/// A start at `revision` of its flow, as a start from a cached flow asks.
fn guarded(flow: &Flow, name: &str, revision: i64) -> NewExecution {
    NewExecution {
        flow_revision: Some(revision),
        ..new_execution(flow, name, 1_000, None)
    }
}

pub async fn a_start_guarded_by_a_stale_flow_revision_writes_nothing(store: &dyn Store) {
    let mut fl = created_flow(store, "acct", "f").await;
    let current = started(store, &guarded(&fl, "current", 1)).await;
    // Its name taken while the flow is current: the existing one, as unguarded.
    match store
        .start_execution(&guarded(&fl, "current", 1))
        .await
        .unwrap()
    {
        StartOutcome::Running(existing) => assert_eq!(existing.identity.id, current.identity.id),
        other => panic!("{other:?}"),
    }
    fl.definition = "changed".into();
    fl.revision = 2;
    assert!(store.update_flow(&fl, 1).await.unwrap());
    let stale = guarded(&fl, "stale", 1);
    // Shared with starts that pass: only the stale one is refused.
    let ops = [
        WriteOp::Start(Box::new(stale.clone())),
        WriteOp::Start(Box::new(guarded(&fl, "fresh", 2))),
        WriteOp::Start(Box::new(new_execution(&fl, "unguarded", 1_000, None))),
    ];
    let results = store.write_batch(&ops).await.unwrap();
    assert_eq!(
        results[0],
        WriteResult::Started(Box::new(StartOutcome::StaleFlow))
    );
    for result in &results[1..] {
        assert!(
            matches!(result, WriteResult::Started(outcome) if matches!(**outcome, StartOutcome::Started(_))),
            "{result:?}"
        );
    }
    assert!(
        store
            .get_execution(&fl.id, "stale")
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
    assert!(
        store
            .get_execution_by_id(&stale.identity.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_history(&stale.identity.id, 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A stale start whose name is taken is stale all the same.
    assert_eq!(
        store
            .start_execution(&guarded(&fl, "current", 1))
            .await
            .unwrap(),
        StartOutcome::StaleFlow
    );
    assert!(store.delete_flow("acct", "f").await.unwrap());
    assert_eq!(
        store
            .start_execution(&guarded(&fl, "deleted", 2))
            .await
            .unwrap(),
        StartOutcome::StaleFlow
    );
    assert!(
        store
            .get_execution(&fl.id, "deleted")
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
}

pub async fn executions_are_found_by_name_and_id(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let other = created_flow(store, "acct", "g").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let namesake = started_run(store, &other, "run", 1_000).await;
    assert_ne!(
        execution.identity.id, namesake.identity.id,
        "names are per flow"
    );
    assert_eq!(
        store.get_execution(&fl.id, "run").await.unwrap(),
        Some(execution.clone())
    );
    assert_eq!(
        store
            .get_execution_by_id(&execution.identity.id)
            .await
            .unwrap(),
        Some(execution)
    );
    assert!(store.get_execution(&fl.id, "nope").await.unwrap().is_none());
    assert!(store.get_execution_by_id("nope").await.unwrap().is_none());

    // By the flow's name: the execution of the flow that bears it now.
    let of_flow_named = |account: &'static str, flow: &'static str, name: &'static str| {
        store.read_unleased_named(account, flow, name, 2_000)
    };
    let found = of_flow_named("acct", "f", "run").await.unwrap().unwrap();
    assert_eq!(
        (
            found.identity.flow_id.as_str(),
            found.identity.name.as_str()
        ),
        (fl.id.as_str(), "run")
    );
    assert_eq!(
        of_flow_named("acct", "g", "run")
            .await
            .unwrap()
            .unwrap()
            .identity
            .id,
        namesake.identity.id
    );
    assert!(of_flow_named("acct", "f", "nope").await.unwrap().is_none());
    assert!(of_flow_named("other", "f", "run").await.unwrap().is_none());
    assert!(
        of_flow_named("acct", "missing", "run")
            .await
            .unwrap()
            .is_none()
    );
    // A flow deleted and created again does not own its namesake's executions.
    assert!(store.delete_flow("acct", "f").await.unwrap());
    assert!(of_flow_named("acct", "f", "run").await.unwrap().is_none());
    let again = created_flow(store, "acct", "f").await;
    assert_ne!(again.id, fl.id);
    assert!(of_flow_named("acct", "f", "run").await.unwrap().is_none());
}

pub async fn listing_executions_orders_and_filters(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    for (name, at) in [("a", 100), ("b", 300), ("c", 200), ("d", 300)] {
        started_run(store, &fl, name, at).await;
    }
    let other = created_flow(store, "acct", "g").await;
    started_run(store, &other, "x", 250).await;
    let query = ExecutionQuery {
        flow_id: fl.id.clone(),
        limit: 10,
        ..ExecutionQuery::default()
    };
    assert_eq!(
        names(store.list_executions(&query).await.unwrap()),
        ["b", "d", "c", "a"]
    );
    let page = ExecutionQuery {
        limit: 2,
        ..query.clone()
    };
    assert_eq!(
        names(store.list_executions(&page).await.unwrap()),
        ["b", "d"]
    );
    let from_d = ExecutionQuery {
        from: Some((300, "d".into())),
        ..query.clone()
    };
    assert_eq!(
        names(store.list_executions(&from_d).await.unwrap()),
        ["d", "c", "a"]
    );
    let window = ExecutionQuery {
        started_from: Some(200),
        started_to: Some(300),
        ..query.clone()
    };
    assert_eq!(
        names(store.list_executions(&window).await.unwrap()),
        ["b", "d", "c"]
    );
    let prefix = ExecutionQuery {
        name_prefix: Some("c".into()),
        ..query.clone()
    };
    assert_eq!(names(store.list_executions(&prefix).await.unwrap()), ["c"]);
    let status = ExecutionQuery {
        status: Some(ExecutionStatus::Succeeded),
        ..query.clone()
    };
    assert!(store.list_executions(&status).await.unwrap().is_empty());
    let running = ExecutionQuery {
        status: Some(ExecutionStatus::Running),
        ..query.clone()
    };
    assert_eq!(store.list_executions(&running).await.unwrap().len(), 4);
}

pub async fn listing_executions_filters_by_qualifier(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    started(store, &qualified_execution(&fl, "by-alias", 100, "live")).await;
    let versioned = NewExecution {
        flow_version: Some("2".into()),
        ..new_execution(&fl, "by-version", 200, None)
    };
    started(store, &versioned).await;
    started_run(store, &fl, "plain", 300).await;
    let query = |qualifier: &str| ExecutionQuery {
        flow_id: fl.id.clone(),
        qualifier: Some(qualifier.into()),
        limit: 10,
        ..ExecutionQuery::default()
    };
    assert_eq!(
        names(store.list_executions(&query("live")).await.unwrap()),
        ["by-alias"]
    );
    assert_eq!(
        names(store.list_executions(&query("2")).await.unwrap()),
        ["by-version"]
    );
}

pub async fn history_pages_by_event_id(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
    let mut commit = commit_of(&held, "one", 2_000);
    commit.writes.events = (2..=5)
        .map(|id| event(id, "StepEntered", 2_000 + id))
        .collect();
    commit.writes.next_event_id = 6;
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    let ids =
        |events: Vec<HistoryEvent>| events.into_iter().map(|e| e.event_id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .list_history(&execution.identity.id, 1, 3)
            .await
            .unwrap()),
        [1, 2, 3]
    );
    assert_eq!(
        ids(store
            .list_history(&execution.identity.id, 4, 3)
            .await
            .unwrap()),
        [4, 5]
    );
    assert!(
        store
            .list_history(&execution.identity.id, 6, 3)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.list_history("nope", 1, 3).await.unwrap().is_empty());
    assert_eq!(
        store
            .list_history(&execution.identity.id, 3, 1)
            .await
            .unwrap(),
        vec![event(3, "StepEntered", 2_003)]
    );
}

/// A history of many one-event chunks and a few full ones reads back whole and in order
/// through pages of any size, and from the middle of a chunk (a page may take several reads
/// of the chunks).
pub async fn history_pages_across_many_chunks(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let id = execution.identity.id.as_str();
    let mut now = 2_000;
    for _ in 0..150 {
        now += 1;
        let held = claimed(store, id, &claim("one", now)).await;
        let commit = commit_of(&held, "one", now);
        assert_eq!(
            store.commit(&commit).await.unwrap(),
            CommitOutcome::Committed
        );
    }
    // One transaction writing 150 events: chunks of 64, 64 and 22.
    let held = claimed(store, id, &claim("one", now + 1)).await;
    let mut commit = commit_of(&held, "one", now + 1);
    commit.writes.events = (152..=301)
        .map(|event_id| event(event_id, "StepEntered", now + 1))
        .collect();
    commit.writes.next_event_id = 302;
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    let everything: Vec<i64> = (1..=301).collect();
    let ids =
        |events: Vec<HistoryEvent>| events.into_iter().map(|e| e.event_id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_history(id, 1, i64::MAX).await.unwrap()),
        everything
    );
    for limit in [1, 7, 61, 100, 1_000] {
        let (mut read, mut from) = (Vec::new(), 1);
        loop {
            let page = ids(store.list_history(id, from, limit).await.unwrap());
            assert!(
                page.len() as i64 <= limit,
                "a page of {limit} held {}",
                page.len()
            );
            let Some(last) = page.last() else { break };
            from = last + 1;
            read.extend(page);
        }
        assert_eq!(read, everything, "pages of {limit}");
    }
    assert_eq!(
        ids(store.list_history(id, 200, 5).await.unwrap()),
        [200, 201, 202, 203, 204]
    );
    assert_eq!(
        ids(store.list_history(id, 120, 40).await.unwrap()),
        (120..160).collect::<Vec<_>>()
    );
    assert!(store.list_history(id, 302, 10).await.unwrap().is_empty());
    assert!(store.list_history(id, 1, 0).await.unwrap().is_empty());
}

pub async fn forcing_an_end_drops_calls_and_reports(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let parent = started_run(store, &fl, "parent", 1_000).await;
    let child = started_run(store, &fl, "child", 1_000).await;
    // The parent waits for its child's report, the child for a task call.
    for execution in [&parent, &child] {
        let held = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
        let mut commit = commit_of(&held, "one", 2_000);
        if execution.identity.id == child.identity.id {
            commit.writes.calls_started = vec!["2.1".into()];
        }
        assert_eq!(
            store.commit(&commit).await.unwrap(),
            CommitOutcome::Committed
        );
    }
    let held = claimed(store, &child.identity.id, &claim("one", 2_500)).await;
    store
        .push_signal(&signal(&child, "{\"late\":1}"), 2_600)
        .await
        .unwrap();
    let report = signal(&parent, "{\"child\":\"stopped\"}");
    let end = ForcedEnd {
        signals: vec![report.clone()],
        ..forced_end(&child, ExecutionStatus::Failed, 3_000)
    };
    let ended = store.force_end(&end).await.unwrap().unwrap();
    assert_eq!(
        (ended.status, ended.stopped_at),
        (ExecutionStatus::Failed, Some(3_000))
    );
    // Whoever held it cannot commit any more.
    assert_eq!(
        store.commit(&commit_of(&held, "one", 3_500)).await.unwrap(),
        CommitOutcome::LostLease
    );
    assert_eq!(
        status_of(store, &child.identity.id).await,
        ExecutionStatus::Failed
    );
    // Its calls and signals are gone; the report waits for the parent, which is due.
    assert!(
        store
            .pending_signals(&child.identity.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_wakeups().await.unwrap().call_lease_expiry, None);
    assert_eq!(store.reap_lost_calls(99_000).await.unwrap(), 0);
    let reports = store.pending_signals(&parent.identity.id).await.unwrap();
    assert_eq!(
        reports
            .iter()
            .map(|s| s.payload.as_str())
            .collect::<Vec<_>>(),
        [report.payload]
    );
    let due = store.claim_due(&claim("two", 3_000), 10).await.unwrap();
    assert_eq!(
        due.iter()
            .map(|c| c.identity.id.as_str())
            .collect::<Vec<_>>(),
        [parent.identity.id.as_str()]
    );
    assert!(
        store
            .force_end(&forced_end(&child, ExecutionStatus::Stopped, 4_000))
            .await
            .unwrap()
            .is_none()
    );
}
