//! Legacy FDL (docs/COMPATIBILITY.md#legacy-fdl): `type: flow`, `steps:`.

use chrono::DateTime;
use serde_json::{Map, Value};

use super::ParseOptions;
use super::common::{
    FDL_DOLLAR_ROOTS, Obj, Result, Siblings, err, expression, item, mappings, path_expression, show,
};
use super::fdl_task::task;
use crate::engine::ir::{
    ChoiceOption, ChoiceSpec, ChoiceTarget, DataFlow, FailSpec, FlowDefinition, Language, MapSpec,
    Next, ParallelSpec, Scope, State, StateKind, ValueSpec, WaitSpec, limits,
};
use crate::time::parse_rfc3339_ms;

const STEP_TYPES: &[&str] = &[
    "task", "pass", "choice", "wait", "succeed", "fail", "parallel", "foreach",
];

/// Parse-wide settings.
pub(super) struct Ctx {
    /// When the definition is being created or updated (epoch ms); `None` when a stored
    /// definition is loaded again.
    pub created_at: Option<i64>,
}

pub(super) fn parse(
    doc: &Map<String, Value>,
    options: &ParseOptions<'_>,
    created_at: Option<i64>,
) -> Result<FlowDefinition> {
    let ctx = Ctx { created_at };
    let top = Obj {
        map: doc,
        path: String::new(),
    };
    // docs/COMPATIBILITY.md#documents (docs/COMPATIBILITY.md#q1): the FDL page names v1; ROS examples and real flows use v1beta1.
    match top.required("version")? {
        Value::String(v) if v == "v1" || v == "v1beta1" => {}
        other => {
            return Err(err(
                "version",
                format!("must be 'v1' or 'v1beta1', got {}", show(other)),
            ));
        }
    }
    if let Some(name) = top.string("name")?
        && name != options.flow_name
    {
        // docs/COMPATIBILITY.md#q29.
        return Err(err(
            "name",
            format!(
                "must equal the flow name '{}', got '{name}'",
                options.flow_name
            ),
        ));
    }
    let timeout_seconds = timeout_seconds(&ctx, &top)?;
    let input_mappings = mappings(&top, "inputMappings")?;
    let root = scope(&ctx, &top, "steps", 0)?;
    let output_mappings = mappings(&top, "outputMappings")?;
    Ok(FlowDefinition {
        language: Language::Fdl,
        timeout_seconds,
        input_mappings,
        output_mappings,
        root,
    })
}

/// A step list: `owner.key` must be a non-empty list of steps.
fn scope(ctx: &Ctx, owner: &Obj, key: &str, depth: usize) -> Result<Scope> {
    let path = owner.at(key);
    if depth > limits::MAX_NESTING {
        // docs/COMPATIBILITY.md#limits.
        return Err(err(
            path,
            format!("nesting is deeper than {} levels", limits::MAX_NESTING),
        ));
    }
    let list = owner.non_empty_list(key)?;
    let siblings = Siblings::collect(list, "name", false);
    let mut states = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let step = Obj::new(value, item(&path, i))?;
        // docs/COMPATIBILITY.md#legacy-fdl: normal completion runs the following sibling; the last one ends the list.
        let next = if i + 1 < list.len() {
            Next::State(i + 1)
        } else {
            Next::End
        };
        states.push(parse_step(ctx, &step, i, next, &siblings, depth)?);
    }
    Ok(Scope { states, start: 0 })
}

fn parse_step(
    ctx: &Ctx,
    step: &Obj,
    index: usize,
    next: Next,
    siblings: &Siblings,
    depth: usize,
) -> Result<State> {
    let name = step.name("name")?;
    if let Some(first) = siblings.first(name)
        && first != index
    {
        return Err(err(
            step.at("name"),
            format!("repeats the name '{name}' of sibling step {first}"),
        ));
    }
    let ty = step.required_string("type")?;
    if !STEP_TYPES.contains(&ty) {
        return Err(err(
            step.at("type"),
            format!(
                "'{ty}' is not a step type (one of {})",
                STEP_TYPES.join(", ")
            ),
        ));
    }
    let input_mappings = mappings(step, "inputMappings")?;
    let output_mappings = mappings(step, "outputMappings")?;
    let mut state = State {
        name: name.to_string(),
        kind: StateKind::Pass,
        next,
        data: DataFlow::Fdl {
            input_mappings,
            output_mappings,
        },
        retry: Vec::new(),
        catch: Vec::new(),
    };
    if ty == "succeed" || ty == "fail" {
        // They finish the list themselves; `end` is not one of their fields (docs/COMPATIBILITY.md#fdl-steps).
        state.next = Next::End;
    } else if step.boolean("end")? == Some(true) {
        state.next = Next::End;
    }
    // retry/catch/errorMappings on other step types are ignored (docs/COMPATIBILITY.md#q6).
    state.kind = match ty {
        "pass" => StateKind::Pass,
        "task" => {
            let (spec, retry, catch) = task(ctx, step, siblings)?;
            state.retry = retry;
            state.catch = catch;
            StateKind::Task(spec)
        }
        "choice" => StateKind::Choice(choice(ctx, step, siblings, depth)?),
        "wait" => StateKind::Wait(wait(ctx, step)?),
        "succeed" => StateKind::Succeed,
        "fail" => StateKind::Fail(FailSpec {
            error: step.string("error")?.map(str::to_string),
            cause: step.string("cause")?.map(str::to_string),
        }),
        "parallel" => StateKind::Parallel(parallel(ctx, step, depth)?),
        _ => StateKind::Map(foreach(ctx, step, depth)?),
    };
    Ok(state)
}

/// docs/COMPATIBILITY.md#fdl-steps.
fn choice(ctx: &Ctx, step: &Obj, siblings: &Siblings, depth: usize) -> Result<ChoiceSpec> {
    let path = step.at("choices");
    let list = step.non_empty_list("choices")?;
    let mut options = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let option = Obj::new(value, item(&path, i))?;
        let source = option.required_string("condition")?;
        let condition = expression(source, &option.at("condition"), FDL_DOLLAR_ROOTS)?;
        let target = choice_target(ctx, &option, siblings, depth)?;
        options.push(ChoiceOption { condition, target });
    }
    // Optional although the field table calls it required (docs/COMPATIBILITY.md#q20).
    let default = match step.object("default")? {
        Some(default) => Some(choice_target(ctx, &default, siblings, depth)?),
        None => None,
    };
    Ok(ChoiceSpec { options, default })
}

fn choice_target(
    ctx: &Ctx,
    owner: &Obj,
    siblings: &Siblings,
    depth: usize,
) -> Result<ChoiceTarget> {
    let steps = if owner.has("steps") {
        Some(scope(ctx, owner, "steps", depth + 1)?)
    } else {
        None
    };
    let goto = match owner.string("goto")? {
        Some(target) => Some(siblings.resolve(target, &owner.at("goto"))?),
        None => None,
    };
    Ok(ChoiceTarget { steps, goto })
}

/// docs/COMPATIBILITY.md#fdl-steps.
fn wait(ctx: &Ctx, step: &Obj) -> Result<WaitSpec> {
    match (step.get("duration"), step.get("timestamp")) {
        (Some(_), Some(_)) => Err(err(
            step.at("timestamp"),
            "must not be given together with 'duration'",
        )),
        (None, None) => Err(err(step.at("duration"), "is required (or 'timestamp')")),
        (Some(duration), None) => {
            let path = step.at("duration");
            let max = limits::FDL_MAX_WAIT_SECONDS;
            match duration {
                Value::String(s) if s.starts_with('$') => Ok(WaitSpec::Seconds(ValueSpec::Expr(
                    path_expression(s, &path, FDL_DOLLAR_ROOTS)?,
                ))),
                Value::Number(n) => match n.as_f64() {
                    Some(secs) if (0.0..=max as f64).contains(&secs) => {
                        Ok(WaitSpec::Seconds(ValueSpec::Const(duration.clone())))
                    }
                    _ => Err(err(
                        path,
                        format!("must be a number of seconds between 0 and {max}, got {n}"),
                    )),
                },
                other => Err(err(
                    path,
                    format!(
                        "must be a number of seconds or a '$' path, got {}",
                        show(other)
                    ),
                )),
            }
        }
        (None, Some(timestamp)) => {
            let path = step.at("timestamp");
            match timestamp {
                Value::String(s) if s.starts_with('$') => Ok(WaitSpec::Timestamp(ValueSpec::Expr(
                    path_expression(s, &path, FDL_DOLLAR_ROOTS)?,
                ))),
                Value::String(s) if DateTime::parse_from_rfc3339(s).is_ok() => {
                    check_wait_timestamp(ctx, s, &path)?;
                    Ok(WaitSpec::Timestamp(ValueSpec::Const(timestamp.clone())))
                }
                other => Err(err(
                    path,
                    format!(
                        "must be an RFC 3339 time or a '$' path, got {}",
                        show(other)
                    ),
                )),
            }
        }
    }
}

/// A constant wait timestamp of a new definition may be at most the longest wait ahead of
/// its creation: the wait could not start later than that.
fn check_wait_timestamp(ctx: &Ctx, text: &str, path: &str) -> Result<()> {
    let (Some(created_at), Some(until)) = (ctx.created_at, parse_rfc3339_ms(text)) else {
        return Ok(());
    };
    let max = limits::FDL_MAX_WAIT_SECONDS;
    if until.saturating_sub(created_at) > max as i64 * 1000 {
        return Err(err(
            path,
            format!("'{text}' is more than {max} seconds (2 days) ahead, the longest wait"),
        ));
    }
    Ok(())
}

/// `timeoutSeconds` of the flow or of a task: a positive integer; in a new definition at most
/// the one-year execution limit, beyond which it could never fire.
pub(super) fn timeout_seconds(ctx: &Ctx, obj: &Obj) -> Result<Option<u64>> {
    let max = ctx.created_at.map(|_| limits::MAX_EXECUTION_SECONDS);
    obj.integer("timeoutSeconds", 1, max)
}

/// docs/COMPATIBILITY.md#fdl-steps.
fn parallel(ctx: &Ctx, step: &Obj, depth: usize) -> Result<ParallelSpec> {
    let path = step.at("branches");
    let list = step
        .list("branches")?
        .ok_or_else(|| err(&path, "is required"))?;
    let max = limits::FDL_MAX_BRANCHES;
    if list.is_empty() || list.len() > max {
        return Err(err(
            path,
            format!("must have between 1 and {max} branches, got {}", list.len()),
        ));
    }
    let mut branches = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let branch = Obj::new(value, item(&path, i))?;
        branches.push(scope(ctx, &branch, "steps", depth + 1)?);
    }
    Ok(ParallelSpec { branches })
}

/// docs/COMPATIBILITY.md#fdl-steps.
fn foreach(ctx: &Ctx, step: &Obj, depth: usize) -> Result<MapSpec> {
    let mapping = step.required_object("iterationMapping")?;
    let collection = mapping.required_string("collection")?;
    let collection_path = mapping.at("collection");
    if !collection.starts_with('$') {
        return Err(err(
            collection_path,
            "must be a '$' path over the step input",
        ));
    }
    let items = path_expression(collection, &collection_path, FDL_DOLLAR_ROOTS)?;
    let item_key = mapping.name("item")?.to_string();
    let index_key = mapping.name_opt("index")?.map(str::to_string);
    let processor = scope(ctx, step, "steps", depth + 1)?;
    Ok(MapSpec {
        items,
        item_key: Some(item_key),
        index_key,
        processor,
        max_concurrency: limits::FDL_FOREACH_CONCURRENCY,
        distributed: None,
    })
}
