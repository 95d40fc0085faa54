//! Task attempts (docs/COMPATIBILITY.md#fdl-steps, docs/COMPATIBILITY.md#state-machine-states, docs/COMPATIBILITY.md#state-machine-tasks): starting an attempt, its timeout,
//! and applying answers, callbacks and lost calls. What an attempt calls is in `task_call`.

use serde_json::{Value, json};

use super::super::calls::CallRequest;
use super::super::data::{self, FdlMappingScope, ShapeError};
use super::super::history::{self, EventType};
use super::super::ir::{DataFlow, MapSpec, Scope, State, StateKind, TaskSpec, TimeoutSpec, limits};
use super::super::state::{
    CallMode, Cursor, ScopeRun, SignalPayload, StateRun, TaskOutcome, TaskPhase, TaskRun, Work,
    call_key,
};
use super::mocked::mode_of;
use super::scope::{Completion, Drive, Then};
use super::{Advance, SignalResult};
use crate::engine::errors;

impl<'a> Advance<'a> {
    pub(super) fn drive_task(
        &mut self,
        state: &'a State,
        spec: &'a TaskSpec,
        scope_run: &ScopeRun,
        run: &mut StateRun,
    ) -> Drive {
        loop {
            let Work::Task(task) = &mut run.work else {
                if let Work::Ready = run.work {
                    if let Err(drive) = self.start_attempt(state, spec, scope_run, run) {
                        return drive;
                    }
                    continue;
                }
                return Drive::Blocked;
            };
            match &task.phase {
                TaskPhase::Calling { .. } | TaskPhase::Submitted => {
                    if task.timeout_at.is_none_or(|at| self.now() < at) {
                        return Drive::Blocked;
                    }
                    if let TaskPhase::Calling { call_key, .. } = &task.phase {
                        self.abandon(call_key.clone());
                    }
                    let cause = "the task attempt did not finish within its timeout".to_string();
                    let scheduled_id = task.scheduled_id;
                    self.emit(
                        EventType::TaskTimedOut,
                        &state.name,
                        scheduled_id,
                        history::error_detail(errors::TASK_TIMEOUT, &cause),
                    );
                    return Drive::Fail {
                        error: errors::TASK_TIMEOUT.into(),
                        cause,
                    };
                }
                TaskPhase::Finished(TaskOutcome::Success(value)) => {
                    return Drive::Complete(Completion {
                        value: value.clone(),
                        then: Then::Next,
                    });
                }
                TaskPhase::Finished(TaskOutcome::Failure { error, cause }) => {
                    return Drive::Fail {
                        error: error.clone(),
                        cause: cause.clone(),
                    };
                }
                // The replica making the call died: the attempt is made again (docs/COMPATIBILITY.md#history-events records
                // the lost attempt as failed) without using up a retry.
                TaskPhase::Lost => run.work = Work::Ready,
            }
        }
    }

    /// Starts the next attempt: `TaskScheduled`, `TaskStarted` and the call.
    fn start_attempt(
        &mut self,
        state: &'a State,
        spec: &'a TaskSpec,
        scope_run: &ScopeRun,
        run: &mut StateRun,
    ) -> Result<(), Drive> {
        run.attempt += 1;
        let attempt = run.attempt;
        let token = self.ctx.token(run.entered_id, attempt);
        let runtime_error = |error: ShapeError| Drive::Fail {
            error: errors::RUNTIME.into(),
            cause: error.0,
        };
        // docs/COMPATIBILITY.md#retry-and-catch step 2: mappings are evaluated again for every attempt, so that
        // `$context.task.token` is that attempt's token.
        let input = match (&state.data, attempt) {
            (
                DataFlow::Fdl {
                    input_mappings: Some(mappings),
                    ..
                },
                2..,
            ) => {
                let scope = FdlMappingScope::new(
                    &scope_run.input,
                    &scope_run.local,
                    self.fdl_context(run.entered_id, Some(&token)),
                );
                data::apply_mappings(mappings, &scope)
                    .map_err(|e| runtime_error(ShapeError(format!("inputMappings: {}", e.0))))?
            }
            _ => run.input.clone(),
        };
        let timeout_seconds = self.task_timeout(state, spec, run).map_err(runtime_error)?;
        let planned = self
            .plan_call(state, spec, run, &input, &token)
            .map_err(runtime_error)?;
        let mocked = self.mocked_answer(state)?;
        let pattern = spec.pattern.name(self.ctx.language());
        let sent = planned.as_ref().map_or(&input, |call| &call.sent);
        let mut scheduled =
            history::task_scheduled_detail(&spec.resource, pattern, sent, attempt, timeout_seconds);
        let started = if mocked.is_some() {
            history::mark_mocked(&mut scheduled);
            json!({"mocked": true})
        } else {
            json!({})
        };
        let scheduled_id = self.emit(
            EventType::TaskScheduled,
            &state.name,
            run.entered_id,
            scheduled,
        );
        self.emit(EventType::TaskStarted, &state.name, scheduled_id, started);
        let timeout_at = timeout_seconds.map(|seconds| super::after_seconds(self.now(), seconds));
        let mode = planned
            .as_ref()
            .map_or_else(|| mode_of(spec.pattern), |call| call.mode);
        let phase = match (mocked, planned) {
            (Some(answer), _) => {
                TaskPhase::Finished(self.apply_mocked(&state.name, scheduled_id, mode, answer))
            }
            (None, Some(call)) => {
                let key = call_key(run.entered_id, attempt);
                self.calls.push(CallRequest {
                    call_key: key.clone(),
                    token: token.clone(),
                    // A call runs on the wall clock (see `clock`).
                    deadline: timeout_at.map(|at| self.wall_time(at, true)),
                    kind: call.kind,
                });
                TaskPhase::Calling {
                    call_key: key,
                    mode: call.mode,
                }
            }
            (None, None) => {
                // docs/COMPATIBILITY.md#state-machine-tasks (docs/COMPATIBILITY.md#q16): an integration we do not implement fails at run time.
                let outcome = TaskOutcome::failure(
                    errors::ACTION_NOT_SUPPORTED,
                    format!("the action '{}' is not supported", spec.resource),
                );
                self.emit_result(&state.name, scheduled_id, &outcome);
                TaskPhase::Finished(outcome)
            }
        };
        run.work = Work::Task(TaskRun {
            scheduled_id,
            token,
            phase,
            timeout_at,
        });
        Ok(())
    }

    fn task_timeout(
        &self,
        state: &'a State,
        spec: &'a TaskSpec,
        run: &StateRun,
    ) -> Result<Option<u64>, ShapeError> {
        match &spec.timeout {
            None => Ok(None),
            Some(TimeoutSpec::Seconds(0)) => Ok(None),
            Some(TimeoutSpec::Seconds(seconds)) => Ok(Some(*seconds)),
            Some(TimeoutSpec::Expr(expr)) => {
                let value = self.eval_on_input(state, expr, run)?;
                let seconds = match &value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                match seconds {
                    Some(0) => Ok(None),
                    Some(seconds) if seconds <= limits::SM_MAX_TASK_TIMEOUT_SECONDS => {
                        Ok(Some(seconds))
                    }
                    _ => Err(ShapeError(format!(
                        "Timeout must be an integer between 0 and {}, got {value}",
                        limits::SM_MAX_TASK_TIMEOUT_SECONDS
                    ))),
                }
            }
        }
    }

    /// `TaskSucceeded` / `TaskFailed` for an outcome; returns the event id.
    fn emit_result(&mut self, step_name: &str, scheduled_id: i64, outcome: &TaskOutcome) -> i64 {
        match outcome {
            TaskOutcome::Success(value) => self.emit(
                EventType::TaskSucceeded,
                step_name,
                scheduled_id,
                history::output_detail(value),
            ),
            TaskOutcome::Failure { error, cause } => self.emit(
                EventType::TaskFailed,
                step_name,
                scheduled_id,
                history::error_detail(error, cause),
            ),
        }
    }
}

/// Applies one signal to the state tree.
pub(super) fn apply_signal(
    advance: &mut Advance<'_>,
    root: &mut ScopeRun,
    signal: &SignalPayload,
) -> SignalResult {
    let definition_root = &advance.ctx.definition.root;
    match signal {
        SignalPayload::CallResult { call_key, outcome } => {
            let found = find_state(
                definition_root,
                root,
                &|run: &StateRun| matches!(&run.work, Work::Task(TaskRun { phase: TaskPhase::Calling { call_key: key, .. }, .. }) if key == call_key),
            );
            let Some((state, run)) = found else {
                return SignalResult::Stale;
            };
            let Work::Task(task) = &mut run.work else {
                return SignalResult::Stale;
            };
            let TaskPhase::Calling { mode, .. } = task.phase else {
                return SignalResult::Stale;
            };
            if attempt_timed_out(advance, task) {
                return SignalResult::Stale;
            }
            let scheduled_id = task.scheduled_id;
            let (event_id, phase) = match (mode, outcome) {
                (CallMode::Result, outcome) => (
                    advance.emit_result(&state.name, scheduled_id, outcome),
                    TaskPhase::Finished(outcome.clone()),
                ),
                (CallMode::SubmitAndResult, outcome) => {
                    advance.emit(
                        EventType::TaskSubmitted,
                        &state.name,
                        scheduled_id,
                        json!({"output": {}}),
                    );
                    (
                        advance.emit_result(&state.name, scheduled_id, outcome),
                        TaskPhase::Finished(outcome.clone()),
                    )
                }
                (CallMode::SubmitThenWait, TaskOutcome::Success(submission)) => (
                    advance.emit(
                        EventType::TaskSubmitted,
                        &state.name,
                        scheduled_id,
                        history::output_detail(submission),
                    ),
                    TaskPhase::Submitted,
                ),
                (CallMode::SubmitThenWait, TaskOutcome::Failure { error, cause }) => (
                    advance.emit(
                        EventType::TaskSubmitFailed,
                        &state.name,
                        scheduled_id,
                        history::error_detail(error, cause),
                    ),
                    TaskPhase::Finished(outcome.clone()),
                ),
            };
            task.phase = phase;
            SignalResult::Applied(event_id)
        }
        SignalPayload::Callback {
            entered_id,
            attempt,
            outcome,
            submitted,
        } => {
            let found = find_state(definition_root, root, &|run: &StateRun| {
                run.entered_id == *entered_id
            });
            let Some((state, run)) = found else {
                return SignalResult::Stale;
            };
            if run.attempt != *attempt {
                return SignalResult::Stale;
            }
            let Work::Task(task) = &mut run.work else {
                return SignalResult::Stale;
            };
            if attempt_timed_out(advance, task) {
                return SignalResult::Stale;
            }
            let scheduled_id = task.scheduled_id;
            match &task.phase {
                TaskPhase::Submitted => {}
                TaskPhase::Calling {
                    call_key,
                    mode: CallMode::SubmitThenWait,
                } => {
                    // The callback came before the submission's answer: the submission
                    // evidently worked; its answer is no longer needed.
                    advance.abandon(call_key.clone());
                    advance.emit(
                        EventType::TaskSubmitted,
                        &state.name,
                        scheduled_id,
                        history::output_detail(submitted.as_ref().unwrap_or(&json!({}))),
                    );
                }
                _ => return SignalResult::Stale,
            }
            // docs/COMPATIBILITY.md#fdl-tasks rule 3: a result that is not an object fails the attempt at run time.
            let outcome = match outcome {
                TaskOutcome::Success(value) if !value.is_object() => TaskOutcome::failure(
                    errors::INVALID_LOCAL,
                    format!("the task result must be a JSON object, got {value}"),
                ),
                other => other.clone(),
            };
            let event_id = advance.emit_result(&state.name, scheduled_id, &outcome);
            task.phase = TaskPhase::Finished(outcome);
            SignalResult::Applied(event_id)
        }
        SignalPayload::MapItemEnded {
            map_run,
            index,
            outcome,
        } => match find_distributed(definition_root, root, map_run) {
            Some(map) => super::distributed::item_ended(map, *index, outcome),
            None => SignalResult::Stale,
        },
        SignalPayload::MapRunUpdated {
            map_run,
            concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
        } => match find_distributed(definition_root, root, map_run) {
            Some(map) => super::distributed::map_run_updated(
                map,
                *concurrency,
                *tolerated_failure_count,
                *tolerated_failure_percentage,
            ),
            None => SignalResult::Stale,
        },
        SignalPayload::CallLost { call_key } => {
            let found = find_state(
                definition_root,
                root,
                &|run: &StateRun| matches!(&run.work, Work::Task(TaskRun { phase: TaskPhase::Calling { call_key: key, .. }, .. }) if key == call_key),
            );
            let Some((state, run)) = found else {
                return SignalResult::Stale;
            };
            let Work::Task(task) = &mut run.work else {
                return SignalResult::Stale;
            };
            let event_id = advance.emit(
                EventType::TaskFailed,
                &state.name,
                task.scheduled_id,
                history::error_detail(
                    errors::TASK_LOST,
                    "the replica making this call stopped before it answered; the attempt is made again",
                ),
            );
            task.phase = TaskPhase::Lost;
            SignalResult::Applied(event_id)
        }
    }
}

/// An answer or report that arrives once the attempt's timeout has passed is too late: the
/// attempt times out on this drive (a call's own limit ends at that same instant, so its
/// "timed out" answer races the timer and must not decide the outcome).
fn attempt_timed_out(advance: &Advance<'_>, task: &TaskRun) -> bool {
    task.timeout_at.is_some_and(|at| advance.now() >= at)
}

/// The running distributed Map of this map run.
fn find_distributed<'s>(
    scope: &Scope,
    root: &'s mut ScopeRun,
    map_run: &str,
) -> Option<&'s mut super::super::state::DistributedRun> {
    let (_, run) = find_state(
        scope,
        root,
        &|run: &StateRun| matches!(&run.work, Work::DistributedMap(map) if map.map_run == map_run),
    )?;
    match &mut run.work {
        Work::DistributedMap(map) => Some(map),
        _ => None,
    }
}

/// Finds the running state (anywhere in the tree) that `matches`, with its definition.
fn find_state<'d, 's>(
    scope: &'d Scope,
    run: &'s mut ScopeRun,
    matches: &dyn Fn(&StateRun) -> bool,
) -> Option<(&'d State, &'s mut StateRun)> {
    let Cursor::Running(state_run) = &mut run.cursor else {
        return None;
    };
    let state = scope.states.get(state_run.index)?;
    if matches(state_run) {
        return Some((state, &mut **state_run));
    }
    match (&state.kind, &mut state_run.work) {
        (StateKind::Parallel(spec), Work::Parallel { branches }) => {
            for branch in branches.iter_mut() {
                let branch_scope = spec.branches.get(branch.index)?;
                if let Some(found) = find_state(branch_scope, &mut branch.scope, matches) {
                    return Some(found);
                }
            }
            None
        }
        (StateKind::Map(MapSpec { processor, .. }), Work::Map(map)) => {
            for iteration in map.running.iter_mut() {
                if let Some(found) = find_state(processor, &mut iteration.scope, matches) {
                    return Some(found);
                }
            }
            None
        }
        (StateKind::Choice(spec), Work::ChoiceBody { option, body, .. }) => {
            let target = match option {
                Some(index) => &spec.options.get(*index)?.target,
                None => spec.default.as_ref()?,
            };
            find_state(target.steps.as_ref()?, body, matches)
        }
        _ => None,
    }
}
