-- Time-based schedules of flows (docs/COMPATIBILITY.md#schedules), with the scheduler's next fire and its claim.

CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    payload TEXT NOT NULL,
    cron_expression TEXT NOT NULL,
    enable INTEGER NOT NULL, -- 0 or 1
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    -- the next fire; NULL while disabled
    next_fire_at INTEGER,
    -- the replica firing it now, until when (a crashed replica's claim expires)
    lease_owner TEXT,
    lease_until INTEGER,
    UNIQUE (flow_id, name)
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enable;
