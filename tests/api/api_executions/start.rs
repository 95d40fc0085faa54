//! StartExecution (docs/COMPATIBILITY.md#executions): the response, the optional name and input, names in use,
//! refused inputs and names, express flows, and the flow environment an execution carries.

use super::*;

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
}
