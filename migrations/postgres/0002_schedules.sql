-- Time-based schedules of flows (docs/COMPATIBILITY.md#schedules), with the scheduler's next fire and its claim.

CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    payload TEXT NOT NULL,
    cron_expression TEXT NOT NULL,
    enable BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    -- the next fire; NULL while disabled
    next_fire_at BIGINT,
    -- the replica firing it now, until when (a crashed replica's claim expires)
    lease_owner TEXT,
    lease_until BIGINT,
    UNIQUE (flow_id, name)
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enable;
