//! CreateFlow (docs/COMPATIBILITY.md#flows): the response, every parameter rule, the definition checks
//! and the express-mode limits, which UpdateFlow applies too.

use super::*;

const NAME_RULE: &str = "must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$";
const FLOW_KEYS: [&str; 9] = [
    "Name",
    "Id",
    "Description",
    "Definition",
    "Type",
    "ExecutionMode",
    "CreatedTime",
    "LastModifiedTime",
    "RequestId",
];

backend_tests! {
    async fn create_fdl_flow_echoes_every_field(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let answer = create(
            &client,
            &[("Name", "fdl_flow"), ("Definition", FDL_PASS), ("Type", "FDL")],
        )
        .await;
        let body = answer.ok();
        assert_request_id(&answer);
        assert_eq!(
            answer.headers.get("content-type").unwrap(),
            "application/json;charset=utf-8"
        );
        // Optional members with no value are omitted, never null.
        assert_keys(body, &FLOW_KEYS);
        assert_eq!(body["Name"], "fdl_flow");
        assert_eq!(body["Definition"], FDL_PASS);
        assert_eq!(body["Description"], "", "an absent Description is empty");
        assert_eq!(body["Type"], "FDL");
        assert_eq!(body["ExecutionMode"], "Standard");
        let id = body["Id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "Id {id} is not a UUID");
        let created = assert_time_ms(&body["CreatedTime"]);
        assert_eq!(assert_time_ms(&body["LastModifiedTime"]), created);
        let now = chrono::Utc::now().timestamp_millis();
        assert!((now - created).abs() < 60_000, "CreatedTime {created} is not now");

        let described = describe_flow(&client, "fdl_flow").await;
        assert_request_id(&described);
        assert_ne!(described.body["RequestId"], body["RequestId"]);
        assert_eq!(flow_object(described.ok()), flow_object(body));

        let listed = client.get("ListFlows", &[]).await.ok().clone();
        assert_keys(&listed, &["Flows", "RequestId"]);
        assert_eq!(listed["Flows"], json!([flow_object(body)]));
        server.stop().await;
    }

    async fn create_state_machine_flow_with_every_optional_field(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let definition = pass_state_machine("sm_flow");
        let environment =
            r#"{"Variables":[{"Name":"K","Value":"V","Description":"d"},{"Name":"K2","Value":"","Description":""}]}"#;
        let body = create(
            &client,
            &[
                ("Name", "sm_flow"),
                ("Definition", &definition),
                ("Description", "a state machine"),
                ("Type", "DEFAULT"),
                ("RoleArn", "acs:ram::1111111111111111:role/fnf"),
                ("ExecutionMode", "Express"),
                ("ExternalStorageLocation", "oss://bucket/prefix"),
                ("ResourceGroupId", "rg-acfm"),
                ("Environment", environment),
            ],
        )
        .await
        .ok()
        .clone();
        let mut keys = FLOW_KEYS.to_vec();
        keys.extend(["RoleArn", "ExternalStorageLocation", "ResourceGroupId", "Environment"]);
        assert_keys(&body, &keys);
        assert_eq!(body["Definition"], definition.as_str());
        assert_eq!(body["Description"], "a state machine");
        assert_eq!(body["Type"], "DEFAULT", "Type is stored as given");
        assert_eq!(body["RoleArn"], "acs:ram::1111111111111111:role/fnf");
        assert_eq!(body["ExecutionMode"], "Express");
        assert_eq!(body["ExternalStorageLocation"], "oss://bucket/prefix");
        assert_eq!(body["ResourceGroupId"], "rg-acfm");
        // Sent as a JSON string, returned as an object (docs/COMPATIBILITY.md#responses).
        assert_eq!(
            body["Environment"],
            json!({"Variables": [
                {"Name": "K", "Value": "V", "Description": "d"},
                {"Name": "K2", "Value": "", "Description": ""}
            ]})
        );
        let described = describe_flow(&client, "sm_flow").await;
        assert_eq!(flow_object(described.ok()), flow_object(&body));

        // An empty ExecutionMode means Standard; a state machine may be typed FDL too.
        let standard = create(
            &client,
            &[
                ("Name", "sm_standard"),
                ("Definition", &pass_state_machine("sm_standard")),
                ("Type", "FDL"),
                ("ExecutionMode", ""),
            ],
        )
        .await
        .ok()
        .clone();
        assert_eq!(standard["ExecutionMode"], "Standard");
        assert_eq!(standard["Type"], "FDL");
        server.stop().await;
    }

    async fn create_flow_rejects_bad_type_mode_and_environment(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let base = |extra: (&'static str, &'static str)| {
            let mut params = vec![("Name", "f"), ("Definition", FDL_PASS), ("Type", "FDL")];
            params.retain(|(k, _)| *k != extra.0);
            params.push(extra);
            params
        };
        let answer = create(&client, &base(("Type", "YAML"))).await;
        answer.err(400, "InvalidArgument");
        assert_eq!(
            answer.message(),
            "Parameter error: Type must be FDL or DEFAULT, got 'YAML'"
        );
        let answer = create(&client, &base(("Type", "fdl"))).await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Type "), "{}", answer.message());

        let answer = create(&client, &base(("ExecutionMode", "Fast"))).await;
        answer.err(400, "InvalidArgument");
        assert!(
            answer.message().starts_with("Parameter error: ExecutionMode "),
            "{}",
            answer.message()
        );

        for environment in [
            "not json",
            "[]",
            r#""text""#,
            r#"{"Variables":"x"}"#,
            r#"{"Variables":[1]}"#,
            r#"{"Variables":[{"Value":"v"}]}"#,
            r#"{"Variables":[{"Name":"K","Value":1}]}"#,
            r#"{"Variables":[{"Name":"K","Value":"a"},{"Name":"K","Value":"b"}]}"#,
        ] {
            let answer = create(&client, &base(("Environment", environment))).await;
            answer.err(400, "InvalidArgument");
            assert!(
                answer.message().starts_with("Parameter error: Environment "),
                "{environment}: {}",
                answer.message()
            );
        }
        // Nothing was created by the rejected calls.
        describe_flow(&client, "f").await.err(404, "FlowNotExists");
        server.stop().await;
    }

    async fn create_flow_name_rule(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let long = "a".repeat(129);
        for bad in ["1abc", "-a", "a b", "a:b", "a.b", "é", "a/b", long.as_str()] {
            let answer = create(
                &client,
                &[("Name", bad), ("Definition", FDL_PASS), ("Type", "FDL")],
            )
            .await;
            answer.err(400, "InvalidArgument");
            assert!(
                answer.message().starts_with("Parameter error: Name '"),
                "{bad}: {}",
                answer.message()
            );
            assert!(answer.message().ends_with(NAME_RULE), "{bad}: {}", answer.message());
        }
        let answer = create(
            &client,
            &[("Name", "a b"), ("Definition", FDL_PASS), ("Type", "FDL")],
        )
        .await;
        assert_eq!(answer.message(), format!("Parameter error: Name 'a b' {NAME_RULE}"));

        let longest = format!("_{}", "x-9".repeat(42) + "z");
        assert_eq!(longest.len(), 128);
        for good in ["a", "_", "Z9", "my_flow-1", longest.as_str()] {
            let body = create(
                &client,
                &[("Name", good), ("Definition", FDL_PASS), ("Type", "FDL")],
            )
            .await
            .ok()
            .clone();
            assert_eq!(body["Name"], good);
        }
        // Names are case-sensitive.
        create(&client, &[("Name", "A"), ("Definition", FDL_PASS), ("Type", "FDL")])
            .await
            .ok();
        server.stop().await;
    }

    async fn create_flow_duplicate_and_missing_params(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let first = client.create_flow("dup", FDL_PASS).await;
        let answer = create(
            &client,
            &[("Name", "dup"), ("Definition", FDL_PASS_2), ("Type", "FDL")],
        )
        .await;
        answer.err(409, "FlowAlreadyExists");
        assert_eq!(answer.message(), "Flow dup already exists.");
        assert_request_id(&answer);
        // The first flow is untouched.
        let described = describe_flow(&client, "dup").await;
        assert_eq!(flow_object(described.ok()), flow_object(&first));

        let all = [("Name", "m"), ("Definition", FDL_PASS), ("Type", "FDL")];
        for missing in ["Name", "Definition", "Type"] {
            let params: Vec<_> = all.iter().copied().filter(|(k, _)| *k != missing).collect();
            let answer = create(&client, &params).await;
            answer.err(400, "MissingRequiredParams");
            assert_eq!(
                answer.message(),
                format!("The HTTP query '{missing}' must be specified.")
            );
            // An empty value counts as missing.
            let mut params = params.clone();
            params.push((missing, ""));
            let answer = create(&client, &params).await;
            answer.err(400, "MissingRequiredParams");
        }
        server.stop().await;
    }

    async fn create_flow_rejects_invalid_definitions(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let fdl_goto = "version: v1\ntype: flow\nsteps:\n  - type: choice\n    name: c\n    choices:\n      - condition: $.a == 1\n        goto: nowhere\n  - type: pass\n    name: p\n";
        let fdl_nested_goto = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: first\n  - type: choice\n    name: c\n    choices:\n      - condition: $.a == 1\n        goto: first\n    default:\n      goto: missing\n";
        let fdl_name = "version: v1\ntype: flow\nname: other\nsteps:\n  - type: pass\n    name: p\n";
        let fdl_empty = "version: v1\ntype: flow\nsteps: []\n";
        let fdl_type = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n  - type: teleport\n    name: t\n";
        let sm_next = "Type: StateMachine\nName: bad\nSpecVersion: v1\nStartAt: a\nStates:\n  - Type: Pass\n    Name: a\n    Next: Nope\n";
        let sm_name = pass_state_machine("someone_else");
        let sm_wait = "Type: StateMachine\nName: bad\nSpecVersion: v1\nStartAt: w\nStates:\n  - Type: Wait\n    Name: w\n    Seconds: 301\n    End: true\n";
        let sm_start = "Type: StateMachine\nName: bad\nSpecVersion: v1\nStartAt: x\nStates:\n  - Type: Pass\n    Name: a\n    End: true\n";
        let cases: Vec<(&str, String)> = vec![
            (fdl_goto, "steps[0].choices[0].goto: names no sibling step 'nowhere'".into()),
            (fdl_nested_goto, "steps[1].default.goto: names no sibling step 'missing'".into()),
            (fdl_name, "name: must equal the flow name 'bad', got 'other'".into()),
            (fdl_empty, "steps: must not be empty".into()),
            (fdl_type, "steps[1].type".into()),
            (sm_next, "States[0].Next: names no state 'Nope' of this States list".into()),
            (&sm_name, "Name: must equal the flow name 'bad', got 'someone_else'".into()),
            (sm_wait, "States[0].Seconds".into()),
            (sm_start, "StartAt".into()),
            ("just text", "is invalid".into()),
            ("{\"Type\": \"Other\"}", "Type".into()),
        ];
        for (definition, expected) in &cases {
            let answer = create(
                &client,
                &[("Name", "bad"), ("Definition", definition), ("Type", "FDL")],
            )
            .await;
            answer.err(400, "InvalidArgument");
            let prefix = format!("Parameter error: Definition {expected}");
            assert!(
                answer.message().starts_with(&prefix),
                "expected {prefix:?}, got {:?}",
                answer.message()
            );
        }
        // A definition given as JSON is accepted (JSON is YAML).
        let json_definition = json!({
            "Type": "StateMachine", "Name": "bad", "SpecVersion": "v1", "StartAt": "a",
            "States": [{"Type": "Pass", "Name": "a", "End": true}]
        })
        .to_string();
        create(&client, &[("Name", "bad"), ("Definition", &json_definition), ("Type", "FDL")])
            .await
            .ok();
        server.stop().await;
    }

    async fn constants_beyond_their_limits_are_refused_at_create_and_update(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let in_a_year = (chrono::Utc::now() + chrono::TimeDelta::days(365))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let wait_until = |timestamp: &str| {
            format!("version: v1\ntype: flow\nsteps:\n  - type: wait\n    name: w\n    timestamp: '{timestamp}'\n")
        };
        let far = wait_until(&in_a_year);
        let expected = format!(
            "Parameter error: Definition steps[0].timestamp: '{in_a_year}' is more than 172800 \
             seconds (2 days) ahead, the longest wait"
        );
        create(&client, &[("Name", "waits"), ("Definition", &far), ("Type", "FDL")])
            .await
            .err_msg(400, "InvalidArgument", &expected);
        create(&client, &[("Name", "waits"), ("Definition", &wait_until(&tomorrow)), ("Type", "FDL")])
            .await
            .ok();
        client
            .call("UpdateFlow", &[("Name", "waits"), ("Definition", &far)])
            .await
            .err_msg(400, "InvalidArgument", &expected);
        // A flow timeout beyond the one-year execution limit could never fire.
        let timeout = "version: v1\ntype: flow\ntimeoutSeconds: 31536001\nsteps:\n  - type: pass\n    name: p\n";
        create(&client, &[("Name", "times_out"), ("Definition", timeout), ("Type", "FDL")])
            .await
            .err_msg(
                400,
                "InvalidArgument",
                "Parameter error: Definition timeoutSeconds: must be an integer between 1 and \
                 31536000, got 31536001",
            );
        server.stop().await;
    }

    async fn definitions_whose_patterns_compile_too_large_together_are_refused(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        // 64 distinct patterns of about half a megabyte each once compiled.
        let branches: Vec<String> = (0..64)
            .map(|i| {
                format!(
                    "{{Condition: 'regexMatchString(\"\\\\w{{{}}}\", $Input.s)', Next: B}}",
                    8 + i % 4
                )
            })
            .collect();
        let definition = format!(
            "Type: StateMachine\nName: patterns\nSpecVersion: v1\nStartAt: A\nStates: [{{Type: Choice, Name: A, Branches: [{}], Default: B}}, {{Type: Pass, Name: B, End: true}}]\n",
            branches.join(", ")
        );
        let answer = create(
            &client,
            &[("Name", "patterns"), ("Definition", &definition), ("Type", "FDL")],
        )
        .await;
        answer.err(400, "InvalidArgument");
        assert!(
            answer
                .message()
                .contains("the regular expressions of this definition are too large together"),
            "{}",
            answer.message()
        );
        server.stop().await;
    }

    async fn express_flows_are_validated_as_express(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let express = [("ExecutionMode", "Express")];
        // A state machine Wait is limited to 1–20 s in express mode (docs/COMPATIBILITY.md#state-machine-states).
        let answer = create(
            &client,
            &[
                ("Name", "quick"),
                ("Definition", &wait_state_machine("quick", 30)),
                ("Type", "FDL"),
                express[0],
            ],
        )
        .await;
        answer.err(400, "InvalidArgument");
        assert!(
            answer.message().starts_with("Parameter error: Definition States[0].Seconds"),
            "{}",
            answer.message()
        );
        client
            .create_flow_with("quick", &wait_state_machine("quick", 20), &express)
            .await;
        let answer = client
            .call(
                "UpdateFlow",
                &[("Name", "quick"), ("Definition", &wait_state_machine("quick", 30))],
            )
            .await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Definition States[0].Seconds"));
        // The same definition is fine for a Standard flow.
        client.create_flow("slow", &wait_state_machine("slow", 30)).await;
        server.stop().await;
    }
}
