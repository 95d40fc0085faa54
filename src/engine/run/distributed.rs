//! The distributed Map (docs/COMPATIBILITY.md#state-machine-states): each item (or batch) runs as a child
//! execution of its own, grouped in a map run; the Map waits for their ends, starts more as
//! they finish (up to its concurrency), and fails when more fail than it tolerates.

use serde_json::{Value, json};

use super::super::data::{self, SmScope};
use super::super::expr::{Root, Scope as ExprScope};
use super::super::history::EventType;
use super::super::ir::{DistributedSpec, MapSpec, State};
use super::super::state::{DistributedRun, StateRun, TaskOutcome, Work};
use super::scope::{Completion, Drive, Then};
use super::{Advance, ChildStart, MapRunChange, SignalResult};
use crate::engine::errors;

/// `$Item` on top of the state machine roots (ItemConstructor).
struct ItemScope<'a> {
    base: SmScope<'a>,
    item: &'a Value,
}

impl ExprScope for ItemScope<'_> {
    fn root(&self, root: Root) -> Option<&Value> {
        match root {
            Root::Item => Some(self.item),
            other => self.base.root(other),
        }
    }
}

impl<'a> Advance<'a> {
    pub(super) fn drive_distributed_map(
        &mut self,
        state: &'a State,
        spec: &'a MapSpec,
        distributed: &'a DistributedSpec,
        run: &mut StateRun,
    ) -> Drive {
        if let Work::Ready = run.work {
            run.attempt += 1;
            let inputs = match self.child_inputs(state, spec, distributed, run) {
                Ok(inputs) => inputs,
                Err(cause) => {
                    return Drive::Fail {
                        error: errors::RUNTIME.into(),
                        cause,
                    };
                }
            };
            let map_run = uuid::Uuid::new_v4().to_string();
            self.emit(
                EventType::MapRunStarted,
                &state.name,
                run.entered_id,
                json!({"output": {"MapRunName": map_run}}),
            );
            self.map_runs.push(MapRunChange::Started {
                name: map_run.clone(),
                state_name: state.name.clone(),
                total: inputs.len(),
                concurrency: spec.max_concurrency,
                tolerated_failure_count: distributed.tolerated_failure_count,
                tolerated_failure_percentage: distributed.tolerated_failure_percentage,
            });
            run.work = Work::DistributedMap(Box::new(DistributedRun {
                map_run,
                results: vec![None; inputs.len()],
                inputs,
                next: 0,
                running: Vec::new(),
                failed: 0,
                concurrency: spec.max_concurrency,
                tolerated_failure_count: distributed.tolerated_failure_count,
                tolerated_failure_percentage: distributed.tolerated_failure_percentage,
                exceeded: None,
            }));
        }
        let Work::DistributedMap(map) = &mut run.work else {
            return Drive::Blocked;
        };
        if let Some(cause) = map.exceeded.take() {
            self.emit(
                EventType::MapRunFailed,
                &state.name,
                run.entered_id,
                json!({"output": {"MapRunName": map.map_run}, "error": errors::EXCEEDED_TOLERANCE, "cause": cause}),
            );
            self.map_runs.push(MapRunChange::Ended {
                name: map.map_run.clone(),
                status: "Failed",
            });
            return Drive::Fail {
                error: errors::EXCEEDED_TOLERANCE.into(),
                cause,
            };
        }
        while map.running.len() < map.concurrency.max(1) && map.next < map.inputs.len() {
            let index = map.next;
            map.next += 1;
            self.children.push(ChildStart {
                map_run: map.map_run.clone(),
                index,
                name: format!("{}-{index}", map.map_run),
                input: std::mem::take(&mut map.inputs[index]),
                definition: distributed.child_definition.clone(),
            });
            map.running.push(index);
        }
        if !map.running.is_empty() || map.next < map.inputs.len() {
            return Drive::Blocked;
        }
        self.emit(
            EventType::MapRunSucceeded,
            &state.name,
            run.entered_id,
            json!({"output": {"MapRunName": map.map_run}}),
        );
        self.map_runs.push(MapRunChange::Ended {
            name: map.map_run.clone(),
            status: "Succeeded",
        });
        let items: Vec<Value> = map
            .results
            .iter_mut()
            .map(|result| result.take().unwrap_or(Value::Null))
            .collect();
        Drive::Complete(Completion {
            value: json!({ "Items": items }),
            then: Then::Next,
        })
    }

    /// The children's inputs: `ItemsPath`, capped at `MaxItems`, each built by
    /// `ItemConstructor`, grouped by `ItemBatcher`.
    fn child_inputs(
        &self,
        state: &'a State,
        spec: &'a MapSpec,
        distributed: &'a DistributedSpec,
        run: &StateRun,
    ) -> Result<Vec<Value>, String> {
        let mut items = match self.eval_on_input(state, &spec.items, run) {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                return Err(format!(
                    "'{}' must evaluate to an array, got {other}",
                    spec.items.source()
                ));
            }
            Err(error) => return Err(error.0),
        };
        let limit = distributed
            .max_items
            .unwrap_or(super::super::ir::limits::DISTRIBUTED_MAP_ITEMS);
        items.truncate(limit);
        if let Some(constructor) = &distributed.item_constructor {
            let mut built = Vec::with_capacity(items.len());
            for item in &items {
                let scope = ItemScope {
                    base: SmScope::new(
                        &run.input,
                        None,
                        &self.global,
                        self.sm_context(state, run.retry_count(), None, None),
                    ),
                    item,
                };
                let value = data::build_template(constructor, &scope)
                    .map_err(|e| format!("ItemConstructor: {}", e.0))?;
                built.push(value);
            }
            items = built;
        }
        Ok(match distributed.batch_size {
            Some(size) => items
                .chunks(size.max(1))
                .map(|batch| json!({ "Items": batch }))
                .collect(),
            None => items,
        })
    }
}

/// A child ended: record its result and count failures against the tolerance.
pub(super) fn item_ended(
    map: &mut DistributedRun,
    index: usize,
    outcome: &TaskOutcome,
) -> SignalResult {
    let Some(position) = map.running.iter().position(|running| *running == index) else {
        return SignalResult::Stale;
    };
    map.running.remove(position);
    match outcome {
        TaskOutcome::Success(output) => map.results[index] = Some(output.clone()),
        TaskOutcome::Failure { error, cause } => {
            map.failed += 1;
            map.results[index] = Some(json!({"Error": error, "Cause": cause}));
            check_tolerance(map);
        }
    }
    SignalResult::Applied(0)
}

/// UpdateMapRun: more (or fewer) children at once, other tolerances.
pub(super) fn map_run_updated(
    map: &mut DistributedRun,
    concurrency: Option<usize>,
    tolerated_failure_count: Option<u64>,
    tolerated_failure_percentage: Option<f64>,
) -> SignalResult {
    if let Some(concurrency) = concurrency {
        map.concurrency = concurrency;
    }
    if tolerated_failure_count.is_some() {
        map.tolerated_failure_count = tolerated_failure_count;
    }
    if tolerated_failure_percentage.is_some() {
        map.tolerated_failure_percentage = tolerated_failure_percentage;
    }
    check_tolerance(map);
    SignalResult::Applied(0)
}

/// With neither tolerance set, any failure fails the Map; otherwise exceeding either does.
fn check_tolerance(map: &mut DistributedRun) {
    if map.failed == 0 || map.exceeded.is_some() {
        return;
    }
    let total = map.inputs.len().max(1) as f64;
    let percentage = map.failed as f64 * 100.0 / total;
    let exceeded = match (
        map.tolerated_failure_count,
        map.tolerated_failure_percentage,
    ) {
        (None, None) => true,
        (count, share) => {
            count.is_some_and(|count| map.failed > count)
                || share.is_some_and(|share| percentage > share)
        }
    };
    if exceeded {
        map.exceeded = Some(format!(
            "{} of {} children failed, more than the map run tolerates",
            map.failed,
            map.inputs.len()
        ));
    }
}
