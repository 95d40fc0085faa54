//! Parsing and validating flow definitions (docs/COMPATIBILITY.md#definitions, docs/COMPATIBILITY.md#validation) into the IR.
//!
//! API CONTRACT:
//! * `parse_definition(text, options)` detects the language (docs/COMPATIBILITY.md#documents: `Type: StateMachine` → state
//!   machine, `type: flow` → FDL, anything else rejected), parses YAML (JSON is YAML), validates
//!   every rule of docs/COMPATIBILITY.md#validation / docs/COMPATIBILITY.md#validation and returns the IR, or the first problem as a `DefinitionError`
//!   whose `path` names the place in the document (e.g. `steps[2].choices[0].goto`,
//!   `States[1].Branches[0].Next`) and whose `reason` says what is wrong.

mod common;
mod fdl;
mod fdl_task;
mod sm_task;
mod state_machine;
#[cfg(test)]
mod tests;
pub mod yaml;

use serde_json::Value;

use super::ir::FlowDefinition;
use common::{err, show};

/// What the parser needs to know about the flow being created or updated.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions<'a> {
    /// The API's flow `Name`; a `name` / `Name` inside the definition must equal it (docs/COMPATIBILITY.md#q29).
    pub flow_name: &'a str,
    /// The flow's `ExecutionMode` is `Express` (state machine Wait is then limited to 1–20 s).
    pub express: bool,
}

/// A definition problem, reported as `InvalidArgument` naming `Definition`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct DefinitionError {
    /// Where in the document; empty for the document itself.
    pub path: String,
    pub reason: String,
}

/// Parses a stored definition (or any text) into the IR.
pub fn parse_definition(
    text: &str,
    options: &ParseOptions<'_>,
) -> Result<FlowDefinition, DefinitionError> {
    parse(text, options, None)
}

/// Parses a definition being created or updated at `now_ms`. On top of every rule of
/// [`parse_definition`], constants are checked against that moment and against limits that
/// only new definitions are held to (an FDL wait `timestamp` at most 2 days ahead, FDL
/// timeouts within the one-year execution limit), so that loading a stored definition
/// again never fails for them.
pub fn parse_new_definition(
    text: &str,
    options: &ParseOptions<'_>,
    now_ms: i64,
) -> Result<FlowDefinition, DefinitionError> {
    parse(text, options, Some(now_ms))
}

fn parse(
    text: &str,
    options: &ParseOptions<'_>,
    created_at: Option<i64>,
) -> Result<FlowDefinition, DefinitionError> {
    // The literal regular expressions of one definition share a compile budget.
    crate::engine::expr::with_regex_budget(|| parse_document(text, options, created_at))
}

fn parse_document(
    text: &str,
    options: &ParseOptions<'_>,
    created_at: Option<i64>,
) -> Result<FlowDefinition, DefinitionError> {
    // The loader caps nesting at 128 levels, which also bounds every recursion below.
    let doc: Value = yaml::load(text)?;
    let Value::Object(map) = &doc else {
        return Err(err("", "the definition must be a mapping"));
    };
    reject_nul(&doc, "")?;
    // docs/COMPATIBILITY.md#documents (docs/COMPATIBILITY.md#q1): the language is named by the top-level mapping.
    let is = |key: &str, expected: &str| map.get(key).and_then(Value::as_str) == Some(expected);
    if is("Type", "StateMachine") {
        state_machine::parse(map, options)
    } else if is("type", "flow") {
        fdl::parse(map, options, created_at)
    } else if let Some(other) = map.get("Type") {
        Err(err(
            "Type",
            format!("must be 'StateMachine', got {}", show(other)),
        ))
    } else if let Some(other) = map.get("type") {
        Err(err("type", format!("must be 'flow', got {}", show(other))))
    } else {
        Err(err(
            "",
            "is neither a state machine ('Type: StateMachine') nor an FDL flow ('type: flow')",
        ))
    }
}

/// A YAML escape (`"a\0b"`) can put U+0000 in a name, an error or a value; Postgres text
/// cannot hold it, so an execution naming such a state could never record its history.
fn reject_nul(value: &Value, path: &str) -> Result<(), DefinitionError> {
    const REASON: &str = "must not contain the character U+0000";
    match value {
        Value::String(text) if text.contains('\0') => Err(err(path, REASON)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(index, item)| reject_nul(item, &format!("{path}[{index}]"))),
        Value::Object(members) => members.iter().try_for_each(|(key, member)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                return Err(err(path, REASON));
            }
            reject_nul(member, &path)
        }),
        _ => Ok(()),
    }
}
