//! Web console sessions, on any `SqlBackend`.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::backend::{QueryResultExt, SqlBackend};
use super::{ConsoleSession, SessionStore, StoreResult};

const INSERT_SESSION: &str = "INSERT INTO console_sessions \
     (token_hash, access_key_id, csrf_token, created_at, last_seen_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const SELECT_SESSION: &str = "SELECT token_hash, access_key_id, csrf_token, \
     created_at, last_seen_at, expires_at FROM console_sessions WHERE token_hash = $1";
const TOUCH_SESSION: &str =
    "UPDATE console_sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1";
const DELETE_SESSION: &str = "DELETE FROM console_sessions WHERE token_hash = $1";
const PRUNE_SESSIONS: &str =
    "DELETE FROM console_sessions WHERE expires_at < $1 OR last_seen_at < $2";

#[async_trait]
impl<B> SessionStore for B
where
    B: SqlBackend,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'t> &'t str: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> &'t String: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> i64: Encode<'t, B::Db> + Type<B::Db>,
    ConsoleSession: for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn create_session(&self, session: &ConsoleSession) -> StoreResult<()> {
        sqlx::query(INSERT_SESSION)
            .bind(&session.token_hash)
            .bind(&session.access_key_id)
            .bind(&session.csrf_token)
            .bind(session.created_at)
            .bind(session.last_seen_at)
            .bind(session.expires_at)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<ConsoleSession>> {
        Ok(sqlx::query_as::<B::Db, ConsoleSession>(SELECT_SESSION)
            .bind(token_hash)
            .fetch_optional(self.read_pool())
            .await?)
    }

    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        sqlx::query(TOUCH_SESSION)
            .bind(now)
            .bind(token_hash)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query(DELETE_SESSION)
            .bind(token_hash)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    async fn prune_sessions(&self, now: i64, idle_before: i64) -> StoreResult<u64> {
        Ok(sqlx::query(PRUNE_SESSIONS)
            .bind(now)
            .bind(idle_before)
            .execute(self.write_pool())
            .await?
            .rows_affected())
    }
}
