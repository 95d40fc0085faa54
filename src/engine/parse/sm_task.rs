//! The state-machine Task state (docs/COMPATIBILITY.md#state-machine-states, docs/COMPATIBILITY.md#state-machine-tasks) and the Retry / Catch rules (docs/COMPATIBILITY.md#retry-and-catch).

use serde_json::Value;

use super::common::{
    Obj, Result, SM_INPUT_ROOTS, SM_OUTPUT_ROOTS, Siblings, constructor, err, error_names,
    expression, integer_in, item, show,
};
use crate::engine::ir::{
    CatchOutput, CatchPolicy, RetryPolicy, TaskPattern, TaskSpec, TaskTarget, Template,
    TimeoutSpec, limits,
};

const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

pub(super) fn task(state: &Obj) -> Result<TaskSpec> {
    let action = state.name("Action")?;
    let Some((service, api)) = action
        .split_once(':')
        .filter(|(service, api)| !service.is_empty() && !api.is_empty())
    else {
        return Err(err(
            state.at("Action"),
            format!("must be 'Service:API', got '{action}'"),
        ));
    };
    let pattern = match state.string("TaskMode")? {
        None | Some("RequestComplete") => TaskPattern::RequestResponse,
        Some("WaitForSystemCallback") => TaskPattern::Sync,
        Some("WaitForCustomCallback") => TaskPattern::WaitForCallback,
        Some(other) => {
            return Err(err(
                state.at("TaskMode"),
                format!(
                    "must be RequestComplete, WaitForSystemCallback or WaitForCustomCallback, \
                     got '{other}'"
                ),
            ));
        }
    };
    let timeout = timeout(state)?;
    let parameters = constructor(state, "Parameters", SM_INPUT_ROOTS)?;
    let params = state.object("Parameters")?;
    let params = params.as_ref();
    // docs/COMPATIBILITY.md#q16: the service part is matched case-insensitively, the API part exactly.
    let service = service.to_ascii_uppercase();
    let kind = match (service.as_str(), api) {
        ("FC", "InvokeFunction") => {
            required_string_param(state, params, "resourceArn")?;
            if let Some(kind) = required_string_param(state, params, "invocationType")?
                && kind != "Sync"
                && kind != "Async"
            {
                return Err(param_err(
                    state,
                    "invocationType",
                    format!("must be Sync or Async, got '{kind}'"),
                ));
            }
            Kind::Fc
        }
        ("FNF", "StartExecution") => {
            required_string_param(state, params, "resourceArn")?;
            Kind::StartExecution
        }
        // `HTTP:Invoke` is an alias (docs/COMPATIBILITY.md#q14).
        ("HTTP", "Request" | "Invoke") => {
            required_string_param(state, params, "url")?;
            if let Some(method) = required_string_param(state, params, "method")?
                && !HTTP_METHODS.iter().any(|m| m.eq_ignore_ascii_case(method))
            {
                return Err(param_err(
                    state,
                    "method",
                    format!("must be one of {}, got '{method}'", HTTP_METHODS.join(" ")),
                ));
            }
            Kind::Http
        }
        _ => Kind::Unsupported,
    };
    let parameters = parameters.unwrap_or(Template::Object(Vec::new()));
    let target = match kind {
        Kind::Fc => TaskTarget::FcInvoke(parameters),
        Kind::StartExecution => TaskTarget::StartExecution(parameters),
        Kind::Http => TaskTarget::Http(parameters),
        // Accepted, fails at run time with FnF.ActionNotSupported (docs/COMPATIBILITY.md#state-machine-tasks).
        Kind::Unsupported => TaskTarget::Unsupported {
            action: action.to_string(),
        },
    };
    Ok(TaskSpec {
        resource: action.to_string(),
        target,
        pattern,
        timeout,
    })
}

enum Kind {
    Fc,
    StartExecution,
    Http,
    Unsupported,
}

fn param_err(state: &Obj, key: &str, reason: impl Into<String>) -> super::DefinitionError {
    err(format!("{}.{key}", state.at("Parameters")), reason)
}

/// A required `Parameters` entry, given as `key` or `key.$`. Returns the constant when
/// it is written literally (it must then be a non-empty string), `None` for `key.$`.
fn required_string_param<'a>(
    state: &Obj,
    params: Option<&Obj<'a>>,
    key: &str,
) -> Result<Option<&'a str>> {
    let Some(params) = params else {
        return Err(param_err(state, key, "is required"));
    };
    match params.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(param_err(state, key, "must be a non-empty string")),
        None if params.has(&format!("{key}.$")) => Ok(None),
        None => Err(param_err(state, key, "is required")),
    }
}

/// `Timeout`: an integer or numeric string 0–604800 (0 = no limit), or `Timeout.$`.
fn timeout(state: &Obj) -> Result<Option<TimeoutSpec>> {
    let max = limits::SM_MAX_TASK_TIMEOUT_SECONDS;
    match (state.get("Timeout"), state.get("Timeout.$")) {
        (Some(_), Some(_)) => Err(err(
            state.at("Timeout.$"),
            "must not be given together with 'Timeout'",
        )),
        (None, None) => Ok(None),
        (Some(value), None) => {
            let path = state.at("Timeout");
            let seconds = match value {
                Value::String(s) => {
                    s.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| {
                        err(
                            &path,
                            format!(
                                "must be an integer between 0 and {max}, got {}",
                                show(value)
                            ),
                        )
                    })?
                }
                _ => integer_in(value, &path, 0, Some(max))?,
            };
            Ok((seconds > 0).then_some(TimeoutSpec::Seconds(seconds)))
        }
        (None, Some(value)) => {
            let path = state.at("Timeout.$");
            let Value::String(src) = value else {
                return Err(err(path, "must be a string expression"));
            };
            Ok(Some(TimeoutSpec::Expr(expression(
                src,
                &path,
                SM_INPUT_ROOTS,
            )?)))
        }
    }
}

/// docs/COMPATIBILITY.md#retry-and-catch Retry rules.
pub(super) fn retry_rules(state: &Obj) -> Result<Vec<RetryPolicy>> {
    let Some(list) = state.list("Retry")? else {
        return Ok(Vec::new());
    };
    let path = state.at("Retry");
    let max_interval = Some(limits::MAX_RETRY_INTERVAL_SECONDS);
    let mut out = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let rule = Obj::new(value, item(&path, i))?;
        let errors = error_names(&rule, "Errors")?;
        let max_attempts = rule.required_integer("MaxAttempts", 0, None)?;
        let interval = rule.required_integer("IntervalSeconds", 1, max_interval)?;
        // docs/COMPATIBILITY.md#q15: constant delay unless BackoffRate says otherwise.
        let backoff_rate = rule.number("BackoffRate", 1.0)?.unwrap_or(1.0);
        let max_backoff = rule
            .integer("MaxBackoffSeconds", 1, max_interval)?
            .unwrap_or(limits::MAX_RETRY_INTERVAL_SECONDS);
        out.push(RetryPolicy {
            errors,
            interval_seconds: interval as f64,
            max_interval_seconds: max_backoff as f64,
            // Beyond u32 it is "retry forever" anyway.
            max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
            backoff_rate,
        });
    }
    Ok(out)
}

/// docs/COMPATIBILITY.md#retry-and-catch Catch rules.
pub(super) fn catch_rules(state: &Obj, siblings: &Siblings) -> Result<Vec<CatchPolicy>> {
    let Some(list) = state.list("Catch")? else {
        return Ok(Vec::new());
    };
    let path = state.at("Catch");
    let mut out = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let rule = Obj::new(value, item(&path, i))?;
        let errors = error_names(&rule, "Errors")?;
        let target = rule.required_string("Next")?;
        let next = siblings.resolve(target, &rule.at("Next"))?;
        let output = constructor(&rule, "OutputConstructor", SM_OUTPUT_ROOTS)?;
        out.push(CatchPolicy {
            errors,
            next,
            output: CatchOutput::StateMachine(output),
        });
    }
    Ok(out)
}
