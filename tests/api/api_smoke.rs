//! The basic round trip over both backends: create a flow, run it, read its history.

use crate::common;

use std::time::Duration;

use common::{TestServer, json_field};
use serde_json::json;

const PASS_FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n    outputMappings:\n      - target: x\n        source: $input.a\n";

backend_tests! {
    async fn create_start_describe_history(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let flow = client.create_flow("smoke", PASS_FLOW).await;
        assert_eq!(flow["Name"], "smoke");
        let started = client.start("smoke", "run-1", r#"{"a": 5}"#).await;
        assert_eq!(started["Name"], "run-1");
        let ended = client.wait_end("smoke", "run-1", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(json_field(&ended, "Output"), json!({"x": 5}));
        let events = client.history("smoke", "run-1").await;
        let types: Vec<&str> = events.iter().map(|e| e["Type"].as_str().unwrap()).collect();
        assert_eq!(types, ["ExecutionStarted", "StepEntered", "StepExited", "ExecutionSucceeded"]);
        server.stop().await;
    }
}
