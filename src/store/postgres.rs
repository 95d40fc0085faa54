//! The Postgres store: production backend, shared by any number of replicas.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;

use super::backend::SqlBackend;
use super::name_globs::GlobSyntax;
use super::{Backend, Store, StoreResult, WorkNotice};

/// The LISTEN/NOTIFY channel that wakes workers on every replica.
const CHANNEL: &str = "fnf_work";

/// The advisory-lock key held by the replica deleting ended executions ("fnf-ret" in ASCII,
/// apart from the account locks' hashed keys and from other users of the database).
const RETENTION_LOCK: i64 = 0x0066_6e66_2d72_6574;

/// The tables retention (executions and what they own) and nonce pruning delete from.
const VACUUM_DELETED: &str = "VACUUM executions, history_chunks, execution_signals, task_calls, \
                              map_runs, nonces";

pub struct PgStore {
    pool: PgPool,
    notices: broadcast::Sender<super::WorkNotice>,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for PgStore {
    /// The listener holds a connection of its own; it ends with the store.
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl PgStore {
    /// Connects, runs the migrations and starts listening for other replicas' notices.
    pub async fn connect(url: &str) -> Result<Self, super::StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(32)
            // Fail fast while the database is down, so requests get 503 instead of hanging.
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| super::StoreError::internal(format!("migrations failed: {e}")))?;
        let (notices, _) = broadcast::channel(1024);
        let listener = tokio::spawn(listen(pool.clone(), notices.clone()));
        Ok(PgStore {
            pool,
            notices,
            listener,
        })
    }
}

/// Forwards NOTIFY payloads to this replica's subscribers, reconnecting as needed.
async fn listen(pool: PgPool, notices: broadcast::Sender<super::WorkNotice>) {
    const FIRST_RETRY: Duration = Duration::from_millis(100);
    let mut retry = FIRST_RETRY;
    loop {
        match listen_once(&pool, &notices).await {
            // Listening ended for good only when the store is gone.
            Ok(()) if notices.receiver_count() == 0 && pool.is_closed() => return,
            // The connection was lost after listening started: reconnect at once.
            Ok(()) => retry = FIRST_RETRY,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for work notices; retrying");
                // Backoff: a database that is down is not asked a hundred times a second.
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Listens on one connection until it is lost. Notices sent while nobody listened are
/// gone, so every (re)connection is announced as a wake-up: the workers look for due work
/// and the scheduler at its schedules.
async fn listen_once(
    pool: &PgPool,
    notices: &broadcast::Sender<super::WorkNotice>,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    let _ = notices.send(super::WorkNotice::Work);
    let _ = notices.send(super::WorkNotice::Schedules);
    loop {
        // `try_recv` (not `recv`, which reconnects silently) says when the connection is lost.
        match listener.try_recv().await? {
            Some(notification) => {
                for notice in decode_notices(notification.payload()) {
                    let _ = notices.send(notice);
                }
            }
            None => {
                tracing::warn!("lost the notice connection; reconnecting");
                return Ok(());
            }
        }
    }
}

fn encode_notice(notice: &super::WorkNotice) -> String {
    match notice {
        super::WorkNotice::Work => "work".to_string(),
        super::WorkNotice::Schedules => "schedules".to_string(),
        super::WorkNotice::Ended(id) => format!("ended:{id}"),
    }
}

/// A payload names work, changed schedules, or one or more ended executions
/// (`ended:<id> <id> …`).
fn decode_notices(payload: &str) -> Vec<super::WorkNotice> {
    if payload == "schedules" {
        return vec![super::WorkNotice::Schedules];
    }
    match payload.strip_prefix("ended:") {
        Some(ids) => ids
            .split(' ')
            .filter(|id| !id.is_empty())
            .map(|id| super::WorkNotice::Ended(id.to_string()))
            .collect(),
        None => vec![super::WorkNotice::Work],
    }
}

impl SqlBackend for PgStore {
    type Db = Postgres;

    const NAME_GLOBS: GlobSyntax = GlobSyntax::Like;

    const CLAIM_SCHEDULES: &'static str =
        super::sql_schedules::claim_schedules_statement!("FOR UPDATE SKIP LOCKED");

    const SELECT_EXPIRED: &'static str =
        super::sql_retention::select_expired_statement!("FOR UPDATE SKIP LOCKED");

    fn write_pool(&self) -> &PgPool {
        &self.pool
    }

    fn read_pool(&self) -> &PgPool {
        &self.pool
    }

    async fn claim_due(
        &self,
        claim: &super::Claim,
        limit: i64,
    ) -> super::StoreResult<Vec<super::ClaimedExecution>> {
        const CLAIM_DUE: &str = concat!(
            "UPDATE executions SET lease_owner = $1, lease_until = $2, due_at = $2, lease_epoch = lease_epoch + 1 \
             WHERE id IN (SELECT id FROM executions WHERE due_at <= $3 AND status = 'Running' \
             AND (lease_owner IS NULL OR lease_until < $3) ORDER BY due_at LIMIT $4 \
             FOR UPDATE SKIP LOCKED) RETURNING ",
            super::sql::claim_columns!()
        );
        Ok(
            sqlx::query_as::<sqlx::Postgres, super::ClaimedExecution>(CLAIM_DUE)
                .bind(&claim.owner)
                .bind(claim.lease_until)
                .bind(claim.now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// A long poll anywhere wakes; as few notifications as the payload limit allows.
    async fn announce_ended(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        ended: &[&str],
    ) -> super::StoreResult<()> {
        // NOTIFY payloads must stay under 8000 bytes.
        let mut payload = String::from("ended:");
        for id in ended {
            if payload.len() + id.len() + 1 > 7900 {
                self.send_notice(tx, &payload).await?;
                payload = String::from("ended:");
            }
            payload.push_str(id);
            payload.push(' ');
        }
        if payload.len() > "ended:".len() {
            self.send_notice(tx, &payload).await?;
        }
        Ok(())
    }

    async fn try_lock_retention(
        tx: &mut sqlx::Transaction<'static, Postgres>,
    ) -> super::StoreResult<bool> {
        Ok(sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(RETENTION_LOCK)
            .fetch_one(&mut **tx)
            .await?)
    }

    /// Autovacuum normally reuses deleted rows' space; a database that runs without it would
    /// grow by everything ever inserted, so then the tables retention and nonce pruning
    /// delete from are vacuumed here (VACUUM blocks no reads or writes).
    async fn reclaim_space(&self) -> super::StoreResult<()> {
        let autovacuum: String = sqlx::query_scalar("SELECT current_setting('autovacuum')")
            .fetch_one(&self.pool)
            .await?;
        if autovacuum == "on" {
            return Ok(());
        }
        // VACUUM cannot run in a transaction block: plain statements on a pooled connection.
        sqlx::raw_sql(VACUUM_DELETED).execute(&self.pool).await?;
        Ok(())
    }

    async fn lock_accounts(
        tx: &mut sqlx::Transaction<'static, Postgres>,
        accounts: &[&str],
    ) -> super::StoreResult<()> {
        super::account_limits::lock_with_advisory_locks(tx, accounts).await
    }
}

impl PgStore {
    async fn send_notice(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        payload: &str,
    ) -> super::StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn ready(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1 FROM _sqlx_migrations LIMIT 1")
            .execute(&self.pool)
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
        let _ = self.notices.send(notice.clone());
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(encode_notice(&notice))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
