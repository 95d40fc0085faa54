//! Synchronous (Express) executions (docs/COMPATIBILITY.md#synchronous-executions): the same interpreter, driven in memory
//! inside the request. Nothing is stored per step; calls run concurrently; callbacks reach
//! the run through an in-process registry (so a report must come to the replica running it).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinSet};

use super::Runtime;
use crate::engine::errors;
use crate::engine::mocks::Mocks;
use crate::engine::run::{self, EndState, RunContext, SignalResult};
use crate::engine::state::{SignalPayload, TaskOutcome};
use crate::store::{ExecutionStatus, Flow};
use crate::testing::TestCase;
use crate::time::now_ms;

/// What StartSyncExecution runs.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    pub flow: Flow,
    /// `<ExecutionName>:<uuid>` or a generated name.
    pub name: String,
    /// JSON object text, or "".
    pub input: String,
    /// The longest the run may take before it ends `TimedOut`.
    pub limit: Duration,
    /// The test case whose mocks answer its tasks.
    pub test_case: Option<Arc<TestCase>>,
}

/// How a synchronous execution ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncResult {
    pub status: ExecutionStatus,
    /// JSON text on success.
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub started_at: i64,
    pub stopped_at: i64,
}

/// A signal for a running synchronous execution, with where to send its result.
pub(super) type ExpressSignal = (SignalPayload, Option<oneshot::Sender<SignalResult>>);

/// Running synchronous executions by (account, flow, execution name).
#[derive(Default)]
pub(super) struct ExpressRegistry {
    runs: std::sync::Mutex<HashMap<(String, String, String), ExpressRun>>,
}

#[derive(Clone)]
pub(super) struct ExpressRun {
    pub execution_id: String,
    pub signals: mpsc::UnboundedSender<ExpressSignal>,
}

impl ExpressRegistry {
    pub fn find(
        &self,
        account_id: &str,
        flow_name: &str,
        execution_name: &str,
    ) -> Option<ExpressRun> {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.get(&(account_id.into(), flow_name.into(), execution_name.into()))
            .cloned()
    }
}

/// Removes a run from the registry when it ends or its client goes away.
struct Registration<'a> {
    registry: &'a ExpressRegistry,
    key: (String, String, String),
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let mut runs = self.registry.runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.remove(&self.key);
    }
}

impl Runtime {
    /// Runs an Express flow to its end within the call. Dropping the future (the client
    /// disconnected) cancels the run and its calls.
    pub async fn run_sync(self: &Arc<Self>, request: SyncRequest) -> SyncResult {
        let started_at = now_ms();
        let deadline = tokio::time::Instant::now() + request.limit;
        let flow = &request.flow;
        let end = |status, output, error: Option<String>, cause: Option<String>| SyncResult {
            status,
            output,
            error,
            cause,
            started_at,
            stopped_at: now_ms(),
        };
        let definition = match self.definitions.get(&flow.definition, &flow.name, true) {
            Ok(definition) => definition,
            Err(error) => {
                return end(
                    ExecutionStatus::Failed,
                    None,
                    Some(errors::RUNTIME.into()),
                    Some(format!("the definition is invalid: {error}")),
                );
            }
        };
        let input: Value = if request.input.is_empty() {
            crate::engine::data::empty_object()
        } else {
            match crate::engine::json::parse_data(&request.input) {
                Ok(input) => input,
                Err(error) => {
                    return end(
                        ExecutionStatus::Failed,
                        None,
                        Some(errors::RUNTIME.into()),
                        Some(format!("the execution input is unreadable: {error}")),
                    );
                }
            }
        };
        let execution_id = uuid::Uuid::new_v4().to_string();
        let (signal_sender, mut signals) = mpsc::unbounded_channel::<ExpressSignal>();
        let key = (
            flow.account_id.clone(),
            flow.name.clone(),
            request.name.clone(),
        );
        self.express
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                key.clone(),
                ExpressRun {
                    execution_id: execution_id.clone(),
                    signals: signal_sender,
                },
            );
        let _registration = Registration {
            registry: &self.express,
            key,
        };
        let context = |now| RunContext {
            definition: &definition,
            account_id: &flow.account_id,
            flow_name: &flow.name,
            execution_name: &request.name,
            execution_id: &execution_id,
            execution_input: &input,
            role_arn: flow.role_arn.as_deref(),
            region: &self.config.region,
            tokens: &self.tokens,
            express: true,
            now,
            time_scale: self.config.time_scale,
            mocks: request.test_case.as_deref().map(|case| case as &dyn Mocks),
        };
        let (mut state, mut outcome) = run::start(&context(now_ms()));
        let mut calls: JoinSet<(String, TaskOutcome)> = JoinSet::new();
        let mut running: HashMap<String, AbortHandle> = HashMap::new();
        loop {
            if let Some(finished) = outcome.end.take() {
                return match finished {
                    EndState::Succeeded(output) => end(
                        ExecutionStatus::Succeeded,
                        Some(output.to_string()),
                        None,
                        None,
                    ),
                    EndState::Failed { error, cause } => {
                        end(ExecutionStatus::Failed, None, Some(error), Some(cause))
                    }
                    EndState::TimedOut { cause } => end(
                        ExecutionStatus::TimedOut,
                        None,
                        Some(errors::TIMEOUT.into()),
                        Some(cause),
                    ),
                };
            }
            for call_key in outcome.abandoned_calls.drain(..) {
                if let Some(handle) = running.remove(&call_key) {
                    handle.abort();
                }
            }
            for call in outcome.calls.drain(..) {
                let runtime = self.clone();
                let account_id = flow.account_id.clone();
                let call_key = call.call_key.clone();
                let limit = call.deadline.map_or(request.limit, |at| {
                    Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64)
                });
                let handle = calls.spawn(async move {
                    let outcome = runtime.perform_call(&account_id, &call, limit).await;
                    (call.call_key, outcome)
                });
                running.insert(call_key, handle);
            }
            let wake = outcome.wake_at.map(|at| {
                let from_now = Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64);
                tokio::time::Instant::now() + from_now
            });
            let mut reply = None;
            let signal = tokio::select! {
                Some(joined) = calls.join_next(), if !calls.is_empty() => match joined {
                    Ok((call_key, outcome)) => {
                        running.remove(&call_key);
                        Some(SignalPayload::CallResult { call_key, outcome })
                    }
                    Err(_) => None, // aborted
                },
                Some((signal, respond)) = signals.recv() => {
                    reply = respond;
                    Some(signal)
                }
                _ = tokio::time::sleep_until(wake.unwrap_or(deadline)), if wake.is_some() => None,
                _ = tokio::time::sleep_until(deadline) => {
                    return end(
                        ExecutionStatus::TimedOut,
                        None,
                        Some(errors::TIMEOUT.into()),
                        Some(format!(
                            "the execution exceeded the limit of {} seconds for synchronous executions",
                            request.limit.as_secs()
                        )),
                    );
                }
            };
            let signals_now: Vec<SignalPayload> = signal.into_iter().collect();
            let (next, results) = run::resume(&context(now_ms()), &mut state, &signals_now);
            if let Some(reply) = reply {
                let _ = reply.send(results.first().copied().unwrap_or(SignalResult::Stale));
            }
            outcome = next;
        }
    }
}
