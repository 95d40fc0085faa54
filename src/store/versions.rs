//! Published flow versions and aliases (docs/COMPATIBILITY.md#versions-and-aliases): the trait and the values it reads and
//! writes. The SQL both backends share is in `sql_versions.rs`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreResult;

/// A published version: the flow's configuration when it was published.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FlowVersion {
    pub flow_id: String,
    /// 1, 2, … per flow, never reused.
    pub version: i64,
    pub description: String,
    pub definition: String,
    pub flow_type: String,
    pub role_arn: Option<String>,
    pub execution_mode: String,
    /// `{"Variables":[…]}` as JSON text, as the flow stores it.
    pub environment: Option<String>,
    pub created_at: i64,
}

/// One entry of an alias's routing: a version and its weight (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub version: i64,
    pub weight: i64,
}

/// An alias of a flow, routing executions to one or two versions.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowAlias {
    pub flow_id: String,
    pub name: String,
    pub description: String,
    /// In the order the client gave.
    pub routing: Vec<Route>,
    pub created_at: i64,
    pub modified_at: i64,
    /// Bumped by every update; UpdateFlowAlias writes only over the revision it read.
    pub revision: i64,
}

/// What publishing wrote.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishOutcome {
    Published(FlowVersion),
    /// The flow was deleted meanwhile.
    FlowGone,
}

/// What deleting a version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteVersionOutcome {
    Deleted,
    NotFound,
    /// An alias still routes to the version (named here); nothing was deleted.
    Routed(String),
    FlowGone,
}

/// What creating or updating an alias did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasOutcome {
    Written,
    /// Create: an alias of that name exists.
    AlreadyExists,
    /// Update: the alias changed or disappeared since it was read.
    Conflict,
    /// A routed version does not exist; nothing was written.
    MissingVersion(i64),
    FlowGone,
}

/// Versions and aliases of a flow. Writes that relate the two (routing to a version,
/// deleting one) take the flow's row lock first, so an alias never routes to a version
/// that is being deleted.
#[async_trait]
pub trait VersionStore: Send + Sync {
    /// Snapshots the flow's current configuration as its next version, in one transaction
    /// that also advances the flow's version counter. `description` replaces the flow's.
    async fn publish_version(
        &self,
        flow_id: &str,
        description: Option<&str>,
        now: i64,
    ) -> StoreResult<PublishOutcome>;
    async fn get_version(&self, flow_id: &str, version: i64) -> StoreResult<Option<FlowVersion>>;
    /// Versions ascending, starting at `from` (inclusive).
    async fn list_versions(
        &self,
        flow_id: &str,
        from: i64,
        limit: i64,
    ) -> StoreResult<Vec<FlowVersion>>;
    async fn delete_version(
        &self,
        flow_id: &str,
        version: i64,
    ) -> StoreResult<DeleteVersionOutcome>;
    /// Creates the alias if every routed version exists and the name is free.
    async fn create_alias(&self, alias: &FlowAlias) -> StoreResult<AliasOutcome>;
    async fn get_alias(&self, flow_id: &str, name: &str) -> StoreResult<Option<FlowAlias>>;
    /// Writes `alias` if its stored revision is still `expected_revision` and every routed
    /// version exists.
    async fn update_alias(
        &self,
        alias: &FlowAlias,
        expected_revision: i64,
    ) -> StoreResult<AliasOutcome>;
    /// Aliases by name ascending, starting at `from_name` (inclusive).
    async fn list_aliases(
        &self,
        flow_id: &str,
        from_name: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<FlowAlias>>;
    /// False if there was no such alias.
    async fn delete_alias(&self, flow_id: &str, name: &str) -> StoreResult<bool>;
}
