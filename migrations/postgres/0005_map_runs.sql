-- Distributed Map: map runs, and the link from each child execution to its map run.
ALTER TABLE executions ADD COLUMN parent_id TEXT;
ALTER TABLE executions ADD COLUMN map_run TEXT;
ALTER TABLE executions ADD COLUMN map_index BIGINT;
CREATE INDEX executions_map_run ON executions (map_run, started_at) WHERE map_run IS NOT NULL;

CREATE TABLE map_runs (
    name TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL,
    state_name TEXT NOT NULL,
    status TEXT NOT NULL,
    concurrency BIGINT NOT NULL,
    tolerated_count BIGINT,
    tolerated_percentage DOUBLE PRECISION,
    total BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    stopped_at BIGINT
);
CREATE INDEX map_runs_execution ON map_runs (execution_id);
