//! Finding the caller's resources by the names a request gives, with the API's
//! "not exists" errors (docs/COMPATIBILITY.md#names). Shared by every handler that names a flow.

use std::sync::Arc;

use super::Call;
use super::qualifier::version_number;
use crate::error::ApiError;
use crate::names::{check_lookup_name, shorten};
use crate::store::{Execution, Flow, FlowVersion};
use crate::testing::TestCase;

/// A required name used for a lookup (docs/COMPATIBILITY.md#names: non-empty, at most 256 characters).
pub fn lookup_name<'a>(call: &Call<'a>, name: &str) -> Result<&'a str, ApiError> {
    let value = call.params.required(name)?;
    check_lookup_name(value).map_err(|reason| ApiError::invalid_argument(name, reason))?;
    Ok(value)
}

/// The caller's flow of that name, or `FlowNotExists` (accounts never see each other's).
pub async fn find_flow(call: &Call<'_>, name: &str) -> Result<Flow, ApiError> {
    call.state
        .store
        .get_flow(call.account_id, name)
        .await?
        .ok_or_else(|| ApiError::flow_not_exists(name))
}

/// The flow's version named by `text`, or `FlowVersionNotExists` (DescribeFlow's
/// `FlowVersion`).
pub async fn find_version(
    call: &Call<'_>,
    flow: &Flow,
    text: &str,
) -> Result<FlowVersion, ApiError> {
    let found = match version_number(text) {
        Some(number) => call.state.store.get_version(&flow.id, number).await?,
        None => None,
    };
    found.ok_or_else(|| ApiError::flow_version_not_exists(&shorten(text), &flow.name))
}

/// The caller's flow and its execution of that name.
pub async fn find_execution(
    call: &Call<'_>,
    flow_name: &str,
    execution_name: &str,
) -> Result<(Flow, Execution), ApiError> {
    let flow = find_flow(call, flow_name).await?;
    let execution = call
        .state
        .store
        .get_execution(&flow.id, execution_name)
        .await?
        .ok_or_else(|| ApiError::execution_not_exists(execution_name, flow_name))?;
    Ok((flow, execution))
}

/// The test case named by `FlowName=<flow>#<TestCase>`, with its mocks.
pub fn find_test_case(
    call: &Call<'_>,
    flow: &Flow,
    name: Option<&str>,
) -> Result<Option<Arc<TestCase>>, ApiError> {
    let Some(name) = name else {
        return Ok(None);
    };
    let mocks = call.state.runtime.mocks();
    let found = mocks.test_case(&flow.name, name);
    found.map(Some).ok_or_else(|| {
        let reason = match mocks.file() {
            Some(file) => format!(
                "the test case '{}' of flow '{}' is not in the mock file {}",
                shorten(name),
                flow.name,
                file.display()
            ),
            None => format!(
                "names the test case '{}', but the server has no mock file (--mock-config)",
                shorten(name)
            ),
        };
        ApiError::invalid_argument("FlowName", reason)
    })
}
