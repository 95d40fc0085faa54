//! The CloudFlow state machine (docs/COMPATIBILITY.md#state-machine): `Type: StateMachine`, `States:`.

use serde_json::{Map, Value};

use super::ParseOptions;
use super::common::{
    Obj, Result, SM_INPUT_ROOTS, SM_ITEM_ROOTS, SM_OUTPUT_ROOTS, Siblings, constructor, err,
    expression, item, object_template, show,
};
use super::sm_task::{catch_rules, retry_rules, task};
use crate::engine::ir::{
    ChoiceOption, ChoiceSpec, ChoiceTarget, DataFlow, DistributedSpec, FailSpec, FlowDefinition,
    Language, MapSpec, Next, ParallelSpec, Scope, State, StateKind, ValueSpec, WaitSpec, limits,
};

const STATE_TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

/// docs/COMPATIBILITY.md#distributed-map: fields of a distributed Map that this server does not support (items come from
/// the state's input; results stay in the execution).
const UNSUPPORTED_DISTRIBUTED_FIELDS: &[&str] = &["ItemReader", "ResultWriter"];

/// docs/COMPATIBILITY.md#distributed-map: fields that only exist in distributed mode.
const DISTRIBUTED_FIELDS: &[&str] = &[
    "ItemBatcher",
    "ItemConstructor",
    "MaxItems",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
];

/// Parse-wide settings.
struct Ctx<'a> {
    express: bool,
    flow_name: &'a str,
}

pub(super) fn parse(
    doc: &Map<String, Value>,
    options: &ParseOptions<'_>,
) -> Result<FlowDefinition> {
    let top = Obj {
        map: doc,
        path: String::new(),
    };
    let name = top.required_string("Name")?;
    if name != options.flow_name {
        // docs/COMPATIBILITY.md#q29.
        return Err(err(
            "Name",
            format!(
                "must equal the flow name '{}', got '{name}'",
                options.flow_name
            ),
        ));
    }
    match top.required("SpecVersion")? {
        Value::String(v) if v == "v1" => {}
        other => {
            return Err(err(
                "SpecVersion",
                format!("must be 'v1', got {}", show(other)),
            ));
        }
    }
    let ctx = Ctx {
        express: options.express,
        flow_name: options.flow_name,
    };
    let root = scope(&ctx, &top, 0)?;
    Ok(FlowDefinition {
        language: Language::StateMachine,
        timeout_seconds: None,
        input_mappings: None,
        output_mappings: None,
        root,
    })
}

/// A `{StartAt, States}` mapping: the document, a Parallel branch or a Map Processor.
fn scope(ctx: &Ctx, owner: &Obj, depth: usize) -> Result<Scope> {
    if depth > limits::MAX_NESTING {
        // docs/COMPATIBILITY.md#limits.
        return Err(err(
            owner.path.clone(),
            format!("nesting is deeper than {} levels", limits::MAX_NESTING),
        ));
    }
    let start_at = owner.required_string("StartAt")?;
    let list = owner.non_empty_list("States")?;
    let siblings = Siblings::collect(list, "Name", true);
    let path = owner.at("States");
    let mut states = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let state = Obj::new(value, item(&path, i))?;
        states.push(parse_state(ctx, &state, i, &siblings, depth)?);
    }
    // Resolved after the states, so that a state without a usable name is reported as such.
    let start = siblings.resolve(start_at, &owner.at("StartAt"))?;
    Ok(Scope { states, start })
}

fn parse_state(
    ctx: &Ctx,
    state: &Obj,
    index: usize,
    siblings: &Siblings,
    depth: usize,
) -> Result<State> {
    let name = state.name("Name")?;
    if let Some(first) = siblings.first(name)
        && first != index
    {
        return Err(err(
            state.at("Name"),
            format!("repeats the name '{name}' of state {first} in this list"),
        ));
    }
    let ty = state.required_string("Type")?;
    if !STATE_TYPES.contains(&ty) {
        return Err(err(
            state.at("Type"),
            format!(
                "'{ty}' is not a state type (one of {})",
                STATE_TYPES.join(", ")
            ),
        ));
    }
    let next = transition(state, ty, siblings)?;
    let input_constructor = constructor(state, "InputConstructor", SM_INPUT_ROOTS)?;
    let kind = match ty {
        "Pass" => StateKind::Pass,
        "Task" => StateKind::Task(task(state)?),
        "Choice" => StateKind::Choice(choice(state, siblings)?),
        "Wait" => StateKind::Wait(wait(ctx, state)?),
        "Succeed" => StateKind::Succeed,
        "Fail" => StateKind::Fail(FailSpec {
            error: state.string("Code")?.map(str::to_string),
            cause: state.string("Detail")?.map(str::to_string),
        }),
        "Parallel" => StateKind::Parallel(parallel(ctx, state, depth)?),
        _ => StateKind::Map(map(ctx, state, depth)?),
    };
    let output_constructor = if ty == "Choice" {
        // docs/COMPATIBILITY.md#state-machine-states: a Choice's output is its input.
        if state.has("OutputConstructor") {
            return Err(err(
                state.at("OutputConstructor"),
                "is not allowed on a Choice state",
            ));
        }
        None
    } else {
        constructor(state, "OutputConstructor", SM_OUTPUT_ROOTS)?
    };
    let global_constructor = constructor(state, "GlobalConstructor", SM_OUTPUT_ROOTS)?;
    // docs/COMPATIBILITY.md#retry-and-catch: Retry and Catch belong to Task, Parallel and Map only.
    let (retry, catch) = if matches!(ty, "Task" | "Parallel" | "Map") {
        (retry_rules(state)?, catch_rules(state, siblings)?)
    } else {
        if let Some(key) = ["Retry", "Catch"].into_iter().find(|k| state.has(k)) {
            return Err(err(
                state.at(key),
                format!("is not allowed on a {ty} state"),
            ));
        }
        (Vec::new(), Vec::new())
    };
    Ok(State {
        name: name.to_string(),
        kind,
        next,
        data: DataFlow::StateMachine {
            input_constructor,
            output_constructor,
            global_constructor,
        },
        retry,
        catch,
    })
}

/// docs/COMPATIBILITY.md#state-machine-states: exactly one of `Next` / `End: true` where a transition is needed.
fn transition(state: &Obj, ty: &str, siblings: &Siblings) -> Result<Next> {
    let next = state.string("Next")?;
    // `End: false` counts as absent.
    let end = state.boolean("End")? == Some(true);
    match ty {
        "Choice" | "Succeed" | "Fail" => {
            if next.is_some() {
                return Err(err(
                    state.at("Next"),
                    format!("is not allowed on a {ty} state"),
                ));
            }
            // Succeed and Fail may carry `End: true` (documentation examples do).
            if ty == "Choice" && end {
                return Err(err(state.at("End"), "is not allowed on a Choice state"));
            }
            Ok(Next::End)
        }
        _ => match next {
            Some(_) if end => Err(err(
                state.at("End"),
                "must not be true together with 'Next'",
            )),
            Some(target) => siblings.resolve(target, &state.at("Next")).map(Next::State),
            None if end => Ok(Next::End),
            None => Err(err(state.at("Next"), "is required (or 'End: true')")),
        },
    }
}

/// docs/COMPATIBILITY.md#state-machine-states.
fn choice(state: &Obj, siblings: &Siblings) -> Result<ChoiceSpec> {
    let path = state.at("Branches");
    let list = state.non_empty_list("Branches")?;
    let mut options = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let branch = Obj::new(value, item(&path, i))?;
        let source = branch.required_string("Condition")?;
        let condition = expression(source, &branch.at("Condition"), SM_INPUT_ROOTS)?;
        let next = branch.required_string("Next")?;
        let goto = siblings.resolve(next, &branch.at("Next"))?;
        options.push(ChoiceOption {
            condition,
            target: ChoiceTarget {
                steps: None,
                goto: Some(goto),
            },
        });
    }
    let default = state.required_string("Default")?;
    let goto = siblings.resolve(default, &state.at("Default"))?;
    Ok(ChoiceSpec {
        options,
        default: Some(ChoiceTarget {
            steps: None,
            goto: Some(goto),
        }),
    })
}

/// docs/COMPATIBILITY.md#state-machine-states: 1–300 s, or 1–20 s for express flows.
fn wait(ctx: &Ctx, state: &Obj) -> Result<WaitSpec> {
    let max = if ctx.express {
        limits::SM_MAX_WAIT_SECONDS_EXPRESS
    } else {
        limits::SM_MAX_WAIT_SECONDS
    };
    match (state.has("Seconds"), state.get("Seconds.$")) {
        (true, Some(_)) => Err(err(
            state.at("Seconds.$"),
            "must not be given together with 'Seconds'",
        )),
        (false, None) => Err(err(state.at("Seconds"), "is required (or 'Seconds.$')")),
        (true, None) => {
            let seconds = state.required_integer("Seconds", 1, Some(max))?;
            Ok(WaitSpec::Seconds(ValueSpec::Const(seconds.into())))
        }
        (false, Some(value)) => {
            let path = state.at("Seconds.$");
            let Value::String(src) = value else {
                return Err(err(path, "must be a string expression"));
            };
            Ok(WaitSpec::Seconds(ValueSpec::Expr(expression(
                src,
                &path,
                SM_INPUT_ROOTS,
            )?)))
        }
    }
}

/// docs/COMPATIBILITY.md#state-machine-states.
fn parallel(ctx: &Ctx, state: &Obj, depth: usize) -> Result<ParallelSpec> {
    let path = state.at("Branches");
    let list = state
        .list("Branches")?
        .ok_or_else(|| err(&path, "is required"))?;
    let max = limits::SM_MAX_BRANCHES;
    if list.is_empty() || list.len() > max {
        return Err(err(
            path,
            format!("must have between 1 and {max} branches, got {}", list.len()),
        ));
    }
    let mut branches = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let branch = Obj::new(value, item(&path, i))?;
        branches.push(scope(ctx, &branch, depth + 1)?);
    }
    Ok(ParallelSpec { branches })
}

/// docs/COMPATIBILITY.md#state-machine-states inline and docs/COMPATIBILITY.md#distributed-map distributed.
fn map(ctx: &Ctx, state: &Obj, depth: usize) -> Result<MapSpec> {
    let mut distributed = false;
    if let Some(config) = state.object("ProcessorConfig")? {
        // Newer pages name the mode; older ones switch it on with `ExecutionMode: Express`.
        for key in ["Mode", "ExecutionMode"] {
            match config.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(mode)) if mode.eq_ignore_ascii_case("inline") => {}
                Some(Value::String(mode))
                    if mode.eq_ignore_ascii_case("distributed")
                        || mode.eq_ignore_ascii_case("express")
                        || mode.eq_ignore_ascii_case("standard") =>
                {
                    distributed |= key == "Mode" || !mode.eq_ignore_ascii_case("standard");
                }
                Some(other) => {
                    return Err(err(
                        config.at(key),
                        format!("must be Inline or Distributed, got {}", show(other)),
                    ));
                }
            }
        }
    }
    if let Some(key) = UNSUPPORTED_DISTRIBUTED_FIELDS.iter().find(|k| state.has(k)) {
        return Err(err(
            state.at(key),
            "is not supported: a distributed Map reads its items from ItemsPath and keeps its results",
        ));
    }
    if !distributed && let Some(key) = DISTRIBUTED_FIELDS.iter().find(|k| state.has(k)) {
        return Err(err(
            state.at(key),
            "is only allowed in distributed mode (ProcessorConfig.Mode: Distributed)",
        ));
    }
    let items_path = state.required_string("ItemsPath")?;
    let items = expression(items_path, &state.at("ItemsPath"), SM_INPUT_ROOTS)?;
    let processor_obj = state.required_object("Processor")?;
    let processor = scope(ctx, &processor_obj, depth + 1)?;
    // The documentation spells it `MaxConcuccency`; both are accepted (docs/COMPATIBILITY.md#q13).
    let mut concurrency = None;
    for key in ["MaxConcurrency", "MaxConcuccency"] {
        let value = state.integer(key, 0, None)?;
        concurrency = concurrency.or(value);
    }
    let limit = if distributed {
        limits::DISTRIBUTED_MAP_CONCURRENCY
    } else {
        limits::SM_MAP_CONCURRENCY
    };
    let max_concurrency = match concurrency {
        None | Some(0) => limits::SM_MAP_CONCURRENCY,
        Some(n) => usize::try_from(n).unwrap_or(limit).min(limit),
    };
    let distributed = if distributed {
        Some(Box::new(distributed_spec(ctx, state, &processor_obj)?))
    } else {
        None
    };
    Ok(MapSpec {
        items,
        item_key: None,
        index_key: None,
        processor,
        max_concurrency,
        distributed,
    })
}

/// The distributed fields (docs/COMPATIBILITY.md#distributed-map) and the document each child runs.
fn distributed_spec(ctx: &Ctx, state: &Obj, processor: &Obj) -> Result<DistributedSpec> {
    let item_constructor = match state.get("ItemConstructor") {
        None | Some(Value::Null) => None,
        Some(_) => {
            let obj = state.required_object("ItemConstructor")?;
            Some(object_template(&obj, SM_ITEM_ROOTS)?)
        }
    };
    let batch_size = match state.object("ItemBatcher")? {
        None => None,
        Some(batcher) => {
            if let Some(key) = batcher
                .map
                .keys()
                .find(|key| key.as_str() != "MaxItemsPerBatch")
            {
                return Err(err(
                    batcher.at(key),
                    "is not supported; use MaxItemsPerBatch",
                ));
            }
            let size = batcher.required_integer("MaxItemsPerBatch", 1, None)?;
            Some(usize::try_from(size).unwrap_or(usize::MAX))
        }
    };
    let max_items = state
        .integer("MaxItems", 1, Some(limits::DISTRIBUTED_MAP_ITEMS as u64))?
        .map(|n| n as usize);
    let tolerated_failure_count = state.integer("ToleratedFailureCount", 0, None)?;
    let tolerated_failure_percentage = match state.number("ToleratedFailurePercentage", 0.0)? {
        Some(p) if p > 100.0 => {
            return Err(err(
                state.at("ToleratedFailurePercentage"),
                format!("must be between 0 and 100, got {p}"),
            ));
        }
        other => other,
    };
    // Each child runs the Processor as a state machine of the same flow.
    let mut document = Map::new();
    document.insert("Type".into(), Value::from("StateMachine"));
    document.insert("Name".into(), Value::from(ctx.flow_name));
    document.insert("SpecVersion".into(), Value::from("v1"));
    for key in ["StartAt", "States"] {
        if let Some(value) = processor.get(key) {
            document.insert(key.into(), value.clone());
        }
    }
    Ok(DistributedSpec {
        child_definition: Value::Object(document).to_string(),
        item_constructor,
        batch_size,
        max_items,
        tolerated_failure_count,
        tolerated_failure_percentage,
    })
}
