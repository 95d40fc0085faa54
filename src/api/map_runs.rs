//! DescribeMapRun and UpdateMapRun (docs/COMPATIBILITY.md#map-runs): the map runs of distributed Maps.

use serde::Serialize;
use serde_json::json;

use super::lookups::{find_execution, lookup_name};
use super::views::to_body;
use super::{ApiResult, Call};
use crate::error::ApiError;
use crate::store::MapRunRecord;
use crate::time::format_ms;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ItemCounts {
    pending: i64,
    running: i64,
    /// Spelled `Succeed` on the wire (docs/COMPATIBILITY.md#map-runs).
    succeed: i64,
    failed: i64,
    aborted: i64,
    total: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MapRunView {
    execution_name: String,
    map_run_name: String,
    status: String,
    started_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped_time: Option<String>,
    concurrency: i64,
    tolerated_failed_count: i64,
    tolerated_failed_percentage: f64,
    item_counts: ItemCounts,
}

impl MapRunView {
    fn new(execution_name: &str, run: &MapRunRecord) -> Self {
        let started = run.running + run.succeeded + run.failed + run.aborted;
        MapRunView {
            execution_name: execution_name.to_string(),
            map_run_name: run.name.clone(),
            status: run.status.clone(),
            started_time: format_ms(run.started_at),
            stopped_time: run.stopped_at.map(format_ms),
            concurrency: run.concurrency,
            tolerated_failed_count: run.tolerated_count.unwrap_or(0),
            tolerated_failed_percentage: run.tolerated_percentage.unwrap_or(0.0),
            item_counts: ItemCounts {
                pending: (run.total - started).max(0),
                running: run.running,
                succeed: run.succeeded,
                failed: run.failed,
                aborted: run.aborted,
                total: run.total,
            },
        }
    }
}

/// DescribeMapRun: the map run with the counts of its children.
pub async fn describe_map_run(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let execution_name = lookup_name(call, "ExecutionName")?;
    let map_run_name = lookup_name(call, "MapRunName")?;
    let (_, execution) = find_execution(call, flow_name, execution_name).await?;
    let run = call
        .state
        .store
        .get_map_run(&execution.identity.id, map_run_name)
        .await?
        .ok_or_else(|| ApiError::map_run_not_exists(map_run_name, execution_name))?;
    Ok(to_body(&MapRunView::new(execution_name, &run)))
}

/// UpdateMapRun: changes the concurrency or the tolerated failures of a running map run.
pub async fn update_map_run(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let flow_name = lookup_name(call, "FlowName")?;
    let execution_name = lookup_name(call, "ExecutionName")?;
    let map_run_name = lookup_name(call, "MapRunName")?;
    let concurrency = params.int(
        "Concurrency",
        1,
        crate::engine::ir::limits::DISTRIBUTED_MAP_CONCURRENCY as i64,
    )?;
    let tolerated_count = params.int("ToleratedFailedCount", 0, i64::MAX)?;
    let tolerated_percentage = params.float("ToleratedFailedPercentage", 0.0, 100.0)?;
    let (_, execution) = find_execution(call, flow_name, execution_name).await?;
    let store = &call.state.store;
    if store
        .get_map_run(&execution.identity.id, map_run_name)
        .await?
        .is_none()
    {
        return Err(ApiError::map_run_not_exists(map_run_name, execution_name));
    }
    store
        .update_map_run(
            map_run_name,
            concurrency,
            tolerated_count,
            tolerated_percentage,
        )
        .await?;
    // The running Map takes the new values from its next advance on.
    call.state
        .runtime
        .map_run_updated(
            &execution.identity.id,
            map_run_name,
            concurrency,
            tolerated_count,
            tolerated_percentage,
        )
        .await?;
    let run = store
        .get_map_run(&execution.identity.id, map_run_name)
        .await?
        .ok_or_else(|| ApiError::map_run_not_exists(map_run_name, execution_name))?;
    Ok(json!({
        "FlowName": flow_name,
        "ExecutionName": execution_name,
        "MapRunName": map_run_name,
        "Concurrency": run.concurrency,
        "ToleratedFailedCount": run.tolerated_count.unwrap_or(0),
        "ToleratedFailedPercentage": run.tolerated_percentage.unwrap_or(0.0),
    }))
}
