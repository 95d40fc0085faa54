//! State-machine validation (docs/COMPATIBILITY.md#validation) of the document, states, Choice and Task: one test
//! per rule, asserting the path and the reason.

use serde_json::json;

use super::{FC, FC_PARAMS, fails, ok, sm, task, task_of, tfield, tliteral};
use crate::engine::ir::{Next, TaskTarget, TimeoutSpec};

// --- document ----------------------------------------------------------------------------

#[test]
fn document_fields_are_required() {
    let states = "[{Type: Pass, Name: A, End: true}]";
    fails(
        &sm(states).replace("SpecVersion: v1\n", ""),
        "f",
        "SpecVersion",
        "is required",
    );
    fails(
        &sm(states).replace("SpecVersion: v1", "SpecVersion: v2"),
        "f",
        "SpecVersion",
        "must be 'v1', got \"v2\"",
    );
    fails(
        &sm(states).replace("Name: f\n", ""),
        "f",
        "Name",
        "is required",
    );
    fails(
        &sm(states).replace("StartAt: A\n", ""),
        "f",
        "StartAt",
        "is required",
    );
    fails(
        "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: A\n",
        "f",
        "States",
        "is required",
    );
    fails(&sm("[]"), "f", "States", "must not be empty");
}

#[test]
fn name_must_equal_the_flow_name() {
    fails(
        &sm("[{Type: Pass, Name: A, End: true}]"),
        "g",
        "Name",
        "must equal the flow name 'g', got 'f'",
    );
}

#[test]
fn start_at_must_name_a_state_of_its_scope() {
    fails(
        &sm("[{Type: Pass, Name: B, End: true}]"),
        "f",
        "StartAt",
        "names no state 'A' of this States list",
    );
    fails(
        &sm(
            "[{Type: Parallel, Name: A, End: true, Branches: [{StartAt: X, States: [{Type: Pass, Name: Y, End: true}]}]}]",
        ),
        "f",
        "States[0].Branches[0].StartAt",
        "names no state 'X'",
    );
    fails(
        &sm(
            "[{Type: Map, Name: A, End: true, ItemsPath: '$Input.a', Processor: {StartAt: A, States: [{Type: Pass, Name: Y, End: true}]}}]",
        ),
        "f",
        "States[0].Processor.StartAt",
        "names no state 'A'",
    );
    let def = ok(
        &sm("[{Type: Pass, Name: B, End: true}, {Type: Pass, Name: A, Next: B}]"),
        "f",
    );
    assert_eq!(def.root.start, 1);
    assert_eq!(def.root.states[1].next, Next::State(0));
}

// --- states ------------------------------------------------------------------------------

#[test]
fn state_needs_name_and_type() {
    fails(
        &sm("[{Type: Pass, End: true}]"),
        "f",
        "States[0].Name",
        "is required",
    );
    fails(
        &sm("[{Name: A, End: true}]"),
        "f",
        "States[0].Type",
        "is required",
    );
    fails(
        &sm("[{Type: pass, Name: A, End: true}]"),
        "f",
        "States[0].Type",
        "'pass' is not a state type",
    );
    fails(
        &sm("[{Type: Pass, Name: A, End: true}, {Type: Pass, Name: A, End: true}]"),
        "f",
        "States[1].Name",
        "repeats the name 'A'",
    );
}

#[test]
fn transitions_need_exactly_one_of_next_and_end() {
    for ty in ["Pass", "Wait", "Parallel", "Map", "Task"] {
        fails(
            &sm(&format!("[{{Type: {ty}, Name: A}}]")),
            "f",
            "States[0].Next",
            "is required (or 'End: true')",
        );
    }
    fails(
        &sm("[{Type: Pass, Name: A, End: false}]"),
        "f",
        "States[0].Next",
        "is required",
    );
    fails(
        &sm("[{Type: Pass, Name: A, Next: B, End: true}, {Type: Pass, Name: B, End: true}]"),
        "f",
        "States[0].End",
        "together with 'Next'",
    );
    fails(
        &sm("[{Type: Pass, Name: A, Next: C}, {Type: Pass, Name: B, End: true}]"),
        "f",
        "States[0].Next",
        "names no state 'C' of this States list",
    );
    fails(
        &sm("[{Type: Pass, Name: A, End: 'yes'}]"),
        "f",
        "States[0].End",
        "must be true or false",
    );
    ok(
        &sm("[{Type: Pass, Name: A, Next: B, End: false}, {Type: Pass, Name: B, End: true}]"),
        "f",
    );
}

#[test]
fn terminal_states_never_have_next() {
    fails(
        &sm("[{Type: Succeed, Name: A, Next: A}]"),
        "f",
        "States[0].Next",
        "is not allowed on a Succeed state",
    );
    fails(
        &sm("[{Type: Fail, Name: A, Next: A}]"),
        "f",
        "States[0].Next",
        "is not allowed on a Fail state",
    );
    let def = ok(
        &sm("[{Type: Succeed, Name: A, End: true}, {Type: Fail, Name: B}]"),
        "f",
    );
    assert_eq!(def.root.states[1].next, Next::End);
}

#[test]
fn next_cannot_leave_its_scope() {
    fails(
        &sm(
            "[{Type: Parallel, Name: A, End: true, Branches: [{StartAt: X, States: [{Type: Pass, Name: X, Next: A}]}]}]",
        ),
        "f",
        "States[0].Branches[0].States[0].Next",
        "names no state 'A'",
    );
}

// --- Choice ----------------------------------------------------------------------------------

#[test]
fn choice_needs_branches_and_default() {
    fails(
        &sm("[{Type: Choice, Name: A, Default: A}]"),
        "f",
        "States[0].Branches",
        "is required",
    );
    fails(
        &sm("[{Type: Choice, Name: A, Branches: [], Default: A}]"),
        "f",
        "States[0].Branches",
        "must not be empty",
    );
    fails(
        &sm("[{Type: Choice, Name: A, Branches: [{Condition: '$Input.a', Next: A}]}]"),
        "f",
        "States[0].Default",
        "is required",
    );
    fails(
        &sm("[{Type: Choice, Name: A, Branches: [{Next: A}], Default: A}]"),
        "f",
        "States[0].Branches[0].Condition",
        "is required",
    );
    fails(
        &sm("[{Type: Choice, Name: A, Branches: [{Condition: '$Input.a'}], Default: A}]"),
        "f",
        "States[0].Branches[0].Next",
        "is required",
    );
    fails(
        &sm("[{Type: Choice, Name: A, Branches: [{Condition: '$Input.a', Next: Z}], Default: A}]"),
        "f",
        "States[0].Branches[0].Next",
        "names no state 'Z'",
    );
    fails(
        &sm("[{Type: Choice, Name: A, Branches: [{Condition: '$Input.a', Next: A}], Default: Z}]"),
        "f",
        "States[0].Default",
        "names no state 'Z'",
    );
}

#[test]
fn choice_has_no_next_end_or_output_constructor() {
    let choice = "Type: Choice, Name: A, Branches: [{Condition: '$Input.a', Next: A}], Default: A";
    fails(
        &sm(&format!("[{{{choice}, Next: A}}]")),
        "f",
        "States[0].Next",
        "is not allowed on a Choice state",
    );
    fails(
        &sm(&format!("[{{{choice}, End: true}}]")),
        "f",
        "States[0].End",
        "is not allowed on a Choice state",
    );
    fails(
        &sm(&format!("[{{{choice}, OutputConstructor: {{a: 1}}}}]")),
        "f",
        "States[0].OutputConstructor",
        "is not allowed on a Choice state",
    );
    ok(
        &sm(&format!(
            "[{{{choice}, End: false, InputConstructor: {{a: 1}}}}]"
        )),
        "f",
    );
}

#[test]
fn choice_conditions_must_parse() {
    fails(
        &sm(
            "[{Type: Choice, Name: A, Branches: [{Condition: '$Input.a ==', Next: A}], Default: A}]",
        ),
        "f",
        "States[0].Branches[0].Condition",
        "is not a valid expression",
    );
    fails(
        &sm("[{Type: Choice, Name: A, Branches: [{Condition: '$Output.a', Next: A}], Default: A}]"),
        "f",
        "States[0].Branches[0].Condition",
        "may not use $Output",
    );
    fails(
        &sm("[{Type: Choice, Name: A, Branches: [{Condition: '$.a == 1', Next: A}], Default: A}]"),
        "f",
        "States[0].Branches[0].Condition",
        "may not use $",
    );
}

// --- Task ----------------------------------------------------------------------------------

#[test]
fn task_needs_action() {
    fails(
        &task("Parameters: {}"),
        "f",
        "States[0].Action",
        "is required",
    );
    fails(
        &task("Action: InvokeFunction"),
        "f",
        "States[0].Action",
        "must be 'Service:API'",
    );
}

#[test]
fn task_mode_must_be_known() {
    fails(
        &task(&format!("{FC}, {FC_PARAMS}, TaskMode: Sync")),
        "f",
        "States[0].TaskMode",
        "got 'Sync'",
    );
    let spec = task_of(ok(
        &task(&format!(
            "{FC}, {FC_PARAMS}, TaskMode: WaitForSystemCallback"
        )),
        "f",
    ));
    assert_eq!(spec.pattern, crate::engine::ir::TaskPattern::Sync);
}

#[test]
fn task_timeout_range() {
    let with = |t: &str| task(&format!("{FC}, {FC_PARAMS}, {t}"));
    fails(
        &with("Timeout: 604801"),
        "f",
        "States[0].Timeout",
        "between 0 and 604800, got 604801",
    );
    fails(&with("Timeout: -1"), "f", "States[0].Timeout", "got -1");
    fails(&with("Timeout: 1.5"), "f", "States[0].Timeout", "got 1.5");
    fails(
        &with("Timeout: 'soon'"),
        "f",
        "States[0].Timeout",
        "got \"soon\"",
    );
    fails(
        &with("Timeout: 5, Timeout.$: '$Input.t'"),
        "f",
        "States[0].Timeout.$",
        "together with 'Timeout'",
    );
    fails(
        &with("Timeout.$: 5"),
        "f",
        "States[0].Timeout.$",
        "must be a string expression",
    );
    assert!(matches!(
        task_of(ok(&with("Timeout: '30'"), "f")).timeout,
        Some(TimeoutSpec::Seconds(30))
    ));
    assert!(task_of(ok(&with("Timeout: 0"), "f")).timeout.is_none());
    assert!(matches!(
        task_of(ok(&with("Timeout.$: '$Input.t'"), "f")).timeout,
        Some(TimeoutSpec::Expr(_))
    ));
}

#[test]
fn fc_action_needs_its_parameters() {
    fails(
        &task(FC),
        "f",
        "States[0].Parameters.resourceArn",
        "is required",
    );
    fails(
        &task(&format!("{FC}, Parameters: {{invocationType: Sync}}")),
        "f",
        "States[0].Parameters.resourceArn",
        "is required",
    );
    fails(
        &task(&format!(
            "{FC}, Parameters: {{resourceArn: 'acs:fc:::functions/f'}}"
        )),
        "f",
        "States[0].Parameters.invocationType",
        "is required",
    );
    fails(
        &task(&format!(
            "{FC}, Parameters: {{resourceArn: 'acs:fc:::functions/f', invocationType: Later}}"
        )),
        "f",
        "States[0].Parameters.invocationType",
        "must be Sync or Async, got 'Later'",
    );
    fails(
        &task(&format!(
            "{FC}, Parameters: {{resourceArn: 7, invocationType: Sync}}"
        )),
        "f",
        "States[0].Parameters.resourceArn",
        "non-empty string",
    );
    let spec = task_of(ok(
        &task(&format!(
            "{FC}, Parameters: {{resourceArn.$: '$Input.arn', invocationType.$: '$Input.kind'}}"
        )),
        "f",
    ));
    assert!(matches!(spec.target, TaskTarget::FcInvoke(_)));
}

#[test]
fn start_execution_needs_resource_arn() {
    fails(
        &task("Action: 'FNF:StartExecution', Parameters: {input: {}}"),
        "f",
        "States[0].Parameters.resourceArn",
        "is required",
    );
    // The service part is case-insensitive (docs/COMPATIBILITY.md#q16).
    let spec = task_of(ok(
        &task("Action: 'fnf:StartExecution', Parameters: {resourceArn: 'acs:fnf:::flow/c'}"),
        "f",
    ));
    assert!(matches!(spec.target, TaskTarget::StartExecution(_)));
    assert_eq!(spec.resource, "fnf:StartExecution");
}

#[test]
fn http_action_needs_url_and_method() {
    fails(
        &task("Action: 'HTTP:Request', Parameters: {method: GET}"),
        "f",
        "States[0].Parameters.url",
        "is required",
    );
    fails(
        &task("Action: 'HTTP:Request', Parameters: {url: 'http://x'}"),
        "f",
        "States[0].Parameters.method",
        "is required",
    );
    fails(
        &task("Action: 'HTTP:Request', Parameters: {url: 'http://x', method: FETCH}"),
        "f",
        "States[0].Parameters.method",
        "got 'FETCH'",
    );
    for action in ["HTTP:Request", "http:Invoke"] {
        let spec = task_of(ok(
            &task(&format!(
                "Action: '{action}', Parameters: {{url: 'http://x', method: Get}}"
            )),
            "f",
        ));
        let TaskTarget::Http(params) = spec.target else {
            panic!()
        };
        assert_eq!(tliteral(tfield(&params, "method")), &json!("Get"));
    }
}

#[test]
fn other_actions_are_unsupported_at_run_time() {
    let spec = task_of(ok(
        &task("Action: 'ECS:DescribeInstances', Parameters: {a.$: '$Input.a'}"),
        "f",
    ));
    assert!(
        matches!(spec.target, TaskTarget::Unsupported { ref action } if action == "ECS:DescribeInstances")
    );
    // The API part is matched exactly.
    let spec = task_of(ok(&task("Action: 'FC:invokeFunction'"), "f"));
    assert!(matches!(spec.target, TaskTarget::Unsupported { .. }));
}
