//! Ending executions from outside: StopExecution.

use serde_json::Value;

use super::children::map_item_signal;
use super::{Hint, Runtime};
use crate::engine::history::EventType;
use crate::engine::state::TaskOutcome;
use crate::store::{Execution, ExecutionStatus, ForcedEnd, StoreResult, WorkNotice};
use crate::time::now_ms;

impl Runtime {
    /// StopExecution: ends a running execution at once, whatever its worker is doing.
    pub async fn stop_execution(
        &self,
        execution: &Execution,
        error: Option<String>,
        cause: Option<String>,
    ) -> StoreResult<Option<Execution>> {
        let now = now_ms();
        // `{"error", "cause"}` with the values given; absent ones are omitted (docs/COMPATIBILITY.md#history-events).
        let mut detail = serde_json::Map::new();
        if let Some(error) = &error {
            detail.insert("error".into(), Value::from(error.as_str()));
        }
        if let Some(cause) = &cause {
            detail.insert("cause".into(), Value::from(cause.as_str()));
        }
        let mut signals = Vec::new();
        // docs/COMPATIBILITY.md#executions: a stopped child reports a failure, default error `Stopped`.
        let outcome = TaskOutcome::failure(
            error.clone().unwrap_or_else(|| "Stopped".into()),
            cause.clone().unwrap_or_default(),
        );
        if let Some(child) = &execution.map_child {
            signals.push(map_item_signal(child, outcome.clone()));
        }
        if let Some(token) = &execution.callback_token
            && let Some(signal) = self
                .parent_signal(
                    &execution.identity.account_id,
                    token,
                    Some(&execution.identity.name),
                    outcome,
                )
                .await?
        {
            signals.push(signal);
        }
        let stopped = self
            .store
            .force_end(&ForcedEnd {
                execution_id: execution.identity.id.clone(),
                status: ExecutionStatus::Stopped,
                error,
                cause,
                now,
                event_type: EventType::ExecutionStopped.as_str().to_string(),
                detail: Value::Object(detail).to_string(),
                signals: signals.clone(),
            })
            .await?;
        if stopped.is_some() {
            let _ = self
                .store
                .notify(WorkNotice::Ended(execution.identity.id.clone()))
                .await;
            for signal in signals {
                self.hint(Hint::Execution(signal.execution_id));
            }
            // Its distributed Maps' children stop with it.
            for map_run in self
                .store
                .abort_map_runs(&execution.identity.id, now)
                .await?
            {
                Box::pin(self.stop_map_children(&map_run)).await;
            }
        }
        Ok(stopped)
    }
}
