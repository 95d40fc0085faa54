//! The runtime: the worker pool that advances executions durably, and the operations on
//! executions that need the engine (start, stop, task reports, waiting for an end).
//!
//! Work reaches the pool three ways: executions this replica starts are leased to it at
//! once and handed over in memory; signals this replica records (call answers, reports)
//! come as hints; everything else (timers, other replicas' signals, expired leases) is
//! found by claiming due executions, woken by the store's notices.

mod advance;
pub mod calls;
mod children;
mod commit;
mod definitions;
mod deleted_flows;
mod express;
mod history_rows;
mod lease_waiters;
mod pool;
mod report;
mod start;
mod stop;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc};

use crate::engine::clock::TimeScale;
use crate::engine::ir::FlowDefinition;
use crate::engine::parse::DefinitionError;
use crate::engine::tokens::TokenCodec;
use crate::error::error_chain;
use crate::metrics::Metrics;
use crate::store::{Batcher, Claim, ClaimedExecution, Store, StoreResult, WorkNotice};
use crate::testing::{MockRegistry, TestCase};
use crate::time::now_ms;
use calls::CallExecutor;
pub use calls::FunctionEndpoints;
use definitions::DefinitionCache;
use deleted_flows::DeletedFlows;
use express::ExpressRegistry;
pub use express::{SyncRequest, SyncResult};
use lease_waiters::LeaseWaiters;
pub use report::ReportOutcome;
pub use start::{StartRequest, execution_environment};

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
    /// Task reports waiting for one of those leases.
    lease_waiters: LeaseWaiters,
    /// Expired task-call leases were seen: the heartbeat reaps them.
    reap_pending: AtomicBool,
    reap_wanted: Notify,
    /// Deleted flows whose running executions are still to be stopped, and the sweeper's
    /// wake-up.
    deleted_flows: std::sync::Mutex<DeletedFlows>,
    deletions: Notify,
    /// Group commit of starts, advance commits and nonces.
    batcher: Batcher,
    metrics: Arc<Metrics>,
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
        // SQLite has one writer. On Postgres two transactions in flight keep it busy while the
        // next batch gathers: with four, batches were smaller and the same calls cost more
        // transactions and CPU, for no more throughput (benches/analysis.md).
        let writers = match store.backend() {
            crate::store::Backend::Sqlite => 1,
            crate::store::Backend::Postgres => 2,
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
            lease_waiters: LeaseWaiters::default(),
            reap_pending: AtomicBool::new(false),
            reap_wanted: Notify::new(),
            deleted_flows: std::sync::Mutex::new(DeletedFlows::at_start()),
            deletions: Notify::new(),
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

    /// A stored definition, parsed once per text and kept (the cache the workers use).
    pub fn definition(
        &self,
        text: &str,
        flow_name: &str,
        express: bool,
    ) -> Result<Arc<FlowDefinition>, DefinitionError> {
        self.definitions.get(text, flow_name, express)
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
        self.deletions.notify_one();
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
                Err(error) => {
                    tracing::warn!(error = %error_chain(&error), "handing task calls over failed")
                }
            }
        }
    }
}
