//! `Qualifier` (docs/COMPATIBILITY.md#versions-and-aliases): which configuration of a flow an execution runs. Shared by
//! StartExecution and StartSyncExecution.

use rand::RngExt as _;

use super::Call;
use crate::error::ApiError;
use crate::store::{Flow, FlowVersion, Route};

/// What a qualifier resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The qualifier as given, for the execution to remember; `None` when absent or empty.
    pub qualifier: Option<String>,
    /// The version to run; `None` runs the flow's latest (unpublished) configuration.
    pub version: Option<FlowVersion>,
}

/// Resolves a qualifier: absent or empty → latest; an alias name (looked up first) → one of
/// its versions at random, by weight; a decimal number → that version. Not found →
/// `FlowVersionNotExists` for a decimal number, else `FlowAliasNotExists`.
pub async fn resolve_qualifier(
    call: &Call<'_>,
    flow: &Flow,
    qualifier: Option<&str>,
) -> Result<Resolved, ApiError> {
    let Some(qualifier) = qualifier.filter(|q| !q.is_empty()) else {
        return Ok(Resolved {
            qualifier: None,
            version: None,
        });
    };
    let store = &call.state.store;
    let version = if let Some(alias) = store.get_alias(&flow.id, qualifier).await? {
        let total: i64 = alias.routing.iter().map(|route| route.weight).sum();
        let roll = if total > 0 {
            rand::rng().random_range(0..total)
        } else {
            0
        };
        let Some(route) = pick_route(&alias.routing, roll) else {
            // Aliases are created with 1–2 routes; an empty one routes nowhere.
            return Err(ApiError::flow_alias_not_exists(qualifier, &flow.name));
        };
        // Versions an alias routes to cannot be deleted, so this finds one but in a race.
        store
            .get_version(&flow.id, route.version)
            .await?
            .ok_or_else(|| {
                ApiError::flow_version_not_exists(&route.version.to_string(), &flow.name)
            })?
    } else if is_decimal(qualifier) {
        let found = match version_number(qualifier) {
            Some(number) => store.get_version(&flow.id, number).await?,
            None => None,
        };
        found.ok_or_else(|| ApiError::flow_version_not_exists(qualifier, &flow.name))?
    } else {
        return Err(ApiError::flow_alias_not_exists(qualifier, &flow.name));
    };
    Ok(Resolved {
        qualifier: Some(qualifier.to_string()),
        version: Some(version),
    })
}

/// The route a roll in `0..sum(weights)` lands on: each route owns a span as wide as its
/// weight, so it is chosen with probability weight / sum.
pub fn pick_route(routing: &[Route], roll: i64) -> Option<&Route> {
    let mut end = 0;
    for route in routing {
        end += route.weight;
        if roll < end {
            return Some(route);
        }
    }
    // Only when every weight is 0 (validation forbids it): the first route.
    routing.first()
}

/// Non-empty and only ASCII digits.
pub fn is_decimal(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A version number written in decimal (`"3"`, `"003"`); `None` for anything else, or one too
/// large to be any version.
pub fn version_number(text: &str) -> Option<i64> {
    if is_decimal(text) {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(weights: &[(i64, i64)]) -> Vec<Route> {
        weights
            .iter()
            .map(|&(version, weight)| Route { version, weight })
            .collect()
    }

    #[test]
    fn each_route_owns_a_span_as_wide_as_its_weight() {
        let split = routes(&[(1, 80), (2, 20)]);
        assert_eq!(pick_route(&split, 0).map(|r| r.version), Some(1));
        assert_eq!(pick_route(&split, 79).map(|r| r.version), Some(1));
        assert_eq!(pick_route(&split, 80).map(|r| r.version), Some(2));
        assert_eq!(pick_route(&split, 99).map(|r| r.version), Some(2));
    }

    #[test]
    fn a_zero_weight_is_never_picked() {
        let first_only = routes(&[(1, 100), (2, 0)]);
        let second_only = routes(&[(1, 0), (2, 5)]);
        for roll in 0..100 {
            assert_eq!(pick_route(&first_only, roll).map(|r| r.version), Some(1));
        }
        for roll in 0..5 {
            assert_eq!(pick_route(&second_only, roll).map(|r| r.version), Some(2));
        }
        assert_eq!(pick_route(&[], 0), None);
    }

    #[test]
    fn version_numbers_are_decimal_text() {
        assert_eq!(version_number("3"), Some(3));
        assert_eq!(version_number("003"), Some(3));
        for text in ["", "-1", "+1", "1.0", " 1", "v1", "99999999999999999999"] {
            assert_eq!(version_number(text), None, "{text}");
        }
        assert!(is_decimal("99999999999999999999"));
        assert!(!is_decimal("1a"));
    }
}
