//! Map runs of distributed Maps (docs/COMPATIBILITY.md#map-runs): their records and the counts of their
//! children, on any `SqlBackend`.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::backend::{QueryResultExt, SqlBackend};
use super::sql::{ExecutionRow, execution_columns, to_executions};
use super::{Execution, MapRunRecord, MapRunStore, StoreResult};

#[derive(sqlx::FromRow)]
pub(super) struct MapRunRow {
    name: String,
    execution_id: String,
    status: String,
    concurrency: i64,
    tolerated_count: Option<i64>,
    tolerated_percentage: Option<f64>,
    total: i64,
    started_at: i64,
    stopped_at: Option<i64>,
}

#[async_trait]
impl<B> MapRunStore for B
where
    B: SqlBackend,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'t> &'t str: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> i64: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<i64>: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<f64>: Encode<'t, B::Db> + Type<B::Db>,
    MapRunRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    ExecutionRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String, i64): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn get_map_run(
        &self,
        execution_id: &str,
        name: &str,
    ) -> StoreResult<Option<MapRunRecord>> {
        let Some(row) = sqlx::query_as::<B::Db, MapRunRow>(
            "SELECT name, execution_id, status, concurrency, tolerated_count, tolerated_percentage, \
             total, started_at, stopped_at FROM map_runs WHERE name = $1 AND execution_id = $2",
        )
        .bind(name)
        .bind(execution_id)
        .fetch_optional(self.read_pool())
        .await?
        else {
            return Ok(None);
        };
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM executions WHERE map_run = $1 GROUP BY status",
        )
        .bind(name)
        .fetch_all(self.read_pool())
        .await?;
        let count = |statuses: &[&str]| {
            counts
                .iter()
                .filter(|(status, _)| statuses.contains(&status.as_str()))
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        Ok(Some(MapRunRecord {
            running: count(&["Running", "Starting"]),
            succeeded: count(&["Succeeded"]),
            failed: count(&["Failed", "TimedOut"]),
            aborted: count(&["Stopped"]),
            name: row.name,
            execution_id: row.execution_id,
            status: row.status,
            concurrency: row.concurrency,
            tolerated_count: row.tolerated_count,
            tolerated_percentage: row.tolerated_percentage,
            total: row.total,
            started_at: row.started_at,
            stopped_at: row.stopped_at,
        }))
    }

    async fn update_map_run(
        &self,
        name: &str,
        concurrency: Option<i64>,
        tolerated_count: Option<i64>,
        tolerated_percentage: Option<f64>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE map_runs SET concurrency = COALESCE($1, concurrency), \
             tolerated_count = COALESCE($2, tolerated_count), \
             tolerated_percentage = COALESCE($3, tolerated_percentage) WHERE name = $4",
        )
        .bind(concurrency)
        .bind(tolerated_count)
        .bind(tolerated_percentage)
        .bind(name)
        .execute(self.write_pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn abort_map_runs(&self, execution_id: &str, now: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "UPDATE map_runs SET status = 'Aborted', stopped_at = $1 \
             WHERE execution_id = $2 AND status = 'Running' RETURNING name",
        )
        .bind(now)
        .bind(execution_id)
        .fetch_all(self.write_pool())
        .await?)
    }

    async fn running_map_children(&self, map_run: &str) -> StoreResult<Vec<Execution>> {
        let rows = sqlx::query_as::<B::Db, ExecutionRow>(concat!(
            "SELECT ",
            execution_columns!(),
            " FROM executions WHERE map_run = $1 AND status = 'Running'"
        ))
        .bind(map_run)
        .fetch_all(self.read_pool())
        .await?;
        to_executions(rows)
    }
}
