//! What an advance writes besides its events and state: its end, its next wake-up, the
//! reports to a parent when it ends (docs/COMPATIBILITY.md#executions), the distributed Map children it starts and
//! its map runs' records.

use super::Runtime;
use super::children::map_item_signal;
use crate::engine::errors;
use crate::engine::history::EventType;
use crate::engine::run::{EndState, MapRunChange, Outcome};
use crate::engine::state::TaskOutcome;
use crate::store::{
    ClaimedExecution, ExecutionEnd, ExecutionIdentity, ExecutionStatus, MapChild, MapRunWrite,
    NewExecution, OutgoingSignal, StoreResult,
};

impl Runtime {
    /// What an advance writes besides its events: its end, its next wake-up, and the report
    /// to the task token it was started with when it ends (docs/COMPATIBILITY.md#executions).
    pub(super) async fn written_advance(
        &self,
        execution: Identity<'_>,
        outcome: &mut Outcome,
        now: i64,
    ) -> StoreResult<Written> {
        let mut signals_out = Vec::new();
        if let Some(end_state) = &outcome.end {
            let report = match end_state {
                EndState::Succeeded(output) => TaskOutcome::Success(output.clone()),
                EndState::Failed { error, cause } => TaskOutcome::failure(error, cause),
                EndState::TimedOut { cause } => TaskOutcome::failure(errors::TIMEOUT, cause),
            };
            if let Some(child) = &execution.map_child {
                signals_out.push(map_item_signal(child, report.clone()));
            }
            if let Some(token) = execution.callback_token
                && let Some(signal) = self
                    .parent_signal(execution.account_id, token, Some(execution.name), report)
                    .await?
            {
                signals_out.push(signal);
            }
        }
        let children = outcome
            .children
            .drain(..)
            .map(|child| NewExecution {
                identity: ExecutionIdentity {
                    id: uuid::Uuid::new_v4().to_string(),
                    account_id: execution.account_id.to_string(),
                    flow_id: execution.flow_id.to_string(),
                    flow_name: execution.flow_name.to_string(),
                    name: child.name,
                },
                input: child.input.to_string(),
                definition: child.definition,
                role_arn: execution.role_arn.map(str::to_string),
                environment: execution.environment.map(str::to_string),
                qualifier: None,
                flow_version: None,
                callback_token: None,
                started_at: now,
                started_event: crate::engine::history::event(
                    1,
                    crate::engine::history::EventType::ExecutionStarted,
                    "",
                    now,
                    0,
                    crate::engine::history::input_detail(&child.input),
                )
                .into(),
                lease: None,
                advance: None,
                // Bounded by their map run's concurrency, not by the account's limit.
                running_limit: None,
                flow_revision: None,
                nonce: None,
                map_child: Some(MapChild {
                    parent_id: execution.id.to_string(),
                    map_run: child.map_run,
                    index: child.index as i64,
                }),
            })
            .collect();
        let mut aborted_map_runs = Vec::new();
        let map_runs = outcome
            .map_runs
            .drain(..)
            .map(|change| match change {
                MapRunChange::Started {
                    name,
                    state_name,
                    total,
                    concurrency,
                    tolerated_failure_count,
                    tolerated_failure_percentage,
                } => MapRunWrite::Started {
                    name,
                    execution_id: execution.id.to_string(),
                    state_name,
                    total: total as i64,
                    concurrency: concurrency as i64,
                    tolerated_count: tolerated_failure_count.map(|c| c as i64),
                    tolerated_percentage: tolerated_failure_percentage,
                    started_at: now,
                },
                MapRunChange::Ended { name, status } => {
                    if status != "Succeeded" {
                        aborted_map_runs.push(name.clone());
                    }
                    MapRunWrite::Ended {
                        name,
                        status: status.to_string(),
                        stopped_at: now,
                    }
                }
            })
            .collect();
        Ok(Written {
            end: outcome.end.as_ref().map(|end| execution_end(end, now)),
            due_at: outcome.wake_at.map(|at| at.max(now)),
            signals_out,
            children,
            map_runs,
            aborted_map_runs,
            events: outcome.events.len(),
            steps: outcome
                .events
                .iter()
                .filter(|event| event.event_type == EventType::StepEntered)
                .count(),
        })
    }
}

/// What an advance writes besides its events and state.
pub(super) struct Written {
    pub end: Option<ExecutionEnd>,
    pub due_at: Option<i64>,
    pub signals_out: Vec<OutgoingSignal>,
    pub children: Vec<NewExecution>,
    pub map_runs: Vec<MapRunWrite>,
    /// Map runs that failed or were aborted: their running children are stopped.
    pub aborted_map_runs: Vec<String>,
    /// History events written, and how many of them entered a state (for the metrics).
    pub events: usize,
    pub steps: usize,
}

/// Who an advance is for (a claimed execution, or a new one).
pub(super) struct Identity<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub flow_id: &'a str,
    pub flow_name: &'a str,
    pub name: &'a str,
    pub role_arn: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub callback_token: Option<&'a str>,
    pub map_child: Option<MapChild>,
}

impl<'a> From<&'a ClaimedExecution> for Identity<'a> {
    fn from(execution: &'a ClaimedExecution) -> Self {
        Identity {
            id: &execution.identity.id,
            account_id: &execution.identity.account_id,
            flow_id: &execution.identity.flow_id,
            flow_name: &execution.identity.flow_name,
            name: &execution.identity.name,
            role_arn: execution.role_arn.as_deref(),
            environment: execution.environment.as_deref(),
            callback_token: execution.callback_token.as_deref(),
            map_child: match (
                &execution.parent_id,
                &execution.map_run,
                execution.map_index,
            ) {
                (Some(parent_id), Some(map_run), Some(index)) => Some(MapChild {
                    parent_id: parent_id.clone(),
                    map_run: map_run.clone(),
                    index,
                }),
                _ => None,
            },
        }
    }
}

impl<'a> From<&'a NewExecution> for Identity<'a> {
    fn from(execution: &'a NewExecution) -> Self {
        Identity {
            id: &execution.identity.id,
            account_id: &execution.identity.account_id,
            flow_id: &execution.identity.flow_id,
            flow_name: &execution.identity.flow_name,
            name: &execution.identity.name,
            role_arn: execution.role_arn.as_deref(),
            environment: execution.environment.as_deref(),
            callback_token: execution.callback_token.as_deref(),
            map_child: execution.map_child.clone(),
        }
    }
}

/// The stored end of an execution.
fn execution_end(end: &EndState, now: i64) -> ExecutionEnd {
    match end {
        EndState::Succeeded(output) => ExecutionEnd {
            status: ExecutionStatus::Succeeded,
            output: output.to_string(),
            error: None,
            cause: None,
            stopped_at: now,
        },
        EndState::Failed { error, cause } => ExecutionEnd {
            status: ExecutionStatus::Failed,
            output: String::new(),
            error: Some(error.clone()),
            cause: Some(cause.clone()),
            stopped_at: now,
        },
        EndState::TimedOut { cause } => ExecutionEnd {
            status: ExecutionStatus::TimedOut,
            output: String::new(),
            error: Some(errors::TIMEOUT.into()),
            cause: Some(cause.clone()),
            stopped_at: now,
        },
    }
}
