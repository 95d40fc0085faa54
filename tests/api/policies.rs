//! Per-key policies over every way a flow can be reached: lists and their tokens, task
//! tokens, callback tokens, the child flows a definition starts (also through versions,
//! schedules and synchronous runs), and map runs.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use common::{Answer, Backend, Client, TestServer, json_field};
use serde_json::Value;

const ACCESS_DENIED: &str = "The resources doesn't belong to you.";
const WITHIN: Duration = Duration::from_secs(20);

/// Account `2222…`: an unrestricted key, a key limited to `orders-*` flows, and a key
/// limited to `job-??` and `*-eu`.
const KEYS_TOML: &str = r#"
[[accounts]]
id = "2222222222222222"

[[accounts.keys]]
id = "admin"
secret = "admin-secret"

[[accounts.keys]]
id = "orders"
secret = "orders-secret"
flows = ["orders-*"]

[[accounts.keys]]
id = "jobs"
secret = "jobs-secret"
flows = ["job-??", "*-eu"]
"#;

fn write_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

async fn start(backend: Backend) -> TestServer {
    let (_dir, path) = write_file("keys.toml", KEYS_TOML);
    TestServer::start_with(backend, |config| config.credentials_file = Some(path)).await
}

fn key(server: &TestServer, id: &str) -> Client {
    server.client_with_key(id, &format!("{id}-secret"))
}

fn pass(name: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: p\nStates:\n  - Type: Pass\n    Name: p\n    End: true\n"
    )
}

/// A state machine whose one task starts `child` (an ARN, or with `computed` a `$` path).
fn starting(name: &str, child: &str, computed: bool) -> String {
    let arn = if computed {
        "resourceArn.$: $Input.arn".to_string()
    } else {
        format!("resourceArn: acs:fnf:::flow/{child}")
    };
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: go\nStates:\n  - Type: Task\n    Name: go\n    Action: FNF:StartExecution\n    Parameters:\n      {arn}\n    End: true\n"
    )
}

/// A state machine whose task starts `child` and waits for a report to its token, which
/// the child receives as `{"token": …}`.
fn waiting_on(name: &str, child: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: ask\nStates:\n  - Type: Task\n    Name: ask\n    Action: FNF:StartExecution\n    TaskMode: WaitForCustomCallback\n    Parameters:\n      resourceArn: acs:fnf:::flow/{child}\n      input:\n        token.$: $Context.Current.TaskToken\n    End: true\n"
    )
}

async fn call(client: &Client, action: &str, params: &[(&str, &str)]) -> Answer {
    client.call(action, params).await
}

#[track_caller]
fn denied(answer: &Answer) {
    answer.err_msg(403, "AccessDenied", ACCESS_DENIED);
}

fn flow_names(answer: &Answer) -> Vec<String> {
    answer.ok()["Flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flow| flow["Name"].as_str().unwrap().to_string())
        .collect()
}

/// Every page of ListFlows for `client`, `limit` at a time: the names and the tokens.
async fn all_pages(client: &Client, limit: &str, from: Option<&str>) -> (Vec<String>, Vec<String>) {
    let (mut names, mut tokens) = (Vec::new(), Vec::new());
    let mut token = from.map(str::to_string);
    loop {
        let mut params = vec![("Limit", limit)];
        if let Some(token) = &token {
            params.push(("NextToken", token));
        }
        let page = client.get("ListFlows", &params).await;
        names.extend(flow_names(&page));
        match page.ok()["NextToken"].as_str() {
            Some(next) => {
                tokens.push(next.to_string());
                token = Some(next.to_string());
            }
            None => return (names, tokens),
        }
        assert!(tokens.len() < 100, "ListFlows does not end: {tokens:?}");
    }
}

backend_tests! {
    async fn lists_and_their_tokens_stay_within_the_patterns(backend) {
        let server = start(backend).await;
        let admin = key(&server, "admin");
        // Many names the limited keys may not see, sorting before, between and after theirs.
        let mut all: Vec<String> = (0..40).map(|i| format!("b-{i:02}")).collect();
        all.extend(
            ["a-eu", "job-01", "job-02", "job-1", "job-100", "Job-03", "orders-1", "orders-2", "orders_3", "zz-eu", "zz-eux"]
                .map(String::from),
        );
        for name in &all {
            admin.create_flow(name, &pass(name)).await;
        }

        let jobs = key(&server, "jobs");
        let expected = ["a-eu", "job-01", "job-02", "zz-eu"];
        for limit in ["1", "2", "60"] {
            let (names, tokens) = all_pages(&jobs, limit, None).await;
            assert_eq!(names, expected, "Limit {limit}");
            for token in &tokens {
                assert!(expected.contains(&token.as_str()), "token {token} with Limit {limit}");
            }
        }
        // A token naming a flow the key may not see is only a position.
        let (names, _) = all_pages(&jobs, "1", Some("b-10")).await;
        assert_eq!(names, ["job-01", "job-02", "zz-eu"]);

        let orders = key(&server, "orders");
        let (names, tokens) = all_pages(&orders, "1", None).await;
        assert_eq!(names, ["orders-1", "orders-2"]);
        assert_eq!(tokens, ["orders-2"]);

        // An unrestricted key still sees everything, in byte order.
        let (names, _) = all_pages(&admin, "7", None).await;
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        server.stop().await;
    }

    async fn task_and_callback_tokens_of_other_flows_are_refused(backend) {
        let server = start(backend).await;
        let admin = key(&server, "admin");
        admin.create_flow("billing-child", &pass("billing-child")).await;
        admin.create_flow("billing", &waiting_on("billing", "billing-child")).await;
        admin.create_flow("orders-1", &pass("orders-1")).await;
        admin.start("billing", "bill-1", "{}").await;
        let token = child_token(&admin, "billing", "bill-1", "billing-child").await;

        let orders = key(&server, "orders");
        denied(&call(&orders, "ReportTaskSucceeded", &[("TaskToken", &token), ("Output", "{}")]).await);
        denied(&call(&orders, "ReportTaskFailed", &[("TaskToken", &token), ("Error", "E")]).await);
        // Starting one of its own flows that would report to the other flow's task.
        denied(
            &call(
                &orders,
                "StartExecution",
                &[("FlowName", "orders-1"), ("ExecutionName", "o1"), ("CallbackFnFTaskToken", &token)],
            )
            .await,
        );
        let listed = orders.get("ListExecutions", &[("FlowName", "orders-1")]).await;
        assert_eq!(listed.ok()["Executions"], Value::Array(vec![]));
        assert_eq!(admin.describe("billing", "bill-1").await["Status"], "Running");

        // The key the token's flow belongs to may report it.
        call(&admin, "ReportTaskSucceeded", &[("TaskToken", &token), ("Output", "{}")]).await.ok();
        let ended = admin.wait_end("billing", "bill-1", WITHIN).await;
        assert_eq!(ended["Status"], "Succeeded");
        server.stop().await;
    }

    async fn the_child_flows_a_definition_starts_are_checked(backend) {
        let server = start(backend).await;
        let admin = key(&server, "admin");
        let orders = key(&server, "orders");
        admin.create_flow("billing", &pass("billing")).await;
        let create = |name: &str, definition: String| {
            let orders = orders.clone();
            let name = name.to_string();
            async move {
                call(&orders, "CreateFlow", &[("Name", &name), ("Definition", &definition), ("Type", "FDL")]).await
            }
        };

        // Written by the limited key.
        denied(&create("orders-parent", starting("orders-parent", "billing", false)).await);
        denied(&create("orders-parent", starting("orders-parent", "", true)).await);
        admin.get("DescribeFlow", &[("Name", "orders-parent")]).await.err(404, "FlowNotExists");
        create("orders-parent", starting("orders-parent", "orders-child", false)).await.ok();
        denied(
            &call(
                &orders,
                "UpdateFlow",
                &[("Name", "orders-parent"), ("Definition", &starting("orders-parent", "billing", false))],
            )
            .await,
        );
        let kept = admin.get("DescribeFlow", &[("Name", "orders-parent")]).await;
        assert!(kept.ok()["Definition"].as_str().unwrap().contains("flow/orders-child"));

        // Written by another key, run by the limited one: directly, through an allowed flow,
        // by a schedule, or as the latest configuration while a version is clean.
        admin.create_flow("orders-sneaky", &starting("orders-sneaky", "billing", false)).await;
        admin.create_flow("orders-top", &starting("orders-top", "orders-sneaky", false)).await;
        for flow in ["orders-sneaky", "orders-top"] {
            denied(&call(&orders, "StartExecution", &[("FlowName", flow), ("ExecutionName", "o1")]).await);
            let listed = admin.get("ListExecutions", &[("FlowName", flow)]).await;
            assert_eq!(listed.ok()["Executions"], Value::Array(vec![]), "{flow}");
        }
        denied(
            &call(
                &orders,
                "CreateSchedule",
                &[("FlowName", "orders-sneaky"), ("ScheduleName", "s"), ("CronExpression", "@every 5m"), ("Enable", "true")],
            )
            .await,
        );
        admin.create_flow("orders-versioned", &pass("orders-versioned")).await;
        call(&admin, "PublishFlowVersion", &[("FlowName", "orders-versioned")]).await.ok();
        call(
            &admin,
            "UpdateFlow",
            &[("Name", "orders-versioned"), ("Definition", &starting("orders-versioned", "billing", false))],
        )
        .await
        .ok();
        denied(&call(&orders, "StartExecution", &[("FlowName", "orders-versioned")]).await);
        call(
            &orders,
            "StartExecution",
            &[("FlowName", "orders-versioned"), ("ExecutionName", "v1"), ("Qualifier", "1")],
        )
        .await
        .ok();
        // A flow only created later is checked when the caller runs it, not before.
        call(&orders, "StartExecution", &[("FlowName", "orders-parent"), ("ExecutionName", "p1")]).await.ok();

        // The unrestricted key may run them all.
        call(&admin, "StartExecution", &[("FlowName", "orders-top"), ("ExecutionName", "a1")]).await.ok();
        server.stop().await;
    }
}

/// The token a waiting task handed to its child execution.
async fn child_token(client: &Client, flow: &str, execution: &str, child_flow: &str) -> String {
    let events = client
        .wait_event(flow, execution, "TaskSubmitted", WITHIN)
        .await;
    let submitted = events
        .iter()
        .find(|e| e["Type"] == "TaskSubmitted")
        .unwrap();
    let child = json_field(submitted, "EventDetail")["output"]
        .as_str()
        .unwrap_or_else(|| panic!("no child execution name in {submitted}"))
        .to_string();
    let described = client.describe(child_flow, &child).await;
    json_field(&described, "Input")["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in the child's input: {described}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synchronous_runs_check_their_child_flows_too() {
    let server = start(Backend::Sqlite).await;
    let admin = key(&server, "admin");
    admin.create_flow("billing", &pass("billing")).await;
    admin
        .create_flow_with(
            "orders-express",
            &starting("orders-express", "billing", false),
            &[("ExecutionMode", "Express")],
        )
        .await;
    let orders = key(&server, "orders");
    denied(
        &call(
            &orders,
            "StartSyncExecution",
            &[("FlowName", "orders-express")],
        )
        .await,
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_runs_of_other_flows_stay_out_of_reach() {
    let server = start(Backend::Sqlite).await;
    let admin = key(&server, "admin");
    let fan = "Type: StateMachine\nName: billing-fan\nSpecVersion: v1\nStartAt: Fan\nStates:\n  - Type: Map\n    Name: Fan\n    ItemsPath: $Input.items\n    ProcessorConfig:\n      Mode: Distributed\n    Processor:\n      StartAt: Work\n      States:\n        - Type: Wait\n          Name: Work\n          Seconds: 60\n          End: true\n    End: true\n";
    admin.create_flow("billing-fan", fan).await;
    admin.create_flow("orders-1", &pass("orders-1")).await;
    admin
        .start("billing-fan", "run", r#"{"items": [1, 2]}"#)
        .await;
    let events = admin
        .wait_event("billing-fan", "run", "MapRunStarted", WITHIN)
        .await;
    let started = events
        .iter()
        .find(|e| e["Type"] == "MapRunStarted")
        .unwrap();
    let map_run = json_field(started, "EventDetail")["output"]["MapRunName"]
        .as_str()
        .unwrap()
        .to_string();
    let run = [("ExecutionName", "run"), ("MapRunName", map_run.as_str())];

    let orders = key(&server, "orders");
    for action in ["DescribeMapRun", "UpdateMapRun"] {
        let mut params = vec![("FlowName", "billing-fan")];
        params.extend(run);
        denied(&orders.get(action, &params).await);
        // Through a flow of its own, the other flow's execution and map run do not exist.
        let mut params = vec![("FlowName", "orders-1")];
        params.extend(run);
        orders
            .get(action, &params)
            .await
            .err(404, "ExecutionNotExists");
    }
    let children = orders
        .get(
            "ListExecutions",
            &[("FlowName", "orders-1"), ("MapRunName", &map_run)],
        )
        .await;
    assert_eq!(children.ok()["Executions"], Value::Array(vec![]));
    let mut params = vec![("FlowName", "billing-fan")];
    params.extend(run);
    admin.get("DescribeMapRun", &params).await.ok();
    admin
        .call(
            "StopExecution",
            &[("FlowName", "billing-fan"), ("ExecutionName", "run")],
        )
        .await
        .ok();
    server.stop().await;
}
