//! The runtime: the worker pool that advances executions durably, and the operations on
//! executions that need the engine (start, stop, task reports, waiting for an end).
//!
//! Work reaches the pool three ways: executions this replica starts are leased to it at
//! once and handed over in memory; signals this replica records (call answers, reports)
//! come as hints; everything else (timers, other replicas' signals, expired leases) is
//! found by claiming due executions, woken by the store's notices.

mod advance;
pub mod calls;
mod definitions;
mod express;
mod pool;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, Semaphore, mpsc};

use crate::engine::calls::ChildShape;
use crate::engine::clock::TimeScale;
use crate::engine::history::{self, EventType};
use crate::engine::run::{self, RunContext};
use crate::engine::state::{SignalPayload, TaskOutcome};
use crate::engine::tokens::{TokenCodec, TokenScope};
use crate::metrics::Metrics;
use crate::store::ExecutionIdentity;
use crate::store::{
    Batcher, Claim, ClaimAttempt, ClaimedExecution, Execution, ExecutionQuery, ExecutionStatus,
    Flow, FlowVersion, ForcedEnd, InitialAdvance, NewExecution, OutgoingSignal, StartOutcome,
    Store, StoreError, StoreResult, WorkNotice, WriteOp, WriteResult,
};
use crate::testing::{MockRegistry, TestCase};
use crate::time::now_ms;
pub use advance::CALL_NOT_MOCKED;
use calls::CallExecutor;
pub use calls::FunctionEndpoints;
use definitions::DefinitionCache;
use express::ExpressRegistry;
pub use express::{SyncRequest, SyncResult};

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// This replica's identity in leases.
    pub owner: String,
    pub region: String,
    pub lease: Duration,
    /// Advances running at once.
    pub workers: usize,
    pub functions: FunctionEndpoints,
    /// Virtual time: the factor every waited duration is multiplied by.
    pub time_scale: TimeScale,
    /// The test cases executions may be started with.
    pub mocks: Arc<MockRegistry>,
    /// Tests only: a task call that is not mocked fails instead of reaching the network.
    pub offline: bool,
    /// The most executions an account may have running (StartExecution, schedules, nested
    /// flows); distributed Map children are not counted.
    pub max_running_executions: i64,
}

/// A unit of work for the pool.
enum Hint {
    /// Claim and advance this execution.
    Execution(String),
    /// Advance this execution, already leased to us (a new execution started here).
    Claimed(Box<ClaimedExecution>),
}

pub struct Runtime {
    store: Arc<dyn Store>,
    config: RuntimeConfig,
    tokens: TokenCodec,
    definitions: DefinitionCache,
    calls: CallExecutor,
    hints: mpsc::UnboundedSender<(Hint, tokio::time::Instant)>,
    hint_receiver: std::sync::Mutex<Option<mpsc::UnboundedReceiver<(Hint, tokio::time::Instant)>>>,
    permits: Arc<Semaphore>,
    /// The earliest timer this replica committed, epoch ms (i64::MAX = none known).
    next_wake: AtomicI64,
    wake: Notify,
    stopping: AtomicBool,
    /// Synchronous executions running in this process.
    express: ExpressRegistry,
    /// Task calls this replica is making, and a notice each time one answers.
    calls_in_flight: AtomicUsize,
    calls_done: Notify,
    /// Execution leases this replica holds (advances running).
    leases_held: AtomicUsize,
    /// Expired task-call leases were seen: the heartbeat reaps them.
    reap_pending: AtomicBool,
    reap_wanted: Notify,
    /// Group commit of starts, advance commits and nonces.
    batcher: Batcher,
    metrics: Arc<Metrics>,
}

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
    /// Creates the runtime; the task-token key is shared by all replicas through the store.
    pub async fn new(
        store: Arc<dyn Store>,
        config: RuntimeConfig,
        metrics: Arc<Metrics>,
    ) -> StoreResult<Arc<Runtime>> {
        let candidate =
            uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
        let key = store.server_key("task-token-key", &candidate).await?;
        let (hints, hint_receiver) = mpsc::unbounded_channel();
        // SQLite has one writer; Postgres takes several transactions at once.
        let writers = match store.backend() {
            crate::store::Backend::Sqlite => 1,
            crate::store::Backend::Postgres => 4,
        };
        let batcher = Batcher::start(store.clone(), writers, metrics.clone());
        Ok(Arc::new(Runtime {
            batcher,
            permits: Arc::new(Semaphore::new(config.workers.max(1))),
            calls: CallExecutor::new(config.functions.clone()),
            tokens: TokenCodec::new(key.into_bytes()),
            definitions: DefinitionCache::default(),
            store,
            config,
            hints,
            hint_receiver: std::sync::Mutex::new(Some(hint_receiver)),
            next_wake: AtomicI64::new(i64::MAX),
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            express: ExpressRegistry::default(),
            calls_in_flight: AtomicUsize::new(0),
            calls_done: Notify::new(),
            leases_held: AtomicUsize::new(0),
            reap_pending: AtomicBool::new(false),
            reap_wanted: Notify::new(),
            metrics,
        }))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn tokens(&self) -> &TokenCodec {
        &self.tokens
    }

    /// The group-commit writer (nonces of the shared store go through it too).
    pub fn batcher(&self) -> &Batcher {
        &self.batcher
    }

    pub fn region(&self) -> &str {
        &self.config.region
    }

    pub fn mocks(&self) -> &Arc<MockRegistry> {
        &self.config.mocks
    }

    /// The mocks of a stored execution's test case (`None`: gone from the mock file).
    fn mocks_of(
        &self,
        flow_name: &str,
        state: &crate::engine::state::ExecutionState,
    ) -> Option<Arc<TestCase>> {
        let test_run = state.test_run.as_ref()?;
        self.config.mocks.test_case(flow_name, &test_run.test_case)
    }

    fn lease_ms(&self) -> i64 {
        self.config.lease.as_millis() as i64
    }

    fn claim(&self) -> Claim {
        let now = now_ms();
        Claim {
            owner: self.config.owner.clone(),
            now,
            lease_until: now + self.lease_ms(),
        }
    }

    /// Stops taking new work, lets running advances commit and task calls answer within
    /// `grace`, then hands the calls still running over to the other replicas at once.
    pub async fn shutdown(&self, grace: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
        let deadline = tokio::time::Instant::now() + grace;
        let all = self.config.workers.max(1) as u32;
        let _ = tokio::time::timeout_at(deadline, self.permits.acquire_many(all)).await;
        while self.calls_in_flight.load(Ordering::SeqCst) > 0 {
            let answered = self.calls_done.notified();
            if self.calls_in_flight.load(Ordering::SeqCst) == 0
                || tokio::time::timeout_at(deadline, answered).await.is_err()
            {
                break;
            }
        }
        let left = self.calls_in_flight.load(Ordering::SeqCst);
        if left > 0 {
            match self.store.release_calls(&self.config.owner, now_ms()).await {
                Ok(released) => {
                    tracing::info!(released, "task calls handed over at shutdown");
                    // The other replicas take them at once, not at their next look.
                    let _ = self.store.notify(WorkNotice::Work).await;
                }
                Err(error) => tracing::warn!(%error, "handing task calls over failed"),
            }
        }
    }

    /// StartExecution: runs the execution's first advance in memory and writes the execution,
    /// its first events and its next wake-up (or its end) in one transaction, shared with
    /// other starts (group commit). A flow that needs no outside call is thus written once.
    pub async fn start_execution(
        self: &Arc<Self>,
        request: StartRequest,
    ) -> StoreResult<StartOutcome> {
        let now = now_ms();
        let name = request
            .name
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        // Callers pass data read with the same limit; should it not read, the execution is
        // stored unrun and fails at its first advance, saying why.
        let input_value = if request.input.is_empty() {
            Some(crate::engine::data::empty_object())
        } else {
            crate::engine::json::parse_data(&request.input).ok()
        };
        // api.md §3.4: the execution keeps the definition, role and environment it runs.
        let (definition, role_arn, environment) = match &request.flow_version {
            Some(version) => (&version.definition, &version.role_arn, &version.environment),
            None => (
                &request.flow.definition,
                &request.flow.role_arn,
                &request.flow.environment,
            ),
        };
        let mut started_detail =
            history::input_detail(input_value.as_ref().unwrap_or(&Value::Null));
        if let (Some(Value::Object(extra)), Some(detail)) =
            (request.started_by, started_detail.as_object_mut())
        {
            detail.extend(extra);
        }
        if let (Some(case), Some(detail)) = (&request.test_case, started_detail.as_object_mut()) {
            detail.insert("testCase".into(), Value::from(case.name.as_str()));
        }
        let mut new = NewExecution {
            identity: ExecutionIdentity {
                id: uuid::Uuid::new_v4().to_string(),
                account_id: request.flow.account_id.clone(),
                flow_id: request.flow.id.clone(),
                flow_name: request.flow.name.clone(),
                name,
            },
            input: request.input,
            definition: definition.clone(),
            role_arn: role_arn.clone(),
            environment: execution_environment(environment.as_deref()),
            qualifier: request.qualifier,
            flow_version: request
                .flow_version
                .map(|version| version.version.to_string()),
            callback_token: request.callback_token,
            started_at: now,
            started_event: history::event(
                1,
                EventType::ExecutionStarted,
                "",
                now,
                0,
                started_detail,
            ),
            lease: None,
            advance: None,
            map_child: None,
            running_limit: Some(self.config.max_running_executions),
        };
        let mut effects = None;
        match (
            self.definitions
                .get(&new.definition, &new.identity.flow_name, false),
            &input_value,
        ) {
            (Ok(parsed), Some(input_value)) => {
                let ctx = RunContext {
                    definition: &parsed,
                    account_id: &new.identity.account_id,
                    flow_name: &new.identity.flow_name,
                    execution_name: &new.identity.name,
                    execution_id: &new.identity.id,
                    execution_input: input_value,
                    role_arn: new.role_arn.as_deref(),
                    region: &self.config.region,
                    tokens: &self.tokens,
                    express: false,
                    now,
                    time_scale: self.config.time_scale,
                    mocks: request.test_case.as_deref(),
                };
                let (state, mut outcome) = run::start(&ctx);
                let written = self
                    .written_advance(advance::Identity::from(&new), &mut outcome, now)
                    .await?;
                new.advance = Some(InitialAdvance {
                    state: serde_json::to_string(&state).expect("execution state serializes"),
                    next_event_id: state.next_event_id,
                    events: outcome.events,
                    end: written.end.clone(),
                    due_at: written.due_at,
                    calls_started: outcome
                        .calls
                        .iter()
                        .map(|call| call.call_key.clone())
                        .collect(),
                    owner: self.config.owner.clone(),
                    call_lease_until: now + self.lease_ms(),
                    signals_out: written.signals_out.clone(),
                    children: written.children.clone(),
                    map_runs: written.map_runs.clone(),
                });
                effects = Some((outcome.calls, written));
            }
            // Not runnable here: lease it to our workers, which fail it with the reason.
            _ => {
                new.lease = Some(Claim {
                    owner: self.config.owner.clone(),
                    now,
                    lease_until: now + self.lease_ms(),
                });
            }
        }
        let written = self
            .batcher
            .write(WriteOp::Start(Box::new(new.clone())))
            .await;
        if written.is_err()
            && let Some(advance) = &new.advance
            && !advance.calls_started.is_empty()
        {
            // The start may have committed all the same: see `forget_calls`.
            let (runtime, id, calls) = (
                self.clone(),
                new.identity.id.clone(),
                advance.calls_started.clone(),
            );
            tokio::spawn(async move { runtime.forget_calls(&id, &calls).await });
        }
        let outcome = match written? {
            WriteResult::Started(outcome) => *outcome,
            other => {
                return Err(StoreError::Internal(format!(
                    "unexpected write result {other:?}"
                )));
            }
        };
        if let StartOutcome::Started(_) = &outcome {
            self.metrics.executions_started.inc();
            // ExecutionStarted.
            self.metrics.history_events.inc();
            match effects {
                Some((calls, written)) => {
                    self.after_commit(
                        &new.identity.id,
                        &new.identity.account_id,
                        calls,
                        &written,
                        now,
                    )
                    .await;
                }
                None => self.hint(Hint::Claimed(Box::new(ClaimedExecution {
                    identity: new.identity,
                    input: new.input,
                    definition: new.definition,
                    role_arn: new.role_arn,
                    environment: new.environment,
                    callback_token: new.callback_token,
                    started_at: now,
                    state: None,
                    next_event_id: 2,
                    lease_epoch: 1,
                    parent_id: None,
                    map_run: None,
                    map_index: None,
                }))),
            }
        }
        Ok(outcome)
    }

    /// StopExecution: ends a running execution at once, whatever its worker is doing.
    pub async fn stop_execution(
        &self,
        execution: &Execution,
        error: Option<String>,
        cause: Option<String>,
    ) -> StoreResult<Option<Execution>> {
        let now = now_ms();
        // `{"error", "cause"}` with the values given; absent ones are omitted (definitions.md §I.8).
        let mut detail = serde_json::Map::new();
        if let Some(error) = &error {
            detail.insert("error".into(), Value::from(error.as_str()));
        }
        if let Some(cause) = &cause {
            detail.insert("cause".into(), Value::from(cause.as_str()));
        }
        let mut signals = Vec::new();
        // api.md §3.4: a stopped child reports a failure, default error `Stopped`.
        let outcome = TaskOutcome::failure(
            error.clone().unwrap_or_else(|| "Stopped".into()),
            cause.clone().unwrap_or_default(),
        );
        if let Some(child) = &execution.map_child {
            signals.push(advance::map_item_signal(child, outcome.clone()));
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

    /// UpdateMapRun: tells the running Map about new values (api.md §4.17).
    pub async fn map_run_updated(
        &self,
        execution_id: &str,
        map_run: &str,
        concurrency: Option<i64>,
        tolerated_count: Option<i64>,
        tolerated_percentage: Option<f64>,
    ) -> StoreResult<()> {
        let payload = SignalPayload::MapRunUpdated {
            map_run: map_run.to_string(),
            concurrency: concurrency.and_then(|c| usize::try_from(c).ok()),
            tolerated_failure_count: tolerated_count.and_then(|c| u64::try_from(c).ok()),
            tolerated_failure_percentage: tolerated_percentage,
        };
        let signal = OutgoingSignal {
            execution_id: execution_id.to_string(),
            payload: serde_json::to_string(&payload).expect("signals serialize"),
        };
        self.store.push_signal(&signal, now_ms()).await?;
        self.hint(Hint::Execution(execution_id.to_string()));
        Ok(())
    }

    /// Stops the children of a map run that failed or was aborted.
    pub(super) async fn stop_map_children(&self, map_run: &str) {
        let children = match self.store.running_map_children(map_run).await {
            Ok(children) => children,
            Err(error) => {
                tracing::warn!(%error, map_run, "listing a map run's children failed");
                return;
            }
        };
        for child in children {
            let stopped = Box::pin(self.stop_execution(
                &child,
                Some("FnF.MapRunAborted".into()),
                Some(format!("map run {map_run} ended")),
            ))
            .await;
            if let Err(error) = stopped {
                tracing::warn!(%error, execution_id = %child.identity.id, "stopping a map run's child failed");
            }
        }
    }

    /// ReportTaskSucceeded / ReportTaskFailed (api.md §4.14), applied at once so the answer
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
                    return Err(StoreError::Unavailable(
                        "the execution stayed busy; retry the report".into(),
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

    /// DeleteFlow (api.md §3.3): deletes the flow and stops its running executions. Those
    /// started with a `CallbackFnFTaskToken` report the stop to it (§3.4), so a parent
    /// waiting for one of them does not wait forever. False if the flow does not exist.
    pub async fn delete_flow(&self, flow: &Flow) -> StoreResult<bool> {
        let running = self
            .store
            .list_executions(&ExecutionQuery {
                flow_id: flow.id.clone(),
                from: None,
                status: Some(ExecutionStatus::Running),
                name_prefix: None,
                started_from: None,
                started_to: None,
                qualifier: None,
                map_run: None,
                limit: i64::MAX,
            })
            .await?;
        let now = now_ms();
        if !self
            .store
            .delete_flow(&flow.account_id, &flow.name, now)
            .await?
        {
            return Ok(false);
        }
        for execution in running {
            let Some(token) = &execution.callback_token else {
                continue;
            };
            // Only the executions this deletion stopped: one that ended meanwhile has
            // reported its own end.
            let Some(stopped) = self
                .store
                .get_execution_by_id(&execution.identity.id)
                .await?
            else {
                continue;
            };
            if stopped.status != ExecutionStatus::Stopped || stopped.stopped_at != Some(now) {
                continue;
            }
            let outcome = TaskOutcome::failure(
                stopped.error.unwrap_or_else(|| "Stopped".into()),
                stopped.cause.unwrap_or_default(),
            );
            if let Some(signal) = self
                .parent_signal(
                    &execution.identity.account_id,
                    token,
                    Some(&execution.identity.name),
                    outcome,
                )
                .await?
            {
                self.store.push_signal(&signal, now).await?;
                self.hint(Hint::Execution(signal.execution_id));
            }
        }
        Ok(true)
    }

    /// The signal that reports an ended child (`reporter`, its name) to its parent's task
    /// token (api.md §3.4); `None` (logged) when the token designates nothing.
    async fn parent_signal(
        &self,
        account_id: &str,
        token: &str,
        reporter: Option<&str>,
        outcome: TaskOutcome,
    ) -> StoreResult<Option<OutgoingSignal>> {
        let ignored = |why: &str| {
            tracing::info!(
                reason = why,
                "the callback token of an ended execution is ignored"
            );
            Ok(None)
        };
        let Some(parts) = TokenCodec::decode(token) else {
            return ignored("not a task token");
        };
        let Some(flow) = self.store.get_flow(account_id, &parts.flow_name).await? else {
            return ignored("its flow does not exist");
        };
        let Some(parent) = self
            .store
            .get_execution(&flow.id, &parts.execution_name)
            .await?
        else {
            // A synchronous parent running here gets the report directly.
            if let Some(run) = self
                .express
                .find(account_id, &flow.name, &parts.execution_name)
            {
                let scope = TokenScope {
                    account_id,
                    flow_name: &flow.name,
                    execution_name: &parts.execution_name,
                    execution_id: &run.execution_id,
                };
                if self.tokens.verify(&parts, scope) {
                    let signal = SignalPayload::Callback {
                        entered_id: parts.entered_id,
                        attempt: parts.attempt,
                        outcome,
                        submitted: reporter.map(Value::from),
                    };
                    let _ = run.signals.send((signal, None));
                    return Ok(None);
                }
            }
            return ignored("its execution does not exist");
        };
        let scope = TokenScope {
            account_id,
            flow_name: &flow.name,
            execution_name: &parent.identity.name,
            execution_id: &parent.identity.id,
        };
        if !self.tokens.verify(&parts, scope) {
            return ignored("it does not verify");
        }
        let payload = SignalPayload::Callback {
            entered_id: parts.entered_id,
            attempt: parts.attempt,
            outcome,
            submitted: reporter.map(Value::from),
        };
        Ok(Some(OutgoingSignal {
            execution_id: parent.identity.id,
            payload: serde_json::to_string(&payload).expect("signals serialize"),
        }))
    }

    /// Starts a child execution for a task (nested flows, §I.4.2, §II.5.2).
    async fn start_child(
        self: &Arc<Self>,
        account_id: &str,
        flow_name: &str,
        execution_name: Option<String>,
        input: &Value,
        callback_token: Option<String>,
        shape: ChildShape,
    ) -> TaskOutcome {
        let flow = match self.store.get_flow(account_id, flow_name).await {
            Ok(Some(flow)) => flow,
            Ok(None) => {
                return TaskOutcome::failure(
                    "fnf.FlowNotExists",
                    format!("Flow {flow_name} does not exist."),
                );
            }
            Err(error) => {
                return TaskOutcome::failure("fnf.InternalServerError", error.to_string());
            }
        };
        if flow.execution_mode == "Express" {
            return TaskOutcome::failure(
                "fnf.ActionNotSupported",
                "Express execution is not supported.",
            );
        }
        if let Some(name) = &execution_name
            && let Err(reason) = crate::names::check_name(name)
        {
            return TaskOutcome::failure(
                "fnf.InvalidArgument",
                format!("Parameter error: ExecutionName {reason}"),
            );
        }
        let request = StartRequest {
            flow,
            name: execution_name,
            input: input.to_string(),
            callback_token,
            qualifier: None,
            flow_version: None,
            started_by: None,
            test_case: None,
        };
        match self.start_execution(request).await {
            Ok(StartOutcome::Started(child) | StartOutcome::Running(child)) => {
                TaskOutcome::Success(match shape {
                    ChildShape::Fdl => serde_json::json!({
                        "FlowName": child.identity.flow_name,
                        "ExecutionName": child.identity.name,
                    }),
                    ChildShape::StateMachine => serde_json::json!({
                        "FlowName": child.identity.flow_name,
                        "ExecutionName": child.identity.name,
                        "RequestID": uuid::Uuid::new_v4().to_string().to_uppercase(),
                    }),
                    ChildShape::Submission => Value::from(child.identity.name),
                })
            }
            Ok(StartOutcome::AlreadyEnded(child)) => TaskOutcome::failure(
                "fnf.ExecutionAlreadyExists",
                format!(
                    "Execution {} for flow {} already exists.",
                    child.identity.name, child.identity.flow_name
                ),
            ),
            Ok(StartOutcome::Throttled) => TaskOutcome::failure(
                "fnf.ResourceThrottled",
                format!(
                    "The account already has the maximum of {} running executions.",
                    self.config.max_running_executions
                ),
            ),
            Err(error) => TaskOutcome::failure("fnf.InternalServerError", error.to_string()),
        }
    }
}

/// What StartExecution (or a parent task) asks for.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub flow: Flow,
    pub name: Option<String>,
    /// JSON object text, or "".
    pub input: String,
    pub callback_token: Option<String>,
    /// The `Qualifier` given, recorded as is (api.md §3.5).
    pub qualifier: Option<String>,
    /// The published version the execution runs; `None` runs the flow's latest configuration.
    pub flow_version: Option<FlowVersion>,
    /// Who started it besides a caller, merged into the `ExecutionStarted` detail (e.g.
    /// `{"schedule": {…}}` for a schedule's fire).
    pub started_by: Option<Value>,
    /// The test case whose mocks answer its tasks (`FlowName=<flow>#<TestCase>`).
    pub test_case: Option<Arc<TestCase>>,
}

/// Executions record the flow's variables with `Name` and `Value` only (api.md §3.3).
pub fn execution_environment(flow_environment: Option<&str>) -> Option<String> {
    let environment: Value = serde_json::from_str(flow_environment?).ok()?;
    let variables: Vec<Value> = environment
        .get("Variables")?
        .as_array()?
        .iter()
        .map(|variable| {
            serde_json::json!({
                "Name": variable.get("Name").cloned().unwrap_or_default(),
                "Value": variable.get("Value").cloned().unwrap_or_default(),
            })
        })
        .collect();
    Some(serde_json::json!({"Variables": variables}).to_string())
}
