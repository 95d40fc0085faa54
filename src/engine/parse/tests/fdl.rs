//! The FDL worked examples (docs/COMPATIBILITY.md#legacy-fdl) parse into the expected IR.

use serde_json::json;

use super::{constant, expr_src, names, ok};
use crate::engine::ir::{
    CatchOutput, ChoiceSpec, DataFlow, FlowDefinition, FunctionRef, Language, MapSpec, Mappings,
    Next, ParallelSpec, RetryPolicy, Source, State, StateKind, TaskPattern, TaskSpec, TaskTarget,
    TimeoutSpec, ValueSpec, WaitSpec,
};

fn fixture(text: &str) -> FlowDefinition {
    let def = ok(text, "f");
    assert_eq!(def.language, Language::Fdl);
    assert_eq!(def.root.start, 0);
    def
}

fn input_mappings(state: &State) -> &Mappings {
    match &state.data {
        DataFlow::Fdl {
            input_mappings: Some(m),
            ..
        } => m,
        other => panic!("no inputMappings: {other:?}"),
    }
}

fn output_mappings(state: &State) -> &Mappings {
    match &state.data {
        DataFlow::Fdl {
            output_mappings: Some(m),
            ..
        } => m,
        other => panic!("no outputMappings: {other:?}"),
    }
}

fn no_mappings(state: &State) {
    assert!(
        matches!(
            state.data,
            DataFlow::Fdl {
                input_mappings: None,
                output_mappings: None
            }
        ),
        "{:?}",
        state.data
    );
}

fn source<'a>(mappings: &'a Mappings, target: &str) -> &'a Source {
    &mappings
        .0
        .iter()
        .find(|m| m.target == target)
        .unwrap_or_else(|| panic!("no mapping for {target}"))
        .source
}

fn targets(mappings: &Mappings) -> Vec<&str> {
    mappings.0.iter().map(|m| m.target.as_str()).collect()
}

fn task(state: &State) -> &TaskSpec {
    match &state.kind {
        StateKind::Task(t) => t,
        other => panic!("not a task: {other:?}"),
    }
}

fn choice(state: &State) -> &ChoiceSpec {
    match &state.kind {
        StateKind::Choice(c) => c,
        other => panic!("not a choice: {other:?}"),
    }
}

fn foreach(state: &State) -> &MapSpec {
    match &state.kind {
        StateKind::Map(m) => m,
        other => panic!("not a foreach: {other:?}"),
    }
}

fn parallel(state: &State) -> &ParallelSpec {
    match &state.kind {
        StateKind::Parallel(p) => p,
        other => panic!("not a parallel: {other:?}"),
    }
}

fn nexts(states: &[State]) -> Vec<Next> {
    states.iter().map(|s| s.next).collect()
}

#[test]
fn fdl_01_pass_only() {
    let def = fixture(include_str!("../fixtures/fdl-01.yaml"));
    let [step] = &def.root.states[..] else {
        panic!("one step expected")
    };
    assert_eq!(step.name, "mypass");
    assert!(matches!(step.kind, StateKind::Pass));
    assert_eq!(step.next, Next::End);
    no_mappings(step);
    assert!(def.timeout_seconds.is_none());
    assert!(def.input_mappings.is_none() && def.output_mappings.is_none());
}

#[test]
fn fdl_02_constants_and_paths() {
    let def = fixture(include_str!("../fixtures/fdl-02.yaml"));
    let out = output_mappings(&def.root.states[0]);
    assert_eq!(targets(out), ["names", "greeting", "who", "limits"]);
    assert_eq!(constant(source(out, "names")), &json!(["A", "B", "C"]));
    assert_eq!(constant(source(out, "greeting")), &json!("hello"));
    assert_eq!(expr_src(source(out, "who")), "$input.user");
    // Map constants are not searched for paths (docs/COMPATIBILITY.md#fdl-data-flow).
    assert_eq!(
        constant(source(out, "limits")),
        &json!({"max": 5, "tags": ["$input.user"]})
    );
}

#[test]
fn fdl_03_flow_mappings() {
    let def = fixture(include_str!("../fixtures/fdl-03.yaml"));
    let input = def.input_mappings.as_ref().expect("flow inputMappings");
    assert_eq!(expr_src(source(input, "x")), "$input.a");
    // Integers stay integers (docs/COMPATIBILITY.md#q27).
    let fixed = constant(source(input, "fixed"));
    assert!(fixed.is_u64(), "{fixed}");
    assert_eq!(fixed, &json!(10));
    let output = def.output_mappings.as_ref().expect("flow outputMappings");
    assert_eq!(expr_src(source(output, "final")), "$local");
    assert_eq!(expr_src(source(output, "original")), "$input");
    assert_eq!(nexts(&def.root.states), [Next::State(1), Next::End]);
    let second = &def.root.states[1];
    assert_eq!(expr_src(source(output_mappings(second), "seen")), "$input");
}

#[test]
fn fdl_04_choice_steps_goto_default() {
    let def = fixture(include_str!("../fixtures/fdl-04.yaml"));
    assert_eq!(names(&def.root.states), ["route", "afterChoice", "final"]);
    assert_eq!(
        nexts(&def.root.states),
        [Next::State(1), Next::State(2), Next::End]
    );
    let spec = choice(&def.root.states[0]);
    assert_eq!(spec.options.len(), 2);
    assert_eq!(spec.options[0].condition.source(), "$.status == \"ready\"");
    let ready = spec.options[0].target.steps.as_ref().expect("option steps");
    assert_eq!(names(&ready.states), ["onReady"]);
    assert_eq!(ready.start, 0);
    assert_eq!(ready.states[0].next, Next::End);
    assert_eq!(spec.options[0].target.goto, None);
    assert!(spec.options[1].target.steps.is_none());
    assert_eq!(spec.options[1].target.goto, Some(2));
    let default = spec.default.as_ref().expect("default");
    assert_eq!(
        names(&default.steps.as_ref().expect("steps").states),
        ["onOther"]
    );
    assert_eq!(default.goto, Some(2));
}

#[test]
fn fdl_05_condition_table() {
    let def = fixture(include_str!("../fixtures/fdl-05.yaml"));
    let spec = choice(&def.root.states[0]);
    assert_eq!(spec.options.len(), 19);
    assert_eq!(spec.options[6].condition.source(), "$.b.b2 == `ready`");
    for (i, option) in spec.options.iter().enumerate() {
        assert_eq!(option.target.goto, Some(i + 1));
    }
    assert!(spec.default.is_none());
}

#[test]
fn fdl_06_parallel() {
    let def = fixture(include_str!("../fixtures/fdl-06.yaml"));
    let step = &def.root.states[0];
    let spec = parallel(step);
    assert_eq!(spec.branches.len(), 2);
    assert_eq!(names(&spec.branches[0].states), ["pass1"]);
    assert_eq!(names(&spec.branches[1].states), ["pass2", "pass3"]);
    assert_eq!(nexts(&spec.branches[1].states), [Next::State(1), Next::End]);
    let out = output_mappings(step);
    assert_eq!(expr_src(source(out, "result")), "$local[*].result");
    assert_eq!(constant(source(out, "branches")), &json!(2));
}

#[test]
fn fdl_07_foreach() {
    let def = fixture(include_str!("../fixtures/fdl-07.yaml"));
    let spec = foreach(&def.root.states[0]);
    assert_eq!(spec.items.source(), "$.names");
    assert_eq!(spec.item_key.as_deref(), Some("name"));
    assert_eq!(spec.index_key.as_deref(), Some("i"));
    assert_eq!(spec.max_concurrency, 100);
    assert_eq!(names(&spec.processor.states), ["tag"]);
    let tag = output_mappings(&spec.processor.states[0]);
    assert_eq!(expr_src(source(tag, "position")), "$input.i");
}

#[test]
fn fdl_08_wait_duration_and_timestamp() {
    let def = fixture(include_str!("../fixtures/fdl-08.yaml"));
    match &def.root.states[0].kind {
        StateKind::Wait(WaitSpec::Seconds(ValueSpec::Expr(e))) => assert_eq!(e.source(), "$.delay"),
        other => panic!("{other:?}"),
    }
    let def = fixture(include_str!("../fixtures/fdl-08b.yaml"));
    match &def.root.states[0].kind {
        StateKind::Wait(WaitSpec::Timestamp(ValueSpec::Const(v))) => {
            assert_eq!(v, &json!("2019-05-02T15:04:05Z"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fdl_09_succeed() {
    let def = fixture(include_str!("../fixtures/fdl-09.yaml"));
    assert_eq!(
        names(&def.root.states),
        ["mychoice", "final", "handle_failure"]
    );
    assert!(matches!(def.root.states[1].kind, StateKind::Succeed));
    assert_eq!(def.root.states[1].next, Next::End);
    let spec = choice(&def.root.states[0]);
    assert_eq!(spec.options[0].target.goto, None);
    assert_eq!(spec.default.as_ref().and_then(|d| d.goto), Some(2));
}

#[test]
fn fdl_10_fail() {
    let def = fixture(include_str!("../fixtures/fdl-10.yaml"));
    let spec = choice(&def.root.states[0]);
    assert_eq!(spec.options[0].target.goto, Some(2));
    assert_eq!(spec.default.as_ref().and_then(|d| d.goto), Some(1));
    match &def.root.states[1].kind {
        StateKind::Fail(fail) => {
            assert_eq!(fail.error.as_deref(), Some("StatusIsNotReady"));
            assert_eq!(fail.cause.as_deref(), Some("status is not ready"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fdl_11_end_true() {
    let def = fixture(include_str!("../fixtures/fdl-11.yaml"));
    assert_eq!(nexts(&def.root.states), [Next::End, Next::End]);
}

#[test]
fn fdl_12_task_mappings() {
    let def = fixture(include_str!("../fixtures/fdl-12.yaml"));
    let step = &def.root.states[0];
    let spec = task(step);
    assert_eq!(
        spec.resource,
        "acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/echo"
    );
    match &spec.target {
        TaskTarget::FdlFunction(f) => assert_eq!(
            f,
            &FunctionRef::Service {
                service: "fixtures".into(),
                qualifier: None,
                function: "echo".into()
            }
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(spec.pattern, TaskPattern::RequestResponse);
    assert!(spec.timeout.is_none());
    let input = input_mappings(step);
    assert_eq!(expr_src(source(input, "who")), "$input.name");
    assert_eq!(constant(source(input, "lang")), &json!("en"));
    assert!(step.retry.is_empty() && step.catch.is_empty());
}

#[test]
fn fdl_13_retry_and_catch() {
    let def = fixture(include_str!("../fixtures/fdl-13.yaml"));
    let step = &def.root.states[0];
    assert_eq!(
        step.retry,
        [
            RetryPolicy {
                errors: vec!["FC.ResourceThrottled".into()],
                interval_seconds: 1.0,
                max_interval_seconds: 86400.0,
                max_attempts: 5,
                backoff_rate: 2.0,
            },
            RetryPolicy {
                errors: vec!["BookFlightError".into()],
                interval_seconds: 1.0,
                max_interval_seconds: 86400.0,
                max_attempts: 2,
                backoff_rate: 2.0,
            },
        ]
    );
    let [catch] = &step.catch[..] else {
        panic!("one catch policy expected")
    };
    assert_eq!(catch.errors, ["BookFlightError"]);
    assert_eq!(catch.next, 2);
    match &catch.output {
        CatchOutput::Fdl(Some(m)) => {
            assert_eq!(targets(m), ["errCode", "errMsg"]);
            assert_eq!(expr_src(source(m, "errCode")), "$local.error");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fdl_13b_catch_without_error_mappings() {
    let text = include_str!("../fixtures/fdl-13.yaml")
        .replace("errors: [BookFlightError]\n        goto", "errors: [FnF.ALL]\n        goto")
        .replace("    errorMappings:\n      - target: errCode\n        source: $local.error\n      - target: errMsg\n        source: $local.cause\n", "");
    let def = fixture(&text);
    let catch = &def.root.states[0].catch[0];
    assert_eq!(catch.errors, ["FnF.ALL"]);
    assert!(matches!(catch.output, CatchOutput::Fdl(None)));
}

#[test]
fn fdl_14_wait_for_callback() {
    let def = fixture(include_str!("../fixtures/fdl-14.yaml"));
    let step = &def.root.states[0];
    assert_eq!(task(step).pattern, TaskPattern::WaitForCallback);
    assert_eq!(
        expr_src(source(input_mappings(step), "taskToken")),
        "$context.task.token"
    );
}

#[test]
fn fdl_15_task_timeout() {
    let def = fixture(include_str!("../fixtures/fdl-15.yaml"));
    let step = &def.root.states[0];
    assert!(matches!(task(step).timeout, Some(TimeoutSpec::Seconds(1))));
    assert_eq!(step.catch[0].errors, ["FnF.TaskTimeout"]);
    assert_eq!(step.catch[0].next, 1);
    assert_eq!(constant(source(input_mappings(step), "seconds")), &json!(5));
}

#[test]
fn fdl_16_backward_goto() {
    let def = fixture(include_str!("../fixtures/fdl-16.yaml"));
    let spec = choice(&def.root.states[2]);
    assert_eq!(spec.options[0].target.goto, Some(1));
    assert_eq!(spec.default.as_ref().and_then(|d| d.goto), Some(3));
    assert_eq!(
        expr_src(source(input_mappings(&def.root.states[1]), "count")),
        "$local.count"
    );
}

#[test]
fn fdl_17_context() {
    let def = fixture(include_str!("../fixtures/fdl-17.yaml"));
    let out = output_mappings(&def.root.states[0]);
    assert_eq!(expr_src(source(out, "exec")), "$context.execution.name");
    assert_eq!(expr_src(source(out, "flow")), "$context.flow.name");
}

#[test]
fn fdl_18_nested_projection() {
    let def = fixture(include_str!("../fixtures/fdl-18.yaml"));
    let step = &def.root.states[0];
    let spec = foreach(step);
    assert_eq!(spec.items.source(), "$.groups");
    assert_eq!(spec.item_key.as_deref(), Some("group"));
    assert_eq!(spec.index_key, None);
    assert_eq!(
        expr_src(source(output_mappings(step), "parts")),
        "$local[*].parts[*]"
    );
}

#[test]
fn fdl_19_sync_subflow() {
    fixture(include_str!("../fixtures/fdl-19-child.yaml"));
    let def = fixture(include_str!("../fixtures/fdl-19.yaml"));
    let spec = task(&def.root.states[0]);
    assert_eq!(spec.pattern, TaskPattern::Sync);
    assert_eq!(spec.resource, "acs:fnf:::flow/child");
    match &spec.target {
        TaskTarget::FdlFlow { flow_name, params } => {
            assert_eq!(flow_name.as_deref(), Some("child"));
            assert_eq!(params.len(), 1);
            assert_eq!(params[0].0, "Input");
            assert_eq!(expr_src(&params[0].1), "$");
        }
        other => panic!("{other:?}"),
    }
}
