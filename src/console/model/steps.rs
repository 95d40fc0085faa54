//! What happened to one step: each time it was entered (iterations and loops enter a step
//! many times), its input, the task attempts with their errors, and how it ended.

use serde_json::Value;

use super::events::Event;

/// One entry into the step.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub entered: Event,
    pub attempts: Vec<Attempt>,
    /// `StepExited` or `StepFailed`, once it ended.
    pub ended: Option<Event>,
}

impl Occurrence {
    pub fn input(&self) -> Option<&Value> {
        self.entered.detail.get("input")
    }

    pub fn status(&self) -> &'static str {
        match self.ended.as_ref().map(|event| event.kind.as_str()) {
            Some("StepExited") => "succeeded",
            Some(_) => "failed",
            None => "running",
        }
    }
}

/// One task attempt: `TaskScheduled` and its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub scheduled: Event,
    pub result: Option<Event>,
}

impl Attempt {
    pub fn number(&self) -> u64 {
        self.scheduled.detail["attempt"].as_u64().unwrap_or(1)
    }
}

/// The step's occurrences in history order. `node` may be a graph node path (`Fan/Work`):
/// history names steps by their own name, the path's last part.
pub fn occurrences(events: &[Event], node: &str) -> Vec<Occurrence> {
    let step = node.rsplit('/').next().unwrap_or(node);
    let mut found: Vec<Occurrence> = Vec::new();
    for event in events.iter().filter(|event| event.step == step) {
        match event.kind.as_str() {
            "StepEntered" => found.push(Occurrence {
                entered: event.clone(),
                attempts: Vec::new(),
                ended: None,
            }),
            "TaskScheduled" => {
                if let Some(occurrence) = entered(&mut found, event.schedule_id) {
                    occurrence.attempts.push(Attempt {
                        scheduled: event.clone(),
                        result: None,
                    });
                }
            }
            "TaskSucceeded" | "TaskFailed" | "TaskTimedOut" | "TaskSubmitFailed" => {
                let attempt = found
                    .iter_mut()
                    .flat_map(|occurrence| occurrence.attempts.iter_mut())
                    .find(|attempt| attempt.scheduled.id == event.schedule_id);
                if let Some(attempt) = attempt {
                    attempt.result = Some(event.clone());
                }
            }
            "StepExited" | "StepFailed" => {
                if let Some(occurrence) = entered(&mut found, event.schedule_id) {
                    occurrence.ended = Some(event.clone());
                }
            }
            _ => {}
        }
    }
    found
}

fn entered(found: &mut [Occurrence], entered_id: i64) -> Option<&mut Occurrence> {
    found
        .iter_mut()
        .rev()
        .find(|occurrence| occurrence.entered.id == entered_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: i64, kind: &str, step: &str, schedule_id: i64, detail: Value) -> Event {
        Event {
            id,
            kind: kind.into(),
            step: step.into(),
            time: id,
            time_text: String::new(),
            schedule_id,
            raw_detail: detail.to_string(),
            detail,
        }
    }

    #[test]
    fn a_retried_task_has_its_attempts() {
        let events = vec![
            event(2, "StepEntered", "shaky", 0, json!({"input": {"a": 1}})),
            event(3, "TaskScheduled", "shaky", 2, json!({"attempt": 1})),
            event(4, "TaskFailed", "shaky", 3, json!({"error": "E"})),
            event(5, "TaskScheduled", "shaky", 2, json!({"attempt": 2})),
            event(6, "TaskSucceeded", "shaky", 5, json!({"output": {}})),
            event(7, "StepExited", "shaky", 2, json!({"output": {"b": 2}})),
            event(8, "StepEntered", "other", 0, json!({})),
        ];
        let found = occurrences(&events, "Outer/shaky");
        assert_eq!(found.len(), 1);
        let only = &found[0];
        assert_eq!(only.input(), Some(&json!({"a": 1})));
        assert_eq!(only.status(), "succeeded");
        assert_eq!(only.attempts.len(), 2);
        assert_eq!(only.attempts[0].number(), 1);
        assert_eq!(only.attempts[0].result.as_ref().unwrap().kind, "TaskFailed");
        assert_eq!(
            only.attempts[1].result.as_ref().unwrap().kind,
            "TaskSucceeded"
        );
    }

    #[test]
    fn iterations_enter_a_step_many_times() {
        let events = vec![
            event(2, "StepEntered", "work", 0, json!({})),
            event(3, "StepEntered", "work", 0, json!({})),
            event(4, "StepFailed", "work", 3, json!({"error": "E"})),
        ];
        let found = occurrences(&events, "work");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].status(), "running");
        assert_eq!(found[1].status(), "failed");
    }
}
