//! Concurrent creates and updates of one flow, and the per-account flow limit.

use super::*;

backend_tests! {
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
}
