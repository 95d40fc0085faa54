//! The values the store reads and writes.

use std::fmt;
use std::str::FromStr;

/// A flow as stored (docs/COMPATIBILITY.md#flows).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Flow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub description: String,
    pub definition: String,
    pub flow_type: String,
    pub role_arn: Option<String>,
    pub execution_mode: String,
    pub external_storage_location: Option<String>,
    pub resource_group_id: Option<String>,
    /// `{"Variables":[…]}` as JSON text.
    pub environment: Option<String>,
    pub created_at: i64,
    pub modified_at: i64,
    /// Bumped by every update; UpdateFlow writes only over the revision it read.
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateFlowOutcome {
    Created,
    AlreadyExists,
    /// The account already has the most flows allowed.
    LimitReached,
}

/// ListFlows: name ascending, starting at `from_name` (inclusive).
#[derive(Debug, Clone)]
pub struct FlowQuery {
    pub account_id: String,
    pub from_name: Option<String>,
    pub resource_group_id: Option<String>,
    /// Only names matching one of these globs (`*` any run, `?` one character); `None`: all.
    pub name_patterns: Option<Vec<String>>,
    pub limit: i64,
}

/// A used nonce as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredNonce {
    pub access_key_id: String,
    pub nonce: String,
    pub expires_at: i64,
}

/// Execution statuses (docs/COMPATIBILITY.md#executions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    Starting,
    Running,
    Stopped,
    Succeeded,
    Failed,
    TimedOut,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 6] = [
        ExecutionStatus::Starting,
        ExecutionStatus::Running,
        ExecutionStatus::Stopped,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Starting => "Starting",
            ExecutionStatus::Running => "Running",
            ExecutionStatus::Stopped => "Stopped",
            ExecutionStatus::Succeeded => "Succeeded",
            ExecutionStatus::Failed => "Failed",
            ExecutionStatus::TimedOut => "TimedOut",
        }
    }

    pub fn is_terminal(self) -> bool {
        !matches!(self, ExecutionStatus::Starting | ExecutionStatus::Running)
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExecutionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExecutionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown execution status '{s}'"))
    }
}

/// Who an execution is: its id, its account, its flow (by id and by name) and its name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExecutionIdentity {
    pub id: String,
    pub account_id: String,
    pub flow_id: String,
    pub flow_name: String,
    pub name: String,
}

/// An execution as the API sees it (docs/COMPATIBILITY.md#executions, docs/COMPATIBILITY.md#executions).
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub identity: ExecutionIdentity,
    pub status: ExecutionStatus,
    /// JSON object text, or "" when started without input.
    pub input: String,
    /// JSON text once succeeded, else "".
    pub output: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The definition the execution started with.
    pub definition: String,
    pub role_arn: Option<String>,
    pub environment: Option<String>,
    pub qualifier: Option<String>,
    pub flow_version: Option<String>,
    pub callback_token: Option<String>,
    pub started_at: i64,
    pub stopped_at: Option<i64>,
    /// Set for the child executions of a distributed Map.
    pub map_child: Option<MapChild>,
}

/// What StartExecution writes.
#[derive(Debug, Clone)]
pub struct NewExecution {
    pub identity: ExecutionIdentity,
    pub input: String,
    pub definition: String,
    pub role_arn: Option<String>,
    pub environment: Option<String>,
    pub qualifier: Option<String>,
    pub flow_version: Option<String>,
    pub callback_token: Option<String>,
    pub started_at: i64,
    /// The `ExecutionStarted` event (EventId 1).
    pub started_event: HistoryEvent,
    /// Lease the new execution to this replica at once, so its local workers run it
    /// without a claim round trip; another replica takes it over if the lease expires.
    pub lease: Option<Claim>,
    /// The first advance, already run (then `lease` is unused: the row is written as the
    /// advance left it).
    pub advance: Option<InitialAdvance>,
    /// Set for the child executions of a distributed Map.
    pub map_child: Option<MapChild>,
    /// The most executions its account may have running: the start is refused
    /// (`StartOutcome::Throttled`) rather than pass it. `None`: not limited (the children of
    /// a distributed Map, bounded by their map run's concurrency instead).
    pub running_limit: Option<i64>,
    /// Write only if the flow row `identity.flow_id` still has this revision, else answer
    /// `StartOutcome::StaleFlow`: a start from a cached flow never runs an old definition.
    pub flow_revision: Option<i64>,
    /// The nonce of the request that asks for this start, recorded in the same transaction:
    /// written only if the nonce is new, else `StartOutcome::NonceUsed`. The nonce is
    /// recorded whatever else the outcome.
    pub nonce: Option<UsedNonce>,
}

/// Where a distributed Map's child belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapChild {
    pub parent_id: String,
    pub map_run: String,
    pub index: i64,
}

/// A change to a map run's record, written with the commit that makes it.
#[derive(Debug, Clone, PartialEq)]
pub enum MapRunWrite {
    Started {
        name: String,
        execution_id: String,
        state_name: String,
        total: i64,
        concurrency: i64,
        tolerated_count: Option<i64>,
        tolerated_percentage: Option<f64>,
        started_at: i64,
    },
    Ended {
        name: String,
        status: String,
        stopped_at: i64,
    },
}

/// A map run as DescribeMapRun shows it (docs/COMPATIBILITY.md#map-runs); the counts come from its children.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRunRecord {
    pub name: String,
    pub execution_id: String,
    pub status: String,
    pub concurrency: i64,
    pub tolerated_count: Option<i64>,
    pub tolerated_percentage: Option<f64>,
    pub total: i64,
    pub started_at: i64,
    pub stopped_at: Option<i64>,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub aborted: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StartOutcome {
    Started(Execution),
    /// An execution of that name is still running: it is returned instead (docs/COMPATIBILITY.md#executions).
    Running(Execution),
    /// An execution of that name has ended.
    AlreadyEnded(Execution),
    /// Nothing was written: the account already has `running_limit` executions running.
    Throttled,
    /// Nothing was written: the flow no longer has the start's `flow_revision` (updated or
    /// deleted). Only starts that set one get this answer.
    StaleFlow,
    /// Nothing was written: the start's `nonce` had been used already (a replayed request).
    NonceUsed,
}

/// ListExecutions filters (docs/COMPATIBILITY.md#executions); order: start time descending, then name.
#[derive(Debug, Clone, Default)]
pub struct ExecutionQuery {
    pub flow_id: String,
    /// Start at this execution (inclusive): its (started_at, name) position.
    pub from: Option<(i64, String)>,
    pub status: Option<ExecutionStatus>,
    pub name_prefix: Option<String>,
    pub started_from: Option<i64>,
    pub started_to: Option<i64>,
    pub qualifier: Option<String>,
    /// The children of this map run; `None` lists executions that are not map children.
    pub map_run: Option<String>,
    pub limit: i64,
}

/// One history event (docs/COMPATIBILITY.md#executions).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub event_id: i64,
    pub event_type: String,
    pub step_name: String,
    pub time: i64,
    pub schedule_event_id: i64,
    /// JSON object text.
    pub detail: String,
}

/// StopExecution (and flow-level stops): end an execution whatever its worker is doing.
#[derive(Debug, Clone)]
pub struct ForcedEnd {
    pub execution_id: String,
    pub status: ExecutionStatus,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub now: i64,
    pub event_type: String,
    /// `EventDetail` of the end event.
    pub detail: String,
    /// Reports to send, e.g. to the task token the execution was started with.
    pub signals: Vec<OutgoingSignal>,
}

/// A running execution stopped because its flow was deleted: what its parent, if it was
/// started with a task token, must be told.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoppedByDeletion {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub callback_token: Option<String>,
    pub error: String,
    pub cause: String,
}

/// Who claims and for how long.
#[derive(Debug, Clone)]
pub struct Claim {
    pub owner: String,
    pub now: i64,
    pub lease_until: i64,
}

/// An execution leased to a worker, with what it needs to advance it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ClaimedExecution {
    #[sqlx(flatten)]
    pub identity: ExecutionIdentity,
    pub input: String,
    pub definition: String,
    pub role_arn: Option<String>,
    pub environment: Option<String>,
    pub callback_token: Option<String>,
    pub started_at: i64,
    pub state: Option<String>,
    pub next_event_id: i64,
    pub lease_epoch: i64,
    pub parent_id: Option<String>,
    pub map_run: Option<String>,
    pub map_index: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClaimAttempt {
    Claimed(Box<ClaimedExecution>),
    /// Someone else holds a live lease; try again shortly.
    Busy,
    /// Ended, or never existed.
    NotRunning,
}

/// An execution found by its flow's name and its own, as
/// [`WorkStore::read_unleased`](super::WorkStore::read_unleased) reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRead {
    pub identity: ExecutionIdentity,
    /// `NotRunning` once it has ended.
    pub attempt: ClaimAttempt,
}

/// A message waiting for an execution (JSON payload understood by the engine).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Signal {
    pub id: i64,
    pub payload: String,
}

/// A signal to queue for an execution (possibly another one than the committer).
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingSignal {
    pub execution_id: String,
    pub payload: String,
}

/// The end of an execution, written with the commit that reaches it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionEnd {
    pub status: ExecutionStatus,
    pub output: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stopped_at: i64,
}

/// Everything one advance of an execution writes, in one transaction.
#[derive(Debug, Clone)]
pub struct ExecutionCommit {
    pub execution_id: String,
    /// The lease epoch of the claim; the commit fails if the row moved on.
    pub epoch: i64,
    /// The advance ran on a plain read of an execution nobody leased
    /// ([`WorkStore::read_unleased`](super::WorkStore::read_unleased)), not on a claim: the
    /// commit applies only if the row is still at `epoch` (every claim moves it), and moves
    /// the epoch on as a claim would, so that no other advance made from the same read applies.
    pub unleased: bool,
    pub now: i64,
    pub writes: AdvanceWrites,
    pub consumed_signals: Vec<i64>,
    /// Task calls given up (timed out, cancelled, answered): dropped whoever holds them.
    pub calls_abandoned: Vec<String>,
    /// The nonce of the request whose report this advance applies, recorded in the same
    /// transaction: a replay writes nothing ([`CommitOutcome::NonceUsed`]).
    pub nonce: Option<UsedNonce>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed,
    /// Committed, and signals that arrived while the advance ran wait for the execution: it
    /// is due again at once.
    CommittedWithSignals,
    /// The lease moved on (taken over, or the execution was stopped); nothing was written
    /// but the nonce.
    LostLease,
    /// The commit's nonce was used already; nothing was written.
    NonceUsed,
}

/// Cross-replica notices (LISTEN/NOTIFY on Postgres, in-process on SQLite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkNotice {
    /// Something became due.
    Work,
    /// An execution reached a terminal status.
    Ended(String),
    /// A schedule was created, changed or deleted: schedulers look at their next fire again.
    Schedules,
}

/// When the worker pool has something to do next: the store's earliest wake-up of a running
/// execution (a timer, a retry, a signal, an expiring lease) and earliest expiry of a task
/// call's lease (a replica that stops renewing it has died).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wakeups {
    pub execution_due: Option<i64>,
    pub call_lease_expiry: Option<i64>,
}

/// What an advance of an execution writes besides its fencing: the first advance of a new
/// execution (run in memory before it is stored, so that an execution that needs no outside
/// call is written once, already finished) and every later one (`ExecutionCommit`).
#[derive(Debug, Clone)]
pub struct AdvanceWrites {
    pub state: String,
    pub next_event_id: i64,
    /// Events after the last stored one (after `ExecutionStarted` for a first advance).
    pub events: Vec<HistoryEvent>,
    pub end: Option<ExecutionEnd>,
    /// The next wake-up (timer, retry delay, timeout); `None` = wait for a signal.
    pub due_at: Option<i64>,
    /// Task calls this worker is about to make, leased to `owner` until `call_lease_until`.
    pub calls_started: Vec<String>,
    pub owner: String,
    pub call_lease_until: i64,
    pub signals_out: Vec<OutgoingSignal>,
    /// Distributed Map children to create.
    pub children: Vec<NewExecution>,
    pub map_runs: Vec<MapRunWrite>,
}

/// The first advance of a new execution, written with its start (one commit per wait
/// point, the first one included): nothing to fence yet, so its writes alone.
pub type InitialAdvance = AdvanceWrites;

/// A write that can share a transaction with others (group commit).
#[derive(Debug, Clone)]
pub enum WriteOp {
    Start(Box<NewExecution>),
    Commit(Box<ExecutionCommit>),
    Nonce(UsedNonce),
    /// A nonce recorded in a transaction that also reads which flow of that name exists now,
    /// so a call about to run a cached copy learns there whether the copy is current.
    NonceReadingFlow {
        nonce: UsedNonce,
        account_id: String,
        flow_name: String,
    },
}

/// A request's (AccessKeyId, nonce) pair, recorded as used until `expires_at`. Written on its
/// own, or with the start it guards ([`NewExecution::nonce`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedNonce {
    pub access_key_id: String,
    pub nonce: String,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteResult {
    Started(Box<StartOutcome>),
    Committed(CommitOutcome),
    /// True when the nonce was new.
    Nonce(bool),
    /// Whether the nonce was new, and the flow's (id, revision) as the transaction saw it.
    NonceReadingFlow {
        new: bool,
        flow: Option<(String, i64)>,
    },
}

/// A time-based schedule of a flow (docs/COMPATIBILITY.md#schedules).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Schedule {
    pub id: String,
    pub account_id: String,
    pub flow_id: String,
    pub name: String,
    pub description: String,
    /// JSON object text (the input of the executions it starts), or "".
    pub payload: String,
    pub cron_expression: String,
    pub enable: bool,
    pub created_at: i64,
    pub modified_at: i64,
    /// Bumped by every update; UpdateSchedule writes only over the revision it read.
    pub revision: i64,
    /// The next fire, epoch ms; `None` while disabled.
    pub next_fire_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateScheduleOutcome {
    Created,
    AlreadyExists,
}

/// A signed-in web console session. The cookie carries the token; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsoleSession {
    pub token_hash: String,
    pub access_key_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The absolute expiry, however active the session is.
    pub expires_at: i64,
}
