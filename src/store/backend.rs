//! The contract a SQL backend fulfils: where its statements run, and the few things only it
//! can do (claiming due work without two replicas taking the same row, locking accounts,
//! announcing ends to other replicas). The portable store code (`sql*.rs`) is written once
//! against it; each of its implementations lists, in a where clause, the values the backend's
//! database must encode and decode (Rust does not carry such bounds from a trait to its users,
//! so they cannot live here).

use std::future::Future;

use sqlx::{Pool, Transaction};

use super::name_globs::GlobSyntax;
use super::{Claim, ClaimedExecution, StoreResult};

pub(crate) trait SqlBackend: Send + Sync + 'static {
    type Db: sqlx::Database<QueryResult: QueryResultExt>;

    /// How the backend matches flow-name globs case-sensitively.
    const NAME_GLOBS: GlobSyntax;

    /// The statement claiming due schedules (`claim_schedules_statement!`), locked so that
    /// concurrent replicas claim disjoint schedules.
    const CLAIM_SCHEDULES: &'static str;

    /// The statement selecting ended executions past their retention
    /// (`select_expired_statement!`), skipping rows another transaction holds.
    const SELECT_EXPIRED: &'static str;

    /// Where every write (and every read that must see the latest write) runs.
    fn write_pool(&self) -> &Pool<Self::Db>;

    /// Where reads that may lag the latest write slightly run.
    fn read_pool(&self) -> &Pool<Self::Db>;

    /// Leases up to `limit` due executions not leased by a live owner (`WorkStore::claim_due`).
    /// Must never give one execution to two concurrent claimers, on any replica.
    fn claim_due(
        &self,
        claim: &Claim,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<ClaimedExecution>>> + Send;

    /// Tells every other replica, once `tx` commits and only then, that these executions
    /// ended (a no-op for a backend that only one process uses).
    fn announce_ended(
        &self,
        tx: &mut Transaction<'static, Self::Db>,
        ended: &[&str],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes the retention lock until `tx` ends, so that one replica at a time deletes ended
    /// executions; false (without waiting) when another transaction holds it.
    fn try_lock_retention(
        tx: &mut Transaction<'static, Self::Db>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Makes the space of rows that retention and nonce pruning deleted reusable, where the
    /// database would not do it on its own.
    fn reclaim_space(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Locks these accounts until `tx` ends, so that transactions counting an account's
    /// flows or running executions count one after the other on every replica. Must be the
    /// first lock such a transaction takes (see `account_limits`).
    fn lock_accounts(
        tx: &mut Transaction<'static, Self::Db>,
        accounts: &[&str],
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// What the portable code reads of a statement's outcome.
pub(crate) trait QueryResultExt {
    fn rows_affected(&self) -> u64;
}

impl QueryResultExt for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::postgres::PgQueryResult::rows_affected(self)
    }
}

impl QueryResultExt for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::sqlite::SqliteQueryResult::rows_affected(self)
    }
}
