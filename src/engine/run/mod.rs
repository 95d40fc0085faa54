//! The interpreter. Advancing an execution is a deterministic function of its stored state,
//! the signals that arrived and the clock: it runs every state that needs no outside call back
//! to back in memory and stops where the execution must wait, returning the history events to
//! write, the calls to make and the next wake-up time. Durable and synchronous executions use
//! it alike; only their drivers differ.

mod branches;
mod distributed;
mod mocked;
mod scope;
mod simple;
mod task;
mod task_call;
mod timers;

use serde_json::Value;

use super::calls::CallRequest;
use super::clock::{ClockAnchor, TimeScale};
use super::data::{self, FdlContext, FdlMappingScope};
use super::errors;
use super::history::{self, EventType};
use super::ir::{FlowDefinition, Language, limits};
use super::mocks::Mocks;
use super::state::{Cursor, ExecutionState, ScopeRun, SignalPayload, TaskPhase, TestRun, Work};
use super::tokens::{TokenCodec, TokenScope};
use timers::waiting;

/// Everything about the execution that does not change while it runs.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    pub definition: &'a FlowDefinition,
    pub account_id: &'a str,
    pub flow_name: &'a str,
    pub execution_name: &'a str,
    pub execution_id: &'a str,
    pub execution_input: &'a Value,
    pub role_arn: Option<&'a str>,
    pub region: &'a str,
    pub tokens: &'a TokenCodec,
    /// A synchronous (Express) execution: tighter Wait limits.
    pub express: bool,
    /// The wall clock, epoch ms.
    pub now: i64,
    /// Virtual time: the factor waits are multiplied by.
    pub time_scale: TimeScale,
    /// The mocks of the execution's test case. At start, a test case makes the execution
    /// one that runs with mocks; later, `None` for such an execution means its test case is
    /// gone from the mock file.
    pub mocks: Option<&'a dyn Mocks>,
}

impl RunContext<'_> {
    fn language(&self) -> Language {
        self.definition.language
    }

    fn token(&self, entered_id: i64, attempt: u32) -> String {
        self.tokens.issue(
            TokenScope {
                account_id: self.account_id,
                flow_name: self.flow_name,
                execution_name: self.execution_name,
                execution_id: self.execution_id,
            },
            entered_id,
            attempt,
        )
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum EndState {
    Succeeded(Value),
    Failed { error: String, cause: String },
    TimedOut { cause: String },
}

/// What one advance produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub events: Vec<history::Event>,
    pub calls: Vec<CallRequest>,
    /// Calls in flight that nobody waits for any more (timed out, cancelled).
    pub abandoned_calls: Vec<String>,
    /// Child executions of distributed Maps to create with this advance's commit.
    pub children: Vec<ChildStart>,
    /// Map runs that started or ended.
    pub map_runs: Vec<MapRunChange>,
    pub end: Option<EndState>,
    /// The next timer, epoch ms.
    pub wake_at: Option<i64>,
}

/// A child execution of a distributed Map (docs/COMPATIBILITY.md#distributed-map).
#[derive(Debug, Clone, PartialEq)]
pub struct ChildStart {
    pub map_run: String,
    pub index: usize,
    /// `<map run>-<index>`.
    pub name: String,
    pub input: Value,
    /// The Processor as a document of its own.
    pub definition: String,
}

/// A map run's record changes (DescribeMapRun reads them).
#[derive(Debug, Clone, PartialEq)]
pub enum MapRunChange {
    Started {
        name: String,
        state_name: String,
        total: usize,
        concurrency: usize,
        tolerated_failure_count: Option<u64>,
        tolerated_failure_percentage: Option<f64>,
    },
    /// `Succeeded`, `Failed` or `Aborted`; the children still running are stopped.
    Ended { name: String, status: &'static str },
}

/// What became of one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalResult {
    /// Applied; the id of the event it produced.
    Applied(i64),
    /// The attempt it was meant for is no longer waiting (already answered, timed out,
    /// superseded by a newer attempt, or the step is gone).
    Stale,
}

/// Creates the state of a new execution and runs it as far as it goes. `ExecutionStarted`
/// (event 1) is written by the caller with the execution itself.
pub fn start(ctx: &RunContext<'_>) -> (ExecutionState, Outcome) {
    let input = ctx.execution_input.clone();
    let mut state = ExecutionState {
        next_event_id: 2,
        flow_input: input.clone(),
        root: ScopeRun {
            opened_by: 0,
            input: Value::Null,
            local: data::empty_object(),
            cursor: Cursor::Enter {
                index: ctx.definition.root.start,
                raw: input.clone(),
            },
        },
        global: data::empty_object(),
        deadline: ctx
            .definition
            .timeout_seconds
            .map(|seconds| after_seconds(ctx.now, seconds)),
        clock: Some(ClockAnchor {
            wall: ctx.now,
            engine: ctx.now,
        }),
        test_run: ctx.mocks.map(|case| TestRun {
            test_case: case.test_case().to_string(),
            attempts: Default::default(),
        }),
    };
    // A new execution's clock starts at the wall clock.
    let advance = Advance::new(ctx, &mut state, ctx.now);
    if let (Language::Fdl, Some(mappings)) = (ctx.language(), &ctx.definition.input_mappings) {
        // docs/COMPATIBILITY.md#fdl-data-flow rule 1: the flow input is what the flow's inputMappings build.
        let empty = data::empty_object();
        let scope = FdlMappingScope::new(&input, &empty, advance.fdl_context(0, None));
        match data::apply_mappings(mappings, &scope) {
            Ok(flow_input) => state.flow_input = flow_input,
            Err(error) => {
                state.root.cursor = Cursor::Failed {
                    error: errors::RUNTIME.into(),
                    cause: format!("flow inputMappings: {}", error.0),
                };
            }
        }
    }
    if ctx.language() == Language::Fdl {
        state.root.input = state.flow_input.clone();
    }
    let outcome = advance.run(&mut state);
    (state, outcome)
}

/// `seconds` after `now`, epoch ms. Definitions put no upper bound on FDL timeouts, so this
/// saturates instead of overflowing (or wrapping into the past).
fn after_seconds(now: i64, seconds: u64) -> i64 {
    now.saturating_add(
        i64::try_from(seconds)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000),
    )
}

/// Applies the signals and runs the execution as far as it goes.
pub fn resume(
    ctx: &RunContext<'_>,
    state: &mut ExecutionState,
    signals: &[SignalPayload],
) -> (Outcome, Vec<SignalResult>) {
    let waiting = waiting(ctx.definition, state);
    let engine_now = ctx.time_scale.engine_now(state.clock, ctx.now, waiting);
    let mut advance = Advance::new(ctx, state, engine_now);
    let results = signals
        .iter()
        .map(|signal| advance.apply_signal(state, signal))
        .collect();
    let outcome = advance.run(state);
    (outcome, results)
}

/// Every call still in flight, for an execution that is stopped from outside.
pub fn calls_in_flight(state: &ExecutionState) -> Vec<String> {
    let mut calls = Vec::new();
    collect_calls(&state.root, &mut calls);
    calls
}

fn collect_calls(scope: &ScopeRun, calls: &mut Vec<String>) {
    collect_running(scope, calls, &mut Vec::new());
}

/// The calls in flight and the distributed map runs running under a scope.
fn collect_running(scope: &ScopeRun, calls: &mut Vec<String>, map_runs: &mut Vec<String>) {
    let Cursor::Running(state) = &scope.cursor else {
        return;
    };
    match &state.work {
        Work::Task(task) => {
            if let TaskPhase::Calling { call_key, .. } = &task.phase {
                calls.push(call_key.clone());
            }
        }
        Work::Parallel { branches } => branches
            .iter()
            .for_each(|branch| collect_running(&branch.scope, calls, map_runs)),
        Work::Map(map) => map
            .running
            .iter()
            .for_each(|iteration| collect_running(&iteration.scope, calls, map_runs)),
        Work::ChoiceBody { body, .. } => collect_running(body, calls, map_runs),
        Work::DistributedMap(run) => map_runs.push(run.map_run.clone()),
        Work::Ready | Work::Wait { .. } | Work::RetryDelay { .. } => {}
    }
}

/// One advance in progress.
pub(super) struct Advance<'a> {
    ctx: &'a RunContext<'a>,
    next_event_id: i64,
    events: Vec<history::Event>,
    calls: Vec<CallRequest>,
    abandoned: Vec<String>,
    children: Vec<ChildStart>,
    map_runs: Vec<MapRunChange>,
    /// The event limit was reached: stop everything and fail the execution.
    limit_hit: bool,
    /// State machine `$Global`, moved out of the state while the advance runs.
    global: Value,
    /// Engine time during this advance (see `clock`).
    engine_now: i64,
    /// The execution's test case, moved out of the state while the advance runs.
    test_run: Option<TestRun>,
}

impl<'a> Advance<'a> {
    /// An advance at engine time `engine_now`.
    fn new(ctx: &'a RunContext<'a>, state: &mut ExecutionState, engine_now: i64) -> Self {
        Advance {
            engine_now,
            test_run: state.test_run.take(),
            ctx,
            next_event_id: state.next_event_id,
            events: Vec::new(),
            calls: Vec::new(),
            abandoned: Vec::new(),
            children: Vec::new(),
            map_runs: Vec::new(),
            limit_hit: false,
            global: std::mem::replace(&mut state.global, Value::Null),
        }
    }

    /// Engine time: what every timer is armed and checked against.
    fn now(&self) -> i64 {
        self.engine_now
    }

    /// The wall-clock instant at which engine time `at` comes, if the execution waits only
    /// for time (`on_work`: while a call runs) from now on.
    fn wall_time(&self, at: i64, on_work: bool) -> i64 {
        let anchor = ClockAnchor {
            wall: self.ctx.now,
            engine: self.engine_now,
        };
        self.ctx.time_scale.wall_time(anchor, at, on_work)
    }

    /// Takes the next event id (before the event's detail can be computed: `StepEntered`'s
    /// input may contain its own id through `$context.step.eventId` or a task token).
    fn reserve_id(&mut self) -> i64 {
        let id = self.next_event_id;
        self.next_event_id += 1;
        if id > limits::MAX_EVENTS {
            self.limit_hit = true;
        }
        id
    }

    fn push(
        &mut self,
        event_id: i64,
        event_type: EventType,
        step_name: &str,
        schedule_event_id: i64,
        detail: Value,
    ) {
        if self.limit_hit {
            return;
        }
        self.events.push(history::event(
            event_id,
            event_type,
            step_name,
            self.ctx.now,
            schedule_event_id,
            detail,
        ));
    }

    /// Appends an event and returns its id.
    fn emit(
        &mut self,
        event_type: EventType,
        step_name: &str,
        schedule_event_id: i64,
        detail: Value,
    ) -> i64 {
        let id = self.reserve_id();
        self.push(id, event_type, step_name, schedule_event_id, detail);
        id
    }

    fn fdl_context<'b>(
        &'b self,
        step_event_id: i64,
        task_token: Option<&'b str>,
    ) -> FdlContext<'b> {
        FdlContext {
            execution_name: self.ctx.execution_name,
            flow_name: self.ctx.flow_name,
            step_event_id,
            task_token,
        }
    }

    fn abandon(&mut self, call_key: String) {
        self.abandoned.push(call_key);
    }

    /// Drops every call in flight under a scope that is cancelled, and aborts its map runs.
    fn abandon_scope(&mut self, scope: &ScopeRun) {
        let (mut calls, mut map_runs) = (Vec::new(), Vec::new());
        collect_running(scope, &mut calls, &mut map_runs);
        self.abandoned.extend(calls);
        self.map_runs
            .extend(map_runs.into_iter().map(|name| MapRunChange::Ended {
                name,
                status: "Aborted",
            }));
    }

    fn apply_signal(&mut self, state: &mut ExecutionState, signal: &SignalPayload) -> SignalResult {
        task::apply_signal(self, &mut state.root, signal)
    }

    /// Drives the root scope, then decides whether the execution ended.
    fn run(mut self, state: &mut ExecutionState) -> Outcome {
        let timed_out = state
            .deadline
            .is_some_and(|deadline| self.now() >= deadline);
        if !timed_out {
            let root = &self.ctx.definition.root;
            self.drive_scope(root, &mut state.root);
        }
        let end = if timed_out {
            self.abandon_scope(&state.root);
            Some(EndState::TimedOut {
                cause: "the execution exceeded the flow's timeoutSeconds".into(),
            })
        } else if self.limit_hit {
            self.abandon_scope(&state.root);
            Some(EndState::Failed {
                error: errors::EVENT_LIMIT.into(),
                cause: format!(
                    "the execution reached the limit of {} history events",
                    limits::MAX_EVENTS
                ),
            })
        } else {
            match &state.root.cursor {
                Cursor::Done { output } => Some(self.execution_output(state, output.clone())),
                Cursor::Failed { error, cause } => Some(EndState::Failed {
                    error: error.clone(),
                    cause: cause.clone(),
                }),
                _ => None,
            }
        };
        if let Some(end) = &end {
            // The end event is allowed past the event limit (docs/COMPATIBILITY.md#history-events). The ids reserved past the
            // limit were never written: the end event takes the first of them, unchecked.
            if self.limit_hit {
                self.next_event_id = self.next_event_id.min(limits::MAX_EVENTS + 1);
            }
            let (event_type, detail) = match end {
                EndState::Succeeded(output) => (
                    EventType::ExecutionSucceeded,
                    history::output_detail(output),
                ),
                EndState::Failed { error, cause } => (
                    EventType::ExecutionFailed,
                    history::error_detail(error, cause),
                ),
                EndState::TimedOut { cause } => (
                    EventType::ExecutionTimedOut,
                    history::error_detail(errors::TIMEOUT, cause),
                ),
            };
            let id = self.next_event_id;
            self.next_event_id += 1;
            self.limit_hit = false;
            self.push(id, event_type, "", 0, detail);
        }
        let wake_at = if end.is_none() {
            let waiting = waiting(self.ctx.definition, state);
            waiting
                .next_timer
                .map(|at| self.wall_time(at, waiting.on_work))
        } else {
            None
        };
        state.clock = Some(ClockAnchor {
            wall: self.ctx.now,
            engine: self.engine_now,
        });
        state.test_run = self.test_run.take();
        state.next_event_id = self.next_event_id;
        state.global = std::mem::take(&mut self.global);
        Outcome {
            events: self.events,
            calls: self.calls,
            abandoned_calls: self.abandoned,
            children: self.children,
            map_runs: self.map_runs,
            end,
            wake_at,
        }
    }

    /// The execution output once the top-level scope is done (docs/COMPATIBILITY.md#fdl-data-flow rule 6, docs/COMPATIBILITY.md#state-machine).
    fn execution_output(&self, state: &ExecutionState, root_output: Value) -> EndState {
        let output = match (self.ctx.language(), &self.ctx.definition.output_mappings) {
            (Language::Fdl, Some(mappings)) => {
                let scope = FdlMappingScope::new(
                    &state.flow_input,
                    &root_output,
                    self.fdl_context(0, None),
                );
                match data::apply_mappings(mappings, &scope) {
                    Ok(output) => output,
                    Err(error) => {
                        return EndState::Failed {
                            error: errors::RUNTIME.into(),
                            cause: format!("flow outputMappings: {}", error.0),
                        };
                    }
                }
            }
            _ => root_output,
        };
        let limit = match self.ctx.language() {
            Language::Fdl => limits::FDL_STEP_DATA_BYTES,
            Language::StateMachine => limits::SM_STATE_DATA_BYTES,
        };
        if let Err(error) = data::check_depth(&output, "the execution output") {
            return EndState::Failed {
                error: errors::RUNTIME.into(),
                cause: error.0,
            };
        }
        if data::json_size(&output) > limit {
            return EndState::Failed {
                error: errors::RUNTIME.into(),
                cause: format!("the execution output exceeds {limit} bytes"),
            };
        }
        EndState::Succeeded(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::parse::{ParseOptions, parse_definition};

    fn start_flow(text: &str) -> (ExecutionState, Outcome) {
        let definition = parse_definition(
            text,
            &ParseOptions {
                flow_name: "f",
                express: false,
            },
        )
        .expect("a valid definition");
        let input = serde_json::json!({});
        let tokens = TokenCodec::new(b"k".to_vec());
        start(&RunContext {
            definition: &definition,
            account_id: "1",
            flow_name: "f",
            execution_name: "e",
            execution_id: "id",
            execution_input: &input,
            role_arn: None,
            region: "r",
            tokens: &tokens,
            express: false,
            now: 1_000,
            time_scale: TimeScale::REAL,
            mocks: None,
        })
    }

    fn state_machine(states: &str) -> String {
        format!("Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: P\nStates:\n{states}")
    }

    #[test]
    fn a_loop_that_deepens_its_data_fails_instead_of_overflowing_the_stack() {
        let wrap = format!("{}$Input{}", "[".repeat(60), "]".repeat(60));
        let text = state_machine(&format!(
            "  - Type: Pass\n    Name: P\n    InputConstructor:\n      v.$: '{wrap}'\n    Next: P\n"
        ));
        let (_, outcome) = start_flow(&text);
        match outcome.end {
            Some(EndState::Failed { error, cause }) => {
                assert_eq!(error, errors::RUNTIME);
                assert!(
                    cause.contains("the state input is nested more than 256 levels deep"),
                    "{cause}"
                );
            }
            other => panic!("expected a runtime error, got {other:?}"),
        }
    }

    #[test]
    fn deeply_nested_branches_store_a_state_that_loads_back() {
        let mut states = "- Type: Wait\n  Name: W\n  Seconds: 2\n  End: true\n".to_string();
        let mut start = "W";
        for _ in 0..30 {
            let inner: String = states.lines().map(|l| format!("        {l}\n")).collect();
            states = format!(
                "- Type: Parallel\n  Name: P\n  End: true\n  Branches:\n    - StartAt: {start}\n      States:\n{inner}"
            );
            start = "P";
        }
        let states: String = states.lines().map(|l| format!("  {l}\n")).collect();
        let (state, outcome) = start_flow(&state_machine(&states));
        assert!(outcome.end.is_none() && outcome.wake_at.is_some());
        let text = serde_json::to_string(&state).unwrap();
        // Deeper than serde_json reads by default.
        assert!(serde_json::from_str::<ExecutionState>(&text).is_err());
        assert_eq!(ExecutionState::from_json(&text).unwrap(), state);
    }

    #[test]
    fn huge_timeouts_saturate() {
        assert_eq!(after_seconds(1_000, 2), 3_000);
        // Once wrapped into the past, ending executions and attempts at once.
        assert_eq!(after_seconds(1_000, 10_u64.pow(17)), i64::MAX);
        assert_eq!(after_seconds(1_000, u64::MAX), i64::MAX);
    }
}
