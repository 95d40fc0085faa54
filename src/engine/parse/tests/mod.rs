//! Tests of the definition parser: the worked examples of definitions.md as positive
//! fixtures.

mod fdl;
mod state_machine;

use serde_json::Value;

use super::{DefinitionError, ParseOptions, parse_definition};
use crate::engine::ir::{FlowDefinition, Source, State, Template};

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
