//! Flow actions (docs/COMPATIBILITY.md#flows) and DescribeRegions (docs/COMPATIBILITY.md#regions), over both backends: the
//! exact response shapes, every parameter rule and every error code they can return.

mod concurrency_and_limits;
mod create;
mod delete;
mod describe_and_list;
mod regions_and_request_ids;
mod update;

use crate::common;

use std::time::Duration;

use common::{
    Answer, Backend, Client, TestServer, assert_keys, assert_request_id, assert_time_ms,
    json_field, pass_state_machine, wait_state_machine,
};
use serde_json::{Value, json};

const FDL_PASS: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";
const FDL_PASS_2: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: other\n";

async fn create(client: &Client, params: &[(&str, &str)]) -> Answer {
    client.call("CreateFlow", params).await
}

async fn describe_flow(client: &Client, name: &str) -> Answer {
    client.get("DescribeFlow", &[("Name", name)]).await
}

/// The flow object without the per-request `RequestId`.
fn flow_object(body: &Value) -> Value {
    let mut object = body.clone();
    object.as_object_mut().unwrap().remove("RequestId");
    object
}

/// All flow names, following `NextToken` with this page size.
async fn list_all_flows(client: &Client, limit: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = vec![("Limit", limit)];
        if let Some(token) = &token {
            params.push(("NextToken", token));
        }
        let body = client.get("ListFlows", &params).await.ok().clone();
        for flow in body["Flows"].as_array().unwrap() {
            names.push(flow["Name"].as_str().unwrap().to_string());
        }
        match body["NextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => return names,
        }
    }
}
