-- Web console sessions, kept in the store so that any replica accepts them. The cookie's
-- token is never stored: only its SHA-256, so a copy of the table signs nobody in.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Listing a flow's executions by status (the console's filter, ListExecutions' Status) reads
-- this index instead of walking every execution of the flow.
CREATE INDEX executions_by_status ON executions (flow_id, status, started_at DESC, name);
