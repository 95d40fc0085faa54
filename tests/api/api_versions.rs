//! Flow versions, aliases and `Qualifier` (docs/COMPATIBILITY.md#versions-and-aliases, docs/COMPATIBILITY.md#flows, docs/COMPATIBILITY.md#executions, docs/COMPATIBILITY.md#versions-and-aliases) over both
//! backends: every action's happy path and every error code docs/COMPATIBILITY.md#errors-per-action gives them.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Client, TestServer, json_field};
use serde_json::{Value, json};

/// A pass flow whose output says which configuration ran.
fn pass_flow(tag: &str) -> String {
    format!(
        "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n    outputMappings:\n      - target: ran\n        source: {tag}\n"
    )
}

fn environment(value: &str) -> String {
    json!({"Variables": [{"Name": "K", "Value": value, "Description": "d"}]}).to_string()
}

/// Publishes a version; returns its number as the wire string.
async fn publish(client: &Client, flow: &str) -> String {
    let body = client
        .call("PublishFlowVersion", &[("FlowName", flow)])
        .await
        .ok()
        .clone();
    body["Version"]
        .as_str()
        .expect("Version is a string")
        .to_string()
}

async fn create_alias(client: &Client, flow: &str, name: &str, routing: Value) -> Value {
    client
        .call(
            "CreateFlowAlias",
            &[
                ("FlowName", flow),
                ("Name", name),
                ("RoutingConfigurations", &routing.to_string()),
            ],
        )
        .await
        .ok()
        .clone()
}

async fn update_flow(client: &Client, params: &[(&str, &str)]) {
    client.call("UpdateFlow", params).await.ok();
}

fn versions_of(body: &Value) -> Vec<&str> {
    body["FlowVersions"]
        .as_array()
        .expect("FlowVersions is an array")
        .iter()
        .map(|v| v["Version"].as_str().expect("Version is a string"))
        .collect()
}

fn alias_names(body: &Value) -> Vec<&str> {
    body["Aliases"]
        .as_array()
        .expect("Aliases is an array")
        .iter()
        .map(|a| a["Name"].as_str().expect("Name is a string"))
        .collect()
}

/// Starts an execution with a qualifier; returns the StartExecution answer.
async fn start_with(client: &Client, flow: &str, name: &str, qualifier: &str) -> Value {
    client
        .call(
            "StartExecution",
            &[
                ("FlowName", flow),
                ("ExecutionName", name),
                ("Qualifier", qualifier),
            ],
        )
        .await
        .ok()
        .clone()
}

/// Every execution ListExecutions returns for a qualifier, following `NextToken`.
async fn executions_for(client: &Client, flow: &str, qualifier: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = vec![
            ("FlowName", flow),
            ("Qualifier", qualifier),
            ("Limit", "100"),
        ];
        if let Some(token) = &token {
            params.push(("NextToken", token));
        }
        let body = client.get("ListExecutions", &params).await.ok().clone();
        all.extend(body["Executions"].as_array().cloned().unwrap_or_default());
        match body["NextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => return all,
        }
    }
}

backend_tests! {
    async fn publish_list_and_delete_versions(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let flow = client.create_flow("vflow", &pass_flow("latest")).await;

        let first = client.call("PublishFlowVersion", &[("FlowName", "vflow")]).await.ok().clone();
        assert_eq!(first["FlowName"], "vflow");
        assert_eq!(first["Version"], "1");
        // Without Description the version keeps the flow's.
        assert_eq!(first["Description"], flow["Description"]);
        assert!(first["CreatedTime"].as_str().is_some_and(|t| t.ends_with('Z')));

        let second = client
            .call("PublishFlowVersion", &[("FlowName", "vflow"), ("Description", "second")])
            .await
            .ok()
            .clone();
        assert_eq!((second["Version"].as_str(), second["Description"].as_str()), (Some("2"), Some("second")));
        // Nothing changed since version 2: publishing still creates a version.
        assert_eq!(publish(&client, "vflow").await, "3");

        let list = client.get("ListFlowVersions", &[("FlowName", "vflow")]).await.ok().clone();
        assert_eq!(versions_of(&list), ["1", "2", "3"]);
        assert!(list.get("NextToken").is_none());
        let item = &list["FlowVersions"][1];
        assert_eq!(item["Description"], "second");
        assert_eq!(item["CreatedTime"], second["CreatedTime"]);
        assert!(item.get("FlowName").is_none());

        // Versions are never reused: deleting 3 and publishing gives 4.
        let deleted = client
            .call("DeleteFlowVersion", &[("FlowName", "vflow"), ("FlowVersion", "3")])
            .await;
        assert_eq!(deleted.ok().as_object().map(|o| o.len()), Some(1), "only RequestId");
        assert_eq!(publish(&client, "vflow").await, "4");
        let list = client.get("ListFlowVersions", &[("FlowName", "vflow")]).await.ok().clone();
        assert_eq!(versions_of(&list), ["1", "2", "4"]);

        // DeleteFlowVersion errors.
        let gone = client
            .call("DeleteFlowVersion", &[("FlowName", "vflow"), ("FlowVersion", "3")])
            .await;
        assert_eq!(gone.err(404, "FlowVersionNotExists").message(), "Version 3 of flow vflow does not exist.");
        let word = client
            .call("DeleteFlowVersion", &[("FlowName", "vflow"), ("FlowVersion", "latest")])
            .await;
        assert_eq!(word.err(404, "FlowVersionNotExists").message(), "Version latest of flow vflow does not exist.");
        let no_flow = client
            .call("DeleteFlowVersion", &[("FlowName", "nope"), ("FlowVersion", "1")])
            .await;
        assert_eq!(no_flow.err(404, "FlowNotExists").message(), "Flow nope does not exist.");
        let missing = client.call("DeleteFlowVersion", &[("FlowName", "vflow")]).await;
        assert_eq!(missing.err(400, "MissingRequiredParams").message(), "The HTTP query 'FlowVersion' must be specified.");

        // PublishFlowVersion and ListFlowVersions errors.
        let no_flow = client.call("PublishFlowVersion", &[("FlowName", "nope")]).await;
        assert_eq!(no_flow.err(404, "FlowNotExists").message(), "Flow nope does not exist.");
        client.call("PublishFlowVersion", &[]).await.err(400, "MissingRequiredParams");
        let no_flow = client.get("ListFlowVersions", &[("FlowName", "nope")]).await;
        assert_eq!(no_flow.err(404, "FlowNotExists").message(), "Flow nope does not exist.");
        for (limit, shown) in [("0", "0"), ("101", "101"), ("ten", "'ten'")] {
            let bad = client.get("ListFlowVersions", &[("FlowName", "vflow"), ("Limit", limit)]).await;
            assert_eq!(
                bad.err(400, "InvalidArgument").message(),
                format!("Parameter error: Limit must be an integer between 1 and 100, got {shown}")
            );
        }
        server.stop().await;
    }

    async fn list_flow_versions_pages(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("paged", &pass_flow("latest")).await;
        for _ in 0..5 {
            publish(&client, "paged").await;
        }
        let page = |token: Option<&'static str>| {
            let client = client.clone();
            async move {
                let mut params = vec![("FlowName", "paged"), ("Limit", "2")];
                if let Some(token) = token {
                    params.push(("NextToken", token));
                }
                client.get("ListFlowVersions", &params).await.ok().clone()
            }
        };
        let first = page(None).await;
        assert_eq!((versions_of(&first), first["NextToken"].as_str()), (vec!["1", "2"], Some("3")));
        let second = page(Some("3")).await;
        assert_eq!((versions_of(&second), second["NextToken"].as_str()), (vec!["3", "4"], Some("5")));
        let last = page(Some("5")).await;
        assert_eq!(versions_of(&last), ["5"]);
        assert!(last.get("NextToken").is_none());
        // Versions sort numerically, and a token designating nothing starts where it would sort.
        client
            .call("DeleteFlowVersion", &[("FlowName", "paged"), ("FlowVersion", "3")])
            .await
            .ok();
        assert_eq!(versions_of(&page(Some("3")).await), ["4", "5"]);
        assert_eq!(versions_of(&page(Some("9")).await), Vec::<&str>::new());
        assert_eq!(versions_of(&page(Some("abc")).await), Vec::<&str>::new());
        server.stop().await;
    }

    async fn describe_flow_returns_the_version_snapshot(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let created = client
            .create_flow_with(
                "snap",
                &pass_flow("one"),
                &[("Environment", &environment("one")), ("RoleArn", "acs:ram::1:role/one")],
            )
            .await;
        let published = client
            .call("PublishFlowVersion", &[("FlowName", "snap"), ("Description", "first cut")])
            .await
            .ok()
            .clone();
        update_flow(
            &client,
            &[
                ("Name", "snap"),
                ("Definition", &pass_flow("two")),
                ("Description", "changed"),
                ("Environment", &environment("two")),
                ("RoleArn", "acs:ram::1:role/two"),
            ],
        )
        .await;

        let version = client
            .get("DescribeFlow", &[("Name", "snap"), ("FlowVersion", "1")])
            .await
            .ok()
            .clone();
        assert_eq!(version["Definition"], pass_flow("one"));
        assert_eq!(version["Description"], "first cut");
        assert_eq!(version["RoleArn"], "acs:ram::1:role/one");
        assert_eq!(version["Environment"], json!({"Variables": [{"Name": "K", "Value": "one", "Description": "d"}]}));
        assert_eq!(version["Type"], "FDL");
        assert_eq!(version["ExecutionMode"], "Standard");
        for same in ["Id", "Name", "CreatedTime"] {
            assert_eq!(version[same], created[same], "{same}");
        }
        assert_eq!(version["LastModifiedTime"], published["CreatedTime"]);

        let latest = client.get("DescribeFlow", &[("Name", "snap")]).await.ok().clone();
        assert_eq!(latest["Definition"], pass_flow("two"));
        assert_eq!(latest["Description"], "changed");

        for unknown in ["2", "0", "one"] {
            let answer = client.get("DescribeFlow", &[("Name", "snap"), ("FlowVersion", unknown)]).await;
            assert_eq!(
                answer.err(404, "FlowVersionNotExists").message(),
                format!("Version {unknown} of flow snap does not exist.")
            );
        }
        let no_flow = client.get("DescribeFlow", &[("Name", "nope"), ("FlowVersion", "1")]).await;
        no_flow.err(404, "FlowNotExists");
        server.stop().await;
    }

    async fn alias_lifecycle(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("aflow", &pass_flow("latest")).await;
        publish(&client, "aflow").await;
        publish(&client, "aflow").await;

        let created = client
            .call(
                "CreateFlowAlias",
                &[
                    ("FlowName", "aflow"),
                    ("Name", "prod"),
                    ("Description", "production"),
                    ("RoutingConfigurations", r#"[{"Version":"1","Weight":80},{"Version":"2","Weight":20}]"#),
                ],
            )
            .await
            .ok()
            .clone();
        assert_eq!(created["FlowName"], "aflow");
        assert_eq!(created["Name"], "prod");
        assert_eq!(created["Description"], "production");
        let routing = json!([{"Version": "1", "Weight": 80}, {"Version": "2", "Weight": 20}]);
        assert_eq!(created["RoutingConfigurations"], routing);
        let created_time = created["CreatedTime"].clone();
        assert!(created_time.is_string());

        let described = client
            .get("DescribeFlowAlias", &[("FlowName", "aflow"), ("Name", "prod")])
            .await
            .ok()
            .clone();
        let expected = json!({
            "Name": "prod",
            "Description": "production",
            "RoutingConfigurations": routing,
            "CreatedTime": created_time,
        });
        assert_eq!(described["Alias"], expected);

        // Only the parameters present change.
        let updated = client
            .call("UpdateFlowAlias", &[("FlowName", "aflow"), ("Name", "prod"), ("Description", "renamed")])
            .await
            .ok()
            .clone();
        assert_eq!(updated["Alias"]["Description"], "renamed");
        assert_eq!(updated["Alias"]["RoutingConfigurations"], routing);
        assert_eq!(updated["Alias"]["CreatedTime"], created_time);
        // RoutingConfigurations replaces the whole list, in the order given.
        let reordered = json!([{"Version": "2", "Weight": 30}, {"Version": "1", "Weight": 70}]);
        let updated = client
            .call(
                "UpdateFlowAlias",
                &[("FlowName", "aflow"), ("Name", "prod"), ("RoutingConfigurations", &reordered.to_string())],
            )
            .await
            .ok()
            .clone();
        assert_eq!(updated["Alias"]["RoutingConfigurations"], reordered);
        assert_eq!(updated["Alias"]["Description"], "renamed");
        let single = json!([{"Version": "2", "Weight": 100}]);
        client
            .call(
                "UpdateFlowAlias",
                &[("FlowName", "aflow"), ("Name", "prod"), ("RoutingConfigurations", &single.to_string()), ("Description", "")],
            )
            .await
            .ok();
        let described = client
            .get("DescribeFlowAlias", &[("FlowName", "aflow"), ("Name", "prod")])
            .await
            .ok()
            .clone();
        assert_eq!(described["Alias"]["RoutingConfigurations"], single);
        assert_eq!(described["Alias"]["Description"], "");

        create_alias(&client, "aflow", "canary", json!([{"Version": "1", "Weight": 1}])).await;
        let list = client.get("ListFlowAliases", &[("FlowName", "aflow")]).await.ok().clone();
        assert_eq!(alias_names(&list), ["canary", "prod"]);
        assert_eq!(list["Aliases"][0]["RoutingConfigurations"][0]["Weight"], 1, "Weight is an integer");
        assert!(list.get("NextToken").is_none());

        let deleted = client.call("DeleteFlowAlias", &[("FlowName", "aflow"), ("Name", "canary")]).await;
        assert_eq!(deleted.ok().as_object().map(|o| o.len()), Some(1), "only RequestId");
        let again = client.call("DeleteFlowAlias", &[("FlowName", "aflow"), ("Name", "canary")]).await;
        assert_eq!(again.err(404, "FlowAliasNotExists").message(), "Alias canary of flow aflow does not exist.");
        let list = client.get("ListFlowAliases", &[("FlowName", "aflow")]).await.ok().clone();
        assert_eq!(alias_names(&list), ["prod"]);
        server.stop().await;
    }

    async fn alias_errors(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("eflow", &pass_flow("latest")).await;
        publish(&client, "eflow").await;
        let one = r#"[{"Version":"1","Weight":100}]"#;
        create_alias(&client, "eflow", "prod", json!([{"Version": "1", "Weight": 100}])).await;

        let create = |name: &'static str, routing: &'static str| {
            let client = client.clone();
            async move {
                client
                    .call(
                        "CreateFlowAlias",
                        &[("FlowName", "eflow"), ("Name", name), ("RoutingConfigurations", routing)],
                    )
                    .await
            }
        };
        // CreateFlowAlias.
        let exists = create("prod", one).await;
        assert_eq!(exists.err(409, "FlowAliasAlreadyExists").message(), "Alias prod of flow eflow already exists.");
        let missing_version = create("next", r#"[{"Version":"1","Weight":50},{"Version":"7","Weight":50}]"#).await;
        assert_eq!(missing_version.err(404, "FlowVersionNotExists").message(), "Version 7 of flow eflow does not exist.");
        let no_flow = client
            .call("CreateFlowAlias", &[("FlowName", "nope"), ("Name", "a"), ("RoutingConfigurations", one)])
            .await;
        assert_eq!(no_flow.err(404, "FlowNotExists").message(), "Flow nope does not exist.");
        let bad_name = create("1st", one).await;
        assert_eq!(
            bad_name.err(400, "InvalidArgument").message(),
            "Parameter error: Name '1st' must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$"
        );
        let no_routing = client.call("CreateFlowAlias", &[("FlowName", "eflow"), ("Name", "x")]).await;
        assert_eq!(
            no_routing.err(400, "MissingRequiredParams").message(),
            "The HTTP query 'RoutingConfigurations' must be specified."
        );
        for (routing, reason) in [
            ("[]", "RoutingConfigurations must have 1 or 2 entries, got 0"),
            (
                r#"[{"Version":"1","Weight":1},{"Version":"2","Weight":1},{"Version":"3","Weight":1}]"#,
                "RoutingConfigurations must have 1 or 2 entries, got 3",
            ),
            (
                r#"[{"Version":"1","Weight":50},{"Version":"1","Weight":50}]"#,
                "RoutingConfigurations[1].Version routes to version 1 a second time",
            ),
            (
                r#"[{"Version":"1","Weight":0}]"#,
                "RoutingConfigurations must give at least one version a Weight greater than 0",
            ),
            (
                r#"[{"Version":"1","Weight":101}]"#,
                "RoutingConfigurations[0].Weight must be an integer between 0 and 100, got 101",
            ),
            (
                r#"[{"Version":"1","Weight":0.5}]"#,
                "RoutingConfigurations[0].Weight must be an integer between 0 and 100, got 0.5",
            ),
        ] {
            let answer = create("x", routing).await;
            assert_eq!(answer.err(400, "InvalidArgument").message(), format!("Parameter error: {reason}"), "{routing}");
        }
        let not_json = create("x", "Version=1").await;
        assert!(not_json.err(400, "InvalidArgument").message().starts_with("Parameter error: RoutingConfigurations must be a JSON array"));

        // UpdateFlowAlias.
        let no_alias = client
            .call("UpdateFlowAlias", &[("FlowName", "eflow"), ("Name", "ghost"), ("Description", "d")])
            .await;
        assert_eq!(no_alias.err(404, "FlowAliasNotExists").message(), "Alias ghost of flow eflow does not exist.");
        let missing_version = client
            .call("UpdateFlowAlias", &[("FlowName", "eflow"), ("Name", "prod"), ("RoutingConfigurations", r#"[{"Version":"2","Weight":10}]"#)])
            .await;
        assert_eq!(missing_version.err(404, "FlowVersionNotExists").message(), "Version 2 of flow eflow does not exist.");
        let twice = client
            .call(
                "UpdateFlowAlias",
                &[("FlowName", "eflow"), ("Name", "prod"), ("RoutingConfigurations", r#"[{"Version":"1","Weight":10},{"Version":"1","Weight":10}]"#)],
            )
            .await;
        twice.err(400, "InvalidArgument");
        let no_flow = client.call("UpdateFlowAlias", &[("FlowName", "nope"), ("Name", "prod")]).await;
        no_flow.err(404, "FlowNotExists");
        client.call("UpdateFlowAlias", &[("FlowName", "eflow")]).await.err(400, "MissingRequiredParams");
        // The failed updates changed nothing.
        let described = client.get("DescribeFlowAlias", &[("FlowName", "eflow"), ("Name", "prod")]).await.ok().clone();
        assert_eq!(described["Alias"]["RoutingConfigurations"], json!([{"Version": "1", "Weight": 100}]));

        // DescribeFlowAlias, ListFlowAliases, DeleteFlowAlias.
        let no_alias = client.get("DescribeFlowAlias", &[("FlowName", "eflow"), ("Name", "ghost")]).await;
        assert_eq!(no_alias.err(404, "FlowAliasNotExists").message(), "Alias ghost of flow eflow does not exist.");
        client.get("DescribeFlowAlias", &[("FlowName", "nope"), ("Name", "prod")]).await.err(404, "FlowNotExists");
        client.get("ListFlowAliases", &[("FlowName", "nope")]).await.err(404, "FlowNotExists");
        let bad_limit = client.get("ListFlowAliases", &[("FlowName", "eflow"), ("Limit", "0")]).await;
        assert_eq!(
            bad_limit.err(400, "InvalidArgument").message(),
            "Parameter error: Limit must be an integer between 1 and 100, got 0"
        );
        client.call("DeleteFlowAlias", &[("FlowName", "nope"), ("Name", "prod")]).await.err(404, "FlowNotExists");
        client.call("DeleteFlowAlias", &[("FlowName", "eflow"), ("Name", "ghost")]).await.err(404, "FlowAliasNotExists");
        server.stop().await;
    }

    async fn list_flow_aliases_pages(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("lflow", &pass_flow("latest")).await;
        publish(&client, "lflow").await;
        for name in ["c", "a", "E", "b", "d"] {
            create_alias(&client, "lflow", name, json!([{"Version": "1", "Weight": 100}])).await;
        }
        let page = |token: Option<&'static str>| {
            let client = client.clone();
            async move {
                let mut params = vec![("FlowName", "lflow"), ("Limit", "2")];
                if let Some(token) = token {
                    params.push(("NextToken", token));
                }
                client.get("ListFlowAliases", &params).await.ok().clone()
            }
        };
        // Names sort by bytes: upper case first.
        let first = page(None).await;
        assert_eq!((alias_names(&first), first["NextToken"].as_str()), (vec!["E", "a"], Some("b")));
        let second = page(Some("b")).await;
        assert_eq!((alias_names(&second), second["NextToken"].as_str()), (vec!["b", "c"], Some("d")));
        let last = page(Some("d")).await;
        assert_eq!(alias_names(&last), ["d"]);
        assert!(last.get("NextToken").is_none());
        // A token designating nothing starts where it would sort.
        assert_eq!(alias_names(&page(Some("bb")).await), ["c", "d"]);
        server.stop().await;
    }

    async fn a_routed_version_cannot_be_deleted(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("rflow", &pass_flow("latest")).await;
        publish(&client, "rflow").await;
        publish(&client, "rflow").await;
        // A weight of 0 still routes to the version.
        create_alias(&client, "rflow", "live", json!([{"Version": "2", "Weight": 100}, {"Version": "1", "Weight": 0}])).await;
        let delete = |version: &'static str| {
            let client = client.clone();
            async move {
                client.call("DeleteFlowVersion", &[("FlowName", "rflow"), ("FlowVersion", version)]).await
            }
        };
        for version in ["1", "2"] {
            let refused = delete(version).await;
            assert_eq!(
                refused.err(400, "InvalidArgument").message(),
                format!("Parameter error: FlowVersion {version} cannot be deleted: alias live routes to it")
            );
        }
        let list = client.get("ListFlowVersions", &[("FlowName", "rflow")]).await.ok().clone();
        assert_eq!(versions_of(&list), ["1", "2"]);
        // Once no alias routes to it, it can go.
        client
            .call("UpdateFlowAlias", &[("FlowName", "rflow"), ("Name", "live"), ("RoutingConfigurations", r#"[{"Version":"2","Weight":1}]"#)])
            .await
            .ok();
        delete("1").await.ok();
        client.call("DeleteFlowAlias", &[("FlowName", "rflow"), ("Name", "live")]).await.ok();
        delete("2").await.ok();
        let list = client.get("ListFlowVersions", &[("FlowName", "rflow")]).await.ok().clone();
        assert_eq!(versions_of(&list), Vec::<&str>::new());
        server.stop().await;
    }

    async fn deleting_a_flow_drops_its_versions_and_aliases(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("dflow", &pass_flow("old")).await;
        publish(&client, "dflow").await;
        publish(&client, "dflow").await;
        create_alias(&client, "dflow", "prod", json!([{"Version": "2", "Weight": 100}])).await;
        client.call("DeleteFlow", &[("Name", "dflow")]).await.ok();
        client.create_flow("dflow", &pass_flow("new")).await;
        let list = client.get("ListFlowVersions", &[("FlowName", "dflow")]).await.ok().clone();
        assert_eq!(versions_of(&list), Vec::<&str>::new());
        let aliases = client.get("ListFlowAliases", &[("FlowName", "dflow")]).await.ok().clone();
        assert_eq!(alias_names(&aliases), Vec::<&str>::new());
        client.get("DescribeFlowAlias", &[("FlowName", "dflow"), ("Name", "prod")]).await.err(404, "FlowAliasNotExists");
        // The re-created flow numbers its versions afresh.
        assert_eq!(publish(&client, "dflow").await, "1");
        let version = client.get("DescribeFlow", &[("Name", "dflow"), ("FlowVersion", "1")]).await.ok().clone();
        assert_eq!(version["Definition"], pass_flow("new"));
        server.stop().await;
    }

    async fn qualifiers_choose_what_runs(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client
            .create_flow_with("qflow", &pass_flow("one"), &[("Environment", &environment("one"))])
            .await;
        publish(&client, "qflow").await;
        update_flow(&client, &[("Name", "qflow"), ("Definition", &pass_flow("two")), ("Environment", &environment("two"))]).await;
        publish(&client, "qflow").await;
        update_flow(&client, &[("Name", "qflow"), ("Definition", &pass_flow("latest")), ("Environment", &environment("latest"))]).await;
        let wait = Duration::from_secs(20);
        let ran = |body: &Value| json_field(body, "Output")["ran"].as_str().unwrap_or_default().to_string();
        let variable = |body: &Value| body["Environment"]["Variables"][0]["Value"].clone();

        // Absent or empty → the latest configuration.
        client.start("qflow", "plain", "").await;
        start_with(&client, "qflow", "empty", "").await;
        for name in ["plain", "empty"] {
            let ended = client.wait_end("qflow", name, wait).await;
            assert_eq!(ran(&ended), "latest");
            assert_eq!(variable(&ended), "latest");
        }

        // A version number → that version's definition and environment.
        for (version, tag) in [("1", "one"), ("2", "two")] {
            let name = format!("by-version-{version}");
            let started = start_with(&client, "qflow", &name, version).await;
            assert_eq!(started["FlowDefinition"], pass_flow(tag));
            let ended = client.wait_end("qflow", &name, wait).await;
            assert_eq!(ran(&ended), tag);
            assert_eq!(variable(&ended), tag);
            assert_eq!(ended["FlowDefinition"], pass_flow(tag));
        }

        // An alias weighted 100/0 always picks its first version.
        create_alias(&client, "qflow", "first", json!([{"Version": "1", "Weight": 100}, {"Version": "2", "Weight": 0}])).await;
        for i in 0..20 {
            let started = start_with(&client, "qflow", &format!("first-{i}"), "first").await;
            assert_eq!(started["FlowDefinition"], pass_flow("one"), "first-{i}");
        }
        let ended = client.wait_end("qflow", "first-19", wait).await;
        assert_eq!(ran(&ended), "one");

        // An alias weighted 50/50 picks both.
        create_alias(&client, "qflow", "half", json!([{"Version": "1", "Weight": 50}, {"Version": "2", "Weight": 50}])).await;
        let mut on_one = HashSet::new();
        let mut on_two = HashSet::new();
        for i in 0..200 {
            let name = format!("half-{i}");
            let started = start_with(&client, "qflow", &name, "half").await;
            if started["FlowDefinition"] == pass_flow("one") {
                on_one.insert(name);
            } else {
                assert_eq!(started["FlowDefinition"], pass_flow("two"), "{name}");
                on_two.insert(name);
            }
        }
        assert!(!on_one.is_empty() && !on_two.is_empty(), "{} on 1, {} on 2", on_one.len(), on_two.len());
        for name in [on_one.iter().next(), on_two.iter().next()].into_iter().flatten() {
            let ended = client.wait_end("qflow", name, wait).await;
            let expected = if on_one.contains(name) { "one" } else { "two" };
            assert_eq!(ran(&ended), expected, "{name}");
        }

        // ListExecutions' Qualifier: started through that alias, or run on that version.
        let names = |executions: Vec<Value>| -> HashSet<String> {
            executions.iter().map(|e| e["Name"].as_str().unwrap_or_default().to_string()).collect()
        };
        let through_half = names(executions_for(&client, "qflow", "half").await);
        assert_eq!(through_half, on_one.union(&on_two).cloned().collect());
        let through_first = names(executions_for(&client, "qflow", "first").await);
        let first_names: HashSet<String> = (0..20).map(|i| format!("first-{i}")).collect();
        assert_eq!(through_first, first_names);
        let on_version_two = names(executions_for(&client, "qflow", "2").await);
        let mut expected: HashSet<String> = on_two.clone();
        expected.insert("by-version-2".into());
        assert_eq!(on_version_two, expected);
        let on_version_one = names(executions_for(&client, "qflow", "1").await);
        let mut expected: HashSet<String> = on_one.union(&first_names).cloned().collect();
        expected.insert("by-version-1".into());
        assert_eq!(on_version_one, expected);
        for execution in executions_for(&client, "qflow", "2").await {
            assert_eq!(execution["FlowDefinition"], pass_flow("two"));
        }
        assert!(executions_for(&client, "qflow", "nothing").await.is_empty());
        server.stop().await;
    }

    async fn unknown_qualifiers_are_not_found(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("uflow", &pass_flow("latest")).await;
        publish(&client, "uflow").await;
        let start = |qualifier: &'static str| {
            let client = client.clone();
            async move {
                client
                    .call("StartExecution", &[("FlowName", "uflow"), ("Qualifier", qualifier)])
                    .await
            }
        };
        let version = start("2").await;
        assert_eq!(version.err(404, "FlowVersionNotExists").message(), "Version 2 of flow uflow does not exist.");
        let alias = start("prod").await;
        assert_eq!(alias.err(404, "FlowAliasNotExists").message(), "Alias prod of flow uflow does not exist.");
        // Deleted versions and aliases are not found either.
        create_alias(&client, "uflow", "prod", json!([{"Version": "1", "Weight": 100}])).await;
        client.call("DeleteFlowAlias", &[("FlowName", "uflow"), ("Name", "prod")]).await.ok();
        start("prod").await.err(404, "FlowAliasNotExists");
        client.call("DeleteFlowVersion", &[("FlowName", "uflow"), ("FlowVersion", "1")]).await.ok();
        start("1").await.err(404, "FlowVersionNotExists");
        // No execution was created by the refused starts.
        let listed = client.get("ListExecutions", &[("FlowName", "uflow")]).await.ok().clone();
        assert_eq!(listed["Executions"], json!([]));
        server.stop().await;
    }
}
