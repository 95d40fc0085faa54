//! History event types (docs/COMPATIBILITY.md#history-events, docs/COMPATIBILITY.md#history-events) and their `EventDetail` payloads.

use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::StrDeserializer;
use serde_json::{Map, Value, json};

/// The event types fnf-server writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EventType {
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    ExecutionStopped,
    StepEntered,
    StepStarted,
    StepExited,
    StepFailed,
    BranchEntered,
    BranchExited,
    IterationEntered,
    IterationExited,
    TaskScheduled,
    TaskStarted,
    TaskSubmitted,
    TaskSubmitFailed,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
    MapRunStarted,
    MapRunSucceeded,
    MapRunFailed,
    MapRunAborted,
}

impl EventType {
    /// The type a stored event's name stands for (the names are the variants').
    pub fn from_name(name: &str) -> Option<EventType> {
        let name: StrDeserializer<'_, serde::de::value::Error> = name.into_deserializer();
        EventType::deserialize(name).ok()
    }

    pub fn as_str(self) -> &'static str {
        use EventType::*;
        match self {
            ExecutionStarted => "ExecutionStarted",
            ExecutionSucceeded => "ExecutionSucceeded",
            ExecutionFailed => "ExecutionFailed",
            ExecutionTimedOut => "ExecutionTimedOut",
            ExecutionStopped => "ExecutionStopped",
            StepEntered => "StepEntered",
            StepStarted => "StepStarted",
            StepExited => "StepExited",
            StepFailed => "StepFailed",
            BranchEntered => "BranchEntered",
            BranchExited => "BranchExited",
            IterationEntered => "IterationEntered",
            IterationExited => "IterationExited",
            TaskScheduled => "TaskScheduled",
            TaskStarted => "TaskStarted",
            TaskSubmitted => "TaskSubmitted",
            TaskSubmitFailed => "TaskSubmitFailed",
            TaskSucceeded => "TaskSucceeded",
            TaskFailed => "TaskFailed",
            TaskTimedOut => "TaskTimedOut",
            MapRunStarted => "MapRunStarted",
            MapRunSucceeded => "MapRunSucceeded",
            MapRunFailed => "MapRunFailed",
            MapRunAborted => "MapRunAborted",
        }
    }
}

/// One history event as the engine emits it; the worker stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: i64,
    pub event_type: EventType,
    pub step_name: String,
    /// Wall clock, epoch ms.
    pub time: i64,
    /// The event that opened this one's context (0: none).
    pub schedule_event_id: i64,
    /// The `EventDetail` object.
    pub detail: Value,
}

/// Builds one history event.
pub fn event(
    event_id: i64,
    event_type: EventType,
    step_name: &str,
    time: i64,
    schedule_event_id: i64,
    detail: Value,
) -> Event {
    Event {
        event_id,
        event_type,
        step_name: step_name.to_string(),
        time,
        schedule_event_id,
        detail,
    }
}

/// `{"error": …, "cause": …}` (ExecutionFailed, StepFailed, TaskFailed, …).
pub fn error_detail(error: &str, cause: &str) -> Value {
    json!({"error": error, "cause": cause})
}

/// `{"input": …}`.
pub fn input_detail(input: &Value) -> Value {
    json!({"input": input})
}

/// `{"output": …}`.
pub fn output_detail(output: &Value) -> Value {
    json!({"output": output})
}

/// Marks an event of a mocked task attempt: `"mocked": true` in its detail.
pub fn mark_mocked(detail: &mut Value) {
    if let Some(detail) = detail.as_object_mut() {
        detail.insert("mocked".into(), Value::Bool(true));
    }
}

/// `TaskScheduled`: resource, pattern, what is sent, attempt, and the timeout when set.
pub fn task_scheduled_detail(
    resource: &str,
    pattern: &str,
    input: &Value,
    attempt: u32,
    timeout_seconds: Option<u64>,
) -> Value {
    let mut detail = Map::new();
    detail.insert("resource".into(), Value::from(resource));
    detail.insert("pattern".into(), Value::from(pattern));
    detail.insert("input".into(), input.clone());
    detail.insert("attempt".into(), Value::from(attempt));
    if let Some(timeout) = timeout_seconds {
        detail.insert("timeoutSeconds".into(), Value::from(timeout));
    }
    Value::Object(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for event_type in [
            EventType::ExecutionStarted,
            EventType::StepEntered,
            EventType::IterationExited,
            EventType::TaskSubmitFailed,
            EventType::MapRunAborted,
        ] {
            assert_eq!(EventType::from_name(event_type.as_str()), Some(event_type));
        }
        assert_eq!(EventType::from_name("StepSucceeded"), None);
        assert_eq!(EventType::from_name("stepentered"), None);
    }
}
