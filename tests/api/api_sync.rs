//! StartSyncExecution and Express flows (docs/COMPATIBILITY.md#synchronous-executions).

use crate::common;

use std::time::{Duration, Instant};

use common::fc_stub::FcStub;
use common::{TestServer, json_field};
use serde_json::json;

fn state_machine(name: &str, states: &str) -> String {
    format!("Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: First\nStates:\n{states}")
}

const EXPRESS: (&str, &str) = ("ExecutionMode", "Express");

backend_tests! {
    async fn express_flow_answers_with_its_output(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let definition = state_machine(
            "quick",
            "  - Type: Pass\n    Name: First\n    OutputConstructor:\n      doubled.$: $Input.n * 2\n    End: true\n",
        );
        client.create_flow_with("quick", &definition, &[EXPRESS]).await;
        let answer = client
            .call("StartSyncExecution", &[("FlowName", "quick"), ("ExecutionName", "run"), ("Input", r#"{"n": 21}"#)])
            .await;
        let body = answer.ok();
        assert_eq!(body["Status"], "Succeeded");
        assert_eq!(body["FlowName"], "quick");
        assert!(body["Name"].as_str().unwrap().starts_with("run:"), "{body}");
        assert_eq!(json_field(body, "Output"), json!({"doubled": 42}));
        assert!(body.get("ErrorCode").is_none());
        // Not durable: no execution to describe.
        let name = body["Name"].as_str().unwrap();
        client
            .get("DescribeExecution", &[("FlowName", "quick"), ("ExecutionName", name)])
            .await
            .err(404, "ExecutionNotExists");
        // Standard-only and Express-only actions.
        client
            .call("StartExecution", &[("FlowName", "quick")])
            .await
            .err(400, "ActionNotSupported");
        let standard = state_machine("standard", "  - Type: Pass\n    Name: First\n    End: true\n");
        client.create_flow("standard", &standard).await;
        let refused = client.call("StartSyncExecution", &[("FlowName", "standard")]).await;
        refused.err(400, "ActionNotSupported");
        assert_eq!(refused.message(), "Standard execution is not supported.");
        server.stop().await;
    }

    async fn a_failed_run_is_still_http_200(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let definition = state_machine(
            "failing",
            "  - Type: Fail\n    Name: First\n    Code: Broken\n    Detail: it broke\n",
        );
        client.create_flow_with("failing", &definition, &[EXPRESS]).await;
        let answer = client.call("StartSyncExecution", &[("FlowName", "failing")]).await;
        let body = answer.ok();
        assert_eq!(body["Status"], "Failed");
        assert_eq!(body["ErrorCode"], "Broken");
        assert_eq!(body["ErrorMessage"], "it broke");
        assert!(body.get("Output").is_none());
        server.stop().await;
    }

    async fn express_runs_call_functions_and_wait(backend) {
        let stub = FcStub::start().await;
        let endpoint = stub.endpoint();
        let server = TestServer::start_with(backend, |c| c.fc_endpoint = Some(endpoint)).await;
        let client = server.client();
        let definition = state_machine(
            "caller",
            "  - Type: Wait\n    Name: First\n    Seconds: 1\n    Next: Call\n  - Type: Task\n    Name: Call\n    Action: FC:InvokeFunction\n    Parameters:\n      resourceArn: acs:fc:::functions/echo\n      invocationType: Sync\n      body:\n        who.$: $Input.who\n    OutputConstructor:\n      greeted.$: $Output.Body.who\n    End: true\n",
        );
        client.create_flow_with("caller", &definition, &[EXPRESS]).await;
        let started = Instant::now();
        let answer = client
            .call("StartSyncExecution", &[("FlowName", "caller"), ("Input", r#"{"who": "ann"}"#)])
            .await;
        let body = answer.ok();
        assert!(started.elapsed() >= Duration::from_millis(950));
        assert_eq!(body["Status"], "Succeeded", "{body}");
        assert_eq!(json_field(body, "Output"), json!({"greeted": "ann"}));
        assert_eq!(stub.invocations_of("echo")[0].event, json!({"who": "ann"}));
        server.stop().await;
    }

    async fn express_runs_end_timed_out_past_the_limit(backend) {
        let server = TestServer::start_with(backend, |c| c.sync_execution_timeout_seconds = 1).await;
        let client = server.client();
        let definition = state_machine("slow", "  - Type: Wait\n    Name: First\n    Seconds: 5\n    End: true\n");
        client.create_flow_with("slow", &definition, &[EXPRESS]).await;
        let started = Instant::now();
        let answer = client.call("StartSyncExecution", &[("FlowName", "slow")]).await;
        let body = answer.ok();
        assert_eq!(body["Status"], "TimedOut");
        assert_eq!(body["ErrorCode"], "FnF.Timeout");
        assert!(started.elapsed() < Duration::from_secs(4));
        server.stop().await;
    }

    async fn express_waits_are_limited_to_20_seconds(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let definition = state_machine("long", "  - Type: Wait\n    Name: First\n    Seconds: 30\n    End: true\n");
        let refused = client
            .call("CreateFlow", &[("Name", "long"), ("Definition", &definition), ("Type", "FDL"), EXPRESS])
            .await;
        refused.err(400, "InvalidArgument");
        assert!(refused.message().contains("Seconds"), "{}", refused.message());
        server.stop().await;
    }

    async fn callbacks_reach_a_running_express_execution(backend) {
        let stub = FcStub::start().await;
        let endpoint = stub.endpoint();
        let server = TestServer::start_with(backend, |c| c.fc_endpoint = Some(endpoint)).await;
        let client = server.client();
        let definition = state_machine(
            "approve",
            "  - Type: Task\n    Name: First\n    Action: FC:InvokeFunction\n    TaskMode: WaitForCustomCallback\n    Parameters:\n      resourceArn: acs:fc:::functions/echo\n      invocationType: Async\n      body:\n        token.$: $Context.Current.TaskToken\n    End: true\n",
        );
        client.create_flow_with("approve", &definition, &[EXPRESS]).await;
        let runner = client.clone();
        let run = tokio::spawn(async move {
            runner.call("StartSyncExecution", &[("FlowName", "approve")]).await
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let token = loop {
            if let Some(invocation) = stub.invocations_of("echo").first() {
                break invocation.event["token"].as_str().unwrap().to_string();
            }
            assert!(Instant::now() < deadline, "the function was not invoked");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let reported = client
            .call("ReportTaskSucceeded", &[("TaskToken", &token), ("Output", r#"{"approved": true}"#)])
            .await;
        assert!(reported.ok()["EventId"].is_i64());
        let answer = run.await.unwrap();
        let body = answer.ok();
        assert_eq!(body["Status"], "Succeeded");
        assert_eq!(json_field(body, "Output"), json!({"approved": true}));
        server.stop().await;
    }
}
