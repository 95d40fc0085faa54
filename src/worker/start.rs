//! Starting executions: StartExecution, schedules' fires and nested flows' children.

use std::sync::Arc;

use serde_json::Value;

use super::commit::Identity;
use super::history_rows::history_rows;
use super::{Hint, Runtime};
use crate::engine::history::{self, EventType};
use crate::engine::mocks::Mocks;
use crate::engine::run::{self, RunContext};
use crate::store::{
    Claim, ClaimedExecution, ExecutionIdentity, Flow, FlowVersion, InitialAdvance, NewExecution,
    StartOutcome, StoreError, StoreResult, UsedNonce, WriteOp, WriteResult,
};
use crate::testing::TestCase;
use crate::time::now_ms;

impl Runtime {
    /// StartExecution: runs the execution's first advance in memory and writes the execution,
    /// its first events and its next wake-up (or its end) in one transaction, shared with
    /// other starts (group commit). A flow that needs no outside call is thus written once.
    pub async fn start_execution(
        self: &Arc<Self>,
        request: StartRequest,
    ) -> StoreResult<StartOutcome> {
        let now = now_ms();
        let name = request
            .name
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        // Callers pass data read with the same limit; should it not read, the execution is
        // stored unrun and fails at its first advance, saying why.
        let input_value = if request.input.is_empty() {
            Some(crate::engine::data::empty_object())
        } else {
            crate::engine::json::parse_data(&request.input).ok()
        };
        // docs/COMPATIBILITY.md#executions: the execution keeps the definition, role and environment it runs.
        let (definition, role_arn, environment) = match &request.flow_version {
            Some(version) => (&version.definition, &version.role_arn, &version.environment),
            None => (
                &request.flow.definition,
                &request.flow.role_arn,
                &request.flow.environment,
            ),
        };
        let mut started_detail =
            history::input_detail(input_value.as_ref().unwrap_or(&Value::Null));
        if let (Some(Value::Object(extra)), Some(detail)) =
            (request.started_by, started_detail.as_object_mut())
        {
            detail.extend(extra);
        }
        if let (Some(case), Some(detail)) = (&request.test_case, started_detail.as_object_mut()) {
            detail.insert("testCase".into(), Value::from(case.name.as_str()));
        }
        let mut new = NewExecution {
            identity: ExecutionIdentity {
                id: uuid::Uuid::new_v4().to_string(),
                account_id: request.flow.account_id.clone(),
                flow_id: request.flow.id.clone(),
                flow_name: request.flow.name.clone(),
                name,
            },
            input: request.input,
            definition: definition.clone(),
            role_arn: role_arn.clone(),
            environment: execution_environment(environment.as_deref()),
            qualifier: request.qualifier,
            flow_version: request
                .flow_version
                .map(|version| version.version.to_string()),
            callback_token: request.callback_token,
            started_at: now,
            started_event: history::event(
                1,
                EventType::ExecutionStarted,
                "",
                now,
                0,
                started_detail,
            )
            .into(),
            lease: None,
            advance: None,
            map_child: None,
            running_limit: Some(self.config.max_running_executions),
            flow_revision: request.flow_from_cache.then_some(request.flow.revision),
            nonce: request.nonce,
        };
        let mut effects = None;
        match (
            self.definitions
                .get(&new.definition, &new.identity.flow_name, false),
            &input_value,
        ) {
            (Ok(parsed), Some(input_value)) => {
                let ctx = RunContext {
                    definition: &parsed,
                    account_id: &new.identity.account_id,
                    flow_name: &new.identity.flow_name,
                    execution_name: &new.identity.name,
                    execution_id: &new.identity.id,
                    execution_input: input_value,
                    role_arn: new.role_arn.as_deref(),
                    region: &self.config.region,
                    tokens: &self.tokens,
                    express: false,
                    now,
                    time_scale: self.config.time_scale,
                    mocks: request.test_case.as_deref().map(|case| case as &dyn Mocks),
                };
                let (state, mut outcome) = run::start(&ctx);
                let written = self
                    .written_advance(Identity::from(&new), &mut outcome, now)
                    .await?;
                new.advance = Some(InitialAdvance {
                    state: serde_json::to_string(&state).expect("execution state serializes"),
                    next_event_id: state.next_event_id,
                    events: history_rows(outcome.events),
                    end: written.end.clone(),
                    due_at: written.due_at,
                    calls_started: outcome
                        .calls
                        .iter()
                        .map(|call| call.call_key.clone())
                        .collect(),
                    owner: self.config.owner.clone(),
                    call_lease_until: now + self.lease_ms(),
                    signals_out: written.signals_out.clone(),
                    children: written.children.clone(),
                    map_runs: written.map_runs.clone(),
                });
                effects = Some((outcome.calls, written));
            }
            // Not runnable here: lease it to our workers, which fail it with the reason.
            _ => {
                new.lease = Some(Claim {
                    owner: self.config.owner.clone(),
                    now,
                    lease_until: now + self.lease_ms(),
                });
            }
        }
        let written = self
            .batcher
            .write(WriteOp::Start(Box::new(new.clone())))
            .await;
        if written.is_err()
            && let Some(advance) = &new.advance
            && !advance.calls_started.is_empty()
        {
            // The start may have committed all the same: see `forget_calls`.
            let (runtime, id, calls) = (
                self.clone(),
                new.identity.id.clone(),
                advance.calls_started.clone(),
            );
            tokio::spawn(async move { runtime.forget_calls(&id, &calls).await });
        }
        let outcome = match written? {
            WriteResult::Started(outcome) => *outcome,
            other => {
                return Err(StoreError::internal(format!(
                    "unexpected write result {other:?}"
                )));
            }
        };
        if let StartOutcome::Started(_) = &outcome {
            self.metrics.executions_started.inc();
            // ExecutionStarted.
            self.metrics.history_events.inc();
            match effects {
                Some((calls, written)) => {
                    self.after_commit(
                        &new.identity.id,
                        &new.identity.account_id,
                        calls,
                        &written,
                        now,
                    )
                    .await;
                }
                None => self.hint(Hint::Claimed(Box::new(ClaimedExecution {
                    identity: new.identity,
                    input: new.input,
                    definition: new.definition,
                    role_arn: new.role_arn,
                    environment: new.environment,
                    callback_token: new.callback_token,
                    started_at: now,
                    state: None,
                    next_event_id: 2,
                    lease_epoch: 1,
                    parent_id: None,
                    map_run: None,
                    map_index: None,
                }))),
            }
        }
        Ok(outcome)
    }
}

/// What StartExecution (or a parent task) asks for.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub flow: Flow,
    pub name: Option<String>,
    /// JSON object text, or "".
    pub input: String,
    pub callback_token: Option<String>,
    /// The `Qualifier` given, recorded as is (docs/COMPATIBILITY.md#versions-and-aliases).
    pub qualifier: Option<String>,
    /// The published version the execution runs; `None` runs the flow's latest configuration.
    pub flow_version: Option<FlowVersion>,
    /// Who started it besides a caller, merged into the `ExecutionStarted` detail (e.g.
    /// `{"schedule": {…}}` for a schedule's fire).
    pub started_by: Option<Value>,
    /// The test case whose mocks answer its tasks (`FlowName=<flow>#<TestCase>`).
    pub test_case: Option<Arc<TestCase>>,
    /// `flow` came from a cache: write only if the flow still has its revision, else answer
    /// `StartOutcome::StaleFlow` and write nothing.
    pub flow_from_cache: bool,
    /// The nonce of the request asking for the start, recorded with it (see
    /// `NewExecution::nonce`).
    pub nonce: Option<UsedNonce>,
}

/// Executions record the flow's variables with `Name` and `Value` only (docs/COMPATIBILITY.md#flows).
pub fn execution_environment(flow_environment: Option<&str>) -> Option<String> {
    let environment: Value = serde_json::from_str(flow_environment?).ok()?;
    let variables: Vec<Value> = environment
        .get("Variables")?
        .as_array()?
        .iter()
        .map(|variable| {
            serde_json::json!({
                "Name": variable.get("Name").cloned().unwrap_or_default(),
                "Value": variable.get("Value").cloned().unwrap_or_default(),
            })
        })
        .collect();
    Some(serde_json::json!({"Variables": variables}).to_string())
}
