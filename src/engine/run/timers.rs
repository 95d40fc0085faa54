//! What an execution waits for between advances: its timers (in engine time) and whether
//! outside work is under way, which decides how virtual time passes (see `engine::clock`).

use super::super::clock::Waiting;
use super::super::ir::{FlowDefinition, Scope, StateKind, TaskTarget};
use super::super::state::{Cursor, ExecutionState, ScopeRun, TaskPhase, Work};

/// What an execution waits for: its earliest timer (the execution's own timeout included)
/// and whether work outside it (a call, a child execution) is under way.
pub(super) fn waiting(definition: &FlowDefinition, state: &ExecutionState) -> Waiting {
    let timer = next_timer(&state.root);
    Waiting {
        next_timer: match (timer, state.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        on_work: awaits_work(&definition.root, &state.root),
    }
}

/// A call in flight or a child execution running anywhere under a scope.
fn awaits_work(scope: &Scope, run: &ScopeRun) -> bool {
    let Cursor::Running(state_run) = &run.cursor else {
        return false;
    };
    let Some(state) = scope.states.get(state_run.index) else {
        return false;
    };
    match (&state.kind, &state_run.work) {
        (StateKind::Task(spec), Work::Task(task)) => match task.phase {
            TaskPhase::Calling { .. } => true,
            // Waiting for a child execution's end, rather than for someone's callback.
            TaskPhase::Submitted => matches!(
                spec.target,
                TaskTarget::FdlFlow { .. } | TaskTarget::StartExecution(_)
            ),
            TaskPhase::Finished(_) | TaskPhase::Lost => false,
        },
        (StateKind::Parallel(spec), Work::Parallel { branches }) => branches.iter().any(|branch| {
            spec.branches
                .get(branch.index)
                .is_some_and(|scope| awaits_work(scope, &branch.scope))
        }),
        (StateKind::Map(spec), Work::Map(map)) => map
            .running
            .iter()
            .any(|iteration| awaits_work(&spec.processor, &iteration.scope)),
        (StateKind::Choice(spec), Work::ChoiceBody { option, body, .. }) => {
            let target = match option {
                Some(index) => spec.options.get(*index).map(|option| &option.target),
                None => spec.default.as_ref(),
            };
            target
                .and_then(|target| target.steps.as_ref())
                .is_some_and(|steps| awaits_work(steps, body))
        }
        (_, Work::DistributedMap(_)) => true,
        _ => false,
    }
}

/// The earliest timer under a scope: waits, retry delays, task timeouts.
fn next_timer(scope: &ScopeRun) -> Option<i64> {
    let Cursor::Running(state) = &scope.cursor else {
        return None;
    };
    match &state.work {
        Work::Wait { until } | Work::RetryDelay { until } => Some(*until),
        Work::Task(task) => match task.phase {
            TaskPhase::Calling { .. } | TaskPhase::Submitted => task.timeout_at,
            // Finished / lost attempts are handled on the next drive: wake at once.
            TaskPhase::Finished(_) | TaskPhase::Lost => Some(i64::MIN),
        },
        Work::Parallel { branches } => branches
            .iter()
            .filter_map(|branch| next_timer(&branch.scope))
            .min(),
        Work::Map(map) => map
            .running
            .iter()
            .filter_map(|iteration| next_timer(&iteration.scope))
            .min(),
        Work::ChoiceBody { body, .. } => next_timer(body),
        // Children report their ends; an exceeded tolerance is handled on the next drive.
        Work::DistributedMap(run) => run.exceeded.as_ref().map(|_| i64::MIN),
        Work::Ready => Some(i64::MIN),
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::engine::parse::{ParseOptions, parse_definition};

    /// Runs a definition at scale 0 to its end, advancing whenever it asks to, with the wall
    /// clock standing still.
    fn run_at_zero(text: &str) -> (Vec<EventType>, Option<EndState>) {
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
        let ctx = RunContext {
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
            time_scale: TimeScale::new(0.0).unwrap(),
            mocks: None,
        };
        let (mut state, mut outcome) = start(&ctx);
        let mut types: Vec<EventType> = Vec::new();
        for _ in 0..20 {
            types.extend(outcome.events.iter().map(|e| e.event_type));
            if outcome.end.is_some() {
                break;
            }
            assert_eq!(outcome.wake_at, Some(1_000), "{state:?}");
            outcome = resume(&ctx, &mut state, &[]).0;
        }
        (types, outcome.end)
    }

    #[test]
    fn at_zero_timers_fire_in_the_order_of_their_durations() {
        let flow = |wait: u32| {
            format!(
                "version: v1\ntype: flow\ntimeoutSeconds: 3600\nsteps:\n  - type: wait\n    name: hold\n    duration: {wait}\n"
            )
        };
        let (_, end) = run_at_zero(&flow(10));
        assert!(matches!(end, Some(EndState::Succeeded(_))), "{end:?}");
        let (_, end) = run_at_zero(&flow(7200));
        assert!(matches!(end, Some(EndState::TimedOut { .. })), "{end:?}");
    }
}
