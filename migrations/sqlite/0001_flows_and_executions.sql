-- Flows, executions with their durable engine state, history, signals, in-flight task calls,
-- nonces and server keys: everything the gateway and the engine need.
-- Times are milliseconds since the Unix epoch (INTEGER) and JSON is TEXT, so both backends
-- share one set of queries.

CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    definition TEXT NOT NULL,
    flow_type TEXT NOT NULL,
    role_arn TEXT,
    execution_mode TEXT NOT NULL,
    external_storage_location TEXT,
    resource_group_id TEXT,
    environment TEXT,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    flow_name TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    error TEXT,
    cause TEXT,
    definition TEXT NOT NULL,
    role_arn TEXT,
    environment TEXT,
    qualifier TEXT,
    flow_version TEXT,
    callback_token TEXT,
    started_at INTEGER NOT NULL,
    stopped_at INTEGER,
    -- engine state (serde document), the next history event id, and the work-queue columns
    state TEXT,
    next_event_id INTEGER NOT NULL,
    due_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    lease_epoch INTEGER NOT NULL DEFAULT 0,
    UNIQUE (flow_id, name)
);
CREATE INDEX executions_list ON executions (flow_id, started_at DESC, name);
CREATE INDEX executions_due ON executions (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE history_events (
    execution_id TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    step_name TEXT NOT NULL,
    time INTEGER NOT NULL,
    schedule_event_id INTEGER NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (execution_id, event_id)
);

-- Messages for an execution from outside its worker: callback reports, child results,
-- lost task calls. A worker drains them in the transaction that applies them.
CREATE TABLE execution_signals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX execution_signals_by_execution ON execution_signals (execution_id, id);

-- Task invocations in flight, leased by the replica that makes the call.
CREATE TABLE task_calls (
    execution_id TEXT NOT NULL,
    call_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    PRIMARY KEY (execution_id, call_key)
);
CREATE INDEX task_calls_lease ON task_calls (lease_until);

CREATE TABLE nonces (
    access_key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);
CREATE INDEX nonces_expiry ON nonces (expires_at);

CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
