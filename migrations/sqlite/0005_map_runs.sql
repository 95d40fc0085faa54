-- Distributed Map: map runs, and the link from each child execution to its map run.
ALTER TABLE executions ADD COLUMN parent_id TEXT;
ALTER TABLE executions ADD COLUMN map_run TEXT;
ALTER TABLE executions ADD COLUMN map_index INTEGER;
CREATE INDEX executions_map_run ON executions (map_run, started_at) WHERE map_run IS NOT NULL;

CREATE TABLE map_runs (
    name TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL,
    state_name TEXT NOT NULL,
    status TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    tolerated_count INTEGER,
    tolerated_percentage REAL,
    total INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    stopped_at INTEGER
);
CREATE INDEX map_runs_execution ON map_runs (execution_id);
