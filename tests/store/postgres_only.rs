//! What only a store shared by several replicas must do, checked on Postgres: row locks
//! between replicas' transactions, and notices that cross replicas.

use std::time::{Duration, Instant};

use fnf_server::store::*;
use sqlx::Connection;
use tokio::sync::broadcast;

use crate::harness::{Fixture, claimed, created_flow, started_run};
use crate::notices::hears;
use crate::rows::{claim, commit_of, execution_end, signal};

/// A signal queued while another transaction commits its execution (and clears the lease)
/// must leave the execution due: it waits for that commit's row lock, then sees the lease
/// gone. Were the leased row skipped, the commit would not see the signal either (not yet
/// committed when it looked), and the execution would wait for it forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_racing_a_commit_keeps_the_execution_due() {
    let f = Fixture::postgres().await;
    let fl = created_flow(&*f.store, "acct", "f").await;
    let execution = started_run(&*f.store, &fl, "run", 1_000).await;
    claimed(&*f.store, &execution.identity.id, &claim("one", 2_000)).await;
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
    let racing = signal(&execution, "{}");
    let pushing = tokio::spawn(async move { store.push_signal(&racing, 2_500).await });
    // The signal waits for the commit's lock (or, skipping the row, is already written).
    let mut observer = sqlx::PgConnection::connect(&f.storage.database_url)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
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
            Instant::now() < deadline,
            "the signal neither waited nor was written"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
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

/// Notices and ends written on one replica wake the others; local notices stay local.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_cross_replicas() {
    let f = Fixture::postgres().await;
    let replica = open(&f.storage.database_url).await.unwrap();
    let mut elsewhere = replica.subscribe();
    until_listening(&*f.store, &mut elsewhere).await;
    f.store
        .notify(WorkNotice::Ended("e-1".into()))
        .await
        .unwrap();
    hears(&mut elsewhere, &WorkNotice::Ended("e-1".into())).await;
    // A commit that ends an execution announces it with the commit.
    let fl = created_flow(&*f.store, "acct", "f").await;
    let execution = started_run(&*f.store, &fl, "run", 1_000).await;
    let held = claimed(&*f.store, &execution.identity.id, &claim("one", 2_000)).await;
    let end = {
        let mut commit = commit_of(&held, "one", 3_000);
        commit.writes.end = Some(execution_end(ExecutionStatus::Succeeded, 3_000));
        commit
    };
    assert_eq!(
        f.store.commit(&end).await.unwrap(),
        CommitOutcome::Committed
    );
    hears(
        &mut elsewhere,
        &WorkNotice::Ended(execution.identity.id.clone()),
    )
    .await;
    // Published locally only: the other replica hears the next notice first.
    f.store.publish_local(WorkNotice::Ended("local".into()));
    f.store
        .notify(WorkNotice::Ended("marker".into()))
        .await
        .unwrap();
    let next_end = loop {
        match elsewhere.recv().await.unwrap() {
            WorkNotice::Ended(id) if id != PING => break id,
            _ => continue,
        }
    };
    assert_eq!(next_end, "marker");
    drop(replica);
    f.done().await;
}

/// The advisory-lock key of retention ("fnf-ret"), as the Postgres store takes it.
const RETENTION_LOCK: i64 = 0x0066_6e66_2d72_6574;

/// One replica deletes ended executions at a time: while another holds the retention lock,
/// a batch deletes nothing (and does not wait for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_on_one_replica_at_a_time() {
    let f = Fixture::postgres().await;
    let fl = created_flow(&*f.store, "acct", "f").await;
    let execution = started_run(&*f.store, &fl, "run", 1_000).await;
    let ended = crate::rows::forced_end(&execution, ExecutionStatus::Stopped, 2_000);
    f.store.force_end(&ended).await.unwrap().unwrap();
    let mut other = sqlx::PgConnection::connect(&f.storage.database_url)
        .await
        .unwrap();
    let mut deleting = other.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(RETENTION_LOCK)
        .execute(&mut *deleting)
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(f.store.delete_ended_executions(5_000, 10).await.unwrap(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it did not wait"
    );
    deleting.rollback().await.unwrap();
    drop(other);
    assert_eq!(f.store.delete_ended_executions(5_000, 10).await.unwrap(), 1);
    f.done().await;
}

/// Deleted rows' space is reusable afterwards: a database running without autovacuum has
/// the tables retention deletes from vacuumed; one with autovacuum is left to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reclaiming_space_vacuums_only_without_autovacuum() {
    let f = Fixture::postgres().await;
    let fl = created_flow(&*f.store, "acct", "f").await;
    let execution = started_run(&*f.store, &fl, "run", 1_000).await;
    let ended = crate::rows::forced_end(&execution, ExecutionStatus::Stopped, 2_000);
    f.store.force_end(&ended).await.unwrap().unwrap();
    assert_eq!(f.store.delete_ended_executions(5_000, 10).await.unwrap(), 1);
    let mut observer = sqlx::PgConnection::connect(&f.storage.database_url)
        .await
        .unwrap();
    let autovacuum: String = sqlx::query_scalar("SELECT current_setting('autovacuum')")
        .fetch_one(&mut observer)
        .await
        .unwrap();
    let manual_vacuums = "SELECT COALESCE(SUM(vacuum_count), 0)::BIGINT FROM pg_stat_user_tables \
                          WHERE relname IN ('executions', 'history_chunks', 'nonces')";
    let before: i64 = sqlx::query_scalar(manual_vacuums)
        .fetch_one(&mut observer)
        .await
        .unwrap();
    f.store.reclaim_space().await.unwrap();
    let expected = if autovacuum == "on" {
        before
    } else {
        before + 3
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let after: i64 = sqlx::query_scalar(manual_vacuums)
            .fetch_one(&mut observer)
            .await
            .unwrap();
        if after == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "autovacuum {autovacuum}: {after} manual vacuums, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f.done().await;
}

const PING: &str = "ping";

/// Returns once `receiver`'s replica listens: it starts listening in the background, and
/// notices sent before that are lost.
async fn until_listening(sender: &dyn Store, receiver: &mut broadcast::Receiver<WorkNotice>) {
    for _ in 0..100 {
        sender.notify(WorkNotice::Ended(PING.into())).await.unwrap();
        let ping = async {
            loop {
                if let Ok(WorkNotice::Ended(id)) = receiver.recv().await
                    && id == PING
                {
                    return;
                }
            }
        };
        if tokio::time::timeout(Duration::from_millis(100), ping)
            .await
            .is_ok()
        {
            return;
        }
    }
    panic!("the other replica never listened");
}
