//! Distributed Map (docs/COMPATIBILITY.md#state-machine-states, docs/COMPATIBILITY.md#map-runs): every item runs as a child
//! execution in a map run; DescribeMapRun / UpdateMapRun report and change it.

use crate::common;

use std::time::{Duration, Instant};

use common::{Client, TestServer, json_field};
use serde_json::{Value, json};

const WITHIN: Duration = Duration::from_secs(30);

fn flow(name: &str, map_fields: &str, processor_states: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: Fan\nStates:\n  - Type: Map\n    Name: Fan\n    ItemsPath: $Input.items\n    ProcessorConfig:\n      Mode: Distributed\n{map_fields}    Processor:\n      StartAt: Work\n      States:\n{processor_states}    End: true\n"
    )
}

const DOUBLE: &str = "        - Type: Pass\n          Name: Work\n          OutputConstructor:\n            doubled.$: $Input.n * 2\n          End: true\n";

const CHECK: &str = "        - Type: Choice\n          Name: Work\n          Branches:\n            - Condition: $Input.ok == true\n              Next: Good\n          Default: Bad\n        - Type: Pass\n          Name: Good\n          End: true\n        - Type: Fail\n          Name: Bad\n          Code: ItemRejected\n          Detail: bad item\n";

const SLOW: &str =
    "        - Type: Wait\n          Name: Work\n          Seconds: 2\n          End: true\n";

async fn map_run_name(client: &Client, flow: &str, execution: &str) -> String {
    let events = client
        .wait_event(flow, execution, "MapRunStarted", WITHIN)
        .await;
    let started = events
        .iter()
        .find(|e| e["Type"] == "MapRunStarted")
        .unwrap();
    json_field(started, "EventDetail")["output"]["MapRunName"]
        .as_str()
        .expect("the map run name is in MapRunStarted")
        .to_string()
}

async fn describe_map_run(client: &Client, flow: &str, execution: &str, map_run: &str) -> Value {
    client
        .get(
            "DescribeMapRun",
            &[
                ("FlowName", flow),
                ("ExecutionName", execution),
                ("MapRunName", map_run),
            ],
        )
        .await
        .ok()
        .clone()
}

backend_tests! {
    async fn every_item_runs_as_a_child_execution(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("fan", &flow("fan", "", DOUBLE)).await;
        let input = r#"{"items": [{"n": 1}, {"n": 2}, {"n": 3}]}"#;
        client.start("fan", "run", input).await;
        let ended = client.wait_end("fan", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        assert_eq!(
            json_field(&ended, "Output"),
            json!({"Items": [{"doubled": 2}, {"doubled": 4}, {"doubled": 6}]})
        );
        let map_run = map_run_name(&client, "fan", "run").await;
        let events = client.history("fan", "run").await;
        let types: Vec<&str> = events.iter().map(|e| e["Type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            ["ExecutionStarted", "StepEntered", "MapRunStarted", "MapRunSucceeded", "StepExited", "ExecutionSucceeded"]
        );
        let described = describe_map_run(&client, "fan", "run", &map_run).await;
        assert_eq!(described["Status"], "Succeeded");
        assert_eq!(described["ExecutionName"], "run");
        assert_eq!(described["MapRunName"], map_run.as_str());
        assert_eq!(
            described["ItemCounts"],
            json!({"Pending": 0, "Running": 0, "Succeed": 3, "Failed": 0, "Aborted": 0, "Total": 3})
        );
        assert!(described["StoppedTime"].is_string());
        // The children are listed by their map run only.
        let children = client
            .get("ListExecutions", &[("FlowName", "fan"), ("MapRunName", &map_run)])
            .await
            .ok()
            .clone();
        let mut names: Vec<String> = children["Executions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["Name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(names, [0, 1, 2].map(|i| format!("{map_run}-{i}")));
        let all = client.get("ListExecutions", &[("FlowName", "fan")]).await.ok().clone();
        assert_eq!(all["Executions"].as_array().unwrap().len(), 1);
        let child = client.describe("fan", &format!("{map_run}-1")).await;
        assert_eq!(json_field(&child, "Input"), json!({"n": 2}));
        assert_eq!(json_field(&child, "Output"), json!({"doubled": 4}));
        // Unknown map runs.
        client
            .get("DescribeMapRun", &[("FlowName", "fan"), ("ExecutionName", "run"), ("MapRunName", "nope")])
            .await
            .err(404, "MapRunNotExists");
        server.stop().await;
    }

    async fn update_map_run_raises_the_concurrency(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("slow", &flow("slow", "    MaxConcurrency: 1\n", SLOW)).await;
        client.start("slow", "run", r#"{"items": [1, 2, 3, 4]}"#).await;
        let map_run = map_run_name(&client, "slow", "run").await;
        let first = describe_map_run(&client, "slow", "run", &map_run).await;
        assert_eq!(first["Concurrency"], 1);
        assert_eq!(first["ItemCounts"]["Total"], 4);
        assert!(first["ItemCounts"]["Running"].as_i64().unwrap() <= 1, "{first}");
        let updated = client
            .get(
                "UpdateMapRun",
                &[("FlowName", "slow"), ("ExecutionName", "run"), ("MapRunName", &map_run), ("Concurrency", "4")],
            )
            .await
            .ok()
            .clone();
        assert_eq!(updated["Concurrency"], 4);
        // More children run at once now.
        let deadline = Instant::now() + WITHIN;
        loop {
            let now = describe_map_run(&client, "slow", "run", &map_run).await;
            let counts = &now["ItemCounts"];
            if counts["Running"].as_i64().unwrap() >= 2 || counts["Succeed"].as_i64().unwrap() >= 3 {
                break;
            }
            assert!(Instant::now() < deadline, "the concurrency did not rise: {now}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let ended = client.wait_end("slow", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(json_field(&ended, "Output")["Items"].as_array().unwrap().len(), 4);
        server.stop().await;
    }

    async fn tolerated_failures(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let items = r#"{"items": [{"ok": true}, {"ok": false}, {"ok": true}]}"#;
        client.create_flow("tolerant", &flow("tolerant", "    ToleratedFailureCount: 1\n", CHECK)).await;
        client.start("tolerant", "run", items).await;
        let ended = client.wait_end("tolerant", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        assert_eq!(
            json_field(&ended, "Output"),
            json!({"Items": [{"ok": true}, {"Error": "ItemRejected", "Cause": "bad item"}, {"ok": true}]})
        );
        let map_run = map_run_name(&client, "tolerant", "run").await;
        let counts = describe_map_run(&client, "tolerant", "run", &map_run).await["ItemCounts"].clone();
        assert_eq!((counts["Succeed"].as_i64(), counts["Failed"].as_i64()), (Some(2), Some(1)));

        client.create_flow("strict", &flow("strict", "", CHECK)).await;
        client.start("strict", "run", items).await;
        let ended = client.wait_end("strict", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Failed");
        let events = client.history("strict", "run").await;
        let failed = events.iter().find(|e| e["Type"] == "ExecutionFailed").unwrap();
        assert_eq!(json_field(failed, "EventDetail")["error"], "FnF.ExceedToleratedFailureThreshold");
        assert!(events.iter().any(|e| e["Type"] == "MapRunFailed"));
        server.stop().await;
    }

    async fn items_are_built_and_batched(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let fields = "    MaxItems: 5\n    ItemConstructor:\n      value.$: $Item\n      tag.$: $Input.tag\n    ItemBatcher:\n      MaxItemsPerBatch: 2\n";
        let processor = "        - Type: Pass\n          Name: Work\n          OutputConstructor:\n            size.$: length($Input.Items)\n            first.$: $Input.Items[0]\n          End: true\n";
        client.create_flow("batched", &flow("batched", fields, processor)).await;
        client.start("batched", "run", r#"{"tag": "t", "items": [1, 2, 3, 4, 5, 6, 7]}"#).await;
        let ended = client.wait_end("batched", "run", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        assert_eq!(
            json_field(&ended, "Output"),
            json!({"Items": [
                {"size": 2, "first": {"value": 1, "tag": "t"}},
                {"size": 2, "first": {"value": 3, "tag": "t"}},
                {"size": 1, "first": {"value": 5, "tag": "t"}},
            ]})
        );
        server.stop().await;
    }

    async fn stopping_the_parent_aborts_the_map_run(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("stopped", &flow("stopped", "    MaxConcurrency: 2\n", SLOW)).await;
        client.start("stopped", "run", r#"{"items": [1, 2, 3, 4]}"#).await;
        let map_run = map_run_name(&client, "stopped", "run").await;
        client
            .call("StopExecution", &[("FlowName", "stopped"), ("ExecutionName", "run")])
            .await
            .ok();
        let described = describe_map_run(&client, "stopped", "run", &map_run).await;
        assert_eq!(described["Status"], "Aborted");
        let counts = &described["ItemCounts"];
        assert_eq!(counts["Running"], 0, "{described}");
        assert_eq!(counts["Aborted"].as_i64().unwrap() + counts["Succeed"].as_i64().unwrap(), 2);
        assert_eq!(counts["Pending"], 2);
        server.stop().await;
    }

    async fn unsupported_fields_are_rejected(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let definition = flow("reader", "    ItemReader:\n      SourceType: OSS_CSV\n", DOUBLE);
        let refused = client
            .call("CreateFlow", &[("Name", "reader"), ("Definition", &definition), ("Type", "FDL")])
            .await;
        refused.err(400, "InvalidArgument");
        assert!(refused.message().contains("States[0].ItemReader"), "{}", refused.message());
        let inline = "Type: StateMachine\nName: inline\nSpecVersion: v1\nStartAt: M\nStates:\n  - Type: Map\n    Name: M\n    ItemsPath: $Input.items\n    ToleratedFailureCount: 1\n    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n          Name: P\n          End: true\n    End: true\n";
        let refused = client
            .call("CreateFlow", &[("Name", "inline"), ("Definition", inline), ("Type", "FDL")])
            .await;
        refused.err(400, "InvalidArgument");
        assert!(refused.message().contains("distributed mode"), "{}", refused.message());
        server.stop().await;
    }
}
