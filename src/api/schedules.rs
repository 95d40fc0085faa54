//! Schedule actions (docs/COMPATIBILITY.md#schedules; rules docs/COMPATIBILITY.md#schedules).

use serde_json::{Value, json};

use super::inputs::check_input;
use super::lookups::{find_flow, lookup_name};
use super::policy::check_stored_definition;
use super::views::{ScheduleView, to_body};
use super::{ApiResult, Call};
use crate::error::ApiError;
use crate::names::check_name;
use crate::schedule::cron::CronSchedule;
use crate::store::{CreateScheduleOutcome, Flow, Schedule};
use crate::time::now_ms;

/// CreateSchedule (docs/COMPATIBILITY.md#schedules). `SignatureVersion` is accepted and ignored: it collides with
/// the common parameter, which the SDKs overwrite with `1.0`.
pub async fn create_schedule(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let flow_name = lookup_name(call, "FlowName")?;
    let name = params.required("ScheduleName")?;
    check_name(name).map_err(|reason| ApiError::invalid_argument("ScheduleName", reason))?;
    let cron_expression = params.required("CronExpression")?;
    let cron = parse_cron(cron_expression)?;
    let payload = params.optional("Payload").unwrap_or_default();
    check_input("Payload", payload)?;
    // docs/COMPATIBILITY.md#schedules: disabled unless asked for [our choice].
    let enable = params.bool("Enable")?.unwrap_or(false);
    let description = params.optional("Description").unwrap_or_default();
    let flow = find_flow(call, flow_name).await?;
    // The schedule will start the flow: what it starts must be the key's too.
    check_stored_definition(call, &flow, &flow.definition).await?;
    let now = now_ms();
    let schedule = Schedule {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: call.account_id.to_string(),
        flow_id: flow.id,
        name: name.to_string(),
        description: description.to_string(),
        payload: payload.to_string(),
        cron_expression: cron_expression.to_string(),
        enable,
        created_at: now,
        modified_at: now,
        revision: 1,
        next_fire_at: enable.then(|| cron.next_after(now)).flatten(),
    };
    match call.state.store.create_schedule(&schedule).await? {
        CreateScheduleOutcome::Created => {
            call.state.scheduler.changed().await;
            Ok(to_body(&ScheduleView::from(&schedule)))
        }
        CreateScheduleOutcome::AlreadyExists => {
            Err(ApiError::schedule_already_exists(name, flow_name))
        }
    }
}

/// UpdateSchedule (docs/COMPATIBILITY.md#schedules): only the parameters present change.
pub async fn update_schedule(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let flow_name = lookup_name(call, "FlowName")?;
    let name = lookup_name(call, "ScheduleName")?;
    let cron_expression = params.optional("CronExpression");
    let new_cron = cron_expression.map(parse_cron).transpose()?;
    // A present empty Payload or Description clears it.
    let payload = params.get("Payload");
    if let Some(payload) = payload {
        check_input("Payload", payload)?;
    }
    let enable = params.bool("Enable")?;
    let description = params.get("Description");
    let flow = find_flow(call, flow_name).await?;
    check_stored_definition(call, &flow, &flow.definition).await?;
    let mut schedule = find_schedule(call, &flow, name).await?;
    let expected_revision = schedule.revision;
    let cron_changed = cron_expression.is_some_and(|text| text != schedule.cron_expression);
    let enable_changed = enable.is_some_and(|enable| enable != schedule.enable);
    if let Some(cron_expression) = cron_expression {
        schedule.cron_expression = cron_expression.to_string();
    }
    if let Some(payload) = payload {
        schedule.payload = payload.to_string();
    }
    if let Some(enable) = enable {
        schedule.enable = enable;
    }
    if let Some(description) = description {
        schedule.description = description.to_string();
    }
    let now = now_ms();
    // A new expression, or enabling, counts the next fire from now; disabling drops it.
    let reschedule = cron_changed || enable_changed;
    if reschedule {
        schedule.next_fire_at = match (schedule.enable, new_cron) {
            (false, _) => None,
            (true, Some(cron)) => cron.next_after(now),
            (true, None) => parse_cron(&schedule.cron_expression)?.next_after(now),
        };
    }
    schedule.modified_at = now.max(schedule.modified_at + 1);
    schedule.revision += 1;
    if !call
        .state
        .store
        .update_schedule(&schedule, expected_revision, reschedule)
        .await?
    {
        return Err(ApiError::concurrent_update());
    }
    call.state.scheduler.changed().await;
    Ok(to_body(&ScheduleView::from(&schedule)))
}

/// DeleteSchedule (docs/COMPATIBILITY.md#schedules).
pub async fn delete_schedule(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let name = lookup_name(call, "ScheduleName")?;
    let flow = find_flow(call, flow_name).await?;
    if call.state.store.delete_schedule(&flow.id, name).await? {
        Ok(json!({}))
    } else {
        Err(ApiError::schedule_not_exists(name, flow_name))
    }
}

/// DescribeSchedule (docs/COMPATIBILITY.md#schedules).
pub async fn describe_schedule(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let name = lookup_name(call, "ScheduleName")?;
    let flow = find_flow(call, flow_name).await?;
    let schedule = find_schedule(call, &flow, name).await?;
    Ok(to_body(&ScheduleView::from(&schedule)))
}

/// ListSchedules (docs/COMPATIBILITY.md#schedules, docs/COMPATIBILITY.md#pagination): name ascending; `NextToken` is the next schedule's name.
pub async fn list_schedules(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let limit = call.params.int("Limit", 1, 1000)?.unwrap_or(60);
    let from_name = call.params.optional("NextToken");
    let flow = find_flow(call, flow_name).await?;
    let mut schedules = call
        .state
        .store
        .list_schedules(&flow.id, from_name, limit + 1)
        .await?;
    let next_token =
        (schedules.len() as i64 > limit).then(|| schedules.remove(limit as usize).name);
    let views: Vec<ScheduleView> = schedules.iter().map(ScheduleView::from).collect();
    let mut body = json!({ "Schedules": views });
    if let Some(token) = next_token {
        body["NextToken"] = Value::from(token);
    }
    Ok(body)
}

/// The flow's schedule of that name, or `ScheduleNotExists`.
async fn find_schedule(call: &Call<'_>, flow: &Flow, name: &str) -> Result<Schedule, ApiError> {
    call.state
        .store
        .get_schedule(&flow.id, name)
        .await?
        .ok_or_else(|| ApiError::schedule_not_exists(name, &flow.name))
}

fn parse_cron(expression: &str) -> Result<CronSchedule, ApiError> {
    CronSchedule::parse(expression)
        .map_err(|reason| ApiError::invalid_argument("CronExpression", reason))
}
