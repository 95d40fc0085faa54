//! UpdateFlow (docs/COMPATIBILITY.md#flows): only the parameters present change, its errors, and running
//! executions keep the definition they started with.

use super::*;

backend_tests! {
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
}
