//! Per-key policies, account isolation, the development key.

use super::*;

#[tokio::test]
async fn key_policies_deny_with_access_denied() {
    let server = start_with_accounts(Backend::Sqlite, |_| {}).await;
    let admin = key(&server, "a-admin");
    admin.create_flow("billing", FLOW).await;
    admin.create_flow("orders-1", FLOW).await;
    admin.start("billing", "e1", "").await;

    // A key limited to fnf:Describe*.
    let reader = key(&server, "a-reader");
    let denied = [
        (
            "POST",
            "CreateFlow",
            vec![("Name", "new_flow"), ("Definition", FLOW), ("Type", "FDL")],
        ),
        ("POST", "DeleteFlow", vec![("Name", "billing")]),
        ("GET", "ListFlows", vec![]),
        ("POST", "StartExecution", vec![("FlowName", "billing")]),
        (
            "GET",
            "GetExecutionHistory",
            vec![("FlowName", "billing"), ("ExecutionName", "e1")],
        ),
        (
            "POST",
            "ReportTaskSucceeded",
            vec![("TaskToken", "t"), ("Output", "{}")],
        ),
    ];
    for (method, action, params) in &denied {
        let answer = call(&reader, method, action, params).await;
        answer.err_msg(403, "AccessDenied", ACCESS_DENIED);
    }
    assert_eq!(
        call(&reader, "GET", "DescribeFlow", &[("Name", "billing")])
            .await
            .ok()["Name"],
        "billing"
    );
    assert_eq!(
        call(
            &reader,
            "GET",
            "DescribeExecution",
            &[("FlowName", "billing"), ("ExecutionName", "e1")]
        )
        .await
        .ok()["Name"],
        "e1"
    );
    call(&reader, "POST", "DescribeRegions", &[]).await.ok();
    // Denial comes before validation and lookup.
    call(&reader, "POST", "CreateFlow", &[("Name", "1 bad")])
        .await
        .err_msg(403, "AccessDenied", ACCESS_DENIED);
    call(&reader, "GET", "DescribeFlow", &[("Name", "missing")])
        .await
        .err(404, "FlowNotExists");

    // A key limited to flows `orders-*`.
    let orders = key(&server, "a-orders");
    call(
        &orders,
        "POST",
        "CreateFlow",
        &[("Name", "orders-2"), ("Definition", FLOW), ("Type", "FDL")],
    )
    .await
    .ok();
    call(
        &orders,
        "POST",
        "StartExecution",
        &[("FlowName", "orders-1"), ("ExecutionName", "o1")],
    )
    .await
    .ok();
    call(&orders, "GET", "DescribeFlow", &[("Name", "orders-1")])
        .await
        .ok();
    call(
        &orders,
        "GET",
        "DescribeFlow",
        &[("Name", "orders-missing")],
    )
    .await
    .err(404, "FlowNotExists");
    for (method, action, params) in [
        (
            "POST",
            "CreateFlow",
            vec![("Name", "billing-2"), ("Definition", FLOW), ("Type", "FDL")],
        ),
        ("GET", "DescribeFlow", vec![("Name", "billing")]),
        ("GET", "DescribeFlow", vec![("Name", "Orders-1")]),
        ("GET", "DescribeFlow", vec![("Name", "missing")]),
        (
            "POST",
            "UpdateFlow",
            vec![("Name", "billing"), ("Description", "x")],
        ),
        ("POST", "DeleteFlow", vec![("Name", "billing")]),
        ("POST", "StartExecution", vec![("FlowName", "billing")]),
        (
            "POST",
            "StopExecution",
            vec![("FlowName", "billing"), ("ExecutionName", "e1")],
        ),
        (
            "GET",
            "DescribeExecution",
            vec![("FlowName", "billing"), ("ExecutionName", "e1")],
        ),
        ("GET", "ListExecutions", vec![("FlowName", "billing")]),
        (
            "GET",
            "GetExecutionHistory",
            vec![("FlowName", "billing"), ("ExecutionName", "e1")],
        ),
        ("POST", "StartSyncExecution", vec![("FlowName", "billing")]),
    ] {
        let answer = call(&orders, method, action, &params).await;
        answer.err_msg(403, "AccessDenied", ACCESS_DENIED);
    }
    // The flows the denied calls aimed at are untouched.
    assert_eq!(
        call(&admin, "GET", "DescribeFlow", &[("Name", "billing")])
            .await
            .ok()["Description"],
        "test flow"
    );

    // A key with an empty action list may do nothing.
    let nothing = key(&server, "a-nothing");
    for (method, action) in [
        ("POST", "DescribeRegions"),
        ("GET", "ListFlows"),
        ("GET", "DescribeFlow"),
    ] {
        call(&nothing, method, action, &[("Name", "billing")])
            .await
            .err_msg(403, "AccessDenied", ACCESS_DENIED);
    }
    // AccessDenied needs a valid signature first.
    let forged = server.client_with_key("a-nothing", "wrong");
    forged
        .get("ListFlows", &[])
        .await
        .err(403, "SignatureNotMatch");
    server.stop().await;
}

fn flow_names(answer: &Answer) -> Vec<String> {
    answer.ok()["Flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flow| flow["Name"].as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn accounts_are_isolated(backend) {
        let server = start_with_accounts(backend, |_| {}).await;
        let a = key(&server, "a-admin");
        let b = key(&server, "b-admin");
        let flow_a = a.create_flow("shared_name", FLOW).await;
        a.create_flow("only_a", FLOW).await;
        a.start("shared_name", "e1", r#"{"from":"a"}"#).await;
        a.wait_end("shared_name", "e1", std::time::Duration::from_secs(10)).await;

        // B sees none of A's flows.
        assert!(flow_names(&call(&b, "GET", "ListFlows", &[]).await).is_empty());
        for name in ["shared_name", "only_a"] {
            let not_exists = format!("Flow {name} does not exist.");
            for (method, action, params) in [
                ("GET", "DescribeFlow", vec![("Name", name)]),
                ("POST", "UpdateFlow", vec![("Name", name), ("Description", "by b")]),
                ("POST", "DeleteFlow", vec![("Name", name)]),
                ("POST", "StartExecution", vec![("FlowName", name), ("ExecutionName", "e2")]),
                ("POST", "StopExecution", vec![("FlowName", name), ("ExecutionName", "e1")]),
                ("GET", "DescribeExecution", vec![("FlowName", name), ("ExecutionName", "e1")]),
                ("GET", "ListExecutions", vec![("FlowName", name)]),
                ("GET", "GetExecutionHistory", vec![("FlowName", name), ("ExecutionName", "e1")]),
            ] {
                let answer = call(&b, method, action, &params).await;
                answer.err_msg(404, "FlowNotExists", &not_exists);
            }
        }

        // B creates its own flow of the same name; each account sees its own.
        let flow_b = call(
            &b,
            "POST",
            "CreateFlow",
            &[("Name", "shared_name"), ("Definition", FLOW), ("Description", "b's flow"), ("Type", "FDL")],
        )
        .await
        .ok()
        .clone();
        assert_ne!(flow_a["Id"], flow_b["Id"]);
        assert_eq!(flow_names(&call(&b, "GET", "ListFlows", &[]).await), ["shared_name"]);
        assert_eq!(flow_names(&call(&a, "GET", "ListFlows", &[]).await), ["only_a", "shared_name"]);
        let seen_by_a = call(&a, "GET", "DescribeFlow", &[("Name", "shared_name")]).await;
        assert_eq!(seen_by_a.ok()["Id"], flow_a["Id"]);
        assert_eq!(seen_by_a.ok()["Description"], "test flow");
        let executions = call(&b, "GET", "ListExecutions", &[("FlowName", "shared_name")]).await;
        assert_eq!(executions.ok()["Executions"], Value::Array(vec![]));
        call(&b, "GET", "DescribeExecution", &[("FlowName", "shared_name"), ("ExecutionName", "e1")])
            .await
            .err_msg(404, "ExecutionNotExists", "Execution e1 for flow shared_name does not exist.");
        // B's execution named e1 is B's own.
        b.start("shared_name", "e1", r#"{"from":"b"}"#).await;
        assert_eq!(b.describe("shared_name", "e1").await["Input"], r#"{"from":"b"}"#);
        assert_eq!(a.describe("shared_name", "e1").await["Input"], r#"{"from":"a"}"#);

        // B deleting its flow leaves A's alone.
        call(&b, "POST", "DeleteFlow", &[("Name", "shared_name")]).await.ok();
        call(&a, "GET", "DescribeFlow", &[("Name", "shared_name")]).await.ok();
        assert_eq!(a.describe("shared_name", "e1").await["Status"], "Succeeded");

        // Keys of one account share its flows; the default key is a third account.
        let reader = key(&server, "a-reader");
        call(&reader, "GET", "DescribeFlow", &[("Name", "only_a")]).await.ok();
        assert!(flow_names(&call(&server.client(), "GET", "ListFlows", &[]).await).is_empty());
        server.stop().await;
    }
}

#[tokio::test]
async fn without_credentials_the_development_key_works_on_loopback_only() {
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.access_key_id = None;
        config.access_key_secret = None;
        config.credentials_file = None;
    })
    .await;
    let dev = server.client_with_key(DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET);
    assert_eq!(DEV_ACCESS_KEY_ID, "fnf-dev-access-key-id");
    assert_eq!(DEV_ACCESS_KEY_SECRET, "fnf-dev-access-key-secret");
    dev.create_flow("dev_flow", FLOW).await;
    assert_eq!(
        flow_names(&call(&dev, "GET", "ListFlows", &[]).await),
        ["dev_flow"]
    );
    server.client().get("ListFlows", &[]).await.err_msg(
        403,
        "InvalidAccessKeyID",
        "The AccessKey ID test-access-key is invalid.",
    );
    server.stop().await;

    // Off loopback, the server refuses to start and says why.
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let storage = Storage::new(Backend::Sqlite).await;
        let mut config = test_config(&storage.database_url);
        config.access_key_id = None;
        config.access_key_secret = None;
        config.listen = listen.parse().unwrap();
        match fnf_server::server::start(config).await {
            Ok(running) => {
                running.stop().await;
                panic!("started on {listen} with only the development key");
            }
            Err(error) => {
                let text = error.to_string();
                assert_eq!(
                    text,
                    format!(
                        "refusing to listen on {listen} with the public development key: configure \
                         credentials (FNF_ACCESS_KEY_ID and FNF_ACCESS_KEY_SECRET, or \
                         --credentials-file), or listen on a loopback address"
                    )
                );
            }
        }
        storage.cleanup().await;
    }
    // The development key is not accepted once a key is configured.
    let server = TestServer::start(Backend::Sqlite).await;
    server
        .client_with_key(DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET)
        .get("ListFlows", &[])
        .await
        .err(403, "InvalidAccessKeyID");
    server.stop().await;
    // With credentials configured, a non-loopback address is allowed.
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.listen = "0.0.0.0:0".parse().unwrap();
    })
    .await;
    let port = server.server.as_ref().unwrap().addr.port();
    let client = Client::new(
        &format!("127.0.0.1:{port}"),
        ACCESS_KEY_ID,
        ACCESS_KEY_SECRET,
    );
    client.get("ListFlows", &[]).await.ok();
    server.stop().await;
}
