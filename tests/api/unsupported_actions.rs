//! Integrations fnf-server does not implement fail the step at run time with
//! `FnF.ActionNotSupported`, which a Catch can handle (docs/COMPATIBILITY.md#state-machine-data-flow, docs/COMPATIBILITY.md#q16).

use crate::common;

use std::time::Duration;

use common::{TestServer, json_field};
use serde_json::json;

backend_tests! {
    async fn unsupported_actions_fail_at_run_time_and_can_be_caught(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let caught = "Type: StateMachine\nName: ecs\nSpecVersion: v1\nStartAt: Describe\nStates:\n  - Type: Task\n    Name: Describe\n    Action: ECS:DescribeInstances\n    Parameters:\n      regionId: cn-hangzhou\n    Catch:\n      - Errors: [FnF.ActionNotSupported]\n        OutputConstructor:\n          error.$: $Context.Current.Error.Code\n        Next: Fallback\n    End: true\n  - Type: Pass\n    Name: Fallback\n    End: true\n";
        client.create_flow("ecs", caught).await;
        client.start("ecs", "run", "{}").await;
        let ended = client.wait_end("ecs", "run", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        assert_eq!(json_field(&ended, "Output"), json!({"error": "FnF.ActionNotSupported"}));

        let uncaught = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: publish\n    resourceArn: acs:mns:cn-hangzhou:123:/topics/t/messages\n";
        client.create_flow("mns", uncaught).await;
        client.start("mns", "run", "{}").await;
        let ended = client.wait_end("mns", "run", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Failed");
        let events = client.history("mns", "run").await;
        let types: Vec<&str> = events.iter().map(|e| e["Type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            ["ExecutionStarted", "StepEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "StepFailed", "ExecutionFailed"]
        );
        let failed = events.iter().find(|e| e["Type"] == "ExecutionFailed").unwrap();
        assert_eq!(json_field(failed, "EventDetail")["error"], "FnF.ActionNotSupported");
        server.stop().await;
    }
}
