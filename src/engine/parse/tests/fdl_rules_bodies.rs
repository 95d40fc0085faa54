//! FDL validation (docs/COMPATIBILITY.md#validation) of choice, wait, parallel, foreach, mappings and nesting.

use serde_json::json;

use super::{constant, fails, fails_with, flow, ok};
use crate::engine::ir::{Source, StateKind, ValueSpec, WaitSpec};
use crate::engine::parse::{ParseOptions, parse_new_definition};

// --- choice --------------------------------------------------------------------------------

#[test]
fn goto_must_name_a_sibling() {
    fails(
        &flow("[{type: choice, name: c, choices: [{condition: '$.a', goto: x}]}]"),
        "f",
        "steps[0].choices[0].goto",
        "names no sibling step 'x'",
    );
    fails(
        &flow("[{type: choice, name: c, choices: [{condition: '$.a'}], default: {goto: x}}]"),
        "f",
        "steps[0].default.goto",
        "names no sibling step 'x'",
    );
    // A step inside the option's own steps is not a sibling of the choice.
    fails(
        &flow(
            "[{type: choice, name: c, choices: [{condition: '$.a', steps: [{type: pass, name: in}], goto: in}]}]",
        ),
        "f",
        "steps[0].choices[0].goto",
        "names no sibling step 'in'",
    );
    // Nor is the parent of a nested list.
    fails(
        &flow(
            "[{type: parallel, name: par, branches: [{steps: [{type: choice, name: c, choices: [{condition: '$.a', goto: par}]}]}]}]",
        ),
        "f",
        "steps[0].branches[0].steps[0].choices[0].goto",
        "'par'",
    );
}

#[test]
fn choice_needs_choices_with_conditions() {
    fails(
        &flow("[{type: choice, name: c}]"),
        "f",
        "steps[0].choices",
        "is required",
    );
    fails(
        &flow("[{type: choice, name: c, choices: []}]"),
        "f",
        "steps[0].choices",
        "must not be empty",
    );
    fails(
        &flow("[{type: choice, name: c, choices: [{goto: c}]}]"),
        "f",
        "steps[0].choices[0].condition",
        "is required",
    );
    fails(
        &flow("[{type: choice, name: c, choices: [{condition: true}]}]"),
        "f",
        "steps[0].choices[0].condition",
        "must be a string",
    );
    fails(
        &flow("[{type: choice, name: c, choices: [{condition: '$.a', steps: []}]}]"),
        "f",
        "steps[0].choices[0].steps",
        "must not be empty",
    );
}

#[test]
fn condition_must_parse_and_read_only_dollar() {
    fails(
        &flow("[{type: choice, name: c, choices: [{condition: '$.a =='}]}]"),
        "f",
        "steps[0].choices[0].condition",
        "is not a valid expression",
    );
    fails(
        &flow("[{type: choice, name: c, choices: [{condition: '$input.a == 1'}]}]"),
        "f",
        "steps[0].choices[0].condition",
        "may not use $input",
    );
    fails(
        &flow("[{type: choice, name: c, choices: [{condition: '$Input.a == 1'}]}]"),
        "f",
        "steps[0].choices[0].condition",
        "may not use $Input",
    );
}

// --- wait ----------------------------------------------------------------------------------

#[test]
fn wait_needs_exactly_one_of_duration_and_timestamp() {
    fails(
        &flow("[{type: wait, name: w}]"),
        "f",
        "steps[0].duration",
        "is required (or 'timestamp')",
    );
    fails(
        &flow("[{type: wait, name: w, duration: 1, timestamp: '$.t'}]"),
        "f",
        "steps[0].timestamp",
        "together with 'duration'",
    );
}

#[test]
fn wait_constants_are_checked() {
    fails(
        &flow("[{type: wait, name: w, duration: 172801}]"),
        "f",
        "steps[0].duration",
        "between 0 and 172800, got 172801",
    );
    fails(
        &flow("[{type: wait, name: w, duration: -1}]"),
        "f",
        "steps[0].duration",
        "got -1",
    );
    fails(
        &flow("[{type: wait, name: w, duration: '10'}]"),
        "f",
        "steps[0].duration",
        "a number of seconds or a '$' path",
    );
    fails(
        &flow("[{type: wait, name: w, timestamp: tomorrow}]"),
        "f",
        "steps[0].timestamp",
        "RFC 3339",
    );
    let def = ok(
        &flow("[{type: wait, name: w, duration: 1.5}, {type: wait, name: v, duration: 172800}]"),
        "f",
    );
    assert!(
        matches!(&def.root.states[0].kind, StateKind::Wait(WaitSpec::Seconds(ValueSpec::Const(v))) if v == &json!(1.5))
    );
}

#[test]
fn a_new_definition_may_not_wait_for_a_timestamp_past_the_longest_wait() {
    let created = crate::time::parse_rfc3339_ms("2024-05-01T12:00:00Z").unwrap();
    let new = |timestamp: &str| {
        let text = flow(&format!(
            "[{{type: wait, name: w, timestamp: '{timestamp}'}}]"
        ));
        parse_new_definition(&text, &options(), created)
    };
    fails_with(
        new("2025-05-01T12:00:00Z"),
        "steps[0].timestamp",
        "'2025-05-01T12:00:00Z' is more than 172800 seconds (2 days) ahead, the longest wait",
    );
    fails_with(
        new("2024-05-03T12:00:00.001Z"),
        "steps[0].timestamp",
        "more than 172800 seconds",
    );
    // Exactly two days ahead, in another offset, and any past instant are fine.
    assert!(new("2024-05-03T20:00:00+08:00").is_ok());
    assert!(new("2019-05-02T15:04:05Z").is_ok());
    // Inside nested steps too.
    let nested = flow(
        "[{type: parallel, name: p, branches: [{steps: [{type: wait, name: w, timestamp: '2030-01-01T00:00:00Z'}]}]}]",
    );
    fails_with(
        parse_new_definition(&nested, &options(), created),
        "steps[0].branches[0].steps[0].timestamp",
        "more than 172800 seconds",
    );
    // A stored definition loads again whatever the time.
    let far = flow("[{type: wait, name: w, timestamp: '2999-01-01T00:00:00Z'}]");
    ok(&far, "f");
}

#[test]
fn a_new_definition_keeps_its_timeouts_within_the_execution_limit() {
    let created = crate::time::now_ms();
    let year = 365 * 24 * 3600;
    let task = |seconds: u64| {
        flow(&format!(
            "[{{type: task, name: t, resourceArn: 'acs:fc:::services/s/functions/f', timeoutSeconds: {seconds}}}]"
        ))
    };
    fails_with(
        parse_new_definition(&task(year + 1), &options(), created),
        "steps[0].timeoutSeconds",
        &format!("must be an integer between 1 and {year}, got {}", year + 1),
    );
    assert!(parse_new_definition(&task(year), &options(), created).is_ok());
    let whole = format!(
        "timeoutSeconds: {}\n{}",
        year + 1,
        flow("[{type: pass, name: p}]")
    );
    fails_with(
        parse_new_definition(&whole, &options(), created),
        "timeoutSeconds",
        &format!("between 1 and {year}"),
    );
    // Stored definitions load again as they were accepted.
    ok(&task(u64::MAX >> 1), "f");
}

fn options() -> ParseOptions<'static> {
    ParseOptions {
        flow_name: "f",
        express: false,
    }
}

#[test]
fn wait_paths_must_be_dollar_paths() {
    fails(
        &flow("[{type: wait, name: w, duration: '$.a + 1'}]"),
        "f",
        "steps[0].duration",
        "must be a path",
    );
    fails(
        &flow("[{type: wait, name: w, timestamp: '$input.t'}]"),
        "f",
        "steps[0].timestamp",
        "may not use $input",
    );
}

// --- parallel / foreach --------------------------------------------------------------------

#[test]
fn parallel_branch_count() {
    fails(
        &flow("[{type: parallel, name: p}]"),
        "f",
        "steps[0].branches",
        "is required",
    );
    fails(
        &flow("[{type: parallel, name: p, branches: []}]"),
        "f",
        "steps[0].branches",
        "between 1 and 100 branches, got 0",
    );
    let branches = vec!["{steps: [{type: pass, name: x}]}"; 101].join(", ");
    fails(
        &flow(&format!(
            "[{{type: parallel, name: p, branches: [{branches}]}}]"
        )),
        "f",
        "steps[0].branches",
        "got 101",
    );
    let branches = vec!["{steps: [{type: pass, name: x}]}"; 100].join(", ");
    ok(
        &flow(&format!(
            "[{{type: parallel, name: p, branches: [{branches}]}}]"
        )),
        "f",
    );
}

#[test]
fn parallel_branch_needs_steps() {
    fails(
        &flow("[{type: parallel, name: p, branches: [{steps: [{type: pass, name: x}]}, {}]}]"),
        "f",
        "steps[0].branches[1].steps",
        "is required",
    );
}

#[test]
fn foreach_needs_collection_item_and_steps() {
    let body = "steps: [{type: pass, name: x}]";
    fails(
        &flow(&format!("[{{type: foreach, name: l, {body}}}]")),
        "f",
        "steps[0].iterationMapping",
        "is required",
    );
    fails(
        &flow(&format!(
            "[{{type: foreach, name: l, iterationMapping: {{item: i}}, {body}}}]"
        )),
        "f",
        "steps[0].iterationMapping.collection",
        "is required",
    );
    fails(
        &flow(&format!(
            "[{{type: foreach, name: l, iterationMapping: {{collection: items, item: i}}, {body}}}]"
        )),
        "f",
        "steps[0].iterationMapping.collection",
        "'$' path",
    );
    fails(
        &flow(&format!(
            "[{{type: foreach, name: l, iterationMapping: {{collection: '$.a'}}, {body}}}]"
        )),
        "f",
        "steps[0].iterationMapping.item",
        "is required",
    );
    fails(
        &flow(&format!(
            "[{{type: foreach, name: l, iterationMapping: {{collection: '$.a', item: ''}}, {body}}}]"
        )),
        "f",
        "steps[0].iterationMapping.item",
        "non-empty string",
    );
    fails(
        &flow("[{type: foreach, name: l, iterationMapping: {collection: '$.a', item: i}}]"),
        "f",
        "steps[0].steps",
        "is required",
    );
}

#[test]
fn foreach_collection_must_be_a_dollar_path() {
    fails(
        &flow(
            "[{type: foreach, name: l, iterationMapping: {collection: '$.a + $.b', item: i}, steps: [{type: pass, name: x}]}]",
        ),
        "f",
        "steps[0].iterationMapping.collection",
        "must be a path",
    );
}

// --- mappings ------------------------------------------------------------------------------

#[test]
fn mapping_entries_need_target_and_source() {
    fails(
        &flow("[{type: pass, name: p, outputMappings: [{source: 1}]}]"),
        "f",
        "steps[0].outputMappings[0].target",
        "is required",
    );
    fails(
        &flow("[{type: pass, name: p, outputMappings: [{target: a, source: 1}, {target: b}]}]"),
        "f",
        "steps[0].outputMappings[1].source",
        "is required",
    );
    fails(
        &flow("[{type: pass, name: p, inputMappings: [{target: '', source: 1}]}]"),
        "f",
        "steps[0].inputMappings[0].target",
        "non-empty string",
    );
    fails(
        &flow("[{type: pass, name: p, inputMappings: [{target: 5, source: 1}]}]"),
        "f",
        "steps[0].inputMappings[0].target",
        "non-empty string",
    );
    fails(
        &flow("[{type: pass, name: p, inputMappings: {target: a}}]"),
        "f",
        "steps[0].inputMappings",
        "must be a list",
    );
    fails(
        "version: v1\ntype: flow\ninputMappings: [{target: a}]\nsteps: [{type: pass, name: p}]",
        "f",
        "inputMappings[0].source",
        "is required",
    );
}

#[test]
fn null_source_is_the_constant_null() {
    let def = ok(
        &flow(
            "[{type: pass, name: p, outputMappings: [{target: a, source: null}, {target: b, source: '$input'}, {target: c, source: 'x $input'}]}]",
        ),
        "f",
    );
    let crate::engine::ir::DataFlow::Fdl {
        output_mappings: Some(m),
        ..
    } = &def.root.states[0].data
    else {
        panic!()
    };
    assert_eq!(constant(&m.0[0].source), &json!(null));
    assert!(matches!(m.0[1].source, Source::Expr(_)));
    assert_eq!(constant(&m.0[2].source), &json!("x $input"));
}

#[test]
fn mapping_sources_must_be_paths() {
    fails(
        &flow("[{type: pass, name: p, outputMappings: [{target: a, source: '$input.a + 1'}]}]"),
        "f",
        "steps[0].outputMappings[0].source",
        "must be a path",
    );
    fails(
        &flow("[{type: pass, name: p, outputMappings: [{target: a, source: '$inputs.a'}]}]"),
        "f",
        "steps[0].outputMappings[0].source",
        "is not a valid expression",
    );
    fails(
        &flow(
            "[{type: task, name: t, resourceArn: 'acs:fnf:::flow/c', serviceParams: {Input: '$.a == 1'}}]",
        ),
        "f",
        "steps[0].serviceParams.Input",
        "must be a path",
    );
}

// --- nesting -------------------------------------------------------------------------------

/// `levels` foreach steps nested inside each other.
fn nested_foreach(levels: usize) -> String {
    let mut steps = "[{type: pass, name: leaf}]".to_string();
    for _ in 0..levels {
        steps = format!(
            "[{{type: foreach, name: l, iterationMapping: {{collection: '$.a', item: i}}, steps: {steps}}}]"
        );
    }
    flow(&steps)
}

#[test]
fn nesting_deeper_than_32_is_rejected() {
    ok(&nested_foreach(32), "f");
    let path = format!("{}steps", "steps[0].".repeat(33));
    fails(
        &nested_foreach(33),
        "f",
        &path,
        "nesting is deeper than 32 levels",
    );
}

#[test]
fn choice_option_steps_count_as_nesting() {
    let mut steps = "[{type: pass, name: leaf}]".to_string();
    for _ in 0..33 {
        steps =
            format!("[{{type: choice, name: c, choices: [{{condition: '$.a', steps: {steps}}}]}}]");
    }
    let result = super::parse_as(&flow(&steps), "f", false);
    // 33 choice levels exceed either the loader's nesting limit or ours.
    assert!(result.is_err());
}
