//! The persisted state of a running execution: where every scope stands, what each running
//! state waits for, and the timers. It is a serde document stored with the execution and
//! rewritten by every commit; new fields must get defaults so older rows still load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::clock::ClockAnchor;

fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionState {
    /// The id the next history event gets.
    pub next_event_id: i64,
    /// FDL: the flow input (after flow `inputMappings`), read by flow `outputMappings`.
    /// State machine: the execution input.
    pub flow_input: Value,
    pub root: ScopeRun,
    /// State machine `$Global` (an object).
    #[serde(default = "empty_object")]
    pub global: Value,
    /// The flow-level timeout (FDL `timeoutSeconds`), in engine time (epoch ms).
    #[serde(default)]
    pub deadline: Option<i64>,
    /// Where the wall clock and engine time stood after the last advance (virtual time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockAnchor>,
    /// The test case the execution runs with (`FlowName=<flow>#<TestCase>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_run: Option<TestRun>,
}

/// An execution started with a test case: its name, and how many attempts each mocked state
/// has made so far (the mocked responses are chosen by that count).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TestRun {
    pub test_case: String,
    #[serde(default)]
    pub attempts: BTreeMap<String, u32>,
}

impl ExecutionState {
    /// Loads a stored state. Nested Parallel / Map scopes and their data take it past
    /// serde_json's default limit of 128 levels; see `engine::json`.
    pub fn from_json(text: &str) -> Result<Self, crate::engine::json::ReadError> {
        crate::engine::json::parse_document(text)
    }
}

/// A running list of states (top level, branch, iteration, FDL choice option).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeRun {
    /// `ScheduleEventId` of the `StepEntered` events of this scope's states.
    pub opened_by: i64,
    /// FDL: the parent's input, merged into a step's input when it has no `inputMappings`.
    #[serde(default)]
    pub input: Value,
    /// FDL: the parent's local, accumulating the outputs of the finished steps.
    #[serde(default)]
    pub local: Value,
    pub cursor: Cursor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cursor {
    /// About to enter the state at `index` with this raw input (state machine: the previous
    /// state's output; FDL: unused, the input comes from the scope's input and local).
    Enter {
        index: usize,
        raw: Value,
    },
    Running(Box<StateRun>),
    /// The scope completed with this output (FDL: its local).
    Done {
        output: Value,
    },
    Failed {
        error: String,
        cause: String,
    },
}

/// A state that has been entered and is not finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateRun {
    pub index: usize,
    pub entered_id: i64,
    /// The state's effective input (after input mappings / InputConstructor).
    pub input: Value,
    /// The number of the last attempt started (tasks), or of runs (retried Parallel/Map).
    #[serde(default)]
    pub attempt: u32,
    /// Retries made so far, per retry policy (docs/COMPATIBILITY.md#retry-and-catch step 2: each policy counts its own).
    #[serde(default)]
    pub retry_counts: Vec<u32>,
    pub work: Work,
}

impl StateRun {
    /// Retries made of this state in all (`$Context.Current.RetryCount`).
    pub fn retry_count(&self) -> u32 {
        self.retry_counts.iter().sum()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Work {
    /// Entered; the work starts on the next drive (or the retry delay is over).
    Ready,
    Task(TaskRun),
    /// A Wait state armed until this instant (engine time, epoch ms).
    Wait {
        until: i64,
    },
    /// Waiting before the next attempt / run.
    RetryDelay {
        until: i64,
    },
    Parallel {
        branches: Vec<BranchRun>,
    },
    Map(Box<MapRun>),
    /// A distributed Map waiting for its child executions (docs/COMPATIBILITY.md#distributed-map).
    DistributedMap(Box<DistributedRun>),
    /// An FDL choice running the selected option's `steps`.
    ChoiceBody {
        /// The selected option; `None` for the default.
        option: Option<usize>,
        body: ScopeRun,
        goto: Option<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRun {
    pub scheduled_id: i64,
    /// The callback token of this attempt.
    pub token: String,
    pub phase: TaskPhase,
    /// The per-attempt timeout, engine time (epoch ms).
    #[serde(default)]
    pub timeout_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskPhase {
    /// The call (function, HTTP request, child start) is in flight under this key.
    Calling { call_key: String, mode: CallMode },
    /// Submitted; waiting for the callback or the child's end.
    Submitted,
    /// The result arrived and its event is written; the state completes on the next drive.
    Finished(TaskOutcome),
    /// The replica making the call died mid-call; the attempt is made again.
    Lost,
}

/// What the answer of a task call means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallMode {
    /// The answer is the task's result (`requestResponse` / `RequestComplete`).
    Result,
    /// A job run synchronously: the answer is the job's result, recorded as submitted then
    /// finished (FDL `sync` / `WaitForSystemCallback` of a function, Appendix C).
    SubmitAndResult,
    /// The answer only confirms the submission; the result comes as a callback (callbacks,
    /// and children whose end is awaited).
    SubmitThenWait,
}

/// What a task attempt ended with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskOutcome {
    Success(Value),
    Failure { error: String, cause: String },
}

impl TaskOutcome {
    pub fn failure(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskOutcome::Failure {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchRun {
    pub index: usize,
    pub entered_id: i64,
    pub scope: ScopeRun,
    /// `BranchExited` has been written.
    #[serde(default)]
    pub exited: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRun {
    pub items: Vec<Value>,
    /// The next element to start an iteration for.
    pub next_item: usize,
    pub concurrency: usize,
    pub running: Vec<IterationRun>,
    /// Outputs of finished iterations, by element position.
    pub results: Vec<Option<Value>>,
}

/// A distributed Map's map run: the children started, running and ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributedRun {
    pub map_run: String,
    /// Child inputs (items or batches), by position.
    pub inputs: Vec<Value>,
    /// The next position to start a child for.
    pub next: usize,
    /// Positions whose child is running.
    pub running: Vec<usize>,
    /// Outputs of ended children (failed ones: `{"Error", "Cause"}`).
    pub results: Vec<Option<Value>>,
    pub failed: u64,
    pub concurrency: usize,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
    /// Set when the failures exceeded what is tolerated.
    #[serde(default)]
    pub exceeded: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationRun {
    pub index: usize,
    pub entered_id: i64,
    pub scope: ScopeRun,
}

/// A message for an execution, applied by the worker that next advances it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SignalPayload {
    /// A task call finished (function answer, HTTP answer, child started).
    CallResult {
        call_key: String,
        outcome: TaskOutcome,
    },
    /// A callback for the attempt `attempt` of the task entered at `entered_id` (a report
    /// through the API, or a child execution that ended).
    Callback {
        entered_id: i64,
        attempt: u32,
        outcome: TaskOutcome,
        /// What the submission answered, when the report can tell (a child execution's
        /// name): recorded as `TaskSubmitted` if the report overtakes the submission's answer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        submitted: Option<Value>,
    },
    /// The replica making a call died; the attempt is retried (recorded in the history).
    CallLost { call_key: String },
    /// A child execution of a distributed Map ended.
    MapItemEnded {
        map_run: String,
        index: usize,
        outcome: TaskOutcome,
    },
    /// UpdateMapRun changed a running map run (docs/COMPATIBILITY.md#map-runs).
    MapRunUpdated {
        map_run: String,
        concurrency: Option<usize>,
        tolerated_failure_count: Option<u64>,
        tolerated_failure_percentage: Option<f64>,
    },
}

/// The key of a task call: the step's entry event and the attempt number.
pub fn call_key(entered_id: i64, attempt: u32) -> String {
    format!("{entered_id}.{attempt}")
}
