//! State-machine validation (docs/COMPATIBILITY.md#validation) of Wait, Parallel, Map, constructors, Retry, Catch
//! and nesting.

use serde_json::json;

use super::{FC, FC_PARAMS, fails, fails_with, ok, parse_as, sm, task, tfield, tliteral};
use crate::engine::ir::{StateKind, ValueSpec, WaitSpec};

// --- Wait ----------------------------------------------------------------------------------

#[test]
fn wait_needs_seconds() {
    fails(
        &sm("[{Type: Wait, Name: A, End: true}]"),
        "f",
        "States[0].Seconds",
        "is required (or 'Seconds.$')",
    );
    fails(
        &sm("[{Type: Wait, Name: A, End: true, Seconds: 2, Seconds.$: '$Input.s'}]"),
        "f",
        "States[0].Seconds.$",
        "together with 'Seconds'",
    );
}

#[test]
fn wait_constant_range() {
    let wait = |s: &str| {
        sm(&format!(
            "[{{Type: Wait, Name: A, End: true, Seconds: {s}}}]"
        ))
    };
    fails(
        &wait("0"),
        "f",
        "States[0].Seconds",
        "must be an integer between 1 and 300, got 0",
    );
    fails(&wait("301"), "f", "States[0].Seconds", "got 301");
    fails(&wait("1.5"), "f", "States[0].Seconds", "got 1.5");
    fails(&wait("'5'"), "f", "States[0].Seconds", "got \"5\"");
    let def = ok(&wait("300"), "f");
    assert!(
        matches!(&def.root.states[0].kind, StateKind::Wait(WaitSpec::Seconds(ValueSpec::Const(v))) if v == &json!(300))
    );
    // Express flows wait at most 20 s.
    fails_with(
        parse_as(&wait("21"), "f", true),
        "States[0].Seconds",
        "between 1 and 20, got 21",
    );
    assert!(parse_as(&wait("20"), "f", true).is_ok());
}

// --- Parallel / Map ------------------------------------------------------------------------

#[test]
fn parallel_branch_count_and_shape() {
    let branch = "{StartAt: X, States: [{Type: Pass, Name: X, End: true}]}";
    let par = |b: &str| {
        sm(&format!(
            "[{{Type: Parallel, Name: A, End: true, Branches: [{b}]}}]"
        ))
    };
    fails(
        &sm("[{Type: Parallel, Name: A, End: true}]"),
        "f",
        "States[0].Branches",
        "is required",
    );
    fails(
        &par(""),
        "f",
        "States[0].Branches",
        "between 1 and 50 branches, got 0",
    );
    fails(
        &par(&vec![branch; 51].join(", ")),
        "f",
        "States[0].Branches",
        "got 51",
    );
    ok(&par(&vec![branch; 50].join(", ")), "f");
    fails(
        &par(&format!(
            "{branch}, {{States: [{{Type: Pass, Name: X, End: true}}]}}"
        )),
        "f",
        "States[0].Branches[1].StartAt",
        "is required",
    );
    fails(
        &par("{StartAt: X}"),
        "f",
        "States[0].Branches[0].States",
        "is required",
    );
}

#[test]
fn map_needs_items_path_and_processor() {
    let processor = "Processor: {StartAt: X, States: [{Type: Pass, Name: X, End: true}]}";
    fails(
        &sm(&format!("[{{Type: Map, Name: A, End: true, {processor}}}]")),
        "f",
        "States[0].ItemsPath",
        "is required",
    );
    fails(
        &sm("[{Type: Map, Name: A, End: true, ItemsPath: '$Input.a'}]"),
        "f",
        "States[0].Processor",
        "is required",
    );
    fails(
        &sm("[{Type: Map, Name: A, End: true, ItemsPath: '$Input.a', Processor: {StartAt: X}}]"),
        "f",
        "States[0].Processor.States",
        "is required",
    );
    fails(
        &sm(
            "[{Type: Map, Name: A, End: true, ItemsPath: '$Input.a', Processor: {States: [{Type: Pass, Name: X, End: true}]}}]",
        ),
        "f",
        "States[0].Processor.StartAt",
        "is required",
    );
}

#[test]
fn distributed_map_fields() {
    let map = |extra: &str| {
        sm(&format!(
            "[{{Type: Map, Name: A, End: true, ItemsPath: '$Input.a', Processor: {{StartAt: X, States: [{{Type: Pass, Name: X, End: true}}]}}, {extra}}}]"
        ))
    };
    let distributed = |extra: &str| match ok(&map(extra), "f").root.states.remove(0).kind {
        StateKind::Map(spec) => spec.distributed,
        other => panic!("{other:?}"),
    };
    // docs/COMPATIBILITY.md#distributed-map: the mode is named, or switched on by `ExecutionMode: Express` (older pages).
    assert!(distributed("ProcessorConfig: {Mode: Distributed}").is_some());
    assert!(distributed("ProcessorConfig: {ExecutionMode: Express}").is_some());
    assert!(distributed("ProcessorConfig: {Mode: Inline}").is_none());
    let spec = distributed(
        "ProcessorConfig: {Mode: Distributed}, MaxItems: 5, ToleratedFailureCount: 2, \
         ToleratedFailurePercentage: 12.5, ItemBatcher: {MaxItemsPerBatch: 3}, \
         ItemConstructor: {v.$: $Item}",
    )
    .unwrap();
    assert_eq!(spec.max_items, Some(5));
    assert_eq!(spec.tolerated_failure_count, Some(2));
    assert_eq!(spec.tolerated_failure_percentage, Some(12.5));
    assert_eq!(spec.batch_size, Some(3));
    assert!(spec.item_constructor.is_some());
    // The child runs the Processor as a state machine of the same flow.
    let child: serde_json::Value = serde_json::from_str(&spec.child_definition).unwrap();
    assert_eq!(child["Name"], "f");
    assert_eq!(child["StartAt"], "X");
    // Reading or writing object storage is not supported.
    for field in ["ItemReader: {}", "ResultWriter: {}"] {
        let key = field.split(':').next().unwrap_or_default();
        fails(
            &map(&format!("ProcessorConfig: {{Mode: Distributed}}, {field}")),
            "f",
            &format!("States[0].{key}"),
            "is not supported",
        );
    }
    // Distributed-only fields need distributed mode.
    for field in [
        "ItemBatcher: {MaxItemsPerBatch: 2}",
        "ItemConstructor: {}",
        "MaxItems: 5",
        "ToleratedFailurePercentage: 5",
        "ToleratedFailureCount: 5",
    ] {
        let key = field.split(':').next().unwrap_or_default();
        fails(
            &map(field),
            "f",
            &format!("States[0].{key}"),
            "distributed mode",
        );
    }
    fails(
        &map("ProcessorConfig: {Mode: Distributed}, ItemBatcher: {MaxInputBytesPerBatch: 10}"),
        "f",
        "States[0].ItemBatcher.MaxInputBytesPerBatch",
        "is not supported",
    );
    fails(
        &map("ProcessorConfig: {Mode: Distributed}, ToleratedFailurePercentage: 101"),
        "f",
        "States[0].ToleratedFailurePercentage",
        "between 0 and 100",
    );
    fails(
        &map("ProcessorConfig: {Mode: Sideways}"),
        "f",
        "States[0].ProcessorConfig.Mode",
        "Inline or Distributed",
    );
}

#[test]
fn map_concurrency() {
    let map = |extra: &str| {
        sm(&format!(
            "[{{Type: Map, Name: A, End: true, ItemsPath: '$Input.a', Processor: {{StartAt: X, States: [{{Type: Pass, Name: X, End: true}}]}}, {extra}}}]"
        ))
    };
    let concurrency = |extra: &str| match ok(&map(extra), "f").root.states.remove(0).kind {
        StateKind::Map(m) => m.max_concurrency,
        other => panic!("{other:?}"),
    };
    assert_eq!(concurrency("MaxConcurrency: 0"), 40);
    assert_eq!(concurrency("MaxConcurrency: 5"), 5);
    assert_eq!(concurrency("MaxConcurrency: 1000"), 40);
    assert_eq!(concurrency("MaxConcuccency: 7"), 7);
    fails(
        &map("MaxConcurrency: -1"),
        "f",
        "States[0].MaxConcurrency",
        "non-negative integer",
    );
    fails(
        &map("MaxConcuccency: 2.5"),
        "f",
        "States[0].MaxConcuccency",
        "got 2.5",
    );
}

// --- constructors ---------------------------------------------------------------------------

#[test]
fn dollar_keys_need_string_values() {
    fails(
        &task(&format!(
            "{FC}, Parameters: {{resourceArn: a, invocationType: Sync, body: {{who.$: 5}}}}"
        )),
        "f",
        "States[0].Parameters.body.who.$",
        "must be a string expression",
    );
    fails(
        &sm("[{Type: Pass, Name: A, End: true, InputConstructor: {list: [1, {x.$: [1]}]}}]"),
        "f",
        "States[0].InputConstructor.list[1].x.$",
        "must be a string expression",
    );
    fails(
        &sm("[{Type: Pass, Name: A, End: true, OutputConstructor: [1]}]"),
        "f",
        "States[0].OutputConstructor",
        "must be a mapping",
    );
    let def = ok(
        &sm(
            "[{Type: Pass, Name: A, End: true, InputConstructor: {list: [1, {x.$: '$Input.x'}], plain: '$Input.y'}}]",
        ),
        "f",
    );
    let crate::engine::ir::DataFlow::StateMachine {
        input_constructor: Some(ctor),
        ..
    } = &def.root.states[0].data
    else {
        panic!()
    };
    let crate::engine::ir::Template::Array(items) = tfield(ctor, "list") else {
        panic!()
    };
    assert_eq!(super::texpr(tfield(&items[1], "x")), "$Input.x");
    assert_eq!(tliteral(tfield(ctor, "plain")), &json!("$Input.y"));
}

#[test]
fn constructor_expressions_must_parse_with_allowed_roots() {
    fails(
        &sm("[{Type: Pass, Name: A, End: true, InputConstructor: {a.$: '$Input.('}}]"),
        "f",
        "States[0].InputConstructor.a.$",
        "is not a valid expression",
    );
    fails(
        &sm("[{Type: Pass, Name: A, End: true, InputConstructor: {a.$: '$Output.x'}}]"),
        "f",
        "States[0].InputConstructor.a.$",
        "may not use $Output",
    );
    fails(
        &sm("[{Type: Pass, Name: A, End: true, InputConstructor: {a.$: '$input.x'}}]"),
        "f",
        "States[0].InputConstructor.a.$",
        "may not use $input",
    );
    fails(
        &task(&format!(
            "{FC}, Parameters: {{resourceArn: a, invocationType: Sync, body: {{who.$: '$Output.x'}}}}"
        )),
        "f",
        "States[0].Parameters.body.who.$",
        "may not use $Output",
    );
    fails(
        &sm(
            "[{Type: Map, Name: A, End: true, ItemsPath: '$Output.a', Processor: {StartAt: X, States: [{Type: Pass, Name: X, End: true}]}}]",
        ),
        "f",
        "States[0].ItemsPath",
        "may not use $Output",
    );
    fails(
        &sm("[{Type: Wait, Name: A, End: true, Seconds.$: 'nosuchfn($Input.a)'}]"),
        "f",
        "States[0].Seconds.$",
        "is not a valid expression",
    );
    // $Output is fine in output and global constructors, and in Catch OutputConstructor.
    ok(
        &sm(
            "[{Type: Pass, Name: A, End: true, OutputConstructor: {a.$: '$Output.x'}, GlobalConstructor: {b.$: '$Output.y'}}]",
        ),
        "f",
    );
}

// --- Retry / Catch ---------------------------------------------------------------------------

fn with_rule(field: &str, rule: &str) -> String {
    task(&format!("{FC}, {FC_PARAMS}, {field}: [{rule}]"))
}

#[test]
fn retry_rule_fields() {
    fails(
        &with_rule("Retry", "{MaxAttempts: 1, IntervalSeconds: 1}"),
        "f",
        "States[0].Retry[0].Errors",
        "is required",
    );
    fails(
        &with_rule("Retry", "{Errors: [], MaxAttempts: 1, IntervalSeconds: 1}"),
        "f",
        "States[0].Retry[0].Errors",
        "must not be empty",
    );
    fails(
        &with_rule("Retry", "{Errors: [E], IntervalSeconds: 1}"),
        "f",
        "States[0].Retry[0].MaxAttempts",
        "is required",
    );
    fails(
        &with_rule("Retry", "{Errors: [E], MaxAttempts: 1}"),
        "f",
        "States[0].Retry[0].IntervalSeconds",
        "is required",
    );
    let cases = [
        (
            "MaxAttempts: -1, IntervalSeconds: 1",
            "MaxAttempts",
            "got -1",
        ),
        (
            "MaxAttempts: 1, IntervalSeconds: 0",
            "IntervalSeconds",
            "between 1 and 86400, got 0",
        ),
        (
            "MaxAttempts: 1, IntervalSeconds: 86401",
            "IntervalSeconds",
            "got 86401",
        ),
        (
            "MaxAttempts: 1, IntervalSeconds: 1, BackoffRate: 0.5",
            "BackoffRate",
            "at least 1, got 0.5",
        ),
        (
            "MaxAttempts: 1, IntervalSeconds: 1, MaxBackoffSeconds: 86401",
            "MaxBackoffSeconds",
            "got 86401",
        ),
    ];
    for (fields, key, reason) in cases {
        fails(
            &with_rule("Retry", &format!("{{Errors: [E], {fields}}}")),
            "f",
            &format!("States[0].Retry[0].{key}"),
            reason,
        );
    }
    let def = ok(
        &with_rule(
            "Retry",
            "{Errors: [E], MaxAttempts: 0, IntervalSeconds: 3, BackoffRate: 1.5, MaxBackoffSeconds: 9}",
        ),
        "f",
    );
    let r = &def.root.states[0].retry[0];
    assert_eq!(
        (
            r.max_attempts,
            r.interval_seconds,
            r.backoff_rate,
            r.max_interval_seconds
        ),
        (0, 3.0, 1.5, 9.0)
    );
}

#[test]
fn catch_rule_fields() {
    fails(
        &with_rule("Catch", "{Next: B}"),
        "f",
        "States[0].Catch[0].Errors",
        "is required",
    );
    fails(
        &with_rule("Catch", "{Errors: [E]}"),
        "f",
        "States[0].Catch[0].Next",
        "is required",
    );
    fails(
        &with_rule("Catch", "{Errors: [E], Next: Z}"),
        "f",
        "States[0].Catch[0].Next",
        "names no state 'Z'",
    );
    fails(
        &with_rule(
            "Catch",
            "{Errors: [E], Next: B, OutputConstructor: {a.$: 1}}",
        ),
        "f",
        "States[0].Catch[0].OutputConstructor.a.$",
        "must be a string expression",
    );
}

#[test]
fn retry_and_catch_only_on_task_parallel_map() {
    fails(
        &sm("[{Type: Pass, Name: A, End: true, Retry: []}]"),
        "f",
        "States[0].Retry",
        "is not allowed on a Pass state",
    );
    fails(
        &sm("[{Type: Wait, Name: A, End: true, Seconds: 1, Catch: []}]"),
        "f",
        "States[0].Catch",
        "is not allowed on a Wait state",
    );
    fails(
        &sm(
            "[{Type: Choice, Name: A, Branches: [{Condition: '$Input.a', Next: A}], Default: A, Catch: [{Errors: [E], Next: A}]}]",
        ),
        "f",
        "States[0].Catch",
        "is not allowed on a Choice state",
    );
    ok(
        &sm(
            "[{Type: Parallel, Name: A, End: true, Branches: [{StartAt: X, States: [{Type: Pass, Name: X, End: true}]}], Retry: [{Errors: [E], MaxAttempts: 1, IntervalSeconds: 1}], Catch: [{Errors: [E], Next: A}]}]",
        ),
        "f",
    );
}

// --- nesting -------------------------------------------------------------------------------

fn nested_maps(levels: usize) -> String {
    let mut scope = "{StartAt: X, States: [{Type: Pass, Name: X, End: true}]}".to_string();
    for _ in 0..levels {
        scope = format!(
            "{{StartAt: M, States: [{{Type: Map, Name: M, End: true, ItemsPath: '$Input.a', Processor: {scope}}}]}}"
        );
    }
    // The outermost scope is the document itself.
    let inner = scope
        .strip_prefix("{StartAt: M, States: ")
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or_default()
        .to_string();
    sm(&inner).replace("StartAt: A", "StartAt: M")
}

#[test]
fn nesting_deeper_than_32_is_rejected() {
    ok(&nested_maps(32), "f");
    let expected = format!("{}States[0].Processor", "States[0].Processor.".repeat(32));
    fails(
        &nested_maps(33),
        "f",
        &expected,
        "nesting is deeper than 32 levels",
    );
}

// --- Regular expressions -------------------------------------------------------------------

/// A Choice whose branches test `patterns` in turn.
fn regex_choice(patterns: impl Iterator<Item = String>) -> String {
    let branches: Vec<String> = patterns
        .map(|p| format!("{{Condition: 'regexMatchString(\"{p}\", $Input.s)', Next: B}}"))
        .collect();
    sm(&format!(
        "[{{Type: Choice, Name: A, Branches: [{}], Default: B}}, {{Type: Pass, Name: B, End: true}}]",
        branches.join(", ")
    ))
}

#[test]
fn the_patterns_of_one_definition_share_a_compile_budget() {
    // Each is well within the limit of one pattern; together they are not.
    let heavy = regex_choice((0..64).map(|i| format!("\\\\w{{{}}}", 8 + i % 4)));
    let error = parse_as(&heavy, "f", false).unwrap_err();
    assert!(
        error
            .reason
            .contains("the regular expressions of this definition are too large together"),
        "{error}"
    );
    // Many ordinary patterns fit, and every definition starts with the whole budget.
    let ordinary = regex_choice((0..64).map(|i| format!("^order-{i}-[0-9]+$")));
    ok(&ordinary, "f");
    ok(&ordinary, "f");
    ok(&regex_choice(std::iter::once("\\\\w{10}".to_string())), "f");
}
