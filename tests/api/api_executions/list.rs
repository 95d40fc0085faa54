//! ListExecutions (docs/COMPATIBILITY.md#executions): order, paging, the default page, the filters, and no
//! executions of a deleted flow.

use super::*;

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

backend_tests! {
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
}
