//! DeleteFlow (docs/COMPATIBILITY.md#flows), and the sweeper that stops the running executions of deleted
//! flows afterwards, in short batches: a flow with any number of executions is deleted within
//! the usual latency, and memory stays flat.
//!
//! The sweeper sleeps until a deletion wakes it; it also runs once at start, for every
//! deleted flow, to finish a sweep that a crash or a shutdown interrupted.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Hint, Runtime};
use crate::engine::state::TaskOutcome;
use crate::error::error_chain;
use crate::store::{Flow, StoppedByDeletion, StoreResult, WorkNotice};
use crate::time::now_ms;

/// Executions stopped per transaction.
const STOP_BATCH: i64 = 500;
/// The pause before trying a failed sweep again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The flows whose executions are still to be stopped: a flow's id, or `None` for every
/// deleted flow.
pub(super) struct DeletedFlows {
    pending: VecDeque<Option<String>>,
}

impl DeletedFlows {
    /// At start, every deleted flow is swept once.
    pub(super) fn at_start() -> DeletedFlows {
        DeletedFlows {
            pending: VecDeque::from([None]),
        }
    }
}

impl Runtime {
    /// DeleteFlow: deletes the flow, its versions, aliases and schedules, and leaves its
    /// running executions to the sweeper, which stops them within moments. Those started
    /// with a `CallbackFnFTaskToken` then report the stop to it (docs/COMPATIBILITY.md#executions), so a parent waiting
    /// for one of them does not wait forever. False if the flow does not exist.
    pub async fn delete_flow(&self, flow: &Flow) -> StoreResult<bool> {
        if !self.store.delete_flow(&flow.account_id, &flow.name).await? {
            return Ok(false);
        }
        self.deleted_flows()
            .pending
            .push_back(Some(flow.id.clone()));
        self.deletions.notify_one();
        Ok(true)
    }

    fn deleted_flows(&self) -> std::sync::MutexGuard<'_, DeletedFlows> {
        self.deleted_flows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sweeper: stops the running executions of deleted flows as deletions ask.
    pub(super) async fn sweep_deleted_flows(self: Arc<Self>) {
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let next = self.deleted_flows().pending.pop_front();
            let Some(flow_id) = next else {
                self.deletions.notified().await;
                continue;
            };
            if let Err(error) = self.stop_executions_of_deleted(flow_id.as_deref()).await {
                self.metrics.store_error(&error);
                tracing::warn!(
                    error = %error_chain(&error),
                    flow_id = flow_id.as_deref().unwrap_or("*"),
                    "stopping the executions of a deleted flow failed; retrying"
                );
                self.deleted_flows().pending.push_front(flow_id);
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }

    /// Stops batches until none is left (of `flow_id`, or of every deleted flow).
    async fn stop_executions_of_deleted(&self, flow_id: Option<&str>) -> StoreResult<()> {
        while !self.stopping.load(Ordering::SeqCst) {
            let now = now_ms();
            let stopped = self
                .store
                .stop_executions_of_deleted_flows(flow_id, now, STOP_BATCH)
                .await?;
            let last = (stopped.len() as i64) < STOP_BATCH;
            for execution in stopped {
                self.store
                    .publish_local(WorkNotice::Ended(execution.id.clone()));
                if let Err(error) = self.report_deletion_stop(&execution, now).await {
                    self.metrics.store_error(&error);
                    tracing::warn!(
                        error = %error_chain(&error),
                        execution_id = %execution.id,
                        "reporting the stop of a deleted flow's execution to its parent failed"
                    );
                }
            }
            if last {
                break;
            }
        }
        Ok(())
    }

    /// Tells the parent of an execution started with a task token that it was stopped.
    async fn report_deletion_stop(
        &self,
        execution: &StoppedByDeletion,
        now: i64,
    ) -> StoreResult<()> {
        let Some(token) = &execution.callback_token else {
            return Ok(());
        };
        let outcome = TaskOutcome::failure(execution.error.clone(), execution.cause.clone());
        if let Some(signal) = self
            .parent_signal(&execution.account_id, token, Some(&execution.name), outcome)
            .await?
        {
            // A parent must not wait forever for a report that was lost.
            self.until_stored("reporting a deleted flow's stop to the parent", || {
                self.store.push_signal(&signal, now)
            })
            .await;
            self.hint(Hint::Execution(signal.execution_id));
        }
        Ok(())
    }
}
