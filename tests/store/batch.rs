//! BatchStore (group commit), and what writes through it: the Batcher and the nonce ledgers.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use fnf_server::auth::replay::{MemoryNonces, NonceLedger};
use fnf_server::metrics::Metrics;
use fnf_server::nonce_ledgers::{DurableNonces, SharedNonces};
use fnf_server::store::*;

use crate::harness::{claimed, created_flow, started_run, status_of};
use crate::rows::{claim, commit_of, ended_at_start, new_execution, nonce_op};

fn batcher(store: &Arc<dyn Store>) -> Batcher {
    Batcher::start(store.clone(), 2, Arc::new(Metrics::new()))
}

pub async fn a_batch_answers_each_write_in_order(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let running = started_run(store, &fl, "running", 1_000).await;
    let current = claimed(store, &running.identity.id, &claim("one", 2_000)).await;
    let taken_over = started_run(store, &fl, "taken-over", 1_000).await;
    let stale = claimed(store, &taken_over.identity.id, &claim("one", 2_000)).await;
    claimed(store, &taken_over.identity.id, &claim("two", 20_000)).await;
    let new = new_execution(&fl, "new", 3_000, None);
    let ops = [
        nonce_op("key", "n1", 3_000, 9_000),
        WriteOp::Start(Box::new(new.clone())),
        nonce_op("key", "n1", 3_000, 9_000),
        WriteOp::Commit(Box::new(commit_of(&stale, "one", 21_000))),
        WriteOp::Commit(Box::new(commit_of(&current, "one", 3_000))),
        WriteOp::Start(Box::new(new_execution(&fl, "running", 3_000, None))),
    ];
    let results = store.write_batch(&ops).await.unwrap();
    let stored_new = store
        .get_execution_by_id(&new.identity.id)
        .await
        .unwrap()
        .unwrap();
    let running = store
        .get_execution_by_id(&running.identity.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        results,
        [
            WriteResult::Nonce(true),
            WriteResult::Started(Box::new(StartOutcome::Started(stored_new))),
            WriteResult::Nonce(false),
            WriteResult::Committed(CommitOutcome::LostLease),
            WriteResult::Committed(CommitOutcome::Committed),
            WriteResult::Started(Box::new(StartOutcome::Running(running.clone()))),
        ]
    );
    assert_eq!(
        store
            .list_history(&running.identity.id, 1, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .list_history(&taken_over.identity.id, 1, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        !store.record_nonce("key", "n1", 3_000, 9_000).await.unwrap(),
        "written"
    );
    assert!(store.write_batch(&[]).await.unwrap().is_empty());
}

/// A start guarded by its request's nonce.
fn with_nonce(new: NewExecution, nonce: &str) -> NewExecution {
    NewExecution {
        nonce: Some(used_nonce(nonce, new.started_at)),
        ..new
    }
}

/// Key `key`'s `nonce`, used at `now` and kept 9 s.
fn used_nonce(nonce: &str, now: i64) -> UsedNonce {
    UsedNonce {
        access_key_id: "key".into(),
        nonce: nonce.into(),
        now,
        expires_at: now + 9_000,
    }
}

pub async fn a_start_records_its_nonce_and_a_replayed_one_writes_nothing(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    assert!(
        store
            .record_nonce("key", "used", 1_000, 9_000)
            .await
            .unwrap()
    );
    let replayed = with_nonce(new_execution(&fl, "replayed", 1_000, None), "used");
    let first = with_nonce(new_execution(&fl, "first", 1_000, None), "fresh");
    let twice = with_nonce(new_execution(&fl, "twice", 1_000, None), "fresh");
    let ops = [
        WriteOp::Start(Box::new(replayed.clone())),
        WriteOp::Start(Box::new(first.clone())),
        WriteOp::Start(Box::new(twice.clone())),
        nonce_op("key", "fresh", 1_000, 9_000),
    ];
    let results = store.write_batch(&ops).await.unwrap();
    let stored = store
        .get_execution_by_id(&first.identity.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        results,
        [
            WriteResult::Started(Box::new(StartOutcome::NonceUsed)),
            WriteResult::Started(Box::new(StartOutcome::Started(stored))),
            WriteResult::Started(Box::new(StartOutcome::NonceUsed)),
            WriteResult::Nonce(false),
        ]
    );
    for absent in [&replayed, &twice] {
        assert_eq!(
            store
                .get_execution_by_id(&absent.identity.id)
                .await
                .unwrap(),
            None
        );
    }
    assert!(
        !store
            .record_nonce("key", "fresh", 2_000, 9_000)
            .await
            .unwrap(),
        "the start recorded its nonce"
    );

    // A start refused for a stale flow revision still used its nonce.
    let stale = NewExecution {
        flow_revision: Some(fl.revision + 1),
        ..with_nonce(new_execution(&fl, "stale", 1_000, None), "stale")
    };
    let results = store
        .write_batch(&[WriteOp::Start(Box::new(stale))])
        .await
        .unwrap();
    assert_eq!(
        results,
        [WriteResult::Started(Box::new(StartOutcome::StaleFlow))]
    );
    assert!(
        !store
            .record_nonce("key", "stale", 2_000, 9_000)
            .await
            .unwrap()
    );
}

/// A report's commit guarded by its request's nonce.
fn commit_with_nonce(commit: ExecutionCommit, nonce: &str) -> ExecutionCommit {
    ExecutionCommit {
        nonce: Some(used_nonce(nonce, commit.now)),
        ..commit
    }
}

pub async fn a_commit_records_its_nonce_and_a_replayed_one_writes_nothing(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    assert!(
        store
            .record_nonce("key", "used", 1_000, 9_000)
            .await
            .unwrap()
    );
    let replayed_run = started_run(store, &fl, "replayed", 1_000).await;
    let replayed = claimed(store, &replayed_run.identity.id, &claim("one", 2_000)).await;
    let fresh_run = started_run(store, &fl, "fresh", 1_000).await;
    let fresh = claimed(store, &fresh_run.identity.id, &claim("one", 2_000)).await;
    let ops = [
        WriteOp::Commit(Box::new(commit_with_nonce(
            commit_of(&replayed, "one", 3_000),
            "used",
        ))),
        WriteOp::Commit(Box::new(commit_with_nonce(
            commit_of(&fresh, "one", 3_000),
            "fresh",
        ))),
    ];
    let results = store.write_batch(&ops).await.unwrap();
    assert_eq!(
        results,
        [
            WriteResult::Committed(CommitOutcome::NonceUsed),
            WriteResult::Committed(CommitOutcome::Committed),
        ]
    );
    // The replayed commit wrote nothing; the other wrote its event.
    for (run, events) in [(&replayed_run, 1), (&fresh_run, 2)] {
        let history = store.list_history(&run.identity.id, 1, 10).await.unwrap();
        assert_eq!(history.len(), events, "{history:?}");
    }
    assert!(
        !store
            .record_nonce("key", "fresh", 4_000, 9_000)
            .await
            .unwrap(),
        "the commit recorded its nonce"
    );

    // A commit that lost its lease still used its nonce.
    claimed(store, &fresh_run.identity.id, &claim("two", 30_000)).await;
    let late = commit_with_nonce(commit_of(&fresh, "one", 31_000), "late");
    let results = store
        .write_batch(&[WriteOp::Commit(Box::new(late))])
        .await
        .unwrap();
    assert_eq!(results, [WriteResult::Committed(CommitOutcome::LostLease)]);
    assert!(
        !store
            .record_nonce("key", "late", 32_000, 9_000)
            .await
            .unwrap()
    );
}

fn nonce_reading_flow(nonce: &str, flow_name: &str) -> WriteOp {
    let WriteOp::Nonce(nonce) = nonce_op("key", nonce, 1_000, 9_000) else {
        unreachable!("nonce_op makes a nonce")
    };
    WriteOp::NonceReadingFlow {
        nonce,
        account_id: "acct".into(),
        flow_name: flow_name.into(),
    }
}

pub async fn a_nonce_reading_a_flow_sees_its_current_revision(store: &dyn Store) {
    let mut fl = created_flow(store, "acct", "f").await;
    let results = store
        .write_batch(&[
            nonce_reading_flow("a", "f"),
            nonce_reading_flow("b", "missing"),
            nonce_reading_flow("a", "f"),
            nonce_reading_flow("c", "f"),
        ])
        .await
        .unwrap();
    let seen = Some((fl.id.clone(), fl.revision));
    assert_eq!(
        results,
        [
            WriteResult::NonceReadingFlow {
                new: true,
                flow: seen.clone()
            },
            WriteResult::NonceReadingFlow {
                new: true,
                flow: None
            },
            WriteResult::NonceReadingFlow {
                new: false,
                flow: seen.clone()
            },
            WriteResult::NonceReadingFlow {
                new: true,
                flow: seen
            },
        ]
    );

    let expected = fl.revision;
    fl.revision += 1;
    assert!(store.update_flow(&fl, expected).await.unwrap());
    let results = store
        .write_batch(&[nonce_reading_flow("d", "f"), nonce_reading_flow("c", "f")])
        .await
        .unwrap();
    assert_eq!(
        results,
        [
            WriteResult::NonceReadingFlow {
                new: true,
                flow: Some((fl.id.clone(), fl.revision))
            },
            WriteResult::NonceReadingFlow {
                new: false,
                flow: Some((fl.id.clone(), fl.revision))
            },
        ]
    );
    assert!(
        !store.record_nonce("key", "d", 2_000, 9_000).await.unwrap(),
        "the read recorded its nonce"
    );
}

pub async fn a_start_that_ended_at_once_is_answered_running_but_stored_ended(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let new = ended_at_start(&fl, "quick", 1_000, ExecutionStatus::Succeeded);
    let results = store
        .write_batch(&[WriteOp::Start(Box::new(new.clone()))])
        .await
        .unwrap();
    match &results[..] {
        [WriteResult::Started(outcome)] => match &**outcome {
            StartOutcome::Started(answer) => assert_eq!(answer.status, ExecutionStatus::Running),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let stored = store
        .get_execution_by_id(&new.identity.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.status, stored.stopped_at),
        (ExecutionStatus::Succeeded, Some(1_000))
    );
    assert_eq!(stored.output, "{\"done\":true}");
    assert_eq!(
        store
            .list_history(&new.identity.id, 1, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(store.due_count(i64::MAX).await.unwrap(), 0);
}

pub async fn the_batcher_writes_through_the_store(store: &Arc<dyn Store>) {
    let batcher = batcher(store);
    assert_eq!(
        batcher
            .write(nonce_op("key", "n", 1_000, 9_000))
            .await
            .unwrap(),
        WriteResult::Nonce(true)
    );
    assert_eq!(
        batcher
            .write(nonce_op("key", "n", 1_000, 9_000))
            .await
            .unwrap(),
        WriteResult::Nonce(false)
    );
    let fl = created_flow(&**store, "acct", "f").await;
    let new = new_execution(&fl, "run", 1_000, None);
    let written = batcher
        .write(WriteOp::Start(Box::new(new.clone())))
        .await
        .unwrap();
    assert!(
        matches!(written, WriteResult::Started(outcome) if matches!(*outcome, StartOutcome::Started(_)))
    );
    assert_eq!(
        status_of(&**store, &new.identity.id).await,
        ExecutionStatus::Running
    );
    assert!(batcher.healthy());
}

pub async fn shared_nonces_are_decided_by_the_store(store: &Arc<dyn Store>) {
    let ledger = SharedNonces::new(store.clone(), batcher(store), TimeDelta::seconds(60));
    let now = Utc::now();
    assert!(ledger.first_use("key", "n", now).await.unwrap());
    assert!(!ledger.first_use("key", "n", now).await.unwrap());
    assert!(ledger.first_use("other", "n", now).await.unwrap());
    let now_ms = now.timestamp_millis();
    assert!(
        !store
            .record_nonce("key", "n", now_ms, now_ms + 60_000)
            .await
            .unwrap()
    );
}

pub async fn durable_nonces_remember_what_the_store_holds(store: &Arc<dyn Store>) {
    let now = Utc::now();
    let now_ms = now.timestamp_millis();
    assert!(
        store
            .record_nonce("key", "earlier", now_ms, now_ms + 60_000)
            .await
            .unwrap()
    );
    let window = MemoryNonces::new(TimeDelta::seconds(60), 100);
    let ledger = DurableNonces::open(store.clone(), batcher(store), window, now)
        .await
        .unwrap();
    assert!(
        !ledger.first_use("key", "earlier", now).await.unwrap(),
        "restored from the store"
    );
    assert!(ledger.first_use("key", "new", now).await.unwrap());
    assert!(!ledger.first_use("key", "new", now).await.unwrap());
    ledger.flush().await;
    let live = store.live_nonces(now_ms, 10).await.unwrap();
    let mut stored: Vec<&str> = live.iter().map(|n| n.nonce.as_str()).collect();
    stored.sort();
    assert_eq!(stored, ["earlier", "new"]);
}
