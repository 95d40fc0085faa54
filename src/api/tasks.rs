//! ReportTaskSucceeded / ReportTaskFailed (docs/COMPATIBILITY.md#task-reports).

use serde_json::{Value, json};

use super::inputs::bounded;
use super::policy::check_token_flow;
use super::{ApiResult, Call};
use crate::engine::state::TaskOutcome;
use crate::error::{ApiError, EVENT_DATA_LIMIT, ErrorCode};
use crate::names::shorten;
use crate::worker::ReportOutcome;

pub async fn report_task_succeeded(call: &Call<'_>) -> ApiResult {
    let token = call.params.required("TaskToken")?;
    let output = call.params.required("Output")?;
    if output.len() > EVENT_DATA_LIMIT {
        return Err(ApiError::entity_too_large(EVENT_DATA_LIMIT));
    }
    // Any JSON value; whether it must be an object is decided at run time (docs/COMPATIBILITY.md#fdl-tasks).
    let output: Value = crate::engine::json::parse_data(output)
        .map_err(|e| ApiError::invalid_argument("Output", format!("must be JSON text: {e}")))?;
    report(call, token, TaskOutcome::Success(output)).await
}

pub async fn report_task_failed(call: &Call<'_>) -> ApiResult {
    let token = call.params.required("TaskToken")?;
    let error = call.params.required("Error")?;
    let error = bounded(call, "Error", 128)?.unwrap_or_else(|| error.to_string());
    let cause = bounded(call, "Cause", 4096)?.unwrap_or_default();
    report(call, token, TaskOutcome::Failure { error, cause }).await
}

/// Errors in the order of docs/COMPATIBILITY.md#task-reports: bad token, ended execution, token no longer valid.
async fn report(call: &Call<'_>, token: &str, outcome: TaskOutcome) -> ApiResult {
    check_token_flow(call, token)?;
    let mut nonce = call.nonce.take();
    let reported = call
        .state
        .runtime
        .report_task(call.account_id, token, outcome, &mut nonce)
        .await;
    // Not recorded: the report ended before any effect, and the gateway records it.
    call.nonce.put_back(nonce);
    match reported? {
        ReportOutcome::Reported(event_id) => Ok(json!({ "EventId": event_id })),
        ReportOutcome::InvalidToken => Err(ApiError::invalid_argument(
            "TaskToken",
            "is not a task token issued by this service",
        )),
        ReportOutcome::ExecutionCompleted {
            flow_name,
            execution_name,
        } => Err(ApiError::execution_already_completed(
            &execution_name,
            &flow_name,
        )),
        ReportOutcome::NonceUsed => Err(ApiError::signature_nonce_used()),
        ReportOutcome::NoLongerValid => Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "Parameter error: task token {} is no longer valid",
                shorten(token)
            ),
        )),
    }
}
