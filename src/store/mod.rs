//! Persistence: the `Store` traits (one per aggregate), their row types, and the two sqlx
//! implementations (Postgres for production, embedded SQLite by default).
//!
//! Times are milliseconds since the Unix epoch; JSON documents are stored as text. Both
//! backends therefore share their portable queries (see `sql.rs`), and each adds what only it
//! can do (claiming with `FOR UPDATE SKIP LOCKED`, LISTEN/NOTIFY, SQLite's single writer).

use std::sync::Arc;

use async_trait::async_trait;

mod account_limits;
mod backend;
mod batch_rows;
mod batcher;
mod history_chunks;
mod name_globs;
mod postgres;
mod rows;
mod sql;
mod sql_batch;
mod sql_map_runs;
mod sql_retention;
mod sql_schedules;
mod sql_sessions;
mod sql_versions;
mod sql_work;
mod sqlite;
mod versions;

pub use batcher::Batcher;
pub use postgres::PgStore;
pub use rows::*;
pub use sqlite::SqliteStore;
pub use versions::*;

/// Failures of the persistence layer. Unique-key violations are not errors of this kind: the
/// methods report them as typed outcomes (e.g. `CreateFlowOutcome::AlreadyExists`).
///
/// A failure of the database driver keeps it as its `source`, so whoever logs the error (where
/// the request or execution is known) can show the whole chain.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (connection refused, pool timed out, shutting down).
    #[error("store unavailable: {detail}")]
    Unavailable {
        detail: String,
        #[source]
        cause: Option<DatabaseError>,
    },
    /// Anything else: a bug or an unexpected database answer.
    #[error("store failure: {detail}")]
    Internal {
        detail: String,
        #[source]
        cause: Option<DatabaseError>,
    },
}

/// The driver's error, shared: a failed batch write answers each of its writers.
pub type DatabaseError = Arc<sqlx::Error>;

impl StoreError {
    pub fn unavailable(detail: impl Into<String>) -> Self {
        StoreError::Unavailable {
            detail: detail.into(),
            cause: None,
        }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        StoreError::Internal {
            detail: detail.into(),
            cause: None,
        }
    }

    /// Whether the database is away (as opposed to a bug or a refused statement).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let unavailable = match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => is_unavailable_code(db.code().as_deref()),
            _ => false,
        };
        let cause = Some(Arc::new(e));
        if unavailable {
            StoreError::Unavailable {
                detail: "the database cannot be reached".into(),
                cause,
            }
        } else {
            StoreError::Internal {
                detail: "a database query failed".into(),
                cause,
            }
        }
    }
}

/// Postgres SQLSTATEs of an unreachable / restarting server, and SQLite's busy codes.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006" | "53300" | "5" | "6")
    )
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Flows of an account.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Creates the flow unless its name is taken or its account already has `max_flows`
    /// flows. The count and the insert are atomic: concurrent creations on any replica never
    /// take the account past the limit.
    async fn create_flow(&self, flow: &Flow, max_flows: i64) -> StoreResult<CreateFlowOutcome>;
    async fn get_flow(&self, account_id: &str, name: &str) -> StoreResult<Option<Flow>>;
    /// Writes `flow` if its stored revision is still `expected_revision`.
    async fn update_flow(&self, flow: &Flow, expected_revision: i64) -> StoreResult<bool>;
    /// Deletes the flow with its versions, aliases and schedules (docs/COMPATIBILITY.md#flows), in a short
    /// transaction whatever its number of executions. Its running executions are stopped
    /// afterwards, in batches (`stop_executions_of_deleted_flows`). False if absent.
    async fn delete_flow(&self, account_id: &str, name: &str) -> StoreResult<bool>;
    /// Stops, in one transaction, up to `limit` running executions whose flow no longer
    /// exists (only those of `flow_id`, when given): status Stopped, error `FnF.FlowDeleted`,
    /// no wake-up, task calls dropped, lease epoch bumped (a worker in the middle of an
    /// advance cannot commit). Returns the executions it stopped, to report to their parents.
    async fn stop_executions_of_deleted_flows(
        &self,
        flow_id: Option<&str>,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoppedByDeletion>>;
    async fn list_flows(&self, query: &FlowQuery) -> StoreResult<Vec<Flow>>;
    async fn count_flows(&self, account_id: &str) -> StoreResult<i64>;
}

/// Executions and their history, as the API sees them.
#[async_trait]
pub trait ExecutionStore: Send + Sync {
    /// Creates the execution, its `ExecutionStarted` event and its work item in one
    /// transaction, or reports the existing execution of that name, or refuses it when its
    /// account has `running_limit` executions running.
    async fn start_execution(&self, new: &NewExecution) -> StoreResult<StartOutcome>;
    async fn get_execution(&self, flow_id: &str, name: &str) -> StoreResult<Option<Execution>>;
    async fn get_execution_by_id(&self, id: &str) -> StoreResult<Option<Execution>>;
    async fn list_executions(&self, query: &ExecutionQuery) -> StoreResult<Vec<Execution>>;
    async fn list_history(
        &self,
        execution_id: &str,
        from_event_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<HistoryEvent>>;
    /// Ends a running execution at once whoever holds it: bumps the lease epoch (so a worker
    /// in the middle of an advance cannot commit), appends the end event, drops its calls
    /// and wake-ups, and queues `signals` (the report to a parent's task token).
    async fn force_end(&self, end: &ForcedEnd) -> StoreResult<Option<Execution>>;
}

/// The work queue the worker pool uses: claims with leases, fenced commits, signals.
#[async_trait]
pub trait WorkStore: Send + Sync {
    /// Claims up to `limit` executions that are due and not leased by a live owner.
    async fn claim_due(&self, claim: &Claim, limit: i64) -> StoreResult<Vec<ClaimedExecution>>;
    /// Claims one execution if it is running and not leased by a live owner.
    async fn claim_execution(&self, execution_id: &str, claim: &Claim)
    -> StoreResult<ClaimAttempt>;
    /// Reads an execution as a claim would return it, without claiming it, if it is running
    /// and quiet at `now`: not leased by a live owner, not due, no task call in flight (else
    /// `Busy`: another advance is about to run). An advance made from the read commits with
    /// `ExecutionCommit::unleased`, which claims the execution in the same transaction.
    async fn read_unleased(&self, execution_id: &str, now: i64) -> StoreResult<ClaimAttempt>;
    /// The execution `name` of the flow that now bears `flow_name` in the account, read as
    /// `read_unleased` reads it (`NotRunning` once it has ended): what a task report needs in
    /// one read where finding the execution and then reading it would be two.
    async fn read_unleased_named(
        &self,
        account_id: &str,
        flow_name: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<Option<NamedRead>>;
    /// The signals waiting for an execution, oldest first.
    async fn pending_signals(&self, execution_id: &str) -> StoreResult<Vec<Signal>>;
    /// Commits an advance if the lease epoch is still ours.
    async fn commit(&self, commit: &ExecutionCommit) -> StoreResult<CommitOutcome>;
    /// Gives a lease back without changing anything else.
    async fn release(&self, execution_id: &str, epoch: i64, due_at: Option<i64>)
    -> StoreResult<()>;
    /// Queues a signal for an execution and makes it due now.
    async fn push_signal(&self, signal: &OutgoingSignal, now: i64) -> StoreResult<()>;
    /// Records the answer of a task call as a signal, if the call is still leased to `owner`
    /// (false: it was abandoned or reaped, and the answer is dropped).
    async fn complete_call(
        &self,
        owner: &str,
        call_key: &str,
        signal: &OutgoingSignal,
        now: i64,
    ) -> StoreResult<bool>;
    /// Gives up the task calls `owner` holds (shutting down): they become `CallLost`
    /// signals at once, so other replicas make them again without waiting for the lease.
    async fn release_calls(&self, owner: &str, now: i64) -> StoreResult<u64>;
    /// Expires the leases of these calls of `owner` (registered by a write whose outcome is
    /// unknown, and not being made): the reaper turns them into `CallLost` signals.
    async fn drop_call_leases(
        &self,
        owner: &str,
        execution_id: &str,
        call_keys: &[String],
        now: i64,
    ) -> StoreResult<()>;
    /// Extends every lease (execution and task call) held by `owner`.
    async fn heartbeat(&self, owner: &str, lease_until: i64) -> StoreResult<()>;
    /// Turns task calls whose lease expired into `CallLost` signals; returns how many.
    async fn reap_lost_calls(&self, now: i64) -> StoreResult<u64>;
    /// The earliest wake-up of a running execution and the earliest task-call lease expiry,
    /// to sleep until them (a read of two indexes).
    async fn next_wakeups(&self) -> StoreResult<Wakeups>;
    /// Executions due and not leased (the queue depth).
    async fn due_count(&self, now: i64) -> StoreResult<i64>;
}

/// Map runs of distributed Maps (docs/COMPATIBILITY.md#map-runs).
#[async_trait]
pub trait MapRunStore: Send + Sync {
    /// The map run of this execution, with the counts of its children.
    async fn get_map_run(
        &self,
        execution_id: &str,
        name: &str,
    ) -> StoreResult<Option<MapRunRecord>>;
    /// UpdateMapRun: only the values given change.
    async fn update_map_run(
        &self,
        name: &str,
        concurrency: Option<i64>,
        tolerated_count: Option<i64>,
        tolerated_percentage: Option<f64>,
    ) -> StoreResult<bool>;
    /// Marks an ended execution's running map runs aborted; returns their names.
    async fn abort_map_runs(&self, execution_id: &str, now: i64) -> StoreResult<Vec<String>>;
    /// The children of a map run that still run.
    async fn running_map_children(&self, map_run: &str) -> StoreResult<Vec<Execution>>;
}

/// Retention: ended executions are deleted once they are old enough.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Deletes, in one short transaction, up to `limit` executions that ended (any status but
    /// Running) with `stopped_at < cutoff`, oldest first, with everything that belongs to them:
    /// history events, signals, task calls and map runs. Returns how many it deleted. A running
    /// execution is never deleted; nor is the ended child of a distributed Map whose parent
    /// still runs (its map run counts it). On a store shared by replicas, one deletes at a
    /// time: a call while another replica's batch runs deletes nothing.
    async fn delete_ended_executions(&self, cutoff: i64, limit: i64) -> StoreResult<u64>;
    /// Makes the space of deleted rows reusable where the database does not do it by itself
    /// (Postgres with autovacuum off: the tables retention and nonce pruning delete from are
    /// vacuumed; SQLite reuses free pages on its own). Called after passes that deleted rows.
    async fn reclaim_space(&self) -> StoreResult<()>;
}

/// Group commit: writes of many callers in one transaction.
#[async_trait]
pub trait BatchStore: Send + Sync {
    /// Applies the writes in one transaction; one result per write, in order. Any failure
    /// fails them all (callers retry the writes one by one to isolate a bad one).
    async fn write_batch(&self, ops: &[WriteOp]) -> StoreResult<Vec<WriteResult>>;
}

/// Schedules of flows (docs/COMPATIBILITY.md#schedules) and the scheduler's claims on their fires.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    async fn create_schedule(&self, schedule: &Schedule) -> StoreResult<CreateScheduleOutcome>;
    async fn get_schedule(&self, flow_id: &str, name: &str) -> StoreResult<Option<Schedule>>;
    /// Writes `schedule` if its stored revision is still `expected_revision`. Its
    /// `next_fire_at` is written only with `reschedule` (cron or Enable changed), which also
    /// drops a scheduler's claim on the old fire.
    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_revision: i64,
        reschedule: bool,
    ) -> StoreResult<bool>;
    /// False if absent.
    async fn delete_schedule(&self, flow_id: &str, name: &str) -> StoreResult<bool>;
    /// Name ascending, starting at `from_name` (inclusive).
    async fn list_schedules(
        &self,
        flow_id: &str,
        from_name: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Schedule>>;
    /// Leases up to `limit` enabled schedules whose next fire is due and that no live
    /// claim holds; no two replicas get the same one.
    async fn claim_due_schedules(&self, claim: &Claim, limit: i64) -> StoreResult<Vec<Schedule>>;
    /// Moves a schedule from its fire at `fired_at` to `next_fire_at` and drops the claim;
    /// false (nothing written) if the fire time changed meanwhile (an update, another replica).
    async fn finish_fire(
        &self,
        schedule_id: &str,
        fired_at: i64,
        next_fire_at: Option<i64>,
    ) -> StoreResult<bool>;
    /// The earliest time an enabled schedule can be claimed: its next fire, or the expiry of
    /// the claim a replica holds on it. To sleep until it.
    async fn next_schedule_wake(&self) -> StoreResult<Option<i64>>;
    /// The flow of a schedule (by id: a re-created flow of the same name is another flow).
    async fn schedule_flow(&self, flow_id: &str) -> StoreResult<Option<Flow>>;
}

/// Replay protection and server-wide secrets.
#[async_trait]
pub trait GatewayStore: Send + Sync {
    /// Records a nonce; false if it was already recorded and has not expired.
    async fn record_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<bool>;
    async fn prune_nonces(&self, now: i64) -> StoreResult<u64>;
    /// The nonces that have not expired at `now`, the `limit` latest to expire, oldest first.
    async fn live_nonces(&self, now: i64, limit: i64) -> StoreResult<Vec<StoredNonce>>;
    /// Takes a token from the key's bucket (`rate` per second, at most `burst`); false when
    /// the bucket is empty. Shared by every replica of the store.
    async fn take_token(
        &self,
        access_key_id: &str,
        now: i64,
        rate: f64,
        burst: f64,
    ) -> StoreResult<bool>;
    /// A named secret shared by all replicas, created with `candidate` on first use.
    async fn server_key(&self, name: &str, candidate: &str) -> StoreResult<String>;
}

/// Web console sessions (any replica accepts a session another one created).
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &ConsoleSession) -> StoreResult<()>;
    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<ConsoleSession>>;
    /// Records activity at `now` (a no-op when a later time is already recorded).
    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Deletes the sessions past their absolute expiry or idle since before `idle_before`.
    async fn prune_sessions(&self, now: i64, idle_before: i64) -> StoreResult<u64>;
}

/// Everything a replica needs from its database.
#[async_trait]
pub trait Store:
    FlowStore
    + ExecutionStore
    + WorkStore
    + GatewayStore
    + VersionStore
    + BatchStore
    + MapRunStore
    + ScheduleStore
    + SessionStore
    + RetentionStore
{
    /// Which backend, for logs and metrics.
    fn backend(&self) -> Backend;
    /// True when several replicas may share this store (replay and throttling state must
    /// then live in it).
    fn is_shared(&self) -> bool;
    /// Store reachable and migrations applied.
    async fn ready(&self) -> StoreResult<()>;
    /// Wakes this replica's workers when work arrives from anywhere (another replica's
    /// commit included). The returned receiver is notified of every `WorkNotice`.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<WorkNotice>;
    /// Tells every replica about a change (new work, an execution that ended).
    async fn notify(&self, notice: WorkNotice) -> StoreResult<()>;
    /// Tells this replica's subscribers only (the other replicas learn of ends written by a
    /// group commit from the commit itself).
    fn publish_local(&self, notice: WorkNotice);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Opens the store named by a database URL (`postgres://…` or `sqlite://PATH`) and runs its
/// migrations.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(database_url).await?))
    } else if database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(database_url).await?))
    } else {
        Err(StoreError::internal(format!(
            "unsupported database URL '{}': use postgres://… or sqlite://PATH",
            redact_url(database_url)
        )))
    }
}

/// A database URL with its password hidden, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl crate::metrics::Metrics {
    /// Counts a store failure.
    pub fn store_error(&self, error: &StoreError) {
        let kind = if error.is_unavailable() {
            "unavailable"
        } else {
            "internal"
        };
        self.store_errors.with_label_values(&[kind]).inc();
    }
}
