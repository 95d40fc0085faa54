//! WorkStore: claims and leases, fenced commits, signals, task calls, wake-ups.

use fnf_server::store::*;

use crate::harness::{claimed, created_flow, started, started_run, status_of};
use crate::rows::{claim, commit_of, execution_end, forced_end, new_execution, signal};

pub async fn two_claimers_never_take_the_same_execution(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    for i in 0..20 {
        started_run(store, &fl, &format!("e{i}"), 1_000).await;
    }
    let (claim_one, claim_two) = (claim("one", 2_000), claim("two", 2_000));
    let (one, two) = tokio::join!(
        store.claim_due(&claim_one, 15),
        store.claim_due(&claim_two, 15)
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one.len() + two.len(), 20);
    assert!(one.len() <= 15 && two.len() <= 15, "at most `limit` each");
    let mut ids: Vec<&str> = one
        .iter()
        .chain(&two)
        .map(|c| c.identity.id.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "an execution was claimed twice");
    // Leased executions are not due until their lease runs out.
    assert!(
        store
            .claim_due(&claim("three", 2_000), 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_due(&claim("three", 20_000), 50)
            .await
            .unwrap()
            .len(),
        20
    );
}

pub async fn a_stale_lease_cannot_commit(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let first = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
    assert_eq!(
        (first.identity.id.as_str(), first.next_event_id),
        (execution.identity.id.as_str(), 2)
    );
    assert_eq!(
        store
            .claim_execution(&execution.identity.id, &claim("two", 3_000))
            .await
            .unwrap(),
        ClaimAttempt::Busy
    );
    // The lease expires and another worker takes over.
    let second = claimed(store, &execution.identity.id, &claim("two", 20_000)).await;
    assert!(second.lease_epoch > first.lease_epoch);
    assert_eq!(
        store
            .commit(&commit_of(&first, "one", 21_000))
            .await
            .unwrap(),
        CommitOutcome::LostLease
    );
    assert_eq!(
        store
            .commit(&commit_of(&second, "two", 21_000))
            .await
            .unwrap(),
        CommitOutcome::Committed
    );
    let history = store
        .list_history(&execution.identity.id, 1, 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "only the owner's events are written");
    // The committed state is what the next claim reads.
    let third = claimed(store, &execution.identity.id, &claim("one", 22_000)).await;
    assert_eq!(
        (third.state.as_deref(), third.next_event_id),
        (Some("{}"), 3)
    );
}

/// A commit made from an unleased read of the execution.
fn unleased_commit(read: &ClaimedExecution, owner: &str, now: i64) -> ExecutionCommit {
    ExecutionCommit {
        unleased: true,
        ..commit_of(read, owner, now)
    }
}

fn read_of(attempt: ClaimAttempt) -> ClaimedExecution {
    match attempt {
        ClaimAttempt::Claimed(read) => *read,
        other => panic!("expected the execution, got {other:?}"),
    }
}

/// A report's advance from an unleased read and the claimed advance that overtook it can be
/// written in the same group commit, in either order: only the claimer's is stored, and its
/// events are written once (no duplicate history key failing the whole batch).
pub async fn two_commits_of_one_execution_in_a_batch_store_one(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    for (round, overtaken_first) in [(0, true), (1, false)] {
        let execution = started_run(store, &fl, &format!("run-{round}"), 1_000).await;
        let id = &execution.identity.id;
        let first = claimed(store, id, &claim("one", 2_000)).await;
        store
            .commit(&commit_of(&first, "one", 2_000))
            .await
            .unwrap();
        let read = read_of(store.read_unleased(id, 3_000).await.unwrap());
        let leased = claimed(store, id, &claim("one", 3_000)).await;
        let overtaken = WriteOp::Commit(Box::new(unleased_commit(&read, "one", 3_500)));
        let claimer = WriteOp::Commit(Box::new(commit_of(&leased, "one", 3_500)));
        let ops = if overtaken_first {
            [overtaken, claimer]
        } else {
            [claimer, overtaken]
        };
        let results = store.write_batch(&ops).await.unwrap();
        let (overtaken, claimer) = if overtaken_first {
            (&results[0], &results[1])
        } else {
            (&results[1], &results[0])
        };
        assert_eq!(
            *overtaken,
            WriteResult::Committed(CommitOutcome::LostLease),
            "round {round}"
        );
        assert_eq!(
            *claimer,
            WriteResult::Committed(CommitOutcome::Committed),
            "round {round}"
        );
        let history = store.list_history(id, 1, 10).await.unwrap();
        assert_eq!(
            history.len(),
            3,
            "round {round}: started, then one event per commit"
        );
        // The claimer's commit is the one stored: its epoch, unleased, one event further.
        let after = read_of(store.read_unleased(id, 4_000).await.unwrap());
        assert_eq!(
            (after.lease_epoch, after.next_event_id),
            (leased.lease_epoch, 4),
            "round {round}"
        );
    }
}

pub async fn a_commit_from_an_unleased_read_claims_the_execution_once(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let id = &execution.identity.id;
    // Due (it has just started): about to be claimed, so not read.
    assert_eq!(
        read_both(store, &execution, 2_000).await,
        ClaimAttempt::Busy
    );
    let first = claimed(store, id, &claim("one", 2_000)).await;
    assert_eq!(
        store
            .commit(&commit_of(&first, "one", 2_000))
            .await
            .unwrap(),
        CommitOutcome::Committed
    );
    // Quiet now (it waits for a signal). Two reads: the first commit applies, the second not.
    let read = read_of(read_both(store, &execution, 2_000).await);
    let same = read_of(read_both(store, &execution, 2_000).await);
    assert_eq!(read, same);
    assert_eq!(
        store
            .commit(&unleased_commit(&read, "one", 2_000))
            .await
            .unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        store
            .commit(&unleased_commit(&same, "two", 2_000))
            .await
            .unwrap(),
        CommitOutcome::LostLease
    );
    let history = store.list_history(id, 1, 10).await.unwrap();
    assert_eq!(
        history.len(),
        3,
        "one event of each of the two commits applied"
    );

    // A claim between the read and the commit wins; the claimer's commit applies.
    let read = read_of(read_both(store, &execution, 3_000).await);
    assert_eq!(read.next_event_id, 4);
    let leased = claimed(store, id, &claim("one", 3_000)).await;
    assert_eq!(
        read_both(store, &execution, 3_500).await,
        ClaimAttempt::Busy
    );
    assert_eq!(
        store
            .commit(&unleased_commit(&read, "two", 3_500))
            .await
            .unwrap(),
        CommitOutcome::LostLease
    );
    assert_eq!(
        store
            .commit(&commit_of(&leased, "one", 4_000))
            .await
            .unwrap(),
        CommitOutcome::Committed
    );

    // A lease that ran out leaves the execution due: the pool takes it over, no read.
    let leased = claimed(store, id, &claim("one", 5_000)).await;
    assert_eq!(
        read_both(store, &execution, 20_000).await,
        ClaimAttempt::Busy
    );
    assert_eq!(
        store
            .commit(&commit_of(&leased, "one", 6_000))
            .await
            .unwrap(),
        CommitOutcome::Committed
    );

    // Not while a task call is in flight: its answer is about to make it due.
    let calling = claimed(store, id, &claim("one", 30_000)).await;
    let mut with_call = commit_of(&calling, "one", 30_000);
    with_call.writes.calls_started = vec!["call-1".into()];
    with_call.writes.call_lease_until = 90_000;
    assert_eq!(
        store.commit(&with_call).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        read_both(store, &execution, 31_000).await,
        ClaimAttempt::Busy
    );

    // Nothing to read once it ended, or for an unknown id.
    store
        .force_end(&forced_end(&execution, ExecutionStatus::Stopped, 22_000))
        .await
        .unwrap();
    assert_eq!(
        read_both(store, &execution, 99_000).await,
        ClaimAttempt::NotRunning
    );
    assert_eq!(
        store.read_unleased("nope", 99_000).await.unwrap(),
        ClaimAttempt::NotRunning
    );
    assert_eq!(
        store
            .read_unleased_named("acct", "f", "nope", 99_000)
            .await
            .unwrap(),
        None
    );
}

/// Reads the execution unleased by its id and by its names, checks that both reads agree,
/// and returns what they read.
async fn read_both(store: &dyn Store, execution: &Execution, now: i64) -> ClaimAttempt {
    let identity = &execution.identity;
    let by_id = store.read_unleased(&identity.id, now).await.unwrap();
    let by_name = store
        .read_unleased_named(
            &identity.account_id,
            &identity.flow_name,
            &identity.name,
            now,
        )
        .await
        .unwrap()
        .expect("the execution is found by its names");
    assert_eq!(&by_name.identity, identity);
    assert_eq!(by_name.attempt, by_id, "the two reads disagree at {now}");
    by_id
}

pub async fn claiming_an_ended_or_unknown_execution_fails(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    store
        .force_end(&forced_end(&execution, ExecutionStatus::Stopped, 1_500))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_execution(&execution.identity.id, &claim("one", 2_000))
            .await
            .unwrap(),
        ClaimAttempt::NotRunning
    );
    assert_eq!(
        store
            .claim_execution("nope", &claim("one", 2_000))
            .await
            .unwrap(),
        ClaimAttempt::NotRunning
    );
    assert!(
        store
            .claim_due(&claim("one", 99_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_commit_consumes_signals_and_sets_the_next_wake_up(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    store
        .push_signal(&signal(&execution, "{\"a\":1}"), 1_100)
        .await
        .unwrap();
    store
        .push_signal(&signal(&execution, "{\"b\":2}"), 1_200)
        .await
        .unwrap();
    let signals = store.pending_signals(&execution.identity.id).await.unwrap();
    assert_eq!(
        signals
            .iter()
            .map(|s| s.payload.as_str())
            .collect::<Vec<_>>(),
        ["{\"a\":1}", "{\"b\":2}"]
    );
    let held = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
    let commit = {
        let mut commit = commit_of(&held, "one", 2_000);
        commit.consumed_signals = vec![signals[0].id];
        commit.writes.due_at = Some(50_000);
        commit
    };
    // The unconsumed signal keeps it due at once.
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::CommittedWithSignals
    );
    assert_eq!(
        store.pending_signals(&execution.identity.id).await.unwrap(),
        signals[1..]
    );
    let held = claimed(store, &execution.identity.id, &claim("one", 3_000)).await;
    let commit = {
        let mut commit = commit_of(&held, "one", 3_000);
        commit.consumed_signals = vec![signals[1].id];
        commit.writes.due_at = Some(50_000);
        commit
    };
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    assert!(
        store
            .pending_signals(&execution.identity.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.next_wakeups().await.unwrap().execution_due,
        Some(50_000)
    );
    assert!(
        store
            .claim_due(&claim("two", 49_999), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_due(&claim("two", 50_000), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn a_commit_that_ends_drops_calls_and_signals(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let parent = started_run(store, &fl, "parent", 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
    let commit = {
        let mut commit = commit_of(&held, "one", 2_000);
        commit.writes.calls_started = vec!["2.1".into()];
        commit
    };
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    let held = claimed(store, &execution.identity.id, &claim("one", 3_000)).await;
    store
        .push_signal(&signal(&execution, "{}"), 3_100)
        .await
        .unwrap();
    let report = signal(&parent, "{\"report\":1}");
    let end = {
        let mut commit = commit_of(&held, "one", 4_000);
        commit.writes.end = Some(execution_end(ExecutionStatus::Succeeded, 4_000));
        commit.writes.signals_out = vec![report.clone()];
        commit
    };
    assert_eq!(store.commit(&end).await.unwrap(), CommitOutcome::Committed);
    let ended = store
        .get_execution_by_id(&execution.identity.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ended.status, ended.stopped_at),
        (ExecutionStatus::Succeeded, Some(4_000))
    );
    assert_eq!(ended.output, "{\"done\":true}");
    assert!(
        store
            .pending_signals(&execution.identity.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_wakeups().await.unwrap().call_lease_expiry, None);
    assert_eq!(
        store.pending_signals(&parent.identity.id).await.unwrap()[0].payload,
        report.payload
    );
    assert_eq!(
        store
            .claim_execution(&execution.identity.id, &claim("one", 5_000))
            .await
            .unwrap(),
        ClaimAttempt::NotRunning
    );
}

pub async fn call_answers_are_fenced_and_lost_calls_reaped(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
    let mut commit = commit_of(&held, "one", 2_000);
    commit.writes.calls_started = vec!["2.1".into(), "2.2".into()];
    commit.writes.call_lease_until = 5_000;
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        store.next_wakeups().await.unwrap().call_lease_expiry,
        Some(5_000)
    );
    let answer = signal(&execution, "{\"x\":1}");
    // Only the call's owner records its answer, once.
    assert!(
        !store
            .complete_call("two", "2.1", &answer, 3_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .complete_call("one", "2.1", &answer, 3_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete_call("one", "2.1", &answer, 3_000)
            .await
            .unwrap()
    );
    // Not yet expired: nothing to reap.
    assert_eq!(store.reap_lost_calls(4_000).await.unwrap(), 0);
    // The other call's lease expires: it becomes a CallLost signal.
    assert_eq!(store.reap_lost_calls(6_000).await.unwrap(), 1);
    assert!(
        !store
            .complete_call("one", "2.2", &answer, 6_500)
            .await
            .unwrap()
    );
    let signals = store.pending_signals(&execution.identity.id).await.unwrap();
    assert_eq!(signals.len(), 2);
    assert_eq!(signals[0].payload, "{\"x\":1}");
    assert!(signals[1].payload.contains("CallLost") && signals[1].payload.contains("2.2"));
    // Signals make the execution due at once.
    assert_eq!(
        store
            .claim_due(&claim("two", 7_000), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn a_signal_during_an_advance_keeps_the_execution_due(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
    store
        .push_signal(&signal(&execution, "{}"), 2_500)
        .await
        .unwrap();
    // The advance commits without having seen the signal and waits for nothing...
    assert_eq!(
        store.commit(&commit_of(&held, "one", 3_000)).await.unwrap(),
        CommitOutcome::CommittedWithSignals
    );
    // ...yet the execution stays due, so the signal is not slept through.
    assert_eq!(
        store.next_wakeups().await.unwrap().execution_due,
        Some(3_000)
    );
}

pub async fn a_signal_for_a_leased_execution_waits_for_the_lease(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let lease = claim("one", 2_000);
    claimed(store, &execution.identity.id, &lease).await;
    store
        .push_signal(&signal(&execution, "{}"), 2_500)
        .await
        .unwrap();
    // Due now, it could not be claimed: it is due when the lease runs out.
    assert_eq!(
        store.next_wakeups().await.unwrap().execution_due,
        Some(lease.lease_until)
    );
    assert_eq!(store.due_count(2_500).await.unwrap(), 0);
    assert!(
        store
            .claim_due(&claim("two", 2_500), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Signals for executions that do not run are dropped.
    let ended = started_run(store, &fl, "ended", 1_000).await;
    store
        .force_end(&forced_end(&ended, ExecutionStatus::Stopped, 1_500))
        .await
        .unwrap();
    store
        .push_signal(&signal(&ended, "{}"), 2_500)
        .await
        .unwrap();
    assert!(
        store
            .pending_signals(&ended.identity.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn releasing_gives_the_lease_back(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
    // A release under an older epoch changes nothing.
    store
        .release(&execution.identity.id, held.lease_epoch - 1, Some(3_000))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_execution(&execution.identity.id, &claim("two", 3_000))
            .await
            .unwrap(),
        ClaimAttempt::Busy
    );
    store
        .release(&execution.identity.id, held.lease_epoch, Some(3_000))
        .await
        .unwrap();
    assert_eq!(store.due_count(3_000).await.unwrap(), 1);
    let again = store.claim_due(&claim("two", 3_000), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    // Without a due time, it stays due when it was (at the lease's end), yet is free now.
    store
        .release(&execution.identity.id, again[0].lease_epoch, None)
        .await
        .unwrap();
    assert_eq!(
        store.next_wakeups().await.unwrap().execution_due,
        Some(13_000)
    );
    assert_eq!(store.due_count(4_000).await.unwrap(), 0);
    claimed(store, &execution.identity.id, &claim("three", 4_000)).await;
    assert_eq!(
        status_of(store, &execution.identity.id).await,
        ExecutionStatus::Running
    );
}

pub async fn heartbeats_extend_execution_and_call_leases(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim("one", 2_000)).await;
    let commit = {
        let mut commit = commit_of(&held, "one", 2_000);
        commit.writes.calls_started = vec!["2.1".into()];
        commit.writes.call_lease_until = 5_000;
        commit
    };
    store.commit(&commit).await.unwrap();
    claimed(store, &execution.identity.id, &claim("one", 2_100)).await;
    store.heartbeat("two", 90_000).await.unwrap();
    assert_eq!(
        store.next_wakeups().await.unwrap(),
        Wakeups {
            execution_due: Some(12_100),
            call_lease_expiry: Some(5_000)
        },
        "another owner's heartbeat extends nothing"
    );
    store.heartbeat("one", 40_000).await.unwrap();
    assert_eq!(
        store.next_wakeups().await.unwrap(),
        Wakeups {
            execution_due: Some(40_000),
            call_lease_expiry: Some(40_000)
        }
    );
    assert_eq!(
        store
            .claim_execution(&execution.identity.id, &claim("two", 20_000))
            .await
            .unwrap(),
        ClaimAttempt::Busy
    );
    assert_eq!(store.reap_lost_calls(6_000).await.unwrap(), 0);
    assert_eq!(store.reap_lost_calls(40_001).await.unwrap(), 1);
}

/// Starts an execution and commits an advance that makes `calls`, leased to `owner`.
async fn waiting_for_calls(
    store: &dyn Store,
    fl: &Flow,
    name: &str,
    owner: &str,
    calls: &[&str],
) -> Execution {
    let execution = started_run(store, fl, name, 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim(owner, 2_000)).await;
    let commit = {
        let mut commit = commit_of(&held, owner, 2_000);
        commit.writes.calls_started = calls.iter().map(|c| c.to_string()).collect();
        commit.writes.call_lease_until = 50_000;
        commit
    };
    assert_eq!(
        store.commit(&commit).await.unwrap(),
        CommitOutcome::Committed
    );
    execution
}

pub async fn released_calls_are_lost_at_once(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let mine = waiting_for_calls(store, &fl, "mine", "one", &["a", "b"]).await;
    let theirs = waiting_for_calls(store, &fl, "theirs", "two", &["c"]).await;
    assert_eq!(store.release_calls("one", 3_000).await.unwrap(), 2);
    let lost = store.pending_signals(&mine.identity.id).await.unwrap();
    assert_eq!(lost.len(), 2);
    assert!(lost.iter().all(|s| s.payload.contains("CallLost")));
    assert!(
        !store
            .complete_call("one", "a", &signal(&mine, "{}"), 3_500)
            .await
            .unwrap()
    );
    assert!(
        store
            .pending_signals(&theirs.identity.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.next_wakeups().await.unwrap().call_lease_expiry,
        Some(50_000)
    );
    assert_eq!(store.release_calls("one", 4_000).await.unwrap(), 0);
}

pub async fn dropped_call_leases_are_reaped(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = waiting_for_calls(store, &fl, "run", "one", &["a", "b"]).await;
    // Only the owner's leases drop.
    store
        .drop_call_leases("two", &execution.identity.id, &["a".to_string()], 3_000)
        .await
        .unwrap();
    assert_eq!(store.reap_lost_calls(3_000).await.unwrap(), 0);
    store
        .drop_call_leases("one", &execution.identity.id, &["a".to_string()], 3_000)
        .await
        .unwrap();
    assert_eq!(
        store.next_wakeups().await.unwrap().call_lease_expiry,
        Some(2_999)
    );
    assert_eq!(store.reap_lost_calls(3_000).await.unwrap(), 1);
    let lost = store.pending_signals(&execution.identity.id).await.unwrap();
    assert_eq!(lost.len(), 1);
    assert!(lost[0].payload.contains("CallLost") && lost[0].payload.contains("\"a\""));
    assert!(
        store
            .complete_call("one", "b", &signal(&execution, "{}"), 3_500)
            .await
            .unwrap()
    );
}

pub async fn wake_ups_and_the_queue_depth(store: &dyn Store) {
    assert_eq!(store.next_wakeups().await.unwrap(), Wakeups::default());
    assert_eq!(store.due_count(i64::MAX).await.unwrap(), 0);
    let fl = created_flow(store, "acct", "f").await;
    for (name, at) in [("a", 1_000), ("b", 2_000), ("c", 3_000)] {
        started_run(store, &fl, name, at).await;
    }
    assert_eq!(
        store.next_wakeups().await.unwrap().execution_due,
        Some(1_000)
    );
    assert_eq!(store.due_count(999).await.unwrap(), 0);
    assert_eq!(store.due_count(2_000).await.unwrap(), 2);
    assert_eq!(store.due_count(3_000).await.unwrap(), 3);
    // A start leased to its replica is not due until the lease runs out.
    let lease = claim("one", 3_000);
    let leased = started(
        store,
        &new_execution(&fl, "leased", 3_000, Some(lease.clone())),
    )
    .await;
    assert_eq!(store.due_count(3_000).await.unwrap(), 3);
    assert_eq!(
        store
            .claim_execution(&leased.identity.id, &claim("two", 4_000))
            .await
            .unwrap(),
        ClaimAttempt::Busy
    );
    assert_eq!(store.due_count(lease.lease_until + 1).await.unwrap(), 4);
    // A claim takes it off the queue.
    assert_eq!(
        store
            .claim_due(&claim("two", 3_000), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.due_count(3_000).await.unwrap(), 2);
}
