//! Web console sessions. Portable between the backends like `sql.rs`: the statements are
//! plain constants, the macro only binds them once per backend.

pub(super) const INSERT_SESSION: &str = "INSERT INTO console_sessions \
     (token_hash, access_key_id, csrf_token, created_at, last_seen_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const SELECT_SESSION: &str = "SELECT token_hash, access_key_id, csrf_token, \
     created_at, last_seen_at, expires_at FROM console_sessions WHERE token_hash = $1";
pub(super) const TOUCH_SESSION: &str =
    "UPDATE console_sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1";
pub(super) const DELETE_SESSION: &str = "DELETE FROM console_sessions WHERE token_hash = $1";
pub(super) const PRUNE_SESSIONS: &str =
    "DELETE FROM console_sessions WHERE expires_at < $1 OR last_seen_at < $2";

macro_rules! impl_session_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::store::sql_sessions::*;
            use $crate::store::*;

            #[async_trait::async_trait]
            impl SessionStore for $store {
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

                async fn get_session(
                    &self,
                    token_hash: &str,
                ) -> StoreResult<Option<ConsoleSession>> {
                    Ok(sqlx::query_as::<$db, ConsoleSession>(SELECT_SESSION)
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
        };
    };
}

pub(super) use impl_session_store;
