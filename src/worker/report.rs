//! Task reports (ReportTaskSucceeded / ReportTaskFailed) and waiting for an execution's end.

use std::sync::Arc;
use std::time::Duration;

use super::Runtime;
use super::advance::Advanced;
use crate::engine::state::{SignalPayload, TaskOutcome};
use crate::engine::tokens::{TokenCodec, TokenScope};
use crate::store::{
    ClaimAttempt, StoreError, StoreResult, UsedNonce, WorkNotice, WriteOp, WriteResult,
};
use crate::time::now_ms;

/// How long a report first waits for the execution's holder before claiming it itself: long
/// enough for a worker of this process to take up an execution just made due (the answer of
/// the call that handed out the token), and the report with it; doubled up to 8 ms while busy.
const FIRST_PAUSE: Duration = Duration::from_millis(4);

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
    /// The request's nonce (given to `report_task`) was used already: nothing was done.
    NonceUsed,
}

impl Runtime {
    /// ReportTaskSucceeded / ReportTaskFailed (docs/COMPATIBILITY.md#task-reports), applied at once so the answer
    /// carries the id of the event it produced.
    ///
    /// `nonce`: the request's, when the report is to record it (a store several replicas
    /// share decides it). It is recorded before the report has any effect: by the commit
    /// that applies the report to a quiet execution (one transaction instead of two), else
    /// on its own first. Left in place when the report ends before any effect (a bad token,
    /// an ended execution), for the caller to record.
    pub async fn report_task(
        self: &Arc<Self>,
        account_id: &str,
        token: &str,
        outcome: TaskOutcome,
        nonce: &mut Option<UsedNonce>,
    ) -> StoreResult<ReportOutcome> {
        let Some(parts) = TokenCodec::decode(token) else {
            return Ok(ReportOutcome::InvalidToken);
        };
        // Found and read as the first attempt below would read it, in one read.
        let Some(found) = self
            .store
            .read_unleased_named(
                account_id,
                &parts.flow_name,
                &parts.execution_name,
                now_ms(),
            )
            .await?
        else {
            // Not stored: a synchronous execution of a flow that still exists, or nothing.
            if self
                .store
                .get_flow(account_id, &parts.flow_name)
                .await?
                .is_none()
            {
                return Ok(ReportOutcome::InvalidToken);
            }
            return self
                .report_to_express(account_id, &parts.flow_name, &parts, outcome, nonce)
                .await;
        };
        let execution = found.identity;
        let scope = TokenScope {
            account_id,
            flow_name: &execution.flow_name,
            execution_name: &execution.name,
            execution_id: &execution.id,
        };
        if !self.tokens.verify(&parts, scope) {
            return Ok(ReportOutcome::InvalidToken);
        }
        let completed = || ReportOutcome::ExecutionCompleted {
            flow_name: execution.flow_name.clone(),
            execution_name: execution.name.clone(),
        };
        let signal = SignalPayload::Callback {
            entered_id: parts.entered_id,
            attempt: parts.attempt,
            outcome,
            submitted: None,
        };
        // A quiet execution (nobody leases it, nothing due, no call in flight) is advanced
        // from a plain read, the commit claiming it: one write transaction instead of a
        // claim and a commit. Leases are held only while an advance runs (milliseconds),
        // and a report often arrives while the call that handed out its token is still
        // being recorded: while the holder is busy, the report hands itself over to it (see
        // `lease_waiters`). Woken when an advance of this process gives the lease back, it
        // reads again; when no release comes in time (a holder on another replica, or an
        // execution due that no worker has taken yet), or another advance got in first, it
        // claims the execution itself.
        let deadline = tokio::time::Instant::now() + self.config.lease + Duration::from_secs(1);
        let mut pause = FIRST_PAUSE;
        let mut unleased = true;
        let reported = |event_id: Option<i64>| match event_id {
            Some(event_id) => ReportOutcome::Reported(event_id),
            None => ReportOutcome::NoLongerValid,
        };
        // The first attempt is the read that found the execution. A release between it and
        // this registration goes unnoticed: a busy report then claims after its first pause.
        let mut first = Some(found.attempt);
        let waiter = self.lease_waiters.register(&execution.id);
        loop {
            let released = waiter.notify().notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let attempt = match first.take() {
                Some(read) => read,
                None if unleased => self.store.read_unleased(&execution.id, now_ms()).await?,
                None => {
                    self.store
                        .claim_execution(&execution.id, &self.claim())
                        .await?
                }
            };
            match attempt {
                ClaimAttempt::Claimed(read) if unleased => {
                    // The commit records the nonce, even when it finds itself overtaken.
                    match self
                        .advance_unleased(*read, Some(signal.clone()), nonce.take())
                        .await?
                    {
                        Advanced::Committed(event_id) => return Ok(reported(event_id)),
                        Advanced::Overtaken => unleased = false,
                        Advanced::NonceUsed => return Ok(ReportOutcome::NonceUsed),
                    }
                }
                ClaimAttempt::Claimed(claimed) => {
                    let event_id = self.advance(*claimed, Some(signal.clone())).await?;
                    return Ok(reported(event_id));
                }
                ClaimAttempt::NotRunning => return Ok(completed()),
                ClaimAttempt::Busy if tokio::time::Instant::now() < deadline => {
                    // Before the report can take effect by another way; every later attempt
                    // comes after this or after an unleased commit, which recorded it.
                    if !self.record_nonce(nonce).await? {
                        return Ok(ReportOutcome::NonceUsed);
                    }
                    // The holder, if it is an advance of ours yet to run the engine, applies
                    // the report in its own commit and answers here.
                    let (ticket, mut answer) = waiter.hand_over(signal.clone());
                    tokio::select! {
                        reply = &mut answer => {
                            if let Ok(reply) = reply {
                                return Ok(reported(reply));
                            }
                            unleased = false;
                        }
                        woken = tokio::time::timeout(pause, released) => {
                            // Taken meanwhile: that advance answers (or, not committed, drops
                            // it, and the report goes on by itself).
                            if !waiter.withdraw(ticket)
                                && let Ok(reply) = answer.await
                            {
                                return Ok(reported(reply));
                            }
                            // Given back here: most likely quiet now, so read again.
                            unleased = woken.is_ok();
                        }
                    }
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

    /// Records a report's nonce, unless that is done already; false if it was used.
    async fn record_nonce(&self, nonce: &mut Option<UsedNonce>) -> StoreResult<bool> {
        let Some(used) = nonce.take() else {
            return Ok(true);
        };
        Ok(self.batcher.write(WriteOp::Nonce(used)).await? == WriteResult::Nonce(true))
    }

    /// A report for a synchronous execution running in this process.
    async fn report_to_express(
        &self,
        account_id: &str,
        flow_name: &str,
        parts: &crate::engine::tokens::TokenParts,
        outcome: TaskOutcome,
        nonce: &mut Option<UsedNonce>,
    ) -> StoreResult<ReportOutcome> {
        let Some(run) = self
            .express
            .find(account_id, flow_name, &parts.execution_name)
        else {
            return Ok(ReportOutcome::InvalidToken);
        };
        let scope = TokenScope {
            account_id,
            flow_name,
            execution_name: &parts.execution_name,
            execution_id: &run.execution_id,
        };
        if !self.tokens.verify(parts, scope) {
            return Ok(ReportOutcome::InvalidToken);
        }
        if !self.record_nonce(nonce).await? {
            return Ok(ReportOutcome::NonceUsed);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        let signal = SignalPayload::Callback {
            entered_id: parts.entered_id,
            attempt: parts.attempt,
            outcome,
            submitted: None,
        };
        if run.signals.send((signal, Some(reply))).is_err() {
            return Ok(ReportOutcome::ExecutionCompleted {
                flow_name: flow_name.to_string(),
                execution_name: parts.execution_name.clone(),
            });
        }
        Ok(match answer.await {
            Ok(crate::engine::run::SignalResult::Applied(event_id)) => {
                ReportOutcome::Reported(event_id)
            }
            Ok(crate::engine::run::SignalResult::Stale) => ReportOutcome::NoLongerValid,
            Err(_) => ReportOutcome::ExecutionCompleted {
                flow_name: flow_name.to_string(),
                execution_name: parts.execution_name.clone(),
            },
        })
    }

    /// Waits until the execution ends or the time passes (DescribeExecution long polling).
    /// Woken by the end's notice, it also looks again every `LOOK_AGAIN`: a notice can miss
    /// this replica (one sent by another replica while this one's listener reconnected).
    pub async fn wait_for_end(&self, execution_id: &str, wait: Duration) -> StoreResult<()> {
        const LOOK_AGAIN: Duration = Duration::from_secs(1);
        let mut notices = self.store.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Subscribed before looking, so an end between the two is not missed.
            match self.store.get_execution_by_id(execution_id).await? {
                Some(execution) if !execution.status.is_terminal() => {}
                _ => return Ok(()),
            }
            let look_again = (tokio::time::Instant::now() + LOOK_AGAIN).min(deadline);
            loop {
                match tokio::time::timeout_at(look_again, notices.recv()).await {
                    Err(_) if look_again == deadline => return Ok(()),
                    Ok(Ok(WorkNotice::Ended(id))) if id == execution_id => return Ok(()),
                    Ok(Ok(_)) => continue,
                    // Time to look again, or notices missed.
                    Err(_) | Ok(Err(_)) => break,
                }
            }
        }
    }
}
