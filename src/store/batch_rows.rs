//! The multi-row statements of a group commit, per backend. Postgres binds whole columns as
//! arrays (`UNNEST`), so each statement has one text whatever the batch size and is prepared
//! once per connection; SQLite, in process, builds `VALUES` lists.

use std::collections::HashSet;
use std::future::Future;

use sqlx::{Postgres, Sqlite, Transaction};

use super::backend::SqlBackend;
use super::history_chunks;
use super::{ExecutionCommit, HistoryEvent, NewExecution, PgStore, SqliteStore, StoreResult};

/// A nonce to record: key id, nonce, expiry.
pub(super) type NonceRow<'a> = (&'a str, &'a str, i64);
/// A task call to lease: execution, call key, owner, lease expiry.
pub(super) type CallRow<'a> = (&'a str, &'a str, &'a str, i64);

/// Rows per SQLite statement (bounded by its bind-parameter limit).
const SQLITE_CHUNK: usize = 400;

/// The multi-row statements of a group commit, which each backend writes its own way.
pub(super) trait BatchRows: SqlBackend {
    /// Records nonces unless a live record exists; returns the pairs that were new.
    fn upsert_nonces(
        tx: &mut Transaction<'static, Self::Db>,
        rows: &[NonceRow<'_>],
        now: i64,
    ) -> impl Future<Output = StoreResult<HashSet<(String, String)>>> + Send;
    /// Inserts new executions; returns the ids that were new (not those whose name was
    /// taken, nor those whose flow no longer has their `flow_revision`).
    fn insert_executions(
        tx: &mut Transaction<'static, Self::Db>,
        news: &[&NewExecution],
    ) -> impl Future<Output = StoreResult<HashSet<String>>> + Send;
    /// Deletes executions inserted earlier in the transaction (starts refused by a limit).
    fn delete_executions(
        tx: &mut Transaction<'static, Self::Db>,
        ids: &[&str],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Applies commits whose lease epoch still holds; returns their execution ids.
    fn update_commits(
        tx: &mut Transaction<'static, Self::Db>,
        commits: &[&ExecutionCommit],
    ) -> impl Future<Output = StoreResult<HashSet<String>>> + Send;
    /// Stores history events, packed (see `history_chunks`).
    fn insert_events(
        tx: &mut Transaction<'static, Self::Db>,
        events: &[(&str, &HistoryEvent)],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn insert_calls(
        tx: &mut Transaction<'static, Self::Db>,
        calls: &[CallRow<'_>],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn delete_signals(
        tx: &mut Transaction<'static, Self::Db>,
        ids: &[i64],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Which of these executions have signals waiting.
    fn with_signals(
        tx: &mut Transaction<'static, Self::Db>,
        execution_ids: &[&str],
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
}

/// The stored columns of a new execution, with or without its first advance.
pub(super) struct StartRow<'a> {
    pub status: &'a str,
    pub output: &'a str,
    pub error: Option<&'a str>,
    pub cause: Option<&'a str>,
    pub stopped_at: Option<i64>,
    pub state: Option<&'a str>,
    pub next_event_id: i64,
    pub due_at: Option<i64>,
    pub lease_owner: Option<&'a str>,
    pub lease_until: Option<i64>,
}

impl<'a> StartRow<'a> {
    pub fn of(new: &'a NewExecution) -> StartRow<'a> {
        match &new.advance {
            Some(advance) => {
                let end = advance.end.as_ref();
                StartRow {
                    status: end.map_or("Running", |e| e.status.as_str()),
                    output: end.map_or("", |e| e.output.as_str()),
                    error: end.and_then(|e| e.error.as_deref()),
                    cause: end.and_then(|e| e.cause.as_deref()),
                    stopped_at: end.map(|e| e.stopped_at),
                    state: Some(&advance.state),
                    next_event_id: advance.next_event_id,
                    due_at: if end.is_some() { None } else { advance.due_at },
                    lease_owner: None,
                    lease_until: None,
                }
            }
            None => StartRow {
                status: "Running",
                output: "",
                error: None,
                cause: None,
                stopped_at: None,
                state: None,
                next_event_id: new.started_event.event_id + 1,
                due_at: Some(new.lease.as_ref().map_or(new.started_at, |l| l.lease_until)),
                lease_owner: new.lease.as_ref().map(|l| l.owner.as_str()),
                lease_until: new.lease.as_ref().map(|l| l.lease_until),
            },
        }
    }
}

/// The updated columns of a commit.
struct CommitRow<'a> {
    status: &'a str,
    output: Option<&'a str>,
    error: Option<&'a str>,
    cause: Option<&'a str>,
    stopped_at: Option<i64>,
    due_at: Option<i64>,
    /// `ExecutionCommit::unleased` as 0 or 1 (added to the epoch).
    unleased: i64,
}

impl<'a> CommitRow<'a> {
    fn of(commit: &'a ExecutionCommit) -> CommitRow<'a> {
        let end = commit.writes.end.as_ref();
        CommitRow {
            status: end.map_or("Running", |e| e.status.as_str()),
            output: end.map(|e| e.output.as_str()),
            error: end.and_then(|e| e.error.as_deref()),
            cause: end.and_then(|e| e.cause.as_deref()),
            stopped_at: end.map(|e| e.stopped_at),
            due_at: if end.is_some() {
                None
            } else {
                commit.writes.due_at
            },
            unleased: i64::from(commit.unleased),
        }
    }
}

/// The stored columns of a new execution, in the order both backends bind them.
macro_rules! new_execution_columns {
    () => {
        "id, account_id, flow_id, flow_name, name, status, input, output, error, cause, \
         definition, role_arn, environment, qualifier, flow_version, callback_token, \
         started_at, stopped_at, state, next_event_id, due_at, lease_owner, lease_until, \
         lease_epoch, parent_id, map_run, map_index"
    };
}

/// Inserts the rows of `v` (the columns above, then `flow_revision`) whose guard holds: no
/// revision asked, or the flow still at that revision. Evaluated by the insert itself, so
/// the guard costs no round trip and sees the flow as the write does.
const INSERT_GUARDED_EXECUTIONS: &str = concat!(
    " INSERT INTO executions (",
    new_execution_columns!(),
    ") SELECT ",
    new_execution_columns!(),
    " FROM v WHERE v.flow_revision IS NULL OR EXISTS (SELECT 1 FROM flows \
     WHERE flows.id = v.flow_id AND flows.revision = v.flow_revision) \
     ON CONFLICT (flow_id, name) DO NOTHING RETURNING id"
);

/// `v` as the insert above reads it: its columns named.
const GUARDED_ROWS: &str = concat!("v(", new_execution_columns!(), ", flow_revision)");

/// A commit writes over the claim it was made from (`v_epoch`); one made from an unleased read
/// (`v_unleased` 1) moves the epoch on, as a claim would. Every claim moves the epoch, so the
/// epoch alone tells that nobody claimed the row since the read.
const UPDATE_COMMIT_SET: &str = "UPDATE executions SET state = v.v_state, next_event_id = v.v_next, \
     status = v.v_status, output = COALESCE(v.v_output, executions.output), error = v.v_error, \
     cause = v.v_cause, stopped_at = v.v_stopped, due_at = v.v_due, lease_owner = NULL, \
     lease_until = NULL, lease_epoch = executions.lease_epoch + v.v_unleased FROM ";

const UPDATE_COMMIT_WHERE: &str = " WHERE executions.id = v.v_id AND executions.lease_epoch = v.v_epoch \
     AND executions.status = 'Running' RETURNING id";

impl BatchRows for PgStore {
    async fn upsert_nonces(
        tx: &mut Transaction<'static, Postgres>,
        rows: &[NonceRow<'_>],
        now: i64,
    ) -> StoreResult<HashSet<(String, String)>> {
        if rows.is_empty() {
            return Ok(HashSet::new());
        }
        let fresh: Vec<(String, String)> = sqlx::query_as(
            "INSERT INTO nonces (access_key_id, nonce, expires_at) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[]) \
             ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE nonces.expires_at < $4 RETURNING access_key_id, nonce",
        )
        .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        Ok(fresh.into_iter().collect())
    }

    async fn insert_executions(
        tx: &mut Transaction<'static, Postgres>,
        news: &[&NewExecution],
    ) -> StoreResult<HashSet<String>> {
        if news.is_empty() {
            return Ok(HashSet::new());
        }
        let starts: Vec<StartRow> = news.iter().map(|n| StartRow::of(n)).collect();
        let text = |f: fn(&NewExecution) -> &str| news.iter().map(|n| f(n)).collect::<Vec<_>>();
        let optional =
            |f: fn(&NewExecution) -> Option<&str>| news.iter().map(|n| f(n)).collect::<Vec<_>>();
        let sql = format!(
            "WITH {GUARDED_ROWS} AS (SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], \
             $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], \
             $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], \
             $17::int8[], $18::int8[], $19::text[], $20::int8[], $21::int8[], $22::text[], \
             $23::int8[], $24::int8[], $25::text[], $26::text[], $27::int8[], $28::int8[])) \
             {INSERT_GUARDED_EXECUTIONS}"
        );
        let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .persistent(true)
            .bind(text(|n| &n.identity.id))
            .bind(text(|n| &n.identity.account_id))
            .bind(text(|n| &n.identity.flow_id))
            .bind(text(|n| &n.identity.flow_name))
            .bind(text(|n| &n.identity.name))
            .bind(starts.iter().map(|s| s.status).collect::<Vec<_>>())
            .bind(text(|n| &n.input))
            .bind(starts.iter().map(|s| s.output).collect::<Vec<_>>())
            .bind(starts.iter().map(|s| s.error).collect::<Vec<_>>())
            .bind(starts.iter().map(|s| s.cause).collect::<Vec<_>>())
            .bind(text(|n| &n.definition))
            .bind(optional(|n| n.role_arn.as_deref()))
            .bind(optional(|n| n.environment.as_deref()))
            .bind(optional(|n| n.qualifier.as_deref()))
            .bind(optional(|n| n.flow_version.as_deref()))
            .bind(optional(|n| n.callback_token.as_deref()))
            .bind(news.iter().map(|n| n.started_at).collect::<Vec<_>>())
            .bind(starts.iter().map(|s| s.stopped_at).collect::<Vec<_>>())
            .bind(starts.iter().map(|s| s.state).collect::<Vec<_>>())
            .bind(starts.iter().map(|s| s.next_event_id).collect::<Vec<_>>())
            .bind(starts.iter().map(|s| s.due_at).collect::<Vec<_>>())
            .bind(starts.iter().map(|s| s.lease_owner).collect::<Vec<_>>())
            .bind(starts.iter().map(|s| s.lease_until).collect::<Vec<_>>())
            .bind(vec![1_i64; news.len()])
            .bind(optional(|n| {
                n.map_child.as_ref().map(|c| c.parent_id.as_str())
            }))
            .bind(optional(|n| {
                n.map_child.as_ref().map(|c| c.map_run.as_str())
            }))
            .bind(
                news.iter()
                    .map(|n| n.map_child.as_ref().map(|c| c.index))
                    .collect::<Vec<_>>(),
            )
            .bind(news.iter().map(|n| n.flow_revision).collect::<Vec<_>>())
            .fetch_all(&mut **tx)
            .await?;
        Ok(ids.into_iter().collect())
    }

    async fn delete_executions(
        tx: &mut Transaction<'static, Postgres>,
        ids: &[&str],
    ) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query("DELETE FROM executions WHERE id = ANY($1::text[])")
            .bind(ids)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn update_commits(
        tx: &mut Transaction<'static, Postgres>,
        commits: &[&ExecutionCommit],
    ) -> StoreResult<HashSet<String>> {
        if commits.is_empty() {
            return Ok(HashSet::new());
        }
        let rows: Vec<CommitRow> = commits.iter().map(|c| CommitRow::of(c)).collect();
        let sql = format!(
            "{UPDATE_COMMIT_SET} UNNEST($1::text[], $2::int8[], $3::text[], $4::int8[], \
             $5::text[], $6::text[], $7::text[], $8::text[], $9::int8[], $10::int8[], $11::int8[]) \
             AS v(v_id, v_epoch, v_state, v_next, v_status, v_output, v_error, v_cause, v_stopped, \
             v_due, v_unleased){UPDATE_COMMIT_WHERE}"
        );
        let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .persistent(true)
            .bind(
                commits
                    .iter()
                    .map(|c| c.execution_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(commits.iter().map(|c| c.epoch).collect::<Vec<_>>())
            .bind(
                commits
                    .iter()
                    .map(|c| c.writes.state.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                commits
                    .iter()
                    .map(|c| c.writes.next_event_id)
                    .collect::<Vec<_>>(),
            )
            .bind(rows.iter().map(|r| r.status).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.output).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.error).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.cause).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.stopped_at).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.due_at).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.unleased).collect::<Vec<_>>())
            .fetch_all(&mut **tx)
            .await?;
        Ok(ids.into_iter().collect())
    }

    async fn insert_events(
        tx: &mut Transaction<'static, Postgres>,
        events: &[(&str, &HistoryEvent)],
    ) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let chunks = history_chunks::pack(events);
        sqlx::query(
            "INSERT INTO history_chunks (execution_id, first_event_id, last_event_id, events) \
             SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::text[])",
        )
        .bind(chunks.iter().map(|c| c.execution_id).collect::<Vec<_>>())
        .bind(chunks.iter().map(|c| c.first_event_id).collect::<Vec<_>>())
        .bind(chunks.iter().map(|c| c.last_event_id).collect::<Vec<_>>())
        .bind(chunks.iter().map(|c| c.events.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn insert_calls(
        tx: &mut Transaction<'static, Postgres>,
        calls: &[CallRow<'_>],
    ) -> StoreResult<()> {
        if calls.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO task_calls (execution_id, call_key, owner, lease_until) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[])",
        )
        .bind(calls.iter().map(|c| c.0).collect::<Vec<_>>())
        .bind(calls.iter().map(|c| c.1).collect::<Vec<_>>())
        .bind(calls.iter().map(|c| c.2).collect::<Vec<_>>())
        .bind(calls.iter().map(|c| c.3).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn delete_signals(
        tx: &mut Transaction<'static, Postgres>,
        ids: &[i64],
    ) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query("DELETE FROM execution_signals WHERE id = ANY($1::int8[])")
            .bind(ids)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn with_signals(
        tx: &mut Transaction<'static, Postgres>,
        execution_ids: &[&str],
    ) -> StoreResult<Vec<String>> {
        if execution_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT execution_id FROM execution_signals WHERE execution_id = ANY($1::text[])",
        )
        .bind(execution_ids)
        .fetch_all(&mut **tx)
        .await?)
    }
}

impl BatchRows for SqliteStore {
    async fn upsert_nonces(
        tx: &mut Transaction<'static, Sqlite>,
        rows: &[NonceRow<'_>],
        now: i64,
    ) -> StoreResult<HashSet<(String, String)>> {
        let mut fresh = HashSet::new();
        for chunk in rows.chunks(SQLITE_CHUNK) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO nonces (access_key_id, nonce, expires_at) ",
            );
            insert.push_values(chunk, |mut row, (key, nonce, expires)| {
                row.push_bind(*key).push_bind(*nonce).push_bind(*expires);
            });
            insert.push(
                " ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE nonces.expires_at < ",
            );
            insert.push_bind(now);
            insert.push(" RETURNING access_key_id, nonce");
            let rows: Vec<(String, String)> = insert.build_query_as().fetch_all(&mut **tx).await?;
            fresh.extend(rows);
        }
        Ok(fresh)
    }

    async fn insert_executions(
        tx: &mut Transaction<'static, Sqlite>,
        news: &[&NewExecution],
    ) -> StoreResult<HashSet<String>> {
        let mut inserted = HashSet::new();
        for chunk in news.chunks(SQLITE_CHUNK / 30) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(format!("WITH {GUARDED_ROWS} AS ("));
            insert.push_values(chunk, |mut row, new| {
                let start = StartRow::of(new);
                let child = new.map_child.as_ref();
                row.push_bind(&new.identity.id)
                    .push_bind(&new.identity.account_id)
                    .push_bind(&new.identity.flow_id)
                    .push_bind(&new.identity.flow_name)
                    .push_bind(&new.identity.name)
                    .push_bind(start.status)
                    .push_bind(&new.input)
                    .push_bind(start.output)
                    .push_bind(start.error)
                    .push_bind(start.cause)
                    .push_bind(&new.definition)
                    .push_bind(&new.role_arn)
                    .push_bind(&new.environment)
                    .push_bind(&new.qualifier)
                    .push_bind(&new.flow_version)
                    .push_bind(&new.callback_token)
                    .push_bind(new.started_at)
                    .push_bind(start.stopped_at)
                    .push_bind(start.state)
                    .push_bind(start.next_event_id)
                    .push_bind(start.due_at)
                    .push_bind(start.lease_owner)
                    .push_bind(start.lease_until)
                    .push_bind(1_i64)
                    .push_bind(child.map(|c| c.parent_id.as_str()))
                    .push_bind(child.map(|c| c.map_run.as_str()))
                    .push_bind(child.map(|c| c.index))
                    .push_bind(new.flow_revision);
            });
            insert.push(")").push(INSERT_GUARDED_EXECUTIONS);
            let ids: Vec<String> = insert.build_query_scalar().fetch_all(&mut **tx).await?;
            inserted.extend(ids);
        }
        Ok(inserted)
    }

    async fn delete_executions(
        tx: &mut Transaction<'static, Sqlite>,
        ids: &[&str],
    ) -> StoreResult<()> {
        delete_by_id(tx, "executions", ids).await
    }

    async fn update_commits(
        tx: &mut Transaction<'static, Sqlite>,
        commits: &[&ExecutionCommit],
    ) -> StoreResult<HashSet<String>> {
        let mut committed = HashSet::new();
        for chunk in commits.chunks(SQLITE_CHUNK / 11) {
            let mut update = sqlx::QueryBuilder::<Sqlite>::new(UPDATE_COMMIT_SET);
            update.push("(");
            for (position, commit) in chunk.iter().enumerate() {
                if position > 0 {
                    update.push(" UNION ALL ");
                }
                let row = CommitRow::of(commit);
                update.push("SELECT ");
                update.push_bind(&commit.execution_id).push(" AS v_id, ");
                update.push_bind(commit.epoch).push(" AS v_epoch, ");
                update.push_bind(&commit.writes.state).push(" AS v_state, ");
                update
                    .push_bind(commit.writes.next_event_id)
                    .push(" AS v_next, ");
                update.push_bind(row.status).push(" AS v_status, ");
                update.push_bind(row.output).push(" AS v_output, ");
                update.push_bind(row.error).push(" AS v_error, ");
                update.push_bind(row.cause).push(" AS v_cause, ");
                update.push_bind(row.stopped_at).push(" AS v_stopped, ");
                update.push_bind(row.due_at).push(" AS v_due, ");
                update.push_bind(row.unleased).push(" AS v_unleased");
            }
            update.push(") AS v");
            update.push(UPDATE_COMMIT_WHERE);
            let ids: Vec<String> = update.build_query_scalar().fetch_all(&mut **tx).await?;
            committed.extend(ids);
        }
        Ok(committed)
    }

    async fn insert_events(
        tx: &mut Transaction<'static, Sqlite>,
        events: &[(&str, &HistoryEvent)],
    ) -> StoreResult<()> {
        let chunks = history_chunks::pack(events);
        for rows in chunks.chunks(SQLITE_CHUNK / 4) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO history_chunks (execution_id, first_event_id, last_event_id, events) ",
            );
            insert.push_values(rows, |mut row, chunk| {
                row.push_bind(chunk.execution_id)
                    .push_bind(chunk.first_event_id)
                    .push_bind(chunk.last_event_id)
                    .push_bind(&chunk.events);
            });
            insert.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn insert_calls(
        tx: &mut Transaction<'static, Sqlite>,
        calls: &[CallRow<'_>],
    ) -> StoreResult<()> {
        for chunk in calls.chunks(SQLITE_CHUNK / 4) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO task_calls (execution_id, call_key, owner, lease_until) ",
            );
            insert.push_values(chunk, |mut row, (execution_id, key, owner, until)| {
                row.push_bind(*execution_id)
                    .push_bind(*key)
                    .push_bind(*owner)
                    .push_bind(*until);
            });
            insert.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn delete_signals(tx: &mut Transaction<'static, Sqlite>, ids: &[i64]) -> StoreResult<()> {
        delete_by_id(tx, "execution_signals", ids).await
    }

    async fn with_signals(
        tx: &mut Transaction<'static, Sqlite>,
        execution_ids: &[&str],
    ) -> StoreResult<Vec<String>> {
        let mut found = Vec::new();
        for chunk in execution_ids.chunks(SQLITE_CHUNK) {
            let mut select = sqlx::QueryBuilder::<Sqlite>::new(
                "SELECT DISTINCT execution_id FROM execution_signals WHERE execution_id IN (",
            );
            let mut list = select.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            select.push(")");
            let ids: Vec<String> = select.build_query_scalar().fetch_all(&mut **tx).await?;
            found.extend(ids);
        }
        Ok(found)
    }
}

/// SQLite: deletes the rows of `table` whose `id` is one of `ids`.
async fn delete_by_id<T>(
    tx: &mut Transaction<'static, Sqlite>,
    table: &'static str,
    ids: &[T],
) -> StoreResult<()>
where
    T: Copy + Send + for<'q> sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>,
{
    for chunk in ids.chunks(SQLITE_CHUNK) {
        let mut delete = sqlx::QueryBuilder::<Sqlite>::new("DELETE FROM ");
        delete.push(table).push(" WHERE id IN (");
        let mut list = delete.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        delete.push(")");
        delete.build().execute(&mut **tx).await?;
    }
    Ok(())
}
