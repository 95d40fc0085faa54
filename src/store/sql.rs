//! The queries both backends share. Times are BIGINT milliseconds and JSON is TEXT, and SQLite
//! binds `$N` placeholders by number, so one SQL text serves Postgres and SQLite alike: the
//! flow and execution stores below (and the other `sql_*` modules) are written once, for any
//! `SqlBackend`, which supplies the pools and the backend-only parts.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::account_limits::COUNT_FLOWS;
use super::backend::{QueryResultExt, SqlBackend};
use super::batch_rows::BatchRows;
use super::history_chunks;
use super::name_globs::push_name_filter;
use super::sql_work::insert_signals;
use super::{
    BatchStore, CreateFlowOutcome, Execution, ExecutionQuery, ExecutionStore, Flow, FlowQuery,
    FlowStore, ForcedEnd, HistoryEvent, NewExecution, StartOutcome, StoppedByDeletion, StoreError,
    StoreResult, WriteOp, WriteResult,
};

/// Columns of `executions` read into an `ExecutionRow` (a macro so `concat!` can use it).
macro_rules! execution_columns {
    () => {
        "id, account_id, flow_id, flow_name, name, status, input, output, error, cause, definition, \
         role_arn, environment, qualifier, flow_version, callback_token, started_at, stopped_at, \
         parent_id, map_run, map_index"
    };
}

/// Columns of `executions` read into a `ClaimedExecution`.
macro_rules! claim_columns {
    () => {
        "id, account_id, flow_id, flow_name, name, input, definition, role_arn, environment, \
         callback_token, started_at, state, next_event_id, lease_epoch, parent_id, map_run, map_index"
    };
}

pub(super) use {claim_columns, execution_columns};

/// Makes a running execution (`$2`) due at `$1` for a signal queued for it — or, while a live
/// owner holds its lease, due when the lease runs out: due now, it could not be claimed, and
/// the pool would look for it in a loop. The owner's commit sees the signal and keeps it due.
///
/// The row is written either way (unless already due), so that on Postgres a commit of the
/// execution running concurrently and this statement take its lock in turn: either the commit
/// comes first and this sees the lease gone (due now), or this comes first and the commit
/// sees the signal. Skipping the leased row would let both miss it.
pub(super) const MAKE_DUE: &str = "UPDATE executions SET due_at = CASE \
     WHEN lease_owner IS NOT NULL AND lease_until > $1 THEN lease_until ELSE $1 END \
     WHERE id = $2 AND status = 'Running' AND (due_at IS NULL OR due_at > $1)";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ExecutionRow {
    #[sqlx(flatten)]
    pub identity: super::ExecutionIdentity,
    pub status: String,
    pub input: String,
    pub output: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub definition: String,
    pub role_arn: Option<String>,
    pub environment: Option<String>,
    pub qualifier: Option<String>,
    pub flow_version: Option<String>,
    pub callback_token: Option<String>,
    pub started_at: i64,
    pub stopped_at: Option<i64>,
    pub parent_id: Option<String>,
    pub map_run: Option<String>,
    pub map_index: Option<i64>,
}

impl TryFrom<ExecutionRow> for super::Execution {
    type Error = super::StoreError;
    fn try_from(row: ExecutionRow) -> Result<Self, Self::Error> {
        Ok(super::Execution {
            status: row.status.parse().map_err(super::StoreError::internal)?,
            identity: row.identity,
            input: row.input,
            output: row.output,
            error: row.error,
            cause: row.cause,
            definition: row.definition,
            role_arn: row.role_arn,
            environment: row.environment,
            qualifier: row.qualifier,
            flow_version: row.flow_version,
            callback_token: row.callback_token,
            started_at: row.started_at,
            stopped_at: row.stopped_at,
            map_child: match (row.parent_id, row.map_run, row.map_index) {
                (Some(parent_id), Some(map_run), Some(index)) => Some(super::MapChild {
                    parent_id,
                    map_run,
                    index,
                }),
                _ => None,
            },
        })
    }
}

pub(super) fn to_executions(
    rows: Vec<ExecutionRow>,
) -> Result<Vec<super::Execution>, super::StoreError> {
    rows.into_iter().map(super::Execution::try_from).collect()
}

/// History chunks one read of a page fetches at most (a chunk holds up to 64 events).
const MAX_CHUNKS_PER_READ: i64 = 256;

/// Up to `$4` chunks of execution `$1`, in order, from the one that holds event `$2` (the last
/// one starting at or before it), and after the chunk starting at `$3` (read before).
const READ_HISTORY_CHUNKS: &str = "SELECT first_event_id, events FROM history_chunks \
     WHERE execution_id = $1 \
     AND first_event_id >= COALESCE((SELECT MAX(first_event_id) FROM history_chunks \
         WHERE execution_id = $1 AND first_event_id <= $2), 0) \
     AND first_event_id > $3 \
     ORDER BY first_event_id ASC LIMIT $4";

const SELECT_EXECUTION_BY_NAME: &str = concat!(
    "SELECT ",
    execution_columns!(),
    " FROM executions WHERE flow_id = $1 AND name = $2"
);
const SELECT_EXECUTION_BY_ID: &str = concat!(
    "SELECT ",
    execution_columns!(),
    " FROM executions WHERE id = $1"
);
const LIST_EXECUTIONS: &str = concat!(
    "SELECT ",
    execution_columns!(),
    " FROM executions WHERE flow_id = $1 \
     AND (CAST($2 AS BIGINT) IS NULL OR started_at < $2 OR (started_at = $2 AND name >= $3)) \
     AND (CAST($4 AS TEXT) IS NULL OR status = $4) \
     AND (CAST($5 AS TEXT) IS NULL OR substr(name, 1, length($5)) = $5) \
     AND (CAST($6 AS BIGINT) IS NULL OR started_at >= $6) \
     AND (CAST($7 AS BIGINT) IS NULL OR started_at <= $7) \
     AND (CAST($8 AS TEXT) IS NULL OR qualifier = $8 OR flow_version = $8) \
     AND ((CAST($10 AS TEXT) IS NULL AND map_run IS NULL) OR map_run = $10) \
     ORDER BY started_at DESC, name ASC LIMIT $9"
);

/// Stops up to `$2` running executions whose flow is gone, at `$1`, (`$filter`: of one flow
/// or of any). An execution ended by its worker meanwhile is left as it ended.
macro_rules! stop_executions_of_deleted_flows_statement {
    ($filter:literal) => {
        concat!(
            "UPDATE executions SET status = 'Stopped', stopped_at = $1, error = 'FnF.FlowDeleted', \
             cause = 'the flow was deleted', due_at = NULL, lease_owner = NULL, lease_until = NULL, \
             lease_epoch = lease_epoch + 1 \
             WHERE id IN (SELECT id FROM executions AS orphan WHERE status = 'Running' ",
            $filter,
            " AND NOT EXISTS (SELECT 1 FROM flows WHERE flows.id = orphan.flow_id) LIMIT $2) \
             AND status = 'Running' RETURNING id, account_id, name, callback_token, error, cause"
        )
    };
}

const STOP_EXECUTIONS_OF_DELETED_FLOW: &str =
    stop_executions_of_deleted_flows_statement!("AND flow_id = $3");
const STOP_EXECUTIONS_OF_DELETED_FLOWS: &str = stop_executions_of_deleted_flows_statement!("");

#[async_trait]
impl<B> FlowStore for B
where
    B: SqlBackend,
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
    Flow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    StoppedByDeletion: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (i64,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn create_flow(&self, flow: &Flow, max_flows: i64) -> StoreResult<CreateFlowOutcome> {
        let mut tx = self.write_pool().begin().await?;
        B::lock_accounts(&mut tx, &[flow.account_id.as_str()]).await?;
        let flows: i64 = sqlx::query_scalar(COUNT_FLOWS)
            .bind(&flow.account_id)
            .fetch_one(&mut *tx)
            .await?;
        if flows >= max_flows {
            return Ok(CreateFlowOutcome::LimitReached);
        }
        let done = sqlx::query(
            "INSERT INTO flows (id, account_id, name, description, definition, flow_type, role_arn, \
             execution_mode, external_storage_location, resource_group_id, environment, created_at, \
             modified_at, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (account_id, name) DO NOTHING",
        )
        .bind(&flow.id)
        .bind(&flow.account_id)
        .bind(&flow.name)
        .bind(&flow.description)
        .bind(&flow.definition)
        .bind(&flow.flow_type)
        .bind(&flow.role_arn)
        .bind(&flow.execution_mode)
        .bind(&flow.external_storage_location)
        .bind(&flow.resource_group_id)
        .bind(&flow.environment)
        .bind(flow.created_at)
        .bind(flow.modified_at)
        .bind(flow.revision)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if done.rows_affected() == 1 {
            CreateFlowOutcome::Created
        } else {
            CreateFlowOutcome::AlreadyExists
        })
    }

    async fn get_flow(&self, account_id: &str, name: &str) -> StoreResult<Option<Flow>> {
        Ok(
            sqlx::query_as::<B::Db, Flow>(
                "SELECT * FROM flows WHERE account_id = $1 AND name = $2",
            )
            .bind(account_id)
            .bind(name)
            .fetch_optional(self.read_pool())
            .await?,
        )
    }

    async fn update_flow(&self, flow: &Flow, expected_revision: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE flows SET description = $1, definition = $2, flow_type = $3, role_arn = $4, \
             environment = $5, modified_at = $6, revision = $7 \
             WHERE id = $8 AND revision = $9",
        )
        .bind(&flow.description)
        .bind(&flow.definition)
        .bind(&flow.flow_type)
        .bind(&flow.role_arn)
        .bind(&flow.environment)
        .bind(flow.modified_at)
        .bind(flow.revision)
        .bind(&flow.id)
        .bind(expected_revision)
        .execute(self.write_pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_flow(&self, account_id: &str, name: &str) -> StoreResult<bool> {
        let mut tx = self.write_pool().begin().await?;
        let flow_id: Option<String> = sqlx::query_scalar(
            "DELETE FROM flows WHERE account_id = $1 AND name = $2 RETURNING id",
        )
        .bind(account_id)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(flow_id) = flow_id else {
            return Ok(false);
        };
        // docs/COMPATIBILITY.md#flows: nothing of the old flow stays reachable (its running executions are
        // stopped in batches afterwards: there may be any number of them).
        sqlx::query("DELETE FROM flow_versions WHERE flow_id = $1")
            .bind(&flow_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM flow_aliases WHERE flow_id = $1")
            .bind(&flow_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM schedules WHERE flow_id = $1")
            .bind(&flow_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn stop_executions_of_deleted_flows(
        &self,
        flow_id: Option<&str>,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoppedByDeletion>> {
        let mut tx = self.write_pool().begin().await?;
        // Execution rows first (the UPDATE locks them), then their calls: every writer's order.
        let stopped: Vec<StoppedByDeletion> = match flow_id {
            Some(flow_id) => {
                sqlx::query_as(STOP_EXECUTIONS_OF_DELETED_FLOW)
                    .bind(now)
                    .bind(limit)
                    .bind(flow_id)
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query_as(STOP_EXECUTIONS_OF_DELETED_FLOWS)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?
            }
        };
        for execution in &stopped {
            sqlx::query("DELETE FROM task_calls WHERE execution_id = $1")
                .bind(&execution.id)
                .execute(&mut *tx)
                .await?;
        }
        let ended: Vec<&str> = stopped.iter().map(|e| e.id.as_str()).collect();
        self.announce_ended(&mut tx, &ended).await?;
        tx.commit().await?;
        Ok(stopped)
    }

    async fn list_flows(&self, query: &FlowQuery) -> StoreResult<Vec<Flow>> {
        let mut select =
            sqlx::QueryBuilder::<B::Db>::new("SELECT * FROM flows WHERE account_id = ");
        select.push_bind(query.account_id.clone());
        if let Some(from_name) = &query.from_name {
            select.push(" AND name >= ").push_bind(from_name.clone());
        }
        if let Some(group) = &query.resource_group_id {
            select
                .push(" AND resource_group_id = ")
                .push_bind(group.clone());
        }
        if let Some(patterns) = &query.name_patterns {
            push_name_filter(&mut select, "name", patterns, B::NAME_GLOBS);
        }
        select
            .push(" ORDER BY name ASC LIMIT ")
            .push_bind(query.limit);
        Ok(select
            .build_query_as::<Flow>()
            .fetch_all(self.read_pool())
            .await?)
    }

    async fn count_flows(&self, account_id: &str) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM flows WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(self.read_pool())
                .await?,
        )
    }
}

#[async_trait]
impl<B> ExecutionStore for B
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
    ExecutionRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (i64,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (i64, String): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn start_execution(&self, new: &NewExecution) -> StoreResult<StartOutcome> {
        let op = WriteOp::Start(Box::new(new.clone()));
        match self.write_batch(std::slice::from_ref(&op)).await?.pop() {
            Some(WriteResult::Started(outcome)) => Ok(*outcome),
            other => Err(StoreError::internal(format!(
                "unexpected write result {other:?}"
            ))),
        }
    }

    async fn get_execution(&self, flow_id: &str, name: &str) -> StoreResult<Option<Execution>> {
        sqlx::query_as::<B::Db, ExecutionRow>(SELECT_EXECUTION_BY_NAME)
            .bind(flow_id)
            .bind(name)
            .fetch_optional(self.read_pool())
            .await?
            .map(Execution::try_from)
            .transpose()
    }

    async fn get_execution_by_id(&self, id: &str) -> StoreResult<Option<Execution>> {
        sqlx::query_as::<B::Db, ExecutionRow>(SELECT_EXECUTION_BY_ID)
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?
            .map(Execution::try_from)
            .transpose()
    }

    async fn list_executions(&self, query: &ExecutionQuery) -> StoreResult<Vec<Execution>> {
        let (from_time, from_name) = match &query.from {
            Some((time, name)) => (Some(*time), Some(name.as_str())),
            None => (None, None),
        };
        let rows = sqlx::query_as::<B::Db, ExecutionRow>(LIST_EXECUTIONS)
            .bind(&query.flow_id)
            .bind(from_time)
            .bind(from_name)
            .bind(query.status.map(|s| s.as_str()))
            .bind(&query.name_prefix)
            .bind(query.started_from)
            .bind(query.started_to)
            .bind(&query.qualifier)
            .bind(query.limit)
            .bind(&query.map_run)
            .fetch_all(self.read_pool())
            .await?;
        to_executions(rows)
    }

    async fn list_history(
        &self,
        execution_id: &str,
        from_event_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<HistoryEvent>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        // Chunks are read a few at a time, more each round, until the page is full: a chunk
        // holds one event or 64, so neither reading `limit` chunks nor one at a time fits
        // every history.
        let mut chunks_per_read = (limit / 4 + 1).clamp(4, 64);
        let mut after = i64::MIN;
        let mut events = Vec::new();
        loop {
            let chunks: Vec<(i64, String)> = sqlx::query_as(READ_HISTORY_CHUNKS)
                .bind(execution_id)
                .bind(from_event_id)
                .bind(after)
                .bind(chunks_per_read)
                .fetch_all(self.read_pool())
                .await?;
            let wanted = limit - events.len() as i64;
            events.extend(history_chunks::unpack(
                chunks.iter().map(|(_, packed)| packed),
                from_event_id,
                wanted,
            )?);
            let page_full = events.len() as i64 >= limit;
            let all_read = (chunks.len() as i64) < chunks_per_read;
            match chunks.last() {
                Some((first_event_id, _)) if !page_full && !all_read => after = *first_event_id,
                _ => break,
            }
            chunks_per_read = (chunks_per_read * 2).min(MAX_CHUNKS_PER_READ);
        }
        Ok(events)
    }

    async fn force_end(&self, end: &ForcedEnd) -> StoreResult<Option<Execution>> {
        let mut tx = self.write_pool().begin().await?;
        let event_id: Option<i64> = sqlx::query_scalar(
            "UPDATE executions SET status = $1, error = $2, cause = $3, stopped_at = $4, \
             next_event_id = next_event_id + 1, due_at = NULL, lease_owner = NULL, \
             lease_until = NULL, lease_epoch = lease_epoch + 1 \
             WHERE id = $5 AND status IN ('Running', 'Starting') RETURNING next_event_id - 1",
        )
        .bind(end.status.as_str())
        .bind(&end.error)
        .bind(&end.cause)
        .bind(end.now)
        .bind(&end.execution_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(event_id) = event_id else {
            return Ok(None);
        };
        let event = HistoryEvent {
            event_id,
            event_type: end.event_type.clone(),
            step_name: String::new(),
            time: end.now,
            schedule_event_id: 0,
            detail: end.detail.clone(),
        };
        B::insert_events(&mut tx, &[(end.execution_id.as_str(), &event)]).await?;
        sqlx::query("DELETE FROM task_calls WHERE execution_id = $1")
            .bind(&end.execution_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM execution_signals WHERE execution_id = $1")
            .bind(&end.execution_id)
            .execute(&mut *tx)
            .await?;
        insert_signals(&mut tx, &end.signals, end.now).await?;
        let row = sqlx::query_as::<B::Db, ExecutionRow>(SELECT_EXECUTION_BY_ID)
            .bind(&end.execution_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Execution::try_from(row)?))
    }
}
