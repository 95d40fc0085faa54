//! StartSyncExecution (docs/COMPATIBILITY.md#synchronous-executions): an Express flow runs within the request and the answer
//! carries its result. A failed run is still HTTP 200.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::inputs::check_input;
use super::lookups::{find_flow, find_test_case, lookup_name};
use super::policy::check_stored_definition;
use super::qualifier::resolve_qualifier;
use super::views::to_body;
use super::{ApiResult, Call};
use crate::error::{ApiError, ErrorCode};
use crate::names::{check_lookup_name, check_name};
use crate::store::{ExecutionStatus, Flow, StoreError, UsedNonce, WriteOp, WriteResult};
use crate::testing::split_test_case;
use crate::time::format_ms;
use crate::worker::{SyncRequest, execution_environment};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SyncExecutionView {
    flow_name: String,
    name: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    started_time: String,
    stopped_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Value>,
}

pub async fn start_sync_execution(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let (flow_name, test_case) = split_test_case(lookup_name(call, "FlowName")?);
    let execution_name = params.optional("ExecutionName");
    if let Some(name) = execution_name {
        check_name(name).map_err(|reason| ApiError::invalid_argument("ExecutionName", reason))?;
    }
    let input = params.optional("Input").unwrap_or_default();
    check_input("Input", input)?;
    let qualifier = params.optional("Qualifier");
    // docs/COMPATIBILITY.md#names: a qualifier is looked up, so only the lookup rule applies.
    if let Some(qualifier) = qualifier {
        check_lookup_name(qualifier)
            .map_err(|reason| ApiError::invalid_argument("Qualifier", reason))?;
    }
    let mut flow = current_flow(call, flow_name).await?;
    if flow.execution_mode != "Express" {
        return Err(ApiError::new(
            ErrorCode::ActionNotSupported,
            "Standard execution is not supported.",
        ));
    }
    let test_case = find_test_case(call, &flow, test_case)?;
    // A version runs its own snapshot (docs/COMPATIBILITY.md#versions-and-aliases).
    if let Some(version) = resolve_qualifier(call, &flow, qualifier).await?.version {
        flow.definition = version.definition;
        flow.role_arn = version.role_arn;
        flow.environment = version.environment;
    }
    check_stored_definition(call, &flow, &flow.definition).await?;
    // Names need not be unique: `<ExecutionName>:<uuid>` (docs/COMPATIBILITY.md#names, docs/COMPATIBILITY.md#synchronous-executions).
    let generated = uuid::Uuid::new_v4().to_string();
    let name = match execution_name {
        Some(name) => format!("{name}:{generated}"),
        None => generated,
    };
    let environment = execution_environment(flow.environment.as_deref())
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let limit = Duration::from_secs(call.state.config.sync_execution_timeout_seconds.max(1));
    let result = call
        .state
        .runtime
        .run_sync(SyncRequest {
            flow: flow.clone(),
            name: name.clone(),
            input: input.to_string(),
            limit,
            test_case,
        })
        .await;
    let succeeded = result.status == ExecutionStatus::Succeeded;
    Ok(to_body(&SyncExecutionView {
        flow_name: flow.name,
        name,
        status: result.status.as_str().to_string(),
        output: if succeeded { result.output } else { None },
        error_code: result.error,
        error_message: result.cause,
        started_time: format_ms(result.started_at),
        stopped_time: format_ms(result.stopped_at),
        environment,
    }))
}

/// The flow as it is now: the cached copy when it is current, else read from the store (and
/// cached). A run stores nothing a stale copy could be refused by, so currency is checked
/// before: on a store that replicas share, against the flow's id and revision read with the
/// request's nonce; a store this process alone writes changes only through it, which forgets
/// the entry of a flow it changes.
async fn current_flow(call: &Call<'_>, name: &str) -> Result<Flow, ApiError> {
    let cache = &call.state.flow_cache;
    let cached = cache.get(call.account_id, name);
    let current = match call.nonce.take() {
        Some(nonce) => {
            let stored = record_nonce_reading_flow(call, nonce, name).await?;
            cached.filter(|cached| {
                stored
                    .as_ref()
                    .is_some_and(|(id, revision)| *id == cached.id && *revision == cached.revision)
            })
        }
        None if !call.state.store.is_shared() => cached,
        None => None,
    };
    if let Some(flow) = current {
        return Ok(flow);
    }
    let read_after = cache.mark();
    let flow = find_flow(call, name).await?;
    cache.insert(flow.clone(), read_after);
    Ok(flow)
}

/// Records the request's nonce (a replay is refused here, before anything runs) in the
/// transaction that reads the (id, revision) of the flow of that name.
async fn record_nonce_reading_flow(
    call: &Call<'_>,
    nonce: UsedNonce,
    name: &str,
) -> Result<Option<(String, i64)>, ApiError> {
    let op = WriteOp::NonceReadingFlow {
        nonce,
        account_id: call.account_id.to_string(),
        flow_name: name.to_string(),
    };
    match call.state.runtime.batcher().write(op).await? {
        WriteResult::NonceReadingFlow { new: true, flow } => Ok(flow),
        WriteResult::NonceReadingFlow { new: false, .. } => Err(ApiError::signature_nonce_used()),
        other => {
            let unexpected = format!("unexpected write result {other:?}");
            Err(StoreError::internal(unexpected).into())
        }
    }
}
