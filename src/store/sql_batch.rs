//! Group commit: many starts, advance commits and nonces written in one transaction with
//! multi-row statements, so the cost of a commit (a disk flush) and of a statement round trip
//! is shared. Written once for any `BatchRows` backend, which supplies the multi-row
//! statements.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use super::account_limits::COUNT_RUNNING;
use super::batch_rows::{BatchRows, NonceRow};
use super::sql::{ExecutionRow, MAKE_DUE, execution_columns};
use super::{
    BatchStore, CommitOutcome, Execution, ExecutionCommit, ExecutionStatus, HistoryEvent,
    MapRunWrite, NewExecution, OutgoingSignal, StartOutcome, StoreResult, WriteOp, WriteResult,
};

const SELECT_BY_NAME: &str = concat!(
    "SELECT ",
    execution_columns!(),
    " FROM executions WHERE flow_id = $1 AND name = $2"
);

#[async_trait]
impl<B> BatchStore for B
where
    B: BatchRows,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'t> &'t str: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> String: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<&'t str>: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<String>: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> i64: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<i64>: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> f64: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<f64>: Encode<'t, B::Db> + Type<B::Db>,
    ExecutionRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (i64,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String, i64): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn write_batch(&self, ops: &[WriteOp]) -> StoreResult<Vec<WriteResult>> {
        let mut results: Vec<Option<WriteResult>> = vec![None; ops.len()];
        let mut tx = self.write_pool().begin().await?;
        let mut events: Vec<(&str, &HistoryEvent)> = Vec::new();
        let mut calls: Vec<(&str, &str, &str, i64)> = Vec::new();
        let mut signals: Vec<&OutgoingSignal> = Vec::new();
        let mut children: Vec<&NewExecution> = Vec::new();
        let mut map_runs: Vec<&MapRunWrite> = Vec::new();
        let now = ops.iter().map(op_time).max().unwrap_or_default();

        let replayed = record_nonces::<B>(&mut tx, ops, now).await?;
        let flows = read_flows::<B>(&mut tx, ops).await?;
        for (index, op) in ops.iter().enumerate() {
            match op {
                WriteOp::Nonce(_) => {
                    results[index] = Some(WriteResult::Nonce(!replayed.contains(&index)));
                }
                WriteOp::NonceReadingFlow {
                    account_id,
                    flow_name,
                    ..
                } => {
                    let key = (account_id.as_str(), flow_name.as_str());
                    results[index] = Some(WriteResult::NonceReadingFlow {
                        new: !replayed.contains(&index),
                        flow: flows.get(&key).cloned().flatten(),
                    });
                }
                WriteOp::Start(_) | WriteOp::Commit(_) => {}
            }
        }

        // Starts: one insert; names already taken are looked up afterwards.
        let mut starts: Vec<(usize, &NewExecution)> = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            if let WriteOp::Start(new) = op {
                if replayed.contains(&index) {
                    results[index] = Some(WriteResult::Started(Box::new(StartOutcome::NonceUsed)));
                } else {
                    starts.push((index, new));
                }
            }
        }
        let new_rows: Vec<&NewExecution> = starts.iter().map(|(_, new)| *new).collect();
        // Only a start that leaves its execution running takes a place under the limit, so only
        // such starts lock their account (a flow that ends inside its start locks nothing).
        let limited: Vec<&str> = new_rows
            .iter()
            .filter(|new| new.running_limit.is_some() && takes_a_running_place(new))
            .map(|new| new.identity.account_id.as_str())
            .collect();
        B::lock_accounts(&mut tx, &limited).await?;
        let mut inserted = B::insert_executions(&mut tx, &new_rows).await?;
        let throttled = over_limit(&mut tx, &new_rows, &inserted).await?;
        if !throttled.is_empty() {
            B::delete_executions(&mut tx, &throttled).await?;
            for id in &throttled {
                inserted.remove(*id);
            }
        }
        for (index, new) in &starts {
            if throttled.contains(&new.identity.id.as_str()) {
                results[*index] = Some(WriteResult::Started(Box::new(StartOutcome::Throttled)));
            } else if inserted.contains(&new.identity.id) {
                events.push((&new.identity.id, &new.started_event));
                if let Some(advance) = &new.advance {
                    events.extend(advance.events.iter().map(|e| (new.identity.id.as_str(), e)));
                    if advance.end.is_none() {
                        calls.extend(advance.calls_started.iter().map(|key| {
                            (
                                new.identity.id.as_str(),
                                key.as_str(),
                                advance.owner.as_str(),
                                advance.call_lease_until,
                            )
                        }));
                    }
                    signals.extend(advance.signals_out.iter());
                    children.extend(advance.children.iter());
                    map_runs.extend(advance.map_runs.iter());
                }
                results[*index] = Some(WriteResult::Started(Box::new(StartOutcome::Started(
                    started_execution(new),
                ))));
            } else if let Some(revision) = new.flow_revision
                && flow_revision(&mut tx, &new.identity.flow_id).await? != Some(revision)
            {
                results[*index] = Some(WriteResult::Started(Box::new(StartOutcome::StaleFlow)));
            } else {
                let row = sqlx::query_as::<B::Db, ExecutionRow>(SELECT_BY_NAME)
                    .bind(&new.identity.flow_id)
                    .bind(&new.identity.name)
                    .fetch_optional(&mut *tx)
                    .await?;
                // Gone: an earlier start of this batch took the name, and was refused.
                let Some(row) = row else {
                    results[*index] = Some(WriteResult::Started(Box::new(StartOutcome::Throttled)));
                    continue;
                };
                let existing = Execution::try_from(row)?;
                results[*index] = Some(WriteResult::Started(Box::new(
                    if existing.status.is_terminal() {
                        StartOutcome::AlreadyEnded(existing)
                    } else {
                        StartOutcome::Running(existing)
                    },
                )));
            }
        }

        // Commits: one fenced update; only those whose lease held write the rest. A commit
        // whose request's nonce was used already writes nothing.
        let mut commits: Vec<(usize, &ExecutionCommit)> = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            if let WriteOp::Commit(commit) = op {
                if replayed.contains(&index) {
                    results[index] = Some(WriteResult::Committed(CommitOutcome::NonceUsed));
                } else {
                    commits.push((index, commit));
                }
            }
        }
        let commit_rows: Vec<&ExecutionCommit> = commits.iter().map(|(_, c)| *c).collect();
        let stored = update_commits_once_each::<B>(&mut tx, &commit_rows).await?;
        let mut consumed: Vec<i64> = Vec::new();
        let mut continuing: Vec<&str> = Vec::new();
        for (position, (index, commit)) in commits.iter().enumerate() {
            if !stored[position] {
                results[*index] = Some(WriteResult::Committed(CommitOutcome::LostLease));
                continue;
            }
            results[*index] = Some(WriteResult::Committed(CommitOutcome::Committed));
            events.extend(
                commit
                    .writes
                    .events
                    .iter()
                    .map(|e| (commit.execution_id.as_str(), e)),
            );
            consumed.extend(&commit.consumed_signals);
            signals.extend(commit.writes.signals_out.iter());
            children.extend(commit.writes.children.iter());
            map_runs.extend(commit.writes.map_runs.iter());
            if commit.writes.end.is_some() {
                sqlx::query("DELETE FROM task_calls WHERE execution_id = $1")
                    .bind(&commit.execution_id)
                    .execute(&mut *tx)
                    .await?;
                // Signals it did not apply (it failed for an unreadable one).
                sqlx::query("DELETE FROM execution_signals WHERE execution_id = $1")
                    .bind(&commit.execution_id)
                    .execute(&mut *tx)
                    .await?;
                continue;
            }
            continuing.push(&commit.execution_id);
            for call_key in &commit.calls_abandoned {
                sqlx::query("DELETE FROM task_calls WHERE execution_id = $1 AND call_key = $2")
                    .bind(&commit.execution_id)
                    .bind(call_key)
                    .execute(&mut *tx)
                    .await?;
            }
            calls.extend(commit.writes.calls_started.iter().map(|key| {
                (
                    commit.execution_id.as_str(),
                    key.as_str(),
                    commit.writes.owner.as_str(),
                    commit.writes.call_lease_until,
                )
            }));
        }
        B::delete_signals(&mut tx, &consumed).await?;
        // A signal queued while an advance ran must not be slept through: the
        // execution stays due, and its committer hears so to advance it again.
        for id in B::with_signals(&mut tx, &continuing).await? {
            sqlx::query("UPDATE executions SET due_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            for (position, (index, commit)) in commits.iter().enumerate() {
                if stored[position] && commit.execution_id == id {
                    results[*index] =
                        Some(WriteResult::Committed(CommitOutcome::CommittedWithSignals));
                }
            }
        }

        // Distributed Map children, created with the advance that starts them.
        let created = B::insert_executions(&mut tx, &children).await?;
        for child in &children {
            if created.contains(&child.identity.id) {
                events.push((&child.identity.id, &child.started_event));
            }
        }
        for change in map_runs {
            write_map_run(&mut tx, change).await?;
        }

        B::insert_events(&mut tx, &events).await?;
        B::insert_calls(&mut tx, &calls).await?;
        for signal in signals {
            sqlx::query(
                "INSERT INTO execution_signals (execution_id, payload, created_at) SELECT $1, $2, $3 \
         WHERE EXISTS (SELECT 1 FROM executions WHERE id = $1 AND status = 'Running')",
            )
            .bind(&signal.execution_id)
            .bind(&signal.payload)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(MAKE_DUE)
                .bind(now)
                .bind(&signal.execution_id)
                .execute(&mut *tx)
                .await?;
        }
        // Ends are announced by the transaction that writes them.
        let mut ended: Vec<&str> = starts
            .iter()
            .filter(|(_, new)| {
                inserted.contains(&new.identity.id)
                    && new.advance.as_ref().is_some_and(|a| a.end.is_some())
            })
            .map(|(_, new)| new.identity.id.as_str())
            .collect();
        ended.extend(
            commits
                .iter()
                .zip(&stored)
                .filter(|((_, c), stored)| **stored && c.writes.end.is_some())
                .map(|((_, c), _)| c.execution_id.as_str()),
        );
        self.announce_ended(&mut tx, &ended).await?;
        tx.commit().await?;
        Ok(results
            .into_iter()
            .map(|result| result.expect("every write has a result"))
            .collect())
    }
}

/// The flow's revision as this transaction sees it; `None` if it was deleted. Asked only of
/// guarded starts that did not insert, to tell a stale flow from a name already taken.
async fn flow_revision<Db>(
    tx: &mut Transaction<'static, Db>,
    flow_id: &str,
) -> StoreResult<Option<i64>>
where
    Db: Database,
    <Db as Database>::Arguments: IntoArguments<Db>,
    for<'c> &'c mut <Db as Database>::Connection: Executor<'c, Database = Db>,
    for<'t> &'t str: Encode<'t, Db> + Type<Db>,
    (i64,): for<'r> FromRow<'r, <Db as Database>::Row>,
{
    let row: Option<(i64,)> = sqlx::query_as("SELECT revision FROM flows WHERE id = $1")
        .bind(flow_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|(revision,)| revision))
}

/// Whether a start counts under its account's running-executions limit: it is not the child
/// of a distributed Map, and it does not end inside its start.
fn takes_a_running_place(new: &NewExecution) -> bool {
    new.map_child.is_none()
        && new
            .advance
            .as_ref()
            .is_none_or(|advance| advance.end.is_none())
}

/// The new executions past their account's running-executions limit, to be
/// refused: each account's latest starts in the batch, so earlier callers win.
/// Counted after the insert (with the account locked), so starts that did not
/// insert (a name already taken) or that ended at once take no place.
async fn over_limit<'a, Db>(
    tx: &mut Transaction<'static, Db>,
    news: &[&'a NewExecution],
    inserted: &HashSet<String>,
) -> StoreResult<Vec<&'a str>>
where
    Db: Database,
    <Db as Database>::Arguments: IntoArguments<Db>,
    for<'c> &'c mut <Db as Database>::Connection: Executor<'c, Database = Db>,
    for<'t> &'t str: Encode<'t, Db> + Type<Db>,
    for<'t> String: Encode<'t, Db> + Type<Db>,
    for<'t> Option<&'t str>: Encode<'t, Db> + Type<Db>,
    for<'t> Option<String>: Encode<'t, Db> + Type<Db>,
    for<'t> i64: Encode<'t, Db> + Type<Db>,
    for<'t> Option<i64>: Encode<'t, Db> + Type<Db>,
    for<'t> f64: Encode<'t, Db> + Type<Db>,
    for<'t> Option<f64>: Encode<'t, Db> + Type<Db>,
    (i64,): for<'r> FromRow<'r, <Db as Database>::Row>,
{
    let mut refused = Vec::new();
    let mut accounts: Vec<&str> = news
        .iter()
        .filter(|new| new.running_limit.is_some())
        .map(|new| new.identity.account_id.as_str())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    for account in accounts {
        let running_new: Vec<&NewExecution> = news
            .iter()
            .copied()
            .filter(|new| {
                new.identity.account_id == account
                    && inserted.contains(&new.identity.id)
                    && takes_a_running_place(new)
            })
            .collect();
        let Some(limit) = running_new.iter().filter_map(|new| new.running_limit).min() else {
            continue;
        };
        let counted = limit.saturating_add(running_new.len() as i64);
        let running: i64 = sqlx::query_scalar(COUNT_RUNNING)
            .bind(account)
            .bind(counted)
            .fetch_one(&mut **tx)
            .await?;
        let over = usize::try_from(running.saturating_sub(limit)).unwrap_or(0);
        refused.extend(
            running_new
                .iter()
                .rev()
                .take(over)
                .map(|new| new.identity.id.as_str()),
        );
    }
    Ok(refused)
}

async fn write_map_run<Db>(
    tx: &mut Transaction<'static, Db>,
    change: &MapRunWrite,
) -> StoreResult<()>
where
    Db: Database,
    <Db as Database>::Arguments: IntoArguments<Db>,
    for<'c> &'c mut <Db as Database>::Connection: Executor<'c, Database = Db>,
    for<'t> &'t str: Encode<'t, Db> + Type<Db>,
    for<'t> String: Encode<'t, Db> + Type<Db>,
    for<'t> Option<&'t str>: Encode<'t, Db> + Type<Db>,
    for<'t> Option<String>: Encode<'t, Db> + Type<Db>,
    for<'t> i64: Encode<'t, Db> + Type<Db>,
    for<'t> Option<i64>: Encode<'t, Db> + Type<Db>,
    for<'t> f64: Encode<'t, Db> + Type<Db>,
    for<'t> Option<f64>: Encode<'t, Db> + Type<Db>,
{
    match change {
        MapRunWrite::Started {
            name,
            execution_id,
            state_name,
            total,
            concurrency,
            tolerated_count,
            tolerated_percentage,
            started_at,
        } => {
            sqlx::query(
                "INSERT INTO map_runs (name, execution_id, state_name, status, concurrency, \
                 tolerated_count, tolerated_percentage, total, started_at) \
                 VALUES ($1, $2, $3, 'Running', $4, $5, $6, $7, $8)",
            )
            .bind(name)
            .bind(execution_id)
            .bind(state_name)
            .bind(concurrency)
            .bind(tolerated_count)
            .bind(tolerated_percentage)
            .bind(total)
            .bind(started_at)
            .execute(&mut **tx)
            .await?;
        }
        MapRunWrite::Ended {
            name,
            status,
            stopped_at,
        } => {
            sqlx::query(
                "UPDATE map_runs SET status = $1, stopped_at = $2 WHERE name = $3 AND status = 'Running'",
            )
            .bind(status)
            .bind(stopped_at)
            .bind(name)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Applies the fenced update of each commit; true for those whose fence held. Two commits of
/// one execution can meet in a batch (a report's advance from an unleased read, and the
/// claimed advance that overtook it): one `UPDATE … FROM` joining both would update the row
/// once yet return its id for both, so an execution is updated once per statement, in rounds.
async fn update_commits_once_each<B: BatchRows>(
    tx: &mut Transaction<'static, B::Db>,
    commits: &[&ExecutionCommit],
) -> StoreResult<Vec<bool>> {
    let mut stored = vec![false; commits.len()];
    let mut pending: Vec<usize> = (0..commits.len()).collect();
    while !pending.is_empty() {
        let mut in_round = HashSet::new();
        let (round, later): (Vec<usize>, Vec<usize>) = pending
            .into_iter()
            .partition(|&position| in_round.insert(commits[position].execution_id.as_str()));
        let rows: Vec<&ExecutionCommit> = round.iter().map(|&position| commits[position]).collect();
        let updated = B::update_commits(tx, &rows).await?;
        for position in round {
            stored[position] = updated.contains(&commits[position].execution_id);
        }
        pending = later;
    }
    Ok(stored)
}

/// Records the nonces of the batch, those written alone and those guarding a start or a
/// report's commit, in one upsert; returns the indexes of the ops whose nonce was used
/// already (a pair twice in the batch is a replay the second time).
async fn record_nonces<B: BatchRows>(
    tx: &mut Transaction<'static, B::Db>,
    ops: &[WriteOp],
    now: i64,
) -> StoreResult<HashSet<usize>> {
    let nonces = ops.iter().enumerate().filter_map(|(index, op)| match op {
        WriteOp::Nonce(used) | WriteOp::NonceReadingFlow { nonce: used, .. } => Some((index, used)),
        WriteOp::Start(new) => new.nonce.as_ref().map(|used| (index, used)),
        WriteOp::Commit(commit) => commit.nonce.as_ref().map(|used| (index, used)),
    });
    let mut seen = HashSet::new();
    let mut nonce_rows = Vec::new();
    let mut replayed = HashSet::new();
    for (index, used) in nonces {
        let pair = (used.access_key_id.as_str(), used.nonce.as_str());
        if seen.insert(pair) {
            nonce_rows.push((index, pair, used.expires_at));
        } else {
            replayed.insert(index);
        }
    }
    // In one order, so that two batches holding the same pairs (a replay sent to two
    // replicas) wait for each other instead of deadlocking.
    nonce_rows.sort_unstable_by_key(|(_, pair, _)| *pair);
    let rows: Vec<NonceRow> = nonce_rows
        .iter()
        .map(|(_, (key, nonce), expires_at)| (*key, *nonce, *expires_at))
        .collect();
    let fresh = B::upsert_nonces(tx, &rows, now).await?;
    for (index, (key, nonce), _) in &nonce_rows {
        if !fresh.contains(&(key.to_string(), nonce.to_string())) {
            replayed.insert(*index);
        }
    }
    Ok(replayed)
}

/// The (id, revision) of each flow a `NonceReadingFlow` of the batch names, read once per
/// flow however many calls ask (a burst of calls runs the same few flows).
async fn read_flows<'o, B: BatchRows>(
    tx: &mut Transaction<'static, B::Db>,
    ops: &'o [WriteOp],
) -> StoreResult<HashMap<(&'o str, &'o str), Option<(String, i64)>>>
where
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'t> &'t str: Encode<'t, B::Db> + Type<B::Db>,
    (String, i64): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    let mut flows = HashMap::new();
    for op in ops {
        let WriteOp::NonceReadingFlow {
            account_id,
            flow_name,
            ..
        } = op
        else {
            continue;
        };
        let key = (account_id.as_str(), flow_name.as_str());
        if flows.contains_key(&key) {
            continue;
        }
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT id, revision FROM flows WHERE account_id = $1 AND name = $2")
                .bind(key.0)
                .bind(key.1)
                .fetch_optional(&mut **tx)
                .await?;
        flows.insert(key, row);
    }
    Ok(flows)
}

fn op_time(op: &WriteOp) -> i64 {
    match op {
        WriteOp::Start(new) => new.started_at,
        WriteOp::Commit(commit) => commit.now,
        WriteOp::Nonce(used) | WriteOp::NonceReadingFlow { nonce: used, .. } => used.now,
    }
}

/// The execution as it was when it started: StartExecution answers with that
/// (docs/COMPATIBILITY.md#executions: `Running`), even when its first advance already ended it.
fn started_execution(new: &NewExecution) -> Execution {
    Execution {
        identity: new.identity.clone(),
        status: ExecutionStatus::Running,
        input: new.input.clone(),
        output: String::new(),
        error: None,
        cause: None,
        definition: new.definition.clone(),
        role_arn: new.role_arn.clone(),
        environment: new.environment.clone(),
        qualifier: new.qualifier.clone(),
        flow_version: new.flow_version.clone(),
        callback_token: new.callback_token.clone(),
        started_at: new.started_at,
        stopped_at: None,
        map_child: new.map_child.clone(),
    }
}
