//! The worked examples of both definition languages (the FDL and state machine examples of
//! the project's definition reference), shared by the tests that run them end to end
//! (`tests/engine/fdl_examples.rs`, `tests/engine/cf_examples.rs`) and the flow graph's layout tests
//! (`src/graph/tests`), which include this file by path. It depends on `serde_json` alone.

use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Legacy FDL (FDL-1 … FDL-19)
// ---------------------------------------------------------------------------------------
pub const FDL_1: &str = r#"
version: v1
type: flow
steps:
  - type: pass
    name: mypass
"#;

pub const FDL_2: &str = r#"
version: v1
type: flow
steps:
  - type: pass
    name: init
    outputMappings:
      - target: names
        source: ["A", "B", "C"]
      - target: greeting
        source: hello
      - target: who
        source: $input.user
      - target: limits
        source: {max: 5, tags: ["$input.user"]}
"#;

pub const FDL_3: &str = r#"
version: v1
type: flow
inputMappings:
  - target: x
    source: $input.a
  - target: fixed
    source: 10
steps:
  - type: pass
    name: first
    outputMappings:
      - target: x
        source: 2
      - target: y
        source: $input.x
  - type: pass
    name: second
    outputMappings:
      - target: seen
        source: $input
outputMappings:
  - target: final
    source: $local
  - target: original
    source: $input
"#;

pub const FDL_4: &str = r#"
version: v1
type: flow
steps:
  - type: choice
    name: route
    choices:
      - condition: $.status == "ready"
        steps:
          - type: pass
            name: onReady
            outputMappings:
              - target: path
                source: ready
      - condition: $.status == "failed"
        goto: final
    default:
      steps:
        - type: pass
          name: onOther
          outputMappings:
            - target: path
              source: other
      goto: final
  - type: pass
    name: afterChoice
    outputMappings:
      - target: visitedAfter
        source: true
  - type: pass
    name: final
    outputMappings:
      - target: done
        source: true
"#;

pub const FDL_6: &str = r#"
version: v1
type: flow
steps:
  - type: parallel
    name: myparallel
    branches:
      - steps:
          - type: pass
            name: pass1
            outputMappings:
              - target: result
                source: pass1
      - steps:
          - type: pass
            name: pass2
            outputMappings:
              - target: result
                source: pass2
          - type: pass
            name: pass3
            outputMappings:
              - target: extra
                source: $input.result
    outputMappings:
      - target: result
        source: $local[*].result
      - target: branches
        source: 2
"#;

pub const FDL_7: &str = r#"
version: v1
type: flow
steps:
  - type: foreach
    name: loop
    iterationMapping:
      collection: $.names
      item: name
      index: i
    steps:
      - type: pass
        name: tag
        outputMappings:
          - target: tagged
            source: $input.name
          - target: position
            source: $input.i
    outputMappings:
      - target: tags
        source: $local[*].tagged
      - target: positions
        source: $local[*].position
"#;

pub const FDL_8: &str = r#"
version: v1
type: flow
steps:
  - type: wait
    name: pause
    duration: $.delay
  - type: pass
    name: after
    outputMappings:
      - target: waited
        source: $input.delay
"#;

pub const FDL_9: &str = r#"
version: v1
type: flow
steps:
  - type: choice
    name: mychoice
    choices:
      - condition: $.status == "ready"
        steps:
          - type: pass
            name: pass1
            outputMappings:
              - target: p1
                source: true
    default:
      steps:
        - type: pass
          name: pass2
      goto: handle_failure
  - type: succeed
    name: final
  - type: pass
    name: handle_failure
    outputMappings:
      - target: handled
        source: true
"#;

pub const FDL_10: &str = r#"
version: v1
type: flow
steps:
  - type: choice
    name: check
    choices:
      - condition: $.status == "ready"
        goto: final
    default:
      goto: handle_failure
  - type: fail
    name: handle_failure
    error: StatusIsNotReady
    cause: status is not ready
  - type: pass
    name: final
"#;

pub const FDL_11: &str = r#"
version: v1
type: flow
steps:
  - type: pass
    name: a
    outputMappings:
      - target: a
        source: 1
    end: true
  - type: pass
    name: b
    outputMappings:
      - target: b
        source: 2
"#;

pub const FDL_12: &str = r#"
version: v1
type: flow
steps:
  - type: task
    name: greet
    resourceArn: acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/echo
    inputMappings:
      - target: who
        source: $input.name
      - target: lang
        source: en
    outputMappings:
      - target: greeted
        source: $local.who
      - target: language
        source: $local.lang
"#;

pub const FDL_12B: &str = r#"
version: v1
type: flow
steps:
  - type: task
    name: greet
    resourceArn: acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/echo
"#;

/// FDL-13 with `{catch}` and `{error_mappings}` replaced by the variant's fields.
pub fn fdl_13(catch: &str, error_mappings: &str) -> String {
    format!(
        r#"
version: v1
type: flow
steps:
  - type: task
    name: risky
    resourceArn: acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/fail
    inputMappings:
      - target: errorType
        source: BookFlightError
      - target: errorMessage
        source: no seats
    retry:
      - errors: [FC.ResourceThrottled]
        intervalSeconds: 1
        maxAttempts: 5
      - errors: [BookFlightError]
        intervalSeconds: 1
        maxAttempts: 2
        multiplier: 2
{catch}{error_mappings}  - type: succeed
    name: done
  - type: pass
    name: compensate
    outputMappings:
      - target: compensated
        source: $input.errCode
"#
    )
}

pub const FDL_13_CATCH: &str =
    "    catch:\n      - errors: [BookFlightError]\n        goto: compensate\n";
pub const FDL_13_CATCH_ALL: &str =
    "    catch:\n      - errors: [FnF.ALL]\n        goto: compensate\n";
pub const FDL_13_ERROR_MAPPINGS: &str = "    errorMappings:\n      - target: errCode\n        source: $local.error\n      - target: errMsg\n        source: $local.cause\n";

pub const FDL_14: &str = r#"
version: v1
type: flow
steps:
  - type: task
    name: approval
    resourceArn: acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/echo
    pattern: waitForCallback
    inputMappings:
      - target: taskToken
        source: $context.task.token
      - target: orderId
        source: $input.orderId
"#;

pub const FDL_15: &str = r#"
version: v1
type: flow
steps:
  - type: task
    name: slow
    resourceArn: acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/sleep
    timeoutSeconds: 1
    inputMappings:
      - target: seconds
        source: 5
    catch:
      - errors: [FnF.TaskTimeout]
        goto: fallback
    errorMappings:
      - target: err
        source: $local.error
  - type: pass
    name: fallback
"#;

pub const FDL_16: &str = r#"
version: v1
type: flow
steps:
  - type: pass
    name: init
    outputMappings:
      - target: count
        source: 0
  - type: task
    name: inc
    resourceArn: acs:fc:cn-hangzhou:123456789012:services/fixtures/functions/increment
    inputMappings:
      - target: count
        source: $local.count
  - type: choice
    name: again
    choices:
      - condition: $.count < 3
        goto: inc
    default:
      goto: finish
  - type: pass
    name: finish
"#;

pub const FDL_17: &str = r#"
version: v1
type: flow
steps:
  - type: pass
    name: who
    outputMappings:
      - target: exec
        source: $context.execution.name
      - target: flow
        source: $context.flow.name
"#;

pub const FDL_18: &str = r#"
version: v1
type: flow
steps:
  - type: foreach
    name: collect
    iterationMapping:
      collection: $.groups
      item: group
    steps:
      - type: pass
        name: pick
        outputMappings:
          - target: parts
            source: $input.group.parts
    outputMappings:
      - target: parts
        source: $local[*].parts[*]
"#;

pub const FDL_19_CHILD: &str = r#"
version: v1
type: flow
steps:
  - type: pass
    name: echo
    outputMappings:
      - target: childSaw
        source: $input.x
"#;

/// FDL-19's variant: the child ends with a fail step `error: Boom`.
pub const FDL_19_FAILING_CHILD: &str = r#"
version: v1
type: flow
steps:
  - type: fail
    name: explode
    error: Boom
    cause: the child blew up
"#;

pub const FDL_19: &str = r#"
version: v1
type: flow
steps:
  - type: task
    name: callChild
    resourceArn: acs:fnf:::flow/child
    pattern: sync
    inputMappings:
      - target: x
        source: $input.value
    serviceParams:
      Input: $
"#;

/// FDL-19 catching the child's error on `callChild`.
pub const FDL_19_CATCHING: &str = r#"
version: v1
type: flow
steps:
  - type: task
    name: callChild
    resourceArn: acs:fnf:::flow/child
    pattern: sync
    inputMappings:
      - target: x
        source: $input.value
    serviceParams:
      Input: $
    catch:
      - errors: [Boom]
        goto: recover
    errorMappings:
      - target: childError
        source: $local.error
      - target: childCause
        source: $local.cause
    end: true
  - type: pass
    name: recover
    outputMappings:
      - target: recovered
        source: $input.childError
"#;

/// FDL-5: one choice per row, each recording whether its condition held as `r<row>`.
pub fn fdl_5_definition(conditions: &[&str]) -> String {
    let steps: Vec<Value> = conditions
        .iter()
        .enumerate()
        .map(|(row, condition)| {
            let key = format!("r{row}");
            json!({
                "type": "choice",
                "name": format!("c{row}"),
                "choices": [{
                    "condition": condition,
                    "steps": [{"type": "pass", "name": format!("t{row}"),
                               "outputMappings": [{"target": key, "source": true}]}]
                }],
                "default": {
                    "steps": [{"type": "pass", "name": format!("f{row}"),
                               "outputMappings": [{"target": key, "source": false}]}]
                }
            })
        })
        .collect();
    json!({"version": "v1", "type": "flow", "steps": steps}).to_string()
}

/// FDL-5's table: condition → result.
pub const FDL_5_ROWS: &[(&str, bool)] = &[
    ("$.a == 1", true),
    ("$.a != 1", false),
    ("$.a > 0 && $.d <= 1.5", true),
    ("$.a > 1 || $.b.b1", true),
    ("!$.b.b1", false),
    ("$.b.b2 == \"ready\"", true),
    ("$.b.b2 == `ready`", true),
    ("$.c[2] >= 3", true),
    ("2 in $.c", true),
    ("5 in $.c", false),
    ("\"b2\" in $.b", true),
    ("-$.a < 0", true),
    ("($.a == 1 || $.a == 2) && $.e == \"x y\"", true),
    ("$.missing == \"ready\"", false),
    ("$.missing != \"ready\"", true),
    ("\"abc\" < \"abd\"", true),
    ("$.s == 10", false),
    ("$.d * 2 == 3", true),
    ("$.b.b2", false),
];

// ---------------------------------------------------------------------------------------
// State machine (CF-1 … CF-16)
// ---------------------------------------------------------------------------------------
pub const CF_1: &str = r#"
Type: StateMachine
Name: cf-pass
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    End: true
"#;

pub const CF_2: &str = r#"
Type: StateMachine
Name: cf-input-ctor
SpecVersion: v1
StartAt: Pass1
States:
  - Type: Pass
    Name: Pass1
    End: true
    InputConstructor:
      FieldA: 123
"#;

pub const CF_3: &str = r#"
Type: StateMachine
Name: cf-constructors
SpecVersion: v1
StartAt: Shape
States:
  - Type: Pass
    Name: Shape
    InputConstructor:
      user.$: $Input.profile.name
      literal: $Input.profile.name
      count.$: length($Input.items)
      greeting.$: format("hello {}", $Input.profile.name)
      nested:
        first.$: $Input.items[0]
      fromExecution.$: $Context.Execution.Input.profile.name
    OutputConstructor:
      echoed.$: $Input.user
      all.$: $Input
    End: true
"#;

pub const CF_4: &str = r#"
Type: StateMachine
Name: cf-choice
SpecVersion: v1
StartAt: Route
States:
  - Type: Choice
    Name: Route
    Branches:
      - Condition: $Input.status == "ready"
        Next: Ready
      - Condition: $Input.retries > 3 && $Input.status != "ready"
        Next: GiveUp
    Default: Other
  - Type: Pass
    Name: Ready
    OutputConstructor:
      path: ready
    End: true
  - Type: Pass
    Name: GiveUp
    OutputConstructor:
      path: giveup
    End: true
  - Type: Pass
    Name: Other
    End: true
"#;

pub const CF_5: &str = r#"
Type: StateMachine
Name: cf-parallel
SpecVersion: v1
StartAt: Parallel1
States:
  - Type: Parallel
    Name: Parallel1
    Next: Join
    Branches:
      - StartAt: Pass1
        States:
          - Type: Pass
            Name: Pass1
            End: true
            OutputConstructor:
              FieldA: 123
      - StartAt: Pass2
        States:
          - Type: Pass
            Name: Pass2
            InputConstructor:
              FieldA: 321
            End: true
  - Type: Pass
    Name: Join
    InputConstructor:
      sum.$: intAdd($Input.Branch0.FieldA, $Input.Branch1.FieldA)
      raw.$: $Input
    End: true
"#;

pub const CF_6: &str = r#"
Type: StateMachine
Name: cf-map
SpecVersion: v1
StartAt: Map1
States:
  - Type: Map
    Name: Map1
    ItemsPath: $Input.orders
    MaxConcurrency: 2
    Processor:
      StartAt: Tag
      States:
        - Type: Pass
          Name: Tag
          OutputConstructor:
            id.$: $Input.id
            tagged: true
          End: true
    End: true
"#;

pub const CF_6B_OUTPUT_CONSTRUCTOR: &str =
    "    OutputConstructor:\n      ids.$: $Output.Items[*].id\n      n.$: length($Output.Items)\n";

/// CF-6 with `CF_6B_OUTPUT_CONSTRUCTOR` on the Map.
pub fn cf_6b() -> String {
    // Before the Map's own `End: true` (the last line; the Processor's is deeper).
    let at = CF_6
        .rfind("\n    End: true\n")
        .map_or(CF_6.len(), |at| at + 1);
    format!("{}{CF_6B_OUTPUT_CONSTRUCTOR}{}", &CF_6[..at], &CF_6[at..])
}

pub const CF_7: &str = r#"
Type: StateMachine
Name: cf-wait
SpecVersion: v1
StartAt: Wait1
States:
  - Type: Wait
    Name: Wait1
    Seconds.$: $Input.delay
    End: true
"#;

pub const CF_8: &str = r#"
Type: StateMachine
Name: cf-succeed
SpecVersion: v1
StartAt: Parallel1
States:
  - Type: Parallel
    Name: Parallel1
    End: true
    Branches:
      - StartAt: Succeed1
        States:
          - Type: Succeed
            Name: Succeed1
            OutputConstructor:
              FieldA: 123
      - StartAt: Pass2
        States:
          - Type: Pass
            Name: Pass2
            InputConstructor:
              FieldA: 321
            End: true
"#;

pub const CF_9: &str = r#"
Type: StateMachine
Name: cf-fail
SpecVersion: v1
StartAt: Choice1
States:
  - Type: Choice
    Name: Choice1
    Branches:
      - Condition: $Input.status == "true"
        Next: Pass1
    Default: Fail1
  - Type: Fail
    Name: Fail1
    Code: customBizCode
    Detail: my custom error
    End: true
  - Type: Pass
    Name: Pass1
    End: true
"#;

pub const CF_10: &str = r#"
Type: StateMachine
Name: cf-fc
SpecVersion: v1
StartAt: Greet
States:
  - Type: Task
    Name: Greet
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/echo/LATEST
      invocationType: Sync
      body:
        who.$: $Input.name
        lang: en
    OutputConstructor:
      greeted.$: $Output.Body.who
      lang.$: $Output.Body.lang
    End: true
"#;

/// CF-11 with its retry rule's `BackoffRate` line and its `Catch` replaced by the variant's.
pub fn cf_11(backoff: &str, catch: &str) -> String {
    format!(
        r#"
Type: StateMachine
Name: cf-retry-catch
SpecVersion: v1
StartAt: Book
States:
  - Type: Task
    Name: Book
    Action: FC:InvokeFunction
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/fail/LATEST
      invocationType: Sync
      body:
        errorType: BookFlightError
        errorMessage: no seats
    Retry:
      - Description: retry booking
        Errors: [BookFlightError]
        MaxAttempts: 2
        IntervalSeconds: 1
{backoff}{catch}    End: true
  - Type: Pass
    Name: Compensate
    End: true
"#
    )
}

pub const CF_11_BACKOFF: &str = "        BackoffRate: 2\n";
pub const CF_11_CATCH: &str = "    Catch:\n      - Description: compensate\n        Errors: [FnF.ALL]\n        OutputConstructor:\n          failedWith.$: $Context.Current.Error.Code\n          reason.$: $Context.Current.Error.Detail\n        Next: Compensate\n";

pub const CF_12: &str = r#"
Type: StateMachine
Name: cf-callback
SpecVersion: v1
StartAt: Approve
States:
  - Type: Task
    Name: Approve
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/echo/LATEST
      invocationType: Async
      body:
        token.$: $Context.Current.TaskToken
        orderId.$: $Input.orderId
    End: true
"#;

pub const CF_13: &str = r#"
Type: StateMachine
Name: cf-global
SpecVersion: v1
StartAt: Save
States:
  - Type: Pass
    Name: Save
    GlobalConstructor:
      orderId.$: $Input.orderId
    OutputConstructor:
      step: saved
    Next: Use
  - Type: Pass
    Name: Use
    InputConstructor:
      restored.$: $Global.orderId
      previous.$: $Input.step
    End: true
"#;

pub const CF_14: &str = r#"
Type: StateMachine
Name: cf-map-catch
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Check
      States:
        - Type: Choice
          Name: Check
          Branches:
            - Condition: $Input.ok == true
              Next: Good
          Default: Bad
        - Type: Pass
          Name: Good
          End: true
        - Type: Fail
          Name: Bad
          Code: ItemRejected
          Detail: bad item
    Catch:
      - Errors: [ItemRejected]
        OutputConstructor:
          error.$: $Context.Current.Error.Code
        Next: Report
    End: true
  - Type: Pass
    Name: Report
    End: true
"#;

pub const CF_15: &str = r#"
Type: StateMachine
Name: cf-timeout
SpecVersion: v1
StartAt: Slow
States:
  - Type: Task
    Name: Slow
    Action: FC:InvokeFunction
    Timeout: 1
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/sleep/LATEST
      invocationType: Sync
      body:
        seconds: 5
    Catch:
      - Errors: [FnF.TaskTimeout]
        OutputConstructor:
          timedOut: true
        Next: Done
    End: true
  - Type: Pass
    Name: Done
    End: true
"#;

/// CF-16's child: CF-2 named `cf-child`.
pub fn cf_16_child() -> String {
    CF_2.replace("Name: cf-input-ctor", "Name: cf-child")
}

pub const CF_16: &str = r#"
Type: StateMachine
Name: cf-parent
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FNF:StartExecution
    TaskMode: WaitForSystemCallback
    Parameters:
      resourceArn: acs:fnf:cn-hangzhou:123456789012:flow/cf-child
      input:
        x.$: $Input.x
    End: true
"#;

// ---------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------

/// One worked example: its name in the reference, the flow name its definition must be
/// created under (a state machine's `Name`), and the definition text.
pub struct WorkedExample {
    pub name: &'static str,
    pub flow_name: &'static str,
    pub definition: String,
}

/// Every worked example of both languages, with the variants the end-to-end tests run.
pub fn worked_examples() -> Vec<WorkedExample> {
    let fdl_5_conditions: Vec<&str> = FDL_5_ROWS.iter().map(|(condition, _)| *condition).collect();
    let fdl = |name: &'static str, definition: &str| WorkedExample {
        name,
        flow_name: "example",
        definition: definition.to_string(),
    };
    let cf = |name: &'static str, flow_name: &'static str, definition: &str| WorkedExample {
        name,
        flow_name,
        definition: definition.to_string(),
    };
    vec![
        fdl("FDL-1", FDL_1),
        fdl("FDL-2", FDL_2),
        fdl("FDL-3", FDL_3),
        fdl("FDL-4", FDL_4),
        fdl("FDL-5", &fdl_5_definition(&fdl_5_conditions)),
        fdl("FDL-6", FDL_6),
        fdl("FDL-7", FDL_7),
        fdl("FDL-8", FDL_8),
        fdl("FDL-9", FDL_9),
        fdl("FDL-10", FDL_10),
        fdl("FDL-11", FDL_11),
        fdl("FDL-12", FDL_12),
        fdl("FDL-12b", FDL_12B),
        fdl("FDL-13", &fdl_13(FDL_13_CATCH, FDL_13_ERROR_MAPPINGS)),
        fdl("FDL-13b", &fdl_13(FDL_13_CATCH_ALL, "")),
        fdl("FDL-13c", &fdl_13("", "")),
        fdl("FDL-14", FDL_14),
        fdl("FDL-15", FDL_15),
        fdl("FDL-16", FDL_16),
        fdl("FDL-17", FDL_17),
        fdl("FDL-18", FDL_18),
        fdl("FDL-19", FDL_19),
        fdl("FDL-19 child", FDL_19_CHILD),
        fdl("FDL-19 failing child", FDL_19_FAILING_CHILD),
        fdl("FDL-19 catching", FDL_19_CATCHING),
        cf("CF-1", "cf-pass", CF_1),
        cf("CF-2", "cf-input-ctor", CF_2),
        cf("CF-3", "cf-constructors", CF_3),
        cf("CF-4", "cf-choice", CF_4),
        cf("CF-5", "cf-parallel", CF_5),
        cf("CF-6", "cf-map", CF_6),
        cf("CF-6b", "cf-map", &cf_6b()),
        cf("CF-7", "cf-wait", CF_7),
        cf("CF-8", "cf-succeed", CF_8),
        cf("CF-9", "cf-fail", CF_9),
        cf("CF-10", "cf-fc", CF_10),
        cf(
            "CF-11",
            "cf-retry-catch",
            &cf_11(CF_11_BACKOFF, CF_11_CATCH),
        ),
        cf("CF-11b", "cf-retry-catch", &cf_11("", CF_11_CATCH)),
        cf("CF-11c", "cf-retry-catch", &cf_11(CF_11_BACKOFF, "")),
        cf("CF-12", "cf-callback", CF_12),
        cf("CF-13", "cf-global", CF_13),
        cf("CF-14", "cf-map-catch", CF_14),
        cf("CF-15", "cf-timeout", CF_15),
        cf("CF-16", "cf-parent", CF_16),
        cf("CF-16 child", "cf-child", &cf_16_child()),
    ]
}
