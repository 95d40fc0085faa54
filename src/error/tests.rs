//! The catalogue against its documentation, and store failures keeping their cause.

use std::collections::BTreeSet;

use super::*;

#[test]
fn a_store_failure_keeps_the_driver_error_as_its_cause() {
    let answer = ApiError::from(StoreError::from(sqlx::Error::PoolTimedOut));
    assert_eq!(answer.code, ErrorCode::ServiceUnavailable);
    assert_eq!(
        error_chain(&answer),
        format!(
            "{}: store unavailable: the database cannot be reached: {}",
            ApiError::service_unavailable(),
            sqlx::Error::PoolTimedOut
        )
    );
    let answer = ApiError::from(StoreError::from(sqlx::Error::RowNotFound));
    assert_eq!(answer.code, ErrorCode::InternalServerError);
    let store_error = std::error::Error::source(&answer).expect("the store failure");
    let driver_error = store_error.source().expect("the driver's error");
    assert_eq!(
        driver_error.to_string(),
        sqlx::Error::RowNotFound.to_string()
    );
}

#[test]
fn a_store_failure_without_a_driver_error_ends_the_chain() {
    let answer = ApiError::from(StoreError::internal("no write result"));
    assert_eq!(
        error_chain(&answer),
        format!("{}: store failure: no write result", ApiError::internal())
    );
}

/// The rows of docs/COMPATIBILITY.md's error catalogue: (status, code).
fn documented_catalogue(doc: &str) -> Vec<(u16, String)> {
    let section = doc
        .split("## Error catalogue")
        .nth(1)
        .expect("an error catalogue section");
    let table = section.split("### ").next().unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).skip(1);
            let status = cells.next()?.parse().ok()?;
            let code = cells.next()?.split('`').nth(1)?.to_string();
            Some((status, code))
        })
        .collect()
}

#[test]
fn the_documented_catalogue_lists_exactly_the_codes_of_the_table() {
    let doc = include_str!("../../docs/COMPATIBILITY.md");
    let rows = documented_catalogue(doc);
    for (status, code) in &rows {
        let known = ErrorCode::parse(code)
            .unwrap_or_else(|| panic!("COMPATIBILITY.md lists {code}, not an ErrorCode"));
        assert_eq!(known.status().as_u16(), *status, "COMPATIBILITY.md: {code}");
    }
    let documented: BTreeSet<&str> = rows.iter().map(|(_, code)| code.as_str()).collect();
    let catalogue: BTreeSet<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    assert_eq!(
        documented, catalogue,
        "COMPATIBILITY.md's catalogue vs. ErrorCode::ALL"
    );
}

#[test]
fn the_documented_common_codes_are_those_any_request_can_answer() {
    let doc = include_str!("../../docs/COMPATIBILITY.md");
    let paragraph = doc
        .split("Every action can also answer the common codes:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the common codes of the errors per action");
    let documented: BTreeSet<&str> = paragraph.split('`').skip(1).step_by(2).collect();
    let common: BTreeSet<&str> = ErrorCode::ALL
        .iter()
        .filter(|code| code.scope() != Scope::SomeActions)
        .map(|code| code.as_str())
        .collect();
    assert_eq!(documented, common);
}
