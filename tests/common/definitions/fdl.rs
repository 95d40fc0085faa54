//! The legacy FDL worked examples (FDL-1 … FDL-19) and the variants the tests run.

use serde_json::{Value, json};

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
