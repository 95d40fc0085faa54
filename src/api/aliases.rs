//! Flow alias actions (docs/COMPATIBILITY.md#versions-and-aliases, docs/COMPATIBILITY.md#versions-and-aliases): CreateFlowAlias, UpdateFlowAlias,
//! DescribeFlowAlias, ListFlowAliases, DeleteFlowAlias.

use serde::Serialize;
use serde_json::{Value, json};

use super::lookups::{find_flow, lookup_name};
use super::qualifier::{is_decimal, version_number};
use super::views::to_body;
use super::{ApiResult, Call};
use crate::error::ApiError;
use crate::names::{check_name, shorten};
use crate::store::{AliasOutcome, Flow, FlowAlias, Route};
use crate::time::{format_ms, now_ms};

/// Routing entries an alias may have (docs/COMPATIBILITY.md#versions-and-aliases).
const MAX_ROUTES: usize = 2;

/// One routing entry on the wire: `Version` a string, `Weight` an integer (docs/COMPATIBILITY.md#versions-and-aliases).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteView {
    version: String,
    weight: i64,
}

/// The `Alias` object of UpdateFlowAlias, DescribeFlowAlias and ListFlowAliases.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasView {
    name: String,
    description: String,
    /// Sent as a JSON string, returned as an array (docs/COMPATIBILITY.md#responses).
    routing_configurations: Vec<RouteView>,
    created_time: String,
}

impl From<&FlowAlias> for AliasView {
    fn from(alias: &FlowAlias) -> Self {
        AliasView {
            name: alias.name.clone(),
            description: alias.description.clone(),
            routing_configurations: alias
                .routing
                .iter()
                .map(|route| RouteView {
                    version: route.version.to_string(),
                    weight: route.weight,
                })
                .collect(),
            created_time: format_ms(alias.created_at),
        }
    }
}

/// CreateFlowAlias's answer: the alias's fields at the top level, with `FlowName`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreatedAliasView {
    flow_name: String,
    #[serde(flatten)]
    alias: AliasView,
}

/// CreateFlowAlias.
pub async fn create_flow_alias(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let flow_name = lookup_name(call, "FlowName")?;
    let name = params.required("Name")?;
    check_name(name).map_err(|reason| ApiError::invalid_argument("Name", reason))?;
    let description = params.get("Description").unwrap_or_default();
    let routing = routing(params.required("RoutingConfigurations")?)?;
    let flow = find_flow(call, flow_name).await?;
    let now = now_ms();
    let alias = FlowAlias {
        flow_id: flow.id.clone(),
        name: name.to_string(),
        description: description.to_string(),
        routing,
        created_at: now,
        modified_at: now,
        revision: 1,
    };
    let outcome = call.state.store.create_alias(&alias).await?;
    written(outcome, &flow, &alias)?;
    Ok(to_body(&CreatedAliasView {
        flow_name: flow.name.clone(),
        alias: AliasView::from(&alias),
    }))
}

/// UpdateFlowAlias: only the parameters present change; `RoutingConfigurations` replaces
/// the whole list, in the order given.
pub async fn update_flow_alias(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let flow_name = lookup_name(call, "FlowName")?;
    let name = lookup_name(call, "Name")?;
    // A present empty Description sets it to empty, as UpdateFlow does.
    let description = params.get("Description");
    let routing = params
        .optional("RoutingConfigurations")
        .map(routing)
        .transpose()?;
    let flow = find_flow(call, flow_name).await?;
    let mut alias = find_alias(call, &flow, name).await?;
    let expected_revision = alias.revision;
    if let Some(description) = description {
        alias.description = description.to_string();
    }
    if let Some(routing) = routing {
        alias.routing = routing;
    }
    alias.modified_at = now_ms().max(alias.modified_at + 1);
    alias.revision += 1;
    let outcome = call
        .state
        .store
        .update_alias(&alias, expected_revision)
        .await?;
    written(outcome, &flow, &alias)?;
    Ok(json!({ "Alias": to_body(&AliasView::from(&alias)) }))
}

/// DescribeFlowAlias.
pub async fn describe_flow_alias(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let name = lookup_name(call, "Name")?;
    let flow = find_flow(call, flow_name).await?;
    let alias = find_alias(call, &flow, name).await?;
    Ok(json!({ "Alias": to_body(&AliasView::from(&alias)) }))
}

/// ListFlowAliases: name ascending; `NextToken` is the next alias's name (docs/COMPATIBILITY.md#pagination).
pub async fn list_flow_aliases(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let limit = call.params.int("Limit", 1, 100)?.unwrap_or(60);
    let flow = find_flow(call, flow_name).await?;
    let mut aliases = call
        .state
        .store
        .list_aliases(&flow.id, call.params.optional("NextToken"), limit + 1)
        .await?;
    let next_token = (aliases.len() as i64 > limit).then(|| aliases.remove(limit as usize).name);
    let views: Vec<AliasView> = aliases.iter().map(AliasView::from).collect();
    let mut body = json!({ "Aliases": views });
    if let Some(token) = next_token {
        body["NextToken"] = Value::from(token);
    }
    Ok(body)
}

/// DeleteFlowAlias.
pub async fn delete_flow_alias(call: &Call<'_>) -> ApiResult {
    let flow_name = lookup_name(call, "FlowName")?;
    let name = lookup_name(call, "Name")?;
    let flow = find_flow(call, flow_name).await?;
    if call.state.store.delete_alias(&flow.id, name).await? {
        Ok(json!({}))
    } else {
        Err(ApiError::flow_alias_not_exists(name, &flow.name))
    }
}

async fn find_alias(call: &Call<'_>, flow: &Flow, name: &str) -> Result<FlowAlias, ApiError> {
    call.state
        .store
        .get_alias(&flow.id, name)
        .await?
        .ok_or_else(|| ApiError::flow_alias_not_exists(name, &flow.name))
}

/// The error, if any, of an alias write that did not happen.
fn written(outcome: AliasOutcome, flow: &Flow, alias: &FlowAlias) -> Result<(), ApiError> {
    match outcome {
        AliasOutcome::Written => Ok(()),
        AliasOutcome::AlreadyExists => {
            Err(ApiError::flow_alias_already_exists(&alias.name, &flow.name))
        }
        AliasOutcome::Conflict => Err(ApiError::concurrent_update()),
        AliasOutcome::MissingVersion(version) => Err(ApiError::flow_version_not_exists(
            &version.to_string(),
            &flow.name,
        )),
        AliasOutcome::FlowGone => Err(ApiError::flow_not_exists(&flow.name)),
    }
}

/// `RoutingConfigurations`: a JSON array of 1–2 `{"Version": "1", "Weight": 80}`, each
/// version once, weights integers 0–100 with at least one above 0 (docs/COMPATIBILITY.md#versions-and-aliases). Whether the
/// versions exist is checked when the alias is written.
fn routing(text: &str) -> Result<Vec<Route>, ApiError> {
    const NAME: &str = "RoutingConfigurations";
    let value: Value = serde_json::from_str(text).map_err(|e| {
        ApiError::invalid_argument(
            NAME,
            format!("must be a JSON array of {{Version, Weight}}: {e}"),
        )
    })?;
    let Some(entries) = value.as_array() else {
        return Err(ApiError::invalid_argument(
            NAME,
            "must be a JSON array of {Version, Weight}",
        ));
    };
    if entries.is_empty() || entries.len() > MAX_ROUTES {
        return Err(ApiError::invalid_argument(
            NAME,
            format!("must have 1 or {MAX_ROUTES} entries, got {}", entries.len()),
        ));
    }
    let mut routes: Vec<Route> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let field = |key: &str| format!("{NAME}[{index}].{key}");
        if !entry.is_object() {
            return Err(ApiError::invalid_argument(
                &format!("{NAME}[{index}]"),
                "must be an object",
            ));
        }
        let version = route_version(entry.get("Version")).ok_or_else(|| {
            ApiError::invalid_argument(
                &field("Version"),
                format!(
                    "must be a version number such as \"1\", got {}",
                    quoted(entry.get("Version"))
                ),
            )
        })?;
        let weight = route_weight(entry.get("Weight")).ok_or_else(|| {
            ApiError::invalid_argument(
                &field("Weight"),
                format!(
                    "must be an integer between 0 and 100, got {}",
                    quoted(entry.get("Weight"))
                ),
            )
        })?;
        if routes.iter().any(|route| route.version == version) {
            return Err(ApiError::invalid_argument(
                &field("Version"),
                format!("routes to version {version} a second time"),
            ));
        }
        routes.push(Route { version, weight });
    }
    if routes.iter().all(|route| route.weight == 0) {
        return Err(ApiError::invalid_argument(
            NAME,
            "must give at least one version a Weight greater than 0",
        ));
    }
    Ok(routes)
}

/// `"1"` as the SDKs send it; a bare JSON integer is accepted too.
fn route_version(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::String(text) => version_number(text),
        Value::Number(number) => number.as_i64().filter(|n| *n >= 0),
        _ => None,
    }
}

/// An integer 0–100; a string holding one is accepted too (one SDK model types it as a
/// string, docs/COMPATIBILITY.md#versions-and-aliases).
fn route_weight(value: Option<&Value>) -> Option<i64> {
    let weight = match value? {
        Value::Number(number) => number.as_i64()?,
        Value::String(text) if is_decimal(text) => text.parse().ok()?,
        _ => return None,
    };
    (0..=100).contains(&weight).then_some(weight)
}

/// A JSON value quoted in a message, cut short; "nothing" when absent.
fn quoted(value: Option<&Value>) -> String {
    match value {
        None => "nothing".to_string(),
        Some(value) => shorten(&value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        routing(text).unwrap_err().message
    }

    #[test]
    fn routes_keep_their_order() {
        assert_eq!(
            routing(r#"[{"Version":"2","Weight":20},{"Version":"1","Weight":80}]"#),
            Ok(vec![
                Route {
                    version: 2,
                    weight: 20
                },
                Route {
                    version: 1,
                    weight: 80
                }
            ])
        );
        assert_eq!(
            routing(r#"[{"Version":3,"Weight":"100"}]"#),
            Ok(vec![Route {
                version: 3,
                weight: 100
            }])
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(
            message("[]"),
            "Parameter error: RoutingConfigurations must have 1 or 2 entries, got 0"
        );
        assert_eq!(
            message(
                r#"[{"Version":"1","Weight":1},{"Version":"2","Weight":1},{"Version":"3","Weight":1}]"#
            ),
            "Parameter error: RoutingConfigurations must have 1 or 2 entries, got 3"
        );
        assert!(
            message("{").starts_with("Parameter error: RoutingConfigurations must be a JSON array")
        );
        assert_eq!(
            message(r#"{"Version":"1"}"#),
            "Parameter error: RoutingConfigurations must be a JSON array of {Version, Weight}"
        );
        assert_eq!(
            message("[1]"),
            "Parameter error: RoutingConfigurations[0] must be an object"
        );
        assert_eq!(
            message(r#"[{"Version":"v1","Weight":1}]"#),
            "Parameter error: RoutingConfigurations[0].Version must be a version number such as \"1\", got \"v1\""
        );
        assert_eq!(
            message(r#"[{"Weight":1}]"#),
            "Parameter error: RoutingConfigurations[0].Version must be a version number such as \"1\", got nothing"
        );
        assert_eq!(
            message(r#"[{"Version":"1","Weight":101}]"#),
            "Parameter error: RoutingConfigurations[0].Weight must be an integer between 0 and 100, got 101"
        );
        assert_eq!(
            message(r#"[{"Version":"1","Weight":50.5}]"#),
            "Parameter error: RoutingConfigurations[0].Weight must be an integer between 0 and 100, got 50.5"
        );
        assert_eq!(
            message(r#"[{"Version":"1","Weight":-1}]"#),
            "Parameter error: RoutingConfigurations[0].Weight must be an integer between 0 and 100, got -1"
        );
        assert_eq!(
            message(r#"[{"Version":"1","Weight":50},{"Version":"01","Weight":50}]"#),
            "Parameter error: RoutingConfigurations[1].Version routes to version 1 a second time"
        );
        assert_eq!(
            message(r#"[{"Version":"1","Weight":0},{"Version":"2","Weight":0}]"#),
            "Parameter error: RoutingConfigurations must give at least one version a Weight greater than 0"
        );
    }
}
