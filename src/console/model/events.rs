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
}

impl Event {
    /// An event of a GetExecutionHistory answer.
    pub fn from_api(event: &Value) -> Event {
        let text = |name: &str| event[name].as_str().unwrap_or_default().to_string();
        let time_text = text("Time");
        Event {
            id: event["EventId"].as_i64().unwrap_or_default(),
            kind: text("Type"),
            step: text("StepName"),
            time: parse_rfc3339_ms(&time_text).unwrap_or_default(),
            time_text,
            schedule_id: event["ScheduleEventId"].as_i64().unwrap_or_default(),
            detail: serde_json::from_str(event["EventDetail"].as_str().unwrap_or("{}"))
                .unwrap_or(Value::Null),
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
    match serde_json::from_str::<Value>(text) {
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
                match (
                    output["FlowName"].as_str(),
                    output["ExecutionName"].as_str(),
                ) {
                    (Some(flow), Some(execution)) => Some(Link::Child {
                        step: event.step.clone(),
                        flow: flow.to_string(),
                        execution: execution.to_string(),
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(link) = link.filter(|link| !links.contains(link)) {
            links.push(link);
        }
    }
    links
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
        let events = vec![
            event(
                5,
                "TaskSubmitted",
                "sub",
                3,
                json!({"output": {"FlowName": "child", "ExecutionName": "c1"}}),
            ),
            event(
                6,
                "TaskSucceeded",
                "sub",
                3,
                json!({"output": {"FlowName": "child", "ExecutionName": "c1"}}),
            ),
            event(
                9,
                "MapRunStarted",
                "Fan",
                8,
                json!({"output": {"MapRunName": "run-1"}}),
            ),
            event(
                12,
                "ExecutionFailed",
                "",
                0,
                json!({"error": "E", "cause": "C"}),
            ),
        ];
        assert_eq!(
            links(&events),
            [
                Link::Child {
                    step: "sub".into(),
                    flow: "child".into(),
                    execution: "c1".into()
                },
                Link::MapRun {
                    step: "Fan".into(),
                    name: "run-1".into()
                },
            ]
        );
        assert_eq!(execution_error(&events), Some(("E".into(), "C".into())));
    }
}
