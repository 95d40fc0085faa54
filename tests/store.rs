//! The store conformance suite: the same checks against Postgres and SQLite, through the
//! `Store` traits only.

mod common;

use std::sync::Arc;

use common::{Backend, Storage};
use fnf_server::store::*;

struct Fixture {
    store: Arc<dyn Store>,
    storage: Storage,
}

impl Fixture {
    async fn new(backend: Backend) -> Fixture {
        let storage = Storage::new(backend).await;
        let store = open(&storage.database_url).await.expect("the store opens");
        Fixture { store, storage }
    }

    async fn done(self) {
        drop(self.store);
        self.storage.cleanup().await;
    }
}

fn flow(account: &str, name: &str) -> Flow {
    Flow {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: account.into(),
        name: name.into(),
        description: "d".into(),
        definition: "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n".into(),
        flow_type: "FDL".into(),
        role_arn: None,
        execution_mode: "Standard".into(),
        external_storage_location: None,
        resource_group_id: None,
        environment: None,
        created_at: 1_000,
        modified_at: 1_000,
        revision: 1,
    }
}

fn started_event(time: i64) -> HistoryEvent {
    HistoryEvent {
        event_id: 1,
        event_type: "ExecutionStarted".into(),
        step_name: String::new(),
        time,
        schedule_event_id: 0,
        detail: "{\"input\":{}}".into(),
    }
}

fn new_execution(flow: &Flow, name: &str, started_at: i64, lease: Option<Claim>) -> NewExecution {
    NewExecution {
        identity: ExecutionIdentity {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: flow.account_id.clone(),
            flow_id: flow.id.clone(),
            flow_name: flow.name.clone(),
            name: name.into(),
        },
        input: "{}".into(),
        definition: flow.definition.clone(),
        role_arn: None,
        environment: None,
        qualifier: None,
        flow_version: None,
        callback_token: None,
        started_at,
        started_event: started_event(started_at),
        lease,
        advance: None,
        map_child: None,
        running_limit: None,
    }
}

fn claim(owner: &str, now: i64) -> Claim {
    Claim {
        owner: owner.into(),
        now,
        lease_until: now + 10_000,
    }
}

fn commit_of(claimed: &ClaimedExecution, owner: &str, now: i64) -> ExecutionCommit {
    ExecutionCommit {
        execution_id: claimed.identity.id.clone(),
        epoch: claimed.lease_epoch,
        writes: AdvanceWrites {
            owner: owner.into(),
            state: "{}".into(),
            next_event_id: claimed.next_event_id + 1,
            events: vec![HistoryEvent {
                event_id: claimed.next_event_id,
                event_type: "StepEntered".into(),
                step_name: "p".into(),
                time: now,
                schedule_event_id: 0,
                detail: "{}".into(),
            }],
            end: None,
            due_at: None,
            calls_started: Vec::new(),
            call_lease_until: now + 10_000,
            signals_out: Vec::new(),
            children: Vec::new(),
            map_runs: Vec::new(),
        },
        now,
        consumed_signals: Vec::new(),
        calls_abandoned: Vec::new(),
    }
}

async fn started(store: &dyn Store, new: &NewExecution) -> Execution {
    match store.start_execution(new).await.unwrap() {
        StartOutcome::Started(execution) => execution,
        other => panic!("expected a new execution, got {other:?}"),
    }
}

backend_tests! {
    async fn flows_are_unique_per_account_and_isolated(backend) {
        let f = Fixture::new(backend).await;
        let a = flow("acct-a", "orders");
        assert_eq!(f.store.create_flow(&a, i64::MAX).await.unwrap(), CreateFlowOutcome::Created);
        assert_eq!(f.store.create_flow(&flow("acct-a", "orders"), i64::MAX).await.unwrap(), CreateFlowOutcome::AlreadyExists);
        assert_eq!(f.store.create_flow(&flow("acct-b", "orders"), i64::MAX).await.unwrap(), CreateFlowOutcome::Created);
        assert_eq!(f.store.get_flow("acct-a", "orders").await.unwrap().unwrap(), a);
        assert!(f.store.get_flow("acct-c", "orders").await.unwrap().is_none());
        assert_eq!(f.store.count_flows("acct-a").await.unwrap(), 1);
        f.done().await;
    }

    async fn flow_updates_are_optimistic(backend) {
        let f = Fixture::new(backend).await;
        let mut a = flow("acct", "f");
        f.store.create_flow(&a, i64::MAX).await.unwrap();
        a.description = "new".into();
        a.revision = 2;
        assert!(f.store.update_flow(&a, 1).await.unwrap());
        // A writer that read revision 1 loses.
        a.description = "stale".into();
        a.revision = 2;
        assert!(!f.store.update_flow(&a, 1).await.unwrap());
        assert_eq!(f.store.get_flow("acct", "f").await.unwrap().unwrap().description, "new");
        f.done().await;
    }

    async fn listing_flows_pages_by_name(backend) {
        let f = Fixture::new(backend).await;
        for name in ["c", "a", "b", "d"] {
            f.store.create_flow(&flow("acct", name), i64::MAX).await.unwrap();
        }
        let query = |from: Option<&str>, limit| FlowQuery {
            account_id: "acct".into(),
            from_name: from.map(str::to_string),
            resource_group_id: None,
            name_patterns: None,
            limit,
        };
        let names = |flows: Vec<Flow>| flows.into_iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(names(f.store.list_flows(&query(None, 2)).await.unwrap()), ["a", "b"]);
        assert_eq!(names(f.store.list_flows(&query(Some("c"), 10)).await.unwrap()), ["c", "d"]);
        assert_eq!(names(f.store.list_flows(&query(Some("bb"), 10)).await.unwrap()), ["c", "d"]);
        f.done().await;
    }

    async fn listing_flows_filters_by_name_patterns(backend) {
        let f = Fixture::new(backend).await;
        for name in ["a_b1", "axb1", "a_bc", "A_b2", "a_b", "b1", "ordersZ", "orders-9", "other"] {
            f.store.create_flow(&flow("acct", name), i64::MAX).await.unwrap();
        }
        let list = |patterns: &[&str], from: Option<&str>| FlowQuery {
            account_id: "acct".into(),
            from_name: from.map(str::to_string),
            resource_group_id: None,
            name_patterns: Some(patterns.iter().map(|p| p.to_string()).collect()),
            limit: 100,
        };
        let names = |flows: Vec<Flow>| flows.into_iter().map(|f| f.name).collect::<Vec<_>>();
        let cases: [(&[&str], &[&str]); 7] = [
            // `_` is a literal, case counts, `?` is exactly one character.
            (&["a_b?"], &["a_b1", "a_bc"]),
            (&["a_b*"], &["a_b", "a_b1", "a_bc"]),
            (&["*1"], &["a_b1", "axb1", "b1"]),
            (&["orders-*", "b1"], &["b1", "orders-9"]),
            (&["other"], &["other"]),
            (&["*"], &["A_b2", "a_b", "a_b1", "a_bc", "axb1", "b1", "orders-9", "ordersZ", "other"]),
            (&[], &[]),
        ];
        for (patterns, expected) in cases {
            let found = names(f.store.list_flows(&list(patterns, None)).await.unwrap());
            assert_eq!(found, expected, "{patterns:?}");
        }
        let after = names(f.store.list_flows(&list(&["a_b*", "*1"], Some("a_b1"))).await.unwrap());
        assert_eq!(after, ["a_b1", "a_bc", "axb1", "b1"]);
        f.done().await;
    }

    async fn starting_writes_the_execution_and_its_first_event_once(backend) {
        let f = Fixture::new(backend).await;
        let fl = flow("acct", "f");
        f.store.create_flow(&fl, i64::MAX).await.unwrap();
        let new = new_execution(&fl, "run", 5_000, None);
        let execution = started(&*f.store, &new).await;
        assert_eq!(execution.status, ExecutionStatus::Running);
        let history = f.store.list_history(&execution.identity.id, 1, 10).await.unwrap();
        assert_eq!(history, vec![started_event(5_000)]);
        // Same name while running: the running one comes back.
        let again = new_execution(&fl, "run", 6_000, None);
        match f.store.start_execution(&again).await.unwrap() {
            StartOutcome::Running(existing) => assert_eq!(existing.identity.id, execution.identity.id),
            other => panic!("{other:?}"),
        }
        // Same name once ended: it already exists.
        let ended = ForcedEnd {
            execution_id: execution.identity.id.clone(),
            status: ExecutionStatus::Stopped,
            error: Some("E".into()),
            cause: None,
            now: 7_000,
            event_type: "ExecutionStopped".into(),
            detail: "{}".into(),
            signals: Vec::new(),
        };
        let stopped = f.store.force_end(&ended).await.unwrap().unwrap();
        assert_eq!(stopped.status, ExecutionStatus::Stopped);
        assert_eq!(stopped.stopped_at, Some(7_000));
        assert!(f.store.force_end(&ended).await.unwrap().is_none(), "ends only once");
        assert!(matches!(f.store.start_execution(&again).await.unwrap(), StartOutcome::AlreadyEnded(_)));
        let history = f.store.list_history(&execution.identity.id, 1, 10).await.unwrap();
        assert_eq!(history.iter().map(|e| e.event_id).collect::<Vec<_>>(), [1, 2]);
        f.done().await;
    }

    async fn listing_executions_orders_and_filters(backend) {
        let f = Fixture::new(backend).await;
        let fl = flow("acct", "f");
        f.store.create_flow(&fl, i64::MAX).await.unwrap();
        for (name, at) in [("a", 100), ("b", 300), ("c", 200), ("d", 300)] {
            started(&*f.store, &new_execution(&fl, name, at, None)).await;
        }
        let query = ExecutionQuery { flow_id: fl.id.clone(), limit: 10, ..ExecutionQuery::default() };
        let names = |e: Vec<Execution>| e.into_iter().map(|e| e.identity.name).collect::<Vec<_>>();
        assert_eq!(names(f.store.list_executions(&query).await.unwrap()), ["b", "d", "c", "a"]);
        let from_d = ExecutionQuery { from: Some((300, "d".into())), ..query.clone() };
        assert_eq!(names(f.store.list_executions(&from_d).await.unwrap()), ["d", "c", "a"]);
        let window = ExecutionQuery { started_from: Some(200), started_to: Some(300), ..query.clone() };
        assert_eq!(names(f.store.list_executions(&window).await.unwrap()), ["b", "d", "c"]);
        let prefix = ExecutionQuery { name_prefix: Some("c".into()), ..query.clone() };
        assert_eq!(names(f.store.list_executions(&prefix).await.unwrap()), ["c"]);
        let status = ExecutionQuery { status: Some(ExecutionStatus::Succeeded), ..query.clone() };
        assert!(f.store.list_executions(&status).await.unwrap().is_empty());
        f.done().await;
    }

    async fn two_claimers_never_take_the_same_execution(backend) {
        let f = Fixture::new(backend).await;
        let fl = flow("acct", "f");
        f.store.create_flow(&fl, i64::MAX).await.unwrap();
        for i in 0..20 {
            started(&*f.store, &new_execution(&fl, &format!("e{i}"), 1_000, None)).await;
        }
        let (claim_one, claim_two) = (claim("one", 2_000), claim("two", 2_000));
        let (one, two) = tokio::join!(
            f.store.claim_due(&claim_one, 15),
            f.store.claim_due(&claim_two, 15)
        );
        let (one, two) = (one.unwrap(), two.unwrap());
        assert_eq!(one.len() + two.len(), 20);
        let mut ids: Vec<&str> = one.iter().chain(&two).map(|c| c.identity.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20, "an execution was claimed twice");
        // Leased executions are not due until their lease runs out.
        assert!(f.store.claim_due(&claim("three", 2_000), 50).await.unwrap().is_empty());
        assert_eq!(f.store.claim_due(&claim("three", 20_000), 50).await.unwrap().len(), 20);
        f.done().await;
    }

    async fn a_stale_lease_cannot_commit(backend) {
        let f = Fixture::new(backend).await;
        let fl = flow("acct", "f");
        f.store.create_flow(&fl, i64::MAX).await.unwrap();
        let execution = started(&*f.store, &new_execution(&fl, "run", 1_000, None)).await;
        let first = match f.store.claim_execution(&execution.identity.id, &claim("one", 2_000)).await.unwrap() {
            ClaimAttempt::Claimed(claimed) => *claimed,
            other => panic!("{other:?}"),
        };
        assert_eq!(f.store.claim_execution(&execution.identity.id, &claim("two", 3_000)).await.unwrap(), ClaimAttempt::Busy);
        // The lease expires and another worker takes over.
        let second = match f.store.claim_execution(&execution.identity.id, &claim("two", 20_000)).await.unwrap() {
            ClaimAttempt::Claimed(claimed) => *claimed,
            other => panic!("{other:?}"),
        };
        assert!(second.lease_epoch > first.lease_epoch);
        assert_eq!(f.store.commit(&commit_of(&first, "one", 21_000)).await.unwrap(), CommitOutcome::LostLease);
        assert_eq!(f.store.commit(&commit_of(&second, "two", 21_000)).await.unwrap(), CommitOutcome::Committed);
        let history = f.store.list_history(&execution.identity.id, 1, 10).await.unwrap();
        assert_eq!(history.len(), 2, "only the owner's events are written");
        f.done().await;
    }

    async fn call_answers_are_fenced_and_lost_calls_reaped(backend) {
        let f = Fixture::new(backend).await;
        let fl = flow("acct", "f");
        f.store.create_flow(&fl, i64::MAX).await.unwrap();
        let execution = started(&*f.store, &new_execution(&fl, "run", 1_000, None)).await;
        let claimed = match f.store.claim_execution(&execution.identity.id, &claim("one", 2_000)).await.unwrap() {
            ClaimAttempt::Claimed(claimed) => *claimed,
            other => panic!("{other:?}"),
        };
        let mut commit = commit_of(&claimed, "one", 2_000);
        commit.writes.calls_started = vec!["2.1".into(), "2.2".into()];
        commit.writes.call_lease_until = 5_000;
        assert_eq!(f.store.commit(&commit).await.unwrap(), CommitOutcome::Committed);
        let answer = OutgoingSignal { execution_id: execution.identity.id.clone(), payload: "{\"x\":1}".into() };
        // Only the call's owner records its answer, once.
        assert!(!f.store.complete_call("two", "2.1", &answer, 3_000).await.unwrap());
        assert!(f.store.complete_call("one", "2.1", &answer, 3_000).await.unwrap());
        assert!(!f.store.complete_call("one", "2.1", &answer, 3_000).await.unwrap());
        // The other call's lease expires: it becomes a CallLost signal.
        assert_eq!(f.store.reap_lost_calls(6_000).await.unwrap(), 1);
        assert!(!f.store.complete_call("one", "2.2", &answer, 6_500).await.unwrap());
        let signals = f.store.pending_signals(&execution.identity.id).await.unwrap();
        assert_eq!(signals.len(), 2);
        assert_eq!(signals[0].payload, "{\"x\":1}");
        assert!(signals[1].payload.contains("CallLost"));
        // Signals make the execution due at once.
        assert_eq!(f.store.claim_due(&claim("two", 7_000), 10).await.unwrap().len(), 1);
        f.done().await;
    }

    async fn a_signal_during_an_advance_keeps_the_execution_due(backend) {
        let f = Fixture::new(backend).await;
        let fl = flow("acct", "f");
        f.store.create_flow(&fl, i64::MAX).await.unwrap();
        let execution = started(&*f.store, &new_execution(&fl, "run", 1_000, None)).await;
        let claimed = match f.store.claim_execution(&execution.identity.id, &claim("one", 2_000)).await.unwrap() {
            ClaimAttempt::Claimed(claimed) => *claimed,
            other => panic!("{other:?}"),
        };
        let signal = OutgoingSignal { execution_id: execution.identity.id.clone(), payload: "{}".into() };
        f.store.push_signal(&signal, 2_500).await.unwrap();
        // The advance commits without having seen the signal and waits for nothing...
        assert_eq!(
            f.store.commit(&commit_of(&claimed, "one", 3_000)).await.unwrap(),
            CommitOutcome::CommittedWithSignals
        );
        // ...yet the execution stays due, so the signal is not slept through.
        assert_eq!(f.store.next_wakeups().await.unwrap().execution_due, Some(3_000));
        f.done().await;
    }

    async fn deleting_a_flow_stops_its_executions(backend) {
        let f = Fixture::new(backend).await;
        let fl = flow("acct", "f");
        f.store.create_flow(&fl, i64::MAX).await.unwrap();
        let execution = started(&*f.store, &new_execution(&fl, "run", 1_000, None)).await;
        assert!(f.store.delete_flow("acct", "f", 2_000).await.unwrap());
        assert!(!f.store.delete_flow("acct", "f", 2_000).await.unwrap());
        let after = f.store.get_execution_by_id(&execution.identity.id).await.unwrap().unwrap();
        assert_eq!(after.status, ExecutionStatus::Stopped);
        assert!(f.store.claim_due(&claim("one", 99_000), 10).await.unwrap().is_empty());
        // The name is free again, for a flow that shares nothing with the old one.
        assert_eq!(f.store.create_flow(&flow("acct", "f"), i64::MAX).await.unwrap(), CreateFlowOutcome::Created);
        f.done().await;
    }

    async fn nonces_are_used_once_until_they_expire(backend) {
        let f = Fixture::new(backend).await;
        assert!(f.store.record_nonce("key", "n1", 1_000, 5_000).await.unwrap());
        assert!(!f.store.record_nonce("key", "n1", 2_000, 6_000).await.unwrap());
        assert!(f.store.record_nonce("other", "n1", 2_000, 6_000).await.unwrap());
        assert!(f.store.record_nonce("key", "n1", 9_000, 13_000).await.unwrap(), "an expired nonce is forgotten");
        assert_eq!(f.store.prune_nonces(10_000).await.unwrap(), 1);
        // What a restart reads back: the live ones, the latest to expire, oldest first.
        assert!(f.store.record_nonce("key", "n2", 9_500, 14_000).await.unwrap());
        let live = |limit| f.store.live_nonces(13_000, limit);
        let pairs = |nonces: Vec<StoredNonce>| {
            nonces.into_iter().map(|n| (n.nonce, n.expires_at)).collect::<Vec<_>>()
        };
        assert_eq!(pairs(live(10).await.unwrap()), [("n1".to_string(), 13_000), ("n2".to_string(), 14_000)]);
        assert_eq!(pairs(live(1).await.unwrap()), [("n2".to_string(), 14_000)]);
        f.done().await;
    }

    async fn server_keys_are_created_once(backend) {
        let f = Fixture::new(backend).await;
        let first = f.store.server_key("k", "one").await.unwrap();
        let second = f.store.server_key("k", "two").await.unwrap();
        assert_eq!((first.as_str(), second.as_str()), ("one", "one"));
        f.done().await;
    }

    async fn console_sessions_touch_and_expire(backend) {
        let f = Fixture::new(backend).await;
        let session = |hash: &str, last_seen_at: i64, expires_at: i64| ConsoleSession {
            token_hash: hash.into(),
            access_key_id: "key".into(),
            csrf_token: format!("csrf-{hash}"),
            created_at: 0,
            last_seen_at,
            expires_at,
        };
        f.store.create_session(&session("a", 1_000, 100_000)).await.unwrap();
        f.store.create_session(&session("b", 1_000, 5_000)).await.unwrap();
        f.store.create_session(&session("c", 9_000, 100_000)).await.unwrap();
        assert_eq!(f.store.get_session("a").await.unwrap(), Some(session("a", 1_000, 100_000)));
        f.store.touch_session("a", 8_000).await.unwrap();
        f.store.touch_session("a", 7_000).await.unwrap();
        assert_eq!(f.store.get_session("a").await.unwrap().unwrap().last_seen_at, 8_000, "never back in time");
        // At 10 000 with sessions idle since before 7 500 ending: b is past its expiry too.
        assert_eq!(f.store.prune_sessions(10_000, 7_500).await.unwrap(), 1);
        assert!(f.store.get_session("b").await.unwrap().is_none());
        f.store.delete_session("c").await.unwrap();
        assert!(f.store.get_session("c").await.unwrap().is_none());
        assert!(f.store.get_session("a").await.unwrap().is_some());
        f.done().await;
    }
}

/// Postgres: a signal queued while another transaction commits its execution (and clears the
/// lease) must leave the execution due — it waits for that commit's row lock, then sees the
/// lease gone. Were the leased row skipped, the commit would not see the signal either (not
/// yet committed when it looked), and the execution would wait for it forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_racing_a_commit_keeps_the_execution_due() {
    use sqlx::Connection;
    let f = Fixture::new(Backend::Postgres).await;
    let fl = flow("acct", "f");
    f.store.create_flow(&fl, i64::MAX).await.unwrap();
    let execution = started(&*f.store, &new_execution(&fl, "run", 1_000, None)).await;
    let claimed = f
        .store
        .claim_execution(&execution.identity.id, &claim("one", 2_000))
        .await
        .unwrap();
    assert!(matches!(claimed, ClaimAttempt::Claimed(_)));
    // The owner's commit, held open: the lease is gone and nothing is due.
    let mut owner = sqlx::PgConnection::connect(&f.storage.database_url)
        .await
        .unwrap();
    let mut commit = owner.begin().await.unwrap();
    sqlx::query(
        "UPDATE executions SET lease_owner = NULL, lease_until = NULL, due_at = NULL WHERE id = $1",
    )
    .bind(&execution.identity.id)
    .execute(&mut *commit)
    .await
    .unwrap();
    let store = f.store.clone();
    let signal = OutgoingSignal {
        execution_id: execution.identity.id.clone(),
        payload: "{}".into(),
    };
    let pushing = tokio::spawn(async move { store.push_signal(&signal, 2_500).await });
    // The signal waits for the commit's lock (or, skipping the row, is already written).
    let mut observer = sqlx::PgConnection::connect(&f.storage.database_url)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut observer)
        .await
        .unwrap();
        if waiting > 0 || pushing.is_finished() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the signal neither waited nor was written"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    commit.commit().await.unwrap();
    pushing.await.unwrap().unwrap();
    assert_eq!(
        f.store.next_wakeups().await.unwrap().execution_due,
        Some(2_500)
    );
    drop((owner, observer));
    f.done().await;
}
