//! Reading execution data back: an input, an output, a task's answer or report, a signal, an
//! execution state, whether stored or received. One depth limit applies everywhere, the one
//! the interpreter enforces on the data it produces (`limits::MAX_DATA_DEPTH`), so whatever
//! the engine may write it can read again — serde_json alone stops at 128 levels.
//!
//! The depth is measured on the text before parsing (without recursion), and parsing then
//! runs without serde_json's own limit: deep input is refused before it can exhaust the stack.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ir::limits;

/// Levels a stored document may add around the data it carries: an execution state nests up
/// to `MAX_NESTING` scopes of at most 8 levels each (scope, cursor, running state, its work,
/// branches, a branch…) plus a few at its root and around a state's data; a signal adds 3.
pub const MAX_ENVELOPE_DEPTH: usize = 8 * limits::MAX_NESTING + 16;

/// Why data could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("it is nested more than {0} levels deep")]
    TooDeep(usize),
    #[error("{0}")]
    Invalid(String),
}

/// Parses execution data: JSON nested at most `MAX_DATA_DEPTH` levels.
pub fn parse_data(text: &str) -> Result<Value, ReadError> {
    parse_bounded(text, limits::MAX_DATA_DEPTH)
}

/// Parses a stored document that carries execution data (a signal, an execution state): the
/// data's limit plus `MAX_ENVELOPE_DEPTH` levels of its own.
pub fn parse_document<T: DeserializeOwned>(text: &str) -> Result<T, ReadError> {
    parse_bounded(text, limits::MAX_DATA_DEPTH + MAX_ENVELOPE_DEPTH)
}

fn parse_bounded<T: DeserializeOwned>(text: &str, max_depth: usize) -> Result<T, ReadError> {
    if nesting_depth(text.as_bytes()) > max_depth {
        return Err(ReadError::TooDeep(max_depth));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = T::deserialize(&mut deserializer).map_err(|e| ReadError::Invalid(e.to_string()))?;
    deserializer
        .end()
        .map_err(|e| ReadError::Invalid(e.to_string()))?;
    Ok(value)
}

/// How deeply arrays and objects nest in JSON text (brackets inside strings do not count).
/// On text that is not JSON it measures something meaningless, and the parser then refuses it.
fn nesting_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::json_depth;

    fn nested(levels: usize) -> String {
        "[".repeat(levels) + &"]".repeat(levels)
    }

    #[test]
    fn depth_counts_brackets_outside_strings() {
        assert_eq!(nesting_depth(b"1"), 0);
        assert_eq!(nesting_depth(br#"{"a": [1, {"b": []}], "c": "[[[{"}"#), 4);
        assert_eq!(nesting_depth(br#"["\"[[", "\\", [[]]]"#), 3);
        let value: Value = serde_json::from_str(r#"{"a": [1, {"b": []}], "c": 2}"#).unwrap();
        assert_eq!(
            json_depth(&value),
            nesting_depth(value.to_string().as_bytes())
        );
    }

    #[test]
    fn data_as_deep_as_the_engine_allows_is_read() {
        let deepest = nested(limits::MAX_DATA_DEPTH);
        assert_eq!(
            json_depth(&parse_data(&deepest).unwrap()),
            limits::MAX_DATA_DEPTH
        );
        // serde_json alone stops at 128.
        assert!(serde_json::from_str::<Value>(&nested(130)).is_err());
        assert_eq!(
            parse_data(&nested(limits::MAX_DATA_DEPTH + 1)),
            Err(ReadError::TooDeep(limits::MAX_DATA_DEPTH))
        );
        assert!(matches!(parse_data("[1,"), Err(ReadError::Invalid(_))));
        assert!(matches!(parse_data("[] x"), Err(ReadError::Invalid(_))));
    }

    #[test]
    fn documents_carry_the_deepest_data_and_refuse_more_without_recursing() {
        let signal = format!(
            r#"{{"Callback":{{"entered_id":2,"attempt":1,"outcome":{{"Success":{}}}}}}}"#,
            nested(limits::MAX_DATA_DEPTH)
        );
        let payload: crate::engine::state::SignalPayload = parse_document(&signal).unwrap();
        assert!(matches!(
            payload,
            crate::engine::state::SignalPayload::Callback { .. }
        ));
        let limit = limits::MAX_DATA_DEPTH + MAX_ENVELOPE_DEPTH;
        assert_eq!(
            parse_document::<Value>(&nested(1_000_000)),
            Err(ReadError::TooDeep(limit))
        );
    }
}
