//! Parsing and validating flow definitions (definitions.md §0, §I.9, §II.8) into the IR.
//!
//! API CONTRACT:
//! * `parse_definition(text, options)` detects the language (§0: `Type: StateMachine` → state
//!   machine, `type: flow` → FDL, anything else rejected), parses YAML (JSON is YAML), validates
//!   every rule of §I.9 / §II.8 and returns the IR, or the first problem as a `DefinitionError`
//!   whose `path` names the place in the document (e.g. `steps[2].choices[0].goto`,
//!   `States[1].Branches[0].Next`) and whose `reason` says what is wrong.

use super::ir::FlowDefinition;

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
    _text: &str,
    _options: &ParseOptions<'_>,
) -> Result<FlowDefinition, DefinitionError> {
    todo!()
}
