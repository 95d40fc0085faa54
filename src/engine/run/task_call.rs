//! The call of a task attempt (docs/COMPATIBILITY.md#fdl-steps, docs/COMPATIBILITY.md#state-machine-tasks): what each kind of target
//! invokes, what the call's answer means and what the history shows as sent.

use serde_json::{Map, Value};

use super::super::calls::{CallKind, ChildShape, FunctionShape};
use super::super::data::{self, DollarScope, ShapeError, SmScope};
use super::super::ir::{
    FunctionRef, Source, State, TaskPattern, TaskSpec, TaskTarget, Template, parse_flow_arn,
};
use super::super::state::{CallMode, StateRun};
use super::Advance;

/// A call ready to be made, with what it means and what the history shows as sent.
pub(super) struct PlannedCall {
    pub(super) kind: CallKind,
    pub(super) mode: CallMode,
    pub(super) sent: Value,
}

impl<'a> Advance<'a> {
    /// What this attempt calls; `None` for integrations that are not implemented.
    pub(super) fn plan_call(
        &self,
        state: &'a State,
        spec: &'a TaskSpec,
        run: &StateRun,
        input: &Value,
        token: &str,
    ) -> Result<Option<PlannedCall>, ShapeError> {
        let pattern = spec.pattern;
        Ok(Some(match &spec.target {
            TaskTarget::Unsupported { .. } => return Ok(None),
            TaskTarget::FdlFunction(function) => {
                let (shape, mode) = match pattern {
                    TaskPattern::RequestResponse => (FunctionShape::FdlLocal, CallMode::Result),
                    TaskPattern::Sync => (FunctionShape::FdlLocal, CallMode::SubmitAndResult),
                    TaskPattern::WaitForCallback => {
                        (FunctionShape::Submission, CallMode::SubmitThenWait)
                    }
                };
                PlannedCall {
                    kind: CallKind::Function {
                        function: function.clone(),
                        event: input.clone(),
                        asynchronous: false,
                        shape,
                    },
                    mode,
                    sent: input.clone(),
                }
            }
            TaskTarget::FdlFlow { flow_name, params } => {
                // docs/COMPATIBILITY.md#fdl-tasks subflows: serviceParams values are constants or `$` paths.
                let scope = DollarScope(input);
                let mut values = Map::new();
                for (name, source) in params {
                    let value = match source {
                        Source::Const(value) => value.clone(),
                        Source::Expr(expr) => data::eval(expr, &scope)?,
                    };
                    values.insert(name.clone(), value);
                }
                let flow_name = match flow_name {
                    Some(name) => name.clone(),
                    None => required_string(&values, "FlowName", "serviceParams")?,
                };
                let child_input = values
                    .get("Input")
                    .cloned()
                    .unwrap_or_else(|| input.clone());
                let execution_name = optional_string(&values, "ExecutionName", "serviceParams")?;
                self.child_call(
                    flow_name,
                    execution_name,
                    child_input,
                    pattern,
                    ChildShape::Fdl,
                    token,
                )?
            }
            TaskTarget::FcInvoke(template) => {
                let params = self.sm_parameters(state, template, run, input, token)?;
                let arn = required_string(&params, "resourceArn", "Parameters")?;
                let function = FunctionRef::parse_arn(&arn).ok_or_else(|| {
                    ShapeError(format!(
                        "Parameters.resourceArn '{arn}' is not a function ARN"
                    ))
                })?;
                let invocation = required_string(&params, "invocationType", "Parameters")?;
                let asynchronous = match invocation.as_str() {
                    "Sync" => false,
                    "Async" => true,
                    other => {
                        return Err(ShapeError(format!(
                            "Parameters.invocationType must be Sync or Async, got '{other}'"
                        )));
                    }
                };
                let (shape, mode, asynchronous) = match (pattern, asynchronous) {
                    (TaskPattern::RequestResponse, false) => {
                        (FunctionShape::Wrapped, CallMode::Result, false)
                    }
                    (TaskPattern::RequestResponse, true) => {
                        (FunctionShape::Accepted, CallMode::Result, true)
                    }
                    // Appendix C: a job is invoked synchronously; its answer is the result.
                    (TaskPattern::Sync, _) => {
                        (FunctionShape::Wrapped, CallMode::SubmitAndResult, false)
                    }
                    // Appendix C: `Async` only for RequestComplete; a callback task's
                    // submission is a synchronous invocation whatever `invocationType` says.
                    (TaskPattern::WaitForCallback, _) => {
                        (FunctionShape::Submission, CallMode::SubmitThenWait, false)
                    }
                };
                PlannedCall {
                    kind: CallKind::Function {
                        function,
                        event: params.get("body").cloned().unwrap_or(Value::Null),
                        asynchronous,
                        shape,
                    },
                    mode,
                    sent: Value::Object(params),
                }
            }
            TaskTarget::StartExecution(template) => {
                let params = self.sm_parameters(state, template, run, input, token)?;
                let arn = required_string(&params, "resourceArn", "Parameters")?;
                let flow_name = parse_flow_arn(&arn).ok_or_else(|| {
                    ShapeError(format!("Parameters.resourceArn '{arn}' is not a flow ARN"))
                })?;
                let execution_name = optional_string(&params, "executionName", "Parameters")?;
                let child_input = params
                    .get("input")
                    .cloned()
                    .unwrap_or_else(data::empty_object);
                let mut planned = self.child_call(
                    flow_name,
                    execution_name,
                    child_input,
                    pattern,
                    ChildShape::StateMachine,
                    token,
                )?;
                planned.sent = Value::Object(params);
                planned
            }
            TaskTarget::Http(template) => {
                let params = self.sm_parameters(state, template, run, input, token)?;
                let url = required_string(&params, "url", "Parameters")?;
                let method = required_string(&params, "method", "Parameters")?.to_uppercase();
                let headers = match params.get("headers") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Object(headers)) => headers
                        .iter()
                        .map(|(name, value)| {
                            let value = match value {
                                Value::String(text) => text.clone(),
                                other => other.to_string(),
                            };
                            (name.clone(), value)
                        })
                        .collect(),
                    Some(other) => {
                        return Err(ShapeError(format!(
                            "Parameters.headers must be an object, got {other}"
                        )));
                    }
                };
                let waits = pattern == TaskPattern::WaitForCallback;
                PlannedCall {
                    kind: CallKind::Http {
                        url,
                        method,
                        headers,
                        body: params.get("body").cloned(),
                        with_callback_token: waits,
                    },
                    mode: if waits {
                        CallMode::SubmitThenWait
                    } else {
                        CallMode::Result
                    },
                    sent: Value::Object(params),
                }
            }
        }))
    }

    fn child_call(
        &self,
        flow_name: String,
        execution_name: Option<String>,
        input: Value,
        pattern: TaskPattern,
        request_shape: ChildShape,
        token: &str,
    ) -> Result<PlannedCall, ShapeError> {
        if !input.is_object() {
            return Err(ShapeError(format!(
                "the child execution input must be a JSON object, got {input}"
            )));
        }
        let (callback_token, shape, mode) = match pattern {
            TaskPattern::RequestResponse => (None, request_shape, CallMode::Result),
            // The child reports its end to this attempt's token (docs/COMPATIBILITY.md#executions).
            TaskPattern::Sync => (
                Some(token.to_string()),
                ChildShape::Submission,
                CallMode::SubmitThenWait,
            ),
            TaskPattern::WaitForCallback => {
                (None, ChildShape::Submission, CallMode::SubmitThenWait)
            }
        };
        Ok(PlannedCall {
            sent: input.clone(),
            kind: CallKind::StartExecution {
                flow_name,
                execution_name,
                input,
                callback_token,
                shape,
            },
            mode,
        })
    }

    /// Evaluates a state machine task's `Parameters` (docs/COMPATIBILITY.md#state-machine-states) for this attempt.
    fn sm_parameters(
        &self,
        state: &'a State,
        template: &'a Template,
        run: &StateRun,
        input: &Value,
        token: &str,
    ) -> Result<Map<String, Value>, ShapeError> {
        let scope = SmScope::new(
            input,
            None,
            &self.global,
            self.sm_context(state, run.retry_count(), Some(token), None),
        );
        match data::build_template(template, &scope)
            .map_err(|e| ShapeError(format!("Parameters: {}", e.0)))?
        {
            Value::Object(params) => Ok(params),
            Value::Null => Ok(Map::new()),
            other => Err(ShapeError(format!(
                "Parameters must be an object, got {other}"
            ))),
        }
    }
}

fn required_string(
    params: &Map<String, Value>,
    name: &str,
    owner: &str,
) -> Result<String, ShapeError> {
    match params.get(name) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(other) => Err(ShapeError(format!(
            "{owner}.{name} must be a non-empty string, got {other}"
        ))),
        None => Err(ShapeError(format!("{owner}.{name} is required"))),
    }
}

fn optional_string(
    params: &Map<String, Value>,
    name: &str,
    owner: &str,
) -> Result<Option<String>, ShapeError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(ShapeError(format!(
            "{owner}.{name} must be a string, got {other}"
        ))),
    }
}
