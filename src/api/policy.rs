//! A key's flow patterns over the flows an action reaches indirectly: the flow of a task
//! token, and the flows a definition starts as child executions. (The flow an action names
//! is checked by the gateway before the handler runs.) Outside the patterns the answer is
//! `AccessDenied`, the same as for naming such a flow.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Call;
use crate::engine::child_flows::ChildFlows;
use crate::engine::ir::FlowDefinition;
use crate::engine::tokens::TokenCodec;
use crate::error::ApiError;
use crate::store::Flow;

/// The flow a task token was issued for must be one the key may touch. A string that is
/// not a token at all is left to the action to refuse.
pub fn check_token_flow(call: &Call<'_>, token: &str) -> Result<(), ApiError> {
    match TokenCodec::decode(token) {
        Some(parts) if !call.key.allows_flow(&parts.flow_name) => Err(ApiError::access_denied()),
        _ => Ok(()),
    }
}

/// Every flow `definition` can start, and every flow those start in turn (a child runs its
/// flow's latest definition), must be one the key may touch. A child flow named only at run
/// time cannot be checked here, so a key limited to some flows may not use one.
pub async fn check_child_flows(
    call: &Call<'_>,
    definition: &FlowDefinition,
) -> Result<(), ApiError> {
    if call.key.flow_patterns().is_none() {
        return Ok(());
    }
    let mut checked = BTreeSet::new();
    let mut pending = vec![ChildFlows::of(definition)];
    while let Some(children) = pending.pop() {
        if children.computed {
            return Err(ApiError::access_denied());
        }
        for name in children.named {
            if !call.key.allows_flow(&name) {
                return Err(ApiError::access_denied());
            }
            if !checked.insert(name.clone()) {
                continue;
            }
            // A flow that does not exist (yet) starts nothing; a definition that no longer
            // parses fails its execution before it starts anything.
            let Some(flow) = call.state.store.get_flow(call.account_id, &name).await? else {
                continue;
            };
            if let Some(definition) =
                parsed(call, &flow.definition, &flow.name, &flow.execution_mode)
            {
                pending.push(ChildFlows::of(&definition));
            }
        }
    }
    Ok(())
}

/// [`check_child_flows`] for the stored definition `text` of `flow` (or of one of its
/// versions); parsed only for a key limited to some flows.
pub async fn check_stored_definition(
    call: &Call<'_>,
    flow: &Flow,
    text: &str,
) -> Result<(), ApiError> {
    if call.key.flow_patterns().is_none() {
        return Ok(());
    }
    match parsed(call, text, &flow.name, &flow.execution_mode) {
        Some(definition) => check_child_flows(call, &definition).await,
        None => Ok(()),
    }
}

/// The stored definition of a flow (or of one of its versions), parsed through the runtime's
/// cache: a start then parses its definition once, not once for the policy and once to run.
fn parsed(
    call: &Call<'_>,
    text: &str,
    flow_name: &str,
    execution_mode: &str,
) -> Option<Arc<FlowDefinition>> {
    call.state
        .runtime
        .definition(text, flow_name, execution_mode == "Express")
        .ok()
}
