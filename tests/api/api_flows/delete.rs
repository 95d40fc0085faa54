//! DeleteFlow (docs/COMPATIBILITY.md#flows): the name is freed, its executions stop, and a parent waiting
//! for one of them fails.

use super::*;

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
}
