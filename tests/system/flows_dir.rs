//! Flows from files (`--flows-dir`): created at start, updated when a file is saved, a broken
//! file leaves its flow as it was, a new file becomes a flow.

use crate::common;

use std::time::{Duration, Instant};

use common::TestServer;

const WITHIN: Duration = Duration::from_secs(10);

fn state_machine(name: &str, state: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: {state}\nStates:\n  - Type: Pass\n    Name: {state}\n    End: true\n"
    )
}

/// The flow's definition once `done` holds for it (polling with a deadline).
async fn await_definition(
    client: &common::Client,
    name: &str,
    done: impl Fn(Option<&str>) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + WITHIN;
    loop {
        let answer = client.get("DescribeFlow", &[("Name", name)]).await;
        let definition = (answer.status == 200).then(|| {
            answer.body["Definition"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        if done(definition.as_deref()) {
            return definition;
        }
        assert!(Instant::now() < deadline, "{name}: still {definition:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

backend_tests! {
    async fn files_become_flows_and_follow_their_saves(backend) {
        let dir = tempfile::tempdir().unwrap();
        let first = state_machine("alpha", "One");
        std::fs::write(dir.path().join("alpha-file.yaml"), &first).unwrap();
        std::fs::write(
            dir.path().join("billing.json"),
            r#"{"version": "v1", "type": "flow", "steps": [{"type": "pass", "name": "p"}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a flow").unwrap();
        let flows_dir = dir.path().to_path_buf();
        let server = TestServer::start_with(backend, |config| config.flows_dir = Some(flows_dir)).await;
        let client = server.client();

        // At start: named by the state machine's Name, else by the file's stem.
        let alpha = client.get("DescribeFlow", &[("Name", "alpha")]).await.ok().clone();
        assert_eq!(alpha["Definition"], first.as_str());
        assert_eq!((alpha["Type"].as_str(), alpha["Description"].as_str()), (Some("FDL"), Some("")));
        let billing = client.get("DescribeFlow", &[("Name", "billing")]).await.ok().clone();
        let listed = client.get("ListFlows", &[]).await.ok().clone();
        assert_eq!(listed["Flows"].as_array().unwrap().len(), 2, "{listed}");
        let run = common::run_execution(&client, "alpha", "e1", "{}", WITHIN).await;
        assert_eq!(run.status, "Succeeded");

        // A save while running updates the flow.
        let second = state_machine("alpha", "Two");
        std::fs::write(dir.path().join("alpha-file.yaml"), &second).unwrap();
        await_definition(&client, "alpha", |d| d == Some(second.as_str())).await;

        // A broken save leaves the flow as it was; a file added after it is picked up.
        std::fs::write(
            dir.path().join("alpha-file.yaml"),
            "Type: StateMachine\nName: alpha\nSpecVersion: v1\nStartAt: Nowhere\nStates: []\n",
        )
        .unwrap();
        let third = state_machine("gamma", "G");
        std::fs::write(dir.path().join("gamma.yml"), &third).unwrap();
        await_definition(&client, "gamma", |d| d == Some(third.as_str())).await;
        let alpha = client.get("DescribeFlow", &[("Name", "alpha")]).await.ok().clone();
        assert_eq!(alpha["Definition"], second.as_str());
        // Every save syncs the directory; unchanged files are not written again.
        let billing_now = client.get("DescribeFlow", &[("Name", "billing")]).await.ok().clone();
        assert_eq!(billing_now["LastModifiedTime"], billing["LastModifiedTime"]);
        server.stop().await;
    }
}
