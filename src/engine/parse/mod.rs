//! Parsing and validating flow definitions (definitions.md §0, §I.9, §II.8) into the IR.
//!
//! API CONTRACT:
//! * `parse_definition(text, options)` detects the language (§0: `Type: StateMachine` → state
//!   machine, `type: flow` → FDL, anything else rejected), parses YAML (JSON is YAML), validates
//!   every rule of §I.9 / §II.8 and returns the IR, or the first problem as a `DefinitionError`
//!   whose `path` names the place in the document (e.g. `steps[2].choices[0].goto`,
//!   `States[1].Branches[0].Next`) and whose `reason` says what is wrong.

mod common;
mod fdl;
mod fdl_task;
mod sm_task;
mod state_machine;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::ir::FlowDefinition;
use common::{err, show};

/// What the parser needs to know about the flow being created or updated.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions<'a> {
    /// The API's flow `Name`; a `name` / `Name` inside the definition must equal it (Q29).
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

pub fn parse_definition(
    text: &str,
    options: &ParseOptions<'_>,
) -> Result<FlowDefinition, DefinitionError> {
    // The loader caps nesting at 128 levels, which also bounds every recursion below.
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| err("", e.to_string()))?;
    let Value::Object(map) = &doc else {
        return Err(err("", "the definition must be a mapping"));
    };
    // §0 (Q1): the language is named by the top-level mapping.
    let is = |key: &str, expected: &str| map.get(key).and_then(Value::as_str) == Some(expected);
    if is("Type", "StateMachine") {
        state_machine::parse(map, options)
    } else if is("type", "flow") {
        fdl::parse(map, options)
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
