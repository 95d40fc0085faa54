//! The embedded SQLite store: the default, for one process. Writes go through a single
//! connection (SQLite serializes writers anyway), reads through a pool, in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::broadcast;

use super::backend::SqlBackend;
use super::name_globs::GlobSyntax;
use super::{Backend, Store, StoreResult, WorkNotice};

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    notices: broadcast::Sender<super::WorkNotice>,
}

impl SqliteStore {
    /// Opens (creating it and its folder if needed) the database file and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, super::StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the client hears of it (no accepted execution
            // is lost, even to a power cut).
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(false);
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                super::StoreError::internal(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| super::StoreError::internal(format!("migrations failed: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await?;
        let (notices, _) = broadcast::channel(1024);
        Ok(SqliteStore {
            writer,
            reader,
            notices,
        })
    }
}

impl SqlBackend for SqliteStore {
    type Db = Sqlite;

    /// SQLite's `LIKE` ignores case; its `GLOB` does not.
    const NAME_GLOBS: GlobSyntax = GlobSyntax::Glob;

    const CLAIM_SCHEDULES: &'static str = super::sql_schedules::claim_schedules_statement!("");

    const SELECT_EXPIRED: &'static str = super::sql_retention::select_expired_statement!("");

    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    fn read_pool(&self) -> &SqlitePool {
        &self.reader
    }

    async fn claim_due(
        &self,
        claim: &super::Claim,
        limit: i64,
    ) -> super::StoreResult<Vec<super::ClaimedExecution>> {
        // One UPDATE … RETURNING: SQLite runs one writer at a time, so no row is claimed twice.
        const CLAIM_DUE: &str = concat!(
            "UPDATE executions SET lease_owner = $1, lease_until = $2, due_at = $2, lease_epoch = lease_epoch + 1 \
             WHERE id IN (SELECT id FROM executions WHERE due_at <= $3 AND status = 'Running' \
             AND (lease_owner IS NULL OR lease_until < $3) ORDER BY due_at LIMIT $4) RETURNING ",
            super::sql::claim_columns!()
        );
        Ok(
            sqlx::query_as::<sqlx::Sqlite, super::ClaimedExecution>(CLAIM_DUE)
                .bind(&claim.owner)
                .bind(claim.lease_until)
                .bind(claim.now)
                .bind(limit)
                .fetch_all(&self.writer)
                .await?,
        )
    }

    /// One process: ended executions are announced in memory after the commit.
    async fn announce_ended(
        &self,
        _tx: &mut sqlx::Transaction<'static, Sqlite>,
        _ended: &[&str],
    ) -> super::StoreResult<()> {
        Ok(())
    }

    /// One process, one writer: nobody else deletes.
    async fn try_lock_retention(
        _tx: &mut sqlx::Transaction<'static, Sqlite>,
    ) -> super::StoreResult<bool> {
        Ok(true)
    }

    /// Nothing to do: SQLite puts freed pages on its free list and fills them first.
    async fn reclaim_space(&self) -> super::StoreResult<()> {
        Ok(())
    }

    /// Nothing to do: every write goes through the store's single connection, so write
    /// transactions never overlap.
    async fn lock_accounts(
        _tx: &mut sqlx::Transaction<'static, Sqlite>,
        _accounts: &[&str],
    ) -> super::StoreResult<()> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn is_shared(&self) -> bool {
        false
    }

    async fn ready(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1 FROM _sqlx_migrations LIMIT 1")
            .execute(&self.reader)
            .await?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<WorkNotice> {
        self.notices.subscribe()
    }

    fn publish_local(&self, notice: WorkNotice) {
        let _ = self.notices.send(notice);
    }

    async fn notify(&self, notice: WorkNotice) -> StoreResult<()> {
        let _ = self.notices.send(notice);
        Ok(())
    }
}
