//! The official SDKs against a live server: the scripts under `tests/sdk/` (Python new and
//! old, Node), run as child processes the way a user runs them. `./scripts/test` installs
//! the SDKs and exports `FNF_SDK_PYTHON` and `FNF_SDK_NODE_MODULES`; without them these tests
//! fail (they are never skipped).

use crate::common;

use std::process::Command;

use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Backend, TestServer};

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests with ./scripts/test, which installs the official SDKs"
        )
    })
}

/// Runs one SDK script against a fresh server and checks it reports success.
async fn run_script(backend: Backend, interpreter: &str, script: &str, sections: Option<&str>) {
    let server = TestServer::start(backend).await;
    let program = match interpreter {
        "python" => required_env("FNF_SDK_PYTHON"),
        _ => "node".to_string(),
    };
    let mut command = Command::new(program);
    command
        .arg(format!("{}/tests/sdk/{script}", env!("CARGO_MANIFEST_DIR")))
        .env("FNF_ENDPOINT", &server.endpoint)
        .env("FNF_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("FNF_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .env("FNF_RUN_ID", uuid::Uuid::new_v4().simple().to_string());
    if interpreter == "node" {
        command.env("FNF_SDK_NODE_MODULES", required_env("FNF_SDK_NODE_MODULES"));
    }
    if let Some(sections) = sections {
        command.env("FNF_SDK_SECTIONS", sections);
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
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_new_sdk() {
    run_script(Backend::Sqlite, "python", "python_new.py", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_new_sdk_on_postgres() {
    run_script(Backend::Postgres, "python", "python_new.py", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_new_sdk_full_api() {
    run_script(Backend::Sqlite, "python", "python_new_full_api.py", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_old_sdk() {
    run_script(Backend::Sqlite, "python", "python_old.py", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_old_sdk_full_api() {
    run_script(Backend::Sqlite, "python", "python_old_full_api.py", None).await;
}

/// The Tea SDK's V3 signer (no SDK signs fnf calls with V3 by default yet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_v3_signatures() {
    run_script(Backend::Sqlite, "python", "python_v3.py", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk() {
    run_script(Backend::Sqlite, "node", "node.js", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_on_postgres() {
    run_script(Backend::Postgres, "node", "node.js", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_full_api() {
    run_script(Backend::Sqlite, "node", "node_full_api.js", None).await;
}
