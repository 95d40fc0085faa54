//! Flow version actions (docs/COMPATIBILITY.md#versions-and-aliases, docs/COMPATIBILITY.md#versions-and-aliases): PublishFlowVersion, ListFlowVersions,
//! DeleteFlowVersion.

use serde::Serialize;
use serde_json::{Value, json};

use super::lookups::{find_flow, lookup_name};
use super::qualifier::version_number;
use super::views::to_body;
use super::{ApiResult, Call};
use crate::error::ApiError;
use crate::store::{DeleteVersionOutcome, FlowVersion, PublishOutcome};
use crate::time::{format_ms, now_ms};

/// A version as PublishFlowVersion and ListFlowVersions show it; `Version` is a string
/// (docs/COMPATIBILITY.md#responses).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct VersionView {
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_name: Option<String>,
    version: String,
    description: String,
    created_time: String,
}

impl VersionView {
    fn new(version: &FlowVersion, flow_name: Option<&str>) -> Self {
        VersionView {
            flow_name: flow_name.map(str::to_string),
            version: version.version.to_string(),
            description: version.description.clone(),
            created_time: format_ms(version.created_at),
        }
    }
}

/// PublishFlowVersion: snapshots the flow as its next version, even when nothing changed
/// since the last one (docs/COMPATIBILITY.md#versions-and-aliases). Without `Description` the version keeps the flow's.
pub async fn publish_flow_version(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let description = call.params.get("Description");
    let flow = find_flow(call, flow_name).await?;
    match call
        .state
        .store
        .publish_version(&flow.id, description, now_ms())
        .await?
    {
        PublishOutcome::Published(version) => {
            Ok(to_body(&VersionView::new(&version, Some(&flow.name))))
        }
        PublishOutcome::FlowGone => Err(ApiError::flow_not_exists(flow_name)),
    }
}

/// ListFlowVersions: version ascending; `NextToken` is the next version (docs/COMPATIBILITY.md#pagination).
/// `Limit` is string-typed in the SDK but holds an integer.
pub async fn list_flow_versions(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let limit = call.params.int("Limit", 1, 100)?.unwrap_or(60);
    let flow = find_flow(call, flow_name).await?;
    let from = match call.params.optional("NextToken") {
        None => 1,
        Some(token) => match version_number(token) {
            Some(version) => version,
            // Not a version number: it designates nothing, so nothing follows it.
            None => return Ok(json!({ "FlowVersions": [] })),
        },
    };
    let mut versions = call
        .state
        .store
        .list_versions(&flow.id, from, limit + 1)
        .await?;
    let next_token =
        (versions.len() as i64 > limit).then(|| versions.remove(limit as usize).version);
    let views: Vec<VersionView> = versions
        .iter()
        .map(|version| VersionView::new(version, None))
        .collect();
    let mut body = json!({ "FlowVersions": views });
    if let Some(token) = next_token {
        body["NextToken"] = Value::from(token.to_string());
    }
    Ok(body)
}

/// DeleteFlowVersion: refused while an alias routes to the version (docs/COMPATIBILITY.md#versions-and-aliases).
pub async fn delete_flow_version(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let version = lookup_name(call, "FlowVersion")?;
    let flow = find_flow(call, flow_name).await?;
    let not_exists = || ApiError::flow_version_not_exists(version, &flow.name);
    let number = version_number(version).ok_or_else(not_exists)?;
    match call.state.store.delete_version(&flow.id, number).await? {
        DeleteVersionOutcome::Deleted => Ok(json!({})),
        DeleteVersionOutcome::NotFound => Err(not_exists()),
        DeleteVersionOutcome::Routed(alias) => Err(ApiError::invalid_argument(
            "FlowVersion",
            format!("{version} cannot be deleted: alias {alias} routes to it"),
        )),
        DeleteVersionOutcome::FlowGone => Err(ApiError::flow_not_exists(flow_name)),
    }
}
