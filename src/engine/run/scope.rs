//! Running a list of states: entering a state, driving it until it must wait, and what
//! follows its completion or failure (output shaping, retry, catch, the next state).

use serde_json::{Value, json};

use super::super::data::{self, FdlMappingScope, ShapeError, SmContext, SmScope};
use super::super::history::{self, EventType};
use super::super::ir::{CatchOutput, DataFlow, Language, Next, Scope, State, StateKind, limits};
use super::super::state::{Cursor, ScopeRun, StateRun, Work};
use super::Advance;
use crate::engine::errors;

/// How far a state got in one drive.
pub(super) enum Drive {
    /// Waiting for a call, a callback or a timer.
    Blocked,
    Complete(Completion),
    /// The state failed with this error; retry and catch apply.
    Fail {
        error: String,
        cause: String,
    },
}

/// A state's normal end.
pub(super) struct Completion {
    /// FDL: the state's local. State machine: its raw result (`$Output`).
    pub value: Value,
    pub then: Then,
}

/// Where control goes after a state completes.
pub(super) enum Then {
    /// The state's own `next`.
    Next,
    /// A sibling chosen by the state (choice target).
    Goto(usize),
    /// The scope ends here (succeed).
    EndScope,
}

impl<'a> Advance<'a> {
    /// Runs a scope until every path in it waits, or it is done or failed.
    pub(super) fn drive_scope(&mut self, scope: &'a Scope, run: &mut ScopeRun) {
        loop {
            if self.limit_hit {
                return;
            }
            let cursor = std::mem::replace(
                &mut run.cursor,
                Cursor::Done {
                    output: Value::Null,
                },
            );
            run.cursor = match cursor {
                Cursor::Enter { index, raw } => self.enter_state(scope, run, index, raw),
                Cursor::Running(mut state_run) => {
                    let state = &scope.states[state_run.index];
                    match self.drive_state(state, run, &mut state_run) {
                        Drive::Blocked => {
                            run.cursor = Cursor::Running(state_run);
                            return;
                        }
                        Drive::Complete(completion) => {
                            self.complete_state(scope, run, &state_run, completion)
                        }
                        Drive::Fail { error, cause } => {
                            self.fail_state(scope, run, state_run, error, cause)
                        }
                    }
                }
                finished => {
                    run.cursor = finished;
                    return;
                }
            };
        }
    }

    /// `StepEntered` with the state's input; the work itself starts on the next drive.
    fn enter_state(
        &mut self,
        scope: &'a Scope,
        run: &ScopeRun,
        index: usize,
        raw: Value,
    ) -> Cursor {
        let Some(state) = scope.states.get(index) else {
            return Cursor::Failed {
                error: errors::RUNTIME.into(),
                cause: format!("no state at index {index}"),
            };
        };
        let entered_id = self.reserve_id();
        // A task's first attempt token exists from entry on, for `$context.task.token` and
        // `$Context.Current.TaskToken` in its input.
        let token = matches!(state.kind, StateKind::Task(_)).then(|| self.ctx.token(entered_id, 1));
        let input = match &state.data {
            DataFlow::Fdl { input_mappings, .. } => match input_mappings {
                Some(mappings) => {
                    let scope = FdlMappingScope::new(
                        &run.input,
                        &run.local,
                        self.fdl_context(entered_id, token.as_deref()),
                    );
                    data::apply_mappings(mappings, &scope)
                        .map_err(|e| ShapeError(format!("inputMappings: {}", e.0)))
                }
                None => Ok(data::merge(&run.input, &run.local)),
            },
            DataFlow::StateMachine {
                input_constructor, ..
            } => match input_constructor {
                Some(template) => {
                    let scope = SmScope::new(
                        &raw,
                        None,
                        &self.global,
                        self.sm_context(state, 0, token.as_deref(), None),
                    );
                    data::build_template(template, &scope)
                        .map_err(|e| ShapeError(format!("InputConstructor: {}", e.0)))
                }
                None => Ok(raw.clone()),
            },
        };
        let input = input.and_then(|input| self.check_input_size(&input).map(|_| input));
        match input {
            Ok(input) => {
                self.push(
                    entered_id,
                    EventType::StepEntered,
                    &state.name,
                    run.opened_by,
                    history::input_detail(&input),
                );
                Cursor::Running(Box::new(StateRun {
                    index,
                    entered_id,
                    input,
                    attempt: 0,
                    retry_counts: vec![0; state.retry.len()],
                    work: Work::Ready,
                }))
            }
            Err(error) => {
                // docs/COMPATIBILITY.md#history-events: a state failing before it does its work: StepEntered → StepFailed.
                let shown = match self.ctx.language() {
                    Language::Fdl => data::merge(&run.input, &run.local),
                    Language::StateMachine => raw,
                };
                self.push(
                    entered_id,
                    EventType::StepEntered,
                    &state.name,
                    run.opened_by,
                    history::input_detail(&shown),
                );
                self.step_failed(state, entered_id, errors::RUNTIME, &error.0)
            }
        }
    }

    fn check_input_size(&self, input: &Value) -> Result<(), ShapeError> {
        data::check_depth(input, "the state input")?;
        if self.ctx.language() == Language::StateMachine
            && data::json_size(input) > limits::SM_STATE_DATA_BYTES
        {
            return Err(ShapeError(format!(
                "the state input exceeds {} bytes",
                limits::SM_STATE_DATA_BYTES
            )));
        }
        Ok(())
    }

    /// Drives the work of one state.
    fn drive_state(&mut self, state: &'a State, scope_run: &ScopeRun, run: &mut StateRun) -> Drive {
        loop {
            if let Work::RetryDelay { until } = run.work {
                if self.now() < until {
                    return Drive::Blocked;
                }
                run.work = Work::Ready;
            }
            let drive = match &state.kind {
                StateKind::Pass => Drive::Complete(Completion {
                    value: self.passthrough_value(run),
                    then: Then::Next,
                }),
                StateKind::Succeed => Drive::Complete(Completion {
                    value: self.passthrough_value(run),
                    then: Then::EndScope,
                }),
                StateKind::Fail(spec) => Drive::Fail {
                    error: spec.error.clone().unwrap_or_else(|| errors::FAIL.into()),
                    cause: spec.cause.clone().unwrap_or_default(),
                },
                StateKind::Wait(spec) => self.drive_wait(state, spec, run),
                StateKind::Choice(spec) => self.drive_choice(state, spec, run),
                StateKind::Task(spec) => self.drive_task(state, spec, scope_run, run),
                StateKind::Parallel(spec) => self.drive_parallel(state, spec, run),
                StateKind::Map(spec) => self.drive_map(state, spec, run),
            };
            // A retry delay that is already over (zero-length) continues at once.
            if matches!(drive, Drive::Blocked)
                && matches!(run.work, Work::RetryDelay { until } if until <= self.now())
            {
                continue;
            }
            return drive;
        }
    }

    /// The result of states that do no work: FDL local `{}`, state machine the input.
    pub(super) fn passthrough_value(&self, run: &StateRun) -> Value {
        match self.ctx.language() {
            Language::Fdl => data::empty_object(),
            Language::StateMachine => run.input.clone(),
        }
    }

    /// Shapes the output, writes `StepExited` and moves on.
    fn complete_state(
        &mut self,
        scope: &'a Scope,
        run: &mut ScopeRun,
        state_run: &StateRun,
        completion: Completion,
    ) -> Cursor {
        let state = &scope.states[state_run.index];
        let output = match self.shape_output(state, state_run, completion.value) {
            Ok(output) => output,
            Err(error) => {
                return self.step_failed(state, state_run.entered_id, errors::RUNTIME, &error.0);
            }
        };
        self.exit_state(scope, run, state_run, output, completion.then)
    }

    fn exit_state(
        &mut self,
        scope: &'a Scope,
        run: &mut ScopeRun,
        state_run: &StateRun,
        output: Value,
        then: Then,
    ) -> Cursor {
        let state = &scope.states[state_run.index];
        self.push_exited(state, state_run, &output);
        let next = match then {
            Then::Next => state.next,
            Then::Goto(index) => Next::State(index),
            Then::EndScope => Next::End,
        };
        match self.ctx.language() {
            Language::Fdl => {
                // docs/COMPATIBILITY.md#fdl-data-flow rule 5: the parent's local accumulates the outputs.
                data::merge_into(&mut run.local, output);
                match next {
                    Next::State(index) => Cursor::Enter {
                        index,
                        raw: Value::Null,
                    },
                    Next::End => Cursor::Done {
                        output: run.local.clone(),
                    },
                }
            }
            Language::StateMachine => match next {
                Next::State(index) => Cursor::Enter { index, raw: output },
                Next::End => Cursor::Done { output },
            },
        }
    }

    fn push_exited(&mut self, state: &State, state_run: &StateRun, output: &Value) {
        self.emit(
            EventType::StepExited,
            &state.name,
            state_run.entered_id,
            history::output_detail(output),
        );
    }

    /// Output rules: FDL docs/COMPATIBILITY.md#fdl-data-flow rule 4 and the size limit docs/COMPATIBILITY.md#fdl-data-flow; state machine docs/COMPATIBILITY.md#state-machine-data-flow
    /// steps 4–5 and docs/COMPATIBILITY.md#state-machine-data-flow.
    fn shape_output(
        &mut self,
        state: &'a State,
        state_run: &StateRun,
        value: Value,
    ) -> Result<Value, ShapeError> {
        match &state.data {
            DataFlow::Fdl {
                output_mappings, ..
            } => {
                let local = value;
                let output = match output_mappings {
                    Some(mappings) => {
                        let scope = FdlMappingScope::new(
                            &state_run.input,
                            &local,
                            self.fdl_context(state_run.entered_id, None),
                        );
                        data::apply_mappings(mappings, &scope)
                            .map_err(|e| ShapeError(format!("outputMappings: {}", e.0)))?
                    }
                    None if matches!(state.kind, StateKind::Parallel(_) | StateKind::Map(_)) => {
                        data::empty_object()
                    }
                    None => local.clone(),
                };
                data::check_depth(&output, "the step output")?;
                data::check_depth(&local, "the step local")?;
                let size = data::json_size(&state_run.input)
                    + data::json_size(&output)
                    + data::json_size(&local);
                if size > limits::FDL_STEP_DATA_BYTES {
                    return Err(ShapeError(format!(
                        "the step's input, output and local together exceed {} bytes",
                        limits::FDL_STEP_DATA_BYTES
                    )));
                }
                Ok(output)
            }
            DataFlow::StateMachine {
                output_constructor,
                global_constructor,
                ..
            } => {
                let raw = value;
                let output = match output_constructor {
                    // A Choice's output is its input (docs/COMPATIBILITY.md#state-machine-states); the parser refuses a constructor.
                    Some(template) => {
                        let scope = SmScope::new(
                            &state_run.input,
                            Some(&raw),
                            &self.global,
                            self.sm_context(state, state_run.retry_count(), None, None),
                        );
                        data::build_template(template, &scope)
                            .map_err(|e| ShapeError(format!("OutputConstructor: {}", e.0)))?
                    }
                    None => raw.clone(),
                };
                data::check_depth(&output, "the state output")?;
                if data::json_size(&output) > limits::SM_STATE_DATA_BYTES {
                    return Err(ShapeError(format!(
                        "the state output exceeds {} bytes",
                        limits::SM_STATE_DATA_BYTES
                    )));
                }
                if let Some(template) = global_constructor {
                    let scope = SmScope::new(
                        &state_run.input,
                        Some(&raw),
                        &self.global,
                        self.sm_context(state, state_run.retry_count(), None, None),
                    );
                    let written = data::build_template(template, &scope)
                        .map_err(|e| ShapeError(format!("GlobalConstructor: {}", e.0)))?;
                    check_global(&written)?;
                    data::merge_into(&mut self.global, written);
                }
                Ok(output)
            }
        }
    }

    /// Retry, then catch, then the failure propagates (docs/COMPATIBILITY.md#retry-and-catch).
    fn fail_state(
        &mut self,
        scope: &'a Scope,
        run: &mut ScopeRun,
        mut state_run: Box<StateRun>,
        error: String,
        cause: String,
    ) -> Cursor {
        let state = &scope.states[state_run.index];
        if let Some(policy_index) = state.retry.iter().position(|policy| policy.matches(&error)) {
            let policy = &state.retry[policy_index];
            let made = state_run.retry_counts[policy_index];
            if made < policy.max_attempts {
                let delay_ms = (policy.delay_seconds(made) * 1000.0).round() as i64;
                state_run.retry_counts[policy_index] += 1;
                state_run.work = Work::RetryDelay {
                    until: self.now().saturating_add(delay_ms),
                };
                return Cursor::Running(state_run);
            }
        }
        if let Some(catch) = state.catch.iter().find(|catch| catch.matches(&error)) {
            let output = match &catch.output {
                CatchOutput::Fdl(mappings) => {
                    // docs/COMPATIBILITY.md#retry-and-catch: the local becomes the error; errorMappings build the output.
                    let local = json!({"error": error, "cause": cause, "code": error});
                    match mappings {
                        Some(mappings) => {
                            let scope = FdlMappingScope::new(
                                &state_run.input,
                                &local,
                                self.fdl_context(state_run.entered_id, None),
                            );
                            data::apply_mappings(mappings, &scope)
                                .map_err(|e| ShapeError(format!("errorMappings: {}", e.0)))
                        }
                        None => Ok(data::empty_object()),
                    }
                }
                CatchOutput::StateMachine(template) => match template {
                    Some(template) => {
                        let scope = SmScope::new(
                            &state_run.input,
                            None,
                            &self.global,
                            self.sm_context(
                                state,
                                state_run.retry_count(),
                                None,
                                Some((&error, &cause)),
                            ),
                        );
                        data::build_template(template, &scope)
                            .map_err(|e| ShapeError(format!("Catch OutputConstructor: {}", e.0)))
                    }
                    None => Ok(data::empty_object()),
                },
            };
            return match output {
                Ok(output) => {
                    self.exit_state(scope, run, &state_run, output, Then::Goto(catch.next))
                }
                Err(shape) => {
                    self.step_failed(state, state_run.entered_id, errors::RUNTIME, &shape.0)
                }
            };
        }
        self.step_failed(state, state_run.entered_id, &error, &cause)
    }

    /// `StepFailed`; the scope fails with the error.
    pub(super) fn step_failed(
        &mut self,
        state: &State,
        entered_id: i64,
        error: &str,
        cause: &str,
    ) -> Cursor {
        self.emit(
            EventType::StepFailed,
            &state.name,
            entered_id,
            history::error_detail(error, cause),
        );
        Cursor::Failed {
            error: error.to_string(),
            cause: cause.to_string(),
        }
    }

    pub(super) fn sm_context<'b>(
        &'b self,
        state: &'b State,
        retry_count: u32,
        task_token: Option<&'b str>,
        error: Option<(&'b str, &'b str)>,
    ) -> SmContext<'b> {
        SmContext {
            execution_name: self.ctx.execution_name,
            execution_input: self.ctx.execution_input,
            role_arn: self.ctx.role_arn,
            flow_name: self.ctx.flow_name,
            region: self.ctx.region,
            state_name: &state.name,
            retry_count,
            task_token,
            error,
        }
    }
}

/// docs/COMPATIBILITY.md#state-machine-data-flow: keys ≤ 128 bytes, values ≤ 256 KiB.
fn check_global(written: &Value) -> Result<(), ShapeError> {
    let Value::Object(members) = written else {
        return Err(ShapeError("GlobalConstructor must build an object".into()));
    };
    for (key, value) in members {
        if key.len() > 128 {
            return Err(ShapeError(format!(
                "GlobalConstructor key '{key}' is longer than 128 bytes"
            )));
        }
        data::check_depth(value, &format!("GlobalConstructor value of '{key}'"))?;
        if data::json_size(value) > 256 * 1024 {
            return Err(ShapeError(format!(
                "GlobalConstructor value of '{key}' exceeds 256 KiB"
            )));
        }
    }
    Ok(())
}
