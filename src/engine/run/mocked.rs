//! Mocked task attempts: an execution started with a test case answers the attempts of the
//! states its test case lists from the mock file instead of calling anything. The history
//! shows the events the real call would have produced, each marked `"mocked": true`, and the
//! answer goes through retries, catches and output processing like a real one.

use serde_json::json;

use super::super::history::{self, EventType};
use super::super::ir::{Language, State, TaskPattern};
use super::super::state::{CallMode, TaskOutcome};
use super::Advance;
use super::scope::Drive;
use crate::engine::errors;
use crate::engine::mocks::MockAnswer;

impl Advance<'_> {
    /// The mocked answer of the next attempt of `state`, if the execution's test case mocks
    /// it. An execution whose test case left the mock file makes no real call either: its
    /// tasks fail.
    pub(super) fn mocked_answer(&mut self, state: &State) -> Result<Option<MockAnswer>, Drive> {
        let Some(test_run) = &mut self.test_run else {
            return Ok(None);
        };
        let Some(case) = self.ctx.mocks else {
            return Err(Drive::Fail {
                error: errors::RUNTIME.into(),
                cause: format!(
                    "the test case '{}' of flow '{}' is no longer in the mock file",
                    test_run.test_case, self.ctx.flow_name
                ),
            });
        };
        // Every attempt of the state in the execution counts: retries, loops, iterations.
        let made = test_run.attempts.get(&state.name).copied().unwrap_or(0);
        let Some(answer) = case.answer(&state.name, made) else {
            return Ok(None);
        };
        test_run
            .attempts
            .insert(state.name.clone(), made.saturating_add(1));
        Ok(Some(answer))
    }

    /// Records a mocked attempt's events after `TaskStarted` and returns its outcome.
    pub(super) fn apply_mocked(
        &mut self,
        step_name: &str,
        scheduled_id: i64,
        mode: CallMode,
        answer: MockAnswer,
    ) -> TaskOutcome {
        let outcome = match answer {
            // docs/COMPATIBILITY.md#fdl-tasks rule 3: an FDL task's result must be an object, whoever produced it.
            MockAnswer::Return(value)
                if self.ctx.language() == Language::Fdl && !value.is_object() =>
            {
                TaskOutcome::failure(
                    errors::INVALID_LOCAL,
                    format!("the task result must be a JSON object, got {value}"),
                )
            }
            MockAnswer::Return(value) => TaskOutcome::Success(value),
            MockAnswer::Throw { error, cause } => TaskOutcome::Failure { error, cause },
        };
        if mode != CallMode::Result {
            self.emit(
                EventType::TaskSubmitted,
                step_name,
                scheduled_id,
                json!({"output": {}, "mocked": true}),
            );
        }
        let (event_type, mut detail) = match &outcome {
            TaskOutcome::Success(value) => {
                (EventType::TaskSucceeded, history::output_detail(value))
            }
            // A mocked timeout looks like a real one.
            TaskOutcome::Failure { error, cause } if error == errors::TASK_TIMEOUT => {
                (EventType::TaskTimedOut, history::error_detail(error, cause))
            }
            TaskOutcome::Failure { error, cause } => {
                (EventType::TaskFailed, history::error_detail(error, cause))
            }
        };
        history::mark_mocked(&mut detail);
        self.emit(event_type, step_name, scheduled_id, detail);
        outcome
    }
}

/// How a task's answer arrives, for integrations the server cannot call (the mock stands in
/// for an answer that never comes otherwise).
pub(super) fn mode_of(pattern: TaskPattern) -> CallMode {
    match pattern {
        TaskPattern::RequestResponse => CallMode::Result,
        TaskPattern::Sync => CallMode::SubmitAndResult,
        TaskPattern::WaitForCallback => CallMode::SubmitThenWait,
    }
}
