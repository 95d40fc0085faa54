//! `fnf-server test [PATH…] [--junit FILE]`: runs flow test files without a server or network.
//! Each case gets a store of its own (SQLite in a temporary directory), the same runtime as
//! the server, the file's mocks and virtual time (0 unless the case sets another); cases run
//! in parallel. A function or HTTP call that the case does not mock fails the case instead of
//! leaving the process.

mod check;
mod junit;
pub mod spec;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::engine::clock::TimeScale;
use crate::engine::errors::CALL_NOT_MOCKED;
use crate::engine::parse::{ParseOptions, parse_definition};
use crate::store::{self, ExecutionStatus, Flow, StartOutcome, Store};
use crate::testing::{MockConfig, MockRegistry};
use crate::worker::{FunctionEndpoints, Runtime, RuntimeConfig, StartRequest};
use check::{Actual, first_difference};
use spec::{Case, TestFile};

/// The longest one case may run (wall clock).
const CASE_LIMIT: Duration = Duration::from_secs(60);
const ACCOUNT: &str = "1234567890123456";

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: PathBuf,
    pub name: String,
    /// `None`: passed; else the first difference.
    pub failure: Option<String>,
    pub duration: Duration,
}

/// Runs the test files under `paths`, prints a line per case and the totals, writes JUnit
/// XML when asked; the exit status is 0 when every case passed.
pub async fn run(paths: &[PathBuf], junit: Option<&std::path::Path>) -> std::process::ExitCode {
    let files = match spec::collect(paths) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!("fnf-server test: no test files found");
            return std::process::ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("fnf-server test: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    let mut order = 0usize;
    for path in files {
        match spec::load(&path) {
            Err(error) => {
                let result = CaseResult {
                    file: path.clone(),
                    name: "(the file)".into(),
                    failure: Some(error),
                    duration: Duration::ZERO,
                };
                tasks.spawn(async move { (order, result) });
                order += 1;
            }
            Ok(file) => {
                let file = Arc::new(file);
                for index in 0..file.cases.len() {
                    let file = file.clone();
                    tasks.spawn(async move { (order, run_case(&file, index).await) });
                    order += 1;
                }
            }
        }
    }
    let mut results = tasks.join_all().await;
    results.sort_by_key(|(order, _)| *order);
    let results: Vec<CaseResult> = results.into_iter().map(|(_, result)| result).collect();
    for result in &results {
        let shown = format!("{} › {}", result.file.display(), result.name);
        match &result.failure {
            None => println!("ok   {shown}"),
            Some(failure) => {
                println!("FAIL {shown}");
                for line in failure.lines() {
                    println!("     {line}");
                }
            }
        }
    }
    let failed = results.iter().filter(|r| r.failure.is_some()).count();
    println!("{} passed, {failed} failed", results.len() - failed);
    if let Some(path) = junit
        && let Err(error) = junit::write(path, &results)
    {
        eprintln!("fnf-server test: cannot write {}: {error}", path.display());
        return std::process::ExitCode::from(2);
    }
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

async fn run_case(file: &TestFile, index: usize) -> CaseResult {
    let case = &file.cases[index];
    let started = Instant::now();
    let failure = match execute(file, case).await {
        Ok(actual) => first_difference(&case.expect, &actual),
        Err(error) => Some(error),
    };
    CaseResult {
        file: file.path.clone(),
        name: case.name.clone(),
        failure,
        duration: started.elapsed(),
    }
}

/// Runs a case's execution on a store and runtime of its own; how it ended.
async fn execute(file: &TestFile, case: &Case) -> Result<Actual, String> {
    let options = ParseOptions {
        flow_name: &file.flow_name,
        express: false,
    };
    let definition =
        parse_definition(&file.definition, &options).map_err(|e| format!("flow: {e}"))?;
    file.mocks
        .check_flow(&file.flow_name, &definition)
        .map_err(|(place, reason)| format!("mocks: {place}: {reason}"))?;
    let test_case = match &case.test_case {
        None => None,
        Some(name) => Some(file.mocks.test_case(&file.flow_name, name).ok_or_else(|| {
            format!(
                "testCase: the mocks have no test case '{name}' for flow '{}'",
                file.flow_name
            )
        })?),
    };
    let dir = tempfile_dir()?;
    let url = format!("sqlite://{}", dir.path().join("fnf.db").display());
    let store = store::open(&url).await.map_err(|e| format!("store: {e}"))?;
    let scale = TimeScale::new(case.time_scale.unwrap_or(0.0)).unwrap_or(TimeScale::REAL);
    let runtime = runtime(store.clone(), file.mocks.clone(), scale).await?;
    let workers = runtime.spawn();
    let result = drive(file, case, &store, &runtime, test_case).await;
    runtime.shutdown(Duration::ZERO).await;
    for worker in workers {
        worker.abort();
    }
    result
}

fn tempfile_dir() -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix("fnf-test-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))
}

async fn runtime(
    store: Arc<dyn Store>,
    mocks: MockConfig,
    time_scale: TimeScale,
) -> Result<Arc<Runtime>, String> {
    Runtime::new(
        store,
        RuntimeConfig {
            owner: "fnf-server-test".into(),
            region: "cn-hangzhou".into(),
            lease: Duration::from_secs(30),
            workers: 4,
            functions: FunctionEndpoints::default(),
            time_scale,
            mocks: Arc::new(MockRegistry::fixed(mocks)),
            offline: true,
            max_running_executions: i64::MAX,
        },
        Arc::new(crate::metrics::Metrics::new()),
    )
    .await
    .map_err(|e| format!("runtime: {e}"))
}

async fn drive(
    file: &TestFile,
    case: &Case,
    store: &Arc<dyn Store>,
    runtime: &Arc<Runtime>,
    test_case: Option<Arc<crate::testing::TestCase>>,
) -> Result<Actual, String> {
    let now = crate::time::now_ms();
    let flow = Flow {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: ACCOUNT.into(),
        name: file.flow_name.clone(),
        description: String::new(),
        definition: file.definition.clone(),
        flow_type: "FDL".into(),
        role_arn: None,
        execution_mode: "Standard".into(),
        external_storage_location: None,
        resource_group_id: None,
        environment: None,
        created_at: now,
        modified_at: now,
        revision: 1,
    };
    store
        .create_flow(&flow, i64::MAX)
        .await
        .map_err(|e| format!("store: {e}"))?;
    let input = case
        .input
        .clone()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let started = runtime
        .start_execution(StartRequest {
            flow,
            name: Some("test".into()),
            input: input.to_string(),
            callback_token: None,
            qualifier: None,
            flow_version: None,
            started_by: None,
            test_case,
            flow_from_cache: false,
            nonce: None,
        })
        .await
        .map_err(|e| format!("start: {e}"))?;
    let execution = match started {
        StartOutcome::Started(execution) | StartOutcome::Running(execution) => execution,
        StartOutcome::AlreadyEnded(execution) => execution,
        StartOutcome::Throttled => {
            return Err("start: refused by the running-executions limit".into());
        }
        // Not asked for: the flow was just read, not cached.
        StartOutcome::StaleFlow => return Err("start: the flow changed meanwhile".into()),
        // Not asked for: no request's nonce guards the start.
        StartOutcome::NonceUsed => return Err("start: refused as a replay".into()),
    };
    let deadline = Instant::now() + CASE_LIMIT;
    let execution = loop {
        let current = store
            .get_execution_by_id(&execution.identity.id)
            .await
            .map_err(|e| format!("store: {e}"))?
            .ok_or("the execution disappeared")?;
        if current.status.is_terminal() {
            break current;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "the execution did not end within {} s (is it waiting for a callback nobody sends?)",
                CASE_LIMIT.as_secs()
            ));
        }
        runtime
            .wait_for_end(&execution.identity.id, left)
            .await
            .map_err(|e| format!("store: {e}"))?;
    };
    let history = store
        .list_history(&execution.identity.id, 0, i64::MAX)
        .await
        .map_err(|e| format!("store: {e}"))?;
    let path = history
        .iter()
        .filter(|event| event.event_type == "StepEntered")
        .map(|event| event.step_name.clone())
        .collect();
    let unmocked_call = history.iter().find_map(|event| {
        let detail: Value = crate::engine::json::parse_document(&event.detail).ok()?;
        (event.event_type == "TaskFailed" && detail["error"] == CALL_NOT_MOCKED).then(|| {
            (
                event.step_name.clone(),
                detail["cause"].as_str().unwrap_or_default().to_string(),
            )
        })
    });
    Ok(Actual {
        status: execution.status.as_str().to_string(),
        output: (execution.status == ExecutionStatus::Succeeded)
            .then(|| crate::engine::json::parse_data(&execution.output).unwrap_or(Value::Null)),
        error: execution.error,
        cause: execution.cause,
        path,
        unmocked_call,
    })
}
