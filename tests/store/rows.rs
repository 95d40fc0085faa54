//! Every store row the suite writes is built here, so a change to a row's shape touches this
//! file only.

use fnf_server::store::*;

pub const PASS_DEFINITION: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";

pub fn flow(account: &str, name: &str) -> Flow {
    Flow {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: account.into(),
        name: name.into(),
        description: "d".into(),
        definition: PASS_DEFINITION.into(),
        flow_type: "FDL".into(),
        role_arn: None,
        execution_mode: "Standard".into(),
        external_storage_location: None,
        resource_group_id: None,
        environment: None,
        created_at: 1_000,
        modified_at: 1_000,
        revision: 1,
    }
}

pub fn started_event(time: i64) -> HistoryEvent {
    HistoryEvent {
        event_id: 1,
        event_type: "ExecutionStarted".into(),
        step_name: String::new(),
        time,
        schedule_event_id: 0,
        detail: "{\"input\":{}}".into(),
    }
}

pub fn event(event_id: i64, event_type: &str, time: i64) -> HistoryEvent {
    HistoryEvent {
        event_id,
        event_type: event_type.into(),
        step_name: "p".into(),
        time,
        schedule_event_id: 0,
        detail: "{}".into(),
    }
}

pub fn new_execution(
    flow: &Flow,
    name: &str,
    started_at: i64,
    lease: Option<Claim>,
) -> NewExecution {
    NewExecution {
        identity: ExecutionIdentity {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: flow.account_id.clone(),
            flow_id: flow.id.clone(),
            flow_name: flow.name.clone(),
            name: name.into(),
        },
        input: "{}".into(),
        definition: flow.definition.clone(),
        role_arn: None,
        environment: None,
        qualifier: None,
        flow_version: None,
        callback_token: None,
        started_at,
        started_event: started_event(started_at),
        lease,
        advance: None,
        map_child: None,
        running_limit: None,
        flow_revision: None,
        nonce: None,
    }
}

/// A start limited to `running_limit` running executions of its account.
pub fn limited_execution(
    flow: &Flow,
    name: &str,
    started_at: i64,
    running_limit: i64,
) -> NewExecution {
    NewExecution {
        running_limit: Some(running_limit),
        ..new_execution(flow, name, started_at, None)
    }
}

/// A start published under a version or alias.
pub fn qualified_execution(
    flow: &Flow,
    name: &str,
    started_at: i64,
    qualifier: &str,
) -> NewExecution {
    NewExecution {
        qualifier: Some(qualifier.into()),
        ..new_execution(flow, name, started_at, None)
    }
}

/// A child of a distributed Map's run `map_run`, started by `parent`.
pub fn map_child(
    flow: &Flow,
    parent: &Execution,
    map_run: &str,
    index: i64,
    at: i64,
) -> NewExecution {
    NewExecution {
        map_child: Some(MapChild {
            parent_id: parent.identity.id.clone(),
            map_run: map_run.into(),
            index,
        }),
        ..new_execution(flow, &format!("{map_run}-{index}"), at, None)
    }
}

/// A start whose first advance, already run, ended it with `status`.
pub fn ended_at_start(
    flow: &Flow,
    name: &str,
    started_at: i64,
    status: ExecutionStatus,
) -> NewExecution {
    NewExecution {
        advance: Some(InitialAdvance {
            state: "{}".into(),
            next_event_id: 3,
            events: vec![event(2, "ExecutionSucceeded", started_at)],
            end: Some(execution_end(status, started_at)),
            due_at: None,
            calls_started: Vec::new(),
            owner: "starter".into(),
            call_lease_until: started_at + 10_000,
            signals_out: Vec::new(),
            children: Vec::new(),
            map_runs: Vec::new(),
        }),
        ..new_execution(flow, name, started_at, None)
    }
}

pub fn execution_end(status: ExecutionStatus, stopped_at: i64) -> ExecutionEnd {
    ExecutionEnd {
        status,
        output: "{\"done\":true}".into(),
        error: None,
        cause: None,
        stopped_at,
    }
}

pub fn claim(owner: &str, now: i64) -> Claim {
    Claim {
        owner: owner.into(),
        now,
        lease_until: now + 10_000,
    }
}

/// An advance that writes one `StepEntered` event and waits for a signal.
pub fn commit_of(claimed: &ClaimedExecution, owner: &str, now: i64) -> ExecutionCommit {
    ExecutionCommit {
        execution_id: claimed.identity.id.clone(),
        epoch: claimed.lease_epoch,
        unleased: false,
        now,
        writes: AdvanceWrites {
            owner: owner.into(),
            state: "{}".into(),
            next_event_id: claimed.next_event_id + 1,
            events: vec![event(claimed.next_event_id, "StepEntered", now)],
            end: None,
            due_at: None,
            calls_started: Vec::new(),
            call_lease_until: now + 10_000,
            signals_out: Vec::new(),
            children: Vec::new(),
            map_runs: Vec::new(),
        },
        consumed_signals: Vec::new(),
        calls_abandoned: Vec::new(),
        nonce: None,
    }
}

pub fn forced_end(execution: &Execution, status: ExecutionStatus, now: i64) -> ForcedEnd {
    ForcedEnd {
        execution_id: execution.identity.id.clone(),
        status,
        error: Some("E".into()),
        cause: None,
        now,
        event_type: "ExecutionStopped".into(),
        detail: "{}".into(),
        signals: Vec::new(),
    }
}

pub fn signal(execution: &Execution, payload: &str) -> OutgoingSignal {
    OutgoingSignal {
        execution_id: execution.identity.id.clone(),
        payload: payload.into(),
    }
}

pub fn map_run_started(name: &str, parent: &Execution, total: i64, at: i64) -> MapRunWrite {
    MapRunWrite::Started {
        name: name.into(),
        execution_id: parent.identity.id.clone(),
        state_name: "map".into(),
        total,
        concurrency: 10,
        tolerated_count: Some(1),
        tolerated_percentage: None,
        started_at: at,
    }
}

pub fn nonce_op(access_key_id: &str, nonce: &str, now: i64, expires_at: i64) -> WriteOp {
    WriteOp::Nonce(UsedNonce {
        access_key_id: access_key_id.into(),
        nonce: nonce.into(),
        now,
        expires_at,
    })
}

pub fn schedule(flow: &Flow, name: &str, next_fire_at: Option<i64>) -> Schedule {
    Schedule {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: flow.account_id.clone(),
        flow_id: flow.id.clone(),
        name: name.into(),
        description: "s".into(),
        payload: "{}".into(),
        cron_expression: "0 * * * * *".into(),
        enable: next_fire_at.is_some(),
        created_at: 1_000,
        modified_at: 1_000,
        revision: 1,
        next_fire_at,
    }
}

pub fn alias(flow: &Flow, name: &str, routing: &[(i64, i64)]) -> FlowAlias {
    FlowAlias {
        flow_id: flow.id.clone(),
        name: name.into(),
        description: "a".into(),
        routing: routing
            .iter()
            .map(|&(version, weight)| Route { version, weight })
            .collect(),
        created_at: 1_000,
        modified_at: 1_000,
        revision: 1,
    }
}

pub fn session(token_hash: &str, last_seen_at: i64, expires_at: i64) -> ConsoleSession {
    ConsoleSession {
        token_hash: token_hash.into(),
        access_key_id: "key".into(),
        csrf_token: format!("csrf-{token_hash}"),
        created_at: 0,
        last_seen_at,
        expires_at,
    }
}
