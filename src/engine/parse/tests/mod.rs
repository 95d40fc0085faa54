//! Tests of the definition parser: the worked examples (tests/common/definitions.rs) as positive
//! fixtures, one negative test per validation rule (docs/COMPATIBILITY.md#validation), and robustness.

mod fdl;
mod fdl_rules;
mod fdl_rules_bodies;
mod state_machine;
mod state_machine_rules;
mod state_machine_rules_more;

use serde_json::Value;

use super::{DefinitionError, ParseOptions, parse_definition};
use crate::engine::ir::{FlowDefinition, Source, State, StateKind, TaskSpec, Template};

pub(super) fn parse_as(
    text: &str,
    flow: &str,
    express: bool,
) -> Result<FlowDefinition, DefinitionError> {
    parse_definition(
        text,
        &ParseOptions {
            flow_name: flow,
            express,
        },
    )
}

/// Parses a definition that must be valid.
pub(super) fn ok(text: &str, flow: &str) -> FlowDefinition {
    match parse_as(text, flow, false) {
        Ok(def) => def,
        Err(e) => panic!("expected a valid definition, got {e}"),
    }
}

/// Asserts that parsing fails at `path` with a reason containing `reason`.
#[track_caller]
pub(super) fn fails(text: &str, flow: &str, path: &str, reason: &str) {
    fails_with(parse_as(text, flow, false), path, reason);
}

#[track_caller]
pub(super) fn fails_with(
    result: Result<FlowDefinition, DefinitionError>,
    path: &str,
    reason: &str,
) {
    match result {
        Ok(_) => panic!("expected an error at {path:?}, the definition was accepted"),
        Err(e) => {
            assert_eq!(e.path, path, "wrong path; error was {e:?}");
            assert!(
                e.reason.contains(reason),
                "reason {:?} does not contain {reason:?}",
                e.reason
            );
        }
    }
}

/// The source text of an expression source, or the constant.
pub(super) fn expr_src(source: &Source) -> &str {
    match source {
        Source::Expr(e) => e.source(),
        Source::Const(v) => panic!("expected an expression, got constant {v}"),
    }
}

pub(super) fn constant(source: &Source) -> &Value {
    match source {
        Source::Const(v) => v,
        Source::Expr(e) => panic!("expected a constant, got expression {}", e.source()),
    }
}

/// A field of an object template.
pub(super) fn tfield<'a>(template: &'a Template, key: &str) -> &'a Template {
    match template {
        Template::Object(fields) => fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("no field {key:?} in {template:?}")),
        other => panic!("expected an object template, got {other:?}"),
    }
}

pub(super) fn tkeys(template: &Template) -> Vec<&str> {
    match template {
        Template::Object(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
        other => panic!("expected an object template, got {other:?}"),
    }
}

pub(super) fn texpr(template: &Template) -> &str {
    match template {
        Template::Expr(e) => e.source(),
        other => panic!("expected an expression template, got {other:?}"),
    }
}

pub(super) fn tliteral(template: &Template) -> &Value {
    match template {
        Template::Literal(v) => v,
        other => panic!("expected a literal template, got {other:?}"),
    }
}

pub(super) fn names(states: &[State]) -> Vec<&str> {
    states.iter().map(|s| s.name.as_str()).collect()
}

// -----------------------------------------------------------------------------------------
// Document builders (flow-style YAML keeps the negative tests short)
// -----------------------------------------------------------------------------------------

/// A flow with the given `steps`.
pub(super) fn flow(steps: &str) -> String {
    format!("version: v1\ntype: flow\nsteps: {steps}\n")
}

/// A state machine named `f` starting at `A` with the given `States` (flow-style YAML).
pub(super) fn sm(states: &str) -> String {
    format!("Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: A\nStates: {states}\n")
}

pub(super) fn task_of(def: FlowDefinition) -> TaskSpec {
    match def.root.states.into_iter().next().map(|s| s.kind) {
        Some(StateKind::Task(t)) => t,
        other => panic!("{other:?}"),
    }
}

/// A Task state `A` with the given extra fields.
pub(super) fn task(fields: &str) -> String {
    sm(&format!(
        "[{{Type: Task, Name: A, End: true, {fields}}}, {{Type: Pass, Name: B, End: true}}]"
    ))
}

pub(super) const FC: &str = "Action: 'FC:InvokeFunction'";
pub(super) const FC_PARAMS: &str =
    "Parameters: {resourceArn: 'acs:fc:::functions/f', invocationType: Sync}";

// -----------------------------------------------------------------------------------------
// Document level (docs/COMPATIBILITY.md#documents)
// -----------------------------------------------------------------------------------------

#[test]
fn yaml_syntax_error_is_reported_at_the_document() {
    let e = parse_as("steps: [unclosed", "f", false).unwrap_err();
    assert_eq!(e.path, "");
    assert!(!e.reason.is_empty());
}

#[test]
fn non_mapping_documents_are_rejected() {
    for text in ["", "- a\n- b", "42", "just text", "null"] {
        fails(text, "f", "", "");
    }
    fails("[1, 2]", "f", "", "must be a mapping");
}

#[test]
fn unknown_language_is_rejected() {
    fails("version: v1\nsteps: []", "f", "", "neither a state machine");
    fails(
        "Type: Statemachine\nName: f",
        "f",
        "Type",
        "must be 'StateMachine'",
    );
    fails("type: Flow\nversion: v1", "f", "type", "must be 'flow'");
}

#[test]
fn json_definitions_are_accepted() {
    let def = ok(
        r#"{"version": "v1", "type": "flow", "steps": [{"type": "pass", "name": "p"}]}"#,
        "f",
    );
    assert_eq!(names(&def.root.states), ["p"]);
}

// -----------------------------------------------------------------------------------------
// Robustness: the parser never panics and never overflows the stack.
// -----------------------------------------------------------------------------------------

#[test]
fn deep_yaml_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 5000;
    let list = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let text = format!(
        "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n    outputMappings:\n      - target: x\n        source: {list}\n"
    );
    assert!(parse_as(&text, "f", false).is_err());
    let map = format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth));
    let text = format!("Type: StateMachine\nName: f\nInputConstructor: {map}\n");
    assert!(parse_as(&text, "f", false).is_err());
    let block: String = (0..depth)
        .map(|i| format!("{}- \n", "  ".repeat(i)))
        .collect();
    assert!(parse_as(&block, "f", false).is_err());
}

#[test]
fn deep_nesting_within_the_loader_limit_parses_or_fails_cleanly() {
    // 60 levels of `.$`-free maps inside a constructor: within the loader's limit.
    let depth = 60;
    let map = format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth));
    let text = format!(
        "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    End: true\n    InputConstructor: {map}\n"
    );
    ok(&text, "f");
}

#[test]
fn alias_bombs_do_not_hang() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text.push_str("type: flow\nversion: v1\nsteps: []\n");
    assert!(parse_as(&text, "f", false).is_err());
}

/// A tiny deterministic generator, so the mutation test is reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub(super) const ALL_FIXTURES: &[(&str, &str)] = &[
    ("f", include_str!("../fixtures/fdl-01.yaml")),
    ("f", include_str!("../fixtures/fdl-04.yaml")),
    ("f", include_str!("../fixtures/fdl-06.yaml")),
    ("f", include_str!("../fixtures/fdl-07.yaml")),
    ("f", include_str!("../fixtures/fdl-13.yaml")),
    ("f", include_str!("../fixtures/fdl-19.yaml")),
    ("cf-constructors", include_str!("../fixtures/cf-03.yaml")),
    ("cf-choice", include_str!("../fixtures/cf-04.yaml")),
    ("cf-parallel", include_str!("../fixtures/cf-05.yaml")),
    ("cf-retry-catch", include_str!("../fixtures/cf-11.yaml")),
    ("cf-map-catch", include_str!("../fixtures/cf-14.yaml")),
];

#[test]
fn mutated_fixtures_never_panic() {
    const ALPHABET: &[u8] = b" \n\t:-[]{}\"'$.&*!|>#?,0123456789aZ";
    let mut rng = Lcg(0x5eed);
    for (flow, fixture) in ALL_FIXTURES {
        let bytes = fixture.as_bytes();
        for _ in 0..300 {
            let mut text = bytes.to_vec();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(text.len());
                match rng.below(4) {
                    0 => text[at] = ALPHABET[rng.below(ALPHABET.len())],
                    1 => {
                        text.remove(at);
                    }
                    2 => text.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                    _ => text.truncate(at),
                }
                if text.is_empty() {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&text);
            let _ = parse_as(&text, flow, rng.below(2) == 0);
        }
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = Lcg(42);
    for _ in 0..500 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        let _ = parse_as(&String::from_utf8_lossy(&bytes), "f", false);
    }
    // Odd but well-formed YAML values in every position of a step.
    for odd in [
        "~",
        "[]",
        "{}",
        "-1",
        "1.5",
        "1e400",
        ".nan",
        ".inf",
        "true",
        "!!binary aGk=",
        "18446744073709551616",
    ] {
        for key in [
            "name",
            "type",
            "steps",
            "end",
            "choices",
            "duration",
            "resourceArn",
            "retry",
        ] {
            let text = format!(
                "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: t\n    {key}: {odd}\n"
            );
            let _ = parse_as(&text, "f", false);
        }
        for key in [
            "Name",
            "Type",
            "Next",
            "End",
            "Parameters",
            "Seconds",
            "Retry",
            "Timeout",
            "Branches",
        ] {
            let text = format!(
                "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: A\nStates:\n  - Type: Task\n    Name: A\n    {key}: {odd}\n"
            );
            let _ = parse_as(&text, "f", false);
        }
    }
}

#[test]
fn nul_characters_from_yaml_escapes_are_refused_where_they_are() {
    fails(
        "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: \"a\\0b\"\nStates:\n  - Type: Pass\n    Name: \"a\\0b\"\n    End: true\n",
        "f",
        "StartAt",
        "U+0000",
    );
    fails(
        "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: S\nStates:\n  - Type: Fail\n    Name: S\n    Error: \"E\\0\"\n",
        "f",
        "States[0].Error",
        "U+0000",
    );
    fails(
        "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n    \"k\\0\": 1\n",
        "f",
        "steps[0].k\0",
        "U+0000",
    );
}
