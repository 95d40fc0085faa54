//! Parent and child executions: nested flows' children, their ends reported to the parent's
//! task token, and distributed Maps' runs and items.

use std::sync::Arc;

use serde_json::Value;

use super::start::StartRequest;
use super::{Hint, Runtime};
use crate::engine::calls::ChildShape;
use crate::engine::errors;
use crate::engine::state::{SignalPayload, TaskOutcome};
use crate::engine::tokens::{TokenCodec, TokenScope};
use crate::error::error_chain;
use crate::store::{MapChild, OutgoingSignal, StartOutcome, StoreResult};
use crate::time::now_ms;

impl Runtime {
    /// UpdateMapRun: tells the running Map about new values (docs/COMPATIBILITY.md#map-runs).
    pub async fn map_run_updated(
        &self,
        execution_id: &str,
        map_run: &str,
        concurrency: Option<i64>,
        tolerated_count: Option<i64>,
        tolerated_percentage: Option<f64>,
    ) -> StoreResult<()> {
        let payload = SignalPayload::MapRunUpdated {
            map_run: map_run.to_string(),
            concurrency: concurrency.and_then(|c| usize::try_from(c).ok()),
            tolerated_failure_count: tolerated_count.and_then(|c| u64::try_from(c).ok()),
            tolerated_failure_percentage: tolerated_percentage,
        };
        let signal = OutgoingSignal {
            execution_id: execution_id.to_string(),
            payload: serde_json::to_string(&payload).expect("signals serialize"),
        };
        self.store.push_signal(&signal, now_ms()).await?;
        self.hint(Hint::Execution(execution_id.to_string()));
        Ok(())
    }

    /// Stops the children of a map run that failed or was aborted.
    pub(super) async fn stop_map_children(&self, map_run: &str) {
        let children = match self.store.running_map_children(map_run).await {
            Ok(children) => children,
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), map_run, "listing a map run's children failed");
                return;
            }
        };
        for child in children {
            let stopped = Box::pin(self.stop_execution(
                &child,
                Some(errors::MAP_RUN_ABORTED.into()),
                Some(format!("map run {map_run} ended")),
            ))
            .await;
            if let Err(error) = stopped {
                tracing::warn!(error = %error_chain(&error), execution_id = %child.identity.id, "stopping a map run's child failed");
            }
        }
    }

    /// The signal that reports an ended child (`reporter`, its name) to its parent's task
    /// token (docs/COMPATIBILITY.md#executions); `None` (logged) when the token designates nothing.
    pub(super) async fn parent_signal(
        &self,
        account_id: &str,
        token: &str,
        reporter: Option<&str>,
        outcome: TaskOutcome,
    ) -> StoreResult<Option<OutgoingSignal>> {
        let ignored = |why: &str| {
            tracing::info!(
                reason = why,
                "the callback token of an ended execution is ignored"
            );
            Ok(None)
        };
        let Some(parts) = TokenCodec::decode(token) else {
            return ignored("not a task token");
        };
        let Some(flow) = self.store.get_flow(account_id, &parts.flow_name).await? else {
            return ignored("its flow does not exist");
        };
        let Some(parent) = self
            .store
            .get_execution(&flow.id, &parts.execution_name)
            .await?
        else {
            // A synchronous parent running here gets the report directly.
            if let Some(run) = self
                .express
                .find(account_id, &flow.name, &parts.execution_name)
            {
                let scope = TokenScope {
                    account_id,
                    flow_name: &flow.name,
                    execution_name: &parts.execution_name,
                    execution_id: &run.execution_id,
                };
                if self.tokens.verify(&parts, scope) {
                    let signal = SignalPayload::Callback {
                        entered_id: parts.entered_id,
                        attempt: parts.attempt,
                        outcome,
                        submitted: reporter.map(Value::from),
                    };
                    let _ = run.signals.send((signal, None));
                    return Ok(None);
                }
            }
            return ignored("its execution does not exist");
        };
        let scope = TokenScope {
            account_id,
            flow_name: &flow.name,
            execution_name: &parent.identity.name,
            execution_id: &parent.identity.id,
        };
        if !self.tokens.verify(&parts, scope) {
            return ignored("it does not verify");
        }
        let payload = SignalPayload::Callback {
            entered_id: parts.entered_id,
            attempt: parts.attempt,
            outcome,
            submitted: reporter.map(Value::from),
        };
        Ok(Some(OutgoingSignal {
            execution_id: parent.identity.id,
            payload: serde_json::to_string(&payload).expect("signals serialize"),
        }))
    }

    /// Starts a child execution for a task (nested flows, docs/COMPATIBILITY.md#fdl-tasks, docs/COMPATIBILITY.md#state-machine-tasks).
    pub(super) async fn start_child(
        self: &Arc<Self>,
        account_id: &str,
        flow_name: &str,
        execution_name: Option<String>,
        input: &Value,
        callback_token: Option<String>,
        shape: ChildShape,
    ) -> TaskOutcome {
        let flow = match self.store.get_flow(account_id, flow_name).await {
            Ok(Some(flow)) => flow,
            Ok(None) => {
                return TaskOutcome::failure(
                    "fnf.FlowNotExists",
                    format!("Flow {flow_name} does not exist."),
                );
            }
            Err(error) => {
                return TaskOutcome::failure("fnf.InternalServerError", error.to_string());
            }
        };
        if flow.execution_mode == "Express" {
            return TaskOutcome::failure(
                "fnf.ActionNotSupported",
                "Express execution is not supported.",
            );
        }
        if let Some(name) = &execution_name
            && let Err(reason) = crate::names::check_name(name)
        {
            return TaskOutcome::failure(
                "fnf.InvalidArgument",
                format!("Parameter error: ExecutionName {reason}"),
            );
        }
        let request = StartRequest {
            flow,
            name: execution_name,
            input: input.to_string(),
            callback_token,
            qualifier: None,
            flow_version: None,
            started_by: None,
            test_case: None,
            flow_from_cache: false,
            nonce: None,
        };
        match self.start_execution(request).await {
            Ok(StartOutcome::Started(child) | StartOutcome::Running(child)) => {
                TaskOutcome::Success(match shape {
                    ChildShape::Fdl => serde_json::json!({
                        "FlowName": child.identity.flow_name,
                        "ExecutionName": child.identity.name,
                    }),
                    ChildShape::StateMachine => serde_json::json!({
                        "FlowName": child.identity.flow_name,
                        "ExecutionName": child.identity.name,
                        "RequestID": uuid::Uuid::new_v4().to_string().to_uppercase(),
                    }),
                    ChildShape::Submission => Value::from(child.identity.name),
                })
            }
            Ok(StartOutcome::AlreadyEnded(child)) => TaskOutcome::failure(
                "fnf.ExecutionAlreadyExists",
                format!(
                    "Execution {} for flow {} already exists.",
                    child.identity.name, child.identity.flow_name
                ),
            ),
            Ok(StartOutcome::Throttled) => TaskOutcome::failure(
                "fnf.ResourceThrottled",
                format!(
                    "The account already has the maximum of {} running executions.",
                    self.config.max_running_executions
                ),
            ),
            // Not asked for: the flow was just read, not cached.
            Ok(StartOutcome::StaleFlow) => TaskOutcome::failure(
                "fnf.InternalServerError",
                "The flow changed while the execution started.".to_string(),
            ),
            // Not asked for: no request's nonce guards a child's start.
            Ok(StartOutcome::NonceUsed) => TaskOutcome::failure(
                "fnf.InternalServerError",
                "The start was refused as a replay.".to_string(),
            ),
            Err(error) => TaskOutcome::failure("fnf.InternalServerError", error.to_string()),
        }
    }
}

/// Reports a distributed Map child's end to its parent (docs/COMPATIBILITY.md#distributed-map).
pub(super) fn map_item_signal(child: &MapChild, outcome: TaskOutcome) -> OutgoingSignal {
    let payload = SignalPayload::MapItemEnded {
        map_run: child.map_run.clone(),
        index: usize::try_from(child.index).unwrap_or_default(),
        outcome,
    };
    OutgoingSignal {
        execution_id: child.parent_id.clone(),
        payload: serde_json::to_string(&payload).expect("signals serialize"),
    }
}
