//! The RPC gateway (docs/COMPATIBILITY.md#transport): one path, `Action=…` selects the handler.
//!
//! Every request goes through `gateway::handle`: method and path, body size and type,
//! parameters, authentication (signature, clock skew, nonce, policy), throttling, then the
//! action's handler. The order of those checks is the one docs/COMPATIBILITY.md#order-of-checks prescribes.

mod aliases;
mod executions;
mod flow_cache;
mod flows;
mod gateway;
mod inputs;
mod lookups;
mod map_runs;
pub mod params;
mod policy;
mod qualifier;
mod regions;
mod response;
mod schedules;
mod sync_execution;
mod tasks;
mod versions;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get};

use crate::auth::gate::Authenticator;
use crate::config::Config;
use crate::error::ApiError;
use crate::store::Store;
use crate::throttle::Throttle;
use crate::worker::Runtime;
pub use flow_cache::FlowCache;
pub use gateway::call_as;
use params::Params;
pub use response::{error_response, new_request_id, raw_error_response};

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub runtime: Arc<Runtime>,
    /// The flows StartExecution starts without reading them.
    pub flow_cache: Arc<FlowCache>,
    /// Keys, policies and replay protection.
    pub auth: Arc<Authenticator>,
    pub throttle: Arc<Throttle>,
    pub scheduler: Arc<crate::schedule::Scheduler>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The router production runs; tests build exactly this.
/// Every answer, whatever the path and method, is the gateway's (with the error envelope),
/// except the operational endpoints' GETs; a handler that panics is answered
/// `InternalServerError` in the envelope too.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(gateway::healthz).fallback(gateway::handle))
        .route("/readyz", get(gateway::readyz).fallback(gateway::handle))
        .route("/metrics", get(gateway::metrics).fallback(gateway::handle))
        .route("/", any(gateway::handle))
        .fallback(gateway::handle)
        .with_state(state)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            gateway::panicked,
        ))
}

/// The actions of API version 2019-03-15 (docs/COMPATIBILITY.md#resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    CreateFlow,
    UpdateFlow,
    DeleteFlow,
    DescribeFlow,
    ListFlows,
    StartExecution,
    StartSyncExecution,
    StopExecution,
    DescribeExecution,
    ListExecutions,
    GetExecutionHistory,
    ReportTaskSucceeded,
    ReportTaskFailed,
    CreateSchedule,
    UpdateSchedule,
    DeleteSchedule,
    DescribeSchedule,
    ListSchedules,
    PublishFlowVersion,
    ListFlowVersions,
    DeleteFlowVersion,
    CreateFlowAlias,
    UpdateFlowAlias,
    DescribeFlowAlias,
    ListFlowAliases,
    DeleteFlowAlias,
    DescribeMapRun,
    UpdateMapRun,
    DescribeRegions,
}

impl Action {
    pub const ALL: [Action; 29] = [
        Action::CreateFlow,
        Action::UpdateFlow,
        Action::DeleteFlow,
        Action::DescribeFlow,
        Action::ListFlows,
        Action::StartExecution,
        Action::StartSyncExecution,
        Action::StopExecution,
        Action::DescribeExecution,
        Action::ListExecutions,
        Action::GetExecutionHistory,
        Action::ReportTaskSucceeded,
        Action::ReportTaskFailed,
        Action::CreateSchedule,
        Action::UpdateSchedule,
        Action::DeleteSchedule,
        Action::DescribeSchedule,
        Action::ListSchedules,
        Action::PublishFlowVersion,
        Action::ListFlowVersions,
        Action::DeleteFlowVersion,
        Action::CreateFlowAlias,
        Action::UpdateFlowAlias,
        Action::DescribeFlowAlias,
        Action::ListFlowAliases,
        Action::DeleteFlowAlias,
        Action::DescribeMapRun,
        Action::UpdateMapRun,
        Action::DescribeRegions,
    ];

    /// Action names are case-sensitive (docs/COMPATIBILITY.md#action-and-version).
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::CreateFlow => "CreateFlow",
            Action::UpdateFlow => "UpdateFlow",
            Action::DeleteFlow => "DeleteFlow",
            Action::DescribeFlow => "DescribeFlow",
            Action::ListFlows => "ListFlows",
            Action::StartExecution => "StartExecution",
            Action::StartSyncExecution => "StartSyncExecution",
            Action::StopExecution => "StopExecution",
            Action::DescribeExecution => "DescribeExecution",
            Action::ListExecutions => "ListExecutions",
            Action::GetExecutionHistory => "GetExecutionHistory",
            Action::ReportTaskSucceeded => "ReportTaskSucceeded",
            Action::ReportTaskFailed => "ReportTaskFailed",
            Action::CreateSchedule => "CreateSchedule",
            Action::UpdateSchedule => "UpdateSchedule",
            Action::DeleteSchedule => "DeleteSchedule",
            Action::DescribeSchedule => "DescribeSchedule",
            Action::ListSchedules => "ListSchedules",
            Action::PublishFlowVersion => "PublishFlowVersion",
            Action::ListFlowVersions => "ListFlowVersions",
            Action::DeleteFlowVersion => "DeleteFlowVersion",
            Action::CreateFlowAlias => "CreateFlowAlias",
            Action::UpdateFlowAlias => "UpdateFlowAlias",
            Action::DescribeFlowAlias => "DescribeFlowAlias",
            Action::ListFlowAliases => "ListFlowAliases",
            Action::DeleteFlowAlias => "DeleteFlowAlias",
            Action::DescribeMapRun => "DescribeMapRun",
            Action::UpdateMapRun => "UpdateMapRun",
            Action::DescribeRegions => "DescribeRegions",
        }
    }

    /// The parameter naming the flow the action works on, for per-key flow policies.
    fn flow_parameter(self) -> Option<&'static str> {
        match self {
            Action::CreateFlow | Action::UpdateFlow | Action::DeleteFlow | Action::DescribeFlow => {
                Some("Name")
            }
            Action::ListFlows
            | Action::ReportTaskSucceeded
            | Action::ReportTaskFailed
            | Action::DescribeRegions => None,
            _ => Some("FlowName"),
        }
    }
}

/// One authenticated call, as handlers see it.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub account_id: &'a str,
    pub key: &'a crate::auth::credentials::KeyEntry,
    pub params: &'a Params,
    /// The `Host` the client used (DescribeRegions' endpoint).
    pub host: &'a str,
    /// The request's nonce, when the action's write is to record it.
    pub nonce: &'a crate::auth::gate::PendingNonce,
}

pub type ApiResult = Result<serde_json::Value, ApiError>;

/// Runs the handler of an action.
async fn dispatch(action: Action, call: &Call<'_>) -> ApiResult {
    match action {
        Action::CreateFlow => flows::create_flow(call).await,
        Action::UpdateFlow => flows::update_flow(call).await,
        Action::DeleteFlow => flows::delete_flow(call).await,
        Action::DescribeFlow => flows::describe_flow(call).await,
        Action::ListFlows => flows::list_flows(call).await,
        Action::StartExecution => executions::start_execution(call).await,
        Action::StopExecution => executions::stop_execution(call).await,
        Action::DescribeExecution => executions::describe_execution(call).await,
        Action::ListExecutions => executions::list_executions(call).await,
        Action::GetExecutionHistory => executions::get_execution_history(call).await,
        Action::ReportTaskSucceeded => tasks::report_task_succeeded(call).await,
        Action::ReportTaskFailed => tasks::report_task_failed(call).await,
        Action::DescribeRegions => regions::describe_regions(call).await,
        Action::StartSyncExecution => sync_execution::start_sync_execution(call).await,
        Action::CreateSchedule => schedules::create_schedule(call).await,
        Action::UpdateSchedule => schedules::update_schedule(call).await,
        Action::DeleteSchedule => schedules::delete_schedule(call).await,
        Action::DescribeSchedule => schedules::describe_schedule(call).await,
        Action::ListSchedules => schedules::list_schedules(call).await,
        Action::PublishFlowVersion => versions::publish_flow_version(call).await,
        Action::ListFlowVersions => versions::list_flow_versions(call).await,
        Action::DeleteFlowVersion => versions::delete_flow_version(call).await,
        Action::CreateFlowAlias => aliases::create_flow_alias(call).await,
        Action::UpdateFlowAlias => aliases::update_flow_alias(call).await,
        Action::DescribeFlowAlias => aliases::describe_flow_alias(call).await,
        Action::ListFlowAliases => aliases::list_flow_aliases(call).await,
        Action::DeleteFlowAlias => aliases::delete_flow_alias(call).await,
        Action::DescribeMapRun => map_runs::describe_map_run(call).await,
        Action::UpdateMapRun => map_runs::update_map_run(call).await,
    }
}
