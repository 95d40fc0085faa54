//! The work queue (claims, fenced commits, signals, task-call leases) and the gateway's
//! shared state (nonces, throttle buckets, server keys), on any `SqlBackend`.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use super::backend::{QueryResultExt, SqlBackend};
use super::batch_rows::BatchRows;
use super::sql::{MAKE_DUE, claim_columns};
use super::{
    BatchStore, Claim, ClaimAttempt, ClaimedExecution, CommitOutcome, ExecutionCommit,
    GatewayStore, NamedRead, OutgoingSignal, Signal, StoreError, StoreResult, StoredNonce,
    UsedNonce, Wakeups, WorkStore, WriteOp, WriteResult,
};

/// Selects an execution as a claim returns it, with what a report finds it at `$now` in
/// `quiet`: 1 when it is quiet (running, not leased by a live owner, not due, no task call in
/// flight), 0 when busy, -1 when it is not running. One read tells a report all of it.
macro_rules! unleased_read {
    ($now:literal) => {
        concat!(
            "SELECT ",
            claim_columns!(),
            ", CASE WHEN status <> 'Running' THEN CAST(-1 AS BIGINT) \
               WHEN (lease_owner IS NULL OR lease_until < ",
            $now,
            ") AND (due_at IS NULL OR due_at > ",
            $now,
            ") AND NOT EXISTS (SELECT 1 FROM task_calls WHERE task_calls.execution_id = executions.id) \
               THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS quiet FROM executions "
        )
    };
}

const READ_UNLEASED: &str = concat!(unleased_read!("$2"), "WHERE id = $1");

/// The same, of the execution `$3` of the flow that now bears the name `$2` in account `$1`.
const READ_UNLEASED_NAMED: &str = concat!(
    unleased_read!("$4"),
    "WHERE flow_id = (SELECT id FROM flows WHERE account_id = $1 AND name = $2) AND name = $3"
);

#[derive(sqlx::FromRow)]
pub(super) struct UnleasedRead {
    #[sqlx(flatten)]
    read: ClaimedExecution,
    quiet: i64,
}

impl UnleasedRead {
    fn attempt(self) -> ClaimAttempt {
        match self.quiet {
            1 => ClaimAttempt::Claimed(Box::new(self.read)),
            0 => ClaimAttempt::Busy,
            _ => ClaimAttempt::NotRunning,
        }
    }
}

const CLAIM_ONE: &str = concat!(
    "UPDATE executions SET lease_owner = $1, lease_until = $2, due_at = $2, \
     lease_epoch = lease_epoch + 1 \
     WHERE id = $3 AND status = 'Running' AND (lease_owner IS NULL OR lease_until < $4) \
     RETURNING ",
    claim_columns!()
);

#[async_trait]
impl<B> WorkStore for B
where
    B: BatchRows + BatchStore,
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
    ClaimedExecution: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    UnleasedRead: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    Signal: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String, String): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (Option<i64>, Option<i64>): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (i64,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn claim_due(&self, claim: &Claim, limit: i64) -> StoreResult<Vec<ClaimedExecution>> {
        SqlBackend::claim_due(self, claim, limit).await
    }

    async fn claim_execution(
        &self,
        execution_id: &str,
        claim: &Claim,
    ) -> StoreResult<ClaimAttempt> {
        let claimed = sqlx::query_as::<B::Db, ClaimedExecution>(CLAIM_ONE)
            .bind(&claim.owner)
            .bind(claim.lease_until)
            .bind(execution_id)
            .bind(claim.now)
            .fetch_optional(self.write_pool())
            .await?;
        match claimed {
            Some(claimed) => Ok(ClaimAttempt::Claimed(Box::new(claimed))),
            None => busy_or_ended(self, execution_id).await,
        }
    }

    async fn read_unleased(&self, execution_id: &str, now: i64) -> StoreResult<ClaimAttempt> {
        let read = sqlx::query_as::<B::Db, UnleasedRead>(READ_UNLEASED)
            .bind(execution_id)
            .bind(now)
            .fetch_optional(self.write_pool())
            .await?;
        Ok(read.map_or(ClaimAttempt::NotRunning, UnleasedRead::attempt))
    }

    async fn read_unleased_named(
        &self,
        account_id: &str,
        flow_name: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<Option<NamedRead>> {
        let read = sqlx::query_as::<B::Db, UnleasedRead>(READ_UNLEASED_NAMED)
            .bind(account_id)
            .bind(flow_name)
            .bind(name)
            .bind(now)
            .fetch_optional(self.write_pool())
            .await?;
        Ok(read.map(|read| NamedRead {
            identity: read.read.identity.clone(),
            attempt: read.attempt(),
        }))
    }

    async fn pending_signals(&self, execution_id: &str) -> StoreResult<Vec<Signal>> {
        Ok(sqlx::query_as::<B::Db, Signal>(
            "SELECT id, payload FROM execution_signals WHERE execution_id = $1 ORDER BY id",
        )
        .bind(execution_id)
        .fetch_all(self.write_pool())
        .await?)
    }

    async fn commit(&self, commit: &ExecutionCommit) -> StoreResult<CommitOutcome> {
        let op = WriteOp::Commit(Box::new(commit.clone()));
        match self.write_batch(std::slice::from_ref(&op)).await?.pop() {
            Some(WriteResult::Committed(outcome)) => Ok(outcome),
            other => Err(StoreError::internal(format!(
                "unexpected write result {other:?}"
            ))),
        }
    }

    async fn release(
        &self,
        execution_id: &str,
        epoch: i64,
        due_at: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE executions SET lease_owner = NULL, lease_until = NULL, \
             due_at = CASE WHEN CAST($1 AS BIGINT) IS NULL THEN due_at \
                           WHEN due_at IS NULL OR due_at > $1 THEN $1 ELSE due_at END \
             WHERE id = $2 AND lease_epoch = $3",
        )
        .bind(due_at)
        .bind(execution_id)
        .bind(epoch)
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    async fn push_signal(&self, signal: &OutgoingSignal, now: i64) -> StoreResult<()> {
        let mut tx = self.write_pool().begin().await?;
        insert_signals(&mut tx, std::slice::from_ref(signal), now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn complete_call(
        &self,
        owner: &str,
        call_key: &str,
        signal: &OutgoingSignal,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.write_pool().begin().await?;
        // Lock order: the execution row first, then its calls, as commits do; the
        // other order deadlocks against a commit on Postgres.
        sqlx::query("UPDATE executions SET due_at = due_at WHERE id = $1")
            .bind(&signal.execution_id)
            .execute(&mut *tx)
            .await?;
        let ours = sqlx::query(
            "DELETE FROM task_calls WHERE execution_id = $1 AND call_key = $2 AND owner = $3",
        )
        .bind(&signal.execution_id)
        .bind(call_key)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if ours.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_signals(&mut tx, std::slice::from_ref(signal), now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn heartbeat(&self, owner: &str, lease_until: i64) -> StoreResult<()> {
        // A leased execution is due again when its lease runs out (claims set both).
        sqlx::query("UPDATE executions SET lease_until = $1, due_at = $1 WHERE lease_owner = $2")
            .bind(lease_until)
            .bind(owner)
            .execute(self.write_pool())
            .await?;
        sqlx::query("UPDATE task_calls SET lease_until = $1 WHERE owner = $2")
            .bind(lease_until)
            .bind(owner)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    async fn release_calls(&self, owner: &str, now: i64) -> StoreResult<u64> {
        // Expiring the calls' leases now lets the reaper turn them into signals in the
        // usual lock order.
        sqlx::query("UPDATE task_calls SET lease_until = $1 WHERE owner = $2")
            .bind(now - 1)
            .bind(owner)
            .execute(self.write_pool())
            .await?;
        self.reap_lost_calls(now).await
    }

    async fn drop_call_leases(
        &self,
        owner: &str,
        execution_id: &str,
        call_keys: &[String],
        now: i64,
    ) -> StoreResult<()> {
        for call_key in call_keys {
            sqlx::query(
                "UPDATE task_calls SET lease_until = $1 \
                 WHERE owner = $2 AND execution_id = $3 AND call_key = $4",
            )
            .bind(now - 1)
            .bind(owner)
            .bind(execution_id)
            .bind(call_key)
            .execute(self.write_pool())
            .await?;
        }
        Ok(())
    }

    async fn reap_lost_calls(&self, now: i64) -> StoreResult<u64> {
        let mut tx = self.write_pool().begin().await?;
        // Lock order: execution rows (by id) before their calls, as every other writer.
        let owners: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT execution_id FROM task_calls WHERE lease_until < $1 ORDER BY execution_id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        if owners.is_empty() {
            return Ok(0);
        }
        for execution_id in &owners {
            sqlx::query("UPDATE executions SET due_at = due_at WHERE id = $1")
                .bind(execution_id)
                .execute(&mut *tx)
                .await?;
        }
        let lost: Vec<(String, String)> = sqlx::query_as(
            "DELETE FROM task_calls WHERE lease_until < $1 RETURNING execution_id, call_key",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let signals: Vec<OutgoingSignal> = lost
            .iter()
            .map(|(execution_id, call_key)| OutgoingSignal {
                execution_id: execution_id.clone(),
                payload: serde_json::json!({"CallLost": {"call_key": call_key}}).to_string(),
            })
            .collect();
        insert_signals(&mut tx, &signals, now).await?;
        tx.commit().await?;
        Ok(lost.len() as u64)
    }

    async fn due_count(&self, now: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM executions WHERE due_at <= $1 AND status = 'Running' \
             AND (lease_owner IS NULL OR lease_until < $1)",
        )
        .bind(now)
        .fetch_one(self.read_pool())
        .await?)
    }

    async fn next_wakeups(&self) -> StoreResult<Wakeups> {
        // A leased execution is due when its lease runs out (claims, heartbeats and
        // signals keep `due_at` at or after `lease_until`), so the earliest `due_at`
        // is also the earliest time something can be claimed.
        let (execution_due, call_lease_expiry): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT MIN(due_at) FROM executions WHERE due_at IS NOT NULL \
             AND status = 'Running'), (SELECT MIN(lease_until) FROM task_calls)",
        )
        .fetch_one(self.read_pool())
        .await?;
        Ok(Wakeups {
            execution_due,
            call_lease_expiry,
        })
    }
}

#[async_trait]
impl<B> GatewayStore for B
where
    B: SqlBackend + BatchStore,
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
    StoredNonce: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn record_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<bool> {
        let op = WriteOp::Nonce(UsedNonce {
            access_key_id: access_key_id.to_string(),
            nonce: nonce.to_string(),
            now,
            expires_at,
        });
        match self.write_batch(std::slice::from_ref(&op)).await?.pop() {
            Some(WriteResult::Nonce(new)) => Ok(new),
            other => Err(StoreError::internal(format!(
                "unexpected write result {other:?}"
            ))),
        }
    }

    async fn take_token(
        &self,
        access_key_id: &str,
        now: i64,
        rate: f64,
        burst: f64,
    ) -> StoreResult<bool> {
        let mut tx = self.write_pool().begin().await?;
        sqlx::query(
            "INSERT INTO throttle_buckets (access_key_id, tokens, refilled_at) VALUES ($1, $2, $3) \
             ON CONFLICT (access_key_id) DO NOTHING",
        )
        .bind(access_key_id)
        .bind(burst)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // Refill for the time passed (capped at the burst), then take one if there is one.
        let taken = sqlx::query(
            "UPDATE throttle_buckets SET tokens = (CASE \
               WHEN tokens + CAST($2 - refilled_at AS DOUBLE PRECISION) * $3 / 1000.0 > $4 THEN $4 \
               ELSE tokens + CAST($2 - refilled_at AS DOUBLE PRECISION) * $3 / 1000.0 END) - 1, \
             refilled_at = $2 \
             WHERE access_key_id = $1 AND (CASE \
               WHEN tokens + CAST($2 - refilled_at AS DOUBLE PRECISION) * $3 / 1000.0 > $4 THEN $4 \
               ELSE tokens + CAST($2 - refilled_at AS DOUBLE PRECISION) * $3 / 1000.0 END) >= 1",
        )
        .bind(access_key_id)
        .bind(now)
        .bind(rate)
        .bind(burst)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(taken.rows_affected() == 1)
    }

    async fn prune_nonces(&self, now: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM nonces WHERE expires_at < $1")
            .bind(now)
            .execute(self.write_pool())
            .await?
            .rows_affected())
    }

    async fn live_nonces(&self, now: i64, limit: i64) -> StoreResult<Vec<StoredNonce>> {
        let mut live = sqlx::query_as::<B::Db, StoredNonce>(
            "SELECT access_key_id, nonce, expires_at FROM nonces WHERE expires_at >= $1 \
             ORDER BY expires_at DESC LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.read_pool())
        .await?;
        live.reverse();
        Ok(live)
    }

    async fn server_key(&self, name: &str, candidate: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .execute(self.write_pool())
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
                .bind(name)
                .fetch_one(self.write_pool())
                .await?,
        )
    }
}

/// Queues signals and makes their executions due now (if they still run).
pub(super) async fn insert_signals<Db>(
    tx: &mut Transaction<'static, Db>,
    signals: &[OutgoingSignal],
    now: i64,
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
    for signal in signals {
        sqlx::query(
            "INSERT INTO execution_signals (execution_id, payload, created_at) SELECT $1, $2, $3 \
             WHERE EXISTS (SELECT 1 FROM executions WHERE id = $1 AND status = 'Running')",
        )
        .bind(&signal.execution_id)
        .bind(&signal.payload)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        sqlx::query(MAKE_DUE)
            .bind(now)
            .bind(&signal.execution_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// What keeps an execution from being claimed: a live lease (`Busy`), or its end.
async fn busy_or_ended<B>(store: &B, execution_id: &str) -> StoreResult<ClaimAttempt>
where
    B: SqlBackend,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'t> &'t str: Encode<'t, B::Db> + Type<B::Db>,
    (String,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    let status: Option<(String,)> = sqlx::query_as("SELECT status FROM executions WHERE id = $1")
        .bind(execution_id)
        .fetch_optional(store.read_pool())
        .await?;
    Ok(match status.as_ref().map(|(status,)| status.as_str()) {
        Some("Running") => ClaimAttempt::Busy,
        _ => ClaimAttempt::NotRunning,
    })
}
