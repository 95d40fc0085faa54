//! Mocked integrations (`--mock-config`, `FlowName=<flow>#<TestCase>`): the official Python
//! SDK against servers on both stores, the mock file's validation at start and its reloads,
//! and a test case kept across a crash.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::fc_stub::FcStub;
use common::process::ServerProcess;
use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Storage, TestServer};
use serde_json::json;

/// The mock file of `tests/sdk/python_mocks.py`.
const MOCK_FILE: &str = r#"
Flows:
  mock_orders:
    TestCases:
      HappyPath:
        ChargeCard: ChargeOk
        Notify: Sent
        Provision: Provisioned
        Child: ChildDone
        Callback: Approved
      CardDeclined:
        ChargeCard: DeclinedAfterRetries
  mock_mixed:
    TestCases:
      ChargeOnly: {Charge: ChargeOk}
  mock_sync:
    TestCases:
      Quick: {Work: WorkDone}
  mock_fdl:
    TestCases:
      Local: {work: FdlLocal}
  mock_strict:
    TestCases:
      Bad: {Missing: ChargeOk}
MockedResponses:
  ChargeOk:
    "0": {Return: {Code: 200, Header: {}, Body: {charged: true, id: c-1}}}
  DeclinedAfterRetries:
    "0-1": {Throw: {Error: FC.ResourceThrottled, Cause: busy}}
    "2": {Throw: {Error: Card.Declined, Cause: insufficient funds}}
  Sent: {"0": {Return: {Code: 202, Header: {}, Body: accepted}}}
  Provisioned: {"0": {Return: {InstanceIds: [i-1]}}}
  ChildDone: {"0": {Return: {shipped: true}}}
  Approved: {"0": {Return: {approved: true}}}
  WorkDone: {"0": {Return: {done: 1}}}
  FdlLocal: {"0": {Return: {fromMock: "yes"}}}
"#;

fn python() -> String {
    std::env::var("FNF_SDK_PYTHON").unwrap_or_else(|_| {
        panic!("FNF_SDK_PYTHON is not set: run the tests with ./scripts/test, which installs the official SDKs")
    })
}

/// Runs a script of tests/sdk against `endpoint` and checks it reports success.
async fn run_script(script: &str, endpoint: &str, env: &[(&str, String)]) {
    let mut command = Command::new(python());
    command
        .arg(format!("{}/tests/sdk/{script}", env!("CARGO_MANIFEST_DIR")))
        .env("FNF_ENDPOINT", endpoint)
        .env("FNF_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("FNF_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the script runner")
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.lines().last().is_some_and(|l| l.starts_with("OK ")),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

backend_tests! {
    async fn python_sdk(backend) {
        let dir = tempfile::tempdir().unwrap();
        let mocks = dir.path().join("mocks.yaml");
        std::fs::write(&mocks, MOCK_FILE).unwrap();
        let stub = FcStub::start().await;
        let server = TestServer::start_with(backend, |config| {
            config.mock_config = Some(mocks.clone());
            config.fc_endpoint = Some(stub.endpoint());
        })
        .await;
        run_script("python_mocks.py", &server.endpoint, &[]).await;
        server.stop().await;
    }

    async fn reloads_through_python_sdk(backend) {
        let storage = Storage::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let mocks = dir.path().join("mocks.yaml");
        std::fs::write(
            &mocks,
            "Flows: {reloaded: {TestCases: {First: {Work: A}}}}\nMockedResponses: {A: {\"0\": {Return: {case: First}}}}\n",
        )
        .unwrap();
        let log = dir.path().join("server.log");
        let mocks_text = mocks.display().to_string();
        let server = ServerProcess::start_logged(
            &storage.database_url,
            "http://127.0.0.1:9",
            &[("FNF_MOCK_CONFIG", &mocks_text)],
            &log,
        )
        .await;
        run_script(
            "python_mock_reload.py",
            &server.endpoint,
            &[
                ("FNF_MOCK_FILE", mocks_text.clone()),
                ("FNF_SERVER_PID", server.pid().to_string()),
                ("FNF_SERVER_LOG", log.display().to_string()),
            ],
        )
        .await;
        drop(server);
        storage.cleanup().await;
    }

    async fn the_test_case_survives_a_crash(backend) {
        let storage = Storage::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let mocks = dir.path().join("mocks.yaml");
        std::fs::write(
            &mocks,
            "Flows: {slow: {TestCases: {Later: {Work: Done}}}}\nMockedResponses: {Done: {\"0\": {Return: {mocked: yes}}}}\n",
        )
        .unwrap();
        let mocks_text = mocks.display().to_string();
        let mut server = ServerProcess::start_with(
            &storage.database_url,
            "http://127.0.0.1:9",
            &[("FNF_MOCK_CONFIG", &mocks_text)],
        )
        .await;
        let client = server.client();
        let definition = "Type: StateMachine\nName: slow\nSpecVersion: v1\nStartAt: Hold\nStates:\n  - Type: Wait\n    Name: Hold\n    Seconds: 2\n    Next: Work\n  - Type: Task\n    Name: Work\n    Action: ECS:RunInstances\n    End: true\n";
        client
            .call("CreateFlow", &[("Name", "slow"), ("Definition", definition), ("Type", "FDL"), ("Description", "")])
            .await
            .ok();
        client
            .call("StartExecution", &[("FlowName", "slow#Later"), ("ExecutionName", "e1")])
            .await
            .ok();
        server.kill();
        server.restart().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let body = loop {
            let answer = client
                .call("DescribeExecution", &[("FlowName", "slow"), ("ExecutionName", "e1")])
                .await;
            let body = answer.ok().clone();
            if body["Status"] != "Running" {
                break body;
            }
            assert!(Instant::now() < deadline, "the execution did not end: {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(body["Status"], "Succeeded", "{body}");
        assert_eq!(body["Output"], json!({"mocked": "yes"}).to_string());
        drop(server);
        storage.cleanup().await;
    }
}

/// A broken mock file: the server does not start, and says which file, where and why.
#[test]
fn a_broken_mock_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mocks = dir.path().join("mocks.yaml");
    std::fs::write(
        &mocks,
        "Flows: {f: {TestCases: {T: {S: Missing}}}}\nMockedResponses: {R: {\"0\": {Return: 1}}}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fnf-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FNF_LISTEN", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("fnf.db").display()),
        )
        .env("FNF_MOCK_CONFIG", &mocks)
        .output()
        .expect("the server binary runs");
    // The log is on stdout.
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "it started: {log}");
    let expected = format!(
        "{}: Flows.f.TestCases.T.S: unknown mocked response 'Missing' (not in MockedResponses)",
        mocks.display()
    );
    assert!(log.contains(&expected), "{log}");
}
