//! Statuses from real histories: the examples run through the interpreter in memory, as a
//! worker runs them (calls answered, timers fired), and their events read back.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::definitions;
use super::parse;
use crate::engine::calls::CallRequest;
use crate::engine::clock::TimeScale;
use crate::engine::history::{self, EventType};
use crate::engine::ir::FlowDefinition;
use crate::engine::run::{self, Outcome, RunContext};
use crate::engine::state::{ExecutionState, SignalPayload, TaskOutcome};
use crate::engine::tokens::TokenCodec;
use crate::graph::{ChildCounts, EventFacts, NodeStatus, Status, statuses};
use crate::store::HistoryEvent;

/// Rounds of answers and timers before a test gives up on an execution.
const MAX_ROUNDS: usize = 64;

struct Execution {
    definition: FlowDefinition,
    flow_name: String,
    input: Value,
    tokens: TokenCodec,
    state: ExecutionState,
    events: Vec<HistoryEvent>,
    calls: Vec<CallRequest>,
    wake_at: Option<i64>,
    ended: bool,
    now: i64,
}

impl Execution {
    fn start(text: &str, flow_name: &str, input: Value) -> Self {
        let definition = parse(text, flow_name);
        let tokens = TokenCodec::new(b"graph".to_vec());
        let now = 1_700_000_000_000;
        let started = history::event(
            1,
            EventType::ExecutionStarted,
            "",
            now,
            0,
            json!({"input": input}),
        );
        let (state, outcome) = run::start(&context(&definition, flow_name, &input, &tokens, now));
        let mut execution = Execution {
            definition,
            flow_name: flow_name.to_string(),
            input,
            tokens,
            state,
            events: vec![started.into()],
            calls: Vec::new(),
            wake_at: None,
            ended: false,
            now,
        };
        execution.absorb(outcome);
        execution
    }

    fn absorb(&mut self, outcome: Outcome) {
        self.events
            .extend(outcome.events.into_iter().map(HistoryEvent::from));
        self.calls.extend(outcome.calls);
        self.wake_at = outcome.wake_at;
        self.ended |= outcome.end.is_some();
    }

    /// Answers the calls `answer` has an answer for and, when `fire_timers`, lets waits and
    /// retry delays pass, until the execution ends or nothing more happens.
    fn run(
        &mut self,
        fire_timers: bool,
        mut answer: impl FnMut(&CallRequest) -> Option<TaskOutcome>,
    ) {
        for _ in 0..MAX_ROUNDS {
            if self.ended {
                return;
            }
            let mut signals = Vec::new();
            let mut waiting = Vec::new();
            for call in std::mem::take(&mut self.calls) {
                match answer(&call) {
                    Some(outcome) => signals.push(SignalPayload::CallResult {
                        call_key: call.call_key.clone(),
                        outcome,
                    }),
                    None => waiting.push(call),
                }
            }
            self.calls = waiting;
            if signals.is_empty() {
                match self.wake_at {
                    Some(at) if at <= self.now => {}
                    Some(at) if fire_timers => self.now = at,
                    _ => return,
                }
            }
            let context = context(
                &self.definition,
                &self.flow_name,
                &self.input,
                &self.tokens,
                self.now,
            );
            let (outcome, _) = run::resume(&context, &mut self.state, &signals);
            self.absorb(outcome);
        }
        panic!("the execution did not settle: {:#?}", self.events);
    }

    fn statuses(&self) -> BTreeMap<String, NodeStatus> {
        statuses(&self.definition, self.events.iter().map(EventFacts::from))
    }
}

fn context<'a>(
    definition: &'a FlowDefinition,
    flow_name: &'a str,
    input: &'a Value,
    tokens: &'a TokenCodec,
    now: i64,
) -> RunContext<'a> {
    RunContext {
        definition,
        account_id: "1",
        flow_name,
        execution_name: "e1",
        execution_id: "id",
        execution_input: input,
        role_arn: None,
        region: "cn-hangzhou",
        tokens,
        express: false,
        now,
        time_scale: TimeScale::REAL,
        mocks: None,
    }
}

fn success(value: Value) -> Option<TaskOutcome> {
    Some(TaskOutcome::Success(value))
}

fn failure(error: &str) -> Option<TaskOutcome> {
    Some(TaskOutcome::failure(error, "it failed"))
}

#[track_caller]
fn assert_status(all: &BTreeMap<String, NodeStatus>, id: &str, status: Status, attempts: u32) {
    let shown = all
        .get(id)
        .unwrap_or_else(|| panic!("no status for {id}: {all:#?}"));
    assert_eq!(
        (shown.status, shown.attempts),
        (status, attempts),
        "{id}: {shown:#?}"
    );
}

#[test]
fn a_succeeded_parallel_and_choice_steps() {
    let execution = Execution::start(definitions::CF_5, "cf-parallel", json!({}));
    assert!(execution.ended);
    let all = execution.statuses();
    for id in [
        "Parallel1",
        "Parallel1/0",
        "Parallel1/0/Pass1",
        "Parallel1/1/Pass2",
        "Join",
    ] {
        assert_status(&all, id, Status::Succeeded, 1);
    }
    let parallel = &all["Parallel1"];
    assert_eq!(
        parallel.children,
        Some(ChildCounts {
            total: 2,
            succeeded: 2,
            ..ChildCounts::default()
        })
    );
    let entered = parallel.entered_event_id.unwrap();
    assert_eq!(
        execution.events[entered as usize - 1].event_type,
        "StepEntered"
    );
    let ended = parallel.ended_event_id.unwrap();
    assert_eq!(
        execution.events[ended as usize - 1].event_type,
        "StepExited"
    );

    for (input, taken, skipped) in [
        (json!({"status": "ready"}), "route/0", "route/default"),
        (json!({"status": "other"}), "route/default", "route/0"),
    ] {
        let execution = Execution::start(definitions::FDL_4, "example", input);
        let all = execution.statuses();
        assert_status(&all, "route", Status::Succeeded, 1);
        assert_status(&all, taken, Status::Succeeded, 1);
        assert_status(&all, skipped, Status::NotReached, 0);
        assert_status(&all, "final", Status::Succeeded, 1);
    }
    let all =
        Execution::start(definitions::FDL_4, "example", json!({"status": "ready"})).statuses();
    assert_status(&all, "route/0/onReady", Status::Succeeded, 1);
    assert_status(&all, "route/default/onOther", Status::NotReached, 0);
    assert_status(&all, "afterChoice", Status::Succeeded, 1);
}

#[test]
fn a_failed_state() {
    let execution = Execution::start(definitions::CF_9, "cf-fail", json!({"status": "false"}));
    let all = execution.statuses();
    assert_status(&all, "Choice1", Status::Succeeded, 1);
    assert_status(&all, "Fail1", Status::Failed, 1);
    assert_eq!(all["Fail1"].error.as_deref(), Some("customBizCode"));
    assert_status(&all, "Pass1", Status::NotReached, 0);
    assert_eq!(all["Pass1"].visits, 0);
}

#[test]
fn a_caught_map_iteration_and_its_siblings() {
    let input = json!({"items": [{"ok": true}, {"ok": false}, {"ok": true}]});
    let execution = Execution::start(definitions::CF_14, "cf-map-catch", input);
    assert!(execution.ended);
    let all = execution.statuses();
    assert_status(&all, "Each", Status::Caught, 1);
    assert_eq!(all["Each"].error.as_deref(), Some("ItemRejected"));
    assert_eq!(all["Each"].first_failed_child, Some(1));
    let counts = all["Each"].children.clone().unwrap();
    assert_eq!((counts.total, counts.succeeded, counts.failed), (3, 1, 1));
    assert_eq!(
        counts.cancelled, 1,
        "the third iteration was started, then cancelled"
    );
    assert_status(&all, "Each/Bad", Status::Failed, 1);
    assert_status(&all, "Each/Good", Status::Succeeded, 1);
    assert_eq!(all["Each/Check"].visits, 2);
    assert_status(&all, "Report", Status::Succeeded, 1);
}

#[test]
fn retried_and_caught_tasks() {
    let text = definitions::cf_11(definitions::CF_11_BACKOFF, definitions::CF_11_CATCH);
    // Fails once, then succeeds.
    let mut execution = Execution::start(&text, "cf-retry-catch", json!({}));
    let mut calls = 0;
    execution.run(true, |_| {
        calls += 1;
        if calls == 1 {
            failure("BookFlightError")
        } else {
            success(json!({"Body": {}}))
        }
    });
    assert!(execution.ended);
    let all = execution.statuses();
    assert_status(&all, "Book", Status::Retried, 2);
    assert_status(&all, "Compensate", Status::NotReached, 0);

    // Fails every attempt: retried twice, then caught.
    let mut execution = Execution::start(&text, "cf-retry-catch", json!({}));
    execution.run(true, |_| failure("BookFlightError"));
    let all = execution.statuses();
    assert_status(&all, "Book", Status::Caught, 3);
    assert_eq!(all["Book"].error.as_deref(), Some("BookFlightError"));
    assert_status(&all, "Compensate", Status::Succeeded, 1);
}

#[test]
fn running_states_waits_and_callbacks() {
    let mut execution = Execution::start(definitions::CF_7, "cf-wait", json!({"delay": 5}));
    execution.run(false, |_| None);
    assert!(!execution.ended);
    assert_status(&execution.statuses(), "Wait1", Status::Running, 1);
    execution.run(true, |_| None);
    assert!(execution.ended);
    assert_status(&execution.statuses(), "Wait1", Status::Succeeded, 1);

    // A callback task whose submission was accepted waits for its report.
    let mut execution = Execution::start(definitions::CF_12, "cf-callback", json!({"orderId": 7}));
    execution.run(true, |_| success(json!({"Code": 202})));
    assert!(!execution.ended);
    let all = execution.statuses();
    assert_status(&all, "Approve", Status::Running, 1);
    assert!(all["Approve"].ended_event_id.is_none());
}

#[test]
fn a_loop_counts_its_visits() {
    let mut execution = Execution::start(definitions::FDL_16, "example", json!({}));
    execution.run(true, |call| {
        let crate::engine::calls::CallKind::Function { event, .. } = &call.kind else {
            return None;
        };
        let count = event["count"].as_i64().unwrap_or(0);
        success(json!({"count": count + 1}))
    });
    assert!(execution.ended);
    let all = execution.statuses();
    assert_status(&all, "inc", Status::Succeeded, 1);
    assert_eq!((all["inc"].visits, all["again"].visits), (3, 3));
    assert_status(&all, "finish", Status::Succeeded, 1);
    // The latest visit is shown.
    let last_inc = execution
        .events
        .iter()
        .filter(|e| e.event_type == "StepEntered" && e.step_name == "inc")
        .map(|e| e.event_id)
        .max();
    assert_eq!(all["inc"].entered_event_id, last_inc);
}

#[test]
fn a_failing_branch_cancels_the_other() {
    let text = r#"
Type: StateMachine
Name: cancel
SpecVersion: v1
StartAt: Both
States:
  - Type: Parallel
    Name: Both
    End: true
    Branches:
      - StartAt: Slow
        States:
          - Type: Wait
            Name: Slow
            Seconds: 10
            End: true
      - StartAt: Boom
        States:
          - Type: Fail
            Name: Boom
            Code: Bang
"#;
    let execution = Execution::start(text, "cancel", json!({}));
    assert!(execution.ended);
    let all = execution.statuses();
    assert_status(&all, "Both", Status::Failed, 1);
    assert_status(&all, "Both/0/Slow", Status::Cancelled, 1);
    assert_status(&all, "Both/0", Status::Cancelled, 1);
    assert_status(&all, "Both/1", Status::Failed, 1);
    assert_status(&all, "Both/1/Boom", Status::Failed, 1);
    assert_eq!(all["Both"].first_failed_child, Some(1));
    let json = serde_json::to_value(&all["Both/0/Slow"]).unwrap();
    assert_eq!(json["status"], "cancelled");
    assert_eq!(
        serde_json::to_value(&all["Both"]).unwrap()["children"]["cancelled"],
        1
    );
}

#[test]
fn an_fdl_choice_whose_options_begin_alike_is_told_apart_by_its_conditions() {
    let text = r#"
version: v1
type: flow
steps:
  - type: choice
    name: route
    choices:
      - condition: $.pick == 0
        steps:
          - type: pass
            name: same
      - condition: $.pick == 1
        steps:
          - type: pass
            name: same
"#;
    for pick in [0, 1] {
        let all = Execution::start(text, "example", json!({"pick": pick})).statuses();
        let (taken, other) = if pick == 0 {
            ("route/0/same", "route/1/same")
        } else {
            ("route/1/same", "route/0/same")
        };
        assert_status(&all, taken, Status::Succeeded, 1);
        assert_status(&all, other, Status::NotReached, 0);
    }
}

#[test]
fn events_that_do_not_fit_the_definition_are_skipped() {
    let definition = parse(definitions::CF_5, "cf-parallel");
    let event = |id: i64, event_type: &str, step: &str, opener: i64, detail: &str| HistoryEvent {
        event_id: id,
        event_type: event_type.into(),
        step_name: step.into(),
        time: 0,
        schedule_event_id: opener,
        detail: detail.into(),
    };
    let events = [
        event(1, "ExecutionStarted", "", 0, "{}"),
        event(2, "StepEntered", "Parallel1", 0, "not json"),
        event(3, "BranchEntered", "Parallel1", 2, r#"{"index": "zero"}"#),
        event(4, "BranchEntered", "Parallel1", 2, r#"{"index": 7}"#),
        event(5, "StepEntered", "Pass1", 3, "{}"),
        event(6, "StepEntered", "Pass1", 4, "{}"),
        event(7, "StepEntered", "Renamed", 0, "{}"),
        event(8, "SomethingNew", "Join", 0, "{}"),
        event(9, "StepExited", "Join", 99, "{}"),
        event(10, "StepFailed", "Parallel1", 2, "[1, 2]"),
    ];
    let all = statuses(&definition, events.iter().map(EventFacts::from));
    assert_status(&all, "Parallel1", Status::Failed, 1);
    assert_eq!(all["Parallel1"].error, None);
    assert_status(&all, "Parallel1/0/Pass1", Status::NotReached, 0);
    assert_status(&all, "Join", Status::NotReached, 0);
    assert!(!all.contains_key("Renamed") && !all.contains_key("Parallel1/7"));
}
