//! FDL validation (docs/COMPATIBILITY.md#validation) of the document, steps, tasks, retry and catch: one test per
//! rule, asserting the path and the reason; plus the task target mapping rules.

use serde_json::json;

use super::{constant, expr_src, fails, flow, ok};
use crate::engine::ir::{FunctionRef, Next, Source, StateKind, TaskTarget};

fn task_target(text: &str) -> TaskTarget {
    match ok(text, "f").root.states.remove(0).kind {
        StateKind::Task(t) => t.target,
        other => panic!("{other:?}"),
    }
}

fn arn_task(arn: &str) -> String {
    flow(&format!("[{{type: task, name: t, resourceArn: '{arn}'}}]"))
}

// --- document ----------------------------------------------------------------------------

#[test]
fn version_must_be_v1_or_v1beta1() {
    fails(
        &flow("[{type: pass, name: p}]").replace("v1", "v2"),
        "f",
        "version",
        "must be 'v1' or 'v1beta1', got \"v2\"",
    );
    fails(
        "type: flow\nsteps: [{type: pass, name: p}]",
        "f",
        "version",
        "is required",
    );
    ok(
        &flow("[{type: pass, name: p}]").replace("v1", "v1beta1"),
        "f",
    );
}

#[test]
fn steps_are_required_and_non_empty() {
    fails("version: v1\ntype: flow\n", "f", "steps", "is required");
    fails(&flow("[]"), "f", "steps", "must not be empty");
    fails(&flow("{a: 1}"), "f", "steps", "must be a list");
}

#[test]
fn name_must_equal_the_flow_name() {
    let text = format!("name: other\n{}", flow("[{type: pass, name: p}]"));
    fails(
        &text,
        "f",
        "name",
        "must equal the flow name 'f', got 'other'",
    );
    ok(&text, "other");
}

#[test]
fn flow_timeout_must_be_positive() {
    let text = format!("timeoutSeconds: 0\n{}", flow("[{type: pass, name: p}]"));
    fails(
        &text,
        "f",
        "timeoutSeconds",
        "must be a positive integer, got 0",
    );
    let text = format!("timeoutSeconds: 60\n{}", flow("[{type: pass, name: p}]"));
    assert_eq!(ok(&text, "f").timeout_seconds, Some(60));
}

// --- steps -------------------------------------------------------------------------------

#[test]
fn step_needs_name_and_type() {
    fails(&flow("[{type: pass}]"), "f", "steps[0].name", "is required");
    fails(
        &flow("[{type: pass, name: ''}]"),
        "f",
        "steps[0].name",
        "non-empty string",
    );
    fails(&flow("[{name: p}]"), "f", "steps[0].type", "is required");
    fails(&flow("[p]"), "f", "steps[0]", "must be a mapping");
}

#[test]
fn unknown_step_type_is_rejected() {
    fails(
        &flow("[{type: pass, name: a}, {type: Pass, name: b}]"),
        "f",
        "steps[1].type",
        "'Pass' is not a step type",
    );
}

#[test]
fn sibling_names_are_unique() {
    fails(
        &flow("[{type: pass, name: a}, {type: pass, name: a}]"),
        "f",
        "steps[1].name",
        "repeats the name 'a'",
    );
    // The same name in different lists is fine.
    ok(
        &flow(
            "[{type: pass, name: a}, {type: parallel, name: b, branches: [{steps: [{type: pass, name: a}]}]}]",
        ),
        "f",
    );
}

#[test]
fn end_must_be_a_boolean() {
    fails(
        &flow("[{type: pass, name: a, end: 'yes'}]"),
        "f",
        "steps[0].end",
        "must be true or false",
    );
    let def = ok(
        &flow("[{type: pass, name: a, end: false}, {type: pass, name: b}]"),
        "f",
    );
    assert_eq!(def.root.states[0].next, Next::State(1));
}

#[test]
fn unknown_fields_are_ignored() {
    ok(&flow("[{type: pass, name: a, color: blue, retry: 5}]"), "f");
}

#[test]
fn errors_are_reported_in_document_order() {
    fails(
        &flow("[{type: pass, name: a, end: 1}, {type: nope}]"),
        "f",
        "steps[0].end",
        "",
    );
    fails(
        &flow("[{type: choice, name: c, choices: [{condition: '$.a', goto: x}]}, {name: b}]"),
        "f",
        "steps[0].choices[0].goto",
        "",
    );
}

// --- task --------------------------------------------------------------------------------

#[test]
fn task_needs_exactly_one_of_resource_arn_and_action() {
    fails(
        &flow("[{type: task, name: t}]"),
        "f",
        "steps[0].resourceArn",
        "is required (or 'action')",
    );
    fails(
        &flow(
            "[{type: task, name: t, resourceArn: 'acs:fnf:::flow/c', action: 'fnf:StartExecution'}]",
        ),
        "f",
        "steps[0].action",
        "together with 'resourceArn'",
    );
}

#[test]
fn task_pattern_must_be_known() {
    fails(
        &flow("[{type: task, name: t, resourceArn: 'acs:fnf:::flow/c', pattern: async}]"),
        "f",
        "steps[0].pattern",
        "got 'async'",
    );
}

#[test]
fn task_timeout_must_be_positive() {
    let step = |v: &str| {
        flow(&format!(
            "[{{type: task, name: t, resourceArn: 'acs:fnf:::flow/c', timeoutSeconds: {v}}}]"
        ))
    };
    fails(
        &step("0"),
        "f",
        "steps[0].timeoutSeconds",
        "must be a positive integer, got 0",
    );
    fails(&step("-3"), "f", "steps[0].timeoutSeconds", "got -3");
    fails(&step("1.5"), "f", "steps[0].timeoutSeconds", "got 1.5");
    fails(&step("'10'"), "f", "steps[0].timeoutSeconds", "got \"10\"");
}

#[test]
fn function_arns() {
    let target = task_target(&arn_task(
        "acs:fc:cn-hangzhou:123:services/svc.prod/functions/fn",
    ));
    assert!(
        matches!(target, TaskTarget::FdlFunction(FunctionRef::Service { ref service, qualifier: Some(ref q), ref function }) if service == "svc" && q == "prod" && function == "fn")
    );
    let target = task_target(&arn_task("acs:fc:::services/svc/functions/fn"));
    assert!(matches!(
        target,
        TaskTarget::FdlFunction(FunctionRef::Service {
            qualifier: None,
            ..
        })
    ));
    let target = task_target(&arn_task("acs:fc:cn-hangzhou:123:functions/fn/LATEST"));
    assert_eq!(
        target_function(target),
        FunctionRef::Function {
            function: "fn".into(),
            qualifier: Some("LATEST".into())
        }
    );
    let target = task_target(&arn_task("acs:fc:::functions/fn"));
    assert_eq!(
        target_function(target),
        FunctionRef::Function {
            function: "fn".into(),
            qualifier: None
        }
    );
    for bad in [
        "acs:fc:::services/svc",
        "acs:fc:::functions/",
        "acs:fc:services/s/functions/f",
        "acs:fc:::services/s./functions/f",
    ] {
        fails(
            &arn_task(bad),
            "f",
            "steps[0].resourceArn",
            "is not a Function Compute function ARN",
        );
    }
}

fn target_function(target: TaskTarget) -> FunctionRef {
    match target {
        TaskTarget::FdlFunction(f) => f,
        other => panic!("{other:?}"),
    }
}

#[test]
fn subflow_arn_and_action() {
    let target = task_target(&flow(
        "[{type: task, name: t, resourceArn: 'acs:fnf:cn-hangzhou:123:flow/child', serviceParams: {Input: '$', ExecutionName: '$.name', Extra: 5}}]",
    ));
    let TaskTarget::FdlFlow { flow_name, params } = target else {
        panic!()
    };
    assert_eq!(flow_name.as_deref(), Some("child"));
    assert_eq!(expr_src(&params[1].1), "$.name");
    assert_eq!(constant(&params[2].1), &json!(5));
    fails(
        &arn_task("acs:fnf:::flows/child"),
        "f",
        "steps[0].resourceArn",
        "is not a flow ARN",
    );

    let target = task_target(&flow(
        "[{type: task, name: t, action: 'FnF:StartExecution', serviceParams: {FlowName: child, Input: '$[\"a\"]', Note: '$not a path'}}]",
    ));
    let TaskTarget::FdlFlow {
        flow_name: None,
        params,
    } = target
    else {
        panic!()
    };
    assert_eq!(constant(&params[0].1), &json!("child"));
    assert!(matches!(params[1].1, Source::Expr(_)));
    assert_eq!(constant(&params[2].1), &json!("$not a path"));
    fails(
        &flow("[{type: task, name: t, action: 'fnf:StartExecution', serviceParams: {Input: '$'}}]"),
        "f",
        "steps[0].serviceParams.FlowName",
        "is required",
    );
    fails(
        &flow("[{type: task, name: t, action: 'fnf:StartExecution'}]"),
        "f",
        "steps[0].serviceParams.FlowName",
        "is required",
    );
}

#[test]
fn other_resources_are_unsupported_at_run_time() {
    let mns = "acs:mns:cn-hangzhou:123:/topics/t/messages";
    assert!(
        matches!(task_target(&arn_task(mns)), TaskTarget::Unsupported { action } if action == mns)
    );
    let target = task_target(&flow(
        "[{type: task, name: t, action: 'ocr:RecognizeText'}]",
    ));
    assert!(matches!(target, TaskTarget::Unsupported { action } if action == "ocr:RecognizeText"));
    fails(
        &flow("[{type: task, name: t, action: StartExecution}]"),
        "f",
        "steps[0].action",
        "must be 'product:ApiName'",
    );
}

// --- retry / catch -------------------------------------------------------------------------

fn with_policy(field: &str, policy: &str) -> String {
    flow(&format!(
        "[{{type: task, name: t, resourceArn: 'acs:fnf:::flow/c', {field}: [{policy}]}}, {{type: pass, name: p}}]"
    ))
}

#[test]
fn retry_needs_errors() {
    fails(
        &with_policy("retry", "{maxAttempts: 1}"),
        "f",
        "steps[0].retry[0].errors",
        "is required",
    );
    fails(
        &with_policy("retry", "{errors: []}"),
        "f",
        "steps[0].retry[0].errors",
        "must not be empty",
    );
    fails(
        &with_policy("retry", "{errors: [a, 5]}"),
        "f",
        "steps[0].retry[0].errors[1]",
        "non-empty string",
    );
}

#[test]
fn retry_numbers_are_range_checked() {
    let cases = [
        (
            "intervalSeconds: 0",
            "intervalSeconds",
            "between 1 and 86400, got 0",
        ),
        ("intervalSeconds: 86401", "intervalSeconds", "got 86401"),
        ("intervalSeconds: 1.5", "intervalSeconds", "got 1.5"),
        (
            "maxIntervalSeconds: 86401",
            "maxIntervalSeconds",
            "between 1 and 86400",
        ),
        ("maxIntervalSeconds: 0", "maxIntervalSeconds", "got 0"),
        ("maxAttempts: -1", "maxAttempts", "got -1"),
        ("multiplier: 0.5", "multiplier", "at least 1, got 0.5"),
    ];
    for (field, path, reason) in cases {
        fails(
            &with_policy("retry", &format!("{{errors: [E], {field}}}")),
            "f",
            &format!("steps[0].retry[0].{path}"),
            reason,
        );
    }
    let def = ok(
        &with_policy(
            "retry",
            "{errors: [E], intervalSeconds: 2, maxIntervalSeconds: 10, maxAttempts: 0, multiplier: 1.5}",
        ),
        "f",
    );
    let policy = &def.root.states[0].retry[0];
    assert_eq!(
        (
            policy.interval_seconds,
            policy.max_interval_seconds,
            policy.max_attempts,
            policy.backoff_rate
        ),
        (2.0, 10.0, 0, 1.5)
    );
}

#[test]
fn catch_needs_errors_and_goto() {
    fails(
        &with_policy("catch", "{goto: p}"),
        "f",
        "steps[0].catch[0].errors",
        "is required",
    );
    fails(
        &with_policy("catch", "{errors: [FnF.ALL]}"),
        "f",
        "steps[0].catch[0].goto",
        "is required",
    );
    fails(
        &with_policy("catch", "{errors: [FnF.ALL], goto: nowhere}"),
        "f",
        "steps[0].catch[0].goto",
        "names no sibling step 'nowhere'",
    );
}

#[test]
fn retry_and_catch_are_ignored_on_other_steps() {
    let def = ok(
        &flow("[{type: pass, name: p, retry: [{}], catch: [{goto: x}], errorMappings: 3}]"),
        "f",
    );
    assert!(def.root.states[0].retry.is_empty() && def.root.states[0].catch.is_empty());
}
