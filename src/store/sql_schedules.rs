//! The schedule queries both backends share (see `sql.rs` for why one SQL text serves both).
//! The one difference is the claim's row locking (`SqlBackend::CLAIM_SCHEDULES`): Postgres
//! locks the candidates `FOR UPDATE SKIP LOCKED` so concurrent replicas claim disjoint rows;
//! SQLite runs one writer at a time, so its single `UPDATE … RETURNING` needs no lock clause.

/// Columns of `schedules` read into a `Schedule` (a macro so `concat!` can use it).
macro_rules! schedule_columns {
    () => {
        "id, account_id, flow_id, name, description, payload, cron_expression, enable, \
         created_at, modified_at, revision, next_fire_at"
    };
}

/// The claim of due schedules, closing its candidate subquery with `$lock`. The outer WHERE
/// repeats the conditions: Postgres re-checks them on the latest row version should a
/// concurrent claim commit first.
macro_rules! claim_schedules_statement {
    ($lock:literal) => {
        concat!(
            "UPDATE schedules SET lease_owner = $1, lease_until = $2 \
             WHERE id IN (SELECT id FROM schedules WHERE enable AND next_fire_at <= $3 \
             AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_fire_at LIMIT $4 ",
            $lock,
            ") AND enable AND next_fire_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
             RETURNING ",
            $crate::store::sql_schedules::schedule_columns!()
        )
    };
}

pub(super) use {claim_schedules_statement, schedule_columns};

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::backend::{QueryResultExt, SqlBackend};
use super::{Claim, CreateScheduleOutcome, Flow, Schedule, ScheduleStore, StoreResult};

#[async_trait]
impl<B> ScheduleStore for B
where
    B: SqlBackend,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'t> &'t str: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> &'t String: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> i64: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<i64>: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<&'t str>: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> bool: Encode<'t, B::Db> + Type<B::Db>,
    Schedule: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    Flow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (Option<i64>,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn create_schedule(&self, schedule: &Schedule) -> StoreResult<CreateScheduleOutcome> {
        let done = sqlx::query(
            "INSERT INTO schedules (id, account_id, flow_id, name, description, payload, \
             cron_expression, enable, created_at, modified_at, revision, next_fire_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (flow_id, name) DO NOTHING",
        )
        .bind(&schedule.id)
        .bind(&schedule.account_id)
        .bind(&schedule.flow_id)
        .bind(&schedule.name)
        .bind(&schedule.description)
        .bind(&schedule.payload)
        .bind(&schedule.cron_expression)
        .bind(schedule.enable)
        .bind(schedule.created_at)
        .bind(schedule.modified_at)
        .bind(schedule.revision)
        .bind(schedule.next_fire_at)
        .execute(self.write_pool())
        .await?;
        Ok(if done.rows_affected() == 1 {
            CreateScheduleOutcome::Created
        } else {
            CreateScheduleOutcome::AlreadyExists
        })
    }

    async fn get_schedule(&self, flow_id: &str, name: &str) -> StoreResult<Option<Schedule>> {
        Ok(sqlx::query_as::<B::Db, Schedule>(concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE flow_id = $1 AND name = $2"
        ))
        .bind(flow_id)
        .bind(name)
        .fetch_optional(self.read_pool())
        .await?)
    }

    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_revision: i64,
        reschedule: bool,
    ) -> StoreResult<bool> {
        // A reschedule also drops the claim on the old fire: the scheduler holding it
        // finds the fire time changed and writes nothing (`finish_fire`).
        let done = sqlx::query(
            "UPDATE schedules SET description = $1, payload = $2, cron_expression = $3, \
             enable = $4, modified_at = $5, revision = $6, \
             next_fire_at = CASE WHEN $7 THEN $8 ELSE next_fire_at END, \
             lease_owner = CASE WHEN $7 THEN NULL ELSE lease_owner END, \
             lease_until = CASE WHEN $7 THEN NULL ELSE lease_until END \
             WHERE id = $9 AND revision = $10",
        )
        .bind(&schedule.description)
        .bind(&schedule.payload)
        .bind(&schedule.cron_expression)
        .bind(schedule.enable)
        .bind(schedule.modified_at)
        .bind(schedule.revision)
        .bind(reschedule)
        .bind(schedule.next_fire_at)
        .bind(&schedule.id)
        .bind(expected_revision)
        .execute(self.write_pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_schedule(&self, flow_id: &str, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM schedules WHERE flow_id = $1 AND name = $2")
            .bind(flow_id)
            .bind(name)
            .execute(self.write_pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_schedules(
        &self,
        flow_id: &str,
        from_name: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Schedule>> {
        Ok(sqlx::query_as::<B::Db, Schedule>(concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE flow_id = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR name >= $2) ORDER BY name ASC LIMIT $3"
        ))
        .bind(flow_id)
        .bind(from_name)
        .bind(limit)
        .fetch_all(self.read_pool())
        .await?)
    }

    async fn claim_due_schedules(&self, claim: &Claim, limit: i64) -> StoreResult<Vec<Schedule>> {
        Ok(sqlx::query_as::<B::Db, Schedule>(B::CLAIM_SCHEDULES)
            .bind(&claim.owner)
            .bind(claim.lease_until)
            .bind(claim.now)
            .bind(limit)
            .fetch_all(self.write_pool())
            .await?)
    }

    async fn finish_fire(
        &self,
        schedule_id: &str,
        fired_at: i64,
        next_fire_at: Option<i64>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE schedules SET next_fire_at = $1, lease_owner = NULL, lease_until = NULL \
             WHERE id = $2 AND next_fire_at = $3",
        )
        .bind(next_fire_at)
        .bind(schedule_id)
        .bind(fired_at)
        .execute(self.write_pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn next_schedule_wake(&self) -> StoreResult<Option<i64>> {
        // A schedule is claimable from its next fire on, once no claim holds it.
        Ok(sqlx::query_scalar(
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until >= next_fire_at \
             THEN lease_until + 1 ELSE next_fire_at END) \
             FROM schedules WHERE enable AND next_fire_at IS NOT NULL",
        )
        .fetch_one(self.read_pool())
        .await?)
    }

    async fn schedule_flow(&self, flow_id: &str) -> StoreResult<Option<Flow>> {
        Ok(
            sqlx::query_as::<B::Db, Flow>("SELECT * FROM flows WHERE id = $1")
                .bind(flow_id)
                .fetch_optional(self.read_pool())
                .await?,
        )
    }
}
