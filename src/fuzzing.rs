//! Entry points of the fuzz targets in `fuzz/` and of `tests/fuzz_seeds.rs`, which replays
//! their seeds. Each takes one arbitrary input; no input may make it panic, loop forever or
//! allocate without bound, since the same code runs inside the API and the workers.

use serde_json::{Value, json};

use crate::engine::data::{DollarScope, FdlContext, FdlMappingScope, SmContext, SmScope};
use crate::engine::expr::{Expr, ExprError, Root, Scope};
use crate::engine::ir::FlowDefinition;
use crate::engine::parse::{DefinitionError, ParseOptions, parse_definition};
use crate::engine::run::{self, Outcome, RunContext};
use crate::engine::state::{ExecutionState, SignalPayload, TaskOutcome};
use crate::engine::tokens::TokenCodec;
use crate::graph::{self, EventFacts};
use crate::store::HistoryEvent;

/// The flow name definitions are parsed under: a `name` / `Name` must equal it.
pub const FLOW_NAME: &str = "fuzz";

/// Rounds of answering calls and firing timers before an execution is left alone.
const MAX_ROUNDS: usize = 32;

/// The value every root of the fixed evaluation context starts from.
pub fn sample_input() -> Value {
    json!({
        "a": 1, "b": {"b1": true, "b2": "ready"}, "c": [1, 2, 3], "d": 1.5, "e": "x y",
        "s": "10", "n": null, "neg": -7, "big": 9_007_199_254_740_993_i64, "f": 1e300,
        "status": "ready", "seconds": 1, "timestamp": "2024-01-01T00:00:00Z",
        "profile": {"name": "Tom", "tags": ["x", "名字"]},
        "items": [{"id": 1, "parts": [1, 2]}, {"id": 2, "parts": []}, 3, "four"],
        "text": "aGVsbG8=", "json": "{\"k\": [1, 2]}",
    })
}

/// Parses and validates `text` as CreateFlow does; when it is valid, runs an execution of
/// it in memory, answering calls alternately with a success and a failure and firing
/// timers, as a worker would, then draws the flow's graph coloured by that history, as the
/// console does.
pub fn definition(text: &str) -> Result<FlowDefinition, DefinitionError> {
    let parse = |express| {
        parse_definition(
            text,
            &ParseOptions {
                flow_name: FLOW_NAME,
                express,
            },
        )
    };
    let standard = parse(false)?;
    // Express only narrows Wait; run in express mode when the flow allows it.
    let history = match parse(true) {
        Ok(express) => execute(&express, true),
        Err(_) => execute(&standard, false),
    };
    let drawn = graph::layout(&standard);
    let statuses = graph::statuses(&standard, history.iter().map(EventFacts::from));
    let _ = graph::render_svg(&drawn, Some(&statuses));
    Ok(standard)
}

/// The history events the execution wrote.
fn execute(definition: &FlowDefinition, express: bool) -> Vec<HistoryEvent> {
    let input = sample_input();
    let tokens = TokenCodec::new(b"fuzz".to_vec());
    let mut now: i64 = 1_700_000_000_000;
    let context = |now| RunContext {
        definition,
        account_id: "1",
        flow_name: FLOW_NAME,
        execution_name: "exec",
        execution_id: "id",
        execution_input: &input,
        role_arn: None,
        region: "cn-hangzhou",
        tokens: &tokens,
        express,
        now,
        time_scale: crate::engine::clock::TimeScale::REAL,
        mocks: None,
    };
    let (mut state, mut outcome) = run::start(&context(now));
    let mut history = Vec::new();
    let mut answers = 0usize;
    let mut callbacks = Vec::new();
    for _ in 0..MAX_ROUNDS {
        state = reload(&state);
        // Stored as a worker stores them; the graph reads stored rows.
        history.extend(outcome.events.drain(..).map(HistoryEvent::from));
        if outcome.end.is_some() {
            break;
        }
        let signals = answer(&outcome, &mut answers, &mut callbacks);
        if signals.is_empty() {
            match outcome.wake_at {
                Some(at) => now = now.max(at),
                None => break,
            }
        }
        outcome = run::resume(&context(now), &mut state, &signals).0;
    }
    history
}

/// The state is stored as JSON between advances: it must load back as it was written.
fn reload(state: &ExecutionState) -> ExecutionState {
    let text = serde_json::to_string(state).expect("execution state serializes");
    let loaded = ExecutionState::from_json(&text).expect("execution state loads back");
    assert_eq!(&loaded, state, "execution state changes when stored");
    loaded
}

/// Answers for what the last advance asked for; callbacks follow a round later.
fn answer(
    outcome: &Outcome,
    answers: &mut usize,
    callbacks: &mut Vec<(i64, u32)>,
) -> Vec<SignalPayload> {
    let mut next = || {
        *answers += 1;
        if *answers % 2 == 1 {
            TaskOutcome::Success(json!({"answer": *answers, "Body": {"ok": true}}))
        } else {
            TaskOutcome::failure("Fuzz.Error", "a failure")
        }
    };
    let mut signals: Vec<SignalPayload> = callbacks
        .drain(..)
        .map(|(entered_id, attempt)| SignalPayload::Callback {
            entered_id,
            attempt,
            outcome: next(),
            submitted: None,
        })
        .collect();
    for call in &outcome.calls {
        if let Some(parts) = TokenCodec::decode(&call.token) {
            callbacks.push((parts.entered_id, parts.attempt));
        }
        signals.push(SignalPayload::CallResult {
            call_key: call.call_key.clone(),
            outcome: next(),
        });
    }
    for child in &outcome.children {
        // A worker parses the child's definition when it starts the child.
        let _ = parse_definition(
            &child.definition,
            &ParseOptions {
                flow_name: FLOW_NAME,
                express: false,
            },
        );
        signals.push(SignalPayload::MapItemEnded {
            map_run: child.map_run.clone(),
            index: child.index,
            outcome: next(),
        });
    }
    signals
}

/// Parses `src` as an expression; when it parses, evaluates it in value and condition mode
/// against `sample_input()` with every root bound.
pub fn expression(src: &str) -> Result<Expr, ExprError> {
    let expr = Expr::parse(src)?;
    let input = sample_input();
    let scope = AllRoots::new(&input);
    let _ = expr.eval(&scope);
    let _ = expr.eval_condition(&scope);
    let _ = (expr.roots(), expr.is_path());
    Ok(expr)
}

/// Every root bound, through the scopes the interpreter uses.
struct AllRoots<'a> {
    dollar: DollarScope<'a>,
    fdl: FdlMappingScope<'a>,
    sm: SmScope<'a>,
    item: &'a Value,
}

impl<'a> AllRoots<'a> {
    fn new(input: &'a Value) -> Self {
        let token = Some("dG9rZW4=");
        AllRoots {
            dollar: DollarScope(input),
            fdl: FdlMappingScope::new(
                input,
                input,
                FdlContext {
                    execution_name: "exec",
                    flow_name: FLOW_NAME,
                    step_event_id: 2,
                    task_token: token,
                },
            ),
            sm: SmScope::new(
                input,
                Some(input),
                input,
                SmContext {
                    execution_name: "exec",
                    execution_input: input,
                    role_arn: None,
                    flow_name: FLOW_NAME,
                    region: "cn-hangzhou",
                    state_name: "State",
                    retry_count: 1,
                    task_token: token,
                    error: Some(("Fuzz.Error", "a failure")),
                },
            ),
            item: input,
        }
    }
}

impl Scope for AllRoots<'_> {
    fn root(&self, root: Root) -> Option<&Value> {
        match root {
            Root::Dollar => self.dollar.root(root),
            Root::FdlInput | Root::FdlLocal | Root::FdlContext => self.fdl.root(root),
            Root::Input | Root::Output | Root::Context | Root::Global => self.sm.root(root),
            Root::Item => Some(self.item),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_flow_runs_to_its_end() {
        let text = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";
        assert!(definition(text).is_ok());
        assert!(definition("type: flow\n").is_err());
    }

    #[test]
    fn expressions_see_every_root() {
        assert!(expression("$Input.a + $.a + $input.c[0] + $Item.a").is_ok());
        assert!(expression("$Nope").is_err());
    }
}
