//! The FDL `task` step (docs/COMPATIBILITY.md#fdl-tasks) with its retry and catch policies (docs/COMPATIBILITY.md#retry-and-catch).

use serde_json::Value;

use super::common::{
    FDL_DOLLAR_ROOTS, Obj, Result, Siblings, err, error_names, field, item, mappings,
    path_expression,
};
use super::fdl::{Ctx, timeout_seconds};
use crate::engine::ir::{
    CatchOutput, CatchPolicy, FunctionRef, RetryPolicy, Source, TaskPattern, TaskSpec, TaskTarget,
    TimeoutSpec, limits,
};

pub(super) fn task(
    ctx: &Ctx,
    step: &Obj,
    siblings: &Siblings,
) -> Result<(TaskSpec, Vec<RetryPolicy>, Vec<CatchPolicy>)> {
    let arn = step.name_opt("resourceArn")?;
    let action = step.name_opt("action")?;
    let (resource, is_arn) = match (arn, action) {
        (Some(_), Some(_)) => {
            return Err(err(
                step.at("action"),
                "must not be given together with 'resourceArn'",
            ));
        }
        (None, None) => return Err(err(step.at("resourceArn"), "is required (or 'action')")),
        (Some(arn), None) => (arn, true),
        (None, Some(action)) => (action, false),
    };
    let params = service_params(step)?;
    let target = if is_arn {
        arn_target(resource, &step.at("resourceArn"), params)?
    } else {
        action_target(resource, step, params)?
    };
    let pattern = match step.string("pattern")? {
        None | Some("requestResponse") => TaskPattern::RequestResponse,
        Some("sync") => TaskPattern::Sync,
        Some("waitForCallback") => TaskPattern::WaitForCallback,
        Some(other) => {
            return Err(err(
                step.at("pattern"),
                format!("must be requestResponse, sync or waitForCallback, got '{other}'"),
            ));
        }
    };
    let timeout = timeout_seconds(ctx, step)?.map(TimeoutSpec::Seconds);
    let retry = retry_policies(step)?;
    // docs/COMPATIBILITY.md#retry-and-catch: errorMappings shape the output of every catch policy of the task.
    let error_mappings = mappings(step, "errorMappings")?;
    let catch = catch_policies(step, siblings, &error_mappings)?;
    let spec = TaskSpec {
        resource: resource.to_string(),
        target,
        pattern,
        timeout,
    };
    Ok((spec, retry, catch))
}

/// `serviceParams`: a `$`, `$.…` or `$[…]` string is a path over the step input; anything
/// else is a constant.
fn service_params(step: &Obj) -> Result<Vec<(String, Source)>> {
    let Some(params) = step.object("serviceParams")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(params.map.len());
    for (key, value) in params.map {
        let source = match value {
            Value::String(s) if s == "$" || s.starts_with("$.") || s.starts_with("$[") => {
                Source::Expr(path_expression(s, &params.at(key), FDL_DOLLAR_ROOTS)?)
            }
            other => Source::Const(other.clone()),
        };
        out.push((key.clone(), source));
    }
    Ok(out)
}

/// The `resourceArn` forms of docs/COMPATIBILITY.md#fdl-tasks. Other services (MNS, …) are accepted and fail at run
/// time (docs/COMPATIBILITY.md#q16).
fn arn_target(arn: &str, path: &str, params: Vec<(String, Source)>) -> Result<TaskTarget> {
    if let Some(rest) = arn.strip_prefix("acs:fc:") {
        return function_ref(rest)
            .map(TaskTarget::FdlFunction)
            .ok_or_else(|| {
                err(
                    path,
                    "is not a Function Compute function ARN \
                 (acs:fc:{region}:{account}:services/{service}/functions/{function})",
                )
            });
    }
    if let Some(rest) = arn.strip_prefix("acs:fnf:") {
        let flow = resource_part(rest)
            .and_then(|r| r.strip_prefix("flow/"))
            .filter(|name| !name.is_empty() && !name.contains('/'));
        return match flow {
            Some(name) => Ok(TaskTarget::FdlFlow {
                flow_name: Some(name.to_string()),
                params,
            }),
            None => Err(err(
                path,
                "is not a flow ARN (acs:fnf:{region}:{account}:flow/{name})",
            )),
        };
    }
    Ok(TaskTarget::Unsupported {
        action: arn.to_string(),
    })
}

/// The part after `{region}:{account}:`.
fn resource_part(rest: &str) -> Option<&str> {
    let mut parts = rest.splitn(3, ':');
    parts.next()?;
    parts.next()?;
    parts.next()
}

/// Appendix C: `services/{service}[.{qualifier}]/functions/{function}` or
/// `functions/{function}[/{qualifier}]`.
fn function_ref(rest: &str) -> Option<FunctionRef> {
    let resource = resource_part(rest)?;
    let valid = |s: &str| !s.is_empty() && !s.contains('/');
    if let Some(r) = resource.strip_prefix("services/") {
        let (service, function) = r.split_once("/functions/")?;
        let (service, qualifier) = match service.split_once('.') {
            Some((service, qualifier)) => (service, Some(qualifier)),
            None => (service, None),
        };
        (valid(service) && valid(function) && qualifier.is_none_or(valid)).then(|| {
            FunctionRef::Service {
                service: service.to_string(),
                qualifier: qualifier.map(str::to_string),
                function: function.to_string(),
            }
        })
    } else {
        let r = resource.strip_prefix("functions/")?;
        let (function, qualifier) = match r.split_once('/') {
            Some((function, qualifier)) => (function, Some(qualifier)),
            None => (r, None),
        };
        (valid(function) && qualifier.is_none_or(valid)).then(|| FunctionRef::Function {
            function: function.to_string(),
            qualifier: qualifier.map(str::to_string),
        })
    }
}

/// `action: product:ApiName`; only `fnf:StartExecution` runs (service case-insensitive, docs/COMPATIBILITY.md#q16).
fn action_target(action: &str, step: &Obj, params: Vec<(String, Source)>) -> Result<TaskTarget> {
    let Some((service, api)) = action
        .split_once(':')
        .filter(|(service, api)| !service.is_empty() && !api.is_empty())
    else {
        return Err(err(
            step.at("action"),
            format!("must be 'product:ApiName', got '{action}'"),
        ));
    };
    if !(service.eq_ignore_ascii_case("fnf") && api == "StartExecution") {
        return Ok(TaskTarget::Unsupported {
            action: action.to_string(),
        });
    }
    // The child flow is named only by serviceParams in this form.
    let flow_path = field(&step.at("serviceParams"), "FlowName");
    match params.iter().find(|(key, _)| key == "FlowName") {
        None => Err(err(flow_path, "is required for fnf:StartExecution")),
        Some((_, Source::Const(Value::String(name)))) if name.is_empty() => {
            Err(err(flow_path, "must be a non-empty string"))
        }
        Some((_, Source::Const(value))) if !value.is_string() => {
            Err(err(flow_path, "must be a string or a '$' path"))
        }
        Some(_) => Ok(TaskTarget::FdlFlow {
            flow_name: None,
            params,
        }),
    }
}

/// docs/COMPATIBILITY.md#retry-and-catch.
fn retry_policies(step: &Obj) -> Result<Vec<RetryPolicy>> {
    let Some(list) = step.list("retry")? else {
        return Ok(Vec::new());
    };
    let path = step.at("retry");
    let max_interval = Some(limits::MAX_RETRY_INTERVAL_SECONDS);
    let mut out = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let rule = Obj::new(value, item(&path, i))?;
        let mut policy = RetryPolicy::fdl_default(error_names(&rule, "errors")?);
        if let Some(n) = rule.integer("intervalSeconds", 1, max_interval)? {
            policy.interval_seconds = n as f64;
        }
        if let Some(n) = rule.integer("maxIntervalSeconds", 1, max_interval)? {
            policy.max_interval_seconds = n as f64;
        }
        if let Some(n) = rule.integer("maxAttempts", 0, None)? {
            // Beyond u32 it is "retry forever" anyway.
            policy.max_attempts = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(rate) = rule.number("multiplier", 1.0)? {
            policy.backoff_rate = rate;
        }
        out.push(policy);
    }
    Ok(out)
}

/// docs/COMPATIBILITY.md#retry-and-catch.
fn catch_policies(
    step: &Obj,
    siblings: &Siblings,
    error_mappings: &Option<crate::engine::ir::Mappings>,
) -> Result<Vec<CatchPolicy>> {
    let Some(list) = step.list("catch")? else {
        return Ok(Vec::new());
    };
    let path = step.at("catch");
    let mut out = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let rule = Obj::new(value, item(&path, i))?;
        let errors = error_names(&rule, "errors")?;
        let goto = rule.required_string("goto")?;
        let next = siblings.resolve(goto, &rule.at("goto"))?;
        out.push(CatchPolicy {
            errors,
            next,
            output: CatchOutput::Fdl(error_mappings.clone()),
        });
    }
    Ok(out)
}
