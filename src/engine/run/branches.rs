//! Parallel (docs/COMPATIBILITY.md#fdl-steps, docs/COMPATIBILITY.md#state-machine-states) and foreach / inline Map (docs/COMPATIBILITY.md#fdl-steps, docs/COMPATIBILITY.md#state-machine-states).

use serde_json::{Map, Value, json};

use super::super::data;
use super::super::history::EventType;
use super::super::ir::{Language, MapSpec, ParallelSpec, Scope, State};
use super::super::state::{BranchRun, Cursor, IterationRun, MapRun, ScopeRun, StateRun, Work};
use super::Advance;
use super::scope::{Completion, Drive, Then};
use crate::engine::errors;

impl<'a> Advance<'a> {
    pub(super) fn drive_parallel(
        &mut self,
        state: &'a State,
        spec: &'a ParallelSpec,
        run: &mut StateRun,
    ) -> Drive {
        if let Work::Ready = run.work {
            run.attempt += 1;
            let mut branches = Vec::with_capacity(spec.branches.len());
            for (index, branch) in spec.branches.iter().enumerate() {
                let entered_id = self.emit(
                    EventType::BranchEntered,
                    &state.name,
                    run.entered_id,
                    json!({"index": index}),
                );
                branches.push(BranchRun {
                    index,
                    entered_id,
                    scope: self.child_scope(branch, entered_id, &run.input),
                    exited: false,
                });
            }
            run.work = Work::Parallel { branches };
        }
        let Work::Parallel { branches } = &mut run.work else {
            return Drive::Blocked;
        };
        for position in 0..branches.len() {
            if branches[position].exited {
                continue;
            }
            let branch_ir = &spec.branches[branches[position].index];
            self.drive_scope(branch_ir, &mut branches[position].scope);
            if self.limit_hit {
                return Drive::Blocked;
            }
            let branch = &mut branches[position];
            match &branch.scope.cursor {
                Cursor::Done { output } => {
                    let detail = json!({"index": branch.index, "output": output});
                    self.emit(
                        EventType::BranchExited,
                        &state.name,
                        branch.entered_id,
                        detail,
                    );
                    branch.exited = true;
                }
                Cursor::Failed { error, cause } => {
                    // A failing branch fails the Parallel and cancels the others (docs/COMPATIBILITY.md#q25).
                    let (error, cause) = (error.clone(), cause.clone());
                    for branch in branches.iter() {
                        self.abandon_scope(&branch.scope);
                    }
                    return Drive::Fail { error, cause };
                }
                _ => {}
            }
        }
        if !branches.iter().all(|branch| branch.exited) {
            return Drive::Blocked;
        }
        let outputs = branches.iter().map(|branch| scope_output(&branch.scope));
        let value = match self.ctx.language() {
            // FDL: the array of branch locals; state machine: {"Branch0": …, …}.
            Language::Fdl => Value::Array(outputs.collect()),
            Language::StateMachine => Value::Object(
                outputs
                    .enumerate()
                    .map(|(index, output)| (format!("Branch{index}"), output))
                    .collect::<Map<_, _>>(),
            ),
        };
        Drive::Complete(Completion {
            value,
            then: Then::Next,
        })
    }

    pub(super) fn drive_map(
        &mut self,
        state: &'a State,
        spec: &'a MapSpec,
        run: &mut StateRun,
    ) -> Drive {
        if let Some(distributed) = &spec.distributed {
            return self.drive_distributed_map(state, spec, distributed, run);
        }
        if let Work::Ready = run.work {
            run.attempt += 1;
            let items = match self.eval_on_input(state, &spec.items, run) {
                Ok(Value::Array(items)) => items,
                Ok(other) => {
                    return Drive::Fail {
                        error: errors::RUNTIME.into(),
                        cause: format!(
                            "'{}' must evaluate to an array, got {}",
                            spec.items.source(),
                            type_name(&other)
                        ),
                    };
                }
                Err(error) => {
                    return Drive::Fail {
                        error: errors::RUNTIME.into(),
                        cause: error.0,
                    };
                }
            };
            let count = items.len();
            run.work = Work::Map(Box::new(MapRun {
                items,
                next_item: 0,
                concurrency: spec.max_concurrency.max(1),
                running: Vec::new(),
                results: vec![None; count],
            }));
        }
        let Work::Map(map) = &mut run.work else {
            return Drive::Blocked;
        };
        loop {
            // A sliding window: start iterations while there is room (docs/COMPATIBILITY.md#fdl-steps).
            while map.running.len() < map.concurrency && map.next_item < map.items.len() {
                let index = map.next_item;
                map.next_item += 1;
                let element = std::mem::take(&mut map.items[index]);
                let input = match (&spec.item_key, self.ctx.language()) {
                    (Some(item_key), Language::Fdl) => {
                        let mut added = Map::new();
                        added.insert(item_key.clone(), element);
                        if let Some(index_key) = &spec.index_key {
                            added.insert(index_key.clone(), Value::from(index));
                        }
                        data::merge(&run.input, &Value::Object(added))
                    }
                    _ => element,
                };
                let detail = json!({"index": index, "input": input});
                let entered_id = self.emit(
                    EventType::IterationEntered,
                    &state.name,
                    run.entered_id,
                    detail,
                );
                map.running.push(IterationRun {
                    index,
                    entered_id,
                    scope: self.child_scope(&spec.processor, entered_id, &input),
                });
            }
            let mut finished_any = false;
            let mut position = 0;
            while position < map.running.len() {
                self.drive_scope(&spec.processor, &mut map.running[position].scope);
                if self.limit_hit {
                    return Drive::Blocked;
                }
                let iteration = &map.running[position];
                match &iteration.scope.cursor {
                    Cursor::Done { output } => {
                        let detail = json!({"index": iteration.index, "output": output});
                        self.emit(
                            EventType::IterationExited,
                            &state.name,
                            iteration.entered_id,
                            detail,
                        );
                        let done = map.running.remove(position);
                        map.results[done.index] = Some(scope_output(&done.scope));
                        finished_any = true;
                    }
                    Cursor::Failed { error, cause } => {
                        let (error, cause) = (error.clone(), cause.clone());
                        for iteration in &map.running {
                            self.abandon_scope(&iteration.scope);
                        }
                        return Drive::Fail { error, cause };
                    }
                    _ => position += 1,
                }
            }
            let more_to_start = map.next_item < map.items.len();
            if !(finished_any && more_to_start) {
                break;
            }
        }
        if !map.running.is_empty() || map.next_item < map.items.len() {
            return Drive::Blocked;
        }
        let results: Vec<Value> = map
            .results
            .iter_mut()
            .map(|result| result.take().unwrap_or(Value::Null))
            .collect();
        let value = match self.ctx.language() {
            Language::Fdl => Value::Array(results),
            Language::StateMachine => json!({"Items": results}),
        };
        Drive::Complete(Completion {
            value,
            then: Then::Next,
        })
    }

    /// A branch or iteration scope: its states see `input` as their parent input (FDL) or
    /// first raw input (state machine), and its local starts empty.
    fn child_scope(&self, scope: &Scope, opened_by: i64, input: &Value) -> ScopeRun {
        ScopeRun {
            opened_by,
            input: input.clone(),
            local: data::empty_object(),
            cursor: Cursor::Enter {
                index: scope.start,
                raw: input.clone(),
            },
        }
    }
}

/// The output of a finished scope.
fn scope_output(scope: &ScopeRun) -> Value {
    match &scope.cursor {
        Cursor::Done { output } => output.clone(),
        _ => Value::Null,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
