//! Execution actions (docs/COMPATIBILITY.md#executions).

use std::time::Duration;

use serde_json::{Value, json};

use super::inputs::{bounded, check_input};
use super::lookups::{find_execution, find_flow, find_test_case, lookup_name};
use super::policy::{check_stored_definition, check_token_flow};
use super::qualifier::resolve_qualifier;
use super::views::{ExecutionFields, ExecutionView, HistoryEventView, to_body};
use super::{ApiResult, Call};
use crate::error::ApiError;
use crate::names::{check_lookup_name, check_name, shorten};
use crate::store::{ExecutionQuery, ExecutionStatus, Flow, StartOutcome};
use crate::testing::split_test_case;
use crate::time::parse_rfc3339_ms;
use crate::worker::StartRequest;

/// StartExecution (docs/COMPATIBILITY.md#executions).
pub async fn start_execution(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let (flow_name, test_case) = split_test_case(lookup_name(call, "FlowName")?);
    let execution_name = params.optional("ExecutionName");
    if let Some(name) = execution_name {
        check_name(name).map_err(|reason| ApiError::invalid_argument("ExecutionName", reason))?;
    }
    let input = params.optional("Input").unwrap_or_default();
    check_input("Input", input)?;
    let callback_token = params.optional("CallbackFnFTaskToken").map(str::to_string);
    // The execution will report its end to that token's task.
    if let Some(token) = &callback_token {
        check_token_flow(call, token)?;
    }
    let qualifier = params.optional("Qualifier");
    // docs/COMPATIBILITY.md#names: a qualifier is looked up, so only the lookup rule applies.
    if let Some(qualifier) = qualifier {
        check_lookup_name(qualifier)
            .map_err(|reason| ApiError::invalid_argument("Qualifier", reason))?;
    }
    let start = Start {
        flow_name,
        test_case,
        execution_name,
        input,
        callback_token,
        qualifier,
    };
    // Versions and aliases are read on every start (an empty qualifier is none).
    let cacheable = qualifier.is_none_or(str::is_empty);
    let cached = match cacheable {
        true => start_cached(call, &start).await?,
        false => None,
    };
    let outcome = match cached {
        Some(outcome) => outcome,
        None => {
            let read_after = call.state.flow_cache.mark();
            let flow = find_flow(call, flow_name).await?;
            if cacheable {
                call.state.flow_cache.insert(flow.clone(), read_after);
            }
            let request = start_request(call, &start, flow, false).await?;
            call.state.runtime.start_execution(request).await?
        }
    };
    match outcome {
        // An execution of that name still running is returned instead of a new one.
        StartOutcome::Started(execution) | StartOutcome::Running(execution) => Ok(to_body(
            &ExecutionView::new(&execution, ExecutionFields::default()),
        )),
        StartOutcome::AlreadyEnded(execution) => Err(ApiError::execution_already_exists(
            &execution.identity.name,
            &execution.identity.flow_name,
        )),
        StartOutcome::Throttled => Err(ApiError::resource_throttled(&format!(
            "the account already has the maximum of {} running executions",
            call.state.config.max_running_executions_per_account
        ))),
        // Only starts from a cached flow are guarded, and those are retried above.
        StartOutcome::StaleFlow => Err(ApiError::internal()),
        StartOutcome::NonceUsed => Err(ApiError::signature_nonce_used()),
    }
}

/// A StartExecution's checked parameters.
struct Start<'a> {
    flow_name: &'a str,
    test_case: Option<&'a str>,
    execution_name: Option<&'a str>,
    input: &'a str,
    callback_token: Option<String>,
    qualifier: Option<&'a str>,
}

/// Starts from the cached flow, if any. `None` when the store must be read instead: no
/// cached flow, a check the cached flow fails (the stored one may pass it), or a flow that
/// changed since it was cached (the write refused it, so nothing was started).
async fn start_cached(
    call: &Call<'_>,
    start: &Start<'_>,
) -> Result<Option<StartOutcome>, ApiError> {
    let cache = &call.state.flow_cache;
    let Some(flow) = cache.get(call.account_id, start.flow_name) else {
        return Ok(None);
    };
    let Ok(request) = start_request(call, start, flow, true).await else {
        return Ok(None);
    };
    match call.state.runtime.start_execution(request).await? {
        StartOutcome::StaleFlow => {
            cache.forget(call.account_id, start.flow_name);
            Ok(None)
        }
        outcome => Ok(Some(outcome)),
    }
}

/// The start of `flow` that `start` asks for, once the flow's own checks pass.
async fn start_request(
    call: &Call<'_>,
    start: &Start<'_>,
    flow: Flow,
    flow_from_cache: bool,
) -> Result<StartRequest, ApiError> {
    if flow.execution_mode == "Express" {
        return Err(ApiError::new(
            crate::error::ErrorCode::ActionNotSupported,
            "Express execution is not supported.",
        ));
    }
    let test_case = find_test_case(call, &flow, start.test_case)?;
    let resolved = resolve_qualifier(call, &flow, start.qualifier).await?;
    let runs = resolved
        .version
        .as_ref()
        .map_or(&flow.definition, |version| &version.definition);
    check_stored_definition(call, &flow, runs).await?;
    Ok(StartRequest {
        flow,
        name: start.execution_name.map(str::to_string),
        input: start.input.to_string(),
        callback_token: start.callback_token.clone(),
        qualifier: resolved.qualifier,
        flow_version: resolved.version,
        started_by: None,
        test_case,
        flow_from_cache,
        nonce: call.nonce.take(),
    })
}

/// StopExecution (docs/COMPATIBILITY.md#executions).
pub async fn stop_execution(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let execution_name = lookup_name(call, "ExecutionName")?;
    let error = bounded(call, "Error", 128)?;
    let cause = bounded(call, "Cause", 4096)?;
    let (_, execution) = find_execution(call, flow_name, execution_name).await?;
    let completed = || ApiError::execution_already_completed(execution_name, flow_name);
    if execution.status.is_terminal() {
        return Err(completed());
    }
    let stopped = call
        .state
        .runtime
        .stop_execution(&execution, error, cause)
        .await?
        .ok_or_else(completed)?;
    let fields = ExecutionFields {
        role_arn: true,
        ..ExecutionFields::default()
    };
    Ok(to_body(&ExecutionView::new(&stopped, fields)))
}

/// DescribeExecution (docs/COMPATIBILITY.md#executions), with long polling up to `WaitTimeSeconds`.
pub async fn describe_execution(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let execution_name = lookup_name(call, "ExecutionName")?;
    let wait = call.params.int("WaitTimeSeconds", 0, 60)?.unwrap_or(0);
    let (_, mut execution) = find_execution(call, flow_name, execution_name).await?;
    if wait > 0 && !execution.status.is_terminal() {
        call.state
            .runtime
            .wait_for_end(&execution.identity.id, Duration::from_secs(wait as u64))
            .await?;
        if let Some(latest) = call
            .state
            .store
            .get_execution_by_id(&execution.identity.id)
            .await?
        {
            execution = latest;
        }
    }
    let fields = ExecutionFields {
        environment: true,
        ..ExecutionFields::default()
    };
    Ok(to_body(&ExecutionView::new(&execution, fields)))
}

/// ListExecutions (docs/COMPATIBILITY.md#executions): start time descending, then name; `NextToken` is the next
/// execution's name.
pub async fn list_executions(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let flow_name = lookup_name(call, "FlowName")?;
    let limit = params.int("Limit", 1, 100)?.unwrap_or(60);
    let status = params
        .optional("Status")
        .map(|status| {
            status.parse::<ExecutionStatus>().map_err(|_| {
                ApiError::invalid_argument(
                    "Status",
                    format!(
                        "must be one of Starting, Running, Stopped, Succeeded, Failed, TimedOut, got '{}'",
                        shorten(status)
                    ),
                )
            })
        })
        .transpose()?;
    let started_from = time_param(call, "StartedTimeBegin")?;
    let started_to = time_param(call, "StartedTimeEnd")?;
    let metadata_only = params.bool("MetadataOnly")?.unwrap_or(false);
    let flow = find_flow(call, flow_name).await?;
    let mut query = ExecutionQuery {
        flow_id: flow.id.clone(),
        status,
        name_prefix: params.optional("ExecutionNamePrefix").map(str::to_string),
        started_from,
        started_to,
        qualifier: params.optional("Qualifier").map(str::to_string),
        limit: limit + 1,
        from: None,
        map_run: None,
    };
    let empty = || json!({ "Executions": [] });
    // The children of a distributed Map's map run are listed only by their map run.
    query.map_run = params.optional("MapRunName").map(str::to_string);
    if let Some(token) = params.optional("NextToken") {
        // A token that designates no execution matches nothing (never an error).
        match call.state.store.get_execution(&flow.id, token).await? {
            Some(next) => query.from = Some((next.started_at, next.identity.name)),
            None => return Ok(empty()),
        }
    }
    let mut executions = call.state.store.list_executions(&query).await?;
    let next_token =
        (executions.len() as i64 > limit).then(|| executions.remove(limit as usize).identity.name);
    let fields = ExecutionFields {
        metadata_only,
        environment: true,
        role_arn: false,
    };
    let views: Vec<ExecutionView> = executions
        .iter()
        .map(|execution| ExecutionView::new(execution, fields))
        .collect();
    let mut body = json!({ "Executions": views });
    if let Some(token) = next_token {
        body["NextToken"] = Value::from(token);
    }
    Ok(body)
}

/// GetExecutionHistory (docs/COMPATIBILITY.md#executions): event id ascending; `NextToken` is the next id.
pub async fn get_execution_history(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let execution_name = lookup_name(call, "ExecutionName")?;
    let limit = call.params.int("Limit", 1, 999)?.unwrap_or(60);
    let (_, execution) = find_execution(call, flow_name, execution_name).await?;
    let from = match call.params.optional("NextToken") {
        None => 1,
        Some(token) => match token.trim().parse::<i64>() {
            Ok(id) => id,
            // Not an event id: it designates nothing, so nothing follows it.
            Err(_) => return Ok(json!({ "Events": [] })),
        },
    };
    let mut events = call
        .state
        .store
        .list_history(&execution.identity.id, from, limit + 1)
        .await?;
    let next_token = (events.len() as i64 > limit).then(|| events.remove(limit as usize).event_id);
    let views: Vec<HistoryEventView> = events.into_iter().map(HistoryEventView::from).collect();
    let mut body = json!({ "Events": views });
    if let Some(token) = next_token {
        body["NextToken"] = Value::from(token.to_string());
    }
    Ok(body)
}

fn time_param(call: &Call<'_>, name: &str) -> Result<Option<i64>, ApiError> {
    call.params
        .optional(name)
        .map(|value| {
            parse_rfc3339_ms(value).ok_or_else(|| {
                ApiError::invalid_argument(
                    name,
                    format!(
                        "must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got '{}'",
                        shorten(value)
                    ),
                )
            })
        })
        .transpose()
}
