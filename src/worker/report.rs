//! Task reports (ReportTaskSucceeded / ReportTaskFailed) and waiting for an execution's end.

use std::sync::Arc;
use std::time::Duration;

use super::Runtime;
use super::advance::Advanced;
use crate::engine::state::{SignalPayload, TaskOutcome};
use crate::engine::tokens::{TokenCodec, TokenScope};
use crate::store::{ClaimAttempt, StoreError, StoreResult, WorkNotice};
use crate::time::now_ms;

/// What a task report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Recorded as this history event.
    Reported(i64),
    /// Not a token of ours, garbled, forged, or for an execution that does not exist.
    InvalidToken,
    /// The execution has ended.
    ExecutionCompleted {
        flow_name: String,
        execution_name: String,
    },
    /// Already reported, timed out, or superseded by a newer attempt.
    NoLongerValid,
}

impl Runtime {
    /// ReportTaskSucceeded / ReportTaskFailed (docs/COMPATIBILITY.md#task-reports), applied at once so the answer
    /// carries the id of the event it produced.
    pub async fn report_task(
        self: &Arc<Self>,
        account_id: &str,
        token: &str,
        outcome: TaskOutcome,
    ) -> StoreResult<ReportOutcome> {
        let Some(parts) = TokenCodec::decode(token) else {
            return Ok(ReportOutcome::InvalidToken);
        };
        let Some(flow) = self.store.get_flow(account_id, &parts.flow_name).await? else {
            return Ok(ReportOutcome::InvalidToken);
        };
        let Some(execution) = self
            .store
            .get_execution(&flow.id, &parts.execution_name)
            .await?
        else {
            return Ok(self
                .report_to_express(account_id, &flow.name, &parts, outcome)
                .await);
        };
        let scope = TokenScope {
            account_id,
            flow_name: &flow.name,
            execution_name: &execution.identity.name,
            execution_id: &execution.identity.id,
        };
        if !self.tokens.verify(&parts, scope) {
            return Ok(ReportOutcome::InvalidToken);
        }
        let completed = || ReportOutcome::ExecutionCompleted {
            flow_name: flow.name.clone(),
            execution_name: execution.identity.name.clone(),
        };
        if execution.status.is_terminal() {
            return Ok(completed());
        }
        let signal = SignalPayload::Callback {
            entered_id: parts.entered_id,
            attempt: parts.attempt,
            outcome,
            submitted: None,
        };
        // Mostly nobody holds the execution: advance it from a plain read, its commit
        // claiming it (one write transaction instead of two). Should another advance get in
        // first, nothing was written and the report goes the leased way below.
        match self
            .store
            .read_unleased(&execution.identity.id, now_ms())
            .await?
        {
            ClaimAttempt::Claimed(read) => {
                match self.advance_unleased(*read, Some(signal.clone())).await? {
                    Advanced::Committed(Some(event_id)) => {
                        return Ok(ReportOutcome::Reported(event_id));
                    }
                    Advanced::Committed(None) => return Ok(ReportOutcome::NoLongerValid),
                    Advanced::Overtaken => {}
                }
            }
            ClaimAttempt::NotRunning => return Ok(completed()),
            ClaimAttempt::Busy => {}
        }
        // Leases are held only while an advance runs (milliseconds); wait for the holder,
        // checking often at first: a report often arrives while the call that handed out
        // its token is still being recorded.
        let deadline = tokio::time::Instant::now() + self.config.lease + Duration::from_secs(1);
        let mut pause = Duration::from_millis(1);
        loop {
            match self
                .store
                .claim_execution(&execution.identity.id, &self.claim())
                .await?
            {
                ClaimAttempt::Claimed(claimed) => {
                    let result = self.advance(*claimed, Some(signal.clone())).await?;
                    return Ok(match result {
                        Some(event_id) => ReportOutcome::Reported(event_id),
                        None => ReportOutcome::NoLongerValid,
                    });
                }
                ClaimAttempt::NotRunning => return Ok(completed()),
                ClaimAttempt::Busy if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(8));
                }
                ClaimAttempt::Busy => {
                    return Err(StoreError::unavailable(
                        "the execution stayed busy; retry the report",
                    ));
                }
            }
        }
    }

    /// A report for a synchronous execution running in this process.
    async fn report_to_express(
        &self,
        account_id: &str,
        flow_name: &str,
        parts: &crate::engine::tokens::TokenParts,
        outcome: TaskOutcome,
    ) -> ReportOutcome {
        let Some(run) = self
            .express
            .find(account_id, flow_name, &parts.execution_name)
        else {
            return ReportOutcome::InvalidToken;
        };
        let scope = TokenScope {
            account_id,
            flow_name,
            execution_name: &parts.execution_name,
            execution_id: &run.execution_id,
        };
        if !self.tokens.verify(parts, scope) {
            return ReportOutcome::InvalidToken;
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        let signal = SignalPayload::Callback {
            entered_id: parts.entered_id,
            attempt: parts.attempt,
            outcome,
            submitted: None,
        };
        if run.signals.send((signal, Some(reply))).is_err() {
            return ReportOutcome::ExecutionCompleted {
                flow_name: flow_name.to_string(),
                execution_name: parts.execution_name.clone(),
            };
        }
        match answer.await {
            Ok(crate::engine::run::SignalResult::Applied(event_id)) => {
                ReportOutcome::Reported(event_id)
            }
            Ok(crate::engine::run::SignalResult::Stale) => ReportOutcome::NoLongerValid,
            Err(_) => ReportOutcome::ExecutionCompleted {
                flow_name: flow_name.to_string(),
                execution_name: parts.execution_name.clone(),
            },
        }
    }

    /// Waits until the execution ends or the time passes (DescribeExecution long polling).
    pub async fn wait_for_end(&self, execution_id: &str, wait: Duration) -> StoreResult<()> {
        let mut notices = self.store.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Subscribed before looking, so an end between the two is not missed.
            match self.store.get_execution_by_id(execution_id).await? {
                Some(execution) if !execution.status.is_terminal() => {}
                _ => return Ok(()),
            }
            loop {
                match tokio::time::timeout_at(deadline, notices.recv()).await {
                    Err(_) => return Ok(()),
                    Ok(Ok(WorkNotice::Ended(id))) if id == execution_id => return Ok(()),
                    Ok(Ok(_)) => continue,
                    // Missed notices: look again.
                    Ok(Err(_)) => break,
                }
            }
        }
    }
}
