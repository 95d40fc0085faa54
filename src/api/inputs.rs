//! Checks of request values shared by several handlers: execution input and bounded text.

use serde_json::Value;

use super::Call;
use crate::error::{ApiError, EVENT_DATA_LIMIT};

/// Execution input: a JSON object of at most 32 KiB (docs/COMPATIBILITY.md#limits, docs/COMPATIBILITY.md#executions).
pub fn check_input(name: &str, input: &str) -> Result<(), ApiError> {
    if input.len() > EVENT_DATA_LIMIT {
        return Err(ApiError::entity_too_large(EVENT_DATA_LIMIT));
    }
    if input.is_empty() {
        return Ok(());
    }
    // Read with the limit every later reading of it applies.
    match crate::engine::json::parse_data(input) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(ApiError::invalid_argument(name, "must be a JSON object")),
        Err(error) => Err(ApiError::invalid_argument(
            name,
            format!("must be a JSON object: {error}"),
        )),
    }
}

/// An optional text parameter of 1 to `max` characters.
pub fn bounded(call: &Call<'_>, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    match call.params.get(name) {
        None => Ok(None),
        Some(value) if !value.is_empty() && value.chars().count() <= max => {
            Ok(Some(value.to_string()))
        }
        Some(value) => Err(ApiError::invalid_argument(
            name,
            format!(
                "must be between 1 and {max} characters long, got {}",
                value.chars().count()
            ),
        )),
    }
}
