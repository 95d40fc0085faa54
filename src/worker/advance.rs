//! One durable advance: load the execution's state and signals, run the interpreter, commit
//! its events, state and next wake-up in one fenced transaction, then make the calls.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;

use super::commit::{Identity, Written};
use super::history_rows::history_rows;
use super::pool::FAILED_ADVANCE_PAUSE;
use super::{Hint, Runtime};
use crate::engine::calls::{CallKind, CallRequest};
use crate::engine::errors;
use crate::engine::json;
use crate::engine::mocks::Mocks;
use crate::engine::run::{self, RunContext, SignalResult};
use crate::engine::state::{ExecutionState, SignalPayload, TaskOutcome};
use crate::error::error_chain;
use crate::store::{
    AdvanceWrites, ClaimedExecution, CommitOutcome, ExecutionCommit, ExecutionEnd, ExecutionStatus,
    OutgoingSignal, StoreError, StoreResult, UsedNonce, WorkNotice, WriteOp, WriteResult,
};
use crate::time::now_ms;

/// The longest a call may run when its task sets no timeout.
const DEFAULT_CALL_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The longest pause between tries of a write that must be stored.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);

/// How an advance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Advanced {
    /// Committed; with the event id of the extra signal, when it applied.
    Committed(Option<i64>),
    /// Another advance got in first (the lease moved on): nothing was written but the
    /// request's nonce, when the commit carried one.
    Overtaken,
    /// The commit carried its request's nonce, used already: nothing was written.
    NonceUsed,
}

impl Runtime {
    /// Advances a claimed execution. `extra` is a signal applied after the stored ones (a task
    /// report made through the API); its event id is returned when it applied.
    pub(super) async fn advance(
        self: &Arc<Self>,
        claimed: ClaimedExecution,
        extra: Option<SignalPayload>,
    ) -> StoreResult<Option<i64>> {
        let (id, epoch) = (claimed.identity.id.clone(), claimed.lease_epoch);
        let lease = self.hold_lease(now_ms() + self.lease_ms());
        let mut calls = Vec::new();
        let result = self
            .advance_leased(claimed, extra, None, &mut calls, false)
            .await;
        if result.is_err() {
            // The advance was not committed (a store failure, e.g. a deadlock victim or an
            // outage): give the lease back, due at once, so the execution is advanced again.
            // Kept, the lease would be renewed by the heartbeat forever and the execution
            // never move, so the release is retried until it is stored; in the background,
            // so that a request making this advance (a task report) answers at once.
            let runtime = self.clone();
            tokio::spawn(async move {
                let _lease = lease;
                // Before the lease goes: the next advance may register the same calls.
                runtime.forget_calls(&id, &calls).await;
                runtime
                    .until_stored("releasing a failed advance's lease", || {
                        runtime.store.release(&id, epoch, Some(now_ms()))
                    })
                    .await;
                runtime.note_wake(now_ms() + FAILED_ADVANCE_PAUSE.as_millis() as i64);
            });
        } else {
            // The commit gave the lease back (or it had moved on): reports waiting may claim.
            self.lease_waiters.released(&id);
        }
        Ok(match result? {
            Advanced::Committed(event_id) => event_id,
            Advanced::Overtaken | Advanced::NonceUsed => None,
        })
    }

    /// Advances an execution read while nobody leased it ([`crate::store::WorkStore::read_unleased`]):
    /// the commit claims it in its own transaction, so the advance costs one write
    /// transaction instead of a claim and a commit. `Overtaken` when another advance got in
    /// between: nothing was written, and the caller claims the execution the usual way.
    /// `nonce`: the report's request's, recorded by the same commit (see
    /// `ExecutionCommit::nonce`).
    pub(super) async fn advance_unleased(
        self: &Arc<Self>,
        read: ClaimedExecution,
        extra: Option<SignalPayload>,
        nonce: Option<UsedNonce>,
    ) -> StoreResult<Advanced> {
        let id = read.identity.id.clone();
        let mut calls = Vec::new();
        let result = self
            .advance_leased(read, extra, nonce, &mut calls, true)
            .await;
        if result.is_err() {
            // Nothing to give back (no lease was taken); the commit may have been stored all
            // the same, with calls nobody makes: see `forget_calls`.
            let runtime = self.clone();
            tokio::spawn(async move { runtime.forget_calls(&id, &calls).await });
        }
        result
    }

    /// After a write that failed with its outcome unknown (the connection dropped around the
    /// commit): had it committed, the calls it registered would be leased to us with nobody
    /// making them, and the heartbeat would renew those leases forever. Their leases are
    /// dropped so that the reaper makes them lost attempts, made again. A no-op when the
    /// write did not commit.
    pub(super) async fn forget_calls(&self, execution_id: &str, call_keys: &[String]) {
        if call_keys.is_empty() {
            return;
        }
        self.until_stored("dropping the leases of calls not made", || {
            self.store
                .drop_call_leases(&self.config.owner, execution_id, call_keys, now_ms())
        })
        .await;
        self.request_reap();
    }

    /// Retries a write that must not be lost (a lease given back, a call's answer) until it
    /// is stored, with a capped backoff: a store outage must not strand an execution. Gives
    /// up only at shutdown (None); the leases then run out and another replica redoes the
    /// work.
    pub(super) async fn until_stored<T, F, Fut>(&self, what: &str, mut write: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = StoreResult<T>>,
    {
        let mut delay = Duration::from_millis(100);
        loop {
            match write().await {
                Ok(value) => return Some(value),
                Err(error) if self.stopping.load(Ordering::SeqCst) => {
                    tracing::warn!(error = %error_chain(&error), what, "giving up at shutdown");
                    return None;
                }
                Err(error) => {
                    self.metrics.store_error(&error);
                    tracing::warn!(error = %error_chain(&error), what, "store write failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
            }
        }
    }

    /// `calls`: the calls the commit registers, for `advance` to forget if it failed.
    /// `unleased`: `claimed` is a plain read, which the commit claims (see `advance_unleased`).
    async fn advance_leased(
        self: &Arc<Self>,
        claimed: ClaimedExecution,
        extra: Option<SignalPayload>,
        nonce: Option<UsedNonce>,
        calls: &mut Vec<String>,
        unleased: bool,
    ) -> StoreResult<Advanced> {
        let now = now_ms();
        // A quiet execution (an unleased read) has no queued signal: queuing one makes it due
        // (`MAKE_DUE`). One queued after the read waits for the next advance: the commit
        // leaves the execution due when signals wait.
        let stored_signals = if claimed.state.is_some() && !unleased {
            self.store.pending_signals(&claimed.identity.id).await?
        } else {
            Vec::new()
        };
        let mut payloads = Vec::with_capacity(stored_signals.len() + 1);
        for signal in &stored_signals {
            match json::parse_document::<SignalPayload>(&signal.payload) {
                Ok(payload) => payloads.push(payload),
                // Dropped, it would leave the execution waiting for it forever.
                Err(error) => {
                    let cause = format!("a signal for the execution is unreadable: {error}");
                    return self
                        .fail_unrunnable(&claimed, now, cause, nonce, unleased)
                        .await;
                }
            }
        }
        let extra_index = extra.map(|extra| {
            payloads.push(extra);
            payloads.len() - 1
        });

        let definition =
            match self
                .definitions
                .get(&claimed.definition, &claimed.identity.flow_name, false)
            {
                Ok(definition) => definition,
                Err(error) => {
                    return self
                        .fail_unrunnable(
                            &claimed,
                            now,
                            format!("the stored definition is invalid: {error}"),
                            nonce,
                            unleased,
                        )
                        .await;
                }
            };
        let input: Value = if claimed.input.is_empty() {
            crate::engine::data::empty_object()
        } else {
            match json::parse_data(&claimed.input) {
                Ok(input) => input,
                Err(error) => {
                    let cause = format!("the execution input is unreadable: {error}");
                    return self
                        .fail_unrunnable(&claimed, now, cause, nonce, unleased)
                        .await;
                }
            }
        };
        let stored = match claimed.state.as_deref().map(ExecutionState::from_json) {
            None => None,
            Some(Ok(state)) => Some(state),
            Some(Err(error)) => {
                return self
                    .fail_unrunnable(
                        &claimed,
                        now,
                        format!("the stored state is unreadable: {error}"),
                        nonce,
                        unleased,
                    )
                    .await;
            }
        };
        let mocks = stored
            .as_ref()
            .and_then(|state| self.mocks_of(&claimed.identity.flow_name, state));
        let ctx = RunContext {
            definition: &definition,
            account_id: &claimed.identity.account_id,
            flow_name: &claimed.identity.flow_name,
            execution_name: &claimed.identity.name,
            execution_id: &claimed.identity.id,
            execution_input: &input,
            role_arn: claimed.role_arn.as_deref(),
            region: &self.config.region,
            tokens: &self.tokens,
            express: false,
            now,
            time_scale: self.config.time_scale,
            mocks: mocks.as_deref().map(|case| case as &dyn Mocks),
        };
        // Reports handed over while this advance held the lease ride in its commit.
        let mut handed_replies = Vec::new();
        let (state, outcome, results) = match stored {
            None => {
                let (state, outcome) = run::start(&ctx);
                (state, outcome, Vec::new())
            }
            Some(mut state) => {
                for handed in self.lease_waiters.take(&claimed.identity.id) {
                    payloads.push(handed.signal);
                    handed_replies.push((payloads.len() - 1, handed.reply));
                }
                let (outcome, results) = run::resume(&ctx, &mut state, &payloads);
                (state, outcome, results)
            }
        };

        let mut outcome = outcome;
        let written = self
            .written_advance(Identity::from(&claimed), &mut outcome, now)
            .await?;
        let commit = ExecutionCommit {
            execution_id: claimed.identity.id.clone(),
            epoch: claimed.lease_epoch,
            unleased,
            writes: AdvanceWrites {
                owner: self.config.owner.clone(),
                state: serde_json::to_string(&state).expect("execution state serializes"),
                next_event_id: state.next_event_id,
                events: history_rows(outcome.events),
                end: written.end.clone(),
                due_at: written.due_at,
                calls_started: outcome
                    .calls
                    .iter()
                    .map(|call| call.call_key.clone())
                    .collect(),
                call_lease_until: now + self.lease_ms(),
                signals_out: written.signals_out.clone(),
                children: written.children.clone(),
                map_runs: written.map_runs.clone(),
            },
            now,
            consumed_signals: stored_signals.iter().map(|signal| signal.id).collect(),
            calls_abandoned: outcome.abandoned_calls,
            nonce,
        };
        calls.clone_from(&commit.writes.calls_started);
        let signals_waiting = match self
            .batcher
            .write(WriteOp::Commit(Box::new(commit)))
            .await?
        {
            WriteResult::Committed(CommitOutcome::Committed) => false,
            WriteResult::Committed(CommitOutcome::CommittedWithSignals) => true,
            WriteResult::Committed(CommitOutcome::LostLease) => {
                tracing::debug!(execution_id = %claimed.identity.id, "the lease moved on; the advance is dropped");
                return Ok(Advanced::Overtaken);
            }
            WriteResult::Committed(CommitOutcome::NonceUsed) => return Ok(Advanced::NonceUsed),
            other => {
                return Err(StoreError::internal(format!(
                    "unexpected write result {other:?}"
                )));
            }
        };
        let event_of = |index: usize| match results.get(index) {
            Some(SignalResult::Applied(event_id)) => Some(*event_id),
            _ => None,
        };
        for (index, reply) in handed_replies {
            // A report that went meanwhile was applied all the same, as if it had committed.
            let _ = reply.send(event_of(index));
        }
        self.after_commit(
            &claimed.identity.id,
            &claimed.identity.account_id,
            outcome.calls,
            &written,
            now,
        )
        .await;
        if signals_waiting {
            self.hint(Hint::Execution(claimed.identity.id.clone()));
        }
        Ok(Advanced::Committed(extra_index.and_then(event_of)))
    }

    /// What follows a commit: the calls, the end notice, the wake-ups.
    pub(super) async fn after_commit(
        self: &Arc<Self>,
        execution_id: &str,
        account_id: &str,
        calls: Vec<CallRequest>,
        written: &Written,
        now: i64,
    ) {
        self.metrics.history_events.inc_by(written.events as u64);
        self.metrics.steps.inc_by(written.steps as u64);
        if let Some(end) = &written.end {
            self.metrics
                .executions_ended
                .with_label_values(&[end.status.as_str()])
                .inc();
        }
        if written.end.is_some() {
            self.store
                .publish_local(WorkNotice::Ended(execution_id.to_string()));
        }
        for signal in &written.signals_out {
            self.hint(Hint::Execution(signal.execution_id.clone()));
        }
        for call in calls {
            self.spawn_call(execution_id, account_id, call);
        }
        self.metrics
            .executions_started
            .inc_by(written.children.len() as u64);
        for child in &written.children {
            self.metrics.history_events.inc();
            self.hint(Hint::Execution(child.identity.id.clone()));
        }
        for map_run in &written.aborted_map_runs {
            self.stop_map_children(map_run).await;
        }
        match written.due_at {
            Some(at) if at <= now => self.hint(Hint::Execution(execution_id.to_string())),
            Some(at) => self.note_wake(at),
            None => {}
        }
    }

    /// An execution that cannot be run at all (corrupt row) fails instead of looping.
    async fn fail_unrunnable(
        &self,
        claimed: &ClaimedExecution,
        now: i64,
        cause: String,
        nonce: Option<UsedNonce>,
        unleased: bool,
    ) -> StoreResult<Advanced> {
        tracing::error!(execution_id = %claimed.identity.id, %cause, "failing an execution that cannot run");
        let detail = crate::engine::history::error_detail(errors::RUNTIME, &cause);
        let commit = ExecutionCommit {
            execution_id: claimed.identity.id.clone(),
            epoch: claimed.lease_epoch,
            unleased,
            writes: AdvanceWrites {
                owner: self.config.owner.clone(),
                state: claimed.state.clone().unwrap_or_default(),
                next_event_id: claimed.next_event_id + 1,
                events: vec![
                    crate::engine::history::event(
                        claimed.next_event_id,
                        crate::engine::history::EventType::ExecutionFailed,
                        "",
                        now,
                        0,
                        detail,
                    )
                    .into(),
                ],
                end: Some(ExecutionEnd {
                    status: ExecutionStatus::Failed,
                    output: String::new(),
                    error: Some(errors::RUNTIME.into()),
                    cause: Some(cause),
                    stopped_at: now,
                }),
                due_at: None,
                calls_started: Vec::new(),
                call_lease_until: now,
                signals_out: Vec::new(),
                children: Vec::new(),
                map_runs: Vec::new(),
            },
            now,
            consumed_signals: Vec::new(),
            calls_abandoned: Vec::new(),
            nonce,
        };
        match self.store.commit(&commit).await? {
            CommitOutcome::LostLease => return Ok(Advanced::Overtaken),
            CommitOutcome::NonceUsed => return Ok(Advanced::NonceUsed),
            CommitOutcome::Committed | CommitOutcome::CommittedWithSignals => {}
        }
        let _ = self
            .store
            .notify(WorkNotice::Ended(claimed.identity.id.clone()))
            .await;
        Ok(Advanced::Committed(None))
    }

    /// Makes a call in the background; its answer becomes a signal, fenced by the call lease.
    fn spawn_call(self: &Arc<Self>, execution_id: &str, account_id: &str, call: CallRequest) {
        let runtime = self.clone();
        let execution_id = execution_id.to_string();
        let account_id = account_id.to_string();
        self.calls_in_flight.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let _in_flight = InFlight(&runtime);
            let limit = call.deadline.map_or(DEFAULT_CALL_LIMIT, |deadline| {
                Duration::from_millis(deadline.saturating_sub(now_ms()).max(0) as u64)
            });
            let outcome = runtime.perform_call(&account_id, &call, limit).await;
            let payload = SignalPayload::CallResult {
                call_key: call.call_key.clone(),
                outcome,
            };
            let signal = OutgoingSignal {
                execution_id: execution_id.clone(),
                payload: serde_json::to_string(&payload).expect("signals serialize"),
            };
            // A few tries were not enough: an outage longer than them lost the answer, and
            // the call was made again once its lease ran out.
            let recorded = runtime
                .until_stored("recording a call's answer", || {
                    runtime.store.complete_call(
                        &runtime.config.owner,
                        &call.call_key,
                        &signal,
                        now_ms(),
                    )
                })
                .await;
            // False: abandoned or reaped, nobody waits for this answer.
            if recorded == Some(true) {
                runtime.hint(Hint::Execution(execution_id));
            }
        });
    }

    pub(super) async fn perform_call(
        self: &Arc<Self>,
        account_id: &str,
        call: &CallRequest,
        limit: Duration,
    ) -> TaskOutcome {
        if self.config.offline
            && let Some(outcome) = refused_offline(&call.kind)
        {
            return outcome;
        }
        match &call.kind {
            CallKind::Function {
                function,
                event,
                asynchronous,
                shape,
            } => {
                self.calls
                    .invoke_function(function, event, *asynchronous, *shape, limit)
                    .await
            }
            CallKind::Http {
                url,
                method,
                headers,
                body,
                with_callback_token,
            } => {
                let token = with_callback_token.then_some(call.token.as_str());
                self.calls
                    .http_request(url, method, headers, body.as_ref(), token, limit)
                    .await
            }
            CallKind::StartExecution {
                flow_name,
                execution_name,
                input,
                callback_token,
                shape,
            } => {
                self.start_child(
                    account_id,
                    flow_name,
                    execution_name.clone(),
                    input,
                    callback_token.clone(),
                    *shape,
                )
                .await
            }
        }
    }
}

/// Without network (the test runner), function and HTTP calls fail at once instead of being
/// made; child executions run in the same process.
fn refused_offline(kind: &CallKind) -> Option<TaskOutcome> {
    let target = match kind {
        CallKind::Function { function, .. } => {
            format!("the function '{}'", function.function_name())
        }
        CallKind::Http { method, url, .. } => format!("{method} {url}"),
        CallKind::StartExecution { .. } => return None,
    };
    Some(TaskOutcome::failure(
        errors::CALL_NOT_MOCKED,
        format!("{target} would be called: the task is not mocked in this test case"),
    ))
}

/// Counts a task call in flight until it is dropped (answered, or the task was aborted).
struct InFlight<'a>(&'a Runtime);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.calls_in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.calls_done.notify_waiters();
    }
}
