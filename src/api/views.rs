//! The objects responses carry (docs/COMPATIBILITY.md#flows, docs/COMPATIBILITY.md#executions, docs/COMPATIBILITY.md#schedules), with their wire names. A field
//! with no value is omitted, never `null` (docs/COMPATIBILITY.md#responses).

use serde::Serialize;
use serde_json::Value;

use crate::store::{Execution, Flow, FlowVersion, HistoryEvent, Schedule};
use crate::time::format_ms;

/// `StoppedTime` of an execution that has not stopped (docs/COMPATIBILITY.md#executions, as observed).
const NOT_STOPPED: &str = "1970-01-01T00:00:00Z";

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlowView {
    pub name: String,
    pub id: String,
    pub description: String,
    pub definition: String,
    #[serde(rename = "Type")]
    pub flow_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub execution_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_storage_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_group_id: Option<String>,
    /// Sent as a JSON string, returned as an object (docs/COMPATIBILITY.md#responses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Value>,
    pub created_time: String,
    pub last_modified_time: String,
}

impl From<&Flow> for FlowView {
    fn from(flow: &Flow) -> Self {
        FlowView {
            name: flow.name.clone(),
            id: flow.id.clone(),
            description: flow.description.clone(),
            definition: flow.definition.clone(),
            flow_type: flow.flow_type.clone(),
            role_arn: flow.role_arn.clone(),
            execution_mode: flow.execution_mode.clone(),
            external_storage_location: flow.external_storage_location.clone(),
            resource_group_id: flow.resource_group_id.clone(),
            environment: json_object(flow.environment.as_deref()),
            created_time: format_ms(flow.created_at),
            last_modified_time: format_ms(flow.modified_at),
        }
    }
}

impl FlowView {
    /// A published version as DescribeFlow shows it (docs/COMPATIBILITY.md#versions-and-aliases): the version's snapshot,
    /// with the flow's identity, and the version's creation as `LastModifiedTime`.
    pub fn of_version(flow: &Flow, version: &FlowVersion) -> Self {
        FlowView {
            description: version.description.clone(),
            definition: version.definition.clone(),
            flow_type: version.flow_type.clone(),
            role_arn: version.role_arn.clone(),
            execution_mode: version.execution_mode.clone(),
            environment: json_object(version.environment.as_deref()),
            last_modified_time: format_ms(version.created_at),
            ..FlowView::from(flow)
        }
    }
}

/// Which optional execution fields a response carries (docs/COMPATIBILITY.md#executions).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecutionFields {
    /// Omit `FlowDefinition`, `Input`, `Output` (ListExecutions `MetadataOnly`).
    pub metadata_only: bool,
    pub environment: bool,
    pub role_arn: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionView {
    pub name: String,
    pub flow_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    pub status: String,
    pub started_time: String,
    pub stopped_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

impl ExecutionView {
    pub fn new(execution: &Execution, fields: ExecutionFields) -> Self {
        let full = !fields.metadata_only;
        ExecutionView {
            name: execution.identity.name.clone(),
            flow_name: execution.identity.flow_name.clone(),
            flow_definition: full.then(|| execution.definition.clone()),
            input: full.then(|| execution.input.clone()),
            output: full.then(|| execution.output.clone()),
            status: execution.status.as_str().to_string(),
            started_time: format_ms(execution.started_at),
            stopped_time: execution
                .stopped_at
                .map_or_else(|| NOT_STOPPED.to_string(), format_ms),
            environment: if fields.environment {
                json_object(execution.environment.as_deref())
            } else {
                None
            },
            role_arn: if fields.role_arn {
                execution.role_arn.clone()
            } else {
                None
            },
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryEventView {
    pub event_id: i64,
    #[serde(rename = "Type")]
    pub event_type: String,
    pub step_name: String,
    pub time: String,
    pub schedule_event_id: i64,
    pub event_detail: String,
}

impl From<HistoryEvent> for HistoryEventView {
    fn from(event: HistoryEvent) -> Self {
        HistoryEventView {
            event_id: event.event_id,
            event_type: event.event_type,
            step_name: event.step_name,
            time: format_ms(event.time),
            schedule_event_id: event.schedule_event_id,
            event_detail: event.detail,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleView {
    pub schedule_id: String,
    pub schedule_name: String,
    pub description: String,
    /// Omitted when the schedule has none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub payload: String,
    pub cron_expression: String,
    /// A JSON boolean (docs/COMPATIBILITY.md#responses).
    pub enable: bool,
    pub created_time: String,
    pub last_modified_time: String,
}

impl From<&Schedule> for ScheduleView {
    fn from(schedule: &Schedule) -> Self {
        ScheduleView {
            schedule_id: schedule.id.clone(),
            schedule_name: schedule.name.clone(),
            description: schedule.description.clone(),
            payload: schedule.payload.clone(),
            cron_expression: schedule.cron_expression.clone(),
            enable: schedule.enable,
            created_time: format_ms(schedule.created_at),
            last_modified_time: format_ms(schedule.modified_at),
        }
    }
}

fn json_object(text: Option<&str>) -> Option<Value> {
    serde_json::from_str(text?).ok()
}

/// Serializes a response view.
pub fn to_body<T: Serialize>(view: &T) -> Value {
    serde_json::to_value(view).expect("response views serialize")
}
