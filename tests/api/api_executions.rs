//! Execution actions (docs/COMPATIBILITY.md#executions–4.13): StartExecution, DescribeExecution (long polling),
//! ListExecutions, GetExecutionHistory and StopExecution, over both backends.

use crate::common;

use std::time::{Duration, Instant};

use common::{
    Answer, Client, TestServer, assert_keys, assert_request_id, assert_time_ms, json_field,
    pass_state_machine, wait_state_machine,
};
use serde_json::{Value, json};

const NOT_STOPPED: &str = "1970-01-01T00:00:00Z";
const EXECUTION_KEYS: [&str; 9] = [
    "Name",
    "FlowName",
    "FlowDefinition",
    "Input",
    "Output",
    "Status",
    "StartedTime",
    "StoppedTime",
    "RequestId",
];
const TEN_SECONDS: Duration = Duration::from_secs(10);

/// One flow whose input picks the ending: `{"mode":"wait"}` waits 300 s, `{"mode":"fail"}`
/// fails with `Boom`, anything else succeeds at once with its input as output.
fn router(name: &str) -> String {
    format!(
        r#"Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: route
States:
  - Type: Choice
    Name: route
    Branches:
      - Condition: $Input.mode == "wait"
        Next: hold
      - Condition: $Input.mode == "fail"
        Next: boom
    Default: done
  - Type: Wait
    Name: hold
    Seconds: 300
    End: true
  - Type: Fail
    Name: boom
    Code: Boom
    Detail: it broke
  - Type: Pass
    Name: done
    End: true
"#
    )
}

/// Three Pass states in a row.
fn three_steps(name: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: a\nStates:\n  - Type: Pass\n    Name: a\n    Next: b\n  - Type: Pass\n    Name: b\n    Next: c\n  - Type: Pass\n    Name: c\n    End: true\n"
    )
}

async fn start(client: &Client, params: &[(&str, &str)]) -> Answer {
    client.call("StartExecution", params).await
}

async fn describe(client: &Client, flow: &str, execution: &str) -> Answer {
    client
        .get(
            "DescribeExecution",
            &[("FlowName", flow), ("ExecutionName", execution)],
        )
        .await
}

async fn stop(client: &Client, flow: &str, execution: &str, extra: &[(&str, &str)]) -> Answer {
    let mut params = vec![("FlowName", flow), ("ExecutionName", execution)];
    params.extend_from_slice(extra);
    client.call("StopExecution", &params).await
}

async fn list(client: &Client, flow: &str, extra: &[(&str, &str)]) -> Answer {
    let mut params = vec![("FlowName", flow)];
    params.extend_from_slice(extra);
    client.get("ListExecutions", &params).await
}

fn names(body: &Value) -> Vec<String> {
    body["Executions"]
        .as_array()
        .unwrap_or_else(|| panic!("no Executions in {body}"))
        .iter()
        .map(|e| e["Name"].as_str().unwrap().to_string())
        .collect()
}

/// Every execution name, following `NextToken` page by page; checks each page's size.
async fn list_all(
    client: &Client,
    flow: &str,
    limit: usize,
    extra: &[(&str, &str)],
) -> Vec<String> {
    let limit_text = limit.to_string();
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = vec![("Limit", limit_text.as_str())];
        params.extend_from_slice(extra);
        if let Some(token) = &token {
            params.push(("NextToken", token));
        }
        let body = list(client, flow, &params).await.ok().clone();
        let page = names(&body);
        match body["NextToken"].as_str() {
            Some(next) => {
                assert_eq!(page.len(), limit, "a full page before a NextToken");
                token = Some(next.to_string());
                all.extend(page);
            }
            None => {
                assert!(page.len() <= limit);
                all.extend(page);
                return all;
            }
        }
    }
}

/// The expected ListExecutions order of these executions: start time descending, then name.
fn expected_order(executions: &[Value]) -> Vec<String> {
    let mut keyed: Vec<(i64, String)> = executions
        .iter()
        .map(|e| {
            (
                assert_time_ms(&e["StartedTime"]),
                e["Name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    keyed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, name)| name).collect()
}

fn end_events(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e["Type"].as_str().unwrap(),
                "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionStopped"
            )
        })
        .collect()
}

backend_tests! {
    async fn start_execution_response_shape(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let definition = router("shape");
        client.create_flow("shape", &definition).await;
        let input = r#"{"mode": "wait", "n": 1}"#;
        let answer = start(
            &client,
            &[("FlowName", "shape"), ("ExecutionName", "run-1_a"), ("Input", input)],
        )
        .await;
        let body = answer.ok().clone();
        assert_request_id(&answer);
        assert_keys(&body, &EXECUTION_KEYS);
        assert_eq!(body["Name"], "run-1_a");
        assert_eq!(body["FlowName"], "shape");
        assert_eq!(body["FlowDefinition"], definition.as_str());
        assert_eq!(body["Input"], input, "Input is returned as sent");
        assert_eq!(body["Output"], "");
        assert!(
            matches!(body["Status"].as_str(), Some("Running" | "Starting")),
            "{body}"
        );
        let started = assert_time_ms(&body["StartedTime"]);
        assert!((chrono::Utc::now().timestamp_millis() - started).abs() < 60_000);
        assert_eq!(body["StoppedTime"], NOT_STOPPED);

        client.wait_event("shape", "run-1_a", "StepStarted", TEN_SECONDS).await;
        let described = describe(&client, "shape", "run-1_a").await.ok().clone();
        assert_keys(&described, &EXECUTION_KEYS);
        assert_eq!(described["Status"], "Running");
        assert_eq!(described["StartedTime"], body["StartedTime"]);
        assert_eq!(described["StoppedTime"], NOT_STOPPED);
        assert_eq!(described["Input"], input);
        assert_eq!(described["Output"], "");

        // After it ends: StoppedTime is a real time and Output the result.
        let done = start(
            &client,
            &[("FlowName", "shape"), ("ExecutionName", "quick"), ("Input", r#"{"x": [1, 2]}"#)],
        )
        .await
        .ok()
        .clone();
        assert_eq!(done["Output"], "");
        let ended = client.wait_end("shape", "quick", TEN_SECONDS).await;
        assert_keys(&ended, &EXECUTION_KEYS);
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(json_field(&ended, "Output"), json!({"x": [1, 2]}));
        let stopped = assert_time_ms(&ended["StoppedTime"]);
        assert!(stopped >= assert_time_ms(&ended["StartedTime"]));
        server.stop().await;
    }

    async fn start_execution_without_name_or_input(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("gen", &pass_state_machine("gen")).await;
        let first = start(&client, &[("FlowName", "gen")]).await.ok().clone();
        let second = start(&client, &[("FlowName", "gen"), ("ExecutionName", "")]).await.ok().clone();
        let mut generated = Vec::new();
        for body in [&first, &second] {
            let name = body["Name"].as_str().unwrap().to_string();
            let uuid = uuid::Uuid::parse_str(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(uuid.get_version_num(), 4, "{name}");
            // An absent Input is stored and returned as "".
            assert_eq!(body["Input"], "");
            generated.push(name);
        }
        assert_ne!(generated[0], generated[1]);
        for name in &generated {
            let ended = client.wait_end("gen", name, TEN_SECONDS).await;
            assert_eq!(ended["Status"], "Succeeded");
            assert_eq!(ended["Input"], "");
            assert_eq!(json_field(&ended, "Output"), json!({}));
            let events = client.history("gen", name).await;
            assert_eq!(json_field(&events[0], "EventDetail"), json!({"input": {}}));
        }
        let listed = list(&client, "gen", &[]).await.ok().clone();
        let mut listed_names = names(&listed);
        listed_names.sort();
        generated.sort();
        assert_eq!(listed_names, generated);
        server.stop().await;
    }

    async fn start_execution_with_a_name_in_use(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("names", &router("names")).await;
        let first = client.start("names", "same", r#"{"mode": "wait", "v": 1}"#).await;
        // Still running: the existing execution comes back and the new Input is ignored.
        let again = start(
            &client,
            &[("FlowName", "names"), ("ExecutionName", "same"), ("Input", r#"{"v": 2}"#)],
        )
        .await;
        let again = again.ok();
        assert_eq!(again["Name"], "same");
        assert_eq!(again["Input"], first["Input"]);
        assert_eq!(again["StartedTime"], first["StartedTime"]);
        assert_eq!(again["Status"], "Running");
        assert_eq!(names(list(&client, "names", &[]).await.ok()), ["same"]);

        // Ended: the name cannot be used again.
        stop(&client, "names", "same", &[]).await.ok();
        let answer = start(
            &client,
            &[("FlowName", "names"), ("ExecutionName", "same"), ("Input", "{}")],
        )
        .await;
        answer.err(400, "ExecutionAlreadyExists");
        assert_eq!(answer.message(), "Execution same for flow names already exists.");
        client.start("names", "succeeds", "{}").await;
        client.wait_end("names", "succeeds", TEN_SECONDS).await;
        let answer = start(&client, &[("FlowName", "names"), ("ExecutionName", "succeeds")]).await;
        answer.err(400, "ExecutionAlreadyExists");
        assert_eq!(answer.message(), "Execution succeeds for flow names already exists.");
        // The same name in another flow is another execution.
        client.create_flow("names2", &router("names2")).await;
        client.start("names2", "same", "{}").await;
        server.stop().await;
    }

    async fn start_execution_rejects_bad_input_and_names(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("strict", &pass_state_machine("strict")).await;
        for input in ["[1, 2]", "5", r#""text""#, "true", "null", "garbage", "{\"a\":", "{} {}"] {
            let answer = start(&client, &[("FlowName", "strict"), ("Input", input)]).await;
            answer.err(400, "InvalidArgument");
            assert!(
                answer.message().starts_with("Parameter error: Input must be a JSON object"),
                "{input}: {}",
                answer.message()
            );
        }
        // 32 KiB is the limit, counted in bytes.
        let filler = |total: usize| {
            let text = format!(r#"{{"k":"{}"}}"#, "é".repeat((total - 8) / 2));
            assert_eq!(text.len(), total);
            text
        };
        let answer = start(&client, &[("FlowName", "strict"), ("Input", &filler(32_770))]).await;
        answer.err(400, "EntityTooLarge");
        assert_eq!(
            answer.message(),
            "The payload size exceeds maximum allowed size (32768 bytes)."
        );
        let body = start(
            &client,
            &[("FlowName", "strict"), ("ExecutionName", "largest"), ("Input", &filler(32_768))],
        )
        .await
        .ok()
        .clone();
        assert_eq!(body["Input"].as_str().unwrap().len(), 32_768);

        for bad in ["a:b", "1st", "a b", "é"] {
            let answer = start(&client, &[("FlowName", "strict"), ("ExecutionName", bad)]).await;
            answer.err(400, "InvalidArgument");
            assert_eq!(
                answer.message(),
                format!("Parameter error: ExecutionName '{bad}' must match ^[A-Za-z_][A-Za-z0-9_-]{{0,127}}$")
            );
        }
        let answer = start(&client, &[("Input", "{}")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'FlowName' must be specified.");
        let answer = start(&client, &[("FlowName", "nope")]).await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow nope does not exist.");
        // Only "largest" was started.
        assert_eq!(names(list(&client, "strict", &[]).await.ok()), ["largest"]);
        server.stop().await;
    }

    async fn start_execution_of_an_express_flow_is_refused(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client
            .create_flow_with("fast", &pass_state_machine("fast"), &[("ExecutionMode", "Express")])
            .await;
        let answer = start(&client, &[("FlowName", "fast"), ("ExecutionName", "x")]).await;
        answer.err(400, "ActionNotSupported");
        assert_eq!(answer.message(), "Express execution is not supported.");
        assert_eq!(list(&client, "fast", &[]).await.ok()["Executions"], json!([]));
        server.stop().await;
    }

    async fn executions_carry_the_flow_environment(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client
            .create_flow_with(
                "env",
                &router("env"),
                &[("Environment", r#"{"Variables":[{"Name":"K","Value":"V","Description":"d"}]}"#)],
            )
            .await;
        let started = client.start("env", "e1", r#"{"mode": "wait"}"#).await;
        assert!(started.get("Environment").is_none(), "{started}");
        let described = describe(&client, "env", "e1").await.ok().clone();
        let mut keys = EXECUTION_KEYS.to_vec();
        keys.push("Environment");
        assert_keys(&described, &keys);
        // Executions record the variables with Name and Value only (docs/COMPATIBILITY.md#flows).
        assert_eq!(
            described["Environment"],
            json!({"Variables": [{"Name": "K", "Value": "V"}]})
        );
        let listed = list(&client, "env", &[]).await.ok().clone();
        assert_eq!(listed["Executions"][0]["Environment"], described["Environment"]);
        // Later changes of the flow's variables do not reach running executions.
        client
            .call(
                "UpdateFlow",
                &[("Name", "env"), ("Environment", r#"{"Variables":[{"Name":"K","Value":"W"}]}"#)],
            )
            .await
            .ok();
        assert_eq!(describe(&client, "env", "e1").await.ok()["Environment"], described["Environment"]);
        server.stop().await;
    }

    async fn describe_execution_long_polls_until_the_end(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("pause", &wait_state_machine("pause", 2)).await;
        client.start("pause", "p", r#"{"k": 1}"#).await;
        let asked = Instant::now();
        let answer = client
            .get(
                "DescribeExecution",
                &[("FlowName", "pause"), ("ExecutionName", "p"), ("WaitTimeSeconds", "10")],
            )
            .await;
        let waited = asked.elapsed();
        let body = answer.ok().clone();
        assert_eq!(body["Status"], "Succeeded", "{body}");
        assert!(waited < Duration::from_secs(8), "answered after {waited:?}, not at the end");
        let started = assert_time_ms(&body["StartedTime"]);
        let stopped = assert_time_ms(&body["StoppedTime"]);
        assert!(stopped - started >= 2_000, "the Wait of 2 s took {} ms", stopped - started);
        assert!(
            chrono::Utc::now().timestamp_millis() - started >= 2_000,
            "answered before the Wait ended"
        );
        assert_eq!(json_field(&body, "Output"), json!({"k": 1}));

        // Already ended: answered at once, whatever the wait.
        let asked = Instant::now();
        let again = client
            .get(
                "DescribeExecution",
                &[("FlowName", "pause"), ("ExecutionName", "p"), ("WaitTimeSeconds", "60")],
            )
            .await
            .ok()
            .clone();
        assert!(asked.elapsed() < Duration::from_secs(2));
        assert_eq!(again["Status"], "Succeeded");

        // Still running when the wait runs out: the current state.
        client.create_flow("long", &wait_state_machine("long", 300)).await;
        client.start("long", "l", "{}").await;
        let asked = Instant::now();
        let running = client
            .get(
                "DescribeExecution",
                &[("FlowName", "long"), ("ExecutionName", "l"), ("WaitTimeSeconds", "1")],
            )
            .await
            .ok()
            .clone();
        let waited = asked.elapsed();
        assert_eq!(running["Status"], "Running");
        assert!(waited >= Duration::from_millis(900), "gave up after {waited:?}");
        assert!(waited < Duration::from_secs(6), "held for {waited:?}");
        // WaitTimeSeconds=0 does not wait.
        let asked = Instant::now();
        client
            .get(
                "DescribeExecution",
                &[("FlowName", "long"), ("ExecutionName", "l"), ("WaitTimeSeconds", "0")],
            )
            .await
            .ok();
        assert!(asked.elapsed() < Duration::from_millis(900));

        // A stop ends a long poll at once.
        let poller = {
            let client = client.clone();
            tokio::spawn(async move {
                let asked = Instant::now();
                let body = client
                    .get(
                        "DescribeExecution",
                        &[("FlowName", "long"), ("ExecutionName", "l"), ("WaitTimeSeconds", "30")],
                    )
                    .await
                    .ok()
                    .clone();
                (asked.elapsed(), body)
            })
        };
        // Whether the stop comes before or during the poll, the poll ends with it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop(&client, "long", "l", &[]).await.ok();
        let (waited, body) = poller.await.unwrap();
        assert_eq!(body["Status"], "Stopped");
        assert!(waited < Duration::from_secs(10), "held for {waited:?} after the stop");
        server.stop().await;
    }

    async fn describe_execution_errors(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("known", &pass_state_machine("known")).await;
        for wait in ["61", "-1", "abc", "1.5"] {
            let answer = client
                .get(
                    "DescribeExecution",
                    &[("FlowName", "known"), ("ExecutionName", "x"), ("WaitTimeSeconds", wait)],
                )
                .await;
            answer.err(400, "InvalidArgument");
            assert!(
                answer
                    .message()
                    .starts_with("Parameter error: WaitTimeSeconds must be an integer between 0 and 60, got "),
                "{wait}: {}",
                answer.message()
            );
        }
        let answer = describe(&client, "known", "nope").await;
        answer.err(404, "ExecutionNotExists");
        assert_eq!(answer.message(), "Execution nope for flow known does not exist.");
        // Lookups accept names the creation rule refuses (generated and sync names).
        let odd = ["a:b", "run:5d0c1b9e-4e0c-4a57-9d87-0d2f3b1c5a7e", "1st", "with space", "é"];
        for name in odd {
            let answer = describe(&client, "known", name).await;
            answer.err(404, "ExecutionNotExists");
            assert_eq!(answer.message(), format!("Execution {name} for flow known does not exist."));
            stop(&client, "known", name, &[]).await.err(404, "ExecutionNotExists");
            client
                .get("GetExecutionHistory", &[("FlowName", "known"), ("ExecutionName", name)])
                .await
                .err(404, "ExecutionNotExists");
        }
        let answer = describe(&client, "known", &"x".repeat(257)).await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: ExecutionName "));
        describe(&client, "known", &"x".repeat(256)).await.err(404, "ExecutionNotExists");
        let answer = describe(&client, "unknown", "x").await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow unknown does not exist.");
        let answer = client.get("DescribeExecution", &[("FlowName", "known")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'ExecutionName' must be specified.");
        server.stop().await;
    }

    async fn list_executions_order_and_paging(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("many", &pass_state_machine("many")).await;
        let mut started = Vec::new();
        // Names out of alphabetical order, so the order is not by name alone.
        for i in [3, 0, 6, 1, 5, 2, 4, 9, 7, 8, 10] {
            started.push(client.start("many", &format!("e{i:02}"), "{}").await);
        }
        let expected = expected_order(&started);
        let body = list(&client, "many", &[]).await.ok().clone();
        assert_keys(&body, &["Executions", "RequestId"]);
        assert_eq!(names(&body), expected);
        for limit in [1, 3, 4, 10, 11, 100] {
            assert_eq!(list_all(&client, "many", limit, &[]).await, expected, "Limit {limit}");
        }
        // NextToken is the name of the first execution of the next page.
        let page = list(&client, "many", &[("Limit", "4")]).await.ok().clone();
        assert_eq!(page["NextToken"], expected[4].as_str());
        let next = list(&client, "many", &[("Limit", "4"), ("NextToken", &expected[4])]).await.ok().clone();
        assert_eq!(names(&next), expected[4..8]);
        // An unknown token designates nothing: an empty page.
        let unknown = list(&client, "many", &[("NextToken", "e05x")]).await.ok().clone();
        assert_eq!(unknown["Executions"], json!([]));
        assert!(unknown.get("NextToken").is_none());

        for (limit, shown) in [("0", "0"), ("101", "101"), ("abc", "'abc'"), ("-5", "-5")] {
            let answer = list(&client, "many", &[("Limit", limit)]).await;
            answer.err(400, "InvalidArgument");
            assert_eq!(
                answer.message(),
                format!("Parameter error: Limit must be an integer between 1 and 100, got {shown}")
            );
        }
        let answer = list(&client, "ghost", &[]).await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow ghost does not exist.");
        let answer = client.get("ListExecutions", &[]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'FlowName' must be specified.");
        server.stop().await;
    }

    async fn list_executions_default_page_is_60(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("sixty", &pass_state_machine("sixty")).await;
        let mut started = Vec::new();
        for i in 0..62 {
            started.push(client.start("sixty", &format!("r{i:02}"), "{}").await);
        }
        let expected = expected_order(&started);
        let first = list(&client, "sixty", &[]).await.ok().clone();
        assert_eq!(names(&first), expected[..60]);
        assert_eq!(first["NextToken"], expected[60].as_str());
        let rest = list(&client, "sixty", &[("NextToken", &expected[60])]).await.ok().clone();
        assert_eq!(names(&rest), expected[60..]);
        assert!(rest.get("NextToken").is_none());
        server.stop().await;
    }

    async fn list_executions_filters(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let definition = router("mixed");
        client.create_flow("mixed", &definition).await;
        let plan = [
            ("ok_1", r#"{}"#),
            ("wait_1", r#"{"mode": "wait"}"#),
            ("fail_1", r#"{"mode": "fail"}"#),
            ("ok_2", r#"{"v": 2}"#),
            ("wait_2", r#"{"mode": "wait"}"#),
            ("stop_1", r#"{"mode": "wait"}"#),
        ];
        let mut started = Vec::new();
        for (name, input) in plan {
            started.push(client.start("mixed", name, input).await);
        }
        for name in ["ok_1", "ok_2", "fail_1"] {
            client.wait_end("mixed", name, TEN_SECONDS).await;
        }
        stop(&client, "mixed", "stop_1", &[]).await.ok();
        let all = expected_order(&started);
        let only = |keep: &[&str]| -> Vec<String> {
            all.iter().filter(|n| keep.contains(&n.as_str())).cloned().collect()
        };

        for (status, expected) in [
            ("Running", only(&["wait_1", "wait_2"])),
            ("Succeeded", only(&["ok_1", "ok_2"])),
            ("Failed", only(&["fail_1"])),
            ("Stopped", only(&["stop_1"])),
            ("TimedOut", vec![]),
            ("Starting", vec![]),
        ] {
            let body = list(&client, "mixed", &[("Status", status)]).await.ok().clone();
            assert_eq!(names(&body), expected, "Status {status}");
            for execution in body["Executions"].as_array().unwrap() {
                assert_eq!(execution["Status"], status);
            }
        }
        let answer = list(&client, "mixed", &[("Status", "Done")]).await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Status "), "{}", answer.message());
        // Statuses are case-sensitive wire values.
        list(&client, "mixed", &[("Status", "running")]).await.err(400, "InvalidArgument");

        let body = list(&client, "mixed", &[("ExecutionNamePrefix", "wait_")]).await.ok().clone();
        assert_eq!(names(&body), only(&["wait_1", "wait_2"]));
        let body = list(&client, "mixed", &[("ExecutionNamePrefix", "ok_2")]).await.ok().clone();
        assert_eq!(names(&body), ["ok_2"]);
        let body = list(&client, "mixed", &[("ExecutionNamePrefix", "zz")]).await.ok().clone();
        assert_eq!(body["Executions"], json!([]));
        // A prefix is not a pattern.
        let body = list(&client, "mixed", &[("ExecutionNamePrefix", "%")]).await.ok().clone();
        assert_eq!(body["Executions"], json!([]));
        let body = list(&client, "mixed", &[("ExecutionNamePrefix", "_")]).await.ok().clone();
        assert_eq!(body["Executions"], json!([]));
        // Filters combine, and page.
        let body = list(
            &client,
            "mixed",
            &[("ExecutionNamePrefix", "wait_"), ("Status", "Running"), ("Limit", "1")],
        )
        .await
        .ok()
        .clone();
        let expected = only(&["wait_1", "wait_2"]);
        assert_eq!(names(&body), expected[..1]);
        assert_eq!(body["NextToken"], expected[1].as_str());
        assert_eq!(
            list_all(&client, "mixed", 1, &[("ExecutionNamePrefix", "wait_"), ("Status", "Running")]).await,
            expected
        );

        // Started-time bounds are inclusive.
        let times: Vec<(i64, String, String)> = started
            .iter()
            .map(|e| {
                (
                    assert_time_ms(&e["StartedTime"]),
                    e["StartedTime"].as_str().unwrap().to_string(),
                    e["Name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let (mid_ms, mid_text, _) = times[2].clone();
        let within = |low: i64, high: i64| -> Vec<String> {
            let keep: Vec<&str> = times
                .iter()
                .filter(|(t, _, _)| *t >= low && *t <= high)
                .map(|(_, _, n)| n.as_str())
                .collect();
            only(&keep)
        };
        let body = list(&client, "mixed", &[("StartedTimeBegin", &mid_text), ("StartedTimeEnd", &mid_text)])
            .await
            .ok()
            .clone();
        assert!(names(&body).contains(&"fail_1".to_string()));
        assert_eq!(names(&body), within(mid_ms, mid_ms));
        let body = list(&client, "mixed", &[("StartedTimeBegin", &mid_text)]).await.ok().clone();
        assert_eq!(names(&body), within(mid_ms, i64::MAX));
        let body = list(&client, "mixed", &[("StartedTimeEnd", &mid_text)]).await.ok().clone();
        assert_eq!(names(&body), within(i64::MIN, mid_ms));
        let after = chrono::DateTime::from_timestamp_millis(times[5].0 + 1)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let body = list(&client, "mixed", &[("StartedTimeBegin", &after)]).await.ok().clone();
        assert_eq!(body["Executions"], json!([]));
        // Any RFC 3339 offset is understood.
        let shifted = chrono::DateTime::from_timestamp_millis(mid_ms)
            .unwrap()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        let body = list(&client, "mixed", &[("StartedTimeBegin", &shifted), ("StartedTimeEnd", &shifted)])
            .await
            .ok()
            .clone();
        assert_eq!(names(&body), within(mid_ms, mid_ms));
        for name in ["StartedTimeBegin", "StartedTimeEnd"] {
            let answer = list(&client, "mixed", &[(name, "yesterday")]).await;
            answer.err(400, "InvalidArgument");
            assert!(
                answer.message().starts_with(&format!("Parameter error: {name} ")),
                "{}",
                answer.message()
            );
        }

        // MetadataOnly omits FlowDefinition, Input and Output; booleans arrive as True/False.
        for yes in ["True", "true", "TRUE"] {
            let body = list(&client, "mixed", &[("MetadataOnly", yes)]).await.ok().clone();
            assert_eq!(names(&body), all);
            for execution in body["Executions"].as_array().unwrap() {
                assert_keys(execution, &["Name", "FlowName", "Status", "StartedTime", "StoppedTime"]);
            }
        }
        for no in ["False", "false"] {
            let body = list(&client, "mixed", &[("MetadataOnly", no)]).await.ok().clone();
            for execution in body["Executions"].as_array().unwrap() {
                assert_keys(
                    execution,
                    &["Name", "FlowName", "FlowDefinition", "Input", "Output", "Status", "StartedTime", "StoppedTime"],
                );
                assert_eq!(execution["FlowDefinition"], definition.as_str());
            }
        }
        let answer = list(&client, "mixed", &[("MetadataOnly", "yes")]).await;
        answer.err(400, "InvalidArgument");
        assert_eq!(answer.message(), "Parameter error: MetadataOnly must be true or false, got 'yes'");

        // Items are execution objects: Output only for the succeeded, StoppedTime only when ended.
        let body = list(&client, "mixed", &[]).await.ok().clone();
        for execution in body["Executions"].as_array().unwrap() {
            let name = execution["Name"].as_str().unwrap();
            match execution["Status"].as_str().unwrap() {
                "Running" => {
                    assert_eq!(execution["StoppedTime"], NOT_STOPPED, "{name}");
                    assert_eq!(execution["Output"], "", "{name}");
                }
                "Succeeded" => {
                    assert_time_ms(&execution["StoppedTime"]);
                    assert!(json_field(execution, "Output").is_object());
                }
                _ => {
                    assert_time_ms(&execution["StoppedTime"]);
                    assert_eq!(execution["Output"], "", "{name}");
                }
            }
        }
        server.stop().await;
    }

    async fn list_executions_never_shows_a_deleted_flow(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("phoenix", &router("phoenix")).await;
        client.start("phoenix", "old_wait", r#"{"mode": "wait"}"#).await;
        client.start("phoenix", "old_done", "{}").await;
        client.wait_end("phoenix", "old_done", TEN_SECONDS).await;
        client.call("DeleteFlow", &[("Name", "phoenix")]).await.ok();
        list(&client, "phoenix", &[]).await.err(404, "FlowNotExists");
        client.create_flow("phoenix", &router("phoenix")).await;
        assert_eq!(list(&client, "phoenix", &[]).await.ok()["Executions"], json!([]));
        client.start("phoenix", "new_run", "{}").await;
        assert_eq!(names(list(&client, "phoenix", &[]).await.ok()), ["new_run"]);
        for filter in [("Status", "Stopped"), ("Status", "Succeeded"), ("ExecutionNamePrefix", "old")] {
            let body = list(&client, "phoenix", &[filter]).await.ok().clone();
            assert!(!names(&body).iter().any(|n| n.starts_with("old")), "{filter:?}: {body}");
        }
        // An old name as NextToken designates nothing in the new flow.
        let body = list(&client, "phoenix", &[("NextToken", "old_done")]).await.ok().clone();
        assert_eq!(body["Executions"], json!([]));
        server.stop().await;
    }

    async fn execution_history_shape_and_paging(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("steps", &three_steps("steps")).await;
        client.start("steps", "h", r#"{"n": 1}"#).await;
        client.wait_end("steps", "h", TEN_SECONDS).await;
        let answer = client
            .get("GetExecutionHistory", &[("FlowName", "steps"), ("ExecutionName", "h")])
            .await;
        let body = answer.ok().clone();
        assert_request_id(&answer);
        assert_keys(&body, &["Events", "RequestId"]);
        let events = body["Events"].as_array().unwrap().clone();
        let types: Vec<&str> = events.iter().map(|e| e["Type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted", "StepEntered", "StepExited", "StepEntered", "StepExited",
                "StepEntered", "StepExited", "ExecutionSucceeded"
            ]
        );
        let mut previous_time = 0;
        for (index, event) in events.iter().enumerate() {
            assert_keys(event, &["EventId", "Type", "StepName", "Time", "ScheduleEventId", "EventDetail"]);
            assert!(event["EventId"].is_i64(), "EventId is a JSON integer: {event}");
            assert_eq!(event["EventId"], json!(index + 1));
            assert!(event["ScheduleEventId"].is_i64(), "ScheduleEventId is a JSON integer: {event}");
            assert!(event["EventDetail"].is_string(), "EventDetail is a string: {event}");
            assert!(json_field(event, "EventDetail").is_object(), "{event}");
            let time = assert_time_ms(&event["Time"]);
            assert!(time >= previous_time, "events out of time order");
            previous_time = time;
        }
        let steps: Vec<&str> = events.iter().map(|e| e["StepName"].as_str().unwrap()).collect();
        assert_eq!(steps, ["", "a", "a", "b", "b", "c", "c", ""]);
        assert_eq!(events[0]["ScheduleEventId"], 0);
        assert_eq!(events[7]["ScheduleEventId"], 0);
        // StepExited points to its StepEntered.
        assert_eq!(events[2]["ScheduleEventId"], 2);
        assert_eq!(events[6]["ScheduleEventId"], 6);
        assert_eq!(json_field(&events[0], "EventDetail"), json!({"input": {"n": 1}}));
        assert_eq!(json_field(&events[7], "EventDetail"), json!({"output": {"n": 1}}));
        assert_eq!(end_events(&events).len(), 1);

        // Paging: NextToken is the next EventId as decimal text.
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = vec![("FlowName", "steps"), ("ExecutionName", "h"), ("Limit", "3")];
            if let Some(token) = &token {
                params.push(("NextToken", token));
            }
            let page = client.get("GetExecutionHistory", &params).await.ok().clone();
            let ids: Vec<i64> = page["Events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["EventId"].as_i64().unwrap())
                .collect();
            seen.extend(ids.iter().copied());
            match page["NextToken"].as_str() {
                Some(next) => {
                    assert_eq!(ids.len(), 3);
                    assert_eq!(next, (ids[2] + 1).to_string());
                    token = Some(next.to_string());
                }
                None => break,
            }
        }
        assert_eq!(seen, (1..=8).collect::<Vec<i64>>());
        let page = client
            .get(
                "GetExecutionHistory",
                &[("FlowName", "steps"), ("ExecutionName", "h"), ("Limit", "4"), ("NextToken", "5")],
            )
            .await
            .ok()
            .clone();
        assert_eq!(page["Events"][0]["EventId"], 5);
        assert_eq!(page["Events"].as_array().unwrap().len(), 4);
        assert!(page.get("NextToken").is_none(), "the last page ends exactly: {page}");
        for token in ["abc", "99"] {
            let page = client
                .get(
                    "GetExecutionHistory",
                    &[("FlowName", "steps"), ("ExecutionName", "h"), ("NextToken", token)],
                )
                .await
                .ok()
                .clone();
            assert_eq!(page["Events"], json!([]), "NextToken {token}");
            assert!(page.get("NextToken").is_none());
        }
        for (limit, shown) in [("0", "0"), ("1000", "1000"), ("x", "'x'")] {
            let answer = client
                .get(
                    "GetExecutionHistory",
                    &[("FlowName", "steps"), ("ExecutionName", "h"), ("Limit", limit)],
                )
                .await;
            answer.err(400, "InvalidArgument");
            assert_eq!(
                answer.message(),
                format!("Parameter error: Limit must be an integer between 1 and 999, got {shown}")
            );
        }
        client
            .get(
                "GetExecutionHistory",
                &[("FlowName", "steps"), ("ExecutionName", "h"), ("Limit", "999")],
            )
            .await
            .ok();
        let answer = client
            .get("GetExecutionHistory", &[("FlowName", "steps"), ("ExecutionName", "nope")])
            .await;
        answer.err(404, "ExecutionNotExists");
        assert_eq!(answer.message(), "Execution nope for flow steps does not exist.");
        client
            .get("GetExecutionHistory", &[("FlowName", "ghost"), ("ExecutionName", "h")])
            .await
            .err(404, "FlowNotExists");

        // A running execution has no end event yet.
        client.create_flow("idle", &wait_state_machine("idle", 300)).await;
        client.start("idle", "i", "{}").await;
        let events = client.wait_event("idle", "i", "StepStarted", TEN_SECONDS).await;
        let types: Vec<&str> = events.iter().map(|e| e["Type"].as_str().unwrap()).collect();
        assert_eq!(types, ["ExecutionStarted", "StepEntered", "StepStarted"]);
        assert!(json_field(&events[2], "EventDetail")["until"].is_string());
        server.stop().await;
    }

    async fn failed_execution_history(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("failing", &router("failing")).await;
        client.start("failing", "f", r#"{"mode": "fail"}"#).await;
        let ended = client.wait_end("failing", "f", TEN_SECONDS).await;
        assert_eq!(ended["Status"], "Failed");
        assert_eq!(ended["Output"], "");
        let events = client.history("failing", "f").await;
        assert_eq!(events[0]["Type"], "ExecutionStarted");
        let ends = end_events(&events);
        assert_eq!(ends.len(), 1);
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionFailed");
        assert_eq!(
            json_field(last, "EventDetail"),
            json!({"error": "Boom", "cause": "it broke"})
        );
        server.stop().await;
    }

    async fn stop_a_waiting_execution(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client
            .create_flow_with("roled", &router("roled"), &[("RoleArn", "acs:ram::1:role/fnf")])
            .await;
        client.start("roled", "s", r#"{"mode": "wait"}"#).await;
        client.wait_event("roled", "s", "StepStarted", TEN_SECONDS).await;
        let answer = stop(&client, "roled", "s", &[("Error", "Halted"), ("Cause", "by hand")]).await;
        let body = answer.ok().clone();
        assert_request_id(&answer);
        let mut keys = EXECUTION_KEYS.to_vec();
        keys.push("RoleArn");
        assert_keys(&body, &keys);
        assert_eq!(body["RoleArn"], "acs:ram::1:role/fnf");
        assert_eq!(body["Status"], "Stopped");
        assert_eq!(body["Output"], "");
        let stopped = assert_time_ms(&body["StoppedTime"]);
        assert!(stopped >= assert_time_ms(&body["StartedTime"]));

        let described = describe(&client, "roled", "s").await.ok().clone();
        assert_keys(&described, &EXECUTION_KEYS);
        assert_eq!(described["Status"], "Stopped");
        assert_eq!(described["StoppedTime"], body["StoppedTime"]);
        let events = client.history("roled", "s").await;
        assert_eq!(end_events(&events).len(), 1);
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionStopped");
        assert_eq!(last["StepName"], "");
        assert_eq!(
            json_field(last, "EventDetail"),
            json!({"error": "Halted", "cause": "by hand"})
        );
        assert_eq!(last["EventId"], json!(events.len()));

        // Stopping again: it has already completed.
        let answer = stop(&client, "roled", "s", &[]).await;
        answer.err(400, "ExecutionAlreadyCompleted");
        assert_eq!(answer.message(), "Execution 's' for flow 'roled' has already completed.");
        // A succeeded one too.
        client.start("roled", "quick", "{}").await;
        client.wait_end("roled", "quick", TEN_SECONDS).await;
        let answer = stop(&client, "roled", "quick", &[("Error", "E")]).await;
        answer.err(400, "ExecutionAlreadyCompleted");
        assert_eq!(answer.message(), "Execution 'quick' for flow 'roled' has already completed.");
        assert_eq!(describe(&client, "roled", "quick").await.ok()["Status"], "Succeeded");

        // Without a role, no RoleArn member; without Error and Cause the event has neither.
        client.create_flow("plain", &router("plain")).await;
        client.start("plain", "p", r#"{"mode": "wait"}"#).await;
        let body = stop(&client, "plain", "p", &[]).await.ok().clone();
        assert_keys(&body, &EXECUTION_KEYS);
        assert_eq!(body["Status"], "Stopped");
        let events = client.history("plain", "p").await;
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionStopped");
        assert_eq!(json_field(last, "EventDetail"), json!({}));
        server.stop().await;
    }

    async fn stop_execution_errors(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("halt", &router("halt")).await;
        client.start("halt", "w", r#"{"mode": "wait"}"#).await;
        let long_error = "e".repeat(129);
        let long_cause = "c".repeat(4097);
        for (extra, message) in [
            (("Error", long_error.as_str()), "Parameter error: Error must be between 1 and 128 characters long, got 129"),
            (("Cause", long_cause.as_str()), "Parameter error: Cause must be between 1 and 4096 characters long, got 4097"),
        ] {
            let answer = stop(&client, "halt", "w", &[extra]).await;
            answer.err(400, "InvalidArgument");
            assert_eq!(answer.message(), message);
        }
        assert_eq!(describe(&client, "halt", "w").await.ok()["Status"], "Running");
        // The limits count characters, not bytes.
        let error = "é".repeat(128);
        let cause = "ç".repeat(4096);
        stop(&client, "halt", "w", &[("Error", &error), ("Cause", &cause)]).await.ok();
        let events = client.history("halt", "w").await;
        assert_eq!(
            json_field(events.last().unwrap(), "EventDetail"),
            json!({"error": error, "cause": cause})
        );

        let answer = stop(&client, "halt", "nope", &[]).await;
        answer.err(404, "ExecutionNotExists");
        assert_eq!(answer.message(), "Execution nope for flow halt does not exist.");
        let answer = stop(&client, "ghost", "w", &[]).await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow ghost does not exist.");
        let answer = client.call("StopExecution", &[("FlowName", "halt")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'ExecutionName' must be specified.");
        server.stop().await;
    }

    async fn running_executions_per_account_are_limited(backend) {
        let server = TestServer::start_with(backend, |config| {
            config.max_running_executions_per_account = 5;
        })
        .await;
        let client = server.client();
        client.create_flow("busy", &router("busy")).await;
        let wait = json!({"mode": "wait"}).to_string();
        start(&client, &[("FlowName", "busy"), ("ExecutionName", "early"), ("Input", &wait)]).await.ok();
        // Twelve at once for four places, written together by the group commit: exactly
        // four start, and the others are refused without failing them.
        let starts: Vec<_> = (0..12)
            .map(|i| {
                let (client, wait) = (client.clone(), wait.clone());
                tokio::spawn(async move {
                    let name = format!("racer{i}");
                    start(&client, &[("FlowName", "busy"), ("ExecutionName", &name), ("Input", &wait)]).await
                })
            })
            .collect();
        assert_eq!(common::count_successes(starts, 429, "ResourceThrottled").await, 4);
        let running = |client: Client| async move {
            names(list(&client, "busy", &[("Status", "Running")]).await.ok()).len()
        };
        assert_eq!(running(client.clone()).await, 5);
        // An execution that ends in its first step never runs beside the others.
        start(&client, &[("FlowName", "busy"), ("ExecutionName", "quick")]).await.ok();
        assert_eq!(client.describe("busy", "quick").await["Status"], "Succeeded");
        // A stopped one frees its place.
        let refused =
            start(&client, &[("FlowName", "busy"), ("ExecutionName", "late"), ("Input", &wait)]).await;
        refused.err(429, "ResourceThrottled");
        assert_eq!(
            refused.message(),
            "The request was throttled: the account already has the maximum of 5 running executions."
        );
        client.call("StopExecution", &[("FlowName", "busy"), ("ExecutionName", "early")]).await.ok();
        start(&client, &[("FlowName", "busy"), ("ExecutionName", "late"), ("Input", &wait)]).await.ok();
        assert_eq!(running(client.clone()).await, 5);
        server.stop().await;
    }

    async fn concurrent_starts_of_one_name_make_one_execution(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("crowd", &router("crowd")).await;
        let starts = (0..8).map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let input = json!({"mode": "wait", "i": i}).to_string();
                start(&client, &[("FlowName", "crowd"), ("ExecutionName", "one"), ("Input", &input)])
                    .await
                    .ok()
                    .clone()
            })
        });
        let mut bodies = Vec::new();
        for task in starts.collect::<Vec<_>>() {
            bodies.push(task.await.unwrap());
        }
        for body in &bodies {
            assert_eq!(body["Name"], "one");
            assert_eq!(body["StartedTime"], bodies[0]["StartedTime"]);
            assert_eq!(body["Input"], bodies[0]["Input"]);
        }
        assert_eq!(names(list(&client, "crowd", &[]).await.ok()), ["one"]);
        let events = client.wait_event("crowd", "one", "StepStarted", TEN_SECONDS).await;
        assert_eq!(events.iter().filter(|e| e["Type"] == "ExecutionStarted").count(), 1);
        server.stop().await;
    }
}
