//! DescribeFlow and ListFlows (docs/COMPATIBILITY.md#flows): errors, page limits, paging by name,
//! the resource-group filter and a sort order independent of the database collation.

use super::*;

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

backend_tests! {
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
}
