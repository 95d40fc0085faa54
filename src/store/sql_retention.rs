//! Retention: deleting ended executions, and everything that belongs to them, once they are
//! old enough, in short batches, on any `SqlBackend`.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, QueryBuilder, Transaction, Type};

use super::backend::SqlBackend;
use super::{RetentionStore, StoreResult};

/// Selects up to `$2` ended executions stopped before `$1`, oldest first (on the
/// `executions_ended` index), with the backend's row lock (`$lock`). The ended child of a
/// distributed Map stays while its parent runs: DescribeMapRun counts it.
macro_rules! select_expired_statement {
    ($lock:literal) => {
        concat!(
            "SELECT id FROM executions AS ended WHERE stopped_at IS NOT NULL AND stopped_at < $1 \
             AND status NOT IN ('Running', 'Starting') \
             AND (parent_id IS NULL OR NOT EXISTS (SELECT 1 FROM executions AS parent \
                  WHERE parent.id = ended.parent_id AND parent.status IN ('Running', 'Starting'))) \
             ORDER BY stopped_at LIMIT $2 ",
            $lock
        )
    };
}

pub(super) use select_expired_statement;

/// What belongs to an execution, by the column naming it: every table whose rows die with it.
const OWNED_ROWS: [&str; 4] = [
    "history_chunks",
    "execution_signals",
    "task_calls",
    "map_runs",
];

#[async_trait]
impl<B> RetentionStore for B
where
    B: SqlBackend,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'t> String: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> i64: Encode<'t, B::Db> + Type<B::Db>,
    (String,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn delete_ended_executions(&self, cutoff: i64, limit: i64) -> StoreResult<u64> {
        let mut tx = self.write_pool().begin().await?;
        if !B::try_lock_retention(&mut tx).await? {
            return Ok(0);
        }
        let ids: Vec<String> = sqlx::query_scalar(B::SELECT_EXPIRED)
            .bind(cutoff)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        for table in OWNED_ROWS {
            delete_where_in::<B::Db>(&mut tx, table, "execution_id", &ids).await?;
        }
        delete_where_in::<B::Db>(&mut tx, "executions", "id", &ids).await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    async fn reclaim_space(&self) -> StoreResult<()> {
        self.reclaim_space().await
    }
}

/// Ids per statement (SQLite bounds its bind parameters).
const IDS_PER_STATEMENT: usize = 400;

/// `DELETE FROM table WHERE column IN (ids…)`.
async fn delete_where_in<Db>(
    tx: &mut Transaction<'static, Db>,
    table: &'static str,
    column: &'static str,
    ids: &[String],
) -> StoreResult<()>
where
    Db: Database,
    <Db as Database>::Arguments: IntoArguments<Db>,
    for<'c> &'c mut <Db as Database>::Connection: Executor<'c, Database = Db>,
    for<'t> String: Encode<'t, Db> + Type<Db>,
{
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let mut delete = QueryBuilder::<Db>::new("DELETE FROM ");
        delete
            .push(table)
            .push(" WHERE ")
            .push(column)
            .push(" IN (");
        let mut list = delete.separated(", ");
        for id in chunk {
            list.push_bind(id.clone());
        }
        delete.push(")");
        delete.build().execute(&mut **tx).await?;
    }
    Ok(())
}
