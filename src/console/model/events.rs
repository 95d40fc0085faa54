//! An execution's history as the pages read it (from GetExecutionHistory answers), and what
//! it tells beyond the events themselves: the execution's error, links to child executions
//! and map runs, tasks waiting for a callback.

use serde_json::Value;

use crate::time::parse_rfc3339_ms;

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub step: String,
    /// Epoch milliseconds.
    pub time: i64,
    /// As the API wrote it (RFC 3339, UTC).
    pub time_text: String,
    pub schedule_id: i64,
    pub detail: Value,
    /// The detail as the API sent it (JSON text).
    pub raw_detail: String,
}

impl Event {
    /// An event of a GetExecutionHistory answer.
    pub fn from_api(event: &Value) -> Event {
        let text = |name: &str| event[name].as_str().unwrap_or_default().to_string();
        let time_text = text("Time");
        let raw_detail = text("EventDetail");
        Event {
            id: event["EventId"].as_i64().unwrap_or_default(),
            kind: text("Type"),
            step: text("StepName"),
            time: parse_rfc3339_ms(&time_text).unwrap_or_default(),
            time_text,
            schedule_id: event["ScheduleEventId"].as_i64().unwrap_or_default(),
            detail: crate::engine::json::parse_document(&raw_detail).unwrap_or(Value::Null),
            raw_detail,
        }
    }

    /// Events that record something going wrong (the "failed only" filter).
    pub fn is_failure(&self) -> bool {
        self.kind.ends_with("Failed")
            || self.kind.ends_with("TimedOut")
            || self.kind == "ExecutionStopped"
    }

    /// The detail as indented JSON.
    pub fn detail_text(&self) -> String {
        pretty(&self.detail)
    }
}

/// Indented JSON text.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// JSON text as the API returns it (input, output), indented when it parses.
pub fn pretty_text(text: &str) -> String {
    match crate::engine::json::parse_data(text) {
        Ok(value) => pretty(&value),
        Err(_) => text.to_string(),
    }
}

/// The error and cause an ended execution recorded.
pub fn execution_error(events: &[Event]) -> Option<(String, String)> {
    let end = events.iter().rev().find(|event| {
        matches!(
            event.kind.as_str(),
            "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionStopped"
        )
    })?;
    let field = |name: &str| end.detail[name].as_str().unwrap_or_default().to_string();
    Some((field("error"), field("cause")))
}

/// A link from an execution page to another page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A child execution a task started (subflow).
    Child {
        step: String,
        flow: String,
        execution: String,
    },
    /// A distributed Map's map run.
    MapRun { step: String, name: String },
}

/// The child executions and map runs an execution started, in history order, once each.
pub fn links(events: &[Event]) -> Vec<Link> {
    let mut links = Vec::new();
    for event in events {
        let output = &event.detail["output"];
        let link = match event.kind.as_str() {
            "MapRunStarted" => output["MapRunName"].as_str().map(|name| Link::MapRun {
                step: event.step.clone(),
                name: name.to_string(),
            }),
            "TaskSubmitted" | "TaskSucceeded" => {
                child_started(events, event).map(|(flow, execution)| Link::Child {
                    step: event.step.clone(),
                    flow,
                    execution,
                })
            }
            _ => None,
        };
        if let Some(link) = link.filter(|link| !links.contains(link)) {
            links.push(link);
        }
    }
    links
}

/// The child execution a subflow task's answer names: `{"FlowName", "ExecutionName"}` when
/// the task only starts it, or the bare execution name when the task waits for its end (the
/// flow is then the one its `TaskScheduled` names, `acs:fnf:::flow/<name>`).
fn child_started(events: &[Event], answer: &Event) -> Option<(String, String)> {
    let output = &answer.detail["output"];
    if let (Some(flow), Some(execution)) = (
        output["FlowName"].as_str(),
        output["ExecutionName"].as_str(),
    ) {
        return Some((flow.to_string(), execution.to_string()));
    }
    let execution = output.as_str().filter(|name| !name.is_empty())?;
    let scheduled = events
        .iter()
        .rev()
        .find(|event| event.id == answer.schedule_id && event.kind == "TaskScheduled")?;
    // FDL names the child flow in `resourceArn`; a state machine's `FNF:StartExecution`
    // task in its `Parameters.resourceArn` (what was sent).
    let arns = [
        &scheduled.detail["resource"],
        &scheduled.detail["input"]["resourceArn"],
    ];
    let flow = arns
        .into_iter()
        .filter_map(Value::as_str)
        .find_map(|arn| Some(arn.split(":fnf:").nth(1)?.rsplit_once("flow/")?.1))
        .filter(|flow| !flow.is_empty())?;
    Some((flow.to_string(), execution.to_string()))
}

/// A task attempt waiting for a report with its task token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingTask {
    pub step: String,
    /// The task's `StepEntered` event id (what its token designates).
    pub entered_id: i64,
    pub attempt: u32,
    pub scheduled_id: i64,
}

/// Task attempts of a callback pattern that have no result yet.
pub fn waiting_tasks(events: &[Event]) -> Vec<WaitingTask> {
    if events
        .iter()
        .any(|event| event.kind.starts_with("Execution") && event.kind != "ExecutionStarted")
    {
        return Vec::new();
    }
    events
        .iter()
        .filter(|event| {
            event.kind == "TaskScheduled" && is_callback_pattern(&event.detail["pattern"])
        })
        .filter(|scheduled| {
            !events.iter().any(|event| {
                event.schedule_id == scheduled.id
                    && matches!(
                        event.kind.as_str(),
                        "TaskSucceeded" | "TaskFailed" | "TaskTimedOut" | "TaskSubmitFailed"
                    )
            })
        })
        .map(|scheduled| WaitingTask {
            step: scheduled.step.clone(),
            entered_id: scheduled.schedule_id,
            attempt: scheduled.detail["attempt"].as_u64().unwrap_or(1) as u32,
            scheduled_id: scheduled.id,
        })
        .collect()
}

/// `waitForCallback` (FDL), `WaitForCallback` / `waitForTaskToken` (state machines).
fn is_callback_pattern(pattern: &Value) -> bool {
    let pattern = pattern.as_str().unwrap_or_default().to_ascii_lowercase();
    pattern.contains("callback") || pattern.contains("tasktoken")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn event(id: i64, kind: &str, step: &str, schedule_id: i64, detail: Value) -> Event {
        Event {
            id,
            kind: kind.into(),
            step: step.into(),
            time: 1_000 * id,
            time_text: String::new(),
            schedule_id,
            raw_detail: detail.to_string(),
            detail,
        }
    }

    #[test]
    fn reads_api_events() {
        let read = Event::from_api(&json!({
            "EventId": 3, "Type": "TaskFailed", "StepName": "s", "Time": "2024-05-01T12:00:00.5Z",
            "ScheduleEventId": 2, "EventDetail": "{\"error\":\"E\"}"
        }));
        assert_eq!(read.id, 3);
        assert_eq!(read.time, 1_714_564_800_500);
        assert_eq!(read.detail["error"], "E");
        assert!(read.is_failure());
    }

    #[test]
    fn a_callback_task_waits_until_reported() {
        let mut events = vec![
            event(1, "ExecutionStarted", "", 0, json!({})),
            event(2, "StepEntered", "approve", 0, json!({"input": {}})),
            event(
                3,
                "TaskScheduled",
                "approve",
                2,
                json!({"pattern": "waitForCallback", "attempt": 2}),
            ),
            event(4, "TaskStarted", "approve", 3, json!({})),
            event(5, "TaskSubmitted", "approve", 3, json!({"output": {}})),
        ];
        let waiting = waiting_tasks(&events);
        assert_eq!(
            waiting,
            [WaitingTask {
                step: "approve".into(),
                entered_id: 2,
                attempt: 2,
                scheduled_id: 3
            }]
        );
        events.push(event(
            6,
            "TaskSucceeded",
            "approve",
            3,
            json!({"output": {}}),
        ));
        assert!(waiting_tasks(&events).is_empty());
    }

    #[test]
    fn finds_children_map_runs_and_the_error() {
        let sent = json!({"resourceArn": "acs:fnf:::flow/f2"});
        let events = vec![
            event(
                3,
                "TaskScheduled",
                "sub",
                2,
                json!({"resource": "acs:fnf:::flow/child"}),
            ),
            event(5, "TaskSubmitted", "sub", 3, json!({"output": "c1"})),
            event(6, "TaskSucceeded", "sub", 3, json!({"output": {"x": 1}})),
            event(
                9,
                "MapRunStarted",
                "Fan",
                8,
                json!({"output": {"MapRunName": "run-1"}}),
            ),
            event(
                10,
                "TaskScheduled",
                "sm",
                2,
                json!({"resource": "FNF:StartExecution", "input": sent}),
            ),
            event(11, "TaskSubmitted", "sm", 10, json!({"output": "c2"})),
            event(
                13,
                "TaskSucceeded",
                "rr",
                7,
                json!({"output": {"FlowName": "f", "ExecutionName": "e"}}),
            ),
            event(
                14,
                "ExecutionFailed",
                "",
                0,
                json!({"error": "E", "cause": "C"}),
            ),
        ];
        let child = |step: &str, flow: &str, execution: &str| Link::Child {
            step: step.into(),
            flow: flow.into(),
            execution: execution.into(),
        };
        assert_eq!(
            links(&events),
            [
                child("sub", "child", "c1"),
                Link::MapRun {
                    step: "Fan".into(),
                    name: "run-1".into()
                },
                child("sm", "f2", "c2"),
                child("rr", "f", "e"),
            ]
        );
        assert_eq!(execution_error(&events), Some(("E".into(), "C".into())));
    }
}
