//! Flow actions (docs/COMPATIBILITY.md#flows).

use serde_json::{Value, json};

use super::lookups::{find_flow, find_version};
use super::policy::check_child_flows;
use super::views::{FlowView, to_body};
use super::{ApiResult, Call};
use crate::engine::ir::FlowDefinition;
use crate::engine::parse::{ParseOptions, parse_new_definition};
use crate::error::ApiError;
use crate::names::{check_lookup_name, check_name};
use crate::store::{CreateFlowOutcome, Flow, FlowQuery};
use crate::time::now_ms;

/// CreateFlow (docs/COMPATIBILITY.md#flows).
pub async fn create_flow(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let name = params.required("Name")?;
    check_name(name).map_err(|reason| ApiError::invalid_argument("Name", reason))?;
    let definition = params.required("Definition")?;
    let description = params.optional("Description").unwrap_or_default();
    let flow_type = flow_type(params.required("Type")?)?;
    let execution_mode = match params.optional("ExecutionMode") {
        None | Some("Standard") => "Standard",
        Some("Express") => "Express",
        Some(other) => {
            return Err(ApiError::invalid_argument(
                "ExecutionMode",
                format!(
                    "must be Standard or Express, got '{}'",
                    crate::names::shorten(other)
                ),
            ));
        }
    };
    let environment = params
        .optional("Environment")
        .map(environment)
        .transpose()?;
    let parsed = check_definition(definition, name, execution_mode == "Express").await?;
    check_mocks(call, name, &parsed)?;
    check_child_flows(call, &parsed).await?;
    let now = now_ms();
    let flow = Flow {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: call.account_id.to_string(),
        name: name.to_string(),
        description: description.to_string(),
        definition: definition.to_string(),
        flow_type: flow_type.to_string(),
        role_arn: non_empty(params.optional("RoleArn")),
        execution_mode: execution_mode.to_string(),
        external_storage_location: non_empty(params.optional("ExternalStorageLocation")),
        resource_group_id: non_empty(params.optional("ResourceGroupId")),
        environment,
        created_at: now,
        modified_at: now,
        revision: 1,
    };
    let limit = call.state.config.max_flows_per_account;
    let max_flows = i64::try_from(limit).unwrap_or(i64::MAX);
    let created = call.state.store.create_flow(&flow, max_flows).await?;
    // A flow of that name deleted elsewhere may still be cached.
    call.state.flow_cache.forget(call.account_id, name);
    match created {
        CreateFlowOutcome::Created => Ok(to_body(&FlowView::from(&flow))),
        CreateFlowOutcome::AlreadyExists => Err(ApiError::flow_already_exists(name)),
        CreateFlowOutcome::LimitReached => Err(ApiError::invalid_argument(
            "Name",
            format!("cannot be created: the account already has the maximum of {limit} flows"),
        )),
    }
}

/// UpdateFlow (docs/COMPATIBILITY.md#flows): only the parameters present change.
pub async fn update_flow(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let name = params.required("Name")?;
    check_lookup_name(name).map_err(|reason| ApiError::invalid_argument("Name", reason))?;
    let definition = params.get("Definition").filter(|d| !d.is_empty());
    let flow_type_param = params.optional("Type").map(flow_type).transpose()?;
    let environment = params
        .optional("Environment")
        .map(environment)
        .transpose()?;
    let mut flow = find_flow(call, name).await?;
    if let Some(definition) = definition {
        let parsed = check_definition(definition, name, flow.execution_mode == "Express").await?;
        check_mocks(call, name, &parsed)?;
        check_child_flows(call, &parsed).await?;
    }
    let expected_revision = flow.revision;
    if let Some(definition) = definition {
        flow.definition = definition.to_string();
    }
    // A present empty Description sets it to empty.
    if let Some(description) = params.get("Description") {
        flow.description = description.to_string();
    }
    if let Some(flow_type) = flow_type_param {
        flow.flow_type = flow_type.to_string();
    }
    if let Some(role_arn) = params.get("RoleArn") {
        flow.role_arn = non_empty(Some(role_arn));
    }
    if environment.is_some() {
        flow.environment = environment;
    }
    flow.modified_at = now_ms().max(flow.modified_at + 1);
    flow.revision += 1;
    let updated = call
        .state
        .store
        .update_flow(&flow, expected_revision)
        .await?;
    call.state.flow_cache.forget(call.account_id, name);
    if !updated {
        return Err(ApiError::concurrent_update());
    }
    Ok(to_body(&FlowView::from(&flow)))
}

/// DeleteFlow (docs/COMPATIBILITY.md#flows, semantics docs/COMPATIBILITY.md#flows).
pub async fn delete_flow(call: &Call<'_>) -> ApiResult {
    let name = call.params.required("Name")?;
    check_lookup_name(name).map_err(|reason| ApiError::invalid_argument("Name", reason))?;
    let flow = find_flow(call, name).await?;
    let deleted = call.state.runtime.delete_flow(&flow).await?;
    call.state.flow_cache.forget(call.account_id, name);
    if deleted {
        Ok(json!({}))
    } else {
        Err(ApiError::flow_not_exists(name))
    }
}

/// DescribeFlow (docs/COMPATIBILITY.md#flows).
pub async fn describe_flow(call: &Call<'_>) -> ApiResult {
    let name = call.params.required("Name")?;
    check_lookup_name(name).map_err(|reason| ApiError::invalid_argument("Name", reason))?;
    let flow = find_flow(call, name).await?;
    if let Some(version) = call.params.optional("FlowVersion") {
        let version = find_version(call, &flow, version).await?;
        return Ok(to_body(&FlowView::of_version(&flow, &version)));
    }
    Ok(to_body(&FlowView::from(&flow)))
}

/// ListFlows: name ascending; `NextToken` is the next flow's name. A key
/// limited to some flows lists only those, and its tokens name only those: the store filters
/// by the key's patterns, so a page never skips names the key may not see.
pub async fn list_flows(call: &Call<'_>) -> ApiResult {
    let params = call.params;
    let limit = params.int("Limit", 1, 999)?.unwrap_or(60);
    let query = FlowQuery {
        account_id: call.account_id.to_string(),
        from_name: params.optional("NextToken").map(str::to_string),
        resource_group_id: params.optional("ResourceGroupId").map(str::to_string),
        name_patterns: call.key.flow_patterns().map(<[String]>::to_vec),
        limit: limit + 1,
    };
    let mut flows = call.state.store.list_flows(&query).await?;
    flows.retain(|flow| call.key.allows_flow(&flow.name));
    let next_token = (flows.len() as i64 > limit).then(|| flows.remove(limit as usize).name);
    let views: Vec<FlowView> = flows.iter().map(FlowView::from).collect();
    let mut body = json!({ "Flows": views });
    if let Some(token) = next_token {
        body["NextToken"] = Value::from(token);
    }
    Ok(body)
}

/// Parses and validates a new definition off the async runtime (it may be up to the whole
/// request size).
async fn check_definition(
    definition: &str,
    name: &str,
    express: bool,
) -> Result<FlowDefinition, ApiError> {
    let (definition, name) = (definition.to_string(), name.to_string());
    let now = now_ms();
    crate::cpu::run(move || {
        let options = ParseOptions {
            flow_name: &name,
            express,
        };
        parse_new_definition(&definition, &options, now)
    })
    .await?
    .map_err(ApiError::from)
}

/// The mock file's test cases of this flow must name its task states.
fn check_mocks(call: &Call<'_>, name: &str, definition: &FlowDefinition) -> Result<(), ApiError> {
    call.state
        .runtime
        .mocks()
        .check_flow(name, definition)
        .map_err(|error| ApiError::invalid_argument("Definition", error.to_string()))
}

/// `Type`: `FDL` (documented) or `DEFAULT` (Terraform), stored as given (docs/COMPATIBILITY.md#flows).
fn flow_type(value: &str) -> Result<&str, ApiError> {
    match value {
        "FDL" | "DEFAULT" => Ok(value),
        other => Err(ApiError::invalid_argument(
            "Type",
            format!(
                "must be FDL or DEFAULT, got '{}'",
                crate::names::shorten(other)
            ),
        )),
    }
}

/// `Environment`: `{"Variables":[{"Name","Value","Description"}]}` with unique names,
/// stored as normalized JSON text.
fn environment(text: &str) -> Result<String, ApiError> {
    let invalid = |reason: String| ApiError::invalid_argument("Environment", reason);
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("must be a JSON object: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(invalid("must be a JSON object".into()));
    };
    let variables = match object.get("Variables") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(variables)) => variables.clone(),
        Some(_) => return Err(invalid("Variables must be an array".into())),
    };
    let mut names = std::collections::HashSet::new();
    let mut normalized = Vec::with_capacity(variables.len());
    for (index, variable) in variables.iter().enumerate() {
        let field = |key: &str| -> Result<String, ApiError> {
            match variable.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(text)) => Ok(text.clone()),
                Some(_) => Err(invalid(format!(
                    "Variables[{index}].{key} must be a string"
                ))),
            }
        };
        if !variable.is_object() {
            return Err(invalid(format!("Variables[{index}] must be an object")));
        }
        let name = field("Name")?;
        if name.is_empty() {
            return Err(invalid(format!("Variables[{index}].Name is required")));
        }
        if !names.insert(name.clone()) {
            return Err(invalid(format!(
                "Variables[{index}].Name '{name}' is used twice"
            )));
        }
        normalized.push(json!({
            "Name": name,
            "Value": field("Value")?,
            "Description": field("Description")?,
        }));
    }
    Ok(json!({ "Variables": normalized }).to_string())
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_string)
}
