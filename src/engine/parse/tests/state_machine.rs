//! The state-machine worked examples (docs/COMPATIBILITY.md#state-machine) parse into the expected IR.

use serde_json::json;

use super::{names, ok, texpr, tfield, tkeys, tliteral};
use crate::engine::ir::{
    CatchOutput, ChoiceSpec, DataFlow, FlowDefinition, Language, MapSpec, Next, ParallelSpec,
    RetryPolicy, State, StateKind, TaskPattern, TaskSpec, TaskTarget, Template, TimeoutSpec,
    ValueSpec, WaitSpec,
};

fn fixture(text: &str, name: &str) -> FlowDefinition {
    let def = ok(text, name);
    assert_eq!(def.language, Language::StateMachine);
    assert!(def.timeout_seconds.is_none());
    assert!(def.input_mappings.is_none() && def.output_mappings.is_none());
    def
}

fn ctors(state: &State) -> (Option<&Template>, Option<&Template>, Option<&Template>) {
    match &state.data {
        DataFlow::StateMachine {
            input_constructor,
            output_constructor,
            global_constructor,
        } => (
            input_constructor.as_ref(),
            output_constructor.as_ref(),
            global_constructor.as_ref(),
        ),
        other => panic!("{other:?}"),
    }
}

fn input_ctor(state: &State) -> &Template {
    ctors(state).0.expect("InputConstructor")
}

fn output_ctor(state: &State) -> &Template {
    ctors(state).1.expect("OutputConstructor")
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

fn map(state: &State) -> &MapSpec {
    match &state.kind {
        StateKind::Map(m) => m,
        other => panic!("not a map: {other:?}"),
    }
}

fn parallel(state: &State) -> &ParallelSpec {
    match &state.kind {
        StateKind::Parallel(p) => p,
        other => panic!("not a parallel: {other:?}"),
    }
}

fn params(target: &TaskTarget) -> &Template {
    match target {
        TaskTarget::FcInvoke(t) | TaskTarget::StartExecution(t) | TaskTarget::Http(t) => t,
        other => panic!("{other:?}"),
    }
}

#[test]
fn cf_01_pass() {
    let def = fixture(include_str!("../fixtures/cf-01.yaml"), "cf-pass");
    assert_eq!(def.root.start, 0);
    let state = &def.root.states[0];
    assert!(matches!(state.kind, StateKind::Pass));
    assert_eq!(state.next, Next::End);
    assert!(matches!(ctors(state), (None, None, None)));
}

#[test]
fn cf_02_input_constructor() {
    let def = fixture(include_str!("../fixtures/cf-02.yaml"), "cf-input-ctor");
    let ctor = input_ctor(&def.root.states[0]);
    assert_eq!(tkeys(ctor), ["FieldA"]);
    let field = tliteral(tfield(ctor, "FieldA"));
    assert!(field.is_u64());
    assert_eq!(field, &json!(123));
}

#[test]
fn cf_03_constructors() {
    let def = fixture(include_str!("../fixtures/cf-03.yaml"), "cf-constructors");
    let state = &def.root.states[0];
    let input = input_ctor(state);
    assert_eq!(
        tkeys(input),
        [
            "user",
            "literal",
            "count",
            "greeting",
            "nested",
            "fromExecution"
        ]
    );
    assert_eq!(texpr(tfield(input, "user")), "$Input.profile.name");
    assert_eq!(
        tliteral(tfield(input, "literal")),
        &json!("$Input.profile.name")
    );
    assert_eq!(texpr(tfield(input, "count")), "length($Input.items)");
    assert_eq!(
        texpr(tfield(input, "greeting")),
        "format(\"hello {}\", $Input.profile.name)"
    );
    assert_eq!(
        texpr(tfield(tfield(input, "nested"), "first")),
        "$Input.items[0]"
    );
    let output = output_ctor(state);
    assert_eq!(tkeys(output), ["echoed", "all"]);
    assert_eq!(texpr(tfield(output, "all")), "$Input");
}

#[test]
fn cf_04_choice() {
    let def = fixture(include_str!("../fixtures/cf-04.yaml"), "cf-choice");
    assert_eq!(
        names(&def.root.states),
        ["Route", "Ready", "GiveUp", "Other"]
    );
    let route = &def.root.states[0];
    assert_eq!(route.next, Next::End);
    let spec = choice(route);
    let gotos: Vec<_> = spec.options.iter().map(|o| o.target.goto).collect();
    assert_eq!(gotos, [Some(1), Some(2)]);
    assert!(spec.options.iter().all(|o| o.target.steps.is_none()));
    assert_eq!(
        spec.options[1].condition.source(),
        "$Input.retries > 3 && $Input.status != \"ready\""
    );
    let default = spec.default.as_ref().expect("Default");
    assert_eq!((default.goto, default.steps.is_none()), (Some(3), true));
    assert_eq!(
        tliteral(tfield(output_ctor(&def.root.states[1]), "path")),
        &json!("ready")
    );
}

#[test]
fn cf_05_parallel() {
    let def = fixture(include_str!("../fixtures/cf-05.yaml"), "cf-parallel");
    let state = &def.root.states[0];
    assert_eq!(state.next, Next::State(1));
    let spec = parallel(state);
    assert_eq!(spec.branches.len(), 2);
    assert_eq!(names(&spec.branches[1].states), ["Pass2"]);
    assert_eq!(spec.branches[1].start, 0);
    assert_eq!(
        texpr(tfield(input_ctor(&def.root.states[1]), "sum")),
        "intAdd($Input.Branch0.FieldA, $Input.Branch1.FieldA)"
    );
}

#[test]
fn cf_06_map() {
    let def = fixture(include_str!("../fixtures/cf-06.yaml"), "cf-map");
    let spec = map(&def.root.states[0]);
    assert_eq!(spec.items.source(), "$Input.orders");
    assert_eq!(spec.max_concurrency, 2);
    assert_eq!(
        (spec.item_key.as_ref(), spec.index_key.as_ref()),
        (None, None)
    );
    let tag = &spec.processor.states[0];
    assert_eq!(texpr(tfield(output_ctor(tag), "id")), "$Input.id");
    assert_eq!(tliteral(tfield(output_ctor(tag), "tagged")), &json!(true));

    let def = fixture(include_str!("../fixtures/cf-06b.yaml"), "cf-map");
    let out = output_ctor(&def.root.states[0]);
    assert_eq!(texpr(tfield(out, "ids")), "$Output.Items[*].id");
}

#[test]
fn cf_07_dynamic_wait() {
    let def = fixture(include_str!("../fixtures/cf-07.yaml"), "cf-wait");
    match &def.root.states[0].kind {
        StateKind::Wait(WaitSpec::Seconds(ValueSpec::Expr(e))) => {
            assert_eq!(e.source(), "$Input.delay")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cf_08_succeed_in_branch() {
    let def = fixture(include_str!("../fixtures/cf-08.yaml"), "cf-succeed");
    let spec = parallel(&def.root.states[0]);
    let succeed = &spec.branches[0].states[0];
    assert!(matches!(succeed.kind, StateKind::Succeed));
    assert_eq!(succeed.next, Next::End);
    assert_eq!(tkeys(output_ctor(succeed)), ["FieldA"]);
}

#[test]
fn cf_09_fail() {
    let def = fixture(include_str!("../fixtures/cf-09.yaml"), "cf-fail");
    let spec = choice(&def.root.states[0]);
    assert_eq!(spec.options[0].target.goto, Some(2));
    assert_eq!(spec.default.as_ref().and_then(|d| d.goto), Some(1));
    let fail = &def.root.states[1];
    assert_eq!(fail.next, Next::End);
    match &fail.kind {
        StateKind::Fail(f) => {
            assert_eq!(f.error.as_deref(), Some("customBizCode"));
            assert_eq!(f.cause.as_deref(), Some("my custom error"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cf_10_fc_task() {
    let def = fixture(include_str!("../fixtures/cf-10.yaml"), "cf-fc");
    let state = &def.root.states[0];
    let spec = task(state);
    assert_eq!(spec.resource, "FC:InvokeFunction");
    assert_eq!(spec.pattern, TaskPattern::RequestResponse);
    assert!(matches!(spec.target, TaskTarget::FcInvoke(_)));
    let p = params(&spec.target);
    assert_eq!(tkeys(p), ["resourceArn", "invocationType", "body"]);
    assert_eq!(
        tliteral(tfield(p, "resourceArn")),
        &json!("acs:fc:cn-hangzhou:123456789012:functions/echo/LATEST")
    );
    assert_eq!(texpr(tfield(tfield(p, "body"), "who")), "$Input.name");
    assert_eq!(tliteral(tfield(tfield(p, "body"), "lang")), &json!("en"));
    assert_eq!(
        texpr(tfield(output_ctor(state), "greeted")),
        "$Output.Body.who"
    );
}

#[test]
fn cf_11_retry_and_catch() {
    let def = fixture(include_str!("../fixtures/cf-11.yaml"), "cf-retry-catch");
    let state = &def.root.states[0];
    assert_eq!(
        state.retry,
        [RetryPolicy {
            errors: vec!["BookFlightError".into()],
            interval_seconds: 1.0,
            max_interval_seconds: 86400.0,
            max_attempts: 2,
            backoff_rate: 2.0,
        }]
    );
    let catch = &state.catch[0];
    assert_eq!(
        (catch.errors.as_slice(), catch.next),
        (&["FnF.ALL".to_string()][..], 1)
    );
    match &catch.output {
        CatchOutput::StateMachine(Some(t)) => {
            assert_eq!(
                texpr(tfield(t, "failedWith")),
                "$Context.Current.Error.Code"
            )
        }
        other => panic!("{other:?}"),
    }
    // CF-11b: without BackoffRate the delay is constant (docs/COMPATIBILITY.md#q15).
    let text = include_str!("../fixtures/cf-11.yaml").replace("        BackoffRate: 2\n", "");
    let def = fixture(&text, "cf-retry-catch");
    assert_eq!(def.root.states[0].retry[0].backoff_rate, 1.0);
}

#[test]
fn cf_12_custom_callback() {
    let def = fixture(include_str!("../fixtures/cf-12.yaml"), "cf-callback");
    let spec = task(&def.root.states[0]);
    assert_eq!(spec.pattern, TaskPattern::WaitForCallback);
    let body = tfield(params(&spec.target), "body");
    assert_eq!(texpr(tfield(body, "token")), "$Context.Current.TaskToken");
}

#[test]
fn cf_13_global_constructor() {
    let def = fixture(include_str!("../fixtures/cf-13.yaml"), "cf-global");
    let save = &def.root.states[0];
    assert_eq!(save.next, Next::State(1));
    let global = ctors(save).2.expect("GlobalConstructor");
    assert_eq!(texpr(tfield(global, "orderId")), "$Input.orderId");
    assert_eq!(
        texpr(tfield(input_ctor(&def.root.states[1]), "restored")),
        "$Global.orderId"
    );
}

#[test]
fn cf_14_map_catch() {
    let def = fixture(include_str!("../fixtures/cf-14.yaml"), "cf-map-catch");
    let each = &def.root.states[0];
    let spec = map(each);
    assert_eq!(spec.max_concurrency, 40);
    assert_eq!(names(&spec.processor.states), ["Check", "Good", "Bad"]);
    assert_eq!(spec.processor.states[2].next, Next::End);
    assert_eq!(each.catch[0].errors, ["ItemRejected"]);
    assert_eq!(each.catch[0].next, 1);
}

#[test]
fn cf_15_task_timeout() {
    let def = fixture(include_str!("../fixtures/cf-15.yaml"), "cf-timeout");
    let state = &def.root.states[0];
    assert!(matches!(task(state).timeout, Some(TimeoutSpec::Seconds(1))));
    assert_eq!(state.catch[0].errors, ["FnF.TaskTimeout"]);
}

#[test]
fn cf_16_nested_flow() {
    fixture(include_str!("../fixtures/cf-16-child.yaml"), "cf-child");
    let def = fixture(include_str!("../fixtures/cf-16.yaml"), "cf-parent");
    let spec = task(&def.root.states[0]);
    assert_eq!(spec.pattern, TaskPattern::Sync);
    assert!(matches!(spec.target, TaskTarget::StartExecution(_)));
    let input = tfield(params(&spec.target), "input");
    assert_eq!(texpr(tfield(input, "x")), "$Input.x");
}
