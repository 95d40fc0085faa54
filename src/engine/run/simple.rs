//! Wait (docs/COMPATIBILITY.md#fdl-steps, docs/COMPATIBILITY.md#state-machine-states) and Choice (docs/COMPATIBILITY.md#fdl-steps, docs/COMPATIBILITY.md#state-machine-states).

use serde_json::Value;

use super::super::data::{self, DollarScope, SmScope};
use super::super::expr::{Expr, Scope as ExprScope};
use super::super::history::EventType;
use super::super::ir::{ChoiceSpec, ChoiceTarget, Language, State, ValueSpec, WaitSpec, limits};
use super::super::state::{Cursor, ScopeRun, StateRun, Work};
use super::Advance;
use super::scope::{Completion, Drive, Then};
use crate::engine::errors;
use crate::time::{format_ms, parse_rfc3339_ms};

impl<'a> Advance<'a> {
    pub(super) fn drive_wait(
        &mut self,
        state: &'a State,
        spec: &'a WaitSpec,
        run: &mut StateRun,
    ) -> Drive {
        if let Work::Ready = run.work {
            let until = match self.wait_until(state, spec, run) {
                Ok(until) => until,
                Err(cause) => {
                    return Drive::Fail {
                        error: errors::RUNTIME.into(),
                        cause,
                    };
                }
            };
            self.emit(
                EventType::StepStarted,
                &state.name,
                run.entered_id,
                // When it really ends, on the wall clock (virtual time may shorten it).
                serde_json::json!({"until": format_ms(self.wall_time(until, false))}),
            );
            run.work = Work::Wait { until };
        }
        match run.work {
            Work::Wait { until } if self.now() >= until => Drive::Complete(Completion {
                value: self.passthrough_value(run),
                then: Then::Next,
            }),
            _ => Drive::Blocked,
        }
    }

    /// When the wait ends. Dynamic values that are out of range fail the state (docs/COMPATIBILITY.md#q21).
    fn wait_until(
        &self,
        state: &'a State,
        spec: &'a WaitSpec,
        run: &StateRun,
    ) -> Result<i64, String> {
        let language = self.ctx.language();
        match spec {
            WaitSpec::Seconds(value) => {
                let value = self.wait_value(state, value, run)?;
                let Some(seconds) = value.as_f64() else {
                    return Err(format!("the wait duration must be a number, got {value}"));
                };
                let (min, max) = match language {
                    Language::Fdl => (0.0, limits::FDL_MAX_WAIT_SECONDS as f64),
                    Language::StateMachine if self.ctx.express => {
                        (1.0, limits::SM_MAX_WAIT_SECONDS_EXPRESS as f64)
                    }
                    Language::StateMachine => (1.0, limits::SM_MAX_WAIT_SECONDS as f64),
                };
                let integral = language == Language::Fdl || seconds.fract() == 0.0;
                if !(min..=max).contains(&seconds) || !integral {
                    return Err(format!(
                        "the wait duration must be {} between {min} and {max} seconds, got {value}",
                        if language == Language::Fdl {
                            "a number"
                        } else {
                            "an integer"
                        }
                    ));
                }
                Ok(self.now().saturating_add((seconds * 1000.0).round() as i64))
            }
            WaitSpec::Timestamp(value) => {
                let value = self.wait_value(state, value, run)?;
                let until = value.as_str().and_then(parse_rfc3339_ms).ok_or_else(|| {
                    format!("the wait timestamp must be an RFC 3339 time, got {value}")
                })?;
                if until - self.now() > limits::FDL_MAX_WAIT_SECONDS as i64 * 1000 {
                    return Err(format!(
                        "the wait timestamp {value} is more than {} seconds away",
                        limits::FDL_MAX_WAIT_SECONDS
                    ));
                }
                Ok(until.max(self.now()))
            }
        }
    }

    fn wait_value(
        &self,
        state: &'a State,
        value: &'a ValueSpec,
        run: &StateRun,
    ) -> Result<Value, String> {
        match value {
            ValueSpec::Const(value) => Ok(value.clone()),
            ValueSpec::Expr(expr) => self
                .eval_on_input(state, expr, run)
                .map_err(|error| error.0),
        }
    }

    /// Evaluates an expression over the state's input: `$` in FDL, the state machine roots
    /// otherwise.
    pub(super) fn eval_on_input(
        &self,
        state: &'a State,
        expr: &Expr,
        run: &StateRun,
    ) -> Result<Value, data::ShapeError> {
        match self.ctx.language() {
            Language::Fdl => data::eval(expr, &DollarScope(&run.input)),
            Language::StateMachine => {
                let scope = SmScope::new(
                    &run.input,
                    None,
                    &self.global,
                    self.sm_context(state, run.retry_count(), None, None),
                );
                data::eval(expr, &scope)
            }
        }
    }

    pub(super) fn drive_choice(
        &mut self,
        state: &'a State,
        spec: &'a ChoiceSpec,
        run: &mut StateRun,
    ) -> Drive {
        if let Work::Ready = run.work {
            let selected = match self.select_option(state, spec, run) {
                Ok(selected) => selected,
                Err(cause) => {
                    return Drive::Fail {
                        error: errors::RUNTIME.into(),
                        cause,
                    };
                }
            };
            let Some((option, target)) = selected else {
                // docs/COMPATIBILITY.md#fdl-steps: no condition holds and no default: the choice just completes.
                return Drive::Complete(Completion {
                    value: self.passthrough_value(run),
                    then: Then::Next,
                });
            };
            let Some(steps) = &target.steps else {
                return Drive::Complete(Completion {
                    value: self.passthrough_value(run),
                    then: target.goto.map_or(Then::Next, Then::Goto),
                });
            };
            // The option's steps run as a child list whose parent is the choice (docs/COMPATIBILITY.md#legacy-fdl).
            run.work = Work::ChoiceBody {
                option,
                body: ScopeRun {
                    opened_by: run.entered_id,
                    input: run.input.clone(),
                    local: data::empty_object(),
                    cursor: Cursor::Enter {
                        index: steps.start,
                        raw: Value::Null,
                    },
                },
                goto: target.goto,
            };
        }
        let Work::ChoiceBody { option, body, goto } = &mut run.work else {
            return Drive::Blocked;
        };
        let target = match option {
            Some(index) => &spec.options[*index].target,
            None => match &spec.default {
                Some(default) => default,
                None => return Drive::Blocked,
            },
        };
        let Some(steps) = &target.steps else {
            return Drive::Blocked;
        };
        self.drive_scope(steps, body);
        match &body.cursor {
            Cursor::Done { output } => Drive::Complete(Completion {
                value: output.clone(),
                then: goto.map_or(Then::Next, Then::Goto),
            }),
            Cursor::Failed { error, cause } => Drive::Fail {
                error: error.clone(),
                cause: cause.clone(),
            },
            _ => Drive::Blocked,
        }
    }

    /// The first option whose condition is true, else the default (`None` index).
    fn select_option(
        &self,
        state: &'a State,
        spec: &'a ChoiceSpec,
        run: &StateRun,
    ) -> Result<Option<(Option<usize>, &'a ChoiceTarget)>, String> {
        let dollar = DollarScope(&run.input);
        let sm;
        let scope: &dyn ExprScope = match self.ctx.language() {
            Language::Fdl => &dollar,
            Language::StateMachine => {
                sm = SmScope::new(
                    &run.input,
                    None,
                    &self.global,
                    self.sm_context(state, run.retry_count(), None, None),
                );
                &sm
            }
        };
        for (index, option) in spec.options.iter().enumerate() {
            let taken = data::eval_condition(&option.condition, scope)
                .map_err(|error| format!("Choice option {index}: {}", error.0))?;
            if taken {
                return Ok(Some((Some(index), &option.target)));
            }
        }
        Ok(spec.default.as_ref().map(|target| (None, target)))
    }
}
