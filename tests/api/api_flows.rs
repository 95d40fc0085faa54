//! Flow actions (docs/COMPATIBILITY.md#flows–4.6) and DescribeRegions (docs/COMPATIBILITY.md#regions), over both backends: the
//! exact response shapes, every parameter rule and every error code they can return.

use crate::common;

use std::time::Duration;

use common::{
    Answer, Backend, Client, TestServer, assert_keys, assert_request_id, assert_time_ms,
    json_field, pass_state_machine, wait_state_machine,
};
use serde_json::{Value, json};

const FDL_PASS: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";
const FDL_PASS_2: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: other\n";
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

/// Status of every stored execution of that name (white-box: deleted flows leave no API view).
async fn stored_statuses(server: &TestServer, execution: &str) -> Vec<String> {
    use sqlx::Connection;
    let storage = server.storage.as_ref().unwrap();
    let sql = "SELECT status FROM executions WHERE name = $1";
    match storage.backend {
        Backend::Sqlite => {
            let mut db = sqlx::SqliteConnection::connect(&storage.database_url)
                .await
                .unwrap();
            sqlx::query_scalar(sql)
                .bind(execution)
                .fetch_all(&mut db)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut db = sqlx::PgConnection::connect(&storage.database_url)
                .await
                .unwrap();
            sqlx::query_scalar(sql)
                .bind(execution)
                .fetch_all(&mut db)
                .await
                .unwrap()
        }
    }
}

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

    async fn update_flow_changes_only_present_params(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let environment = r#"{"Variables":[{"Name":"K","Value":"V","Description":"d"}]}"#;
        let created = create(
            &client,
            &[
                ("Name", "upd"),
                ("Definition", FDL_PASS),
                ("Description", "first"),
                ("Type", "FDL"),
                ("RoleArn", "acs:ram::1:role/a"),
                ("ExternalStorageLocation", "oss://b/p"),
                ("ResourceGroupId", "rg-1"),
                ("Environment", environment),
            ],
        )
        .await
        .ok()
        .clone();
        let created_at = assert_time_ms(&created["CreatedTime"]);

        // Only Description.
        let answer = client
            .call("UpdateFlow", &[("Name", "upd"), ("Description", "second")])
            .await;
        let updated = answer.ok().clone();
        assert_request_id(&answer);
        let mut expected = flow_object(&created);
        expected["Description"] = json!("second");
        expected["LastModifiedTime"] = updated["LastModifiedTime"].clone();
        assert_eq!(flow_object(&updated), expected);
        let modified = assert_time_ms(&updated["LastModifiedTime"]);
        assert!(modified > created_at, "LastModifiedTime not bumped: {updated}");
        assert_eq!(assert_time_ms(&updated["CreatedTime"]), created_at);
        assert_eq!(flow_object(describe_flow(&client, "upd").await.ok()), expected);

        // Definition, Type, RoleArn and Environment; ExecutionMode is not a parameter.
        let updated = client
            .call(
                "UpdateFlow",
                &[
                    ("Name", "upd"),
                    ("Definition", FDL_PASS_2),
                    ("Type", "DEFAULT"),
                    ("RoleArn", "acs:ram::1:role/b"),
                    ("Environment", r#"{"Variables":[{"Name":"X","Value":"1"}]}"#),
                    ("ExecutionMode", "Express"),
                ],
            )
            .await
            .ok()
            .clone();
        assert_eq!(updated["Definition"], FDL_PASS_2);
        assert_eq!(updated["Type"], "DEFAULT");
        assert_eq!(updated["RoleArn"], "acs:ram::1:role/b");
        assert_eq!(
            updated["Environment"],
            json!({"Variables": [{"Name": "X", "Value": "1", "Description": ""}]})
        );
        assert_eq!(updated["ExecutionMode"], "Standard");
        assert_eq!(updated["Description"], "second");
        assert_eq!(updated["ExternalStorageLocation"], "oss://b/p");
        assert_eq!(updated["ResourceGroupId"], "rg-1");
        assert_eq!(updated["Id"], created["Id"]);
        assert!(assert_time_ms(&updated["LastModifiedTime"]) > modified);

        // A present empty Description clears it.
        let cleared = client
            .call("UpdateFlow", &[("Name", "upd"), ("Description", "")])
            .await
            .ok()
            .clone();
        assert_eq!(cleared["Description"], "");
        assert_eq!(cleared["Definition"], FDL_PASS_2);
        assert_eq!(describe_flow(&client, "upd").await.ok()["Description"], "");

        // Nothing but the name: nothing changes except LastModifiedTime.
        let same = client.call("UpdateFlow", &[("Name", "upd")]).await.ok().clone();
        let mut expected = flow_object(&cleared);
        expected["LastModifiedTime"] = same["LastModifiedTime"].clone();
        assert_eq!(flow_object(&same), expected);
        server.stop().await;
    }

    async fn update_flow_errors(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let answer = client
            .call("UpdateFlow", &[("Name", "ghost"), ("Description", "x")])
            .await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow ghost does not exist.");
        let answer = client.call("UpdateFlow", &[("Description", "x")]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'Name' must be specified.");

        let before = client.create_flow("keep", FDL_PASS).await;
        let bad = "version: v1\ntype: flow\nsteps:\n  - type: choice\n    name: c\n    choices:\n      - condition: $.a == 1\n        goto: nowhere\n";
        let answer = client
            .call(
                "UpdateFlow",
                &[("Name", "keep"), ("Definition", bad), ("Description", "changed")],
            )
            .await;
        answer.err(400, "InvalidArgument");
        assert_eq!(
            answer.message(),
            "Parameter error: Definition steps[0].choices[0].goto: names no sibling step 'nowhere'"
        );
        // A definition naming another flow is rejected too.
        let answer = client
            .call("UpdateFlow", &[("Name", "keep"), ("Definition", &pass_state_machine("nope"))])
            .await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Definition Name: "));
        let answer = client
            .call("UpdateFlow", &[("Name", "keep"), ("Type", "XML")])
            .await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Type "));
        let answer = client
            .call("UpdateFlow", &[("Name", "keep"), ("Environment", "[1]")])
            .await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Environment "));
        // The rejected updates changed nothing, not even LastModifiedTime.
        assert_eq!(flow_object(describe_flow(&client, "keep").await.ok()), flow_object(&before));
        server.stop().await;
    }

    async fn executions_keep_the_definition_they_started_with(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let old = wait_state_machine("versioned", 300);
        client.create_flow("versioned", &old).await;
        client.start("versioned", "old_run", "{}").await;
        let new = pass_state_machine("versioned");
        client
            .call("UpdateFlow", &[("Name", "versioned"), ("Definition", &new)])
            .await
            .ok();
        let running = client.describe("versioned", "old_run").await;
        assert_eq!(running["FlowDefinition"], old.as_str());
        assert_eq!(running["Status"], "Running");
        // A new execution runs the new definition and ends at once.
        let started = client.start("versioned", "new_run", "{}").await;
        assert_eq!(started["FlowDefinition"], new.as_str());
        let ended = client
            .wait_end("versioned", "new_run", Duration::from_secs(10))
            .await;
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(client.describe("versioned", "old_run").await["Status"], "Running");
        let listed = client
            .get("ListExecutions", &[("FlowName", "versioned")])
            .await
            .ok()
            .clone();
        for execution in listed["Executions"].as_array().unwrap() {
            let expected = if execution["Name"] == "old_run" { &old } else { &new };
            assert_eq!(execution["FlowDefinition"], expected.as_str());
        }
        server.stop().await;
    }

    async fn delete_flow_basics(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("doomed", FDL_PASS).await;
        client.create_flow("kept", FDL_PASS).await;
        let answer = client.call("DeleteFlow", &[("Name", "doomed")]).await;
        assert_keys(answer.ok(), &["RequestId"]);
        assert_request_id(&answer);
        let answer = describe_flow(&client, "doomed").await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow doomed does not exist.");
        assert_eq!(list_all_flows(&client, "10").await, ["kept"]);

        let answer = client.call("DeleteFlow", &[("Name", "doomed")]).await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow doomed does not exist.");
        let answer = client.call("DeleteFlow", &[]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'Name' must be specified.");
        // Lookups do not apply the creation rule: an odd name is just unknown.
        let answer = client.call("DeleteFlow", &[("Name", "a:b")]).await;
        answer.err(404, "FlowNotExists");

        // The Node client sends DeleteFlow as GET.
        let answer = client.get("DeleteFlow", &[("Name", "kept")]).await;
        assert_keys(answer.ok(), &["RequestId"]);
        describe_flow(&client, "kept").await.err(404, "FlowNotExists");
        assert!(list_all_flows(&client, "10").await.is_empty());
        server.stop().await;
    }

    async fn delete_flow_stops_executions_and_frees_the_name(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let original = client.create_flow("reused", &wait_state_machine("reused", 300)).await;
        client.start("reused", "waiting", "{}").await;
        client
            .wait_event("reused", "waiting", "StepStarted", Duration::from_secs(10))
            .await;
        client.start("reused", "done", "{}").await;
        client
            .call("StopExecution", &[("FlowName", "reused"), ("ExecutionName", "done")])
            .await
            .ok();

        client.call("DeleteFlow", &[("Name", "reused")]).await.ok();
        // Stopped in the background, within moments.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while stored_statuses(&server, "waiting").await != ["Stopped"] {
            assert!(tokio::time::Instant::now() < deadline, "the execution was not stopped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let answer = client
            .get("DescribeExecution", &[("FlowName", "reused"), ("ExecutionName", "waiting")])
            .await;
        answer.err(404, "FlowNotExists");

        // Re-created at once: a new flow that shares nothing with the old one.
        let recreated = client.create_flow("reused", &pass_state_machine("reused")).await;
        assert_ne!(recreated["Id"], original["Id"], "a re-created flow gets a new Id");
        assert!(
            assert_time_ms(&recreated["CreatedTime"]) >= assert_time_ms(&original["CreatedTime"])
        );
        for name in ["waiting", "done"] {
            let answer = client
                .get("DescribeExecution", &[("FlowName", "reused"), ("ExecutionName", name)])
                .await;
            answer.err(404, "ExecutionNotExists");
            assert_eq!(
                answer.message(),
                format!("Execution {name} for flow reused does not exist.")
            );
            client
                .get("GetExecutionHistory", &[("FlowName", "reused"), ("ExecutionName", name)])
                .await
                .err(404, "ExecutionNotExists");
            client
                .call("StopExecution", &[("FlowName", "reused"), ("ExecutionName", name)])
                .await
                .err(404, "ExecutionNotExists");
        }
        let listed = client
            .get("ListExecutions", &[("FlowName", "reused")])
            .await
            .ok()
            .clone();
        assert_eq!(listed["Executions"], json!([]));
        // The old names are free: "done" ended in the old flow but starts anew here.
        let started = client.start("reused", "done", r#"{"again": true}"#).await;
        assert_eq!(started["Status"], "Running");
        let ended = client.wait_end("reused", "done", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Succeeded");
        assert_eq!(json_field(&ended, "Output"), json!({"again": true}));
        server.stop().await;
    }

    async fn deleting_a_flow_fails_a_parent_waiting_for_its_execution(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("slow_child", &wait_state_machine("slow_child", 300)).await;
        let parent = "Type: StateMachine\nName: waiting_parent\nSpecVersion: v1\nStartAt: call\nStates:\n  - Type: Task\n    Name: call\n    Action: FNF:StartExecution\n    TaskMode: WaitForSystemCallback\n    Parameters:\n      resourceArn: acs:fnf:::flow/slow_child\n      executionName: kid\n    End: true\n";
        client.create_flow("waiting_parent", parent).await;
        client.start("waiting_parent", "p", "{}").await;
        client
            .wait_event("waiting_parent", "p", "TaskSubmitted", Duration::from_secs(10))
            .await;
        client
            .wait_event("slow_child", "kid", "StepStarted", Duration::from_secs(10))
            .await;
        client.call("DeleteFlow", &[("Name", "slow_child")]).await.ok();
        // The child is stopped (docs/COMPATIBILITY.md#flows), so its parent learns of it (docs/COMPATIBILITY.md#executions).
        let ended = client
            .wait_end("waiting_parent", "p", Duration::from_secs(10))
            .await;
        assert_eq!(ended["Status"], "Failed", "{ended}");
        let events = client.history("waiting_parent", "p").await;
        let last = events.last().unwrap();
        assert_eq!(last["Type"], "ExecutionFailed");
        assert_eq!(
            json_field(last, "EventDetail"),
            json!({"error": "FnF.FlowDeleted", "cause": "the flow was deleted"})
        );
        server.stop().await;
    }

    async fn describe_flow_errors(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let answer = describe_flow(&client, "absent").await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow absent does not exist.");
        assert_request_id(&answer);
        assert_eq!(answer.body["HostId"], server.endpoint.as_str());
        let answer = client.get("DescribeFlow", &[]).await;
        answer.err(400, "MissingRequiredParams");
        assert_eq!(answer.message(), "The HTTP query 'Name' must be specified.");
        let answer = describe_flow(&client, &"n".repeat(257)).await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Name "));
        client.create_flow("present", FDL_PASS).await;
        let answer = client
            .get("DescribeFlow", &[("Name", "present"), ("FlowVersion", "7")])
            .await;
        answer.err(404, "FlowVersionNotExists");
        assert_eq!(answer.message(), "Version 7 of flow present does not exist.");
        // DescribeFlow over POST works as well.
        client.call("DescribeFlow", &[("Name", "present")]).await.ok();
        server.stop().await;
    }

    async fn list_flows_limit_bounds(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("only", FDL_PASS).await;
        for (limit, shown) in [("0", "0"), ("1000", "1000"), ("-1", "-1"), ("abc", "'abc'"), ("1.5", "'1.5'")] {
            let answer = client.get("ListFlows", &[("Limit", limit)]).await;
            answer.err(400, "InvalidArgument");
            assert_eq!(
                answer.message(),
                format!("Parameter error: Limit must be an integer between 1 and 999, got {shown}")
            );
        }
        for limit in ["1", "999"] {
            let body = client.get("ListFlows", &[("Limit", limit)]).await.ok().clone();
            assert_eq!(body["Flows"].as_array().unwrap().len(), 1);
            assert!(body.get("NextToken").is_none(), "{body}");
        }
        server.stop().await;
    }

    async fn list_flows_pages_by_name(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        // 62 flows created out of order: the default page is 60.
        let mut names: Vec<String> = (0..62).rev().map(|i| format!("flow_{i:03}")).collect();
        for name in &names {
            client.create_flow(name, FDL_PASS).await;
        }
        names.sort();
        let first = client.get("ListFlows", &[]).await.ok().clone();
        let page: Vec<&str> = first["Flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["Name"].as_str().unwrap())
            .collect();
        assert_eq!(page, names[..60]);
        assert_eq!(first["NextToken"], names[60].as_str(), "NextToken is the next name");
        let second = client
            .get("ListFlows", &[("NextToken", &names[60])])
            .await
            .ok()
            .clone();
        let page: Vec<&str> = second["Flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["Name"].as_str().unwrap())
            .collect();
        assert_eq!(page, names[60..]);
        assert!(second.get("NextToken").is_none(), "no NextToken on the last page");

        // Small pages cover everything exactly once, in order.
        assert_eq!(list_all_flows(&client, "7").await, names);
        assert_eq!(list_all_flows(&client, "1").await, names);
        // A page that ends exactly at the last flow has no NextToken.
        let exact = client
            .get("ListFlows", &[("Limit", "2"), ("NextToken", "flow_060")])
            .await
            .ok()
            .clone();
        assert_eq!(exact["Flows"].as_array().unwrap().len(), 2);
        assert!(exact.get("NextToken").is_none(), "{exact}");

        // A token that names no flow starts after where it would sort.
        let between = client
            .get("ListFlows", &[("Limit", "2"), ("NextToken", "flow_010x")])
            .await
            .ok()
            .clone();
        let page: Vec<&str> = between["Flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["Name"].as_str().unwrap())
            .collect();
        assert_eq!(page, ["flow_011", "flow_012"]);
        assert_eq!(between["NextToken"], "flow_013");
        let before_all = client
            .get("ListFlows", &[("Limit", "1"), ("NextToken", "a")])
            .await
            .ok()
            .clone();
        assert_eq!(before_all["Flows"][0]["Name"], "flow_000");
        let after_all = client
            .get("ListFlows", &[("NextToken", "zzz")])
            .await
            .ok()
            .clone();
        assert_eq!(after_all["Flows"], json!([]));
        assert!(after_all.get("NextToken").is_none());
        server.stop().await;
    }

    async fn list_flows_filters_by_resource_group(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        for (name, group) in [("g1_a", "rg-1"), ("g2_a", "rg-2"), ("g1_b", "rg-1"), ("none", "")] {
            let mut params = vec![("Name", name), ("Definition", FDL_PASS), ("Type", "FDL")];
            if !group.is_empty() {
                params.push(("ResourceGroupId", group));
            }
            create(&client, &params).await.ok();
        }
        let body = client
            .get("ListFlows", &[("ResourceGroupId", "rg-1"), ("Limit", "1")])
            .await
            .ok()
            .clone();
        assert_eq!(body["Flows"][0]["Name"], "g1_a");
        assert_eq!(body["Flows"][0]["ResourceGroupId"], "rg-1");
        assert_eq!(body["NextToken"], "g1_b");
        let next = client
            .get("ListFlows", &[("ResourceGroupId", "rg-1"), ("NextToken", "g1_b")])
            .await
            .ok()
            .clone();
        assert_eq!(next["Flows"].as_array().unwrap().len(), 1);
        assert_eq!(next["Flows"][0]["Name"], "g1_b");
        assert!(next.get("NextToken").is_none());
        let other = client
            .get("ListFlows", &[("ResourceGroupId", "rg-9")])
            .await
            .ok()
            .clone();
        assert_eq!(other["Flows"], json!([]));
        let all = client.get("ListFlows", &[]).await.ok().clone();
        assert_eq!(all["Flows"].as_array().unwrap().len(), 4);
        let none = all["Flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["Name"] == "none")
            .unwrap();
        assert!(none.get("ResourceGroupId").is_none(), "{none}");
        server.stop().await;
    }

    async fn describe_regions_names_the_endpoint_in_use(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let answer = client.call("DescribeRegions", &[]).await;
        let body = answer.ok();
        assert_request_id(&answer);
        assert_keys(body, &["Regions", "RequestId"]);
        assert_keys(&body["Regions"], &["Region"]);
        let regions = body["Regions"]["Region"].as_array().unwrap();
        assert_eq!(regions.len(), 1);
        assert_keys(&regions[0], &["RegionId", "LocalName", "RegionEndpoint"]);
        assert_eq!(regions[0]["RegionId"], "cn-hangzhou");
        assert_eq!(regions[0]["RegionEndpoint"], server.endpoint.as_str());
        assert!(regions[0]["LocalName"].as_str().is_some_and(|n| !n.is_empty()));
        let chinese = client
            .get("DescribeRegions", &[("AcceptLanguage", "zh-CN")])
            .await
            .ok()
            .clone();
        assert_eq!(chinese["Regions"]["Region"][0]["RegionId"], "cn-hangzhou");
        assert_eq!(chinese["Regions"]["Region"][0]["RegionEndpoint"], server.endpoint.as_str());

        // The endpoint is the host the client used.
        let mut params = client.common("DescribeRegions");
        client.sign("POST", &mut params);
        let request = client
            .http
            .post(format!("http://{}/", server.endpoint))
            .header("host", "fnf.example.test:8080")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(common::encode_form(&params));
        let body = client.raw(request).await.ok().clone();
        assert_eq!(
            body["Regions"]["Region"][0]["RegionEndpoint"],
            "fnf.example.test:8080"
        );
        server.stop().await;
    }

    async fn a_request_id_parameter_is_echoed(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let answer = client.call("DescribeRegions", &[("RequestId", "my-request-1")]).await;
        assert_eq!(answer.ok()["RequestId"], "my-request-1");
        assert_eq!(answer.headers.get("x-acs-request-id").unwrap(), "my-request-1");
        let answer = client.get("DescribeFlow", &[("Name", "none"), ("RequestId", "my-request-2")]).await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.body["RequestId"], "my-request-2");
        server.stop().await;
    }

    async fn describe_regions_serves_the_configured_region(backend) {
        let server = TestServer::start_with(backend, |config| config.region = "cn-shanghai".into()).await;
        let body = server.client().call("DescribeRegions", &[]).await.ok().clone();
        assert_eq!(body["Regions"]["Region"][0]["RegionId"], "cn-shanghai");
        server.stop().await;
    }

    async fn concurrent_creates_and_updates(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let creates = (0..8).map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let description = format!("d{i}");
                create(
                    &client,
                    &[("Name", "race"), ("Definition", FDL_PASS), ("Type", "FDL"), ("Description", &description)],
                )
                .await
            })
        });
        let mut created = 0;
        for task in creates.collect::<Vec<_>>() {
            let answer = task.await.unwrap();
            if answer.status == 200 {
                created += 1;
            } else {
                answer.err(409, "FlowAlreadyExists");
            }
        }
        assert_eq!(created, 1, "exactly one of the concurrent creates wins");

        let updates = (0..8).map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let description = format!("u{i}");
                let answer = client
                    .call("UpdateFlow", &[("Name", "race"), ("Description", &description)])
                    .await;
                (description, answer)
            })
        });
        let mut applied = Vec::new();
        for task in updates.collect::<Vec<_>>() {
            let (description, answer) = task.await.unwrap();
            if answer.status == 200 {
                assert_eq!(answer.body["Description"], description.as_str());
                applied.push(description);
            } else {
                answer.err(409, "ConcurrentUpdateError");
                assert_eq!(answer.message(), "Update conflict, please retry.");
            }
        }
        assert!(!applied.is_empty());
        let last = describe_flow(&client, "race").await.ok()["Description"].clone();
        assert!(applied.iter().any(|d| last == d.as_str()), "{last} not among {applied:?}");
        server.stop().await;
    }

    async fn flows_per_account_are_limited(backend) {
        let server =
            TestServer::start_with(backend, |config| config.max_flows_per_account = 2).await;
        let client = server.client();
        client.create_flow("one", FDL_PASS).await;
        client.create_flow("two", FDL_PASS).await;
        let answer = create(
            &client,
            &[("Name", "three"), ("Definition", FDL_PASS), ("Type", "FDL")],
        )
        .await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Name "), "{}", answer.message());
        client.call("DeleteFlow", &[("Name", "one")]).await.ok();
        client.create_flow("three", FDL_PASS).await;
        server.stop().await;
    }

    async fn concurrent_creations_stop_at_the_flow_limit(backend) {
        let server =
            TestServer::start_with(backend, |config| config.max_flows_per_account = 5).await;
        let client = server.client();
        client.create_flow("first", FDL_PASS).await;
        client.create_flow("second", FDL_PASS).await;
        // Twelve at once for three places: the count and the insert are one step.
        let creations: Vec<_> = (0..12)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let name = format!("racer{i}");
                    create(&client, &[("Name", &name), ("Definition", FDL_PASS), ("Type", "FDL")]).await
                })
            })
            .collect();
        assert_eq!(common::count_successes(creations, 400, "InvalidArgument").await, 3);
        let answer = create(&client, &[("Name", "late"), ("Definition", FDL_PASS), ("Type", "FDL")]).await;
        assert!(answer.message().contains("maximum of 5 flows"), "{}", answer.message());
        let listed = client.get("ListFlows", &[("Limit", "100")]).await.ok().clone();
        assert_eq!(listed["Flows"].as_array().unwrap().len(), 5);
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

/// Names sort by their bytes on every backend (as in SQLite), not by the Postgres
/// database's default collation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_order_does_not_depend_on_the_postgres_collation() {
    let storage = common::Storage::postgres_with_linguistic_collation().await;
    let config = common::test_config(&storage.database_url);
    let server = TestServer::start_on(storage, config).await;
    let client = server.client();
    let mut names = ["ab", "a_b", "Z", "a-b", "_x", "B", "a"];
    for name in names {
        client.create_flow(name, FDL_PASS).await;
    }
    names.sort_unstable();
    assert_eq!(names, ["B", "Z", "_x", "a", "a-b", "a_b", "ab"]);
    assert_eq!(list_all_flows(&client, "60").await, names);
    assert_eq!(list_all_flows(&client, "2").await, names);
    // Executions started in the same millisecond are ordered by name the same way.
    client
        .create_flow("runs", &pass_state_machine("runs"))
        .await;
    for name in ["ab", "a_b", "Z", "a-b", "_x", "B", "a"] {
        client.start("runs", name, "{}").await;
    }
    let listed = client
        .get("ListExecutions", &[("FlowName", "runs")])
        .await
        .ok()
        .clone();
    let mut expected: Vec<(i64, String)> = listed["Executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                assert_time_ms(&e["StartedTime"]),
                e["Name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let got: Vec<String> = expected.iter().map(|(_, n)| n.clone()).collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let expected: Vec<String> = expected.into_iter().map(|(_, n)| n).collect();
    assert_eq!(got, expected);
    server.stop().await;
}
