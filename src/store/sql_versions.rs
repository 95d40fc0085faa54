//! The version and alias queries both backends share (same conventions as `sql.rs`: BIGINT
//! milliseconds, JSON as TEXT, `$N` placeholders), on any `SqlBackend`.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use super::backend::{QueryResultExt, SqlBackend};
use super::{
    AliasOutcome, DeleteVersionOutcome, FlowAlias, FlowVersion, PublishOutcome, Route, StoreError,
    StoreResult, VersionStore,
};

/// Columns of `flow_aliases` read into an `AliasRow` (a macro so `concat!` can use it).
macro_rules! alias_columns {
    () => {
        "flow_id, name, description, routing, created_at, modified_at, revision"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct AliasRow {
    pub flow_id: String,
    pub name: String,
    pub description: String,
    /// JSON array of `Route`s.
    pub routing: String,
    pub created_at: i64,
    pub modified_at: i64,
    pub revision: i64,
}

impl TryFrom<AliasRow> for FlowAlias {
    type Error = StoreError;
    fn try_from(row: AliasRow) -> Result<Self, Self::Error> {
        let routing = parse_routing(&row.routing)?;
        Ok(FlowAlias {
            flow_id: row.flow_id,
            name: row.name,
            description: row.description,
            routing,
            created_at: row.created_at,
            modified_at: row.modified_at,
            revision: row.revision,
        })
    }
}

pub(super) fn parse_routing(text: &str) -> Result<Vec<Route>, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::internal(format!("unreadable alias routing {text:?}: {e}")))
}

pub(super) fn routing_text(routing: &[Route]) -> String {
    serde_json::to_string(routing).expect("routes serialize")
}

/// The flow's columns a published version copies, read as its counter advances.
type PublishedFlow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

const SELECT_ALIAS: &str = concat!(
    "SELECT ",
    alias_columns!(),
    " FROM flow_aliases WHERE flow_id = $1 AND name = $2"
);
const LIST_ALIASES: &str = concat!(
    "SELECT ",
    alias_columns!(),
    " FROM flow_aliases WHERE flow_id = $1 AND (CAST($2 AS TEXT) IS NULL OR name >= $2) \
     ORDER BY name ASC LIMIT $3"
);

/// Takes the flow's row lock (a no-op update: portable, unlike `FOR UPDATE`) so
/// writes relating aliases and versions of one flow run one at a time. False if
/// the flow is gone.
async fn lock_flow<Db>(tx: &mut Transaction<'static, Db>, flow_id: &str) -> StoreResult<bool>
where
    Db: Database<QueryResult: QueryResultExt>,
    <Db as Database>::Arguments: IntoArguments<Db>,
    for<'c> &'c mut <Db as Database>::Connection: Executor<'c, Database = Db>,
    for<'t> &'t str: Encode<'t, Db> + Type<Db>,
{
    let done = sqlx::query("UPDATE flows SET last_version = last_version WHERE id = $1")
        .bind(flow_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The first routed version that does not exist, if any.
async fn missing_version<Db>(
    tx: &mut Transaction<'static, Db>,
    flow_id: &str,
    routing: &[Route],
) -> StoreResult<Option<i64>>
where
    Db: Database,
    <Db as Database>::Arguments: IntoArguments<Db>,
    for<'c> &'c mut <Db as Database>::Connection: Executor<'c, Database = Db>,
    for<'t> &'t str: Encode<'t, Db> + Type<Db>,
    for<'t> i64: Encode<'t, Db> + Type<Db>,
    (i64,): for<'r> FromRow<'r, <Db as Database>::Row>,
{
    for route in routing {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM flow_versions WHERE flow_id = $1 AND version = $2",
        )
        .bind(flow_id)
        .bind(route.version)
        .fetch_optional(&mut **tx)
        .await?;
        if found.is_none() {
            return Ok(Some(route.version));
        }
    }
    Ok(None)
}

#[async_trait]
impl<B> VersionStore for B
where
    B: SqlBackend,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'t> &'t str: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> &'t String: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> String: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<&'t str>: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> Option<String>: Encode<'t, B::Db> + Type<B::Db>,
    for<'t> i64: Encode<'t, B::Db> + Type<B::Db>,
    FlowVersion: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    AliasRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (i64,): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    (String, String): for<'r> FromRow<'r, <B::Db as Database>::Row>,
    PublishedFlow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    async fn publish_version(
        &self,
        flow_id: &str,
        description: Option<&str>,
        now: i64,
    ) -> StoreResult<PublishOutcome> {
        let mut tx = self.write_pool().begin().await?;
        // Reading the flow in the statement that advances its counter makes the
        // snapshot and the number one consistent step.
        let flow: Option<PublishedFlow> = sqlx::query_as(
            "UPDATE flows SET last_version = last_version + 1 WHERE id = $1 \
                 RETURNING last_version, description, definition, flow_type, role_arn, \
                 execution_mode, environment",
        )
        .bind(flow_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((
            version,
            flow_description,
            definition,
            flow_type,
            role_arn,
            execution_mode,
            environment,
        )) = flow
        else {
            return Ok(PublishOutcome::FlowGone);
        };
        let published = FlowVersion {
            flow_id: flow_id.to_string(),
            version,
            description: description.map_or(flow_description, str::to_string),
            definition,
            flow_type,
            role_arn,
            execution_mode,
            environment,
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO flow_versions (flow_id, version, description, definition, flow_type, \
             role_arn, execution_mode, environment, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&published.flow_id)
        .bind(published.version)
        .bind(&published.description)
        .bind(&published.definition)
        .bind(&published.flow_type)
        .bind(&published.role_arn)
        .bind(&published.execution_mode)
        .bind(&published.environment)
        .bind(published.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(PublishOutcome::Published(published))
    }

    async fn get_version(&self, flow_id: &str, version: i64) -> StoreResult<Option<FlowVersion>> {
        Ok(sqlx::query_as::<B::Db, FlowVersion>(
            "SELECT * FROM flow_versions WHERE flow_id = $1 AND version = $2",
        )
        .bind(flow_id)
        .bind(version)
        .fetch_optional(self.read_pool())
        .await?)
    }

    async fn list_versions(
        &self,
        flow_id: &str,
        from: i64,
        limit: i64,
    ) -> StoreResult<Vec<FlowVersion>> {
        Ok(sqlx::query_as::<B::Db, FlowVersion>(
            "SELECT * FROM flow_versions WHERE flow_id = $1 AND version >= $2 \
             ORDER BY version ASC LIMIT $3",
        )
        .bind(flow_id)
        .bind(from)
        .bind(limit)
        .fetch_all(self.read_pool())
        .await?)
    }

    async fn delete_version(
        &self,
        flow_id: &str,
        version: i64,
    ) -> StoreResult<DeleteVersionOutcome> {
        let mut tx = self.write_pool().begin().await?;
        if !lock_flow(&mut tx, flow_id).await? {
            return Ok(DeleteVersionOutcome::FlowGone);
        }
        // Routing is JSON text, so the check runs here rather than in SQL.
        let aliases: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, routing FROM flow_aliases WHERE flow_id = $1 ORDER BY name",
        )
        .bind(flow_id)
        .fetch_all(&mut *tx)
        .await?;
        for (name, routing) in aliases {
            if parse_routing(&routing)?
                .iter()
                .any(|route| route.version == version)
            {
                return Ok(DeleteVersionOutcome::Routed(name));
            }
        }
        let done = sqlx::query("DELETE FROM flow_versions WHERE flow_id = $1 AND version = $2")
            .bind(flow_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(DeleteVersionOutcome::NotFound);
        }
        tx.commit().await?;
        Ok(DeleteVersionOutcome::Deleted)
    }

    async fn create_alias(&self, alias: &FlowAlias) -> StoreResult<AliasOutcome> {
        let mut tx = self.write_pool().begin().await?;
        if !lock_flow(&mut tx, &alias.flow_id).await? {
            return Ok(AliasOutcome::FlowGone);
        }
        if let Some(version) = missing_version(&mut tx, &alias.flow_id, &alias.routing).await? {
            return Ok(AliasOutcome::MissingVersion(version));
        }
        let done = sqlx::query(
            "INSERT INTO flow_aliases (flow_id, name, description, routing, created_at, \
             modified_at, revision) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (flow_id, name) DO NOTHING",
        )
        .bind(&alias.flow_id)
        .bind(&alias.name)
        .bind(&alias.description)
        .bind(routing_text(&alias.routing))
        .bind(alias.created_at)
        .bind(alias.modified_at)
        .bind(alias.revision)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(AliasOutcome::AlreadyExists);
        }
        tx.commit().await?;
        Ok(AliasOutcome::Written)
    }

    async fn get_alias(&self, flow_id: &str, name: &str) -> StoreResult<Option<FlowAlias>> {
        sqlx::query_as::<B::Db, AliasRow>(SELECT_ALIAS)
            .bind(flow_id)
            .bind(name)
            .fetch_optional(self.read_pool())
            .await?
            .map(FlowAlias::try_from)
            .transpose()
    }

    async fn update_alias(
        &self,
        alias: &FlowAlias,
        expected_revision: i64,
    ) -> StoreResult<AliasOutcome> {
        let mut tx = self.write_pool().begin().await?;
        if !lock_flow(&mut tx, &alias.flow_id).await? {
            return Ok(AliasOutcome::FlowGone);
        }
        if let Some(version) = missing_version(&mut tx, &alias.flow_id, &alias.routing).await? {
            return Ok(AliasOutcome::MissingVersion(version));
        }
        let done = sqlx::query(
            "UPDATE flow_aliases SET description = $1, routing = $2, modified_at = $3, revision = $4 \
             WHERE flow_id = $5 AND name = $6 AND revision = $7",
        )
        .bind(&alias.description)
        .bind(routing_text(&alias.routing))
        .bind(alias.modified_at)
        .bind(alias.revision)
        .bind(&alias.flow_id)
        .bind(&alias.name)
        .bind(expected_revision)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(AliasOutcome::Conflict);
        }
        tx.commit().await?;
        Ok(AliasOutcome::Written)
    }

    async fn list_aliases(
        &self,
        flow_id: &str,
        from_name: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<FlowAlias>> {
        sqlx::query_as::<B::Db, AliasRow>(LIST_ALIASES)
            .bind(flow_id)
            .bind(from_name)
            .bind(limit)
            .fetch_all(self.read_pool())
            .await?
            .into_iter()
            .map(FlowAlias::try_from)
            .collect()
    }

    async fn delete_alias(&self, flow_id: &str, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM flow_aliases WHERE flow_id = $1 AND name = $2")
            .bind(flow_id)
            .bind(name)
            .execute(self.write_pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
